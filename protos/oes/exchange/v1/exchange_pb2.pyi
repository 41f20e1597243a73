import datetime

from google.protobuf import duration_pb2 as _duration_pb2
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

class TimeInForce(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIME_IN_FORCE_UNSPECIFIED: _ClassVar[TimeInForce]
    TIME_IN_FORCE_GOOD_TILL_CANCELLED: _ClassVar[TimeInForce]
    TIME_IN_FORCE_IMMEDIATE_OR_CANCEL: _ClassVar[TimeInForce]
    TIME_IN_FORCE_FILL_OR_KILL: _ClassVar[TimeInForce]

class SelfTradePrevention(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SELF_TRADE_PREVENTION_UNSPECIFIED: _ClassVar[SelfTradePrevention]
    SELF_TRADE_PREVENTION_CANCEL_TAKER: _ClassVar[SelfTradePrevention]
    SELF_TRADE_PREVENTION_CANCEL_MAKER: _ClassVar[SelfTradePrevention]
    SELF_TRADE_PREVENTION_CANCEL_BOTH: _ClassVar[SelfTradePrevention]

class CustodyModel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CUSTODY_MODEL_UNSPECIFIED: _ClassVar[CustodyModel]
    CUSTODY_MODEL_OES: _ClassVar[CustodyModel]
    CUSTODY_MODEL_TRADITIONAL: _ClassVar[CustodyModel]

class StatementFaultKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATEMENT_FAULT_KIND_UNSPECIFIED: _ClassVar[StatementFaultKind]
    STATEMENT_FAULT_KIND_OVER_CLAIM: _ClassVar[StatementFaultKind]
    STATEMENT_FAULT_KIND_FLIPPED_SIGN: _ClassVar[StatementFaultKind]
    STATEMENT_FAULT_KIND_TRADE_COUNTED_TWICE: _ClassVar[StatementFaultKind]
    STATEMENT_FAULT_KIND_WRONG_KEY: _ClassVar[StatementFaultKind]
    STATEMENT_FAULT_KIND_OVERLAPPING_CUTOFF: _ClassVar[StatementFaultKind]

class PriceFaultKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRICE_FAULT_KIND_UNSPECIFIED: _ClassVar[PriceFaultKind]
    PRICE_FAULT_KIND_SHOCK: _ClassVar[PriceFaultKind]
    PRICE_FAULT_KIND_STALE: _ClassVar[PriceFaultKind]

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
    STATEMENT_STATE_VOIDED: _ClassVar[StatementState]
SIDE_UNSPECIFIED: Side
SIDE_BUY: Side
SIDE_SELL: Side
ORDER_TYPE_UNSPECIFIED: OrderType
ORDER_TYPE_LIMIT: OrderType
ORDER_TYPE_MARKET: OrderType
TIME_IN_FORCE_UNSPECIFIED: TimeInForce
TIME_IN_FORCE_GOOD_TILL_CANCELLED: TimeInForce
TIME_IN_FORCE_IMMEDIATE_OR_CANCEL: TimeInForce
TIME_IN_FORCE_FILL_OR_KILL: TimeInForce
SELF_TRADE_PREVENTION_UNSPECIFIED: SelfTradePrevention
SELF_TRADE_PREVENTION_CANCEL_TAKER: SelfTradePrevention
SELF_TRADE_PREVENTION_CANCEL_MAKER: SelfTradePrevention
SELF_TRADE_PREVENTION_CANCEL_BOTH: SelfTradePrevention
CUSTODY_MODEL_UNSPECIFIED: CustodyModel
CUSTODY_MODEL_OES: CustodyModel
CUSTODY_MODEL_TRADITIONAL: CustodyModel
STATEMENT_FAULT_KIND_UNSPECIFIED: StatementFaultKind
STATEMENT_FAULT_KIND_OVER_CLAIM: StatementFaultKind
STATEMENT_FAULT_KIND_FLIPPED_SIGN: StatementFaultKind
STATEMENT_FAULT_KIND_TRADE_COUNTED_TWICE: StatementFaultKind
STATEMENT_FAULT_KIND_WRONG_KEY: StatementFaultKind
STATEMENT_FAULT_KIND_OVERLAPPING_CUTOFF: StatementFaultKind
PRICE_FAULT_KIND_UNSPECIFIED: PriceFaultKind
PRICE_FAULT_KIND_SHOCK: PriceFaultKind
PRICE_FAULT_KIND_STALE: PriceFaultKind
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
STATEMENT_STATE_VOIDED: StatementState

class Market(_message.Message):
    __slots__ = ("name", "base_asset", "quote_asset", "tick_size", "lot_size", "maker_fee_bps", "taker_fee_bps", "reference_price", "min_notional")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BASE_ASSET_FIELD_NUMBER: _ClassVar[int]
    QUOTE_ASSET_FIELD_NUMBER: _ClassVar[int]
    TICK_SIZE_FIELD_NUMBER: _ClassVar[int]
    LOT_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAKER_FEE_BPS_FIELD_NUMBER: _ClassVar[int]
    TAKER_FEE_BPS_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_PRICE_FIELD_NUMBER: _ClassVar[int]
    MIN_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    name: str
    base_asset: str
    quote_asset: str
    tick_size: str
    lot_size: str
    maker_fee_bps: int
    taker_fee_bps: int
    reference_price: str
    min_notional: str
    def __init__(self, name: _Optional[str] = ..., base_asset: _Optional[str] = ..., quote_asset: _Optional[str] = ..., tick_size: _Optional[str] = ..., lot_size: _Optional[str] = ..., maker_fee_bps: _Optional[int] = ..., taker_fee_bps: _Optional[int] = ..., reference_price: _Optional[str] = ..., min_notional: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("market", "bids", "asks", "last_trade_sequence", "market_data_sequence")
    MARKET_FIELD_NUMBER: _ClassVar[int]
    BIDS_FIELD_NUMBER: _ClassVar[int]
    ASKS_FIELD_NUMBER: _ClassVar[int]
    LAST_TRADE_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    MARKET_DATA_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    market: str
    bids: _containers.RepeatedCompositeFieldContainer[PriceLevel]
    asks: _containers.RepeatedCompositeFieldContainer[PriceLevel]
    last_trade_sequence: int
    market_data_sequence: int
    def __init__(self, market: _Optional[str] = ..., bids: _Optional[_Iterable[_Union[PriceLevel, _Mapping]]] = ..., asks: _Optional[_Iterable[_Union[PriceLevel, _Mapping]]] = ..., last_trade_sequence: _Optional[int] = ..., market_data_sequence: _Optional[int] = ...) -> None: ...

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
    __slots__ = ("name", "account", "market", "side", "type", "price", "quantity", "filled_quantity", "state", "fills", "create_time", "client_order_id", "time_in_force", "post_only", "protection_price", "cancel_reason", "fee", "self_trade_prevention")
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
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    POST_ONLY_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_PRICE_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REASON_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    SELF_TRADE_PREVENTION_FIELD_NUMBER: _ClassVar[int]
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
    client_order_id: str
    time_in_force: TimeInForce
    post_only: bool
    protection_price: str
    cancel_reason: str
    fee: str
    self_trade_prevention: SelfTradePrevention
    def __init__(self, name: _Optional[str] = ..., account: _Optional[str] = ..., market: _Optional[str] = ..., side: _Optional[_Union[Side, str]] = ..., type: _Optional[_Union[OrderType, str]] = ..., price: _Optional[str] = ..., quantity: _Optional[str] = ..., filled_quantity: _Optional[str] = ..., state: _Optional[_Union[OrderState, str]] = ..., fills: _Optional[_Iterable[_Union[Fill, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., client_order_id: _Optional[str] = ..., time_in_force: _Optional[_Union[TimeInForce, str]] = ..., post_only: _Optional[bool] = ..., protection_price: _Optional[str] = ..., cancel_reason: _Optional[str] = ..., fee: _Optional[str] = ..., self_trade_prevention: _Optional[_Union[SelfTradePrevention, str]] = ...) -> None: ...

class PlaceOrderRequest(_message.Message):
    __slots__ = ("request_id", "account", "market", "side", "type", "price", "quantity", "client_order_id", "time_in_force", "post_only", "protection_price", "self_trade_prevention")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    POST_ONLY_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_PRICE_FIELD_NUMBER: _ClassVar[int]
    SELF_TRADE_PREVENTION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    account: str
    market: str
    side: Side
    type: OrderType
    price: str
    quantity: str
    client_order_id: str
    time_in_force: TimeInForce
    post_only: bool
    protection_price: str
    self_trade_prevention: SelfTradePrevention
    def __init__(self, request_id: _Optional[str] = ..., account: _Optional[str] = ..., market: _Optional[str] = ..., side: _Optional[_Union[Side, str]] = ..., type: _Optional[_Union[OrderType, str]] = ..., price: _Optional[str] = ..., quantity: _Optional[str] = ..., client_order_id: _Optional[str] = ..., time_in_force: _Optional[_Union[TimeInForce, str]] = ..., post_only: _Optional[bool] = ..., protection_price: _Optional[str] = ..., self_trade_prevention: _Optional[_Union[SelfTradePrevention, str]] = ...) -> None: ...

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

class CancelAllOrdersRequest(_message.Message):
    __slots__ = ("request_id", "account", "market")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    account: str
    market: str
    def __init__(self, request_id: _Optional[str] = ..., account: _Optional[str] = ..., market: _Optional[str] = ...) -> None: ...

class CancelAllOrdersResponse(_message.Message):
    __slots__ = ("orders",)
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[Order]
    def __init__(self, orders: _Optional[_Iterable[_Union[Order, _Mapping]]] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("name", "account", "client_order_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    account: str
    client_order_id: str
    def __init__(self, name: _Optional[str] = ..., account: _Optional[str] = ..., client_order_id: _Optional[str] = ...) -> None: ...

class GetOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class ListOrdersRequest(_message.Message):
    __slots__ = ("account", "open_only", "market", "page_size", "page_token")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    OPEN_ONLY_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account: str
    open_only: bool
    market: str
    page_size: int
    page_token: str
    def __init__(self, account: _Optional[str] = ..., open_only: _Optional[bool] = ..., market: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOrdersResponse(_message.Message):
    __slots__ = ("orders", "next_page_token")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[Order]
    next_page_token: str
    def __init__(self, orders: _Optional[_Iterable[_Union[Order, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AccountTrade(_message.Message):
    __slots__ = ("trade_sequence", "market", "order", "side", "price", "quantity", "fee", "maker", "trade_time")
    TRADE_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    MAKER_FIELD_NUMBER: _ClassVar[int]
    TRADE_TIME_FIELD_NUMBER: _ClassVar[int]
    trade_sequence: int
    market: str
    order: str
    side: Side
    price: str
    quantity: str
    fee: str
    maker: bool
    trade_time: _timestamp_pb2.Timestamp
    def __init__(self, trade_sequence: _Optional[int] = ..., market: _Optional[str] = ..., order: _Optional[str] = ..., side: _Optional[_Union[Side, str]] = ..., price: _Optional[str] = ..., quantity: _Optional[str] = ..., fee: _Optional[str] = ..., maker: _Optional[bool] = ..., trade_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListTradesRequest(_message.Message):
    __slots__ = ("account", "page_size", "page_token")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account: str
    page_size: int
    page_token: str
    def __init__(self, account: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTradesResponse(_message.Message):
    __slots__ = ("trades", "next_page_token")
    TRADES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    trades: _containers.RepeatedCompositeFieldContainer[AccountTrade]
    next_page_token: str
    def __init__(self, trades: _Optional[_Iterable[_Union[AccountTrade, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AccountBalance(_message.Message):
    __slots__ = ("asset", "mirror", "unsettled", "held", "available", "pending_credit", "deposited")
    ASSET_FIELD_NUMBER: _ClassVar[int]
    MIRROR_FIELD_NUMBER: _ClassVar[int]
    UNSETTLED_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    PENDING_CREDIT_FIELD_NUMBER: _ClassVar[int]
    DEPOSITED_FIELD_NUMBER: _ClassVar[int]
    asset: str
    mirror: str
    unsettled: str
    held: str
    available: str
    pending_credit: str
    deposited: str
    def __init__(self, asset: _Optional[str] = ..., mirror: _Optional[str] = ..., unsettled: _Optional[str] = ..., held: _Optional[str] = ..., available: _Optional[str] = ..., pending_credit: _Optional[str] = ..., deposited: _Optional[str] = ...) -> None: ...

class EstateClaim(_message.Message):
    __slots__ = ("account", "asset", "amount", "recovery_rate_bps", "recovered")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    RECOVERY_RATE_BPS_FIELD_NUMBER: _ClassVar[int]
    RECOVERED_FIELD_NUMBER: _ClassVar[int]
    account: str
    asset: str
    amount: str
    recovery_rate_bps: int
    recovered: str
    def __init__(self, account: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ..., recovery_rate_bps: _Optional[int] = ..., recovered: _Optional[str] = ...) -> None: ...

class GetBalancesRequest(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: str
    def __init__(self, account: _Optional[str] = ...) -> None: ...

class GetBalancesResponse(_message.Message):
    __slots__ = ("account", "balances", "custody_model", "claims", "frozen")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    BALANCES_FIELD_NUMBER: _ClassVar[int]
    CUSTODY_MODEL_FIELD_NUMBER: _ClassVar[int]
    CLAIMS_FIELD_NUMBER: _ClassVar[int]
    FROZEN_FIELD_NUMBER: _ClassVar[int]
    account: str
    balances: _containers.RepeatedCompositeFieldContainer[AccountBalance]
    custody_model: CustodyModel
    claims: _containers.RepeatedCompositeFieldContainer[EstateClaim]
    frozen: bool
    def __init__(self, account: _Optional[str] = ..., balances: _Optional[_Iterable[_Union[AccountBalance, _Mapping]]] = ..., custody_model: _Optional[_Union[CustodyModel, str]] = ..., claims: _Optional[_Iterable[_Union[EstateClaim, _Mapping]]] = ..., frozen: _Optional[bool] = ...) -> None: ...

class StreamMarketDataRequest(_message.Message):
    __slots__ = ("market", "after_sequence")
    MARKET_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    market: str
    after_sequence: int
    def __init__(self, market: _Optional[str] = ..., after_sequence: _Optional[int] = ...) -> None: ...

class BookLevelUpdate(_message.Message):
    __slots__ = ("side", "price", "quantity", "order_count")
    SIDE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    ORDER_COUNT_FIELD_NUMBER: _ClassVar[int]
    side: Side
    price: str
    quantity: str
    order_count: int
    def __init__(self, side: _Optional[_Union[Side, str]] = ..., price: _Optional[str] = ..., quantity: _Optional[str] = ..., order_count: _Optional[int] = ...) -> None: ...

class MarketTrade(_message.Message):
    __slots__ = ("trade_sequence", "price", "quantity", "taker_side")
    TRADE_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    TAKER_SIDE_FIELD_NUMBER: _ClassVar[int]
    trade_sequence: int
    price: str
    quantity: str
    taker_side: Side
    def __init__(self, trade_sequence: _Optional[int] = ..., price: _Optional[str] = ..., quantity: _Optional[str] = ..., taker_side: _Optional[_Union[Side, str]] = ...) -> None: ...

class Ticker(_message.Message):
    __slots__ = ("best_bid", "best_ask", "last_price", "reference_price")
    BEST_BID_FIELD_NUMBER: _ClassVar[int]
    BEST_ASK_FIELD_NUMBER: _ClassVar[int]
    LAST_PRICE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_PRICE_FIELD_NUMBER: _ClassVar[int]
    best_bid: str
    best_ask: str
    last_price: str
    reference_price: str
    def __init__(self, best_bid: _Optional[str] = ..., best_ask: _Optional[str] = ..., last_price: _Optional[str] = ..., reference_price: _Optional[str] = ...) -> None: ...

class StreamMarketDataResponse(_message.Message):
    __slots__ = ("market", "sequence", "event_time", "book_update", "trade", "ticker")
    MARKET_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    BOOK_UPDATE_FIELD_NUMBER: _ClassVar[int]
    TRADE_FIELD_NUMBER: _ClassVar[int]
    TICKER_FIELD_NUMBER: _ClassVar[int]
    market: str
    sequence: int
    event_time: _timestamp_pb2.Timestamp
    book_update: BookUpdate
    trade: MarketTrade
    ticker: Ticker
    def __init__(self, market: _Optional[str] = ..., sequence: _Optional[int] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., book_update: _Optional[_Union[BookUpdate, _Mapping]] = ..., trade: _Optional[_Union[MarketTrade, _Mapping]] = ..., ticker: _Optional[_Union[Ticker, _Mapping]] = ...) -> None: ...

class BookUpdate(_message.Message):
    __slots__ = ("levels",)
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    levels: _containers.RepeatedCompositeFieldContainer[BookLevelUpdate]
    def __init__(self, levels: _Optional[_Iterable[_Union[BookLevelUpdate, _Mapping]]] = ...) -> None: ...

class CreateDepositRequest(_message.Message):
    __slots__ = ("request_id", "account", "asset", "amount")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    account: str
    asset: str
    amount: str
    def __init__(self, request_id: _Optional[str] = ..., account: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class CreateDepositResponse(_message.Message):
    __slots__ = ("balance",)
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    balance: AccountBalance
    def __init__(self, balance: _Optional[_Union[AccountBalance, _Mapping]] = ...) -> None: ...

class CreateWithdrawalRequest(_message.Message):
    __slots__ = ("request_id", "account", "asset", "amount")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    account: str
    asset: str
    amount: str
    def __init__(self, request_id: _Optional[str] = ..., account: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class CreateWithdrawalResponse(_message.Message):
    __slots__ = ("balance",)
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    balance: AccountBalance
    def __init__(self, balance: _Optional[_Union[AccountBalance, _Mapping]] = ...) -> None: ...

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

class VoidStatementRequest(_message.Message):
    __slots__ = ("request_id", "statement", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    statement: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., statement: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class VoidStatementResponse(_message.Message):
    __slots__ = ("statement", "state")
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    statement: str
    state: StatementState
    def __init__(self, statement: _Optional[str] = ..., state: _Optional[_Union[StatementState, str]] = ...) -> None: ...

class ApplyAdjustmentRequest(_message.Message):
    __slots__ = ("request_id", "connection", "asset", "amount", "statement")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    connection: str
    asset: str
    amount: str
    statement: str
    def __init__(self, request_id: _Optional[str] = ..., connection: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ..., statement: _Optional[str] = ...) -> None: ...

class ApplyAdjustmentResponse(_message.Message):
    __slots__ = ("mirror",)
    MIRROR_FIELD_NUMBER: _ClassVar[int]
    mirror: str
    def __init__(self, mirror: _Optional[str] = ...) -> None: ...

class GetVenueRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetVenueResponse(_message.Message):
    __slots__ = ("exchange", "state", "statement_public_key", "last_statement", "state_time", "recovery_rate_bps")
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    LAST_STATEMENT_FIELD_NUMBER: _ClassVar[int]
    STATE_TIME_FIELD_NUMBER: _ClassVar[int]
    RECOVERY_RATE_BPS_FIELD_NUMBER: _ClassVar[int]
    exchange: str
    state: VenueState
    statement_public_key: bytes
    last_statement: str
    state_time: _timestamp_pb2.Timestamp
    recovery_rate_bps: int
    def __init__(self, exchange: _Optional[str] = ..., state: _Optional[_Union[VenueState, str]] = ..., statement_public_key: _Optional[bytes] = ..., last_statement: _Optional[str] = ..., state_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., recovery_rate_bps: _Optional[int] = ...) -> None: ...

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

class CreateAccountRequest(_message.Message):
    __slots__ = ("request_id", "account", "custody_model")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    CUSTODY_MODEL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    account: str
    custody_model: CustodyModel
    def __init__(self, request_id: _Optional[str] = ..., account: _Optional[str] = ..., custody_model: _Optional[_Union[CustodyModel, str]] = ...) -> None: ...

class CreateAccountResponse(_message.Message):
    __slots__ = ("account", "custody_model")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    CUSTODY_MODEL_FIELD_NUMBER: _ClassVar[int]
    account: str
    custody_model: CustodyModel
    def __init__(self, account: _Optional[str] = ..., custody_model: _Optional[_Union[CustodyModel, str]] = ...) -> None: ...

class SetVenueStateRequest(_message.Message):
    __slots__ = ("request_id", "state", "recovery_rate_bps")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RECOVERY_RATE_BPS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    state: VenueState
    recovery_rate_bps: int
    def __init__(self, request_id: _Optional[str] = ..., state: _Optional[_Union[VenueState, str]] = ..., recovery_rate_bps: _Optional[int] = ...) -> None: ...

class SetVenueStateResponse(_message.Message):
    __slots__ = ("venue",)
    VENUE_FIELD_NUMBER: _ClassVar[int]
    venue: GetVenueResponse
    def __init__(self, venue: _Optional[_Union[GetVenueResponse, _Mapping]] = ...) -> None: ...

class StatementFault(_message.Message):
    __slots__ = ("kind", "factor", "statements_count")
    KIND_FIELD_NUMBER: _ClassVar[int]
    FACTOR_FIELD_NUMBER: _ClassVar[int]
    STATEMENTS_COUNT_FIELD_NUMBER: _ClassVar[int]
    kind: StatementFaultKind
    factor: str
    statements_count: int
    def __init__(self, kind: _Optional[_Union[StatementFaultKind, str]] = ..., factor: _Optional[str] = ..., statements_count: _Optional[int] = ...) -> None: ...

class SetStatementFaultRequest(_message.Message):
    __slots__ = ("request_id", "fault")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FAULT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    fault: StatementFault
    def __init__(self, request_id: _Optional[str] = ..., fault: _Optional[_Union[StatementFault, _Mapping]] = ...) -> None: ...

class SetStatementFaultResponse(_message.Message):
    __slots__ = ("faults",)
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    faults: _containers.RepeatedCompositeFieldContainer[StatementFault]
    def __init__(self, faults: _Optional[_Iterable[_Union[StatementFault, _Mapping]]] = ...) -> None: ...

class PriceFault(_message.Message):
    __slots__ = ("market", "kind", "shock_percent", "duration", "start_time")
    MARKET_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SHOCK_PERCENT_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    market: str
    kind: PriceFaultKind
    shock_percent: str
    duration: _duration_pb2.Duration
    start_time: _timestamp_pb2.Timestamp
    def __init__(self, market: _Optional[str] = ..., kind: _Optional[_Union[PriceFaultKind, str]] = ..., shock_percent: _Optional[str] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SetPriceFaultRequest(_message.Message):
    __slots__ = ("request_id", "fault")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FAULT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    fault: PriceFault
    def __init__(self, request_id: _Optional[str] = ..., fault: _Optional[_Union[PriceFault, _Mapping]] = ...) -> None: ...

class SetPriceFaultResponse(_message.Message):
    __slots__ = ("market",)
    MARKET_FIELD_NUMBER: _ClassVar[int]
    market: Market
    def __init__(self, market: _Optional[_Union[Market, _Mapping]] = ...) -> None: ...

class PricePath(_message.Message):
    __slots__ = ("random_walk", "scripted", "csv")
    RANDOM_WALK_FIELD_NUMBER: _ClassVar[int]
    SCRIPTED_FIELD_NUMBER: _ClassVar[int]
    CSV_FIELD_NUMBER: _ClassVar[int]
    random_walk: RandomWalkPath
    scripted: ScriptedPath
    csv: CsvPath
    def __init__(self, random_walk: _Optional[_Union[RandomWalkPath, _Mapping]] = ..., scripted: _Optional[_Union[ScriptedPath, _Mapping]] = ..., csv: _Optional[_Union[CsvPath, _Mapping]] = ...) -> None: ...

class RandomWalkPath(_message.Message):
    __slots__ = ("volatility_bps", "step")
    VOLATILITY_BPS_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    volatility_bps: int
    step: _duration_pb2.Duration
    def __init__(self, volatility_bps: _Optional[int] = ..., step: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ScriptedPoint(_message.Message):
    __slots__ = ("offset", "change_percent")
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    CHANGE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    offset: _duration_pb2.Duration
    change_percent: str
    def __init__(self, offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., change_percent: _Optional[str] = ...) -> None: ...

class ScriptedPath(_message.Message):
    __slots__ = ("points",)
    POINTS_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[ScriptedPoint]
    def __init__(self, points: _Optional[_Iterable[_Union[ScriptedPoint, _Mapping]]] = ...) -> None: ...

class CsvPath(_message.Message):
    __slots__ = ("file",)
    FILE_FIELD_NUMBER: _ClassVar[int]
    file: str
    def __init__(self, file: _Optional[str] = ...) -> None: ...

class SetPricePathRequest(_message.Message):
    __slots__ = ("request_id", "market", "path")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    market: str
    path: PricePath
    def __init__(self, request_id: _Optional[str] = ..., market: _Optional[str] = ..., path: _Optional[_Union[PricePath, _Mapping]] = ...) -> None: ...

class SetPricePathResponse(_message.Message):
    __slots__ = ("market",)
    MARKET_FIELD_NUMBER: _ClassVar[int]
    market: Market
    def __init__(self, market: _Optional[_Union[Market, _Mapping]] = ...) -> None: ...

class ListVenueFaultsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListVenueFaultsResponse(_message.Message):
    __slots__ = ("statement_faults", "price_faults")
    STATEMENT_FAULTS_FIELD_NUMBER: _ClassVar[int]
    PRICE_FAULTS_FIELD_NUMBER: _ClassVar[int]
    statement_faults: _containers.RepeatedCompositeFieldContainer[StatementFault]
    price_faults: _containers.RepeatedCompositeFieldContainer[PriceFault]
    def __init__(self, statement_faults: _Optional[_Iterable[_Union[StatementFault, _Mapping]]] = ..., price_faults: _Optional[_Iterable[_Union[PriceFault, _Mapping]]] = ...) -> None: ...

class ClearVenueFaultsRequest(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class ClearVenueFaultsResponse(_message.Message):
    __slots__ = ("cleared_count",)
    CLEARED_COUNT_FIELD_NUMBER: _ClassVar[int]
    cleared_count: int
    def __init__(self, cleared_count: _Optional[int] = ...) -> None: ...
