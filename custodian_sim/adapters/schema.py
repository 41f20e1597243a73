"""The custodian's SQLite schema, as migrations applied in order by PRAGMA user_version."""

from __future__ import annotations

from custodian_sim.adapters.sqlite_allocations import ALLOCATIONS_SCHEMA
from custodian_sim.adapters.sqlite_settlement import (
    CLAIM_CLOSURES_SCHEMA,
    SETTLEMENT_OUTCOMES_SCHEMA,
    STATEMENT_SETTLEMENT_STORAGE_SCHEMA,
)
from custodian_sim.adapters.sqlite_withdrawals import WITHDRAWALS_SCHEMA
from service_kit import idempotency

# Amounts are INTEGER units of each asset's smallest unit, never floats. Foreign keys are
# deferred to commit so that Reset can empty the tables in any order.
LEDGER_SCHEMA = """
CREATE TABLE parties (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('clients', 'exchanges')),
    display_name TEXT NOT NULL,
    create_time_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE exchange_keys (
    exchange TEXT PRIMARY KEY REFERENCES parties (name) DEFERRABLE INITIALLY DEFERRED,
    public_key BLOB NOT NULL CHECK (length(public_key) = 32),
    register_time_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE connections (
    name TEXT PRIMARY KEY,
    client TEXT NOT NULL REFERENCES parties (name) DEFERRABLE INITIALLY DEFERRED,
    exchange TEXT NOT NULL REFERENCES parties (name) DEFERRABLE INITIALLY DEFERRED,
    state TEXT NOT NULL CHECK (state IN ('ACTIVE', 'CLOSED', 'DEFAULTED')),
    create_time_ms INTEGER NOT NULL,
    UNIQUE (client, exchange)
) WITHOUT ROWID;
CREATE INDEX connections_by_exchange ON connections (exchange);

CREATE TABLE transfers (
    sequence INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    from_account TEXT NOT NULL,
    to_account TEXT NOT NULL,
    asset TEXT NOT NULL,
    amount_units INTEGER NOT NULL CHECK (amount_units > 0),
    kind TEXT NOT NULL,
    reference TEXT NOT NULL,
    create_time_ms INTEGER NOT NULL,
    CHECK (from_account <> to_account)
);
CREATE INDEX transfers_by_from_account ON transfers (from_account, asset);
CREATE INDEX transfers_by_to_account ON transfers (to_account, asset);

-- Append-only history: a posted transfer is never edited (Reset empties the whole ledger).
CREATE TRIGGER transfers_are_immutable BEFORE UPDATE ON transfers
BEGIN
    SELECT RAISE(ABORT, 'transfers are append-only: a posted transfer is never updated');
END;

CREATE TABLE balances (
    account TEXT NOT NULL,
    asset TEXT NOT NULL,
    owner TEXT NOT NULL,
    balance_units INTEGER NOT NULL,
    PRIMARY KEY (account, asset)
) WITHOUT ROWID;
CREATE INDEX balances_by_owner ON balances (owner, account, asset);

CREATE TABLE statements (
    name TEXT PRIMARY KEY,
    exchange TEXT NOT NULL REFERENCES parties (name) DEFERRABLE INITIALLY DEFERRED,
    number INTEGER NOT NULL CHECK (number >= 1),
    content TEXT NOT NULL,
    signature BLOB NOT NULL,
    nonce TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    submit_time_ms INTEGER NOT NULL,
    execute_time_ms INTEGER,
    UNIQUE (exchange, number)
) WITHOUT ROWID;

-- The signed content of a statement is fixed once recorded; only its state moves on.
CREATE TRIGGER statements_content_is_immutable
BEFORE UPDATE OF name, exchange, number, content, signature, nonce, submit_time_ms ON statements
BEGIN
    SELECT RAISE(ABORT, 'a recorded statement''s signed content is never updated');
END;

CREATE TABLE statement_transfers (
    statement TEXT NOT NULL REFERENCES statements (name) DEFERRABLE INITIALLY DEFERRED,
    position INTEGER NOT NULL,
    transfer_id TEXT NOT NULL REFERENCES transfers (id) DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (statement, position)
) WITHOUT ROWID;
"""

# The audit log: one row per state change (or refused change), appended in the same
# transaction as the change. The INTEGER PRIMARY KEY is the sequence (max + 1, so no gaps).
AUDIT_SCHEMA = """
CREATE TABLE audit_records (
    sequence INTEGER PRIMARY KEY,
    record_time_ms INTEGER NOT NULL,
    principal TEXT NOT NULL,
    request_id TEXT NOT NULL,
    method TEXT NOT NULL,
    resource TEXT NOT NULL CHECK (resource <> ''),
    before TEXT NOT NULL,
    after TEXT NOT NULL CHECK (after <> ''),
    owner TEXT NOT NULL
);
CREATE INDEX audit_records_by_owner ON audit_records (owner, sequence);

-- Append-only history: an audit record is never edited (Reset empties the whole log).
CREATE TRIGGER audit_records_are_immutable BEFORE UPDATE ON audit_records
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only: a record is never updated');
END;
"""

# Connections are created PENDING and activated by the bridge. SQLite cannot change a CHECK
# constraint in place, so the table is rebuilt; no other table references it.
CONNECTION_PENDING_SCHEMA = """
CREATE TABLE connections_with_pending (
    name TEXT PRIMARY KEY,
    client TEXT NOT NULL REFERENCES parties (name) DEFERRABLE INITIALLY DEFERRED,
    exchange TEXT NOT NULL REFERENCES parties (name) DEFERRABLE INITIALLY DEFERRED,
    state TEXT NOT NULL CHECK (state IN ('PENDING', 'ACTIVE', 'CLOSED', 'DEFAULTED')),
    create_time_ms INTEGER NOT NULL,
    UNIQUE (client, exchange)
) WITHOUT ROWID;
INSERT INTO connections_with_pending (name, client, exchange, state, create_time_ms)
    SELECT name, client, exchange, state, create_time_ms FROM connections;
DROP TABLE connections;
ALTER TABLE connections_with_pending RENAME TO connections;
CREATE INDEX connections_by_exchange ON connections (exchange, name);
"""

# A statement's signed content (about 1.2 MB for 20,000 entries) moves to a table of its own:
# in `statements` it came before the state, so reading or updating the state of a statement
# walked or rewrote the whole content (an execution's state update alone wrote 2.4 MB to the
# log). The content stays fixed, as before.
STATEMENT_CONTENTS_SCHEMA = """
CREATE TABLE statement_contents (
    statement TEXT PRIMARY KEY,
    content TEXT NOT NULL
);
INSERT INTO statement_contents (statement, content) SELECT name, content FROM statements;

DROP TRIGGER statements_content_is_immutable;
ALTER TABLE statements DROP COLUMN content;
CREATE TRIGGER statements_content_is_immutable
BEFORE UPDATE OF name, exchange, number, signature, nonce, submit_time_ms ON statements
BEGIN
    SELECT RAISE(ABORT, 'a recorded statement''s signed content is never updated');
END;

CREATE TRIGGER statement_contents_are_immutable BEFORE UPDATE ON statement_contents
BEGIN
    SELECT RAISE(ABORT, 'a recorded statement''s signed content is never updated');
END;
"""

# Appended to, never edited: a database at schema N runs migrations N+1.. at start.
MIGRATIONS: tuple[str, ...] = (
    idempotency.MIGRATION,
    LEDGER_SCHEMA,
    AUDIT_SCHEMA,
    CONNECTION_PENDING_SCHEMA,
    WITHDRAWALS_SCHEMA,
    ALLOCATIONS_SCHEMA,
    SETTLEMENT_OUTCOMES_SCHEMA,
    STATEMENT_SETTLEMENT_STORAGE_SCHEMA,
    STATEMENT_CONTENTS_SCHEMA,
    CLAIM_CLOSURES_SCHEMA,
)
