"""Audit records: who changed which resource from which state to which, appended and never edited."""

from __future__ import annotations

from dataclasses import dataclass, replace

# A record not yet appended has no place in the log; the store assigns the next sequence.
UNASSIGNED_SEQUENCE = 0
# What `after` says when a change was refused: `REFUSED: STATEMENT_SIGNATURE_INVALID`.
REFUSED_PREFIX = "REFUSED: "


# Slotted: a statement execution appends one per entry.
@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One state change (or one refused change) of one resource."""

    # Position in the log, from 1, without gaps; UNASSIGNED_SEQUENCE until appended.
    sequence: int
    record_time_ms: int
    # Principal name that caused it (`bridge`, `clients/acme`), or `system` for timers.
    principal: str
    # The request_id of the causing call; empty for timers and read-only calls.
    request_id: str
    # RPC method short name (`LockAllocation`) or the timer's name.
    method: str
    # The resource that changed, for example `clients/acme/connections/okx-sim`.
    resource: str
    # State before the change; empty when the resource was created.
    before: str
    # State after the change, or `REFUSED: {reason}`.
    after: str
    # The party the resource is titled to (`clients/acme`, `exchanges/okx-sim`); empty when
    # the record is system-wide.
    owner: str

    def __post_init__(self) -> None:
        assert self.sequence >= UNASSIGNED_SEQUENCE, self.sequence
        assert self.resource, "every audit record names the resource that changed"
        assert self.after, "every audit record says what the resource became (or what was refused)"

    def with_sequence(self, sequence: int) -> AuditRecord:
        """The record as appended at `sequence`."""
        assert self.sequence == UNASSIGNED_SEQUENCE, f"record {self.sequence} was already appended"
        assert sequence > UNASSIGNED_SEQUENCE, sequence
        return replace(self, sequence=sequence)


def refused(reason: str) -> str:
    """The `after` of a refused change."""
    return f"{REFUSED_PREFIX}{reason}"
