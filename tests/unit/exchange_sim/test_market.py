"""Market arithmetic: exact notionals, fee rounding, tick and lot checks, the house ladder."""

from __future__ import annotations

import dataclasses

import pytest

from exchange_sim.domain.market import default_market, fee_ceiling_units
from exchange_sim.domain.market_maker import default_market_maker_settings, ladder_levels
from exchange_sim.domain.orders import Side
from service_kit.errors import ErrorCode, ServiceError
from tests.unit.exchange_sim.venues import ASSETS, BTC, USDT

MARKET = default_market(ASSETS)


def test_default_market_is_btc_usdt_with_exact_notionals() -> None:
    assert (MARKET.name, MARKET.base_asset, MARKET.quote_asset) == ("BTC-USDT", "BTC", "USDT")
    assert MARKET.tick_units == USDT // 100
    assert MARKET.lot_units == BTC // 10_000
    assert (MARKET.maker_fee_bps, MARKET.taker_fee_bps) == (10, 20)
    assert MARKET.reference_price_units == 60_000 * USDT
    assert MARKET.notional_units(60_030 * USDT, BTC // 2) == 30_015 * USDT
    # The smallest order at the smallest price is one whole quote unit, never a fraction.
    assert MARKET.notional_units(MARKET.tick_units, MARKET.lot_units) == 1


def test_tick_and_lot_that_would_need_rounding_are_refused_at_configuration() -> None:
    with pytest.raises(AssertionError, match="tick"):
        dataclasses.replace(MARKET, tick_units=1, lot_units=1)


@pytest.mark.parametrize(
    ("notional_units", "fee_bps", "fee_units"),
    [
        (30_015 * USDT, 20, 60_030_000),
        (1, 20, 1),
        (500, 20, 1),
        (501, 20, 2),
        (0, 20, 0),
        (1_000, 0, 0),
    ],
)
def test_fees_round_up_to_the_next_quote_unit(notional_units: int, fee_bps: int, fee_units: int) -> None:
    assert fee_ceiling_units(notional_units, fee_bps) == fee_units


def test_price_off_the_tick_is_refused_with_a_field_violation() -> None:
    with pytest.raises(ServiceError) as raised:
        MARKET.check_price(60_000 * USDT + 1_000)
    assert (raised.value.code, raised.value.reason) == (ErrorCode.INVALID_ARGUMENT, "PRICE_NOT_ON_TICK")
    assert [violation.field for violation in raised.value.field_violations] == ["price"]


def test_quantity_off_the_lot_is_refused_with_a_field_violation() -> None:
    with pytest.raises(ServiceError) as raised:
        MARKET.check_quantity(5_000)
    assert (raised.value.code, raised.value.reason) == (ErrorCode.INVALID_ARGUMENT, "QUANTITY_NOT_ON_LOT")
    assert [violation.field for violation in raised.value.field_violations] == ["quantity"]


def test_ladder_has_ten_levels_per_side_five_bps_apart() -> None:
    levels = ladder_levels(MARKET, default_market_maker_settings(MARKET))
    bids = sorted((level.price_units for level in levels if level.side is Side.BUY), reverse=True)
    asks = sorted(level.price_units for level in levels if level.side is Side.SELL)
    assert len(bids) == len(asks) == 10
    assert bids[:2] == [59_970 * USDT, 59_940 * USDT]
    assert asks[:2] == [60_030 * USDT, 60_060 * USDT]
    assert {level.quantity_units for level in levels} == {BTC // 2}


def test_ladder_rounds_bids_down_and_asks_up_to_the_tick() -> None:
    market = dataclasses.replace(MARKET, reference_price_units=60_000 * USDT + MARKET.tick_units)
    levels = ladder_levels(market, default_market_maker_settings(market))
    best_bid = max(level.price_units for level in levels if level.side is Side.BUY)
    best_ask = min(level.price_units for level in levels if level.side is Side.SELL)
    # 60 000.01 * 0.9995 = 59 970.009995 and 60 000.01 * 1.0005 = 60 030.010005.
    assert best_bid == 59_970 * USDT
    assert best_ask == 60_030 * USDT + 2 * MARKET.tick_units
