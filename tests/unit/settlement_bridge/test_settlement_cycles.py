"""Settlement cycles at the service layer, with fake venues: verify, execute, confirm, reconcile, resume."""

from __future__ import annotations

import pytest

from service_kit.errors import ErrorCode, ServiceError
from service_kit.faults import FaultRegistry
from settlement_bridge.adapters.sqlite import SqliteUnitOfWork
from settlement_bridge.bootstrap import CRASH_POINTS
from settlement_bridge.domain.names import ConnectionName
from settlement_bridge.domain.settlement import (
    ReconciliationBreak,
    SettlementCycle,
    SettlementState,
    SettlementStep,
)
from settlement_bridge.service_layer.settlement import SettlementCycles
from settlement_bridge.service_layer.venues import Venues
from tests.unit.settlement_bridge.conftest import ACME, INTERVAL_MS, Bridge
from tests.unit.settlement_bridge.fakes import ASSETS, BTC, USDT, refused, unavailable

ALLOCATED_BTC = ("clients/acme/connections/okx-sim/allocated", "BTC")
ALLOCATED_USDT = ("clients/acme/connections/okx-sim/allocated", "USDT")
SETTLEMENT_BTC = ("exchanges/okx-sim/settlement", "BTC")
SETTLEMENT_USDT = ("exchanges/okx-sim/settlement", "USDT")


def allocate_and_buy_one_btc(bridge: Bridge) -> None:
    """Allocates 2 BTC and 100,000 USDT, then books a buy of 1 BTC for 60,000 USDT plus 60 fee."""
    bridge.allocations.create(ACME, "BTC", 2 * BTC)
    bridge.allocations.create(ACME, "USDT", 100_000 * USDT)
    bridge.exchange.trade(ACME.name, {"BTC": BTC, "USDT": -60_060 * USDT})


def test_cycle_executes_confirms_and_reconciles_without_breaks(bridge: Bridge) -> None:
    allocate_and_buy_one_btc(bridge)
    settlement_usdt_before = bridge.custodian.balances[SETTLEMENT_USDT]

    cycle = bridge.settlements.run("okx-sim")

    assert (cycle.state, cycle.step, cycle.reason) == (SettlementState.SUCCEEDED, SettlementStep.DONE, "")
    assert cycle.breaks == ()
    assert cycle.statement is not None and cycle.statement.name == "exchanges/okx-sim/statements/1"
    assert bridge.custodian.balances[ALLOCATED_BTC] == 3 * BTC
    assert bridge.custodian.balances[ALLOCATED_USDT] == 39_940 * USDT
    assert bridge.custodian.balances[SETTLEMENT_USDT] == settlement_usdt_before + 60_060 * USDT
    assert bridge.exchange.books[(ACME.name, "BTC")].mirror_units == 3 * BTC
    assert bridge.exchange.books[(ACME.name, "USDT")].unsettled_units == 0
    assert bridge.custodian.executed == ["exchanges/okx-sim/statements/1"]


def test_next_cycle_continues_from_the_last_settled_statement(bridge: Bridge) -> None:
    allocate_and_buy_one_btc(bridge)
    bridge.settlements.run("okx-sim")
    bridge.exchange.trade(ACME.name, {"BTC": -BTC // 2, "USDT": 29_970 * USDT})

    second = bridge.settlements.run("okx-sim")

    assert second.state is SettlementState.SUCCEEDED
    assert second.statement is not None
    assert second.statement.content.previous_statement == "exchanges/okx-sim/statements/1"
    assert bridge.custodian.balances[ALLOCATED_BTC] == 5 * BTC // 2
    assert bridge.exchange.count("get_venue") == 1, "the exchange key is recorded on first sight"


def test_bad_signature_fails_the_cycle_before_anything_executes_and_voids_the_statement(
    bridge: Bridge,
) -> None:
    allocate_and_buy_one_btc(bridge)
    bridge.exchange.forging_key_seed = b"f" * 32

    cycle = bridge.settlements.run("okx-sim")

    assert (cycle.state, cycle.step, cycle.reason) == (
        SettlementState.FAILED,
        SettlementStep.VOID,
        "INVALID_SIGNATURE",
    )
    assert cycle.end_time_ms is not None
    assert bridge.custodian.count("submit_statement") == 0
    assert bridge.custodian.balances[ALLOCATED_BTC] == 2 * BTC
    assert bridge.exchange.statements[0].void_reason == "INVALID_SIGNATURE"

    # The exchange signs correctly again: its next statement takes number 2, covers the same trade
    # (it continues nothing, like statement 1 did) and settles it once.
    bridge.exchange.forging_key_seed = None
    second = bridge.settlements.run("okx-sim")

    assert second.state is SettlementState.SUCCEEDED, second.reason
    assert second.statement is not None
    content = second.statement.content
    assert (content.number, content.previous_statement, content.first_trade_sequence) == (2, "", 1)
    assert bridge.custodian.balances[ALLOCATED_BTC] == 3 * BTC


def test_statement_out_of_sequence_fails_verification(bridge: Bridge) -> None:
    allocate_and_buy_one_btc(bridge)
    # The exchange already issued and confirmed a statement the bridge never settled.
    bridge.exchange.create_statement("elsewhere")
    bridge.exchange.statements[-1].confirmed = True

    cycle = bridge.settlements.run("okx-sim")

    assert (cycle.state, cycle.reason) == (SettlementState.FAILED, "STATEMENT_NOT_CONTINUOUS")
    assert bridge.custodian.count("submit_statement") == 0
    assert bridge.exchange.statements[-1].void_reason == "STATEMENT_NOT_CONTINUOUS"


def test_a_statement_the_custodian_will_not_record_is_voided_at_the_exchange(bridge: Bridge) -> None:
    allocate_and_buy_one_btc(bridge)
    bridge.custodian.faults.add("submit_statement", refused("custodian", "STATEMENT_SIGNATURE_INVALID"))

    cycle = bridge.settlements.run("okx-sim")

    assert (cycle.state, cycle.step, cycle.reason) == (
        SettlementState.FAILED,
        SettlementStep.VOID,
        "STATEMENT_SIGNATURE_INVALID",
    )
    assert bridge.exchange.statements[0].void_reason == "STATEMENT_SIGNATURE_INVALID"
    assert bridge.custodian.count("execute_statement") == 0
    assert bridge.settlements.run("okx-sim").state is SettlementState.SUCCEEDED


def test_refused_execution_fails_the_cycle_and_nothing_is_confirmed(bridge: Bridge) -> None:
    allocate_and_buy_one_btc(bridge)
    bridge.custodian.faults.add("execute_statement", refused("custodian", "INSUFFICIENT_SETTLEMENT_FUNDS"))

    cycle = bridge.settlements.run("okx-sim")

    assert (cycle.state, cycle.step, cycle.reason) == (
        SettlementState.FAILED,
        SettlementStep.EXECUTE,
        "INSUFFICIENT_SETTLEMENT_FUNDS",
    )
    assert bridge.exchange.count("confirm_statement") == 0


def test_refused_cutoff_fails_the_cycle(bridge: Bridge) -> None:
    bridge.exchange.faults.add("create_statement", refused("exchanges/okx-sim", "STATEMENT_IN_FLIGHT"))

    cycle = bridge.settlements.run("okx-sim")

    assert (cycle.state, cycle.step, cycle.reason) == (
        SettlementState.FAILED,
        SettlementStep.CUTOFF,
        "STATEMENT_IN_FLIGHT",
    )
    assert cycle.statement is None


def test_crash_after_execution_resumes_at_confirm_without_executing_twice(bridge: Bridge) -> None:
    allocate_and_buy_one_btc(bridge)
    bridge.exchange.faults.add("confirm_statement", RuntimeError("process killed"))
    with pytest.raises(RuntimeError):
        bridge.settlements.run("okx-sim")

    restarted = bridge.restart()
    running = restarted.settlements.get(1)
    assert (running.state, running.step) == (SettlementState.RUNNING, SettlementStep.CONFIRM)
    assert restarted.settlements.resume_running() == 1

    cycle = restarted.settlements.get(1)
    assert cycle.state is SettlementState.SUCCEEDED and cycle.breaks == ()
    assert bridge.custodian.executed == ["exchanges/okx-sim/statements/1"]
    assert bridge.custodian.balances[ALLOCATED_BTC] == 3 * BTC
    restarted.database.close()


def test_a_running_cycle_is_finished_before_a_new_one_cuts_off(bridge: Bridge) -> None:
    allocate_and_buy_one_btc(bridge)
    bridge.exchange.faults.add("list_mirrors", unavailable("exchanges/okx-sim"))
    with pytest.raises(ServiceError) as raised:
        bridge.settlements.run("okx-sim")
    assert raised.value.code is ErrorCode.UNAVAILABLE
    assert bridge.settlements.get(1).step is SettlementStep.RECONCILE

    second = bridge.settlements.run("okx-sim")

    assert bridge.settlements.get(1).state is SettlementState.SUCCEEDED
    assert (second.number, second.state) == (2, SettlementState.SUCCEEDED)
    assert [cycle.number for cycle in bridge.settlements.list_newest(10)] == [2, 1]


def test_reconciliation_records_a_break_between_custody_and_mirror(bridge: Bridge) -> None:
    allocate_and_buy_one_btc(bridge)
    bridge.exchange.books[(ACME.name, "USDT")].mirror_units += USDT  # an exchange bug

    cycle = bridge.settlements.run("okx-sim")

    assert cycle.state is SettlementState.SUCCEEDED
    assert cycle.breaks == (ReconciliationBreak(ACME.name, "USDT", 39_940 * USDT, 39_941 * USDT),)


def test_venue_claiming_another_identity_fails_verification(bridge: Bridge) -> None:
    bridge.exchange.venue = "exchanges/impostor"

    cycle = bridge.settlements.run("okx-sim")

    assert (cycle.state, cycle.reason) == (SettlementState.FAILED, "VENUE_IDENTITY_MISMATCH")
    assert bridge.custodian.count("submit_statement") == 0


def test_scheduled_cycles_run_every_interval(bridge: Bridge) -> None:
    allocate_and_buy_one_btc(bridge)
    bridge.settlements.schedule()

    timers_run_count = bridge.clock.advance(2 * INTERVAL_MS)

    assert timers_run_count == 2
    cycles = bridge.settlements.list_newest(10)
    assert [(cycle.number, cycle.state) for cycle in cycles] == [
        (2, SettlementState.SUCCEEDED),
        (1, SettlementState.SUCCEEDED),
    ]
    assert cycles[1].create_time_ms == bridge.clock.now_ms() - INTERVAL_MS
    assert bridge.clock.next_timer_ms() == bridge.clock.now_ms() + INTERVAL_MS


def test_unknown_exchange_and_settlement_are_not_found(bridge: Bridge) -> None:
    with pytest.raises(ServiceError) as unknown_exchange:
        bridge.settlements.run("binance-sim")
    with pytest.raises(ServiceError) as unknown_settlement:
        bridge.settlements.get(7)

    assert unknown_exchange.value.reason == "EXCHANGE_NOT_FOUND"
    assert unknown_settlement.value.reason == "SETTLEMENT_NOT_FOUND"
    assert bridge.rows("settlement_cycles") == 0


def test_reconciliation_covers_every_client_of_the_exchange(bridge: Bridge) -> None:
    globex = ConnectionName("globex", "okx-sim")
    bridge.custodian.deposit("clients/globex/available", "BTC", BTC)
    bridge.connections.create(globex)
    bridge.allocations.create(globex, "BTC", BTC)
    bridge.custodian.balances[(f"{globex.name}/allocated", "BTC")] -= 1  # a custodian bug

    cycle = bridge.settlements.run("okx-sim")

    assert cycle.breaks == (ReconciliationBreak(globex.name, "BTC", BTC - 1, BTC),)


def test_a_partially_executed_statement_is_confirmed_with_its_settled_entries_only(bridge: Bridge) -> None:
    # acme lost more USDT than its allocation: that entry fails at the custodian, the BTC gain settles.
    bridge.allocations.create(ACME, "BTC", 2 * BTC)
    bridge.allocations.create(ACME, "USDT", 50_000 * USDT)
    bridge.exchange.trade(ACME.name, {"BTC": BTC, "USDT": -60_060 * USDT})

    cycle = bridge.settlements.run("okx-sim")

    assert (cycle.state, cycle.breaks) == (SettlementState.SUCCEEDED, ())
    assert bridge.custodian.balances[ALLOCATED_BTC] == 3 * BTC
    assert bridge.custodian.balances[ALLOCATED_USDT] == 50_000 * USDT
    assert [
        (entry.asset, entry.amount) for entry in bridge.exchange.confirmed_entries[cycle_statement(cycle)]
    ] == [("BTC", "1.00000000")]
    assert bridge.exchange.books[(ACME.name, "BTC")].mirror_units == 3 * BTC
    # The unsettled loss stays at the exchange and falls into the next statement.
    assert bridge.exchange.books[(ACME.name, "USDT")].unsettled_units == -60_060 * USDT


def test_a_statement_awaiting_a_top_up_keeps_its_cycle_running_until_the_exchange_pays(
    bridge: Bridge,
) -> None:
    allocate_and_buy_one_btc(bridge)
    # The exchange's settlement account cannot pay acme's 1 BTC gain.
    bridge.custodian.balances[SETTLEMENT_BTC] = BTC - 1

    waiting = bridge.settlements.run("okx-sim")

    assert (waiting.number, waiting.state, waiting.step) == (
        1,
        SettlementState.RUNNING,
        SettlementStep.EXECUTE,
    )
    assert bridge.settlements.get(1) == waiting
    assert bridge.custodian.executed == [] and bridge.exchange.count("confirm_statement") == 0
    # Another run asks the custodian again instead of cutting off a new period.
    again = bridge.settlements.run("okx-sim")
    assert (again.number, again.state, again.execute_attempts) == (1, SettlementState.RUNNING, 2)
    assert bridge.exchange.count("create_statement") == 1
    assert bridge.settlements.resume_running() == 0
    # The first request_id is answered as the first time; each ask after it has its own.
    assert bridge.custodian.execute_request_ids == [
        "settlements/1/execute",
        "settlements/1/execute/1",
        "settlements/1/execute",
        "settlements/1/execute/2",
        "settlements/1/execute",
        "settlements/1/execute/3",
    ]
    assert bridge.settlements.get(1).execute_attempts == 3

    # Topped up at the same sandbox time: the next ask is new, so the custodian checks again.
    bridge.custodian.balances[SETTLEMENT_BTC] += 1
    done = bridge.settlements.resume(1)

    assert (done.state, done.breaks) == (SettlementState.SUCCEEDED, ())
    assert bridge.custodian.executed == ["exchanges/okx-sim/statements/1"]
    assert bridge.exchange.books[(ACME.name, "BTC")].mirror_units == 3 * BTC
    assert bridge.exchange.count("create_statement") == 1
    assert bridge.settlements.run("okx-sim").number == 2


def test_a_restart_resumes_a_cycle_awaiting_a_top_up(bridge: Bridge) -> None:
    allocate_and_buy_one_btc(bridge)
    bridge.custodian.balances[SETTLEMENT_BTC] = 0
    assert bridge.settlements.run("okx-sim").state is SettlementState.RUNNING
    bridge.custodian.balances[SETTLEMENT_BTC] = 100 * BTC

    restarted = bridge.restart()

    assert restarted.settlements.resume_running() == 1
    assert restarted.settlements.get(1).state is SettlementState.SUCCEEDED
    restarted.database.close()


def cycle_statement(cycle: SettlementCycle) -> str:
    assert cycle.statement is not None
    return cycle.statement.name


def test_a_statement_that_settled_nothing_is_confirmed_with_no_entry_rebased(bridge: Bridge) -> None:
    bridge.allocations.create(ACME, "USDT", 50_000 * USDT)
    bridge.exchange.trade(ACME.name, {"USDT": -60_060 * USDT})

    cycle = bridge.settlements.run("okx-sim")

    assert cycle.state is SettlementState.SUCCEEDED
    assert bridge.exchange.confirmed_entries[cycle_statement(cycle)] == ()
    assert bridge.exchange.books[(ACME.name, "USDT")].mirror_units == 50_000 * USDT
    assert bridge.exchange.books[(ACME.name, "USDT")].unsettled_units == -60_060 * USDT


def test_an_exchange_with_an_interval_of_its_own_settles_on_it(bridge: Bridge) -> None:
    allocate_and_buy_one_btc(bridge)
    own_interval_ms = INTERVAL_MS // 4
    faults = FaultRegistry(bridge.clock, 1)
    faults.add_crash_points(CRASH_POINTS)
    cycles = SettlementCycles(
        SqliteUnitOfWork(bridge.database, bridge.request_log, bridge.clock),
        Venues(bridge.custodian, {bridge.exchange.exchange_id: bridge.exchange}),
        bridge.clock,
        ASSETS,
        INTERVAL_MS,
        faults,
        exchange_intervals_ms={bridge.exchange.exchange_id: own_interval_ms},
    )
    cycles.schedule()

    assert bridge.clock.next_timer_ms() == bridge.clock.now_ms() + own_interval_ms
    bridge.clock.advance(own_interval_ms)
    assert [cycle.state for cycle in cycles.list_newest(10)] == [SettlementState.SUCCEEDED]
    assert bridge.clock.next_timer_ms() == bridge.clock.now_ms() + own_interval_ms


def test_a_bridge_that_was_down_catches_up_with_one_cycle(bridge: Bridge) -> None:
    allocate_and_buy_one_btc(bridge)
    bridge.settlements.run(bridge.exchange.exchange_id)
    # The bridge was down for three intervals: at start one cycle is due at once, not three.
    bridge.clock.advance(3 * INTERVAL_MS)
    bridge.settlements.schedule()

    assert bridge.clock.next_timer_ms() == bridge.clock.now_ms()
    assert bridge.clock.advance(1) == 1
    assert [cycle.number for cycle in bridge.settlements.list_newest(10)] == [2, 1]
    assert bridge.clock.next_timer_ms() == bridge.clock.now_ms() - 1 + INTERVAL_MS
