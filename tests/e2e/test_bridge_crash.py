"""The bridge process exits at an armed crash point; restarted by the supervisor, it completes the work."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import grpc
import pytest

from oes.bridge.v1 import bridge_pb2
from oes.control.v1 import control_pb2
from oes.custodian.v1 import custodian_pb2
from oes.exchange.v1 import exchange_pb2
from scenarios.endpoints import Endpoints, SandboxSession, admin_session, client_principal
from scenarios.supervisor import Supervisor
from service_kit.auth import TokenAuthority
from service_kit.faults import CRASH_POINT_EXIT_CODE

pytestmark = pytest.mark.e2e

CONNECTION = "clients/acme/connections/okx-sim"
EXIT_WAIT_S = 15.0


@pytest.fixture(scope="module")
def admin(endpoints: Endpoints, authority: TokenAuthority) -> Iterator[SandboxSession]:
    session = admin_session(endpoints, authority)
    yield session
    session.close()


def test_a_bridge_killed_between_the_exchange_clear_and_the_custodian_clear_finishes_the_allocation(
    sandbox: Supervisor, endpoints: Endpoints, authority: TokenAuthority, admin: SandboxSession
) -> None:
    admin.control(endpoints.bridge).SetFault(
        control_pb2.SetFaultRequest(
            request_id="arm-clear",
            fault=control_pb2.Fault(
                crash_point=control_pb2.CrashPointFault(point="allocation.CLEAR.after_call")
            ),
        )
    )
    request = bridge_pb2.CreateAllocationRequest(
        request_id="crash-allocate", connection=CONNECTION, asset="BTC", amount="1.5"
    )
    acme = SandboxSession(endpoints, authority, client_principal("acme"))
    try:
        with pytest.raises(grpc.RpcError) as lost:
            acme.network.CreateAllocation(request, timeout=10)
        assert lost.value.code() == grpc.StatusCode.UNAVAILABLE
        bridge = sandbox.processes["bridge"].process
        assert bridge is not None
        deadline_s = time.monotonic() + EXIT_WAIT_S
        while bridge.poll() is None and time.monotonic() < deadline_s:
            time.sleep(0.05)
        assert bridge.returncode == CRASH_POINT_EXIT_CODE

        sandbox.check()  # The supervisor restarts it; the bridge resumes the allocation at start.

        allocation = acme.network.CreateAllocation(request, timeout=10).allocation
    finally:
        acme.close()
    assert allocation.state == bridge_pb2.TRANSFER_STATE_CLEARED, allocation.reason
    balances = admin.custody.ListBalances(custodian_pb2.ListBalancesRequest(owner="clients/acme")).balances
    allocated = {
        balance.asset: Decimal(balance.amount)
        for balance in balances
        if balance.account.endswith("allocated")
    }
    mirrors = {
        mirror.asset: Decimal(mirror.mirror)
        for mirror in admin.partner.ListMirrors(exchange_pb2.ListMirrorsRequest()).mirrors
        if mirror.connection == CONNECTION
    }
    assert allocated["BTC"] == mirrors["BTC"] == Decimal("1.5")
