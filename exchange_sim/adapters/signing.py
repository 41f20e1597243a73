"""The exchange's Ed25519 statement key, derived from the exchange id and the seed."""

from __future__ import annotations

import hashlib

from service_kit.signing import private_key_from_seed, public_key_bytes, sign
from service_kit.statement import StatementContent


def statement_key_seed(exchange_id: str, seed: int) -> bytes:
    """The 32 private-key bytes: sha256 of `oes-exchange-key:{exchange}:{seed}` (the shared rule)."""
    return hashlib.sha256(f"oes-exchange-key:{exchange_id}:{seed}".encode()).digest()


class Ed25519StatementSigner:
    """Signs statements with the key every party can re-derive from the exchange id and seed."""

    def __init__(self, exchange_id: str, seed: int) -> None:
        self._private_key = private_key_from_seed(statement_key_seed(exchange_id, seed))
        self._public_key = public_key_bytes(self._private_key)
        self._forged_key = private_key_from_seed(statement_key_seed(f"{exchange_id}-forged", seed))

    def sign(self, content: StatementContent) -> bytes:
        """Signs the statement's canonical bytes."""
        return sign(self._private_key, content)

    def sign_with_wrong_key(self, content: StatementContent) -> bytes:
        """Signs with a key derived like the venue's but for another exchange id: a forged signature
        (the WRONG_KEY statement fault) that no custodian may accept."""
        return sign(self._forged_key, content)

    def public_key(self) -> bytes:
        """The raw 32-byte public key."""
        return self._public_key
