"""Conversions between the custodian's proto messages and its domain, validating every input field."""

from __future__ import annotations

from custodian_sim.domain.connections import Connection, ConnectionState
from custodian_sim.domain.names import ConnectionName
from custodian_sim.domain.parties import Party, PartyKind, check_party_fields
from custodian_sim.domain.statements import (
    RecordedStatement,
    SignedStatement,
    StatementState,
    parse_statement,
)
from custodian_sim.service_layer.commands import CreateParty
from custodian_sim.service_layer.ports import Balance
from oes.common.v1 import statement_pb2
from oes.custodian.v1 import custodian_pb2
from service_kit.errors import invalid_argument
from service_kit.money import AssetScales, parse_units
from service_kit.statement_messages import content_from_message, message_from_content
from service_kit.timestamps import to_timestamp

_PARTY_KINDS = {
    custodian_pb2.PARTY_KIND_CLIENT: PartyKind.CLIENT,
    custodian_pb2.PARTY_KIND_EXCHANGE: PartyKind.EXCHANGE,
}
_PARTY_KIND_MESSAGES = {kind: number for number, kind in _PARTY_KINDS.items()}
_CONNECTION_STATES = {
    ConnectionState.ACTIVE: custodian_pb2.CONNECTION_STATE_ACTIVE,
    ConnectionState.CLOSED: custodian_pb2.CONNECTION_STATE_CLOSED,
    ConnectionState.DEFAULTED: custodian_pb2.CONNECTION_STATE_DEFAULTED,
}
_STATEMENT_STATES = {
    StatementState.PENDING: custodian_pb2.STATEMENT_STATE_PENDING,
    StatementState.SUCCEEDED: custodian_pb2.STATEMENT_STATE_SUCCEEDED,
    StatementState.REJECTED: custodian_pb2.STATEMENT_STATE_REJECTED,
}


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


def recorded_statement_message(recorded: RecordedStatement) -> custodian_pb2.RecordedStatement:
    """The wire form of a recorded statement, carrying the statement exactly as signed."""
    message = custodian_pb2.RecordedStatement(
        statement=message_from_content(recorded.statement.content, recorded.statement.signature),
        state=_STATEMENT_STATES[recorded.state],
        transfer_ids=list(recorded.transfer_ids),
        submit_time=to_timestamp(recorded.submit_time_ms),
    )
    if recorded.execute_time_ms is not None:
        message.execute_time.CopyFrom(to_timestamp(recorded.execute_time_ms))
    return message
