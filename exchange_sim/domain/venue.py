"""The venue aggregate: accounts, one order book per market, the market maker, funding and statements."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NoReturn

from exchange_sim.domain.accounts import Account, AccountRegistry
from exchange_sim.domain.changes import VenueChanges
from exchange_sim.domain.funding import Allocation, Deallocation, Funding
from exchange_sim.domain.market import BASIS_POINTS_PER_WHOLE, Market, fee_ceiling_units
from exchange_sim.domain.market_maker import MarketMaker, MarketMakerSettings
from exchange_sim.domain.order_book import OrderBook
from exchange_sim.domain.orders import Order, OrderState, OrderType, Side, Trade
from exchange_sim.domain.statements import Statement, StatementEntry, StatementLedger, StatementSigner
from service_kit.errors import failed_precondition, invalid_argument
from service_kit.money import UNITS_ABS_MAX, AssetScales

_BUY = Side.BUY
_LIMIT = OrderType.LIMIT
_FILLED = OrderState.FILLED
_OPEN = OrderState.OPEN


class VenueState(enum.Enum):
    """Lifecycle of the venue; only OPERATING is entered so far."""

    OPERATING = "OPERATING"
    WITHDRAWALS_PAUSED = "WITHDRAWALS_PAUSED"
    TRADING_HALTED = "TRADING_HALTED"
    INSOLVENT = "INSOLVENT"


_OPERATING = VenueState.OPERATING


@dataclass(frozen=True)
class VenueSettings:
    """Everything that configures a venue: identity, seed, assets, its market and the house quotes."""

    exchange_id: str
    seed: int
    assets: AssetScales
    market: Market
    market_maker: MarketMakerSettings

    def __post_init__(self) -> None:
        for asset in (self.market.base_asset, self.market.quote_asset):
            assert asset in self.assets.scales, f"market asset {asset} is not configured"
        assert self.assets.scales[self.market.base_asset] == self.market.base_scale
        assert self.assets.scales[self.market.quote_asset] == self.market.quote_scale


@dataclass
class VenueRecords:
    """A venue's durable state as loaded from storage; open orders in number (arrival) order."""

    accounts: list[Account] = field(default_factory=list)
    open_orders: list[Order] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)
    deallocations: list[Deallocation] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    last_trade_sequence: int = 0
    last_order_number: int = 0
    state: VenueState = VenueState.OPERATING


class Venue:
    """One exchange: every command checks first and changes nothing when it refuses.

    Each successful command records what it touched in `changes`, which the service layer
    writes in the same transaction as the request log entry.
    """

    def __init__(self, settings: VenueSettings) -> None:
        self.settings = settings
        self.exchange_id = settings.exchange_id
        self.assets = settings.assets
        self.changes = VenueChanges()
        self.accounts = AccountRegistry(settings.exchange_id, self.changes)
        self.funding = Funding(self.accounts, settings.assets, self.changes)
        self.statement_ledger = StatementLedger(
            settings.exchange_id, settings.seed, settings.assets, self.accounts, self.changes
        )
        self.market = settings.market
        self.markets = {settings.market.name: settings.market}
        self.book = OrderBook()
        self.market_maker = MarketMaker(settings.exchange_id, settings.market, settings.market_maker)
        self.open_orders: dict[int, Order] = {}
        self.state = VenueState.OPERATING
        self.last_trade_sequence = 0
        self.last_order_number = 0
        # Hot-path constants of the one market, read once per fill.
        self._base_units_per_whole = settings.market.base_units_per_whole
        self._maker_fee_bps = settings.market.maker_fee_bps
        self._taker_fee_bps = settings.market.taker_fee_bps
        self._fee_bps_max = settings.market.fee_bps_max
        self._fill_handler = self._fill
        self._match_time_ms = 0

    @classmethod
    def load(cls, settings: VenueSettings, records: VenueRecords) -> Venue:
        """Rebuilds a venue from storage: accounts, the book in arrival order, funding, statements."""
        venue = cls(settings)
        for account in records.accounts:
            venue.accounts.add(account)
        for allocation in records.allocations:
            venue.funding.allocations[allocation.funding_id] = allocation
        for deallocation in records.deallocations:
            venue.funding.deallocations[deallocation.funding_id] = deallocation
        for statement in records.statements:
            venue.statement_ledger.add(statement)
        previous_number = 0
        for order in records.open_orders:
            assert order.number > previous_number, "open orders load in arrival order"
            assert (
                order.state is OrderState.OPEN
                and order.order_type is _LIMIT
                and order.price_units is not None
            )
            previous_number = order.number
            if order.house:
                venue.market_maker.on_resting(order.price_units, order.remaining_units)
            else:
                account = venue.accounts.by_name(order.account)
                order.base_balance = account.balance(venue.market.base_asset)
                order.quote_balance = account.balance(venue.market.quote_asset)
            venue.book.add(order)
            venue.open_orders[order.number] = order
        venue.last_trade_sequence = records.last_trade_sequence
        venue.last_order_number = records.last_order_number
        venue.state = records.state
        return venue

    # Trading.

    def market_named(self, market_name: str) -> Market:
        """Returns a market, or INVALID_ARGUMENT UNKNOWN_MARKET."""
        market = self.markets.get(market_name)
        if market is None:
            known = ", ".join(sorted(self.markets))
            raise invalid_argument(
                "UNKNOWN_MARKET", "market", f"unknown market {market_name!r}; known: {known}"
            )
        return market

    def place_order(
        self,
        account_name: str,
        market_name: str,
        side: Side,
        order_type: OrderType,
        price_units: int | None,
        quantity_units: int,
        now_ms: int,
    ) -> Order:
        """Checks, matches and (for a limit order with a rest) books an order; returns it after matching.

        Pre-trade check against `available` (nothing changes when it fails): a limit buy holds
        its notional at the limit price plus the larger fee on it, a limit sell holds its
        quantity; a market buy needs what it would pay now (walking the book) plus the taker
        fee, a market sell its quantity. A market order's unfilled rest is cancelled.

        This is the hot path (see benchmarks/matching_throughput.py): checks are inlined and
        only call out to build an error.
        """
        market = self.markets.get(market_name)
        if market is None:
            market = self.market_named(market_name)
        if quantity_units % market.lot_units:
            market.check_quantity(quantity_units)
        is_limit = order_type is _LIMIT
        if is_limit:
            assert price_units is not None, "limit orders carry a price"
            if price_units % market.tick_units:
                market.check_price(price_units)
            notional_units = price_units * quantity_units // self._base_units_per_whole
            if notional_units > UNITS_ABS_MAX:
                market.check_notional(notional_units)
        else:
            assert price_units is None, "market orders carry no price"
        account = self.accounts.find(account_name)
        if account is None:
            account = self.accounts.by_name(account_name)
        if self.state is not _OPERATING:
            self._require_trading()
        balances = account.balances
        held_units = 0
        if side is _BUY:
            if is_limit:
                # Inlined fee_ceiling_units(notional_units, market.fee_bps_max).
                held_units = required_units = notional_units - (
                    -notional_units * self._fee_bps_max // BASIS_POINTS_PER_WHOLE
                )
            else:
                notional_units = sum(
                    market.notional_units(price, units)
                    for price, units in self.book.fillable_levels(side, quantity_units)
                )
                required_units = notional_units + fee_ceiling_units(notional_units, market.taker_fee_bps)
            checked = balances.get(market.quote_asset)
        else:
            required_units = quantity_units
            if is_limit:
                held_units = quantity_units
            checked = balances.get(market.base_asset)
        if (
            checked is None
            or checked.mirror_units + checked.unsettled_units - checked.held_units < required_units
        ):
            self._refuse_insufficient(
                account, market.quote_asset if side is _BUY else market.base_asset, required_units
            )
        base_balance = balances.get(market.base_asset) or account.balance(market.base_asset)
        quote_balance = balances.get(market.quote_asset) or account.balance(market.quote_asset)
        self.last_order_number += 1
        order = Order(
            self.last_order_number,
            account.name,
            market.name,
            side,
            order_type,
            price_units,
            quantity_units,
            now_ms,
            False,
            base_balance,
            quote_balance,
            0,
            _OPEN,
            held_units,
        )
        if held_units:
            (quote_balance if side is _BUY else base_balance).held_units += held_units
        changes = self.changes
        changes.balances.add(base_balance)
        changes.balances.add(quote_balance)
        changes.orders[order.number] = order
        self._match_time_ms = now_ms
        self.book.match(order, price_units, self._fill_handler)
        if order.filled_units == quantity_units:
            self._finish(order, _FILLED)
        elif is_limit:
            self.book.add(order)
            self.open_orders[order.number] = order
        else:
            self._finish(order, OrderState.CANCELLED)
        if self.market_maker.pending_prices:
            self._restore_ladder(now_ms)
        return order

    def open_order(self, number: int) -> Order | None:
        """Returns a resting order, or None when it is not open (finished or unknown)."""
        return self.open_orders.get(number)

    def cancel_order(self, order: Order, now_ms: int) -> Order:
        """Takes an open order off the book and releases what it still holds."""
        assert self.open_orders.get(order.number) is order, "only open orders are cancelled"
        self.book.remove(order)
        if order.house:
            self.market_maker.on_fill(order.price_units or 0, order.remaining_units)
        self._finish(order, OrderState.CANCELLED)
        self.changes.orders[order.number] = order
        self._restore_ladder(now_ms)
        return order

    def restore_ladder(self, now_ms: int) -> None:
        """Tops up the house quotes (at start, after a reset, after each order)."""
        self._restore_ladder(now_ms)

    def _restore_ladder(self, now_ms: int) -> None:
        maker = self.market_maker
        market = self.market
        for level in maker.shortfalls(self.book.best_bid(), self.book.best_ask()):
            self.last_order_number += 1
            order = Order(
                self.last_order_number,
                maker.account,
                market.name,
                level.side,
                _LIMIT,
                level.price_units,
                level.quantity_units,
                now_ms,
                house=True,
            )
            self.book.add(order)
            self.open_orders[order.number] = order
            maker.on_resting(level.price_units, level.quantity_units)
            self.changes.orders[order.number] = order

    def _refuse_insufficient(self, account: Account, asset: str, required_units: int) -> NoReturn:
        available_units = account.available_units(asset)
        assert available_units < required_units
        raise failed_precondition(
            "INSUFFICIENT_BALANCE",
            f"{account.name} has {self.assets.format(asset, available_units)} {asset} available; "
            f"the order needs {self.assets.format(asset, required_units)}",
            account=account.name,
            asset=asset,
            available=self.assets.format(asset, available_units),
            required=self.assets.format(asset, required_units),
        )

    def _require_trading(self) -> None:
        if self.state is VenueState.TRADING_HALTED:
            raise failed_precondition("TRADING_HALTED", f"trading at {self.exchange_id} is halted")
        if self.state is VenueState.INSOLVENT:
            raise failed_precondition("EXCHANGE_INSOLVENT", f"{self.exchange_id} is insolvent")

    def _finish(self, order: Order, state: OrderState) -> None:
        order.state = state
        if order.held_units:
            balance = order.quote_balance if order.side is _BUY else order.base_balance
            assert balance is not None
            balance.held_units -= order.held_units
            assert balance.held_units >= 0, "holds are released once"
            order.held_units = 0
        self.open_orders.pop(order.number, None)

    def _fill(self, taker: Order, maker: Order, price_units: int, quantity_units: int) -> None:
        """Books one execution: quantities, fees, unsettled balances, holds and the trade."""
        notional_units = price_units * quantity_units // self._base_units_per_whole
        taker.filled_units += quantity_units
        maker.filled_units += quantity_units
        # The taker is always a client order: the house never crosses the book.
        taker_fee_units = _book_client_fill(taker, quantity_units, notional_units, self._taker_fee_bps)
        changes = self.changes
        if maker.house:
            maker_fee_units = 0
            self.market_maker.on_fill(price_units, quantity_units)
        else:
            maker_fee_units = _book_client_fill(maker, quantity_units, notional_units, self._maker_fee_bps)
            changes.balances.add(maker.base_balance)  # type: ignore[arg-type]
            changes.balances.add(maker.quote_balance)  # type: ignore[arg-type]
        if maker.filled_units == maker.quantity_units:
            self._finish(maker, _FILLED)
        changes.orders[maker.number] = maker
        self.last_trade_sequence += 1
        if taker.side is _BUY:
            buyer, seller, buyer_fee_units, seller_fee_units = taker, maker, taker_fee_units, maker_fee_units
        else:
            buyer, seller, buyer_fee_units, seller_fee_units = maker, taker, maker_fee_units, taker_fee_units
        changes.trades.append(
            Trade(
                self.last_trade_sequence,
                taker.market,
                price_units,
                quantity_units,
                buyer.number,
                seller.number,
                maker.number,
                buyer.account,
                seller.account,
                buyer_fee_units,
                seller_fee_units,
                self._match_time_ms,
            )
        )

    # Funding, statements, reads.

    def issue_statement(self, cutoff_ms: int, sign: StatementSigner) -> Statement:
        """Closes the period at the current trade sequence and signs the statement."""
        return self.statement_ledger.issue(cutoff_ms, self.last_trade_sequence, sign)

    def confirm_statement(
        self, name: str, now_ms: int, settled_entries: Sequence[StatementEntry] | None = None
    ) -> Statement:
        """Re-bases the mirrors of an executed statement (only its settled entries when given)."""
        return self.statement_ledger.confirm(name, now_ms, settled_entries)

    def resting_orders(self) -> Iterable[Order]:
        """Every order on the book."""
        return self.book.orders()


def _book_client_fill(order: Order, quantity_units: int, notional_units: int, fee_bps: int) -> int:
    """Books one client order's side of a fill; returns the fee charged for it.

    The fee is this fill's share of the order's fee: `exact` is the fill's fee in
    ten-thousandths of a quote unit less what earlier rounding already charged; it is rounded
    up and the overshoot kept as the order's credit (0..9 999). The buyer pays notional plus
    fee, the seller receives notional less fee, both into `unsettled`; a limit order's hold
    shrinks by what the fill used (quote cost for a buy, base quantity for a sell).
    """
    exact = notional_units * fee_bps - order.fee_credit
    fee_units = -(-exact // BASIS_POINTS_PER_WHOLE)
    order.fee_credit = fee_units * BASIS_POINTS_PER_WHOLE - exact
    order.fee_units += fee_units
    base_balance = order.base_balance
    quote_balance = order.quote_balance
    assert base_balance is not None and quote_balance is not None, "client orders know their balances"
    if order.side is _BUY:
        cost_units = notional_units + fee_units
        base_balance.unsettled_units += quantity_units
        quote_balance.unsettled_units -= cost_units
        if order.order_type is _LIMIT:
            quote_balance.held_units -= cost_units
            order.held_units -= cost_units
    else:
        base_balance.unsettled_units -= quantity_units
        if order.order_type is _LIMIT:
            base_balance.held_units -= quantity_units
            order.held_units -= quantity_units
        quote_balance.unsettled_units += notional_units - fee_units
    return fee_units
