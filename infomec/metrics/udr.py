"""Unsupervised Disentanglement Ranking (Duan et al. 2020), as disentanglement_lib computes it.

UDR needs no sources: it compares the latents of several runs (same model and data,
different seeds) encoded on the same rows. For every ordered pair of runs ``(i, j)``:

1. each run's latents are standardised (mean 0, population std 1; a constant latent is
   only centred) and its inactive latents are set to 0;
2. a similarity matrix ``R`` (latents of ``i`` x latents of ``j``): the absolute Spearman
   correlation of every pair of latents (``correlation="spearman"``), or the absolute
   coefficients of a multi-output ``Lasso(alpha=0.1)`` predicting run ``j``'s latents
   from run ``i``'s (``correlation="lasso"``);
3. rows of inactive latents of ``i`` and columns of inactive latents of ``j`` are dropped;
4. the pair's score is ``(mean over columns of max(col)^2 / sum(col) + mean over rows of
   max(row)^2 / sum(row)) / 2`` (a zero row or column contributes 0);
5. run ``i``'s UDR is the median of the scores of the pairs ``(j, i)``, ``j != i``.

Latents are active when a per-latent KL divergence is given (``kl``, e.g. a VAE's average
KL to the prior per latent) and exceeds ``kl_threshold = 0.01`` (disentanglement_lib's
rule); without ``kl``, when their variance exceeds ``variance_threshold = 0.01`` times
the largest variance in that run.

Differences from disentanglement_lib: the variance rule is ours (disentanglement_lib
always needs a KL); a pair where either run has no active latent scores 0 with a warning
(disentanglement_lib averages an empty matrix to NaN); constant latents correlate 0
(scipy's Spearman gives NaN, which disentanglement_lib also turns into 0); runs may have
different numbers of latents; the diagonal of ``pairwise`` is 0 (it is never used).
disentanglement_lib zeroes latents with KL <= 0.01 and drops those with KL <=
``kl_filter_threshold``; both thresholds are ``kl_threshold`` here.
"""

from __future__ import annotations

import numpy as np

from infomec._validation import as_2d_array, warn

__all__ = ["relative_strength", "udr"]

CORRELATIONS = ("spearman", "lasso")
LASSO_ALPHA = 0.1
KL_THRESHOLD = 0.01
VARIANCE_THRESHOLD = 0.01


def relative_strength(matrix) -> float:
    """disentanglement_lib's score of a similarity matrix (1 for a one-to-one match).

    Parameters
    ----------
    matrix : array-like of shape (n_rows, n_columns)
        Non-negative similarities.

    Returns
    -------
    float
        Mean over the columns of ``max^2 / sum`` and mean over the rows, averaged; a
        zero row or column contributes 0. An empty matrix scores 0.

    Examples
    --------
    >>> relative_strength([[1.0, 0.0], [0.0, 1.0]])
    1.0
    >>> round(relative_strength([[1.0, 0.0], [0.5, 0.5]]), 4)
    0.6042
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.size == 0:
        return 0.0

    def along(axis: int) -> float:
        largest = matrix.max(axis=axis)
        total = matrix.sum(axis=axis)
        ratio = np.divide(largest**2, total, out=np.zeros_like(total), where=total > 0)
        return float(ratio.mean())

    return (along(0) + along(1)) / 2.0


def _standardized(latents: np.ndarray) -> np.ndarray:
    std = latents.std(axis=0)
    return (latents - latents.mean(axis=0)) / np.where(std > 0, std, 1.0)


def _ranks(latents: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(latents, axis=0)  # average ranks of ties, as Spearman's rho uses


def _correlation_of_ranks(ranks_i: np.ndarray, ranks_j: np.ndarray) -> np.ndarray:
    """|Pearson correlation| of every column pair; a constant column correlates 0."""
    a = ranks_i - ranks_i.mean(axis=0)
    b = ranks_j - ranks_j.mean(axis=0)
    norms = np.outer(np.sqrt((a**2).sum(axis=0)), np.sqrt((b**2).sum(axis=0)))
    products = a.T @ b
    correlations = np.abs(np.divide(products, norms, out=np.zeros_like(products), where=norms > 0))
    return np.minimum(correlations, 1.0)  # |rho| <= 1; rounding gave 1.0000000000000002


def _lasso_matrix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import Lasso

    model = Lasso(alpha=LASSO_ALPHA).fit(x, y)
    return np.abs(np.atleast_2d(model.coef_)).T  # (latents of x, latents of y)


def _active_masks(runs: list[np.ndarray], kl, kl_threshold: float, variance_threshold: float):
    if kl is not None:
        if len(kl) != len(runs):
            raise ValueError(f"kl has {len(kl)} entries but there are {len(runs)} runs")
        masks = []
        for i, (values, run) in enumerate(zip(kl, runs, strict=True)):
            values = np.asarray(values, dtype=np.float64).ravel()
            if values.shape != (run.shape[1],) or not np.all(np.isfinite(values)):
                raise ValueError(
                    f"kl[{i}] must hold one finite value per latent of run {i} "
                    f"({run.shape[1]}), got shape {values.shape}"
                )
            masks.append(values > kl_threshold)
        return masks
    masks = []
    for run in runs:
        variances = run.var(axis=0)
        masks.append(variances > variance_threshold * variances.max())
    return masks


def _checked_threshold(value, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not 0 <= value < np.inf
    ):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def udr(
    latents_list,
    *,
    correlation: str = "spearman",
    kl=None,
    kl_threshold: float = KL_THRESHOLD,
    variance_threshold: float = VARIANCE_THRESHOLD,
) -> dict:
    """UDR of each run from the latents of several runs on the same rows.

    Parameters
    ----------
    latents_list : sequence of array-like, each of shape (n_samples, n_latents_i)
        At least two runs, rows aligned (the same inputs encoded by each run).
    correlation : {"spearman", "lasso"}, default="spearman"
        Similarity of latents across runs (disentanglement_lib offers both;
        ``lasso`` is its default, ``spearman`` is rank-based and scale-free).
    kl : sequence of array-like, optional
        Per-latent KL divergence of each run; latents with ``kl > kl_threshold`` are
        active. Without it, latents whose variance exceeds ``variance_threshold`` times
        the run's largest variance are active.
    kl_threshold : float, default=0.01
    variance_threshold : float, default=0.01

    Returns
    -------
    dict
        ``scores`` (ndarray (n_runs,), the UDR of each run), ``pairwise`` (ndarray
        (n_runs, n_runs): the score of each ordered pair, 0 on the diagonal) and
        ``num_active_dims`` (ndarray of int, per run).

    Examples
    --------
    Three runs that found the same factors (in another order, sign or scale) and a run
    that found something else (the chance correlations of 500 rows keep the first
    three just below 1):

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> run = rng.standard_normal((500, 3))
    >>> other = rng.standard_normal((500, 3))
    >>> result = udr([run, -run[:, [2, 0, 1]], 3 * run + 1, other])
    >>> result["scores"].round(2).tolist()
    [0.98, 0.98, 0.98, 0.03]
    """
    if correlation not in CORRELATIONS:
        raise ValueError(f"correlation must be one of spearman, lasso; got {correlation!r}")
    kl_threshold = _checked_threshold(kl_threshold, "kl_threshold")
    variance_threshold = _checked_threshold(variance_threshold, "variance_threshold")
    if isinstance(latents_list, np.ndarray) or len(latents_list) < 2:
        raise ValueError("latents_list must be a sequence of at least two runs' latents")
    runs = [as_2d_array(run, f"latents_list[{i}]") for i, run in enumerate(latents_list)]
    for i, run in enumerate(runs):
        if run.dtype.kind not in "biuf" or not np.all(np.isfinite(run)):
            raise ValueError(f"latents_list[{i}] must be finite numbers")
        if run.shape[0] != runs[0].shape[0]:
            raise ValueError(
                f"latents_list[{i}] has {run.shape[0]} rows but latents_list[0] has "
                f"{runs[0].shape[0]}: every run must encode the same rows"
            )
    if runs[0].shape[0] < 2:
        raise ValueError("UDR needs at least two rows")
    runs = [np.asarray(run, dtype=np.float64) for run in runs]
    masks = _active_masks(runs, kl, kl_threshold, variance_threshold)
    prepared = [_standardized(run) * mask for run, mask in zip(runs, masks, strict=True)]
    ranks = [_ranks(run) for run in prepared] if correlation == "spearman" else None

    n_runs = len(runs)
    pairwise = np.zeros((n_runs, n_runs))
    for i in range(n_runs):
        for j in range(n_runs):
            if i == j:
                continue
            if not masks[i].any() or not masks[j].any():
                continue  # no active latent in one run: the pair scores 0 (warned below)
            if correlation == "spearman":
                matrix = _correlation_of_ranks(ranks[i], ranks[j])
            else:
                matrix = _lasso_matrix(prepared[i], prepared[j])
            pairwise[i, j] = relative_strength(matrix[masks[i]][:, masks[j]])
    empty = [i for i, mask in enumerate(masks) if not mask.any()]
    if empty:
        warn(f"udr: runs {empty} have no active latent; their pairs score 0")
    scores = np.array([np.median(np.delete(pairwise[:, i], i)) for i in range(n_runs)])
    return {
        "scores": scores,
        "pairwise": pairwise,
        "num_active_dims": np.array([int(mask.sum()) for mask in masks]),
    }
