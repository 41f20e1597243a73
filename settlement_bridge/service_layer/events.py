"""The event feed: a client's (or the admin's) view of the bridge's event journal, read and followed."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from settlement_bridge.domain.events import BridgeEvent
from settlement_bridge.service_layer.unit_of_work import UnitOfWork

EVENT_PAGE_SIZE = 500
EVENT_WAIT_S = 0.5
# A stream ends after this many reads (about a day of waiting); the client resumes it.
EVENT_STREAM_ROUNDS_MAX = 200_000


class EventFeed:
    """Reads the event journal in pages and waits for new commits between them."""

    def __init__(self, unit_of_work: UnitOfWork) -> None:
        self._unit_of_work = unit_of_work

    def follow(
        self, after_sequence: int, client: str | None, is_active: Callable[[], bool]
    ) -> Iterator[BridgeEvent]:
        """Every event after `after_sequence` (only `client`'s when given), then each new one while active."""
        unit_of_work = self._unit_of_work
        for _ in range(EVENT_STREAM_ROUNDS_MAX):
            if not is_active():
                return
            # Noted before the read: a commit between the read and the wait ends the wait at once.
            generation = unit_of_work.commit_signal.generation()
            events = unit_of_work.read_events(after_sequence, EVENT_PAGE_SIZE, client)
            for event in events:
                yield event
                after_sequence = event.sequence
            if len(events) < EVENT_PAGE_SIZE:
                unit_of_work.commit_signal.wait_for_commit(generation, EVENT_WAIT_S)
