"""Exact money: decimal strings on the wire, integers of the smallest unit inside."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from service_kit.errors import invalid_argument

# Amounts stay inside SQLite's signed 64-bit integers with room to add a few together.
UNITS_ABS_MAX = 10**18
SCALE_MAX = 18

_DECIMAL_PATTERN = re.compile(r"^(-?)(\d+)(?:\.(\d+))?$")


def parse_units(
    text: str,
    scale: int,
    field_name: str,
    *,
    allow_negative: bool = False,
    allow_zero: bool = False,
) -> int:
    """Parses a decimal string into integer units of 10**-scale, refusing anything inexact."""
    assert 0 <= scale <= SCALE_MAX, "scales come from configuration and are checked there"
    match = _DECIMAL_PATTERN.match(text)
    if match is None:
        raise invalid_argument(
            "AMOUNT_MALFORMED", field_name, f'{text!r} is not a decimal number such as "12.5"'
        )
    sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
    if len(fraction) > scale:
        raise invalid_argument(
            "AMOUNT_TOO_PRECISE",
            field_name,
            f"{text!r} has {len(fraction)} decimals; this asset allows at most {scale}",
        )
    if len(whole) > 19:
        raise invalid_argument("AMOUNT_OUT_OF_RANGE", field_name, f"{text!r} is too large")
    units = int(whole) * 10**scale + int(fraction.ljust(scale, "0") or "0")
    if sign:
        units = -units
    if units < 0 and not allow_negative:
        raise invalid_argument("AMOUNT_NEGATIVE", field_name, f"{text!r} must not be negative")
    if units == 0 and not allow_zero:
        raise invalid_argument("AMOUNT_NOT_POSITIVE", field_name, f"{text!r} must be greater than zero")
    if abs(units) > UNITS_ABS_MAX:
        raise invalid_argument(
            "AMOUNT_OUT_OF_RANGE", field_name, f"{text!r} exceeds the largest amount the sandbox holds"
        )
    return units


def format_units(units: int, scale: int) -> str:
    """Formats integer units as a decimal string with exactly `scale` decimals."""
    assert 0 <= scale <= SCALE_MAX
    sign = "-" if units < 0 else ""
    whole, fraction = divmod(abs(units), 10**scale)
    if scale == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:0{scale}d}"


@dataclass(frozen=True)
class AssetScales:
    """The configured assets and the number of decimals each one carries."""

    scales: Mapping[str, int]

    def __post_init__(self) -> None:
        for asset, scale in self.scales.items():
            assert re.fullmatch(r"[A-Z][A-Z0-9]{1,11}", asset), f"asset code {asset!r} is not upper case"
            assert 0 <= scale <= SCALE_MAX, f"scale of {asset} out of range"

    def scale(self, asset: str, field_name: str = "asset") -> int:
        """Returns the asset's scale, or an INVALID_ARGUMENT naming the known assets."""
        if asset not in self.scales:
            known = ", ".join(sorted(self.scales))
            raise invalid_argument("UNKNOWN_ASSET", field_name, f"unknown asset {asset!r}; known: {known}")
        return self.scales[asset]

    def parse(
        self,
        asset: str,
        text: str,
        field_name: str = "amount",
        *,
        allow_negative: bool = False,
        allow_zero: bool = False,
    ) -> int:
        """Parses an amount of `asset` into integer units."""
        return parse_units(
            text,
            self.scale(asset),
            field_name,
            allow_negative=allow_negative,
            allow_zero=allow_zero,
        )

    def format(self, asset: str, units: int) -> str:
        """Formats integer units of `asset` for the wire."""
        return format_units(units, self.scales[asset])

    @staticmethod
    def from_specs(specs: list[str]) -> AssetScales:
        """Builds scales from `CODE=SCALE` command-line specs, for example `BTC=8`."""
        scales: dict[str, int] = {}
        for spec in specs:
            code, separator, scale_text = spec.partition("=")
            if not separator or not scale_text.isdigit():
                raise ValueError(f"asset spec {spec!r} must look like BTC=8")
            scales[code] = int(scale_text)
        return AssetScales(scales)
