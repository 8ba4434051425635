"""SAP with continuous factors: the squared-correlation score matrix of disentanglement_lib.

disentanglement_lib's ``compute_sap`` has two variants. With ``continuous_factors=False``
(its study configurations, and infomec's ``sap`` family) the matrix holds the test
accuracy of a one-latent linear SVM. With ``continuous_factors=True`` (the variant its
own ``sap_score_test`` checks) it holds, for latent ``j`` and source ``k``,

    matrix[j, k] = cov(z_j, s_k)^2 / (var(z_j) var(s_k))        (ddof = 1)

the squared Pearson correlation (the R^2 of a one-latent linear regression), set to 0
when ``var(z_j) <= 1e-12``. SAP is the mean over sources of the gap between the best and
the second-best latent. disentanglement_lib computes this matrix on its training points
only (its test points are drawn and ignored); here every given row is used.

Sources enter as their value ranks ``0 .. K_k - 1`` (infomec's label codes):
disentanglement_lib's factors are such indices, and a squared correlation does not change
under an affine map of either variable, so equally spaced source values of any scale or
offset give the peer's number. Unequally spaced numeric values (``{0, 1, 5}``) are
scored by their ranks. A single-valued source (variance 0, where disentanglement_lib
divides by zero) gets a zero column.
"""

from __future__ import annotations

import numpy as np

from infomec.data import HeldOut, Sample
from infomec.metrics._legacy import latent_matrix, sample_of
from infomec.metrics.sap import sap_from_matrix

__all__ = ["compute", "correlation_score_matrix", "sap_continuous"]

#: disentanglement_lib's threshold below which a latent's variance counts as zero.
VARIANCE_FLOOR = 1e-12


def correlation_score_matrix(latents: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """Squared correlation of every (latent, source) pair, shape (n_latents, n_sources).

    Parameters
    ----------
    latents : ndarray of shape (n_samples, n_latents)
    sources : ndarray of shape (n_samples, n_sources)
        Numeric source values (ranks in :func:`sap_continuous`).

    Returns
    -------
    ndarray
        ``cov^2 / (var_z var_s)`` with ``ddof=1``; 0 where ``var_z <= 1e-12`` or
        ``var_s == 0``.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> z = np.column_stack([2 * s[:, 0] + 1, [1.0, -1.0, 1.0, -1.0]])
    >>> correlation_score_matrix(z, s).round(3).tolist()
    [[1.0], [0.2]]
    """
    latents = np.asarray(latents, dtype=np.float64)
    sources = np.asarray(sources, dtype=np.float64)
    n = latents.shape[0]
    centred_z = latents - latents.mean(axis=0)
    centred_s = sources - sources.mean(axis=0)
    # Sums of products, not np.cov: one (d x K) product instead of d * K 2x2 matrices.
    covariance = centred_z.T @ centred_s / (n - 1)
    variance_z = np.einsum("ij,ij->j", centred_z, centred_z) / (n - 1)
    variance_s = np.einsum("ij,ij->j", centred_s, centred_s) / (n - 1)
    denominator = variance_z[:, None] * variance_s[None, :]
    usable = (variance_z[:, None] > VARIANCE_FLOOR) & (variance_s[None, :] > 0)
    matrix = np.zeros_like(covariance)
    np.divide(covariance**2, denominator, out=matrix, where=usable)
    # A correlation is at most 1; rounding can leave 1 + 1e-16 on an exact copy.
    return np.clip(matrix, 0.0, 1.0)


def _sap_continuous_of_sample(sample: Sample) -> dict:
    if sample.n_samples < 2:
        raise ValueError("sap_continuous needs at least 2 rows (variances use ddof=1)")
    matrix = correlation_score_matrix(latent_matrix(sample), sample.sources.codes.T)
    return {"score": sap_from_matrix(matrix), "matrix": matrix}


def sap_continuous(*, latents, sources, discrete_latents: bool | None = None) -> dict:
    """SAP of a representation with disentanglement_lib's continuous-factor score matrix.

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
    sources : array-like of shape (n_samples, n_sources)
        Used through their value ranks (see the module documentation).
    discrete_latents : bool, optional
        Only affects validation: correlations use the latents' values.

    Returns
    -------
    dict
        ``score`` (float in [0, 1]) and ``matrix`` (ndarray, n_latents x n_sources, the
        squared correlations).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.integers(0, 10, size=(3000, 3))
    >>> result = sap_continuous(latents=sources + 0.01 * rng.standard_normal((3000, 3)),
    ...                         sources=sources)
    >>> round(result["score"], 3)
    0.998
    """
    return _sap_continuous_of_sample(sample_of(latents, sources, discrete_latents, squares=True))


def compute(
    sample: Sample,
    settings: dict,
    *,
    seed: int,
    n_jobs: int | None,
    held_out: HeldOut | None = None,
) -> dict:
    """The ``sap_continuous`` family of :func:`infomec.score` (every row, no fit)."""
    return _sap_continuous_of_sample(sample)
