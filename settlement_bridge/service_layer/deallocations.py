"""The deallocation workflow: hold at the exchange, unlock at the custodian, clear at the exchange.

The exchange holds the credit first so that it cannot be traded away while the custodian
unlocks it; a refused unlock releases the hold. As with allocations, every step's outcome is
committed before the next venue call and every call is idempotent.
"""

from __future__ import annotations

from settlement_bridge.domain.transfers import Deallocation, DeallocationStep
from settlement_bridge.service_layer.ports import VenueRefusedError
from settlement_bridge.service_layer.unit_of_work import Transaction, TransferRepository
from settlement_bridge.service_layer.workflows import TransferWorkflow, refusal_blocks

# Hold, unlock, clear, or hold, unlock (refused), release: never more steps than this.
DEALLOCATION_STEPS_MAX = 5


class DeallocationWorkflow(TransferWorkflow[Deallocation]):
    """Creates, drives and resumes deallocations."""

    _transfer_kind = Deallocation
    _noun = "deallocation"
    _not_found_reason = "DEALLOCATION_NOT_FOUND"
    _steps_max = DEALLOCATION_STEPS_MAX

    def _repository(self, transaction: Transaction) -> TransferRepository[Deallocation]:
        return transaction.deallocations

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
            with refusal_blocks(deallocation.name):
                exchange.clear_deallocation(request_id, deallocation.deallocation_id)
            deallocation.clear_succeeded(self._clock.now_ms())
        elif step is DeallocationStep.RELEASE:
            with refusal_blocks(deallocation.name):
                exchange.release_deallocation(request_id, deallocation.deallocation_id)
            deallocation.release_succeeded(self._clock.now_ms())
        else:
            raise AssertionError(f"{deallocation.name} has no step to take at {step.value}")
