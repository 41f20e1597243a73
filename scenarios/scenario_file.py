"""Scenario files: YAML checked against the published JSON Schema, then against the world it defines."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema
import yaml

from scenarios.world import ClientSpec, ExchangeSpec, World, WorldError
from service_kit.errors import ServiceError
from service_kit.money import AssetScales, parse_units

SCHEMA_PATH = Path(__file__).parent / "schema" / "scenario.schema.json"
LIBRARY_PATH = Path(__file__).parent / "library"
# Step times are offsets from the start; a month of sandbox time is far beyond any scenario and keeps
# a typo such as `100000h` from asking the clock for years of timers.
SCENARIO_DURATION_MS_MAX = 30 * 24 * 3600 * 1000
_DURATION_PATTERN = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?")
_DURATION_UNIT_MS = (3_600_000, 60_000, 1_000, 1)
# Actions only an OES client can take, because they move assets through the settlement network.
_OES_ONLY_ACTIONS = frozenset({"allocate", "deallocate", "dispute", "resolve_dispute"})
_YAML_NESTING_MAX = 64
# Decimals a reference price may have; the exchange rounds it to its market's tick size.
_REFERENCE_PRICE_SCALE = 8
# An over-claim factor has at most six decimals: the exchange reads it in parts per million.
_FACTOR_SCALE = 6

# Where a node sits in the document: mapping keys and sequence indexes from the root.
NodePath = tuple[str | int, ...]


class ScenarioError(WorldError):
    """A scenario file that cannot be used: `{file}:{line}: {what was expected}`."""

    def __init__(self, path: Path | str, line: int | None, detail: str, column: int | None = None) -> None:
        location = ":".join(str(part) for part in (path, line, column) if part is not None)
        super().__init__(f"{location}: {detail}")
        self.path = Path(path)
        self.line = line
        self.detail = detail


@dataclass(frozen=True)
class ScenarioExchange:
    """One exchange of a scenario's world."""

    identifier: str
    display_name: str
    reference_price: str
    settlement_funding: Mapping[str, str]
    price_path: Mapping[str, Any]


@dataclass(frozen=True)
class ScenarioClient:
    """One client of a scenario's world, with its custody model."""

    identifier: str
    display_name: str
    custody_model: str
    deposits: Mapping[str, str]
    connections: tuple[str, ...]
    allocations: Mapping[str, Mapping[str, str]]
    exchange: str

    @property
    def is_oes(self) -> bool:
        """True for a client whose assets sit in segregated custody."""
        return self.custody_model == "oes"


@dataclass(frozen=True)
class ScenarioWorld:
    """The world a scenario seeds before its first step."""

    assets: AssetScales
    settlement_interval_s: int
    dispute_window_s: int
    default_grace_s: int
    exchanges: tuple[ScenarioExchange, ...]
    clients: tuple[ScenarioClient, ...]

    def client(self, identifier: str) -> ScenarioClient:
        """The client with this id."""
        return next(client for client in self.clients if client.identifier == identifier)

    def as_world(self, seed: int) -> World:
        """The part `oes up` can seed (exchanges, OES clients' custody deposits and connections).

        Traditional clients, opening allocations and price paths are the scenario runner's to apply.
        """
        return World(
            seed,
            self.assets,
            self.settlement_interval_s,
            tuple(
                ExchangeSpec(
                    exchange.identifier,
                    exchange.display_name,
                    exchange.reference_price,
                    dict(exchange.settlement_funding),
                )
                for exchange in self.exchanges
            ),
            tuple(
                ClientSpec(client.identifier, client.display_name, dict(client.deposits), client.connections)
                for client in self.clients
                if client.is_oes
            ),
        )


@dataclass(frozen=True)
class Step:
    """One step of the timeline: an action at a sandbox time (ms from the start)."""

    at_ms: int
    action: str
    fields: Mapping[str, Any]
    line: int


@dataclass(frozen=True)
class Expectation:
    """One `expect` check; `at_ms` None means at the end of the scenario."""

    kind: str
    fields: Mapping[str, Any]
    line: int
    at_ms: int | None = None


@dataclass(frozen=True)
class Scenario:
    """A validated scenario file; loading it starts nothing."""

    name: str
    description: str
    seed: int
    world: ScenarioWorld
    steps: tuple[Step, ...]
    expectations: tuple[Expectation, ...]
    source: Path = field(compare=False)

    @property
    def end_ms(self) -> int:
        """The sandbox time of the last step (0 without steps)."""
        return self.steps[-1].at_ms if self.steps else 0


def load_scenario(path: Path | str) -> Scenario:
    """Reads, schema-checks and cross-checks a scenario file; every error names the file and line."""
    path = Path(path)
    document, lines = _read_document(path)
    _check_schema(path, document, lines)
    return _Checker(path, lines).scenario(document)


def library_scenarios() -> list[Path]:
    """The built-in scenario files, sorted by name."""
    return sorted(LIBRARY_PATH.glob("*.yaml"))


def find_scenario(name_or_path: str | Path) -> Path:
    """A scenario file given its path or the name of a library scenario."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        return candidate
    library_file = LIBRARY_PATH / f"{name_or_path}.yaml"
    if library_file.exists():
        return library_file
    names = ", ".join(path.stem for path in library_scenarios())
    raise ScenarioError(
        name_or_path, 1, f"no such scenario file or library scenario; the library has: {names}"
    )


def first_comment_line(path: Path) -> str:
    """The first comment line of a scenario file (what it shows), without the `#`."""
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip()
        if line.strip():
            break
    return ""


def parse_duration_ms(text: str) -> int:
    """Milliseconds of a duration such as `0s`, `90s`, `10m`, `1h30m` or `250ms`; ValueError if malformed."""
    match = _DURATION_PATTERN.fullmatch(text)
    if not text or match is None:
        raise ValueError(_duration_problem(text))
    return sum(
        int(group or 0) * unit_ms for group, unit_ms in zip(match.groups(), _DURATION_UNIT_MS, strict=True)
    )


def format_duration(milliseconds: int) -> str:
    """The duration in the scenario file's notation, e.g. `1h30m`."""
    assert milliseconds >= 0
    parts = []
    for unit, unit_ms in zip(("h", "m", "s", "ms"), _DURATION_UNIT_MS, strict=True):
        count, milliseconds = divmod(milliseconds, unit_ms)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def _duration_problem(text: str) -> str:
    if text.strip().startswith("-"):
        return (
            f"{text!r} is negative: step times are offsets from the start of the scenario (0s), "
            "so nothing can happen before it"
        )
    return (
        f"{text!r} is not a duration; write hours, minutes, seconds, milliseconds such as 0s, 90s, 10m, 1h30m"
    )


# Reading YAML with the line of every mapping key and sequence item.


def _read_document(path: Path) -> tuple[Any, dict[NodePath, int]]:
    try:
        text = path.read_text()
    except OSError as error:
        raise ScenarioError(path, 1, f"cannot read the file: {error.strerror or error}") from error
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise ScenarioError(
                path, 1, "the file is empty; a scenario is a mapping with name, seed, world, steps"
            )
        lines: dict[NodePath, int] = {(): root.start_mark.line + 1}
        return _Composer(path, loader, lines).value(root, (), 0), lines
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = " ".join(part for part in (error.context, error.problem) if part)
        if mark is None:
            raise ScenarioError(path, 1, f"malformed YAML: {problem}") from error
        raise ScenarioError(
            path, mark.line + 1, f"malformed YAML: {problem}", column=mark.column + 1
        ) from error
    except yaml.YAMLError as error:
        raise ScenarioError(path, 1, f"malformed YAML: {error}") from error
    finally:
        loader.dispose()


class _Composer:
    """Turns YAML nodes into plain data, noting the line of every key and item by its path."""

    def __init__(self, path: Path, loader: yaml.SafeLoader, lines: dict[NodePath, int]) -> None:
        self._path = path
        self._loader = loader
        self._lines = lines

    def value(self, node: yaml.Node, path: NodePath, depth: int) -> Any:
        if depth > _YAML_NESTING_MAX:
            raise ScenarioError(self._path, node.start_mark.line + 1, "the document nests too deeply")
        if isinstance(node, yaml.MappingNode):
            self._loader.flatten_mapping(node)
            mapping: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._loader.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                if not isinstance(key, str):
                    raise ScenarioError(self._path, line, f"the key {key!r} must be text")
                if key in mapping:
                    raise ScenarioError(self._path, line, f"the key `{key}` appears twice in this mapping")
                self._lines[(*path, key)] = line
                mapping[key] = self.value(value_node, (*path, key), depth + 1)
            return mapping
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item_node in enumerate(node.value):
                self._lines[(*path, index)] = item_node.start_mark.line + 1
                items.append(self.value(item_node, (*path, index), depth + 1))
            return items
        return self._loader.construct_object(node, deep=True)


# The JSON Schema check, reporting the first problem in document order.


def _is_strict_integer(checker: Any, instance: object) -> bool:
    # JSON Schema counts 7.0 as an integer; a scenario refuses every float.
    return isinstance(instance, int) and not isinstance(instance, bool)


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    schema = schema_document()
    base = jsonschema.Draft202012Validator
    type_checker = base.TYPE_CHECKER.redefine("integer", _is_strict_integer)
    validator_class = jsonschema.validators.extend(base, type_checker=type_checker)
    return validator_class(schema)


@functools.cache
def schema_document() -> Mapping[str, Any]:
    """The published scenario schema."""
    document: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return document


@dataclass(frozen=True, order=True)
class _Problem:
    line: int
    vague: bool
    message: str


def _check_schema(path: Path, document: Any, lines: Mapping[NodePath, int]) -> None:
    problems = [
        problem for error in _validator().iter_errors(document) for problem in _problems(error, lines)
    ]
    if problems:
        first = min(problems)
        raise ScenarioError(path, first.line, first.message)


def _line_of(path: Sequence[str | int], lines: Mapping[NodePath, int]) -> int:
    key = tuple(path)
    while key not in lines:
        key = key[:-1]
    return lines[key]


def _where(path: Iterable[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return f"`{text}`" if text else "the file"


def _problems(error: jsonschema.ValidationError, lines: Mapping[NodePath, int]) -> Iterator[_Problem]:
    path = list(error.absolute_path)
    line = _line_of(path, lines)
    where = _where(path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    instance = error.instance
    validator = error.validator
    if validator == "oneOf":
        yield from _one_of_problems(error, lines, where, line, schema)
        return
    if validator == "additionalProperties" and isinstance(instance, dict):
        known = sorted(schema.get("properties", {}))
        for key in instance:
            if key not in known:
                expected = f"; expected one of: {', '.join(known)}" if known else ""
                yield _Problem(
                    _line_of([*path, key], lines), False, f"unknown field `{key}` in {where}{expected}"
                )
        return
    if validator == "propertyNames":
        yield _Problem(
            _line_of([*path, str(instance)], lines),
            False,
            f"{where}: {instance!r} is not an asset code or id",
        )
        return
    if validator == "required" and isinstance(instance, dict):
        required_keys: list[str] = list(schema.get("required", []))
        for key in required_keys:
            if key not in instance:
                hint = schema.get("properties", {}).get(key, {}).get("description", "")
                suffix = f" ({hint})" if hint else ""
                yield _Problem(line, False, f"{where} is missing the required field `{key}`{suffix}")
        return
    description = schema.get("description", "")
    if validator == "type":
        yield _Problem(line, False, _type_message(where, instance, error.validator_value, description))
    elif (
        validator == "pattern" and schema.get("pattern") == schema_document()["$defs"]["duration"]["pattern"]
    ):
        yield _Problem(line, False, f"{where}: {_duration_problem(str(instance))}")
    elif validator == "pattern":
        yield _Problem(
            line, False, f"{where}: {instance!r} is not valid; expected {_lower_first(description)}"
        )
    elif validator in ("enum", "const"):
        choices = schema["enum"] if validator == "enum" else [schema["const"]]
        listed = ", ".join(str(choice) for choice in choices)
        yield _Problem(line, False, f"{where} is {instance!r}; expected one of: {listed}")
    else:
        expected = f"; expected {_lower_first(description)}" if description else ""
        yield _Problem(line, False, f"{where}: {error.message}{expected}")


def _one_of_problems(
    error: jsonschema.ValidationError,
    lines: Mapping[NodePath, int],
    where: str,
    line: int,
    schema: Mapping[str, Any],
) -> Iterator[_Problem]:
    """Explains a failed `oneOf` by the branch the instance meant, picked by its `const` or keys."""
    branches: dict[int, list[jsonschema.ValidationError]] = {}
    for sub_error in error.context or ():
        branches.setdefault(int(sub_error.relative_schema_path[0]), []).append(sub_error)
    candidates = {
        index: errors
        for index, errors in branches.items()
        if not any(sub.validator == "const" and len(sub.relative_path) == 1 for sub in errors)
    }
    if len(candidates) > 1:
        candidates = {
            index: errors
            for index, errors in candidates.items()
            if not any(sub.validator == "required" and not sub.relative_path for sub in errors)
        }
    if len(candidates) == 1:
        (errors,) = candidates.values()
        for sub_error in errors:
            yield from _problems(sub_error, lines)
        return
    if "action" in schema.get("properties", {}):
        # A step whose action is unknown: the `enum` on `action` says so more precisely.
        return
    discriminators = [
        sub for sub in error.context or () if sub.validator == "const" and len(sub.relative_path) == 1
    ]
    if not candidates and branches and len(discriminators) == len(branches):
        key_path = [*error.absolute_path, discriminators[0].relative_path[0]]
        listed = ", ".join(str(sub.validator_value) for sub in discriminators)
        value = discriminators[0].instance
        yield _Problem(
            _line_of(key_path, lines), False, f"{_where(key_path)} is {value!r}; expected one of: {listed}"
        )
        return
    yield _Problem(
        line, True, f"{where} is not valid; expected {_lower_first(schema.get('description', ''))}"
    )


def _type_message(where: str, instance: object, expected: object, description: str) -> str:
    got = _yaml_kind(instance)
    if expected == "string" and isinstance(instance, int | float) and not isinstance(instance, bool):
        if description == schema_document()["$defs"]["duration"]["description"]:
            return f'{where} is {got}; expected a sandbox time such as "{instance}s" or "10m"'
        return f'{where} is {got}; amounts and prices are quoted decimal strings: write "{instance}"'
    wanted = {"string": "text", "integer": "an integer", "object": "a mapping", "array": "a list"}
    return f"{where} is {got}; expected {wanted.get(str(expected), str(expected))}" + (
        f": {_lower_first(description)}" if description else ""
    )


def _yaml_kind(instance: object) -> str:
    if isinstance(instance, bool):
        return f"the boolean {str(instance).lower()}"
    if isinstance(instance, float):
        return f"the number {instance!r} (a float)"
    if isinstance(instance, int):
        return f"the number {instance}"
    if isinstance(instance, str):
        return f"the text {instance!r}"
    if isinstance(instance, dict):
        return "a mapping"
    if isinstance(instance, list):
        return "a list"
    if instance is None:
        return "empty"
    return f"{type(instance).__name__} {instance!r}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# Checks the schema cannot express: times, references, custody models, amounts in asset scales.


class _Checker:
    def __init__(self, path: Path, lines: Mapping[NodePath, int]) -> None:
        self._path = path
        self._lines = lines

    def fail(self, path: NodePath, message: str) -> ScenarioError:
        return ScenarioError(self._path, _line_of(path, self._lines), message)

    def scenario(self, document: dict[str, Any]) -> Scenario:
        world = self.world(document["world"])
        steps = self.steps(document["steps"], world)
        end_ms = steps[-1].at_ms if steps else 0
        expectations = tuple(
            self.expectation(index, item, world, end_ms)
            for index, item in enumerate(document.get("expect", []))
        )
        return Scenario(
            document["name"],
            document["description"],
            document["seed"],
            world,
            steps,
            expectations,
            self._path,
        )

    # The world.

    def world(self, node: dict[str, Any]) -> ScenarioWorld:
        base: NodePath = ("world",)
        assets = AssetScales(dict(node["assets"]))
        exchanges = tuple(
            self.exchange((*base, "exchanges", index), item, assets)
            for index, item in enumerate(node["exchanges"])
        )
        self.unique([exchange.identifier for exchange in exchanges], (*base, "exchanges"), "exchange")
        exchange_ids = [exchange.identifier for exchange in exchanges]
        clients = tuple(
            self.client((*base, "clients", index), item, assets, exchange_ids)
            for index, item in enumerate(node["clients"])
        )
        self.unique([client.identifier for client in clients], (*base, "clients"), "client")
        return ScenarioWorld(
            assets,
            node.get("settlement_interval_s", 3600),
            node.get("dispute_window_s", 0),
            node.get("default_grace_s", 300),
            exchanges,
            clients,
        )

    def unique(self, identifiers: list[str], path: NodePath, noun: str) -> None:
        seen: set[str] = set()
        for index, identifier in enumerate(identifiers):
            if identifier in seen:
                raise self.fail((*path, index, "id"), f"the {noun} id `{identifier}` is used twice")
            seen.add(identifier)

    def exchange(self, path: NodePath, node: dict[str, Any], assets: AssetScales) -> ScenarioExchange:
        reference_price = node.get("reference_price", "60000")
        try:
            parse_units(reference_price, _REFERENCE_PRICE_SCALE, "reference_price")
        except ServiceError as error:
            raise self.fail((*path, "reference_price"), f"`reference_price`: {error.message}") from error
        price_path = node.get("price_path", {"kind": "constant"})
        self.price_path((*path, "price_path"), price_path)
        return ScenarioExchange(
            node["id"],
            node.get("display_name", node["id"]),
            reference_price,
            MappingProxyType(
                self.amounts((*path, "settlement_funding"), node.get("settlement_funding", {}), assets)
            ),
            MappingProxyType(price_path),
        )

    def price_path(self, path: NodePath, node: Mapping[str, Any]) -> None:
        if node["kind"] == "scripted":
            previous = -1
            for index, point in enumerate(node["points"]):
                if point["offset_s"] <= previous:
                    raise self.fail(
                        (*path, "points", index),
                        f"point offsets must increase: {point['offset_s']} s follows {previous} s",
                    )
                previous = point["offset_s"]
        if node["kind"] == "csv" and not (self._path.parent / node["file"]).is_file():
            raise self.fail(
                (*path, "file"), f"the price file {node['file']!r} does not exist next to the scenario"
            )

    def amounts(
        self, path: NodePath, node: Mapping[str, str], assets: AssetScales, *, allow_zero: bool = True
    ) -> dict[str, str]:
        for asset, amount in node.items():
            self.amount((*path, asset), asset, amount, assets, allow_zero=allow_zero)
        return dict(node)

    def asset(self, path: NodePath, asset: str, assets: AssetScales) -> None:
        if asset not in assets.scales:
            raise self.fail(
                path, f"unknown asset `{asset}`; the world's assets are {', '.join(assets.scales)}"
            )

    def amount(
        self,
        path: NodePath,
        asset: str,
        text: str,
        assets: AssetScales,
        *,
        allow_zero: bool = False,
        allow_negative: bool = False,
    ) -> int:
        self.asset(path, asset, assets)
        try:
            return assets.parse(
                asset, text, str(path[-1]), allow_zero=allow_zero, allow_negative=allow_negative
            )
        except ServiceError as error:
            raise self.fail(path, f"{_where(path)} ({asset}): {error.message}") from error

    def client(
        self, path: NodePath, node: dict[str, Any], assets: AssetScales, exchange_ids: list[str]
    ) -> ScenarioClient:
        identifier = node["id"]
        model = node.get("custody_model", "oes")
        wrong_fields = ("exchange",) if model == "oes" else ("connections", "allocations")
        for key in wrong_fields:
            if key in node:
                raise self.fail(
                    (*path, key), f"client {identifier} is `{model}`: `{key}` is only for the other model"
                )
        deposits = self.amounts((*path, "deposits"), node.get("deposits", {}), assets)
        connections = tuple(node.get("connections", ()))
        for index, exchange in enumerate(connections):
            if exchange not in exchange_ids:
                raise self.fail((*path, "connections", index), f"unknown exchange `{exchange}`")
        allocations: dict[str, Mapping[str, str]] = {}
        allocated_units: dict[str, int] = {}
        for exchange, amounts in node.get("allocations", {}).items():
            if exchange not in connections:
                raise self.fail(
                    (*path, "allocations", exchange),
                    f"client {identifier} allocates to `{exchange}` but does not list it in `connections`",
                )
            for asset, amount in amounts.items():
                units = self.amount((*path, "allocations", exchange, asset), asset, amount, assets)
                allocated_units[asset] = allocated_units.get(asset, 0) + units
            allocations[exchange] = MappingProxyType(dict(amounts))
        for asset, units in allocated_units.items():
            deposit_units = assets.parse(asset, deposits.get(asset, "0"), "deposits", allow_zero=True)
            if units > deposit_units:
                raise self.fail(
                    (*path, "allocations"),
                    f"client {identifier} allocates {assets.format(asset, units)} {asset} "
                    f"but deposits only {assets.format(asset, deposit_units)}",
                )
        exchange = node.get("exchange", exchange_ids[0] if model == "traditional" else "")
        if exchange and exchange not in exchange_ids:
            raise self.fail((*path, "exchange"), f"unknown exchange `{exchange}`")
        return ScenarioClient(
            identifier,
            node.get("display_name", identifier),
            model,
            MappingProxyType(deposits),
            connections,
            MappingProxyType(allocations),
            exchange,
        )

    # The timeline.

    def steps(self, items: list[dict[str, Any]], world: ScenarioWorld) -> tuple[Step, ...]:
        steps: list[Step] = []
        for index, item in enumerate(items):
            path: NodePath = ("steps", index)
            at_ms = self.time((*path, "at"), item["at"])
            if steps and at_ms < steps[-1].at_ms:
                previous = steps[-1]
                raise self.fail(
                    (*path, "at"),
                    f"step {index + 1} ({item['action']}) is at {item['at']}, before the previous step "
                    f"at {format_duration(previous.at_ms)} (line {previous.line}); steps run in sandbox-time "
                    "order, so step times must not decrease",
                )
            self.step(path, item, world)
            fields = {key: value for key, value in item.items() if key not in ("at", "action")}
            steps.append(Step(at_ms, item["action"], MappingProxyType(fields), _line_of(path, self._lines)))
        return tuple(steps)

    def time(self, path: NodePath, text: str) -> int:
        try:
            at_ms = parse_duration_ms(text)
        except ValueError as error:
            raise self.fail(path, f"{_where(path)}: {error}") from error
        if at_ms > SCENARIO_DURATION_MS_MAX:
            raise self.fail(path, f"{_where(path)}: {text} is after the limit of 30 days of sandbox time")
        return at_ms

    def known_client(self, path: NodePath, identifier: str, world: ScenarioWorld) -> ScenarioClient:
        for client in world.clients:
            if client.identifier == identifier:
                return client
        known = ", ".join(client.identifier for client in world.clients) or "none"
        raise self.fail(path, f"unknown client `{identifier}`; the world's clients are: {known}")

    def known_exchange(self, path: NodePath, identifier: str, world: ScenarioWorld) -> str:
        known = [exchange.identifier for exchange in world.exchanges]
        if identifier not in known:
            raise self.fail(
                path, f"unknown exchange `{identifier}`; the world's exchanges are: {', '.join(known)}"
            )
        return identifier

    def step(self, path: NodePath, item: dict[str, Any], world: ScenarioWorld) -> None:
        action = item["action"]
        exchange = ""
        if "exchange" in item:
            exchange = self.known_exchange((*path, "exchange"), item["exchange"], world)
        if "client" in item:
            client = self.known_client((*path, "client"), item["client"], world)
            exchange = exchange or (client.exchange if not client.is_oes else world.exchanges[0].identifier)
            if action in _OES_ONLY_ACTIONS and not client.is_oes:
                raise self.fail(
                    (*path, "client"),
                    f"`{action}` is for OES clients; {client.identifier} is a traditional client",
                )
            trades = action in (*_OES_ONLY_ACTIONS, "place_order", "cancel_all")
            if client.is_oes and trades and exchange not in client.connections:
                raise self.fail(
                    (*path, "client"),
                    f"client {client.identifier} has no connection to `{exchange}`; "
                    "add it to its `connections`",
                )
            if not client.is_oes and exchange != client.exchange:
                raise self.fail(
                    (*path, "exchange"),
                    f"traditional client {client.identifier} has its account at `{client.exchange}`",
                )
        assets = world.assets
        if "asset" in item:
            allow_zero = action != "withdraw" and action not in ("allocate", "deallocate", "deposit")
            for key in ("amount", "claimed_amount", "resolved_amount"):
                if key in item:
                    self.amount(
                        (*path, key),
                        item["asset"],
                        item[key],
                        assets,
                        allow_zero=allow_zero,
                        allow_negative=key != "amount",
                    )
            self.asset((*path, "asset"), item["asset"], assets)
        if "market" in item:
            base, quote = self.market((*path, "market"), item["market"], assets)
            if "quantity" in item:
                self.amount((*path, "quantity"), base, item["quantity"], assets)
            for key in ("price", "protection_price"):
                if key in item:
                    self.amount((*path, key), quote, item[key], assets)
        self.action_fields(path, item)

    def market(self, path: NodePath, market: str, assets: AssetScales) -> tuple[str, str]:
        base, quote = market.split("-")
        for asset in (base, quote):
            self.asset(path, asset, assets)
        if base == quote:
            raise self.fail(path, f"market `{market}` trades an asset against itself")
        return base, quote

    def action_fields(self, path: NodePath, item: dict[str, Any]) -> None:
        """Fields that depend on another field's value (order type, fault kind, venue state)."""
        action = item["action"]
        # `needs`: when the condition holds the field must be there; `forbids`: it must not be.
        needs: list[tuple[bool, str, str]] = []
        forbids: list[tuple[bool, str, str]] = []
        if action == "place_order":
            limit = item["type"] == "limit"
            needs.append((limit, "price", "a limit order needs a `price`"))
            forbids += [
                (not limit, "price", "a market order has no `price`; use `protection_price`"),
                (limit, "protection_price", "`protection_price` is for market orders"),
                (not limit, "time_in_force", "`time_in_force` is for limit orders"),
                (not limit, "post_only", "`post_only` is for limit orders"),
            ]
        elif action == "set_venue_state":
            forbids.append(
                (
                    item["state"] != "insolvent",
                    "recovery_rate_bps",
                    "`recovery_rate_bps` goes with state `insolvent`",
                )
            )
        elif action == "set_statement_fault":
            over_claim = item["kind"] == "over_claim"
            needs.append((over_claim, "factor", 'an `over_claim` fault needs a `factor` above 1, e.g. "2.5"'))
            forbids.append((not over_claim, "factor", "`factor` goes with kind `over_claim`"))
            if over_claim and "factor" in item and not _decimal_above_one(item["factor"]):
                raise self.fail((*path, "factor"), f"`factor` {item['factor']!r} must be above 1")
        elif action == "set_price_fault":
            shock = item["kind"] == "shock"
            needs += [
                (shock, "shock_percent", 'a `shock` needs `shock_percent`, e.g. "-30"'),
                (not shock, "duration_s", "a `stale` price fault needs `duration_s`"),
            ]
            forbids += [
                (not shock, "shock_percent", "`shock_percent` goes with kind `shock`"),
                (shock, "duration_s", "`duration_s` goes with kind `stale`"),
            ]
        elif action == "set_fault":
            if ("call" in item) == ("crash_point" in item):
                raise self.fail(path, "a `set_fault` step needs exactly one of `call` and `crash_point`")
            if "call" in item:
                self.call_fault((*path, "call"), item["call"])
        elif action == "set_price_path":
            self.price_path((*path, "path"), item["path"])
        for condition, key, message in needs:
            if condition and key not in item:
                raise self.fail(path, message)
        for condition, key, message in forbids:
            if condition and key in item:
                raise self.fail((*path, key), message)

    def call_fault(self, path: NodePath, node: Mapping[str, Any]) -> None:
        effect = node["effect"]
        needs = {"latency": "latency_ms", "error": "status"}.get(effect)
        if needs and needs not in node:
            raise self.fail(path, f"a `{effect}` call fault needs `{needs}`")
        for key in ("latency_ms", "status", "reason"):
            owner = "latency" if key == "latency_ms" else "error"
            if key in node and effect != owner:
                raise self.fail((*path, key), f"`{key}` goes with effect `{owner}`")

    # The checks.

    def expectation(self, index: int, item: dict[str, Any], world: ScenarioWorld, end_ms: int) -> Expectation:
        path: NodePath = ("expect", index)
        at_ms = None
        if "at" in item:
            at_ms = self.time((*path, "at"), item["at"])
            if at_ms > end_ms:
                raise self.fail(
                    (*path, "at"),
                    f"the check is at {item['at']} but the last step is at {format_duration(end_ms)}; "
                    "add a `wait` step at that time",
                )
        (kind,) = (key for key in item if key != "at")
        fields = item[kind]
        body: NodePath = (*path, kind)
        assets = world.assets
        if "asset" in fields:
            self.asset((*body, "asset"), fields["asset"], assets)
        if "exchange" in fields:
            self.known_exchange((*body, "exchange"), fields["exchange"], world)
        if kind == "custody_balance":
            self.custody_account((*body, "account"), fields["account"], world)
        if kind in ("exchange_balance", "claim"):
            client = self.known_client((*body, "account"), fields["account"].removeprefix("clients/"), world)
            if kind == "claim" and client.is_oes:
                raise self.fail(
                    (*body, "account"),
                    f"{client.identifier} is an OES client: claims on an estate are for traditional clients",
                )
        if kind == "connection":
            client_id, _, exchange = fields["name"].removeprefix("clients/").partition("/connections/")
            client = self.known_client((*body, "name"), client_id, world)
            if exchange not in client.connections:
                raise self.fail((*body, "name"), f"client {client_id} has no connection to `{exchange}`")
        if kind == "settlement":
            self.known_exchange((*body, "exchange"), fields["exchange"], world)
        if kind == "settlement_claim":
            self.claim_parties(body, fields["creditor"], fields["debtor"], world)
        for key, signed in (("equals", True), ("amount", False), ("recovered", False)):
            if key in fields:
                self.amount(
                    (*body, key), fields["asset"], fields[key], assets, allow_zero=True, allow_negative=signed
                )
        return Expectation(kind, MappingProxyType(dict(fields)), _line_of(path, self._lines), at_ms)

    def claim_parties(self, body: NodePath, creditor: str, debtor: str, world: ScenarioWorld) -> None:
        """A settlement claim is between a client and an exchange of the world, one way or the other."""
        kinds = []
        for key, party in (("creditor", creditor), ("debtor", debtor)):
            kind, _, identifier = party.partition("/")
            if kind == "clients":
                self.known_client((*body, key), identifier, world)
            else:
                self.known_exchange((*body, key), identifier, world)
            kinds.append(kind)
        if kinds[0] == kinds[1]:
            raise self.fail(
                (*body, "debtor"),
                "a settlement claim is between a client and an exchange, one owing the other",
            )

    def custody_account(self, path: NodePath, account: str, world: ScenarioWorld) -> None:
        parts = account.split("/")
        if parts[0] == "clients":
            client = self.known_client(path, parts[1], world)
            if len(parts) == 5 and parts[3] not in client.connections:
                raise self.fail(path, f"client {client.identifier} has no connection to `{parts[3]}`")
        elif parts[0] == "exchanges":
            self.known_exchange(path, parts[1], world)


def _decimal_above_one(text: str) -> bool:
    # The exchange reads the factor in parts per million; at the largest scale any factor above one
    # would exceed the largest amount parse_units accepts.
    try:
        units = parse_units(text, _FACTOR_SCALE, "factor")
    except ServiceError:
        return False
    return units > 10**_FACTOR_SCALE
