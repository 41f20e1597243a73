"""ListTransfers, GetProofOfReserves and the connection lifecycle over a real server and SQLite."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from oes.control.v1 import control_pb2
from oes.custodian.v1 import custodian_pb2
from service_kit.auth import ADMIN, BRIDGE
from service_kit.timestamps import to_timestamp
from tests.integration.custodian_sim.test_custodian_server import (
    ACME,
    ACME_CONNECTION,
    BETA,
    OKX,
    OKX_PRINCIPAL,
    Custodian,
    allocate,
    create_world,
    custodian,
    lock_request,
    refused,
)
from tests.integration.support import START_MS, bearer

__all__ = ["custodian"]

BETA_CONNECTION = "clients/beta/connections/okx-sim"
HOUR_MS = 3_600_000


def list_transfers(
    custodian: Custodian, principal: Any = ADMIN, **fields: Any
) -> custodian_pb2.ListTransfersResponse:
    return custodian.custody.ListTransfers(
        custodian_pb2.ListTransfersRequest(**fields), metadata=bearer(principal)
    )


def transfer_ids(response: custodian_pb2.ListTransfersResponse) -> list[str]:
    return [transfer.id for transfer in response.transfers]


def advance(custodian: Custodian, duration_ms: int) -> None:
    request = control_pb2.AdvanceClockRequest(request_id=f"advance-{custodian.running.clock.now_ms()}")
    request.duration.FromMilliseconds(duration_ms)
    custodian.control.AdvanceClock(request, metadata=bearer(ADMIN))


def connect(custodian: Custodian, client: str, request_id: str) -> custodian_pb2.Connection:
    return custodian.settlement.CreateConnection(
        custodian_pb2.CreateConnectionRequest(request_id=request_id, client=client, exchange=OKX),
        metadata=bearer(BRIDGE),
    ).connection


def activate(custodian: Custodian, name: str, request_id: str) -> custodian_pb2.Connection:
    return custodian.settlement.ActivateConnection(
        custodian_pb2.ActivateConnectionRequest(request_id=request_id, name=name), metadata=bearer(BRIDGE)
    ).connection


def close(custodian: Custodian, name: str, request_id: str) -> custodian_pb2.Connection:
    return custodian.settlement.CloseConnection(
        custodian_pb2.CloseConnectionRequest(request_id=request_id, name=name), metadata=bearer(BRIDGE)
    ).connection


def test_the_journal_lists_an_owners_transfers_in_pages_oldest_first(custodian: Custodian) -> None:
    create_world(custodian)
    advance(custodian, HOUR_MS)
    allocate(custodian)

    everything = list_transfers(custodian, ACME, owner="clients/acme")
    pages: list[str] = []
    token = ""
    for _ in range(10):
        response = list_transfers(custodian, ACME, owner="clients/acme", page_size=1, page_token=token)
        pages += transfer_ids(response)
        token = response.next_page_token
        if not token:
            break

    assert transfer_ids(everything) == [
        "deposits/acme-btc",
        "deposits/acme-usdt",
        "allocations/acme-BTC/lock",
        "allocations/acme-USDT/lock",
    ]
    assert everything.next_page_token == ""
    assert pages == transfer_ids(everything)
    first = everything.transfers[2]
    assert (first.from_account, first.to_account, first.asset, first.amount, first.kind) == (
        "clients/acme/available",
        "clients/acme/connections/okx-sim/allocated",
        "BTC",
        "2.00000000",
        "ALLOCATION_LOCK",
    )
    assert first.reference == ACME_CONNECTION
    assert first.create_time == to_timestamp(START_MS + HOUR_MS)
    assert [transfer.sequence for transfer in everything.transfers] == sorted(
        transfer.sequence for transfer in everything.transfers
    )
    assert transfer_ids(
        list_transfers(
            custodian, ACME, owner="clients/acme", account=f"{ACME_CONNECTION}/allocated", asset="USDT"
        )
    ) == ["allocations/acme-USDT/lock"]
    assert transfer_ids(
        list_transfers(custodian, ACME, owner="clients/acme", end_time=to_timestamp(START_MS + HOUR_MS))
    ) == ["deposits/acme-btc", "deposits/acme-usdt"]
    assert transfer_ids(
        list_transfers(custodian, ACME, owner="clients/acme", start_time=to_timestamp(START_MS + HOUR_MS))
    ) == ["allocations/acme-BTC/lock", "allocations/acme-USDT/lock"]
    assert transfer_ids(list_transfers(custodian, OKX_PRINCIPAL, owner=OKX)) == [
        "deposits/okx-btc",
        "deposits/okx-usdt",
    ]
    assert len(list_transfers(custodian, BRIDGE, owner="world").transfers) == 5


def test_a_client_lists_only_its_own_journal_and_never_the_worlds(custodian: Custodian) -> None:
    create_world(custodian)
    for principal, owner in (
        (BETA, "clients/acme"),
        (ACME, "world"),
        (OKX_PRINCIPAL, "clients/acme"),
        (ACME, OKX),
    ):
        error = refused(
            lambda principal=principal, owner=owner: list_transfers(custodian, principal, owner=owner)
        )
        assert (error.code, error.reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_RESOURCE_OWNER")
    unknown = refused(lambda: list_transfers(custodian, ADMIN, owner="clients/ghost"))
    assert (unknown.code, unknown.reason) == (grpc.StatusCode.NOT_FOUND, "PARTY_NOT_FOUND")


BAD_JOURNAL_REQUESTS: list[tuple[dict[str, Any], str, str]] = [
    ({"owner": "acme"}, "owner", "RESOURCE_NAME_INVALID"),
    ({"owner": "clients/acme", "page_size": -1}, "page_size", "PAGE_SIZE_INVALID"),
    ({"owner": "clients/acme", "page_size": 1001}, "page_size", "PAGE_SIZE_INVALID"),
    ({"owner": "clients/acme", "page_token": "not-a-token"}, "page_token", "PAGE_TOKEN_INVALID"),
    ({"owner": "clients/acme", "account": "clients/acme/savings"}, "account", "ACCOUNT_INVALID"),
    ({"owner": "clients/acme", "account": "clients/beta/available"}, "account", "ACCOUNT_NOT_OF_OWNER"),
    ({"owner": "clients/acme", "asset": "DOGE"}, "asset", "UNKNOWN_ASSET"),
    (
        {
            "owner": "clients/acme",
            "start_time": to_timestamp(START_MS),
            "end_time": to_timestamp(START_MS - 1),
        },
        "end_time",
        "TIME_RANGE_INVALID",
    ),
    (
        {"owner": "clients/acme", "start_time": Timestamp(seconds=0, nanos=-1)},
        "start_time",
        "TIMESTAMP_INVALID",
    ),
]


@pytest.mark.parametrize(("fields", "field", "reason"), BAD_JOURNAL_REQUESTS)
def test_bad_journal_requests_name_the_field(
    custodian: Custodian, fields: dict[str, Any], field: str, reason: str
) -> None:
    create_world(custodian)

    error = refused(lambda: list_transfers(custodian, ACME, **fields))

    assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
    assert error.field_violations == (field,)


def test_a_page_token_only_works_with_the_filters_it_was_made_for(custodian: Custodian) -> None:
    create_world(custodian)
    token = list_transfers(custodian, ACME, owner="clients/acme", page_size=1).next_page_token
    assert token

    assert transfer_ids(list_transfers(custodian, ACME, owner="clients/acme", page_token=token)) == [
        "deposits/acme-usdt"
    ]
    error = refused(
        lambda: list_transfers(custodian, ACME, owner="clients/acme", asset="BTC", page_token=token)
    )
    assert (error.reason, error.field_violations) == ("PAGE_TOKEN_INVALID", ("page_token",))


def test_proof_of_reserves_balances_for_the_bridge_and_admin_only(custodian: Custodian) -> None:
    create_world(custodian)
    allocate(custodian)

    report = custodian.custody.GetProofOfReserves(
        custodian_pb2.GetProofOfReservesRequest(), metadata=bearer(BRIDGE)
    )

    assert [
        (reserves.asset, reserves.held_on_chain, reserves.owed_total, reserves.difference)
        for reserves in report.reserves
    ] == [
        ("BTC", "61.00000000", "61.00000000", "0.00000000"),
        ("USDT", "1500000.000000", "1500000.000000", "0.000000"),
    ]
    assert [(liability.party, liability.amount) for liability in report.reserves[0].liabilities] == [
        ("clients/acme", "10.00000000"),
        ("clients/beta", "1.00000000"),
        (OKX, "50.00000000"),
    ]
    assert report.report_time == to_timestamp(START_MS)
    for principal in (ACME, OKX_PRINCIPAL):
        error = refused(
            lambda principal=principal: custodian.custody.GetProofOfReserves(
                custodian_pb2.GetProofOfReservesRequest(), metadata=bearer(principal)
            )
        )
        assert (error.code, error.reason) == (grpc.StatusCode.PERMISSION_DENIED, "PRINCIPAL_NOT_ALLOWED")


def test_a_connection_goes_pending_active_closed_and_refuses_illegal_transitions(
    custodian: Custodian,
) -> None:
    create_world(custodian)
    created = connect(custodian, "clients/beta", "connect-beta")
    assert created.state == custodian_pb2.CONNECTION_STATE_PENDING
    lock = lock_request("lock-beta", "beta-1", "BTC", "0.5")
    lock.connection = BETA_CONNECTION

    not_active = refused(lambda: custodian.settlement.LockAllocation(lock, metadata=bearer(BRIDGE)))
    activated = activate(custodian, BETA_CONNECTION, "activate-beta")
    retried = activate(custodian, BETA_CONNECTION, "activate-beta")
    again = activate(custodian, BETA_CONNECTION, "activate-beta-again")
    # The refused allocation id stays REJECTED; the lock after activation takes a new id.
    lock.request_id, lock.allocation_id = "lock-beta-1b", "beta-1b"
    custodian.settlement.LockAllocation(lock, metadata=bearer(BRIDGE))
    has_allocation = refused(lambda: close(custodian, BETA_CONNECTION, "close-beta"))
    custodian.settlement.UnlockAllocation(
        custodian_pb2.UnlockAllocationRequest(
            request_id="unlock-beta",
            connection=BETA_CONNECTION,
            unlock_id="beta-1",
            asset="BTC",
            amount="0.5",
        ),
        metadata=bearer(BRIDGE),
    )
    closed = close(custodian, BETA_CONNECTION, "close-beta")
    closed_again = close(custodian, BETA_CONNECTION, "close-beta-again")
    not_pending = refused(lambda: activate(custodian, BETA_CONNECTION, "reactivate-beta"))
    lock.request_id, lock.allocation_id = "lock-beta-2", "beta-2"
    closed_lock = refused(lambda: custodian.settlement.LockAllocation(lock, metadata=bearer(BRIDGE)))

    assert (not_active.code, not_active.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "CONNECTION_NOT_ACTIVE",
    )
    assert activated.state == custodian_pb2.CONNECTION_STATE_ACTIVE
    assert retried == activated and again == activated
    assert (has_allocation.code, has_allocation.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "CONNECTION_HAS_ALLOCATION",
    )
    assert closed.state == custodian_pb2.CONNECTION_STATE_CLOSED
    assert closed_again == closed
    assert (not_pending.code, not_pending.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "CONNECTION_NOT_PENDING",
    )
    assert closed_lock.reason == "CONNECTION_NOT_ACTIVE"
    assert custodian.balances("clients/beta") == {
        ("clients/beta/available", "BTC"): "1.00000000",
        (f"{BETA_CONNECTION}/allocated", "BTC"): "0.00000000",
    }


def connection_calls(custodian: Custodian, name: str, request_id: str) -> list[Callable[[], Any]]:
    return [
        lambda: activate(custodian, name, request_id),
        lambda: close(custodian, name, request_id),
    ]


@pytest.mark.parametrize(
    ("name", "request_id", "field"),
    [
        ("clients/acme/connections/", "r1", "name"),
        ("clients/acme", "r1", "name"),
        (ACME_CONNECTION, "", "request_id"),
        (ACME_CONNECTION, "bad id", "request_id"),
    ],
)
def test_bad_lifecycle_requests_are_invalid_and_write_nothing(
    custodian: Custodian, name: str, request_id: str, field: str
) -> None:
    create_world(custodian)
    rows_before = custodian.row_counts()

    for call in connection_calls(custodian, name, request_id):
        error = refused(call)
        assert error.code == grpc.StatusCode.INVALID_ARGUMENT
        assert error.field_violations == (field,)

    assert custodian.row_counts() == rows_before


def test_lifecycle_of_an_unknown_connection_is_not_found_and_only_the_bridge_may_drive_it(
    custodian: Custodian,
) -> None:
    create_world(custodian)

    for call in connection_calls(custodian, BETA_CONNECTION, "ghost"):
        error = refused(call)
        assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "CONNECTION_NOT_FOUND")
    for principal in (ACME, OKX_PRINCIPAL):
        error = refused(
            lambda principal=principal: custodian.settlement.CloseConnection(
                custodian_pb2.CloseConnectionRequest(request_id="c", name=ACME_CONNECTION),
                metadata=bearer(principal),
            )
        )
        assert (error.code, error.reason) == (grpc.StatusCode.PERMISSION_DENIED, "PRINCIPAL_NOT_ALLOWED")


def test_connections_are_listed_for_their_client_and_their_exchange(custodian: Custodian) -> None:
    create_world(custodian)
    connect(custodian, "clients/beta", "connect-beta")

    def listed(parent: str, principal: Any) -> list[tuple[str, int]]:
        response = custodian.custody.ListConnections(
            custodian_pb2.ListConnectionsRequest(parent=parent), metadata=bearer(principal)
        )
        return [(connection.name, connection.state) for connection in response.connections]

    assert listed("clients/acme", ACME) == [(ACME_CONNECTION, custodian_pb2.CONNECTION_STATE_ACTIVE)]
    assert listed(OKX, OKX_PRINCIPAL) == [
        (ACME_CONNECTION, custodian_pb2.CONNECTION_STATE_ACTIVE),
        (BETA_CONNECTION, custodian_pb2.CONNECTION_STATE_PENDING),
    ]
    assert listed("clients/beta", BRIDGE) == [(BETA_CONNECTION, custodian_pb2.CONNECTION_STATE_PENDING)]
    for parent, principal in (("clients/acme", BETA), ("clients/acme", OKX_PRINCIPAL), (OKX, ACME)):
        error = refused(lambda parent=parent, principal=principal: listed(parent, principal))
        assert (error.code, error.reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_RESOURCE_OWNER")
    bad = refused(lambda: listed("world", ADMIN))
    assert (bad.code, bad.field_violations) == (grpc.StatusCode.INVALID_ARGUMENT, ("parent",))
    unknown = refused(lambda: listed("clients/ghost", ADMIN))
    assert (unknown.code, unknown.reason) == (grpc.StatusCode.NOT_FOUND, "PARTY_NOT_FOUND")
