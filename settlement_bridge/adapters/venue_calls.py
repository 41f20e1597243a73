"""Calls to a venue: deadlines, retries with jittered backoff, a per-venue circuit breaker; balances."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
import structlog

from service_kit.clock import Clock
from service_kit.money import AssetScales, parse_units
from service_kit.rpc_errors import remote_error
from settlement_bridge.domain.defaults import CircuitState, VenueHealthSnapshot
from settlement_bridge.service_layer.ports import VenueRefusedError, VenueUnavailableError

log = structlog.get_logger(__name__)

ResponseT = TypeVar("ResponseT")

# The reason of a call refused at once because the venue's circuit is open.
VENUE_CIRCUIT_OPEN = "VENUE_CIRCUIT_OPEN"


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


@dataclass(frozen=True)
class CircuitPolicy:
    """When the bridge stops calling a venue that keeps failing, and for how long (sandbox time)."""

    failures_to_open: int = 5
    open_ms: int = 30_000

    def __post_init__(self) -> None:
        assert self.failures_to_open >= 1
        assert self.open_ms > 0


def venue_random(seed: int, venue: str) -> random.Random:
    """The venue's own jitter source, fixed by the run's seed and the venue's name."""
    # A string seed is hashed with SHA-512, so the draws do not depend on PYTHONHASHSEED.
    return random.Random(f"{seed}:{venue}")


class CircuitBreaker:
    """Counts failed calls to one venue and opens after too many in a row; thread-safe.

    CLOSED lets calls through. After `failures_to_open` failed calls in a row it is OPEN: calls
    fail at once for `open_ms` of sandbox time. Then HALF_OPEN lets one trial call through: its
    success closes the circuit, its failure opens it again. Without a clock it never opens (it
    still counts failures).
    """

    def __init__(self, venue: str, policy: CircuitPolicy, clock: Clock | None) -> None:
        self._venue = venue
        self._policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CircuitState.CLOSED
        self._consecutive_failures = 0
        self._unreachable_since_ms: int | None = None
        self._opened_at_ms = 0
        self._trial_in_flight = False

    def admit(self) -> bool:
        """Whether a call may go through now; True also marks a HALF_OPEN trial as taken."""
        with self._lock:
            state = self._current_state()
            if state is CircuitState.CLOSED:
                return True
            if state is CircuitState.OPEN or self._trial_in_flight:
                return False
            self._state = CircuitState.HALF_OPEN
            self._trial_in_flight = True
            return True

    def succeeded(self) -> None:
        """The venue answered (a result or a definite refusal): it is reachable."""
        with self._lock:
            if self._state is not CircuitState.CLOSED:
                log.info("venue_circuit_closed", venue=self._venue)
            self._state = CircuitState.CLOSED
            self._consecutive_failures = 0
            self._unreachable_since_ms = None
            self._trial_in_flight = False

    def failed(self) -> None:
        """A call could not reach the venue with any of its attempts."""
        with self._lock:
            now_ms = self._now_ms()
            self._consecutive_failures += 1
            if self._unreachable_since_ms is None:
                self._unreachable_since_ms = now_ms
            trial = self._trial_in_flight
            self._trial_in_flight = False
            if self._clock is None:
                return
            if trial or (
                self._state is CircuitState.CLOSED
                and self._consecutive_failures >= self._policy.failures_to_open
            ):
                self._state = CircuitState.OPEN
                self._opened_at_ms = now_ms
                log.warning(
                    "venue_circuit_opened",
                    venue=self._venue,
                    consecutive_failures=self._consecutive_failures,
                    open_ms=self._policy.open_ms,
                )

    def abandoned(self) -> None:
        """A call ended without a verdict on the venue (a programmer error): frees the trial."""
        with self._lock:
            self._trial_in_flight = False

    def snapshot(self) -> VenueHealthSnapshot:
        """The circuit as it stands now (OPEN turns HALF_OPEN when its cool-down has passed)."""
        with self._lock:
            return VenueHealthSnapshot(
                venue=self._venue,
                circuit_state=self._current_state(),
                consecutive_failures=self._consecutive_failures,
                unreachable_since_ms=self._unreachable_since_ms,
            )

    def _current_state(self) -> CircuitState:
        if self._state is CircuitState.OPEN and self._now_ms() >= self._opened_at_ms + self._policy.open_ms:
            return CircuitState.HALF_OPEN
        return self._state

    def _now_ms(self) -> int:
        return self._clock.now_ms() if self._clock is not None else 0


class VenueCaller:
    """Makes unary calls to one venue; every call the bridge makes is idempotent, so retrying is safe.

    Only UNAVAILABLE and DEADLINE_EXCEEDED are retried, with exponential backoff and jitter
    (each sleep a uniform draw in [backoff/2, backoff] from the seeded `random_source`): any
    other status is the venue's answer and becomes VenueRefusedError with its stable reason.
    A call whose every attempt failed counts against the venue's circuit breaker; while the
    circuit is open, calls fail at once with VenueUnavailableError VENUE_CIRCUIT_OPEN.
    """

    def __init__(
        self,
        venue: str,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        *,
        clock: Clock | None = None,
        random_source: random.Random | None = None,
        circuit_policy: CircuitPolicy | None = None,
    ) -> None:
        self.venue = venue
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._random = random_source or venue_random(0, venue)
        # One caller is shared by every thread that calls the venue; the generator is not.
        self._random_lock = threading.Lock()
        self._circuit = CircuitBreaker(venue, circuit_policy or CircuitPolicy(), clock)

    def call(self, method: Callable[..., ResponseT], request: Any) -> ResponseT:
        """Calls `method(request)`; returns its response or raises VenueRefusedError/VenueUnavailableError."""
        if not self._circuit.admit():
            raise VenueUnavailableError(
                self.venue, "its circuit is open after repeated failures", reason=VENUE_CIRCUIT_OPEN
            )
        try:
            response = self._attempts(method, request)
        except VenueRefusedError:
            self._circuit.succeeded()
            raise
        except VenueUnavailableError:
            self._circuit.failed()
            raise
        except BaseException:
            self._circuit.abandoned()
            raise
        self._circuit.succeeded()
        return response

    def health(self) -> VenueHealthSnapshot:
        """The venue's circuit, consecutive failures and since when it has been unreachable."""
        return self._circuit.snapshot()

    def _attempts(self, method: Callable[..., ResponseT], request: Any) -> ResponseT:
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
                self._sleep(self._jittered_ms(backoff_ms) / 1000)
                backoff_ms = min(policy.backoff_ms_max, backoff_ms * 2)
        raise VenueUnavailableError(self.venue, f"{policy.attempts_max} attempts failed, last {last_message}")

    def _jittered_ms(self, backoff_ms: int) -> float:
        """A uniform draw in [backoff/2, backoff]: callers that failed together do not retry together."""
        with self._random_lock:
            return self._random.uniform(backoff_ms / 2, backoff_ms)


def reconcilable_units(assets: AssetScales, asset: str, amount: str, field_name: str) -> int | None:
    """A balance a venue reported, in units; None for an asset the bridge is not configured for.

    Such an asset cannot be reconciled, so the caller leaves it out rather than failing.
    """
    scale = assets.scales.get(asset)
    if scale is None:
        return None
    return parse_units(amount, scale, field_name, allow_negative=True, allow_zero=True)
