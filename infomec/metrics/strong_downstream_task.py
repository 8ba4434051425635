"""disentanglement_lib's strong downstream task: prediction under a covariate shift.

For each training size ``n``, predictors of every source are fitted on ``n`` training
points and tested, as in :mod:`infomec.metrics.downstream_task` (``"{n}:mean_train_accuracy"``,
``"{n}:mean_test_accuracy"``). Then, ``n_experiment`` times per target source ``i``,
another source ``j`` and one of its values ``v`` are drawn; every training point gets
``j = v`` and every test point a value of ``j`` other than ``v`` (uniform per point),
the other sources unchanged, and a predictor of ``i`` fitted on the shifted training
points is tested on the shifted test points: ``"{n}:mean_strong_train_accuracy"``,
``"{n}:mean_strong_test_accuracy"`` (means over targets and experiments) and
``"{n}:strong_generalization_gap"`` = 1 - strong test accuracy / test accuracy.
Defaults: ``GradientBoostingClassifier()`` (seeded), ``n_experiment=10`` and the sizes of
the downstream task (disentanglement_lib's own defaults for this task are unset; its
test uses boosted trees and its function's default is 10 experiments).

From a table of rows (the approximation): training and test points are drawn as in the
downstream task; a shifted point is a row with exactly the shifted combination of source
values, uniform among such rows, looked up in the training rows for training points and
in the test rows for test points, so the table must be factorial. Shifted points without
such a row are left out (with one warning giving the fraction); an experiment left with
no training or no test point is skipped. Only sources with two or more values are
shifted; a test accuracy of 0 gives a gap of 0 (disentanglement_lib divides by zero).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from infomec._validation import check_choice, check_positive_int, warn
from infomec.data import HeldOut, Sample
from infomec.metrics._legacy import held_out_of, latent_matrix, require_held_out
from infomec.metrics._predictors import (
    PREDICTORS,
    CombinationIndex,
    check_sizes,
    fit_predictor,
    training_rows,
)
from infomec.metrics.downstream_task import NUM_TRAIN
from infomec.parallel import resolve_n_jobs

__all__ = ["N_EXPERIMENT", "compute", "strong_downstream_task"]

N_EXPERIMENT = 10


def _accuracies(predictor, x, y, test_x, test_y, seed, pool) -> tuple[float, float]:
    model, _ = fit_predictor(predictor, x, y, seed=seed, tree_pool=pool)
    return (
        float(np.mean(model.predict(x) == y)),
        float(np.mean(model.predict(test_x) == test_y)),
    )


def _strong_of_held_out(
    held_out: HeldOut,
    *,
    predictor: str,
    num_train: tuple[int, ...],
    n_experiment: int,
    seed: int,
    n_jobs: int | None,
) -> dict:
    train, test = held_out.train, held_out.test
    train_x, test_x = latent_matrix(train), latent_matrix(test)
    train_table = train.sources.codes.T.astype(np.int64)
    test_table = test.sources.codes.T.astype(np.int64)
    train_index, test_index = (
        CombinationIndex(train.sources.codes),
        CombinationIndex(test.sources.codes),
    )
    cardinalities = train.sources.cardinalities
    too_large = [size for size in num_train if size > train.n_samples]
    if too_large:
        warn(
            f"strong_downstream_task: training sizes {', '.join(map(str, too_large))} exceed "
            f"the {train.n_samples} training rows and are left out"
        )
    rng = np.random.default_rng(seed)
    n_cores = resolve_n_jobs(n_jobs)
    pool = ThreadPoolExecutor(n_cores) if n_cores > 1 else None
    scores: dict = {}
    missing = looked_up = 0
    try:
        for size in num_train:
            if size > train.n_samples:
                continue
            rows = training_rows(train.n_samples, size, rng)
            plain = [
                _accuracies(
                    predictor,
                    train_x[rows],
                    train_table[rows, i],
                    test_x,
                    test_table[:, i],
                    seed,
                    pool,
                )
                for i in range(train.n_sources)
            ]
            strong = []
            for i in range(train.n_sources):
                shiftable = [j for j in range(train.n_sources) if j != i and cardinalities[j] > 1]
                for _ in range(n_experiment if shiftable else 0):
                    j = shiftable[rng.integers(len(shiftable))]
                    value = int(rng.integers(cardinalities[j]))
                    shifted_train = train_table[rows].copy()
                    shifted_train[:, j] = value
                    others = np.delete(np.arange(cardinalities[j]), value)
                    shifted_test = test_table.copy()
                    shifted_test[:, j] = others[rng.integers(others.size, size=test.n_samples)]
                    found_train = train_index.lookup(shifted_train, rng)
                    found_test = test_index.lookup(shifted_test, rng)
                    looked_up += found_train.size + found_test.size
                    missing += int(np.sum(found_train < 0) + np.sum(found_test < 0))
                    keep_train, keep_test = found_train >= 0, found_test >= 0
                    if not keep_train.any() or not keep_test.any():
                        continue
                    strong.append(
                        _accuracies(
                            predictor,
                            train_x[found_train[keep_train]],
                            shifted_train[keep_train, i],
                            test_x[found_test[keep_test]],
                            shifted_test[keep_test, i],
                            seed,
                            pool,
                        )
                    )
            if not strong:
                warn(
                    f"strong_downstream_task: no shift could be made at size {size} (no "
                    "other source with two values, or no row for any shifted point); its "
                    "strong accuracies and gap are set to 0"
                )
            test_accuracy = float(np.mean([p[1] for p in plain]))
            strong_test = float(np.mean([s[1] for s in strong])) if strong else 0.0
            scores[f"{size}:mean_train_accuracy"] = float(np.mean([p[0] for p in plain]))
            scores[f"{size}:mean_test_accuracy"] = test_accuracy
            scores[f"{size}:mean_strong_train_accuracy"] = (
                float(np.mean([s[0] for s in strong])) if strong else 0.0
            )
            scores[f"{size}:mean_strong_test_accuracy"] = strong_test
            scores[f"{size}:strong_generalization_gap"] = (
                1.0 - strong_test / test_accuracy if test_accuracy > 0 and strong else 0.0
            )
    finally:
        if pool is not None:
            pool.shutdown()
    if missing:
        warn(
            f"strong_downstream_task: {missing} of {looked_up} shifted points "
            f"({missing / looked_up:.1%}) have no row with their combination and were left "
            "out; the scores assume a factorial table of rows"
        )
    return scores


def strong_downstream_task(
    *,
    latents,
    sources,
    test_latents=None,
    test_sources=None,
    test_size: float = 1 / 3,
    predictor: str = "boosted_trees",
    num_train=NUM_TRAIN,
    n_experiment: int = N_EXPERIMENT,
    discrete_latents: bool | None = None,
    seed: int = 0,
    n_jobs: int | None = None,
) -> dict:
    """disentanglement_lib's strong downstream task (accuracy under a shifted source).

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
    sources : array-like of shape (n_samples, n_sources)
        A factorial table (shifted points are looked up by their source values).
    test_latents, test_sources : array-like, optional
    test_size : float, default=1/3
    predictor : {"boosted_trees", "logistic_regression"}, default="boosted_trees"
    num_train : sequence of int, default=(10, 100, 1000, 10000)
    n_experiment : int, default=10
        Shifts per target source.
    discrete_latents : bool, optional
    seed : int, default=0
    n_jobs : int, optional

    Returns
    -------
    dict
        Per size: ``mean_train_accuracy``, ``mean_test_accuracy``,
        ``mean_strong_train_accuracy``, ``mean_strong_test_accuracy``,
        ``strong_generalization_gap`` (keys ``"{n}:..."``).

    Examples
    --------
    >>> import numpy as np
    >>> grid = np.stack(np.meshgrid(np.arange(3), np.arange(3), indexing="ij"), -1)
    >>> sources = np.repeat(grid.reshape(-1, 2), 60, axis=0)
    >>> latents = sources + 0.05 * np.random.default_rng(0).standard_normal(sources.shape)
    >>> scores = strong_downstream_task(latents=latents, sources=sources, num_train=(200,),
    ...                                 n_experiment=2)
    >>> scores["200:mean_test_accuracy"], scores["200:mean_strong_test_accuracy"]
    (1.0, 1.0)
    """
    predictor = check_choice(predictor, "predictor", PREDICTORS)
    num_train = check_sizes(num_train)
    n_experiment = check_positive_int(n_experiment, "n_experiment")
    held_out = held_out_of(
        latents,
        sources,
        test_latents,
        test_sources,
        test_size=test_size,
        seed=seed,
        discrete_latents=discrete_latents,
    )
    return _strong_of_held_out(
        held_out,
        predictor=predictor,
        num_train=num_train,
        n_experiment=n_experiment,
        seed=seed,
        n_jobs=n_jobs,
    )


def compute(
    sample: Sample,
    settings: dict,
    *,
    seed: int,
    n_jobs: int | None,
    held_out: HeldOut | None = None,
) -> dict:
    """The ``strong_downstream_task`` family of :func:`infomec.score`."""
    return _strong_of_held_out(
        require_held_out(held_out, "strong_downstream_task"),
        predictor="boosted_trees",
        num_train=NUM_TRAIN,
        n_experiment=N_EXPERIMENT,
        seed=seed,
        n_jobs=n_jobs,
    )
