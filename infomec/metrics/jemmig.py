"""JEMMIG (Do & Tran 2020), as the review of Zaidi et al. computes it.

Latents are binned into ``B = 10`` equal-width bins (see :mod:`infomec.metrics._review`)
and information is measured in bits. For each source ``s_k``: ``z*`` is the latent with
the largest mutual information ``I1 = I(s_k; z*)`` and ``I2`` the second-largest MI over
latents;

    JEMMIG_k = 1 - (H(s_k, z*) - I1 + I2) / (H(s_k) + log2 B)

with ``B`` the nominal number of bins (not the number occupied). JEMMIG is the mean over
sources.

Choices and guards: on a tie for the largest MI, ``z*`` is the *last* tied latent (the
review takes the last entry of ``np.argsort``, which keeps tied entries in order for the
short arrays it sorts); with one latent ``I2 = 0`` (the review raises).
"""

from __future__ import annotations

import numpy as np

from infomec.data import HeldOut, Sample
from infomec.metrics._legacy import sample_of
from infomec.metrics._review import REVIEW_BINS, check_bins, information_in_bits, joint_entropy_bits

__all__ = ["compute", "jemmig", "jemmig_from_information"]


def jemmig_from_information(
    mutual_information, entropies, joint_entropies, bins: int
) -> tuple[float, np.ndarray]:
    """JEMMIG and its per-source terms from information quantities in bits.

    Parameters
    ----------
    mutual_information : array-like of shape (n_sources, n_latents)
        ``I(s_k; z_j)`` in bits.
    entropies : array-like of shape (n_sources,)
        ``H(s_k)`` in bits.
    joint_entropies : array-like of shape (n_sources, n_latents)
        ``H(s_k, z_j)`` in bits (only the entry of each source's ``z*`` is read).
    bins : int
        The nominal number of bins ``B`` of the latents.

    Returns
    -------
    score : float
        Mean of the per-source terms.
    per_source : ndarray of shape (n_sources,)

    Examples
    --------
    One source of 1 bit: ``1 - (1.5 - 0.8 + 0.3) / (1 + log2 2) = 0.5``.

    >>> score, per_source = jemmig_from_information(
    ...     [[0.8, 0.3]], [1.0], [[1.5, 2.0]], bins=2)
    >>> score, per_source.tolist()
    (0.5, [0.5])
    """
    mutual_information = np.asarray(mutual_information, dtype=np.float64)
    entropies = np.asarray(entropies, dtype=np.float64)
    joint_entropies = np.asarray(joint_entropies, dtype=np.float64)
    n_sources, n_latents = mutual_information.shape
    if entropies.shape != (n_sources,) or joint_entropies.shape != mutual_information.shape:
        raise ValueError(
            "mutual_information and joint_entropies must be (n_sources, n_latents) and "
            f"entropies (n_sources,); got {mutual_information.shape}, "
            f"{joint_entropies.shape} and {entropies.shape}"
        )
    best = last_argmax(mutual_information)
    ordered = np.sort(mutual_information, axis=1)
    first = ordered[:, -1]
    second = ordered[:, -2] if n_latents > 1 else np.zeros(n_sources)
    joint = joint_entropies[np.arange(n_sources), best]
    per_source = 1.0 - (joint - first + second) / (entropies + np.log2(bins))
    return float(per_source.mean()), per_source


def last_argmax(matrix: np.ndarray) -> np.ndarray:
    """Index of the last largest entry of each row."""
    n_columns = matrix.shape[1]
    return n_columns - 1 - np.argmax(matrix[:, ::-1], axis=1)


def _jemmig_of_sample(sample: Sample, bins: int, n_jobs: int | None) -> dict:
    mutual_information, entropies, codes, cardinalities = information_in_bits(sample, bins, n_jobs)
    sources = sample.sources
    best = last_argmax(mutual_information)
    # Only H(s_k, z*) enters the score; the other entries are never read.
    joint_entropies = np.zeros_like(mutual_information)
    for k, j in enumerate(best):
        joint_entropies[k, j] = joint_entropy_bits(
            sources.codes[k], sources.cardinalities[k], codes[j], cardinalities[j]
        )
    score, per_source = jemmig_from_information(
        mutual_information, entropies, joint_entropies, bins
    )
    return {"score": score, "per_source": per_source}


def jemmig(
    *,
    latents,
    sources,
    discrete_latents: bool | None = None,
    bins: int = REVIEW_BINS,
    n_jobs: int | None = None,
) -> dict:
    """JEMMIG of a representation, as the review of Zaidi et al. (2020) computes it.

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
        Binned into ``bins`` equal-width bins each, discrete ones included.
    sources : array-like of shape (n_samples, n_sources)
        Discrete factors, used through their own values.
    discrete_latents : bool, optional
        Only affects validation (every latent is binned, as in the review).
    bins : int, default=10
        Equal-width bins per latent over its [min, max]; also the ``B`` of the
        normaliser ``H(s_k) + log2 B``.
    n_jobs : int, optional
        Threads of the MI kernel (results do not depend on it).

    Returns
    -------
    dict
        ``score`` (float, at most 1) and ``per_source`` (ndarray).

    Examples
    --------
    A copy of a 4-valued source in one latent, a constant second latent:
    ``1 - (2 - 2 + 0) / (2 + log2 10)``.

    >>> import numpy as np
    >>> sources = np.repeat(np.arange(4), 250)[:, None]
    >>> latents = np.column_stack([sources[:, 0] * 3.0, np.zeros(1000)])
    >>> round(jemmig(latents=latents, sources=sources)["score"], 6)
    1.0
    """
    sample = sample_of(latents, sources, discrete_latents)
    return _jemmig_of_sample(sample, check_bins(bins), n_jobs)


def compute(
    sample: Sample,
    settings: dict,
    *,
    seed: int,
    n_jobs: int | None,
    held_out: HeldOut | None = None,
) -> dict:
    """The ``jemmig`` family of :func:`infomec.score` (deterministic; uses every row)."""
    return _jemmig_of_sample(sample, REVIEW_BINS, n_jobs)
