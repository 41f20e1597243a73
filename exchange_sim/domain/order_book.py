"""A price-time-priority limit order book: per price a queue in arrival order, per side a heap of prices."""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterator

from exchange_sim.domain.orders import Order, Side

# Called once per fill with (taker, maker, price_units, quantity_units); it must add the
# quantity to both orders' filled_units.
FillHandler = Callable[[Order, Order, int, int], None]

_BUY = Side.BUY


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

    def add(self, order: Order) -> None:
        """Rests a limit order behind every order already at its price."""
        price = order.price_units
        assert price is not None and order.remaining_units > 0
        side = self._bids if order.side is _BUY else self._asks
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
        side = self._bids if order.side is _BUY else self._asks
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

    def match(self, taker: Order, limit_price_units: int | None, fill: FillHandler) -> None:
        """Fills `taker` against the other side, best price first and oldest first within a price.

        Stops when the taker is filled, the other side is empty, or the next price is worse
        than `limit_price_units` (None: no limit, a market order).
        """
        side = self._asks if taker.side is _BUY else self._bids
        levels, keys, keyed, sign = side.levels, side.keys, side.keyed, side.sign
        limit_key = None if limit_price_units is None else limit_price_units * sign
        remaining = taker.quantity_units - taker.filled_units
        while remaining and keys:
            key = keys[0]
            price = key * sign
            level = levels.get(price)
            if level is None:
                heapq.heappop(keys)
                keyed.discard(price)
                continue
            if limit_key is not None and key > limit_key:
                return
            while True:
                maker = level[0]
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
                    return

    def fillable_levels(self, taker_side: Side, quantity_units: int) -> list[tuple[int, int]]:
        """What a market order of `quantity_units` would take now: (price, quantity) per level."""
        side = self._asks if taker_side is _BUY else self._bids
        taken: list[tuple[int, int]] = []
        remaining = quantity_units
        for price, level in side.levels_in_order():
            level_units = 0
            for order in level:
                level_units += order.quantity_units - order.filled_units
                if level_units >= remaining:
                    break
            take_units = min(level_units, remaining)
            taken.append((price, take_units))
            remaining -= take_units
            if not remaining:
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
