"""One exchange's port over gRPC (oes.exchange.v1 PartnerService), authenticated as the bridge."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from oes.common.v1 import statement_pb2
from oes.exchange.v1 import exchange_pb2, exchange_pb2_grpc
from service_kit.money import AssetScales
from service_kit.statement import StatementEntryContent
from service_kit.statement_messages import content_from_message
from settlement_bridge.adapters.venue_calls import VenueCaller, reconcilable_units
from settlement_bridge.domain.settlement import IssuedStatement
from settlement_bridge.service_layer.ports import MirrorBalance, VenueIdentity


class GrpcExchange:
    """Calls one exchange's partner service."""

    def __init__(
        self,
        exchange_id: str,
        channel: grpc.Channel,
        assets: AssetScales,
        caller: VenueCaller | None = None,
    ) -> None:
        self._partner = exchange_pb2_grpc.PartnerServiceStub(channel)
        self._assets = assets
        self._caller = caller or VenueCaller(f"exchanges/{exchange_id}")

    def create_connection(self, request_id: str, connection: str) -> None:
        self._caller.call(
            self._partner.CreateConnection,
            exchange_pb2.CreateConnectionRequest(request_id=request_id, connection=connection),
        )

    def reserve_allocation(
        self, request_id: str, connection: str, allocation_id: str, asset: str, amount_units: int
    ) -> None:
        self._caller.call(
            self._partner.ReserveAllocation,
            exchange_pb2.ReserveAllocationRequest(
                request_id=request_id,
                connection=connection,
                allocation_id=allocation_id,
                asset=asset,
                amount=self._assets.format(asset, amount_units),
            ),
        )

    def clear_allocation(self, request_id: str, allocation_id: str) -> None:
        self._caller.call(
            self._partner.ClearAllocation,
            exchange_pb2.ClearAllocationRequest(request_id=request_id, allocation_id=allocation_id),
        )

    def release_allocation(self, request_id: str, allocation_id: str) -> None:
        self._caller.call(
            self._partner.ReleaseAllocation,
            exchange_pb2.ReleaseAllocationRequest(request_id=request_id, allocation_id=allocation_id),
        )

    def reserve_deallocation(
        self, request_id: str, connection: str, deallocation_id: str, asset: str, amount_units: int
    ) -> None:
        self._caller.call(
            self._partner.ReserveDeallocation,
            exchange_pb2.ReserveDeallocationRequest(
                request_id=request_id,
                connection=connection,
                deallocation_id=deallocation_id,
                asset=asset,
                amount=self._assets.format(asset, amount_units),
            ),
        )

    def clear_deallocation(self, request_id: str, deallocation_id: str) -> None:
        self._caller.call(
            self._partner.ClearDeallocation,
            exchange_pb2.ClearDeallocationRequest(request_id=request_id, deallocation_id=deallocation_id),
        )

    def release_deallocation(self, request_id: str, deallocation_id: str) -> None:
        self._caller.call(
            self._partner.ReleaseDeallocation,
            exchange_pb2.ReleaseDeallocationRequest(request_id=request_id, deallocation_id=deallocation_id),
        )

    def create_statement(self, request_id: str) -> IssuedStatement:
        response: exchange_pb2.CreateStatementResponse = self._caller.call(
            self._partner.CreateStatement, exchange_pb2.CreateStatementRequest(request_id=request_id)
        )
        statement = response.statement
        return IssuedStatement(
            content_from_message(statement),
            statement.signature,
            statement.SerializeToString(deterministic=True),
        )

    def apply_adjustment(
        self, request_id: str, connection: str, asset: str, amount: str, statement: str
    ) -> None:
        self._caller.call(
            self._partner.ApplyAdjustment,
            exchange_pb2.ApplyAdjustmentRequest(
                request_id=request_id, connection=connection, asset=asset, amount=amount, statement=statement
            ),
        )

    def confirm_statement(
        self,
        request_id: str,
        statement_name: str,
        settled_entries: Sequence[StatementEntryContent] | None = None,
    ) -> None:
        request = exchange_pb2.ConfirmStatementRequest(request_id=request_id, statement=statement_name)
        if settled_entries is not None:
            request.settled_entries_only = True
            request.settled_entries.extend(
                statement_pb2.StatementEntry(
                    connection=entry.connection, asset=entry.asset, amount=entry.amount
                )
                for entry in settled_entries
            )
        self._caller.call(self._partner.ConfirmStatement, request)

    def void_statement(self, request_id: str, statement_name: str, reason: str) -> None:
        self._caller.call(
            self._partner.VoidStatement,
            exchange_pb2.VoidStatementRequest(request_id=request_id, statement=statement_name, reason=reason),
        )

    def get_venue(self) -> VenueIdentity:
        response: exchange_pb2.GetVenueResponse = self._caller.call(
            self._partner.GetVenue, exchange_pb2.GetVenueRequest()
        )
        return VenueIdentity(
            response.exchange, bytes(response.statement_public_key), venue_state_name(response.state)
        )

    def list_mirrors(self) -> list[MirrorBalance]:
        response: exchange_pb2.ListMirrorsResponse = self._caller.call(
            self._partner.ListMirrors, exchange_pb2.ListMirrorsRequest()
        )
        mirrors = []
        for mirror in response.mirrors:
            units = reconcilable_units(self._assets, mirror.asset, mirror.mirror, "mirror")
            if units is not None:
                unsettled = mirror.unsettled or "0"
                unsettled_units = reconcilable_units(self._assets, mirror.asset, unsettled, "unsettled")
                mirrors.append(MirrorBalance(mirror.connection, mirror.asset, units, unsettled_units or 0))
        return mirrors


def venue_state_name(state: int) -> str:
    """`INSOLVENT` for VENUE_STATE_INSOLVENT; empty for an unset or unknown value."""
    try:
        name = exchange_pb2.VenueState.Name(state)
    except ValueError:
        return ""
    return "" if state == exchange_pb2.VENUE_STATE_UNSPECIFIED else name.removeprefix("VENUE_STATE_")
