"""A custodian database of the walking skeleton migrates in place: connections kept, audit log added."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from custodian_sim.adapters.schema import CONNECTION_PENDING_SCHEMA, LEDGER_SCHEMA, MIGRATIONS
from service_kit.database import Database


def test_a_skeleton_database_keeps_its_connections_and_accepts_pending_ones(tmp_path: Path) -> None:
    path = tmp_path / "custodian.sqlite3"
    skeleton_version = MIGRATIONS.index(LEDGER_SCHEMA) + 1
    old = Database(path, MIGRATIONS[:skeleton_version], synchronous="NORMAL")
    with old.transaction() as transaction:
        transaction.execute("INSERT INTO parties VALUES ('clients/acme', 'clients', 'Acme', 1)")
        transaction.execute("INSERT INTO parties VALUES ('exchanges/okx-sim', 'exchanges', 'OKX', 1)")
        transaction.execute(
            "INSERT INTO connections VALUES "
            "('clients/acme/connections/okx-sim', 'clients/acme', 'exchanges/okx-sim', 'ACTIVE', 5)"
        )
        with pytest.raises(sqlite3.IntegrityError):
            transaction.execute("UPDATE connections SET state = 'PENDING'")
    old.close()

    migrated = Database(path, MIGRATIONS, synchronous="NORMAL")
    try:
        connection = migrated.connection()
        assert connection.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert MIGRATIONS.index(CONNECTION_PENDING_SCHEMA) >= skeleton_version
        assert connection.execute("SELECT name, state, create_time_ms FROM connections").fetchall() == [
            ("clients/acme/connections/okx-sim", "ACTIVE", 5)
        ]
        with migrated.transaction() as transaction:
            transaction.execute("UPDATE connections SET state = 'PENDING'")
            transaction.execute(
                "INSERT INTO audit_records (record_time_ms, principal, request_id, method, resource, before, "
                "after, owner) VALUES (1, 'system', '', '', 'clients/acme', '', 'REGISTERED', 'clients/acme')"
            )
        assert connection.execute("SELECT sequence FROM audit_records").fetchall() == [(1,)]
        indexes = {row[1] for row in connection.execute("PRAGMA index_list('connections')").fetchall()}
        assert "connections_by_exchange" in indexes
    finally:
        migrated.close()
