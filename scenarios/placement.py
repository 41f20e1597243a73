"""Where each client's assets sit (custodian accounts, the exchange's books, estate claims), as a table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich import box
from rich.table import Table

from oes.custodian.v1 import custodian_pb2
from oes.exchange.v1 import exchange_pb2
from scenarios.endpoints import CALL_TIMEOUT_S, SandboxSession
from scenarios.scenario_file import ScenarioClient
from service_kit.money import AssetScales

# The places an asset can sit, in the order of the table's columns, with their headers.
LOCATIONS: dict[str, str] = {
    "custody_available": "custody available",
    "custody_allocated": "custody allocated",
    "custody_withdrawing": "withdrawing",
    "exchange": "at exchange",
    "claim": "estate claim",
    "recovered": "recovers",
}
PLACEMENT_CAPTION = (
    "custody: the client's accounts at the custodian (allocated = locked for the exchange). "
    "at exchange: an OES client's unsettled result, a traditional client's deposited balance. "
    "frozen: the exchange is insolvent; a traditional client then holds a claim on its estate."
)
# Custody accounts of a client by suffix; a connection's allocation ends with `/allocated`.
_CUSTODY_SUFFIXES = {
    "/available": "custody_available",
    "/allocated": "custody_allocated",
    "/withdrawing": "custody_withdrawing",
}


@dataclass(frozen=True)
class Placement:
    """One client's assets at a moment: integer units per location and asset, and the exchange freeze."""

    units: Mapping[str, Mapping[str, int]]
    frozen: bool = False
    # Per asset with a claim on the estate: the recovery rate in basis points.
    recovery_rate_bps: Mapping[str, int] = field(default_factory=dict)

    def amount(self, location: str, asset: str) -> int:
        """Units of `asset` at `location`; zero when nothing is there."""
        return self.units.get(location, {}).get(asset, 0)

    @property
    def assets(self) -> set[str]:
        """Every asset found at any location."""
        return {asset for by_asset in self.units.values() for asset in by_asset}


def read_placement(admin: SandboxSession, client: ScenarioClient, assets: AssetScales) -> Placement:
    """Reads the client's custody balances (OES clients) and exchange balances and claims (everyone)."""
    account = f"clients/{client.identifier}"
    units: dict[str, dict[str, int]] = {}

    def add(location: str, asset: str, amount: str) -> None:
        if not amount:
            return
        by_asset = units.setdefault(location, {})
        parsed_units = assets.parse(asset, amount, allow_negative=True, allow_zero=True)
        by_asset[asset] = by_asset.get(asset, 0) + parsed_units

    if client.is_oes:
        balances = admin.custody.ListBalances(
            custodian_pb2.ListBalancesRequest(owner=account), timeout=CALL_TIMEOUT_S
        ).balances
        for balance in balances:
            for suffix, location in _CUSTODY_SUFFIXES.items():
                if balance.account.endswith(suffix):
                    add(location, balance.asset, balance.amount)
    exchange = admin.trading.GetBalances(
        exchange_pb2.GetBalancesRequest(account=account), timeout=CALL_TIMEOUT_S
    )
    for exchange_balance in exchange.balances:
        held = exchange_balance.unsettled if client.is_oes else exchange_balance.deposited
        add("exchange", exchange_balance.asset, held)
    for claim in exchange.claims:
        add("claim", claim.asset, claim.amount)
        add("recovered", claim.asset, claim.recovered or "0")
    rates = {claim.asset: claim.recovery_rate_bps for claim in exchange.claims}
    return Placement(units, exchange.frozen, rates)


def placement_document(placement: Placement, assets: AssetScales) -> dict[str, Any]:
    """A placement for result.json: decimal strings per location and asset, zeros left out."""
    return {
        "frozen": placement.frozen,
        "locations": {
            location: {
                asset: assets.format(asset, units_amount)
                for asset, units_amount in sorted(by_asset.items())
                if units_amount
            }
            for location, by_asset in sorted(placement.units.items())
            if any(by_asset.values())
        },
    }


def placement_table(
    clients: Sequence[ScenarioClient],
    before: Mapping[str, Placement],
    after: Mapping[str, Placement],
    assets: AssetScales,
) -> Table:
    """Per client and asset, a `before` and an `after` row with the amount at every location used."""
    used = [
        location
        for location in LOCATIONS
        if any(
            any(placement.units.get(location, {}).values())
            for placement in [*before.values(), *after.values()]
        )
    ]
    table = Table(
        title="where every client's assets sit, after seeding and at the end",
        caption=PLACEMENT_CAPTION,
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption_justify="left",
    )
    for column in ("client", "custody", "asset", ""):
        table.add_column(column, no_wrap=True)
    for location in used:
        table.add_column(LOCATIONS[location], justify="right", no_wrap=True)
    for client in clients:
        first = before.get(client.identifier)
        last = after.get(client.identifier)
        if first is None or last is None:
            continue
        for index, asset in enumerate(sorted(first.assets | last.assets)):
            for moment, placement in (("before", first), ("after", last)):
                if index == 0 and moment == "before":
                    names = [client.identifier, client.custody_model]
                elif index == 0 and placement.frozen:
                    names = ["", "frozen"]
                else:
                    names = ["", ""]
                asset_name = asset if moment == "before" else ""
                amounts = [_amount(assets, asset, placement.amount(location, asset)) for location in used]
                table.add_row(*names, asset_name, moment, *amounts)
        table.add_section()
    return table


def _amount(assets: AssetScales, asset: str, units_amount: int) -> str:
    return assets.format(asset, units_amount) if units_amount else ""
