"""The custodian's command-line options: the top-up window reaches the config, out of range is refused."""

from __future__ import annotations

import argparse

import pytest

from custodian_sim.bootstrap import (
    TOP_UP_WINDOW_MINUTES_MAX,
    CustodianConfig,
    add_custodian_arguments,
    custodian_config,
)
from service_kit.config import add_service_arguments, service_config


def parse(argv: list[str]) -> CustodianConfig:
    parser = argparse.ArgumentParser()
    add_service_arguments(parser, port_default=50051)
    add_custodian_arguments(parser)
    arguments = parser.parse_args(argv)
    return custodian_config(service_config(arguments), arguments)


def test_the_top_up_window_defaults_to_an_hour_and_can_be_set() -> None:
    assert parse([]).top_up_window_minutes == 60
    assert parse(["--top-up-window-minutes", "15"]).top_up_window_minutes == 15
    assert parse(["--top-up-window-minutes", "0"]).top_up_window_minutes == 0


@pytest.mark.parametrize("minutes", [-1, TOP_UP_WINDOW_MINUTES_MAX + 1])
def test_a_top_up_window_out_of_range_is_refused(minutes: int) -> None:
    with pytest.raises(ValueError, match="--top-up-window-minutes"):
        parse(["--top-up-window-minutes", str(minutes)])
