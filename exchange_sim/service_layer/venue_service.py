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

from exchange_sim.domain.accounts import Balance, CustodyModel
from exchange_sim.domain.journal import command_entries
from exchange_sim.domain.market import Market
from exchange_sim.domain.market_data import MarketDataEvent, TickerView, collect_market_data
from exchange_sim.domain.orders import Order, OrderType, SelfTradePrevention, Side, TimeInForce, Trade
from exchange_sim.domain.statements import Statement, StatementTools
from exchange_sim.domain.venue import Venue, VenueSettings, VenueState
from exchange_sim.domain.wallet import EstateClaim
from exchange_sim.service_layer.market_data_feed import MarketDataFeed
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
from service_kit.journal import JournalRecord

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
    time_in_force: TimeInForce = TimeInForce.GOOD_TILL_CANCELLED
    post_only: bool = False
    protection_price_units: int | None = None
    self_trade_prevention: SelfTradePrevention = SelfTradePrevention.CANCEL_TAKER
    client_order_id: str = ""

    def matches(self, order: OrderView) -> bool:
        """Whether an order placed earlier under the same client order id is this same order."""
        return (
            order.market == self.market
            and order.side is self.side
            and order.order_type is self.order_type
            and order.price_units == self.price_units
            and order.quantity_units == self.quantity_units
            and order.time_in_force is self.time_in_force
            and order.post_only == self.post_only
            and order.self_trade_prevention is self.self_trade_prevention
            and (
                self.protection_price_units is None
                or order.protection_price_units == self.protection_price_units
            )
        )


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
class AccountView:
    """A snapshot of an account: custody model, balances by asset, claims on an insolvent estate."""

    account: str
    custody_model: CustodyModel
    balances: tuple[BalanceView, ...]
    claims: tuple[EstateClaim, ...]
    frozen: bool


@dataclass(frozen=True)
class BookView:
    """A snapshot of an order book: (price, quantity, order count) per level, best first."""

    market: Market
    bids: tuple[tuple[int, int, int], ...]
    asks: tuple[tuple[int, int, int], ...]
    last_trade_sequence: int
    market_data_sequence: int


@dataclass(frozen=True)
class MarketView:
    """A market with its reference price now."""

    market: Market
    reference_price_units: int


@dataclass(frozen=True)
class VenueView:
    """The venue's identity and state."""

    exchange: str
    state: VenueState
    statement_public_key: bytes
    last_statement: str
    state_time_ms: int
    recovery_rate_bps: int


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
        self.market_data = MarketDataFeed()
        self._tickers: dict[str, TickerView] = {}
        with self._lock:
            self._venue = self._rebuild()
            self._start_market_data()

    @property
    def store(self) -> VenueStore:
        """The venue's durable store (its journal is read through the control service)."""
        return self._store

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
        """Closes the period and issues the statement, signed with the exchange's key (or faulted)."""

        def trade_effects(sequence: int) -> dict[tuple[str, str], int]:
            trade = self._store.find_trade(sequence)
            return {} if trade is None else self._venue.trade_effects(trade)

        tools = StatementTools(self._signer.sign, self._signer.sign_with_wrong_key, trade_effects)
        return self.run_command(
            "CreateStatement",
            request,
            response_type,
            lambda venue, now_ms: respond(venue.issue_statement(now_ms, tools)),
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
            if command.client_order_id:
                number = venue.order_by_client_id(command.account, command.client_order_id)
                if number is not None:
                    return respond(self._same_order(writer, number, command))
            order = venue.place_order(
                command.account,
                command.market,
                command.side,
                command.order_type,
                command.price_units,
                command.quantity_units,
                self._clock.now_ms(),
                command.time_in_force,
                command.post_only,
                command.protection_price_units,
                command.self_trade_prevention,
                command.client_order_id,
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

    @staticmethod
    def _same_order(writer: VenueWriter, number: int, command: PlaceOrderCommand) -> OrderView:
        """The order placed earlier under the command's client order id, if it is the same order."""
        stored = writer.find_order(number)
        assert stored is not None, "client order ids point at stored orders"
        if not command.matches(stored):
            raise failed_precondition(
                "CLIENT_ORDER_ID_REUSED",
                f"client order id {command.client_order_id!r} already names orders/{number}, a different "
                "order; choose a new id",
                order=f"orders/{number}",
                client_order_id=command.client_order_id,
            )
        return stored

    def cancel_all_orders(
        self,
        request: HasRequestId,
        account: str,
        market: str,
        response_type: type[ResponseT],
        respond: Callable[[list[OrderView]], ResponseT],
    ) -> ResponseT:
        """Cancels every open order of an account (in one market, or all)."""

        def action(venue: Venue, writer: VenueWriter) -> ResponseT:
            cancelled = venue.cancel_all_orders(account, market, self._clock.now_ms())
            views = []
            for order in cancelled:
                stored = writer.find_order(order.number)
                views.append(order_view(order, [] if stored is None else list(stored.fills)))
            return respond(views)

        return self._command("CancelAllOrders", request, response_type, action)

    # Reads.

    def get_order(self, number: int) -> OrderView:
        """A committed order with its fills, or NOT_FOUND."""
        view = self._store.find_order(number)
        if view is None:
            raise _order_not_found(number)
        return view

    def get_order_by_client_id(self, account: str, client_order_id: str) -> OrderView:
        """An account's order by its client order id, or NOT_FOUND."""
        with self._lock:
            number = self._venue.order_by_client_id(account, client_order_id)
        if number is None:
            raise not_found(
                "ORDER_NOT_FOUND",
                f"{account} has no order with client order id {client_order_id!r}",
                client_order_id=client_order_id,
            )
        return self.get_order(number)

    def list_orders(
        self, account: str, open_only: bool, market: str, before_number: int, limit: int
    ) -> list[OrderView]:
        """An account's committed orders, newest first."""
        with self._lock:
            self._venue.accounts.by_name(account)
            if market:
                self._venue.market_named(market)
        return self._store.list_orders(account, open_only, market, before_number, limit)

    def list_trades(self, account: str, before_sequence: int, limit: int) -> list[Trade]:
        """An account's committed trades, newest first."""
        with self._lock:
            self._venue.accounts.by_name(account)
        return self._store.list_trades(account, before_sequence, limit)

    def get_balances(self, account_name: str) -> list[BalanceView]:
        """Every asset the account touched, sorted by asset; NOT_FOUND without an account."""
        return list(self.get_account(account_name).balances)

    def get_account(self, account_name: str) -> AccountView:
        """An account's model, balances and claims; NOT_FOUND without an account."""
        with self._lock:
            venue = self._venue
            account = venue.accounts.by_name(account_name)
            return AccountView(
                account.name,
                account.custody_model,
                tuple(balance_view(balance) for balance in account.sorted_balances()),
                tuple(venue.claims_of(account.name)),
                venue.state is VenueState.INSOLVENT,
            )

    def list_mirrors(self) -> list[MirrorView]:
        """Mirror and unsettled of every connection and asset, sorted by connection then asset."""
        with self._lock:
            return [
                MirrorView(account.connection, balance.asset, balance.mirror_units, balance.unsettled_units)
                for account in self._venue.accounts.sorted_by_connection()
                for balance in account.sorted_balances()
            ]

    def get_order_book(self, market_name: str, depth: int) -> BookView:
        """Aggregated levels of a market, best first, with the market data sequence it reflects."""
        assert 1 <= depth <= ORDER_BOOK_DEPTH_MAX, "callers validate the depth"
        with self._lock:
            venue = self._venue
            listing = venue.listing(market_name)
            return BookView(
                listing.market,
                tuple(listing.book.depth(Side.BUY, depth)),
                tuple(listing.book.depth(Side.SELL, depth)),
                venue.last_trade_sequence,
                listing.market_data_sequence,
            )

    def market(self, market_name: str) -> Market:
        """A market by name, or INVALID_ARGUMENT UNKNOWN_MARKET; markets are fixed configuration."""
        return self._venue.market_named(market_name)

    def market_view(self, market_name: str) -> MarketView:
        """A market with its reference price now."""
        with self._lock:
            listing = self._venue.listing(market_name)
            return MarketView(listing.market, listing.reference_price_units)

    def list_markets(self) -> list[MarketView]:
        """Every market with its reference price now, sorted by name."""
        with self._lock:
            return [
                MarketView(listing.market, listing.reference_price_units)
                for _, listing in sorted(self._venue.listings.items())
            ]

    def get_venue(self) -> VenueView:
        """The venue's identity, state, statement key and last statement."""
        with self._lock:
            return self.venue_view(self._venue)

    def venue_view(self, venue: Venue) -> VenueView:
        """The identity and state of a venue the caller holds under the lock (inside a command)."""
        last = venue.statement_ledger.last()
        return VenueView(
            f"exchanges/{venue.exchange_id}",
            venue.state,
            self._signer.public_key(),
            "" if last is None else last.name,
            venue.state_time_ms,
            venue.recovery_rate_bps,
        )

    def now_ms(self) -> int:
        """Sandbox time now."""
        return self._clock.now_ms()

    def read_venue(self, read: Callable[[Venue], ResponseT]) -> ResponseT:
        """Builds a response from the venue under the lock (reads of state the servicers format)."""
        with self._lock:
            return read(self._venue)

    def read_journal(self, after_sequence: int, limit: int) -> list[JournalRecord]:
        """Committed journal records after a sequence number."""
        return self._store.read_journal(after_sequence, limit)

    # Time-driven work.

    def schedule_requotes(self) -> None:
        """Starts each market's re-quote timer: the house follows its reference price path."""
        now_ms = self._clock.now_ms()
        for listing in self._settings.listings:
            self._schedule_requote(listing.market.name, now_ms + listing.market_maker.requote_interval_ms)

    def _schedule_requote(self, market_name: str, due_ms: int) -> None:
        self._clock.schedule(due_ms, f"requote:{market_name}", lambda: self._requote(market_name, due_ms))

    def _requote(self, market_name: str, due_ms: int) -> None:
        interval_ms = self._venue.listing(market_name).settings.market_maker.requote_interval_ms
        try:
            with self._lock:
                venue = self._venue
                listing = venue.listing(market_name)
                if listing.pricing.price_at(self._clock.now_ms()) != listing.reference_price_units:
                    self._apply_internal(lambda: venue.requote_to_path(market_name, self._clock.now_ms()))
        finally:
            self._schedule_requote(market_name, due_ms + interval_ms)

    # Lifecycle.

    def reset(self) -> None:
        """Empties the database and the in-memory venue; the house ladder is quoted afresh."""
        with self._lock:
            self._store.delete_everything()
            self._venue = self._rebuild()
            self._start_market_data()
            log.info("venue_reset", exchange=self._settings.exchange_id)

    def _start_market_data(self) -> None:
        """Starts the market data feed from the durable sequences. Lock held."""
        self._tickers = {}
        self.market_data.start(
            [(name, listing.market_data_sequence) for name, listing in self._venue.listings.items()]
        )

    def _rebuild(self) -> Venue:
        """Loads the venue from the database and persists the house quotes it tops up. Lock held."""
        now_ms = self._clock.now_ms()
        venue = Venue.load(self._settings, self._store.load(), now_ms)
        venue.restore_ladder(now_ms)
        for name in venue.listings:
            venue.requote_to_path(name, now_ms)
        if not venue.changes.is_empty():
            # The book may have moved while the venue was down (the house re-quoted to its path):
            # those changes take market data sequence numbers too, so that a client resuming after
            # an older snapshot is told to take a new one rather than keep a stale book.
            self._store.run_internal(lambda writer: self._write(venue, writer, now_ms, publish_later=[]))
        venue.clear_changes()
        return venue

    def _write(
        self, venue: Venue, writer: VenueWriter, now_ms: int, publish_later: list[MarketDataEvent]
    ) -> None:
        """Writes a command's rows and journal; collects its market data into `publish_later`. Lock held."""
        for name, listing in venue.listings.items():
            events = collect_market_data(listing, venue.changes.trades, self._tickers.get(name), now_ms)
            if events:
                ticker = next((event.ticker for event in reversed(events) if event.ticker is not None), None)
                if ticker is not None:
                    self._tickers[name] = ticker
                venue.changes.markets.add(name)
                publish_later.extend(events)
        writer.save(venue.changes, venue)
        entries = command_entries(venue.changes, venue.assets, venue.markets)
        if entries:
            writer.append_journal(entries, now_ms)

    def _apply_internal(self, action: Callable[[], object]) -> None:
        """Runs a domain action that answers no request (a timer) as one transaction. Lock held."""
        venue = self._venue
        published: list[MarketDataEvent] = []
        try:
            action()
            if not venue.changes.is_empty():
                self._store.run_internal(
                    lambda writer: self._write(venue, writer, self._clock.now_ms(), published)
                )
        except BaseException:
            log.warning("venue_rebuilt_after_failed_timer")
            self._venue = self._rebuild()
            self._start_market_data()
            raise
        venue.clear_changes()
        self._after_commit(published)

    def _after_commit(self, published: list[MarketDataEvent]) -> None:
        self.market_data.publish(published)
        self._store.commit_signal.notify_committed()

    def _command(
        self,
        method: str,
        request: HasRequestId,
        response_type: type[ResponseT],
        action: Callable[[Venue, VenueWriter], ResponseT],
    ) -> ResponseT:
        with self._lock:
            venue = self._venue
            published: list[MarketDataEvent] = []

            def handler(writer: VenueWriter) -> ResponseT:
                published.clear()
                response = action(venue, writer)
                self._write(venue, writer, self._clock.now_ms(), published)
                return response

            try:
                response = self._store.run_command(method, request, response_type, handler)
            except BaseException:
                # The domain refuses before it changes anything, so an error with no recorded
                # change leaves memory and database in step. Anything else (a failed write or
                # commit, or a domain bug) rebuilds memory from the last committed state.
                if not venue.changes.is_empty() or published:
                    log.warning("venue_rebuilt_after_failed_command", method=method)
                    self._venue = self._rebuild()
                    self._start_market_data()
                raise
            venue.clear_changes()
            self._after_commit(published)
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


def balance_view(balance: Balance) -> BalanceView:
    """A snapshot of one balance."""
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
