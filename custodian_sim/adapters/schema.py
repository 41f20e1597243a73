"""The custodian's SQLite schema, as migrations applied in order by PRAGMA user_version."""

from __future__ import annotations

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

# Appended to, never edited: a database at schema N runs migrations N+1.. at start.
MIGRATIONS: tuple[str, ...] = (idempotency.MIGRATION, LEDGER_SCHEMA)
