"""Properties of matching on random order flow: priority, conservation, fees, holds, refusals."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import event, given, settings
from hypothesis import strategies as st

from exchange_sim.domain.orders import Order, OrderState, OrderType, Side, Trade
from exchange_sim.domain.venue import Venue
from service_kit.errors import ServiceError
from tests.unit.exchange_sim.venues import (
    BTC,
    USDT,
    balance_snapshot,
    book_snapshot,
    check_balances,
    check_not_crossed,
    fund,
    new_venue,
    order_fee_exact,
)

CLIENTS = ("alice", "bob", "carol")
REFERENCE_UNITS = 60_000 * USDT
LOT_UNITS = 10_000


@dataclass(frozen=True)
class Place:
    """Place an order: prices on a coarse grid around the reference so levels collide."""

    client: str
    side: Side
    order_type: OrderType
    price_steps: int
    quantity_units: int


@dataclass(frozen=True)
class Cancel:
    """Cancel one of the orders placed so far (by position, modulo how many there are)."""

    position: int


place_actions = st.builds(
    Place,
    client=st.sampled_from(CLIENTS),
    side=st.sampled_from(Side),
    order_type=st.sampled_from([OrderType.LIMIT, OrderType.LIMIT, OrderType.LIMIT, OrderType.MARKET]),
    price_steps=st.integers(-13, 13),
    quantity_units=st.one_of(
        st.integers(1, 30).map(lambda twentieths: twentieths * BTC // 20),
        st.integers(1, 40).map(lambda lots: lots * LOT_UNITS),
    ),
)
actions = st.lists(st.one_of(place_actions, st.builds(Cancel, st.integers(0, 1000))), min_size=5, max_size=50)


def expected_fills(
    venue: Venue, side: Side, limit_units: int | None, quantity_units: int
) -> list[tuple[int, int, int]]:
    """A naive model of price-time priority: (maker number, price, quantity) the order should take."""
    resting = [order for order in venue.resting_orders() if order.side is not side]
    if side is Side.BUY:
        resting.sort(key=lambda order: (order.price_units, order.number))
    else:
        resting.sort(key=lambda order: (-(order.price_units or 0), order.number))
    fills = []
    remaining = quantity_units
    for order in resting:
        assert order.price_units is not None
        crosses = limit_units is None or (
            order.price_units <= limit_units if side is Side.BUY else order.price_units >= limit_units
        )
        if not remaining or not crosses:
            break
        take = min(remaining, order.remaining_units)
        fills.append((order.number, order.price_units, take))
        remaining -= take
    return fills


def run(venue: Venue, steps: list[Place | Cancel]) -> tuple[list[Order], list[Trade]]:
    """Applies the steps, checking the invariants after every one; returns client orders and trades."""
    client_orders: list[Order] = []
    trades: list[Trade] = []
    for now_ms, step in enumerate(steps, start=1):
        balances_before, book_before = balance_snapshot(venue), book_snapshot(venue)
        if isinstance(step, Cancel):
            open_orders = [order for order in client_orders if order.state is OrderState.OPEN]
            if open_orders:
                venue.cancel_order(open_orders[step.position % len(open_orders)], now_ms)
        else:
            limit_units = (
                REFERENCE_UNITS + step.price_steps * 10 * USDT if step.order_type is OrderType.LIMIT else None
            )
            expected = expected_fills(venue, step.side, limit_units, step.quantity_units)
            try:
                order = venue.place_order(
                    f"clients/{step.client}",
                    "BTC-USDT",
                    step.side,
                    step.order_type,
                    limit_units,
                    step.quantity_units,
                    now_ms,
                )
            except ServiceError as error:
                assert error.reason == "INSUFFICIENT_BALANCE"
                event("an order was refused")
                assert venue.changes.is_empty()
                assert balance_snapshot(venue) == balances_before
                assert book_snapshot(venue) == book_before
                continue
            client_orders.append(order)
            new_trades = list(venue.changes.trades)
            if len(new_trades) > 1:
                event("an order swept several makers")
            if any(
                trade.buyer_account != trade.seller_account
                and "clients" in trade.seller_account
                and "clients" in trade.buyer_account
                for trade in new_trades
            ):
                event("two clients traded")
            assert [
                (trade.maker_order_number, trade.price_units, trade.quantity_units) for trade in new_trades
            ] == (expected)
            for trade in new_trades:
                taker_number = trade.buy_order_number + trade.sell_order_number - trade.maker_order_number
                assert taker_number == order.number, "the house never takes"
        trades.extend(venue.changes.trades)
        venue.changes.clear()
        check_invariants(venue, client_orders, trades)
    return client_orders, trades


def check_invariants(venue: Venue, client_orders: list[Order], trades: list[Trade]) -> None:
    check_not_crossed(venue)
    check_balances(venue)
    sequences = [trade.sequence for trade in trades]
    assert sequences == list(range(1, len(trades) + 1)), "trade sequences run from 1 without gaps"
    resting_units = {order.number: order.remaining_units for order in venue.resting_orders()}
    for order in client_orders:
        filled_units = sum(
            trade.quantity_units
            for trade in trades
            if order.number in (trade.buy_order_number, trade.sell_order_number)
        )
        cancelled_units = order.remaining_units if order.state is OrderState.CANCELLED else 0
        assert filled_units == order.filled_units
        assert filled_units + resting_units.get(order.number, 0) + cancelled_units == order.quantity_units
        assert (order.state is OrderState.OPEN) == (order.number in resting_units)
        assert order.state is not OrderState.FILLED or order.filled_units == order.quantity_units
        assert order.fee_units == order_fee_exact(venue, order, trades)
        assert 0 <= order.fee_credit < 10_000
    market = venue.market
    for account in venue.accounts:
        base_units = quote_units = 0
        for trade in trades:
            notional_units = market.notional_units(trade.price_units, trade.quantity_units)
            if trade.buyer_account == account.name:
                base_units += trade.quantity_units
                quote_units -= notional_units + trade.buyer_fee_units
            if trade.seller_account == account.name:
                base_units -= trade.quantity_units
                quote_units += notional_units - trade.seller_fee_units
        assert account.balance("BTC").unsettled_units == base_units
        assert account.balance("USDT").unsettled_units == quote_units


def funded(market_maker: bool, btc_units: int = 3 * BTC // 2, usdt_units: int = 100_000 * USDT) -> Venue:
    venue = new_venue(market_maker=market_maker)
    for client in CLIENTS:
        fund(venue, client, btc_units=btc_units, usdt_units=usdt_units)
    venue.changes.clear()
    return venue


@settings(max_examples=200, deadline=None)
@given(steps=actions, market_maker=st.booleans())
def test_random_order_flow_keeps_every_invariant(steps: list[Place | Cancel], market_maker: bool) -> None:
    run(funded(market_maker), steps)


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(place_actions, min_size=1, max_size=30))
def test_fees_of_every_trade_add_up_to_the_order_fee(steps: list[Place | Cancel]) -> None:
    client_orders, trades = run(funded(True), steps)
    for order in client_orders:
        charged_units = sum(
            trade.buyer_fee_units if trade.buy_order_number == order.number else trade.seller_fee_units
            for trade in trades
            if order.number in (trade.buy_order_number, trade.sell_order_number)
        )
        assert charged_units == order.fee_units


def test_a_level_keeps_arrival_order() -> None:
    venue = funded(False, btc_units=10 * BTC, usdt_units=1_000_000 * USDT)
    first = venue.place_order(
        "clients/alice", "BTC-USDT", Side.SELL, OrderType.LIMIT, REFERENCE_UNITS, BTC, 1
    )
    second = venue.place_order("clients/bob", "BTC-USDT", Side.SELL, OrderType.LIMIT, REFERENCE_UNITS, BTC, 2)
    better = venue.place_order(
        "clients/carol", "BTC-USDT", Side.SELL, OrderType.LIMIT, REFERENCE_UNITS - 10 * USDT, BTC // 2, 3
    )
    venue.changes.clear()

    venue.place_order("clients/carol", "BTC-USDT", Side.BUY, OrderType.MARKET, None, 2 * BTC, 4)

    fills = [(trade.maker_order_number, trade.quantity_units) for trade in venue.changes.trades]
    assert fills == [(better.number, BTC // 2), (first.number, BTC), (second.number, BTC // 2)]
    assert second.state is OrderState.OPEN and second.remaining_units == BTC // 2
