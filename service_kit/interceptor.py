"""One server interceptor per service: authenticate, authorize, map errors, log one line per RPC."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import grpc
import structlog

from service_kit.auth import (
    AuthorizationPolicy,
    Principal,
    TokenAuthority,
    authorize,
    reset_current_principal,
    set_current_principal,
)
from service_kit.errors import ErrorCode, ServiceError
from service_kit.rpc_errors import abort

log = structlog.get_logger("rpc")

# Infrastructure services anyone may call without a token, as `grpc_health_probe` and
# `grpcurl` expect.
OPEN_SERVICE_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


class RequestInterceptor(grpc.ServerInterceptor):
    """Wraps every unary handler of the sandbox's own services."""

    def __init__(self, authority: TokenAuthority, policy: AuthorizationPolicy, error_domain: str) -> None:
        self._authority = authority
        self._policy = policy
        self._error_domain = error_domain

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or method.startswith(OPEN_SERVICE_PREFIXES):
            return handler
        assert handler.unary_unary is not None, f"{method}: only unary RPCs are wrapped so far"
        metadata = {key: value for key, value in handler_call_details.invocation_metadata or ()}
        behavior = handler.unary_unary

        def serve(request: Any, context: grpc.ServicerContext) -> Any:
            return self._serve(method, metadata, behavior, request, context)

        return grpc.unary_unary_rpc_method_handler(
            serve,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _serve(
        self,
        method: str,
        metadata: dict[str, str],
        behavior: Callable[[Any, grpc.ServicerContext], Any],
        request: Any,
        context: grpc.ServicerContext,
    ) -> Any:
        started_ns = time.perf_counter_ns()
        principal: Principal | None = None
        code = "OK"
        reason = ""
        try:
            principal = self._authority.authenticate(metadata)
            authorize(self._policy, method, principal)
            token = set_current_principal(principal)
            try:
                return behavior(request, context)
            finally:
                reset_current_principal(token)
        except ServiceError as error:
            code, reason = error.code.value, error.reason
            abort(context, error, self._error_domain)
        except Exception as error:
            code, reason = ErrorCode.INTERNAL.value, "INTERNAL"
            log.exception("rpc_crashed", method=method)
            abort(
                context,
                ServiceError(ErrorCode.INTERNAL, "INTERNAL", f"the service failed: {type(error).__name__}"),
                self._error_domain,
            )
        finally:
            log.info(
                "rpc",
                method=method,
                principal=principal.name if principal else "",
                request_id=getattr(request, "request_id", ""),
                code=code,
                reason=reason,
                duration_ms=round((time.perf_counter_ns() - started_ns) / 1e6, 3),
            )
        raise AssertionError("abort always raises")
