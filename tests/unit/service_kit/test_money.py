"""Money parsing and formatting: exact, and every bad amount refused with a field violation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service_kit.errors import ErrorCode, ServiceError
from service_kit.money import UNITS_ABS_MAX, AssetScales, format_units, parse_units

SCALES = AssetScales({"BTC": 8, "USDT": 6})


@given(units=st.integers(min_value=-UNITS_ABS_MAX, max_value=UNITS_ABS_MAX), scale=st.integers(0, 18))
def test_format_then_parse_is_identity(units: int, scale: int) -> None:
    assert (
        parse_units(format_units(units, scale), scale, "amount", allow_negative=True, allow_zero=True)
        == units
    )


def test_examples() -> None:
    assert SCALES.parse("BTC", "12.5") == 1_250_000_000
    assert SCALES.format("USDT", 12_500_000) == "12.500000"
    assert SCALES.format("BTC", -1) == "-0.00000001"
    assert SCALES.parse("USDT", "-60120", allow_negative=True) == -60_120_000_000


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-1", "AMOUNT_NEGATIVE"),
        ("abc", "AMOUNT_MALFORMED"),
        ("", "AMOUNT_MALFORMED"),
        ("1.123456789", "AMOUNT_TOO_PRECISE"),
        ("0", "AMOUNT_NOT_POSITIVE"),
        ("1e5", "AMOUNT_MALFORMED"),
        (" 1", "AMOUNT_MALFORMED"),
        ("10000000000000", "AMOUNT_OUT_OF_RANGE"),
    ],
)
def test_bad_amounts_are_invalid_arguments_naming_the_field(text: str, reason: str) -> None:
    with pytest.raises(ServiceError) as raised:
        SCALES.parse("BTC", text, "allocation.amount")
    assert raised.value.code is ErrorCode.INVALID_ARGUMENT
    assert raised.value.reason == reason
    assert [violation.field for violation in raised.value.field_violations] == ["allocation.amount"]


def test_unknown_asset_lists_the_known_ones() -> None:
    with pytest.raises(ServiceError) as raised:
        SCALES.parse("DOGE", "1")
    assert raised.value.reason == "UNKNOWN_ASSET"
    assert "BTC, USDT" in raised.value.message
