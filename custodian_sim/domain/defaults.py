"""Exchange default rules: defaulted connections, returned allocations, frozen accounts, claims."""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from custodian_sim.domain.connections import Connection, ConnectionState
from custodian_sim.domain.ledger import BalanceKey, Transfer, TransferKind
from custodian_sim.domain.names import (
    ConnectionName,
    account_owner,
    allocated_account,
    available_account,
    exchange_name,
    settlement_account,
)
from service_kit.errors import failed_precondition

ACCOUNT_FROZEN = "ACCOUNT_FROZEN"
EXCHANGE_DEFAULTED = "EXCHANGE_DEFAULTED"
# What the default record says about the latest statement when it was not executed.
NOT_REQUESTED = "NOT_REQUESTED"
ALREADY_EXECUTED = "ALREADY_EXECUTED"
# One exchange's connections are read and defaulted in one transaction; far more than a sandbox holds.
CONNECTIONS_PER_DEFAULT_MAX = 200_000


class DefaultClaimKind(enum.Enum):
    """What a party's claim after a default consists of."""

    # A client's allocated balance, returned to its available balance.
    RELEASED_ALLOCATION = "RELEASED_ALLOCATION"
    # The exchange's settlement balance, frozen for its estate.
    FROZEN_SETTLEMENT = "FROZEN_SETTLEMENT"


@dataclass(frozen=True)
class DefaultClaim:
    """One party's claim in one asset, and the account that holds it."""

    party: str
    asset: str
    amount_units: int
    kind: DefaultClaimKind
    account: str

    def __post_init__(self) -> None:
        assert self.amount_units > 0, self.amount_units
        assert account_owner(self.account) == self.party, (self.account, self.party)


@dataclass(frozen=True)
class StatementOutcome:
    """What the procedure did with the exchange's latest verified statement."""

    # The statement's name; empty when the exchange had none.
    statement: str
    # Its state value after the procedure (`SUCCEEDED`, `PENDING`, ...); empty when none.
    state: str
    applied: bool
    # Why it was not applied (NOT_REQUESTED, ALREADY_EXECUTED or execution's refusal); empty otherwise.
    reason: str

    def __post_init__(self) -> None:
        assert bool(self.statement) == bool(self.state), (self.statement, self.state)
        assert not (self.applied and self.reason), self.reason


NO_STATEMENT = StatementOutcome("", "", False, "")


@dataclass(frozen=True)
class ExchangeDefault:
    """The recorded outcome of one exchange's default procedure; it runs at most once per exchange."""

    exchange: str
    statement: StatementOutcome
    # Every connection to the exchange, sorted by name.
    connections: tuple[str, ...]
    claims: tuple[DefaultClaim, ...]
    frozen_accounts: tuple[str, ...]
    transfer_ids: tuple[str, ...]
    default_time_ms: int

    @property
    def resource(self) -> str:
        """The name its audit record carries: `exchanges/{exchange}/default`."""
        return f"{self.exchange}/default"


def defaulted(connection: Connection) -> Connection:
    """Any state becomes DEFAULTED: the exchange failed, whatever the connection was doing."""
    if connection.state is ConnectionState.DEFAULTED:
        return connection
    return replace(connection, state=ConnectionState.DEFAULTED)


def default_release_transfer_id(connection: ConnectionName, asset: str) -> str:
    """Deterministic per exchange, client and asset: the procedure returns each balance once."""
    return f"defaults/{connection.exchange_id}/releases/{connection.client_id}/{asset}"


def plan_default_releases(
    connections: Sequence[ConnectionName],
    assets: Collection[str],
    balances: Mapping[BalanceKey, int],
    now_ms: int,
) -> tuple[Transfer, ...]:
    """Moves every positive allocated balance of the connections back to the client's available."""
    assert len(connections) <= CONNECTIONS_PER_DEFAULT_MAX, len(connections)
    transfers: list[Transfer] = []
    for connection in sorted(connections):
        account = allocated_account(connection)
        for asset in sorted(assets):
            units = balances.get((account, asset), 0)
            assert units >= 0, f"{account} holds {units} {asset}"
            if units == 0:
                continue
            transfers.append(
                Transfer(
                    id=default_release_transfer_id(connection, asset),
                    from_account=account,
                    to_account=available_account(connection.client_id),
                    asset=asset,
                    amount_units=units,
                    kind=TransferKind.DEFAULT_RELEASE,
                    reference=connection.name,
                    create_time_ms=now_ms,
                )
            )
    return tuple(transfers)


def frozen_accounts_of_default(exchange_id: str, connections: Iterable[ConnectionName]) -> tuple[str, ...]:
    """The exchange's settlement account and the (emptied) allocated accounts of its connections."""
    accounts = {settlement_account(exchange_id)}
    accounts.update(allocated_account(connection) for connection in connections)
    return tuple(sorted(accounts))


def default_claims(
    exchange_id: str,
    releases: Iterable[Transfer],
    settlement_balances: Mapping[str, int],
) -> tuple[DefaultClaim, ...]:
    """Each client's returned allocation per asset, then the exchange's frozen settlement balance."""
    client_claims = sorted(
        (
            DefaultClaim(
                party=account_owner(transfer.to_account),
                asset=transfer.asset,
                amount_units=transfer.amount_units,
                kind=DefaultClaimKind.RELEASED_ALLOCATION,
                account=transfer.to_account,
            )
            for transfer in releases
        ),
        key=lambda claim: (claim.party, claim.asset),
    )
    settlement = settlement_account(exchange_id)
    exchange_claims = [
        DefaultClaim(exchange_name(exchange_id), asset, units, DefaultClaimKind.FROZEN_SETTLEMENT, settlement)
        for asset, units in sorted(settlement_balances.items())
        if units > 0
    ]
    return (*client_claims, *exchange_claims)


def check_not_frozen(transfers: Iterable[Transfer], frozen: Collection[str]) -> None:
    """Refuses any transfer out of or into a frozen account."""
    if not frozen:
        return
    for transfer in transfers:
        for account in (transfer.from_account, transfer.to_account):
            if account in frozen:
                raise failed_precondition(
                    ACCOUNT_FROZEN,
                    f"{account} is frozen by an exchange default; nothing moves into or out of it "
                    f"(transfer {transfer.id})",
                    account=account,
                    transfer_id=transfer.id,
                )


def check_statement_not_frozen(statement: str, settlement: str, frozen: Collection[str]) -> None:
    """Refuses to record or execute a statement of an exchange whose settlement account is frozen.

    Its entries would move into or out of frozen accounts (or, with the allocations returned,
    fail into claims that the default already settled): a defaulted exchange settles no more.
    """
    if settlement in frozen:
        raise failed_precondition(
            ACCOUNT_FROZEN,
            f"{settlement} is frozen by the exchange's default; {statement} cannot settle",
            account=settlement,
            statement=statement,
        )


def transfer_accounts(transfers: Iterable[Transfer]) -> set[str]:
    """Every account the transfers touch."""
    accounts: set[str] = set()
    for transfer in transfers:
        accounts.add(transfer.from_account)
        accounts.add(transfer.to_account)
    return accounts
