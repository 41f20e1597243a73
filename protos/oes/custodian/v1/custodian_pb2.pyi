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

class StatementState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATEMENT_STATE_UNSPECIFIED: _ClassVar[StatementState]
    STATEMENT_STATE_PENDING: _ClassVar[StatementState]
    STATEMENT_STATE_SUCCEEDED: _ClassVar[StatementState]
    STATEMENT_STATE_REJECTED: _ClassVar[StatementState]
PARTY_KIND_UNSPECIFIED: PartyKind
PARTY_KIND_CLIENT: PartyKind
PARTY_KIND_EXCHANGE: PartyKind
CONNECTION_STATE_UNSPECIFIED: ConnectionState
CONNECTION_STATE_ACTIVE: ConnectionState
CONNECTION_STATE_CLOSED: ConnectionState
CONNECTION_STATE_DEFAULTED: ConnectionState
STATEMENT_STATE_UNSPECIFIED: StatementState
STATEMENT_STATE_PENDING: StatementState
STATEMENT_STATE_SUCCEEDED: StatementState
STATEMENT_STATE_REJECTED: StatementState

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
    __slots__ = ("owner",)
    OWNER_FIELD_NUMBER: _ClassVar[int]
    owner: str
    def __init__(self, owner: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("transfer_id", "allocated_amount")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOCATED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    allocated_amount: str
    def __init__(self, transfer_id: _Optional[str] = ..., allocated_amount: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("statement", "state", "transfer_ids", "submit_time", "execute_time")
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_IDS_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    EXECUTE_TIME_FIELD_NUMBER: _ClassVar[int]
    statement: _statement_pb2.SettlementStatement
    state: StatementState
    transfer_ids: _containers.RepeatedScalarFieldContainer[str]
    submit_time: _timestamp_pb2.Timestamp
    execute_time: _timestamp_pb2.Timestamp
    def __init__(self, statement: _Optional[_Union[_statement_pb2.SettlementStatement, _Mapping]] = ..., state: _Optional[_Union[StatementState, str]] = ..., transfer_ids: _Optional[_Iterable[str]] = ..., submit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., execute_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

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
