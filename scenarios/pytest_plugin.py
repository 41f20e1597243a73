"""The pytest plugin installed with the sandbox: a `sandbox` fixture with the three services running.

The services start once per test session (separate processes on free ports, simulated clock, the
demo world) and every test gets them reset to empty and seeded again, which takes milliseconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from google.protobuf import duration_pb2

from oes.control.v1 import control_pb2
from scenarios.endpoints import Endpoints, SandboxSession, admin_session, client_principal
from scenarios.seeding import seed_world
from scenarios.supervisor import ServicePorts, Supervisor
from scenarios.world import DEMO_WORLD_PATH, World, load_world
from service_kit.auth import ADMIN, BRIDGE, Principal, PrincipalKind, TokenAuthority
from service_kit.config import AUTH_SECRET_DEFAULT

# Sessions a test opens are closed when it ends; a test that opens more is leaking them.
SESSIONS_PER_TEST_MAX = 100
# Every control request needs a request_id of its own: a reused one would return the first answer.
_control_request_numbers = itertools.count(1)


@dataclass
class Sandbox:
    """The running sandbox as a test sees it: addresses, tokens, and stubs acting as any principal."""

    endpoints: Endpoints
    world: World
    authority: TokenAuthority
    data_dir: Path
    _sessions: list[SandboxSession] = field(default_factory=list)

    def token(self, principal: Principal) -> str:
        """The development token of a principal (send it as `authorization: Bearer <token>`)."""
        return self.authority.issue(principal)

    def client(self, identifier: str) -> SandboxSession:
        """Stubs of every service acting as client `identifier` (e.g. "acme")."""
        return self._open(client_principal(identifier))

    @property
    def admin(self) -> SandboxSession:
        """Stubs acting as the administrator."""
        return self._open(ADMIN)

    @property
    def bridge(self) -> SandboxSession:
        """Stubs acting as the settlement network."""
        return self._open(BRIDGE)

    def exchange(self, identifier: str) -> SandboxSession:
        """Stubs acting as exchange `identifier`."""
        return self._open(Principal(PrincipalKind.EXCHANGE, identifier))

    def advance(self, seconds: int) -> None:
        """Moves every service's simulated clock forward; due timers (settlement cycles) run."""
        admin = self.admin
        for address in (self.endpoints.custodian, self.endpoints.exchange, self.endpoints.bridge):
            admin.control(address).AdvanceClock(
                control_pb2.AdvanceClockRequest(
                    request_id=f"pytest-advance-{next(_control_request_numbers)}",
                    duration=duration_pb2.Duration(seconds=seconds),
                )
            )

    def _open(self, principal: Principal) -> SandboxSession:
        assert len(self._sessions) < SESSIONS_PER_TEST_MAX, "too many sessions in one test"
        session = SandboxSession(self.endpoints, self.authority, principal)
        self._sessions.append(session)
        return session

    def close(self) -> None:
        """Closes every session the test opened."""
        for session in self._sessions:
            session.close()
        self._sessions.clear()


@pytest.fixture(scope="session")
def oes_sandbox_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Supervisor]:
    """The three services, once per session, on free ports with the simulated clock."""
    supervisor = Supervisor(
        load_world(DEMO_WORLD_PATH),
        tmp_path_factory.mktemp("oes-sandbox"),
        "sim",
        ServicePorts(0, 0, 0),
        say=lambda message: None,
    )
    supervisor.start()
    try:
        yield supervisor
    finally:
        supervisor.stop()


@pytest.fixture()
def sandbox(oes_sandbox_processes: Supervisor) -> Iterator[Sandbox]:
    """The sandbox reset to empty and seeded with the demo world (acme and globex at okx-sim)."""
    supervisor = oes_sandbox_processes
    authority = TokenAuthority(AUTH_SECRET_DEFAULT)
    endpoints = supervisor.endpoints
    admin = admin_session(endpoints, authority)
    try:
        # The bridge first, so that it does not act on venues halfway through their reset.
        for address in (endpoints.bridge, endpoints.exchange, endpoints.custodian):
            admin.control(address).Reset(
                control_pb2.ResetRequest(request_id=f"pytest-reset-{next(_control_request_numbers)}")
            )
    finally:
        admin.close()
    seed_world(supervisor.world, endpoints, authority, say=lambda message: None)
    running = Sandbox(endpoints, supervisor.world, authority, supervisor.data_dir)
    try:
        yield running
    finally:
        running.close()
