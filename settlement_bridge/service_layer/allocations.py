"""The allocation workflow: lock at the custodian, reserve and clear at the exchange, or compensate.

The allocation is persisted PENDING before the first venue call, and every step's outcome is
committed before the next call, so a restart resumes from the last durable step. The venues
recognise a repeated call by its request_id and the allocation's id, so resuming a step whose
reply was lost never locks or credits twice.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from service_kit.clock import Clock
from service_kit.errors import ErrorCode, ServiceError, not_found
from settlement_bridge.domain.names import ConnectionName
from settlement_bridge.domain.transfers import Allocation, AllocationStep, TransferState
from settlement_bridge.service_layer.connections import connection_not_found
from settlement_bridge.service_layer.locks import StripedLocks
from settlement_bridge.service_layer.ports import VenueRefusedError, VenueUnavailableError, unavailable_error
from settlement_bridge.service_layer.unit_of_work import RequestReceipt, UnitOfWork
from settlement_bridge.service_layer.venues import Venues

log = structlog.get_logger(__name__)

AllocationReceipt = Callable[[Allocation], RequestReceipt]

# Lock, reserve, clear, or lock, reserve, release, unlock: never more steps than this.
ALLOCATION_STEPS_MAX = 6


def workflow_blocked(resource: str, refusal: VenueRefusedError) -> ServiceError:
    """A venue refused a step that cannot be compensated; the workflow waits for an operator."""
    log.error("workflow_blocked", resource=resource, venue=refusal.venue, reason=refusal.reason)
    return ServiceError(
        ErrorCode.INTERNAL,
        "WORKFLOW_BLOCKED",
        f"{resource} stays pending: {refusal.venue} refused a step that cannot be undone "
        f"({refusal.reason}: {refusal.message})",
        metadata={"resource": resource, "venue": refusal.venue, "venue_reason": refusal.reason},
    )


class AllocationWorkflow:
    """Creates, drives and resumes allocations."""

    def __init__(self, unit_of_work: UnitOfWork, venues: Venues, clock: Clock, locks: StripedLocks) -> None:
        self._unit_of_work = unit_of_work
        self._venues = venues
        self._clock = clock
        self._locks = locks

    def create(
        self,
        connection: ConnectionName,
        asset: str,
        amount_units: int,
        receipt: AllocationReceipt | None = None,
    ) -> Allocation:
        """Accepts an allocation on an existing connection and runs its workflow to the end."""
        self._venues.exchange(connection.exchange_id)
        with self._unit_of_work.transaction() as transaction:
            if transaction.connections.get(connection) is None:
                raise connection_not_found(connection)
            allocation = Allocation(
                number=transaction.allocations.next_number(),
                connection=connection,
                asset=asset,
                amount_units=amount_units,
                create_time_ms=self._clock.now_ms(),
            )
            transaction.allocations.add(allocation)
            if receipt is not None:
                transaction.record_request(receipt(allocation))
        log.info("allocation_accepted", allocation=allocation.name, asset=asset, amount_units=amount_units)
        return self.drive(allocation.number)

    def get(self, connection: ConnectionName, number: int) -> Allocation:
        """Returns an allocation of a connection, or NOT_FOUND ALLOCATION_NOT_FOUND."""
        with self._unit_of_work.transaction() as transaction:
            allocation = transaction.allocations.get(number)
        if allocation is None or allocation.connection != connection:
            raise not_found(
                "ALLOCATION_NOT_FOUND",
                f"no allocation {connection.name}/allocations/{number}",
                allocation=f"{connection.name}/allocations/{number}",
            )
        return allocation

    def drive(self, number: int) -> Allocation:
        """Runs the allocation's workflow from its last durable step until it ends.

        Raises UNAVAILABLE when a venue cannot be reached; the allocation then stays PENDING at
        the step that could not be taken and resumes on the next drive.
        """
        with self._locks.for_name(f"allocations/{number}"):
            with self._unit_of_work.transaction() as transaction:
                allocation = transaction.allocations.get(number)
            assert allocation is not None, f"allocation {number} was accepted before it is driven"
            for _ in range(ALLOCATION_STEPS_MAX):
                if allocation.state is not TransferState.PENDING:
                    return allocation
                try:
                    self._take_step(allocation)
                except VenueUnavailableError as failure:
                    raise unavailable_error(failure, allocation.name) from failure
                with self._unit_of_work.transaction() as transaction:
                    transaction.allocations.save(allocation)
            assert allocation.state is not TransferState.PENDING, f"{allocation.name} took too many steps"
            return allocation

    def resume_pending(self) -> int:
        """Drives every unfinished allocation (after a restart); returns how many ended."""
        with self._unit_of_work.transaction() as transaction:
            pending = transaction.allocations.list_pending()
        ended_count = 0
        for allocation in pending:
            try:
                ended = self.drive(allocation.number)
            except ServiceError as error:
                log.warning("allocation_not_resumed", allocation=allocation.name, reason=error.reason)
                if error.code is ErrorCode.UNAVAILABLE:
                    break
                continue
            ended_count += ended.state is not TransferState.PENDING
        return ended_count

    def _take_step(self, allocation: Allocation) -> None:
        custodian = self._venues.custodian
        exchange = self._venues.exchange(allocation.connection.exchange_id)
        connection = allocation.connection.name
        step = allocation.step
        request_id = allocation.request_id(step)
        if step is AllocationStep.LOCK:
            try:
                custodian.lock_allocation(
                    request_id,
                    connection,
                    allocation.allocation_id,
                    allocation.asset,
                    allocation.amount_units,
                )
            except VenueRefusedError as refusal:
                allocation.lock_refused(refusal.reason, self._clock.now_ms())
            else:
                allocation.lock_succeeded()
        elif step is AllocationStep.RESERVE:
            try:
                exchange.reserve_allocation(
                    request_id,
                    connection,
                    allocation.allocation_id,
                    allocation.asset,
                    allocation.amount_units,
                )
            except VenueRefusedError as refusal:
                allocation.start_compensation(refusal.reason)
            else:
                allocation.reserve_succeeded()
        elif step is AllocationStep.CLEAR:
            try:
                exchange.clear_allocation(request_id, allocation.allocation_id)
            except VenueRefusedError as refusal:
                allocation.start_compensation(refusal.reason)
            else:
                allocation.clear_succeeded(self._clock.now_ms())
        elif step is AllocationStep.RELEASE:
            try:
                exchange.release_allocation(request_id, allocation.allocation_id)
            except VenueRefusedError as refusal:
                raise workflow_blocked(allocation.name, refusal) from refusal
            allocation.release_succeeded()
        elif step is AllocationStep.UNLOCK:
            try:
                custodian.unlock_allocation(
                    request_id, connection, allocation.unlock_id, allocation.asset, allocation.amount_units
                )
            except VenueRefusedError as refusal:
                raise workflow_blocked(allocation.name, refusal) from refusal
            allocation.unlock_succeeded(self._clock.now_ms())
        else:
            raise AssertionError(f"{allocation.name} has no step to take at {step.value}")
        log.info(
            "allocation_step",
            allocation=allocation.name,
            step=step.value,
            next_step=allocation.step.value,
            state=allocation.state.value,
            reason=allocation.reason,
        )
