"""Exchange defaults: venue health, when an exchange counts as failed, and what its default did."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

# Why an exchange was declared in default.
EXCHANGE_INSOLVENT = "EXCHANGE_INSOLVENT"
EXCHANGE_UNREACHABLE = "EXCHANGE_UNREACHABLE"
# The stable reason the bridge refuses new business on a defaulted exchange's connections.
EXCHANGE_DEFAULTED = "EXCHANGE_DEFAULTED"
# The exchange's venue state (as PartnerService.GetVenue names it) that is a default at once.
INSOLVENT_STATE = "INSOLVENT"


class CircuitState(enum.Enum):
    """How the bridge lets calls through to one venue, as in the bridge proto."""

    # Calls go through.
    CLOSED = "CLOSED"
    # The venue failed repeatedly: calls fail at once until the cool-down ends.
    OPEN = "OPEN"
    # After the cool-down: the next call is a trial that closes or reopens the circuit.
    HALF_OPEN = "HALF_OPEN"


@dataclass(frozen=True)
class VenueHealthSnapshot:
    """How the bridge's calls to one venue have fared lately."""

    venue: str
    circuit_state: CircuitState
    # Calls (each with all its attempts) that failed to reach the venue, in a row.
    consecutive_failures: int
    # Sandbox time of the first failure of the current run of failures; None when healthy.
    unreachable_since_ms: int | None

    def __post_init__(self) -> None:
        assert self.consecutive_failures >= 0
        assert (self.consecutive_failures == 0) == (self.unreachable_since_ms is None)


def default_reason(
    exchange_state: str, unreachable_since_ms: int | None, now_ms: int, default_grace_ms: int
) -> str | None:
    """Why the exchange is in default now, or None while it is not.

    An exchange that says it is insolvent is in default at once; one that cannot be reached is
    given `default_grace_ms` of sandbox time from its first failed call before it counts as failed.
    """
    assert default_grace_ms > 0
    if exchange_state == INSOLVENT_STATE:
        return EXCHANGE_INSOLVENT
    if unreachable_since_ms is not None and now_ms - unreachable_since_ms > default_grace_ms:
        return EXCHANGE_UNREACHABLE
    return None


class ConnectionState(enum.Enum):
    """Lifecycle of a connection as the bridge runs it, as in the bridge proto."""

    # Open: allocations, deallocations and settlements run.
    ACTIVE = "ACTIVE"
    # The exchange defaulted: the custodian returned the collateral; nothing runs any more.
    DEFAULTED = "DEFAULTED"


# Amounts per asset, in units, sorted by asset: `(("BTC", 200000000), ("USDT", -5000000))`.
AssetUnits = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class DefaultOutcome:
    """What an exchange default did to one connection."""

    default_time_ms: int
    # EXCHANGE_INSOLVENT or EXCHANGE_UNREACHABLE.
    reason: str
    # Per asset, what came back to the client's available balance at the custodian (positive).
    principal_returned: AssetUnits
    # Per asset, the unsettled result at the exchange when it failed, not taken from custody
    # (negative: a loss the client was at risk of). Empty when the exchange could not be read.
    unsettled_at_risk: AssetUnits

    def __post_init__(self) -> None:
        assert self.reason in (EXCHANGE_INSOLVENT, EXCHANGE_UNREACHABLE), self.reason
        assert all(units > 0 for _, units in self.principal_returned)
        assert all(units != 0 for _, units in self.unsettled_at_risk)
        for amounts in (self.principal_returned, self.unsettled_at_risk):
            assets = [asset for asset, _ in amounts]
            assert assets == sorted(set(assets)), assets


@dataclass(frozen=True)
class ExchangeDefault:
    """The bridge's durable record of one exchange's default; the procedure runs once per exchange.

    Recorded when the default is detected (new business stops then), completed once the
    custodian returned the collateral and every connection is DEFAULTED.
    """

    exchange_id: str
    reason: str
    detect_time_ms: int
    # The exchange's `unsettled` per (connection name, asset) read at detection; empty when the
    # exchange could not be read. Kept so that a default finished after a restart reports it.
    unsettled_units: Mapping[tuple[str, str], int] = field(default_factory=dict)
    complete_time_ms: int | None = None

    def __post_init__(self) -> None:
        assert self.reason in (EXCHANGE_INSOLVENT, EXCHANGE_UNREACHABLE), self.reason

    @property
    def complete(self) -> bool:
        """Whether the procedure has finished."""
        return self.complete_time_ms is not None


def connection_outcome(
    exchange_default: ExchangeDefault,
    connection: str,
    returned_units: Mapping[str, int],
    statement_settled_units: Mapping[str, int],
    default_time_ms: int,
) -> DefaultOutcome:
    """One connection's outcome from what the custodian returned and what the exchange held unsettled.

    `returned_units` are the amounts the custodian moved back to available per asset;
    `statement_settled_units` are the connection's entries of the last statement that the
    default procedure executed: the exchange still counts them as unsettled (it never confirmed
    them), but they are settled now, so they are no longer at risk.
    """
    at_risk: dict[str, int] = {}
    for (unsettled_connection, asset), units in exchange_default.unsettled_units.items():
        if unsettled_connection == connection:
            at_risk[asset] = at_risk.get(asset, 0) + units
    if exchange_default.unsettled_units:
        for asset, units in statement_settled_units.items():
            at_risk[asset] = at_risk.get(asset, 0) - units
    return DefaultOutcome(
        default_time_ms=default_time_ms,
        reason=exchange_default.reason,
        principal_returned=tuple(sorted((a, u) for a, u in returned_units.items() if u > 0)),
        unsettled_at_risk=tuple(sorted((a, u) for a, u in at_risk.items() if u != 0)),
    )
