"""The deallocation workflow: hold at the exchange, unlock at the custodian, clear at the exchange.

The exchange holds the credit first so that it cannot be traded away while the custodian
unlocks it; a refused unlock releases the hold. As with allocations, every step's outcome is
committed before the next venue call and every call is idempotent.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from service_kit.clock import Clock
from service_kit.errors import ErrorCode, ServiceError, not_found
from settlement_bridge.domain.names import ConnectionName
from settlement_bridge.domain.transfers import Deallocation, DeallocationStep, TransferState
from settlement_bridge.service_layer.allocations import workflow_blocked
from settlement_bridge.service_layer.connections import connection_not_found
from settlement_bridge.service_layer.locks import StripedLocks
from settlement_bridge.service_layer.ports import VenueRefusedError, VenueUnavailableError, unavailable_error
from settlement_bridge.service_layer.unit_of_work import RequestReceipt, UnitOfWork
from settlement_bridge.service_layer.venues import Venues

log = structlog.get_logger(__name__)

DeallocationReceipt = Callable[[Deallocation], RequestReceipt]

# Hold, unlock, clear, or hold, unlock (refused), release: never more steps than this.
DEALLOCATION_STEPS_MAX = 5


class DeallocationWorkflow:
    """Creates, drives and resumes deallocations."""

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
        receipt: DeallocationReceipt | None = None,
    ) -> Deallocation:
        """Accepts a deallocation on an existing connection and runs its workflow to the end."""
        self._venues.exchange(connection.exchange_id)
        with self._unit_of_work.transaction() as transaction:
            if transaction.connections.get(connection) is None:
                raise connection_not_found(connection)
            deallocation = Deallocation(
                number=transaction.deallocations.next_number(),
                connection=connection,
                asset=asset,
                amount_units=amount_units,
                create_time_ms=self._clock.now_ms(),
            )
            transaction.deallocations.add(deallocation)
            if receipt is not None:
                transaction.record_request(receipt(deallocation))
        log.info(
            "deallocation_accepted", deallocation=deallocation.name, asset=asset, amount_units=amount_units
        )
        return self.drive(deallocation.number)

    def get(self, connection: ConnectionName, number: int) -> Deallocation:
        """Returns a deallocation of a connection, or NOT_FOUND DEALLOCATION_NOT_FOUND."""
        with self._unit_of_work.transaction() as transaction:
            deallocation = transaction.deallocations.get(number)
        if deallocation is None or deallocation.connection != connection:
            raise not_found(
                "DEALLOCATION_NOT_FOUND",
                f"no deallocation {connection.name}/deallocations/{number}",
                deallocation=f"{connection.name}/deallocations/{number}",
            )
        return deallocation

    def drive(self, number: int) -> Deallocation:
        """Runs the deallocation's workflow from its last durable step until it ends.

        Raises UNAVAILABLE when a venue cannot be reached; the deallocation then stays PENDING
        at the step that could not be taken and resumes on the next drive.
        """
        with self._locks.for_name(f"deallocations/{number}"):
            with self._unit_of_work.transaction() as transaction:
                deallocation = transaction.deallocations.get(number)
            assert deallocation is not None, f"deallocation {number} was accepted before it is driven"
            for _ in range(DEALLOCATION_STEPS_MAX):
                if deallocation.state is not TransferState.PENDING:
                    return deallocation
                try:
                    self._take_step(deallocation)
                except VenueUnavailableError as failure:
                    raise unavailable_error(failure, deallocation.name) from failure
                with self._unit_of_work.transaction() as transaction:
                    transaction.deallocations.save(deallocation)
            assert deallocation.state is not TransferState.PENDING, f"{deallocation.name} took too many steps"
            return deallocation

    def resume_pending(self) -> int:
        """Drives every unfinished deallocation (after a restart); returns how many ended."""
        with self._unit_of_work.transaction() as transaction:
            pending = transaction.deallocations.list_pending()
        ended_count = 0
        for deallocation in pending:
            try:
                ended = self.drive(deallocation.number)
            except ServiceError as error:
                log.warning("deallocation_not_resumed", deallocation=deallocation.name, reason=error.reason)
                if error.code is ErrorCode.UNAVAILABLE:
                    break
                continue
            ended_count += ended.state is not TransferState.PENDING
        return ended_count

    def _take_step(self, deallocation: Deallocation) -> None:
        exchange = self._venues.exchange(deallocation.connection.exchange_id)
        connection = deallocation.connection.name
        step = deallocation.step
        request_id = deallocation.request_id(step)
        if step is DeallocationStep.HOLD:
            try:
                exchange.reserve_deallocation(
                    request_id,
                    connection,
                    deallocation.deallocation_id,
                    deallocation.asset,
                    deallocation.amount_units,
                )
            except VenueRefusedError as refusal:
                deallocation.hold_refused(refusal.reason, self._clock.now_ms())
            else:
                deallocation.hold_succeeded()
        elif step is DeallocationStep.UNLOCK:
            try:
                self._venues.custodian.unlock_allocation(
                    request_id,
                    connection,
                    deallocation.unlock_id,
                    deallocation.asset,
                    deallocation.amount_units,
                )
            except VenueRefusedError as refusal:
                deallocation.unlock_refused(refusal.reason)
            else:
                deallocation.unlock_succeeded()
        elif step is DeallocationStep.CLEAR:
            # The custodian has already unlocked: the only way left is forward.
            try:
                exchange.clear_deallocation(request_id, deallocation.deallocation_id)
            except VenueRefusedError as refusal:
                raise workflow_blocked(deallocation.name, refusal) from refusal
            deallocation.clear_succeeded(self._clock.now_ms())
        elif step is DeallocationStep.RELEASE:
            try:
                exchange.release_deallocation(request_id, deallocation.deallocation_id)
            except VenueRefusedError as refusal:
                raise workflow_blocked(deallocation.name, refusal) from refusal
            deallocation.release_succeeded(self._clock.now_ms())
        else:
            raise AssertionError(f"{deallocation.name} has no step to take at {step.value}")
        log.info(
            "deallocation_step",
            deallocation=deallocation.name,
            step=step.value,
            next_step=deallocation.step.value,
            state=deallocation.state.value,
            reason=deallocation.reason,
        )
