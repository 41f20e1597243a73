"""Starting real bridge servers on free ports, and calling them with development tokens."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import grpc

from service_kit.auth import Principal, PrincipalKind
from settlement_bridge.adapters.sqlite import DATABASE_FILE_NAME

ACME = Principal(PrincipalKind.CLIENT, "acme")
GLOBEX = Principal(PrincipalKind.CLIENT, "globex")
OKX = Principal(PrincipalKind.EXCHANGE, "okx-sim")


def channel(port: int) -> grpc.Channel:
    """A plain channel to a local server."""
    return grpc.insecure_channel(f"127.0.0.1:{port}")


def bridge_row_counts(data_dir: Path) -> dict[str, int]:
    """Rows per table of the bridge's database."""
    with sqlite3.connect(data_dir / DATABASE_FILE_NAME) as database:
        tables = [row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: database.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] for table in tables}
