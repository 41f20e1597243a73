"""Locks: one workflow is never driven by two threads at once; transfers wait out a settlement cycle."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# A fixed number of locks bounds memory whatever the number of workflows; two workflows that
# share a stripe merely wait for each other.
STRIPE_COUNT = 64


class StripedLocks:
    """A fixed set of re-entrant locks; a resource name always maps to the same one."""

    def __init__(self, stripe_count: int = STRIPE_COUNT) -> None:
        assert stripe_count > 0
        self._locks = [threading.RLock() for _ in range(stripe_count)]

    def for_name(self, name: str) -> threading.RLock:
        """Returns the lock guarding `name`."""
        digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
        return self._locks[int.from_bytes(digest, "big") % len(self._locks)]


class FreezeWindow:
    """Many transfers of an exchange at once, or one settlement cycle alone.

    Transfers enter shared; a cycle enters exclusive and waits for the transfers in flight, and
    new transfers wait while a cycle is in or waiting (so cycles are not starved).
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._transfers_in_flight = 0
        self._cycle_in = False
        self._cycles_waiting = 0

    @contextmanager
    def transfer(self) -> Iterator[None]:
        """Held by an allocation or deallocation while it drives its steps."""
        with self._condition:
            self._condition.wait_for(lambda: not self._cycle_in and not self._cycles_waiting)
            self._transfers_in_flight += 1
        try:
            yield
        finally:
            with self._condition:
                self._transfers_in_flight -= 1
                self._condition.notify_all()

    @contextmanager
    def cycle(self) -> Iterator[None]:
        """Held by a settlement cycle from cutoff to its end (or until it waits for a top-up)."""
        with self._condition:
            self._cycles_waiting += 1
            self._condition.wait_for(lambda: not self._cycle_in and not self._transfers_in_flight)
            self._cycles_waiting -= 1
            self._cycle_in = True
        try:
            yield
        finally:
            with self._condition:
                self._cycle_in = False
                self._condition.notify_all()
