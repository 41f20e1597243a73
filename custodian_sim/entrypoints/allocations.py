"""The allocation and default RPCs of the settlement service: validate, run, build the response."""

from __future__ import annotations

import grpc

from custodian_sim.domain.allocation_lifecycle import (
    Allocation,
    AllocationName,
    AllocationState,
    parse_release_reason,
)
from custodian_sim.domain.defaults import DefaultClaimKind, ExchangeDefault
from custodian_sim.domain.names import exchange_name, parse_exchange_name, parse_operation_id
from custodian_sim.entrypoints import messages
from custodian_sim.entrypoints.request_runner import RequestRunner
from custodian_sim.service_layer.audit import run_recording_refusal
from custodian_sim.service_layer.commands import AllocationResult, LockAllocation
from custodian_sim.service_layer.services import CustodianService
from custodian_sim.service_layer.unit_of_work import UnitOfWork
from oes.custodian.v1 import custodian_pb2
from service_kit.errors import ServiceError
from service_kit.idempotency import validate_request_id
from service_kit.money import AssetScales
from service_kit.timestamps import to_timestamp

_ALLOCATION_STATES = {
    AllocationState.PENDING: custodian_pb2.ALLOCATION_STATE_PENDING,
    AllocationState.RESERVED: custodian_pb2.ALLOCATION_STATE_RESERVED,
    AllocationState.CLEARED: custodian_pb2.ALLOCATION_STATE_CLEARED,
    AllocationState.RELEASED: custodian_pb2.ALLOCATION_STATE_RELEASED,
    AllocationState.REJECTED: custodian_pb2.ALLOCATION_STATE_REJECTED,
}
_CLAIM_KINDS = {
    DefaultClaimKind.RELEASED_ALLOCATION: custodian_pb2.DEFAULT_CLAIM_KIND_RELEASED_ALLOCATION,
    DefaultClaimKind.FROZEN_SETTLEMENT: custodian_pb2.DEFAULT_CLAIM_KIND_FROZEN_SETTLEMENT,
}


def allocation_message(allocation: Allocation, assets: AssetScales) -> custodian_pb2.Allocation:
    """The wire form of an allocation."""
    return custodian_pb2.Allocation(
        name=allocation.name.name,
        connection=allocation.connection.name,
        asset=allocation.asset,
        amount=assets.format(allocation.asset, allocation.amount_units),
        state=_ALLOCATION_STATES[allocation.state],
        reason=allocation.reason,
        create_time=to_timestamp(allocation.create_time_ms),
        update_time=to_timestamp(allocation.update_time_ms),
    )


def statement_state_name(state: str) -> str:
    """The wire enum name of a statement state value (`SUCCEEDED`); UNSPECIFIED for no statement."""
    return f"STATEMENT_STATE_{state or 'UNSPECIFIED'}"


def exchange_default_message(record: ExchangeDefault, assets: AssetScales) -> custodian_pb2.ExchangeDefault:
    """The wire form of a recorded default."""
    outcome = record.statement
    return custodian_pb2.ExchangeDefault(
        exchange=record.exchange,
        last_statement=outcome.statement,
        last_statement_state=statement_state_name(outcome.state),
        last_statement_applied=outcome.applied,
        last_statement_reason=outcome.reason,
        connections=list(record.connections),
        claims=[
            custodian_pb2.DefaultClaim(
                party=claim.party,
                asset=claim.asset,
                amount=assets.format(claim.asset, claim.amount_units),
                kind=_CLAIM_KINDS[claim.kind],
                account=claim.account,
            )
            for claim in record.claims
        ],
        frozen_accounts=list(record.frozen_accounts),
        transfer_ids=list(record.transfer_ids),
        default_time=to_timestamp(record.default_time_ms),
    )


class AllocationHandlers:
    """One method per allocation or default RPC; the settlement servicer delegates to it."""

    def __init__(self, service: CustodianService, runner: RequestRunner, assets: AssetScales) -> None:
        self._service = service
        self._runner = runner
        self._assets = assets

    def LockAllocation(
        self, request: custodian_pb2.LockAllocationRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.LockAllocationResponse:
        validate_request_id(request.request_id)
        command = LockAllocation(
            connection=messages.parse_connection_name(request.connection, "connection"),
            allocation_id=parse_operation_id(request.allocation_id, "allocation_id"),
            asset=request.asset,
            amount_units=messages.parse_amount(self._assets, request.asset, request.amount),
        )

        def lock(uow: UnitOfWork) -> custodian_pb2.LockAllocationResponse:
            result = self._service.allocations.lock(uow, command)
            return custodian_pb2.LockAllocationResponse(
                transfer_id=result.transfer_id,
                allocated_amount=self._allocated_amount(result),
                allocation=self._allocation(result),
            )

        def record_refusal(uow: UnitOfWork, error: ServiceError) -> None:
            self._service.allocations.record_lock_refusal(uow, command, error)

        # A refused lock rolls back whole; the REJECTED allocation and its audit record are
        # then written in a transaction of their own.
        return run_recording_refusal(
            lambda watched: self._runner.run_request(
                "LockAllocation", request, custodian_pb2.LockAllocationResponse, watched
            ),
            self._runner.write,
            lock,
            record_refusal,
        )

    def ClearAllocation(
        self, request: custodian_pb2.ClearAllocationRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ClearAllocationResponse:
        validate_request_id(request.request_id)
        name = AllocationName.parse(request.allocation, "allocation")
        return self._runner.run_request(
            "ClearAllocation",
            request,
            custodian_pb2.ClearAllocationResponse,
            lambda uow: custodian_pb2.ClearAllocationResponse(
                allocation=allocation_message(self._service.allocations.clear(uow, name), self._assets)
            ),
        )

    def ReleaseAllocation(
        self, request: custodian_pb2.ReleaseAllocationRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ReleaseAllocationResponse:
        validate_request_id(request.request_id)
        name = AllocationName.parse(request.allocation, "allocation")
        reason = parse_release_reason(request.reason, "reason")

        def release(uow: UnitOfWork) -> custodian_pb2.ReleaseAllocationResponse:
            result = self._service.allocations.release(uow, name, reason)
            return custodian_pb2.ReleaseAllocationResponse(
                allocation=self._allocation(result), allocated_amount=self._allocated_amount(result)
            )

        return self._runner.run_request(
            "ReleaseAllocation", request, custodian_pb2.ReleaseAllocationResponse, release
        )

    def GetAllocation(
        self, request: custodian_pb2.GetAllocationRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.GetAllocationResponse:
        name = AllocationName.parse(request.name, "name")
        allocation = self._runner.read(lambda uow: self._service.allocations.get(uow, name))
        return custodian_pb2.GetAllocationResponse(allocation=allocation_message(allocation, self._assets))

    def ReleaseOnDefault(
        self, request: custodian_pb2.ReleaseOnDefaultRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ReleaseOnDefaultResponse:
        validate_request_id(request.request_id)
        exchange = exchange_name(parse_exchange_name(request.exchange, "exchange"))
        apply_last_statement = request.apply_last_statement

        def release_on_default(uow: UnitOfWork) -> custodian_pb2.ReleaseOnDefaultResponse:
            record = self._service.defaults.release_on_default(uow, exchange, apply_last_statement)
            return custodian_pb2.ReleaseOnDefaultResponse(
                exchange_default=exchange_default_message(record, self._assets)
            )

        return self._runner.run_request(
            "ReleaseOnDefault", request, custodian_pb2.ReleaseOnDefaultResponse, release_on_default
        )

    def _allocated_amount(self, result: AllocationResult) -> str:
        return self._assets.format(result.asset, result.allocated_units)

    def _allocation(self, result: AllocationResult) -> custodian_pb2.Allocation:
        assert result.allocation is not None, "locks and releases act on an allocation"
        return allocation_message(result.allocation, self._assets)
