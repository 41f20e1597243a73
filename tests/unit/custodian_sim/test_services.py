"""The custodian's use cases over the fake store and over SQLite: same behaviour from both."""

from __future__ import annotations

import pytest

from custodian_sim.domain.names import (
    WORLD_CHAIN_ACCOUNT,
    ConnectionName,
    StatementName,
    allocated_account,
    available_account,
    settlement_account,
)
from custodian_sim.domain.parties import PartyKind
from custodian_sim.domain.statements import StatementState
from custodian_sim.service_layer.commands import CreateParty, SimulateDeposit, UnlockAllocation
from service_kit.errors import ErrorCode, ServiceError
from tests.unit.custodian_sim.harness import Harness
from tests.unit.custodian_sim.statement_factory import exchange_private_key, statement_content

OKX = "exchanges/okx-sim"
BTC = 100_000_000
USDT = 1_000_000
SETTLEMENT = settlement_account("okx-sim")


def refused(action: object) -> ServiceError:
    assert callable(action)
    with pytest.raises(ServiceError) as raised:
        action()
    return raised.value


@pytest.fixture()
def world(harness: Harness) -> Harness:
    """Two clients with custody deposits, a funded exchange with a key, both clients connected."""
    for party in ("clients/acme", "clients/beta", OKX):
        harness.create_party(party)
    harness.register_key(OKX)
    harness.deposit("acme-btc", "clients/acme", "BTC", 10 * BTC)
    harness.deposit("acme-usdt", "clients/acme", "USDT", 500_000 * USDT)
    harness.deposit("beta-btc", "clients/beta", "BTC", 5 * BTC)
    harness.deposit("okx-usdt", OKX, "USDT", 1_000_000 * USDT)
    harness.deposit("okx-btc", OKX, "BTC", 100 * BTC)
    harness.connect("acme", "okx-sim")
    harness.connect("beta", "okx-sim")
    return harness


ACME = ConnectionName("acme", "okx-sim")
BETA = ConnectionName("beta", "okx-sim")


def test_parties_are_registered_once_and_never_changed(harness: Harness) -> None:
    harness.create_party("clients/acme")
    harness.create_party("clients/acme")

    error = refused(
        lambda: harness.run(
            lambda service, uow: service.create_party(
                uow, CreateParty("clients/acme", PartyKind.CLIENT, "Another name")
            )
        )
    )

    assert (error.code, error.reason) == (ErrorCode.ALREADY_EXISTS, "PARTY_CONFLICT")


def test_deposits_land_in_available_or_settlement_and_come_from_the_chain(world: Harness) -> None:
    assert world.balance(available_account("acme"), "BTC") == 10 * BTC
    assert world.balance(SETTLEMENT, "USDT") == 1_000_000 * USDT
    assert world.balance(WORLD_CHAIN_ACCOUNT, "BTC") == -115 * BTC


def test_a_deposit_for_an_unknown_party_is_not_found(harness: Harness) -> None:
    command = SimulateDeposit("d1", "clients/ghost", "BTC", BTC)
    error = refused(lambda: harness.run(lambda service, uow: service.simulate_deposit(uow, command)))
    assert (error.code, error.reason) == (ErrorCode.NOT_FOUND, "PARTY_NOT_FOUND")
    assert harness.store.snapshot() == ({}, {}, {})


def test_a_deposit_retried_with_the_same_id_books_once(world: Harness) -> None:
    world.deposit("acme-btc", "clients/acme", "BTC", 10 * BTC)
    assert world.balance(available_account("acme"), "BTC") == 10 * BTC
    error = refused(lambda: world.deposit("acme-btc", "clients/acme", "BTC", 11 * BTC))
    assert (error.code, error.reason) == (ErrorCode.ALREADY_EXISTS, "TRANSFER_ID_CONFLICT")


def test_connections_need_both_parties_and_are_created_once(world: Harness) -> None:
    assert world.connect("acme", "okx-sim") == ACME
    error = refused(lambda: world.connect("ghost", "okx-sim"))
    assert (error.code, error.reason) == (ErrorCode.NOT_FOUND, "PARTY_NOT_FOUND")
    error = refused(lambda: world.connect("acme", "acme"))
    assert error.reason == "PARTY_NOT_FOUND"


def test_lock_and_unlock_move_between_available_and_allocated(world: Harness) -> None:
    result = world.lock(ACME, "a1", "BTC", 2 * BTC)
    assert (result.transfer_id, result.allocated_units) == ("allocations/a1/lock", 2 * BTC)

    unlock = UnlockAllocation(ACME, "u1", "BTC", BTC // 2)
    result = world.run(lambda service, uow: service.unlock_allocation(uow, unlock))

    assert (result.transfer_id, result.allocated_units) == ("unlocks/u1", 3 * BTC // 2)
    assert world.balance(available_account("acme"), "BTC") == 10 * BTC - 3 * BTC // 2


def test_a_lock_retried_with_the_same_allocation_id_locks_once(world: Harness) -> None:
    world.lock(ACME, "a1", "BTC", 2 * BTC)
    again = world.lock(ACME, "a1", "BTC", 2 * BTC)
    assert again.allocated_units == 2 * BTC
    error = refused(lambda: world.lock(ACME, "a1", "BTC", 3 * BTC))
    assert (error.code, error.reason) == (ErrorCode.ALREADY_EXISTS, "ALLOCATION_ID_REUSED")


def test_locking_more_than_available_is_refused_and_moves_nothing(world: Harness) -> None:
    before = world.store.snapshot()
    error = refused(lambda: world.lock(ACME, "a1", "BTC", 10 * BTC + 1))
    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "INSUFFICIENT_BALANCE")
    assert error.metadata["account"] == available_account("acme")
    assert world.store.snapshot() == before


def test_unlocking_more_than_allocated_is_refused(world: Harness) -> None:
    world.lock(ACME, "a1", "BTC", BTC)
    unlock = UnlockAllocation(ACME, "u1", "BTC", BTC + 1)
    error = refused(lambda: world.run(lambda service, uow: service.unlock_allocation(uow, unlock)))
    assert error.reason == "INSUFFICIENT_BALANCE"
    assert error.metadata["account"] == allocated_account(ACME)


def test_a_lock_on_a_missing_connection_is_not_found(world: Harness) -> None:
    error = refused(lambda: world.lock(ConnectionName("acme", "other"), "a1", "BTC", BTC))
    assert (error.code, error.reason) == (ErrorCode.NOT_FOUND, "CONNECTION_NOT_FOUND")


@pytest.fixture()
def allocated(world: Harness) -> Harness:
    world.lock(ACME, "acme-btc", "BTC", 2 * BTC)
    world.lock(ACME, "acme-usdt", "USDT", 100_000 * USDT)
    world.lock(BETA, "beta-btc", "BTC", 1 * BTC)
    return world


BUY_ONE_BTC = [(ACME.name, "BTC", "1.00000000"), (ACME.name, "USDT", "-60120.000000")]


def test_a_statement_is_verified_recorded_and_executed_once(allocated: Harness) -> None:
    content = statement_content(OKX, 1, BUY_ONE_BTC)

    submitted = allocated.submit(content)
    assert submitted.state is StatementState.PENDING
    executed = allocated.execute(content)
    after_first = allocated.store.snapshot()
    again = allocated.execute(content)

    assert executed.state is StatementState.SUCCEEDED
    assert executed.transfer_ids == (
        "exchanges/okx-sim/statements/1/transfers/acme/USDT",
        "exchanges/okx-sim/statements/1/transfers/acme/BTC",
    )
    assert again == executed
    assert allocated.store.snapshot() == after_first
    assert allocated.balance(allocated_account(ACME), "BTC") == 3 * BTC
    assert allocated.balance(allocated_account(ACME), "USDT") == (100_000 - 60_120) * USDT
    assert allocated.balance(SETTLEMENT, "USDT") == (1_000_000 + 60_120) * USDT
    assert allocated.balance(SETTLEMENT, "BTC") == 99 * BTC


def test_submitting_the_same_statement_again_returns_the_record(allocated: Harness) -> None:
    content = statement_content(OKX, 1, BUY_ONE_BTC)
    first = allocated.submit(content)
    allocated.clock.advance(1000)
    assert allocated.submit(content) == first


def test_a_changed_statement_under_a_known_name_is_a_conflict(allocated: Harness) -> None:
    allocated.submit(statement_content(OKX, 1, BUY_ONE_BTC))
    changed = statement_content(OKX, 1, [(ACME.name, "BTC", "2.00000000")])
    error = refused(lambda: allocated.submit(changed))
    assert (error.code, error.reason) == (ErrorCode.ALREADY_EXISTS, "STATEMENT_CONFLICT")


def test_a_forged_signature_is_refused_and_nothing_recorded(allocated: Harness) -> None:
    content = statement_content(OKX, 1, BUY_ONE_BTC)
    forged = exchange_private_key(OKX, seed=2).sign(content.canonical_bytes())
    before = allocated.store.snapshot()

    error = refused(lambda: allocated.submit(content, forged))

    assert (error.code, error.reason) == (ErrorCode.INVALID_ARGUMENT, "STATEMENT_SIGNATURE_INVALID")
    assert error.field_violations[0].field == "statement.signature"
    assert allocated.store.snapshot() == before


def test_a_statement_needs_a_registered_key(harness: Harness) -> None:
    harness.create_party(OKX)
    error = refused(lambda: harness.submit(statement_content(OKX, 1, [])))
    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "EXCHANGE_KEY_NOT_REGISTERED")


def test_a_statement_of_an_unknown_exchange_is_not_found(harness: Harness) -> None:
    error = refused(lambda: harness.submit(statement_content(OKX, 1, [])))
    assert (error.code, error.reason) == (ErrorCode.NOT_FOUND, "PARTY_NOT_FOUND")


def test_a_reused_nonce_is_refused(allocated: Harness) -> None:
    first = statement_content(OKX, 1, BUY_ONE_BTC)
    allocated.submit(first)
    allocated.execute(first)
    replay = statement_content(OKX, 2, [], nonce=first.nonce)
    error = refused(lambda: allocated.submit(replay))
    assert (error.code, error.reason) == (ErrorCode.ALREADY_EXISTS, "NONCE_REUSED")


def test_statements_must_follow_each_other(allocated: Harness) -> None:
    error = refused(lambda: allocated.submit(statement_content(OKX, 2, [])))
    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "STATEMENT_OUT_OF_SEQUENCE")
    first = statement_content(OKX, 1, [])
    allocated.submit(first)
    error = refused(lambda: allocated.submit(statement_content(OKX, 2, [])))
    assert error.reason == "STATEMENT_IN_FLIGHT"
    allocated.execute(first)
    assert allocated.submit(statement_content(OKX, 2, [])).state is StatementState.PENDING


def test_an_entry_for_an_unknown_connection_is_not_found(allocated: Harness) -> None:
    content = statement_content(OKX, 1, [("clients/ghost/connections/okx-sim", "BTC", "1")])
    error = refused(lambda: allocated.submit(content))
    assert (error.code, error.reason) == (ErrorCode.NOT_FOUND, "CONNECTION_NOT_FOUND")


def test_executing_an_unknown_statement_is_not_found(allocated: Harness) -> None:
    name = StatementName("okx-sim", 1)
    error = refused(lambda: allocated.run(lambda service, uow: service.execute_statement(uow, name)))
    assert (error.code, error.reason) == (ErrorCode.NOT_FOUND, "STATEMENT_NOT_FOUND")
    error = refused(lambda: allocated.run(lambda service, uow: service.get_statement(uow, name)))
    assert error.reason == "STATEMENT_NOT_FOUND"


def test_list_balances_shows_only_the_owners_accounts(allocated: Harness) -> None:
    balances = allocated.run(lambda service, uow: service.list_balances(uow, "clients/acme"))
    assert [(balance.account, balance.asset, balance.balance_units) for balance in balances] == [
        ("clients/acme/available", "BTC", 8 * BTC),
        ("clients/acme/available", "USDT", 400_000 * USDT),
        ("clients/acme/connections/okx-sim/allocated", "BTC", 2 * BTC),
        ("clients/acme/connections/okx-sim/allocated", "USDT", 100_000 * USDT),
    ]
    error = refused(lambda: allocated.run(lambda service, uow: service.list_balances(uow, "clients/ghost")))
    assert (error.code, error.reason) == (ErrorCode.NOT_FOUND, "PARTY_NOT_FOUND")
