"""Starting real bridge servers on free ports, and calling them with development tokens."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import grpc

from service_kit.auth import Principal, PrincipalKind, TokenAuthority
from service_kit.clock import ClockMode
from service_kit.config import ServiceConfig
from service_kit.money import AssetScales
from settlement_bridge.adapters.sqlite import DATABASE_FILE_NAME

SECRET = "integration-secret"
START_MS = 1_767_225_600_000
ASSETS = AssetScales({"BTC": 8, "USDT": 6})
ACME = Principal(PrincipalKind.CLIENT, "acme")
GLOBEX = Principal(PrincipalKind.CLIENT, "globex")
OKX = Principal(PrincipalKind.EXCHANGE, "okx-sim")


def service_config(data_dir: Path) -> ServiceConfig:
    """The shared settings of one service under test: port 0, simulated clock, test secret."""
    return ServiceConfig(
        host="127.0.0.1",
        port=0,
        data_dir=data_dir,
        clock_mode=ClockMode.SIM,
        sim_start_ms=START_MS,
        auth_secret=SECRET,
        assets=ASSETS,
        seed=7,
        log_format="json",
    )


def bearer(principal: Principal) -> tuple[tuple[str, str]]:
    """Call metadata carrying the principal's development token."""
    return (("authorization", f"Bearer {TokenAuthority(SECRET).issue(principal)}"),)


def channel(port: int) -> grpc.Channel:
    """A plain channel to a local server."""
    return grpc.insecure_channel(f"127.0.0.1:{port}")


def bridge_row_counts(data_dir: Path) -> dict[str, int]:
    """Rows per table of the bridge's database."""
    with sqlite3.connect(data_dir / DATABASE_FILE_NAME) as database:
        tables = [row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: database.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] for table in tables}
