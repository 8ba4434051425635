"""Shared helpers of the benchmarks: machine description and result files."""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    """One line describing the machine and the library versions."""
    import numba
    import numpy
    import sklearn

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if "model name" in line]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    try:  # what else ran: timings on a loaded machine are not comparable
        load = " (load average {:.1f}, {:.1f}, {:.1f})".format(*os.getloadavg())
    except OSError:
        load = ""
    return (
        f"{cpu}, {os.cpu_count()} cores{load}; Python {platform.python_version()}, "
        f"numpy {numpy.__version__}, numba {numba.__version__}, scikit-learn {sklearn.__version__}"
    )


def command_line() -> str:
    """The command that produced a result file, relative to the project root."""
    return "python " + " ".join([f"benchmarks/{Path(sys.argv[0]).name}", *sys.argv[1:]])


def fastest(function, repeats: int) -> float:
    """Minimum wall seconds of ``repeats`` calls (after one warm-up call)."""
    function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)
