"""Market data over gRPC: snapshot and stream, resuming, limits, reference prices from paths and faults."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration

from exchange_sim.bootstrap import build
from oes.control.v1 import control_pb2
from oes.exchange.v1 import exchange_pb2, exchange_pb2_grpc
from service_kit.clock import SimulatedClock
from service_kit.config import start_service
from service_kit.rpc_errors import remote_error
from tests.integration.exchange_sim.conftest import (
    ACME,
    Exchange,
    acme_order,
    fund,
    start_exchange,
)
from tests.integration.support import START_MS, service_config

MARKET = "BTC-USDT"
# Every stream call carries a deadline, so a test that waits for an event that never comes fails
# instead of hanging.
STREAM_TIMEOUT_S = 10.0
EVENT_WAIT_S = 5.0
MINUTE_MS = 60_000
BUY = exchange_pb2.SIDE_BUY
SELL = exchange_pb2.SIDE_SELL
LIMIT = exchange_pb2.ORDER_TYPE_LIMIT
MARKET_ORDER = exchange_pb2.ORDER_TYPE_MARKET
SHOCK = exchange_pb2.PRICE_FAULT_KIND_SHOCK
STALE = exchange_pb2.PRICE_FAULT_KIND_STALE

Book = dict[tuple[int, str], tuple[str, int]]


class StreamReader:
    """Reads a server stream on a thread into a queue; every read waits at most its timeout."""

    def __init__(self, call: Any) -> None:
        self._call = call
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for message in self._call:
                self._queue.put(message)
        except grpc.RpcError as error:
            self._queue.put(error)

    def take(self, count: int, timeout_s: float = EVENT_WAIT_S) -> list[Any]:
        """The next `count` messages; raises the stream's error, or queue.Empty after the timeout."""
        messages: list[Any] = []
        for _ in range(count):
            item = self._queue.get(timeout=timeout_s)
            if isinstance(item, grpc.RpcError):
                raise item
            messages.append(item)
        return messages

    def take_available(self, timeout_s: float) -> list[Any]:
        """Whatever arrives within the timeout of each other (possibly nothing)."""
        messages: list[Any] = []
        while True:
            try:
                item = self._queue.get(timeout=timeout_s)
            except queue.Empty:
                return messages
            if isinstance(item, grpc.RpcError):
                raise item
            messages.append(item)

    def close(self) -> None:
        self._call.cancel()
        self._thread.join(timeout=EVENT_WAIT_S)
        assert not self._thread.is_alive(), "a cancelled stream ends its reader"


def stream(exchange: Exchange, after_sequence: int, market: str = MARKET) -> Any:
    return exchange.trading().StreamMarketData(
        exchange_pb2.StreamMarketDataRequest(market=market, after_sequence=after_sequence),
        timeout=STREAM_TIMEOUT_S,
    )


def order_book(exchange: Exchange) -> exchange_pb2.GetOrderBookResponse:
    return exchange.trading().GetOrderBook(exchange_pb2.GetOrderBookRequest(market=MARKET, depth=100))


def levels_of(snapshot: exchange_pb2.GetOrderBookResponse) -> Book:
    """(side, price) -> (quantity, order count) of a snapshot."""
    book: Book = {}
    for side, levels in ((BUY, snapshot.bids), (SELL, snapshot.asks)):
        for level in levels:
            book[(side, level.price)] = (level.quantity, level.order_count)
    return book


def apply_updates(book: Book, events: list[exchange_pb2.StreamMarketDataResponse]) -> Book:
    """The book after every level update of the events; a level of quantity zero is gone."""
    result = dict(book)
    for event in events:
        if event.WhichOneof("event") != "book_update":
            continue
        for level in event.book_update.levels:
            key = (level.side, level.price)
            if Decimal(level.quantity) == 0:
                assert level.order_count == 0
                result.pop(key, None)
            else:
                result[key] = (level.quantity, level.order_count)
    return result


def kinds(events: list[exchange_pb2.StreamMarketDataResponse]) -> list[str]:
    return [str(event.WhichOneof("event")) for event in events]


def error_of(call: Any) -> tuple[grpc.StatusCode, str]:
    """The code and reason a stream fails with on its first read."""
    with pytest.raises(grpc.RpcError) as raised:
        next(call)
    error = remote_error(raised.value)
    return error.code, error.reason


def reference_price(exchange: Exchange) -> str:
    markets = exchange.trading().ListMarkets(exchange_pb2.ListMarketsRequest()).markets
    return next(market.reference_price for market in markets if market.name == MARKET)


def advance(exchange: Exchange, request_id: str, minutes: float) -> None:
    exchange.control().AdvanceClock(
        control_pb2.AdvanceClockRequest(request_id=request_id, duration=Duration(seconds=int(minutes * 60)))
    )


def now_ms(exchange: Exchange) -> int:
    now = exchange.control().GetClock(control_pb2.GetClockRequest()).now
    return now.seconds * 1000 + now.nanos // 1_000_000


def scripted(points: list[tuple[int, str]]) -> exchange_pb2.PricePath:
    """A scripted path through (minutes after now, change percent) points."""
    return exchange_pb2.PricePath(
        scripted=exchange_pb2.ScriptedPath(
            points=[
                exchange_pb2.ScriptedPoint(offset=Duration(seconds=minutes * 60), change_percent=change)
                for minutes, change in points
            ]
        )
    )


RANDOM_WALK = exchange_pb2.PricePath(
    random_walk=exchange_pb2.RandomWalkPath(volatility_bps=100, step=Duration(seconds=60))
)


def set_path(exchange: Exchange, request_id: str, path: exchange_pb2.PricePath) -> str:
    response = exchange.admin().SetPricePath(
        exchange_pb2.SetPricePathRequest(request_id=request_id, market=MARKET, path=path)
    )
    return response.market.reference_price


def set_fault(exchange: Exchange, request_id: str, fault: exchange_pb2.PriceFault) -> str:
    response = exchange.admin().SetPriceFault(
        exchange_pb2.SetPriceFaultRequest(request_id=request_id, fault=fault)
    )
    return response.market.reference_price


def best_bid_and_ask(exchange: Exchange) -> tuple[Decimal, Decimal]:
    snapshot = order_book(exchange)
    return Decimal(snapshot.bids[0].price), Decimal(snapshot.asks[0].price)


def assert_ladder_around(exchange: Exchange, price: str) -> None:
    """The house quotes on both sides of the reference price, close to it (within 1 %)."""
    best_bid, best_ask = best_bid_and_ask(exchange)
    reference = Decimal(price)
    assert best_bid < reference < best_ask
    assert best_ask - best_bid < reference / 100


@pytest.fixture()
def funded(exchange: Exchange) -> Exchange:
    fund(exchange)
    return exchange


def trade_a_little(exchange: Exchange, prefix: str) -> None:
    """Five commands: a new bid level, a market buy through 1.5 ask levels, a new ask level, two cancels."""
    trading = exchange.trading()
    bid = trading.PlaceOrder(acme_order(f"{prefix}-bid", BUY, LIMIT, "0.2", "59990")).order
    trading.PlaceOrder(acme_order(f"{prefix}-take", BUY, MARKET_ORDER, "0.75"))
    ask = trading.PlaceOrder(acme_order(f"{prefix}-ask", SELL, LIMIT, "0.3", "60010")).order
    assert (bid.state, ask.state) == (exchange_pb2.ORDER_STATE_OPEN, exchange_pb2.ORDER_STATE_OPEN)
    for order in (bid, ask):
        trading.CancelOrder(
            exchange_pb2.CancelOrderRequest(request_id=f"{prefix}-cancel-{order.name}", name=order.name)
        )


# Snapshot and stream.


def test_a_snapshot_and_the_stream_after_it_rebuild_the_book(funded: Exchange) -> None:
    snapshot = order_book(funded)
    start = snapshot.market_data_sequence
    reader = StreamReader(stream(funded, start))
    try:
        trade_a_little(funded, "a")
        final = order_book(funded)
        events = reader.take(final.market_data_sequence - start)
        assert reader.take_available(0.2) == []
    finally:
        reader.close()

    assert [event.sequence for event in events] == list(range(start + 1, final.market_data_sequence + 1))
    assert {event.market for event in events} == {MARKET}
    # Per command: its book levels first, then its trades, then the new top of book.
    assert kinds(events) == [
        "book_update",
        "ticker",
        "book_update",
        "trade",
        "trade",
        "ticker",
        "book_update",
        "ticker",
        "book_update",
        "ticker",
        "book_update",
        "ticker",
    ]
    book_updates = [
        [
            (level.side, level.price, Decimal(level.quantity), level.order_count)
            for level in event.book_update.levels
        ]
        for event in events
        if event.HasField("book_update")
    ]
    assert book_updates[0] == [(BUY, "59990.000000", Decimal("0.2"), 1)]
    # The house tops a level up in the same command once less than half of it rests: the emptied
    # level is whole again, the one still half full waits.
    assert book_updates[1] == [
        (SELL, "60030.000000", Decimal("0.5"), 1),
        (SELL, "60060.000000", Decimal("0.25"), 1),
    ]
    assert book_updates[2] == [(SELL, "60010.000000", Decimal("0.3"), 1)]
    assert book_updates[3] == [(BUY, "59990.000000", 0, 0)]
    assert book_updates[4] == [(SELL, "60010.000000", 0, 0)]
    assert events[1].ticker == exchange_pb2.Ticker(
        best_bid="59990.000000", best_ask="60030.000000", last_price="", reference_price="60000.000000"
    )
    trades = [event.trade for event in events if event.HasField("trade")]
    assert [(trade.trade_sequence, trade.price, trade.quantity, trade.taker_side) for trade in trades] == [
        (1, "60030.000000", "0.50000000", BUY),
        (2, "60060.000000", "0.25000000", BUY),
    ]
    assert events[5].ticker.last_price == "60060.000000"
    assert [event.ticker.best_ask for event in events if event.HasField("ticker")][-3:] == [
        "60010.000000",
        "60010.000000",
        "60030.000000",
    ]
    assert apply_updates(levels_of(snapshot), events) == levels_of(final)
    assert final.last_trade_sequence == 2


def test_a_stream_resumes_after_any_kept_sequence(funded: Exchange) -> None:
    start = order_book(funded).market_data_sequence
    full = StreamReader(stream(funded, start))
    try:
        trade_a_little(funded, "a")
        last = order_book(funded).market_data_sequence
        events = full.take(last - start)
    finally:
        full.close()

    for resume_after in (start, last - 3, last - 1):
        resumed = StreamReader(stream(funded, resume_after))
        try:
            replayed = resumed.take(last - resume_after)
            assert resumed.take_available(0.2) == []
        finally:
            resumed.close()
        assert replayed == events[resume_after - start :]


def test_a_stream_from_zero_starts_with_the_next_event(funded: Exchange) -> None:
    trade_a_little(funded, "a")
    before = order_book(funded).market_data_sequence
    reference = StreamReader(stream(funded, before))
    from_now = StreamReader(stream(funded, 0))
    try:
        # The server notes "now" when its stream starts, which the client cannot observe; so
        # commands go on until the stream from zero delivers, and what it delivers must start
        # with a command's first event after `before` and match the reference stream exactly.
        received: list[exchange_pb2.StreamMarketDataResponse] = []
        boundaries = []
        for round_number in range(20):
            boundaries.append(order_book(funded).market_data_sequence + 1)
            funded.trading().PlaceOrder(acme_order(f"round-{round_number}", BUY, MARKET_ORDER, "0.01"))
            received = from_now.take_available(0.25)
            if received:
                break
        last = order_book(funded).market_data_sequence
        expected = reference.take(last - before)
        received += from_now.take(last - received[-1].sequence) if received[-1].sequence < last else []
    finally:
        reference.close()
        from_now.close()

    assert received, "the stream from zero never delivered"
    first = received[0].sequence
    assert first > before
    assert first in boundaries
    assert received == expected[first - before - 1 :]


def test_a_stream_ahead_of_the_market_is_out_of_range(funded: Exchange) -> None:
    current = order_book(funded).market_data_sequence
    assert error_of(stream(funded, current + 1)) == (grpc.StatusCode.OUT_OF_RANGE, "SEQUENCE_AHEAD")


def test_a_stream_of_an_unknown_market_or_a_negative_sequence_is_refused(exchange: Exchange) -> None:
    assert error_of(stream(exchange, 0, "DOGE-USDT")) == (grpc.StatusCode.INVALID_ARGUMENT, "UNKNOWN_MARKET")
    assert error_of(stream(exchange, -1)) == (grpc.StatusCode.INVALID_ARGUMENT, "AFTER_SEQUENCE_INVALID")


def test_at_most_four_streams_are_open_at_once(funded: Exchange) -> None:
    trade_a_little(funded, "a")
    resume_after = order_book(funded).market_data_sequence - 1
    readers = [StreamReader(stream(funded, resume_after)) for _ in range(4)]
    try:
        for reader in readers:
            # One event received: the server holds this stream's slot.
            assert [event.sequence for event in reader.take(1)] == [resume_after + 1]
        assert error_of(stream(funded, resume_after)) == (
            grpc.StatusCode.UNAVAILABLE,
            "MARKET_DATA_STREAMS_EXHAUSTED",
        )
        readers.pop().close()
        # The server frees the slot once it notices the cancellation (within its wait of 0.5 s).
        for _ in range(40):
            again = stream(funded, resume_after)
            try:
                event = next(again)
            except grpc.RpcError as error:
                assert remote_error(error).reason == "MARKET_DATA_STREAMS_EXHAUSTED"
                threading.Event().wait(0.1)
                continue
            again.cancel()
            assert event.sequence == resume_after + 1
            break
        else:
            pytest.fail("the slot of a cancelled stream was never freed")
    finally:
        for reader in readers:
            reader.close()


def test_a_client_needs_a_token_to_stream(exchange: Exchange) -> None:
    call = exchange.trading(None).StreamMarketData(
        exchange_pb2.StreamMarketDataRequest(market=MARKET), timeout=STREAM_TIMEOUT_S
    )
    assert error_of(call)[0] == grpc.StatusCode.UNAUTHENTICATED


# Reference prices.


def test_a_scripted_path_moves_the_reference_and_the_house_ladder(exchange: Exchange) -> None:
    start = order_book(exchange).market_data_sequence
    reader = StreamReader(stream(exchange, start))
    try:
        assert set_path(exchange, "crash", scripted([(10, "-30")])) == "60000.000000"
        assert reference_price(exchange) == "60000.000000"
        assert_ladder_around(exchange, "60000")

        advance(exchange, "five-minutes", 5)
        # Half way down a straight line from 60 000 to 42 000.
        assert reference_price(exchange) == "51000.000000"
        assert_ladder_around(exchange, "51000")

        advance(exchange, "ten-minutes", 5)
        assert reference_price(exchange) == "42000.000000"
        assert_ladder_around(exchange, "42000")
        advance(exchange, "later", 3)
        assert reference_price(exchange) == "42000.000000", "the script stays at its last point"

        last = order_book(exchange).market_data_sequence
        events = reader.take(last - start)
    finally:
        reader.close()
    tickers = [event.ticker.reference_price for event in events if event.HasField("ticker")]
    # The first command after a start announces the top of book; then one re-quote a minute
    # while the price falls, each announced by a ticker.
    assert tickers == ["60000.000000"] + [f"{60000 - 1800 * minute}.000000" for minute in range(1, 11)]


def test_a_shock_moves_the_reference_at_once_and_clearing_ends_it(exchange: Exchange) -> None:
    set_path(exchange, "crash", scripted([(10, "-30")]))
    advance(exchange, "ten-minutes", 10)
    assert reference_price(exchange) == "42000.000000"

    shocked = set_fault(
        exchange, "shock", exchange_pb2.PriceFault(market=MARKET, kind=SHOCK, shock_percent="-10")
    )

    assert shocked == "37800.000000"
    assert reference_price(exchange) == "37800.000000"
    assert_ladder_around(exchange, "37800")
    faults = exchange.admin().ListVenueFaults(exchange_pb2.ListVenueFaultsRequest())
    assert list(faults.price_faults) == [
        exchange_pb2.PriceFault(
            market=MARKET,
            kind=SHOCK,
            shock_percent="-10",
            start_time={"seconds": (START_MS + 10 * MINUTE_MS) // 1000},
        )
    ]
    advance(exchange, "after-shock", 2)
    assert reference_price(exchange) == "37800.000000"

    cleared = exchange.admin().ClearVenueFaults(exchange_pb2.ClearVenueFaultsRequest(request_id="clear"))

    assert cleared.cleared_count == 1
    assert reference_price(exchange) == "42000.000000"
    assert_ladder_around(exchange, "42000")
    assert list(exchange.admin().ListVenueFaults(exchange_pb2.ListVenueFaultsRequest()).price_faults) == []


def test_price_faults_are_validated(exchange: Exchange) -> None:
    def refused(fault: exchange_pb2.PriceFault) -> tuple[grpc.StatusCode, str]:
        with pytest.raises(grpc.RpcError) as raised:
            set_fault(exchange, "bad", fault)
        error = remote_error(raised.value)
        return error.code, error.reason

    invalid = grpc.StatusCode.INVALID_ARGUMENT
    assert refused(exchange_pb2.PriceFault(market="DOGE-USDT", kind=SHOCK, shock_percent="5")) == (
        invalid,
        "UNKNOWN_MARKET",
    )
    assert refused(exchange_pb2.PriceFault(market=MARKET, kind=SHOCK, shock_percent="-100")) == (
        invalid,
        "CHANGE_PERCENT_INVALID",
    )
    assert refused(exchange_pb2.PriceFault(market=MARKET, kind=STALE)) == (invalid, "DURATION_OUT_OF_RANGE")
    assert refused(exchange_pb2.PriceFault(market=MARKET)) == (invalid, "PRICE_FAULT_KIND_INVALID")
    assert reference_price(exchange) == "60000.000000"
    assert list(exchange.admin().ListVenueFaults(exchange_pb2.ListVenueFaultsRequest()).price_faults) == []


def walk_prices(exchange: Exchange, minutes: int, stale_minutes: int = 0) -> list[str]:
    """Starts the random walk now (optionally frozen at once for a while) and reads it once a minute."""
    set_path(exchange, "walk", RANDOM_WALK)
    if stale_minutes:
        set_fault(
            exchange,
            "stale",
            exchange_pb2.PriceFault(market=MARKET, kind=STALE, duration=Duration(seconds=stale_minutes * 60)),
        )
    prices = []
    for minute in range(1, minutes + 1):
        advance(exchange, f"minute-{minute}", 1)
        prices.append(reference_price(exchange))
    return prices


def start_seeded(data_dir: Path, seed: int) -> Exchange:
    data_dir.mkdir()
    running = start_service(service_config(data_dir, seed=seed), build, SimulatedClock(START_MS))
    return Exchange(running, data_dir, [])


@pytest.fixture()
def exchanges() -> Iterator[list[Exchange]]:
    started: list[Exchange] = []
    yield started
    for exchange in started:
        exchange.stop()


def test_the_random_walk_is_seeded(tmp_path: Path, exchanges: list[Exchange]) -> None:
    first, again, other = (
        start_seeded(tmp_path / name, seed) for name, seed in (("first", 1), ("again", 1), ("other", 2))
    )
    exchanges.extend([first, again, other])

    first_prices = walk_prices(first, 8)

    assert len(set(first_prices)) > 1, "the walk moves"
    assert walk_prices(again, 8) == first_prices
    assert walk_prices(other, 8) != first_prices


def test_a_stale_price_holds_while_the_walk_moves_then_follows_it_again(
    tmp_path: Path, exchanges: list[Exchange]
) -> None:
    stale, moving = (start_seeded(tmp_path / name, 1) for name in ("stale", "moving"))
    exchanges.extend([stale, moving])
    set_path(stale, "walk", RANDOM_WALK)
    frozen = set_fault(
        stale,
        "stale",
        exchange_pb2.PriceFault(market=MARKET, kind=STALE, duration=Duration(seconds=300)),
    )
    assert frozen == "60000.000000"
    listed = stale.admin().ListVenueFaults(exchange_pb2.ListVenueFaultsRequest()).price_faults
    assert [(fault.kind, fault.duration.seconds, fault.start_time.seconds) for fault in listed] == [
        (STALE, 300, START_MS // 1000)
    ]

    moving_prices = walk_prices(moving, 7)
    stale_prices = []
    for minute in range(1, 8):
        advance(stale, f"minute-{minute}", 1)
        stale_prices.append(reference_price(stale))

    assert len(set(moving_prices[:4])) > 1, "without the fault the walk moves inside the window"
    assert stale_prices[:4] == [frozen] * 4
    # From minute five the window has ended and the price is the walk's again.
    assert stale_prices[4:] == moving_prices[4:]
    assert list(stale.admin().ListVenueFaults(exchange_pb2.ListVenueFaultsRequest()).price_faults) == []
    cleared = stale.admin().ClearVenueFaults(exchange_pb2.ClearVenueFaultsRequest(request_id="clear"))
    assert cleared.cleared_count == 0, "an ended stale window is no longer an active fault"


def test_listing_and_clearing_faults_counts_statement_and_price_faults(exchange: Exchange) -> None:
    admin = exchange.admin()
    admin.SetStatementFault(
        exchange_pb2.SetStatementFaultRequest(
            request_id="flip",
            fault=exchange_pb2.StatementFault(kind=exchange_pb2.STATEMENT_FAULT_KIND_FLIPPED_SIGN),
        )
    )
    set_fault(exchange, "shock", exchange_pb2.PriceFault(market=MARKET, kind=SHOCK, shock_percent="12.5"))
    set_fault(
        exchange, "stale", exchange_pb2.PriceFault(market=MARKET, kind=STALE, duration=Duration(seconds=60))
    )
    assert reference_price(exchange) == "67500.000000"

    listed = admin.ListVenueFaults(exchange_pb2.ListVenueFaultsRequest())
    assert [fault.kind for fault in listed.statement_faults] == [
        exchange_pb2.STATEMENT_FAULT_KIND_FLIPPED_SIGN
    ]
    assert [(fault.kind, fault.shock_percent) for fault in listed.price_faults] == [
        (SHOCK, "12.5"),
        (STALE, ""),
    ]

    assert admin.ClearVenueFaults(exchange_pb2.ClearVenueFaultsRequest(request_id="clear")).cleared_count == 3
    listed = admin.ListVenueFaults(exchange_pb2.ListVenueFaultsRequest())
    assert list(listed.statement_faults) == [] and list(listed.price_faults) == []
    assert reference_price(exchange) == "60000.000000"
    # A retry of the same clearing answers the same count and clears nothing more.
    assert admin.ClearVenueFaults(exchange_pb2.ClearVenueFaultsRequest(request_id="clear")).cleared_count == 3
    assert admin.ClearVenueFaults(exchange_pb2.ClearVenueFaultsRequest(request_id="again")).cleared_count == 0


def test_price_admin_is_for_admin_only(exchange: Exchange) -> None:
    as_client = exchange_pb2_grpc.ExchangeAdminServiceStub(exchange.channel(ACME))
    with pytest.raises(grpc.RpcError) as raised:
        as_client.SetPricePath(
            exchange_pb2.SetPricePathRequest(request_id="x", market=MARKET, path=RANDOM_WALK)
        )
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reference_price(exchange) == "60000.000000"


# Restarts.


def restart(exchange: Exchange, at_ms: int) -> Exchange:
    """Stops the exchange and starts it on the same data, its simulated clock at `at_ms`."""
    exchange.stop()
    running = start_service(service_config(exchange.data_dir), build, SimulatedClock(at_ms))
    return Exchange(running, exchange.data_dir, [])


def test_a_restart_keeps_the_path_the_faults_and_the_market_data_sequence(tmp_path: Path) -> None:
    exchange = start_exchange(tmp_path)
    try:
        fund(exchange)
        set_path(exchange, "crash", scripted([(10, "-30")]))
        advance(exchange, "five-minutes", 5)
        set_fault(exchange, "shock", exchange_pb2.PriceFault(market=MARKET, kind=SHOCK, shock_percent="-10"))
        exchange.trading().PlaceOrder(acme_order("take", BUY, MARKET_ORDER, "0.75"))
        exchange.trading().PlaceOrder(acme_order("rest", BUY, LIMIT, "0.2", "30000"))
        advance(exchange, "seven-minutes", 2)
        price = reference_price(exchange)
        # 60 000 * (1 - 0.3 * 7 / 10) * 0.9
        assert price == "42660.000000"
        faults = exchange.admin().ListVenueFaults(exchange_pb2.ListVenueFaultsRequest())
        before = order_book(exchange)

        exchange = restart(exchange, now_ms(exchange))

        assert reference_price(exchange) == price
        assert exchange.admin().ListVenueFaults(exchange_pb2.ListVenueFaultsRequest()) == faults
        after = order_book(exchange)
        assert after.market_data_sequence == before.market_data_sequence
        assert levels_of(after) == levels_of(before)
        advance(exchange, "ten-minutes", 3)
        assert reference_price(exchange) == "37800.000000"
        assert order_book(exchange).market_data_sequence > before.market_data_sequence

        # The sequence continues: a stream resumes after the snapshot's number.
        snapshot = order_book(exchange)
        reader = StreamReader(stream(exchange, snapshot.market_data_sequence))
        try:
            exchange.trading().PlaceOrder(acme_order("after-restart", BUY, MARKET_ORDER, "0.1"))
            events = reader.take(order_book(exchange).market_data_sequence - snapshot.market_data_sequence)
        finally:
            reader.close()
        assert events[0].sequence == snapshot.market_data_sequence + 1
        assert apply_updates(levels_of(snapshot), events) == levels_of(order_book(exchange))
    finally:
        exchange.stop()


def test_a_book_changed_by_a_restart_has_a_new_market_data_sequence(tmp_path: Path) -> None:
    """Time passes while the venue is down: the house re-quotes at start, and streams must see that."""
    exchange = start_exchange(tmp_path)
    try:
        set_path(exchange, "crash", scripted([(10, "-30")]))
        advance(exchange, "five-minutes", 5)
        before = order_book(exchange)
        stopped_ms = now_ms(exchange)

        exchange = restart(exchange, stopped_ms + 2 * MINUTE_MS)

        assert reference_price(exchange) == "47400.000000"
        after = order_book(exchange)
        assert levels_of(after) != levels_of(before)
        # A client holding `before` and resuming its stream after it must not miss the new ladder.
        assert after.market_data_sequence > before.market_data_sequence
    finally:
        exchange.stop()
