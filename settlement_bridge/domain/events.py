"""The network's events: what clients and operators watch (allocations, settlements, disputes, defaults)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


class EventKind:
    """Stable kinds of the bridge's events."""

    CONNECTION = "CONNECTION"
    ALLOCATION = "ALLOCATION"
    DEALLOCATION = "DEALLOCATION"
    SETTLEMENT = "SETTLEMENT"
    DISPUTE = "DISPUTE"
    MARGIN_CALL = "MARGIN_CALL"
    RECONCILIATION_BREAK = "RECONCILIATION_BREAK"
    EXCHANGE_DEFAULT = "EXCHANGE_DEFAULT"


@dataclass(frozen=True)
class BridgeEvent:
    """One committed event; `client` is `clients/{c}` or empty for a network-wide event."""

    sequence: int
    time_ms: int
    kind: str
    subject: str
    client: str
    attributes: Mapping[str, str]

    @property
    def journal_attributes(self) -> dict[str, str]:
        """The attributes with the client, as the control service's journal shows them."""
        return {**self.attributes, "client": self.client} if self.client else dict(self.attributes)
