"""The scenario runner over three real processes: a passing run, a failing expectation, a replayed journal."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from scenarios.cli import main
from scenarios.runner import EXIT_EXPECTATION_FAILED, EXIT_PASSED, run_scenario
from scenarios.scenario_file import find_scenario, load_scenario

pytestmark = pytest.mark.e2e

HAPPY_PATH = find_scenario("happy-path")


def test_happy_path_passes_and_writes_every_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_code = main(["scenario", "run", "happy-path", "--report-dir", str(tmp_path)])

    output = capsys.readouterr()
    assert exit_code == EXIT_PASSED, output.err
    assert "happy-path: passed" in output.out
    reports = tmp_path / "happy-path"
    assert (reports / "result.json").read_text().count('"passed": false') == 0
    assert "<failure" not in (reports / "junit.xml").read_text()
    assert (reports / "journal.jsonl").read_text().count("\n") > 10


def test_a_wrong_expectation_fails_naming_its_line_and_the_reproduce_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = tmp_path / "happy-path-wrong.yaml"
    original = HAPPY_PATH.read_text()
    good_line = '  - custody_balance: {account: clients/acme/available, asset: BTC, equals: "8"}'
    assert good_line in original
    wrong.write_text(original.replace(good_line, good_line.replace('"8"', '"7.5"')))
    wrong_line = 1 + wrong.read_text().splitlines().index(good_line.replace('"8"', '"7.5"'))

    exit_code = main(["scenario", "run", str(wrong), "--seed", "3"])

    output = capsys.readouterr()
    assert exit_code == EXIT_EXPECTATION_FAILED
    failure = (
        f"FAILED {wrong}:{wrong_line}: expectation custody_balance "
        "(checked after step 3 of 3: settle at 5m, line 42) failed: "
        "clients/acme/available BTC is 8.00000000 (expected 7.5)"
    )
    assert failure in output.err.splitlines()
    reproduce = output.err.strip().splitlines()[-1]
    assert reproduce == f"reproduce: oes scenario run {wrong} --seed 3"

    # The printed command, run as printed, fails the same way.
    program, *arguments = shlex.split(reproduce.removeprefix("reproduce: "))
    assert program == "oes"
    assert main(arguments) == EXIT_EXPECTATION_FAILED
    again = capsys.readouterr()
    assert [line for line in again.err.splitlines() if line.startswith("FAILED")] == [failure]
    assert again.err.strip().splitlines()[-1] == reproduce


def test_the_same_seed_gives_a_byte_identical_journal(tmp_path: Path) -> None:
    scenario = load_scenario(HAPPY_PATH)

    first = run_scenario(scenario, 5, tmp_path / "first", say=lambda message: None)
    second = run_scenario(scenario, 5, tmp_path / "second", say=lambda message: None)

    assert first.exit_code == second.exit_code == EXIT_PASSED
    journal = (tmp_path / "first" / "journal.jsonl").read_bytes()
    assert journal
    assert journal == (tmp_path / "second" / "journal.jsonl").read_bytes()


LOCKSTEP = """\
# Two scheduled cycles fall inside one clock jump.
name: lockstep
description: the clocks stop at each scheduled cycle inside a jump
seed: 9
world:
  assets: {BTC: 8, USDT: 6}
  settlement_interval_s: 600
  exchanges:
    - id: okx-sim
      settlement_funding: {BTC: "100", USDT: "10000000"}
  clients:
    - id: acme
      deposits: {BTC: "10", USDT: "500000"}
      connections: [okx-sim]
      allocations: {okx-sim: {BTC: "1", USDT: "100000"}}
steps:
  - at: 1m
    action: place_order
    client: acme
    market: BTC-USDT
    side: buy
    type: market
    quantity: "0.1"
  - at: 25m
    action: wait
expect:
  - settlement: {exchange: okx-sim, state: succeeded, count: 2}
"""


def test_a_clock_jump_stops_at_each_scheduled_cycle_so_the_venues_are_at_its_time(tmp_path: Path) -> None:
    source = tmp_path / "lockstep.yaml"
    source.write_text(LOCKSTEP)

    result = run_scenario(load_scenario(source), say=lambda message: None)

    assert result.exit_code == EXIT_PASSED, "\n".join(result.failures())
    start_ms = min(int(event["time_ms"]) for event in result.journal)
    statements = [
        (event["subject"], event["attributes"]["state"], (int(event["time_ms"]) - start_ms) // 60_000)
        for event in result.journal
        if event["service"] == "exchange" and event["kind"] == "STATEMENT"
    ]
    # Cut and confirmed at 10m and 20m of sandbox time, as the bridge's schedule says, not at 25m
    # where the jump ends.
    assert statements == [
        ("exchanges/okx-sim/statements/1", "ISSUED", 10),
        ("exchanges/okx-sim/statements/1", "CONFIRMED", 10),
        ("exchanges/okx-sim/statements/2", "ISSUED", 20),
        ("exchanges/okx-sim/statements/2", "CONFIRMED", 20),
    ]
