"""The custodian's three gRPC services; thin: validate, run the use case, build the response."""

from __future__ import annotations

from typing import TypeVar

import grpc
from google.protobuf.message import Message

from custodian_sim.domain.names import (
    ConnectionName,
    StatementName,
    exchange_name,
    parse_client_name,
    parse_exchange_name,
    parse_operation_id,
    parse_owner_name,
)
from custodian_sim.domain.parties import check_public_key
from custodian_sim.entrypoints import messages
from custodian_sim.entrypoints.policy import (
    CUSTODY_ADMIN_SERVICE_NAME,
    CUSTODY_SERVICE_NAME,
    CUSTODY_SETTLEMENT_SERVICE_NAME,
)
from custodian_sim.entrypoints.request_runner import RequestRunner
from custodian_sim.service_layer.commands import (
    AllocationResult,
    LockAllocation,
    RegisterExchangeKey,
    SimulateDeposit,
    UnlockAllocation,
)
from custodian_sim.service_layer.services import CustodianService
from custodian_sim.service_layer.unit_of_work import UnitOfWork
from oes.custodian.v1 import custodian_pb2, custodian_pb2_grpc
from service_kit.auth import current_principal, require_owner
from service_kit.idempotency import validate_request_id
from service_kit.money import AssetScales
from service_kit.server import ServiceRegistration
from service_kit.signing import key_fingerprint

AllocationResponseT = TypeVar("AllocationResponseT", bound=Message)


class _CustodianServicer:
    """What every custodian servicer holds: the use cases, the runner they run in, the asset scales."""

    def __init__(self, service: CustodianService, runner: RequestRunner, assets: AssetScales) -> None:
        self._service = service
        self._runner = runner
        self._assets = assets

    def _allocation_response(
        self, response_type: type[AllocationResponseT], result: AllocationResult
    ) -> AllocationResponseT:
        """A lock or unlock response: the transfer and the connection's allocated balance afterwards."""
        return response_type(
            transfer_id=result.transfer_id,
            allocated_amount=self._assets.format(result.asset, result.allocated_units),
        )


class CustodyServicer(_CustodianServicer, custodian_pb2_grpc.CustodyServiceServicer):
    """Custody as clients, exchanges, the bridge and admin see it; each party only its own."""

    def ListBalances(
        self, request: custodian_pb2.ListBalancesRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ListBalancesResponse:
        owner = parse_owner_name(request.owner, "owner")
        require_owner(current_principal(), owner)
        balances = self._runner.read(lambda uow: self._service.list_balances(uow, owner))
        return custodian_pb2.ListBalancesResponse(
            balances=[messages.balance_message(balance, self._assets) for balance in balances]
        )


class CustodySettlementServicer(_CustodianServicer, custodian_pb2_grpc.CustodySettlementServiceServicer):
    """Connections, allocations and statements, for the bridge."""

    def CreateConnection(
        self, request: custodian_pb2.CreateConnectionRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.CreateConnectionResponse:
        validate_request_id(request.request_id)
        name = ConnectionName(
            parse_client_name(request.client, "client"), parse_exchange_name(request.exchange, "exchange")
        )
        return self._runner.run_request(
            "CreateConnection",
            request,
            custodian_pb2.CreateConnectionResponse,
            lambda uow: custodian_pb2.CreateConnectionResponse(
                connection=messages.connection_message(self._service.create_connection(uow, name))
            ),
        )

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
        return self._runner.run_request(
            "LockAllocation",
            request,
            custodian_pb2.LockAllocationResponse,
            lambda uow: self._allocation_response(
                custodian_pb2.LockAllocationResponse, self._service.lock_allocation(uow, command)
            ),
        )

    def UnlockAllocation(
        self, request: custodian_pb2.UnlockAllocationRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.UnlockAllocationResponse:
        validate_request_id(request.request_id)
        command = UnlockAllocation(
            connection=messages.parse_connection_name(request.connection, "connection"),
            unlock_id=parse_operation_id(request.unlock_id, "unlock_id"),
            asset=request.asset,
            amount_units=messages.parse_amount(self._assets, request.asset, request.amount),
        )
        return self._runner.run_request(
            "UnlockAllocation",
            request,
            custodian_pb2.UnlockAllocationResponse,
            lambda uow: self._allocation_response(
                custodian_pb2.UnlockAllocationResponse, self._service.unlock_allocation(uow, command)
            ),
        )

    def SubmitStatement(
        self, request: custodian_pb2.SubmitStatementRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.SubmitStatementResponse:
        validate_request_id(request.request_id)
        statement = messages.parse_statement_message(
            request.HasField("statement"), request.statement, self._assets
        )
        return self._runner.run_request(
            "SubmitStatement",
            request,
            custodian_pb2.SubmitStatementResponse,
            lambda uow: custodian_pb2.SubmitStatementResponse(
                statement=messages.recorded_statement_message(self._service.submit_statement(uow, statement))
            ),
        )

    def ExecuteStatement(
        self, request: custodian_pb2.ExecuteStatementRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ExecuteStatementResponse:
        validate_request_id(request.request_id)
        name = StatementName.parse(request.statement, "statement")
        return self._runner.run_request(
            "ExecuteStatement",
            request,
            custodian_pb2.ExecuteStatementResponse,
            lambda uow: custodian_pb2.ExecuteStatementResponse(
                statement=messages.recorded_statement_message(self._service.execute_statement(uow, name))
            ),
        )

    def GetStatement(
        self, request: custodian_pb2.GetStatementRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.GetStatementResponse:
        name = StatementName.parse(request.name, "name")
        recorded = self._runner.read(lambda uow: self._service.get_statement(uow, name))
        return custodian_pb2.GetStatementResponse(statement=messages.recorded_statement_message(recorded))


class CustodyAdminServicer(_CustodianServicer, custodian_pb2_grpc.CustodyAdminServiceServicer):
    """Set-up of the sandbox world, for the administrator."""

    def CreateParty(
        self, request: custodian_pb2.CreatePartyRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.CreatePartyResponse:
        validate_request_id(request.request_id)
        command = messages.parse_party(request.party)
        return self._runner.run_request(
            "CreateParty",
            request,
            custodian_pb2.CreatePartyResponse,
            lambda uow: custodian_pb2.CreatePartyResponse(
                party=messages.party_message(self._service.create_party(uow, command))
            ),
        )

    def RegisterExchangeKey(
        self, request: custodian_pb2.RegisterExchangeKeyRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.RegisterExchangeKeyResponse:
        validate_request_id(request.request_id)
        command = RegisterExchangeKey(
            exchange=exchange_name(parse_exchange_name(request.exchange, "exchange")),
            public_key=check_public_key(request.public_key, "public_key"),
        )

        def register(uow: UnitOfWork) -> custodian_pb2.RegisterExchangeKeyResponse:
            key = self._service.register_exchange_key(uow, command)
            return custodian_pb2.RegisterExchangeKeyResponse(
                exchange=key.exchange, key_fingerprint=key_fingerprint(key.public_key)
            )

        return self._runner.run_request(
            "RegisterExchangeKey", request, custodian_pb2.RegisterExchangeKeyResponse, register
        )

    def SimulateDeposit(
        self, request: custodian_pb2.SimulateDepositRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.SimulateDepositResponse:
        validate_request_id(request.request_id)
        command = SimulateDeposit(
            # The request id is the deposit's id: the deposit happens at most once per key.
            deposit_id=request.request_id,
            owner=parse_owner_name(request.owner, "owner"),
            asset=request.asset,
            amount_units=messages.parse_amount(self._assets, request.asset, request.amount),
        )

        def deposit(uow: UnitOfWork) -> custodian_pb2.SimulateDepositResponse:
            result = self._service.simulate_deposit(uow, command)
            return custodian_pb2.SimulateDepositResponse(
                transfer_id=result.transfer_id,
                account=result.account,
                balance=self._assets.format(result.asset, result.balance_units),
            )

        return self._runner.run_request(
            "SimulateDeposit", request, custodian_pb2.SimulateDepositResponse, deposit
        )


def custodian_registrations(
    service: CustodianService, runner: RequestRunner, assets: AssetScales
) -> list[ServiceRegistration]:
    """The three custodian services, ready to add to a server."""
    custody = CustodyServicer(service, runner, assets)
    settlement = CustodySettlementServicer(service, runner, assets)
    admin = CustodyAdminServicer(service, runner, assets)
    return [
        ServiceRegistration(
            CUSTODY_SERVICE_NAME,
            lambda server: custodian_pb2_grpc.add_CustodyServiceServicer_to_server(custody, server),
        ),
        ServiceRegistration(
            CUSTODY_SETTLEMENT_SERVICE_NAME,
            lambda server: custodian_pb2_grpc.add_CustodySettlementServiceServicer_to_server(
                settlement, server
            ),
        ),
        ServiceRegistration(
            CUSTODY_ADMIN_SERVICE_NAME,
            lambda server: custodian_pb2_grpc.add_CustodyAdminServiceServicer_to_server(admin, server),
        ),
    ]
