"""Metric families, registered by name.

Each family is a function ``compute(sample, settings, *, seed, n_jobs) -> dict`` of a
validated :class:`~infomec.data.Sample`; :func:`infomec.score` and the CLI look
families up here, and the test suite parametrises over this registry.
"""

from __future__ import annotations

from collections.abc import Callable

from infomec.metrics import infomec as _infomec

MetricFunction = Callable[..., dict]

REGISTRY: dict[str, MetricFunction] = {
    "infomec": _infomec.compute,
}

__all__ = ["REGISTRY", "MetricFunction"]
