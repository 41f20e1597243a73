"""Spot markets: tick and lot sizes, fees, and the exact integer arithmetic of notional and fees."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from service_kit.errors import invalid_argument
from service_kit.money import UNITS_ABS_MAX, AssetScales, format_units, parse_units

# Fees are quoted in basis points: one ten-thousandth of the notional.
BASIS_POINTS_PER_WHOLE = 10_000

DEFAULT_MARKET_NAME = "BTC-USDT"
DEFAULT_BASE_ASSET = "BTC"
DEFAULT_QUOTE_ASSET = "USDT"
DEFAULT_TICK_SIZE = "0.01"
DEFAULT_LOT_SIZE = "0.0001"
DEFAULT_MIN_NOTIONAL = "5"
DEFAULT_MAKER_FEE_BPS = 10
DEFAULT_TAKER_FEE_BPS = 20
DEFAULT_REFERENCE_PRICE = "60000"


@dataclass(frozen=True)
class MarketSpec:
    """A market as configuration writes it: decimal strings, before the asset scales are known."""

    name: str
    base_asset: str
    quote_asset: str
    tick_size: str
    lot_size: str
    min_notional: str
    maker_fee_bps: int
    taker_fee_bps: int
    reference_price: str


# The markets a venue lists by default, each only when both of its assets are configured.
DEFAULT_MARKET_SPECS = (
    MarketSpec("BTC-USDT", "BTC", "USDT", "0.01", "0.0001", "5", 10, 20, DEFAULT_REFERENCE_PRICE),
    MarketSpec("ETH-USDT", "ETH", "USDT", "0.01", "0.001", "5", 10, 20, "3000"),
)


@dataclass(frozen=True)
class Market:
    """A spot market; prices are quote units per whole base unit, quantities are base units.

    The tick and lot sizes are chosen so that tick * lot is a whole number of base-scale
    multiples: then price * quantity / 10**base_scale, the notional, is always an exact integer
    of quote units and no trade ever needs rounding. Only fees round (see `fee_ceiling_units`).
    """

    name: str
    base_asset: str
    quote_asset: str
    base_scale: int
    quote_scale: int
    tick_units: int
    lot_units: int
    maker_fee_bps: int
    taker_fee_bps: int
    reference_price_units: int
    min_notional_units: int = 0

    def __post_init__(self) -> None:
        assert self.tick_units > 0 and self.lot_units > 0, "tick and lot sizes are positive"
        assert (self.tick_units * self.lot_units) % 10**self.base_scale == 0, (
            f"{self.name}: tick * lot must be a multiple of 10**{self.base_scale} so notionals are exact"
        )
        assert 0 <= self.maker_fee_bps < BASIS_POINTS_PER_WHOLE
        assert 0 <= self.taker_fee_bps < BASIS_POINTS_PER_WHOLE
        assert self.reference_price_units > 0 and self.reference_price_units % self.tick_units == 0
        assert self.min_notional_units >= 0

    @property
    def base_units_per_whole(self) -> int:
        """Base units in one whole base asset (10**base_scale): the divisor of every notional."""
        return int(10**self.base_scale)

    @property
    def fee_bps_max(self) -> int:
        """The larger fee rate: what a resting buy order must hold for, whichever side it ends up on."""
        return max(self.maker_fee_bps, self.taker_fee_bps)

    def notional_units(self, price_units: int, quantity_units: int) -> int:
        """Quote units of price * quantity; exact by the tick/lot construction."""
        return price_units * quantity_units // self.base_units_per_whole

    def format_price(self, price_units: int) -> str:
        """Formats a price for the wire."""
        return format_units(price_units, self.quote_scale)

    def format_quantity(self, quantity_units: int) -> str:
        """Formats a quantity for the wire."""
        return format_units(quantity_units, self.base_scale)

    def check_price(self, price_units: int, field_name: str = "price") -> None:
        """Refuses a price that is not a positive multiple of the tick size."""
        assert price_units > 0, "money parsing refuses zero and negative prices"
        if price_units % self.tick_units:
            raise invalid_argument(
                "PRICE_NOT_ON_TICK",
                field_name,
                f"{self.format_price(price_units)} is not a multiple of the tick size "
                f"{self.format_price(self.tick_units)} {self.quote_asset}",
            )

    def check_quantity(self, quantity_units: int) -> None:
        """Refuses a quantity that is not a positive multiple of the lot size."""
        assert quantity_units > 0, "money parsing refuses zero and negative quantities"
        if quantity_units % self.lot_units:
            raise invalid_argument(
                "QUANTITY_NOT_ON_LOT",
                "quantity",
                f"{self.format_quantity(quantity_units)} is not a multiple of the lot size "
                f"{self.format_quantity(self.lot_units)} {self.base_asset}",
            )

    def check_notional(self, notional_units: int) -> None:
        """Refuses an order whose notional the books could not hold."""
        if notional_units > UNITS_ABS_MAX:
            raise invalid_argument(
                "NOTIONAL_OUT_OF_RANGE",
                "quantity",
                f"price * quantity exceeds the largest amount the sandbox holds "
                f"({format_units(UNITS_ABS_MAX, self.quote_scale)} {self.quote_asset})",
            )

    def check_min_notional(self, notional_units: int) -> None:
        """Refuses an order whose notional is below the market's minimum."""
        if notional_units < self.min_notional_units:
            raise invalid_argument(
                "NOTIONAL_BELOW_MINIMUM",
                "quantity",
                f"price * quantity is {self.format_price(notional_units)} {self.quote_asset}; "
                f"{self.name} needs at least {self.format_price(self.min_notional_units)}",
            )


def fee_ceiling_units(notional_units: int, fee_bps: int) -> int:
    """The fee on a notional: ceil(notional * bps / 10 000) quote units.

    Rounding is always up, to the venue's favour, because a fee may not be smaller than the
    rate; it is never more than one quote unit above the exact fee.
    """
    return -(-notional_units * fee_bps // BASIS_POINTS_PER_WHOLE)


def market_from_spec(spec: MarketSpec, assets: AssetScales, reference_price: str | None = None) -> Market:
    """Builds a market from its configuration; raises ServiceError or ValueError on a bad value.

    ValueError means the sizes do not keep notionals exact or a price is off the tick: a
    configuration mistake the operator must fix before the venue starts.
    """
    for asset in (spec.base_asset, spec.quote_asset):
        if asset not in assets.scales:
            raise ValueError(f"market {spec.name}: asset {asset} is not configured (--asset {asset}=SCALE)")
    base_scale = assets.scales[spec.base_asset]
    quote_scale = assets.scales[spec.quote_asset]
    tick_units = parse_units(spec.tick_size, quote_scale, "tick_size")
    lot_units = parse_units(spec.lot_size, base_scale, "lot_size")
    reference_price_units = parse_units(
        reference_price or spec.reference_price, quote_scale, "reference_price"
    )
    if (tick_units * lot_units) % 10**base_scale:
        raise ValueError(f"market {spec.name}: tick * lot must be a whole number of {spec.quote_asset} units")
    if reference_price_units % tick_units:
        raise ValueError(f"market {spec.name}: reference price {reference_price} is not on the tick")
    if not (
        0 <= spec.maker_fee_bps < BASIS_POINTS_PER_WHOLE and 0 <= spec.taker_fee_bps < BASIS_POINTS_PER_WHOLE
    ):
        raise ValueError(f"market {spec.name}: fees must be 0 to 9999 basis points")
    return Market(
        name=spec.name,
        base_asset=spec.base_asset,
        quote_asset=spec.quote_asset,
        base_scale=base_scale,
        quote_scale=quote_scale,
        tick_units=tick_units,
        lot_units=lot_units,
        maker_fee_bps=spec.maker_fee_bps,
        taker_fee_bps=spec.taker_fee_bps,
        reference_price_units=reference_price_units,
        min_notional_units=parse_units(spec.min_notional, quote_scale, "min_notional", allow_zero=True),
    )


def default_market(assets: AssetScales, reference_price_units: int | None = None) -> Market:
    """BTC-USDT with tick 0.01 USDT, lot 0.0001 BTC, minimum 5 USDT, maker 10 bps, taker 20 bps."""
    market = market_from_spec(DEFAULT_MARKET_SPECS[0], assets)
    if reference_price_units is None:
        return market
    return dataclasses.replace(market, reference_price_units=reference_price_units)


def default_markets(assets: AssetScales) -> list[Market]:
    """The default markets whose assets are configured: BTC-USDT and ETH-USDT."""
    return [
        market_from_spec(spec, assets)
        for spec in DEFAULT_MARKET_SPECS
        if spec.base_asset in assets.scales and spec.quote_asset in assets.scales
    ]
