"""What became of each entry of a statement, and the claims left by entries that could not settle."""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from custodian_sim.domain.names import ConnectionName, StatementName

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

    @property
    def statement_number(self) -> int:
        """The number of the statement whose entry failed."""
        return StatementName.parse(self.statement, "statement").number


class ClaimState(enum.Enum):
    """Whether a claim is still owed, or how a later statement of the same exchange closed it.

    The unsettled amount behind a claim stays with the exchange and returns in its next statement,
    so the claim lasts only until that connection and asset are decided again.
    """

    OPEN = "OPEN"
    # A later statement's entry for the connection and asset settled: the amount was paid in it.
    SETTLED = "SETTLED"
    # A later statement's entry failed again: the new claim carries the whole amount.
    SUPERSEDED = "SUPERSEDED"
    # A later statement carried no entry for it: the exchange's unsettled amount netted to zero.
    NETTED = "NETTED"


@dataclass(frozen=True)
class ClaimClosure:
    """How and by which statement an open claim was closed; appended once, never changed."""

    claim_number: int
    state: ClaimState
    statement: str

    def __post_init__(self) -> None:
        assert self.state is not ClaimState.OPEN, "a closure closes"


@dataclass(frozen=True)
class Claim:
    """What one party owes another because an entry could not settle; recorded once, never changed.

    `closure` is read with it: how a later statement closed it, None while it is open.
    """

    number: int
    draft: ClaimDraft
    create_time_ms: int
    closure: ClaimClosure | None = None

    def __post_init__(self) -> None:
        assert self.number >= 1, self.number
        assert self.closure is None or self.closure.claim_number == self.number

    @property
    def state(self) -> ClaimState:
        """OPEN, or how it was closed."""
        return ClaimState.OPEN if self.closure is None else self.closure.state

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


def claim_closures(
    open_claims: Sequence[Claim],
    statement: str,
    statement_number: int,
    decided: Sequence[EntryOutcome],
    entry_keys: Collection[tuple[ConnectionName, str]] | None,
) -> list[ClaimClosure]:
    """The open claims of earlier statements that `decided` (outcomes of statement `statement`) closes.

    A decided entry for the claim's connection and asset settles it (SETTLED) or leaves a new claim
    for the whole amount (SUPERSEDED). With `entry_keys` (every entry of an executed statement), a
    claim whose connection and asset has no entry is NETTED: the exchange's unsettled amount is zero.
    Disputed entries decide nothing yet.
    """
    by_key = {(outcome.connection, outcome.asset): outcome for outcome in decided}
    closures = []
    for claim in open_claims:
        assert claim.closure is None, claim.name
        if claim.draft.statement_number >= statement_number:
            continue
        key = (claim.draft.connection, claim.draft.asset)
        outcome = by_key.get(key)
        if outcome is not None and outcome.state is EntryState.SETTLED:
            closures.append(ClaimClosure(claim.number, ClaimState.SETTLED, statement))
        elif outcome is not None and outcome.state is EntryState.FAILED:
            closures.append(ClaimClosure(claim.number, ClaimState.SUPERSEDED, statement))
        elif outcome is None and entry_keys is not None and key not in entry_keys:
            closures.append(ClaimClosure(claim.number, ClaimState.NETTED, statement))
    return closures
