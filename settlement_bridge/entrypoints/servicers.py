"""The bridge's gRPC servicers: SettlementNetworkService for clients, BridgeAdminService for admin.

Every handler validates its whole request before it reads or writes anything. Mutations are
idempotent by request_id: the request log entry is written in the same transaction that accepts
the resource, and a retry returns that resource in its current state (resuming its workflow if
it is still pending).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import grpc
from google.protobuf.message import Message

from oes.bridge.v1 import bridge_pb2, bridge_pb2_grpc
from service_kit.auth import PrincipalKind, current_principal, require_owner
from service_kit.errors import invalid_argument
from service_kit.idempotency import HasRequestId, RequestLog, validate_request_id
from service_kit.money import AssetScales
from service_kit.paging import (
    decode_page_token,
    encode_page_token,
    parse_after_sequence,
    parse_page_size,
    query_fingerprint,
)
from service_kit.streams import StreamSlots
from service_kit.timestamps import to_timestamp
from settlement_bridge.domain.disputes import REASON_LENGTH_MAX, Dispute
from settlement_bridge.domain.names import (
    ConnectionName,
    parse_allocation_name,
    parse_client_name,
    parse_connection_name,
    parse_deallocation_name,
    parse_dispute_name,
    parse_exchange_name,
    parse_settlement_name,
    parse_statement_name,
)
from settlement_bridge.domain.settlement import SettlementCycle
from settlement_bridge.domain.transfers import Allocation, Connection, Deallocation
from settlement_bridge.entrypoints.messages import (
    break_message,
    connection_message,
    dispute_message,
    event_message,
    settlement_message,
    transfer_message,
)
from settlement_bridge.entrypoints.venue_health import VenueHealthReport
from settlement_bridge.service_layer.allocations import AllocationWorkflow
from settlement_bridge.service_layer.connections import ConnectionService
from settlement_bridge.service_layer.deallocations import DeallocationWorkflow
from settlement_bridge.service_layer.disputes import DisputeService
from settlement_bridge.service_layer.events import EventFeed
from settlement_bridge.service_layer.settlement import SettlementCycles
from settlement_bridge.service_layer.unit_of_work import (
    RequestAlreadyRecordedError,
    RequestReceipt,
    TransferT,
)
from settlement_bridge.service_layer.workflows import TransferWorkflow

PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 100
# A page position past every transfer number: the first page starts there.
_NUMBER_END = 2**63 - 1
# Each open stream holds one of the server's workers, so a few stay free for the workflows.
EVENT_STREAMS_MAX = 4

ResponseT = TypeVar("ResponseT", bound=Message)


def _accept_once(
    request_log: RequestLog,
    method: str,
    request: HasRequestId,
    response_type: type[ResponseT],
    retry: Callable[[ResponseT], ResponseT],
    first: Callable[[], ResponseT],
) -> ResponseT:
    """Runs `first` for a new request_id, `retry` with the stored response for a repeated one."""
    stored = request_log.lookup(method, request, response_type)
    if stored is not None:
        return retry(stored)
    try:
        return first()
    except RequestAlreadyRecordedError:
        # A concurrent duplicate of this request accepted its resource first: answer as its retry.
        stored = request_log.lookup(method, request, response_type)
        assert stored is not None, "the duplicate's receipt was committed before it was refused"
        return retry(stored)


def _client_scope(client: str) -> str | None:
    """The client id a list is narrowed to: the one asked for (if the caller may), the caller's own
    for a client, or None (every client) for the admin."""
    if client:
        client_id = parse_client_name(client, "client")
        require_owner(current_principal(), client)
        return client_id
    own = _client_filter()
    return None if own is None else parse_client_name(own, "client")


def _client_filter() -> str | None:
    """The client whose own entries a settlement is narrowed to, or None for admin."""
    principal = current_principal()
    return principal.name if principal.kind is PrincipalKind.CLIENT else None


class SettlementNetworkServicer(bridge_pb2_grpc.SettlementNetworkServiceServicer):
    """Connections, allocations, deallocations and settlements for clients (and admin)."""

    def __init__(
        self,
        connections: ConnectionService,
        allocations: AllocationWorkflow,
        deallocations: DeallocationWorkflow,
        settlements: SettlementCycles,
        request_log: RequestLog,
        assets: AssetScales,
        events: EventFeed,
        disputes: DisputeService,
    ) -> None:
        self._disputes = disputes
        self._events = events
        self._event_streams = StreamSlots(EVENT_STREAMS_MAX, "EVENT_STREAMS_EXHAUSTED")
        self._connections = connections
        self._allocations = allocations
        self._deallocations = deallocations
        self._settlements = settlements
        self._request_log = request_log
        self._assets = assets

    def ListConnections(
        self, request: bridge_pb2.ListConnectionsRequest, context: grpc.ServicerContext
    ) -> bridge_pb2.ListConnectionsResponse:
        client_id = _client_scope(request.client)
        return bridge_pb2.ListConnectionsResponse(
            connections=[
                connection_message(connection, self._assets)
                for connection in self._connections.list(client_id)
            ]
        )

    def ListAllocations(
        self, request: bridge_pb2.ListAllocationsRequest, context: grpc.ServicerContext
    ) -> bridge_pb2.ListAllocationsResponse:
        allocations, token = self._list_transfers(request, self._allocations, "ListAllocations")
        return bridge_pb2.ListAllocationsResponse(
            allocations=[transfer_message(item, self._assets, bridge_pb2.Allocation) for item in allocations],
            next_page_token=token,
        )

    def ListDeallocations(
        self, request: bridge_pb2.ListDeallocationsRequest, context: grpc.ServicerContext
    ) -> bridge_pb2.ListDeallocationsResponse:
        deallocations, token = self._list_transfers(request, self._deallocations, "ListDeallocations")
        return bridge_pb2.ListDeallocationsResponse(
            deallocations=[
                transfer_message(item, self._assets, bridge_pb2.Deallocation) for item in deallocations
            ],
            next_page_token=token,
        )

    def _list_transfers(
        self,
        request: bridge_pb2.ListAllocationsRequest | bridge_pb2.ListDeallocationsRequest,
        workflow: TransferWorkflow[TransferT],
        method: str,
    ) -> tuple[list[TransferT], str]:
        """A page of a connection's transfers, newest first, and the token of the next page."""
        connection = parse_connection_name(request.connection, "connection")
        require_owner(current_principal(), connection.client_name)
        page_size = parse_page_size(request.page_size)
        fingerprint = query_fingerprint(method, request.connection)
        before_number = decode_page_token(request.page_token, fingerprint) or _NUMBER_END
        transfers = workflow.list(connection, before_number, page_size + 1)
        token = (
            encode_page_token(transfers[page_size - 1].number, fingerprint)
            if len(transfers) > page_size
            else ""
        )
        return transfers[:page_size], token

    def CreateDispute(
        self, request: bridge_pb2.CreateDisputeRequest, context: grpc.ServicerContext
    ) -> bridge_pb2.CreateDisputeResponse:
        validate_request_id(request.request_id)
        connection = parse_connection_name(request.connection, "connection")
        exchange_id = parse_statement_name(request.statement, "statement")
        if exchange_id != connection.exchange_id:
            raise invalid_argument(
                "STATEMENT_OF_OTHER_EXCHANGE",
                "statement",
                f"{request.statement} is not a statement of {connection.name}",
            )
        self._assets.scale(request.asset, "asset")
        claimed_units = self._assets.parse(
            request.asset, request.claimed_amount, "claimed_amount", allow_negative=True, allow_zero=True
        )
        if not 1 <= len(request.reason) <= REASON_LENGTH_MAX or not request.reason.isprintable():
            raise invalid_argument(
                "REASON_INVALID", "reason", f"1 to {REASON_LENGTH_MAX} printable characters"
            )
        require_owner(current_principal(), connection.client_name)
        method = "CreateDispute"

        def response(dispute: Dispute) -> bridge_pb2.CreateDisputeResponse:
            return bridge_pb2.CreateDisputeResponse(dispute=dispute_message(dispute, self._assets))

        return _accept_once(
            self._request_log,
            method,
            request,
            bridge_pb2.CreateDisputeResponse,
            lambda stored: stored,
            lambda: response(
                self._disputes.create(
                    connection,
                    request.statement,
                    request.asset,
                    claimed_units,
                    request.reason,
                    lambda created: RequestReceipt(method, request, response(created)),
                )
            ),
        )

    def RetractDispute(
        self, request: bridge_pb2.RetractDisputeRequest, context: grpc.ServicerContext
    ) -> bridge_pb2.RetractDisputeResponse:
        validate_request_id(request.request_id)
        connection, number = parse_dispute_name(request.name, "name")
        require_owner(current_principal(), connection.client_name)
        method = "RetractDispute"

        def response(dispute: Dispute) -> bridge_pb2.RetractDisputeResponse:
            return bridge_pb2.RetractDisputeResponse(dispute=dispute_message(dispute, self._assets))

        return _accept_once(
            self._request_log,
            method,
            request,
            bridge_pb2.RetractDisputeResponse,
            lambda stored: stored,
            lambda: response(
                self._disputes.retract(
                    connection, number, lambda decided: RequestReceipt(method, request, response(decided))
                )
            ),
        )

    def ListDisputes(
        self, request: bridge_pb2.ListDisputesRequest, context: grpc.ServicerContext
    ) -> bridge_pb2.ListDisputesResponse:
        client_id = _client_scope(request.client)
        return bridge_pb2.ListDisputesResponse(
            disputes=[dispute_message(dispute, self._assets) for dispute in self._disputes.list(client_id)]
        )

    def StreamEvents(
        self, request: bridge_pb2.StreamEventsRequest, context: grpc.ServicerContext
    ) -> Iterator[bridge_pb2.StreamEventsResponse]:
        after_sequence = parse_after_sequence(request.after_sequence)
        client = _client_filter()
        with self._event_streams.slot():
            for event in self._events.follow(after_sequence, client, context.is_active):
                yield bridge_pb2.StreamEventsResponse(event=event_message(event))

    def CreateConnection(
        self, request: bridge_pb2.CreateConnectionRequest, context: grpc.ServicerContext
    ) -> bridge_pb2.CreateConnectionResponse:
        validate_request_id(request.request_id)
        connection = ConnectionName(
            parse_client_name(request.client, "client"), parse_exchange_name(request.exchange, "exchange")
        )
        require_owner(current_principal(), connection.client_name)
        method = "CreateConnection"

        def receipt(created: Connection) -> RequestReceipt:
            return RequestReceipt(method, request, self._connection_response(created))

        return _accept_once(
            self._request_log,
            method,
            request,
            bridge_pb2.CreateConnectionResponse,
            lambda stored: stored,
            lambda: self._connection_response(self._connections.create(connection, receipt)),
        )

    def CreateAllocation(
        self, request: bridge_pb2.CreateAllocationRequest, context: grpc.ServicerContext
    ) -> bridge_pb2.CreateAllocationResponse:
        return self._create_transfer(
            "CreateAllocation",
            request,
            self._allocations,
            self._allocation_response,
            bridge_pb2.CreateAllocationResponse,
            lambda stored: parse_allocation_name(stored.allocation.name, "name")[1],
        )

    def GetAllocation(
        self, request: bridge_pb2.GetAllocationRequest, context: grpc.ServicerContext
    ) -> bridge_pb2.GetAllocationResponse:
        allocation = self._owned_transfer(request.name, parse_allocation_name, self._allocations)
        return bridge_pb2.GetAllocationResponse(
            allocation=transfer_message(allocation, self._assets, bridge_pb2.Allocation)
        )

    def CreateDeallocation(
        self, request: bridge_pb2.CreateDeallocationRequest, context: grpc.ServicerContext
    ) -> bridge_pb2.CreateDeallocationResponse:
        return self._create_transfer(
            "CreateDeallocation",
            request,
            self._deallocations,
            self._deallocation_response,
            bridge_pb2.CreateDeallocationResponse,
            lambda stored: parse_deallocation_name(stored.deallocation.name, "name")[1],
        )

    def GetDeallocation(
        self, request: bridge_pb2.GetDeallocationRequest, context: grpc.ServicerContext
    ) -> bridge_pb2.GetDeallocationResponse:
        deallocation = self._owned_transfer(request.name, parse_deallocation_name, self._deallocations)
        return bridge_pb2.GetDeallocationResponse(
            deallocation=transfer_message(deallocation, self._assets, bridge_pb2.Deallocation)
        )

    def GetSettlement(
        self, request: bridge_pb2.GetSettlementRequest, context: grpc.ServicerContext
    ) -> bridge_pb2.GetSettlementResponse:
        number = parse_settlement_name(request.name, "name")
        cycle = self._settlements.get(number)
        return bridge_pb2.GetSettlementResponse(
            settlement=settlement_message(cycle, self._assets, _client_filter())
        )

    def ListSettlements(
        self, request: bridge_pb2.ListSettlementsRequest, context: grpc.ServicerContext
    ) -> bridge_pb2.ListSettlementsResponse:
        if not 0 <= request.page_size <= PAGE_SIZE_MAX:
            raise invalid_argument(
                "PAGE_SIZE_OUT_OF_RANGE",
                "page_size",
                f"must be 1 to {PAGE_SIZE_MAX}, or 0 for {PAGE_SIZE_DEFAULT}",
            )
        cycles = self._settlements.list_newest(request.page_size or PAGE_SIZE_DEFAULT)
        client_name = _client_filter()
        return bridge_pb2.ListSettlementsResponse(
            settlements=[settlement_message(cycle, self._assets, client_name) for cycle in cycles]
        )

    def _create_transfer(
        self,
        method: str,
        request: bridge_pb2.CreateAllocationRequest | bridge_pb2.CreateDeallocationRequest,
        workflow: TransferWorkflow[TransferT],
        response: Callable[[TransferT], ResponseT],
        response_type: type[ResponseT],
        stored_number: Callable[[ResponseT], int],
    ) -> ResponseT:
        """Accepts a transfer once per request_id; a retry drives the transfer it accepted and returns it."""
        validate_request_id(request.request_id)
        connection = parse_connection_name(request.connection, "connection")
        amount_units = self._assets.parse(request.asset, request.amount, "amount")
        require_owner(current_principal(), connection.client_name)

        def receipt(accepted: TransferT) -> RequestReceipt:
            return RequestReceipt(method, request, response(accepted))

        return _accept_once(
            self._request_log,
            method,
            request,
            response_type,
            lambda stored: response(workflow.drive(stored_number(stored))),
            lambda: response(workflow.create(connection, request.asset, amount_units, receipt)),
        )

    def _owned_transfer(
        self,
        name: str,
        parse_name: Callable[[str, str], tuple[ConnectionName, int]],
        workflow: TransferWorkflow[TransferT],
    ) -> TransferT:
        """The transfer named `name`, once the caller is known to own its connection."""
        connection, number = parse_name(name, "name")
        require_owner(current_principal(), connection.client_name)
        return workflow.get(connection, number)

    def _connection_response(self, connection: Connection) -> bridge_pb2.CreateConnectionResponse:
        return bridge_pb2.CreateConnectionResponse(connection=connection_message(connection, self._assets))

    def _allocation_response(self, allocation: Allocation) -> bridge_pb2.CreateAllocationResponse:
        return bridge_pb2.CreateAllocationResponse(
            allocation=transfer_message(allocation, self._assets, bridge_pb2.Allocation)
        )

    def _deallocation_response(self, deallocation: Deallocation) -> bridge_pb2.CreateDeallocationResponse:
        return bridge_pb2.CreateDeallocationResponse(
            deallocation=transfer_message(deallocation, self._assets, bridge_pb2.Deallocation)
        )


class BridgeAdminServicer(bridge_pb2_grpc.BridgeAdminServiceServicer):
    """Operation of the network: settlement cycles on demand, venue health."""

    def __init__(
        self,
        settlements: SettlementCycles,
        request_log: RequestLog,
        assets: AssetScales,
        *,
        venue_health: VenueHealthReport,
        disputes: DisputeService,
    ) -> None:
        self._disputes = disputes
        self._settlements = settlements
        self._request_log = request_log
        self._assets = assets
        self._venue_health = venue_health

    def GetVenueHealth(
        self, request: bridge_pb2.GetVenueHealthRequest, context: grpc.ServicerContext
    ) -> bridge_pb2.GetVenueHealthResponse:
        return self._venue_health.response()

    def RunSettlementCycle(
        self, request: bridge_pb2.RunSettlementCycleRequest, context: grpc.ServicerContext
    ) -> bridge_pb2.RunSettlementCycleResponse:
        validate_request_id(request.request_id)
        exchange_id = parse_exchange_name(request.exchange, "exchange")
        method = "RunSettlementCycle"

        def receipt(started: SettlementCycle) -> RequestReceipt:
            return RequestReceipt(method, request, self._response(started))

        def retry(stored: bridge_pb2.RunSettlementCycleResponse) -> bridge_pb2.RunSettlementCycleResponse:
            return self._response(
                self._settlements.resume(parse_settlement_name(stored.settlement.name, "name"))
            )

        return _accept_once(
            self._request_log,
            method,
            request,
            bridge_pb2.RunSettlementCycleResponse,
            retry,
            lambda: self._response(self._settlements.run(exchange_id, receipt)),
        )

    def ResolveDispute(
        self, request: bridge_pb2.ResolveDisputeRequest, context: grpc.ServicerContext
    ) -> bridge_pb2.ResolveDisputeResponse:
        validate_request_id(request.request_id)
        connection, number = parse_dispute_name(request.name, "name")
        if request.resolved_amount and not request.approve:
            raise invalid_argument(
                "RESOLVED_AMOUNT_NOT_ALLOWED", "resolved_amount", "only an approval settles at another amount"
            )
        dispute = self._disputes.get(connection, number)
        decided_units = None
        if request.resolved_amount:
            decided_units = self._assets.parse(
                dispute.asset,
                request.resolved_amount,
                "resolved_amount",
                allow_negative=True,
                allow_zero=True,
            )
        method = "ResolveDispute"

        def response(decided: Dispute) -> bridge_pb2.ResolveDisputeResponse:
            return bridge_pb2.ResolveDisputeResponse(dispute=dispute_message(decided, self._assets))

        return _accept_once(
            self._request_log,
            method,
            request,
            bridge_pb2.ResolveDisputeResponse,
            lambda stored: stored,
            lambda: response(
                self._disputes.resolve(
                    connection,
                    number,
                    request.approve,
                    decided_units,
                    lambda decided: RequestReceipt(method, request, response(decided)),
                )
            ),
        )

    def Reconcile(
        self, request: bridge_pb2.ReconcileRequest, context: grpc.ServicerContext
    ) -> bridge_pb2.ReconcileResponse:
        exchange_id = parse_exchange_name(request.exchange, "exchange")
        reconcile_time_ms = self._settlements.now_ms()
        breaks = self._settlements.reconcile(exchange_id)
        return bridge_pb2.ReconcileResponse(
            breaks=[break_message(found, self._assets) for found in breaks],
            reconcile_time=to_timestamp(reconcile_time_ms),
        )

    def _response(self, cycle: SettlementCycle) -> bridge_pb2.RunSettlementCycleResponse:
        return bridge_pb2.RunSettlementCycleResponse(settlement=settlement_message(cycle, self._assets))
