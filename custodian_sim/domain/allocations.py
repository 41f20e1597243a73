"""Allocations: locking part of a client's custody for an exchange, and returning it."""

from __future__ import annotations

from custodian_sim.domain.connections import Connection
from custodian_sim.domain.ledger import Transfer, TransferKind
from custodian_sim.domain.names import allocated_account, available_account


def lock_transfer_id(allocation_id: str) -> str:
    """The ledger transfer id of an allocation's lock: at most one lock per allocation id."""
    return f"allocations/{allocation_id}/lock"


def unlock_transfer_id(unlock_id: str) -> str:
    """The ledger transfer id of an unlock: at most one per unlock id."""
    return f"unlocks/{unlock_id}"


def lock_transfer(
    connection: Connection, allocation_id: str, asset: str, amount_units: int, create_time_ms: int
) -> Transfer:
    """Moves `available -> allocated`; the caller checks the connection takes new allocations."""
    return Transfer(
        id=lock_transfer_id(allocation_id),
        from_account=available_account(connection.name.client_id),
        to_account=allocated_account(connection.name),
        asset=asset,
        amount_units=amount_units,
        kind=TransferKind.ALLOCATION_LOCK,
        reference=connection.name.name,
        create_time_ms=create_time_ms,
    )


def unlock_transfer(
    connection: Connection, unlock_id: str, asset: str, amount_units: int, create_time_ms: int
) -> Transfer:
    """Moves `allocated -> available`.

    Any state allows it: giving a client back its own assets is always safe, and the
    allocated balance bounds the amount.
    """
    return Transfer(
        id=unlock_transfer_id(unlock_id),
        from_account=allocated_account(connection.name),
        to_account=available_account(connection.name.client_id),
        asset=asset,
        amount_units=amount_units,
        kind=TransferKind.ALLOCATION_UNLOCK,
        reference=connection.name.name,
        create_time_ms=create_time_ms,
    )
