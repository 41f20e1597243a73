"""The service launcher: runs a module as `python -m` does, its arguments intact, without rich."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = """\
import sys

try:
    import rich.console
except ModuleNotFoundError as error:
    print("not loaded:", error.name, sys.argv[1:], __name__)
else:
    print("loaded")
"""


def test_the_launched_module_gets_its_arguments_and_cannot_load_rich(tmp_path: Path) -> None:
    (tmp_path / "probe_service.py").write_text(PROBE)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}

    completed = subprocess.run(
        [sys.executable, "-m", "scenarios.launch", "probe_service", "--port", "0"],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
        timeout=60,
    )

    assert completed.stdout.strip() == "not loaded: rich ['--port', '0'] __main__"
