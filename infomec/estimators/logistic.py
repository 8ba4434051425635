"""L2-penalised logistic regression kernels: loss, gradient, probabilities, Hessian factors.

:func:`penalized_logistic_loss` serves L-BFGS; Newton's method
(:mod:`infomec.probes.penalized_logistic`) uses BLAS for the products with the features and
:func:`free_class_probabilities`, :func:`feature_pair_products` and
:func:`class_pair_weights` for the rest.

The model is scikit-learn's default ``LogisticRegression()`` (``C = 1``, intercept not
penalised): multinomial softmax over every class when there are three or more, the
binary logistic model (one free logit, the first class fixed at 0) for two. The
objective, in scikit-learn's scaling, is::

    mean_i [log sum_c exp(l_ic) - l_i,y_i] + sum_f alpha_f / 2 * ||W[f]||^2

(``alpha_f = 1 / (C n)`` for scikit-learn; a per-feature ``alpha_f`` lets callers solve
the same problem on rescaled features, which conditions it better)

with ``l_ic = x_i . W[:, c] + b_c`` for free classes and 0 for the reference class.
Parameters are laid out as ``W`` (n_features x n_free, row-major) followed by ``b``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _rows_loss(
    params: np.ndarray,
    features: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    start: int,
    stop: int,
    gradient: np.ndarray,
) -> float:
    """Unscaled loss of rows ``start:stop``; adds their gradient into ``gradient``."""
    n_features = features.shape[1]
    n_free = n_classes if n_classes > 2 else 1
    first_free = n_classes - n_free
    weights = params[: n_features * n_free].reshape((n_features, n_free))
    offsets = params[n_features * n_free :]
    grad_weights = gradient[: n_features * n_free].reshape((n_features, n_free))
    grad_offsets = gradient[n_features * n_free :]
    logits = np.empty(n_classes)
    total = 0.0
    for i in range(start, stop):
        for c in range(first_free):
            logits[c] = 0.0
        for k in range(n_free):
            logits[first_free + k] = offsets[k]
        for f in range(n_features):
            value = features[i, f]
            for k in range(n_free):
                logits[first_free + k] += value * weights[f, k]
        largest = logits.max()
        label_logit = logits[labels[i]]
        partition = 0.0
        for c in range(n_classes):
            logits[c] = np.exp(logits[c] - largest)
            partition += logits[c]
        total += largest + np.log(partition) - label_logit
        for k in range(n_free):
            c = first_free + k
            residual = logits[c] / partition
            if labels[i] == c:
                residual -= 1.0
            grad_offsets[k] += residual
            for f in range(n_features):
                grad_weights[f, k] += residual * features[i, f]
    return total


@njit(cache=True, nogil=True)
def penalized_logistic_loss(
    params: np.ndarray,
    features: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    penalties: np.ndarray,
    gradient: np.ndarray,
) -> float:
    """Objective value; writes its gradient into ``gradient`` (same layout as ``params``).

    Parameters
    ----------
    params : ndarray of float64, shape (n_free * (n_features + 1),)
    features : ndarray of float64, shape (n_samples, n_features)
    labels : ndarray of int64, shape (n_samples,)
        Codes ``0 .. n_classes - 1``.
    n_classes : int
        ``n_free`` is ``n_classes`` (multinomial) or 1 (binary).
    penalties : ndarray of float64, shape (n_features,)
        Penalty weight ``alpha_f`` of each feature's coefficients.
    gradient : ndarray of float64, like ``params``
    """
    n_samples, n_features = features.shape
    n_free = n_classes if n_classes > 2 else 1
    gradient[:] = 0.0
    total = _rows_loss(params, features, labels, n_classes, 0, n_samples, gradient)
    weights = params[: n_features * n_free].reshape((n_features, n_free))
    grad_weights = gradient[: n_features * n_free].reshape((n_features, n_free))
    grad_offsets = gradient[n_features * n_free :]
    scale = 1.0 / n_samples
    penalty = 0.0
    for f in range(n_features):
        for k in range(n_free):
            penalty += penalties[f] * weights[f, k] * weights[f, k]
            grad_weights[f, k] = grad_weights[f, k] * scale + penalties[f] * weights[f, k]
    for k in range(n_free):
        grad_offsets[k] *= scale
    return total * scale + 0.5 * penalty


@njit(cache=True, nogil=True)
def logistic_probabilities(params: np.ndarray, features: np.ndarray, n_classes: int) -> np.ndarray:
    """Class probabilities ``(n_samples, n_classes)`` of the model in ``params``."""
    n_samples, n_features = features.shape
    n_free = n_classes if n_classes > 2 else 1
    first_free = n_classes - n_free
    weights = params[: n_features * n_free].reshape((n_features, n_free))
    offsets = params[n_features * n_free :]
    out = np.empty((n_samples, n_classes))
    for i in range(n_samples):
        for c in range(first_free):
            out[i, c] = 0.0
        for k in range(n_free):
            value = offsets[k]
            for f in range(n_features):
                value += features[i, f] * weights[f, k]
            out[i, first_free + k] = value
        largest = out[i].max()
        partition = 0.0
        for c in range(n_classes):
            out[i, c] = np.exp(out[i, c] - largest)
            partition += out[i, c]
        for c in range(n_classes):
            out[i, c] /= partition
    return out


@njit(cache=True, nogil=True)
def free_class_probabilities(logits: np.ndarray, labels: np.ndarray, n_classes: int) -> float:
    """Turn the free classes' logits into their probabilities, in place; return the loss.

    Parameters
    ----------
    logits : ndarray of float64, shape (n_samples, n_free)
        ``x_i . W + b`` of the free classes (the reference class, if any, has logit 0).
        Overwritten with the probabilities of the free classes.
    labels : ndarray of int64, shape (n_samples,)
        Codes ``0 .. n_classes - 1``.
    n_classes : int

    Returns
    -------
    float
        The unpenalised, unscaled cross-entropy ``sum_i log sum_c exp(l_ic) - l_i,y_i``.
    """
    n_samples, n_free = logits.shape
    first_free = n_classes - n_free
    total = 0.0
    for i in range(n_samples):
        largest = 0.0 if first_free > 0 else logits[i, 0]
        for k in range(n_free):
            largest = max(largest, logits[i, k])
        label = labels[i] - first_free
        label_logit = logits[i, label] if label >= 0 else 0.0
        partition = first_free * np.exp(-largest)
        for k in range(n_free):
            value = np.exp(logits[i, k] - largest)
            logits[i, k] = value
            partition += value
        total += largest + np.log(partition) - label_logit
        inverse = 1.0 / partition
        for k in range(n_free):
            logits[i, k] *= inverse
    return total


@njit(cache=True, nogil=True)
def feature_pair_products(columns: np.ndarray, start: int, out: np.ndarray) -> None:
    """``x_f x_g`` for every feature pair ``f <= g`` (``np.triu_indices`` order), by row.

    Parameters
    ----------
    columns : ndarray of float64, shape (n_features, n_samples)
        The features, one contiguous row per feature.
    start : int
        First sample of the chunk.
    out : ndarray, shape (n_features * (n_features + 1) / 2, n_rows)
        Receives samples ``start : start + n_rows``.
    """
    n_features = columns.shape[0]
    n_rows = out.shape[1]
    pair = 0
    for f in range(n_features):
        for g in range(f, n_features):
            for row in range(n_rows):
                out[pair, row] = columns[f, start + row] * columns[g, start + row]
            pair += 1


@njit(cache=True, nogil=True)
def class_pair_weights(probabilities: np.ndarray, start: int, out: np.ndarray) -> None:
    """``q_a (delta_ab - q_b)`` for every pair of free classes ``a <= b`` (triu order).

    With :func:`feature_pair_products`, the logistic Hessian's distinct entries are one
    matrix product: ``H[(f, a), (g, b)] = sum_i products[fg, i] * weights[ab, i]``.

    Parameters
    ----------
    probabilities : ndarray of float64, shape (n_free, n_samples)
        Free-class probabilities, one contiguous row per class.
    start : int
        First sample of the chunk.
    out : ndarray, shape (n_free * (n_free + 1) / 2, n_rows)
        Receives samples ``start : start + n_rows``.
    """
    n_free = probabilities.shape[0]
    n_rows = out.shape[1]
    pair = 0
    for a in range(n_free):
        for row in range(n_rows):
            value = probabilities[a, start + row]
            out[pair, row] = value * (1.0 - value)
        pair += 1
        for b in range(a + 1, n_free):
            for row in range(n_rows):
                out[pair, row] = -probabilities[a, start + row] * probabilities[b, start + row]
            pair += 1
