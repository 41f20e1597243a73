import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClockMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLOCK_MODE_UNSPECIFIED: _ClassVar[ClockMode]
    CLOCK_MODE_REAL: _ClassVar[ClockMode]
    CLOCK_MODE_SIM: _ClassVar[ClockMode]
CLOCK_MODE_UNSPECIFIED: ClockMode
CLOCK_MODE_REAL: ClockMode
CLOCK_MODE_SIM: ClockMode

class GetClockRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetClockResponse(_message.Message):
    __slots__ = ("now", "mode", "next_timer_time")
    NOW_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    NEXT_TIMER_TIME_FIELD_NUMBER: _ClassVar[int]
    now: _timestamp_pb2.Timestamp
    mode: ClockMode
    next_timer_time: _timestamp_pb2.Timestamp
    def __init__(self, now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., mode: _Optional[_Union[ClockMode, str]] = ..., next_timer_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

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
