"""Every check of user input, and the encodings that follow from it.

This is the only module that raises on bad input: everything downstream (metrics,
estimators) receives arrays that are two-dimensional, finite, aligned, in native byte
order and encoded. Messages are one line and name the offending array and column (by
the names the user gave, where there are any).
"""

from __future__ import annotations

import contextlib
import numbers
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np

from infomec.estimators.contingency import column_ranges, counted_codes


class InfoMECWarning(UserWarning):
    """A degenerate but valid input, or a guard that changed how a score is averaged."""


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
# Frames between two infomec frames that are not the caller's: ``with`` blocks of our
# context managers run their exit code from contextlib.
_PASS_THROUGH = frozenset({contextlib.__file__})


def caller_stacklevel() -> int:
    """The ``stacklevel`` that attributes a warning to the first frame outside infomec.

    To be passed to :func:`warnings.warn` by the function that calls this one: frames of
    the infomec package (however deep the call chain) are skipped, so a warning raised
    inside ``infomec.score`` points at the user's line that called it. (Python 3.12's
    ``skip_file_prefixes`` does the same; the project supports 3.10.)
    """
    frame = sys._getframe(1)
    level = 1
    while frame is not None and (
        frame.f_code.co_filename.startswith(_PACKAGE_DIR)
        or frame.f_code.co_filename in _PASS_THROUGH
    ):
        frame = frame.f_back
        level += 1
    return level


def warn(message: str, category: type[Warning] = InfoMECWarning) -> None:
    """Emit a warning (an :class:`InfoMECWarning` by default) at the caller's line."""
    warnings.warn(message, category, stacklevel=caller_stacklevel())


#: A source needs at least this many rows per distinct value, on average (N / K >= 5);
#: below it, plug-in and KSG mutual information measure the sample, not the source.
MIN_ROWS_PER_SOURCE_VALUE = 5

# Resampling (bootstrap / half-samples) re-scores subsets of a sample that passed the
# density check once; a half-sample of a sample at 5 rows per value has about 2.5.
_CHECK_SOURCE_DENSITY: ContextVar[bool] = ContextVar("check_source_density", default=True)

#: Float latents whose every column takes at most this many values (and at most one
#: value per CODE_LIKE_MIN_ROWS rows) look like discrete codes saved as floats.
CODE_LIKE_MAX_VALUES = 64
CODE_LIKE_MIN_ROWS = 10

# Integers beyond 2**53 in magnitude are not exact in float64 (the form continuous
# estimators and standardisation use); such latent columns are shifted by their minimum.
_FLOAT64_EXACT = 2**53


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


# ------------------------------------------------------------------- arrays


def _label(names: Sequence[str] | None, j: int) -> str:
    """How messages name column ``j``: the user's name, else its position."""
    return f"'{names[j]}'" if names is not None and j < len(names) else str(j)


def _has_finite_sum(array: np.ndarray) -> bool:
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow just means "scan"
        return bool(np.isfinite(np.sum(array, dtype=np.float64)))


def _native(array: np.ndarray) -> np.ndarray:
    """The same values in a dtype every kernel takes: native byte order, float32/64.

    Big-endian data (from another machine's ``.npy``) is byte-swapped, float16 widened
    to float32 and long doubles narrowed to float64 (too large ones become inf and are
    refused as such); all of these are exact except the last beyond float64's range.
    """
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    if array.dtype.kind == "f" and array.dtype.itemsize < 4:
        array = array.astype(np.float32)
    elif array.dtype.kind == "f" and array.dtype.itemsize > 8:
        with np.errstate(over="ignore"):
            array = array.astype(np.float64)
    return array


def stack_columns(columns: list[np.ndarray], name: str, labels: list[str]) -> np.ndarray:
    """Stack 1-D columns of possibly different dtypes into one exact 2-D array.

    All-integer columns stay integers (uint64 when a column needs it and none is
    negative); integers meet floats only when they are exact in float64; text beside
    numbers turns every column into text (sources only: labels stay distinct).
    """
    kinds = {column.dtype.kind for column in columns}
    if kinds & set("US"):
        if not kinds <= set("US"):
            columns = [c if c.dtype.kind in "US" else c.astype(str) for c in columns]
        return np.column_stack([c.astype(str) for c in columns])
    if kinds <= set("biu") and "u" in kinds:
        widest = max(int(c.max()) for c in columns)
        lowest = min(int(c.min()) for c in columns)
        if lowest < 0 and widest > np.iinfo(np.int64).max:
            raise ValueError(
                f"{name} mix negative integers with integers above 2**63; "
                "they do not fit one 64-bit integer array"
            )
        target = np.uint64 if widest > np.iinfo(np.int64).max else np.int64
        return np.column_stack([c.astype(target) for c in columns])
    if "f" in kinds:
        for column, label in zip(columns, labels, strict=True):
            if (
                column.dtype.kind in "iu"
                and column.size
                and (int(column.max()) > _FLOAT64_EXACT or int(column.min()) < -_FLOAT64_EXACT)
            ):
                raise ValueError(
                    f"{name} column '{label}' holds integers beyond 2**53 beside float "
                    "columns; one float64 array cannot hold them exactly (pass them "
                    "separately, or as integers only)"
                )
    return np.column_stack(columns)


def _first_missing(mask: np.ndarray) -> int | None:
    rows = np.flatnonzero(mask)
    return int(rows[0]) if rows.size else None


def _object_to_text(array: np.ndarray, name: str) -> np.ndarray:
    """An object array of strings, or of plain numbers, as a typed array; else refused."""
    flat = array.ravel()
    if flat.size and all(isinstance(value, str) for value in flat):
        return array.astype(str)
    if flat.size and all(
        isinstance(value, (numbers.Real, np.bool_)) and not isinstance(value, np.datetime64)
        for value in flat
    ):
        typed = np.array(array.tolist())  # numpy picks int64 / uint64 / float64 / bool
        if typed.dtype.kind in "biuf" and typed.shape == array.shape:
            return typed
    raise ValueError(
        f"{name} has unsupported dtype object (mixed or non-numeric Python objects); "
        "convert them to a numeric or string array first"
    )


def _from_pandas(values, name: str) -> np.ndarray:
    """A DataFrame / Series as a plain numpy array, column by column, exactly.

    Nullable extension dtypes (``Int64``, ``Float64``, ``boolean``, ``string``) become
    their numpy forms; a missing value (``pd.NA``, ``None``, NaN) is refused, naming the
    column and row.
    """
    frame = values.to_frame() if values.ndim == 1 else values
    labels = [str(column) for column in frame.columns]
    columns = []
    for position, label in enumerate(labels):
        column = frame.iloc[:, position]
        missing = _first_missing(column.isna().to_numpy())
        if missing is not None:
            raise ValueError(
                f"{name} column '{label}' has a missing value (NA/NaN/None) at row {missing}"
            )
        dtype = column.dtype
        if isinstance(getattr(dtype, "numpy_dtype", None), np.dtype):  # Int64, Float64, ...
            array = column.to_numpy(dtype=dtype.numpy_dtype)
        elif hasattr(column, "cat"):
            array = np.asarray(column.astype(column.cat.categories.dtype).to_numpy())
        else:
            array = np.asarray(column.to_numpy())
        if array.dtype.kind == "O":
            array = _object_to_text(array, f"{name} column '{label}'")
        elif array.dtype.kind not in "biufUS":
            raise ValueError(f"{name} column '{label}' has unsupported dtype {column.dtype}")
        columns.append(_native(array))
    if not columns:
        raise ValueError(f"{name} has no columns (shape {frame.shape})")
    stacked = stack_columns(columns, name, labels)
    return stacked[:, 0] if values.ndim == 1 else stacked


def is_pandas(values) -> bool:
    """Whether ``values`` is a pandas DataFrame or Series (pandas is never imported here)."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(values, (pandas.DataFrame, pandas.Series))


def as_2d_array(
    values, name: str, names: Sequence[str] | None = None, *, finite: bool = True
) -> np.ndarray:
    """Convert ``values`` to a 2-D array of a supported dtype, or raise ``ValueError``.

    1-D input becomes a single column. pandas objects are converted column by column
    (nullable dtypes included). Object arrays of strings become string arrays; other
    object, complex, datetime and void dtypes are refused (nothing is ever unpickled);
    so are empty and higher-dimensional arrays. Byte order and float width are made
    native (see :func:`_native`). With ``finite``, NaN and inf are refused
    (:func:`check_finite`; ``names`` name the columns in that message).
    """
    if values is None:
        raise ValueError(f"{name} is missing")
    if is_pandas(values):
        array = _from_pandas(values, name)
    else:
        try:
            array = np.asarray(values)
        except (ValueError, TypeError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise ValueError(f"{name} cannot be read as an array: {first}") from None
        if array.dtype.kind == "O":
            array = _object_to_text(array, name)
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
    array = _native(array)
    if finite:
        check_finite(array, name, names)
    return array


def check_finite(array: np.ndarray, name: str, names: Sequence[str] | None = None) -> None:
    """Refuse NaN and inf, naming the first bad column (by ``names``) and row."""
    # A finite sum proves every value finite (NaN and inf propagate through it), at a
    # fraction of isfinite's cost; only a non-finite sum (or an overflow) needs the scan.
    if array.dtype.kind != "f" or _has_finite_sum(array):
        return
    finite = np.isfinite(array)
    if not finite.all():
        row, column = np.argwhere(~finite)[0]
        bad = "NaN" if np.isnan(array[row, column]) else "inf"
        raise ValueError(
            f"{name} column {_label(names, column)} contains {bad} (first at row {row})"
        )


def check_same_length(latents: np.ndarray, sources: np.ndarray, context: str = "") -> None:
    """Refuse latents and sources whose row counts differ."""
    if latents.shape[0] != sources.shape[0]:
        raise ValueError(
            f"{context}latents have {latents.shape[0]} rows but sources have "
            f"{sources.shape[0]}; rows must be aligned samples"
        )


def check_latents(latents, names: Sequence[str] | None = None) -> np.ndarray:
    """Validate latents: 2-D, finite, numeric (bool and integers count as discrete)."""
    array = as_2d_array(latents, "latents", finite=False)
    if array.dtype.kind in "US":
        raise ValueError(
            "latents must be numeric, got text"
            + (f" (e.g. {str(array.ravel()[0])!r})" if array.size else "")
        )
    check_finite(array, "latents", names)
    return array


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


def check_summable(latents: np.ndarray, name: str = "latents", *, squares: bool = False) -> None:
    """Refuse float latents so large that a sum over their rows overflows float64.

    disentanglement_lib's definitions take means, ranges and histograms of the raw
    values; beyond this they overflow and would give NaN or numpy's own errors. With
    ``squares`` (families that take variances or fit models: SAP, modularity, BetaVAE,
    FactorVAE, DCI, ...) the sum of squares must stay finite too: beyond it the
    variances overflow and the scores fall to chance (1e300 gave BetaVAE 0.26 instead
    of 1.0). (InfoMEC ranks and rescales, and scores such latents.)
    """
    if latents.dtype.kind != "f":
        return
    largest = max(abs(float(latents.max())), abs(float(latents.min())))
    if squares and largest * largest * latents.shape[0] > np.finfo(np.float64).max:
        limit = np.sqrt(np.finfo(np.float64).max / latents.shape[0])
        raise ValueError(
            f"{name} reach {largest:.3g} in magnitude: sums of squares over their "
            f"{latents.shape[0]} rows would overflow float64 (disentanglement_lib's "
            f"metrics take variances; the limit here is {limit:.2g}); rescale them"
        )
    if largest * latents.shape[0] > np.finfo(np.float64).max:
        raise ValueError(
            f"{name} reach {largest:.3g} in magnitude: sums over their {latents.shape[0]} "
            "rows would overflow float64 (disentanglement_lib's metrics need them); "
            "rescale them"
        )


def is_discrete_dtype(array: np.ndarray) -> bool:
    """Auto-detection of discrete latents: integer and boolean dtypes are discrete."""
    return array.dtype.kind in "biu"


def _few_values(column: np.ndarray) -> int | None:
    """Distinct values of ``column`` if it looks like codes (few, repeated), else None."""
    limit = min(CODE_LIKE_MAX_VALUES, column.shape[0] // CODE_LIKE_MIN_ROWS)
    # A prefix with too many values settles it without sorting the whole column.
    if np.unique(column[:4096]).size > limit:
        return None
    count = np.unique(column).size
    return count if count <= limit else None


def code_like_float_latents(latents: np.ndarray) -> int | None:
    """For float latents that look like discrete codes, the most values of a column.

    That is: every column takes at most ``min(64, N / 10)`` distinct values and some
    column takes at least two. Returns ``None`` otherwise (and for non-float latents).
    """
    if latents.dtype.kind != "f":
        return None
    counts = []
    for j in range(latents.shape[1]):
        count = _few_values(latents[:, j])
        if count is None:
            return None
        counts.append(count)
    return max(counts) if max(counts) >= 2 else None


def latents_look_like_codes(latents: np.ndarray) -> bool:
    """Integer / boolean latents, or float latents with few values per column."""
    return is_discrete_dtype(latents) or code_like_float_latents(latents) is not None


def hint_discrete_codes(latents: np.ndarray) -> None:
    """Warn when float latents (auto-detected as continuous) look like discrete codes."""
    most = code_like_float_latents(latents)
    if most is not None:
        warn(
            f"latents are floats but every column takes at most {most} distinct values: "
            "they look like discrete codes saved as floats and are scored as continuous; "
            "pass discrete_latents=True (CLI --discrete) to score them as codes"
        )


# ------------------------------------------------------------------- names


def check_names(given, count: int, prefix: str, what: str) -> list[str]:
    """Column names: ``given`` as strings (unique, non-empty), or ``prefix0 ..``.

    Examples
    --------
    >>> check_names(None, 2, "z", "latent_names")
    ['z0', 'z1']
    >>> check_names(["a", "a"], 2, "z", "latent_names")
    Traceback (most recent call last):
    ...
    ValueError: latent_names has 'a' twice; names must be unique
    """
    if given is None:
        return [f"{prefix}{j}" for j in range(count)]
    if isinstance(given, (str, bytes)):
        raise ValueError(
            f"{what} must be a list of names, got the single string {given!r} "
            "(the CLI takes a comma-separated list)"
        )
    try:
        names = [str(name).strip() for name in np.asarray(given, dtype=object).ravel()]
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a list of names, got {given!r}") from None
    if len(names) != count:
        raise ValueError(f"{what} has {len(names)} entries but there are {count} columns")
    for position, name in enumerate(names):
        if not name:
            raise ValueError(f"{what} has an empty name at position {position}")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{what} has {name!r} twice; names must be unique")
        seen.add(name)
    return names


# ------------------------------------------------------------------- sources


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
    if column.dtype.kind in "US":
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
) -> EncodedColumns:
    """Validate and label-encode the sources.

    A column is refused when it has more than ``max_source_values`` distinct values
    (it is probably continuous) or fewer than 5 rows per distinct value on average
    (``N / K < 5``: an identifier, or continuous values; mutual information would only
    measure the sample) -- unless ``source_bins`` bins it.

    Parameters
    ----------
    sources : array-like of shape (n_samples, n_sources)
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

    Returns
    -------
    EncodedColumns
    """
    array = as_2d_array(sources, "sources")
    n_samples = array.shape[0]
    source_bins = check_source_bins(source_bins, n_samples)
    encoded = encode_columns(array)
    check_density = _CHECK_SOURCE_DENSITY.get()
    for j in range(array.shape[1]):
        count = int(encoded.cardinalities[j])
        too_many = count > max_source_values
        too_sparse = check_density and count > 1 and n_samples < MIN_ROWS_PER_SOURCE_VALUE * count
        if not (too_many or too_sparse):
            continue
        label = _label(names, j)
        if too_many:
            reason = f"more than max_source_values={max_source_values}; it looks continuous"
        else:
            reason = (
                f"{n_samples / count:.1f} rows per value; mutual information needs at least "
                f"{MIN_ROWS_PER_SOURCE_VALUE}"
            )
        if source_bins is None or array.dtype.kind not in "biuf":
            coded = latents is not None and latents_look_like_codes(latents)
            _refuse_unbinned(label, array[:, j], count, n_samples, reason, coded)
        unique, codes = np.unique(bin_column(array[:, j], source_bins), return_inverse=True)
        if check_density and n_samples < MIN_ROWS_PER_SOURCE_VALUE * unique.size:
            raise ValueError(
                f"sources column {label} binned into source_bins={source_bins} bins still has "
                f"{unique.size} values in {n_samples} rows (fewer than "
                f"{MIN_ROWS_PER_SOURCE_VALUE} per value); use at most "
                f"{max(2, n_samples // MIN_ROWS_PER_SOURCE_VALUE)} bins"
            )
        encoded.codes[j] = codes
        encoded.cardinalities[j] = unique.size
    for j in np.flatnonzero(encoded.cardinalities == 1):
        warn(
            f"sources column {_label(names, j)} takes a single value (entropy 0): its NMI "
            "row is 0 and it is left out of InfoC and InfoE"
        )
    return encoded


# ------------------------------------------------------------------- arguments


def check_positive_int(value, name: str, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` as an int >= ``minimum`` (and <= ``maximum``) or raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be an integer from {minimum} to {maximum}, got {value!r}")
    return int(value)


def check_fraction(value, name: str) -> float:
    """Return ``value`` as a float strictly between 0 and 1 or raise ``ValueError``."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Real)
        or not 0 < value < 1
    ):
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
    return float(value)


def check_optional_bool(value, name: str) -> bool | None:
    """``None``, ``True`` or ``False`` (numpy booleans included), else ``ValueError``."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    raise ValueError(f"{name} must be True, False or None, got {value!r}")


def check_choice(value, name: str, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices`` or raise ``ValueError``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def effective_k(k: int, sources: EncodedColumns, names: Sequence[str], explicit: bool) -> int:
    """The KSG neighbour count that actually applies to these sources.

    The Ross estimator (as scikit-learn's) uses ``k_c = min(k, N_c - 1)`` neighbours in
    a class of ``N_c`` rows and drops singleton classes. When ``k`` reaches the largest
    usable class of every source, every class uses fewer: the result is exactly that of
    ``k = largest class - 1``, which is returned (with a warning) so that ``settings``
    records the ``k`` that was used. An explicit ``k`` at least as large as some usable
    class is announced too (those classes use ``N_c - 1``).
    """
    largest, smallest, smallest_at = 0, None, ""
    for i in range(sources.codes.shape[0]):
        counts = np.bincount(sources.codes[i], minlength=int(sources.cardinalities[i]))
        usable = counts[counts > 1]
        if usable.size == 0:
            continue
        largest = max(largest, int(usable.max()))
        if smallest is None or int(usable.min()) < smallest:
            smallest, smallest_at = int(usable.min()), names[i]
    if largest < 2:
        return k
    if k >= largest:
        warn(
            f"k={k} reaches the size of every class of every source (largest {largest} "
            f"rows): the KSG estimate is that of k={largest - 1}, which is used and recorded"
        )
        return largest - 1
    if explicit and smallest is not None and k >= smallest:
        warn(
            f"k={k} reaches the size of some classes (smallest: {smallest} rows, in source "
            f"'{smallest_at}'); those use N_c - 1 neighbours (as scikit-learn does)"
        )
    return k
