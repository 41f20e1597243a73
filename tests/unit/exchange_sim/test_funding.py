"""Allocations and deallocations: each id takes effect at most once, and only free credit leaves."""

from __future__ import annotations

import pytest

from exchange_sim.domain.funding import FundingState
from exchange_sim.domain.orders import OrderType, Side
from service_kit.errors import ErrorCode, ServiceError
from tests.unit.exchange_sim.venues import BTC, USDT, balance_snapshot, connection, fund, new_venue

ACME = connection("acme")


def reason_of(call: object) -> tuple[ErrorCode, str]:
    assert callable(call)
    with pytest.raises(ServiceError) as raised:
        call()
    return raised.value.code, raised.value.reason


def test_reserve_clear_moves_pending_credit_into_the_mirror_once() -> None:
    venue = new_venue()
    venue.accounts.open(ACME, 0)
    funding = venue.funding

    funding.reserve_allocation(ACME, "a1", "BTC", 2 * BTC, 1)
    balance = funding.reserve_allocation(ACME, "a1", "BTC", 2 * BTC, 2)
    assert (balance.pending_credit_units, balance.mirror_units, balance.available_units) == (2 * BTC, 0, 0)

    funding.clear_allocation("a1", 3)
    balance = funding.clear_allocation("a1", 4)
    assert (balance.pending_credit_units, balance.mirror_units, balance.available_units) == (
        0,
        2 * BTC,
        2 * BTC,
    )
    assert funding.allocations["a1"].state is FundingState.CLEARED
    # A retried reservation of a cleared allocation credits nothing more.
    balance = funding.reserve_allocation(ACME, "a1", "BTC", 2 * BTC, 5)
    assert (balance.pending_credit_units, balance.mirror_units) == (0, 2 * BTC)


def test_reserving_an_id_again_with_other_content_is_refused() -> None:
    venue = new_venue()
    venue.accounts.open(ACME, 0)
    venue.funding.reserve_allocation(ACME, "a1", "BTC", 2 * BTC, 1)
    assert reason_of(lambda: venue.funding.reserve_allocation(ACME, "a1", "BTC", 3 * BTC, 2)) == (
        ErrorCode.ALREADY_EXISTS,
        "ALLOCATION_ID_REUSED",
    )


def test_release_drops_a_reservation_and_a_late_reserve_is_refused() -> None:
    venue = new_venue()
    venue.accounts.open(ACME, 0)
    funding = venue.funding
    funding.reserve_allocation(ACME, "a1", "USDT", 100 * USDT, 1)

    balance = funding.release_allocation("a1", 2)
    assert balance is not None and balance.pending_credit_units == 0
    assert funding.release_allocation("a1", 3) is balance
    assert reason_of(lambda: funding.clear_allocation("a1", 4)) == (
        ErrorCode.FAILED_PRECONDITION,
        "ALLOCATION_RELEASED",
    )
    assert reason_of(lambda: funding.reserve_allocation(ACME, "a1", "USDT", 100 * USDT, 5)) == (
        ErrorCode.FAILED_PRECONDITION,
        "ALLOCATION_RELEASED",
    )


def test_release_of_an_unknown_allocation_is_recorded_so_its_reserve_cannot_land() -> None:
    venue = new_venue()
    venue.accounts.open(ACME, 0)
    assert venue.funding.release_allocation("lost", 1) is None
    assert venue.funding.allocations["lost"].state is FundingState.RELEASED
    assert reason_of(lambda: venue.funding.reserve_allocation(ACME, "lost", "BTC", BTC, 2)) == (
        ErrorCode.FAILED_PRECONDITION,
        "ALLOCATION_RELEASED",
    )
    assert reason_of(lambda: venue.funding.clear_allocation("never", 3)) == (
        ErrorCode.NOT_FOUND,
        "ALLOCATION_NOT_FOUND",
    )


def test_cleared_allocation_cannot_be_released() -> None:
    venue = new_venue()
    fund(venue, "acme", btc_units=BTC)
    allocation_id = next(iter(venue.funding.allocations))
    assert reason_of(lambda: venue.funding.release_allocation(allocation_id, 1)) == (
        ErrorCode.FAILED_PRECONDITION,
        "ALLOCATION_CLEARED",
    )


def test_unknown_and_foreign_connections_are_refused() -> None:
    venue = new_venue()
    assert reason_of(lambda: venue.funding.reserve_allocation(ACME, "a1", "BTC", BTC, 1)) == (
        ErrorCode.NOT_FOUND,
        "CONNECTION_NOT_FOUND",
    )
    assert reason_of(
        lambda: venue.funding.reserve_allocation("clients/acme/connections/other", "a1", "BTC", BTC, 1)
    ) == (ErrorCode.INVALID_ARGUMENT, "WRONG_EXCHANGE")


def test_deallocation_holds_then_clears_the_mirror() -> None:
    venue = new_venue()
    fund(venue, "acme", btc_units=2 * BTC)
    funding = venue.funding

    balance = funding.reserve_deallocation(ACME, "d1", "BTC", BTC, 1)
    assert (balance.held_units, balance.available_units) == (BTC, BTC)
    with pytest.raises(ServiceError, match="INSUFFICIENT_BALANCE"):
        venue.place_order("clients/acme", "BTC-USDT", Side.SELL, OrderType.MARKET, None, 2 * BTC, 2)

    balance = funding.clear_deallocation("d1", 3)
    assert (balance.mirror_units, balance.held_units, balance.available_units) == (BTC, 0, BTC)
    assert funding.clear_deallocation("d1", 4).mirror_units == BTC
    assert reason_of(lambda: funding.release_deallocation("d1", 5)) == (
        ErrorCode.FAILED_PRECONDITION,
        "DEALLOCATION_CLEARED",
    )


def test_released_deallocation_returns_the_hold() -> None:
    venue = new_venue()
    fund(venue, "acme", btc_units=2 * BTC)
    venue.funding.reserve_deallocation(ACME, "d1", "BTC", BTC, 1)

    balance = venue.funding.release_deallocation("d1", 2)

    assert balance is not None and (balance.mirror_units, balance.held_units) == (2 * BTC, 0)
    assert venue.funding.deallocations["d1"].state is FundingState.RELEASED
    assert reason_of(lambda: venue.funding.clear_deallocation("d1", 3)) == (
        ErrorCode.FAILED_PRECONDITION,
        "DEALLOCATION_RELEASED",
    )
    assert venue.funding.release_deallocation("unknown", 4) is None


def test_deallocation_beyond_free_credit_is_refused_and_changes_nothing() -> None:
    venue = new_venue()
    fund(venue, "acme", btc_units=BTC, usdt_units=100_000 * USDT)
    venue.place_order("clients/acme", "BTC-USDT", Side.SELL, OrderType.LIMIT, 70_000 * USDT, BTC // 2, 1)
    venue.place_order("clients/acme", "BTC-USDT", Side.BUY, OrderType.MARKET, None, BTC // 2, 2)
    venue.changes.clear()
    before = balance_snapshot(venue)

    # BTC: mirror 1, held 0.5 by the open sell; the 0.5 bought is an unsettled gain, not yet
    # backed by the custodian, so only 0.5 is free although 1.0 is available to trade.
    assert venue.accounts.by_name("clients/acme").balance("BTC").available_units == BTC
    assert reason_of(lambda: venue.funding.reserve_deallocation(ACME, "d1", "BTC", BTC // 2 + 10_000, 3)) == (
        ErrorCode.FAILED_PRECONDITION,
        "INSUFFICIENT_AVAILABLE_CREDIT",
    )
    # USDT: an unsettled loss reduces what may leave.
    usdt = venue.accounts.by_name("clients/acme").balance("USDT")
    assert reason_of(
        lambda: venue.funding.reserve_deallocation(ACME, "d2", "USDT", usdt.available_units + 1, 4)
    ) == (ErrorCode.FAILED_PRECONDITION, "INSUFFICIENT_AVAILABLE_CREDIT")
    assert balance_snapshot(venue) == before and venue.changes.is_empty()
    venue.funding.reserve_deallocation(ACME, "d3", "USDT", usdt.available_units, 5)
    assert usdt.available_units == 0
