"""Recent market data per market, kept in memory for streams that resume from a sequence number."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Sequence

from exchange_sim.domain.market_data import MarketDataEvent
from service_kit.errors import ServiceError, out_of_range

# Events kept per market for resuming streams; an older sequence needs a new snapshot.
MARKET_DATA_EVENTS_KEPT_MAX = 100_000


class MarketDataFeed:
    """The last MARKET_DATA_EVENTS_KEPT_MAX events of every market and a signal for waiting streams."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._events: dict[str, deque[MarketDataEvent]] = {}
        self._last_sequences: dict[str, int] = {}

    def start(self, sequences: Iterable[tuple[str, int]]) -> None:
        """Forgets every kept event and continues each market from its durable sequence number."""
        with self._condition:
            self._events = {market: deque(maxlen=MARKET_DATA_EVENTS_KEPT_MAX) for market, _ in sequences}
            self._last_sequences = dict(sequences)
            self._condition.notify_all()

    def publish(self, events: Sequence[MarketDataEvent]) -> None:
        """Keeps the events of a committed command and wakes the streams."""
        if not events:
            return
        with self._condition:
            for event in events:
                assert event.sequence == self._last_sequences[event.market] + 1, "market data has no gaps"
                self._events[event.market].append(event)
                self._last_sequences[event.market] = event.sequence
            self._condition.notify_all()

    def last_sequence(self, market: str) -> int:
        """The newest sequence number of a market."""
        with self._condition:
            return self._last_sequences[market]

    def read(self, market: str, after_sequence: int, limit: int, timeout_s: float) -> list[MarketDataEvent]:
        """Up to `limit` events after `after_sequence`, waiting up to `timeout_s` for the first.

        OUT_OF_RANGE SEQUENCE_TOO_OLD when events after `after_sequence` are no longer kept, and
        SEQUENCE_AHEAD when the market has not reached it (the venue was reset or restarted).
        """
        with self._condition:
            self._condition.wait_for(lambda: self._last_sequences[market] > after_sequence, timeout_s)
            last_sequence = self._last_sequences[market]
            if after_sequence > last_sequence:
                raise _sequence_error(
                    "SEQUENCE_AHEAD",
                    f"{market} is at market data sequence {last_sequence}, before {after_sequence}: "
                    "the venue was reset; take a new snapshot with GetOrderBook",
                    market,
                    last_sequence,
                )
            events = self._events[market]
            if after_sequence == last_sequence:
                return []
            oldest_sequence = events[0].sequence if events else last_sequence + 1
            if after_sequence + 1 < oldest_sequence:
                raise _sequence_error(
                    "SEQUENCE_TOO_OLD",
                    f"{market} keeps market data from sequence {oldest_sequence}; take a new snapshot with "
                    "GetOrderBook and stream after its market_data_sequence",
                    market,
                    last_sequence,
                )
            start = after_sequence + 1 - oldest_sequence
            return [events[index] for index in range(start, min(len(events), start + limit))]


def _sequence_error(reason: str, message: str, market: str, last_sequence: int) -> ServiceError:
    return out_of_range(reason, message, market=market, last_sequence=str(last_sequence))
