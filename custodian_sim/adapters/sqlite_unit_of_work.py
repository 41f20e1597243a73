"""The SQLite unit of work, and the runner that wraps it in the request log's transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import sqlite_utils

from custodian_sim.adapters.sqlite_repositories import (
    SqliteConnectionRepository,
    SqliteExchangeKeyRepository,
    SqliteLedgerRepository,
    SqlitePartyRepository,
    SqliteStatementRepository,
)
from custodian_sim.service_layer.unit_of_work import UnitOfWork
from service_kit.clock import Clock
from service_kit.database import Database
from service_kit.idempotency import HasRequestId, RequestLog, ResponseT
from service_kit.money import AssetScales

ResultT = TypeVar("ResultT")


class SqliteUnitOfWork:
    """Every repository over one open SQLite transaction."""

    def __init__(self, transaction: sqlite_utils.Database, assets: AssetScales) -> None:
        self._parties = SqlitePartyRepository(transaction)
        self._exchange_keys = SqliteExchangeKeyRepository(transaction)
        self._connections = SqliteConnectionRepository(transaction)
        self._ledger = SqliteLedgerRepository(transaction)
        self._statements = SqliteStatementRepository(transaction, assets)

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


@contextmanager
def unit_of_work(database: Database, assets: AssetScales) -> Iterator[SqliteUnitOfWork]:
    """One write transaction as a unit of work: commits when the block ends, rolls back if it raises."""
    with database.transaction() as transaction:
        yield SqliteUnitOfWork(transaction, assets)


class SqliteRequestRunner:
    """Runs use cases for the entrypoints: mutations through the request log, reads in a snapshot."""

    def __init__(
        self, database: Database, request_log: RequestLog, assets: AssetScales, clock: Clock
    ) -> None:
        self._database = database
        self._request_log = request_log
        self._assets = assets
        self._clock = clock

    def run_request(
        self,
        method: str,
        request: HasRequestId,
        response_type: type[ResponseT],
        work: Callable[[UnitOfWork], ResponseT],
    ) -> ResponseT:
        """Runs `work` and stores its response in one transaction; a retry returns the stored response."""
        return self._request_log.run(
            method,
            request,
            response_type,
            lambda transaction: work(SqliteUnitOfWork(transaction, self._assets)),
            self._clock.now_ms,
        )

    def read(self, work: Callable[[UnitOfWork], ResultT]) -> ResultT:
        """Runs a read-only use case on one consistent snapshot, without taking the write lock."""
        connection = self._database.connection()
        assert not connection.conn.in_transaction, "units of work do not nest"
        connection.execute("BEGIN DEFERRED")
        try:
            return work(SqliteUnitOfWork(connection, self._assets))
        finally:
            connection.execute("ROLLBACK")
