"""A bridge's service layer over fake venues and a real SQLite unit of work in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from service_kit.clock import SimulatedClock
from service_kit.database import Database
from service_kit.faults import FaultRegistry
from service_kit.idempotency import RequestLog
from settlement_bridge.adapters.sqlite import SqliteUnitOfWork, open_database
from settlement_bridge.bootstrap import CRASH_POINTS
from settlement_bridge.domain.names import ConnectionName
from settlement_bridge.service_layer.allocations import AllocationWorkflow
from settlement_bridge.service_layer.connections import ConnectionService
from settlement_bridge.service_layer.deallocations import DeallocationWorkflow
from settlement_bridge.service_layer.locks import StripedLocks
from settlement_bridge.service_layer.settlement import SettlementCycles
from settlement_bridge.service_layer.venues import Venues
from tests.unit.settlement_bridge.fakes import ASSETS, BTC, USDT, FakeCustodian, FakeExchange

START_MS = 1_767_225_600_000
INTERVAL_MS = 3_600_000
ACME = ConnectionName("acme", "okx-sim")


@dataclass
class Bridge:
    """One bridge process's service layer; `restart` builds a fresh one over the same file."""

    path: Path
    custodian: FakeCustodian
    exchange: FakeExchange
    clock: SimulatedClock
    database: Database
    request_log: RequestLog
    connections: ConnectionService
    allocations: AllocationWorkflow
    deallocations: DeallocationWorkflow
    settlements: SettlementCycles

    @staticmethod
    def build(path: Path, custodian: FakeCustodian, exchange: FakeExchange, clock: SimulatedClock) -> Bridge:
        """Wires the service layer as bootstrap does, with fakes for the venues."""
        database = open_database(path)
        request_log = RequestLog(database)
        unit_of_work = SqliteUnitOfWork(database, request_log, clock)
        venues = Venues(custodian, {exchange.exchange_id: exchange})
        locks = StripedLocks()
        faults = FaultRegistry(clock, 1, crash=raise_crash)
        faults.add_crash_points(CRASH_POINTS)
        return Bridge(
            path,
            custodian,
            exchange,
            clock,
            database,
            request_log,
            ConnectionService(unit_of_work, venues, clock),
            AllocationWorkflow(unit_of_work, venues, clock, locks, faults, ASSETS),
            DeallocationWorkflow(unit_of_work, venues, clock, locks, faults, ASSETS),
            SettlementCycles(unit_of_work, venues, clock, ASSETS, INTERVAL_MS, faults),
        )

    def restart(self) -> Bridge:
        """Simulates a crash and restart: nothing survives but the SQLite file and the venues."""
        self.database.close()
        return Bridge.build(self.path, self.custodian, self.exchange, self.clock)

    def rows(self, table: str) -> int:
        """How many rows a table of the bridge's database holds."""
        return int(self.database.connection().execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


class Crashed(BaseException):
    """Raised where the process would exit at an armed crash point."""


def raise_crash(point: str) -> NoReturn:
    """An armed crash point in tests: unwinds like a crash (nothing open commits)."""
    raise Crashed(point)


@pytest.fixture()
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    """A bridge whose client acme holds 10 BTC and 500,000 USDT at the custodian, connected to okx-sim."""
    custodian = FakeCustodian()
    custodian.deposit("clients/acme/available", "BTC", 10 * BTC)
    custodian.deposit("clients/acme/available", "USDT", 500_000 * USDT)
    custodian.deposit("exchanges/okx-sim/settlement", "BTC", 100 * BTC)
    custodian.deposit("exchanges/okx-sim/settlement", "USDT", 10_000_000 * USDT)
    built = Bridge.build(tmp_path / "data", custodian, FakeExchange(), SimulatedClock(START_MS))
    built.connections.create(ACME)
    yield built
    built.database.close()
