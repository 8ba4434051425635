"""Interventional Robustness Score (Suter et al. 2019), as disentanglement_lib computes it.

Each source is first discretised into 20 equal-width histogram bins (a
disentanglement_lib quirk: sources with more than 20 values get merged); constant
latents are dropped. For latent ``j`` and source ``i``, ``cum_dev[j, i]`` is the
mean over the source's bins of the 0.99-quantile of ``|z_j - mean(z_j | bin)|``; then::

    IRS[j, i] = 1 - cum_dev[j, i] / max_dev_j,   max_dev_j = max |z_j - mean z_j|,
    per_latent_j = max_i IRS[j, i],   score = average of per_latent weighted by max_dev.

It conditions on the sample (rows sharing a value), which is what disentanglement_lib
does too; no held-out rows are involved.

Differences from disentanglement_lib:

- ``num_active_dims`` is the number of non-constant latents; disentanglement_lib reports
  ``np.sum`` of the *values* of the non-constant latents (a bug);
- sources are binned on their label codes (ranks), not their raw values; the bins are the
  same for evenly spaced values (every factor grid) and merge fewer values otherwise;
- ``per_latent`` covers every latent (0 for a constant one), and both it and the score are
  clipped to [0, 1] (a within-bin deviation above the global one would go negative);
- with no non-constant latent the score is 0, as in disentanglement_lib;
- a latent is constant when it takes one value: disentanglement_lib tests ``var > 0``,
  which rounding makes true for some constant columns (0.1 repeated has variance ~1e-28).
"""

from __future__ import annotations

import numpy as np

from infomec._validation import check_positive_int
from infomec.data import HeldOut, Sample
from infomec.estimators import histogram_codes
from infomec.estimators.deviation import (
    column_deviation_stats,
    mean_group_deviation_quantiles,
    mean_group_deviation_quantiles_serial,
)
from infomec.estimators.sampling import order_by_value
from infomec.metrics._legacy import DLIB_BINS, latent_matrix, sample_of
from infomec.parallel import numba_threads, resolve_n_jobs

__all__ = ["compute", "irs"]

QUANTILE = 0.99
# Up to this many (row, latent, source) visits the deviations are computed on the calling
# thread: well under a millisecond, about what starting a parallel region costs.
_SERIAL_WORK = 1 << 18


def _binned_sources(sample: Sample, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Source codes in ``n_bins`` equal-width histogram bins, densely relabelled.

    A source with at most ``n_bins`` values needs no binning: its codes span bins of
    width ``(values - 1) / n_bins < 1``, one integer each, so the bins are its values.
    """
    codes, cardinalities = sample.sources.codes, sample.sources.cardinalities
    many = np.flatnonzero(cardinalities > n_bins)
    if many.size:
        codes, cardinalities = codes.copy(), cardinalities.copy()
        binned, binned_cardinalities = histogram_codes(codes[many].T.astype(np.float64), n_bins)
        codes[many] = binned
        cardinalities[many] = binned_cardinalities
    return codes, cardinalities


def _irs_of_sample(sample: Sample, quantile: float, n_bins: int, n_jobs: int | None) -> dict:
    columns, active, max_deviations = column_deviation_stats(latent_matrix(sample))
    per_latent = np.zeros(sample.n_latents)
    if not active.any():
        return {"score": 0.0, "per_latent": per_latent, "num_active_dims": 0}
    max_deviations = max_deviations[active]
    binned, cardinalities = _binned_sources(sample, n_bins)
    order, bounds = order_by_value(binned, cardinalities)
    kept = columns if active.all() else columns[active]
    arguments = (kept, order, bounds, cardinalities, quantile)
    work = kept.size * order.shape[0]
    if work <= _SERIAL_WORK or resolve_n_jobs(n_jobs) == 1:
        cum_deviations = mean_group_deviation_quantiles_serial(*arguments)
    else:
        with numba_threads(n_jobs):
            cum_deviations = mean_group_deviation_quantiles(*arguments)
    irs_matrix = 1.0 - cum_deviations / max_deviations[:, None]  # > 0: latents are active
    scores = np.clip(irs_matrix.max(axis=1), 0.0, 1.0)
    per_latent[active] = scores
    # np.average(scores, weights=max_deviations), as numpy computes it
    average = (scores * max_deviations).sum() / max_deviations.sum()
    return {
        "score": min(max(float(average), 0.0), 1.0),
        "per_latent": per_latent,
        "num_active_dims": int(active.sum()),
    }


def irs(
    *,
    latents,
    sources,
    quantile: float = QUANTILE,
    n_bins: int = DLIB_BINS,
    discrete_latents: bool | None = None,
    n_jobs: int | None = None,
) -> dict:
    """Interventional Robustness Score of a representation.

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
    sources : array-like of shape (n_samples, n_sources)
    quantile : float, default=0.99
        Quantile of the within-bin deviations (1.0 is the paper's maximum).
    n_bins : int, default=20
        Histogram bins of each source.
    discrete_latents : bool, optional
        Only affects validation: deviations use the latents' values.
    n_jobs : int, optional

    Returns
    -------
    dict
        ``score`` (float in [0, 1]), ``per_latent`` (ndarray, n_latents; 0 for a
        constant latent) and ``num_active_dims`` (int).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.integers(0, 4, size=(1000, 2))
    >>> result = irs(latents=sources.astype(float), sources=sources)
    >>> result["score"], result["num_active_dims"]
    (1.0, 2)
    """
    if not np.isscalar(quantile) or not 0.0 <= float(quantile) <= 1.0:
        raise ValueError(f"quantile must be a number in [0, 1], got {quantile!r}")
    n_bins = check_positive_int(n_bins, "n_bins", minimum=2)
    sample = sample_of(latents, sources, discrete_latents)
    return _irs_of_sample(sample, float(quantile), n_bins, n_jobs)


def compute(
    sample: Sample,
    settings: dict,
    *,
    seed: int,
    n_jobs: int | None,
    held_out: HeldOut | None = None,
) -> dict:
    """The ``irs`` family of :func:`infomec.score` (deterministic; uses every row)."""
    return _irs_of_sample(sample, QUANTILE, DLIB_BINS, n_jobs)
