"""The custodian's use cases; each runs inside a unit of work the caller commits or rolls back."""

from __future__ import annotations

from collections.abc import Sequence

from custodian_sim.domain import statements as statement_rules
from custodian_sim.domain.audit import AuditRecord, refused
from custodian_sim.domain.connections import Connection, new_connection, require_connection
from custodian_sim.domain.defaults import check_not_frozen, transfer_accounts
from custodian_sim.domain.deposits import deposit_transfer
from custodian_sim.domain.ledger import Posting, Transfer, balance_keys, post
from custodian_sim.domain.names import (
    WORLD_OWNER,
    ConnectionName,
    StatementName,
    account_owner,
    allocated_account,
)
from custodian_sim.domain.parties import (
    ExchangeKey,
    Party,
    PartyKind,
    check_party_recreate,
    party_kind_of,
    require_party,
)
from custodian_sim.domain.reserves import proof_of_reserves
from custodian_sim.domain.statements import RecordedStatement, SignedStatement, StatementState
from custodian_sim.service_layer.allocations import AllocationLifecycle
from custodian_sim.service_layer.audit import record_change
from custodian_sim.service_layer.commands import (
    AllocationResult,
    CreateParty,
    DepositResult,
    LockAllocation,
    RegisterExchangeKey,
    ReservesReport,
    SimulateDeposit,
    TransferPage,
    UnlockAllocation,
)
from custodian_sim.service_layer.defaults import (
    DefaultProcedure,
    check_exchange_not_defaulted,
    check_settlement_not_frozen,
)
from custodian_sim.service_layer.ports import Balance, SignatureVerifier, TransferQuery
from custodian_sim.service_layer.statement_settlement import (
    MINUTE_MS,
    TOP_UP_WINDOW_MINUTES_DEFAULT,
    StatementSettlement,
)
from custodian_sim.service_layer.unit_of_work import UnitOfWork
from service_kit.clock import Clock
from service_kit.money import AssetScales
from service_kit.signing import key_fingerprint

# What a created resource was before: nothing.
CREATED_FROM = ""


class CustodianService:
    """Parties, deposits, connections, allocations and settlement statements."""

    def __init__(
        self,
        clock: Clock,
        assets: AssetScales,
        verifier: SignatureVerifier,
        top_up_window_ms: int = TOP_UP_WINDOW_MINUTES_DEFAULT * MINUTE_MS,
    ) -> None:
        self._clock = clock
        self._assets = assets
        self._verifier = verifier
        # Statements execute entry by entry; their transfers pass the same posting checks.
        self.statement_settlement = StatementSettlement(clock, assets, top_up_window_ms, self._post)
        # The allocation lifecycle and the default procedure post through this service, so
        # every posting passes the same overdraft, conflict and frozen-account checks.
        self.allocations = AllocationLifecycle(clock, self)
        self.defaults = DefaultProcedure(clock, assets, self.statement_settlement, self)

    # Parties and keys.

    def create_party(self, uow: UnitOfWork, command: CreateParty) -> Party:
        """Registers a party; registering the same party again returns it."""
        requested = Party(command.name, command.kind, command.display_name, self._clock.now_ms())
        existing = uow.parties.get(command.name)
        if existing is not None:
            return check_party_recreate(existing, requested)
        uow.parties.add(requested)
        self._audit(uow, requested.name, CREATED_FROM, "REGISTERED", requested.name)
        return requested

    def register_exchange_key(self, uow: UnitOfWork, command: RegisterExchangeKey) -> ExchangeKey:
        """Records the exchange's statement key; a new key replaces the old one (key rotation)."""
        require_party(uow.parties.get(command.exchange), command.exchange, PartyKind.EXCHANGE)
        existing = uow.exchange_keys.get(command.exchange)
        if existing is not None and existing.public_key == command.public_key:
            return existing
        key = ExchangeKey(command.exchange, command.public_key, self._clock.now_ms())
        uow.exchange_keys.put(key)
        before = CREATED_FROM if existing is None else f"KEY {key_fingerprint(existing.public_key)}"
        self._audit(
            uow, f"{command.exchange}/key", before, f"KEY {key_fingerprint(key.public_key)}", command.exchange
        )
        return key

    # Ledger.

    def simulate_deposit(self, uow: UnitOfWork, command: SimulateDeposit) -> DepositResult:
        """Books a deposit from `world/chain` into the owner's available or settlement account."""
        party = require_party(uow.parties.get(command.owner), command.owner, party_kind_of(command.owner))
        transfer = deposit_transfer(
            party, command.deposit_id, command.asset, command.amount_units, self._clock.now_ms()
        )
        self._post_audited(uow, [transfer], party.name)
        key = (transfer.to_account, transfer.asset)
        return DepositResult(
            transfer.id, transfer.to_account, transfer.asset, uow.ledger.balances([key])[key]
        )

    def list_balances(self, uow: UnitOfWork, owner: str) -> list[Balance]:
        """Every balance of the owner's accounts; `world` is the outside world (`world/chain`)."""
        self._require_owner_exists(uow, owner)
        return uow.ledger.balances_of_owner(owner)

    def allocated_to(self, uow: UnitOfWork, exchange: str) -> list[Balance]:
        """The `allocated` balance of every connection to the exchange, sorted by account then asset."""
        self._require_owner_exists(uow, exchange)
        return uow.ledger.allocated_to(exchange.removeprefix("exchanges/"))

    def list_transfers(self, uow: UnitOfWork, query: TransferQuery, page_size: int) -> TransferPage:
        """One page of the transfers touching the owner's accounts, oldest first."""
        assert page_size > 0, page_size
        self._require_owner_exists(uow, query.owner)
        # One more than the page tells whether another page follows, without an empty last page.
        found = uow.ledger.list_transfers(query, page_size + 1)
        page = tuple(found[:page_size])
        next_after_sequence = page[-1].sequence if len(found) > page_size else None
        return TransferPage(page, next_after_sequence)

    def proof_of_reserves(self, uow: UnitOfWork) -> ReservesReport:
        """Per asset: held on the chain, owed to every client and exchange, and the difference."""
        return ReservesReport(self._clock.now_ms(), tuple(proof_of_reserves(uow.ledger.owner_totals())))

    def _require_owner_exists(self, uow: UnitOfWork, owner: str) -> None:
        if owner != WORLD_OWNER:
            require_party(uow.parties.get(owner), owner, party_kind_of(owner))

    # Connections and allocations.

    def create_connection(self, uow: UnitOfWork, name: ConnectionName) -> Connection:
        """Creates the connection in state PENDING; creating it again returns the existing one."""
        require_party(uow.parties.get(name.client), name.client, PartyKind.CLIENT)
        require_party(uow.parties.get(name.exchange), name.exchange, PartyKind.EXCHANGE)
        existing = uow.connections.get(name)
        if existing is not None:
            return existing
        check_exchange_not_defaulted(uow, name.exchange)
        connection = new_connection(name, self._clock.now_ms())
        uow.connections.add(connection)
        self._audit(uow, name.name, CREATED_FROM, connection.state.value, name.client)
        return connection

    def activate_connection(self, uow: UnitOfWork, name: ConnectionName) -> Connection:
        """PENDING -> ACTIVE, once the exchange has opened the account that mirrors the connection."""
        connection = require_connection(uow.connections.get(name), name)
        return self._change_connection(uow, connection, connection.activated())

    def close_connection(self, uow: UnitOfWork, name: ConnectionName) -> Connection:
        """PENDING or ACTIVE -> CLOSED, when nothing is allocated to the connection any more."""
        connection = require_connection(uow.connections.get(name), name)
        account = allocated_account(name)
        balances = uow.ledger.balances([(account, asset) for asset in sorted(self._assets.scales)])
        allocated_units = {asset: units for (_, asset), units in balances.items()}
        return self._change_connection(uow, connection, connection.closed(allocated_units))

    def list_connections(self, uow: UnitOfWork, party: str) -> list[Connection]:
        """Every connection of a client, or every connection to an exchange, sorted by name."""
        require_party(uow.parties.get(party), party, party_kind_of(party))
        return uow.connections.list_for_party(party)

    def _change_connection(self, uow: UnitOfWork, before: Connection, after: Connection) -> Connection:
        if after.state is not before.state:
            uow.connections.update(after)
            self._audit(uow, after.name.name, before.state.value, after.state.value, after.name.client)
        return after

    def lock_allocation(self, uow: UnitOfWork, command: LockAllocation) -> AllocationResult:
        """Records the allocation RESERVED and moves `available -> allocated`, once per allocation id."""
        return self.allocations.lock(uow, command)

    def unlock_allocation(self, uow: UnitOfWork, command: UnlockAllocation) -> AllocationResult:
        """Moves `allocated -> available` once per unlock id (deallocations)."""
        return self.allocations.unlock(uow, command)

    # Statements.

    def submit_statement(self, uow: UnitOfWork, statement: SignedStatement) -> RecordedStatement:
        """Verifies a statement and records it PENDING; the same statement again returns the record."""
        require_party(uow.parties.get(statement.exchange), statement.exchange, PartyKind.EXCHANGE)
        key = uow.exchange_keys.get(statement.exchange)
        public_key = statement_rules.require_key(key.public_key if key else None, statement.exchange)
        recorded = uow.statements.get(statement.name)
        if recorded is not None and recorded.statement.identical_to(statement):
            return recorded
        # The signature is checked before anything else about the content, so a forger
        # learns nothing from the answer but that the signature is wrong.
        if not self._verifier.verify(public_key, statement.content, statement.signature):
            raise statement_rules.signature_invalid(statement)
        if recorded is not None:
            statement_rules.check_resubmission(recorded, statement)
        statement_rules.check_nonce_unused(uow.statements.nonce_used(statement.content.nonce), statement)
        check_settlement_not_frozen(uow, statement.statement_name)
        statement_rules.check_continuity(statement, uow.statements.latest(statement.exchange))
        self._require_active_connections(uow, statement)
        # The loss bound is applied per entry at execution: a loss beyond its allocation fails
        # that entry alone, so it does not refuse the statement here.
        recorded = RecordedStatement(statement, StatementState.PENDING, (), self._clock.now_ms())
        uow.statements.add(recorded)
        self._audit(uow, statement.name, CREATED_FROM, recorded.state.value, statement.exchange)
        return recorded

    def execute_statement(self, uow: UnitOfWork, name: StatementName) -> RecordedStatement:
        """Settles what can settle in one transaction, at most once, or waits for a top-up.

        Executing an executed statement returns the record; see StatementSettlement.execute.
        """
        return self.statement_settlement.execute(uow, name)

    def record_statement_refusal(self, uow: UnitOfWork, name: StatementName, reason: str) -> None:
        """Appends the audit record of a refused submission or execution, after it rolled back."""
        recorded = uow.statements.get(name.name)
        before = CREATED_FROM if recorded is None else recorded.state.value
        self._audit(uow, name.name, before, refused(reason), name.exchange)

    # Audit log.

    def list_audit_records(
        self, uow: UnitOfWork, after_sequence: int, limit: int, owner: str | None
    ) -> list[AuditRecord]:
        """Records after `after_sequence`, oldest first; only those of `owner` unless it is None."""
        assert after_sequence >= 0 and limit > 0, (after_sequence, limit)
        return uow.audit.list_after(after_sequence, limit, owner)

    def get_statement(self, uow: UnitOfWork, name: StatementName) -> RecordedStatement:
        """Returns a recorded statement."""
        return statement_rules.require_statement(uow.statements.get(name.name), name.name)

    def _require_active_connections(self, uow: UnitOfWork, statement: SignedStatement) -> None:
        # Keyed by the name's text, and sorted as ConnectionName sorts (by client, then exchange)
        # on plain tuples: a statement names up to 100,000 connections.
        names = list({entry.connection.name: entry.connection for entry in statement.entries}.values())
        names.sort(key=lambda name: (name.client_id, name.exchange_id))
        connections = uow.connections.get_many(names)
        for name in names:
            require_connection(connections.get(name), name).require_active()

    def _audit(self, uow: UnitOfWork, resource: str, before: str, after: str, owner: str) -> None:
        record_change(uow, self._clock.now_ms(), resource, before, after, owner)

    def _post_audited(self, uow: UnitOfWork, transfers: Sequence[Transfer], owner: str | None) -> Posting:
        """Posts transfers and appends one audit record per newly posted one (a retry adds none).

        Each record is titled to `owner`, or with None to the owner of the transfer's destination.
        """
        posting = self._post(uow, transfers)
        for transfer in posting.transfers:
            amount = self._assets.format(transfer.asset, transfer.amount_units)
            description = (
                f"{transfer.kind.value} {amount} {transfer.asset} "
                f"{transfer.from_account} -> {transfer.to_account}"
            )
            self._audit(
                uow, transfer.id, CREATED_FROM, description, owner or account_owner(transfer.to_account)
            )
        return posting

    def post_transfers(self, uow: UnitOfWork, transfers: Sequence[Transfer], owner: str | None) -> Posting:
        """Posts linked transfers for the other use cases, with one audit record per new one.

        The records are titled to `owner`, or with None to each destination account's owner.
        """
        return self._post_audited(uow, transfers, owner)

    def _post(self, uow: UnitOfWork, transfers: Sequence[Transfer]) -> Posting:
        """Posts linked transfers: skips those posted before; refuses conflicts, overdrafts, frozen ones."""
        recorded = uow.ledger.transfers_by_id([transfer.id for transfer in transfers])
        # A transfer posted before an account froze is still a retry that changes nothing.
        new_transfers = [transfer for transfer in transfers if transfer.id not in recorded]
        check_not_frozen(new_transfers, uow.frozen_accounts.frozen_among(transfer_accounts(new_transfers)))
        balances = uow.ledger.balances(balance_keys(transfers))
        posting = post(transfers, recorded, balances, self._assets)
        if not posting.is_empty:
            uow.ledger.append(posting.transfers, posting.balances)
        return posting
