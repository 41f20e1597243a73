"""SQLite for every service: WAL files, migrations by user_version, one unit of work per command."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import sqlite_utils

Synchronous = Literal["FULL", "NORMAL"]
BUSY_TIMEOUT_MS = 10_000


class Database:
    """One SQLite file; each thread gets its own connection, never shared across threads."""

    def __init__(self, path: Path, migrations: Sequence[str], synchronous: Synchronous = "FULL") -> None:
        self.path = path
        self._synchronous = synchronous
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        # Writers of this process queue on a lock rather than on SQLite's busy handler, which
        # sleeps in growing steps (up to 100 ms) and turned 8 concurrent writers' p99 into
        # 130 ms; the busy timeout still guards against writers in other processes.
        self._write_lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._migrate(migrations)

    def connection(self) -> sqlite_utils.Database:
        """Returns this thread's connection, opening it on first use."""
        database: sqlite_utils.Database | None = getattr(self._local, "database", None)
        if database is None:
            # isolation_level=None leaves transactions to us: BEGIN IMMEDIATE takes the write
            # lock up front, so two writers never deadlock upgrading a read lock.
            raw = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            raw.execute("PRAGMA journal_mode = WAL")
            raw.execute(f"PRAGMA synchronous = {self._synchronous}")
            raw.execute("PRAGMA foreign_keys = ON")
            database = sqlite_utils.Database(raw)
            self._local.database = database
            with self._connections_lock:
                self._connections.append(raw)
        return database

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """Runs the block as one write transaction: all of it commits, or none of it."""
        database = self.connection()
        assert not database.conn.in_transaction, "units of work do not nest"
        with self._write_lock:
            database.execute("BEGIN IMMEDIATE")
            try:
                yield database
            except BaseException:
                database.rollback()
                raise
            database.commit()

    def delete_everything(self) -> None:
        """Empties every table in one transaction (the control service's Reset)."""
        with self.transaction() as database:
            for table in database.table_names():
                if not table.startswith("sqlite_"):
                    database.execute(f'DELETE FROM "{table}"')

    def close(self) -> None:
        """Closes every connection; called once at shutdown."""
        with self._connections_lock:
            for raw in self._connections:
                raw.close()
            self._connections.clear()

    def _migrate(self, migrations: Sequence[str]) -> None:
        database = self.connection()
        version = database.execute("PRAGMA user_version").fetchone()[0]
        assert version <= len(migrations), f"{self.path} is newer than this program (schema {version})"
        for number, script in enumerate(migrations[version:], start=version + 1):
            database.conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )
