"""Withdrawals: the domain rules and the use cases over the fake and SQLite.

The ledger property over random withdrawals mixed with every other step is in
test_ledger_properties.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from custodian_sim.domain import withdrawals as rules
from custodian_sim.domain.ledger import TransferKind
from custodian_sim.domain.withdrawals import (
    WhitelistAddressName,
    WhitelistAddressState,
    Withdrawal,
    WithdrawalName,
    WithdrawalPolicy,
    WithdrawalState,
)
from service_kit.clock import SimulatedClock
from service_kit.errors import ErrorCode, ServiceError
from tests.unit.custodian_sim.harness import (
    ASSETS,
    CONFIRMATION_MS,
    COOLING_OFF_MS,
    MINUTE_MS,
    START_MS,
    Harness,
)

ACME = "clients/acme"
ADDRESS = "bc1qacmecoldwallet"
TREASURER = "clients/acme-treasurer"
ONE_BTC = 100_000_000


def refused(call: Callable[[], object]) -> ServiceError:
    with pytest.raises(ServiceError) as raised:
        call()
    return raised.value


# Domain.


def test_names_parse_and_refuse_other_shapes() -> None:
    assert WithdrawalName.parse("clients/acme/withdrawals/12", "name") == WithdrawalName("acme", 12)
    assert WithdrawalName("acme", 12).name == "clients/acme/withdrawals/12"
    assert WhitelistAddressName.parse("clients/acme/whitelistAddresses/3", "name").number == 3
    for bad in ("clients/acme/withdrawals/0", "clients/acme/withdrawals/x", "clients/Acme/withdrawals/1", ""):
        error = refused(lambda bad=bad: WithdrawalName.parse(bad, "name"))
        assert (error.code, error.field_violations[0].field) == (ErrorCode.INVALID_ARGUMENT, "name")


@pytest.mark.parametrize("address", ["", "a" * 129, "bc1 q", "bc1\tq", "bc1é"])
def test_addresses_are_one_to_128_visible_ascii_characters(address: str) -> None:
    error = refused(lambda: rules.check_address(address, "address"))
    assert (error.reason, error.field_violations[0].field) == ("ADDRESS_INVALID", "address")


def test_good_addresses_and_labels_pass() -> None:
    assert rules.check_address("a" * 128, "address") == "a" * 128
    assert rules.check_address("0xAbC-123_:.", "address") == "0xAbC-123_:."
    assert rules.check_label("", "label") == ""
    assert rules.check_label("cold wallet" + "x" * 53, "label")
    assert refused(lambda: rules.check_label("x" * 65, "label")).reason == "LABEL_INVALID"
    assert refused(lambda: rules.check_label("a\nb", "label")).reason == "LABEL_INVALID"


def test_a_whitelisted_address_cools_off_until_its_usable_time() -> None:
    entry = rules.new_whitelist_address(
        WhitelistAddressName("acme", 1), "BTC", ADDRESS, "", START_MS, COOLING_OFF_MS
    )

    assert entry.state(START_MS) is WhitelistAddressState.COOLING_OFF
    assert entry.state(START_MS + COOLING_OFF_MS - 1) is WhitelistAddressState.COOLING_OFF
    assert entry.state(START_MS + COOLING_OFF_MS) is WhitelistAddressState.ACTIVE
    assert refused(
        lambda: rules.require_usable_address(entry, ACME, "BTC", ADDRESS, START_MS + 1)
    ).reason == ("ADDRESS_COOLING_OFF")
    assert refused(lambda: rules.require_usable_address(None, ACME, "BTC", ADDRESS, START_MS)).reason == (
        "ADDRESS_NOT_WHITELISTED"
    )


@pytest.mark.parametrize(
    ("thresholds", "approvers", "quorum", "reason", "field"),
    [
        ({"DOGE": "1"}, ("admin",), 1, "UNKNOWN_ASSET", "policy.thresholds[DOGE]"),
        ({"BTC": "0.000000001"}, ("admin",), 1, "AMOUNT_TOO_PRECISE", "policy.thresholds[BTC]"),
        ({"BTC": "0"}, ("admin",), 1, "AMOUNT_NOT_POSITIVE", "policy.thresholds[BTC]"),
        ({"BTC": "-1"}, ("admin",), 1, "AMOUNT_NEGATIVE", "policy.thresholds[BTC]"),
        ({"BTC": "1"}, ("admin", "Clients/x"), 1, "APPROVER_INVALID", "policy.approvers[1]"),
        ({"BTC": "1"}, ("admin", "admin"), 1, "APPROVER_DUPLICATE", "policy.approvers[1]"),
        ({"BTC": "1"}, ("admin",), 0, "QUORUM_OUT_OF_RANGE", "policy.quorum"),
        ({"BTC": "1"}, ("admin", TREASURER), 3, "QUORUM_OUT_OF_RANGE", "policy.quorum"),
        ({}, (), 1, "QUORUM_OUT_OF_RANGE", "policy.quorum"),
    ],
)
def test_bad_policies_name_the_field(
    thresholds: dict[str, str], approvers: tuple[str, ...], quorum: int, reason: str, field: str
) -> None:
    error = refused(lambda: rules.parse_policy(ACME, thresholds, approvers, quorum, ASSETS))
    assert (error.code, error.reason, error.field_violations[0].field) == (
        ErrorCode.INVALID_ARGUMENT,
        reason,
        field,
    )


def test_the_quorum_is_required_strictly_above_the_threshold_only() -> None:
    policy = rules.parse_policy(ACME, {"BTC": "1"}, ("admin", TREASURER, "bridge"), 2, ASSETS)

    assert policy.thresholds == {"BTC": ONE_BTC}
    assert policy.approvals_required("BTC", ONE_BTC) == 0
    assert policy.approvals_required("BTC", ONE_BTC + 1) == 2
    assert policy.approvals_required("USDT", 10**15) == 0


def pending_withdrawal() -> Withdrawal:
    entry = rules.new_whitelist_address(WhitelistAddressName("acme", 1), "BTC", ADDRESS, "", START_MS, 0)
    policy = WithdrawalPolicy(ACME, {"BTC": ONE_BTC}, ("admin", TREASURER, "bridge"), 2)
    return rules.new_withdrawal(
        WithdrawalName("acme", 1), entry, 2 * ONE_BTC, policy, START_MS, CONFIRMATION_MS
    )


def test_a_quorum_of_distinct_named_approvers_broadcasts() -> None:
    pending = pending_withdrawal()
    now_ms = START_MS + 5 * MINUTE_MS

    once = pending.approved_by("admin", now_ms, CONFIRMATION_MS)
    twice = once.approved_by("admin", now_ms, CONFIRMATION_MS)
    stranger = refused(lambda: once.approved_by("clients/acme", now_ms, CONFIRMATION_MS))
    broadcast = twice.approved_by(TREASURER, now_ms, CONFIRMATION_MS)

    assert pending.state is WithdrawalState.PENDING_APPROVAL
    assert pending.approvals_required == 2
    assert twice == once
    assert once.approvers == ("admin",)
    assert (stranger.code, stranger.reason) == (ErrorCode.PERMISSION_DENIED, "NOT_AN_APPROVER")
    assert broadcast.state is WithdrawalState.BROADCAST
    assert broadcast.approvers == ("admin", TREASURER)
    assert (broadcast.broadcast_time_ms, broadcast.confirm_time_ms) == (now_ms, now_ms + CONFIRMATION_MS)
    late = refused(lambda: broadcast.approved_by("bridge", now_ms, CONFIRMATION_MS))
    assert (late.code, late.reason) == (ErrorCode.FAILED_PRECONDITION, "WITHDRAWAL_NOT_PENDING")


def test_only_a_withdrawal_not_yet_broadcast_can_be_cancelled() -> None:
    pending = pending_withdrawal()
    cancelled = pending.cancelled()
    broadcast = pending.broadcast(START_MS, CONFIRMATION_MS)

    assert cancelled.state is WithdrawalState.CANCELLED
    assert cancelled.cancelled() == cancelled
    for withdrawal in (broadcast, broadcast.confirmed()):
        error = refused(withdrawal.cancelled)
        assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "WITHDRAWAL_ALREADY_BROADCAST")
    assert refused(lambda: cancelled.approved_by("admin", START_MS, 0)).reason == "WITHDRAWAL_NOT_PENDING"


def test_transfers_are_named_after_the_withdrawal_and_never_touch_an_allocation() -> None:
    withdrawal = pending_withdrawal()
    transfers = [
        rules.reserve_transfer(withdrawal),
        rules.cancel_transfer(withdrawal, START_MS),
        rules.confirm_transfer(withdrawal, START_MS),
    ]

    assert [(t.id, t.from_account, t.to_account, t.kind) for t in transfers] == [
        (
            "clients/acme/withdrawals/1/reserve",
            "clients/acme/available",
            "clients/acme/withdrawing",
            TransferKind.WITHDRAWAL_RESERVE,
        ),
        (
            "clients/acme/withdrawals/1/cancel",
            "clients/acme/withdrawing",
            "clients/acme/available",
            TransferKind.WITHDRAWAL_CANCEL,
        ),
        (
            "clients/acme/withdrawals/1/confirm",
            "clients/acme/withdrawing",
            "world/chain",
            TransferKind.WITHDRAWAL_CONFIRM,
        ),
    ]
    assert {t.reference for t in transfers} == {"clients/acme/withdrawals/1"}


# Use cases, over the fake and over SQLite.


@pytest.fixture()
def harness(harness: Harness) -> Harness:
    """The conftest harness (over the fake and over SQLite) with acme holding ten BTC."""
    harness.create_party(ACME)
    harness.create_party("exchanges/okx-sim")
    harness.deposit("acme-btc", ACME, "BTC", 10 * ONE_BTC)
    return harness


def audit_trail(harness: Harness, resource: str) -> list[tuple[str, str, str, str]]:
    records = harness.run_work(lambda uow: uow.audit.list_after(0, 1000, None))
    return [
        (record.principal, record.method, record.before, record.after)
        for record in records
        if record.resource == resource
    ]


def test_a_new_address_is_refused_until_its_cooling_off_has_passed(harness: Harness) -> None:
    entry = harness.whitelist("acme", "BTC", ADDRESS, "cold wallet")
    snapshot = harness.store.snapshot()

    cooling = refused(lambda: harness.withdraw("acme", "BTC", ONE_BTC, ADDRESS))
    unknown = refused(lambda: harness.withdraw("acme", "BTC", ONE_BTC, "bc1qsomeoneelse"))
    other_asset = refused(lambda: harness.withdraw("acme", "USDT", 1, ADDRESS))

    assert entry.name.name == "clients/acme/whitelistAddresses/1"
    assert entry.usable_time_ms == START_MS + COOLING_OFF_MS
    assert (cooling.code, cooling.reason) == (ErrorCode.FAILED_PRECONDITION, "ADDRESS_COOLING_OFF")
    assert unknown.reason == other_asset.reason == "ADDRESS_NOT_WHITELISTED"
    assert harness.store.snapshot() == snapshot
    assert harness.run_work(lambda uow: uow.withdrawals.get(WithdrawalName("acme", 1))) is None
    duplicate = refused(lambda: harness.whitelist("acme", "BTC", ADDRESS))
    assert (duplicate.code, duplicate.reason) == (ErrorCode.ALREADY_EXISTS, "WHITELIST_ADDRESS_EXISTS")
    assert audit_trail(harness, entry.name.name) == [("system", "", "", "COOLING_OFF")]


def test_under_the_threshold_a_withdrawal_broadcasts_at_once_and_the_chain_confirms_it(
    harness: Harness,
) -> None:
    harness.whitelist("acme", "BTC", ADDRESS)
    harness.advance(COOLING_OFF_MS)
    chain_before = harness.balance("world/chain", "BTC")

    withdrawal = harness.withdraw("acme", "BTC", 3 * ONE_BTC, ADDRESS)

    assert withdrawal.name.name == "clients/acme/withdrawals/1"
    assert withdrawal.state is WithdrawalState.BROADCAST
    assert withdrawal.approvals_required == 0
    assert withdrawal.confirm_time_ms == START_MS + COOLING_OFF_MS + CONFIRMATION_MS
    assert harness.balance("clients/acme/available", "BTC") == 7 * ONE_BTC
    assert harness.balance("clients/acme/withdrawing", "BTC") == 3 * ONE_BTC

    assert harness.advance(CONFIRMATION_MS - 1) == 0
    assert harness.withdrawal(withdrawal.name).state is WithdrawalState.BROADCAST
    assert harness.advance(1) == 1

    assert harness.withdrawal(withdrawal.name).state is WithdrawalState.CONFIRMED
    assert harness.balance("clients/acme/withdrawing", "BTC") == 0
    assert harness.balance("world/chain", "BTC") == chain_before + 3 * ONE_BTC
    assert audit_trail(harness, withdrawal.name.name) == [
        ("system", "", "", "BROADCAST"),
        ("system", "ConfirmWithdrawal", "BROADCAST", "CONFIRMED"),
    ]
    # A second confirmation (a duplicate timer) changes nothing.
    snapshot = harness.store.snapshot()
    assert harness.run_work(lambda uow: harness.withdrawals.confirm_withdrawal(uow, withdrawal.name)) is None
    assert harness.store.snapshot() == snapshot


def test_a_withdrawal_takes_only_from_available_never_from_an_allocation(harness: Harness) -> None:
    connection = harness.connect("acme", "okx-sim")
    harness.lock(connection, "acme-lock", "BTC", 8 * ONE_BTC)
    harness.whitelist("acme", "BTC", ADDRESS)
    harness.advance(COOLING_OFF_MS)
    snapshot = harness.store.snapshot()

    error = refused(lambda: harness.withdraw("acme", "BTC", 3 * ONE_BTC, ADDRESS))

    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "INSUFFICIENT_BALANCE")
    assert "clients/acme/available" in error.message
    assert harness.store.snapshot() == snapshot
    assert harness.withdraw("acme", "BTC", 2 * ONE_BTC, ADDRESS).state is WithdrawalState.BROADCAST
    assert harness.balance("clients/acme/available", "BTC") == 0
    assert harness.balance(f"{connection.name}/allocated", "BTC") == 8 * ONE_BTC


def test_above_the_threshold_the_quorum_of_named_approvers_broadcasts(harness: Harness) -> None:
    harness.whitelist("acme", "BTC", ADDRESS)
    harness.advance(COOLING_OFF_MS)
    harness.set_policy(WithdrawalPolicy(ACME, {"BTC": ONE_BTC}, ("admin", TREASURER), 2))

    small = harness.withdraw("acme", "BTC", ONE_BTC, ADDRESS)
    large = harness.withdraw("acme", "BTC", ONE_BTC + 1, ADDRESS)
    once = harness.approve(large.name, "admin")
    again = harness.approve(large.name, "admin")
    stranger = refused(lambda: harness.approve(large.name, ACME))
    broadcast = harness.approve(large.name, TREASURER)

    assert small.state is WithdrawalState.BROADCAST
    assert (large.state, large.approvals_required) == (WithdrawalState.PENDING_APPROVAL, 2)
    assert once.approvers == again.approvers == ("admin",)
    assert (stranger.code, stranger.reason) == (ErrorCode.PERMISSION_DENIED, "NOT_AN_APPROVER")
    assert broadcast.state is WithdrawalState.BROADCAST
    assert broadcast.approvers == ("admin", TREASURER)
    assert refused(lambda: harness.approve(large.name, "admin")).reason == "WITHDRAWAL_NOT_PENDING"
    assert refused(lambda: harness.cancel(large.name)).reason == "WITHDRAWAL_ALREADY_BROADCAST"
    harness.advance(CONFIRMATION_MS)
    assert harness.withdrawal(large.name).state is WithdrawalState.CONFIRMED
    assert harness.balance("clients/acme/available", "BTC") == 8 * ONE_BTC - 1
    assert [after for *_, after in audit_trail(harness, large.name.name)] == [
        "PENDING_APPROVAL (0 of 2 approvals)",
        "PENDING_APPROVAL (1 of 2 approvals)",
        "BROADCAST",
        "CONFIRMED",
    ]


def test_cancelling_before_broadcast_returns_the_amount(harness: Harness) -> None:
    harness.whitelist("acme", "BTC", ADDRESS)
    harness.advance(COOLING_OFF_MS)
    harness.set_policy(WithdrawalPolicy(ACME, {"BTC": ONE_BTC}, ("admin",), 1))
    pending = harness.withdraw("acme", "BTC", 4 * ONE_BTC, ADDRESS)
    assert harness.balance("clients/acme/available", "BTC") == 6 * ONE_BTC

    cancelled = harness.cancel(pending.name)
    snapshot = harness.store.snapshot()
    cancelled_again = harness.cancel(pending.name)

    assert cancelled.state is cancelled_again.state is WithdrawalState.CANCELLED
    assert harness.store.snapshot() == snapshot
    assert harness.balance("clients/acme/available", "BTC") == 10 * ONE_BTC
    assert harness.balance("clients/acme/withdrawing", "BTC") == 0
    assert refused(lambda: harness.approve(pending.name, "admin")).reason == "WITHDRAWAL_NOT_PENDING"
    assert harness.advance(CONFIRMATION_MS) == 0


def test_a_new_policy_applies_to_new_withdrawals_only(harness: Harness) -> None:
    harness.whitelist("acme", "BTC", ADDRESS)
    harness.advance(COOLING_OFF_MS)
    harness.set_policy(WithdrawalPolicy(ACME, {"BTC": ONE_BTC}, ("admin",), 1))
    first = harness.withdraw("acme", "BTC", 2 * ONE_BTC, ADDRESS)

    harness.set_policy(WithdrawalPolicy(ACME, {"BTC": ONE_BTC}, (TREASURER, "bridge"), 2))
    second = harness.withdraw("acme", "BTC", 2 * ONE_BTC, ADDRESS)

    assert refused(lambda: harness.approve(first.name, TREASURER)).reason == "NOT_AN_APPROVER"
    assert harness.approve(first.name, "admin").state is WithdrawalState.BROADCAST
    assert second.approvals_required == 2
    assert refused(lambda: harness.approve(second.name, "admin")).reason == "NOT_AN_APPROVER"
    policies = [after for *_, after in audit_trail(harness, "clients/acme/withdrawalPolicy")]
    assert policies == [
        "quorum 1 of [admin]; thresholds [BTC>1.00000000]",
        "quorum 2 of [clients/acme-treasurer,bridge]; thresholds [BTC>1.00000000]",
    ]


def test_unknown_clients_and_withdrawals_are_not_found(harness: Harness) -> None:
    ghost_policy = refused(lambda: harness.set_policy(WithdrawalPolicy("clients/ghost", {}, ("admin",), 1)))
    ghost_whitelist = refused(lambda: harness.whitelist("ghost", "BTC", ADDRESS))
    missing = refused(lambda: harness.withdrawal(WithdrawalName("acme", 7)))
    missing_approval = refused(lambda: harness.approve(WithdrawalName("acme", 7), "admin"))

    assert (ghost_policy.code, ghost_policy.reason) == (ErrorCode.NOT_FOUND, "PARTY_NOT_FOUND")
    assert ghost_whitelist.reason == "PARTY_NOT_FOUND"
    assert (missing.code, missing.reason) == (ErrorCode.NOT_FOUND, "WITHDRAWAL_NOT_FOUND")
    assert missing_approval.reason == "WITHDRAWAL_NOT_FOUND"


def test_listing_shows_newest_withdrawals_first_and_addresses_in_order(harness: Harness) -> None:
    harness.whitelist("acme", "BTC", ADDRESS)
    harness.whitelist("acme", "USDT", ADDRESS)
    harness.advance(COOLING_OFF_MS)
    for _ in range(3):
        harness.withdraw("acme", "BTC", ONE_BTC, ADDRESS)

    withdrawals = harness.run_work(lambda uow: harness.withdrawals.list_withdrawals(uow, "acme"))
    entries = harness.run_work(lambda uow: harness.withdrawals.list_whitelist_addresses(uow, "acme"))

    assert [withdrawal.name.number for withdrawal in withdrawals] == [3, 2, 1]
    assert [(entry.name.number, entry.asset) for entry in entries] == [(1, "BTC"), (2, "USDT")]


def test_after_a_restart_every_broadcast_withdrawal_is_confirmed_again(harness: Harness) -> None:
    harness.whitelist("acme", "BTC", ADDRESS)
    harness.advance(COOLING_OFF_MS)
    withdrawal = harness.withdraw("acme", "BTC", ONE_BTC, ADDRESS)
    # A new process: same store, a clock started afresh, no timers.
    restarted = Harness(harness.store, SimulatedClock(START_MS + COOLING_OFF_MS))

    assert restarted.withdrawals.reschedule_confirmations() == 1
    assert restarted.clock.next_timer_ms() == withdrawal.confirm_time_ms
    restarted.advance(CONFIRMATION_MS)

    assert restarted.withdrawal(withdrawal.name).state is WithdrawalState.CONFIRMED
    assert restarted.withdrawals.reschedule_confirmations() == 0
