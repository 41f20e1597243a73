"""The service layer over real SQLite: memory and database stay in step, even when a write fails."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from exchange_sim.adapters.signing import Ed25519StatementSigner
from exchange_sim.adapters.sqlite_store import SqliteVenueStore, open_database
from exchange_sim.domain.orders import OrderType, Side
from exchange_sim.domain.venue import Venue
from exchange_sim.service_layer.ports import ResponseT, VenueWriter
from exchange_sim.service_layer.venue_service import PlaceOrderCommand, VenueService
from oes.exchange.v1 import exchange_pb2
from service_kit.auth import BRIDGE, Principal, PrincipalKind, reset_current_principal, set_current_principal
from service_kit.clock import SimulatedClock
from service_kit.database import Database
from service_kit.idempotency import HasRequestId
from tests.unit.exchange_sim.venues import (
    BTC,
    EXCHANGE,
    SEED,
    USDT,
    balance_snapshot,
    book_snapshot,
    settings,
)

ACME = Principal(PrincipalKind.CLIENT, "acme")
CONNECTION = f"clients/acme/connections/{EXCHANGE}"


class FailingStore(SqliteVenueStore):
    """The real store, except that the next command fails after writing its rows (a lost commit)."""

    fail_next = False

    def run_command(
        self,
        method: str,
        request: HasRequestId,
        response_type: type[ResponseT],
        handler: Callable[[VenueWriter], ResponseT],
    ) -> ResponseT:
        def failing(writer: VenueWriter) -> ResponseT:
            response = handler(writer)
            if self.fail_next:
                self.fail_next = False
                raise OSError("disk full")
            return response

        return super().run_command(method, request, response_type, failing)


@pytest.fixture()
def database(tmp_path: Path) -> Iterator[Database]:
    database = open_database(tmp_path)
    yield database
    database.close()


def as_principal(principal: Principal) -> Callable[[], None]:
    token = set_current_principal(principal)
    return lambda: reset_current_principal(token)


def start(database: Database, store: SqliteVenueStore | None = None) -> VenueService:
    clock = SimulatedClock(1_000)
    store = store or SqliteVenueStore(database, clock)
    return VenueService(settings(), store, Ed25519StatementSigner(EXCHANGE, SEED), clock)


def fund_acme(service: VenueService) -> None:
    reset = as_principal(BRIDGE)
    try:
        service.run_command(
            "CreateConnection",
            exchange_pb2.CreateConnectionRequest(request_id="connect"),
            exchange_pb2.CreateConnectionResponse,
            lambda venue, now_ms: exchange_pb2.CreateConnectionResponse(
                account=venue.accounts.open(CONNECTION, now_ms).name
            ),
        )
        for asset, amount_units in (("BTC", 2 * BTC), ("USDT", 200_000 * USDT)):
            allocate(service, asset, amount_units)
    finally:
        reset()


def allocate(service: VenueService, asset: str, amount_units: int) -> None:
    """Reserves and clears an allocation of acme's connection, as the partner servicer does."""
    allocation_id = f"allocation-{asset}"

    def reserve(venue: Venue, now_ms: int) -> exchange_pb2.ReserveAllocationResponse:
        venue.funding.reserve_allocation(CONNECTION, allocation_id, asset, amount_units, now_ms)
        return exchange_pb2.ReserveAllocationResponse()

    def clear(venue: Venue, now_ms: int) -> exchange_pb2.ClearAllocationResponse:
        venue.funding.clear_allocation(allocation_id, now_ms)
        return exchange_pb2.ClearAllocationResponse()

    reserve_request = exchange_pb2.ReserveAllocationRequest(request_id=f"reserve-{asset}")
    service.run_command("ReserveAllocation", reserve_request, exchange_pb2.ReserveAllocationResponse, reserve)
    clear_request = exchange_pb2.ClearAllocationRequest(request_id=f"clear-{asset}")
    service.run_command("ClearAllocation", clear_request, exchange_pb2.ClearAllocationResponse, clear)


def place(
    service: VenueService, request_id: str, side: Side, price_units: int | None, quantity_units: int
) -> str:
    reset = as_principal(ACME)
    try:
        response = service.place_order(
            exchange_pb2.PlaceOrderRequest(request_id=request_id),
            PlaceOrderCommand(
                "clients/acme",
                "BTC-USDT",
                side,
                OrderType.LIMIT if price_units else OrderType.MARKET,
                price_units,
                quantity_units,
            ),
            exchange_pb2.PlaceOrderResponse,
            lambda view: exchange_pb2.PlaceOrderResponse(
                order=exchange_pb2.Order(name=f"orders/{view.number}", filled_quantity=str(view.filled_units))
            ),
        )
    finally:
        reset()
    return response.order.name


def test_a_failed_commit_rebuilds_memory_from_the_database(database: Database) -> None:
    store = FailingStore(database, SimulatedClock(1_000))
    service = start(database, store)
    fund_acme(service)
    place(service, "resting", Side.BUY, 59_000 * USDT, BTC // 2)
    venue_before = service._venue
    balances, book = balance_snapshot(venue_before), book_snapshot(venue_before)
    store.fail_next = True

    with pytest.raises(OSError, match="disk full"):
        place(service, "lost", Side.BUY, None, BTC)

    assert service._venue is not venue_before
    assert (balance_snapshot(service._venue), book_snapshot(service._venue)) == (balances, book)
    assert service._venue.last_trade_sequence == 0
    # The same request can be retried once the disk is back, and takes effect once.
    assert place(service, "lost", Side.BUY, None, BTC) == place(service, "lost", Side.BUY, None, BTC)
    assert service._venue.last_trade_sequence == 2


def test_a_restart_rebuilds_the_same_venue(database: Database) -> None:
    service = start(database)
    fund_acme(service)
    place(service, "bid", Side.BUY, 59_000 * USDT, BTC // 2)
    place(service, "take", Side.BUY, None, BTC)
    place(service, "ask", Side.SELL, 61_000 * USDT, BTC // 4)

    restarted = start(database)

    for attribute in ("last_trade_sequence", "last_order_number"):
        assert getattr(restarted._venue, attribute) == getattr(service._venue, attribute)
    assert balance_snapshot(restarted._venue) == balance_snapshot(service._venue)
    assert book_snapshot(restarted._venue) == book_snapshot(service._venue)
    assert restarted.list_mirrors() == service.list_mirrors()
