"""The columns of a sweep table: which describe a run, which score it.

Shared by :mod:`infomec.sweep` (which builds the table) and :mod:`infomec.figures`
(which draws it); it imports nothing from infomec, so both can depend on it.
"""

from __future__ import annotations

__all__ = ["CHANCE_SUFFIXES", "META_COLUMNS", "TAIL_COLUMNS", "is_chance_column", "score_columns"]

#: Columns of :func:`infomec.sweep.sweep`'s table that describe a run rather than score it.
META_COLUMNS = ("run", "model", "seed", "latents", "sources")
#: Columns that :func:`infomec.sweep.sweep` appends after the scores.
TAIL_COLUMNS = ("n_samples", "elapsed_s", "error", "warnings")
#: Endings of the columns that hold a score's chance level rather than a score
#: (``infomec.infom_chance``; see :meth:`infomec.ScoreResult.chance_scalars`).
CHANCE_SUFFIXES = ("_chance", "_chance_p95", "_p_value")


def is_chance_column(column) -> bool:
    """Whether ``column`` holds a chance level (``"<family>.<name>_chance"`` ...).

    Examples
    --------
    >>> is_chance_column("infomec.infom_chance"), is_chance_column("infomec.infom")
    (True, False)
    """
    return "." in str(column) and str(column).endswith(CHANCE_SUFFIXES)


def score_columns(frame) -> list[str]:
    """The score columns of a :func:`sweep` table (``"<family>.<name>"``), in order.

    A table from :func:`sweep` lists them in ``frame.attrs["score_columns"]`` (so that a
    manifest column such as ``kl.beta`` is not taken for a score); for any other table,
    numeric columns named ``"<family>.<name>"`` are, but for chance levels
    (:func:`is_chance_column`).
    """
    import pandas as pd

    listed = frame.attrs.get("score_columns")
    if listed is not None:
        return [column for column in listed if column in frame.columns]
    unique = ~frame.columns.duplicated(keep=False)
    return [
        column
        for column, keep in zip(frame.columns, unique, strict=True)
        if keep
        and "." in str(column)
        and column not in META_COLUMNS
        and column not in TAIL_COLUMNS
        and not is_chance_column(column)
        and pd.api.types.is_numeric_dtype(frame[column].dtype)
        and not pd.api.types.is_bool_dtype(frame[column].dtype)
    ]
