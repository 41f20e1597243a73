"""The port the servicers run use cases through: idempotent mutations and snapshot reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from custodian_sim.service_layer.unit_of_work import UnitOfWork
from service_kit.idempotency import HasRequestId, ResponseT

ResultT = TypeVar("ResultT")


class RequestRunner(Protocol):
    """Opens the unit of work a use case runs in."""

    def run_request(
        self,
        method: str,
        request: HasRequestId,
        response_type: type[ResponseT],
        work: Callable[[UnitOfWork], ResponseT],
    ) -> ResponseT:
        """Runs a mutation once per request_id; a retry gets the stored first response."""
        ...

    def write(self, work: Callable[[UnitOfWork], ResultT]) -> ResultT:
        """Runs a use case in its own write transaction, outside the request log."""
        ...

    def read(self, work: Callable[[UnitOfWork], ResultT]) -> ResultT:
        """Runs a read-only use case on one consistent snapshot."""
        ...

    def audit_generation(self) -> int:
        """A number that changes after every commit that appended audit records."""
        ...

    def wait_for_audit_commit(self, seen_generation: int, timeout_s: float) -> bool:
        """Waits until the generation moves past `seen_generation`, or the timeout; returns whether it did."""
        ...
