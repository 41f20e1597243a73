"""What the use cases need from the outside: durable storage in units of work, and a statement signer."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from google.protobuf.message import Message

from exchange_sim.domain.changes import VenueChanges
from exchange_sim.domain.journal import JournalEntry
from exchange_sim.domain.orders import (
    Order,
    OrderState,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
    Trade,
)
from exchange_sim.domain.venue import Venue, VenueRecords
from service_kit.commit_signal import CommitSignal
from service_kit.idempotency import HasRequestId
from service_kit.journal import JournalRecord
from service_kit.statement import StatementContent

ResponseT = TypeVar("ResponseT", bound=Message)


@dataclass(frozen=True)
class FillView:
    """One fill of an order, from that order's point of view."""

    trade_sequence: int
    price_units: int
    quantity_units: int
    fee_units: int
    maker: bool
    trade_time_ms: int


@dataclass(frozen=True)
class OrderView:
    """An order as a client reads it, with its fills oldest first."""

    number: int
    account: str
    market: str
    side: Side
    order_type: OrderType
    price_units: int | None
    quantity_units: int
    filled_units: int
    state: OrderState
    create_time_ms: int
    fills: tuple[FillView, ...]
    client_order_id: str = ""
    time_in_force: TimeInForce = TimeInForce.GOOD_TILL_CANCELLED
    post_only: bool = False
    protection_price_units: int | None = None
    self_trade_prevention: SelfTradePrevention = SelfTradePrevention.CANCEL_TAKER
    cancel_reason: str = ""
    fee_units: int = 0


def order_view(order: Order, fills: Iterable[FillView]) -> OrderView:
    """A snapshot of a domain order with the given fills."""
    return OrderView(
        order.number,
        order.account,
        order.market,
        order.side,
        order.order_type,
        order.price_units,
        order.quantity_units,
        order.filled_units,
        order.state,
        order.create_time_ms,
        tuple(fills),
        order.client_order_id,
        order.time_in_force,
        order.post_only,
        order.protection_price_units,
        order.self_trade_prevention,
        order.cancel_reason,
        order.fee_units,
    )


class VenueWriter(Protocol):
    """The open unit of work of one command."""

    def save(self, changes: VenueChanges, venue: Venue) -> None:
        """Writes every row the command touched."""
        ...

    def append_journal(self, entries: Sequence[JournalEntry], time_ms: int) -> None:
        """Appends the command's journal entries."""
        ...

    def find_order(self, number: int) -> OrderView | None:
        """Reads an order with its fills inside the unit of work."""
        ...


class VenueStore(Protocol):
    """Durable state of the venue."""

    def load(self) -> VenueRecords:
        """Reads everything the in-memory venue is rebuilt from."""
        ...

    def run_command(
        self,
        method: str,
        request: HasRequestId,
        response_type: type[ResponseT],
        handler: Callable[[VenueWriter], ResponseT],
    ) -> ResponseT:
        """Runs `handler` and records its response under the request_id, in one transaction.

        A retry with the same request_id returns the recorded response without calling `handler`.
        """
        ...

    def run_internal(self, handler: Callable[[VenueWriter], None]) -> None:
        """Runs `handler` in a transaction that answers no request (start-up work)."""
        ...

    def find_order(self, number: int) -> OrderView | None:
        """Reads a committed order with its fills."""
        ...

    def list_orders(
        self, account: str, open_only: bool, market: str, before_number: int, limit: int
    ) -> list[OrderView]:
        """An account's orders numbered below `before_number`, newest first."""
        ...

    def list_trades(self, account: str, before_sequence: int, limit: int) -> list[Trade]:
        """An account's trades below `before_sequence`, newest first."""
        ...

    def find_trade(self, sequence: int) -> Trade | None:
        """One committed trade."""
        ...

    @property
    def commit_signal(self) -> CommitSignal:
        """Wakes journal streams after a commit appended events."""
        ...

    def read_journal(self, after_sequence: int, limit: int) -> list[JournalRecord]:
        """Journal records after a sequence number."""
        ...

    def last_journal_sequence(self) -> int:
        """The newest journal sequence number."""
        ...

    def delete_everything(self) -> None:
        """Empties the store (the control service's Reset)."""
        ...


class StatementSigner(Protocol):
    """The exchange's statement key."""

    def sign(self, content: StatementContent) -> bytes:
        """Signs a statement's canonical bytes."""
        ...

    def sign_with_wrong_key(self, content: StatementContent) -> bytes:
        """Signs with a key that is not the venue's (the WRONG_KEY statement fault)."""
        ...

    def public_key(self) -> bytes:
        """The raw 32-byte public key that verifies the signatures."""
        ...
