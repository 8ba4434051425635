"""Checks of arguments (counts, fractions, choices), and the input layer's names.

User *data* is read, interpreted, checked and encoded by :mod:`infomec.inputs` (one
module per step); this module checks the other arguments of the public functions and
re-exports the input layer's checks under the names older code imports.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from infomec._warnings import InfoMECWarning, caller_stacklevel, warn
from infomec.inputs.check import (
    CODE_LIKE_MAX_VALUES,
    CODE_LIKE_MIN_ROWS,
    MIN_ROWS_PER_SOURCE_VALUE,
    check_finite,
    check_names,
    check_same_length,
    check_summable,
    code_like_float_latents,
    hint_discrete_codes,
    is_discrete_dtype,
    latents_look_like_codes,
)
from infomec.inputs.encode import (
    EncodedColumns,
    bin_column,
    check_source_bins,
    encode_columns,
    encode_sources,
    exact_integer_latents,
    resampled_sample,
)
from infomec.inputs.interpret import as_2d_array, check_latents, is_pandas, stack_columns

__all__ = [
    "CODE_LIKE_MAX_VALUES",
    "CODE_LIKE_MIN_ROWS",
    "MIN_ROWS_PER_SOURCE_VALUE",
    "EncodedColumns",
    "InfoMECWarning",
    "as_2d_array",
    "bin_column",
    "caller_stacklevel",
    "check_choice",
    "check_finite",
    "check_fraction",
    "check_latents",
    "check_names",
    "check_optional_bool",
    "check_positive_int",
    "check_same_length",
    "check_source_bins",
    "check_summable",
    "code_like_float_latents",
    "effective_k",
    "encode_columns",
    "encode_sources",
    "exact_integer_latents",
    "hint_discrete_codes",
    "is_discrete_dtype",
    "is_pandas",
    "latents_look_like_codes",
    "resampled_sample",
    "stack_columns",
    "warn",
]


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
