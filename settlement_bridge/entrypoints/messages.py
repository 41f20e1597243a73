"""Conversions from the bridge's domain objects to oes.bridge.v1 messages."""

from __future__ import annotations

from typing import Any, TypeVar

from oes.bridge.v1 import bridge_pb2
from oes.common.v1 import statement_pb2
from service_kit.money import AssetScales
from service_kit.timestamps import to_timestamp
from settlement_bridge.domain.defaults import AssetUnits, ConnectionState
from settlement_bridge.domain.disputes import Dispute, DisputeState
from settlement_bridge.domain.events import BridgeEvent
from settlement_bridge.domain.settlement import (
    ReconciliationBreak,
    SettlementCycle,
    SettlementState,
    SettlementStep,
)
from settlement_bridge.domain.transfers import Connection, Transfer, TransferState

TransferMessageT = TypeVar("TransferMessageT", bridge_pb2.Allocation, bridge_pb2.Deallocation)

_CONNECTION_STATES = {
    ConnectionState.ACTIVE: bridge_pb2.CONNECTION_STATE_ACTIVE,
    ConnectionState.DEFAULTED: bridge_pb2.CONNECTION_STATE_DEFAULTED,
}
_TRANSFER_STATES = {
    TransferState.PENDING: bridge_pb2.TRANSFER_STATE_PENDING,
    TransferState.CLEARED: bridge_pb2.TRANSFER_STATE_CLEARED,
    TransferState.RELEASED: bridge_pb2.TRANSFER_STATE_RELEASED,
    TransferState.REJECTED: bridge_pb2.TRANSFER_STATE_REJECTED,
}
_SETTLEMENT_STATES = {
    SettlementState.RUNNING: bridge_pb2.SETTLEMENT_STATE_RUNNING,
    SettlementState.SUCCEEDED: bridge_pb2.SETTLEMENT_STATE_SUCCEEDED,
    SettlementState.FAILED: bridge_pb2.SETTLEMENT_STATE_FAILED,
}
_SETTLEMENT_STEPS = {
    SettlementStep.CUTOFF: bridge_pb2.SETTLEMENT_STEP_CUTOFF,
    SettlementStep.VERIFY: bridge_pb2.SETTLEMENT_STEP_VERIFY,
    SettlementStep.EXECUTE: bridge_pb2.SETTLEMENT_STEP_EXECUTE,
    SettlementStep.CONFIRM: bridge_pb2.SETTLEMENT_STEP_CONFIRM,
    SettlementStep.SETTLE_DISPUTES: bridge_pb2.SETTLEMENT_STEP_SETTLE_DISPUTES,
    SettlementStep.RECONCILE: bridge_pb2.SETTLEMENT_STEP_RECONCILE,
    SettlementStep.DONE: bridge_pb2.SETTLEMENT_STEP_DONE,
    SettlementStep.VOID: bridge_pb2.SETTLEMENT_STEP_VOID,
}


def connection_message(connection: Connection, assets: AssetScales) -> bridge_pb2.Connection:
    """The Connection message, with its default's outcome once DEFAULTED."""
    message = bridge_pb2.Connection(
        name=connection.name,
        client=connection.connection.client_name,
        exchange=connection.connection.exchange_name,
        create_time=to_timestamp(connection.create_time_ms),
        state=_CONNECTION_STATES[connection.state],
    )
    outcome = connection.default_outcome
    if outcome is not None:
        message.default_outcome.CopyFrom(
            bridge_pb2.DefaultOutcome(
                default_time=to_timestamp(outcome.default_time_ms),
                reason=outcome.reason,
                principal_returned=_asset_amounts(assets, outcome.principal_returned),
                unsettled_at_risk=_asset_amounts(assets, outcome.unsettled_at_risk),
            )
        )
    return message


def _asset_amounts(assets: AssetScales, amounts: AssetUnits) -> list[bridge_pb2.AssetAmount]:
    return [
        bridge_pb2.AssetAmount(asset=asset, amount=_format(assets, asset, units)) for asset, units in amounts
    ]


def transfer_message(
    transfer: Transfer[Any], assets: AssetScales, message_type: type[TransferMessageT]
) -> TransferMessageT:
    """The Allocation or Deallocation message of a transfer; the two messages have the same fields."""
    message = message_type(
        name=transfer.name,
        connection=transfer.connection.name,
        asset=transfer.asset,
        amount=assets.format(transfer.asset, transfer.amount_units),
        state=_TRANSFER_STATES[transfer.state],
        reason=transfer.reason,
        create_time=to_timestamp(transfer.create_time_ms),
    )
    if transfer.end_time_ms is not None:
        message.end_time.CopyFrom(to_timestamp(transfer.end_time_ms))
    return message


def settlement_message(
    cycle: SettlementCycle, assets: AssetScales, client_name: str | None = None
) -> bridge_pb2.Settlement:
    """The Settlement message; for a client caller only the entries and breaks of its own connections.

    A client sees the statement as the exchange signed it only when every entry is its own;
    otherwise the other clients' entries are left out (and the signature no longer covers it).
    """
    message = bridge_pb2.Settlement(
        name=cycle.name,
        exchange=cycle.exchange_name,
        state=_SETTLEMENT_STATES[cycle.state],
        step=_SETTLEMENT_STEPS[cycle.step],
        reason=cycle.reason,
        create_time=to_timestamp(cycle.create_time_ms),
    )
    if cycle.statement is not None:
        statement = statement_pb2.SettlementStatement.FromString(cycle.statement.encoded)
        if client_name is not None:
            own_entries = [entry for entry in statement.entries if _owned_by(entry.connection, client_name)]
            del statement.entries[:]
            statement.entries.extend(own_entries)
        message.statement.CopyFrom(statement)
        results = {(result.connection, result.asset): result for result in cycle.entry_results}
        for entry in statement.entries:
            result = results.get((entry.connection, entry.asset))
            message.entries.append(
                bridge_pb2.SettlementEntry(
                    connection=entry.connection,
                    asset=entry.asset,
                    amount=entry.amount,
                    state=_ENTRY_STATES.get(result.state, bridge_pb2.ENTRY_STATE_PENDING)
                    if result is not None
                    else bridge_pb2.ENTRY_STATE_PENDING,
                    reason="" if result is None else result.reason,
                )
            )
    for found in cycle.breaks:
        if client_name is None or _owned_by(found.connection, client_name):
            message.breaks.append(break_message(found, assets))
    if cycle.end_time_ms is not None:
        message.end_time.CopyFrom(to_timestamp(cycle.end_time_ms))
    return message


def break_message(found: ReconciliationBreak, assets: AssetScales) -> bridge_pb2.ReconciliationBreak:
    """One reconciliation break."""
    return bridge_pb2.ReconciliationBreak(
        connection=found.connection,
        asset=found.asset,
        allocated=_format(assets, found.asset, found.allocated_units),
        mirror=_format(assets, found.asset, found.mirror_units),
    )


_ENTRY_STATES = {
    "PENDING": bridge_pb2.ENTRY_STATE_PENDING,
    "SETTLED": bridge_pb2.ENTRY_STATE_SETTLED,
    "FAILED": bridge_pb2.ENTRY_STATE_FAILED,
    "DISPUTED": bridge_pb2.ENTRY_STATE_DISPUTED,
}


def _owned_by(connection: str, client_name: str) -> bool:
    return connection.startswith(f"{client_name}/connections/")


def _format(assets: AssetScales, asset: str, units: int) -> str:
    return assets.format(asset, units) if asset in assets.scales else str(units)


def event_message(event: BridgeEvent) -> bridge_pb2.Event:
    """One event of the feed."""
    return bridge_pb2.Event(
        sequence=event.sequence,
        event_time=to_timestamp(event.time_ms),
        kind=event.kind,
        subject=event.subject,
        client=event.client,
        attributes=dict(event.attributes),
    )


_DISPUTE_STATES = {
    DisputeState.OPEN: bridge_pb2.DISPUTE_STATE_OPEN,
    DisputeState.RETRACTED: bridge_pb2.DISPUTE_STATE_RETRACTED,
    DisputeState.APPROVED: bridge_pb2.DISPUTE_STATE_APPROVED,
    DisputeState.REJECTED: bridge_pb2.DISPUTE_STATE_REJECTED,
}


def dispute_message(dispute: Dispute, assets: AssetScales) -> bridge_pb2.Dispute:
    """One dispute."""
    message = bridge_pb2.Dispute(
        name=dispute.name,
        statement=dispute.statement,
        connection=dispute.connection.name,
        asset=dispute.asset,
        stated_amount=assets.format(dispute.asset, dispute.stated_units),
        claimed_amount=assets.format(dispute.asset, dispute.claimed_units),
        reason=dispute.reason,
        state=_DISPUTE_STATES[dispute.state],
        settled_amount=""
        if dispute.decided_units is None
        else assets.format(dispute.asset, dispute.decided_units),
        create_time=to_timestamp(dispute.create_time_ms),
    )
    if dispute.end_time_ms is not None:
        message.end_time.CopyFrom(to_timestamp(dispute.end_time_ms))
    return message
