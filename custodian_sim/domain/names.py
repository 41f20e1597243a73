"""Resource names and ledger account names of the custodian, and their validation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from service_kit.auth import IDENTIFIER_PATTERN
from service_kit.errors import invalid_argument

CLIENTS = "clients"
EXCHANGES = "exchanges"
WORLD_CHAIN_ACCOUNT = "world/chain"
# The owner of `world/chain` in the balances table: nobody's assets, the outside world.
WORLD_OWNER = "world"

NAME_INVALID = "RESOURCE_NAME_INVALID"
OPERATION_ID_INVALID = "OPERATION_ID_INVALID"

# Caller-chosen ids of allocations and unlocks become part of ledger transfer ids; the same
# alphabet as request ids keeps them printable and unambiguous.
OPERATION_ID_PATTERN = re.compile(r"[A-Za-z0-9._:/@-]{1,128}")
_STATEMENT_NUMBER_PATTERN = re.compile(r"[1-9][0-9]{0,17}")


def client_name(client_id: str) -> str:
    """Returns `clients/{client_id}`."""
    return f"{CLIENTS}/{client_id}"


def exchange_name(exchange_id: str) -> str:
    """Returns `exchanges/{exchange_id}`."""
    return f"{EXCHANGES}/{exchange_id}"


def _parse_collection_name(name: str, collection: str, field_name: str) -> str:
    prefix, separator, identifier = name.partition("/")
    if prefix != collection or not separator or not IDENTIFIER_PATTERN.fullmatch(identifier):
        raise invalid_argument(
            NAME_INVALID,
            field_name,
            f"{name!r} is not a {collection} name such as '{collection}/acme' "
            "(1-63 lower-case letters, digits and '-')",
        )
    return identifier


def parse_client_name(name: str, field_name: str) -> str:
    """Returns the client id of `clients/{client}`, or raises INVALID_ARGUMENT naming the field."""
    return _parse_collection_name(name, CLIENTS, field_name)


def parse_exchange_name(name: str, field_name: str) -> str:
    """Returns the exchange id of `exchanges/{exchange}`, or raises INVALID_ARGUMENT naming the field."""
    return _parse_collection_name(name, EXCHANGES, field_name)


def parse_owner_name(name: str, field_name: str) -> str:
    """Checks that `name` is `clients/{client}`, `exchanges/{exchange}` or `world` and returns it."""
    collection = name.partition("/")[0]
    if name == WORLD_OWNER:
        pass
    elif collection == EXCHANGES:
        parse_exchange_name(name, field_name)
    elif collection == CLIENTS:
        parse_client_name(name, field_name)
    else:
        raise invalid_argument(
            NAME_INVALID,
            field_name,
            f"{name!r} is none of 'clients/{{client}}', 'exchanges/{{exchange}}' and 'world'",
        )
    return name


def parse_party_name(name: str, field_name: str) -> str:
    """Checks that `name` is `clients/{client}` or `exchanges/{exchange}` and returns it."""
    if name.partition("/")[0] == EXCHANGES:
        parse_exchange_name(name, field_name)
    elif name.partition("/")[0] == CLIENTS:
        parse_client_name(name, field_name)
    else:
        raise invalid_argument(
            NAME_INVALID, field_name, f"{name!r} is neither 'clients/{{client}}' nor 'exchanges/{{exchange}}'"
        )
    return name


def parse_operation_id(operation_id: str, field_name: str) -> str:
    """Checks a caller-chosen allocation or unlock id."""
    if not OPERATION_ID_PATTERN.fullmatch(operation_id):
        raise invalid_argument(
            OPERATION_ID_INVALID,
            field_name,
            "must be 1-128 characters of letters, digits and ._:/@-, unique across all connections",
        )
    return operation_id


@dataclass(frozen=True, order=True)
class ConnectionName:
    """`clients/{client}/connections/{exchange}`: one client's binding to one exchange."""

    client_id: str
    exchange_id: str
    # The resource name, built with the name: a statement execution asks for it several times
    # per entry. Not compared: it follows from the ids.
    name: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        assert IDENTIFIER_PATTERN.fullmatch(self.client_id), self.client_id
        assert IDENTIFIER_PATTERN.fullmatch(self.exchange_id), self.exchange_id
        object.__setattr__(self, "name", f"{CLIENTS}/{self.client_id}/connections/{self.exchange_id}")

    @property
    def client(self) -> str:
        """The client's resource name."""
        return client_name(self.client_id)

    @property
    def exchange(self) -> str:
        """The exchange's resource name."""
        return exchange_name(self.exchange_id)

    @staticmethod
    def parse(name: str, field_name: str) -> ConnectionName:
        """Parses a connection name, or raises INVALID_ARGUMENT naming the field."""
        parts = name.split("/")
        if (
            len(parts) != 4
            or parts[0] != CLIENTS
            or parts[2] != "connections"
            or not IDENTIFIER_PATTERN.fullmatch(parts[1])
            or not IDENTIFIER_PATTERN.fullmatch(parts[3])
        ):
            raise invalid_argument(
                NAME_INVALID,
                field_name,
                f"{name!r} is not a connection name such as 'clients/acme/connections/okx-sim'",
            )
        return ConnectionName(parts[1], parts[3])


@dataclass(frozen=True)
class StatementName:
    """`exchanges/{exchange}/statements/{number}`, numbered from 1 per exchange."""

    exchange_id: str
    number: int

    def __post_init__(self) -> None:
        assert IDENTIFIER_PATTERN.fullmatch(self.exchange_id), self.exchange_id
        assert self.number >= 1, self.number

    @cached_property
    def name(self) -> str:
        """The resource name."""
        return f"{EXCHANGES}/{self.exchange_id}/statements/{self.number}"

    @property
    def exchange(self) -> str:
        """The exchange's resource name."""
        return exchange_name(self.exchange_id)

    @staticmethod
    def parse(name: str, field_name: str) -> StatementName:
        """Parses a statement name, or raises INVALID_ARGUMENT naming the field."""
        parts = name.split("/")
        if (
            len(parts) != 4
            or parts[0] != EXCHANGES
            or parts[2] != "statements"
            or not IDENTIFIER_PATTERN.fullmatch(parts[1])
            or not _STATEMENT_NUMBER_PATTERN.fullmatch(parts[3])
        ):
            raise invalid_argument(
                NAME_INVALID,
                field_name,
                f"{name!r} is not a statement name such as 'exchanges/okx-sim/statements/1'",
            )
        return StatementName(parts[1], int(parts[3]))


def available_account(client_id: str) -> str:
    """The client's free custody balance."""
    return f"{CLIENTS}/{client_id}/available"


def allocated_account(connection: ConnectionName) -> str:
    """The part of the client's custody locked for the connection's exchange."""
    return f"{connection.name}/allocated"


def settlement_account(exchange_id: str) -> str:
    """The exchange's own account at the custodian: losses are paid in, gains paid out."""
    return f"{EXCHANGES}/{exchange_id}/settlement"


def withdrawing_account(client_id: str) -> str:
    """Assets on their way out to the chain (used by withdrawals)."""
    return f"{CLIENTS}/{client_id}/withdrawing"


# The last part of every account titled to a party, and how many parts such a name has.
_CLIENT_ACCOUNT_SUFFIXES = ("available", "withdrawing")
ACCOUNT_INVALID = "ACCOUNT_INVALID"


def parse_account_name(account: str, field_name: str) -> str:
    """Checks that `account` is one of the custodian's ledger account names and returns it."""
    parts = account.split("/")
    valid = (
        account == WORLD_CHAIN_ACCOUNT
        or (
            len(parts) == 3
            and parts[0] == CLIENTS
            and IDENTIFIER_PATTERN.fullmatch(parts[1]) is not None
            and parts[2] in _CLIENT_ACCOUNT_SUFFIXES
        )
        or (
            len(parts) == 5
            and parts[0] == CLIENTS
            and parts[2] == "connections"
            and parts[4] == "allocated"
            and IDENTIFIER_PATTERN.fullmatch(parts[1]) is not None
            and IDENTIFIER_PATTERN.fullmatch(parts[3]) is not None
        )
        or (
            len(parts) == 3
            and parts[0] == EXCHANGES
            and IDENTIFIER_PATTERN.fullmatch(parts[1]) is not None
            and parts[2] == "settlement"
        )
    )
    if not valid:
        raise invalid_argument(
            ACCOUNT_INVALID,
            field_name,
            f"{account!r} is not a ledger account such as 'clients/acme/available', "
            "'clients/acme/connections/okx-sim/allocated', 'clients/acme/withdrawing', "
            "'exchanges/okx-sim/settlement' or 'world/chain'",
        )
    return account


def account_owner(account: str) -> str:
    """Returns the party an account is titled to (`clients/acme`), or `world` for the chain."""
    if account == WORLD_CHAIN_ACCOUNT:
        return WORLD_OWNER
    collection, identifier = account.split("/", 2)[:2]
    assert collection in (CLIENTS, EXCHANGES), f"account {account} belongs to no party"
    return f"{collection}/{identifier}"
