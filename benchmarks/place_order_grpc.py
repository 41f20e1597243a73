"""PlaceOrder over gRPC with concurrent callers, next to a bare gRPC echo measured in the same run.

Run from the repository root:  python -m benchmarks.place_order_grpc [--callers 8] [--seconds 5]

Both servers run as separate processes (the exchange as `python -m exchange_sim`, the echo from
benchmarks/harness.py, a sync thread-pool server with 8 workers like the services), and the callers
are threads of this process. The echo carries a payload of the size of a PlaceOrderRequest, so the
ratio PlaceOrder / echo says how much of the bare gRPC ceiling the exchange keeps. Orders alternate
market buys and sells of one lot against the built-in market maker, so every order matches, pays
fees, writes its order, trades and balances to SQLite and records its request_id.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import grpc

from benchmarks.harness import echo_server, measure, running_process, service_command
from oes.exchange.v1 import exchange_pb2, exchange_pb2_grpc
from service_kit.auth import ADMIN, Principal, PrincipalKind, TokenAuthority
from service_kit.config import AUTH_SECRET_DEFAULT, authorized_channel

CLIENT = Principal(PrincipalKind.CLIENT, "bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    arguments = parser.parse_args()
    authority = TokenAuthority(os.environ.get("OES_AUTH_SECRET") or AUTH_SECRET_DEFAULT)
    with tempfile.TemporaryDirectory() as directory:
        workspace = Path(directory)
        command, port_file = service_command("exchange_sim", workspace)
        with echo_server(workspace) as echo, running_process(command, port_file) as exchange_port:
            exchange_address = f"127.0.0.1:{exchange_port}"
            fund_account(authorized_channel(exchange_address, authority.issue(ADMIN)))
            # Like the echo's, a plain channel: the token goes as call metadata, so that neither
            # side pays for a Python client interceptor the other does not have.
            trading = exchange_pb2_grpc.TradingServiceStub(grpc.insecure_channel(exchange_address))
            metadata = (("authorization", f"Bearer {authority.issue(CLIENT)}"),)
            payload = order_request("bench-0-000000", exchange_pb2.SIDE_BUY).SerializeToString()

            def echo_call(caller: int, sequence: int) -> None:
                echo(payload)

            def place_order(caller: int, sequence: int) -> None:
                side = exchange_pb2.SIDE_BUY if sequence % 2 == 0 else exchange_pb2.SIDE_SELL
                trading.PlaceOrder(order_request(f"bench-{caller}-{sequence:06d}", side), metadata=metadata)

            measure(echo_call, arguments.callers, 0.5)
            measure(place_order, arguments.callers, 0.5)
            echo_figures = measure(echo_call, arguments.callers, arguments.seconds)
            order_figures = measure(place_order, arguments.callers, arguments.seconds)
    print(
        f"callers: {arguments.callers}, seconds per measurement: {arguments.seconds}, cores: {os.cpu_count()}"
    )
    print(echo_figures.line("bare gRPC echo"))
    print(order_figures.line("PlaceOrder (gRPC)"))
    print(f"ratio PlaceOrder / echo: {order_figures.calls_per_second / echo_figures.calls_per_second:.2f}")


def order_request(request_id: str, side: exchange_pb2.Side) -> exchange_pb2.PlaceOrderRequest:
    """A market order of one lot for the benchmark's account."""
    return exchange_pb2.PlaceOrderRequest(
        request_id=request_id,
        account=CLIENT.name,
        market="BTC-USDT",
        side=side,
        type=exchange_pb2.ORDER_TYPE_MARKET,
        quantity="0.0001",
    )


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
