"""Starts the three services as separate processes, waits until they serve, restarts loudly, stops cleanly."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from scenarios.endpoints import BRIDGE_PORT_DEFAULT, CUSTODIAN_PORT_DEFAULT, EXCHANGE_PORT_DEFAULT, Endpoints
from scenarios.world import World
from service_kit.config import SIM_START_DEFAULT
from service_kit.faults import CRASH_POINT_EXIT_CODE

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 0.05
RESTARTS_MAX = 3
# Starts `python -m SERVICE` without modules the services never use (see scenarios/launch.py).
LAUNCHER_MODULE = "scenarios.launch"


class SupervisorError(RuntimeError):
    """A service that would not start or kept dying."""


@dataclass
class ServicePorts:
    """Ports to listen on; 0 lets the operating system choose."""

    custodian: int = CUSTODIAN_PORT_DEFAULT
    exchange: int = EXCHANGE_PORT_DEFAULT
    bridge: int = BRIDGE_PORT_DEFAULT


@dataclass
class ManagedProcess:
    """One service process and how to start it again."""

    name: str
    module: str
    arguments: list[str]
    port_file: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    port: int = 0
    restart_count: int = 0
    # Exits other than at an armed crash point; more than RESTARTS_MAX of them stop the run.
    unexpected_exit_count: int = 0
    log_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        """Where the service listens once started."""
        return f"127.0.0.1:{self.port}"


class Supervisor:
    """Runs custodian, exchange and bridge as three processes sharing one data directory."""

    def __init__(
        self,
        world: World,
        data_dir: Path,
        clock_mode: str = "real",
        ports: ServicePorts | None = None,
        say: Callable[[str], None] = print,
        bridge_arguments: Sequence[str] = (),
    ) -> None:
        self.world = world
        # Extra command-line options for the bridge (dispute window, grace period) a scenario needs.
        self.bridge_arguments = list(bridge_arguments)
        self.data_dir = data_dir.resolve()
        self.clock_mode = clock_mode
        self.ports = ports or ServicePorts()
        self.say = say
        self.processes: dict[str, ManagedProcess] = {}
        self._stopping = False
        # Sandbox time elapsed since the start (sim clock only), set by whoever advances the clocks: a
        # restarted service must resume at the sandbox time the others have reached, not at the start.
        self.sim_elapsed_ms = 0

    def start(self) -> Endpoints:
        """Starts the venues, then the bridge pointing at them; returns when all three are SERVING."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        exchange = self.world.exchanges[0]
        common = [
            "--data-dir",
            str(self.data_dir),
            "--clock",
            self.clock_mode,
            "--seed",
            str(self.world.seed),
        ]
        for asset_spec in self.world.asset_specs:
            common += ["--asset", asset_spec]
        try:
            custodian = self._launch("custodian", "custodian_sim", self.ports.custodian, common)
            venue = self._launch(
                "exchange",
                "exchange_sim",
                self.ports.exchange,
                [*common, "--exchange", exchange.identifier, "--reference-price", exchange.reference_price],
            )
            self._wait_until_serving(custodian)
            self._wait_until_serving(venue)
            bridge = self._launch(
                "bridge",
                "settlement_bridge",
                self.ports.bridge,
                [
                    *common,
                    "--custodian",
                    custodian.address,
                    "--exchange",
                    f"{exchange.identifier}={venue.address}",
                    "--settlement-interval-s",
                    str(self.world.settlement_interval_s),
                    *self.bridge_arguments,
                ],
            )
            self._wait_until_serving(bridge)
        except BaseException:
            self.stop()
            raise
        return self.endpoints

    @property
    def endpoints(self) -> Endpoints:
        """The addresses of the running services."""
        return Endpoints(
            custodian=self.processes["custodian"].address,
            exchange=self.processes["exchange"].address,
            bridge=self.processes["bridge"].address,
        )

    def check(self, keep_down: Collection[str] = ()) -> None:
        """Restarts, loudly and a bounded number of times, any service that exited on its own.

        Services named in `keep_down` were stopped on purpose and stay down.
        """
        for managed in self.processes.values():
            assert managed.process is not None
            exit_code = managed.process.poll()
            if exit_code is None or self._stopping or managed.name in keep_down:
                continue
            # An exit at an armed crash point is the fault a scenario asked for, not a service that
            # keeps dying: it is restarted every time. Any other exit counts against the limit.
            deliberate = exit_code == CRASH_POINT_EXIT_CODE
            if not deliberate and managed.unexpected_exit_count >= RESTARTS_MAX:
                raise SupervisorError(
                    f"{managed.name} exited with code {exit_code} after {RESTARTS_MAX} restarts; "
                    f"see {managed.log_path}"
                )
            managed.restart_count += 1
            if deliberate:
                why = "at an armed crash point"
            else:
                managed.unexpected_exit_count += 1
                why = f"unexpectedly ({managed.unexpected_exit_count}/{RESTARTS_MAX})"
            self.say(
                f"!! {managed.name} exited with code {exit_code} {why}; "
                f"restarting it on port {managed.port}; log: {managed.log_path}"
            )
            self._spawn(managed)
            self._wait_until_serving(managed)

    def kill(self, name: str) -> None:
        """Kills one service with SIGKILL, as a crash would (for tests and scenarios)."""
        process = self.processes[name].process
        assert process is not None
        process.kill()
        process.wait(STOP_TIMEOUT_S)

    def restart(self, name: str) -> None:
        """Starts a stopped service again on its port and waits until it serves."""
        managed = self.processes[name]
        self._spawn(managed)
        self._wait_until_serving(managed)

    def stop(self) -> None:
        """Sends SIGTERM to every service (bridge first), waits, and kills what does not stop."""
        self._stopping = True
        for name in ("bridge", "exchange", "custodian"):
            managed = self.processes.get(name)
            if managed is None or managed.process is None or managed.process.poll() is not None:
                continue
            managed.process.terminate()
        for managed in self.processes.values():
            if managed.process is None:
                continue
            try:
                managed.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.say(f"!! {managed.name} did not stop within {STOP_TIMEOUT_S:.0f} s; killing it")
                managed.process.kill()
                managed.process.wait(STOP_TIMEOUT_S)
            if managed.log_file is not None:
                managed.log_file.close()

    def _launch(self, name: str, module: str, port: int, arguments: list[str]) -> ManagedProcess:
        managed = ManagedProcess(
            name,
            module,
            arguments,
            port_file=self.data_dir / f"{name}.port",
            log_path=self.data_dir / "logs" / f"{name}.log",
            port=port,
        )
        self.processes[name] = managed
        self._spawn(managed)
        return managed

    def _spawn(self, managed: ManagedProcess) -> None:
        managed.port_file.unlink(missing_ok=True)
        if managed.log_file is None:
            managed.log_file = managed.log_path.open("ab")
        command = [
            sys.executable,
            "-m",
            LAUNCHER_MODULE,
            managed.module,
            "--port",
            str(managed.port),
            "--port-file",
            str(managed.port_file),
            "--log-format",
            "json",
            *managed.arguments,
        ]
        if self.clock_mode == "sim" and self.sim_elapsed_ms > 0:
            start = datetime.datetime.fromisoformat(SIM_START_DEFAULT)
            resumed = start + datetime.timedelta(milliseconds=self.sim_elapsed_ms)
            command += ["--sim-start", resumed.isoformat()]
        environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
        managed.process = subprocess.Popen(
            command,
            stdout=managed.log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environment,
        )

    def _wait_until_serving(self, managed: ManagedProcess) -> None:
        deadline_s = time.monotonic() + START_TIMEOUT_S
        assert managed.process is not None
        while time.monotonic() < deadline_s:
            if managed.process.poll() is not None:
                raise SupervisorError(
                    f"{managed.name} exited with code {managed.process.returncode} while starting; "
                    f"see {managed.log_path}:\n{_tail(managed.log_path)}"
                )
            if managed.port_file.exists():
                managed.port = int(managed.port_file.read_text())
                if _is_serving(managed.address):
                    return
            time.sleep(POLL_INTERVAL_S)
        raise SupervisorError(
            f"{managed.name} did not serve within {START_TIMEOUT_S:.0f} s; see {managed.log_path}"
        )


def _is_serving(address: str) -> bool:
    with grpc.insecure_channel(address) as channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1.0)
        except grpc.RpcError:
            return False
    return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


def _tail(path: Path, line_count: int = 20) -> str:
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    return "\n".join(lines[-line_count:])
