"""The ControlService every sandbox service exposes: read and advance the clock, reset."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc

from oes.control.v1 import control_pb2, control_pb2_grpc
from service_kit.auth import ADMIN_ONLY, AuthorizationPolicy
from service_kit.clock import Clock, ClockMode
from service_kit.errors import failed_precondition, invalid_argument
from service_kit.idempotency import RequestLog
from service_kit.journal import JournalReader, JournalRecord
from service_kit.paging import parse_after_sequence
from service_kit.server import ServiceRegistration
from service_kit.streams import StreamSlots
from service_kit.timestamps import duration_ms, to_timestamp

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
    ) -> None:
        self._clock = clock
        self._request_log = request_log
        self._reset = reset
        self._journal = journal
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
