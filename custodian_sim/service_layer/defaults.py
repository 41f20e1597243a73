"""The exchange default procedure: in one transaction, settle, default, return, freeze, record claims."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from custodian_sim.domain import defaults as rules
from custodian_sim.domain.allocation_lifecycle import AllocationState
from custodian_sim.domain.audit import refused
from custodian_sim.domain.defaults import EXCHANGE_DEFAULTED, ExchangeDefault, StatementOutcome
from custodian_sim.domain.ledger import Posting, Transfer
from custodian_sim.domain.names import (
    ConnectionName,
    StatementName,
    account_owner,
    allocated_account,
    parse_exchange_name,
    settlement_account,
)
from custodian_sim.domain.parties import PartyKind, require_party
from custodian_sim.domain.statements import IN_FLIGHT_STATES, RecordedStatement
from custodian_sim.service_layer.audit import record_change
from custodian_sim.service_layer.unit_of_work import UnitOfWork
from service_kit.clock import Clock
from service_kit.errors import ErrorCode, ServiceError, failed_precondition
from service_kit.money import AssetScales

# What the procedure's audit records say a resource became.
DEFAULTED = "DEFAULTED"
FROZEN = "FROZEN"


class StatementExecutor(Protocol):
    """The custodian's statement execution, reused as it is."""

    def execute(
        self, uow: UnitOfWork, name: StatementName, *, settle_what_can: bool = False
    ) -> RecordedStatement:
        """Executes a recorded statement at most once; `settle_what_can` settles what it can now."""
        ...


class LedgerPoster(Protocol):
    """The custodian's posting, with its overdraft, conflict and frozen-account checks."""

    def post_transfers(self, uow: UnitOfWork, transfers: Sequence[Transfer], owner: str | None) -> Posting:
        """Posts linked transfers with one audit record per new one, titled to `owner` (None: to
        each destination account's owner)."""
        ...


def check_exchange_not_defaulted(uow: UnitOfWork, exchange: str) -> None:
    """Refuses new business with an exchange whose default procedure ran."""
    if uow.exchange_defaults.get(exchange) is not None:
        raise failed_precondition(
            EXCHANGE_DEFAULTED,
            f"{exchange} has defaulted; no new connection to it can be opened",
            exchange=exchange,
        )


def check_settlement_not_frozen(uow: UnitOfWork, statement: StatementName) -> None:
    """Refuses a statement of an exchange whose default froze its settlement account."""
    settlement = settlement_account(statement.exchange_id)
    rules.check_statement_not_frozen(
        statement.name, settlement, uow.frozen_accounts.frozen_among([settlement])
    )


class DefaultProcedure:
    """Runs ReleaseOnDefault: at most once per exchange, everything in the caller's one unit of work."""

    def __init__(
        self, clock: Clock, assets: AssetScales, statements: StatementExecutor, poster: LedgerPoster
    ) -> None:
        self._clock = clock
        self._assets = assets
        self._statements = statements
        self._poster = poster

    def release_on_default(
        self, uow: UnitOfWork, exchange: str, apply_last_statement: bool
    ) -> ExchangeDefault:
        """Defaults the exchange, or returns the recorded outcome when it has defaulted already.

        In order: the latest verified statement executes (when asked and not yet executed) while
        the connections are still ACTIVE; every connection becomes DEFAULTED and every RESERVED
        allocation RELEASED; every allocated balance returns to the client's available balance;
        the settlement account and the emptied allocated accounts are frozen; the claims are
        recorded. Nothing of it commits unless all of it does.
        """
        require_party(uow.parties.get(exchange), exchange, PartyKind.EXCHANGE)
        recorded = uow.exchange_defaults.get(exchange)
        if recorded is not None:
            return recorded
        exchange_id = parse_exchange_name(exchange, "exchange")
        outcome = self._apply_last_statement(uow, exchange, apply_last_statement)
        now_ms = self._clock.now_ms()
        connections = uow.connections.list_for_party(exchange)
        assert len(connections) <= rules.CONNECTIONS_PER_DEFAULT_MAX, len(connections)
        for connection in connections:
            after = rules.defaulted(connection)
            if after is not connection:
                uow.connections.update(after)
                self._audit(
                    uow, connection.name.name, connection.state.value, DEFAULTED, connection.name.client
                )
        for allocation in uow.allocations.list_for_exchange(exchange, AllocationState.RESERVED):
            # The returned balance below covers its amount: it gets no transfer of its own.
            released = allocation.released(EXCHANGE_DEFAULTED, now_ms)
            uow.allocations.update(released)
            self._audit(
                uow,
                released.name.name,
                allocation.description,
                released.description,
                released.connection.client,
            )
        names = [connection.name for connection in connections]
        releases = self._return_allocations(uow, names, now_ms)
        frozen_accounts = rules.frozen_accounts_of_default(exchange_id, names)
        already_frozen = uow.frozen_accounts.frozen_among(frozen_accounts)
        reference = f"{exchange}/default"
        for account in frozen_accounts:
            if account not in already_frozen:
                uow.frozen_accounts.freeze(account, reference, now_ms)
                self._audit(uow, account, "", FROZEN, account_owner(account))
        settlement = settlement_account(exchange_id)
        settlement_keys = [(settlement, asset) for asset in sorted(self._assets.scales)]
        settlement_balances = {
            asset: units for (_, asset), units in uow.ledger.balances(settlement_keys).items()
        }
        record = ExchangeDefault(
            exchange=exchange,
            statement=outcome,
            connections=tuple(sorted(name.name for name in names)),
            claims=rules.default_claims(exchange_id, releases, settlement_balances),
            frozen_accounts=frozen_accounts,
            transfer_ids=tuple(transfer.id for transfer in releases),
            default_time_ms=now_ms,
        )
        uow.exchange_defaults.add(record)
        self._audit(uow, record.resource, "", DEFAULTED, exchange)
        return record

    def _apply_last_statement(self, uow: UnitOfWork, exchange: str, apply: bool) -> StatementOutcome:
        latest = uow.statements.latest(exchange)
        if latest is None:
            return rules.NO_STATEMENT
        state = latest.state.value
        if latest.state not in IN_FLIGHT_STATES:
            return StatementOutcome(latest.name, state, False, rules.ALREADY_EXECUTED)
        if not apply:
            return StatementOutcome(latest.name, state, False, rules.NOT_REQUESTED)
        try:
            # A defaulted exchange never tops up: what can settle settles now, and its unpaid
            # gains fail into claims. Execution checks everything before it writes anything,
            # so a refusal leaves this unit of work as it was and the procedure goes on.
            executed = self._statements.execute(uow, latest.statement.statement_name, settle_what_can=True)
        except ServiceError as refusal:
            if refusal.code is not ErrorCode.FAILED_PRECONDITION:
                raise
            self._audit(uow, latest.name, state, refused(refusal.reason), exchange)
            return StatementOutcome(latest.name, state, False, refusal.reason)
        if executed.state in IN_FLIGHT_STATES:
            # Still waiting (for a top-up): nothing of it moved.
            return StatementOutcome(latest.name, executed.state.value, False, executed.state.value)
        return StatementOutcome(latest.name, executed.state.value, True, "")

    def _return_allocations(
        self, uow: UnitOfWork, connections: Sequence[ConnectionName], now_ms: int
    ) -> tuple[Transfer, ...]:
        """Moves every allocated balance back to available in one posting; each client sees its own."""
        assets = sorted(self._assets.scales)
        keys = [(allocated_account(name), asset) for name in connections for asset in assets]
        releases = rules.plan_default_releases(connections, assets, uow.ledger.balances(keys), now_ms)
        self._poster.post_transfers(uow, releases, None)
        return releases

    def _audit(self, uow: UnitOfWork, resource: str, before: str, after: str, owner: str) -> None:
        record_change(uow, self._clock.now_ms(), resource, before, after, owner)
