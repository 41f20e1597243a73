"""The bridge killed at every named crash point of allocate, deallocate and the settlement cycle.

Each test arms one crash point through the bridge's ControlService, runs the operation until the
bridge dies there, restarts the bridge on the same data directory (it resumes what it left) and
retries the client's request with the same request_id. Afterwards the workflow has completed,
custody and mirror agree, every asset's custody ledger sums to zero, and nothing took effect twice.
The crash unwinds the bridge's thread like a dying process (no open transaction commits) and stops
its server at once; `tests/e2e/test_bridge_crash.py` does the same with a real process exit.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from oes.bridge.v1 import bridge_pb2
from oes.control.v1 import control_pb2, control_pb2_grpc
from oes.exchange.v1 import exchange_pb2
from service_kit.auth import ADMIN
from settlement_bridge.bootstrap import CRASH_POINTS, builder
from tests.integration.sandbox import (
    ALLOCATED,
    BTC,
    CONNECTION,
    InProcessCrash,
    Sandbox,
    start_bridge,
    start_sandbox,
)
from tests.integration.settlement_bridge.conftest import ACME
from tests.integration.support import ASSETS, bearer

USDT = 10**6
OWNERS = ("clients/acme", "exchanges/okx-sim", "world")


@pytest.fixture()
def crash() -> InProcessCrash:
    return InProcessCrash()


@pytest.fixture()
def sandbox(tmp_path: Path, crash: InProcessCrash) -> Iterator[Sandbox]:
    built = start_sandbox(tmp_path, builder(crash))
    crash.running = built.bridge
    yield built
    built.stop()


def arm(sandbox: Sandbox, point: str) -> None:
    control = control_pb2_grpc.ControlServiceStub(grpc.insecure_channel(f"127.0.0.1:{sandbox.bridge.port}"))
    control.SetFault(
        control_pb2.SetFaultRequest(
            request_id=f"arm-{point}",
            fault=control_pb2.Fault(
                crash_point=control_pb2.CrashPointFault(point=point),
                trigger=control_pb2.FaultTrigger(first_calls=1),
            ),
        ),
        metadata=bearer(ADMIN),
    )


def restart_bridge(sandbox: Sandbox, crash: InProcessCrash) -> None:
    sandbox.bridge.stop()
    sandbox.bridge = start_bridge(sandbox.bridge_config, builder(crash))
    crash.running = sandbox.bridge


def until_crash(sandbox: Sandbox, crash: InProcessCrash, point: str, operation: object) -> None:
    """Runs the operation (a callable) expecting the bridge to die at `point`, then restarts it."""
    assert callable(operation)
    with pytest.raises(grpc.RpcError):
        operation()
    assert crash.points == [point], f"the bridge did not crash at {point}"
    restart_bridge(sandbox, crash)


def check_books(sandbox: Sandbox) -> dict[tuple[str, str], int]:
    """Custody allocated equals the mirror; every asset's custody sums to zero. Returns acme's custody."""
    custody: dict[tuple[str, str], int] = {}
    for owner in OWNERS:
        custody.update(sandbox.custody_units(owner))
    for asset in ("BTC", "USDT"):
        assert sum(amount for (_, held), amount in custody.items() if held == asset) == 0, asset
        assert custody.get((ALLOCATED, asset), 0) == sandbox.mirror_units().get((CONNECTION, asset), 0), asset
    return custody


def points_of(workflow: str) -> list[str]:
    """The crash points a happy path of the workflow passes (compensation steps are never reached)."""
    compensation = {
        "allocation": ("RELEASE", "UNLOCK"),
        "deallocation": ("RELEASE",),
        "settlement": ("VOID",),
    }[workflow]
    return [
        point
        for point in CRASH_POINTS
        if point.startswith(f"{workflow}.") and point.split(".")[1] not in compensation
    ]


def test_there_are_crash_points_around_every_call_and_commit() -> None:
    assert len(points_of("allocation")) + len(points_of("deallocation")) + len(points_of("settlement")) >= 20


@pytest.mark.parametrize("point", points_of("allocation"))
def test_an_allocation_completes_after_a_crash_at(
    sandbox: Sandbox, crash: InProcessCrash, point: str
) -> None:
    arm(sandbox, point)

    until_crash(sandbox, crash, point, lambda: sandbox.allocate("allocate-btc", "BTC", "2"))
    # The restarted bridge resumed the workflow on its own; the client's retry returns it.
    resumed = sandbox.network.GetAllocation(
        bridge_pb2.GetAllocationRequest(name=f"{CONNECTION}/allocations/1"), metadata=bearer(ACME)
    ).allocation
    assert resumed.state == bridge_pb2.TRANSFER_STATE_CLEARED, resumed.reason
    allocation = sandbox.allocate("allocate-btc", "BTC", "2")
    assert allocation == resumed

    assert allocation.state == bridge_pb2.TRANSFER_STATE_CLEARED, allocation.reason
    custody = check_books(sandbox)
    assert custody[(ALLOCATED, "BTC")] == 2 * BTC, "allocated once"
    assert custody[("clients/acme/available", "BTC")] == 8 * BTC


@pytest.mark.parametrize("point", points_of("deallocation"))
def test_a_deallocation_completes_after_a_crash_at(
    sandbox: Sandbox, crash: InProcessCrash, point: str
) -> None:
    assert sandbox.allocate("allocate-btc", "BTC", "2").state == bridge_pb2.TRANSFER_STATE_CLEARED
    arm(sandbox, point)

    def deallocate() -> bridge_pb2.Deallocation:
        return sandbox.network.CreateDeallocation(
            bridge_pb2.CreateDeallocationRequest(
                request_id="home", connection=CONNECTION, asset="BTC", amount="0.5"
            ),
            metadata=bearer(ACME),
        ).deallocation

    until_crash(sandbox, crash, point, deallocate)
    resumed = sandbox.network.GetDeallocation(
        bridge_pb2.GetDeallocationRequest(name=f"{CONNECTION}/deallocations/1"), metadata=bearer(ACME)
    ).deallocation
    assert resumed.state == bridge_pb2.TRANSFER_STATE_CLEARED, resumed.reason
    deallocation = deallocate()
    assert deallocation == resumed

    assert deallocation.state == bridge_pb2.TRANSFER_STATE_CLEARED, deallocation.reason
    custody = check_books(sandbox)
    assert custody[(ALLOCATED, "BTC")] == 3 * BTC // 2, "deallocated once"
    assert custody[("clients/acme/available", "BTC")] == 17 * BTC // 2


@pytest.mark.parametrize("point", points_of("settlement"))
def test_a_settlement_cycle_completes_after_a_crash_at(
    sandbox: Sandbox, crash: InProcessCrash, point: str
) -> None:
    for asset, amount in (("BTC", "2"), ("USDT", "100000")):
        assert sandbox.allocate(f"allocate-{asset}", asset, amount).state == bridge_pb2.TRANSFER_STATE_CLEARED
    order = sandbox.trading.PlaceOrder(
        exchange_pb2.PlaceOrderRequest(
            request_id="buy",
            account="clients/acme",
            market="BTC-USDT",
            side=exchange_pb2.SIDE_BUY,
            type=exchange_pb2.ORDER_TYPE_MARKET,
            quantity="0.5",
        ),
        metadata=bearer(ACME),
    ).order
    cost_units = sum(
        ASSETS.parse("USDT", fill.price) * ASSETS.parse("BTC", fill.quantity) // BTC
        + ASSETS.parse("USDT", fill.fee)
        for fill in order.fills
    )
    exchange_before = sandbox.custody_units("exchanges/okx-sim")
    arm(sandbox, point)

    until_crash(sandbox, crash, point, lambda: sandbox.settle("settle-1"))
    resumed = sandbox.network.ListSettlements(
        bridge_pb2.ListSettlementsRequest(), metadata=bearer(ADMIN)
    ).settlements
    assert [(cycle.name, cycle.state) for cycle in resumed] == [
        ("settlements/1", bridge_pb2.SETTLEMENT_STATE_SUCCEEDED)
    ]
    settlement = sandbox.settle("settle-1")
    assert settlement == resumed[0]

    assert settlement.state == bridge_pb2.SETTLEMENT_STATE_SUCCEEDED, settlement.reason
    assert settlement.statement.name == "exchanges/okx-sim/statements/1"
    custody = check_books(sandbox)
    assert custody[(ALLOCATED, "BTC")] == 5 * BTC // 2, "the statement executed once"
    assert custody[(ALLOCATED, "USDT")] == 100_000 * USDT - cost_units
    settlement_account = "exchanges/okx-sim/settlement"
    exchange_after = sandbox.custody_units("exchanges/okx-sim")
    assert (
        exchange_after[(settlement_account, "USDT")] - exchange_before[(settlement_account, "USDT")]
        == cost_units
    )
    venue = sandbox.partner.GetVenue(exchange_pb2.GetVenueRequest(), metadata=bearer(ADMIN))
    assert venue.last_statement == "exchanges/okx-sim/statements/1", "no second cutoff"
