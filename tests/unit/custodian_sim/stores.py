"""The two stores the use-case tests run against: the in-memory fake and real SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from custodian_sim.adapters.schema import MIGRATIONS
from custodian_sim.adapters.sqlite_unit_of_work import SqliteUnitOfWork, unit_of_work
from custodian_sim.domain.ledger import BalanceKey, Transfer, TransferKind
from custodian_sim.domain.statements import StatementState
from custodian_sim.service_layer.unit_of_work import UnitOfWork
from service_kit.database import Database
from service_kit.money import AssetScales
from tests.unit.custodian_sim.fakes import FakeStore

# What the property tests compare before and after an operation.
Snapshot = tuple[
    dict[BalanceKey, int], dict[str, Transfer], dict[str, tuple[StatementState, tuple[str, ...]]]
]


class Store(Protocol):
    """Units of work plus a full read-out of the ledger for invariant checks."""

    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]: ...

    def snapshot(self) -> Snapshot: ...


class FakeStoreWithSnapshot(FakeStore):
    def snapshot(self) -> Snapshot:
        return (
            dict(self.state.balances),
            dict(self.state.transfers),
            {
                name: (recorded.state, recorded.transfer_ids)
                for name, recorded in self.state.statements.items()
            },
        )


class SqliteStore:
    def __init__(self, path: Path, assets: AssetScales) -> None:
        # NORMAL durability keeps the tests fast; the service itself runs FULL.
        self.database = Database(path, MIGRATIONS, synchronous="NORMAL")
        self._assets = assets

    @contextmanager
    def unit_of_work(self) -> Iterator[SqliteUnitOfWork]:
        with unit_of_work(self.database, self._assets) as uow:
            yield uow

    def snapshot(self) -> Snapshot:
        connection = self.database.connection()
        balances = {
            (account, asset): units
            for account, asset, units in connection.execute(
                "SELECT account, asset, balance_units FROM balances"
            ).fetchall()
        }
        transfers = {
            row[0]: Transfer(row[0], row[1], row[2], row[3], row[4], TransferKind(row[5]), row[6], row[7])
            for row in connection.execute(
                "SELECT id, from_account, to_account, asset, amount_units, kind, reference, create_time_ms "
                "FROM transfers"
            ).fetchall()
        }
        statements: dict[str, tuple[StatementState, tuple[str, ...]]] = {}
        for (name,) in connection.execute("SELECT name FROM statements").fetchall():
            with self.unit_of_work() as uow:
                recorded = uow.statements.get(name)
            assert recorded is not None
            statements[name] = (recorded.state, recorded.transfer_ids)
        return balances, transfers, statements

    def close(self) -> None:
        self.database.close()
