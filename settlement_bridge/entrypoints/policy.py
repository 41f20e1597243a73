"""Who may call which bridge service, and the error domain of the bridge's errors."""

from __future__ import annotations

from oes.bridge.v1 import bridge_pb2
from service_kit.auth import ADMIN_ONLY, AuthorizationPolicy, PrincipalKind
from service_kit.control import CONTROL_POLICY

ERROR_DOMAIN = "bridge.oes-sandbox.local"

NETWORK_SERVICE_NAME = bridge_pb2.DESCRIPTOR.services_by_name["SettlementNetworkService"].full_name
ADMIN_SERVICE_NAME = bridge_pb2.DESCRIPTOR.services_by_name["BridgeAdminService"].full_name

# Clients act on their own connections (checked per resource); admin may act for anyone.
CLIENT_OR_ADMIN = frozenset({PrincipalKind.CLIENT, PrincipalKind.ADMIN})

POLICY: AuthorizationPolicy = {
    NETWORK_SERVICE_NAME: CLIENT_OR_ADMIN,
    ADMIN_SERVICE_NAME: ADMIN_ONLY,
    **CONTROL_POLICY,
}
