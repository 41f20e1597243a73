"""The simulated clock runs due timers in time order inside the advance."""

from __future__ import annotations

from service_kit.clock import SimulatedClock


def test_timers_run_in_order_and_may_reschedule() -> None:
    clock = SimulatedClock(1_000)
    seen: list[tuple[str, int]] = []

    def hourly() -> None:
        seen.append(("hourly", clock.now_ms()))
        clock.schedule(clock.now_ms() + 3_600_000, "hourly", hourly)

    clock.schedule(1_000 + 3_600_000, "hourly", hourly)
    clock.schedule(1_000 + 60_000, "once", lambda: seen.append(("once", clock.now_ms())))

    assert clock.advance(2 * 3_600_000 + 5) == 3
    assert seen == [("once", 61_000), ("hourly", 3_601_000), ("hourly", 7_201_000)]
    assert clock.now_ms() == 7_201_005
    assert clock.next_timer_ms() == 10_801_000


def test_failing_timer_does_not_stop_the_others() -> None:
    clock = SimulatedClock(0)
    seen: list[int] = []

    def fail() -> None:
        raise RuntimeError("boom")

    clock.schedule(10, "fail", fail)
    clock.schedule(20, "ok", lambda: seen.append(clock.now_ms()))
    assert clock.advance(30) == 2
    assert seen == [20]


def test_pending_timers_are_listed_soonest_first_up_to_a_limit() -> None:
    clock = SimulatedClock(start_ms=0)
    for due_ms, name in ((30, "c"), (10, "a"), (20, "b")):
        clock.schedule(due_ms, name, lambda: None)

    assert clock.pending_timers(2) == [(10, "a"), (20, "b")]
    clock.advance(15)
    assert clock.pending_timers(100) == [(20, "b"), (30, "c")]
