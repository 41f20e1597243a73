"""Connections: a client's binding to one exchange, through which it allocates and settles."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace

from custodian_sim.domain.names import ConnectionName
from service_kit.errors import failed_precondition, not_found

CONNECTION_NOT_FOUND = "CONNECTION_NOT_FOUND"
CONNECTION_NOT_ACTIVE = "CONNECTION_NOT_ACTIVE"
CONNECTION_NOT_PENDING = "CONNECTION_NOT_PENDING"
CONNECTION_HAS_ALLOCATION = "CONNECTION_HAS_ALLOCATION"
CONNECTION_DEFAULTED = "CONNECTION_DEFAULTED"


class ConnectionState(enum.Enum):
    """Lifecycle of a connection: PENDING -> ACTIVE -> CLOSED, or DEFAULTED when the exchange fails."""

    PENDING = "PENDING"
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

    def activated(self) -> Connection:
        """PENDING becomes ACTIVE; ACTIVE stays ACTIVE (a retry); CLOSED and DEFAULTED are final."""
        if self.state is ConnectionState.ACTIVE:
            return self
        if self.state is not ConnectionState.PENDING:
            raise failed_precondition(
                CONNECTION_NOT_PENDING,
                f"{self.name.name} is {self.state.value}; only a PENDING connection can be activated",
                connection=self.name.name,
                state=self.state.value,
            )
        return replace(self, state=ConnectionState.ACTIVE)

    def closed(self, allocated_units: Mapping[str, int]) -> Connection:
        """PENDING or ACTIVE becomes CLOSED once nothing is allocated; CLOSED stays CLOSED.

        `allocated_units` is the connection's allocated balance per asset: closing with
        assets still locked would strand them, so the bridge deallocates first.
        """
        if self.state is ConnectionState.CLOSED:
            return self
        if self.state is ConnectionState.DEFAULTED:
            raise failed_precondition(
                CONNECTION_DEFAULTED,
                f"{self.name.name} is DEFAULTED; the default procedure settled it, it cannot be closed",
                connection=self.name.name,
                state=self.state.value,
            )
        held = {asset: units for asset, units in sorted(allocated_units.items()) if units != 0}
        if held:
            raise failed_precondition(
                CONNECTION_HAS_ALLOCATION,
                f"{self.name.name} still has {', '.join(held)} allocated; "
                "deallocate everything before closing it",
                connection=self.name.name,
                assets=",".join(held),
            )
        return replace(self, state=ConnectionState.CLOSED)


def new_connection(name: ConnectionName, create_time_ms: int) -> Connection:
    """A new connection starts PENDING: the exchange has yet to open the account that mirrors it."""
    return Connection(name, ConnectionState.PENDING, create_time_ms)


def require_connection(connection: Connection | None, name: ConnectionName) -> Connection:
    """Returns the connection, or NOT_FOUND."""
    if connection is None:
        raise not_found(
            CONNECTION_NOT_FOUND,
            f"{name.name} does not exist; the bridge creates it with CreateConnection",
            connection=name.name,
        )
    return connection
