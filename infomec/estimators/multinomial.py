"""Row kernels of the multinomial cross-entropy: softmax, loss, residual, sparse Hessian.

The reference class has a fixed logit ``r`` per row (0, or ``-inf`` where that class is
ruled out), so a row's free logits ``l`` give the log-partition
``log(exp(r) + sum_a exp(l_a))``. A free class is ruled out by a logit of ``-inf``: its
probability, residual and curvature are then exactly 0. One pass per row replaces
numpy's reductions over a short last axis, which cost several times the matrix products.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _exponentiate_row(logits: np.ndarray, row: int, reference_logit: float) -> tuple[float, float]:
    """Replace a row's logits by ``exp(logit - shift)``; return ``shift`` and the sum.

    ``shift = max(reference_logit, logits)`` keeps every exponent <= 0; the sum includes
    the reference class's ``exp(reference_logit - shift)``, so the log-partition is
    ``shift + log(sum)`` and the probabilities are the row divided by the sum: one
    exponential per entry. Some class of the row must have a finite logit.
    """
    n_free = logits.shape[1]
    shift = reference_logit
    for a in range(n_free):
        shift = max(shift, logits[row, a])
    total = np.exp(reference_logit - shift)
    for a in range(n_free):
        value = np.exp(logits[row, a] - shift)
        logits[row, a] = value
        total += value
    return shift, total


@njit(cache=True, nogil=True)
def softmax_in_place(logits: np.ndarray, reference_logits: np.ndarray) -> np.ndarray:
    """Turn free-class logits into probabilities in place; return log-partitions.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, m)
        Logits of the ``m`` free classes (``-inf``: ruled out).
    reference_logits : ndarray of shape (n_samples,)
        Logit of the reference class in each row: 0, or ``-inf`` to rule it out.

    Returns
    -------
    ndarray of shape (n_samples,)
        ``log(exp(reference_logits[n]) + sum_a exp(logits[n, a]))`` of each row.

    Examples
    --------
    >>> logits = np.array([[0.0, np.log(2.0)], [0.0, -np.inf]])
    >>> log_partition = softmax_in_place(logits, np.array([0.0, -np.inf]))
    >>> np.round(logits, 6).tolist(), np.round(log_partition, 6).tolist()
    ([[0.25, 0.5], [1.0, 0.0]], [1.386294, 0.0])
    """
    n_samples, n_free = logits.shape
    log_partition = np.empty(n_samples)
    for row in range(n_samples):
        shift, total = _exponentiate_row(logits, row, reference_logits[row])
        log_partition[row] = shift + np.log(total)
        for a in range(n_free):
            logits[row, a] /= total
    return log_partition


@njit(cache=True, nogil=True)
def cross_entropy_residual_in_place(
    logits: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    reference_logits: np.ndarray,
    probabilities: np.ndarray,
) -> tuple[float, float]:
    """Weighted and plain cross-entropy; overwrite logits with the weighted residual.

    On return ``logits[n, a] = w_n (p_na - [y_n == a])``, whose product with the
    design is the gradient with respect to the free coefficients.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, m)
        Free-class logits; labels ``>= m`` are the reference class.
    labels : ndarray of int64, shape (n_samples,)
        The class of each row, whose logit must be finite.
    weights : ndarray of shape (n_samples,)
    reference_logits : ndarray of shape (n_samples,)
        Logit of the reference class in each row (0, or ``-inf``).
    probabilities : ndarray of shape (n_samples, m) or (0, m)
        Receives the free-class probabilities, if it has rows (Hessian products need
        them).

    Returns
    -------
    weighted_loss : float
        ``sum_n w_n (log Z_n - logit_{n, y_n})``, the objective.
    loss_sum : float
        ``sum_n (log Z_n - logit_{n, y_n})``, for the unweighted mean loss that is
        reported (computed alongside, so the last objective evaluation gives it free).

    Examples
    --------
    >>> logits = np.zeros((2, 1))
    >>> weighted, plain = cross_entropy_residual_in_place(
    ...     logits, np.array([0, 1]), np.full(2, 0.5), np.zeros(2), np.empty((0, 1))
    ... )
    >>> round(weighted, 6), round(plain, 6), logits.ravel().tolist()
    (0.693147, 1.386294, [-0.25, 0.25])
    """
    n_samples, n_free = logits.shape
    keep = probabilities.shape[0] > 0
    weighted_loss = 0.0
    loss_sum = 0.0
    for row in range(n_samples):
        label = labels[row]
        reference_logit = reference_logits[row]
        label_logit = logits[row, label] if label < n_free else reference_logit
        shift, total = _exponentiate_row(logits, row, reference_logit)
        weight = weights[row]
        row_loss = shift + np.log(total) - label_logit
        weighted_loss += weight * row_loss
        loss_sum += row_loss
        if keep:
            for a in range(n_free):
                probabilities[row, a] = logits[row, a] / total
        scale = weight / total
        for a in range(n_free):
            logits[row, a] *= scale
        if label < n_free:
            logits[row, label] -= weight
    return weighted_loss, loss_sum


@njit(cache=True, nogil=True)
def curvature_product_in_place(
    products: np.ndarray, probabilities: np.ndarray, weights: np.ndarray
) -> None:
    """Replace each row's ``u`` by ``w (diag(p) - p p^T) u``: one row of a Hessian product.

    With ``u = X v`` row by row, ``X^T`` of the result is the Hessian times ``v``.

    Parameters
    ----------
    products : ndarray of shape (n_samples, m)
        ``u``, overwritten.
    probabilities : ndarray of shape (n_samples, m)
        Probabilities of the ``m`` free classes.
    weights : ndarray of shape (n_samples,)

    Examples
    --------
    >>> products = np.array([[1.0, 0.0]])
    >>> curvature_product_in_place(products, np.array([[0.5, 0.25]]), np.ones(1))
    >>> products.tolist()
    [[0.25, -0.125]]
    """
    n_samples, n_free = products.shape
    for n in range(n_samples):
        projection = 0.0
        for a in range(n_free):
            projection += probabilities[n, a] * products[n, a]
        for a in range(n_free):
            products[n, a] = weights[n] * probabilities[n, a] * (products[n, a] - projection)


@njit(cache=True, nogil=True, fastmath=True)
def sparse_multinomial_hessian(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    probabilities: np.ndarray,
    weights: np.ndarray,
    n_features: int,
) -> np.ndarray:
    """``sum_n w_n (diag(p_n) - p_n p_n^T) kron x_n x_n^T`` for a CSR design.

    A one-hot row has a handful of non-zeros, so scattering each row's
    ``nnz^2 x m^2`` contributions costs far less than the dense products.

    Parameters
    ----------
    indptr, indices, data : ndarray
        The CSR arrays of the design (n_samples x n_features).
    probabilities : ndarray of shape (n_samples, m)
        Predicted probabilities of the ``m`` free classes.
    weights : ndarray of shape (n_samples,)
    n_features : int

    Returns
    -------
    ndarray of shape (n_features * m, n_features * m)
        Ordered like ``coef.ravel()`` for ``coef`` of shape (n_features, m); exactly
        symmetric.

    Examples
    --------
    >>> import scipy.sparse
    >>> design = scipy.sparse.csr_array(np.array([[1.0, 0.0], [1.0, 1.0]]))
    >>> probabilities = np.array([[0.5], [0.25]])
    >>> sparse_multinomial_hessian(
    ...     design.indptr, design.indices, design.data, probabilities, np.ones(2), 2
    ... ).tolist()
    [[0.4375, 0.1875], [0.1875, 0.1875]]
    """
    n_free = probabilities.shape[1]
    # Every m x m class block is symmetric (each row adds w (diag(p) - p p^T) times a
    # product of features), so it is accumulated as its packed upper triangle, and only
    # for feature pairs i <= j: about a quarter of the full matrix, which keeps the
    # scattered adds in cache. Each add runs over one contiguous block (a 1-d view),
    # the form the compiler vectorises.
    packed = n_free * (n_free + 1) // 2
    blocks = np.zeros((n_features, n_features, packed))
    curvature = np.empty(packed)
    for n in range(indptr.shape[0] - 1):
        row_probabilities = probabilities[n]
        weight = weights[n]
        t = 0
        for a in range(n_free):
            weighted = weight * row_probabilities[a]
            diagonal = t
            for b in range(a, n_free):
                curvature[t] = -weighted * row_probabilities[b]
                t += 1
            curvature[diagonal] += weighted
        for u in range(indptr[n], indptr[n + 1]):
            i = indices[u]
            for v in range(indptr[n], indptr[n + 1]):
                j = indices[v]
                if j < i:
                    continue  # the lower feature blocks are mirrored below
                product = data[u] * data[v]
                block = blocks[i, j]
                for t in range(packed):
                    block[t] += product * curvature[t]
    # Unpack to (i, a, j, b), mirroring both the class and the feature blocks.
    hessian = np.empty((n_features * n_free, n_features * n_free))
    for i in range(n_features):
        first = i * n_free
        for j in range(i, n_features):
            block = blocks[i, j]
            second = j * n_free
            t = 0
            for a in range(n_free):
                for b in range(a, n_free):
                    value = block[t]
                    t += 1
                    hessian[first + a, second + b] = value
                    hessian[first + b, second + a] = value
                    hessian[second + b, first + a] = value
                    hessian[second + a, first + b] = value
    return hessian


@njit(cache=True, nogil=True)
def class_pair_curvature(probabilities_by_class: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each row's class curvature ``w (delta_ab p_a - p_a p_b)`` for class pairs ``a <= b``.

    The per-row factor of a dense Hessian. The diagonal ``p_a (1 - p_a)`` is formed row
    by row, so it keeps its relative precision when ``p_a`` is close to 1 (near a
    separable optimum) instead of being the small difference of two large sums.

    Parameters
    ----------
    probabilities_by_class : ndarray of shape (m, n_samples)
        Free-class probabilities, one class per row (C-contiguous).
    weights : ndarray of shape (n_samples,)

    Returns
    -------
    ndarray of shape (m (m + 1) / 2, n_samples)
        Class pairs in ``numpy.triu_indices(m)`` order.

    Examples
    --------
    >>> class_pair_curvature(np.array([[0.5], [0.25]]), np.ones(1)).ravel().tolist()
    [0.25, -0.125, 0.1875]
    """
    n_free, n_samples = probabilities_by_class.shape
    curvature = np.empty((n_free * (n_free + 1) // 2, n_samples))
    t = 0
    for a in range(n_free):
        first = probabilities_by_class[a]
        for b in range(a, n_free):
            second = probabilities_by_class[b]
            row = curvature[t]
            if a == b:
                for n in range(n_samples):
                    row[n] = weights[n] * first[n] * (1.0 - first[n])
            else:
                for n in range(n_samples):
                    row[n] = -weights[n] * first[n] * second[n]
            t += 1
    return curvature
