"""Compare mode on ftx-collapse: traditional loses what the estate keeps, OES at most its unsettled."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from scenarios.cli import main
from scenarios.runner import EXIT_PASSED

pytestmark = pytest.mark.e2e


def _events(journal: list[dict[str, Any]], service: str, kind: str, subject: str) -> list[dict[str, Any]]:
    return [
        event
        for event in journal
        if event["service"] == service and event["kind"] == kind and event["subject"] == subject
    ]


def test_ftx_collapse_compare_shows_what_each_custody_model_lost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_code = main(["scenario", "run", "ftx-collapse", "--compare", "--report-dir", str(tmp_path)])

    output = capsys.readouterr()
    assert exit_code == EXIT_PASSED, output.err
    reports = tmp_path / "ftx-collapse"
    compare = json.loads((reports / "result.json").read_text())["compare"]
    journal = [json.loads(line) for line in (reports / "journal.jsonl").read_text().splitlines()]
    rows = {row["client"]: row for row in compare["clients"]}
    assert {row["custody_model"] for row in rows.values()} == {"oes", "traditional"}
    traditional = rows["initech"]
    oes = rows["acme"]

    # The traditional client loses, in each asset, what the estate does not recover of its claim.
    claims = {
        event["attributes"]["asset"]: event["attributes"]
        for event in _events(journal, "exchange", "ESTATE_CLAIM", "clients/initech")
    }
    assert set(claims) == {"BTC", "USDT"}
    for asset, claim in claims.items():
        assert Decimal(claim["recovered"]) < Decimal(claim["amount"])
        expected_loss = Decimal(claim["amount"]) - Decimal(claim["recovered"])
        assert Decimal(traditional["loss"][asset]) == expected_loss, asset
        assert Decimal(traditional["after"][asset]) == Decimal(claim["recovered"])
    assert traditional["usable_after_ms"] is None
    assert "estate" in traditional["usable_after"]

    # The OES client's unsettled at the insolvency: it sold 0.2 BTC after the only settlement, so the
    # venue owed it the USDT proceeds (lost) and it still owed the venue the 0.2 BTC (kept).
    (defaulted,) = _events(journal, "bridge", "CONNECTION", "clients/acme/connections/okx-sim")
    outcome = defaulted["attributes"]
    assert outcome["state"] == "DEFAULTED"
    unsettled = {
        "BTC": Decimal(outcome["unsettled_at_risk.BTC"]),
        "USDT": Decimal(outcome["unsettled_at_risk.USDT"]),
    }
    assert unsettled["BTC"] == Decimal("-0.2")
    assert unsettled["USDT"] > 0
    for asset, at_risk in unsettled.items():
        # Positive unsettled was owed to the client and is its whole possible loss in that asset.
        assert Decimal(oes["loss"][asset]) <= max(at_risk, Decimal(0)), asset
    assert Decimal(oes["loss"]["USDT"]) > 0
    # Its principal came back to custody: the 9 BTC never allocated plus the settled 1.5 BTC.
    assert Decimal(oes["after"]["BTC"]) == Decimal("10.5")
    assert Decimal(oes["before"]["BTC"]) == Decimal("10")
    assert Decimal(outcome["principal_returned.BTC"]) == Decimal("1.5")
    usable_after_ms = oes["usable_after_ms"]
    assert isinstance(usable_after_ms, int)
    assert 0 <= usable_after_ms <= 5 * 60 * 1000

    # The printed table names both clients and states how loss is valued.
    assert "initech  traditional" in output.out
    assert "acme     oes" in output.out
    assert "no prices" in output.out
