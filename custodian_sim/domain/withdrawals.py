"""Withdrawals: whitelisted addresses, the approval policy, and a withdrawal's life until confirmed."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from custodian_sim.domain.ledger import Transfer, TransferKind
from custodian_sim.domain.names import (
    CLIENTS,
    NAME_INVALID,
    WORLD_CHAIN_ACCOUNT,
    available_account,
    client_name,
    withdrawing_account,
)
from service_kit.auth import IDENTIFIER_PATTERN, Principal
from service_kit.errors import (
    already_exists,
    failed_precondition,
    invalid_argument,
    not_found,
    permission_denied,
)
from service_kit.money import AssetScales, parse_units

# On-chain addresses are visible ASCII only: no spaces, no control characters and no
# look-alike Unicode letters that would let one address pass for another.
ADDRESS_PATTERN = re.compile(r"[\x21-\x7e]{1,128}")
LABEL_LENGTH_MAX = 64
# A client keeps a short list of destinations; the bound keeps listing and matching cheap.
WHITELIST_ADDRESSES_PER_CLIENT_MAX = 1_000
# More approvers than this is a configuration mistake, not a policy.
APPROVERS_PER_POLICY_MAX = 32
# ListWithdrawals has no pages: it returns at most this many, the newest.
WITHDRAWALS_LISTED_MAX = 1_000

WHITELIST_ADDRESSES = "whitelistAddresses"
WITHDRAWALS = "withdrawals"
WITHDRAWAL_POLICY = "withdrawalPolicy"

ADDRESS_NOT_WHITELISTED = "ADDRESS_NOT_WHITELISTED"
ADDRESS_COOLING_OFF = "ADDRESS_COOLING_OFF"
WHITELIST_ADDRESS_EXISTS = "WHITELIST_ADDRESS_EXISTS"
WHITELIST_FULL = "WHITELIST_FULL"
WITHDRAWAL_NOT_FOUND = "WITHDRAWAL_NOT_FOUND"
WITHDRAWAL_NOT_PENDING = "WITHDRAWAL_NOT_PENDING"
WITHDRAWAL_ALREADY_BROADCAST = "WITHDRAWAL_ALREADY_BROADCAST"
NOT_AN_APPROVER = "NOT_AN_APPROVER"

_NUMBER_PATTERN = re.compile(r"[1-9][0-9]{0,17}")


def _parse_numbered_name(name: str, collection: str, field_name: str) -> tuple[str, int]:
    """Parses `clients/{client}/{collection}/{number}` into the client id and the number."""
    parts = name.split("/")
    if (
        len(parts) != 4
        or parts[0] != CLIENTS
        or parts[2] != collection
        or not IDENTIFIER_PATTERN.fullmatch(parts[1])
        or not _NUMBER_PATTERN.fullmatch(parts[3])
    ):
        raise invalid_argument(
            NAME_INVALID, field_name, f"{name!r} is not a name such as 'clients/acme/{collection}/1'"
        )
    return parts[1], int(parts[3])


@dataclass(frozen=True, order=True)
class WhitelistAddressName:
    """`clients/{client}/whitelistAddresses/{number}`, numbered from 1 per client."""

    client_id: str
    number: int

    def __post_init__(self) -> None:
        assert IDENTIFIER_PATTERN.fullmatch(self.client_id), self.client_id
        assert self.number >= 1, self.number

    @property
    def name(self) -> str:
        """The resource name."""
        return f"{CLIENTS}/{self.client_id}/{WHITELIST_ADDRESSES}/{self.number}"

    @property
    def client(self) -> str:
        """The owning client's resource name."""
        return client_name(self.client_id)

    @staticmethod
    def parse(name: str, field_name: str) -> WhitelistAddressName:
        """Parses a whitelist address name, or raises INVALID_ARGUMENT naming the field."""
        return WhitelistAddressName(*_parse_numbered_name(name, WHITELIST_ADDRESSES, field_name))


@dataclass(frozen=True, order=True)
class WithdrawalName:
    """`clients/{client}/withdrawals/{number}`, numbered from 1 per client."""

    client_id: str
    number: int

    def __post_init__(self) -> None:
        assert IDENTIFIER_PATTERN.fullmatch(self.client_id), self.client_id
        assert self.number >= 1, self.number

    @property
    def name(self) -> str:
        """The resource name."""
        return f"{CLIENTS}/{self.client_id}/{WITHDRAWALS}/{self.number}"

    @property
    def client(self) -> str:
        """The owning client's resource name."""
        return client_name(self.client_id)

    @staticmethod
    def parse(name: str, field_name: str) -> WithdrawalName:
        """Parses a withdrawal name, or raises INVALID_ARGUMENT naming the field."""
        return WithdrawalName(*_parse_numbered_name(name, WITHDRAWALS, field_name))


# Whitelist.


class WhitelistAddressState(enum.Enum):
    """Whether a whitelisted address may receive withdrawals yet; computed from the clock."""

    COOLING_OFF = "COOLING_OFF"
    ACTIVE = "ACTIVE"


def check_address(address: str, field_name: str) -> str:
    """An on-chain address: 1 to 128 visible ASCII characters."""
    if not ADDRESS_PATTERN.fullmatch(address):
        raise invalid_argument(
            "ADDRESS_INVALID",
            field_name,
            "must be 1-128 visible ASCII characters (no spaces or control characters)",
        )
    return address


def check_label(label: str, field_name: str) -> str:
    """A human-readable label: at most 64 printable characters, possibly empty."""
    if len(label) > LABEL_LENGTH_MAX or not label.isprintable():
        raise invalid_argument(
            "LABEL_INVALID", field_name, f"must be at most {LABEL_LENGTH_MAX} printable characters"
        )
    return label


@dataclass(frozen=True)
class WhitelistAddress:
    """A destination a client has whitelisted for one asset; never changed once added."""

    name: WhitelistAddressName
    asset: str
    address: str
    label: str
    create_time_ms: int
    usable_time_ms: int

    def __post_init__(self) -> None:
        assert ADDRESS_PATTERN.fullmatch(self.address), self.address
        assert self.usable_time_ms >= self.create_time_ms

    def state(self, now_ms: int) -> WhitelistAddressState:
        """COOLING_OFF until the usable time, ACTIVE from then on."""
        if now_ms < self.usable_time_ms:
            return WhitelistAddressState.COOLING_OFF
        return WhitelistAddressState.ACTIVE


def new_whitelist_address(
    name: WhitelistAddressName, asset: str, address: str, label: str, now_ms: int, cooling_off_ms: int
) -> WhitelistAddress:
    """A new address starts its cooling-off period now."""
    assert cooling_off_ms >= 0
    return WhitelistAddress(name, asset, address, label, now_ms, now_ms + cooling_off_ms)


def check_whitelist_room(client: str, count: int) -> None:
    """Refuses another address once the client's whitelist is full."""
    if count >= WHITELIST_ADDRESSES_PER_CLIENT_MAX:
        raise failed_precondition(
            WHITELIST_FULL,
            f"{client} already has {count} whitelisted addresses, the most a client may keep",
            client=client,
        )


def check_not_whitelisted(existing: WhitelistAddress | None, asset: str, address: str) -> None:
    """An address is whitelisted once per asset; adding it again would restart nothing."""
    if existing is not None:
        raise already_exists(
            WHITELIST_ADDRESS_EXISTS,
            f"{address!r} is already whitelisted for {asset} as {existing.name.name}",
            whitelist_address=existing.name.name,
        )


def require_usable_address(
    entry: WhitelistAddress | None, client: str, asset: str, address: str, now_ms: int
) -> WhitelistAddress:
    """The destination must be on the client's whitelist for the asset and past its cooling-off."""
    if entry is None:
        raise failed_precondition(
            ADDRESS_NOT_WHITELISTED,
            f"{address!r} is not on {client}'s whitelist for {asset}; add it with CreateWhitelistAddress "
            "and wait for the cooling-off period",
            client=client,
            asset=asset,
            address=address,
        )
    if entry.state(now_ms) is WhitelistAddressState.COOLING_OFF:
        raise failed_precondition(
            ADDRESS_COOLING_OFF,
            f"{entry.name.name} is cooling off until {entry.usable_time_ms} ms; a new address is usable "
            "only after its cooling-off period",
            whitelist_address=entry.name.name,
            usable_time_ms=str(entry.usable_time_ms),
        )
    return entry


# Approval policy.


@dataclass(frozen=True)
class WithdrawalPolicy:
    """A client's approval policy: above an asset's threshold, `quorum` of the approvers must approve."""

    client: str
    # Asset to threshold units; withdrawals strictly above need the quorum. Unlisted assets need none.
    thresholds: Mapping[str, int]
    approvers: tuple[str, ...]
    quorum: int

    def __post_init__(self) -> None:
        assert 1 <= self.quorum <= len(self.approvers), self.quorum
        assert len(set(self.approvers)) == len(self.approvers), self.approvers
        assert all(units > 0 for units in self.thresholds.values()), self.thresholds

    def approvals_required(self, asset: str, amount_units: int) -> int:
        """How many approvals a new withdrawal of this amount needs: 0 at or below the threshold."""
        threshold_units = self.thresholds.get(asset)
        if threshold_units is None or amount_units <= threshold_units:
            return 0
        return self.quorum

    def describe(self, assets: AssetScales) -> str:
        """A one-line summary for the audit log."""
        thresholds = ",".join(
            f"{asset}>{assets.format(asset, units)}" for asset, units in sorted(self.thresholds.items())
        )
        return f"quorum {self.quorum} of [{','.join(self.approvers)}]; thresholds [{thresholds}]"


def policy_resource(client: str) -> str:
    """The audit resource of a client's policy: `clients/{client}/withdrawalPolicy`."""
    return f"{client}/{WITHDRAWAL_POLICY}"


def parse_policy(
    client: str,
    thresholds: Mapping[str, str],
    approvers: tuple[str, ...],
    quorum: int,
    assets: AssetScales,
) -> WithdrawalPolicy:
    """Validates a policy's fields; `client` has been checked by the caller."""
    threshold_units: dict[str, int] = {}
    for asset, text in sorted(thresholds.items()):
        field_name = f"policy.thresholds[{asset}]"
        threshold_units[asset] = parse_units(text, assets.scale(asset, field_name), field_name)
    if len(approvers) > APPROVERS_PER_POLICY_MAX:
        raise invalid_argument(
            "TOO_MANY_APPROVERS", "policy.approvers", f"at most {APPROVERS_PER_POLICY_MAX} approvers"
        )
    seen: set[str] = set()
    for index, approver in enumerate(approvers):
        field_name = f"policy.approvers[{index}]"
        if Principal.parse(approver) is None:
            raise invalid_argument(
                "APPROVER_INVALID",
                field_name,
                f"{approver!r} is not a principal name such as 'admin' or 'clients/acme-treasurer'",
            )
        if approver in seen:
            raise invalid_argument("APPROVER_DUPLICATE", field_name, f"{approver!r} is listed twice")
        seen.add(approver)
    if not 1 <= quorum <= len(approvers):
        raise invalid_argument(
            "QUORUM_OUT_OF_RANGE",
            "policy.quorum",
            f"must be between 1 and the number of approvers ({len(approvers)}), got {quorum}",
        )
    return WithdrawalPolicy(client, threshold_units, approvers, quorum)


# Withdrawals.


class WithdrawalState(enum.Enum):
    """Lifecycle of a withdrawal."""

    PENDING_APPROVAL = "PENDING_APPROVAL"
    BROADCAST = "BROADCAST"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class Withdrawal:
    """Assets on their way from a client's custody to a whitelisted address."""

    name: WithdrawalName
    asset: str
    amount_units: int
    address: str
    # The whitelist entry that authorized the destination.
    whitelist_address: WhitelistAddressName
    state: WithdrawalState
    # The approvers named by the policy when the withdrawal was requested: a later policy
    # applies to later withdrawals only.
    eligible_approvers: tuple[str, ...]
    approvals_required: int
    # Who has approved, in order.
    approvers: tuple[str, ...]
    create_time_ms: int
    broadcast_time_ms: int | None = None
    confirm_time_ms: int | None = None

    def __post_init__(self) -> None:
        assert self.amount_units > 0
        assert 0 <= self.approvals_required <= len(self.eligible_approvers), self.approvals_required
        assert set(self.approvers) <= set(self.eligible_approvers), self.approvers
        broadcast = self.state in (WithdrawalState.BROADCAST, WithdrawalState.CONFIRMED)
        assert broadcast == (self.broadcast_time_ms is not None), (self.state, self.broadcast_time_ms)
        assert broadcast == (self.confirm_time_ms is not None), (self.state, self.confirm_time_ms)

    @property
    def client(self) -> str:
        """The owning client's resource name."""
        return self.name.client

    def require_approver(self, principal: str) -> None:
        """Only the approvers the policy named when the withdrawal was requested may approve it."""
        if principal not in self.eligible_approvers:
            raise permission_denied(
                NOT_AN_APPROVER,
                f"{principal} is not a named approver of {self.name.name}",
                principal=principal,
                withdrawal=self.name.name,
            )

    def approved_by(self, principal: str, now_ms: int, confirmation_ms: int) -> Withdrawal:
        """Adds one approval; the quorum broadcasts. The same approver twice counts once."""
        self.require_approver(principal)
        if self.state is not WithdrawalState.PENDING_APPROVAL:
            raise failed_precondition(
                WITHDRAWAL_NOT_PENDING,
                f"{self.name.name} is {self.state.value}; only a PENDING_APPROVAL withdrawal is approved",
                withdrawal=self.name.name,
                state=self.state.value,
            )
        if principal in self.approvers:
            return self
        approved = replace(self, approvers=(*self.approvers, principal))
        if len(approved.approvers) >= self.approvals_required:
            return approved.broadcast(now_ms, confirmation_ms)
        return approved

    def broadcast(self, now_ms: int, confirmation_ms: int) -> Withdrawal:
        """Sends the withdrawal to the simulated chain, which confirms it `confirmation_ms` later."""
        assert self.state is WithdrawalState.PENDING_APPROVAL, self.state
        assert confirmation_ms >= 0
        return replace(
            self,
            state=WithdrawalState.BROADCAST,
            broadcast_time_ms=now_ms,
            confirm_time_ms=now_ms + confirmation_ms,
        )

    def cancelled(self) -> Withdrawal:
        """Cancels before broadcast; cancelling a cancelled withdrawal changes nothing."""
        if self.state is WithdrawalState.CANCELLED:
            return self
        if self.state is not WithdrawalState.PENDING_APPROVAL:
            raise failed_precondition(
                WITHDRAWAL_ALREADY_BROADCAST,
                f"{self.name.name} is {self.state.value}; a broadcast withdrawal cannot be called back",
                withdrawal=self.name.name,
                state=self.state.value,
            )
        return replace(self, state=WithdrawalState.CANCELLED)

    def confirmed(self) -> Withdrawal:
        """The chain has confirmed the broadcast withdrawal."""
        assert self.state is WithdrawalState.BROADCAST, self.state
        return replace(self, state=WithdrawalState.CONFIRMED)

    def describe_state(self) -> str:
        """The state as the audit log shows it, with the approval count while pending."""
        if self.state is WithdrawalState.PENDING_APPROVAL:
            return f"PENDING_APPROVAL ({len(self.approvers)} of {self.approvals_required} approvals)"
        return self.state.value


def new_withdrawal(
    name: WithdrawalName,
    whitelist_entry: WhitelistAddress,
    amount_units: int,
    policy: WithdrawalPolicy | None,
    now_ms: int,
    confirmation_ms: int,
) -> Withdrawal:
    """A new withdrawal: waiting for approvals above the threshold, else broadcast at once."""
    approvals_required = (
        0 if policy is None else policy.approvals_required(whitelist_entry.asset, amount_units)
    )
    withdrawal = Withdrawal(
        name=name,
        asset=whitelist_entry.asset,
        amount_units=amount_units,
        address=whitelist_entry.address,
        whitelist_address=whitelist_entry.name,
        state=WithdrawalState.PENDING_APPROVAL,
        eligible_approvers=() if policy is None else policy.approvers,
        approvals_required=approvals_required,
        approvers=(),
        create_time_ms=now_ms,
    )
    if approvals_required == 0:
        return withdrawal.broadcast(now_ms, confirmation_ms)
    return withdrawal


def require_withdrawal(withdrawal: Withdrawal | None, name: WithdrawalName) -> Withdrawal:
    """Returns the withdrawal, or NOT_FOUND."""
    if withdrawal is None:
        raise not_found(WITHDRAWAL_NOT_FOUND, f"{name.name} does not exist", withdrawal=name.name)
    return withdrawal


# Ledger transfers, with ids deterministic from the withdrawal's name so each happens at most once.


def reserve_transfer(withdrawal: Withdrawal) -> Transfer:
    """Moves the amount `available -> withdrawing` when the withdrawal is requested."""
    return _transfer(
        withdrawal,
        "reserve",
        available_account(withdrawal.name.client_id),
        withdrawing_account(withdrawal.name.client_id),
        TransferKind.WITHDRAWAL_RESERVE,
        withdrawal.create_time_ms,
    )


def cancel_transfer(withdrawal: Withdrawal, now_ms: int) -> Transfer:
    """Returns the amount `withdrawing -> available` when the withdrawal is cancelled."""
    return _transfer(
        withdrawal,
        "cancel",
        withdrawing_account(withdrawal.name.client_id),
        available_account(withdrawal.name.client_id),
        TransferKind.WITHDRAWAL_CANCEL,
        now_ms,
    )


def confirm_transfer(withdrawal: Withdrawal, now_ms: int) -> Transfer:
    """Moves the amount out of custody, `withdrawing -> world/chain`, when the chain confirms."""
    return _transfer(
        withdrawal,
        "confirm",
        withdrawing_account(withdrawal.name.client_id),
        WORLD_CHAIN_ACCOUNT,
        TransferKind.WITHDRAWAL_CONFIRM,
        now_ms,
    )


def _transfer(
    withdrawal: Withdrawal, step: str, from_account: str, to_account: str, kind: TransferKind, now_ms: int
) -> Transfer:
    return Transfer(
        id=f"{withdrawal.name.name}/{step}",
        from_account=from_account,
        to_account=to_account,
        asset=withdrawal.asset,
        amount_units=withdrawal.amount_units,
        kind=kind,
        reference=withdrawal.name.name,
        create_time_ms=now_ms,
    )
