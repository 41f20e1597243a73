"""Wires the exchange: SQLite store, statement signer, venue service, servicers and policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from exchange_sim.adapters.signing import Ed25519StatementSigner
from exchange_sim.adapters.sqlite_store import SqliteVenueStore, open_database
from exchange_sim.domain.market import DEFAULT_QUOTE_ASSET, DEFAULT_REFERENCE_PRICE, default_market
from exchange_sim.domain.market_maker import default_market_maker_settings
from exchange_sim.domain.venue import VenueSettings
from exchange_sim.entrypoints.partner import PartnerServicer, partner_registration
from exchange_sim.entrypoints.policy import ERROR_DOMAIN, POLICY
from exchange_sim.entrypoints.trading import TradingServicer, trading_registration
from exchange_sim.service_layer.venue_service import VenueService
from service_kit.auth import IDENTIFIER_PATTERN
from service_kit.clock import Clock
from service_kit.config import ServiceConfig, ServiceParts
from service_kit.control import ControlServicer, control_registration

PORT_DEFAULT = 50052
EXCHANGE_ID_DEFAULT = "okx-sim"


@dataclass(frozen=True)
class ExchangeOptions:
    """The exchange's own options beyond the shared service ones."""

    exchange_id: str = EXCHANGE_ID_DEFAULT
    reference_price: str = DEFAULT_REFERENCE_PRICE

    def __post_init__(self) -> None:
        if not IDENTIFIER_PATTERN.fullmatch(self.exchange_id):
            raise ValueError(
                f"exchange id {self.exchange_id!r} must be lower case letters, digits and dashes"
            )


def venue_settings(config: ServiceConfig, options: ExchangeOptions) -> VenueSettings:
    """The venue's configuration from the command line: BTC-USDT around the reference price.

    Raises ServiceError (a malformed price) or ValueError (a price off the tick).
    """
    reference_price_units = config.assets.parse(
        DEFAULT_QUOTE_ASSET, options.reference_price, "reference_price"
    )
    tick_units = default_market(config.assets).tick_units
    if reference_price_units % tick_units:
        raise ValueError(f"reference price {options.reference_price} is not a multiple of the tick size")
    market = default_market(config.assets, reference_price_units)
    return VenueSettings(
        exchange_id=options.exchange_id,
        seed=config.seed,
        assets=config.assets,
        market=market,
        market_maker=default_market_maker_settings(market),
    )


def build_exchange(config: ServiceConfig, clock: Clock, options: ExchangeOptions) -> ServiceParts:
    """Builds every part of the exchange; the venue is loaded from its data directory."""
    settings = venue_settings(config, options)
    database = open_database(config.data_dir)
    store = SqliteVenueStore(database, clock)
    service = VenueService(
        settings, store, Ed25519StatementSigner(settings.exchange_id, settings.seed), clock
    )
    control = ControlServicer(clock, store.request_log, service.reset)
    return ServiceParts(
        registrations=[
            trading_registration(TradingServicer(service, config.assets)),
            partner_registration(PartnerServicer(service, config.assets)),
            control_registration(control),
        ],
        policy=POLICY,
        error_domain=ERROR_DOMAIN,
        on_stop=database.close,
    )


def builder(options: ExchangeOptions) -> Callable[[ServiceConfig, Clock], ServiceParts]:
    """A `build` function for the given exchange options (what `python -m exchange_sim` runs)."""
    return lambda config, clock: build_exchange(config, clock, options)


def build(config: ServiceConfig, clock: Clock) -> ServiceParts:
    """Builds the default exchange, `okx-sim` around 60 000 USDT."""
    return build_exchange(config, clock, ExchangeOptions())
