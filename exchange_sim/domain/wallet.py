"""The exchange's own wallet: traditional deposits and withdrawals, and claims on an insolvent estate."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from exchange_sim.domain.market import BASIS_POINTS_PER_WHOLE


class WalletTransferKind(enum.Enum):
    """Which way assets moved between the world and the exchange's wallet."""

    DEPOSIT = "DEPOSIT"
    WITHDRAWAL = "WITHDRAWAL"


@dataclass(frozen=True)
class WalletTransfer:
    """One deposit into or withdrawal out of a traditional account, numbered from 1."""

    number: int
    account: str
    asset: str
    kind: WalletTransferKind
    amount_units: int
    time_ms: int


@dataclass(frozen=True)
class EstateClaim:
    """What an insolvent venue owed a traditional account in one asset, and the share it pays back."""

    account: str
    asset: str
    amount_units: int
    recovery_rate_bps: int

    def __post_init__(self) -> None:
        assert self.amount_units > 0 and 0 <= self.recovery_rate_bps <= BASIS_POINTS_PER_WHOLE

    @property
    def recovered_units(self) -> int:
        """floor(amount * rate / 10 000): the estate never pays out more than it recovers."""
        return self.amount_units * self.recovery_rate_bps // BASIS_POINTS_PER_WHOLE
