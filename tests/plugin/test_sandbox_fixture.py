"""The `sandbox` fixture an integrator gets with `pip install`: running services, reset for every test."""

from __future__ import annotations

from decimal import Decimal

import pytest

from oes.bridge.v1 import bridge_pb2
from oes.custodian.v1 import custodian_pb2
from oes.exchange.v1 import exchange_pb2
from scenarios.pytest_plugin import Sandbox

pytestmark = pytest.mark.e2e

CONNECTION = "clients/acme/connections/okx-sim"


def available_btc(sandbox: Sandbox) -> Decimal:
    balances = sandbox.client("acme").custody.ListBalances(
        custodian_pb2.ListBalancesRequest(owner="clients/acme")
    )
    return next(
        Decimal(balance.amount)
        for balance in balances.balances
        if balance.account == "clients/acme/available" and balance.asset == "BTC"
    )


def test_a_trade_settles_when_an_hour_of_sandbox_time_passes(sandbox: Sandbox) -> None:
    acme = sandbox.client("acme")
    for asset, amount in (("BTC", "1"), ("USDT", "100000")):
        allocation = acme.network.CreateAllocation(
            bridge_pb2.CreateAllocationRequest(
                request_id=f"allocate-{asset}", connection=CONNECTION, asset=asset, amount=amount
            )
        ).allocation
        assert allocation.state == bridge_pb2.TRANSFER_STATE_CLEARED
    acme.trading.PlaceOrder(
        exchange_pb2.PlaceOrderRequest(
            request_id="buy",
            account="clients/acme",
            market="BTC-USDT",
            side=exchange_pb2.SIDE_BUY,
            type=exchange_pb2.ORDER_TYPE_MARKET,
            quantity="0.1",
        )
    )

    sandbox.advance(3600)

    settlements = sandbox.admin.network.ListSettlements(bridge_pb2.ListSettlementsRequest()).settlements
    assert [settlement.state for settlement in settlements][:1] == [bridge_pb2.SETTLEMENT_STATE_SUCCEEDED]
    assert available_btc(sandbox) == Decimal("9")
    assert sandbox.token(sandbox.client("acme").principal).startswith("oes1.clients/acme.")


def test_every_test_starts_from_the_seeded_world(sandbox: Sandbox) -> None:
    # Whatever the test before allocated and settled is gone: acme has its 10 BTC available again.
    assert available_btc(sandbox) == Decimal("10")
    assert not sandbox.admin.network.ListSettlements(bridge_pb2.ListSettlementsRequest()).settlements
