"""Command-line settings every service shares, and the `python -m <service>` main loop."""

from __future__ import annotations

import argparse
import datetime
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
import structlog

from service_kit.auth import AuthorizationPolicy, TokenAuthority
from service_kit.clock import Clock, ClockMode, create_clock
from service_kit.faults import FaultRegistry
from service_kit.logs import LogFormat, configure_logging
from service_kit.money import AssetScales
from service_kit.server import (
    MESSAGE_SIZE_OPTIONS,
    ServiceRegistration,
    create_server,
    serve_until_signalled,
)

# The development secret: stable so that the printed tokens stay the same between runs.
AUTH_SECRET_DEFAULT = "oes-sandbox-development-secret"
AUTH_SECRET_ENVIRONMENT = "OES_AUTH_SECRET"
ASSETS_DEFAULT = ("BTC=8", "ETH=8", "USDT=6")
SIM_START_DEFAULT = "2026-01-01T00:00:00+00:00"
DATA_DIR_DEFAULT = Path(".oes-sandbox")


@dataclass(frozen=True)
class ServiceConfig:
    """Settings common to the three services."""

    host: str
    port: int
    data_dir: Path
    clock_mode: ClockMode
    sim_start_ms: int
    auth_secret: str
    assets: AssetScales
    seed: int
    log_format: LogFormat
    port_file: Path | None = None

    @property
    def address(self) -> str:
        """The address the server listens on."""
        return f"{self.host}:{self.port}"


def add_service_arguments(parser: argparse.ArgumentParser, port_default: int) -> None:
    """Adds the shared options to a service's argument parser."""
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=port_default, help="gRPC port; 0 picks a free one")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR_DEFAULT, help="where the SQLite file lives")
    parser.add_argument("--clock", choices=[mode.value for mode in ClockMode], default="real")
    parser.add_argument("--sim-start", default=SIM_START_DEFAULT, help="ISO-8601 start of simulated time")
    parser.add_argument("--asset", action="append", default=None, help="asset and scale, e.g. BTC=8 (repeat)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the service's random source")
    parser.add_argument("--log-format", choices=["auto", "json", "console"], default="auto")
    parser.add_argument("--port-file", type=Path, default=None, help="write the bound port here once serving")


def service_config(arguments: argparse.Namespace) -> ServiceConfig:
    """Reads the shared options; the auth secret comes from the environment when set."""
    start = datetime.datetime.fromisoformat(arguments.sim_start)
    if start.tzinfo is None:
        start = start.replace(tzinfo=datetime.UTC)
    return ServiceConfig(
        host=arguments.host,
        port=arguments.port,
        data_dir=arguments.data_dir,
        clock_mode=ClockMode(arguments.clock),
        sim_start_ms=int(start.timestamp() * 1000),
        auth_secret=os.environ.get(AUTH_SECRET_ENVIRONMENT) or AUTH_SECRET_DEFAULT,
        assets=AssetScales.from_specs(arguments.asset or list(ASSETS_DEFAULT)),
        seed=arguments.seed,
        log_format=arguments.log_format,
        port_file=arguments.port_file,
    )


@dataclass
class ServiceParts:
    """What a service's bootstrap hands to the server."""

    registrations: Sequence[ServiceRegistration]
    policy: AuthorizationPolicy
    error_domain: str
    on_stop: Callable[[], None]
    on_start: Callable[[], None] = lambda: None
    # The service's armed faults; the interceptor consults it on every call.
    faults: FaultRegistry | None = None


@dataclass
class RunningService:
    """A started server with the parts it serves."""

    server: grpc.Server
    port: int
    clock: Clock
    parts: ServiceParts

    def stop(self) -> None:
        """Stops serving and releases the service's resources."""
        self.server.stop(None).wait()
        self.clock.stop()
        self.parts.on_stop()


def start_service(
    config: ServiceConfig,
    build: Callable[[ServiceConfig, Clock], ServiceParts],
    clock: Clock | None = None,
) -> RunningService:
    """Builds a service and starts serving it; tests use this with port 0."""
    clock = clock or create_clock(config.clock_mode, config.sim_start_ms)
    parts = build(config, clock)
    server, port = create_server(
        config.address,
        parts.registrations,
        TokenAuthority(config.auth_secret),
        parts.policy,
        parts.error_domain,
        faults=parts.faults,
    )
    parts.on_start()
    return RunningService(server, port, clock, parts)


def run_service(
    name: str, config: ServiceConfig, build: Callable[[ServiceConfig, Clock], ServiceParts]
) -> None:
    """Serves one service in this process until SIGTERM or SIGINT, then stops it cleanly."""
    configure_logging(name, config.log_format)
    running = start_service(config, build)
    structlog.get_logger(name).info(
        "serving", address=f"{config.host}:{running.port}", data_dir=str(config.data_dir)
    )
    if config.port_file is not None:
        # Written atomically so that a supervisor polling for it never reads half a number.
        partial = config.port_file.with_suffix(".partial")
        partial.write_text(str(running.port))
        partial.replace(config.port_file)

    def stop() -> None:
        running.clock.stop()
        running.parts.on_stop()

    serve_until_signalled(running.server, stop)


def authorized_channel(address: str, token: str) -> grpc.Channel:
    """Opens a channel that sends `authorization: Bearer <token>` on every call."""
    return grpc.intercept_channel(
        grpc.insecure_channel(address, options=MESSAGE_SIZE_OPTIONS + RECONNECT_OPTIONS),
        _BearerInterceptor(token),
    )


# A service that restarts (a crash, a supervisor restart) is back within a second or two; gRPC's
# default reconnect backoff grows to two minutes and would keep its callers failing long after.
RECONNECT_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
)


class _BearerInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    def __init__(self, token: str) -> None:
        self._metadata = ("authorization", f"Bearer {token}")

    def _with_token(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = [*(details.metadata or ()), self._metadata]
        return _CallDetails(
            details.method,
            details.timeout,
            metadata,
            details.credentials,
            details.wait_for_ready,
            details.compression,
        )

    def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return continuation(self._with_token(client_call_details), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return continuation(self._with_token(client_call_details), request)


class _CallDetails(grpc.ClientCallDetails):
    def __init__(self, method, timeout, metadata, credentials, wait_for_ready, compression):  # type: ignore[no-untyped-def]
        self.method = method
        self.timeout = timeout
        self.metadata = metadata
        self.credentials = credentials
        self.wait_for_ready = wait_for_ready
        self.compression = compression
