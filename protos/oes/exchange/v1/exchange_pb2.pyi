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

class Side(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIDE_UNSPECIFIED: _ClassVar[Side]
    SIDE_BUY: _ClassVar[Side]
    SIDE_SELL: _ClassVar[Side]

class OrderType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_TYPE_UNSPECIFIED: _ClassVar[OrderType]
    ORDER_TYPE_LIMIT: _ClassVar[OrderType]
    ORDER_TYPE_MARKET: _ClassVar[OrderType]

class OrderState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATE_UNSPECIFIED: _ClassVar[OrderState]
    ORDER_STATE_OPEN: _ClassVar[OrderState]
    ORDER_STATE_FILLED: _ClassVar[OrderState]
    ORDER_STATE_CANCELLED: _ClassVar[OrderState]

class VenueState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VENUE_STATE_UNSPECIFIED: _ClassVar[VenueState]
    VENUE_STATE_OPERATING: _ClassVar[VenueState]
    VENUE_STATE_WITHDRAWALS_PAUSED: _ClassVar[VenueState]
    VENUE_STATE_TRADING_HALTED: _ClassVar[VenueState]
    VENUE_STATE_INSOLVENT: _ClassVar[VenueState]

class StatementState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATEMENT_STATE_UNSPECIFIED: _ClassVar[StatementState]
    STATEMENT_STATE_ISSUED: _ClassVar[StatementState]
    STATEMENT_STATE_CONFIRMED: _ClassVar[StatementState]
SIDE_UNSPECIFIED: Side
SIDE_BUY: Side
SIDE_SELL: Side
ORDER_TYPE_UNSPECIFIED: OrderType
ORDER_TYPE_LIMIT: OrderType
ORDER_TYPE_MARKET: OrderType
ORDER_STATE_UNSPECIFIED: OrderState
ORDER_STATE_OPEN: OrderState
ORDER_STATE_FILLED: OrderState
ORDER_STATE_CANCELLED: OrderState
VENUE_STATE_UNSPECIFIED: VenueState
VENUE_STATE_OPERATING: VenueState
VENUE_STATE_WITHDRAWALS_PAUSED: VenueState
VENUE_STATE_TRADING_HALTED: VenueState
VENUE_STATE_INSOLVENT: VenueState
STATEMENT_STATE_UNSPECIFIED: StatementState
STATEMENT_STATE_ISSUED: StatementState
STATEMENT_STATE_CONFIRMED: StatementState

class Market(_message.Message):
    __slots__ = ("name", "base_asset", "quote_asset", "tick_size", "lot_size", "maker_fee_bps", "taker_fee_bps", "reference_price")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BASE_ASSET_FIELD_NUMBER: _ClassVar[int]
    QUOTE_ASSET_FIELD_NUMBER: _ClassVar[int]
    TICK_SIZE_FIELD_NUMBER: _ClassVar[int]
    LOT_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAKER_FEE_BPS_FIELD_NUMBER: _ClassVar[int]
    TAKER_FEE_BPS_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_PRICE_FIELD_NUMBER: _ClassVar[int]
    name: str
    base_asset: str
    quote_asset: str
    tick_size: str
    lot_size: str
    maker_fee_bps: int
    taker_fee_bps: int
    reference_price: str
    def __init__(self, name: _Optional[str] = ..., base_asset: _Optional[str] = ..., quote_asset: _Optional[str] = ..., tick_size: _Optional[str] = ..., lot_size: _Optional[str] = ..., maker_fee_bps: _Optional[int] = ..., taker_fee_bps: _Optional[int] = ..., reference_price: _Optional[str] = ...) -> None: ...

class ListMarketsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListMarketsResponse(_message.Message):
    __slots__ = ("markets",)
    MARKETS_FIELD_NUMBER: _ClassVar[int]
    markets: _containers.RepeatedCompositeFieldContainer[Market]
    def __init__(self, markets: _Optional[_Iterable[_Union[Market, _Mapping]]] = ...) -> None: ...

class PriceLevel(_message.Message):
    __slots__ = ("price", "quantity", "order_count")
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    ORDER_COUNT_FIELD_NUMBER: _ClassVar[int]
    price: str
    quantity: str
    order_count: int
    def __init__(self, price: _Optional[str] = ..., quantity: _Optional[str] = ..., order_count: _Optional[int] = ...) -> None: ...

class GetOrderBookRequest(_message.Message):
    __slots__ = ("market", "depth")
    MARKET_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    market: str
    depth: int
    def __init__(self, market: _Optional[str] = ..., depth: _Optional[int] = ...) -> None: ...

class GetOrderBookResponse(_message.Message):
    __slots__ = ("market", "bids", "asks", "last_trade_sequence")
    MARKET_FIELD_NUMBER: _ClassVar[int]
    BIDS_FIELD_NUMBER: _ClassVar[int]
    ASKS_FIELD_NUMBER: _ClassVar[int]
    LAST_TRADE_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    market: str
    bids: _containers.RepeatedCompositeFieldContainer[PriceLevel]
    asks: _containers.RepeatedCompositeFieldContainer[PriceLevel]
    last_trade_sequence: int
    def __init__(self, market: _Optional[str] = ..., bids: _Optional[_Iterable[_Union[PriceLevel, _Mapping]]] = ..., asks: _Optional[_Iterable[_Union[PriceLevel, _Mapping]]] = ..., last_trade_sequence: _Optional[int] = ...) -> None: ...

class Fill(_message.Message):
    __slots__ = ("trade_sequence", "price", "quantity", "fee", "maker", "trade_time")
    TRADE_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    MAKER_FIELD_NUMBER: _ClassVar[int]
    TRADE_TIME_FIELD_NUMBER: _ClassVar[int]
    trade_sequence: int
    price: str
    quantity: str
    fee: str
    maker: bool
    trade_time: _timestamp_pb2.Timestamp
    def __init__(self, trade_sequence: _Optional[int] = ..., price: _Optional[str] = ..., quantity: _Optional[str] = ..., fee: _Optional[str] = ..., maker: _Optional[bool] = ..., trade_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("name", "account", "market", "side", "type", "price", "quantity", "filled_quantity", "state", "fills", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    FILLED_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FILLS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    account: str
    market: str
    side: Side
    type: OrderType
    price: str
    quantity: str
    filled_quantity: str
    state: OrderState
    fills: _containers.RepeatedCompositeFieldContainer[Fill]
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., account: _Optional[str] = ..., market: _Optional[str] = ..., side: _Optional[_Union[Side, str]] = ..., type: _Optional[_Union[OrderType, str]] = ..., price: _Optional[str] = ..., quantity: _Optional[str] = ..., filled_quantity: _Optional[str] = ..., state: _Optional[_Union[OrderState, str]] = ..., fills: _Optional[_Iterable[_Union[Fill, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PlaceOrderRequest(_message.Message):
    __slots__ = ("request_id", "account", "market", "side", "type", "price", "quantity")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    account: str
    market: str
    side: Side
    type: OrderType
    price: str
    quantity: str
    def __init__(self, request_id: _Optional[str] = ..., account: _Optional[str] = ..., market: _Optional[str] = ..., side: _Optional[_Union[Side, str]] = ..., type: _Optional[_Union[OrderType, str]] = ..., price: _Optional[str] = ..., quantity: _Optional[str] = ...) -> None: ...

class PlaceOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class CancelOrderRequest(_message.Message):
    __slots__ = ("request_id", "name")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    name: str
    def __init__(self, request_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class CancelOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class AccountBalance(_message.Message):
    __slots__ = ("asset", "mirror", "unsettled", "held", "available", "pending_credit")
    ASSET_FIELD_NUMBER: _ClassVar[int]
    MIRROR_FIELD_NUMBER: _ClassVar[int]
    UNSETTLED_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    PENDING_CREDIT_FIELD_NUMBER: _ClassVar[int]
    asset: str
    mirror: str
    unsettled: str
    held: str
    available: str
    pending_credit: str
    def __init__(self, asset: _Optional[str] = ..., mirror: _Optional[str] = ..., unsettled: _Optional[str] = ..., held: _Optional[str] = ..., available: _Optional[str] = ..., pending_credit: _Optional[str] = ...) -> None: ...

class GetBalancesRequest(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: str
    def __init__(self, account: _Optional[str] = ...) -> None: ...

class GetBalancesResponse(_message.Message):
    __slots__ = ("account", "balances")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    BALANCES_FIELD_NUMBER: _ClassVar[int]
    account: str
    balances: _containers.RepeatedCompositeFieldContainer[AccountBalance]
    def __init__(self, account: _Optional[str] = ..., balances: _Optional[_Iterable[_Union[AccountBalance, _Mapping]]] = ...) -> None: ...

class CreateConnectionRequest(_message.Message):
    __slots__ = ("request_id", "connection")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    connection: str
    def __init__(self, request_id: _Optional[str] = ..., connection: _Optional[str] = ...) -> None: ...

class CreateConnectionResponse(_message.Message):
    __slots__ = ("connection", "account")
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    connection: str
    account: str
    def __init__(self, connection: _Optional[str] = ..., account: _Optional[str] = ...) -> None: ...

class ReserveAllocationRequest(_message.Message):
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

class ReserveAllocationResponse(_message.Message):
    __slots__ = ("pending_credit",)
    PENDING_CREDIT_FIELD_NUMBER: _ClassVar[int]
    pending_credit: str
    def __init__(self, pending_credit: _Optional[str] = ...) -> None: ...

class ClearAllocationRequest(_message.Message):
    __slots__ = ("request_id", "allocation_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    allocation_id: str
    def __init__(self, request_id: _Optional[str] = ..., allocation_id: _Optional[str] = ...) -> None: ...

class ClearAllocationResponse(_message.Message):
    __slots__ = ("mirror",)
    MIRROR_FIELD_NUMBER: _ClassVar[int]
    mirror: str
    def __init__(self, mirror: _Optional[str] = ...) -> None: ...

class ReleaseAllocationRequest(_message.Message):
    __slots__ = ("request_id", "allocation_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    allocation_id: str
    def __init__(self, request_id: _Optional[str] = ..., allocation_id: _Optional[str] = ...) -> None: ...

class ReleaseAllocationResponse(_message.Message):
    __slots__ = ("pending_credit",)
    PENDING_CREDIT_FIELD_NUMBER: _ClassVar[int]
    pending_credit: str
    def __init__(self, pending_credit: _Optional[str] = ...) -> None: ...

class ReserveDeallocationRequest(_message.Message):
    __slots__ = ("request_id", "connection", "deallocation_id", "asset", "amount")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    DEALLOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    connection: str
    deallocation_id: str
    asset: str
    amount: str
    def __init__(self, request_id: _Optional[str] = ..., connection: _Optional[str] = ..., deallocation_id: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class ReserveDeallocationResponse(_message.Message):
    __slots__ = ("held",)
    HELD_FIELD_NUMBER: _ClassVar[int]
    held: str
    def __init__(self, held: _Optional[str] = ...) -> None: ...

class ClearDeallocationRequest(_message.Message):
    __slots__ = ("request_id", "deallocation_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DEALLOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    deallocation_id: str
    def __init__(self, request_id: _Optional[str] = ..., deallocation_id: _Optional[str] = ...) -> None: ...

class ClearDeallocationResponse(_message.Message):
    __slots__ = ("mirror",)
    MIRROR_FIELD_NUMBER: _ClassVar[int]
    mirror: str
    def __init__(self, mirror: _Optional[str] = ...) -> None: ...

class ReleaseDeallocationRequest(_message.Message):
    __slots__ = ("request_id", "deallocation_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DEALLOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    deallocation_id: str
    def __init__(self, request_id: _Optional[str] = ..., deallocation_id: _Optional[str] = ...) -> None: ...

class ReleaseDeallocationResponse(_message.Message):
    __slots__ = ("held",)
    HELD_FIELD_NUMBER: _ClassVar[int]
    held: str
    def __init__(self, held: _Optional[str] = ...) -> None: ...

class CreateStatementRequest(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class CreateStatementResponse(_message.Message):
    __slots__ = ("statement", "state")
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    statement: _statement_pb2.SettlementStatement
    state: StatementState
    def __init__(self, statement: _Optional[_Union[_statement_pb2.SettlementStatement, _Mapping]] = ..., state: _Optional[_Union[StatementState, str]] = ...) -> None: ...

class ConfirmStatementRequest(_message.Message):
    __slots__ = ("request_id", "statement", "settled_entries", "settled_entries_only")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    SETTLED_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    SETTLED_ENTRIES_ONLY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    statement: str
    settled_entries: _containers.RepeatedCompositeFieldContainer[_statement_pb2.StatementEntry]
    settled_entries_only: bool
    def __init__(self, request_id: _Optional[str] = ..., statement: _Optional[str] = ..., settled_entries: _Optional[_Iterable[_Union[_statement_pb2.StatementEntry, _Mapping]]] = ..., settled_entries_only: _Optional[bool] = ...) -> None: ...

class ConfirmStatementResponse(_message.Message):
    __slots__ = ("statement", "state")
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    statement: str
    state: StatementState
    def __init__(self, statement: _Optional[str] = ..., state: _Optional[_Union[StatementState, str]] = ...) -> None: ...

class GetVenueRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetVenueResponse(_message.Message):
    __slots__ = ("exchange", "state", "statement_public_key", "last_statement")
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    LAST_STATEMENT_FIELD_NUMBER: _ClassVar[int]
    exchange: str
    state: VenueState
    statement_public_key: bytes
    last_statement: str
    def __init__(self, exchange: _Optional[str] = ..., state: _Optional[_Union[VenueState, str]] = ..., statement_public_key: _Optional[bytes] = ..., last_statement: _Optional[str] = ...) -> None: ...

class Mirror(_message.Message):
    __slots__ = ("connection", "asset", "mirror", "unsettled")
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    MIRROR_FIELD_NUMBER: _ClassVar[int]
    UNSETTLED_FIELD_NUMBER: _ClassVar[int]
    connection: str
    asset: str
    mirror: str
    unsettled: str
    def __init__(self, connection: _Optional[str] = ..., asset: _Optional[str] = ..., mirror: _Optional[str] = ..., unsettled: _Optional[str] = ...) -> None: ...

class ListMirrorsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListMirrorsResponse(_message.Message):
    __slots__ = ("mirrors",)
    MIRRORS_FIELD_NUMBER: _ClassVar[int]
    mirrors: _containers.RepeatedCompositeFieldContainer[Mirror]
    def __init__(self, mirrors: _Optional[_Iterable[_Union[Mirror, _Mapping]]] = ...) -> None: ...
