"""VenueCaller: retries of transient failures only, seeded jitter, and the per-venue circuit breaker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest

from service_kit.clock import SimulatedClock
from settlement_bridge.adapters.venue_calls import (
    VENUE_CIRCUIT_OPEN,
    CircuitPolicy,
    RetryPolicy,
    VenueCaller,
    venue_random,
)
from settlement_bridge.domain.defaults import CircuitState
from settlement_bridge.service_layer.ports import VenueRefusedError, VenueUnavailableError

START_MS = 1_767_225_600_000
POLICY = RetryPolicy(attempts_max=4, deadline_ms=1_000, backoff_ms_initial=100, backoff_ms_max=300)


class FakeRpcError(grpc.RpcError, grpc.Call):
    """A failed unary call as grpc raises it: an RpcError that is also a Call."""

    def __init__(self, code: grpc.StatusCode, details: str = "injected") -> None:
        super().__init__()
        self._code = code
        self._details = details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> tuple[()]:
        return ()

    def initial_metadata(self) -> tuple[()]:
        return ()

    def is_active(self) -> bool:
        return False

    def time_remaining(self) -> float | None:
        return None

    def cancel(self) -> bool:
        return False

    def add_callback(self, callback: Callable[[], None]) -> bool:
        return False


class FakeMethod:
    """A stub method that answers from a script of outcomes; the last one repeats."""

    def __init__(self, *outcomes: object) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[tuple[Any, float]] = []

    def __call__(self, request: Any, timeout: float) -> Any:
        self.calls.append((request, timeout))
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def unavailable() -> FakeRpcError:
    return FakeRpcError(grpc.StatusCode.UNAVAILABLE)


def caller(
    sleeps: list[float],
    seed: int = 7,
    clock: SimulatedClock | None = None,
    venue: str = "exchanges/okx-sim",
) -> VenueCaller:
    return VenueCaller(
        venue,
        POLICY,
        sleeps.append,
        clock=clock,
        random_source=venue_random(seed, venue),
        circuit_policy=CircuitPolicy(failures_to_open=3, open_ms=30_000),
    )


def test_transient_failures_are_retried_with_a_deadline_per_attempt() -> None:
    sleeps: list[float] = []
    method = FakeMethod(unavailable(), FakeRpcError(grpc.StatusCode.DEADLINE_EXCEEDED), "answer")

    assert caller(sleeps).call(method, "request") == "answer"

    assert method.calls == [("request", 1.0)] * 3
    assert len(sleeps) == 2


def test_each_backoff_is_a_seeded_draw_between_half_and_all_of_the_doubling_backoff() -> None:
    first: list[float] = []
    second: list[float] = []
    other_seed: list[float] = []
    for sleeps, seed in ((first, 7), (second, 7), (other_seed, 8)):
        with pytest.raises(VenueUnavailableError):
            caller(sleeps, seed).call(FakeMethod(unavailable()), "request")

    assert first == second, "the same seed and venue draw the same sleeps"
    assert first != other_seed
    assert len(first) == POLICY.attempts_max - 1
    for sleep_s, backoff_ms in zip(first, (100, 200, 300), strict=True):
        assert backoff_ms / 2 / 1000 <= sleep_s <= backoff_ms / 1000


def test_the_jitter_source_depends_on_the_venue() -> None:
    custodian: list[float] = []
    exchange: list[float] = []
    for sleeps, venue in ((custodian, "custodian"), (exchange, "exchanges/okx-sim")):
        with pytest.raises(VenueUnavailableError):
            caller(sleeps, venue=venue).call(FakeMethod(unavailable()), "request")

    assert custodian != exchange


def test_a_refusal_is_not_retried_and_is_not_a_failure() -> None:
    clock = SimulatedClock(START_MS)
    sleeps: list[float] = []
    venue = caller(sleeps, clock=clock)
    with pytest.raises(VenueUnavailableError):
        venue.call(FakeMethod(unavailable()), "request")
    refusing = FakeMethod(FakeRpcError(grpc.StatusCode.FAILED_PRECONDITION, "no"))

    for _ in range(5):
        with pytest.raises(VenueRefusedError) as refused:
            venue.call(refusing, "request")

    assert (refused.value.code, refused.value.reason) == ("FAILED_PRECONDITION", "FAILED_PRECONDITION")
    assert len(refusing.calls) == 5, "one attempt per call"
    health = venue.health()
    assert (health.circuit_state, health.consecutive_failures, health.unreachable_since_ms) == (
        CircuitState.CLOSED,
        0,
        None,
    ), "an answer, even a refusal, shows the venue is reachable"


def test_the_circuit_opens_after_consecutive_failed_calls_and_fails_fast() -> None:
    clock = SimulatedClock(START_MS)
    venue = caller([], clock=clock)
    failing = FakeMethod(unavailable())

    for number in range(3):
        with pytest.raises(VenueUnavailableError) as failed:
            venue.call(failing, "request")
        assert failed.value.reason == "VENUE_UNAVAILABLE"
        clock.advance(1_000)
        if number < 2:
            assert venue.health().circuit_state is CircuitState.CLOSED
    health = venue.health()
    assert (health.circuit_state, health.consecutive_failures, health.unreachable_since_ms) == (
        CircuitState.OPEN,
        3,
        START_MS,
    )
    attempts_before = len(failing.calls)

    with pytest.raises(VenueUnavailableError) as fast:
        venue.call(failing, "request")

    assert fast.value.reason == VENUE_CIRCUIT_OPEN
    assert len(failing.calls) == attempts_before, "an open circuit does not touch the network"
    assert venue.health().consecutive_failures == 3, "a call not tried is not a failure"


def test_after_the_cool_down_one_trial_reopens_or_closes_the_circuit() -> None:
    clock = SimulatedClock(START_MS)
    venue = caller([], clock=clock)
    for _ in range(3):
        with pytest.raises(VenueUnavailableError):
            venue.call(FakeMethod(unavailable()), "request")
    clock.advance(29_999)
    assert venue.health().circuit_state is CircuitState.OPEN
    clock.advance(1)
    assert venue.health().circuit_state is CircuitState.HALF_OPEN

    failing_trial = FakeMethod(unavailable())
    with pytest.raises(VenueUnavailableError) as failed:
        venue.call(failing_trial, "request")
    assert failed.value.reason == "VENUE_UNAVAILABLE"
    assert len(failing_trial.calls) == POLICY.attempts_max, "the trial is one whole call"
    health = venue.health()
    assert (health.circuit_state, health.consecutive_failures, health.unreachable_since_ms) == (
        CircuitState.OPEN,
        4,
        START_MS,
    )
    with pytest.raises(VenueUnavailableError) as fast:
        venue.call(failing_trial, "request")
    assert fast.value.reason == VENUE_CIRCUIT_OPEN

    clock.advance(30_000)
    assert venue.call(FakeMethod("answer"), "request") == "answer"
    health = venue.health()
    assert (health.circuit_state, health.consecutive_failures, health.unreachable_since_ms) == (
        CircuitState.CLOSED,
        0,
        None,
    )


def test_half_open_lets_a_single_trial_through_at_a_time() -> None:
    clock = SimulatedClock(START_MS)
    venue = caller([], clock=clock)
    for _ in range(3):
        with pytest.raises(VenueUnavailableError):
            venue.call(FakeMethod(unavailable()), "request")
    clock.advance(30_000)
    concurrent: list[str] = []

    def trial(request: Any, timeout: float) -> str:
        # Another caller arrives while the trial is in flight: it is not let through.
        try:
            venue.call(FakeMethod("second"), "request")
        except VenueUnavailableError as refused:
            concurrent.append(refused.reason)
        return "first"

    assert venue.call(trial, "request") == "first"
    assert concurrent == [VENUE_CIRCUIT_OPEN]
    assert venue.call(FakeMethod("next"), "request") == "next"


def test_a_refused_trial_closes_the_circuit() -> None:
    clock = SimulatedClock(START_MS)
    venue = caller([], clock=clock)
    for _ in range(3):
        with pytest.raises(VenueUnavailableError):
            venue.call(FakeMethod(unavailable()), "request")
    clock.advance(30_000)

    with pytest.raises(VenueRefusedError):
        venue.call(FakeMethod(FakeRpcError(grpc.StatusCode.NOT_FOUND)), "request")

    assert venue.health().circuit_state is CircuitState.CLOSED


def test_without_a_clock_the_circuit_counts_failures_but_never_opens() -> None:
    venue = caller([])
    failing = FakeMethod(unavailable())
    for _ in range(5):
        with pytest.raises(VenueUnavailableError):
            venue.call(failing, "request")

    health = venue.health()
    assert (health.circuit_state, health.consecutive_failures) == (CircuitState.CLOSED, 5)
    assert len(failing.calls) == 5 * POLICY.attempts_max
