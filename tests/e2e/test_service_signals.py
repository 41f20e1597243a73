"""Every service stops cleanly on SIGINT and SIGTERM arriving together, as Ctrl-C under a supervisor sends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

# Hang guards, not speed checks: a service that misses its signals never exits at all.
START_WAIT_S = 60.0
EXIT_WAIT_S = 30.0
SIGNAL_ROUNDS = 5


@pytest.mark.parametrize("module", ["custodian_sim", "exchange_sim", "settlement_bridge"])
def test_a_service_stops_on_two_signals_at_once(module: str, tmp_path: Path) -> None:
    for round_number in range(SIGNAL_ROUNDS):
        data_dir = tmp_path / str(round_number)
        port_file = data_dir / "port"
        data_dir.mkdir()
        log_path = data_dir / "service.log"
        command = [sys.executable, "-m", module, "--port", "0", "--port-file", str(port_file)]
        command += ["--data-dir", str(data_dir), "--clock", "real", "--log-format", "json"]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            try:
                deadline_s = time.monotonic() + START_WAIT_S
                while not port_file.exists() and process.poll() is None and time.monotonic() < deadline_s:
                    time.sleep(0.05)
                assert port_file.exists(), log_path.read_text()

                # Ctrl-C reaches every process of the group while the supervisor sends SIGTERM.
                process.send_signal(signal.SIGINT)
                process.send_signal(signal.SIGTERM)

                assert process.wait(EXIT_WAIT_S) == 0, log_path.read_text()
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        assert '"event": "stopped"' in log_path.read_text()
