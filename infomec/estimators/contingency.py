"""Plug-in (contingency-table) entropy and mutual information, in nats.

The per-cell arithmetic follows :func:`sklearn.metrics.mutual_info_score` term by term
(including its zeroing of cells below machine epsilon and the final clip at 0), so the
two agree to the last few ulps; only the summation order differs.

Label codes are ``int32`` arrays holding ``0 .. n_values - 1`` where every value occurs
(what :func:`infomec._validation.label_encode_columns` produces).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from infomec.interrupts import check_stop

_EPS = np.finfo(np.float64).eps

# Above this many cells per sample a dense contingency table wastes time and memory;
# counting sorted joint keys is O(N log N) whatever the cardinalities.
_DENSE_CELLS_PER_SAMPLE = 4


#: (row, pair) cells per block of a pairwise kernel: some tens of milliseconds.
CHUNK_CELLS = 1 << 23


def latents_per_chunk(cells_per_latent: float) -> int:
    """Latents per block so that a block holds about :data:`CHUNK_CELLS` cells."""
    return max(1, int(CHUNK_CELLS // max(cells_per_latent, 1)))


@njit(cache=True)
def _cell_term(n_ab: float, n_a: float, n_b: float, n: float) -> float:
    # sklearn: nm * (log(n_ab) - log(N)) + nm * (log(N) + log(N) - log(n_a * n_b))
    nm = n_ab / n
    term = nm * (np.log(n_ab) - np.log(n)) + nm * (-np.log(n_a * n_b) + np.log(n) + np.log(n))
    if abs(term) < _EPS:
        return 0.0
    return term


@njit(cache=True)
def _marginal_counts(codes: np.ndarray, n_values: int) -> np.ndarray:
    counts = np.zeros(n_values, dtype=np.int64)
    for t in range(codes.shape[0]):
        counts[codes[t]] += 1
    return counts


@njit(cache=True)
def plugin_mutual_information(
    codes_a: np.ndarray, n_values_a: int, codes_b: np.ndarray, n_values_b: int
) -> float:
    """Plug-in mutual information between two label-coded variables, in nats.

    Parameters
    ----------
    codes_a, codes_b : ndarray of int32, shape (n_samples,)
        Label codes ``0 .. n_values - 1``.
    n_values_a, n_values_b : int
        Number of distinct codes of each variable.

    Returns
    -------
    float
        ``I(a; b) >= 0``; exactly 0 when either variable takes a single value.
    """
    n_samples = codes_a.shape[0]
    if n_values_a <= 1 or n_values_b <= 1:
        return 0.0
    counts_a = _marginal_counts(codes_a, n_values_a)
    counts_b = _marginal_counts(codes_b, n_values_b)
    n = float(n_samples)
    total = 0.0
    if n_values_a * n_values_b <= _DENSE_CELLS_PER_SAMPLE * n_samples + 1024:
        table = np.zeros((n_values_a, n_values_b), dtype=np.int64)
        for t in range(n_samples):
            table[codes_a[t], codes_b[t]] += 1
        for a in range(n_values_a):
            for b in range(n_values_b):
                if table[a, b] > 0:
                    total += _cell_term(
                        float(table[a, b]), float(counts_a[a]), float(counts_b[b]), n
                    )
    else:
        keys = np.empty(n_samples, dtype=np.int64)
        for t in range(n_samples):
            keys[t] = np.int64(codes_a[t]) * n_values_b + codes_b[t]
        keys.sort()
        start = 0
        while start < n_samples:
            stop = start + 1
            while stop < n_samples and keys[stop] == keys[start]:
                stop += 1
            a = keys[start] // n_values_b
            b = keys[start] % n_values_b
            total += _cell_term(float(stop - start), float(counts_a[a]), float(counts_b[b]), n)
            start = stop
    return max(total, 0.0)


def plugin_mutual_information_matrix(
    source_codes: np.ndarray,
    source_cardinalities: np.ndarray,
    latent_codes: np.ndarray,
    latent_cardinalities: np.ndarray,
) -> np.ndarray:
    """Plug-in MI for every (source, latent) pair, in parallel over pairs.

    Computed in blocks of latents of about :data:`CHUNK_CELLS` (row, pair) cells, with
    a stop check between blocks (:func:`infomec.interrupts.check_stop`), so that
    Ctrl-C ends a long call within a block. Each pair is computed on its own: the
    blocks do not change any value.

    Parameters
    ----------
    source_codes : ndarray of int32, shape (n_sources, n_samples)
        One row of label codes per source (column-major view of the data).
    source_cardinalities : ndarray of int64, shape (n_sources,)
    latent_codes : ndarray of int32, shape (n_latents, n_samples)
    latent_cardinalities : ndarray of int64, shape (n_latents,)

    Returns
    -------
    ndarray of float64, shape (n_sources, n_latents)
    """
    n_sources, n_samples = source_codes.shape
    n_latents = latent_codes.shape[0]
    out = np.zeros((n_sources, n_latents))
    step = latents_per_chunk(n_samples * max(n_sources, 1))
    for start in range(0, n_latents, step):
        check_stop()
        stop = min(start + step, n_latents)
        out[:, start:stop] = _plugin_mutual_information_block(
            source_codes, source_cardinalities, latent_codes[start:stop],
            latent_cardinalities[start:stop],
        )  # fmt: skip
    return out


@njit(parallel=True, cache=True)
def _plugin_mutual_information_block(
    source_codes: np.ndarray,
    source_cardinalities: np.ndarray,
    latent_codes: np.ndarray,
    latent_cardinalities: np.ndarray,
) -> np.ndarray:
    n_sources = source_codes.shape[0]
    n_latents = latent_codes.shape[0]
    out = np.zeros((n_sources, n_latents))
    for pair in prange(n_sources * n_latents):
        i = pair // n_latents
        j = pair % n_latents
        out[i, j] = plugin_mutual_information(
            source_codes[i], source_cardinalities[i], latent_codes[j], latent_cardinalities[j]
        )
    return out


@njit(cache=True)
def _entropy(codes: np.ndarray, n_values: int) -> float:
    counts = _marginal_counts(codes, n_values)
    n = float(codes.shape[0])
    total = 0.0
    for c in counts:
        if c > 0:
            total += (c / n) * (np.log(n) - np.log(float(c)))
    return max(total, 0.0)


@njit(parallel=True, cache=True)
def entropy_per_column(codes: np.ndarray, cardinalities: np.ndarray) -> np.ndarray:
    """Plug-in entropy (nats) of each row of ``codes`` (shape (n_columns, n_samples))."""
    out = np.zeros(codes.shape[0])
    for i in prange(codes.shape[0]):
        out[i] = _entropy(codes[i], cardinalities[i])
    return out


@njit(cache=True, nogil=True)
def column_ranges(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest value of each column, in one row-major pass.

    (numpy's ``min(axis=0)`` on a tall array with few columns is several times slower.)

    Examples
    --------
    >>> lows, highs = column_ranges(np.array([[7, 0], [-2, 0], [3, 1]]))
    >>> lows.tolist(), highs.tolist()
    ([-2, 0], [7, 1])
    """
    lows = array[0].copy()
    highs = array[0].copy()
    for i in range(1, array.shape[0]):
        for j in range(array.shape[1]):
            lows[j] = min(lows[j], array[i, j])
            highs[j] = max(highs[j], array[i, j])
    return lows, highs


@njit(cache=True, nogil=True)
def counted_codes(
    array: np.ndarray, lows: np.ndarray, spans: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique``'s inverse codes of each integer column, by counting.

    Parameters
    ----------
    array : ndarray of int or uint, shape (n_samples, n_columns)
        Column ``j`` holds values in ``[lows[j], lows[j] + spans[j]]``.
    lows : ndarray of the array's dtype, shape (n_columns,)
        The smallest value of each column.
    spans : ndarray of int64, shape (n_columns,)
        ``max - min`` of each column (its counting table has ``span + 1`` slots); a
        negative span skips the column (its codes are left unset, its count 0).

    Returns
    -------
    codes : ndarray of int32, shape (n_columns, n_samples)
        The rank of each value among its column's distinct values.
    n_values : ndarray of int64, shape (n_columns,)

    Examples
    --------
    >>> array = np.array([[7, 0], [-2, 0], [7, 1], [3, 0]])
    >>> codes, n_values = counted_codes(array, np.array([-2, 0]), np.array([9, 1]))
    >>> codes.tolist(), n_values.tolist()
    ([[2, 0, 2, 1], [0, 0, 1, 0]], [3, 2])
    """
    n_samples, n_columns = array.shape
    codes = np.empty((n_columns, n_samples), dtype=np.int32)
    n_values = np.zeros(n_columns, dtype=np.int64)
    for j in range(n_columns):
        if spans[j] < 0:
            continue
        # int64 offsets are exact even where the subtraction wraps around (uint64
        # columns): the true offsets fit in int64.
        start = np.int64(lows[j])
        ranks = np.zeros(spans[j] + 1, dtype=np.int32)
        for i in range(n_samples):
            ranks[np.int64(array[i, j]) - start] = 1
        count = 0
        for slot in range(spans[j] + 1):
            present = ranks[slot]
            ranks[slot] = count
            count += present
        n_values[j] = count
        for i in range(n_samples):
            codes[j, i] = ranks[np.int64(array[i, j]) - start]
    return codes, n_values
