"""A commit signal: wakes stream readers after a commit appended what they follow (journal, audit log)."""

from __future__ import annotations

import threading


class CommitSignal:
    """Wakes readers after a commit that appended records.

    A reader notes the generation before it reads, and waits only while the generation is
    unchanged, so a commit between its read and its wait is never missed.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._generation = 0

    def generation(self) -> int:
        """A number that changes after every commit that appended records."""
        with self._condition:
            return self._generation

    def notify_committed(self) -> None:
        """Called after a commit that appended records."""
        with self._condition:
            self._generation += 1
            self._condition.notify_all()

    def wait_for_commit(self, seen_generation: int, timeout_s: float) -> bool:
        """Waits until a commit after `seen_generation`, or the timeout; returns whether one came."""
        with self._condition:
            return self._condition.wait_for(lambda: self._generation != seen_generation, timeout_s)
