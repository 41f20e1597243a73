"""Withdrawal use cases: whitelisting, approval policies, withdrawals and their chain confirmation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol, TypeVar

import structlog

from custodian_sim.domain import withdrawals as rules
from custodian_sim.domain.ledger import Posting, Transfer, balance_keys, post
from custodian_sim.domain.names import client_name
from custodian_sim.domain.parties import PartyKind, require_party
from custodian_sim.domain.withdrawals import (
    WhitelistAddress,
    WhitelistAddressName,
    Withdrawal,
    WithdrawalName,
    WithdrawalPolicy,
    WithdrawalState,
)
from custodian_sim.service_layer.audit import record_change
from custodian_sim.service_layer.unit_of_work import UnitOfWork
from service_kit.call_context import SYSTEM_CALL, CallContext, enter_call, exit_call
from service_kit.clock import Clock
from service_kit.money import AssetScales

log = structlog.get_logger(__name__)

# The timer that confirms a broadcast withdrawal; also the `method` of its audit record.
CONFIRM_TIMER = "ConfirmWithdrawal"
# At start, broadcast withdrawals are read back in pages of this size, and at most this many
# pages: far more withdrawals in flight than a sandbox ever holds.
RESCHEDULE_PAGE_SIZE = 500
RESCHEDULE_PAGES_MAX = 10_000

ResultT = TypeVar("ResultT")


class UnitOfWorkRunner(Protocol):
    """Opens units of work that no request caused: the chain's confirmation timers and start-up."""

    def write(self, work: Callable[[UnitOfWork], ResultT]) -> ResultT:
        """Runs `work` in its own write transaction."""
        ...

    def read(self, work: Callable[[UnitOfWork], ResultT]) -> ResultT:
        """Runs `work` on one consistent snapshot."""
        ...


@dataclass(frozen=True)
class WithdrawalSettings:
    """How long a new address cools off, and how long the simulated chain takes to confirm."""

    cooling_off_ms: int
    confirmation_ms: int

    def __post_init__(self) -> None:
        assert self.cooling_off_ms >= 0, self.cooling_off_ms
        assert self.confirmation_ms >= 0, self.confirmation_ms


@dataclass(frozen=True)
class CreateWhitelistAddress:
    """Whitelist an address of one asset for a client."""

    client_id: str
    asset: str
    address: str
    label: str


@dataclass(frozen=True)
class CreateWithdrawal:
    """Withdraw an amount of the client's available balance to a whitelisted address."""

    client_id: str
    asset: str
    amount_units: int
    address: str

    def __post_init__(self) -> None:
        assert self.amount_units > 0


class WithdrawalService:
    """Withdrawals from `available` only, to usable whitelisted addresses, under the client's policy."""

    def __init__(
        self, clock: Clock, assets: AssetScales, settings: WithdrawalSettings, runner: UnitOfWorkRunner
    ) -> None:
        self._clock = clock
        self._assets = assets
        self._settings = settings
        self._runner = runner

    # Whitelist.

    def create_whitelist_address(self, uow: UnitOfWork, command: CreateWhitelistAddress) -> WhitelistAddress:
        """Adds an address to the client's whitelist; it is usable once its cooling-off has passed."""
        client = self._require_client(uow, command.client_id)
        rules.check_not_whitelisted(
            uow.whitelist_addresses.find(client, command.asset, command.address),
            command.asset,
            command.address,
        )
        count = uow.whitelist_addresses.count(client)
        rules.check_whitelist_room(client, count)
        now_ms = self._clock.now_ms()
        entry = rules.new_whitelist_address(
            WhitelistAddressName(command.client_id, count + 1),
            command.asset,
            command.address,
            command.label,
            now_ms,
            self._settings.cooling_off_ms,
        )
        uow.whitelist_addresses.add(entry)
        record_change(uow, now_ms, entry.name.name, "", entry.state(now_ms).value, client)
        return entry

    def list_whitelist_addresses(self, uow: UnitOfWork, client_id: str) -> list[WhitelistAddress]:
        """Every address on the client's whitelist, in the order they were added."""
        return uow.whitelist_addresses.list_for_client(self._require_client(uow, client_id))

    # Policy.

    def set_withdrawal_policy(self, uow: UnitOfWork, policy: WithdrawalPolicy) -> WithdrawalPolicy:
        """Replaces the client's policy; withdrawals requested before keep the policy they started under."""
        require_party(uow.parties.get(policy.client), policy.client, PartyKind.CLIENT)
        previous = uow.withdrawal_policies.get(policy.client)
        if previous == policy:
            return previous
        uow.withdrawal_policies.put(policy)
        record_change(
            uow,
            self._clock.now_ms(),
            rules.policy_resource(policy.client),
            "" if previous is None else previous.describe(self._assets),
            policy.describe(self._assets),
            policy.client,
        )
        return policy

    # Withdrawals.

    def create_withdrawal(self, uow: UnitOfWork, command: CreateWithdrawal) -> Withdrawal:
        """Reserves the amount (`available -> withdrawing`) and broadcasts it unless approvals are due."""
        client = self._require_client(uow, command.client_id)
        now_ms = self._clock.now_ms()
        entry = rules.require_usable_address(
            uow.whitelist_addresses.find(client, command.asset, command.address),
            client,
            command.asset,
            command.address,
            now_ms,
        )
        withdrawal = rules.new_withdrawal(
            WithdrawalName(command.client_id, uow.withdrawals.next_number(client)),
            entry,
            command.amount_units,
            uow.withdrawal_policies.get(client),
            now_ms,
            self._settings.confirmation_ms,
        )
        # Refused with INSUFFICIENT_BALANCE when `available` is short; an allocation is in
        # another account and is never touched.
        self._post(uow, [rules.reserve_transfer(withdrawal)], client)
        uow.withdrawals.add(withdrawal)
        record_change(uow, now_ms, withdrawal.name.name, "", withdrawal.describe_state(), client)
        return withdrawal

    def approve_withdrawal(self, uow: UnitOfWork, name: WithdrawalName, approver: str) -> Withdrawal:
        """Adds the approver's approval; the quorum broadcasts the withdrawal."""
        withdrawal = rules.require_withdrawal(uow.withdrawals.get(name), name)
        approved = withdrawal.approved_by(approver, self._clock.now_ms(), self._settings.confirmation_ms)
        if approved == withdrawal:
            return withdrawal
        uow.withdrawals.update(approved)
        record_change(
            uow,
            self._clock.now_ms(),
            name.name,
            withdrawal.describe_state(),
            approved.describe_state(),
            withdrawal.client,
        )
        return approved

    def cancel_withdrawal(self, uow: UnitOfWork, name: WithdrawalName) -> Withdrawal:
        """Cancels a withdrawal not yet broadcast; the amount returns `withdrawing -> available`."""
        withdrawal = rules.require_withdrawal(uow.withdrawals.get(name), name)
        cancelled = withdrawal.cancelled()
        if cancelled == withdrawal:
            return withdrawal
        now_ms = self._clock.now_ms()
        self._post(uow, [rules.cancel_transfer(withdrawal, now_ms)], withdrawal.client)
        uow.withdrawals.update(cancelled)
        record_change(
            uow, now_ms, name.name, withdrawal.describe_state(), cancelled.describe_state(), withdrawal.client
        )
        return cancelled

    def get_withdrawal(self, uow: UnitOfWork, name: WithdrawalName) -> Withdrawal:
        """Returns one withdrawal."""
        return rules.require_withdrawal(uow.withdrawals.get(name), name)

    def list_withdrawals(self, uow: UnitOfWork, client_id: str) -> list[Withdrawal]:
        """The client's newest withdrawals, newest first."""
        client = self._require_client(uow, client_id)
        return uow.withdrawals.list_for_client(client, rules.WITHDRAWALS_LISTED_MAX)

    # The simulated chain.

    def confirm_withdrawal(self, uow: UnitOfWork, name: WithdrawalName) -> Withdrawal | None:
        """Moves a due broadcast withdrawal out of custody (`withdrawing -> world/chain`).

        Does nothing unless the withdrawal is still BROADCAST and due, so a timer that fires
        twice (rescheduled at start, or after a retried request) confirms it once.
        """
        withdrawal = uow.withdrawals.get(name)
        now_ms = self._clock.now_ms()
        if withdrawal is None or withdrawal.state is not WithdrawalState.BROADCAST:
            return None
        assert withdrawal.confirm_time_ms is not None
        if now_ms < withdrawal.confirm_time_ms:
            return None
        confirmed = withdrawal.confirmed()
        self._post(uow, [rules.confirm_transfer(withdrawal, now_ms)], withdrawal.client)
        uow.withdrawals.update(confirmed)
        record_change(
            uow, now_ms, name.name, withdrawal.describe_state(), confirmed.describe_state(), withdrawal.client
        )
        return confirmed

    def schedule_confirmation(self, withdrawal: Withdrawal) -> None:
        """Has the simulated chain confirm a committed broadcast withdrawal at its confirm time.

        Called after the broadcast committed, never inside its transaction: the timer must not
        find the withdrawal uncommitted, nor wait for the write lock while holding the clock.
        """
        assert withdrawal.state is WithdrawalState.BROADCAST, withdrawal.state
        assert withdrawal.confirm_time_ms is not None
        name = withdrawal.name
        self._clock.schedule(
            withdrawal.confirm_time_ms, f"{CONFIRM_TIMER} {name.name}", lambda: self._run_confirmation(name)
        )

    def reschedule_confirmations(self) -> int:
        """At start, schedules the confirmation of every broadcast withdrawal; returns how many."""
        scheduled_count = 0
        after: WithdrawalName | None = None
        for _ in range(RESCHEDULE_PAGES_MAX):
            page = self._runner.read(partial(_broadcast_page, after=after))
            for withdrawal in page:
                self.schedule_confirmation(withdrawal)
            scheduled_count += len(page)
            if len(page) < RESCHEDULE_PAGE_SIZE:
                return scheduled_count
            after = page[-1].name
        raise AssertionError(f"more than {scheduled_count} broadcast withdrawals at start")

    def _run_confirmation(self, name: WithdrawalName) -> None:
        # The timer runs inside whatever thread advanced the clock (an AdvanceClock call, or
        # the real clock's thread); the chain, not that caller, confirms the withdrawal.
        token = enter_call(CallContext(SYSTEM_CALL.principal, CONFIRM_TIMER, ""))
        try:
            confirmed = self._runner.write(lambda uow: self.confirm_withdrawal(uow, name))
        finally:
            exit_call(token)
        log.info("withdrawal_confirmation", withdrawal=name.name, confirmed=confirmed is not None)

    def _require_client(self, uow: UnitOfWork, client_id: str) -> str:
        client = client_name(client_id)
        require_party(uow.parties.get(client), client, PartyKind.CLIENT)
        return client

    def _post(self, uow: UnitOfWork, transfers: Sequence[Transfer], owner: str) -> Posting:
        """Posts linked transfers and audits each new one, as the other ledger movements are.

        Skips transfers posted before, refuses conflicts and overdrafts.
        """
        recorded = uow.ledger.transfers_by_id([transfer.id for transfer in transfers])
        balances = uow.ledger.balances(balance_keys(transfers))
        posting = post(transfers, recorded, balances, self._assets)
        if not posting.is_empty:
            uow.ledger.append(posting.transfers, posting.balances)
        for transfer in posting.transfers:
            amount = self._assets.format(transfer.asset, transfer.amount_units)
            description = (
                f"{transfer.kind.value} {amount} {transfer.asset} "
                f"{transfer.from_account} -> {transfer.to_account}"
            )
            record_change(uow, transfer.create_time_ms, transfer.id, "", description, owner)
        return posting


def _broadcast_page(uow: UnitOfWork, after: WithdrawalName | None) -> list[Withdrawal]:
    return uow.withdrawals.list_in_state(WithdrawalState.BROADCAST, after, RESCHEDULE_PAGE_SIZE)
