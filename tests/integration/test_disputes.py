"""Disputes with the three services: an entry disputed in the window is held; its decision settles later.

acme allocates USDT and BTC and buys BTC; the bridge cuts off a statement and waits for its dispute
window. acme disputes the USDT entry (it says it was charged 100 USDT too much). When the window
closes the statement executes without that entry; the exchange keeps it unsettled, so the next
statement carries it; once an administrator decides, the next cycle closes the held entry and moves
the approved difference at the custodian and the exchange alike. Over both cycles acme settles the
undisputed amounts plus the decided amount.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import duration_pb2

from oes.bridge.v1 import bridge_pb2
from oes.control.v1 import control_pb2, control_pb2_grpc
from oes.exchange.v1 import exchange_pb2
from service_kit.auth import ADMIN
from service_kit.rpc_errors import remote_error
from tests.integration.sandbox import ALLOCATED, BTC, CONNECTION, Sandbox, start_bridge, start_sandbox
from tests.integration.settlement_bridge.conftest import ACME
from tests.integration.support import ASSETS, bearer

USDT = 10**6
WINDOW_S = 600
STATEMENT_1 = "exchanges/okx-sim/statements/1"
OWNERS = ("clients/acme", "exchanges/okx-sim", "world")


@pytest.fixture()
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    built = start_sandbox(tmp_path)
    built.bridge.stop()
    built.bridge_config = dataclasses.replace(built.bridge_config, dispute_window_s=WINDOW_S)
    built.bridge = start_bridge(built.bridge_config)
    yield built
    built.stop()


def advance_bridge(sandbox: Sandbox, request_id: str, seconds: int) -> None:
    control = control_pb2_grpc.ControlServiceStub(grpc.insecure_channel(f"127.0.0.1:{sandbox.bridge.port}"))
    control.AdvanceClock(
        control_pb2.AdvanceClockRequest(
            request_id=request_id, duration=duration_pb2.Duration(seconds=seconds)
        ),
        metadata=bearer(ADMIN),
    )


def dispute(sandbox: Sandbox, claimed: str) -> bridge_pb2.Dispute:
    return sandbox.network.CreateDispute(
        bridge_pb2.CreateDisputeRequest(
            request_id="dispute-usdt",
            statement=STATEMENT_1,
            connection=CONNECTION,
            asset="USDT",
            claimed_amount=claimed,
            reason="charged 100 USDT too much",
        ),
        metadata=bearer(ACME),
    ).dispute


def books(sandbox: Sandbox) -> dict[tuple[str, str], int]:
    custody: dict[tuple[str, str], int] = {}
    for owner in OWNERS:
        custody.update(sandbox.custody_units(owner))
    for asset in ("BTC", "USDT"):
        assert sum(amount for (_, held), amount in custody.items() if held == asset) == 0, asset
        assert custody[(ALLOCATED, asset)] == sandbox.mirror_units()[(CONNECTION, asset)], asset
    return custody


def bought(sandbox: Sandbox) -> int:
    """Acme buys 0.5 BTC; returns what it paid in USDT units (notional and fee)."""
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
    return sum(
        ASSETS.parse("USDT", fill.price) * ASSETS.parse("BTC", fill.quantity) // BTC
        + ASSETS.parse("USDT", fill.fee)
        for fill in order.fills
    )


@pytest.mark.parametrize("approve", [True, False])
def test_a_disputed_entry_is_held_and_its_decision_settles_in_the_next_cycle(
    sandbox: Sandbox, approve: bool
) -> None:
    for asset, amount in (("BTC", "2"), ("USDT", "100000")):
        assert sandbox.allocate(f"allocate-{asset}", asset, amount).state == bridge_pb2.TRANSFER_STATE_CLEARED
    cost_units = bought(sandbox)
    first = sandbox.settle("settle-1")
    assert (first.state, first.step) == (
        bridge_pb2.SETTLEMENT_STATE_RUNNING,
        bridge_pb2.SETTLEMENT_STEP_EXECUTE,
    )
    claimed_units = -(cost_units - 100 * USDT)

    opened = dispute(sandbox, ASSETS.format("USDT", claimed_units))
    assert opened.state == bridge_pb2.DISPUTE_STATE_OPEN
    assert opened.stated_amount == ASSETS.format("USDT", -cost_units)
    advance_bridge(sandbox, "close-window-1", WINDOW_S)

    # The statement executed when the window closed, without the disputed entry.
    executed = sandbox.network.GetSettlement(
        bridge_pb2.GetSettlementRequest(name=first.name), metadata=bearer(ADMIN)
    ).settlement
    assert executed.state == bridge_pb2.SETTLEMENT_STATE_SUCCEEDED, executed.reason
    assert {(entry.asset, entry.state) for entry in executed.entries} == {
        ("BTC", bridge_pb2.ENTRY_STATE_SETTLED),
        ("USDT", bridge_pb2.ENTRY_STATE_DISPUTED),
    }
    held = books(sandbox)
    assert held[(ALLOCATED, "BTC")] == 5 * BTC // 2
    assert held[(ALLOCATED, "USDT")] == 100_000 * USDT, "the disputed loss is held"
    with pytest.raises(grpc.RpcError) as late:
        dispute(sandbox, "0")
    assert remote_error(late.value).reason in ("DISPUTE_WINDOW_CLOSED", "REQUEST_ID_REUSED")

    sandbox.bridge_admin.ResolveDispute(
        bridge_pb2.ResolveDisputeRequest(request_id="decide", name=opened.name, approve=approve),
        metadata=bearer(ADMIN),
    )
    second = sandbox.settle("settle-2")
    assert second.state == bridge_pb2.SETTLEMENT_STATE_RUNNING
    carried = {entry.asset: entry.amount for entry in second.statement.entries}
    assert carried == {"USDT": ASSETS.format("USDT", -cost_units)}, (
        "the next statement carries the held entry"
    )
    advance_bridge(sandbox, "close-window-2", WINDOW_S)

    final = books(sandbox)
    decided_units = claimed_units if approve else -cost_units
    assert final[(ALLOCATED, "USDT")] == 100_000 * USDT + decided_units
    assert final[(ALLOCATED, "BTC")] == 5 * BTC // 2
    (settled,) = sandbox.network.ListDisputes(
        bridge_pb2.ListDisputesRequest(), metadata=bearer(ACME)
    ).disputes
    assert settled.state == (
        bridge_pb2.DISPUTE_STATE_APPROVED if approve else bridge_pb2.DISPUTE_STATE_REJECTED
    )
    assert settled.settled_amount == ASSETS.format("USDT", decided_units)
    unsettled = sandbox.partner.ListMirrors(exchange_pb2.ListMirrorsRequest(), metadata=bearer(ADMIN)).mirrors
    assert {(mirror.asset, mirror.unsettled) for mirror in unsettled} == {
        ("BTC", "0.00000000"),
        ("USDT", "0.000000"),
    }
