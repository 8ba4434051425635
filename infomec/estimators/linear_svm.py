"""One-feature linear SVMs (squared hinge, L2), solved exactly, for the SAP score matrix.

disentanglement_lib's SAP fits ``LinearSVC(C=0.01, class_weight="balanced")`` on one
latent at a time. That is liblinear's L2-regularised squared-hinge problem with the
intercept appended as a constant feature (so it is penalised too)::

    min_{w, b}  (w^2 + b^2) / 2  +  sum_i C_i max(0, 1 - y_i (w x_i + b))^2

with per-sample costs ``C_i``: for two classes, ``C * weight[class]`` on both sides; for
more, one-vs-rest problems whose positive class costs ``C * weight[c]`` and whose rest
costs plain ``C`` (liblinear's multi-class convention). Predictions take the sign
(binary) or the arg-max of the one-vs-rest decision values (first maximum wins).

The objective is strictly convex and piecewise quadratic in two unknowns, so Newton's
method with a backtracking line search reaches the exact optimum in a few steps; liblinear
stops at a tolerance instead, which is the only source of disagreement. With one feature,
the rows whose margin is violated form a prefix or a suffix of the sorted feature, so each
objective evaluation costs three binary searches on cumulative sums (count, sum x,
sum x^2) of all rows and of the positive class, instead of a pass over the data.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from infomec.estimators.contingency import latents_per_chunk
from infomec.interrupts import check_stop

_MAX_NEWTON_STEPS = 100


@njit(cache=True, nogil=True)
def _range_sums(cumulative: np.ndarray, start: int, stop: int) -> tuple[float, float, float]:
    return (
        cumulative[0, stop] - cumulative[0, start],
        cumulative[1, stop] - cumulative[1, start],
        cumulative[2, stop] - cumulative[2, start],
    )


@njit(cache=True, nogil=True)
def _violators(xs: np.ndarray, slope: float, offset: float, positive: bool) -> tuple[int, int]:
    """Range ``[start, stop)`` of the ascending ``xs`` whose margin is violated.

    Positives violate where ``slope x + offset < 1``, negatives where it is ``> -1``.
    Rows exactly on the margin contribute 0 either way, so the search side is immaterial
    (but must be the same for every array searched with one threshold).
    """
    n = xs.shape[0]
    if positive:
        if slope > 0.0:
            return 0, np.searchsorted(xs, (1.0 - offset) / slope)
        if slope < 0.0:
            return np.searchsorted(xs, (1.0 - offset) / slope, side="right"), n
        return (0, n) if offset < 1.0 else (0, 0)
    if slope > 0.0:
        return np.searchsorted(xs, (-1.0 - offset) / slope, side="right"), n
    if slope < 0.0:
        return 0, np.searchsorted(xs, (-1.0 - offset) / slope)
    return (0, n) if offset > -1.0 else (0, 0)


@njit(cache=True, nogil=True)
def _objective(
    xs: np.ndarray,
    all_sums: np.ndarray,
    class_xs: np.ndarray,
    class_sums: np.ndarray,
    cost_positive: float,
    cost_negative: float,
    slope: float,
    offset: float,
) -> tuple[float, float, float, float, float, float]:
    """Objective, gradient and (generalised) Hessian at ``(slope, offset)``.

    ``class_xs`` are the positive rows' features (ascending) and ``class_sums`` their
    cumulative (count, sum x, sum x^2); ``xs`` / ``all_sums`` the same for every row. The
    negatives' sums are those of every row minus the positives', over the same range.
    """
    start, stop = _violators(class_xs, slope, offset, True)
    n_p, sx_p, sxx_p = _range_sums(class_sums, start, stop)
    start, stop = _violators(xs, slope, offset, False)
    n_a, sx_a, sxx_a = _range_sums(all_sums, start, stop)
    start, stop = _violators(class_xs, slope, offset, False)
    n_c, sx_c, sxx_c = _range_sums(class_sums, start, stop)
    n_n, sx_n, sxx_n = n_a - n_c, sx_a - sx_c, sxx_a - sxx_c
    a = 1.0 - offset  # positives: (a - w x)^2
    c = 1.0 + offset  # negatives: (c + w x)^2
    value = 0.5 * (slope * slope + offset * offset)
    value += cost_positive * (n_p * a * a - 2.0 * a * slope * sx_p + slope * slope * sxx_p)
    value += cost_negative * (n_n * c * c + 2.0 * c * slope * sx_n + slope * slope * sxx_n)
    grad_w = slope + 2.0 * cost_positive * (slope * sxx_p - a * sx_p)
    grad_w += 2.0 * cost_negative * (slope * sxx_n + c * sx_n)
    grad_b = offset + 2.0 * cost_positive * (slope * sx_p - a * n_p)
    grad_b += 2.0 * cost_negative * (slope * sx_n + c * n_n)
    h_ww = 1.0 + 2.0 * (cost_positive * sxx_p + cost_negative * sxx_n)
    h_wb = 2.0 * (cost_positive * sx_p + cost_negative * sx_n)
    h_bb = 1.0 + 2.0 * (cost_positive * n_p + cost_negative * n_n)
    return value, grad_w, grad_b, h_ww, h_wb, h_bb


@njit(cache=True, nogil=True)
def _solve(
    xs: np.ndarray,
    all_sums: np.ndarray,
    class_xs: np.ndarray,
    class_sums: np.ndarray,
    cost_positive: float,
    cost_negative: float,
) -> tuple[float, float]:
    slope = 0.0
    offset = 0.0
    value, g_w, g_b, h_ww, h_wb, h_bb = _objective(
        xs, all_sums, class_xs, class_sums, cost_positive, cost_negative, slope, offset
    )
    for _ in range(_MAX_NEWTON_STEPS):
        determinant = h_ww * h_bb - h_wb * h_wb  # > 0: the Hessian is I + PSD
        step_w = -(h_bb * g_w - h_wb * g_b) / determinant
        step_b = -(h_ww * g_b - h_wb * g_w) / determinant
        decrease = g_w * step_w + g_b * step_b
        if decrease >= 0.0:
            break  # the Newton decrement vanished: at the optimum to float precision
        size = 1.0
        while True:
            new = _objective(
                xs,
                all_sums,
                class_xs,
                class_sums,
                cost_positive,
                cost_negative,
                slope + size * step_w,
                offset + size * step_b,
            )
            if new[0] <= value + 1e-4 * size * decrease or size < 1e-12:
                break
            size *= 0.5
        if new[0] >= value:
            break  # no further decrease representable
        slope += size * step_w
        offset += size * step_b
        value, g_w, g_b, h_ww, h_wb, h_bb = new
    return slope, offset


@njit(cache=True, nogil=True)
def _cumulative_sums(xs: np.ndarray, out: np.ndarray) -> None:
    """Write (count, sum x, sum x^2) of every prefix of ``xs`` into ``out`` (3, n + 1)."""
    out[0, 0] = 0.0
    out[1, 0] = 0.0
    out[2, 0] = 0.0
    for t in range(xs.shape[0]):
        out[0, t + 1] = out[0, t] + 1.0
        out[1, t + 1] = out[1, t] + xs[t]
        out[2, t + 1] = out[2, t] + xs[t] * xs[t]


@njit(cache=True, nogil=True)
def fit_sorted_squared_hinge(
    xs: np.ndarray, labels: np.ndarray, n_classes: int, cost: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`fit_squared_hinge_1d` for a feature already in ascending order.

    ``labels[t]`` is the label of the row with the ``t``-th smallest feature.
    """
    n = xs.shape[0]
    counts = np.zeros(n_classes, dtype=np.int64)
    for t in range(n):
        counts[labels[t]] += 1
    n_present = 0
    for c in range(n_classes):
        if counts[c] > 0:
            n_present += 1
    classes = np.empty(n_present, dtype=np.int64)
    k = 0
    for c in range(n_classes):
        if counts[c] > 0:
            classes[k] = c
            k += 1
    if n_present < 2:
        return classes, np.empty(0), np.empty(0)
    # Each class's features, ascending, one after the other (a stable counting split).
    starts = np.zeros(n_classes + 1, dtype=np.int64)
    for c in range(n_classes):
        starts[c + 1] = starts[c] + counts[c]
    fill = starts[:n_classes].copy()
    by_class = np.empty(n)
    for t in range(n):
        by_class[fill[labels[t]]] = xs[t]
        fill[labels[t]] += 1
    all_sums = np.empty((3, n + 1))
    _cumulative_sums(xs, all_sums)
    n_problems = 1 if n_present == 2 else n_present
    slopes = np.empty(n_problems)
    offsets = np.empty(n_problems)
    for p in range(n_problems):
        positive_class = classes[1] if n_present == 2 else classes[p]
        class_xs = by_class[starts[positive_class] : starts[positive_class + 1]]
        class_sums = np.empty((3, class_xs.shape[0] + 1))
        _cumulative_sums(class_xs, class_sums)
        # class_weight="balanced": n / (n_classes * count), over the classes that occur.
        weight_positive = n / (n_present * counts[positive_class])
        if n_present == 2:
            cost_positive = cost * weight_positive
            cost_negative = cost * n / (n_present * counts[classes[0]])
        else:  # liblinear's one-vs-rest: the rest keeps the plain cost
            cost_positive = cost * weight_positive
            cost_negative = cost
        slopes[p], offsets[p] = _solve(
            xs, all_sums, class_xs, class_sums, cost_positive, cost_negative
        )
    return classes, slopes, offsets


@njit(cache=True, nogil=True)
def fit_squared_hinge_1d(
    x: np.ndarray, labels: np.ndarray, n_classes: int, cost: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``LinearSVC(C=cost, class_weight="balanced")`` on one feature, solved exactly.

    Parameters
    ----------
    x : ndarray of float64, shape (n_samples,)
    labels : ndarray of int32, shape (n_samples,)
        Codes ``0 .. n_classes - 1`` (not every code need occur).
    n_classes : int
    cost : float
        liblinear's ``C``.

    Returns
    -------
    classes : ndarray of int64
        The codes that occur, ascending (scikit-learn's ``classes_``).
    slopes, offsets : ndarray of float64
        ``coef_`` and ``intercept_``: one entry for two classes (decision > 0 means
        ``classes[1]``), one per class otherwise. A single class gives empty arrays.
    """
    order = np.argsort(x)
    return fit_sorted_squared_hinge(x[order], labels[order], n_classes, cost)


@njit(cache=True, nogil=True)
def _accuracy(
    classes: np.ndarray,
    slopes: np.ndarray,
    offsets: np.ndarray,
    x_test: np.ndarray,
    labels_test: np.ndarray,
) -> float:
    n_test = x_test.shape[0]
    correct = 0
    for t in range(n_test):
        if classes.shape[0] == 1:
            predicted = classes[0]
        elif classes.shape[0] == 2:
            predicted = classes[1] if slopes[0] * x_test[t] + offsets[0] > 0.0 else classes[0]
        else:
            best = 0
            best_value = slopes[0] * x_test[t] + offsets[0]
            for p in range(1, classes.shape[0]):
                value = slopes[p] * x_test[t] + offsets[p]
                if value > best_value:
                    best = p
                    best_value = value
            predicted = classes[best]
        if predicted == labels_test[t]:
            correct += 1
    return correct / n_test


@njit(parallel=True, cache=True)
def _linear_svm_accuracy_matrix_block(
    train_latents: np.ndarray,
    train_codes: np.ndarray,
    test_latents: np.ndarray,
    test_codes: np.ndarray,
    n_classes: np.ndarray,
    cost: float,
) -> np.ndarray:
    n_latents, n_train = train_latents.shape
    n_sources = train_codes.shape[0]
    orders = np.empty((n_latents, n_train), dtype=np.int64)
    for j in prange(n_latents):  # each latent is sorted once, for every source
        orders[j] = np.argsort(train_latents[j])
    out = np.zeros((n_latents, n_sources))
    for pair in prange(n_latents * n_sources):
        j = pair // n_sources
        i = pair % n_sources
        order = orders[j]
        classes, slopes, offsets = fit_sorted_squared_hinge(
            train_latents[j][order], train_codes[i][order], n_classes[i], cost
        )
        out[j, i] = _accuracy(classes, slopes, offsets, test_latents[j], test_codes[i])
    return out


def linear_svm_accuracy_matrix(
    train_latents: np.ndarray,
    train_codes: np.ndarray,
    test_latents: np.ndarray,
    test_codes: np.ndarray,
    n_classes: np.ndarray,
    cost: float,
) -> np.ndarray:
    """Test accuracy of a one-latent SVM for every (latent, source) pair.

    Parameters
    ----------
    train_latents : ndarray of float64, shape (n_latents, n_train)
    train_codes : ndarray of int32, shape (n_sources, n_train)
    test_latents : ndarray of float64, shape (n_latents, n_test)
    test_codes : ndarray of int32, shape (n_sources, n_test)
        Codes shared with ``train_codes``.
    n_classes : ndarray of int64, shape (n_sources,)
    cost : float
        liblinear's ``C`` (disentanglement_lib: 0.01).

    Returns
    -------
    ndarray of float64, shape (n_latents, n_sources)
        A source with one class in the training rows is predicted as that class.
    """
    out = None
    n_items = train_latents.shape[0]
    step = latents_per_chunk(train_latents.shape[1] * 20 * max(train_codes.shape[0], 1))
    for a in range(0, max(n_items, 1), step):
        check_stop()  # Ctrl-C between blocks (infomec.interrupts); blocks change no value
        b = min(a + step, n_items)
        block = _linear_svm_accuracy_matrix_block(
            train_latents[a:b], train_codes, test_latents[a:b], test_codes, n_classes, cost
        )
        if out is None:
            out = np.empty((n_items, *block.shape[1:]), dtype=block.dtype)
        out[a:b] = block
    return out
