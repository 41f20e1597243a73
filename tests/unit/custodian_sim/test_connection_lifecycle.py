"""Connections: created PENDING, activated by the bridge, closed when empty; listed per party."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from custodian_sim.domain.connections import Connection, ConnectionState
from custodian_sim.domain.names import ConnectionName, allocated_account
from custodian_sim.service_layer.commands import UnlockAllocation
from service_kit.errors import ErrorCode, ServiceError
from tests.unit.custodian_sim.harness import Harness

OKX = "exchanges/okx-sim"
BYBIT = "exchanges/bybit-sim"
ACME = ConnectionName("acme", "okx-sim")
BTC = 100_000_000


def refused(action: Callable[[], object]) -> ServiceError:
    with pytest.raises(ServiceError) as raised:
        action()
    return raised.value


@pytest.fixture()
def world(harness: Harness) -> Harness:
    """Two clients with BTC in custody and two exchanges; no connection yet."""
    for party in ("clients/acme", "clients/beta", OKX, BYBIT):
        harness.create_party(party)
    harness.deposit("acme-btc", "clients/acme", "BTC", 10 * BTC)
    harness.deposit("beta-btc", "clients/beta", "BTC", 10 * BTC)
    return harness


def state_of(harness: Harness, name: ConnectionName) -> ConnectionState:
    connection = harness.run(lambda service, uow: uow.connections.get(name))
    assert connection is not None
    return connection.state


def activate(harness: Harness, name: ConnectionName) -> Connection:
    return harness.run(lambda service, uow: service.activate_connection(uow, name))


def close(harness: Harness, name: ConnectionName) -> Connection:
    return harness.run(lambda service, uow: service.close_connection(uow, name))


def unlock(harness: Harness, name: ConnectionName, unlock_id: str, units: int) -> None:
    command = UnlockAllocation(name, unlock_id, "BTC", units)
    harness.run(lambda service, uow: service.unlock_allocation(uow, command))


def test_a_new_connection_is_pending_and_takes_no_allocation_until_activated(world: Harness) -> None:
    world.connect("acme", "okx-sim", activate=False)
    assert state_of(world, ACME) is ConnectionState.PENDING

    error = refused(lambda: world.lock(ACME, "a1", "BTC", BTC))
    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "CONNECTION_NOT_ACTIVE")
    assert world.balance(allocated_account(ACME), "BTC") == 0

    assert activate(world, ACME).state is ConnectionState.ACTIVE
    assert activate(world, ACME).state is ConnectionState.ACTIVE
    # The refused allocation id stays REJECTED; a new allocation takes a new id.
    assert world.lock(ACME, "a2", "BTC", BTC).allocated_units == BTC


def test_closing_needs_every_allocation_returned_and_is_final(world: Harness) -> None:
    world.connect("acme", "okx-sim")
    world.lock(ACME, "a1", "BTC", 2 * BTC)

    error = refused(lambda: close(world, ACME))
    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "CONNECTION_HAS_ALLOCATION")
    assert error.metadata["assets"] == "BTC"
    assert state_of(world, ACME) is ConnectionState.ACTIVE

    unlock(world, ACME, "u1", 2 * BTC)
    assert close(world, ACME).state is ConnectionState.CLOSED
    assert close(world, ACME).state is ConnectionState.CLOSED

    not_pending = refused(lambda: activate(world, ACME))
    assert (not_pending.code, not_pending.reason) == (ErrorCode.FAILED_PRECONDITION, "CONNECTION_NOT_PENDING")
    not_active = refused(lambda: world.lock(ACME, "a2", "BTC", BTC))
    assert not_active.reason == "CONNECTION_NOT_ACTIVE"
    # A retried lock of before the close still answers with its first result.
    assert world.lock(ACME, "a1", "BTC", 2 * BTC).transfer_id == "allocations/a1/lock"


def test_a_pending_connection_can_be_closed(world: Harness) -> None:
    world.connect("acme", "okx-sim", activate=False)
    assert close(world, ACME).state is ConnectionState.CLOSED


def test_unknown_connections_are_not_found(world: Harness) -> None:
    for action in (lambda: activate(world, ACME), lambda: close(world, ACME)):
        error = refused(action)
        assert (error.code, error.reason) == (ErrorCode.NOT_FOUND, "CONNECTION_NOT_FOUND")


def test_a_defaulted_connection_can_be_neither_activated_nor_closed() -> None:
    defaulted = Connection(ACME, ConnectionState.DEFAULTED, 0)

    with pytest.raises(ServiceError) as activated:
        defaulted.activated()
    with pytest.raises(ServiceError) as closed:
        defaulted.closed({})

    assert activated.value.reason == "CONNECTION_NOT_PENDING"
    assert (closed.value.code, closed.value.reason) == (ErrorCode.FAILED_PRECONDITION, "CONNECTION_DEFAULTED")
    with pytest.raises(ServiceError):
        defaulted.require_active()


def test_connections_are_listed_per_client_and_per_exchange_by_name(world: Harness) -> None:
    world.connect("beta", "okx-sim")
    world.connect("acme", "okx-sim", activate=False)
    world.connect("acme", "bybit-sim")

    def listed(party: str) -> list[tuple[str, ConnectionState]]:
        connections = world.run(lambda service, uow: service.list_connections(uow, party))
        return [(connection.name.name, connection.state) for connection in connections]

    assert listed("clients/acme") == [
        ("clients/acme/connections/bybit-sim", ConnectionState.ACTIVE),
        ("clients/acme/connections/okx-sim", ConnectionState.PENDING),
    ]
    assert listed(OKX) == [
        ("clients/acme/connections/okx-sim", ConnectionState.PENDING),
        ("clients/beta/connections/okx-sim", ConnectionState.ACTIVE),
    ]
    assert listed("clients/beta") == [("clients/beta/connections/okx-sim", ConnectionState.ACTIVE)]
    error = refused(lambda: listed("clients/ghost"))
    assert (error.code, error.reason) == (ErrorCode.NOT_FOUND, "PARTY_NOT_FOUND")
