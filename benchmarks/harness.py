"""What the gRPC benchmarks share: a bare echo server, service processes, and concurrent timing.

Run the echo on its own with `python benchmarks/harness.py PORT_FILE`; the benchmarks start it
themselves as a separate process so that it is measured like the services, in the same run.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc

ECHO_METHOD = "/bench.Echo/Echo"
# Streams back as many copies of the request as its first 8 bytes say (big-endian count).
STREAM_METHOD = "/bench.Echo/Stream"
STREAM_MESSAGES_MAX = 10_000_000
STARTUP_TIMEOUT_S = 30.0
CALLS_PER_CALLER_MAX = 10_000_000


@dataclass(frozen=True)
class Throughput:
    """Calls per second with the median and 99th percentile latency."""

    calls_per_second: float
    p50_ms: float
    p99_ms: float

    def line(self, label: str) -> str:
        """One printable line of figures."""
        return (
            f"{label:<28}: {self.calls_per_second:8.0f} calls/s  "
            f"p50 {self.p50_ms:6.2f} ms  p99 {self.p99_ms:6.2f} ms"
        )


def _stream_copies(request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
    """The bare server stream: `count` copies of the request, as fast as gRPC takes them."""
    count = min(int.from_bytes(request[:8], "big"), STREAM_MESSAGES_MAX)
    for _ in range(count):
        yield request


def serve_echo(port_file: Path) -> None:
    """Serves a bare unary echo and a bare server stream until killed: the gRPC ceilings, with 8
    workers like the services."""
    handler = grpc.method_handlers_generic_handler(
        "bench.Echo",
        {
            "Echo": grpc.unary_unary_rpc_method_handler(lambda request, context: request),
            "Stream": grpc.unary_stream_rpc_method_handler(_stream_copies),
        },
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    port_file.write_text(str(port))
    server.wait_for_termination()


@contextmanager
def running_process(command: list[str], port_file: Path) -> Iterator[int]:
    """Starts a server process that writes its port to `port_file`; yields the port, then stops it."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline_s = time.monotonic() + STARTUP_TIMEOUT_S
        while not (port_file.exists() and port_file.read_text().strip()):
            if process.poll() is not None:
                raise RuntimeError(f"{command} exited with {process.returncode}")
            if time.monotonic() > deadline_s:
                raise RuntimeError(f"{command} did not start within {STARTUP_TIMEOUT_S:.0f} s")
            time.sleep(0.05)
        yield int(port_file.read_text())
    finally:
        process.terminate()
        process.wait()


@contextmanager
def echo_server(workspace: Path) -> Iterator[Callable[[bytes], bytes]]:
    """Runs the bare echo in its own process; yields a callable that sends one payload."""
    with echo_channel(workspace) as channel:
        yield channel.unary_unary(ECHO_METHOD)


@contextmanager
def echo_channel(workspace: Path) -> Iterator[grpc.Channel]:
    """Runs the bare echo server in its own process; yields a channel to it."""
    port_file = workspace / "echo.port"
    with running_process([sys.executable, __file__, str(port_file)], port_file) as port:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        yield channel
        channel.close()


def service_command(module: str, workspace: Path, *arguments: str) -> tuple[list[str], Path]:
    """The command that runs a sandbox service on a free port in `workspace`, and its port file."""
    port_file = workspace / f"{module}.port"
    command = [
        sys.executable, "-m", module, "--port", "0", "--port-file", str(port_file),
        "--data-dir", str(workspace / module), "--log-format", "json", *arguments,
    ]  # fmt: skip
    return command, port_file


def measure(call: Callable[[int, int], None], callers: int, seconds: float) -> Throughput:
    """Runs `call(caller, sequence)` from `callers` threads for `seconds`."""
    latencies_ms: list[list[float]] = [[] for _ in range(callers)]
    stop_at = time.perf_counter() + seconds

    def run(caller: int) -> None:
        for sequence in range(CALLS_PER_CALLER_MAX):
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
    return Throughput(len(merged) / elapsed_s, statistics.median(merged), p99)


if __name__ == "__main__":
    serve_echo(Path(sys.argv[1]))
