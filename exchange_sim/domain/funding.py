"""Allocations and deallocations: how custody credit enters and leaves an OES account's mirror."""

from __future__ import annotations

import abc
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from exchange_sim.domain.accounts import AccountRegistry, Balance
from exchange_sim.domain.changes import VenueChanges
from service_kit.errors import ServiceError, already_exists, failed_precondition, not_found
from service_kit.money import UNITS_ABS_MAX, AssetScales


class FundingState(enum.Enum):
    """Lifecycle of an allocation or a deallocation at the exchange: reserved, then cleared or released."""

    RESERVED = "RESERVED"
    CLEARED = "CLEARED"
    RELEASED = "RELEASED"


@dataclass
class FundingOperation(abc.ABC):
    """Credit on its way between the custodian's lock and a connection's mirror, once per id.

    Allocations and deallocations share this lifecycle and differ only in how each step moves
    the balance. A release of an unknown id is recorded with an empty connection and asset and
    amount zero, so a reservation that arrives after its own compensation is refused instead of
    moving credit.
    """

    # The noun of the kind in reasons, messages and error metadata: "allocation" or "deallocation".
    kind: ClassVar[str]
    # Why a cleared operation of this kind cannot be released any more.
    cleared_release_message: ClassVar[str]

    funding_id: str
    connection: str
    asset: str
    amount_units: int
    state: FundingState
    update_time_ms: int

    @abc.abstractmethod
    def check_reservable(self, balance: Balance | None, assets: AssetScales) -> None:
        """Refuses a new reservation the balance cannot take; `balance` is None for an untouched asset."""

    @abc.abstractmethod
    def apply_reserve(self, balance: Balance) -> None:
        """Moves the balance as the reservation says."""

    @abc.abstractmethod
    def apply_clear(self, balance: Balance) -> None:
        """Moves the balance once the custodian has done its part."""

    @abc.abstractmethod
    def apply_release(self, balance: Balance) -> None:
        """Undoes the reservation's move (compensation)."""


@dataclass
class Allocation(FundingOperation):
    """Credit the custodian has locked for a connection: pending credit until cleared into the mirror."""

    kind: ClassVar[str] = "allocation"
    cleared_release_message: ClassVar[str] = "is already mirror credit; deallocate it instead"

    def check_reservable(self, balance: Balance | None, assets: AssetScales) -> None:
        """Refuses credit beyond the largest amount the sandbox holds."""
        current_units = 0 if balance is None else balance.mirror_units + balance.pending_credit_units
        if current_units + self.amount_units > UNITS_ABS_MAX:
            raise failed_precondition(
                "BALANCE_OUT_OF_RANGE",
                f"the {self.asset} credit of this connection would exceed the largest amount "
                "the sandbox holds",
                asset=self.asset,
            )

    def apply_reserve(self, balance: Balance) -> None:
        """`pending_credit += amount`."""
        balance.pending_credit_units += self.amount_units

    def apply_clear(self, balance: Balance) -> None:
        """`pending_credit -= amount`, `mirror += amount`."""
        balance.pending_credit_units -= self.amount_units
        balance.mirror_units += self.amount_units
        assert balance.pending_credit_units >= 0

    def apply_release(self, balance: Balance) -> None:
        """`pending_credit -= amount`."""
        balance.pending_credit_units -= self.amount_units
        assert balance.pending_credit_units >= 0


@dataclass
class Deallocation(FundingOperation):
    """Credit held at the exchange while the custodian unlocks it; removed from the mirror when cleared."""

    kind: ClassVar[str] = "deallocation"
    cleared_release_message: ClassVar[str] = "was already cleared"

    def check_reservable(self, balance: Balance | None, assets: AssetScales) -> None:
        """Refuses more than the free credit: mirror + min(unsettled, 0) - held.

        That is the available balance without unsettled gains, because gains are not yet backed
        by the custodian lock and unlocking them would fail there. It is never more than `available`.
        """
        free_units = 0
        if balance is not None:
            free_units = balance.mirror_units + min(balance.unsettled_units, 0) - balance.held_units
        if free_units < self.amount_units:
            raise failed_precondition(
                "INSUFFICIENT_AVAILABLE_CREDIT",
                f"{self.connection} has {assets.format(self.asset, max(free_units, 0))} {self.asset} free "
                f"to deallocate (mirror plus unsettled losses minus held), less than "
                f"{assets.format(self.asset, self.amount_units)}",
                connection=self.connection,
                asset=self.asset,
            )

    def apply_reserve(self, balance: Balance) -> None:
        """`held += amount`, so the credit cannot be traded while the custodian unlocks it."""
        balance.held_units += self.amount_units

    def apply_clear(self, balance: Balance) -> None:
        """`held -= amount`, `mirror -= amount`."""
        balance.held_units -= self.amount_units
        balance.mirror_units -= self.amount_units
        assert balance.held_units >= 0

    def apply_release(self, balance: Balance) -> None:
        """`held -= amount`."""
        balance.held_units -= self.amount_units
        assert balance.held_units >= 0


FundingOperationT = TypeVar("FundingOperationT", bound=FundingOperation)


@dataclass(frozen=True)
class _OperationBook(Generic[FundingOperationT]):
    """One kind of operation: its type, every operation by id, and those the current command changed."""

    operation_type: type[FundingOperationT]
    operations: dict[str, FundingOperationT]
    changed: dict[str, FundingOperationT]

    def record(self, operation: FundingOperationT) -> None:
        self.operations[operation.funding_id] = operation
        self.changed[operation.funding_id] = operation

    def set_state(self, operation: FundingOperationT, state: FundingState, now_ms: int) -> None:
        operation.state = state
        operation.update_time_ms = now_ms
        self.changed[operation.funding_id] = operation


class Funding:
    """Reserve, clear and release of allocations and deallocations, each at most once per id."""

    def __init__(self, accounts: AccountRegistry, assets: AssetScales, changes: VenueChanges) -> None:
        self._accounts = accounts
        self._assets = assets
        self._changes = changes
        self.allocations: dict[str, Allocation] = {}
        self.deallocations: dict[str, Deallocation] = {}
        self._allocation_book = _OperationBook(Allocation, self.allocations, changes.allocations)
        self._deallocation_book = _OperationBook(Deallocation, self.deallocations, changes.deallocations)

    def reserve_allocation(
        self, connection: str, allocation_id: str, asset: str, amount_units: int, now_ms: int
    ) -> Balance:
        """Records pending credit (`pending_credit += amount`), once per allocation id."""
        requested = Allocation(allocation_id, connection, asset, amount_units, FundingState.RESERVED, now_ms)
        return self._reserve(self._allocation_book, requested)

    def clear_allocation(self, allocation_id: str, now_ms: int) -> Balance:
        """Turns pending credit into mirror credit; clearing a cleared allocation changes nothing."""
        return self._clear(self._allocation_book, allocation_id, now_ms)

    def release_allocation(self, allocation_id: str, now_ms: int) -> Balance | None:
        """Drops a reservation; returns None when the id was unknown (it is recorded as released)."""
        return self._release(self._allocation_book, allocation_id, now_ms)

    def reserve_deallocation(
        self, connection: str, deallocation_id: str, asset: str, amount_units: int, now_ms: int
    ) -> Balance:
        """Holds free credit (`held += amount`) so it cannot be traded while the custodian unlocks it."""
        requested = Deallocation(
            deallocation_id, connection, asset, amount_units, FundingState.RESERVED, now_ms
        )
        return self._reserve(self._deallocation_book, requested)

    def clear_deallocation(self, deallocation_id: str, now_ms: int) -> Balance:
        """Removes held credit the custodian unlocked (`held -= amount`, `mirror -= amount`)."""
        return self._clear(self._deallocation_book, deallocation_id, now_ms)

    def release_deallocation(self, deallocation_id: str, now_ms: int) -> Balance | None:
        """Returns held credit (`held -= amount`); an unknown id is recorded as released, returning None."""
        return self._release(self._deallocation_book, deallocation_id, now_ms)

    def _reserve(self, book: _OperationBook[FundingOperationT], requested: FundingOperationT) -> Balance:
        assert requested.amount_units > 0
        account = self._accounts.by_connection(requested.connection)
        existing = book.operations.get(requested.funding_id)
        if existing is not None:
            self._check_retried_reservation(existing, requested)
            return account.balance(requested.asset)
        requested.check_reservable(account.balances.get(requested.asset), self._assets)
        balance = account.balance(requested.asset)
        requested.apply_reserve(balance)
        book.record(requested)
        self._changes.balances.add(balance)
        return balance

    def _check_retried_reservation(self, existing: FundingOperation, requested: FundingOperation) -> None:
        """A retry of the same reservation is fine; a released id or one reserved otherwise is refused."""
        if existing.state is FundingState.RELEASED:
            raise _refusal(
                failed_precondition,
                existing.kind,
                existing.funding_id,
                "RELEASED",
                "was released and cannot be reserved again",
            )
        if (existing.connection, existing.asset, existing.amount_units) != (
            requested.connection,
            requested.asset,
            requested.amount_units,
        ):
            amount = self._assets.format(existing.asset, existing.amount_units)
            raise _refusal(
                already_exists,
                existing.kind,
                existing.funding_id,
                "ID_REUSED",
                f"was reserved for {existing.connection} {amount} {existing.asset}",
            )

    def _clear(self, book: _OperationBook[FundingOperationT], funding_id: str, now_ms: int) -> Balance:
        kind = book.operation_type.kind
        operation = book.operations.get(funding_id)
        if operation is None:
            raise _refusal(not_found, kind, funding_id, "NOT_FOUND", "was never reserved here")
        if operation.state is FundingState.RELEASED:
            raise _refusal(failed_precondition, kind, funding_id, "RELEASED", "was released")
        balance = self._accounts.by_connection(operation.connection).balance(operation.asset)
        if operation.state is FundingState.CLEARED:
            return balance
        operation.apply_clear(balance)
        book.set_state(operation, FundingState.CLEARED, now_ms)
        self._changes.balances.add(balance)
        return balance

    def _release(
        self, book: _OperationBook[FundingOperationT], funding_id: str, now_ms: int
    ) -> Balance | None:
        kind = book.operation_type.kind
        operation = book.operations.get(funding_id)
        if operation is None:
            book.record(book.operation_type(funding_id, "", "", 0, FundingState.RELEASED, now_ms))
            return None
        if operation.state is FundingState.CLEARED:
            raise _refusal(
                failed_precondition, kind, funding_id, "CLEARED", operation.cleared_release_message
            )
        if not operation.connection:
            return None
        balance = self._accounts.by_connection(operation.connection).balance(operation.asset)
        if operation.state is FundingState.RESERVED:
            operation.apply_release(balance)
            book.set_state(operation, FundingState.RELEASED, now_ms)
            self._changes.balances.add(balance)
        return balance


def _refusal(
    make_error: Callable[..., ServiceError], kind: str, funding_id: str, reason_suffix: str, detail: str
) -> ServiceError:
    """An error about one allocation or deallocation: reason `{KIND}_{suffix}`, metadata `{kind}_id`."""
    return make_error(
        f"{kind.upper()}_{reason_suffix}", f"{kind} {funding_id} {detail}", **{f"{kind}_id": funding_id}
    )
