"""An in-memory unit of work for use-case tests: every repository over plain dicts, all-or-nothing."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from custodian_sim.domain.audit import AuditRecord
from custodian_sim.domain.connections import Connection
from custodian_sim.domain.entry_outcomes import Claim
from custodian_sim.domain.ledger import BalanceKey, Transfer
from custodian_sim.domain.names import ConnectionName, account_owner
from custodian_sim.domain.parties import ExchangeKey, Party
from custodian_sim.domain.reserves import OwnerTotal
from custodian_sim.domain.statements import RecordedStatement, StatementState
from custodian_sim.service_layer.ports import Balance, PostedTransfer, TransferQuery
from tests.unit.custodian_sim.allocation_fakes import (
    FakeAllocationRepository,
    FakeExchangeDefaultRepository,
    FakeFrozenAccountRepository,
    FakeLifecycleState,
)
from tests.unit.custodian_sim.claim_fakes import FakeClaimRepository
from tests.unit.custodian_sim.withdrawal_fakes import (
    FakeWhitelistAddressRepository,
    FakeWithdrawalPolicyRepository,
    FakeWithdrawalRepository,
    FakeWithdrawalState,
)


@dataclass
class FakeState:
    """Everything the custodian stores; values are immutable, so copying the dicts is a snapshot."""

    parties: dict[str, Party] = field(default_factory=dict)
    keys: dict[str, ExchangeKey] = field(default_factory=dict)
    connections: dict[ConnectionName, Connection] = field(default_factory=dict)
    transfers: dict[str, Transfer] = field(default_factory=dict)
    balances: dict[BalanceKey, int] = field(default_factory=dict)
    statements: dict[str, RecordedStatement] = field(default_factory=dict)
    audit_records: list[AuditRecord] = field(default_factory=list)
    lifecycle: FakeLifecycleState = field(default_factory=FakeLifecycleState)
    claims: list[Claim] = field(default_factory=list)
    withdrawals: FakeWithdrawalState = field(default_factory=FakeWithdrawalState)

    def copy(self) -> FakeState:
        return FakeState(
            dict(self.parties),
            dict(self.keys),
            dict(self.connections),
            dict(self.transfers),
            dict(self.balances),
            dict(self.statements),
            list(self.audit_records),
            lifecycle=self.lifecycle.copy(),
            claims=list(self.claims),
            withdrawals=self.withdrawals.copy(),
        )


class FakePartyRepository:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def get(self, name: str) -> Party | None:
        return self._state.parties.get(name)

    def add(self, party: Party) -> None:
        assert party.name not in self._state.parties
        self._state.parties[party.name] = party


class FakeExchangeKeyRepository:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def get(self, exchange: str) -> ExchangeKey | None:
        return self._state.keys.get(exchange)

    def put(self, key: ExchangeKey) -> None:
        self._state.keys[key.exchange] = key


class FakeConnectionRepository:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def get(self, name: ConnectionName) -> Connection | None:
        return self._state.connections.get(name)

    def get_many(self, names: Collection[ConnectionName]) -> dict[ConnectionName, Connection]:
        return {name: self._state.connections[name] for name in names if name in self._state.connections}

    def add(self, connection: Connection) -> None:
        assert connection.name not in self._state.connections
        self._state.connections[connection.name] = connection

    def update(self, connection: Connection) -> None:
        assert connection.name in self._state.connections
        self._state.connections[connection.name] = connection

    def list_for_party(self, party: str) -> list[Connection]:
        return sorted(
            (
                connection
                for connection in self._state.connections.values()
                if party in (connection.name.client, connection.name.exchange)
            ),
            key=lambda connection: connection.name.name,
        )


class FakeLedgerRepository:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def transfers_by_id(self, transfer_ids: Collection[str]) -> dict[str, Transfer]:
        return {id_: self._state.transfers[id_] for id_ in transfer_ids if id_ in self._state.transfers}

    def balances(self, keys: Collection[BalanceKey]) -> dict[BalanceKey, int]:
        return {key: self._state.balances[key] for key in keys if key in self._state.balances}

    def append(self, transfers: Sequence[Transfer], balances: Mapping[BalanceKey, int]) -> None:
        for transfer in transfers:
            assert transfer.id not in self._state.transfers, "the ledger is append-only"
            self._state.transfers[transfer.id] = transfer
        self._state.balances.update(balances)

    def balances_of_owner(self, owner: str) -> list[Balance]:
        return [
            Balance(account, asset, units)
            for (account, asset), units in sorted(self._state.balances.items())
            if account_owner(account) == owner
        ]

    def allocated_to(self, exchange_id: str) -> list[Balance]:
        return [
            Balance(account, asset, units)
            for (account, asset), units in sorted(self._state.balances.items())
            if account.startswith("clients/") and account.endswith(f"/connections/{exchange_id}/allocated")
        ]

    def list_transfers(self, query: TransferQuery, limit: int) -> list[PostedTransfer]:
        # Transfers are kept in posting order, so a transfer's sequence is its position from 1.
        found: list[PostedTransfer] = []
        for sequence, transfer in enumerate(self._state.transfers.values(), start=1):
            accounts = (transfer.from_account, transfer.to_account)
            if (
                sequence > query.after_sequence
                and (
                    query.account in accounts
                    if query.account is not None
                    else query.owner in map(account_owner, accounts)
                )
                and query.asset in (None, transfer.asset)
                and (query.start_time_ms is None or transfer.create_time_ms >= query.start_time_ms)
                and (query.end_time_ms is None or transfer.create_time_ms < query.end_time_ms)
            ):
                found.append(PostedTransfer(sequence, transfer))
        return found[:limit]

    def owner_totals(self) -> list[OwnerTotal]:
        totals: dict[tuple[str, str], int] = {}
        for (account, asset), units in self._state.balances.items():
            key = (account_owner(account), asset)
            totals[key] = totals.get(key, 0) + units
        return [OwnerTotal(owner, asset, units) for (owner, asset), units in sorted(totals.items())]


class FakeStatementRepository:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def get(self, name: str) -> RecordedStatement | None:
        return self._state.statements.get(name)

    def latest(self, exchange: str) -> RecordedStatement | None:
        candidates = [
            recorded
            for recorded in self._state.statements.values()
            if recorded.statement.exchange == exchange and recorded.state is not StatementState.REJECTED
        ]
        return max(candidates, key=lambda recorded: recorded.statement.content.number, default=None)

    def names_in_state(self, state: StatementState, after_name: str, limit: int) -> list[str]:
        return sorted(
            name
            for name, recorded in self._state.statements.items()
            if recorded.state is state and name > after_name
        )[:limit]

    def nonce_used(self, nonce: str) -> bool:
        return any(recorded.statement.content.nonce == nonce for recorded in self._state.statements.values())

    def add(self, recorded: RecordedStatement) -> None:
        assert recorded.name not in self._state.statements
        self._state.statements[recorded.name] = recorded

    def update(self, recorded: RecordedStatement) -> None:
        previous = self._state.statements[recorded.name]
        assert previous.statement == recorded.statement, "the signed content never changes"
        self._state.statements[recorded.name] = recorded


class FakeAuditRepository:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def append(self, record: AuditRecord) -> AuditRecord:
        appended = record.with_sequence(len(self._state.audit_records) + 1)
        self._state.audit_records.append(appended)
        return appended

    def list_after(self, after_sequence: int, limit: int, owner: str | None) -> list[AuditRecord]:
        found = [
            record
            for record in self._state.audit_records
            if record.sequence > after_sequence and (owner is None or record.owner == owner)
        ]
        return found[:limit]


class FakeUnitOfWork:
    def __init__(self, state: FakeState) -> None:
        self.parties = FakePartyRepository(state)
        self.exchange_keys = FakeExchangeKeyRepository(state)
        self.connections = FakeConnectionRepository(state)
        self.ledger = FakeLedgerRepository(state)
        self.statements = FakeStatementRepository(state)
        self.audit = FakeAuditRepository(state)
        self.claims = FakeClaimRepository(state.claims)
        self.allocations = FakeAllocationRepository(state.lifecycle, state.statements)
        self.frozen_accounts = FakeFrozenAccountRepository(state.lifecycle)
        self.exchange_defaults = FakeExchangeDefaultRepository(state.lifecycle)
        self.whitelist_addresses = FakeWhitelistAddressRepository(state.withdrawals)
        self.withdrawal_policies = FakeWithdrawalPolicyRepository(state.withdrawals)
        self.withdrawals = FakeWithdrawalRepository(state.withdrawals)


class FakeStore:
    """Committed state; each unit of work works on a copy that replaces it only on success."""

    def __init__(self) -> None:
        self.state = FakeState()

    @contextmanager
    def unit_of_work(self) -> Iterator[FakeUnitOfWork]:
        working = self.state.copy()
        yield FakeUnitOfWork(working)
        self.state = working
