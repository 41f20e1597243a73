"""Who may call which custodian service, and the error domain of the custodian's errors."""

from __future__ import annotations

from oes.custodian.v1 import custodian_pb2
from service_kit.auth import ADMIN_ONLY, ANY_PRINCIPAL, BRIDGE_OR_ADMIN, AuthorizationPolicy, PrincipalKind
from service_kit.control import CONTROL_POLICY

ERROR_DOMAIN = "custodian.oes-sandbox.local"

_SERVICES = custodian_pb2.DESCRIPTOR.services_by_name
CUSTODY_SERVICE_NAME = _SERVICES["CustodyService"].full_name
CUSTODY_SETTLEMENT_SERVICE_NAME = _SERVICES["CustodySettlementService"].full_name
CUSTODY_ADMIN_SERVICE_NAME = _SERVICES["CustodyAdminService"].full_name

CLIENT_OR_ADMIN = frozenset({PrincipalKind.CLIENT, PrincipalKind.ADMIN})
# Withdrawals move a client's assets out of custody: only the client (its own, by
# require_owner) and admin may whitelist, withdraw, cancel or read them; exchanges and the
# bridge never. Any principal may call ApproveWithdrawal, because approvers are named by the
# client's policy (`admin`, `clients/acme-treasurer`, ...); the use case refuses anyone the
# policy does not name (NOT_AN_APPROVER). SetWithdrawalPolicy is on the admin-only service.
WITHDRAWAL_POLICY: AuthorizationPolicy = {
    **{
        f"/{CUSTODY_SERVICE_NAME}/{method}": CLIENT_OR_ADMIN
        for method in (
            "CreateWhitelistAddress",
            "ListWhitelistAddresses",
            "CreateWithdrawal",
            "CancelWithdrawal",
            "GetWithdrawal",
            "ListWithdrawals",
        )
    },
    f"/{CUSTODY_SERVICE_NAME}/ApproveWithdrawal": ANY_PRINCIPAL,
}

# CustodyService is open to every principal kind; each of its handlers then lets a client or
# an exchange act only on its own resources (require_owner), and the audit log shows them
# only their own records. The proof of reserves covers every party, so only the bridge and
# admin read it.
POLICY: AuthorizationPolicy = {
    CUSTODY_SERVICE_NAME: ANY_PRINCIPAL,
    f"/{CUSTODY_SERVICE_NAME}/GetProofOfReserves": BRIDGE_OR_ADMIN,
    **WITHDRAWAL_POLICY,
    CUSTODY_SETTLEMENT_SERVICE_NAME: BRIDGE_OR_ADMIN,
    CUSTODY_ADMIN_SERVICE_NAME: ADMIN_ONLY,
    **CONTROL_POLICY,
}
