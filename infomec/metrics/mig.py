"""Mutual Information Gap (Chen et al. 2018), as disentanglement_lib computes it.

For each source ``s_k``: the gap between the largest and second-largest mutual
information any latent has with it, divided by ``H(s_k)``; MIG is the mean over sources.
Continuous latents are discretised into 20 equal-width bins with disentanglement_lib's
histogram edges (``np.histogram`` edges, digitised against all but the last); discrete
latents use their own codes. Mutual information and entropies are plug-in estimates
in nats (the numba kernels reproduce ``sklearn.metrics.mutual_info_score``).

Differences from disentanglement_lib (which divides by ``H(s_k)`` unguarded and needs at
least two latents): a single-valued source (``H = 0``) has gap 0 and is left out of the
mean, with a warning, instead of producing NaN; with one latent, the second-largest MI
is taken as 0.
"""

from __future__ import annotations

import numpy as np

from infomec._validation import warn
from infomec.data import HeldOut, Sample
from infomec.metrics._legacy import (
    DLIB_BINS,
    binned_mutual_information,
    check_n_bins,
    sample_of,
    source_normalized,
    top_two_gap,
)

__all__ = ["compute", "mig", "mig_from_mutual_information"]


def mig_from_mutual_information(
    mutual_information, entropies, *, source_names=None
) -> tuple[float, np.ndarray]:
    """MIG and the per-source normalised gaps from an MI matrix and source entropies.

    Parameters
    ----------
    mutual_information : array-like of shape (n_sources, n_latents)
        ``I(s_k; z_j)`` in nats.
    entropies : array-like of shape (n_sources,)
        ``H(s_k)`` in nats.
    source_names : list of str, optional
        Used in the warning about single-valued sources.

    Returns
    -------
    score : float
        Mean gap over sources with ``H > 0`` (0 if there is none), clipped to [0, 1].
    gaps : ndarray of shape (n_sources,)
        ``(I_(1) - I_(2)) / H(s_k)``; 0 for a source with ``H = 0``.

    Examples
    --------
    >>> score, gaps = mig_from_mutual_information([[0.6, 0.1], [0.2, 0.5]], [0.7, 0.6])
    >>> round(score, 4), gaps.round(4).tolist()
    (0.6071, [0.7143, 0.5])
    """
    mutual_information = np.asarray(mutual_information, dtype=np.float64)
    entropies = np.asarray(entropies, dtype=np.float64)
    if mutual_information.ndim != 2 or entropies.shape != (mutual_information.shape[0],):
        raise ValueError(
            f"mutual_information must be (n_sources, n_latents) and entropies (n_sources,); "
            f"got {mutual_information.shape} and {entropies.shape}"
        )
    gaps = np.clip(top_two_gap(source_normalized(mutual_information, entropies), axis=1), 0, 1)
    informative = entropies > 0
    if not informative.all():
        names = source_names or [f"s{k}" for k in range(entropies.shape[0])]
        left_out = [names[k] for k in np.flatnonzero(~informative)]
        warn(f"MIG: sources with zero entropy left out of the mean: {', '.join(left_out)}")
    if not informative.any():
        return 0.0, gaps
    return float(np.mean(gaps[informative])), gaps


def _mig_of_sample(sample: Sample, n_bins: int, n_jobs: int | None) -> dict:
    mutual_information, entropies = binned_mutual_information(sample, n_bins, n_jobs)
    score, gaps = mig_from_mutual_information(
        mutual_information, entropies, source_names=sample.source_names
    )
    return {"score": score, "gaps": gaps}


def mig(
    *,
    latents,
    sources,
    discrete_latents: bool | None = None,
    n_bins: int = DLIB_BINS,
    n_jobs: int | None = None,
) -> dict:
    """Mutual Information Gap of a representation.

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
    sources : array-like of shape (n_samples, n_sources)
        Discrete factors.
    discrete_latents : bool, optional
        Use the latents' own codes (default for integer/bool dtypes) instead of
        ``n_bins`` histogram bins.
    n_bins : int, default=20
        Equal-width bins for continuous latents (disentanglement_lib: 20).
    n_jobs : int, optional
        Threads of the MI kernel (results do not depend on it).

    Returns
    -------
    dict
        ``score`` (float in [0, 1]) and ``gaps`` (ndarray, one per source).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.integers(0, 4, size=(1000, 2))
    >>> latents = np.column_stack([sources, rng.integers(0, 4, 1000)])
    >>> result = mig(latents=latents, sources=sources)
    >>> round(result["score"], 2), result["gaps"].round(2).tolist()
    (1.0, [1.0, 1.0])
    """
    sample = sample_of(latents, sources, discrete_latents)
    return _mig_of_sample(sample, check_n_bins(n_bins), n_jobs)


def compute(
    sample: Sample,
    settings: dict,
    *,
    seed: int,
    n_jobs: int | None,
    held_out: HeldOut | None = None,
) -> dict:
    """The ``mig`` family of :func:`infomec.score` (deterministic; uses every row)."""
    return _mig_of_sample(sample, DLIB_BINS, n_jobs)
