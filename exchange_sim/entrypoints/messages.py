"""Conversions between the exchange's protos and its domain values, and request field validation."""

from __future__ import annotations

import re

from exchange_sim.domain.accounts import Balance
from exchange_sim.domain.market import Market
from exchange_sim.domain.orders import OrderState, OrderType, Side
from exchange_sim.domain.statements import Statement, StatementState
from exchange_sim.domain.venue import VenueState
from exchange_sim.service_layer.ports import OrderView
from exchange_sim.service_layer.venue_service import BalanceView
from oes.exchange.v1 import exchange_pb2
from service_kit.errors import invalid_argument
from service_kit.money import AssetScales
from service_kit.statement_messages import message_from_content
from service_kit.timestamps import to_timestamp

ORDER_NAME_PATTERN = re.compile(r"orders/([1-9][0-9]{0,17})")
# Allocation and deallocation ids are chosen by the bridge; the same alphabet as request ids.
FUNDING_ID_PATTERN = re.compile(r"[A-Za-z0-9._:/@-]{1,128}")

SIDES_FROM_PROTO = {exchange_pb2.SIDE_BUY: Side.BUY, exchange_pb2.SIDE_SELL: Side.SELL}
SIDES_TO_PROTO = {side: proto for proto, side in SIDES_FROM_PROTO.items()}
ORDER_TYPES_FROM_PROTO = {
    exchange_pb2.ORDER_TYPE_LIMIT: OrderType.LIMIT,
    exchange_pb2.ORDER_TYPE_MARKET: OrderType.MARKET,
}
ORDER_TYPES_TO_PROTO = {order_type: proto for proto, order_type in ORDER_TYPES_FROM_PROTO.items()}
ORDER_STATES_TO_PROTO = {
    OrderState.OPEN: exchange_pb2.ORDER_STATE_OPEN,
    OrderState.FILLED: exchange_pb2.ORDER_STATE_FILLED,
    OrderState.CANCELLED: exchange_pb2.ORDER_STATE_CANCELLED,
}
VENUE_STATES_TO_PROTO = {
    VenueState.OPERATING: exchange_pb2.VENUE_STATE_OPERATING,
    VenueState.WITHDRAWALS_PAUSED: exchange_pb2.VENUE_STATE_WITHDRAWALS_PAUSED,
    VenueState.TRADING_HALTED: exchange_pb2.VENUE_STATE_TRADING_HALTED,
    VenueState.INSOLVENT: exchange_pb2.VENUE_STATE_INSOLVENT,
}
STATEMENT_STATES_TO_PROTO = {
    StatementState.ISSUED: exchange_pb2.STATEMENT_STATE_ISSUED,
    StatementState.CONFIRMED: exchange_pb2.STATEMENT_STATE_CONFIRMED,
}


def parse_order_name(name: str) -> int:
    """Returns the number of `orders/{n}`, or INVALID_ARGUMENT."""
    match = ORDER_NAME_PATTERN.fullmatch(name)
    if match is None:
        raise invalid_argument(
            "ORDER_NAME_INVALID", "name", f"{name!r} is not an order name like 'orders/42'"
        )
    return int(match.group(1))


def validate_funding_id(identifier: str, field_name: str) -> None:
    """Refuses an empty or malformed allocation or deallocation id."""
    if not FUNDING_ID_PATTERN.fullmatch(identifier):
        raise invalid_argument(
            f"{field_name.upper()}_INVALID",
            field_name,
            "must be 1-128 characters of letters, digits and ._:/@-",
        )


def parse_side(side: int) -> Side:
    """The domain side of a proto side, or INVALID_ARGUMENT."""
    parsed = SIDES_FROM_PROTO.get(side)  # type: ignore[call-overload]
    if parsed is None:
        raise invalid_argument("SIDE_UNSPECIFIED", "side", "must be SIDE_BUY or SIDE_SELL")
    return parsed


def parse_order_type(order_type: int) -> OrderType:
    """The domain order type of a proto order type, or INVALID_ARGUMENT."""
    parsed = ORDER_TYPES_FROM_PROTO.get(order_type)  # type: ignore[call-overload]
    if parsed is None:
        raise invalid_argument(
            "ORDER_TYPE_UNSPECIFIED", "type", "must be ORDER_TYPE_LIMIT or ORDER_TYPE_MARKET"
        )
    return parsed


def market_message(market: Market) -> exchange_pb2.Market:
    """A market as listed to clients."""
    return exchange_pb2.Market(
        name=market.name,
        base_asset=market.base_asset,
        quote_asset=market.quote_asset,
        tick_size=market.format_price(market.tick_units),
        lot_size=market.format_quantity(market.lot_units),
        maker_fee_bps=market.maker_fee_bps,
        taker_fee_bps=market.taker_fee_bps,
        reference_price=market.format_price(market.reference_price_units),
    )


def order_message(view: OrderView, market: Market) -> exchange_pb2.Order:
    """An order with its fills; amounts in the market's scales."""
    return exchange_pb2.Order(
        name=f"orders/{view.number}",
        account=view.account,
        market=view.market,
        side=SIDES_TO_PROTO[view.side],
        type=ORDER_TYPES_TO_PROTO[view.order_type],
        price="" if view.price_units is None else market.format_price(view.price_units),
        quantity=market.format_quantity(view.quantity_units),
        filled_quantity=market.format_quantity(view.filled_units),
        state=ORDER_STATES_TO_PROTO[view.state],
        fills=[
            exchange_pb2.Fill(
                trade_sequence=fill.trade_sequence,
                price=market.format_price(fill.price_units),
                quantity=market.format_quantity(fill.quantity_units),
                fee=market.format_price(fill.fee_units),
                maker=fill.maker,
                trade_time=to_timestamp(fill.trade_time_ms),
            )
            for fill in view.fills
        ],
        create_time=to_timestamp(view.create_time_ms),
    )


def balance_message(view: BalanceView, assets: AssetScales) -> exchange_pb2.AccountBalance:
    """One asset of an account."""
    return exchange_pb2.AccountBalance(
        asset=view.asset,
        mirror=assets.format(view.asset, view.mirror_units),
        unsettled=assets.format(view.asset, view.unsettled_units),
        held=assets.format(view.asset, view.held_units),
        available=assets.format(view.asset, view.available_units),
        pending_credit=assets.format(view.asset, view.pending_credit_units),
    )


def format_balance_field(balance: Balance | None, field_name: str, assets: AssetScales) -> str:
    """One field of a balance for a funding response; empty when the id was unknown (no balance)."""
    if balance is None:
        return ""
    return assets.format(balance.asset, getattr(balance, f"{field_name}_units"))


def statement_response(statement: Statement) -> exchange_pb2.CreateStatementResponse:
    """The signed statement and its state at the exchange."""
    return exchange_pb2.CreateStatementResponse(
        statement=message_from_content(statement.content, statement.signature),
        state=STATEMENT_STATES_TO_PROTO[statement.state],
    )
