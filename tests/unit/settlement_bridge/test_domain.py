"""The bridge's domain rules: names, transfer state machines, statement checks, reconciliation."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service_kit.errors import ErrorCode, ServiceError
from service_kit.money import AssetScales
from service_kit.statement import StatementContent, StatementEntryContent
from settlement_bridge.domain.names import (
    ConnectionName,
    parse_allocation_name,
    parse_connection_name,
    parse_settlement_name,
)
from settlement_bridge.domain.settlement import (
    ReconciliationBreak,
    SettlementCycle,
    SettlementState,
    SettlementStep,
    reconcile,
    statement_problem,
)
from settlement_bridge.domain.transfers import Allocation, AllocationStep, Deallocation, TransferState

ASSETS = AssetScales({"BTC": 8, "USDT": 6})
ACME = ConnectionName("acme", "okx-sim")
FIRST = StatementContent(
    name="exchanges/okx-sim/statements/1",
    exchange="exchanges/okx-sim",
    number=1,
    previous_statement="",
    cutoff_time_ms=1_000,
    first_trade_sequence=1,
    last_trade_sequence=4,
    nonce="0" * 32,
    entries=(
        StatementEntryContent(ACME.name, "BTC", "1.00000000"),
        StatementEntryContent(ACME.name, "USDT", "-60060.000000"),
    ),
)
SECOND = dataclasses.replace(
    FIRST,
    name="exchanges/okx-sim/statements/2",
    number=2,
    previous_statement=FIRST.name,
    cutoff_time_ms=2_000,
    first_trade_sequence=5,
    last_trade_sequence=4,
    entries=(),
)


def allocation() -> Allocation:
    return Allocation(number=3, connection=ACME, asset="BTC", amount_units=5, create_time_ms=10)


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (parse_connection_name, "clients/acme/connections/okx-sim/"),
        (parse_connection_name, "clients/ACME/connections/okx-sim"),
        (parse_allocation_name, "clients/acme/connections/okx-sim/allocations/01"),
        (parse_settlement_name, "settlements/0"),
        (parse_settlement_name, ""),
    ],
)
def test_malformed_names_are_field_violations(parse: object, text: str) -> None:
    assert callable(parse)
    with pytest.raises(ServiceError) as raised:
        parse(text, "name")
    assert raised.value.code is ErrorCode.INVALID_ARGUMENT
    assert [violation.field for violation in raised.value.field_violations] == ["name"]


def test_names_round_trip() -> None:
    assert parse_connection_name(ACME.name, "connection") == ACME
    assert parse_allocation_name(allocation().name, "name") == (ACME, 3)
    assert ACME.allocated_account == "clients/acme/connections/okx-sim/allocated"


def test_allocation_request_ids_are_fixed_by_its_number() -> None:
    first, second = allocation(), allocation()
    second.lock_succeeded()
    assert first.request_id(AllocationStep.LOCK) == "allocations/3/lock"
    assert second.request_id(AllocationStep.LOCK) == first.request_id(AllocationStep.LOCK)
    assert first.allocation_id == "allocation-3"


def test_allocation_happy_path_and_compensation() -> None:
    cleared = allocation()
    cleared.lock_succeeded()
    cleared.reserve_succeeded()
    cleared.clear_succeeded()
    assert (cleared.state, cleared.step) == (TransferState.PENDING, AllocationStep.CLEAR_LOCK)
    cleared.lock_cleared(now_ms=20)
    assert (cleared.state, cleared.step, cleared.end_time_ms) == (
        TransferState.CLEARED,
        AllocationStep.DONE,
        20,
    )

    released = allocation()
    released.lock_succeeded()
    released.start_compensation("VENUE_HALTED")
    released.release_succeeded()
    released.unlock_succeeded(now_ms=30)
    assert (released.state, released.reason) == (TransferState.RELEASED, "VENUE_HALTED")


def test_illegal_allocation_transitions_are_assertion_errors() -> None:
    fresh = allocation()
    with pytest.raises(AssertionError):
        fresh.clear_succeeded()
    with pytest.raises(AssertionError):
        fresh.start_compensation("TOO_EARLY")  # nothing to compensate before the lock
    fresh.lock_refused("INSUFFICIENT_BALANCE", now_ms=1)
    with pytest.raises(AssertionError):
        fresh.lock_succeeded()


_ALLOCATION_EVENTS = [
    "lock",
    "lock_refused",
    "reserve",
    "clear",
    "clear_lock",
    "compensate",
    "release",
    "unlock",
]


@given(st.lists(st.sampled_from(_ALLOCATION_EVENTS), max_size=12))
def test_any_event_sequence_keeps_an_allocation_consistent(events: list[str]) -> None:
    subject = allocation()
    for event in events:
        before = (subject.state, subject.step)
        try:
            _apply(subject, event)
        except AssertionError:
            assert (subject.state, subject.step) == before, "a refused transition changes nothing"
    assert (subject.state is TransferState.PENDING) == (subject.end_time_ms is None)
    assert (subject.state is TransferState.PENDING) == (subject.step is not AllocationStep.DONE)
    assert (subject.state is TransferState.CLEARED) == (
        subject.reason == "" and subject.end_time_ms is not None
    )


def _apply(subject: Allocation, event: str) -> None:
    actions = {
        "lock": subject.lock_succeeded,
        "lock_refused": lambda: subject.lock_refused("INSUFFICIENT_BALANCE", 5),
        "reserve": subject.reserve_succeeded,
        "clear": subject.clear_succeeded,
        "clear_lock": lambda: subject.lock_cleared(5),
        "compensate": lambda: subject.start_compensation("REFUSED"),
        "release": subject.release_succeeded,
        "unlock": lambda: subject.unlock_succeeded(5),
    }
    actions[event]()


def test_deallocation_refused_unlock_ends_released() -> None:
    deallocation = Deallocation(number=1, connection=ACME, asset="BTC", amount_units=5, create_time_ms=0)
    deallocation.hold_succeeded()
    deallocation.unlock_refused("CONNECTION_DEFAULTED")
    with pytest.raises(AssertionError):
        deallocation.clear_succeeded(1)
    deallocation.release_succeeded(2)
    assert (deallocation.state, deallocation.reason) == (TransferState.RELEASED, "CONNECTION_DEFAULTED")


def test_cycle_cannot_fail_after_execution() -> None:
    cycle = SettlementCycle(number=1, exchange_id="okx-sim", create_time_ms=0)
    with pytest.raises(AssertionError):
        cycle.verified()
    cycle.step = SettlementStep.CONFIRM
    with pytest.raises(AssertionError):
        cycle.fail("TOO_LATE", 1)
    assert cycle.state is SettlementState.RUNNING


@pytest.mark.parametrize(
    ("statement", "signature_valid", "previous", "problem"),
    [
        (FIRST, True, None, None),
        (SECOND, True, FIRST, None),
        (FIRST, False, None, "INVALID_SIGNATURE"),
        (dataclasses.replace(FIRST, exchange="exchanges/other"), True, None, "STATEMENT_EXCHANGE_MISMATCH"),
        (SECOND, True, None, "STATEMENT_NOT_CONTINUOUS"),
        (FIRST, True, FIRST, "STATEMENT_NOT_CONTINUOUS"),
        (dataclasses.replace(SECOND, first_trade_sequence=4), True, FIRST, "STATEMENT_NOT_CONTINUOUS"),
        (dataclasses.replace(SECOND, previous_statement=""), True, FIRST, "STATEMENT_NOT_CONTINUOUS"),
        (dataclasses.replace(FIRST, last_trade_sequence=-1), True, None, "STATEMENT_NOT_CONTINUOUS"),
        (dataclasses.replace(FIRST, entries=FIRST.entries[::-1]), True, None, "STATEMENT_MALFORMED"),
        (
            dataclasses.replace(FIRST, entries=(StatementEntryContent(ACME.name, "BTC", "0.000000001"),)),
            True,
            None,
            "STATEMENT_MALFORMED",
        ),
        (
            dataclasses.replace(
                FIRST, entries=(StatementEntryContent("clients/acme/connections/other", "BTC", "1"),)
            ),
            True,
            None,
            "STATEMENT_MALFORMED",
        ),
    ],
)
def test_statement_checks(
    statement: StatementContent, signature_valid: bool, previous: StatementContent | None, problem: str | None
) -> None:
    assert statement_problem(statement, "okx-sim", signature_valid, previous, ASSETS) == problem


def test_reconcile_reports_every_disagreement_once() -> None:
    globex = ConnectionName("globex", "okx-sim")
    allocated = {(ACME, "BTC"): 5, (ACME, "USDT"): 7, (globex, "BTC"): 1}
    mirrors = {(ACME, "BTC"): 5, (ACME, "USDT"): 6, (globex, "USDT"): 2}

    assert reconcile(allocated, mirrors) == (
        ReconciliationBreak(ACME.name, "USDT", 7, 6),
        ReconciliationBreak(globex.name, "BTC", 1, 0),
        ReconciliationBreak(globex.name, "USDT", 0, 2),
    )
    assert reconcile(allocated, dict(allocated)) == ()
