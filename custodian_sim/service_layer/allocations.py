"""Allocation use cases: lock (RESERVED or REJECTED), clear, release, and the deallocations' unlock."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from custodian_sim.domain import allocation_lifecycle as rules
from custodian_sim.domain.allocation_lifecycle import Allocation, AllocationName
from custodian_sim.domain.allocations import lock_transfer, lock_transfer_id, unlock_transfer
from custodian_sim.domain.audit import refused
from custodian_sim.domain.connections import require_connection
from custodian_sim.domain.defaults import check_not_frozen, transfer_accounts
from custodian_sim.domain.ledger import Posting, Transfer
from custodian_sim.domain.names import ConnectionName, allocated_account
from custodian_sim.service_layer.audit import record_change
from custodian_sim.service_layer.commands import AllocationResult, LockAllocation, UnlockAllocation
from custodian_sim.service_layer.unit_of_work import UnitOfWork
from service_kit.clock import Clock
from service_kit.errors import ErrorCode, ServiceError

# What a created resource was before: nothing.
CREATED_FROM = ""


class LedgerPoster(Protocol):
    """Posts transfers with their audit records, refusing overdrafts, conflicts and frozen accounts."""

    def post_transfers(self, uow: UnitOfWork, transfers: Sequence[Transfer], owner: str | None) -> Posting:
        """Posts linked transfers; one audit record per newly posted one, titled to `owner`."""
        ...


class AllocationLifecycle:
    """Allocations as resources: each lock is recorded, and cleared or released once."""

    def __init__(self, clock: Clock, poster: LedgerPoster) -> None:
        self._clock = clock
        self._poster = poster

    def lock(self, uow: UnitOfWork, command: LockAllocation) -> AllocationResult:
        """Records the allocation and moves `available -> allocated`: RESERVED.

        Refuses (FAILED_PRECONDITION) when an account is frozen, the connection is not ACTIVE,
        a statement with an entry for the connection is in flight, or the available balance is
        short; the caller then records the allocation REJECTED with `record_lock_refusal`
        after this unit of work rolled back.
        """
        name = AllocationName(command.connection, command.allocation_id)
        existing = uow.allocations.get(command.allocation_id)
        if existing is not None:
            allocation = rules.check_lock_retry(existing, name, command.asset, command.amount_units)
            return self._result(uow, allocation, lock_transfer_id(allocation.allocation_id))
        connection = require_connection(uow.connections.get(command.connection), command.connection)
        now_ms = self._clock.now_ms()
        transfer = lock_transfer(
            connection, command.allocation_id, command.asset, command.amount_units, now_ms
        )
        # Frozen first: after a default, the connection is not active either, but the freeze is
        # the reason nothing can ever be locked on it again.
        check_not_frozen([transfer], uow.frozen_accounts.frozen_among(transfer_accounts([transfer])))
        connection.require_active()
        rules.check_no_settlement_in_flight(
            command.connection, uow.allocations.statement_in_flight(name.connection)
        )
        self._poster.post_transfers(uow, [transfer], command.connection.client)
        allocation = rules.new_allocation(name, command.asset, command.amount_units, now_ms).reserved(now_ms)
        uow.allocations.add(allocation)
        self._audit(uow, allocation, CREATED_FROM)
        return self._result(uow, allocation, transfer.id)

    def record_lock_refusal(self, uow: UnitOfWork, command: LockAllocation, error: ServiceError) -> None:
        """After a refused lock rolled back: records the allocation REJECTED, or audits the refusal.

        A refused retry of a REJECTED allocation adds nothing: it was recorded the first time.
        """
        name = AllocationName(command.connection, command.allocation_id)
        existing = uow.allocations.get(command.allocation_id)
        if existing is not None:
            if not existing.same_request(name, command.asset, command.amount_units):
                record_change(
                    uow,
                    self._clock.now_ms(),
                    existing.name.name,
                    existing.description,
                    refused(error.reason),
                    existing.connection.client,
                )
            return
        if error.code is not ErrorCode.FAILED_PRECONDITION:
            return
        now_ms = self._clock.now_ms()
        allocation = rules.new_allocation(name, command.asset, command.amount_units, now_ms)
        rejected = allocation.rejected(error.reason, now_ms)
        uow.allocations.add(rejected)
        self._audit(uow, rejected, CREATED_FROM)

    def clear(self, uow: UnitOfWork, name: AllocationName) -> Allocation:
        """RESERVED -> CLEARED once the exchange cleared the mirror credit; CLEARED again is a no-op."""
        allocation = rules.require_allocation(uow.allocations.get(name.allocation_id), name)
        cleared = allocation.cleared(self._clock.now_ms())
        if cleared is not allocation:
            uow.allocations.update(cleared)
            self._audit(uow, cleared, allocation.description)
        return cleared

    def release(self, uow: UnitOfWork, name: AllocationName, reason: str) -> AllocationResult:
        """RESERVED -> RELEASED: the amount returns `allocated -> available`; RELEASED again is a no-op."""
        allocation = rules.require_allocation(uow.allocations.get(name.allocation_id), name)
        now_ms = self._clock.now_ms()
        released = allocation.released(reason, now_ms)
        if released is allocation:
            return self._result(uow, allocation, rules.release_transfer_id(allocation.allocation_id))
        transfer = rules.release_transfer(allocation, now_ms)
        self._poster.post_transfers(uow, [transfer], allocation.connection.client)
        uow.allocations.update(released)
        self._audit(uow, released, allocation.description)
        return self._result(uow, released, transfer.id)

    def get(self, uow: UnitOfWork, name: AllocationName) -> Allocation:
        """Returns an allocation, or NOT_FOUND."""
        return rules.require_allocation(uow.allocations.get(name.allocation_id), name)

    def unlock(self, uow: UnitOfWork, command: UnlockAllocation) -> AllocationResult:
        """Moves `allocated -> available` once per unlock id, outside any settlement in flight."""
        connection = require_connection(uow.connections.get(command.connection), command.connection)
        transfer = unlock_transfer(
            connection, command.unlock_id, command.asset, command.amount_units, self._clock.now_ms()
        )
        if not uow.ledger.transfers_by_id([transfer.id]):
            # A retried unlock returns its result even while a statement is in flight since.
            rules.check_no_settlement_in_flight(
                command.connection, uow.allocations.statement_in_flight(command.connection)
            )
        self._poster.post_transfers(uow, [transfer], command.connection.client)
        return self._balance_result(uow, command.connection, transfer.id, transfer.asset)

    def _result(self, uow: UnitOfWork, allocation: Allocation, transfer_id: str) -> AllocationResult:
        result = self._balance_result(uow, allocation.connection, transfer_id, allocation.asset)
        return AllocationResult(result.transfer_id, result.asset, result.allocated_units, allocation)

    @staticmethod
    def _balance_result(
        uow: UnitOfWork, connection: ConnectionName, transfer_id: str, asset: str
    ) -> AllocationResult:
        key = (allocated_account(connection), asset)
        return AllocationResult(transfer_id, asset, uow.ledger.balances([key]).get(key, 0))

    def _audit(self, uow: UnitOfWork, allocation: Allocation, before: str) -> None:
        record_change(
            uow,
            self._clock.now_ms(),
            allocation.name.name,
            before,
            allocation.description,
            allocation.connection.client,
        )
