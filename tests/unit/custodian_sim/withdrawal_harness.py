"""Withdrawal use cases over the in-memory fake or real SQLite, each step in its own unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from custodian_sim.adapters.signature_verifier import Ed25519SignatureVerifier
from custodian_sim.domain.names import ConnectionName
from custodian_sim.domain.parties import PartyKind
from custodian_sim.domain.withdrawals import (
    WhitelistAddress,
    Withdrawal,
    WithdrawalName,
    WithdrawalPolicy,
    WithdrawalState,
)
from custodian_sim.service_layer.commands import CreateParty, LockAllocation, SimulateDeposit
from custodian_sim.service_layer.services import CustodianService
from custodian_sim.service_layer.unit_of_work import UnitOfWork
from custodian_sim.service_layer.withdrawals import (
    CreateWhitelistAddress,
    CreateWithdrawal,
    WithdrawalService,
    WithdrawalSettings,
)
from service_kit.clock import SimulatedClock
from tests.unit.custodian_sim.fakes import FakeState, FakeUnitOfWork
from tests.unit.custodian_sim.harness import ASSETS, START_MS
from tests.unit.custodian_sim.stores import FakeStoreWithSnapshot, Snapshot

MINUTE_MS = 60_000
COOLING_OFF_MS = 60 * MINUTE_MS
CONFIRMATION_MS = 10 * MINUTE_MS

ResultT = TypeVar("ResultT")


@dataclass
class FakeWithdrawalState:
    """Whitelists, policies and withdrawals; values are immutable, so copying the dicts is a snapshot."""

    whitelist: dict[str, WhitelistAddress] = field(default_factory=dict)
    policies: dict[str, WithdrawalPolicy] = field(default_factory=dict)
    withdrawals: dict[WithdrawalName, Withdrawal] = field(default_factory=dict)

    def copy(self) -> FakeWithdrawalState:
        return FakeWithdrawalState(dict(self.whitelist), dict(self.policies), dict(self.withdrawals))


class FakeWhitelistAddressRepository:
    def __init__(self, state: FakeWithdrawalState) -> None:
        self._state = state

    def find(self, client: str, asset: str, address: str) -> WhitelistAddress | None:
        for entry in self._state.whitelist.values():
            if (entry.name.client, entry.asset, entry.address) == (client, asset, address):
                return entry
        return None

    def count(self, client: str) -> int:
        return len(self.list_for_client(client))

    def list_for_client(self, client: str) -> list[WhitelistAddress]:
        entries = [entry for entry in self._state.whitelist.values() if entry.name.client == client]
        return sorted(entries, key=lambda entry: entry.name.number)

    def add(self, entry: WhitelistAddress) -> None:
        assert entry.name.name not in self._state.whitelist
        self._state.whitelist[entry.name.name] = entry


class FakeWithdrawalPolicyRepository:
    def __init__(self, state: FakeWithdrawalState) -> None:
        self._state = state

    def get(self, client: str) -> WithdrawalPolicy | None:
        return self._state.policies.get(client)

    def put(self, policy: WithdrawalPolicy) -> None:
        self._state.policies[policy.client] = policy


class FakeWithdrawalRepository:
    def __init__(self, state: FakeWithdrawalState) -> None:
        self._state = state

    def get(self, name: WithdrawalName) -> Withdrawal | None:
        return self._state.withdrawals.get(name)

    def next_number(self, client: str) -> int:
        return 1 + max((name.number for name in self._state.withdrawals if name.client == client), default=0)

    def add(self, withdrawal: Withdrawal) -> None:
        assert withdrawal.name not in self._state.withdrawals
        self._state.withdrawals[withdrawal.name] = withdrawal

    def update(self, withdrawal: Withdrawal) -> None:
        previous = self._state.withdrawals[withdrawal.name]
        assert (previous.asset, previous.amount_units, previous.address) == (
            withdrawal.asset,
            withdrawal.amount_units,
            withdrawal.address,
        ), "a withdrawal's request never changes"
        assert withdrawal.approvers[: len(previous.approvers)] == previous.approvers
        self._state.withdrawals[withdrawal.name] = withdrawal

    def list_for_client(self, client: str, limit: int) -> list[Withdrawal]:
        found = [withdrawal for name, withdrawal in self._state.withdrawals.items() if name.client == client]
        return sorted(found, key=lambda withdrawal: -withdrawal.name.number)[:limit]

    def list_in_state(
        self, state: WithdrawalState, after: WithdrawalName | None, limit: int
    ) -> list[Withdrawal]:
        found = sorted(
            (withdrawal for withdrawal in self._state.withdrawals.values() if withdrawal.state is state),
            key=lambda withdrawal: (withdrawal.client, withdrawal.name.number),
        )
        if after is not None:
            found = [w for w in found if (w.client, w.name.number) > (after.client, after.number)]
        return found[:limit]


class FakeWithdrawalUnitOfWork(FakeUnitOfWork):
    def __init__(self, state: FakeState, withdrawal_state: FakeWithdrawalState) -> None:
        super().__init__(state)
        self.whitelist_addresses = FakeWhitelistAddressRepository(withdrawal_state)
        self.withdrawal_policies = FakeWithdrawalPolicyRepository(withdrawal_state)
        self.withdrawals = FakeWithdrawalRepository(withdrawal_state)


class FakeWithdrawalStore(FakeStoreWithSnapshot):
    """The fake store plus withdrawals; a unit of work works on copies that replace the state on success."""

    def __init__(self) -> None:
        super().__init__()
        self.withdrawal_state = FakeWithdrawalState()

    @contextmanager
    def unit_of_work(self) -> Iterator[FakeWithdrawalUnitOfWork]:  # type: ignore[override]
        working = self.state.copy()
        withdrawal_working = self.withdrawal_state.copy()
        yield FakeWithdrawalUnitOfWork(working, withdrawal_working)
        self.state = working
        self.withdrawal_state = withdrawal_working


class Store(Protocol):
    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]: ...

    def snapshot(self) -> Snapshot: ...


class StoreRunner:
    """Units of work no request caused (timers, start-up), over the chosen store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def write(self, work: Callable[[UnitOfWork], ResultT]) -> ResultT:
        with self._store.unit_of_work() as uow:
            return work(uow)

    def read(self, work: Callable[[UnitOfWork], ResultT]) -> ResultT:
        return self.write(work)


class WithdrawalHarness:
    """Runs each use case in its own unit of work and schedules confirmations after it, as the RPCs do."""

    def __init__(self, store: Store, clock: SimulatedClock | None = None) -> None:
        self.store = store
        self.clock = clock or SimulatedClock(START_MS)
        self.custodian = CustodianService(self.clock, ASSETS, Ed25519SignatureVerifier())
        self.service = WithdrawalService(
            self.clock, ASSETS, WithdrawalSettings(COOLING_OFF_MS, CONFIRMATION_MS), StoreRunner(store)
        )

    def run(self, work: Callable[[UnitOfWork], ResultT]) -> ResultT:
        with self.store.unit_of_work() as uow:
            return work(uow)

    def create_party(self, name: str) -> None:
        kind = PartyKind.CLIENT if name.startswith("clients/") else PartyKind.EXCHANGE
        self.run(lambda uow: self.custodian.create_party(uow, CreateParty(name, kind, name)))

    def deposit(self, deposit_id: str, owner: str, asset: str, amount_units: int) -> None:
        command = SimulateDeposit(deposit_id, owner, asset, amount_units)
        self.run(lambda uow: self.custodian.simulate_deposit(uow, command))

    def connect(self, client_id: str, exchange_id: str) -> ConnectionName:
        name = ConnectionName(client_id, exchange_id)
        self.run(lambda uow: self.custodian.create_connection(uow, name))
        self.run(lambda uow: self.custodian.activate_connection(uow, name))
        return name

    def lock(self, connection: ConnectionName, allocation_id: str, asset: str, amount_units: int) -> None:
        command = LockAllocation(connection, allocation_id, asset, amount_units)
        self.run(lambda uow: self.custodian.lock_allocation(uow, command))

    def whitelist(self, client_id: str, asset: str, address: str, label: str = "") -> WhitelistAddress:
        command = CreateWhitelistAddress(client_id, asset, address, label)
        return self.run(lambda uow: self.service.create_whitelist_address(uow, command))

    def set_policy(self, policy: WithdrawalPolicy) -> WithdrawalPolicy:
        return self.run(lambda uow: self.service.set_withdrawal_policy(uow, policy))

    def withdraw(self, client_id: str, asset: str, amount_units: int, address: str) -> Withdrawal:
        command = CreateWithdrawal(client_id, asset, amount_units, address)
        return self._scheduled(self.run(lambda uow: self.service.create_withdrawal(uow, command)))

    def approve(self, name: WithdrawalName, approver: str) -> Withdrawal:
        return self._scheduled(self.run(lambda uow: self.service.approve_withdrawal(uow, name, approver)))

    def cancel(self, name: WithdrawalName) -> Withdrawal:
        return self.run(lambda uow: self.service.cancel_withdrawal(uow, name))

    def get(self, name: WithdrawalName) -> Withdrawal:
        return self.run(lambda uow: self.service.get_withdrawal(uow, name))

    def advance(self, duration_ms: int) -> int:
        return self.clock.advance(duration_ms)

    def balance(self, account: str, asset: str) -> int:
        return self.store.snapshot()[0].get((account, asset), 0)

    def _scheduled(self, withdrawal: Withdrawal) -> Withdrawal:
        if withdrawal.state is WithdrawalState.BROADCAST:
            self.service.schedule_confirmation(withdrawal)
        return withdrawal
