"""Gradient boosting's leaf line search, compiled: scikit-learn's arithmetic, without the GIL.

After a boosting stage fits a regression tree to the negative gradient ``g`` of the log
loss, scikit-learn (``sklearn.ensemble._gb._update_terminal_regions``) replaces each
leaf's value by one Newton step and adds the tree to the raw predictions::

    value[leaf] = factor * avg_w(g) / avg_w(p (1 - p)),   p = y - g,
    raw[:, k] += learning_rate * value[leaf of each row],

with ``factor = (K - 1) / K`` for K > 2 classes (none for two) and ``avg_w`` numpy's
``np.average(..., weights=w)``: ``sum(a * w) / sum(w)``, each sum numpy's pairwise
summation of the leaf's rows in row order. scikit-learn does this in Python, leaf by
leaf, holding the GIL for about a twentieth of a tree's fit; here it is one ``nogil``
call that repeats the same floating-point operations in the same order (same bits).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["EMPTY_LEAF", "OVERFLOW", "UPDATED", "newton_leaf_update", "pairwise_sum"]

# numpy's pairwise summation: runs of up to this many values are summed with eight
# interleaved accumulators; longer runs are split in two (numpy's PW_BLOCKSIZE).
_PAIRWISE_BLOCK = 128
_UNROLL = 8
# scikit-learn's _safe_divide: a denominator below this gives a zero update.
_TINY_DENOMINATOR = 1e-150

# newton_leaf_update's status codes.
UPDATED = 0
EMPTY_LEAF = 1  # scikit-learn raises (the weights sum to zero)
OVERFLOW = 2  # scikit-learn warns


@njit(cache=True, nogil=True)
def pairwise_sum(values: np.ndarray, start: int, n: int) -> float:
    """``np.sum(values[start:start + n])`` for float64, bit for bit.

    numpy sums a contiguous float64 run pairwise: short runs in order, runs of up to
    128 with eight interleaved accumulators, longer ones as the sum of two halves split
    at a multiple of eight.

    Examples
    --------
    >>> values = np.array([0.1, 0.2, 0.3] * 50)
    >>> bool(pairwise_sum(values, 0, values.size) == values.sum())
    True
    """
    if n < _UNROLL:
        total = -0.0
        for t in range(start, start + n):
            total += values[t]
        return total
    if n <= _PAIRWISE_BLOCK:
        r0, r1, r2, r3 = values[start], values[start + 1], values[start + 2], values[start + 3]
        r4, r5, r6, r7 = values[start + 4], values[start + 5], values[start + 6], values[start + 7]
        whole = n - n % _UNROLL
        for t in range(start + _UNROLL, start + whole, _UNROLL):
            r0 += values[t]
            r1 += values[t + 1]
            r2 += values[t + 2]
            r3 += values[t + 3]
            r4 += values[t + 4]
            r5 += values[t + 5]
            r6 += values[t + 6]
            r7 += values[t + 7]
        total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        for t in range(start + whole, start + n):
            total += values[t]
        return total
    half = n // 2
    half -= half % _UNROLL
    return pairwise_sum(values, start, half) + pairwise_sum(values, start + half, n - half)


@njit(cache=True, nogil=True)
def newton_leaf_update(
    regions: np.ndarray,
    negative_gradient: np.ndarray,
    target: np.ndarray,
    sample_weight: np.ndarray,
    factor: float,
    is_leaf: np.ndarray,
    leaf_values: np.ndarray,
    raw_predictions: np.ndarray,
    k: int,
    learning_rate: float,
) -> int:
    """One tree's Newton leaf values, then its shrunk contribution to ``raw_predictions``.

    Parameters
    ----------
    regions : ndarray of int64, shape (n_samples,)
        Leaf (node index) of each training row (``tree.apply(X)``).
    negative_gradient, target, sample_weight : ndarray of float64, shape (n_samples,)
        The tree's fitted negative gradient, the 0/1 target of its class, the weights.
    factor : float
        ``(K - 1) / K`` for K > 2 classes; 1 for two (scikit-learn has no factor there,
        and multiplying by 1 is exact).
    is_leaf : ndarray of bool, shape (n_nodes,)
    leaf_values : ndarray of float64, shape (n_nodes,)
        The tree's node values (a view into the tree); every leaf's is set.
    raw_predictions : ndarray of float64, shape (n_samples, n_trees)
        Column ``k`` gets ``learning_rate * leaf_values[regions]`` added.
    k : int
    learning_rate : float

    Returns
    -------
    int
        :data:`UPDATED`; or :data:`EMPTY_LEAF` / :data:`OVERFLOW` where scikit-learn
        would raise / warn, and then ``raw_predictions`` is untouched (the caller hands
        the tree to scikit-learn, which rewrites every leaf).
    """
    n_samples = regions.shape[0]
    n_nodes = leaf_values.shape[0]
    # Rows grouped by leaf in row order (a stable counting sort): numpy sums each leaf's
    # rows in that order after np.nonzero gathers them.
    starts = np.zeros(n_nodes + 1, dtype=np.int64)
    for row in range(n_samples):
        starts[regions[row] + 1] += 1
    for node in range(n_nodes):
        starts[node + 1] += starts[node]
    filled = starts[:n_nodes].copy()
    weighted_gradient = np.empty(n_samples)
    weighted_hessian = np.empty(n_samples)
    weights = np.empty(n_samples)
    for row in range(n_samples):
        position = filled[regions[row]]
        filled[regions[row]] += 1
        gradient = negative_gradient[row]
        probability = target[row] - gradient
        weighted_gradient[position] = gradient * sample_weight[row]
        weighted_hessian[position] = probability * (1.0 - probability) * sample_weight[row]
        weights[position] = sample_weight[row]
    for node in range(n_nodes):
        if not is_leaf[node]:
            continue
        start = starts[node]
        size = starts[node + 1] - start
        total_weight = pairwise_sum(weights, start, size)
        if total_weight == 0.0:  # also a leaf that no row reaches
            return EMPTY_LEAF
        numerator = pairwise_sum(weighted_gradient, start, size) / total_weight * factor
        denominator = pairwise_sum(weighted_hessian, start, size) / total_weight
        if abs(denominator) < _TINY_DENOMINATOR:
            leaf_values[node] = 0.0
        else:
            update = numerator / denominator
            if np.isinf(update):
                return OVERFLOW
            leaf_values[node] = update
    for row in range(n_samples):
        raw_predictions[row, k] += learning_rate * leaf_values[regions[row]]
    return UPDATED
