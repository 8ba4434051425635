"""DCIMIG (Sepliarskaia, Kiseleva & de Rijke 2019), as the review of Zaidi et al. computes it.

Plug-in mutual information ``I(s_k; z_j)`` in bits between each source and each latent,
binned into 10 equal-width bins (see :mod:`infomec.metrics._review`). Each latent ``z_j``
credits the gap between its largest and second-largest MI over sources to the source
with the largest MI (the first one on ties); each source keeps the largest gap credited
to it (0 if none); DCIMIG is the sum of those gaps divided by ``sum_k H(s_k)``.

Guards the review's code lacks: with one source the second-largest MI is taken as 0 (the
review raises); when every source is single-valued (``sum_k H(s_k) = 0``) the score is 0
with a warning (the review divides by 0).
"""

from __future__ import annotations

import numpy as np

from infomec._validation import warn
from infomec.data import HeldOut, Sample
from infomec.metrics._legacy import sample_of
from infomec.metrics._review import REVIEW_BINS, check_bins, information_in_bits

__all__ = ["compute", "dcimig", "dcimig_from_mutual_information"]


def dcimig_from_mutual_information(mutual_information, entropies) -> tuple[float, np.ndarray]:
    """DCIMIG and the per-source gaps from an MI matrix and the source entropies.

    Parameters
    ----------
    mutual_information : array-like of shape (n_sources, n_latents)
        ``I(s_k; z_j)`` (any log base, the same as ``entropies``).
    entropies : array-like of shape (n_sources,)
        ``H(s_k)``.

    Returns
    -------
    score : float
        ``sum_k gaps[k] / sum_k H(s_k)``; 0 when every entropy is 0.
    gaps : ndarray of shape (n_sources,)
        The largest gap credited to each source (unnormalised, in the MI's units).

    Examples
    --------
    Latent 0 credits 0.6 - 0.2 to source 0, latent 1 credits 0.5 - 0.1 to source 1:

    >>> score, gaps = dcimig_from_mutual_information([[0.6, 0.1], [0.2, 0.5]], [1.0, 1.0])
    >>> round(score, 4), gaps.round(4).tolist()
    (0.4, [0.4, 0.4])
    """
    mutual_information = np.asarray(mutual_information, dtype=np.float64)
    entropies = np.asarray(entropies, dtype=np.float64)
    if mutual_information.ndim != 2 or entropies.shape != (mutual_information.shape[0],):
        raise ValueError(
            f"mutual_information must be (n_sources, n_latents) and entropies (n_sources,); "
            f"got {mutual_information.shape} and {entropies.shape}"
        )
    n_sources, n_latents = mutual_information.shape
    ordered = np.sort(mutual_information, axis=0)
    second = ordered[-2] if n_sources > 1 else np.zeros(n_latents)
    latent_gaps = ordered[-1] - second
    winners = np.argmax(mutual_information, axis=0)  # the first source on ties
    gaps = np.zeros(n_sources)
    np.maximum.at(gaps, winners, latent_gaps)
    total_entropy = float(entropies.sum())
    if total_entropy <= 0:
        warn("dcimig: every source takes a single value (zero entropy); score set to 0")
        return 0.0, gaps
    return float(gaps.sum() / total_entropy), gaps


def _dcimig_of_sample(sample: Sample, bins: int, n_jobs: int | None) -> dict:
    mutual_information, entropies, _, _ = information_in_bits(sample, bins, n_jobs)
    score, gaps = dcimig_from_mutual_information(mutual_information, entropies)
    return {"score": score, "gaps": gaps}


def dcimig(
    *,
    latents,
    sources,
    discrete_latents: bool | None = None,
    bins: int = REVIEW_BINS,
    n_jobs: int | None = None,
) -> dict:
    """DCIMIG of a representation, as the review of Zaidi et al. (2020) computes it.

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
        Binned into ``bins`` equal-width bins each, discrete ones included.
    sources : array-like of shape (n_samples, n_sources)
        Discrete factors, used through their own values.
    discrete_latents : bool, optional
        Only affects validation (every latent is binned, as in the review).
    bins : int, default=10
        Equal-width bins per latent over its [min, max] (the review: 10).
    n_jobs : int, optional
        Threads of the MI kernel (results do not depend on it).

    Returns
    -------
    dict
        ``score`` (float in [0, 1]) and ``gaps`` (ndarray, the largest gap in bits
        credited to each source).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.integers(0, 4, size=(2000, 2))
    >>> latents = sources + 0.01 * rng.standard_normal((2000, 2))
    >>> round(dcimig(latents=latents, sources=sources)["score"], 2)
    1.0
    """
    sample = sample_of(latents, sources, discrete_latents)
    return _dcimig_of_sample(sample, check_bins(bins), n_jobs)


def compute(
    sample: Sample,
    settings: dict,
    *,
    seed: int,
    n_jobs: int | None,
    held_out: HeldOut | None = None,
) -> dict:
    """The ``dcimig`` family of :func:`infomec.score` (deterministic; uses every row)."""
    return _dcimig_of_sample(sample, REVIEW_BINS, n_jobs)
