"""Order entry over gRPC: refusals, client order ids, order types, cancels, lists and both custody models."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import TypeVar

import grpc
import pytest
from google.protobuf.message import Message

from oes.exchange.v1 import exchange_pb2, exchange_pb2_grpc
from service_kit.auth import ADMIN, BRIDGE, Principal, PrincipalKind
from service_kit.rpc_errors import remote_error
from tests.integration.exchange_sim.conftest import (
    ACME,
    BOB,
    Exchange,
    acme_order,
    balances_of,
    fund,
    open_traditional,
)

MessageT = TypeVar("MessageT", bound=Message)
CAROL = Principal(PrincipalKind.CLIENT, "carol")
BOB_CONNECTION = "clients/bob/connections/okx-sim"
BUY, SELL = exchange_pb2.SIDE_BUY, exchange_pb2.SIDE_SELL
LIMIT, MARKET = exchange_pb2.ORDER_TYPE_LIMIT, exchange_pb2.ORDER_TYPE_MARKET
OPEN = exchange_pb2.ORDER_STATE_OPEN
FILLED = exchange_pb2.ORDER_STATE_FILLED
CANCELLED = exchange_pb2.ORDER_STATE_CANCELLED
INVALID_ARGUMENT = grpc.StatusCode.INVALID_ARGUMENT
FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
PERMISSION_DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND
NO_BTC_HELD = "0.00000000"
NO_USDT_HELD = "0.000000"
# The house quotes 0.5 BTC per level, 5 bps (30 USDT) apart around 60 000.
BEST_ASK, SECOND_ASK, BEST_BID = "60030.000000", "60060.000000", "59970.000000"


def order_request(
    request_id: str,
    side: exchange_pb2.Side,
    order_type: exchange_pb2.OrderType,
    quantity: str,
    price: str = "",
    **fields: object,
) -> exchange_pb2.PlaceOrderRequest:
    """An order of acme in BTC-USDT; `fields` sets any other field, or overrides one (even to its default)."""
    return with_fields(acme_order(request_id, side, order_type, quantity, price), **fields)


def with_fields(request: MessageT, **fields: object) -> MessageT:
    """The request with `fields` set, including back to their defaults (which a constructor cannot show)."""
    for name, value in fields.items():
        setattr(request, name, value)
    return request


def refusal(call: Callable[[], object]) -> tuple[grpc.StatusCode, str, tuple[str, ...]]:
    """The code, ErrorInfo reason and field violations of a call that must fail."""
    with pytest.raises(grpc.RpcError) as raised:
        call()
    error = remote_error(raised.value)
    return error.code, error.reason, error.field_violations


def held(trading: exchange_pb2_grpc.TradingServiceStub, account: str = "clients/acme") -> dict[str, str]:
    """What the account's open orders hold, per asset."""
    return {asset: balance[2] for asset, balance in balances_of(trading, account).items()}


def trade_accounts(exchange: Exchange) -> list[tuple[str, str]]:
    """(buyer, seller) of every trade, read straight from the database."""
    connection = sqlite3.connect(exchange.data_dir / "exchange.sqlite3")
    try:
        return list(connection.execute("SELECT buyer_account, seller_account FROM trades ORDER BY sequence"))
    finally:
        connection.close()


# 1. Every refusal of an order-entry RPC has a stable code and reason and writes nothing.


@dataclass(frozen=True)
class Setup:
    """Acme's orders every refusal case may name."""

    resting: str  # buy 0.1 BTC at 59 000, client order id "resting-1", holding 5 911.8 USDT
    cancelled: str  # cancelled by acme


def set_up_refusals(exchange: Exchange) -> Setup:
    """Acme funded over OES with two orders; carol traditional, 0.6 of her 1 BTC held; bob has no account."""
    fund(exchange)
    open_traditional(exchange, "carol", {"BTC": "1", "USDT": "10000"})
    acme = exchange.trading()
    resting = acme.PlaceOrder(
        order_request("setup-resting", BUY, LIMIT, "0.1", "59000", client_order_id="resting-1")
    ).order
    cancelled = acme.PlaceOrder(order_request("setup-cancelled", BUY, LIMIT, "0.1", "58000")).order
    acme.CancelOrder(exchange_pb2.CancelOrderRequest(request_id="setup-cancel", name=cancelled.name))
    carol_resting = (
        exchange.trading(CAROL)
        .PlaceOrder(order_request("setup-carol", SELL, LIMIT, "0.6", "61000", account="clients/carol"))
        .order
    )
    assert resting.state == OPEN and carol_resting.state == OPEN
    return Setup(resting.name, cancelled.name)


@dataclass(frozen=True)
class Refused:
    """One bad request and the refusal it must get."""

    method: str
    request: Callable[[Setup], Message]
    code: grpc.StatusCode
    reason: str
    field: str = ""  # the one field violation an INVALID_ARGUMENT names
    caller: Principal = ACME


def place(code: grpc.StatusCode, reason: str, field: str = "", **fields: object) -> Refused:
    """PlaceOrder of a valid limit buy (0.01 BTC at 59 000, 590 USDT) with `fields` changed."""
    request = with_fields(order_request("bad-order", BUY, LIMIT, "0.01", "59000"), **fields)
    return Refused("PlaceOrder", lambda setup: request, code, reason, field)


def cancel(
    code: grpc.StatusCode, reason: str, name: Callable[[Setup], str], caller: Principal = ACME
) -> Refused:
    """CancelOrder of the order `name` picks."""
    return Refused(
        "CancelOrder",
        lambda setup: exchange_pb2.CancelOrderRequest(request_id="bad-cancel", name=name(setup)),
        code,
        reason,
        "name" if code == INVALID_ARGUMENT else "",
        caller,
    )


def cancel_all(
    code: grpc.StatusCode,
    reason: str,
    field: str = "",
    account: str = "clients/acme",
    market: str = "",
    request_id: str = "bad-cancel-all",
) -> Refused:
    """CancelAllOrders, by default of acme's orders in every market."""
    request = exchange_pb2.CancelAllOrdersRequest(request_id=request_id, account=account, market=market)
    return Refused("CancelAllOrders", lambda setup: request, code, reason, field)


def funding(
    method: str,
    code: grpc.StatusCode,
    reason: str,
    field: str = "",
    amount: str = "0.1",
    asset: str = "BTC",
    account: str = "clients/carol",
    caller: Principal = CAROL,
) -> Refused:
    """CreateDeposit or CreateWithdrawal, by default of 0.1 BTC by carol on her traditional account."""
    message = (
        exchange_pb2.CreateDepositRequest
        if method == "CreateDeposit"
        else exchange_pb2.CreateWithdrawalRequest
    )
    request = message(request_id="bad-funding", account=account, asset=asset, amount=amount)
    return Refused(method, lambda setup: request, code, reason, field, caller)


REFUSALS: dict[str, Refused] = {
    # PlaceOrder: where the order goes and what it is.
    "place-unknown-market": place(INVALID_ARGUMENT, "UNKNOWN_MARKET", "market", market="ETH-USDT"),
    "place-lowercase-market": place(INVALID_ARGUMENT, "UNKNOWN_MARKET", "market", market="btc-usdt"),
    "place-no-market": place(INVALID_ARGUMENT, "UNKNOWN_MARKET", "market", market=""),
    "place-side-unspecified": place(
        INVALID_ARGUMENT, "SIDE_UNSPECIFIED", "side", side=exchange_pb2.SIDE_UNSPECIFIED
    ),
    "place-side-unknown-value": place(INVALID_ARGUMENT, "SIDE_UNSPECIFIED", "side", side=7),
    "place-type-unspecified": place(
        INVALID_ARGUMENT, "ORDER_TYPE_UNSPECIFIED", "type", type=exchange_pb2.ORDER_TYPE_UNSPECIFIED
    ),
    "place-time-in-force-unknown-value": place(
        INVALID_ARGUMENT, "TIME_IN_FORCE_INVALID", "time_in_force", time_in_force=9
    ),
    "place-self-trade-prevention-unknown-value": place(
        INVALID_ARGUMENT, "SELF_TRADE_PREVENTION_INVALID", "self_trade_prevention", self_trade_prevention=9
    ),
    # PlaceOrder: price.
    "place-price-off-tick": place(INVALID_ARGUMENT, "PRICE_NOT_ON_TICK", "price", price="59000.005"),
    "place-price-over-precise": place(INVALID_ARGUMENT, "AMOUNT_TOO_PRECISE", "price", price="59000.0000001"),
    "place-price-malformed": place(INVALID_ARGUMENT, "AMOUNT_MALFORMED", "price", price="5.9e4"),
    "place-price-missing-on-limit": place(INVALID_ARGUMENT, "AMOUNT_MALFORMED", "price", price=""),
    "place-price-zero": place(INVALID_ARGUMENT, "AMOUNT_NOT_POSITIVE", "price", price="0"),
    "place-price-negative": place(INVALID_ARGUMENT, "AMOUNT_NEGATIVE", "price", price="-59000"),
    # PlaceOrder: quantity and notional.
    "place-quantity-below-lot": place(
        INVALID_ARGUMENT, "QUANTITY_NOT_ON_LOT", "quantity", quantity="0.00005"
    ),
    "place-quantity-off-lot": place(INVALID_ARGUMENT, "QUANTITY_NOT_ON_LOT", "quantity", quantity="0.01015"),
    "place-quantity-zero": place(INVALID_ARGUMENT, "AMOUNT_NOT_POSITIVE", "quantity", quantity="0"),
    "place-quantity-negative": place(INVALID_ARGUMENT, "AMOUNT_NEGATIVE", "quantity", quantity="-0.01"),
    "place-quantity-over-precise": place(
        INVALID_ARGUMENT, "AMOUNT_TOO_PRECISE", "quantity", quantity="0.010000001"
    ),
    "place-quantity-malformed": place(INVALID_ARGUMENT, "AMOUNT_MALFORMED", "quantity", quantity="0,01"),
    "place-quantity-missing": place(INVALID_ARGUMENT, "AMOUNT_MALFORMED", "quantity", quantity=""),
    # 0.0001 BTC at 40 000 is 4 USDT, below the 5 USDT minimum.
    "place-notional-below-minimum": place(
        INVALID_ARGUMENT, "NOTIONAL_BELOW_MINIMUM", "quantity", quantity="0.0001", price="40000"
    ),
    # 100 000 BTC at 100 000 000 USDT is 10^13 USDT, past the largest amount the sandbox holds.
    "place-notional-out-of-range": place(
        INVALID_ARGUMENT, "NOTIONAL_OUT_OF_RANGE", "quantity", quantity="100000", price="100000000"
    ),
    # PlaceOrder: fields that do not go together.
    "place-price-on-market-order": place(INVALID_ARGUMENT, "PRICE_NOT_ALLOWED", "price", type=MARKET),
    "place-time-in-force-on-market-order": place(
        INVALID_ARGUMENT,
        "TIME_IN_FORCE_NOT_ALLOWED",
        "time_in_force",
        type=MARKET,
        price="",
        time_in_force=exchange_pb2.TIME_IN_FORCE_IMMEDIATE_OR_CANCEL,
    ),
    "place-post-only-on-market-order": place(
        INVALID_ARGUMENT, "POST_ONLY_NOT_ALLOWED", "post_only", type=MARKET, price="", post_only=True
    ),
    "place-post-only-immediate-or-cancel": place(
        INVALID_ARGUMENT,
        "POST_ONLY_NEEDS_GOOD_TILL_CANCELLED",
        "post_only",
        post_only=True,
        time_in_force=exchange_pb2.TIME_IN_FORCE_IMMEDIATE_OR_CANCEL,
    ),
    "place-post-only-fill-or-kill": place(
        INVALID_ARGUMENT,
        "POST_ONLY_NEEDS_GOOD_TILL_CANCELLED",
        "post_only",
        post_only=True,
        time_in_force=exchange_pb2.TIME_IN_FORCE_FILL_OR_KILL,
    ),
    "place-protection-price-on-limit-order": place(
        INVALID_ARGUMENT, "PROTECTION_PRICE_NOT_ALLOWED", "protection_price", protection_price="61000"
    ),
    "place-protection-price-malformed": place(
        INVALID_ARGUMENT,
        "AMOUNT_MALFORMED",
        "protection_price",
        type=MARKET,
        price="",
        protection_price="abc",
    ),
    "place-protection-price-over-precise": place(
        INVALID_ARGUMENT,
        "AMOUNT_TOO_PRECISE",
        "protection_price",
        type=MARKET,
        price="",
        protection_price="61000.0000001",
    ),
    # PlaceOrder: client order id, request id, account.
    "place-client-order-id-with-space": place(
        INVALID_ARGUMENT, "CLIENT_ORDER_ID_INVALID", "client_order_id", client_order_id="my order"
    ),
    "place-client-order-id-with-slash": place(
        INVALID_ARGUMENT, "CLIENT_ORDER_ID_INVALID", "client_order_id", client_order_id="desk/1"
    ),
    "place-client-order-id-too-long": place(
        INVALID_ARGUMENT, "CLIENT_ORDER_ID_INVALID", "client_order_id", client_order_id="x" * 65
    ),
    "place-request-id-missing": place(INVALID_ARGUMENT, "REQUEST_ID_INVALID", "request_id", request_id=""),
    "place-account-malformed": place(INVALID_ARGUMENT, "ACCOUNT_NAME_INVALID", "account", account="acme"),
    "place-account-of-another-client": place(PERMISSION_DENIED, "NOT_RESOURCE_OWNER", account="clients/bob"),
    # PlaceOrder: refusals of the venue's state (FAILED_PRECONDITION).
    "place-client-order-id-reused-other-quantity": place(
        FAILED_PRECONDITION, "CLIENT_ORDER_ID_REUSED", quantity="0.2", client_order_id="resting-1"
    ),
    "place-client-order-id-reused-other-side": place(
        FAILED_PRECONDITION, "CLIENT_ORDER_ID_REUSED", side=SELL, price="61000", client_order_id="resting-1"
    ),
    "place-insufficient-usdt": place(FAILED_PRECONDITION, "INSUFFICIENT_BALANCE", quantity="2"),
    # 1.6 BTC at 60 000 needs 96 192 USDT: less than the 100 000 funded, more than what the
    # resting order leaves available (94 088.2).
    "place-insufficient-usdt-after-holds": place(
        FAILED_PRECONDITION, "INSUFFICIENT_BALANCE", quantity="1.6", price="60000"
    ),
    "place-insufficient-btc": place(
        FAILED_PRECONDITION, "INSUFFICIENT_BALANCE", side=SELL, quantity="2.5", price="61000"
    ),
    "place-insufficient-usdt-market": place(
        FAILED_PRECONDITION, "INSUFFICIENT_BALANCE", type=MARKET, price="", quantity="2"
    ),
    "place-insufficient-btc-market": place(
        FAILED_PRECONDITION, "INSUFFICIENT_BALANCE", side=SELL, type=MARKET, price="", quantity="2.0001"
    ),
    # CancelOrder.
    "cancel-name-malformed": cancel(INVALID_ARGUMENT, "ORDER_NAME_INVALID", lambda setup: "order/21"),
    "cancel-name-zero": cancel(INVALID_ARGUMENT, "ORDER_NAME_INVALID", lambda setup: "orders/0"),
    "cancel-name-empty": cancel(INVALID_ARGUMENT, "ORDER_NAME_INVALID", lambda setup: ""),
    "cancel-name-with-suffix": cancel(
        INVALID_ARGUMENT, "ORDER_NAME_INVALID", lambda setup: f"{setup.resting}/fills"
    ),
    "cancel-unknown-order": cancel(NOT_FOUND, "ORDER_NOT_FOUND", lambda setup: "orders/999999"),
    "cancel-order-not-open": cancel(FAILED_PRECONDITION, "ORDER_NOT_OPEN", lambda setup: setup.cancelled),
    "cancel-house-order": cancel(PERMISSION_DENIED, "NOT_RESOURCE_OWNER", lambda setup: "orders/1"),
    "cancel-order-of-another-client": cancel(
        PERMISSION_DENIED, "NOT_RESOURCE_OWNER", lambda setup: setup.resting, caller=BOB
    ),
    # CancelAllOrders.
    "cancel-all-unknown-market": cancel_all(INVALID_ARGUMENT, "UNKNOWN_MARKET", "market", market="ETH-USDT"),
    "cancel-all-account-malformed": cancel_all(
        INVALID_ARGUMENT, "ACCOUNT_NAME_INVALID", "account", account="clients/"
    ),
    "cancel-all-request-id-malformed": cancel_all(
        INVALID_ARGUMENT, "REQUEST_ID_INVALID", "request_id", request_id="with space"
    ),
    "cancel-all-account-of-another-client": cancel_all(
        PERMISSION_DENIED, "NOT_RESOURCE_OWNER", account="clients/bob"
    ),
    # CreateDeposit.
    "deposit-unknown-asset": funding(
        "CreateDeposit", INVALID_ARGUMENT, "UNKNOWN_ASSET", "asset", asset="ETH"
    ),
    "deposit-no-asset": funding("CreateDeposit", INVALID_ARGUMENT, "UNKNOWN_ASSET", "asset", asset=""),
    "deposit-negative": funding("CreateDeposit", INVALID_ARGUMENT, "AMOUNT_NEGATIVE", "amount", amount="-1"),
    "deposit-zero": funding("CreateDeposit", INVALID_ARGUMENT, "AMOUNT_NOT_POSITIVE", "amount", amount="0.0"),
    "deposit-over-precise-btc": funding(
        "CreateDeposit", INVALID_ARGUMENT, "AMOUNT_TOO_PRECISE", "amount", amount="0.000000001"
    ),
    "deposit-over-precise-usdt": funding(
        "CreateDeposit", INVALID_ARGUMENT, "AMOUNT_TOO_PRECISE", "amount", amount="1.0000001", asset="USDT"
    ),
    "deposit-malformed": funding(
        "CreateDeposit", INVALID_ARGUMENT, "AMOUNT_MALFORMED", "amount", amount="1,5"
    ),
    "deposit-account-malformed": funding(
        "CreateDeposit", INVALID_ARGUMENT, "ACCOUNT_NAME_INVALID", "account", account="carol"
    ),
    "deposit-into-oes-account": funding(
        "CreateDeposit", FAILED_PRECONDITION, "ACCOUNT_IS_OES", account="clients/acme", caller=ACME
    ),
    "deposit-without-account": funding(
        "CreateDeposit", NOT_FOUND, "ACCOUNT_NOT_FOUND", account="clients/bob", caller=BOB
    ),
    "deposit-into-account-of-another-client": funding(
        "CreateDeposit", PERMISSION_DENIED, "NOT_RESOURCE_OWNER", account="clients/acme"
    ),
    # CreateWithdrawal.
    "withdraw-above-deposited": funding(
        "CreateWithdrawal", FAILED_PRECONDITION, "INSUFFICIENT_BALANCE", amount="1.5"
    ),
    # Carol's resting sell holds 0.6 of her 1 BTC: 0.5 is more than the 0.4 available.
    "withdraw-above-available": funding(
        "CreateWithdrawal", FAILED_PRECONDITION, "INSUFFICIENT_BALANCE", amount="0.5"
    ),
    "withdraw-negative": funding(
        "CreateWithdrawal", INVALID_ARGUMENT, "AMOUNT_NEGATIVE", "amount", amount="-0.1"
    ),
    "withdraw-over-precise": funding(
        "CreateWithdrawal", INVALID_ARGUMENT, "AMOUNT_TOO_PRECISE", "amount", amount="0.100000001"
    ),
    "withdraw-unknown-asset": funding(
        "CreateWithdrawal", INVALID_ARGUMENT, "UNKNOWN_ASSET", "asset", asset="DOGE"
    ),
    "withdraw-from-oes-account": funding(
        "CreateWithdrawal", FAILED_PRECONDITION, "ACCOUNT_IS_OES", account="clients/acme", caller=ACME
    ),
    "withdraw-from-account-of-another-client": funding(
        "CreateWithdrawal", PERMISSION_DENIED, "NOT_RESOURCE_OWNER", caller=ACME
    ),
}

# Refusals that exchange_sim gets wrong today; each fails until the bug in its reason is fixed.
KNOWN_BAD_REFUSALS = [
    pytest.param(
        place(
            INVALID_ARGUMENT,
            "PRICE_NOT_ON_TICK",
            "protection_price",
            type=MARKET,
            price="",
            protection_price="61000.005",
        ),
        id="place-protection-price-off-tick",
    ),
]


@pytest.mark.parametrize(
    "case",
    [pytest.param(case, id=name) for name, case in REFUSALS.items()] + KNOWN_BAD_REFUSALS,
)
def test_refusals_have_a_stable_reason_and_write_nothing(exchange: Exchange, case: Refused) -> None:
    setup = set_up_refusals(exchange)
    request = case.request(setup)
    call = getattr(exchange.trading(case.caller), case.method)
    before = exchange.database_rows()

    first = refusal(lambda: call(request))
    # The same request again gets the same refusal: nothing was recorded under its request_id.
    again = refusal(lambda: call(request))

    expected_fields = (case.field,) if case.field else ()
    assert first == again == (case.code, case.reason, expected_fields)
    assert case.field or case.code != INVALID_ARGUMENT, "an INVALID_ARGUMENT names its field"
    # Every table, request_log included, is unchanged. RequestLog.run records the response in the
    # transaction of the handler, so a FAILED_PRECONDITION raised by the venue rolls the request
    # log row back with everything else: by design a refused request leaves no trace, and a retry
    # under the same request_id is judged afresh (which the second call above relies on).
    assert exchange.database_rows() == before


# 2. client_order_id idempotency.


def test_client_order_id_returns_the_same_order_and_refuses_a_different_one(exchange: Exchange) -> None:
    fund(exchange)
    fund(exchange, BOB_CONNECTION)
    acme = exchange.trading()
    resting = acme.PlaceOrder(
        order_request("alpha-1", BUY, LIMIT, "0.1", "59000", client_order_id="alpha")
    ).order
    taken = acme.PlaceOrder(order_request("beta-1", BUY, MARKET, "0.1", client_order_id="beta")).order
    assert (resting.state, resting.client_order_id) == (OPEN, "alpha")
    assert (taken.state, len(taken.fills)) == (FILLED, 1)
    balances = balances_of(acme)
    rows = exchange.database_rows()

    # The same orders under new request ids: the orders placed first, nothing traded or held again.
    assert (
        acme.PlaceOrder(order_request("alpha-2", BUY, LIMIT, "0.1", "59000", client_order_id="alpha")).order
        == resting
    )
    assert acme.PlaceOrder(order_request("beta-2", BUY, MARKET, "0.1", client_order_id="beta")).order == taken
    after = exchange.database_rows()
    for table in ("orders", "trades", "balances", "journal"):
        assert after[table] == rows[table], table
    # Each new request_id records its answer, so its own retry returns that answer.
    assert len(after["request_log"]) == len(rows["request_log"]) + 2
    assert balances_of(acme) == balances

    # A different order under a used id is refused and writes nothing.
    assert refusal(
        lambda: acme.PlaceOrder(order_request("alpha-3", BUY, LIMIT, "0.1", "59001", client_order_id="alpha"))
    ) == (FAILED_PRECONDITION, "CLIENT_ORDER_ID_REUSED", ())
    assert refusal(
        lambda: acme.PlaceOrder(order_request("beta-3", BUY, MARKET, "0.2", client_order_id="beta"))
    ) == (FAILED_PRECONDITION, "CLIENT_ORDER_ID_REUSED", ())
    assert exchange.database_rows() == after

    # Once cancelled, the same order under the id is still the cancelled order, not a new one.
    cancelled = acme.CancelOrder(
        exchange_pb2.CancelOrderRequest(request_id="alpha-cancel", name=resting.name)
    ).order
    again = acme.PlaceOrder(
        order_request("alpha-4", BUY, LIMIT, "0.1", "59000", client_order_id="alpha")
    ).order
    assert again == cancelled and (again.state, again.cancel_reason) == (CANCELLED, "CANCELLED_BY_CLIENT")

    # GetOrder by account and client order id; only the owner may read it.
    by_client_id = exchange_pb2.GetOrderRequest(account="clients/acme", client_order_id="alpha")
    assert acme.GetOrder(by_client_id).order == cancelled
    bob = exchange.trading(BOB)
    assert refusal(lambda: bob.GetOrder(by_client_id)) == (PERMISSION_DENIED, "NOT_RESOURCE_OWNER", ())
    assert refusal(lambda: bob.GetOrder(exchange_pb2.GetOrderRequest(name=resting.name))) == (
        PERMISSION_DENIED,
        "NOT_RESOURCE_OWNER",
        (),
    )
    # Ids are per account: bob's own "alpha" is not acme's, and bob may use it for his own order.
    assert refusal(
        lambda: bob.GetOrder(exchange_pb2.GetOrderRequest(account="clients/bob", client_order_id="alpha"))
    ) == (NOT_FOUND, "ORDER_NOT_FOUND", ())
    bobs = bob.PlaceOrder(
        order_request("bob-alpha", BUY, LIMIT, "0.1", "59000", account="clients/bob", client_order_id="alpha")
    ).order
    assert bobs.name != resting.name and bobs.state == OPEN
    assert (
        bob.GetOrder(exchange_pb2.GetOrderRequest(account="clients/bob", client_order_id="alpha")).order
        == bobs
    )


# 3. Order types.


def test_immediate_or_cancel_cancels_the_remainder(exchange: Exchange) -> None:
    fund(exchange)
    acme = exchange.trading()
    order = acme.PlaceOrder(
        order_request(
            "ioc", BUY, LIMIT, "0.8", "60030", time_in_force=exchange_pb2.TIME_IN_FORCE_IMMEDIATE_OR_CANCEL
        )
    ).order

    assert (order.state, order.cancel_reason, order.filled_quantity) == (
        CANCELLED,
        "IMMEDIATE_OR_CANCEL_REMAINDER",
        "0.50000000",
    )
    assert [(fill.price, fill.quantity, fill.fee, fill.maker) for fill in order.fills] == [
        (BEST_ASK, "0.50000000", "60.030000", False)
    ]
    assert balances_of(acme)["USDT"] == (
        "100000.000000",
        "-30075.030000",
        NO_USDT_HELD,
        "69924.970000",
        "0.000000",
    )
    assert acme.GetOrder(exchange_pb2.GetOrderRequest(name=order.name)).order == order


def test_fill_or_kill_that_cannot_fill_is_cancelled_untouched(exchange: Exchange) -> None:
    fund(exchange)
    acme = exchange.trading()
    balances = balances_of(acme)
    fill_or_kill = exchange_pb2.TIME_IN_FORCE_FILL_OR_KILL

    # 0.8 BTC up to 60 030: only 0.5 is offered there.
    killed = acme.PlaceOrder(
        order_request("fok-1", BUY, LIMIT, "0.8", "60030", time_in_force=fill_or_kill)
    ).order

    assert (killed.state, killed.cancel_reason, killed.filled_quantity) == (
        CANCELLED,
        "FILL_OR_KILL_NOT_FILLABLE",
        "0.00000000",
    )
    assert list(killed.fills) == [] and killed.fee == "0.000000"
    assert balances_of(acme) == balances
    assert trade_accounts(exchange) == []
    book = acme.GetOrderBook(exchange_pb2.GetOrderBookRequest(market="BTC-USDT", depth=1))
    assert [(level.price, level.quantity) for level in book.asks] == [(BEST_ASK, "0.50000000")]

    # Up to 60 060 it can fill completely, so it does.
    filled = acme.PlaceOrder(
        order_request("fok-2", BUY, LIMIT, "0.8", "60060", time_in_force=fill_or_kill)
    ).order
    assert (filled.state, filled.filled_quantity, filled.cancel_reason) == (FILLED, "0.80000000", "")
    assert held(acme) == {"BTC": NO_BTC_HELD, "USDT": NO_USDT_HELD}


def test_post_only_that_would_take_is_cancelled(exchange: Exchange) -> None:
    fund(exchange)
    acme = exchange.trading()
    balances = balances_of(acme)

    crossing = acme.PlaceOrder(order_request("post-1", BUY, LIMIT, "0.1", "60030", post_only=True)).order

    assert (crossing.state, crossing.cancel_reason, list(crossing.fills)) == (
        CANCELLED,
        "POST_ONLY_WOULD_TAKE",
        [],
    )
    assert balances_of(acme) == balances
    assert trade_accounts(exchange) == []

    resting = acme.PlaceOrder(order_request("post-2", BUY, LIMIT, "0.1", "60020", post_only=True)).order
    assert (resting.state, resting.post_only) == (OPEN, True)
    # 6 002 USDT at the limit price plus the larger (taker) fee on it, 12.004.
    assert held(acme)["USDT"] == "6014.004000"


def test_market_order_stops_at_its_protection_price(exchange: Exchange) -> None:
    fund(exchange)
    acme = exchange.trading()

    order = acme.PlaceOrder(order_request("protected", BUY, MARKET, "1.2", protection_price="60060")).order

    assert (order.state, order.cancel_reason, order.filled_quantity, order.protection_price) == (
        CANCELLED,
        "PROTECTION_PRICE_REACHED",
        "1.00000000",
        SECOND_ASK,
    )
    assert [(fill.price, fill.quantity) for fill in order.fills] == [
        (BEST_ASK, "0.50000000"),
        (SECOND_ASK, "0.50000000"),
    ]
    # 60 045 USDT notional plus 20 bps.
    assert balances_of(acme)["USDT"][1:4] == ("-60165.090000", NO_USDT_HELD, "39834.910000")
    assert balances_of(acme)["BTC"][1:4] == ("1.00000000", NO_BTC_HELD, "3.00000000")


@pytest.mark.parametrize(
    ("prevention", "taker_state", "taker_filled", "maker_state", "taker_fill_prices"),
    [
        # The taker's rest is cancelled at acme's own ask; that ask stays.
        (exchange_pb2.SELF_TRADE_PREVENTION_CANCEL_TAKER, CANCELLED, "0.50000000", OPEN, [BEST_ASK]),
        # Acme's own ask is cancelled and the taker goes on to the next house level.
        (
            exchange_pb2.SELF_TRADE_PREVENTION_CANCEL_MAKER,
            FILLED,
            "1.00000000",
            CANCELLED,
            [BEST_ASK, SECOND_ASK],
        ),
        # Both are cancelled.
        (exchange_pb2.SELF_TRADE_PREVENTION_CANCEL_BOTH, CANCELLED, "0.50000000", CANCELLED, [BEST_ASK]),
    ],
)
def test_self_trade_prevention(
    exchange: Exchange,
    prevention: exchange_pb2.SelfTradePrevention,
    taker_state: exchange_pb2.OrderState,
    taker_filled: str,
    maker_state: exchange_pb2.OrderState,
    taker_fill_prices: list[str],
) -> None:
    fund(exchange)
    acme = exchange.trading()
    # Acme's own ask sits between the house's 60 030 and 60 060.
    maker = acme.PlaceOrder(order_request("own-ask", SELL, LIMIT, "0.3", "60040")).order
    assert maker.state == OPEN

    taker = acme.PlaceOrder(
        order_request("own-bid", BUY, LIMIT, "1", "60060", self_trade_prevention=prevention)
    ).order
    maker = acme.GetOrder(exchange_pb2.GetOrderRequest(name=maker.name)).order

    assert (taker.state, taker.filled_quantity, taker.self_trade_prevention) == (
        taker_state,
        taker_filled,
        prevention,
    )
    assert taker.cancel_reason == ("SELF_TRADE_PREVENTED" if taker_state == CANCELLED else "")
    assert [fill.price for fill in taker.fills] == taker_fill_prices
    assert (maker.state, maker.filled_quantity) == (maker_state, "0.00000000")
    assert maker.cancel_reason == ("SELF_TRADE_PREVENTED" if maker_state == CANCELLED else "")
    trades = trade_accounts(exchange)
    assert len(trades) == len(taker_fill_prices)
    assert all(buyer != seller for buyer, seller in trades)
    assert all(buyer == "clients/acme" for buyer, _ in trades)

    cancelled = acme.CancelAllOrders(
        exchange_pb2.CancelAllOrdersRequest(request_id="finish", account="clients/acme")
    ).orders
    assert [order.name for order in cancelled] == ([maker.name] if maker_state == OPEN else [])
    assert held(acme) == {"BTC": NO_BTC_HELD, "USDT": NO_USDT_HELD}


def test_market_order_with_cancel_maker_never_spends_more_than_available(exchange: Exchange) -> None:
    # Just enough for 1 BTC taken at 60 030 and at acme's own 60 040 (60 035 + 120.07 fee).
    fund(exchange, usdt="60155.07")
    acme = exchange.trading()
    acme.PlaceOrder(order_request("own-ask", SELL, LIMIT, "0.5", "60040"))
    market_buy = order_request(
        "market-buy", BUY, MARKET, "1", self_trade_prevention=exchange_pb2.SELF_TRADE_PREVENTION_CANCEL_MAKER
    )

    try:
        acme.PlaceOrder(market_buy)
    except grpc.RpcError as error:
        assert remote_error(error).reason == "INSUFFICIENT_BALANCE"
    # Taking acme's ask off the book leaves 60 060 as the next price: 60 165.09 in all.
    assert Decimal(balances_of(acme)["USDT"][3]) >= 0


# 4. CancelAllOrders, ListOrders, ListTrades.


def test_cancel_all_cancels_only_the_callers_open_orders(exchange: Exchange) -> None:
    fund(exchange)
    fund(exchange, BOB_CONNECTION)
    acme, bob = exchange.trading(), exchange.trading(BOB)
    bobs = bob.PlaceOrder(order_request("bob-bid", BUY, LIMIT, "0.1", "59500", account="clients/bob")).order
    bob_held = held(bob, "clients/bob")
    book = acme.GetOrderBook(exchange_pb2.GetOrderBookRequest(market="BTC-USDT", depth=20))
    filled = acme.PlaceOrder(order_request("filled", BUY, MARKET, "0.1")).order
    first = [
        acme.PlaceOrder(order_request(f"first-{index}", side, LIMIT, "0.1", price)).order
        for index, (side, price) in enumerate([(BUY, "59000"), (BUY, "58900"), (SELL, "61000")])
    ]
    assert filled.state == FILLED and held(acme) != {"BTC": NO_BTC_HELD, "USDT": NO_USDT_HELD}

    in_market = acme.CancelAllOrders(
        exchange_pb2.CancelAllOrdersRequest(
            request_id="cancel-market", account="clients/acme", market="BTC-USDT"
        )
    ).orders

    assert [order.name for order in in_market] == [order.name for order in first]
    assert {(order.state, order.cancel_reason) for order in in_market} == {(CANCELLED, "CANCELLED_BY_CLIENT")}
    assert held(acme) == {"BTC": NO_BTC_HELD, "USDT": NO_USDT_HELD}

    second = [
        acme.PlaceOrder(order_request(f"second-{index}", BUY, LIMIT, "0.1", price)).order
        for index, price in enumerate(["59100", "59200"])
    ]
    everywhere = acme.CancelAllOrders(
        exchange_pb2.CancelAllOrdersRequest(request_id="cancel-everywhere", account="clients/acme")
    ).orders
    assert [order.name for order in everywhere] == [order.name for order in second]
    assert {(order.state, order.cancel_reason) for order in everywhere} == {
        (CANCELLED, "CANCELLED_BY_CLIENT")
    }
    assert held(acme) == {"BTC": NO_BTC_HELD, "USDT": NO_USDT_HELD}
    # Nothing left to cancel.
    assert not acme.CancelAllOrders(
        exchange_pb2.CancelAllOrdersRequest(request_id="cancel-nothing", account="clients/acme")
    ).orders

    # Bob's order and the house quotes are untouched: the level acme took 0.1 of is still more
    # than half full, so the house has not topped it up.
    assert bob.GetOrder(exchange_pb2.GetOrderRequest(name=bobs.name)).order.state == OPEN
    assert held(bob, "clients/bob") == bob_held
    assert acme.GetOrder(exchange_pb2.GetOrderRequest(name=filled.name)).order.state == FILLED
    after = acme.GetOrderBook(exchange_pb2.GetOrderBookRequest(market="BTC-USDT", depth=20))
    assert [(level.price, Decimal(level.quantity)) for level in after.asks] == [
        (level.price, Decimal(level.quantity) - (Decimal("0.1") if index == 0 else 0))
        for index, level in enumerate(book.asks)
    ]
    assert [(level.price, level.quantity, level.order_count) for level in after.bids] == [
        (level.price, level.quantity, level.order_count) for level in book.bids
    ]


def test_list_orders_newest_first_with_paging(exchange: Exchange) -> None:
    fund(exchange)
    acme = exchange.trading()
    placed = [
        acme.PlaceOrder(order_request(f"list-{index}", BUY, LIMIT, "0.1", str(59000 - 10 * index))).order
        for index in range(5)
    ]
    for order in (placed[1], placed[3]):
        acme.CancelOrder(exchange_pb2.CancelOrderRequest(request_id=f"cancel-{order.name}", name=order.name))
    names = [order.name for order in placed]

    def listed(**fields: object) -> exchange_pb2.ListOrdersResponse:
        return acme.ListOrders(with_fields(exchange_pb2.ListOrdersRequest(account="clients/acme"), **fields))

    open_only = listed(open_only=True)
    assert [order.name for order in open_only.orders] == [names[4], names[2], names[0]]
    assert {order.state for order in open_only.orders} == {OPEN} and not open_only.next_page_token
    every = listed()
    assert [order.name for order in every.orders] == names[::-1]
    assert [order.cancel_reason for order in every.orders] == [
        "",
        "CANCELLED_BY_CLIENT",
        "",
        "CANCELLED_BY_CLIENT",
        "",
    ]
    assert listed(market="BTC-USDT").orders == every.orders

    pages: list[list[str]] = []
    token = ""
    for _ in range(5):
        page = listed(page_size=2, page_token=token)
        pages.append([order.name for order in page.orders])
        token = page.next_page_token
        if not token:
            break
    assert pages == [names[4:2:-1], names[2:0:-1], names[0:1]]

    first_page = listed(page_size=2)
    for other_filters in ({"open_only": True}, {"market": "BTC-USDT"}):
        assert refusal(
            partial(listed, page_size=2, page_token=first_page.next_page_token, **other_filters)
        ) == (
            INVALID_ARGUMENT,
            "PAGE_TOKEN_INVALID",
            ("page_token",),
        )
    assert refusal(lambda: listed(page_token="bm90LWEtdG9rZW4")) == (
        INVALID_ARGUMENT,
        "PAGE_TOKEN_INVALID",
        ("page_token",),
    )
    assert refusal(lambda: listed(market="ETH-USDT")) == (INVALID_ARGUMENT, "UNKNOWN_MARKET", ("market",))
    assert refusal(
        lambda: exchange.trading(BOB).ListOrders(exchange_pb2.ListOrdersRequest(account="clients/acme"))
    ) == (PERMISSION_DENIED, "NOT_RESOURCE_OWNER", ())


def test_list_trades_from_the_accounts_side(exchange: Exchange) -> None:
    fund(exchange)
    fund(exchange, BOB_CONNECTION)
    acme, bob = exchange.trading(), exchange.trading(BOB)
    # Acme's bid becomes the best bid; bob sells into it, so acme is the maker of a buy.
    bid = acme.PlaceOrder(order_request("bid", BUY, LIMIT, "0.1", "59990")).order
    bob.PlaceOrder(order_request("bob-sell", SELL, MARKET, "0.1", account="clients/bob"))
    # Then acme sells at market into the house's best bid, as the taker.
    sell = acme.PlaceOrder(order_request("sell", SELL, MARKET, "0.05")).order

    trades = acme.ListTrades(exchange_pb2.ListTradesRequest(account="clients/acme")).trades

    assert [
        (trade.order, trade.side, trade.price, trade.quantity, trade.fee, trade.maker, trade.market)
        for trade in trades
    ] == [
        # 2 998.5 USDT at the 20 bps taker fee.
        (sell.name, SELL, BEST_BID, "0.05000000", "5.997000", False, "BTC-USDT"),
        # 5 999 USDT at the 10 bps maker fee.
        (bid.name, BUY, "59990.000000", "0.10000000", "5.999000", True, "BTC-USDT"),
    ]
    assert trades[0].trade_sequence > trades[1].trade_sequence
    bob_trades = bob.ListTrades(exchange_pb2.ListTradesRequest(account="clients/bob")).trades
    assert [(trade.side, trade.maker, trade.fee) for trade in bob_trades] == [(SELL, False, "11.998000")]
    assert bob_trades[0].trade_sequence == trades[1].trade_sequence

    first = acme.ListTrades(exchange_pb2.ListTradesRequest(account="clients/acme", page_size=1))
    second = acme.ListTrades(
        exchange_pb2.ListTradesRequest(account="clients/acme", page_size=1, page_token=first.next_page_token)
    )
    assert list(first.trades) + list(second.trades) == list(trades) and not second.next_page_token
    assert refusal(lambda: bob.ListTrades(exchange_pb2.ListTradesRequest(account="clients/acme"))) == (
        PERMISSION_DENIED,
        "NOT_RESOURCE_OWNER",
        (),
    )


# 5. A traditional account beside an OES one, and who may move what.


def test_traditional_account_trades_like_an_oes_one(exchange: Exchange) -> None:
    fund(exchange)
    open_traditional(exchange, "carol", {"BTC": "2", "USDT": "100000"})
    acme, carol = exchange.trading(), exchange.trading(CAROL)
    for account, stub in (("clients/acme", acme), ("clients/carol", carol)):
        stub.PlaceOrder(order_request(f"{account}-bid", BUY, LIMIT, "0.1", "59000", account=account))
        taken = stub.PlaceOrder(
            order_request(
                f"{account}-take",
                BUY,
                LIMIT,
                "0.2",
                "60030",
                account=account,
                time_in_force=exchange_pb2.TIME_IN_FORCE_IMMEDIATE_OR_CANCEL,
            )
        ).order
        assert [(fill.price, fill.quantity, fill.fee) for fill in taken.fills] == [
            (BEST_ASK, "0.20000000", "24.012000")
        ]

    oes = acme.GetBalances(exchange_pb2.GetBalancesRequest(account="clients/acme"))
    traditional = carol.GetBalances(exchange_pb2.GetBalancesRequest(account="clients/carol"))

    assert oes.custody_model == exchange_pb2.CUSTODY_MODEL_OES
    assert traditional.custody_model == exchange_pb2.CUSTODY_MODEL_TRADITIONAL
    assert [
        (balance.asset, balance.deposited, balance.held, balance.available, balance.mirror, balance.unsettled)
        for balance in traditional.balances
    ] == [
        ("BTC", "2.20000000", NO_BTC_HELD, "2.20000000", "", ""),
        # 12 006 USDT plus 24.012 fee paid; 5 911.8 held by the resting bid.
        ("USDT", "87969.988000", "5911.800000", "82058.188000", "", ""),
    ]
    for oes_balance, traditional_balance in zip(oes.balances, traditional.balances, strict=True):
        assert oes_balance.asset == traditional_balance.asset
        assert (oes_balance.held, oes_balance.available) == (
            traditional_balance.held,
            traditional_balance.available,
        )
        assert Decimal(oes_balance.mirror) + Decimal(oes_balance.unsettled) == Decimal(
            traditional_balance.deposited
        )
        assert oes_balance.deposited == ""

    # Only what is available can be withdrawn; the hold stays until the bid is cancelled.
    assert refusal(
        lambda: carol.CreateWithdrawal(
            exchange_pb2.CreateWithdrawalRequest(
                request_id="too-much", account="clients/carol", asset="USDT", amount="82058.188001"
            )
        )
    ) == (FAILED_PRECONDITION, "INSUFFICIENT_BALANCE", ())
    withdrawn = carol.CreateWithdrawal(
        exchange_pb2.CreateWithdrawalRequest(
            request_id="withdraw", account="clients/carol", asset="USDT", amount="82058.188"
        )
    ).balance
    assert (withdrawn.deposited, withdrawn.held, withdrawn.available) == (
        "5911.800000",
        "5911.800000",
        "0.000000",
    )
    carol.CancelAllOrders(exchange_pb2.CancelAllOrdersRequest(request_id="cancel", account="clients/carol"))
    assert balances_of(carol, "clients/carol")["USDT"][2:4] == (NO_USDT_HELD, "5911.800000")
    deposited = carol.CreateDeposit(
        exchange_pb2.CreateDepositRequest(
            request_id="top-up", account="clients/carol", asset="USDT", amount="88.2"
        )
    ).balance
    assert (deposited.deposited, deposited.available) == ("6000.000000", "6000.000000")


def test_clients_move_only_their_own_funds_and_admin_never_trades(exchange: Exchange) -> None:
    open_traditional(exchange, "acme", {"BTC": "1", "USDT": "10000"})
    acme_order_placed = (
        exchange.trading().PlaceOrder(order_request("acme-bid", BUY, LIMIT, "0.1", "59000")).order
    )
    bob, admin, bridge = exchange.trading(BOB), exchange.trading(ADMIN), exchange.trading(BRIDGE)
    deposit = exchange_pb2.CreateDepositRequest(
        request_id="d", account="clients/acme", asset="BTC", amount="1"
    )
    withdrawal = exchange_pb2.CreateWithdrawalRequest(
        request_id="w", account="clients/acme", asset="BTC", amount="1"
    )
    place_for_acme = order_request("admin-order", BUY, LIMIT, "0.1", "59000")
    cancel_acme = exchange_pb2.CancelOrderRequest(request_id="c", name=acme_order_placed.name)
    cancel_all_acme = exchange_pb2.CancelAllOrdersRequest(request_id="ca", account="clients/acme")
    before = exchange.database_rows()

    assert refusal(lambda: bob.CreateDeposit(deposit)) == (PERMISSION_DENIED, "NOT_RESOURCE_OWNER", ())
    assert refusal(lambda: bob.CreateWithdrawal(withdrawal)) == (PERMISSION_DENIED, "NOT_RESOURCE_OWNER", ())
    assert refusal(lambda: bob.PlaceOrder(place_for_acme)) == (PERMISSION_DENIED, "NOT_RESOURCE_OWNER", ())
    for stub in (admin, bridge):
        for method, request in (
            (stub.PlaceOrder, place_for_acme),
            (stub.CancelOrder, cancel_acme),
            (stub.CancelAllOrders, cancel_all_acme),
            (stub.CreateDeposit, deposit),
            (stub.CreateWithdrawal, withdrawal),
        ):
            assert refusal(partial(method, request)) == (PERMISSION_DENIED, "PRINCIPAL_NOT_ALLOWED", ())
    assert refusal(lambda: exchange.trading(None).PlaceOrder(place_for_acme))[:2] == (
        grpc.StatusCode.UNAUTHENTICATED,
        "MISSING_TOKEN",
    )
    assert exchange.database_rows() == before

    # The administrator may read the account, and acme may move its own funds.
    assert admin.GetBalances(exchange_pb2.GetBalancesRequest(account="clients/acme")).custody_model == (
        exchange_pb2.CUSTODY_MODEL_TRADITIONAL
    )
    assert exchange.trading().CreateDeposit(deposit).balance.deposited == "2.00000000"
