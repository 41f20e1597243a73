"""Withdrawals over a real custodian server on a free port, with real SQLite and a simulated clock."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2

from custodian_sim.bootstrap import build, database_path
from oes.control.v1 import control_pb2, control_pb2_grpc
from oes.custodian.v1 import custodian_pb2, custodian_pb2_grpc
from service_kit.auth import ADMIN, BRIDGE, Principal, PrincipalKind
from service_kit.clock import SimulatedClock
from service_kit.config import RunningService, start_service
from service_kit.rpc_errors import RemoteError, remote_error
from service_kit.timestamps import from_timestamp
from tests.integration.support import START_MS, bearer, service_config

ACME = Principal(PrincipalKind.CLIENT, "acme")
BETA = Principal(PrincipalKind.CLIENT, "beta")
TREASURER = Principal(PrincipalKind.CLIENT, "acme-treasurer")
OKX = Principal(PrincipalKind.EXCHANGE, "okx-sim")
ADDRESS = "bc1qacmecoldwallet"
MINUTE_MS = 60_000
# The defaults a plain ServiceConfig gets.
COOLING_OFF_MS = 60 * MINUTE_MS
CONFIRMATION_MS = 10 * MINUTE_MS


class Custodian:
    """Stubs of one running custodian, and direct read access to its SQLite file."""

    def __init__(self, running: RunningService, data_dir: Path, label: str) -> None:
        self.running = running
        # Distinguishes this process's AdvanceClock request ids from an earlier one's.
        self.label = label
        self.data_dir = data_dir
        self.channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
        self.custody = custodian_pb2_grpc.CustodyServiceStub(self.channel)
        self.settlement = custodian_pb2_grpc.CustodySettlementServiceStub(self.channel)
        self.admin = custodian_pb2_grpc.CustodyAdminServiceStub(self.channel)
        self.control = control_pb2_grpc.ControlServiceStub(self.channel)
        self.advance_count = 0

    def stop(self) -> None:
        self.channel.close()
        self.running.stop()

    def advance(self, duration_ms: int) -> control_pb2.AdvanceClockResponse:
        self.advance_count += 1
        return self.control.AdvanceClock(
            control_pb2.AdvanceClockRequest(
                request_id=f"{self.label}-advance-{self.advance_count}",
                duration=duration_pb2.Duration(seconds=duration_ms // 1000),
            ),
            metadata=bearer(ADMIN),
        )

    def balance(self, owner: str, account: str, asset: str) -> str:
        response = self.custody.ListBalances(
            custodian_pb2.ListBalancesRequest(owner=owner), metadata=bearer(ADMIN)
        )
        amounts = {(balance.account, balance.asset): balance.amount for balance in response.balances}
        return amounts.get((account, asset), "0")

    def whitelist(
        self, request_id: str, address: str = ADDRESS, asset: str = "BTC"
    ) -> custodian_pb2.WhitelistAddress:
        return self.custody.CreateWhitelistAddress(
            custodian_pb2.CreateWhitelistAddressRequest(
                request_id=request_id, client="clients/acme", asset=asset, address=address, label="cold"
            ),
            metadata=bearer(ACME),
        ).whitelist_address

    def withdraw(
        self, request_id: str, amount: str, principal: Principal = ACME, client: str = "clients/acme"
    ) -> custodian_pb2.Withdrawal:
        return self.custody.CreateWithdrawal(
            custodian_pb2.CreateWithdrawalRequest(
                request_id=request_id, client=client, asset="BTC", amount=amount, address=ADDRESS
            ),
            metadata=bearer(principal),
        ).withdrawal

    def approve(self, request_id: str, name: str, principal: Principal) -> custodian_pb2.Withdrawal:
        return self.custody.ApproveWithdrawal(
            custodian_pb2.ApproveWithdrawalRequest(request_id=request_id, name=name),
            metadata=bearer(principal),
        ).withdrawal

    def cancel(self, request_id: str, name: str, principal: Principal = ACME) -> custodian_pb2.Withdrawal:
        return self.custody.CancelWithdrawal(
            custodian_pb2.CancelWithdrawalRequest(request_id=request_id, name=name),
            metadata=bearer(principal),
        ).withdrawal

    def get(self, name: str, principal: Principal = ACME) -> custodian_pb2.Withdrawal:
        return self.custody.GetWithdrawal(
            custodian_pb2.GetWithdrawalRequest(name=name), metadata=bearer(principal)
        ).withdrawal

    def set_policy(
        self, request_id: str, policy: custodian_pb2.WithdrawalPolicy
    ) -> custodian_pb2.WithdrawalPolicy:
        return self.admin.SetWithdrawalPolicy(
            custodian_pb2.SetWithdrawalPolicyRequest(request_id=request_id, policy=policy),
            metadata=bearer(ADMIN),
        ).policy

    def row_counts(self) -> dict[str, int]:
        connection = sqlite3.connect(database_path(service_config(self.data_dir)))
        try:
            tables = [
                name
                for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if not name.startswith("sqlite_")
            ]
            return {
                name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in tables
            }
        finally:
            connection.close()


def start(data_dir: Path, label: str = "first") -> Custodian:
    running = start_service(service_config(data_dir), build, SimulatedClock(START_MS))
    return Custodian(running, data_dir, label)


@pytest.fixture()
def custodian(tmp_path: Path) -> Iterator[Custodian]:
    running = start(tmp_path)
    create_world(running)
    yield running
    running.stop()


def refused(call: Callable[[], Any]) -> RemoteError:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return remote_error(raised.value)


def create_world(custodian: Custodian) -> None:
    """Client acme holds 10 BTC in custody, beta 1 BTC; okx-sim is an exchange."""
    for name, kind in (
        ("clients/acme", custodian_pb2.PARTY_KIND_CLIENT),
        ("clients/beta", custodian_pb2.PARTY_KIND_CLIENT),
        ("exchanges/okx-sim", custodian_pb2.PARTY_KIND_EXCHANGE),
    ):
        custodian.admin.CreateParty(
            custodian_pb2.CreatePartyRequest(
                request_id=f"party-{name}", party=custodian_pb2.Party(name=name, kind=kind, display_name=name)
            ),
            metadata=bearer(ADMIN),
        )
    for owner, amount in (("clients/acme", "10"), ("clients/beta", "1")):
        custodian.admin.SimulateDeposit(
            custodian_pb2.SimulateDepositRequest(
                request_id=f"deposit-{owner}", owner=owner, asset="BTC", amount=amount
            ),
            metadata=bearer(ADMIN),
        )


def usable_address(custodian: Custodian) -> None:
    custodian.whitelist("whitelist-1")
    custodian.advance(COOLING_OFF_MS)


TWO_APPROVERS = custodian_pb2.WithdrawalPolicy(
    client="clients/acme", thresholds={"BTC": "1"}, approvers=[TREASURER.name, ADMIN.name], quorum=2
)


def test_a_withdrawal_under_the_threshold_leaves_custody_once_the_chain_confirms(
    custodian: Custodian,
) -> None:
    entry = custodian.whitelist("whitelist-1")
    cooling = refused(lambda: custodian.withdraw("too-early", "1"))
    listed = custodian.custody.ListWhitelistAddresses(
        custodian_pb2.ListWhitelistAddressesRequest(client="clients/acme"), metadata=bearer(ACME)
    ).whitelist_addresses
    custodian.advance(COOLING_OFF_MS)
    listed_later = custodian.custody.ListWhitelistAddresses(
        custodian_pb2.ListWhitelistAddressesRequest(client="clients/acme"), metadata=bearer(ADMIN)
    ).whitelist_addresses
    chain_before = custodian.balance("world", "world/chain", "BTC")

    withdrawal = custodian.withdraw("withdraw-1", "0.5")

    assert entry.name == "clients/acme/whitelistAddresses/1"
    assert entry.state == custodian_pb2.WHITELIST_ADDRESS_STATE_COOLING_OFF
    assert from_timestamp(entry.usable_time) == START_MS + COOLING_OFF_MS
    assert (cooling.code, cooling.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ADDRESS_COOLING_OFF")
    assert [item.state for item in listed] == [custodian_pb2.WHITELIST_ADDRESS_STATE_COOLING_OFF]
    assert [item.state for item in listed_later] == [custodian_pb2.WHITELIST_ADDRESS_STATE_ACTIVE]
    assert withdrawal.name == "clients/acme/withdrawals/1"
    assert withdrawal.state == custodian_pb2.WITHDRAWAL_STATE_BROADCAST
    assert (withdrawal.amount, withdrawal.address, withdrawal.approvals_required) == (
        "0.50000000",
        ADDRESS,
        0,
    )
    assert from_timestamp(withdrawal.confirm_time) == START_MS + COOLING_OFF_MS + CONFIRMATION_MS
    assert custodian.balance("clients/acme", "clients/acme/available", "BTC") == "9.50000000"
    assert custodian.balance("clients/acme", "clients/acme/withdrawing", "BTC") == "0.50000000"

    assert custodian.advance(CONFIRMATION_MS).timers_run_count == 1

    confirmed = custodian.get(withdrawal.name)
    assert confirmed.state == custodian_pb2.WITHDRAWAL_STATE_CONFIRMED
    assert custodian.balance("clients/acme", "clients/acme/withdrawing", "BTC") == "0.00000000"
    assert chain_before == "-11.00000000"
    assert custodian.balance("world", "world/chain", "BTC") == "-10.50000000"
    records = custodian.custody.ListAuditRecords(
        custodian_pb2.ListAuditRecordsRequest(), metadata=bearer(ACME)
    ).records
    trail = [(r.principal, r.method, r.before, r.after) for r in records if r.resource == withdrawal.name]
    assert trail == [
        ("clients/acme", "CreateWithdrawal", "", "BROADCAST"),
        ("system", "ConfirmWithdrawal", "BROADCAST", "CONFIRMED"),
    ]


def test_above_the_threshold_a_quorum_of_two_named_approvers_broadcasts(custodian: Custodian) -> None:
    usable_address(custodian)
    policy = custodian.set_policy("policy-1", TWO_APPROVERS)

    pending = custodian.withdraw("withdraw-big", "2")
    stranger = refused(lambda: custodian.approve("approve-beta", pending.name, BETA))
    exchange = refused(lambda: custodian.approve("approve-okx", pending.name, OKX))
    first = custodian.approve("approve-1", pending.name, TREASURER)
    retried = custodian.approve("approve-1", pending.name, TREASURER)
    same_approver = custodian.approve("approve-1-again", pending.name, TREASURER)
    broadcast = custodian.approve("approve-2", pending.name, ADMIN)
    late = refused(lambda: custodian.approve("approve-3", pending.name, TREASURER))
    too_late_to_cancel = refused(lambda: custodian.cancel("cancel-broadcast", pending.name))

    assert policy == custodian_pb2.WithdrawalPolicy(
        client="clients/acme",
        thresholds={"BTC": "1.00000000"},
        approvers=list(TWO_APPROVERS.approvers),
        quorum=2,
    )
    assert (pending.state, pending.approvals_required) == (custodian_pb2.WITHDRAWAL_STATE_PENDING_APPROVAL, 2)
    assert not pending.HasField("confirm_time")
    assert custodian.balance("clients/acme", "clients/acme/withdrawing", "BTC") == "2.00000000"
    for error in (stranger, exchange):
        assert (error.code, error.reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_AN_APPROVER")
    assert list(first.approvers) == [TREASURER.name]
    assert retried == first
    assert same_approver == first
    assert broadcast.state == custodian_pb2.WITHDRAWAL_STATE_BROADCAST
    assert list(broadcast.approvers) == [TREASURER.name, ADMIN.name]
    assert (late.code, late.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "WITHDRAWAL_NOT_PENDING")
    assert (too_late_to_cancel.code, too_late_to_cancel.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "WITHDRAWAL_ALREADY_BROADCAST",
    )
    custodian.advance(CONFIRMATION_MS)
    assert custodian.get(pending.name).state == custodian_pb2.WITHDRAWAL_STATE_CONFIRMED
    assert custodian.balance("world", "world/chain", "BTC") == "-9.00000000"


def test_cancelling_before_broadcast_returns_the_amount(custodian: Custodian) -> None:
    usable_address(custodian)
    custodian.set_policy("policy-1", TWO_APPROVERS)
    pending = custodian.withdraw("withdraw-big", "4")
    assert custodian.balance("clients/acme", "clients/acme/available", "BTC") == "6.00000000"

    other_client = refused(lambda: custodian.cancel("cancel-beta", pending.name, BETA))
    cancelled = custodian.cancel("cancel-1", pending.name)

    assert (other_client.code, other_client.reason) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "NOT_RESOURCE_OWNER",
    )
    assert cancelled.state == custodian_pb2.WITHDRAWAL_STATE_CANCELLED
    assert custodian.balance("clients/acme", "clients/acme/available", "BTC") == "10.00000000"
    assert custodian.balance("clients/acme", "clients/acme/withdrawing", "BTC") == "0.00000000"
    listed = custodian.custody.ListWithdrawals(
        custodian_pb2.ListWithdrawalsRequest(client="clients/acme"), metadata=bearer(ACME)
    ).withdrawals
    assert [(item.name, item.state) for item in listed] == [
        (pending.name, custodian_pb2.WITHDRAWAL_STATE_CANCELLED)
    ]


def test_a_withdrawal_larger_than_available_is_refused_while_the_rest_is_allocated(
    custodian: Custodian,
) -> None:
    usable_address(custodian)
    connection = "clients/acme/connections/okx-sim"
    custodian.settlement.CreateConnection(
        custodian_pb2.CreateConnectionRequest(
            request_id="connect", client="clients/acme", exchange="exchanges/okx-sim"
        ),
        metadata=bearer(BRIDGE),
    )
    custodian.settlement.ActivateConnection(
        custodian_pb2.ActivateConnectionRequest(request_id="activate", name=connection),
        metadata=bearer(BRIDGE),
    )
    custodian.settlement.LockAllocation(
        custodian_pb2.LockAllocationRequest(
            request_id="lock", connection=connection, allocation_id="acme-1", asset="BTC", amount="8"
        ),
        metadata=bearer(BRIDGE),
    )
    rows_before = custodian.row_counts()

    error = refused(lambda: custodian.withdraw("withdraw-3", "3"))

    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_BALANCE")
    assert custodian.row_counts() == rows_before
    assert custodian.balance("clients/acme", f"{connection}/allocated", "BTC") == "8.00000000"
    assert custodian.withdraw("withdraw-2", "2").state == custodian_pb2.WITHDRAWAL_STATE_BROADCAST
    assert custodian.balance("clients/acme", "clients/acme/available", "BTC") == "0.00000000"
    assert custodian.balance("clients/acme", f"{connection}/allocated", "BTC") == "8.00000000"


def test_a_restart_reschedules_the_confirmation_of_a_broadcast_withdrawal(tmp_path: Path) -> None:
    first = start(tmp_path)
    create_world(first)
    usable_address(first)
    withdrawal = first.withdraw("withdraw-1", "1")
    first.stop()

    second = start(tmp_path, "second")
    try:
        clock = second.control.GetClock(control_pb2.GetClockRequest(), metadata=bearer(ADMIN))
        assert from_timestamp(clock.next_timer_time) == from_timestamp(withdrawal.confirm_time)
        assert second.get(withdrawal.name).state == custodian_pb2.WITHDRAWAL_STATE_BROADCAST
        # The restarted simulated clock starts again at the sandbox start, before the cooling-off.
        second.advance(COOLING_OFF_MS + CONFIRMATION_MS)
        assert second.get(withdrawal.name).state == custodian_pb2.WITHDRAWAL_STATE_CONFIRMED
        assert second.balance("clients/acme", "clients/acme/withdrawing", "BTC") == "0.00000000"
        assert second.balance("world", "world/chain", "BTC") == "-10.00000000"
    finally:
        second.stop()


def test_only_the_owning_client_and_admin_reach_withdrawals(custodian: Custodian) -> None:
    usable_address(custodian)
    withdrawal = custodian.withdraw("withdraw-1", "1")
    rows_before = custodian.row_counts()
    list_request = custodian_pb2.ListWithdrawalsRequest(client="clients/acme")

    by_admin = custodian.get(withdrawal.name, ADMIN)
    calls: dict[str, Callable[[], Any]] = {
        "beta reads acme's": lambda: custodian.get(withdrawal.name, BETA),
        "beta lists acme's": lambda: custodian.custody.ListWithdrawals(list_request, metadata=bearer(BETA)),
        "beta withdraws acme's": lambda: custodian.withdraw("beta-steals", "1", BETA),
        "exchange withdraws": lambda: custodian.withdraw("okx-takes", "1", OKX),
        "bridge withdraws": lambda: custodian.withdraw("bridge-takes", "1", BRIDGE),
        "exchange lists": lambda: custodian.custody.ListWithdrawals(list_request, metadata=bearer(OKX)),
        "client sets a policy": lambda: custodian.admin.SetWithdrawalPolicy(
            custodian_pb2.SetWithdrawalPolicyRequest(request_id="self-policy", policy=TWO_APPROVERS),
            metadata=bearer(ACME),
        ),
        "no token": lambda: custodian.custody.GetWithdrawal(
            custodian_pb2.GetWithdrawalRequest(name=withdrawal.name)
        ),
    }
    outcomes = {label: refused(call) for label, call in calls.items()}

    assert by_admin == withdrawal
    assert {label: (error.code, error.reason) for label, error in outcomes.items()} == {
        "beta reads acme's": (grpc.StatusCode.PERMISSION_DENIED, "NOT_RESOURCE_OWNER"),
        "beta lists acme's": (grpc.StatusCode.PERMISSION_DENIED, "NOT_RESOURCE_OWNER"),
        "beta withdraws acme's": (grpc.StatusCode.PERMISSION_DENIED, "NOT_RESOURCE_OWNER"),
        "exchange withdraws": (grpc.StatusCode.PERMISSION_DENIED, "PRINCIPAL_NOT_ALLOWED"),
        "bridge withdraws": (grpc.StatusCode.PERMISSION_DENIED, "PRINCIPAL_NOT_ALLOWED"),
        "exchange lists": (grpc.StatusCode.PERMISSION_DENIED, "PRINCIPAL_NOT_ALLOWED"),
        "client sets a policy": (grpc.StatusCode.PERMISSION_DENIED, "PRINCIPAL_NOT_ALLOWED"),
        "no token": (grpc.StatusCode.UNAUTHENTICATED, "MISSING_TOKEN"),
    }
    assert custodian.row_counts() == rows_before
    admin_withdrawal = custodian.withdraw("admin-withdraws", "1", ADMIN)
    assert admin_withdrawal.name == "clients/acme/withdrawals/2"


def bad_requests(custodian: Custodian) -> list[tuple[str, Callable[[], Any]]]:
    def whitelist(**fields: str) -> Callable[[], Any]:
        request = custodian_pb2.CreateWhitelistAddressRequest(
            request_id="bad-whitelist", client="clients/acme", asset="BTC", address=ADDRESS, label="x"
        )
        for name, value in fields.items():
            setattr(request, name, value)
        return lambda: custodian.custody.CreateWhitelistAddress(request, metadata=bearer(ACME))

    def withdraw(**fields: str) -> Callable[[], Any]:
        request = custodian_pb2.CreateWithdrawalRequest(
            request_id="bad-withdrawal", client="clients/acme", asset="BTC", amount="1", address=ADDRESS
        )
        for name, value in fields.items():
            setattr(request, name, value)
        return lambda: custodian.custody.CreateWithdrawal(request, metadata=bearer(ACME))

    def policy(quorum: int, approvers: list[str], thresholds: dict[str, str]) -> Callable[[], Any]:
        message = custodian_pb2.WithdrawalPolicy(
            client="clients/acme", thresholds=thresholds, approvers=approvers, quorum=quorum
        )
        return lambda: custodian.set_policy("bad-policy", message)

    return [
        ("address", whitelist(address="bc1 with spaces")),
        ("address", whitelist(address="")),
        ("label", whitelist(label="x" * 65)),
        ("asset", whitelist(asset="DOGE")),
        ("client", whitelist(client="acme")),
        ("request_id", whitelist(request_id="")),
        ("amount", withdraw(amount="1.123456789")),
        ("amount", withdraw(amount="-1")),
        ("address", withdraw(address="a" * 129)),
        ("name", lambda: custodian.approve("bad-approve", "clients/acme/withdrawals/one", ADMIN)),
        ("name", lambda: custodian.cancel("bad-cancel", "clients/acme/statements/1")),
        ("policy.quorum", policy(3, [ADMIN.name, TREASURER.name], {"BTC": "1"})),
        ("policy.approvers[1]", policy(1, [ADMIN.name, ADMIN.name], {"BTC": "1"})),
        ("policy.approvers[0]", policy(1, ["root"], {"BTC": "1"})),
        ("policy.thresholds[BTC]", policy(1, [ADMIN.name], {"BTC": "0"})),
        ("policy.thresholds[BTC]", policy(1, [ADMIN.name], {"BTC": "0.000000001"})),
        ("policy.thresholds[DOGE]", policy(1, [ADMIN.name], {"DOGE": "1"})),
        (
            "policy",
            lambda: custodian.admin.SetWithdrawalPolicy(
                custodian_pb2.SetWithdrawalPolicyRequest(request_id="no-policy"), metadata=bearer(ADMIN)
            ),
        ),
    ]


def test_bad_input_is_an_invalid_argument_naming_the_field_and_writes_nothing(custodian: Custodian) -> None:
    usable_address(custodian)
    rows_before = custodian.row_counts()

    for field, call in bad_requests(custodian):
        error = refused(call)
        assert (error.code, error.field_violations) == (grpc.StatusCode.INVALID_ARGUMENT, (field,)), field

    assert custodian.row_counts() == rows_before


def test_unknown_clients_and_withdrawals_are_not_found(custodian: Custodian) -> None:
    ghost_policy = refused(
        lambda: custodian.set_policy(
            "ghost-policy",
            custodian_pb2.WithdrawalPolicy(client="clients/ghost", approvers=[ADMIN.name], quorum=1),
        )
    )
    ghost_withdrawal = refused(lambda: custodian.withdraw("ghost", "1", ADMIN, "clients/ghost"))
    missing = refused(lambda: custodian.get("clients/acme/withdrawals/9"))
    missing_approval = refused(
        lambda: custodian.approve("approve-missing", "clients/acme/withdrawals/9", ADMIN)
    )

    for error in (ghost_policy, ghost_withdrawal):
        assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "PARTY_NOT_FOUND")
    for error in (missing, missing_approval):
        assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "WITHDRAWAL_NOT_FOUND")
