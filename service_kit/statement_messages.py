"""Conversions between the SettlementStatement message and its plain signed content."""

from __future__ import annotations

from oes.common.v1 import statement_pb2
from service_kit.statement import StatementContent, StatementEntryContent
from service_kit.timestamps import from_timestamp, to_timestamp


def content_from_message(message: statement_pb2.SettlementStatement) -> StatementContent:
    """Extracts the signed fields of a statement message."""
    return StatementContent(
        name=message.name,
        exchange=message.exchange,
        number=message.number,
        previous_statement=message.previous_statement,
        cutoff_time_ms=from_timestamp(message.cutoff_time),
        first_trade_sequence=message.first_trade_sequence,
        last_trade_sequence=message.last_trade_sequence,
        nonce=message.nonce,
        entries=tuple(
            StatementEntryContent(entry.connection, entry.asset, entry.amount) for entry in message.entries
        ),
    )


def message_from_content(content: StatementContent, signature: bytes) -> statement_pb2.SettlementStatement:
    """Builds the statement message from its signed content and signature."""
    return statement_pb2.SettlementStatement(
        name=content.name,
        exchange=content.exchange,
        number=content.number,
        previous_statement=content.previous_statement,
        cutoff_time=to_timestamp(content.cutoff_time_ms),
        first_trade_sequence=content.first_trade_sequence,
        last_trade_sequence=content.last_trade_sequence,
        nonce=content.nonce,
        entries=[
            statement_pb2.StatementEntry(connection=entry.connection, asset=entry.asset, amount=entry.amount)
            for entry in content.entries
        ],
        signature=signature,
    )
