"""The venue's markets from a YAML file (or the defaults): sizes, fees, house quotes and price paths."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from exchange_sim.domain.market import DEFAULT_MARKET_SPECS, MarketSpec, market_from_spec
from exchange_sim.domain.market_maker import (
    DEFAULT_REQUOTE_INTERVAL_MS,
    MarketMakerSettings,
    default_market_maker_settings,
)
from exchange_sim.domain.price_paths import ScriptedPoint, parse_change_percent, parse_price_csv
from exchange_sim.domain.pricing import PricePathKind, PricePathSpec
from exchange_sim.domain.venue import ListingSettings
from service_kit.errors import ServiceError
from service_kit.money import AssetScales, parse_units

MARKETS_MAX = 100
_MARKET_KEYS = {
    "name",
    "base_asset",
    "quote_asset",
    "tick_size",
    "lot_size",
    "min_notional",
    "maker_fee_bps",
    "taker_fee_bps",
    "reference_price",
    "market_maker",
    "price_path",
}


class MarketConfigError(ValueError):
    """A markets file the venue cannot start with; the message names the file and the market."""


def default_listings(assets: AssetScales, btc_reference_price: str | None = None) -> list[ListingSettings]:
    """The default markets whose assets are configured, with the default house quotes and flat prices."""
    listings = []
    for spec in DEFAULT_MARKET_SPECS:
        if spec.base_asset not in assets.scales or spec.quote_asset not in assets.scales:
            continue
        reference = btc_reference_price if spec.name == "BTC-USDT" else None
        market = market_from_spec(spec, assets, reference)
        listings.append(ListingSettings(market, default_market_maker_settings(market)))
    if not listings:
        raise MarketConfigError("no default market has both assets configured; give --markets-file")
    return listings


def listings_from_file(path: Path, assets: AssetScales) -> list[ListingSettings]:
    """Reads `markets:` from a YAML file; raises MarketConfigError naming the file and market."""
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise MarketConfigError(f"{path}: {error}") from error
    if not isinstance(document, Mapping) or not isinstance(document.get("markets"), list):
        raise MarketConfigError(f"{path}: expected a mapping with a 'markets' list")
    entries = document["markets"]
    if not 1 <= len(entries) <= MARKETS_MAX:
        raise MarketConfigError(f"{path}: give 1 to {MARKETS_MAX} markets")
    listings = []
    for index, entry in enumerate(entries):
        where = f"{path}: markets[{index}]"
        try:
            listings.append(_listing(entry, assets, path.parent))
        except (ServiceError, ValueError, KeyError, TypeError) as error:
            raise MarketConfigError(f"{where}: {error}") from error
    names = [listing.market.name for listing in listings]
    if len(set(names)) != len(names):
        raise MarketConfigError(f"{path}: market names must be unique")
    return listings


def _listing(entry: Any, assets: AssetScales, base_dir: Path) -> ListingSettings:
    if not isinstance(entry, Mapping):
        raise TypeError("each market is a mapping")
    unknown = set(entry) - _MARKET_KEYS
    if unknown:
        raise KeyError(f"unknown keys {sorted(unknown)}; known: {sorted(_MARKET_KEYS)}")
    default = next((spec for spec in DEFAULT_MARKET_SPECS if spec.name == entry.get("name")), None)

    def value(key: str) -> Any:
        if key in entry:
            return entry[key]
        if default is None:
            raise KeyError(f"'{key}' is required for a market that is not a default one")
        return getattr(default, key)

    spec = MarketSpec(
        str(value("name")),
        str(value("base_asset")),
        str(value("quote_asset")),
        str(value("tick_size")),
        str(value("lot_size")),
        str(value("min_notional")),
        int(value("maker_fee_bps")),
        int(value("taker_fee_bps")),
        str(value("reference_price")),
    )
    market = market_from_spec(spec, assets)
    maker = default_market_maker_settings(market)
    maker_entry = entry.get("market_maker") or {}
    if maker_entry:
        maker = MarketMakerSettings(
            levels_per_side=int(maker_entry.get("levels_per_side", maker.levels_per_side)),
            level_spacing_bps=int(maker_entry.get("level_spacing_bps", maker.level_spacing_bps)),
            level_quantity_units=parse_units(
                str(maker_entry.get("level_quantity", market.format_quantity(maker.level_quantity_units))),
                market.base_scale,
                "market_maker.level_quantity",
            ),
            requote_interval_ms=int(
                float(maker_entry.get("requote_interval_s", DEFAULT_REQUOTE_INTERVAL_MS // 1000)) * 1000
            ),
        )
        if maker.level_quantity_units % market.lot_units:
            raise ValueError("market_maker.level_quantity must be a multiple of the lot size")
    return ListingSettings(
        market, maker, _price_path(entry.get("price_path"), market.quote_scale, market.tick_units, base_dir)
    )


def _price_path(entry: Any, quote_scale: int, tick_units: int, base_dir: Path) -> PricePathSpec:
    if entry is None:
        return PricePathSpec()
    if not isinstance(entry, Mapping):
        raise TypeError("price_path is a mapping with a 'kind'")
    kind = str(entry.get("kind", "")).upper()
    if kind == "CONSTANT":
        return PricePathSpec()
    if kind == "RANDOM_WALK":
        return PricePathSpec(
            PricePathKind.RANDOM_WALK, int(entry["volatility_bps"]), int(float(entry.get("step_s", 1)) * 1000)
        )
    if kind == "SCRIPTED":
        return PricePathSpec(
            PricePathKind.SCRIPTED,
            points=tuple(
                ScriptedPoint(
                    int(float(point["offset_s"]) * 1000),
                    parse_change_percent(str(point["change_percent"]), "price_path.points.change_percent"),
                )
                for point in entry["points"]
            ),
        )
    if kind == "CSV":
        file = base_dir / str(entry["file"])
        rows = parse_price_csv(file.read_text(), str(file), quote_scale, tick_units)
        return PricePathSpec(PricePathKind.CSV, csv_rows=tuple(rows), csv_source=str(file))
    raise ValueError("price_path.kind must be constant, random_walk, scripted or csv")
