"""Domain rules of execution per entry: loss bound, top-up, disputes, resolution and the statement state."""

from __future__ import annotations

import pytest

from custodian_sim.domain import statement_execution as rules
from custodian_sim.domain.entry_outcomes import ClaimDraft, EntryOutcome, EntryState
from custodian_sim.domain.ledger import BalanceKey, TransferKind
from custodian_sim.domain.names import ConnectionName, allocated_account, settlement_account
from custodian_sim.domain.statements import RecordedStatement, StatementState, parse_statement
from service_kit.errors import ErrorCode, ServiceError
from service_kit.money import AssetScales
from tests.unit.custodian_sim.statement_factory import signed, statement_content

ASSETS = AssetScales({"BTC": 8, "USDT": 6})
OKX = "exchanges/okx-sim"
ACME = ConnectionName("acme", "okx-sim")
BETA = ConnectionName("beta", "okx-sim")
GAMMA = ConnectionName("gamma", "okx-sim")
SETTLEMENT = settlement_account("okx-sim")
STATEMENT = f"{OKX}/statements/1"
NOW_MS = 5_000


def recorded(entries: list[tuple[str, str, str]]) -> RecordedStatement:
    statement = parse_statement(*signed(statement_content(OKX, 1, entries)), ASSETS)
    return RecordedStatement(statement, StatementState.PENDING, (), 1_000)


def states(statement: RecordedStatement) -> list[tuple[str, str, EntryState, str]]:
    return [
        (outcome.connection.client_id, outcome.asset, outcome.state, outcome.reason)
        for outcome in statement.entry_outcomes()
    ]


def refusal(action: object) -> ServiceError:
    assert callable(action)
    with pytest.raises(ServiceError) as raised:
        action()
    return raised.value


def test_losses_move_first_then_gains_with_deterministic_ids() -> None:
    statement = recorded([(ACME.name, "USDT", "-100"), (BETA.name, "USDT", "150"), (ACME.name, "BTC", "1")])
    balances: dict[BalanceKey, int] = {
        (allocated_account(ACME), "USDT"): 100_000_000,
        (SETTLEMENT, "USDT"): 50_000_000,
        (SETTLEMENT, "BTC"): 100_000_000,
    }

    settlement = rules.plan_settlement(statement, balances, NOW_MS, settle_what_can=False)

    assert settlement is not None and settlement.claims == ()
    assert [(transfer.kind, transfer.id) for transfer in settlement.transfers] == [
        (TransferKind.SETTLEMENT_LOSS, f"{STATEMENT}/transfers/acme/USDT"),
        (TransferKind.SETTLEMENT_GAIN, f"{STATEMENT}/transfers/acme/BTC"),
        (TransferKind.SETTLEMENT_GAIN, f"{STATEMENT}/transfers/beta/USDT"),
    ]
    loss, _, beta_gain = settlement.transfers
    assert (loss.from_account, loss.to_account, loss.amount_units) == (
        allocated_account(ACME),
        SETTLEMENT,
        100_000_000,
    )
    assert (beta_gain.from_account, beta_gain.to_account) == (SETTLEMENT, allocated_account(BETA))
    executed = rules.executed(statement, settlement, NOW_MS)
    assert executed.state is StatementState.SUCCEEDED and executed.execute_time_ms == NOW_MS
    assert executed.transfer_ids == tuple(transfer.id for transfer in settlement.transfers)
    assert all(outcome.state is EntryState.SETTLED for outcome in executed.entry_outcomes())


def test_a_loss_beyond_its_allocation_fails_that_entry_alone_and_leaves_the_exchange_a_claim() -> None:
    statement = recorded(
        [(ACME.name, "USDT", "-100.000001"), (BETA.name, "USDT", "-50"), (BETA.name, "BTC", "1")]
    )
    balances: dict[BalanceKey, int] = {
        (allocated_account(ACME), "USDT"): 100_000_000,
        (allocated_account(BETA), "USDT"): 50_000_000,
        (SETTLEMENT, "BTC"): 100_000_000,
    }

    settlement = rules.plan_settlement(statement, balances, NOW_MS, settle_what_can=False)

    assert settlement is not None
    assert [transfer.id for transfer in settlement.transfers] == [
        f"{STATEMENT}/transfers/beta/USDT",
        f"{STATEMENT}/transfers/beta/BTC",
    ]
    assert settlement.claims == (
        ClaimDraft(OKX, "clients/acme", "USDT", 100_000_001, STATEMENT, ACME, "LOSS_EXCEEDS_ALLOCATION"),
    )
    executed = rules.executed(statement, settlement, NOW_MS)
    assert executed.state is StatementState.PARTIALLY_SUCCEEDED
    assert states(executed) == [
        ("acme", "USDT", EntryState.FAILED, "LOSS_EXCEEDS_ALLOCATION"),
        ("beta", "BTC", EntryState.SETTLED, ""),
        ("beta", "USDT", EntryState.SETTLED, ""),
    ]


def test_a_loss_equal_to_the_allocation_settles() -> None:
    statement = recorded([(ACME.name, "BTC", "-2")])
    balances = {(allocated_account(ACME), "BTC"): 200_000_000}
    settlement = rules.plan_settlement(statement, balances, NOW_MS, settle_what_can=False)
    assert settlement is not None and len(settlement.transfers) == 1 and settlement.claims == ()


def test_a_statement_whose_only_entry_fails_has_failed() -> None:
    statement = recorded([(ACME.name, "BTC", "-2")])
    settlement = rules.plan_settlement(statement, {}, NOW_MS, settle_what_can=False)
    assert settlement is not None and settlement.transfers == ()
    assert rules.executed(statement, settlement, NOW_MS).state is StatementState.FAILED


def test_gains_wait_for_a_top_up_counting_the_losses_collected_first() -> None:
    statement = recorded([(ACME.name, "USDT", "-100"), (BETA.name, "USDT", "150.000001")])
    balances = {(allocated_account(ACME), "USDT"): 100_000_000, (SETTLEMENT, "USDT"): 50_000_000}

    assert rules.plan_settlement(statement, balances, NOW_MS, settle_what_can=False) is None

    topped_up = {**balances, (SETTLEMENT, "USDT"): 50_000_001}
    settlement = rules.plan_settlement(statement, topped_up, NOW_MS, settle_what_can=False)
    assert settlement is not None and len(settlement.transfers) == 2


def test_a_gain_in_one_asset_waits_even_when_the_others_are_covered() -> None:
    statement = recorded([(ACME.name, "BTC", "1"), (ACME.name, "USDT", "10")])
    balances = {(SETTLEMENT, "BTC"): 100_000_000}
    assert rules.plan_settlement(statement, balances, NOW_MS, settle_what_can=False) is None


def test_at_the_deadline_covered_gains_settle_in_entry_order_and_the_rest_become_claims() -> None:
    statement = recorded(
        [
            (ACME.name, "USDT", "60"),
            (BETA.name, "USDT", "50"),
            (GAMMA.name, "USDT", "30"),
            (GAMMA.name, "BTC", "-1"),
        ]
    )
    # 80 USDT in the account for 140 USDT of gains; the BTC loss pays nothing in USDT.
    balances = {(SETTLEMENT, "USDT"): 80_000_000, (allocated_account(GAMMA), "BTC"): 100_000_000}

    settlement = rules.plan_settlement(statement, balances, NOW_MS, settle_what_can=True)

    assert settlement is not None
    # acme's 60 fits, beta's 50 does not fit in the 20 left, gamma's 30 does not either.
    assert [transfer.id for transfer in settlement.transfers] == [
        f"{STATEMENT}/transfers/gamma/BTC",
        f"{STATEMENT}/transfers/acme/USDT",
    ]
    assert [(claim.creditor, claim.debtor, claim.amount_units) for claim in settlement.claims] == [
        ("clients/beta", OKX, 50_000_000),
        ("clients/gamma", OKX, 30_000_000),
    ]
    assert {claim.reason for claim in settlement.claims} == {"INSUFFICIENT_SETTLEMENT_FUNDS"}
    executed = rules.executed(statement, settlement, NOW_MS)
    assert executed.state is StatementState.PARTIALLY_SUCCEEDED


def test_a_smaller_later_gain_still_settles_after_a_larger_one_failed() -> None:
    statement = recorded([(ACME.name, "USDT", "60"), (BETA.name, "USDT", "10")])
    settlement = rules.plan_settlement(
        statement, {(SETTLEMENT, "USDT"): 20_000_000}, NOW_MS, settle_what_can=True
    )
    assert settlement is not None
    assert [transfer.id for transfer in settlement.transfers] == [f"{STATEMENT}/transfers/beta/USDT"]
    assert [claim.connection for claim in settlement.claims] == [ACME]


def test_nothing_paid_at_the_deadline_fails_the_statement() -> None:
    statement = recorded([(ACME.name, "USDT", "60")])
    waiting = rules.awaiting_top_up(statement, 9_000)
    settlement = rules.plan_settlement(waiting, {}, 9_000, settle_what_can=True)
    assert settlement is not None
    executed = rules.executed(waiting, settlement, 9_000)
    assert (executed.state, executed.top_up_deadline_ms, executed.transfer_ids) == (
        StatementState.FAILED,
        9_000,
        (),
    )


def test_a_disputed_entry_is_held_and_the_others_settle() -> None:
    statement = recorded([(ACME.name, "BTC", "-1"), (BETA.name, "BTC", "1")])
    held = rules.disputed(statement, rules.find_entry(statement, ACME, "BTC"), "wrong fill price")
    balances = {(allocated_account(ACME), "BTC"): 100_000_000, (SETTLEMENT, "BTC"): 100_000_000}

    settlement = rules.plan_settlement(held, balances, NOW_MS, settle_what_can=False)

    assert held.state is StatementState.PENDING
    assert settlement is not None
    assert [transfer.id for transfer in settlement.transfers] == [f"{STATEMENT}/transfers/beta/BTC"]
    executed = rules.executed(held, settlement, NOW_MS)
    assert executed.state is StatementState.PARTIALLY_SUCCEEDED
    assert states(executed) == [
        ("acme", "BTC", EntryState.DISPUTED, "wrong fill price"),
        ("beta", "BTC", EntryState.SETTLED, ""),
    ]


def test_a_held_loss_does_not_fund_the_gains() -> None:
    statement = recorded([(ACME.name, "BTC", "-1"), (BETA.name, "BTC", "1")])
    held = rules.disputed(statement, rules.find_entry(statement, ACME, "BTC"), "price")
    balances = {(allocated_account(ACME), "BTC"): 100_000_000}
    assert rules.plan_settlement(statement, balances, NOW_MS, settle_what_can=False) is not None
    assert rules.plan_settlement(held, balances, NOW_MS, settle_what_can=False) is None


def test_every_entry_disputed_leaves_the_statement_disputed() -> None:
    statement = recorded([(ACME.name, "BTC", "-1")])
    held = rules.disputed(statement, rules.find_entry(statement, ACME, "BTC"), "price")
    settlement = rules.plan_settlement(held, {}, NOW_MS, settle_what_can=False)
    assert settlement == rules.Settlement((), (), ())
    assert rules.executed(held, settlement, NOW_MS).state is StatementState.DISPUTED


@pytest.mark.parametrize(
    ("entry_states", "expected"),
    [
        ((), StatementState.SUCCEEDED),
        ((EntryState.SETTLED, EntryState.SETTLED), StatementState.SUCCEEDED),
        ((EntryState.SETTLED, EntryState.FAILED), StatementState.PARTIALLY_SUCCEEDED),
        ((EntryState.DISPUTED, EntryState.SETTLED), StatementState.PARTIALLY_SUCCEEDED),
        ((EntryState.DISPUTED, EntryState.DISPUTED), StatementState.DISPUTED),
        ((EntryState.DISPUTED, EntryState.FAILED), StatementState.FAILED),
        ((EntryState.FAILED,), StatementState.FAILED),
    ],
)
def test_the_state_of_an_executed_statement_follows_its_entries(
    entry_states: tuple[EntryState, ...], expected: StatementState
) -> None:
    outcomes = [
        EntryOutcome(
            ACME,
            f"A{index}",
            1,
            state,
            reason="why" if state in (EntryState.FAILED, EntryState.DISPUTED) else "",
            transfer_id="t" if state is EntryState.SETTLED else "",
        )
        for index, state in enumerate(entry_states)
    ]
    assert rules.derive_state(outcomes) is expected


def test_only_a_statement_not_yet_executed_takes_disputes() -> None:
    statement = recorded([(ACME.name, "BTC", "1")])
    entry = rules.find_entry(statement, ACME, "BTC")
    waiting = rules.awaiting_top_up(statement, 9_000)
    assert rules.disputed(waiting, entry, "price").state is StatementState.AWAITING_TOP_UP

    settlement = rules.plan_settlement(statement, {(SETTLEMENT, "BTC"): 100_000_000}, NOW_MS, False)
    assert settlement is not None
    executed = rules.executed(statement, settlement, NOW_MS)
    error = refusal(lambda: rules.disputed(executed, entry, "price"))
    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "STATEMENT_NOT_DISPUTABLE")


def test_an_unknown_entry_is_not_found() -> None:
    statement = recorded([(ACME.name, "BTC", "1")])
    error = refusal(lambda: rules.find_entry(statement, ACME, "USDT"))
    assert (error.code, error.reason) == (ErrorCode.NOT_FOUND, "ENTRY_NOT_FOUND")


@pytest.mark.parametrize("reason", ["", "x" * 257, "line\nbreak"])
def test_a_dispute_needs_a_short_printable_reason(reason: str) -> None:
    error = refusal(lambda: rules.check_dispute_reason(reason, "reason"))
    assert (error.code, error.reason) == (ErrorCode.INVALID_ARGUMENT, "DISPUTE_REASON_INVALID")
    assert error.field_violations[0].field == "reason"


def executed_with_held(entries: list[tuple[str, str, str]], held_client: ConnectionName) -> RecordedStatement:
    statement = recorded(entries)
    held = rules.disputed(statement, rules.find_entry(statement, held_client, "BTC"), "price")
    balances = {
        (allocated_account(BETA), "BTC"): 100_000_000,
        (SETTLEMENT, "BTC"): 100_000_000,
    }
    settlement = rules.plan_settlement(held, balances, NOW_MS, settle_what_can=False)
    assert settlement is not None
    return rules.executed(held, settlement, NOW_MS)


def test_a_resolved_loss_settles_as_an_adjustment_and_the_statement_succeeds() -> None:
    executed = executed_with_held([(ACME.name, "BTC", "-1"), (BETA.name, "BTC", "-1")], ACME)
    assert executed.state is StatementState.PARTIALLY_SUCCEEDED
    entry = rules.find_entry(executed, ACME, "BTC")

    settlement = rules.plan_resolution(
        executed, entry, {(allocated_account(ACME), "BTC"): 100_000_000}, ASSETS, 7_000
    )
    resolved = rules.resolved(executed, settlement)

    (transfer,) = settlement.transfers
    assert transfer.id == f"{STATEMENT}/transfers/acme/BTC/adjustment"
    assert (transfer.from_account, transfer.to_account, transfer.kind) == (
        allocated_account(ACME),
        SETTLEMENT,
        TransferKind.SETTLEMENT_LOSS,
    )
    assert resolved.state is StatementState.SUCCEEDED
    assert resolved.transfer_ids[-1] == transfer.id
    assert resolved.execute_time_ms == NOW_MS


def test_a_resolved_loss_beyond_the_allocation_fails_with_a_claim() -> None:
    executed = executed_with_held([(ACME.name, "BTC", "-1")], ACME)
    assert executed.state is StatementState.DISPUTED
    entry = rules.find_entry(executed, ACME, "BTC")

    settlement = rules.plan_resolution(executed, entry, {}, ASSETS, 7_000)

    assert settlement.transfers == ()
    assert [claim.reason for claim in settlement.claims] == ["LOSS_EXCEEDS_ALLOCATION"]
    assert rules.resolved(executed, settlement).state is StatementState.FAILED


def test_a_resolved_gain_the_exchange_cannot_pay_is_refused_and_stays_held() -> None:
    executed = executed_with_held([(ACME.name, "BTC", "2"), (BETA.name, "BTC", "-1")], ACME)
    entry = rules.find_entry(executed, ACME, "BTC")

    error = refusal(
        lambda: rules.plan_resolution(executed, entry, {(SETTLEMENT, "BTC"): 199_999_999}, ASSETS, 7_000)
    )

    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "INSUFFICIENT_SETTLEMENT_FUNDS")
    assert error.metadata["required"] == "2.00000000"
    settlement = rules.plan_resolution(executed, entry, {(SETTLEMENT, "BTC"): 200_000_000}, ASSETS, 7_000)
    assert settlement.transfers[0].to_account == allocated_account(ACME)


def test_only_a_disputed_entry_of_an_executed_statement_is_resolved() -> None:
    statement = recorded([(ACME.name, "BTC", "-1"), (BETA.name, "BTC", "-1")])
    held = rules.disputed(statement, rules.find_entry(statement, ACME, "BTC"), "price")
    error = refusal(lambda: rules.plan_resolution(held, rules.find_entry(held, ACME, "BTC"), {}, ASSETS, 1))
    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "STATEMENT_NOT_EXECUTED")

    executed = executed_with_held([(ACME.name, "BTC", "-1"), (BETA.name, "BTC", "-1")], ACME)
    settled = rules.find_entry(executed, BETA, "BTC")
    error = refusal(lambda: rules.plan_resolution(executed, settled, {}, ASSETS, 1))
    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "ENTRY_NOT_DISPUTED")
