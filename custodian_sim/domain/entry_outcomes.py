"""What became of each entry of a statement, and the claims left by entries that could not settle."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from custodian_sim.domain.names import ConnectionName

# Reasons an entry fails; stable, clients and scenarios branch on them.
LOSS_EXCEEDS_ALLOCATION = "LOSS_EXCEEDS_ALLOCATION"
INSUFFICIENT_SETTLEMENT_FUNDS = "INSUFFICIENT_SETTLEMENT_FUNDS"

CLAIMS = "claims"


class EntryState(enum.Enum):
    """Lifecycle of one statement entry: PENDING, then SETTLED, FAILED or DISPUTED (then resolved)."""

    PENDING = "PENDING"
    SETTLED = "SETTLED"
    FAILED = "FAILED"
    DISPUTED = "DISPUTED"


# Slotted: a statement holds one per entry, up to 100,000, built anew at each execution.
@dataclass(frozen=True, slots=True)
class EntryOutcome:
    """One entry of a statement and what became of it."""

    connection: ConnectionName
    asset: str
    # Signed units as in the statement: positive is a gain of the client, negative a loss.
    amount_units: int
    state: EntryState = EntryState.PENDING
    # Why it failed (LOSS_EXCEEDS_ALLOCATION, INSUFFICIENT_SETTLEMENT_FUNDS) or why it is
    # disputed; empty when pending or settled.
    reason: str = ""
    # The transfer that settled it; empty unless SETTLED.
    transfer_id: str = ""

    def __post_init__(self) -> None:
        assert self.amount_units != 0, "statements carry only non-zero entries"
        assert (self.state is EntryState.SETTLED) == bool(self.transfer_id), (self.state, self.transfer_id)
        assert (self.state in (EntryState.FAILED, EntryState.DISPUTED)) == bool(self.reason), (
            self.state,
            self.reason,
        )

    @property
    def key(self) -> tuple[ConnectionName, str]:
        """The entry's identity inside its statement: each connection and asset appears once."""
        return (self.connection, self.asset)

    @property
    def is_loss(self) -> bool:
        """True when the client owes the amount to the exchange."""
        return self.amount_units < 0

    def settled(self, transfer_id: str) -> EntryOutcome:
        """The entry applied by `transfer_id`."""
        return EntryOutcome(
            self.connection, self.asset, self.amount_units, EntryState.SETTLED, "", transfer_id
        )

    def failed(self, reason: str) -> EntryOutcome:
        """The entry that could not be applied, and why."""
        return EntryOutcome(self.connection, self.asset, self.amount_units, EntryState.FAILED, reason)

    def disputed(self, reason: str) -> EntryOutcome:
        """The entry held in dispute, and why."""
        return EntryOutcome(self.connection, self.asset, self.amount_units, EntryState.DISPUTED, reason)

    def pending(self) -> EntryOutcome:
        """The entry as before anything happened to it."""
        return EntryOutcome(self.connection, self.asset, self.amount_units)

    def describe(self) -> str:
        """The entry's state as the audit log records it, for example `FAILED LOSS_EXCEEDS_ALLOCATION`."""
        if self.state is EntryState.FAILED:
            return f"{self.state.value} {self.reason}"
        return self.state.value


def entry_resource(statement: str, connection: ConnectionName, asset: str) -> str:
    """The name the audit log gives one entry: `{statement}/entries/{client}/{asset}`."""
    return f"{statement}/entries/{connection.client_id}/{asset}"


@dataclass(frozen=True)
class ClaimDraft:
    """A claim decided by an execution or a resolution, before the store numbers it."""

    creditor: str
    debtor: str
    asset: str
    amount_units: int
    statement: str
    connection: ConnectionName
    reason: str

    def __post_init__(self) -> None:
        assert self.amount_units > 0, self.amount_units
        assert self.creditor != self.debtor, self.creditor
        assert self.reason, "a claim says why the entry failed"


@dataclass(frozen=True)
class Claim:
    """What one party owes another because an entry could not settle; recorded once, never changed."""

    number: int
    draft: ClaimDraft
    create_time_ms: int

    def __post_init__(self) -> None:
        assert self.number >= 1, self.number

    @property
    def name(self) -> str:
        """The resource name, `claims/{number}`."""
        return f"{CLAIMS}/{self.number}"

    def involves(self, party: str) -> bool:
        """Whether `party` is the creditor or the debtor."""
        return party in (self.draft.creditor, self.draft.debtor)


def loss_claim(statement: str, outcome: EntryOutcome) -> ClaimDraft:
    """The exchange's claim on the client for a loss that exceeded the allocation: all of it."""
    assert outcome.is_loss, outcome
    return ClaimDraft(
        creditor=outcome.connection.exchange,
        debtor=outcome.connection.client,
        asset=outcome.asset,
        amount_units=-outcome.amount_units,
        statement=statement,
        connection=outcome.connection,
        reason=LOSS_EXCEEDS_ALLOCATION,
    )


def gain_claim(statement: str, outcome: EntryOutcome) -> ClaimDraft:
    """The client's claim on the exchange for a gain its settlement account did not pay."""
    assert not outcome.is_loss, outcome
    return ClaimDraft(
        creditor=outcome.connection.client,
        debtor=outcome.connection.exchange,
        asset=outcome.asset,
        amount_units=outcome.amount_units,
        statement=statement,
        connection=outcome.connection,
        reason=INSUFFICIENT_SETTLEMENT_FUNDS,
    )
