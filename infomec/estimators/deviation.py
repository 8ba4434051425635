"""Quantiles of within-group deviations: the interventional robustness score (IRS).

For a latent ``z_j`` and a source ``s_i``, each group of rows sharing a value ``v`` of
``s_i`` gives ``quantile_q |z_j - mean(z_j | s_i = v)|``; the kernel returns the mean of
these over the groups (disentanglement_lib's ``cum_deviations``). Quantiles use
numpy's default ("linear") interpolation, with its arithmetic.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from infomec.estimators.contingency import latents_per_chunk
from infomec.interrupts import check_stop


@njit(cache=True, nogil=True)
def linear_quantile(sorted_values: np.ndarray, q: float) -> float:
    """``np.quantile(values, q)`` of an ascending array (numpy's linear method)."""
    n = sorted_values.shape[0]
    below = min(max(int(np.floor((n - 1) * q)), 0), n - 1)
    return linear_quantile_at(sorted_values[below:], n - below, below, n, q)


# Up to this many order statistics are kept in a sorted buffer during one pass; above it
# (low quantiles of large groups) the group is sorted instead.
_BUFFER = 64
# Deviations per block whose maximum is taken (see _deviation_quantile).
_BLOCK = 16
# Histogram of block maxima: bins of 1/16 octave (a float's exponent and first four
# mantissa bits) counted down from the largest maximum; the last bin holds everything
# more than four octaves below it.
_FLOOR_BINS = 64
_BIN_SHIFT = 48
# Up to this many candidates are ranked by counting (branch-free); above it, sorted.
_RANKED = 64


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
def _floor_of_maxima(
    maxima: np.ndarray, n_blocks: int, keep: int, counts: np.ndarray, bits: np.ndarray
) -> float:
    """A value that at least ``keep`` of ``maxima[:n_blocks]`` (all >= 0) reach.

    The largest bin edge with that property, on :data:`_FLOOR_BINS` bins of 1/16 octave:
    the keep-th largest maximum rounded down by at most 1/16 octave. Nonnegative floats
    order as their bit patterns do, so a bin is a shift of the bits. ``bits`` is an int64
    scratch array of length >= 1 (the edge is built in it and read back as a float).
    """
    keys = maxima.view(np.int64)
    top = keys[0] >> _BIN_SHIFT
    for block in range(1, n_blocks):
        top = max(top, keys[block] >> _BIN_SHIFT)
    counts[:] = 0
    for block in range(n_blocks):
        counts[min(top - (keys[block] >> _BIN_SHIFT), _FLOOR_BINS - 1)] += 1
    reached = 0
    for below_top in range(_FLOOR_BINS - 1):
        reached += counts[below_top]
        if reached >= keep:
            bits[0] = (top - below_top) << _BIN_SHIFT
            return bits.view(np.float64)[0]
    return 0.0


@njit(cache=True, nogil=True)
def _ranked_pair(values: np.ndarray, rank: int) -> tuple[float, float]:
    """The values at ascending positions ``rank`` and ``rank + 1`` of a short array.

    Each value's position is the number of values before it in a stable sort, counted
    without branches: for a few dozen values this beats sorting.
    """
    at_rank = 0.0
    after_rank = 0.0
    n = values.shape[0]
    for i in range(n):
        value = values[i]
        position = 0
        for k in range(n):
            other = values[k]
            position += (other < value) | ((other == value) & (k < i))
        if position == rank:
            at_rank = value
        elif position == rank + 1:
            after_rank = value
    return at_rank, after_rank


@njit(cache=True, nogil=True)
def _deviation_quantile(
    values: np.ndarray,
    mean: float,
    q: float,
    maxima: np.ndarray,
    buffer: np.ndarray,
    counts: np.ndarray,
) -> float:
    """``np.quantile(|values - mean|, q)``; ``values`` is overwritten.

    The quantile only reads the order statistics at ``below = floor((m - 1) q)`` and the
    next one, i.e. among the ``keep = m - below`` largest deviations: for q = 0.99 about
    one in a hundred. So the deviations are cut into blocks of :data:`_BLOCK` and each
    block's maximum taken (a branch-free pass that also writes the deviations). At least
    ``keep`` deviations (the maxima themselves) reach the ``keep``-th largest maximum, so
    no kept value lies below it, nor below the histogram floor under it
    (:func:`_floor_of_maxima`). The second pass reads only the blocks that reach the
    floor and packs their deviations that reach it at the front of ``values`` (a few
    more than ``keep``); the two order statistics are found among those.
    ``counts`` is an int64 scratch array of length :data:`_FLOOR_BINS`.
    """
    m = values.shape[0]
    below = int(np.floor((m - 1) * q))
    keep = m - below
    n_blocks = m // _BLOCK
    if keep > n_blocks:
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
    floor = _floor_of_maxima(maxima, n_blocks, keep, counts, buffer.view(np.int64))
    # Packing in place is safe: the write position never passes the read position.
    n_candidates = 0
    for block in range(n_blocks + 1):
        if block < n_blocks and maxima[block] < floor:
            continue
        for t in range(block * _BLOCK, min((block + 1) * _BLOCK, m)):
            deviation = values[t]
            values[n_candidates] = deviation
            n_candidates += deviation >= floor
    # The keep largest deviations are the top keep candidates: positions from `rank` on.
    rank = n_candidates - keep
    if n_candidates > _RANKED:
        top = np.sort(values[:n_candidates])[rank:]
        return linear_quantile_at(top, keep, below, m, q)
    buffer[0], buffer[1] = _ranked_pair(values[:n_candidates], rank)
    # keep == 1 only reads buffer[0]; otherwise the quantile lies between the two.
    return linear_quantile_at(buffer, min(keep, 2), below, m, q)


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
    # numpy's _lerp: interpolate from the nearer end, for monotonicity.
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
    counts: np.ndarray,
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
        total += _deviation_quantile(scratch[:size], mean, q, maxima, buffer, counts)
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
    counts = np.empty(_FLOOR_BINS, dtype=np.int64)
    for j in range(n_latents):
        for i in range(n_sources):
            out[j, i] = _pair_deviation_quantile(
                latents[j],
                order[i],
                bounds[i],
                cardinalities[i],
                q,
                scratch,
                maxima,
                buffer,
                counts,
            )
    return out


@njit(parallel=True, cache=True)
def _mean_group_deviation_quantiles_block(
    latents: np.ndarray,
    order: np.ndarray,
    bounds: np.ndarray,
    cardinalities: np.ndarray,
    q: float,
) -> np.ndarray:
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
            np.empty(_FLOOR_BINS, dtype=np.int64),
        )
    return out


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
    out = None
    n_items = latents.shape[0]
    step = latents_per_chunk(latents.shape[1] * 4 * max(order.shape[0], 1))
    for a in range(0, max(n_items, 1), step):
        check_stop()  # Ctrl-C between blocks (infomec.interrupts); blocks change no value
        b = min(a + step, n_items)
        block = _mean_group_deviation_quantiles_block(latents[a:b], order, bounds, cardinalities, q)
        if out is None:
            out = np.empty((n_items, *block.shape[1:]), dtype=block.dtype)
        out[a:b] = block
    return out
