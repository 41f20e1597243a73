"""Swarm testing: random fault schedules from seeds, run against fresh services, invariants checked."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scenarios.runner import RunCancelledError, RunResult, reproduce_command, run_scenario, write_reports
from scenarios.scenario_file import ScenarioError, load_scenario

EXIT_NO_INVARIANT_BROKEN = 0
EXIT_INVARIANT_BROKEN = 2
# Not an invariant, but a bug of the sandbox itself: a generated scenario the loader refuses, or a
# run that crashed (a service exited on its own, or the runner raised).
EXIT_SWARM_BUG = 3

STEPS_MIN = 8
STEPS_MAX = 15
EXCHANGE = "okx-sim"
CLIENTS = ("acme", "birch")
MARKET = "BTC-USDT"
LOT_BTC_UNITS = 10_000  # 0.0001 BTC, the lot size of the default BTC-USDT market, in satoshis.
LOTS_CHOICES = (1, 2, 3, 5, 10, 20)
CALL_FAULT_LATENCY_MS = 50
# The exchange must come back well before the bridge's default grace (300 s) would call it defaulted.
DOWN_S_MAX = 30

# Methods the bridge calls on the venues (full names, as the control service matches them). Read-only
# methods the invariant checker also calls (ListMirrors, GetStatement) are left out on purpose: a fault
# there would make the invariants unreadable rather than exercise the bridge.
BRIDGE_CALLED_METHODS: tuple[tuple[str, str], ...] = (
    ("custodian", "/oes.custodian.v1.CustodySettlementService/LockAllocation"),
    ("custodian", "/oes.custodian.v1.CustodySettlementService/ClearAllocation"),
    ("custodian", "/oes.custodian.v1.CustodySettlementService/UnlockAllocation"),
    ("custodian", "/oes.custodian.v1.CustodySettlementService/ReleaseAllocation"),
    ("custodian", "/oes.custodian.v1.CustodySettlementService/SubmitStatement"),
    ("custodian", "/oes.custodian.v1.CustodySettlementService/ExecuteStatement"),
    ("exchange", "/oes.exchange.v1.PartnerService/ReserveAllocation"),
    ("exchange", "/oes.exchange.v1.PartnerService/ClearAllocation"),
    ("exchange", "/oes.exchange.v1.PartnerService/ReleaseAllocation"),
    ("exchange", "/oes.exchange.v1.PartnerService/ReserveDeallocation"),
    ("exchange", "/oes.exchange.v1.PartnerService/ClearDeallocation"),
    ("exchange", "/oes.exchange.v1.PartnerService/ReleaseDeallocation"),
    ("exchange", "/oes.exchange.v1.PartnerService/CreateStatement"),
    ("exchange", "/oes.exchange.v1.PartnerService/ConfirmStatement"),
)
CALL_FAULT_EFFECTS = ("drop_reply", "duplicate_delivery", "latency")
SETTLEMENT_CRASH_STEPS = ("CUTOFF", "VERIFY", "EXECUTE", "CONFIRM", "RECONCILE")
CRASH_MOMENTS = ("before_call", "after_call", "after_commit")
RESTARTABLE_SERVICES = ("exchange", "bridge")

# Each client holds 10 BTC and 500000 USDT in custody and starts with 2 BTC and 100000 USDT allocated.
# Every generated amount stays far below these, so that no step can be refused for lack of funds even
# if every step of a scenario (at most STEPS_MAX) went the same way.
WORLD: dict[str, Any] = {
    "assets": {"BTC": 8, "USDT": 6},
    "settlement_interval_s": 3600,
    "exchanges": [
        {
            "id": EXCHANGE,
            "display_name": "OKX (simulated)",
            "reference_price": "60000",
            "settlement_funding": {"BTC": "100", "USDT": "10000000"},
            "price_path": {"kind": "constant"},
        }
    ],
    "clients": [
        {
            "id": client,
            "display_name": client.capitalize(),
            "custody_model": "oes",
            "deposits": {"BTC": "10", "USDT": "500000"},
            "connections": [EXCHANGE],
            "allocations": {EXCHANGE: {"BTC": "2", "USDT": "100000"}},
        }
        for client in CLIENTS
    ],
}

# Simple kinds take one step; composite ones take several (see _Generator).
STEP_KIND_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("allocate", 2),
    ("deallocate", 2),
    ("market_order", 3),
    ("limit_order", 2),
    ("settle", 2),
    ("wait", 1),
    ("call_fault", 3),
    ("crash_at_settlement", 1),
    ("kill_and_restart", 1),
)
COMPOSITE_SIZES = {"crash_at_settlement": 3, "kill_and_restart": 2}


def _btc(units: int) -> str:
    whole, fraction = divmod(units, 100_000_000)
    return f"{whole}.{fraction:08d}".rstrip("0").rstrip(".")


class _Generator:
    """Draws one scenario's steps from a seeded random generator; never the global random or the clock."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.at_s = 0
        self.steps: list[dict[str, Any]] = []

    def step(self, action: str, **fields: Any) -> None:
        self.steps.append({"at": f"{self.at_s}s", "action": action, **fields})

    def later(self, low_s: int = 5, high_s: int = 90) -> None:
        self.at_s += self.random.randint(low_s, high_s)

    def generate(self) -> list[dict[str, Any]]:
        count = self.random.randint(STEPS_MIN, STEPS_MAX)
        kinds = [kind for kind, _ in STEP_KIND_WEIGHTS]
        weights = [weight for _, weight in STEP_KIND_WEIGHTS]
        self.at_s = self.random.randint(0, 30)
        # The last step is a settlement cycle, so that every armed fault meets one.
        for _ in range(STEPS_MAX):
            remaining = count - 1 - len(self.steps)
            if remaining <= 0:
                break
            kind = self.random.choices(kinds, weights)[0]
            if COMPOSITE_SIZES.get(kind, 1) > remaining:
                kind = "wait"
            getattr(self, f"_{kind}")()
            self.later()
        self.step("settle", exchange=EXCHANGE)
        assert STEPS_MIN <= len(self.steps) <= STEPS_MAX, len(self.steps)
        return self.steps

    def _client(self) -> str:
        return self.random.choice(CLIENTS)

    def _amount(self) -> tuple[str, str]:
        if self.random.random() < 0.5:
            return "BTC", _btc(self.random.randint(1, 50) * 100_000)  # 0.001 to 0.05 BTC.
        return "USDT", str(self.random.randint(1, 100) * 10)  # 10 to 1000 USDT.

    def _allocate(self) -> None:
        asset, amount = self._amount()
        self.step("allocate", client=self._client(), exchange=EXCHANGE, asset=asset, amount=amount)

    def _deallocate(self) -> None:
        asset, amount = self._amount()
        self.step("deallocate", client=self._client(), exchange=EXCHANGE, asset=asset, amount=amount)

    def _quantity(self) -> str:
        return _btc(self.random.choice(LOTS_CHOICES) * LOT_BTC_UNITS)

    def _market_order(self) -> None:
        side = self.random.choice(("buy", "sell"))
        self.step(
            "place_order",
            client=self._client(),
            market=MARKET,
            side=side,
            type="market",
            quantity=self._quantity(),
        )

    def _limit_order(self) -> None:
        # Resting orders away from the reference price 60000: they hold credit but do not trade.
        side = self.random.choice(("buy", "sell"))
        offset = self.random.randint(1, 10) * 100
        price = 60000 - offset if side == "buy" else 60000 + offset
        self.step(
            "place_order",
            client=self._client(),
            market=MARKET,
            side=side,
            type="limit",
            price=str(price),
            quantity=self._quantity(),
        )

    def _settle(self) -> None:
        self.step("settle", exchange=EXCHANGE)

    def _wait(self) -> None:
        self.step("wait")

    def _call_fault(self) -> None:
        service, method = self.random.choice(BRIDGE_CALLED_METHODS)
        effect = self.random.choice(CALL_FAULT_EFFECTS)
        call: dict[str, Any] = {"method": method, "effect": effect}
        if effect == "latency":
            call["latency_ms"] = CALL_FAULT_LATENCY_MS
        self.step(
            "set_fault",
            service=service,
            call=call,
            trigger={"first_calls": self.random.randint(1, 2)},
        )

    def _crash_at_settlement(self) -> None:
        point = f"settlement.{self.random.choice(SETTLEMENT_CRASH_STEPS)}.{self.random.choice(CRASH_MOMENTS)}"
        self.step("set_fault", service="bridge", crash_point=point, trigger={"first_calls": 1})
        self.later(1, 30)
        self.step("settle", exchange=EXCHANGE)
        # The supervisor restarts the bridge; a minute later it has resumed and finished the cycle.
        self.at_s += 60
        self.step("wait")

    def _kill_and_restart(self) -> None:
        service = self.random.choice(RESTARTABLE_SERVICES)
        self.step("kill", service=service)
        self.later(1, DOWN_S_MAX)
        self.step("restart", service=service)


def generate_scenario(seed: int) -> str:
    """The YAML text of a random scenario over a two-client world, derived only from `seed`."""
    steps = _Generator(seed).generate()
    document = {
        "name": f"swarm-{seed}",
        "description": (
            f"Swarm scenario generated from seed {seed}: allocations, deallocations, orders, "
            "settlements and faults at random; only the invariants are checked."
        ),
        "seed": seed,
        "world": WORLD,
        "steps": steps,
    }
    header = (
        f"# Swarm scenario generated by `oes scenario swarm` from seed {seed}; no expectations,\n"
        "# the run checks the invariants after every step.\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=120)


@dataclass
class SeedProblem:
    """One seed that went wrong: what, where, and the command that reproduces it."""

    seed: int
    source: Path
    details: list[str]

    @property
    def reproduce(self) -> str:
        return reproduce_command(self.source, self.seed)


@dataclass
class SwarmResult:
    """The whole swarm: seeds run, problems by kind, wall time."""

    seeds_run: int = 0
    broken: list[SeedProblem] = field(default_factory=list)
    crashed: list[SeedProblem] = field(default_factory=list)
    invalid: list[SeedProblem] = field(default_factory=list)
    refused_steps: list[SeedProblem] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def exit_code(self) -> int:
        """2 when an invariant broke, 3 when a generated file was invalid or a run crashed, else 0."""
        if self.broken:
            return EXIT_INVARIANT_BROKEN
        if self.crashed or self.invalid:
            return EXIT_SWARM_BUG
        return EXIT_NO_INVARIANT_BROKEN

    def summary(self) -> str:
        lines = [
            f"swarm: {self.seeds_run} seeds in {self.duration_s:.1f} s: "
            f"{len(self.broken)} broke an invariant, {len(self.crashed)} crashed, "
            f"{len(self.invalid)} generated an invalid scenario, "
            f"{len(self.refused_steps)} had a failed or refused step "
            "(listed for information; they do not fail the swarm unless an invariant broke)"
        ]
        for title, problems in (
            ("invariant broken", self.broken),
            ("crashed", self.crashed),
            ("invalid generated scenario", self.invalid),
            ("failed or refused step", self.refused_steps),
        ):
            for problem in problems:
                lines.append(f"{title}: seed {problem.seed}")
                lines += [f"  {detail}" for detail in problem.details]
                lines.append(f"  reproduce: {problem.reproduce}")
        return "\n".join(lines)


def _invariant_details(result: RunResult) -> list[str]:
    return [
        f"step {step.number} ({step.action} at line {step.line}): invariant {invariant.name} broken: "
        + "; ".join(invariant.details)
        for step in result.steps
        for invariant in step.invariants
        if not invariant.passed
    ]


@dataclass
class _SeedOutcome:
    """What one seed's run found, to be merged into the swarm's result in seed order."""

    seed: int
    verdict: str
    broken: SeedProblem | None = None
    crashed: SeedProblem | None = None
    invalid: SeedProblem | None = None
    refused_steps: SeedProblem | None = None


def run_swarm(
    seeds: range, report_dir: Path, say: Callable[[str], None] = print, jobs: int = 1
) -> SwarmResult:
    """Generates, validates and runs one scenario per seed, `jobs` at a time; the files stay in `report_dir`.

    Each seed runs against its own three services, so seeds side by side do not change what any of
    them finds. Problems are listed in seed order whatever order the seeds finished in. On Ctrl-C
    every running seed stops before its next step, its services are stopped, and
    KeyboardInterrupt propagates.
    """
    assert jobs >= 1, jobs
    cancel = threading.Event()
    report_dir.mkdir(parents=True, exist_ok=True)
    swarm = SwarmResult()
    started_s = time.monotonic()
    outcomes: list[_SeedOutcome] = []
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="swarm") as pool:
        futures = [pool.submit(_run_seed, seed, report_dir, cancel) for seed in seeds]
        try:
            for future in as_completed(futures):
                outcome = future.result()
                outcomes.append(outcome)
                say(f"seed {outcome.seed}: {outcome.verdict}")
        except KeyboardInterrupt:
            cancel.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    for outcome in sorted(outcomes, key=lambda item: item.seed):
        swarm.seeds_run += 1
        for problems, problem in (
            (swarm.broken, outcome.broken),
            (swarm.crashed, outcome.crashed),
            (swarm.invalid, outcome.invalid),
            (swarm.refused_steps, outcome.refused_steps),
        ):
            if problem is not None:
                problems.append(problem)
    swarm.duration_s = time.monotonic() - started_s
    return swarm


def _run_seed(seed: int, report_dir: Path, cancel: threading.Event) -> _SeedOutcome:
    source = report_dir / f"swarm-{seed}.yaml"
    source.write_text(generate_scenario(seed))
    try:
        scenario = load_scenario(source)
    except ScenarioError as error:
        return _SeedOutcome(
            seed, "INVALID generated scenario", invalid=SeedProblem(seed, source, [str(error)])
        )
    try:
        result = run_scenario(scenario, seed, None, say=lambda message: None, cancel=cancel)
    except RunCancelledError:
        raise
    except Exception as error:
        # Any runner failure is a finding to report with its seed, not a reason to stop the swarm.
        problem = SeedProblem(seed, source, [f"the runner raised {error!r}"])
        return _SeedOutcome(seed, f"CRASHED ({error!r})", crashed=problem)
    outcome = _SeedOutcome(seed, "ok")
    broken = _invariant_details(result)
    failed_steps = [
        f"step {step.number} ({step.action} at line {step.line}): {step.detail}"
        for step in result.steps
        if not step.passed
    ]
    if broken:
        outcome.broken = SeedProblem(seed, source, broken)
        outcome.verdict = "INVARIANT BROKEN"
    if result.crash:
        outcome.crashed = SeedProblem(seed, source, [f"crash: {result.crash}"])
        outcome.verdict = "CRASHED" if not broken else outcome.verdict
    if failed_steps:
        outcome.refused_steps = SeedProblem(seed, source, failed_steps)
        outcome.verdict += f" ({len(failed_steps)} step(s) failed or refused)"
    if broken or result.crash:
        write_reports(result, report_dir / f"swarm-{seed}")
    outcome.verdict += f" in {result.duration_s:.1f} s"
    return outcome
