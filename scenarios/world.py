"""The world file: assets, exchanges and clients that `oes up` seeds into fresh services."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from service_kit.auth import IDENTIFIER_PATTERN
from service_kit.errors import ServiceError
from service_kit.money import SCALE_MAX, AssetScales

DEMO_WORLD_PATH = Path(__file__).parent / "worlds" / "demo.yaml"


class WorldError(ValueError):
    """A world file that cannot be used, with the file and line to fix."""


@dataclass(frozen=True)
class ExchangeSpec:
    """One exchange of the world."""

    identifier: str
    display_name: str
    reference_price: str
    settlement_funding: dict[str, str]


@dataclass(frozen=True)
class ClientSpec:
    """One client of the world."""

    identifier: str
    display_name: str
    deposits: dict[str, str]
    connections: tuple[str, ...]


@dataclass(frozen=True)
class World:
    """A validated world."""

    seed: int
    assets: AssetScales
    settlement_interval_s: int
    exchanges: tuple[ExchangeSpec, ...]
    clients: tuple[ClientSpec, ...]

    @property
    def asset_specs(self) -> list[str]:
        """The assets as `CODE=SCALE` command-line specs for the services."""
        return [f"{code}={scale}" for code, scale in self.assets.scales.items()]


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that remembers the line of every mapping, for error messages."""


def _construct_mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = {str(key): value for key, value in loader.construct_mapping(node, deep=True).items()}
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping_with_line)


def load_world(path: Path) -> World:
    """Reads and validates a world file; every error names the file and line."""
    try:
        document = yaml.load(path.read_text(), Loader=_LineLoader)
    except (OSError, yaml.YAMLError) as error:
        raise WorldError(f"{path}: {error}") from error
    if not isinstance(document, dict):
        raise WorldError(f"{path}:1: a world file is a mapping with seed, assets, exchanges and clients")
    return _World(path).parse(document)


class _World:
    def __init__(self, path: Path) -> None:
        self._path = path

    def fail(self, node: dict[str, Any], message: str) -> WorldError:
        return WorldError(f"{self._path}:{node.get('__line__', 1)}: {message}")

    def parse(self, document: dict[str, Any]) -> World:
        scales = document.get("assets")
        if isinstance(scales, dict):
            scales = {code: scale for code, scale in scales.items() if code != "__line__"}
        if not isinstance(scales, dict) or not scales:
            raise self.fail(document, "`assets` must map asset codes to scales, e.g. {BTC: 8, USDT: 6}")
        for code, scale in scales.items():
            if not re.fullmatch(r"[A-Z][A-Z0-9]{1,11}", str(code)) or not isinstance(scale, int):
                raise self.fail(document, f"asset {code!r}: codes are upper case, scales integers")
            if not 0 <= scale <= SCALE_MAX:
                raise self.fail(document, f"asset {code}: scale {scale} is outside 0..{SCALE_MAX}")
        assets = AssetScales(scales)
        exchanges = tuple(self.exchange(node, assets) for node in self.sequence(document, "exchanges"))
        if len(exchanges) != 1:
            raise self.fail(document, "exactly one exchange is supported for now")
        exchange_ids = {exchange.identifier for exchange in exchanges}
        clients = tuple(
            self.client(node, assets, exchange_ids) for node in self.sequence(document, "clients")
        )
        seed = document.get("seed", 1)
        interval_s = document.get("settlement_interval_s", 3600)
        if not isinstance(seed, int) or not isinstance(interval_s, int) or interval_s <= 0:
            raise self.fail(
                document, "`seed` must be an integer and `settlement_interval_s` a positive integer"
            )
        return World(seed, assets, interval_s, exchanges, clients)

    def sequence(self, node: dict[str, Any], key: str) -> list[dict[str, Any]]:
        items = node.get(key)
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise self.fail(node, f"`{key}` must be a list of mappings")
        return items

    def identifier(self, node: dict[str, Any]) -> str:
        identifier = node.get("id")
        if not isinstance(identifier, str) or not IDENTIFIER_PATTERN.fullmatch(identifier):
            raise self.fail(node, f"`id` {identifier!r} must be lower-case letters, digits and dashes")
        return identifier

    def amounts(self, node: dict[str, Any], key: str, assets: AssetScales) -> dict[str, str]:
        amounts = {
            asset: str(amount) for asset, amount in (node.get(key) or {}).items() if asset != "__line__"
        }
        for asset, amount in amounts.items():
            try:
                assets.parse(asset, amount, key)
            except ServiceError as error:
                raise self.fail(node, f"`{key}.{asset}`: {error.message}") from error
        return amounts

    def exchange(self, node: dict[str, Any], assets: AssetScales) -> ExchangeSpec:
        identifier = self.identifier(node)
        return ExchangeSpec(
            identifier,
            str(node.get("display_name", identifier)),
            str(node.get("reference_price", "60000")),
            self.amounts(node, "settlement_funding", assets),
        )

    def client(self, node: dict[str, Any], assets: AssetScales, exchange_ids: set[str]) -> ClientSpec:
        identifier = self.identifier(node)
        connections = tuple(node.get("connections") or ())
        unknown = [exchange for exchange in connections if exchange not in exchange_ids]
        if unknown:
            raise self.fail(node, f"client {identifier} connects to unknown exchanges {unknown}")
        return ClientSpec(
            identifier,
            str(node.get("display_name", identifier)),
            self.amounts(node, "deposits", assets),
            connections,
        )
