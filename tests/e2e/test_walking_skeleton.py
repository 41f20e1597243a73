"""End to end over three real processes: one trade settles inside the custodian's books."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from decimal import Decimal

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from oes.bridge.v1 import bridge_pb2
from oes.custodian.v1 import custodian_pb2, custodian_pb2_grpc
from oes.exchange.v1 import exchange_pb2
from scenarios.endpoints import Endpoints, SandboxSession, admin_session, client_principal
from scenarios.supervisor import Supervisor
from service_kit.auth import BRIDGE, TokenAuthority
from service_kit.rpc_errors import remote_error
from tests.e2e.conftest import data_files

pytestmark = pytest.mark.e2e

ACME = "clients/acme"
GLOBEX = "clients/globex"
EXCHANGE = "exchanges/okx-sim"
CONNECTION = "clients/acme/connections/okx-sim"


@pytest.fixture(scope="module")
def admin(endpoints: Endpoints, authority: TokenAuthority) -> Iterator[SandboxSession]:
    session = admin_session(endpoints, authority)
    yield session
    session.close()


@pytest.fixture(scope="module")
def acme(endpoints: Endpoints, authority: TokenAuthority) -> Iterator[SandboxSession]:
    session = SandboxSession(endpoints, authority, client_principal("acme"))
    yield session
    session.close()


def custody_balances(admin: SandboxSession, owner: str) -> dict[tuple[str, str], Decimal]:
    response = admin.custody.ListBalances(custodian_pb2.ListBalancesRequest(owner=owner))
    return {(balance.account, balance.asset): Decimal(balance.amount) for balance in response.balances}


def every_custody_balance(admin: SandboxSession) -> dict[tuple[str, str], Decimal]:
    balances: dict[tuple[str, str], Decimal] = {}
    for owner in (ACME, GLOBEX, EXCHANGE, "world"):
        balances.update(custody_balances(admin, owner))
    return balances


def mirrors(admin: SandboxSession) -> dict[str, Decimal]:
    response = admin.partner.ListMirrors(exchange_pb2.ListMirrorsRequest())
    return {
        mirror.asset: Decimal(mirror.mirror) for mirror in response.mirrors if mirror.connection == CONNECTION
    }


def row_counts(sandbox: Supervisor) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in data_files(sandbox):
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            tables = [
                row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            for table in tables:
                counts[f"{path.name}:{table}"] = connection.execute(
                    f'SELECT COUNT(*) FROM "{table}"'
                ).fetchone()[0]
    return counts


def test_every_service_answers_health_and_reflection(endpoints: Endpoints) -> None:
    expected = {
        endpoints.custodian: "oes.custodian.v1.CustodySettlementService",
        endpoints.exchange: "oes.exchange.v1.TradingService",
        endpoints.bridge: "oes.bridge.v1.SettlementNetworkService",
    }
    for address, service_name in expected.items():
        with grpc.insecure_channel(address) as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            replies = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            )
            names = {service.name for reply in replies for service in reply.list_services_response.service}
            assert {service_name, "oes.control.v1.ControlService", "grpc.health.v1.Health"} <= names


def test_one_trade_settles_inside_custody(admin: SandboxSession, acme: SandboxSession) -> None:
    before = every_custody_balance(admin)
    assert before[(f"{ACME}/available", "BTC")] == Decimal("10")
    assert before[(f"{ACME}/available", "USDT")] == Decimal("500000")

    for asset, amount in (("BTC", "2"), ("USDT", "100000")):
        allocation = acme.network.CreateAllocation(
            bridge_pb2.CreateAllocationRequest(
                request_id=f"e2e-allocate-{asset}", connection=CONNECTION, asset=asset, amount=amount
            )
        ).allocation
        assert allocation.state == bridge_pb2.TRANSFER_STATE_CLEARED, allocation.reason
    order = acme.trading.PlaceOrder(
        exchange_pb2.PlaceOrderRequest(
            request_id="e2e-buy",
            account=ACME,
            market="BTC-USDT",
            side=exchange_pb2.SIDE_BUY,
            type=exchange_pb2.ORDER_TYPE_MARKET,
            quantity="1",
        )
    ).order
    assert order.state == exchange_pb2.ORDER_STATE_FILLED
    paid_usdt = sum(Decimal(fill.price) * Decimal(fill.quantity) + Decimal(fill.fee) for fill in order.fills)
    assert paid_usdt > 0

    settlement = admin.bridge_admin.RunSettlementCycle(
        bridge_pb2.RunSettlementCycleRequest(request_id="e2e-settle-1", exchange=EXCHANGE)
    ).settlement
    assert settlement.state == bridge_pb2.SETTLEMENT_STATE_SUCCEEDED, settlement.reason
    assert list(settlement.breaks) == []

    after = every_custody_balance(admin)
    allocated = f"{CONNECTION}/allocated"
    settlement_account = f"{EXCHANGE}/settlement"
    assert after[(allocated, "BTC")] == Decimal("3")
    assert after[(allocated, "USDT")] == Decimal("100000") - paid_usdt
    assert after[(settlement_account, "USDT")] - before[(settlement_account, "USDT")] == paid_usdt
    assert before[(settlement_account, "BTC")] - after[(settlement_account, "BTC")] == Decimal("1")
    assert mirrors(admin) == {"BTC": after[(allocated, "BTC")], "USDT": after[(allocated, "USDT")]}
    for asset in ("BTC", "USDT"):
        assert sum(amount for (_, balance_asset), amount in after.items() if balance_asset == asset) == 0
    # Custody never left the client's own accounts except for the settled loss.
    assert after[(f"{ACME}/available", "BTC")] == Decimal("8")
    assert after[(f"{ACME}/available", "USDT")] == Decimal("400000")


def test_running_the_same_settlement_again_changes_nothing(
    admin: SandboxSession, endpoints: Endpoints, authority: TokenAuthority, sandbox: Supervisor
) -> None:
    before = every_custody_balance(admin)
    counts_before = row_counts(sandbox)
    retried = admin.bridge_admin.RunSettlementCycle(
        bridge_pb2.RunSettlementCycleRequest(request_id="e2e-settle-1", exchange=EXCHANGE)
    ).settlement
    bridge = SandboxSession(endpoints, authority, BRIDGE)
    try:
        executed = bridge.custody_settlement.ExecuteStatement(
            custodian_pb2.ExecuteStatementRequest(
                request_id="e2e-execute-again", statement=retried.statement.name
            )
        ).statement
    finally:
        bridge.close()
    assert executed.state == custodian_pb2.STATEMENT_STATE_SUCCEEDED
    assert every_custody_balance(admin) == before
    counts_after = row_counts(sandbox)
    ledger_tables = [name for name in counts_before if "custodian" in name and "request_log" not in name]
    assert {name: counts_after[name] for name in ledger_tables} == {
        name: counts_before[name] for name in ledger_tables
    }


@pytest.mark.parametrize("amount", ["-1", "abc", "", "1.123456789"])
def test_bad_amounts_are_refused_and_write_nothing(
    amount: str, admin: SandboxSession, acme: SandboxSession, sandbox: Supervisor
) -> None:
    counts_before = row_counts(sandbox)
    calls = [
        lambda: acme.network.CreateAllocation(
            bridge_pb2.CreateAllocationRequest(
                request_id=f"bad-allocation-{amount!r}", connection=CONNECTION, asset="BTC", amount=amount
            )
        ),
        lambda: admin.custody_admin.SimulateDeposit(
            custodian_pb2.SimulateDepositRequest(
                request_id=f"bad-deposit-{amount!r}", owner=ACME, asset="BTC", amount=amount
            )
        ),
        lambda: acme.trading.PlaceOrder(
            exchange_pb2.PlaceOrderRequest(
                request_id=f"bad-order-{amount!r}",
                account=ACME,
                market="BTC-USDT",
                side=exchange_pb2.SIDE_BUY,
                type=exchange_pb2.ORDER_TYPE_MARKET,
                quantity=amount,
            )
        ),
    ]
    for call in calls:
        with pytest.raises(grpc.RpcError) as raised:
            call()
        error = remote_error(raised.value)
        assert error.code == grpc.StatusCode.INVALID_ARGUMENT, error
        assert error.field_violations, error
    assert row_counts(sandbox) == counts_before


def test_authentication_and_authorization(endpoints: Endpoints, acme: SandboxSession) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        acme.custody.ListBalances(custodian_pb2.ListBalancesRequest(owner=GLOBEX))
    assert remote_error(raised.value).code == grpc.StatusCode.PERMISSION_DENIED

    with grpc.insecure_channel(endpoints.custodian) as channel, pytest.raises(grpc.RpcError) as raised:
        custodian_pb2_grpc.CustodyServiceStub(channel).ListBalances(
            custodian_pb2.ListBalancesRequest(owner=ACME)
        )
    assert remote_error(raised.value).code == grpc.StatusCode.UNAUTHENTICATED

    with pytest.raises(grpc.RpcError) as raised:
        acme.custody_settlement.LockAllocation(
            custodian_pb2.LockAllocationRequest(
                request_id="client-lock", connection=CONNECTION, allocation_id="x", asset="BTC", amount="1"
            )
        )
    assert remote_error(raised.value).code == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("service", ["custodian", "exchange", "bridge"])
def test_sigkill_and_restart_keep_every_balance_and_statement(
    service: str, admin: SandboxSession, sandbox: Supervisor
) -> None:
    def observe() -> tuple[object, ...]:
        settlements = admin.network.ListSettlements(bridge_pb2.ListSettlementsRequest()).settlements
        statement = admin.custody_settlement.GetStatement(
            custodian_pb2.GetStatementRequest(name=settlements[0].statement.name)
        ).statement
        books = admin.trading.GetBalances(exchange_pb2.GetBalancesRequest(account=ACME))
        return (every_custody_balance(admin), mirrors(admin), list(settlements), statement, books)

    before = observe()
    sandbox.kill(service)
    sandbox.restart(service)
    assert observe() == before
