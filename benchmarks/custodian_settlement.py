"""Durable custodian transfers per second over gRPC, and the time to execute one large statement.

Run from the repository root:
    python -m benchmarks.custodian_settlement [--callers 8] [--seconds 5] [--connections 10000]

1. Durable transfers: callers (threads of this process) send SimulateDeposit to a custodian running
   as its own process (`python -m custodian_sim`, ledger with synchronous=FULL, so every committed
   transfer is on disk before the reply); each call posts one transfer, its balance, its audit
   record and its request-log entry in one transaction. A bare gRPC echo (benchmarks/harness.py)
   is measured in the same run for the ceiling.
2. One statement: the custodian's database is first filled in process, in large transactions, with
   N clients, each with an ACTIVE connection to one exchange and an allocation of BTC and USDT.
   Then the custodian process is started on it and one signed statement with N x 2 entries (a gain
   of BTC and a loss of USDT for every connection) is submitted (verification) and executed (one
   atomic transaction of 2N transfers) over gRPC; both calls are timed. Issue 3's goal is <= 1 s
   to execute 10,000 connections x 2 assets.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import tempfile
import time
from pathlib import Path

from benchmarks.harness import echo_server, measure, running_process, service_command
from custodian_sim.adapters.schema import MIGRATIONS
from custodian_sim.adapters.signature_verifier import Ed25519SignatureVerifier
from custodian_sim.adapters.sqlite_unit_of_work import unit_of_work
from custodian_sim.bootstrap import DATABASE_FILE_NAME
from custodian_sim.domain.names import ConnectionName
from custodian_sim.domain.parties import PartyKind
from custodian_sim.service_layer.commands import (
    CreateParty,
    LockAllocation,
    RegisterExchangeKey,
    SimulateDeposit,
)
from custodian_sim.service_layer.services import CustodianService
from oes.custodian.v1 import custodian_pb2, custodian_pb2_grpc
from service_kit.auth import ADMIN, BRIDGE, TokenAuthority
from service_kit.clock import SimulatedClock
from service_kit.config import AUTH_SECRET_DEFAULT, SIM_START_DEFAULT, authorized_channel
from service_kit.database import Database
from service_kit.money import AssetScales
from service_kit.signing import private_key_from_seed, public_key_bytes, sign
from service_kit.statement import StatementContent, StatementEntryContent
from service_kit.statement_messages import message_from_content

ASSETS = AssetScales({"BTC": 8, "USDT": 6})
EXCHANGE = "exchanges/bench-x"
CLIENTS_PER_TRANSACTION = 500
# A timeout generous enough for the largest statement on a slow machine.
STATEMENT_CALL_TIMEOUT_S = 120.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=10_000)
    arguments = parser.parse_args()
    authority = TokenAuthority(os.environ.get("OES_AUTH_SECRET") or AUTH_SECRET_DEFAULT)
    print(f"cores: {os.cpu_count()}, callers: {arguments.callers}, seconds each: {arguments.seconds}")
    with tempfile.TemporaryDirectory() as directory:
        measure_durable_transfers(Path(directory), authority, arguments.callers, arguments.seconds)
    with tempfile.TemporaryDirectory() as directory:
        measure_statement(Path(directory), authority, arguments.connections)


def measure_durable_transfers(
    workspace: Path, authority: TokenAuthority, callers: int, seconds: float
) -> None:
    """Prints SimulateDeposit throughput next to the bare echo."""
    command, port_file = service_command("custodian_sim", workspace)
    with echo_server(workspace) as echo, running_process(command, port_file) as port:
        channel = authorized_channel(f"127.0.0.1:{port}", authority.issue(ADMIN))
        admin = custodian_pb2_grpc.CustodyAdminServiceStub(channel)
        admin.CreateParty(
            custodian_pb2.CreatePartyRequest(
                request_id="bench-party",
                party=custodian_pb2.Party(name="clients/bench", kind=custodian_pb2.PARTY_KIND_CLIENT),
            )
        )

        def deposit(caller: int, sequence: int) -> None:
            admin.SimulateDeposit(
                custodian_pb2.SimulateDepositRequest(
                    request_id=f"bench-{caller}-{sequence:07d}",
                    owner="clients/bench",
                    asset="BTC",
                    amount="0.001",
                )
            )

        payload = custodian_pb2.SimulateDepositRequest(
            request_id="bench-0-0000000", owner="clients/bench", asset="BTC", amount="0.001"
        ).SerializeToString()

        def echo_call(caller: int, sequence: int) -> None:
            echo(payload)

        measure(echo_call, callers, 0.5)
        measure(deposit, callers, 0.5)
        echo_figures = measure(echo_call, callers, seconds)
        deposit_figures = measure(deposit, callers, seconds)
    print(echo_figures.line("bare gRPC echo"))
    print(deposit_figures.line("durable transfers (deposit)"))
    print(f"ratio transfers / echo: {deposit_figures.calls_per_second / echo_figures.calls_per_second:.2f}")


def fill_database(data_dir: Path, connection_count: int, public_key: bytes) -> list[str]:
    """Creates the exchange, the clients, their active connections and allocations, in process."""
    clock = SimulatedClock(0)
    database = Database(data_dir / DATABASE_FILE_NAME, MIGRATIONS, synchronous="FULL")
    service = CustodianService(clock, ASSETS, Ed25519SignatureVerifier())
    connections: list[str] = []

    with unit_of_work(database, ASSETS) as uow:
        service.create_party(uow, CreateParty(EXCHANGE, PartyKind.EXCHANGE, "bench exchange"))
        service.register_exchange_key(uow, RegisterExchangeKey(EXCHANGE, public_key))
        for asset, units in (("BTC", 10**18 // 10), ("USDT", 10**18 // 10)):
            service.simulate_deposit(uow, SimulateDeposit(f"fund-{asset}", EXCHANGE, asset, units))
    for first in range(0, connection_count, CLIENTS_PER_TRANSACTION):
        with unit_of_work(database, ASSETS) as uow:
            for index in range(first, min(first + CLIENTS_PER_TRANSACTION, connection_count)):
                client = f"clients/c{index:06d}"
                name = ConnectionName(f"c{index:06d}", EXCHANGE.removeprefix("exchanges/"))
                service.create_party(uow, CreateParty(client, PartyKind.CLIENT, client))
                service.create_connection(uow, name)
                service.activate_connection(uow, name)
                for asset, units in (("BTC", 10**8), ("USDT", 100_000 * 10**6)):
                    service.simulate_deposit(uow, SimulateDeposit(f"{client}-{asset}", client, asset, units))
                    service.lock_allocation(uow, LockAllocation(name, f"{client}-{asset}", asset, units))
                connections.append(name.name)
    database.close()
    return connections


def measure_statement(workspace: Path, authority: TokenAuthority, connection_count: int) -> None:
    """Prints the time to submit (verify) and execute one statement of every connection x 2 assets."""
    private_key = private_key_from_seed(hashlib.sha256(b"bench-exchange-key").digest())
    command, port_file = service_command("custodian_sim", workspace, "--clock", "sim")
    data_dir = workspace / "custodian_sim"
    started = time.perf_counter()
    connections = fill_database(data_dir, connection_count, public_key_bytes(private_key))
    setup_s = time.perf_counter() - started
    entries = tuple(
        entry
        for connection in sorted(connections)
        for entry in (
            StatementEntryContent(connection, "BTC", "0.00100000"),
            StatementEntryContent(connection, "USDT", "-60.120000"),
        )
    )
    content = StatementContent(
        name=f"{EXCHANGE}/statements/1",
        exchange=EXCHANGE,
        number=1,
        previous_statement="",
        cutoff_time_ms=int(time_from_iso(SIM_START_DEFAULT)),
        first_trade_sequence=1,
        last_trade_sequence=connection_count,
        nonce=hashlib.sha256(b"bench-nonce").hexdigest()[:32],
        entries=entries,
    )
    statement = message_from_content(content, sign(private_key, content))
    with running_process(command, port_file) as port:
        channel = authorized_channel(
            f"127.0.0.1:{port}",
            authority.issue(BRIDGE),
        )
        settlement = custodian_pb2_grpc.CustodySettlementServiceStub(channel)
        started = time.perf_counter()
        settlement.SubmitStatement(
            custodian_pb2.SubmitStatementRequest(request_id="bench-submit", statement=statement),
            timeout=STATEMENT_CALL_TIMEOUT_S,
        )
        submitted = time.perf_counter()
        executed = settlement.ExecuteStatement(
            custodian_pb2.ExecuteStatementRequest(request_id="bench-execute", statement=content.name),
            timeout=STATEMENT_CALL_TIMEOUT_S,
        ).statement
        finished = time.perf_counter()
    assert executed.state == custodian_pb2.STATEMENT_STATE_SUCCEEDED, executed.state
    print(f"statement of {connection_count} connections x 2 assets (setup in process {setup_s:.1f} s):")
    print(f"  SubmitStatement (verify + record): {(submitted - started) * 1000:8.1f} ms")
    execute_ms = (finished - submitted) * 1000
    print(f"  ExecuteStatement ({len(entries)} transfers, one transaction): {execute_ms:8.1f} ms")


def time_from_iso(text: str) -> float:
    """Milliseconds since the epoch of an ISO-8601 time."""
    return datetime.datetime.fromisoformat(text).timestamp() * 1000


if __name__ == "__main__":
    main()
