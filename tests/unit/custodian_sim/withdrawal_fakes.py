"""In-memory repositories of whitelists, withdrawal policies and withdrawals for use-case tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from custodian_sim.domain.withdrawals import (
    WhitelistAddress,
    Withdrawal,
    WithdrawalName,
    WithdrawalPolicy,
    WithdrawalState,
)


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
