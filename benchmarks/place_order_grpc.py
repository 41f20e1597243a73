"""PlaceOrder over gRPC with concurrent callers, next to a bare gRPC echo measured in the same run.

Run:  python benchmarks/place_order_grpc.py [--callers 8] [--seconds 5]

Both servers run as separate processes (the exchange as `python -m exchange_sim`, the echo as this file in
`--serve-echo` mode, a sync thread-pool server with 8 workers like the services), and the callers are threads
of this process. The echo carries a payload of the size of a PlaceOrderRequest, so the ratio
PlaceOrder / echo says how much of the bare gRPC ceiling the exchange keeps. Orders alternate market buys
and sells of one lot against the built-in market maker, so every order matches, pays fees, writes its
order, trades and balances to SQLite and records its request_id.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent import futures
from pathlib import Path

import grpc

from oes.exchange.v1 import exchange_pb2, exchange_pb2_grpc
from service_kit.auth import ADMIN, Principal, PrincipalKind, TokenAuthority
from service_kit.config import AUTH_SECRET_DEFAULT, authorized_channel

ECHO_METHOD = "/bench.Echo/Echo"
CLIENT = Principal(PrincipalKind.CLIENT, "bench")
STARTUP_TIMEOUT_S = 30.0


def serve_echo(port_file: Path) -> None:
    """Serves a bare unary echo until killed: the gRPC ceiling on this machine."""
    handler = grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(lambda request, context: request)}
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    port_file.write_text(str(port))
    server.wait_for_termination()


def start_process(command: list[str], port_file: Path) -> tuple[subprocess.Popen[bytes], int]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline_s = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline_s:
        if port_file.exists() and port_file.read_text().strip():
            return process, int(port_file.read_text())
        if process.poll() is not None:
            raise RuntimeError(f"{command} exited with {process.returncode}")
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{command} did not start")


def measure(call: Callable[[int, int], None], callers: int, seconds: float) -> tuple[float, float, float]:
    """Runs `call(caller, sequence)` from `callers` threads for `seconds`; returns calls/s, p50 ms, p99 ms."""
    latencies_ms: list[list[float]] = [[] for _ in range(callers)]
    stop_at = time.perf_counter() + seconds
    calls_per_caller_max = 10_000_000

    def run(caller: int) -> None:
        for sequence in range(calls_per_caller_max):
            started = time.perf_counter()
            if started >= stop_at:
                return
            call(caller, sequence)
            latencies_ms[caller].append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(caller,)) for caller in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed_s = time.perf_counter() - started
    merged = sorted(latency for caller_latencies in latencies_ms for latency in caller_latencies)
    p99 = merged[min(len(merged) - 1, int(len(merged) * 0.99))]
    return len(merged) / elapsed_s, statistics.median(merged), p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--serve-echo", type=Path, default=None, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve_echo is not None:
        serve_echo(arguments.serve_echo)
        return

    authority = TokenAuthority(os.environ.get("OES_AUTH_SECRET") or AUTH_SECRET_DEFAULT)
    with tempfile.TemporaryDirectory() as directory:
        workspace = Path(directory)
        echo_process, echo_port = start_process(
            [sys.executable, __file__, "--serve-echo", str(workspace / "echo.port")], workspace / "echo.port"
        )
        exchange_process, exchange_port = start_process(
            [
                sys.executable,
                "-m",
                "exchange_sim",
                "--port",
                "0",
                "--port-file",
                str(workspace / "exchange.port"),
                "--data-dir",
                str(workspace / "exchange"),
                "--log-format",
                "json",
            ],
            workspace / "exchange.port",
        )
        try:
            exchange_address = f"127.0.0.1:{exchange_port}"
            fund_account(authorized_channel(exchange_address, authority.issue(ADMIN)))
            trading = exchange_pb2_grpc.TradingServiceStub(
                authorized_channel(exchange_address, authority.issue(CLIENT))
            )
            sample = exchange_pb2.PlaceOrderRequest(
                request_id="bench-0-000000",
                account=CLIENT.name,
                market="BTC-USDT",
                side=exchange_pb2.SIDE_BUY,
                type=exchange_pb2.ORDER_TYPE_MARKET,
                quantity="0.0001",
            )
            payload = sample.SerializeToString()
            echo = grpc.insecure_channel(f"127.0.0.1:{echo_port}").unary_unary(ECHO_METHOD)

            def echo_call(caller: int, sequence: int) -> None:
                echo(payload)

            def place_order(caller: int, sequence: int) -> None:
                side = exchange_pb2.SIDE_BUY if sequence % 2 == 0 else exchange_pb2.SIDE_SELL
                trading.PlaceOrder(
                    exchange_pb2.PlaceOrderRequest(
                        request_id=f"bench-{caller}-{sequence:06d}",
                        account=CLIENT.name,
                        market="BTC-USDT",
                        side=side,
                        type=exchange_pb2.ORDER_TYPE_MARKET,
                        quantity="0.0001",
                    )
                )

            measure(echo_call, arguments.callers, 0.5)
            measure(place_order, arguments.callers, 0.5)
            echo_rate, echo_p50, echo_p99 = measure(echo_call, arguments.callers, arguments.seconds)
            order_rate, order_p50, order_p99 = measure(place_order, arguments.callers, arguments.seconds)
        finally:
            exchange_process.terminate()
            echo_process.terminate()
            exchange_process.wait()
            echo_process.wait()
    print(
        f"callers: {arguments.callers}, seconds per measurement: {arguments.seconds}, cores: {os.cpu_count()}"
    )
    print(f"bare gRPC echo   : {echo_rate:8.0f} calls/s  p50 {echo_p50:6.2f} ms  p99 {echo_p99:6.2f} ms")
    print(f"PlaceOrder (gRPC): {order_rate:8.0f} calls/s  p50 {order_p50:6.2f} ms  p99 {order_p99:6.2f} ms")
    print(f"ratio PlaceOrder / echo: {order_rate / echo_rate:.2f}")


def fund_account(admin_channel: grpc.Channel) -> None:
    """Opens the benchmark's OES account and mirrors a large allocation into it."""
    partner = exchange_pb2_grpc.PartnerServiceStub(admin_channel)
    connection = f"{CLIENT.name}/connections/okx-sim"
    partner.CreateConnection(
        exchange_pb2.CreateConnectionRequest(request_id="bench-connect", connection=connection)
    )
    for asset, amount in (("BTC", "100000"), ("USDT", "10000000000")):
        partner.ReserveAllocation(
            exchange_pb2.ReserveAllocationRequest(
                request_id=f"bench-reserve-{asset}",
                connection=connection,
                allocation_id=f"bench-{asset}",
                asset=asset,
                amount=amount,
            )
        )
        partner.ClearAllocation(
            exchange_pb2.ClearAllocationRequest(
                request_id=f"bench-clear-{asset}", allocation_id=f"bench-{asset}"
            )
        )


if __name__ == "__main__":
    main()
