"""Allocation lifecycle and the exchange default procedure over a real custodian server and SQLite."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest

from oes.custodian.v1 import custodian_pb2
from service_kit.auth import ADMIN, BRIDGE, Principal
from service_kit.statement_messages import message_from_content
from tests.integration.custodian_sim.test_custodian_server import (
    ACME,
    ACME_CONNECTION,
    OKX,
    OKX_PRINCIPAL,
    Custodian,
    allocate,
    create_world,
    custodian,
    lock_request,
    refused,
)
from tests.integration.support import bearer
from tests.unit.custodian_sim.statement_factory import signed, statement_content

__all__ = ["custodian"]

BETA_CONNECTION = "clients/beta/connections/okx-sim"


def allocation_name(allocation_id: str, connection: str = ACME_CONNECTION) -> str:
    return f"{connection}/allocations/{allocation_id}"


def lock(
    custodian: Custodian, request_id: str, allocation_id: str, amount: str, connection: str = ACME_CONNECTION
) -> custodian_pb2.LockAllocationResponse:
    request = lock_request(request_id, allocation_id, "BTC", amount)
    request.connection = connection
    return custodian.settlement.LockAllocation(request, metadata=bearer(BRIDGE))


def get(
    custodian: Custodian, allocation_id: str, connection: str = ACME_CONNECTION
) -> custodian_pb2.Allocation:
    return custodian.settlement.GetAllocation(
        custodian_pb2.GetAllocationRequest(name=allocation_name(allocation_id, connection)),
        metadata=bearer(BRIDGE),
    ).allocation


def clear(custodian: Custodian, request_id: str, allocation_id: str) -> custodian_pb2.Allocation:
    return custodian.settlement.ClearAllocation(
        custodian_pb2.ClearAllocationRequest(
            request_id=request_id, allocation=allocation_name(allocation_id)
        ),
        metadata=bearer(BRIDGE),
    ).allocation


def release(
    custodian: Custodian, request_id: str, allocation_id: str, reason: str = "VENUE_HALTED"
) -> custodian_pb2.ReleaseAllocationResponse:
    return custodian.settlement.ReleaseAllocation(
        custodian_pb2.ReleaseAllocationRequest(
            request_id=request_id, allocation=allocation_name(allocation_id), reason=reason
        ),
        metadata=bearer(BRIDGE),
    )


def release_on_default(
    custodian: Custodian, request_id: str, apply_last_statement: bool = True, principal: Principal = BRIDGE
) -> custodian_pb2.ExchangeDefault:
    return custodian.settlement.ReleaseOnDefault(
        custodian_pb2.ReleaseOnDefaultRequest(
            request_id=request_id, exchange=OKX, apply_last_statement=apply_last_statement
        ),
        metadata=bearer(principal),
    ).exchange_default


def audit_records(custodian: Custodian) -> list[custodian_pb2.AuditRecord]:
    return list(
        custodian.custody.ListAuditRecords(
            custodian_pb2.ListAuditRecordsRequest(page_size=1000), metadata=bearer(ADMIN)
        ).records
    )


def submit_statement(custodian: Custodian, number: int, entries: list[tuple[str, str, str]]) -> None:
    statement = message_from_content(*signed(statement_content(OKX, number, entries)))
    custodian.settlement.SubmitStatement(
        custodian_pb2.SubmitStatementRequest(request_id=f"submit-{number}", statement=statement),
        metadata=bearer(BRIDGE),
    )


def test_an_allocation_is_reserved_then_cleared_or_released(custodian: Custodian) -> None:
    create_world(custodian)

    locked = lock(custodian, "lock-a1", "a1", "2")
    cleared = clear(custodian, "clear-a1", "a1")
    cleared_again = clear(custodian, "clear-a1-again", "a1")
    release_cleared = refused(lambda: release(custodian, "release-a1", "a1"))
    lock(custodian, "lock-a2", "a2", "1")
    released = release(custodian, "release-a2", "a2")
    released_again = release(custodian, "release-a2-again", "a2", "OTHER_REASON")
    clear_released = refused(lambda: clear(custodian, "clear-a2", "a2"))

    assert locked.transfer_id == "allocations/a1/lock"
    assert locked.allocated_amount == "2.00000000"
    assert (locked.allocation.name, locked.allocation.connection, locked.allocation.amount) == (
        allocation_name("a1"),
        ACME_CONNECTION,
        "2.00000000",
    )
    assert (locked.allocation.state, locked.allocation.reason) == (
        custodian_pb2.ALLOCATION_STATE_RESERVED,
        "",
    )
    assert cleared.state == custodian_pb2.ALLOCATION_STATE_CLEARED
    assert cleared_again == cleared == get(custodian, "a1")
    assert (release_cleared.code, release_cleared.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "ALLOCATION_CLEARED",
    )
    assert (released.allocation.state, released.allocation.reason) == (
        custodian_pb2.ALLOCATION_STATE_RELEASED,
        "VENUE_HALTED",
    )
    assert released.allocated_amount == "2.00000000"
    assert released_again.allocation == released.allocation
    assert (clear_released.code, clear_released.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "ALLOCATION_RELEASED",
    )
    assert custodian.balances("clients/acme")[("clients/acme/available", "BTC")] == "8.00000000"
    changes = [
        (r.before, r.after, r.method) for r in audit_records(custodian) if r.resource == allocation_name("a2")
    ]
    assert changes == [
        ("", "RESERVED", "LockAllocation"),
        ("RESERVED", "RELEASED: VENUE_HALTED", "ReleaseAllocation"),
    ]


@pytest.mark.parametrize("reason", ["INSUFFICIENT_BALANCE", "CONNECTION_NOT_ACTIVE", "SETTLEMENT_IN_FLIGHT"])
def test_a_refused_lock_is_recorded_rejected_with_its_reason_and_moves_nothing(
    custodian: Custodian, reason: str
) -> None:
    create_world(custodian)
    allocate(custodian)
    connection, amount = ACME_CONNECTION, "1"
    if reason == "INSUFFICIENT_BALANCE":
        amount = "8.00000001"
    elif reason == "CONNECTION_NOT_ACTIVE":
        connection = BETA_CONNECTION
        custodian.settlement.CreateConnection(
            custodian_pb2.CreateConnectionRequest(
                request_id="connect-beta", client="clients/beta", exchange=OKX
            ),
            metadata=bearer(BRIDGE),
        )
    else:
        submit_statement(custodian, 1, [(ACME_CONNECTION, "BTC", "-0.50000000")])
    transfers_before = custodian.row_counts()["transfers"]
    balances_before = custodian.balances("clients/acme"), custodian.balances("clients/beta")

    error = refused(lambda: lock(custodian, "lock-x", "x1", amount, connection))
    retried = refused(lambda: lock(custodian, "lock-x", "x1", amount, connection))

    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, reason)
    assert (retried.code, retried.reason) == (error.code, error.reason)
    rejected = get(custodian, "x1", connection)
    assert (rejected.state, rejected.reason, rejected.amount) == (
        custodian_pb2.ALLOCATION_STATE_REJECTED,
        reason,
        f"{amount}.00000000" if amount == "1" else amount,
    )
    records = [record for record in audit_records(custodian) if record.resource == rejected.name]
    assert [(r.before, r.after, r.principal, r.method, r.request_id) for r in records] == [
        ("", f"REJECTED: {reason}", "bridge", "LockAllocation", "lock-x")
    ]
    assert custodian.row_counts()["transfers"] == transfers_before
    assert (custodian.balances("clients/acme"), custodian.balances("clients/beta")) == balances_before


def test_release_on_default_returns_every_allocation_and_freezes_the_settlement_account(
    custodian: Custodian,
) -> None:
    create_world(custodian)
    allocate(custodian)
    lock(custodian, "lock-a3", "a3", "1")
    submit_statement(custodian, 1, [(ACME_CONNECTION, "BTC", "-0.50000000")])

    first = release_on_default(custodian, "default-1")
    retried = release_on_default(custodian, "default-1")
    rows = custodian.row_counts()
    balances = custodian.balances("clients/acme"), custodian.balances(OKX)
    again = release_on_default(custodian, "default-2", apply_last_statement=False, principal=ADMIN)

    assert (first.exchange, first.last_statement, first.last_statement_applied) == (
        OKX,
        f"{OKX}/statements/1",
        True,
    )
    assert first.last_statement_state == custodian_pb2.STATEMENT_STATE_SUCCEEDED
    assert list(first.connections) == [ACME_CONNECTION]
    assert [(c.party, c.asset, c.amount, c.kind, c.account) for c in first.claims] == [
        (
            "clients/acme",
            "BTC",
            "2.50000000",
            custodian_pb2.DEFAULT_CLAIM_KIND_RELEASED_ALLOCATION,
            "clients/acme/available",
        ),
        (
            "clients/acme",
            "USDT",
            "100000.000000",
            custodian_pb2.DEFAULT_CLAIM_KIND_RELEASED_ALLOCATION,
            "clients/acme/available",
        ),
        (OKX, "BTC", "50.50000000", custodian_pb2.DEFAULT_CLAIM_KIND_FROZEN_SETTLEMENT, f"{OKX}/settlement"),
        (
            OKX,
            "USDT",
            "1000000.000000",
            custodian_pb2.DEFAULT_CLAIM_KIND_FROZEN_SETTLEMENT,
            f"{OKX}/settlement",
        ),
    ]
    assert list(first.frozen_accounts) == [f"{ACME_CONNECTION}/allocated", f"{OKX}/settlement"]
    assert list(first.transfer_ids) == [
        "defaults/okx-sim/releases/acme/BTC",
        "defaults/okx-sim/releases/acme/USDT",
    ]
    assert retried == first and again == first
    # The second call moved nothing: only the request log grew.
    rows_now = custodian.row_counts()
    assert rows_now.pop("request_log") == rows.pop("request_log") + 1
    assert rows_now == rows
    assert (custodian.balances("clients/acme"), custodian.balances(OKX)) == balances
    assert balances[0] == {
        ("clients/acme/available", "BTC"): "9.50000000",
        ("clients/acme/available", "USDT"): "500000.000000",
        (f"{ACME_CONNECTION}/allocated", "BTC"): "0.00000000",
        (f"{ACME_CONNECTION}/allocated", "USDT"): "0.000000",
    }
    connections = custodian.custody.ListConnections(
        custodian_pb2.ListConnectionsRequest(parent=OKX), metadata=bearer(OKX_PRINCIPAL)
    ).connections
    assert [connection.state for connection in connections] == [custodian_pb2.CONNECTION_STATE_DEFAULTED]
    for allocation_id in ("a3", "acme-BTC", "acme-USDT"):
        returned = get(custodian, allocation_id)
        assert (returned.state, returned.reason) == (
            custodian_pb2.ALLOCATION_STATE_RELEASED,
            "EXCHANGE_DEFAULTED",
        )


def test_a_frozen_settlement_account_refuses_every_later_move(custodian: Custodian) -> None:
    create_world(custodian)
    allocate(custodian)
    release_on_default(custodian, "default-1", apply_last_statement=False)
    transfers_before = custodian.row_counts()["transfers"]

    deposit = refused(
        lambda: custodian.admin.SimulateDeposit(
            custodian_pb2.SimulateDepositRequest(request_id="okx-late", owner=OKX, asset="BTC", amount="1"),
            metadata=bearer(ADMIN),
        )
    )
    locked = refused(lambda: lock(custodian, "lock-late", "late", "1"))
    statement = refused(lambda: submit_statement(custodian, 1, []))
    connection = refused(
        lambda: custodian.settlement.CreateConnection(
            custodian_pb2.CreateConnectionRequest(
                request_id="connect-beta", client="clients/beta", exchange=OKX
            ),
            metadata=bearer(BRIDGE),
        )
    )

    for error in (deposit, locked, statement):
        assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ACCOUNT_FROZEN")
    assert (connection.code, connection.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "EXCHANGE_DEFAULTED")
    assert get(custodian, "late").state == custodian_pb2.ALLOCATION_STATE_REJECTED
    assert custodian.row_counts()["transfers"] == transfers_before


def bad_calls(custodian: Custodian) -> list[tuple[Callable[[], Any], str]]:
    settlement, metadata = custodian.settlement, bearer(BRIDGE)
    return [
        (
            lambda: settlement.ClearAllocation(
                custodian_pb2.ClearAllocationRequest(request_id="r1", allocation=ACME_CONNECTION),
                metadata=metadata,
            ),
            "allocation",
        ),
        (
            lambda: settlement.ReleaseAllocation(
                custodian_pb2.ReleaseAllocationRequest(
                    request_id="r1", allocation=allocation_name("acme-BTC"), reason="not a code"
                ),
                metadata=metadata,
            ),
            "reason",
        ),
        (
            lambda: settlement.ReleaseAllocation(
                custodian_pb2.ReleaseAllocationRequest(
                    request_id="", allocation=allocation_name("acme-BTC"), reason="X"
                ),
                metadata=metadata,
            ),
            "request_id",
        ),
        (
            lambda: settlement.GetAllocation(
                custodian_pb2.GetAllocationRequest(name="allocations/1"), metadata=metadata
            ),
            "name",
        ),
        (
            lambda: settlement.ReleaseOnDefault(
                custodian_pb2.ReleaseOnDefaultRequest(request_id="r1", exchange="clients/acme"),
                metadata=metadata,
            ),
            "exchange",
        ),
    ]


def test_bad_requests_are_invalid_arguments_naming_the_field_and_write_nothing(custodian: Custodian) -> None:
    create_world(custodian)
    allocate(custodian)
    rows_before = custodian.row_counts()

    for call, field in bad_calls(custodian):
        error = refused(call)
        assert (error.code, error.field_violations) == (grpc.StatusCode.INVALID_ARGUMENT, (field,))

    assert custodian.row_counts() == rows_before


def test_unknown_allocations_and_exchanges_are_not_found_and_only_the_bridge_and_admin_call(
    custodian: Custodian,
) -> None:
    create_world(custodian)
    allocate(custodian)

    missing = refused(lambda: get(custodian, "nope"))
    other_connection = refused(lambda: get(custodian, "acme-BTC", BETA_CONNECTION))
    ghost = refused(
        lambda: custodian.settlement.ReleaseOnDefault(
            custodian_pb2.ReleaseOnDefaultRequest(request_id="r1", exchange="exchanges/ghost"),
            metadata=bearer(BRIDGE),
        )
    )
    client_default = refused(lambda: release_on_default(custodian, "r2", principal=ACME))
    exchange_default = refused(lambda: release_on_default(custodian, "r3", principal=OKX_PRINCIPAL))
    client_get = refused(
        lambda: custodian.settlement.GetAllocation(
            custodian_pb2.GetAllocationRequest(name=allocation_name("acme-BTC")), metadata=bearer(ACME)
        )
    )

    assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "ALLOCATION_NOT_FOUND")
    assert (other_connection.code, other_connection.reason) == (
        grpc.StatusCode.NOT_FOUND,
        "ALLOCATION_NOT_FOUND",
    )
    assert (ghost.code, ghost.reason) == (grpc.StatusCode.NOT_FOUND, "PARTY_NOT_FOUND")
    for denied in (client_default, exchange_default, client_get):
        assert denied.code == grpc.StatusCode.PERMISSION_DENIED
    assert get(custodian, "acme-BTC").state == custodian_pb2.ALLOCATION_STATE_RESERVED
