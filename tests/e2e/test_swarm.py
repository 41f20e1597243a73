"""The swarm: generated scenarios are deterministic and valid, and a small swarm breaks no invariant."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.cli import main
from scenarios.scenario_file import load_scenario
from scenarios.swarm import EXIT_NO_INVARIANT_BROKEN, generate_scenario

pytestmark = pytest.mark.e2e


def test_the_same_seed_gives_the_same_scenario_and_two_seeds_differ() -> None:
    assert generate_scenario(17) == generate_scenario(17)
    assert generate_scenario(17) != generate_scenario(18)


def test_every_generated_scenario_is_valid(tmp_path: Path) -> None:
    for seed in range(1, 51):
        path = tmp_path / f"swarm-{seed}.yaml"
        path.write_text(generate_scenario(seed))
        scenario = load_scenario(path)
        assert scenario.seed == seed
        assert 8 <= len(scenario.steps) <= 15
        assert not scenario.expectations
        times_ms = [step.at_ms for step in scenario.steps]
        assert times_ms == sorted(times_ms)


def test_a_swarm_of_three_seeds_breaks_no_invariant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_code = main(
        [
            "scenario",
            "swarm",
            "--seeds",
            "3",
            "--first-seed",
            "1",
            "--jobs",
            "2",
            "--report-dir",
            str(tmp_path),
        ]
    )

    output = capsys.readouterr().out
    assert exit_code == EXIT_NO_INVARIANT_BROKEN, output
    assert "swarm: 3 seeds in" in output
    assert "0 broke an invariant, 0 crashed, 0 generated an invalid scenario" in output
    assert sorted(path.name for path in tmp_path.glob("swarm-*.yaml")) == [
        "swarm-1.yaml",
        "swarm-2.yaml",
        "swarm-3.yaml",
    ]
