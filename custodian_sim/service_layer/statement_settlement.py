"""Settlement of verified statements: execution per entry, top-up waits, disputes and claims.

Each use case runs inside the caller's unit of work, so everything an execution decides (its
transfers, the entry outcomes, the claims and the audit records) commits together or not at all.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol

import structlog

from custodian_sim.domain import statement_execution as rules
from custodian_sim.domain.entry_outcomes import (
    Claim,
    ClaimDraft,
    EntryOutcome,
    EntryState,
    claim_closures,
    entry_resource,
)
from custodian_sim.domain.ledger import Transfer
from custodian_sim.domain.names import ConnectionName, StatementName, allocated_account, settlement_account
from custodian_sim.domain.parties import party_kind_of, require_party
from custodian_sim.domain.statements import (
    EXECUTED_STATES,
    RecordedStatement,
    StatementState,
    require_statement,
)
from custodian_sim.service_layer.audit import record_change, record_changes
from custodian_sim.service_layer.defaults import check_settlement_not_frozen
from custodian_sim.service_layer.unit_of_work import UnitOfWork
from custodian_sim.service_layer.withdrawals import UnitOfWorkRunner
from service_kit.call_context import SYSTEM_CALL, CallContext, enter_call, exit_call
from service_kit.clock import Clock
from service_kit.money import AssetScales

log = structlog.get_logger(__name__)

MINUTE_MS = 60_000
TOP_UP_WINDOW_MINUTES_DEFAULT = 60
# The timer that settles an AWAITING_TOP_UP statement at its deadline; also the `method` of the
# audit records it leaves.
TOP_UP_DEADLINE_TIMER = "TopUpDeadline"
# At start, waiting statements are read back in pages of this size, and at most this many pages.
RESCHEDULE_PAGE_SIZE = 500
RESCHEDULE_PAGES_MAX = 10_000


@dataclass(frozen=True)
class EntryReference:
    """One entry of one statement: the statement, and the entry's connection and asset."""

    statement: StatementName
    connection: ConnectionName
    asset: str
    # For a resolution: the amount to settle instead of the stated one (0 closes the entry).
    amount_units: int | None = None


@dataclass(frozen=True)
class ClaimPage:
    """One page of claims, and where the next page starts (None after the last page)."""

    claims: tuple[Claim, ...]
    next_after_number: int | None


class TransferPoster(Protocol):
    """Posts linked transfers with the custodian's ledger checks (conflicts, overdrafts, frozen accounts)."""

    def __call__(self, uow: UnitOfWork, transfers: Sequence[Transfer]) -> object:
        """Posts the transfers all or nothing, skipping those posted before."""
        ...


class StatementSettlement:
    """Executes statements entry by entry and keeps their outcomes, deadlines and claims."""

    def __init__(
        self, clock: Clock, assets: AssetScales, top_up_window_ms: int, poster: TransferPoster
    ) -> None:
        assert top_up_window_ms >= 0, top_up_window_ms
        self._clock = clock
        self._assets = assets
        self._top_up_window_ms = top_up_window_ms
        self._poster = poster

    def execute(
        self, uow: UnitOfWork, name: StatementName, *, settle_what_can: bool = False
    ) -> RecordedStatement:
        """Settles every pending entry that can settle in one transaction, or waits for a top-up.

        An executed statement is returned as recorded. Before the top-up deadline, gains the
        settlement account cannot pay leave the statement AWAITING_TOP_UP with nothing moved;
        at or after the deadline, what can settle settles and the unpaid gains fail.
        `settle_what_can` treats now as the deadline: the exchange default procedure uses it,
        because a defaulted exchange never tops up.
        """
        recorded = require_statement(uow.statements.get(name.name), name.name)
        if recorded.state in EXECUTED_STATES:
            return recorded
        rules.require_executable(recorded)
        # A defaulted exchange settles no more (its statements' due timers included).
        check_settlement_not_frozen(uow, name)
        now_ms = self._clock.now_ms()
        balances = uow.ledger.balances(rules.entry_balance_keys(recorded))
        deadline_ms = recorded.top_up_deadline_ms
        at_deadline = settle_what_can or (deadline_ms is not None and now_ms >= deadline_ms)
        settlement = rules.plan_settlement(recorded, balances, now_ms, settle_what_can=at_deadline)
        if settlement is None:
            if recorded.state is StatementState.AWAITING_TOP_UP:
                return recorded
            if self._top_up_window_ms > 0:
                return self._await_top_up(uow, recorded, now_ms + self._top_up_window_ms)
            # No window: the deadline is now.
            settlement = rules.plan_settlement(recorded, balances, now_ms, settle_what_can=True)
            assert settlement is not None
        return self._apply_execution(uow, recorded, settlement, now_ms)

    def settle_due(self, uow: UnitOfWork, name: StatementName) -> RecordedStatement | None:
        """At the top-up deadline, settles what can settle; None when nothing is due.

        Does nothing unless the statement still awaits its top-up and the deadline has come,
        so a timer that fires twice (rescheduled at start, or after a retried request) is harmless.
        """
        recorded = uow.statements.get(name.name)
        if recorded is None or recorded.state is not StatementState.AWAITING_TOP_UP:
            return None
        if uow.frozen_accounts.frozen_among([settlement_account(name.exchange_id)]):
            # The exchange defaulted without applying this statement: it never settles, and
            # its deadline timer has nothing left to do.
            return None
        assert recorded.top_up_deadline_ms is not None, recorded.name
        if self._clock.now_ms() < recorded.top_up_deadline_ms:
            return None
        return self.execute(uow, name)

    def dispute_entry(self, uow: UnitOfWork, entry: EntryReference, reason: str) -> RecordedStatement:
        """Holds one entry of a PENDING or AWAITING_TOP_UP statement; disputing it again is a no-op."""
        recorded = require_statement(uow.statements.get(entry.statement.name), entry.statement.name)
        outcome = rules.find_entry(recorded, entry.connection, entry.asset)
        if outcome.state is EntryState.DISPUTED:
            return recorded
        disputed = rules.disputed(recorded, outcome, reason)
        uow.statements.update(disputed)
        held = rules.find_entry(disputed, entry.connection, entry.asset)
        self._audit_entries(uow, recorded.name, [(outcome, held)])
        return disputed

    def resolve_entry(self, uow: UnitOfWork, entry: EntryReference) -> RecordedStatement:
        """Settles a held entry of an executed statement as an adjustment transfer."""
        recorded = require_statement(uow.statements.get(entry.statement.name), entry.statement.name)
        # After the exchange's default its held entries stay held: the default settled it.
        check_settlement_not_frozen(uow, entry.statement)
        outcome = rules.find_entry(recorded, entry.connection, entry.asset)
        keys = {
            (allocated_account(entry.connection), entry.asset),
            (settlement_account(entry.statement.exchange_id), entry.asset),
        }
        now_ms = self._clock.now_ms()
        settlement = rules.plan_resolution(
            recorded, outcome, uow.ledger.balances(keys), self._assets, now_ms, entry.amount_units
        )
        self._post(uow, settlement.transfers)
        after = rules.resolved(recorded, settlement)
        uow.statements.update(after)
        self._audit_statement(uow, recorded, after)
        self._audit_entries(uow, recorded.name, [(outcome, settlement.outcomes[0])])
        self._close_claims(uow, entry.statement, settlement.outcomes, None, now_ms)
        self._record_claims(uow, settlement.claims, now_ms)
        return after

    def list_claims(self, uow: UnitOfWork, party: str | None, after_number: int, page_size: int) -> ClaimPage:
        """One page of the claims where `party` is creditor or debtor (every claim when None)."""
        assert after_number >= 0 and page_size > 0, (after_number, page_size)
        if party is not None:
            require_party(uow.parties.get(party), party, party_kind_of(party))
        # One more than the page tells whether another page follows.
        found = uow.claims.list_after(party, after_number, page_size + 1)
        page = tuple(found[:page_size])
        return ClaimPage(page, page[-1].number if len(found) > page_size else None)

    def names_awaiting_top_up(self, uow: UnitOfWork, after_name: str, limit: int) -> list[str]:
        """Names of the statements waiting for a top-up, after `after_name`, in name order."""
        return uow.statements.names_in_state(StatementState.AWAITING_TOP_UP, after_name, limit)

    def _await_top_up(
        self, uow: UnitOfWork, recorded: RecordedStatement, deadline_ms: int
    ) -> RecordedStatement:
        waiting = rules.awaiting_top_up(recorded, deadline_ms)
        uow.statements.update(waiting)
        self._audit_statement(uow, recorded, waiting)
        return waiting

    def _apply_execution(
        self, uow: UnitOfWork, recorded: RecordedStatement, settlement: rules.Settlement, now_ms: int
    ) -> RecordedStatement:
        self._post(uow, settlement.transfers)
        after = rules.executed(recorded, settlement, now_ms)
        uow.statements.update(after)
        self._audit_statement(uow, recorded, after)
        # An execution decides only PENDING entries (see rules.plan_settlement).
        pending = EntryState.PENDING.value
        statement = recorded.name
        record_changes(
            uow,
            self._clock.now_ms(),
            (
                (
                    entry_resource(statement, outcome.connection, outcome.asset),
                    pending,
                    outcome.describe(),
                    outcome.connection.client,
                )
                for outcome in settlement.outcomes
            ),
        )
        self._close_claims(
            uow, StatementName.parse(statement, "statement"), settlement.outcomes, after, now_ms
        )
        self._record_claims(uow, settlement.claims, now_ms)
        return after

    def _post(self, uow: UnitOfWork, transfers: Sequence[Transfer]) -> None:
        """Posts the planned transfers as one linked group; the plan never overdraws an account."""
        if transfers:
            self._poster(uow, transfers)

    def _close_claims(
        self,
        uow: UnitOfWork,
        statement: StatementName,
        decided: Sequence[EntryOutcome],
        executed: RecordedStatement | None,
        now_ms: int,
    ) -> None:
        """Closes the open claims of earlier statements that these outcomes decide (see ClaimState).

        `executed` is the statement after an execution, whose missing entries net claims to zero;
        None after resolving one disputed entry.
        """
        open_claims = uow.claims.open_for_exchange(statement.exchange)
        if not open_claims:
            return
        entry_keys = (
            None
            if executed is None
            else {(outcome.connection, outcome.asset) for outcome in executed.entry_outcomes()}
        )
        by_number = {claim.number: claim for claim in open_claims}
        for closure in claim_closures(open_claims, statement.name, statement.number, decided, entry_keys):
            uow.claims.close(closure, now_ms)
            record_change(
                uow,
                now_ms,
                f"claims/{closure.claim_number}",
                "OPEN",
                f"{closure.state.value} by {closure.statement}",
                by_number[closure.claim_number].draft.connection.client,
            )

    def _record_claims(self, uow: UnitOfWork, drafts: Sequence[ClaimDraft], now_ms: int) -> None:
        if not drafts:
            return
        first_number = uow.claims.next_number()
        for offset, draft in enumerate(drafts):
            claim = Claim(first_number + offset, draft, now_ms)
            uow.claims.add(claim)
            amount = self._assets.format(draft.asset, draft.amount_units)
            record_change(
                uow,
                now_ms,
                claim.name,
                "",
                f"RECORDED {draft.creditor} claims {amount} {draft.asset} from {draft.debtor} "
                f"({draft.reason}, {draft.statement})",
                draft.connection.client,
            )

    def _audit_statement(self, uow: UnitOfWork, before: RecordedStatement, after: RecordedStatement) -> None:
        if after.state is not before.state:
            record_change(
                uow,
                self._clock.now_ms(),
                after.name,
                before.state.value,
                after.state.value,
                after.statement.exchange,
            )

    def _audit_entries(
        self, uow: UnitOfWork, statement: str, changes: Sequence[tuple[EntryOutcome, EntryOutcome]]
    ) -> None:
        """One record per entry that changed state, owned by the entry's client."""
        for before, after in changes:
            assert before.key == after.key and before.state is not after.state, (before, after)
        record_changes(
            uow,
            self._clock.now_ms(),
            (
                (
                    entry_resource(statement, after.connection, after.asset),
                    before.describe(),
                    after.describe(),
                    after.connection.client,
                )
                for before, after in changes
            ),
        )


class TopUpTimers:
    """Settles AWAITING_TOP_UP statements at their deadline, on the injected clock."""

    def __init__(self, clock: Clock, runner: UnitOfWorkRunner, settlement: StatementSettlement) -> None:
        self._clock = clock
        self._runner = runner
        self._settlement = settlement
        self._lock = threading.Lock()
        # Statements and deadlines with a timer already set: a retried execution sets no second
        # one. The deadline is part of the key, so the same name after a Reset gets its own.
        self._scheduled: set[tuple[str, int]] = set()

    def schedule(self, recorded: RecordedStatement) -> None:
        """Sets the deadline timer of a committed AWAITING_TOP_UP statement (once per statement).

        Called after the commit, never inside the transaction: the timer must not find the
        statement uncommitted, nor wait for the write lock while holding the clock.
        """
        if recorded.state is not StatementState.AWAITING_TOP_UP:
            return
        deadline_ms = recorded.top_up_deadline_ms
        assert deadline_ms is not None, recorded.name
        name = recorded.statement.statement_name
        with self._lock:
            if (name.name, deadline_ms) in self._scheduled:
                return
            self._scheduled.add((name.name, deadline_ms))
        self._clock.schedule(
            deadline_ms, f"{TOP_UP_DEADLINE_TIMER} {name.name}", lambda: self._fire(name, deadline_ms)
        )

    def reschedule(self) -> int:
        """At start, sets the timer of every AWAITING_TOP_UP statement; returns how many."""
        scheduled_count = 0
        after_name = ""
        for _ in range(RESCHEDULE_PAGES_MAX):
            page = self._runner.read(partial(self._waiting_page, after_name=after_name))
            for recorded in page:
                self.schedule(recorded)
            scheduled_count += len(page)
            if len(page) < RESCHEDULE_PAGE_SIZE:
                return scheduled_count
            after_name = page[-1].name
        raise AssertionError(f"more than {scheduled_count} statements awaiting a top-up at start")

    def _waiting_page(self, uow: UnitOfWork, after_name: str) -> list[RecordedStatement]:
        names = self._settlement.names_awaiting_top_up(uow, after_name, RESCHEDULE_PAGE_SIZE)
        return [require_statement(uow.statements.get(name), name) for name in names]

    def _fire(self, name: StatementName, deadline_ms: int) -> None:
        with self._lock:
            self._scheduled.discard((name.name, deadline_ms))
        # The timer runs inside whatever thread advanced the clock; the custodian, not that
        # caller, settles the statement.
        token = enter_call(CallContext(SYSTEM_CALL.principal, TOP_UP_DEADLINE_TIMER, ""))
        try:
            settled = self._runner.write(lambda uow: self._settlement.settle_due(uow, name))
        finally:
            exit_call(token)
        log.info(
            "top_up_deadline",
            statement=name.name,
            state=None if settled is None else settled.state.value,
        )
