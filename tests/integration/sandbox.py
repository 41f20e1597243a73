"""Three real services in one process on free ports (custodian, exchange, bridge), seeded for acme."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import custodian_sim.bootstrap
import exchange_sim.bootstrap
from oes.bridge.v1 import bridge_pb2, bridge_pb2_grpc
from oes.custodian.v1 import custodian_pb2, custodian_pb2_grpc
from oes.exchange.v1 import exchange_pb2, exchange_pb2_grpc
from service_kit.auth import ADMIN, BRIDGE
from service_kit.clock import Clock, SimulatedClock
from service_kit.config import RunningService, ServiceConfig, ServiceParts, start_service
from settlement_bridge.adapters.venue_calls import RetryPolicy
from settlement_bridge.bootstrap import BridgeConfig
from settlement_bridge.bootstrap import build as build_bridge
from tests.integration.settlement_bridge.conftest import ACME, channel
from tests.integration.support import ASSETS, START_MS, bearer, service_config

CONNECTION = "clients/acme/connections/okx-sim"
ALLOCATED = f"{CONNECTION}/allocated"
BTC = 100_000_000


@dataclass
class Sandbox:
    """The three services, and stubs to call them."""

    custodian: RunningService
    exchange: RunningService
    bridge: RunningService
    bridge_config: BridgeConfig

    @property
    def custody(self) -> custodian_pb2_grpc.CustodyServiceStub:
        return custodian_pb2_grpc.CustodyServiceStub(channel(self.custodian.port))

    @property
    def custody_admin(self) -> custodian_pb2_grpc.CustodyAdminServiceStub:
        return custodian_pb2_grpc.CustodyAdminServiceStub(channel(self.custodian.port))

    @property
    def partner(self) -> exchange_pb2_grpc.PartnerServiceStub:
        return exchange_pb2_grpc.PartnerServiceStub(channel(self.exchange.port))

    @property
    def trading(self) -> exchange_pb2_grpc.TradingServiceStub:
        return exchange_pb2_grpc.TradingServiceStub(channel(self.exchange.port))

    @property
    def network(self) -> bridge_pb2_grpc.SettlementNetworkServiceStub:
        return bridge_pb2_grpc.SettlementNetworkServiceStub(channel(self.bridge.port))

    @property
    def bridge_admin(self) -> bridge_pb2_grpc.BridgeAdminServiceStub:
        return bridge_pb2_grpc.BridgeAdminServiceStub(channel(self.bridge.port))

    def custody_units(self, owner: str) -> dict[tuple[str, str], int]:
        """The owner's custodian balances in integer units."""
        response = self.custody.ListBalances(
            custodian_pb2.ListBalancesRequest(owner=owner), metadata=bearer(ADMIN)
        )
        return {
            (balance.account, balance.asset): ASSETS.parse(
                balance.asset, balance.amount, allow_negative=True, allow_zero=True
            )
            for balance in response.balances
        }

    def mirror_units(self) -> dict[tuple[str, str], int]:
        """Every exchange mirror in integer units."""
        response = self.partner.ListMirrors(exchange_pb2.ListMirrorsRequest(), metadata=bearer(BRIDGE))
        return {
            (mirror.connection, mirror.asset): ASSETS.parse(
                mirror.asset, mirror.mirror, allow_negative=True, allow_zero=True
            )
            for mirror in response.mirrors
        }

    def allocate(self, request_id: str, asset: str, amount: str) -> bridge_pb2.Allocation:
        request = bridge_pb2.CreateAllocationRequest(
            request_id=request_id, connection=CONNECTION, asset=asset, amount=amount
        )
        return self.network.CreateAllocation(request, metadata=bearer(ACME)).allocation

    def stop(self) -> None:
        """Stops the bridge, then the venues."""
        self.bridge.stop()
        self.exchange.stop()
        self.custodian.stop()

    def settle(self, request_id: str) -> bridge_pb2.Settlement:
        request = bridge_pb2.RunSettlementCycleRequest(request_id=request_id, exchange="exchanges/okx-sim")
        return self.bridge_admin.RunSettlementCycle(request, metadata=bearer(ADMIN)).settlement


def seed(sandbox: Sandbox) -> None:
    """Registers the parties and the exchange's key, and funds the client and the exchange."""
    admin = sandbox.custody_admin
    for name, kind in (
        ("clients/acme", custodian_pb2.PARTY_KIND_CLIENT),
        ("exchanges/okx-sim", custodian_pb2.PARTY_KIND_EXCHANGE),
    ):
        admin.CreateParty(
            custodian_pb2.CreatePartyRequest(
                request_id=f"party-{name}", party=custodian_pb2.Party(name=name, kind=kind, display_name=name)
            ),
            metadata=bearer(ADMIN),
        )
    venue = sandbox.partner.GetVenue(exchange_pb2.GetVenueRequest(), metadata=bearer(ADMIN))
    admin.RegisterExchangeKey(
        custodian_pb2.RegisterExchangeKeyRequest(
            request_id="key-okx", exchange="exchanges/okx-sim", public_key=venue.statement_public_key
        ),
        metadata=bearer(ADMIN),
    )
    for owner, asset, amount in (
        ("clients/acme", "BTC", "10"),
        ("clients/acme", "USDT", "500000"),
        ("exchanges/okx-sim", "BTC", "100"),
        ("exchanges/okx-sim", "USDT", "10000000"),
    ):
        admin.SimulateDeposit(
            custodian_pb2.SimulateDepositRequest(
                request_id=f"deposit-{owner}-{asset}", owner=owner, asset=asset, amount=amount
            ),
            metadata=bearer(ADMIN),
        )


BridgeBuild = Callable[[ServiceConfig, Clock], ServiceParts]


def start_bridge(config: BridgeConfig, build: BridgeBuild = build_bridge) -> RunningService:
    """Starts (or restarts, on the same data directory) the bridge."""
    return start_service(config, build, SimulatedClock(START_MS))


def start_sandbox(tmp_path: Path, bridge_build: BridgeBuild = build_bridge) -> Sandbox:
    """Starts the three services, seeds them and connects acme to okx-sim; stop it with `stop()`."""
    custodian = start_service(
        service_config(tmp_path / "custodian"), custodian_sim.bootstrap.build, SimulatedClock(START_MS)
    )
    exchange = start_service(
        service_config(tmp_path / "exchange"), exchange_sim.bootstrap.build, SimulatedClock(START_MS)
    )
    shared = service_config(tmp_path / "bridge")
    config = BridgeConfig(
        **{name: getattr(shared, name) for name in type(shared).__dataclass_fields__},
        custodian_address=f"127.0.0.1:{custodian.port}",
        exchange_addresses={"okx-sim": f"127.0.0.1:{exchange.port}"},
        retry_policy=RetryPolicy(
            attempts_max=3, deadline_ms=5_000, backoff_ms_initial=20, backoff_ms_max=100
        ),
    )
    built = Sandbox(custodian, exchange, start_bridge(config, bridge_build), config)
    seed(built)
    connection = built.network.CreateConnection(
        bridge_pb2.CreateConnectionRequest(
            request_id="connect", client="clients/acme", exchange="exchanges/okx-sim"
        ),
        metadata=bearer(ACME),
    ).connection
    assert connection.name == CONNECTION
    return built


class Crashed(BaseException):
    """Unwinds the bridge's thread where the process would have exited."""


class InProcessCrash:
    """The crash action of an in-process bridge: stop its server at once and unwind."""

    def __init__(self) -> None:
        self.running: RunningService | None = None
        self.points: list[str] = []

    def __call__(self, point: str) -> NoReturn:
        self.points.append(point)
        running = self.running
        assert running is not None
        # Stopped from another thread: this one is inside a call the stop would wait for.
        threading.Thread(target=running.server.stop, args=(0,)).start()
        raise Crashed(point)
