"""Conversions between the custodian's proto messages and its domain, validating every input field."""

from __future__ import annotations

from google.protobuf import timestamp_pb2

from custodian_sim.domain.audit import AuditRecord
from custodian_sim.domain.connections import Connection, ConnectionState
from custodian_sim.domain.entry_outcomes import EntryState
from custodian_sim.domain.names import ConnectionName
from custodian_sim.domain.parties import Party, PartyKind, check_party_fields
from custodian_sim.domain.reserves import AssetReserves
from custodian_sim.domain.statements import (
    RecordedStatement,
    SignedStatement,
    StatementState,
    parse_statement,
)
from custodian_sim.service_layer.commands import CreateParty, ReservesReport
from custodian_sim.service_layer.ports import Balance, PostedTransfer
from oes.common.v1 import statement_pb2
from oes.custodian.v1 import custodian_pb2
from service_kit.errors import invalid_argument
from service_kit.money import AssetScales, parse_units
from service_kit.statement import StatementContent
from service_kit.statement_messages import content_from_message
from service_kit.timestamps import from_timestamp, to_timestamp

_PARTY_KINDS = {
    custodian_pb2.PARTY_KIND_CLIENT: PartyKind.CLIENT,
    custodian_pb2.PARTY_KIND_EXCHANGE: PartyKind.EXCHANGE,
}
_PARTY_KIND_MESSAGES = {kind: number for number, kind in _PARTY_KINDS.items()}
_CONNECTION_STATES = {
    ConnectionState.PENDING: custodian_pb2.CONNECTION_STATE_PENDING,
    ConnectionState.ACTIVE: custodian_pb2.CONNECTION_STATE_ACTIVE,
    ConnectionState.CLOSED: custodian_pb2.CONNECTION_STATE_CLOSED,
    ConnectionState.DEFAULTED: custodian_pb2.CONNECTION_STATE_DEFAULTED,
}
_STATEMENT_STATES = {
    StatementState.PENDING: custodian_pb2.STATEMENT_STATE_PENDING,
    StatementState.SUCCEEDED: custodian_pb2.STATEMENT_STATE_SUCCEEDED,
    StatementState.REJECTED: custodian_pb2.STATEMENT_STATE_REJECTED,
    StatementState.AWAITING_TOP_UP: custodian_pb2.STATEMENT_STATE_AWAITING_TOP_UP,
    StatementState.PARTIALLY_SUCCEEDED: custodian_pb2.STATEMENT_STATE_PARTIALLY_SUCCEEDED,
    StatementState.FAILED: custodian_pb2.STATEMENT_STATE_FAILED,
    StatementState.DISPUTED: custodian_pb2.STATEMENT_STATE_DISPUTED,
}
_ENTRY_STATES = {
    EntryState.PENDING: custodian_pb2.ENTRY_STATE_PENDING,
    EntryState.SETTLED: custodian_pb2.ENTRY_STATE_SETTLED,
    EntryState.FAILED: custodian_pb2.ENTRY_STATE_FAILED,
    EntryState.DISPUTED: custodian_pb2.ENTRY_STATE_DISPUTED,
}


# Timestamps from 0001-01-01 to 9999-12-31, as google.protobuf.Timestamp defines them.
_TIMESTAMP_SECONDS_MIN = -62_135_596_800
_TIMESTAMP_SECONDS_MAX = 253_402_300_799
_NANOS_PER_SECOND = 1_000_000_000


def parse_optional_time(has_field: bool, timestamp: timestamp_pb2.Timestamp, field_name: str) -> int | None:
    """Milliseconds of a set timestamp, None when unset; refuses timestamps out of range."""
    if not has_field:
        return None
    if (
        not _TIMESTAMP_SECONDS_MIN <= timestamp.seconds <= _TIMESTAMP_SECONDS_MAX
        or not 0 <= timestamp.nanos < _NANOS_PER_SECOND
    ):
        raise invalid_argument(
            "TIMESTAMP_INVALID", field_name, "must lie between 0001-01-01 and 9999-12-31 with valid nanos"
        )
    return from_timestamp(timestamp)


def parse_amount(assets: AssetScales, asset: str, text: str, field_name: str = "amount") -> int:
    """A positive amount of a configured asset, in units; the error names `asset` or the amount field."""
    scale = assets.scale(asset, "asset")
    return parse_units(text, scale, field_name)


def parse_party(message: custodian_pb2.Party) -> CreateParty:
    """Validates the party of a CreatePartyRequest."""
    kind = _PARTY_KINDS.get(message.kind)
    if kind is None:
        raise invalid_argument(
            "PARTY_KIND_UNSPECIFIED", "party.kind", "must be PARTY_KIND_CLIENT or PARTY_KIND_EXCHANGE"
        )
    check_party_fields(message.name, kind, message.display_name)
    return CreateParty(message.name, kind, message.display_name)


def party_message(party: Party) -> custodian_pb2.Party:
    """The wire form of a party."""
    return custodian_pb2.Party(
        name=party.name, kind=_PARTY_KIND_MESSAGES[party.kind], display_name=party.display_name
    )


def balance_message(balance: Balance, assets: AssetScales) -> custodian_pb2.Balance:
    """The wire form of a balance."""
    return custodian_pb2.Balance(
        account=balance.account,
        asset=balance.asset,
        amount=assets.format(balance.asset, balance.balance_units),
    )


def connection_message(connection: Connection) -> custodian_pb2.Connection:
    """The wire form of a connection."""
    return custodian_pb2.Connection(
        name=connection.name.name,
        client=connection.name.client,
        exchange=connection.name.exchange,
        state=_CONNECTION_STATES[connection.state],
        create_time=to_timestamp(connection.create_time_ms),
    )


def parse_connection_name(name: str, field_name: str) -> ConnectionName:
    """Validates a connection name."""
    return ConnectionName.parse(name, field_name)


def parse_statement_message(
    request_has_statement: bool, message: statement_pb2.SettlementStatement, assets: AssetScales
) -> SignedStatement:
    """Validates everything about a submitted statement that needs no stored state."""
    if not request_has_statement:
        raise invalid_argument("STATEMENT_MISSING", "statement", "the signed statement is required")
    if not message.HasField("cutoff_time"):
        raise invalid_argument(
            "CUTOFF_TIME_MISSING", "statement.cutoff_time", "the cutoff time is signed and required"
        )
    return parse_statement(content_from_message(message), message.signature, assets)


def statement_message(content: StatementContent, signature: bytes) -> statement_pb2.SettlementStatement:
    """The signed statement as a message; the same message as service_kit's message_from_content."""
    message = statement_pb2.SettlementStatement(
        name=content.name,
        exchange=content.exchange,
        number=content.number,
        previous_statement=content.previous_statement,
        cutoff_time=to_timestamp(content.cutoff_time_ms),
        first_trade_sequence=content.first_trade_sequence,
        last_trade_sequence=content.last_trade_sequence,
        nonce=content.nonce,
        signature=signature,
    )
    # Each entry is filled in place: building 20,000 entry messages and copying them in took
    # three times as long.
    add_entry = message.entries.add
    for entry in content.entries:
        added = add_entry()
        added.connection = entry.connection
        added.asset = entry.asset
        added.amount = entry.amount
    return message


def recorded_statement_message(recorded: RecordedStatement) -> custodian_pb2.RecordedStatement:
    """The wire form of a recorded statement, carrying the statement exactly as signed."""
    message = custodian_pb2.RecordedStatement(
        statement=statement_message(recorded.statement.content, recorded.statement.signature),
        state=_STATEMENT_STATES[recorded.state],
        transfer_ids=recorded.transfer_ids,
        submit_time=to_timestamp(recorded.submit_time_ms),
    )
    if recorded.execute_time_ms is not None:
        message.execute_time.CopyFrom(to_timestamp(recorded.execute_time_ms))
    if recorded.top_up_deadline_ms is not None:
        message.top_up_deadline.CopyFrom(to_timestamp(recorded.top_up_deadline_ms))
    # Each amount exactly as the exchange signed it, entry by entry, filled in place.
    signed_entries = recorded.statement.content.entries
    add_outcome = message.entry_outcomes.add
    for outcome, signed in zip(recorded.entry_outcomes(), signed_entries, strict=True):
        added = add_outcome()
        added.connection = outcome.connection.name
        added.asset = outcome.asset
        added.amount = signed.amount
        added.state = _ENTRY_STATES[outcome.state]
        if outcome.reason:
            added.reason = outcome.reason
        if outcome.transfer_id:
            added.transfer_id = outcome.transfer_id
    return message


def transfer_message(posted: PostedTransfer, assets: AssetScales) -> custodian_pb2.Transfer:
    """The wire form of a posted transfer."""
    transfer = posted.transfer
    return custodian_pb2.Transfer(
        id=transfer.id,
        sequence=posted.sequence,
        from_account=transfer.from_account,
        to_account=transfer.to_account,
        asset=transfer.asset,
        amount=assets.format(transfer.asset, transfer.amount_units),
        kind=transfer.kind.value,
        reference=transfer.reference,
        create_time=to_timestamp(transfer.create_time_ms),
    )


def _asset_reserves_message(reserves: AssetReserves, assets: AssetScales) -> custodian_pb2.AssetReserves:
    asset = reserves.asset
    return custodian_pb2.AssetReserves(
        asset=asset,
        held_on_chain=assets.format(asset, reserves.held_on_chain_units),
        owed_total=assets.format(asset, reserves.owed_total_units),
        difference=assets.format(asset, reserves.difference_units),
        liabilities=[
            custodian_pb2.Liability(
                party=liability.party, amount=assets.format(asset, liability.amount_units)
            )
            for liability in reserves.liabilities
        ],
    )


def proof_of_reserves_response(
    report: ReservesReport, assets: AssetScales
) -> custodian_pb2.GetProofOfReservesResponse:
    """The wire form of the proof of reserves."""
    return custodian_pb2.GetProofOfReservesResponse(
        reserves=[_asset_reserves_message(reserves, assets) for reserves in report.reserves],
        report_time=to_timestamp(report.report_time_ms),
    )


def audit_record_message(record: AuditRecord) -> custodian_pb2.AuditRecord:
    """The wire form of an audit record."""
    return custodian_pb2.AuditRecord(
        sequence=record.sequence,
        record_time=to_timestamp(record.record_time_ms),
        principal=record.principal,
        request_id=record.request_id,
        method=record.method,
        resource=record.resource,
        before=record.before,
        after=record.after,
        owner=record.owner,
    )
