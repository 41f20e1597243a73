"""In-process matching throughput of the exchange's domain engine, with fees and accounting.

Run:  python benchmarks/matching_throughput.py [--orders 300000] [--seed 7] [--rounds 3]

The engine is exchange_sim.domain.venue.Venue exactly as the service runs it: pre-trade checks,
holds, price-time matching, per-order fees, unsettled balances of both sides, trades with
venue-wide sequence numbers, the built-in market maker topping up its ladder after every
order, and the change set the service layer would write (drained after every order). Nothing
is written to SQLite and no gRPC is involved: this is the ceiling of the matching itself.

Orders are pre-generated from the seed: 50 client accounts, 90 % limit and 10 % market orders,
quantities of 1 to 50 lots; about half the limit orders are priced through the middle of the
book so that they cross. The figure printed is orders per second of the best round (the
rounds differ only by machine noise); the crossing share is measured, not assumed.
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from dataclasses import dataclass

from exchange_sim.domain.market import default_market
from exchange_sim.domain.market_maker import default_market_maker_settings
from exchange_sim.domain.orders import OrderState, OrderType, Side
from exchange_sim.domain.venue import ListingSettings, Venue, VenueSettings
from service_kit.money import AssetScales

MARKET = "BTC-USDT"
ACCOUNT_COUNT = 50
MARKET_ORDER_SHARE = 0.10
CROSSING_SHARE = 0.50
PRICE_SPREAD_TICKS = 60
LOTS_PER_ORDER_MAX = 50


@dataclass(frozen=True)
class OrderSpec:
    """One pre-generated order."""

    account: str
    side: Side
    order_type: OrderType
    price_units: int | None
    quantity_units: int


def funded_venue() -> Venue:
    """A venue with the default market and ACCOUNT_COUNT clients holding plenty of both assets."""
    assets = AssetScales({"BTC": 8, "USDT": 6})
    market = default_market(assets)
    venue = Venue(
        VenueSettings("okx-sim", 1, assets, (ListingSettings(market, default_market_maker_settings(market)),))
    )
    for index in range(ACCOUNT_COUNT):
        connection = f"clients/trader-{index}/connections/okx-sim"
        venue.accounts.open(connection, 0)
        for asset, amount_units in (("BTC", 10**6 * 10**8), ("USDT", 10**11 * 10**6)):
            allocation_id = f"{connection}/{asset}"
            venue.funding.reserve_allocation(connection, allocation_id, asset, amount_units, 0)
            venue.funding.clear_allocation(allocation_id, 0)
    venue.restore_ladder(0)
    venue.clear_changes()
    return venue


def generate_orders(venue: Venue, count: int, seed: int) -> list[OrderSpec]:
    """Random orders around the reference price; crossing ones are priced through the middle."""
    generator = random.Random(seed)
    market = venue.markets[MARKET]
    middle_units = market.reference_price_units
    tick_units = market.tick_units
    orders: list[OrderSpec] = []
    for _ in range(count):
        account = f"clients/trader-{generator.randrange(ACCOUNT_COUNT)}"
        side = Side.BUY if generator.random() < 0.5 else Side.SELL
        quantity_units = generator.randint(1, LOTS_PER_ORDER_MAX) * market.lot_units
        if generator.random() < MARKET_ORDER_SHARE:
            orders.append(OrderSpec(account, side, OrderType.MARKET, None, quantity_units))
            continue
        offset_units = generator.randint(1, PRICE_SPREAD_TICKS) * tick_units
        crossing = generator.random() < CROSSING_SHARE
        # A passive buy rests below the middle; a crossing buy is priced above it, into the asks.
        above_middle = (side is Side.BUY) == crossing
        price_units = middle_units + offset_units if above_middle else middle_units - offset_units
        orders.append(OrderSpec(account, side, OrderType.LIMIT, price_units, quantity_units))
    return orders


def run_round(orders: list[OrderSpec]) -> tuple[float, int, int, int]:
    """Places every order on a fresh venue; returns (seconds, orders that filled at once, trades, resting)."""
    venue = funded_venue()
    place_order = venue.place_order
    changes = venue.changes
    clear_changes = venue.clear_changes
    market_name = venue.markets[MARKET].name
    # Arguments are packed before the clock starts so the loop measures the engine, not the harness.
    arguments = [
        (spec.account, market_name, spec.side, spec.order_type, spec.price_units, spec.quantity_units, now_ms)
        for now_ms, spec in enumerate(orders)
    ]
    trades = 0
    crossed = 0
    open_state = OrderState.OPEN
    gc.collect()
    started = time.perf_counter()
    for order_arguments in arguments:
        order = place_order(*order_arguments)
        if order.filled_units or order.state is not open_state:
            crossed += 1
        trades += len(changes.trades)
        clear_changes()
    elapsed_s = time.perf_counter() - started
    return elapsed_s, crossed, trades, venue.listings[MARKET].book.resting_count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    orders = generate_orders(funded_venue(), arguments.orders, arguments.seed)
    results = [run_round(orders) for _ in range(arguments.rounds)]
    best_s, crossed, trades, resting = min(results)
    print(f"orders: {len(orders)}, rounds: {arguments.rounds}, seed: {arguments.seed}")
    print(f"crossing share (filled at least partly or ended at once): {crossed / len(orders):.2f}")
    print(f"trades: {trades}, resting at the end: {resting}")
    for elapsed_s, *_ in results:
        print(f"  round: {len(orders) / elapsed_s:10.0f} orders/s")
    print(f"trades per second (best round): {trades / best_s:.0f}")
    print(f"matching throughput (best round): {len(orders) / best_s:.0f} orders/s")


if __name__ == "__main__":
    main()
