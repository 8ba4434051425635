"""Interpret step of the input layer: any array-like as typed numpy columns.

Takes what the read step produced (numpy arrays from files; pandas objects, object
arrays, lists) and returns arrays of one supported dtype each: native byte order,
float32/64, integers, booleans or text. Nothing is ever unpickled.
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Sequence

import numpy as np

from infomec.inputs.check import _label, check_finite
from infomec.inputs.labels import normalize_labels

# Integers beyond 2**53 in magnitude are not exact in float64 (the form continuous
# estimators and standardisation use).
_FLOAT64_EXACT = 2**53


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
    numbers gives an object array whose columns keep their own values (sources only;
    :func:`source_columns` reads each column on its own).
    """
    kinds = {column.dtype.kind for column in columns}
    if kinds & set("USO"):
        if kinds <= set("US"):
            return np.column_stack([c.astype(str) for c in columns])
        # Text beside numbers (sources only): an object array whose columns keep their
        # own values, so each column is interpreted on its own later (numbers stay numbers).
        stacked = np.empty((columns[0].shape[0], len(columns)), dtype=object)
        for j, column in enumerate(columns):
            stacked[:, j] = column.astype(object)
        return stacked
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


def _object_to_text(array: np.ndarray, name: str, mixed: bool = False) -> np.ndarray:
    """An object array of strings, or of plain numbers, as a typed array.

    With ``mixed`` (sources), an object array holding both is kept as it is: its
    columns are read one by one by :func:`source_columns`. Other objects are refused.
    """
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
    if mixed and all(
        isinstance(value, (str, bytes, numbers.Real, np.bool_)) or value is None for value in flat
    ):
        return array
    raise ValueError(
        f"{name} has unsupported dtype object (mixed or non-numeric Python objects); "
        "convert them to a numeric or string array first"
    )


def from_pandas(values, name: str) -> np.ndarray:
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
            array = _object_to_text(array, f"{name} column '{label}'", _takes_text(name))
        elif array.dtype.kind not in "biufUS":
            raise ValueError(f"{name} column '{label}' has unsupported dtype {column.dtype}")
        columns.append(_native(array))
    if not columns:
        raise ValueError(f"{name} has no columns (shape {frame.shape})")
    stacked = stack_columns(columns, name, labels)
    return stacked[:, 0] if values.ndim == 1 else stacked


def _takes_text(name: str) -> bool:
    """Sources (and test sources) may hold text labels; latents may not."""
    return name.endswith("sources")


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
    if isinstance(values, np.ma.MaskedArray):
        values = _unmasked(values, name)
    if is_pandas(values):
        array = from_pandas(values, name)
    else:
        try:
            array = np.asarray(values)
        except (ValueError, TypeError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise ValueError(f"{name} cannot be read as an array: {first}") from None
        if array.dtype.kind == "O":
            array = _object_to_text(array, name, _takes_text(name))
    kind = array.dtype.kind
    if kind not in "biufUSO":
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


def _unmasked(values: np.ma.MaskedArray, name: str) -> np.ndarray:
    """A masked array's data; masked entries are missing values, refused by position."""
    mask = np.ma.getmaskarray(values)
    if mask.any():
        where = np.argwhere(mask)[0]
        column = f" column {where[1]}" if mask.ndim == 2 else ""
        raise ValueError(f"{name}{column} has a masked (missing) entry at row {where[0]}")
    return np.asarray(values.data)


def source_columns(
    array: np.ndarray, name: str = "sources", names: Sequence[str] | None = None
) -> tuple[list[np.ndarray], list[list[str]]]:
    """The columns of interpreted sources, each with one dtype, and what was changed.

    Numeric and boolean columns are kept (NaN / inf refused); text columns, and object
    columns mixing text with numbers, go through
    :func:`~infomec.inputs.labels.normalize_labels` (one normalisation of labels for
    every door).

    Returns
    -------
    columns : list of ndarray of shape (n_samples,)
    notes : list of list of str
        Per column, the normalisations applied (for the input digest).
    """
    columns, notes = [], []
    for j in range(array.shape[1]):
        column = array[:, j]
        label = _label(names, j)
        if column.dtype.kind == "O":
            column = _object_to_text(column, f"{name} column {label}", mixed=True)
        if column.dtype.kind in "USO":
            normalized = normalize_labels(column, label, what=name)
            columns.append(normalized.values)
            notes.append(list(normalized.notes))
            continue
        if column.dtype.kind == "f" and not np.isfinite(column).all():
            row = int(np.flatnonzero(~np.isfinite(column))[0])
            bad = "NaN" if np.isnan(column[row]) else "inf"
            raise ValueError(f"{name} column {label} contains {bad} (first at row {row})")
        columns.append(column)
        notes.append([])
    return columns, notes
