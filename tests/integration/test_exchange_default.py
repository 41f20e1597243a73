"""An exchange that fails (unreachable past the grace, or insolvent): the bridge runs its default once.

Every OES client of the exchange gets its principal back in `available` at the custodian, minus
at most its unsettled loss; each connection ends DEFAULTED with its outcome; the outcome is in
the event feed; new business on the exchange is refused and its settlement schedule ends.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration

from oes.bridge.v1 import bridge_pb2
from oes.control.v1 import control_pb2, control_pb2_grpc
from oes.exchange.v1 import exchange_pb2, exchange_pb2_grpc
from service_kit.auth import ADMIN, BRIDGE
from service_kit.rpc_errors import remote_error
from settlement_bridge.bootstrap import builder
from settlement_bridge.service_layer.defaults import DEFAULT_CRASH_POINTS
from tests.integration.sandbox import ALLOCATED, CONNECTION, Sandbox, start_bridge, start_sandbox
from tests.integration.settlement_bridge.conftest import ACME, channel
from tests.integration.support import ASSETS, bearer
from tests.integration.test_bridge_crash_points import InProcessCrash, arm, until_crash

AVAILABLE = "clients/acme/available"
RELEASE_ON_DEFAULT = "/oes.custodian.v1.CustodySettlementService/ReleaseOnDefault"
ASSET_CODES = ("BTC", "USDT")


@pytest.fixture()
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    built = start_sandbox(tmp_path)
    yield built
    built.bridge.stop()
    if built.exchange is not None:
        built.exchange.stop()
    built.custodian.stop()


def control(port: int) -> control_pb2_grpc.ControlServiceStub:
    return control_pb2_grpc.ControlServiceStub(channel(port))


def advance_bridge(sandbox: Sandbox, request_id: str, seconds: int) -> None:
    control(sandbox.bridge.port).AdvanceClock(
        control_pb2.AdvanceClockRequest(request_id=request_id, duration=Duration(seconds=seconds)),
        metadata=bearer(ADMIN),
    )


def arm_on_custodian(sandbox: Sandbox, request_id: str, call: control_pb2.CallFault) -> None:
    control(sandbox.custodian.port).SetFault(
        control_pb2.SetFaultRequest(request_id=request_id, fault=control_pb2.Fault(call=call)),
        metadata=bearer(ADMIN),
    )


def count_release_on_default_calls(sandbox: Sandbox) -> None:
    """Arms a harmless fault whose fired_count counts the custodian's ReleaseOnDefault calls."""
    arm_on_custodian(
        sandbox,
        "count-release",
        control_pb2.CallFault(
            method=RELEASE_ON_DEFAULT,
            action=control_pb2.CALL_FAULT_ACTION_ADD_LATENCY,
            latency=Duration(nanos=1_000_000),
        ),
    )


def release_on_default_calls(sandbox: Sandbox) -> int:
    listed = control(sandbox.custodian.port).ListFaults(
        control_pb2.ListFaultsRequest(), metadata=bearer(ADMIN)
    )
    return sum(fault.fired_count for fault in listed.faults if fault.call.method == RELEASE_ON_DEFAULT)


def market_order(sandbox: Sandbox, request_id: str, side: int, quantity: str) -> exchange_pb2.Order:
    return sandbox.trading.PlaceOrder(
        exchange_pb2.PlaceOrderRequest(
            request_id=request_id,
            account="clients/acme",
            market="BTC-USDT",
            side=side,
            type=exchange_pb2.ORDER_TYPE_MARKET,
            quantity=quantity,
        ),
        metadata=bearer(ACME),
    ).order


def unsettled_units(sandbox: Sandbox) -> dict[str, int]:
    """The unsettled result of acme at the exchange, per asset."""
    response = sandbox.partner.ListMirrors(exchange_pb2.ListMirrorsRequest(), metadata=bearer(BRIDGE))
    return {
        mirror.asset: ASSETS.parse(mirror.asset, mirror.unsettled, allow_negative=True, allow_zero=True)
        for mirror in response.mirrors
        if mirror.connection == CONNECTION
    }


def trade_settle_and_trade_again(sandbox: Sandbox) -> dict[str, int]:
    """Allocates both assets, buys (a gain in BTC, a loss in USDT), settles, then sells unsettled.

    Returns acme's unsettled result per asset at the end.
    """
    for asset, amount in (("BTC", "2"), ("USDT", "100000")):
        allocation = sandbox.allocate(f"allocate-{asset}", asset, amount)
        assert allocation.state == bridge_pb2.TRANSFER_STATE_CLEARED
    market_order(sandbox, "buy", exchange_pb2.SIDE_BUY, "1")
    assert sandbox.settle("settle-1").state == bridge_pb2.SETTLEMENT_STATE_SUCCEEDED
    market_order(sandbox, "sell", exchange_pb2.SIDE_SELL, "0.5")
    unsettled = unsettled_units(sandbox)
    assert unsettled["BTC"] == -50_000_000 and unsettled["USDT"] > 0, unsettled
    return unsettled


def set_insolvent(sandbox: Sandbox) -> None:
    exchange_pb2_grpc.ExchangeAdminServiceStub(channel(sandbox.exchange.port)).SetVenueState(
        exchange_pb2.SetVenueStateRequest(request_id="collapse", state=exchange_pb2.VENUE_STATE_INSOLVENT),
        metadata=bearer(ADMIN),
    )


def acme_connection(sandbox: Sandbox) -> bridge_pb2.Connection:
    listed = sandbox.network.ListConnections(bridge_pb2.ListConnectionsRequest(), metadata=bearer(ACME))
    [connection] = listed.connections
    return connection


def venue_health(sandbox: Sandbox) -> dict[str, bridge_pb2.VenueHealth]:
    response = sandbox.bridge_admin.GetVenueHealth(bridge_pb2.GetVenueHealthRequest(), metadata=bearer(ADMIN))
    assert [venue.venue for venue in response.venues] == ["custodian", "exchanges/okx-sim"]
    return {venue.venue: venue for venue in response.venues}


def journal(sandbox: Sandbox) -> list[control_pb2.JournalEvent]:
    return list(
        control(sandbox.bridge.port)
        .ListJournal(control_pb2.ListJournalRequest(page_size=1000), metadata=bearer(ADMIN))
        .events
    )


def acme_events_until_default(sandbox: Sandbox) -> list[bridge_pb2.Event]:
    """The event feed of acme from the start, read until its connection's default outcome."""
    events = []
    stream = sandbox.network.StreamEvents(bridge_pb2.StreamEventsRequest(), metadata=bearer(ACME), timeout=10)
    for response in stream:
        events.append(response.event)
        if response.event.kind == "CONNECTION" and response.event.attributes.get("state") == "DEFAULTED":
            stream.cancel()
            break
    return events


def refusal_of_new_allocation(sandbox: Sandbox) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as refused:
        sandbox.allocate("after-default", "BTC", "1")
    failure = remote_error(refused.value)
    return failure.code, failure.reason


def amounts(message_amounts: list[bridge_pb2.AssetAmount]) -> dict[str, str]:
    return {amount.asset: amount.amount for amount in message_amounts}


def test_an_exchange_unreachable_past_the_grace_returns_every_principal_once(sandbox: Sandbox) -> None:
    count_release_on_default_calls(sandbox)
    unsettled = trade_settle_and_trade_again(sandbox)
    custody_before = sandbox.custody_units("clients/acme")
    sandbox.exchange.stop()

    # Unreachable since the first check (10 s): not yet past the 300 s grace at 200 s.
    advance_bridge(sandbox, "wait-1", 200)
    health = venue_health(sandbox)["exchanges/okx-sim"]
    assert (health.circuit_state, health.defaulted) == (bridge_pb2.CIRCUIT_STATE_OPEN, False)
    assert health.consecutive_failures >= 5
    assert health.HasField("unreachable_since")
    assert acme_connection(sandbox).state == bridge_pb2.CONNECTION_STATE_ACTIVE
    assert release_on_default_calls(sandbox) == 0

    advance_bridge(sandbox, "wait-2", 140)

    custody_after = sandbox.custody_units("clients/acme")
    for asset in ASSET_CODES:
        principal = custody_before[(AVAILABLE, asset)] + custody_before[(ALLOCATED, asset)]
        unsettled_loss = max(0, -unsettled[asset])
        assert custody_after[(AVAILABLE, asset)] >= principal - unsettled_loss, asset
        # Nothing was cut off after the last settlement: the whole principal came back.
        assert custody_after[(AVAILABLE, asset)] == principal, asset
        assert custody_after.get((ALLOCATED, asset), 0) == 0, asset
    connection = acme_connection(sandbox)
    assert connection.state == bridge_pb2.CONNECTION_STATE_DEFAULTED
    outcome = connection.default_outcome
    assert outcome.reason == "EXCHANGE_UNREACHABLE"
    assert amounts(outcome.principal_returned) == {
        asset: ASSETS.format(asset, custody_before[(ALLOCATED, asset)]) for asset in ASSET_CODES
    }
    assert list(outcome.unsettled_at_risk) == [], "the exchange could not be read when it failed"

    events = acme_events_until_default(sandbox)
    assert events[-1].subject == CONNECTION
    assert dict(events[-1].attributes) == {
        "connection": CONNECTION,
        "exchange": "exchanges/okx-sim",
        "state": "DEFAULTED",
        "reason": "EXCHANGE_UNREACHABLE",
        **{
            f"principal_returned.{asset}": amount
            for asset, amount in amounts(outcome.principal_returned).items()
        },
    }
    defaults = [event for event in journal(sandbox) if event.kind == "EXCHANGE_DEFAULT"]
    assert [(event.subject, event.attributes["reason"]) for event in defaults] == [
        ("exchanges/okx-sim", "EXCHANGE_UNREACHABLE")
    ]
    # The network-wide default reaches acme's feed too (clients see network-wide events).
    assert [event.client for event in events if event.kind == "EXCHANGE_DEFAULT"] == [""]

    health = venue_health(sandbox)["exchanges/okx-sim"]
    assert (health.circuit_state, health.defaulted) == (bridge_pb2.CIRCUIT_STATE_OPEN, True)
    assert refusal_of_new_allocation(sandbox) == (grpc.StatusCode.FAILED_PRECONDITION, "EXCHANGE_DEFAULTED")

    # Two settlement intervals later: no cycle was scheduled and the default did not run again.
    advance_bridge(sandbox, "much-later", 7_200)
    settlements = sandbox.network.ListSettlements(bridge_pb2.ListSettlementsRequest(), metadata=bearer(ADMIN))
    assert [settlement.name for settlement in settlements.settlements] == ["settlements/1"]
    assert release_on_default_calls(sandbox) == 1
    assert [event.kind for event in journal(sandbox)].count("EXCHANGE_DEFAULT") == 1
    assert sandbox.custody_units("clients/acme") == custody_after


def test_an_insolvent_exchange_defaults_at_the_next_check_and_a_restart_finishes_it(
    sandbox: Sandbox,
) -> None:
    unsettled = trade_settle_and_trade_again(sandbox)
    custody_before = sandbox.custody_units("clients/acme")
    # The custodian cannot be reached for the procedure: the default is detected but waits.
    arm_on_custodian(
        sandbox,
        "custodian-down",
        control_pb2.CallFault(
            method=RELEASE_ON_DEFAULT, action=control_pb2.CALL_FAULT_ACTION_RETURN_ERROR, status_code=14
        ),
    )
    set_insolvent(sandbox)

    advance_bridge(sandbox, "first-check", 10)

    health = venue_health(sandbox)["exchanges/okx-sim"]
    assert (health.circuit_state, health.exchange_state, health.defaulted) == (
        bridge_pb2.CIRCUIT_STATE_CLOSED,
        "INSOLVENT",
        True,
    )
    assert refusal_of_new_allocation(sandbox) == (grpc.StatusCode.FAILED_PRECONDITION, "EXCHANGE_DEFAULTED")
    assert acme_connection(sandbox).state == bridge_pb2.CONNECTION_STATE_ACTIVE
    assert sandbox.custody_units("clients/acme") == custody_before

    # The bridge restarts with the custodian back: the start finishes the default.
    sandbox.bridge.stop()
    control(sandbox.custodian.port).ClearFaults(
        control_pb2.ClearFaultsRequest(request_id="custodian-back"), metadata=bearer(ADMIN)
    )
    sandbox.bridge = start_bridge(sandbox.bridge_config)

    connection = acme_connection(sandbox)
    assert connection.state == bridge_pb2.CONNECTION_STATE_DEFAULTED
    outcome = connection.default_outcome
    assert outcome.reason == "EXCHANGE_INSOLVENT"
    assert amounts(outcome.principal_returned) == {
        asset: ASSETS.format(asset, custody_before[(ALLOCATED, asset)]) for asset in ASSET_CODES
    }
    assert amounts(outcome.unsettled_at_risk) == {
        asset: ASSETS.format(asset, units) for asset, units in unsettled.items()
    }
    custody_after = sandbox.custody_units("clients/acme")
    for asset in ASSET_CODES:
        principal = custody_before[(AVAILABLE, asset)] + custody_before[(ALLOCATED, asset)]
        assert custody_after[(AVAILABLE, asset)] == principal, asset
    events = acme_events_until_default(sandbox)
    assert events[-1].attributes["unsettled_at_risk.BTC"] == "-0.50000000"
    assert venue_health(sandbox)["exchanges/okx-sim"].defaulted


def test_a_short_grace_from_the_configuration_is_honoured(sandbox: Sandbox) -> None:
    sandbox.bridge.stop()
    sandbox.bridge_config = dataclasses.replace(
        sandbox.bridge_config, default_grace_s=30, venue_check_interval_s=5
    )
    sandbox.bridge = start_bridge(sandbox.bridge_config)
    sandbox.allocate("allocate-btc", "BTC", "2")
    sandbox.exchange.stop()

    advance_bridge(sandbox, "within-grace", 35)
    assert acme_connection(sandbox).state == bridge_pb2.CONNECTION_STATE_ACTIVE

    advance_bridge(sandbox, "past-grace", 5)
    connection = acme_connection(sandbox)
    assert connection.state == bridge_pb2.CONNECTION_STATE_DEFAULTED
    assert amounts(connection.default_outcome.principal_returned) == {"BTC": "2.00000000"}
    assert sandbox.custody_units("clients/acme")[(AVAILABLE, "BTC")] == 10 * 100_000_000


def test_the_default_applies_the_last_verified_statement_before_returning_the_principal(
    sandbox: Sandbox,
) -> None:
    for asset, amount in (("BTC", "2"), ("USDT", "100000")):
        assert sandbox.allocate(f"allocate-{asset}", asset, amount).state == bridge_pb2.TRANSFER_STATE_CLEARED
    market_order(sandbox, "buy", exchange_pb2.SIDE_BUY, "1")
    unsettled = unsettled_units(sandbox)
    # The custodian verifies and records the statement but refuses to execute it this time.
    arm_on_custodian(
        sandbox,
        "no-execution",
        control_pb2.CallFault(
            method="/oes.custodian.v1.CustodySettlementService/ExecuteStatement",
            action=control_pb2.CALL_FAULT_ACTION_RETURN_ERROR,
            status_code=9,
            reason="INJECTED_REFUSAL",
        ),
    )
    assert sandbox.settle("settle-1").state == bridge_pb2.SETTLEMENT_STATE_FAILED
    control(sandbox.custodian.port).ClearFaults(
        control_pb2.ClearFaultsRequest(request_id="executions-back"), metadata=bearer(ADMIN)
    )
    custody_before = sandbox.custody_units("clients/acme")
    set_insolvent(sandbox)

    advance_bridge(sandbox, "first-check", 10)

    # The signed statement settled (a gain in BTC, a loss in USDT), then everything came home.
    custody_after = sandbox.custody_units("clients/acme")
    for asset in ASSET_CODES:
        principal = custody_before[(AVAILABLE, asset)] + custody_before[(ALLOCATED, asset)]
        assert custody_after[(AVAILABLE, asset)] == principal + unsettled[asset], asset
        assert custody_after[(AVAILABLE, asset)] >= principal - max(0, -unsettled[asset]), asset
    outcome = acme_connection(sandbox).default_outcome
    assert amounts(outcome.principal_returned) == {
        asset: ASSETS.format(asset, custody_before[(ALLOCATED, asset)] + unsettled[asset])
        for asset in ASSET_CODES
    }
    assert list(outcome.unsettled_at_risk) == [], "the statement settled all that was unsettled"
    [default] = [event for event in journal(sandbox) if event.kind == "EXCHANGE_DEFAULT"]
    assert (default.attributes["last_statement"], default.attributes["last_statement_applied"]) == (
        "exchanges/okx-sim/statements/1",
        "true",
    )


@pytest.fixture()
def crash() -> InProcessCrash:
    return InProcessCrash()


@pytest.fixture()
def crashing_sandbox(tmp_path: Path, crash: InProcessCrash) -> Iterator[Sandbox]:
    built = start_sandbox(tmp_path, builder(crash))
    crash.running = built.bridge
    yield built
    built.stop()


@pytest.mark.parametrize("point", DEFAULT_CRASH_POINTS)
def test_a_default_interrupted_by_a_crash_is_finished_once_by_the_next_start(
    crashing_sandbox: Sandbox, crash: InProcessCrash, point: str
) -> None:
    sandbox = crashing_sandbox
    count_release_on_default_calls(sandbox)
    for asset, amount in (("BTC", "2"), ("USDT", "100000")):
        assert sandbox.allocate(f"allocate-{asset}", asset, amount).state == bridge_pb2.TRANSFER_STATE_CLEARED
    market_order(sandbox, "buy", exchange_pb2.SIDE_BUY, "1")
    unsettled = unsettled_units(sandbox)
    custody_before = sandbox.custody_units("clients/acme")
    set_insolvent(sandbox)
    arm(sandbox, point)

    until_crash(sandbox, crash, point, lambda: advance_bridge(sandbox, "first-check", 10))

    connection = acme_connection(sandbox)
    assert connection.state == bridge_pb2.CONNECTION_STATE_DEFAULTED
    assert amounts(connection.default_outcome.principal_returned) == {
        asset: ASSETS.format(asset, custody_before[(ALLOCATED, asset)]) for asset in ASSET_CODES
    }
    assert amounts(connection.default_outcome.unsettled_at_risk) == {
        asset: ASSETS.format(asset, units) for asset, units in unsettled.items()
    }
    custody_after = sandbox.custody_units("clients/acme")
    for asset in ASSET_CODES:
        principal = custody_before[(AVAILABLE, asset)] + custody_before[(ALLOCATED, asset)]
        assert custody_after[(AVAILABLE, asset)] == principal, asset
    kinds = [(event.kind, event.subject) for event in journal(sandbox)]
    assert kinds.count(("EXCHANGE_DEFAULT", "exchanges/okx-sim")) == 1
    assert kinds.count(("CONNECTION", CONNECTION)) == 1
    # The procedure's effect happened once; only a crash between its call and the commit of the
    # outcomes makes the restart ask the custodian again (which returns the recorded result).
    expected_calls = 2 if point == "default.RELEASE.after_call" else 1
    assert release_on_default_calls(sandbox) == expected_calls
    advance_bridge(sandbox, "later", 60)
    assert release_on_default_calls(sandbox) == expected_calls
