"""disentanglement_lib's fairness scores (Locatello et al., NeurIPS 2019, Section 4).

A predictor of each source ``i`` (target) is fitted on the training rows. For every other
source ``j`` (sensitive), 100 factor vectors are drawn and, for each value ``c`` of ``j``,
the observation with ``j`` set to ``c`` (the rest unchanged) is encoded and classified;
``counts[p, c]`` counts predictions ``p`` under the intervention ``j = c``. The
unfairness of the pair is the total-variation distance between the prediction
distribution under each ``c`` and the pooled one, averaged over ``c`` with weights
``counts[:, c].sum()`` (``mean_fairness``) or maximised (``max_fairness``). The results
are disentanglement_lib's keys: ``"{mean,max}_fairness:pred{i}:sens{j}"``, their
means and maxima per target (``:pred{i}:mean_sens`` ...) and per sensitive source, and
the eight overall combinations (``"mean_fairness:mean_pred:mean_sens"`` is the score of
the paper). Predictor: ``GradientBoostingClassifier()`` on 10,000 training points, as in
disentanglement_lib's fairness study (seeded here).

From a table of rows instead of a simulator (the approximation):

- the training points are up to ``num_train`` training rows (all of them, in order, when
  there are no more than that; otherwise a seeded draw without replacement);
- the factor vectors are drawn uniformly, with replacement, from the test rows, and the
  intervened observation is a test row with exactly the intervened combination of
  source values, uniform among such rows: the counterfactual is looked up, so the table
  must hold every combination it needs (a full factorial design, as dSprites, Shapes3D,
  MPI3D are). A combination that is absent is left out of the counts, with a warning
  saying what fraction was missing; a value ``c`` with no counterfactual at all is left
  out of the pair's distance (disentanglement_lib would divide by zero);
- ``num_test_points_per_class=None`` uses every test row once as a factor vector (no
  draw): exactly reproducible from the rows alone.

A single source has no sensitive partner: the family returns no pair and scores 0.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from infomec._validation import check_choice, check_positive_int, warn
from infomec.data import HeldOut, Sample
from infomec.metrics._legacy import held_out_of, latent_matrix, require_held_out
from infomec.metrics._predictors import PREDICTORS, CombinationIndex, fit_predictor
from infomec.parallel import resolve_n_jobs

__all__ = ["compute", "fairness", "inter_group_fairness", "scores_dict"]

#: disentanglement_lib's fairness study: ``num_train`` and ``num_test_points_per_class``.
NUM_TRAIN = 10000
NUM_TEST_POINTS_PER_CLASS = 100


def inter_group_fairness(counts) -> tuple[float, float]:
    """Mean and maximum total-variation distance of each sensitive class to the pool.

    Parameters
    ----------
    counts : array-like of shape (n_predicted_classes, n_sensitive_classes)
        ``counts[p, c]``: predictions ``p`` under sensitive value ``c``. Columns without
        any count are left out.

    Returns
    -------
    (float, float)
        The distances averaged with weights ``counts[:, c].sum()``, and their maximum.

    Examples
    --------
    disentanglement_lib's own check: distributions (0, 1) and (1/2, 1/2) against the
    pooled (1/3, 2/3) are 1/3 and 1/6 apart; weighted 1/3 and 2/3 that is 2/9.

    >>> mean, largest = inter_group_fairness([[0, 100], [100, 100]])
    >>> round(mean, 6), round(largest, 6)
    (0.222222, 0.333333)
    """
    counts = np.asarray(counts, dtype=np.float64)
    counts = counts[:, counts.sum(axis=0) > 0]
    if counts.size == 0:
        return 0.0, 0.0
    per_class = counts.sum(axis=0)
    pooled = counts.sum(axis=1) / per_class.sum()
    distances = 0.5 * np.abs(counts / per_class - pooled[:, None]).sum(axis=0)
    return float(np.sum(distances * per_class) / per_class.sum()), float(distances.max())


def scores_dict(matrix, prefix: str) -> dict:
    """disentanglement_lib's names for a (target x sensitive) matrix, diagonal ignored.

    Examples
    --------
    >>> import numpy as np
    >>> scores = scores_dict(np.array([[0., 2., 4.], [4., 0., 8.], [2., 10., 0.]]), "t")
    >>> scores["t:pred1:sens2"], scores["t:sens1:max_pred"], scores["t:mean_sens:max_pred"]
    (8.0, 10.0, 7.333333333333333)
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    n = matrix.shape[0]
    off = ~np.eye(n, dtype=bool)
    result = {}
    for i in range(n):
        for j in range(n):
            if i != j:
                result[f"{prefix}:pred{i}:sens{j}"] = float(matrix[i, j])
    row_means = [float(np.mean(matrix[i, off[i]])) for i in range(n)]
    row_maxima = [float(np.max(matrix[i, off[i]])) for i in range(n)]
    column_means = [float(np.mean(matrix[off[:, j], j])) for j in range(n)]
    column_maxima = [float(np.max(matrix[off[:, j], j])) for j in range(n)]
    for i in range(n):
        result[f"{prefix}:pred{i}:mean_sens"] = row_means[i]
        result[f"{prefix}:pred{i}:max_sens"] = row_maxima[i]
    for j in range(n):
        result[f"{prefix}:sens{j}:mean_pred"] = column_means[j]
        result[f"{prefix}:sens{j}:max_pred"] = column_maxima[j]
    result[f"{prefix}:mean_sens:mean_pred"] = float(np.mean(column_means))
    result[f"{prefix}:mean_sens:max_pred"] = float(np.mean(column_maxima))
    result[f"{prefix}:max_sens:mean_pred"] = float(np.max(column_means))
    result[f"{prefix}:max_sens:max_pred"] = float(np.max(column_maxima))
    result[f"{prefix}:mean_pred:mean_sens"] = float(np.mean(row_means))
    result[f"{prefix}:mean_pred:max_sens"] = float(np.mean(row_maxima))
    result[f"{prefix}:max_pred:mean_sens"] = float(np.max(row_means))
    result[f"{prefix}:max_pred:max_sens"] = float(np.max(row_maxima))
    return result


def _fairness_of_held_out(
    held_out: HeldOut,
    *,
    predictor: str,
    num_train: int,
    num_test_points_per_class: int | None,
    seed: int,
    n_jobs: int | None,
) -> dict:
    train, test = held_out.train, held_out.test
    n_sources = train.n_sources
    if n_sources < 2:
        warn("fairness: a single source has no sensitive partner; scores set to 0")
        return {"mean_fairness:mean_pred:mean_sens": 0.0, "max_fairness:mean_pred:mean_sens": 0.0}
    rng = np.random.default_rng(seed)
    if train.n_samples <= num_train:
        rows = np.arange(train.n_samples)
    else:
        rows = rng.choice(train.n_samples, size=num_train, replace=False)
    train_x, test_x = latent_matrix(train)[rows], latent_matrix(test)
    cardinalities = train.sources.cardinalities
    index = CombinationIndex(test.sources.codes)
    test_table = test.sources.codes.T.astype(np.int64)
    mean_fairness = np.zeros((n_sources, n_sources))
    max_fairness = np.zeros((n_sources, n_sources))
    missing = looked_up = 0
    n_cores = resolve_n_jobs(n_jobs)
    with ThreadPoolExecutor(n_cores) as pool:
        for i in range(n_sources):
            y = train.sources.codes[i, rows].astype(np.int64)
            model, _ = fit_predictor(
                predictor, train_x, y, seed=seed, tree_pool=pool if n_cores > 1 else None
            )
            for j in range(n_sources):
                if i == j:
                    continue
                if num_test_points_per_class is None:
                    originals = test_table
                else:
                    picks = rng.integers(0, test.n_samples, size=num_test_points_per_class)
                    originals = test_table[picks]
                counts = np.zeros((cardinalities[i], cardinalities[j]), dtype=np.int64)
                for c in range(cardinalities[j]):
                    intervened = originals.copy()
                    intervened[:, j] = c
                    found = index.lookup(intervened, rng)
                    found = found[found >= 0]
                    looked_up += intervened.shape[0]
                    missing += intervened.shape[0] - found.size
                    if found.size:
                        predictions = model.predict(test_x[found]).astype(np.int64)
                        counts[:, c] = np.bincount(predictions, minlength=cardinalities[i])
                mean_fairness[i, j], max_fairness[i, j] = inter_group_fairness(counts)
    if missing:
        warn(
            f"fairness: {missing} of {looked_up} intervened combinations "
            f"({missing / looked_up:.1%}) have no test row and were left out; the scores "
            "assume a factorial table of rows"
        )
    return {
        **scores_dict(mean_fairness, "mean_fairness"),
        **scores_dict(max_fairness, "max_fairness"),
    }


def fairness(
    *,
    latents,
    sources,
    test_latents=None,
    test_sources=None,
    test_size: float = 1 / 3,
    predictor: str = "boosted_trees",
    num_train: int = NUM_TRAIN,
    num_test_points_per_class: int | None = NUM_TEST_POINTS_PER_CLASS,
    discrete_latents: bool | None = None,
    seed: int = 0,
    n_jobs: int | None = None,
) -> dict:
    """disentanglement_lib's unfairness of predictors trained on a representation.

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
    sources : array-like of shape (n_samples, n_sources)
        A factorial table: the counterfactual rows are looked up in the test rows.
    test_latents, test_sources : array-like, optional
        Rows the interventions are looked up in; otherwise a seeded split.
    test_size : float, default=1/3
    predictor : {"boosted_trees", "logistic_regression"}, default="boosted_trees"
    num_train : int, default=10000
        Training rows used (at most).
    num_test_points_per_class : int or None, default=100
        Factor vectors drawn per (target, sensitive) pair; ``None``: every test row.
    discrete_latents : bool, optional
        Only affects validation.
    seed : int, default=0
    n_jobs : int, optional

    Returns
    -------
    dict
        disentanglement_lib's keys (module documentation), sources numbered from 0.

    Examples
    --------
    >>> import numpy as np
    >>> grid = np.stack(np.meshgrid(np.arange(3), np.arange(4), indexing="ij"), -1)
    >>> sources = np.repeat(grid.reshape(-1, 2), 40, axis=0)
    >>> rng = np.random.default_rng(0)
    >>> latents = sources + 0.05 * rng.standard_normal(sources.shape)
    >>> scores = fairness(latents=latents, sources=sources, num_test_points_per_class=20)
    >>> round(scores["mean_fairness:mean_pred:mean_sens"], 3)
    0.0
    """
    predictor = check_choice(predictor, "predictor", PREDICTORS)
    num_train = check_positive_int(num_train, "num_train")
    if num_test_points_per_class is not None:
        num_test_points_per_class = check_positive_int(
            num_test_points_per_class, "num_test_points_per_class"
        )
    held_out = held_out_of(
        latents,
        sources,
        test_latents,
        test_sources,
        test_size=test_size,
        seed=seed,
        discrete_latents=discrete_latents,
    )
    return _fairness_of_held_out(
        held_out,
        predictor=predictor,
        num_train=num_train,
        num_test_points_per_class=num_test_points_per_class,
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
    """The ``fairness`` family of :func:`infomec.score` (disentanglement_lib's study)."""
    return _fairness_of_held_out(
        require_held_out(held_out, "fairness"),
        predictor="boosted_trees",
        num_train=NUM_TRAIN,
        num_test_points_per_class=NUM_TEST_POINTS_PER_CLASS,
        seed=seed,
        n_jobs=n_jobs,
    )
