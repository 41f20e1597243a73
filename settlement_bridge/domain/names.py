"""Resource names of the settlement network, parsed from requests with a field violation when malformed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from service_kit.auth import IDENTIFIER_PATTERN
from service_kit.errors import invalid_argument

_IDENTIFIER = IDENTIFIER_PATTERN.pattern


@dataclass(frozen=True)
class _NameFormat:
    """The pattern of one kind of resource name, and how a malformed one is refused."""

    pattern: re.Pattern[str]
    # The stable reason of the INVALID_ARGUMENT error, such as `CLIENT_NAME_INVALID`.
    reason: str
    # What the name should have been, such as "a client name such as 'clients/acme'".
    example: str

    def match(self, text: str, field_name: str) -> re.Match[str]:
        """Matches the whole of `text`, or raises INVALID_ARGUMENT with a violation of `field_name`."""
        match = self.pattern.fullmatch(text)
        if match is None:
            raise invalid_argument(self.reason, field_name, f"{text!r} is not {self.example}")
        return match


_CLIENT_NAME = _NameFormat(
    re.compile(rf"clients/({_IDENTIFIER})"), "CLIENT_NAME_INVALID", "a client name such as 'clients/acme'"
)
_EXCHANGE_NAME = _NameFormat(
    re.compile(rf"exchanges/({_IDENTIFIER})"),
    "EXCHANGE_NAME_INVALID",
    "an exchange name such as 'exchanges/okx-sim'",
)
_CONNECTION_NAME = _NameFormat(
    re.compile(rf"clients/({_IDENTIFIER})/connections/({_IDENTIFIER})"),
    "CONNECTION_NAME_INVALID",
    "a connection name such as 'clients/acme/connections/okx-sim'",
)
# Numbers of allocations, deallocations and settlements: positive, without leading zeros, so
# that one resource has exactly one name.
_NUMBER = r"[1-9][0-9]{0,17}"
_ALLOCATION_NAME = _NameFormat(
    re.compile(rf"clients/({_IDENTIFIER})/connections/({_IDENTIFIER})/allocations/({_NUMBER})"),
    "ALLOCATION_NAME_INVALID",
    "an allocation name such as 'clients/acme/connections/okx-sim/allocations/1'",
)
_DEALLOCATION_NAME = _NameFormat(
    re.compile(rf"clients/({_IDENTIFIER})/connections/({_IDENTIFIER})/deallocations/({_NUMBER})"),
    "DEALLOCATION_NAME_INVALID",
    "a deallocation name such as 'clients/acme/connections/okx-sim/deallocations/1'",
)
_DISPUTE_NAME = _NameFormat(
    re.compile(rf"clients/({_IDENTIFIER})/connections/({_IDENTIFIER})/disputes/({_NUMBER})"),
    "DISPUTE_NAME_INVALID",
    "a dispute name such as 'clients/acme/connections/okx-sim/disputes/1'",
)
_STATEMENT_NAME = _NameFormat(
    re.compile(rf"exchanges/({_IDENTIFIER})/statements/({_NUMBER})"),
    "STATEMENT_NAME_INVALID",
    "a statement name such as 'exchanges/okx-sim/statements/1'",
)
_SETTLEMENT_NAME = _NameFormat(
    re.compile(rf"settlements/({_NUMBER})"),
    "SETTLEMENT_NAME_INVALID",
    "a settlement name such as 'settlements/1'",
)


@dataclass(frozen=True, order=True)
class ConnectionName:
    """One client's connection to one exchange: `clients/{client}/connections/{exchange}`."""

    client_id: str
    exchange_id: str

    @property
    def name(self) -> str:
        """The resource name."""
        return f"clients/{self.client_id}/connections/{self.exchange_id}"

    @property
    def client_name(self) -> str:
        """The owning client, `clients/{client}`."""
        return f"clients/{self.client_id}"

    @property
    def exchange_name(self) -> str:
        """The exchange, `exchanges/{exchange}`."""
        return f"exchanges/{self.exchange_id}"

    @property
    def allocated_account(self) -> str:
        """The custodian ledger account that holds what is locked for this connection."""
        return f"{self.name}/allocated"


def parse_client_name(text: str, field_name: str) -> str:
    """Returns the client identifier of `clients/{client}`."""
    return _CLIENT_NAME.match(text, field_name).group(1)


def parse_exchange_name(text: str, field_name: str) -> str:
    """Returns the exchange identifier of `exchanges/{exchange}`."""
    return _EXCHANGE_NAME.match(text, field_name).group(1)


def parse_connection_name(text: str, field_name: str) -> ConnectionName:
    """Parses `clients/{client}/connections/{exchange}`."""
    match = _CONNECTION_NAME.match(text, field_name)
    return ConnectionName(match.group(1), match.group(2))


def parse_allocation_name(text: str, field_name: str) -> tuple[ConnectionName, int]:
    """Parses `clients/{client}/connections/{exchange}/allocations/{number}`."""
    match = _ALLOCATION_NAME.match(text, field_name)
    return ConnectionName(match.group(1), match.group(2)), int(match.group(3))


def parse_deallocation_name(text: str, field_name: str) -> tuple[ConnectionName, int]:
    """Parses `clients/{client}/connections/{exchange}/deallocations/{number}`."""
    match = _DEALLOCATION_NAME.match(text, field_name)
    return ConnectionName(match.group(1), match.group(2)), int(match.group(3))


def parse_dispute_name(text: str, field_name: str) -> tuple[ConnectionName, int]:
    """Parses `clients/{client}/connections/{exchange}/disputes/{number}`."""
    match = _DISPUTE_NAME.match(text, field_name)
    return ConnectionName(match.group(1), match.group(2)), int(match.group(3))


def parse_statement_name(text: str, field_name: str) -> str:
    """Returns the exchange id of `exchanges/{exchange}/statements/{number}` after checking the form."""
    return _STATEMENT_NAME.match(text, field_name).group(1)


def parse_settlement_name(text: str, field_name: str) -> int:
    """Returns the number of `settlements/{number}`."""
    return int(_SETTLEMENT_NAME.match(text, field_name).group(1))
