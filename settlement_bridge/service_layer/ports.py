"""Ports to the venues the bridge drives: the custodian and one exchange per exchange id.

Every mutating call carries a request_id the workflow fixed before its first attempt, so a
call repeated after a lost reply or a crash is recognised by the venue and not applied twice.
Adapters retry only transient failures; what reaches the service layer is either a result, a
definite refusal (VenueRefusedError) or "could not reach it" (VenueUnavailableError).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from service_kit.errors import ErrorCode, ServiceError, not_found, unavailable
from service_kit.statement import StatementEntryContent
from settlement_bridge.domain.settlement import EntryResult, IssuedStatement


class VenueRefusedError(Exception):
    """A venue answered with a definite error; retrying the same call would not change it."""

    def __init__(self, venue: str, code: str, reason: str, message: str) -> None:
        super().__init__(f"{venue} refused: {code} {reason}: {message}")
        self.venue = venue
        self.code = code
        self.reason = reason
        self.message = message


class VenueUnavailableError(Exception):
    """A venue could not be reached within the retry budget; the call may or may not have happened."""

    def __init__(self, venue: str, message: str, reason: str = "VENUE_UNAVAILABLE") -> None:
        super().__init__(f"{venue} unavailable: {message}")
        self.venue = venue
        self.message = message
        # VENUE_UNAVAILABLE, or VENUE_CIRCUIT_OPEN when the call was not even tried.
        self.reason = reason


@dataclass(frozen=True)
class VenueIdentity:
    """What an exchange says about itself."""

    exchange_name: str
    statement_public_key: bytes
    # Its venue state without the prefix (`OPERATING`, `INSOLVENT`, ...); empty when unknown.
    state: str = ""


@dataclass(frozen=True)
class MirrorBalance:
    """One exchange mirror balance of one connection in one asset."""

    connection: str
    asset: str
    mirror_units: int
    # Net trade and fee effects since the last confirmed statement (positive: owed to the client).
    unsettled_units: int = 0


@dataclass(frozen=True)
class CustodyBalance:
    """One custodian ledger balance of one account in one asset."""

    account: str
    asset: str
    amount_units: int


@dataclass(frozen=True)
class StatementExecution:
    """What the custodian has done with a statement: still waiting for a top-up, or executed."""

    # The exchange's settlement account cannot pay the gains yet; nothing has moved.
    awaiting_top_up: bool = False
    # When the custodian settled only some entries (possibly none): those, as signed. None when
    # every entry settled (or while waiting).
    settled_entries: tuple[StatementEntryContent, ...] | None = None
    # What became of every entry, once executed.
    entry_results: tuple[EntryResult, ...] = ()

    def __post_init__(self) -> None:
        assert not (self.awaiting_top_up and self.settled_entries is not None)


@dataclass(frozen=True)
class DefaultRelease:
    """What the custodian's default procedure did for one exchange (the same on every later call)."""

    # The exchange's latest verified statement when the procedure ran; empty when it had none.
    last_statement: str
    # Whether the procedure executed that statement before returning the allocations.
    last_statement_applied: bool
    # Why it did not: NOT_REQUESTED, ALREADY_EXECUTED or execution's refusal; empty otherwise.
    last_statement_reason: str
    # Units moved back to available, per (client name, asset); one connection per client and exchange.
    returned_units: Mapping[tuple[str, str], int]
    # Entries of the last statement the procedure settled, per (connection name, asset).
    statement_settled_units: Mapping[tuple[str, str], int]


class CustodianPort(Protocol):
    """The custodian's settlement operations, as the bridge uses them."""

    def create_connection(self, request_id: str, client_name: str, exchange_name: str) -> None:
        """Opens (or finds) the connection of a client to an exchange; the custodian creates it PENDING."""
        ...

    def activate_connection(self, request_id: str, connection: str) -> None:
        """Activates a PENDING connection once the exchange has opened its account; ACTIVE is a no-op."""
        ...

    def lock_allocation(
        self, request_id: str, connection: str, allocation_id: str, asset: str, amount_units: int
    ) -> None:
        """Moves `available -> allocated`, at most once per allocation id."""
        ...

    def unlock_allocation(
        self, request_id: str, connection: str, unlock_id: str, asset: str, amount_units: int
    ) -> None:
        """Moves `allocated -> available`, at most once per unlock id (deallocations)."""
        ...

    def clear_allocation(self, request_id: str, connection: str, allocation_id: str) -> None:
        """Marks a locked (RESERVED) allocation CLEARED once the exchange cleared its credit."""
        ...

    def release_allocation(self, request_id: str, connection: str, allocation_id: str, reason: str) -> None:
        """Compensates a locked allocation: its amount returns to `available`, it ends RELEASED."""
        ...

    def submit_statement(self, request_id: str, statement: IssuedStatement) -> None:
        """Has the custodian verify and record a statement; refused statements raise VenueRefusedError."""
        ...

    def execute_statement(self, request_id: str, statement_name: str) -> StatementExecution:
        """Has the custodian execute a recorded statement, at most once, or wait for a top-up."""
        ...

    def get_statement_execution(self, statement_name: str) -> StatementExecution:
        """Returns what the custodian has done with a recorded statement so far."""
        ...

    def list_balances(self, owner: str) -> list[CustodyBalance]:
        """Returns every balance of one owner (`clients/{client}`)."""
        ...

    def dispute_statement_entry(
        self, request_id: str, statement_name: str, connection: str, asset: str, reason: str
    ) -> None:
        """Holds one entry of a submitted statement: its execution moves nothing for it."""
        ...

    def resolve_disputed_entry(
        self, request_id: str, statement_name: str, connection: str, asset: str, amount: str
    ) -> None:
        """Settles a held entry at `amount` (a decimal; "0" closes it without a transfer)."""
        ...

    def list_allocated_to(self, exchange_name: str) -> list[CustodyBalance]:
        """The `allocated` balance of every connection to the exchange, in one call."""
        ...

    def release_on_default(
        self, request_id: str, exchange_name: str, apply_last_statement: bool
    ) -> DefaultRelease:
        """Runs the exchange's default procedure once: allocations return to available, accounts freeze."""
        ...


class ExchangePort(Protocol):
    """One exchange's partner operations, as the bridge uses them."""

    def create_connection(self, request_id: str, connection: str) -> None:
        """Opens (or finds) the OES account mirroring a connection."""
        ...

    def reserve_allocation(
        self, request_id: str, connection: str, allocation_id: str, asset: str, amount_units: int
    ) -> None:
        """Records pending mirror credit for a locked allocation."""
        ...

    def clear_allocation(self, request_id: str, allocation_id: str) -> None:
        """Turns the reserved credit into tradable mirror credit."""
        ...

    def release_allocation(self, request_id: str, allocation_id: str) -> None:
        """Drops a reservation (an unknown id counts as dropped)."""
        ...

    def reserve_deallocation(
        self, request_id: str, connection: str, deallocation_id: str, asset: str, amount_units: int
    ) -> None:
        """Holds free credit so that it cannot be traded while the custodian unlocks it."""
        ...

    def clear_deallocation(self, request_id: str, deallocation_id: str) -> None:
        """Removes held credit after the custodian unlocked it."""
        ...

    def release_deallocation(self, request_id: str, deallocation_id: str) -> None:
        """Returns held credit to the account."""
        ...

    def create_statement(self, request_id: str) -> IssuedStatement:
        """Closes the period and returns the signed statement (the same one on a retry)."""
        ...

    def apply_adjustment(
        self, request_id: str, connection: str, asset: str, amount: str, statement: str
    ) -> None:
        """Moves a mirror by an adjustment the custodian settled (`mirror += amount`)."""
        ...

    def confirm_statement(
        self,
        request_id: str,
        statement_name: str,
        settled_entries: Sequence[StatementEntryContent] | None = None,
    ) -> None:
        """Re-bases the mirrors after the custodian executed the statement.

        With `settled_entries`, only those (the custodian settled only some); None for every entry.
        """
        ...

    def void_statement(self, request_id: str, statement_name: str, reason: str) -> None:
        """Voids a statement refused before the custodian recorded it; the next one re-covers it."""
        ...

    def get_venue(self) -> VenueIdentity:
        """Returns the exchange's name and statement public key."""
        ...

    def list_mirrors(self) -> list[MirrorBalance]:
        """Returns every mirror balance of every OES connection."""
        ...


def refusal_error(refusal: VenueRefusedError) -> ServiceError:
    """The bridge's own error for a venue refusal it cannot turn into a workflow outcome."""
    code = ErrorCode.NOT_FOUND if refusal.code == "NOT_FOUND" else ErrorCode.FAILED_PRECONDITION
    return ServiceError(
        code,
        refusal.reason,
        f"{refusal.venue} refused: {refusal.message}",
        metadata={"venue": refusal.venue},
    )


def unavailable_error(failure: VenueUnavailableError, resource: str = "") -> ServiceError:
    """UNAVAILABLE for a venue that could not be reached; a retry with the same request_id resumes."""
    suffix = f"; {resource} stays pending and resumes on a retry with the same request_id" if resource else ""
    return unavailable(
        failure.reason,
        f"{failure.venue} is unreachable ({failure.message}){suffix}",
        venue=failure.venue,
    )


def exchange_not_found(exchange_id: str) -> ServiceError:
    """NOT_FOUND for an exchange the bridge does not serve."""
    return not_found(
        "EXCHANGE_NOT_FOUND",
        f"the bridge serves no exchange 'exchanges/{exchange_id}'",
        exchange=f"exchanges/{exchange_id}",
    )


class CrashPoints(Protocol):
    """Named points where an armed fault ends the process (QA kills the bridge at every step)."""

    def reach(self, point: str) -> None:
        """Called at the point: returns, or never returns when a crash is armed there."""
        ...
