"""SQLite storage of statement entry outcomes, top-up deadlines and claims."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlite_utils

from custodian_sim.domain.entry_outcomes import (
    Claim,
    ClaimClosure,
    ClaimDraft,
    ClaimState,
    EntryOutcome,
    EntryState,
)
from custodian_sim.domain.names import ConnectionName
from custodian_sim.domain.statements import RecordedStatement, SignedStatement
from service_kit.paging import PAGE_SIZE_MAX

# A statement's entry outcomes are stored only once an entry leaves PENDING, by its position in
# the signed entries; a SETTLED or FAILED outcome is final, only a DISPUTED one is resolved.
# Claims are appended and never changed. The deadline is set when execution waits for a top-up.
# The outcomes carry no foreign key to `statements`: a statement row holds its whole signed
# content, and every key lookup in that WITHOUT ROWID table reads all of it (about 230 us for
# 20,000 entries), once per inserted outcome. Only the statement repository writes outcomes.
SETTLEMENT_OUTCOMES_SCHEMA = """
ALTER TABLE statements ADD COLUMN top_up_deadline_ms INTEGER;

-- For the same reason the transfers of a statement lose their foreign key to `statements`
-- (rebuilt: SQLite cannot drop a constraint; no table references this one).
CREATE TABLE statement_transfers_rebuilt (
    statement TEXT NOT NULL,
    position INTEGER NOT NULL,
    transfer_id TEXT NOT NULL REFERENCES transfers (id) DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (statement, position)
) WITHOUT ROWID;
INSERT INTO statement_transfers_rebuilt (statement, position, transfer_id)
    SELECT statement, position, transfer_id FROM statement_transfers;
DROP TABLE statement_transfers;
ALTER TABLE statement_transfers_rebuilt RENAME TO statement_transfers;

CREATE TABLE statement_entry_outcomes (
    statement TEXT NOT NULL,
    position INTEGER NOT NULL CHECK (position >= 0),
    state TEXT NOT NULL CHECK (state IN ('SETTLED', 'FAILED', 'DISPUTED')),
    reason TEXT NOT NULL,
    transfer_id TEXT NOT NULL,
    PRIMARY KEY (statement, position)
) WITHOUT ROWID;

CREATE TRIGGER settled_and_failed_entries_are_final
BEFORE UPDATE ON statement_entry_outcomes WHEN OLD.state <> 'DISPUTED'
BEGIN
    SELECT RAISE(ABORT, 'a settled or failed statement entry is final');
END;

CREATE TABLE claims (
    number INTEGER PRIMARY KEY,
    creditor TEXT NOT NULL,
    debtor TEXT NOT NULL,
    asset TEXT NOT NULL,
    amount_units INTEGER NOT NULL CHECK (amount_units > 0),
    statement TEXT NOT NULL,
    connection TEXT NOT NULL,
    reason TEXT NOT NULL,
    create_time_ms INTEGER NOT NULL,
    CHECK (creditor <> debtor)
);
CREATE INDEX claims_by_creditor ON claims (creditor, number);
CREATE INDEX claims_by_debtor ON claims (debtor, number);

-- Append-only history: a recorded claim is never edited (Reset empties the whole table).
CREATE TRIGGER claims_are_immutable BEFORE UPDATE ON claims
BEGIN
    SELECT RAISE(ABORT, 'claims are append-only: a recorded claim is never updated');
END;
"""

# How an execution's outcomes are stored, made cheaper to write (20,000 rows per execution):
# - The ids of the transfers that executed a statement, in posting order, become one JSON array
#   per statement: they only grow (a resolved entry appends its adjustment), and one row per
#   transfer (the table this replaces) cost as much to write as the ledger transfers.
# - The entry outcomes' state check is written as comparisons: with `state IN (...)` SQLite
#   built a table of the list for every row inserted, which more than doubled the cost of the
#   insert. The table is rebuilt (SQLite cannot change a CHECK in place); its rows, its key
#   and its trigger stay as they were.
STATEMENT_SETTLEMENT_STORAGE_SCHEMA = """
CREATE TABLE statement_transfer_ids (
    statement TEXT PRIMARY KEY,
    transfer_ids TEXT NOT NULL
) WITHOUT ROWID;

INSERT INTO statement_transfer_ids (statement, transfer_ids)
SELECT
    executed.statement,
    (
        SELECT json_group_array(transfer_id)
        FROM (
            SELECT transfer_id FROM statement_transfers
            WHERE statement = executed.statement ORDER BY position
        )
    )
FROM (SELECT DISTINCT statement FROM statement_transfers) AS executed;

DROP TABLE statement_transfers;

CREATE TABLE statement_entry_outcomes_rebuilt (
    statement TEXT NOT NULL,
    position INTEGER NOT NULL CHECK (position >= 0),
    state TEXT NOT NULL CHECK (state = 'SETTLED' OR state = 'FAILED' OR state = 'DISPUTED'),
    reason TEXT NOT NULL,
    transfer_id TEXT NOT NULL,
    PRIMARY KEY (statement, position)
) WITHOUT ROWID;
INSERT INTO statement_entry_outcomes_rebuilt (statement, position, state, reason, transfer_id)
    SELECT statement, position, state, reason, transfer_id FROM statement_entry_outcomes;
DROP TABLE statement_entry_outcomes;
ALTER TABLE statement_entry_outcomes_rebuilt RENAME TO statement_entry_outcomes;

CREATE TRIGGER settled_and_failed_entries_are_final
BEFORE UPDATE ON statement_entry_outcomes WHEN OLD.state <> 'DISPUTED'
BEGIN
    SELECT RAISE(ABORT, 'a settled or failed statement entry is final');
END;
"""

# How a later statement closed an open claim (see ClaimState); appended once per claim, never
# edited, so that the claims themselves stay append-only.
CLAIM_CLOSURES_SCHEMA = """
CREATE TABLE claim_closures (
    claim_number INTEGER PRIMARY KEY REFERENCES claims (number) DEFERRABLE INITIALLY DEFERRED,
    state TEXT NOT NULL CHECK (state = 'SETTLED' OR state = 'SUPERSEDED' OR state = 'NETTED'),
    statement TEXT NOT NULL,
    close_time_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER claim_closures_are_immutable BEFORE UPDATE ON claim_closures
BEGIN
    SELECT RAISE(ABORT, 'claim closures are append-only: a claim is closed once');
END;
"""

# The largest page, plus the one claim more that tells whether another page follows.
CLAIMS_PER_QUERY_MAX = PAGE_SIZE_MAX + 1
# As many as a statement has entries at most (ENTRIES_PER_STATEMENT_MAX).
OPEN_CLAIMS_PER_EXCHANGE_MAX = 100_000

_ENTRY_STATES = {state.value: state for state in EntryState}


def read_transfer_ids(database: sqlite_utils.Database, statement: str) -> tuple[str, ...]:
    """The ids of the transfers that executed the statement, in posting order."""
    row = database.execute(
        "SELECT transfer_ids FROM statement_transfer_ids WHERE statement = ?", (statement,)
    ).fetchone()
    return () if row is None else tuple(json.loads(row[0]))


def write_transfer_ids(database: sqlite_utils.Database, recorded: RecordedStatement) -> None:
    """Stores the statement's transfer ids, which only grow."""
    stored = read_transfer_ids(database, recorded.name)
    assert recorded.transfer_ids[: len(stored)] == stored, "a statement's transfer ids only grow"
    if len(recorded.transfer_ids) == len(stored):
        return
    database.execute(
        "INSERT INTO statement_transfer_ids (statement, transfer_ids) VALUES (?, ?) "
        "ON CONFLICT (statement) DO UPDATE SET transfer_ids = excluded.transfer_ids",
        (recorded.name, json.dumps(recorded.transfer_ids, separators=(",", ":"))),
    )


def read_outcomes(database: sqlite_utils.Database, statement: SignedStatement) -> tuple[EntryOutcome, ...]:
    """The statement's entry outcomes, one per entry; empty when every entry is still pending."""
    rows = database.execute(
        "SELECT position, state, reason, transfer_id FROM statement_entry_outcomes WHERE statement = ?",
        (statement.name,),
    ).fetchall()
    if not rows:
        return ()
    outcomes = list(statement.pending_outcomes)
    for position, state, reason, transfer_id in rows:
        pending = outcomes[position]
        outcomes[position] = EntryOutcome(
            pending.connection, pending.asset, pending.amount_units, _ENTRY_STATES[state], reason, transfer_id
        )
    return tuple(outcomes)


def write_outcomes(database: sqlite_utils.Database, recorded: RecordedStatement) -> None:
    """Stores the outcomes that changed since the last write (every one not pending is stored)."""
    stored = {
        position: (state, reason, transfer_id)
        for position, state, reason, transfer_id in database.execute(
            "SELECT position, state, reason, transfer_id FROM statement_entry_outcomes WHERE statement = ?",
            (recorded.name,),
        ).fetchall()
    }
    pending = EntryState.PENDING
    added: list[tuple[str, int, str, str, str]] = []
    changed: list[tuple[str, str, str, str, int]] = []
    for position, outcome in enumerate(recorded.outcomes):
        if outcome.state is pending:
            continue
        row = (outcome.state.value, outcome.reason, outcome.transfer_id)
        before = stored.get(position)
        if before is None:
            added.append((recorded.name, position, *row))
        elif before != row:
            changed.append((*row, recorded.name, position))
    database.conn.executemany(
        "INSERT INTO statement_entry_outcomes (statement, position, state, reason, transfer_id) "
        "VALUES (?, ?, ?, ?, ?)",
        added,
    )
    # The table's trigger refuses to change a SETTLED or FAILED outcome.
    database.conn.executemany(
        "UPDATE statement_entry_outcomes SET state = ?, reason = ?, transfer_id = ? "
        "WHERE statement = ? AND position = ?",
        changed,
    )


_CLAIM_COLUMNS = (
    "number, creditor, debtor, asset, amount_units, statement, connection, reason, create_time_ms"
)
# A claim with its closure, if any (the last two columns are NULL while it is open).
_CLAIM_SELECT = (
    "SELECT claims.number, creditor, debtor, asset, amount_units, claims.statement, connection, reason, "
    "create_time_ms, claim_closures.state, claim_closures.statement FROM claims "
    "LEFT JOIN claim_closures ON claim_closures.claim_number = claims.number"
)
_CLAIM_STATES = {state.value: state for state in ClaimState}


def _claim_from_row(row: Sequence[Any]) -> Claim:
    number, creditor, debtor, asset, amount_units, statement, connection, reason, create_time_ms = row[:9]
    closed_state, closed_by = row[9:]
    closure = None if closed_state is None else ClaimClosure(number, _CLAIM_STATES[closed_state], closed_by)
    draft = ClaimDraft(
        creditor,
        debtor,
        asset,
        amount_units,
        statement,
        ConnectionName.parse(connection, "connection"),
        reason,
    )
    return Claim(number, draft, create_time_ms, closure)


class SqliteClaimRepository:
    """Claims in the `claims` table; the table refuses updates."""

    def __init__(self, database: sqlite_utils.Database) -> None:
        self._database = database

    def next_number(self) -> int:
        """One more than the highest recorded claim number, 1 for the first."""
        highest: int | None = self._database.execute("SELECT max(number) FROM claims").fetchone()[0]
        return 1 if highest is None else highest + 1

    def add(self, claim: Claim) -> None:
        """Records a new claim."""
        draft = claim.draft
        self._database.execute(
            f"INSERT INTO claims ({_CLAIM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                claim.number,
                draft.creditor,
                draft.debtor,
                draft.asset,
                draft.amount_units,
                draft.statement,
                draft.connection.name,
                draft.reason,
                claim.create_time_ms,
            ),
        )

    def list_after(self, party: str | None, after_number: int, limit: int) -> list[Claim]:
        """Up to `limit` claims after `after_number`, oldest first; only `party`'s unless None."""
        assert 0 < limit <= CLAIMS_PER_QUERY_MAX, limit
        if party is None:
            rows = self._database.execute(
                f"{_CLAIM_SELECT} WHERE claims.number > ? ORDER BY claims.number LIMIT ?",
                (after_number, limit),
            ).fetchall()
        else:
            rows = self._database.execute(
                f"{_CLAIM_SELECT} WHERE claims.number > ? AND (creditor = ? OR debtor = ?) "
                "ORDER BY claims.number LIMIT ?",
                (after_number, party, party, limit),
            ).fetchall()
        return [_claim_from_row(row) for row in rows]

    def open_for_exchange(self, exchange: str) -> list[Claim]:
        """Every open claim left by statements of `exchange`, oldest first."""
        rows = self._database.execute(
            f"{_CLAIM_SELECT} WHERE claim_closures.claim_number IS NULL AND claims.statement LIKE ? "
            "ORDER BY claims.number LIMIT ?",
            (f"{exchange}/statements/%", OPEN_CLAIMS_PER_EXCHANGE_MAX + 1),
        ).fetchall()
        # Each connection and asset has at most one open claim (a new one closes the old), so the
        # open claims of an exchange are bounded by its connections times assets.
        assert len(rows) <= OPEN_CLAIMS_PER_EXCHANGE_MAX, f"{exchange} has more open claims than entries"
        return [_claim_from_row(row) for row in rows]

    def close(self, closure: ClaimClosure, close_time_ms: int) -> None:
        """Appends how an open claim was closed."""
        self._database.execute(
            "INSERT INTO claim_closures (claim_number, state, statement, close_time_ms) VALUES (?, ?, ?, ?)",
            (closure.claim_number, closure.state.value, closure.statement, close_time_ms),
        )
