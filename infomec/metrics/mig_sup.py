"""MIG-sup (Li et al. 2020): the mutual information gap taken per latent.

For each latent ``z_j``: the gap between the two largest source-normalised mutual
informations ``I(s_k; z_j) / H(s_k)`` over sources; MIG-sup is the mean over all latents
(an unused latent scores 0 and so lowers it). Latents are discretised exactly as for
:mod:`~infomec.metrics.mig` (20 histogram bins, or their own codes when discrete).

disentanglement_lib has no MIG-sup; the definition follows Li et al. with the
source normalisation of MIG (the Ubisoft implementation normalises by ``H(z_j)``
instead). Guards: a single-valued source contributes a zero row; with one source the
second-largest value is taken as 0.
"""

from __future__ import annotations

import numpy as np

from infomec.data import HeldOut, Sample
from infomec.metrics._legacy import (
    DLIB_BINS,
    binned_mutual_information,
    check_n_bins,
    sample_of,
    source_normalized,
    top_two_gap,
)

__all__ = ["compute", "mig_sup", "mig_sup_from_mutual_information"]


def mig_sup_from_mutual_information(mutual_information, entropies) -> float:
    """MIG-sup from an MI matrix (n_sources, n_latents) and the source entropies.

    Parameters
    ----------
    mutual_information : array-like of shape (n_sources, n_latents)
    entropies : array-like of shape (n_sources,)

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> round(mig_sup_from_mutual_information([[0.6, 0.1], [0.2, 0.5]], [0.7, 0.6]), 4)
    0.6071
    """
    mutual_information = np.asarray(mutual_information, dtype=np.float64)
    entropies = np.asarray(entropies, dtype=np.float64)
    if mutual_information.ndim != 2 or entropies.shape != (mutual_information.shape[0],):
        raise ValueError(
            f"mutual_information must be (n_sources, n_latents) and entropies (n_sources,); "
            f"got {mutual_information.shape} and {entropies.shape}"
        )
    gaps = top_two_gap(source_normalized(mutual_information, entropies), axis=0)
    return float(np.clip(np.mean(gaps), 0.0, 1.0))


def _mig_sup_of_sample(sample: Sample, n_bins: int, n_jobs: int | None) -> dict:
    mutual_information, entropies = binned_mutual_information(sample, n_bins, n_jobs)
    return {"score": mig_sup_from_mutual_information(mutual_information, entropies)}


def mig_sup(
    *,
    latents,
    sources,
    discrete_latents: bool | None = None,
    n_bins: int = DLIB_BINS,
    n_jobs: int | None = None,
) -> dict:
    """MIG-sup of a representation: does each latent inform about one source only?

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
    sources : array-like of shape (n_samples, n_sources)
    discrete_latents : bool, optional
        Use the latents' own codes instead of histogram bins (default for integer
        dtypes).
    n_bins : int, default=20
    n_jobs : int, optional

    Returns
    -------
    dict
        ``score``: float in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.integers(0, 4, size=(1000, 2))
    >>> round(mig_sup(latents=sources.copy(), sources=sources)["score"], 2)
    1.0
    """
    sample = sample_of(latents, sources, discrete_latents)
    return _mig_sup_of_sample(sample, check_n_bins(n_bins), n_jobs)


def compute(
    sample: Sample,
    settings: dict,
    *,
    seed: int,
    n_jobs: int | None,
    held_out: HeldOut | None = None,
) -> dict:
    """The ``mig_sup`` family of :func:`infomec.score` (deterministic; uses every row)."""
    return _mig_sup_of_sample(sample, DLIB_BINS, n_jobs)
