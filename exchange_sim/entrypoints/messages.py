"""Conversions between the exchange's protos and its domain values, and request field validation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from exchange_sim.domain.accounts import Balance, CustodyModel
from exchange_sim.domain.market import Market
from exchange_sim.domain.market_data import MarketDataEvent
from exchange_sim.domain.orders import OrderState, OrderType, SelfTradePrevention, Side, TimeInForce, Trade
from exchange_sim.domain.statements import Statement, StatementFaultKind, StatementState
from exchange_sim.domain.venue import VenueState
from exchange_sim.domain.wallet import EstateClaim
from exchange_sim.service_layer.ports import OrderView
from exchange_sim.service_layer.venue_service import AccountView, BalanceView, MarketView, VenueView
from oes.exchange.v1 import exchange_pb2
from service_kit.errors import invalid_argument
from service_kit.money import AssetScales
from service_kit.statement_messages import message_from_content
from service_kit.timestamps import to_timestamp

EnumT = TypeVar("EnumT")

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
TIMES_IN_FORCE_FROM_PROTO = {
    exchange_pb2.TIME_IN_FORCE_GOOD_TILL_CANCELLED: TimeInForce.GOOD_TILL_CANCELLED,
    exchange_pb2.TIME_IN_FORCE_IMMEDIATE_OR_CANCEL: TimeInForce.IMMEDIATE_OR_CANCEL,
    exchange_pb2.TIME_IN_FORCE_FILL_OR_KILL: TimeInForce.FILL_OR_KILL,
}
TIMES_IN_FORCE_TO_PROTO = {value: proto for proto, value in TIMES_IN_FORCE_FROM_PROTO.items()}
SELF_TRADE_PREVENTIONS_FROM_PROTO = {
    exchange_pb2.SELF_TRADE_PREVENTION_UNSPECIFIED: SelfTradePrevention.CANCEL_TAKER,
    exchange_pb2.SELF_TRADE_PREVENTION_CANCEL_TAKER: SelfTradePrevention.CANCEL_TAKER,
    exchange_pb2.SELF_TRADE_PREVENTION_CANCEL_MAKER: SelfTradePrevention.CANCEL_MAKER,
    exchange_pb2.SELF_TRADE_PREVENTION_CANCEL_BOTH: SelfTradePrevention.CANCEL_BOTH,
}
SELF_TRADE_PREVENTIONS_TO_PROTO = {
    SelfTradePrevention.CANCEL_TAKER: exchange_pb2.SELF_TRADE_PREVENTION_CANCEL_TAKER,
    SelfTradePrevention.CANCEL_MAKER: exchange_pb2.SELF_TRADE_PREVENTION_CANCEL_MAKER,
    SelfTradePrevention.CANCEL_BOTH: exchange_pb2.SELF_TRADE_PREVENTION_CANCEL_BOTH,
}
CUSTODY_MODELS_TO_PROTO = {
    CustodyModel.OES: exchange_pb2.CUSTODY_MODEL_OES,
    CustodyModel.TRADITIONAL: exchange_pb2.CUSTODY_MODEL_TRADITIONAL,
}
VENUE_STATES_FROM_PROTO = {proto: state for state, proto in VENUE_STATES_TO_PROTO.items()}
STATEMENT_FAULT_KINDS_FROM_PROTO = {
    exchange_pb2.STATEMENT_FAULT_KIND_OVER_CLAIM: StatementFaultKind.OVER_CLAIM,
    exchange_pb2.STATEMENT_FAULT_KIND_FLIPPED_SIGN: StatementFaultKind.FLIPPED_SIGN,
    exchange_pb2.STATEMENT_FAULT_KIND_TRADE_COUNTED_TWICE: StatementFaultKind.TRADE_COUNTED_TWICE,
    exchange_pb2.STATEMENT_FAULT_KIND_WRONG_KEY: StatementFaultKind.WRONG_KEY,
    exchange_pb2.STATEMENT_FAULT_KIND_OVERLAPPING_CUTOFF: StatementFaultKind.OVERLAPPING_CUTOFF,
}
STATEMENT_FAULT_KINDS_TO_PROTO = {kind: proto for proto, kind in STATEMENT_FAULT_KINDS_FROM_PROTO.items()}
STATEMENT_STATES_TO_PROTO = {
    StatementState.ISSUED: exchange_pb2.STATEMENT_STATE_ISSUED,
    StatementState.CONFIRMED: exchange_pb2.STATEMENT_STATE_CONFIRMED,
    StatementState.VOIDED: exchange_pb2.STATEMENT_STATE_VOIDED,
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


def parse_enum(value: int, table: Mapping[Any, EnumT], field_name: str, reason: str) -> EnumT:
    """The domain value of a proto enum value, or INVALID_ARGUMENT naming the accepted values."""
    parsed = table.get(value)
    if parsed is None:
        accepted = ", ".join(sorted(str(getattr(item, "name", item)) for item in set(table.values())))
        raise invalid_argument(reason, field_name, f"must be one of {accepted}")
    return parsed


def market_message(view: MarketView) -> exchange_pb2.Market:
    """A market as listed to clients, with its reference price now."""
    market = view.market
    return exchange_pb2.Market(
        name=market.name,
        base_asset=market.base_asset,
        quote_asset=market.quote_asset,
        tick_size=market.format_price(market.tick_units),
        lot_size=market.format_quantity(market.lot_units),
        maker_fee_bps=market.maker_fee_bps,
        taker_fee_bps=market.taker_fee_bps,
        reference_price=market.format_price(view.reference_price_units),
        min_notional=market.format_price(market.min_notional_units),
    )


def venue_message(view: VenueView) -> exchange_pb2.GetVenueResponse:
    """The venue's identity and state."""
    return exchange_pb2.GetVenueResponse(
        exchange=view.exchange,
        state=VENUE_STATES_TO_PROTO[view.state],
        statement_public_key=view.statement_public_key,
        last_statement=view.last_statement,
        state_time=to_timestamp(view.state_time_ms),
        recovery_rate_bps=view.recovery_rate_bps,
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
        client_order_id=view.client_order_id,
        time_in_force=TIMES_IN_FORCE_TO_PROTO[view.time_in_force],
        post_only=view.post_only,
        protection_price=""
        if view.protection_price_units is None
        else market.format_price(view.protection_price_units),
        cancel_reason=view.cancel_reason,
        fee=market.format_price(view.fee_units),
        self_trade_prevention=SELF_TRADE_PREVENTIONS_TO_PROTO[view.self_trade_prevention],
    )


def account_trade_message(trade: Trade, account: str, market: Market) -> exchange_pb2.AccountTrade:
    """A trade from one account's side."""
    is_buyer = trade.buyer_account == account
    order_number = trade.buy_order_number if is_buyer else trade.sell_order_number
    return exchange_pb2.AccountTrade(
        trade_sequence=trade.sequence,
        market=trade.market,
        order=f"orders/{order_number}",
        side=exchange_pb2.SIDE_BUY if is_buyer else exchange_pb2.SIDE_SELL,
        price=market.format_price(trade.price_units),
        quantity=market.format_quantity(trade.quantity_units),
        fee=market.format_price(trade.buyer_fee_units if is_buyer else trade.seller_fee_units),
        maker=trade.maker_order_number == order_number,
        trade_time=to_timestamp(trade.trade_time_ms),
    )


def account_message(view: AccountView, assets: AssetScales) -> exchange_pb2.GetBalancesResponse:
    """An account's balances, custody model and claims."""
    traditional = view.custody_model is CustodyModel.TRADITIONAL
    return exchange_pb2.GetBalancesResponse(
        account=view.account,
        balances=[balance_message(balance, assets, traditional=traditional) for balance in view.balances],
        custody_model=CUSTODY_MODELS_TO_PROTO[view.custody_model],
        claims=[claim_message(claim, assets) for claim in view.claims],
        frozen=view.frozen,
    )


def claim_message(claim: EstateClaim, assets: AssetScales) -> exchange_pb2.EstateClaim:
    """A claim on the estate."""
    return exchange_pb2.EstateClaim(
        account=claim.account,
        asset=claim.asset,
        amount=assets.format(claim.asset, claim.amount_units),
        recovery_rate_bps=claim.recovery_rate_bps,
        recovered=assets.format(claim.asset, claim.recovered_units),
    )


def market_data_message(event: MarketDataEvent, market: Market) -> exchange_pb2.StreamMarketDataResponse:
    """One market data event for the stream."""
    message = exchange_pb2.StreamMarketDataResponse(
        market=event.market, sequence=event.sequence, event_time=to_timestamp(event.time_ms)
    )
    if event.trade is not None:
        trade = event.trade
        message.trade.CopyFrom(
            exchange_pb2.MarketTrade(
                trade_sequence=trade.sequence,
                price=market.format_price(trade.price_units),
                quantity=market.format_quantity(trade.quantity_units),
                taker_side=exchange_pb2.SIDE_SELL
                if trade.maker_order_number == trade.buy_order_number
                else exchange_pb2.SIDE_BUY,
            )
        )
    elif event.ticker is not None:
        ticker = event.ticker

        def price(units: int | None) -> str:
            return "" if units is None else market.format_price(units)

        message.ticker.CopyFrom(
            exchange_pb2.Ticker(
                best_bid=price(ticker.best_bid_units),
                best_ask=price(ticker.best_ask_units),
                last_price=price(ticker.last_price_units),
                reference_price=market.format_price(ticker.reference_price_units),
            )
        )
    else:
        message.book_update.CopyFrom(
            exchange_pb2.BookUpdate(
                levels=[
                    exchange_pb2.BookLevelUpdate(
                        side=SIDES_TO_PROTO[level.side],
                        price=market.format_price(level.price_units),
                        quantity=market.format_quantity(level.quantity_units),
                        order_count=level.order_count,
                    )
                    for level in event.levels
                ]
            )
        )
    return message


def balance_message(
    view: BalanceView, assets: AssetScales, *, traditional: bool = False
) -> exchange_pb2.AccountBalance:
    """One asset of an account: OES fields, or `deposited` (with held and available) for a traditional one."""
    asset = view.asset
    if traditional:
        return exchange_pb2.AccountBalance(
            asset=asset,
            held=assets.format(asset, view.held_units),
            available=assets.format(asset, view.available_units),
            deposited=assets.format(asset, view.mirror_units + view.unsettled_units),
        )
    return exchange_pb2.AccountBalance(
        asset=asset,
        mirror=assets.format(asset, view.mirror_units),
        unsettled=assets.format(asset, view.unsettled_units),
        held=assets.format(asset, view.held_units),
        available=assets.format(asset, view.available_units),
        pending_credit=assets.format(asset, view.pending_credit_units),
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
