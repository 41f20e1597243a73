"""Statement settlement use cases over the fake store and SQLite: per-entry outcomes, top-up, disputes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from custodian_sim.adapters.signature_verifier import Ed25519SignatureVerifier
from custodian_sim.domain.audit import AuditRecord
from custodian_sim.domain.entry_outcomes import ClaimClosure, ClaimState, EntryState
from custodian_sim.domain.names import ConnectionName, allocated_account, settlement_account
from custodian_sim.domain.statements import RecordedStatement, StatementState
from custodian_sim.service_layer.services import CustodianService
from custodian_sim.service_layer.statement_settlement import TopUpTimers
from custodian_sim.service_layer.unit_of_work import UnitOfWork
from service_kit.errors import ErrorCode, ServiceError
from tests.unit.custodian_sim.harness import ASSETS, TOP_UP_WINDOW_MS, Harness
from tests.unit.custodian_sim.statement_factory import statement_content
from tests.unit.custodian_sim.stores import SqliteStore

OKX = "exchanges/okx-sim"
BTC = 100_000_000
USDT = 1_000_000
ACME = ConnectionName("acme", "okx-sim")
BETA = ConnectionName("beta", "okx-sim")
SETTLEMENT = settlement_account("okx-sim")
STATEMENT = f"{OKX}/statements/1"

ResultT = TypeVar("ResultT")


def refused(action: Callable[[], object]) -> ServiceError:
    with pytest.raises(ServiceError) as raised:
        action()
    return raised.value


def changes(records: list[AuditRecord]) -> list[tuple[str, str, str, str]]:
    return [(record.resource, record.before, record.after, record.owner) for record in records]


def entry_states(recorded: RecordedStatement) -> list[tuple[str, str, EntryState, str, str]]:
    return [
        (outcome.connection.client_id, outcome.asset, outcome.state, outcome.reason, outcome.transfer_id)
        for outcome in recorded.entry_outcomes()
    ]


def stored(world: Harness) -> RecordedStatement:
    """The statement as read back from the store."""
    found = world.run_work(lambda uow: uow.statements.get(STATEMENT))
    assert found is not None
    return found


@pytest.fixture()
def world(harness: Harness) -> Harness:
    return build_world(harness)


def build_world(harness: Harness) -> Harness:
    """Allocated: acme 2 BTC and 100,000 USDT, beta 1 BTC; the exchange holds 10 BTC and 1,000 USDT."""
    for party in ("clients/acme", "clients/beta", OKX):
        harness.create_party(party)
    harness.register_key(OKX)
    harness.deposit("acme-btc", "clients/acme", "BTC", 10 * BTC)
    harness.deposit("acme-usdt", "clients/acme", "USDT", 500_000 * USDT)
    harness.deposit("beta-btc", "clients/beta", "BTC", 5 * BTC)
    harness.deposit("okx-btc", OKX, "BTC", 10 * BTC)
    harness.deposit("okx-usdt", OKX, "USDT", 1_000 * USDT)
    harness.connect("acme", "okx-sim")
    harness.connect("beta", "okx-sim")
    harness.lock(ACME, "acme-btc", "BTC", 2 * BTC)
    harness.lock(ACME, "acme-usdt", "USDT", 100_000 * USDT)
    harness.lock(BETA, "beta-btc", "BTC", 1 * BTC)
    return harness


def test_a_loss_beyond_one_clients_allocation_fails_only_that_entry(world: Harness) -> None:
    # beta's loss of 1.5 BTC exceeds its 1 BTC allocation; acme's trades settle.
    content = statement_content(
        OKX,
        1,
        [(ACME.name, "BTC", "1.00000000"), (ACME.name, "USDT", "-60120.000000"), (BETA.name, "BTC", "-1.5")],
    )
    assert world.submit(content).state is StatementState.PENDING
    count = len(world.audit_records())

    executed = world.execute(content)

    assert executed.state is StatementState.PARTIALLY_SUCCEEDED
    assert entry_states(executed) == [
        ("acme", "BTC", EntryState.SETTLED, "", f"{STATEMENT}/transfers/acme/BTC"),
        ("acme", "USDT", EntryState.SETTLED, "", f"{STATEMENT}/transfers/acme/USDT"),
        ("beta", "BTC", EntryState.FAILED, "LOSS_EXCEEDS_ALLOCATION", ""),
    ]
    assert executed.transfer_ids == (f"{STATEMENT}/transfers/acme/USDT", f"{STATEMENT}/transfers/acme/BTC")
    assert world.balance(allocated_account(ACME), "BTC") == 3 * BTC
    assert world.balance(allocated_account(ACME), "USDT") == 39_880 * USDT
    assert world.balance(allocated_account(BETA), "BTC") == 1 * BTC, "nothing of the failed entry moved"
    assert world.balance(SETTLEMENT, "BTC") == 9 * BTC
    (claim,) = world.claims()
    assert (claim.name, claim.draft.creditor, claim.draft.debtor, claim.draft.amount_units) == (
        "claims/1",
        OKX,
        "clients/beta",
        150_000_000,
    )
    assert (claim.draft.statement, claim.draft.connection, claim.draft.reason) == (
        STATEMENT,
        BETA,
        "LOSS_EXCEEDS_ALLOCATION",
    )
    assert changes(world.audit_records()[count:]) == [
        (STATEMENT, "PENDING", "PARTIALLY_SUCCEEDED", OKX),
        # In execution order: the losses, then the gains.
        (f"{STATEMENT}/entries/acme/USDT", "PENDING", "SETTLED", "clients/acme"),
        (f"{STATEMENT}/entries/beta/BTC", "PENDING", "FAILED LOSS_EXCEEDS_ALLOCATION", "clients/beta"),
        (f"{STATEMENT}/entries/acme/BTC", "PENDING", "SETTLED", "clients/acme"),
        (
            "claims/1",
            "",
            f"RECORDED {OKX} claims 1.50000000 BTC from clients/beta (LOSS_EXCEEDS_ALLOCATION, {STATEMENT})",
            "clients/beta",
        ),
    ]
    assert stored(world) == executed
    after_first = world.store.snapshot()
    assert world.execute(content) == executed
    assert world.store.snapshot() == after_first and len(world.claims()) == 1


def test_unpaid_gains_wait_for_a_top_up_and_then_settle_everything(world: Harness) -> None:
    content = statement_content(OKX, 1, [(ACME.name, "USDT", "1500"), (BETA.name, "BTC", "-0.5")])
    world.submit(content)
    before = world.store.snapshot()
    count = len(world.audit_records())

    waiting = world.execute(content)

    assert waiting.state is StatementState.AWAITING_TOP_UP
    assert waiting.top_up_deadline_ms == world.clock.now_ms() + TOP_UP_WINDOW_MS
    assert [state for _, _, state, _, _ in entry_states(waiting)] == [EntryState.PENDING] * 2
    assert world.store.snapshot()[:2] == before[:2], "nothing moved"
    assert changes(world.audit_records()[count:]) == [(STATEMENT, "PENDING", "AWAITING_TOP_UP", OKX)]
    assert stored(world) == waiting
    # Asking again before the top-up changes nothing and records nothing.
    world.clock.advance(60_000)
    assert world.execute(content) == waiting
    assert world.settle_due(content) is None
    assert len(world.audit_records()) == count + 1
    # The next statement waits for this one.
    error = refused(lambda: world.submit(statement_content(OKX, 2, [])))
    assert error.reason == "STATEMENT_IN_FLIGHT"

    world.deposit("okx-top-up", OKX, "USDT", 500 * USDT)
    executed = world.execute(content)

    assert executed.state is StatementState.SUCCEEDED
    assert executed.top_up_deadline_ms == waiting.top_up_deadline_ms
    assert world.balance(SETTLEMENT, "USDT") == 0
    assert world.balance(allocated_account(ACME), "USDT") == 101_500 * USDT
    assert world.claims() == []


def test_at_the_deadline_what_can_settle_settles_and_unpaid_gains_become_claims(world: Harness) -> None:
    # 1,000 USDT in the settlement account: acme's 900 fits, beta's 200 does not.
    content = statement_content(OKX, 1, [(ACME.name, "USDT", "900"), (BETA.name, "USDT", "200")])
    world.submit(content)
    waiting = world.execute(content)
    assert waiting.top_up_deadline_ms is not None
    world.clock.advance(TOP_UP_WINDOW_MS - 1)
    assert world.settle_due(content) is None
    world.clock.advance(1)
    count = len(world.audit_records())

    settled = world.settle_due(content)

    assert settled is not None and settled.state is StatementState.PARTIALLY_SUCCEEDED
    assert entry_states(settled) == [
        ("acme", "USDT", EntryState.SETTLED, "", f"{STATEMENT}/transfers/acme/USDT"),
        ("beta", "USDT", EntryState.FAILED, "INSUFFICIENT_SETTLEMENT_FUNDS", ""),
    ]
    assert settled.execute_time_ms == waiting.top_up_deadline_ms
    assert world.balance(SETTLEMENT, "USDT") == 100 * USDT
    (claim,) = world.claims("clients/beta")
    assert (claim.draft.creditor, claim.draft.debtor, claim.draft.amount_units, claim.draft.reason) == (
        "clients/beta",
        OKX,
        200 * USDT,
        "INSUFFICIENT_SETTLEMENT_FUNDS",
    )
    assert world.claims("clients/acme") == [] and world.claims(OKX) == [claim]
    assert [record.resource for record in world.audit_records()[count:]] == [
        STATEMENT,
        f"{STATEMENT}/entries/acme/USDT",
        f"{STATEMENT}/entries/beta/USDT",
        "claims/1",
    ]
    # A timer that fires again changes nothing.
    assert world.settle_due(content) is None
    assert world.execute(content) == settled


def test_nothing_payable_at_the_deadline_fails_the_statement(world: Harness) -> None:
    content = statement_content(OKX, 1, [(ACME.name, "USDT", "5000")])
    world.submit(content)
    world.execute(content)
    world.clock.advance(TOP_UP_WINDOW_MS)

    failed = world.execute(content)

    assert failed.state is StatementState.FAILED
    assert [claim.draft.amount_units for claim in world.claims()] == [5_000 * USDT]
    assert world.submit(statement_content(OKX, 2, [])).state is StatementState.PENDING


def test_without_a_top_up_window_what_can_settle_settles_at_once(harness: Harness) -> None:
    harness.service = CustodianService(harness.clock, ASSETS, Ed25519SignatureVerifier(), top_up_window_ms=0)
    world = build_world(harness)
    content = statement_content(OKX, 1, [(ACME.name, "USDT", "900"), (BETA.name, "USDT", "200")])
    world.submit(content)

    executed = world.execute(content)

    assert executed.state is StatementState.PARTIALLY_SUCCEEDED
    assert executed.top_up_deadline_ms is None
    assert len(world.claims()) == 1


def test_a_disputed_entry_is_held_then_resolved_as_an_adjustment(world: Harness) -> None:
    content = statement_content(OKX, 1, [(ACME.name, "BTC", "-0.5"), (BETA.name, "BTC", "0.25")])
    world.submit(content)
    count = len(world.audit_records())

    disputed = world.dispute(content, ACME, "BTC", "fill at a stale price")
    again = world.dispute(content, ACME, "BTC", "another reason")

    assert disputed.state is StatementState.PENDING and again == disputed
    assert entry_states(disputed)[0] == ("acme", "BTC", EntryState.DISPUTED, "fill at a stale price", "")
    assert changes(world.audit_records()[count:]) == [
        (f"{STATEMENT}/entries/acme/BTC", "PENDING", "DISPUTED", "clients/acme")
    ]
    executed = world.execute(content)
    assert executed.state is StatementState.PARTIALLY_SUCCEEDED
    assert [state for _, _, state, _, _ in entry_states(executed)] == [
        EntryState.DISPUTED,
        EntryState.SETTLED,
    ]
    assert world.balance(allocated_account(ACME), "BTC") == 2 * BTC, "the held loss did not move"
    assert world.balance(allocated_account(BETA), "BTC") == 125_000_000
    # Once executed, no more disputes; the next statement may follow.
    error = refused(lambda: world.dispute(content, BETA, "BTC"))
    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "STATEMENT_NOT_DISPUTABLE")
    assert world.submit(statement_content(OKX, 2, [])).state is StatementState.PENDING
    count = len(world.audit_records())

    resolved = world.resolve(content, ACME, "BTC")

    adjustment = f"{STATEMENT}/transfers/acme/BTC/adjustment"
    assert resolved.state is StatementState.SUCCEEDED
    assert entry_states(resolved)[0] == ("acme", "BTC", EntryState.SETTLED, "", adjustment)
    assert resolved.transfer_ids == (f"{STATEMENT}/transfers/beta/BTC", adjustment)
    assert world.balance(allocated_account(ACME), "BTC") == 150_000_000
    assert world.store.snapshot()[1][adjustment].reference == STATEMENT
    assert changes(world.audit_records()[count:]) == [
        (STATEMENT, "PARTIALLY_SUCCEEDED", "SUCCEEDED", OKX),
        (f"{STATEMENT}/entries/acme/BTC", "DISPUTED", "SETTLED", "clients/acme"),
    ]
    assert stored(world) == resolved
    error = refused(lambda: world.resolve(content, ACME, "BTC"))
    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "ENTRY_NOT_DISPUTED")
    assert world.audit_records()[-1].after == "REFUSED: ENTRY_NOT_DISPUTED"


def test_a_statement_with_every_entry_disputed_is_disputed_and_moves_nothing(world: Harness) -> None:
    content = statement_content(OKX, 1, [(BETA.name, "BTC", "-2")])
    world.submit(content)
    world.dispute(content, BETA, "BTC")
    before = world.store.snapshot()

    executed = world.execute(content)

    assert executed.state is StatementState.DISPUTED
    assert world.store.snapshot()[:2] == before[:2]
    # Resolved while beta still has only 1 BTC allocated: the loss fails and becomes a claim.
    resolved = world.resolve(content, BETA, "BTC")
    assert resolved.state is StatementState.FAILED
    assert [claim.draft.reason for claim in world.claims("clients/beta")] == ["LOSS_EXCEEDS_ALLOCATION"]


def test_a_held_gain_is_resolved_only_once_the_exchange_can_pay_it(world: Harness) -> None:
    content = statement_content(OKX, 1, [(ACME.name, "USDT", "1500")])
    world.submit(content)
    world.dispute(content, ACME, "USDT")
    world.execute(content)
    before = world.store.snapshot()

    error = refused(lambda: world.resolve(content, ACME, "USDT"))

    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "INSUFFICIENT_SETTLEMENT_FUNDS")
    assert world.store.snapshot() == before
    world.deposit("okx-top-up", OKX, "USDT", 500 * USDT)
    assert world.resolve(content, ACME, "USDT").state is StatementState.SUCCEEDED


def test_disputing_an_unknown_entry_or_statement_is_not_found(world: Harness) -> None:
    content = statement_content(OKX, 1, [(ACME.name, "BTC", "1")])
    error = refused(lambda: world.dispute(content, ACME, "BTC"))
    assert (error.code, error.reason) == (ErrorCode.NOT_FOUND, "STATEMENT_NOT_FOUND")
    world.submit(content)
    error = refused(lambda: world.dispute(content, BETA, "BTC"))
    assert (error.code, error.reason) == (ErrorCode.NOT_FOUND, "ENTRY_NOT_FOUND")


def test_claims_are_listed_by_party_in_pages(world: Harness) -> None:
    content = statement_content(
        OKX, 1, [(ACME.name, "BTC", "-3"), (ACME.name, "USDT", "-100001"), (BETA.name, "BTC", "-2")]
    )
    world.submit(content)
    world.execute(content)
    settlement = world.service.statement_settlement

    def page(party: str | None, after: int, size: int) -> tuple[list[str], int | None]:
        found = world.run_work(lambda uow: settlement.list_claims(uow, party, after, size))
        return [claim.name for claim in found.claims], found.next_after_number

    assert page(None, 0, 10) == (["claims/1", "claims/2", "claims/3"], None)
    assert page(None, 0, 2) == (["claims/1", "claims/2"], 2)
    assert page(None, 2, 2) == (["claims/3"], None)
    assert page("clients/acme", 0, 10) == (["claims/1", "claims/2"], None)
    assert page("clients/beta", 0, 10) == (["claims/3"], None)
    assert page(OKX, 1, 1) == (["claims/2"], 2)
    error = refused(lambda: page("clients/ghost", 0, 10))
    assert (error.code, error.reason) == (ErrorCode.NOT_FOUND, "PARTY_NOT_FOUND")


def test_stored_outcomes_are_final_and_claims_append_only(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "custodian.sqlite3", ASSETS)
    try:
        world = build_world(Harness(store))
        content = statement_content(OKX, 1, [(BETA.name, "BTC", "-2"), (ACME.name, "BTC", "1")])
        world.submit(content)
        world.execute(content)
        connection = store.database.connection()
        with pytest.raises(sqlite3.IntegrityError, match="final"):
            connection.execute("UPDATE statement_entry_outcomes SET state = 'DISPUTED'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("UPDATE claims SET amount_units = 1")
    finally:
        store.close()


class HarnessRunner:
    """Units of work over the harness's store, as the SQLite runner opens them for timers."""

    def __init__(self, world: Harness) -> None:
        self._world = world

    def write(self, work: Callable[[UnitOfWork], ResultT]) -> ResultT:
        return self._world.run_work(work)

    def read(self, work: Callable[[UnitOfWork], ResultT]) -> ResultT:
        return self._world.run_work(work)


def test_the_deadline_timer_is_set_once_and_settles_at_the_deadline(world: Harness) -> None:
    timers = TopUpTimers(world.clock, HarnessRunner(world), world.service.statement_settlement)
    content = statement_content(OKX, 1, [(ACME.name, "USDT", "900"), (BETA.name, "USDT", "200")])
    world.submit(content)
    waiting = world.execute(content)

    timers.schedule(waiting)
    timers.schedule(waiting)
    assert timers.reschedule() == 1, "the waiting statement is found at start"

    assert world.clock.next_timer_ms() == waiting.top_up_deadline_ms
    assert world.clock.advance(TOP_UP_WINDOW_MS) == 1
    assert stored(world).state is StatementState.PARTIALLY_SUCCEEDED
    timers.schedule(stored(world))
    assert world.clock.next_timer_ms() is None, "only a waiting statement gets a timer"
    deadline_records = [record for record in world.audit_records() if record.method == "TopUpDeadline"]
    assert {record.principal for record in deadline_records} == {"system"}
    assert deadline_records[0].resource == STATEMENT


def test_a_later_statement_closes_the_claims_its_entries_decide(world: Harness) -> None:
    # Statement 1: 1,000 USDT in the settlement account pays acme's 900; beta's 200 fails.
    first = statement_content(OKX, 1, [(ACME.name, "USDT", "900"), (BETA.name, "USDT", "200")])
    world.submit(first)
    world.execute(first)
    world.clock.advance(TOP_UP_WINDOW_MS)
    world.settle_due(first)
    (unpaid,) = world.claims("clients/beta")
    assert (unpaid.state, unpaid.closure) == (ClaimState.OPEN, None)

    # Statement 2 carries beta's unpaid 200 again, and 150 more; 100 are left: it fails again and
    # the new claim, for all 350, replaces the first.
    second = statement_content(OKX, 2, [(BETA.name, "USDT", "350")])
    world.submit(second)
    world.execute(second)
    world.clock.advance(TOP_UP_WINDOW_MS)
    world.settle_due(second)
    replaced, carried = world.claims("clients/beta")
    assert replaced.closure == ClaimClosure(1, ClaimState.SUPERSEDED, f"{OKX}/statements/2")
    assert (carried.state, carried.draft.amount_units) == (ClaimState.OPEN, 350 * USDT)
    assert world.audit_records()[-2].resource == "claims/1"
    assert world.audit_records()[-2].after == f"SUPERSEDED by {OKX}/statements/2"

    # The exchange tops up; statement 3 pays beta's 350: the claim is settled, not owed twice.
    world.deposit("okx-top-up", OKX, "USDT", 1_000 * USDT)
    third = statement_content(OKX, 3, [(BETA.name, "USDT", "350")])
    world.submit(third)
    assert world.execute(third).state is StatementState.SUCCEEDED
    assert [claim.state for claim in world.claims("clients/beta")] == [
        ClaimState.SUPERSEDED,
        ClaimState.SETTLED,
    ]
    paid = world.claims("clients/beta")[1]
    assert paid.closure == ClaimClosure(2, ClaimState.SETTLED, f"{OKX}/statements/3")


def test_a_claim_whose_entry_is_missing_from_the_next_statement_netted_to_zero(world: Harness) -> None:
    first = statement_content(OKX, 1, [(BETA.name, "USDT", "2000")])
    world.submit(first)
    world.execute(first)
    world.clock.advance(TOP_UP_WINDOW_MS)
    world.settle_due(first)
    # Beta lost back its gain: its unsettled USDT is zero, the statement has no entry for it.
    second = statement_content(OKX, 2, [(ACME.name, "USDT", "-5")])
    world.submit(second)
    world.execute(second)

    (claim,) = world.claims("clients/beta")
    assert claim.closure == ClaimClosure(1, ClaimState.NETTED, f"{OKX}/statements/2")
