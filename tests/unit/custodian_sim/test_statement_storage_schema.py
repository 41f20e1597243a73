"""A database from before the compact statement storage migrates: content, transfer ids and outcomes kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from custodian_sim.adapters.schema import MIGRATIONS
from custodian_sim.adapters.sqlite_settlement import STATEMENT_SETTLEMENT_STORAGE_SCHEMA
from custodian_sim.adapters.sqlite_unit_of_work import unit_of_work
from custodian_sim.domain.entry_outcomes import EntryState
from custodian_sim.domain.statements import StatementState
from service_kit.database import Database
from tests.unit.custodian_sim.harness import ASSETS
from tests.unit.custodian_sim.statement_factory import signed, statement_content

OKX = "exchanges/okx-sim"
ACME = "clients/acme/connections/okx-sim"
BETA = "clients/beta/connections/okx-sim"
STATEMENT = f"{OKX}/statements/1"
LOSS_ID = f"{STATEMENT}/transfers/acme/BTC"
GAIN_ID = f"{STATEMENT}/transfers/beta/USDT"


def test_an_executed_statement_reads_back_the_same_after_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "custodian.sqlite3"
    content, signature = signed(statement_content(OKX, 1, [(ACME, "BTC", "-0.5"), (BETA, "USDT", "10")]))
    old = Database(
        path, MIGRATIONS[: MIGRATIONS.index(STATEMENT_SETTLEMENT_STORAGE_SCHEMA)], synchronous="NORMAL"
    )
    with old.transaction() as transaction:
        transaction.execute("INSERT INTO parties VALUES (?, 'exchanges', 'OKX', 1)", (OKX,))
        transaction.execute(
            "INSERT INTO statements (name, exchange, number, content, signature, nonce, state, "
            "submit_time_ms, execute_time_ms) VALUES (?, ?, 1, ?, ?, ?, 'SUCCEEDED', 2, 3)",
            (STATEMENT, OKX, content.canonical_bytes().decode(), signature, content.nonce),
        )
        for transfer_id, from_account, to_account, asset, amount_units, kind in (
            (LOSS_ID, f"{ACME}/allocated", f"{OKX}/settlement", "BTC", 50_000_000, "SETTLEMENT_LOSS"),
            (GAIN_ID, f"{OKX}/settlement", f"{BETA}/allocated", "USDT", 10_000_000, "SETTLEMENT_GAIN"),
        ):
            transaction.execute(
                "INSERT INTO transfers (id, from_account, to_account, asset, amount_units, kind, reference, "
                "create_time_ms) VALUES (?, ?, ?, ?, ?, ?, ?, 3)",
                (transfer_id, from_account, to_account, asset, amount_units, kind, STATEMENT),
            )
        # Stored out of order: the migration keeps the posting order of the positions.
        for position, transfer_id in ((1, GAIN_ID), (0, LOSS_ID)):
            transaction.execute(
                "INSERT INTO statement_transfers (statement, position, transfer_id) VALUES (?, ?, ?)",
                (STATEMENT, position, transfer_id),
            )
        for position, transfer_id in ((0, LOSS_ID), (1, GAIN_ID)):
            transaction.execute(
                "INSERT INTO statement_entry_outcomes (statement, position, state, reason, transfer_id) "
                "VALUES (?, ?, 'SETTLED', '', ?)",
                (STATEMENT, position, transfer_id),
            )
    old.close()

    migrated = Database(path, MIGRATIONS, synchronous="NORMAL")
    try:
        with unit_of_work(migrated, ASSETS) as uow:
            recorded = uow.statements.get(STATEMENT)
            latest = uow.statements.latest(OKX)
        assert recorded is not None and recorded == latest
        assert recorded.statement.content == content and recorded.statement.signature == signature
        assert (recorded.state, recorded.submit_time_ms, recorded.execute_time_ms) == (
            StatementState.SUCCEEDED,
            2,
            3,
        )
        assert recorded.transfer_ids == (LOSS_ID, GAIN_ID)
        assert [(outcome.state, outcome.transfer_id) for outcome in recorded.entry_outcomes()] == [
            (EntryState.SETTLED, LOSS_ID),
            (EntryState.SETTLED, GAIN_ID),
        ]
        connection = migrated.connection()
        tables = {
            name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        assert "statement_transfers" not in tables
        with pytest.raises(sqlite3.IntegrityError, match="never updated"):
            connection.execute("UPDATE statement_contents SET content = ''")
        with pytest.raises(sqlite3.IntegrityError, match="never updated"):
            connection.execute("UPDATE statements SET nonce = 'other'")
        connection.execute("UPDATE statements SET state = state")
        with pytest.raises(sqlite3.IntegrityError, match="final"):
            connection.execute("UPDATE statement_entry_outcomes SET state = 'DISPUTED'")
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            connection.execute(
                "INSERT INTO statement_entry_outcomes VALUES (?, 2, 'PENDING', '', '')", (STATEMENT,)
            )
    finally:
        migrated.close()
