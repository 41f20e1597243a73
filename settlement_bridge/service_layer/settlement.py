"""Settlement cycles: cutoff, verify, execute, confirm and reconcile, one cycle at a time per exchange.

A cycle is persisted RUNNING before the first venue call and after every step, with request_ids
fixed by its number, so a restart resumes it where it stood and no statement is cut, executed or
confirmed twice. A new cycle of an exchange first finishes the exchange's running one. A statement
the exchange cannot fund yet keeps its cycle RUNNING at EXECUTE (the custodian waits for a top-up);
the next run or resume asks the custodian again instead of cutting off a new period.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext

import structlog

from service_kit.clock import Clock
from service_kit.errors import ErrorCode, ServiceError, not_found
from service_kit.money import AssetScales
from service_kit.signing import verify
from settlement_bridge.domain.events import EventKind
from settlement_bridge.domain.names import ConnectionName, parse_connection_name
from settlement_bridge.domain.settlement import (
    ReconciliationBreak,
    SettlementCycle,
    SettlementState,
    SettlementStep,
    reconcile,
    statement_problem,
)
from settlement_bridge.service_layer.disputes import DisputeService
from settlement_bridge.service_layer.locks import FreezeWindow
from settlement_bridge.service_layer.ports import (
    CrashPoints,
    ExchangePort,
    VenueRefusedError,
    VenueUnavailableError,
    unavailable_error,
)
from settlement_bridge.service_layer.unit_of_work import RequestReceipt, Transaction, UnitOfWork
from settlement_bridge.service_layer.venues import Venues
from settlement_bridge.service_layer.workflows import refusal_blocks

log = structlog.get_logger(__name__)

SettlementReceipt = Callable[[SettlementCycle], RequestReceipt]

# How many recent cycles the scheduler looks through for each exchange's last one at start.
CATCH_UP_LOOKBACK_CYCLES = 1000
# Cutoff, verify, execute, confirm, settle disputes, reconcile: one pass each.
SETTLEMENT_STEPS_MAX = 7
# Reason a cycle fails when the venue's identity is not the exchange the bridge expects there.
VENUE_IDENTITY_MISMATCH = "VENUE_IDENTITY_MISMATCH"


class SettlementCycles:
    """Runs settlement cycles on demand and on a schedule, and resumes them after a restart."""

    def __init__(
        self,
        unit_of_work: UnitOfWork,
        venues: Venues,
        clock: Clock,
        assets: AssetScales,
        settlement_interval_ms: int,
        crash_points: CrashPoints,
        disputes: DisputeService | None = None,
        dispute_window_ms: int = 0,
        exchange_intervals_ms: Mapping[str, int] | None = None,
    ) -> None:
        assert settlement_interval_ms > 0 and dispute_window_ms >= 0
        self._disputes = disputes
        self._dispute_window_ms = dispute_window_ms
        self._crash_points = crash_points
        self._unit_of_work = unit_of_work
        self._venues = venues
        self._clock = clock
        self._assets = assets
        self._settlement_interval_ms = settlement_interval_ms
        # An exchange may settle on its own interval; the others use the bridge's.
        self._exchange_intervals_ms = dict(exchange_intervals_ms or {})
        assert all(interval_ms > 0 for interval_ms in self._exchange_intervals_ms.values())
        # One cycle at a time per exchange: a second run waits until the first has ended.
        self._exchange_locks = {exchange_id: threading.Lock() for exchange_id in venues.exchanges}
        # Transfers of an exchange's connections wait while one of its cycles runs.
        self._freeze_windows = {exchange_id: FreezeWindow() for exchange_id in venues.exchanges}

    def run(self, exchange_id: str, receipt: SettlementReceipt | None = None) -> SettlementCycle:
        """Finishes the exchange's running cycle, if any, then runs a new one to its end."""
        self._venues.exchange(exchange_id)
        with self._exchange_locks[exchange_id]:
            waiting = [
                cycle for cycle in self._finish_running(exchange_id) if cycle.state is SettlementState.RUNNING
            ]
            if waiting:
                # The exchange's statement is still in flight: no new cutoff until it settles.
                if receipt is not None:
                    with self._unit_of_work.transaction() as transaction:
                        transaction.record_request(receipt(waiting[-1]))
                return waiting[-1]
            with self._unit_of_work.transaction() as transaction:
                cycle = SettlementCycle(
                    number=transaction.settlements.next_number(),
                    exchange_id=exchange_id,
                    create_time_ms=self._clock.now_ms(),
                )
                transaction.settlements.add(cycle)
                self._append_event(transaction, cycle)
                if receipt is not None:
                    transaction.record_request(receipt(cycle))
            self._crash_points.reach("settlement.ACCEPT.after_commit")
            log.info("settlement_started", settlement=cycle.name, exchange=cycle.exchange_name)
            return self._drive(cycle.number)

    def resume(self, number: int) -> SettlementCycle:
        """Returns a cycle after driving it to its end if it is still running (a retried run)."""
        cycle = self.get(number)
        if cycle.state is not SettlementState.RUNNING:
            return cycle
        self._venues.exchange(cycle.exchange_id)
        with self._exchange_locks[cycle.exchange_id]:
            return self._drive(number)

    def resume_running(self) -> int:
        """Finishes every running cycle of every exchange (after a restart); returns how many ended."""
        ended_count = 0
        for exchange_id, lock in self._exchange_locks.items():
            with lock:
                try:
                    driven = self._finish_running(exchange_id)
                    ended_count += sum(cycle.state is not SettlementState.RUNNING for cycle in driven)
                except ServiceError as error:
                    log.warning("settlement_not_resumed", exchange=exchange_id, reason=error.reason)
        return ended_count

    def now_ms(self) -> int:
        """Sandbox time now."""
        return self._clock.now_ms()

    def interval_ms(self, exchange_id: str) -> int:
        """The settlement interval of an exchange."""
        return self._exchange_intervals_ms.get(exchange_id, self._settlement_interval_ms)

    def freeze_window(self, exchange_id: str) -> AbstractContextManager[object]:
        """Held by allocations and deallocations of the exchange's connections: they run side by
        side but wait while a cycle of the exchange cuts off, executes and confirms."""
        window = self._freeze_windows.get(exchange_id)
        return nullcontext() if window is None else window.transfer()

    def reconcile(self, exchange_id: str) -> tuple[ReconciliationBreak, ...]:
        """Compares custodian allocations with the exchange's mirrors now; every break is an event."""
        exchange = self._venues.exchange(exchange_id)
        try:
            # Like a cycle, it waits for the transfers in flight and keeps new ones out, so that it
            # never compares a venue that has moved with one that has not moved yet.
            with self._freeze_windows[exchange_id].cycle():
                breaks = self._reconcile(exchange_id, exchange)
        except VenueUnavailableError as failure:
            raise unavailable_error(failure, f"exchanges/{exchange_id}") from failure
        if breaks:
            with self._unit_of_work.transaction() as transaction:
                self._append_breaks(transaction, breaks)
        return breaks

    def get(self, number: int) -> SettlementCycle:
        """Returns a cycle, or NOT_FOUND SETTLEMENT_NOT_FOUND."""
        with self._unit_of_work.transaction() as transaction:
            cycle = transaction.settlements.get(number)
        if cycle is None:
            raise not_found(
                "SETTLEMENT_NOT_FOUND",
                f"no settlement settlements/{number}",
                settlement=f"settlements/{number}",
            )
        return cycle

    def list_newest(self, limit: int) -> list[SettlementCycle]:
        """Returns at most `limit` cycles, newest first."""
        assert limit > 0
        with self._unit_of_work.transaction() as transaction:
            return transaction.settlements.list_newest(limit)

    def schedule(self) -> None:
        """Schedules every exchange's next cycle one interval after its last one started.

        A bridge that was down for longer than the interval catches up with one cycle now: its
        statement covers the whole gap (cutoffs never overlap), rather than one cycle per interval
        missed.
        """
        now_ms = self._clock.now_ms()
        with self._unit_of_work.transaction() as transaction:
            newest = transaction.settlements.list_newest(CATCH_UP_LOOKBACK_CYCLES)
        for exchange_id in self._exchange_locks:
            last = next((cycle for cycle in newest if cycle.exchange_id == exchange_id), None)
            interval_ms = self.interval_ms(exchange_id)
            due_ms = now_ms + interval_ms
            if last is not None:
                due_ms = max(now_ms, min(due_ms, last.create_time_ms + interval_ms))
            self._schedule(exchange_id, due_ms)

    def _schedule(self, exchange_id: str, due_ms: int) -> None:
        self._clock.schedule(
            due_ms, f"settlement-cycle:{exchange_id}", lambda: self._run_scheduled(exchange_id, due_ms)
        )

    def _run_scheduled(self, exchange_id: str, due_ms: int) -> None:
        with self._unit_of_work.transaction() as transaction:
            if transaction.exchange_defaults.get(exchange_id) is not None:
                return  # The exchange defaulted: its schedule ends here.
        # The next cycle is scheduled whatever happens to this one; a cycle left running is
        # finished by the next run before it cuts off again.
        try:
            cycle = self.run(exchange_id)
            log.info("scheduled_settlement_ended", settlement=cycle.name, state=cycle.state.value)
        except ServiceError as error:
            log.warning("scheduled_settlement_interrupted", exchange=exchange_id, reason=error.reason)
        finally:
            self._schedule(exchange_id, due_ms + self.interval_ms(exchange_id))

    def _finish_running(self, exchange_id: str) -> list[SettlementCycle]:
        """Drives the exchange's running cycles; returns them as they stand (some may still wait)."""
        with self._unit_of_work.transaction() as transaction:
            running = transaction.settlements.list_running(exchange_id)
        return [self._drive(cycle.number) for cycle in running]

    def _after_window(self, number: int) -> None:
        """The dispute window of a cycle's statement closed: the cycle executes."""
        try:
            cycle = self.resume(number)
            log.info("settlement_after_dispute_window", settlement=cycle.name, state=cycle.state.value)
        except ServiceError as error:
            log.warning(
                "settlement_after_dispute_window_interrupted",
                settlement=f"settlements/{number}",
                reason=error.reason,
            )

    def _drive(self, number: int) -> SettlementCycle:
        with self._unit_of_work.transaction() as transaction:
            cycle = transaction.settlements.get(number)
        assert cycle is not None, f"settlement {number} was started before it is driven"
        with self._freeze_windows[cycle.exchange_id].cycle():
            return self._drive_in_window(number)

    def _drive_in_window(self, number: int) -> SettlementCycle:
        with self._unit_of_work.transaction() as transaction:
            cycle = transaction.settlements.get(number)
        assert cycle is not None, f"settlement {number} was started before it is driven"
        for _ in range(SETTLEMENT_STEPS_MAX):
            if cycle.state is not SettlementState.RUNNING:
                break
            step = cycle.step
            point = f"settlement.{step.value}"
            self._crash_points.reach(f"{point}.before_call")
            try:
                progressed = self._take_step(cycle)
            except VenueUnavailableError as failure:
                raise unavailable_error(failure, cycle.name) from failure
            self._crash_points.reach(f"{point}.after_call")
            if not progressed:
                # The cycle waits, RUNNING at this step, for the next run or resume; what it
                # counted of its attempts is kept.
                with self._unit_of_work.transaction() as transaction:
                    transaction.settlements.save(cycle)
                log.info("settlement_waiting", settlement=cycle.name, step=step.value)
                return cycle
            with self._unit_of_work.transaction() as transaction:
                transaction.settlements.save(cycle)
                if step is SettlementStep.RECONCILE:
                    self._append_breaks(transaction, cycle.breaks)
                if cycle.state is not SettlementState.RUNNING:
                    self._append_event(transaction, cycle)
            self._crash_points.reach(f"{point}.after_commit")
            log.info(
                "settlement_step",
                settlement=cycle.name,
                step=step.value,
                next_step=cycle.step.value,
                state=cycle.state.value,
                reason=cycle.reason,
            )
        assert cycle.state is not SettlementState.RUNNING, f"{cycle.name} took too many steps"
        return cycle

    @staticmethod
    def _append_event(transaction: Transaction, cycle: SettlementCycle) -> None:
        """Reports a cycle started or ended to the event feed (network-wide)."""
        statement = cycle.statement
        transaction.events.append(
            EventKind.SETTLEMENT,
            cycle.name,
            "",
            {
                "exchange": cycle.exchange_name,
                "state": cycle.state.value,
                "step": cycle.step.value,
                "reason": cycle.reason,
                "statement": "" if statement is None else statement.name,
                "entries": "0" if statement is None else str(len(statement.content.entries)),
            },
        )

    def _append_breaks(self, transaction: Transaction, breaks: tuple[ReconciliationBreak, ...]) -> None:
        """Reports each reconciliation break to the client whose connection it is."""
        for found in breaks:
            connection = parse_connection_name(found.connection, "connection")
            transaction.events.append(
                EventKind.RECONCILIATION_BREAK,
                found.connection,
                connection.client_name,
                {
                    "asset": found.asset,
                    "allocated": self._assets.format(found.asset, found.allocated_units),
                    "mirror": self._assets.format(found.asset, found.mirror_units),
                },
            )

    def _take_step(self, cycle: SettlementCycle) -> bool:
        """Takes the cycle's next step; False when it must wait (for the exchange's top-up)."""
        exchange = self._venues.exchange(cycle.exchange_id)
        custodian = self._venues.custodian
        step = cycle.step
        if step is SettlementStep.CUTOFF:
            try:
                statement = exchange.create_statement(cycle.request_id("cutoff"))
            except VenueRefusedError as refusal:
                cycle.fail(refusal.reason, self._clock.now_ms())
            else:
                cycle.cut_off(statement)
        elif step is SettlementStep.VERIFY:
            self._verify(cycle, exchange)
        elif step is SettlementStep.EXECUTE:
            return self._execute(cycle)
        elif step is SettlementStep.CONFIRM:
            assert cycle.statement is not None
            # The custodian has executed: the exchange must re-base what it settled (every entry,
            # or only those it settled), there is no going back.
            with refusal_blocks(cycle.name):
                execution = custodian.get_statement_execution(cycle.statement.name)
                exchange.confirm_statement(
                    cycle.request_id("confirm"), cycle.statement.name, execution.settled_entries
                )
            cycle.confirmed()
        elif step is SettlementStep.SETTLE_DISPUTES:
            if self._disputes is not None:
                assert cycle.statement is not None
                # The exchange re-based what settled; decided disputes of earlier statements now
                # close, each at most once (their request_ids are fixed by the dispute).
                with refusal_blocks(cycle.name):
                    self._disputes.settle_decided(cycle.exchange_id, cycle.statement.content.number)
            cycle.disputes_settled()
        elif step is SettlementStep.RECONCILE:
            cycle.reconciled(self._reconcile(cycle.exchange_id, exchange), self._clock.now_ms())
        elif step is SettlementStep.VOID:
            self._void(cycle, exchange)
        else:
            raise AssertionError(f"{cycle.name} has no step to take at {step.value}")
        return True

    def _execute(self, cycle: SettlementCycle) -> bool:
        """Has the custodian verify and execute the statement; False while it waits for the dispute
        window to close or for a top-up."""
        assert cycle.statement is not None
        custodian = self._venues.custodian
        # Measured on the bridge's clock from when it started the cycle (the exchange's clock may
        # differ), so the window is the same length whatever the venues' clocks say.
        window_end_ms = cycle.create_time_ms + self._dispute_window_ms
        if self._dispute_window_ms and self._clock.now_ms() < window_end_ms:
            # Recorded at the custodian now, so that a disputed entry can be held there; executed
            # when the window closes (a timer resumes the cycle; a restart schedules it again).
            try:
                custodian.submit_statement(cycle.request_id("submit"), cycle.statement)
            except VenueRefusedError as refusal:
                # Not recorded at the custodian: the exchange voids it and re-covers its period.
                cycle.refuse(refusal.reason)
                return True
            number = cycle.number
            self._clock.schedule(
                window_end_ms, f"dispute-window:{cycle.name}", lambda: self._after_window(number)
            )
            log.info("settlement_dispute_window", settlement=cycle.name, window_end_ms=window_end_ms)
            return False
        try:
            custodian.submit_statement(cycle.request_id("submit"), cycle.statement)
        except VenueRefusedError as refusal:
            # Not recorded at the custodian: the exchange voids it and re-covers its period.
            cycle.refuse(refusal.reason)
            return True
        try:
            execution = custodian.execute_statement(cycle.request_id("execute"), cycle.statement.name)
            if execution.awaiting_top_up:
                # The first answer is the one stored under that request_id: ask again.
                execution = custodian.execute_statement(cycle.next_execute_request_id(), cycle.statement.name)
        except VenueRefusedError as refusal:
            # Execution is atomic at the custodian: a refusal means nothing moved.
            cycle.fail(refusal.reason, self._clock.now_ms())
            return True
        if execution.awaiting_top_up:
            log.info("settlement_awaiting_top_up", settlement=cycle.name, statement=cycle.statement.name)
            with self._unit_of_work.transaction() as transaction:
                # One margin call per statement, even when the cycle is resumed after a crash: the
                # exchange follows the feed while the custodian's top-up window runs.
                if not transaction.events.exists(EventKind.MARGIN_CALL, cycle.statement.name):
                    transaction.events.append(
                        EventKind.MARGIN_CALL,
                        cycle.statement.name,
                        "",
                        {
                            "exchange": cycle.exchange_name,
                            "settlement": cycle.name,
                            "statement": cycle.statement.name,
                        },
                    )
            return False
        cycle.executed(execution.entry_results)
        return True

    def _verify(self, cycle: SettlementCycle, exchange: ExchangePort) -> None:
        assert cycle.statement is not None
        public_key = self._exchange_key(cycle.exchange_id, exchange)
        if public_key is None:
            cycle.fail(VENUE_IDENTITY_MISMATCH, self._clock.now_ms())
            return
        with self._unit_of_work.transaction() as transaction:
            previous = transaction.settlements.last_succeeded(cycle.exchange_id)
        previous_content = previous.statement.content if previous is not None and previous.statement else None
        statement = cycle.statement
        problem = statement_problem(
            statement.content,
            cycle.exchange_id,
            verify(public_key, statement.content, statement.signature),
            previous_content,
            self._assets,
        )
        if problem is None:
            cycle.verified()
        else:
            log.warning("statement_refused", settlement=cycle.name, statement=statement.name, reason=problem)
            cycle.refuse(problem)

    def _void(self, cycle: SettlementCycle, exchange: ExchangePort) -> None:
        """Voids the refused statement at the exchange, so that its next cutoff is not blocked."""
        assert cycle.statement is not None
        try:
            exchange.void_statement(cycle.request_id("void"), cycle.statement.name, cycle.reason)
        except VenueRefusedError as refusal:
            # The cycle fails for the statement's own reason either way; the exchange's answer is
            # for the operator (its next cutoff will say STATEMENT_IN_FLIGHT if it kept it issued).
            log.error(
                "statement_void_refused",
                settlement=cycle.name,
                statement=cycle.statement.name,
                reason=refusal.reason,
            )
        cycle.voided(self._clock.now_ms())

    def _exchange_key(self, exchange_id: str, exchange: ExchangePort) -> bytes | None:
        """The exchange's statement key as first seen; None when the venue is another exchange."""
        with self._unit_of_work.transaction() as transaction:
            recorded = transaction.exchange_keys.get(exchange_id)
        if recorded is not None:
            return recorded
        venue = exchange.get_venue()
        if venue.exchange_name != f"exchanges/{exchange_id}":
            log.error(
                "venue_identity_mismatch", expected=f"exchanges/{exchange_id}", actual=venue.exchange_name
            )
            return None
        with self._unit_of_work.transaction() as transaction:
            if transaction.exchange_keys.get(exchange_id) is None:
                transaction.exchange_keys.add(exchange_id, venue.statement_public_key, self._clock.now_ms())
            recorded = transaction.exchange_keys.get(exchange_id)
        return recorded

    def _reconcile(self, exchange_id: str, exchange: ExchangePort) -> tuple[ReconciliationBreak, ...]:
        mirror_units: dict[tuple[ConnectionName, str], int] = {}
        for mirror in exchange.list_mirrors():
            connection = _connection_of(mirror.connection, exchange_id)
            if connection is not None:
                mirror_units[(connection, mirror.asset)] = mirror.mirror_units
        allocated_units: dict[tuple[ConnectionName, str], int] = {}
        # One call for every connection of the exchange (not one per client): 10,000 connections
        # reconcile in one round trip.
        for balance in self._venues.custodian.list_allocated_to(f"exchanges/{exchange_id}"):
            account, suffix = balance.account.rsplit("/", 1) if "/" in balance.account else ("", "")
            connection = _connection_of(account, exchange_id) if suffix == "allocated" else None
            if connection is not None:
                allocated_units[(connection, balance.asset)] = balance.amount_units
        breaks = reconcile(allocated_units, mirror_units)
        for found in breaks:
            log.warning(
                "reconciliation_break",
                connection=found.connection,
                asset=found.asset,
                allocated_units=found.allocated_units,
                mirror_units=found.mirror_units,
            )
        return breaks


def _connection_of(text: str, exchange_id: str) -> ConnectionName | None:
    """The connection named by a venue's reply when it belongs to `exchange_id`, else None."""
    try:
        connection = parse_connection_name(text, "connection")
    except ServiceError as error:
        assert error.code is ErrorCode.INVALID_ARGUMENT
        return None
    return connection if connection.exchange_id == exchange_id else None
