"""The fault registry on its own: triggers, expiry, method matching, crash points, clearing and the limit."""

from __future__ import annotations

from typing import NoReturn

import pytest

from service_kit.clock import SimulatedClock
from service_kit.errors import ErrorCode, ServiceError
from service_kit.faults import (
    FAULTS_MAX,
    PARTS_PER_MILLION,
    CallFault,
    CallFaultAction,
    FaultRegistry,
    Trigger,
    TriggerKind,
)

START_MS = 1_767_225_600_000
PLACE_ORDER = "/oes.exchange.v1.TradingService/PlaceOrder"
CANCEL_ORDER = "/oes.exchange.v1.TradingService/CancelOrder"
RESERVE = "/oes.exchange.v1.PartnerService/ReserveAllocation"
CALLS = 200


class CrashReachedError(Exception):
    """Raised by the test's crash callable instead of ending the process."""


def raise_crash(point: str) -> NoReturn:
    raise CrashReachedError(point)


def registry(seed: int = 1, clock: SimulatedClock | None = None) -> FaultRegistry:
    built = FaultRegistry(clock or SimulatedClock(START_MS), seed, raise_crash)
    built.add_crash_points(["allocation.LOCK.before_call", "allocation.LOCK.after_call"])
    return built


def drop_reply(method: str = PLACE_ORDER) -> CallFault:
    return CallFault(method, CallFaultAction.DROP_REPLY)


def fired_calls(faults: FaultRegistry, method: str = PLACE_ORDER, calls: int = 12) -> list[int]:
    """The 1-based numbers of the calls of `method` a fault fired on."""
    return [number for number in range(1, calls + 1) if faults.call_fault(method) is not None]


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        (Trigger(), list(range(1, 13))),
        (Trigger(TriggerKind.FIRST_CALLS, 2), [1, 2]),
        (Trigger(TriggerKind.EVERY_NTH, 3), [3, 6, 9, 12]),
        (Trigger(TriggerKind.PROBABILITY, 0), []),
        (Trigger(TriggerKind.PROBABILITY, PARTS_PER_MILLION), list(range(1, 13))),
    ],
    ids=["always", "first_calls_2", "every_nth_3", "probability_0", "probability_1"],
)
def test_each_trigger_fires_exactly_on_its_calls(trigger: Trigger, expected: list[int]) -> None:
    faults = registry()
    armed = faults.arm(drop_reply(), None, trigger, None)

    assert fired_calls(faults) == expected
    assert (armed.matched_count, armed.fired_count) == (12, len(expected))


def test_a_fault_answers_with_its_call_fault() -> None:
    faults = registry()
    call = CallFault(PLACE_ORDER, CallFaultAction.RETURN_ERROR, error_code=ErrorCode.INTERNAL, reason="BOOM")
    faults.arm(call, None, Trigger(), None)

    assert faults.call_fault(PLACE_ORDER) == call


def test_calls_of_other_methods_do_not_count_towards_the_trigger() -> None:
    faults = registry()
    armed = faults.arm(drop_reply(), None, Trigger(TriggerKind.EVERY_NTH, 2), None)

    assert [faults.call_fault(CANCEL_ORDER) for _ in range(5)] == [None] * 5
    assert fired_calls(faults, calls=4) == [2, 4]
    assert (armed.matched_count, armed.fired_count) == (4, 2)


def probability_subset(seed: int) -> list[int]:
    faults = registry(seed)
    faults.arm(drop_reply(), None, Trigger(TriggerKind.PROBABILITY, 250_000), None)
    return fired_calls(faults, calls=CALLS)


def test_a_probability_fires_on_a_subset_the_seed_decides() -> None:
    first = probability_subset(seed=7)

    assert probability_subset(seed=7) == first, "the same seed replays the same calls"
    assert probability_subset(seed=8) != first, "another seed picks other calls"
    # 200 draws at 25 %: 50 expected, standard deviation about 6.
    assert 30 <= len(first) <= 70
    assert 30 <= len(probability_subset(seed=8)) <= 70


def test_each_fault_draws_from_its_own_source() -> None:
    def place_order_subset(interleave: bool) -> list[int]:
        faults = registry(seed=7)
        faults.arm(drop_reply(CANCEL_ORDER), None, Trigger(TriggerKind.PROBABILITY, 250_000), None)
        faults.arm(drop_reply(), None, Trigger(TriggerKind.PROBABILITY, 250_000), None)
        fired = []
        for number in range(1, CALLS + 1):
            if interleave:
                faults.call_fault(CANCEL_ORDER)
            if faults.call_fault(PLACE_ORDER) is not None:
                fired.append(number)
        return fired

    # Draws of the other fault in between do not shift this fault's draws.
    assert place_order_subset(interleave=True) == place_order_subset(interleave=False)


def test_a_fault_stops_firing_at_its_expiry_in_sandbox_time() -> None:
    clock = SimulatedClock(START_MS)
    faults = registry(clock=clock)
    armed = faults.arm(drop_reply(), None, Trigger(), START_MS + 1_000)

    assert faults.call_fault(PLACE_ORDER) is not None
    clock.advance(999)
    assert faults.call_fault(PLACE_ORDER) is not None
    clock.advance(1)
    assert faults.call_fault(PLACE_ORDER) is None
    assert (armed.matched_count, armed.fired_count) == (2, 2)
    assert faults.list() == [armed], "an expired fault stays listed until cleared"


def test_a_full_method_matches_only_itself() -> None:
    faults = registry()
    faults.arm(drop_reply(PLACE_ORDER), None, Trigger(), None)

    assert faults.call_fault(PLACE_ORDER) is not None
    assert faults.call_fault(PLACE_ORDER + "s") is None
    assert faults.call_fault(CANCEL_ORDER) is None
    assert faults.call_fault(RESERVE) is None


def test_a_service_prefix_matches_every_method_of_the_service_only() -> None:
    faults = registry()
    faults.arm(drop_reply("/oes.exchange.v1.TradingService/"), None, Trigger(), None)

    assert faults.call_fault(PLACE_ORDER) is not None
    assert faults.call_fault(CANCEL_ORDER) is not None
    assert faults.call_fault(RESERVE) is None
    assert faults.call_fault("/oes.exchange.v1.TradingServiceExtra/PlaceOrder") is None


def test_a_prefix_without_the_slash_is_a_method_name_and_matches_nothing_else() -> None:
    faults = registry()
    faults.arm(drop_reply("/oes.exchange.v1.TradingService"), None, Trigger(), None)

    assert faults.call_fault(PLACE_ORDER) is None


@pytest.mark.parametrize(
    "method",
    [
        "/oes.control.v1.ControlService/ClearFaults",
        "/oes.control.v1.ControlService/SetFault",
        "/grpc.health.v1.Health/Check",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    ],
)
def test_control_health_and_reflection_are_never_faulted(method: str) -> None:
    faults = registry()
    prefix = method.rsplit("/", 1)[0] + "/"
    exact = faults.arm(drop_reply(method), None, Trigger(), None)
    whole_service = faults.arm(drop_reply(prefix), None, Trigger(), None)

    assert faults.call_fault(method) is None
    assert (exact.matched_count, whole_service.matched_count) == (0, 0)


def test_an_armed_crash_point_calls_the_crash_when_it_fires() -> None:
    faults = registry()
    armed = faults.arm(None, "allocation.LOCK.after_call", Trigger(TriggerKind.FIRST_CALLS, 1), None)

    faults.reach("allocation.LOCK.before_call")
    with pytest.raises(CrashReachedError) as crashed:
        faults.reach("allocation.LOCK.after_call")
    assert str(crashed.value) == "allocation.LOCK.after_call"
    faults.reach("allocation.LOCK.after_call")
    assert armed.fired_count == 1


def test_an_unarmed_crash_point_returns() -> None:
    faults = registry()
    faults.reach("allocation.LOCK.after_call")
    faults.arm(None, "allocation.LOCK.before_call", Trigger(), None)

    faults.reach("allocation.LOCK.after_call")


def test_a_crash_point_fault_never_faults_calls_and_a_call_fault_never_crashes() -> None:
    faults = registry()
    faults.arm(None, "allocation.LOCK.after_call", Trigger(), None)
    faults.arm(drop_reply("/oes.exchange.v1.TradingService/"), None, Trigger(), None)

    assert faults.call_fault(RESERVE) is None
    faults.reach("allocation.LOCK.before_call")


def test_reaching_an_undeclared_crash_point_is_a_programming_error() -> None:
    with pytest.raises(AssertionError):
        registry().reach("allocation.NOWHERE.after_call")


def test_arming_an_undeclared_crash_point_is_refused() -> None:
    faults = registry()

    with pytest.raises(ServiceError) as refused:
        faults.arm(None, "allocation.NOWHERE.after_call", Trigger(), None)

    error = refused.value
    assert (error.code, error.reason) == (ErrorCode.INVALID_ARGUMENT, "CRASH_POINT_UNKNOWN")
    assert [violation.field for violation in error.field_violations] == ["fault.crash_point.point"]
    assert faults.list() == []


def test_crash_points_are_listed_sorted() -> None:
    faults = registry()
    faults.add_crash_points(["settlement.CUTOFF.after_call", "allocation.LOCK.after_call"])

    assert faults.crash_points == [
        "allocation.LOCK.after_call",
        "allocation.LOCK.before_call",
        "settlement.CUTOFF.after_call",
    ]


def test_faults_are_named_in_arming_order_and_clear_by_name_or_all() -> None:
    faults = registry()
    for _ in range(3):
        faults.arm(drop_reply(), None, Trigger(), None)

    assert [fault.name for fault in faults.list()] == ["faults/1", "faults/2", "faults/3"]
    assert faults.clear("faults/2") == 1
    assert [fault.name for fault in faults.list()] == ["faults/1", "faults/3"]
    with pytest.raises(ServiceError) as missing:
        faults.clear("faults/2")
    assert (missing.value.code, missing.value.reason) == (ErrorCode.NOT_FOUND, "FAULT_NOT_FOUND")
    assert faults.arm(drop_reply(), None, Trigger(), None).name == "faults/4", "numbers are never reused"
    assert faults.clear() == 3
    assert faults.list() == []
    assert faults.call_fault(PLACE_ORDER) is None
    assert faults.clear() == 0


def test_at_most_faults_max_faults_may_be_armed() -> None:
    faults = registry()
    for _ in range(FAULTS_MAX):
        faults.arm(drop_reply(), None, Trigger(), None)

    with pytest.raises(ServiceError) as refused:
        faults.arm(None, "allocation.LOCK.after_call", Trigger(), None)

    assert (refused.value.code, refused.value.reason) == (ErrorCode.FAILED_PRECONDITION, "TOO_MANY_FAULTS")
    assert len(faults.list()) == FAULTS_MAX
    faults.clear("faults/1")
    assert faults.arm(drop_reply(), None, Trigger(), None).name == f"faults/{FAULTS_MAX + 1}"


def test_every_fault_counts_every_call_it_matches_even_when_another_fires() -> None:
    faults = registry()
    faults.arm(drop_reply(), None, Trigger(TriggerKind.FIRST_CALLS, 1), None)
    every_second = faults.arm(
        CallFault(PLACE_ORDER, CallFaultAction.DUPLICATE_DELIVERY),
        None,
        Trigger(TriggerKind.EVERY_NTH, 2),
        None,
    )

    actions = [getattr(faults.call_fault(PLACE_ORDER), "action", None) for _ in range(5)]

    assert every_second.matched_count == 5
    assert actions == [
        CallFaultAction.DROP_REPLY,
        CallFaultAction.DUPLICATE_DELIVERY,
        None,
        CallFaultAction.DUPLICATE_DELIVERY,
        None,
    ]
