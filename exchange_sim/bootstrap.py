"""Wires the exchange: SQLite store, statement signer, venue service, servicers and policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from exchange_sim.adapters.market_config import default_listings, listings_from_file
from exchange_sim.adapters.signing import Ed25519StatementSigner
from exchange_sim.adapters.sqlite_store import SqliteVenueStore, open_database
from exchange_sim.domain.market import DEFAULT_REFERENCE_PRICE
from exchange_sim.domain.venue import VenueSettings
from exchange_sim.entrypoints.admin import ExchangeAdminServicer, admin_registration
from exchange_sim.entrypoints.partner import PartnerServicer, partner_registration
from exchange_sim.entrypoints.policy import ERROR_DOMAIN, POLICY
from exchange_sim.entrypoints.trading import TradingServicer, trading_registration
from exchange_sim.service_layer.venue_service import VenueService
from service_kit.auth import IDENTIFIER_PATTERN
from service_kit.clock import Clock
from service_kit.config import ServiceConfig, ServiceParts
from service_kit.control import ControlServicer, control_registration
from service_kit.faults import FaultRegistry

PORT_DEFAULT = 50052
EXCHANGE_ID_DEFAULT = "okx-sim"


@dataclass(frozen=True)
class ExchangeOptions:
    """The exchange's own options beyond the shared service ones."""

    exchange_id: str = EXCHANGE_ID_DEFAULT
    reference_price: str = DEFAULT_REFERENCE_PRICE
    markets_file: Path | None = None

    def __post_init__(self) -> None:
        if not IDENTIFIER_PATTERN.fullmatch(self.exchange_id):
            raise ValueError(
                f"exchange id {self.exchange_id!r} must be lower case letters, digits and dashes"
            )


def venue_settings(config: ServiceConfig, options: ExchangeOptions) -> VenueSettings:
    """The venue's configuration: the markets file, or the default markets (BTC-USDT at the reference price).

    Raises ServiceError (a malformed amount) or ValueError (anything else a person must fix).
    """
    if options.markets_file is not None:
        listings = listings_from_file(options.markets_file, config.assets)
    else:
        listings = default_listings(config.assets, options.reference_price)
    return VenueSettings(
        exchange_id=options.exchange_id,
        seed=config.seed,
        assets=config.assets,
        listings=tuple(listings),
    )


def build_exchange(config: ServiceConfig, clock: Clock, options: ExchangeOptions) -> ServiceParts:
    """Builds every part of the exchange; the venue is loaded from its data directory."""
    settings = venue_settings(config, options)
    database = open_database(config.data_dir)
    store = SqliteVenueStore(database, clock)
    service = VenueService(
        settings, store, Ed25519StatementSigner(settings.exchange_id, settings.seed), clock
    )
    faults = FaultRegistry(clock, config.seed)
    control = ControlServicer(clock, store.request_log, service.reset, journal=store, faults=faults)
    return ServiceParts(
        registrations=[
            trading_registration(TradingServicer(service, config.assets)),
            partner_registration(PartnerServicer(service, config.assets)),
            admin_registration(ExchangeAdminServicer(service)),
            control_registration(control),
        ],
        policy=POLICY,
        error_domain=ERROR_DOMAIN,
        on_start=service.schedule_requotes,
        on_stop=database.close,
        faults=faults,
    )


def builder(options: ExchangeOptions) -> Callable[[ServiceConfig, Clock], ServiceParts]:
    """A `build` function for the given exchange options (what `python -m exchange_sim` runs)."""
    return lambda config, clock: build_exchange(config, clock, options)


def build(config: ServiceConfig, clock: Clock) -> ServiceParts:
    """Builds the default exchange, `okx-sim` around 60 000 USDT."""
    return build_exchange(config, clock, ExchangeOptions())
