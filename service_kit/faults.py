"""Faults a scenario arms through the control service: call faults on incoming RPCs, and crash points.

Faults are data: the interceptor asks the registry whether a call is faulted, and the code that
owns a crash point asks whether to exit there. Randomness comes from the service's seed, so a
run with the same seed and the same calls fires the same faults.
"""

from __future__ import annotations

import enum
import os
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NoReturn

import structlog

from service_kit.clock import Clock
from service_kit.errors import ErrorCode, failed_precondition, invalid_argument, not_found

log = structlog.get_logger(__name__)

# The exit status of a process that reached an armed crash point, so a supervisor (and a
# scenario report) can tell an injected crash from a real one.
CRASH_POINT_EXIT_CODE = 86
FAULTS_MAX = 100
LATENCY_MS_MAX = 30_000
PARTS_PER_MILLION = 1_000_000
# Control calls are never faulted, so a scenario can always clear what it armed.
UNFAULTED_METHOD_PREFIXES = (
    "/oes.control.v1.ControlService/",
    "/grpc.health.v1.Health/",
    "/grpc.reflection.",
)


class CallFaultAction(enum.Enum):
    """What a call fault does to a matching call."""

    ADD_LATENCY = "ADD_LATENCY"
    RETURN_ERROR = "RETURN_ERROR"
    DROP_REPLY = "DROP_REPLY"
    DUPLICATE_DELIVERY = "DUPLICATE_DELIVERY"


class TriggerKind(enum.Enum):
    """How a fault chooses the matching calls it fires on."""

    ALWAYS = "ALWAYS"
    FIRST_CALLS = "FIRST_CALLS"
    EVERY_NTH = "EVERY_NTH"
    PROBABILITY = "PROBABILITY"


@dataclass(frozen=True)
class Trigger:
    """When a fault fires; `value` is N for FIRST_CALLS and EVERY_NTH, parts per million for PROBABILITY."""

    kind: TriggerKind = TriggerKind.ALWAYS
    value: int = 0

    def __post_init__(self) -> None:
        if self.kind in (TriggerKind.FIRST_CALLS, TriggerKind.EVERY_NTH):
            assert self.value >= 1, "callers validate N"
        if self.kind is TriggerKind.PROBABILITY:
            assert 0 <= self.value <= PARTS_PER_MILLION, "callers validate the probability"


@dataclass(frozen=True)
class CallFault:
    """A fault on incoming calls whose method starts with `method` (a full method or a service prefix)."""

    method: str
    action: CallFaultAction
    latency_ms: int = 0
    error_code: ErrorCode = ErrorCode.UNAVAILABLE
    reason: str = "INJECTED_FAULT"

    def matches(self, method: str) -> bool:
        """Whether a call of `method` is one this fault applies to."""
        return method == self.method or (self.method.endswith("/") and method.startswith(self.method))


@dataclass
class ArmedFault:
    """A fault as armed: exactly one of `call` and `crash_point` is set."""

    number: int
    call: CallFault | None
    crash_point: str | None
    trigger: Trigger
    expire_ms: int | None
    random_source: random.Random
    matched_count: int = 0
    fired_count: int = 0

    def __post_init__(self) -> None:
        assert (self.call is None) != (self.crash_point is None), "a fault is a call fault or a crash point"

    @property
    def name(self) -> str:
        """Resource name, `faults/{number}`."""
        return f"faults/{self.number}"

    def fires(self, now_ms: int) -> bool:
        """Counts one matching call (or pass) and says whether the fault fires on it."""
        if self.expire_ms is not None and now_ms >= self.expire_ms:
            return False
        self.matched_count += 1
        trigger = self.trigger
        if trigger.kind is TriggerKind.FIRST_CALLS:
            fired = self.matched_count <= trigger.value
        elif trigger.kind is TriggerKind.EVERY_NTH:
            fired = self.matched_count % trigger.value == 0
        elif trigger.kind is TriggerKind.PROBABILITY:
            # One draw per matching call, from this fault's own seeded source.
            fired = self.random_source.randrange(PARTS_PER_MILLION) < trigger.value
        else:
            fired = True
        self.fired_count += fired
        return fired


def exit_process(point: str) -> NoReturn:
    """Ends the process at once, as a crash would: no clean-up, no commit of anything open."""
    log.warning("crash_point_reached", point=point, exit_code=CRASH_POINT_EXIT_CODE)
    os._exit(CRASH_POINT_EXIT_CODE)


@dataclass
class FaultRegistry:
    """The faults armed on one service, and the crash points its code has."""

    clock: Clock
    seed: int
    crash: Callable[[str], NoReturn] = exit_process
    _faults: list[ArmedFault] = field(default_factory=list)
    _crash_points: set[str] = field(default_factory=set)
    _last_number: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_crash_points(self, points: Iterable[str]) -> None:
        """Declares crash points (at start-up), so they can be listed and armed."""
        with self._lock:
            self._crash_points.update(points)

    @property
    def crash_points(self) -> list[str]:
        """Every declared crash point, sorted."""
        with self._lock:
            return sorted(self._crash_points)

    def arm(
        self,
        call: CallFault | None,
        crash_point: str | None,
        trigger: Trigger,
        expire_ms: int | None,
    ) -> ArmedFault:
        """Arms a fault; refuses an unknown crash point and more than FAULTS_MAX faults."""
        with self._lock:
            if crash_point is not None and crash_point not in self._crash_points:
                raise invalid_argument(
                    "CRASH_POINT_UNKNOWN",
                    "fault.crash_point.point",
                    f"{crash_point!r} is not a crash point of this service; ListFaults lists them",
                )
            if len(self._faults) >= FAULTS_MAX:
                raise failed_precondition("TOO_MANY_FAULTS", f"at most {FAULTS_MAX} faults may be armed")
            self._last_number += 1
            fault = ArmedFault(
                self._last_number,
                call,
                crash_point,
                trigger,
                expire_ms,
                random.Random(f"{self.seed}:faults/{self._last_number}"),
            )
            self._faults.append(fault)
            log.info("fault_armed", fault=fault.name, crash_point=crash_point, call=call)
            return fault

    def list(self) -> list[ArmedFault]:
        """The armed faults, in arming order."""
        with self._lock:
            return list(self._faults)

    def clear(self, name: str = "") -> int:
        """Disarms one fault by name, or all; returns how many."""
        with self._lock:
            if not name:
                count = len(self._faults)
                self._faults.clear()
                return count
            kept = [fault for fault in self._faults if fault.name != name]
            if len(kept) == len(self._faults):
                raise not_found("FAULT_NOT_FOUND", f"{name} is not armed", fault=name)
            self._faults = kept
            return 1

    def reach(self, point: str) -> None:
        """Called by the code at a crash point: exits the process when a fault armed there fires."""
        assert point in self._crash_points, f"crash point {point} was not declared"
        if not self._faults:
            return
        with self._lock:
            now_ms = self.clock.now_ms()
            # Every fault armed here counts this pass, whether or not an earlier one fires.
            fired = [fault for fault in self._faults if fault.crash_point == point and fault.fires(now_ms)]
        if fired:
            self.crash(point)

    def call_fault(self, method: str) -> CallFault | None:
        """The first armed call fault that matches `method` and fires on this call, if any."""
        if not self._faults or method.startswith(UNFAULTED_METHOD_PREFIXES):
            return None
        with self._lock:
            now_ms = self.clock.now_ms()
            # Every matching fault counts this call (its every_nth and first_calls count all of
            # them), and the first one that fires decides what happens to it.
            fired = [
                fault
                for fault in self._faults
                if fault.call is not None and fault.call.matches(method) and fault.fires(now_ms)
            ]
        if not fired:
            return None
        first = fired[0].call
        assert first is not None
        log.info("call_fault_fired", fault=fired[0].name, method=method, action=first.action.value)
        return first
