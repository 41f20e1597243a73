"""The venue in SQLite: accounts, balances, orders, trades, funding and statements, one file per venue."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import sqlite_utils

from exchange_sim.domain.accounts import Account, Balance
from exchange_sim.domain.changes import VenueChanges
from exchange_sim.domain.funding import (
    Allocation,
    Deallocation,
    FundingOperation,
    FundingOperationT,
    FundingState,
)
from exchange_sim.domain.orders import Order, OrderState, OrderType, Side
from exchange_sim.domain.statements import Statement, StatementEntry, StatementState
from exchange_sim.domain.venue import VenueRecords
from exchange_sim.service_layer.ports import FillView, OrderView, ResponseT, VenueWriter, order_view
from service_kit.clock import Clock
from service_kit.database import Database
from service_kit.idempotency import MIGRATION as REQUEST_LOG_MIGRATION
from service_kit.idempotency import HasRequestId, RequestLog
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

MIGRATIONS = [REQUEST_LOG_MIGRATION, SCHEMA_V1]

_ORDER_COLUMNS = (
    "number, account, market, side, order_type, price_units, quantity_units, filled_units, state, "
    "create_time_ms, house, held_units, fee_units, fee_credit"
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

    def save(self, changes: VenueChanges) -> None:
        """Inserts new rows and updates changed ones; every value is an integer of units or a name."""
        execute_many = self._connection.executemany
        if changes.accounts:
            execute_many(
                "INSERT INTO accounts VALUES (?, ?, ?)",
                [(account.name, account.connection, account.create_time_ms) for account in changes.accounts],
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
                f"INSERT INTO orders ({_ORDER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (number) DO UPDATE SET filled_units = excluded.filled_units, "
                "state = excluded.state, held_units = excluded.held_units, fee_units = excluded.fee_units, "
                "fee_credit = excluded.fee_credit",
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

    def _save_statement(self, statement: Statement) -> None:
        content = statement.content
        exists = self._connection.execute(
            "SELECT 1 FROM statements WHERE number = ?", (statement.number,)
        ).fetchone()
        if exists:
            # Statements are append-only; only their state at the exchange moves on.
            self._connection.execute(
                "UPDATE statements SET state = ?, confirm_time_ms = ? WHERE number = ?",
                (statement.state.value, statement.confirm_time_ms, statement.number),
            )
            return
        self._connection.execute(
            "INSERT INTO statements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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

    def delete_everything(self) -> None:
        """Empties every table."""
        self._database.delete_everything()

    def load(self) -> VenueRecords:
        """Reads the durable state the in-memory venue is rebuilt from."""
        connection = self._database.connection().conn
        accounts: dict[str, Account] = {}
        for name, connection_name, create_time_ms in connection.execute(
            "SELECT account, connection, create_time_ms FROM accounts ORDER BY account"
        ):
            accounts[name] = Account(name, connection_name, create_time_ms)
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
            "last_trade_sequence, nonce, signature, state, confirm_time_ms FROM statements ORDER BY number"
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
                )
            )
        return statements


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
    ) = row
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
    )


def _find_order(connection: sqlite3.Connection, number: int) -> OrderView | None:
    row = connection.execute(f"SELECT {_ORDER_COLUMNS} FROM orders WHERE number = ?", (number,)).fetchone()
    if row is None:
        return None
    fills = [
        FillView(sequence, price_units, quantity_units, fee_units, bool(maker), trade_time_ms)
        for sequence, price_units, quantity_units, fee_units, maker, trade_time_ms in connection.execute(
            _FILL_QUERY, {"number": number}
        )
    ]
    return order_view(_order_from_row(row), fills)
