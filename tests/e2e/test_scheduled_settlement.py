"""Simulated time over three real processes: advancing the clocks runs the bridge's scheduled cycle."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.protobuf import duration_pb2

from oes.bridge.v1 import bridge_pb2
from oes.control.v1 import control_pb2
from oes.exchange.v1 import exchange_pb2
from scenarios.endpoints import SandboxSession, admin_session, client_principal
from scenarios.seeding import seed_world
from scenarios.supervisor import ServicePorts, Supervisor
from scenarios.world import DEMO_WORLD_PATH, load_world
from service_kit.auth import TokenAuthority
from service_kit.config import AUTH_SECRET_DEFAULT

pytestmark = pytest.mark.e2e

AUTHORITY = TokenAuthority(AUTH_SECRET_DEFAULT)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Supervisor]:
    world = load_world(DEMO_WORLD_PATH)
    supervisor = Supervisor(
        world, tmp_path_factory.mktemp("sim"), "sim", ServicePorts(0, 0, 0), say=lambda message: None
    )
    supervisor.start()
    try:
        seed_world(world, supervisor.endpoints, AUTHORITY, say=lambda message: None)
        yield supervisor
    finally:
        supervisor.stop()


def test_an_hour_of_sandbox_time_settles_the_trade(simulated: Supervisor) -> None:
    endpoints = simulated.endpoints
    admin = admin_session(endpoints, AUTHORITY)
    acme = SandboxSession(endpoints, AUTHORITY, client_principal("acme"))
    try:
        allocation = acme.network.CreateAllocation(
            bridge_pb2.CreateAllocationRequest(
                request_id="sim-allocate",
                connection="clients/acme/connections/okx-sim",
                asset="USDT",
                amount="70000",
            )
        ).allocation
        assert allocation.state == bridge_pb2.TRANSFER_STATE_CLEARED
        acme.trading.PlaceOrder(
            exchange_pb2.PlaceOrderRequest(
                request_id="sim-buy",
                account="clients/acme",
                market="BTC-USDT",
                side=exchange_pb2.SIDE_BUY,
                type=exchange_pb2.ORDER_TYPE_MARKET,
                quantity="1",
            )
        )
        assert not admin.network.ListSettlements(bridge_pb2.ListSettlementsRequest()).settlements

        clock_before = admin.control(endpoints.bridge).GetClock(control_pb2.GetClockRequest())
        assert clock_before.mode == control_pb2.CLOCK_MODE_SIM
        # The venues move first so that the cutoff the bridge asks for is stamped an hour later too.
        timers_run = {}
        for address in (endpoints.custodian, endpoints.exchange, endpoints.bridge):
            advanced = admin.control(address).AdvanceClock(
                control_pb2.AdvanceClockRequest(
                    request_id="sim-hour", duration=duration_pb2.Duration(seconds=3600)
                )
            )
            timers_run[address] = advanced.timers_run_count
        assert timers_run[endpoints.bridge] >= 1

        settlements = admin.network.ListSettlements(bridge_pb2.ListSettlementsRequest()).settlements
        assert [settlement.state for settlement in settlements] == [bridge_pb2.SETTLEMENT_STATE_SUCCEEDED]
        statement = settlements[0].statement
        assert statement.cutoff_time.seconds == clock_before.now.seconds + 3600
        assert {entry.asset for entry in statement.entries} == {"BTC", "USDT"}
    finally:
        acme.close()
        admin.close()
