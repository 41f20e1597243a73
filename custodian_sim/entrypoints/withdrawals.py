"""The withdrawal RPCs of the custodian: validate the request, check the caller, run the use case."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import grpc
from google.protobuf.message import Message

from custodian_sim.domain.names import client_name, parse_client_name
from custodian_sim.domain.withdrawals import (
    WhitelistAddress,
    WhitelistAddressState,
    Withdrawal,
    WithdrawalName,
    WithdrawalPolicy,
    WithdrawalState,
    check_address,
    check_label,
    parse_policy,
)
from custodian_sim.entrypoints.messages import parse_amount
from custodian_sim.entrypoints.request_runner import RequestRunner
from custodian_sim.service_layer.unit_of_work import UnitOfWork
from custodian_sim.service_layer.withdrawals import (
    CreateWhitelistAddress,
    CreateWithdrawal,
    WithdrawalService,
)
from oes.custodian.v1 import custodian_pb2
from service_kit.auth import current_principal, require_owner
from service_kit.clock import Clock
from service_kit.errors import invalid_argument
from service_kit.idempotency import HasRequestId, validate_request_id
from service_kit.money import AssetScales
from service_kit.timestamps import to_timestamp

WithdrawalResponseT = TypeVar("WithdrawalResponseT", bound=Message)

_WHITELIST_STATES = {
    WhitelistAddressState.COOLING_OFF: custodian_pb2.WHITELIST_ADDRESS_STATE_COOLING_OFF,
    WhitelistAddressState.ACTIVE: custodian_pb2.WHITELIST_ADDRESS_STATE_ACTIVE,
}
_WITHDRAWAL_STATES = {
    WithdrawalState.PENDING_APPROVAL: custodian_pb2.WITHDRAWAL_STATE_PENDING_APPROVAL,
    WithdrawalState.BROADCAST: custodian_pb2.WITHDRAWAL_STATE_BROADCAST,
    WithdrawalState.CONFIRMED: custodian_pb2.WITHDRAWAL_STATE_CONFIRMED,
    WithdrawalState.CANCELLED: custodian_pb2.WITHDRAWAL_STATE_CANCELLED,
}


def whitelist_address_message(entry: WhitelistAddress, now_ms: int) -> custodian_pb2.WhitelistAddress:
    """The wire form of a whitelisted address, with its state at `now_ms`."""
    return custodian_pb2.WhitelistAddress(
        name=entry.name.name,
        asset=entry.asset,
        address=entry.address,
        label=entry.label,
        state=_WHITELIST_STATES[entry.state(now_ms)],
        create_time=to_timestamp(entry.create_time_ms),
        usable_time=to_timestamp(entry.usable_time_ms),
    )


def withdrawal_message(withdrawal: Withdrawal, assets: AssetScales) -> custodian_pb2.Withdrawal:
    """The wire form of a withdrawal."""
    message = custodian_pb2.Withdrawal(
        name=withdrawal.name.name,
        asset=withdrawal.asset,
        amount=assets.format(withdrawal.asset, withdrawal.amount_units),
        address=withdrawal.address,
        state=_WITHDRAWAL_STATES[withdrawal.state],
        approvers=list(withdrawal.approvers),
        approvals_required=withdrawal.approvals_required,
        create_time=to_timestamp(withdrawal.create_time_ms),
    )
    if withdrawal.broadcast_time_ms is not None:
        message.broadcast_time.CopyFrom(to_timestamp(withdrawal.broadcast_time_ms))
    if withdrawal.confirm_time_ms is not None:
        message.confirm_time.CopyFrom(to_timestamp(withdrawal.confirm_time_ms))
    return message


def policy_message(policy: WithdrawalPolicy, assets: AssetScales) -> custodian_pb2.WithdrawalPolicy:
    """The wire form of an approval policy."""
    return custodian_pb2.WithdrawalPolicy(
        client=policy.client,
        thresholds={asset: assets.format(asset, units) for asset, units in policy.thresholds.items()},
        approvers=list(policy.approvers),
        quorum=policy.quorum,
    )


def parse_policy_message(
    has_policy: bool, message: custodian_pb2.WithdrawalPolicy, assets: AssetScales
) -> WithdrawalPolicy:
    """Validates the policy of a SetWithdrawalPolicyRequest."""
    if not has_policy:
        raise invalid_argument("POLICY_MISSING", "policy", "the policy to set is required")
    client = client_name(parse_client_name(message.client, "policy.client"))
    return parse_policy(client, dict(message.thresholds), tuple(message.approvers), message.quorum, assets)


class WithdrawalHandlers:
    """One method per withdrawal RPC; the custody servicers delegate to it.

    Clients act only on their own `clients/{client}` (admin on any); ApproveWithdrawal is
    open to any principal and the use case checks that the caller is a named approver.
    """

    def __init__(
        self, service: WithdrawalService, runner: RequestRunner, assets: AssetScales, clock: Clock
    ) -> None:
        self._service = service
        self._runner = runner
        self._assets = assets
        self._clock = clock

    def CreateWhitelistAddress(
        self, request: custodian_pb2.CreateWhitelistAddressRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.CreateWhitelistAddressResponse:
        validate_request_id(request.request_id)
        client_id = parse_client_name(request.client, "client")
        self._assets.scale(request.asset, "asset")
        command = CreateWhitelistAddress(
            client_id=client_id,
            asset=request.asset,
            address=check_address(request.address, "address"),
            label=check_label(request.label, "label"),
        )
        require_owner(current_principal(), client_name(command.client_id))

        def create(uow: UnitOfWork) -> custodian_pb2.CreateWhitelistAddressResponse:
            entry = self._service.create_whitelist_address(uow, command)
            return custodian_pb2.CreateWhitelistAddressResponse(
                whitelist_address=whitelist_address_message(entry, self._clock.now_ms())
            )

        return self._runner.run_request(
            "CreateWhitelistAddress", request, custodian_pb2.CreateWhitelistAddressResponse, create
        )

    def ListWhitelistAddresses(
        self, request: custodian_pb2.ListWhitelistAddressesRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ListWhitelistAddressesResponse:
        client_id = parse_client_name(request.client, "client")
        require_owner(current_principal(), client_name(client_id))
        entries = self._runner.read(lambda uow: self._service.list_whitelist_addresses(uow, client_id))
        now_ms = self._clock.now_ms()
        return custodian_pb2.ListWhitelistAddressesResponse(
            whitelist_addresses=[whitelist_address_message(entry, now_ms) for entry in entries]
        )

    def CreateWithdrawal(
        self, request: custodian_pb2.CreateWithdrawalRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.CreateWithdrawalResponse:
        validate_request_id(request.request_id)
        command = CreateWithdrawal(
            client_id=parse_client_name(request.client, "client"),
            asset=request.asset,
            amount_units=parse_amount(self._assets, request.asset, request.amount),
            address=check_address(request.address, "address"),
        )
        require_owner(current_principal(), client_name(command.client_id))
        return self._run_withdrawal_request(
            "CreateWithdrawal",
            request,
            custodian_pb2.CreateWithdrawalResponse,
            lambda uow: self._service.create_withdrawal(uow, command),
        )

    def ApproveWithdrawal(
        self, request: custodian_pb2.ApproveWithdrawalRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ApproveWithdrawalResponse:
        validate_request_id(request.request_id)
        name = WithdrawalName.parse(request.name, "name")
        approver = current_principal().name
        return self._run_withdrawal_request(
            "ApproveWithdrawal",
            request,
            custodian_pb2.ApproveWithdrawalResponse,
            lambda uow: self._service.approve_withdrawal(uow, name, approver),
        )

    def CancelWithdrawal(
        self, request: custodian_pb2.CancelWithdrawalRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.CancelWithdrawalResponse:
        validate_request_id(request.request_id)
        name = WithdrawalName.parse(request.name, "name")
        require_owner(current_principal(), name.client)
        return self._run_withdrawal_request(
            "CancelWithdrawal",
            request,
            custodian_pb2.CancelWithdrawalResponse,
            lambda uow: self._service.cancel_withdrawal(uow, name),
        )

    def GetWithdrawal(
        self, request: custodian_pb2.GetWithdrawalRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.GetWithdrawalResponse:
        name = WithdrawalName.parse(request.name, "name")
        require_owner(current_principal(), name.client)
        withdrawal = self._runner.read(lambda uow: self._service.get_withdrawal(uow, name))
        return custodian_pb2.GetWithdrawalResponse(withdrawal=withdrawal_message(withdrawal, self._assets))

    def ListWithdrawals(
        self, request: custodian_pb2.ListWithdrawalsRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ListWithdrawalsResponse:
        client_id = parse_client_name(request.client, "client")
        require_owner(current_principal(), client_name(client_id))
        withdrawals = self._runner.read(lambda uow: self._service.list_withdrawals(uow, client_id))
        return custodian_pb2.ListWithdrawalsResponse(
            withdrawals=[withdrawal_message(withdrawal, self._assets) for withdrawal in withdrawals]
        )

    def SetWithdrawalPolicy(
        self, request: custodian_pb2.SetWithdrawalPolicyRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.SetWithdrawalPolicyResponse:
        validate_request_id(request.request_id)
        policy = parse_policy_message(request.HasField("policy"), request.policy, self._assets)
        return self._runner.run_request(
            "SetWithdrawalPolicy",
            request,
            custodian_pb2.SetWithdrawalPolicyResponse,
            lambda uow: custodian_pb2.SetWithdrawalPolicyResponse(
                policy=policy_message(self._service.set_withdrawal_policy(uow, policy), self._assets)
            ),
        )

    def _run_withdrawal_request(
        self,
        method: str,
        request: HasRequestId,
        response_type: type[WithdrawalResponseT],
        work: Callable[[UnitOfWork], Withdrawal],
    ) -> WithdrawalResponseT:
        """Runs a withdrawal mutation once per request_id, then starts the chain's confirmation.

        The confirmation timer is scheduled only after the broadcast committed. A retry
        answered from the request log schedules nothing: the first call did, and a restart
        reschedules every broadcast withdrawal.
        """
        outcomes: list[Withdrawal] = []

        def run(uow: UnitOfWork) -> WithdrawalResponseT:
            withdrawal = work(uow)
            outcomes.append(withdrawal)
            return response_type(withdrawal=withdrawal_message(withdrawal, self._assets))

        response = self._runner.run_request(method, request, response_type, run)
        for withdrawal in outcomes:
            if withdrawal.state is WithdrawalState.BROADCAST:
                self._service.schedule_confirmation(withdrawal)
        return response
