"""Port of the settlement use cases for claims: what failed entries leave owed between parties."""

from __future__ import annotations

from typing import Protocol

from custodian_sim.domain.entry_outcomes import Claim, ClaimClosure


class ClaimRepository(Protocol):
    """Recorded claims; a claim is appended once and never changed, and closed at most once."""

    def next_number(self) -> int:
        """The number the next claim gets: one more than the highest recorded, 1 for the first."""
        ...

    def add(self, claim: Claim) -> None:
        """Records a new claim."""
        ...

    def list_after(self, party: str | None, after_number: int, limit: int) -> list[Claim]:
        """Up to `limit` claims numbered after `after_number`, oldest first.

        Only those where `party` is creditor or debtor, unless it is None.
        """
        ...

    def open_for_exchange(self, exchange: str) -> list[Claim]:
        """Every open claim left by statements of `exchange` (`exchanges/{exchange}`), oldest first."""
        ...

    def close(self, closure: ClaimClosure, close_time_ms: int) -> None:
        """Appends how an open claim was closed."""
        ...
