"""Executing a statement entry by entry: what settles, what fails, what waits for a top-up or a dispute.

Execution is planned here on the balances it reads and applied by the service layer in one
transaction. Per connection, a loss larger than the allocation fails that entry alone (nothing
of it moves, the exchange gets a claim on the client); disputed entries are held. Losses are
collected first because they pay into the settlement account the gains are paid out of. When
that account cannot pay every gain, nothing moves and the statement waits for a top-up; at the
top-up deadline the gains that are covered settle in entry order and the others fail, each
leaving the client a claim on the exchange.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from custodian_sim.domain.entry_outcomes import (
    INSUFFICIENT_SETTLEMENT_FUNDS,
    LOSS_EXCEEDS_ALLOCATION,
    ClaimDraft,
    EntryOutcome,
    EntryState,
    gain_claim,
    loss_claim,
)
from custodian_sim.domain.ledger import BalanceKey, Transfer, TransferKind
from custodian_sim.domain.names import ConnectionName, StatementName, allocated_account, settlement_account
from custodian_sim.domain.statements import (
    EXECUTED_STATES,
    IN_FLIGHT_STATES,
    RecordedStatement,
    StatementState,
    settlement_transfer_id,
)
from service_kit.errors import failed_precondition, invalid_argument, not_found
from service_kit.money import AssetScales

ENTRY_NOT_FOUND = "ENTRY_NOT_FOUND"
ENTRY_NOT_DISPUTED = "ENTRY_NOT_DISPUTED"
STATEMENT_NOT_EXECUTABLE = "STATEMENT_NOT_EXECUTABLE"
STATEMENT_NOT_DISPUTABLE = "STATEMENT_NOT_DISPUTABLE"
STATEMENT_NOT_EXECUTED = "STATEMENT_NOT_EXECUTED"
DISPUTE_REASON_INVALID = "DISPUTE_REASON_INVALID"
DISPUTE_REASON_LENGTH_MAX = 256
ADJUSTMENT_SUFFIX = "/adjustment"


@dataclass(frozen=True)
class Settlement:
    """What one execution, deadline or resolution decided: transfers to post, outcomes, claims."""

    # Losses first, then gains, in entry order within each.
    transfers: tuple[Transfer, ...]
    # Only the entries decided now (SETTLED or FAILED).
    outcomes: tuple[EntryOutcome, ...]
    claims: tuple[ClaimDraft, ...]


def adjustment_transfer_id(statement_name: StatementName, connection: ConnectionName, asset: str) -> str:
    """The transfer that settles a disputed entry once resolved; its own id, also at most once."""
    return settlement_transfer_id(statement_name, connection, asset) + ADJUSTMENT_SUFFIX


def entry_balance_keys(recorded: RecordedStatement) -> set[BalanceKey]:
    """Every balance that executing the statement's entries reads."""
    statement_name = recorded.statement.statement_name
    settlement = settlement_account(statement_name.exchange_id)
    keys = {(allocated_account(outcome.connection), outcome.asset) for outcome in recorded.entry_outcomes()}
    keys.update({(settlement, outcome.asset) for outcome in recorded.entry_outcomes()})
    return keys


def _transfer(
    statement_name: StatementName, outcome: EntryOutcome, transfer_id: str, now_ms: int
) -> Transfer:
    """The ledger movement of one entry: a loss into the settlement account, a gain out of it."""
    return _movement(
        outcome,
        transfer_id,
        allocated_account(outcome.connection),
        settlement_account(statement_name.exchange_id),
        statement_name.name,
        now_ms,
    )


def _movement(
    outcome: EntryOutcome, transfer_id: str, allocated: str, settlement: str, reference: str, now_ms: int
) -> Transfer:
    # Positional, in the order of Transfer's fields (id, from, to, asset, amount, kind,
    # reference, time): one transfer per entry of a statement of up to 100,000.
    if outcome.is_loss:
        return Transfer(
            transfer_id,
            allocated,
            settlement,
            outcome.asset,
            -outcome.amount_units,
            TransferKind.SETTLEMENT_LOSS,
            reference,
            now_ms,
        )
    return Transfer(
        transfer_id,
        settlement,
        allocated,
        outcome.asset,
        outcome.amount_units,
        TransferKind.SETTLEMENT_GAIN,
        reference,
        now_ms,
    )


def plan_settlement(
    recorded: RecordedStatement, balances: Mapping[BalanceKey, int], now_ms: int, settle_what_can: bool
) -> Settlement | None:
    """Plans the execution of every pending entry; None when it must wait for a top-up.

    Without `settle_what_can`, the gains are paid only when the settlement account (with this
    statement's collected losses) covers all of them; otherwise nothing is planned. With it (at
    the top-up deadline), each gain in entry order settles when what is left covers it whole.
    """
    statement_name = recorded.statement.statement_name
    reference = statement_name.name
    settlement = settlement_account(statement_name.exchange_id)
    pending = [outcome for outcome in recorded.entry_outcomes() if outcome.state is EntryState.PENDING]
    transfers: list[Transfer] = []
    decided: list[EntryOutcome] = []
    claims: list[ClaimDraft] = []
    # What the settlement account can pay per asset: its balance plus the losses collected.
    funds_units = {asset: balances.get((settlement, asset), 0) for asset in {o.asset for o in pending}}
    gains: list[EntryOutcome] = []
    for outcome in pending:
        if not outcome.is_loss:
            gains.append(outcome)
            continue
        allocated = allocated_account(outcome.connection)
        if -outcome.amount_units > balances.get((allocated, outcome.asset), 0):
            failed = outcome.failed(LOSS_EXCEEDS_ALLOCATION)
            decided.append(failed)
            claims.append(loss_claim(reference, failed))
            continue
        transfer_id = settlement_transfer_id(statement_name, outcome.connection, outcome.asset)
        transfers.append(_movement(outcome, transfer_id, allocated, settlement, reference, now_ms))
        decided.append(outcome.settled(transfer_id))
        funds_units[outcome.asset] -= outcome.amount_units
    if not settle_what_can and not _covers_every_gain(gains, funds_units):
        return None
    for outcome in gains:
        if outcome.amount_units > funds_units[outcome.asset]:
            failed = outcome.failed(INSUFFICIENT_SETTLEMENT_FUNDS)
            decided.append(failed)
            claims.append(gain_claim(reference, failed))
            continue
        funds_units[outcome.asset] -= outcome.amount_units
        transfer_id = settlement_transfer_id(statement_name, outcome.connection, outcome.asset)
        allocated = allocated_account(outcome.connection)
        transfers.append(_movement(outcome, transfer_id, allocated, settlement, reference, now_ms))
        decided.append(outcome.settled(transfer_id))
    return Settlement(tuple(transfers), tuple(decided), tuple(claims))


def _covers_every_gain(gains: Sequence[EntryOutcome], funds_units: Mapping[str, int]) -> bool:
    needed_units: dict[str, int] = {}
    for outcome in gains:
        needed_units[outcome.asset] = needed_units.get(outcome.asset, 0) + outcome.amount_units
    return all(units <= funds_units[asset] for asset, units in needed_units.items())


def derive_state(outcomes: Sequence[EntryOutcome]) -> StatementState:
    """The state of an executed statement, from its entries (AIP-216).

    Every entry settled (or none to settle): SUCCEEDED; some settled: PARTIALLY_SUCCEEDED;
    none settled while every entry is held: DISPUTED; none settled and some failed: FAILED.
    """
    states = [outcome.state for outcome in outcomes]
    assert EntryState.PENDING not in states, "an executed statement has no pending entry"
    settled_count = states.count(EntryState.SETTLED)
    if settled_count == len(states):
        return StatementState.SUCCEEDED
    if settled_count:
        return StatementState.PARTIALLY_SUCCEEDED
    if all(state is EntryState.DISPUTED for state in states):
        return StatementState.DISPUTED
    return StatementState.FAILED


def with_decided(
    recorded: RecordedStatement,
    decided: Sequence[EntryOutcome],
    state: StatementState,
    new_transfer_ids: Sequence[str] | None = None,
) -> RecordedStatement:
    """The statement with the decided outcomes merged in and their transfers appended.

    The transfer ids are appended in the order of `new_transfer_ids` when given (the ids of
    the decided outcomes, in the order they were posted), else in the order of `decided`.
    """
    # Keyed by the connection's name rather than the ConnectionName, whose hash is computed
    # anew on every lookup: a statement may carry 100,000 entries.
    by_key = {(outcome.connection.name, outcome.asset): outcome for outcome in decided}
    assert len(by_key) == len(decided), "an entry is decided once per step"
    outcomes = tuple(
        by_key.pop((outcome.connection.name, outcome.asset), outcome) for outcome in recorded.entry_outcomes()
    )
    assert not by_key, f"decided entries not in {recorded.name}: {sorted(by_key)}"
    decided_ids = tuple(outcome.transfer_id for outcome in decided if outcome.transfer_id)
    if new_transfer_ids is None:
        new_transfer_ids = decided_ids
    assert len(new_transfer_ids) == len(decided_ids) and set(new_transfer_ids) == set(decided_ids), (
        "the transfers are those of the decided entries"
    )
    return replace(
        recorded, state=state, outcomes=outcomes, transfer_ids=recorded.transfer_ids + tuple(new_transfer_ids)
    )


def executed(recorded: RecordedStatement, settlement: Settlement, now_ms: int) -> RecordedStatement:
    """The statement once every pending entry was decided by an execution (or at the deadline)."""
    assert recorded.state in IN_FLIGHT_STATES, f"{recorded.name} is {recorded.state.value}"
    # Transfer ids in posting order: losses, then gains, as the ledger journal shows them.
    posted_ids = tuple(transfer.id for transfer in settlement.transfers)
    merged = with_decided(recorded, settlement.outcomes, StatementState.PENDING, posted_ids)
    return replace(merged, state=derive_state(merged.outcomes), execute_time_ms=now_ms)


def awaiting_top_up(recorded: RecordedStatement, deadline_ms: int) -> RecordedStatement:
    """The statement waiting for the exchange to fund its settlement account until the deadline."""
    assert recorded.state is StatementState.PENDING, f"{recorded.name} is {recorded.state.value}"
    return replace(recorded, state=StatementState.AWAITING_TOP_UP, top_up_deadline_ms=deadline_ms)


def require_executable(recorded: RecordedStatement) -> None:
    """Only a PENDING or AWAITING_TOP_UP statement executes (an executed one returns its record)."""
    if recorded.state not in IN_FLIGHT_STATES:
        raise failed_precondition(
            STATEMENT_NOT_EXECUTABLE,
            f"{recorded.name} is {recorded.state.value}; only a PENDING or AWAITING_TOP_UP "
            "statement executes",
            statement=recorded.name,
            state=recorded.state.value,
        )


def find_entry(recorded: RecordedStatement, connection: ConnectionName, asset: str) -> EntryOutcome:
    """The outcome of the statement's entry for this connection and asset, or NOT_FOUND."""
    for outcome in recorded.entry_outcomes():
        if outcome.key == (connection, asset):
            return outcome
    raise not_found(
        ENTRY_NOT_FOUND,
        f"{recorded.name} has no entry for {connection.name} in {asset}",
        statement=recorded.name,
        connection=connection.name,
        asset=asset,
    )


def check_dispute_reason(reason: str, field_name: str) -> str:
    """1 to 256 printable characters."""
    if not 1 <= len(reason) <= DISPUTE_REASON_LENGTH_MAX or not reason.isprintable():
        raise invalid_argument(
            DISPUTE_REASON_INVALID,
            field_name,
            f"must be 1 to {DISPUTE_REASON_LENGTH_MAX} printable characters saying why the entry is disputed",
        )
    return reason


def disputed(recorded: RecordedStatement, entry: EntryOutcome, reason: str) -> RecordedStatement:
    """Holds one pending entry of a statement not yet executed; its state stays as it was."""
    if recorded.state not in IN_FLIGHT_STATES:
        raise failed_precondition(
            STATEMENT_NOT_DISPUTABLE,
            f"{recorded.name} is {recorded.state.value}; entries are disputed before execution "
            "(PENDING or AWAITING_TOP_UP)",
            statement=recorded.name,
            state=recorded.state.value,
        )
    assert entry.state is EntryState.PENDING, entry
    held = entry.disputed(reason)
    return with_decided(recorded, [held], recorded.state)


def plan_resolution(
    recorded: RecordedStatement,
    entry: EntryOutcome,
    balances: Mapping[BalanceKey, int],
    assets: AssetScales,
    now_ms: int,
    amount_units: int | None = None,
) -> Settlement:
    """Settles a held entry of an executed statement as an adjustment, under the execution's checks.

    `amount_units` settles another amount than the stated one; 0 closes the entry without a
    transfer (its stated amount was carried into a later statement).

    A loss larger than the allocation fails the entry and leaves a claim, as at execution. A
    gain the settlement account cannot pay is refused (INSUFFICIENT_SETTLEMENT_FUNDS) and stays
    held, so that it can be resolved once the exchange has topped up.
    """
    if recorded.state not in EXECUTED_STATES:
        raise failed_precondition(
            STATEMENT_NOT_EXECUTED,
            f"{recorded.name} is {recorded.state.value}; a disputed entry is resolved after the "
            "statement executed",
            statement=recorded.name,
            state=recorded.state.value,
        )
    if entry.state is not EntryState.DISPUTED:
        raise failed_precondition(
            ENTRY_NOT_DISPUTED,
            f"the entry of {recorded.name} for {entry.connection.name} in {entry.asset} is "
            f"{entry.state.value}; only a DISPUTED entry is resolved",
            statement=recorded.name,
            connection=entry.connection.name,
            asset=entry.asset,
            state=entry.state.value,
        )
    statement_name = recorded.statement.statement_name
    if amount_units == 0:
        return Settlement((), (entry.pending().settled(""),), ())
    if amount_units is not None:
        entry = replace(entry, amount_units=amount_units)
    pending = entry.pending()
    if pending.is_loss:
        allocated_units = balances.get((allocated_account(entry.connection), entry.asset), 0)
        if -entry.amount_units > allocated_units:
            failed = pending.failed(LOSS_EXCEEDS_ALLOCATION)
            return Settlement((), (failed,), (loss_claim(statement_name.name, failed),))
    else:
        settlement = settlement_account(statement_name.exchange_id)
        funds_units = balances.get((settlement, entry.asset), 0)
        if entry.amount_units > funds_units:
            raise failed_precondition(
                INSUFFICIENT_SETTLEMENT_FUNDS,
                f"{settlement} holds {assets.format(entry.asset, funds_units)} {entry.asset}, less than "
                f"the {assets.format(entry.asset, entry.amount_units)} {entry.asset} gain of "
                f"{entry.connection.name}; the exchange must top it up before the entry is resolved",
                statement=recorded.name,
                account=settlement,
                asset=entry.asset,
                available=assets.format(entry.asset, funds_units),
                required=assets.format(entry.asset, entry.amount_units),
            )
    transfer_id = adjustment_transfer_id(statement_name, entry.connection, entry.asset)
    transfer = _transfer(statement_name, pending, transfer_id, now_ms)
    settled = pending.settled(transfer_id)
    return Settlement((transfer,), (settled,), ())


def resolved(recorded: RecordedStatement, settlement: Settlement) -> RecordedStatement:
    """The executed statement after one held entry was resolved; its state follows its entries."""
    merged = with_decided(recorded, settlement.outcomes, recorded.state)
    return replace(merged, state=derive_state(merged.outcomes))
