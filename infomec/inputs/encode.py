"""Encode step of the input layer: label codes of sources (and discrete latents).

Takes checked arrays and returns what the kernels consume: :class:`EncodedColumns`
(one row of int32 codes per column), sources binned on request, 64-bit integer latents
shifted so that float64 holds them exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np

from infomec._warnings import warn
from infomec.estimators.contingency import column_ranges, counted_codes
from infomec.inputs.check import (
    MIN_ROWS_PER_SOURCE_VALUE,
    _label,
    latents_look_like_codes,
    noisy_codes,
    refuse_identifier,
)
from infomec.inputs.interpret import _FLOAT64_EXACT, as_2d_array

# Resampling (bootstrap / half-samples) re-scores subsets of a sample that passed the
# density check once; a half-sample of a sample at 5 rows per value has about 2.5.
_CHECK_SOURCE_DENSITY: ContextVar[bool] = ContextVar("check_source_density", default=True)


def in_resample() -> bool:
    """Whether the caller re-scores rows of a sample checked in full (see
    :func:`resampled_sample`): its input digest was recorded then, once."""
    return not _CHECK_SOURCE_DENSITY.get()


@contextmanager
def resampled_sample() -> Iterator[None]:
    """Within this block sources are not refused for being sparse (see the module text).

    Only for re-scoring subsets of rows of a sample that passed the check in full.
    """
    token = _CHECK_SOURCE_DENSITY.set(False)
    try:
        yield
    finally:
        _CHECK_SOURCE_DENSITY.reset(token)


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


def exact_integer_latents(latents: np.ndarray) -> np.ndarray:
    """Shift 64-bit integer latents beyond +-2**53 by each column's minimum, exactly.

    Continuous estimators, standardisation and ranges see latents in float64, where
    such integers collapse onto each other (codes + 2**62 become one value). Every
    metric is invariant to a per-column shift, and the shifted values (computed modulo
    2**64 in unsigned arithmetic, hence exact) are then exact in float64 whenever the
    column spans less than 2**53. Other latents are returned as given.

    Examples
    --------
    >>> exact_integer_latents(np.array([[2**62 + 3], [2**62]])).ravel().tolist()
    [3, 0]
    """
    if latents.dtype.kind not in "iu" or latents.dtype.itemsize < 8:
        return latents
    lows, highs = column_ranges(latents)
    if int(highs.max()) <= _FLOAT64_EXACT and int(lows.min()) >= -_FLOAT64_EXACT:
        return latents
    offsets = latents.astype(np.uint64) - lows.astype(np.uint64)  # wraps: exact offsets
    if int(offsets.max()) <= np.iinfo(np.int64).max:
        return offsets.astype(np.int64)
    return offsets


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
    """Equal-width binning of one numeric column into ``n_bins`` bins (``np.histogram`` edges).

    Columns near the float64 maximum are first divided by their largest magnitude
    (equal-width bins do not depend on the scale), so the edges stay finite.
    """
    values = column.astype(np.float64)
    largest = float(np.abs(values).max())
    if largest > 1e300:
        values = values / largest
    edges = np.histogram_bin_edges(values, bins=n_bins)
    return np.clip(np.searchsorted(edges, values, side="right") - 1, 0, n_bins - 1)


def check_source_bins(source_bins, n_samples: int) -> int | None:
    """``source_bins`` as an int in ``[2, N]`` (or None); anything else refused at once."""
    if source_bins is None:
        return None
    if (
        isinstance(source_bins, bool)
        or not isinstance(source_bins, (int, np.integer))
        or not 2 <= source_bins <= n_samples
    ):
        raise ValueError(
            f"source_bins must be an integer from 2 to the number of rows ({n_samples}), "
            f"got {source_bins!r}"
        )
    return int(source_bins)


def _looks_continuous(column: np.ndarray) -> bool:
    """A float column with some non-integer value (as continuous latents are)."""
    if column.dtype.kind != "f":
        return False
    with np.errstate(invalid="ignore"):
        return bool(np.any(column != np.round(column)))


def _swap_hint(column: np.ndarray, latent_codes: bool) -> str:
    if latent_codes and _looks_continuous(column):
        return (
            "the sources look continuous and the latents look like discrete codes: were "
            "the latents and sources swapped (latents come first)? "
        )
    return ""


def _refuse_unbinned(
    label: str, column: np.ndarray, count: int, n_samples: int, reason: str, latent_codes: bool
) -> None:
    largest_bins = max(2, n_samples // MIN_ROWS_PER_SOURCE_VALUE)
    swap = _swap_hint(column, latent_codes)
    if column.dtype.kind in "USO":
        advice = "text sources cannot be binned; merge rare values or drop the column"
    else:
        advice = (
            f"{'if not, ' if swap else ''}pass source_bins=B (CLI --source-bins B, at most "
            f"{largest_bins}) to bin it into B equal-width bins"
        )
    raise ValueError(
        f"{swap}sources column {label} has {count} distinct values in {n_samples} rows "
        f"({reason}); {advice}"
    )


def encode_sources(
    sources,
    *,
    max_source_values: int = 1000,
    source_bins: int | None = None,
    names: list[str] | None = None,
    latents: np.ndarray | None = None,
    notes: list[list[str]] | None = None,
) -> EncodedColumns:
    """Validate and label-encode the sources, column by column.

    A column is refused when it has more than ``max_source_values`` distinct values
    (it is probably continuous) or fewer than 5 rows per distinct value on average
    (``N / K < 5``: an identifier, or continuous values; mutual information would only
    measure the sample) -- unless ``source_bins`` bins it. A row identifier and integer
    codes plus float noise are named as such. Binning never splits a code: a column of
    codes plus noise is rounded to its codes before it is binned.

    Parameters
    ----------
    sources : array-like of shape (n_samples, n_sources), or list of 1-D columns
        Columns may have different dtypes (numbers, booleans, text labels).
    max_source_values : int, default=1000
        A column with more distinct values is refused (it is probably continuous).
    source_bins : int or None, default=None
        Opt-in: bin numeric columns refused by either rule into this many equal-width
        bins instead (2 <= ``source_bins`` <= N).
    names : list of str, optional
        Column names used in messages.
    latents : ndarray, optional
        The validated latents: when they look like discrete codes, a refusal of a
        continuous-looking source first asks whether the two arrays were swapped.
    notes : list of list of str, optional
        One list per column, extended with what encoding did (binned, rounded), for the
        input digest.

    Returns
    -------
    EncodedColumns
    """
    if isinstance(sources, list):
        columns = sources
    else:
        array = as_2d_array(sources, "sources")
        columns = [array[:, j] for j in range(array.shape[1])]
    n_samples = columns[0].shape[0]
    source_bins = check_source_bins(source_bins, n_samples)
    codes = np.empty((len(columns), n_samples), dtype=np.int32)
    cardinalities = np.empty(len(columns), dtype=np.int64)
    check_density = _CHECK_SOURCE_DENSITY.get()
    for j, column in enumerate(columns):
        one = encode_columns(column[:, None])
        codes[j], cardinalities[j] = one.codes[0], one.cardinalities[0]
        count = int(cardinalities[j])
        too_many = count > max_source_values
        too_sparse = check_density and count > 1 and n_samples < MIN_ROWS_PER_SOURCE_VALUE * count
        if not (too_many or too_sparse):
            continue
        label = _label(names, j)
        refuse_identifier(column, label, "sources")
        rounded = noisy_codes(column, check_density)
        if too_many:
            reason = f"more than max_source_values={max_source_values}; it looks continuous"
        else:
            reason = (
                f"{n_samples / count:.1f} rows per value; mutual information needs at least "
                f"{MIN_ROWS_PER_SOURCE_VALUE}"
            )
        if rounded is not None and source_bins is None:
            grid = "an integer" if rounded[3] == 0 else f"a multiple of {10.0 ** -rounded[3]:g}"
            advice = "numpy.rint(x)" if rounded[3] == 0 else f"numpy.round(x, {rounded[3]})"
            raise ValueError(
                f"sources column {label} looks like codes plus float noise (every value "
                f"within {rounded[1]:.2g} of {grid}, {rounded[2]} codes): round it "
                f"({advice}) before scoring; binning would split codes"
            )
        if source_bins is None or column.dtype.kind not in "biuf":
            coded = latents is not None and latents_look_like_codes(latents)
            _refuse_unbinned(label, column, count, n_samples, reason, coded)
        values = column
        if rounded is not None:
            values = rounded[0]
            warn(
                f"sources column {label} looks like codes plus float noise: rounded to its "
                "codes before binning (binning never splits a code)"
            )
            if notes is not None:
                notes[j].append("codes plus float noise: rounded before binning")
        unique, binned = np.unique(bin_column(values, source_bins), return_inverse=True)
        if check_density and n_samples < MIN_ROWS_PER_SOURCE_VALUE * unique.size:
            raise ValueError(
                f"sources column {label} binned into source_bins={source_bins} bins still has "
                f"{unique.size} values in {n_samples} rows (fewer than "
                f"{MIN_ROWS_PER_SOURCE_VALUE} per value); use at most "
                f"{max(2, n_samples // MIN_ROWS_PER_SOURCE_VALUE)} bins"
            )
        codes[j] = binned.ravel()
        cardinalities[j] = unique.size
        if notes is not None:
            notes[j].append(f"binned into {source_bins} equal-width bins ({unique.size} used)")
    for j in np.flatnonzero(cardinalities == 1):
        warn(
            f"sources column {_label(names, j)} takes a single value (entropy 0): its NMI "
            "row is 0 and it is left out of InfoC and InfoE"
        )
    return EncodedColumns(codes=codes, cardinalities=cardinalities)
