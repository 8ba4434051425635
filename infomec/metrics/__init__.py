"""Metric families, registered by name.

Each family is a function of a validated :class:`~infomec.data.Sample`::

    compute(sample, settings, *, seed, n_jobs, held_out) -> dict

``held_out`` is a :class:`~infomec.data.HeldOut` (training and test rows) for families
registered with ``needs_held_out=True`` and ``None`` otherwise. :func:`infomec.score`
and the CLI look families up here, and the test suite parametrises over this registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from infomec.metrics import infomec as _infomec


@dataclass(frozen=True)
class MetricFamily:
    """A registered metric family: its function and whether it needs held-out rows."""

    compute: Callable[..., dict]
    needs_held_out: bool = False


REGISTRY: dict[str, MetricFamily] = {
    "infomec": MetricFamily(_infomec.compute),
}

__all__ = ["REGISTRY", "MetricFamily"]
