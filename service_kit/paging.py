"""Paging of list RPCs: page sizes, sequence positions, and opaque tokens bound to the query."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from service_kit.errors import invalid_argument

PAGE_TOKEN_INVALID = "PAGE_TOKEN_INVALID"
# Page sizes of the list RPCs: 0 asks for the default.
PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 1000
_TOKEN_VERSION = "v1"
_FINGERPRINT_HEX_LENGTH = 16
_DECODED_PATTERN = re.compile(r"v1:([0-9]{1,19}):([0-9a-f]{16})")


def query_fingerprint(*filters: object) -> str:
    """Identifies the filters of a list request, so a token is only accepted with the same ones."""
    return hashlib.sha256(repr(filters).encode()).hexdigest()[:_FINGERPRINT_HEX_LENGTH]


def encode_page_token(after_sequence: int, fingerprint: str) -> str:
    """The token of the page after `after_sequence` for the query with `fingerprint`."""
    assert after_sequence > 0 and len(fingerprint) == _FINGERPRINT_HEX_LENGTH
    text = f"{_TOKEN_VERSION}:{after_sequence}:{fingerprint}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_page_token(token: str, fingerprint: str, field_name: str = "page_token") -> int:
    """The sequence the previous page ended at; 0 for an empty token (the first page)."""
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    match = _DECODED_PATTERN.fullmatch(text)
    if match is None or match.group(2) != fingerprint or int(match.group(1)) == 0:
        raise invalid_argument(
            PAGE_TOKEN_INVALID,
            field_name,
            "is not a next_page_token returned for this same request; "
            "send it back unchanged with the same filters, or leave it empty for the first page",
        )
    return int(match.group(1))


def parse_page_size(page_size: int, field_name: str = "page_size") -> int:
    """0 means the default; otherwise 1 to PAGE_SIZE_MAX."""
    if page_size == 0:
        return PAGE_SIZE_DEFAULT
    if not 1 <= page_size <= PAGE_SIZE_MAX:
        raise invalid_argument(
            "PAGE_SIZE_INVALID", field_name, f"must be 1 to {PAGE_SIZE_MAX}, or 0 for {PAGE_SIZE_DEFAULT}"
        )
    return page_size


def parse_after_sequence(after_sequence: int, field_name: str = "after_sequence") -> int:
    """A sequence number to continue after: 0 for the start, never negative."""
    if after_sequence < 0:
        raise invalid_argument(
            "AFTER_SEQUENCE_INVALID", field_name, "must be 0 (from the start) or the last sequence seen"
        )
    return after_sequence
