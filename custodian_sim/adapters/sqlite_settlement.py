"""SQLite storage of statement entry outcomes, top-up deadlines and claims."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlite_utils

from custodian_sim.domain.entry_outcomes import Claim, ClaimDraft, EntryOutcome, EntryState
from custodian_sim.domain.names import ConnectionName
from custodian_sim.domain.statements import RecordedStatement, SignedStatement

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

CLAIMS_PER_QUERY_MAX = 1000


def read_outcomes(database: sqlite_utils.Database, statement: SignedStatement) -> tuple[EntryOutcome, ...]:
    """The statement's entry outcomes, one per entry; empty when every entry is still pending."""
    rows = database.execute(
        "SELECT position, state, reason, transfer_id FROM statement_entry_outcomes WHERE statement = ?",
        (statement.name,),
    ).fetchall()
    if not rows:
        return ()
    stored = {
        position: (EntryState(state), reason, transfer_id) for position, state, reason, transfer_id in rows
    }
    outcomes = []
    for position, entry in enumerate(statement.entries):
        state, reason, transfer_id = stored.get(position, (EntryState.PENDING, "", ""))
        outcomes.append(
            EntryOutcome(entry.connection, entry.asset, entry.amount_units, state, reason, transfer_id)
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
    changed = [
        (recorded.name, position, outcome.state.value, outcome.reason, outcome.transfer_id)
        for position, outcome in enumerate(recorded.outcomes)
        if outcome.state is not EntryState.PENDING
        and stored.get(position) != (outcome.state.value, outcome.reason, outcome.transfer_id)
    ]
    database.conn.executemany(
        "INSERT INTO statement_entry_outcomes (statement, position, state, reason, transfer_id) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (statement, position) DO UPDATE SET "
        "state = excluded.state, reason = excluded.reason, transfer_id = excluded.transfer_id",
        changed,
    )
    cursor = database.execute(
        "UPDATE statements SET top_up_deadline_ms = ? WHERE name = ?",
        (recorded.top_up_deadline_ms, recorded.name),
    )
    assert cursor.rowcount == 1, f"{recorded.name} was never recorded"


_CLAIM_COLUMNS = (
    "number, creditor, debtor, asset, amount_units, statement, connection, reason, create_time_ms"
)


def _claim_from_row(row: Sequence[Any]) -> Claim:
    number, creditor, debtor, asset, amount_units, statement, connection, reason, create_time_ms = row
    draft = ClaimDraft(
        creditor,
        debtor,
        asset,
        amount_units,
        statement,
        ConnectionName.parse(connection, "connection"),
        reason,
    )
    return Claim(number, draft, create_time_ms)


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
                f"SELECT {_CLAIM_COLUMNS} FROM claims WHERE number > ? ORDER BY number LIMIT ?",
                (after_number, limit),
            ).fetchall()
        else:
            rows = self._database.execute(
                f"SELECT {_CLAIM_COLUMNS} FROM claims WHERE number > ? AND (creditor = ? OR debtor = ?) "
                "ORDER BY number LIMIT ?",
                (after_number, party, party, limit),
            ).fetchall()
        return [_claim_from_row(row) for row in rows]
