"""Interpret step for text labels: one normalisation of every text column, in every door.

Sources may be text (``"cube"``, ``"red"``). Files, pandas objects, numpy string and
object arrays and :class:`~infomec.Collector` batches all pass their text columns
through :func:`normalize_labels`, so the same labels give the same codes whichever way
they arrive:

- Unicode NFC (``"é"`` typed as ``e`` + combining accent is ``"é"``) and surrounding
  whitespace stripped;
- refused, naming the column and a row: empty labels, missing-value spellings (``nan``,
  ``NA``, ``N/A``, ``null``, ``None``, ``<NA>``, ``NaT``, in any case) and spreadsheet
  error values (``#N/A``, ``#DIV/0!``, ``#VALUE!``, ...);
- unified by value: a column whose labels are all numbers is read as numbers
  (``"1"``, ``"1.0"`` and ``"01"`` are one value); a column mixing numbers with text
  keeps text, with every number written one way (``"1.0"`` -> ``"1"``); booleans
  spelt ``true`` / ``TRUE`` / ``True`` are one value each;
- refused: a column mixing booleans with numbers (is ``1`` the same as ``True``?);
- warned: labels that differ only by case (``"Cube"`` / ``"cube"``), kept apart.

Examples
--------
>>> column = np.array([" cube", "cube ", "sphere"], dtype=object)
>>> normalize_labels(column, "'shape'").values.tolist()
['cube', 'cube', 'sphere']
>>> normalize_labels(np.array(["1", "1.0", "2"]), "'size'").values.tolist()
[1, 1, 2]
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from infomec._warnings import warn

#: Spellings of a missing value (compared after stripping, case-insensitively).
MISSING_SPELLINGS = frozenset(
    {
        "",
        "nan",
        "-nan",
        "+nan",
        "na",
        "n/a",
        "n.a.",
        "null",
        "none",
        "<na>",
        "nat",
        "nil",
        "missing",
    }
)
#: Spreadsheet error values (Excel, LibreOffice, Google Sheets), case-insensitive.
SPREADSHEET_ERRORS = re.compile(
    r"#(?:n/?a(?: n/a)?|null!|div/0!|value!|ref!|name\?|num!|getting_data|spill!|calc!"
    r"|field!|blocked!|unknown!|busy!|connect!|python!|error!?)",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_BOOLEANS = {"true": True, "false": False}


@dataclass(frozen=True)
class NormalizedLabels:
    """A text column after :func:`normalize_labels`.

    Attributes
    ----------
    values : ndarray
        ``str`` labels, or numbers (float64 / int64) / booleans when every label was one.
    notes : list of str
        What was changed, for the input digest (empty when nothing was).
    """

    values: np.ndarray
    notes: list[str] = field(default_factory=list)


def _as_text(value) -> str:
    """One cell as text; Python numbers and booleans written as their values."""
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _missing_value(value) -> bool:
    if value is None:
        return True
    if isinstance(value, (float, np.floating)) and not math.isfinite(float(value)):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def _canonical_number(text: str) -> float | None:
    if not _NUMBER.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def _number_text(number: float) -> str:
    return str(int(number)) if number.is_integer() and abs(number) < 2**63 else repr(number)


def normalize_labels(column: np.ndarray, label: str, *, what: str = "sources") -> NormalizedLabels:
    """Normalise one text (or object) column of labels; see the module text for the rules.

    Parameters
    ----------
    column : ndarray of shape (n_samples,)
        ``str``, ``bytes`` or object values (Python strings, numbers, booleans).
    label : str
        How messages name the column (``"'shape'"`` or a position).
    what : str, default="sources"
        The array's role, for messages.

    Returns
    -------
    NormalizedLabels

    Raises
    ------
    ValueError
        An empty or missing label, a spreadsheet error value, or booleans beside numbers.
    """
    # Work on the distinct cells only (columns have few labels and many rows).
    if column.dtype.kind == "O":
        for row, value in enumerate(column.tolist()):
            if _missing_value(value):
                raise ValueError(
                    f"{what} column {label} has a missing value ({value!r}) at row {row}"
                )
        cells = np.array([_as_text(value) for value in column.tolist()], dtype=str)
    else:
        cells = column.astype(str)
    distinct, inverse = np.unique(cells, return_inverse=True)
    inverse = inverse.ravel()
    normalized: list[str] = []
    stripped = nfc = 0
    for raw in distinct.tolist():
        text = unicodedata.normalize("NFC", raw)
        nfc += text != raw
        clean = text.strip()
        stripped += clean != text
        normalized.append(clean)
    for position, clean in enumerate(normalized):
        bad = None
        if clean.lower() in MISSING_SPELLINGS:
            bad = "an empty label" if not clean else f"a missing-value label {clean!r}"
        elif SPREADSHEET_ERRORS.fullmatch(clean):
            bad = f"a spreadsheet error value {clean!r}"
        if bad is not None:
            row = int(np.flatnonzero(inverse == position)[0])
            raise ValueError(
                f"{what} column {label} has {bad} at row {row}; fill or drop such rows first"
            )
    numbers = [_canonical_number(clean) for clean in normalized]
    booleans = [_BOOLEANS.get(clean.lower()) for clean in normalized]
    notes = []
    if stripped:
        notes.append(f"{stripped} labels stripped of surrounding spaces")
    if nfc:
        notes.append(f"{nfc} labels put in Unicode NFC form")
    is_number = [number is not None for number in numbers]
    is_boolean = [value is not None for value in booleans]
    if any(is_boolean) and any(is_number):
        first_bool = normalized[is_boolean.index(True)]
        first_number = normalized[is_number.index(True)]
        raise ValueError(
            f"{what} column {label} mixes booleans ({first_bool!r}) with numbers "
            f"({first_number!r}); write it one way (is {first_number} the same as "
            f"{first_bool}?)"
        )
    if all(is_number):
        values = np.asarray(numbers, dtype=np.float64)[inverse]
        if np.all(values == np.round(values)) and np.abs(values).max() < 2**53:
            values = values.astype(np.int64)
        notes.append("every label is a number: read as numbers")
        return NormalizedLabels(values, notes)
    if all(is_boolean):
        notes.append("every label is true/false: read as booleans")
        return NormalizedLabels(np.asarray(booleans, dtype=bool)[inverse], notes)
    spelled = []
    for position, clean in enumerate(normalized):
        if numbers[position] is not None:
            unified = _number_text(numbers[position])
        elif booleans[position] is not None:
            unified = "True" if booleans[position] else "False"
        else:
            unified = clean
        if unified != clean:
            spelled.append(f"{clean!r} -> {unified!r}")
        normalized[position] = unified
    if spelled:
        notes.append(f"numbers and booleans written one way: {', '.join(spelled[:3])}")
    values = np.asarray(normalized, dtype=str)[inverse]
    _warn_case_only(values, label, what, notes)
    return NormalizedLabels(values, notes)


def _warn_case_only(values: np.ndarray, label: str, what: str, notes: list[str]) -> None:
    """Warn when two labels differ only by case (they are kept as different values)."""
    seen: dict[str, str] = {}
    for value in np.unique(values).tolist():
        key = value.casefold()
        if key in seen:
            message = (
                f"{what} column {label} has labels that differ only by case ({seen[key]!r} and "
                f"{value!r}); they are kept as different values"
            )
            notes.append(message)
            warn(message)
            return
        seen[key] = value
