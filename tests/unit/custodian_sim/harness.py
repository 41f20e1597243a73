"""A use-case harness: runs each custodian use case in its own unit of work over a chosen store."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from custodian_sim.adapters.signature_verifier import Ed25519SignatureVerifier
from custodian_sim.domain.audit import AuditRecord
from custodian_sim.domain.entry_outcomes import Claim
from custodian_sim.domain.names import ConnectionName
from custodian_sim.domain.parties import PartyKind
from custodian_sim.domain.statements import RecordedStatement, SignedStatement, parse_statement
from custodian_sim.domain.withdrawals import (
    WhitelistAddress,
    Withdrawal,
    WithdrawalName,
    WithdrawalPolicy,
    WithdrawalState,
)
from custodian_sim.service_layer.audit import run_recording_refusal
from custodian_sim.service_layer.commands import (
    AllocationResult,
    CreateParty,
    LockAllocation,
    RegisterExchangeKey,
    SimulateDeposit,
)
from custodian_sim.service_layer.services import CustodianService
from custodian_sim.service_layer.statement_settlement import EntryReference
from custodian_sim.service_layer.unit_of_work import UnitOfWork
from custodian_sim.service_layer.withdrawals import (
    CreateWhitelistAddress,
    CreateWithdrawal,
    WithdrawalService,
    WithdrawalSettings,
)
from service_kit.clock import SimulatedClock
from service_kit.errors import ServiceError
from service_kit.money import AssetScales
from service_kit.statement import StatementContent
from tests.unit.custodian_sim.statement_factory import exchange_public_key, signed
from tests.unit.custodian_sim.stores import Store

ASSETS = AssetScales({"BTC": 8, "USDT": 6})
START_MS = 1_767_225_600_000

ResultT = TypeVar("ResultT")
AUDIT_PAGE_SIZE = 1000
# The custodian's default: an hour of sandbox time to top up the settlement account.
TOP_UP_WINDOW_MS = 3_600_000
MINUTE_MS = 60_000
# A new whitelisted address is usable after an hour; the simulated chain confirms in ten minutes.
COOLING_OFF_MS = 60 * MINUTE_MS
CONFIRMATION_MS = 10 * MINUTE_MS


class Harness:
    """Runs each use case in its own unit of work, as the entrypoints do."""

    def __init__(self, store: Store, clock: SimulatedClock | None = None) -> None:
        self.store = store
        self.clock = clock or SimulatedClock(START_MS)
        self.service = CustodianService(
            self.clock, ASSETS, Ed25519SignatureVerifier(), top_up_window_ms=TOP_UP_WINDOW_MS
        )
        # The harness also opens the units of work no request caused (the chain's timers).
        self.withdrawals = WithdrawalService(
            self.clock, ASSETS, WithdrawalSettings(COOLING_OFF_MS, CONFIRMATION_MS), self
        )

    def run(self, work: Callable[[CustodianService, UnitOfWork], ResultT]) -> ResultT:
        with self.store.unit_of_work() as uow:
            return work(self.service, uow)

    def run_work(self, work: Callable[[UnitOfWork], ResultT]) -> ResultT:
        with self.store.unit_of_work() as uow:
            return work(uow)

    # What the withdrawal service's timers and start-up use to open their units of work.
    write = run_work
    read = run_work

    def run_statement_use_case(
        self, statement: SignedStatement, work: Callable[[UnitOfWork], RecordedStatement]
    ) -> RecordedStatement:
        """Runs a statement use case as the servicer does: a refusal leaves its own audit record."""

        def record_refusal(uow: UnitOfWork, error: ServiceError) -> None:
            self.service.record_statement_refusal(uow, statement.statement_name, error.reason)

        return run_recording_refusal(self.run_work, self.run_work, work, record_refusal)

    def audit_records(self) -> list[AuditRecord]:
        records: list[AuditRecord] = []
        with self.store.unit_of_work() as uow:
            while page := uow.audit.list_after(records[-1].sequence if records else 0, AUDIT_PAGE_SIZE, None):
                records += page
        return records

    def create_party(self, name: str) -> None:
        kind = PartyKind.CLIENT if name.startswith("clients/") else PartyKind.EXCHANGE
        self.run(lambda service, uow: service.create_party(uow, CreateParty(name, kind, name)))

    def register_key(self, exchange: str) -> None:
        command = RegisterExchangeKey(exchange, exchange_public_key(exchange))
        self.run(lambda service, uow: service.register_exchange_key(uow, command))

    def deposit(self, deposit_id: str, owner: str, asset: str, amount_units: int) -> None:
        command = SimulateDeposit(deposit_id, owner, asset, amount_units)
        self.run(lambda service, uow: service.simulate_deposit(uow, command))

    def connect(self, client_id: str, exchange_id: str, activate: bool = True) -> ConnectionName:
        """Creates the connection (PENDING) and, unless told not to, activates it as the bridge does."""
        name = ConnectionName(client_id, exchange_id)
        self.run(lambda service, uow: service.create_connection(uow, name))
        if activate:
            self.run(lambda service, uow: service.activate_connection(uow, name))
        return name

    def lock(
        self, connection: ConnectionName, allocation_id: str, asset: str, amount_units: int
    ) -> AllocationResult:
        """Locks as the servicer does: a refusal rolls back, then records the allocation REJECTED."""
        command = LockAllocation(connection, allocation_id, asset, amount_units)
        return run_recording_refusal(
            self.run_work,
            self.run_work,
            lambda uow: self.service.lock_allocation(uow, command),
            lambda uow, error: self.service.allocations.record_lock_refusal(uow, command, error),
        )

    def submit(self, content: StatementContent, signature: bytes | None = None) -> RecordedStatement:
        content, good_signature = signed(content)
        statement = parse_statement(content, signature or good_signature, ASSETS)
        return self.run_statement_use_case(
            statement, lambda uow: self.service.submit_statement(uow, statement)
        )

    def execute(self, content: StatementContent) -> RecordedStatement:
        statement = parse_statement(*signed(content), ASSETS)
        return self.run_statement_use_case(
            statement, lambda uow: self.service.execute_statement(uow, statement.statement_name)
        )

    def dispute(
        self, content: StatementContent, connection: ConnectionName, asset: str, reason: str = "price"
    ) -> RecordedStatement:
        statement = parse_statement(*signed(content), ASSETS)
        entry = EntryReference(statement.statement_name, connection, asset)
        return self.run_statement_use_case(
            statement, lambda uow: self.service.statement_settlement.dispute_entry(uow, entry, reason)
        )

    def resolve(self, content: StatementContent, connection: ConnectionName, asset: str) -> RecordedStatement:
        statement = parse_statement(*signed(content), ASSETS)
        entry = EntryReference(statement.statement_name, connection, asset)
        return self.run_statement_use_case(
            statement, lambda uow: self.service.statement_settlement.resolve_entry(uow, entry)
        )

    def settle_due(self, content: StatementContent) -> RecordedStatement | None:
        """What the top-up deadline timer does."""
        name = parse_statement(*signed(content), ASSETS).statement_name
        return self.run_work(lambda uow: self.service.statement_settlement.settle_due(uow, name))

    def claims(self, party: str | None = None) -> list[Claim]:
        return self.run_work(lambda uow: uow.claims.list_after(party, 0, 1000))

    def balance(self, account: str, asset: str) -> int:
        return self.store.snapshot()[0].get((account, asset), 0)

    # Withdrawals: a broadcast withdrawal's confirmation is scheduled after its unit of work
    # committed, as the servicer does.

    def whitelist(self, client_id: str, asset: str, address: str, label: str = "") -> WhitelistAddress:
        command = CreateWhitelistAddress(client_id, asset, address, label)
        return self.run_work(lambda uow: self.withdrawals.create_whitelist_address(uow, command))

    def set_policy(self, policy: WithdrawalPolicy) -> WithdrawalPolicy:
        return self.run_work(lambda uow: self.withdrawals.set_withdrawal_policy(uow, policy))

    def withdraw(self, client_id: str, asset: str, amount_units: int, address: str) -> Withdrawal:
        command = CreateWithdrawal(client_id, asset, amount_units, address)
        return self._scheduled(self.run_work(lambda uow: self.withdrawals.create_withdrawal(uow, command)))

    def approve(self, name: WithdrawalName, approver: str) -> Withdrawal:
        return self._scheduled(
            self.run_work(lambda uow: self.withdrawals.approve_withdrawal(uow, name, approver))
        )

    def cancel(self, name: WithdrawalName) -> Withdrawal:
        return self.run_work(lambda uow: self.withdrawals.cancel_withdrawal(uow, name))

    def withdrawal(self, name: WithdrawalName) -> Withdrawal:
        return self.run_work(lambda uow: self.withdrawals.get_withdrawal(uow, name))

    def advance(self, duration_ms: int) -> int:
        """Moves sandbox time on; returns how many timers (chain confirmations) ran."""
        return self.clock.advance(duration_ms)

    def _scheduled(self, withdrawal: Withdrawal) -> Withdrawal:
        if withdrawal.state is WithdrawalState.BROADCAST:
            self.withdrawals.schedule_confirmation(withdrawal)
        return withdrawal
