"""SQLite persistence of the bridge: connections, workflows, settlement cycles and exchange keys."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from oes.common.v1 import statement_pb2
from service_kit.clock import Clock
from service_kit.database import Database
from service_kit.idempotency import MIGRATION as REQUEST_LOG_MIGRATION
from service_kit.idempotency import RequestLog
from service_kit.statement_messages import content_from_message
from settlement_bridge.domain.names import ConnectionName
from settlement_bridge.domain.settlement import (
    IssuedStatement,
    ReconciliationBreak,
    SettlementCycle,
    SettlementState,
    SettlementStep,
)
from settlement_bridge.domain.transfers import (
    Allocation,
    AllocationStep,
    Connection,
    Deallocation,
    DeallocationStep,
    TransferState,
)
from settlement_bridge.service_layer.unit_of_work import RequestAlreadyRecordedError, RequestReceipt

DATABASE_FILE_NAME = "bridge.sqlite3"

# The control service's Reset empties the tables in any order, so they carry no foreign keys;
# the workflows only ever add rows for connections that exist.
BRIDGE_SCHEMA = """
CREATE TABLE connections (
    client_id TEXT NOT NULL,
    exchange_id TEXT NOT NULL,
    create_time_ms INTEGER NOT NULL,
    PRIMARY KEY (client_id, exchange_id)
) WITHOUT ROWID;

CREATE TABLE allocations (
    number INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL,
    exchange_id TEXT NOT NULL,
    asset TEXT NOT NULL,
    amount_units INTEGER NOT NULL CHECK (amount_units > 0),
    state TEXT NOT NULL,
    step TEXT NOT NULL,
    reason TEXT NOT NULL,
    create_time_ms INTEGER NOT NULL,
    end_time_ms INTEGER
);
CREATE INDEX allocations_pending ON allocations (number) WHERE state = 'PENDING';

CREATE TABLE deallocations (
    number INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL,
    exchange_id TEXT NOT NULL,
    asset TEXT NOT NULL,
    amount_units INTEGER NOT NULL CHECK (amount_units > 0),
    state TEXT NOT NULL,
    step TEXT NOT NULL,
    reason TEXT NOT NULL,
    create_time_ms INTEGER NOT NULL,
    end_time_ms INTEGER
);
CREATE INDEX deallocations_pending ON deallocations (number) WHERE state = 'PENDING';

CREATE TABLE settlement_cycles (
    number INTEGER PRIMARY KEY,
    exchange_id TEXT NOT NULL,
    state TEXT NOT NULL,
    step TEXT NOT NULL,
    statement BLOB,
    breaks TEXT NOT NULL,
    reason TEXT NOT NULL,
    create_time_ms INTEGER NOT NULL,
    end_time_ms INTEGER
);
CREATE INDEX settlement_cycles_by_exchange ON settlement_cycles (exchange_id, state, number);

CREATE TABLE exchange_keys (
    exchange_id TEXT PRIMARY KEY,
    public_key BLOB NOT NULL,
    record_time_ms INTEGER NOT NULL
) WITHOUT ROWID;
"""

MIGRATIONS = [REQUEST_LOG_MIGRATION, BRIDGE_SCHEMA]

_TRANSFER_COLUMNS = (
    "number, client_id, exchange_id, asset, amount_units, state, step, reason, create_time_ms, end_time_ms"
)
_SETTLEMENT_COLUMNS = (
    "number, exchange_id, state, step, statement, breaks, reason, create_time_ms, end_time_ms"
)


def open_database(data_dir: Path) -> Database:
    """Opens (and migrates) the bridge's SQLite file in `data_dir`."""
    return Database(data_dir / DATABASE_FILE_NAME, MIGRATIONS, synchronous="FULL")


class SqliteConnectionRepository:
    """Connections in SQLite."""

    def __init__(self, database: sqlite_utils.Database) -> None:
        self._database = database

    def get(self, connection: ConnectionName) -> Connection | None:
        row = self._database.execute(
            "SELECT create_time_ms FROM connections WHERE client_id = ? AND exchange_id = ?",
            (connection.client_id, connection.exchange_id),
        ).fetchone()
        return None if row is None else Connection(connection, row[0])

    def add(self, connection: Connection) -> None:
        self._database.execute(
            "INSERT INTO connections VALUES (?, ?, ?)",
            (connection.connection.client_id, connection.connection.exchange_id, connection.create_time_ms),
        )

    def list_of_exchange(self, exchange_id: str) -> list[Connection]:
        rows = self._database.execute(
            "SELECT client_id, create_time_ms FROM connections WHERE exchange_id = ? ORDER BY client_id",
            (exchange_id,),
        ).fetchall()
        return [Connection(ConnectionName(row[0], exchange_id), row[1]) for row in rows]


class SqliteAllocationRepository:
    """Allocations in SQLite."""

    def __init__(self, database: sqlite_utils.Database) -> None:
        self._database = database

    def next_number(self) -> int:
        return int(
            self._database.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM allocations").fetchone()[0]
        )

    def add(self, allocation: Allocation) -> None:
        self._database.execute(
            f"INSERT INTO allocations ({_TRANSFER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                allocation.number,
                allocation.connection.client_id,
                allocation.connection.exchange_id,
                allocation.asset,
                allocation.amount_units,
                allocation.state.value,
                allocation.step.value,
                allocation.reason,
                allocation.create_time_ms,
                allocation.end_time_ms,
            ),
        )

    def save(self, allocation: Allocation) -> None:
        cursor = self._database.execute(
            "UPDATE allocations SET state = ?, step = ?, reason = ?, end_time_ms = ? WHERE number = ?",
            (
                allocation.state.value,
                allocation.step.value,
                allocation.reason,
                allocation.end_time_ms,
                allocation.number,
            ),
        )
        assert cursor.rowcount == 1, f"{allocation.name} was never added"

    def get(self, number: int) -> Allocation | None:
        row = self._database.execute(
            f"SELECT {_TRANSFER_COLUMNS} FROM allocations WHERE number = ?", (number,)
        ).fetchone()
        return None if row is None else _allocation(row)

    def list_pending(self) -> list[Allocation]:
        rows = self._database.execute(
            f"SELECT {_TRANSFER_COLUMNS} FROM allocations WHERE state = 'PENDING' ORDER BY number"
        ).fetchall()
        return [_allocation(row) for row in rows]


class SqliteDeallocationRepository:
    """Deallocations in SQLite."""

    def __init__(self, database: sqlite_utils.Database) -> None:
        self._database = database

    def next_number(self) -> int:
        return int(
            self._database.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM deallocations").fetchone()[0]
        )

    def add(self, deallocation: Deallocation) -> None:
        self._database.execute(
            f"INSERT INTO deallocations ({_TRANSFER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                deallocation.number,
                deallocation.connection.client_id,
                deallocation.connection.exchange_id,
                deallocation.asset,
                deallocation.amount_units,
                deallocation.state.value,
                deallocation.step.value,
                deallocation.reason,
                deallocation.create_time_ms,
                deallocation.end_time_ms,
            ),
        )

    def save(self, deallocation: Deallocation) -> None:
        cursor = self._database.execute(
            "UPDATE deallocations SET state = ?, step = ?, reason = ?, end_time_ms = ? WHERE number = ?",
            (
                deallocation.state.value,
                deallocation.step.value,
                deallocation.reason,
                deallocation.end_time_ms,
                deallocation.number,
            ),
        )
        assert cursor.rowcount == 1, f"{deallocation.name} was never added"

    def get(self, number: int) -> Deallocation | None:
        row = self._database.execute(
            f"SELECT {_TRANSFER_COLUMNS} FROM deallocations WHERE number = ?", (number,)
        ).fetchone()
        return None if row is None else _deallocation(row)

    def list_pending(self) -> list[Deallocation]:
        rows = self._database.execute(
            f"SELECT {_TRANSFER_COLUMNS} FROM deallocations WHERE state = 'PENDING' ORDER BY number"
        ).fetchall()
        return [_deallocation(row) for row in rows]


class SqliteSettlementRepository:
    """Settlement cycles in SQLite; the statement is stored as the exchange's message bytes."""

    def __init__(self, database: sqlite_utils.Database) -> None:
        self._database = database

    def next_number(self) -> int:
        return int(
            self._database.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM settlement_cycles").fetchone()[0]
        )

    def add(self, cycle: SettlementCycle) -> None:
        self._database.execute(
            f"INSERT INTO settlement_cycles ({_SETTLEMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                cycle.number,
                cycle.exchange_id,
                cycle.state.value,
                cycle.step.value,
                cycle.statement.encoded if cycle.statement else None,
                _breaks_json(cycle.breaks),
                cycle.reason,
                cycle.create_time_ms,
                cycle.end_time_ms,
            ),
        )

    def save(self, cycle: SettlementCycle) -> None:
        cursor = self._database.execute(
            "UPDATE settlement_cycles SET state = ?, step = ?, statement = ?, breaks = ?, reason = ?, "
            "end_time_ms = ? WHERE number = ?",
            (
                cycle.state.value,
                cycle.step.value,
                cycle.statement.encoded if cycle.statement else None,
                _breaks_json(cycle.breaks),
                cycle.reason,
                cycle.end_time_ms,
                cycle.number,
            ),
        )
        assert cursor.rowcount == 1, f"{cycle.name} was never added"

    def get(self, number: int) -> SettlementCycle | None:
        row = self._database.execute(
            f"SELECT {_SETTLEMENT_COLUMNS} FROM settlement_cycles WHERE number = ?", (number,)
        ).fetchone()
        return None if row is None else _settlement(row)

    def list_running(self, exchange_id: str | None = None) -> list[SettlementCycle]:
        if exchange_id is None:
            rows = self._database.execute(
                f"SELECT {_SETTLEMENT_COLUMNS} FROM settlement_cycles WHERE state = 'RUNNING' ORDER BY number"
            ).fetchall()
        else:
            rows = self._database.execute(
                f"SELECT {_SETTLEMENT_COLUMNS} FROM settlement_cycles "
                "WHERE exchange_id = ? AND state = 'RUNNING' ORDER BY number",
                (exchange_id,),
            ).fetchall()
        return [_settlement(row) for row in rows]

    def last_succeeded(self, exchange_id: str) -> SettlementCycle | None:
        row = self._database.execute(
            f"SELECT {_SETTLEMENT_COLUMNS} FROM settlement_cycles "
            "WHERE exchange_id = ? AND state = 'SUCCEEDED' ORDER BY number DESC LIMIT 1",
            (exchange_id,),
        ).fetchone()
        return None if row is None else _settlement(row)

    def list_newest(self, limit: int) -> list[SettlementCycle]:
        rows = self._database.execute(
            f"SELECT {_SETTLEMENT_COLUMNS} FROM settlement_cycles ORDER BY number DESC LIMIT ?", (limit,)
        ).fetchall()
        return [_settlement(row) for row in rows]


class SqliteExchangeKeyRepository:
    """Exchange statement keys in SQLite."""

    def __init__(self, database: sqlite_utils.Database) -> None:
        self._database = database

    def get(self, exchange_id: str) -> bytes | None:
        row = self._database.execute(
            "SELECT public_key FROM exchange_keys WHERE exchange_id = ?", (exchange_id,)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def add(self, exchange_id: str, public_key: bytes, record_time_ms: int) -> None:
        self._database.execute(
            "INSERT INTO exchange_keys VALUES (?, ?, ?)", (exchange_id, public_key, record_time_ms)
        )


class SqliteTransaction:
    """The repositories over one open SQLite transaction."""

    def __init__(self, database: sqlite_utils.Database, request_log: RequestLog, clock: Clock) -> None:
        self._database = database
        self._request_log = request_log
        self._clock = clock
        self.connections = SqliteConnectionRepository(database)
        self.allocations = SqliteAllocationRepository(database)
        self.deallocations = SqliteDeallocationRepository(database)
        self.settlements = SqliteSettlementRepository(database)
        self.exchange_keys = SqliteExchangeKeyRepository(database)

    def record_request(self, receipt: RequestReceipt) -> None:
        try:
            self._request_log.record(
                self._database, receipt.method, receipt.request, receipt.response, self._clock.now_ms()
            )
        except sqlite3.IntegrityError as error:
            raise RequestAlreadyRecordedError(receipt.request.request_id) from error


class SqliteUnitOfWork:
    """Transactions on the bridge's database."""

    def __init__(self, database: Database, request_log: RequestLog, clock: Clock) -> None:
        self._database = database
        self._request_log = request_log
        self._clock = clock

    @contextmanager
    def transaction(self) -> Iterator[SqliteTransaction]:
        with self._database.transaction() as database:
            yield SqliteTransaction(database, self._request_log, self._clock)


def _allocation(row: Any) -> Allocation:
    return Allocation(
        number=row[0],
        connection=ConnectionName(row[1], row[2]),
        asset=row[3],
        amount_units=row[4],
        state=TransferState(row[5]),
        step=AllocationStep(row[6]),
        reason=row[7],
        create_time_ms=row[8],
        end_time_ms=row[9],
    )


def _deallocation(row: Any) -> Deallocation:
    return Deallocation(
        number=row[0],
        connection=ConnectionName(row[1], row[2]),
        asset=row[3],
        amount_units=row[4],
        state=TransferState(row[5]),
        step=DeallocationStep(row[6]),
        reason=row[7],
        create_time_ms=row[8],
        end_time_ms=row[9],
    )


def _settlement(row: Any) -> SettlementCycle:
    return SettlementCycle(
        number=row[0],
        exchange_id=row[1],
        state=SettlementState(row[2]),
        step=SettlementStep(row[3]),
        statement=None if row[4] is None else issued_statement(bytes(row[4])),
        breaks=tuple(ReconciliationBreak(*entry) for entry in json.loads(row[5])),
        reason=row[6],
        create_time_ms=row[7],
        end_time_ms=row[8],
    )


def issued_statement(encoded: bytes) -> IssuedStatement:
    """Rebuilds a statement from the message bytes the exchange sent."""
    message = statement_pb2.SettlementStatement.FromString(encoded)
    return IssuedStatement(content_from_message(message), message.signature, encoded)


def _breaks_json(breaks: tuple[ReconciliationBreak, ...]) -> str:
    return json.dumps(
        [[found.connection, found.asset, found.allocated_units, found.mirror_units] for found in breaks]
    )
