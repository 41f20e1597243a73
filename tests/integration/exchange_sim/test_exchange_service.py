"""The exchange over gRPC: a funded client trades, the venue issues a signed statement and re-bases."""

from __future__ import annotations

import grpc
import pytest

from oes.common.v1 import statement_pb2
from oes.control.v1 import control_pb2
from oes.exchange.v1 import exchange_pb2
from service_kit.auth import ADMIN
from service_kit.rpc_errors import remote_error
from service_kit.signing import verify
from service_kit.statement_messages import content_from_message
from tests.integration.exchange_sim.conftest import (
    ACME,
    BOB,
    CONNECTION,
    Exchange,
    acme_order,
    balances_of,
    fund,
    start_exchange,
)

MARKET_BUY_ONE_BTC = acme_order("buy-1", exchange_pb2.SIDE_BUY, exchange_pb2.ORDER_TYPE_MARKET, "1")


def error_of(call: grpc.RpcError) -> tuple[grpc.StatusCode, str, tuple[str, ...]]:
    error = remote_error(call)
    return error.code, error.reason, error.field_violations


def test_trade_statement_and_confirmation(exchange: Exchange) -> None:
    fund(exchange)
    trading = exchange.trading()
    assert balances_of(trading)["USDT"] == (
        "100000.000000",
        "0.000000",
        "0.000000",
        "100000.000000",
        "0.000000",
    )

    order = trading.PlaceOrder(MARKET_BUY_ONE_BTC).order

    assert order.state == exchange_pb2.ORDER_STATE_FILLED
    assert order.filled_quantity == "1.00000000"
    assert [(fill.price, fill.quantity, fill.fee, fill.maker) for fill in order.fills] == [
        ("60030.000000", "0.50000000", "60.030000", False),
        ("60060.000000", "0.50000000", "60.060000", False),
    ]
    assert [fill.trade_sequence for fill in order.fills] == [1, 2]
    # Paid: 60 045 USDT notional plus the 20 bps taker fee, 120.09 USDT.
    assert balances_of(trading) == {
        "BTC": ("2.00000000", "1.00000000", "0.00000000", "3.00000000", "0.00000000"),
        "USDT": ("100000.000000", "-60165.090000", "0.000000", "39834.910000", "0.000000"),
    }
    assert trading.GetOrder(exchange_pb2.GetOrderRequest(name=order.name)).order == order

    partner = exchange.partner()
    issued = partner.CreateStatement(exchange_pb2.CreateStatementRequest(request_id="cutoff-1"))
    statement = issued.statement
    venue = partner.GetVenue(exchange_pb2.GetVenueRequest())

    assert issued.state == exchange_pb2.STATEMENT_STATE_ISSUED
    assert (venue.exchange, venue.state) == ("exchanges/okx-sim", exchange_pb2.VENUE_STATE_OPERATING)
    assert venue.last_statement == statement.name == "exchanges/okx-sim/statements/1"
    assert len(venue.statement_public_key) == 32
    assert verify(venue.statement_public_key, content_from_message(statement), statement.signature)
    assert [(entry.connection, entry.asset, entry.amount) for entry in statement.entries] == [
        (CONNECTION, "BTC", "1.00000000"),
        (CONNECTION, "USDT", "-60165.090000"),
    ]
    assert (statement.first_trade_sequence, statement.last_trade_sequence) == (1, 2)

    confirmed = partner.ConfirmStatement(
        exchange_pb2.ConfirmStatementRequest(request_id="confirm-1", statement=statement.name)
    )

    assert confirmed.state == exchange_pb2.STATEMENT_STATE_CONFIRMED
    assert balances_of(trading) == {
        "BTC": ("3.00000000", "0.00000000", "0.00000000", "3.00000000", "0.00000000"),
        "USDT": ("39834.910000", "0.000000", "0.000000", "39834.910000", "0.000000"),
    }
    mirrors = partner.ListMirrors(exchange_pb2.ListMirrorsRequest()).mirrors
    assert [(mirror.asset, mirror.mirror, mirror.unsettled) for mirror in mirrors] == [
        ("BTC", "3.00000000", "0.00000000"),
        ("USDT", "39834.910000", "0.000000"),
    ]
    again = partner.ConfirmStatement(
        exchange_pb2.ConfirmStatementRequest(request_id="confirm-again", statement=statement.name)
    )
    assert again.state == exchange_pb2.STATEMENT_STATE_CONFIRMED
    assert balances_of(trading)["BTC"][0] == "3.00000000"


def test_retries_return_the_first_answer_and_take_effect_once(exchange: Exchange) -> None:
    fund(exchange)
    fund(exchange)
    trading = exchange.trading()
    partner = exchange.partner()

    first = trading.PlaceOrder(MARKET_BUY_ONE_BTC)
    retry = trading.PlaceOrder(MARKET_BUY_ONE_BTC)
    cutoff = partner.CreateStatement(exchange_pb2.CreateStatementRequest(request_id="cutoff-1"))
    cutoff_retry = partner.CreateStatement(exchange_pb2.CreateStatementRequest(request_id="cutoff-1"))

    assert retry == first
    assert cutoff_retry == cutoff
    assert balances_of(trading)["BTC"] == (
        "2.00000000",
        "1.00000000",
        "0.00000000",
        "3.00000000",
        "0.00000000",
    )
    book = trading.GetOrderBook(exchange_pb2.GetOrderBookRequest(market="BTC-USDT"))
    assert book.last_trade_sequence == 2
    with pytest.raises(grpc.RpcError) as raised:
        trading.PlaceOrder(acme_order("buy-1", exchange_pb2.SIDE_BUY, exchange_pb2.ORDER_TYPE_MARKET, "2"))
    assert error_of(raised.value)[:2] == (grpc.StatusCode.ALREADY_EXISTS, "REQUEST_ID_REUSED")
    with pytest.raises(grpc.RpcError) as raised:
        partner.CreateStatement(exchange_pb2.CreateStatementRequest(request_id="cutoff-2"))
    assert error_of(raised.value)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "STATEMENT_IN_FLIGHT")


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("-1", "AMOUNT_NEGATIVE"),
        ("abc", "AMOUNT_MALFORMED"),
        ("", "AMOUNT_MALFORMED"),
        ("1.123456789", "AMOUNT_TOO_PRECISE"),
        ("0", "AMOUNT_NOT_POSITIVE"),
    ],
)
def test_bad_amounts_are_refused_and_nothing_is_written(exchange: Exchange, amount: str, reason: str) -> None:
    fund(exchange)
    before = exchange.database_rows()
    with pytest.raises(grpc.RpcError) as raised:
        exchange.partner().ReserveAllocation(
            exchange_pb2.ReserveAllocationRequest(
                request_id="bad", connection=CONNECTION, allocation_id="bad", asset="BTC", amount=amount
            )
        )
    assert error_of(raised.value) == (grpc.StatusCode.INVALID_ARGUMENT, reason, ("amount",))
    assert exchange.database_rows() == before


@pytest.mark.parametrize(
    ("changes", "reason", "field"),
    [
        ({"price": "60000.001"}, "PRICE_NOT_ON_TICK", "price"),
        ({"price": "abc"}, "AMOUNT_MALFORMED", "price"),
        ({"price": "-1"}, "AMOUNT_NEGATIVE", "price"),
        ({"price": "0"}, "AMOUNT_NOT_POSITIVE", "price"),
        ({"quantity": "0.00001"}, "QUANTITY_NOT_ON_LOT", "quantity"),
        ({"quantity": "0"}, "AMOUNT_NOT_POSITIVE", "quantity"),
        ({"quantity": "1.123456789"}, "AMOUNT_TOO_PRECISE", "quantity"),
        ({"market": "ETH-USDT"}, "UNKNOWN_MARKET", "market"),
        ({"side": exchange_pb2.SIDE_UNSPECIFIED}, "SIDE_UNSPECIFIED", "side"),
        ({"type": exchange_pb2.ORDER_TYPE_MARKET}, "PRICE_NOT_ALLOWED", "price"),
        ({"request_id": ""}, "REQUEST_ID_INVALID", "request_id"),
    ],
)
def test_bad_orders_are_refused_and_nothing_is_written(
    exchange: Exchange, changes: dict[str, object], reason: str, field: str
) -> None:
    fund(exchange)
    before = exchange.database_rows()
    fields: dict[str, object] = {
        "request_id": "bad-order",
        "account": "clients/acme",
        "market": "BTC-USDT",
        "side": exchange_pb2.SIDE_BUY,
        "type": exchange_pb2.ORDER_TYPE_LIMIT,
        "price": "60000",
        "quantity": "0.5",
    }
    with pytest.raises(grpc.RpcError) as raised:
        exchange.trading().PlaceOrder(exchange_pb2.PlaceOrderRequest(**{**fields, **changes}))  # type: ignore[arg-type]
    assert error_of(raised.value) == (grpc.StatusCode.INVALID_ARGUMENT, reason, (field,))
    assert exchange.database_rows() == before


def test_insufficient_balance_is_refused_and_nothing_is_written(exchange: Exchange) -> None:
    fund(exchange, usdt="1000")
    before = exchange.database_rows()
    with pytest.raises(grpc.RpcError) as raised:
        exchange.trading().PlaceOrder(MARKET_BUY_ONE_BTC)
    assert error_of(raised.value)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_BALANCE")
    assert exchange.database_rows() == before


def test_limit_order_rests_holds_and_cancels(exchange: Exchange) -> None:
    fund(exchange)
    trading = exchange.trading()
    order = trading.PlaceOrder(
        acme_order("bid", exchange_pb2.SIDE_BUY, exchange_pb2.ORDER_TYPE_LIMIT, "1", price="59000")
    ).order
    assert order.state == exchange_pb2.ORDER_STATE_OPEN
    assert balances_of(trading)["USDT"][2] == "59118.000000"
    book = trading.GetOrderBook(exchange_pb2.GetOrderBookRequest(market="BTC-USDT", depth=20))
    assert ("59000.000000", "1.00000000", 1) in [
        (level.price, level.quantity, level.order_count) for level in book.bids
    ]

    with pytest.raises(grpc.RpcError) as raised:
        exchange.trading(BOB).CancelOrder(
            exchange_pb2.CancelOrderRequest(request_id="steal", name=order.name)
        )
    assert error_of(raised.value)[:2] == (grpc.StatusCode.PERMISSION_DENIED, "NOT_RESOURCE_OWNER")

    cancelled = trading.CancelOrder(
        exchange_pb2.CancelOrderRequest(request_id="cancel", name=order.name)
    ).order
    assert cancelled.state == exchange_pb2.ORDER_STATE_CANCELLED
    assert balances_of(trading)["USDT"][2] == "0.000000"
    with pytest.raises(grpc.RpcError) as raised:
        trading.CancelOrder(exchange_pb2.CancelOrderRequest(request_id="cancel-again", name=order.name))
    assert error_of(raised.value)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "ORDER_NOT_OPEN")
    with pytest.raises(grpc.RpcError) as raised:
        trading.GetOrder(exchange_pb2.GetOrderRequest(name="orders/999999"))
    assert error_of(raised.value)[:2] == (grpc.StatusCode.NOT_FOUND, "ORDER_NOT_FOUND")


def test_authorization(exchange: Exchange) -> None:
    fund(exchange)
    with pytest.raises(grpc.RpcError) as raised:
        exchange.trading(BOB).GetBalances(exchange_pb2.GetBalancesRequest(account="clients/acme"))
    assert error_of(raised.value)[:2] == (grpc.StatusCode.PERMISSION_DENIED, "NOT_RESOURCE_OWNER")
    with pytest.raises(grpc.RpcError) as raised:
        exchange.trading(None).GetBalances(exchange_pb2.GetBalancesRequest(account="clients/acme"))
    assert error_of(raised.value)[:2] == (grpc.StatusCode.UNAUTHENTICATED, "MISSING_TOKEN")
    with pytest.raises(grpc.RpcError) as raised:
        exchange.partner(ACME).CreateStatement(exchange_pb2.CreateStatementRequest(request_id="mine"))
    assert error_of(raised.value)[:2] == (grpc.StatusCode.PERMISSION_DENIED, "PRINCIPAL_NOT_ALLOWED")
    with pytest.raises(grpc.RpcError) as raised:
        exchange.trading(BOB).GetBalances(exchange_pb2.GetBalancesRequest(account="clients/bob"))
    assert error_of(raised.value)[:2] == (grpc.StatusCode.NOT_FOUND, "ACCOUNT_NOT_FOUND")
    assert set(balances_of(exchange.trading(ADMIN))) == {"BTC", "USDT"}
    with pytest.raises(grpc.RpcError) as raised:
        exchange.partner().CreateConnection(
            exchange_pb2.CreateConnectionRequest(
                request_id="foreign", connection="clients/acme/connections/other"
            )
        )
    assert error_of(raised.value) == (grpc.StatusCode.INVALID_ARGUMENT, "WRONG_EXCHANGE", ("connection",))


def test_restart_on_the_same_data_keeps_everything(exchange: Exchange) -> None:
    fund(exchange)
    trading = exchange.trading()
    filled = trading.PlaceOrder(MARKET_BUY_ONE_BTC).order
    resting = trading.PlaceOrder(
        acme_order("ask", exchange_pb2.SIDE_SELL, exchange_pb2.ORDER_TYPE_LIMIT, "0.25", price="61000")
    ).order
    statement = exchange.partner().CreateStatement(exchange_pb2.CreateStatementRequest(request_id="cutoff"))
    balances = balances_of(trading)
    book = trading.GetOrderBook(exchange_pb2.GetOrderBookRequest(market="BTC-USDT", depth=30))
    exchange.stop()

    restarted = start_exchange(exchange.data_dir)
    try:
        trading = restarted.trading()
        assert balances_of(trading) == balances
        assert trading.GetOrderBook(exchange_pb2.GetOrderBookRequest(market="BTC-USDT", depth=30)) == book
        assert trading.GetOrder(exchange_pb2.GetOrderRequest(name=filled.name)).order == filled
        assert trading.GetOrder(exchange_pb2.GetOrderRequest(name=resting.name)).order == resting
        partner = restarted.partner()
        assert partner.GetVenue(exchange_pb2.GetVenueRequest()).last_statement == statement.statement.name
        assert partner.CreateStatement(exchange_pb2.CreateStatementRequest(request_id="cutoff")) == statement
        partner.ConfirmStatement(
            exchange_pb2.ConfirmStatementRequest(request_id="confirm", statement=statement.statement.name)
        )
        assert balances_of(trading)["BTC"][:2] == ("3.00000000", "0.00000000")
    finally:
        restarted.stop()


def test_reset_empties_the_venue_and_quotes_the_ladder_again(exchange: Exchange) -> None:
    fund(exchange)
    trading = exchange.trading()
    trading.PlaceOrder(MARKET_BUY_ONE_BTC)

    exchange.control().Reset(control_pb2.ResetRequest(request_id="reset-1"))

    with pytest.raises(grpc.RpcError) as raised:
        trading.GetBalances(exchange_pb2.GetBalancesRequest(account="clients/acme"))
    assert error_of(raised.value)[:2] == (grpc.StatusCode.NOT_FOUND, "ACCOUNT_NOT_FOUND")
    book = trading.GetOrderBook(exchange_pb2.GetOrderBookRequest(market="BTC-USDT", depth=100))
    assert (len(book.bids), len(book.asks), book.last_trade_sequence) == (10, 10, 0)
    assert exchange.partner().GetVenue(exchange_pb2.GetVenueRequest()).last_statement == ""


def test_a_partial_confirmation_rebases_only_the_settled_entries(exchange: Exchange) -> None:
    fund(exchange)
    trading = exchange.trading()
    trading.PlaceOrder(MARKET_BUY_ONE_BTC)
    partner = exchange.partner()
    statement = partner.CreateStatement(exchange_pb2.CreateStatementRequest(request_id="cutoff-1")).statement
    btc_entry, usdt_entry = statement.entries
    bad_amount = exchange_pb2.ConfirmStatementRequest(
        request_id="confirm-bad",
        statement=statement.name,
        settled_entries=[common_entry(btc_entry.connection, "BTC", "1.000000001")],
    )
    not_an_entry = exchange_pb2.ConfirmStatementRequest(
        request_id="confirm-other",
        statement=statement.name,
        settled_entries=[common_entry(btc_entry.connection, "BTC", "2.00000000")],
    )
    for request, expected in (
        (
            bad_amount,
            (grpc.StatusCode.INVALID_ARGUMENT, "AMOUNT_TOO_PRECISE", ("settled_entries[0].amount",)),
        ),
        (
            not_an_entry,
            (grpc.StatusCode.INVALID_ARGUMENT, "SETTLED_ENTRY_NOT_IN_STATEMENT", ("settled_entries[0]",)),
        ),
    ):
        with pytest.raises(grpc.RpcError) as raised:
            partner.ConfirmStatement(request)
        assert error_of(raised.value) == expected

    confirmed = partner.ConfirmStatement(
        exchange_pb2.ConfirmStatementRequest(
            request_id="confirm-1", statement=statement.name, settled_entries=[usdt_entry]
        )
    )

    assert confirmed.state == exchange_pb2.STATEMENT_STATE_CONFIRMED
    # The BTC gain did not settle at the custodian: it stays unsettled for the next statement.
    assert balances_of(trading) == {
        "BTC": ("2.00000000", "1.00000000", "0.00000000", "3.00000000", "0.00000000"),
        "USDT": ("39834.910000", "0.000000", "0.000000", "39834.910000", "0.000000"),
    }
    second = partner.CreateStatement(exchange_pb2.CreateStatementRequest(request_id="cutoff-2")).statement
    assert [(entry.connection, entry.asset, entry.amount) for entry in second.entries] == [
        (CONNECTION, "BTC", "1.00000000")
    ]
    nothing = partner.ConfirmStatement(
        exchange_pb2.ConfirmStatementRequest(
            request_id="confirm-2", statement=second.name, settled_entries_only=True
        )
    )
    assert nothing.state == exchange_pb2.STATEMENT_STATE_CONFIRMED
    assert balances_of(trading)["BTC"][:2] == ("2.00000000", "1.00000000")


def common_entry(connection: str, asset: str, amount: str) -> statement_pb2.StatementEntry:
    return statement_pb2.StatementEntry(connection=connection, asset=asset, amount=amount)


def test_a_voided_statement_is_covered_again_by_the_next_and_survives_a_restart(exchange: Exchange) -> None:
    fund(exchange)
    exchange.trading().PlaceOrder(MARKET_BUY_ONE_BTC)
    partner = exchange.partner()
    refused = partner.CreateStatement(exchange_pb2.CreateStatementRequest(request_id="cutoff-1")).statement
    rows_before = exchange.database_rows()
    for request, expected in (
        (
            exchange_pb2.VoidStatementRequest(request_id="v", statement=refused.name, reason="bad sig"),
            (grpc.StatusCode.INVALID_ARGUMENT, "REASON_INVALID", ("reason",)),
        ),
        (
            exchange_pb2.VoidStatementRequest(request_id="v", statement=refused.name),
            (grpc.StatusCode.INVALID_ARGUMENT, "REASON_INVALID", ("reason",)),
        ),
        (
            exchange_pb2.VoidStatementRequest(
                request_id="v", statement="exchanges/okx-sim/statements/9", reason="INVALID_SIGNATURE"
            ),
            (grpc.StatusCode.NOT_FOUND, "STATEMENT_NOT_FOUND", ()),
        ),
        (
            exchange_pb2.VoidStatementRequest(request_id="v", statement="statements/1", reason="X"),
            (grpc.StatusCode.INVALID_ARGUMENT, "STATEMENT_NAME_INVALID", ("statement",)),
        ),
    ):
        with pytest.raises(grpc.RpcError) as raised:
            partner.VoidStatement(request)
        assert error_of(raised.value) == expected
    with pytest.raises(grpc.RpcError) as raised:
        exchange.partner(ACME).VoidStatement(
            exchange_pb2.VoidStatementRequest(request_id="v", statement=refused.name, reason="X")
        )
    assert remote_error(raised.value).code == grpc.StatusCode.PERMISSION_DENIED
    assert exchange.database_rows() == rows_before

    void = exchange_pb2.VoidStatementRequest(
        request_id="void-1", statement=refused.name, reason="INVALID_SIGNATURE"
    )
    voided = partner.VoidStatement(void)

    assert (voided.statement, voided.state) == (refused.name, exchange_pb2.STATEMENT_STATE_VOIDED)
    assert partner.VoidStatement(void) == voided
    # Nothing was re-based: the trade stays unsettled, and the next statement covers it again,
    # under the next number, continuing what statement 1 continued (nothing).
    assert balances_of(exchange.trading())["BTC"][:2] == ("2.00000000", "1.00000000")
    second = partner.CreateStatement(exchange_pb2.CreateStatementRequest(request_id="cutoff-2")).statement
    assert (second.name, second.previous_statement) == ("exchanges/okx-sim/statements/2", "")
    assert (second.first_trade_sequence, second.last_trade_sequence) == (1, 2)
    assert list(second.entries) == list(refused.entries)
    assert second.nonce != refused.nonce
    journal = exchange.control().ListJournal(control_pb2.ListJournalRequest(page_size=1000)).events
    statement_events = [
        (event.subject, event.attributes["state"], event.attributes["void_reason"])
        for event in journal
        if event.kind == "STATEMENT"
    ]
    assert statement_events == [
        (refused.name, "ISSUED", ""),
        (refused.name, "VOIDED", "INVALID_SIGNATURE"),
        (second.name, "ISSUED", ""),
    ]

    partner.ConfirmStatement(
        exchange_pb2.ConfirmStatementRequest(request_id="confirm-2", statement=second.name)
    )
    with pytest.raises(grpc.RpcError) as raised:
        partner.VoidStatement(
            exchange_pb2.VoidStatementRequest(request_id="void-2", statement=second.name, reason="LATE")
        )
    assert error_of(raised.value) == (grpc.StatusCode.FAILED_PRECONDITION, "STATEMENT_ALREADY_CONFIRMED", ())
    exchange.stop()

    restarted = start_exchange(exchange.data_dir)
    try:
        assert restarted.partner().VoidStatement(void) == voided
        third = restarted.partner().CreateStatement(
            exchange_pb2.CreateStatementRequest(request_id="cutoff-3")
        )
        assert third.statement.previous_statement == second.name
    finally:
        restarted.stop()
