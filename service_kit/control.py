"""The ControlService every sandbox service exposes: read and advance the clock, reset."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import grpc

from oes.control.v1 import control_pb2, control_pb2_grpc
from service_kit.auth import ADMIN_ONLY, AuthorizationPolicy
from service_kit.clock import Clock, ClockMode
from service_kit.errors import ErrorCode, failed_precondition, invalid_argument, validate_reason_code
from service_kit.faults import (
    LATENCY_MS_MAX,
    PARTS_PER_MILLION,
    ArmedFault,
    CallFault,
    CallFaultAction,
    FaultRegistry,
    Trigger,
    TriggerKind,
)
from service_kit.idempotency import RequestLog
from service_kit.journal import JournalReader, JournalRecord
from service_kit.paging import parse_after_sequence
from service_kit.server import ServiceRegistration
from service_kit.streams import StreamSlots
from service_kit.timestamps import duration_ms, from_timestamp, to_timestamp

# Ten years of sandbox time in one call is plenty; more is almost surely a unit mistake.
ADVANCE_MS_MAX = 10 * 366 * 24 * 3600 * 1000

CONTROL_SERVICE_NAME = control_pb2.DESCRIPTOR.services_by_name["ControlService"].full_name
CONTROL_POLICY: AuthorizationPolicy = {CONTROL_SERVICE_NAME: ADMIN_ONLY}

_MODES = {ClockMode.REAL: control_pb2.CLOCK_MODE_REAL, ClockMode.SIM: control_pb2.CLOCK_MODE_SIM}
JOURNAL_PAGE_SIZE_DEFAULT = 1000
JOURNAL_PAGE_SIZE_MAX = 10_000
JOURNAL_STREAMS_MAX = 2
JOURNAL_STREAM_WAIT_S = 0.5
# A journal stream ends after this many reads (about a day of waiting); the caller resumes it.
JOURNAL_STREAM_ROUNDS_MAX = 200_000


class ControlServicer(control_pb2_grpc.ControlServiceServicer):
    """Admin control of one service's clock and data."""

    def __init__(
        self,
        clock: Clock,
        request_log: RequestLog,
        reset: Callable[[], None],
        journal: JournalReader | None = None,
        faults: FaultRegistry | None = None,
    ) -> None:
        self._clock = clock
        self._request_log = request_log
        self._reset = reset
        self._journal = journal
        self._faults = faults
        self._journal_streams = StreamSlots(JOURNAL_STREAMS_MAX, "JOURNAL_STREAMS_EXHAUSTED")

    def GetClock(
        self, request: control_pb2.GetClockRequest, context: grpc.ServicerContext
    ) -> control_pb2.GetClockResponse:
        response = control_pb2.GetClockResponse(
            now=to_timestamp(self._clock.now_ms()), mode=_MODES[self._clock.mode]
        )
        next_timer_ms = self._clock.next_timer_ms()
        if next_timer_ms is not None:
            response.next_timer_time.CopyFrom(to_timestamp(next_timer_ms))
        response.pending_timers.extend(
            control_pb2.PendingTimer(name=name, due_time=to_timestamp(due_ms))
            for due_ms, name in self._clock.pending_timers(PENDING_TIMERS_LISTED_MAX)
        )
        return response

    def AdvanceClock(
        self, request: control_pb2.AdvanceClockRequest, context: grpc.ServicerContext
    ) -> control_pb2.AdvanceClockResponse:
        advance_ms = duration_ms(request.duration)
        if not 0 < advance_ms <= ADVANCE_MS_MAX:
            raise invalid_argument(
                "DURATION_OUT_OF_RANGE", "duration", "must be positive and at most ten years, e.g. '3600s'"
            )
        if self._clock.mode is not ClockMode.SIM:
            raise failed_precondition(
                "CLOCK_NOT_SIMULATED", "this service runs on the real clock; start it with --clock sim"
            )
        stored = self._request_log.lookup("AdvanceClock", request, control_pb2.AdvanceClockResponse)
        if stored is not None:
            return stored
        # Timers run their own transactions, so the advance happens outside the one that
        # records the request; a crash in between is healed by the caller's retry.
        timers_run_count = self._clock.advance(advance_ms)
        response = control_pb2.AdvanceClockResponse(
            now=to_timestamp(self._clock.now_ms()), timers_run_count=timers_run_count
        )
        return self._request_log.run(
            "AdvanceClock", request, control_pb2.AdvanceClockResponse, lambda _: response, self._clock.now_ms
        )

    def Reset(
        self, request: control_pb2.ResetRequest, context: grpc.ServicerContext
    ) -> control_pb2.ResetResponse:
        stored = self._request_log.lookup("Reset", request, control_pb2.ResetResponse)
        if stored is not None:
            return stored
        self._reset()
        if self._faults is not None:
            # Empty means empty: a reset service has no faults armed either.
            self._faults.clear()
        response = control_pb2.ResetResponse(reset_time=to_timestamp(self._clock.now_ms()))
        return self._request_log.run(
            "Reset", request, control_pb2.ResetResponse, lambda _: response, self._clock.now_ms
        )

    def ListJournal(
        self, request: control_pb2.ListJournalRequest, context: grpc.ServicerContext
    ) -> control_pb2.ListJournalResponse:
        after_sequence = parse_after_sequence(request.after_sequence)
        page_size = request.page_size or JOURNAL_PAGE_SIZE_DEFAULT
        if not 1 <= page_size <= JOURNAL_PAGE_SIZE_MAX:
            raise invalid_argument(
                "PAGE_SIZE_INVALID", "page_size", f"must be 1 to {JOURNAL_PAGE_SIZE_MAX}, or 0 for 1000"
            )
        journal = self._kept_journal()
        last_sequence = journal.last_journal_sequence()
        return control_pb2.ListJournalResponse(
            events=[
                journal_event_message(record) for record in journal.read_journal(after_sequence, page_size)
            ],
            last_sequence=last_sequence,
        )

    def StreamJournal(
        self, request: control_pb2.StreamJournalRequest, context: grpc.ServicerContext
    ) -> Iterator[control_pb2.StreamJournalResponse]:
        after_sequence = parse_after_sequence(request.after_sequence)
        journal = self._kept_journal()
        with self._journal_streams.slot():
            for _ in range(JOURNAL_STREAM_ROUNDS_MAX):
                if not context.is_active():
                    return
                # Noted before the read: a commit between the read and the wait then ends the
                # wait at once instead of being missed.
                generation = journal.commit_signal.generation()
                records = journal.read_journal(after_sequence, JOURNAL_PAGE_SIZE_DEFAULT)
                for record in records:
                    yield control_pb2.StreamJournalResponse(event=journal_event_message(record))
                    after_sequence = record.sequence
                if len(records) < JOURNAL_PAGE_SIZE_DEFAULT:
                    journal.commit_signal.wait_for_commit(generation, JOURNAL_STREAM_WAIT_S)

    def SetFault(
        self, request: control_pb2.SetFaultRequest, context: grpc.ServicerContext
    ) -> control_pb2.SetFaultResponse:
        registry = self._fault_registry()
        call, crash_point = _parse_fault_kind(request.fault)
        trigger = _parse_trigger(request.fault)
        expire_ms = (
            from_timestamp(request.fault.expire_time) if request.fault.HasField("expire_time") else None
        )
        stored = self._request_log.lookup("SetFault", request, control_pb2.SetFaultResponse)
        if stored is not None:
            return stored
        fault = registry.arm(call, crash_point, trigger, expire_ms)
        response = control_pb2.SetFaultResponse(fault=fault_message(fault))
        return self._request_log.run(
            "SetFault", request, control_pb2.SetFaultResponse, lambda _: response, self._clock.now_ms
        )

    def ListFaults(
        self, request: control_pb2.ListFaultsRequest, context: grpc.ServicerContext
    ) -> control_pb2.ListFaultsResponse:
        registry = self._fault_registry()
        return control_pb2.ListFaultsResponse(
            faults=[fault_message(fault) for fault in registry.list()], crash_points=registry.crash_points
        )

    def ClearFaults(
        self, request: control_pb2.ClearFaultsRequest, context: grpc.ServicerContext
    ) -> control_pb2.ClearFaultsResponse:
        registry = self._fault_registry()
        if request.name and not _FAULT_NAME_PATTERN.fullmatch(request.name):
            raise invalid_argument(
                "FAULT_NAME_INVALID", "name", "a fault name like 'faults/3', or empty for all"
            )
        stored = self._request_log.lookup("ClearFaults", request, control_pb2.ClearFaultsResponse)
        if stored is not None:
            return stored
        response = control_pb2.ClearFaultsResponse(cleared_count=registry.clear(request.name))
        return self._request_log.run(
            "ClearFaults", request, control_pb2.ClearFaultsResponse, lambda _: response, self._clock.now_ms
        )

    def _fault_registry(self) -> FaultRegistry:
        if self._faults is None:
            raise failed_precondition("FAULTS_NOT_SUPPORTED", "this service takes no faults")
        return self._faults

    def _kept_journal(self) -> JournalReader:
        if self._journal is None:
            raise failed_precondition(
                "JOURNAL_NOT_KEPT",
                "this service keeps no event journal yet; read its audit log or events instead",
            )
        return self._journal


def control_registration(servicer: ControlServicer) -> ServiceRegistration:
    """Registers the control service on a server."""
    return ServiceRegistration(
        CONTROL_SERVICE_NAME,
        lambda server: control_pb2_grpc.add_ControlServiceServicer_to_server(servicer, server),
    )


def journal_event_message(record: JournalRecord) -> control_pb2.JournalEvent:
    """One journal record on the wire."""
    return control_pb2.JournalEvent(
        sequence=record.sequence,
        event_time=to_timestamp(record.time_ms),
        kind=record.kind,
        subject=record.subject,
        attributes=dict(record.attributes),
    )


_CALL_FAULT_ACTIONS = {
    control_pb2.CALL_FAULT_ACTION_ADD_LATENCY: CallFaultAction.ADD_LATENCY,
    control_pb2.CALL_FAULT_ACTION_RETURN_ERROR: CallFaultAction.RETURN_ERROR,
    control_pb2.CALL_FAULT_ACTION_DROP_REPLY: CallFaultAction.DROP_REPLY,
    control_pb2.CALL_FAULT_ACTION_DUPLICATE_DELIVERY: CallFaultAction.DUPLICATE_DELIVERY,
}
_CALL_FAULT_ACTIONS_TO_PROTO = {action: proto for proto, action in _CALL_FAULT_ACTIONS.items()}
# Every non-OK gRPC code may be injected, by its number.
_INJECTABLE_CODES = {
    status.value[0]: ErrorCode(status.name) for status in grpc.StatusCode if status is not grpc.StatusCode.OK
}
_CODE_NUMBERS = {code: number for number, code in _INJECTABLE_CODES.items()}
# GetClock lists at most this many of the soonest pending timers.
PENDING_TIMERS_LISTED_MAX = 100
_FAULT_NAME_PATTERN = re.compile(r"faults/[1-9][0-9]{0,17}")
_METHOD_PATTERN = re.compile(r"/[A-Za-z0-9_.]+/([A-Za-z0-9_]+)?")
_PROBABILITY_PATTERN = re.compile(r"(0(\.[0-9]{1,6})?|1(\.0{1,6})?)")


def _parse_fault_kind(fault: control_pb2.Fault) -> tuple[CallFault | None, str | None]:
    kind = fault.WhichOneof("kind")
    if kind == "crash_point":
        return None, fault.crash_point.point
    if kind != "call":
        raise invalid_argument("FAULT_KIND_MISSING", "fault", "set `call` or `crash_point`")
    call = fault.call
    if not _METHOD_PATTERN.fullmatch(call.method):
        raise invalid_argument(
            "METHOD_INVALID",
            "fault.call.method",
            "a full method like '/pkg.Service/Method' or a prefix '/pkg.Service/'",
        )
    action = _CALL_FAULT_ACTIONS.get(call.action)
    if action is None:
        raise invalid_argument(
            "CALL_FAULT_ACTION_INVALID", "fault.call.action", "choose a CALL_FAULT_ACTION_ value"
        )
    latency_ms = 0
    error_code = ErrorCode.UNAVAILABLE
    reason = call.reason or "INJECTED_FAULT"
    if action is CallFaultAction.ADD_LATENCY:
        latency_ms = duration_ms(call.latency)
        if not 0 < latency_ms <= LATENCY_MS_MAX:
            raise invalid_argument(
                "LATENCY_INVALID", "fault.call.latency", "must be positive and at most 30 s"
            )
    if action is CallFaultAction.RETURN_ERROR:
        code = _INJECTABLE_CODES.get(call.status_code)
        if code is None:
            raise invalid_argument(
                "STATUS_CODE_INVALID",
                "fault.call.status_code",
                "a non-OK gRPC code number, e.g. 14 (UNAVAILABLE)",
            )
        error_code = code
        validate_reason_code(reason, "fault.call.reason")
    return CallFault(call.method, action, latency_ms, error_code, reason), None


def _parse_trigger(fault: control_pb2.Fault) -> Trigger:
    if not fault.HasField("trigger"):
        return Trigger()
    trigger = fault.trigger
    when = trigger.WhichOneof("when")
    if when is None or (when == "always" and trigger.always):
        return Trigger()
    if when in ("first_calls", "every_nth"):
        value = getattr(trigger, when)
        if not 1 <= value <= 1_000_000_000:
            raise invalid_argument("TRIGGER_INVALID", f"fault.trigger.{when}", "must be 1 or more")
        return Trigger(TriggerKind.FIRST_CALLS if when == "first_calls" else TriggerKind.EVERY_NTH, value)
    if when == "probability":
        if not _PROBABILITY_PATTERN.fullmatch(trigger.probability):
            raise invalid_argument(
                "TRIGGER_INVALID",
                "fault.trigger.probability",
                'a decimal from 0 to 1 with at most 6 places, e.g. "0.25"',
            )
        whole, _, fraction = trigger.probability.partition(".")
        return Trigger(
            TriggerKind.PROBABILITY, int(whole) * PARTS_PER_MILLION + int(fraction.ljust(6, "0") or "0")
        )
    raise invalid_argument(
        "TRIGGER_INVALID", "fault.trigger.always", "`always` must be true when it is the trigger"
    )


def fault_message(fault: ArmedFault) -> control_pb2.Fault:
    """An armed fault on the wire."""
    message = control_pb2.Fault(name=fault.name, fired_count=fault.fired_count)
    if fault.crash_point is not None:
        message.crash_point.point = fault.crash_point
    else:
        call = fault.call
        assert call is not None
        message.call.method = call.method
        message.call.action = _CALL_FAULT_ACTIONS_TO_PROTO[call.action]
        if call.action is CallFaultAction.ADD_LATENCY:
            message.call.latency.FromMilliseconds(call.latency_ms)
        if call.action is CallFaultAction.RETURN_ERROR:
            message.call.status_code = _CODE_NUMBERS[call.error_code]
            message.call.reason = call.reason
    trigger = fault.trigger
    if trigger.kind is TriggerKind.ALWAYS:
        message.trigger.always = True
    elif trigger.kind is TriggerKind.FIRST_CALLS:
        message.trigger.first_calls = trigger.value
    elif trigger.kind is TriggerKind.EVERY_NTH:
        message.trigger.every_nth = trigger.value
    else:
        whole, fraction = divmod(trigger.value, PARTS_PER_MILLION)
        message.trigger.probability = f"{whole}.{fraction:06d}".rstrip("0").rstrip(".") or "0"
    if fault.expire_ms is not None:
        message.expire_time.CopyFrom(to_timestamp(fault.expire_ms))
    return message
