"""The one mapper from ServiceError to a rich gRPC status, and back again for gRPC clients."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from service_kit.errors import ErrorCode, ServiceError

_RPC_CODES: dict[ErrorCode, int] = {
    ErrorCode.INVALID_ARGUMENT: code_pb2.INVALID_ARGUMENT,
    ErrorCode.NOT_FOUND: code_pb2.NOT_FOUND,
    ErrorCode.ALREADY_EXISTS: code_pb2.ALREADY_EXISTS,
    ErrorCode.FAILED_PRECONDITION: code_pb2.FAILED_PRECONDITION,
    ErrorCode.OUT_OF_RANGE: code_pb2.OUT_OF_RANGE,
    ErrorCode.PERMISSION_DENIED: code_pb2.PERMISSION_DENIED,
    ErrorCode.UNAUTHENTICATED: code_pb2.UNAUTHENTICATED,
    ErrorCode.UNAVAILABLE: code_pb2.UNAVAILABLE,
    ErrorCode.INTERNAL: code_pb2.INTERNAL,
    ErrorCode.CANCELLED: code_pb2.CANCELLED,
    ErrorCode.UNKNOWN: code_pb2.UNKNOWN,
    ErrorCode.DEADLINE_EXCEEDED: code_pb2.DEADLINE_EXCEEDED,
    ErrorCode.RESOURCE_EXHAUSTED: code_pb2.RESOURCE_EXHAUSTED,
    ErrorCode.ABORTED: code_pb2.ABORTED,
    ErrorCode.UNIMPLEMENTED: code_pb2.UNIMPLEMENTED,
    ErrorCode.DATA_LOSS: code_pb2.DATA_LOSS,
}


def to_rpc_status(error: ServiceError, domain: str) -> status_pb2.Status:
    """Builds the google.rpc.Status with ErrorInfo (and BadRequest for field errors)."""
    info = error_details_pb2.ErrorInfo(reason=error.reason, domain=domain, metadata=dict(error.metadata))
    details = [info]
    if error.field_violations:
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=violation.field, description=violation.description, reason=violation.reason
                    )
                    for violation in error.field_violations
                ]
            )
        )
    packed = []
    for detail in details:
        any_detail = any_pb2.Any()
        any_detail.Pack(detail)
        packed.append(any_detail)
    return status_pb2.Status(code=_RPC_CODES[error.code], message=error.message, details=packed)


def abort(context: grpc.ServicerContext, error: ServiceError, domain: str) -> None:
    """Ends the call with the error's rich status; never returns."""
    context.abort_with_status(rpc_status.to_status(to_rpc_status(error, domain)))


@dataclass(frozen=True)
class RemoteError:
    """What a gRPC client needs to branch on: code, stable reason, message, field violations."""

    code: grpc.StatusCode
    reason: str
    message: str
    domain: str
    field_violations: tuple[str, ...]

    @property
    def retryable(self) -> bool:
        """Only UNAVAILABLE (and a deadline that may have hidden one) is worth retrying."""
        return self.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def remote_error(error: grpc.RpcError) -> RemoteError:
    """Reads the ErrorInfo and BadRequest details out of a failed call."""
    assert isinstance(error, grpc.Call), "errors of unary calls are also calls"
    reason, domain = "", ""
    violations: list[str] = []
    status = rpc_status.from_call(error)
    if status is not None:
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                reason, domain = info.reason, info.domain
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad_request = error_details_pb2.BadRequest()
                detail.Unpack(bad_request)
                violations.extend(violation.field for violation in bad_request.field_violations)
    return RemoteError(error.code(), reason, error.details() or "", domain, tuple(violations))
