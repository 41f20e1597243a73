"""Plain-Python errors that every layer raises and one mapper turns into gRPC statuses."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field


class ErrorCode(enum.Enum):
    """The canonical gRPC codes the sandbox uses, without importing gRPC."""

    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    UNAVAILABLE = "UNAVAILABLE"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    INTERNAL = "INTERNAL"
    # The codes below are only ever injected by call faults; the services answer with the above.
    CANCELLED = "CANCELLED"
    UNKNOWN = "UNKNOWN"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    ABORTED = "ABORTED"
    UNIMPLEMENTED = "UNIMPLEMENTED"
    DATA_LOSS = "DATA_LOSS"


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request: which field, and what a person should change."""

    field: str
    description: str
    reason: str = ""


@dataclass
class ServiceError(Exception):
    """An expected failure with a stable reason that clients branch on."""

    code: ErrorCode
    reason: str
    message: str
    field_violations: tuple[FieldViolation, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        assert self.reason and self.reason.upper() == self.reason, "reasons are UPPER_SNAKE_CASE"
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.code.value} {self.reason}: {self.message}"


def invalid_argument(reason: str, field_name: str, description: str) -> ServiceError:
    """Builds the INVALID_ARGUMENT error for one bad field."""
    return ServiceError(
        ErrorCode.INVALID_ARGUMENT,
        reason,
        f"{field_name}: {description}",
        field_violations=(FieldViolation(field_name, description, reason),),
    )


def not_found(reason: str, message: str, **metadata: str) -> ServiceError:
    """Builds a NOT_FOUND error."""
    return ServiceError(ErrorCode.NOT_FOUND, reason, message, metadata=metadata)


def failed_precondition(reason: str, message: str, **metadata: str) -> ServiceError:
    """Builds a FAILED_PRECONDITION error: the request is valid but the state refuses it."""
    return ServiceError(ErrorCode.FAILED_PRECONDITION, reason, message, metadata=metadata)


def already_exists(reason: str, message: str, **metadata: str) -> ServiceError:
    """Builds an ALREADY_EXISTS error."""
    return ServiceError(ErrorCode.ALREADY_EXISTS, reason, message, metadata=metadata)


def permission_denied(reason: str, message: str, **metadata: str) -> ServiceError:
    """Builds a PERMISSION_DENIED error: the caller is known but may not do this."""
    return ServiceError(ErrorCode.PERMISSION_DENIED, reason, message, metadata=metadata)


def unauthenticated(reason: str, message: str) -> ServiceError:
    """Builds an UNAUTHENTICATED error: the caller could not be identified."""
    return ServiceError(ErrorCode.UNAUTHENTICATED, reason, message)


def unavailable(reason: str, message: str, **metadata: str) -> ServiceError:
    """Builds an UNAVAILABLE error, the only kind a client should retry."""
    return ServiceError(ErrorCode.UNAVAILABLE, reason, message, metadata=metadata)


def out_of_range(reason: str, message: str, **metadata: str) -> ServiceError:
    """A position past what exists or is still kept (a stream resumed from a forgotten sequence)."""
    return ServiceError(ErrorCode.OUT_OF_RANGE, reason, message, metadata=metadata)


# A stable reason code as the services send them: UPPER_SNAKE_CASE, at most 64 characters.
REASON_CODE_PATTERN = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


def validate_reason_code(reason: str, field_name: str) -> str:
    """Checks a reason code a caller passes on (a fault's reason, why a statement was refused)."""
    if not REASON_CODE_PATTERN.fullmatch(reason):
        raise invalid_argument(
            "REASON_INVALID", field_name, "UPPER_SNAKE_CASE, at most 64 characters, e.g. INVALID_SIGNATURE"
        )
    return reason
