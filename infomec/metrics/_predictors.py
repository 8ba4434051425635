"""disentanglement_lib's downstream predictors and the row draws of its task families.

- :func:`fit_predictor`: the two ``predictor_fn`` of disentanglement_lib's configurations,
  ``LogisticRegressionCV(Cs=10, cv=KFold(n_splits=5))`` and
  ``GradientBoostingClassifier()`` (seeded here; disentanglement_lib leaves its
  ``random_state`` unset), fitted on raw latents;
- :class:`CombinationIndex`: rows of a table by their full combination of source values,
  so that "the observation of these factors, with factor j set to c" can be looked up in
  the given rows (fairness, strong downstream task);
- :func:`training_rows`: the rows standing in for disentanglement_lib's fresh training
  points of one size.
"""

from __future__ import annotations

import warnings
from concurrent.futures import Executor
from typing import Any

import numpy as np

from infomec._validation import check_choice, check_positive_int

__all__ = [
    "PREDICTORS",
    "CombinationIndex",
    "check_sizes",
    "fit_predictor",
    "training_rows",
]

#: Predictor names, after disentanglement_lib's gin configurations
#: ``downstream_task_logistic_regression`` and ``downstream_task_boosted_trees``.
PREDICTORS = ("logistic_regression", "boosted_trees")


class ConstantPredictor:
    """The prediction of a fit on a single class (scikit-learn's classifiers raise)."""

    def __init__(self, value: int) -> None:
        self.value = value

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.full(x.shape[0], self.value, dtype=np.int64)


def _logistic_regression_cv() -> Any:
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import KFold

    # scoring="accuracy" is the score disentanglement_lib's scikit-learn used (the
    # estimator's default); spelt out because scikit-learn 1.9 announces a new default.
    return LogisticRegressionCV(Cs=10, cv=KFold(n_splits=5), scoring="accuracy")


def fit_predictor(
    predictor: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    seed: int,
    tree_pool: Executor | None = None,
) -> tuple[Any, bool]:
    """Fit one of :data:`PREDICTORS` on ``(x, y)``; returns the model and its convergence.

    ``converged`` is False when scikit-learn's lbfgs stopped at ``max_iter`` in any of
    the cross-validated fits (disentanglement_lib ran with the same limit of 100).
    """
    predictor = check_choice(predictor, "predictor", PREDICTORS)
    values = np.unique(y)
    if values.size < 2:
        return ConstantPredictor(int(values[0])), True
    if predictor == "boosted_trees":
        from infomec.gbt.boosting import fit_gradient_boosting

        return fit_gradient_boosting(x, y, seed=seed, tree_pool=tree_pool), True
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    model = _logistic_regression_cv()
    # One BLAS thread: lbfgs on small problems runs 25x slower with a full team of
    # threads on busy cores (1.3 s against 31 s for 1,000 x 10 on 2 contended cores).
    with threadpool_limits(limits=1), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        # scikit-learn 1.8+ announces changes of defaults (l1_ratios, attributes) that
        # do not change this fit; the scoring default is pinned above.
        warnings.simplefilter("ignore", FutureWarning)
        model.fit(x, y)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return model, converged


def check_sizes(sizes, name: str = "num_train") -> tuple[int, ...]:
    """Training sizes: a non-empty sequence of positive integers, kept in order."""
    if isinstance(sizes, (int, np.integer)) and not isinstance(sizes, bool):
        sizes = (sizes,)
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of positive integers, got {sizes!r}") from None
    if not sizes:
        raise ValueError(f"{name} must list at least one training size")
    checked = tuple(check_positive_int(size, f"each {name} entry") for size in sizes)
    if len(set(checked)) != len(checked):
        raise ValueError(f"{name} has repeated sizes: {list(checked)}")
    return checked


def training_rows(n_rows: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Rows for ``size`` training points: all, in order, if ``size == n_rows``; else a
    seeded subset drawn without replacement (in draw order). ``size <= n_rows``."""
    if size == n_rows:
        return np.arange(n_rows)
    return rng.choice(n_rows, size=size, replace=False)


class CombinationIndex:
    """Rows of a table grouped by their full combination of source codes.

    Parameters
    ----------
    codes : ndarray of shape (n_sources, n_rows)
        Label codes of the sources (a :class:`~infomec.data.Sample`'s ``sources.codes``).

    Examples
    --------
    >>> import numpy as np
    >>> index = CombinationIndex(np.array([[0, 0, 1, 1, 1], [0, 1, 0, 1, 1]]))
    >>> rng = np.random.default_rng(0)
    >>> index.lookup(np.array([[1, 0], [0, 1], [2, 0]]), rng).tolist()
    [2, 1, -1]
    """

    def __init__(self, codes: np.ndarray) -> None:
        table = np.ascontiguousarray(np.asarray(codes).T, dtype=np.int64)
        self.keys, inverse = np.unique(table, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        self.order = np.argsort(inverse, kind="stable")
        self.bounds = np.searchsorted(inverse[self.order], np.arange(self.keys.shape[0] + 1))

    def lookup(self, queries: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One row per query combination, uniform among the rows that have it; -1 if none.

        One uniform number is drawn per query (found or not), so the draws do not depend
        on which combinations exist.
        """
        queries = np.ascontiguousarray(queries, dtype=np.int64)
        uniforms = rng.random(queries.shape[0])
        n_keys = self.keys.shape[0]
        _, groups = np.unique(np.vstack([self.keys, queries]), axis=0, return_inverse=True)
        groups = groups.ravel()
        key_of_group = np.full(groups.max() + 1, -1, dtype=np.int64)
        key_of_group[groups[:n_keys]] = np.arange(n_keys)
        keys = key_of_group[groups[n_keys:]]
        rows = np.full(queries.shape[0], -1, dtype=np.int64)
        found = keys >= 0
        start = self.bounds[keys[found]]
        count = self.bounds[keys[found] + 1] - start
        picks = np.minimum((uniforms[found] * count).astype(np.int64), count - 1)
        rows[found] = self.order[start + picks]
        return rows
