"""Check step of the input layer: properties of interpreted arrays, refused or warned.

Every function here takes typed numpy arrays (what :mod:`infomec.inputs.interpret`
returns) and raises a one-line ``ValueError`` naming the array and column (by the
names the user gave, where there are any), or warns naming the column.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from infomec._warnings import warn

#: A source needs at least this many rows per distinct value, on average (N / K >= 5);
#: below it, plug-in and KSG mutual information measure the sample, not the source.
MIN_ROWS_PER_SOURCE_VALUE = 5

#: Float latents whose every column takes at most this many values (and at most one
#: value per CODE_LIKE_MIN_ROWS rows) look like discrete codes saved as floats.
CODE_LIKE_MAX_VALUES = 64
CODE_LIKE_MIN_ROWS = 10


def _label(names: Sequence[str] | None, j: int) -> str:
    """How messages name column ``j``: the user's name, else its position."""
    return f"'{names[j]}'" if names is not None and j < len(names) else str(j)


def _has_finite_sum(array: np.ndarray) -> bool:
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow just means "scan"
        return bool(np.isfinite(np.sum(array, dtype=np.float64)))


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
            "pass discrete_latents=True (CLI --discrete) to score them as codes (the input "
            "digest lists each column's values)"
        )


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


# ------------------------------------------------------------------- suspicious columns


def row_identifier(column: np.ndarray) -> tuple[int, int] | None:
    """``(first, step)`` if ``column`` holds distinct integers forming an arithmetic
    sequence once sorted (row numbers, ids from any start, in any order), else None.

    Examples
    --------
    >>> row_identifier(np.array([3, 1, 2, 4])), row_identifier(np.array([0.5, 1.5, 2.5]))
    ((1, 1), None)
    """
    if column.shape[0] < 3 or column.dtype.kind not in "iuf":
        return None
    if column.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            if not np.all(column == np.round(column)) or np.abs(column).max() >= 2**53:
                return None
        column = column.astype(np.int64)
    ordered = np.sort(column.astype(np.int64, copy=False))
    steps = np.diff(ordered)
    if steps[0] <= 0 or not np.all(steps == steps[0]):
        return None
    return int(ordered[0]), int(steps[0])


def refuse_identifier(column: np.ndarray, label: str, what: str) -> None:
    """Refuse a column that is a row identifier (see :func:`row_identifier`)."""
    found = row_identifier(column)
    if found is None:
        return
    first, step = found
    last = first + step * (column.shape[0] - 1)
    hint = (
        "drop it (CLI: --latents-index-col NAME drops a named column of a text file)"
        if what == "latents"
        else "drop it"
    )
    raise ValueError(
        f"{what} column {label} holds {column.shape[0]} distinct integers {first}..{last} "
        f"(step {step}), one per row: a row identifier, not a {what[:-1]}; {hint}"
    )


#: Codes plus noise: every value within this fraction of the grid step of a grid point.
NOISY_CODE_TOLERANCE = 0.25
#: Grids tried: integers, then steps of 0.1, 0.01, ... down to this many decimals.
NOISY_CODE_DECIMALS = 6


def noisy_codes(column: np.ndarray, check_density: bool = True):
    """``(rounded, largest deviation, codes, decimals)`` for float codes plus noise.

    That is a float column whose values are not all on a grid of 10**-r (r = 0, 1, ..,
    :data:`NOISY_CODE_DECIMALS`, the coarsest that fits), but all lie within
    :data:`NOISY_CODE_TOLERANCE` of a step from one of its points, and whose rounded
    values take at least two and few enough values to be a source (``N / K >= 5``):
    integer codes plus noise, or factor values such as 0.1, 0.2, .. computed in floating
    point. Returns None otherwise.
    """
    if column.dtype.kind != "f":
        return None
    for decimals in range(NOISY_CODE_DECIMALS + 1):
        with np.errstate(invalid="ignore", over="ignore"):
            rounded = np.round(column, decimals)
            deviation = float(np.abs(column - rounded).max())
        if not deviation <= NOISY_CODE_TOLERANCE * 10.0**-decimals:
            continue
        count = np.unique(rounded).size
        if count < 2 or (check_density and column.shape[0] < MIN_ROWS_PER_SOURCE_VALUE * count):
            return None
        return (rounded, deviation, count, decimals) if deviation > 0 else None
    return None


_SCREENED_COLUMNS = 1000


def many_valued_integer_latents(latents: np.ndarray, names: Sequence[str]) -> list[str]:
    """Integer latent columns with many distinct values (more than ``min(64, N / 10)``):
    scored as discrete codes, where plug-in mutual information saturates. The mirror of
    :func:`code_like_float_latents`; returns the names of such columns."""
    if latents.dtype.kind not in "iu":
        return []
    limit = min(CODE_LIKE_MAX_VALUES, latents.shape[0] // CODE_LIKE_MIN_ROWS)
    # The first columns tell (bounded cost on inputs of 1e5+ columns).
    ordered = np.sort(latents[:, :_SCREENED_COLUMNS], axis=0)
    counts = 1 + np.count_nonzero(np.diff(ordered, axis=0), axis=0)
    return [names[j] for j in np.flatnonzero(counts > limit)]


#: A latent's range is "set by a few extreme values" when it exceeds this many times
#: the spread of its central 98 % (1st to 99th percentile).
EXTREME_RANGE_RATIO = 10.0


def extreme_range_latents(latents: np.ndarray) -> np.ndarray:
    """Boolean mask of float latents whose range is set by a few extreme values."""
    if latents.dtype.kind != "f" or latents.shape[0] < 20:
        return np.zeros(latents.shape[1], dtype=bool)
    with np.errstate(over="ignore", invalid="ignore"):
        low, high = np.percentile(latents, [1, 99], axis=0)
        central = high.astype(np.float64) - low
        full = latents.max(axis=0).astype(np.float64) - latents.min(axis=0)
        return (full > EXTREME_RANGE_RATIO * central) & (central > 0) | (
            (central == 0) & (full > 0) & np.isfinite(full)
        )


def review_pruning(latents: np.ndarray, rule, names: Sequence[str]) -> tuple[np.ndarray, dict]:
    """Which latents ``rule`` keeps, and warnings for ranges set by a few extreme values.

    ``rule`` is a :class:`~infomec.presets.PruningRule`. A latent whose range exceeds
    :data:`EXTREME_RANGE_RATIO` times the spread of its central 98 % has its range set
    by a few values; when that changes which latents the rule keeps (compared with the
    same rule on latents clipped to their 1st-99th percentiles), a warning names it and
    the latents that pruning then dropped (or kept only for those values).

    Returns
    -------
    active : ndarray of bool
    notes : dict
        Per latent position, a note for the input digest.
    """
    active = rule.active(latents)
    notes: dict[int, str] = {}
    if rule.statistic != "range" or latents.dtype.kind != "f":
        return active, notes
    extreme = extreme_range_latents(latents)
    if not extreme.any():
        return active, notes
    clipped = latents.copy()
    low, high = np.percentile(latents[:, extreme], [1, 99], axis=0)
    clipped[:, extreme] = np.clip(latents[:, extreme], low, high)
    robust = rule.active(clipped)
    changed = np.flatnonzero(active != robust)
    for j in np.flatnonzero(extreme):
        notes[j] = "range set by a few extreme values (over 10x its central 98 %)"
    if changed.size == 0:
        return active, notes
    culprits = ", ".join(repr(names[j]) for j in np.flatnonzero(extreme)[:5])
    dropped = [names[j] for j in changed if not active[j]]
    kept = [names[j] for j in changed if active[j]]
    parts = []
    if dropped:
        parts.append(f"pruning then dropped {', '.join(dropped[:8])}")
    if kept:
        parts.append(f"kept {', '.join(kept[:8])} active only for those values")
    warn(
        f"latents {culprits} have ranges set by a few extreme values (over "
        f"{EXTREME_RANGE_RATIO:g}x the spread of their central 98 %); {'; '.join(parts)} "
        "(see the input digest); remove the outliers or pass another pruning rule"
    )
    for j in changed:
        notes[int(j)] = (
            "pruned because another latent's range is set by extreme values"
            if not active[j]
            else "active only because of a few extreme values"
        )
    return active, notes


def check_row_indexes(
    first: np.ndarray | None, second: np.ndarray | None, first_name: str, second_name: str
) -> None:
    """Compare two files' row indexes (their dropped index columns), as pandas indexes are.

    Rows are paired by position. When both files carry a row index and the two differ
    (reordered, shifted or filtered rows), pairing by position would score mismatched
    rows: refused. When only one carries an index and it is out of order, a warning says
    that its rows are still paired by position.
    """
    if first is not None and second is not None:
        same_length = first.shape == second.shape
        if same_length and np.array_equal(first.astype(str), second.astype(str)):
            return
        how = (
            "the same rows in another order"
            if same_length and set(first.astype(str).tolist()) == set(second.astype(str).tolist())
            else "different rows"
        )
        raise ValueError(
            f"{first_name} and {second_name} have different row indexes ({how}); rows are "
            "paired by position, so align the two files by their index first"
        )
    for index, name, other in ((first, first_name, second_name), (second, second_name, first_name)):
        if index is None or index.dtype.kind not in "iuf" or index.shape[0] < 2:
            continue
        if np.any(np.diff(index.astype(np.float64)) < 0):
            warn(
                f"{name} has a row index that is out of order (rows reordered?) and {other} "
                "has none to match it: rows are paired by position (see the input digest)"
            )
