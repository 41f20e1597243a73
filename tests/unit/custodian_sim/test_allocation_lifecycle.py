"""Allocations at the custodian: PENDING -> RESERVED -> CLEARED, RELEASED or REJECTED, idempotent per id."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from custodian_sim.domain.allocation_lifecycle import (
    Allocation,
    AllocationName,
    AllocationState,
    new_allocation,
    parse_release_reason,
)
from custodian_sim.domain.names import ConnectionName, allocated_account, available_account
from custodian_sim.service_layer.commands import AllocationResult, UnlockAllocation
from service_kit.errors import ErrorCode, ServiceError
from tests.unit.custodian_sim.harness import Harness
from tests.unit.custodian_sim.statement_factory import statement_content

OKX = "exchanges/okx-sim"
BTC = 100_000_000
ACME = ConnectionName("acme", "okx-sim")
BETA = ConnectionName("beta", "okx-sim")


def refused(action: Callable[[], object]) -> ServiceError:
    with pytest.raises(ServiceError) as raised:
        action()
    return raised.value


def name_of(connection: ConnectionName, allocation_id: str) -> AllocationName:
    return AllocationName(connection, allocation_id)


def get(world: Harness, name: AllocationName) -> Allocation:
    return world.run(lambda service, uow: service.allocations.get(uow, name))


def clear(world: Harness, name: AllocationName) -> Allocation:
    return world.run(lambda service, uow: service.allocations.clear(uow, name))


def release(world: Harness, name: AllocationName, reason: str = "VENUE_HALTED") -> AllocationResult:
    return world.run(lambda service, uow: service.allocations.release(uow, name, reason))


def unlock(world: Harness, unlock_id: str, units: int, connection: ConnectionName = ACME) -> AllocationResult:
    command = UnlockAllocation(connection, unlock_id, "BTC", units)
    return world.run(lambda service, uow: service.unlock_allocation(uow, command))


def records_of(world: Harness, resource: str) -> list[tuple[str, str]]:
    return [(record.before, record.after) for record in world.audit_records() if record.resource == resource]


@pytest.fixture()
def world(harness: Harness) -> Harness:
    """Acme (10 BTC) and beta (5 BTC) connected to a funded exchange; beta's connection stays PENDING."""
    for party in ("clients/acme", "clients/beta", OKX):
        harness.create_party(party)
    harness.register_key(OKX)
    harness.deposit("acme-btc", "clients/acme", "BTC", 10 * BTC)
    harness.deposit("beta-btc", "clients/beta", "BTC", 5 * BTC)
    harness.deposit("okx-btc", OKX, "BTC", 100 * BTC)
    harness.connect("acme", "okx-sim")
    harness.connect("beta", "okx-sim", activate=False)
    return harness


# Domain rules.


def test_allocation_names_round_trip_and_ids_may_contain_slashes() -> None:
    name = AllocationName(ACME, "bridge/allocation-7")
    assert name.name == "clients/acme/connections/okx-sim/allocations/bridge/allocation-7"
    assert AllocationName.parse(name.name, "allocation") == name


@pytest.mark.parametrize(
    "text",
    [
        "",
        "clients/acme/connections/okx-sim",
        "clients/acme/connections/okx-sim/allocations/",
        "clients/acme/connections/okx-sim/deallocations/a1",
        "clients/ACME/connections/okx-sim/allocations/a1",
        "clients/acme/connections/okx-sim/allocations/bad id",
    ],
)
def test_malformed_allocation_names_are_invalid_arguments_naming_the_field(text: str) -> None:
    error = refused(lambda: AllocationName.parse(text, "allocation"))
    assert error.code is ErrorCode.INVALID_ARGUMENT
    assert [violation.field for violation in error.field_violations] == ["allocation"]


def test_release_reasons_are_short_printable_codes() -> None:
    assert parse_release_reason("VENUE_HALTED", "reason") == "VENUE_HALTED"
    for bad in ("", "has space", "x" * 129):
        assert refused(lambda bad=bad: parse_release_reason(bad, "reason")).code is ErrorCode.INVALID_ARGUMENT


def test_the_state_machine_moves_forward_only() -> None:
    pending = new_allocation(name_of(ACME, "a1"), "BTC", BTC, now_ms=1)
    assert pending.state is AllocationState.PENDING
    reserved = pending.reserved(now_ms=2)
    cleared = reserved.cleared(now_ms=3)
    assert (cleared.state, cleared.update_time_ms, cleared.create_time_ms) == (AllocationState.CLEARED, 3, 1)
    assert cleared.cleared(now_ms=9) is cleared
    released = reserved.released("VENUE_HALTED", now_ms=4)
    assert (released.state, released.reason, released.description) == (
        AllocationState.RELEASED,
        "VENUE_HALTED",
        "RELEASED: VENUE_HALTED",
    )
    assert released.released("OTHER", now_ms=9) is released
    rejected = pending.rejected("INSUFFICIENT_BALANCE", now_ms=2)
    refusals: list[tuple[Callable[[], object], str]] = [
        (lambda: cleared.released("X", 9), "ALLOCATION_CLEARED"),
        (lambda: released.cleared(9), "ALLOCATION_RELEASED"),
        (lambda: rejected.cleared(9), "ALLOCATION_REJECTED"),
        (lambda: rejected.released("X", 9), "ALLOCATION_REJECTED"),
    ]
    for transition, reason in refusals:
        error = refused(transition)
        assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, reason)
    with pytest.raises(AssertionError):
        reserved.reserved(now_ms=5)


# Use cases.


def test_a_lock_records_the_allocation_reserved_and_a_retry_returns_it(world: Harness) -> None:
    result = world.lock(ACME, "a1", "BTC", 2 * BTC)

    assert (result.transfer_id, result.allocated_units) == ("allocations/a1/lock", 2 * BTC)
    assert result.allocation is not None
    assert (result.allocation.state, result.allocation.reason) == (AllocationState.RESERVED, "")
    assert get(world, name_of(ACME, "a1")) == result.allocation
    assert records_of(world, name_of(ACME, "a1").name) == [("", "RESERVED")]
    audit_count = len(world.audit_records())

    again = world.lock(ACME, "a1", "BTC", 2 * BTC)

    assert again == result
    assert world.balance(allocated_account(ACME), "BTC") == 2 * BTC
    assert len(world.audit_records()) == audit_count


def test_an_allocation_id_names_one_request_forever(world: Harness) -> None:
    world.lock(ACME, "a1", "BTC", 2 * BTC)
    before = world.store.snapshot()

    for other in (
        lambda: world.lock(ACME, "a1", "BTC", 3 * BTC),
        lambda: world.lock(ACME, "a1", "USDT", 2 * BTC),
        lambda: world.lock(ConnectionName("beta", "okx-sim"), "a1", "BTC", 2 * BTC),
    ):
        error = refused(other)
        assert (error.code, error.reason) == (ErrorCode.ALREADY_EXISTS, "ALLOCATION_ID_REUSED")

    assert world.store.snapshot() == before
    assert get(world, name_of(ACME, "a1")).state is AllocationState.RESERVED
    assert (
        records_of(world, name_of(ACME, "a1").name)[1:] == [("RESERVED", "REFUSED: ALLOCATION_ID_REUSED")] * 3
    )


@pytest.mark.parametrize(
    ("reason", "connection", "units", "in_flight"),
    [
        ("INSUFFICIENT_BALANCE", ACME, 10 * BTC + 1, False),
        ("CONNECTION_NOT_ACTIVE", BETA, BTC, False),
        ("SETTLEMENT_IN_FLIGHT", ACME, BTC, True),
    ],
)
def test_a_refused_lock_moves_nothing_and_records_the_allocation_rejected_with_its_reason(
    world: Harness, reason: str, connection: ConnectionName, units: int, in_flight: bool
) -> None:
    world.lock(ACME, "a0", "BTC", BTC)
    if in_flight:
        world.submit(statement_content(OKX, 1, [(ACME.name, "BTC", "-0.10000000")]))
    before = world.store.snapshot()
    audit_count = len(world.audit_records())

    error = refused(lambda: world.lock(connection, "a1", "BTC", units))

    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, reason)
    assert world.store.snapshot() == before, "a refused lock posted a transfer"
    rejected = get(world, name_of(connection, "a1"))
    assert (rejected.state, rejected.reason, rejected.amount_units) == (
        AllocationState.REJECTED,
        reason,
        units,
    )
    records = world.audit_records()
    assert len(records) == audit_count + 1
    assert (records[-1].resource, records[-1].before, records[-1].after, records[-1].owner) == (
        name_of(connection, "a1").name,
        "",
        f"REJECTED: {reason}",
        connection.client,
    )

    # One allocation id, one outcome: the retry is refused again and adds nothing.
    retried = refused(lambda: world.lock(connection, "a1", "BTC", units))
    assert (retried.code, retried.reason) == (ErrorCode.FAILED_PRECONDITION, reason)
    assert len(world.audit_records()) == audit_count + 1
    assert world.store.snapshot() == before


def test_a_settlement_in_flight_freezes_only_the_connections_it_has_entries_for(world: Harness) -> None:
    world.run(lambda service, uow: service.activate_connection(uow, BETA))
    world.lock(ACME, "a0", "BTC", 2 * BTC)
    content = statement_content(OKX, 1, [(ACME.name, "BTC", "-0.50000000")])
    world.submit(content)

    assert world.lock(BETA, "b1", "BTC", BTC).allocated_units == BTC
    error = refused(lambda: unlock(world, "u1", BTC))
    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "SETTLEMENT_IN_FLIGHT")
    assert error.metadata["statement"] == f"{OKX}/statements/1"

    world.execute(content)

    assert world.lock(ACME, "a1", "BTC", BTC).allocated_units == 5 * BTC // 2
    assert unlock(world, "u1", BTC).allocated_units == 3 * BTC // 2


def test_a_retried_unlock_returns_its_result_during_a_later_settlement(world: Harness) -> None:
    world.lock(ACME, "a0", "BTC", 2 * BTC)
    first = unlock(world, "u1", BTC)
    world.submit(statement_content(OKX, 1, [(ACME.name, "BTC", "-0.50000000")]))

    assert unlock(world, "u1", BTC) == first


def test_clearing_marks_a_reserved_allocation_cleared_once(world: Harness) -> None:
    world.lock(ACME, "a1", "BTC", 2 * BTC)
    name = name_of(ACME, "a1")
    world.clock.advance(5)

    cleared = clear(world, name)

    assert (cleared.state, cleared.update_time_ms) == (AllocationState.CLEARED, world.clock.now_ms())
    assert clear(world, name) == cleared
    assert records_of(world, name.name) == [("", "RESERVED"), ("RESERVED", "CLEARED")]
    error = refused(lambda: release(world, name))
    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "ALLOCATION_CLEARED")
    assert world.balance(allocated_account(ACME), "BTC") == 2 * BTC


def test_releasing_returns_a_reserved_allocation_once(world: Harness) -> None:
    world.lock(ACME, "a1", "BTC", 2 * BTC)
    name = name_of(ACME, "a1")

    result = release(world, name, "VENUE_HALTED")

    assert result.allocation is not None
    assert (result.allocation.state, result.allocation.reason) == (AllocationState.RELEASED, "VENUE_HALTED")
    assert (result.transfer_id, result.allocated_units) == ("allocations/a1/release", 0)
    assert world.balance(available_account("acme"), "BTC") == 10 * BTC
    snapshot = world.store.snapshot()
    assert snapshot[1]["allocations/a1/release"].kind.value == "ALLOCATION_RELEASE"
    assert release(world, name, "SOMETHING_ELSE") == result
    assert world.store.snapshot() == snapshot
    assert records_of(world, name.name) == [("", "RESERVED"), ("RESERVED", "RELEASED: VENUE_HALTED")]
    error = refused(lambda: clear(world, name))
    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "ALLOCATION_RELEASED")


def test_a_rejected_allocation_can_be_neither_cleared_nor_released(world: Harness) -> None:
    refused(lambda: world.lock(ACME, "a1", "BTC", 11 * BTC))
    for action in (lambda: clear(world, name_of(ACME, "a1")), lambda: release(world, name_of(ACME, "a1"))):
        error = refused(action)
        assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "ALLOCATION_REJECTED")


def test_unknown_allocations_and_other_connections_names_are_not_found(world: Harness) -> None:
    world.lock(ACME, "a1", "BTC", BTC)
    for name in (name_of(ACME, "nope"), name_of(BETA, "a1")):
        for action in (
            lambda n=name: get(world, n),
            lambda n=name: clear(world, n),
            lambda n=name: release(world, n),
        ):
            error = refused(action)
            assert (error.code, error.reason) == (ErrorCode.NOT_FOUND, "ALLOCATION_NOT_FOUND")
    error = refused(lambda: world.lock(ConnectionName("acme", "other"), "a9", "BTC", BTC))
    assert (error.code, error.reason) == (ErrorCode.NOT_FOUND, "CONNECTION_NOT_FOUND")
    assert "a9" not in {record.resource.rpartition("/")[2] for record in world.audit_records()}
