"""`python -m exchange_sim`: serves the exchange until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
from pathlib import Path

from exchange_sim.bootstrap import (
    EXCHANGE_ID_DEFAULT,
    PORT_DEFAULT,
    ExchangeOptions,
    builder,
    venue_settings,
)
from exchange_sim.domain.market import DEFAULT_REFERENCE_PRICE
from service_kit.config import add_service_arguments, run_service, service_config
from service_kit.errors import ServiceError


def main() -> None:
    """Parses the command line and serves."""
    parser = argparse.ArgumentParser(prog="python -m exchange_sim", description=__doc__)
    add_service_arguments(parser, PORT_DEFAULT)
    parser.add_argument("--exchange", default=EXCHANGE_ID_DEFAULT, help="the venue's exchange id")
    parser.add_argument(
        "--reference-price",
        default=DEFAULT_REFERENCE_PRICE,
        help="BTC-USDT price the market maker quotes around (without --markets-file)",
    )
    parser.add_argument(
        "--markets-file",
        type=Path,
        default=None,
        help="YAML file listing the markets, their sizes, fees, house quotes and price paths",
    )
    arguments = parser.parse_args()
    try:
        options = ExchangeOptions(
            exchange_id=arguments.exchange,
            reference_price=arguments.reference_price,
            markets_file=arguments.markets_file,
        )
        config = service_config(arguments)
        # Build the settings now so that a bad value is a usage error, not a crash at start-up.
        venue_settings(config, options)
        build = builder(options)
    except (ValueError, ServiceError) as error:
        parser.error(str(error))
    run_service("exchange_sim", config, build)


if __name__ == "__main__":
    main()
