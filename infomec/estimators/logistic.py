"""L2-penalised logistic regression: the loss, its gradient and the probabilities.

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
