"""Pieces shared by the disentanglement_lib ("legacy") metric families.

- validation of the arrays given to the public pure functions (:func:`sample_of`,
  :func:`held_out_of`), so every family refuses bad input with the same one-line errors;
- the 20-bin discretisation of latents and the binned mutual-information matrix used by
  MIG, MIG-sup, modularity and the unsupervised scores;
- small aggregation helpers (top-two gaps, standardisation, ROC-AUC).

The default scikit-learn logistic regression used by explicitness and the BetaVAE score
is in :mod:`infomec.probes.penalized_logistic`.

Discrete latents are used through their own label codes rather than binned: binning
integer codes into 20 equal-width bins (as disentanglement_lib would) merges values when a
latent has more than 20 of them, or uneven spacing, and changes nothing otherwise.
"""

from __future__ import annotations

import numpy as np

from infomec._validation import check_positive_int, check_summable
from infomec.data import HeldOut, Sample, split_sample
from infomec.estimators import entropy_per_column, histogram_codes, plugin_mutual_information_matrix
from infomec.estimators.ranking import ordered_pair_count
from infomec.inputs.pipeline import prepare_held_out, prepare_sample
from infomec.parallel import numba_threads

#: disentanglement_lib's number of equal-width bins for continuous latents.
DLIB_BINS = 20


# ------------------------------------------------------------------ validation


def sample_of(latents, sources, discrete_latents: bool | None, *, squares: bool = False) -> Sample:
    """Validate and encode arrays given to a public metric function (``squares``: the
    family takes variances, see :func:`~infomec._validation.check_summable`)."""
    sample = prepare_sample(latents, sources, discrete_latents=discrete_latents)
    check_summable(sample.latents, squares=squares)
    return sample


def held_out_of(
    latents,
    sources,
    test_latents,
    test_sources,
    *,
    test_size: float,
    seed: int,
    discrete_latents: bool | None,
) -> HeldOut:
    """Training and test rows: explicit arrays when given, else a seeded split."""
    if (test_latents is None) != (test_sources is None):
        raise ValueError("test_latents and test_sources must be given together")
    seed = check_positive_int(seed, "seed", minimum=0)
    if test_latents is None:  # every held-out family fits a model or takes variances
        sample = sample_of(latents, sources, discrete_latents, squares=True)
        return split_sample(sample, test_size=test_size, seed=seed)
    held_out = prepare_held_out(
        latents,
        sources,
        test_latents,
        test_sources,
        discrete_latents=discrete_latents,
        max_source_values=1000,
        source_bins=None,
    )
    check_summable(held_out.train.latents, squares=True)
    check_summable(held_out.test.latents, "test_latents", squares=True)
    return held_out


def require_held_out(held_out: HeldOut | None, family: str) -> HeldOut:
    """The held-out rows a family registered with ``needs_held_out=True`` receives."""
    if held_out is None:
        raise ValueError(f"the {family} family needs training and test rows (held_out)")
    return held_out


def check_n_bins(n_bins) -> int:
    """Number of histogram bins: an integer >= 2."""
    return check_positive_int(n_bins, "n_bins", minimum=2)


# ------------------------------------------------------- binned information


def latent_codes(sample: Sample, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Label codes of the latents: their own codes if discrete, else 20-bin histograms.

    Returns ``(codes, cardinalities)`` with codes of shape (n_latents, n_samples).
    """
    if sample.discrete:
        encoded = sample.latent_codes
        return encoded.codes, encoded.cardinalities
    return histogram_codes(sample.latents, n_bins)


def binned_mutual_information(
    sample: Sample, n_bins: int, n_jobs: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Plug-in ``I(s_k; z_j)`` of every pair, shape (n_sources, n_latents), and ``H(s_k)``.

    Continuous latents are discretised with disentanglement_lib's histogram edges.
    """
    codes, cardinalities = latent_codes(sample, n_bins)
    sources = sample.sources
    with numba_threads(n_jobs):
        mutual_information = plugin_mutual_information_matrix(
            sources.codes, sources.cardinalities, codes, cardinalities
        )
        entropies = entropy_per_column(sources.codes, sources.cardinalities)
    return mutual_information, entropies


def source_normalized(mutual_information: np.ndarray, entropies: np.ndarray) -> np.ndarray:
    """``I / H(s_k)`` row by row; a source with ``H = 0`` gets a zero row (it has no MI)."""
    normalized = np.zeros_like(mutual_information)
    informative = entropies > 0
    normalized[informative] = mutual_information[informative] / entropies[informative, None]
    return normalized


def top_two_gap(matrix: np.ndarray, axis: int) -> np.ndarray:
    """Largest minus second-largest entry along ``axis`` (the largest alone if only one)."""
    ordered = np.sort(np.asarray(matrix, dtype=np.float64), axis=axis)
    top = np.take(ordered, -1, axis=axis)
    if matrix.shape[axis] < 2:
        return top
    return top - np.take(ordered, -2, axis=axis)


def single_valued_sources(sample: Sample) -> np.ndarray:
    """Mask of sources that take one value (entropy 0); encode_sources already warned."""
    return sample.sources.cardinalities < 2


# --------------------------------------------------------- linear models


def latent_matrix(sample: Sample) -> np.ndarray:
    """The latents as a C-contiguous float64 array (n_samples, n_latents)."""
    return np.ascontiguousarray(sample.latents, dtype=np.float64)


def standardize(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standardise both parts with the training mean and (population) std.

    Guard: a constant training column has std 0; it is only centred (divided by 1).
    """
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (
        np.ascontiguousarray((train - mean) / std),
        np.ascontiguousarray((test - mean) / std),
    )


def macro_roc_auc(labels: np.ndarray, scores: np.ndarray, classes: np.ndarray) -> float:
    """One-vs-rest ROC-AUC averaged over classes, as disentanglement_lib computes it.

    ``scores[:, k]`` scores membership of ``classes[k]``. disentanglement_lib binarises
    the labels that occur and calls ``roc_auc_score`` (macro average); a class present in
    ``labels`` but unknown to the model scores 0 for every row (AUC 0.5). Classes whose
    column would have no positive or no negative row have no AUC and are left out; with
    none left the result is 0.5 (no information). Ties get half credit, as in
    scikit-learn: each AUC is the exact count of (positive, negative) pairs ordered
    correctly, plus half the tied ones, over the number of pairs.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.array([0, 0, 1, 1])
    >>> scores = np.array([[0.9, 0.1], [0.6, 0.4], [0.7, 0.3], [0.2, 0.8]])
    >>> macro_roc_auc(labels, scores, np.arange(2))
    0.75
    """
    aucs = []
    n = labels.shape[0]
    for value in np.unique(labels):
        positive = labels == value
        n_positive = int(positive.sum())
        if n_positive in (0, n):
            continue
        column = np.flatnonzero(classes == value)
        score = scores[:, column[0]] if column.size else np.zeros(n)
        pairs = ordered_pair_count(np.sort(score[~positive]), np.sort(score[positive]))
        aucs.append(pairs / (2.0 * n_positive * (n - n_positive)))
    if not aucs:
        return 0.5
    return float(np.mean(aucs))
