"""Simulated on-chain deposits: assets arriving from `world/chain` into a party's account."""

from __future__ import annotations

from custodian_sim.domain.ledger import Transfer, TransferKind
from custodian_sim.domain.names import WORLD_CHAIN_ACCOUNT, available_account, settlement_account
from custodian_sim.domain.parties import Party, PartyKind


def deposit_transfer_id(deposit_id: str) -> str:
    """The ledger transfer id of a deposit: at most one transfer per deposit id."""
    return f"deposits/{deposit_id}"


def deposit_account(party: Party) -> str:
    """A client's deposit lands in `available`, an exchange's in its `settlement` account."""
    if party.kind is PartyKind.CLIENT:
        return available_account(party.identifier)
    return settlement_account(party.identifier)


def deposit_transfer(
    party: Party, deposit_id: str, asset: str, amount_units: int, create_time_ms: int
) -> Transfer:
    """Moves the amount from the outside world into the party's account."""
    return Transfer(
        id=deposit_transfer_id(deposit_id),
        from_account=WORLD_CHAIN_ACCOUNT,
        to_account=deposit_account(party),
        asset=asset,
        amount_units=amount_units,
        kind=TransferKind.DEPOSIT,
        reference=party.name,
        create_time_ms=create_time_ms,
    )
