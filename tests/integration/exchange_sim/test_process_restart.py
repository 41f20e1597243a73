"""`python -m exchange_sim` as a process: killed with SIGKILL, restarted, it keeps every committed fact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from oes.exchange.v1 import exchange_pb2, exchange_pb2_grpc
from service_kit.auth import BRIDGE, TokenAuthority
from service_kit.config import AUTH_SECRET_ENVIRONMENT, authorized_channel
from tests.integration.exchange_sim.conftest import ACME, CONNECTION, SECRET, acme_order

START_TIMEOUT_S = 30.0


def start_process(data_dir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port_file = data_dir / "exchange.port"
    port_file.unlink(missing_ok=True)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "exchange_sim",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--data-dir",
            str(data_dir),
            "--clock",
            "sim",
            "--log-format",
            "json",
        ],
        env={**os.environ, AUTH_SECRET_ENVIRONMENT: SECRET},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline_s = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline_s:
        if port_file.exists():
            return process, int(port_file.read_text())
        assert process.poll() is None, f"exchange_sim exited with {process.returncode}"
        time.sleep(0.05)
    process.kill()
    raise AssertionError("exchange_sim did not start")


@pytest.fixture()
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


def stubs(port: int) -> tuple[exchange_pb2_grpc.TradingServiceStub, exchange_pb2_grpc.PartnerServiceStub]:
    authority = TokenAuthority(SECRET)
    address = f"127.0.0.1:{port}"
    return (
        exchange_pb2_grpc.TradingServiceStub(authorized_channel(address, authority.issue(ACME))),
        exchange_pb2_grpc.PartnerServiceStub(authorized_channel(address, authority.issue(BRIDGE))),
    )


def test_sigkill_and_restart_keep_balances_orders_and_statements(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    process, port = start_process(tmp_path)
    processes.append(process)
    trading, partner = stubs(port)
    partner.CreateConnection(
        exchange_pb2.CreateConnectionRequest(request_id="connect", connection=CONNECTION), wait_for_ready=True
    )
    partner.ReserveAllocation(
        exchange_pb2.ReserveAllocationRequest(
            request_id="reserve", connection=CONNECTION, allocation_id="a1", asset="USDT", amount="100000"
        )
    )
    partner.ClearAllocation(exchange_pb2.ClearAllocationRequest(request_id="clear", allocation_id="a1"))
    order = trading.PlaceOrder(
        acme_order("buy", exchange_pb2.SIDE_BUY, exchange_pb2.ORDER_TYPE_MARKET, "1")
    ).order
    statement = partner.CreateStatement(exchange_pb2.CreateStatementRequest(request_id="cutoff"))
    balances = trading.GetBalances(exchange_pb2.GetBalancesRequest(account="clients/acme"))

    process.send_signal(signal.SIGKILL)
    process.wait()
    process, port = start_process(tmp_path)
    processes.append(process)
    trading, partner = stubs(port)

    restarted_balances = trading.GetBalances(
        exchange_pb2.GetBalancesRequest(account="clients/acme"), wait_for_ready=True
    )
    assert restarted_balances == balances
    assert trading.GetOrder(exchange_pb2.GetOrderRequest(name=order.name)).order == order
    assert partner.GetVenue(exchange_pb2.GetVenueRequest()).last_statement == statement.statement.name
    with pytest.raises(grpc.RpcError) as raised:
        partner.CreateStatement(exchange_pb2.CreateStatementRequest(request_id="cutoff-2"))
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
