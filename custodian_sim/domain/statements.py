"""Settlement statements: what makes one acceptable, its continuity, and the record the custodian keeps."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import cached_property

from custodian_sim.domain.entry_outcomes import EntryOutcome
from custodian_sim.domain.names import (
    ConnectionName,
    StatementName,
    parse_exchange_name,
)
from service_kit.errors import ServiceError, already_exists, failed_precondition, invalid_argument, not_found
from service_kit.money import AssetScales, parse_units
from service_kit.statement import StatementContent

# A statement covers every connection of one exchange and every asset; this bounds the
# work of one verification and one execution.
ENTRIES_PER_STATEMENT_MAX = 100_000
SIGNATURE_LENGTH = 64
NONCE_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")

STATEMENT_NOT_FOUND = "STATEMENT_NOT_FOUND"
STATEMENT_SIGNATURE_INVALID = "STATEMENT_SIGNATURE_INVALID"
STATEMENT_CONFLICT = "STATEMENT_CONFLICT"
STATEMENT_OUT_OF_SEQUENCE = "STATEMENT_OUT_OF_SEQUENCE"
STATEMENT_IN_FLIGHT = "STATEMENT_IN_FLIGHT"
NONCE_REUSED = "NONCE_REUSED"
EXCHANGE_KEY_NOT_REGISTERED = "EXCHANGE_KEY_NOT_REGISTERED"


class StatementState(enum.Enum):
    """Lifecycle of a statement at the custodian (AIP-216 names)."""

    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    REJECTED = "REJECTED"
    # The exchange's settlement account cannot pay the gains; nothing moved yet.
    AWAITING_TOP_UP = "AWAITING_TOP_UP"
    PARTIALLY_SUCCEEDED = "PARTIALLY_SUCCEEDED"
    FAILED = "FAILED"
    # Executed while every entry is held in dispute.
    DISPUTED = "DISPUTED"


# Verified but not executed: the statement's entries may still move allocations, so the next
# statement waits (and, for the allocation rules, a settlement is in flight).
IN_FLIGHT_STATES = frozenset({StatementState.PENDING, StatementState.AWAITING_TOP_UP})
# Executed: every entry settled, failed or is held; executing again changes nothing.
EXECUTED_STATES = frozenset(
    {
        StatementState.SUCCEEDED,
        StatementState.PARTIALLY_SUCCEEDED,
        StatementState.FAILED,
        StatementState.DISPUTED,
    }
)


# Slotted: a statement carries up to 100,000.
@dataclass(frozen=True, slots=True)
class StatementEntry:
    """One parsed entry: positive units are owed to the client (a gain), negative by it (a loss)."""

    connection: ConnectionName
    asset: str
    amount_units: int

    def __post_init__(self) -> None:
        assert self.amount_units != 0, "statements carry only non-zero entries"


@dataclass(frozen=True)
class SignedStatement:
    """A statement exactly as the exchange signed it, with its entries parsed into units."""

    content: StatementContent
    signature: bytes
    statement_name: StatementName
    entries: tuple[StatementEntry, ...]

    @property
    def name(self) -> str:
        """The statement's resource name."""
        return self.content.name

    @property
    def exchange(self) -> str:
        """The issuing exchange's resource name."""
        return self.content.exchange

    def identical_to(self, other: SignedStatement) -> bool:
        """Same signed content and same signature bytes."""
        return self.content == other.content and self.signature == other.signature

    @cached_property
    def pending_outcomes(self) -> tuple[EntryOutcome, ...]:
        """One PENDING outcome per entry, in entry order."""
        # Built once per parsed statement: a statement may carry 100,000 entries, and the
        # adapters keep parsed statements between units of work.
        return tuple(
            EntryOutcome(entry.connection, entry.asset, entry.amount_units) for entry in self.entries
        )


def parse_statement(content: StatementContent, signature: bytes, assets: AssetScales) -> SignedStatement:
    """Checks everything about a statement that needs no stored state, naming the bad field."""
    statement_name = StatementName.parse(content.name, "statement.name")
    exchange_id = parse_exchange_name(content.exchange, "statement.exchange")
    if exchange_id != statement_name.exchange_id:
        raise invalid_argument(
            "STATEMENT_EXCHANGE_MISMATCH",
            "statement.exchange",
            f"{content.exchange!r} did not issue {content.name!r}",
        )
    if content.number != statement_name.number:
        raise invalid_argument(
            "STATEMENT_NUMBER_MISMATCH",
            "statement.number",
            f"{content.number} is not the number in the name {content.name!r}",
        )
    if content.cutoff_time_ms < 0:
        raise invalid_argument("CUTOFF_TIME_INVALID", "statement.cutoff_time", "must not be before 1970")
    if content.first_trade_sequence < 1:
        raise invalid_argument(
            "TRADE_SEQUENCE_INVALID", "statement.first_trade_sequence", "trade sequences start at 1"
        )
    if not NONCE_PATTERN.fullmatch(content.nonce):
        raise invalid_argument(
            "NONCE_INVALID", "statement.nonce", "must be 1-128 characters of letters, digits and ._:-"
        )
    if len(signature) != SIGNATURE_LENGTH:
        raise invalid_argument(
            STATEMENT_SIGNATURE_INVALID,
            "statement.signature",
            f"an Ed25519 signature is {SIGNATURE_LENGTH} bytes, got {len(signature)}",
        )
    if len(content.entries) > ENTRIES_PER_STATEMENT_MAX:
        raise invalid_argument(
            "TOO_MANY_ENTRIES", "statement.entries", f"at most {ENTRIES_PER_STATEMENT_MAX} entries"
        )
    entries: list[StatementEntry] = []
    previous_key: tuple[str, str] | None = None
    # A connection has one entry per asset: each name is parsed once and its entries share it.
    connections: dict[str, ConnectionName] = {}
    for index, entry in enumerate(content.entries):
        connection = connections.get(entry.connection)
        if connection is None:
            connection = _entry_connection(entry.connection, exchange_id, content.exchange, index)
            connections[entry.connection] = connection
        scale = assets.scale(entry.asset, f"statement.entries[{index}].asset")
        amount_units = parse_units(
            entry.amount, scale, f"statement.entries[{index}].amount", allow_negative=True, allow_zero=True
        )
        if amount_units == 0:
            raise invalid_argument(
                "ENTRY_AMOUNT_ZERO",
                f"statement.entries[{index}].amount",
                "entries are only for non-zero amounts",
            )
        key = (entry.connection, entry.asset)
        if previous_key is not None and key <= previous_key:
            raise invalid_argument(
                "ENTRIES_NOT_SORTED",
                "statement.entries",
                f"entry {index} ({entry.connection}, {entry.asset}) is out of order or repeated; "
                "entries are sorted by connection, then asset, each pair once",
            )
        previous_key = key
        entries.append(StatementEntry(connection, entry.asset, amount_units))
    return SignedStatement(content, signature, statement_name, tuple(entries))


def _entry_connection(name: str, exchange_id: str, exchange: str, index: int) -> ConnectionName:
    field_name = f"statement.entries[{index}].connection"
    connection = ConnectionName.parse(name, field_name)
    if connection.exchange_id != exchange_id:
        raise invalid_argument(
            "ENTRY_OF_OTHER_EXCHANGE", field_name, f"{name!r} is not a connection of {exchange}"
        )
    return connection


@dataclass(frozen=True)
class RecordedStatement:
    """A verified statement as the custodian keeps it."""

    statement: SignedStatement
    state: StatementState
    transfer_ids: tuple[str, ...]
    submit_time_ms: int
    execute_time_ms: int | None = None
    # Empty while every entry is pending; otherwise one outcome per entry, in entry order.
    outcomes: tuple[EntryOutcome, ...] = ()
    # Set when execution first found the gains unpaid: when what can settle settles.
    top_up_deadline_ms: int | None = None

    def __post_init__(self) -> None:
        assert not self.outcomes or len(self.outcomes) == len(self.statement.entries), self.name

    @property
    def name(self) -> str:
        """The statement's resource name."""
        return self.statement.name

    def entry_outcomes(self) -> tuple[EntryOutcome, ...]:
        """One outcome per entry, in entry order; PENDING for every entry before anything happened."""
        return self.outcomes or self.statement.pending_outcomes


def require_statement(recorded: RecordedStatement | None, name: str) -> RecordedStatement:
    """Returns the recorded statement, or NOT_FOUND."""
    if recorded is None:
        raise not_found(STATEMENT_NOT_FOUND, f"{name} was never submitted to the custodian", statement=name)
    return recorded


def require_key(public_key: bytes | None, exchange: str) -> bytes:
    """Returns the exchange's registered key, or FAILED_PRECONDITION: nothing is trusted unsigned."""
    if public_key is None:
        raise failed_precondition(
            EXCHANGE_KEY_NOT_REGISTERED,
            f"{exchange} has no statement key registered; an admin registers it with RegisterExchangeKey",
            exchange=exchange,
        )
    return public_key


def signature_invalid(statement: SignedStatement) -> ServiceError:
    """The error for a statement whose signature is not the exchange's."""
    return invalid_argument(
        STATEMENT_SIGNATURE_INVALID,
        "statement.signature",
        f"is not {statement.exchange}'s signature over the content of {statement.name}",
    )


def check_resubmission(recorded: RecordedStatement, statement: SignedStatement) -> None:
    """A statement name stands for one content forever."""
    if not recorded.statement.identical_to(statement):
        raise already_exists(
            STATEMENT_CONFLICT,
            f"{statement.name} was already recorded with other content; statement names are never reused",
            statement=statement.name,
        )


def check_nonce_unused(nonce_used: bool, statement: SignedStatement) -> None:
    """A nonce is accepted once: a replayed nonce marks a replayed or forged statement."""
    if nonce_used:
        raise already_exists(
            NONCE_REUSED,
            f"the nonce of {statement.name} was already used by another statement",
            statement=statement.name,
            nonce=statement.content.nonce,
        )


def check_continuity(statement: SignedStatement, previous: RecordedStatement | None) -> None:
    """The statement follows the previous one exactly: no gap, no overlap, no fork.

    Its trades start right after the previous statement's and it names that statement. Its number
    is higher, but not necessarily by one: the exchange voids a statement the settlement network
    refused before it reached the custodian, and the next one takes the next number while it
    covers the voided one's trades again.
    """
    content = statement.content
    if previous is None:
        number_after, expected_previous, expected_first = 0, "", 1
    else:
        number_after = previous.statement.content.number
        expected_previous = previous.name
        expected_first = previous.statement.content.last_trade_sequence + 1
    problems: list[str] = []
    if content.number <= number_after:
        problems.append(f"number is {content.number}, expected more than {number_after}")
    if content.previous_statement != expected_previous:
        problems.append(
            f"previous_statement is {content.previous_statement!r}, expected {expected_previous!r}"
        )
    if content.first_trade_sequence != expected_first:
        problems.append(f"first_trade_sequence is {content.first_trade_sequence}, expected {expected_first}")
    if content.last_trade_sequence < content.first_trade_sequence - 1:
        problems.append(
            f"last_trade_sequence {content.last_trade_sequence} is before first_trade_sequence "
            f"{content.first_trade_sequence} - 1"
        )
    if problems:
        raise failed_precondition(
            STATEMENT_OUT_OF_SEQUENCE,
            f"{statement.name} does not follow {expected_previous or 'nothing'}: " + "; ".join(problems),
            statement=statement.name,
            expected_previous_statement=expected_previous,
        )
    if previous is not None and previous.state in IN_FLIGHT_STATES:
        # The loss bound of the new statement is only meaningful once the previous one moved
        # the allocations; two pending statements could take the same units twice.
        raise failed_precondition(
            STATEMENT_IN_FLIGHT,
            f"{previous.name} is not executed yet; execute it before submitting {statement.name}",
            statement=statement.name,
            previous_statement=previous.name,
        )


def settlement_transfer_id(statement_name: StatementName, connection: ConnectionName, asset: str) -> str:
    """Deterministic from the statement, connection and asset, so execution happens at most once."""
    return f"{statement_name.name}/transfers/{connection.client_id}/{asset}"
