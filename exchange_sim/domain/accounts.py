"""Accounts: OES (mirror, unsettled, held, pending credit) and traditional (deposited, held), per asset."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from exchange_sim.domain.changes import VenueChanges
from service_kit.errors import failed_precondition, invalid_argument, not_found

# Client and exchange identifiers inside resource names (the same rule as service_kit.auth).
_IDENTIFIER = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
ACCOUNT_NAME_PATTERN = re.compile(rf"clients/({_IDENTIFIER})")
CONNECTION_NAME_PATTERN = re.compile(rf"clients/({_IDENTIFIER})/connections/({_IDENTIFIER})")

# Every account is one row per asset it touched; a venue with more accounts than this is a
# runaway script, not a sandbox.
ACCOUNTS_MAX = 1_000_000


class CustodyModel(enum.Enum):
    """Where an account's assets sit: locked at the custodian (OES) or in the exchange's wallet."""

    OES = "OES"
    TRADITIONAL = "TRADITIONAL"


class Balance:
    """One asset of one account, in integer units of the asset.

    available = mirror + unsettled - held; `pending_credit` is allocated at the custodian but
    not yet cleared here, so it is not available. A traditional account books the same way so
    that matching has one path: `mirror_units` holds its deposits less withdrawals and
    `unsettled_units` its trades; what it owns in the exchange's wallet is their sum
    (`deposited_units`), and no statement ever re-bases it.
    """

    __slots__ = ("account", "asset", "held_units", "mirror_units", "pending_credit_units", "unsettled_units")

    def __init__(
        self,
        account: str,
        asset: str,
        mirror_units: int = 0,
        unsettled_units: int = 0,
        held_units: int = 0,
        pending_credit_units: int = 0,
    ) -> None:
        self.account = account
        self.asset = asset
        self.mirror_units = mirror_units
        self.unsettled_units = unsettled_units
        self.held_units = held_units
        self.pending_credit_units = pending_credit_units

    @property
    def available_units(self) -> int:
        """What can be traded or deallocated now."""
        return self.mirror_units + self.unsettled_units - self.held_units

    @property
    def deposited_units(self) -> int:
        """For a traditional account, what it owns in the exchange's wallet."""
        return self.mirror_units + self.unsettled_units

    def __repr__(self) -> str:
        return (
            f"Balance({self.account} {self.asset}: mirror={self.mirror_units} "
            f"unsettled={self.unsettled_units} held={self.held_units} pending={self.pending_credit_units})"
        )


@dataclass
class Account:
    """A client's account `clients/{c}`: an OES account mirrors the connection
    `clients/{c}/connections/{x}`; a traditional account has no connection (empty)."""

    name: str
    connection: str
    create_time_ms: int
    balances: dict[str, Balance] = field(default_factory=dict)
    custody_model: CustodyModel = CustodyModel.OES

    def balance(self, asset: str) -> Balance:
        """Returns the account's balance in `asset`, creating it (all zero) on first touch."""
        balance = self.balances.get(asset)
        if balance is None:
            balance = Balance(self.name, asset)
            self.balances[asset] = balance
        return balance

    def available_units(self, asset: str) -> int:
        """Available units of `asset`; zero for an asset never touched."""
        balance = self.balances.get(asset)
        return 0 if balance is None else balance.available_units

    def sorted_balances(self) -> list[Balance]:
        """Balances sorted by asset."""
        return [self.balances[asset] for asset in sorted(self.balances)]


def client_of_account(account_name: str, field_name: str = "account") -> str:
    """Returns the client id of `clients/{c}`, or INVALID_ARGUMENT."""
    match = ACCOUNT_NAME_PATTERN.fullmatch(account_name)
    if match is None:
        raise invalid_argument(
            "ACCOUNT_NAME_INVALID", field_name, f"{account_name!r} is not an account name like 'clients/acme'"
        )
    return match.group(1)


def account_of_connection(connection: str, exchange_id: str, field_name: str = "connection") -> str:
    """Returns `clients/{c}` of `clients/{c}/connections/{exchange_id}`, or INVALID_ARGUMENT."""
    match = CONNECTION_NAME_PATTERN.fullmatch(connection)
    if match is None:
        raise invalid_argument(
            "CONNECTION_NAME_INVALID",
            field_name,
            f"{connection!r} is not a connection name like 'clients/acme/connections/{exchange_id}'",
        )
    if match.group(2) != exchange_id:
        raise invalid_argument(
            "WRONG_EXCHANGE",
            field_name,
            f"{connection!r} connects to exchange {match.group(2)!r}; this venue is {exchange_id!r}",
        )
    return f"clients/{match.group(1)}"


class AccountRegistry:
    """Every OES account of the venue, by account name and by connection name."""

    def __init__(self, exchange_id: str, changes: VenueChanges) -> None:
        self.exchange_id = exchange_id
        self._changes = changes
        self._by_name: dict[str, Account] = {}
        self._by_connection: dict[str, Account] = {}

    def __iter__(self) -> Iterator[Account]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def parse_connection(self, connection: str) -> str:
        """Returns the account name of a connection of this venue, or INVALID_ARGUMENT."""
        return account_of_connection(connection, self.exchange_id)

    def open(self, connection: str, now_ms: int) -> Account:
        """Opens the account of a connection; opening it again returns the same account."""
        account_name = self.parse_connection(connection)
        account = self._by_name.get(account_name)
        if account is not None:
            if account.custody_model is not CustodyModel.OES:
                raise failed_precondition(
                    "ACCOUNT_IS_TRADITIONAL",
                    f"{account_name} already has a traditional account at {self.exchange_id}; a client "
                    "has one account per venue",
                    account=account_name,
                )
            assert account.connection == connection, "one connection per client and exchange"
            return account
        return self._create(Account(account_name, connection, now_ms))

    def open_traditional(self, account_name: str, now_ms: int) -> Account:
        """Opens a traditional account; opening it again returns the same account."""
        client_of_account(account_name)
        account = self._by_name.get(account_name)
        if account is not None:
            if account.custody_model is not CustodyModel.TRADITIONAL:
                raise failed_precondition(
                    "ACCOUNT_IS_OES",
                    f"{account_name} already has an OES account at {self.exchange_id}; a client has one "
                    "account per venue",
                    account=account_name,
                )
            return account
        return self._create(Account(account_name, "", now_ms, custody_model=CustodyModel.TRADITIONAL))

    def _create(self, account: Account) -> Account:
        if len(self._by_name) >= ACCOUNTS_MAX:
            raise failed_precondition(
                "ACCOUNT_LIMIT_REACHED", f"the venue holds at most {ACCOUNTS_MAX} accounts"
            )
        self.add(account)
        self._changes.accounts.append(account)
        return account

    def add(self, account: Account) -> None:
        """Adds an account loaded from storage."""
        self._by_name[account.name] = account
        if account.connection:
            self._by_connection[account.connection] = account

    def by_name(self, account_name: str) -> Account:
        """Returns an account, or NOT_FOUND ACCOUNT_NOT_FOUND when the client has no connection here."""
        account = self._by_name.get(account_name)
        if account is None:
            raise not_found(
                "ACCOUNT_NOT_FOUND",
                f"{account_name} has no OES account at {self.exchange_id}; the settlement network opens it "
                "with CreateConnection",
                account=account_name,
            )
        return account

    def by_connection(self, connection: str) -> Account:
        """Returns the account of a connection, or NOT_FOUND CONNECTION_NOT_FOUND."""
        self.parse_connection(connection)
        account = self._by_connection.get(connection)
        if account is None:
            raise not_found(
                "CONNECTION_NOT_FOUND",
                f"{connection} is not open at {self.exchange_id}; call CreateConnection first",
                connection=connection,
            )
        return account

    def find(self, account_name: str) -> Account | None:
        """Returns an account or None."""
        return self._by_name.get(account_name)

    def sorted_by_connection(self) -> list[Account]:
        """Every OES account, sorted by connection name."""
        return sorted(self._by_connection.values(), key=lambda account: account.connection)

    def sorted_by_name(self) -> list[Account]:
        """Every account, OES and traditional, sorted by account name."""
        return sorted(self._by_name.values(), key=lambda account: account.name)
