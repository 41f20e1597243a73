"""The built-in market maker: house quotes around the reference price, topped up after each order."""

from __future__ import annotations

from dataclasses import dataclass

from exchange_sim.domain.market import BASIS_POINTS_PER_WHOLE, Market
from exchange_sim.domain.orders import Side

LEVELS_PER_SIDE_MAX = 100
DEFAULT_LEVELS_PER_SIDE = 10
DEFAULT_LEVEL_SPACING_BPS = 5
# The house moves its quotes to the reference price once a minute of sandbox time by default.
DEFAULT_REQUOTE_INTERVAL_MS = 60_000
REQUOTE_INTERVAL_MS_MIN = 1_000
# Half a whole base unit per level (0.5 BTC with scale 8).
DEFAULT_LEVEL_QUANTITY_WHOLE_FRACTION = (1, 2)


@dataclass(frozen=True)
class MarketMakerSettings:
    """How the house quotes: levels per side, their spacing and the quantity of each."""

    levels_per_side: int
    level_spacing_bps: int
    level_quantity_units: int
    requote_interval_ms: int = DEFAULT_REQUOTE_INTERVAL_MS

    def __post_init__(self) -> None:
        assert 0 <= self.levels_per_side <= LEVELS_PER_SIDE_MAX
        assert self.level_spacing_bps > 0 and self.level_quantity_units > 0
        assert self.requote_interval_ms >= REQUOTE_INTERVAL_MS_MIN


def default_market_maker_settings(market: Market) -> MarketMakerSettings:
    """Ten levels per side, 5 bps apart, half a base unit each (0.5 BTC)."""
    numerator, denominator = DEFAULT_LEVEL_QUANTITY_WHOLE_FRACTION
    return MarketMakerSettings(
        levels_per_side=DEFAULT_LEVELS_PER_SIDE,
        level_spacing_bps=DEFAULT_LEVEL_SPACING_BPS,
        level_quantity_units=market.base_units_per_whole * numerator // denominator,
    )


@dataclass(frozen=True)
class LadderLevel:
    """One house quote: side, price and the quantity the house keeps resting there."""

    side: Side
    price_units: int
    quantity_units: int


def ladder_levels(
    market: Market, settings: MarketMakerSettings, reference_price_units: int | None = None
) -> list[LadderLevel]:
    """Level k (1..N) sits k * spacing bps from the reference price (the market's, by default).

    Bids round down and asks round up to the tick, so the house never quotes inside its own
    spread; levels that round to the same price (a tiny reference price) are merged away.
    """
    assert settings.level_quantity_units % market.lot_units == 0, "house quotes respect the lot size"
    tick = market.tick_units
    reference = market.reference_price_units if reference_price_units is None else reference_price_units
    levels: dict[int, LadderLevel] = {}
    for step in range(1, settings.levels_per_side + 1):
        offset_bps = step * settings.level_spacing_bps
        bid_price = (
            reference * (BASIS_POINTS_PER_WHOLE - offset_bps) // (BASIS_POINTS_PER_WHOLE * tick) * tick
        )
        ask_price = (
            -(-reference * (BASIS_POINTS_PER_WHOLE + offset_bps) // (BASIS_POINTS_PER_WHOLE * tick)) * tick
        )
        if bid_price > 0:
            levels.setdefault(bid_price, LadderLevel(Side.BUY, bid_price, settings.level_quantity_units))
        levels.setdefault(ask_price, LadderLevel(Side.SELL, ask_price, settings.level_quantity_units))
    return sorted(levels.values(), key=lambda level: level.price_units)


class MarketMaker:
    """Tracks how much the house rests at each ladder price and which prices need topping up."""

    def __init__(
        self,
        exchange_id: str,
        market: Market,
        settings: MarketMakerSettings,
        reference_price_units: int | None = None,
    ) -> None:
        self.account = house_account(exchange_id)
        self.market = market
        self.settings = settings
        self.reference_price_units = (
            market.reference_price_units if reference_price_units is None else reference_price_units
        )
        self.levels: dict[int, LadderLevel] = {
            level.price_units: level for level in ladder_levels(market, settings, self.reference_price_units)
        }
        self.resting_units: dict[int, int] = dict.fromkeys(self.levels, 0)
        # Prices whose house quantity fell short; every price starts short until quoted.
        self.pending_prices: set[int] = set(self.levels)

    def on_resting(self, price_units: int, quantity_units: int) -> None:
        """Counts a house order resting at `price_units` (placed or loaded from storage)."""
        if price_units in self.resting_units:
            self.resting_units[price_units] += quantity_units
            if self.resting_units[price_units] >= self.levels[price_units].quantity_units:
                self.pending_prices.discard(price_units)

    def on_fill(self, price_units: int, quantity_units: int) -> None:
        """Counts a fill (or cancel) of a house order.

        The level is topped up after the incoming order once less than half of it rests: a
        maker that re-posted every lot taken would fill its level with a queue of one-lot orders
        (and the books with a row per trade), where a real one refreshes a depleted quote.
        """
        resting_units = self.resting_units.get(price_units)
        if resting_units is not None:
            resting_units -= quantity_units
            self.resting_units[price_units] = resting_units
            if 2 * resting_units < self.levels[price_units].quantity_units:
                self.pending_prices.add(price_units)

    def shortfalls(self, best_bid: int | None, best_ask: int | None) -> list[LadderLevel]:
        """Levels to top up now, as (side, price, missing quantity), lowest price first.

        A level that would cross the other side of the book (a client order resting through the
        house's quotes) is skipped and stays pending: the house never trades as a taker and
        the book is never crossed at rest.
        """
        shortfalls: list[LadderLevel] = []
        for price in sorted(self.pending_prices):
            level = self.levels[price]
            missing_units = level.quantity_units - self.resting_units[price]
            if missing_units <= 0:
                self.pending_prices.discard(price)
                continue
            if level.side is Side.BUY and best_ask is not None and price >= best_ask:
                continue
            if level.side is Side.SELL and best_bid is not None and price <= best_bid:
                continue
            shortfalls.append(LadderLevel(level.side, price, missing_units))
        return shortfalls


def house_account(exchange_id: str) -> str:
    """The market maker's account: the exchange's own, not an OES client, never balance-checked."""
    return f"exchanges/{exchange_id}/market-maker"
