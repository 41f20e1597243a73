"""`python -m custodian_sim`: serves the custodian until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import gc
from collections.abc import Sequence

from custodian_sim.bootstrap import PORT_DEFAULT, add_custodian_arguments, build, custodian_config
from service_kit.config import add_service_arguments, run_service, service_config

# Executing a statement of 20,000 entries allocates a few hundred thousand objects that live
# until it commits; with CPython's default thresholds (700, 10, 10) the collector traversed
# them about 350 times, twice in full, for a tenth of the execution. Young objects are
# collected every 50,000 allocations instead.
GARBAGE_COLLECTION_THRESHOLDS = (50_000, 20, 20)


def main(argv: Sequence[str] | None = None) -> None:
    """Parses the command line and serves."""
    parser = argparse.ArgumentParser(
        prog="python -m custodian_sim",
        description="The OES sandbox custodian: segregated custody and settlement execution over gRPC.",
    )
    add_service_arguments(parser, port_default=PORT_DEFAULT)
    add_custodian_arguments(parser)
    arguments = parser.parse_args(argv)
    try:
        config = custodian_config(service_config(arguments), arguments)
    except ValueError as error:
        parser.error(str(error))
    # What the imports created lives as long as the process: the collector need not look at it.
    gc.freeze()
    gc.set_threshold(*GARBAGE_COLLECTION_THRESHOLDS)
    run_service("custodian_sim", config, build)


if __name__ == "__main__":
    main()
