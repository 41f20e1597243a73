"""What every integration test of a real server shares: its settings and the callers' tokens."""

from __future__ import annotations

from pathlib import Path

from service_kit.auth import Principal, TokenAuthority
from service_kit.clock import ClockMode
from service_kit.config import ServiceConfig
from service_kit.money import AssetScales

SECRET = "integration-secret"
START_MS = 1_767_225_600_000
ASSETS = AssetScales({"BTC": 8, "USDT": 6})


def service_config(data_dir: Path, seed: int = 1) -> ServiceConfig:
    """The settings of one service under test: port 0, simulated clock, the test secret."""
    return ServiceConfig(
        host="127.0.0.1",
        port=0,
        data_dir=data_dir,
        clock_mode=ClockMode.SIM,
        sim_start_ms=START_MS,
        auth_secret=SECRET,
        assets=ASSETS,
        seed=seed,
        log_format="json",
    )


def bearer(principal: Principal) -> tuple[tuple[str, str]]:
    """Call metadata carrying the principal's development token."""
    return (("authorization", f"Bearer {TokenAuthority(SECRET).issue(principal)}"),)
