"""`oes scenario run` with several scenarios side by side: whole reports, placement tables, Ctrl-C."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from scenarios.cli import main
from scenarios.runner import EXIT_PASSED, RunCancelledError, run_scenario
from scenarios.scenario_file import find_scenario, load_scenario

pytestmark = pytest.mark.e2e


def _child_processes() -> set[int]:
    """Every live child of this process (all its threads), from /proc."""
    children: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        children |= {int(pid) for pid in (task / "children").read_text().split()}
    return children


def test_two_scenarios_side_by_side_print_whole_reports_and_where_assets_sit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_code = main(
        ["scenario", "run", "happy-path", "withdrawal-freeze", "--jobs", "2", "--report-dir", str(tmp_path)]
    )

    output = capsys.readouterr()
    assert exit_code == EXIT_PASSED, output.err
    lines = output.out.splitlines()
    # Each scenario's lines come together, from its header to its verdict, never interleaved.
    for name, step_count in (("happy-path", 3), ("withdrawal-freeze", 9)):
        start = next(index for index, line in enumerate(lines) if line.startswith(f"ran {name} "))
        end = next(index for index, line in enumerate(lines) if line.startswith(f"{name}: passed in "))
        block = lines[start:end]
        assert sum(1 for line in block if line.lstrip().startswith("ok     step")) == step_count
        assert any("where every client's assets sit" in line for line in block)
    summary = lines[next(index for index, line in enumerate(lines) if line.strip() == "scenarios") :]
    assert [line.split()[:2] for line in summary if "passed" in line] == [
        ["happy-path", "passed"],
        ["withdrawal-freeze", "passed"],
    ]

    placement = json.loads((tmp_path / "happy-path" / "result.json").read_text())["placement"]["acme"]
    assert placement["before"]["locations"] == {
        "custody_allocated": {"BTC": "2.00000000", "USDT": "100000.000000"},
        "custody_available": {"BTC": "8.00000000", "USDT": "400000.000000"},
    }
    # Bought 0.5 and sold 0.1 BTC (see happy-path.yaml), settled into the allocation.
    assert placement["after"]["locations"]["custody_allocated"] == {
        "BTC": "2.40000000",
        "USDT": "75909.976000",
    }
    assert placement["after"]["frozen"] is False


def test_a_cancelled_run_stops_before_its_next_step_and_leaves_no_service_running() -> None:
    scenario = load_scenario(find_scenario("happy-path"))
    children_before = _child_processes()
    cancel = threading.Event()
    finished_steps: list[int] = []

    def on_step(number: int) -> None:
        finished_steps.append(number)
        cancel.set()  # As Ctrl-C would, while the first step's services are running.

    with pytest.raises(RunCancelledError, match="before step 2"):
        run_scenario(scenario, say=lambda message: None, on_step=on_step, cancel=cancel)

    assert finished_steps == [1]
    assert _child_processes() == children_before
