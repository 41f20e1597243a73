"""The invariant checker against three real services: it passes on healthy states and catches each breach."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf.duration_pb2 import Duration

from custodian_sim.bootstrap import DATABASE_FILE_NAME
from oes.bridge.v1 import bridge_pb2
from oes.control.v1 import control_pb2, control_pb2_grpc
from oes.exchange.v1 import exchange_pb2, exchange_pb2_grpc
from scenarios.endpoints import Endpoints
from scenarios.invariants import INVARIANT_NAMES, InvariantResult, InvariantState, check_invariants
from service_kit.auth import ADMIN, TokenAuthority
from tests.integration.sandbox import CONNECTION, Sandbox, start_sandbox
from tests.integration.settlement_bridge.conftest import ACME, channel
from tests.integration.support import SECRET, bearer

EXCHANGES = ["exchanges/okx-sim"]


@pytest.fixture()
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    built = start_sandbox(tmp_path)
    yield built
    built.stop()


def check(
    sandbox: Sandbox, previous: InvariantState | None = None
) -> tuple[list[InvariantResult], InvariantState]:
    endpoints = Endpoints(
        custodian=f"127.0.0.1:{sandbox.custodian.port}",
        exchange=f"127.0.0.1:{sandbox.exchange.port}",
        bridge=f"127.0.0.1:{sandbox.bridge.port}",
    )
    return check_invariants(endpoints, TokenAuthority(SECRET), EXCHANGES, previous)


def failed(results: list[InvariantResult]) -> set[str]:
    assert [result.name for result in results] == list(INVARIANT_NAMES)
    return {result.name for result in results if not result.passed}


def all_pass(sandbox: Sandbox, previous: InvariantState | None = None) -> InvariantState:
    results, state = check(sandbox, previous)
    assert failed(results) == set(), [result for result in results if not result.passed]
    return state


def custodian_database(tmp_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(tmp_path / "custodian" / DATABASE_FILE_NAME, isolation_level=None)


def market_buy(sandbox: Sandbox, request_id: str, quantity: str) -> None:
    order = sandbox.trading.PlaceOrder(
        exchange_pb2.PlaceOrderRequest(
            request_id=request_id,
            account=ACME.name,
            market="BTC-USDT",
            side=exchange_pb2.SIDE_BUY,
            type=exchange_pb2.ORDER_TYPE_MARKET,
            quantity=quantity,
        ),
        metadata=bearer(ACME),
    ).order
    assert order.state == exchange_pb2.ORDER_STATE_FILLED


def test_all_seven_hold_through_allocations_a_trade_a_cycle_and_a_deallocation(sandbox: Sandbox) -> None:
    state = all_pass(sandbox)
    for asset, amount in (("BTC", "2"), ("USDT", "100000")):
        assert sandbox.allocate(f"allocate-{asset}", asset, amount).state == bridge_pb2.TRANSFER_STATE_CLEARED
    state = all_pass(sandbox, state)
    market_buy(sandbox, "buy", "0.5")
    state = all_pass(sandbox, state)
    settlement = sandbox.settle("settle-1")
    assert settlement.state == bridge_pb2.SETTLEMENT_STATE_SUCCEEDED
    assert len(settlement.statement.entries) == 2, "a gain in BTC and a loss in USDT"
    state = all_pass(sandbox, state)
    market_buy(sandbox, "buy-again", "0.1")
    assert sandbox.settle("settle-2").state == bridge_pb2.SETTLEMENT_STATE_SUCCEEDED
    state = all_pass(sandbox, state)
    deallocation = sandbox.network.CreateDeallocation(
        bridge_pb2.CreateDeallocationRequest(
            request_id="bring-home", connection=CONNECTION, asset="BTC", amount="1"
        ),
        metadata=bearer(ACME),
    ).deallocation
    assert deallocation.state == bridge_pb2.TRANSFER_STATE_CLEARED
    all_pass(sandbox, state)


def test_a_mirror_credit_without_a_lock_breaks_cover_only(sandbox: Sandbox) -> None:
    assert sandbox.allocate("allocate", "BTC", "1").state == bridge_pb2.TRANSFER_STATE_CLEARED
    state = all_pass(sandbox)
    # The admin plays the bridge at the exchange alone: a credit nobody locked at the custodian.
    sandbox.partner.ReserveAllocation(
        exchange_pb2.ReserveAllocationRequest(
            request_id="rogue-reserve",
            connection=CONNECTION,
            allocation_id="rogue",
            asset="BTC",
            amount="0.5",
        ),
        metadata=bearer(ADMIN),
    )
    sandbox.partner.ClearAllocation(
        exchange_pb2.ClearAllocationRequest(request_id="rogue-clear", allocation_id="rogue"),
        metadata=bearer(ADMIN),
    )

    results, _ = check(sandbox, state)

    assert failed(results) == {"cover"}
    [cover] = [result for result in results if result.name == "cover"]
    assert any("mirror 1.50000000 exceeds allocated 1.00000000" in detail for detail in cover.details), cover


def test_an_edited_ledger_row_breaks_append_only_only(sandbox: Sandbox, tmp_path: Path) -> None:
    assert sandbox.allocate("allocate", "BTC", "1").state == bridge_pb2.TRANSFER_STATE_CLEARED
    state = all_pass(sandbox)
    database = custodian_database(tmp_path)
    database.execute("DROP TRIGGER transfers_are_immutable")
    database.execute("UPDATE transfers SET reference = 'rewritten' WHERE sequence = 1")
    database.close()

    results, _ = check(sandbox, state)

    assert failed(results) == {"append_only"}
    [append_only] = [result for result in results if result.name == "append_only"]
    assert append_only.details == (
        "custodian.ledger: one of its first 5 records was edited, removed or reordered",
    )


def test_a_deleted_audit_record_breaks_append_only_even_without_a_previous_check(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    state = all_pass(sandbox)
    database = custodian_database(tmp_path)
    database.execute("DELETE FROM audit_records WHERE sequence = 2")
    database.close()

    for previous in (state, None):
        results, _ = check(sandbox, previous)
        assert failed(results) == {"append_only"}, previous


def test_a_balance_out_of_step_with_the_ledger_breaks_conservation_only(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    state = all_pass(sandbox)
    database = custodian_database(tmp_path)
    database.execute(
        "UPDATE balances SET balance_units = balance_units + 1 "
        "WHERE account = 'clients/acme/available' AND asset = 'BTC'"
    )
    database.close()

    results, _ = check(sandbox, state)

    assert failed(results) == {"conservation"}


def test_a_client_transfer_to_the_exchange_that_is_no_settled_loss_breaks_separation_only(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    state = all_pass(sandbox)
    database = custodian_database(tmp_path)
    # Appended, balanced and reflected in the balances: only its direction and kind are wrong.
    database.execute("BEGIN")
    database.execute(
        "INSERT INTO transfers (sequence, id, from_account, to_account, asset, amount_units, kind, "
        "reference, create_time_ms) SELECT MAX(sequence) + 1, 'siphon', 'clients/acme/available', "
        "'exchanges/okx-sim/settlement', 'BTC', 100000000, 'DEPOSIT', 'siphon', MAX(create_time_ms) "
        "FROM transfers"
    )
    database.execute(
        "UPDATE balances SET balance_units = balance_units - 100000000 "
        "WHERE account = 'clients/acme/available' AND asset = 'BTC'"
    )
    database.execute(
        "UPDATE balances SET balance_units = balance_units + 100000000 "
        "WHERE account = 'exchanges/okx-sim/settlement' AND asset = 'BTC'"
    )
    database.execute("COMMIT")
    database.close()

    results, _ = check(sandbox, state)

    assert failed(results) == {"separation"}


def test_all_seven_hold_after_a_default_that_applied_the_last_signed_statement_and_catch_an_overstated_return(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    for asset, amount in (("BTC", "2"), ("USDT", "100000")):
        assert sandbox.allocate(f"allocate-{asset}", asset, amount).state == bridge_pb2.TRANSFER_STATE_CLEARED
    market_buy(sandbox, "buy", "0.5")
    assert sandbox.settle("settle-1").state == bridge_pb2.SETTLEMENT_STATE_SUCCEEDED
    market_buy(sandbox, "buy-again", "0.2")
    custodian_control = control_pb2_grpc.ControlServiceStub(channel(sandbox.custodian.port))
    # The custodian records the second statement but refuses to execute it: the default applies it.
    custodian_control.SetFault(
        control_pb2.SetFaultRequest(
            request_id="no-execution",
            fault=control_pb2.Fault(
                call=control_pb2.CallFault(
                    method="/oes.custodian.v1.CustodySettlementService/ExecuteStatement",
                    action=control_pb2.CALL_FAULT_ACTION_RETURN_ERROR,
                    status_code=9,
                    reason="INJECTED_REFUSAL",
                )
            ),
        ),
        metadata=bearer(ADMIN),
    )
    assert sandbox.settle("settle-2").state == bridge_pb2.SETTLEMENT_STATE_FAILED
    custodian_control.ClearFaults(control_pb2.ClearFaultsRequest(request_id="back"), metadata=bearer(ADMIN))
    state = all_pass(sandbox)
    exchange_pb2_grpc.ExchangeAdminServiceStub(channel(sandbox.exchange.port)).SetVenueState(
        exchange_pb2.SetVenueStateRequest(request_id="collapse", state=exchange_pb2.VENUE_STATE_INSOLVENT),
        metadata=bearer(ADMIN),
    )
    control_pb2_grpc.ControlServiceStub(channel(sandbox.bridge.port)).AdvanceClock(
        control_pb2.AdvanceClockRequest(request_id="first-check", duration=Duration(seconds=10)),
        metadata=bearer(ADMIN),
    )
    [connection] = sandbox.network.ListConnections(
        bridge_pb2.ListConnectionsRequest(), metadata=bearer(ADMIN)
    ).connections
    assert connection.state == bridge_pb2.CONNECTION_STATE_DEFAULTED
    state = all_pass(sandbox, state)

    # The bridge's record claims more principal came home than the custodian released.
    database = sqlite3.connect(tmp_path / "bridge" / "bridge.sqlite3", isolation_level=None)
    database.execute(
        "UPDATE connections SET default_outcome = replace(default_outcome, '[\"BTC\",270000000]', "
        "'[\"BTC\",280000000]')"
    )
    database.close()
    results, _ = check(sandbox, state)
    assert failed(results) == {"default_bound"}
