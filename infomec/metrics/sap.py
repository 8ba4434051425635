"""SAP, the Separated Attribute Predictability score (Kumar et al. 2018).

As disentanglement_lib computes it for discrete factors: ``matrix[j, k]`` is the test
accuracy of ``LinearSVC(C=0.01, class_weight="balanced")`` trained on latent ``j`` alone
(raw values) to predict source ``k``; SAP is the mean over sources of the gap between
the best and the second-best latent.

The SVMs are solved by :mod:`infomec.estimators.linear_svm`: the same objective as
liblinear (intercept penalised, liblinear's one-vs-rest costs), solved to the exact
optimum, where liblinear stops at a tolerance; the accuracies agree with scikit-learn's
except for test rows that lie within that tolerance of a decision boundary.

Guards (disentanglement_lib raises instead): a source with one value in the training
rows is predicted as that value; with a single latent the second-best accuracy is 0.
Note that SAP is not 1 for a perfect code: the second-best latent still scores about
chance accuracy, and one linear feature cannot separate more than two classes well.
"""

from __future__ import annotations

import numpy as np

from infomec.data import HeldOut, Sample
from infomec.estimators.linear_svm import linear_svm_accuracy_matrix
from infomec.metrics._legacy import held_out_of, require_held_out, top_two_gap
from infomec.parallel import numba_threads

__all__ = ["compute", "sap", "sap_from_matrix"]

#: disentanglement_lib's ``LinearSVC(C=0.01)``.
SVM_COST = 0.01


def sap_from_matrix(matrix) -> float:
    """SAP from a score matrix: mean over sources of the top-two gap over latents.

    Parameters
    ----------
    matrix : array-like of shape (n_latents, n_sources)

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> round(sap_from_matrix([[0.9, 0.5], [0.4, 0.8], [0.3, 0.5]]), 4)
    0.4
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.size == 0 or not np.isfinite(matrix).all():
        raise ValueError(
            f"matrix must be a finite, non-empty (n_latents, n_sources) array, "
            f"got shape {matrix.shape}"
        )
    return float(np.clip(np.mean(top_two_gap(matrix, axis=0)), 0.0, 1.0))


def _sap_matrix(held_out: HeldOut, n_jobs: int | None = None) -> np.ndarray:
    """Test accuracy of every one-latent SVM, shape (n_latents, n_sources)."""
    train, test = held_out.train, held_out.test
    with numba_threads(n_jobs):
        return linear_svm_accuracy_matrix(
            np.ascontiguousarray(train.latents.T, dtype=np.float64),
            np.ascontiguousarray(train.sources.codes),
            np.ascontiguousarray(test.latents.T, dtype=np.float64),
            np.ascontiguousarray(test.sources.codes),
            train.sources.cardinalities,
            SVM_COST,
        )


def _sap_of_held_out(held_out: HeldOut, n_jobs: int | None) -> dict:
    matrix = _sap_matrix(held_out, n_jobs)
    return {"score": sap_from_matrix(matrix), "matrix": matrix}


def sap(
    *,
    latents,
    sources,
    test_latents=None,
    test_sources=None,
    test_size: float = 1 / 3,
    discrete_latents: bool | None = None,
    seed: int = 0,
    n_jobs: int | None = None,
) -> dict:
    """SAP score of a representation (discrete sources, linear SVM per latent).

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
    sources : array-like of shape (n_samples, n_sources)
    test_latents, test_sources : array-like, optional
        Held-out rows (used exactly as given); otherwise a seeded split.
    test_size : float, default=1/3
    discrete_latents : bool, optional
        Only affects validation: the SVMs always see the latents' values.
    seed : int, default=0
        Seed of the split (the SVMs are deterministic).
    n_jobs : int, optional

    Returns
    -------
    dict
        ``score`` (float) and ``matrix`` (ndarray, n_latents x n_sources).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.integers(0, 2, size=(900, 2))
    >>> latents = sources + 0.1 * rng.standard_normal((900, 2))
    >>> result = sap(latents=latents, sources=sources)
    >>> result["score"], result["matrix"].round(2).tolist()
    (0.5, [[1.0, 0.44], [0.56, 1.0]])
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
    return _sap_of_held_out(held_out, n_jobs)


def compute(
    sample: Sample,
    settings: dict,
    *,
    seed: int,
    n_jobs: int | None,
    held_out: HeldOut | None = None,
) -> dict:
    """The ``sap`` family of :func:`infomec.score` (SVMs on training rows, scored on test)."""
    return _sap_of_held_out(require_held_out(held_out, "sap"), n_jobs)
