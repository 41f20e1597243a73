"""Ports of the allocation lifecycle and the default procedure: allocations, frozen accounts, defaults."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from custodian_sim.domain.allocation_lifecycle import Allocation, AllocationState
from custodian_sim.domain.defaults import ExchangeDefault
from custodian_sim.domain.names import ConnectionName


class AllocationRepository(Protocol):
    """Allocations, keyed by their caller-chosen id (unique across every connection)."""

    def get(self, allocation_id: str) -> Allocation | None:
        """Returns the allocation recorded under the id, whatever its connection."""
        ...

    def add(self, allocation: Allocation) -> None:
        """Records a new allocation."""
        ...

    def update(self, allocation: Allocation) -> None:
        """Stores an allocation's new state, reason and update time; what was requested never changes."""
        ...

    def list_for_exchange(self, exchange: str, state: AllocationState) -> list[Allocation]:
        """Every allocation in `state` on a connection to `exchange`, sorted by name."""
        ...

    def statement_in_flight(self, connection: ConnectionName) -> str | None:
        """The name of the connection's exchange's statement that is verified but not executed
        (PENDING or AWAITING_TOP_UP) and has an entry for the connection, if there is one."""
        ...


class FrozenAccountRepository(Protocol):
    """Ledger accounts nothing may move into or out of any more."""

    def frozen_among(self, accounts: Collection[str]) -> set[str]:
        """Those of the accounts that are frozen."""
        ...

    def freeze(self, account: str, reference: str, freeze_time_ms: int) -> None:
        """Freezes an account that is not frozen yet; `reference` names what froze it."""
        ...


class ExchangeDefaultRepository(Protocol):
    """The recorded outcome of each exchange's default procedure."""

    def get(self, exchange: str) -> ExchangeDefault | None:
        """Returns the exchange's default, if the procedure ran."""
        ...

    def add(self, record: ExchangeDefault) -> None:
        """Records the outcome of the procedure; at most once per exchange."""
        ...
