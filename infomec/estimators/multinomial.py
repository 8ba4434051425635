"""Hessian of the multinomial cross-entropy for sparse (one-hot) designs."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
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
        Ordered like ``coef.ravel()`` for ``coef`` of shape (n_features, m).
    """
    n_free = probabilities.shape[1]
    size = n_features * n_free
    hessian = np.zeros((size, size))
    curvature = np.empty((n_free, n_free))
    for n in range(indptr.shape[0] - 1):
        weight = weights[n]
        for a in range(n_free):
            for b in range(n_free):
                curvature[a, b] = -weight * probabilities[n, a] * probabilities[n, b]
            curvature[a, a] += weight * probabilities[n, a]
        for u in range(indptr[n], indptr[n + 1]):
            row_base = indices[u] * n_free
            for v in range(indptr[n], indptr[n + 1]):
                if indices[v] < indices[u]:
                    continue  # lower blocks are mirrored below
                column_base = indices[v] * n_free
                product = data[u] * data[v]
                for a in range(n_free):
                    for b in range(n_free):
                        hessian[row_base + a, column_base + b] += product * curvature[a, b]
    # Mirror the strictly-lower feature blocks from the upper ones.
    for i in range(n_features):
        for j in range(i):
            for a in range(n_free):
                for b in range(n_free):
                    hessian[i * n_free + a, j * n_free + b] = hessian[
                        j * n_free + b, i * n_free + a
                    ]
    return hessian
