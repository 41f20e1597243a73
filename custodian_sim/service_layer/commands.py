"""Validated inputs of the use cases and what they return; plain data."""

from __future__ import annotations

from dataclasses import dataclass

from custodian_sim.domain.allocation_lifecycle import Allocation
from custodian_sim.domain.names import ConnectionName
from custodian_sim.domain.parties import PartyKind
from custodian_sim.domain.reserves import AssetReserves
from custodian_sim.service_layer.ports import PostedTransfer


@dataclass(frozen=True)
class CreateParty:
    """Register a client or an exchange."""

    name: str
    kind: PartyKind
    display_name: str


@dataclass(frozen=True)
class RegisterExchangeKey:
    """Record (or replace) an exchange's statement key."""

    exchange: str
    public_key: bytes


@dataclass(frozen=True)
class SimulateDeposit:
    """Book an amount arriving from the chain for a party; at most once per deposit id."""

    deposit_id: str
    owner: str
    asset: str
    amount_units: int

    def __post_init__(self) -> None:
        assert self.amount_units > 0


@dataclass(frozen=True)
class LockAllocation:
    """Lock part of a client's available balance for a connection; at most once per allocation id."""

    connection: ConnectionName
    allocation_id: str
    asset: str
    amount_units: int

    def __post_init__(self) -> None:
        assert self.amount_units > 0


@dataclass(frozen=True)
class UnlockAllocation:
    """Return part of an allocation to the client; at most once per unlock id."""

    connection: ConnectionName
    unlock_id: str
    asset: str
    amount_units: int

    def __post_init__(self) -> None:
        assert self.amount_units > 0


@dataclass(frozen=True)
class DepositResult:
    """The deposit as booked."""

    transfer_id: str
    account: str
    asset: str
    balance_units: int


@dataclass(frozen=True)
class AllocationResult:
    """A lock, release or unlock as booked, and the connection's allocated balance afterwards."""

    transfer_id: str
    asset: str
    allocated_units: int
    # The allocation a lock or release acted on; None for an unlock, which has no allocation.
    allocation: Allocation | None = None


@dataclass(frozen=True)
class TransferPage:
    """One page of the journal, and where the next page starts (None after the last page)."""

    transfers: tuple[PostedTransfer, ...]
    next_after_sequence: int | None


@dataclass(frozen=True)
class ReservesReport:
    """The proof of reserves at one sandbox time."""

    report_time_ms: int
    reserves: tuple[AssetReserves, ...]
