"""Domain rules of settlement statements: well-formedness and continuity."""

from __future__ import annotations

import dataclasses

import pytest

from custodian_sim.domain.names import ConnectionName, settlement_account
from custodian_sim.domain.statements import (
    RecordedStatement,
    SignedStatement,
    StatementState,
    check_continuity,
    parse_statement,
)
from service_kit.errors import ErrorCode, ServiceError
from service_kit.money import AssetScales
from service_kit.statement import StatementContent, StatementEntryContent
from tests.unit.custodian_sim.statement_factory import signed, statement_content

ASSETS = AssetScales({"BTC": 8, "USDT": 6})
OKX = "exchanges/okx-sim"
ACME = ConnectionName("acme", "okx-sim")
BETA = ConnectionName("beta", "okx-sim")
SETTLEMENT = settlement_account("okx-sim")


def parsed(content: StatementContent) -> SignedStatement:
    return parse_statement(*signed(content), ASSETS)


def refused(content: StatementContent, signature: bytes | None = None) -> ServiceError:
    with pytest.raises(ServiceError) as raised:
        parse_statement(content, signature if signature is not None else signed(content)[1], ASSETS)
    return raised.value


def test_a_well_formed_statement_parses_into_units() -> None:
    statement = parsed(
        statement_content(OKX, 1, [(ACME.name, "BTC", "1.00000000"), (ACME.name, "USDT", "-60120.500000")])
    )

    assert [(entry.connection, entry.asset, entry.amount_units) for entry in statement.entries] == [
        (ACME, "BTC", 100_000_000),
        (ACME, "USDT", -60_120_500_000),
    ]
    assert statement.statement_name.number == 1


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"name": "exchanges/okx-sim/statement/1"}, "statement.name", "RESOURCE_NAME_INVALID"),
        ({"name": "exchanges/okx-sim/statements/0"}, "statement.name", "RESOURCE_NAME_INVALID"),
        ({"exchange": "exchanges/other"}, "statement.exchange", "STATEMENT_EXCHANGE_MISMATCH"),
        ({"number": 2}, "statement.number", "STATEMENT_NUMBER_MISMATCH"),
        ({"first_trade_sequence": 0}, "statement.first_trade_sequence", "TRADE_SEQUENCE_INVALID"),
        ({"nonce": ""}, "statement.nonce", "NONCE_INVALID"),
    ],
)
def test_malformed_header_fields_are_named(change: dict[str, object], field: str, reason: str) -> None:
    content = dataclasses.replace(statement_content(OKX, 1, []), **change)  # type: ignore[arg-type]

    error = refused(content)

    assert (error.code, error.reason) == (ErrorCode.INVALID_ARGUMENT, reason)
    assert [violation.field for violation in error.field_violations] == [field]


@pytest.mark.parametrize(
    ("entry", "field", "reason"),
    [
        (
            ("clients/acme/connections/okx-sim", "BTC", "abc"),
            "statement.entries[0].amount",
            "AMOUNT_MALFORMED",
        ),
        (("clients/acme/connections/okx-sim", "BTC", ""), "statement.entries[0].amount", "AMOUNT_MALFORMED"),
        (
            ("clients/acme/connections/okx-sim", "BTC", "1.123456789"),
            "statement.entries[0].amount",
            "AMOUNT_TOO_PRECISE",
        ),
        (
            ("clients/acme/connections/okx-sim", "BTC", "0"),
            "statement.entries[0].amount",
            "ENTRY_AMOUNT_ZERO",
        ),
        (("clients/acme/connections/okx-sim", "DOGE", "1"), "statement.entries[0].asset", "UNKNOWN_ASSET"),
        (
            ("clients/acme/connections/other", "BTC", "1"),
            "statement.entries[0].connection",
            "ENTRY_OF_OTHER_EXCHANGE",
        ),
        (("clients/acme", "BTC", "1"), "statement.entries[0].connection", "RESOURCE_NAME_INVALID"),
    ],
)
def test_malformed_entries_are_named(entry: tuple[str, str, str], field: str, reason: str) -> None:
    error = refused(statement_content(OKX, 1, [entry]))

    assert (error.code, error.reason) == (ErrorCode.INVALID_ARGUMENT, reason)
    assert [violation.field for violation in error.field_violations] == [field]


def test_entries_must_be_sorted_and_unique() -> None:
    content = statement_content(OKX, 1, [])
    for entries in (
        (StatementEntryContent(BETA.name, "BTC", "1"), StatementEntryContent(ACME.name, "BTC", "1")),
        (StatementEntryContent(ACME.name, "BTC", "1"), StatementEntryContent(ACME.name, "BTC", "2")),
    ):
        error = refused(dataclasses.replace(content, entries=entries))
        assert error.reason == "ENTRIES_NOT_SORTED"


def test_a_signature_of_the_wrong_length_is_refused() -> None:
    error = refused(statement_content(OKX, 1, []), signature=b"short")
    assert error.reason == "STATEMENT_SIGNATURE_INVALID"
    assert error.field_violations[0].field == "statement.signature"


def recorded(
    statement: SignedStatement, state: StatementState = StatementState.SUCCEEDED
) -> RecordedStatement:
    return RecordedStatement(statement, state, (), 0)


def test_the_first_statement_starts_the_chain() -> None:
    check_continuity(parsed(statement_content(OKX, 1, [])), None)


def test_the_next_statement_follows_the_previous_one() -> None:
    first = recorded(parsed(statement_content(OKX, 1, [])))
    check_continuity(parsed(statement_content(OKX, 2, [])), first)
    # A period without trades: last = first - 1.
    check_continuity(
        parsed(statement_content(OKX, 2, [], first_trade_sequence=11, last_trade_sequence=10)), first
    )


@pytest.mark.parametrize(
    "content",
    [
        statement_content(OKX, 3, []),
        statement_content(OKX, 2, [], previous_statement=""),
        statement_content(OKX, 2, [], first_trade_sequence=12),
        statement_content(OKX, 2, [], first_trade_sequence=10),
        statement_content(OKX, 2, [], first_trade_sequence=11, last_trade_sequence=9),
    ],
)
def test_gaps_overlaps_and_forks_are_out_of_sequence(content: StatementContent) -> None:
    first = recorded(parsed(statement_content(OKX, 1, [])))
    with pytest.raises(ServiceError) as raised:
        check_continuity(parsed(content), first)
    assert (raised.value.code, raised.value.reason) == (
        ErrorCode.FAILED_PRECONDITION,
        "STATEMENT_OUT_OF_SEQUENCE",
    )


def test_a_first_statement_must_be_number_one() -> None:
    with pytest.raises(ServiceError) as raised:
        check_continuity(parsed(statement_content(OKX, 2, [])), None)
    assert raised.value.reason == "STATEMENT_OUT_OF_SEQUENCE"


def test_no_statement_follows_one_that_is_not_executed() -> None:
    pending = recorded(parsed(statement_content(OKX, 1, [])), StatementState.PENDING)
    with pytest.raises(ServiceError) as raised:
        check_continuity(parsed(statement_content(OKX, 2, [])), pending)
    assert raised.value.reason == "STATEMENT_IN_FLIGHT"
