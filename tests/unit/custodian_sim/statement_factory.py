"""Builds statements signed with a real Ed25519 key, the way the exchange derives and uses it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service_kit.signing import private_key_from_seed, public_key_bytes, sign
from service_kit.statement import StatementContent, StatementEntryContent

CUTOFF_MS = 1_767_225_600_000


def exchange_private_key(exchange: str, seed: int = 1) -> Ed25519PrivateKey:
    """The exchange's statement key as the shared facts derive it from the seed."""
    return private_key_from_seed(hashlib.sha256(f"oes-exchange-key:{exchange}:{seed}".encode()).digest())


def exchange_public_key(exchange: str, seed: int = 1) -> bytes:
    """The raw public key an admin registers at the custodian."""
    return public_key_bytes(exchange_private_key(exchange, seed))


def statement_nonce(name: str, seed: int = 1) -> str:
    """Deterministic and unique per statement, as the exchange makes it."""
    return hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()[:32]


def statement_content(
    exchange: str,
    number: int,
    entries: Sequence[tuple[str, str, str]],
    *,
    first_trade_sequence: int | None = None,
    last_trade_sequence: int | None = None,
    previous_statement: str | None = None,
    nonce: str | None = None,
) -> StatementContent:
    """A statement that follows statement `number - 1` when every trade range holds ten trades."""
    name = f"{exchange}/statements/{number}"
    first = first_trade_sequence if first_trade_sequence is not None else (number - 1) * 10 + 1
    return StatementContent(
        name=name,
        exchange=exchange,
        number=number,
        previous_statement=(
            previous_statement
            if previous_statement is not None
            else ("" if number == 1 else f"{exchange}/statements/{number - 1}")
        ),
        cutoff_time_ms=CUTOFF_MS + number * 3_600_000,
        first_trade_sequence=first,
        last_trade_sequence=last_trade_sequence if last_trade_sequence is not None else first + 9,
        nonce=nonce if nonce is not None else statement_nonce(name),
        entries=tuple(StatementEntryContent(*entry) for entry in sorted(entries)),
    )


def signed(content: StatementContent, key: Ed25519PrivateKey | None = None) -> tuple[StatementContent, bytes]:
    """The content and the exchange's signature over it."""
    return content, sign(key or exchange_private_key(content.exchange), content)
