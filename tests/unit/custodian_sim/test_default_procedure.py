"""ReleaseOnDefault: one transaction that settles, defaults, returns allocations, freezes, records claims."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from custodian_sim.domain.allocation_lifecycle import AllocationName, AllocationState
from custodian_sim.domain.connections import ConnectionState
from custodian_sim.domain.defaults import DefaultClaim, DefaultClaimKind, ExchangeDefault
from custodian_sim.domain.ledger import TransferKind
from custodian_sim.domain.names import (
    ConnectionName,
    allocated_account,
    available_account,
    settlement_account,
)
from custodian_sim.domain.statements import StatementState
from custodian_sim.service_layer.commands import UnlockAllocation
from service_kit.errors import ErrorCode, ServiceError
from tests.unit.custodian_sim.harness import TOP_UP_WINDOW_MS, Harness
from tests.unit.custodian_sim.statement_factory import statement_content

OKX = "exchanges/okx-sim"
BYBIT = "exchanges/bybit-sim"
BTC = 100_000_000
USDT = 1_000_000
ACME = ConnectionName("acme", "okx-sim")
BETA = ConnectionName("beta", "okx-sim")
GAMMA = ConnectionName("gamma", "okx-sim")
ACME_BYBIT = ConnectionName("acme", "bybit-sim")
SETTLEMENT = settlement_account("okx-sim")


def refused(action: Callable[[], object]) -> ServiceError:
    with pytest.raises(ServiceError) as raised:
        action()
    return raised.value


def default(world: Harness, apply_last_statement: bool = False, exchange: str = OKX) -> ExchangeDefault:
    return world.run(
        lambda service, uow: service.defaults.release_on_default(uow, exchange, apply_last_statement)
    )


def state_of(world: Harness, connection: ConnectionName) -> ConnectionState:
    found = world.run(lambda service, uow: uow.connections.get(connection))
    assert found is not None
    return found.state


def allocation_state(
    world: Harness, connection: ConnectionName, allocation_id: str
) -> tuple[AllocationState, str]:
    name = AllocationName(connection, allocation_id)
    found = world.run(lambda service, uow: service.allocations.get(uow, name))
    return found.state, found.reason


@pytest.fixture()
def world(harness: Harness) -> Harness:
    """Three clients of okx-sim (ACTIVE with a cleared and a reserved allocation, PENDING, CLOSED), and
    acme's allocation at bybit-sim, which the default of okx-sim must not touch."""
    for party in ("clients/acme", "clients/beta", "clients/gamma", OKX, BYBIT):
        harness.create_party(party)
    harness.register_key(OKX)
    for client in ("acme", "beta", "gamma"):
        harness.deposit(f"{client}-btc", f"clients/{client}", "BTC", 10 * BTC)
    harness.deposit("acme-usdt", "clients/acme", "USDT", 1_000 * USDT)
    harness.deposit("okx-btc", OKX, "BTC", BTC)
    harness.deposit("okx-usdt", OKX, "USDT", 50_000 * USDT)
    harness.connect("acme", "okx-sim")
    harness.connect("beta", "okx-sim", activate=False)
    harness.connect("gamma", "okx-sim")
    harness.connect("acme", "bybit-sim")
    harness.lock(ACME, "a1", "BTC", 2 * BTC)
    harness.run(lambda service, uow: service.allocations.clear(uow, AllocationName(ACME, "a1")))
    harness.lock(ACME, "a2", "BTC", BTC)
    harness.lock(ACME, "a3", "USDT", 300 * USDT)
    harness.lock(ACME_BYBIT, "x1", "BTC", BTC)
    harness.lock(GAMMA, "g1", "BTC", BTC)
    command = UnlockAllocation(GAMMA, "g1-back", "BTC", BTC)
    harness.run(lambda service, uow: service.unlock_allocation(uow, command))
    harness.run(lambda service, uow: service.close_connection(uow, GAMMA))
    return harness


def test_the_default_returns_every_allocation_defaults_every_connection_and_freezes(world: Harness) -> None:
    world.clock.advance(1_000)

    record = default(world)

    assert record.exchange == OKX
    assert record.default_time_ms == world.clock.now_ms()
    assert record.connections == (ACME.name, BETA.name, GAMMA.name)
    for connection in (ACME, BETA, GAMMA):
        assert state_of(world, connection) is ConnectionState.DEFAULTED
    assert state_of(world, ACME_BYBIT) is ConnectionState.ACTIVE
    assert world.balance(allocated_account(ACME), "BTC") == 0
    assert world.balance(allocated_account(ACME), "USDT") == 0
    assert world.balance(available_account("acme"), "BTC") == 9 * BTC  # 1 BTC stays at bybit-sim
    assert world.balance(available_account("acme"), "USDT") == 1_000 * USDT
    assert world.balance(allocated_account(ACME_BYBIT), "BTC") == BTC
    # The cleared allocation keeps its history; the reserved ones end RELEASED.
    assert allocation_state(world, ACME, "a1") == (AllocationState.CLEARED, "")
    assert allocation_state(world, ACME, "a2") == (AllocationState.RELEASED, "EXCHANGE_DEFAULTED")
    assert allocation_state(world, ACME_BYBIT, "x1") == (AllocationState.RESERVED, "")
    transfers = world.store.snapshot()[1]
    assert record.transfer_ids == (
        "defaults/okx-sim/releases/acme/BTC",
        "defaults/okx-sim/releases/acme/USDT",
    )
    assert {transfers[id_].kind for id_ in record.transfer_ids} == {TransferKind.DEFAULT_RELEASE}
    assert transfers["defaults/okx-sim/releases/acme/BTC"].amount_units == 3 * BTC
    assert record.frozen_accounts == tuple(
        sorted([SETTLEMENT, *(allocated_account(name) for name in (ACME, BETA, GAMMA))])
    )
    assert record.claims == (
        DefaultClaim(
            "clients/acme", "BTC", 3 * BTC, DefaultClaimKind.RELEASED_ALLOCATION, available_account("acme")
        ),
        DefaultClaim(
            "clients/acme",
            "USDT",
            300 * USDT,
            DefaultClaimKind.RELEASED_ALLOCATION,
            available_account("acme"),
        ),
        DefaultClaim(OKX, "BTC", BTC, DefaultClaimKind.FROZEN_SETTLEMENT, SETTLEMENT),
        DefaultClaim(OKX, "USDT", 50_000 * USDT, DefaultClaimKind.FROZEN_SETTLEMENT, SETTLEMENT),
    )
    assert (record.statement.statement, record.statement.applied) == ("", False)
    changes = {(r.resource, r.before, r.after) for r in world.audit_records()}
    assert {
        (ACME.name, "ACTIVE", "DEFAULTED"),
        (BETA.name, "PENDING", "DEFAULTED"),
        (GAMMA.name, "CLOSED", "DEFAULTED"),
        (AllocationName(ACME, "a2").name, "RESERVED", "RELEASED: EXCHANGE_DEFAULTED"),
        (SETTLEMENT, "", "FROZEN"),
        (f"{OKX}/default", "", "DEFAULTED"),
    } <= changes
    assert any(
        resource == "defaults/okx-sim/releases/acme/BTC"
        and after.startswith("DEFAULT_RELEASE 3.00000000 BTC")
        for resource, _, after in changes
    )


def test_defaulting_again_returns_the_same_record_and_moves_nothing(world: Harness) -> None:
    first = default(world, apply_last_statement=True)
    snapshot = world.store.snapshot()
    audit_count = len(world.audit_records())
    world.clock.advance(60_000)

    assert default(world) == first
    assert default(world, apply_last_statement=True) == first
    assert world.store.snapshot() == snapshot
    assert len(world.audit_records()) == audit_count


def test_frozen_accounts_refuse_every_later_move(world: Harness) -> None:
    world.deposit("okx-btc-before", OKX, "BTC", BTC)
    default(world)
    snapshot = world.store.snapshot()

    deposit = refused(lambda: world.deposit("okx-btc-after", OKX, "BTC", BTC))
    lock = refused(lambda: world.lock(ACME, "a9", "BTC", BTC))
    command = UnlockAllocation(ACME, "u9", "BTC", 1)
    unlock = refused(lambda: world.run(lambda service, uow: service.unlock_allocation(uow, command)))
    statement = refused(lambda: world.submit(statement_content(OKX, 1, [])))

    for error in (deposit, lock, unlock, statement):
        assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "ACCOUNT_FROZEN")
    assert deposit.metadata["account"] == SETTLEMENT
    assert lock.metadata["account"] == allocated_account(ACME)
    assert allocation_state(world, ACME, "a9") == (AllocationState.REJECTED, "ACCOUNT_FROZEN")
    assert world.audit_records()[-1].after == "REFUSED: ACCOUNT_FROZEN"
    assert world.store.snapshot() == snapshot
    # A retry of a deposit booked before the freeze is still answered, and moves nothing.
    world.deposit("okx-btc-before", OKX, "BTC", BTC)
    assert world.store.snapshot() == snapshot


def test_no_new_connection_opens_to_a_defaulted_exchange(world: Harness) -> None:
    world.create_party("clients/delta")
    default(world)

    error = refused(lambda: world.connect("delta", "okx-sim"))

    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "EXCHANGE_DEFAULTED")
    assert world.connect("delta", "bybit-sim") == ConnectionName("delta", "bybit-sim")


def test_the_last_statement_executes_first_when_asked(world: Harness) -> None:
    content = statement_content(
        OKX, 1, [(ACME.name, "BTC", "-0.50000000"), (ACME.name, "USDT", "100.000000")]
    )
    world.submit(content)

    record = default(world, apply_last_statement=True)

    assert (record.statement.statement, record.statement.state, record.statement.applied) == (
        content.name,
        "SUCCEEDED",
        True,
    )
    assert record.statement.reason == ""
    transfers = world.store.snapshot()[1]
    assert transfers[f"{content.name}/transfers/acme/BTC"].kind is TransferKind.SETTLEMENT_LOSS
    # The loss settled before the allocation came home: 3 - 0.5 BTC returned, 300 + 100 USDT.
    assert transfers["defaults/okx-sim/releases/acme/BTC"].amount_units == 5 * BTC // 2
    assert transfers["defaults/okx-sim/releases/acme/USDT"].amount_units == 400 * USDT
    claims = {(claim.party, claim.asset): claim.amount_units for claim in record.claims}
    assert claims[(OKX, "BTC")] == 3 * BTC // 2
    assert claims[(OKX, "USDT")] == 49_900 * USDT


def test_without_the_policy_the_last_statement_stays_unexecuted_and_can_never_execute(world: Harness) -> None:
    content = statement_content(OKX, 1, [(ACME.name, "BTC", "-0.50000000")])
    world.submit(content)

    record = default(world, apply_last_statement=False)

    assert (record.statement.state, record.statement.applied, record.statement.reason) == (
        "PENDING",
        False,
        "NOT_REQUESTED",
    )
    assert world.balance(available_account("acme"), "BTC") == 9 * BTC  # 1 BTC stays at bybit-sim
    error = refused(lambda: world.execute(content))
    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "ACCOUNT_FROZEN")


def test_an_executed_last_statement_is_reported_and_not_touched(world: Harness) -> None:
    content = statement_content(OKX, 1, [(ACME.name, "BTC", "-0.50000000")])
    world.submit(content)
    world.execute(content)

    record = default(world, apply_last_statement=True)

    assert (record.statement.statement, record.statement.state, record.statement.reason) == (
        content.name,
        "SUCCEEDED",
        "ALREADY_EXECUTED",
    )


def test_a_statement_awaiting_top_up_settles_what_it_can_and_unpaid_gains_become_claims(
    world: Harness,
) -> None:
    content = statement_content(
        OKX, 1, [(ACME.name, "BTC", "2.00000000"), (ACME.name, "USDT", "-100.000000")]
    )
    world.submit(content)
    waiting = world.execute(content)
    assert waiting.state is StatementState.AWAITING_TOP_UP
    world.clock.advance(TOP_UP_WINDOW_MS // 2)

    record = default(world, apply_last_statement=True)

    assert record.statement.applied
    assert record.statement.state == "PARTIALLY_SUCCEEDED"
    transfers = world.store.snapshot()[1]
    assert f"{content.name}/transfers/acme/USDT" in transfers
    assert f"{content.name}/transfers/acme/BTC" not in transfers
    unpaid = [claim.draft for claim in world.claims("clients/acme")]
    assert [(claim.creditor, claim.debtor, claim.amount_units, claim.reason) for claim in unpaid] == [
        ("clients/acme", OKX, 2 * BTC, "INSUFFICIENT_SETTLEMENT_FUNDS")
    ]
    claims = {(claim.party, claim.asset): claim.amount_units for claim in record.claims}
    assert claims[("clients/acme", "USDT")] == 200 * USDT
    assert claims[(OKX, "USDT")] == 50_100 * USDT


def test_only_a_registered_exchange_defaults(world: Harness) -> None:
    error = refused(lambda: default(world, exchange="exchanges/ghost"))
    assert (error.code, error.reason) == (ErrorCode.NOT_FOUND, "PARTY_NOT_FOUND")


def test_an_exchange_without_connections_defaults_with_only_its_settlement_frozen(world: Harness) -> None:
    record = default(world, exchange=BYBIT)
    assert record.connections == (ACME_BYBIT.name,)
    assert record.frozen_accounts == (allocated_account(ACME_BYBIT), settlement_account("bybit-sim"))
    assert [claim.kind for claim in record.claims] == [DefaultClaimKind.RELEASED_ALLOCATION]
    assert state_of(world, ACME) is ConnectionState.ACTIVE
