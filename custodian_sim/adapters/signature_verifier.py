"""The Ed25519 statement signature verifier, over the `cryptography` package."""

from __future__ import annotations

from service_kit import signing
from service_kit.statement import StatementContent


class Ed25519SignatureVerifier:
    """Verifies an exchange's signature over a statement's canonical bytes."""

    def verify(self, public_key: bytes, content: StatementContent, signature: bytes) -> bool:
        """Returns whether `signature` is the holder of `public_key` signing `content`."""
        return signing.verify(public_key, content, signature)
