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

class ConnectionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONNECTION_STATE_UNSPECIFIED: _ClassVar[ConnectionState]
    CONNECTION_STATE_ACTIVE: _ClassVar[ConnectionState]
    CONNECTION_STATE_DEFAULTED: _ClassVar[ConnectionState]

class DisputeState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISPUTE_STATE_UNSPECIFIED: _ClassVar[DisputeState]
    DISPUTE_STATE_OPEN: _ClassVar[DisputeState]
    DISPUTE_STATE_RETRACTED: _ClassVar[DisputeState]
    DISPUTE_STATE_APPROVED: _ClassVar[DisputeState]
    DISPUTE_STATE_REJECTED: _ClassVar[DisputeState]

class EntryState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENTRY_STATE_UNSPECIFIED: _ClassVar[EntryState]
    ENTRY_STATE_PENDING: _ClassVar[EntryState]
    ENTRY_STATE_SETTLED: _ClassVar[EntryState]
    ENTRY_STATE_FAILED: _ClassVar[EntryState]
    ENTRY_STATE_DISPUTED: _ClassVar[EntryState]

class CircuitState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CIRCUIT_STATE_UNSPECIFIED: _ClassVar[CircuitState]
    CIRCUIT_STATE_CLOSED: _ClassVar[CircuitState]
    CIRCUIT_STATE_OPEN: _ClassVar[CircuitState]
    CIRCUIT_STATE_HALF_OPEN: _ClassVar[CircuitState]

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
    SETTLEMENT_STEP_SETTLE_DISPUTES: _ClassVar[SettlementStep]
    SETTLEMENT_STEP_VOID: _ClassVar[SettlementStep]
CONNECTION_STATE_UNSPECIFIED: ConnectionState
CONNECTION_STATE_ACTIVE: ConnectionState
CONNECTION_STATE_DEFAULTED: ConnectionState
DISPUTE_STATE_UNSPECIFIED: DisputeState
DISPUTE_STATE_OPEN: DisputeState
DISPUTE_STATE_RETRACTED: DisputeState
DISPUTE_STATE_APPROVED: DisputeState
DISPUTE_STATE_REJECTED: DisputeState
ENTRY_STATE_UNSPECIFIED: EntryState
ENTRY_STATE_PENDING: EntryState
ENTRY_STATE_SETTLED: EntryState
ENTRY_STATE_FAILED: EntryState
ENTRY_STATE_DISPUTED: EntryState
CIRCUIT_STATE_UNSPECIFIED: CircuitState
CIRCUIT_STATE_CLOSED: CircuitState
CIRCUIT_STATE_OPEN: CircuitState
CIRCUIT_STATE_HALF_OPEN: CircuitState
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
SETTLEMENT_STEP_SETTLE_DISPUTES: SettlementStep
SETTLEMENT_STEP_VOID: SettlementStep

class Connection(_message.Message):
    __slots__ = ("name", "client", "exchange", "create_time", "state", "default_outcome")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    name: str
    client: str
    exchange: str
    create_time: _timestamp_pb2.Timestamp
    state: ConnectionState
    default_outcome: DefaultOutcome
    def __init__(self, name: _Optional[str] = ..., client: _Optional[str] = ..., exchange: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[_Union[ConnectionState, str]] = ..., default_outcome: _Optional[_Union[DefaultOutcome, _Mapping]] = ...) -> None: ...

class DefaultOutcome(_message.Message):
    __slots__ = ("default_time", "reason", "principal_returned", "unsettled_at_risk")
    DEFAULT_TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_RETURNED_FIELD_NUMBER: _ClassVar[int]
    UNSETTLED_AT_RISK_FIELD_NUMBER: _ClassVar[int]
    default_time: _timestamp_pb2.Timestamp
    reason: str
    principal_returned: _containers.RepeatedCompositeFieldContainer[AssetAmount]
    unsettled_at_risk: _containers.RepeatedCompositeFieldContainer[AssetAmount]
    def __init__(self, default_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., principal_returned: _Optional[_Iterable[_Union[AssetAmount, _Mapping]]] = ..., unsettled_at_risk: _Optional[_Iterable[_Union[AssetAmount, _Mapping]]] = ...) -> None: ...

class AssetAmount(_message.Message):
    __slots__ = ("asset", "amount")
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    asset: str
    amount: str
    def __init__(self, asset: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("name", "exchange", "state", "step", "statement", "breaks", "reason", "create_time", "end_time", "entries")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    BREAKS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    name: str
    exchange: str
    state: SettlementState
    step: SettlementStep
    statement: _statement_pb2.SettlementStatement
    breaks: _containers.RepeatedCompositeFieldContainer[ReconciliationBreak]
    reason: str
    create_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    entries: _containers.RepeatedCompositeFieldContainer[SettlementEntry]
    def __init__(self, name: _Optional[str] = ..., exchange: _Optional[str] = ..., state: _Optional[_Union[SettlementState, str]] = ..., step: _Optional[_Union[SettlementStep, str]] = ..., statement: _Optional[_Union[_statement_pb2.SettlementStatement, _Mapping]] = ..., breaks: _Optional[_Iterable[_Union[ReconciliationBreak, _Mapping]]] = ..., reason: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., entries: _Optional[_Iterable[_Union[SettlementEntry, _Mapping]]] = ...) -> None: ...

class SettlementEntry(_message.Message):
    __slots__ = ("connection", "asset", "amount", "state", "reason")
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    connection: str
    asset: str
    amount: str
    state: EntryState
    reason: str
    def __init__(self, connection: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ..., state: _Optional[_Union[EntryState, str]] = ..., reason: _Optional[str] = ...) -> None: ...

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

class ListConnectionsRequest(_message.Message):
    __slots__ = ("client",)
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    client: str
    def __init__(self, client: _Optional[str] = ...) -> None: ...

class ListConnectionsResponse(_message.Message):
    __slots__ = ("connections",)
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    connections: _containers.RepeatedCompositeFieldContainer[Connection]
    def __init__(self, connections: _Optional[_Iterable[_Union[Connection, _Mapping]]] = ...) -> None: ...

class ListAllocationsRequest(_message.Message):
    __slots__ = ("connection", "page_size", "page_token")
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    connection: str
    page_size: int
    page_token: str
    def __init__(self, connection: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAllocationsResponse(_message.Message):
    __slots__ = ("allocations", "next_page_token")
    ALLOCATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    allocations: _containers.RepeatedCompositeFieldContainer[Allocation]
    next_page_token: str
    def __init__(self, allocations: _Optional[_Iterable[_Union[Allocation, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListDeallocationsRequest(_message.Message):
    __slots__ = ("connection", "page_size", "page_token")
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    connection: str
    page_size: int
    page_token: str
    def __init__(self, connection: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDeallocationsResponse(_message.Message):
    __slots__ = ("deallocations", "next_page_token")
    DEALLOCATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    deallocations: _containers.RepeatedCompositeFieldContainer[Deallocation]
    next_page_token: str
    def __init__(self, deallocations: _Optional[_Iterable[_Union[Deallocation, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Dispute(_message.Message):
    __slots__ = ("name", "statement", "connection", "asset", "stated_amount", "claimed_amount", "reason", "state", "settled_amount", "create_time", "end_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    STATED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CLAIMED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SETTLED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    statement: str
    connection: str
    asset: str
    stated_amount: str
    claimed_amount: str
    reason: str
    state: DisputeState
    settled_amount: str
    create_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., statement: _Optional[str] = ..., connection: _Optional[str] = ..., asset: _Optional[str] = ..., stated_amount: _Optional[str] = ..., claimed_amount: _Optional[str] = ..., reason: _Optional[str] = ..., state: _Optional[_Union[DisputeState, str]] = ..., settled_amount: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateDisputeRequest(_message.Message):
    __slots__ = ("request_id", "statement", "connection", "asset", "claimed_amount", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    CLAIMED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    statement: str
    connection: str
    asset: str
    claimed_amount: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., statement: _Optional[str] = ..., connection: _Optional[str] = ..., asset: _Optional[str] = ..., claimed_amount: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CreateDisputeResponse(_message.Message):
    __slots__ = ("dispute",)
    DISPUTE_FIELD_NUMBER: _ClassVar[int]
    dispute: Dispute
    def __init__(self, dispute: _Optional[_Union[Dispute, _Mapping]] = ...) -> None: ...

class RetractDisputeRequest(_message.Message):
    __slots__ = ("request_id", "name")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    name: str
    def __init__(self, request_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class RetractDisputeResponse(_message.Message):
    __slots__ = ("dispute",)
    DISPUTE_FIELD_NUMBER: _ClassVar[int]
    dispute: Dispute
    def __init__(self, dispute: _Optional[_Union[Dispute, _Mapping]] = ...) -> None: ...

class ListDisputesRequest(_message.Message):
    __slots__ = ("client",)
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    client: str
    def __init__(self, client: _Optional[str] = ...) -> None: ...

class ListDisputesResponse(_message.Message):
    __slots__ = ("disputes",)
    DISPUTES_FIELD_NUMBER: _ClassVar[int]
    disputes: _containers.RepeatedCompositeFieldContainer[Dispute]
    def __init__(self, disputes: _Optional[_Iterable[_Union[Dispute, _Mapping]]] = ...) -> None: ...

class ResolveDisputeRequest(_message.Message):
    __slots__ = ("request_id", "name", "approve", "resolved_amount")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    APPROVE_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    name: str
    approve: bool
    resolved_amount: str
    def __init__(self, request_id: _Optional[str] = ..., name: _Optional[str] = ..., approve: _Optional[bool] = ..., resolved_amount: _Optional[str] = ...) -> None: ...

class ResolveDisputeResponse(_message.Message):
    __slots__ = ("dispute",)
    DISPUTE_FIELD_NUMBER: _ClassVar[int]
    dispute: Dispute
    def __init__(self, dispute: _Optional[_Union[Dispute, _Mapping]] = ...) -> None: ...

class ReconcileRequest(_message.Message):
    __slots__ = ("exchange",)
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    exchange: str
    def __init__(self, exchange: _Optional[str] = ...) -> None: ...

class ReconcileResponse(_message.Message):
    __slots__ = ("breaks", "reconcile_time")
    BREAKS_FIELD_NUMBER: _ClassVar[int]
    RECONCILE_TIME_FIELD_NUMBER: _ClassVar[int]
    breaks: _containers.RepeatedCompositeFieldContainer[ReconciliationBreak]
    reconcile_time: _timestamp_pb2.Timestamp
    def __init__(self, breaks: _Optional[_Iterable[_Union[ReconciliationBreak, _Mapping]]] = ..., reconcile_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetVenueHealthRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class VenueHealth(_message.Message):
    __slots__ = ("venue", "circuit_state", "consecutive_failures", "unreachable_since", "exchange_state", "defaulted")
    VENUE_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_STATE_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    UNREACHABLE_SINCE_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_STATE_FIELD_NUMBER: _ClassVar[int]
    DEFAULTED_FIELD_NUMBER: _ClassVar[int]
    venue: str
    circuit_state: CircuitState
    consecutive_failures: int
    unreachable_since: _timestamp_pb2.Timestamp
    exchange_state: str
    defaulted: bool
    def __init__(self, venue: _Optional[str] = ..., circuit_state: _Optional[_Union[CircuitState, str]] = ..., consecutive_failures: _Optional[int] = ..., unreachable_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., exchange_state: _Optional[str] = ..., defaulted: _Optional[bool] = ...) -> None: ...

class GetVenueHealthResponse(_message.Message):
    __slots__ = ("venues",)
    VENUES_FIELD_NUMBER: _ClassVar[int]
    venues: _containers.RepeatedCompositeFieldContainer[VenueHealth]
    def __init__(self, venues: _Optional[_Iterable[_Union[VenueHealth, _Mapping]]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("sequence", "event_time", "kind", "subject", "client", "attributes")
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
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    event_time: _timestamp_pb2.Timestamp
    kind: str
    subject: str
    client: str
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, sequence: _Optional[int] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[str] = ..., subject: _Optional[str] = ..., client: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class StreamEventsRequest(_message.Message):
    __slots__ = ("after_sequence",)
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    after_sequence: int
    def __init__(self, after_sequence: _Optional[int] = ...) -> None: ...

class StreamEventsResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: Event
    def __init__(self, event: _Optional[_Union[Event, _Mapping]] = ...) -> None: ...
