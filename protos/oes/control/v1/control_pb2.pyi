import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CallFaultAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CALL_FAULT_ACTION_UNSPECIFIED: _ClassVar[CallFaultAction]
    CALL_FAULT_ACTION_ADD_LATENCY: _ClassVar[CallFaultAction]
    CALL_FAULT_ACTION_RETURN_ERROR: _ClassVar[CallFaultAction]
    CALL_FAULT_ACTION_DROP_REPLY: _ClassVar[CallFaultAction]
    CALL_FAULT_ACTION_DUPLICATE_DELIVERY: _ClassVar[CallFaultAction]

class ClockMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLOCK_MODE_UNSPECIFIED: _ClassVar[ClockMode]
    CLOCK_MODE_REAL: _ClassVar[ClockMode]
    CLOCK_MODE_SIM: _ClassVar[ClockMode]
CALL_FAULT_ACTION_UNSPECIFIED: CallFaultAction
CALL_FAULT_ACTION_ADD_LATENCY: CallFaultAction
CALL_FAULT_ACTION_RETURN_ERROR: CallFaultAction
CALL_FAULT_ACTION_DROP_REPLY: CallFaultAction
CALL_FAULT_ACTION_DUPLICATE_DELIVERY: CallFaultAction
CLOCK_MODE_UNSPECIFIED: ClockMode
CLOCK_MODE_REAL: ClockMode
CLOCK_MODE_SIM: ClockMode

class CallFault(_message.Message):
    __slots__ = ("method", "action", "latency", "status_code", "reason")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    LATENCY_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    method: str
    action: CallFaultAction
    latency: _duration_pb2.Duration
    status_code: int
    reason: str
    def __init__(self, method: _Optional[str] = ..., action: _Optional[_Union[CallFaultAction, str]] = ..., latency: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., status_code: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class CrashPointFault(_message.Message):
    __slots__ = ("point",)
    POINT_FIELD_NUMBER: _ClassVar[int]
    point: str
    def __init__(self, point: _Optional[str] = ...) -> None: ...

class FaultTrigger(_message.Message):
    __slots__ = ("always", "first_calls", "every_nth", "probability")
    ALWAYS_FIELD_NUMBER: _ClassVar[int]
    FIRST_CALLS_FIELD_NUMBER: _ClassVar[int]
    EVERY_NTH_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    always: bool
    first_calls: int
    every_nth: int
    probability: str
    def __init__(self, always: _Optional[bool] = ..., first_calls: _Optional[int] = ..., every_nth: _Optional[int] = ..., probability: _Optional[str] = ...) -> None: ...

class Fault(_message.Message):
    __slots__ = ("name", "call", "crash_point", "trigger", "expire_time", "fired_count")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CALL_FIELD_NUMBER: _ClassVar[int]
    CRASH_POINT_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    FIRED_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    call: CallFault
    crash_point: CrashPointFault
    trigger: FaultTrigger
    expire_time: _timestamp_pb2.Timestamp
    fired_count: int
    def __init__(self, name: _Optional[str] = ..., call: _Optional[_Union[CallFault, _Mapping]] = ..., crash_point: _Optional[_Union[CrashPointFault, _Mapping]] = ..., trigger: _Optional[_Union[FaultTrigger, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., fired_count: _Optional[int] = ...) -> None: ...

class SetFaultRequest(_message.Message):
    __slots__ = ("request_id", "fault")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FAULT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    fault: Fault
    def __init__(self, request_id: _Optional[str] = ..., fault: _Optional[_Union[Fault, _Mapping]] = ...) -> None: ...

class SetFaultResponse(_message.Message):
    __slots__ = ("fault",)
    FAULT_FIELD_NUMBER: _ClassVar[int]
    fault: Fault
    def __init__(self, fault: _Optional[_Union[Fault, _Mapping]] = ...) -> None: ...

class ListFaultsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListFaultsResponse(_message.Message):
    __slots__ = ("faults", "crash_points")
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    CRASH_POINTS_FIELD_NUMBER: _ClassVar[int]
    faults: _containers.RepeatedCompositeFieldContainer[Fault]
    crash_points: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, faults: _Optional[_Iterable[_Union[Fault, _Mapping]]] = ..., crash_points: _Optional[_Iterable[str]] = ...) -> None: ...

class ClearFaultsRequest(_message.Message):
    __slots__ = ("request_id", "name")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    name: str
    def __init__(self, request_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ClearFaultsResponse(_message.Message):
    __slots__ = ("cleared_count",)
    CLEARED_COUNT_FIELD_NUMBER: _ClassVar[int]
    cleared_count: int
    def __init__(self, cleared_count: _Optional[int] = ...) -> None: ...

class GetClockRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetClockResponse(_message.Message):
    __slots__ = ("now", "mode", "next_timer_time", "pending_timers")
    NOW_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    NEXT_TIMER_TIME_FIELD_NUMBER: _ClassVar[int]
    PENDING_TIMERS_FIELD_NUMBER: _ClassVar[int]
    now: _timestamp_pb2.Timestamp
    mode: ClockMode
    next_timer_time: _timestamp_pb2.Timestamp
    pending_timers: _containers.RepeatedCompositeFieldContainer[PendingTimer]
    def __init__(self, now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., mode: _Optional[_Union[ClockMode, str]] = ..., next_timer_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pending_timers: _Optional[_Iterable[_Union[PendingTimer, _Mapping]]] = ...) -> None: ...

class PendingTimer(_message.Message):
    __slots__ = ("name", "due_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    due_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., due_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AdvanceClockRequest(_message.Message):
    __slots__ = ("request_id", "duration")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    duration: _duration_pb2.Duration
    def __init__(self, request_id: _Optional[str] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class AdvanceClockResponse(_message.Message):
    __slots__ = ("now", "timers_run_count")
    NOW_FIELD_NUMBER: _ClassVar[int]
    TIMERS_RUN_COUNT_FIELD_NUMBER: _ClassVar[int]
    now: _timestamp_pb2.Timestamp
    timers_run_count: int
    def __init__(self, now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., timers_run_count: _Optional[int] = ...) -> None: ...

class ResetRequest(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class ResetResponse(_message.Message):
    __slots__ = ("reset_time",)
    RESET_TIME_FIELD_NUMBER: _ClassVar[int]
    reset_time: _timestamp_pb2.Timestamp
    def __init__(self, reset_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class JournalEvent(_message.Message):
    __slots__ = ("sequence", "event_time", "kind", "subject", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    event_time: _timestamp_pb2.Timestamp
    kind: str
    subject: str
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, sequence: _Optional[int] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[str] = ..., subject: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListJournalRequest(_message.Message):
    __slots__ = ("after_sequence", "page_size")
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    after_sequence: int
    page_size: int
    def __init__(self, after_sequence: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class ListJournalResponse(_message.Message):
    __slots__ = ("events", "last_sequence")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[JournalEvent]
    last_sequence: int
    def __init__(self, events: _Optional[_Iterable[_Union[JournalEvent, _Mapping]]] = ..., last_sequence: _Optional[int] = ...) -> None: ...

class StreamJournalRequest(_message.Message):
    __slots__ = ("after_sequence",)
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    after_sequence: int
    def __init__(self, after_sequence: _Optional[int] = ...) -> None: ...

class StreamJournalResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: JournalEvent
    def __init__(self, event: _Optional[_Union[JournalEvent, _Mapping]] = ...) -> None: ...
