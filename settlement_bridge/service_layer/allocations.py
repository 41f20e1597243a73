"""The allocation workflow: lock at the custodian, reserve and clear at the exchange, clear the lock.

A refusal before the exchange cleared compensates: the exchange releases its reservation and
the custodian releases the lock (ReleaseAllocation), so the allocation ends RELEASED there too.

The venues recognise a repeated call by its request_id and the allocation's id, so resuming a
step whose reply was lost never locks or credits twice.
"""

from __future__ import annotations

from settlement_bridge.domain.transfers import Allocation, AllocationStep
from settlement_bridge.service_layer.ports import VenueRefusedError
from settlement_bridge.service_layer.unit_of_work import Transaction, TransferRepository
from settlement_bridge.service_layer.workflows import TransferWorkflow, refusal_blocks

# Lock, reserve, clear, clear the lock, or lock, reserve, clear (refused), release, unlock: never
# more steps than this.
ALLOCATION_STEPS_MAX = 6


class AllocationWorkflow(TransferWorkflow[Allocation]):
    """Creates, drives and resumes allocations."""

    _transfer_kind = Allocation
    _noun = "allocation"
    _not_found_reason = "ALLOCATION_NOT_FOUND"
    _steps_max = ALLOCATION_STEPS_MAX

    def _repository(self, transaction: Transaction) -> TransferRepository[Allocation]:
        return transaction.allocations

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
                allocation.clear_succeeded()
        elif step is AllocationStep.CLEAR_LOCK:
            # The exchange has already cleared the credit: the only way left is forward.
            with refusal_blocks(allocation.name):
                custodian.clear_allocation(request_id, connection, allocation.allocation_id)
            allocation.lock_cleared(self._clock.now_ms())
        elif step is AllocationStep.RELEASE:
            with refusal_blocks(allocation.name):
                exchange.release_allocation(request_id, allocation.allocation_id)
            allocation.release_succeeded()
        elif step is AllocationStep.UNLOCK:
            with refusal_blocks(allocation.name):
                custodian.release_allocation(
                    request_id, connection, allocation.allocation_id, allocation.reason
                )
            allocation.unlock_succeeded(self._clock.now_ms())
        else:
            raise AssertionError(f"{allocation.name} has no step to take at {step.value}")
