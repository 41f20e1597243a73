"""The signed content of a settlement statement and its canonical bytes; plain Python."""

from __future__ import annotations

import json
from dataclasses import dataclass

STATEMENT_ENCODING_VERSION = "oes-statement-v1"


@dataclass(frozen=True)
class StatementEntryContent:
    """One signed entry: connection, asset and the signed decimal amount as on the wire."""

    connection: str
    asset: str
    amount: str


@dataclass(frozen=True)
class StatementContent:
    """Every signed field of a settlement statement, independent of protobuf."""

    name: str
    exchange: str
    number: int
    previous_statement: str
    cutoff_time_ms: int
    first_trade_sequence: int
    last_trade_sequence: int
    nonce: str
    entries: tuple[StatementEntryContent, ...]

    def canonical_bytes(self) -> bytes:
        """Returns the exact bytes signed: compact JSON with sorted keys, entries in order."""
        document = {
            "version": STATEMENT_ENCODING_VERSION,
            "name": self.name,
            "exchange": self.exchange,
            "number": self.number,
            "previous_statement": self.previous_statement,
            "cutoff_time_ms": self.cutoff_time_ms,
            "first_trade_sequence": self.first_trade_sequence,
            "last_trade_sequence": self.last_trade_sequence,
            "nonce": self.nonce,
            "entries": [[entry.connection, entry.asset, entry.amount] for entry in self.entries],
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
