"""The whole scenario library (`oes scenario run --all`), beside the bare cost of starting its services.

Run from the repository root:
    python -m benchmarks.scenario_library [--jobs 2] [--rounds 1]

1. Bare: for every library scenario, the supervisor starts the three services of its world as
   separate processes (simulated clock, free ports), waits until all three serve, and stops them:
   no seeding, no steps, no invariant checks. Run `--jobs` at a time, like the library. This is the
   floor a run of the library cannot go below with one set of processes per scenario.
2. Library: every library scenario run as `oes scenario run --all --jobs N` runs it (seeding, steps,
   restarts, the seven invariants after every step, expectations, the merged journal).
Issue 6's goal: the library in under 30 s of wall time on this machine (2 cores).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from scenarios.run_command import JOBS_DEFAULT, run_scenarios
from scenarios.scenario_file import Scenario, library_scenarios, load_scenario
from scenarios.supervisor import ServicePorts, Supervisor


def start_and_stop(scenario: Scenario) -> None:
    """Starts the scenario's three services, waits until they serve, stops them."""
    with tempfile.TemporaryDirectory(prefix="oes-benchmark-") as data_dir:
        supervisor = Supervisor(
            scenario.world.as_world(scenario.seed),
            Path(data_dir),
            "sim",
            ServicePorts(0, 0, 0),
            say=lambda message: None,
        )
        try:
            supervisor.start()
        finally:
            supervisor.stop()


def bare_seconds(scenarios: list[Scenario], jobs: int) -> float:
    """Wall time to start and stop every scenario's services, `jobs` at a time."""
    started_s = time.monotonic()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(start_and_stop, scenarios))
    return time.monotonic() - started_s


def library_seconds(scenarios: list[Scenario], jobs: int) -> tuple[float, int]:
    """Wall time of running the whole library as `run --all` does, and its exit code."""
    started_s = time.monotonic()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        exit_code = run_scenarios(scenarios, None, None, compare=False, jobs=jobs)
    return time.monotonic() - started_s, exit_code


def main() -> None:
    """Measures and prints both figures for each round."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=JOBS_DEFAULT, help="scenarios side by side")
    parser.add_argument("--rounds", type=int, default=1, help="how many times to measure both")
    arguments = parser.parse_args()
    scenarios = [load_scenario(path) for path in library_scenarios()]
    print(f"{len(scenarios)} library scenarios, {arguments.jobs} at a time")
    for round_number in range(1, arguments.rounds + 1):
        bare_s = bare_seconds(scenarios, arguments.jobs)
        library_s, exit_code = library_seconds(scenarios, arguments.jobs)
        verdict = "passed" if exit_code == 0 else f"exit code {exit_code}"
        print(
            f"round {round_number}: bare start and stop {bare_s:.1f} s; "
            f"library {library_s:.1f} s ({verdict}); "
            f"starting processes is {100 * bare_s / library_s:.0f} % of it; goal < 30 s"
        )


if __name__ == "__main__":
    main()
