"""Property: random deposits, locks, unlocks and statements keep the ledger balanced and exactly-once.

After every step the ledger sums to zero per asset, the proof of reserves balances, no
allocation is negative, no transfer id appears twice, and every refused statement (forged,
replayed nonce, changed content, out of sequence, over-claiming) left no transfer and exactly
one audit record.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, event, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from custodian_sim.domain.audit import REFUSED_PREFIX
from custodian_sim.domain.ledger import may_go_negative
from custodian_sim.domain.names import WORLD_OWNER, ConnectionName
from custodian_sim.domain.statements import StatementState
from custodian_sim.service_layer.commands import UnlockAllocation
from custodian_sim.service_layer.ports import TransferQuery
from service_kit.errors import ServiceError
from service_kit.statement import StatementContent
from tests.unit.custodian_sim.harness import ASSETS, Harness
from tests.unit.custodian_sim.statement_factory import exchange_private_key, statement_content
from tests.unit.custodian_sim.stores import FakeStoreWithSnapshot, Snapshot, SqliteStore, Store

OKX = "exchanges/okx-sim"
CLIENT_IDS = ("acme", "beta")
OWNERS = ("clients/acme", "clients/beta", OKX)
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

Operation = Callable[[], object]
JOURNAL_PAGE_SIZE = 1000


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
                    partial(self.harness.lock, connection, f"{client_id}-open-{asset}", asset, 8_000)
                )

    def apply(self, operation: Operation) -> bool:
        """Applies an operation and then again: a refusal changes nothing, a retry changes nothing."""
        before = self.harness.store.snapshot()
        try:
            operation()
        except ServiceError:
            assert self.harness.store.snapshot() == before, "a refused operation changed the ledger"
            return False
        after = self.harness.store.snapshot()
        audit_count = len(self.harness.audit_records())
        operation()
        assert self.harness.store.snapshot() == after, "re-applying an operation id changed the ledger"
        assert len(self.harness.audit_records()) == audit_count, "a retry appended an audit record"
        self.succeeded.append(operation)
        return True

    def submit(self, content: StatementContent, signature: bytes | None) -> bool:
        """Submits a statement; a refusal must leave exactly one audit record naming it."""
        audit_count = len(self.harness.audit_records())
        accepted = self.apply(lambda: self.harness.submit(content, signature))
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
        self.apply(lambda: self.harness.lock(connection, lock_id, asset, units))

    @rule(
        client_id=st.sampled_from(CLIENT_IDS),
        asset=st.sampled_from(ASSET_CODES),
        units=amounts,
        unlock_id=operation_ids,
    )
    def unlock(self, client_id: str, asset: str, units: int, unlock_id: str) -> None:
        command = UnlockAllocation(ConnectionName(client_id, "okx-sim"), unlock_id, asset, units)
        self.apply(lambda: self.harness.run(lambda service, uow: service.unlock_allocation(uow, command)))

    @rule(statement_entries=entries, trade_count=st.integers(0, 5), forged=rarely, replay_nonce=rarely)
    def submit_next_statement(
        self,
        statement_entries: dict[tuple[str, str], int],
        trade_count: int,
        forged: bool,
        replay_nonce: bool,
    ) -> None:
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
        if self.apply(lambda: self.harness.execute(pending)):
            event("statement executed")
            self.pending = None

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
    executed_ids = [
        id_ for state, ids in statements.values() if state is StatementState.SUCCEEDED for id_ in ids
    ]
    assert len(executed_ids) == len(set(executed_ids))
    assert set(executed_ids) <= set(transfers)


class SqliteLedgerMachine(LedgerMachine):
    """The same machine over the real SQLite adapter."""

    def make_store(self) -> Store:
        self.directory = Path(tempfile.mkdtemp(prefix="custodian-property-"))
        return SqliteStore(self.directory / "custodian.sqlite3", ASSETS)


LedgerMachine.TestCase.settings = settings(
    max_examples=100, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
SqliteLedgerMachine.TestCase.settings = settings(
    max_examples=12, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestLedgerProperties = LedgerMachine.TestCase
TestSqliteLedgerProperties = SqliteLedgerMachine.TestCase
