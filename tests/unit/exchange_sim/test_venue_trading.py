"""Trading at the venue: pre-trade checks, holds, fees, cancels and the market maker's ladder."""

from __future__ import annotations

import pytest

from exchange_sim.domain.orders import OrderState, OrderType, Side
from service_kit.errors import ErrorCode, ServiceError
from tests.unit.exchange_sim.venues import (
    BTC,
    MARKET,
    USDT,
    balance_snapshot,
    book_snapshot,
    check_balances,
    check_not_crossed,
    fund,
    new_venue,
)


def test_market_buy_of_one_btc_fills_against_the_house_with_the_taker_fee() -> None:
    venue = new_venue()
    fund(venue, "acme", usdt_units=100_000 * USDT)

    order = venue.place_order("clients/acme", MARKET, Side.BUY, OrderType.MARKET, None, BTC, 1_000)

    trades = venue.changes.trades
    assert [(trade.sequence, trade.price_units, trade.quantity_units) for trade in trades] == [
        (1, 60_030 * USDT, BTC // 2),
        (2, 60_060 * USDT, BTC // 2),
    ]
    # Notional 30 015 + 30 030 = 60 045 USDT; taker fee 20 bps = 120.09 USDT; the house pays none.
    assert [trade.buyer_fee_units for trade in trades] == [60_030_000, 60_060_000]
    assert [trade.seller_fee_units for trade in trades] == [0, 0]
    assert order.state is OrderState.FILLED and order.fee_units == 120_090_000
    account = venue.accounts.by_name("clients/acme")
    assert account.balance("BTC").unsettled_units == BTC
    assert account.balance("USDT").unsettled_units == -(60_045 * USDT + 120_090_000)
    assert account.balance("USDT").held_units == 0


def test_the_house_restores_its_ladder_after_each_order() -> None:
    venue = new_venue()
    fund(venue, "acme", usdt_units=100_000 * USDT)
    asks_before = venue.listings[MARKET].book.depth(Side.SELL, 10)

    venue.place_order("clients/acme", MARKET, Side.BUY, OrderType.MARKET, None, BTC, 1)

    assert venue.listings[MARKET].book.depth(Side.SELL, 10) == asks_before
    assert venue.last_order_number == 20 + 1 + 2, "two new house orders replaced the ones filled"


def test_house_quotes_never_cross_a_client_order_resting_through_them() -> None:
    venue = new_venue()
    fund(venue, "acme", usdt_units=200_000 * USDT)
    bid = venue.place_order("clients/acme", MARKET, Side.BUY, OrderType.LIMIT, 60_065 * USDT, 2 * BTC, 1)

    # The bid took the two house asks below its price and rests; the house does not re-quote
    # them underneath it.
    assert bid.state is OrderState.OPEN and bid.filled_units == BTC
    check_not_crossed(venue)
    assert venue.listings[MARKET].book.best_ask() == 60_090 * USDT

    venue.cancel_order(bid, 2)

    assert venue.listings[MARKET].book.best_ask() == 60_030 * USDT
    check_balances(venue)


def test_limit_buy_holds_notional_plus_fee_and_releases_it_on_cancel() -> None:
    venue = new_venue()
    fund(venue, "acme", usdt_units=100_000 * USDT)
    usdt = venue.accounts.by_name("clients/acme").balance("USDT")

    order = venue.place_order("clients/acme", MARKET, Side.BUY, OrderType.LIMIT, 50_000 * USDT, BTC, 1)

    assert usdt.held_units == 50_000 * USDT + 100 * USDT
    assert usdt.available_units == 100_000 * USDT - 50_100 * USDT
    venue.cancel_order(order, 2)
    assert usdt.held_units == 0 and order.state is OrderState.CANCELLED


def test_a_filled_limit_buy_releases_the_price_improvement() -> None:
    venue = new_venue()
    fund(venue, "acme", usdt_units=100_000 * USDT)
    usdt = venue.accounts.by_name("clients/acme").balance("USDT")

    venue.place_order("clients/acme", MARKET, Side.BUY, OrderType.LIMIT, 61_000 * USDT, BTC // 2, 1)

    assert usdt.held_units == 0
    assert usdt.unsettled_units == -(30_015 * USDT + 60_030_000)


@pytest.mark.parametrize(
    ("side", "order_type", "price_units", "quantity_units"),
    [
        (Side.BUY, OrderType.LIMIT, 60_000 * USDT, 2 * BTC),
        (Side.BUY, OrderType.MARKET, None, 2 * BTC),
        (Side.SELL, OrderType.LIMIT, 60_000 * USDT, BTC + 1 * 10_000),
        (Side.SELL, OrderType.MARKET, None, 2 * BTC),
    ],
)
def test_insufficient_balance_refuses_and_changes_nothing(
    side: Side, order_type: OrderType, price_units: int | None, quantity_units: int
) -> None:
    venue = new_venue()
    fund(venue, "acme", btc_units=BTC, usdt_units=100_000 * USDT)
    venue.changes.clear()
    balances, book, last_number = balance_snapshot(venue), book_snapshot(venue), venue.last_order_number

    with pytest.raises(ServiceError) as raised:
        venue.place_order("clients/acme", MARKET, side, order_type, price_units, quantity_units, 1)

    assert (raised.value.code, raised.value.reason) == (ErrorCode.FAILED_PRECONDITION, "INSUFFICIENT_BALANCE")
    assert (balance_snapshot(venue), book_snapshot(venue)) == (balances, book)
    assert venue.last_order_number == last_number and venue.changes.is_empty()


def test_market_buy_needs_exactly_what_it_pays() -> None:
    venue = new_venue()
    fund(venue, "exact", usdt_units=60_045 * USDT + 120_090_000)
    fund(venue, "short", usdt_units=60_045 * USDT + 120_090_000 - 1)

    venue.place_order("clients/exact", MARKET, Side.BUY, OrderType.MARKET, None, BTC, 1)
    with pytest.raises(ServiceError, match="INSUFFICIENT_BALANCE"):
        venue.place_order("clients/short", MARKET, Side.BUY, OrderType.MARKET, None, BTC, 2)

    assert venue.accounts.by_name("clients/exact").balance("USDT").available_units == 0


def test_account_without_connection_is_not_found() -> None:
    venue = new_venue()
    with pytest.raises(ServiceError) as raised:
        venue.place_order("clients/nobody", MARKET, Side.BUY, OrderType.MARKET, None, BTC, 1)
    assert (raised.value.code, raised.value.reason) == (ErrorCode.NOT_FOUND, "ACCOUNT_NOT_FOUND")


def test_unknown_market_is_invalid() -> None:
    venue = new_venue()
    fund(venue, "acme", usdt_units=USDT)
    with pytest.raises(ServiceError) as raised:
        venue.place_order("clients/acme", "ETH-USDT", Side.BUY, OrderType.MARKET, None, BTC, 1)
    assert (raised.value.code, raised.value.reason) == (ErrorCode.INVALID_ARGUMENT, "UNKNOWN_MARKET")


def test_market_order_against_an_empty_book_is_cancelled_unfilled() -> None:
    venue = new_venue(market_maker=False)
    fund(venue, "acme", btc_units=BTC)

    order = venue.place_order("clients/acme", MARKET, Side.SELL, OrderType.MARKET, None, BTC, 1)

    assert order.state is OrderState.CANCELLED and order.filled_units == 0
    assert venue.accounts.by_name("clients/acme").balance("BTC").held_units == 0


def test_maker_pays_the_maker_fee_and_seller_receives_notional_less_fee() -> None:
    venue = new_venue(market_maker=False)
    fund(venue, "seller", btc_units=BTC)
    fund(venue, "buyer", usdt_units=100_000 * USDT)
    venue.place_order("clients/seller", MARKET, Side.SELL, OrderType.LIMIT, 60_000 * USDT, BTC, 1)

    venue.place_order("clients/buyer", MARKET, Side.BUY, OrderType.MARKET, None, BTC, 2)

    (trade,) = venue.changes.trades
    assert (trade.seller_fee_units, trade.buyer_fee_units) == (60 * USDT, 120 * USDT)
    seller = venue.accounts.by_name("clients/seller")
    assert seller.balance("USDT").unsettled_units == 60_000 * USDT - 60 * USDT
    assert seller.balance("BTC").unsettled_units == -BTC and seller.balance("BTC").held_units == 0
    check_balances(venue)


def test_many_small_fills_never_overdraw_a_limit_buy_hold() -> None:
    # Fills of one lot at 0.01 USDT have a notional of 1 quote unit: per-fill rounding would
    # charge 1 unit of fee each time; per-order rounding charges ceil(n * 20 / 10 000) in total.
    venue = new_venue(market_maker=False)
    fund(venue, "seller", btc_units=BTC)
    tick = venue.markets[MARKET].tick_units
    lot = venue.markets[MARKET].lot_units
    hold_units = 100 * 1 + 1  # Notional of 100 lots at one tick, plus the ceiling of its fee.
    fund(venue, "buyer", usdt_units=hold_units)
    for number in range(100):
        venue.place_order("clients/seller", MARKET, Side.SELL, OrderType.LIMIT, tick, lot, number)

    order = venue.place_order("clients/buyer", MARKET, Side.BUY, OrderType.LIMIT, tick, 100 * lot, 200)

    assert order.state is OrderState.FILLED and order.fee_units == 1
    usdt = venue.accounts.by_name("clients/buyer").balance("USDT")
    assert usdt.available_units == 0 and usdt.held_units == 0
    check_balances(venue)
