"""The allocation resource at the custodian: PENDING -> RESERVED -> CLEARED, or RELEASED, or REJECTED."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace

from custodian_sim.domain.ledger import Transfer, TransferKind
from custodian_sim.domain.names import (
    NAME_INVALID,
    OPERATION_ID_PATTERN,
    ConnectionName,
    allocated_account,
    available_account,
    parse_operation_id,
)
from custodian_sim.domain.statements import IN_FLIGHT_STATES
from service_kit.errors import already_exists, failed_precondition, invalid_argument, not_found

ALLOCATION_NOT_FOUND = "ALLOCATION_NOT_FOUND"
ALLOCATION_ID_REUSED = "ALLOCATION_ID_REUSED"
ALLOCATION_CLEARED = "ALLOCATION_CLEARED"
ALLOCATION_RELEASED = "ALLOCATION_RELEASED"
ALLOCATION_REJECTED = "ALLOCATION_REJECTED"
SETTLEMENT_IN_FLIGHT = "SETTLEMENT_IN_FLIGHT"
RELEASE_REASON_INVALID = "RELEASE_REASON_INVALID"

# A statement in one of these states (PENDING, AWAITING_TOP_UP) is verified but has not moved
# its transfers yet: locks and unlocks on a connection it has an entry for would change the
# allocation it is to settle against. Stored states are compared by value.
IN_FLIGHT_STATEMENT_STATES = frozenset(state.value for state in IN_FLIGHT_STATES)

RELEASE_REASON_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
ALLOCATIONS_COLLECTION = "allocations"


class AllocationState(enum.Enum):
    """Lifecycle of an allocation; CLEARED, RELEASED and REJECTED are final."""

    PENDING = "PENDING"
    RESERVED = "RESERVED"
    CLEARED = "CLEARED"
    RELEASED = "RELEASED"
    REJECTED = "REJECTED"


@dataclass(frozen=True, order=True)
class AllocationName:
    """`clients/{client}/connections/{exchange}/allocations/{allocation_id}`.

    Allocation ids are unique across every connection (they name the lock's ledger transfer);
    the connection in the name says whose allocation it is.
    """

    connection: ConnectionName
    allocation_id: str

    def __post_init__(self) -> None:
        assert OPERATION_ID_PATTERN.fullmatch(self.allocation_id), self.allocation_id

    @property
    def name(self) -> str:
        """The resource name."""
        return f"{self.connection.name}/{ALLOCATIONS_COLLECTION}/{self.allocation_id}"

    @staticmethod
    def parse(name: str, field_name: str) -> AllocationName:
        """Parses an allocation name, or raises INVALID_ARGUMENT naming the field."""
        # Allocation ids may contain '/', so everything after the fifth '/' is the id.
        parts = name.split("/", 5)
        if len(parts) != 6 or parts[4] != ALLOCATIONS_COLLECTION:
            raise invalid_argument(
                NAME_INVALID,
                field_name,
                f"{name!r} is not an allocation name such as "
                "'clients/acme/connections/okx-sim/allocations/allocation-1'",
            )
        connection = ConnectionName.parse("/".join(parts[:4]), field_name)
        return AllocationName(connection, parse_operation_id(parts[5], field_name))


def parse_release_reason(reason: str, field_name: str) -> str:
    """Checks the reason a caller gives for releasing an allocation."""
    if not RELEASE_REASON_PATTERN.fullmatch(reason):
        raise invalid_argument(
            RELEASE_REASON_INVALID,
            field_name,
            "must be 1-128 letters, digits and _.:-, for example VENUE_HALTED",
        )
    return reason


@dataclass(frozen=True)
class Allocation:
    """An amount of one asset a client locks for one exchange, and what became of it."""

    name: AllocationName
    asset: str
    amount_units: int
    state: AllocationState
    # Why it was RELEASED or REJECTED; empty otherwise.
    reason: str
    create_time_ms: int
    update_time_ms: int

    def __post_init__(self) -> None:
        assert self.amount_units > 0, self.amount_units
        has_reason = self.state in (AllocationState.RELEASED, AllocationState.REJECTED)
        assert has_reason == bool(self.reason), (self.state, self.reason)
        assert self.update_time_ms >= self.create_time_ms

    @property
    def connection(self) -> ConnectionName:
        """The connection the amount is locked for."""
        return self.name.connection

    @property
    def allocation_id(self) -> str:
        """The caller-chosen id."""
        return self.name.allocation_id

    @property
    def description(self) -> str:
        """The state as an audit record shows it: `RESERVED`, or `RELEASED: VENUE_HALTED`."""
        return f"{self.state.value}: {self.reason}" if self.reason else self.state.value

    def same_request(self, name: AllocationName, asset: str, amount_units: int) -> bool:
        """Whether a lock asks for exactly this allocation; its time does not matter."""
        return (self.name, self.asset, self.amount_units) == (name, asset, amount_units)

    def reserved(self, now_ms: int) -> Allocation:
        """PENDING -> RESERVED: the lock was posted."""
        assert self.state is AllocationState.PENDING, self.state
        return replace(self, state=AllocationState.RESERVED, update_time_ms=now_ms)

    def rejected(self, reason: str, now_ms: int) -> Allocation:
        """PENDING -> REJECTED: the lock was refused and nothing moved."""
        assert self.state is AllocationState.PENDING, self.state
        assert reason
        return replace(self, state=AllocationState.REJECTED, reason=reason, update_time_ms=now_ms)

    def cleared(self, now_ms: int) -> Allocation:
        """RESERVED -> CLEARED once the exchange cleared the mirror credit; CLEARED stays CLEARED."""
        if self.state is AllocationState.CLEARED:
            return self
        self._refuse_if_final("cleared")
        return replace(self, state=AllocationState.CLEARED, update_time_ms=now_ms)

    def released(self, reason: str, now_ms: int) -> Allocation:
        """RESERVED -> RELEASED (the caller returns the amount); RELEASED stays RELEASED."""
        assert reason
        if self.state is AllocationState.RELEASED:
            return self
        self._refuse_if_final("released")
        return replace(self, state=AllocationState.RELEASED, reason=reason, update_time_ms=now_ms)

    def _refuse_if_final(self, verb: str) -> None:
        assert self.state is not AllocationState.PENDING, "a recorded allocation is never PENDING"
        if self.state is AllocationState.RESERVED:
            return
        reason = {
            AllocationState.CLEARED: ALLOCATION_CLEARED,
            AllocationState.RELEASED: ALLOCATION_RELEASED,
            AllocationState.REJECTED: ALLOCATION_REJECTED,
        }[self.state]
        raise failed_precondition(
            reason,
            f"{self.name.name} is {self.description}; only a RESERVED allocation can be {verb}",
            allocation=self.name.name,
            state=self.state.value,
        )


def new_allocation(name: AllocationName, asset: str, amount_units: int, now_ms: int) -> Allocation:
    """A requested allocation: PENDING until the lock is posted or refused in the same transaction."""
    return Allocation(name, asset, amount_units, AllocationState.PENDING, "", now_ms, now_ms)


def require_allocation(allocation: Allocation | None, name: AllocationName) -> Allocation:
    """Returns the allocation if it exists under this very name, or NOT_FOUND."""
    if allocation is None or allocation.name != name:
        raise not_found(
            ALLOCATION_NOT_FOUND,
            f"{name.name} was never requested; the bridge requests it with LockAllocation",
            allocation=name.name,
        )
    return allocation


def check_lock_retry(existing: Allocation, name: AllocationName, asset: str, amount_units: int) -> Allocation:
    """A lock under a known allocation id: the same request gets the same result, another is refused.

    A REJECTED allocation stays rejected: its retry is refused again with the recorded reason,
    however the balances have changed since, so one allocation id has one outcome.
    """
    if not existing.same_request(name, asset, amount_units):
        raise already_exists(
            ALLOCATION_ID_REUSED,
            f"allocation id {name.allocation_id!r} already names {existing.name.name} "
            f"({existing.amount_units} units of {existing.asset}); allocation ids are never reused",
            allocation=existing.name.name,
        )
    if existing.state is AllocationState.REJECTED:
        raise failed_precondition(
            existing.reason,
            f"{existing.name.name} was rejected: {existing.reason}",
            allocation=existing.name.name,
            state=existing.state.value,
        )
    return existing


def check_no_settlement_in_flight(connection: ConnectionName, statement: str | None) -> None:
    """Refuses to move a connection's allocation while a statement with an entry for it is unexecuted.

    The statement's loss bound was checked against the allocation; changing the allocation
    before the statement executes could let it take what is no longer there.
    """
    if statement is not None:
        raise failed_precondition(
            SETTLEMENT_IN_FLIGHT,
            f"{statement} has an entry for {connection.name} and is not executed yet; "
            "its allocation cannot change until it is",
            connection=connection.name,
            statement=statement,
        )


def release_transfer_id(allocation_id: str) -> str:
    """The ledger transfer id of an allocation's release: at most one per allocation."""
    return f"{ALLOCATIONS_COLLECTION}/{allocation_id}/release"


def release_transfer(allocation: Allocation, now_ms: int) -> Transfer:
    """Returns a RESERVED allocation's amount: `allocated -> available`."""
    return Transfer(
        id=release_transfer_id(allocation.allocation_id),
        from_account=allocated_account(allocation.connection),
        to_account=available_account(allocation.connection.client_id),
        asset=allocation.asset,
        amount_units=allocation.amount_units,
        kind=TransferKind.ALLOCATION_RELEASE,
        reference=allocation.name.name,
        create_time_ms=now_ms,
    )
