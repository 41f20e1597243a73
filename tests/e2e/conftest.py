"""A whole sandbox as three real processes on free ports, shared by the end-to-end tests of a module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scenarios.endpoints import Endpoints
from scenarios.seeding import seed_world
from scenarios.supervisor import ServicePorts, Supervisor
from scenarios.world import DEMO_WORLD_PATH, load_world
from service_kit.auth import TokenAuthority
from service_kit.config import AUTH_SECRET_DEFAULT


@pytest.fixture(scope="module")
def authority() -> TokenAuthority:
    return TokenAuthority(AUTH_SECRET_DEFAULT)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory, authority: TokenAuthority) -> Iterator[Supervisor]:
    world = load_world(DEMO_WORLD_PATH)
    supervisor = Supervisor(
        world, tmp_path_factory.mktemp("sandbox"), "real", ServicePorts(0, 0, 0), say=lambda message: None
    )
    supervisor.start()
    try:
        seed_world(world, supervisor.endpoints, authority, say=lambda message: None)
        yield supervisor
    finally:
        supervisor.stop()


@pytest.fixture(scope="module")
def endpoints(sandbox: Supervisor) -> Endpoints:
    return sandbox.endpoints


def data_files(sandbox: Supervisor) -> list[Path]:
    """The SQLite files of the three services."""
    return sorted(sandbox.data_dir.glob("*.sqlite3"))
