"""PartnerService: the settlement network's connections, allocations, deallocations and statements."""

from __future__ import annotations

from collections.abc import Callable

import grpc

from exchange_sim.domain.accounts import Balance, account_of_connection
from exchange_sim.domain.funding import Funding
from exchange_sim.domain.statements import StatementEntry, parse_statement_name
from exchange_sim.domain.venue import Operation, Venue
from exchange_sim.entrypoints.messages import (
    STATEMENT_STATES_TO_PROTO,
    format_balance_field,
    statement_response,
    validate_funding_id,
    venue_message,
)
from exchange_sim.entrypoints.policy import PARTNER_SERVICE_NAME
from exchange_sim.service_layer.ports import ResponseT
from exchange_sim.service_layer.venue_service import VenueService
from oes.exchange.v1 import exchange_pb2, exchange_pb2_grpc
from service_kit.errors import validate_reason_code
from service_kit.idempotency import HasRequestId, validate_request_id
from service_kit.money import AssetScales
from service_kit.server import ServiceRegistration


class PartnerServicer(exchange_pb2_grpc.PartnerServiceServicer):
    """Thin: validate the request, call the service layer, build the response."""

    def __init__(self, service: VenueService, assets: AssetScales) -> None:
        self._service = service
        self._assets = assets
        self._exchange_id = service.settings.exchange_id

    def CreateConnection(
        self, request: exchange_pb2.CreateConnectionRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.CreateConnectionResponse:
        validate_request_id(request.request_id)
        account_of_connection(request.connection, self._exchange_id)

        def open_account(venue: Venue, now_ms: int) -> exchange_pb2.CreateConnectionResponse:
            account = venue.open_connection(request.connection, now_ms)
            return exchange_pb2.CreateConnectionResponse(connection=account.connection, account=account.name)

        return self._service.run_command(
            "CreateConnection", request, exchange_pb2.CreateConnectionResponse, open_account
        )

    def ReserveAllocation(
        self, request: exchange_pb2.ReserveAllocationRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.ReserveAllocationResponse:
        validate_request_id(request.request_id)
        account_of_connection(request.connection, self._exchange_id)
        validate_funding_id(request.allocation_id, "allocation_id")
        amount_units = self._assets.parse(request.asset, request.amount, "amount")
        return self._funding_command(
            "ReserveAllocation",
            Operation.ALLOCATE,
            request,
            exchange_pb2.ReserveAllocationResponse,
            "pending_credit",
            lambda funding, now_ms: funding.reserve_allocation(
                request.connection, request.allocation_id, request.asset, amount_units, now_ms
            ),
        )

    def ClearAllocation(
        self, request: exchange_pb2.ClearAllocationRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.ClearAllocationResponse:
        validate_request_id(request.request_id)
        validate_funding_id(request.allocation_id, "allocation_id")
        return self._funding_command(
            "ClearAllocation",
            Operation.CLEAR_ALLOCATION,
            request,
            exchange_pb2.ClearAllocationResponse,
            "mirror",
            lambda funding, now_ms: funding.clear_allocation(request.allocation_id, now_ms),
        )

    def ReleaseAllocation(
        self, request: exchange_pb2.ReleaseAllocationRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.ReleaseAllocationResponse:
        validate_request_id(request.request_id)
        validate_funding_id(request.allocation_id, "allocation_id")
        return self._funding_command(
            "ReleaseAllocation",
            None,
            request,
            exchange_pb2.ReleaseAllocationResponse,
            "pending_credit",
            lambda funding, now_ms: funding.release_allocation(request.allocation_id, now_ms),
        )

    def ReserveDeallocation(
        self, request: exchange_pb2.ReserveDeallocationRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.ReserveDeallocationResponse:
        validate_request_id(request.request_id)
        account_of_connection(request.connection, self._exchange_id)
        validate_funding_id(request.deallocation_id, "deallocation_id")
        amount_units = self._assets.parse(request.asset, request.amount, "amount")
        return self._funding_command(
            "ReserveDeallocation",
            Operation.DEALLOCATE,
            request,
            exchange_pb2.ReserveDeallocationResponse,
            "held",
            lambda funding, now_ms: funding.reserve_deallocation(
                request.connection, request.deallocation_id, request.asset, amount_units, now_ms
            ),
        )

    def ClearDeallocation(
        self, request: exchange_pb2.ClearDeallocationRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.ClearDeallocationResponse:
        validate_request_id(request.request_id)
        validate_funding_id(request.deallocation_id, "deallocation_id")
        return self._funding_command(
            "ClearDeallocation",
            None,
            request,
            exchange_pb2.ClearDeallocationResponse,
            "mirror",
            lambda funding, now_ms: funding.clear_deallocation(request.deallocation_id, now_ms),
        )

    def ReleaseDeallocation(
        self, request: exchange_pb2.ReleaseDeallocationRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.ReleaseDeallocationResponse:
        validate_request_id(request.request_id)
        validate_funding_id(request.deallocation_id, "deallocation_id")
        return self._funding_command(
            "ReleaseDeallocation",
            None,
            request,
            exchange_pb2.ReleaseDeallocationResponse,
            "held",
            lambda funding, now_ms: funding.release_deallocation(request.deallocation_id, now_ms),
        )

    def CreateStatement(
        self, request: exchange_pb2.CreateStatementRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.CreateStatementResponse:
        validate_request_id(request.request_id)
        return self._service.create_statement(
            request, exchange_pb2.CreateStatementResponse, statement_response
        )

    def ConfirmStatement(
        self, request: exchange_pb2.ConfirmStatementRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.ConfirmStatementResponse:
        validate_request_id(request.request_id)
        parse_statement_name(request.statement)
        settled_entries = self._settled_entries(request)

        def confirm(venue: Venue, now_ms: int) -> exchange_pb2.ConfirmStatementResponse:
            statement = venue.confirm_statement(request.statement, now_ms, settled_entries)
            return exchange_pb2.ConfirmStatementResponse(
                statement=statement.name, state=STATEMENT_STATES_TO_PROTO[statement.state]
            )

        return self._service.run_command(
            "ConfirmStatement", request, exchange_pb2.ConfirmStatementResponse, confirm
        )

    def VoidStatement(
        self, request: exchange_pb2.VoidStatementRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.VoidStatementResponse:
        validate_request_id(request.request_id)
        parse_statement_name(request.statement)
        validate_reason_code(request.reason, "reason")

        def void(venue: Venue, now_ms: int) -> exchange_pb2.VoidStatementResponse:
            statement = venue.void_statement(request.statement, request.reason)
            return exchange_pb2.VoidStatementResponse(
                statement=statement.name, state=STATEMENT_STATES_TO_PROTO[statement.state]
            )

        return self._service.run_command("VoidStatement", request, exchange_pb2.VoidStatementResponse, void)

    def _settled_entries(self, request: exchange_pb2.ConfirmStatementRequest) -> list[StatementEntry] | None:
        """The entries the custodian settled, when it settled only some; None to re-base every entry."""
        if not request.settled_entries and not request.settled_entries_only:
            return None
        entries = []
        for index, entry in enumerate(request.settled_entries):
            field = f"settled_entries[{index}]"
            account_of_connection(entry.connection, self._exchange_id, f"{field}.connection")
            self._assets.scale(entry.asset, f"{field}.asset")
            amount_units = self._assets.parse(
                entry.asset, entry.amount, f"{field}.amount", allow_negative=True
            )
            entries.append(StatementEntry(entry.connection, entry.asset, amount_units))
        return entries

    def ApplyAdjustment(
        self, request: exchange_pb2.ApplyAdjustmentRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.ApplyAdjustmentResponse:
        validate_request_id(request.request_id)
        account_of_connection(request.connection, self._exchange_id)
        self._assets.scale(request.asset, "asset")
        amount_units = self._assets.parse(request.asset, request.amount, "amount", allow_negative=True)
        if request.statement:
            parse_statement_name(request.statement)
        return self._service.run_command(
            "ApplyAdjustment",
            request,
            exchange_pb2.ApplyAdjustmentResponse,
            lambda venue, now_ms: exchange_pb2.ApplyAdjustmentResponse(
                mirror=self._assets.format(
                    request.asset,
                    venue.apply_adjustment(
                        request.connection, request.asset, amount_units, request.statement, now_ms
                    ).mirror_units,
                )
            ),
        )

    def GetVenue(
        self, request: exchange_pb2.GetVenueRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.GetVenueResponse:
        return venue_message(self._service.get_venue())

    def ListMirrors(
        self, request: exchange_pb2.ListMirrorsRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.ListMirrorsResponse:
        return exchange_pb2.ListMirrorsResponse(
            mirrors=[
                exchange_pb2.Mirror(
                    connection=mirror.connection,
                    asset=mirror.asset,
                    mirror=self._assets.format(mirror.asset, mirror.mirror_units),
                    unsettled=self._assets.format(mirror.asset, mirror.unsettled_units),
                )
                for mirror in self._service.list_mirrors()
            ]
        )

    def _funding_command(
        self,
        method: str,
        operation: Operation | None,
        request: HasRequestId,
        response_type: type[ResponseT],
        balance_field: str,
        step: Callable[[Funding, int], Balance | None],
    ) -> ResponseT:
        """Runs one funding step the venue's state allows (compensations always run); the response
        carries the balance field the step moved, formatted."""

        def apply(venue: Venue, now_ms: int) -> ResponseT:
            if operation is not None:
                venue.require(operation)
            balance = step(venue.funding, now_ms)
            return response_type(
                **{balance_field: format_balance_field(balance, balance_field, self._assets)}
            )

        return self._service.run_command(method, request, response_type, apply)


def partner_registration(servicer: PartnerServicer) -> ServiceRegistration:
    """Registers the partner service on a server."""
    return ServiceRegistration(
        PARTNER_SERVICE_NAME,
        lambda server: exchange_pb2_grpc.add_PartnerServiceServicer_to_server(servicer, server),
    )
