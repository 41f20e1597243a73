"""gRPC server start-up shared by the services: health, reflection, interceptor, graceful stop."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Sequence
from concurrent import futures
from dataclasses import dataclass
from types import FrameType

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from service_kit.auth import AuthorizationPolicy, TokenAuthority
from service_kit.faults import FaultRegistry
from service_kit.interceptor import RequestInterceptor

log = structlog.get_logger(__name__)

# Eight workers measured fastest on this two-core machine (sixteen were slower).
WORKERS_DEFAULT = 8
STOP_GRACE_S = 5.0
# How soon a service notices SIGTERM or SIGINT (see serve_until_signalled).
SIGNAL_POLL_INTERVAL_S = 0.1
# A statement may carry up to 100,000 entries; with its per-entry outcomes the reply of one
# execution is tens of megabytes, past gRPC's default 4 MB. Servers and the sandbox's own
# channels accept messages up to this size.
MESSAGE_BYTES_MAX = 64 * 1024 * 1024
MESSAGE_SIZE_OPTIONS = (
    ("grpc.max_receive_message_length", MESSAGE_BYTES_MAX),
    ("grpc.max_send_message_length", MESSAGE_BYTES_MAX),
)


@dataclass(frozen=True)
class ServiceRegistration:
    """One servicer to add to the server and the full name it is known by."""

    full_name: str
    add_to_server: Callable[[grpc.Server], None]


def create_server(
    address: str,
    registrations: Sequence[ServiceRegistration],
    authority: TokenAuthority,
    policy: AuthorizationPolicy,
    error_domain: str,
    workers: int = WORKERS_DEFAULT,
    faults: FaultRegistry | None = None,
) -> tuple[grpc.Server, int]:
    """Builds and starts a server on `address` (port 0 picks a free one); returns it and its port."""
    for registration in registrations:
        assert registration.full_name in policy or any(
            key.startswith(f"/{registration.full_name}/") for key in policy
        ), f"{registration.full_name} has no authorization policy"
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rpc"),
        interceptors=[RequestInterceptor(authority, policy, error_domain, faults)],
        options=MESSAGE_SIZE_OPTIONS,
    )
    for registration in registrations:
        registration.add_to_server(server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [registration.full_name for registration in registrations]
    for name in [*names, ""]:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
        server,
    )
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"could not listen on {address}")
    server.start()
    return server, port


def serve_until_signalled(server: grpc.Server, on_stop: Callable[[], None]) -> None:
    """Blocks until SIGTERM or SIGINT, then stops accepting calls and lets running ones finish.

    The handler only records the signal, and the main thread looks every SIGNAL_POLL_INTERVAL_S.
    Waiting on an Event instead hung for good when two signals came at once (Ctrl-C reaches every
    process of the group while the supervisor sends SIGTERM): the kernel delivered the second to
    one of gRPC's threads, so the main thread's blocking wait was never interrupted to run the
    Python handler, and a handler that takes a lock can deadlock when another interrupts it.
    """
    signals_received: list[str] = []

    def request_stop(signal_number: int, frame: FrameType | None) -> None:
        # Appending to a list takes no lock: safe even when one handler interrupts another.
        signals_received.append(signal.Signals(signal_number).name)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    # Serves for as long as it runs: the only way out of this loop is a signal.
    while not signals_received:
        time.sleep(SIGNAL_POLL_INTERVAL_S)
    log.info("stop_requested", signal=signals_received[0])
    server.stop(STOP_GRACE_S).wait()
    on_stop()
    log.info("stopped")
