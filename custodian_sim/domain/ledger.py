"""The double-entry ledger: immutable balanced transfers with unique ids, and the balance rules."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from custodian_sim.domain.names import WORLD_CHAIN_ACCOUNT
from service_kit.errors import already_exists, failed_precondition
from service_kit.money import UNITS_ABS_MAX, AssetScales

# One posting never carries more transfers than this: a statement of 10,000 connections
# times a handful of assets stays well inside it.
TRANSFERS_PER_POSTING_MAX = 200_000

INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
TRANSFER_ID_CONFLICT = "TRANSFER_ID_CONFLICT"

# (account, asset): the key of one balance.
BalanceKey = tuple[str, str]


class TransferKind(enum.Enum):
    """Why a transfer happened."""

    DEPOSIT = "DEPOSIT"
    ALLOCATION_LOCK = "ALLOCATION_LOCK"
    ALLOCATION_UNLOCK = "ALLOCATION_UNLOCK"
    SETTLEMENT_LOSS = "SETTLEMENT_LOSS"
    SETTLEMENT_GAIN = "SETTLEMENT_GAIN"
    WITHDRAWAL_RESERVE = "WITHDRAWAL_RESERVE"
    WITHDRAWAL_CONFIRM = "WITHDRAWAL_CONFIRM"
    WITHDRAWAL_CANCEL = "WITHDRAWAL_CANCEL"
    # A RESERVED allocation compensated by ReleaseAllocation.
    ALLOCATION_RELEASE = "ALLOCATION_RELEASE"
    # An allocated balance returned to the client by the exchange default procedure.
    DEFAULT_RELEASE = "DEFAULT_RELEASE"


# Slotted: a statement execution builds one per entry.
@dataclass(frozen=True, slots=True)
class Transfer:
    """A positive amount of one asset moved from one account to another; never changed once posted."""

    id: str
    from_account: str
    to_account: str
    asset: str
    amount_units: int
    kind: TransferKind
    # What caused it: a connection, a statement, a deposit's owner.
    reference: str
    create_time_ms: int

    def __post_init__(self) -> None:
        assert self.id, "transfer ids are chosen by the caller and never empty"
        assert 0 < self.amount_units <= UNITS_ABS_MAX, f"transfer {self.id} amount {self.amount_units}"
        assert self.from_account != self.to_account, f"transfer {self.id} moves nothing"

    def same_content(self, other: Transfer) -> bool:
        """Whether `other` asks for exactly this movement; the time of a retry does not matter."""
        return (
            self.id,
            self.from_account,
            self.to_account,
            self.asset,
            self.amount_units,
            self.kind,
            self.reference,
        ) == (
            other.id,
            other.from_account,
            other.to_account,
            other.asset,
            other.amount_units,
            other.kind,
            other.reference,
        )


def may_go_negative(account: str) -> bool:
    """Only the outside world goes negative: deposits come from it."""
    return account == WORLD_CHAIN_ACCOUNT


def balance_keys(transfers: Iterable[Transfer]) -> set[BalanceKey]:
    """Every balance the transfers touch."""
    keys: set[BalanceKey] = set()
    for transfer in transfers:
        keys.add((transfer.from_account, transfer.asset))
        keys.add((transfer.to_account, transfer.asset))
    return keys


@dataclass(frozen=True)
class Posting:
    """What applying a group of linked transfers changes: the new transfers and the balances after."""

    transfers: tuple[Transfer, ...]
    balances: Mapping[BalanceKey, int]

    @property
    def is_empty(self) -> bool:
        """True when every transfer had been posted before: a retry that changes nothing."""
        return not self.transfers


def post(
    transfers: Sequence[Transfer],
    recorded: Mapping[str, Transfer],
    balances: Mapping[BalanceKey, int],
    assets: AssetScales,
) -> Posting:
    """Applies linked transfers in order, all or nothing.

    `recorded` holds every already-posted transfer whose id appears in `transfers`, and
    `balances` the current balance of every touched account (absent means zero). A transfer
    posted before with the same content is skipped; with other content it is refused. No
    account except the chain may go negative at any point of the sequence.
    """
    assert len(transfers) <= TRANSFERS_PER_POSTING_MAX, f"{len(transfers)} transfers in one posting"
    seen: dict[str, Transfer] = dict(recorded)
    after: dict[BalanceKey, int] = {}
    new_transfers: list[Transfer] = []
    for transfer in transfers:
        previous = seen.get(transfer.id)
        if previous is not None:
            if not previous.same_content(transfer):
                raise already_exists(
                    TRANSFER_ID_CONFLICT,
                    f"transfer {transfer.id} was already posted with other content "
                    f"({previous.amount_units} units of {previous.asset} from {previous.from_account} "
                    f"to {previous.to_account}); transfer ids are never reused",
                    transfer_id=transfer.id,
                )
            continue
        source_key = (transfer.from_account, transfer.asset)
        target_key = (transfer.to_account, transfer.asset)
        source_units = after.get(source_key, balances.get(source_key, 0))
        if source_units < transfer.amount_units and not may_go_negative(transfer.from_account):
            raise failed_precondition(
                INSUFFICIENT_BALANCE,
                f"{transfer.from_account} holds {assets.format(transfer.asset, source_units)} "
                f"{transfer.asset}, less than the {assets.format(transfer.asset, transfer.amount_units)} "
                f"{transfer.asset} to move",
                account=transfer.from_account,
                asset=transfer.asset,
                balance=assets.format(transfer.asset, source_units),
                amount=assets.format(transfer.asset, transfer.amount_units),
            )
        after[source_key] = source_units - transfer.amount_units
        after[target_key] = after.get(target_key, balances.get(target_key, 0)) + transfer.amount_units
        seen[transfer.id] = transfer
        new_transfers.append(transfer)
    return Posting(tuple(new_transfers), after)
