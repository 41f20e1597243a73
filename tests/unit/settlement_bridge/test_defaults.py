"""When an exchange counts as defaulted, and what its default did to one connection."""

from __future__ import annotations

from settlement_bridge.domain.defaults import (
    EXCHANGE_INSOLVENT,
    EXCHANGE_UNREACHABLE,
    ExchangeDefault,
    connection_outcome,
    default_reason,
)

START_MS = 1_767_225_600_000
GRACE_MS = 300_000
ACME = "clients/acme/connections/okx-sim"
GLOBEX = "clients/globex/connections/okx-sim"


def test_an_insolvent_exchange_is_in_default_at_once() -> None:
    assert default_reason("INSOLVENT", None, START_MS, GRACE_MS) == EXCHANGE_INSOLVENT


def test_an_unreachable_exchange_is_in_default_only_past_the_grace() -> None:
    assert default_reason("OPERATING", None, START_MS, GRACE_MS) is None
    assert default_reason("TRADING_HALTED", START_MS, START_MS + GRACE_MS, GRACE_MS) is None
    assert default_reason("", START_MS, START_MS + GRACE_MS + 1, GRACE_MS) == EXCHANGE_UNREACHABLE


def test_the_outcome_keeps_the_connection_s_own_amounts() -> None:
    recorded = ExchangeDefault(
        "okx-sim",
        EXCHANGE_INSOLVENT,
        START_MS,
        {(ACME, "BTC"): -50_000_000, (ACME, "USDT"): 7_000_000, (GLOBEX, "BTC"): 3},
    )

    outcome = connection_outcome(recorded, ACME, {"USDT": 5, "BTC": 300_000_000}, {}, START_MS + 1)

    assert outcome.principal_returned == (("BTC", 300_000_000), ("USDT", 5))
    assert outcome.unsettled_at_risk == (("BTC", -50_000_000), ("USDT", 7_000_000))
    assert (outcome.reason, outcome.default_time_ms) == (EXCHANGE_INSOLVENT, START_MS + 1)


def test_entries_of_the_statement_the_default_settled_are_no_longer_at_risk() -> None:
    recorded = ExchangeDefault(
        "okx-sim", EXCHANGE_UNREACHABLE, START_MS, {(ACME, "BTC"): 150_000_000, (ACME, "USDT"): -9}
    )

    outcome = connection_outcome(recorded, ACME, {"BTC": 1}, {"BTC": 100_000_000, "USDT": -9}, START_MS)

    assert outcome.unsettled_at_risk == (("BTC", 50_000_000),)


def test_without_a_reading_of_the_exchange_nothing_is_reported_at_risk() -> None:
    recorded = ExchangeDefault("okx-sim", EXCHANGE_UNREACHABLE, START_MS)

    outcome = connection_outcome(recorded, ACME, {"BTC": 1, "USDT": 0}, {"BTC": 5}, START_MS)

    assert outcome.unsettled_at_risk == ()
    assert outcome.principal_returned == (("BTC", 1),)
