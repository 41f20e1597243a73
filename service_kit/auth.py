"""Bearer tokens for the four principal kinds, and per-method authorization policies."""

from __future__ import annotations

import contextvars
import enum
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from service_kit.errors import permission_denied, unauthenticated

# Identifiers of clients and exchanges inside resource names: lower case, digits, dashes.
IDENTIFIER_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
TOKEN_PREFIX = "oes1"
_SIGNATURE_HEX_LENGTH = 32


class PrincipalKind(enum.Enum):
    """Who may call: a client, an exchange, the bridge or the administrator."""

    CLIENT = "clients"
    EXCHANGE = "exchanges"
    BRIDGE = "bridge"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    kind: PrincipalKind
    identifier: str = ""

    @property
    def name(self) -> str:
        """Resource name: `clients/acme`, `exchanges/okx-sim`, `bridge` or `admin`."""
        if self.kind in (PrincipalKind.CLIENT, PrincipalKind.EXCHANGE):
            return f"{self.kind.value}/{self.identifier}"
        return self.kind.value

    @staticmethod
    def parse(name: str) -> Principal | None:
        """Parses a principal name; returns None when it is not one."""
        if name in ("bridge", "admin"):
            return Principal(PrincipalKind(name))
        collection, _, identifier = name.partition("/")
        if collection in ("clients", "exchanges") and IDENTIFIER_PATTERN.fullmatch(identifier):
            return Principal(PrincipalKind(collection), identifier)
        return None


ADMIN = Principal(PrincipalKind.ADMIN)
BRIDGE = Principal(PrincipalKind.BRIDGE)


class TokenAuthority:
    """Issues and checks development tokens: the principal's name signed with a shared secret.

    Every service of one sandbox shares the secret, so a token printed by `oes up` works on
    all three, and a token cannot be forged for another principal without the secret.
    """

    def __init__(self, secret: str) -> None:
        assert secret, "an empty secret would make every token valid"
        self._key = secret.encode()

    def issue(self, principal: Principal) -> str:
        """Returns the bearer token of `principal`."""
        return f"{TOKEN_PREFIX}.{principal.name}.{self._signature(principal.name)}"

    def authenticate(self, metadata: Mapping[str, str]) -> Principal:
        """Returns the caller named by the `authorization` metadata, or raises UNAUTHENTICATED."""
        header = metadata.get("authorization", "")
        if not header:
            raise unauthenticated(
                "MISSING_TOKEN", "send metadata 'authorization: Bearer <token>'; `oes up` prints the tokens"
            )
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise unauthenticated("MALFORMED_TOKEN", "the authorization metadata must be 'Bearer <token>'")
        prefix, _, rest = token.partition(".")
        name, _, signature = rest.rpartition(".")
        principal = Principal.parse(name)
        if prefix != TOKEN_PREFIX or principal is None:
            raise unauthenticated("MALFORMED_TOKEN", "the token is not an OES sandbox token")
        if not hmac.compare_digest(signature, self._signature(name)):
            raise unauthenticated("UNKNOWN_TOKEN", "the token was not issued by this sandbox")
        return principal

    def _signature(self, name: str) -> str:
        digest = hmac.new(self._key, name.encode(), hashlib.sha256).hexdigest()
        return digest[:_SIGNATURE_HEX_LENGTH]


# The principal of the request being served; set by the interceptor for each call.
_current_principal: contextvars.ContextVar[Principal] = contextvars.ContextVar("principal")


def current_principal() -> Principal:
    """Returns the caller of the request being served."""
    return _current_principal.get()


def set_current_principal(principal: Principal) -> contextvars.Token[Principal]:
    """Sets the caller for the rest of this request; the interceptor resets it afterwards."""
    return _current_principal.set(principal)


def reset_current_principal(token: contextvars.Token[Principal]) -> None:
    """Forgets the caller once the request is served."""
    _current_principal.reset(token)


# Method policy: full method name (`/package.Service/Method`) or service name
# (`package.Service`) to the principal kinds allowed to call it.
AuthorizationPolicy = Mapping[str, frozenset[PrincipalKind]]

ADMIN_ONLY = frozenset({PrincipalKind.ADMIN})
BRIDGE_OR_ADMIN = frozenset({PrincipalKind.BRIDGE, PrincipalKind.ADMIN})
ANY_PRINCIPAL = frozenset(PrincipalKind)


def authorize(policy: AuthorizationPolicy, method: str, principal: Principal) -> None:
    """Raises PERMISSION_DENIED unless the policy lets `principal` call `method`."""
    service = method.strip("/").split("/")[0]
    allowed = policy.get(method, policy.get(service))
    assert allowed is not None, f"method {method} has no authorization policy"
    if principal.kind not in allowed:
        kinds = ", ".join(sorted(kind.value for kind in allowed))
        raise permission_denied(
            "PRINCIPAL_NOT_ALLOWED",
            f"{principal.name} may not call {method}; allowed: {kinds}",
            method=method,
            principal=principal.name,
        )


def require_owner(principal: Principal, owner_name: str) -> None:
    """Lets clients and exchanges act only on their own resources; bridge and admin on any."""
    if principal.kind in (PrincipalKind.BRIDGE, PrincipalKind.ADMIN):
        return
    if owner_name != principal.name:
        raise permission_denied(
            "NOT_RESOURCE_OWNER",
            f"{principal.name} may not act on resources of {owner_name}",
            principal=principal.name,
            owner=owner_name,
        )
