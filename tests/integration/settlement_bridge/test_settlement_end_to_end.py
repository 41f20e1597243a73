"""The bridge between a real custodian and a real exchange, all three served in-process on free ports.

A client allocates, buys one BTC on the exchange, and the bridge settles: afterwards custodian
`allocated` equals exchange `mirror` for both assets, and the trade's cost and proceeds have
moved between the client's allocation and the exchange's settlement account at the custodian.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from oes.bridge.v1 import bridge_pb2
from oes.custodian.v1 import custodian_pb2, custodian_pb2_grpc
from oes.exchange.v1 import exchange_pb2
from service_kit.auth import ADMIN, BRIDGE
from tests.integration.sandbox import ALLOCATED, BTC, CONNECTION, Sandbox, start_bridge, start_sandbox
from tests.integration.settlement_bridge.conftest import (
    ACME,
    channel,
)
from tests.integration.support import ASSETS, bearer


@pytest.fixture()
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    built = start_sandbox(tmp_path)
    yield built
    built.stop()


def test_trade_settles_inside_custody_and_reconciles(sandbox: Sandbox) -> None:
    btc = sandbox.allocate("allocate-btc", "BTC", "2")
    usdt = sandbox.allocate("allocate-usdt", "USDT", "100000")
    assert (btc.state, usdt.state) == (bridge_pb2.TRANSFER_STATE_CLEARED, bridge_pb2.TRANSFER_STATE_CLEARED)
    assert sandbox.mirror_units()[(CONNECTION, "BTC")] == 2 * BTC
    exchange_before = sandbox.custody_units("exchanges/okx-sim")

    order = sandbox.trading.PlaceOrder(
        exchange_pb2.PlaceOrderRequest(
            request_id="buy-1",
            account="clients/acme",
            market="BTC-USDT",
            side=exchange_pb2.SIDE_BUY,
            type=exchange_pb2.ORDER_TYPE_MARKET,
            quantity="1",
        ),
        metadata=bearer(ACME),
    ).order
    assert order.filled_quantity == "1.00000000"
    paid_units = sum(
        ASSETS.parse("USDT", fill.price) * ASSETS.parse("BTC", fill.quantity) // BTC
        + ASSETS.parse("USDT", fill.fee)
        for fill in order.fills
    )

    settlement = sandbox.settle("settle-1")

    assert (settlement.state, settlement.step, settlement.reason) == (
        bridge_pb2.SETTLEMENT_STATE_SUCCEEDED,
        bridge_pb2.SETTLEMENT_STEP_DONE,
        "",
    )
    assert list(settlement.breaks) == []
    assert settlement.statement.name == "exchanges/okx-sim/statements/1"
    assert [(entry.connection, entry.asset, entry.amount) for entry in settlement.statement.entries] == [
        (CONNECTION, "BTC", "1.00000000"),
        (CONNECTION, "USDT", ASSETS.format("USDT", -paid_units)),
    ]
    custody = sandbox.custody_units("clients/acme")
    mirrors = sandbox.mirror_units()
    for asset in ("BTC", "USDT"):
        assert custody[(ALLOCATED, asset)] == mirrors[(CONNECTION, asset)], asset
    assert custody[(ALLOCATED, "BTC")] == 3 * BTC
    assert custody[(ALLOCATED, "USDT")] == ASSETS.parse("USDT", "100000") - paid_units
    exchange_after = sandbox.custody_units("exchanges/okx-sim")
    settlement_account = "exchanges/okx-sim/settlement"
    assert (
        exchange_after[(settlement_account, "USDT")] - exchange_before[(settlement_account, "USDT")]
        == paid_units
    )
    assert exchange_before[(settlement_account, "BTC")] - exchange_after[(settlement_account, "BTC")] == BTC

    retried = sandbox.settle("settle-1")
    assert retried == settlement
    assert sandbox.custody_units("clients/acme") == custody

    quiet = sandbox.settle("settle-2")
    assert quiet.state == bridge_pb2.SETTLEMENT_STATE_SUCCEEDED
    assert quiet.statement.previous_statement == "exchanges/okx-sim/statements/1"
    assert list(quiet.statement.entries) == []
    assert sandbox.custody_units("clients/acme") == custody


def test_allocation_beyond_the_available_balance_is_rejected_and_moves_nothing(sandbox: Sandbox) -> None:
    custody_before = sandbox.custody_units("clients/acme")

    allocation = sandbox.allocate("too-much", "BTC", "10.00000001")

    assert (allocation.state, allocation.reason) == (
        bridge_pb2.TRANSFER_STATE_REJECTED,
        "INSUFFICIENT_BALANCE",
    )
    assert allocation.HasField("end_time")
    assert sandbox.custody_units("clients/acme") == custody_before
    assert sandbox.mirror_units().get((CONNECTION, "BTC"), 0) == 0
    retried = sandbox.allocate("too-much", "BTC", "10.00000001")
    assert retried == allocation


def test_deallocation_brings_credit_home(sandbox: Sandbox) -> None:
    sandbox.allocate("allocate-btc", "BTC", "2")

    deallocation = sandbox.network.CreateDeallocation(
        bridge_pb2.CreateDeallocationRequest(
            request_id="home", connection=CONNECTION, asset="BTC", amount="0.5"
        ),
        metadata=bearer(ACME),
    ).deallocation

    assert deallocation.state == bridge_pb2.TRANSFER_STATE_CLEARED
    custody = sandbox.custody_units("clients/acme")
    assert custody[("clients/acme/available", "BTC")] == 85 * BTC // 10
    assert custody[(ALLOCATED, "BTC")] == sandbox.mirror_units()[(CONNECTION, "BTC")] == 3 * BTC // 2


def test_bridge_restart_keeps_settlements_and_continues_the_chain(sandbox: Sandbox) -> None:
    sandbox.allocate("allocate-btc", "BTC", "2")
    first = sandbox.settle("settle-1")
    sandbox.bridge.stop()

    sandbox.bridge = start_bridge(sandbox.bridge_config)

    fetched = sandbox.network.GetSettlement(
        bridge_pb2.GetSettlementRequest(name=first.name), metadata=bearer(ADMIN)
    ).settlement
    assert fetched == first
    second = sandbox.settle("settle-2")
    assert second.state == bridge_pb2.SETTLEMENT_STATE_SUCCEEDED
    assert second.statement.number == 2


def test_client_sees_only_its_own_allocations(sandbox: Sandbox) -> None:
    allocation = sandbox.allocate("allocate-btc", "BTC", "1")

    fetched = sandbox.network.GetAllocation(
        bridge_pb2.GetAllocationRequest(name=allocation.name), metadata=bearer(ACME)
    ).allocation

    assert fetched == allocation
    with pytest.raises(grpc.RpcError) as raised:
        sandbox.network.GetAllocation(
            bridge_pb2.GetAllocationRequest(name=allocation.name.replace("acme", "globex")),
            metadata=bearer(ACME),
        )
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_loss_the_custodian_cannot_take_settles_the_rest_and_leaves_it_unsettled(sandbox: Sandbox) -> None:
    sandbox.allocate("allocate-btc", "BTC", "2")
    sandbox.allocate("allocate-usdt", "USDT", "100000")
    # A break the bridge did not cause: 50,000 USDT of the allocation is unlocked at the custodian only.
    custodian_settlement = custodian_pb2_grpc.CustodySettlementServiceStub(channel(sandbox.custodian.port))
    custodian_settlement.UnlockAllocation(
        custodian_pb2.UnlockAllocationRequest(
            request_id="out-of-band",
            connection=CONNECTION,
            unlock_id="out-of-band",
            asset="USDT",
            amount="50000",
        ),
        metadata=bearer(BRIDGE),
    )
    sandbox.trading.PlaceOrder(
        exchange_pb2.PlaceOrderRequest(
            request_id="buy-1",
            account="clients/acme",
            market="BTC-USDT",
            side=exchange_pb2.SIDE_BUY,
            type=exchange_pb2.ORDER_TYPE_MARKET,
            quantity="1",
        ),
        metadata=bearer(ACME),
    )

    settlement = sandbox.settle("settle-1")

    assert (settlement.state, settlement.step) == (
        bridge_pb2.SETTLEMENT_STATE_SUCCEEDED,
        bridge_pb2.SETTLEMENT_STEP_DONE,
    )
    recorded = custodian_settlement.GetStatement(
        custodian_pb2.GetStatementRequest(name=settlement.statement.name), metadata=bearer(BRIDGE)
    ).statement
    assert recorded.state == custodian_pb2.STATEMENT_STATE_PARTIALLY_SUCCEEDED
    assert [(entry.asset, entry.state, entry.reason) for entry in recorded.entry_outcomes] == [
        ("BTC", custodian_pb2.ENTRY_STATE_SETTLED, ""),
        ("USDT", custodian_pb2.ENTRY_STATE_FAILED, "LOSS_EXCEEDS_ALLOCATION"),
    ]
    # Only the BTC gain was re-based; the USDT loss stays unsettled at the exchange.
    mirrors = sandbox.partner.ListMirrors(exchange_pb2.ListMirrorsRequest(), metadata=bearer(BRIDGE)).mirrors
    usdt_loss = recorded.entry_outcomes[1].amount
    assert [(mirror.asset, mirror.mirror, mirror.unsettled) for mirror in mirrors] == [
        ("BTC", "3.00000000", "0.00000000"),
        ("USDT", "100000.000000", usdt_loss),
    ]
    custody = sandbox.custody_units("clients/acme")
    assert (custody[(ALLOCATED, "BTC")], custody[(ALLOCATED, "USDT")]) == (
        3 * BTC,
        ASSETS.parse("USDT", "50000"),
    )
    # The out-of-band unlock is the only break: custody holds less than the mirror.
    assert [(found.connection, found.asset) for found in settlement.breaks] == [(CONNECTION, "USDT")]
    claims = sandbox.custody.ListClaims(
        custodian_pb2.ListClaimsRequest(party="clients/acme"), metadata=bearer(ACME)
    ).claims
    assert [(claim.creditor, claim.amount, claim.reason) for claim in claims] == [
        ("exchanges/okx-sim", usdt_loss.lstrip("-"), "LOSS_EXCEEDS_ALLOCATION")
    ]


def test_the_custodian_records_each_allocation_cleared_or_rejected(sandbox: Sandbox) -> None:
    cleared = sandbox.allocate("allocate-btc", "BTC", "2")
    rejected = sandbox.allocate("too-much", "BTC", "10")
    custodian_settlement = custodian_pb2_grpc.CustodySettlementServiceStub(channel(sandbox.custodian.port))

    def at_custodian(number: int) -> custodian_pb2.Allocation:
        name = f"{CONNECTION}/allocations/allocation-{number}"
        request = custodian_pb2.GetAllocationRequest(name=name)
        return custodian_settlement.GetAllocation(request, metadata=bearer(BRIDGE)).allocation

    assert (cleared.state, rejected.state) == (
        bridge_pb2.TRANSFER_STATE_CLEARED,
        bridge_pb2.TRANSFER_STATE_REJECTED,
    )
    assert (at_custodian(1).state, at_custodian(1).amount) == (
        custodian_pb2.ALLOCATION_STATE_CLEARED,
        "2.00000000",
    )
    assert (at_custodian(2).state, at_custodian(2).reason) == (
        custodian_pb2.ALLOCATION_STATE_REJECTED,
        "INSUFFICIENT_BALANCE",
    )
