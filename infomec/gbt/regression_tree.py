"""scikit-learn's best-split regression tree, compiled, on features sorted once.

Gradient boosting (DCI's default model) fits thousands of small regression trees to the
same rows: only the target changes from tree to tree. scikit-learn's tree
(``DecisionTreeRegressor(criterion="squared_error", splitter="best")``, depth first)
sorts the node's rows by every feature at every node, and most of a fit is spent in
those sorts. Here each feature is sorted once for all trees (:func:`presort`), and a
node reads its rows in a feature's order from that list, which each split divides
stably between the children.

The tree is scikit-learn's, the same floating-point operations in the same order:

- the features of a node are drawn by scikit-learn's Fisher-Yates walk, from the same
  32-bit generator (``our_rand_r``) seeded with the tree's draw from the boosting
  model's ``RandomState``; features found constant are carried to the children;
- the candidate splits (neighbouring values closer than scikit-learn's float32
  threshold, summed in float32, count as equal), the running sums (updated from
  whichever end is nearer, as scikit-learn's criterion does), the proxy improvement and
  its strict maximum, the threshold (the sum of the halves of two neighbouring values),
  the final partition (scikit-learn's swap loop over the rows in the order of the last
  feature sorted) and the children's impurities are computed as there;
- a node's rows in a feature's order are unique when the feature takes distinct values
  on them. Where it does not, the order scikit-learn's sort leaves tied rows in can
  matter twice. The sums over the candidate splits: the feature is read in presorted
  order anyway when adding each pair of tied rows both ways gives the same sum (three
  or more tied rows count as different). The rows' order itself, which the next sort
  starts from and the final partition follows: for the features sorted last, and
  wherever the sums did differ, scikit-learn's sort (introsort with three-way
  partitions, heap sort past the depth limit, insertion sort below 16 rows) is replayed
  from the order scikit-learn would hold, back to the last feature without ties.

Rows are unweighted (scikit-learn's boosting passes unit weights, which multiply
exactly), targets single-output; :mod:`infomec.gbt.boosting` uses this only
after comparing its trees with scikit-learn's, bit for bit.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

__all__ = [
    "TREE_LEAF",
    "TREE_UNDEFINED",
    "Presorted",
    "fit_regression_tree",
    "introsort",
    "presort",
]

# scikit-learn's constants: values closer than this count as equal when splitting. It is
# a float32, and so is the sum ``value + threshold`` it is compared through: two float32
# values one unit in the last place apart (about 1.2e-7 between 1 and 2) count as equal.
_FEATURE_THRESHOLD = np.float32(1e-7)
# A node with impurity at most this is a leaf.
_EPSILON = float(np.finfo(np.float64).eps)
# Node markers of scikit-learn's tree arrays.
TREE_LEAF = -1
TREE_UNDEFINED = -2
# The generator of scikit-learn's splitter: xorshift on 32 bits, 0 replaced by 1.
_UINT32_MASK = 0xFFFFFFFF
_RAND_R_MODULUS = 0x80000000
# Below this many values scikit-learn's introsort finishes with insertion sort.
_INSERTION_SORT_SIZE = 16


# ------------------------------------------------------------------ sorting


class Presorted(NamedTuple):
    """The training rows of a tree, by feature, sorted once for every tree."""

    by_feature: np.ndarray
    """float32, (n_features, n_samples): ``x.T``, contiguous."""
    order: np.ndarray
    """int64, (n_features, n_samples): ``order[f]`` sorts feature ``f`` (stably)."""
    sorted_values: np.ndarray
    """float32, (n_features, n_samples): ``by_feature[f, order[f]]``."""
    has_ties: np.ndarray
    """bool, (n_features,): whether two rows share a value of the feature."""


def presort(x: np.ndarray) -> Presorted:
    """Each feature's rows in increasing order of value, for :func:`fit_regression_tree`.

    Parameters
    ----------
    x : ndarray of float32, shape (n_samples, n_features)

    Returns
    -------
    Presorted

    Examples
    --------
    >>> presorted = presort(np.array([[2.0, 1.0], [0.5, 1.0]], dtype=np.float32))
    >>> presorted.order.tolist(), presorted.has_ties.tolist()
    ([[1, 0], [0, 1]], [False, True])
    """
    by_feature = np.ascontiguousarray(x.T)
    order = np.argsort(by_feature, axis=1, kind="stable").astype(np.int64)
    sorted_values = np.take_along_axis(by_feature, order, axis=1)
    has_ties = (sorted_values[:, 1:] == sorted_values[:, :-1]).any(axis=1)
    return Presorted(by_feature, order, sorted_values, has_ties)


@njit(cache=True, nogil=True, inline="always")
def _swap(values, rows, i, j):
    values[i], values[j] = values[j], values[i]
    rows[i], rows[j] = rows[j], rows[i]


@njit(cache=True, nogil=True)
def _median3(values, lo, n):
    a, b, c = values[lo], values[lo + n // 2], values[lo + n - 1]
    if a < b:
        if b < c:
            return b
        return c if a < c else a
    if b < c:
        return a if a < c else c
    return b


@njit(cache=True, nogil=True)
def _sift_down(values, rows, lo, root, end):
    while True:
        child = root * 2 + 1
        largest = root
        if child < end and values[lo + largest] < values[lo + child]:
            largest = child
        if child + 1 < end and values[lo + largest] < values[lo + child + 1]:
            largest = child + 1
        if largest == root:
            return
        _swap(values, rows, lo + root, lo + largest)
        root = largest


@njit(cache=True, nogil=True)
def _heapsort(values, rows, lo, n):
    start = (n - 2) // 2
    while True:
        _sift_down(values, rows, lo, start, n)
        if start == 0:
            break
        start -= 1
    end = n - 1
    while end > 0:
        _swap(values, rows, lo, lo + end)
        _sift_down(values, rows, lo, 0, end)
        end -= 1


@njit(cache=True, nogil=True)
def _insertion_sort(values, rows, lo, n):
    for i in range(lo + 1, lo + n):
        value, row = values[i], rows[i]
        j = i
        while j > lo and values[j - 1] > value:
            values[j] = values[j - 1]
            rows[j] = rows[j - 1]
            j -= 1
        values[j] = value
        rows[j] = row


@njit(cache=True, nogil=True)
def introsort(values: np.ndarray, rows: np.ndarray, lo: int, n: int) -> None:
    """Sort ``values[lo:lo + n]`` and ``rows`` alike, exactly as scikit-learn's trees do.

    scikit-learn's ``simultaneous_sort(..., use_three_way_partition=True)``: the order
    it leaves equal values in is the one this reproduces. Its recursion on the left
    part becomes a stack of pending ranges (the ranges are disjoint, so the order in
    which they are sorted changes nothing).
    """
    if n == 0:
        return
    pending = np.empty((128, 3), dtype=np.int64)
    pending[0, 0], pending[0, 1], pending[0, 2] = lo, n, 2 * int(np.log2(n))
    n_pending = 1
    while n_pending > 0:
        n_pending -= 1
        lo, n, depth_left = pending[n_pending, 0], pending[n_pending, 1], pending[n_pending, 2]
        sorted_by_heap = False
        while n >= _INSERTION_SORT_SIZE:
            if depth_left <= 0:
                _heapsort(values, rows, lo, n)
                sorted_by_heap = True
                break
            depth_left -= 1
            pivot = _median3(values, lo, n)
            i = below = 0
            above = n
            while i < above:
                if values[lo + i] < pivot:
                    _swap(values, rows, lo + i, lo + below)
                    i += 1
                    below += 1
                elif values[lo + i] > pivot:
                    above -= 1
                    _swap(values, rows, lo + i, lo + above)
                else:
                    i += 1
            pending[n_pending, 0], pending[n_pending, 1] = lo, below
            pending[n_pending, 2] = depth_left
            n_pending += 1
            lo, n = lo + above, n - above
        if not sorted_by_heap:
            _insertion_sort(values, rows, lo, n)


# -------------------------------------------------------------------- the tree


@njit(cache=True, nogil=True, inline="always")
def _rand_int(low, high, state):
    """scikit-learn's ``rand_int``: ``low + our_rand_r(state) % (high - low)``."""
    s = state[0]
    if s == 0:
        s = 1
    s = (s ^ (s << 13)) & _UINT32_MASK
    s ^= s >> 17
    s = (s ^ (s << 5)) & _UINT32_MASK
    state[0] = s
    return low + (s % _RAND_R_MODULUS) % (high - low)


@njit(cache=True, nogil=True)
def _has_tie(sorted_values, start, end) -> bool:
    for q in range(start + 1, end):
        if sorted_values[q] == sorted_values[q - 1]:
            return True
    return False


@njit(cache=True, nogil=True, inline="always")
def _sum_left(
    y, rows, values, check_ties, start, end, pos, new_pos, sum_left, n_left, sum_total, n_node
):
    """scikit-learn's ``update``: move ``rows[pos:new_pos]`` to the left child.

    Adds from ``pos`` or, when ``end`` is nearer, restarts from the whole node and
    subtracts from ``end``; returns the new left sum and weight, and (``check_ties``)
    whether the sum is the same for every order of the rows tied in ``values`` (else
    True: the rows' order is scikit-learn's). A pair of tied rows is checked by adding
    (or subtracting) them both ways; three or more tied rows count as order-dependent.
    """
    commutes = True
    if new_pos - pos <= end - new_pos:
        for q in range(pos, new_pos):
            target = y[rows[q]]
            if check_ties and q + 1 < new_pos and values[q + 1] == values[q]:
                other = y[rows[q + 1]]
                if q + 2 < new_pos and values[q + 2] == values[q]:
                    commutes = False
                elif (sum_left + target) + other != (sum_left + other) + target:
                    commutes = False
            sum_left += target
            n_left += 1.0
    else:
        sum_left, n_left = sum_total, n_node
        for q in range(end - 1, new_pos - 1, -1):
            target = y[rows[q]]
            if check_ties and q - 1 >= new_pos and values[q - 1] == values[q]:
                other = y[rows[q - 1]]
                if q - 2 >= new_pos and values[q - 2] == values[q]:
                    commutes = False
                elif (sum_left - target) - other != (sum_left - other) - target:
                    commutes = False
            sum_left -= target
            n_left -= 1.0
    return sum_left, n_left, commutes


@njit(cache=True, nogil=True)
def _best_split_of_feature(
    y, rows, values, start, end, min_samples_leaf, sum_total, weight, best_proxy, check_ties
):
    """The candidate splits of one feature, in scikit-learn's order and arithmetic.

    ``rows[start:end]`` are the node's rows sorted by the feature, ``values`` their
    values. Returns ``(proxy, pos, threshold, found, exact)``: the best candidate if its
    proxy improvement beats ``best_proxy`` (strictly, as scikit-learn compares), else
    ``found`` is False. With ``check_ties`` the rows' order among tied values may differ
    from scikit-learn's, and ``exact`` says whether every sum came out the same for any
    such order (otherwise the result is to be discarded).
    """
    sum_left, n_left, pos = 0.0, 0.0, start
    found, best_pos, best_threshold = False, end, 0.0
    p = start
    while p < end:
        p += 1
        while p < end and values[p] <= values[p - 1] + _FEATURE_THRESHOLD:
            p += 1
        if p == end:
            continue
        if p - start < min_samples_leaf or end - p < min_samples_leaf:
            continue
        sum_left, n_left, commutes = _sum_left(
            y,
            rows,
            values,
            check_ties,
            start,
            end,
            pos,
            p,
            sum_left,
            n_left,
            sum_total,
            weight,
        )
        if not commutes:
            return best_proxy, best_pos, best_threshold, found, False
        pos = p
        sum_right = sum_total - sum_left
        n_right = weight - n_left
        proxy = sum_left * sum_left / n_left + sum_right * sum_right / n_right
        if proxy > best_proxy:
            best_proxy, found, best_pos = proxy, True, p
            best_threshold = values[p - 1] / 2.0 + values[p] / 2.0
    return best_proxy, best_pos, best_threshold, found, True


@njit(cache=True, nogil=True)
def _replay_sorts(by_feature, order, samples, values, sequence, tied, start, end, known, target):
    """Put into ``samples[start:end]`` scikit-learn's order after sorting ``sequence[target]``.

    ``samples`` holds scikit-learn's order after ``sequence[known]`` (``known`` -1: the
    node's order before any sort). A feature without ties at the node leaves its
    presorted order whatever it starts from; after the last such feature up to
    ``target``, scikit-learn's sort is replayed feature by feature. Returns ``target``,
    the new ``known``.
    """
    first = target
    while first > known and tied[first]:
        first -= 1
    if first > known:  # not tied: its presorted rows
        samples[start:end] = order[sequence[first], start:end]
    for t in range(first + 1, target + 1):
        feature = sequence[t]
        for q in range(start, end):
            values[q] = by_feature[feature, samples[q]]
        introsort(values, samples, start, end - start)
    return target


@njit(cache=True, nogil=True)
def fit_regression_tree(
    by_feature: np.ndarray,
    order: np.ndarray,
    sorted_values: np.ndarray,
    has_ties: np.ndarray,
    y: np.ndarray,
    seed: int,
    max_depth: int,
    min_samples_split: int,
    min_samples_leaf: int,
    min_impurity_decrease: float,
):
    """scikit-learn's depth-first, best-split, squared-error regression tree.

    Parameters
    ----------
    by_feature, order, sorted_values, has_ties : ndarray
        :func:`presort` of the training rows; not modified.
    y : ndarray of float64, shape (n_samples,)
        Contiguous target.
    seed : int
        The splitter's seed (the tree's ``random_state.randint(0, 2**31 - 1)``).
    max_depth, min_samples_split, min_samples_leaf, min_impurity_decrease
        The tree's settings (integers, unweighted rows; every feature is considered
        at every node).

    Returns
    -------
    tuple
        ``(node_count, depth, left, right, feature, threshold, impurity, n_node_samples,
        weighted_n_node_samples, missing_go_to_left, value)``, the arrays in the layout
        of scikit-learn's ``Tree`` (one entry per node, depth-first, left first).

    Examples
    --------
    >>> x = np.array([[0.0], [1.0], [2.0], [3.0]], dtype=np.float32)
    >>> presorted = presort(x)
    >>> tree = fit_regression_tree(*presorted, np.array([0.0, 0.0, 1.0, 1.0]), 1, 1, 2, 1, 0.0)
    >>> tree[0], tree[4].tolist(), tree[5].tolist(), tree[10].tolist()
    (3, [0, -2, -2], [1.5, -2.0, -2.0], [0.5, 0.0, 1.0])
    """
    n_features, n = by_feature.shape
    capacity = min(2 ** (max_depth + 1) - 1, 2 * n - 1)
    left = np.full(capacity, TREE_LEAF, dtype=np.int64)
    right = np.full(capacity, TREE_LEAF, dtype=np.int64)
    feature = np.full(capacity, TREE_UNDEFINED, dtype=np.int64)
    threshold = np.full(capacity, float(TREE_UNDEFINED))
    impurity = np.empty(capacity)
    n_node_samples = np.empty(capacity, dtype=np.int64)
    weighted = np.empty(capacity)
    missing_go_to_left = np.zeros(capacity, dtype=np.uint8)
    value = np.empty(capacity)

    # scikit-learn's rows in its order; each split divides every feature's sorted rows
    # (copies) between the children.
    samples = np.arange(n, dtype=np.int64)
    values = np.empty(n, dtype=np.float32)
    order = order.copy()
    sorted_values = sorted_values.copy()
    buffer_rows = np.empty(n, dtype=np.int64)
    buffer_values = np.empty(n, dtype=np.float32)
    goes_left = np.zeros(n, dtype=np.bool_)
    features = np.arange(n_features, dtype=np.int64)
    constant_features = np.zeros(n_features, dtype=np.int64)
    # A node's features in the order scikit-learn sorts them; tied at the node; constant.
    sequence = np.empty(n_features, dtype=np.int64)
    tied = np.zeros(n_features, dtype=np.bool_)
    constant = np.zeros(n_features, dtype=np.bool_)
    state = np.array([seed], dtype=np.int64)

    # The builder's stack: start, end, depth, parent, is_left, n_constant_features;
    # the impurity alongside.
    stack = np.empty((capacity + 1, 6), dtype=np.int64)
    stack_impurity = np.empty(capacity + 1)
    stack[0] = (0, n, 0, TREE_UNDEFINED, 0, 0)
    stack_impurity[0] = np.inf
    n_stack = 1
    node_count = 0
    depth_seen = -1
    first = True
    while n_stack > 0:
        n_stack -= 1
        start, end, depth, parent, is_left, n_known = stack[n_stack]
        node_impurity = stack_impurity[n_stack]
        n_node = end - start

        # The criterion's init: the node's sums in the rows' current order.
        sum_total = 0.0
        sq_sum_total = 0.0
        weight = 0.0
        for q in range(start, end):
            target = y[samples[q]]
            sum_total += target
            sq_sum_total += target * target
            weight += 1.0
        is_leaf = depth >= max_depth or n_node < min_samples_split or n_node < 2 * min_samples_leaf
        if first:
            mean = sum_total / weight
            node_impurity = sq_sum_total / weight - mean * mean
            first = False
        is_leaf = is_leaf or node_impurity <= _EPSILON

        best_pos = end
        improvement = -np.inf
        impurity_left = impurity_right = np.inf
        if not is_leaf:
            # ------------------------------------------------ node_split_best
            # scikit-learn's walk over the features (Fisher-Yates, draws from its
            # generator): which features it sorts, in which order, and which of them it
            # finds constant, depend on the values' range only, not on any order.
            n_sorted = 0
            f_i = n_features
            n_visited = n_found = n_drawn = 0
            n_total = n_known
            while f_i > n_total and (n_visited < n_features or n_visited <= n_found + n_drawn):
                n_visited += 1
                f_j = _rand_int(n_drawn, f_i - n_found, state)
                if f_j < n_known:
                    features[n_drawn], features[f_j] = features[f_j], features[n_drawn]
                    n_drawn += 1
                    continue
                f_j += n_found
                current = features[f_j]
                node_values = sorted_values[current]
                sequence[n_sorted] = current
                tied[n_sorted] = has_ties[current] and _has_tie(node_values, start, end)
                constant[n_sorted] = node_values[end - 1] <= node_values[start] + _FEATURE_THRESHOLD
                n_sorted += 1
                if constant[n_sorted - 1]:
                    features[f_j], features[n_total] = features[n_total], features[f_j]
                    n_found += 1
                    n_total += 1
                    continue
                f_i -= 1
                features[f_i], features[f_j] = features[f_j], features[f_i]

            # The candidate splits, feature by feature in the same order. A feature with
            # no ties at the node is read in its presorted order (the only sorted one).
            # A tied one is read so too when every sum comes out the same for any order
            # of its tied rows; otherwise, and for the tied features sorted last (whose
            # order the partition below follows), scikit-learn's sorts are replayed.
            first_replayed = n_sorted
            while first_replayed > 0 and tied[first_replayed - 1]:
                first_replayed -= 1
            known = -1  # samples holds scikit-learn's order after sequence[known]
            best_feature, best_threshold = 0, 0.0
            best_proxy = -np.inf
            for i in range(n_sorted):
                if constant[i]:
                    continue
                current = sequence[i]
                exact = False
                if i < first_replayed:  # presorted order; tied rows' sums checked
                    result = _best_split_of_feature(
                        y, order[current], sorted_values[current], start, end,
                        min_samples_leaf, sum_total, weight, best_proxy, tied[i],
                    )  # fmt: skip
                    exact = result[4]
                if not exact:
                    known = _replay_sorts(
                        by_feature, order, samples, values, sequence, tied, start, end,
                        known, i,
                    )  # fmt: skip
                    result = _best_split_of_feature(
                        y, samples, sorted_values[current], start, end,
                        min_samples_leaf, sum_total, weight, best_proxy, False,
                    )  # fmt: skip
                best_proxy = result[0]
                if result[3]:
                    best_pos, best_feature, best_threshold = result[1], current, result[2]

            if best_pos < end:
                # scikit-learn partitions its rows in the order of the last feature sorted.
                _replay_sorts(
                    by_feature, order, samples, values, sequence, tied, start, end, known,
                    n_sorted - 1,
                )  # fmt: skip
                # The final partition (scikit-learn's swap loop).
                first_right, last = start, end
                feature_values = by_feature[best_feature]
                while first_right < last:
                    if feature_values[samples[first_right]] <= best_threshold:
                        first_right += 1
                    else:
                        last -= 1
                        samples[first_right], samples[last] = samples[last], samples[first_right]
                sum_left, n_left, _ = _sum_left(
                    y,
                    samples,
                    values,
                    False,
                    start,
                    end,
                    start,
                    best_pos,
                    0.0,
                    0.0,
                    sum_total,
                    weight,
                )
                sum_right = sum_total - sum_left
                n_right = weight - n_left
                sq_sum_left = 0.0
                for q in range(start, best_pos):
                    target = y[samples[q]]
                    sq_sum_left += target * target
                mean_left, mean_right = sum_left / n_left, sum_right / n_right
                impurity_left = sq_sum_left / n_left - mean_left * mean_left
                impurity_right = (sq_sum_total - sq_sum_left) / n_right - mean_right * mean_right
                improvement = (weight / n) * (
                    node_impurity - (n_right / weight * impurity_right)
                    - (n_left / weight * impurity_left)
                )  # fmt: skip
            # The known constant features keep their order for the children.
            features[:n_known] = constant_features[:n_known]
            constant_features[n_known:n_total] = features[n_known:n_total]
            n_known = n_total
            is_leaf = best_pos >= end or improvement + _EPSILON < min_impurity_decrease

        node = node_count
        node_count += 1
        if parent != TREE_UNDEFINED:
            if is_left:
                left[parent] = node
            else:
                right[parent] = node
        impurity[node] = node_impurity
        n_node_samples[node] = n_node
        weighted[node] = weight
        value[node] = sum_total / weight
        if not is_leaf:
            feature[node] = best_feature
            threshold[node] = best_threshold
            missing_go_to_left[node] = best_pos - start > end - best_pos
            if depth + 1 < max_depth:
                _divide_sorted_rows(
                    order, sorted_values, samples, goes_left, buffer_rows, buffer_values,
                    start, best_pos, end,
                )  # fmt: skip
            stack[n_stack] = (best_pos, end, depth + 1, node, 0, n_known)
            stack_impurity[n_stack] = impurity_right
            stack[n_stack + 1] = (start, best_pos, depth + 1, node, 1, n_known)
            stack_impurity[n_stack + 1] = impurity_left
            n_stack += 2
        depth_seen = max(depth_seen, depth)
    return (
        node_count, depth_seen, left[:node_count], right[:node_count],
        feature[:node_count], threshold[:node_count], impurity[:node_count],
        n_node_samples[:node_count], weighted[:node_count],
        missing_go_to_left[:node_count], value[:node_count],
    )  # fmt: skip


@njit(cache=True, nogil=True)
def _divide_sorted_rows(
    order, sorted_values, samples, goes_left, buffer_rows, buffer_values, start, pos, end
):
    """Split every feature's sorted rows of a node stably between its two children.

    The left child's rows are ``samples[start:pos]``.
    """
    for q in range(start, pos):
        goes_left[samples[q]] = True
    for q in range(pos, end):
        goes_left[samples[q]] = False
    for f in range(order.shape[0]):
        n_left, n_right = start, 0
        for q in range(start, end):
            row = order[f, q]
            if goes_left[row]:
                order[f, n_left] = row
                sorted_values[f, n_left] = sorted_values[f, q]
                n_left += 1
            else:
                buffer_rows[n_right] = row
                buffer_values[n_right] = sorted_values[f, q]
                n_right += 1
        order[f, pos:end] = buffer_rows[:n_right]
        sorted_values[f, pos:end] = buffer_values[:n_right]
