"""Wires the custodian's concrete parts together; the only module that picks implementations."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import structlog

from custodian_sim.adapters.schema import MIGRATIONS
from custodian_sim.adapters.signature_verifier import Ed25519SignatureVerifier
from custodian_sim.adapters.sqlite_checkpoints import BackgroundCheckpoints
from custodian_sim.adapters.sqlite_unit_of_work import SqliteRequestRunner
from custodian_sim.entrypoints.policy import ERROR_DOMAIN, POLICY
from custodian_sim.entrypoints.servicers import custodian_registrations
from custodian_sim.entrypoints.statement_settlement import SettlementHandlers
from custodian_sim.entrypoints.withdrawals import WithdrawalHandlers
from custodian_sim.service_layer.services import CustodianService
from custodian_sim.service_layer.statement_settlement import TOP_UP_WINDOW_MINUTES_DEFAULT, TopUpTimers
from custodian_sim.service_layer.withdrawals import WithdrawalService, WithdrawalSettings
from service_kit.clock import Clock
from service_kit.config import ServiceConfig, ServiceParts
from service_kit.control import ControlServicer, control_registration
from service_kit.database import Database
from service_kit.faults import FaultRegistry
from service_kit.idempotency import RequestLog

log = structlog.get_logger(__name__)

DATABASE_FILE_NAME = "custodian.sqlite3"
PORT_DEFAULT = 50051
WHITELIST_COOLING_OFF_MINUTES_DEFAULT = 60
WITHDRAWAL_CONFIRMATION_MINUTES_DEFAULT = 10
# A week of sandbox time is far beyond any cooling-off or confirmation a test wants.
WITHDRAWAL_MINUTES_MAX = 7 * 24 * 60
MINUTE_MS = 60_000
# How long a statement waits for the exchange to top up its settlement account; a week at most.
TOP_UP_WINDOW_MINUTES_MAX = 7 * 24 * 60


@dataclass(frozen=True)
class CustodianConfig(ServiceConfig):
    """The shared service settings plus the custodian's withdrawal and top-up timings, in sandbox minutes."""

    whitelist_cooling_off_minutes: int = WHITELIST_COOLING_OFF_MINUTES_DEFAULT
    withdrawal_confirmation_minutes: int = WITHDRAWAL_CONFIRMATION_MINUTES_DEFAULT
    top_up_window_minutes: int = TOP_UP_WINDOW_MINUTES_DEFAULT

    def __post_init__(self) -> None:
        assert 0 <= self.whitelist_cooling_off_minutes <= WITHDRAWAL_MINUTES_MAX
        assert 0 <= self.withdrawal_confirmation_minutes <= WITHDRAWAL_MINUTES_MAX
        assert 0 <= self.top_up_window_minutes <= TOP_UP_WINDOW_MINUTES_MAX

    @property
    def withdrawal_settings(self) -> WithdrawalSettings:
        """The timings in milliseconds, as the withdrawal use cases take them."""
        return WithdrawalSettings(
            cooling_off_ms=self.whitelist_cooling_off_minutes * MINUTE_MS,
            confirmation_ms=self.withdrawal_confirmation_minutes * MINUTE_MS,
        )


def add_custodian_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the custodian's own options."""
    parser.add_argument(
        "--whitelist-cooling-off-minutes",
        type=int,
        default=WHITELIST_COOLING_OFF_MINUTES_DEFAULT,
        help="sandbox minutes before a newly whitelisted address may receive withdrawals",
    )
    parser.add_argument(
        "--withdrawal-confirmation-minutes",
        type=int,
        default=WITHDRAWAL_CONFIRMATION_MINUTES_DEFAULT,
        help="sandbox minutes the simulated chain takes to confirm a broadcast withdrawal",
    )
    parser.add_argument(
        "--top-up-window-minutes",
        type=int,
        default=TOP_UP_WINDOW_MINUTES_DEFAULT,
        help="sandbox minutes a statement whose gains the exchange cannot pay waits for a top-up "
        "before what can settle settles and the unpaid gains become claims",
    )


def custodian_config(service: ServiceConfig, arguments: argparse.Namespace) -> CustodianConfig:
    """Combines the shared settings with the custodian's own options; ValueError when out of range."""
    for option, minutes in (
        ("--whitelist-cooling-off-minutes", arguments.whitelist_cooling_off_minutes),
        ("--withdrawal-confirmation-minutes", arguments.withdrawal_confirmation_minutes),
    ):
        if not 0 <= minutes <= WITHDRAWAL_MINUTES_MAX:
            raise ValueError(f"{option} must be between 0 and {WITHDRAWAL_MINUTES_MAX}")
    if not 0 <= arguments.top_up_window_minutes <= TOP_UP_WINDOW_MINUTES_MAX:
        raise ValueError(f"--top-up-window-minutes must be between 0 and {TOP_UP_WINDOW_MINUTES_MAX}")
    return CustodianConfig(
        **{name: getattr(service, name) for name in ServiceConfig.__dataclass_fields__},
        whitelist_cooling_off_minutes=arguments.whitelist_cooling_off_minutes,
        withdrawal_confirmation_minutes=arguments.withdrawal_confirmation_minutes,
        top_up_window_minutes=arguments.top_up_window_minutes,
    )


def database_path(config: ServiceConfig) -> Path:
    """Where the custodian keeps its SQLite file."""
    return config.data_dir / DATABASE_FILE_NAME


def build(config: ServiceConfig, clock: Clock) -> ServiceParts:
    """Builds the custodian: its database, use cases, servicers and authorization policy.

    A plain ServiceConfig gets the default withdrawal timings.
    """
    if not isinstance(config, CustodianConfig):
        config = CustodianConfig(
            **{name: getattr(config, name) for name in ServiceConfig.__dataclass_fields__}
        )
    # The ledger is the custodian's book of record: every commit reaches the disk.
    database = Database(database_path(config), MIGRATIONS, synchronous="FULL")
    request_log = RequestLog(database)
    checkpoints = BackgroundCheckpoints(database)
    runner = SqliteRequestRunner(database, request_log, config.assets, clock, checkpoints=checkpoints)
    service = CustodianService(
        clock,
        config.assets,
        Ed25519SignatureVerifier(),
        top_up_window_ms=config.top_up_window_minutes * MINUTE_MS,
    )
    top_up_timers = TopUpTimers(clock, runner, service.statement_settlement)
    statements = SettlementHandlers(service, runner, config.assets, top_up_timers)
    withdrawal_service = WithdrawalService(clock, config.assets, config.withdrawal_settings, runner)
    withdrawals = WithdrawalHandlers(withdrawal_service, runner, config.assets, clock)
    faults = FaultRegistry(clock, config.seed)
    control = ControlServicer(clock, request_log, database.delete_everything, faults=faults)
    return ServiceParts(
        registrations=[
            *custodian_registrations(service, runner, config.assets, withdrawals, statements),
            control_registration(control),
        ],
        policy=POLICY,
        error_domain=ERROR_DOMAIN,
        on_stop=lambda: _stop(checkpoints, database),
        faults=faults,
        on_start=lambda: _start(checkpoints, withdrawal_service, top_up_timers),
    )


def _start(
    checkpoints: BackgroundCheckpoints, withdrawal_service: WithdrawalService, top_up_timers: TopUpTimers
) -> None:
    checkpoints.start()
    # Timers live in memory: a restart schedules the chain confirmation of every withdrawal
    # that was broadcast but not yet confirmed, and the deadline of every statement still
    # waiting for a top-up.
    log.info("withdrawal_confirmations_rescheduled", count=withdrawal_service.reschedule_confirmations())
    log.info("top_up_deadlines_rescheduled", count=top_up_timers.reschedule())


def _stop(checkpoints: BackgroundCheckpoints, database: Database) -> None:
    # The checkpoint thread uses the database: it stops before the connections close.
    checkpoints.stop()
    database.close()
