"""Properties of matching on random order flow: priority, conservation, fees, holds, refusals, order types."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from fractions import Fraction

import pytest
from hypothesis import currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from exchange_sim.domain.market import BASIS_POINTS_PER_WHOLE
from exchange_sim.domain.orders import (
    CancelReason,
    Order,
    OrderState,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
    Trade,
)
from exchange_sim.domain.venue import MARKET_PROTECTION_BPS_DEFAULT, Venue
from service_kit.errors import ServiceError
from tests.unit.exchange_sim.venues import (
    BTC,
    MARKET,
    USDT,
    balance_snapshot,
    book_snapshot,
    check_balances,
    check_not_crossed,
    fund,
    order_fee_exact,
)
from tests.unit.exchange_sim.venues import settings as venue_settings

CLIENTS = ("alice", "bob", "carol")
REFERENCE_UNITS = 60_000 * USDT
PRICE_STEP_UNITS = 10 * USDT
LOT_UNITS = 10_000

BookEntry = tuple[int, str, int | None, int, int]


@dataclass(frozen=True)
class Place:
    """Place an order: prices on a coarse grid around the reference so levels collide.

    `time_in_force` is drawn for market orders too: the venue must treat them as immediate
    whatever the caller passed. `protection_steps` (market orders only) is an explicit
    protection price on the same grid; None lets the venue derive it from the book.
    """

    client: str
    side: Side
    order_type: OrderType
    price_steps: int
    quantity_units: int
    time_in_force: TimeInForce = TimeInForce.GOOD_TILL_CANCELLED
    post_only: bool = False
    self_trade_prevention: SelfTradePrevention = SelfTradePrevention.CANCEL_TAKER
    protection_steps: int | None = None


@dataclass(frozen=True)
class Cancel:
    """Cancel one of the orders placed so far (by position, modulo how many there are)."""

    position: int


@st.composite
def place_actions(draw: st.DrawFn) -> Place:
    """A limit order three times in four, with every time in force, post-only and self-trade rule."""
    order_type = draw(st.sampled_from([OrderType.LIMIT, OrderType.LIMIT, OrderType.LIMIT, OrderType.MARKET]))
    time_in_force = draw(
        st.sampled_from(
            [
                TimeInForce.GOOD_TILL_CANCELLED,
                TimeInForce.GOOD_TILL_CANCELLED,
                TimeInForce.IMMEDIATE_OR_CANCEL,
                TimeInForce.FILL_OR_KILL,
            ]
        )
    )
    is_limit = order_type is OrderType.LIMIT
    post_only = (
        is_limit
        and time_in_force is TimeInForce.GOOD_TILL_CANCELLED
        and draw(st.sampled_from([False, False, True]))
    )
    return Place(
        client=draw(st.sampled_from(CLIENTS)),
        side=draw(st.sampled_from(Side)),
        order_type=order_type,
        price_steps=draw(st.integers(-13, 13)),
        quantity_units=draw(
            st.one_of(
                st.integers(1, 30).map(lambda twentieths: twentieths * BTC // 20),
                st.integers(1, 40).map(lambda lots: lots * LOT_UNITS),
            )
        ),
        time_in_force=time_in_force,
        post_only=post_only,
        self_trade_prevention=draw(st.sampled_from(SelfTradePrevention)),
        protection_steps=None if is_limit else draw(st.one_of(st.none(), st.integers(-25, 25))),
    )


actions = st.lists(
    st.one_of(place_actions(), st.builds(Cancel, st.integers(0, 1000))), min_size=15, max_size=50
)


@dataclass
class Expected:
    """What a naive reading of the rules says one placement does."""

    required_units: int
    protection_price_units: int | None = None
    # (maker number, price, quantity) in execution order.
    fills: list[tuple[int, int, int]] = field(default_factory=list)
    # Resting orders of the taker's own account that self-trade prevention takes off the book.
    cancelled_makers: list[int] = field(default_factory=list)
    state: OrderState = OrderState.OPEN
    cancel_reason: str = ""


def account_name(client: str) -> str:
    """The venue account of a test client."""
    return f"clients/{client}"


def grid_price(steps: int) -> int:
    """A price `steps` grid steps away from the reference."""
    return REFERENCE_UNITS + steps * PRICE_STEP_UNITS


def derived_protection_units(venue: Venue, side: Side, best_opposite_units: int) -> int:
    """The best opposite price moved by the band, to the tick, away from the taker; at least one tick."""
    tick_units = venue.markets[MARKET].tick_units
    band = Fraction(venue.settings.market_protection_bps, BASIS_POINTS_PER_WHOLE)
    if side is Side.BUY:
        return math.floor(best_opposite_units * (1 + band) / tick_units) * tick_units
    return max(tick_units, math.ceil(best_opposite_units * (1 - band) / tick_units) * tick_units)


def expected_outcome(venue: Venue, step: Place) -> Expected:
    """A naive model of the matching rules, read off the book before the order arrives.

    Price-time priority over the opposite side; the limit is the order's price or, for a
    market order, its protection price; the pre-trade check; post-only, fill-or-kill and the
    self-trade rule; and the state and cancel reason every order ends in.
    """
    market = venue.markets[MARKET]
    account = account_name(step.client)
    is_buy = step.side is Side.BUY
    opposite = [order for order in venue.resting_orders() if order.side is not step.side]
    if is_buy:
        opposite.sort(key=lambda order: (order.price_units or 0, order.number))
    else:
        opposite.sort(key=lambda order: (-(order.price_units or 0), order.number))
    if step.order_type is OrderType.LIMIT:
        limit_units: int | None = grid_price(step.price_steps)
        protection_units = None
    elif step.protection_steps is not None:
        limit_units = protection_units = grid_price(step.protection_steps)
    elif opposite:
        assert opposite[0].price_units is not None
        limit_units = protection_units = derived_protection_units(venue, step.side, opposite[0].price_units)
    else:
        limit_units = protection_units = None

    def crosses(order: Order) -> bool:
        assert order.price_units is not None
        if limit_units is None:
            return False
        return order.price_units <= limit_units if is_buy else order.price_units >= limit_units

    crossing = [order for order in opposite if crosses(order)]

    # Walk the crossing orders best first, never trading with the taker's own account.
    fills: list[tuple[int, int, int]] = []
    cancelled_makers: list[int] = []
    remaining_units = step.quantity_units
    prevented = False
    prevention = step.self_trade_prevention
    for order in crossing:
        if not remaining_units:
            break
        if order.account == account:
            if prevention is not SelfTradePrevention.CANCEL_TAKER:
                cancelled_makers.append(order.number)
            if prevention is not SelfTradePrevention.CANCEL_MAKER:
                prevented = True
                break
            continue
        take_units = min(remaining_units, order.remaining_units)
        assert order.price_units is not None
        fills.append((order.number, order.price_units, take_units))
        remaining_units -= take_units

    # The pre-trade check: a limit buy needs its notional at its price plus the larger fee, a
    # market buy what that walk would cost plus the taker fee, a sell its quantity.
    if not is_buy:
        required_units = step.quantity_units
    elif step.order_type is OrderType.LIMIT:
        assert limit_units is not None
        notional_units = market.notional_units(limit_units, step.quantity_units)
        required_units = notional_units + -(-notional_units * market.fee_bps_max // BASIS_POINTS_PER_WHOLE)
    else:
        notional_units = sum(market.notional_units(price_units, units) for _, price_units, units in fills)
        required_units = notional_units + -(-notional_units * market.taker_fee_bps // BASIS_POINTS_PER_WHOLE)
    expected = Expected(required_units, protection_units)
    cancelled = OrderState.CANCELLED

    if step.post_only and crossing:
        # Post-only looks at prices only: an own order in the way counts too.
        expected.state, expected.cancel_reason = cancelled, CancelReason.POST_ONLY_WOULD_TAKE
        return expected
    if (
        step.order_type is OrderType.LIMIT
        and step.time_in_force is TimeInForce.FILL_OR_KILL
        and remaining_units
    ):
        # All or nothing: the walk (up to an own order, or past own ones with CANCEL_MAKER)
        # does not fill it, so nothing happens, not even a cancelled maker.
        expected.state, expected.cancel_reason = cancelled, CancelReason.FILL_OR_KILL_NOT_FILLABLE
        return expected
    expected.fills, expected.cancelled_makers = fills, cancelled_makers
    if not remaining_units:
        expected.state = OrderState.FILLED
    elif prevented:
        expected.state, expected.cancel_reason = cancelled, CancelReason.SELF_TRADE_PREVENTED
    elif step.order_type is OrderType.LIMIT:
        if step.time_in_force is not TimeInForce.GOOD_TILL_CANCELLED:
            expected.state, expected.cancel_reason = cancelled, CancelReason.IMMEDIATE_OR_CANCEL_REMAINDER
    else:
        taken_units = {number: units for number, _, units in fills}
        still_resting = any(
            order.remaining_units > taken_units.get(order.number, 0)
            for order in opposite
            if order.number not in cancelled_makers
        )
        expected.state = cancelled
        expected.cancel_reason = (
            CancelReason.PROTECTION_PRICE_REACHED if still_resting else CancelReason.MARKET_REMAINDER
        )
    return expected


def expected_book(
    book_before: list[BookEntry], expected: Expected, order: Order, filled_units: int
) -> list[BookEntry]:
    """The book the model predicts for every order up to the new one (house top-ups come later)."""
    taken_units = {number: units for number, _, units in expected.fills}
    book: list[BookEntry] = []
    for number, side, price_units, quantity_units, filled_before_units in book_before:
        filled_after_units = filled_before_units + taken_units.get(number, 0)
        if number in expected.cancelled_makers or filled_after_units == quantity_units:
            continue
        book.append((number, side, price_units, quantity_units, filled_after_units))
    if expected.state is OrderState.OPEN:
        book.append((order.number, order.side.value, order.price_units, order.quantity_units, filled_units))
    return sorted(book)


def note(label: str) -> None:
    """Labels an outcome for hypothesis statistics (the plain example tests share `run`)."""
    if currently_in_test_context():
        event(label)


def note_outcome(step: Place, expected: Expected, new_trades: list[Trade]) -> None:
    """Labels the interesting outcomes so the statistics show that each one happens."""
    if step.order_type is OrderType.LIMIT and step.time_in_force is TimeInForce.FILL_OR_KILL:
        note("FOK filled" if expected.state is OrderState.FILLED else "FOK killed")
    if step.post_only:
        note("post-only cancelled" if expected.cancel_reason else "post-only rested")
    if expected.cancel_reason == CancelReason.IMMEDIATE_OR_CANCEL_REMAINDER:
        note("IOC remainder cancelled")
    if expected.cancel_reason == CancelReason.SELF_TRADE_PREVENTED:
        note(f"self-trade prevented, taker cancelled ({step.self_trade_prevention.value})")
    if expected.cancelled_makers:
        note(f"self-trade prevented, maker cancelled ({step.self_trade_prevention.value})")
    if expected.cancel_reason == CancelReason.PROTECTION_PRICE_REACHED:
        note("protection price reached" + (" (explicit)" if step.protection_steps is not None else " (band)"))
    if expected.cancel_reason == CancelReason.MARKET_REMAINDER:
        note("market order remainder with an empty opposite side")
    if len(new_trades) > 1:
        note("an order swept several makers")
    if any(
        trade.buyer_account.startswith("clients/") and trade.seller_account.startswith("clients/")
        for trade in new_trades
    ):
        note("two clients traded")


def place(
    venue: Venue, step: Place, now_ms: int, expected_states: dict[int, tuple[OrderState, str]]
) -> Order | None:
    """Places one order and checks it against the model; None when the venue refused it."""
    balances_before, book_before = balance_snapshot(venue), book_snapshot(venue)
    expected = expected_outcome(venue, step)
    is_limit = step.order_type is OrderType.LIMIT
    checked_asset = "USDT" if step.side is Side.BUY else "BTC"
    account = venue.accounts.by_name(account_name(step.client))
    available_units = account.available_units(checked_asset)
    try:
        order = venue.place_order(
            account_name(step.client),
            MARKET,
            step.side,
            step.order_type,
            grid_price(step.price_steps) if is_limit else None,
            step.quantity_units,
            now_ms,
            time_in_force=step.time_in_force,
            post_only=step.post_only,
            protection_price_units=(
                None if step.protection_steps is None else grid_price(step.protection_steps)
            ),
            self_trade_prevention=step.self_trade_prevention,
        )
    except ServiceError as error:
        assert error.reason == "INSUFFICIENT_BALANCE"
        assert available_units < expected.required_units, "refused although the balance covers it"
        note("an order was refused")
        assert venue.changes.is_empty()
        assert balance_snapshot(venue) == balances_before
        assert book_snapshot(venue) == book_before
        return None
    assert available_units >= expected.required_units, "accepted although the balance does not cover it"
    new_trades = list(venue.changes.trades)
    note_outcome(step, expected, new_trades)
    assert [
        (trade.maker_order_number, trade.price_units, trade.quantity_units) for trade in new_trades
    ] == expected.fills
    assert (order.state, order.cancel_reason) == (expected.state, expected.cancel_reason)
    if not is_limit:
        assert order.time_in_force is TimeInForce.IMMEDIATE_OR_CANCEL, "market orders are immediate"
        assert order.protection_price_units == expected.protection_price_units
    for trade in new_trades:
        taker_number = trade.buy_order_number + trade.sell_order_number - trade.maker_order_number
        assert taker_number == order.number, "the house never takes"
        assert trade.buyer_account != trade.seller_account, "a self-trade happened"
    # Orders that existed before are exactly as the model says; house top-ups come after.
    assert [entry for entry in book_snapshot(venue) if entry[0] <= order.number] == expected_book(
        book_before, expected, order, order.filled_units
    )
    expected_states[order.number] = (expected.state, expected.cancel_reason)
    for number in expected.cancelled_makers:
        assert number in expected_states, "only client orders can be the taker's own"
        expected_states[number] = (OrderState.CANCELLED, CancelReason.SELF_TRADE_PREVENTED)
    remaining_before = {entry[0]: entry[3] - entry[4] for entry in book_before}
    for number, _, units in expected.fills:
        if number in expected_states and remaining_before[number] == units:
            expected_states[number] = (OrderState.FILLED, "")
    return order


def run(venue: Venue, steps: list[Place | Cancel]) -> tuple[list[Order], list[Trade]]:
    """Applies the steps, checking the invariants after every one; returns client orders and trades."""
    client_orders: list[Order] = []
    trades: list[Trade] = []
    # The (state, cancel reason) the rules give each client order so far.
    expected_states: dict[int, tuple[OrderState, str]] = {}
    for now_ms, step in enumerate(steps, start=1):
        if isinstance(step, Cancel):
            open_orders = [order for order in client_orders if order.state is OrderState.OPEN]
            if open_orders:
                cancelled = venue.cancel_order(open_orders[step.position % len(open_orders)], now_ms)
                expected_states[cancelled.number] = (OrderState.CANCELLED, CancelReason.CANCELLED_BY_CLIENT)
        else:
            order = place(venue, step, now_ms, expected_states)
            if order is not None:
                client_orders.append(order)
        trades.extend(venue.changes.trades)
        venue.clear_changes()
        check_invariants(venue, client_orders, trades, expected_states)
    return client_orders, trades


def check_invariants(
    venue: Venue,
    client_orders: list[Order],
    trades: list[Trade],
    expected_states: dict[int, tuple[OrderState, str]],
) -> None:
    check_not_crossed(venue)
    check_balances(venue)
    sequences = [trade.sequence for trade in trades]
    assert sequences == list(range(1, len(trades) + 1)), "trade sequences run from 1 without gaps"
    assert all(trade.buyer_account != trade.seller_account for trade in trades), "a self-trade happened"
    resting_units = {order.number: order.remaining_units for order in venue.resting_orders()}
    for order in client_orders:
        filled_units = sum(
            trade.quantity_units
            for trade in trades
            if order.number in (trade.buy_order_number, trade.sell_order_number)
        )
        cancelled_units = order.remaining_units if order.state is OrderState.CANCELLED else 0
        assert (order.state, order.cancel_reason) == expected_states[order.number], order
        assert filled_units == order.filled_units
        assert filled_units + resting_units.get(order.number, 0) + cancelled_units == order.quantity_units
        assert (order.state is OrderState.OPEN) == (order.number in resting_units)
        assert order.state is not OrderState.FILLED or order.filled_units == order.quantity_units
        assert order.state is OrderState.OPEN or order.held_units == 0, "a finished order still holds"
        assert order.fee_units == order_fee_exact(venue, order, trades)
        assert 0 <= order.fee_credit < 10_000
    market = venue.markets[MARKET]
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


def funded(
    market_maker: bool,
    btc_units: int = 3 * BTC // 2,
    usdt_units: int = 100_000 * USDT,
    protection_bps: int = MARKET_PROTECTION_BPS_DEFAULT,
) -> Venue:
    """A venue whose clients are funded; a narrow protection band lets market orders reach it."""
    venue_settings_narrowed = dataclasses.replace(
        venue_settings(market_maker=market_maker), market_protection_bps=protection_bps
    )
    venue = Venue(venue_settings_narrowed)
    venue.restore_ladder(0)
    for client in CLIENTS:
        fund(venue, client, btc_units=btc_units, usdt_units=usdt_units)
    venue.clear_changes()
    return venue


@settings(max_examples=200, deadline=None)
@given(steps=actions, market_maker=st.booleans(), protection_bps=st.sampled_from([500, 5]))
def test_random_order_flow_keeps_every_invariant(
    steps: list[Place | Cancel], market_maker: bool, protection_bps: int
) -> None:
    # 5 bps of 60 000 is 30 USDT: one house level, so the band itself stops market orders.
    run(funded(market_maker, protection_bps=protection_bps), steps)


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(place_actions(), min_size=1, max_size=30))
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
    # The taker rests nothing, so self-trade prevention plays no part.
    fund(venue, "dave", usdt_units=1_000_000 * USDT)
    first = venue.place_order("clients/alice", MARKET, Side.SELL, OrderType.LIMIT, REFERENCE_UNITS, BTC, 1)
    second = venue.place_order("clients/bob", MARKET, Side.SELL, OrderType.LIMIT, REFERENCE_UNITS, BTC, 2)
    better = venue.place_order(
        "clients/carol", MARKET, Side.SELL, OrderType.LIMIT, REFERENCE_UNITS - 10 * USDT, BTC // 2, 3
    )
    venue.clear_changes()

    taker = venue.place_order("clients/dave", MARKET, Side.BUY, OrderType.MARKET, None, 2 * BTC, 4)

    fills = [(trade.maker_order_number, trade.quantity_units) for trade in venue.changes.trades]
    assert fills == [(better.number, BTC // 2), (first.number, BTC), (second.number, BTC // 2)]
    assert taker.state is OrderState.FILLED
    assert second.state is OrderState.OPEN and second.remaining_units == BTC // 2


HALF = BTC // 2
GTC = TimeInForce.GOOD_TILL_CANCELLED
IOC = TimeInForce.IMMEDIATE_OR_CANCEL
FOK = TimeInForce.FILL_OR_KILL
OPEN = (OrderState.OPEN, "")
FILLED = (OrderState.FILLED, "")
BY_SELF_TRADE = (OrderState.CANCELLED, CancelReason.SELF_TRADE_PREVENTED)


def limit(
    client: str,
    side: Side,
    price_steps: int,
    quantity_units: int,
    time_in_force: TimeInForce = GTC,
    prevention: SelfTradePrevention = SelfTradePrevention.CANCEL_TAKER,
    post_only: bool = False,
) -> Place:
    """A limit order for the small books below."""
    return Place(
        client, side, OrderType.LIMIT, price_steps, quantity_units, time_in_force, post_only, prevention
    )


def market(
    client: str,
    side: Side,
    quantity_units: int,
    prevention: SelfTradePrevention = SelfTradePrevention.CANCEL_TAKER,
    protection_steps: int | None = None,
) -> Place:
    """A market order for the small books below."""
    return Place(client, side, OrderType.MARKET, 0, quantity_units, GTC, False, prevention, protection_steps)


# Each case: the orders in arrival order, then the (state, cancel reason) each one ends in.
# `run` also checks every fill, the book and the balances against the model on the way.
SMALL_BOOK_CASES = {
    "fill-or-kill counts liquidity only up to an own order (CANCEL_TAKER)": (
        [
            limit("alice", Side.SELL, 0, HALF),
            limit("bob", Side.SELL, 1, BTC),
            limit("alice", Side.BUY, 1, BTC, FOK, SelfTradePrevention.CANCEL_TAKER),
        ],
        [OPEN, OPEN, (OrderState.CANCELLED, CancelReason.FILL_OR_KILL_NOT_FILLABLE)],
    ),
    "fill-or-kill counts liquidity only up to an own order (CANCEL_BOTH)": (
        [
            limit("alice", Side.SELL, 0, HALF),
            limit("bob", Side.SELL, 1, BTC),
            limit("alice", Side.BUY, 1, BTC, FOK, SelfTradePrevention.CANCEL_BOTH),
        ],
        [OPEN, OPEN, (OrderState.CANCELLED, CancelReason.FILL_OR_KILL_NOT_FILLABLE)],
    ),
    "fill-or-kill skips own orders with CANCEL_MAKER": (
        [
            limit("alice", Side.SELL, 0, HALF),
            limit("bob", Side.SELL, 1, BTC),
            limit("alice", Side.BUY, 1, BTC, FOK, SelfTradePrevention.CANCEL_MAKER),
        ],
        [BY_SELF_TRADE, FILLED, FILLED],
    ),
    "fill-or-kill fills across levels": (
        [
            limit("bob", Side.SELL, 0, HALF),
            limit("carol", Side.SELL, 1, HALF),
            limit("alice", Side.BUY, 1, BTC, FOK),
        ],
        [FILLED, FILLED, FILLED],
    ),
    "CANCEL_TAKER stops at the own order": (
        [
            limit("bob", Side.SELL, 0, HALF),
            limit("alice", Side.SELL, 0, HALF),
            limit("carol", Side.SELL, 1, HALF),
            limit("alice", Side.BUY, 1, 3 * HALF, IOC, SelfTradePrevention.CANCEL_TAKER),
        ],
        [FILLED, OPEN, OPEN, BY_SELF_TRADE],
    ),
    "CANCEL_MAKER cancels the own order and goes on": (
        [
            limit("bob", Side.SELL, 0, HALF),
            limit("alice", Side.SELL, 0, HALF),
            limit("carol", Side.SELL, 1, HALF),
            limit("alice", Side.BUY, 1, 3 * HALF, IOC, SelfTradePrevention.CANCEL_MAKER),
        ],
        [FILLED, BY_SELF_TRADE, FILLED, (OrderState.CANCELLED, CancelReason.IMMEDIATE_OR_CANCEL_REMAINDER)],
    ),
    "CANCEL_BOTH cancels the own order and the taker": (
        [
            limit("bob", Side.SELL, 0, HALF),
            limit("alice", Side.SELL, 0, HALF),
            limit("carol", Side.SELL, 1, HALF),
            limit("alice", Side.BUY, 1, 3 * HALF, GTC, SelfTradePrevention.CANCEL_BOTH),
        ],
        [FILLED, BY_SELF_TRADE, OPEN, BY_SELF_TRADE],
    ),
    "a GTC remainder rests after a sweep": (
        [limit("bob", Side.BUY, 0, HALF), limit("alice", Side.SELL, -1, BTC)],
        [FILLED, OPEN],
    ),
    "post-only would take, even from an own order": (
        [limit("alice", Side.SELL, 0, HALF), limit("alice", Side.BUY, 0, HALF, post_only=True)],
        [OPEN, (OrderState.CANCELLED, CancelReason.POST_ONLY_WOULD_TAKE)],
    ),
    "post-only rests when it does not cross": (
        [limit("alice", Side.SELL, 1, HALF), limit("bob", Side.BUY, 0, HALF, post_only=True)],
        [OPEN, OPEN],
    ),
    "a market order into an empty side": (
        [market("alice", Side.SELL, HALF)],
        [(OrderState.CANCELLED, CancelReason.MARKET_REMAINDER)],
    ),
    "a market order whose own orders were the whole side": (
        [
            limit("alice", Side.SELL, 0, HALF),
            market("alice", Side.BUY, BTC, SelfTradePrevention.CANCEL_MAKER),
        ],
        [BY_SELF_TRADE, (OrderState.CANCELLED, CancelReason.MARKET_REMAINDER)],
    ),
    "a market buy stops at the 5 % band": (
        # 60 000 * 1.05 = 63 000: the ask at 63 010 is out of reach.
        [
            limit("bob", Side.SELL, 0, HALF),
            limit("bob", Side.SELL, 301, HALF),
            market("alice", Side.BUY, BTC),
        ],
        [FILLED, OPEN, (OrderState.CANCELLED, CancelReason.PROTECTION_PRICE_REACHED)],
    ),
    "a market sell stops at the 5 % band": (
        # 60 000 * 0.95 = 57 000: the bid at 56 990 is out of reach.
        [
            limit("bob", Side.BUY, 0, HALF),
            limit("bob", Side.BUY, -301, HALF),
            market("alice", Side.SELL, BTC),
        ],
        [FILLED, OPEN, (OrderState.CANCELLED, CancelReason.PROTECTION_PRICE_REACHED)],
    ),
    "a market sell stops at its explicit protection price": (
        [
            limit("bob", Side.BUY, 0, HALF),
            limit("bob", Side.BUY, -2, HALF),
            market("alice", Side.SELL, BTC, protection_steps=-1),
        ],
        [FILLED, OPEN, (OrderState.CANCELLED, CancelReason.PROTECTION_PRICE_REACHED)],
    ),
    "a market buy fills through the band when the book is deep enough": (
        [
            limit("bob", Side.SELL, 0, HALF),
            limit("carol", Side.SELL, 300, HALF),
            market("alice", Side.BUY, BTC),
        ],
        [FILLED, FILLED, FILLED],
    ),
}


@pytest.mark.parametrize(("steps", "outcomes"), SMALL_BOOK_CASES.values(), ids=SMALL_BOOK_CASES.keys())
def test_order_types_on_a_small_book(
    steps: list[Place | Cancel], outcomes: list[tuple[OrderState, str]]
) -> None:
    client_orders, _ = run(funded(False), steps)
    assert [(order.state, order.cancel_reason) for order in client_orders] == outcomes


def test_a_market_buy_that_cancels_its_own_asks_is_checked_against_what_it_pays() -> None:
    venue = funded(False)
    # Enough for 1 BTC at 60 000 plus the 20 bps taker fee, not for the deeper ask at 61 000.
    fund(venue, "dave", btc_units=BTC, usdt_units=60_120 * USDT)
    venue.place_order("clients/dave", MARKET, Side.SELL, OrderType.LIMIT, REFERENCE_UNITS, BTC, 1)
    venue.place_order(
        "clients/alice", MARKET, Side.SELL, OrderType.LIMIT, REFERENCE_UNITS + 1_000 * USDT, BTC, 2
    )
    venue.clear_changes()

    with pytest.raises(ServiceError) as refusal:
        venue.place_order(
            "clients/dave",
            MARKET,
            Side.BUY,
            OrderType.MARKET,
            None,
            BTC,
            3,
            self_trade_prevention=SelfTradePrevention.CANCEL_MAKER,
        )

    assert refusal.value.reason == "INSUFFICIENT_BALANCE"
    assert venue.changes.is_empty()
    check_balances(venue)
