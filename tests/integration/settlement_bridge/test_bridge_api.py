"""The bridge's gRPC API on a real server: validation, authorization, errors, reset.

The venues are unreachable here (nothing listens on their ports), which is what these
checks need: each one must be answered before, or without, any venue call.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from oes.bridge.v1 import bridge_pb2, bridge_pb2_grpc
from oes.control.v1 import control_pb2, control_pb2_grpc
from service_kit.auth import ADMIN, Principal
from service_kit.config import RunningService, start_service
from service_kit.rpc_errors import remote_error
from settlement_bridge.adapters.venue_calls import RetryPolicy
from settlement_bridge.bootstrap import BridgeConfig, build
from tests.integration.settlement_bridge.conftest import (
    ACME,
    GLOBEX,
    OKX,
    bridge_row_counts,
    channel,
)
from tests.integration.support import bearer, service_config

# Port 1 is privileged and unused: connecting to it is refused at once.
UNREACHABLE = "127.0.0.1:1"
CONNECTION = "clients/acme/connections/okx-sim"


@pytest.fixture()
def bridge(tmp_path: Path) -> Iterator[RunningService]:
    shared = service_config(tmp_path)
    config = BridgeConfig(
        **{name: getattr(shared, name) for name in type(shared).__dataclass_fields__},
        custodian_address=UNREACHABLE,
        exchange_addresses={"okx-sim": UNREACHABLE},
        retry_policy=RetryPolicy(attempts_max=2, deadline_ms=2_000, backoff_ms_initial=10, backoff_ms_max=10),
    )
    running = start_service(config, build)
    yield running
    running.stop()


def network(bridge: RunningService) -> bridge_pb2_grpc.SettlementNetworkServiceStub:
    return bridge_pb2_grpc.SettlementNetworkServiceStub(channel(bridge.port))


def admin(bridge: RunningService) -> bridge_pb2_grpc.BridgeAdminServiceStub:
    return bridge_pb2_grpc.BridgeAdminServiceStub(channel(bridge.port))


def error_of(
    call: object, request: object, principal: Principal | None
) -> tuple[grpc.StatusCode, str, tuple[str, ...]]:
    assert callable(call)
    metadata = bearer(principal) if principal else ()
    with pytest.raises(grpc.RpcError) as raised:
        call(request, metadata=metadata)
    failure = remote_error(raised.value)
    return failure.code, failure.reason, failure.field_violations


def every_table_empty(data_dir: Path) -> bool:
    return all(count == 0 for count in bridge_row_counts(data_dir).values())


@pytest.mark.parametrize(
    ("asset", "amount", "field", "reason"),
    [
        ("BTC", "-1", "amount", "AMOUNT_NEGATIVE"),
        ("BTC", "abc", "amount", "AMOUNT_MALFORMED"),
        ("BTC", "", "amount", "AMOUNT_MALFORMED"),
        ("BTC", "1.123456789", "amount", "AMOUNT_TOO_PRECISE"),
        ("BTC", "0", "amount", "AMOUNT_NOT_POSITIVE"),
        ("DOGE", "1", "asset", "UNKNOWN_ASSET"),
    ],
)
def test_bad_amounts_are_refused_and_nothing_is_written(
    bridge: RunningService, tmp_path: Path, asset: str, amount: str, field: str, reason: str
) -> None:
    stub = network(bridge)
    allocation = bridge_pb2.CreateAllocationRequest(
        request_id="bad-1", connection=CONNECTION, asset=asset, amount=amount
    )
    deallocation = bridge_pb2.CreateDeallocationRequest(
        request_id="bad-2", connection=CONNECTION, asset=asset, amount=amount
    )

    expected = (grpc.StatusCode.INVALID_ARGUMENT, reason, (field,))
    assert error_of(stub.CreateAllocation, allocation, ACME) == expected
    assert error_of(stub.CreateDeallocation, deallocation, ACME) == expected
    assert every_table_empty(tmp_path)


@pytest.mark.parametrize(
    ("request_message", "field"),
    [
        (
            bridge_pb2.CreateAllocationRequest(request_id="", connection=CONNECTION, asset="BTC", amount="1"),
            "request_id",
        ),
        (
            bridge_pb2.CreateAllocationRequest(
                request_id="r", connection="acme/okx", asset="BTC", amount="1"
            ),
            "connection",
        ),
    ],
)
def test_malformed_fields_are_named(
    bridge: RunningService, tmp_path: Path, request_message: bridge_pb2.CreateAllocationRequest, field: str
) -> None:
    code, _, fields = error_of(network(bridge).CreateAllocation, request_message, ACME)

    assert (code, fields) == (grpc.StatusCode.INVALID_ARGUMENT, (field,))
    assert every_table_empty(tmp_path)


def test_clients_act_only_on_their_own_connections(bridge: RunningService, tmp_path: Path) -> None:
    allocation = bridge_pb2.CreateAllocationRequest(
        request_id="r-1", connection=CONNECTION, asset="BTC", amount="1"
    )
    connection = bridge_pb2.CreateConnectionRequest(
        request_id="c-1", client="clients/acme", exchange="exchanges/okx-sim"
    )
    get = bridge_pb2.GetAllocationRequest(name=f"{CONNECTION}/allocations/1")

    for call, request in (
        (network(bridge).CreateAllocation, allocation),
        (network(bridge).CreateConnection, connection),
        (network(bridge).GetAllocation, get),
    ):
        assert error_of(call, request, GLOBEX)[:2] == (
            grpc.StatusCode.PERMISSION_DENIED,
            "NOT_RESOURCE_OWNER",
        )
    assert every_table_empty(tmp_path)


def test_principals_outside_the_policy_are_refused(bridge: RunningService) -> None:
    run = bridge_pb2.RunSettlementCycleRequest(request_id="s-1", exchange="exchanges/okx-sim")

    assert error_of(admin(bridge).RunSettlementCycle, run, ACME)[:2] == (
        grpc.StatusCode.PERMISSION_DENIED,
        "PRINCIPAL_NOT_ALLOWED",
    )
    assert error_of(network(bridge).ListSettlements, bridge_pb2.ListSettlementsRequest(), OKX)[:2] == (
        grpc.StatusCode.PERMISSION_DENIED,
        "PRINCIPAL_NOT_ALLOWED",
    )
    assert error_of(network(bridge).ListSettlements, bridge_pb2.ListSettlementsRequest(), None)[:2] == (
        grpc.StatusCode.UNAUTHENTICATED,
        "MISSING_TOKEN",
    )


def test_unknown_resources_are_not_found(bridge: RunningService, tmp_path: Path) -> None:
    unknown_exchange = bridge_pb2.CreateConnectionRequest(
        request_id="c-1", client="clients/acme", exchange="exchanges/binance-sim"
    )
    unknown_connection = bridge_pb2.CreateAllocationRequest(
        request_id="r-1", connection=CONNECTION, asset="BTC", amount="1"
    )
    unknown_cycle_exchange = bridge_pb2.RunSettlementCycleRequest(
        request_id="s-1", exchange="exchanges/binance-sim"
    )

    assert error_of(network(bridge).CreateConnection, unknown_exchange, ACME)[:2] == (
        grpc.StatusCode.NOT_FOUND,
        "EXCHANGE_NOT_FOUND",
    )
    assert error_of(network(bridge).CreateAllocation, unknown_connection, ACME)[:2] == (
        grpc.StatusCode.NOT_FOUND,
        "CONNECTION_NOT_FOUND",
    )
    assert error_of(admin(bridge).RunSettlementCycle, unknown_cycle_exchange, ADMIN)[:2] == (
        grpc.StatusCode.NOT_FOUND,
        "EXCHANGE_NOT_FOUND",
    )
    assert error_of(
        network(bridge).GetSettlement, bridge_pb2.GetSettlementRequest(name="settlements/3"), ACME
    )[:2] == (grpc.StatusCode.NOT_FOUND, "SETTLEMENT_NOT_FOUND")
    assert every_table_empty(tmp_path)


def test_unreachable_venues_are_unavailable_and_leave_no_connection(
    bridge: RunningService, tmp_path: Path
) -> None:
    request = bridge_pb2.CreateConnectionRequest(
        request_id="c-1", client="clients/acme", exchange="exchanges/okx-sim"
    )

    assert error_of(network(bridge).CreateConnection, request, ACME)[:2] == (
        grpc.StatusCode.UNAVAILABLE,
        "VENUE_UNAVAILABLE",
    )
    assert every_table_empty(tmp_path)


def test_page_size_is_bounded(bridge: RunningService) -> None:
    request = bridge_pb2.ListSettlementsRequest(page_size=101)

    assert error_of(network(bridge).ListSettlements, request, ADMIN) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "PAGE_SIZE_OUT_OF_RANGE",
        ("page_size",),
    )
    assert (
        network(bridge)
        .ListSettlements(bridge_pb2.ListSettlementsRequest(), metadata=bearer(ADMIN))
        .settlements
        == []
    )


def test_control_service_is_registered_and_reset_keeps_only_its_own_receipt(
    bridge: RunningService, tmp_path: Path
) -> None:
    control = control_pb2_grpc.ControlServiceStub(channel(bridge.port))

    control.Reset(control_pb2.ResetRequest(request_id="reset-1"), metadata=bearer(ADMIN))

    counts = bridge_row_counts(tmp_path)
    assert counts.pop("request_log") == 1
    assert all(count == 0 for count in counts.values())
