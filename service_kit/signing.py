"""Ed25519 keys: the exchange signs statements, the custodian and the bridge verify them."""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from service_kit.statement import StatementContent

PUBLIC_KEY_LENGTH = 32


def private_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    """Derives the exchange's statement key from its seeded random source (32 bytes)."""
    assert len(seed) == 32, "Ed25519 private keys are 32 bytes"
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_bytes(private_key: Ed25519PrivateKey) -> bytes:
    """Returns the raw 32-byte public key."""
    return private_key.public_key().public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )


def sign(private_key: Ed25519PrivateKey, content: StatementContent) -> bytes:
    """Signs a statement's canonical bytes."""
    return private_key.sign(content.canonical_bytes())


def verify(public_key: bytes, content: StatementContent, signature: bytes) -> bool:
    """Returns whether `signature` is the holder of `public_key` signing `content`."""
    if len(public_key) != PUBLIC_KEY_LENGTH:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, content.canonical_bytes())
    except InvalidSignature:
        return False
    return True


def key_fingerprint(public_key: bytes) -> str:
    """Returns the hex SHA-256 of a public key, short enough to compare by eye."""
    return hashlib.sha256(public_key).hexdigest()
