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
    for t in range(keep):  # the first `keep` values, insertion-sorted
        value = deviations[t]
        position = t
        while position > 0 and buffer[position - 1] > value:
            buffer[position] = buffer[position - 1]
            position -= 1
        buffer[position] = value
    smallest = buffer[0]  # a local: the hot loop below is one compare per value
    for t in range(keep, m):
        value = deviations[t]
        if value <= smallest:
            continue
        # Evict the smallest kept value: shift the kept values below this one down by
        # one slot and put it above them (about keep / 2 moves for a random order).
        position = 0
        while position + 1 < keep and buffer[position + 1] < value:
            buffer[position] = buffer[position + 1]
            position += 1
        buffer[position] = value
        smallest = buffer[0]
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


@njit(cache=True, nogil=True)
def column_deviation_stats(
    latents: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latents by column, which columns vary, and each one's largest deviation from its mean.

    Parameters
    ----------
    latents : ndarray of float64, shape (n_samples, n_latents), C-contiguous

    Returns
    -------
    columns : ndarray of float64, shape (n_latents, n_samples)
        The transpose, C-contiguous (the deviation kernels read one latent at a time).
    varies : ndarray of bool, shape (n_latents,)
        Whether the column takes more than one value.
    max_deviations : ndarray of float64, shape (n_latents,)
        ``max |z_j - mean(z_j)|``, the mean summed row by row (as numpy's
        ``mean(axis=0)``).

    Examples
    --------
    >>> columns, varies, max_deviations = column_deviation_stats(
    ...     np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 1.0]])
    ... )
    >>> columns.tolist(), varies.tolist(), max_deviations.tolist()
    ([[0.0, 2.0, 4.0], [1.0, 1.0, 1.0]], [True, False], [2.0, 0.0])
    """
    n_samples, n_latents = latents.shape
    columns = np.empty((n_latents, n_samples))
    lowest = latents[0].copy()
    highest = latents[0].copy()
    sums = np.zeros(n_latents)
    for i in range(n_samples):
        for j in range(n_latents):
            value = latents[i, j]
            columns[j, i] = value
            sums[j] += value
            lowest[j] = min(lowest[j], value)
            highest[j] = max(highest[j], value)
    means = sums / n_samples
    max_deviations = np.zeros(n_latents)
    for j in range(n_latents):
        column = columns[j]
        mean = means[j]
        largest = 0.0
        for i in range(n_samples):
            largest = max(largest, abs(column[i] - mean))
        max_deviations[j] = largest
    return columns, highest > lowest, max_deviations


@njit(cache=True, nogil=True)
def _pair_deviation_quantile(
    column: np.ndarray,
    order: np.ndarray,
    bounds: np.ndarray,
    n_values: int,
    q: float,
    scratch: np.ndarray,
    buffer: np.ndarray,
) -> float:
    """Mean over one source's groups of the quantile of one latent's deviations."""
    total = 0.0
    n_groups = 0
    for value in range(n_values):
        start = bounds[value]
        size = bounds[value + 1] - start
        if size == 0:
            continue
        mean = 0.0
        for t in range(size):
            scratch[t] = column[order[start + t]]
            mean += scratch[t]
        mean /= size
        for t in range(size):
            scratch[t] = abs(scratch[t] - mean)
        total += _group_quantile(scratch[:size], q, buffer)
        n_groups += 1
    return total / n_groups if n_groups > 0 else 0.0


@njit(cache=True, nogil=True)
def mean_group_deviation_quantiles_serial(
    latents: np.ndarray,
    order: np.ndarray,
    bounds: np.ndarray,
    cardinalities: np.ndarray,
    q: float,
) -> np.ndarray:
    """:func:`mean_group_deviation_quantiles` on the calling thread (same results).

    For small inputs, where starting a parallel region costs more than the work.
    """
    n_latents, n_samples = latents.shape
    n_sources = order.shape[0]
    out = np.zeros((n_latents, n_sources))
    scratch = np.empty(n_samples)
    buffer = np.empty(_BUFFER)
    for j in range(n_latents):
        for i in range(n_sources):
            out[j, i] = _pair_deviation_quantile(
                latents[j], order[i], bounds[i], cardinalities[i], q, scratch, buffer
            )
    return out


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
        out[j, i] = _pair_deviation_quantile(
            latents[j],
            order[i],
            bounds[i],
            cardinalities[i],
            q,
            np.empty(n_samples),
            np.empty(_BUFFER),
        )
    return out
