"""Batches of rows that share one source value: the BetaVAE and FactorVAE scores.

disentanglement_lib draws fresh factor vectors with one factor held fixed and encodes
new images. From a paired sample the same thing is done by sub-selecting rows that
share the fixed factor's value (the other factors then vary as they do in the data).

Rows of each source are grouped by value: ``order[k]`` lists the rows sorted by the
code of source ``k`` and ``bounds[k, c] : bounds[k, c + 1]`` is the slice of value
``c``. ``usable[k, :n_usable[k]]`` lists the positions in ``order[k]`` whose value is
shared by at least two rows (only those can form a pair or a batch with a variance).

Every random choice comes from uniforms drawn by the caller (``numpy.random.Generator``
seeded by the user), one fixed set per point, so results are reproducible and do not
depend on the number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from infomec.estimators.contingency import latents_per_chunk
from infomec.interrupts import check_stop


@njit(cache=True, nogil=True)
def _order_by_value(codes: np.ndarray, cardinalities: np.ndarray, max_values: int):
    n_sources, n_samples = codes.shape
    order = np.empty((n_sources, n_samples), dtype=np.int64)
    bounds = np.full((n_sources, max_values + 1), n_samples, dtype=np.int64)
    for k in range(n_sources):
        n_values = cardinalities[k]
        counts = np.zeros(n_values, dtype=np.int64)
        for t in range(n_samples):
            counts[codes[k, t]] += 1
        bounds[k, 0] = 0
        for value in range(n_values):
            bounds[k, value + 1] = bounds[k, value] + counts[value]
        fill = bounds[k, :n_values].copy()
        for t in range(n_samples):  # a counting sort: stable, rows ascending per value
            value = codes[k, t]
            order[k, fill[value]] = t
            fill[value] += 1
    return order, bounds


@njit(cache=True, nogil=True)
def _usable_positions(bounds: np.ndarray, cardinalities: np.ndarray, n_samples: int):
    n_sources = bounds.shape[0]
    usable = np.zeros((n_sources, n_samples), dtype=np.int64)
    n_usable = np.zeros(n_sources, dtype=np.int64)
    for k in range(n_sources):
        for value in range(cardinalities[k]):
            if bounds[k, value + 1] - bounds[k, value] >= 2:
                for position in range(bounds[k, value], bounds[k, value + 1]):
                    usable[k, n_usable[k]] = position
                    n_usable[k] += 1
    return usable, n_usable


def order_by_value(codes: np.ndarray, cardinalities: np.ndarray) -> tuple[np.ndarray, ...]:
    """``order`` and ``bounds`` of :func:`group_rows` alone (no ``usable`` positions).

    Examples
    --------
    >>> import numpy as np
    >>> order, bounds = order_by_value(np.array([[1, 0, 1, 2]], dtype=np.int32), np.array([3]))
    >>> order.tolist(), bounds.tolist()
    ([[1, 0, 2, 3]], [[0, 1, 3, 4]])
    """
    codes = np.ascontiguousarray(codes)
    cardinalities = np.asarray(cardinalities, dtype=np.int64)
    return _order_by_value(codes, cardinalities, int(cardinalities.max()))


def group_rows(codes: np.ndarray, cardinalities: np.ndarray) -> tuple[np.ndarray, ...]:
    """Group the rows of every source by value.

    Parameters
    ----------
    codes : ndarray of int32, shape (n_sources, n_samples)
    cardinalities : ndarray of int64, shape (n_sources,)

    Returns
    -------
    order : ndarray of int64, shape (n_sources, n_samples)
        Rows sorted by value (stable).
    bounds : ndarray of int64, shape (n_sources, max(cardinalities) + 1)
    usable : ndarray of int64, shape (n_sources, n_samples)
    n_usable : ndarray of int64, shape (n_sources,)

    Examples
    --------
    >>> import numpy as np
    >>> order, bounds, usable, n_usable = group_rows(
    ...     np.array([[1, 0, 1, 2]], dtype=np.int32), np.array([3]))
    >>> order.tolist(), bounds.tolist(), usable[0, : n_usable[0]].tolist()
    ([[1, 0, 2, 3]], [[0, 1, 3, 4]], [1, 2])
    """
    order, bounds = order_by_value(codes, cardinalities)
    usable, n_usable = _usable_positions(
        bounds, np.asarray(cardinalities, dtype=np.int64), order.shape[1]
    )
    return order, bounds, usable, n_usable


@njit(cache=True, nogil=True)
def _uniform_index(uniform: float, n: int) -> int:
    index = int(uniform * n)
    return index if index < n else n - 1


@njit(parallel=True, cache=True)
def _beta_vae_features_block(
    latents: np.ndarray,
    codes: np.ndarray,
    order: np.ndarray,
    bounds: np.ndarray,
    usable: np.ndarray,
    n_usable: np.ndarray,
    factors: np.ndarray,
    uniforms: np.ndarray,
) -> np.ndarray:
    n_points, batch, _ = uniforms.shape
    n_latents = latents.shape[1]
    features = np.zeros((n_points, n_latents))
    for p in prange(n_points):
        k = factors[p]
        for b in range(batch):
            position = usable[k, _uniform_index(uniforms[p, b, 0], n_usable[k])]
            first = order[k, position]
            value = codes[k, first]
            start = bounds[k, value]
            size = bounds[k, value + 1] - start
            other = start + _uniform_index(uniforms[p, b, 1], size - 1)
            if other >= position:  # skip the first row itself
                other += 1
            second = order[k, other]
            for j in range(n_latents):
                features[p, j] += abs(latents[first, j] - latents[second, j])
        for j in range(n_latents):
            features[p, j] /= batch
    return features


def beta_vae_features(
    latents: np.ndarray,
    codes: np.ndarray,
    order: np.ndarray,
    bounds: np.ndarray,
    usable: np.ndarray,
    n_usable: np.ndarray,
    factors: np.ndarray,
    uniforms: np.ndarray,
) -> np.ndarray:
    """One BetaVAE training point per entry of ``factors``.

    Point ``p`` holds source ``factors[p]`` fixed: for each of the ``batch`` pairs, the
    first row is uniform over rows whose value is shared, the second uniform over the
    other rows with that value; the feature is the mean absolute latent difference.

    Parameters
    ----------
    latents : ndarray of float64, shape (n_samples, n_latents)
    codes : ndarray of int32, shape (n_sources, n_samples)
    order, bounds, usable, n_usable : from :func:`group_rows`
    factors : ndarray of int64, shape (n_points,)
        Each must have ``n_usable > 0``.
    uniforms : ndarray of float64, shape (n_points, batch, 2)
        Uniforms in [0, 1) choosing the two rows of each pair.

    Returns
    -------
    ndarray of float64, shape (n_points, n_latents)
    """
    out = None
    n_items = factors.shape[0]
    step = latents_per_chunk(uniforms.shape[1] * latents.shape[1])
    for a in range(0, max(n_items, 1), step):
        check_stop()  # Ctrl-C between blocks (infomec.interrupts); blocks change no value
        b = min(a + step, n_items)
        block = _beta_vae_features_block(
            latents, codes, order, bounds, usable, n_usable, factors[a:b], uniforms[a:b]
        )
        if out is None:
            out = np.empty((n_items, *block.shape[1:]), dtype=block.dtype)
        out[a:b] = block
    return out


@njit(parallel=True, cache=True)
def _factor_vae_votes_block(
    latents: np.ndarray,
    codes: np.ndarray,
    order: np.ndarray,
    bounds: np.ndarray,
    usable: np.ndarray,
    n_usable: np.ndarray,
    factors: np.ndarray,
    anchors: np.ndarray,
    uniforms: np.ndarray,
    global_variances: np.ndarray,
    active: np.ndarray,
) -> np.ndarray:
    n_votes, batch = uniforms.shape
    n_latents = latents.shape[1]
    votes = np.empty(n_votes, dtype=np.int64)
    for v in prange(n_votes):
        k = factors[v]
        position = usable[k, _uniform_index(anchors[v], n_usable[k])]
        value = codes[k, order[k, position]]
        start = bounds[k, value]
        size = bounds[k, value + 1] - start
        taken = min(size, batch)
        chosen = np.empty(taken, dtype=np.int64)
        if size <= batch:
            for t in range(size):
                chosen[t] = t
        else:
            for t in range(batch):
                candidate_range = size - batch + t + 1  # Floyd: draw from [0, size-batch+t]
                candidate = _uniform_index(uniforms[v, t], candidate_range)
                seen = False
                for u in range(t):
                    if chosen[u] == candidate:
                        seen = True
                        break
                chosen[t] = candidate_range - 1 if seen else candidate
        best = -1
        best_ratio = np.inf
        for j in range(n_latents):
            if not active[j]:
                continue
            mean = 0.0
            for t in range(taken):
                mean += latents[order[k, start + chosen[t]], j]
            mean /= taken
            squares = 0.0
            for t in range(taken):
                deviation = latents[order[k, start + chosen[t]], j] - mean
                squares += deviation * deviation
            ratio = squares / (taken - 1) / global_variances[j]
            if ratio < best_ratio:
                best = j
                best_ratio = ratio
        votes[v] = best
    return votes


def factor_vae_votes(
    latents: np.ndarray,
    codes: np.ndarray,
    order: np.ndarray,
    bounds: np.ndarray,
    usable: np.ndarray,
    n_usable: np.ndarray,
    factors: np.ndarray,
    anchors: np.ndarray,
    uniforms: np.ndarray,
    global_variances: np.ndarray,
    active: np.ndarray,
) -> np.ndarray:
    """One FactorVAE vote per entry of ``factors``: the latent of least relative variance.

    Vote ``v`` holds source ``factors[v]`` at the value of a row drawn uniformly among
    rows whose value is shared (so values are drawn with their frequency in the data),
    takes ``batch`` distinct rows of that value uniformly (Floyd's algorithm; every row
    when there are no more than ``batch``), and returns the index, among all latents, of
    the active latent minimising ``var(batch, ddof=1) / global_variance`` (first on ties).

    Parameters
    ----------
    latents : ndarray of float64, shape (n_samples, n_latents)
    codes, order, bounds, usable, n_usable : as for :func:`beta_vae_features`
    factors : ndarray of int64, shape (n_votes,)
    anchors : ndarray of float64, shape (n_votes,)
        Uniforms choosing the row whose value is held fixed.
    uniforms : ndarray of float64, shape (n_votes, batch)
        Uniforms choosing the batch.
    global_variances : ndarray of float64, shape (n_latents,)
    active : ndarray of bool, shape (n_latents,)
        At least one entry true, each with a positive global variance.

    Returns
    -------
    ndarray of int64, shape (n_votes,)
    """
    n_items = factors.shape[0]
    out = np.empty(n_items, dtype=np.int64)
    step = latents_per_chunk(uniforms.shape[1] * latents.shape[1])
    for a in range(0, n_items, step):
        check_stop()  # Ctrl-C between blocks (infomec.interrupts); blocks change no value
        b = min(a + step, n_items)
        out[a:b] = _factor_vae_votes_block(
            latents,
            codes,
            order,
            bounds,
            usable,
            n_usable,
            factors[a:b],
            anchors[a:b],
            uniforms[a:b],
            global_variances,
            active,
        )
    return out
