"""Quantiles of within-group deviations: the interventional robustness score (IRS).

For a latent ``z_j`` and a source ``s_i``, each group of rows sharing a value ``v`` of
``s_i`` gives ``quantile_q |z_j - mean(z_j | s_i = v)|``; the kernel returns the mean of
these over the groups (disentanglement_lib's ``cum_deviations``). Quantiles use
numpy's default ("linear") interpolation, with its arithmetic.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, nogil=True)
def linear_quantile(sorted_values: np.ndarray, q: float) -> float:
    """``np.quantile(values, q)`` of an ascending array (numpy's linear method)."""
    n = sorted_values.shape[0]
    virtual = (n - 1) * q
    if virtual >= n - 1:
        return sorted_values[n - 1]
    if virtual < 0.0:
        return sorted_values[0]
    below = int(np.floor(virtual))
    gamma = virtual - below
    a = sorted_values[below]
    b = sorted_values[below + 1]
    difference = b - a
    # numpy's _lerp: interpolate from the nearer end, for monotonicity.
    if gamma >= 0.5:
        return b - difference * (1.0 - gamma)
    return a + difference * gamma


# Up to this many order statistics are kept in a sorted buffer during one pass; above it
# (low quantiles of large groups) the group is sorted instead.
_BUFFER = 64


@njit(cache=True, nogil=True)
def _group_quantile(deviations: np.ndarray, q: float, buffer: np.ndarray) -> float:
    """``linear_quantile(sorted(deviations), q)`` without sorting the whole group.

    The quantile only reads the order statistics at ``floor((m - 1) q)`` and the next
    one, i.e. among the ``keep = m - floor((m - 1) q)`` largest values: for q = 0.99 a
    handful, kept sorted in ``buffer`` while streaming through the group.
    """
    m = deviations.shape[0]
    below = int(np.floor((m - 1) * q))
    keep = m - below
    if keep > buffer.shape[0]:
        return linear_quantile(np.sort(deviations), q)
    filled = 0  # buffer[:filled] holds the largest values seen so far, ascending
    for value in deviations:
        if filled < keep:
            position = filled
            filled += 1
        elif value > buffer[0]:
            for t in range(keep - 1):  # evict the smallest kept value
                buffer[t] = buffer[t + 1]
            position = keep - 1
        else:
            continue
        while position > 0 and buffer[position - 1] > value:  # insertion step
            buffer[position] = buffer[position - 1]
            position -= 1
        buffer[position] = value
    # buffer[0 .. keep) holds sorted positions below .. m - 1 of the whole group.
    return linear_quantile_at(buffer, keep, below, m, q)


@njit(cache=True, nogil=True)
def linear_quantile_at(top: np.ndarray, keep: int, below: int, m: int, q: float) -> float:
    """numpy's linear quantile from the sorted top ``keep`` values of ``m`` (start ``below``)."""
    virtual = (m - 1) * q
    if virtual >= m - 1:
        return top[keep - 1]
    if virtual < 0.0:
        return top[0]
    gamma = virtual - below
    a = top[0]
    b = top[1]
    difference = b - a
    if gamma >= 0.5:
        return b - difference * (1.0 - gamma)
    return a + difference * gamma


@njit(parallel=True, cache=True)
def mean_group_deviation_quantiles(
    latents: np.ndarray,
    order: np.ndarray,
    bounds: np.ndarray,
    cardinalities: np.ndarray,
    q: float,
) -> np.ndarray:
    """Mean over groups of the ``q``-quantile of absolute deviations from the group mean.

    Parameters
    ----------
    latents : ndarray of float64, shape (n_latents, n_samples)
        One row per latent (rows are gathered in group order: keep them contiguous).
    order, bounds : ndarray of int64
        Rows grouped by the value of each source
        (:func:`infomec.estimators.sampling.group_rows`).
    cardinalities : ndarray of int64, shape (n_sources,)
        Number of values of each source; empty groups are skipped (they do not exist in
        disentanglement_lib's ``np.unique``).
    q : float
        Quantile in [0, 1] (disentanglement_lib: 0.99).

    Returns
    -------
    ndarray of float64, shape (n_latents, n_sources)
    """
    n_latents, n_samples = latents.shape
    n_sources = order.shape[0]
    out = np.zeros((n_latents, n_sources))
    for pair in prange(n_latents * n_sources):
        j = pair // n_sources
        i = pair % n_sources
        column = latents[j]
        scratch = np.empty(n_samples)
        buffer = np.empty(_BUFFER)
        total = 0.0
        n_groups = 0
        for value in range(cardinalities[i]):
            start = bounds[i, value]
            size = bounds[i, value + 1] - start
            if size == 0:
                continue
            mean = 0.0
            for t in range(size):
                scratch[t] = column[order[i, start + t]]
                mean += scratch[t]
            mean /= size
            for t in range(size):
                scratch[t] = abs(scratch[t] - mean)
            total += _group_quantile(scratch[:size], q, buffer)
            n_groups += 1
        out[j, i] = total / n_groups if n_groups > 0 else 0.0
    return out
