"""Allocations and deallocations: how custody credit enters and leaves an OES account's mirror."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from exchange_sim.domain.accounts import AccountRegistry, Balance
from exchange_sim.domain.changes import VenueChanges
from service_kit.errors import already_exists, failed_precondition, not_found
from service_kit.money import UNITS_ABS_MAX, AssetScales


class AllocationState(enum.Enum):
    """Lifecycle of an allocation at the exchange."""

    RESERVED = "RESERVED"
    CLEARED = "CLEARED"
    RELEASED = "RELEASED"


class DeallocationState(enum.Enum):
    """Lifecycle of a deallocation at the exchange."""

    RESERVED = "RESERVED"
    CLEARED = "CLEARED"
    RELEASED = "RELEASED"


@dataclass
class Allocation:
    """Credit the custodian has locked for a connection.

    A release of an unknown id is recorded with an empty connection and asset and amount zero,
    so a reservation that arrives after its own compensation is refused instead of crediting.
    """

    allocation_id: str
    connection: str
    asset: str
    amount_units: int
    state: AllocationState
    update_time_ms: int


@dataclass
class Deallocation:
    """Credit held at the exchange while the custodian unlocks it; recorded like an allocation."""

    deallocation_id: str
    connection: str
    asset: str
    amount_units: int
    state: DeallocationState
    update_time_ms: int


class Funding:
    """Reserve, clear and release of allocations and deallocations, each at most once per id."""

    def __init__(self, accounts: AccountRegistry, assets: AssetScales, changes: VenueChanges) -> None:
        self._accounts = accounts
        self._assets = assets
        self._changes = changes
        self.allocations: dict[str, Allocation] = {}
        self.deallocations: dict[str, Deallocation] = {}

    def reserve_allocation(
        self, connection: str, allocation_id: str, asset: str, amount_units: int, now_ms: int
    ) -> Balance:
        """Records pending credit (`pending_credit += amount`), once per allocation id."""
        assert amount_units > 0
        account = self._accounts.by_connection(connection)
        existing = self.allocations.get(allocation_id)
        if existing is not None:
            if existing.state is AllocationState.RELEASED:
                raise failed_precondition(
                    "ALLOCATION_RELEASED",
                    f"allocation {allocation_id} was released and cannot be reserved again",
                    allocation_id=allocation_id,
                )
            if (existing.connection, existing.asset, existing.amount_units) != (
                connection,
                asset,
                amount_units,
            ):
                raise already_exists(
                    "ALLOCATION_ID_REUSED",
                    f"allocation {allocation_id} was reserved for {existing.connection} "
                    f"{self._assets.format(existing.asset, existing.amount_units)} {existing.asset}",
                    allocation_id=allocation_id,
                )
            return account.balance(asset)
        balance = account.balances.get(asset)
        current_units = 0 if balance is None else balance.mirror_units + balance.pending_credit_units
        _check_range(current_units + amount_units, asset)
        balance = account.balance(asset)
        balance.pending_credit_units += amount_units
        allocation = Allocation(
            allocation_id, connection, asset, amount_units, AllocationState.RESERVED, now_ms
        )
        self.allocations[allocation_id] = allocation
        self._changes.allocations[allocation_id] = allocation
        self._changes.balances.add(balance)
        return balance

    def clear_allocation(self, allocation_id: str, now_ms: int) -> Balance:
        """Turns pending credit into mirror credit; clearing a cleared allocation changes nothing."""
        allocation = self.allocations.get(allocation_id)
        if allocation is None or allocation.state is AllocationState.RELEASED:
            if allocation is None:
                raise not_found(
                    "ALLOCATION_NOT_FOUND",
                    f"allocation {allocation_id} was never reserved here",
                    allocation_id=allocation_id,
                )
            raise failed_precondition(
                "ALLOCATION_RELEASED", f"allocation {allocation_id} was released", allocation_id=allocation_id
            )
        balance = self._accounts.by_connection(allocation.connection).balance(allocation.asset)
        if allocation.state is AllocationState.CLEARED:
            return balance
        balance.pending_credit_units -= allocation.amount_units
        balance.mirror_units += allocation.amount_units
        assert balance.pending_credit_units >= 0
        self._set_allocation_state(allocation, AllocationState.CLEARED, now_ms)
        self._changes.balances.add(balance)
        return balance

    def release_allocation(self, allocation_id: str, now_ms: int) -> Balance | None:
        """Drops a reservation; returns None when the id was unknown (it is recorded as released)."""
        allocation = self.allocations.get(allocation_id)
        if allocation is None:
            allocation = Allocation(allocation_id, "", "", 0, AllocationState.RELEASED, now_ms)
            self.allocations[allocation_id] = allocation
            self._changes.allocations[allocation_id] = allocation
            return None
        if allocation.state is AllocationState.CLEARED:
            raise failed_precondition(
                "ALLOCATION_CLEARED",
                f"allocation {allocation_id} is already mirror credit; deallocate it instead",
                allocation_id=allocation_id,
            )
        if not allocation.connection:
            return None
        balance = self._accounts.by_connection(allocation.connection).balance(allocation.asset)
        if allocation.state is AllocationState.RESERVED:
            balance.pending_credit_units -= allocation.amount_units
            assert balance.pending_credit_units >= 0
            self._set_allocation_state(allocation, AllocationState.RELEASED, now_ms)
            self._changes.balances.add(balance)
        return balance

    def reserve_deallocation(
        self, connection: str, deallocation_id: str, asset: str, amount_units: int, now_ms: int
    ) -> Balance:
        """Holds free credit (`held += amount`) so it cannot be traded while the custodian unlocks it.

        Free credit is mirror + min(unsettled, 0) - held: the available balance without unsettled
        gains, because gains are not yet backed by the custodian lock and unlocking them would
        fail there. It is never more than `available`.
        """
        assert amount_units > 0
        account = self._accounts.by_connection(connection)
        existing = self.deallocations.get(deallocation_id)
        if existing is not None:
            if existing.state is DeallocationState.RELEASED:
                raise failed_precondition(
                    "DEALLOCATION_RELEASED",
                    f"deallocation {deallocation_id} was released and cannot be reserved again",
                    deallocation_id=deallocation_id,
                )
            if (existing.connection, existing.asset, existing.amount_units) != (
                connection,
                asset,
                amount_units,
            ):
                raise already_exists(
                    "DEALLOCATION_ID_REUSED",
                    f"deallocation {deallocation_id} was reserved for {existing.connection} "
                    f"{self._assets.format(existing.asset, existing.amount_units)} {existing.asset}",
                    deallocation_id=deallocation_id,
                )
            return account.balance(asset)
        balance = account.balances.get(asset)
        free_units = 0
        if balance is not None:
            free_units = balance.mirror_units + min(balance.unsettled_units, 0) - balance.held_units
        if free_units < amount_units:
            raise failed_precondition(
                "INSUFFICIENT_AVAILABLE_CREDIT",
                f"{connection} has {self._assets.format(asset, max(free_units, 0))} {asset} free to "
                f"deallocate (mirror plus unsettled losses minus held), less than "
                f"{self._assets.format(asset, amount_units)}",
                connection=connection,
                asset=asset,
            )
        balance = account.balance(asset)
        balance.held_units += amount_units
        deallocation = Deallocation(
            deallocation_id, connection, asset, amount_units, DeallocationState.RESERVED, now_ms
        )
        self.deallocations[deallocation_id] = deallocation
        self._changes.deallocations[deallocation_id] = deallocation
        self._changes.balances.add(balance)
        return balance

    def clear_deallocation(self, deallocation_id: str, now_ms: int) -> Balance:
        """Removes held credit the custodian unlocked (`held -= amount`, `mirror -= amount`)."""
        deallocation = self.deallocations.get(deallocation_id)
        if deallocation is None:
            raise not_found(
                "DEALLOCATION_NOT_FOUND",
                f"deallocation {deallocation_id} was never reserved here",
                deallocation_id=deallocation_id,
            )
        if deallocation.state is DeallocationState.RELEASED:
            raise failed_precondition(
                "DEALLOCATION_RELEASED",
                f"deallocation {deallocation_id} was released",
                deallocation_id=deallocation_id,
            )
        balance = self._accounts.by_connection(deallocation.connection).balance(deallocation.asset)
        if deallocation.state is DeallocationState.CLEARED:
            return balance
        balance.held_units -= deallocation.amount_units
        balance.mirror_units -= deallocation.amount_units
        assert balance.held_units >= 0
        self._set_deallocation_state(deallocation, DeallocationState.CLEARED, now_ms)
        self._changes.balances.add(balance)
        return balance

    def release_deallocation(self, deallocation_id: str, now_ms: int) -> Balance | None:
        """Returns held credit (`held -= amount`); an unknown id is recorded as released, returning None."""
        deallocation = self.deallocations.get(deallocation_id)
        if deallocation is None:
            deallocation = Deallocation(deallocation_id, "", "", 0, DeallocationState.RELEASED, now_ms)
            self.deallocations[deallocation_id] = deallocation
            self._changes.deallocations[deallocation_id] = deallocation
            return None
        if deallocation.state is DeallocationState.CLEARED:
            raise failed_precondition(
                "DEALLOCATION_CLEARED",
                f"deallocation {deallocation_id} was already cleared",
                deallocation_id=deallocation_id,
            )
        if not deallocation.connection:
            return None
        balance = self._accounts.by_connection(deallocation.connection).balance(deallocation.asset)
        if deallocation.state is DeallocationState.RESERVED:
            balance.held_units -= deallocation.amount_units
            assert balance.held_units >= 0
            self._set_deallocation_state(deallocation, DeallocationState.RELEASED, now_ms)
            self._changes.balances.add(balance)
        return balance

    def _set_allocation_state(self, allocation: Allocation, state: AllocationState, now_ms: int) -> None:
        allocation.state = state
        allocation.update_time_ms = now_ms
        self._changes.allocations[allocation.allocation_id] = allocation

    def _set_deallocation_state(
        self, deallocation: Deallocation, state: DeallocationState, now_ms: int
    ) -> None:
        deallocation.state = state
        deallocation.update_time_ms = now_ms
        self._changes.deallocations[deallocation.deallocation_id] = deallocation


def _check_range(total_units: int, asset: str) -> None:
    if total_units > UNITS_ABS_MAX:
        raise failed_precondition(
            "BALANCE_OUT_OF_RANGE",
            f"the {asset} credit of this connection would exceed the largest amount the sandbox holds",
            asset=asset,
        )
