"""disentanglement_lib's unified scores: every matrix with every aggregation.

Three matrices relate latents (rows) to sources (columns), each as its own family
computes it:

- ``importance_gbt_matrix``: DCI's gradient-boosting importances (training rows);
- ``mutual_information_matrix``: the plug-in mutual information of the 20-bin
  histogram codes of the latents and the sources, in nats (training rows);
- ``accuracy_svm_matrix``: SAP's one-latent linear-SVM test accuracies.

Each is aggregated four ways (DCI's ``dci_disentanglement`` / ``dci_completeness`` with
their per-code and per-factor values; MIG's gap divided by the source entropy; SAP's
top-two gap; modularity per code and overall) and summarised by its precision curve:
for every threshold ``t`` (the matrix entries, descending), the number of connected
components with at least one edge in the bipartite latent-source graph whose edges are
the entries ``>= t``; ``area_precision`` is the trapezoid area under that curve over
the thresholds and ``max_precision`` its maximum. Keys are disentanglement_lib's:
``"{matrix}.{score}"``, e.g. ``"importance_gbt_matrix.dci_disentanglement"``,
``"mutual_information_matrix.mig.factor_0"``; the per-factor completeness keeps its
name ``dci_completeness.code_{k}`` (``k`` a source).

Guards where disentanglement_lib divides by zero or indexes past the end: a source of
entropy 0 has MIG 0; with one latent the top-two gap is the top entry; with one source
(or one latent) the per-code (per-factor) entropy score is 1; a latent with no entry
above 0 has modularity 0, as in disentanglement_lib. The boosted trees are seeded.
"""

from __future__ import annotations

import numpy as np

from infomec.data import HeldOut, Sample
from infomec.metrics._legacy import (
    DLIB_BINS,
    binned_mutual_information,
    held_out_of,
    require_held_out,
    top_two_gap,
)
from infomec.metrics.dci import _dci_of_held_out, _one_minus_entropy
from infomec.metrics.dci import dci_completeness as _completeness
from infomec.metrics.dci import dci_disentanglement as _disentanglement
from infomec.metrics.sap import _sap_matrix

__all__ = ["MATRICES", "aggregate", "compute", "precision_curve", "unified_scores"]

MATRICES = ("importance_gbt_matrix", "mutual_information_matrix", "accuracy_svm_matrix")


def _entropy_scores(rows: np.ndarray) -> np.ndarray:
    """``1 - H`` of each row in base ``rows.shape[1]``; 1 for a single column."""
    if rows.shape[1] == 1:
        return np.ones(rows.shape[0])
    return _one_minus_entropy(rows)


def _modularity_per_code(matrix: np.ndarray) -> np.ndarray:
    squared = matrix**2
    theta = squared.max(axis=1)
    per_code = np.zeros(matrix.shape[0])
    used = theta > 0
    if matrix.shape[1] == 1:
        per_code[used] = 1.0
    else:
        delta = (squared[used].sum(axis=1) - theta[used]) / (theta[used] * (matrix.shape[1] - 1))
        per_code[used] = 1.0 - delta
    return per_code


def _components_with_edges(edges: np.ndarray) -> int:
    """Connected components of the bipartite graph with at least one edge."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n_rows, n_columns = edges.shape
    rows, columns = np.nonzero(edges)
    if rows.size == 0:
        return 0
    n = n_rows + n_columns
    graph = coo_matrix((np.ones(rows.size), (rows, n_rows + columns)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return int(np.unique(labels[rows]).size)


def precision_curve(matrix) -> tuple[np.ndarray, np.ndarray]:
    """Thresholds (entries, descending) and the component count at each.

    Examples
    --------
    Two latents, each tied to its own source, are two components once both edges count:

    >>> thresholds, counts = precision_curve([[0.9, 0.0], [0.0, 0.2]])
    >>> thresholds.tolist(), counts.tolist()
    ([0.9, 0.2, 0.0, 0.0], [1, 2, 2, 2])
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    thresholds = np.sort(matrix.ravel())[::-1]
    counts = np.array([_components_with_edges((matrix >= t) & (matrix != 0)) for t in thresholds])
    return thresholds, counts


def aggregate(matrix, entropies) -> dict:
    """Every aggregation of one (n_latents x n_sources) matrix, disentanglement_lib's keys.

    Parameters
    ----------
    matrix : array-like of shape (n_latents, n_sources)
        Non-negative.
    entropies : array-like of shape (n_sources,)
        Entropy of each source in the training rows (nats), MIG's normaliser.

    Examples
    --------
    >>> import numpy as np
    >>> scores = aggregate(np.eye(2), [1.0, 1.0])
    >>> round(scores["dci_disentanglement"], 6), scores["mig"], scores["max_precision"]
    (1.0, 1.0, 2)
    """
    matrix = np.clip(np.asarray(matrix, dtype=np.float64), 0.0, None)
    entropies = np.asarray(entropies, dtype=np.float64)
    scores: dict = {}
    thresholds, counts = precision_curve(matrix)
    scores["area_precision"] = float(
        np.sum(0.5 * (counts[:-1] + counts[1:]) * (thresholds[:-1] - thresholds[1:]))
    )
    scores["max_precision"] = int(counts.max())
    disentanglement = _disentanglement(matrix)
    scores["dci_disentanglement"] = disentanglement
    scores["dci_completeness"] = _completeness(matrix)
    scores["dci"] = disentanglement
    for j, value in enumerate(_entropy_scores(matrix)):
        scores[f"dci_disentanglement.code_{j}"] = float(value)
    for k, value in enumerate(_entropy_scores(matrix.T)):
        scores[f"dci_completeness.code_{k}"] = float(value)
    gaps = top_two_gap(matrix, axis=0)
    mig = np.zeros_like(gaps)
    np.divide(gaps, entropies, out=mig, where=entropies > 0)
    scores["mig"] = float(np.mean(mig))
    for k, value in enumerate(mig):
        scores[f"mig.factor_{k}"] = float(value)
    scores["sap"] = float(np.mean(gaps))
    for k, value in enumerate(gaps):
        scores[f"sap.factor_{k}"] = float(value)
    per_code = _modularity_per_code(matrix)
    scores["modularity"] = float(np.mean(per_code))
    for j, value in enumerate(per_code):
        scores[f"modularity.code_{j}"] = float(value)
    return scores


def _matrices(held_out: HeldOut, seed: int, n_jobs: int | None) -> dict[str, np.ndarray]:
    mutual_information, _ = binned_mutual_information(held_out.train, DLIB_BINS, n_jobs)
    return {
        "importance_gbt_matrix": _dci_of_held_out(held_out, "gbt", seed, n_jobs)["importance"],
        "mutual_information_matrix": mutual_information.T,
        "accuracy_svm_matrix": _sap_matrix(held_out, n_jobs),
    }


def _unified_of_held_out(held_out: HeldOut, seed: int, n_jobs: int | None) -> dict:
    _, entropies = binned_mutual_information(held_out.train, DLIB_BINS, n_jobs)
    scores = {}
    for name, matrix in _matrices(held_out, seed, n_jobs).items():
        scores.update(
            {f"{name}.{key}": value for key, value in aggregate(matrix, entropies).items()}
        )
    return scores


def unified_scores(
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
    """disentanglement_lib's unified scores (three matrices x five summaries).

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
    sources : array-like of shape (n_samples, n_sources)
    test_latents, test_sources : array-like, optional
        Held-out rows (for the SVM accuracies); otherwise a seeded split.
    test_size : float, default=1/3
    discrete_latents : bool, optional
        Discrete latents enter the mutual information through their own codes.
    seed : int, default=0
    n_jobs : int, optional

    Returns
    -------
    dict
        ``"{matrix}.{score}"`` for the matrices in :data:`MATRICES`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.integers(0, 3, size=(900, 2))
    >>> latents = sources + 0.1 * rng.standard_normal((900, 2))
    >>> scores = unified_scores(latents=latents, sources=sources)
    >>> round(scores["importance_gbt_matrix.dci_disentanglement"], 3)
    1.0
    >>> round(scores["mutual_information_matrix.modularity"], 3)
    1.0
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
    return _unified_of_held_out(held_out, seed, n_jobs)


def compute(
    sample: Sample,
    settings: dict,
    *,
    seed: int,
    n_jobs: int | None,
    held_out: HeldOut | None = None,
) -> dict:
    """The ``unified_scores`` family of :func:`infomec.score`."""
    return _unified_of_held_out(require_held_out(held_out, "unified_scores"), seed, n_jobs)
