"""The venue aggregate: accounts, a book and house quotes per market, funding, wallet and statements."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NoReturn

from exchange_sim.domain.accounts import Account, AccountRegistry, Balance, CustodyModel
from exchange_sim.domain.changes import VenueChanges
from exchange_sim.domain.funding import Allocation, Deallocation, Funding
from exchange_sim.domain.journal import journal_entry
from exchange_sim.domain.market import BASIS_POINTS_PER_WHOLE, Market, fee_ceiling_units
from exchange_sim.domain.market_maker import MarketMaker, MarketMakerSettings, ladder_levels
from exchange_sim.domain.order_book import OrderBook
from exchange_sim.domain.orders import (
    CancelReason,
    Order,
    OrderState,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
    Trade,
)
from exchange_sim.domain.price_paths import PriceFault, ShockFault, StaleFault
from exchange_sim.domain.pricing import MarketPricing, PricePathKind, PricePathSpec
from exchange_sim.domain.statements import (
    Statement,
    StatementEntry,
    StatementFault,
    StatementLedger,
    StatementTools,
)
from exchange_sim.domain.wallet import EstateClaim, WalletTransfer, WalletTransferKind
from service_kit.errors import failed_precondition, invalid_argument
from service_kit.money import UNITS_ABS_MAX, AssetScales

_BUY = Side.BUY
_LIMIT = OrderType.LIMIT
_FILLED = OrderState.FILLED
_OPEN = OrderState.OPEN
_GOOD_TILL_CANCELLED = TimeInForce.GOOD_TILL_CANCELLED
_FILL_OR_KILL = TimeInForce.FILL_OR_KILL
_CANCEL_TAKER = SelfTradePrevention.CANCEL_TAKER

# A market order without a protection price may fill at most this far from the best
# opposite price on arrival (5 %), so that a thin book cannot fill it at any price.
MARKET_PROTECTION_BPS_DEFAULT = 500
CLIENT_ORDER_IDS_MAX = 10_000_000
WALLET_TRANSFERS_MAX = 10_000_000


class VenueState(enum.Enum):
    """Lifecycle of the venue, in order of decay; only INSOLVENT is final."""

    OPERATING = "OPERATING"
    WITHDRAWALS_PAUSED = "WITHDRAWALS_PAUSED"
    TRADING_HALTED = "TRADING_HALTED"
    INSOLVENT = "INSOLVENT"


_OPERATING = VenueState.OPERATING
_STATE_RANK = {state: rank for rank, state in enumerate(VenueState)}
# The stable reason a refused operation carries, by the state that refuses it.
STATE_REFUSAL_REASONS = {
    VenueState.WITHDRAWALS_PAUSED: "WITHDRAWALS_PAUSED",
    VenueState.TRADING_HALTED: "TRADING_HALTED",
    VenueState.INSOLVENT: "EXCHANGE_INSOLVENT",
}


class Operation(enum.Enum):
    """What a command does, for the venue state's refusals."""

    TRADE = "trading"
    ALLOCATE = "new allocations"
    CLEAR_ALLOCATION = "clearing allocations"
    DEALLOCATE = "deallocations"
    WITHDRAW = "withdrawals"
    DEPOSIT = "deposits"
    OPEN_ACCOUNT = "opening accounts"
    ISSUE_STATEMENT = "new statements"


# The first state (in decay order) that refuses each operation. Cancels, releases of funding,
# clearing a deallocation the custodian already unlocked, and confirming statements are never
# refused: they finish what was already under way.
_REFUSED_FROM = {
    Operation.TRADE: VenueState.TRADING_HALTED,
    Operation.ALLOCATE: VenueState.TRADING_HALTED,
    Operation.CLEAR_ALLOCATION: VenueState.INSOLVENT,
    Operation.DEALLOCATE: VenueState.WITHDRAWALS_PAUSED,
    Operation.WITHDRAW: VenueState.WITHDRAWALS_PAUSED,
    Operation.DEPOSIT: VenueState.INSOLVENT,
    Operation.OPEN_ACCOUNT: VenueState.INSOLVENT,
    Operation.ISSUE_STATEMENT: VenueState.INSOLVENT,
}


@dataclass(frozen=True)
class ListingSettings:
    """One market the venue lists, how its house quotes, and the path its reference price follows."""

    market: Market
    market_maker: MarketMakerSettings
    price_path: PricePathSpec = field(default_factory=PricePathSpec)


@dataclass(frozen=True)
class VenueSettings:
    """Everything that configures a venue: identity, seed, assets, its markets and the house quotes."""

    exchange_id: str
    seed: int
    assets: AssetScales
    listings: tuple[ListingSettings, ...]
    market_protection_bps: int = MARKET_PROTECTION_BPS_DEFAULT

    def __post_init__(self) -> None:
        assert self.listings, "a venue lists at least one market"
        names = [listing.market.name for listing in self.listings]
        assert len(set(names)) == len(names), "market names are unique"
        for listing in self.listings:
            market = listing.market
            for asset in (market.base_asset, market.quote_asset):
                assert asset in self.assets.scales, f"market asset {asset} is not configured"
            assert self.assets.scales[market.base_asset] == market.base_scale
            assert self.assets.scales[market.quote_asset] == market.quote_scale
        assert 0 < self.market_protection_bps < BASIS_POINTS_PER_WHOLE


class Listing:
    """One market as the venue trades it: its book, its house quotes and its market data counter."""

    def __init__(
        self,
        exchange_id: str,
        seed: int,
        settings: ListingSettings,
        reference_price_units: int,
        start_time_ms: int,
    ) -> None:
        self.market = settings.market
        self.settings = settings
        self.pricing = MarketPricing(
            settings.price_path,
            start_time_ms,
            reference_price_units,
            f"{seed}:{exchange_id}:{settings.market.name}",
            settings.market.tick_units,
        )
        self.book = OrderBook()
        self.market_maker = MarketMaker(
            exchange_id, settings.market, settings.market_maker, reference_price_units
        )
        # Every market data event of this market is numbered; the number survives restarts.
        self.market_data_sequence = 0
        self.last_trade_price_units: int | None = None
        # Hot-path constants read once per fill.
        self.base_units_per_whole = self.market.base_units_per_whole
        self.maker_fee_bps = self.market.maker_fee_bps
        self.taker_fee_bps = self.market.taker_fee_bps
        self.fee_bps_max = self.market.fee_bps_max

    @property
    def reference_price_units(self) -> int:
        """The price the house quotes around now."""
        return self.market_maker.reference_price_units


@dataclass
class VenueRecords:
    """A venue's durable state as loaded from storage; open orders in number (arrival) order."""

    accounts: list[Account] = field(default_factory=list)
    open_orders: list[Order] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)
    deallocations: list[Deallocation] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    statement_faults: list[StatementFault] = field(default_factory=list)
    claims: list[EstateClaim] = field(default_factory=list)
    client_order_ids: dict[tuple[str, str], int] = field(default_factory=dict)
    # Per market: (reference price, market data sequence, last trade price or None).
    market_states: dict[str, tuple[int, int, int | None]] = field(default_factory=dict)
    # Per market: the stored pricing (MarketPricing.to_json).
    pricing: dict[str, str] = field(default_factory=dict)
    last_trade_sequence: int = 0
    last_order_number: int = 0
    last_wallet_transfer_number: int = 0
    state: VenueState = VenueState.OPERATING
    state_time_ms: int = 0
    recovery_rate_bps: int = 0


class Venue:
    """One exchange: every command checks first and changes nothing when it refuses.

    Each successful command records what it touched in `changes`, which the service layer
    writes in the same transaction as the request log entry.
    """

    def __init__(self, settings: VenueSettings, start_time_ms: int = 0) -> None:
        self.settings = settings
        self.exchange_id = settings.exchange_id
        self.assets = settings.assets
        self.changes = VenueChanges()
        self.accounts = AccountRegistry(settings.exchange_id, self.changes)
        self.funding = Funding(self.accounts, settings.assets, self.changes)
        self.statement_ledger = StatementLedger(
            settings.exchange_id, settings.seed, settings.assets, self.accounts, self.changes
        )
        self.listings: dict[str, Listing] = {
            listing.market.name: Listing(
                settings.exchange_id,
                settings.seed,
                listing,
                listing.market.reference_price_units,
                start_time_ms,
            )
            for listing in settings.listings
        }
        self.markets: dict[str, Market] = {name: listing.market for name, listing in self.listings.items()}
        self.open_orders: dict[int, Order] = {}
        self.client_order_ids: dict[tuple[str, str], int] = {}
        self.claims: list[EstateClaim] = []
        self.state = VenueState.OPERATING
        self.state_time_ms = 0
        self.recovery_rate_bps = 0
        self.last_trade_sequence = 0
        self.last_order_number = 0
        self.last_wallet_transfer_number = 0
        self._fill_handler = self._fill
        self._cancel_resting_handler = self._cancel_resting
        self._match_time_ms = 0
        self._listing = next(iter(self.listings.values()))
        self._listing_list = list(self.listings.values())

    @classmethod
    def load(cls, settings: VenueSettings, records: VenueRecords, now_ms: int) -> Venue:
        """Rebuilds a venue from storage: accounts, the books in arrival order, funding, statements.

        A market without stored pricing (a new venue, or a market added to the configuration)
        starts its path now and records it.
        """
        venue = cls(settings, now_ms)
        for account in records.accounts:
            venue.accounts.add(account)
        for allocation in records.allocations:
            venue.funding.allocations[allocation.funding_id] = allocation
        for deallocation in records.deallocations:
            venue.funding.deallocations[deallocation.funding_id] = deallocation
        for statement in records.statements:
            venue.statement_ledger.add(statement)
        venue.statement_ledger.faults.extend(records.statement_faults)
        for name, (
            reference_price_units,
            market_data_sequence,
            last_price_units,
        ) in records.market_states.items():
            listing = venue.listings.get(name)
            if listing is None:
                continue  # A market dropped from the configuration keeps its history only.
            listing.market_maker = MarketMaker(
                venue.exchange_id, listing.market, listing.settings.market_maker, reference_price_units
            )
            listing.market_data_sequence = market_data_sequence
            listing.last_trade_price_units = last_price_units
        for name, listing in venue.listings.items():
            stored = records.pricing.get(name)
            if stored is None:
                venue.changes.pricing.add(name)
                venue.changes.markets.add(name)
            else:
                listing.pricing = MarketPricing.from_json(
                    stored, listing.pricing.seed_material, listing.market.tick_units
                )
        previous_number = 0
        for order in records.open_orders:
            assert order.number > previous_number, "open orders load in arrival order"
            assert (
                order.state is OrderState.OPEN
                and order.order_type is _LIMIT
                and order.price_units is not None
            )
            previous_number = order.number
            listing = venue.listings[order.market]
            if order.house:
                listing.market_maker.on_resting(order.price_units, order.remaining_units)
            else:
                account = venue.accounts.by_name(order.account)
                order.base_balance = account.balance(listing.market.base_asset)
                order.quote_balance = account.balance(listing.market.quote_asset)
            listing.book.add(order)
            venue.open_orders[order.number] = order
        for listing in venue.listings.values():
            listing.book.touched_bids.clear()
            listing.book.touched_asks.clear()
        venue.client_order_ids = dict(records.client_order_ids)
        venue.claims = list(records.claims)
        venue.last_trade_sequence = records.last_trade_sequence
        venue.last_order_number = records.last_order_number
        venue.last_wallet_transfer_number = records.last_wallet_transfer_number
        venue.state = records.state
        venue.state_time_ms = records.state_time_ms
        venue.recovery_rate_bps = records.recovery_rate_bps
        return venue

    def clear_changes(self) -> None:
        """Forgets what the last command changed, once it is written (or abandoned)."""
        self.changes.clear()
        for listing in self._listing_list:
            book = listing.book
            if book.touched_bids:
                book.touched_bids.clear()
            if book.touched_asks:
                book.touched_asks.clear()

    # State.

    def require(self, operation: Operation) -> None:
        """Refuses an operation the venue's state does not allow, with the state's stable reason."""
        state = self.state
        if state is _OPERATING:
            return
        refused_from = _REFUSED_FROM[operation]
        if _STATE_RANK[state] >= _STATE_RANK[refused_from]:
            reason = STATE_REFUSAL_REASONS[state]
            raise failed_precondition(
                reason,
                f"{self.exchange_id} is {state.value.lower().replace('_', ' ')}: {operation.value} "
                f"{'are' if operation.value.endswith('s') else 'is'} refused",
                exchange=f"exchanges/{self.exchange_id}",
                state=state.value,
            )

    def set_state(self, state: VenueState, recovery_rate_bps: int, now_ms: int) -> None:
        """Moves the venue to `state`: any later state, or back to OPERATING unless INSOLVENT.

        Entering INSOLVENT cancels every open order and turns every traditional balance into a
        claim on the estate at `recovery_rate_bps`; OES mirrors stay as they are, frozen, because
        the assets behind them never left the custodian. Setting the current state again changes
        nothing.
        """
        assert 0 <= recovery_rate_bps <= BASIS_POINTS_PER_WHOLE, "callers validate the rate"
        current = self.state
        if state is current:
            return
        if current is VenueState.INSOLVENT:
            raise failed_precondition(
                "EXCHANGE_INSOLVENT", f"{self.exchange_id} is insolvent; that state is final"
            )
        if state is not _OPERATING and _STATE_RANK[state] < _STATE_RANK[current]:
            raise failed_precondition(
                "VENUE_STATE_TRANSITION_INVALID",
                f"{self.exchange_id} cannot go from {current.value} back to {state.value}; only a return "
                "to OPERATING is allowed",
            )
        self.state = state
        self.state_time_ms = now_ms
        self.changes.venue_state_changed = True
        if state is VenueState.INSOLVENT:
            self.recovery_rate_bps = recovery_rate_bps
            self._wind_up(now_ms)
        self.changes.events.append(
            journal_entry(
                "VENUE_STATE",
                f"exchanges/{self.exchange_id}",
                state=state.value,
                previous_state=current.value,
                recovery_rate_bps=str(self.recovery_rate_bps),
            )
        )

    def _wind_up(self, now_ms: int) -> None:
        for order in sorted(self.open_orders.values(), key=lambda item: item.number):
            listing = self.listings[order.market]
            listing.book.remove(order)
            if order.house:
                listing.market_maker.on_fill(order.price_units or 0, order.remaining_units)
            self._finish(order, OrderState.CANCELLED, CancelReason.VENUE_INSOLVENT)
            self.changes.orders[order.number] = order
        for account in self.accounts.sorted_by_name():
            if account.custody_model is not CustodyModel.TRADITIONAL:
                continue
            for balance in account.sorted_balances():
                owed_units = balance.deposited_units
                if owed_units > 0:
                    claim = EstateClaim(account.name, balance.asset, owed_units, self.recovery_rate_bps)
                    self.claims.append(claim)
                    self.changes.claims.append(claim)
                # The balance is now the claim: nothing remains to trade or withdraw.
                balance.mirror_units = 0
                balance.unsettled_units = 0
                self.changes.balances.add(balance)

    def claims_of(self, account_name: str) -> list[EstateClaim]:
        """An account's claims on the estate, sorted by asset."""
        return sorted(
            (claim for claim in self.claims if claim.account == account_name), key=lambda claim: claim.asset
        )

    # Accounts.

    def open_connection(self, connection: str, now_ms: int) -> Account:
        """Opens the OES account of a connection (or returns the open one)."""
        account_name = self.accounts.parse_connection(connection)
        if self.accounts.find(account_name) is None:
            self.require(Operation.OPEN_ACCOUNT)
        return self.accounts.open(connection, now_ms)

    def open_traditional_account(self, account_name: str, now_ms: int) -> Account:
        """Opens a traditional account (or returns the open one)."""
        if self.accounts.find(account_name) is None:
            self.require(Operation.OPEN_ACCOUNT)
        return self.accounts.open_traditional(account_name, now_ms)

    def deposit(self, account_name: str, asset: str, amount_units: int, now_ms: int) -> Account:
        """Credits a deposit into a traditional account's wallet balance."""
        assert amount_units > 0, "callers parse positive amounts"
        account = self._traditional_account(account_name)
        self.require(Operation.DEPOSIT)
        balance = account.balance(asset)
        if balance.mirror_units + amount_units > UNITS_ABS_MAX:
            raise failed_precondition(
                "BALANCE_OUT_OF_RANGE",
                f"the {asset} balance would exceed the largest amount the sandbox holds",
            )
        balance.mirror_units += amount_units
        self._record_wallet_transfer(account, asset, WalletTransferKind.DEPOSIT, amount_units, now_ms)
        return account

    def withdraw(self, account_name: str, asset: str, amount_units: int, now_ms: int) -> Account:
        """Pays a withdrawal out of a traditional account's available balance."""
        assert amount_units > 0, "callers parse positive amounts"
        account = self._traditional_account(account_name)
        self.require(Operation.WITHDRAW)
        available_units = account.available_units(asset)
        if available_units < amount_units:
            raise failed_precondition(
                "INSUFFICIENT_BALANCE",
                f"{account.name} has {self.assets.format(asset, max(available_units, 0))} {asset} available; "
                f"the withdrawal needs {self.assets.format(asset, amount_units)}",
                account=account.name,
                asset=asset,
            )
        account.balance(asset).mirror_units -= amount_units
        self._record_wallet_transfer(account, asset, WalletTransferKind.WITHDRAWAL, amount_units, now_ms)
        return account

    def _traditional_account(self, account_name: str) -> Account:
        account = self.accounts.by_name(account_name)
        if account.custody_model is not CustodyModel.TRADITIONAL:
            raise failed_precondition(
                "ACCOUNT_IS_OES",
                f"{account_name} is an OES account: its assets stay at the custodian and move only by "
                "allocation and deallocation through the settlement network",
                account=account_name,
            )
        return account

    def _record_wallet_transfer(
        self, account: Account, asset: str, kind: WalletTransferKind, amount_units: int, now_ms: int
    ) -> None:
        if self.last_wallet_transfer_number >= WALLET_TRANSFERS_MAX:
            raise failed_precondition(
                "WALLET_TRANSFER_LIMIT_REACHED", f"the venue records at most {WALLET_TRANSFERS_MAX} transfers"
            )
        self.last_wallet_transfer_number += 1
        transfer = WalletTransfer(
            self.last_wallet_transfer_number, account.name, asset, kind, amount_units, now_ms
        )
        self.changes.wallet_transfers.append(transfer)
        self.changes.balances.add(account.balance(asset))
        self.changes.events.append(
            journal_entry(
                kind.value,
                account.name,
                asset=asset,
                amount=self.assets.format(asset, amount_units),
                number=str(transfer.number),
            )
        )

    # Trading.

    def market_named(self, market_name: str) -> Market:
        """Returns a market, or INVALID_ARGUMENT UNKNOWN_MARKET."""
        listing = self.listings.get(market_name)
        if listing is None:
            self._unknown_market(market_name)
        return listing.market

    def listing(self, market_name: str) -> Listing:
        """Returns a listing, or INVALID_ARGUMENT UNKNOWN_MARKET."""
        listing = self.listings.get(market_name)
        if listing is None:
            self._unknown_market(market_name)
        return listing

    def _unknown_market(self, market_name: str) -> NoReturn:
        known = ", ".join(sorted(self.listings))
        raise invalid_argument("UNKNOWN_MARKET", "market", f"unknown market {market_name!r}; known: {known}")

    def order_by_client_id(self, account_name: str, client_order_id: str) -> int | None:
        """The number of the account's order with that client order id, or None."""
        return self.client_order_ids.get((account_name, client_order_id))

    def place_order(
        self,
        account_name: str,
        market_name: str,
        side: Side,
        order_type: OrderType,
        price_units: int | None,
        quantity_units: int,
        now_ms: int,
        time_in_force: TimeInForce = _GOOD_TILL_CANCELLED,
        post_only: bool = False,
        protection_price_units: int | None = None,
        self_trade_prevention: SelfTradePrevention = _CANCEL_TAKER,
        client_order_id: str = "",
    ) -> Order:
        """Checks, matches and (for a resting limit order) books an order; returns it after matching.

        Pre-trade check against `available` (nothing changes when it fails): a limit buy holds
        its notional at the limit price plus the larger fee on it, a limit sell holds its
        quantity; a market buy needs what it would pay now up to its protection price (walking
        the book) plus the taker fee, a market sell its quantity. What does not rest is
        cancelled with a reason: the rest of a market or IOC order, an unfillable FOK order, a
        post-only order that would take, an order stopped by self-trade prevention.

        This is the hot path (see benchmarks/matching_throughput.py): checks are inlined and
        only call out to build an error.
        """
        listing = self.listings.get(market_name)
        if listing is None:
            self._unknown_market(market_name)
        market = listing.market
        book = listing.book
        if quantity_units % market.lot_units:
            market.check_quantity(quantity_units)
        is_limit = order_type is _LIMIT
        limit_price_units: int | None
        if is_limit:
            assert price_units is not None, "limit orders carry a price"
            assert protection_price_units is None, "limit orders carry no protection price"
            if price_units % market.tick_units:
                market.check_price(price_units)
            notional_units = price_units * quantity_units // listing.base_units_per_whole
            if notional_units > UNITS_ABS_MAX:
                market.check_notional(notional_units)
            if notional_units < market.min_notional_units:
                market.check_min_notional(notional_units)
            limit_price_units = price_units
        else:
            assert price_units is None, "market orders carry no price"
            assert not post_only, "market orders always take"
            # A market order is immediate whatever the caller passed.
            time_in_force = TimeInForce.IMMEDIATE_OR_CANCEL
            limit_price_units = self._protection_price(listing, side, protection_price_units)
        account = self.accounts.find(account_name)
        if account is None:
            account = self.accounts.by_name(account_name)
        if self.state is not _OPERATING:
            self.require(Operation.TRADE)
        if client_order_id and len(self.client_order_ids) >= CLIENT_ORDER_IDS_MAX:
            raise failed_precondition(
                "CLIENT_ORDER_ID_LIMIT_REACHED", f"the venue remembers at most {CLIENT_ORDER_IDS_MAX} ids"
            )
        balances = account.balances
        held_units = 0
        if side is _BUY:
            if is_limit:
                # Inlined fee_ceiling_units(notional_units, market.fee_bps_max).
                held_units = required_units = notional_units - (
                    -notional_units * listing.fee_bps_max // BASIS_POINTS_PER_WHOLE
                )
            else:
                notional_units = sum(
                    market.notional_units(price, units)
                    for price, units in book.fillable_levels(
                        side, quantity_units, limit_price_units, account.name, self_trade_prevention
                    )
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
            0,
            0,
            client_order_id,
            time_in_force,
            post_only,
            protection_price_units if is_limit else limit_price_units,
            self_trade_prevention,
        )
        if held_units:
            (quote_balance if side is _BUY else base_balance).held_units += held_units
        changes = self.changes
        changes.balances.add(base_balance)
        changes.balances.add(quote_balance)
        changes.orders[order.number] = order
        if client_order_id:
            self.client_order_ids[(account.name, client_order_id)] = order.number
        if post_only and price_units is not None and book.would_take(side, price_units):
            self._finish(order, OrderState.CANCELLED, CancelReason.POST_ONLY_WOULD_TAKE)
            return order
        if (
            time_in_force is _FILL_OR_KILL
            and book.fillable_units(order, limit_price_units, quantity_units) < quantity_units
        ):
            self._finish(order, OrderState.CANCELLED, CancelReason.FILL_OR_KILL_NOT_FILLABLE)
            return order
        self._match_time_ms = now_ms
        self._listing = listing
        prevented = limit_price_units is not None and book.match(
            order, limit_price_units, self._fill_handler, self._cancel_resting_handler
        )
        if order.filled_units == quantity_units:
            self._finish(order, _FILLED)
        elif prevented:
            self._finish(order, OrderState.CANCELLED, CancelReason.SELF_TRADE_PREVENTED)
        elif is_limit:
            if time_in_force is _GOOD_TILL_CANCELLED:
                book.add(order)
                self.open_orders[order.number] = order
            else:
                self._finish(order, OrderState.CANCELLED, CancelReason.IMMEDIATE_OR_CANCEL_REMAINDER)
        elif limit_price_units is not None and book.has_orders(Side.SELL if side is _BUY else _BUY):
            self._finish(order, OrderState.CANCELLED, CancelReason.PROTECTION_PRICE_REACHED)
        else:
            self._finish(order, OrderState.CANCELLED, CancelReason.MARKET_REMAINDER)
        if listing.market_maker.pending_prices:
            self._restore_ladder(listing, now_ms)
        return order

    def _protection_price(
        self, listing: Listing, side: Side, protection_price_units: int | None
    ) -> int | None:
        """A market order's worst price: the one given, or the best opposite price moved by the band.

        None when the opposite side is empty and no price was given: nothing can fill.
        """
        market = listing.market
        if protection_price_units is not None:
            if protection_price_units % market.tick_units:
                market.check_price(protection_price_units, "protection_price")
            return protection_price_units
        band_bps = self.settings.market_protection_bps
        tick_units = market.tick_units
        if side is _BUY:
            best_ask = listing.book.best_ask()
            if best_ask is None:
                return None
            return (
                best_ask
                * (BASIS_POINTS_PER_WHOLE + band_bps)
                // (BASIS_POINTS_PER_WHOLE * tick_units)
                * tick_units
            )
        best_bid = listing.book.best_bid()
        if best_bid is None:
            return None
        return max(
            tick_units,
            -(-best_bid * (BASIS_POINTS_PER_WHOLE - band_bps) // (BASIS_POINTS_PER_WHOLE * tick_units))
            * tick_units,
        )

    def open_order(self, number: int) -> Order | None:
        """Returns a resting order, or None when it is not open (finished or unknown)."""
        return self.open_orders.get(number)

    def cancel_order(
        self, order: Order, now_ms: int, reason: str = CancelReason.CANCELLED_BY_CLIENT
    ) -> Order:
        """Takes an open order off the book and releases what it still holds."""
        assert self.open_orders.get(order.number) is order, "only open orders are cancelled"
        listing = self.listings[order.market]
        listing.book.remove(order)
        if order.house:
            listing.market_maker.on_fill(order.price_units or 0, order.remaining_units)
        self._finish(order, OrderState.CANCELLED, reason)
        self.changes.orders[order.number] = order
        if not order.house:
            self._restore_ladder(listing, now_ms)
        return order

    def cancel_all_orders(self, account_name: str, market_name: str, now_ms: int) -> list[Order]:
        """Cancels every open order of an account (in one market, or all when `market_name` is empty)."""
        self.accounts.by_name(account_name)
        if market_name:
            self.market_named(market_name)
        cancelled = [
            order
            for order in sorted(self.open_orders.values(), key=lambda item: item.number)
            if order.account == account_name and (not market_name or order.market == market_name)
        ]
        for order in cancelled:
            self.cancel_order(order, now_ms)
        return cancelled

    def restore_ladder(self, now_ms: int) -> None:
        """Tops up the house quotes of every market (at start, after a reset)."""
        for listing in self.listings.values():
            self._restore_ladder(listing, now_ms)

    def requote(self, market_name: str, reference_price_units: int, now_ms: int) -> bool:
        """Moves the house quotes of a market to a new reference price; False when it did not move.

        House orders at prices the new ladder keeps stay (and keep their time priority); the
        others are cancelled (REQUOTED) and the missing levels are quoted afresh.
        """
        listing = self.listing(market_name)
        maker = listing.market_maker
        if reference_price_units == maker.reference_price_units:
            return False
        assert reference_price_units > 0 and reference_price_units % listing.market.tick_units == 0
        if self.state is VenueState.INSOLVENT:
            return False
        kept_levels = {
            (level.side, level.price_units)
            for level in ladder_levels(listing.market, maker.settings, reference_price_units)
        }
        new_maker = MarketMaker(self.exchange_id, listing.market, maker.settings, reference_price_units)
        for order in sorted(self.open_orders.values(), key=lambda item: item.number):
            if not order.house or order.market != market_name:
                continue
            assert order.price_units is not None
            if (order.side, order.price_units) in kept_levels:
                new_maker.on_resting(order.price_units, order.remaining_units)
            else:
                listing.book.remove(order)
                self._finish(order, OrderState.CANCELLED, CancelReason.REQUOTED)
                self.changes.orders[order.number] = order
        listing.market_maker = new_maker
        self.changes.markets.add(market_name)
        self._restore_ladder(listing, now_ms)
        return True

    def _restore_ladder(self, listing: Listing, now_ms: int) -> None:
        if self.state is VenueState.INSOLVENT:
            return
        maker = listing.market_maker
        market = listing.market
        book = listing.book
        for level in maker.shortfalls(book.best_bid(), book.best_ask()):
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
            book.add(order)
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

    def _finish(self, order: Order, state: OrderState, cancel_reason: str = "") -> None:
        order.state = state
        order.cancel_reason = cancel_reason
        if order.held_units:
            balance = order.quote_balance if order.side is _BUY else order.base_balance
            assert balance is not None
            balance.held_units -= order.held_units
            assert balance.held_units >= 0, "holds are released once"
            order.held_units = 0
        self.open_orders.pop(order.number, None)

    def _cancel_resting(self, order: Order) -> None:
        """A resting order self-trade prevention took off the book."""
        self._finish(order, OrderState.CANCELLED, CancelReason.SELF_TRADE_PREVENTED)
        self.changes.orders[order.number] = order

    def _fill(self, taker: Order, maker: Order, price_units: int, quantity_units: int) -> None:
        """Books one execution: quantities, fees, unsettled balances, holds and the trade."""
        listing = self._listing
        notional_units = price_units * quantity_units // listing.base_units_per_whole
        taker.filled_units += quantity_units
        maker.filled_units += quantity_units
        # The taker is always a client order: the house never crosses the book.
        taker_fee_units = _book_client_fill(taker, quantity_units, notional_units, listing.taker_fee_bps)
        changes = self.changes
        if maker.house:
            maker_fee_units = 0
            listing.market_maker.on_fill(price_units, quantity_units)
        else:
            maker_fee_units = _book_client_fill(maker, quantity_units, notional_units, listing.maker_fee_bps)
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
        listing.last_trade_price_units = price_units

    # Prices.

    def set_price_path(self, market_name: str, spec: PricePathSpec, now_ms: int) -> Listing:
        """Replaces a market's path from now on, starting from its current reference price."""
        listing = self.listing(market_name)
        if spec.kind is PricePathKind.CSV and not spec.csv_rows:
            raise invalid_argument("PRICE_CSV_INVALID", "path.csv", "the CSV file has no price rows")
        listing.pricing = listing.pricing.restarted(spec, now_ms)
        self.changes.pricing.add(market_name)
        self.changes.events.append(
            journal_entry(
                "PRICE_PATH",
                market_name,
                kind=spec.kind.value,
                start_price=self.markets[market_name].format_price(listing.pricing.start_price_units),
            )
        )
        self.requote_to_path(market_name, now_ms)
        return listing

    def add_price_fault(self, market_name: str, fault: PriceFault, now_ms: int) -> Listing:
        """Puts a shock or a stale price on a market's path; the house re-quotes at once."""
        listing = self.listing(market_name)
        listing.pricing = listing.pricing.with_fault(fault)
        self.changes.pricing.add(market_name)
        self.changes.events.append(
            journal_entry(
                "PRICE_FAULT",
                market_name,
                kind=type(fault).__name__,
                start_ms=str(fault.start_ms),
                detail=str(fault.change_ppm if isinstance(fault, ShockFault) else fault.end_ms),
            )
        )
        self.requote_to_path(market_name, now_ms)
        return listing

    def clear_price_faults(self, now_ms: int) -> int:
        """Ends every price fault of every market; returns how many were still active."""
        cleared = 0
        for name, listing in self.listings.items():
            if listing.pricing.faults:
                cleared += len(listing.pricing.active_faults(now_ms))
                listing.pricing = listing.pricing.without_faults()
                self.changes.pricing.add(name)
                self.requote_to_path(name, now_ms)
        return cleared

    def requote_to_path(self, market_name: str, now_ms: int) -> bool:
        """Moves the house quotes to the path's price now; False when the price has not moved."""
        listing = self.listing(market_name)
        return self.requote(market_name, listing.pricing.price_at(now_ms), now_ms)

    def stale_until_ms(self, market_name: str, now_ms: int) -> int | None:
        """End of the stale-price window a market is in now, if any."""
        ends = [
            fault.end_ms
            for fault in self.listing(market_name).pricing.faults
            if isinstance(fault, StaleFault) and fault.start_ms <= now_ms < fault.end_ms
        ]
        return max(ends) if ends else None

    # Funding, statements, reads.

    def arm_statement_fault(self, fault: StatementFault, now_ms: int) -> None:
        """Arms a fault for the next statements."""
        self.statement_ledger.arm(fault)
        self.changes.events.append(
            journal_entry(
                "STATEMENT_FAULT_ARMED",
                f"exchanges/{self.exchange_id}",
                kind=fault.kind.value,
                factor_ppm=str(fault.factor_ppm),
                statements_count=str(fault.statements_count),
            )
        )

    def clear_venue_faults(self, now_ms: int) -> int:
        """Disarms every statement fault and ends every price fault; returns how many there were."""
        cleared = self.statement_ledger.clear_faults() + self.clear_price_faults(now_ms)
        self.changes.events.append(
            journal_entry("VENUE_FAULTS_CLEARED", f"exchanges/{self.exchange_id}", cleared=str(cleared))
        )
        return cleared

    def issue_statement(self, cutoff_ms: int, tools: StatementTools) -> Statement:
        """Closes the period at the current trade sequence and signs the statement."""
        self.require(Operation.ISSUE_STATEMENT)
        return self.statement_ledger.issue(cutoff_ms, self.last_trade_sequence, tools)

    def confirm_statement(
        self, name: str, now_ms: int, settled_entries: Sequence[StatementEntry] | None = None
    ) -> Statement:
        """Re-bases the mirrors of an executed statement (only its settled entries when given)."""
        return self.statement_ledger.confirm(name, now_ms, settled_entries)

    def void_statement(self, name: str, reason: str) -> Statement:
        """Voids the latest statement, which the settlement network refused before execution."""
        return self.statement_ledger.void(name, reason)

    def apply_adjustment(
        self, connection: str, asset: str, amount_units: int, statement: str, now_ms: int
    ) -> Balance:
        """Moves a connection's mirror by an adjustment the custodian settled (`mirror += amount`)."""
        assert amount_units != 0, "callers refuse a zero adjustment"
        balance = self.accounts.by_connection(connection).balance(asset)
        balance.mirror_units += amount_units
        self.changes.balances.add(balance)
        self.changes.events.append(
            journal_entry(
                "ADJUSTMENT",
                connection,
                asset=asset,
                amount=self.assets.format(asset, amount_units),
                statement=statement,
            )
        )
        return balance

    def trade_effects(self, trade: Trade) -> dict[tuple[str, str], int]:
        """What one trade changed in the `unsettled` of OES connections, per (connection, asset)."""
        market = self.markets[trade.market]
        notional_units = market.notional_units(trade.price_units, trade.quantity_units)
        effects: dict[tuple[str, str], int] = {}
        for account_name, base_units, quote_units in (
            (trade.buyer_account, trade.quantity_units, -(notional_units + trade.buyer_fee_units)),
            (trade.seller_account, -trade.quantity_units, notional_units - trade.seller_fee_units),
        ):
            account = self.accounts.find(account_name)
            if account is None or account.custody_model is not CustodyModel.OES:
                continue
            for asset, units in ((market.base_asset, base_units), (market.quote_asset, quote_units)):
                key = (account.connection, asset)
                effects[key] = effects.get(key, 0) + units
        return effects

    def resting_orders(self) -> Iterable[Order]:
        """Every order on every book."""
        for listing in self.listings.values():
            yield from listing.book.orders()


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
