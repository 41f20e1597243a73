"""Proof of reserves: what the custodian holds on the chain against what it owes each party."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from custodian_sim.domain.names import WORLD_OWNER


@dataclass(frozen=True)
class OwnerTotal:
    """The sum of every account of one owner in one asset."""

    owner: str
    asset: str
    units: int


@dataclass(frozen=True)
class Liability:
    """What the custodian owes one party in one asset: the sum of the party's accounts."""

    party: str
    amount_units: int


@dataclass(frozen=True)
class AssetReserves:
    """The reserves of one asset."""

    asset: str
    # Deposits minus confirmed withdrawals: what left `world/chain` for the custodian.
    held_on_chain_units: int
    owed_total_units: int
    # Sorted by party; parties owed nothing are left out.
    liabilities: tuple[Liability, ...]

    @property
    def difference_units(self) -> int:
        """Held minus owed; zero when every unit is accounted for."""
        return self.held_on_chain_units - self.owed_total_units


def proof_of_reserves(totals: Iterable[OwnerTotal]) -> list[AssetReserves]:
    """One report per asset, sorted by asset, from the per-owner sums of the balances.

    `world/chain` goes negative by what was deposited, so the custodian holds its negation;
    every other owner is a client or an exchange the custodian owes.
    """
    held: dict[str, int] = {}
    liabilities: dict[str, list[Liability]] = {}
    for total in totals:
        held.setdefault(total.asset, 0)
        owed = liabilities.setdefault(total.asset, [])
        if total.owner == WORLD_OWNER:
            held[total.asset] -= total.units
        elif total.units != 0:
            owed.append(Liability(total.owner, total.units))
    reports: list[AssetReserves] = []
    for asset in sorted(held):
        owed = sorted(liabilities[asset], key=lambda liability: liability.party)
        reports.append(
            AssetReserves(
                asset=asset,
                held_on_chain_units=held[asset],
                owed_total_units=sum(liability.amount_units for liability in owed),
                liabilities=tuple(owed),
            )
        )
    return reports
