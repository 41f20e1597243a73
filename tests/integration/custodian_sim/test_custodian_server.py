"""The custodian over a real gRPC server on a free port with real SQLite: the walking-skeleton flows."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import grpc
import pytest

from custodian_sim.bootstrap import build, database_path
from oes.control.v1 import control_pb2, control_pb2_grpc
from oes.custodian.v1 import custodian_pb2, custodian_pb2_grpc
from service_kit.auth import ADMIN, BRIDGE, Principal, PrincipalKind
from service_kit.clock import SimulatedClock
from service_kit.config import RunningService, start_service
from service_kit.rpc_errors import RemoteError, remote_error
from service_kit.statement_messages import message_from_content
from tests.integration.support import START_MS, bearer, service_config
from tests.unit.custodian_sim.statement_factory import (
    exchange_private_key,
    exchange_public_key,
    signed,
    statement_content,
)

OKX = "exchanges/okx-sim"
ACME_CONNECTION = "clients/acme/connections/okx-sim"
ACME = Principal(PrincipalKind.CLIENT, "acme")
BETA = Principal(PrincipalKind.CLIENT, "beta")
OKX_PRINCIPAL = Principal(PrincipalKind.EXCHANGE, "okx-sim")
BUY_ONE_BTC = [(ACME_CONNECTION, "BTC", "1.00000000"), (ACME_CONNECTION, "USDT", "-60120.000000")]


class Custodian:
    """Stubs of one running custodian, and direct read access to its SQLite file."""

    def __init__(self, running: RunningService, data_dir: Path) -> None:
        self.running = running
        self.data_dir = data_dir
        self.channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
        self.custody = custodian_pb2_grpc.CustodyServiceStub(self.channel)
        self.settlement = custodian_pb2_grpc.CustodySettlementServiceStub(self.channel)
        self.admin = custodian_pb2_grpc.CustodyAdminServiceStub(self.channel)
        self.control = control_pb2_grpc.ControlServiceStub(self.channel)

    def stop(self) -> None:
        self.channel.close()
        self.running.stop()

    def balances(self, owner: str, principal: Principal = ADMIN) -> dict[tuple[str, str], str]:
        response = self.custody.ListBalances(
            custodian_pb2.ListBalancesRequest(owner=owner), metadata=bearer(principal)
        )
        return {(balance.account, balance.asset): balance.amount for balance in response.balances}

    def row_counts(self) -> dict[str, int]:
        connection = sqlite3.connect(database_path(service_config(self.data_dir)))
        try:
            tables = [
                name
                for (name,) in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                ).fetchall()
                if not name.startswith("sqlite_")
            ]
            return {
                name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in tables
            }
        finally:
            connection.close()


def start(data_dir: Path) -> Custodian:
    return Custodian(start_service(service_config(data_dir), build, SimulatedClock(START_MS)), data_dir)


@pytest.fixture()
def custodian(tmp_path: Path) -> Iterator[Custodian]:
    running = start(tmp_path)
    yield running
    running.stop()


def refused(call: Callable[[], Any]) -> RemoteError:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return remote_error(raised.value)


def create_world(custodian: Custodian) -> None:
    """Two clients with custody deposits, a funded exchange with its key, acme connected to it (ACTIVE)."""
    admin = bearer(ADMIN)
    for name, kind in (
        ("clients/acme", custodian_pb2.PARTY_KIND_CLIENT),
        ("clients/beta", custodian_pb2.PARTY_KIND_CLIENT),
        (OKX, custodian_pb2.PARTY_KIND_EXCHANGE),
    ):
        custodian.admin.CreateParty(
            custodian_pb2.CreatePartyRequest(
                request_id=f"party-{name}", party=custodian_pb2.Party(name=name, kind=kind, display_name=name)
            ),
            metadata=admin,
        )
    custodian.admin.RegisterExchangeKey(
        custodian_pb2.RegisterExchangeKeyRequest(
            request_id="key", exchange=OKX, public_key=exchange_public_key(OKX)
        ),
        metadata=admin,
    )
    for request_id, owner, asset, amount in (
        ("acme-btc", "clients/acme", "BTC", "10"),
        ("acme-usdt", "clients/acme", "USDT", "500000"),
        ("beta-btc", "clients/beta", "BTC", "1"),
        ("okx-btc", OKX, "BTC", "50"),
        ("okx-usdt", OKX, "USDT", "1000000"),
    ):
        custodian.admin.SimulateDeposit(
            custodian_pb2.SimulateDepositRequest(
                request_id=request_id, owner=owner, asset=asset, amount=amount
            ),
            metadata=admin,
        )
    custodian.settlement.CreateConnection(
        custodian_pb2.CreateConnectionRequest(request_id="connect-acme", client="clients/acme", exchange=OKX),
        metadata=bearer(BRIDGE),
    )
    custodian.settlement.ActivateConnection(
        custodian_pb2.ActivateConnectionRequest(request_id="activate-acme", name=ACME_CONNECTION),
        metadata=bearer(BRIDGE),
    )


def lock_request(
    request_id: str, allocation_id: str, asset: str, amount: str
) -> custodian_pb2.LockAllocationRequest:
    """A lock of acme's connection to okx-sim."""
    return custodian_pb2.LockAllocationRequest(
        request_id=request_id,
        connection=ACME_CONNECTION,
        allocation_id=allocation_id,
        asset=asset,
        amount=amount,
    )


def allocate(custodian: Custodian) -> None:
    for asset, amount in (("BTC", "2"), ("USDT", "100000")):
        custodian.settlement.LockAllocation(
            lock_request(f"lock-{asset}", f"acme-{asset}", asset, amount), metadata=bearer(BRIDGE)
        )


def test_a_signed_statement_settles_inside_custody_and_executing_again_changes_nothing(
    custodian: Custodian,
) -> None:
    create_world(custodian)
    allocate(custodian)
    statement = message_from_content(*signed(statement_content(OKX, 1, BUY_ONE_BTC)))

    submitted = custodian.settlement.SubmitStatement(
        custodian_pb2.SubmitStatementRequest(request_id="submit-1", statement=statement),
        metadata=bearer(BRIDGE),
    )
    execute = custodian_pb2.ExecuteStatementRequest(request_id="execute-1", statement=statement.name)
    executed = custodian.settlement.ExecuteStatement(execute, metadata=bearer(BRIDGE))
    rows_after_execution = custodian.row_counts()
    balances_after_execution = custodian.balances("clients/acme")
    retried = custodian.settlement.ExecuteStatement(execute, metadata=bearer(BRIDGE))
    again = custodian.settlement.ExecuteStatement(
        custodian_pb2.ExecuteStatementRequest(request_id="execute-again", statement=statement.name),
        metadata=bearer(BRIDGE),
    )

    assert submitted.statement.state == custodian_pb2.STATEMENT_STATE_PENDING
    assert submitted.statement.statement == statement
    assert executed.statement.state == custodian_pb2.STATEMENT_STATE_SUCCEEDED
    assert list(executed.statement.transfer_ids) == [
        "exchanges/okx-sim/statements/1/transfers/acme/USDT",
        "exchanges/okx-sim/statements/1/transfers/acme/BTC",
    ]
    assert retried == executed
    assert again.statement == executed.statement
    assert balances_after_execution == {
        ("clients/acme/available", "BTC"): "8.00000000",
        ("clients/acme/available", "USDT"): "400000.000000",
        ("clients/acme/connections/okx-sim/allocated", "BTC"): "3.00000000",
        ("clients/acme/connections/okx-sim/allocated", "USDT"): "39880.000000",
    }
    assert custodian.balances(OKX) == {
        ("exchanges/okx-sim/settlement", "BTC"): "49.00000000",
        ("exchanges/okx-sim/settlement", "USDT"): "1060120.000000",
    }
    # Only the request log grew: the second ExecuteStatement stored its response, nothing else.
    rows_now = custodian.row_counts()
    assert rows_now.pop("request_log") == rows_after_execution.pop("request_log") + 1
    assert rows_now == rows_after_execution
    assert custodian.balances("clients/acme") == balances_after_execution
    fetched = custodian.settlement.GetStatement(
        custodian_pb2.GetStatementRequest(name=statement.name), metadata=bearer(BRIDGE)
    )
    assert fetched.statement == executed.statement


def test_a_wrong_signature_is_refused_and_only_its_audit_record_is_written(custodian: Custodian) -> None:
    create_world(custodian)
    allocate(custodian)
    content = statement_content(OKX, 1, BUY_ONE_BTC)
    forged = message_from_content(*signed(content, exchange_private_key(OKX, seed=99)))
    rows_before = custodian.row_counts()

    error = refused(
        lambda: custodian.settlement.SubmitStatement(
            custodian_pb2.SubmitStatementRequest(request_id="submit-forged", statement=forged),
            metadata=bearer(BRIDGE),
        )
    )

    assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "STATEMENT_SIGNATURE_INVALID")
    assert error.field_violations == ("statement.signature",)
    assert error.domain == "custodian.oes-sandbox.local"
    rows_after = custodian.row_counts()
    assert rows_after.pop("audit_records") == rows_before.pop("audit_records") + 1
    assert rows_after == rows_before


BAD_AMOUNTS = ["-1", "abc", "", "1.123456789"]


def bad_amount_calls(custodian: Custodian, amount: str) -> list[Callable[[], Any]]:
    return [
        lambda: custodian.admin.SimulateDeposit(
            custodian_pb2.SimulateDepositRequest(
                request_id="bad-deposit", owner="clients/acme", asset="BTC", amount=amount
            ),
            metadata=bearer(ADMIN),
        ),
        lambda: custodian.settlement.LockAllocation(
            lock_request("bad-lock", "bad", "BTC", amount), metadata=bearer(BRIDGE)
        ),
        lambda: custodian.settlement.UnlockAllocation(
            custodian_pb2.UnlockAllocationRequest(
                request_id="bad-unlock",
                connection=ACME_CONNECTION,
                unlock_id="bad",
                asset="BTC",
                amount=amount,
            ),
            metadata=bearer(BRIDGE),
        ),
    ]


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_bad_amounts_are_invalid_arguments_naming_the_field_and_write_nothing(
    custodian: Custodian, amount: str
) -> None:
    create_world(custodian)
    allocate(custodian)
    rows_before = custodian.row_counts()

    for call in bad_amount_calls(custodian, amount):
        error = refused(call)
        assert error.code == grpc.StatusCode.INVALID_ARGUMENT
        assert error.field_violations == ("amount",)

    assert custodian.row_counts() == rows_before


def test_a_bad_statement_amount_names_the_entry(custodian: Custodian) -> None:
    create_world(custodian)
    content = statement_content(OKX, 1, [(ACME_CONNECTION, "BTC", "1.123456789")])
    rows_before = custodian.row_counts()

    error = refused(
        lambda: custodian.settlement.SubmitStatement(
            custodian_pb2.SubmitStatementRequest(
                request_id="bad-statement", statement=message_from_content(*signed(content))
            ),
            metadata=bearer(BRIDGE),
        )
    )

    assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "AMOUNT_TOO_PRECISE")
    assert error.field_violations == ("statement.entries[0].amount",)
    assert custodian.row_counts() == rows_before


def test_clients_see_only_their_own_balances(custodian: Custodian) -> None:
    create_world(custodian)

    assert custodian.balances("clients/acme", ACME)[("clients/acme/available", "BTC")] == "10.00000000"
    assert custodian.balances(OKX, OKX_PRINCIPAL)[("exchanges/okx-sim/settlement", "BTC")] == "50.00000000"
    assert custodian.balances("clients/beta", BRIDGE) == {("clients/beta/available", "BTC"): "1.00000000"}
    for principal, owner in ((BETA, "clients/acme"), (OKX_PRINCIPAL, "clients/acme"), (ACME, OKX)):
        error = refused(partial(custodian.balances, owner, principal))
        assert (error.code, error.reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_RESOURCE_OWNER")


def test_callers_without_a_token_or_the_right_kind_are_refused(custodian: Custodian) -> None:
    create_world(custodian)
    lock = lock_request("client-lock", "client", "BTC", "1")
    rows_before = custodian.row_counts()

    no_token = refused(
        lambda: custodian.custody.ListBalances(custodian_pb2.ListBalancesRequest(owner="clients/acme"))
    )
    client_settles = refused(lambda: custodian.settlement.LockAllocation(lock, metadata=bearer(ACME)))
    exchange_deposits = refused(
        lambda: custodian.admin.SimulateDeposit(
            custodian_pb2.SimulateDepositRequest(request_id="x", owner=OKX, asset="BTC", amount="1"),
            metadata=bearer(OKX_PRINCIPAL),
        )
    )
    bridge_resets = refused(
        lambda: custodian.control.Reset(control_pb2.ResetRequest(request_id="reset"), metadata=bearer(BRIDGE))
    )

    assert (no_token.code, no_token.reason) == (grpc.StatusCode.UNAUTHENTICATED, "MISSING_TOKEN")
    for error in (client_settles, exchange_deposits, bridge_resets):
        assert (error.code, error.reason) == (grpc.StatusCode.PERMISSION_DENIED, "PRINCIPAL_NOT_ALLOWED")
    assert custodian.row_counts() == rows_before


def test_a_retried_request_id_returns_the_first_response_and_a_changed_one_is_refused(
    custodian: Custodian,
) -> None:
    create_world(custodian)
    request = custodian_pb2.SimulateDepositRequest(
        request_id="again", owner="clients/beta", asset="BTC", amount="2"
    )

    first = custodian.admin.SimulateDeposit(request, metadata=bearer(ADMIN))
    retry = custodian.admin.SimulateDeposit(request, metadata=bearer(ADMIN))
    changed = refused(
        lambda: custodian.admin.SimulateDeposit(
            custodian_pb2.SimulateDepositRequest(
                request_id="again", owner="clients/beta", asset="BTC", amount="3"
            ),
            metadata=bearer(ADMIN),
        )
    )

    assert first.balance == "3.00000000"
    assert retry == first
    assert (changed.code, changed.reason) == (grpc.StatusCode.ALREADY_EXISTS, "REQUEST_ID_REUSED")
    assert custodian.balances("clients/beta") == {("clients/beta/available", "BTC"): "3.00000000"}


def test_failed_preconditions_carry_stable_reasons(custodian: Custodian) -> None:
    create_world(custodian)
    too_much = refused(
        lambda: custodian.settlement.LockAllocation(
            lock_request("too-much", "big", "BTC", "10.1"), metadata=bearer(BRIDGE)
        )
    )
    unknown_owner = refused(
        lambda: custodian.admin.SimulateDeposit(
            custodian_pb2.SimulateDepositRequest(
                request_id="ghost", owner="clients/ghost", asset="BTC", amount="1"
            ),
            metadata=bearer(ADMIN),
        )
    )

    assert (too_much.code, too_much.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_BALANCE")
    assert "clients/acme/available" in too_much.message
    assert (unknown_owner.code, unknown_owner.reason) == (grpc.StatusCode.NOT_FOUND, "PARTY_NOT_FOUND")


def test_a_restart_on_the_same_data_dir_keeps_balances_and_statements(tmp_path: Path) -> None:
    first = start(tmp_path)
    create_world(first)
    allocate(first)
    statement = message_from_content(*signed(statement_content(OKX, 1, BUY_ONE_BTC)))
    first.settlement.SubmitStatement(
        custodian_pb2.SubmitStatementRequest(request_id="submit-1", statement=statement),
        metadata=bearer(BRIDGE),
    )
    executed = first.settlement.ExecuteStatement(
        custodian_pb2.ExecuteStatementRequest(request_id="execute-1", statement=statement.name),
        metadata=bearer(BRIDGE),
    )
    balances = {owner: first.balances(owner) for owner in ("clients/acme", "clients/beta", OKX)}
    first.stop()

    second = start(tmp_path)
    try:
        assert {owner: second.balances(owner) for owner in balances} == balances
        fetched = second.settlement.GetStatement(
            custodian_pb2.GetStatementRequest(name=statement.name), metadata=bearer(BRIDGE)
        )
        assert fetched.statement == executed.statement
        # The next statement continues the chain recorded before the restart.
        following = message_from_content(*signed(statement_content(OKX, 2, [])))
        response = second.settlement.SubmitStatement(
            custodian_pb2.SubmitStatementRequest(request_id="submit-2", statement=following),
            metadata=bearer(BRIDGE),
        )
        assert response.statement.state == custodian_pb2.STATEMENT_STATE_PENDING
    finally:
        second.stop()


def test_reset_empties_the_custodian(custodian: Custodian) -> None:
    create_world(custodian)

    custodian.control.Reset(control_pb2.ResetRequest(request_id="reset-1"), metadata=bearer(ADMIN))

    rows = custodian.row_counts()
    assert rows.pop("request_log") == 1
    assert set(rows.values()) == {0}
    error = refused(lambda: custodian.balances("clients/acme"))
    assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "PARTY_NOT_FOUND")
