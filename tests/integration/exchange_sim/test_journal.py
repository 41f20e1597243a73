"""The exchange's event journal over gRPC: pages, streams, exact decimal facts, determinism, append-only."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration

from oes.control.v1 import control_pb2, control_pb2_grpc
from oes.exchange.v1 import exchange_pb2
from service_kit.rpc_errors import remote_error
from tests.integration.exchange_sim.conftest import (
    ACME,
    BOB,
    Exchange,
    acme_order,
    fund,
    open_traditional,
    start_exchange,
)
from tests.integration.exchange_sim.test_market_data import STREAM_TIMEOUT_S, StreamReader
from tests.integration.support import START_MS

BUY = exchange_pb2.SIDE_BUY
SELL = exchange_pb2.SIDE_SELL
LIMIT = exchange_pb2.ORDER_TYPE_LIMIT
MARKET_ORDER = exchange_pb2.ORDER_TYPE_MARKET
DECIMAL = re.compile(r"^-?\d+\.\d+$")
# Attributes that carry amounts or prices: always decimal strings with the asset's scale.
DECIMAL_ATTRIBUTES = {
    "amount",
    "buyer_fee",
    "filled",
    "held",
    "mirror",
    "pending_credit",
    "price",
    "quantity",
    "recovered",
    "seller_fee",
    "start_price",
    "unsettled",
}


def journal(
    exchange: Exchange, after_sequence: int = 0, page_size: int = 0
) -> control_pb2.ListJournalResponse:
    return exchange.control().ListJournal(
        control_pb2.ListJournalRequest(after_sequence=after_sequence, page_size=page_size)
    )


def every_event(exchange: Exchange) -> list[control_pb2.JournalEvent]:
    response = journal(exchange, page_size=10_000)
    assert len(response.events) == response.last_sequence < 10_000
    return list(response.events)


def last_sequence(exchange: Exchange) -> int:
    return journal(exchange, page_size=1).last_sequence


def advance(exchange: Exchange, request_id: str, seconds: int) -> None:
    exchange.control().AdvanceClock(
        control_pb2.AdvanceClockRequest(request_id=request_id, duration=Duration(seconds=seconds))
    )


def drive(exchange: Exchange) -> None:
    """A session with every kind of event: accounts, funding, deposits, trades, prices, state, statements."""
    fund(exchange)
    open_traditional(exchange, "bob", {"BTC": "1.5", "USDT": "20000"})
    acme, bob = exchange.trading(ACME), exchange.trading(BOB)
    admin = exchange.admin()
    acme.PlaceOrder(acme_order("acme-buy", BUY, MARKET_ORDER, "0.75"))
    bob.PlaceOrder(
        exchange_pb2.PlaceOrderRequest(
            request_id="bob-ask",
            account="clients/bob",
            market="BTC-USDT",
            side=SELL,
            type=LIMIT,
            price="60010",
            quantity="0.3",
        )
    )
    acme.PlaceOrder(acme_order("acme-lift", BUY, LIMIT, "0.1", "60010"))
    admin.SetPricePath(
        exchange_pb2.SetPricePathRequest(
            request_id="walk",
            market="BTC-USDT",
            path=exchange_pb2.PricePath(
                random_walk=exchange_pb2.RandomWalkPath(volatility_bps=50, step=Duration(seconds=60))
            ),
        )
    )
    advance(exchange, "three-minutes", 180)
    exchange.partner().CreateStatement(exchange_pb2.CreateStatementRequest(request_id="statement-1"))
    admin.SetVenueState(
        exchange_pb2.SetVenueStateRequest(
            request_id="pause", state=exchange_pb2.VENUE_STATE_WITHDRAWALS_PAUSED
        )
    )
    admin.SetVenueState(
        exchange_pb2.SetVenueStateRequest(request_id="resume", state=exchange_pb2.VENUE_STATE_OPERATING)
    )
    bob.CreateWithdrawal(
        exchange_pb2.CreateWithdrawalRequest(
            request_id="bob-out", account="clients/bob", asset="USDT", amount="100.5"
        )
    )


@pytest.fixture()
def driven(exchange: Exchange) -> Exchange:
    drive(exchange)
    return exchange


def test_pages_cover_the_journal_without_gaps(driven: Exchange) -> None:
    events = every_event(driven)
    assert [event.sequence for event in events] == list(range(1, len(events) + 1))

    paged: list[control_pb2.JournalEvent] = []
    after_sequence = 0
    for _ in range(len(events)):
        page = journal(driven, after_sequence, page_size=7)
        assert page.last_sequence == len(events)
        if not page.events:
            break
        assert len(page.events) <= 7
        paged.extend(page.events)
        after_sequence = page.events[-1].sequence
    assert paged == events
    assert list(journal(driven, after_sequence=len(events) - 2, page_size=100).events) == events[-2:]
    assert list(journal(driven, after_sequence=len(events) + 5).events) == []


def test_every_change_is_journaled_with_decimal_strings(driven: Exchange) -> None:
    events = every_event(driven)
    kinds = {event.kind for event in events}
    assert {
        "ORDER",
        "TRADE",
        "BALANCE",
        "ACCOUNT_OPENED",
        "ALLOCATION",
        "DEPOSIT",
        "WITHDRAWAL",
        "VENUE_STATE",
        "STATEMENT",
        "PRICE_PATH",
    } <= kinds
    for event in events:
        for name, value in event.attributes.items():
            if name in DECIMAL_ATTRIBUTES and value:
                assert DECIMAL.match(value), (event.kind, name, value)
    # Times are sandbox times: the start, then three minutes later for what followed the advance.
    times = sorted({event.event_time.seconds for event in events})
    assert times[0] == START_MS // 1000
    assert times[-1] == START_MS // 1000 + 180
    assert [event.event_time.seconds for event in events] == sorted(
        event.event_time.seconds for event in events
    )

    by_kind: dict[str, list[control_pb2.JournalEvent]] = {}
    for event in events:
        by_kind.setdefault(event.kind, []).append(event)
    first_trade = by_kind["TRADE"][0]
    assert first_trade.subject == "trades/1"
    assert dict(first_trade.attributes) == {
        "market": "BTC-USDT",
        "price": "60030.000000",
        "quantity": "0.50000000",
        "buy_order": first_trade.attributes["buy_order"],
        "sell_order": first_trade.attributes["sell_order"],
        "maker_order": first_trade.attributes["sell_order"],
        "buyer": "clients/acme",
        "seller": "exchanges/okx-sim/market-maker",
        "buyer_fee": "60.030000",
        "seller_fee": "0.000000",
    }
    assert [(event.subject, dict(event.attributes)) for event in by_kind["DEPOSIT"]] == [
        ("clients/bob", {"asset": "BTC", "amount": "1.50000000", "number": "1"}),
        ("clients/bob", {"asset": "USDT", "amount": "20000.000000", "number": "2"}),
    ]
    assert [(event.subject, dict(event.attributes)) for event in by_kind["WITHDRAWAL"]] == [
        ("clients/bob", {"asset": "USDT", "amount": "100.500000", "number": "3"}),
    ]
    assert [dict(event.attributes) for event in by_kind["ACCOUNT_OPENED"]] == [
        {"custody_model": "OES", "connection": "clients/acme/connections/okx-sim"},
        {"custody_model": "TRADITIONAL", "connection": ""},
    ]
    assert [
        (event.attributes["state"], event.attributes["previous_state"]) for event in by_kind["VENUE_STATE"]
    ] == [
        ("WITHDRAWALS_PAUSED", "OPERATING"),
        ("OPERATING", "WITHDRAWALS_PAUSED"),
    ]
    assert [(event.subject, event.attributes["state"]) for event in by_kind["STATEMENT"]] == [
        ("exchanges/okx-sim/statements/1", "ISSUED")
    ]
    assert by_kind["STATEMENT"][0].attributes["last_trade_sequence"] == str(len(by_kind["TRADE"]))
    # The balance after the last trade of acme in USDT, as GetBalances reports it.
    balances = driven.trading().GetBalances(exchange_pb2.GetBalancesRequest(account="clients/acme")).balances
    usdt = next(balance for balance in balances if balance.asset == "USDT")
    last_usdt = [event for event in by_kind["BALANCE"] if event.subject == "clients/acme"][-1]
    assert last_usdt.attributes["asset"] == "USDT"
    assert (last_usdt.attributes["mirror"], last_usdt.attributes["unsettled"]) == (
        usdt.mirror,
        usdt.unsettled,
    )


def test_a_stream_delivers_the_backlog_then_new_events_as_they_commit(driven: Exchange) -> None:
    events = every_event(driven)
    after_sequence = len(events) - 5
    reader = StreamReader(
        driven.control().StreamJournal(
            control_pb2.StreamJournalRequest(after_sequence=after_sequence), timeout=STREAM_TIMEOUT_S
        )
    )
    try:
        backlog = [message.event for message in reader.take(5)]
        assert backlog == events[after_sequence:]
        assert reader.take_available(0.2) == []

        driven.trading().PlaceOrder(acme_order("later", BUY, LIMIT, "0.1", "50000"))
        new_events = every_event(driven)[len(events) :]
        assert new_events[0].kind == "ORDER"
        assert new_events[0].attributes["state"] == "OPEN"
        held = [event.attributes["held"] for event in new_events if event.attributes.get("asset") == "USDT"]
        assert held == ["5010.000000"], "0.1 BTC at 50 000 plus the 20 bps fee is held"
        assert [message.event for message in reader.take(len(new_events))] == new_events
    finally:
        reader.close()


def test_a_stream_from_zero_starts_at_the_first_event(driven: Exchange) -> None:
    events = every_event(driven)
    reader = StreamReader(
        driven.control().StreamJournal(control_pb2.StreamJournalRequest(), timeout=STREAM_TIMEOUT_S)
    )
    try:
        assert [message.event for message in reader.take(len(events))] == events
    finally:
        reader.close()


@pytest.fixture()
def twins(tmp_path: Path) -> Iterator[tuple[Exchange, Exchange]]:
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first, second = start_exchange(tmp_path / "first"), start_exchange(tmp_path / "second")
    yield first, second
    first.stop()
    second.stop()


def journal_rows(exchange: Exchange) -> list[tuple[object, ...]]:
    return sorted(exchange.database_rows()["journal"], key=lambda row: int(str(row[0])))


def test_the_same_calls_write_the_same_journal(twins: tuple[Exchange, Exchange]) -> None:
    first, second = twins
    drive(first)
    drive(second)

    first_events = every_event(first)
    assert len(first_events) > 100
    assert [event.SerializeToString(deterministic=True) for event in every_event(second)] == [
        event.SerializeToString(deterministic=True) for event in first_events
    ]
    assert journal_rows(second) == journal_rows(first)


def test_journal_rows_cannot_be_updated(driven: Exchange) -> None:
    before = journal_rows(driven)
    connection = sqlite3.connect(driven.data_dir / "exchange.sqlite3")
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("UPDATE journal SET attributes = '{}' WHERE sequence = 1")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("UPDATE journal SET sequence = sequence + 1000")
        connection.rollback()
    finally:
        connection.close()
    assert journal_rows(driven) == before


def test_a_refused_command_journals_nothing(exchange: Exchange) -> None:
    fund(exchange, btc="1", usdt="1000")
    trading = exchange.trading()
    before = every_event(exchange)
    market_data_sequence = trading.GetOrderBook(
        exchange_pb2.GetOrderBookRequest(market="BTC-USDT")
    ).market_data_sequence

    refusals = [
        (acme_order("too-big", BUY, MARKET_ORDER, "1"), "INSUFFICIENT_BALANCE"),
        (acme_order("off-tick", BUY, LIMIT, "0.01", "50000.001"), ""),
        (acme_order("no-quantity", BUY, LIMIT, "0", "50000"), ""),
        (
            exchange_pb2.PlaceOrderRequest(
                request_id="unknown-market",
                account="clients/acme",
                market="DOGE-USDT",
                side=BUY,
                type=LIMIT,
                price="1",
                quantity="1",
            ),
            "UNKNOWN_MARKET",
        ),
    ]
    for request, reason in refusals:
        with pytest.raises(grpc.RpcError) as raised:
            trading.PlaceOrder(request)
        if reason:
            assert remote_error(raised.value).reason == reason
    with pytest.raises(grpc.RpcError):
        exchange.admin().SetVenueState(
            exchange_pb2.SetVenueStateRequest(request_id="back", state=exchange_pb2.VENUE_STATE_UNSPECIFIED)
        )

    assert every_event(exchange) == before
    assert (
        trading.GetOrderBook(exchange_pb2.GetOrderBookRequest(market="BTC-USDT")).market_data_sequence
        == market_data_sequence
    )


def test_only_admin_reads_the_journal(exchange: Exchange) -> None:
    for principal in (ACME, BOB):
        stub = control_pb2_grpc.ControlServiceStub(exchange.channel(principal))
        with pytest.raises(grpc.RpcError) as raised:
            stub.ListJournal(control_pb2.ListJournalRequest())
        assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
        call = stub.StreamJournal(control_pb2.StreamJournalRequest(), timeout=STREAM_TIMEOUT_S)
        with pytest.raises(grpc.RpcError) as raised:
            next(call)
        assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_bad_journal_requests_are_refused(exchange: Exchange) -> None:
    for request, reason in (
        (control_pb2.ListJournalRequest(page_size=10_001), "PAGE_SIZE_INVALID"),
        (control_pb2.ListJournalRequest(page_size=-1), "PAGE_SIZE_INVALID"),
        (control_pb2.ListJournalRequest(after_sequence=-1), "AFTER_SEQUENCE_INVALID"),
    ):
        with pytest.raises(grpc.RpcError) as raised:
            exchange.control().ListJournal(request)
        error = remote_error(raised.value)
        assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, reason)


def test_at_most_two_journal_streams_are_open_at_once(driven: Exchange) -> None:
    last = last_sequence(driven)

    def open_stream() -> Any:
        return driven.control().StreamJournal(
            control_pb2.StreamJournalRequest(after_sequence=last - 1), timeout=STREAM_TIMEOUT_S
        )

    readers = [StreamReader(open_stream()) for _ in range(2)]
    try:
        for reader in readers:
            # One event received: the server holds this stream's slot.
            assert [message.event.sequence for message in reader.take(1)] == [last]
        with pytest.raises(grpc.RpcError) as raised:
            next(open_stream())
        error = remote_error(raised.value)
        assert (error.code, error.reason) == (grpc.StatusCode.UNAVAILABLE, "JOURNAL_STREAMS_EXHAUSTED")
    finally:
        for reader in readers:
            reader.close()
