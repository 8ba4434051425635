"""Unsupervised scores of the latents alone, as disentanglement_lib computes them.

With ``Sigma`` the covariance of the latents (``np.cov``, ddof 1) and ``D`` its diagonal:

- ``gaussian_total_correlation = (sum log diag Sigma - log det Sigma) / 2``, the total
  correlation of a Gaussian with that covariance (``-log det R / 2`` for the correlation
  matrix ``R``);
- ``gaussian_wasserstein_correlation = 2 tr Sigma - 2 tr sqrt(D Sigma)``, the squared
  2-Wasserstein distance between that Gaussian and the product of its marginals, and
  ``..._norm`` the same divided by ``tr Sigma`` (in [0, 1]);
- ``mutual_info_score``: the mean plug-in mutual information (nats) over ordered pairs of
  distinct latents, each discretised into 20 histogram bins (own codes when discrete).

Lower is more factorised for all four; they are not scores in [0, 1] (except the
normalised Wasserstein correlation). The sources are not used.

``tr sqrt(D Sigma)`` is computed as the sum of square roots of the eigenvalues of the
symmetric ``D^1/2 Sigma D^1/2`` (the same matrix up to similarity), which equals
disentanglement_lib's ``scipy.linalg.sqrtm`` trace without its complex round-off.

Everything is computed on ``latents / 2**e``, ``2**e`` about the largest magnitude (an
exact rescaling), and ``W`` multiplied back by ``4**e``: the scores are finite and do
not depend on the latents' scale from 1e-150 to 1e150 (plain ``np.cov`` overflows to
NaN above about 1e154 / sqrt(N) and loses the eigenvalues to subnormals below 1e-100).
A ``W`` that float64 cannot hold in the latents' squared units is refused (ValueError).

Guards (disentanglement_lib gives NaN or inf):

- constant latents are left out of the Gaussian scores (their variance is 0; they are
  independent of everything, so they add nothing to either quantity);
- exactly collinear latents have infinite Gaussian total correlation: eigenvalues of the
  correlation matrix are floored at machine epsilon, so each collinear direction adds at
  most ``-log(eps) / 2`` (about 18 nats), large but finite;
- with all latents constant, the Gaussian scores are 0; with one latent there is no pair
  and ``mutual_info_score`` is 0.
"""

from __future__ import annotations

import numpy as np

from infomec._validation import (
    check_latents,
    check_summable,
    encode_columns,
    is_discrete_dtype,
)
from infomec.data import HeldOut, Sample
from infomec.estimators import histogram_codes, plugin_mutual_information_matrix
from infomec.metrics._legacy import DLIB_BINS, check_n_bins, latent_codes, latent_matrix
from infomec.parallel import numba_threads

__all__ = ["compute", "gaussian_scores", "unsupervised"]

_EPS = np.finfo(np.float64).eps


def gaussian_scores(covariance) -> tuple[float, float, float]:
    """Gaussian total correlation and (normalised) Wasserstein correlation of a covariance.

    Parameters
    ----------
    covariance : array-like of shape (n_latents, n_latents)
        Symmetric positive semi-definite.

    Returns
    -------
    total_correlation, wasserstein, wasserstein_norm : float

    Examples
    --------
    >>> import numpy as np
    >>> [round(v, 6) for v in gaussian_scores(np.eye(3))]
    [0.0, 0.0, 0.0]
    >>> tc, w, w_norm = gaussian_scores([[1.0, 0.5], [0.5, 1.0]])
    >>> round(tc, 6), round(float(-0.5 * np.log(1 - 0.5**2)), 6)  # -log det R / 2
    (0.143841, 0.143841)
    """
    covariance = np.asarray(covariance, dtype=np.float64)
    if (
        covariance.ndim != 2
        or covariance.shape[0] != covariance.shape[1]
        or not np.isfinite(covariance).all()
    ):
        raise ValueError(f"covariance must be a finite square matrix, got {covariance.shape}")
    # One power-of-two factor brings the largest variance near 1 (exact in binary, so
    # ordinary covariances give the same bits); W scales with it, the rest does not.
    peak = float(np.max(np.abs(np.diag(covariance)), initial=0.0))
    exponent = int(np.frexp(peak)[1]) if peak > 0 else 0
    total_correlation, wasserstein, wasserstein_norm = _gaussian_scores_unit(
        np.ldexp(covariance, -exponent)
    )
    return total_correlation, _rescaled(wasserstein, exponent), wasserstein_norm


def _rescaled(value: float, exponent: int) -> float:
    """``value * 2**exponent``, refusing a result that float64 cannot hold."""
    with np.errstate(over="ignore"):
        scaled = float(np.ldexp(value, exponent))
    if not np.isfinite(scaled):
        raise ValueError(
            "latents too large for gaussian_wasserstein_correlation (it overflows float64; "
            "it is in squared latent units): rescale the latents"
        )
    return scaled


def _gaussian_scores_unit(covariance: np.ndarray) -> tuple[float, float, float]:
    """:func:`gaussian_scores` of a covariance whose largest variance is about 1."""
    variances = np.diag(covariance)
    keep = variances > 0
    if not keep.any():
        return 0.0, 0.0, 0.0
    covariance = covariance[np.ix_(keep, keep)]
    scale = np.sqrt(variances[keep])
    correlation = covariance / np.outer(scale, scale)
    eigenvalues = np.maximum(np.linalg.eigvalsh((correlation + correlation.T) / 2), _EPS)
    # "+ 0.0" turns the -0.0 of an exactly diagonal covariance into 0.0.
    total_correlation = max(-0.5 * float(np.sum(np.log(eigenvalues))), 0.0) + 0.0
    # D^1/2 Sigma D^1/2 = D R D: its eigenvalues are those of D Sigma.
    weighted = covariance * np.outer(scale, scale)
    roots = np.sqrt(np.maximum(np.linalg.eigvalsh((weighted + weighted.T) / 2), 0.0))
    trace = float(np.trace(covariance))
    wasserstein = max(2.0 * trace - 2.0 * float(roots.sum()), 0.0)
    return total_correlation, wasserstein, float(np.clip(wasserstein / trace, 0.0, 1.0))


def _covariance_and_exponent(latents: np.ndarray) -> tuple[np.ndarray, int]:
    """``np.cov`` of ``latents / 2**e`` and ``e``, chosen so that no moment overflows or
    underflows: the largest magnitude of the data becomes about 1."""
    peak = float(np.max(np.abs(latents), initial=0.0)) if latents.size else 0.0
    exponent = int(np.frexp(peak)[1]) if peak > 0 and np.isfinite(peak) else 0
    scaled = np.ldexp(latents, -exponent)
    covariance = np.atleast_2d(np.cov(scaled, rowvar=False))
    return covariance, exponent


def _unsupervised_scores(
    latents: np.ndarray, codes: np.ndarray, cardinalities: np.ndarray, n_jobs: int | None
) -> dict:
    # In a frame scaled by a power of two (exact): cov of 1e150-sized latents overflows,
    # and of 1e-100-sized ones underflows to subnormals that wreck the eigenvalues.
    covariance, exponent = _covariance_and_exponent(latents)
    total_correlation, wasserstein, wasserstein_norm = gaussian_scores(covariance)
    wasserstein = _rescaled(wasserstein, 2 * exponent)
    n_latents = latents.shape[1]
    if n_latents < 2:
        mean_mutual_information = 0.0  # no pair of distinct latents
    else:
        with numba_threads(n_jobs):
            matrix = plugin_mutual_information_matrix(codes, cardinalities, codes, cardinalities)
        np.fill_diagonal(matrix, 0.0)
        mean_mutual_information = float(matrix.sum() / (n_latents**2 - n_latents))
    return {
        "gaussian_total_correlation": total_correlation,
        "gaussian_wasserstein_correlation": wasserstein,
        "gaussian_wasserstein_correlation_norm": wasserstein_norm,
        "mutual_info_score": mean_mutual_information,
    }


def unsupervised(
    *,
    latents,
    discrete_latents: bool | None = None,
    n_bins: int = DLIB_BINS,
    n_jobs: int | None = None,
) -> dict:
    """Gaussian total correlation, Wasserstein correlation and mean pairwise MI of latents.

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
    discrete_latents : bool, optional
        Use the latents' own codes for the MI instead of histogram bins (default for
        integer dtypes).
    n_bins : int, default=20
    n_jobs : int, optional

    Returns
    -------
    dict
        ``gaussian_total_correlation``, ``gaussian_wasserstein_correlation``,
        ``gaussian_wasserstein_correlation_norm`` and ``mutual_info_score`` (floats,
        lower is more factorised).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> scores = unsupervised(latents=rng.standard_normal((5000, 3)))
    >>> scores["gaussian_total_correlation"] < 0.01
    True
    """
    array = check_latents(latents)
    check_summable(array)
    n_bins = check_n_bins(n_bins)
    discrete = is_discrete_dtype(array) if discrete_latents is None else bool(discrete_latents)
    if discrete:
        encoded = encode_columns(array)
        codes, cardinalities = encoded.codes, encoded.cardinalities
    else:
        codes, cardinalities = histogram_codes(array, n_bins)
    return _unsupervised_scores(
        np.ascontiguousarray(array, dtype=np.float64), codes, cardinalities, n_jobs
    )


def compute(
    sample: Sample,
    settings: dict,
    *,
    seed: int,
    n_jobs: int | None,
    held_out: HeldOut | None = None,
) -> dict:
    """The ``unsupervised`` family of :func:`infomec.score` (latents only, every row)."""
    codes, cardinalities = latent_codes(sample, DLIB_BINS)
    return _unsupervised_scores(latent_matrix(sample), codes, cardinalities, n_jobs)
