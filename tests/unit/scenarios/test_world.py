"""World files: the demo world loads, and a broken one names the file and line to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.world import DEMO_WORLD_PATH, WorldError, load_world


def test_demo_world_has_one_exchange_and_two_funded_clients() -> None:
    world = load_world(DEMO_WORLD_PATH)
    assert [exchange.identifier for exchange in world.exchanges] == ["okx-sim"]
    assert {client.identifier: client.deposits for client in world.clients}["acme"] == {
        "BTC": "10",
        "USDT": "500000",
    }
    assert world.asset_specs == ["BTC=8", "USDT=6"]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (
            "assets: {BTC: 8, USDT: 6}\nexchanges:\n  - id: okx-sim\nclients:\n  - id: acme\n"
            "    deposits:\n      BTC: 1.123456789\n",
            5,
            "at most 8",
        ),
        ("assets: {BTC: 8, USDT: 6}\nexchanges:\n  - id: OKX\nclients: []\n", 3, "lower-case"),
        (
            "assets: {BTC: 8, USDT: 6}\nexchanges:\n  - id: okx-sim\nclients:\n  - id: acme\n"
            "    connections: [binance]\n",
            5,
            "unknown exchanges",
        ),
        ("assets: []\n", 1, "`assets`"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = tmp_path / "world.yaml"
    path.write_text(text)
    with pytest.raises(WorldError) as raised:
        load_world(path)
    assert str(raised.value).startswith(f"{path}:{line}: ")
    assert fragment in str(raised.value)
