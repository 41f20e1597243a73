"""`oes scenario run`: runs scenarios a few at a time with progress in the terminal, then their reports."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn
from rich.table import Table

from scenarios.compare import compare_table
from scenarios.placement import placement_table
from scenarios.runner import RESULT_WORDS, RunCancelledError, RunResult, reproduce_command, run_scenario
from scenarios.scenario_file import Scenario

# Scenarios run side by side in threads, each with its own three processes. One per core: on 2 cores
# `run --all` took 20.4 s with 2 jobs, 20.4 s with 3 and 23.4 s with 4 (start-up is CPU-bound).
JOBS_MAX = 8
JOBS_DEFAULT = max(1, min(os.cpu_count() or 1, 4))
EXIT_INTERRUPTED = 130
# Plain (non-terminal) output, as in CI logs, is this wide so that tables do not wrap.
PLAIN_WIDTH = 140


@dataclass
class _Planned:
    """One scenario to run, where its reports go, and what it said while running."""

    scenario: Scenario
    seed: int
    report_dir: Path | None
    task: TaskID
    lines: list[str] = field(default_factory=list)
    result: RunResult | None = None


def run_scenarios(
    scenarios: Sequence[Scenario],
    seed: int | None,
    report_root: Path | None,
    compare: bool,
    jobs: int,
) -> int:
    """Runs every scenario (`jobs` at a time), prints each one's steps and tables; the worst exit code.

    With one job, step lines appear as they happen; with more, each scenario's lines are printed
    together when it ends, so that parallel runs do not interleave. Ctrl-C stops every run before its
    next step, stops their services, and exits 130.
    """
    assert 1 <= jobs <= JOBS_MAX, jobs
    output = Console(highlight=False)
    if not output.is_terminal:
        output.width = PLAIN_WIDTH
    errors = Console(stderr=True, highlight=False, width=output.width)
    jobs = min(jobs, len(scenarios))
    live_lines = jobs == 1
    cancel = threading.Event()
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps"),
        console=output,
        transient=True,
        disable=not output.is_terminal,
    )
    exit_code = 0
    summary: list[tuple[str, str, float]] = []
    with progress, ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="scenario") as pool:
        planned = []
        for scenario in scenarios:
            scenario_seed = scenario.seed if seed is None else seed
            task = progress.add_task(f"{scenario.name} (seed {scenario_seed})", total=len(scenario.steps))
            report_dir = report_root / scenario.name if report_root else None
            planned.append(_Planned(scenario, scenario_seed, report_dir, task))

        def run_one(plan: _Planned) -> RunResult:
            def say(message: str) -> None:
                if live_lines:
                    output.print(message, markup=False, soft_wrap=True)
                else:
                    plan.lines.append(message)

            if live_lines:
                say(f"running {plan.scenario.name} (seed {plan.seed}) from {plan.scenario.source}")
            return run_scenario(
                plan.scenario,
                plan.seed,
                plan.report_dir,
                say=say,
                compare=compare,
                on_step=lambda number: progress.update(plan.task, completed=number),
                cancel=cancel,
            )

        futures: dict[Future[RunResult], _Planned] = {pool.submit(run_one, plan): plan for plan in planned}
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when="FIRST_COMPLETED")
                for future in done:
                    plan = futures[future]
                    progress.remove_task(plan.task)
                    result = plan.result = future.result()
                    if not live_lines:
                        output.print(
                            f"ran {plan.scenario.name} (seed {plan.seed}) from {plan.scenario.source}",
                            markup=False,
                        )
                        for line in plan.lines:
                            output.print(line, markup=False, soft_wrap=True)
                    _print_report(output, errors, plan, result)
                    exit_code = max(exit_code, result.exit_code)
        except (KeyboardInterrupt, RunCancelledError):
            cancel.set()
            progress.stop()
            errors.print("interrupted; stopping the services of every running scenario", markup=False)
            pool.shutdown(wait=True, cancel_futures=True)
            return EXIT_INTERRUPTED
    for plan in planned:
        assert plan.result is not None, "every future was waited for"
        summary.append((plan.scenario.name, RESULT_WORDS[plan.result.exit_code], plan.result.duration_s))
    if len(summary) > 1:
        output.print(_summary_table(summary))
    return exit_code


def _print_report(output: Console, errors: Console, plan: _Planned, result: RunResult) -> None:
    scenario = plan.scenario
    if result.compare is not None:
        output.print(compare_table(result.compare, scenario.world.assets), markup=False)
    elif result.compare_error:
        errors.print(f"compare: {result.compare_error}", markup=False)
    if result.placement_before and result.placement_after:
        output.print(
            placement_table(
                scenario.world.clients, result.placement_before, result.placement_after, scenario.world.assets
            )
        )
    elif result.placement_error:
        errors.print(f"placement: {result.placement_error}", markup=False)
    for failure in result.failures():
        errors.print(f"FAILED {failure}", markup=False, soft_wrap=True)
    verdict = RESULT_WORDS[result.exit_code]
    style = "green" if result.exit_code == 0 else "bold red"
    output.print(f"{scenario.name}: {verdict} in {result.duration_s:.1f} s", style=style, markup=False)
    if result.exit_code:
        errors.print(
            f"reproduce: {reproduce_command(scenario.source, plan.seed)}", markup=False, soft_wrap=True
        )
    if plan.report_dir is not None:
        output.print(f"reports: {plan.report_dir}", markup=False, soft_wrap=True)


def _summary_table(summary: Sequence[tuple[str, str, float]]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title="scenarios", title_justify="left")
    table.add_column("scenario")
    table.add_column("result")
    table.add_column("wall time", justify="right")
    for name, verdict, duration_s in summary:
        style = "green" if verdict == RESULT_WORDS[0] else "bold red"
        table.add_row(name, verdict, f"{duration_s:.1f} s", style=style)
    return table
