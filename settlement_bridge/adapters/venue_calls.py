"""Calls to a venue: a deadline per attempt, a bounded retry of transient failures only; balance parsing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
import structlog

from service_kit.money import AssetScales, parse_units
from service_kit.rpc_errors import remote_error
from settlement_bridge.service_layer.ports import VenueRefusedError, VenueUnavailableError

log = structlog.get_logger(__name__)

ResponseT = TypeVar("ResponseT")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the bridge tries one venue call before it reports the venue unavailable."""

    attempts_max: int = 5
    deadline_ms: int = 5_000
    backoff_ms_initial: int = 50
    backoff_ms_max: int = 800

    def __post_init__(self) -> None:
        assert self.attempts_max >= 1
        assert self.deadline_ms > 0
        assert 0 <= self.backoff_ms_initial <= self.backoff_ms_max


class VenueCaller:
    """Makes unary calls to one venue; every call the bridge makes is idempotent, so retrying is safe.

    Only UNAVAILABLE and DEADLINE_EXCEEDED are retried (with exponential backoff): any other
    status is the venue's answer and becomes VenueRefusedError with its stable reason.
    """

    def __init__(
        self,
        venue: str,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.venue = venue
        self._policy = policy or RetryPolicy()
        self._sleep = sleep

    def call(self, method: Callable[..., ResponseT], request: Any) -> ResponseT:
        """Calls `method(request)`; returns its response or raises VenueRefusedError/VenueUnavailableError."""
        policy = self._policy
        backoff_ms = policy.backoff_ms_initial
        last_message = ""
        for attempt in range(1, policy.attempts_max + 1):
            try:
                return method(request, timeout=policy.deadline_ms / 1000)
            except grpc.RpcError as error:
                failure = remote_error(error)
                if not failure.retryable:
                    raise VenueRefusedError(
                        self.venue, failure.code.name, failure.reason or failure.code.name, failure.message
                    ) from error
                last_message = f"{failure.code.name}: {failure.message}"
                log.info("venue_call_retry", venue=self.venue, attempt=attempt, error=last_message)
            if attempt < policy.attempts_max:
                self._sleep(backoff_ms / 1000)
                backoff_ms = min(policy.backoff_ms_max, backoff_ms * 2)
        raise VenueUnavailableError(self.venue, f"{policy.attempts_max} attempts failed, last {last_message}")


def reconcilable_units(assets: AssetScales, asset: str, amount: str, field_name: str) -> int | None:
    """A balance a venue reported, in units; None for an asset the bridge is not configured for.

    Such an asset cannot be reconciled, so the caller leaves it out rather than failing.
    """
    scale = assets.scales.get(asset)
    if scale is None:
        return None
    return parse_units(amount, scale, field_name, allow_negative=True, allow_zero=True)
