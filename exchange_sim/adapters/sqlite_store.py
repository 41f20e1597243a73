"""The venue in SQLite: accounts, balances, orders, trades, funding and statements, one file per venue."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sqlite_utils

from exchange_sim.domain.accounts import Account, Balance, CustodyModel
from exchange_sim.domain.changes import VenueChanges
from exchange_sim.domain.funding import (
    Allocation,
    Deallocation,
    FundingOperation,
    FundingOperationT,
    FundingState,
)
from exchange_sim.domain.journal import JournalEntry
from exchange_sim.domain.orders import (
    Order,
    OrderState,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
    Trade,
)
from exchange_sim.domain.statements import (
    Statement,
    StatementEntry,
    StatementFault,
    StatementFaultKind,
    StatementState,
)
from exchange_sim.domain.venue import Venue, VenueRecords, VenueState
from exchange_sim.domain.wallet import EstateClaim
from exchange_sim.service_layer.ports import FillView, OrderView, ResponseT, VenueWriter, order_view
from service_kit.clock import Clock
from service_kit.commit_signal import CommitSignal
from service_kit.database import Database
from service_kit.idempotency import MIGRATION as REQUEST_LOG_MIGRATION
from service_kit.idempotency import HasRequestId, RequestLog
from service_kit.journal import JournalRecord
from service_kit.statement import StatementContent, StatementEntryContent

DATABASE_FILE_NAME = "exchange.sqlite3"

# No foreign keys: Reset empties the tables one by one in creation order.
SCHEMA_V1 = """
CREATE TABLE accounts (
    account TEXT PRIMARY KEY,
    connection TEXT NOT NULL UNIQUE,
    create_time_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE balances (
    account TEXT NOT NULL,
    asset TEXT NOT NULL,
    mirror_units INTEGER NOT NULL,
    unsettled_units INTEGER NOT NULL,
    held_units INTEGER NOT NULL CHECK (held_units >= 0),
    pending_credit_units INTEGER NOT NULL CHECK (pending_credit_units >= 0),
    PRIMARY KEY (account, asset)
) WITHOUT ROWID;

CREATE TABLE orders (
    number INTEGER PRIMARY KEY,
    account TEXT NOT NULL,
    market TEXT NOT NULL,
    side TEXT NOT NULL,
    order_type TEXT NOT NULL,
    price_units INTEGER,
    quantity_units INTEGER NOT NULL,
    filled_units INTEGER NOT NULL,
    state TEXT NOT NULL,
    create_time_ms INTEGER NOT NULL,
    house INTEGER NOT NULL,
    held_units INTEGER NOT NULL CHECK (held_units >= 0),
    fee_units INTEGER NOT NULL,
    fee_credit INTEGER NOT NULL
);
CREATE INDEX orders_open ON orders (number) WHERE state = 'OPEN';

CREATE TABLE trades (
    sequence INTEGER PRIMARY KEY,
    market TEXT NOT NULL,
    price_units INTEGER NOT NULL,
    quantity_units INTEGER NOT NULL,
    buy_order INTEGER NOT NULL,
    sell_order INTEGER NOT NULL,
    maker_order INTEGER NOT NULL,
    buyer_account TEXT NOT NULL,
    seller_account TEXT NOT NULL,
    buyer_fee_units INTEGER NOT NULL,
    seller_fee_units INTEGER NOT NULL,
    trade_time_ms INTEGER NOT NULL
);
CREATE INDEX trades_buy_order ON trades (buy_order);
CREATE INDEX trades_sell_order ON trades (sell_order);

CREATE TABLE allocations (
    allocation_id TEXT PRIMARY KEY,
    connection TEXT NOT NULL,
    asset TEXT NOT NULL,
    amount_units INTEGER NOT NULL,
    state TEXT NOT NULL,
    update_time_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE deallocations (
    deallocation_id TEXT PRIMARY KEY,
    connection TEXT NOT NULL,
    asset TEXT NOT NULL,
    amount_units INTEGER NOT NULL,
    state TEXT NOT NULL,
    update_time_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE statements (
    number INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    exchange TEXT NOT NULL,
    previous_statement TEXT NOT NULL,
    cutoff_time_ms INTEGER NOT NULL,
    first_trade_sequence INTEGER NOT NULL,
    last_trade_sequence INTEGER NOT NULL,
    nonce TEXT NOT NULL,
    signature BLOB NOT NULL,
    state TEXT NOT NULL,
    confirm_time_ms INTEGER
);

CREATE TABLE statement_entries (
    statement_number INTEGER NOT NULL,
    position INTEGER NOT NULL,
    connection TEXT NOT NULL,
    asset TEXT NOT NULL,
    amount TEXT NOT NULL,
    amount_units INTEGER NOT NULL,
    PRIMARY KEY (statement_number, position)
) WITHOUT ROWID;
"""

# Issue 4: traditional accounts, order options, the venue's state, wallet, claims, faults,
# market state and the event journal.
SCHEMA_V2 = """
CREATE TABLE accounts_v2 (
    account TEXT PRIMARY KEY,
    connection TEXT NOT NULL,
    custody_model TEXT NOT NULL,
    create_time_ms INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO accounts_v2 SELECT account, connection, 'OES', create_time_ms FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_v2 RENAME TO accounts;
CREATE UNIQUE INDEX accounts_connection ON accounts (connection) WHERE connection != '';

ALTER TABLE orders ADD COLUMN client_order_id TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN time_in_force TEXT NOT NULL DEFAULT 'GOOD_TILL_CANCELLED';
ALTER TABLE orders ADD COLUMN post_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN protection_price_units INTEGER;
ALTER TABLE orders ADD COLUMN self_trade_prevention TEXT NOT NULL DEFAULT 'CANCEL_TAKER';
ALTER TABLE orders ADD COLUMN cancel_reason TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX orders_client_order_id ON orders (account, client_order_id) WHERE client_order_id != '';
CREATE INDEX orders_account ON orders (account, number);
CREATE INDEX trades_buyer ON trades (buyer_account, sequence);
CREATE INDEX trades_seller ON trades (seller_account, sequence);

ALTER TABLE statements ADD COLUMN fault TEXT NOT NULL DEFAULT '';

CREATE TABLE venue_state (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    state TEXT NOT NULL,
    state_time_ms INTEGER NOT NULL,
    recovery_rate_bps INTEGER NOT NULL
);

CREATE TABLE wallet_transfers (
    number INTEGER PRIMARY KEY,
    account TEXT NOT NULL,
    asset TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount_units INTEGER NOT NULL CHECK (amount_units > 0),
    time_ms INTEGER NOT NULL
);

CREATE TABLE estate_claims (
    account TEXT NOT NULL,
    asset TEXT NOT NULL,
    amount_units INTEGER NOT NULL,
    recovery_rate_bps INTEGER NOT NULL,
    PRIMARY KEY (account, asset)
) WITHOUT ROWID;

CREATE TABLE statement_faults (
    position INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    factor_ppm INTEGER NOT NULL,
    statements_count INTEGER NOT NULL
);

CREATE TABLE market_states (
    market TEXT PRIMARY KEY,
    reference_price_units INTEGER NOT NULL,
    market_data_sequence INTEGER NOT NULL,
    last_trade_price_units INTEGER
) WITHOUT ROWID;

CREATE TABLE market_pricing (
    market TEXT PRIMARY KEY,
    pricing TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE journal (
    sequence INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    attributes TEXT NOT NULL
);
CREATE TRIGGER journal_is_append_only BEFORE UPDATE ON journal
BEGIN
    SELECT RAISE(ABORT, 'the journal is append-only');
END;
"""

# Statements the settlement network refused are voided, with the reason it gave.
SCHEMA_V3 = """
ALTER TABLE statements ADD COLUMN void_reason TEXT NOT NULL DEFAULT '';
"""
MIGRATIONS = [REQUEST_LOG_MIGRATION, SCHEMA_V1, SCHEMA_V2, SCHEMA_V3]

_ORDER_COLUMNS = (
    "number, account, market, side, order_type, price_units, quantity_units, filled_units, state, "
    "create_time_ms, house, held_units, fee_units, fee_credit, client_order_id, time_in_force, post_only, "
    "protection_price_units, self_trade_prevention, cancel_reason"
)
_TRADE_COLUMNS = (
    "sequence, market, price_units, quantity_units, buy_order, sell_order, maker_order, buyer_account, "
    "seller_account, buyer_fee_units, seller_fee_units, trade_time_ms"
)
_FILL_QUERY = """
SELECT sequence, price_units, quantity_units,
       CASE WHEN buy_order = :number THEN buyer_fee_units ELSE seller_fee_units END,
       maker_order = :number, trade_time_ms
FROM trades WHERE buy_order = :number OR sell_order = :number ORDER BY sequence
"""


def open_database(data_dir: Path) -> Database:
    """Opens (and migrates) the exchange's SQLite file; NORMAL sync is enough for a simulated venue."""
    return Database(data_dir / DATABASE_FILE_NAME, MIGRATIONS, synchronous="NORMAL")


class SqliteVenueWriter:
    """The open transaction of one command."""

    def __init__(self, transaction: sqlite_utils.Database) -> None:
        self._connection: sqlite3.Connection = transaction.conn

    def save(self, changes: VenueChanges, venue: Venue) -> None:
        """Inserts new rows and updates changed ones; every value is an integer of units or a name."""
        execute_many = self._connection.executemany
        if changes.accounts:
            execute_many(
                "INSERT INTO accounts VALUES (?, ?, ?, ?)",
                [
                    (account.name, account.connection, account.custody_model.value, account.create_time_ms)
                    for account in changes.accounts
                ],
            )
        if changes.balances:
            execute_many(
                "INSERT INTO balances VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, asset) DO UPDATE SET "
                "mirror_units = excluded.mirror_units, unsettled_units = excluded.unsettled_units, "
                "held_units = excluded.held_units, pending_credit_units = excluded.pending_credit_units",
                [
                    (
                        balance.account,
                        balance.asset,
                        balance.mirror_units,
                        balance.unsettled_units,
                        balance.held_units,
                        balance.pending_credit_units,
                    )
                    for balance in changes.balances
                ],
            )
        if changes.orders:
            execute_many(
                f"INSERT INTO orders ({_ORDER_COLUMNS}) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (number) DO UPDATE SET filled_units = excluded.filled_units, "
                "state = excluded.state, held_units = excluded.held_units, fee_units = excluded.fee_units, "
                "fee_credit = excluded.fee_credit, cancel_reason = excluded.cancel_reason",
                [
                    (
                        order.number,
                        order.account,
                        order.market,
                        order.side.value,
                        order.order_type.value,
                        order.price_units,
                        order.quantity_units,
                        order.filled_units,
                        order.state.value,
                        order.create_time_ms,
                        int(order.house),
                        order.held_units,
                        order.fee_units,
                        order.fee_credit,
                        order.client_order_id,
                        order.time_in_force.value,
                        int(order.post_only),
                        order.protection_price_units,
                        order.self_trade_prevention.value,
                        order.cancel_reason,
                    )
                    for order in changes.orders.values()
                ],
            )
        if changes.trades:
            execute_many(
                "INSERT INTO trades VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        trade.sequence,
                        trade.market,
                        trade.price_units,
                        trade.quantity_units,
                        trade.buy_order_number,
                        trade.sell_order_number,
                        trade.maker_order_number,
                        trade.buyer_account,
                        trade.seller_account,
                        trade.buyer_fee_units,
                        trade.seller_fee_units,
                        trade.trade_time_ms,
                    )
                    for trade in changes.trades
                ],
            )
        for table, operations in (
            ("allocations", changes.allocations),
            ("deallocations", changes.deallocations),
        ):
            if operations:
                execute_many(
                    f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?, ?, ?, ?)",
                    [_funding_row(operation) for operation in operations.values()],
                )
        for statement in changes.statements.values():
            self._save_statement(statement)
        if changes.wallet_transfers:
            execute_many(
                "INSERT INTO wallet_transfers VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (item.number, item.account, item.asset, item.kind.value, item.amount_units, item.time_ms)
                    for item in changes.wallet_transfers
                ],
            )
        if changes.claims:
            execute_many(
                "INSERT INTO estate_claims VALUES (?, ?, ?, ?)",
                [
                    (claim.account, claim.asset, claim.amount_units, claim.recovery_rate_bps)
                    for claim in changes.claims
                ],
            )
        if changes.venue_state_changed:
            self._connection.execute(
                "INSERT OR REPLACE INTO venue_state VALUES (1, ?, ?, ?)",
                (venue.state.value, venue.state_time_ms, venue.recovery_rate_bps),
            )
        if changes.statement_faults_changed:
            self._connection.execute("DELETE FROM statement_faults")
            execute_many(
                "INSERT INTO statement_faults VALUES (?, ?, ?, ?)",
                [
                    (position, fault.kind.value, fault.factor_ppm, fault.statements_count)
                    for position, fault in enumerate(venue.statement_ledger.faults)
                ],
            )
        if changes.markets:
            execute_many(
                "INSERT OR REPLACE INTO market_states VALUES (?, ?, ?, ?)",
                [
                    (
                        name,
                        listing.reference_price_units,
                        listing.market_data_sequence,
                        listing.last_trade_price_units,
                    )
                    for name in sorted(changes.markets)
                    for listing in (venue.listings[name],)
                ],
            )
        if changes.pricing:
            execute_many(
                "INSERT OR REPLACE INTO market_pricing VALUES (?, ?)",
                [(name, venue.listings[name].pricing.to_json()) for name in sorted(changes.pricing)],
            )

    def append_journal(self, entries: Sequence[JournalEntry], time_ms: int) -> None:
        """Appends a command's journal entries; SQLite numbers them in insertion order."""
        self._connection.executemany(
            "INSERT INTO journal (time_ms, kind, subject, attributes) VALUES (?, ?, ?, ?)",
            [
                (
                    time_ms,
                    entry.kind,
                    entry.subject,
                    json.dumps(dict(entry.attributes), separators=(",", ":")),
                )
                for entry in entries
            ],
        )

    def _save_statement(self, statement: Statement) -> None:
        content = statement.content
        exists = self._connection.execute(
            "SELECT 1 FROM statements WHERE number = ?", (statement.number,)
        ).fetchone()
        if exists:
            # Statements are append-only; only their state at the exchange moves on.
            self._connection.execute(
                "UPDATE statements SET state = ?, confirm_time_ms = ?, void_reason = ? WHERE number = ?",
                (statement.state.value, statement.confirm_time_ms, statement.void_reason, statement.number),
            )
            return
        self._connection.execute(
            "INSERT INTO statements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                content.number,
                content.name,
                content.exchange,
                content.previous_statement,
                content.cutoff_time_ms,
                content.first_trade_sequence,
                content.last_trade_sequence,
                content.nonce,
                statement.signature,
                statement.state.value,
                statement.confirm_time_ms,
                statement.fault,
                statement.void_reason,
            ),
        )
        self._connection.executemany(
            "INSERT INTO statement_entries VALUES (?, ?, ?, ?, ?, ?)",
            [
                (content.number, position, entry.connection, entry.asset, signed.amount, entry.amount_units)
                for position, (entry, signed) in enumerate(
                    zip(statement.entries, content.entries, strict=True)
                )
            ],
        )

    def find_order(self, number: int) -> OrderView | None:
        """Reads an order and its fills inside this transaction."""
        return _find_order(self._connection, number)


class SqliteVenueStore:
    """The venue's SQLite file, with the request log in the same transactions."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._request_log = RequestLog(database)
        self._clock = clock
        self._commit_signal = CommitSignal()

    @property
    def request_log(self) -> RequestLog:
        """The request log sharing this database (the control service records into it too)."""
        return self._request_log

    def run_command(
        self,
        method: str,
        request: HasRequestId,
        response_type: type[ResponseT],
        handler: Callable[[VenueWriter], ResponseT],
    ) -> ResponseT:
        """Runs the handler and records its response under the request_id, in one transaction."""
        return self._request_log.run(
            method,
            request,
            response_type,
            lambda transaction: handler(SqliteVenueWriter(transaction)),
            self._clock.now_ms,
        )

    def run_internal(self, handler: Callable[[VenueWriter], None]) -> None:
        """Runs the handler in a transaction of its own."""
        with self._database.transaction() as transaction:
            handler(SqliteVenueWriter(transaction))

    def find_order(self, number: int) -> OrderView | None:
        """Reads a committed order and its fills."""
        return _find_order(self._database.connection().conn, number)

    def list_orders(
        self, account: str, open_only: bool, market: str, before_number: int, limit: int
    ) -> list[OrderView]:
        """An account's orders numbered below `before_number`, newest first, with their fills."""
        connection = self._database.connection().conn
        rows = connection.execute(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE account = ? AND number < ? "
            "AND (? = 0 OR state = 'OPEN') AND (? = '' OR market = ?) ORDER BY number DESC LIMIT ?",
            (account, before_number, int(open_only), market, market, limit),
        ).fetchall()
        return [_order_view(connection, _order_from_row(row)) for row in rows]

    def list_trades(self, account: str, before_sequence: int, limit: int) -> list[Trade]:
        """An account's trades with sequence below `before_sequence`, newest first."""
        rows = (
            self._database.connection()
            .conn.execute(
                f"SELECT {_TRADE_COLUMNS} FROM trades WHERE sequence < ? AND sequence IN ("
                "SELECT sequence FROM trades WHERE buyer_account = ? AND sequence < ? "
                "UNION SELECT sequence FROM trades WHERE seller_account = ? AND sequence < ?) "
                "ORDER BY sequence DESC LIMIT ?",
                (before_sequence, account, before_sequence, account, before_sequence, limit),
            )
            .fetchall()
        )
        return [Trade(*row) for row in rows]

    def find_trade(self, sequence: int) -> Trade | None:
        """One trade by its sequence number."""
        row = (
            self._database.connection()
            .conn.execute(f"SELECT {_TRADE_COLUMNS} FROM trades WHERE sequence = ?", (sequence,))
            .fetchone()
        )
        return None if row is None else Trade(*row)

    @property
    def commit_signal(self) -> CommitSignal:
        """Wakes journal streams after a commit appended events."""
        return self._commit_signal

    def read_journal(self, after_sequence: int, limit: int) -> list[JournalRecord]:
        """Up to `limit` journal records after `after_sequence`."""
        rows = (
            self._database.connection()
            .conn.execute(
                "SELECT sequence, time_ms, kind, subject, attributes FROM journal WHERE sequence > ? "
                "ORDER BY sequence LIMIT ?",
                (after_sequence, limit),
            )
            .fetchall()
        )
        return [
            JournalRecord(sequence, time_ms, kind, subject, json.loads(attributes))
            for sequence, time_ms, kind, subject, attributes in rows
        ]

    def last_journal_sequence(self) -> int:
        """The newest journal sequence number, 0 when empty."""
        row = (
            self._database.connection()
            .conn.execute("SELECT coalesce(max(sequence), 0) FROM journal")
            .fetchone()
        )
        return int(row[0])

    def delete_everything(self) -> None:
        """Empties every table."""
        self._database.delete_everything()

    def load(self) -> VenueRecords:
        """Reads the durable state the in-memory venue is rebuilt from."""
        connection = self._database.connection().conn
        accounts: dict[str, Account] = {}
        for name, connection_name, custody_model, create_time_ms in connection.execute(
            "SELECT account, connection, custody_model, create_time_ms FROM accounts ORDER BY account"
        ):
            accounts[name] = Account(
                name, connection_name, create_time_ms, custody_model=CustodyModel(custody_model)
            )
        for row in connection.execute(
            "SELECT account, asset, mirror_units, unsettled_units, held_units, pending_credit_units "
            "FROM balances ORDER BY account, asset"
        ):
            balance = Balance(*row)
            accounts[balance.account].balances[balance.asset] = balance
        open_orders = [
            _order_from_row(row)
            for row in connection.execute(
                f"SELECT {_ORDER_COLUMNS} FROM orders WHERE state = 'OPEN' ORDER BY number"
            )
        ]
        return VenueRecords(
            accounts=list(accounts.values()),
            open_orders=open_orders,
            allocations=_load_funding(connection, "allocations", Allocation),
            deallocations=_load_funding(connection, "deallocations", Deallocation),
            statements=self._load_statements(connection),
            last_trade_sequence=connection.execute(
                "SELECT coalesce(max(sequence), 0) FROM trades"
            ).fetchone()[0],
            last_order_number=connection.execute("SELECT coalesce(max(number), 0) FROM orders").fetchone()[0],
            last_wallet_transfer_number=connection.execute(
                "SELECT coalesce(max(number), 0) FROM wallet_transfers"
            ).fetchone()[0],
            statement_faults=[
                StatementFault(StatementFaultKind(kind), factor_ppm, statements_count)
                for kind, factor_ppm, statements_count in connection.execute(
                    "SELECT kind, factor_ppm, statements_count FROM statement_faults ORDER BY position"
                )
            ],
            claims=[
                EstateClaim(*row)
                for row in connection.execute(
                    "SELECT account, asset, amount_units, recovery_rate_bps FROM estate_claims "
                    "ORDER BY account, asset"
                )
            ],
            client_order_ids={
                (account, client_order_id): number
                for account, client_order_id, number in connection.execute(
                    "SELECT account, client_order_id, number FROM orders WHERE client_order_id != ''"
                )
            },
            market_states={
                row[0]: (row[1], row[2], row[3])
                for row in connection.execute(
                    "SELECT market, reference_price_units, market_data_sequence, last_trade_price_units "
                    "FROM market_states"
                )
            },
            pricing=dict(connection.execute("SELECT market, pricing FROM market_pricing").fetchall()),
            **_venue_state(connection),
        )

    def _load_statements(self, connection: sqlite3.Connection) -> list[Statement]:
        entries: dict[int, list[tuple[str, str, str, int]]] = {}
        for number, connection_name, asset, amount, amount_units in connection.execute(
            "SELECT statement_number, connection, asset, amount, amount_units FROM statement_entries "
            "ORDER BY statement_number, position"
        ):
            entries.setdefault(number, []).append((connection_name, asset, amount, amount_units))
        statements = []
        for row in connection.execute(
            "SELECT number, name, exchange, previous_statement, cutoff_time_ms, first_trade_sequence, "
            "last_trade_sequence, nonce, signature, state, confirm_time_ms, fault, void_reason "
            "FROM statements ORDER BY number"
        ):
            number = row[0]
            statement_entries = entries.get(number, [])
            content = StatementContent(
                name=row[1],
                exchange=row[2],
                number=number,
                previous_statement=row[3],
                cutoff_time_ms=row[4],
                first_trade_sequence=row[5],
                last_trade_sequence=row[6],
                nonce=row[7],
                entries=tuple(StatementEntryContent(item[0], item[1], item[2]) for item in statement_entries),
            )
            statements.append(
                Statement(
                    content,
                    bytes(row[8]),
                    tuple(StatementEntry(item[0], item[1], item[3]) for item in statement_entries),
                    StatementState(row[9]),
                    row[10],
                    row[11],
                    row[12],
                )
            )
        return statements


def _venue_state(connection: sqlite3.Connection) -> dict[str, Any]:
    row = connection.execute("SELECT state, state_time_ms, recovery_rate_bps FROM venue_state").fetchone()
    if row is None:
        return {}
    return {"state": VenueState(row[0]), "state_time_ms": row[1], "recovery_rate_bps": row[2]}


def _funding_row(operation: FundingOperation) -> tuple[str, str, str, int, str, int]:
    return (
        operation.funding_id,
        operation.connection,
        operation.asset,
        operation.amount_units,
        operation.state.value,
        operation.update_time_ms,
    )


def _load_funding(
    connection: sqlite3.Connection, table: str, operation_type: type[FundingOperationT]
) -> list[FundingOperationT]:
    return [
        operation_type(funding_id, connection_name, asset, amount_units, FundingState(state), update_time_ms)
        for funding_id, connection_name, asset, amount_units, state, update_time_ms in connection.execute(
            f"SELECT * FROM {table}"
        )
    ]


def _order_from_row(row: tuple[object, ...]) -> Order:
    (
        number,
        account,
        market,
        side,
        order_type,
        price_units,
        quantity_units,
        filled_units,
        state,
        create_time_ms,
        house,
        held_units,
        fee_units,
        fee_credit,
        client_order_id,
        time_in_force,
        post_only,
        protection_price_units,
        self_trade_prevention,
        cancel_reason,
    ) = row
    assert protection_price_units is None or isinstance(protection_price_units, int)
    assert isinstance(number, int) and isinstance(quantity_units, int) and isinstance(create_time_ms, int)
    assert isinstance(filled_units, int) and isinstance(held_units, int)
    assert isinstance(fee_units, int) and isinstance(fee_credit, int)
    assert price_units is None or isinstance(price_units, int)
    return Order(
        number,
        str(account),
        str(market),
        Side(side),
        OrderType(order_type),
        price_units,
        quantity_units,
        create_time_ms,
        bool(house),
        None,
        None,
        filled_units,
        OrderState(state),
        held_units,
        fee_units,
        fee_credit,
        str(client_order_id),
        TimeInForce(time_in_force),
        bool(post_only),
        protection_price_units,
        SelfTradePrevention(self_trade_prevention),
        str(cancel_reason),
    )


def _find_order(connection: sqlite3.Connection, number: int) -> OrderView | None:
    row = connection.execute(f"SELECT {_ORDER_COLUMNS} FROM orders WHERE number = ?", (number,)).fetchone()
    if row is None:
        return None
    return _order_view(connection, _order_from_row(row))


def _order_view(connection: sqlite3.Connection, order: Order) -> OrderView:
    number = order.number
    fills = [
        FillView(sequence, price_units, quantity_units, fee_units, bool(maker), trade_time_ms)
        for sequence, price_units, quantity_units, fee_units, maker, trade_time_ms in connection.execute(
            _FILL_QUERY, {"number": number}
        )
    ]
    return order_view(order, fills)
