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
# Deviations per block whose maximum is taken (see _deviation_quantile).
_BLOCK = 16


@njit(cache=True, nogil=True)
def _insert(buffer: np.ndarray, keep: int, value: float) -> float:
    """Put ``value`` into the ascending ``buffer[:keep]``, evicting its smallest entry.

    The kept values below ``value`` shift down one slot. Returns the new smallest.
    """
    position = 0
    while position + 1 < keep and buffer[position + 1] < value:
        buffer[position] = buffer[position + 1]
        position += 1
    buffer[position] = value
    return buffer[0]


@njit(cache=True, nogil=True)
def _keep_largest(values: np.ndarray, keep: int, buffer: np.ndarray) -> None:
    """``buffer[:keep]`` <- the ``keep`` largest of ``values``, ascending."""
    buffer[:keep] = -np.inf
    smallest = -np.inf  # a local: the hot loop is one compare per value
    for t in range(values.shape[0]):
        if values[t] > smallest:
            smallest = _insert(buffer, keep, values[t])


@njit(cache=True, nogil=True)
def _keep_largest_in_blocks(
    values: np.ndarray, maxima: np.ndarray, keep: int, buffer: np.ndarray, floor: float
) -> None:
    """:func:`_keep_largest`, knowing that at least ``keep`` values reach ``floor``.

    ``maxima[b]`` is the largest of ``values[b * _BLOCK : (b + 1) * _BLOCK]`` (the tail
    after the last whole block is always read). Blocks whose maximum is below ``floor``
    hold no kept value and are skipped.
    """
    buffer[:keep] = -np.inf
    smallest = -np.inf
    n_blocks = maxima.shape[0]
    for block in range(n_blocks + 1):
        if block < n_blocks and maxima[block] < floor:
            continue
        for t in range(block * _BLOCK, min((block + 1) * _BLOCK, values.shape[0])):
            if values[t] >= floor and values[t] > smallest:
                smallest = _insert(buffer, keep, values[t])


@njit(cache=True, nogil=True)
def _deviation_quantile(
    values: np.ndarray, mean: float, q: float, maxima: np.ndarray, buffer: np.ndarray
) -> float:
    """``np.quantile(|values - mean|, q)``; ``values`` is overwritten by the deviations.

    The quantile only reads the order statistics at ``below = floor((m - 1) q)`` and the
    next one, i.e. among the ``keep = m - below`` largest deviations: for q = 0.99 a
    handful, kept sorted in ``buffer``. Streaming a group straight into the buffer costs
    an insertion (and a mispredicted branch) each time a value beats the smallest kept
    one, which is often while the buffer is still low. So the deviations are first cut
    into blocks of ``_BLOCK`` and each block's maximum taken (a branch-free pass that
    also writes the deviations); the ``keep``-th largest of those maxima is reached by at
    least ``keep`` deviations (the maxima themselves), so no kept value lies below it,
    and the second pass reads only the blocks that reach it.
    """
    m = values.shape[0]
    below = int(np.floor((m - 1) * q))
    keep = m - below
    n_blocks = m // _BLOCK
    if keep > buffer.shape[0] or keep > n_blocks:
        for t in range(m):
            values[t] = abs(values[t] - mean)
        if keep > buffer.shape[0]:
            return linear_quantile(np.sort(values), q)
        _keep_largest(values, keep, buffer)
        return linear_quantile_at(buffer, keep, below, m, q)
    for block in range(n_blocks):
        largest = 0.0
        for t in range(block * _BLOCK, (block + 1) * _BLOCK):
            deviation = abs(values[t] - mean)
            values[t] = deviation
            largest = deviation if deviation > largest else largest
        maxima[block] = largest
    for t in range(n_blocks * _BLOCK, m):
        values[t] = abs(values[t] - mean)
    _keep_largest(maxima[:n_blocks], keep, buffer)
    _keep_largest_in_blocks(values, maxima[:n_blocks], keep, buffer, buffer[0])
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
    # max_i |z_ij - mean_j| is reached at an extreme (rounding x - mean is monotone in x,
    # and negation is exact), so no second pass over the column is needed.
    max_deviations = np.maximum(highest - means, means - lowest)
    return columns, highest > lowest, max_deviations


@njit(cache=True, nogil=True)
def _pair_deviation_quantile(
    column: np.ndarray,
    order: np.ndarray,
    bounds: np.ndarray,
    n_values: int,
    q: float,
    scratch: np.ndarray,
    maxima: np.ndarray,
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
        for t in range(size):  # summed row by row, as numpy's mean(axis=0) does
            scratch[t] = column[order[start + t]]
            mean += scratch[t]
        mean /= size
        total += _deviation_quantile(scratch[:size], mean, q, maxima, buffer)
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
    maxima = np.empty(n_samples // _BLOCK + 1)
    buffer = np.empty(_BUFFER)
    for j in range(n_latents):
        for i in range(n_sources):
            out[j, i] = _pair_deviation_quantile(
                latents[j], order[i], bounds[i], cardinalities[i], q, scratch, maxima, buffer
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
            np.empty(n_samples // _BLOCK + 1),
            np.empty(_BUFFER),
        )
    return out
