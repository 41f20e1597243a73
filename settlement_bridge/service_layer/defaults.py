"""Exchange defaults: watch every exchange, and when one fails bring its clients' collateral home once.

An exchange is in default when it reports INSOLVENT, or when the bridge has not reached it for
longer than `default_grace` of sandbox time. The procedure is durable and idempotent: the
default is recorded when detected (new business on the exchange stops there), the custodian's
ReleaseOnDefault runs under a request_id fixed by the exchange (a repeat returns the recorded
result and moves nothing), and one transaction then marks every connection DEFAULTED with its
outcome, appends the events and completes the record. A default interrupted by a crash or an
unreachable custodian is finished at the next check or the next start.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Protocol

import structlog

from service_kit.clock import Clock
from service_kit.errors import ServiceError, failed_precondition
from service_kit.money import AssetScales
from settlement_bridge.domain.defaults import (
    EXCHANGE_DEFAULTED,
    ConnectionState,
    DefaultOutcome,
    ExchangeDefault,
    VenueHealthSnapshot,
    connection_outcome,
    default_reason,
)
from settlement_bridge.domain.events import EventKind
from settlement_bridge.domain.names import ConnectionName
from settlement_bridge.service_layer.ports import (
    CrashPoints,
    DefaultRelease,
    VenueRefusedError,
    VenueUnavailableError,
)
from settlement_bridge.service_layer.unit_of_work import Transaction, UnitOfWork
from settlement_bridge.service_layer.venues import Venues, derived_request_id

log = structlog.get_logger(__name__)

# Whether the custodian executes the exchange's latest verified, unexecuted statement before it
# returns the allocations. That statement is signed by the exchange and verified by the
# custodian: applying it pays the clients' signed gains out of the settlement account before
# that account is frozen for the estate, and takes only signed losses of a period that never
# completed, which the default bound allows (a client loses at most its unsettled loss).
APPLY_LAST_STATEMENT = True
VENUE_CHECK_INTERVAL_S_DEFAULT = 10
DEFAULT_GRACE_S_DEFAULT = 300
# Where QA can kill the bridge during a default: after the detection commits, around the
# custodian's procedure, and after the outcomes commit.
DEFAULT_CRASH_POINTS = [
    "default.DETECT.after_commit",
    "default.RELEASE.before_call",
    "default.RELEASE.after_call",
    "default.COMPLETE.after_commit",
]


class VenueHealthSource(Protocol):
    """How the bridge's calls to one venue have fared lately (the venue's caller)."""

    def health(self) -> VenueHealthSnapshot:
        """The circuit, consecutive failures and since when the venue has been unreachable."""
        ...


def exchange_defaulted(exchange_id: str) -> ServiceError:
    """FAILED_PRECONDITION EXCHANGE_DEFAULTED: nothing new runs on a defaulted exchange."""
    return failed_precondition(
        EXCHANGE_DEFAULTED,
        f"exchanges/{exchange_id} has defaulted; its connections take no new allocations, "
        "deallocations or settlements",
        exchange=f"exchanges/{exchange_id}",
    )


def check_not_defaulted(transaction: Transaction, exchange_id: str) -> None:
    """Refuses new business on an exchange whose default was detected (complete or not)."""
    if transaction.exchange_defaults.get(exchange_id) is not None:
        raise exchange_defaulted(exchange_id)


class DefaultMonitor:
    """Checks every exchange on a clock timer and runs the default procedure once per exchange."""

    def __init__(
        self,
        unit_of_work: UnitOfWork,
        venues: Venues,
        clock: Clock,
        assets: AssetScales,
        exchange_health: Mapping[str, VenueHealthSource],
        default_grace_ms: int,
        check_interval_ms: int,
        crash_points: CrashPoints,
        apply_last_statement: bool = APPLY_LAST_STATEMENT,
    ) -> None:
        assert default_grace_ms > 0 and check_interval_ms > 0
        assert set(exchange_health) == set(venues.exchanges), "every exchange has a health source"
        self._unit_of_work = unit_of_work
        self._venues = venues
        self._clock = clock
        self._assets = assets
        self._exchange_health = exchange_health
        self._default_grace_ms = default_grace_ms
        self._check_interval_ms = check_interval_ms
        self._apply_last_statement = apply_last_statement
        self._crash_points = crash_points
        # One check or procedure at a time per exchange: the timer, a start and a resume may meet.
        self._exchange_locks = {exchange_id: threading.Lock() for exchange_id in venues.exchanges}
        # The exchange's venue state as last read; in memory, a start reads it again.
        self._exchange_states: dict[str, str] = {}

    def is_defaulted(self, exchange_id: str) -> bool:
        """Whether the exchange's default was detected (its procedure may still be finishing)."""
        return self.exchange_default(exchange_id) is not None

    def exchange_default(self, exchange_id: str) -> ExchangeDefault | None:
        """The exchange's default record, or None."""
        with self._unit_of_work.transaction() as transaction:
            return transaction.exchange_defaults.get(exchange_id)

    def exchange_state(self, exchange_id: str) -> str:
        """The exchange's venue state as last read (`OPERATING`, `INSOLVENT`, ...); empty if unknown."""
        return self._exchange_states.get(exchange_id, "")

    def health(self, exchange_id: str) -> VenueHealthSnapshot:
        """How the bridge's calls to the exchange have fared lately."""
        return self._exchange_health[exchange_id].health()

    def start(self) -> None:
        """Finishes the defaults a crash interrupted, then checks every exchange on a timer."""
        self.resume()
        now_ms = self._clock.now_ms()
        for exchange_id in self._exchange_locks:
            self._schedule(exchange_id, now_ms + self._check_interval_ms)

    def resume(self) -> int:
        """Finishes every detected default whose procedure has not completed; returns how many did."""
        completed_count = 0
        for exchange_id, lock in self._exchange_locks.items():
            with lock:
                recorded = self.exchange_default(exchange_id)
                if recorded is not None and not recorded.complete:
                    completed_count += self._complete(recorded)
        return completed_count

    def check(self, exchange_id: str) -> None:
        """Checks one exchange once: runs its default when due, or finishes one still open.

        A defaulted exchange is not called any more; its checks only read the bridge's database
        (so that they watch it again after the control service's Reset emptied it).
        """
        assert exchange_id in self._exchange_locks, exchange_id
        with self._exchange_locks[exchange_id]:
            recorded = self.exchange_default(exchange_id)
            if recorded is not None:
                if not recorded.complete:
                    self._complete(recorded)
                return
            self._read_state(exchange_id)
            reason = default_reason(
                self._exchange_states.get(exchange_id, ""),
                self.health(exchange_id).unreachable_since_ms,
                self._clock.now_ms(),
                self._default_grace_ms,
            )
            if reason is not None:
                self._complete(self._detect(exchange_id, reason))

    def _schedule(self, exchange_id: str, due_ms: int) -> None:
        self._clock.schedule(due_ms, f"venue-check:{exchange_id}", lambda: self._run_check(exchange_id))

    def _run_check(self, exchange_id: str) -> None:
        # The next check is scheduled whatever happens to this one.
        try:
            self.check(exchange_id)
        finally:
            self._schedule(exchange_id, self._clock.now_ms() + self._check_interval_ms)

    def _read_state(self, exchange_id: str) -> None:
        """Asks the exchange for its venue state; a failed call counts against its circuit."""
        try:
            state = self._venues.exchange(exchange_id).get_venue().state
        except VenueUnavailableError as failure:
            log.info("venue_check_failed", exchange=exchange_id, reason=failure.reason)
            return
        except VenueRefusedError as refusal:
            log.warning("venue_check_refused", exchange=exchange_id, reason=refusal.reason)
            return
        if state:
            self._exchange_states[exchange_id] = state

    def _detect(self, exchange_id: str, reason: str) -> ExchangeDefault:
        """Records the default (new business stops) with the exchange's unsettled, if it can be read."""
        unsettled = self._read_unsettled(exchange_id)
        with self._unit_of_work.transaction() as transaction:
            recorded = transaction.exchange_defaults.get(exchange_id)
            if recorded is None:
                recorded = ExchangeDefault(exchange_id, reason, self._clock.now_ms(), unsettled)
                transaction.exchange_defaults.add(recorded)
        self._crash_points.reach("default.DETECT.after_commit")
        log.warning("exchange_default_detected", exchange=exchange_id, reason=recorded.reason)
        return recorded

    def _read_unsettled(self, exchange_id: str) -> dict[tuple[str, str], int]:
        """The exchange's non-zero `unsettled` per (connection, asset); empty when it cannot be read."""
        try:
            mirrors = self._venues.exchange(exchange_id).list_mirrors()
        except (VenueUnavailableError, VenueRefusedError) as failure:
            log.info("exchange_unsettled_unknown", exchange=exchange_id, error=str(failure))
            return {}
        suffix = f"/connections/{exchange_id}"
        return {
            (mirror.connection, mirror.asset): mirror.unsettled_units
            for mirror in mirrors
            if mirror.unsettled_units != 0 and mirror.connection.endswith(suffix)
        }

    def _complete(self, recorded: ExchangeDefault) -> bool:
        """Runs the custodian's procedure and records every connection's outcome; False if it must wait."""
        exchange_id = recorded.exchange_id
        self._crash_points.reach("default.RELEASE.before_call")
        try:
            release = self._venues.custodian.release_on_default(
                derived_request_id(f"default:{exchange_id}"),
                f"exchanges/{exchange_id}",
                self._apply_last_statement,
            )
        except VenueUnavailableError as failure:
            log.warning("exchange_default_waiting", exchange=exchange_id, reason=failure.reason)
            return False
        except VenueRefusedError as refusal:
            log.error(
                "exchange_default_refused",
                exchange=exchange_id,
                reason=refusal.reason,
                message=refusal.message,
            )
            return False
        self._crash_points.reach("default.RELEASE.after_call")
        now_ms = self._clock.now_ms()
        with self._unit_of_work.transaction() as transaction:
            current = transaction.exchange_defaults.get(exchange_id)
            assert current is not None, "a default is recorded before its procedure runs"
            if current.complete:
                return True
            connections = transaction.connections.list_of_exchange(exchange_id)
            self._append_exchange_event(transaction, recorded, release, len(connections))
            for connection in connections:
                if connection.state is ConnectionState.DEFAULTED:
                    continue
                outcome = connection_outcome(
                    recorded,
                    connection.name,
                    _of_party(release.returned_units, connection.connection.client_name),
                    _of_party(release.statement_settled_units, connection.name),
                    now_ms,
                )
                transaction.connections.mark_defaulted(connection.connection, outcome)
                self._append_connection_event(transaction, connection.connection, outcome)
            transaction.exchange_defaults.complete(exchange_id, now_ms)
        self._crash_points.reach("default.COMPLETE.after_commit")
        log.warning(
            "exchange_default_completed",
            exchange=exchange_id,
            reason=recorded.reason,
            connections=len(connections),
            last_statement=release.last_statement,
            last_statement_applied=release.last_statement_applied,
        )
        return True

    @staticmethod
    def _append_exchange_event(
        transaction: Transaction, recorded: ExchangeDefault, release: DefaultRelease, connections_count: int
    ) -> None:
        """Reports the exchange's default to the whole network."""
        transaction.events.append(
            EventKind.EXCHANGE_DEFAULT,
            f"exchanges/{recorded.exchange_id}",
            "",
            {
                "state": ConnectionState.DEFAULTED.value,
                "reason": recorded.reason,
                "connections": str(connections_count),
                "last_statement": release.last_statement,
                "last_statement_applied": "true" if release.last_statement_applied else "false",
                "last_statement_reason": release.last_statement_reason,
            },
        )

    def _append_connection_event(
        self, transaction: Transaction, connection: ConnectionName, outcome: DefaultOutcome
    ) -> None:
        """Reports one connection's outcome to its client: `principal_returned.BTC` and the like."""
        attributes = {
            "connection": connection.name,
            "exchange": connection.exchange_name,
            "state": ConnectionState.DEFAULTED.value,
            "reason": outcome.reason,
        }
        for prefix, amounts in (
            ("principal_returned", outcome.principal_returned),
            ("unsettled_at_risk", outcome.unsettled_at_risk),
        ):
            for asset, units in amounts:
                attributes[f"{prefix}.{asset}"] = self._assets.format(asset, units)
        transaction.events.append(EventKind.CONNECTION, connection.name, connection.client_name, attributes)


def _of_party(units: Mapping[tuple[str, str], int], party: str) -> dict[str, int]:
    """The amounts of one party (a client or a connection name), by asset."""
    return {asset: amount for (owner, asset), amount in units.items() if owner == party}
