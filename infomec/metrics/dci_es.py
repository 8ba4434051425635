"""DCI-ES explicitness E (Eastwood et al., ICLR 2023) from loss-capacity curves.

For each source ``s_k`` a ladder of probes of increasing capacity predicts it from all
the latents: random forests (``RandomForestClassifier``, 100 trees, otherwise
scikit-learn's defaults, seeded) with ``max_depth`` in (1, 2, 3, 4, 8, 10, 12, 14, 16,
18, 20, 32), the random-forest ladder of the official code. Each probe is fitted on the
training rows and its loss is ``1 - accuracy`` on the test rows. The curve is made
monotone by a running minimum over capacity, and

    E_k = 1 - 2 A_k / ((c_max - c_min) * baseline_k),

with ``A_k`` the trapezoid-rule area between the curve and its own minimum,
``baseline_k = 1 - 1/K_k`` the loss of guessing among the source's ``K_k`` values, and the
capacity axis the depth values themselves (``c_min = 1``, ``c_max = 32``, linear). E is
the mean of ``E_k`` over sources. ``E_k = 1`` when the shallowest probe already reaches
the best loss; ``E_k = 0`` when the loss falls linearly from the baseline to its
minimum across the ladder; it goes below 0 (down to -1) for curves that stay near the
baseline longer. Because the area is measured above the curve's own minimum (as in the
official code), E rates how early the best loss is reached, not how low it is: a code
that never beats guessing has a flat curve and scores about 1. ``lowest_loss=0.0``
measures the area above 0 instead (the paper's ``l* = 0``): such a code then scores
about -1. Read E with an informativeness score (``dci``, InfoE).

Choices the official code leaves open (its random-forest gathering path does not run
as published: the capacity it reads, ``num_params``, is never set for forests, and the
explicitness class passes the normaliser under a keyword the function does not take):

- capacity is the depth value on a linear axis, the quantity the forest training
  returns as ``capacity`` (the official gathering script takes logarithms only for the
  MLP and random-feature ladders, whose capacity is a parameter count);
- the factor 2 of the official code is kept (the paper normalises by the area of the
  triangle under a loss that falls linearly from the baseline);
- sources are classified (infomec's sources are discrete), so the loss is ``1 -
  accuracy`` and the baseline ``1 - 1/K_k``, which the official code hard-codes per
  data set for its classified factors (continuous factors are regressed there, with
  ``1 - R^2`` and baseline 1);
- the official code trains on a standardised copy of the latents; trees are invariant to
  that, so the raw latents are used.

A single-valued source has no baseline: it is left out of the mean with a warning (its
``per_source`` entry is 0). The MLP and random-Fourier-feature ladders and the size S
are not computed (S is defined only in the paper, whose definition we could not check).
"""

from __future__ import annotations

import numpy as np

from infomec._validation import check_positive_int, warn
from infomec.data import HeldOut
from infomec.metrics._legacy import held_out_of, latent_matrix, require_held_out
from infomec.parallel import resolve_n_jobs, run_largest_first

__all__ = ["DEPTHS", "compute", "dci_es", "explicitness_from_curve"]

#: ``max_depth`` ladder of the official random-forest probes.
DEPTHS = (1, 2, 3, 4, 8, 10, 12, 14, 16, 18, 20, 32)
N_ESTIMATORS = 100


def explicitness_from_curve(
    capacities, losses, baseline: float, *, c_max=None, lowest_loss: float | None = None
) -> float:
    """E of one loss-capacity curve.

    Parameters
    ----------
    capacities : array-like of shape (n_probes,)
        Increasing capacities.
    losses : array-like of shape (n_probes,)
        Test loss of each probe (made monotone here by a running minimum).
    baseline : float
        Loss of a probe that knows nothing (> 0).
    c_max : float, optional
        Largest capacity of the comparison; a curve ending earlier is extended flat to
        it (default: its own last capacity).
    lowest_loss : float, optional
        The loss the area is measured above. Default: the curve's own minimum (the
        official code); ``0.0`` is the paper's assumption ``l* = 0``.

    Returns
    -------
    float
        ``1 - 2 * area / ((c_max - c_min) * baseline)``.

    Examples
    --------
    A loss falling linearly from the baseline to 0 scores 0; one at its minimum from the
    start scores 1:

    >>> explicitness_from_curve([1, 2, 3], [0.5, 0.25, 0.0], baseline=0.5)
    0.0
    >>> explicitness_from_curve([1, 2, 3], [0.2, 0.3, 0.2], baseline=0.5)
    1.0
    """
    capacities = np.asarray(capacities, dtype=np.float64)
    losses = np.minimum.accumulate(np.asarray(losses, dtype=np.float64))
    if capacities.ndim != 1 or capacities.shape != losses.shape or capacities.size < 2:
        raise ValueError("capacities and losses must be 1-D, of equal length >= 2")
    if np.any(np.diff(capacities) <= 0):
        raise ValueError("capacities must be strictly increasing")
    if not baseline > 0:
        raise ValueError(f"baseline must be > 0, got {baseline!r}")
    if c_max is not None and c_max > capacities[-1]:
        capacities = np.append(capacities, c_max)
        losses = np.append(losses, losses[-1])
    floor = losses.min() if lowest_loss is None else float(lowest_loss)
    excess = losses - floor
    area = float(np.sum(0.5 * (excess[:-1] + excess[1:]) * np.diff(capacities)))
    return float(1.0 - 2.0 * area / ((capacities[-1] - capacities[0]) * baseline))


def _probe_loss(train_x, train_y, test_x, test_y, depth, n_estimators, max_samples, seed):
    # scikit-learn is imported here: it costs seconds that `infomec score` may not need.
    from sklearn.ensemble import RandomForestClassifier
    from threadpoolctl import threadpool_limits

    forest = RandomForestClassifier(
        n_estimators=n_estimators,
        max_depth=depth,
        max_samples=max_samples,
        random_state=seed,
        n_jobs=1,
    )
    with threadpool_limits(limits=1, user_api="openmp"):
        forest.fit(train_x, train_y)
        return 1.0 - float(np.mean(forest.predict(test_x) == test_y))


def _dci_es_of_held_out(
    held_out: HeldOut,
    *,
    depths: tuple[int, ...],
    n_estimators: int,
    max_samples,
    seed: int,
    n_jobs: int | None,
    lowest_loss: float | None = None,
) -> dict:
    train, test = held_out.train, held_out.test
    train_x, test_x = latent_matrix(train), latent_matrix(test)
    n_sources, n_depths = train.n_sources, len(depths)

    def task(index: int) -> float:
        k, d = divmod(index, n_depths)
        return _probe_loss(
            train_x,
            train.sources.codes[k],
            test_x,
            test.sources.codes[k],
            depths[d],
            n_estimators,
            max_samples,
            seed,
        )

    # Deeper forests cost more: start them first so the workers finish together.
    sizes = [depths[index % n_depths] for index in range(n_sources * n_depths)]
    losses = np.array(
        run_largest_first(task, sizes, n_jobs=resolve_n_jobs(n_jobs), backend="threading")
    ).reshape(n_sources, n_depths)

    cardinalities = train.sources.cardinalities
    per_source = np.zeros(n_sources)
    usable = cardinalities > 1
    for k in np.flatnonzero(usable):
        baseline = 1.0 - 1.0 / cardinalities[k]
        per_source[k] = explicitness_from_curve(
            depths, losses[k], baseline, lowest_loss=lowest_loss
        )
    if not usable.all():
        names = [train.source_names[k] for k in np.flatnonzero(~usable)]
        warn(f"dci_es: single-valued sources left out of the mean: {', '.join(names)}")
    explicitness = float(per_source[usable].mean()) if usable.any() else 0.0
    return {"explicitness": explicitness, "per_source": per_source, "test_losses": losses}


def _checked_depths(depths) -> tuple[int, ...]:
    depths = tuple(depths)
    if len(depths) < 2:
        raise ValueError("depths must list at least two max_depth values")
    checked = tuple(check_positive_int(depth, "each depth") for depth in depths)
    if any(b <= a for a, b in zip(checked, checked[1:], strict=False)):
        raise ValueError(f"depths must be strictly increasing, got {list(depths)}")
    return checked


def _checked_max_samples(max_samples):
    if max_samples is None:
        return None
    if (
        isinstance(max_samples, bool)
        or not isinstance(max_samples, (float, np.floating))
        or not 0 < max_samples <= 1
    ):
        raise ValueError(f"max_samples must be None or a float in (0, 1], got {max_samples!r}")
    return float(max_samples)


def _checked_lowest_loss(lowest_loss):
    if lowest_loss is None:
        return None
    if (
        isinstance(lowest_loss, bool)
        or not isinstance(lowest_loss, (int, float, np.integer, np.floating))
        or not 0 <= lowest_loss <= 1
    ):
        raise ValueError(f"lowest_loss must be None or a number in [0, 1], got {lowest_loss!r}")
    return float(lowest_loss)


def dci_es(
    *,
    latents,
    sources,
    test_latents=None,
    test_sources=None,
    test_size: float = 1 / 3,
    depths=DEPTHS,
    n_estimators: int = N_ESTIMATORS,
    max_samples: float | None = None,
    lowest_loss: float | None = None,
    discrete_latents: bool | None = None,
    seed: int = 0,
    n_jobs: int | None = None,
) -> dict:
    """DCI-ES explicitness of a representation from random-forest loss-capacity curves.

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
    sources : array-like of shape (n_samples, n_sources)
    test_latents, test_sources : array-like, optional
        Rows the probes are evaluated on; otherwise a seeded split of ``test_size``.
    test_size : float, default=1/3
    depths : sequence of int, default=(1, 2, 3, 4, 8, 10, 12, 14, 16, 18, 20, 32)
        ``max_depth`` of each probe, increasing: the capacity axis (linear).
    n_estimators : int, default=100
        Trees per forest.
    max_samples : float, optional
        Fraction of the training rows each tree's bootstrap draws (scikit-learn's
        ``max_samples``; default: all of them, as the official code). 0.5 roughly
        halves the time; it changes the probes, so say so when reporting E.
    lowest_loss : float, optional
        Measure each curve's area above this loss instead of above the curve's own
        minimum (the official code). With ``0.0`` (the paper's ``l* = 0``) a code that
        never beats guessing scores about -1; with the default it scores about 1, since
        E then rates only how early the best loss is reached.
    discrete_latents : bool, optional
        Only affects validation (forests use the values).
    seed : int, default=0
        ``random_state`` of every forest and the split.
    n_jobs : int, optional
        Forests fitted at once, over (source, depth) pairs (``None``: every core).
        Results do not depend on it.

    Returns
    -------
    dict
        ``explicitness`` (mean E over sources), ``per_source`` (ndarray of E_k) and
        ``test_losses`` (ndarray (n_sources, n_depths), before the running minimum).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.integers(0, 2, size=(600, 2))
    >>> latents = sources + 0.05 * rng.standard_normal((600, 2))
    >>> result = dci_es(latents=latents, sources=sources, depths=(1, 2, 4), n_estimators=10)
    >>> result["explicitness"], result["test_losses"].shape
    (1.0, (2, 3))
    """
    held_out = held_out_of(
        latents,
        sources,
        test_latents,
        test_sources,
        test_size=test_size,
        seed=seed,
        discrete_latents=discrete_latents,
    )
    return _dci_es_of_held_out(
        held_out,
        depths=_checked_depths(depths),
        n_estimators=check_positive_int(n_estimators, "n_estimators"),
        max_samples=_checked_max_samples(max_samples),
        seed=seed,
        n_jobs=n_jobs,
        lowest_loss=_checked_lowest_loss(lowest_loss),
    )


def compute(
    sample,
    settings: dict,
    *,
    seed: int,
    n_jobs: int | None,
    held_out: HeldOut | None = None,
) -> dict:
    """The ``dci_es`` family of :func:`infomec.score` (the official forest ladder)."""
    return _dci_es_of_held_out(
        require_held_out(held_out, "dci_es"),
        depths=DEPTHS,
        n_estimators=N_ESTIMATORS,
        max_samples=None,
        seed=seed,
        n_jobs=n_jobs,
    )
