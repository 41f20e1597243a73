"""The venue's use cases: each command is one transaction with its request_log entry, under one lock.

The venue lives in memory (the order book must be fast) and in SQLite (it must survive a
SIGKILL). One lock serializes every command: the domain applies it in memory, the changed rows
are written in the same transaction as the request log entry, and if anything fails after the
domain changed something, the in-memory venue is rebuilt from the database, which still holds
the last committed state. Reads of in-memory state take the lock too, so they never see a
command half-applied.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from exchange_sim.domain.accounts import Balance
from exchange_sim.domain.market import Market
from exchange_sim.domain.orders import Order, OrderType, Side, Trade
from exchange_sim.domain.statements import Statement
from exchange_sim.domain.venue import Venue, VenueSettings, VenueState
from exchange_sim.service_layer.ports import (
    FillView,
    OrderView,
    ResponseT,
    StatementSigner,
    VenueStore,
    VenueWriter,
    order_view,
)
from service_kit.auth import Principal, require_owner
from service_kit.clock import Clock
from service_kit.errors import failed_precondition, not_found
from service_kit.idempotency import HasRequestId

log = structlog.get_logger(__name__)

ORDER_BOOK_DEPTH_MAX = 100


@dataclass(frozen=True)
class PlaceOrderCommand:
    """A validated order request, in integer units."""

    account: str
    market: str
    side: Side
    order_type: OrderType
    price_units: int | None
    quantity_units: int


@dataclass(frozen=True)
class BalanceView:
    """A snapshot of one asset of an account."""

    asset: str
    mirror_units: int
    unsettled_units: int
    held_units: int
    available_units: int
    pending_credit_units: int


@dataclass(frozen=True)
class MirrorView:
    """A snapshot of one connection's mirror in one asset."""

    connection: str
    asset: str
    mirror_units: int
    unsettled_units: int


@dataclass(frozen=True)
class BookView:
    """A snapshot of an order book: (price, quantity, order count) per level, best first."""

    market: Market
    bids: tuple[tuple[int, int, int], ...]
    asks: tuple[tuple[int, int, int], ...]
    last_trade_sequence: int


@dataclass(frozen=True)
class VenueView:
    """The venue's identity and state."""

    exchange: str
    state: VenueState
    statement_public_key: bytes
    last_statement: str


class VenueService:
    """Every use case of the exchange."""

    def __init__(
        self, settings: VenueSettings, store: VenueStore, signer: StatementSigner, clock: Clock
    ) -> None:
        self._settings = settings
        self._store = store
        self._signer = signer
        self._clock = clock
        self._lock = threading.Lock()
        with self._lock:
            self._venue = self._rebuild()

    @property
    def settings(self) -> VenueSettings:
        """The venue's configuration."""
        return self._settings

    # Commands that are one domain call, given the venue and the time.

    def run_command(
        self,
        method: str,
        request: HasRequestId,
        response_type: type[ResponseT],
        action: Callable[[Venue, int], ResponseT],
    ) -> ResponseT:
        """Runs `action(venue, now_ms)` as one command and returns the response it builds.

        The action applies one domain operation and builds the response from its result, so the
        response is recorded with the changes; a retry with the same request_id returns the
        recorded response without calling it. Commands that need more than the venue and the
        time have a method of their own below.
        """
        return self._command(
            method, request, response_type, lambda venue, writer: action(venue, self._clock.now_ms())
        )

    def create_statement(
        self,
        request: HasRequestId,
        response_type: type[ResponseT],
        respond: Callable[[Statement], ResponseT],
    ) -> ResponseT:
        """Closes the period and issues the statement, signed with the exchange's key."""
        return self.run_command(
            "CreateStatement",
            request,
            response_type,
            lambda venue, now_ms: respond(venue.issue_statement(now_ms, self._signer.sign)),
        )

    # Trading commands, with logic of their own.

    def place_order(
        self,
        request: HasRequestId,
        command: PlaceOrderCommand,
        response_type: type[ResponseT],
        respond: Callable[[OrderView], ResponseT],
    ) -> ResponseT:
        """Checks and matches an order; the response carries the fills it got at once."""

        def action(venue: Venue, writer: VenueWriter) -> ResponseT:
            order = venue.place_order(
                command.account,
                command.market,
                command.side,
                command.order_type,
                command.price_units,
                command.quantity_units,
                self._clock.now_ms(),
            )
            fills = [
                fill_view(order.number, trade) for trade in venue.changes.trades if _involves(trade, order)
            ]
            return respond(order_view(order, fills))

        return self._command("PlaceOrder", request, response_type, action)

    def cancel_order(
        self,
        request: HasRequestId,
        number: int,
        principal: Principal,
        response_type: type[ResponseT],
        respond: Callable[[OrderView], ResponseT],
    ) -> ResponseT:
        """Cancels the rest of an open order of the caller."""

        def action(venue: Venue, writer: VenueWriter) -> ResponseT:
            order = venue.open_order(number)
            if order is None:
                stored = writer.find_order(number)
                if stored is None:
                    raise _order_not_found(number)
                require_owner(principal, stored.account)
                raise failed_precondition(
                    "ORDER_NOT_OPEN",
                    f"orders/{number} is {stored.state.value.lower()}; only open orders can be cancelled",
                    order=f"orders/{number}",
                )
            require_owner(principal, order.account)
            venue.cancel_order(order, self._clock.now_ms())
            stored = writer.find_order(number)
            return respond(order_view(order, [] if stored is None else list(stored.fills)))

        return self._command("CancelOrder", request, response_type, action)

    # Reads.

    def get_order(self, number: int) -> OrderView:
        """A committed order with its fills, or NOT_FOUND."""
        view = self._store.find_order(number)
        if view is None:
            raise _order_not_found(number)
        return view

    def get_balances(self, account_name: str) -> list[BalanceView]:
        """Every asset the account touched, sorted by asset; NOT_FOUND without a connection."""
        with self._lock:
            account = self._venue.accounts.by_name(account_name)
            return [_balance_view(balance) for balance in account.sorted_balances()]

    def list_mirrors(self) -> list[MirrorView]:
        """Mirror and unsettled of every connection and asset, sorted by connection then asset."""
        with self._lock:
            return [
                MirrorView(account.connection, balance.asset, balance.mirror_units, balance.unsettled_units)
                for account in self._venue.accounts.sorted_by_connection()
                for balance in account.sorted_balances()
            ]

    def get_order_book(self, market_name: str, depth: int) -> BookView:
        """Aggregated levels of a market, best first."""
        assert 1 <= depth <= ORDER_BOOK_DEPTH_MAX, "callers validate the depth"
        with self._lock:
            venue = self._venue
            market = venue.market_named(market_name)
            return BookView(
                market,
                tuple(venue.book.depth(Side.BUY, depth)),
                tuple(venue.book.depth(Side.SELL, depth)),
                venue.last_trade_sequence,
            )

    def market(self, market_name: str) -> Market:
        """A market by name, or INVALID_ARGUMENT UNKNOWN_MARKET; markets are fixed configuration."""
        return self._venue.market_named(market_name)

    def list_markets(self) -> list[Market]:
        """Every market, sorted by name."""
        return sorted(self._venue.markets.values(), key=lambda market: market.name)

    def get_venue(self) -> VenueView:
        """The venue's identity, state, statement key and last statement."""
        with self._lock:
            venue = self._venue
            last = venue.statement_ledger.last()
            return VenueView(
                f"exchanges/{venue.exchange_id}",
                venue.state,
                self._signer.public_key(),
                "" if last is None else last.name,
            )

    # Lifecycle.

    def reset(self) -> None:
        """Empties the database and the in-memory venue; the house ladder is quoted afresh."""
        with self._lock:
            self._store.delete_everything()
            self._venue = self._rebuild()
            log.info("venue_reset", exchange=self._settings.exchange_id)

    def _rebuild(self) -> Venue:
        """Loads the venue from the database and persists the house quotes it tops up. Lock held."""
        venue = Venue.load(self._settings, self._store.load())
        venue.restore_ladder(self._clock.now_ms())
        if not venue.changes.is_empty():
            self._store.run_internal(lambda writer: writer.save(venue.changes))
            venue.changes.clear()
        return venue

    def _command(
        self,
        method: str,
        request: HasRequestId,
        response_type: type[ResponseT],
        action: Callable[[Venue, VenueWriter], ResponseT],
    ) -> ResponseT:
        with self._lock:
            venue = self._venue

            def handler(writer: VenueWriter) -> ResponseT:
                response = action(venue, writer)
                writer.save(venue.changes)
                return response

            try:
                response = self._store.run_command(method, request, response_type, handler)
            except BaseException:
                # The domain refuses before it changes anything, so an error with no recorded
                # change leaves memory and database in step. Anything else (a failed write or
                # commit, or a domain bug) rebuilds memory from the last committed state.
                if not venue.changes.is_empty():
                    log.warning("venue_rebuilt_after_failed_command", method=method)
                    self._venue = self._rebuild()
                raise
            venue.changes.clear()
            return response


def fill_view(order_number: int, trade: Trade) -> FillView:
    """A trade seen from one of its two orders."""
    is_buyer = trade.buy_order_number == order_number
    return FillView(
        trade.sequence,
        trade.price_units,
        trade.quantity_units,
        trade.buyer_fee_units if is_buyer else trade.seller_fee_units,
        trade.maker_order_number == order_number,
        trade.trade_time_ms,
    )


def _involves(trade: Trade, order: Order) -> bool:
    return order.number in (trade.buy_order_number, trade.sell_order_number)


def _balance_view(balance: Balance) -> BalanceView:
    return BalanceView(
        balance.asset,
        balance.mirror_units,
        balance.unsettled_units,
        balance.held_units,
        balance.available_units,
        balance.pending_credit_units,
    )


def _order_not_found(number: int) -> Exception:
    return not_found("ORDER_NOT_FOUND", f"orders/{number} does not exist", order=f"orders/{number}")
