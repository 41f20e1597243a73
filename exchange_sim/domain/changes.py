"""What a command changed, collected by the domain so the service layer writes exactly those rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from exchange_sim.domain.accounts import Account, Balance
    from exchange_sim.domain.funding import Allocation, Deallocation
    from exchange_sim.domain.orders import Order, Trade
    from exchange_sim.domain.statements import Statement


@dataclass
class VenueChanges:
    """Rows touched since the last `clear`: new accounts and trades, changed everything else."""

    accounts: list[Account] = field(default_factory=list)
    balances: set[Balance] = field(default_factory=set)
    orders: dict[int, Order] = field(default_factory=dict)
    trades: list[Trade] = field(default_factory=list)
    allocations: dict[str, Allocation] = field(default_factory=dict)
    deallocations: dict[str, Deallocation] = field(default_factory=dict)
    statements: dict[int, Statement] = field(default_factory=dict)

    def is_empty(self) -> bool:
        """Whether nothing changed."""
        return not (
            self.accounts
            or self.balances
            or self.orders
            or self.trades
            or self.allocations
            or self.deallocations
            or self.statements
        )

    def clear(self) -> None:
        """Forgets the collected changes once they are written (or the venue is rebuilt)."""
        self.accounts.clear()
        self.balances.clear()
        self.orders.clear()
        self.trades.clear()
        self.allocations.clear()
        self.deallocations.clear()
        self.statements.clear()
