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

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit, prange

from infomec._numeric import standardize
from infomec.estimators.contingency import latents_per_chunk
from infomec.interrupts import check_stop, stoppable

# scikit-learn's jitter: 1e-10 * max(1, mean|x|) * N(0, 1) on unit-variance data.
_JITTER_SCALE = 1e-10


_EULER_GAMMA = 0.57721566490153286061
# psi(x) ~ ln x - 1/(2x) - sum_k B_2k / (2k x^2k): the coefficients B_2k / (2k), k = 1..5.
_ASYMPTOTIC = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132)
_ASYMPTOTIC_FROM = 20  # below, the recurrence psi(n + 1) = psi(n) + 1/n from psi(1)


def digamma_of_integers(size: int) -> np.ndarray:
    """``digamma(i)`` for ``i = 0 .. size - 1`` (``-inf`` at 0, as scipy's).

    The KSG sums need the digamma function at integers only: the recurrence from
    ``psi(1) = -gamma`` up to 20, the asymptotic series beyond, both accurate to a few
    ulps. This spares importing scipy.special at start-up.

    Examples
    --------
    >>> table = digamma_of_integers(4)
    >>> [round(float(value), 12) for value in table[1:]]
    [-0.577215664902, 0.422784335098, 0.922784335098]
    """
    table = np.empty(size)
    if size == 0:
        return table
    table[0] = -np.inf
    value = -_EULER_GAMMA
    for n in range(1, min(size, _ASYMPTOTIC_FROM)):
        table[n] = value
        value += 1.0 / n
    if size > _ASYMPTOTIC_FROM:
        x = np.arange(_ASYMPTOTIC_FROM, size, dtype=np.float64)
        inverse_square = 1.0 / (x * x)
        series = np.zeros_like(x)
        for coefficient in reversed(_ASYMPTOTIC):
            series = (series + coefficient) * inverse_square
        table[_ASYMPTOTIC_FROM:] = np.log(x) - 0.5 / x - series
    return table


def prepare_continuous_latents(
    latents: np.ndarray, seed: int, n_threads: int = 1
) -> tuple[np.ndarray, np.ndarray]:
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
    n_threads : int, default=1
        Columns prepared at once (numpy releases the GIL in these loops); the result
        does not depend on it.

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
    sorted_values = np.empty((n_latents, n_samples))
    order = np.empty((n_latents, n_samples), dtype=np.int32)

    def prepare(block: range) -> None:
        for j in block:
            check_stop()  # Ctrl-C: the block ends at the next column
            sorted_values[j], order[j] = _jittered_sorted_column(latents[:, j], noise)

    # Blocks of columns, not one task per column: 10^5 queued tasks take a second to
    # cancel after Ctrl-C. Each column is prepared on its own: blocks change no value.
    # A few blocks per thread at least, so that few long columns still share the cores.
    size = max(1, min(64, n_latents // (4 * max(n_threads, 1))))
    blocks = [range(start, min(start + size, n_latents)) for start in range(0, n_latents, size)]
    if n_threads > 1 and len(blocks) > 1:
        with stoppable(), ThreadPoolExecutor(min(n_threads, len(blocks))) as pool:
            try:
                list(pool.map(prepare, blocks))
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)  # drop the blocks queued
                raise
    else:
        for block in blocks:
            prepare(block)
    return sorted_values, order


def _jittered_sorted_column(column: np.ndarray, noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One column standardised, jittered and sorted, with its sorting permutation.

    numpy's default (SIMD introsort) argsort is several times faster than a stable one;
    the order among exactly tied values does not matter, as every count compares
    values, not positions.
    """
    standardized = standardize(column)
    if standardized is None:  # constant: no information, marked by an all-zero row
        return np.zeros(column.shape[0]), np.arange(column.shape[0])
    # The same operations, in the same order and shapes, as standardising and then
    # calling mutual_info_classif(random_state=seed): bit-identical inputs make the
    # estimates identical, down to scikit-learn's own rounding.
    standardized = standardized[:, None]
    standardized /= np.nanstd(standardized, axis=0)
    scale = np.maximum(1, np.mean(np.abs(standardized), axis=0))
    standardized += _JITTER_SCALE * scale * noise
    values = standardized[:, 0]
    column_order = np.argsort(values)
    return values[column_order], column_order


@njit(cache=True, inline="always")
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
def _walk_kth_neighbor(class_values: np.ndarray, u: int, k: int) -> tuple[float, int, int]:
    """k-th nearest neighbour of ``class_values[u]`` by walking outwards from ``u``.

    Returns the distance, computed as scikit-learn's brute force computes it (the walk
    is only used for the small classes on which scikit-learn switches to brute force),
    and the indices of the next unvisited neighbours on each side (known outside).
    """
    n = class_values.shape[0]
    center = class_values[u]
    left = u - 1
    right = u + 1
    neighbor = center
    for _ in range(k):
        if left < 0:
            neighbor = class_values[right]
            right += 1
        elif right >= n:
            neighbor = class_values[left]
            left -= 1
        elif center - class_values[left] <= class_values[right] - center:
            neighbor = class_values[left]
            left -= 1
        else:
            neighbor = class_values[right]
            right += 1
    return _gemm_distance(center, neighbor), left, right


@njit(cache=True, inline="always")
def _shrink_by_one_ulp(distance: float) -> float:
    """``np.nextafter(distance, 0)`` for ``distance >= 0``, without a libm call.

    Multiplying by ``1 - 2**-53`` rounds to the next float towards zero for every
    normal positive number (exactly so for powers of two); subnormals, where it would
    round back to ``distance``, take the library call.
    """
    shrunk = distance * (1.0 - 2.0**-53)
    if shrunk == distance and distance != 0.0:
        return np.nextafter(distance, 0.0)
    return shrunk


@njit(cache=True, inline="always")
def _window_radius(class_values: np.ndarray, center: float, first: int, k: int) -> float:
    """Distance from ``center`` to the farther end of the window ``[first, first + k]``."""
    return max(center - class_values[first], class_values[first + k] - center)


# Up to this many points between two class members, counting them all (a vectorised,
# branch-free loop) beats bisecting (dependent loads with unpredictable outcomes).
_LINEAR_COUNT_LIMIT = 32


@njit(cache=True, inline="always")
def _count_inside(values, center, squared_radius, low, high) -> int:
    """How many of ``values[low:high]`` lie within the radius of ``center``.

    The range lies on one side of ``center``, where the points within the radius form
    a contiguous run at the end nearer ``center``; long ranges are bisected for it.
    """
    if high <= low:
        return 0
    # The far end of the range decides first: on the side of the k-th neighbour the
    # range ends at that neighbour, so every point of it is inside (one check, no search).
    left_side = values[low] < center
    if _within(values[low] if left_side else values[high - 1], center, squared_radius):
        return high - low
    if high - low <= _LINEAR_COUNT_LIMIT:
        count = 0
        for q in range(low, high):
            difference = values[q] - center
            count += difference * difference <= squared_radius
        return count
    if left_side:  # the run is a suffix
        base = low
        n = high - low + 1  # candidates low .. high, with ``high`` standing for "none"
        while n > 1:
            half = n // 2
            probe = base + half - 1
            base = base if _within(values[probe], center, squared_radius) else base + half
            n -= half
        return high - base
    top = high - 1  # right side: the run is a prefix; candidates low - 1 .. high - 1
    n = high - low + 1
    while n > 1:
        half = n // 2
        probe = top - half + 1
        top = top if _within(values[probe], center, squared_radius) else top - half
        n -= half
    return top - low + 1


@njit(cache=True, inline="always")
def _count_within(
    kept_values: np.ndarray,
    class_values: np.ndarray,
    class_positions: np.ndarray,
    position: int,
    u: int,
    first: int,
    last: int,
    squared_radius: float,
) -> int:
    """Points of the whole sample within the radius of ``kept_values[position]``.

    ``first .. last`` (class indices, ``first <= u <= last``) are the class members
    expected to be the outermost ones inside the radius: with the members just beyond
    them they bracket the two boundaries, so each bisection only spans the points
    between two consecutive members of the class. Both guesses are checked; a member
    wrongly guessed inside moves the bracket inwards, and when floating-point rounding
    puts a member guessed outside inside, the count gallops from ``position`` instead.
    """
    n_class = class_positions.shape[0]
    n_kept = kept_values.shape[0]
    center = kept_values[position]

    # Left side: walk the bracket inwards until a class member is inside.
    outside = first - 1
    inside = first
    while inside < u and not _within(class_values[inside], center, squared_radius):
        outside = inside
        inside += 1
    inside_at = class_positions[inside]
    if outside < 0:
        outside_at = -1
    else:
        outside_at = class_positions[outside]
        if _within(class_values[outside], center, squared_radius):
            outside_at = -2  # bracket broken by rounding
    if outside_at == -2:
        n_left = _count_within_left(kept_values, position, squared_radius)
    else:
        n_left = (
            position
            - inside_at
            + _count_inside(kept_values, center, squared_radius, outside_at + 1, inside_at)
        )

    # Right side, mirrored.
    outside = last + 1
    inside = last
    while inside > u and not _within(class_values[inside], center, squared_radius):
        outside = inside
        inside -= 1
    inside_at = class_positions[inside]
    if outside >= n_class:
        outside_at = n_kept
    else:
        outside_at = class_positions[outside]
        if _within(class_values[outside], center, squared_radius):
            outside_at = -2
    if outside_at == -2:
        n_right = _count_within_right(kept_values, position, squared_radius)
    else:
        n_right = (
            inside_at
            - position
            + _count_inside(kept_values, center, squared_radius, inside_at + 1, outside_at)
        )
    return 1 + n_left + n_right


@njit(cache=True)
def _sum_psi_m_of_class(
    class_values: np.ndarray,
    class_positions: np.ndarray,
    kept_values: np.ndarray,
    k: int,
    digamma_table: np.ndarray,
) -> float:
    """Sum of ``psi(m)`` over the members of one class (values sorted ascending)."""
    n_class = class_values.shape[0]
    # scikit-learn's NearestNeighbors switches to brute force when k >= n // 2; its
    # distances then come from |x|^2 - 2xy + |y|^2, which the walk reproduces.
    brute_force = k >= n_class // 2
    last_first = n_class - 1 - k  # the last valid start of a (k + 1)-point window
    first = 0
    total = 0.0
    for u in range(n_class):
        center = class_values[u]
        if brute_force:
            distance, before, after = _walk_kth_neighbor(class_values, u, k)
            window_first, window_last = before + 1, after - 1
        else:
            # The k nearest neighbours of u and u itself fill a window [first, first + k]
            # of the sorted class, the one whose farther end is nearest. Its start never
            # moves left as u moves right, so the windows are found in amortised O(1).
            first = max(first, u - k)
            distance = _window_radius(class_values, center, first, k)
            while first < min(u, last_first):
                candidate = _window_radius(class_values, center, first + 1, k)
                if candidate > distance:
                    break
                distance = candidate
                first += 1
            # Guard against rounding breaking the monotonicity argument: look back.
            while first > max(0, u - k):
                candidate = _window_radius(class_values, center, first - 1, k)
                if candidate >= distance:
                    break
                distance = candidate
                first -= 1
            # The window's farther end is the k-th neighbour itself, outside the shrunk
            # radius: start the bracket one member inwards on that side (arithmetic, not
            # a branch, as which side it is on is a coin flip).
            far_left = center - class_values[first] >= distance
            far_right = class_values[first + k] - center >= distance
            window_first = min(first + far_left, u)
            window_last = max(first + k - far_right, u)
        radius = _shrink_by_one_ulp(distance)
        m = _count_within(
            kept_values,
            class_values,
            class_positions,
            class_positions[u],
            u,
            window_first,
            window_last,
            radius * radius,
        )
        total += digamma_table[m]
    return total


@njit(cache=True)
def ksg_mutual_information(
    sorted_values: np.ndarray,
    labels_in_order: np.ndarray,
    n_classes: int,
    n_neighbors: int,
    digamma_table: np.ndarray,
    clip: bool = True,
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
    clip : bool, default=True
        Clip the estimate at 0, as scikit-learn does. Unclipped estimates (negative
        under independence about half the time) are what the permutation null models.

    Returns
    -------
    float
        Mutual information in nats, clipped at 0 unless ``clip`` is False; 0 when fewer
        than two points remain after dropping singleton classes.
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

    # Usually no class is a singleton and the sorted column itself is the kept sample.
    dropped = n_kept < n_samples
    kept_values = np.empty(n_kept) if dropped else sorted_values
    class_values = np.empty(n_kept)
    class_positions = np.empty(n_kept, dtype=np.int32)
    fill = offsets[:n_classes].copy()
    kept = 0
    for t in range(n_samples):
        c = labels_in_order[t]
        if counts[c] > 1:
            if dropped:
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
        start, stop = offsets[c], offsets[c + 1]
        sum_psi_m += _sum_psi_m_of_class(
            class_values[start:stop], class_positions[start:stop], kept_values, k_c, digamma_table
        )
        sum_psi_k += n_c * digamma_table[k_c]
        sum_psi_class += n_c * digamma_table[n_c]

    mi = digamma_table[n_kept] + (sum_psi_k - sum_psi_class - sum_psi_m) / n_kept
    return max(mi, 0.0) if clip else mi


@njit(parallel=True, cache=True)
def _ksg_matrix_kernel(
    sorted_values: np.ndarray,
    order: np.ndarray,
    informative: np.ndarray,
    source_codes: np.ndarray,
    source_cardinalities: np.ndarray,
    n_neighbors: int,
    digamma_table: np.ndarray,
    clip: bool,
) -> np.ndarray:
    n_latents = sorted_values.shape[0]
    n_sources = source_codes.shape[0]
    n_samples = sorted_values.shape[1]
    out = np.zeros((n_sources, n_latents))
    # Sources vary fastest: prange hands each thread a contiguous block of pairs, and
    # this way every block holds every source (cost grows with the class count).
    for pair in prange(n_sources * n_latents):
        i = pair % n_sources
        j = pair // n_sources
        if not informative[j] or source_cardinalities[i] <= 1:
            continue
        labels = np.empty(n_samples, dtype=np.int32)
        for t in range(n_samples):
            labels[t] = source_codes[i, order[j, t]]
        out[i, j] = ksg_mutual_information(
            sorted_values[j], labels, source_cardinalities[i], n_neighbors, digamma_table, clip
        )
    return out


def ksg_mutual_information_matrix(
    sorted_values: np.ndarray,
    order: np.ndarray,
    source_codes: np.ndarray,
    source_cardinalities: np.ndarray,
    n_neighbors: int,
    clip: bool = True,
) -> np.ndarray:
    """KSG mutual information for every (source, latent) pair, parallel over pairs.

    Parameters
    ----------
    sorted_values, order : ndarray, shape (n_latents, n_samples)
        Output of :func:`prepare_continuous_latents`.
    source_codes : ndarray of int32, shape (n_sources, n_samples)
    source_cardinalities : ndarray of int64, shape (n_sources,)
    n_neighbors : int
    clip : bool, default=True
        Clip each estimate at 0 (see :func:`ksg_mutual_information`).

    Returns
    -------
    ndarray of float64, shape (n_sources, n_latents)
        Mutual information in nats; exactly 0 for constant latents and single-valued
        sources.
    """
    n_latents, n_samples = sorted_values.shape
    digamma_table = digamma_of_integers(n_samples + 1)
    informative = sorted_values[:, 0] != sorted_values[:, -1]
    cardinalities = np.asarray(source_cardinalities, dtype=np.int64)
    out = np.zeros((source_codes.shape[0], n_latents))
    # Blocks of latents with a stop check between them (see infomec.interrupts); each
    # pair is computed on its own, so the blocks change no value.
    step = latents_per_chunk(n_samples * source_codes.shape[0] * (int(n_neighbors) + 8))
    for start in range(0, n_latents, step):
        check_stop()
        stop = min(start + step, n_latents)
        out[:, start:stop] = _ksg_matrix_kernel(
            sorted_values[start:stop], order[start:stop], informative[start:stop],
            source_codes, cardinalities, int(n_neighbors), digamma_table, bool(clip),
        )  # fmt: skip
    return out
