"""In-memory repositories of allocations, frozen accounts and exchange defaults for the fake unit of work."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from custodian_sim.domain.allocation_lifecycle import IN_FLIGHT_STATEMENT_STATES, Allocation, AllocationState
from custodian_sim.domain.defaults import ExchangeDefault
from custodian_sim.domain.names import ConnectionName
from custodian_sim.domain.statements import RecordedStatement


@dataclass
class FakeLifecycleState:
    """What the allocation lifecycle and the default procedure store; values are immutable."""

    allocations: dict[str, Allocation] = field(default_factory=dict)
    frozen_accounts: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, ExchangeDefault] = field(default_factory=dict)

    def copy(self) -> FakeLifecycleState:
        return FakeLifecycleState(dict(self.allocations), dict(self.frozen_accounts), dict(self.defaults))


class FakeAllocationRepository:
    def __init__(self, state: FakeLifecycleState, statements: Mapping[str, RecordedStatement]) -> None:
        self._state = state
        self._statements = statements

    def get(self, allocation_id: str) -> Allocation | None:
        return self._state.allocations.get(allocation_id)

    def add(self, allocation: Allocation) -> None:
        assert allocation.allocation_id not in self._state.allocations
        self._state.allocations[allocation.allocation_id] = allocation

    def update(self, allocation: Allocation) -> None:
        previous = self._state.allocations[allocation.allocation_id]
        assert previous.same_request(allocation.name, allocation.asset, allocation.amount_units)
        self._state.allocations[allocation.allocation_id] = allocation

    def list_for_exchange(self, exchange: str, state: AllocationState) -> list[Allocation]:
        return sorted(
            (
                allocation
                for allocation in self._state.allocations.values()
                if allocation.connection.exchange == exchange and allocation.state is state
            ),
            key=lambda allocation: (allocation.connection.name, allocation.allocation_id),
        )

    def statement_in_flight(self, connection: ConnectionName) -> str | None:
        in_flight = [
            recorded
            for recorded in self._statements.values()
            if recorded.statement.exchange == connection.exchange
            and recorded.state.value in IN_FLIGHT_STATEMENT_STATES
        ]
        latest = max(in_flight, key=lambda recorded: recorded.statement.content.number, default=None)
        if latest is None or all(entry.connection != connection for entry in latest.statement.entries):
            return None
        return latest.name


class FakeFrozenAccountRepository:
    def __init__(self, state: FakeLifecycleState) -> None:
        self._state = state

    def frozen_among(self, accounts: Collection[str]) -> set[str]:
        return {account for account in accounts if account in self._state.frozen_accounts}

    def freeze(self, account: str, reference: str, freeze_time_ms: int) -> None:
        assert account not in self._state.frozen_accounts
        self._state.frozen_accounts[account] = reference


class FakeExchangeDefaultRepository:
    def __init__(self, state: FakeLifecycleState) -> None:
        self._state = state

    def get(self, exchange: str) -> ExchangeDefault | None:
        return self._state.defaults.get(exchange)

    def add(self, record: ExchangeDefault) -> None:
        assert record.exchange not in self._state.defaults
        self._state.defaults[record.exchange] = record
