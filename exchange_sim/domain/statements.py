"""Settlement statements: the cutoff of every OES account's unsettled amounts, and their confirmation."""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from exchange_sim.domain.accounts import AccountRegistry
from exchange_sim.domain.changes import VenueChanges
from service_kit.errors import failed_precondition, invalid_argument, not_found
from service_kit.money import AssetScales
from service_kit.statement import StatementContent, StatementEntryContent

# The custodian refuses statements with more entries than this; the exchange refuses to
# issue one it knows would be refused.
ENTRIES_PER_STATEMENT_MAX = 100_000
NONCE_HEX_LENGTH = 32
STATEMENT_NAME_PATTERN = re.compile(
    r"exchanges/([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)/statements/([1-9][0-9]{0,17})"
)

StatementSigner = Callable[[StatementContent], bytes]
# Net effect of one trade per (connection, asset), for the TRADE_COUNTED_TWICE fault.
TradeEffects = Callable[[int], dict[tuple[str, str], int]]
PARTS_PER_MILLION = 1_000_000
STATEMENT_FAULTS_MAX = 100
STATEMENTS_PER_FAULT_MAX = 1000


class StatementFaultKind(enum.Enum):
    """Ways a scenario makes the venue's next statements wrong."""

    OVER_CLAIM = "OVER_CLAIM"
    FLIPPED_SIGN = "FLIPPED_SIGN"
    TRADE_COUNTED_TWICE = "TRADE_COUNTED_TWICE"
    WRONG_KEY = "WRONG_KEY"
    OVERLAPPING_CUTOFF = "OVERLAPPING_CUTOFF"


@dataclass
class StatementFault:
    """An armed fault: it applies to the next `statements_count` statements it can apply to.

    TRADE_COUNTED_TWICE and OVERLAPPING_CUTOFF need a previous statement (with a trade, for the
    first); until there is one they stay armed and the statement is issued correctly.
    """

    kind: StatementFaultKind
    factor_ppm: int = 0
    statements_count: int = 1

    def __post_init__(self) -> None:
        assert 1 <= self.statements_count <= STATEMENTS_PER_FAULT_MAX
        assert self.kind is not StatementFaultKind.OVER_CLAIM or self.factor_ppm > PARTS_PER_MILLION

    def applies_after(self, previous: Statement | None) -> bool:
        """Whether the fault can shape the statement that follows `previous`."""
        if self.kind is StatementFaultKind.OVERLAPPING_CUTOFF:
            return previous is not None
        if self.kind is StatementFaultKind.TRADE_COUNTED_TWICE:
            return previous is not None and previous.content.last_trade_sequence >= 1
        return True


@dataclass(frozen=True)
class StatementTools:
    """What issuing needs from outside the ledger: the venue's key, a wrong key, and trade effects."""

    sign: StatementSigner
    sign_with_wrong_key: StatementSigner
    trade_effects: TradeEffects


class StatementState(enum.Enum):
    """Lifecycle of a statement at the exchange."""

    ISSUED = "ISSUED"
    CONFIRMED = "CONFIRMED"
    # Refused by the settlement network before execution: it moved nothing, a later one re-covers it.
    VOIDED = "VOIDED"


@dataclass(frozen=True)
class StatementEntry:
    """One entry in integer units: positive is owed to the client."""

    connection: str
    asset: str
    amount_units: int


@dataclass
class Statement:
    """A signed statement and its state at the exchange."""

    content: StatementContent
    signature: bytes
    entries: tuple[StatementEntry, ...]
    state: StatementState
    confirm_time_ms: int | None = None
    # The fault the statement was issued with (a StatementFaultKind value), empty when correct.
    fault: str = ""
    # Why the settlement network refused it, when VOIDED.
    void_reason: str = ""

    @property
    def number(self) -> int:
        """Position in the venue's chain of statements, from 1."""
        return self.content.number

    @property
    def name(self) -> str:
        """Resource name, `exchanges/{x}/statements/{n}`."""
        return self.content.name


def statement_name(exchange_id: str, number: int) -> str:
    """Resource name of statement `number` of an exchange."""
    return f"exchanges/{exchange_id}/statements/{number}"


def statement_nonce(seed: int, name: str) -> str:
    """The statement's nonce: deterministic from the seed, unique because the name is."""
    return hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()[:NONCE_HEX_LENGTH]


def parse_statement_name(name: str) -> tuple[str, int]:
    """Returns (exchange id, number) of `exchanges/{x}/statements/{n}`, or INVALID_ARGUMENT."""
    match = STATEMENT_NAME_PATTERN.fullmatch(name)
    if match is None:
        raise invalid_argument(
            "STATEMENT_NAME_INVALID",
            "statement",
            f"{name!r} is not a statement name like 'exchanges/okx-sim/statements/1'",
        )
    return match.group(1), int(match.group(2))


class StatementLedger:
    """The venue's chain of statements; at most one is issued and not yet confirmed at a time."""

    def __init__(
        self,
        exchange_id: str,
        seed: int,
        assets: AssetScales,
        accounts: AccountRegistry,
        changes: VenueChanges,
    ) -> None:
        self._exchange_id = exchange_id
        self._seed = seed
        self._assets = assets
        self._accounts = accounts
        self._changes = changes
        self.statements: list[Statement] = []
        self.faults: list[StatementFault] = []

    def last(self) -> Statement | None:
        """The latest statement, or None before the first."""
        return self.statements[-1] if self.statements else None

    def last_standing(self) -> Statement | None:
        """The latest statement that was not voided: the one the next statement continues."""
        standing = (item for item in reversed(self.statements) if item.state is not StatementState.VOIDED)
        return next(standing, None)

    def add(self, statement: Statement) -> None:
        """Adds a statement loaded from storage, in number order."""
        assert statement.number == len(self.statements) + 1, "statements load in number order"
        self.statements.append(statement)

    def arm(self, fault: StatementFault) -> None:
        """Arms a fault for the next statements; refused beyond STATEMENT_FAULTS_MAX armed faults."""
        if len(self.faults) >= STATEMENT_FAULTS_MAX:
            raise failed_precondition(
                "TOO_MANY_STATEMENT_FAULTS", f"at most {STATEMENT_FAULTS_MAX} statement faults may be armed"
            )
        self.faults.append(fault)
        self._changes.statement_faults_changed = True

    def clear_faults(self) -> int:
        """Disarms every fault; returns how many there were."""
        count = len(self.faults)
        if count:
            self.faults.clear()
            self._changes.statement_faults_changed = True
        return count

    def _take_fault(self, previous: Statement | None) -> StatementFault | None:
        for fault in self.faults:
            if fault.applies_after(previous):
                fault.statements_count -= 1
                if fault.statements_count == 0:
                    self.faults.remove(fault)
                self._changes.statement_faults_changed = True
                return fault
        return None

    def issue(self, cutoff_ms: int, last_trade_sequence: int, tools: StatementTools) -> Statement:
        """Closes the period: every non-zero unsettled amount, signed, continuing the previous statement.

        Refused (STATEMENT_IN_FLIGHT) while an earlier statement is neither confirmed nor voided,
        because its amounts are still in `unsettled` and would be counted twice. The statement
        takes the next number and continues the last statement that was not voided, so that it
        covers a voided statement's period again. An armed fault reshapes the statement before it
        is signed (see StatementFaultKind).
        """
        latest = self.last()
        if latest is not None and latest.state is StatementState.ISSUED:
            raise failed_precondition(
                "STATEMENT_IN_FLIGHT",
                f"{latest.name} is neither confirmed nor voided yet; confirm or void it before the next "
                "cutoff",
                statement=latest.name,
            )
        previous = self.last_standing()
        entries = tuple(
            StatementEntry(account.connection, balance.asset, balance.unsettled_units)
            for account in self._accounts.sorted_by_connection()
            for balance in account.sorted_balances()
            if balance.unsettled_units != 0
        )
        if len(entries) > ENTRIES_PER_STATEMENT_MAX:
            raise failed_precondition(
                "STATEMENT_TOO_LARGE",
                f"{len(entries)} entries exceed the {ENTRIES_PER_STATEMENT_MAX} a statement may carry",
            )
        number = len(self.statements) + 1
        first_trade_sequence = 1 if previous is None else previous.content.last_trade_sequence + 1
        assert last_trade_sequence >= first_trade_sequence - 1, "trade sequences never go back"
        fault = self._take_fault(previous)
        sign = tools.sign
        if fault is not None:
            entries, first_trade_sequence = _apply_fault(
                fault, entries, first_trade_sequence, previous, tools
            )
            if fault.kind is StatementFaultKind.WRONG_KEY:
                sign = tools.sign_with_wrong_key
        name = statement_name(self._exchange_id, number)
        content = StatementContent(
            name=name,
            exchange=f"exchanges/{self._exchange_id}",
            number=number,
            previous_statement="" if previous is None else previous.name,
            cutoff_time_ms=cutoff_ms,
            first_trade_sequence=first_trade_sequence,
            last_trade_sequence=last_trade_sequence,
            nonce=statement_nonce(self._seed, name),
            entries=tuple(
                StatementEntryContent(
                    entry.connection, entry.asset, self._assets.format(entry.asset, entry.amount_units)
                )
                for entry in entries
            ),
        )
        statement = Statement(
            content,
            sign(content),
            entries,
            StatementState.ISSUED,
            fault="" if fault is None else fault.kind.value,
        )
        self.statements.append(statement)
        self._changes.statements[number] = statement
        return statement

    def find(self, name: str) -> Statement:
        """Returns a statement by name: INVALID_ARGUMENT when malformed, NOT_FOUND when unknown."""
        exchange_id, number = parse_statement_name(name)
        if exchange_id != self._exchange_id or number > len(self.statements):
            raise not_found("STATEMENT_NOT_FOUND", f"{name} was not issued by this venue", statement=name)
        return self.statements[number - 1]

    def confirm(
        self, name: str, now_ms: int, settled_entries: Sequence[StatementEntry] | None = None
    ) -> Statement:
        """Re-bases the mirrors of an executed statement: mirror += amount, unsettled -= amount.

        With `settled_entries` (the custodian settled only some entries) only those are
        re-based; the others stay in `unsettled` and fall into the next statement. Confirming a
        confirmed statement again changes nothing.
        """
        statement = self.find(name)
        if statement.state is StatementState.CONFIRMED:
            return statement
        oldest_issued = next(item for item in self.statements if item.state is StatementState.ISSUED)
        if oldest_issued is not statement:
            raise failed_precondition(
                "STATEMENT_OUT_OF_ORDER",
                f"{oldest_issued.name} must be confirmed before {name}",
                statement=name,
            )
        rebased = statement.entries if settled_entries is None else _settled(statement, settled_entries)
        for entry in rebased:
            balance = self._accounts.by_connection(entry.connection).balance(entry.asset)
            balance.mirror_units += entry.amount_units
            balance.unsettled_units -= entry.amount_units
            self._changes.balances.add(balance)
        statement.state = StatementState.CONFIRMED
        statement.confirm_time_ms = now_ms
        self._changes.statements[statement.number] = statement
        return statement

    def void(self, name: str, reason: str) -> Statement:
        """Voids the latest statement, refused before execution; voiding it again changes nothing.

        Only the latest statement can be voided, and only while issued: a confirmed one has moved
        custody (STATEMENT_ALREADY_CONFIRMED), an earlier one is followed by another.
        """
        assert reason, "a statement is voided for a reason"
        statement = self.find(name)
        if statement.state is StatementState.VOIDED:
            return statement
        if statement.state is StatementState.CONFIRMED:
            raise failed_precondition(
                "STATEMENT_ALREADY_CONFIRMED",
                f"{name} was executed and confirmed; it cannot be voided",
                statement=name,
            )
        assert statement is self.last(), "an issued statement is always the latest (STATEMENT_IN_FLIGHT)"
        statement.state = StatementState.VOIDED
        statement.void_reason = reason
        self._changes.statements[statement.number] = statement
        return statement


def _settled(statement: Statement, settled_entries: Sequence[StatementEntry]) -> tuple[StatementEntry, ...]:
    """The settled entries, each exactly one of the statement's; INVALID_ARGUMENT otherwise."""
    entries = set(statement.entries)
    seen: set[StatementEntry] = set()
    for index, entry in enumerate(settled_entries):
        if entry not in entries or entry in seen:
            raise invalid_argument(
                "SETTLED_ENTRY_NOT_IN_STATEMENT",
                f"settled_entries[{index}]",
                f"({entry.connection}, {entry.asset}, {entry.amount_units} units) is not an entry of "
                f"{statement.name}, or is listed twice",
            )
        seen.add(entry)
    return tuple(settled_entries)


def _apply_fault(
    fault: StatementFault,
    entries: tuple[StatementEntry, ...],
    first_trade_sequence: int,
    previous: Statement | None,
    tools: StatementTools,
) -> tuple[tuple[StatementEntry, ...], int]:
    """The faulty entries and first trade sequence; entries stay sorted and non-zero."""
    kind = fault.kind
    amounts = {(entry.connection, entry.asset): entry.amount_units for entry in entries}
    if kind is StatementFaultKind.OVER_CLAIM:
        # Floor division makes an over-claimed loss larger, never smaller, than the factor says.
        amounts = {
            key: amount * fault.factor_ppm // PARTS_PER_MILLION if amount < 0 else amount
            for key, amount in amounts.items()
        }
    elif kind is StatementFaultKind.FLIPPED_SIGN:
        amounts = {key: -amount for key, amount in amounts.items()}
    elif kind is StatementFaultKind.TRADE_COUNTED_TWICE:
        assert previous is not None
        first_trade_sequence = previous.content.last_trade_sequence
        for key, delta in tools.trade_effects(first_trade_sequence).items():
            amounts[key] = amounts.get(key, 0) + delta
    elif kind is StatementFaultKind.OVERLAPPING_CUTOFF:
        assert previous is not None
        first_trade_sequence = previous.content.first_trade_sequence
    faulty = tuple(
        StatementEntry(connection, asset, amount)
        for (connection, asset), amount in sorted(amounts.items())
        if amount != 0
    )
    return faulty, first_trade_sequence
