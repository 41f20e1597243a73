"""Wires the bridge: SQLite, gRPC clients of the venues, workflows, servicers and the settlement timer."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NoReturn

import grpc
import structlog

from oes.bridge.v1 import bridge_pb2_grpc
from service_kit.auth import BRIDGE, TokenAuthority
from service_kit.clock import Clock
from service_kit.config import ServiceConfig, ServiceParts, authorized_channel
from service_kit.control import ControlServicer, control_registration
from service_kit.faults import FaultRegistry, exit_process
from service_kit.idempotency import RequestLog
from service_kit.server import ServiceRegistration
from settlement_bridge.adapters.custodian_client import GrpcCustodian
from settlement_bridge.adapters.exchange_client import GrpcExchange
from settlement_bridge.adapters.sqlite import SqliteUnitOfWork, open_database
from settlement_bridge.adapters.venue_calls import CircuitPolicy, RetryPolicy, VenueCaller, venue_random
from settlement_bridge.domain.settlement import SettlementStep
from settlement_bridge.domain.transfers import AllocationStep, DeallocationStep
from settlement_bridge.entrypoints.policy import (
    ADMIN_SERVICE_NAME,
    ERROR_DOMAIN,
    NETWORK_SERVICE_NAME,
    POLICY,
)
from settlement_bridge.entrypoints.servicers import BridgeAdminServicer, SettlementNetworkServicer
from settlement_bridge.entrypoints.venue_health import VenueHealthReport
from settlement_bridge.service_layer.allocations import AllocationWorkflow
from settlement_bridge.service_layer.connections import ConnectionService
from settlement_bridge.service_layer.deallocations import DeallocationWorkflow
from settlement_bridge.service_layer.defaults import (
    DEFAULT_CRASH_POINTS,
    DEFAULT_GRACE_S_DEFAULT,
    VENUE_CHECK_INTERVAL_S_DEFAULT,
    DefaultMonitor,
)
from settlement_bridge.service_layer.disputes import DisputeService
from settlement_bridge.service_layer.events import EventFeed
from settlement_bridge.service_layer.locks import StripedLocks
from settlement_bridge.service_layer.ports import ExchangePort
from settlement_bridge.service_layer.settlement import SettlementCycles
from settlement_bridge.service_layer.venues import Venues
from settlement_bridge.service_layer.workflows import crash_point_names

# Every place QA can kill the bridge: around each venue call and commit of every workflow.
CRASH_POINTS = (
    crash_point_names("allocation", AllocationStep)
    + crash_point_names("deallocation", DeallocationStep)
    + crash_point_names("settlement", SettlementStep)
    + DEFAULT_CRASH_POINTS
)

log = structlog.get_logger(__name__)

PORT_DEFAULT = 50053
CUSTODIAN_ADDRESS_DEFAULT = "127.0.0.1:50051"
EXCHANGE_DEFAULT = "okx-sim"
EXCHANGE_ADDRESS_DEFAULT = "127.0.0.1:50052"
SETTLEMENT_INTERVAL_S_DEFAULT = 3600


@dataclass(frozen=True)
class BridgeConfig(ServiceConfig):
    """The shared service settings plus where the venues are and how often to settle."""

    custodian_address: str = CUSTODIAN_ADDRESS_DEFAULT
    # Exchange id (`okx-sim`) to the address of its PartnerService.
    exchange_addresses: Mapping[str, str] = field(
        default_factory=lambda: {EXCHANGE_DEFAULT: EXCHANGE_ADDRESS_DEFAULT}
    )
    settlement_interval_s: int = SETTLEMENT_INTERVAL_S_DEFAULT
    # Per exchange id, a settlement interval of its own (sandbox seconds).
    exchange_intervals_s: Mapping[str, int] = field(default_factory=dict)
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    circuit_policy: CircuitPolicy = field(default_factory=CircuitPolicy)
    # An exchange unreachable for longer than this (sandbox seconds) is declared in default.
    default_grace_s: int = DEFAULT_GRACE_S_DEFAULT
    # Sandbox seconds between two checks of each exchange's venue state and reachability.
    venue_check_interval_s: int = VENUE_CHECK_INTERVAL_S_DEFAULT
    # Sandbox seconds after a cutoff during which clients may dispute the statement's entries; the
    # statement executes when the window closes (0: at once, no disputes).
    dispute_window_s: int = 0

    def __post_init__(self) -> None:
        assert self.exchange_addresses, "the bridge serves at least one exchange"
        assert self.settlement_interval_s > 0
        assert set(self.exchange_intervals_s) <= set(self.exchange_addresses), (
            "intervals of unknown exchanges"
        )
        assert all(interval_s > 0 for interval_s in self.exchange_intervals_s.values())
        assert self.default_grace_s > 0 and self.venue_check_interval_s > 0
        assert self.dispute_window_s >= 0


def add_bridge_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the bridge's own options."""
    parser.add_argument(
        "--custodian", default=CUSTODIAN_ADDRESS_DEFAULT, help="address of the custodian, host:port"
    )
    parser.add_argument(
        "--exchange",
        action="append",
        default=None,
        metavar="ID=HOST:PORT",
        help=f"an exchange the bridge serves (repeat); default {EXCHANGE_DEFAULT}={EXCHANGE_ADDRESS_DEFAULT}",
    )
    parser.add_argument(
        "--settlement-interval-s",
        type=int,
        default=SETTLEMENT_INTERVAL_S_DEFAULT,
        help="sandbox seconds between two scheduled settlement cycles of each exchange",
    )
    parser.add_argument(
        "--default-grace-s",
        type=int,
        default=DEFAULT_GRACE_S_DEFAULT,
        help="sandbox seconds an exchange may stay unreachable before the bridge declares it in default",
    )
    parser.add_argument(
        "--exchange-interval-s",
        action="append",
        default=None,
        metavar="ID=SECONDS",
        help="a settlement interval of one exchange's own (repeat); others use --settlement-interval-s",
    )
    parser.add_argument(
        "--dispute-window-s",
        type=int,
        default=0,
        help="sandbox seconds after each cutoff during which clients may dispute entries (0: none)",
    )
    parser.add_argument(
        "--venue-check-interval-s",
        type=int,
        default=VENUE_CHECK_INTERVAL_S_DEFAULT,
        help="sandbox seconds between two checks of each exchange's state",
    )


def parse_exchange_intervals(specs: list[str] | None, exchanges: Mapping[str, str]) -> dict[str, int]:
    """Reads `ID=SECONDS` settlement intervals of exchanges the bridge serves."""
    intervals: dict[str, int] = {}
    for spec in specs or []:
        exchange_id, separator, seconds = spec.partition("=")
        if not separator or exchange_id not in exchanges or not seconds.isdigit() or int(seconds) <= 0:
            raise ValueError(
                f"exchange interval {spec!r} must look like okx-sim=1800, for an exchange given in --exchange"
            )
        intervals[exchange_id] = int(seconds)
    return intervals


def parse_exchange_specs(specs: list[str] | None) -> dict[str, str]:
    """Reads `ID=HOST:PORT` exchange specs."""
    exchanges: dict[str, str] = {}
    for spec in specs or [f"{EXCHANGE_DEFAULT}={EXCHANGE_ADDRESS_DEFAULT}"]:
        exchange_id, separator, address = spec.partition("=")
        if not separator or not exchange_id or not address:
            raise ValueError(f"exchange spec {spec!r} must look like okx-sim=127.0.0.1:50052")
        if exchange_id in exchanges:
            raise ValueError(f"exchange {exchange_id!r} is given twice")
        exchanges[exchange_id] = address
    return exchanges


def bridge_config(service: ServiceConfig, arguments: argparse.Namespace) -> BridgeConfig:
    """Combines the shared settings with the bridge's own options."""
    if arguments.settlement_interval_s <= 0:
        raise ValueError("--settlement-interval-s must be positive")
    if arguments.dispute_window_s < 0:
        raise ValueError("--dispute-window-s must not be negative")
    if arguments.default_grace_s <= 0 or arguments.venue_check_interval_s <= 0:
        raise ValueError("--default-grace-s and --venue-check-interval-s must be positive")
    exchanges = parse_exchange_specs(arguments.exchange)
    return BridgeConfig(
        **{name: getattr(service, name) for name in ServiceConfig.__dataclass_fields__},
        custodian_address=arguments.custodian,
        exchange_addresses=exchanges,
        settlement_interval_s=arguments.settlement_interval_s,
        default_grace_s=arguments.default_grace_s,
        venue_check_interval_s=arguments.venue_check_interval_s,
        dispute_window_s=arguments.dispute_window_s,
        exchange_intervals_s=parse_exchange_intervals(arguments.exchange_interval_s, exchanges),
    )


def build(config: ServiceConfig, clock: Clock) -> ServiceParts:
    """Builds the bridge; a plain ServiceConfig gets the default venues and interval."""
    return build_bridge(config, clock, exit_process)


def builder(crash: Callable[[str], NoReturn]) -> Callable[[ServiceConfig, Clock], ServiceParts]:
    """A `build` whose armed crash points call `crash` (tests raise instead of ending the process)."""
    return lambda config, clock: build_bridge(config, clock, crash)


def build_bridge(config: ServiceConfig, clock: Clock, crash: Callable[[str], NoReturn]) -> ServiceParts:
    """Builds every part of the bridge; an armed crash point calls `crash`."""
    if not isinstance(config, BridgeConfig):
        config = BridgeConfig(**{name: getattr(config, name) for name in ServiceConfig.__dataclass_fields__})
    database = open_database(config.data_dir)
    request_log = RequestLog(database)
    unit_of_work = SqliteUnitOfWork(database, request_log, clock)
    token = TokenAuthority(config.auth_secret).issue(BRIDGE)
    channels: list[grpc.Channel] = []

    def channel(address: str) -> grpc.Channel:
        opened = authorized_channel(address, token)
        channels.append(opened)
        return opened

    def caller(venue: str) -> VenueCaller:
        return VenueCaller(
            venue,
            config.retry_policy,
            clock=clock,
            random_source=venue_random(config.seed, venue),
            circuit_policy=config.circuit_policy,
        )

    custodian_caller = caller("custodian")
    custodian = GrpcCustodian(channel(config.custodian_address), config.assets, custodian_caller)
    exchange_callers = {
        exchange_id: caller(f"exchanges/{exchange_id}") for exchange_id in config.exchange_addresses
    }
    exchanges: dict[str, ExchangePort] = {
        exchange_id: GrpcExchange(exchange_id, channel(address), config.assets, exchange_callers[exchange_id])
        for exchange_id, address in config.exchange_addresses.items()
    }
    venues = Venues(custodian, exchanges)
    locks = StripedLocks()
    faults = FaultRegistry(clock, config.seed, crash)
    faults.add_crash_points(CRASH_POINTS)
    connections = ConnectionService(unit_of_work, venues, clock)
    disputes = DisputeService(unit_of_work, venues, clock, config.assets, config.dispute_window_s * 1000)
    settlements = SettlementCycles(
        unit_of_work,
        venues,
        clock,
        config.assets,
        config.settlement_interval_s * 1000,
        faults,
        disputes,
        config.dispute_window_s * 1000,
        {exchange_id: seconds * 1000 for exchange_id, seconds in config.exchange_intervals_s.items()},
    )
    allocations = AllocationWorkflow(
        unit_of_work, venues, clock, locks, faults, config.assets, settlements.freeze_window
    )
    deallocations = DeallocationWorkflow(
        unit_of_work, venues, clock, locks, faults, config.assets, settlements.freeze_window
    )
    network = SettlementNetworkServicer(
        connections,
        allocations,
        deallocations,
        settlements,
        request_log,
        config.assets,
        EventFeed(unit_of_work),
        disputes,
    )
    default_monitor = DefaultMonitor(
        unit_of_work,
        venues,
        clock,
        config.assets,
        exchange_callers,
        config.default_grace_s * 1000,
        config.venue_check_interval_s * 1000,
        faults,
    )
    venue_health = VenueHealthReport(custodian_caller, default_monitor, list(exchanges))
    admin = BridgeAdminServicer(
        settlements, request_log, config.assets, venue_health=venue_health, disputes=disputes
    )
    control = ControlServicer(
        clock, request_log, database.delete_everything, journal=unit_of_work, faults=faults
    )

    def on_start() -> None:
        # A default a crash interrupted is finished first: its exchange's workflows stop there.
        default_monitor.start()
        # Unfinished workflows resume before the first scheduled cycle; a venue that is still
        # down leaves them pending for a client's retry, the next start or the next cycle.
        resumed = {
            "allocations": allocations.resume_pending(),
            "deallocations": deallocations.resume_pending(),
            "settlements": settlements.resume_running(),
        }
        log.info("workflows_resumed", **resumed)
        settlements.schedule()

    def on_stop() -> None:
        for opened in channels:
            opened.close()
        database.close()

    registrations = [
        ServiceRegistration(
            NETWORK_SERVICE_NAME,
            lambda server: bridge_pb2_grpc.add_SettlementNetworkServiceServicer_to_server(network, server),
        ),
        ServiceRegistration(
            ADMIN_SERVICE_NAME,
            lambda server: bridge_pb2_grpc.add_BridgeAdminServiceServicer_to_server(admin, server),
        ),
        control_registration(control),
    ]
    return ServiceParts(registrations, POLICY, ERROR_DOMAIN, on_stop, on_start, faults)
