"""Where assets sit: the before/after table and the holdings compare mode derives from a placement."""

from __future__ import annotations

import io
import re

from rich.console import Console

from scenarios.compare import holdings_from
from scenarios.placement import Placement, placement_table
from scenarios.scenario_file import ScenarioClient
from service_kit.money import AssetScales

ASSETS = AssetScales({"BTC": 8, "USDT": 6})
ACME = ScenarioClient("acme", "Acme", "oes", {}, ("okx-sim",), {}, "okx-sim")
INITECH = ScenarioClient("initech", "Initech", "traditional", {}, ("okx-sim",), {}, "okx-sim")
BTC = 100_000_000


def _rendered(before: dict[str, Placement], after: dict[str, Placement]) -> list[str]:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(placement_table([ACME, INITECH], before, after, ASSETS))
    return [line.rstrip() for line in console.export_text().splitlines()]


def test_the_table_has_a_before_and_an_after_row_per_asset_and_only_the_locations_used() -> None:
    before = {
        "acme": Placement({"custody_available": {"BTC": 8 * BTC}, "custody_allocated": {"BTC": 2 * BTC}}),
        "initech": Placement({"exchange": {"BTC": 1 * BTC}}),
    }
    after = {
        "acme": Placement(
            {"custody_available": {"BTC": 8 * BTC}, "custody_allocated": {"BTC": 2 * BTC}}, frozen=True
        ),
        "initech": Placement(
            {"exchange": {"BTC": 0}, "claim": {"BTC": BTC}, "recovered": {"BTC": BTC // 2}},
            frozen=True,
            recovery_rate_bps={"BTC": 5000},
        ),
    }

    lines = _rendered(before, after)

    header = next(line for line in lines if "custody available" in line)
    assert header.split() == (
        [
            "client",
            "custody",
            "asset",
            "custody",
            "available",
            "custody",
            "allocated",
            "at",
            "exchange",
            "estate",
            "claim",
            "recovers",
        ]
    )
    assert "withdrawing" not in header  # No client had anything there.
    rows = [line.split() for line in lines if re.search(r"\s(before|after)\s+\d", line)]
    assert rows == [
        ["acme", "oes", "BTC", "before", "8.00000000", "2.00000000"],
        ["frozen", "after", "8.00000000", "2.00000000"],
        ["initech", "traditional", "BTC", "before", "1.00000000"],
        ["frozen", "after", "1.00000000", "0.50000000"],
    ]


def test_holdings_count_custody_and_unsettled_for_oes_and_deposits_or_recovery_for_traditional() -> None:
    oes = {
        "custody_available": {"BTC": 8 * BTC},
        "custody_allocated": {"BTC": 2 * BTC},
        "exchange": {"BTC": -BTC},
    }
    assert holdings_from(Placement(oes), ACME).units == {"BTC": 9 * BTC}
    # Frozen: the unsettled result at the failed exchange is lost, the custody stays.
    assert holdings_from(Placement(oes, frozen=True), ACME).units == {"BTC": 10 * BTC}

    traditional = {"exchange": {"BTC": BTC}}
    assert holdings_from(Placement(traditional), INITECH).units == {"BTC": BTC}
    failed = Placement(
        {"exchange": {"BTC": 0}, "claim": {"BTC": BTC}, "recovered": {"BTC": BTC // 4}},
        frozen=True,
        recovery_rate_bps={"BTC": 2500},
    )
    holdings = holdings_from(failed, INITECH)
    assert holdings.units == {"BTC": BTC // 4}
    assert holdings.claims == {"BTC": (BTC, BTC // 4, 2500)}
