"""Connections, allocations and deallocations: the transfer workflows as explicit state machines.

Every workflow step is one idempotent call to a venue. The ids and request_ids of those calls
are derived from the workflow's number, so they are fixed before the first attempt and the same
after a restart: a repeated call is recognised by the venue and never applied twice.
Illegal transitions are programmer errors and fail an assertion.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, Generic, TypeVar

from settlement_bridge.domain.defaults import ConnectionState, DefaultOutcome
from settlement_bridge.domain.names import ConnectionName


@dataclass(frozen=True)
class Connection:
    """A client's connection to an exchange, open at both the custodian and the exchange."""

    connection: ConnectionName
    create_time_ms: int
    state: ConnectionState = ConnectionState.ACTIVE
    # What the exchange's default did to it; set exactly when DEFAULTED.
    default_outcome: DefaultOutcome | None = None

    def __post_init__(self) -> None:
        assert (self.state is ConnectionState.DEFAULTED) == (self.default_outcome is not None)

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
    # The custodian records the lock CLEARED: the exchange's credit stands on it.
    CLEAR_LOCK = "CLEAR_LOCK"
    # Compensation: the exchange drops the reservation (unknown ids count as dropped).
    RELEASE = "RELEASE"
    # Compensation: the custodian releases the lock (ReleaseAllocation): the amount returns to
    # the client's available balance.
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


# The step enum of one kind of transfer (AllocationStep or DeallocationStep).
StepT = TypeVar("StepT", bound=enum.Enum)


@dataclass
class Transfer(ABC, Generic[StepT]):
    """What allocations and deallocations share: the amount moved, the state, and the step reached.

    Each kind of transfer brings its own step enum and its own transitions; the invariants, the
    resource name, the request_ids and how a workflow ends are the same for both.
    """

    # The collection in resource names and request_ids: `allocations` or `deallocations`.
    collection: ClassVar[str]

    number: int
    connection: ConnectionName
    asset: str
    amount_units: int
    create_time_ms: int
    state: TransferState = TransferState.PENDING
    # Each kind of transfer redeclares this with the step its workflow starts at as the default;
    # until then it has none, and only a keyword-only field may go without one after `state`.
    step: StepT = field(kw_only=True)
    reason: str = ""
    end_time_ms: int | None = None

    def __post_init__(self) -> None:
        assert self.number > 0
        assert self.amount_units > 0, "the service layer validates amounts"
        assert (self.state is TransferState.PENDING) == (self.step is not self._done_step())
        assert (self.end_time_ms is None) == (self.state is TransferState.PENDING)

    @property
    def name(self) -> str:
        """Resource name, `clients/{client}/connections/{exchange}/{collection}/{number}`."""
        return f"{self.connection.name}/{self.collection}/{self.number}"

    def request_id(self, step: StepT) -> str:
        """The request_id of the venue call made at `step`, the same on every attempt."""
        assert step is not self._done_step()
        return f"{self.collection}/{self.number}/{step.value.lower()}"

    @abstractmethod
    def _done_step(self) -> StepT:
        """The step of a transfer whose workflow has ended."""

    def _expect(self, *steps: StepT) -> None:
        assert self.state is TransferState.PENDING, f"{self.name} already ended {self.state.value}"
        assert self.step in steps, f"{self.name} is at {self.step.value}, not {[s.value for s in steps]}"

    def _end(self, state: TransferState, reason: str, now_ms: int) -> None:
        assert state is not TransferState.PENDING
        assert (state is TransferState.CLEARED) == (not reason), "only failures carry a reason"
        self.state = state
        self.step = self._done_step()
        self.reason = reason
        self.end_time_ms = now_ms


@dataclass
class Allocation(Transfer[AllocationStep]):
    """A move of custody credit to an exchange: lock, reserve, clear, clear the lock; else compensated."""

    collection: ClassVar[str] = "allocations"

    step: AllocationStep = AllocationStep.LOCK

    @property
    def allocation_id(self) -> str:
        """The id the custodian locks, clears and releases and the exchange reserves under."""
        return f"allocation-{self.number}"

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

    def clear_succeeded(self) -> None:
        """The exchange made the credit tradable; the custodian has yet to record the lock cleared."""
        self._expect(AllocationStep.CLEAR)
        self.step = AllocationStep.CLEAR_LOCK

    def lock_cleared(self, now_ms: int) -> None:
        """The custodian recorded the lock CLEARED: the allocation is done."""
        self._expect(AllocationStep.CLEAR_LOCK)
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
        """The custodian released the lock: every step taken is compensated."""
        self._expect(AllocationStep.UNLOCK)
        self._end(TransferState.RELEASED, self.reason, now_ms)

    def _done_step(self) -> AllocationStep:
        return AllocationStep.DONE


@dataclass
class Deallocation(Transfer[DeallocationStep]):
    """A move of credit from an exchange back to custody: hold, unlock, clear."""

    collection: ClassVar[str] = "deallocations"

    step: DeallocationStep = DeallocationStep.HOLD

    @property
    def deallocation_id(self) -> str:
        """The id the exchange holds the credit under; at most once."""
        return f"deallocation-{self.number}"

    @property
    def unlock_id(self) -> str:
        """The id of the custodian's unlock; at most once."""
        return f"deallocation-{self.number}"

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

    def _done_step(self) -> DeallocationStep:
        return DeallocationStep.DONE
