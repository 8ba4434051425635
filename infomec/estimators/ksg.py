"""Ross (2014) mixed continuous-discrete k-nearest-neighbour mutual information.

This is the estimator behind :func:`sklearn.feature_selection.mutual_info_classif`
(Kraskov-style counting with a per-class radius), specialised to one continuous
dimension: there, nearest neighbours are found by walking a sorted array, so no trees
are built and every pair costs ``O(N (k + log N))``.

For each point of a class with ``N_c > 1`` members, ``r`` is the distance to its
``k_c = min(k, N_c - 1)``-th nearest same-class neighbour, shrunk by one ulp;
``m`` counts the points of the whole (kept) sample within ``r`` of it, itself
included. Points of singleton classes are dropped. Then::

    MI = psi(N) + mean psi(k_c) - mean psi(N_c) - mean psi(m),   clipped at 0.

Distances are compared exactly as scikit-learn's KD-tree compares them (squared
differences against the squared shrunk radius), so on tie-free data the counts agree
point for point.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from scipy.special import digamma

from infomec._numeric import standardize

# scikit-learn's jitter: 1e-10 * max(1, mean|x|) * N(0, 1) on unit-variance data.
_JITTER_SCALE = 1e-10


def prepare_continuous_latents(latents: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Standardise, jitter and sort each latent column.

    Ties are broken the way scikit-learn breaks them, by adding
    ``1e-10 * max(1, mean|z|) * noise`` to the standardised column, with the noise drawn
    from ``numpy.random.RandomState(seed)``; the same noise vector is used for every
    column, as one ``mutual_info_classif(..., random_state=seed)`` call per column would.

    Parameters
    ----------
    latents : ndarray of shape (n_samples, n_latents)
        Finite values (validated).
    seed : int
        Seed of the jitter.

    Returns
    -------
    sorted_values : ndarray of float64, shape (n_latents, n_samples)
        Each jittered, standardised column in ascending order.
    order : ndarray of int32, shape (n_latents, n_samples)
        The permutation that sorts each column. A constant column (zero variance)
        keeps an all-zero row in ``sorted_values``; callers treat it as carrying no
        information.
    """
    n_samples, n_latents = latents.shape
    noise = np.random.RandomState(seed).standard_normal((n_samples, 1))
    jittered = np.empty((n_latents, n_samples))
    for j in range(n_latents):
        standardized = standardize(latents[:, j])
        if standardized is None:  # constant: no information, marked by an all-zero row
            jittered[j] = 0.0
            continue
        # The same operations, in the same order and shapes, as standardising and then
        # calling mutual_info_classif(random_state=seed): bit-identical inputs make the
        # estimates identical, down to scikit-learn's own rounding.
        standardized = standardized[:, None]
        standardized /= np.nanstd(standardized, axis=0)
        scale = np.maximum(1, np.mean(np.abs(standardized), axis=0))
        standardized += _JITTER_SCALE * scale * noise
        jittered[j] = standardized[:, 0]
    return _sort_rows(jittered)


@njit(parallel=True, cache=True)
def _sort_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort each row in place and return it with the sorting permutation (int32).

    In-place sorting and 32-bit indices keep the working set at 12 bytes per latent
    value, whatever N.
    """
    order = np.empty(values.shape, dtype=np.int32)
    for j in prange(values.shape[0]):
        row_order = np.argsort(values[j], kind="mergesort")
        values[j] = values[j][row_order]
        order[j] = row_order
    return values, order


@njit(cache=True)
def _within(value: float, center: float, squared_radius: float) -> bool:
    difference = value - center
    return difference * difference <= squared_radius


@njit(cache=True)
def _count_within_left(values: np.ndarray, position: int, squared_radius: float) -> int:
    """Number of indices q < position with values[q] within the radius (gallop + bisect)."""
    center = values[position]
    inside = position  # closest-to-the-left index known to be inside
    outside = -1  # an index known to be outside (or the sentinel -1)
    step = 1
    while True:
        q = position - step
        if q < 0:
            break
        if _within(values[q], center, squared_radius):
            inside = q
            step *= 2
        else:
            outside = q
            break
    while inside - outside > 1:
        middle = (inside + outside) // 2
        if _within(values[middle], center, squared_radius):
            inside = middle
        else:
            outside = middle
    return position - inside


@njit(cache=True)
def _count_within_right(values: np.ndarray, position: int, squared_radius: float) -> int:
    center = values[position]
    n = values.shape[0]
    inside = position
    outside = n
    step = 1
    while True:
        q = position + step
        if q >= n:
            break
        if _within(values[q], center, squared_radius):
            inside = q
            step *= 2
        else:
            outside = q
            break
    while outside - inside > 1:
        middle = (inside + outside) // 2
        if _within(values[middle], center, squared_radius):
            inside = middle
        else:
            outside = middle
    return inside - position


@njit(cache=True)
def _gemm_distance(query: float, point: float) -> float:
    """Distance as scikit-learn's brute-force ArgKmin computes it (no FMA contraction)."""
    squared = (query * query + -2.0 * (query * point)) + point * point
    return np.sqrt(max(squared, 0.0))


@njit(cache=True)
def ksg_mutual_information(
    sorted_values: np.ndarray,
    labels_in_order: np.ndarray,
    n_classes: int,
    n_neighbors: int,
    digamma_table: np.ndarray,
) -> float:
    """Ross KSG mutual information between one sorted continuous column and labels.

    Parameters
    ----------
    sorted_values : ndarray of float64, shape (n_samples,)
        The continuous variable in ascending order.
    labels_in_order : ndarray of int32, shape (n_samples,)
        Label codes ``0 .. n_classes - 1`` permuted into the same order.
    n_classes : int
    n_neighbors : int
        ``k`` (>= 1).
    digamma_table : ndarray of float64, shape (>= n_samples + 1,)
        ``digamma(i)`` at index ``i``.

    Returns
    -------
    float
        Mutual information in nats, clipped at 0; 0 when fewer than two points remain
        after dropping singleton classes.
    """
    n_samples = sorted_values.shape[0]
    counts = np.zeros(n_classes, dtype=np.int64)
    for t in range(n_samples):
        counts[labels_in_order[t]] += 1

    # Offsets of each kept class inside one flat array of per-class sorted values.
    offsets = np.zeros(n_classes + 1, dtype=np.int64)
    for c in range(n_classes):
        offsets[c + 1] = offsets[c] + (counts[c] if counts[c] > 1 else 0)
    n_kept = offsets[n_classes]
    if n_kept < 2:
        return 0.0

    kept_values = np.empty(n_kept)
    class_values = np.empty(n_kept)
    class_positions = np.empty(n_kept, dtype=np.int64)
    fill = offsets[:n_classes].copy()
    kept = 0
    for t in range(n_samples):
        c = labels_in_order[t]
        if counts[c] > 1:
            kept_values[kept] = sorted_values[t]
            class_values[fill[c]] = sorted_values[t]
            class_positions[fill[c]] = kept
            fill[c] += 1
            kept += 1

    sum_psi_k = 0.0
    sum_psi_class = 0.0
    sum_psi_m = 0.0
    for c in range(n_classes):
        n_c = counts[c]
        if n_c <= 1:
            continue
        k_c = min(n_neighbors, n_c - 1)
        # scikit-learn's NearestNeighbors switches to brute force when k >= n // 2;
        # its distances then come from |x|^2 - 2xy + |y|^2, which we reproduce.
        brute_force = k_c >= n_c // 2
        start = offsets[c]
        for u in range(n_c):
            center = class_values[start + u]
            left = u - 1
            right = u + 1
            distance = 0.0
            neighbor = center
            for _ in range(k_c):
                if left < 0:
                    neighbor = class_values[start + right]
                    distance = neighbor - center
                    right += 1
                elif right >= n_c:
                    neighbor = class_values[start + left]
                    distance = center - neighbor
                    left -= 1
                else:
                    to_left = center - class_values[start + left]
                    to_right = class_values[start + right] - center
                    if to_left <= to_right:
                        neighbor = class_values[start + left]
                        distance = to_left
                        left -= 1
                    else:
                        neighbor = class_values[start + right]
                        distance = to_right
                        right += 1
            if brute_force:
                distance = _gemm_distance(center, neighbor)
            radius = np.nextafter(distance, 0.0)
            squared_radius = radius * radius
            position = class_positions[start + u]
            m = (
                1
                + _count_within_left(kept_values, position, squared_radius)
                + _count_within_right(kept_values, position, squared_radius)
            )
            sum_psi_m += digamma_table[m]
            sum_psi_k += digamma_table[k_c]
            sum_psi_class += digamma_table[n_c]

    mi = digamma_table[n_kept] + (sum_psi_k - sum_psi_class - sum_psi_m) / n_kept
    return max(mi, 0.0)


@njit(parallel=True, cache=True)
def _ksg_matrix_kernel(
    sorted_values: np.ndarray,
    order: np.ndarray,
    informative: np.ndarray,
    source_codes: np.ndarray,
    source_cardinalities: np.ndarray,
    n_neighbors: int,
    digamma_table: np.ndarray,
) -> np.ndarray:
    n_latents = sorted_values.shape[0]
    n_sources = source_codes.shape[0]
    n_samples = sorted_values.shape[1]
    out = np.zeros((n_sources, n_latents))
    for pair in prange(n_sources * n_latents):
        i = pair // n_latents
        j = pair % n_latents
        if not informative[j] or source_cardinalities[i] <= 1:
            continue
        labels = np.empty(n_samples, dtype=np.int32)
        for t in range(n_samples):
            labels[t] = source_codes[i, order[j, t]]
        out[i, j] = ksg_mutual_information(
            sorted_values[j], labels, source_cardinalities[i], n_neighbors, digamma_table
        )
    return out


def ksg_mutual_information_matrix(
    sorted_values: np.ndarray,
    order: np.ndarray,
    source_codes: np.ndarray,
    source_cardinalities: np.ndarray,
    n_neighbors: int,
) -> np.ndarray:
    """KSG mutual information for every (source, latent) pair, parallel over pairs.

    Parameters
    ----------
    sorted_values, order : ndarray, shape (n_latents, n_samples)
        Output of :func:`prepare_continuous_latents`.
    source_codes : ndarray of int32, shape (n_sources, n_samples)
    source_cardinalities : ndarray of int64, shape (n_sources,)
    n_neighbors : int

    Returns
    -------
    ndarray of float64, shape (n_sources, n_latents)
        Mutual information in nats; exactly 0 for constant latents and single-valued
        sources.
    """
    n_samples = sorted_values.shape[1]
    digamma_table = digamma(np.arange(n_samples + 1, dtype=np.float64))
    informative = sorted_values[:, 0] != sorted_values[:, -1]
    return _ksg_matrix_kernel(
        sorted_values,
        order,
        informative,
        source_codes,
        np.asarray(source_cardinalities, dtype=np.int64),
        int(n_neighbors),
        digamma_table,
    )
