"""Disputes: a client contests one entry of a statement inside the dispute window; an admin decides.

The disputed entry is held at the custodian while its statement executes, and the exchange keeps
its amount in `unsettled`, so the next statement carries it at the stated amount. Once the
dispute is decided, the next cycle closes the held entry (nothing moves for it: its amount rode
in the later statement) and, when an administrator approved another amount, settles the
difference at the custodian and at the exchange alike. Over the cycles the client settles the
undisputed amounts plus the decided amount of the disputed entry.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from service_kit.errors import failed_precondition
from settlement_bridge.domain.names import ConnectionName

REASON_LENGTH_MAX = 500


class DisputeState(enum.Enum):
    """Lifecycle of a dispute."""

    OPEN = "OPEN"
    RETRACTED = "RETRACTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


@dataclass
class Dispute:
    """One client's dispute of one statement entry; `settle_time_ms` is set once it settled."""

    number: int
    connection: ConnectionName
    statement: str
    asset: str
    stated_units: int
    claimed_units: int
    reason: str
    state: DisputeState
    create_time_ms: int
    decided_units: int | None = None
    end_time_ms: int | None = None
    settle_time_ms: int | None = None

    @property
    def name(self) -> str:
        """Resource name, `clients/{c}/connections/{x}/disputes/{number}`."""
        return f"{self.connection.name}/disputes/{self.number}"

    @property
    def statement_number(self) -> int:
        """The number of the disputed statement."""
        return int(self.statement.rsplit("/", 1)[1])

    @property
    def adjustment_units(self) -> int:
        """What moves besides the stated amount once decided: the approved amount less the stated one."""
        assert self.decided_units is not None, "only a decided dispute settles"
        return self.decided_units - self.stated_units

    def retract(self, now_ms: int) -> None:
        """The client takes it back: the entry settles as stated."""
        self._end(DisputeState.RETRACTED, self.stated_units, now_ms)

    def approve(self, decided_units: int, now_ms: int) -> None:
        """An administrator agrees: the entry settles at `decided_units`."""
        self._end(DisputeState.APPROVED, decided_units, now_ms)

    def reject(self, now_ms: int) -> None:
        """An administrator disagrees: the entry settles as stated."""
        self._end(DisputeState.REJECTED, self.stated_units, now_ms)

    def settled(self, now_ms: int) -> None:
        """The decision has settled at the custodian and the exchange."""
        assert self.state is not DisputeState.OPEN and self.settle_time_ms is None
        self.settle_time_ms = now_ms

    def _end(self, state: DisputeState, decided_units: int, now_ms: int) -> None:
        if self.state is not DisputeState.OPEN:
            raise failed_precondition(
                "DISPUTE_NOT_OPEN",
                f"{self.name} is {self.state.value}; only an OPEN dispute is retracted or decided",
                dispute=self.name,
                state=self.state.value,
            )
        self.state = state
        self.decided_units = decided_units
        self.end_time_ms = now_ms
