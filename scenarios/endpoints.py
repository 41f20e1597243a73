"""Addresses and authenticated stubs of a running sandbox, for the CLI, the demo and tests."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import grpc

from oes.bridge.v1 import bridge_pb2_grpc
from oes.control.v1 import control_pb2_grpc
from oes.custodian.v1 import custodian_pb2_grpc
from oes.exchange.v1 import exchange_pb2_grpc
from service_kit.auth import ADMIN, Principal, PrincipalKind, TokenAuthority
from service_kit.config import authorized_channel

# Every call the scenario tools make gets a deadline: a hung service must fail a step or a check,
# not hang the run.
CALL_TIMEOUT_S = 30.0

CUSTODIAN_PORT_DEFAULT = 50051
EXCHANGE_PORT_DEFAULT = 50052
BRIDGE_PORT_DEFAULT = 50053


@dataclass(frozen=True)
class Endpoints:
    """Where the three services listen."""

    custodian: str = f"127.0.0.1:{CUSTODIAN_PORT_DEFAULT}"
    exchange: str = f"127.0.0.1:{EXCHANGE_PORT_DEFAULT}"
    bridge: str = f"127.0.0.1:{BRIDGE_PORT_DEFAULT}"


def client_principal(identifier: str) -> Principal:
    """The principal of client `identifier`."""
    return Principal(PrincipalKind.CLIENT, identifier)


class SandboxSession:
    """Stubs for every service, acting as one principal."""

    def __init__(self, endpoints: Endpoints, authority: TokenAuthority, principal: Principal) -> None:
        self.endpoints = endpoints
        self.principal = principal
        self.token = authority.issue(principal)
        self._channels: list[grpc.Channel] = []

    def _channel(self, address: str) -> grpc.Channel:
        channel = authorized_channel(address, self.token)
        self._channels.append(channel)
        return channel

    @cached_property
    def custody(self) -> custodian_pb2_grpc.CustodyServiceStub:
        """Custody balances."""
        return custodian_pb2_grpc.CustodyServiceStub(self._custodian_channel)

    @cached_property
    def custody_admin(self) -> custodian_pb2_grpc.CustodyAdminServiceStub:
        """Custodian set-up (admin)."""
        return custodian_pb2_grpc.CustodyAdminServiceStub(self._custodian_channel)

    @cached_property
    def custody_settlement(self) -> custodian_pb2_grpc.CustodySettlementServiceStub:
        """Custodian settlement operations (bridge)."""
        return custodian_pb2_grpc.CustodySettlementServiceStub(self._custodian_channel)

    @cached_property
    def trading(self) -> exchange_pb2_grpc.TradingServiceStub:
        """Exchange trading."""
        return exchange_pb2_grpc.TradingServiceStub(self._exchange_channel)

    @cached_property
    def partner(self) -> exchange_pb2_grpc.PartnerServiceStub:
        """Exchange partner operations (bridge)."""
        return exchange_pb2_grpc.PartnerServiceStub(self._exchange_channel)

    @cached_property
    def exchange_admin(self) -> exchange_pb2_grpc.ExchangeAdminServiceStub:
        """Exchange operation and venue faults (admin)."""
        return exchange_pb2_grpc.ExchangeAdminServiceStub(self._exchange_channel)

    @cached_property
    def network(self) -> bridge_pb2_grpc.SettlementNetworkServiceStub:
        """Bridge network operations for clients."""
        return bridge_pb2_grpc.SettlementNetworkServiceStub(self._bridge_channel)

    @cached_property
    def bridge_admin(self) -> bridge_pb2_grpc.BridgeAdminServiceStub:
        """Bridge operation (admin)."""
        return bridge_pb2_grpc.BridgeAdminServiceStub(self._bridge_channel)

    def control(self, address: str) -> control_pb2_grpc.ControlServiceStub:
        """The control service of the service at `address`."""
        return control_pb2_grpc.ControlServiceStub(self._channel(address))

    @cached_property
    def _custodian_channel(self) -> grpc.Channel:
        return self._channel(self.endpoints.custodian)

    @cached_property
    def _exchange_channel(self) -> grpc.Channel:
        return self._channel(self.endpoints.exchange)

    @cached_property
    def _bridge_channel(self) -> grpc.Channel:
        return self._channel(self.endpoints.bridge)

    def close(self) -> None:
        """Closes every channel opened."""
        for channel in self._channels:
            channel.close()


def admin_session(endpoints: Endpoints, authority: TokenAuthority) -> SandboxSession:
    """Stubs acting as the administrator."""
    return SandboxSession(endpoints, authority, ADMIN)
