"""Settlement cycles: the cutoff-to-reconcile state machine, statement checks and reconciliation."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from service_kit.errors import ServiceError
from service_kit.money import AssetScales
from service_kit.statement import StatementContent
from settlement_bridge.domain.names import ConnectionName

# Reasons a cycle fails at VERIFY; stable, clients and scenarios branch on them.
INVALID_SIGNATURE = "INVALID_SIGNATURE"
STATEMENT_EXCHANGE_MISMATCH = "STATEMENT_EXCHANGE_MISMATCH"
STATEMENT_NOT_CONTINUOUS = "STATEMENT_NOT_CONTINUOUS"
STATEMENT_MALFORMED = "STATEMENT_MALFORMED"


class SettlementState(enum.Enum):
    """Lifecycle of a settlement cycle, as in the bridge proto."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class SettlementStep(enum.Enum):
    """Steps of a settlement cycle, in order."""

    CUTOFF = "CUTOFF"
    VERIFY = "VERIFY"
    EXECUTE = "EXECUTE"
    CONFIRM = "CONFIRM"
    # Disputes decided since earlier cycles settle: their held entries close at the custodian and
    # an approved correction moves custody and mirror alike.
    SETTLE_DISPUTES = "SETTLE_DISPUTES"
    RECONCILE = "RECONCILE"
    DONE = "DONE"
    # Off the main line: a statement refused before the custodian recorded it is voided at the
    # exchange, so that the exchange's next statement covers its period again; then the cycle fails.
    VOID = "VOID"


# Until the custodian has executed, a failure leaves every balance as it was; after that the
# cycle can only go forward.
_STEPS_THAT_MAY_FAIL = (SettlementStep.CUTOFF, SettlementStep.VERIFY, SettlementStep.EXECUTE)


@dataclass(frozen=True)
class IssuedStatement:
    """A statement as the exchange issued it: its signed content, signature and exact bytes."""

    content: StatementContent
    signature: bytes
    # The serialized SettlementStatement message, relayed to the custodian byte for byte.
    encoded: bytes

    @property
    def name(self) -> str:
        """The statement's resource name, `exchanges/{exchange}/statements/{number}`."""
        return self.content.name


@dataclass(frozen=True, order=True)
class ReconciliationBreak:
    """One connection and asset where custodian `allocated` and exchange `mirror` disagree."""

    connection: str
    asset: str
    allocated_units: int
    mirror_units: int


@dataclass(frozen=True)
class EntryResult:
    """What the custodian did with one entry: SETTLED, FAILED (with a reason) or DISPUTED."""

    connection: str
    asset: str
    state: str
    reason: str = ""


@dataclass
class SettlementCycle:
    """One settlement cycle of one exchange, persisted after every step."""

    number: int
    exchange_id: str
    create_time_ms: int
    state: SettlementState = SettlementState.RUNNING
    step: SettlementStep = SettlementStep.CUTOFF
    statement: IssuedStatement | None = None
    breaks: tuple[ReconciliationBreak, ...] = ()
    reason: str = ""
    end_time_ms: int | None = None
    # How often the custodian was asked again to execute a statement awaiting a top-up.
    execute_attempts: int = 0
    # Per entry, what the custodian did with it, once executed.
    entry_results: tuple[EntryResult, ...] = ()

    def __post_init__(self) -> None:
        assert self.number > 0
        assert self.execute_attempts >= 0
        assert (self.end_time_ms is None) == (self.state is SettlementState.RUNNING)
        assert self.statement is not None or self.step in (SettlementStep.CUTOFF,)

    @property
    def name(self) -> str:
        """Resource name, `settlements/{number}`."""
        return f"settlements/{self.number}"

    @property
    def exchange_name(self) -> str:
        """The exchange, `exchanges/{exchange}`."""
        return f"exchanges/{self.exchange_id}"

    def request_id(self, call: str) -> str:
        """The request_id of one venue call of this cycle, the same on every attempt."""
        assert call in ("cutoff", "submit", "execute", "confirm", "void")
        return f"settlements/{self.number}/{call}"

    def next_execute_request_id(self) -> str:
        """A fresh request_id to ask the custodian again about a statement awaiting a top-up.

        The custodian answers a known request_id with its first answer, which would say the
        statement still waits; each later ask gets a number of its own.
        """
        self._expect(SettlementStep.EXECUTE)
        self.execute_attempts += 1
        return f"{self.request_id('execute')}/{self.execute_attempts}"

    def cut_off(self, statement: IssuedStatement) -> None:
        """The exchange closed the period and issued its statement."""
        self._expect(SettlementStep.CUTOFF)
        self.statement = statement
        self.step = SettlementStep.VERIFY

    def verified(self) -> None:
        """The bridge accepted the statement's signature, continuity and form."""
        self._expect(SettlementStep.VERIFY)
        self.step = SettlementStep.EXECUTE

    def executed(self, entry_results: tuple[EntryResult, ...] = ()) -> None:
        """The custodian verified, recorded and executed the statement."""
        self._expect(SettlementStep.EXECUTE)
        self.entry_results = entry_results
        self.step = SettlementStep.CONFIRM

    def confirmed(self) -> None:
        """The exchange re-based its mirrors."""
        self._expect(SettlementStep.CONFIRM)
        self.step = SettlementStep.SETTLE_DISPUTES

    def disputes_settled(self) -> None:
        """Every decided dispute of earlier statements has settled."""
        self._expect(SettlementStep.SETTLE_DISPUTES)
        self.step = SettlementStep.RECONCILE

    def reconciled(self, breaks: tuple[ReconciliationBreak, ...], now_ms: int) -> None:
        """Custody and mirrors were compared; the cycle is done."""
        self._expect(SettlementStep.RECONCILE)
        self.breaks = breaks
        self.state = SettlementState.SUCCEEDED
        self.step = SettlementStep.DONE
        self.end_time_ms = now_ms

    def refuse(self, reason: str) -> None:
        """The statement is refused before the custodian recorded it: void it at the exchange next."""
        self._expect(SettlementStep.VERIFY, SettlementStep.EXECUTE)
        assert reason
        self.reason = reason
        self.step = SettlementStep.VOID

    def voided(self, now_ms: int) -> None:
        """The exchange voided the refused statement (or would not); the cycle fails for its reason."""
        self._expect(SettlementStep.VOID)
        self.state = SettlementState.FAILED
        self.end_time_ms = now_ms

    def fail(self, reason: str, now_ms: int) -> None:
        """Stops the cycle before anything was executed; the step stays where it failed."""
        self._expect(*_STEPS_THAT_MAY_FAIL)
        assert reason
        self.state = SettlementState.FAILED
        self.reason = reason
        self.end_time_ms = now_ms

    def _expect(self, *steps: SettlementStep) -> None:
        assert self.state is SettlementState.RUNNING, f"{self.name} already ended {self.state.value}"
        assert self.step in steps, f"{self.name} is at {self.step.value}, not {[s.value for s in steps]}"


def statement_problem(
    statement: StatementContent,
    exchange_id: str,
    signature_valid: bool,
    previous: StatementContent | None,
    assets: AssetScales,
) -> str | None:
    """Returns why the bridge refuses a statement, or None when it may be executed.

    `previous` is the exchange's last statement the bridge settled, None before the first.
    """
    exchange_name = f"exchanges/{exchange_id}"
    if (
        statement.exchange != exchange_name
        or statement.name != f"{exchange_name}/statements/{statement.number}"
    ):
        return STATEMENT_EXCHANGE_MISMATCH
    if not signature_valid:
        return INVALID_SIGNATURE
    if not _continues(statement, previous):
        return STATEMENT_NOT_CONTINUOUS
    if not _entries_well_formed(statement, exchange_id, assets):
        return STATEMENT_MALFORMED
    return None


def _continues(statement: StatementContent, previous: StatementContent | None) -> bool:
    if statement.last_trade_sequence < statement.first_trade_sequence - 1:
        return False
    if previous is None:
        return (
            statement.number >= 1
            and statement.previous_statement == ""
            and statement.first_trade_sequence == 1
        )
    # The number may skip statements the bridge refused and the exchange voided: what must continue
    # is the chain of settled statements and their trades.
    return (
        statement.number > previous.number
        and statement.previous_statement == previous.name
        and statement.first_trade_sequence == previous.last_trade_sequence + 1
        and statement.cutoff_time_ms >= previous.cutoff_time_ms
    )


def _entries_well_formed(statement: StatementContent, exchange_id: str, assets: AssetScales) -> bool:
    keys = [(entry.connection, entry.asset) for entry in statement.entries]
    if keys != sorted(set(keys)):
        return False
    for entry in statement.entries:
        if not entry.connection.endswith(f"/connections/{exchange_id}"):
            return False
        try:
            assets.parse(entry.asset, entry.amount, "amount", allow_negative=True)
        except ServiceError:
            return False
    return True


def reconcile(
    allocated_units: Mapping[tuple[ConnectionName, str], int],
    mirror_units: Mapping[tuple[ConnectionName, str], int],
) -> tuple[ReconciliationBreak, ...]:
    """Compares custodian allocations with exchange mirrors per connection and asset.

    A key present on one side only counts as zero on the other, so an allocation the exchange
    does not know about (or a mirror without a lock) is a break.
    """
    breaks = []
    for connection, asset in sorted(set(allocated_units) | set(mirror_units)):
        allocated = allocated_units.get((connection, asset), 0)
        mirror = mirror_units.get((connection, asset), 0)
        if allocated != mirror:
            breaks.append(ReconciliationBreak(connection.name, asset, allocated, mirror))
    return tuple(breaks)
