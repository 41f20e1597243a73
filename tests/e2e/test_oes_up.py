"""`oes up` and `oes demo` as a person runs them: three processes, health, a narrated settlement."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

pytestmark = pytest.mark.e2e

READY_LINE = "OES sandbox is up."
START_TIMEOUT_S = 120.0


def oes_command() -> list[str]:
    """The installed console script, as the README runs it."""
    script = Path(sys.executable).parent / "oes"
    return [str(script)] if script.exists() else [sys.executable, "-m", "scenarios.cli"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def running_up(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[subprocess.Popen[str], list[str], str]]:
    ports = [free_port() for _ in range(3)]
    data_dir = tmp_path_factory.mktemp("oes-up")
    process = subprocess.Popen(
        [
            *oes_command(),
            "up",
            "--data-dir",
            str(data_dir),
            "--custodian-port",
            str(ports[0]),
            "--exchange-port",
            str(ports[1]),
            "--bridge-port",
            str(ports[2]),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    output: list[str] = []
    deadline_s = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline_s:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        if line.strip() == READY_LINE:
            break
    # The banner follows the ready line; read it to its last line.
    while output and not output[-1].startswith("Ctrl-C"):
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
    banner = "".join(output)
    if READY_LINE not in banner:
        process.kill()
        pytest.fail(f"oes up did not come up:\n{banner}")
    yield process, [f"127.0.0.1:{port}" for port in ports], banner
    if process.poll() is None:
        process.kill()
        process.wait()


def test_up_serves_three_processes_and_prints_tokens(
    running_up: tuple[subprocess.Popen[str], list[str], str],
) -> None:
    _, addresses, banner = running_up
    for address in addresses:
        assert address in banner
        with grpc.insecure_channel(address) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    for principal in ("admin", "bridge", "clients/acme", "clients/globex", "exchanges/okx-sim"):
        assert f"  {principal} " in banner
    assert "buf curl" in banner


def test_demo_settles_and_prints_balances(running_up: tuple[subprocess.Popen[str], list[str], str]) -> None:
    _, (custodian, exchange, bridge), _ = running_up
    result = subprocess.run(
        [
            *oes_command(),
            "demo",
            "--custodian",
            custodian,
            "--exchange-address",
            exchange,
            "--bridge",
            bridge,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "SETTLEMENT_STATE_SUCCEEDED" in result.stdout
    assert "reconciliation breaks: 0" in result.stdout
    header = next(line for line in result.stdout.splitlines() if line.startswith("party"))
    assert header.split() == ["party", "account", "asset", "before", "after"]
    assert "exchanges/okx-sim/settlement" in result.stdout


def test_sigterm_stops_all_three(running_up: tuple[subprocess.Popen[str], list[str], str]) -> None:
    process, addresses, _ = running_up
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    for address in addresses:
        with grpc.insecure_channel(address) as channel, pytest.raises(grpc.RpcError):
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
