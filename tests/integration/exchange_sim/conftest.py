"""A real exchange server on a free port, with stubs for a client, another client, the bridge and admin."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from exchange_sim.bootstrap import build
from oes.control.v1 import control_pb2_grpc
from oes.exchange.v1 import exchange_pb2, exchange_pb2_grpc
from service_kit.auth import ADMIN, BRIDGE, Principal, PrincipalKind, TokenAuthority
from service_kit.clock import SimulatedClock
from service_kit.config import RunningService, authorized_channel, start_service
from tests.integration.support import SECRET, START_MS, service_config

ACME = Principal(PrincipalKind.CLIENT, "acme")
BOB = Principal(PrincipalKind.CLIENT, "bob")
CONNECTION = "clients/acme/connections/okx-sim"


@dataclass
class Exchange:
    """Stubs of a running exchange, one per principal."""

    running: RunningService
    data_dir: Path
    channels: list[grpc.Channel]

    def channel(self, principal: Principal | None) -> grpc.Channel:
        address = f"127.0.0.1:{self.running.port}"
        if principal is None:
            channel = grpc.insecure_channel(address)
        else:
            channel = authorized_channel(address, TokenAuthority(SECRET).issue(principal))
        self.channels.append(channel)
        return channel

    def trading(self, principal: Principal | None = ACME) -> exchange_pb2_grpc.TradingServiceStub:
        return exchange_pb2_grpc.TradingServiceStub(self.channel(principal))

    def partner(self, principal: Principal = BRIDGE) -> exchange_pb2_grpc.PartnerServiceStub:
        return exchange_pb2_grpc.PartnerServiceStub(self.channel(principal))

    def control(self) -> control_pb2_grpc.ControlServiceStub:
        return control_pb2_grpc.ControlServiceStub(self.channel(ADMIN))

    def admin(self) -> exchange_pb2_grpc.ExchangeAdminServiceStub:
        return exchange_pb2_grpc.ExchangeAdminServiceStub(self.channel(ADMIN))

    def stop(self) -> None:
        for channel in self.channels:
            channel.close()
        self.channels.clear()
        self.running.stop()

    def database_rows(self) -> dict[str, list[tuple[object, ...]]]:
        """Every row of every table, read straight from the SQLite file."""
        connection = sqlite3.connect(self.data_dir / "exchange.sqlite3")
        try:
            tables = [
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
            return {
                table: sorted(connection.execute(f'SELECT * FROM "{table}"'), key=repr) for table in tables
            }
        finally:
            connection.close()


def start_exchange(data_dir: Path) -> Exchange:
    return Exchange(start_service(service_config(data_dir), build, SimulatedClock(START_MS)), data_dir, [])


@pytest.fixture()
def exchange(tmp_path: Path) -> Iterator[Exchange]:
    running = start_exchange(tmp_path)
    yield running
    running.stop()


def fund(exchange: Exchange, connection: str = CONNECTION, btc: str = "2", usdt: str = "100000") -> None:
    """Opens the connection and reserves then clears both allocations, as the bridge does."""
    partner = exchange.partner()
    partner.CreateConnection(
        exchange_pb2.CreateConnectionRequest(request_id=f"connect-{connection}", connection=connection)
    )
    for asset, amount in (("BTC", btc), ("USDT", usdt)):
        allocation_id = f"{connection}/{asset}"
        partner.ReserveAllocation(
            exchange_pb2.ReserveAllocationRequest(
                request_id=f"reserve-{allocation_id}",
                connection=connection,
                allocation_id=allocation_id,
                asset=asset,
                amount=amount,
            )
        )
        partner.ClearAllocation(
            exchange_pb2.ClearAllocationRequest(
                request_id=f"clear-{allocation_id}", allocation_id=allocation_id
            )
        )


def open_traditional(exchange: Exchange, client: str, deposits: dict[str, str]) -> None:
    """Opens a traditional account (admin) and deposits into it (the client)."""
    account = f"clients/{client}"
    exchange.admin().CreateAccount(
        exchange_pb2.CreateAccountRequest(
            request_id=f"open-{account}",
            account=account,
            custody_model=exchange_pb2.CUSTODY_MODEL_TRADITIONAL,
        )
    )
    trading = exchange.trading(Principal(PrincipalKind.CLIENT, client))
    for asset, amount in deposits.items():
        trading.CreateDeposit(
            exchange_pb2.CreateDepositRequest(
                request_id=f"deposit-{account}-{asset}", account=account, asset=asset, amount=amount
            )
        )


def acme_order(
    request_id: str,
    side: exchange_pb2.Side,
    order_type: exchange_pb2.OrderType,
    quantity: str,
    price: str = "",
) -> exchange_pb2.PlaceOrderRequest:
    """An order of acme's account in BTC-USDT; a market order leaves the price empty."""
    return exchange_pb2.PlaceOrderRequest(
        request_id=request_id,
        account="clients/acme",
        market="BTC-USDT",
        side=side,
        type=order_type,
        price=price,
        quantity=quantity,
    )


def balances_of(
    stub: exchange_pb2_grpc.TradingServiceStub, account: str = "clients/acme"
) -> dict[str, tuple[str, ...]]:
    """Balances by asset: (mirror, unsettled, held, available, pending_credit)."""
    response = stub.GetBalances(exchange_pb2.GetBalancesRequest(account=account))
    return {
        balance.asset: (
            balance.mirror,
            balance.unsettled,
            balance.held,
            balance.available,
            balance.pending_credit,
        )
        for balance in response.balances
    }
