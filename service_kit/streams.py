"""Bounded server streams: each open stream holds a server worker, so only a few may be open at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from service_kit.errors import unavailable


class StreamSlots:
    """At most `slots_max` streams of one kind at a time; one more is refused UNAVAILABLE `reason`."""

    def __init__(self, slots_max: int, reason: str) -> None:
        assert slots_max > 0
        self._slots_max = slots_max
        self._reason = reason
        self._semaphore = threading.BoundedSemaphore(slots_max)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Holds a slot for the life of one stream."""
        if not self._semaphore.acquire(blocking=False):
            raise unavailable(
                self._reason,
                f"{self._slots_max} streams of this kind are already open; retry later, or read pages",
                streams_max=str(self._slots_max),
            )
        try:
            yield
        finally:
            self._semaphore.release()
