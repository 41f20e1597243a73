"""SQLite persistence of the bridge: connections, workflows, settlement cycles and exchange keys."""

from __future__ import annotations

import enum
import json
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import sqlite_utils

from oes.common.v1 import statement_pb2
from service_kit.clock import Clock
from service_kit.commit_signal import CommitSignal
from service_kit.database import Database
from service_kit.idempotency import MIGRATION as REQUEST_LOG_MIGRATION
from service_kit.idempotency import RequestLog
from service_kit.journal import JournalRecord
from service_kit.statement_messages import content_from_message
from settlement_bridge.domain.defaults import ConnectionState, DefaultOutcome, ExchangeDefault
from settlement_bridge.domain.disputes import Dispute, DisputeState
from settlement_bridge.domain.events import BridgeEvent
from settlement_bridge.domain.names import ConnectionName
from settlement_bridge.domain.settlement import (
    EntryResult,
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
from settlement_bridge.service_layer.unit_of_work import (
    RequestAlreadyRecordedError,
    RequestReceipt,
    TransferT,
)

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

# How often the cycle has asked the custodian again to execute a statement awaiting a top-up;
# each ask needs a request_id of its own.
EXECUTE_ATTEMPTS_SCHEMA = """
ALTER TABLE settlement_cycles ADD COLUMN execute_attempts INTEGER NOT NULL DEFAULT 0;
"""

# Issue 5: the event journal (the client feed and the control service's journal), and the
# connection's state after an exchange default.
EVENTS_SCHEMA = """
CREATE TABLE events (
    sequence INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    client TEXT NOT NULL,
    attributes TEXT NOT NULL
);
CREATE INDEX events_client ON events (client, sequence);
CREATE TRIGGER events_are_append_only BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event journal is append-only');
END;
"""

# Issue 5: exchange defaults, and what a default did to each connection.
EXCHANGE_DEFAULTS_SCHEMA = """
ALTER TABLE connections ADD COLUMN state TEXT NOT NULL DEFAULT 'ACTIVE';
ALTER TABLE connections ADD COLUMN default_outcome TEXT;
CREATE TABLE exchange_defaults (
    exchange_id TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    detect_time_ms INTEGER NOT NULL,
    unsettled TEXT NOT NULL,
    complete_time_ms INTEGER
) WITHOUT ROWID;
"""

# Issue 5: client disputes of statement entries.
DISPUTES_SCHEMA = """
CREATE TABLE disputes (
    number INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL,
    exchange_id TEXT NOT NULL,
    statement TEXT NOT NULL,
    asset TEXT NOT NULL,
    stated_units INTEGER NOT NULL,
    claimed_units INTEGER NOT NULL,
    reason TEXT NOT NULL,
    state TEXT NOT NULL,
    create_time_ms INTEGER NOT NULL,
    decided_units INTEGER,
    end_time_ms INTEGER,
    settle_time_ms INTEGER,
    UNIQUE (statement, client_id, exchange_id, asset)
);
CREATE INDEX events_subject ON events (subject, kind);
ALTER TABLE settlement_cycles ADD COLUMN entry_results TEXT NOT NULL DEFAULT '[]';
"""

MIGRATIONS = [
    REQUEST_LOG_MIGRATION,
    BRIDGE_SCHEMA,
    EXECUTE_ATTEMPTS_SCHEMA,
    EVENTS_SCHEMA,
    EXCHANGE_DEFAULTS_SCHEMA,
    DISPUTES_SCHEMA,
]

# How far back a dispute may reach for its statement's cycle.
STATEMENT_SEARCH_CYCLES_MAX = 1000

# Every table of numbered workflow records, and its columns: all of them, then those a save updates.
_TRANSFER_TABLES = ("allocations", "deallocations")
_TRANSFER_COLUMNS = (
    "number",
    "client_id",
    "exchange_id",
    "asset",
    "amount_units",
    "state",
    "step",
    "reason",
    "create_time_ms",
    "end_time_ms",
)
_TRANSFER_SAVED_COLUMNS = ("state", "step", "reason", "end_time_ms")
_SETTLEMENT_TABLE = "settlement_cycles"
_SETTLEMENT_COLUMNS = (
    "number",
    "exchange_id",
    "state",
    "step",
    "statement",
    "breaks",
    "reason",
    "create_time_ms",
    "end_time_ms",
    "execute_attempts",
    "entry_results",
)
_SETTLEMENT_SAVED_COLUMNS = (
    "state",
    "step",
    "statement",
    "breaks",
    "reason",
    "end_time_ms",
    "execute_attempts",
    "entry_results",
)


def open_database(data_dir: Path) -> Database:
    """Opens (and migrates) the bridge's SQLite file in `data_dir`.

    NORMAL sync in WAL mode keeps every commit across a killed process (what the sandbox's crash
    points and supervisor do); only a power loss could lose the last ones, and the venues' own
    idempotent records let the workflows find their way again. The custodian's ledger alone keeps
    FULL.
    """
    return Database(data_dir / DATABASE_FILE_NAME, MIGRATIONS, synchronous="NORMAL")


class SqliteConnectionRepository:
    """Connections in SQLite."""

    def __init__(self, database: sqlite_utils.Database) -> None:
        self._database = database

    def get(self, connection: ConnectionName) -> Connection | None:
        row = self._database.execute(
            f"SELECT {_CONNECTION_COLUMNS} FROM connections WHERE client_id = ? AND exchange_id = ?",
            (connection.client_id, connection.exchange_id),
        ).fetchone()
        return None if row is None else _connection(row)

    def add(self, connection: Connection) -> None:
        assert connection.state is ConnectionState.ACTIVE, "a connection starts ACTIVE"
        self._database.execute(
            "INSERT INTO connections (client_id, exchange_id, create_time_ms) VALUES (?, ?, ?)",
            (connection.connection.client_id, connection.connection.exchange_id, connection.create_time_ms),
        )

    def mark_defaulted(self, connection: ConnectionName, outcome: DefaultOutcome) -> None:
        cursor = self._database.execute(
            "UPDATE connections SET state = ?, default_outcome = ? WHERE client_id = ? AND exchange_id = ?",
            (
                ConnectionState.DEFAULTED.value,
                _default_outcome_json(outcome),
                connection.client_id,
                connection.exchange_id,
            ),
        )
        assert cursor.rowcount == 1, f"{connection.name} was never added"

    def list_of_client(self, client_id: str | None) -> list[Connection]:
        rows = self._database.execute(
            f"SELECT {_CONNECTION_COLUMNS} FROM connections "
            "WHERE ? IS NULL OR client_id = ? ORDER BY client_id, exchange_id",
            (client_id, client_id),
        ).fetchall()
        return [_connection(row) for row in rows]

    def list_of_exchange(self, exchange_id: str) -> list[Connection]:
        rows = self._database.execute(
            f"SELECT {_CONNECTION_COLUMNS} FROM connections WHERE exchange_id = ? ORDER BY client_id",
            (exchange_id,),
        ).fetchall()
        return [_connection(row) for row in rows]


_CONNECTION_COLUMNS = "client_id, exchange_id, create_time_ms, state, default_outcome"


def _connection(row: tuple[Any, ...]) -> Connection:
    """The connection of a row of _CONNECTION_COLUMNS."""
    client_id, exchange_id, create_time_ms, state, outcome = row
    return Connection(
        ConnectionName(client_id, exchange_id),
        create_time_ms,
        ConnectionState(state),
        None if outcome is None else _default_outcome(outcome),
    )


def _default_outcome_json(outcome: DefaultOutcome) -> str:
    return json.dumps(
        {
            "default_time_ms": outcome.default_time_ms,
            "reason": outcome.reason,
            "principal_returned": [list(amount) for amount in outcome.principal_returned],
            "unsettled_at_risk": [list(amount) for amount in outcome.unsettled_at_risk],
        },
        separators=(",", ":"),
    )


def _default_outcome(text: str) -> DefaultOutcome:
    values = json.loads(text)
    return DefaultOutcome(
        default_time_ms=values["default_time_ms"],
        reason=values["reason"],
        principal_returned=tuple((asset, units) for asset, units in values["principal_returned"]),
        unsettled_at_risk=tuple((asset, units) for asset, units in values["unsettled_at_risk"]),
    )


class SqliteExchangeDefaultRepository:
    """Exchange defaults in SQLite; `unsettled` is JSON of [connection, asset, units] triples."""

    def __init__(self, database: sqlite_utils.Database) -> None:
        self._database = database

    def get(self, exchange_id: str) -> ExchangeDefault | None:
        row = self._database.execute(
            "SELECT exchange_id, reason, detect_time_ms, unsettled, complete_time_ms "
            "FROM exchange_defaults WHERE exchange_id = ?",
            (exchange_id,),
        ).fetchone()
        if row is None:
            return None
        exchange, reason, detect_time_ms, unsettled, complete_time_ms = row
        return ExchangeDefault(
            exchange_id=exchange,
            reason=reason,
            detect_time_ms=detect_time_ms,
            unsettled_units={
                (connection, asset): units for connection, asset, units in json.loads(unsettled)
            },
            complete_time_ms=complete_time_ms,
        )

    def add(self, exchange_default: ExchangeDefault) -> None:
        assert not exchange_default.complete, "a default is recorded when it is detected"
        unsettled = sorted(
            [connection, asset, units]
            for (connection, asset), units in exchange_default.unsettled_units.items()
        )
        self._database.execute(
            "INSERT INTO exchange_defaults (exchange_id, reason, detect_time_ms, unsettled) "
            "VALUES (?, ?, ?, ?)",
            (
                exchange_default.exchange_id,
                exchange_default.reason,
                exchange_default.detect_time_ms,
                json.dumps(unsettled, separators=(",", ":")),
            ),
        )

    def complete(self, exchange_id: str, complete_time_ms: int) -> None:
        cursor = self._database.execute(
            "UPDATE exchange_defaults SET complete_time_ms = ? "
            "WHERE exchange_id = ? AND complete_time_ms IS NULL",
            (complete_time_ms, exchange_id),
        )
        assert cursor.rowcount == 1, f"the default of {exchange_id} is not open"


class NumberedRecord(Protocol):
    """A workflow record kept in a row keyed by its number."""

    @property
    def number(self) -> int:
        """The key of its row."""
        ...

    @property
    def name(self) -> str:
        """The resource name."""
        ...


RecordT = TypeVar("RecordT", bound=NumberedRecord)


class SqliteNumberedRepository(ABC, Generic[RecordT]):
    """Workflow records in a table keyed by number: what the transfer and settlement repositories share.

    Table and column names are put into the SQL text, so they are this module's constants, never input.
    """

    def __init__(
        self,
        database: sqlite_utils.Database,
        table: str,
        columns: tuple[str, ...],
        saved_columns: tuple[str, ...],
    ) -> None:
        assert table in (*_TRANSFER_TABLES, _SETTLEMENT_TABLE), table
        assert columns[0] == "number" and set(saved_columns) <= set(columns[1:])
        self._database = database
        self._table = table
        self._columns = columns
        self._saved_columns = saved_columns

    def next_number(self) -> int:
        return int(
            self._database.execute(f"SELECT COALESCE(MAX(number), 0) + 1 FROM {self._table}").fetchone()[0]
        )

    def add(self, record: RecordT) -> None:
        values = self._values(record)
        placeholders = ", ".join("?" for _ in self._columns)
        self._database.execute(
            f"INSERT INTO {self._table} ({', '.join(self._columns)}) VALUES ({placeholders})",
            tuple(values[column] for column in self._columns),
        )

    def save(self, record: RecordT) -> None:
        values = self._values(record)
        assignments = ", ".join(f"{column} = ?" for column in self._saved_columns)
        cursor = self._database.execute(
            f"UPDATE {self._table} SET {assignments} WHERE number = ?",
            (*(values[column] for column in self._saved_columns), record.number),
        )
        assert cursor.rowcount == 1, f"{record.name} was never added"

    def get(self, number: int) -> RecordT | None:
        found = self._select("WHERE number = ?", (number,))
        return found[0] if found else None

    def _select(self, clauses: str, parameters: tuple[object, ...] = ()) -> list[RecordT]:
        """The records of the rows that `clauses` (WHERE, ORDER BY, LIMIT) select, in their order."""
        rows = self._database.execute(
            f"SELECT {', '.join(self._columns)} FROM {self._table} {clauses}", parameters
        ).fetchall()
        return [self._record(dict(zip(self._columns, row, strict=True))) for row in rows]

    @abstractmethod
    def _values(self, record: RecordT) -> dict[str, object]:
        """The record's value of every column."""

    @abstractmethod
    def _record(self, values: dict[str, Any]) -> RecordT:
        """The record of one row, given by column."""


class SqliteTransferRepository(SqliteNumberedRepository[TransferT]):
    """Transfers of one kind in their own table (`allocations` or `deallocations`) of the same columns."""

    def __init__(
        self,
        database: sqlite_utils.Database,
        table: str,
        transfer_type: type[TransferT],
        step_type: type[enum.Enum],
    ) -> None:
        super().__init__(database, table, _TRANSFER_COLUMNS, _TRANSFER_SAVED_COLUMNS)
        self._transfer_type = transfer_type
        self._step_type = step_type

    def list_pending(self) -> list[TransferT]:
        return self._select("WHERE state = 'PENDING' ORDER BY number")

    def list_of_connection(
        self, connection: ConnectionName, before_number: int, limit: int
    ) -> list[TransferT]:
        return self._select(
            "WHERE client_id = ? AND exchange_id = ? AND number < ? ORDER BY number DESC LIMIT ?",
            (connection.client_id, connection.exchange_id, before_number, limit),
        )

    def _values(self, transfer: TransferT) -> dict[str, object]:
        return {
            "number": transfer.number,
            "client_id": transfer.connection.client_id,
            "exchange_id": transfer.connection.exchange_id,
            "asset": transfer.asset,
            "amount_units": transfer.amount_units,
            "state": transfer.state.value,
            "step": transfer.step.value,
            "reason": transfer.reason,
            "create_time_ms": transfer.create_time_ms,
            "end_time_ms": transfer.end_time_ms,
        }

    def _record(self, values: dict[str, Any]) -> TransferT:
        return self._transfer_type(
            number=values["number"],
            connection=ConnectionName(values["client_id"], values["exchange_id"]),
            asset=values["asset"],
            amount_units=values["amount_units"],
            state=TransferState(values["state"]),
            step=self._step_type(values["step"]),
            reason=values["reason"],
            create_time_ms=values["create_time_ms"],
            end_time_ms=values["end_time_ms"],
        )


class SqliteSettlementRepository(SqliteNumberedRepository[SettlementCycle]):
    """Settlement cycles in SQLite; the statement is stored as the exchange's message bytes."""

    def __init__(self, database: sqlite_utils.Database) -> None:
        super().__init__(database, _SETTLEMENT_TABLE, _SETTLEMENT_COLUMNS, _SETTLEMENT_SAVED_COLUMNS)

    def list_running(self, exchange_id: str | None = None) -> list[SettlementCycle]:
        if exchange_id is None:
            return self._select("WHERE state = 'RUNNING' ORDER BY number")
        return self._select("WHERE exchange_id = ? AND state = 'RUNNING' ORDER BY number", (exchange_id,))

    def last_succeeded(self, exchange_id: str) -> SettlementCycle | None:
        found = self._select(
            "WHERE exchange_id = ? AND state = 'SUCCEEDED' ORDER BY number DESC LIMIT 1", (exchange_id,)
        )
        return found[0] if found else None

    def list_newest(self, limit: int) -> list[SettlementCycle]:
        return self._select("ORDER BY number DESC LIMIT ?", (limit,))

    def with_statement(self, statement_name: str) -> SettlementCycle | None:
        # Statements are few per exchange and cycle; the newest cycles are searched first.
        exchange_id, _, _ = statement_name.removeprefix("exchanges/").partition("/")
        for cycle in self._select(
            "WHERE exchange_id = ? AND statement IS NOT NULL ORDER BY number DESC LIMIT ?",
            (exchange_id, STATEMENT_SEARCH_CYCLES_MAX),
        ):
            if cycle.statement is not None and cycle.statement.name == statement_name:
                return cycle
        return None

    def _values(self, cycle: SettlementCycle) -> dict[str, object]:
        return {
            "number": cycle.number,
            "exchange_id": cycle.exchange_id,
            "state": cycle.state.value,
            "step": cycle.step.value,
            "statement": cycle.statement.encoded if cycle.statement else None,
            "breaks": _breaks_json(cycle.breaks),
            "reason": cycle.reason,
            "create_time_ms": cycle.create_time_ms,
            "end_time_ms": cycle.end_time_ms,
            "execute_attempts": cycle.execute_attempts,
            "entry_results": json.dumps(
                [
                    [result.connection, result.asset, result.state, result.reason]
                    for result in cycle.entry_results
                ]
            ),
        }

    def _record(self, values: dict[str, Any]) -> SettlementCycle:
        return SettlementCycle(
            number=values["number"],
            exchange_id=values["exchange_id"],
            state=SettlementState(values["state"]),
            step=SettlementStep(values["step"]),
            statement=None if values["statement"] is None else issued_statement(bytes(values["statement"])),
            breaks=tuple(ReconciliationBreak(*entry) for entry in json.loads(values["breaks"])),
            reason=values["reason"],
            create_time_ms=values["create_time_ms"],
            end_time_ms=values["end_time_ms"],
            execute_attempts=values["execute_attempts"],
            entry_results=tuple(EntryResult(*item) for item in json.loads(values["entry_results"])),
        )


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


class SqliteEventLog:
    """The bridge's event journal in SQLite: appended inside the transaction of the change it reports."""

    def __init__(self, database: sqlite_utils.Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock
        self.appended = False

    def append(self, kind: str, subject: str, client: str, attributes: Mapping[str, str]) -> None:
        self._database.execute(
            "INSERT INTO events (time_ms, kind, subject, client, attributes) VALUES (?, ?, ?, ?, ?)",
            (
                self._clock.now_ms(),
                kind,
                subject,
                client,
                json.dumps(dict(sorted(attributes.items())), separators=(",", ":")),
            ),
        )
        self.appended = True

    def exists(self, kind: str, subject: str) -> bool:
        row = self._database.execute(
            "SELECT 1 FROM events WHERE kind = ? AND subject = ? LIMIT 1", (kind, subject)
        ).fetchone()
        return row is not None


_DISPUTE_COLUMNS = (
    "number, client_id, exchange_id, statement, asset, stated_units, claimed_units, reason, state, "
    "create_time_ms, decided_units, end_time_ms, settle_time_ms"
)


class SqliteDisputeRepository:
    """Disputes in SQLite."""

    def __init__(self, database: sqlite_utils.Database) -> None:
        self._database = database

    def next_number(self) -> int:
        return int(self._database.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM disputes").fetchone()[0])

    def add(self, dispute: Dispute) -> None:
        self._database.execute(
            f"INSERT INTO disputes ({_DISPUTE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _dispute_row(dispute),
        )

    def save(self, dispute: Dispute) -> None:
        cursor = self._database.execute(
            "UPDATE disputes SET state = ?, decided_units = ?, end_time_ms = ?, settle_time_ms = ? "
            "WHERE number = ?",
            (
                dispute.state.value,
                dispute.decided_units,
                dispute.end_time_ms,
                dispute.settle_time_ms,
                dispute.number,
            ),
        )
        assert cursor.rowcount == 1, f"{dispute.name} was never added"

    def get(self, number: int) -> Dispute | None:
        found = self._select("WHERE number = ?", (number,))
        return found[0] if found else None

    def find(self, statement: str, connection: ConnectionName, asset: str) -> Dispute | None:
        found = self._select(
            "WHERE statement = ? AND client_id = ? AND exchange_id = ? AND asset = ?",
            (statement, connection.client_id, connection.exchange_id, asset),
        )
        return found[0] if found else None

    def list_of_client(self, client_id: str | None, limit: int) -> list[Dispute]:
        return self._select(
            "WHERE ? IS NULL OR client_id = ? ORDER BY number DESC LIMIT ?", (client_id, client_id, limit)
        )

    def list_to_settle(self, exchange_id: str, before_statement_number: int) -> list[Dispute]:
        decided = self._select(
            "WHERE exchange_id = ? AND state != 'OPEN' AND settle_time_ms IS NULL ORDER BY number",
            (exchange_id,),
        )
        return [dispute for dispute in decided if dispute.statement_number < before_statement_number]

    def _select(self, clauses: str, parameters: tuple[object, ...]) -> list[Dispute]:
        rows = self._database.execute(
            f"SELECT {_DISPUTE_COLUMNS} FROM disputes {clauses}", parameters
        ).fetchall()
        return [
            Dispute(
                number=row[0],
                connection=ConnectionName(row[1], row[2]),
                statement=row[3],
                asset=row[4],
                stated_units=row[5],
                claimed_units=row[6],
                reason=row[7],
                state=DisputeState(row[8]),
                create_time_ms=row[9],
                decided_units=row[10],
                end_time_ms=row[11],
                settle_time_ms=row[12],
            )
            for row in rows
        ]


def _dispute_row(dispute: Dispute) -> tuple[object, ...]:
    return (
        dispute.number,
        dispute.connection.client_id,
        dispute.connection.exchange_id,
        dispute.statement,
        dispute.asset,
        dispute.stated_units,
        dispute.claimed_units,
        dispute.reason,
        dispute.state.value,
        dispute.create_time_ms,
        dispute.decided_units,
        dispute.end_time_ms,
        dispute.settle_time_ms,
    )


class SqliteTransaction:
    """The repositories over one open SQLite transaction."""

    def __init__(self, database: sqlite_utils.Database, request_log: RequestLog, clock: Clock) -> None:
        self._database = database
        self._request_log = request_log
        self._clock = clock
        self.connections = SqliteConnectionRepository(database)
        self.allocations = SqliteTransferRepository(database, "allocations", Allocation, AllocationStep)
        self.deallocations = SqliteTransferRepository(
            database, "deallocations", Deallocation, DeallocationStep
        )
        self.settlements = SqliteSettlementRepository(database)
        self.exchange_keys = SqliteExchangeKeyRepository(database)
        self.events = SqliteEventLog(database, clock)
        self.exchange_defaults = SqliteExchangeDefaultRepository(database)
        self.disputes = SqliteDisputeRepository(database)

    def record_request(self, receipt: RequestReceipt) -> None:
        try:
            self._request_log.record(
                self._database, receipt.method, receipt.request, receipt.response, self._clock.now_ms()
            )
        except sqlite3.IntegrityError as error:
            raise RequestAlreadyRecordedError(receipt.request.request_id) from error


class SqliteUnitOfWork:
    """Transactions on the bridge's database, and the reads of its event journal."""

    def __init__(self, database: Database, request_log: RequestLog, clock: Clock) -> None:
        self._database = database
        self._request_log = request_log
        self._clock = clock
        self._commit_signal = CommitSignal()

    @contextmanager
    def transaction(self) -> Iterator[SqliteTransaction]:
        with self._database.transaction() as database:
            transaction = SqliteTransaction(database, self._request_log, self._clock)
            yield transaction
        if transaction.events.appended:
            self._commit_signal.notify_committed()

    @property
    def commit_signal(self) -> CommitSignal:
        """Wakes event streams after a commit appended events."""
        return self._commit_signal

    def read_events(self, after_sequence: int, limit: int, client: str | None = None) -> list[BridgeEvent]:
        """Up to `limit` events after `after_sequence`; only those of `client` when given."""
        query = "SELECT sequence, time_ms, kind, subject, client, attributes FROM events WHERE sequence > ?"
        parameters: tuple[object, ...] = (after_sequence,)
        if client is not None:
            # A client sees its own events and the network-wide ones (settlements, margin calls,
            # defaults), which name no client.
            query += " AND client IN (?, '')"
            parameters += (client,)
        rows = self._database.connection().execute(f"{query} ORDER BY sequence LIMIT ?", (*parameters, limit))
        return [
            BridgeEvent(sequence, time_ms, kind, subject, event_client, json.loads(attributes))
            for sequence, time_ms, kind, subject, event_client, attributes in rows.fetchall()
        ]

    def read_journal(self, after_sequence: int, limit: int) -> list[JournalRecord]:
        """The event journal as the control service reads it."""
        return [
            JournalRecord(event.sequence, event.time_ms, event.kind, event.subject, event.journal_attributes)
            for event in self.read_events(after_sequence, limit)
        ]

    def last_journal_sequence(self) -> int:
        """The newest event's sequence number, 0 when there is none."""
        row = self._database.connection().execute("SELECT COALESCE(MAX(sequence), 0) FROM events").fetchone()
        return int(row[0])


def issued_statement(encoded: bytes) -> IssuedStatement:
    """Rebuilds a statement from the message bytes the exchange sent."""
    message = statement_pb2.SettlementStatement.FromString(encoded)
    return IssuedStatement(content_from_message(message), message.signature, encoded)


def _breaks_json(breaks: tuple[ReconciliationBreak, ...]) -> str:
    return json.dumps(
        [[found.connection, found.asset, found.allocated_units, found.mirror_units] for found in breaks]
    )
