"""Per-resource locks so that one workflow is never driven by two threads at once."""

from __future__ import annotations

import hashlib
import threading

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
