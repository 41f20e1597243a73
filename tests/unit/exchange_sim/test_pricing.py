"""A market's pricing: stored and read back exactly, restarted without double faults, faults listed."""

from __future__ import annotations

import json

import pytest

from exchange_sim.domain.price_paths import PriceFault, ScriptedPoint, ShockFault, StaleFault
from exchange_sim.domain.pricing import MarketPricing, PricePathKind, PricePathSpec, constant_pricing

USDT = 10**6
TICK_UNITS = USDT // 100
START_UNITS = 60_000 * USDT
START_MS = 1_767_225_600_000
MINUTE_MS = 60_000
SEED_MATERIAL = "1:okx-sim:BTC-USDT"

SPECS = {
    PricePathKind.CONSTANT: PricePathSpec(),
    PricePathKind.RANDOM_WALK: PricePathSpec(PricePathKind.RANDOM_WALK, volatility_bps=80, step_ms=MINUTE_MS),
    PricePathKind.SCRIPTED: PricePathSpec(
        PricePathKind.SCRIPTED,
        points=(ScriptedPoint(10 * MINUTE_MS, -300_000), ScriptedPoint(20 * MINUTE_MS, 125_000)),
    ),
    PricePathKind.CSV: PricePathSpec(
        PricePathKind.CSV,
        csv_rows=(
            (START_MS, 60_000 * USDT),
            (START_MS + 3 * MINUTE_MS, 61_234_560_000),
            (START_MS + 9 * MINUTE_MS, 55_000 * USDT),
        ),
        csv_source="prices.csv",
    ),
}
FAULTS: list[list[PriceFault]] = [
    [],
    [ShockFault(START_MS + 2 * MINUTE_MS, -100_000)],
    [StaleFault(START_MS + 4 * MINUTE_MS, START_MS + 7 * MINUTE_MS)],
    [
        ShockFault(START_MS + MINUTE_MS, 250_000),
        StaleFault(START_MS + 5 * MINUTE_MS, START_MS + 12 * MINUTE_MS),
        ShockFault(START_MS + 6 * MINUTE_MS, -500_000),
    ],
]
# Every 37 seconds over half an hour, so times fall inside steps, on points and in windows.
TIMES_MS = list(range(START_MS - MINUTE_MS, START_MS + 30 * MINUTE_MS, 37_000))


def pricing(kind: PricePathKind, faults: list[PriceFault] | None = None) -> MarketPricing:
    return MarketPricing(SPECS[kind], START_MS, START_UNITS, SEED_MATERIAL, TICK_UNITS, list(faults or []))


def prices(market_pricing: MarketPricing, times_ms: list[int] = TIMES_MS) -> list[int]:
    return [market_pricing.price_at(time_ms) for time_ms in times_ms]


@pytest.mark.parametrize("kind", list(PricePathKind))
@pytest.mark.parametrize("faults", FAULTS, ids=["no-faults", "shock", "stale", "shock-stale-shock"])
def test_json_round_trip_keeps_every_price(kind: PricePathKind, faults: list[PriceFault]) -> None:
    original = pricing(kind, faults)
    text = original.to_json()

    restored = MarketPricing.from_json(text, SEED_MATERIAL, TICK_UNITS)

    assert restored.spec == original.spec
    assert restored.faults == original.faults
    assert (restored.start_time_ms, restored.start_price_units) == (START_MS, START_UNITS)
    assert restored.to_json() == text
    assert prices(restored) == prices(original)
    # The times cover movement, so an equal list is not two flat lines by accident.
    moves = kind is not PricePathKind.CONSTANT or any(isinstance(fault, ShockFault) for fault in faults)
    assert (len(set(prices(original))) > 1) == moves


def test_the_stored_form_is_compact_and_names_every_fact() -> None:
    data = json.loads(pricing(PricePathKind.SCRIPTED, FAULTS[3]).to_json())
    assert data == {
        "kind": "SCRIPTED",
        "volatility_bps": 0,
        "step_ms": 0,
        "points": [[10 * MINUTE_MS, -300_000], [20 * MINUTE_MS, 125_000]],
        "csv_rows": [],
        "csv_source": "",
        "start_time_ms": START_MS,
        "start_price_units": START_UNITS,
        "faults": [
            {"kind": "SHOCK", "start_ms": START_MS + MINUTE_MS, "change_ppm": 250_000},
            {"kind": "STALE", "start_ms": START_MS + 5 * MINUTE_MS, "end_ms": START_MS + 12 * MINUTE_MS},
            {"kind": "SHOCK", "start_ms": START_MS + 6 * MINUTE_MS, "change_ppm": -500_000},
        ],
    }


def test_the_seed_material_picks_the_walk_and_is_not_stored() -> None:
    walk = pricing(PricePathKind.RANDOM_WALK)
    other = MarketPricing.from_json(walk.to_json(), "2:okx-sim:BTC-USDT", TICK_UNITS)
    assert SEED_MATERIAL not in walk.to_json()
    assert prices(other) != prices(walk)


def test_a_restarted_path_starts_from_the_unfaulted_price_and_keeps_the_shock_once() -> None:
    shocked = pricing(PricePathKind.SCRIPTED, [ShockFault(START_MS + 2 * MINUTE_MS, -100_000)])
    now_ms = START_MS + 5 * MINUTE_MS
    # 60 000 falling 30 % over ten minutes is at 51 000 after five; the shock takes 10 % off.
    assert shocked.price_at(now_ms) == 45_900 * USDT

    restarted = shocked.restarted(PricePathSpec(), now_ms)

    assert restarted.start_time_ms == now_ms
    assert restarted.start_price_units == 51_000 * USDT
    assert restarted.faults == shocked.faults
    assert restarted.price_at(now_ms) == 45_900 * USDT, "the shock is applied once, not twice"
    assert restarted.price_at(now_ms + 60 * MINUTE_MS) == 45_900 * USDT
    assert restarted.without_faults().price_at(now_ms + MINUTE_MS) == 51_000 * USDT


def test_a_restarted_walk_continues_from_where_the_path_is() -> None:
    walk = pricing(PricePathKind.RANDOM_WALK)
    now_ms = START_MS + 7 * MINUTE_MS + 12_345
    restarted = walk.restarted(SPECS[PricePathKind.RANDOM_WALK], now_ms)
    assert restarted.price_at(now_ms) == walk.price_at(now_ms)
    # A new walk from now draws anew (its seed includes its start), so it does not repeat the old one.
    later = [now_ms + minutes * MINUTE_MS for minutes in range(1, 10)]
    assert prices(restarted, later) != prices(walk, later)
    again = MarketPricing.from_json(restarted.to_json(), SEED_MATERIAL, TICK_UNITS)
    assert prices(again, later) == prices(restarted, later)


def test_replacing_the_path_inside_a_stale_window_keeps_the_price_frozen() -> None:
    stale_start_ms = START_MS + 2 * MINUTE_MS
    frozen = pricing(PricePathKind.RANDOM_WALK, [StaleFault(stale_start_ms, stale_start_ms + 10 * MINUTE_MS)])
    now_ms = START_MS + 6 * MINUTE_MS
    frozen_price = frozen.price_at(now_ms)
    assert frozen_price == frozen.without_faults().price_at(stale_start_ms)
    assert frozen.without_faults().price_at(now_ms) != frozen_price, "the walk moved meanwhile"

    restarted = frozen.restarted(SPECS[PricePathKind.SCRIPTED], now_ms)

    assert restarted.price_at(now_ms) == frozen_price


def test_without_faults_is_the_bare_path() -> None:
    faulted = pricing(PricePathKind.RANDOM_WALK, FAULTS[3])
    bare = pricing(PricePathKind.RANDOM_WALK)
    assert prices(faulted) != prices(bare)

    cleared = faulted.without_faults()

    assert cleared.faults == []
    assert cleared.active_faults(START_MS) == []
    assert prices(cleared) == prices(bare)
    assert cleared.to_json() == bare.to_json()
    assert faulted.faults == FAULTS[3], "the original pricing is unchanged"


def test_with_fault_adds_on_top_and_leaves_the_original() -> None:
    bare = pricing(PricePathKind.SCRIPTED)
    shock = ShockFault(START_MS + 5 * MINUTE_MS, 200_000)
    shocked = bare.with_fault(shock)
    assert bare.faults == []
    assert shocked.faults == [shock]
    assert shocked.price_at(START_MS + 5 * MINUTE_MS) == 61_200 * USDT  # 51 000 * 1.2
    assert shocked.price_at(START_MS + 5 * MINUTE_MS - 1) == bare.price_at(START_MS + 5 * MINUTE_MS - 1)


def test_active_faults_are_every_shock_and_the_stale_windows_not_yet_ended() -> None:
    shock = ShockFault(START_MS + MINUTE_MS, 250_000)
    stale = StaleFault(START_MS + 5 * MINUTE_MS, START_MS + 12 * MINUTE_MS)
    later_shock = ShockFault(START_MS + 6 * MINUTE_MS, -500_000)
    market_pricing = pricing(PricePathKind.CONSTANT, [shock, stale, later_shock])

    assert market_pricing.active_faults(START_MS + 11 * MINUTE_MS) == [shock, stale, later_shock]
    assert market_pricing.active_faults(START_MS + 12 * MINUTE_MS - 1) == [shock, stale, later_shock]
    assert market_pricing.active_faults(START_MS + 12 * MINUTE_MS) == [shock, later_shock]
    assert market_pricing.active_faults(START_MS + 99 * MINUTE_MS) == [shock, later_shock]
    assert constant_pricing(START_UNITS, SEED_MATERIAL, TICK_UNITS).active_faults(START_MS) == []


def test_a_stale_window_freezes_then_lets_go() -> None:
    stale = StaleFault(START_MS + 4 * MINUTE_MS, START_MS + 7 * MINUTE_MS)
    walk = pricing(PricePathKind.RANDOM_WALK)
    frozen = walk.with_fault(stale)
    window = range(START_MS + 4 * MINUTE_MS, START_MS + 7 * MINUTE_MS, 20_000)
    assert {frozen.price_at(time_ms) for time_ms in window} == {walk.price_at(START_MS + 4 * MINUTE_MS)}
    outside = [
        *range(START_MS, START_MS + 4 * MINUTE_MS, 20_000),
        *range(START_MS + 7 * MINUTE_MS, START_MS + 20 * MINUTE_MS, 20_000),
    ]
    assert prices(frozen, outside) == prices(walk, outside)
