"""Page tokens: opaque, round-trip the last sequence, refuse tampering and other filters."""

from __future__ import annotations

import base64

import pytest

from service_kit.errors import ErrorCode, ServiceError
from service_kit.paging import decode_page_token, encode_page_token, query_fingerprint

FINGERPRINT = query_fingerprint("clients/acme", None, "BTC", None, None)


def test_a_token_round_trips_its_sequence_and_an_empty_token_is_the_first_page() -> None:
    token = encode_page_token(42, FINGERPRINT)
    assert "42" not in token
    assert decode_page_token(token, FINGERPRINT) == 42
    assert decode_page_token("", FINGERPRINT) == 0


def forge(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "garbage!",
        forge(f"v1:-1:{FINGERPRINT}"),
        forge(f"v1:0:{FINGERPRINT}"),
        forge(f"v2:5:{FINGERPRINT}"),
        forge("v1:5:0123456789abcdef"),
        encode_page_token(5, query_fingerprint("clients/acme", None, "USDT", None, None)),
        encode_page_token(5, FINGERPRINT)[:-2],
    ],
)
def test_tampered_or_foreign_tokens_are_refused(token: str) -> None:
    with pytest.raises(ServiceError) as raised:
        decode_page_token(token, FINGERPRINT)
    assert (raised.value.code, raised.value.reason) == (ErrorCode.INVALID_ARGUMENT, "PAGE_TOKEN_INVALID")
    assert raised.value.field_violations[0].field == "page_token"
