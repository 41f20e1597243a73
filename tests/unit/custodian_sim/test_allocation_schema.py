"""A database from before allocation records migrates: every earlier lock becomes a RESERVED allocation."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from custodian_sim.adapters.schema import MIGRATIONS
from custodian_sim.adapters.sqlite_allocations import ALLOCATIONS_SCHEMA
from custodian_sim.adapters.sqlite_unit_of_work import unit_of_work
from custodian_sim.domain.allocation_lifecycle import AllocationName, AllocationState
from custodian_sim.domain.names import ConnectionName
from service_kit.database import Database
from tests.unit.custodian_sim.harness import ASSETS


def test_earlier_locks_become_reserved_allocations_the_bridge_can_still_clear(tmp_path: Path) -> None:
    path = tmp_path / "custodian.sqlite3"
    old = Database(path, MIGRATIONS[: MIGRATIONS.index(ALLOCATIONS_SCHEMA)], synchronous="NORMAL")
    with old.transaction() as transaction:
        for row in (
            (
                "deposits/d1",
                "world/chain",
                "clients/acme/available",
                "BTC",
                500,
                "DEPOSIT",
                "clients/acme",
                1,
            ),
            (
                "allocations/bridge/allocation-1/lock",
                "clients/acme/available",
                "clients/acme/connections/okx-sim/allocated",
                "BTC",
                200,
                "ALLOCATION_LOCK",
                "clients/acme/connections/okx-sim",
                7,
            ),
        ):
            transaction.execute(
                "INSERT INTO transfers (id, from_account, to_account, asset, amount_units, kind, reference, "
                "create_time_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
    old.close()

    migrated = Database(path, MIGRATIONS, synchronous="NORMAL")
    try:
        with unit_of_work(migrated, ASSETS) as uow:
            allocation = uow.allocations.get("bridge/allocation-1")
            assert allocation is not None
            assert allocation.name == AllocationName(ConnectionName("acme", "okx-sim"), "bridge/allocation-1")
            assert (allocation.asset, allocation.amount_units, allocation.state) == (
                "BTC",
                200,
                AllocationState.RESERVED,
            )
            assert (allocation.create_time_ms, allocation.update_time_ms) == (7, 7)
            assert uow.allocations.list_for_exchange("exchanges/okx-sim", AllocationState.RESERVED) == [
                allocation
            ]
        with migrated.transaction() as transaction, pytest.raises(sqlite3.IntegrityError):
            transaction.execute("UPDATE allocations SET amount_units = 1")
    finally:
        migrated.close()
