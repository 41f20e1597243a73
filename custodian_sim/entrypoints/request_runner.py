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

    def read(self, work: Callable[[UnitOfWork], ResultT]) -> ResultT:
        """Runs a read-only use case on one consistent snapshot."""
        ...
