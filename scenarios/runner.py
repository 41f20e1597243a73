"""Runs a scenario file against three real services and writes the JSON, JUnit and journal reports."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import grpc
from google.protobuf import duration_pb2, timestamp_pb2

from oes.bridge.v1 import bridge_pb2
from oes.control.v1 import control_pb2
from oes.custodian.v1 import custodian_pb2
from oes.exchange.v1 import exchange_pb2
from scenarios.compare import ClientComparison, compare_document, compare_rows, holdings_from, sandbox_now_ms
from scenarios.endpoints import CALL_TIMEOUT_S, Endpoints, SandboxSession, admin_session, client_principal
from scenarios.invariants import InvariantResult, InvariantState, check_invariants
from scenarios.placement import Placement, placement_document, read_placement
from scenarios.scenario_file import Expectation, Scenario, ScenarioClient, Step, format_duration
from scenarios.seeding import seed_world
from scenarios.supervisor import ServicePorts, Supervisor, SupervisorError
from service_kit.auth import TokenAuthority
from service_kit.config import AUTH_SECRET_DEFAULT
from service_kit.rpc_errors import remote_error

EXIT_PASSED = 0
EXIT_EXPECTATION_FAILED = 1
EXIT_INVARIANT_BROKEN = 2
EXIT_CRASHED = 3
EXIT_INVALID_FILE = 5
RESULT_WORDS = {
    EXIT_PASSED: "passed",
    EXIT_EXPECTATION_FAILED: "expectation failed",
    EXIT_INVARIANT_BROKEN: "invariant broken",
    EXIT_CRASHED: "step failed or crash",
}

SERVICES = ("custodian", "exchange", "bridge")
JOURNAL_PAGE_SIZE = 1000
# A clock jump stops at most this many times at bridge timers (see _Run.advance_to).
ADVANCE_ROUNDS_MAX = 10_000
# Bridge timers that only read a venue's state; clocks need not stop at them.
_PROBE_TIMER_PREFIXES = ("venue-check:",)
JOURNAL_PAGES_MAX = 1000

_SIDES = {"buy": exchange_pb2.SIDE_BUY, "sell": exchange_pb2.SIDE_SELL}
_ORDER_TYPES = {"limit": exchange_pb2.ORDER_TYPE_LIMIT, "market": exchange_pb2.ORDER_TYPE_MARKET}
_TIMES_IN_FORCE = {
    "good_till_cancelled": exchange_pb2.TIME_IN_FORCE_GOOD_TILL_CANCELLED,
    "immediate_or_cancel": exchange_pb2.TIME_IN_FORCE_IMMEDIATE_OR_CANCEL,
    "fill_or_kill": exchange_pb2.TIME_IN_FORCE_FILL_OR_KILL,
}
_VENUE_STATES = {
    "operating": exchange_pb2.VENUE_STATE_OPERATING,
    "withdrawals_paused": exchange_pb2.VENUE_STATE_WITHDRAWALS_PAUSED,
    "trading_halted": exchange_pb2.VENUE_STATE_TRADING_HALTED,
    "insolvent": exchange_pb2.VENUE_STATE_INSOLVENT,
}
_STATEMENT_FAULTS = {
    "over_claim": exchange_pb2.STATEMENT_FAULT_KIND_OVER_CLAIM,
    "flipped_sign": exchange_pb2.STATEMENT_FAULT_KIND_FLIPPED_SIGN,
    "trade_counted_twice": exchange_pb2.STATEMENT_FAULT_KIND_TRADE_COUNTED_TWICE,
    "wrong_key": exchange_pb2.STATEMENT_FAULT_KIND_WRONG_KEY,
    "overlapping_cutoff": exchange_pb2.STATEMENT_FAULT_KIND_OVERLAPPING_CUTOFF,
}
_CALL_FAULT_ACTIONS = {
    "latency": control_pb2.CALL_FAULT_ACTION_ADD_LATENCY,
    "error": control_pb2.CALL_FAULT_ACTION_RETURN_ERROR,
    "drop_reply": control_pb2.CALL_FAULT_ACTION_DROP_REPLY,
    "duplicate_delivery": control_pb2.CALL_FAULT_ACTION_DUPLICATE_DELIVERY,
}
_SETTLEMENT_STATES = {
    "running": bridge_pb2.SETTLEMENT_STATE_RUNNING,
    "succeeded": bridge_pb2.SETTLEMENT_STATE_SUCCEEDED,
    "failed": bridge_pb2.SETTLEMENT_STATE_FAILED,
}
_CLAIM_STATES = {
    "open": custodian_pb2.CLAIM_STATE_OPEN,
    "settled": custodian_pb2.CLAIM_STATE_SETTLED,
    "superseded": custodian_pb2.CLAIM_STATE_SUPERSEDED,
    "netted": custodian_pb2.CLAIM_STATE_NETTED,
}
_CLAIM_STATE_WORDS = {state: word for word, state in _CLAIM_STATES.items()}
# One page of claims is enough for a scenario's handful of clients (the custodian caps it at 1000).
CLAIMS_PAGE_SIZE = 1000
_CONNECTION_STATES = {
    "active": bridge_pb2.CONNECTION_STATE_ACTIVE,
    "defaulted": bridge_pb2.CONNECTION_STATE_DEFAULTED,
}

# How long a service at an armed crash point may take to exit before the supervisor looks.
CRASH_EXIT_WAIT_S = 5.0


class RunCancelledError(Exception):
    """The run was asked to stop (Ctrl-C during `run --all`) before its next step."""


class StepRefusedError(Exception):
    """A step that did not do what the scenario says (refused, or not refused as expected)."""


@dataclass
class StepOutcome:
    """What one step did, and the invariants checked after it."""

    number: int
    line: int
    at_ms: int
    action: str
    passed: bool
    detail: str = ""
    invariants: list[InvariantResult] = field(default_factory=list)
    restarted: list[str] = field(default_factory=list)


@dataclass
class ExpectationOutcome:
    """One `expect` check and what was found."""

    line: int
    kind: str
    fields: Mapping[str, Any]
    passed: bool
    detail: str
    # The step after which it was checked; 0 when checked before the first step.
    after_step: int = 0


@dataclass
class RunResult:
    """The whole run: step outcomes, expectation outcomes, the merged journal and the exit code."""

    scenario: Scenario
    seed: int
    steps: list[StepOutcome] = field(default_factory=list)
    expectations: list[ExpectationOutcome] = field(default_factory=list)
    journal: list[dict[str, Any]] = field(default_factory=list)
    crash: str = ""
    duration_s: float = 0.0
    # Compare mode only: one row per client (holdings before and after, loss, time until usable).
    compare: list[ClientComparison] | None = None
    compare_error: str = ""
    # Where every client's assets sit after seeding and at the end, by client.
    placement_before: dict[str, Placement] = field(default_factory=dict)
    placement_after: dict[str, Placement] = field(default_factory=dict)
    placement_error: str = ""

    @property
    def exit_code(self) -> int:
        """3 step failed or crash, 2 invariant broken, 1 expectation failed, 0 passed."""
        if self.crash or not all(step.passed for step in self.steps):
            return EXIT_CRASHED
        if any(not result.passed for step in self.steps for result in step.invariants):
            return EXIT_INVARIANT_BROKEN
        if not all(expectation.passed for expectation in self.expectations):
            return EXIT_EXPECTATION_FAILED
        return EXIT_PASSED

    def failures(self) -> list[str]:
        """One line per failure, naming the step or expectation and its line in the file."""
        source = self.scenario.source
        lines = [f"crash: {self.crash}"] if self.crash else []
        for step in self.steps:
            where = (
                f"{source}:{step.line}: step {step.number} ({step.action} at {format_duration(step.at_ms)})"
            )
            if not step.passed:
                lines.append(f"{where} failed: {step.detail}")
            for result in step.invariants:
                if not result.passed:
                    lines.append(f"{where}: invariant {result.name} broken: {'; '.join(result.details)}")
        for expectation in self.expectations:
            if not expectation.passed:
                where = f"{source}:{expectation.line}: expectation {expectation.kind}"
                lines.append(f"{where} ({self.checked_when(expectation)}) failed: {expectation.detail}")
        return lines

    def checked_when(self, expectation: ExpectationOutcome) -> str:
        """Which step an expectation was checked after, in words."""
        if expectation.after_step == 0:
            return "checked before the first step"
        step = self.steps[expectation.after_step - 1]
        return (
            f"checked after step {step.number} of {len(self.scenario.steps)}: {step.action} at "
            f"{format_duration(step.at_ms)}, line {step.line}"
        )


def reproduce_command(source: Path | str, seed: int) -> str:
    """The one-line command that runs the same scenario with the same seed."""
    return f"oes scenario run {source} --seed {seed}"


def run_scenario(
    scenario: Scenario,
    seed: int | None = None,
    report_dir: Path | None = None,
    say: Callable[[str], None] = print,
    compare: bool = False,
    on_step: Callable[[int], None] = lambda number: None,
    cancel: threading.Event | None = None,
) -> RunResult:
    """Starts the services, seeds the world, runs the steps and checks; always stops the services.

    Every client's placement is read after seeding and after the last step. With `compare`, also fills
    `result.compare` (see scenarios/compare.py for how loss is valued without prices). `on_step` is
    called with each finished step's number; once `cancel` is set the run stops before its next step
    (raising RunCancelledError) and still stops the services.
    """
    seed = scenario.seed if seed is None else seed
    result = RunResult(scenario, seed)
    started_s = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="oes-scenario-") as data_dir:
        supervisor = Supervisor(
            scenario.world.as_world(seed),
            Path(data_dir),
            "sim",
            ServicePorts(0, 0, 0),
            say=say,
            bridge_arguments=[
                "--dispute-window-s",
                str(scenario.world.dispute_window_s),
                "--default-grace-s",
                str(scenario.world.default_grace_s),
            ],
        )
        try:
            supervisor.start()
            _Run(scenario, seed, supervisor, result, say, compare, on_step, cancel).run()
        except SupervisorError as error:
            result.crash = str(error)
        finally:
            supervisor.stop()
            result.duration_s = time.monotonic() - started_s
            if report_dir is not None:
                report_dir.mkdir(parents=True, exist_ok=True)
                logs = Path(data_dir) / "logs"
                if logs.exists():
                    shutil.copytree(logs, report_dir / "logs", dirs_exist_ok=True)
    if report_dir is not None:
        write_reports(result, report_dir)
    return result


class _Run:
    """One run's state: sessions, the sandbox time, armed fault names, the invariant history."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        supervisor: Supervisor,
        result: RunResult,
        say: Callable[[str], None],
        compare: bool,
        on_step: Callable[[int], None],
        cancel: threading.Event | None,
    ) -> None:
        self.scenario = scenario
        self.world = scenario.world
        self.seed = seed
        self.supervisor = supervisor
        self.result = result
        self.say = say
        self.authority = TokenAuthority(AUTH_SECRET_DEFAULT)
        self.now_ms = 0
        self.kept_down: set[str] = set()
        self.fault_names: dict[tuple[str, str], str] = {}
        self.crash_points: set[str] = set()
        self.invariant_state: InvariantState | None = None
        self.sessions: dict[str, SandboxSession] = {}
        self.compare = compare
        self.on_step = on_step
        self.cancel = cancel
        # Sandbox time (ms since the epoch) at scenario time 0, to place steps in the journals' time.
        self.epoch_ms = 0

    @property
    def endpoints(self) -> Endpoints:
        return self.supervisor.endpoints

    def address(self, service: str) -> str:
        return str(getattr(self.endpoints, service))

    @property
    def admin(self) -> SandboxSession:
        return self.session("admin")

    def session(self, who: str) -> SandboxSession:
        if who not in self.sessions:
            if who == "admin":
                self.sessions[who] = admin_session(self.endpoints, self.authority)
            else:
                self.sessions[who] = SandboxSession(self.endpoints, self.authority, client_principal(who))
        return self.sessions[who]

    def run(self) -> None:
        try:
            self.seed_world()
            self.snapshot_before()
            pending = sorted(
                (expectation for expectation in self.scenario.expectations if expectation.at_ms is not None),
                key=lambda expectation: expectation.line,
            )
            for number, step in enumerate(self.scenario.steps, start=1):
                if self.cancel is not None and self.cancel.is_set():
                    raise RunCancelledError(f"cancelled before step {number}")
                pending = self.check_due(pending, step.at_ms)
                self.run_step(number, step)
                self.on_step(number)
            self.check_due(pending, None)
            self.result.expectations += [
                self.check_expectation(expectation)
                for expectation in self.scenario.expectations
                if expectation.at_ms is None
            ]
            self.result.expectations.sort(key=lambda outcome: outcome.line)
            self.result.journal = self.read_journal()
            self.snapshot_after()
        finally:
            for session in self.sessions.values():
                session.close()

    # Where the assets sit, before and after; compare mode.

    def read_placements(self) -> dict[str, Placement]:
        return {
            client.identifier: read_placement(self.admin, client, self.world.assets)
            for client in self.world.clients
        }

    def snapshot_before(self) -> None:
        """Where every client's assets sit after seeding; a service that cannot be read leaves it out."""
        try:
            self.epoch_ms = sandbox_now_ms(self.admin, self.address("exchange")) - self.now_ms
            self.result.placement_before = self.read_placements()
        except grpc.RpcError as error:
            details = remote_error(error)
            self.result.placement_error = f"holdings unreadable before the first step: {details.code.name}"
            if self.compare:
                self.result.compare_error = self.result.placement_error
                self.compare = False

    def snapshot_after(self) -> None:
        """Where every client's assets sit at the end, and the compare rows if asked for."""
        try:
            self.result.placement_after = self.read_placements()
        except grpc.RpcError as error:
            details = remote_error(error)
            self.result.placement_error = f"holdings unreadable: {details.code.name} {details.message}"
            if self.compare:
                self.result.compare_error = self.result.placement_error
            return
        if not self.compare:
            return
        completed = [
            step
            for step, outcome in zip(self.scenario.steps, self.result.steps, strict=False)
            if outcome.passed and "expect_error" not in step.fields
        ]
        holdings = {
            moment: {
                client.identifier: holdings_from(placements[client.identifier], client)
                for client in self.world.clients
            }
            for moment, placements in (
                ("before", self.result.placement_before),
                ("after", self.result.placement_after),
            )
        }
        self.result.compare = compare_rows(
            self.world,
            holdings["before"],
            holdings["after"],
            self.result.journal,
            self.scenario.steps,
            completed,
            self.epoch_ms,
        )

    def check_due(self, pending: list[Expectation], before_ms: int | None) -> list[Expectation]:
        due = [e for e in pending if before_ms is None or (e.at_ms is not None and e.at_ms < before_ms)]
        self.result.expectations += [self.check_expectation(expectation) for expectation in due]
        return [expectation for expectation in pending if expectation not in due]

    # Seeding.

    def seed_world(self) -> None:
        seed_world(self.world.as_world(self.seed), self.endpoints, self.authority, say=lambda message: None)
        admin = self.admin
        for client in self.world.clients:
            if client.is_oes:
                for exchange, amounts in client.allocations.items():
                    for asset, amount in amounts.items():
                        self.allocate(
                            client.identifier, exchange, asset, amount, f"world/allocations/{asset}"
                        )
            else:
                account = f"clients/{client.identifier}"
                admin.exchange_admin.CreateAccount(
                    exchange_pb2.CreateAccountRequest(
                        request_id=f"world/accounts/{account}",
                        account=account,
                        custody_model=exchange_pb2.CUSTODY_MODEL_TRADITIONAL,
                    ),
                    timeout=CALL_TIMEOUT_S,
                )
                for asset, amount in client.deposits.items():
                    self.session(client.identifier).trading.CreateDeposit(
                        exchange_pb2.CreateDepositRequest(
                            request_id=f"world/exchange-deposits/{account}/{asset}",
                            account=account,
                            asset=asset,
                            amount=amount,
                        ),
                        timeout=CALL_TIMEOUT_S,
                    )
        for venue in self.world.exchanges:
            path = _price_path(venue.price_path, self.scenario.source)
            if path is None:
                continue
            markets = admin.trading.ListMarkets(exchange_pb2.ListMarketsRequest(), timeout=CALL_TIMEOUT_S)
            for market in markets.markets:
                admin.exchange_admin.SetPricePath(
                    exchange_pb2.SetPricePathRequest(
                        request_id=f"world/price-paths/{market.name}", market=market.name, path=path
                    ),
                    timeout=CALL_TIMEOUT_S,
                )
        self.say(f"seeded the world of {self.scenario.name} (seed {self.seed})")

    # Steps.

    def _wait_for_crashed_exit(self) -> None:
        deadline_s = time.monotonic() + CRASH_EXIT_WAIT_S
        for name in sorted(self.crash_points):
            process = self.supervisor.processes[name].process
            while process is not None and process.poll() is None and time.monotonic() < deadline_s:
                time.sleep(0.02)

    def run_step(self, number: int, step: Step) -> None:
        self.advance_to(step.at_ms, f"scenario/steps/{number}/advance")
        outcome = StepOutcome(number, step.line, step.at_ms, step.action, passed=True)
        request_id = f"scenario/steps/{number}"
        expected = step.fields.get("expect_error")
        try:
            self.perform(step, request_id)
        except grpc.RpcError as error:
            details = remote_error(error)
            if expected is None:
                outcome.passed = False
                outcome.detail = f"{details.code.name} {details.reason}: {details.message}"
            elif details.reason != expected:
                outcome.passed = False
                outcome.detail = (
                    f"expected the error {expected}, "
                    f"got {details.code.name} {details.reason}: {details.message}"
                )
            else:
                outcome.detail = f"refused as expected: {details.reason}"
        except StepRefusedError as error:
            if expected is None or str(error) != expected:
                outcome.passed = False
                outcome.detail = (
                    f"expected the error {expected}, got: {error}" if expected else f"refused: {error}"
                )
            else:
                outcome.detail = f"refused as expected: {expected}"
        else:
            if expected is not None:
                outcome.passed = False
                outcome.detail = f"expected the error {expected}, but the step succeeded"
        restarts_before = {name: managed.restart_count for name, managed in self.supervisor.processes.items()}
        if not outcome.passed:
            # A service that reached an armed crash point may still be exiting when its caller already
            # saw the connection drop: give it a moment so the supervisor sees it gone and restarts it.
            self._wait_for_crashed_exit()
        self.supervisor.check(keep_down=self.kept_down)
        outcome.restarted = [
            name
            for name, managed in self.supervisor.processes.items()
            if managed.restart_count > restarts_before[name]
        ]
        crashed_as_armed = [name for name in outcome.restarted if name in self.crash_points]
        if not outcome.passed and expected is None and crashed_as_armed:
            # The call was cut off by a crash point the scenario armed: that is the step's purpose.
            outcome.passed = True
            outcome.detail += f" ({', '.join(crashed_as_armed)} crashed at an armed crash point; restarted)"
        for name in outcome.restarted:
            if name not in self.crash_points:
                self.result.crash = f"{name} exited unexpectedly after step {number} (line {step.line})"
        if self.kept_down:
            outcome.invariants = [
                InvariantResult(
                    "all", True, (f"not checked: {', '.join(sorted(self.kept_down))} is down on purpose",)
                )
            ]
        else:
            try:
                outcome.invariants, self.invariant_state = check_invariants(
                    self.endpoints,
                    self.authority,
                    [f"exchanges/{exchange.identifier}" for exchange in self.world.exchanges],
                    self.invariant_state,
                )
            except grpc.RpcError as error:
                details = remote_error(error)
                outcome.passed = False
                outcome.detail += f" (invariants unreadable: {details.code.name} {details.message})"
        mark = "ok" if outcome.passed and all(r.passed for r in outcome.invariants) else "FAILED"
        when = format_duration(step.at_ms)
        self.say(f"  {mark:<6} step {number:>3} at {when:>8}  {step.action:<20} {outcome.detail}")
        self.result.steps.append(outcome)

    def advance_to(self, at_ms: int, request_id: str) -> None:
        """Moves every running service's clock to scenario time `at_ms`, in lockstep at bridge timers.

        The venues move first, so that what the bridge asks of them is stamped with the new time.
        A jump stops at every bridge timer that acts on the venues (a scheduled cycle, the end of a
        dispute window), so that the bridge finds them at that timer's time, not at the end of the
        jump; the bridge's venue checks only read a venue's state and need no stop.
        """
        for round_number in range(ADVANCE_ROUNDS_MAX):
            if at_ms <= self.now_ms:
                return
            stop_ms = min(at_ms, self._next_acting_bridge_timer_ms() or at_ms)
            suffix = f"/{round_number}" if round_number else ""
            self._advance_services(stop_ms - self.now_ms, request_id + suffix)
        raise AssertionError(
            f"{ADVANCE_ROUNDS_MAX} bridge timers inside one jump: a timer keeps rescheduling"
        )

    def _next_acting_bridge_timer_ms(self) -> int | None:
        """Scenario time of the bridge's next timer that acts on the venues; None when none is pending."""
        if "bridge" in self.kept_down:
            return None
        clock = self.admin.control(self.address("bridge")).GetClock(
            control_pb2.GetClockRequest(), timeout=CALL_TIMEOUT_S
        )
        bridge_now_ms = clock.now.ToMilliseconds()
        # A timer already due (scheduled for "now", as a restarted bridge schedules its catch-up
        # cycle) runs at the next advance: the clocks stop 1 ms later, before the venues move on.
        due = [
            max(timer.due_time.ToMilliseconds(), bridge_now_ms + 1)
            for timer in clock.pending_timers
            if not timer.name.startswith(_PROBE_TIMER_PREFIXES)
        ]
        return self.now_ms + min(due) - bridge_now_ms if due else None

    def _advance_services(self, delta_ms: int, request_id: str) -> None:
        assert delta_ms > 0, delta_ms
        duration = duration_pb2.Duration(seconds=delta_ms // 1000, nanos=(delta_ms % 1000) * 1_000_000)
        for service in SERVICES:
            if service in self.kept_down:
                continue
            self.admin.control(self.address(service)).AdvanceClock(
                control_pb2.AdvanceClockRequest(request_id=request_id, duration=duration),
                timeout=CALL_TIMEOUT_S,
            )
        self.now_ms += delta_ms
        self.supervisor.sim_elapsed_ms = self.now_ms

    def perform(self, step: Step, request_id: str) -> None:
        fields = step.fields
        action = step.action
        admin = self.admin
        exchange_id = fields.get("exchange", self.world.exchanges[0].identifier)
        client = self.world.client(fields["client"]) if "client" in fields else None
        if action == "place_order":
            assert client is not None
            request = exchange_pb2.PlaceOrderRequest(
                request_id=request_id,
                account=f"clients/{client.identifier}",
                market=fields["market"],
                side=_SIDES[fields["side"]],
                type=_ORDER_TYPES[fields["type"]],
                quantity=fields["quantity"],
                price=fields.get("price", ""),
                protection_price=fields.get("protection_price", ""),
                client_order_id=fields.get("client_order_id", ""),
                post_only=bool(fields.get("post_only", False)),
            )
            if "time_in_force" in fields:
                request.time_in_force = _TIMES_IN_FORCE[fields["time_in_force"]]
            self.session(client.identifier).trading.PlaceOrder(request, timeout=CALL_TIMEOUT_S)
        elif action == "cancel_all":
            assert client is not None
            self.session(client.identifier).trading.CancelAllOrders(
                exchange_pb2.CancelAllOrdersRequest(
                    request_id=request_id,
                    account=f"clients/{client.identifier}",
                    market=fields.get("market", ""),
                ),
                timeout=CALL_TIMEOUT_S,
            )
        elif action == "allocate":
            assert client is not None
            self.allocate(client.identifier, exchange_id, fields["asset"], fields["amount"], request_id)
        elif action == "deallocate":
            assert client is not None
            deallocation = (
                self.session(client.identifier)
                .network.CreateDeallocation(
                    bridge_pb2.CreateDeallocationRequest(
                        request_id=request_id,
                        connection=f"clients/{client.identifier}/connections/{exchange_id}",
                        asset=fields["asset"],
                        amount=fields["amount"],
                    ),
                    timeout=CALL_TIMEOUT_S,
                )
                .deallocation
            )
            if deallocation.state == bridge_pb2.TRANSFER_STATE_REJECTED:
                raise StepRefusedError(deallocation.reason)
        elif action == "deposit":
            assert client is not None
            self.deposit(client, fields["asset"], fields["amount"], request_id)
        elif action == "top_up":
            admin.custody_admin.SimulateDeposit(
                custodian_pb2.SimulateDepositRequest(
                    request_id=request_id,
                    owner=f"exchanges/{exchange_id}",
                    asset=fields["asset"],
                    amount=fields["amount"],
                ),
                timeout=CALL_TIMEOUT_S,
            )
        elif action == "withdraw":
            assert client is not None
            self.withdraw(client, fields, request_id)
        elif action == "settle":
            admin.bridge_admin.RunSettlementCycle(
                bridge_pb2.RunSettlementCycleRequest(
                    request_id=request_id, exchange=f"exchanges/{exchange_id}"
                ),
                timeout=CALL_TIMEOUT_S,
            )
        elif action == "set_venue_state":
            admin.exchange_admin.SetVenueState(
                exchange_pb2.SetVenueStateRequest(
                    request_id=request_id,
                    state=_VENUE_STATES[fields["state"]],
                    recovery_rate_bps=int(fields.get("recovery_rate_bps", 0)),
                ),
                timeout=CALL_TIMEOUT_S,
            )
        elif action == "set_statement_fault":
            admin.exchange_admin.SetStatementFault(
                exchange_pb2.SetStatementFaultRequest(
                    request_id=request_id,
                    fault=exchange_pb2.StatementFault(
                        kind=_STATEMENT_FAULTS[fields["kind"]],
                        factor=fields.get("factor", ""),
                        statements_count=int(fields.get("statements_count", 1)),
                    ),
                ),
                timeout=CALL_TIMEOUT_S,
            )
        elif action == "set_price_fault":
            fault = exchange_pb2.PriceFault(market=fields["market"])
            if fields["kind"] == "shock":
                fault.kind = exchange_pb2.PRICE_FAULT_KIND_SHOCK
                fault.shock_percent = fields["shock_percent"]
            else:
                fault.kind = exchange_pb2.PRICE_FAULT_KIND_STALE
                fault.duration.seconds = int(fields["duration_s"])
            admin.exchange_admin.SetPriceFault(
                exchange_pb2.SetPriceFaultRequest(request_id=request_id, fault=fault), timeout=CALL_TIMEOUT_S
            )
        elif action == "set_price_path":
            path = _price_path(fields["path"], self.scenario.source)
            admin.exchange_admin.SetPricePath(
                exchange_pb2.SetPricePathRequest(
                    request_id=request_id, market=fields["market"], path=path or exchange_pb2.PricePath()
                ),
                timeout=CALL_TIMEOUT_S,
            )
        elif action == "set_fault":
            self.set_fault(fields, request_id)
        elif action == "clear_faults":
            self.clear_faults(fields, request_id)
        elif action in ("dispute", "resolve_dispute"):
            assert client is not None
            self.dispute(action, client, exchange_id, fields, request_id)
        elif action == "kill":
            self.supervisor.kill(fields["service"])
            self.kept_down.add(fields["service"])
        elif action == "restart":
            service = fields["service"]
            if service not in self.kept_down:
                self.supervisor.kill(service)
            self.kept_down.discard(service)
            self.supervisor.restart(service)
            # A restarted process opens new connections; stale channels would point at the old one.
            for session in self.sessions.values():
                session.close()
            self.sessions.clear()
        else:
            assert action == "wait", f"unknown action {action}"

    def allocate(self, client: str, exchange: str, asset: str, amount: str, request_id: str) -> None:
        allocation = (
            self.session(client)
            .network.CreateAllocation(
                bridge_pb2.CreateAllocationRequest(
                    request_id=request_id,
                    connection=f"clients/{client}/connections/{exchange}",
                    asset=asset,
                    amount=amount,
                ),
                timeout=CALL_TIMEOUT_S,
            )
            .allocation
        )
        if allocation.state == bridge_pb2.TRANSFER_STATE_REJECTED:
            raise StepRefusedError(allocation.reason)

    def deposit(self, client: ScenarioClient, asset: str, amount: str, request_id: str) -> None:
        account = f"clients/{client.identifier}"
        if client.is_oes:
            self.admin.custody_admin.SimulateDeposit(
                custodian_pb2.SimulateDepositRequest(
                    request_id=request_id, owner=account, asset=asset, amount=amount
                ),
                timeout=CALL_TIMEOUT_S,
            )
        else:
            self.session(client.identifier).trading.CreateDeposit(
                exchange_pb2.CreateDepositRequest(
                    request_id=request_id, account=account, asset=asset, amount=amount
                ),
                timeout=CALL_TIMEOUT_S,
            )

    def withdraw(self, client: ScenarioClient, fields: Mapping[str, Any], request_id: str) -> None:
        account = f"clients/{client.identifier}"
        session = self.session(client.identifier)
        if not client.is_oes:
            session.trading.CreateWithdrawal(
                exchange_pb2.CreateWithdrawalRequest(
                    request_id=request_id, account=account, asset=fields["asset"], amount=fields["amount"]
                ),
                timeout=CALL_TIMEOUT_S,
            )
            return
        address = fields.get("address", f"{client.identifier}-cold-wallet")
        session.custody.CreateWhitelistAddress(
            custodian_pb2.CreateWhitelistAddressRequest(
                request_id=f"{request_id}/whitelist",
                client=account,
                asset=fields["asset"],
                address=address,
                label="scenario",
            ),
            timeout=CALL_TIMEOUT_S,
        )
        session.custody.CreateWithdrawal(
            custodian_pb2.CreateWithdrawalRequest(
                request_id=request_id,
                client=account,
                asset=fields["asset"],
                amount=fields["amount"],
                address=address,
            ),
            timeout=CALL_TIMEOUT_S,
        )

    def set_fault(self, fields: Mapping[str, Any], request_id: str) -> None:
        service = fields["service"]
        fault = control_pb2.Fault()
        if "call" in fields:
            call = fields["call"]
            fault.call.method = call["method"]
            fault.call.action = _CALL_FAULT_ACTIONS[call["effect"]]
            if "latency_ms" in call:
                fault.call.latency.FromMilliseconds(int(call["latency_ms"]))
            if "status" in call:
                fault.call.status_code = grpc.StatusCode[call["status"]].value[0]
            fault.call.reason = call.get("reason", "")
        else:
            fault.crash_point.point = fields["crash_point"]
            self.crash_points.add(service)
        trigger = fields.get("trigger", {"always": True})
        if "always" in trigger:
            fault.trigger.always = True
        elif "first_calls" in trigger:
            fault.trigger.first_calls = int(trigger["first_calls"])
        elif "every_nth" in trigger:
            fault.trigger.every_nth = int(trigger["every_nth"])
        else:
            fault.trigger.probability = str(trigger["probability"])
        control = self.admin.control(self.address(service))
        if "expire_after_s" in fields:
            now = control.GetClock(control_pb2.GetClockRequest(), timeout=CALL_TIMEOUT_S).now
            fault.expire_time.CopyFrom(
                timestamp_pb2.Timestamp(seconds=now.seconds + int(fields["expire_after_s"]), nanos=now.nanos)
            )
        armed = control.SetFault(
            control_pb2.SetFaultRequest(request_id=request_id, fault=fault), timeout=CALL_TIMEOUT_S
        ).fault
        if "name" in fields:
            self.fault_names[(service, fields["name"])] = armed.name

    def clear_faults(self, fields: Mapping[str, Any], request_id: str) -> None:
        target = fields.get("service", "all")
        services = SERVICES if target == "all" else (target,)
        name = fields.get("name")
        for service in services:
            if service in self.kept_down:
                continue
            if name is not None:
                assigned = self.fault_names.get((service, name))
                if assigned is None:
                    continue
                request = control_pb2.ClearFaultsRequest(request_id=request_id, name=assigned)
            else:
                request = control_pb2.ClearFaultsRequest(request_id=request_id)
            self.admin.control(self.address(service)).ClearFaults(request, timeout=CALL_TIMEOUT_S)
            if service == "exchange" and name is None:
                self.admin.exchange_admin.ClearVenueFaults(
                    exchange_pb2.ClearVenueFaultsRequest(request_id=f"{request_id}/venue"),
                    timeout=CALL_TIMEOUT_S,
                )

    def dispute(
        self, action: str, client: ScenarioClient, exchange: str, fields: Mapping[str, Any], request_id: str
    ) -> None:
        statement = f"exchanges/{exchange}/statements/{fields['statement']}"
        connection = f"clients/{client.identifier}/connections/{exchange}"
        if action == "dispute":
            self.session(client.identifier).network.CreateDispute(
                bridge_pb2.CreateDisputeRequest(
                    request_id=request_id,
                    statement=statement,
                    connection=connection,
                    asset=fields["asset"],
                    claimed_amount=fields["claimed_amount"],
                    reason=fields["reason"],
                ),
                timeout=CALL_TIMEOUT_S,
            )
            return
        disputes = self.admin.network.ListDisputes(
            bridge_pb2.ListDisputesRequest(client=f"clients/{client.identifier}"), timeout=CALL_TIMEOUT_S
        ).disputes
        matching = [
            dispute
            for dispute in disputes
            if dispute.statement == statement
            and dispute.connection == connection
            and dispute.asset == fields["asset"]
            and dispute.state == bridge_pb2.DISPUTE_STATE_OPEN
        ]
        if not matching:
            raise StepRefusedError("DISPUTE_NOT_FOUND")
        self.admin.bridge_admin.ResolveDispute(
            bridge_pb2.ResolveDisputeRequest(
                request_id=request_id,
                name=matching[0].name,
                approve=bool(fields["approve"]),
                resolved_amount=fields.get("resolved_amount", ""),
            ),
            timeout=CALL_TIMEOUT_S,
        )

    # Expectations.

    def check_expectation(self, expectation: Expectation) -> ExpectationOutcome:
        try:
            passed, detail = self.evaluate(expectation)
        except grpc.RpcError as error:
            details = remote_error(error)
            passed, detail = (
                False,
                f"could not read it: {details.code.name} {details.reason}: {details.message}",
            )
        return ExpectationOutcome(
            expectation.line, expectation.kind, expectation.fields, passed, detail, len(self.result.steps)
        )

    def evaluate(self, expectation: Expectation) -> tuple[bool, str]:
        fields = expectation.fields
        kind = expectation.kind
        admin = self.admin
        if kind == "custody_balance":
            account = fields["account"]
            owner = "/".join(account.split("/")[:2])
            balances = admin.custody.ListBalances(
                custodian_pb2.ListBalancesRequest(owner=owner), timeout=CALL_TIMEOUT_S
            ).balances
            found = next(
                (b.amount for b in balances if b.account == account and b.asset == fields["asset"]), "0"
            )
            return _equal_amounts(f"{account} {fields['asset']}", found, fields["equals"])
        if kind == "settlement_claim":
            return self.evaluate_settlement_claim(fields)
        if kind in ("exchange_balance", "claim"):
            response = admin.trading.GetBalances(
                exchange_pb2.GetBalancesRequest(account=fields["account"]), timeout=CALL_TIMEOUT_S
            )
            asset = fields["asset"]
            if kind == "exchange_balance":
                balance = next(
                    (b for b in response.balances if b.asset == asset), exchange_pb2.AccountBalance()
                )
                found = getattr(balance, fields["field"]) or "0"
                return _equal_amounts(
                    f"{fields['account']} {asset} {fields['field']}", found, fields["equals"]
                )
            claim = next((c for c in response.claims if c.asset == asset), None)
            if claim is None:
                return False, f"{fields['account']} has no claim in {asset}"
            passed, detail = _equal_amounts(
                f"claim of {fields['account']} in {asset}", claim.amount, fields["amount"]
            )
            if passed and "recovered" in fields:
                return _equal_amounts(
                    f"recovered for {fields['account']} in {asset}",
                    claim.recovered or "0",
                    fields["recovered"],
                )
            return passed, detail
        if kind == "settlement":
            settlements = admin.network.ListSettlements(
                bridge_pb2.ListSettlementsRequest(page_size=100), timeout=CALL_TIMEOUT_S
            ).settlements
            count = sum(
                1
                for settlement in settlements
                if settlement.exchange == f"exchanges/{fields['exchange']}"
                and settlement.state == _SETTLEMENT_STATES[fields["state"]]
            )
            return (
                count == fields["count"],
                f"{count} {fields['state']} settlements of {fields['exchange']} (expected {fields['count']})",
            )
        if kind == "connection":
            client = fields["name"].split("/")[1]
            connections = admin.network.ListConnections(
                bridge_pb2.ListConnectionsRequest(client=f"clients/{client}"), timeout=CALL_TIMEOUT_S
            ).connections
            states = {connection.name: connection.state for connection in connections}
            found_state = states.get(fields["name"])
            found = bridge_pb2.ConnectionState.Name(found_state) if found_state is not None else "missing"
            return (
                found_state == _CONNECTION_STATES[fields["state"]],
                f"{fields['name']} is {found} (expected {fields['state']})",
            )
        assert kind == "event", kind
        events = [
            event
            for event in self.read_journal()
            if event["service"] == fields["service"]
            and event["kind"] == fields["kind"]
            and ("subject" not in fields or event["subject"] == fields["subject"])
        ]
        described = f"{len(events)} {fields['kind']} events in the {fields['service']} journal"
        if "count" in fields:
            return len(events) == fields["count"], f"{described} (expected {fields['count']})"
        return bool(events), f"{described} (expected at least one)"

    # The journal.

    def evaluate_settlement_claim(self, fields: Mapping[str, Any]) -> tuple[bool, str]:
        """Claims between the creditor and debtor in the asset, filtered by amount and state, counted."""
        claims = self.admin.custody.ListClaims(
            custodian_pb2.ListClaimsRequest(party=fields["creditor"], page_size=CLAIMS_PAGE_SIZE),
            timeout=CALL_TIMEOUT_S,
        ).claims
        asset = fields["asset"]
        between = [claim for claim in claims if claim.debtor == fields["debtor"] and claim.asset == asset]
        matching = [
            claim
            for claim in between
            if ("amount" not in fields or Decimal(claim.amount) == Decimal(fields["amount"]))
            and ("state" not in fields or claim.state == _CLAIM_STATES[fields["state"]])
        ]
        found = ", ".join(
            f"{claim.name} {claim.amount} {_CLAIM_STATE_WORDS[claim.state]}"
            + (f" by {claim.closed_by_statement}" if claim.closed_by_statement else "")
            for claim in between
        )
        what = f"claims of {fields['creditor']} on {fields['debtor']} in {asset}: {found or 'none'}"
        if "count" in fields:
            return len(matching) == fields[
                "count"
            ], f"{what} ({len(matching)} match, expected {fields['count']})"
        return bool(matching), what

    def read_journal(self) -> list[dict[str, Any]]:
        """The three services' journals merged, ordered by sandbox time, service, then sequence."""
        rows: list[dict[str, Any]] = []
        for service in ("exchange", "bridge"):
            if service in self.kept_down:
                continue
            control = self.admin.control(self.address(service))
            after = 0
            for _ in range(JOURNAL_PAGES_MAX):
                page = control.ListJournal(
                    control_pb2.ListJournalRequest(after_sequence=after, page_size=JOURNAL_PAGE_SIZE),
                    timeout=CALL_TIMEOUT_S,
                )
                rows += [
                    {
                        "service": service,
                        "sequence": event.sequence,
                        "time": event.event_time.ToJsonString(),
                        "time_ms": event.event_time.ToMilliseconds(),
                        "kind": event.kind,
                        "subject": event.subject,
                        "attributes": dict(event.attributes),
                    }
                    for event in page.events
                ]
                if not page.events or page.events[-1].sequence >= page.last_sequence:
                    break
                after = page.events[-1].sequence
        if "custodian" not in self.kept_down:
            after = 0
            for _ in range(JOURNAL_PAGES_MAX):
                records = self.admin.custody.ListAuditRecords(
                    custodian_pb2.ListAuditRecordsRequest(after_sequence=after, page_size=JOURNAL_PAGE_SIZE),
                    timeout=CALL_TIMEOUT_S,
                ).records
                rows += [
                    {
                        "service": "custodian",
                        "sequence": record.sequence,
                        "time": record.record_time.ToJsonString(),
                        "time_ms": record.record_time.ToMilliseconds(),
                        "kind": record.method,
                        "subject": record.resource,
                        "attributes": {
                            "principal": record.principal,
                            "request_id": record.request_id,
                            "owner": record.owner,
                            "before": record.before,
                            "after": record.after,
                        },
                    }
                    for record in records
                ]
                if len(records) < JOURNAL_PAGE_SIZE:
                    break
                after = records[-1].sequence
        rows.sort(key=lambda row: (row["time_ms"], row["service"], row["sequence"]))
        return rows


def _price_path(node: Mapping[str, Any], source: Path) -> exchange_pb2.PricePath | None:
    kind = node["kind"]
    if kind == "constant":
        return None
    path = exchange_pb2.PricePath()
    if kind == "random_walk":
        path.random_walk.volatility_bps = int(node["volatility_bps"])
        path.random_walk.step.seconds = int(node.get("step_s", 1))
    elif kind == "scripted":
        for point in node["points"]:
            added = path.scripted.points.add()
            added.offset.seconds = int(point["offset_s"])
            added.change_percent = point["change_percent"]
    else:
        path.csv.file = str((source.parent / node["file"]).resolve())
    return path


def _equal_amounts(what: str, found: str, expected: str) -> tuple[bool, str]:
    passed = Decimal(found or "0") == Decimal(expected)
    return passed, f"{what} is {found or '0'} (expected {expected})"


# Reports.


def result_document(result: RunResult) -> dict[str, Any]:
    """The JSON result: scenario, seed, steps, invariants per step, expectations, duration, exit code."""
    document: dict[str, Any] = {
        "scenario": result.scenario.name,
        "source": str(result.scenario.source),
        "seed": result.seed,
        "exit_code": result.exit_code,
        "duration_s": round(result.duration_s, 3),
        "crash": result.crash,
        "steps": [
            {
                "number": step.number,
                "line": step.line,
                "at": format_duration(step.at_ms),
                "action": step.action,
                "passed": step.passed,
                "detail": step.detail,
                "restarted": step.restarted,
                "invariants": [
                    {"name": r.name, "passed": r.passed, "details": list(r.details)} for r in step.invariants
                ],
            }
            for step in result.steps
        ],
        "expectations": [
            {
                "line": outcome.line,
                "kind": outcome.kind,
                "fields": dict(outcome.fields),
                "passed": outcome.passed,
                "detail": outcome.detail,
                "after_step": outcome.after_step,
            }
            for outcome in result.expectations
        ],
        "reproduce": reproduce_command(result.scenario.source, result.seed),
    }
    if result.placement_before and result.placement_after:
        assets = result.scenario.world.assets
        document["placement"] = {
            client: {
                "before": placement_document(result.placement_before[client], assets),
                "after": placement_document(result.placement_after[client], assets),
            }
            for client in sorted(result.placement_after)
        }
    elif result.placement_error:
        document["placement"] = {"error": result.placement_error}
    if result.compare is not None:
        document["compare"] = compare_document(result.compare, result.scenario.world.assets)
    elif result.compare_error:
        document["compare"] = {"error": result.compare_error}
    return document


def junit_xml(result: RunResult) -> str:
    """JUnit XML: one test case per expectation and per invariant after each step."""
    suite = ElementTree.Element("testsuite", name=f"scenario.{result.scenario.name}")
    failures = 0
    cases = 0

    def case(name: str, classname: str, failure: str | None) -> None:
        nonlocal failures, cases
        cases += 1
        element = ElementTree.SubElement(suite, "testcase", name=name, classname=classname)
        if failure is not None:
            failures += 1
            ElementTree.SubElement(
                element, "failure", message=failure
            ).text = f"{failure}\nreproduce: {reproduce_command(result.scenario.source, result.seed)}"

    for step in result.steps:
        classname = f"scenario.{result.scenario.name}.step_{step.number:03d}"
        case(
            f"step {step.number} {step.action} (line {step.line})",
            classname,
            None if step.passed else step.detail,
        )
        for invariant in step.invariants:
            case(
                f"step {step.number} invariant {invariant.name}",
                classname,
                None if invariant.passed else "; ".join(invariant.details),
            )
    for outcome in result.expectations:
        case(
            f"expect {outcome.kind} (line {outcome.line})",
            f"scenario.{result.scenario.name}.expect",
            None if outcome.passed else outcome.detail,
        )
    if result.crash:
        case("services", f"scenario.{result.scenario.name}", result.crash)
    suite.set("tests", str(cases))
    suite.set("failures", str(failures))
    suite.set("time", f"{result.duration_s:.3f}")
    ElementTree.indent(suite)
    return ElementTree.tostring(suite, encoding="unicode") + "\n"


def journal_jsonl(rows: Sequence[Mapping[str, Any]]) -> str:
    """The merged journal, one JSON object a line with sorted keys, so that equal runs give equal bytes."""
    return "".join(json.dumps(row, sort_keys=True, separators=(",", ":")) + "\n" for row in rows)


def write_reports(result: RunResult, report_dir: Path) -> None:
    """Writes result.json, junit.xml and journal.jsonl into the report directory."""
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "result.json").write_text(
        json.dumps(result_document(result), indent=2, sort_keys=True) + "\n"
    )
    (report_dir / "junit.xml").write_text(junit_xml(result))
    (report_dir / "journal.jsonl").write_text(journal_jsonl(result.journal))
