"""StreamMarketData throughput next to a bare gRPC server stream measured in the same run.

Run from the repository root:  python -m benchmarks.market_data_stream [--orders 15000]

The exchange runs as `python -m exchange_sim` and the bare stream from benchmarks/harness.py, both
as separate processes; one client thread reads one stream from each. Orders are placed first (8
callers, alternating market buys and sells of one lot against the house quotes, each producing a
book update, a trade and a ticker), then one StreamMarketData call resumes from the sequence
before them and reads the whole backlog: the figure is messages per second delivered by the
exchange's stream, next to the same number of bare messages of the same size.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.harness import STREAM_METHOD, echo_channel, running_process, service_command
from benchmarks.place_order_grpc import CLIENT, fund_account, order_request
from oes.exchange.v1 import exchange_pb2, exchange_pb2_grpc
from service_kit.auth import ADMIN, TokenAuthority
from service_kit.config import AUTH_SECRET_DEFAULT, authorized_channel

MARKET = "BTC-USDT"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=15_000, help="orders placed to fill the backlog")
    parser.add_argument("--callers", type=int, default=8)
    arguments = parser.parse_args()
    authority = TokenAuthority(os.environ.get("OES_AUTH_SECRET") or AUTH_SECRET_DEFAULT)
    with tempfile.TemporaryDirectory() as directory:
        workspace = Path(directory)
        command, port_file = service_command("exchange_sim", workspace)
        with echo_channel(workspace) as echo, running_process(command, port_file) as exchange_port:
            exchange_address = f"127.0.0.1:{exchange_port}"
            fund_account(authorized_channel(exchange_address, authority.issue(ADMIN)))
            trading = exchange_pb2_grpc.TradingServiceStub(
                authorized_channel(exchange_address, authority.issue(CLIENT))
            )
            start_sequence = book_sequence(trading)
            orders_per_caller = arguments.orders // arguments.callers

            def place_orders(caller: int) -> None:
                for sequence in range(orders_per_caller):
                    side = exchange_pb2.SIDE_BUY if sequence % 2 == 0 else exchange_pb2.SIDE_SELL
                    trading.PlaceOrder(order_request(f"stream-{caller}-{sequence:06d}", side))

            callers = [
                threading.Thread(target=place_orders, args=(caller,)) for caller in range(arguments.callers)
            ]
            for thread in callers:
                thread.start()
            for thread in callers:
                thread.join()
            end_sequence = book_sequence(trading)
            message_count = end_sequence - start_sequence
            started = time.perf_counter()
            stream = trading.StreamMarketData(
                exchange_pb2.StreamMarketDataRequest(market=MARKET, after_sequence=start_sequence)
            )
            sizes = 0
            for received, message in enumerate(stream, start=1):
                sizes += message.ByteSize()
                if received == message_count:
                    break
            stream.cancel()
            market_data_s = time.perf_counter() - started
            payload_size = max(8, sizes // max(message_count, 1))
            payload = message_count.to_bytes(8, "big") + bytes(payload_size - 8)
            bare_stream = echo.unary_stream(STREAM_METHOD)
            started = time.perf_counter()
            bare_count = sum(1 for _ in bare_stream(payload))
            bare_s = time.perf_counter() - started
    market_data_rate = message_count / market_data_s
    bare_rate = bare_count / bare_s
    print(
        f"orders placed: {arguments.orders}, market data messages: {message_count}, cores: {os.cpu_count()}"
    )
    print(f"average message size: {payload_size} bytes")
    print(f"bare gRPC server stream     : {bare_rate:8.0f} messages/s")
    print(f"StreamMarketData (backlog)  : {market_data_rate:8.0f} messages/s")
    print(f"ratio StreamMarketData / bare stream: {market_data_rate / bare_rate:.2f}")


def book_sequence(trading: exchange_pb2_grpc.TradingServiceStub) -> int:
    """The market's data sequence now."""
    return trading.GetOrderBook(exchange_pb2.GetOrderBookRequest(market=MARKET, depth=1)).market_data_sequence


if __name__ == "__main__":
    main()
