"""Ports of the withdrawal use cases: whitelisted addresses, approval policies and withdrawals."""

from __future__ import annotations

from typing import Protocol

from custodian_sim.domain.withdrawals import (
    WhitelistAddress,
    Withdrawal,
    WithdrawalName,
    WithdrawalPolicy,
    WithdrawalState,
)


class WhitelistAddressRepository(Protocol):
    """Each client's whitelisted withdrawal addresses; an entry never changes once added."""

    def find(self, client: str, asset: str, address: str) -> WhitelistAddress | None:
        """Returns the client's entry for this asset and address, if whitelisted."""
        ...

    def count(self, client: str) -> int:
        """How many addresses the client has whitelisted; the next one gets this number plus one."""
        ...

    def list_for_client(self, client: str) -> list[WhitelistAddress]:
        """Every entry of the client, in the order they were added."""
        ...

    def add(self, entry: WhitelistAddress) -> None:
        """Stores a new entry."""
        ...


class WithdrawalPolicyRepository(Protocol):
    """Each client's current approval policy."""

    def get(self, client: str) -> WithdrawalPolicy | None:
        """Returns the client's policy, if one was set."""
        ...

    def put(self, policy: WithdrawalPolicy) -> None:
        """Stores the policy, replacing the client's previous one."""
        ...


class WithdrawalRepository(Protocol):
    """Withdrawals: the requested amount and destination never change, only the state moves on."""

    def get(self, name: WithdrawalName) -> Withdrawal | None:
        """Returns the withdrawal, if requested."""
        ...

    def next_number(self, client: str) -> int:
        """The number of the client's next withdrawal, from 1."""
        ...

    def add(self, withdrawal: Withdrawal) -> None:
        """Stores a new withdrawal."""
        ...

    def update(self, withdrawal: Withdrawal) -> None:
        """Stores a withdrawal's new state, approvals and times."""
        ...

    def list_for_client(self, client: str, limit: int) -> list[Withdrawal]:
        """Up to `limit` of the client's withdrawals, newest first."""
        ...

    def list_in_state(
        self, state: WithdrawalState, after: WithdrawalName | None, limit: int
    ) -> list[Withdrawal]:
        """Up to `limit` withdrawals in `state` after `after`, ordered by client then number."""
        ...
