"""Parties of the custodian: clients whose assets it keeps and exchanges that settle against them."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from custodian_sim.domain.names import CLIENTS, EXCHANGES, parse_client_name, parse_exchange_name
from service_kit.errors import already_exists, invalid_argument, not_found

DISPLAY_NAME_LENGTH_MAX = 200
PUBLIC_KEY_LENGTH = 32

PARTY_NOT_FOUND = "PARTY_NOT_FOUND"


class PartyKind(enum.Enum):
    """A client or an exchange; the value is the collection of its resource name."""

    CLIENT = CLIENTS
    EXCHANGE = EXCHANGES


@dataclass(frozen=True)
class Party:
    """A registered client or exchange."""

    name: str
    kind: PartyKind
    display_name: str
    create_time_ms: int

    @property
    def identifier(self) -> str:
        """The `{id}` part of the name."""
        return self.name.partition("/")[2]

    def same_content(self, other: Party) -> bool:
        """Whether a repeated CreateParty asks for exactly this party."""
        return (self.name, self.kind, self.display_name) == (other.name, other.kind, other.display_name)


def check_party_fields(name: str, kind: PartyKind, display_name: str) -> None:
    """Validates a party to register: the name's collection must match the kind."""
    if kind is PartyKind.CLIENT:
        parse_client_name(name, "party.name")
    else:
        parse_exchange_name(name, "party.name")
    if len(display_name) > DISPLAY_NAME_LENGTH_MAX:
        raise invalid_argument(
            "DISPLAY_NAME_TOO_LONG", "party.display_name", f"at most {DISPLAY_NAME_LENGTH_MAX} characters"
        )


def party_kind_of(name: str) -> PartyKind:
    """The kind a well-formed owner name (`clients/...` or `exchanges/...`) stands for."""
    return PartyKind(name.partition("/")[0])


def check_party_recreate(existing: Party, requested: Party) -> Party:
    """A repeated registration returns the existing party; a different one under its name is refused."""
    if not existing.same_content(requested):
        raise already_exists(
            "PARTY_CONFLICT",
            f"{existing.name} is already registered as {existing.kind.name.lower()} "
            f"{existing.display_name!r}; parties are never changed",
            party=existing.name,
        )
    return existing


def require_party(party: Party | None, name: str, kind: PartyKind) -> Party:
    """Returns the party, or NOT_FOUND when no party of that kind has that name."""
    if party is None or party.kind is not kind:
        raise not_found(PARTY_NOT_FOUND, f"{name} is not a registered {kind.name.lower()}", party=name)
    return party


@dataclass(frozen=True)
class ExchangeKey:
    """The Ed25519 public key the custodian verifies an exchange's statements with."""

    exchange: str
    public_key: bytes
    register_time_ms: int

    def __post_init__(self) -> None:
        assert len(self.public_key) == PUBLIC_KEY_LENGTH


def check_public_key(public_key: bytes, field_name: str) -> bytes:
    """Refuses anything but a raw 32-byte Ed25519 public key."""
    if len(public_key) != PUBLIC_KEY_LENGTH:
        raise invalid_argument(
            "PUBLIC_KEY_INVALID",
            field_name,
            f"must be the raw {PUBLIC_KEY_LENGTH}-byte Ed25519 public key, got {len(public_key)} bytes",
        )
    return public_key
