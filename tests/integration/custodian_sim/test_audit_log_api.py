"""The audit log over a real server: listed and streamed per owner; refused statements leave a record."""

from __future__ import annotations

import time
from typing import Any

import grpc
import pytest

from custodian_sim.entrypoints.servicers import AUDIT_STREAMS_MAX
from oes.custodian.v1 import custodian_pb2
from service_kit.auth import ADMIN, BRIDGE
from service_kit.statement_messages import message_from_content
from tests.integration.custodian_sim.test_custodian_server import (
    ACME,
    ACME_CONNECTION,
    BETA,
    BUY_ONE_BTC,
    OKX,
    OKX_PRINCIPAL,
    Custodian,
    allocate,
    create_world,
    custodian,
    refused,
)
from tests.integration.support import bearer
from tests.unit.custodian_sim.statement_factory import exchange_private_key, signed, statement_content

__all__ = ["custodian"]

# A stream that does not answer within this is broken; the test fails instead of hanging.
STREAM_DEADLINE_S = 20


def audit_records(
    custodian: Custodian, principal: Any = ADMIN, after_sequence: int = 0, page_size: int = 1000
) -> list[custodian_pb2.AuditRecord]:
    response = custodian.custody.ListAuditRecords(
        custodian_pb2.ListAuditRecordsRequest(after_sequence=after_sequence, page_size=page_size),
        metadata=bearer(principal),
    )
    return list(response.records)


def changes(records: list[custodian_pb2.AuditRecord]) -> list[tuple[str, str, str]]:
    return [(record.resource, record.before, record.after) for record in records]


def deposit(custodian: Custodian, request_id: str, owner: str, amount: str = "1") -> None:
    custodian.admin.SimulateDeposit(
        custodian_pb2.SimulateDepositRequest(request_id=request_id, owner=owner, asset="BTC", amount=amount),
        metadata=bearer(ADMIN),
    )


def test_records_say_who_changed_what_and_each_party_sees_its_own(custodian: Custodian) -> None:
    create_world(custodian)
    allocate(custodian)

    everything = audit_records(custodian)
    acme = audit_records(custodian, ACME)
    okx = audit_records(custodian, OKX_PRINCIPAL)
    beta = audit_records(custodian, BETA)

    assert [record.sequence for record in everything] == list(range(1, len(everything) + 1))
    activation = next(record for record in everything if record.after == "ACTIVE")
    assert (activation.principal, activation.method, activation.request_id, activation.owner) == (
        "bridge",
        "ActivateConnection",
        "activate-acme",
        "clients/acme",
    )
    assert (activation.resource, activation.before) == (ACME_CONNECTION, "PENDING")
    lock = next(record for record in everything if record.resource == "allocations/acme-BTC/lock")
    assert (lock.principal, lock.method, lock.request_id) == ("bridge", "LockAllocation", "lock-BTC")
    assert {record.owner for record in acme} == {"clients/acme"}
    assert [record.sequence for record in acme] == [
        r.sequence for r in everything if r.owner == "clients/acme"
    ]
    assert {record.owner for record in okx} == {OKX}
    assert changes(beta) == [
        ("clients/beta", "", "REGISTERED"),
        ("deposits/beta-btc", "", "DEPOSIT 1.00000000 BTC world/chain -> clients/beta/available"),
    ]
    assert audit_records(custodian, after_sequence=3, page_size=2) == everything[3:5]
    assert len(audit_records(custodian, page_size=0)) == len(everything)


@pytest.mark.parametrize(
    ("after_sequence", "page_size", "field"),
    [(-1, 0, "after_sequence"), (0, -1, "page_size"), (0, 1001, "page_size")],
)
def test_bad_audit_requests_name_the_field(
    custodian: Custodian, after_sequence: int, page_size: int, field: str
) -> None:
    error = refused(lambda: audit_records(custodian, ACME, after_sequence, page_size))
    assert (error.code, error.field_violations) == (grpc.StatusCode.INVALID_ARGUMENT, (field,))


def test_the_stream_sends_stored_records_then_new_ones_as_they_commit(custodian: Custodian) -> None:
    create_world(custodian)
    stored = audit_records(custodian)
    everyone = custodian.custody.StreamAuditLog(
        custodian_pb2.StreamAuditLogRequest(after_sequence=2),
        metadata=bearer(ADMIN),
        timeout=STREAM_DEADLINE_S,
    )
    beta_only = custodian.custody.StreamAuditLog(
        custodian_pb2.StreamAuditLogRequest(), metadata=bearer(BETA), timeout=STREAM_DEADLINE_S
    )
    try:
        replayed = [next(everyone).record for _ in stored[2:]]
        assert replayed == stored[2:]
        beta_stored = [next(beta_only).record for _ in range(2)]
        assert [record.resource for record in beta_stored] == ["clients/beta", "deposits/beta-btc"]

        # The streams have caught up; new commits reach them without a new call.
        deposit(custodian, "acme-more", "clients/acme")
        deposit(custodian, "beta-more", "clients/beta")
        new = [next(everyone).record for _ in range(2)]
        beta_new = next(beta_only).record

        assert [record.resource for record in new] == ["deposits/acme-more", "deposits/beta-more"]
        assert [record.sequence for record in new] == [len(stored) + 1, len(stored) + 2]
        assert (new[0].principal, new[0].method, new[0].request_id) == (
            "admin",
            "SimulateDeposit",
            "acme-more",
        )
        assert beta_new == new[1]
    finally:
        everyone.cancel()
        beta_only.cancel()
    with pytest.raises(grpc.RpcError) as cancelled:
        next(everyone)
    assert cancelled.value.code() == grpc.StatusCode.CANCELLED
    # The server goes on serving after the streams were cancelled.
    assert len(audit_records(custodian)) == len(stored) + 2


def test_open_streams_are_bounded_so_other_calls_keep_their_workers(custodian: Custodian) -> None:
    create_world(custodian)

    def open_stream() -> Any:
        return custodian.custody.StreamAuditLog(
            custodian_pb2.StreamAuditLogRequest(), metadata=bearer(ADMIN), timeout=STREAM_DEADLINE_S
        )

    streams = [open_stream() for _ in range(AUDIT_STREAMS_MAX)]
    try:
        # Reading a record proves each stream is being served.
        assert {next(stream).record.sequence for stream in streams} == {1}
        extra = open_stream()
        error = refused(lambda: next(extra))
        assert (error.code, error.reason) == (grpc.StatusCode.UNAVAILABLE, "AUDIT_STREAMS_EXHAUSTED")
        assert audit_records(custodian, page_size=1)[0].sequence == 1

        streams.pop().cancel()
        # The cancelled stream frees its place once the server notices, within a wait round.
        for _ in range(100):
            reopened = open_stream()
            try:
                streams.append(reopened)
                assert next(reopened).record.sequence == 1
                break
            except grpc.RpcError as failure:
                streams.pop()
                assert failure.code() == grpc.StatusCode.UNAVAILABLE
                time.sleep(0.05)
        assert len(streams) == AUDIT_STREAMS_MAX
    finally:
        for stream in streams:
            stream.cancel()


def test_a_bad_stream_request_is_refused_before_anything_is_sent(custodian: Custodian) -> None:
    stream = custodian.custody.StreamAuditLog(
        custodian_pb2.StreamAuditLogRequest(after_sequence=-5),
        metadata=bearer(ACME),
        timeout=STREAM_DEADLINE_S,
    )
    error = refused(lambda: next(stream))
    assert (error.code, error.field_violations) == (grpc.StatusCode.INVALID_ARGUMENT, ("after_sequence",))


def submit(custodian: Custodian, request_id: str, statement: Any) -> custodian_pb2.SubmitStatementResponse:
    return custodian.settlement.SubmitStatement(
        custodian_pb2.SubmitStatementRequest(request_id=request_id, statement=statement),
        metadata=bearer(BRIDGE),
    )


def test_forged_replayed_and_changed_statements_are_refused_leave_no_transfer_and_an_audit_record(
    custodian: Custodian,
) -> None:
    create_world(custodian)
    allocate(custodian)
    first_content = statement_content(OKX, 1, BUY_ONE_BTC)
    first = message_from_content(*signed(first_content))
    submit(custodian, "submit-1", first)
    custodian.settlement.ExecuteStatement(
        custodian_pb2.ExecuteStatementRequest(request_id="execute-1", statement=first.name),
        metadata=bearer(BRIDGE),
    )
    second_content = statement_content(OKX, 2, [(ACME_CONNECTION, "BTC", "-1.00000000")])
    attacks = [
        (
            "forged",
            message_from_content(*signed(second_content, exchange_private_key(OKX, seed=66))),
            grpc.StatusCode.INVALID_ARGUMENT,
            "STATEMENT_SIGNATURE_INVALID",
            "",
        ),
        (
            "replayed-nonce",
            message_from_content(
                *signed(
                    statement_content(OKX, 2, [(ACME_CONNECTION, "BTC", "-1")], nonce=first_content.nonce)
                )
            ),
            grpc.StatusCode.ALREADY_EXISTS,
            "NONCE_REUSED",
            "",
        ),
        (
            "changed",
            message_from_content(
                *signed(statement_content(OKX, 1, [(ACME_CONNECTION, "BTC", "-2.00000000")]))
            ),
            grpc.StatusCode.ALREADY_EXISTS,
            "STATEMENT_CONFLICT",
            "SUCCEEDED",
        ),
    ]

    for request_id, statement, code, reason, before in attacks:
        rows_before = custodian.row_counts()
        last_sequence = audit_records(custodian)[-1].sequence

        error = refused(
            lambda request_id=request_id, statement=statement: submit(custodian, request_id, statement)
        )

        assert (error.code, error.reason) == (code, reason), request_id
        rows_after = custodian.row_counts()
        assert rows_after.pop("audit_records") == rows_before.pop("audit_records") + 1
        # No transfer, no balance, no statement and no stored response: only the audit record.
        assert rows_after == rows_before
        (record,) = audit_records(custodian, after_sequence=last_sequence)
        assert (record.resource, record.before, record.after, record.owner) == (
            statement.name,
            before,
            f"REFUSED: {reason}",
            OKX,
        )
        assert (record.principal, record.method, record.request_id) == (
            "bridge",
            "SubmitStatement",
            request_id,
        )
        # The exchange sees the refusals of its statements; the client does not.
        assert record in audit_records(custodian, OKX_PRINCIPAL)
        assert record not in audit_records(custodian, ACME)
    assert custodian.balances("clients/acme")[(f"{ACME_CONNECTION}/allocated", "BTC")] == "3.00000000"
