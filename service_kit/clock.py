"""Injected sandbox time: a real clock for `oes up`, a simulated one moved only by the control API."""

from __future__ import annotations

import enum
import heapq
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import structlog

log = structlog.get_logger(__name__)

# A single AdvanceClock never runs more timers than this; a timer that keeps rescheduling
# itself in the past would otherwise spin forever.
TIMERS_PER_ADVANCE_MAX = 100_000


class ClockMode(enum.Enum):
    """How a clock moves."""

    REAL = "real"
    SIM = "sim"


TimerCallback = Callable[[], None]


@dataclass(order=True)
class _Timer:
    due_ms: int
    sequence: int
    name: str = field(compare=False)
    callback: TimerCallback = field(compare=False)


class Clock(Protocol):
    """What domain and service code may know about time."""

    mode: ClockMode

    def now_ms(self) -> int:
        """Returns sandbox time in milliseconds since the Unix epoch."""
        ...

    def schedule(self, due_ms: int, name: str, callback: TimerCallback) -> None:
        """Runs `callback` once sandbox time reaches `due_ms`."""
        ...

    def next_timer_ms(self) -> int | None:
        """Returns when the next timer falls due, or None."""
        ...

    def pending_timers(self, limit: int) -> list[tuple[int, str]]:
        """The `limit` soonest pending timers as (due ms, name), soonest first."""
        ...

    def advance(self, duration_ms: int) -> int:
        """Moves a simulated clock forward and returns how many timers ran."""
        ...

    def stop(self) -> None:
        """Stops firing timers; called once at shutdown."""
        ...


class _TimerQueue:
    """A heap of timers shared by both clocks; the caller holds the lock."""

    def __init__(self) -> None:
        self._heap: list[_Timer] = []
        self._sequence = 0

    def push(self, due_ms: int, name: str, callback: TimerCallback) -> None:
        self._sequence += 1
        heapq.heappush(self._heap, _Timer(due_ms, self._sequence, name, callback))

    def pop_due(self, now_ms: int) -> _Timer | None:
        if self._heap and self._heap[0].due_ms <= now_ms:
            return heapq.heappop(self._heap)
        return None

    def next_due_ms(self) -> int | None:
        return self._heap[0].due_ms if self._heap else None

    def soonest(self, limit: int) -> list[tuple[int, str]]:
        assert limit > 0, limit
        return [(timer.due_ms, timer.name) for timer in heapq.nsmallest(limit, self._heap)]


def _run_timer(timer: _Timer) -> None:
    # A failing timer must not stop the clock or the other timers: it is logged and the
    # work it stands for (for example a settlement cycle) resumes from its durable state.
    try:
        timer.callback()
    except Exception:
        log.exception("timer_failed", timer=timer.name, due_ms=timer.due_ms)


class SimulatedClock:
    """Time that moves only when asked; due timers run inside `advance`, in time order."""

    mode = ClockMode.SIM

    def __init__(self, start_ms: int) -> None:
        assert start_ms >= 0
        self._now_ms = start_ms
        self._timers = _TimerQueue()
        self._lock = threading.RLock()

    def now_ms(self) -> int:
        return self._now_ms

    def schedule(self, due_ms: int, name: str, callback: TimerCallback) -> None:
        with self._lock:
            self._timers.push(due_ms, name, callback)

    def next_timer_ms(self) -> int | None:
        with self._lock:
            return self._timers.next_due_ms()

    def pending_timers(self, limit: int) -> list[tuple[int, str]]:
        with self._lock:
            return self._timers.soonest(limit)

    def advance(self, duration_ms: int) -> int:
        assert duration_ms > 0, "callers validate the duration"
        # The lock is re-entrant and held for the whole advance so that two advances never
        # interleave; timers may schedule further timers from inside their callback.
        with self._lock:
            target_ms = self._now_ms + duration_ms
            timers_run_count = 0
            while timers_run_count < TIMERS_PER_ADVANCE_MAX:
                timer = self._timers.pop_due(target_ms)
                if timer is None:
                    break
                self._now_ms = max(self._now_ms, timer.due_ms)
                _run_timer(timer)
                timers_run_count += 1
            assert timers_run_count < TIMERS_PER_ADVANCE_MAX, "a timer keeps rescheduling itself"
            self._now_ms = target_ms
            return timers_run_count

    def stop(self) -> None:
        return None


class RealClock:
    """Wall-clock time; a daemon thread fires timers when they fall due."""

    mode = ClockMode.REAL

    def __init__(self) -> None:
        self._timers = _TimerQueue()
        self._condition = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._fire_due_timers, name="clock-timers", daemon=True)
        self._thread.start()

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def schedule(self, due_ms: int, name: str, callback: TimerCallback) -> None:
        with self._condition:
            self._timers.push(due_ms, name, callback)
            self._condition.notify()

    def next_timer_ms(self) -> int | None:
        with self._condition:
            return self._timers.next_due_ms()

    def pending_timers(self, limit: int) -> list[tuple[int, str]]:
        with self._condition:
            return self._timers.soonest(limit)

    def advance(self, duration_ms: int) -> int:
        raise AssertionError("the control service refuses to advance a real clock")

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            self._condition.notify()

    def _fire_due_timers(self) -> None:
        while True:
            with self._condition:
                if self._stopped:
                    return
                timer = self._timers.pop_due(self.now_ms())
                if timer is None:
                    next_due_ms = self._timers.next_due_ms()
                    wait_s = None if next_due_ms is None else max(0.0, (next_due_ms - self.now_ms()) / 1000)
                    self._condition.wait(timeout=wait_s)
                    continue
            _run_timer(timer)


def create_clock(mode: ClockMode, sim_start_ms: int) -> Clock:
    """Builds the clock a service runs on."""
    if mode is ClockMode.SIM:
        return SimulatedClock(sim_start_ms)
    return RealClock()
