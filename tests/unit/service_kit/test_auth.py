"""Development tokens and authorization policies."""

from __future__ import annotations

import pytest

from service_kit.auth import (
    ADMIN,
    BRIDGE_OR_ADMIN,
    Principal,
    PrincipalKind,
    TokenAuthority,
    authorize,
    require_owner,
)
from service_kit.errors import ErrorCode, ServiceError

ACME = Principal(PrincipalKind.CLIENT, "acme")


def test_issued_token_authenticates_its_principal_only() -> None:
    authority = TokenAuthority("secret")
    token = authority.issue(ACME)
    assert authority.authenticate({"authorization": f"Bearer {token}"}) == ACME
    forged = token.replace("clients/acme", "clients/globex")
    with pytest.raises(ServiceError) as raised:
        authority.authenticate({"authorization": f"Bearer {forged}"})
    assert (raised.value.code, raised.value.reason) == (ErrorCode.UNAUTHENTICATED, "UNKNOWN_TOKEN")


def test_token_of_another_sandbox_is_unknown() -> None:
    token = TokenAuthority("other").issue(ADMIN)
    with pytest.raises(ServiceError) as raised:
        TokenAuthority("secret").authenticate({"authorization": f"Bearer {token}"})
    assert raised.value.reason == "UNKNOWN_TOKEN"


@pytest.mark.parametrize(("header", "reason"), [("", "MISSING_TOKEN"), ("Basic x", "MALFORMED_TOKEN")])
def test_missing_or_malformed_header(header: str, reason: str) -> None:
    with pytest.raises(ServiceError) as raised:
        TokenAuthority("secret").authenticate({"authorization": header} if header else {})
    assert raised.value.reason == reason


def test_policy_refuses_clients_on_bridge_methods() -> None:
    policy = {"oes.custodian.v1.CustodySettlementService": BRIDGE_OR_ADMIN}
    method = "/oes.custodian.v1.CustodySettlementService/LockAllocation"
    authorize(policy, method, ADMIN)
    with pytest.raises(ServiceError) as raised:
        authorize(policy, method, ACME)
    assert (raised.value.code, raised.value.reason) == (ErrorCode.PERMISSION_DENIED, "PRINCIPAL_NOT_ALLOWED")


def test_clients_own_only_their_resources() -> None:
    require_owner(ACME, "clients/acme")
    require_owner(ADMIN, "clients/globex")
    with pytest.raises(ServiceError) as raised:
        require_owner(ACME, "clients/globex")
    assert raised.value.reason == "NOT_RESOURCE_OWNER"
