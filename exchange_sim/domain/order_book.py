"""A price-time-priority limit order book: per price a queue in arrival order, per side a heap of prices."""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterator

from exchange_sim.domain.orders import Order, SelfTradePrevention, Side

# Called once per fill with (taker, maker, price_units, quantity_units); it must add the
# quantity to both orders' filled_units.
FillHandler = Callable[[Order, Order, int, int], None]
# Called with a resting order that self-trade prevention took off the book.
CancelHandler = Callable[[Order], None]

_BUY = Side.BUY
_CANCEL_TAKER = SelfTradePrevention.CANCEL_TAKER
_CANCEL_BOTH = SelfTradePrevention.CANCEL_BOTH


class _BookSide:
    """The resting orders of one side.

    `keys` is a heap of sort keys (the price for asks, minus the price for bids) so that the
    best price is always `keys[0]`. A level emptied by a cancel leaves its key in the heap
    until it reaches the top (lazy deletion); `keyed` records which prices have a key so a
    price never gets two, which keeps the heap no larger than the number of prices ever used
    since they last reached the top.
    """

    __slots__ = ("keyed", "keys", "levels", "sign")

    def __init__(self, sign: int) -> None:
        self.sign = sign
        self.levels: dict[int, deque[Order]] = {}
        self.keys: list[int] = []
        self.keyed: set[int] = set()

    def best_price(self) -> int | None:
        keys, levels, sign = self.keys, self.levels, self.sign
        while keys:
            price = keys[0] * sign
            if price in levels:
                return price
            heapq.heappop(keys)
            self.keyed.discard(price)
        return None

    def levels_in_order(self) -> Iterator[tuple[int, deque[Order]]]:
        """Yields (price, queue) best price first without disturbing the heap.

        A best-first walk of the binary heap: a node's children are never better than the node,
        so popping a small frontier heap of (key, index) visits the keys in order.
        """
        keys, levels, sign = self.keys, self.levels, self.sign
        if not keys:
            return
        key_count = len(keys)
        frontier = [(keys[0], 0)]
        while frontier:
            key, index = heapq.heappop(frontier)
            level = levels.get(key * sign)
            if level is not None:
                yield key * sign, level
            for child in (2 * index + 1, 2 * index + 2):
                if child < key_count:
                    heapq.heappush(frontier, (keys[child], child))


class OrderBook:
    """Resting limit orders of one market; matching consumes the best price, oldest order first."""

    def __init__(self) -> None:
        self._bids = _BookSide(-1)
        self._asks = _BookSide(1)
        self.resting_count = 0
        # Prices whose level changed since the market data was last collected, per side.
        self.touched_bids: set[int] = set()
        self.touched_asks: set[int] = set()

    def add(self, order: Order) -> None:
        """Rests a limit order behind every order already at its price."""
        price = order.price_units
        assert price is not None and order.remaining_units > 0
        if order.side is _BUY:
            side = self._bids
            self.touched_bids.add(price)
        else:
            side = self._asks
            self.touched_asks.add(price)
        level = side.levels.get(price)
        if level is None:
            side.levels[price] = deque((order,))
            if price not in side.keyed:
                heapq.heappush(side.keys, price * side.sign)
                side.keyed.add(price)
        else:
            level.append(order)
        self.resting_count += 1

    def remove(self, order: Order) -> None:
        """Takes a resting order off the book (a cancel)."""
        price = order.price_units
        assert price is not None
        if order.side is _BUY:
            side = self._bids
            self.touched_bids.add(price)
        else:
            side = self._asks
            self.touched_asks.add(price)
        level = side.levels[price]
        level.remove(order)
        if not level:
            del side.levels[price]
        self.resting_count -= 1

    def best_bid(self) -> int | None:
        """Highest resting buy price."""
        return self._bids.best_price()

    def best_ask(self) -> int | None:
        """Lowest resting sell price."""
        return self._asks.best_price()

    def match(
        self,
        taker: Order,
        limit_price_units: int | None,
        fill: FillHandler,
        cancel_resting: CancelHandler,
    ) -> bool:
        """Fills `taker` against the other side, best price first and oldest first within a price.

        Stops when the taker is filled, the other side is empty, or the next price is worse
        than `limit_price_units` (None: no limit). Returns True when self-trade prevention
        stopped it: the taker's rest must then be cancelled. A resting order of the taker's own
        account is never traded against; with CANCEL_MAKER or CANCEL_BOTH it is taken off the
        book and handed to `cancel_resting`.
        """
        if taker.side is _BUY:
            side, touched = self._asks, self.touched_asks
        else:
            side, touched = self._bids, self.touched_bids
        levels, keys, keyed, sign = side.levels, side.keys, side.keyed, side.sign
        limit_key = None if limit_price_units is None else limit_price_units * sign
        remaining = taker.quantity_units - taker.filled_units
        account = taker.account
        while remaining and keys:
            key = keys[0]
            price = key * sign
            level = levels.get(price)
            if level is None:
                heapq.heappop(keys)
                keyed.discard(price)
                continue
            if limit_key is not None and key > limit_key:
                return False
            touched.add(price)
            while True:
                maker = level[0]
                if maker.account == account:
                    prevention = taker.self_trade_prevention
                    if prevention is _CANCEL_TAKER:
                        return True
                    level.popleft()
                    self.resting_count -= 1
                    cancel_resting(maker)
                    if prevention is _CANCEL_BOTH:
                        if not level:
                            del levels[price]
                        return True
                else:
                    quantity = maker.quantity_units - maker.filled_units
                    if quantity > remaining:
                        quantity = remaining
                    fill(taker, maker, price, quantity)
                    remaining -= quantity
                    if maker.filled_units == maker.quantity_units:
                        level.popleft()
                        self.resting_count -= 1
                if not level:
                    del levels[price]
                    heapq.heappop(keys)
                    keyed.discard(price)
                    break
                if not remaining:
                    return False
        return False

    def would_take(self, side: Side, price_units: int) -> bool:
        """Whether a limit order at `price_units` would trade at once (post-only check)."""
        if side is _BUY:
            best_ask = self._asks.best_price()
            return best_ask is not None and best_ask <= price_units
        best_bid = self._bids.best_price()
        return best_bid is not None and best_bid >= price_units

    def fillable_units(self, taker: Order, limit_price_units: int | None, quantity_units_max: int) -> int:
        """How much of `taker` would fill now, up to `quantity_units_max` (fill-or-kill check).

        Self-trade prevention is honoured: with CANCEL_MAKER the taker's own resting orders are
        skipped, otherwise matching would stop at the first of them.
        """
        side = self._asks if taker.side is _BUY else self._bids
        skip_own = taker.self_trade_prevention is SelfTradePrevention.CANCEL_MAKER
        fillable_units = 0
        for price, level in side.levels_in_order():
            if limit_price_units is not None and (
                price > limit_price_units if taker.side is _BUY else price < limit_price_units
            ):
                break
            for order in level:
                if order.account == taker.account:
                    if skip_own:
                        continue
                    return fillable_units
                fillable_units += order.quantity_units - order.filled_units
                if fillable_units >= quantity_units_max:
                    return quantity_units_max
        return fillable_units

    def has_orders(self, side: Side) -> bool:
        """Whether one side has any resting order."""
        return (self._bids if side is _BUY else self._asks).best_price() is not None

    def level(self, side: Side, price_units: int) -> tuple[int, int]:
        """(total resting quantity, order count) at one price of one side; (0, 0) when empty."""
        level = (self._bids if side is _BUY else self._asks).levels.get(price_units)
        if not level:
            return 0, 0
        return sum(order.quantity_units - order.filled_units for order in level), len(level)

    def fillable_levels(
        self,
        taker_side: Side,
        quantity_units: int,
        limit_price_units: int | None = None,
        account: str = "",
        self_trade_prevention: SelfTradePrevention = _CANCEL_TAKER,
    ) -> list[tuple[int, int]]:
        """What a market order would take now, up to a limit price: (price, quantity) per level.

        Orders of `account` are never taken: with CANCEL_MAKER they are skipped, otherwise the
        walk stops at the first of them, as matching does.
        """
        side = self._asks if taker_side is _BUY else self._bids
        skip_own = self_trade_prevention is SelfTradePrevention.CANCEL_MAKER
        taken: list[tuple[int, int]] = []
        remaining = quantity_units
        for price, level in side.levels_in_order():
            if limit_price_units is not None and (
                price > limit_price_units if taker_side is _BUY else price < limit_price_units
            ):
                break
            level_units = 0
            stopped = False
            for order in level:
                if order.account == account:
                    if skip_own:
                        continue
                    stopped = True
                    break
                level_units += order.quantity_units - order.filled_units
                if level_units >= remaining:
                    break
            take_units = min(level_units, remaining)
            if take_units:
                taken.append((price, take_units))
            remaining -= take_units
            if not remaining or stopped:
                break
        return taken

    def depth(self, side: Side, levels_max: int) -> list[tuple[int, int, int]]:
        """Aggregated levels of one side, best first: (price, total quantity, order count)."""
        book_side = self._bids if side is _BUY else self._asks
        snapshot: list[tuple[int, int, int]] = []
        for price, level in book_side.levels_in_order():
            if len(snapshot) >= levels_max:
                break
            snapshot.append(
                (price, sum(order.quantity_units - order.filled_units for order in level), len(level))
            )
        return snapshot

    def orders(self) -> Iterator[Order]:
        """Every resting order, bids then asks, in no particular order between levels."""
        for side in (self._bids, self._asks):
            for level in side.levels.values():
                yield from level
