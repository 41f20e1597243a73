"""Checkpoints the custodian's write-ahead log from a thread of its own, off every request's path."""

from __future__ import annotations

import threading

import sqlite_utils
import structlog

from service_kit.database import Database

log = structlog.get_logger(__name__)

# While commits go on, the log is checkpointed at most this often.
CHECKPOINT_INTERVAL_S = 0.1
# The thread checkpoints at most this many times (more than three years at the interval), then
# leaves checkpointing to SQLite at commit again.
CHECKPOINT_ROUNDS_MAX = 1_000_000_000
# SQLite's own setting: a commit that leaves this many pages in the log checkpoints it.
SQLITE_AUTOCHECKPOINT_PAGES = 1000
STOP_TIMEOUT_S = 10.0


class BackgroundCheckpoints:
    """Copies committed pages from the write-ahead log into the database file in the background.

    SQLite does it inside the commit that grows the log past 1,000 pages: a statement
    execution writes about 2,500, so its own commit copied them and synced the database file
    too (about 70 ms of a one-second budget), holding the write lock. Each connection of the
    custodian's units of work hands that work to this thread instead, which checkpoints after
    commits without blocking writers (PASSIVE). Durability does not change: a transaction is on
    disk once its log pages are synced at commit.
    """

    def __init__(self, database: Database, interval_s: float = CHECKPOINT_INTERVAL_S) -> None:
        assert interval_s >= 0, interval_s
        self._database = database
        self._interval_s = interval_s
        self._committed = threading.Event()
        self._stopping = threading.Event()
        self._running = False
        # Connections are per thread, so whether this thread's connection was handed over is too.
        self._handed_over = threading.local()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Starts the checkpoint thread; from then on units of work leave checkpoints to it."""
        assert self._thread is None, "started once"
        self._running = True
        self._thread = threading.Thread(target=self._run, name="custodian-wal-checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops the thread (before the database closes; closing checkpoints what is left)."""
        self._stopping.set()
        self._committed.set()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_S)

    def hand_over(self, connection: sqlite_utils.Database) -> None:
        """Makes the connection leave checkpoints to this thread while it runs; cheap after the first call."""
        handed_over: bool = getattr(self._handed_over, "value", False)
        if handed_over == self._running:
            return
        pages = 0 if self._running else SQLITE_AUTOCHECKPOINT_PAGES
        connection.execute(f"PRAGMA wal_autocheckpoint = {pages}")
        self._handed_over.value = self._running

    def committed(self) -> None:
        """Called after a commit of a handed-over connection: the log has pages to checkpoint."""
        # Setting a set event still takes its lock; the thread clears it before it checkpoints,
        # so a commit that finds it set is covered by the checkpoint to come.
        if not self._committed.is_set():
            self._committed.set()

    def _run(self) -> None:
        try:
            for _ in range(CHECKPOINT_ROUNDS_MAX):
                self._committed.wait()
                if self._stopping.is_set():
                    return
                self._committed.clear()
                self._database.connection().execute("PRAGMA wal_checkpoint(PASSIVE)")
                if self._stopping.wait(self._interval_s):
                    return
        except Exception:
            log.exception("wal_checkpoint_failed")
        finally:
            # Connections handed over find this on their next unit of work and checkpoint at
            # commit again.
            self._running = False
