"""`python -m settlement_bridge`: serves the settlement bridge until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse

from service_kit.config import add_service_arguments, run_service, service_config
from settlement_bridge.bootstrap import PORT_DEFAULT, add_bridge_arguments, bridge_config, build


def main() -> None:
    """Parses the command line and serves."""
    parser = argparse.ArgumentParser(prog="python -m settlement_bridge", description=__doc__)
    add_service_arguments(parser, PORT_DEFAULT)
    add_bridge_arguments(parser)
    arguments = parser.parse_args()
    try:
        config = bridge_config(service_config(arguments), arguments)
    except ValueError as error:
        parser.error(str(error))
    run_service("settlement_bridge", config, build)


if __name__ == "__main__":
    main()
