"""Connections, allocations and deallocations: the transfer workflows as explicit state machines.

Every workflow step is one idempotent call to a venue. The ids and request_ids of those calls
are derived from the workflow's number, so they are fixed before the first attempt and the same
after a restart: a repeated call is recognised by the venue and never applied twice.
Illegal transitions are programmer errors and fail an assertion.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from settlement_bridge.domain.names import ConnectionName


@dataclass(frozen=True)
class Connection:
    """A client's connection to an exchange, open at both the custodian and the exchange."""

    connection: ConnectionName
    create_time_ms: int

    @property
    def name(self) -> str:
        """The resource name."""
        return self.connection.name


class TransferState(enum.Enum):
    """Lifecycle of an allocation or a deallocation, as in the bridge proto."""

    PENDING = "PENDING"
    CLEARED = "CLEARED"
    RELEASED = "RELEASED"
    REJECTED = "REJECTED"


class AllocationStep(enum.Enum):
    """The next thing an allocation's workflow does."""

    # The custodian locks the amount (`available -> allocated`).
    LOCK = "LOCK"
    # The exchange records a pending mirror credit.
    RESERVE = "RESERVE"
    # The exchange turns the pending credit into tradable mirror credit.
    CLEAR = "CLEAR"
    # Compensation: the exchange drops the reservation (unknown ids count as dropped).
    RELEASE = "RELEASE"
    # Compensation: the custodian returns the lock to the client's available balance.
    UNLOCK = "UNLOCK"
    DONE = "DONE"


class DeallocationStep(enum.Enum):
    """The next thing a deallocation's workflow does."""

    # The exchange holds the amount so that it cannot be traded any more.
    HOLD = "HOLD"
    # The custodian returns the amount from the allocation (`allocated -> available`).
    UNLOCK = "UNLOCK"
    # The exchange removes the held credit (`mirror -= amount`).
    CLEAR = "CLEAR"
    # Compensation: the exchange returns the held credit to the account.
    RELEASE = "RELEASE"
    DONE = "DONE"


@dataclass
class Allocation:
    """A move of custody credit to an exchange: lock, reserve, clear; compensated on failure."""

    number: int
    connection: ConnectionName
    asset: str
    amount_units: int
    create_time_ms: int
    state: TransferState = TransferState.PENDING
    step: AllocationStep = AllocationStep.LOCK
    reason: str = ""
    end_time_ms: int | None = None

    def __post_init__(self) -> None:
        assert self.number > 0
        assert self.amount_units > 0, "the service layer validates amounts"
        assert (self.state is TransferState.PENDING) == (self.step is not AllocationStep.DONE)
        assert (self.end_time_ms is None) == (self.state is TransferState.PENDING)

    @property
    def name(self) -> str:
        """Resource name, `clients/{client}/connections/{exchange}/allocations/{number}`."""
        return f"{self.connection.name}/allocations/{self.number}"

    @property
    def allocation_id(self) -> str:
        """The id the custodian locks and the exchange reserves under; at most once each."""
        return f"allocation-{self.number}"

    @property
    def unlock_id(self) -> str:
        """The id of the compensating unlock at the custodian."""
        return f"allocation-{self.number}-compensation"

    def request_id(self, step: AllocationStep) -> str:
        """The request_id of the venue call made at `step`, the same on every attempt."""
        assert step is not AllocationStep.DONE
        return f"allocations/{self.number}/{step.value.lower()}"

    def lock_succeeded(self) -> None:
        """The custodian locked the amount."""
        self._expect(AllocationStep.LOCK)
        self.step = AllocationStep.RESERVE

    def lock_refused(self, reason: str, now_ms: int) -> None:
        """The custodian refused the lock; nothing moved anywhere."""
        self._expect(AllocationStep.LOCK)
        self._end(TransferState.REJECTED, reason, now_ms)

    def reserve_succeeded(self) -> None:
        """The exchange recorded the pending credit."""
        self._expect(AllocationStep.RESERVE)
        self.step = AllocationStep.CLEAR

    def clear_succeeded(self, now_ms: int) -> None:
        """The exchange made the credit tradable: the allocation is done."""
        self._expect(AllocationStep.CLEAR)
        self._end(TransferState.CLEARED, "", now_ms)

    def start_compensation(self, reason: str) -> None:
        """The exchange refused after the lock: undo at the exchange, then at the custodian."""
        self._expect(AllocationStep.RESERVE, AllocationStep.CLEAR)
        assert reason
        self.reason = reason
        self.step = AllocationStep.RELEASE

    def release_succeeded(self) -> None:
        """The exchange dropped the reservation."""
        self._expect(AllocationStep.RELEASE)
        self.step = AllocationStep.UNLOCK

    def unlock_succeeded(self, now_ms: int) -> None:
        """The custodian returned the lock: every step taken is compensated."""
        self._expect(AllocationStep.UNLOCK)
        self._end(TransferState.RELEASED, self.reason, now_ms)

    def _expect(self, *steps: AllocationStep) -> None:
        assert self.state is TransferState.PENDING, f"{self.name} already ended {self.state.value}"
        assert self.step in steps, f"{self.name} is at {self.step.value}, not {[s.value for s in steps]}"

    def _end(self, state: TransferState, reason: str, now_ms: int) -> None:
        assert state is not TransferState.PENDING
        assert (state is TransferState.CLEARED) == (not reason), "only failures carry a reason"
        self.state = state
        self.step = AllocationStep.DONE
        self.reason = reason
        self.end_time_ms = now_ms


@dataclass
class Deallocation:
    """A move of credit from an exchange back to custody: hold, unlock, clear."""

    number: int
    connection: ConnectionName
    asset: str
    amount_units: int
    create_time_ms: int
    state: TransferState = TransferState.PENDING
    step: DeallocationStep = DeallocationStep.HOLD
    reason: str = ""
    end_time_ms: int | None = None

    def __post_init__(self) -> None:
        assert self.number > 0
        assert self.amount_units > 0, "the service layer validates amounts"
        assert (self.state is TransferState.PENDING) == (self.step is not DeallocationStep.DONE)
        assert (self.end_time_ms is None) == (self.state is TransferState.PENDING)

    @property
    def name(self) -> str:
        """Resource name, `clients/{client}/connections/{exchange}/deallocations/{number}`."""
        return f"{self.connection.name}/deallocations/{self.number}"

    @property
    def deallocation_id(self) -> str:
        """The id the exchange holds the credit under; at most once."""
        return f"deallocation-{self.number}"

    @property
    def unlock_id(self) -> str:
        """The id of the custodian's unlock; at most once."""
        return f"deallocation-{self.number}"

    def request_id(self, step: DeallocationStep) -> str:
        """The request_id of the venue call made at `step`, the same on every attempt."""
        assert step is not DeallocationStep.DONE
        return f"deallocations/{self.number}/{step.value.lower()}"

    def hold_succeeded(self) -> None:
        """The exchange holds the credit."""
        self._expect(DeallocationStep.HOLD)
        self.step = DeallocationStep.UNLOCK

    def hold_refused(self, reason: str, now_ms: int) -> None:
        """The exchange refused the hold (for example, the credit is in use); nothing moved."""
        self._expect(DeallocationStep.HOLD)
        self._end(TransferState.REJECTED, reason, now_ms)

    def unlock_succeeded(self) -> None:
        """The custodian returned the amount to the client's available balance."""
        self._expect(DeallocationStep.UNLOCK)
        self.step = DeallocationStep.CLEAR

    def unlock_refused(self, reason: str) -> None:
        """The custodian refused the unlock: the exchange must return the held credit."""
        self._expect(DeallocationStep.UNLOCK)
        assert reason
        self.reason = reason
        self.step = DeallocationStep.RELEASE

    def clear_succeeded(self, now_ms: int) -> None:
        """The exchange removed the held credit: the deallocation is done."""
        self._expect(DeallocationStep.CLEAR)
        self._end(TransferState.CLEARED, "", now_ms)

    def release_succeeded(self, now_ms: int) -> None:
        """The exchange returned the held credit: the deallocation is abandoned."""
        self._expect(DeallocationStep.RELEASE)
        self._end(TransferState.RELEASED, self.reason, now_ms)

    def _expect(self, *steps: DeallocationStep) -> None:
        assert self.state is TransferState.PENDING, f"{self.name} already ended {self.state.value}"
        assert self.step in steps, f"{self.name} is at {self.step.value}, not {[s.value for s in steps]}"

    def _end(self, state: TransferState, reason: str, now_ms: int) -> None:
        assert state is not TransferState.PENDING
        assert (state is TransferState.CLEARED) == (not reason), "only failures carry a reason"
        self.state = state
        self.step = DeallocationStep.DONE
        self.reason = reason
        self.end_time_ms = now_ms
