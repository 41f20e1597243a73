"""Statements: content at cutoff, numbering and continuity, nonce, signature, confirmation."""

from __future__ import annotations

import hashlib

import pytest

from exchange_sim.adapters.signing import Ed25519StatementSigner
from exchange_sim.domain.orders import OrderType, Side
from exchange_sim.domain.statements import StatementEntry, StatementState, StatementTools
from exchange_sim.domain.venue import Venue
from service_kit.errors import ErrorCode, ServiceError
from service_kit.signing import private_key_from_seed, public_key_bytes, verify
from service_kit.statement import StatementEntryContent
from tests.unit.exchange_sim.venues import (
    BTC,
    EXCHANGE,
    SEED,
    USDT,
    balance_snapshot,
    connection,
    fund,
    new_venue,
)

SIGNER = Ed25519StatementSigner(EXCHANGE, SEED)
TOOLS = StatementTools(SIGNER.sign, SIGNER.sign_with_wrong_key, lambda sequence: {})


def traded_venue() -> Venue:
    """Two clients: bob buys 1 BTC from the house, acme sells 0.5 BTC to it."""
    venue = new_venue()
    fund(venue, "bob", usdt_units=100_000 * USDT)
    fund(venue, "acme", btc_units=BTC)
    venue.place_order("clients/bob", "BTC-USDT", Side.BUY, OrderType.MARKET, None, BTC, 1)
    venue.place_order("clients/acme", "BTC-USDT", Side.SELL, OrderType.MARKET, None, BTC // 2, 2)
    venue.changes.clear()
    return venue


def test_first_statement_carries_every_unsettled_amount_sorted() -> None:
    venue = traded_venue()

    statement = venue.issue_statement(5_000, TOOLS)

    content = statement.content
    assert content.name == f"exchanges/{EXCHANGE}/statements/1"
    assert (content.exchange, content.number, content.previous_statement) == (f"exchanges/{EXCHANGE}", 1, "")
    assert (content.first_trade_sequence, content.last_trade_sequence) == (1, 3)
    assert content.cutoff_time_ms == 5_000
    # acme sold 0.5 BTC at 59 970: +29 985 USDT less the 20 bps taker fee of 59.97 USDT.
    assert content.entries == (
        StatementEntryContent(connection("acme"), "BTC", "-0.50000000"),
        StatementEntryContent(connection("acme"), "USDT", "29925.030000"),
        StatementEntryContent(connection("bob"), "BTC", "1.00000000"),
        StatementEntryContent(connection("bob"), "USDT", "-60165.090000"),
    )
    assert [entry.amount_units for entry in statement.entries] == [
        -BTC // 2,
        29_925_030_000,
        BTC,
        -60_165_090_000,
    ]
    assert statement.state is StatementState.ISSUED
    assert venue.changes.statements == {1: statement}


def test_nonce_and_signature_follow_the_shared_rules() -> None:
    statement = traded_venue().issue_statement(5_000, TOOLS)

    expected_nonce = hashlib.sha256(f"{SEED}:{statement.name}".encode()).hexdigest()[:32]
    assert statement.content.nonce == expected_nonce
    key = private_key_from_seed(hashlib.sha256(f"oes-exchange-key:{EXCHANGE}:{SEED}".encode()).digest())
    assert public_key_bytes(key) == SIGNER.public_key()
    assert verify(SIGNER.public_key(), statement.content, statement.signature)
    assert not verify(
        Ed25519StatementSigner(EXCHANGE, SEED + 1).public_key(), statement.content, statement.signature
    )


def test_a_second_cutoff_is_refused_while_the_first_is_in_flight() -> None:
    venue = traded_venue()
    venue.issue_statement(5_000, TOOLS)
    venue.changes.clear()

    with pytest.raises(ServiceError) as raised:
        venue.issue_statement(6_000, TOOLS)

    assert (raised.value.code, raised.value.reason) == (ErrorCode.FAILED_PRECONDITION, "STATEMENT_IN_FLIGHT")
    assert venue.changes.is_empty() and len(venue.statement_ledger.statements) == 1


def test_confirm_rebases_the_mirror_once_and_the_next_statement_continues() -> None:
    venue = traded_venue()
    first = venue.issue_statement(5_000, TOOLS)
    venue.place_order("clients/bob", "BTC-USDT", Side.SELL, OrderType.MARKET, None, BTC // 4, 6)

    venue.confirm_statement(first.name, 7_000)
    after_confirm = balance_snapshot(venue)
    venue.confirm_statement(first.name, 8_000)

    assert balance_snapshot(venue) == after_confirm
    assert first.state is StatementState.CONFIRMED and first.confirm_time_ms == 7_000
    bob = venue.accounts.by_name("clients/bob")
    assert bob.balance("BTC").mirror_units == BTC
    # Only the trade after the cutoff is still unsettled.
    assert bob.balance("BTC").unsettled_units == -BTC // 4
    assert bob.balance("USDT").mirror_units == 100_000 * USDT - 60_165_090_000

    second = venue.issue_statement(9_000, TOOLS)
    assert second.content.previous_statement == first.name
    assert (second.content.first_trade_sequence, second.content.last_trade_sequence) == (4, 4)
    assert [(entry.connection, entry.asset) for entry in second.entries] == [
        (connection("bob"), "BTC"),
        (connection("bob"), "USDT"),
    ]


def test_a_period_without_trades_has_an_empty_range() -> None:
    venue = new_venue()
    first = venue.issue_statement(1_000, TOOLS)
    venue.confirm_statement(first.name, 2_000)
    second = venue.issue_statement(3_000, TOOLS)

    assert (first.content.first_trade_sequence, first.content.last_trade_sequence) == (1, 0)
    assert (second.content.first_trade_sequence, second.content.last_trade_sequence) == (1, 0)
    assert second.entries == () and second.content.nonce != first.content.nonce


@pytest.mark.parametrize(
    ("name", "code", "reason"),
    [
        ("exchanges/okx-sim/statements/2", ErrorCode.NOT_FOUND, "STATEMENT_NOT_FOUND"),
        ("exchanges/other/statements/1", ErrorCode.NOT_FOUND, "STATEMENT_NOT_FOUND"),
        ("statements/1", ErrorCode.INVALID_ARGUMENT, "STATEMENT_NAME_INVALID"),
        ("exchanges/okx-sim/statements/0", ErrorCode.INVALID_ARGUMENT, "STATEMENT_NAME_INVALID"),
    ],
)
def test_confirming_an_unknown_statement_is_refused(name: str, code: ErrorCode, reason: str) -> None:
    venue = traded_venue()
    venue.issue_statement(5_000, TOOLS)
    with pytest.raises(ServiceError) as raised:
        venue.confirm_statement(name, 6_000)
    assert (raised.value.code, raised.value.reason) == (code, reason)


def test_a_partial_confirm_rebases_only_the_settled_entries_and_the_rest_carries_over() -> None:
    venue = traded_venue()
    first = venue.issue_statement(5_000, TOOLS)
    bob_btc, bob_usdt = first.entries[2], first.entries[3]
    acme_before = balance_snapshot(venue)

    venue.confirm_statement(first.name, 7_000, [bob_btc, bob_usdt])

    assert first.state is StatementState.CONFIRMED
    bob = venue.accounts.by_name("clients/bob")
    assert (bob.balance("BTC").mirror_units, bob.balance("BTC").unsettled_units) == (BTC, 0)
    acme = venue.accounts.by_name("clients/acme")
    # acme's entries did not settle at the custodian: still unsettled, counted in the next statement.
    assert {key: value for key, value in balance_snapshot(venue).items() if key[0] == acme.name} == {
        key: value for key, value in acme_before.items() if key[0] == acme.name
    }
    second = venue.issue_statement(9_000, TOOLS)
    assert [(entry.connection, entry.asset, entry.amount_units) for entry in second.entries] == [
        (connection("acme"), "BTC", -BTC // 2),
        (connection("acme"), "USDT", 29_925_030_000),
    ]


def test_a_confirm_with_nothing_settled_rebases_nothing() -> None:
    venue = traded_venue()
    first = venue.issue_statement(5_000, TOOLS)
    before = balance_snapshot(venue)

    venue.confirm_statement(first.name, 7_000, [])

    assert first.state is StatementState.CONFIRMED
    assert balance_snapshot(venue) == before


def test_a_settled_entry_must_be_one_of_the_statement() -> None:
    venue = traded_venue()
    first = venue.issue_statement(5_000, TOOLS)
    changed = StatementEntry(first.entries[0].connection, first.entries[0].asset, 1)

    for settled in ([changed], [first.entries[0], first.entries[0]]):
        with pytest.raises(ServiceError) as raised:
            venue.confirm_statement(first.name, 7_000, settled)
        assert (raised.value.code, raised.value.reason) == (
            ErrorCode.INVALID_ARGUMENT,
            "SETTLED_ENTRY_NOT_IN_STATEMENT",
        )
    assert first.state is StatementState.ISSUED
