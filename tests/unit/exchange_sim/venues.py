"""Builders shared by the exchange's unit tests: venues, funded accounts, invariant checks."""

from __future__ import annotations

import dataclasses

from exchange_sim.domain.accounts import Balance
from exchange_sim.domain.market import default_market
from exchange_sim.domain.market_maker import MarketMakerSettings, default_market_maker_settings
from exchange_sim.domain.orders import Order, OrderState, Trade
from exchange_sim.domain.venue import ListingSettings, Venue, VenueSettings
from service_kit.money import AssetScales

ASSETS = AssetScales({"BTC": 8, "USDT": 6})
EXCHANGE = "okx-sim"
MARKET = "BTC-USDT"
SEED = 7
BTC = 10**8
USDT = 10**6


def settings(*, market_maker: bool = True, seed: int = SEED) -> VenueSettings:
    """BTC-USDT around 60 000 with the default ladder, or with no house quotes at all."""
    # No minimum notional, so that properties may use single-lot orders at any price.
    market = dataclasses.replace(default_market(ASSETS), min_notional_units=0)
    maker = (
        default_market_maker_settings(market)
        if market_maker
        else MarketMakerSettings(
            levels_per_side=0, level_spacing_bps=5, level_quantity_units=market.lot_units
        )
    )
    return VenueSettings(EXCHANGE, seed, ASSETS, (ListingSettings(market, maker),))


def connection(client: str) -> str:
    """The connection of a client to the test venue."""
    return f"clients/{client}/connections/{EXCHANGE}"


def fund(venue: Venue, client: str, btc_units: int = 0, usdt_units: int = 0) -> None:
    """Opens the client's account (if needed) and mirrors the amounts into it."""
    venue.accounts.open(connection(client), 0)
    for asset, amount_units in (("BTC", btc_units), ("USDT", usdt_units)):
        if amount_units:
            allocation_id = f"{client}-{asset}-{len(venue.funding.allocations)}"
            venue.funding.reserve_allocation(connection(client), allocation_id, asset, amount_units, 0)
            venue.funding.clear_allocation(allocation_id, 0)


def new_venue(*, market_maker: bool = True) -> Venue:
    """A venue with its ladder quoted and no pending changes."""
    venue = Venue(settings(market_maker=market_maker))
    venue.restore_ladder(0)
    venue.clear_changes()
    return venue


def balance_snapshot(venue: Venue) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    """Every balance as (mirror, unsettled, held, pending)."""
    return {
        (balance.account, balance.asset): (
            balance.mirror_units,
            balance.unsettled_units,
            balance.held_units,
            balance.pending_credit_units,
        )
        for account in venue.accounts
        for balance in account.balances.values()
    }


def book_snapshot(venue: Venue) -> list[tuple[int, str, int | None, int, int]]:
    """Every resting order as (number, side, price, quantity, filled), sorted by number."""
    return sorted(
        (order.number, order.side.value, order.price_units, order.quantity_units, order.filled_units)
        for order in venue.resting_orders()
    )


def check_balances(venue: Venue) -> None:
    """Held and available are never negative, and held is exactly what open orders reserve."""
    held_by_orders: dict[tuple[str, str], int] = {}
    for order in venue.resting_orders():
        if order.house:
            continue
        balance: Balance | None = order.quote_balance if order.side.value == "BUY" else order.base_balance
        assert balance is not None
        key = (balance.account, balance.asset)
        held_by_orders[key] = held_by_orders.get(key, 0) + order.held_units
    for account in venue.accounts:
        for balance in account.balances.values():
            assert balance.held_units >= 0, balance
            assert balance.available_units >= 0, balance
            assert balance.pending_credit_units >= 0, balance
            assert balance.held_units == held_by_orders.get((balance.account, balance.asset), 0), balance


def check_not_crossed(venue: Venue) -> None:
    """The best bid is below the best ask whenever both exist."""
    best_bid, best_ask = venue.listings[MARKET].book.best_bid(), venue.listings[MARKET].book.best_ask()
    if best_bid is not None and best_ask is not None:
        assert best_bid < best_ask, (best_bid, best_ask)


def order_fee_exact(venue: Venue, order: Order, trades: list[Trade]) -> int:
    """The exact fee an order owes: ceil(sum of notional * bps over its fills / 10 000)."""
    market = venue.markets[MARKET]
    exact = 0
    for trade in trades:
        if order.number not in (trade.buy_order_number, trade.sell_order_number):
            continue
        bps = market.maker_fee_bps if trade.maker_order_number == order.number else market.taker_fee_bps
        exact += market.notional_units(trade.price_units, trade.quantity_units) * bps
    return -(-exact // 10_000)


def is_finished(order: Order) -> bool:
    """Whether the order has left the book."""
    return order.state is not OrderState.OPEN
