"""The write-ahead log is checkpointed by a thread of its own while it runs, by SQLite at commit otherwise."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlite_utils

from custodian_sim.adapters.sqlite_checkpoints import SQLITE_AUTOCHECKPOINT_PAGES, BackgroundCheckpoints
from service_kit.database import Database

# Generous: the thread checkpoints right after the commit it is told about.
CHECKPOINT_WAIT_S = 30.0
POLL_S = 0.01


def autocheckpoint_pages(connection: sqlite_utils.Database) -> int:
    pages: int = connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    return pages


def test_commits_are_checkpointed_by_the_thread_while_it_runs(tmp_path: Path) -> None:
    path = tmp_path / "custodian.sqlite3"
    database = Database(path, ["CREATE TABLE rows (payload BLOB NOT NULL);"], synchronous="NORMAL")
    checkpoints = BackgroundCheckpoints(database, interval_s=0)
    connection = database.connection()
    try:
        checkpoints.hand_over(connection)
        assert autocheckpoint_pages(connection) == SQLITE_AUTOCHECKPOINT_PAGES, "not started: SQLite's job"

        checkpoints.start()
        checkpoints.hand_over(connection)
        assert autocheckpoint_pages(connection) == 0
        size_before = path.stat().st_size
        with database.transaction() as transaction:
            transaction.execute("INSERT INTO rows VALUES (zeroblob(1000000))")
        assert path.stat().st_size == size_before, "committed to the log only"
        checkpoints.committed()
        waited = threading.Event()
        for _ in range(int(CHECKPOINT_WAIT_S / POLL_S)):
            if path.stat().st_size > size_before:
                break
            waited.wait(POLL_S)
        assert path.stat().st_size > size_before + 900_000, "the thread copied the pages into the file"

        checkpoints.stop()
        checkpoints.hand_over(connection)
        assert autocheckpoint_pages(connection) == SQLITE_AUTOCHECKPOINT_PAGES
    finally:
        checkpoints.stop()
        database.close()
