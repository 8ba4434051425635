"""DCI: disentanglement, completeness, informativeness (Eastwood & Williams 2018).

As disentanglement_lib computes it: per source, a classifier predicts the source's codes
from all latents (raw values) on the training rows; ``importance[j, k]`` is the
importance of latent ``j`` for source ``k`` (d x K); informativeness is the mean accuracy
over sources on the training rows and on the test rows.

- ``D = sum_j rho_j (1 - H_K(P_j.))`` with ``P_jk = R_jk / sum_k R_jk`` and
  ``rho_j = sum_k R_jk / sum R``;
- ``C = sum_k rho_k (1 - H_d(P_.k))`` with column-normalised ``P`` and
  ``rho_k = sum_j R_jk / sum R``;
- entropies in base ``K`` (resp. ``d``), computed as disentanglement_lib does, with
  ``1e-11`` added to every entry first.

Models (``model=``):

``"gbt"`` (default, disentanglement_lib)
    ``GradientBoostingClassifier()`` with scikit-learn defaults (100 stages, depth 3,
    learning rate 0.1); importance ``|feature_importances_|``.
``"hist_gbt"``
    ``HistGradientBoostingClassifier()`` with defaults: much faster, different scores.
    It exposes no ``feature_importances_``; importance is the total split gain of each
    latent over all trees, normalised to sum 1 (the analogue of impurity importance).
``"random_forest"``
    ``RandomForestClassifier(n_estimators=100, criterion="entropy", max_depth=10)`` (the
    settings of Hsu et al.'s DCI); importance ``feature_importances_``.
``"lasso"``
    The original linear DCI (Eastwood & Williams): ``Lasso(alpha=0.02)`` regressing the
    standardised source code on standardised latents; importance ``|coef_|``; a
    prediction is the nearest source code. This treats source codes as ordinal.

Differences from disentanglement_lib: every model is seeded (``random_state=seed``;
disentanglement_lib leaves GBT unseeded), sources are fitted in parallel, and so are the
class trees of each GBT stage, compiled (results do not depend on ``n_jobs``: the threaded
GBT is scikit-learn's, bit for bit; see :mod:`infomec.gbt.boosting`), and the
guards below replace NaN or exceptions:

- a source with one value in the training rows cannot be fitted: its importance column is
  0, it is predicted as that value, and it is left out of the informativeness means
  (with a warning); with no fittable source, informativeness is 0;
- an all-zero importance matrix gives ``D = C = 0`` (disentanglement_lib: 0 and ~1e-16);
- with one source every latent serves at most one source, so ``D_j = 1`` (base-1 entropy
  is undefined); with one latent, ``C_k = 1`` likewise.
"""

from __future__ import annotations

from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import threadpool_limits

from infomec._validation import check_choice, warn
from infomec.data import HeldOut, Sample
from infomec.gbt.boosting import fit_gradient_boosting
from infomec.metrics._legacy import held_out_of, latent_matrix, require_held_out, standardize
from infomec.parallel import resolve_n_jobs, run_largest_first

if TYPE_CHECKING:
    from sklearn.ensemble import HistGradientBoostingClassifier

__all__ = ["DCI_MODELS", "compute", "dci", "dci_completeness", "dci_disentanglement"]

DCI_MODELS = ("gbt", "hist_gbt", "random_forest", "lasso")

# disentanglement_lib adds this to every importance before taking entropies.
_ENTROPY_FLOOR = 1e-11
_LASSO_ALPHA = 0.02


# ---------------------------------------------------------------- aggregation


def _check_importance(importance) -> np.ndarray:
    importance = np.asarray(importance, dtype=np.float64)
    if importance.ndim != 2 or importance.size == 0 or not np.isfinite(importance).all():
        raise ValueError(
            f"importance must be a finite, non-empty (n_latents, n_sources) array, "
            f"got shape {importance.shape}"
        )
    if (importance < 0).any():
        raise ValueError("importance must be non-negative")
    return importance


def _one_minus_entropy(rows: np.ndarray) -> np.ndarray:
    """``1 - H(p)`` of each row, in base ``rows.shape[1]``, after the 1e-11 floor."""
    p = rows + _ENTROPY_FLOOR
    p = p / p.sum(axis=1, keepdims=True)
    entropy = -np.sum(p * np.log(p), axis=1) / np.log(rows.shape[1])
    return 1.0 - entropy


def _weighted_score(importance: np.ndarray, axis: int) -> float:
    """Shared form of D (``axis=1``: rows are latents) and C (``axis=0``: columns)."""
    if importance.sum() == 0.0:
        return 0.0
    slices = importance if axis == 1 else importance.T
    if slices.shape[1] == 1:
        per_slice = np.ones(slices.shape[0])  # base-1 entropy: one slot, nothing shared
    else:
        per_slice = _one_minus_entropy(slices)
    weights = slices.sum(axis=1) / slices.sum()
    return float(np.clip(np.sum(per_slice * weights), 0.0, 1.0))


def dci_disentanglement(importance) -> float:
    """Disentanglement ``D`` of an importance matrix (rows latents, columns sources).

    Parameters
    ----------
    importance : array-like of shape (n_latents, n_sources)
        Non-negative importances.

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> round(dci_disentanglement(np.eye(3)), 6)  # the 1e-11 floor leaves 1 - 5e-10
    1.0
    >>> round(dci_disentanglement(np.hstack([np.eye(5), np.eye(5)])), 6)  # 1 - ln2/ln10
    0.69897
    """
    return _weighted_score(_check_importance(importance), axis=1)


def dci_completeness(importance) -> float:
    """Completeness ``C`` of an importance matrix (rows latents, columns sources).

    Parameters
    ----------
    importance : array-like of shape (n_latents, n_sources)

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> round(dci_completeness(np.eye(3)), 6)  # the 1e-11 floor leaves 1 - 5e-10
    1.0
    >>> round(dci_completeness(np.vstack([np.eye(5), np.eye(5)])), 6)  # 1 - ln2/ln10
    0.69897
    """
    return _weighted_score(_check_importance(importance), axis=0)


# ------------------------------------------------------------------- models


def _split_gain_importance(model: HistGradientBoostingClassifier, n_features: int) -> np.ndarray:
    """Total split gain per feature over every tree, normalised to sum 1."""
    gains = np.zeros(n_features)
    try:
        predictors = model._predictors  # scikit-learn exposes no public importances here
        for stage in predictors:
            for tree in stage:
                nodes = tree.nodes
                splits = nodes["is_leaf"] == 0
                np.add.at(gains, nodes["feature_idx"][splits], nodes["gain"][splits])
    except (AttributeError, KeyError, ValueError) as error:
        raise RuntimeError(
            "this scikit-learn version changed HistGradientBoosting internals; "
            "use dci_model='gbt' or 'random_forest'"
        ) from error
    total = gains.sum()
    return gains / total if total > 0 else gains


def _fit_source(
    model: str,
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    seed: int,
    tree_pool: Executor | None = None,
) -> tuple[np.ndarray, float, float]:
    """Importance of each latent for one source, and train / test accuracy.

    ``tree_pool`` (GBT only): threads fitting each boosting stage's class trees.
    """
    # scikit-learn's estimators are imported here, not at module level: they cost
    # seconds of start-up that a plain `infomec score` never needs.
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import Lasso

    n_features = train_x.shape[1]
    values = np.unique(train_y)
    if values.size < 2:  # nothing to learn: a constant predictor, no importance
        return np.zeros(n_features), 1.0, float(np.mean(test_y == values[0]))
    if model == "lasso":
        x_train, x_test = standardize(train_x, test_x)
        mean, std = train_y.mean(), train_y.std()
        regressor = Lasso(alpha=_LASSO_ALPHA, random_state=seed)
        regressor.fit(x_train, (train_y - mean) / std)

        def predict(x):
            nearest = np.rint(regressor.predict(x) * std + mean)
            return np.clip(nearest, values[0], values[-1])

        importance = np.abs(regressor.coef_)
        return (
            importance,
            float(np.mean(predict(x_train) == train_y)),
            float(np.mean(predict(x_test) == test_y)),
        )
    if model == "hist_gbt":
        classifier = HistGradientBoostingClassifier(random_state=seed)
    else:
        classifier = RandomForestClassifier(
            n_estimators=100, criterion="entropy", max_depth=10, random_state=seed, n_jobs=1
        )
    # OpenMP thread counts are per thread: limit this worker's own (HistGradientBoosting
    # would otherwise start a full team in every worker and oversubscribe the cores).
    with threadpool_limits(limits=1, user_api="openmp"):
        if model == "gbt":
            classifier = fit_gradient_boosting(train_x, train_y, seed=seed, tree_pool=tree_pool)
        else:
            classifier.fit(train_x, train_y)
        train_predictions = classifier.predict(train_x)
        test_predictions = classifier.predict(test_x)
    if model == "hist_gbt":
        importance = _split_gain_importance(classifier, n_features)
    else:
        importance = np.abs(classifier.feature_importances_)
    return (
        importance,
        float(np.mean(train_predictions == train_y)),
        float(np.mean(test_predictions == test_y)),
    )


def _dci_of_held_out(held_out: HeldOut, model: str, seed: int, n_jobs: int | None) -> dict:
    model = check_choice(model, "dci_model", DCI_MODELS)
    train, test = held_out.train, held_out.test
    train_x, test_x = latent_matrix(train), latent_matrix(test)
    train_codes, test_codes = train.sources.codes, test.sources.codes

    n_cores = resolve_n_jobs(n_jobs)
    # GBT: every source's fit runs in a thread of its own and hands the class trees of
    # each boosting stage to one pool of n_cores threads (the tree builder releases the
    # GIL), so the cores stay busy however unevenly the sources' class counts split; the
    # pool is also what fits the trees compiled, so one core gets a pool of one thread.
    # Other models: n_cores threads over sources (their fits release the GIL too).
    tree_pool = ThreadPoolExecutor(n_cores) if model == "gbt" else None
    n_workers = train.n_sources if tree_pool is not None else min(n_cores, train.n_sources)

    def fit(k: int) -> tuple:
        return _fit_source(
            model,
            train_x,
            train_codes[k].astype(np.int64),
            test_x,
            test_codes[k].astype(np.int64),
            seed,
            tree_pool,
        )

    # Each fit on a single OpenMP/BLAS thread: HistGradientBoosting's OpenMP barriers
    # stall badly when the cores are oversubscribed. Each source's fit is seeded on its
    # own, so starting the most-valued (longest) ones first changes no result.
    try:
        with threadpool_limits(limits=1):
            outcomes = run_largest_first(
                fit, train.sources.cardinalities, n_jobs=n_workers, backend="threading"
            )
    finally:
        if tree_pool is not None:
            tree_pool.shutdown()
    importance = np.column_stack([outcome[0] for outcome in outcomes])
    train_accuracy = np.array([outcome[1] for outcome in outcomes])
    test_accuracy = np.array([outcome[2] for outcome in outcomes])
    fittable = np.array([np.unique(codes).size > 1 for codes in train.sources.codes])
    if not fittable.all():
        names = [train.source_names[k] for k in np.flatnonzero(~fittable)]
        warn(
            "DCI: sources with a single value in the training rows get zero importance and "
            f"are left out of informativeness: {', '.join(names)}"
        )
    informative = fittable.any()
    return {
        "disentanglement": dci_disentanglement(importance),
        "completeness": dci_completeness(importance),
        "informativeness_train": float(np.mean(train_accuracy[fittable])) if informative else 0.0,
        "informativeness_test": float(np.mean(test_accuracy[fittable])) if informative else 0.0,
        "importance": importance,
    }


def dci(
    *,
    latents,
    sources,
    test_latents=None,
    test_sources=None,
    test_size: float = 1 / 3,
    model: str = "gbt",
    discrete_latents: bool | None = None,
    seed: int = 0,
    n_jobs: int | None = None,
) -> dict:
    """DCI disentanglement, completeness and informativeness of a representation.

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
    sources : array-like of shape (n_samples, n_sources)
    test_latents, test_sources : array-like, optional
        Held-out rows; training then uses exactly ``latents`` / ``sources`` in order
        and evaluation exactly these rows.
    test_size : float, default=1/3
        Without test arrays, the fraction of rows held out (seeded split).
    model : {"gbt", "hist_gbt", "random_forest", "lasso"}, default="gbt"
        The per-source predictor (see the module documentation).
    discrete_latents : bool, optional
        Only affects validation; the models always see the latents' values.
    seed : int, default=0
        Seed of the split and of the models.
    n_jobs : int, optional
        Cores used: sources are fitted in parallel, and with GBT each stage's class
        trees too (results do not depend on it).

    Returns
    -------
    dict
        ``disentanglement``, ``completeness``, ``informativeness_train``,
        ``informativeness_test`` (mean accuracies) and ``importance`` (ndarray,
        n_latents x n_sources).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.integers(0, 3, size=(600, 2))
    >>> latents = sources + 0.1 * rng.standard_normal((600, 2))
    >>> result = dci(latents=latents, sources=sources)
    >>> round(result["disentanglement"], 3), round(result["informativeness_test"], 3)
    (1.0, 1.0)
    >>> result["importance"].round(2).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
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
    return _dci_of_held_out(held_out, model, seed, n_jobs)


def compute(
    sample: Sample,
    settings: dict,
    *,
    seed: int,
    n_jobs: int | None,
    held_out: HeldOut | None = None,
) -> dict:
    """The ``dci`` family of :func:`infomec.score` (model from ``settings["dci_model"]``)."""
    held_out = require_held_out(held_out, "dci")
    return _dci_of_held_out(held_out, settings.get("dci_model", "gbt"), seed, n_jobs)
