"""Connecting a client to an exchange: the custodian opens the connection, the exchange the account."""

from __future__ import annotations

from collections.abc import Callable

from service_kit.clock import Clock
from service_kit.errors import ServiceError, not_found
from settlement_bridge.domain.names import ConnectionName
from settlement_bridge.domain.transfers import Connection
from settlement_bridge.service_layer.ports import (
    VenueRefusedError,
    VenueUnavailableError,
    refusal_error,
    unavailable_error,
)
from settlement_bridge.service_layer.unit_of_work import RequestReceipt, UnitOfWork
from settlement_bridge.service_layer.venues import Venues, derived_request_id

ConnectionReceipt = Callable[[Connection], RequestReceipt]


def connection_not_found(connection: ConnectionName) -> ServiceError:
    """NOT_FOUND for a connection the bridge has not created."""
    return not_found(
        "CONNECTION_NOT_FOUND",
        f"no connection {connection.name}; create it with CreateConnection first",
        connection=connection.name,
    )


class ConnectionService:
    """Creates and reads connections."""

    def __init__(self, unit_of_work: UnitOfWork, venues: Venues, clock: Clock) -> None:
        self._unit_of_work = unit_of_work
        self._venues = venues
        self._clock = clock

    def create(self, connection: ConnectionName, receipt: ConnectionReceipt | None = None) -> Connection:
        """Opens the connection at both venues (each call idempotent), then records it.

        The custodian creates the connection PENDING; the bridge activates it only after the
        exchange has opened the account that mirrors it, so nothing can be locked for an
        exchange that cannot credit it.
        """
        exchange = self._venues.exchange(connection.exchange_id)
        with self._unit_of_work.transaction() as transaction:
            existing = transaction.connections.get(connection)
        if existing is None:
            # Nothing is recorded before both venues answered, so a failure here leaves no trace
            # at the bridge, and the retry repeats the two idempotent calls.
            request_id = derived_request_id(f"{connection.name}/create")
            try:
                self._venues.custodian.create_connection(
                    request_id, connection.client_name, connection.exchange_name
                )
                exchange.create_connection(request_id, connection.name)
                # A request id of its own: the custodian refuses one id reused for another method.
                self._venues.custodian.activate_connection(
                    derived_request_id(f"{connection.name}/activate"), connection.name
                )
            except VenueRefusedError as refusal:
                raise refusal_error(refusal) from refusal
            except VenueUnavailableError as failure:
                raise unavailable_error(failure) from failure
        with self._unit_of_work.transaction() as transaction:
            recorded = transaction.connections.get(connection)
            if recorded is None:
                recorded = Connection(connection, self._clock.now_ms())
                transaction.connections.add(recorded)
            if receipt is not None:
                transaction.record_request(receipt(recorded))
        return recorded

    def get(self, connection: ConnectionName) -> Connection:
        """Returns a connection, or NOT_FOUND CONNECTION_NOT_FOUND."""
        with self._unit_of_work.transaction() as transaction:
            recorded = transaction.connections.get(connection)
        if recorded is None:
            raise connection_not_found(connection)
        return recorded

    def list(self, client_id: str | None) -> list[Connection]:
        """Connections of a client (every client's for None), sorted by name."""
        with self._unit_of_work.transaction() as transaction:
            return transaction.connections.list_of_client(client_id)
