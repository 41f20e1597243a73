"""Connections, allocations and deallocations at the service layer, with fake venues."""

from __future__ import annotations

import pytest

from oes.bridge.v1 import bridge_pb2
from service_kit.auth import Principal, PrincipalKind, reset_current_principal, set_current_principal
from service_kit.errors import ErrorCode, ServiceError
from settlement_bridge.domain.names import ConnectionName
from settlement_bridge.domain.transfers import AllocationStep, DeallocationStep, TransferState
from settlement_bridge.service_layer.unit_of_work import RequestAlreadyRecordedError, RequestReceipt
from tests.unit.settlement_bridge.conftest import ACME, Bridge
from tests.unit.settlement_bridge.fakes import BTC, USDT, refused, unavailable

ALLOCATED_BTC = ("clients/acme/connections/okx-sim/allocated", "BTC")
AVAILABLE_BTC = ("clients/acme/available", "BTC")


def test_connection_is_opened_at_both_venues_once(bridge: Bridge) -> None:
    again = bridge.connections.create(ACME)

    assert again.name == "clients/acme/connections/okx-sim"
    assert bridge.custodian.connections == {("clients/acme", "exchanges/okx-sim")}
    assert bridge.exchange.connections == {"clients/acme/connections/okx-sim"}
    assert bridge.custodian.count("create_connection") == 1
    assert bridge.rows("connections") == 1


def test_the_custodian_activates_the_connection_only_after_the_exchange_opened_its_account(
    bridge: Bridge,
) -> None:
    globex = ConnectionName("globex", "okx-sim")
    bridge.custodian.calls.clear()
    bridge.exchange.calls.clear()

    bridge.connections.create(globex)

    assert bridge.custodian.calls == ["create_connection", "activate_connection"]
    assert bridge.exchange.calls == ["create_connection"]
    assert bridge.custodian.active_connections == {ACME.name, globex.name}


def test_a_failed_activation_records_nothing_and_the_retry_activates(bridge: Bridge) -> None:
    globex = ConnectionName("globex", "okx-sim")
    bridge.custodian.faults.add("activate_connection", unavailable("custodian"))

    with pytest.raises(ServiceError) as raised:
        bridge.connections.create(globex)

    assert raised.value.code is ErrorCode.UNAVAILABLE
    assert globex.name not in bridge.custodian.active_connections
    assert bridge.rows("connections") == 1
    bridge.connections.create(globex)
    assert globex.name in bridge.custodian.active_connections
    assert bridge.rows("connections") == 2


def test_connection_to_an_exchange_the_bridge_does_not_serve_is_not_found(bridge: Bridge) -> None:
    with pytest.raises(ServiceError) as raised:
        bridge.connections.create(ConnectionName("acme", "binance-sim"))

    assert (raised.value.code, raised.value.reason) == (ErrorCode.NOT_FOUND, "EXCHANGE_NOT_FOUND")
    assert bridge.rows("connections") == 1


def test_refused_connection_records_nothing(bridge: Bridge) -> None:
    bridge.custodian.faults.add("create_connection", refused("custodian", "PARTY_NOT_FOUND", "NOT_FOUND"))

    with pytest.raises(ServiceError) as raised:
        bridge.connections.create(ConnectionName("ghost", "okx-sim"))

    assert (raised.value.code, raised.value.reason) == (ErrorCode.NOT_FOUND, "PARTY_NOT_FOUND")
    assert bridge.exchange.count("create_connection") == 1  # only the fixture's connection
    assert bridge.rows("connections") == 1


def test_allocation_locks_then_reserves_then_clears(bridge: Bridge) -> None:
    allocation = bridge.allocations.create(ACME, "BTC", 2 * BTC)

    assert allocation.state is TransferState.CLEARED
    assert allocation.name == "clients/acme/connections/okx-sim/allocations/1"
    assert allocation.end_time_ms == bridge.clock.now_ms()
    assert bridge.custodian.balances[ALLOCATED_BTC] == 2 * BTC
    assert bridge.custodian.balances[AVAILABLE_BTC] == 8 * BTC
    assert bridge.exchange.books[(ACME.name, "BTC")].mirror_units == 2 * BTC
    assert bridge.custodian.calls[-2:] == ["lock_allocation", "clear_allocation"]
    assert bridge.exchange.calls[-2:] == ["reserve_allocation", "clear_allocation"]
    assert bridge.custodian.allocations["allocation-1"][3] == "CLEARED"


def test_allocation_on_unknown_connection_writes_nothing(bridge: Bridge) -> None:
    with pytest.raises(ServiceError) as raised:
        bridge.allocations.create(ConnectionName("other", "okx-sim"), "BTC", BTC)

    assert (raised.value.code, raised.value.reason) == (ErrorCode.NOT_FOUND, "CONNECTION_NOT_FOUND")
    assert bridge.rows("allocations") == 0
    assert bridge.custodian.count("lock_allocation") == 0


def test_refused_lock_rejects_and_moves_nothing(bridge: Bridge) -> None:
    allocation = bridge.allocations.create(ACME, "BTC", 11 * BTC)

    assert (allocation.state, allocation.reason) == (TransferState.REJECTED, "INSUFFICIENT_BALANCE")
    assert bridge.custodian.balances[AVAILABLE_BTC] == 10 * BTC
    assert bridge.custodian.balances[ALLOCATED_BTC] == 0
    assert "reserve_allocation" not in bridge.exchange.calls


def test_refused_reserve_releases_and_unlocks_once(bridge: Bridge) -> None:
    bridge.exchange.faults.add("reserve_allocation", refused("exchanges/okx-sim", "VENUE_HALTED"))

    allocation = bridge.allocations.create(ACME, "BTC", 2 * BTC)

    assert (allocation.state, allocation.reason) == (TransferState.RELEASED, "VENUE_HALTED")
    assert bridge.custodian.count("release_allocation") == 1
    assert bridge.custodian.allocations["allocation-1"][3] == "RELEASED"
    assert bridge.exchange.count("release_allocation") == 1
    assert bridge.custodian.balances[AVAILABLE_BTC] == 10 * BTC
    assert bridge.custodian.balances[ALLOCATED_BTC] == 0
    assert bridge.exchange.books[(ACME.name, "BTC")].mirror_units == 0


def test_refused_clear_releases_the_reservation_and_unlocks(bridge: Bridge) -> None:
    bridge.exchange.faults.add("clear_allocation", refused("exchanges/okx-sim", "ALLOCATION_RELEASED"))

    allocation = bridge.allocations.create(ACME, "USDT", 1_000 * USDT)

    assert (allocation.state, allocation.reason) == (TransferState.RELEASED, "ALLOCATION_RELEASED")
    assert bridge.exchange.reservations["allocation-1"][3] == "RELEASED"
    assert bridge.custodian.balances[("clients/acme/available", "USDT")] == 500_000 * USDT


def test_crash_after_lock_resumes_without_locking_twice(bridge: Bridge) -> None:
    bridge.exchange.faults.add("reserve_allocation", RuntimeError("process killed"))
    with pytest.raises(RuntimeError):
        bridge.allocations.create(ACME, "BTC", 2 * BTC)

    restarted = bridge.restart()
    pending = restarted.allocations.get(ACME, 1)
    assert (pending.state, pending.step) == (TransferState.PENDING, AllocationStep.RESERVE)
    assert restarted.allocations.resume_pending() == 1

    allocation = restarted.allocations.get(ACME, 1)
    assert allocation.state is TransferState.CLEARED
    assert bridge.custodian.count("lock_allocation") == 1
    assert bridge.custodian.balances[ALLOCATED_BTC] == 2 * BTC
    assert bridge.exchange.books[(ACME.name, "BTC")].mirror_units == 2 * BTC
    restarted.database.close()


def test_crash_after_the_exchange_cleared_resumes_with_the_custodian_clear(bridge: Bridge) -> None:
    bridge.custodian.faults.add("clear_allocation", RuntimeError("process killed"))
    with pytest.raises(RuntimeError):
        bridge.allocations.create(ACME, "BTC", 2 * BTC)

    restarted = bridge.restart()
    assert restarted.allocations.get(ACME, 1).step is AllocationStep.CLEAR_LOCK
    assert restarted.allocations.resume_pending() == 1

    assert restarted.allocations.get(ACME, 1).state is TransferState.CLEARED
    assert bridge.custodian.allocations["allocation-1"][3] == "CLEARED"
    assert bridge.exchange.count("clear_allocation") == 1
    assert bridge.exchange.books[(ACME.name, "BTC")].mirror_units == 2 * BTC
    restarted.database.close()


def test_a_refused_custodian_clear_blocks_instead_of_undoing_the_exchange_credit(bridge: Bridge) -> None:
    bridge.custodian.faults.add("clear_allocation", refused("custodian", "ALLOCATION_RELEASED"))

    with pytest.raises(ServiceError) as raised:
        bridge.allocations.create(ACME, "BTC", 2 * BTC)

    assert (raised.value.code, raised.value.reason) == (ErrorCode.INTERNAL, "WORKFLOW_BLOCKED")
    allocation = bridge.allocations.get(ACME, 1)
    assert (allocation.state, allocation.step) == (TransferState.PENDING, AllocationStep.CLEAR_LOCK)
    assert bridge.exchange.count("release_allocation") == 0
    assert bridge.custodian.count("release_allocation") == 0


def test_crash_during_compensation_finishes_compensating(bridge: Bridge) -> None:
    bridge.exchange.faults.add("reserve_allocation", refused("exchanges/okx-sim", "VENUE_HALTED"))
    bridge.custodian.faults.add("release_allocation", RuntimeError("process killed"))
    with pytest.raises(RuntimeError):
        bridge.allocations.create(ACME, "BTC", 2 * BTC)

    restarted = bridge.restart()
    assert restarted.allocations.get(ACME, 1).step is AllocationStep.UNLOCK
    restarted.allocations.resume_pending()

    allocation = restarted.allocations.get(ACME, 1)
    assert (allocation.state, allocation.reason) == (TransferState.RELEASED, "VENUE_HALTED")
    assert bridge.exchange.count("release_allocation") == 1
    assert bridge.custodian.balances[AVAILABLE_BTC] == 10 * BTC
    restarted.database.close()


def test_unreachable_custodian_leaves_the_allocation_pending_until_driven_again(bridge: Bridge) -> None:
    bridge.custodian.faults.add("lock_allocation", unavailable("custodian"))
    with pytest.raises(ServiceError) as raised:
        bridge.allocations.create(ACME, "BTC", BTC)
    assert (raised.value.code, raised.value.reason) == (ErrorCode.UNAVAILABLE, "VENUE_UNAVAILABLE")
    assert bridge.allocations.get(ACME, 1).state is TransferState.PENDING

    allocation = bridge.allocations.drive(1)

    assert allocation.state is TransferState.CLEARED
    assert bridge.custodian.balances[ALLOCATED_BTC] == BTC


def test_allocation_receipt_is_recorded_with_the_allocation(bridge: Bridge) -> None:
    request = bridge_pb2.CreateAllocationRequest(
        request_id="r-1", connection=ACME.name, asset="BTC", amount="1"
    )

    def receipt(allocation: object) -> RequestReceipt:
        return RequestReceipt("CreateAllocation", request, bridge_pb2.CreateAllocationResponse())

    token = set_current_principal(Principal(PrincipalKind.CLIENT, "acme"))
    try:
        bridge.allocations.create(ACME, "BTC", BTC, receipt)
        with pytest.raises(RequestAlreadyRecordedError):
            bridge.allocations.create(ACME, "BTC", BTC, receipt)
        stored = bridge.request_log.lookup("CreateAllocation", request, bridge_pb2.CreateAllocationResponse)
    finally:
        reset_current_principal(token)

    assert stored is not None
    assert bridge.rows("allocations") == 1, "the duplicate's allocation was rolled back with its receipt"


def test_deallocation_holds_unlocks_then_clears(bridge: Bridge) -> None:
    bridge.allocations.create(ACME, "BTC", 2 * BTC)

    deallocation = bridge.deallocations.create(ACME, "BTC", BTC // 2)

    assert deallocation.state is TransferState.CLEARED
    assert deallocation.name == "clients/acme/connections/okx-sim/deallocations/1"
    assert bridge.custodian.balances[ALLOCATED_BTC] == 3 * BTC // 2
    assert bridge.exchange.books[(ACME.name, "BTC")].mirror_units == 3 * BTC // 2
    assert bridge.exchange.books[(ACME.name, "BTC")].held_units == 0
    assert bridge.exchange.calls[-2:] == ["reserve_deallocation", "clear_deallocation"]


def test_refused_hold_rejects_and_unlocks_nothing(bridge: Bridge) -> None:
    bridge.allocations.create(ACME, "BTC", BTC)

    deallocation = bridge.deallocations.create(ACME, "BTC", 2 * BTC)

    assert (deallocation.state, deallocation.reason) == (
        TransferState.REJECTED,
        "INSUFFICIENT_AVAILABLE_CREDIT",
    )
    assert bridge.custodian.count("unlock_allocation") == 0
    assert bridge.custodian.balances[ALLOCATED_BTC] == BTC


def test_refused_unlock_releases_the_hold(bridge: Bridge) -> None:
    bridge.allocations.create(ACME, "BTC", BTC)
    bridge.custodian.faults.add("unlock_allocation", refused("custodian", "CONNECTION_DEFAULTED"))

    deallocation = bridge.deallocations.create(ACME, "BTC", BTC)

    assert (deallocation.state, deallocation.reason) == (TransferState.RELEASED, "CONNECTION_DEFAULTED")
    assert bridge.exchange.count("release_deallocation") == 1
    assert bridge.exchange.books[(ACME.name, "BTC")].held_units == 0
    assert bridge.exchange.books[(ACME.name, "BTC")].mirror_units == BTC


def test_crash_after_unlock_resumes_with_the_clear(bridge: Bridge) -> None:
    bridge.allocations.create(ACME, "BTC", BTC)
    bridge.exchange.faults.add("clear_deallocation", RuntimeError("process killed"))
    with pytest.raises(RuntimeError):
        bridge.deallocations.create(ACME, "BTC", BTC)

    restarted = bridge.restart()
    assert restarted.deallocations.get(ACME, 1).step is DeallocationStep.CLEAR
    assert restarted.deallocations.resume_pending() == 1

    assert restarted.deallocations.get(ACME, 1).state is TransferState.CLEARED
    assert bridge.custodian.count("unlock_allocation") == 1
    assert bridge.custodian.balances[AVAILABLE_BTC] == 10 * BTC
    assert bridge.exchange.books[(ACME.name, "BTC")].mirror_units == 0
    restarted.database.close()


def test_refused_clear_after_unlock_blocks_instead_of_undoing(bridge: Bridge) -> None:
    bridge.allocations.create(ACME, "BTC", BTC)
    bridge.exchange.faults.add("clear_deallocation", refused("exchanges/okx-sim", "DEALLOCATION_NOT_FOUND"))

    with pytest.raises(ServiceError) as raised:
        bridge.deallocations.create(ACME, "BTC", BTC)

    assert (raised.value.code, raised.value.reason) == (ErrorCode.INTERNAL, "WORKFLOW_BLOCKED")
    deallocation = bridge.deallocations.get(ACME, 1)
    assert (deallocation.state, deallocation.step) == (TransferState.PENDING, DeallocationStep.CLEAR)
    assert bridge.exchange.count("release_deallocation") == 0
