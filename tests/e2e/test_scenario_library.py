"""Every library scenario passes, and the same seed twice gives a byte-identical merged journal."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.runner import EXIT_PASSED, run_scenario
from scenarios.scenario_file import library_scenarios, load_scenario

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("path", library_scenarios(), ids=lambda path: path.stem)
def test_a_library_scenario_passes_and_replays_to_the_same_journal(path: Path, tmp_path: Path) -> None:
    scenario = load_scenario(path)

    # Both runs must pass; comparing the second with the first proves the run is reproducible.
    first = run_scenario(scenario, report_dir=tmp_path / "first", say=lambda message: None)
    second = run_scenario(scenario, report_dir=tmp_path / "second", say=lambda message: None)

    assert first.exit_code == EXIT_PASSED, "\n".join(first.failures())
    assert second.exit_code == EXIT_PASSED, "\n".join(second.failures())
    journal = (tmp_path / "first" / "journal.jsonl").read_bytes()
    assert journal.count(b"\n") > 10
    assert journal == (tmp_path / "second" / "journal.jsonl").read_bytes()
