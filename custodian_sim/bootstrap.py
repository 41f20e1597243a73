"""Wires the custodian's concrete parts together; the only module that picks implementations."""

from __future__ import annotations

from pathlib import Path

from custodian_sim.adapters.schema import MIGRATIONS
from custodian_sim.adapters.signature_verifier import Ed25519SignatureVerifier
from custodian_sim.adapters.sqlite_unit_of_work import SqliteRequestRunner
from custodian_sim.entrypoints.policy import ERROR_DOMAIN, POLICY
from custodian_sim.entrypoints.servicers import custodian_registrations
from custodian_sim.service_layer.services import CustodianService
from service_kit.clock import Clock
from service_kit.config import ServiceConfig, ServiceParts
from service_kit.control import ControlServicer, control_registration
from service_kit.database import Database
from service_kit.idempotency import RequestLog

DATABASE_FILE_NAME = "custodian.sqlite3"
PORT_DEFAULT = 50051


def database_path(config: ServiceConfig) -> Path:
    """Where the custodian keeps its SQLite file."""
    return config.data_dir / DATABASE_FILE_NAME


def build(config: ServiceConfig, clock: Clock) -> ServiceParts:
    """Builds the custodian: its database, use cases, servicers and authorization policy."""
    # The ledger is the custodian's book of record: every commit reaches the disk.
    database = Database(database_path(config), MIGRATIONS, synchronous="FULL")
    request_log = RequestLog(database)
    runner = SqliteRequestRunner(database, request_log, config.assets, clock)
    service = CustodianService(clock, config.assets, Ed25519SignatureVerifier())
    control = ControlServicer(clock, request_log, database.delete_everything)
    return ServiceParts(
        registrations=[
            *custodian_registrations(service, runner, config.assets),
            control_registration(control),
        ],
        policy=POLICY,
        error_domain=ERROR_DOMAIN,
        on_stop=database.close,
    )
