"""Connections: a client's binding to one exchange, through which it allocates and settles."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from custodian_sim.domain.names import ConnectionName
from service_kit.errors import failed_precondition, not_found

CONNECTION_NOT_FOUND = "CONNECTION_NOT_FOUND"
CONNECTION_NOT_ACTIVE = "CONNECTION_NOT_ACTIVE"


class ConnectionState(enum.Enum):
    """Lifecycle of a connection."""

    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"
    DEFAULTED = "DEFAULTED"


@dataclass(frozen=True)
class Connection:
    """Exactly one per client and exchange."""

    name: ConnectionName
    state: ConnectionState
    create_time_ms: int

    def require_active(self) -> None:
        """Refuses new allocations and settlements unless the connection is ACTIVE."""
        if self.state is not ConnectionState.ACTIVE:
            raise failed_precondition(
                CONNECTION_NOT_ACTIVE,
                f"{self.name.name} is {self.state.value}; only an ACTIVE connection allocates or settles",
                connection=self.name.name,
                state=self.state.value,
            )


def new_connection(name: ConnectionName, create_time_ms: int) -> Connection:
    """A new connection starts ACTIVE."""
    return Connection(name, ConnectionState.ACTIVE, create_time_ms)


def require_connection(connection: Connection | None, name: ConnectionName) -> Connection:
    """Returns the connection, or NOT_FOUND."""
    if connection is None:
        raise not_found(
            CONNECTION_NOT_FOUND,
            f"{name.name} does not exist; the bridge creates it with CreateConnection",
            connection=name.name,
        )
    return connection
