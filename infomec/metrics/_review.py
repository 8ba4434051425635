"""Pieces shared by the families of the review "Measuring Disentanglement" (Zaidi et al. 2020).

The review's code (ubisoft-laforge-disentanglement-metrics) bins every latent into
``n_bins`` equal-width bins over its ``[min, max]`` on the rows given, the maximum in the
top bin, and measures information in bits with plug-in estimates. Here the bins are the
ones :func:`numpy.histogram` draws with ``n_bins`` bins (the same bins as the review's
min-max scaling followed by ``np.digitize`` on ``linspace(0, 1, n_bins + 1)[:-1]``, up to
rounding exactly at a bin edge). Unlike the disentanglement_lib families, discrete
latents are binned too, as the review does with whatever it is given: with at most
``n_bins`` distinct values spread over a range of at most ``n_bins - 1`` (codes
``0 .. n_bins - 1``, booleans) that is the identity, otherwise values are merged.

Sources are used through their own codes (the review's ``continuous_factors=False``);
information quantities do not depend on how their values are labelled.
"""

from __future__ import annotations

import numpy as np

from infomec.data import Sample
from infomec.estimators import entropy_per_column, histogram_codes, plugin_mutual_information_matrix
from infomec.metrics._legacy import check_n_bins
from infomec.parallel import numba_threads

#: The review's number of equal-width bins per latent.
REVIEW_BINS = 10

_LN2 = np.log(2.0)


def check_bins(bins) -> int:
    """Number of equal-width bins: an integer >= 2 (the error names ``bins``)."""
    try:
        return check_n_bins(bins)
    except ValueError as error:
        raise ValueError(str(error).replace("n_bins", "bins")) from None


def review_codes(sample: Sample, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Histogram codes of every latent (discrete ones included), shape (n_latents, n)."""
    return histogram_codes(np.asarray(sample.latents, dtype=np.float64), bins)


def information_in_bits(
    sample: Sample, bins: int, n_jobs: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``I(s_k; z_j)`` (n_sources, n_latents) and ``H(s_k)`` in bits, and the latent codes.

    Returns ``(mutual_information, entropies, latent_codes, latent_cardinalities)``.
    """
    codes, cardinalities = review_codes(sample, bins)
    sources = sample.sources
    with numba_threads(n_jobs):
        mutual_information = plugin_mutual_information_matrix(
            sources.codes, sources.cardinalities, codes, cardinalities
        )
        entropies = entropy_per_column(sources.codes, sources.cardinalities)
    return mutual_information / _LN2, entropies / _LN2, codes, cardinalities


def joint_entropy_bits(
    codes_a: np.ndarray, n_values_a: int, codes_b: np.ndarray, n_values_b: int
) -> float:
    """Plug-in joint entropy ``H(a, b)`` in bits of two label-coded variables."""
    joint = codes_a.astype(np.int64) * int(n_values_b) + codes_b
    counts = np.bincount(joint, minlength=int(n_values_a) * int(n_values_b))
    counts = counts[counts > 0].astype(np.float64)
    probabilities = counts / codes_a.shape[0]
    return float(max(-np.sum(probabilities * np.log2(probabilities)), 0.0))
