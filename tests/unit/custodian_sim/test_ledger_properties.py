"""Property: random deposits, locks, statements, disputes, withdrawals and defaults balance the ledger.

After every step the ledger sums to zero per asset, the proof of reserves balances, no
allocation is negative, no transfer id appears twice, every refused step changed no balance,
transfer, statement or withdrawal, and every refused statement (forged, replayed nonce, changed
content, out of sequence) left no transfer and exactly one audit record. Over-claiming
statements fail only their over-claimed entries, each with one claim; statements the exchange
cannot pay wait for a top-up or their deadline; disputed entries are held and resolved later as
adjustments. Allocations are cleared or released once, each with exactly the transfers of its
state; the exchange may default at any step, after which it holds no allocation, its settlement
balance stays frozen, and defaulting again moves nothing. Withdrawals to whitelisted addresses,
under random approval policies, are approved, cancelled and confirmed by the chain as the clock
moves, in among all of that: each takes only from the client's `available` (never from an
allocation), `withdrawing` holds exactly the withdrawals in flight, and every due confirmation
has happened.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import NamedTuple

import hypothesis.strategies as st
from hypothesis import HealthCheck, event, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from custodian_sim.domain.allocation_lifecycle import AllocationState, release_transfer_id
from custodian_sim.domain.allocations import lock_transfer_id
from custodian_sim.domain.audit import REFUSED_PREFIX
from custodian_sim.domain.connections import ConnectionState
from custodian_sim.domain.defaults import DefaultClaimKind, ExchangeDefault
from custodian_sim.domain.entry_outcomes import LOSS_EXCEEDS_ALLOCATION, EntryState
from custodian_sim.domain.ledger import INSUFFICIENT_BALANCE, TransferKind, may_go_negative
from custodian_sim.domain.names import WORLD_OWNER, ConnectionName, allocated_account
from custodian_sim.domain.statement_execution import derive_state
from custodian_sim.domain.statements import EXECUTED_STATES, RecordedStatement, StatementState
from custodian_sim.domain.withdrawals import (
    WITHDRAWALS_LISTED_MAX,
    WhitelistAddress,
    Withdrawal,
    WithdrawalName,
    WithdrawalPolicy,
    WithdrawalState,
)
from custodian_sim.service_layer.commands import UnlockAllocation
from custodian_sim.service_layer.ports import TransferQuery
from custodian_sim.service_layer.services import CustodianService
from custodian_sim.service_layer.unit_of_work import UnitOfWork
from service_kit.errors import ErrorCode, ServiceError
from service_kit.statement import StatementContent
from tests.unit.custodian_sim.harness import ASSETS, COOLING_OFF_MS, MINUTE_MS, TOP_UP_WINDOW_MS, Harness
from tests.unit.custodian_sim.statement_factory import exchange_private_key, statement_content
from tests.unit.custodian_sim.stores import FakeStoreWithSnapshot, Snapshot, SqliteStore, Store

OKX = "exchanges/okx-sim"
CLIENT_IDS = ("acme", "beta")
CLIENTS = ("clients/acme", "clients/beta")
OWNERS = (*CLIENTS, OKX)
ASSET_CODES = ("BTC", "USDT")
# Small amounts and small id pools make overdrafts, over-claims and id collisions common.
amounts = st.integers(min_value=1, max_value=5_000)
operation_ids = st.integers(min_value=0, max_value=12).map(lambda number: f"op-{number}")
entry_amounts = st.integers(min_value=-4_000, max_value=4_000).filter(lambda units: units != 0)
entries = st.dictionaries(
    st.tuples(st.sampled_from(CLIENT_IDS), st.sampled_from(ASSET_CODES)), entry_amounts, max_size=4
)

# Forged signatures and replayed nonces are tried in about one statement in five.
rarely = st.integers(min_value=0, max_value=4).map(lambda number: number == 0)

# Withdrawals: the first address of each client and asset is usable from the start (and drawn
# most often), the others cool off once whitelisted. Amounts reach past `available`, so that
# some would need the allocation to succeed.
ADDRESSES = ("addr-1", "addr-2", "addr-3")
withdrawal_addresses = st.sampled_from((ADDRESSES[0],) * 4 + ADDRESSES[1:])
TREASURER = "clients/acme-treasurer"
APPROVERS = ("admin", TREASURER, "bridge")
withdrawal_amounts = st.integers(min_value=1, max_value=15_000)
# Thresholds below most withdrawal amounts, so that many withdrawals wait for approvals.
thresholds = st.fixed_dictionaries({asset: amounts for asset in ASSET_CODES})
minutes = st.integers(min_value=1, max_value=90).map(lambda count: count * MINUTE_MS)
IN_FLIGHT = (WithdrawalState.PENDING_APPROVAL, WithdrawalState.BROADCAST)
# The transfers each withdrawal state has posted, by the last segment of their id.
WITHDRAWAL_STEPS = {
    WithdrawalState.PENDING_APPROVAL: {"reserve"},
    WithdrawalState.BROADCAST: {"reserve"},
    WithdrawalState.CONFIRMED: {"reserve", "confirm"},
    WithdrawalState.CANCELLED: {"reserve", "cancel"},
}
WITHDRAWAL_KINDS = {
    TransferKind.WITHDRAWAL_RESERVE: "reserve",
    TransferKind.WITHDRAWAL_CANCEL: "cancel",
    TransferKind.WITHDRAWAL_CONFIRM: "confirm",
}

Operation = Callable[[], object]
JOURNAL_PAGE_SIZE = 1000
# Per client: its withdrawals, its whitelist and its approval policy.
WithdrawalRecords = list[tuple[list[Withdrawal], list[WhitelistAddress], WithdrawalPolicy | None]]


class Observation(NamedTuple):
    """What a refused step or a retry must leave exactly as it was."""

    ledger: Snapshot
    withdrawals: WithdrawalRecords
    audit_count: int


def withdrawal_route(step: str, client_id: str) -> tuple[str, str]:
    """Where each withdrawal transfer moves the amount: it never touches an allocation."""
    available, withdrawing = f"clients/{client_id}/available", f"clients/{client_id}/withdrawing"
    return {
        "reserve": (available, withdrawing),
        "cancel": (withdrawing, available),
        "confirm": (withdrawing, "world/chain"),
    }[step]


class LedgerMachine(RuleBasedStateMachine):
    """Drives the use cases; every step is applied, then applied again, and the ledger checked."""

    def __init__(self) -> None:
        super().__init__()
        self.directory: Path | None = None
        self.harness = Harness(self.make_store())
        self.succeeded: list[Operation] = []
        self.last_number = 0
        self.last_trade_sequence = 0
        self.pending: StatementContent | None = None
        self.used_nonces: list[str] = []
        self.accepted: dict[int, StatementContent] = {}
        # Disputed entries of executed statements, waiting to be resolved.
        self.held: list[tuple[StatementContent, ConnectionName, str]] = []
        # The outcome of the exchange's default procedure, once it ran.
        self.defaulted: ExchangeDefault | None = None
        self.withdrawal_names: list[WithdrawalName] = []

    def make_store(self) -> Store:
        return FakeStoreWithSnapshot()

    def teardown(self) -> None:
        store = self.harness.store
        if isinstance(store, SqliteStore):
            store.close()
        if self.directory is not None:
            shutil.rmtree(self.directory)

    @initialize()
    def open_the_world(self) -> None:
        for owner in OWNERS:
            self.harness.create_party(owner)
        self.harness.register_key(OKX)
        for client_id in CLIENT_IDS:
            self.harness.connect(client_id, "okx-sim")
        # Opening balances so that most locks and statements can succeed; the rules then push
        # them toward their limits.
        for owner in OWNERS:
            for asset in ASSET_CODES:
                assert self.apply(
                    partial(self.harness.deposit, f"{owner}/open-{asset}", owner, asset, 20_000)
                )
        for client_id in CLIENT_IDS:
            connection = ConnectionName(client_id, "okx-sim")
            for asset in ASSET_CODES:
                assert self.apply(
                    partial(self.harness.lock, connection, f"{client_id}-open-{asset}", asset, 8_000),
                    records_refusal=True,
                )
            # A usable address per asset and a policy that asks two approvers above 3,000 units;
            # the rules add addresses that cool off and change the policies.
            for asset in ASSET_CODES:
                self.harness.whitelist(client_id, asset, ADDRESSES[0])
            policy = WithdrawalPolicy(
                f"clients/{client_id}", {"BTC": 3_000, "USDT": 3_000}, ("admin", TREASURER), 2
            )
            self.harness.set_policy(policy)
        self.harness.advance(COOLING_OFF_MS)

    def observe(self) -> Observation:
        def withdrawal_records(uow: UnitOfWork) -> WithdrawalRecords:
            return [
                (
                    uow.withdrawals.list_for_client(client, WITHDRAWALS_LISTED_MAX),
                    uow.whitelist_addresses.list_for_client(client),
                    uow.withdrawal_policies.get(client),
                )
                for client in CLIENTS
            ]

        return Observation(
            self.harness.store.snapshot(),
            self.harness.run_work(withdrawal_records),
            len(self.harness.audit_records()),
        )

    def attempt(self, operation: Operation, records_refusal: bool = False) -> ServiceError | None:
        """Runs a step once and returns its refusal, if any; a refused step changes nothing.

        Only locks and statements record their refusal (a REJECTED allocation, an audit
        record); every other refused step leaves the audit log as it was.
        """
        before = self.observe()
        try:
            operation()
        except ServiceError as error:
            after = self.observe()
            assert after.ledger == before.ledger, "a refused step changed the ledger"
            assert after.withdrawals == before.withdrawals, "a refused step changed a withdrawal"
            assert records_refusal or after.audit_count == before.audit_count, "a refusal was audited"
            event(f"refused: {error.reason}")
            return error
        return None

    def apply(self, operation: Operation, replayable: bool = True, records_refusal: bool = False) -> bool:
        """Applies an operation and then again: a refusal changes nothing, a retry changes nothing.

        A replayable operation changes nothing whenever it is applied again later; executing a
        statement that waits for a top-up is not, because a deposit in between lets it settle.
        """
        if self.attempt(operation, records_refusal) is not None:
            return False
        after = self.observe()
        operation()
        assert self.observe() == after, "re-applying an operation id changed the custodian's state"
        if replayable:
            self.succeeded.append(operation)
        return True

    def submit(self, content: StatementContent, signature: bytes | None) -> bool:
        """Submits a statement; a refusal must leave exactly one audit record naming it."""
        audit_count = len(self.harness.audit_records())
        accepted = self.apply(lambda: self.harness.submit(content, signature), records_refusal=True)
        if not accepted:
            records = self.harness.audit_records()
            assert len(records) == audit_count + 1, "a refused statement left no (or several) records"
            assert records[-1].resource == content.name
            assert records[-1].after.startswith(REFUSED_PREFIX), records[-1]
            event(f"refused: {records[-1].after}")
        return accepted

    @rule(
        owner=st.sampled_from(OWNERS),
        asset=st.sampled_from(ASSET_CODES),
        units=amounts,
        deposit_id=operation_ids,
    )
    def deposit(self, owner: str, asset: str, units: int, deposit_id: str) -> None:
        self.apply(lambda: self.harness.deposit(f"{owner}/{deposit_id}", owner, asset, units))

    @rule(
        client_id=st.sampled_from(CLIENT_IDS),
        asset=st.sampled_from(ASSET_CODES),
        units=amounts,
        lock_id=operation_ids,
    )
    def lock(self, client_id: str, asset: str, units: int, lock_id: str) -> None:
        connection = ConnectionName(client_id, "okx-sim")
        self.apply(lambda: self.harness.lock(connection, lock_id, asset, units), records_refusal=True)

    @rule(
        client_id=st.sampled_from(CLIENT_IDS),
        asset=st.sampled_from(ASSET_CODES),
        units=amounts,
        unlock_id=operation_ids,
    )
    def unlock(self, client_id: str, asset: str, units: int, unlock_id: str) -> None:
        command = UnlockAllocation(ConnectionName(client_id, "okx-sim"), unlock_id, asset, units)
        self.apply(lambda: self.harness.run(lambda service, uow: service.unlock_allocation(uow, command)))

    @rule(
        statement_entries=entries,
        trade_count=st.integers(0, 5),
        forged=rarely,
        replay_nonce=rarely,
        over_claim=st.none() | st.tuples(st.sampled_from(CLIENT_IDS), st.sampled_from(ASSET_CODES), amounts),
        unfunded_gain=st.none()
        | st.tuples(st.sampled_from(CLIENT_IDS), st.sampled_from(ASSET_CODES), amounts),
    )
    def submit_next_statement(
        self,
        statement_entries: dict[tuple[str, str], int],
        trade_count: int,
        forged: bool,
        replay_nonce: bool,
        over_claim: tuple[str, str, int] | None = None,
        unfunded_gain: tuple[str, str, int] | None = None,
    ) -> None:
        if unfunded_gain is not None:
            # A gain larger than the exchange's settlement account by `excess` units.
            client_id, asset, excess = unfunded_gain
            funds = self.harness.balance(f"{OKX}/settlement", asset)
            statement_entries = {**statement_entries, (client_id, asset): funds + excess}
            event("statement with an unfunded gain")
        if over_claim is not None:
            # A loss larger than the connection's allocation by `excess` units.
            client_id, asset, excess = over_claim
            allocated = self.harness.balance(allocated_account(ConnectionName(client_id, "okx-sim")), asset)
            statement_entries = {**statement_entries, (client_id, asset): -(allocated + excess)}
            event("over-claiming statement")
        number = self.last_number + 1
        content = statement_content(
            OKX,
            number,
            [
                (ConnectionName(client_id, "okx-sim").name, asset, ASSETS.format(asset, units))
                for (client_id, asset), units in statement_entries.items()
            ],
            first_trade_sequence=self.last_trade_sequence + 1,
            last_trade_sequence=self.last_trade_sequence + trade_count,
            nonce=self.used_nonces[0] if replay_nonce and self.used_nonces else None,
        )
        signature = exchange_private_key(OKX, seed=7).sign(content.canonical_bytes()) if forged else None
        accepted = self.submit(content, signature)
        assert not (accepted and (forged or (replay_nonce and self.used_nonces)))
        event(f"statement accepted: {accepted}")
        if accepted:
            self.last_number = number
            self.last_trade_sequence = content.last_trade_sequence
            self.pending = content
            self.used_nonces.append(content.nonce)
            self.accepted[number] = content

    @precondition(lambda self: self.accepted)
    @rule(data=st.data(), statement_entries=entries)
    def change_a_known_statement(
        self, data: st.DataObject, statement_entries: dict[tuple[str, str], int]
    ) -> None:
        """Resubmits a recorded statement's name with other content, validly signed: always refused."""
        number = data.draw(st.sampled_from(sorted(self.accepted)))
        known = self.accepted[number]
        changed = statement_content(
            OKX,
            number,
            [
                (ConnectionName(client_id, "okx-sim").name, asset, ASSETS.format(asset, units))
                for (client_id, asset), units in statement_entries.items()
            ],
            first_trade_sequence=known.first_trade_sequence,
            last_trade_sequence=known.last_trade_sequence + 1,
            nonce=known.nonce,
        )
        assert not self.submit(changed, None)

    @precondition(lambda self: self.pending is not None)
    @rule()
    def execute_pending_statement(self) -> None:
        pending = self.pending
        assert pending is not None
        if self.apply(lambda: self.harness.execute(pending), replayable=False, records_refusal=True):
            self.after_execution(pending, lambda: self.harness.execute(pending))

    def after_execution(self, content: StatementContent, execute: Operation) -> None:
        """Notes an executed statement's held entries; a statement still waiting stays pending."""
        recorded = self.recorded(content.name)
        event(f"statement {recorded.state.value}")
        if recorded.state not in EXECUTED_STATES:
            assert recorded.state is StatementState.AWAITING_TOP_UP
            return
        self.pending = None
        self.succeeded.append(execute)
        for outcome in recorded.entry_outcomes():
            if outcome.state is EntryState.DISPUTED:
                self.held.append((content, outcome.connection, outcome.asset))

    def recorded(self, name: str) -> RecordedStatement:
        found = self.harness.run_work(lambda uow: uow.statements.get(name))
        assert found is not None
        return found

    @precondition(lambda self: self.pending is not None)
    @rule()
    def reach_the_top_up_deadline(self) -> None:
        """The deadline timer of a statement waiting for a top-up fires (nothing happens otherwise)."""
        pending = self.pending
        assert pending is not None
        self.harness.clock.advance(TOP_UP_WINDOW_MS)
        if self.harness.settle_due(pending) is not None:
            self.after_execution(pending, lambda: self.harness.execute(pending))

    @precondition(lambda self: self.pending is not None and self.pending.entries)
    @rule(data=st.data())
    def dispute_a_pending_entry(self, data: st.DataObject) -> None:
        pending = self.pending
        assert pending is not None
        entry = data.draw(st.sampled_from(pending.entries))
        connection = ConnectionName.parse(entry.connection, "connection")
        # Disputing again is a no-op; once the statement executed it is refused, so not replayable.
        assert self.apply(
            lambda: self.harness.dispute(pending, connection, entry.asset),
            replayable=False,
            records_refusal=True,
        )
        event("entry disputed")

    @precondition(lambda self: self.held)
    @rule(data=st.data())
    def resolve_a_held_entry(self, data: st.DataObject) -> None:
        content, connection, asset = data.draw(st.sampled_from(self.held))
        before = self.harness.store.snapshot()
        try:
            self.harness.resolve(content, connection, asset)
        except ServiceError as error:
            expected = "ACCOUNT_FROZEN" if self.defaulted else "INSUFFICIENT_SETTLEMENT_FUNDS"
            assert error.reason == expected, error.reason
            assert self.harness.store.snapshot() == before
            event("resolution refused")
            return
        self.held.remove((content, connection, asset))
        after = self.harness.store.snapshot()
        error_reason = ""
        try:
            self.harness.resolve(content, connection, asset)
        except ServiceError as error:
            error_reason = error.reason
        assert error_reason == "ENTRY_NOT_DISPUTED", "a resolved entry is resolved once"
        assert self.harness.store.snapshot() == after
        event("entry resolved")

    @rule(statement_entries=entries, trade_count=st.integers(0, 5))
    def settle_a_period(self, statement_entries: dict[tuple[str, str], int], trade_count: int) -> None:
        """The bridge's cycle: a genuine statement, submitted and executed at once."""
        self.submit_next_statement(statement_entries, trade_count, forged=False, replay_nonce=False)
        if self.pending is not None:
            self.execute_pending_statement()

    @precondition(lambda self: self.succeeded)
    @rule(data=st.data())
    def replay_an_earlier_operation(self, data: st.DataObject) -> None:
        operation = data.draw(st.sampled_from(self.succeeded))
        before = self.harness.store.snapshot()
        operation()
        assert self.harness.store.snapshot() == before

    @rule(
        client_id=st.sampled_from(CLIENT_IDS),
        asset=st.sampled_from(ASSET_CODES),
        address=st.sampled_from(ADDRESSES),
    )
    def whitelist_an_address(self, client_id: str, asset: str, address: str) -> None:
        # Whitelisting an address twice is refused (WHITELIST_ADDRESS_EXISTS), so once only.
        if self.attempt(lambda: self.harness.whitelist(client_id, asset, address)) is None:
            event("address whitelisted")

    @rule(
        client_id=st.sampled_from(CLIENT_IDS),
        policy_thresholds=thresholds,
        approvers=st.lists(st.sampled_from(APPROVERS), min_size=1, max_size=3, unique=True),
        data=st.data(),
    )
    def set_a_withdrawal_policy(
        self, client_id: str, policy_thresholds: dict[str, int], approvers: list[str], data: st.DataObject
    ) -> None:
        quorum = data.draw(st.integers(min_value=1, max_value=len(approvers)))
        policy = WithdrawalPolicy(f"clients/{client_id}", policy_thresholds, tuple(approvers), quorum)
        # Setting the same policy again changes nothing; an older one replayed later would.
        assert self.apply(lambda: self.harness.set_policy(policy), replayable=False)

    @rule(
        client_id=st.sampled_from(CLIENT_IDS),
        asset=st.sampled_from(ASSET_CODES),
        units=withdrawal_amounts,
        address=withdrawal_addresses,
    )
    def withdraw(self, client_id: str, asset: str, units: int, address: str) -> None:
        """Requests a withdrawal once: each request is a new withdrawal (the RPC's request_id dedupes)."""
        available = self.harness.balance(f"clients/{client_id}/available", asset)
        created: list[Withdrawal] = []
        refusal = self.attempt(
            lambda: created.append(self.harness.withdraw(client_id, asset, units, address))
        )
        if refusal is None:
            assert units <= available, "a withdrawal took more than the client's available balance"
            self.withdrawal_names.append(created[0].name)
            event(f"withdrawal {created[0].state.value}")
        elif refusal.reason == INSUFFICIENT_BALANCE:
            assert units > available, "a withdrawal within the available balance was refused"
            event("withdrawal over available refused")

    @precondition(lambda self: self.withdrawal_names)
    @rule(data=st.data(), stranger=rarely)
    def approve_a_withdrawal(self, data: st.DataObject, stranger: bool) -> None:
        """Some of a withdrawal's approvers approve it in turn, or a principal its policy did not name.

        A withdrawal still waiting for approvals is chosen when there is one; otherwise any,
        which tries the refusals.
        """
        withdrawals = [self.harness.withdrawal(name) for name in self.withdrawal_names]
        waiting = [w for w in withdrawals if w.state is WithdrawalState.PENDING_APPROVAL]
        withdrawal = data.draw(st.sampled_from(waiting or withdrawals))
        eligible = withdrawal.eligible_approvers
        approvers = (
            ["clients/acme"]
            if stranger or not eligible
            else data.draw(st.lists(st.sampled_from(eligible), min_size=1, max_size=len(eligible)))
        )
        name = withdrawal.name
        for approver in approvers:
            if self.attempt(partial(self.harness.approve, name, approver)) is None:
                event(f"approved: {self.harness.withdrawal(name).state.value}")

    @precondition(lambda self: self.withdrawal_names)
    @rule(data=st.data())
    def cancel_a_withdrawal(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(self.withdrawal_names))
        # Cancelling again, now or later, changes nothing.
        if self.apply(lambda: self.harness.cancel(name)):
            event("withdrawal cancelled")

    @rule(duration_ms=minutes)
    def advance_the_clock(self, duration_ms: int) -> None:
        """Sandbox time passes: addresses finish cooling off and the chain confirms what is due."""
        if self.harness.advance(duration_ms):
            event("the chain confirmed a withdrawal")

    @invariant()
    def ledger_is_balanced_and_only_the_chain_is_negative(self) -> None:
        check_ledger(self.harness.store.snapshot())

    @invariant()
    def reserves_balance_and_no_allocation_is_negative(self) -> None:
        report = self.harness.run(lambda service, uow: service.proof_of_reserves(uow))
        for reserves in report.reserves:
            assert reserves.difference_units == 0, reserves
            assert reserves.held_on_chain_units == -self.harness.balance("world/chain", reserves.asset)
        balances = self.harness.store.snapshot()[0]
        for (account, asset), units in balances.items():
            if account.endswith("/allocated"):
                assert units >= 0, f"{account} {asset} is {units}"

    @invariant()
    def every_failed_entry_left_one_claim_and_settled_entries_their_transfers(self) -> None:
        statements = [self.recorded(content.name) for content in self.accepted.values()]
        transfers = self.harness.store.snapshot()[1]
        expected_claims = []
        for recorded in statements:
            outcomes = recorded.entry_outcomes()
            if recorded.state in EXECUTED_STATES:
                assert recorded.state is derive_state(outcomes), recorded.name
            for outcome in outcomes:
                if outcome.state is EntryState.SETTLED:
                    assert outcome.transfer_id in recorded.transfer_ids
                    transfer = transfers[outcome.transfer_id]
                    assert transfer.amount_units == abs(outcome.amount_units)
                    assert transfer.reference == recorded.name
                elif outcome.state is EntryState.FAILED:
                    client, exchange = outcome.connection.client, outcome.connection.exchange
                    creditor, debtor = (
                        (exchange, client)
                        if outcome.reason == LOSS_EXCEEDS_ALLOCATION
                        else (client, exchange)
                    )
                    expected_claims.append(
                        (
                            creditor,
                            debtor,
                            outcome.asset,
                            abs(outcome.amount_units),
                            recorded.name,
                            outcome.connection,
                        )
                    )
        claims = [
            (draft.creditor, draft.debtor, draft.asset, draft.amount_units, draft.statement, draft.connection)
            for draft in (claim.draft for claim in self.harness.claims())
        ]
        assert sorted(claims, key=repr) == sorted(expected_claims, key=repr)

    @rule(lock_id=operation_ids, clear=st.booleans())
    def clear_or_release_an_allocation(self, lock_id: str, clear: bool) -> None:
        """The bridge's last step (clear) or its compensation (release) of a lock."""

        def finish(service: CustodianService, uow: UnitOfWork) -> object:
            allocation = uow.allocations.get(lock_id)
            if allocation is None:
                raise ServiceError(ErrorCode.NOT_FOUND, "ALLOCATION_NOT_FOUND", lock_id)
            if clear:
                return service.allocations.clear(uow, allocation.name)
            return service.allocations.release(uow, allocation.name, "VENUE_HALTED")

        if self.apply(lambda: self.harness.run(finish)):
            event(f"allocation {'cleared' if clear else 'released'}")

    # Only after some history (the opening deposits and locks are ten operations), so that most
    # runs also exercise the exchange before it fails.
    @precondition(lambda self: len(self.succeeded) >= 16)
    @rule(apply_last_statement=st.booleans())
    def default_the_exchange(self, apply_last_statement: bool) -> None:
        """The exchange defaults; defaulting again returns the same record and moves nothing."""

        def release_on_default() -> ExchangeDefault:
            return self.harness.run(
                lambda service, uow: service.defaults.release_on_default(uow, OKX, apply_last_statement)
            )

        # apply() runs it twice and checks that the second run changed no balance, transfer,
        # statement or audit record.
        assert self.apply(release_on_default)
        record = release_on_default()
        if self.defaulted is None:
            self.defaulted = record
            event(f"exchange defaulted, last statement applied: {record.statement.applied}")
        assert record == self.defaulted
        pending = self.pending
        if pending is not None and self.recorded(pending.name).state in EXECUTED_STATES:
            self.after_execution(pending, lambda: self.harness.execute(pending))

    @invariant()
    def a_defaulted_exchange_holds_no_allocation_and_its_settlement_stays_frozen(self) -> None:
        if self.defaulted is None:
            return
        balances = self.harness.store.snapshot()[0]
        for client_id in CLIENT_IDS:
            connection = ConnectionName(client_id, "okx-sim")
            state = self.harness.run_work(lambda uow, name=connection: uow.connections.get(name))
            assert state is not None and state.state is ConnectionState.DEFAULTED
            for asset in ASSET_CODES:
                assert balances.get((allocated_account(connection), asset), 0) == 0
        frozen = {
            claim.asset: claim.amount_units
            for claim in self.defaulted.claims
            if claim.kind is DefaultClaimKind.FROZEN_SETTLEMENT
        }
        for asset in ASSET_CODES:
            assert balances.get((f"{OKX}/settlement", asset), 0) == frozen.get(asset, 0), asset

    @invariant()
    def every_allocation_has_exactly_the_transfers_of_its_state(self) -> None:
        transfers = self.harness.store.snapshot()[1]
        for state in AllocationState:
            found = self.harness.run_work(
                lambda uow, state=state: uow.allocations.list_for_exchange(OKX, state)
            )
            for allocation in found:
                assert allocation.state is not AllocationState.PENDING
                locked = lock_transfer_id(allocation.allocation_id) in transfers
                assert locked == (allocation.state is not AllocationState.REJECTED), allocation
                released = release_transfer_id(allocation.allocation_id) in transfers
                compensated = (
                    allocation.state is AllocationState.RELEASED and allocation.reason != "EXCHANGE_DEFAULTED"
                )
                assert released == compensated, allocation

    @invariant()
    def no_transfer_id_appears_twice_in_the_journal(self) -> None:
        # Read through the journal itself, which lists rows, not a dict keyed by id.
        ids_by_sequence: dict[int, str] = {}
        for owner in (*OWNERS, WORLD_OWNER):
            after_sequence = 0
            for _ in range(100):
                query = TransferQuery(owner, None, None, None, None, after_sequence)
                found = self.harness.run(
                    lambda service, uow, query=query: service.list_transfers(uow, query, JOURNAL_PAGE_SIZE)
                )
                for posted in found.transfers:
                    ids_by_sequence[posted.sequence] = posted.transfer.id
                if found.next_after_sequence is None:
                    break
                after_sequence = found.next_after_sequence
        ids = list(ids_by_sequence.values())
        assert len(ids) == len(set(ids)), "a transfer id was posted twice"
        assert set(ids) == set(self.harness.store.snapshot()[1])

    @invariant()
    def withdrawals_take_only_from_available_and_withdrawing_holds_those_in_flight(self) -> None:
        observation = self.observe()
        balances, transfers, _ = observation.ledger
        now_ms = self.harness.clock.now_ms()
        withdrawals = {w.name.name: w for listed, _, _ in observation.withdrawals for w in listed}
        assert sorted(withdrawals) == sorted(name.name for name in self.withdrawal_names)
        in_flight: dict[tuple[str, str], int] = {}
        for name, withdrawal in withdrawals.items():
            if withdrawal.state in IN_FLIGHT:
                key = (f"clients/{withdrawal.name.client_id}/withdrawing", withdrawal.asset)
                in_flight[key] = in_flight.get(key, 0) + withdrawal.amount_units
            if withdrawal.state is not WithdrawalState.CANCELLED:
                # The quorum broadcasts a withdrawal at once, never earlier.
                waiting = withdrawal.state is WithdrawalState.PENDING_APPROVAL
                assert waiting == (len(withdrawal.approvers) < withdrawal.approvals_required), withdrawal
            if withdrawal.state is WithdrawalState.BROADCAST:
                assert withdrawal.confirm_time_ms is not None
                assert withdrawal.confirm_time_ms > now_ms, f"the chain did not confirm {name} when due"
            steps = {id_.rsplit("/", 1)[1] for id_ in transfers if id_.startswith(f"{name}/")}
            assert steps == WITHDRAWAL_STEPS[withdrawal.state], (name, withdrawal.state, steps)
        for transfer in transfers.values():
            step = WITHDRAWAL_KINDS.get(transfer.kind)
            if step is not None:
                withdrawal = withdrawals[transfer.reference]
                assert transfer.id == f"{transfer.reference}/{step}"
                assert (transfer.asset, transfer.amount_units) == (withdrawal.asset, withdrawal.amount_units)
                route = withdrawal_route(step, withdrawal.name.client_id)
                assert (transfer.from_account, transfer.to_account) == route, transfer
        withdrawing = {
            key: units for key, units in balances.items() if key[0].endswith("/withdrawing") and units
        }
        assert withdrawing == in_flight


def check_ledger(snapshot: Snapshot) -> None:
    """Conservation, no overdraft, balances maintained with the transfers, no transfer reused."""
    balances, transfers, statements = snapshot
    totals: dict[str, int] = {}
    for (account, asset), units in balances.items():
        totals[asset] = totals.get(asset, 0) + units
        assert units >= 0 or may_go_negative(account), f"{account} {asset} is {units}"
    assert all(total == 0 for total in totals.values()), totals
    # Balances are exactly the fold of the transfers: received minus sent.
    folded: dict[tuple[str, str], int] = {}
    for transfer in transfers.values():
        source, target = (transfer.from_account, transfer.asset), (transfer.to_account, transfer.asset)
        folded[source] = folded.get(source, 0) - transfer.amount_units
        folded[target] = folded.get(target, 0) + transfer.amount_units
    assert {key: units for key, units in balances.items() if units} == {
        key: units for key, units in folded.items() if units
    }
    # Every executed statement names transfers that exist; none is shared.
    executed_ids = [id_ for state, ids in statements.values() if state in EXECUTED_STATES for id_ in ids]
    assert len(executed_ids) == len(set(executed_ids))
    assert set(executed_ids) <= set(transfers)


class SqliteLedgerMachine(LedgerMachine):
    """The same machine over the real SQLite adapter."""

    def make_store(self) -> Store:
        self.directory = Path(tempfile.mkdtemp(prefix="custodian-property-"))
        return SqliteStore(self.directory / "custodian.sqlite3", ASSETS)


LedgerMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
SqliteLedgerMachine.TestCase.settings = settings(
    max_examples=12, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestLedgerProperties = LedgerMachine.TestCase
TestSqliteLedgerProperties = SqliteLedgerMachine.TestCase
