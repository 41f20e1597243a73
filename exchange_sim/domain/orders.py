"""Orders and trades; mutable slot classes because the matching loop touches them millions of times."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from exchange_sim.domain.accounts import Balance


class Side(enum.Enum):
    """Buy or sell the base asset."""

    BUY = "BUY"
    SELL = "SELL"


class OrderType(enum.Enum):
    """How an order is priced."""

    LIMIT = "LIMIT"
    MARKET = "MARKET"


class OrderState(enum.Enum):
    """Lifecycle of an order."""

    OPEN = "OPEN"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"


class TimeInForce(enum.Enum):
    """How long a limit order may rest; market orders are always immediate (IOC)."""

    GOOD_TILL_CANCELLED = "GOOD_TILL_CANCELLED"
    IMMEDIATE_OR_CANCEL = "IMMEDIATE_OR_CANCEL"
    FILL_OR_KILL = "FILL_OR_KILL"


class SelfTradePrevention(enum.Enum):
    """What happens when an incoming order would trade against a resting order of the same account."""

    CANCEL_TAKER = "CANCEL_TAKER"
    CANCEL_MAKER = "CANCEL_MAKER"
    CANCEL_BOTH = "CANCEL_BOTH"


class CancelReason:
    """Stable reasons an order ended CANCELLED, as clients see them in `cancel_reason`."""

    CANCELLED_BY_CLIENT = "CANCELLED_BY_CLIENT"
    IMMEDIATE_OR_CANCEL_REMAINDER = "IMMEDIATE_OR_CANCEL_REMAINDER"
    MARKET_REMAINDER = "MARKET_REMAINDER"
    PROTECTION_PRICE_REACHED = "PROTECTION_PRICE_REACHED"
    FILL_OR_KILL_NOT_FILLABLE = "FILL_OR_KILL_NOT_FILLABLE"
    POST_ONLY_WOULD_TAKE = "POST_ONLY_WOULD_TAKE"
    SELF_TRADE_PREVENTED = "SELF_TRADE_PREVENTED"
    VENUE_INSOLVENT = "VENUE_INSOLVENT"
    REQUOTED = "REQUOTED"


class Order:
    """One order; `held_units` is what it still reserves (quote for a buy, base for a sell).

    Fees accumulate per order: the order owes ceil(Σ notional * bps / 10 000) quote units over
    all its fills, and each fill is charged the increment. `fee_credit` remembers, in
    ten-thousandths of a quote unit, how much the last upward rounding charged ahead, so an
    order is never charged more than one quote unit above its exact fee however many fills it
    gets, and a resting buy's hold (notional at the limit price plus the fee ceiling) always
    covers what its fills cost.
    """

    __slots__ = (
        "account",
        "base_balance",
        "cancel_reason",
        "client_order_id",
        "create_time_ms",
        "fee_credit",
        "fee_units",
        "filled_units",
        "held_units",
        "house",
        "market",
        "number",
        "order_type",
        "post_only",
        "price_units",
        "protection_price_units",
        "quantity_units",
        "quote_balance",
        "self_trade_prevention",
        "side",
        "state",
        "time_in_force",
    )

    def __init__(
        self,
        number: int,
        account: str,
        market: str,
        side: Side,
        order_type: OrderType,
        price_units: int | None,
        quantity_units: int,
        create_time_ms: int,
        house: bool = False,
        base_balance: Balance | None = None,
        quote_balance: Balance | None = None,
        filled_units: int = 0,
        state: OrderState = OrderState.OPEN,
        held_units: int = 0,
        fee_units: int = 0,
        fee_credit: int = 0,
        client_order_id: str = "",
        time_in_force: TimeInForce = TimeInForce.GOOD_TILL_CANCELLED,
        post_only: bool = False,
        protection_price_units: int | None = None,
        self_trade_prevention: SelfTradePrevention = SelfTradePrevention.CANCEL_TAKER,
        cancel_reason: str = "",
    ) -> None:
        self.number = number
        self.account = account
        self.market = market
        self.side = side
        self.order_type = order_type
        self.price_units = price_units
        self.quantity_units = quantity_units
        self.create_time_ms = create_time_ms
        self.house = house
        self.base_balance = base_balance
        self.quote_balance = quote_balance
        self.filled_units = filled_units
        self.state = state
        self.held_units = held_units
        self.fee_units = fee_units
        self.fee_credit = fee_credit
        self.client_order_id = client_order_id
        self.time_in_force = time_in_force
        self.post_only = post_only
        self.protection_price_units = protection_price_units
        self.self_trade_prevention = self_trade_prevention
        self.cancel_reason = cancel_reason

    @property
    def name(self) -> str:
        """Resource name, `orders/{number}`."""
        return order_name(self.number)

    @property
    def remaining_units(self) -> int:
        """Quantity not yet filled; for a finished order, what was cancelled."""
        return self.quantity_units - self.filled_units

    def __repr__(self) -> str:
        return (
            f"Order({self.number}, {self.account}, {self.side.value} {self.order_type.value} "
            f"{self.filled_units}/{self.quantity_units} @ {self.price_units}, {self.state.value})"
        )


@dataclass(slots=True)
class Trade:
    """One execution between a resting (maker) order and an incoming (taker) order."""

    sequence: int
    market: str
    price_units: int
    quantity_units: int
    buy_order_number: int
    sell_order_number: int
    maker_order_number: int
    buyer_account: str
    seller_account: str
    buyer_fee_units: int
    seller_fee_units: int
    trade_time_ms: int


def order_name(number: int) -> str:
    """Resource name of an order."""
    return f"orders/{number}"
