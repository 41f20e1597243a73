"""Call faults on a real exchange through its control service: arming, validation, each action's effect."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import duration_pb2

from oes.control.v1 import control_pb2, control_pb2_grpc
from oes.exchange.v1 import exchange_pb2
from service_kit.auth import BRIDGE, Principal, PrincipalKind
from service_kit.rpc_errors import remote_error
from service_kit.timestamps import to_timestamp
from tests.integration.exchange_sim.conftest import (
    ACME,
    Exchange,
    acme_order,
    balances_of,
    fund,
    start_exchange,
)
from tests.integration.support import START_MS

PLACE_ORDER = "/oes.exchange.v1.TradingService/PlaceOrder"
CREATE_DEPOSIT = "/oes.exchange.v1.TradingService/CreateDeposit"
LIST_MARKETS = "/oes.exchange.v1.TradingService/ListMarkets"
CONTROL_SERVICE = "/oes.control.v1.ControlService/"
DROP_REPLY = control_pb2.CALL_FAULT_ACTION_DROP_REPLY
DUPLICATE_DELIVERY = control_pb2.CALL_FAULT_ACTION_DUPLICATE_DELIVERY
RETURN_ERROR = control_pb2.CALL_FAULT_ACTION_RETURN_ERROR
ADD_LATENCY = control_pb2.CALL_FAULT_ACTION_ADD_LATENCY
INITECH = Principal(PrincipalKind.CLIENT, "initech")


@pytest.fixture()
def exchange(tmp_path: Path) -> Iterator[Exchange]:
    """A real exchange on a free port (the exchange tests' fixture lives in their own conftest)."""
    running = start_exchange(tmp_path)
    yield running
    running.stop()


def call_fault(
    method: str,
    action: control_pb2.CallFaultAction,
    trigger: control_pb2.FaultTrigger | None = None,
    latency: duration_pb2.Duration | None = None,
    status_code: int = 0,
    reason: str = "",
) -> control_pb2.Fault:
    call = control_pb2.CallFault(method=method, action=action, status_code=status_code, reason=reason)
    if latency is not None:
        call.latency.CopyFrom(latency)
    fault = control_pb2.Fault(call=call)
    if trigger is not None:
        fault.trigger.CopyFrom(trigger)
    return fault


def first_calls(count: int) -> control_pb2.FaultTrigger:
    return control_pb2.FaultTrigger(first_calls=count)


def set_fault(exchange: Exchange, request_id: str, fault: control_pb2.Fault) -> control_pb2.Fault:
    request = control_pb2.SetFaultRequest(request_id=request_id, fault=fault)
    return exchange.control().SetFault(request).fault


def list_faults(exchange: Exchange) -> control_pb2.ListFaultsResponse:
    return exchange.control().ListFaults(control_pb2.ListFaultsRequest())


def refusal(call: Callable[[], object]) -> tuple[grpc.StatusCode, str, tuple[str, ...]]:
    """The code, ErrorInfo reason and field violations of a call that must fail."""
    with pytest.raises(grpc.RpcError) as raised:
        call()
    error = remote_error(raised.value)
    return error.code, error.reason, error.field_violations


def acme_orders(exchange: Exchange) -> list[exchange_pb2.Order]:
    return list(exchange.trading().ListOrders(exchange_pb2.ListOrdersRequest(account="clients/acme")).orders)


def acme_trade_count(exchange: Exchange) -> int:
    return len(exchange.trading().ListTrades(exchange_pb2.ListTradesRequest(account="clients/acme")).trades)


def market_buy(request_id: str) -> exchange_pb2.PlaceOrderRequest:
    return acme_order(request_id, exchange_pb2.SIDE_BUY, exchange_pb2.ORDER_TYPE_MARKET, "0.1")


def test_set_list_and_clear_faults_round_trip(exchange: Exchange) -> None:
    fund(exchange)
    expire_time = to_timestamp(START_MS + 60_000)
    first = set_fault(exchange, "arm-1", call_fault(PLACE_ORDER, DROP_REPLY, first_calls(2)))
    second = call_fault(
        "/oes.exchange.v1.PartnerService/",
        RETURN_ERROR,
        control_pb2.FaultTrigger(probability="0.25"),
        status_code=grpc.StatusCode.UNAVAILABLE.value[0],
        reason="VENUE_DOWN",
    )
    second.expire_time.CopyFrom(expire_time)
    armed_second = set_fault(exchange, "arm-2", second)
    third = set_fault(
        exchange,
        "arm-3",
        call_fault(
            LIST_MARKETS,
            ADD_LATENCY,
            control_pb2.FaultTrigger(every_nth=3),
            latency=duration_pb2.Duration(nanos=250_000_000),
        ),
    )
    fourth = set_fault(exchange, "arm-4", call_fault(CREATE_DEPOSIT, DUPLICATE_DELIVERY))

    assert [first.name, armed_second.name, third.name, fourth.name] == [
        "faults/1",
        "faults/2",
        "faults/3",
        "faults/4",
    ]
    assert (first.trigger.first_calls, first.call.method, first.call.action) == (2, PLACE_ORDER, DROP_REPLY)
    assert armed_second.trigger.probability == "0.25"
    assert (armed_second.call.status_code, armed_second.call.reason) == (14, "VENUE_DOWN")
    assert armed_second.expire_time == expire_time
    assert (third.trigger.every_nth, third.call.latency.ToMilliseconds()) == (3, 250)
    assert fourth.trigger.always, "an unset trigger is echoed as always"
    assert not fourth.HasField("expire_time")
    listed = list_faults(exchange)
    assert list(listed.faults) == [first, armed_second, third, fourth]
    assert list(listed.crash_points) == [], "the exchange has no crash points"
    assert {fault.fired_count for fault in listed.faults} == {0}

    # DROP_REPLY fires on the first two PlaceOrder calls only; fired_count shows it.
    trading = exchange.trading()
    assert refusal(lambda: trading.PlaceOrder(market_buy("buy-1")))[:2] == (
        grpc.StatusCode.UNAVAILABLE,
        "REPLY_DROPPED",
    )
    assert refusal(lambda: trading.PlaceOrder(market_buy("buy-2")))[:2] == (
        grpc.StatusCode.UNAVAILABLE,
        "REPLY_DROPPED",
    )
    exchange.trading().PlaceOrder(market_buy("buy-3"))
    assert [fault.fired_count for fault in list_faults(exchange).faults] == [2, 0, 0, 0]

    control = exchange.control()
    cleared = control.ClearFaults(control_pb2.ClearFaultsRequest(request_id="clear-2", name="faults/2"))
    assert cleared.cleared_count == 1
    assert [fault.name for fault in list_faults(exchange).faults] == ["faults/1", "faults/3", "faults/4"]
    assert refusal(
        lambda: control.ClearFaults(
            control_pb2.ClearFaultsRequest(request_id="clear-2-again", name="faults/2")
        )
    )[:2] == (grpc.StatusCode.NOT_FOUND, "FAULT_NOT_FOUND")
    everything = control.ClearFaults(control_pb2.ClearFaultsRequest(request_id="clear-all"))
    assert everything.cleared_count == 3
    assert list(list_faults(exchange).faults) == []
    retried = control.ClearFaults(control_pb2.ClearFaultsRequest(request_id="clear-all"))
    assert retried.cleared_count == 3, "a retried clear returns its first answer"


def test_set_fault_retried_with_the_same_request_id_arms_once(exchange: Exchange) -> None:
    fault = call_fault(PLACE_ORDER, DROP_REPLY, first_calls(1))

    first = set_fault(exchange, "arm-once", fault)
    retried = set_fault(exchange, "arm-once", fault)

    assert retried == first
    assert [armed.name for armed in list_faults(exchange).faults] == ["faults/1"]
    changed = call_fault(PLACE_ORDER, DROP_REPLY, first_calls(2))
    assert refusal(lambda: set_fault(exchange, "arm-once", changed))[:2] == (
        grpc.StatusCode.ALREADY_EXISTS,
        "REQUEST_ID_REUSED",
    )
    assert len(list_faults(exchange).faults) == 1


def crash_point_fault(point: str) -> control_pb2.Fault:
    return control_pb2.Fault(crash_point=control_pb2.CrashPointFault(point=point))


def latency(milliseconds: int) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromMilliseconds(milliseconds)
    return duration


@pytest.mark.parametrize(
    ("fault", "reason", "field"),
    [
        (control_pb2.Fault(), "FAULT_KIND_MISSING", "fault"),
        (call_fault("PlaceOrder", DROP_REPLY), "METHOD_INVALID", "fault.call.method"),
        (call_fault("", DROP_REPLY), "METHOD_INVALID", "fault.call.method"),
        (call_fault("/oes.exchange.v1.TradingService", DROP_REPLY), "METHOD_INVALID", "fault.call.method"),
        (
            call_fault(PLACE_ORDER, control_pb2.CALL_FAULT_ACTION_UNSPECIFIED),
            "CALL_FAULT_ACTION_INVALID",
            "fault.call.action",
        ),
        (call_fault(PLACE_ORDER, ADD_LATENCY), "LATENCY_INVALID", "fault.call.latency"),
        (
            call_fault(PLACE_ORDER, ADD_LATENCY, latency=latency(30_001)),
            "LATENCY_INVALID",
            "fault.call.latency",
        ),
        (call_fault(PLACE_ORDER, ADD_LATENCY, latency=latency(-5)), "LATENCY_INVALID", "fault.call.latency"),
        (call_fault(PLACE_ORDER, RETURN_ERROR), "STATUS_CODE_INVALID", "fault.call.status_code"),
        (
            call_fault(PLACE_ORDER, RETURN_ERROR, status_code=99),
            "STATUS_CODE_INVALID",
            "fault.call.status_code",
        ),
        (
            call_fault(PLACE_ORDER, RETURN_ERROR, status_code=14, reason="not_upper"),
            "REASON_INVALID",
            "fault.call.reason",
        ),
        (
            call_fault(PLACE_ORDER, DROP_REPLY, control_pb2.FaultTrigger(probability="1.5")),
            "TRIGGER_INVALID",
            "fault.trigger.probability",
        ),
        (
            call_fault(PLACE_ORDER, DROP_REPLY, control_pb2.FaultTrigger(probability="0.1234567")),
            "TRIGGER_INVALID",
            "fault.trigger.probability",
        ),
        (call_fault(PLACE_ORDER, DROP_REPLY, first_calls(0)), "TRIGGER_INVALID", "fault.trigger.first_calls"),
        (
            call_fault(PLACE_ORDER, DROP_REPLY, control_pb2.FaultTrigger(every_nth=-1)),
            "TRIGGER_INVALID",
            "fault.trigger.every_nth",
        ),
        (
            call_fault(PLACE_ORDER, DROP_REPLY, control_pb2.FaultTrigger(always=False)),
            "TRIGGER_INVALID",
            "fault.trigger.always",
        ),
        (crash_point_fault("allocation.LOCK.after_call"), "CRASH_POINT_UNKNOWN", "fault.crash_point.point"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_an_invalid_fault_is_refused_with_its_field_and_arms_nothing(
    exchange: Exchange, fault: control_pb2.Fault, reason: str, field: str
) -> None:
    rows_before = exchange.database_rows()

    code, refused_reason, fields = refusal(lambda: set_fault(exchange, "arm-invalid", fault))

    assert (code, refused_reason, fields) == (grpc.StatusCode.INVALID_ARGUMENT, reason, (field,))
    assert list(list_faults(exchange).faults) == []
    assert exchange.database_rows() == rows_before, "not even the request log is written"


def test_return_error_answers_the_code_and_reason_and_writes_nothing(exchange: Exchange) -> None:
    fund(exchange)
    set_fault(
        exchange,
        "arm-error",
        call_fault(PLACE_ORDER, RETURN_ERROR, first_calls(1), status_code=13, reason="MATCHING_ENGINE_DOWN"),
    )
    rows_before = exchange.database_rows()

    code, reason, _ = refusal(lambda: exchange.trading().PlaceOrder(market_buy("buy-1")))

    assert (code, reason) == (grpc.StatusCode.INTERNAL, "MATCHING_ENGINE_DOWN")
    assert exchange.database_rows() == rows_before
    order = exchange.trading().PlaceOrder(market_buy("buy-1")).order
    assert order.state == exchange_pb2.ORDER_STATE_FILLED, "the retry is served as a first call"


def test_return_error_without_a_reason_says_injected_fault(exchange: Exchange) -> None:
    set_fault(exchange, "arm-error", call_fault(LIST_MARKETS, RETURN_ERROR, status_code=14))

    code, reason, _ = refusal(lambda: exchange.trading().ListMarkets(exchange_pb2.ListMarketsRequest()))

    assert (code, reason) == (grpc.StatusCode.UNAVAILABLE, "INJECTED_FAULT")


def test_a_dropped_reply_commits_the_order_and_the_retry_returns_it_without_a_second(
    exchange: Exchange,
) -> None:
    fund(exchange)
    set_fault(exchange, "arm-drop", call_fault(PLACE_ORDER, DROP_REPLY, first_calls(1)))

    code, reason, _ = refusal(lambda: exchange.trading().PlaceOrder(market_buy("buy-1")))

    assert (code, reason) == (grpc.StatusCode.UNAVAILABLE, "REPLY_DROPPED")
    placed = acme_orders(exchange)
    assert len(placed) == 1, "the effect committed before the reply was lost"
    assert acme_trade_count(exchange) == len(placed[0].fills) > 0
    balances = balances_of(exchange.trading())
    trades = acme_trade_count(exchange)

    retried = exchange.trading().PlaceOrder(market_buy("buy-1")).order

    assert retried == placed[0]
    assert acme_orders(exchange) == placed
    assert acme_trade_count(exchange) == trades
    assert balances_of(exchange.trading()) == balances


def test_a_duplicated_order_is_placed_once(exchange: Exchange) -> None:
    fund(exchange)
    set_fault(exchange, "arm-duplicate", call_fault(PLACE_ORDER, DUPLICATE_DELIVERY, first_calls(1)))

    order = exchange.trading().PlaceOrder(market_buy("buy-1")).order

    assert acme_orders(exchange) == [order]
    assert acme_trade_count(exchange) == len(order.fills) > 0
    assert list_faults(exchange).faults[0].fired_count == 1


def test_a_duplicated_deposit_is_credited_once(exchange: Exchange) -> None:
    exchange.admin().CreateAccount(
        exchange_pb2.CreateAccountRequest(
            request_id="open-initech",
            account="clients/initech",
            custody_model=exchange_pb2.CUSTODY_MODEL_TRADITIONAL,
        )
    )
    set_fault(exchange, "arm-duplicate", call_fault(CREATE_DEPOSIT, DUPLICATE_DELIVERY))
    trading = exchange.trading(INITECH)

    answer = trading.CreateDeposit(
        exchange_pb2.CreateDepositRequest(
            request_id="deposit-1", account="clients/initech", asset="USDT", amount="1000"
        )
    ).balance

    assert answer.deposited == "1000.000000"
    balances = trading.GetBalances(exchange_pb2.GetBalancesRequest(account="clients/initech")).balances
    assert {balance.asset: balance.deposited for balance in balances}["USDT"] == "1000.000000"
    assert list_faults(exchange).faults[0].fired_count == 1


def test_added_latency_runs_past_the_callers_deadline(exchange: Exchange) -> None:
    set_fault(
        exchange, "arm-latency", call_fault(LIST_MARKETS, ADD_LATENCY, first_calls(1), latency=latency(300))
    )
    trading = exchange.trading()

    with pytest.raises(grpc.RpcError) as raised:
        trading.ListMarkets(exchange_pb2.ListMarketsRequest(), timeout=0.1)

    assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert trading.ListMarkets(exchange_pb2.ListMarketsRequest(), timeout=5).markets


@pytest.mark.parametrize("method", [CONTROL_SERVICE, CONTROL_SERVICE + "ListFaults"])
def test_a_fault_never_applies_to_control_calls(exchange: Exchange, method: str) -> None:
    set_fault(exchange, "arm-control", call_fault(method, RETURN_ERROR, status_code=14))
    control = exchange.control()

    listed = list_faults(exchange)
    control.GetClock(control_pb2.GetClockRequest())

    assert [fault.fired_count for fault in listed.faults] == [0]
    cleared = control.ClearFaults(control_pb2.ClearFaultsRequest(request_id="clear"))
    assert cleared.cleared_count == 1


@pytest.mark.parametrize("principal", [ACME, BRIDGE], ids=["client", "bridge"])
def test_only_the_admin_may_arm_list_or_clear_faults(exchange: Exchange, principal: Principal) -> None:
    stub = control_pb2_grpc.ControlServiceStub(exchange.channel(principal))
    fault = call_fault(PLACE_ORDER, DROP_REPLY)

    for call in (
        lambda: stub.SetFault(control_pb2.SetFaultRequest(request_id="arm", fault=fault)),
        lambda: stub.ListFaults(control_pb2.ListFaultsRequest()),
        lambda: stub.ClearFaults(control_pb2.ClearFaultsRequest(request_id="clear")),
    ):
        assert refusal(call)[0] == grpc.StatusCode.PERMISSION_DENIED
    assert list(list_faults(exchange).faults) == []


@pytest.mark.parametrize(
    "status_code",
    [grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.ABORTED],
)
def test_return_error_injects_any_non_ok_code(exchange: Exchange, status_code: grpc.StatusCode) -> None:
    set_fault(
        exchange,
        "arm-error",
        call_fault(LIST_MARKETS, RETURN_ERROR, first_calls(1), status_code=status_code.value[0]),
    )

    code, reason, _ = refusal(lambda: exchange.trading().ListMarkets(exchange_pb2.ListMarketsRequest()))

    assert (code, reason) == (status_code, "INJECTED_FAULT")


def test_a_fault_applies_to_server_streaming_calls(exchange: Exchange) -> None:
    set_fault(
        exchange,
        "arm-stream",
        call_fault("/oes.exchange.v1.TradingService/StreamMarketData", RETURN_ERROR, status_code=14),
    )
    stream = exchange.trading().StreamMarketData(
        exchange_pb2.StreamMarketDataRequest(market="BTC-USDT"), timeout=0.5
    )

    code, reason, _ = refusal(lambda: next(iter(stream)))

    assert (code, reason) == (grpc.StatusCode.UNAVAILABLE, "INJECTED_FAULT")
