"""Market data: what one command changed in a market's book, trades and top of book, numbered per market."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from exchange_sim.domain.orders import Side, Trade
from exchange_sim.domain.venue import Listing


@dataclass(frozen=True)
class BookLevelChange:
    """A price level after a change: its total resting quantity (0 when gone) and order count."""

    side: Side
    price_units: int
    quantity_units: int
    order_count: int


@dataclass(frozen=True)
class TickerView:
    """Top of book and prices of a market; None where there is none."""

    best_bid_units: int | None
    best_ask_units: int | None
    last_price_units: int | None
    reference_price_units: int


@dataclass(frozen=True)
class MarketDataEvent:
    """One numbered market data event: exactly one of levels, trade or ticker is set."""

    market: str
    sequence: int
    time_ms: int
    levels: tuple[BookLevelChange, ...] = ()
    trade: Trade | None = None
    ticker: TickerView | None = None


def ticker_of(listing: Listing) -> TickerView:
    """The listing's ticker now."""
    return TickerView(
        listing.book.best_bid(),
        listing.book.best_ask(),
        listing.last_trade_price_units,
        listing.reference_price_units,
    )


def collect_market_data(
    listing: Listing, trades: Sequence[Trade], previous_ticker: TickerView | None, now_ms: int
) -> list[MarketDataEvent]:
    """The events of one command in one market: its book update, its trades, then a changed ticker.

    Numbers them from the listing's sequence and forgets the touched levels; events are in the
    order a client applies them (levels first, so a trade never refers to a level not yet seen).
    """
    book = listing.book
    levels = [
        BookLevelChange(Side.BUY, price, *book.level(Side.BUY, price))
        for price in sorted(book.touched_bids, reverse=True)
    ] + [
        BookLevelChange(Side.SELL, price, *book.level(Side.SELL, price))
        for price in sorted(book.touched_asks)
    ]
    book.touched_bids.clear()
    book.touched_asks.clear()
    events: list[MarketDataEvent] = []
    market = listing.market.name

    def next_sequence() -> int:
        listing.market_data_sequence += 1
        return listing.market_data_sequence

    if levels:
        events.append(MarketDataEvent(market, next_sequence(), now_ms, levels=tuple(levels)))
    for trade in trades:
        if trade.market == market:
            events.append(MarketDataEvent(market, next_sequence(), now_ms, trade=trade))
    ticker = ticker_of(listing)
    if ticker != previous_ticker:
        events.append(MarketDataEvent(market, next_sequence(), now_ms, ticker=ticker))
    return events
