import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from oes.common.v1 import statement_pb2 as _statement_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TransferState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSFER_STATE_UNSPECIFIED: _ClassVar[TransferState]
    TRANSFER_STATE_PENDING: _ClassVar[TransferState]
    TRANSFER_STATE_CLEARED: _ClassVar[TransferState]
    TRANSFER_STATE_RELEASED: _ClassVar[TransferState]
    TRANSFER_STATE_REJECTED: _ClassVar[TransferState]

class SettlementState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SETTLEMENT_STATE_UNSPECIFIED: _ClassVar[SettlementState]
    SETTLEMENT_STATE_RUNNING: _ClassVar[SettlementState]
    SETTLEMENT_STATE_SUCCEEDED: _ClassVar[SettlementState]
    SETTLEMENT_STATE_FAILED: _ClassVar[SettlementState]

class SettlementStep(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SETTLEMENT_STEP_UNSPECIFIED: _ClassVar[SettlementStep]
    SETTLEMENT_STEP_CUTOFF: _ClassVar[SettlementStep]
    SETTLEMENT_STEP_VERIFY: _ClassVar[SettlementStep]
    SETTLEMENT_STEP_EXECUTE: _ClassVar[SettlementStep]
    SETTLEMENT_STEP_CONFIRM: _ClassVar[SettlementStep]
    SETTLEMENT_STEP_RECONCILE: _ClassVar[SettlementStep]
    SETTLEMENT_STEP_DONE: _ClassVar[SettlementStep]
TRANSFER_STATE_UNSPECIFIED: TransferState
TRANSFER_STATE_PENDING: TransferState
TRANSFER_STATE_CLEARED: TransferState
TRANSFER_STATE_RELEASED: TransferState
TRANSFER_STATE_REJECTED: TransferState
SETTLEMENT_STATE_UNSPECIFIED: SettlementState
SETTLEMENT_STATE_RUNNING: SettlementState
SETTLEMENT_STATE_SUCCEEDED: SettlementState
SETTLEMENT_STATE_FAILED: SettlementState
SETTLEMENT_STEP_UNSPECIFIED: SettlementStep
SETTLEMENT_STEP_CUTOFF: SettlementStep
SETTLEMENT_STEP_VERIFY: SettlementStep
SETTLEMENT_STEP_EXECUTE: SettlementStep
SETTLEMENT_STEP_CONFIRM: SettlementStep
SETTLEMENT_STEP_RECONCILE: SettlementStep
SETTLEMENT_STEP_DONE: SettlementStep

class Connection(_message.Message):
    __slots__ = ("name", "client", "exchange", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    client: str
    exchange: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., client: _Optional[str] = ..., exchange: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateConnectionRequest(_message.Message):
    __slots__ = ("request_id", "client", "exchange")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    client: str
    exchange: str
    def __init__(self, request_id: _Optional[str] = ..., client: _Optional[str] = ..., exchange: _Optional[str] = ...) -> None: ...

class CreateConnectionResponse(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: Connection
    def __init__(self, connection: _Optional[_Union[Connection, _Mapping]] = ...) -> None: ...

class Allocation(_message.Message):
    __slots__ = ("name", "connection", "asset", "amount", "state", "reason", "create_time", "end_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    connection: str
    asset: str
    amount: str
    state: TransferState
    reason: str
    create_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., connection: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ..., state: _Optional[_Union[TransferState, str]] = ..., reason: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateAllocationRequest(_message.Message):
    __slots__ = ("request_id", "connection", "asset", "amount")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    connection: str
    asset: str
    amount: str
    def __init__(self, request_id: _Optional[str] = ..., connection: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class CreateAllocationResponse(_message.Message):
    __slots__ = ("allocation",)
    ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    allocation: Allocation
    def __init__(self, allocation: _Optional[_Union[Allocation, _Mapping]] = ...) -> None: ...

class GetAllocationRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetAllocationResponse(_message.Message):
    __slots__ = ("allocation",)
    ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    allocation: Allocation
    def __init__(self, allocation: _Optional[_Union[Allocation, _Mapping]] = ...) -> None: ...

class Deallocation(_message.Message):
    __slots__ = ("name", "connection", "asset", "amount", "state", "reason", "create_time", "end_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    connection: str
    asset: str
    amount: str
    state: TransferState
    reason: str
    create_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., connection: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ..., state: _Optional[_Union[TransferState, str]] = ..., reason: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateDeallocationRequest(_message.Message):
    __slots__ = ("request_id", "connection", "asset", "amount")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    connection: str
    asset: str
    amount: str
    def __init__(self, request_id: _Optional[str] = ..., connection: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class CreateDeallocationResponse(_message.Message):
    __slots__ = ("deallocation",)
    DEALLOCATION_FIELD_NUMBER: _ClassVar[int]
    deallocation: Deallocation
    def __init__(self, deallocation: _Optional[_Union[Deallocation, _Mapping]] = ...) -> None: ...

class GetDeallocationRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetDeallocationResponse(_message.Message):
    __slots__ = ("deallocation",)
    DEALLOCATION_FIELD_NUMBER: _ClassVar[int]
    deallocation: Deallocation
    def __init__(self, deallocation: _Optional[_Union[Deallocation, _Mapping]] = ...) -> None: ...

class ReconciliationBreak(_message.Message):
    __slots__ = ("connection", "asset", "allocated", "mirror")
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    ALLOCATED_FIELD_NUMBER: _ClassVar[int]
    MIRROR_FIELD_NUMBER: _ClassVar[int]
    connection: str
    asset: str
    allocated: str
    mirror: str
    def __init__(self, connection: _Optional[str] = ..., asset: _Optional[str] = ..., allocated: _Optional[str] = ..., mirror: _Optional[str] = ...) -> None: ...

class Settlement(_message.Message):
    __slots__ = ("name", "exchange", "state", "step", "statement", "breaks", "reason", "create_time", "end_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    BREAKS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    exchange: str
    state: SettlementState
    step: SettlementStep
    statement: _statement_pb2.SettlementStatement
    breaks: _containers.RepeatedCompositeFieldContainer[ReconciliationBreak]
    reason: str
    create_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., exchange: _Optional[str] = ..., state: _Optional[_Union[SettlementState, str]] = ..., step: _Optional[_Union[SettlementStep, str]] = ..., statement: _Optional[_Union[_statement_pb2.SettlementStatement, _Mapping]] = ..., breaks: _Optional[_Iterable[_Union[ReconciliationBreak, _Mapping]]] = ..., reason: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetSettlementRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetSettlementResponse(_message.Message):
    __slots__ = ("settlement",)
    SETTLEMENT_FIELD_NUMBER: _ClassVar[int]
    settlement: Settlement
    def __init__(self, settlement: _Optional[_Union[Settlement, _Mapping]] = ...) -> None: ...

class ListSettlementsRequest(_message.Message):
    __slots__ = ("page_size",)
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    def __init__(self, page_size: _Optional[int] = ...) -> None: ...

class ListSettlementsResponse(_message.Message):
    __slots__ = ("settlements",)
    SETTLEMENTS_FIELD_NUMBER: _ClassVar[int]
    settlements: _containers.RepeatedCompositeFieldContainer[Settlement]
    def __init__(self, settlements: _Optional[_Iterable[_Union[Settlement, _Mapping]]] = ...) -> None: ...

class RunSettlementCycleRequest(_message.Message):
    __slots__ = ("request_id", "exchange")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    exchange: str
    def __init__(self, request_id: _Optional[str] = ..., exchange: _Optional[str] = ...) -> None: ...

class RunSettlementCycleResponse(_message.Message):
    __slots__ = ("settlement",)
    SETTLEMENT_FIELD_NUMBER: _ClassVar[int]
    settlement: Settlement
    def __init__(self, settlement: _Optional[_Union[Settlement, _Mapping]] = ...) -> None: ...
