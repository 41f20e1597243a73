"""Reference price paths and price faults: determinism, exact rounding, scripts, CSV series, faults."""

from __future__ import annotations

import ast
import inspect
import itertools
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.domain import price_paths
from exchange_sim.domain.price_paths import (
    ConstantPath,
    CsvPath,
    FaultedPath,
    PricePath,
    RandomWalkPath,
    ScriptedPath,
    ScriptedPoint,
    ShockFault,
    StaleFault,
    nearest_tick_units,
    parse_change_percent,
    parse_price_csv,
)
from service_kit.errors import ErrorCode, ServiceError

USDT = 10**6
TICK_UNITS = USDT // 100
START_UNITS = 60_000 * USDT
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
MINUTE_MS = 60_000
STEP_MS = 1_000


def walk(
    seed_material: str = "seed-7:BTC-USDT", volatility_bps: int = 50, tick_units: int = TICK_UNITS
) -> RandomWalkPath:
    """A BTC-USDT walk from 60 000 USDT with one step per second."""
    return RandomWalkPath(START_UNITS, START_MS, volatility_bps, STEP_MS, seed_material, tick_units)


def step_prices(path: PricePath, steps: int) -> list[int]:
    """The price at the start and after each of `steps` steps."""
    return [path.price_at(START_MS + step * STEP_MS) for step in range(steps + 1)]


def expect_invalid(error: pytest.ExceptionInfo[ServiceError], reason: str, field_name: str) -> None:
    """Checks an INVALID_ARGUMENT with the given reason and field."""
    assert error.value.code is ErrorCode.INVALID_ARGUMENT
    assert error.value.reason == reason
    assert [violation.field for violation in error.value.field_violations] == [field_name]


def test_module_has_no_float_arithmetic() -> None:
    tree = ast.parse(inspect.getsource(price_paths))
    true_divisions = [node for node in ast.walk(tree) if isinstance(node, ast.Div)]
    float_literals = [
        node for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, float)
    ]
    float_calls = [node for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id == "float"]
    assert (true_divisions, float_literals, float_calls) == ([], [], [])


def test_rounding_is_to_the_nearest_tick_half_up_and_never_below_one_tick() -> None:
    assert ConstantPath(60_000_004_999, TICK_UNITS).price_at(0) == 60_000_000_000
    assert ConstantPath(60_000_005_000, TICK_UNITS).price_at(0) == 60_000_010_000
    assert nearest_tick_units(3, 2, 1) == 2  # 1.5 rounds up
    assert nearest_tick_units(1, 3, 1) == 1  # a third of a tick is still one tick
    assert nearest_tick_units(0, 1, TICK_UNITS) == TICK_UNITS


@given(
    numerator=st.integers(0, 10**30),
    denominator=st.integers(1, 10**12),
    tick_units=st.integers(1, 10**8),
)
def test_nearest_tick_is_on_tick_positive_and_within_half_a_tick(
    numerator: int, denominator: int, tick_units: int
) -> None:
    price_units = nearest_tick_units(numerator, denominator, tick_units)
    assert price_units > 0 and price_units % tick_units == 0
    exact = Fraction(numerator, denominator)
    if tick_units < exact < price_paths.PRICE_UNITS_MAX - tick_units:
        assert -Fraction(tick_units, 2) < price_units - exact <= Fraction(tick_units, 2)


def test_random_walk_is_pinned_for_replays_on_every_machine() -> None:
    # A regression pin: changing the draw or the rounding changes every journal of every seed.
    assert step_prices(walk(), 5) == PINNED_PRICES


PINNED_PRICES = [
    60_000_000_000,
    59_917_540_000,
    59_759_770_000,
    59_666_730_000,
    59_906_660_000,
    59_564_380_000,
]


def test_same_seed_same_prices_and_another_seed_another_path() -> None:
    first, again, other = walk("seed-7:BTC-USDT"), walk("seed-7:BTC-USDT"), walk("seed-8:BTC-USDT")
    prices = step_prices(first, 100)
    assert step_prices(again, 100) == prices
    other_prices = step_prices(other, 100)
    assert sum(a != b for a, b in zip(prices, other_prices, strict=True)) >= 90
    assert len(set(prices)) > 50, "the walk moves"


def test_walk_starts_at_the_start_price_and_moves_only_on_whole_steps() -> None:
    path = walk()
    assert path.price_at(START_MS - 10 * MINUTE_MS) == START_UNITS
    assert path.price_at(START_MS + STEP_MS - 1) == START_UNITS
    assert path.price_at(START_MS + STEP_MS) != START_UNITS
    assert path.price_at(START_MS + 2 * STEP_MS - 1) == path.price_at(START_MS + STEP_MS)


def test_zero_volatility_walk_stays_at_the_start_price() -> None:
    path = walk(volatility_bps=0)
    assert set(step_prices(path, 50)) == {START_UNITS}


@settings(max_examples=60, deadline=None)
@given(first_step=st.integers(0, 400), second_step=st.integers(0, 400), offset_ms=st.integers(0, STEP_MS - 1))
def test_prices_do_not_depend_on_the_order_of_queries(
    first_step: int, second_step: int, offset_ms: int
) -> None:
    first_ms = START_MS + first_step * STEP_MS + offset_ms
    second_ms = START_MS + second_step * STEP_MS
    forward, backward = walk(), walk()
    forward_prices = (forward.price_at(first_ms), forward.price_at(second_ms))
    backward_second = backward.price_at(second_ms)
    backward_prices = (backward.price_at(first_ms), backward_second)
    assert forward_prices == backward_prices
    assert forward_prices == (walk().price_at(first_ms), walk().price_at(second_ms))


@settings(max_examples=60, deadline=None)
@given(
    start_units=st.integers(1, 10**12),
    tick_units=st.integers(1, 10**6),
    volatility_bps=st.integers(0, price_paths.VOLATILITY_BPS_MAX),
    seed_material=st.text(max_size=8),
    steps=st.integers(0, 300),
)
def test_every_walk_price_is_positive_and_on_tick(
    start_units: int, tick_units: int, volatility_bps: int, seed_material: str, steps: int
) -> None:
    path = RandomWalkPath(start_units, 0, volatility_bps, STEP_MS, seed_material, tick_units)
    for step in range(0, steps + 1, 7):
        price_units = path.price_at(step * STEP_MS)
        assert price_units > 0 and price_units % tick_units == 0


@pytest.mark.parametrize("volatility_bps", [50, 300])
def test_step_returns_have_the_configured_standard_deviation(volatility_bps: int) -> None:
    steps = 2_000
    # A one-unit tick at 60 000 USDT makes rounding a hundred-millionth of a basis point.
    prices = step_prices(walk(f"volatility-{volatility_bps}", volatility_bps, tick_units=1), steps)
    # Returns in units of 1e-8, so sigma is volatility_bps * 10**4 of them; integers only.
    returns = [(later - earlier) * 10**8 // earlier for earlier, later in itertools.pairwise(prices)]
    sigma = volatility_bps * 10**4
    squares = sum(value * value for value in returns)
    # The sample standard deviation lies within 15 % of sigma (the sampling error is about 1.6 %).
    assert 85**2 * steps * sigma**2 <= 100**2 * squares <= 115**2 * steps * sigma**2
    # The mean is within four standard errors of zero: no drift is built into the draw.
    assert sum(returns) ** 2 <= 16 * steps * sigma**2
    # Irwin-Hall draws are bounded by six standard deviations (plus rounding of the 1e-8 units).
    assert max(abs(value) for value in returns) <= 6 * sigma + 1


def test_walk_parameters_outside_their_bounds_are_refused() -> None:
    with pytest.raises(ServiceError) as error:
        RandomWalkPath(START_UNITS, START_MS, 50, 999, "seed", TICK_UNITS)
    expect_invalid(error, "PRICE_PATH_INVALID", "step_ms")
    for volatility_bps in (-1, price_paths.VOLATILITY_BPS_MAX + 1):
        with pytest.raises(ServiceError) as error:
            RandomWalkPath(START_UNITS, START_MS, volatility_bps, STEP_MS, "seed", TICK_UNITS)
        expect_invalid(error, "PRICE_PATH_INVALID", "volatility_bps")


def test_one_query_computes_at_most_the_step_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(price_paths, "STEPS_PER_QUERY_MAX", 50)
    path = walk()
    with pytest.raises(ServiceError) as error:
        path.price_at(START_MS + 51 * STEP_MS)
    assert (error.value.code, error.value.reason) == (
        ErrorCode.FAILED_PRECONDITION,
        "PRICE_PATH_TOO_MANY_STEPS",
    )
    # Moving forward in jumps within the limit goes arbitrarily far, because the walk is cached.
    assert path.price_at(START_MS + 50 * STEP_MS) > 0
    assert path.price_at(START_MS + 100 * STEP_MS) > 0
    # An earlier query recomputes from the start, and is bounded by the same limit.
    assert path.price_at(START_MS + 40 * STEP_MS) > 0
    with pytest.raises(ServiceError):
        path.price_at(START_MS + 60 * STEP_MS)


def crash_script() -> ScriptedPath:
    """Minus 30 % over ten minutes from 60 000 USDT."""
    return ScriptedPath(START_UNITS, START_MS, [ScriptedPoint(10 * MINUTE_MS, -300_000)], TICK_UNITS)


def test_scripted_crash_is_exact_at_five_and_ten_minutes_and_flat_after() -> None:
    path = crash_script()
    assert path.price_at(START_MS - MINUTE_MS) == 60_000 * USDT
    assert path.price_at(START_MS) == 60_000 * USDT
    assert path.price_at(START_MS + 5 * MINUTE_MS // 2) == 55_500 * USDT
    assert path.price_at(START_MS + 5 * MINUTE_MS) == 51_000 * USDT
    assert path.price_at(START_MS + 10 * MINUTE_MS) == 42_000 * USDT
    assert path.price_at(START_MS + 10 * MINUTE_MS + 1) == 42_000 * USDT
    assert path.price_at(START_MS + 24 * 60 * MINUTE_MS) == 42_000 * USDT


def test_scripted_path_follows_several_segments() -> None:
    points = [ScriptedPoint(10 * MINUTE_MS, -300_000), ScriptedPoint(20 * MINUTE_MS, 100_000)]
    path = ScriptedPath(START_UNITS, START_MS, points, TICK_UNITS)
    assert path.price_at(START_MS + 15 * MINUTE_MS) == 54_000 * USDT  # halfway from -30 % to +10 %
    assert path.price_at(START_MS + 30 * MINUTE_MS) == 66_000 * USDT
    assert ScriptedPath(START_UNITS, START_MS, [], TICK_UNITS).price_at(START_MS + MINUTE_MS) == START_UNITS


@given(elapsed_ms=st.integers(-MINUTE_MS, 12 * MINUTE_MS))
def test_scripted_price_is_the_exact_line_rounded_once(elapsed_ms: int) -> None:
    start_units, tick_units, span_ms = 12_345_678, 1_000, 7 * MINUTE_MS + 13
    path = ScriptedPath(start_units, 0, [ScriptedPoint(span_ms, -123_457)], tick_units)
    fraction_done = Fraction(min(max(elapsed_ms, 0), span_ms), span_ms)
    exact = start_units * (1 + Fraction(-123_457, 10**6) * fraction_done)
    ticks, remainder = divmod(exact, tick_units)
    expected = (int(ticks) + (1 if remainder * 2 >= tick_units else 0)) * tick_units
    assert path.price_at(elapsed_ms) == expected


@pytest.mark.parametrize(
    "points",
    [
        [ScriptedPoint(0, -1)],
        [ScriptedPoint(2_000, -1), ScriptedPoint(2_000, -2)],
        [ScriptedPoint(2_000, -1), ScriptedPoint(1_000, -2)],
        [ScriptedPoint(offset, 0) for offset in range(1, price_paths.SCRIPTED_POINTS_MAX + 2)],
    ],
)
def test_bad_scripts_are_refused(points: list[ScriptedPoint]) -> None:
    with pytest.raises(ServiceError) as error:
        ScriptedPath(START_UNITS, START_MS, points, TICK_UNITS)
    expect_invalid(error, "PRICE_PATH_INVALID", "points")


def test_a_scripted_fall_of_a_hundred_percent_is_refused() -> None:
    with pytest.raises(ServiceError) as error:
        ScriptedPoint(MINUTE_MS, -1_000_000)
    expect_invalid(error, "PRICE_PATH_INVALID", "points")
    assert ScriptedPoint(MINUTE_MS, -999_999).change_ppm == -999_999


@pytest.mark.parametrize(
    ("text", "change_ppm"),
    [("-30", -300_000), ("2.5", 25_000), ("+5", 50_000), ("0.0001", 1), ("-99.9999", -999_999), ("0", 0)],
)
def test_change_percent_parses_into_parts_per_million(text: str, change_ppm: int) -> None:
    assert parse_change_percent(text, "shock_percent") == change_ppm


@pytest.mark.parametrize(
    "text", ["", "abc", "1.23456", "-100", "-150", "1e3", " 5", "5%", "10001", "--5", "."]
)
def test_bad_change_percent_is_refused(text: str) -> None:
    with pytest.raises(ServiceError) as error:
        parse_change_percent(text, "shock_percent")
    expect_invalid(error, "CHANGE_PERCENT_INVALID", "shock_percent")


def test_csv_with_header_milliseconds_and_rfc3339_is_a_step_function() -> None:
    text = (
        "timestamp,price\n"
        "1767225600000,60000\n"
        "2026-01-01T00:01:00Z, 59000.5\n"
        "2026-01-01T02:02:00.250+02:00,61000.004999\n"
        "\n"
    )
    rows = parse_price_csv(text, "btc.csv", 6, TICK_UNITS)
    assert rows == [
        (START_MS, 60_000 * USDT),
        (START_MS + MINUTE_MS, 59_000_500_000),
        (START_MS + 2 * MINUTE_MS + 250, 61_000_004_999),
    ]
    path = CsvPath(rows, TICK_UNITS)
    assert path.price_at(START_MS - MINUTE_MS) == 60_000 * USDT
    assert path.price_at(START_MS + MINUTE_MS - 1) == 60_000 * USDT
    assert path.price_at(START_MS + MINUTE_MS) == 59_000_500_000
    # Off-tick prices round to the nearest tick.
    assert path.price_at(START_MS + 3 * MINUTE_MS) == 61_000 * USDT


def test_csv_without_header_and_with_a_byte_order_mark_parses() -> None:
    assert parse_price_csv("\ufeff1000,1.5\r\n2000,2\r\n", "s.csv", 6, TICK_UNITS) == [
        (1_000, 1_500_000),
        (2_000, 2_000_000),
    ]


@pytest.mark.parametrize(
    ("text", "line_number", "expected"),
    [
        ("timestamp,price\n1000,1\n1000,2\n", 3, "later than the previous"),
        ("1000,1\n2000,abc\n", 2, "price"),
        ("1000,1\n2000,1.1234567\n", 2, "decimals"),
        ("1000,1\n2000,-1\n", 2, "negative"),
        ("1000,0.001\n", 1, "at least one tick (0.010000)"),
        ("yesterday,1\n", 1, "RFC 3339"),
        ("2026-02-30T00:00:00Z,1\n", 1, "RFC 3339"),
        ("2026-01-01T00:00:00,1\n", 1, "RFC 3339"),
        ("2026-01-01T00:00:00.0001Z,1\n", 1, "RFC 3339"),
        ("1969-12-31T23:59:59Z,1\n", 1, "before 1970"),
        ("1000,1\n2000,2,3\n", 2, "timestamp,price"),
        ("1000\n", 1, "timestamp,price"),
        ("timestamp,price\n", 1, "at least one row"),
        ("", 1, "at least one row"),
    ],
)
def test_bad_csv_is_refused_naming_the_source_and_line(text: str, line_number: int, expected: str) -> None:
    with pytest.raises(ServiceError) as error:
        parse_price_csv(text, "prices.csv", 6, TICK_UNITS)
    expect_invalid(error, "PRICE_CSV_INVALID", "csv")
    assert f"prices.csv line {line_number}:" in error.value.message
    assert expected in error.value.message


def test_csv_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(price_paths, "CSV_ROWS_MAX", 3)
    assert len(parse_price_csv("timestamp,price\n1,1\n2,1\n3,1\n", "s.csv", 6, TICK_UNITS)) == 3
    with pytest.raises(ServiceError) as error:
        parse_price_csv("timestamp,price\n1,1\n2,1\n3,1\n4,1\n", "s.csv", 6, TICK_UNITS)
    assert "at most 3 rows" in error.value.message


def test_shocks_apply_from_their_start_and_compound_in_order() -> None:
    base = ConstantPath(START_UNITS, TICK_UNITS)
    crash = FaultedPath(base, [ShockFault(START_MS, -100_000)], TICK_UNITS)
    assert crash.price_at(START_MS - 1) == 60_000 * USDT
    assert crash.price_at(START_MS) == 54_000 * USDT
    assert crash.price_at(START_MS + 60 * MINUTE_MS) == 54_000 * USDT
    both = FaultedPath(base, [ShockFault(START_MS, -100_000), ShockFault(START_MS, 100_000)], TICK_UNITS)
    assert both.price_at(START_MS) == 59_400 * USDT
    assert FaultedPath(base, [], TICK_UNITS).price_at(START_MS) == START_UNITS


def test_stale_price_is_frozen_in_its_window_and_follows_the_path_after() -> None:
    base = walk()
    stale_start_ms, stale_end_ms = START_MS + MINUTE_MS, START_MS + 5 * MINUTE_MS
    path = FaultedPath(walk(), [StaleFault(stale_start_ms, stale_end_ms)], TICK_UNITS)
    frozen = base.price_at(stale_start_ms)
    window = range(stale_start_ms, stale_end_ms, 7 * STEP_MS + 13)
    assert {path.price_at(time_ms) for time_ms in window} == {frozen}
    assert any(base.price_at(time_ms) != frozen for time_ms in window), "the base moved meanwhile"
    for time_ms in [START_MS, stale_start_ms - 1, stale_end_ms, stale_end_ms + 3 * MINUTE_MS]:
        assert path.price_at(time_ms) == base.price_at(time_ms)


def test_faults_act_on_the_path_the_earlier_faults_left() -> None:
    base = ScriptedPath(START_UNITS, START_MS, [ScriptedPoint(10 * MINUTE_MS, -300_000)], TICK_UNITS)
    stale = StaleFault(START_MS + 5 * MINUTE_MS, START_MS + 20 * MINUTE_MS)
    shock = ShockFault(START_MS + 8 * MINUTE_MS, -500_000)
    query_ms = START_MS + 9 * MINUTE_MS
    # Frozen first, then shocked: the shock halves the frozen price.
    assert FaultedPath(base, [stale, shock], TICK_UNITS).price_at(query_ms) == 25_500 * USDT
    # Shocked first, then frozen at 5 minutes, before the shock began: the shock is invisible.
    assert FaultedPath(base, [shock, stale], TICK_UNITS).price_at(query_ms) == 51_000 * USDT


def test_bad_faults_are_refused() -> None:
    with pytest.raises(ServiceError) as error:
        ShockFault(START_MS, -1_000_000)
    expect_invalid(error, "PRICE_FAULT_INVALID", "change_percent")
    with pytest.raises(ServiceError) as error:
        StaleFault(START_MS, START_MS)
    expect_invalid(error, "PRICE_FAULT_INVALID", "duration")
    too_many = [ShockFault(START_MS, 1)] * (price_paths.FAULTS_MAX + 1)
    with pytest.raises(ServiceError) as error:
        FaultedPath(ConstantPath(START_UNITS, TICK_UNITS), too_many, TICK_UNITS)
    expect_invalid(error, "PRICE_FAULT_INVALID", "faults")


fault_strategy = st.one_of(
    st.builds(ShockFault, st.integers(0, 100_000), st.integers(-999_999, price_paths.CHANGE_PPM_MAX)),
    st.integers(0, 100_000).flatmap(
        lambda start_ms: st.builds(
            StaleFault, st.just(start_ms), st.integers(start_ms + 1, start_ms + 100_000)
        )
    ),
)


@settings(max_examples=60, deadline=None)
@given(
    faults=st.lists(fault_strategy, max_size=5),
    tick_units=st.integers(1, 10**6),
    times_ms=st.lists(st.integers(-10_000, 200_000), min_size=1, max_size=5),
)
def test_every_faulted_price_is_positive_and_on_tick(
    faults: list[ShockFault | StaleFault], tick_units: int, times_ms: list[int]
) -> None:
    base = RandomWalkPath(START_UNITS, 0, 1_000, STEP_MS, "faults", tick_units)
    path = FaultedPath(base, faults, tick_units)
    for time_ms in times_ms:
        price_units = path.price_at(time_ms)
        assert price_units > 0 and price_units % tick_units == 0
