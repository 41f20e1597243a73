"""Reference price paths (seeded random walk, script, CSV series) and price faults, in exact integers."""

from __future__ import annotations

import bisect
import hashlib
import itertools
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from service_kit.errors import ServiceError, failed_precondition, invalid_argument
from service_kit.money import UNITS_ABS_MAX, format_units, parse_units

PARTS_PER_MILLION = 1_000_000
BASIS_POINTS_PER_WHOLE = 10_000
# Prices never exceed what the rest of the sandbox (and SQLite) stores as an amount.
PRICE_UNITS_MAX = UNITS_ABS_MAX
# The random walk keeps its unrounded price in millionths of a unit, so a step smaller than a tick
# still moves the walk instead of being rounded away (which would freeze or bias it).
FINE_UNITS_PER_UNIT = 1_000_000
STEP_MS_MIN = 1_000
VOLATILITY_BPS_MAX = 1_000
# One query never computes more random-walk steps than this (about a minute of CPU), so a huge clock
# jump fails clearly instead of hanging the service.
STEPS_PER_QUERY_MAX = 10_000_000
SCRIPTED_POINTS_MAX = 1_000
CSV_ROWS_MAX = 1_000_000
FAULTS_MAX = 100
CHANGE_PERCENT_DECIMALS_MAX = 4
# A change lies strictly above -100 % (the price stays positive) and at most +10,000 %.
CHANGE_PPM_MIN_EXCLUSIVE = -PARTS_PER_MILLION
CHANGE_PPM_MAX = 100 * PARTS_PER_MILLION

# Irwin-Hall: the sum of twelve uniform draws on (0, 1) minus six has mean 0 and variance 1, close to a
# standard normal and bounded by ±6. Each draw is a 16-bit integer u standing for (2u + 1) / 2**17, the
# middle of its cell, so the integer numerator below is exactly symmetric about zero.
_UNIFORM_DRAWS = 12
_DRAW_LAYOUT = struct.Struct(f">{_UNIFORM_DRAWS}H")
_DRAW_DENOMINATOR = 2**17
_DRAW_SUM_MEAN_NUMERATOR = _UNIFORM_DRAWS * 2**16

_CHANGE_PERCENT_PATTERN = re.compile(r"^([-+]?)(\d{1,7})(?:\.(\d{1,4}))?$")
_MILLISECONDS_PATTERN = re.compile(r"^\d{1,15}$")
# RFC 3339 with an explicit offset; fractions stop at milliseconds so the conversion stays exact.
_RFC3339_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MILLISECOND = timedelta(milliseconds=1)


class PricePath(Protocol):
    """A reference price as a function of sandbox time."""

    def price_at(self, time_ms: int) -> int:
        """Returns the price in quote units at `time_ms`: positive and a multiple of the tick."""
        ...


def nearest_tick_units(numerator: int, denominator: int, tick_units: int) -> int:
    """Rounds the price numerator / denominator to the nearest tick, half up, never below one tick."""
    assert numerator >= 0 and denominator > 0, "prices are non-negative fractions"
    assert 0 < tick_units <= PRICE_UNITS_MAX
    ticks, remainder = divmod(numerator, denominator * tick_units)
    if 2 * remainder >= denominator * tick_units:
        ticks += 1
    return min(max(ticks, 1), PRICE_UNITS_MAX // tick_units) * tick_units


def _divide_half_away_from_zero(numerator: int, denominator: int) -> int:
    """Integer division rounding to nearest, ties away from zero, so that rounding is symmetric in sign."""
    assert denominator > 0
    quotient = (2 * abs(numerator) + denominator) // (2 * denominator)
    return quotient if numerator >= 0 else -quotient


def _check_change_ppm(change_ppm: int, reason: str, field_name: str) -> None:
    """Refuses a change that would make a price zero or negative, or absurdly large."""
    if not CHANGE_PPM_MIN_EXCLUSIVE < change_ppm <= CHANGE_PPM_MAX:
        raise invalid_argument(
            reason,
            field_name,
            f"change of {change_ppm} ppm must be above -100 % and at most +10000 %",
        )


@dataclass(frozen=True)
class ConstantPath:
    """A price that never moves."""

    price_units: int
    tick_units: int

    def __post_init__(self) -> None:
        assert self.price_units > 0 and self.tick_units > 0

    def price_at(self, time_ms: int) -> int:
        """Returns the constant price rounded to the tick."""
        return nearest_tick_units(self.price_units, 1, self.tick_units)


def standard_draw_numerator(seed_material: str, step: int) -> int:
    """Returns step `step`'s approximately standard-normal draw as a numerator over 2**17.

    The draw depends only on the seed material and the step number, never on earlier draws or on the
    order of queries, so every machine and every replay sees the same walk.
    """
    digest = hashlib.sha256(f"{seed_material}:{step}".encode()).digest()
    uniform_sum = sum(_DRAW_LAYOUT.unpack_from(digest))
    return 2 * uniform_sum + _UNIFORM_DRAWS - _DRAW_SUM_MEAN_NUMERATOR


class RandomWalkPath:
    """A seeded multiplicative random walk that moves once per whole step after its start."""

    def __init__(
        self,
        start_price_units: int,
        start_time_ms: int,
        volatility_bps: int,
        step_ms: int,
        seed_material: str,
        tick_units: int,
    ) -> None:
        assert 0 < start_price_units <= PRICE_UNITS_MAX and 0 < tick_units <= PRICE_UNITS_MAX
        if step_ms < STEP_MS_MIN:
            raise invalid_argument(
                "PRICE_PATH_INVALID", "step_ms", f"step of {step_ms} ms must be at least {STEP_MS_MIN} ms"
            )
        if not 0 <= volatility_bps <= VOLATILITY_BPS_MAX:
            raise invalid_argument(
                "PRICE_PATH_INVALID",
                "volatility_bps",
                f"volatility of {volatility_bps} bps must be between 0 and {VOLATILITY_BPS_MAX}",
            )
        self.start_price_units = start_price_units
        self.start_time_ms = start_time_ms
        self.volatility_bps = volatility_bps
        self.step_ms = step_ms
        self.seed_material = seed_material
        self.tick_units = tick_units
        self._start_fine_units = start_price_units * FINE_UNITS_PER_UNIT
        # The walk is floored at one tick so a long fall cannot reach zero and stay there.
        self._fine_units_min = tick_units * FINE_UNITS_PER_UNIT
        self._fine_units_max = PRICE_UNITS_MAX * FINE_UNITS_PER_UNIT
        # (step, unrounded price) of the furthest step computed. One tuple, replaced whole, so a reader
        # on another thread never sees a step paired with another step's price.
        self._cache: tuple[int, int] = (0, self._start_fine_units)

    def step_at(self, time_ms: int) -> int:
        """Returns how many whole steps have passed at `time_ms` (zero before the start)."""
        return max(0, (time_ms - self.start_time_ms) // self.step_ms)

    def price_at(self, time_ms: int) -> int:
        """Returns the walk's price at `time_ms`, rounded to the tick."""
        fine_units = self._fine_units_at_step(self.step_at(time_ms))
        return nearest_tick_units(fine_units, FINE_UNITS_PER_UNIT, self.tick_units)

    def _fine_units_at_step(self, step: int) -> int:
        cached_step, fine_units = self._cache
        if step < cached_step:
            # Earlier than the cache: recompute from the start and keep the cache where it is, because
            # queries mostly move forward with sandbox time.
            cached_step, fine_units = 0, self._start_fine_units
        if step - cached_step > STEPS_PER_QUERY_MAX:
            raise failed_precondition(
                "PRICE_PATH_TOO_MANY_STEPS",
                f"the price path would compute {step - cached_step} steps in one query; at most "
                f"{STEPS_PER_QUERY_MAX} are allowed, so advance the clock in smaller jumps",
            )
        move_denominator = BASIS_POINTS_PER_WHOLE * _DRAW_DENOMINATOR
        for next_step in range(cached_step + 1, step + 1):
            draw = standard_draw_numerator(self.seed_material, next_step)
            move = _divide_half_away_from_zero(fine_units * self.volatility_bps * draw, move_denominator)
            fine_units = min(max(fine_units + move, self._fine_units_min), self._fine_units_max)
        if step > self._cache[0]:
            self._cache = (step, fine_units)
        return fine_units


@dataclass(frozen=True)
class ScriptedPoint:
    """A point of a script: `offset_ms` after the start the price is `change_ppm` away from the start."""

    offset_ms: int
    change_ppm: int

    def __post_init__(self) -> None:
        _check_change_ppm(self.change_ppm, "PRICE_PATH_INVALID", "points")


class ScriptedPath:
    """Straight lines from the start price through scripted changes, then flat after the last point."""

    def __init__(
        self,
        start_price_units: int,
        start_time_ms: int,
        points: Sequence[ScriptedPoint],
        tick_units: int,
    ) -> None:
        assert 0 < start_price_units <= PRICE_UNITS_MAX and tick_units > 0
        if len(points) > SCRIPTED_POINTS_MAX:
            raise invalid_argument(
                "PRICE_PATH_INVALID", "points", f"{len(points)} points; at most {SCRIPTED_POINTS_MAX}"
            )
        previous_offset_ms = 0
        for index, point in enumerate(points):
            if point.offset_ms <= previous_offset_ms:
                raise invalid_argument(
                    "PRICE_PATH_INVALID",
                    "points",
                    f"point {index + 1} at offset {point.offset_ms} ms must come after "
                    f"{previous_offset_ms} ms; offsets are positive and strictly increasing",
                )
            previous_offset_ms = point.offset_ms
        self.start_price_units = start_price_units
        self.start_time_ms = start_time_ms
        self.tick_units = tick_units
        # The start itself is the implicit first point: no change at offset zero.
        self._offsets_ms = [0, *(point.offset_ms for point in points)]
        self._changes_ppm = [0, *(point.change_ppm for point in points)]

    def price_at(self, time_ms: int) -> int:
        """Returns the interpolated price at `time_ms`, rounded once to the tick."""
        offset_ms = time_ms - self.start_time_ms
        index = bisect.bisect_right(self._offsets_ms, offset_ms) - 1
        if index < 0 or index == len(self._offsets_ms) - 1:
            change_ppm = self._changes_ppm[max(index, 0)]
            return nearest_tick_units(
                self.start_price_units * (PARTS_PER_MILLION + change_ppm), PARTS_PER_MILLION, self.tick_units
            )
        # The change on a segment is the exact fraction change_numerator / span_ms, rounded only at the end.
        span_ms = self._offsets_ms[index + 1] - self._offsets_ms[index]
        change_numerator = self._changes_ppm[index] * span_ms + (
            self._changes_ppm[index + 1] - self._changes_ppm[index]
        ) * (offset_ms - self._offsets_ms[index])
        return nearest_tick_units(
            self.start_price_units * (PARTS_PER_MILLION * span_ms + change_numerator),
            PARTS_PER_MILLION * span_ms,
            self.tick_units,
        )


def parse_change_percent(text: str, field: str) -> int:
    """Parses a decimal percent such as "-30" or "2.5" into parts per million (-300000, 25000)."""
    match = _CHANGE_PERCENT_PATTERN.match(text)
    if match is None:
        raise invalid_argument(
            "CHANGE_PERCENT_INVALID",
            field,
            f'{text!r} is not a percent such as "-30" or "2.5" '
            f"(at most {CHANGE_PERCENT_DECIMALS_MAX} decimals)",
        )
    sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
    change_ppm = int(whole) * 10_000 + int(fraction.ljust(CHANGE_PERCENT_DECIMALS_MAX, "0"))
    if sign == "-":
        change_ppm = -change_ppm
    _check_change_ppm(change_ppm, "CHANGE_PERCENT_INVALID", field)
    return change_ppm


class CsvPath:
    """A step function through (time_ms, price_units) rows: the latest row at or before the time."""

    def __init__(self, rows: Sequence[tuple[int, int]], tick_units: int) -> None:
        assert rows, "parse_price_csv refuses a series without rows"
        assert all(price_units > 0 for _, price_units in rows)
        assert all(earlier[0] < later[0] for earlier, later in itertools.pairwise(rows))
        assert tick_units > 0
        self.tick_units = tick_units
        self._times_ms = [time_ms for time_ms, _ in rows]
        self._prices_units = [price_units for _, price_units in rows]

    def price_at(self, time_ms: int) -> int:
        """Returns the price of the latest row at or before `time_ms` (before all rows, the first)."""
        index = max(bisect.bisect_right(self._times_ms, time_ms) - 1, 0)
        return nearest_tick_units(self._prices_units[index], 1, self.tick_units)


def _csv_error(source_name: str, line_number: int, expected: str) -> ServiceError:
    return invalid_argument("PRICE_CSV_INVALID", "csv", f"{source_name} line {line_number}: {expected}")


def _parse_csv_timestamp_ms(text: str, source_name: str, line_number: int) -> int:
    """Reads integer milliseconds since the epoch or an RFC 3339 time with an offset."""
    if _MILLISECONDS_PATTERN.match(text):
        return int(text)
    expected = f"timestamp {text!r} must be milliseconds since 1970 or RFC 3339 such as 2026-01-01T00:00:00Z"
    if not _RFC3339_PATTERN.match(text):
        raise _csv_error(source_name, line_number, expected)
    try:
        # Only a parser here: the text carries its own offset, and nothing reads the wall clock.
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _csv_error(source_name, line_number, expected) from None
    time_ms = (moment - _EPOCH) // _ONE_MILLISECOND
    if time_ms < 0:
        raise _csv_error(source_name, line_number, f"timestamp {text!r} must not be before 1970")
    return time_ms


def parse_price_csv(text: str, source_name: str, quote_scale: int, tick_units: int) -> list[tuple[int, int]]:
    """Parses `timestamp,price` lines (optional header) into strictly increasing (time_ms, price_units)."""
    assert tick_units > 0
    # Spreadsheets often start a UTF-8 file with a byte-order mark, which is not part of the header.
    lines = text.removeprefix("\ufeff").splitlines()
    # The header is optional, so one line more than the row limit may be legitimate.
    if len(lines) > CSV_ROWS_MAX + 1:
        raise _csv_error(source_name, CSV_ROWS_MAX + 2, f"at most {CSV_ROWS_MAX} rows are allowed")
    rows: list[tuple[int, int]] = []
    for line_index, line in enumerate(lines):
        line_number = line_index + 1
        if not line.strip():
            continue
        fields = [field.strip() for field in line.split(",")]
        if line_number == 1 and [field.lower() for field in fields] == ["timestamp", "price"]:
            continue
        if len(fields) != 2:
            raise _csv_error(source_name, line_number, f"expected timestamp,price but found {line!r}")
        time_ms = _parse_csv_timestamp_ms(fields[0], source_name, line_number)
        try:
            price_units = parse_units(fields[1], quote_scale, "csv")
        except ServiceError as error:
            description = error.field_violations[0].description if error.field_violations else error.message
            raise _csv_error(source_name, line_number, f"price: {description}") from None
        if price_units < tick_units:
            raise _csv_error(
                source_name,
                line_number,
                f"price {fields[1]!r} must be at least one tick ({format_units(tick_units, quote_scale)})",
            )
        if rows and time_ms <= rows[-1][0]:
            raise _csv_error(
                source_name, line_number, f"timestamp {fields[0]!r} must be later than the previous row's"
            )
        rows.append((time_ms, price_units))
    if not rows:
        raise _csv_error(source_name, 1, "expected at least one row of timestamp,price")
    return rows


@dataclass(frozen=True)
class ShockFault:
    """From `start_ms` on, the price is multiplied by (1 + change_ppm / 1,000,000)."""

    start_ms: int
    change_ppm: int

    def __post_init__(self) -> None:
        _check_change_ppm(self.change_ppm, "PRICE_FAULT_INVALID", "change_percent")


@dataclass(frozen=True)
class StaleFault:
    """Inside [start_ms, end_ms) the price stays at the underlying price at `start_ms`."""

    start_ms: int
    end_ms: int

    def __post_init__(self) -> None:
        if self.end_ms <= self.start_ms:
            raise invalid_argument(
                "PRICE_FAULT_INVALID",
                "duration",
                f"a stale price must last a positive time; it starts at {self.start_ms} ms "
                f"and ends at {self.end_ms} ms",
            )


PriceFault = ShockFault | StaleFault


class FaultedPath:
    """A path with faults laid over it in order: each fault acts on the path as the earlier ones left it."""

    def __init__(self, base: PricePath, faults: Sequence[PriceFault], tick_units: int) -> None:
        assert tick_units > 0
        if len(faults) > FAULTS_MAX:
            raise invalid_argument(
                "PRICE_FAULT_INVALID", "faults", f"{len(faults)} price faults; at most {FAULTS_MAX}"
            )
        self.base = base
        self.faults = tuple(faults)
        self.tick_units = tick_units
        # Stale faults ask the base for the price at their start again and again; the base is
        # deterministic, so remembering those few prices (one per fault at most) is safe.
        self._base_prices_units: dict[int, int] = {}

    def price_at(self, time_ms: int) -> int:
        """Returns the faulted price at `time_ms`, rounded once to the tick."""
        # Walking from the last fault to the first: a stale fault moves the time at which the earlier
        # layers are read, a shock multiplies whatever the earlier layers give. So the whole stack is the
        # base price at one time times a product of shocks.
        query_ms = time_ms
        numerator, denominator = 1, 1
        for fault in reversed(self.faults):
            if isinstance(fault, StaleFault):
                if fault.start_ms <= query_ms < fault.end_ms:
                    query_ms = fault.start_ms
            elif query_ms >= fault.start_ms:
                numerator *= PARTS_PER_MILLION + fault.change_ppm
                denominator *= PARTS_PER_MILLION
        if query_ms == time_ms:
            base_price_units = self.base.price_at(query_ms)
        else:
            base_price_units = self._base_prices_units.get(query_ms) or self.base.price_at(query_ms)
            self._base_prices_units[query_ms] = base_price_units
        return nearest_tick_units(base_price_units * numerator, denominator, self.tick_units)
