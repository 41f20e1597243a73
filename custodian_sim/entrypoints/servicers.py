"""The custodian's three gRPC services; thin: validate, run the use case, build the response."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import grpc
from google.protobuf.message import Message

from custodian_sim.domain.audit import AuditRecord
from custodian_sim.domain.names import (
    ConnectionName,
    StatementName,
    account_owner,
    exchange_name,
    parse_account_name,
    parse_client_name,
    parse_exchange_name,
    parse_operation_id,
    parse_owner_name,
    parse_party_name,
)
from custodian_sim.domain.parties import check_public_key
from custodian_sim.entrypoints import messages
from custodian_sim.entrypoints.allocations import AllocationHandlers
from custodian_sim.entrypoints.policy import (
    CUSTODY_ADMIN_SERVICE_NAME,
    CUSTODY_SERVICE_NAME,
    CUSTODY_SETTLEMENT_SERVICE_NAME,
)
from custodian_sim.entrypoints.request_runner import RequestRunner
from custodian_sim.entrypoints.statement_settlement import SettlementHandlers
from custodian_sim.entrypoints.withdrawals import WithdrawalHandlers
from custodian_sim.service_layer.audit import run_recording_refusal
from custodian_sim.service_layer.commands import (
    AllocationResult,
    RegisterExchangeKey,
    SimulateDeposit,
    UnlockAllocation,
)
from custodian_sim.service_layer.ports import TransferQuery
from custodian_sim.service_layer.services import CustodianService
from custodian_sim.service_layer.unit_of_work import UnitOfWork
from oes.custodian.v1 import custodian_pb2, custodian_pb2_grpc
from service_kit.auth import Principal, PrincipalKind, current_principal, require_owner
from service_kit.errors import ServiceError, invalid_argument, permission_denied, unavailable
from service_kit.idempotency import HasRequestId, validate_request_id
from service_kit.money import AssetScales
from service_kit.paging import (
    decode_page_token,
    encode_page_token,
    parse_after_sequence,
    parse_page_size,
    query_fingerprint,
)
from service_kit.server import ServiceRegistration
from service_kit.signing import key_fingerprint

AllocationResponseT = TypeVar("AllocationResponseT", bound=Message)
StatementResponseT = TypeVar("StatementResponseT", bound=Message)

# An audit stream reads at most this many records per query, then sends them.
AUDIT_STREAM_BATCH_MAX = 1000
# When caught up, a stream waits this long for a commit before it checks that its caller is
# still there; a commit wakes it at once.
AUDIT_STREAM_WAIT_S = 0.25
# Each open stream holds one of the server's worker threads; at most this many at once leaves
# the other workers to every other RPC.
AUDIT_STREAMS_MAX = 4
# A stream ends after this many reads-or-waits (about 69 hours when idle); the caller
# resumes from the last sequence it saw, as after any disconnect.
AUDIT_STREAM_ROUNDS_MAX = 1_000_000


def audit_owner_filter(principal: Principal) -> str | None:
    """Clients and exchanges see the records of their own resources; bridge and admin see all."""
    if principal.kind in (PrincipalKind.CLIENT, PrincipalKind.EXCHANGE):
        return principal.name
    return None


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

    def __init__(
        self,
        service: CustodianService,
        runner: RequestRunner,
        assets: AssetScales,
        withdrawals: WithdrawalHandlers,
        statements: SettlementHandlers,
    ) -> None:
        super().__init__(service, runner, assets)
        self._withdrawals = withdrawals
        self._statements = statements
        self._audit_streams = threading.BoundedSemaphore(AUDIT_STREAMS_MAX)

    def ListClaims(
        self, request: custodian_pb2.ListClaimsRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ListClaimsResponse:
        return self._statements.ListClaims(request, context)

    def CreateWhitelistAddress(
        self, request: custodian_pb2.CreateWhitelistAddressRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.CreateWhitelistAddressResponse:
        return self._withdrawals.CreateWhitelistAddress(request, context)

    def ListWhitelistAddresses(
        self, request: custodian_pb2.ListWhitelistAddressesRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ListWhitelistAddressesResponse:
        return self._withdrawals.ListWhitelistAddresses(request, context)

    def CreateWithdrawal(
        self, request: custodian_pb2.CreateWithdrawalRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.CreateWithdrawalResponse:
        return self._withdrawals.CreateWithdrawal(request, context)

    def ApproveWithdrawal(
        self, request: custodian_pb2.ApproveWithdrawalRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ApproveWithdrawalResponse:
        return self._withdrawals.ApproveWithdrawal(request, context)

    def CancelWithdrawal(
        self, request: custodian_pb2.CancelWithdrawalRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.CancelWithdrawalResponse:
        return self._withdrawals.CancelWithdrawal(request, context)

    def GetWithdrawal(
        self, request: custodian_pb2.GetWithdrawalRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.GetWithdrawalResponse:
        return self._withdrawals.GetWithdrawal(request, context)

    def ListWithdrawals(
        self, request: custodian_pb2.ListWithdrawalsRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ListWithdrawalsResponse:
        return self._withdrawals.ListWithdrawals(request, context)

    def ListBalances(
        self, request: custodian_pb2.ListBalancesRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ListBalancesResponse:
        if request.allocated_to:
            if request.owner:
                raise invalid_argument("OWNER_NOT_ALLOWED", "owner", "give either owner or allocated_to")
            exchange = parse_owner_name(request.allocated_to, "allocated_to")
            if not exchange.startswith("exchanges/"):
                raise invalid_argument(
                    "EXCHANGE_NAME_INVALID", "allocated_to", "an exchange like 'exchanges/okx-sim'"
                )
            principal = current_principal()
            if principal.kind not in (PrincipalKind.BRIDGE, PrincipalKind.ADMIN):
                raise permission_denied(
                    "NOT_RESOURCE_OWNER",
                    f"{principal.name} may not list every client's allocation; ask for your own owner",
                    principal=principal.name,
                )
            balances = self._runner.read(lambda uow: self._service.allocated_to(uow, exchange))
            return custodian_pb2.ListBalancesResponse(
                balances=[messages.balance_message(balance, self._assets) for balance in balances]
            )
        owner = parse_owner_name(request.owner, "owner")
        require_owner(current_principal(), owner)
        balances = self._runner.read(lambda uow: self._service.list_balances(uow, owner))
        return custodian_pb2.ListBalancesResponse(
            balances=[messages.balance_message(balance, self._assets) for balance in balances]
        )

    def ListTransfers(
        self, request: custodian_pb2.ListTransfersRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ListTransfersResponse:
        owner = parse_owner_name(request.owner, "owner")
        account = parse_account_name(request.account, "account") if request.account else None
        if account is not None and account_owner(account) != owner:
            raise invalid_argument(
                "ACCOUNT_NOT_OF_OWNER", "account", f"{account!r} is not an account of {owner}"
            )
        asset = request.asset or None
        if asset is not None:
            self._assets.scale(asset, "asset")
        start_time_ms = messages.parse_optional_time(
            request.HasField("start_time"), request.start_time, "start_time"
        )
        end_time_ms = messages.parse_optional_time(request.HasField("end_time"), request.end_time, "end_time")
        if start_time_ms is not None and end_time_ms is not None and end_time_ms < start_time_ms:
            raise invalid_argument("TIME_RANGE_INVALID", "end_time", "must not be before start_time")
        page_size = parse_page_size(request.page_size)
        fingerprint = query_fingerprint(owner, account, asset, start_time_ms, end_time_ms)
        after_sequence = decode_page_token(request.page_token, fingerprint)
        require_owner(current_principal(), owner)
        query = TransferQuery(owner, account, asset, start_time_ms, end_time_ms, after_sequence)
        page = self._runner.read(lambda uow: self._service.list_transfers(uow, query, page_size))
        return custodian_pb2.ListTransfersResponse(
            transfers=[messages.transfer_message(posted, self._assets) for posted in page.transfers],
            next_page_token=(
                ""
                if page.next_after_sequence is None
                else encode_page_token(page.next_after_sequence, fingerprint)
            ),
        )

    def GetProofOfReserves(
        self, request: custodian_pb2.GetProofOfReservesRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.GetProofOfReservesResponse:
        report = self._runner.read(self._service.proof_of_reserves)
        return messages.proof_of_reserves_response(report, self._assets)

    def ListConnections(
        self, request: custodian_pb2.ListConnectionsRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ListConnectionsResponse:
        parent = parse_party_name(request.parent, "parent")
        require_owner(current_principal(), parent)
        connections = self._runner.read(lambda uow: self._service.list_connections(uow, parent))
        return custodian_pb2.ListConnectionsResponse(
            connections=[messages.connection_message(connection) for connection in connections]
        )

    def ListAuditRecords(
        self, request: custodian_pb2.ListAuditRecordsRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ListAuditRecordsResponse:
        after_sequence = parse_after_sequence(request.after_sequence)
        page_size = parse_page_size(request.page_size)
        owner = audit_owner_filter(current_principal())
        records = self._read_audit_records(after_sequence, page_size, owner)
        return custodian_pb2.ListAuditRecordsResponse(
            records=[messages.audit_record_message(record) for record in records]
        )

    def _read_audit_records(self, after_sequence: int, limit: int, owner: str | None) -> list[AuditRecord]:
        return self._runner.read(
            lambda uow: self._service.list_audit_records(uow, after_sequence, limit, owner)
        )

    def StreamAuditLog(
        self, request: custodian_pb2.StreamAuditLogRequest, context: grpc.ServicerContext
    ) -> Iterator[custodian_pb2.StreamAuditLogResponse]:
        after_sequence = parse_after_sequence(request.after_sequence)
        owner = audit_owner_filter(current_principal())
        if not self._audit_streams.acquire(blocking=False):
            raise unavailable(
                "AUDIT_STREAMS_EXHAUSTED",
                f"{AUDIT_STREAMS_MAX} audit streams are already open; retry later or use ListAuditRecords",
                streams_max=str(AUDIT_STREAMS_MAX),
            )
        try:
            yield from self._stream_audit_records(after_sequence, owner, context)
        finally:
            self._audit_streams.release()

    def _stream_audit_records(
        self, after_sequence: int, owner: str | None, context: grpc.ServicerContext
    ) -> Iterator[custodian_pb2.StreamAuditLogResponse]:
        for _ in range(AUDIT_STREAM_ROUNDS_MAX):
            if not context.is_active():
                return
            # Noted before the read: a commit between the read and the wait then ends the wait
            # at once instead of being missed.
            generation = self._runner.audit_generation()
            records = self._read_audit_records(after_sequence, AUDIT_STREAM_BATCH_MAX, owner)
            for record in records:
                yield custodian_pb2.StreamAuditLogResponse(record=messages.audit_record_message(record))
                after_sequence = record.sequence
            if len(records) < AUDIT_STREAM_BATCH_MAX:
                self._runner.wait_for_audit_commit(generation, AUDIT_STREAM_WAIT_S)


class CustodySettlementServicer(_CustodianServicer, custodian_pb2_grpc.CustodySettlementServiceServicer):
    """Connections, allocations and statements, for the bridge."""

    def __init__(
        self,
        service: CustodianService,
        runner: RequestRunner,
        assets: AssetScales,
        statements: SettlementHandlers,
    ) -> None:
        super().__init__(service, runner, assets)
        self._allocations = AllocationHandlers(service, runner, assets)
        self._statements = statements

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

    def ActivateConnection(
        self, request: custodian_pb2.ActivateConnectionRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ActivateConnectionResponse:
        validate_request_id(request.request_id)
        name = messages.parse_connection_name(request.name, "name")
        return self._runner.run_request(
            "ActivateConnection",
            request,
            custodian_pb2.ActivateConnectionResponse,
            lambda uow: custodian_pb2.ActivateConnectionResponse(
                connection=messages.connection_message(self._service.activate_connection(uow, name))
            ),
        )

    def CloseConnection(
        self, request: custodian_pb2.CloseConnectionRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.CloseConnectionResponse:
        validate_request_id(request.request_id)
        name = messages.parse_connection_name(request.name, "name")
        return self._runner.run_request(
            "CloseConnection",
            request,
            custodian_pb2.CloseConnectionResponse,
            lambda uow: custodian_pb2.CloseConnectionResponse(
                connection=messages.connection_message(self._service.close_connection(uow, name))
            ),
        )

    def LockAllocation(
        self, request: custodian_pb2.LockAllocationRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.LockAllocationResponse:
        return self._allocations.LockAllocation(request, context)

    def ClearAllocation(
        self, request: custodian_pb2.ClearAllocationRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ClearAllocationResponse:
        return self._allocations.ClearAllocation(request, context)

    def ReleaseAllocation(
        self, request: custodian_pb2.ReleaseAllocationRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ReleaseAllocationResponse:
        return self._allocations.ReleaseAllocation(request, context)

    def GetAllocation(
        self, request: custodian_pb2.GetAllocationRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.GetAllocationResponse:
        return self._allocations.GetAllocation(request, context)

    def ReleaseOnDefault(
        self, request: custodian_pb2.ReleaseOnDefaultRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ReleaseOnDefaultResponse:
        return self._allocations.ReleaseOnDefault(request, context)

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
        return self._run_statement_request(
            "SubmitStatement",
            request,
            custodian_pb2.SubmitStatementResponse,
            statement.statement_name,
            lambda uow: custodian_pb2.SubmitStatementResponse(
                statement=messages.recorded_statement_message(self._service.submit_statement(uow, statement))
            ),
        )

    def ExecuteStatement(
        self, request: custodian_pb2.ExecuteStatementRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ExecuteStatementResponse:
        return self._statements.ExecuteStatement(request, context)

    def DisputeStatementEntry(
        self, request: custodian_pb2.DisputeStatementEntryRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.DisputeStatementEntryResponse:
        return self._statements.DisputeStatementEntry(request, context)

    def ResolveDisputedEntry(
        self, request: custodian_pb2.ResolveDisputedEntryRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ResolveDisputedEntryResponse:
        return self._statements.ResolveDisputedEntry(request, context)

    def _run_statement_request(
        self,
        method: str,
        request: HasRequestId,
        response_type: type[StatementResponseT],
        name: StatementName,
        work: Callable[[UnitOfWork], StatementResponseT],
    ) -> StatementResponseT:
        """Runs a statement request; a refusal rolls back, then leaves its own audit record."""

        def record_refusal(uow: UnitOfWork, error: ServiceError) -> None:
            self._service.record_statement_refusal(uow, name, error.reason)

        return run_recording_refusal(
            lambda watched: self._runner.run_request(method, request, response_type, watched),
            self._runner.write,
            work,
            record_refusal,
        )

    def GetStatement(
        self, request: custodian_pb2.GetStatementRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.GetStatementResponse:
        name = StatementName.parse(request.name, "name")
        recorded = self._runner.read(lambda uow: self._service.get_statement(uow, name))
        return custodian_pb2.GetStatementResponse(statement=messages.recorded_statement_message(recorded))


class CustodyAdminServicer(_CustodianServicer, custodian_pb2_grpc.CustodyAdminServiceServicer):
    """Set-up of the sandbox world, for the administrator."""

    def __init__(
        self,
        service: CustodianService,
        runner: RequestRunner,
        assets: AssetScales,
        withdrawals: WithdrawalHandlers,
    ) -> None:
        super().__init__(service, runner, assets)
        self._withdrawals = withdrawals

    def SetWithdrawalPolicy(
        self, request: custodian_pb2.SetWithdrawalPolicyRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.SetWithdrawalPolicyResponse:
        return self._withdrawals.SetWithdrawalPolicy(request, context)

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
    service: CustodianService,
    runner: RequestRunner,
    assets: AssetScales,
    withdrawals: WithdrawalHandlers,
    statements: SettlementHandlers,
) -> list[ServiceRegistration]:
    """The three custodian services, ready to add to a server.

    Withdrawal RPCs go to `withdrawals`; statement execution, disputes and claims to `statements`.
    """
    custody = CustodyServicer(service, runner, assets, withdrawals, statements)
    settlement = CustodySettlementServicer(service, runner, assets, statements)
    admin = CustodyAdminServicer(service, runner, assets, withdrawals)
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
