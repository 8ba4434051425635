"""Where tasks run (locally or on a dask cluster), how many workers, numba's threads."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar

import numba
import numpy as np

from infomec.interrupts import stoppable

T = TypeVar("T")


@cache
def _cpu_count() -> int:
    return os.cpu_count() or 1  # a system call: asked once per process


def resolve_n_jobs(n_jobs: int | None) -> int:
    """``None`` or ``-1`` -> every core; ``-2`` -> all but one; positive values as given."""
    available = _cpu_count()
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


#: Seconds to wait for a dask scheduler to answer, and then for its first worker.
CONNECT_TIMEOUT = 10.0


def check_scheduler(scheduler: str) -> str:
    """``"joblib"`` (local) or a dask.distributed scheduler address, else ValueError.

    Examples
    --------
    >>> check_scheduler("tcp://127.0.0.1:8786")
    'tcp://127.0.0.1:8786'
    >>> check_scheduler("spark")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: scheduler must be 'joblib' or a dask scheduler address ..., got 'spark'
    """
    if scheduler == "joblib":
        return scheduler
    if not isinstance(scheduler, str) or ":" not in scheduler or scheduler != scheduler.strip():
        raise ValueError(
            f"scheduler must be 'joblib' or a dask scheduler address such as "
            f"tcp://host:8786, got {scheduler!r}"
        )
    return scheduler


def map_in_order(
    function: Callable[..., T],
    items: Sequence[Any],
    *,
    n_jobs: int = 1,
    scheduler: str = "joblib",
    shared: Sequence[Any] = (),
) -> Iterator[T]:
    """``function(item, *shared)`` for every item, yielded in the items' order.

    The one place that chooses where independent tasks run (the runs of a sweep, the
    metric families of a score): ``scheduler="joblib"`` runs them here, in ``n_jobs``
    loky processes (in this process when ``n_jobs == 1``); a dask.distributed scheduler
    address runs them on that cluster's workers through joblib's dask backend, sending
    each ``shared`` argument to the workers once rather than once per task. Results do
    not depend on where the tasks ran.

    Raises
    ------
    ValueError
        A malformed ``scheduler``, dask.distributed not installed, a scheduler that
        cannot be reached or has no workers.

    Examples
    --------
    >>> list(map_in_order(pow, [1, 2, 3], shared=(2,)))
    [1, 4, 9]
    """
    scheduler = check_scheduler(scheduler)
    if scheduler != "joblib":
        return _map_on_dask(function, items, shared, address=scheduler)
    if n_jobs == 1 or len(items) <= 1:
        return (function(item, *shared) for item in items)
    from joblib import Parallel, delayed

    # loky processes: scoring holds the GIL in parts (scikit-learn probes, pandas), so
    # processes scale across tasks where threads would not.
    return Parallel(n_jobs=n_jobs, backend="loky", return_as="generator")(
        delayed(function)(item, *shared) for item in items
    )


def _map_on_dask(
    function: Callable[..., T], items: Sequence[Any], shared: Sequence[Any], *, address: str
) -> Iterator[T]:
    try:
        from dask.distributed import Client
    except ImportError:
        raise ValueError(
            "a dask scheduler needs dask.distributed: pip install 'infomec[dist]'"
        ) from None
    from joblib import Parallel, delayed, parallel_config

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as error:
        raise ValueError(f"cannot reach the dask scheduler at {address}: {error}") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except TimeoutError:
            raise ValueError(
                f"the dask scheduler at {address} has no workers "
                f"(none joined within {CONNECT_TIMEOUT:g} s)"
            ) from None
        # joblib's dask backend swaps arguments that are the very objects in `scatter`
        # for futures of one broadcast copy.
        scatter = [value for value in shared if value is not None] or None
        with parallel_config(backend="dask", client=client, scatter=scatter):
            # Collected before the client closes; joblib keeps the items' order.
            results = Parallel(n_jobs=-1)(delayed(function)(item, *shared) for item in items)
    return iter(results)


def run_largest_first(
    task: Callable[[int], T], sizes: Sequence[int], *, n_jobs: int, backend: str
) -> list[T]:
    """``[task(k) for k in range(len(sizes))]``, started in decreasing ``sizes``.

    For independent per-source fits whose cost grows with ``sizes`` (e.g. the number of
    classes): the longest start first, so the workers finish together. Results come
    back in index order, and do not depend on ``n_jobs`` (each task is self-contained).

    Examples
    --------
    >>> run_largest_first(lambda k: k * 10, [1, 3, 2], n_jobs=1, backend="threading")
    [0, 10, 20]
    """
    from joblib import Parallel, delayed

    schedule = [int(k) for k in np.argsort(-np.asarray(sizes), kind="stable")]
    # A job of its own when called directly: a stop left by an interrupted job is cleared,
    # and Ctrl-C reaches the tasks' stop checks (infomec.interrupts).
    with stoppable():
        if n_jobs == 1 or len(schedule) <= 1:
            done = [task(k) for k in schedule]
        else:
            done = Parallel(n_jobs=n_jobs, backend=backend, batch_size=1)(
                delayed(task)(k) for k in schedule
            )
    results: list = [None] * len(schedule)
    for k, result in zip(schedule, done, strict=True):
        results[k] = result
    return results
