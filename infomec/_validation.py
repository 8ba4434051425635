"""Every check of user input, and the encodings that follow from it.

This is the only module that raises on bad input: everything downstream (metrics,
estimators) receives arrays that are two-dimensional, finite, aligned and encoded.
Messages are one line and name the offending array and column.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from infomec.estimators.contingency import column_ranges, counted_codes


class InfoMECWarning(UserWarning):
    """A degenerate but valid input, or a guard that changed how a score is averaged."""


def warn(message: str) -> None:
    """Emit an :class:`InfoMECWarning` attributed to the caller of the public API."""
    warnings.warn(message, InfoMECWarning, stacklevel=4)


@dataclass(frozen=True)
class EncodedColumns:
    """Label codes of a 2-D array, stored one row per column for the kernels.

    Attributes
    ----------
    codes : ndarray of int32, shape (n_columns, n_samples)
        ``codes[j, n]`` is the rank of ``array[n, j]`` among the column's distinct values.
    cardinalities : ndarray of int64, shape (n_columns,)
        Number of distinct values per column.
    """

    codes: np.ndarray
    cardinalities: np.ndarray


def _has_finite_sum(array: np.ndarray) -> bool:
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow just means "scan"
        return bool(np.isfinite(np.sum(array, dtype=np.float64)))


def as_2d_array(values, name: str) -> np.ndarray:
    """Convert ``values`` to a 2-D array of a supported dtype, or raise ``ValueError``.

    1-D input becomes a single column. Object, complex, datetime and void dtypes are
    refused (nothing is ever unpickled); so are empty and higher-dimensional arrays.
    """
    if values is None:
        raise ValueError(f"{name} is missing")
    try:
        array = np.asarray(values)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{name} cannot be read as an array: {error}") from None
    kind = array.dtype.kind
    if kind not in "biufUS":
        raise ValueError(
            f"{name} has unsupported dtype {array.dtype} "
            "(expected integers, booleans, floats or fixed-width strings)"
        )
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (samples x columns), got shape {array.shape}")
    if array.shape[1] == 0:
        raise ValueError(f"{name} has no columns (shape {array.shape})")
    if array.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 rows (samples), got {array.shape[0]}")
    # A finite sum proves every value finite (NaN and inf propagate through it), at a
    # fraction of isfinite's cost; only a non-finite sum (or an overflow) needs the scan.
    if kind == "f" and not _has_finite_sum(array):
        finite = np.isfinite(array)
        if not finite.all():
            row, column = np.argwhere(~finite)[0]
            bad = "NaN" if np.isnan(array[row, column]) else "inf"
            raise ValueError(f"{name} column {column} contains {bad} (first at row {row})")
    return array


def check_same_length(latents: np.ndarray, sources: np.ndarray, context: str = "") -> None:
    """Refuse latents and sources whose row counts differ."""
    if latents.shape[0] != sources.shape[0]:
        raise ValueError(
            f"{context}latents have {latents.shape[0]} rows but sources have "
            f"{sources.shape[0]}; rows must be aligned samples"
        )


def check_latents(latents) -> np.ndarray:
    """Validate latents: 2-D, finite, numeric (bool and integers count as discrete)."""
    array = as_2d_array(latents, "latents")
    if array.dtype.kind in "US":
        raise ValueError("latents must be numeric, got strings")
    return array


def check_summable(latents: np.ndarray, name: str = "latents") -> None:
    """Refuse float latents so large that a sum over their rows overflows float64.

    disentanglement_lib's definitions take means, ranges and histograms of the raw
    values; beyond this they overflow and would give NaN or numpy's own errors. (InfoMEC
    ranks and rescales, and scores such latents.)
    """
    if latents.dtype.kind != "f":
        return
    largest = max(abs(float(latents.max())), abs(float(latents.min())))
    if largest * latents.shape[0] > np.finfo(np.float64).max:
        raise ValueError(
            f"{name} reach {largest:.3g} in magnitude: sums over their {latents.shape[0]} "
            "rows would overflow float64 (disentanglement_lib's metrics need them); "
            "rescale them"
        )


def is_discrete_dtype(array: np.ndarray) -> bool:
    """Auto-detection of discrete latents: integer and boolean dtypes are discrete."""
    return array.dtype.kind in "biu"


def encode_columns(array: np.ndarray) -> EncodedColumns:
    """Label-encode each column on its own (sorted unique values -> 0 .. n - 1).

    Integer columns spanning few values are encoded by counting (all in one pass of a
    numba kernel), the rest by sorting; both give ``np.unique``'s codes.

    Examples
    --------
    >>> encoded = encode_columns(np.array([[5, 0], [-3, 0], [5, 0]]))
    >>> encoded.codes.tolist(), encoded.cardinalities.tolist()
    ([[1, 0, 1], [0, 0, 0]], [2, 1])
    """
    n_samples, n_columns = array.shape
    sorted_columns = range(n_columns)
    if array.dtype.kind in "iu":
        lows, highs = column_ranges(array)
        spans = [int(high) - int(low) for low, high in zip(lows, highs, strict=True)]
        # A column spanning many values is cheaper to sort than to count (-1: sort it).
        limit = 4 * n_samples + 1024
        spans = np.array([span if span <= limit else -1 for span in spans], dtype=np.int64)
        codes, cardinalities = counted_codes(array, lows, spans)
        sorted_columns = np.flatnonzero(spans < 0)
    else:
        codes = np.empty((n_columns, n_samples), dtype=np.int32)
        cardinalities = np.empty(n_columns, dtype=np.int64)
    for j in sorted_columns:
        unique, codes[j] = np.unique(array[:, j], return_inverse=True)
        cardinalities[j] = unique.size
    return EncodedColumns(codes=codes, cardinalities=cardinalities)


def bin_column(column: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-width binning of one numeric column into ``n_bins`` bins (``np.histogram`` edges)."""
    edges = np.histogram_bin_edges(column.astype(np.float64), bins=n_bins)
    return np.clip(np.searchsorted(edges, column, side="right") - 1, 0, n_bins - 1)


def encode_sources(
    sources,
    *,
    max_source_values: int = 1000,
    source_bins: int | None = None,
    names: list[str] | None = None,
) -> EncodedColumns:
    """Validate and label-encode the sources.

    Parameters
    ----------
    sources : array-like of shape (n_samples, n_sources)
    max_source_values : int, default=1000
        A column with more distinct values is refused (it is probably continuous).
    source_bins : int or None, default=None
        Opt-in: bin numeric columns with more than ``max_source_values`` values into
        this many equal-width bins instead of refusing them.
    names : list of str, optional
        Column names used in messages.

    Returns
    -------
    EncodedColumns
    """
    array = as_2d_array(sources, "sources")
    if source_bins is not None and (not isinstance(source_bins, int) or source_bins < 2):
        raise ValueError(f"source_bins must be an integer >= 2, got {source_bins!r}")
    encoded = encode_columns(array)
    for j in np.flatnonzero(encoded.cardinalities > max_source_values):
        label = f"'{names[j]}'" if names and j < len(names) else str(j)
        if source_bins is not None and array.dtype.kind in "biuf":
            unique, codes = np.unique(bin_column(array[:, j], source_bins), return_inverse=True)
            encoded.codes[j] = codes
            encoded.cardinalities[j] = unique.size
            continue
        raise ValueError(
            f"sources column {label} has {encoded.cardinalities[j]} distinct values "
            f"(more than max_source_values={max_source_values}); it looks continuous: "
            f"pass source_bins=B (CLI --source-bins B) to bin it"
        )
    for j in np.flatnonzero(encoded.cardinalities == 1):
        label = f"'{names[j]}'" if names and j < len(names) else str(j)
        warn(
            f"sources column {label} takes a single value (entropy 0): its NMI row is 0 "
            "and it is left out of InfoC and InfoE"
        )
    return encoded


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int >= ``minimum`` or raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_choice(value, name: str, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices`` or raise ``ValueError``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value
