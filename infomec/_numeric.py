"""Numerically safe standardisation of one column."""

from __future__ import annotations

import numpy as np


def standardize(column: np.ndarray) -> np.ndarray | None:
    """``(x - mean) / std`` in float64, or ``None`` for a constant column.

    Ordinary data goes through exactly ``(x - x.mean()) / x.std()`` (the bits matter for
    parity with scikit-learn). Columns whose moments overflow or underflow float64
    (values near 1e308 or subnormal) are first divided by their largest magnitude.

    Examples
    --------
    >>> standardize(np.array([1.0, 3.0])).tolist()
    [-1.0, 1.0]
    >>> standardize(np.array([1e308, -1e308])).tolist()
    [1.0, -1.0]
    >>> standardize(np.array([2.0, 2.0])) is None
    True
    """
    column = np.asarray(column, dtype=np.float64)
    if column.max() == column.min():
        return None
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        std = column.std()
        if not (np.isfinite(std) and 1e-150 < std < 1e150):
            column = column / np.abs(column).max()
            std = column.std()
        return (column - column.mean()) / std
