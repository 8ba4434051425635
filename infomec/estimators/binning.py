"""Equal-width histogram discretisation, exactly as disentanglement_lib does it.

disentanglement_lib bins each latent with ``np.digitize(x, np.histogram(x, B)[1][:-1])``:
edges from :func:`numpy.histogram` (so a constant column gets the range
``[x - 0.5, x + 0.5]``), digitised against all edges but the last. Codes therefore run
from 1 to ``B``; the maximum lands in bin ``B``. We return them shifted to ``0 .. B - 1``
and relabelled densely, which leaves every plug-in information quantity unchanged.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def _digitize_rows(values: np.ndarray, inner_edges: np.ndarray) -> np.ndarray:
    n_columns, n_samples = values.shape
    codes = np.empty((n_columns, n_samples), dtype=np.int32)
    for j in prange(n_columns):
        # searchsorted(side="right") is np.digitize(right=False) for increasing edges.
        codes[j] = np.searchsorted(inner_edges[j], values[j], side="right") - 1
    return codes


def histogram_codes(values: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Discretise each column into ``n_bins`` equal-width bins (disentanglement_lib edges).

    Parameters
    ----------
    values : ndarray of shape (n_samples, n_columns)
        Finite values.
    n_bins : int
        Number of bins (disentanglement_lib uses 20).

    Returns
    -------
    codes : ndarray of int32, shape (n_columns, n_samples)
        Dense label codes ``0 .. n_used - 1`` of the occupied bins, in bin order.
    cardinalities : ndarray of int64, shape (n_columns,)
        Number of occupied bins per column.

    Examples
    --------
    >>> import numpy as np
    >>> codes, cardinalities = histogram_codes(np.array([[0.0], [0.5], [1.0]]), 2)
    >>> codes.tolist(), cardinalities.tolist()
    ([[0, 1, 1]], [2])
    """
    values = np.asarray(values, dtype=np.float64)
    n_columns = values.shape[1]
    inner_edges = np.empty((n_columns, n_bins))
    for j in range(n_columns):
        inner_edges[j] = np.histogram_bin_edges(values[:, j], bins=n_bins)[:-1]
    raw = _digitize_rows(np.ascontiguousarray(values.T), inner_edges)
    codes = np.empty_like(raw)
    cardinalities = np.empty(n_columns, dtype=np.int64)
    for j in range(n_columns):
        # Dense relabelling of the occupied bins, in bin order (np.unique without a sort).
        occupied = np.bincount(raw[j], minlength=n_bins) > 0
        codes[j] = (np.cumsum(occupied) - 1)[raw[j]]
        cardinalities[j] = int(occupied.sum())
    return codes, cardinalities
