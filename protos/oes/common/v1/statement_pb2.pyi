import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SettlementStatement(_message.Message):
    __slots__ = ("name", "exchange", "number", "previous_statement", "cutoff_time", "first_trade_sequence", "last_trade_sequence", "nonce", "entries", "signature")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATEMENT_FIELD_NUMBER: _ClassVar[int]
    CUTOFF_TIME_FIELD_NUMBER: _ClassVar[int]
    FIRST_TRADE_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    LAST_TRADE_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    name: str
    exchange: str
    number: int
    previous_statement: str
    cutoff_time: _timestamp_pb2.Timestamp
    first_trade_sequence: int
    last_trade_sequence: int
    nonce: str
    entries: _containers.RepeatedCompositeFieldContainer[StatementEntry]
    signature: bytes
    def __init__(self, name: _Optional[str] = ..., exchange: _Optional[str] = ..., number: _Optional[int] = ..., previous_statement: _Optional[str] = ..., cutoff_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., first_trade_sequence: _Optional[int] = ..., last_trade_sequence: _Optional[int] = ..., nonce: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[StatementEntry, _Mapping]]] = ..., signature: _Optional[bytes] = ...) -> None: ...

class StatementEntry(_message.Message):
    __slots__ = ("connection", "asset", "amount")
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    connection: str
    asset: str
    amount: str
    def __init__(self, connection: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...
