"""Products with a one-hot design through tables of grouped codes.

A dummy-coded design row has one non-zero per latent, so ``X @ V`` adds one row of
``V`` per latent. Grouping a few latents into one combined code (a cell of their joint
grid) and tabulating each group's summed rows of ``V`` leaves one lookup per group:
three latents of ten values become one lookup in a 1,000-row table, which stays in
cache. ``X^T R`` is the reverse: a histogram of ``R`` over each group's cells, then
its marginals per latent.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def gather_rows(cells: np.ndarray, table: np.ndarray, out: np.ndarray) -> None:
    """``out[n] = sum_g table[cells[g, n]]``: the rows of each group's table, summed.

    Parameters
    ----------
    cells : ndarray of int64, shape (n_groups, n_samples)
        Row of ``table`` for each group and sample (group offsets included).
    table : ndarray of shape (n_cells, m)
    out : ndarray of shape (n_samples, m)
        Overwritten.

    Examples
    --------
    >>> table = np.array([[1.0], [2.0], [10.0], [20.0]])
    >>> out = np.empty((2, 1))
    >>> gather_rows(np.array([[0, 1], [2, 3]]), table, out)
    >>> out.ravel().tolist()
    [11.0, 22.0]
    """
    n_groups, n_samples = cells.shape
    width = out.shape[1]
    for n in range(n_samples):
        row = out[n]
        first = table[cells[0, n]]
        for a in range(width):
            row[a] = first[a]
        for g in range(1, n_groups):
            looked_up = table[cells[g, n]]
            for a in range(width):
                row[a] += looked_up[a]


@njit(cache=True, nogil=True)
def scatter_rows(cells: np.ndarray, values: np.ndarray, n_cells: int) -> np.ndarray:
    """Histogram of ``values`` over each group's cells: the transpose of ``gather_rows``.

    Parameters
    ----------
    cells : ndarray of int64, shape (n_groups, n_samples)
    values : ndarray of shape (n_samples, m)
    n_cells : int
        Rows of the table that ``cells`` indexes.

    Returns
    -------
    ndarray of shape (n_cells, m)

    Examples
    --------
    >>> scatter_rows(np.array([[0, 1], [2, 2]]), np.array([[1.0], [2.0]]), 4).ravel().tolist()
    [1.0, 2.0, 3.0, 0.0]
    """
    n_groups, n_samples = cells.shape
    width = values.shape[1]
    histogram = np.zeros((n_cells, width))
    for n in range(n_samples):
        row = values[n]
        for g in range(n_groups):
            target = histogram[cells[g, n]]
            for a in range(width):
                target[a] += row[a]
    return histogram


@njit(cache=True, nogil=True)
def sum_columns(cell_columns: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Each cell's row of the table: the coefficient rows of its columns, summed.

    Parameters
    ----------
    cell_columns : ndarray of int64, shape (n_cells, width)
        The design columns set in each cell; ``-1`` for none.
    coef : ndarray of shape (n_columns, m)

    Returns
    -------
    ndarray of shape (n_cells, m)

    Examples
    --------
    >>> sum_columns(np.array([[0, 2], [1, -1]]), np.array([[1.0], [2.0], [4.0]])).tolist()
    [[5.0], [2.0]]
    """
    table = np.zeros((cell_columns.shape[0], coef.shape[1]))
    for cell in range(cell_columns.shape[0]):
        row = table[cell]
        for column in cell_columns[cell]:
            if column < 0:
                continue
            source = coef[column]
            for a in range(row.shape[0]):
                row[a] += source[a]
    return table


@njit(cache=True, nogil=True)
def spread_to_columns(
    cell_columns: np.ndarray, histogram: np.ndarray, n_columns: int
) -> np.ndarray:
    """The transpose of ``sum_columns``: each column's total over the cells that set it.

    Examples
    --------
    >>> spread_to_columns(np.array([[0, 2], [1, -1]]), np.array([[1.0], [2.0]]), 3).tolist()
    [[1.0], [2.0], [1.0]]
    """
    out = np.zeros((n_columns, histogram.shape[1]))
    for cell in range(cell_columns.shape[0]):
        source = histogram[cell]
        for column in cell_columns[cell]:
            if column < 0:
                continue
            row = out[column]
            for a in range(row.shape[0]):
                row[a] += source[a]
    return out
