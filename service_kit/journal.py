"""A service's event journal as the control service reads it: numbered records, and a signal for streams."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from service_kit.commit_signal import CommitSignal


@dataclass(frozen=True)
class JournalRecord:
    """One committed journal event."""

    sequence: int
    time_ms: int
    kind: str
    subject: str
    attributes: Mapping[str, str]


class JournalReader(Protocol):
    """What ListJournal and StreamJournal need from a service that keeps a journal."""

    @property
    def commit_signal(self) -> CommitSignal:
        """Wakes streams after a commit appended events."""
        ...

    def read_journal(self, after_sequence: int, limit: int) -> Sequence[JournalRecord]:
        """Up to `limit` records after `after_sequence`, in sequence order."""
        ...

    def last_journal_sequence(self) -> int:
        """The sequence number of the newest record, 0 when the journal is empty."""
        ...
