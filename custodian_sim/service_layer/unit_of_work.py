"""The unit of work: every repository the use cases touch, inside one all-or-nothing transaction."""

from __future__ import annotations

from typing import Protocol

from custodian_sim.service_layer.allocation_ports import (
    AllocationRepository,
    ExchangeDefaultRepository,
    FrozenAccountRepository,
)
from custodian_sim.service_layer.claim_ports import ClaimRepository
from custodian_sim.service_layer.ports import (
    AuditRepository,
    ConnectionRepository,
    ExchangeKeyRepository,
    LedgerRepository,
    PartyRepository,
    StatementRepository,
)
from custodian_sim.service_layer.withdrawal_ports import (
    WhitelistAddressRepository,
    WithdrawalPolicyRepository,
    WithdrawalRepository,
)


class UnitOfWork(Protocol):
    """Repositories sharing one transaction.

    The caller opens and commits the transaction (through the request log, so the stored
    response of an idempotent request commits together with its effects); a use case that
    raises leaves nothing behind.
    """

    @property
    def parties(self) -> PartyRepository:
        """Registered parties."""
        ...

    @property
    def exchange_keys(self) -> ExchangeKeyRepository:
        """Exchange statement keys."""
        ...

    @property
    def connections(self) -> ConnectionRepository:
        """Connections."""
        ...

    @property
    def ledger(self) -> LedgerRepository:
        """Transfers and balances."""
        ...

    @property
    def statements(self) -> StatementRepository:
        """Verified statements."""
        ...

    @property
    def audit(self) -> AuditRepository:
        """The append-only audit log."""
        ...

    @property
    def claims(self) -> ClaimRepository:
        """Claims left by statement entries that could not settle."""
        ...

    @property
    def whitelist_addresses(self) -> WhitelistAddressRepository:
        """Whitelisted withdrawal addresses."""
        ...

    @property
    def withdrawal_policies(self) -> WithdrawalPolicyRepository:
        """Withdrawal approval policies."""
        ...

    @property
    def withdrawals(self) -> WithdrawalRepository:
        """Withdrawals."""
        ...

    @property
    def allocations(self) -> AllocationRepository:
        """Allocations and their lifecycle."""
        ...

    @property
    def frozen_accounts(self) -> FrozenAccountRepository:
        """Accounts frozen by exchange defaults."""
        ...

    @property
    def exchange_defaults(self) -> ExchangeDefaultRepository:
        """The outcome of each exchange's default procedure."""
        ...
