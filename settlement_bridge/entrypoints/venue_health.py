"""GetVenueHealth's answer: how the bridge sees the custodian and each exchange it serves."""

from __future__ import annotations

from oes.bridge.v1 import bridge_pb2
from service_kit.timestamps import to_timestamp
from settlement_bridge.domain.defaults import CircuitState, VenueHealthSnapshot
from settlement_bridge.service_layer.defaults import DefaultMonitor, VenueHealthSource

_CIRCUIT_STATES = {
    CircuitState.CLOSED: bridge_pb2.CIRCUIT_STATE_CLOSED,
    CircuitState.OPEN: bridge_pb2.CIRCUIT_STATE_OPEN,
    CircuitState.HALF_OPEN: bridge_pb2.CIRCUIT_STATE_HALF_OPEN,
}


def venue_health_message(
    snapshot: VenueHealthSnapshot, exchange_state: str = "", defaulted: bool = False
) -> bridge_pb2.VenueHealth:
    """One venue's VenueHealth message."""
    message = bridge_pb2.VenueHealth(
        venue=snapshot.venue,
        circuit_state=_CIRCUIT_STATES[snapshot.circuit_state],
        consecutive_failures=snapshot.consecutive_failures,
        exchange_state=exchange_state,
        defaulted=defaulted,
    )
    if snapshot.unreachable_since_ms is not None:
        message.unreachable_since.CopyFrom(to_timestamp(snapshot.unreachable_since_ms))
    return message


class VenueHealthReport:
    """Reads the venues' circuits and the exchanges' last known state and default."""

    def __init__(
        self, custodian: VenueHealthSource, monitor: DefaultMonitor, exchange_ids: list[str]
    ) -> None:
        self._custodian = custodian
        self._monitor = monitor
        self._exchange_ids = sorted(exchange_ids)

    def response(self) -> bridge_pb2.GetVenueHealthResponse:
        """The custodian first, then the exchanges by name."""
        venues = [venue_health_message(self._custodian.health())]
        for exchange_id in self._exchange_ids:
            venues.append(
                venue_health_message(
                    self._monitor.health(exchange_id),
                    self._monitor.exchange_state(exchange_id),
                    self._monitor.is_defaulted(exchange_id),
                )
            )
        return bridge_pb2.GetVenueHealthResponse(venues=venues)
