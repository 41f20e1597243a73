"""Scenario files: the library validates; every kind of bad file is refused with its file and line."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from scenarios import cli
from scenarios.scenario_file import (
    ScenarioError,
    find_scenario,
    library_scenarios,
    load_scenario,
    parse_duration_ms,
)

BASE = """\
# A small scenario the tests break one line at a time.
name: test-scenario
description: a scenario for the tests
seed: 1
world:
  assets: {BTC: 8, USDT: 6}
  exchanges:
    - id: okx-sim
      settlement_funding: {BTC: "100"}
  clients:
    - id: acme
      deposits: {BTC: "10", USDT: "500000"}
      connections: [okx-sim]
      allocations: {okx-sim: {BTC: "2"}}
    - id: initech
      custody_model: traditional
      deposits: {BTC: "1"}
steps:
  - at: 0s
    action: place_order
    client: acme
    market: BTC-USDT
    side: buy
    type: market
    quantity: "0.5"
  - at: 1m
    action: settle
    exchange: okx-sim
expect:
  - custody_balance: {account: clients/acme/available, asset: BTC, equals: "8"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def edited(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


def error_of(tmp_path: Path, text: str) -> ScenarioError:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value


def line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if fragment in line)


@pytest.mark.parametrize("path", library_scenarios(), ids=lambda path: path.stem)
def test_every_library_scenario_validates(path: Path) -> None:
    scenario = load_scenario(path)

    assert scenario.name == path.stem
    assert scenario.steps
    assert scenario.expectations
    times = [step.at_ms for step in scenario.steps]
    assert times == sorted(times)


def test_the_library_holds_the_first_scenarios() -> None:
    assert {"happy-path", "ftx-collapse"} <= {path.stem for path in library_scenarios()}


def test_a_valid_file_loads_into_steps_and_expectations(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, BASE))

    assert [(step.at_ms, step.action, step.line) for step in scenario.steps] == [
        (0, "place_order", line_of(BASE, "at: 0s")),
        (60_000, "settle", line_of(BASE, "at: 1m")),
    ]
    assert scenario.steps[0].fields["quantity"] == "0.5"
    assert "at" not in scenario.steps[0].fields
    assert scenario.expectations[0].kind == "custody_balance"
    assert scenario.world.client("initech").exchange == "okx-sim"
    # Only OES clients are seeded as custody parties by `oes up`'s seeding.
    assert [client.identifier for client in scenario.world.as_world(scenario.seed).clients] == ["acme"]


@pytest.mark.parametrize(
    ("text", "expected_ms"),
    [("0s", 0), ("90s", 90_000), ("10m", 600_000), ("1h30m", 5_400_000), ("250ms", 250), ("1m5s", 65_000)],
)
def test_durations(text: str, expected_ms: int) -> None:
    assert parse_duration_ms(text) == expected_ms


def test_malformed_yaml_names_the_file_line_and_column(tmp_path: Path) -> None:
    text = edited("    side: buy\n", "    side: [buy\n")
    error = error_of(tmp_path, text)

    assert str(error).startswith(f"{tmp_path / 'scenario.yaml'}:")
    assert "malformed YAML" in str(error)
    # YAML notices the unclosed list on the next line.
    assert error.line in (line_of(text, "side: [buy"), line_of(text, "side: [buy") + 1)


def test_a_duplicate_key_is_refused(tmp_path: Path) -> None:
    text = edited("    side: buy\n", "    side: buy\n    side: sell\n")
    error = error_of(tmp_path, text)

    assert error.line == line_of(text, "side: sell")
    assert "twice" in str(error)


@pytest.mark.parametrize(
    ("old", "new", "offending"),
    [
        ("seed: 1\n", "seed: 1\ncolour: red\n", "colour: red"),
        ('    quantity: "0.5"\n', '    quantity: "0.5"\n    colour: red\n', "colour: red"),
        (
            "      custody_model: traditional\n",
            "      custody_model: traditional\n      nickname: x\n",
            "nickname",
        ),
        ('equals: "8"}', 'equals: "8", colour: red}', "custody_balance"),
        ("  assets: {BTC: 8, USDT: 6}\n", "  assets: {BTC: 8, USDT: 6}\n  weather: sunny\n", "weather"),
    ],
    ids=["top", "step", "client", "expectation", "world"],
)
def test_an_unknown_field_at_any_depth_is_refused_at_its_line(
    tmp_path: Path, old: str, new: str, offending: str
) -> None:
    text = edited(old, new)
    error = error_of(tmp_path, text)

    assert str(error).startswith(f"{tmp_path / 'scenario.yaml'}:{line_of(text, offending)}: ")
    assert "unknown field" in error.detail


@pytest.mark.parametrize(
    ("old", "new", "offending", "words"),
    [
        ('quantity: "0.5"', "quantity: 0.5", "quantity: 0.5", "quoted"),
        ("seed: 1", 'seed: "1"', 'seed: "1"', "integer"),
        ("seed: 1", "seed: 1.0", "seed: 1.0", "float"),
        ('deposits: {BTC: "1"}', "deposits: {BTC: 1}", "deposits: {BTC: 1}", "quoted"),
        ("at: 1m", "at: 60", "at: 60", "sandbox time"),
        ("side: buy", "side: bye", "side: bye", "buy, sell"),
    ],
    ids=["float-amount", "string-seed", "float-seed", "integer-amount", "number-time", "enum"],
)
def test_a_wrong_type_is_refused_at_its_line(
    tmp_path: Path, old: str, new: str, offending: str, words: str
) -> None:
    text = edited(old, new)
    error = error_of(tmp_path, text)

    assert str(error).startswith(f"{tmp_path / 'scenario.yaml'}:{line_of(text, offending)}: ")
    assert words in error.detail


def test_a_missing_required_field_names_the_step(tmp_path: Path) -> None:
    text = edited('    quantity: "0.5"\n', "")
    error = error_of(tmp_path, text)

    assert error.line == line_of(text, "at: 0s")
    assert "`quantity`" in error.detail


@pytest.mark.parametrize(
    ("new_time", "words"),
    [("-5s", "negative"), ("5 minutes", "not a duration"), ("soon", "not a duration"), ("9999h", "30 days")],
)
def test_an_impossible_step_time_is_refused_at_the_step(tmp_path: Path, new_time: str, words: str) -> None:
    text = edited("at: 1m", f"at: {new_time}")
    error = error_of(tmp_path, text)

    assert str(error).startswith(f"{tmp_path / 'scenario.yaml'}:{line_of(text, 'at: ' + new_time)}: ")
    assert words in error.detail


def test_a_step_earlier_than_the_previous_one_names_both(tmp_path: Path) -> None:
    text = edited("at: 0s", "at: 2m")
    error = error_of(tmp_path, text)

    assert error.line == line_of(text, "at: 1m")
    assert f"line {line_of(text, 'at: 2m')}" in error.detail
    assert "2m" in error.detail


@pytest.mark.parametrize(
    ("old", "new", "offending", "words"),
    [
        ("client: acme", "client: globex", "client: globex", "unknown client"),
        ("exchange: okx-sim", "exchange: binance-sim", "exchange: binance-sim", "unknown exchange"),
        ("connections: [okx-sim]", "connections: [ftx-sim]", "connections: [ftx-sim]", "unknown exchange"),
        (
            "custody_model: traditional",
            "custody_model: traditional\n      connections: [okx-sim]  # the wrong model",
            "# the wrong model",
            "only for the other model",
        ),
        (
            'allocations: {okx-sim: {BTC: "2"}}',
            'allocations: {okx-sim: {BTC: "20"}}',
            "allocations",
            "deposits only",
        ),
        ('quantity: "0.5"', 'quantity: "0.123456789"', "quantity", "at most 8"),
        ("type: market", "type: limit", "at: 0s", "needs a `price`"),
        ("clients/acme/available", "clients/globex/available", "custody_balance", "unknown client"),
        (
            "    exchange: okx-sim\n",
            "    exchange: okx-sim\n"
            "  - {at: 2m, action: top_up, exchange: ftx-sim, asset: BTC, amount: '1'}\n",
            "ftx-sim",
            "unknown exchange",
        ),
        (
            'equals: "8"}\n',
            'equals: "8"}\n'
            "  - settlement_claim: {creditor: clients/acme, debtor: clients/initech, asset: BTC}\n",
            "settlement_claim",
            "between a client and an exchange",
        ),
        (
            'equals: "8"}\n',
            'equals: "8"}\n'
            "  - settlement_claim: {creditor: clients/bob, debtor: exchanges/okx-sim, asset: BTC}\n",
            "settlement_claim",
            "unknown client",
        ),
    ],
    ids=[
        "client",
        "exchange",
        "connection",
        "custody-model",
        "over-allocation",
        "scale",
        "limit-price",
        "expectation-client",
        "top-up-exchange",
        "claim-between-clients",
        "claim-client",
    ],
)
def test_semantic_errors_name_the_line(
    tmp_path: Path, old: str, new: str, offending: str, words: str
) -> None:
    text = edited(old, new)
    error = error_of(tmp_path, text)

    assert str(error).startswith(f"{tmp_path / 'scenario.yaml'}:{line_of(text, offending)}: ")
    assert words in error.detail


def test_a_traditional_client_cannot_allocate(tmp_path: Path) -> None:
    text = BASE.replace(
        "expect:\n",
        "  - at: 2m\n    action: allocate\n    client: initech\n    exchange: okx-sim\n"
        '    asset: BTC\n    amount: "1"\nexpect:\n',
    )
    error = error_of(tmp_path, text)

    assert error.line == line_of(text, "client: initech")
    assert "OES clients" in error.detail


def test_find_scenario_takes_a_name_or_a_path(tmp_path: Path) -> None:
    assert find_scenario("happy-path").name == "happy-path.yaml"
    assert find_scenario(write(tmp_path, BASE)) == tmp_path / "scenario.yaml"
    with pytest.raises(ScenarioError, match="no such scenario"):
        find_scenario("no-such-scenario")


def test_validate_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, BASE)
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE.replace('quantity: "0.5"', "quantity: 0.5"))

    assert cli.main(["scenario", "validate", str(good), "happy-path"]) == 0
    assert capsys.readouterr().out.splitlines() == ["ok test-scenario", "ok happy-path"]

    assert cli.main(["scenario", "validate", str(good), str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["ok test-scenario"]
    assert captured.err.startswith(f"{bad}:{line_of(BASE, 'quantity')}: ")


def test_list_prints_every_library_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["scenario", "list"]) == 0
    output = capsys.readouterr().out

    for path in library_scenarios():
        assert path.stem in output
    assert "FTX" in output


def test_validating_starts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Validation is pure parsing: no socket, no subprocess, no data directory."""

    def refuse(*arguments: object, **keywords: object) -> None:
        raise AssertionError("validation must not start anything")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr("subprocess.Popen", refuse)
    monkeypatch.chdir(tmp_path)
    bad = write(tmp_path, BASE.replace("at: 1m", "at: -1m"))

    assert cli.main(["scenario", "validate", "happy-path", "ftx-collapse", str(bad)]) == 2
    capsys.readouterr()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["scenario.yaml"]


def _with_over_claim(factor: str) -> str:
    return BASE.replace(
        "expect:\n",
        "  - at: 2m\n    action: set_statement_fault\n    exchange: okx-sim\n    kind: over_claim\n"
        f'    factor: "{factor}"\nexpect:\n',
    )


@pytest.mark.parametrize("factor", ["1.5", "10", "1000"])
def test_an_over_claim_factor_above_one_loads(tmp_path: Path, factor: str) -> None:
    scenario = load_scenario(write(tmp_path, _with_over_claim(factor)))

    assert scenario.steps[-1].fields["factor"] == factor


@pytest.mark.parametrize("factor", ["1", "0.5", "99999999999999999999"])
def test_an_over_claim_factor_not_above_one_is_refused_at_its_line(tmp_path: Path, factor: str) -> None:
    text = _with_over_claim(factor)
    error = error_of(tmp_path, text)

    assert error.line == line_of(text, "factor:")
    assert "must be above 1" in error.detail
