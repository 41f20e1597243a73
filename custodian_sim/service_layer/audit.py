"""Appending audit records for the use cases, inside their own unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from custodian_sim.domain.audit import UNASSIGNED_SEQUENCE, AuditRecord
from custodian_sim.service_layer.unit_of_work import UnitOfWork
from service_kit.call_context import current_call
from service_kit.errors import ErrorCode, ServiceError

ResultT = TypeVar("ResultT")

# Refusals worth an audit record: the request named something that exists but the custodian
# refused it (a forged signature, a reused nonce, changed content, an illegal state). A
# NOT_FOUND names nothing to audit.
AUDITED_REFUSAL_CODES = frozenset(
    {ErrorCode.FAILED_PRECONDITION, ErrorCode.ALREADY_EXISTS, ErrorCode.INVALID_ARGUMENT}
)


def record_change(uow: UnitOfWork, now_ms: int, resource: str, before: str, after: str, owner: str) -> None:
    """Appends one audit record in the caller's unit of work, so it commits with the change.

    The principal, method and request_id come from the call being served (the interceptor
    sets them); outside any RPC, for timers, they say `system`.
    """
    record_changes(uow, now_ms, [(resource, before, after, owner)])


def record_changes(uow: UnitOfWork, now_ms: int, changes: Iterable[tuple[str, str, str, str]]) -> None:
    """Appends one audit record per (resource, before, after, owner), in order, as record_change does."""
    call = current_call()
    principal, request_id, method = call.principal, call.request_id, call.method
    append = uow.audit.append
    for resource, before, after, owner in changes:
        # Positional, in AuditRecord's field order: an execution appends one record per entry.
        record = AuditRecord(
            UNASSIGNED_SEQUENCE, now_ms, principal, request_id, method, resource, before, after, owner
        )
        append(record)


def run_recording_refusal(
    run: Callable[[Callable[[UnitOfWork], ResultT]], ResultT],
    write: Callable[[Callable[[UnitOfWork], None]], None],
    work: Callable[[UnitOfWork], ResultT],
    record_refusal: Callable[[UnitOfWork, ServiceError], None],
) -> ResultT:
    """Runs `work` through `run`; when the work refuses, records the refusal and re-raises.

    The refused unit of work rolls back whole (no transfer, no stored response), so the
    refusal's audit record is written by `write` in a short transaction of its own. Errors
    raised outside `work` (a reused request_id) are not refusals of the work and are not
    recorded.
    """
    refusals: list[ServiceError] = []

    def watched(uow: UnitOfWork) -> ResultT:
        try:
            return work(uow)
        except ServiceError as error:
            if error.code in AUDITED_REFUSAL_CODES:
                refusals.append(error)
            raise

    try:
        return run(watched)
    except ServiceError as error:
        if refusals and refusals[-1] is error:
            refusal = error

            def record(uow: UnitOfWork) -> None:
                record_refusal(uow, refusal)

            write(record)
        raise
