"""The SQLite unit of work, and the runner that wraps it in the request log's transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import sqlite_utils

from custodian_sim.adapters.sqlite_allocations import (
    SqliteAllocationRepository,
    SqliteExchangeDefaultRepository,
    SqliteFrozenAccountRepository,
)
from custodian_sim.adapters.sqlite_audit import SqliteAuditRepository
from custodian_sim.adapters.sqlite_checkpoints import BackgroundCheckpoints
from custodian_sim.adapters.sqlite_repositories import (
    SqliteConnectionRepository,
    SqliteExchangeKeyRepository,
    SqliteLedgerRepository,
    SqlitePartyRepository,
    SqliteStatementRepository,
    StatementCache,
)
from custodian_sim.adapters.sqlite_settlement import SqliteClaimRepository
from custodian_sim.adapters.sqlite_withdrawals import (
    SqliteWhitelistAddressRepository,
    SqliteWithdrawalPolicyRepository,
    SqliteWithdrawalRepository,
)
from custodian_sim.service_layer.unit_of_work import UnitOfWork
from service_kit.clock import Clock
from service_kit.commit_signal import CommitSignal
from service_kit.database import Database
from service_kit.idempotency import HasRequestId, RequestLog, ResponseT
from service_kit.money import AssetScales

ResultT = TypeVar("ResultT")


class SqliteUnitOfWork:
    """Every repository over one open SQLite transaction."""

    def __init__(
        self,
        transaction: sqlite_utils.Database,
        assets: AssetScales,
        statement_cache: StatementCache | None = None,
    ) -> None:
        self._parties = SqlitePartyRepository(transaction)
        self._exchange_keys = SqliteExchangeKeyRepository(transaction)
        self._connections = SqliteConnectionRepository(transaction)
        self._ledger = SqliteLedgerRepository(transaction)
        self._statements = SqliteStatementRepository(transaction, assets, statement_cache or StatementCache())
        self._audit = SqliteAuditRepository(transaction)
        self._claims = SqliteClaimRepository(transaction)
        self._whitelist_addresses = SqliteWhitelistAddressRepository(transaction)
        self._withdrawal_policies = SqliteWithdrawalPolicyRepository(transaction)
        self._withdrawals = SqliteWithdrawalRepository(transaction)
        self._allocations = SqliteAllocationRepository(transaction)
        self._frozen_accounts = SqliteFrozenAccountRepository(transaction)
        self._exchange_defaults = SqliteExchangeDefaultRepository(transaction)

    def flush(self) -> None:
        """Writes what the repositories hold back until the end of the unit of work; called before commit."""
        self._audit.flush()

    @property
    def parties(self) -> SqlitePartyRepository:
        """Registered parties."""
        return self._parties

    @property
    def exchange_keys(self) -> SqliteExchangeKeyRepository:
        """Exchange statement keys."""
        return self._exchange_keys

    @property
    def connections(self) -> SqliteConnectionRepository:
        """Connections."""
        return self._connections

    @property
    def ledger(self) -> SqliteLedgerRepository:
        """Transfers and balances."""
        return self._ledger

    @property
    def statements(self) -> SqliteStatementRepository:
        """Verified statements."""
        return self._statements

    @property
    def audit(self) -> SqliteAuditRepository:
        """The append-only audit log."""
        return self._audit

    @property
    def claims(self) -> SqliteClaimRepository:
        """Claims left by statement entries that could not settle."""
        return self._claims

    @property
    def whitelist_addresses(self) -> SqliteWhitelistAddressRepository:
        """Whitelisted withdrawal addresses."""
        return self._whitelist_addresses

    @property
    def withdrawal_policies(self) -> SqliteWithdrawalPolicyRepository:
        """Withdrawal approval policies."""
        return self._withdrawal_policies

    @property
    def withdrawals(self) -> SqliteWithdrawalRepository:
        """Withdrawals."""
        return self._withdrawals

    @property
    def allocations(self) -> SqliteAllocationRepository:
        """Allocations and their lifecycle."""
        return self._allocations

    @property
    def frozen_accounts(self) -> SqliteFrozenAccountRepository:
        """Accounts frozen by exchange defaults."""
        return self._frozen_accounts

    @property
    def exchange_defaults(self) -> SqliteExchangeDefaultRepository:
        """The outcome of each exchange's default procedure."""
        return self._exchange_defaults


@contextmanager
def unit_of_work(
    database: Database,
    assets: AssetScales,
    signal: CommitSignal | None = None,
    statement_cache: StatementCache | None = None,
) -> Iterator[SqliteUnitOfWork]:
    """One write transaction as a unit of work: commits when the block ends, rolls back if it raises.

    After a commit that appended audit records, `signal` wakes the audit streams.
    """
    with database.transaction() as transaction:
        uow = SqliteUnitOfWork(transaction, assets, statement_cache)
        yield uow
        uow.flush()
    if signal is not None and uow.audit.appended_count:
        signal.notify_committed()


class SqliteRequestRunner:
    """Runs use cases for the entrypoints: mutations through the request log, reads in a snapshot."""

    def __init__(
        self,
        database: Database,
        request_log: RequestLog,
        assets: AssetScales,
        clock: Clock,
        audit_signal: CommitSignal | None = None,
        checkpoints: BackgroundCheckpoints | None = None,
    ) -> None:
        self._database = database
        self._request_log = request_log
        self._assets = assets
        self._clock = clock
        self.audit_signal = audit_signal or CommitSignal()
        # Parsed statements outlive one unit of work: executing a statement after its
        # submission does not parse its 20,000 entries again.
        self._statement_cache = StatementCache()
        # Without it, SQLite checkpoints the log inside the commits that grow it.
        self._checkpoints = checkpoints

    def run_request(
        self,
        method: str,
        request: HasRequestId,
        response_type: type[ResponseT],
        work: Callable[[UnitOfWork], ResponseT],
    ) -> ResponseT:
        """Runs `work` and stores its response in one transaction; a retry returns the stored response."""
        units: list[SqliteUnitOfWork] = []

        def handler(transaction: sqlite_utils.Database) -> ResponseT:
            uow = SqliteUnitOfWork(transaction, self._assets, self._statement_cache)
            units.append(uow)
            response = work(uow)
            uow.flush()
            return response

        self._hand_over_checkpoints()
        response = self._request_log.run(method, request, response_type, handler, self._clock.now_ms)
        self._committed()
        # Only a handler that ran and committed can have appended records; a retry answered
        # from the request log ran nothing.
        if any(uow.audit.appended_count for uow in units):
            self.audit_signal.notify_committed()
        return response

    def write(self, work: Callable[[UnitOfWork], ResultT]) -> ResultT:
        """Runs `work` in its own write transaction without the request log.

        For what must commit even though the request failed (the audit record of a refused
        statement) and for work no request caused (timers).
        """
        self._hand_over_checkpoints()
        with unit_of_work(self._database, self._assets, self.audit_signal, self._statement_cache) as uow:
            result = work(uow)
        self._committed()
        return result

    def read(self, work: Callable[[UnitOfWork], ResultT]) -> ResultT:
        """Runs a read-only use case on one consistent snapshot, without taking the write lock."""
        connection = self._database.connection()
        assert not connection.conn.in_transaction, "units of work do not nest"
        connection.execute("BEGIN DEFERRED")
        try:
            return work(SqliteUnitOfWork(connection, self._assets, self._statement_cache))
        finally:
            connection.execute("ROLLBACK")

    def _hand_over_checkpoints(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.hand_over(self._database.connection())

    def _committed(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.committed()

    def audit_generation(self) -> int:
        """A number that changes after every commit that appended audit records."""
        return self.audit_signal.generation()

    def wait_for_audit_commit(self, seen_generation: int, timeout_s: float) -> bool:
        """Waits until the generation moves past `seen_generation`, or the timeout; returns whether it did."""
        return self.audit_signal.wait_for_commit(seen_generation, timeout_s)
