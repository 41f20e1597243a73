"""The shared ControlService over a real server: clock, auth and idempotent advances."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import duration_pb2
from structlog.testing import capture_logs

from oes.control.v1 import control_pb2, control_pb2_grpc
from service_kit.auth import ADMIN, Principal, PrincipalKind
from service_kit.clock import Clock, SimulatedClock
from service_kit.config import RunningService, ServiceConfig, ServiceParts, start_service
from service_kit.control import CONTROL_POLICY, ControlServicer, control_registration
from service_kit.database import Database
from service_kit.idempotency import MIGRATION, RequestLog
from service_kit.rpc_errors import remote_error
from tests.integration.support import START_MS, bearer, service_config


def build_control_only(config: ServiceConfig, clock: Clock) -> ServiceParts:
    database = Database(config.data_dir / "control.sqlite3", [MIGRATION])
    fired: list[int] = []
    clock.schedule(clock.now_ms() + 60_000, "probe", lambda: fired.append(clock.now_ms()))
    servicer = ControlServicer(clock, RequestLog(database), database.delete_everything)
    return ServiceParts(
        [control_registration(servicer)], CONTROL_POLICY, "test.oes-sandbox.local", database.close
    )


@pytest.fixture()
def service(tmp_path: Path) -> Iterator[RunningService]:
    config = service_config(tmp_path)
    running = start_service(config, build_control_only, SimulatedClock(START_MS))
    yield running
    running.stop()


def stub(service: RunningService) -> control_pb2_grpc.ControlServiceStub:
    return control_pb2_grpc.ControlServiceStub(grpc.insecure_channel(f"127.0.0.1:{service.port}"))


def test_advance_runs_due_timers_once_per_request_id(service: RunningService) -> None:
    control = stub(service)
    request = control_pb2.AdvanceClockRequest(
        request_id="advance-1", duration=duration_pb2.Duration(seconds=120)
    )

    first = control.AdvanceClock(request, metadata=bearer(ADMIN))
    retry = control.AdvanceClock(request, metadata=bearer(ADMIN))

    assert first.timers_run_count == 1
    assert retry == first
    clock = control.GetClock(control_pb2.GetClockRequest(), metadata=bearer(ADMIN))
    assert clock.now.seconds * 1000 == START_MS + 120_000
    assert clock.mode == control_pb2.CLOCK_MODE_SIM


def test_reused_request_id_with_other_content_is_refused(service: RunningService) -> None:
    control = stub(service)
    control.AdvanceClock(
        control_pb2.AdvanceClockRequest(request_id="same", duration=duration_pb2.Duration(seconds=1)),
        metadata=bearer(ADMIN),
    )
    with pytest.raises(grpc.RpcError) as raised:
        control.AdvanceClock(
            control_pb2.AdvanceClockRequest(request_id="same", duration=duration_pb2.Duration(seconds=2)),
            metadata=bearer(ADMIN),
        )
    error = remote_error(raised.value)
    assert (error.code, error.reason) == (grpc.StatusCode.ALREADY_EXISTS, "REQUEST_ID_REUSED")


@pytest.mark.parametrize(
    ("metadata", "code", "reason"),
    [
        ((), grpc.StatusCode.UNAUTHENTICATED, "MISSING_TOKEN"),
        ((("authorization", "Bearer oes1.admin.0000"),), grpc.StatusCode.UNAUTHENTICATED, "UNKNOWN_TOKEN"),
        (
            bearer(Principal(PrincipalKind.CLIENT, "acme")),
            grpc.StatusCode.PERMISSION_DENIED,
            "PRINCIPAL_NOT_ALLOWED",
        ),
    ],
)
def test_control_is_admin_only(
    service: RunningService, metadata: tuple[tuple[str, str], ...], code: grpc.StatusCode, reason: str
) -> None:
    with capture_logs() as logs, pytest.raises(grpc.RpcError) as raised:
        stub(service).GetClock(control_pb2.GetClockRequest(), metadata=metadata)
    error = remote_error(raised.value)
    assert (error.code, error.reason) == (code, reason)
    # Servers of other tests may still be logging in this process: look at this call's line only.
    rpc_lines = [
        line
        for line in logs
        if line["event"] == "rpc" and line["method"] == "/oes.control.v1.ControlService/GetClock"
    ]
    assert [line["code"] for line in rpc_lines] == [code.name]


def test_bad_duration_is_invalid_argument_with_field(service: RunningService) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stub(service).AdvanceClock(
            control_pb2.AdvanceClockRequest(request_id="bad", duration=duration_pb2.Duration(seconds=-5)),
            metadata=bearer(ADMIN),
        )
    error = remote_error(raised.value)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.field_violations == ("duration",)
