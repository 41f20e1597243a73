"""The markets file: sizes, fees, house quotes and price paths, and the errors that name what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange_sim.adapters.market_config import MarketConfigError, default_listings, listings_from_file
from exchange_sim.domain.pricing import PricePathKind
from service_kit.money import AssetScales

ASSETS = AssetScales({"BTC": 8, "ETH": 8, "USDT": 6})


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "markets.yaml"
    path.write_text(text)
    return path


def test_the_default_markets_are_those_whose_assets_are_configured() -> None:
    assert [listing.market.name for listing in default_listings(ASSETS)] == ["BTC-USDT", "ETH-USDT"]
    assert [listing.market.name for listing in default_listings(AssetScales({"BTC": 8, "USDT": 6}))] == [
        "BTC-USDT"
    ]
    (btc,) = default_listings(AssetScales({"BTC": 8, "USDT": 6}), "65000")
    assert btc.market.reference_price_units == 65_000 * 10**6


def test_a_markets_file_sets_sizes_fees_quotes_and_paths(tmp_path: Path) -> None:
    (tmp_path / "prices.csv").write_text("timestamp,price\n0,2000\n60000,2100.5\n")
    path = write(
        tmp_path,
        """
markets:
  - name: BTC-USDT
    min_notional: "10"
    maker_fee_bps: 5
    market_maker: {levels_per_side: 3, level_spacing_bps: 20, level_quantity: "0.25", requote_interval_s: 30}
    price_path: {kind: random_walk, volatility_bps: 15, step_s: 2}
  - name: ETH-USDT
    price_path: {kind: csv, file: prices.csv}
  - name: ETH-BTC
    base_asset: ETH
    quote_asset: BTC
    tick_size: "0.00001"
    lot_size: "0.001"
    min_notional: "0.001"
    maker_fee_bps: 10
    taker_fee_bps: 20
    reference_price: "0.05"
    price_path: {kind: scripted, points: [{offset_s: 600, change_percent: "-30"}]}
""",
    )

    btc, eth, eth_btc = listings_from_file(path, ASSETS)

    assert (btc.market.min_notional_units, btc.market.maker_fee_bps, btc.market.taker_fee_bps) == (
        10 * 10**6,
        5,
        20,
    )
    assert (btc.market_maker.levels_per_side, btc.market_maker.level_spacing_bps) == (3, 20)
    assert (btc.market_maker.level_quantity_units, btc.market_maker.requote_interval_ms) == (
        25_000_000,
        30_000,
    )
    assert (btc.price_path.kind, btc.price_path.volatility_bps, btc.price_path.step_ms) == (
        PricePathKind.RANDOM_WALK,
        15,
        2_000,
    )
    assert eth.price_path.csv_rows == ((0, 2_000 * 10**6), (60_000, 2_100_500_000))
    assert eth_btc.market.quote_asset == "BTC" and eth_btc.market.tick_units == 1_000
    assert eth_btc.price_path.points[0].change_ppm == -300_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("markets: [", "markets.yaml"),
        ("{}", "expected a mapping with a 'markets' list"),
        ("markets:\n  - name: BTC-USDT\n    colour: blue\n", "markets[0]: \"unknown keys ['colour']"),
        ("markets:\n  - name: DOGE-USDT\n", "markets[0]: \"'base_asset' is required"),
        ("markets:\n  - name: BTC-USDT\n    tick_size: '0.001'\n", "markets[0]"),
        ("markets:\n  - name: BTC-USDT\n  - name: BTC-USDT\n", "market names must be unique"),
        ("markets:\n  - name: BTC-USDT\n    price_path: {kind: sideways}\n", "price_path.kind must be"),
    ],
)
def test_a_bad_markets_file_is_refused_with_the_file_and_market(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(MarketConfigError) as refused:
        listings_from_file(write(tmp_path, text), ASSETS)
    assert expected in str(refused.value)
    assert str(tmp_path / "markets.yaml") in str(refused.value)
