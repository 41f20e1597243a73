"""The request_id store: a retry gets the stored first response, a changed request is refused."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Protocol, TypeVar

import sqlite_utils
from google.protobuf.message import Message

from service_kit.auth import current_principal
from service_kit.database import Database
from service_kit.errors import already_exists, invalid_argument

MIGRATION = """
CREATE TABLE request_log (
    principal TEXT NOT NULL,
    request_id TEXT NOT NULL,
    method TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    response BLOB NOT NULL,
    record_time_ms INTEGER NOT NULL,
    PRIMARY KEY (principal, request_id)
) WITHOUT ROWID;
"""

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:/@-]{1,128}")

ResponseT = TypeVar("ResponseT", bound=Message)


class HasRequestId(Protocol):
    """A mutating request: every one carries a caller-chosen request_id."""

    request_id: str

    def SerializeToString(self, *, deterministic: bool = ...) -> bytes:
        """Serializes the request."""
        ...


def validate_request_id(request_id: str) -> None:
    """Refuses an empty or malformed request_id before anything is read or written."""
    if not REQUEST_ID_PATTERN.fullmatch(request_id):
        raise invalid_argument(
            "REQUEST_ID_INVALID",
            "request_id",
            "must be 1-128 characters of letters, digits and ._:/@- chosen by the caller, "
            "the same on every retry",
        )


def fingerprint(method: str, request: HasRequestId) -> str:
    """Identifies the content of a request, so a reused request_id with other content is caught."""
    digest = hashlib.sha256(method.encode())
    digest.update(request.SerializeToString(deterministic=True))
    return digest.hexdigest()


class RequestLog:
    """Stored first responses per (principal, request_id), in the service's own database."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def run(
        self,
        method: str,
        request: HasRequestId,
        response_type: type[ResponseT],
        handler: Callable[[sqlite_utils.Database], ResponseT],
        now_ms: Callable[[], int],
    ) -> ResponseT:
        """Runs `handler` and records its response in one transaction, unless this is a retry."""
        validate_request_id(request.request_id)
        with self._database.transaction() as transaction:
            stored = self._find(transaction, method, request, response_type)
            if stored is not None:
                return stored
            response = handler(transaction)
            self.record(transaction, method, request, response, now_ms())
            return response

    def lookup(self, method: str, request: HasRequestId, response_type: type[ResponseT]) -> ResponseT | None:
        """Returns the stored response of a retry, for handlers that commit in several steps."""
        validate_request_id(request.request_id)
        return self._find(self._database.connection(), method, request, response_type)

    def record(
        self,
        transaction: sqlite_utils.Database,
        method: str,
        request: HasRequestId,
        response: Message,
        record_time_ms: int,
    ) -> None:
        """Stores the first response inside the caller's transaction."""
        transaction.execute(
            "INSERT INTO request_log VALUES (?, ?, ?, ?, ?, ?)",
            (
                current_principal().name,
                request.request_id,
                method,
                fingerprint(method, request),
                response.SerializeToString(),
                record_time_ms,
            ),
        )

    def _find(
        self,
        database: sqlite_utils.Database,
        method: str,
        request: HasRequestId,
        response_type: type[ResponseT],
    ) -> ResponseT | None:
        row = database.execute(
            "SELECT method, fingerprint, response FROM request_log WHERE principal = ? AND request_id = ?",
            (current_principal().name, request.request_id),
        ).fetchone()
        if row is None:
            return None
        if row[0] != method or row[1] != fingerprint(method, request):
            raise already_exists(
                "REQUEST_ID_REUSED",
                f"request_id {request.request_id!r} was already used for a different request "
                f"({row[0]}); choose a new request_id for a new request",
                request_id=request.request_id,
            )
        return response_type.FromString(row[2])
