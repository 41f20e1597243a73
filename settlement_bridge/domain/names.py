"""Resource names of the settlement network, parsed from requests with a field violation when malformed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from service_kit.auth import IDENTIFIER_PATTERN
from service_kit.errors import invalid_argument

_IDENTIFIER = IDENTIFIER_PATTERN.pattern
_CLIENT_NAME = re.compile(rf"clients/({_IDENTIFIER})")
_EXCHANGE_NAME = re.compile(rf"exchanges/({_IDENTIFIER})")
_CONNECTION_NAME = re.compile(rf"clients/({_IDENTIFIER})/connections/({_IDENTIFIER})")
# Numbers of allocations, deallocations and settlements: positive, without leading zeros, so
# that one resource has exactly one name.
_NUMBER = r"[1-9][0-9]{0,17}"
_ALLOCATION_NAME = re.compile(rf"clients/({_IDENTIFIER})/connections/({_IDENTIFIER})/allocations/({_NUMBER})")
_DEALLOCATION_NAME = re.compile(
    rf"clients/({_IDENTIFIER})/connections/({_IDENTIFIER})/deallocations/({_NUMBER})"
)
_SETTLEMENT_NAME = re.compile(rf"settlements/({_NUMBER})")


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
    match = _CLIENT_NAME.fullmatch(text)
    if match is None:
        raise invalid_argument(
            "CLIENT_NAME_INVALID", field_name, f"{text!r} is not a client name such as 'clients/acme'"
        )
    return match.group(1)


def parse_exchange_name(text: str, field_name: str) -> str:
    """Returns the exchange identifier of `exchanges/{exchange}`."""
    match = _EXCHANGE_NAME.fullmatch(text)
    if match is None:
        raise invalid_argument(
            "EXCHANGE_NAME_INVALID",
            field_name,
            f"{text!r} is not an exchange name such as 'exchanges/okx-sim'",
        )
    return match.group(1)


def parse_connection_name(text: str, field_name: str) -> ConnectionName:
    """Parses `clients/{client}/connections/{exchange}`."""
    match = _CONNECTION_NAME.fullmatch(text)
    if match is None:
        raise invalid_argument(
            "CONNECTION_NAME_INVALID",
            field_name,
            f"{text!r} is not a connection name such as 'clients/acme/connections/okx-sim'",
        )
    return ConnectionName(match.group(1), match.group(2))


def parse_allocation_name(text: str, field_name: str) -> tuple[ConnectionName, int]:
    """Parses `clients/{client}/connections/{exchange}/allocations/{number}`."""
    match = _ALLOCATION_NAME.fullmatch(text)
    if match is None:
        raise invalid_argument(
            "ALLOCATION_NAME_INVALID",
            field_name,
            f"{text!r} is not an allocation name such as 'clients/acme/connections/okx-sim/allocations/1'",
        )
    return ConnectionName(match.group(1), match.group(2)), int(match.group(3))


def parse_deallocation_name(text: str, field_name: str) -> tuple[ConnectionName, int]:
    """Parses `clients/{client}/connections/{exchange}/deallocations/{number}`."""
    match = _DEALLOCATION_NAME.fullmatch(text)
    if match is None:
        raise invalid_argument(
            "DEALLOCATION_NAME_INVALID",
            field_name,
            f"{text!r} is not a deallocation name such as 'clients/acme/connections/okx-sim/deallocations/1'",
        )
    return ConnectionName(match.group(1), match.group(2)), int(match.group(3))


def parse_settlement_name(text: str, field_name: str) -> int:
    """Returns the number of `settlements/{number}`."""
    match = _SETTLEMENT_NAME.fullmatch(text)
    if match is None:
        raise invalid_argument(
            "SETTLEMENT_NAME_INVALID",
            field_name,
            f"{text!r} is not a settlement name such as 'settlements/1'",
        )
    return int(match.group(1))
