"""The SQLite adapter: append-only transfers, fixed statement content, reset, reopening."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from custodian_sim.adapters.schema import MIGRATIONS
from custodian_sim.domain.names import ConnectionName, available_account
from tests.unit.custodian_sim.harness import ASSETS, Harness
from tests.unit.custodian_sim.statement_factory import statement_content
from tests.unit.custodian_sim.stores import SqliteStore

OKX = "exchanges/okx-sim"


@pytest.fixture()
def store(tmp_path: Path) -> SqliteStore:
    store = SqliteStore(tmp_path / "custodian.sqlite3", ASSETS)
    harness = Harness(store)
    for party in ("clients/acme", OKX):
        harness.create_party(party)
    harness.register_key(OKX)
    harness.deposit("d1", "clients/acme", "BTC", 500)
    connection = harness.connect("acme", "okx-sim")
    harness.lock(connection, "a1", "BTC", 300)
    content = statement_content(OKX, 1, [(connection.name, "BTC", "-0.00000100")])
    harness.submit(content)
    harness.execute(content)
    return store


def test_a_posted_transfer_cannot_be_updated(store: SqliteStore) -> None:
    connection = store.database.connection()
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("UPDATE transfers SET amount_units = 1 WHERE id = 'deposits/d1'")
    row = connection.execute("SELECT amount_units FROM transfers WHERE id = 'deposits/d1'").fetchone()
    assert row == (500,)


def test_a_recorded_statements_content_cannot_be_updated_but_its_state_can(store: SqliteStore) -> None:
    connection = store.database.connection()
    with pytest.raises(sqlite3.IntegrityError, match="never updated"):
        connection.execute("UPDATE statements SET nonce = 'other'")
    connection.execute("UPDATE statements SET state = state")


def test_executed_statements_keep_their_transfer_ids_in_order(store: SqliteStore) -> None:
    with store.unit_of_work() as uow:
        recorded = uow.statements.get(f"{OKX}/statements/1")
        latest = uow.statements.latest(OKX)
    assert recorded is not None
    assert recorded == latest
    assert recorded.transfer_ids == ("exchanges/okx-sim/statements/1/transfers/acme/BTC",)
    assert recorded.statement.entries[0].amount_units == -100


def test_reopening_keeps_everything_and_reset_empties_every_table(store: SqliteStore) -> None:
    before = store.snapshot()
    store.close()
    reopened = SqliteStore(store.database.path, ASSETS)
    assert reopened.snapshot() == before
    version = reopened.database.connection().execute("PRAGMA user_version").fetchone()[0]
    assert version == len(MIGRATIONS)

    reopened.database.delete_everything()

    connection = reopened.database.connection()
    tables = [name for name in connection.table_names() if not name.startswith("sqlite_")]
    assert {"request_log", "parties", "transfers", "balances", "statements"} <= set(tables)
    assert all(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone() == (0,) for name in tables)
    with reopened.unit_of_work() as uow:
        assert uow.ledger.balances([(available_account("acme"), "BTC")]) == {}
        assert uow.connections.get(ConnectionName("acme", "okx-sim")) is None
    reopened.close()
