"""Allocate end to end through the bridge, and one settlement cycle of many connections.

Run from the repository root:
    python -m benchmarks.bridge_settlement [--callers 8] [--seconds 5] [--connections 1000]

The three services run as separate processes (started by the scenario supervisor, real clock); the
callers are threads of this process.
1. Allocate: each caller is its own client with a connection to the exchange and allocates one lot
   of BTC after another (client -> bridge -> custodian lock -> exchange reserve and clear ->
   custodian clear; the bridge commits each step before the next call). Calls per second and p99,
   next to a bare gRPC echo measured in the same run. Issue 5's goal: >= 800/s, p99 <= 15 ms.
2. One cycle: N clients are connected, each allocates USDT and buys one lot of BTC (so each
   connection has two unsettled entries), then one RunSettlementCycle is timed: cutoff at the
   exchange, verification, execution of 2N entries at the custodian, confirmation, reconciliation.
   Issue 5's goal: <= 1 s at 10,000 connections, linear in N. Seeding N clients takes a while
   (about 5 ms of calls per client on 2 cores).
"""

from __future__ import annotations

import argparse
import functools
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.harness import echo_server, measure
from oes.bridge.v1 import bridge_pb2
from oes.exchange.v1 import exchange_pb2
from scenarios.endpoints import Endpoints, SandboxSession, admin_session, client_principal
from scenarios.seeding import seed_world
from scenarios.supervisor import ServicePorts, Supervisor
from scenarios.world import ClientSpec, ExchangeSpec, World
from service_kit.auth import TokenAuthority
from service_kit.config import AUTH_SECRET_DEFAULT
from service_kit.money import AssetScales

EXCHANGE = "okx-sim"
SEEDING_THREADS = 8
# A cycle of tens of thousands of entries may take a while on a loaded machine.
CYCLE_TIMEOUT_S = 600.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, action="append", help="cycle sizes (repeat); default 1000")
    arguments = parser.parse_args()
    authority = TokenAuthority(os.environ.get("OES_AUTH_SECRET") or AUTH_SECRET_DEFAULT)
    print(f"cores: {os.cpu_count()}, callers: {arguments.callers}, seconds each: {arguments.seconds}")
    with tempfile.TemporaryDirectory() as directory:
        measure_allocations(Path(directory), authority, arguments.callers, arguments.seconds)
    for connections in arguments.connections or [1000]:
        with tempfile.TemporaryDirectory() as directory:
            measure_cycle(Path(directory), authority, connections)


def world_of(client_count: int) -> World:
    """One exchange with a well-funded settlement account and `client_count` funded clients."""
    return World(
        seed=1,
        assets=AssetScales({"BTC": 8, "USDT": 6}),
        settlement_interval_s=24 * 3600,
        exchanges=(
            ExchangeSpec(EXCHANGE, "bench exchange", "60000", {"BTC": "100000", "USDT": "10000000000"}),
        ),
        clients=tuple(
            ClientSpec(f"bench-{index}", f"bench {index}", {"BTC": "1000", "USDT": "100000000"}, (EXCHANGE,))
            for index in range(client_count)
        ),
    )


def started(world: World, workspace: Path, authority: TokenAuthority) -> Supervisor:
    supervisor = Supervisor(world, workspace, "real", ServicePorts(0, 0, 0), say=lambda message: None)
    supervisor.start()
    seed_in_parallel(world, supervisor.endpoints, authority)
    return supervisor


def seed_in_parallel(world: World, endpoints: Endpoints, authority: TokenAuthority) -> None:
    """Seeds the exchange, then the clients in SEEDING_THREADS slices at once."""
    seed_world(
        World(world.seed, world.assets, world.settlement_interval_s, world.exchanges, ()),
        endpoints,
        authority,
        say=lambda message: None,
    )
    slices = [world.clients[start::SEEDING_THREADS] for start in range(SEEDING_THREADS)]

    def seed_clients(clients: tuple[ClientSpec, ...]) -> None:
        seed_world(
            World(world.seed, world.assets, world.settlement_interval_s, (), clients),
            endpoints,
            authority,
            say=lambda message: None,
        )

    run_threads([functools.partial(seed_clients, clients) for clients in slices])


def run_threads(actions: list[Callable[[], object]]) -> None:
    threads = [threading.Thread(target=action) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def measure_allocations(workspace: Path, authority: TokenAuthority, callers: int, seconds: float) -> None:
    """Prints CreateAllocation throughput and p99 next to the bare echo."""
    world = world_of(callers)
    supervisor = started(world, workspace, authority)
    sessions = [
        SandboxSession(supervisor.endpoints, authority, client_principal(client.identifier))
        for client in world.clients
    ]
    try:
        payload = bridge_pb2.CreateAllocationRequest(
            request_id="bench-000000",
            connection=f"clients/bench-0/connections/{EXCHANGE}",
            asset="BTC",
            amount="0.0001",
        ).SerializeToString()
        counters = [0] * callers

        def allocate(caller: int, sequence: int) -> None:
            counters[caller] += 1
            allocation = (
                sessions[caller]
                .network.CreateAllocation(
                    bridge_pb2.CreateAllocationRequest(
                        request_id=f"bench-{caller}-{counters[caller]:07d}",
                        connection=f"clients/bench-{caller}/connections/{EXCHANGE}",
                        asset="BTC",
                        amount="0.0001",
                    )
                )
                .allocation
            )
            assert allocation.state == bridge_pb2.TRANSFER_STATE_CLEARED, allocation.reason

        with echo_server(workspace) as echo:

            def echo_call(caller: int, sequence: int) -> None:
                echo(payload)

            measure(echo_call, callers, 0.5)
            echo_figures = measure(echo_call, callers, seconds)
        measure(allocate, callers, 0.5)
        allocate_figures = measure(allocate, callers, seconds)
    finally:
        for session in sessions:
            session.close()
        supervisor.stop()
    print(echo_figures.line("bare gRPC echo"))
    print(allocate_figures.line("CreateAllocation end to end"))
    print(f"ratio allocate / echo: {allocate_figures.calls_per_second / echo_figures.calls_per_second:.2f}")


def measure_cycle(workspace: Path, authority: TokenAuthority, connections: int) -> None:
    """Prints the time of one settlement cycle over `connections` connections with two entries each."""
    world = world_of(connections)
    started_s = time.perf_counter()
    supervisor = started(world, workspace, authority)
    try:
        slices = [world.clients[start::SEEDING_THREADS] for start in range(SEEDING_THREADS)]

        def trade(clients: tuple[ClientSpec, ...]) -> None:
            for client in clients:
                session = SandboxSession(supervisor.endpoints, authority, client_principal(client.identifier))
                try:
                    session.network.CreateAllocation(
                        bridge_pb2.CreateAllocationRequest(
                            request_id="bench-allocate",
                            connection=f"clients/{client.identifier}/connections/{EXCHANGE}",
                            asset="USDT",
                            amount="1000",
                        )
                    )
                    session.trading.PlaceOrder(
                        exchange_pb2.PlaceOrderRequest(
                            request_id="bench-buy",
                            account=f"clients/{client.identifier}",
                            market="BTC-USDT",
                            side=exchange_pb2.SIDE_BUY,
                            type=exchange_pb2.ORDER_TYPE_MARKET,
                            quantity="0.0001",
                        )
                    )
                finally:
                    session.close()

        run_threads([functools.partial(trade, clients) for clients in slices])
        seeded_s = time.perf_counter() - started_s
        admin = admin_session(supervisor.endpoints, authority)
        try:
            cycle_started = time.perf_counter()
            settlement = admin.bridge_admin.RunSettlementCycle(
                bridge_pb2.RunSettlementCycleRequest(
                    request_id="bench-cycle", exchange=f"exchanges/{EXCHANGE}"
                ),
                timeout=CYCLE_TIMEOUT_S,
            ).settlement
            cycle_s = time.perf_counter() - cycle_started
        finally:
            admin.close()
    finally:
        supervisor.stop()
    assert settlement.state == bridge_pb2.SETTLEMENT_STATE_SUCCEEDED, settlement.reason
    entries = len(settlement.statement.entries)
    print(
        f"cycle of {connections:6d} connections ({entries} entries): {cycle_s * 1000:8.0f} ms "
        f"(seeding took {seeded_s:.0f} s)"
    )


if __name__ == "__main__":
    main()
