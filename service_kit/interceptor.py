"""One server interceptor per service: authenticate, authorize, map errors, log one line per RPC."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
import structlog

from service_kit.auth import (
    AuthorizationPolicy,
    TokenAuthority,
    authorize,
    reset_current_principal,
    set_current_principal,
)
from service_kit.call_context import CallContext, enter_call, exit_call
from service_kit.errors import ErrorCode, ServiceError
from service_kit.faults import CallFault, CallFaultAction, FaultRegistry
from service_kit.rpc_errors import abort

log = structlog.get_logger("rpc")

# Infrastructure services anyone may call without a token, as `grpc_health_probe` and
# `grpcurl` expect.
OPEN_SERVICE_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


class RequestInterceptor(grpc.ServerInterceptor):
    """Wraps every unary handler of the sandbox's own services."""

    def __init__(
        self,
        authority: TokenAuthority,
        policy: AuthorizationPolicy,
        error_domain: str,
        faults: FaultRegistry | None = None,
    ) -> None:
        self._authority = authority
        self._policy = policy
        self._error_domain = error_domain
        self._faults = faults

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or method.startswith(OPEN_SERVICE_PREFIXES):
            return handler
        metadata = {key: value for key, value in handler_call_details.invocation_metadata or ()}
        if handler.unary_stream is not None:
            stream_behavior = handler.unary_stream

            def serve_stream(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                return self._serve_stream(method, metadata, stream_behavior, request, context)

            return grpc.unary_stream_rpc_method_handler(
                serve_stream,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        assert handler.unary_unary is not None, f"{method}: only unary and server-streaming RPCs are served"
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
        with self._call(method, metadata, getattr(request, "request_id", ""), context):
            fault = None if self._faults is None else self._faults.call_fault(method)
            if fault is None:
                return behavior(request, context)
            return _serve_faulted(fault, behavior, request, context)
        raise AssertionError("a failed call aborts, which raises")

    def _serve_stream(
        self,
        method: str,
        metadata: dict[str, str],
        behavior: Callable[[Any, grpc.ServicerContext], Iterator[Any]],
        request: Any,
        context: grpc.ServicerContext,
    ) -> Iterator[Any]:
        with self._call(method, metadata, "", context) as outcome:
            fault = None if self._faults is None else self._faults.call_fault(method)
            if fault is not None:
                _start_faulted_stream(fault)
            for message in behavior(request, context):
                outcome.message_count += 1
                yield message

    @contextmanager
    def _call(
        self, method: str, metadata: dict[str, str], request_id: str, context: grpc.ServicerContext
    ) -> Iterator[_CallOutcome]:
        """Authenticates and authorizes the caller, maps errors, and writes the canonical line."""
        started_ns = time.perf_counter_ns()
        outcome = _CallOutcome()
        try:
            principal = self._authority.authenticate(metadata)
            outcome.principal = principal.name
            authorize(self._policy, method, principal)
            token = set_current_principal(principal)
            call_token = enter_call(CallContext(principal.name, method.rsplit("/", 1)[-1], request_id))
            try:
                yield outcome
            finally:
                exit_call(call_token)
                reset_current_principal(token)
        except ServiceError as error:
            outcome.code, outcome.reason = error.code.value, error.reason
            abort(context, error, self._error_domain)
        except Exception as error:
            outcome.code, outcome.reason = ErrorCode.INTERNAL.value, "INTERNAL"
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
                principal=outcome.principal,
                request_id=request_id,
                code=outcome.code,
                reason=outcome.reason,
                message_count=outcome.message_count,
                duration_ms=round((time.perf_counter_ns() - started_ns) / 1e6, 3),
            )


def _start_faulted_stream(fault: CallFault) -> None:
    """Applies a call fault to a server stream before its first message: a delay or an error.

    A stream has no single reply to drop or deliver twice: both fail the stream as a lost
    connection would (UNAVAILABLE), and the client resumes it from its last sequence number.
    """
    if fault.action is CallFaultAction.ADD_LATENCY:
        time.sleep(fault.latency_ms / 1000)
        return
    if fault.action is CallFaultAction.RETURN_ERROR:
        raise ServiceError(fault.error_code, fault.reason, f"injected fault on this method ({fault.reason})")
    raise ServiceError(
        ErrorCode.UNAVAILABLE, "STREAM_DROPPED", "the stream was cut (injected fault); resume it"
    )


def _serve_faulted(
    fault: CallFault,
    behavior: Callable[[Any, grpc.ServicerContext], Any],
    request: Any,
    context: grpc.ServicerContext,
) -> Any:
    """Serves a call an armed call fault fired on (after authentication, like any call)."""
    action = fault.action
    if action is CallFaultAction.ADD_LATENCY:
        # Wall time on purpose: latency is what the caller's deadline sees.
        time.sleep(fault.latency_ms / 1000)
        return behavior(request, context)
    if action is CallFaultAction.RETURN_ERROR:
        raise ServiceError(fault.error_code, fault.reason, f"injected fault on this method ({fault.reason})")
    first_response = behavior(request, context)
    if action is CallFaultAction.DUPLICATE_DELIVERY:
        # The network delivered the request twice: the second answer is the one the caller gets.
        return behavior(request, context)
    assert action is CallFaultAction.DROP_REPLY
    del first_response  # Served and committed; the caller never sees it.
    raise ServiceError(
        ErrorCode.UNAVAILABLE,
        "REPLY_DROPPED",
        "the call was served but its reply was lost (injected fault); retry with the same request_id",
    )


@dataclass
class _CallOutcome:
    """What the canonical log line of one call reports."""

    principal: str = ""
    code: str = "OK"
    reason: str = ""
    message_count: int = 0
