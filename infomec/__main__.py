"""``python -m infomec`` and the ``infomec`` console script.

The command's code is ``cli.py`` at the repository root. The wheel installs it as
``infomec/_cli/cli.py`` (pyproject's package-dir mapping), so that the wheel's top level
holds only ``infomec``. An editable install cannot map a lone file into the package, so
from a source checkout the same file is loaded from beside the package folder.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

_CHECKOUT_CLI = Path(__file__).resolve().parent.parent / "cli.py"


def _command() -> Callable[[Sequence[str] | None], int]:
    try:
        from infomec._cli.cli import main as command  # an installed wheel
    except ModuleNotFoundError:
        if not _CHECKOUT_CLI.is_file():
            raise
        spec = importlib.util.spec_from_file_location("infomec._cli.cli", _CHECKOUT_CLI)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        command = module.main
    return command


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``infomec`` command with ``argv`` (default: ``sys.argv[1:]``)."""
    return _command()(argv)


if __name__ == "__main__":
    raise SystemExit(main())
