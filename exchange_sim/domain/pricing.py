"""A market's reference price over sandbox time: a path started at a time and price, with faults on top."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any

from exchange_sim.domain.price_paths import (
    FAULTS_MAX,
    ConstantPath,
    CsvPath,
    FaultedPath,
    PriceFault,
    PricePath,
    RandomWalkPath,
    ScriptedPath,
    ScriptedPoint,
    ShockFault,
    StaleFault,
)
from service_kit.errors import failed_precondition


class PricePathKind(enum.Enum):
    """Shapes of a reference price path."""

    CONSTANT = "CONSTANT"
    RANDOM_WALK = "RANDOM_WALK"
    SCRIPTED = "SCRIPTED"
    CSV = "CSV"


@dataclass(frozen=True)
class PricePathSpec:
    """A path as configuration states it; a CSV path carries its rows (read once, so restarts agree)."""

    kind: PricePathKind = PricePathKind.CONSTANT
    volatility_bps: int = 0
    step_ms: int = 0
    points: tuple[ScriptedPoint, ...] = ()
    csv_rows: tuple[tuple[int, int], ...] = ()
    csv_source: str = ""


# Earlier path segments kept so that a fault reading the price before the current path began
# (a stale price set under the old path) still reads the old path.
EARLIER_SEGMENTS_MAX = 16


@dataclass(frozen=True)
class PathSegment:
    """A path that was in force from `start_time_ms` until the next segment began."""

    spec: PricePathSpec
    start_time_ms: int
    start_price_units: int


class _ChainedPath:
    """Earlier segments before the current one: each time reads the segment in force then."""

    def __init__(self, segments: list[tuple[int, PricePath]]) -> None:
        assert segments
        self._segments = segments

    def price_at(self, time_ms: int) -> int:
        for start_time_ms, path in reversed(self._segments):
            if time_ms >= start_time_ms:
                return path.price_at(time_ms)
        return self._segments[0][1].price_at(time_ms)


@dataclass
class MarketPricing:
    """The reference price of one market: `spec` started at `start_time_ms` from `start_price_units`."""

    spec: PricePathSpec
    start_time_ms: int
    start_price_units: int
    seed_material: str
    tick_units: int
    faults: list[PriceFault] = field(default_factory=list)
    earlier: list[PathSegment] = field(default_factory=list)

    def __post_init__(self) -> None:
        current = self._build_segment(PathSegment(self.spec, self.start_time_ms, self.start_price_units))
        self._base: PricePath = current
        if self.earlier:
            self._base = _ChainedPath(
                [(segment.start_time_ms, self._build_segment(segment)) for segment in self.earlier]
                + [(self.start_time_ms, current)]
            )
        self._path: PricePath = (
            FaultedPath(self._base, self.faults, self.tick_units) if self.faults else self._base
        )

    def _build_segment(self, segment: PathSegment) -> PricePath:
        spec = segment.spec
        if spec.kind is PricePathKind.RANDOM_WALK:
            return RandomWalkPath(
                segment.start_price_units,
                segment.start_time_ms,
                spec.volatility_bps,
                spec.step_ms,
                f"{self.seed_material}:{segment.start_time_ms}",
                self.tick_units,
            )
        if spec.kind is PricePathKind.SCRIPTED:
            return ScriptedPath(
                segment.start_price_units, segment.start_time_ms, spec.points, self.tick_units
            )
        if spec.kind is PricePathKind.CSV:
            return CsvPath(spec.csv_rows, self.tick_units)
        return ConstantPath(segment.start_price_units, self.tick_units)

    def price_at(self, time_ms: int) -> int:
        """The reference price at a sandbox time."""
        return self._path.price_at(time_ms)

    def restarted(self, spec: PricePathSpec, now_ms: int) -> MarketPricing:
        """A new path starting now from where the path (without its faults) is; the faults stay on top."""
        earlier = [*self.earlier, PathSegment(self.spec, self.start_time_ms, self.start_price_units)]
        return MarketPricing(
            spec,
            now_ms,
            self._base.price_at(now_ms),
            self.seed_material,
            self.tick_units,
            list(self.faults),
            earlier[-EARLIER_SEGMENTS_MAX:],
        )

    def with_fault(self, fault: PriceFault) -> MarketPricing:
        """The same path with one more fault on top."""
        if len(self.faults) >= FAULTS_MAX:
            raise failed_precondition(
                "TOO_MANY_PRICE_FAULTS", f"a market carries at most {FAULTS_MAX} price faults"
            )
        return MarketPricing(
            self.spec,
            self.start_time_ms,
            self.start_price_units,
            self.seed_material,
            self.tick_units,
            [*self.faults, fault],
            list(self.earlier),
        )

    def without_faults(self) -> MarketPricing:
        """The path without faults; it goes on from where the unfaulted path is now."""
        return MarketPricing(
            self.spec, self.start_time_ms, self.start_price_units, self.seed_material, self.tick_units
        )

    def active_faults(self, now_ms: int) -> list[PriceFault]:
        """Faults still in effect: every shock, and stale prices whose window has not ended."""
        return [fault for fault in self.faults if not isinstance(fault, StaleFault) or fault.end_ms > now_ms]

    def to_json(self) -> str:
        """The pricing as compact JSON, for storage."""
        data = _segment_json(PathSegment(self.spec, self.start_time_ms, self.start_price_units))
        data["faults"] = [_fault_json(fault) for fault in self.faults]
        if self.earlier:
            data["earlier"] = [_segment_json(segment) for segment in self.earlier]
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, seed_material: str, tick_units: int) -> MarketPricing:
        """Reads what `to_json` wrote."""
        data = json.loads(text)
        current = _segment_from_json(data)
        faults: list[PriceFault] = [_fault_from_json(item) for item in data["faults"]]
        earlier = [_segment_from_json(item) for item in data.get("earlier", [])]
        return cls(
            current.spec,
            current.start_time_ms,
            current.start_price_units,
            seed_material,
            tick_units,
            faults,
            earlier,
        )


def _segment_json(segment: PathSegment) -> dict[str, Any]:
    spec = segment.spec
    return {
        "kind": spec.kind.value,
        "volatility_bps": spec.volatility_bps,
        "step_ms": spec.step_ms,
        "points": [[point.offset_ms, point.change_ppm] for point in spec.points],
        "csv_rows": [list(row) for row in spec.csv_rows],
        "csv_source": spec.csv_source,
        "start_time_ms": segment.start_time_ms,
        "start_price_units": segment.start_price_units,
    }


def _segment_from_json(data: dict[str, Any]) -> PathSegment:
    spec = PricePathSpec(
        PricePathKind(data["kind"]),
        data["volatility_bps"],
        data["step_ms"],
        tuple(ScriptedPoint(offset_ms, change_ppm) for offset_ms, change_ppm in data["points"]),
        tuple((time_ms, price_units) for time_ms, price_units in data["csv_rows"]),
        data["csv_source"],
    )
    return PathSegment(spec, data["start_time_ms"], data["start_price_units"])


def _fault_json(fault: PriceFault) -> dict[str, int | str]:
    if isinstance(fault, ShockFault):
        return {"kind": "SHOCK", "start_ms": fault.start_ms, "change_ppm": fault.change_ppm}
    return {"kind": "STALE", "start_ms": fault.start_ms, "end_ms": fault.end_ms}


def _fault_from_json(data: dict[str, int | str]) -> PriceFault:
    start_ms = int(data["start_ms"])
    if data["kind"] == "SHOCK":
        return ShockFault(start_ms, int(data["change_ppm"]))
    return StaleFault(start_ms, int(data["end_ms"]))


def constant_pricing(price_units: int, seed_material: str, tick_units: int) -> MarketPricing:
    """A flat reference price (the default until a scenario sets a path)."""
    return MarketPricing(PricePathSpec(), 0, price_units, seed_material, tick_units)
