"""Lost replies and duplicated deliveries on every venue call of the bridge never apply anything twice.

For each call the bridge makes to the custodian or the exchange while it allocates, settles a
trade and deallocates, the venue is told (through its control service) to drop the reply of the
first such call after serving it, or to serve it twice. The bridge's retry with the same
request_id must find the first effect: every workflow completes, custody and mirror agree, every
asset's ledger sums to zero and each lock, unlock, statement and transfer exists exactly once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import grpc
import pytest
from google.protobuf.message import Message

from oes.bridge.v1 import bridge_pb2
from oes.control.v1 import control_pb2, control_pb2_grpc
from oes.custodian.v1 import custodian_pb2, custodian_pb2_grpc
from oes.exchange.v1 import exchange_pb2, exchange_pb2_grpc
from service_kit.auth import ADMIN, BRIDGE
from service_kit.rpc_errors import remote_error
from tests.integration.sandbox import ALLOCATED, BTC, CONNECTION, Sandbox, start_sandbox
from tests.integration.settlement_bridge.conftest import ACME, channel
from tests.integration.support import ASSETS, bearer

CUSTODIAN = "custodian"
EXCHANGE = "exchange"
CUSTODY_SETTLEMENT = "/oes.custodian.v1.CustodySettlementService/"
PARTNER = "/oes.exchange.v1.PartnerService/"
OWNERS = ("clients/acme", "exchanges/okx-sim", "world")
SETTLEMENT_ACCOUNT = "exchanges/okx-sim/settlement"
STATEMENT = "exchanges/okx-sim/statements/1"
USDT_ALLOCATED_UNITS = 100_000 * 1_000_000
MessageT = TypeVar("MessageT", bound=Message)

# Every call the bridge makes to a venue to allocate, settle and deallocate, by the venue that serves it.
VENUE_CALLS = [
    (CUSTODIAN, CUSTODY_SETTLEMENT + "LockAllocation"),
    (EXCHANGE, PARTNER + "ReserveAllocation"),
    (EXCHANGE, PARTNER + "ClearAllocation"),
    (CUSTODIAN, CUSTODY_SETTLEMENT + "ClearAllocation"),
    (EXCHANGE, PARTNER + "CreateStatement"),
    (CUSTODIAN, CUSTODY_SETTLEMENT + "SubmitStatement"),
    (CUSTODIAN, CUSTODY_SETTLEMENT + "ExecuteStatement"),
    (EXCHANGE, PARTNER + "ConfirmStatement"),
    (EXCHANGE, PARTNER + "ReserveDeallocation"),
    (CUSTODIAN, CUSTODY_SETTLEMENT + "UnlockAllocation"),
    (EXCHANGE, PARTNER + "ClearDeallocation"),
]
ACTIONS = {
    "drop_reply": control_pb2.CALL_FAULT_ACTION_DROP_REPLY,
    "duplicate_delivery": control_pb2.CALL_FAULT_ACTION_DUPLICATE_DELIVERY,
}


@pytest.fixture()
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    built = start_sandbox(tmp_path)
    yield built
    built.stop()


def control(sandbox: Sandbox, venue: str) -> control_pb2_grpc.ControlServiceStub:
    port = sandbox.custodian.port if venue == CUSTODIAN else sandbox.exchange.port
    return control_pb2_grpc.ControlServiceStub(channel(port))


def arm_first_call(sandbox: Sandbox, venue: str, method: str, action: control_pb2.CallFaultAction) -> None:
    """Arms the fault on the first call of `method` the venue receives."""
    fault = control_pb2.Fault(
        call=control_pb2.CallFault(method=method, action=action),
        trigger=control_pb2.FaultTrigger(first_calls=1),
    )
    control(sandbox, venue).SetFault(
        control_pb2.SetFaultRequest(request_id="arm", fault=fault), metadata=bearer(ADMIN)
    )


def fired_counts(sandbox: Sandbox, venue: str) -> list[int]:
    listed = control(sandbox, venue).ListFaults(control_pb2.ListFaultsRequest(), metadata=bearer(ADMIN))
    return [fault.fired_count for fault in listed.faults]


def custody_settlement(sandbox: Sandbox) -> custodian_pb2_grpc.CustodySettlementServiceStub:
    return custodian_pb2_grpc.CustodySettlementServiceStub(channel(sandbox.custodian.port))


def transfers(sandbox: Sandbox) -> list[custodian_pb2.Transfer]:
    """Every transfer of the custodian's ledger (the world takes part in each deposit, acme in the rest)."""
    found: dict[str, custodian_pb2.Transfer] = {}
    for owner in OWNERS:
        response = sandbox.custody.ListTransfers(
            custodian_pb2.ListTransfersRequest(owner=owner, page_size=1000), metadata=bearer(ADMIN)
        )
        assert not response.next_page_token
        for transfer in response.transfers:
            found[transfer.id] = transfer
    return sorted(found.values(), key=lambda transfer: transfer.sequence)


def paid_units(order: exchange_pb2.Order) -> int:
    """USDT units the buy cost: notional plus fees."""
    return sum(
        ASSETS.parse("USDT", fill.price) * ASSETS.parse("BTC", fill.quantity) // BTC
        + ASSETS.parse("USDT", fill.fee)
        for fill in order.fills
    )


def buy_one_btc(sandbox: Sandbox) -> exchange_pb2.Order:
    return sandbox.trading.PlaceOrder(
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


def deallocate_half_btc(sandbox: Sandbox) -> bridge_pb2.Deallocation:
    return sandbox.network.CreateDeallocation(
        bridge_pb2.CreateDeallocationRequest(
            request_id="home", connection=CONNECTION, asset="BTC", amount="0.5"
        ),
        metadata=bearer(ACME),
    ).deallocation


def ledger_sums(sandbox: Sandbox) -> dict[str, int]:
    """Every asset's custodian balances summed over all owners."""
    totals: Counter[str] = Counter()
    for owner in OWNERS:
        for (_, asset), units in sandbox.custody_units(owner).items():
            totals[asset] += units
    return dict(totals)


def assert_applied_once(
    sandbox: Sandbox, order: exchange_pb2.Order, exchange_before: dict[tuple[str, str], int]
) -> None:
    """After allocating 2 BTC and 100 000 USDT, buying 1 BTC, settling and bringing 0.5 BTC home."""
    # Custody and mirror agree, and each amount moved once.
    paid = paid_units(order)
    custody = sandbox.custody_units("clients/acme")
    mirrors = sandbox.mirror_units()
    assert custody[(ALLOCATED, "BTC")] == mirrors[(CONNECTION, "BTC")] == 5 * BTC // 2
    assert custody[(ALLOCATED, "USDT")] == mirrors[(CONNECTION, "USDT")] == USDT_ALLOCATED_UNITS - paid
    assert custody[("clients/acme/available", "BTC")] == 17 * BTC // 2
    assert custody[("clients/acme/available", "USDT")] == 400_000 * 1_000_000
    listed = sandbox.partner.ListMirrors(exchange_pb2.ListMirrorsRequest(), metadata=bearer(BRIDGE))
    unsettled = {mirror.asset: mirror.unsettled for mirror in listed.mirrors}
    assert unsettled == {"BTC": "0.00000000", "USDT": "0.000000"}, "confirmed once, nothing left over"
    # The exchange's settlement account moved by exactly the trade.
    exchange_after = sandbox.custody_units("exchanges/okx-sim")
    assert (
        exchange_after[(SETTLEMENT_ACCOUNT, "USDT")] - exchange_before[(SETTLEMENT_ACCOUNT, "USDT")] == paid
    )
    assert exchange_before[(SETTLEMENT_ACCOUNT, "BTC")] - exchange_after[(SETTLEMENT_ACCOUNT, "BTC")] == BTC
    assert ledger_sums(sandbox) == {"BTC": 0, "USDT": 0}
    # One statement, executed once; one lock per allocation and one unlock.
    venue = sandbox.partner.GetVenue(exchange_pb2.GetVenueRequest(), metadata=bearer(BRIDGE))
    assert venue.last_statement == STATEMENT
    recorded = (
        custody_settlement(sandbox)
        .GetStatement(custodian_pb2.GetStatementRequest(name=STATEMENT), metadata=bearer(BRIDGE))
        .statement
    )
    assert recorded.state == custodian_pb2.STATEMENT_STATE_SUCCEEDED
    ledger = transfers(sandbox)
    settlement_transfers = [transfer.id for transfer in ledger if transfer.kind.startswith("SETTLEMENT_")]
    assert list(recorded.transfer_ids) == settlement_transfers
    assert Counter(transfer.kind for transfer in ledger) == {
        "DEPOSIT": 4,
        "ALLOCATION_LOCK": 2,
        "SETTLEMENT_GAIN": 1,
        "SETTLEMENT_LOSS": 1,
        "ALLOCATION_UNLOCK": 1,
    }


@pytest.mark.parametrize("action", ACTIONS.values(), ids=ACTIONS.keys())
@pytest.mark.parametrize(
    ("venue", "method"),
    VENUE_CALLS,
    ids=[f"{venue}-{method.rsplit('/', 1)[1]}" for venue, method in VENUE_CALLS],
)
def test_a_lost_reply_or_a_second_delivery_applies_nothing_twice(
    sandbox: Sandbox, venue: str, method: str, action: control_pb2.CallFaultAction
) -> None:
    arm_first_call(sandbox, venue, method, action)
    exchange_before = sandbox.custody_units("exchanges/okx-sim")

    allocations = [
        sandbox.allocate("allocate-btc", "BTC", "2"),
        sandbox.allocate("allocate-usdt", "USDT", "100000"),
    ]
    order = buy_one_btc(sandbox)
    settlement = sandbox.settle("settle-1")
    deallocation = deallocate_half_btc(sandbox)

    assert fired_counts(sandbox, venue) == [1], "the fault fired on the bridge's call"
    assert [allocation.state for allocation in allocations] == [bridge_pb2.TRANSFER_STATE_CLEARED] * 2
    assert (settlement.state, settlement.reason) == (bridge_pb2.SETTLEMENT_STATE_SUCCEEDED, "")
    assert settlement.statement.name == STATEMENT
    assert list(settlement.breaks) == []
    assert deallocation.state == bridge_pb2.TRANSFER_STATE_CLEARED
    assert_applied_once(sandbox, order, exchange_before)


@pytest.mark.parametrize(
    ("venue", "method"),
    [(CUSTODIAN, CUSTODY_SETTLEMENT + "LockAllocation"), (EXCHANGE, PARTNER + "CreateStatement")],
    ids=["custodian-LockAllocation", "exchange-CreateStatement"],
)
def test_replies_lost_until_the_bridge_gives_up_are_found_by_the_clients_retry(
    sandbox: Sandbox, venue: str, method: str
) -> None:
    fault = control_pb2.Fault(
        call=control_pb2.CallFault(method=method, action=control_pb2.CALL_FAULT_ACTION_DROP_REPLY)
    )
    control(sandbox, venue).SetFault(
        control_pb2.SetFaultRequest(request_id="arm", fault=fault), metadata=bearer(ADMIN)
    )
    exchange_before = sandbox.custody_units("exchanges/okx-sim")
    steps = [
        lambda: sandbox.allocate("allocate-btc", "BTC", "2"),
        lambda: sandbox.allocate("allocate-usdt", "USDT", "100000"),
        lambda: buy_one_btc(sandbox),
        lambda: sandbox.settle("settle-1"),
    ]
    failed = None
    for number, step in enumerate(steps):
        try:
            step()
        except grpc.RpcError as error:
            failed = number
            assert (remote_error(error).code, remote_error(error).reason) == (
                grpc.StatusCode.UNAVAILABLE,
                "VENUE_UNAVAILABLE",
            )
            break
    assert failed is not None
    assert fired_counts(sandbox, venue) == [3], "every attempt of the bridge lost its reply"
    control(sandbox, venue).ClearFaults(
        control_pb2.ClearFaultsRequest(request_id="heal"), metadata=bearer(ADMIN)
    )

    # The client retries every step with its request_id: the ones that completed answer as before.
    btc, usdt = (
        sandbox.allocate("allocate-btc", "BTC", "2"),
        sandbox.allocate("allocate-usdt", "USDT", "100000"),
    )
    order = buy_one_btc(sandbox)
    settlement = sandbox.settle("settle-1")
    deallocation = deallocate_half_btc(sandbox)

    assert (btc.state, usdt.state) == (bridge_pb2.TRANSFER_STATE_CLEARED, bridge_pb2.TRANSFER_STATE_CLEARED)
    assert (settlement.state, settlement.statement.name) == (bridge_pb2.SETTLEMENT_STATE_SUCCEEDED, STATEMENT)
    assert deallocation.state == bridge_pb2.TRANSFER_STATE_CLEARED
    assert_applied_once(sandbox, order, exchange_before)


@pytest.mark.parametrize("action", ACTIONS.values(), ids=ACTIONS.keys())
def test_lost_or_doubled_calls_to_the_bridge_itself_apply_once(
    sandbox: Sandbox, action: control_pb2.CallFaultAction
) -> None:
    for method in (
        "/oes.bridge.v1.SettlementNetworkService/CreateAllocation",
        "/oes.bridge.v1.SettlementNetworkService/CreateDeallocation",
        "/oes.bridge.v1.BridgeAdminService/RunSettlementCycle",
    ):
        fault = control_pb2.Fault(
            call=control_pb2.CallFault(method=method, action=action),
            trigger=control_pb2.FaultTrigger(first_calls=1),
        )
        control_pb2_grpc.ControlServiceStub(channel(sandbox.bridge.port)).SetFault(
            control_pb2.SetFaultRequest(request_id=f"arm-{method}", fault=fault), metadata=bearer(ADMIN)
        )
    exchange_before = sandbox.custody_units("exchanges/okx-sim")

    def retried(call: Callable[[], MessageT]) -> MessageT:
        """The call's answer; a lost reply is retried once with the same request, as a client would."""
        try:
            return call()
        except grpc.RpcError as error:
            assert action == control_pb2.CALL_FAULT_ACTION_DROP_REPLY
            assert remote_error(error).reason == "REPLY_DROPPED"
            return call()

    btc = retried(lambda: sandbox.allocate("allocate-btc", "BTC", "2"))
    usdt = retried(lambda: sandbox.allocate("allocate-usdt", "USDT", "100000"))
    order = buy_one_btc(sandbox)
    settlement = retried(lambda: sandbox.settle("settle-1"))
    deallocation = retried(lambda: deallocate_half_btc(sandbox))

    assert (btc.name, usdt.name) == (f"{CONNECTION}/allocations/1", f"{CONNECTION}/allocations/2")
    assert (btc.state, usdt.state) == (bridge_pb2.TRANSFER_STATE_CLEARED, bridge_pb2.TRANSFER_STATE_CLEARED)
    assert (settlement.state, settlement.statement.name) == (bridge_pb2.SETTLEMENT_STATE_SUCCEEDED, STATEMENT)
    assert deallocation.state == bridge_pb2.TRANSFER_STATE_CLEARED
    listed = sandbox.network.ListSettlements(bridge_pb2.ListSettlementsRequest(), metadata=bearer(ADMIN))
    assert [found.name for found in listed.settlements] == [settlement.name]
    assert_applied_once(sandbox, order, exchange_before)


# The calls that undo an allocation the exchange refused: the reservation (refused), its release at
# the exchange, then the custodian's release of the lock.
ALLOCATION_COMPENSATION_CALLS = [
    (EXCHANGE, PARTNER + "ReserveAllocation"),
    (EXCHANGE, PARTNER + "ReleaseAllocation"),
    (CUSTODIAN, CUSTODY_SETTLEMENT + "ReleaseAllocation"),
]


@pytest.mark.parametrize("action", ACTIONS.values(), ids=ACTIONS.keys())
@pytest.mark.parametrize(
    ("venue", "method"),
    ALLOCATION_COMPENSATION_CALLS,
    ids=[f"{venue}-{method.rsplit('/', 1)[1]}" for venue, method in ALLOCATION_COMPENSATION_CALLS],
)
def test_a_refused_allocation_is_released_once_despite_lost_or_doubled_calls(
    sandbox: Sandbox, venue: str, method: str, action: control_pb2.CallFaultAction
) -> None:
    exchange_pb2_grpc.ExchangeAdminServiceStub(channel(sandbox.exchange.port)).SetVenueState(
        exchange_pb2.SetVenueStateRequest(request_id="halt", state=exchange_pb2.VENUE_STATE_TRADING_HALTED),
        metadata=bearer(ADMIN),
    )
    custody_before = sandbox.custody_units("clients/acme")
    arm_first_call(sandbox, venue, method, action)

    allocation = sandbox.allocate("allocate-usdt", "USDT", "1000")

    assert fired_counts(sandbox, venue) == [1]
    assert (allocation.state, allocation.reason) == (bridge_pb2.TRANSFER_STATE_RELEASED, "TRADING_HALTED")
    custody = sandbox.custody_units("clients/acme")
    assert custody[("clients/acme/available", "USDT")] == custody_before[("clients/acme/available", "USDT")]
    assert custody.get((ALLOCATED, "USDT"), 0) == sandbox.mirror_units().get((CONNECTION, "USDT"), 0) == 0
    assert ledger_sums(sandbox) == {"BTC": 0, "USDT": 0}
    kinds = Counter(transfer.kind for transfer in transfers(sandbox))
    assert (kinds["ALLOCATION_LOCK"], kinds["ALLOCATION_RELEASE"]) == (1, 1)


# The calls of a deallocation the custodian refuses: the hold, the refused unlock, the hold's release.
DEALLOCATION_COMPENSATION_CALLS = [
    (EXCHANGE, PARTNER + "ReserveDeallocation"),
    (CUSTODIAN, CUSTODY_SETTLEMENT + "UnlockAllocation"),
    (EXCHANGE, PARTNER + "ReleaseDeallocation"),
]


@pytest.mark.parametrize("action", ACTIONS.values(), ids=ACTIONS.keys())
@pytest.mark.parametrize(
    ("venue", "method"),
    DEALLOCATION_COMPENSATION_CALLS,
    ids=[f"{venue}-{method.rsplit('/', 1)[1]}" for venue, method in DEALLOCATION_COMPENSATION_CALLS],
)
def test_a_refused_deallocation_returns_the_held_credit_once_despite_lost_or_doubled_calls(
    sandbox: Sandbox, venue: str, method: str, action: control_pb2.CallFaultAction
) -> None:
    assert sandbox.allocate("allocate-btc", "BTC", "1").state == bridge_pb2.TRANSFER_STATE_CLEARED
    # A break the bridge did not cause: the whole allocation is unlocked at the custodian only, so
    # the custodian refuses the deallocation's unlock and the exchange must release its hold.
    custody_settlement(sandbox).UnlockAllocation(
        custodian_pb2.UnlockAllocationRequest(
            request_id="out-of-band", connection=CONNECTION, unlock_id="out-of-band", asset="BTC", amount="1"
        ),
        metadata=bearer(BRIDGE),
    )
    arm_first_call(sandbox, venue, method, action)

    deallocation = deallocate_half_btc(sandbox)

    assert fired_counts(sandbox, venue) == [1]
    assert (deallocation.state, deallocation.reason) == (
        bridge_pb2.TRANSFER_STATE_RELEASED,
        "INSUFFICIENT_BALANCE",
    )
    balances = sandbox.trading.GetBalances(
        exchange_pb2.GetBalancesRequest(account="clients/acme"), metadata=bearer(ACME)
    ).balances
    btc = {balance.asset: balance for balance in balances}["BTC"]
    assert (btc.mirror, btc.held, btc.available) == ("1.00000000", "0.00000000", "1.00000000")
    custody = sandbox.custody_units("clients/acme")
    assert (custody[(ALLOCATED, "BTC")], custody[("clients/acme/available", "BTC")]) == (0, 10 * BTC)
    assert ledger_sums(sandbox) == {"BTC": 0, "USDT": 0}
    kinds = Counter(transfer.kind for transfer in transfers(sandbox))
    assert (kinds["ALLOCATION_LOCK"], kinds["ALLOCATION_UNLOCK"]) == (1, 1), "only the out-of-band unlock"
