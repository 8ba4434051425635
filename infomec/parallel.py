"""How many workers to use, and scoped control of numba's thread count."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import numba


def resolve_n_jobs(n_jobs: int | None) -> int:
    """``None`` or ``-1`` -> every core; ``-2`` -> all but one; positive values as given."""
    available = os.cpu_count() or 1
    if n_jobs is None:
        return available
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero integer or None, got {n_jobs!r}")
    if n_jobs < 0:
        return max(1, available + 1 + n_jobs)
    return n_jobs


@contextmanager
def numba_threads(n_jobs: int | None) -> Iterator[None]:
    """Run numba's parallel kernels on ``n_jobs`` threads, restoring the previous count."""
    previous = numba.get_num_threads()
    numba.set_num_threads(min(resolve_n_jobs(n_jobs), numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(previous)
