"""Fixtures of the custodian's unit tests: the use-case harness over the fake store and over SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.custodian_sim.harness import ASSETS, Harness
from tests.unit.custodian_sim.stores import FakeStoreWithSnapshot, SqliteStore


@pytest.fixture(params=["fake", "sqlite"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "fake":
        yield Harness(FakeStoreWithSnapshot())
        return
    store = SqliteStore(tmp_path / "custodian.sqlite3", ASSETS)
    yield Harness(store)
    store.close()
