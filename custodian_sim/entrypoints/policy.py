"""Who may call which custodian service, and the error domain of the custodian's errors."""

from __future__ import annotations

from oes.custodian.v1 import custodian_pb2
from service_kit.auth import ADMIN_ONLY, ANY_PRINCIPAL, BRIDGE_OR_ADMIN, AuthorizationPolicy
from service_kit.control import CONTROL_POLICY

ERROR_DOMAIN = "custodian.oes-sandbox.local"

_SERVICES = custodian_pb2.DESCRIPTOR.services_by_name
CUSTODY_SERVICE_NAME = _SERVICES["CustodyService"].full_name
CUSTODY_SETTLEMENT_SERVICE_NAME = _SERVICES["CustodySettlementService"].full_name
CUSTODY_ADMIN_SERVICE_NAME = _SERVICES["CustodyAdminService"].full_name

# CustodyService is open to every principal kind; each of its handlers then lets a client or
# an exchange act only on its own resources (require_owner).
POLICY: AuthorizationPolicy = {
    CUSTODY_SERVICE_NAME: ANY_PRINCIPAL,
    CUSTODY_SETTLEMENT_SERVICE_NAME: BRIDGE_OR_ADMIN,
    CUSTODY_ADMIN_SERVICE_NAME: ADMIN_ONLY,
    **CONTROL_POLICY,
}
