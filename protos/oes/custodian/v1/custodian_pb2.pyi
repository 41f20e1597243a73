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

class PartyKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PARTY_KIND_UNSPECIFIED: _ClassVar[PartyKind]
    PARTY_KIND_CLIENT: _ClassVar[PartyKind]
    PARTY_KIND_EXCHANGE: _ClassVar[PartyKind]

class ConnectionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONNECTION_STATE_UNSPECIFIED: _ClassVar[ConnectionState]
    CONNECTION_STATE_ACTIVE: _ClassVar[ConnectionState]
    CONNECTION_STATE_CLOSED: _ClassVar[ConnectionState]
    CONNECTION_STATE_DEFAULTED: _ClassVar[ConnectionState]
    CONNECTION_STATE_PENDING: _ClassVar[ConnectionState]

class StatementState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATEMENT_STATE_UNSPECIFIED: _ClassVar[StatementState]
    STATEMENT_STATE_PENDING: _ClassVar[StatementState]
    STATEMENT_STATE_SUCCEEDED: _ClassVar[StatementState]
    STATEMENT_STATE_REJECTED: _ClassVar[StatementState]
    STATEMENT_STATE_AWAITING_TOP_UP: _ClassVar[StatementState]
    STATEMENT_STATE_PARTIALLY_SUCCEEDED: _ClassVar[StatementState]
    STATEMENT_STATE_FAILED: _ClassVar[StatementState]
    STATEMENT_STATE_DISPUTED: _ClassVar[StatementState]

class EntryState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENTRY_STATE_UNSPECIFIED: _ClassVar[EntryState]
    ENTRY_STATE_PENDING: _ClassVar[EntryState]
    ENTRY_STATE_SETTLED: _ClassVar[EntryState]
    ENTRY_STATE_FAILED: _ClassVar[EntryState]
    ENTRY_STATE_DISPUTED: _ClassVar[EntryState]

class ClaimState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLAIM_STATE_UNSPECIFIED: _ClassVar[ClaimState]
    CLAIM_STATE_OPEN: _ClassVar[ClaimState]
    CLAIM_STATE_SETTLED: _ClassVar[ClaimState]
    CLAIM_STATE_SUPERSEDED: _ClassVar[ClaimState]
    CLAIM_STATE_NETTED: _ClassVar[ClaimState]

class WhitelistAddressState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WHITELIST_ADDRESS_STATE_UNSPECIFIED: _ClassVar[WhitelistAddressState]
    WHITELIST_ADDRESS_STATE_COOLING_OFF: _ClassVar[WhitelistAddressState]
    WHITELIST_ADDRESS_STATE_ACTIVE: _ClassVar[WhitelistAddressState]

class WithdrawalState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WITHDRAWAL_STATE_UNSPECIFIED: _ClassVar[WithdrawalState]
    WITHDRAWAL_STATE_PENDING_APPROVAL: _ClassVar[WithdrawalState]
    WITHDRAWAL_STATE_BROADCAST: _ClassVar[WithdrawalState]
    WITHDRAWAL_STATE_CONFIRMED: _ClassVar[WithdrawalState]
    WITHDRAWAL_STATE_CANCELLED: _ClassVar[WithdrawalState]

class AllocationState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALLOCATION_STATE_UNSPECIFIED: _ClassVar[AllocationState]
    ALLOCATION_STATE_PENDING: _ClassVar[AllocationState]
    ALLOCATION_STATE_RESERVED: _ClassVar[AllocationState]
    ALLOCATION_STATE_CLEARED: _ClassVar[AllocationState]
    ALLOCATION_STATE_RELEASED: _ClassVar[AllocationState]
    ALLOCATION_STATE_REJECTED: _ClassVar[AllocationState]

class DefaultClaimKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEFAULT_CLAIM_KIND_UNSPECIFIED: _ClassVar[DefaultClaimKind]
    DEFAULT_CLAIM_KIND_RELEASED_ALLOCATION: _ClassVar[DefaultClaimKind]
    DEFAULT_CLAIM_KIND_FROZEN_SETTLEMENT: _ClassVar[DefaultClaimKind]
PARTY_KIND_UNSPECIFIED: PartyKind
PARTY_KIND_CLIENT: PartyKind
PARTY_KIND_EXCHANGE: PartyKind
CONNECTION_STATE_UNSPECIFIED: ConnectionState
CONNECTION_STATE_ACTIVE: ConnectionState
CONNECTION_STATE_CLOSED: ConnectionState
CONNECTION_STATE_DEFAULTED: ConnectionState
CONNECTION_STATE_PENDING: ConnectionState
STATEMENT_STATE_UNSPECIFIED: StatementState
STATEMENT_STATE_PENDING: StatementState
STATEMENT_STATE_SUCCEEDED: StatementState
STATEMENT_STATE_REJECTED: StatementState
STATEMENT_STATE_AWAITING_TOP_UP: StatementState
STATEMENT_STATE_PARTIALLY_SUCCEEDED: StatementState
STATEMENT_STATE_FAILED: StatementState
STATEMENT_STATE_DISPUTED: StatementState
ENTRY_STATE_UNSPECIFIED: EntryState
ENTRY_STATE_PENDING: EntryState
ENTRY_STATE_SETTLED: EntryState
ENTRY_STATE_FAILED: EntryState
ENTRY_STATE_DISPUTED: EntryState
CLAIM_STATE_UNSPECIFIED: ClaimState
CLAIM_STATE_OPEN: ClaimState
CLAIM_STATE_SETTLED: ClaimState
CLAIM_STATE_SUPERSEDED: ClaimState
CLAIM_STATE_NETTED: ClaimState
WHITELIST_ADDRESS_STATE_UNSPECIFIED: WhitelistAddressState
WHITELIST_ADDRESS_STATE_COOLING_OFF: WhitelistAddressState
WHITELIST_ADDRESS_STATE_ACTIVE: WhitelistAddressState
WITHDRAWAL_STATE_UNSPECIFIED: WithdrawalState
WITHDRAWAL_STATE_PENDING_APPROVAL: WithdrawalState
WITHDRAWAL_STATE_BROADCAST: WithdrawalState
WITHDRAWAL_STATE_CONFIRMED: WithdrawalState
WITHDRAWAL_STATE_CANCELLED: WithdrawalState
ALLOCATION_STATE_UNSPECIFIED: AllocationState
ALLOCATION_STATE_PENDING: AllocationState
ALLOCATION_STATE_RESERVED: AllocationState
ALLOCATION_STATE_CLEARED: AllocationState
ALLOCATION_STATE_RELEASED: AllocationState
ALLOCATION_STATE_REJECTED: AllocationState
DEFAULT_CLAIM_KIND_UNSPECIFIED: DefaultClaimKind
DEFAULT_CLAIM_KIND_RELEASED_ALLOCATION: DefaultClaimKind
DEFAULT_CLAIM_KIND_FROZEN_SETTLEMENT: DefaultClaimKind

class Balance(_message.Message):
    __slots__ = ("account", "asset", "amount")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    account: str
    asset: str
    amount: str
    def __init__(self, account: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class ListBalancesRequest(_message.Message):
    __slots__ = ("owner", "allocated_to")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    ALLOCATED_TO_FIELD_NUMBER: _ClassVar[int]
    owner: str
    allocated_to: str
    def __init__(self, owner: _Optional[str] = ..., allocated_to: _Optional[str] = ...) -> None: ...

class ListBalancesResponse(_message.Message):
    __slots__ = ("balances",)
    BALANCES_FIELD_NUMBER: _ClassVar[int]
    balances: _containers.RepeatedCompositeFieldContainer[Balance]
    def __init__(self, balances: _Optional[_Iterable[_Union[Balance, _Mapping]]] = ...) -> None: ...

class Connection(_message.Message):
    __slots__ = ("name", "client", "exchange", "state", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    client: str
    exchange: str
    state: ConnectionState
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., client: _Optional[str] = ..., exchange: _Optional[str] = ..., state: _Optional[_Union[ConnectionState, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

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

class LockAllocationRequest(_message.Message):
    __slots__ = ("request_id", "connection", "allocation_id", "asset", "amount")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    connection: str
    allocation_id: str
    asset: str
    amount: str
    def __init__(self, request_id: _Optional[str] = ..., connection: _Optional[str] = ..., allocation_id: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class LockAllocationResponse(_message.Message):
    __slots__ = ("transfer_id", "allocated_amount", "allocation")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOCATED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    allocated_amount: str
    allocation: Allocation
    def __init__(self, transfer_id: _Optional[str] = ..., allocated_amount: _Optional[str] = ..., allocation: _Optional[_Union[Allocation, _Mapping]] = ...) -> None: ...

class UnlockAllocationRequest(_message.Message):
    __slots__ = ("request_id", "connection", "unlock_id", "asset", "amount")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    UNLOCK_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    connection: str
    unlock_id: str
    asset: str
    amount: str
    def __init__(self, request_id: _Optional[str] = ..., connection: _Optional[str] = ..., unlock_id: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class UnlockAllocationResponse(_message.Message):
    __slots__ = ("transfer_id", "allocated_amount")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOCATED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    allocated_amount: str
    def __init__(self, transfer_id: _Optional[str] = ..., allocated_amount: _Optional[str] = ...) -> None: ...

class RecordedStatement(_message.Message):
    __slots__ = ("statement", "state", "transfer_ids", "submit_time", "execute_time", "entry_outcomes", "top_up_deadline")
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_IDS_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    EXECUTE_TIME_FIELD_NUMBER: _ClassVar[int]
    ENTRY_OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    TOP_UP_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    statement: _statement_pb2.SettlementStatement
    state: StatementState
    transfer_ids: _containers.RepeatedScalarFieldContainer[str]
    submit_time: _timestamp_pb2.Timestamp
    execute_time: _timestamp_pb2.Timestamp
    entry_outcomes: _containers.RepeatedCompositeFieldContainer[EntryOutcome]
    top_up_deadline: _timestamp_pb2.Timestamp
    def __init__(self, statement: _Optional[_Union[_statement_pb2.SettlementStatement, _Mapping]] = ..., state: _Optional[_Union[StatementState, str]] = ..., transfer_ids: _Optional[_Iterable[str]] = ..., submit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., execute_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., entry_outcomes: _Optional[_Iterable[_Union[EntryOutcome, _Mapping]]] = ..., top_up_deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EntryOutcome(_message.Message):
    __slots__ = ("connection", "asset", "amount", "state", "reason", "transfer_id")
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    connection: str
    asset: str
    amount: str
    state: EntryState
    reason: str
    transfer_id: str
    def __init__(self, connection: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ..., state: _Optional[_Union[EntryState, str]] = ..., reason: _Optional[str] = ..., transfer_id: _Optional[str] = ...) -> None: ...

class DisputeStatementEntryRequest(_message.Message):
    __slots__ = ("request_id", "statement", "connection", "asset", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    statement: str
    connection: str
    asset: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., statement: _Optional[str] = ..., connection: _Optional[str] = ..., asset: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DisputeStatementEntryResponse(_message.Message):
    __slots__ = ("statement",)
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    statement: RecordedStatement
    def __init__(self, statement: _Optional[_Union[RecordedStatement, _Mapping]] = ...) -> None: ...

class ResolveDisputedEntryRequest(_message.Message):
    __slots__ = ("request_id", "statement", "connection", "asset", "amount")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    statement: str
    connection: str
    asset: str
    amount: str
    def __init__(self, request_id: _Optional[str] = ..., statement: _Optional[str] = ..., connection: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class ResolveDisputedEntryResponse(_message.Message):
    __slots__ = ("statement",)
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    statement: RecordedStatement
    def __init__(self, statement: _Optional[_Union[RecordedStatement, _Mapping]] = ...) -> None: ...

class Claim(_message.Message):
    __slots__ = ("name", "creditor", "debtor", "asset", "amount", "statement", "connection", "reason", "create_time", "state", "closed_by_statement")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREDITOR_FIELD_NUMBER: _ClassVar[int]
    DEBTOR_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CLOSED_BY_STATEMENT_FIELD_NUMBER: _ClassVar[int]
    name: str
    creditor: str
    debtor: str
    asset: str
    amount: str
    statement: str
    connection: str
    reason: str
    create_time: _timestamp_pb2.Timestamp
    state: ClaimState
    closed_by_statement: str
    def __init__(self, name: _Optional[str] = ..., creditor: _Optional[str] = ..., debtor: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ..., statement: _Optional[str] = ..., connection: _Optional[str] = ..., reason: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[_Union[ClaimState, str]] = ..., closed_by_statement: _Optional[str] = ...) -> None: ...

class ListClaimsRequest(_message.Message):
    __slots__ = ("party", "page_size", "page_token")
    PARTY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    party: str
    page_size: int
    page_token: str
    def __init__(self, party: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListClaimsResponse(_message.Message):
    __slots__ = ("claims", "next_page_token")
    CLAIMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    claims: _containers.RepeatedCompositeFieldContainer[Claim]
    next_page_token: str
    def __init__(self, claims: _Optional[_Iterable[_Union[Claim, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SubmitStatementRequest(_message.Message):
    __slots__ = ("request_id", "statement")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    statement: _statement_pb2.SettlementStatement
    def __init__(self, request_id: _Optional[str] = ..., statement: _Optional[_Union[_statement_pb2.SettlementStatement, _Mapping]] = ...) -> None: ...

class SubmitStatementResponse(_message.Message):
    __slots__ = ("statement",)
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    statement: RecordedStatement
    def __init__(self, statement: _Optional[_Union[RecordedStatement, _Mapping]] = ...) -> None: ...

class ExecuteStatementRequest(_message.Message):
    __slots__ = ("request_id", "statement")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    statement: str
    def __init__(self, request_id: _Optional[str] = ..., statement: _Optional[str] = ...) -> None: ...

class ExecuteStatementResponse(_message.Message):
    __slots__ = ("statement",)
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    statement: RecordedStatement
    def __init__(self, statement: _Optional[_Union[RecordedStatement, _Mapping]] = ...) -> None: ...

class GetStatementRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetStatementResponse(_message.Message):
    __slots__ = ("statement",)
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    statement: RecordedStatement
    def __init__(self, statement: _Optional[_Union[RecordedStatement, _Mapping]] = ...) -> None: ...

class Party(_message.Message):
    __slots__ = ("name", "kind", "display_name")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: PartyKind
    display_name: str
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[PartyKind, str]] = ..., display_name: _Optional[str] = ...) -> None: ...

class CreatePartyRequest(_message.Message):
    __slots__ = ("request_id", "party")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PARTY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    party: Party
    def __init__(self, request_id: _Optional[str] = ..., party: _Optional[_Union[Party, _Mapping]] = ...) -> None: ...

class CreatePartyResponse(_message.Message):
    __slots__ = ("party",)
    PARTY_FIELD_NUMBER: _ClassVar[int]
    party: Party
    def __init__(self, party: _Optional[_Union[Party, _Mapping]] = ...) -> None: ...

class RegisterExchangeKeyRequest(_message.Message):
    __slots__ = ("request_id", "exchange", "public_key")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    exchange: str
    public_key: bytes
    def __init__(self, request_id: _Optional[str] = ..., exchange: _Optional[str] = ..., public_key: _Optional[bytes] = ...) -> None: ...

class RegisterExchangeKeyResponse(_message.Message):
    __slots__ = ("exchange", "key_fingerprint")
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    KEY_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    exchange: str
    key_fingerprint: str
    def __init__(self, exchange: _Optional[str] = ..., key_fingerprint: _Optional[str] = ...) -> None: ...

class SimulateDepositRequest(_message.Message):
    __slots__ = ("request_id", "owner", "asset", "amount")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    owner: str
    asset: str
    amount: str
    def __init__(self, request_id: _Optional[str] = ..., owner: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class SimulateDepositResponse(_message.Message):
    __slots__ = ("transfer_id", "account", "balance")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    account: str
    balance: str
    def __init__(self, transfer_id: _Optional[str] = ..., account: _Optional[str] = ..., balance: _Optional[str] = ...) -> None: ...

class Transfer(_message.Message):
    __slots__ = ("id", "sequence", "from_account", "to_account", "asset", "amount", "kind", "reference", "create_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    FROM_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    sequence: int
    from_account: str
    to_account: str
    asset: str
    amount: str
    kind: str
    reference: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., sequence: _Optional[int] = ..., from_account: _Optional[str] = ..., to_account: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ..., kind: _Optional[str] = ..., reference: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListTransfersRequest(_message.Message):
    __slots__ = ("owner", "account", "asset", "start_time", "end_time", "page_size", "page_token")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    owner: str
    account: str
    asset: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, owner: _Optional[str] = ..., account: _Optional[str] = ..., asset: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTransfersResponse(_message.Message):
    __slots__ = ("transfers", "next_page_token")
    TRANSFERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    transfers: _containers.RepeatedCompositeFieldContainer[Transfer]
    next_page_token: str
    def __init__(self, transfers: _Optional[_Iterable[_Union[Transfer, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetProofOfReservesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Liability(_message.Message):
    __slots__ = ("party", "amount")
    PARTY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    party: str
    amount: str
    def __init__(self, party: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class AssetReserves(_message.Message):
    __slots__ = ("asset", "held_on_chain", "owed_total", "difference", "liabilities")
    ASSET_FIELD_NUMBER: _ClassVar[int]
    HELD_ON_CHAIN_FIELD_NUMBER: _ClassVar[int]
    OWED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCE_FIELD_NUMBER: _ClassVar[int]
    LIABILITIES_FIELD_NUMBER: _ClassVar[int]
    asset: str
    held_on_chain: str
    owed_total: str
    difference: str
    liabilities: _containers.RepeatedCompositeFieldContainer[Liability]
    def __init__(self, asset: _Optional[str] = ..., held_on_chain: _Optional[str] = ..., owed_total: _Optional[str] = ..., difference: _Optional[str] = ..., liabilities: _Optional[_Iterable[_Union[Liability, _Mapping]]] = ...) -> None: ...

class GetProofOfReservesResponse(_message.Message):
    __slots__ = ("reserves", "report_time")
    RESERVES_FIELD_NUMBER: _ClassVar[int]
    REPORT_TIME_FIELD_NUMBER: _ClassVar[int]
    reserves: _containers.RepeatedCompositeFieldContainer[AssetReserves]
    report_time: _timestamp_pb2.Timestamp
    def __init__(self, reserves: _Optional[_Iterable[_Union[AssetReserves, _Mapping]]] = ..., report_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListConnectionsRequest(_message.Message):
    __slots__ = ("parent",)
    PARENT_FIELD_NUMBER: _ClassVar[int]
    parent: str
    def __init__(self, parent: _Optional[str] = ...) -> None: ...

class ListConnectionsResponse(_message.Message):
    __slots__ = ("connections",)
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    connections: _containers.RepeatedCompositeFieldContainer[Connection]
    def __init__(self, connections: _Optional[_Iterable[_Union[Connection, _Mapping]]] = ...) -> None: ...

class ActivateConnectionRequest(_message.Message):
    __slots__ = ("request_id", "name")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    name: str
    def __init__(self, request_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ActivateConnectionResponse(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: Connection
    def __init__(self, connection: _Optional[_Union[Connection, _Mapping]] = ...) -> None: ...

class CloseConnectionRequest(_message.Message):
    __slots__ = ("request_id", "name")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    name: str
    def __init__(self, request_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class CloseConnectionResponse(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: Connection
    def __init__(self, connection: _Optional[_Union[Connection, _Mapping]] = ...) -> None: ...

class WhitelistAddress(_message.Message):
    __slots__ = ("name", "asset", "address", "label", "state", "create_time", "usable_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    USABLE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    asset: str
    address: str
    label: str
    state: WhitelistAddressState
    create_time: _timestamp_pb2.Timestamp
    usable_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., asset: _Optional[str] = ..., address: _Optional[str] = ..., label: _Optional[str] = ..., state: _Optional[_Union[WhitelistAddressState, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., usable_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateWhitelistAddressRequest(_message.Message):
    __slots__ = ("request_id", "client", "asset", "address", "label")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    client: str
    asset: str
    address: str
    label: str
    def __init__(self, request_id: _Optional[str] = ..., client: _Optional[str] = ..., asset: _Optional[str] = ..., address: _Optional[str] = ..., label: _Optional[str] = ...) -> None: ...

class CreateWhitelistAddressResponse(_message.Message):
    __slots__ = ("whitelist_address",)
    WHITELIST_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    whitelist_address: WhitelistAddress
    def __init__(self, whitelist_address: _Optional[_Union[WhitelistAddress, _Mapping]] = ...) -> None: ...

class ListWhitelistAddressesRequest(_message.Message):
    __slots__ = ("client",)
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    client: str
    def __init__(self, client: _Optional[str] = ...) -> None: ...

class ListWhitelistAddressesResponse(_message.Message):
    __slots__ = ("whitelist_addresses",)
    WHITELIST_ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    whitelist_addresses: _containers.RepeatedCompositeFieldContainer[WhitelistAddress]
    def __init__(self, whitelist_addresses: _Optional[_Iterable[_Union[WhitelistAddress, _Mapping]]] = ...) -> None: ...

class Withdrawal(_message.Message):
    __slots__ = ("name", "asset", "amount", "address", "state", "approvers", "approvals_required", "create_time", "broadcast_time", "confirm_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    APPROVERS_FIELD_NUMBER: _ClassVar[int]
    APPROVALS_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    BROADCAST_TIME_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    asset: str
    amount: str
    address: str
    state: WithdrawalState
    approvers: _containers.RepeatedScalarFieldContainer[str]
    approvals_required: int
    create_time: _timestamp_pb2.Timestamp
    broadcast_time: _timestamp_pb2.Timestamp
    confirm_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ..., address: _Optional[str] = ..., state: _Optional[_Union[WithdrawalState, str]] = ..., approvers: _Optional[_Iterable[str]] = ..., approvals_required: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., broadcast_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., confirm_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateWithdrawalRequest(_message.Message):
    __slots__ = ("request_id", "client", "asset", "amount", "address")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    client: str
    asset: str
    amount: str
    address: str
    def __init__(self, request_id: _Optional[str] = ..., client: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ..., address: _Optional[str] = ...) -> None: ...

class CreateWithdrawalResponse(_message.Message):
    __slots__ = ("withdrawal",)
    WITHDRAWAL_FIELD_NUMBER: _ClassVar[int]
    withdrawal: Withdrawal
    def __init__(self, withdrawal: _Optional[_Union[Withdrawal, _Mapping]] = ...) -> None: ...

class ApproveWithdrawalRequest(_message.Message):
    __slots__ = ("request_id", "name")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    name: str
    def __init__(self, request_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ApproveWithdrawalResponse(_message.Message):
    __slots__ = ("withdrawal",)
    WITHDRAWAL_FIELD_NUMBER: _ClassVar[int]
    withdrawal: Withdrawal
    def __init__(self, withdrawal: _Optional[_Union[Withdrawal, _Mapping]] = ...) -> None: ...

class CancelWithdrawalRequest(_message.Message):
    __slots__ = ("request_id", "name")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    name: str
    def __init__(self, request_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class CancelWithdrawalResponse(_message.Message):
    __slots__ = ("withdrawal",)
    WITHDRAWAL_FIELD_NUMBER: _ClassVar[int]
    withdrawal: Withdrawal
    def __init__(self, withdrawal: _Optional[_Union[Withdrawal, _Mapping]] = ...) -> None: ...

class GetWithdrawalRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetWithdrawalResponse(_message.Message):
    __slots__ = ("withdrawal",)
    WITHDRAWAL_FIELD_NUMBER: _ClassVar[int]
    withdrawal: Withdrawal
    def __init__(self, withdrawal: _Optional[_Union[Withdrawal, _Mapping]] = ...) -> None: ...

class ListWithdrawalsRequest(_message.Message):
    __slots__ = ("client",)
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    client: str
    def __init__(self, client: _Optional[str] = ...) -> None: ...

class ListWithdrawalsResponse(_message.Message):
    __slots__ = ("withdrawals",)
    WITHDRAWALS_FIELD_NUMBER: _ClassVar[int]
    withdrawals: _containers.RepeatedCompositeFieldContainer[Withdrawal]
    def __init__(self, withdrawals: _Optional[_Iterable[_Union[Withdrawal, _Mapping]]] = ...) -> None: ...

class WithdrawalPolicy(_message.Message):
    __slots__ = ("client", "thresholds", "approvers", "quorum")
    class ThresholdsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    APPROVERS_FIELD_NUMBER: _ClassVar[int]
    QUORUM_FIELD_NUMBER: _ClassVar[int]
    client: str
    thresholds: _containers.ScalarMap[str, str]
    approvers: _containers.RepeatedScalarFieldContainer[str]
    quorum: int
    def __init__(self, client: _Optional[str] = ..., thresholds: _Optional[_Mapping[str, str]] = ..., approvers: _Optional[_Iterable[str]] = ..., quorum: _Optional[int] = ...) -> None: ...

class SetWithdrawalPolicyRequest(_message.Message):
    __slots__ = ("request_id", "policy")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    policy: WithdrawalPolicy
    def __init__(self, request_id: _Optional[str] = ..., policy: _Optional[_Union[WithdrawalPolicy, _Mapping]] = ...) -> None: ...

class SetWithdrawalPolicyResponse(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: WithdrawalPolicy
    def __init__(self, policy: _Optional[_Union[WithdrawalPolicy, _Mapping]] = ...) -> None: ...

class AuditRecord(_message.Message):
    __slots__ = ("sequence", "record_time", "principal", "request_id", "method", "resource", "before", "after", "owner")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    RECORD_TIME_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    record_time: _timestamp_pb2.Timestamp
    principal: str
    request_id: str
    method: str
    resource: str
    before: str
    after: str
    owner: str
    def __init__(self, sequence: _Optional[int] = ..., record_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., principal: _Optional[str] = ..., request_id: _Optional[str] = ..., method: _Optional[str] = ..., resource: _Optional[str] = ..., before: _Optional[str] = ..., after: _Optional[str] = ..., owner: _Optional[str] = ...) -> None: ...

class ListAuditRecordsRequest(_message.Message):
    __slots__ = ("after_sequence", "page_size")
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    after_sequence: int
    page_size: int
    def __init__(self, after_sequence: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class ListAuditRecordsResponse(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[AuditRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[AuditRecord, _Mapping]]] = ...) -> None: ...

class StreamAuditLogRequest(_message.Message):
    __slots__ = ("after_sequence",)
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    after_sequence: int
    def __init__(self, after_sequence: _Optional[int] = ...) -> None: ...

class StreamAuditLogResponse(_message.Message):
    __slots__ = ("record",)
    RECORD_FIELD_NUMBER: _ClassVar[int]
    record: AuditRecord
    def __init__(self, record: _Optional[_Union[AuditRecord, _Mapping]] = ...) -> None: ...

class Allocation(_message.Message):
    __slots__ = ("name", "connection", "asset", "amount", "state", "reason", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    connection: str
    asset: str
    amount: str
    state: AllocationState
    reason: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., connection: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ..., state: _Optional[_Union[AllocationState, str]] = ..., reason: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ClearAllocationRequest(_message.Message):
    __slots__ = ("request_id", "allocation")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    allocation: str
    def __init__(self, request_id: _Optional[str] = ..., allocation: _Optional[str] = ...) -> None: ...

class ClearAllocationResponse(_message.Message):
    __slots__ = ("allocation",)
    ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    allocation: Allocation
    def __init__(self, allocation: _Optional[_Union[Allocation, _Mapping]] = ...) -> None: ...

class ReleaseAllocationRequest(_message.Message):
    __slots__ = ("request_id", "allocation", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    allocation: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., allocation: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ReleaseAllocationResponse(_message.Message):
    __slots__ = ("allocation", "allocated_amount")
    ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    ALLOCATED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    allocation: Allocation
    allocated_amount: str
    def __init__(self, allocation: _Optional[_Union[Allocation, _Mapping]] = ..., allocated_amount: _Optional[str] = ...) -> None: ...

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

class DefaultClaim(_message.Message):
    __slots__ = ("party", "asset", "amount", "kind", "account")
    PARTY_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    party: str
    asset: str
    amount: str
    kind: DefaultClaimKind
    account: str
    def __init__(self, party: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ..., kind: _Optional[_Union[DefaultClaimKind, str]] = ..., account: _Optional[str] = ...) -> None: ...

class ExchangeDefault(_message.Message):
    __slots__ = ("exchange", "last_statement", "last_statement_state", "last_statement_applied", "last_statement_reason", "connections", "claims", "frozen_accounts", "transfer_ids", "default_time")
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    LAST_STATEMENT_FIELD_NUMBER: _ClassVar[int]
    LAST_STATEMENT_STATE_FIELD_NUMBER: _ClassVar[int]
    LAST_STATEMENT_APPLIED_FIELD_NUMBER: _ClassVar[int]
    LAST_STATEMENT_REASON_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    CLAIMS_FIELD_NUMBER: _ClassVar[int]
    FROZEN_ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_IDS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_TIME_FIELD_NUMBER: _ClassVar[int]
    exchange: str
    last_statement: str
    last_statement_state: StatementState
    last_statement_applied: bool
    last_statement_reason: str
    connections: _containers.RepeatedScalarFieldContainer[str]
    claims: _containers.RepeatedCompositeFieldContainer[DefaultClaim]
    frozen_accounts: _containers.RepeatedScalarFieldContainer[str]
    transfer_ids: _containers.RepeatedScalarFieldContainer[str]
    default_time: _timestamp_pb2.Timestamp
    def __init__(self, exchange: _Optional[str] = ..., last_statement: _Optional[str] = ..., last_statement_state: _Optional[_Union[StatementState, str]] = ..., last_statement_applied: _Optional[bool] = ..., last_statement_reason: _Optional[str] = ..., connections: _Optional[_Iterable[str]] = ..., claims: _Optional[_Iterable[_Union[DefaultClaim, _Mapping]]] = ..., frozen_accounts: _Optional[_Iterable[str]] = ..., transfer_ids: _Optional[_Iterable[str]] = ..., default_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReleaseOnDefaultRequest(_message.Message):
    __slots__ = ("request_id", "exchange", "apply_last_statement")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    APPLY_LAST_STATEMENT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    exchange: str
    apply_last_statement: bool
    def __init__(self, request_id: _Optional[str] = ..., exchange: _Optional[str] = ..., apply_last_statement: _Optional[bool] = ...) -> None: ...

class ReleaseOnDefaultResponse(_message.Message):
    __slots__ = ("exchange_default",)
    EXCHANGE_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    exchange_default: ExchangeDefault
    def __init__(self, exchange_default: _Optional[_Union[ExchangeDefault, _Mapping]] = ...) -> None: ...
