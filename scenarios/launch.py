"""Runs a service module as `python -m` does, without the terminal-drawing library it never uses."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import runpy
import sys
from collections.abc import Sequence
from types import ModuleType

# The services log JSON or plain lines and never draw with rich, but structlog imports rich when it
# is installed (for pretty tracebacks), which costs about 60 ms of every start (measured with
# `python -X importtime`). The supervisor starts services often (each scenario, each crash), so it
# starts them without it; structlog then formats tracebacks plainly.
MODULES_NOT_LOADED = frozenset({"rich"})


class _NotLoaded(importlib.abc.MetaPathFinder):
    """Answers an import of a module in MODULES_NOT_LOADED (or below it) as not installed."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] in MODULES_NOT_LOADED:
            raise ModuleNotFoundError(f"{fullname} is not loaded in a sandbox service", name=fullname)
        return None


def main() -> None:
    """`python -m scenarios.launch MODULE ARGUMENTS...` runs `python -m MODULE ARGUMENTS...`."""
    assert len(sys.argv) >= 2, "usage: python -m scenarios.launch MODULE [ARGUMENTS...]"
    sys.meta_path.insert(0, _NotLoaded())
    module = sys.argv.pop(1)
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
