"""SQLite repositories of allocations, frozen accounts and exchange defaults, and their tables."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

import sqlite_utils

from custodian_sim.domain.allocation_lifecycle import (
    IN_FLIGHT_STATEMENT_STATES,
    Allocation,
    AllocationName,
    AllocationState,
)
from custodian_sim.domain.defaults import DefaultClaim, DefaultClaimKind, ExchangeDefault, StatementOutcome
from custodian_sim.domain.names import ConnectionName

# SQLite allows 32,766 bound variables per statement; batches stay far below that.
ROWS_PER_QUERY_MAX = 500

# Appended to the custodian's MIGRATIONS. An allocation's request (id, connection, asset,
# amount) never changes, only its state moves on. Allocations locked before this schema have a
# lock transfer but no row: they are recorded RESERVED, the state a lock leaves them in, so the
# bridge can still clear or release them. `allocations/{id}/lock` holds the id between the
# 12-character prefix and the 5-character suffix. Frozen accounts and defaults are never
# updated: a default happens once per exchange.
ALLOCATIONS_SCHEMA = """
CREATE TABLE allocations (
    allocation_id TEXT PRIMARY KEY,
    connection TEXT NOT NULL,
    exchange TEXT NOT NULL,
    asset TEXT NOT NULL,
    amount_units INTEGER NOT NULL CHECK (amount_units > 0),
    state TEXT NOT NULL CHECK (state IN ('PENDING', 'RESERVED', 'CLEARED', 'RELEASED', 'REJECTED')),
    reason TEXT NOT NULL,
    create_time_ms INTEGER NOT NULL,
    update_time_ms INTEGER NOT NULL CHECK (update_time_ms >= create_time_ms)
) WITHOUT ROWID;
CREATE INDEX allocations_by_exchange ON allocations (exchange, state, connection);

CREATE TRIGGER allocation_requests_are_immutable
BEFORE UPDATE OF allocation_id, connection, exchange, asset, amount_units, create_time_ms ON allocations
BEGIN
    SELECT RAISE(ABORT, 'an allocation''s request is never updated; only its state moves on');
END;

INSERT INTO allocations (
    allocation_id, connection, exchange, asset, amount_units, state, reason, create_time_ms, update_time_ms
)
SELECT
    substr(id, 13, length(id) - 17),
    reference,
    'exchanges/' || substr(reference, instr(reference, '/connections/') + 13),
    asset,
    amount_units,
    'RESERVED',
    '',
    create_time_ms,
    create_time_ms
FROM transfers WHERE kind = 'ALLOCATION_LOCK';

CREATE TABLE frozen_accounts (
    account TEXT PRIMARY KEY,
    reference TEXT NOT NULL,
    freeze_time_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER frozen_accounts_stay_frozen BEFORE UPDATE ON frozen_accounts
BEGIN
    SELECT RAISE(ABORT, 'a frozen account is never updated');
END;

CREATE TABLE exchange_defaults (
    exchange TEXT PRIMARY KEY,
    statement TEXT NOT NULL,
    statement_state TEXT NOT NULL,
    statement_applied INTEGER NOT NULL CHECK (statement_applied IN (0, 1)),
    statement_reason TEXT NOT NULL,
    connections TEXT NOT NULL,
    frozen_accounts TEXT NOT NULL,
    transfer_ids TEXT NOT NULL,
    default_time_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER exchange_defaults_are_immutable BEFORE UPDATE ON exchange_defaults
BEGIN
    SELECT RAISE(ABORT, 'a recorded default is never updated');
END;

CREATE TABLE default_claims (
    exchange TEXT NOT NULL REFERENCES exchange_defaults (exchange) DEFERRABLE INITIALLY DEFERRED,
    position INTEGER NOT NULL CHECK (position >= 0),
    party TEXT NOT NULL,
    asset TEXT NOT NULL,
    amount_units INTEGER NOT NULL CHECK (amount_units > 0),
    kind TEXT NOT NULL,
    account TEXT NOT NULL,
    PRIMARY KEY (exchange, position)
) WITHOUT ROWID;
CREATE INDEX default_claims_by_party ON default_claims (party, exchange);

CREATE TRIGGER default_claims_are_immutable BEFORE UPDATE ON default_claims
BEGIN
    SELECT RAISE(ABORT, 'a recorded claim is never updated');
END;
"""

_ALLOCATION_COLUMNS = (
    "allocation_id, connection, asset, amount_units, state, reason, create_time_ms, update_time_ms"
)


def _allocation_from_row(row: Sequence[Any]) -> Allocation:
    allocation_id, connection, asset, amount_units, state, reason, create_time_ms, update_time_ms = row
    return Allocation(
        AllocationName(ConnectionName.parse(connection, "connection"), allocation_id),
        asset,
        amount_units,
        AllocationState(state),
        reason,
        create_time_ms,
        update_time_ms,
    )


class SqliteAllocationRepository:
    """Allocations in `allocations`; the statement in flight is read from `statements`."""

    def __init__(self, database: sqlite_utils.Database) -> None:
        self._database = database

    def get(self, allocation_id: str) -> Allocation | None:
        """Returns the allocation recorded under the id, whatever its connection."""
        row = self._database.execute(
            f"SELECT {_ALLOCATION_COLUMNS} FROM allocations WHERE allocation_id = ?", (allocation_id,)
        ).fetchone()
        return None if row is None else _allocation_from_row(row)

    def add(self, allocation: Allocation) -> None:
        """Records a new allocation."""
        self._database.execute(
            "INSERT INTO allocations (allocation_id, connection, exchange, asset, amount_units, state, "
            "reason, create_time_ms, update_time_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                allocation.allocation_id,
                allocation.connection.name,
                allocation.connection.exchange,
                allocation.asset,
                allocation.amount_units,
                allocation.state.value,
                allocation.reason,
                allocation.create_time_ms,
                allocation.update_time_ms,
            ),
        )

    def update(self, allocation: Allocation) -> None:
        """Stores an allocation's new state, reason and update time."""
        cursor = self._database.execute(
            "UPDATE allocations SET state = ?, reason = ?, update_time_ms = ? WHERE allocation_id = ?",
            (allocation.state.value, allocation.reason, allocation.update_time_ms, allocation.allocation_id),
        )
        assert cursor.rowcount == 1, f"{allocation.name.name} was never recorded"

    def list_for_exchange(self, exchange: str, state: AllocationState) -> list[Allocation]:
        """Every allocation in `state` on a connection to `exchange`, sorted by name."""
        rows = self._database.execute(
            f"SELECT {_ALLOCATION_COLUMNS} FROM allocations WHERE exchange = ? AND state = ? "
            "ORDER BY connection, allocation_id",
            (exchange, state.value),
        ).fetchall()
        return [_allocation_from_row(row) for row in rows]

    def statement_in_flight(self, connection: ConnectionName) -> str | None:
        """The exchange's unexecuted statement with an entry for the connection, if any.

        At most one statement of an exchange is unexecuted at a time (the next one is refused
        until it executes), so only the latest such statement is read.
        """
        states = sorted(IN_FLIGHT_STATEMENT_STATES)
        placeholders = ", ".join("?" for _ in states)
        row = self._database.execute(
            "SELECT name, content FROM statements "
            "JOIN statement_contents ON statement_contents.statement = statements.name "
            f"WHERE exchange = ? AND state IN ({placeholders}) ORDER BY number DESC LIMIT 1",
            (connection.exchange, *states),
        ).fetchone()
        if row is None:
            return None
        name, content = row
        # The canonical signed content lists entries as [connection, asset, amount].
        entries = json.loads(content)["entries"]
        return name if any(entry[0] == connection.name for entry in entries) else None


class SqliteFrozenAccountRepository:
    """Frozen accounts in `frozen_accounts`."""

    def __init__(self, database: sqlite_utils.Database) -> None:
        self._database = database

    def frozen_among(self, accounts: Collection[str]) -> set[str]:
        """Those of the accounts that are frozen."""
        found: set[str] = set()
        if (
            len(accounts) > ROWS_PER_QUERY_MAX
            and not self._database.execute("SELECT EXISTS (SELECT 1 FROM frozen_accounts)").fetchone()[0]
        ):
            # Only defaulted exchanges freeze accounts: a statement's 10,000 accounts are
            # usually checked against an empty table.
            return found
        ordered = sorted(set(accounts))
        for start in range(0, len(ordered), ROWS_PER_QUERY_MAX):
            batch = ordered[start : start + ROWS_PER_QUERY_MAX]
            placeholders = ", ".join("?" for _ in batch)
            rows = self._database.execute(
                f"SELECT account FROM frozen_accounts WHERE account IN ({placeholders})", batch
            ).fetchall()
            found.update(account for (account,) in rows)
        return found

    def freeze(self, account: str, reference: str, freeze_time_ms: int) -> None:
        """Freezes an account that is not frozen yet."""
        self._database.execute(
            "INSERT INTO frozen_accounts (account, reference, freeze_time_ms) VALUES (?, ?, ?)",
            (account, reference, freeze_time_ms),
        )


class SqliteExchangeDefaultRepository:
    """Defaults in `exchange_defaults`, their claims in `default_claims`."""

    def __init__(self, database: sqlite_utils.Database) -> None:
        self._database = database

    def get(self, exchange: str) -> ExchangeDefault | None:
        """Returns the exchange's default, if the procedure ran."""
        row = self._database.execute(
            "SELECT statement, statement_state, statement_applied, statement_reason, connections, "
            "frozen_accounts, transfer_ids, default_time_ms FROM exchange_defaults WHERE exchange = ?",
            (exchange,),
        ).fetchone()
        if row is None:
            return None
        statement, state, applied, reason, connections, frozen, transfer_ids, default_time_ms = row
        claims = tuple(
            DefaultClaim(party, asset, amount_units, DefaultClaimKind(kind), account)
            for party, asset, amount_units, kind, account in self._database.execute(
                "SELECT party, asset, amount_units, kind, account FROM default_claims WHERE exchange = ? "
                "ORDER BY position",
                (exchange,),
            ).fetchall()
        )
        return ExchangeDefault(
            exchange=exchange,
            statement=StatementOutcome(statement, state, bool(applied), reason),
            connections=tuple(json.loads(connections)),
            claims=claims,
            frozen_accounts=tuple(json.loads(frozen)),
            transfer_ids=tuple(json.loads(transfer_ids)),
            default_time_ms=default_time_ms,
        )

    def add(self, record: ExchangeDefault) -> None:
        """Records the outcome of the procedure."""
        outcome = record.statement
        self._database.execute(
            "INSERT INTO exchange_defaults (exchange, statement, statement_state, statement_applied, "
            "statement_reason, connections, frozen_accounts, transfer_ids, default_time_ms) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.exchange,
                outcome.statement,
                outcome.state,
                int(outcome.applied),
                outcome.reason,
                json.dumps(list(record.connections)),
                json.dumps(list(record.frozen_accounts)),
                json.dumps(list(record.transfer_ids)),
                record.default_time_ms,
            ),
        )
        self._database.conn.executemany(
            "INSERT INTO default_claims (exchange, position, party, asset, amount_units, kind, account) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    record.exchange,
                    position,
                    claim.party,
                    claim.asset,
                    claim.amount_units,
                    claim.kind.value,
                    claim.account,
                )
                for position, claim in enumerate(record.claims)
            ],
        )
