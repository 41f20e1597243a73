"""What a command changed, collected by the domain so the service layer writes exactly those rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from exchange_sim.domain.accounts import Account, Balance
    from exchange_sim.domain.funding import Allocation, Deallocation
    from exchange_sim.domain.journal import JournalEntry
    from exchange_sim.domain.orders import Order, Trade
    from exchange_sim.domain.statements import Statement
    from exchange_sim.domain.wallet import EstateClaim, WalletTransfer


@dataclass
class VenueChanges:
    """Rows touched since the last `clear`: new accounts and trades, changed everything else.

    `events` holds the journal entries a command states outright (a state change, a deposit);
    the rest of the journal is derived from the rows themselves when they are written.
    """

    accounts: list[Account] = field(default_factory=list)
    balances: set[Balance] = field(default_factory=set)
    orders: dict[int, Order] = field(default_factory=dict)
    trades: list[Trade] = field(default_factory=list)
    allocations: dict[str, Allocation] = field(default_factory=dict)
    deallocations: dict[str, Deallocation] = field(default_factory=dict)
    statements: dict[int, Statement] = field(default_factory=dict)
    wallet_transfers: list[WalletTransfer] = field(default_factory=list)
    claims: list[EstateClaim] = field(default_factory=list)
    events: list[JournalEntry] = field(default_factory=list)
    # Markets whose reference price or market data sequence changed, and whose pricing changed.
    markets: set[str] = field(default_factory=set)
    pricing: set[str] = field(default_factory=set)
    statement_faults_changed: bool = False
    venue_state_changed: bool = False

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
            or self.wallet_transfers
            or self.claims
            or self.events
            or self.markets
            or self.pricing
            or self.statement_faults_changed
            or self.venue_state_changed
        )

    def clear(self) -> None:
        """Forgets the collected changes once they are written (or the venue is rebuilt).

        Only what is non-empty is cleared: this runs after every order, and a trade touches
        three or four of the collections.
        """
        if self.balances:
            self.balances.clear()
        if self.orders:
            self.orders.clear()
        if self.trades:
            self.trades.clear()
        if self.events:
            self.events.clear()
        if self.accounts:
            self.accounts.clear()
        if self.allocations:
            self.allocations.clear()
        if self.deallocations:
            self.deallocations.clear()
        if self.statements:
            self.statements.clear()
        if self.wallet_transfers:
            self.wallet_transfers.clear()
        if self.claims:
            self.claims.clear()
        if self.markets:
            self.markets.clear()
        if self.pricing:
            self.pricing.clear()
        self.statement_faults_changed = False
        self.venue_state_changed = False
