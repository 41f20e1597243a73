"""Compare mode: each client's assets before and after a scenario, its loss, when it could use them again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from textwrap import wrap
from typing import Any

from oes.control.v1 import control_pb2
from scenarios.endpoints import CALL_TIMEOUT_S, SandboxSession
from scenarios.placement import Placement
from scenarios.scenario_file import ScenarioClient, ScenarioWorld, Step, format_duration
from service_kit.money import AssetScales

LOSS_VALUATION = (
    "loss = before + own flows - after, per asset in that asset's own units (no prices: a loss in one "
    "asset is never netted against a gain in another). Own flows are the client's fills and fees (from "
    "the exchange journal) and its completed deposit and withdraw steps, so that trading is not counted "
    "as a loss. A negative loss is a gain, for example a sale the failure undid. OES holdings are custody "
    "available + allocated + withdrawing, plus the exchange's unsettled while the account is not frozen; "
    "traditional holdings are what the exchange holds for the client while it is not frozen, then what "
    "the estate recovers."
)

# The footer is wrapped to this many characters.
FOOTER_WIDTH = 100
# Custody locations of a client that count as its holdings (see scenarios/placement.py).
_HELD_CUSTODY_LOCATIONS = ("custody_available", "custody_allocated", "custody_withdrawing")
# Steps whose sandbox time can start a default: the insolvency itself, or the venue made unreachable.
_UNREACHABLE_ACTIONS = ("kill", "set_fault")


@dataclass(frozen=True)
class Holdings:
    """One client's holdings at a moment, in integer units per asset, and whether any of it is frozen."""

    units: Mapping[str, int]
    claims: Mapping[str, tuple[int, int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class ClientComparison:
    """One row of the compare table."""

    client: str
    custody_model: str
    before: Mapping[str, int]
    flows: Mapping[str, int]
    after: Mapping[str, int]
    usable_after_ms: int | None
    usable_after: str

    def loss(self, asset: str) -> int:
        """Before plus the client's own flows minus after, in units of `asset`."""
        return self.before.get(asset, 0) + self.flows.get(asset, 0) - self.after.get(asset, 0)

    @property
    def assets(self) -> list[str]:
        """Every asset the row mentions, sorted."""
        return sorted(set(self.before) | set(self.flows) | set(self.after))


def holdings_from(placement: Placement, client: ScenarioClient) -> Holdings:
    """What the client holds: custody and unsettled for OES, deposited or recovered for traditional."""
    units: dict[str, int] = {}
    if client.is_oes:
        held_locations = list(_HELD_CUSTODY_LOCATIONS)
        if not placement.frozen:
            held_locations.append("exchange")
    else:
        held_locations = ["recovered"] if placement.frozen else ["exchange"]
    for location in held_locations:
        for asset, location_units in placement.units.get(location, {}).items():
            units[asset] = units.get(asset, 0) + location_units
    claims = {
        asset: (claim_units, placement.amount("recovered", asset), placement.recovery_rate_bps.get(asset, 0))
        for asset, claim_units in placement.units.get("claim", {}).items()
    }
    return Holdings(units, claims)


def sandbox_now_ms(admin: SandboxSession, address: str) -> int:
    """The sandbox clock of the service at `address`, in ms since the epoch."""
    now = admin.control(address).GetClock(control_pb2.GetClockRequest(), timeout=CALL_TIMEOUT_S).now
    return int(now.ToMilliseconds())


def own_flows(
    client: ScenarioClient,
    journal: Sequence[Mapping[str, Any]],
    completed_steps: Sequence[Step],
    assets: AssetScales,
) -> dict[str, int]:
    """The client's fills and fees (exchange journal) and its completed deposits and withdrawals."""
    account = f"clients/{client.identifier}"
    flows: dict[str, int] = {}

    def add(asset: str, units_delta: int) -> None:
        flows[asset] = flows.get(asset, 0) + units_delta

    for event in journal:
        if event["service"] != "exchange" or event["kind"] != "TRADE":
            continue
        trade = event["attributes"]
        if account not in (trade["buyer"], trade["seller"]):
            continue
        base, quote = trade["market"].split("-", 1)
        quantity_units = assets.parse(base, trade["quantity"])
        price_units = assets.parse(quote, trade["price"])
        # The venue's notional: quote units of price * quantity, rounded down.
        notional_units = price_units * quantity_units // 10 ** assets.scale(base)
        if trade["buyer"] == account:
            add(base, quantity_units)
            add(quote, -notional_units - assets.parse(quote, trade["buyer_fee"], allow_zero=True))
        if trade["seller"] == account:
            add(base, -quantity_units)
            add(quote, notional_units - assets.parse(quote, trade["seller_fee"], allow_zero=True))
    for step in completed_steps:
        if step.fields.get("client") != client.identifier:
            continue
        if step.action in ("deposit", "withdraw"):
            amount_units = assets.parse(step.fields["asset"], step.fields["amount"])
            add(step.fields["asset"], amount_units if step.action == "deposit" else -amount_units)
    return flows


def usable_after(
    client: ScenarioClient,
    after: Holdings,
    journal: Sequence[Mapping[str, Any]],
    steps: Sequence[Step],
    epoch_ms: int,
) -> tuple[int | None, str]:
    """How long after its venue failed the client's assets were usable again, in sandbox ms and words.

    OES: from the step that made the venue insolvent (its VENUE_STATE event) or unreachable (a kill or
    fault of the exchange) to the bridge's CONNECTION event that returned the principal. Traditional:
    only when the estate pays out, which the sandbox never does.
    """
    if not client.is_oes:
        if not after.claims:
            return 0, "usable throughout (no failure)"
        rates = sorted({rate_bps for _, _, rate_bps in after.claims.values()})
        recovery = ", ".join(f"{rate_bps / 100:g} %" for rate_bps in rates)
        return None, f"not before the estate pays out (recovers {recovery})"
    prefix = f"clients/{client.identifier}/connections/"
    defaults = [
        event
        for event in journal
        if event["service"] == "bridge"
        and event["kind"] == "CONNECTION"
        and event["subject"].startswith(prefix)
        and event["attributes"].get("state") == "DEFAULTED"
    ]
    if not defaults:
        return 0, "usable throughout (no default)"
    waits_ms: list[int] = []
    for default in defaults:
        exchange = default["attributes"].get("exchange", "")
        default_ms = int(default["time_ms"])
        if default["attributes"].get("reason") == "EXCHANGE_INSOLVENT":
            starts = [
                int(event["time_ms"])
                for event in journal
                if event["service"] == "exchange"
                and event["kind"] == "VENUE_STATE"
                and event["subject"] == exchange
                and event["attributes"].get("state") == "INSOLVENT"
                and int(event["time_ms"]) <= default_ms
            ]
        else:
            starts = [
                epoch_ms + step.at_ms
                for step in steps
                if step.action in _UNREACHABLE_ACTIONS
                and step.fields.get("service") == "exchange"
                and epoch_ms + step.at_ms <= default_ms
            ]
        if not starts:
            return None, "unknown (no failing step found before the default)"
        waits_ms.append(default_ms - max(starts))
    wait_ms = max(waits_ms)
    return wait_ms, f"{format_duration(wait_ms)} after the failure (principal returned)"


def compare_rows(
    world: ScenarioWorld,
    before: Mapping[str, Holdings],
    after: Mapping[str, Holdings],
    journal: Sequence[Mapping[str, Any]],
    steps: Sequence[Step],
    completed_steps: Sequence[Step],
    epoch_ms: int,
) -> list[ClientComparison]:
    """One comparison per client of the world, in the world's order."""
    rows = []
    for client in world.clients:
        usable_ms, usable_words = usable_after(client, after[client.identifier], journal, steps, epoch_ms)
        rows.append(
            ClientComparison(
                client=client.identifier,
                custody_model=client.custody_model,
                before=dict(before[client.identifier].units),
                flows=own_flows(client, journal, completed_steps, world.assets),
                after=dict(after[client.identifier].units),
                usable_after_ms=usable_ms,
                usable_after=usable_words,
            )
        )
    return rows


def compare_document(rows: Sequence[ClientComparison], assets: AssetScales) -> dict[str, Any]:
    """The compare section of result.json: amounts as decimal strings, the loss valuation stated."""
    return {
        "loss_valuation": LOSS_VALUATION,
        "clients": [
            {
                "client": row.client,
                "custody_model": row.custody_model,
                "before": {asset: assets.format(asset, row.before.get(asset, 0)) for asset in row.assets},
                "own_flows": {asset: assets.format(asset, row.flows.get(asset, 0)) for asset in row.assets},
                "after": {asset: assets.format(asset, row.after.get(asset, 0)) for asset in row.assets},
                "loss": {asset: assets.format(asset, row.loss(asset)) for asset in row.assets},
                "usable_after_ms": row.usable_after_ms,
                "usable_after": row.usable_after,
            }
            for row in rows
        ],
    }


def compare_table(rows: Sequence[ClientComparison], assets: AssetScales) -> str:
    """A plain-text table, one line per client and asset, with the loss valuation as its footer."""
    header = ("client", "custody", "asset", "before", "own flows", "after", "loss", "usable again")
    lines: list[tuple[str, ...]] = []
    for row in rows:
        for index, asset in enumerate(row.assets):
            first = index == 0
            lines.append(
                (
                    row.client if first else "",
                    row.custody_model if first else "",
                    asset,
                    assets.format(asset, row.before.get(asset, 0)),
                    assets.format(asset, row.flows.get(asset, 0)),
                    assets.format(asset, row.after.get(asset, 0)),
                    assets.format(asset, row.loss(asset)),
                    row.usable_after if first else "",
                )
            )
    widths = [max(len(line[column]) for line in [header, *lines]) for column in range(len(header))]
    numeric = {3, 4, 5, 6}

    def render(line: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(widths[column]) if column in numeric else cell.ljust(widths[column])
            for column, cell in enumerate(line)
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * width for width in widths)
    body = [render(header), rule, *(render(line) for line in lines), rule]
    return "\n".join([*body, *wrap(f"note: {LOSS_VALUATION}", FOOTER_WIDTH)])
