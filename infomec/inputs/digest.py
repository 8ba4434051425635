"""The input digest: how every input was read, column by column, for the user to check.

Each heuristic of the input layer (delimiter, header, index column, code or continuous
latents, label normalisation, pruning) picks one reading; the digest shows which one
and why, so that a user can catch a wrong guess. Every :class:`~infomec.ScoreResult`
carries one (``result.digest``; ``"input_digest"`` in JSON), ``infomec inspect FILE
[FILE]`` prints it without scoring, and the HTML report shows it.

A digest is a plain JSON-ready dict::

    {"rows": N,
     "files": {"latents": {"format": "text", "delimiter": ",", ...}, ...},
     "latents": [{"name", "dtype", "distinct", "min", "max", "kind", "why",
                  "status", "notes"}, ...],
     "sources": [{"name", "dtype", "distinct", "min", "max", "kind", "notes"}, ...],
     "warnings": [...]}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

#: Columns listed one by one in a digest; wider inputs list the first ones and a count.
MAX_LISTED_COLUMNS = 1000
#: Cells sorted at once when counting distinct values (bounded memory on wide inputs).
_CHUNK_CELLS = 1 << 24


def _plain(value) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _chunks(n_rows: int, n_columns: int) -> Iterator[slice]:
    width = max(1, _CHUNK_CELLS // max(n_rows, 1))
    for start in range(0, n_columns, width):
        yield slice(start, min(start + width, n_columns))


#: Cells sorted to count distinct values; beyond it the digest says "not counted" (-1),
#: so that the digest never costs more than a small part of a score.
MAX_COUNTED_CELLS = 1 << 25


def column_stats(array: np.ndarray, limit: int = MAX_LISTED_COLUMNS) -> dict[str, np.ndarray]:
    """Distinct counts, minima and maxima of the first ``limit`` numeric columns.

    Columns are sorted a chunk at a time, so memory stays bounded on wide inputs;
    beyond :data:`MAX_COUNTED_CELLS` cells distinct values are not counted (-1).
    """
    listed = array[:, : min(limit, array.shape[1])]
    distinct = np.full(listed.shape[1], -1, dtype=np.int64)
    lows = np.array([_plain(v) for v in listed.min(axis=0)] or [], dtype=object)
    highs = np.array([_plain(v) for v in listed.max(axis=0)] or [], dtype=object)
    if listed.size <= MAX_COUNTED_CELLS:
        for columns in _chunks(listed.shape[0], listed.shape[1]):
            ordered = np.sort(listed[:, columns], axis=0)
            distinct[columns] = 1 + np.count_nonzero(ordered[1:] != ordered[:-1], axis=0)
    return {"distinct": distinct, "min": lows, "max": highs}


def latent_records(
    latents: np.ndarray, names: Sequence[str], discrete: bool, why: str
) -> list[dict[str, Any]]:
    """One record per latent column (the first :data:`MAX_LISTED_COLUMNS`)."""
    stats = column_stats(latents)
    kind = "code" if discrete else "continuous"
    return [
        {
            "name": names[j],
            "dtype": str(latents.dtype),
            "distinct": int(stats["distinct"][j]),
            "min": stats["min"][j],
            "max": stats["max"][j],
            "kind": kind,
            "why": why,
            "status": "active",
            "notes": [],
        }
        for j in range(stats["distinct"].shape[0])
    ]


def source_records(
    columns: Sequence[np.ndarray], names: Sequence[str], notes: Sequence[list[str]]
) -> list[dict[str, Any]]:
    """One record per source column, with the normalisations applied to it."""
    records = []
    for column, name, note in zip(columns, names, notes, strict=True):
        distinct = np.unique(column)
        records.append(
            {
                "name": name,
                "dtype": str(column.dtype),
                "distinct": int(distinct.size),
                "min": _plain(distinct[0]),
                "max": _plain(distinct[-1]),
                "kind": "label" if column.dtype.kind in "US" else "code",
                "notes": list(note),
            }
        )
    return records


def file_digest(record: dict[str, Any]) -> dict[str, Any]:
    """How one input file was read, from its provenance record
    (:func:`infomec.provenance.file_record`): path, format and, for text files, the
    delimiter, header, index column dropped, rows."""
    read = dict(record.get("read", {}))
    read.pop("columns", None)
    return {"path": record.get("path"), **read}


def digest_with_files(digest: dict, records: dict[str, dict[str, Any]]) -> dict:
    """``digest`` with how each input file was read (``records`` by role)."""
    return {**digest, "files": {role: file_digest(record) for role, record in records.items()}}


def mark_pruning(digest: dict, active: np.ndarray, rule: str, notes: dict[int, str]) -> None:
    """Record which latents the pruning rule keeps (``status``) and why others are out."""
    for j, record in enumerate(digest.get("latents", [])):
        if active[j]:
            record["status"] = "active"
        else:
            record["status"] = f"pruned ({rule})"
        if j in notes:
            record["notes"].append(notes[j])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= 16 else text[:15] + "…"


def describe_file(read: dict[str, Any]) -> str:
    """One line on how a file was read, e.g. ``text, ',' delimited, header (detected:
    first row names the columns), index column 1 dropped (...), 5000 rows``."""
    if read.get("format") != "text":
        parts = [str(read.get("format", "?"))]
        if read.get("key"):
            parts.append(f"array {read['key']!r}")
        if read.get("names_key"):
            parts.append(f"names from {read['names_key']!r}")
        return ", ".join(parts)
    parts = [f"text, {read.get('delimiter')} delimited"]
    if read.get("sep_line"):
        parts[-1] += " (Excel 'sep=' line)"
    if read.get("decimal") == ",":
        parts.append("decimal commas")
    if read.get("thousands"):
        parts.append(f"{read['thousands']!r} thousands separator")
    parts.append(
        ("header" if read.get("header") else "no header") + f" ({read.get('header_why', '')})"
    )
    if read.get("index_col_dropped"):
        parts.append(f"index column {read['index_col_dropped']} dropped ({read['index_why']})")
    if read.get("empty_trailing_columns_dropped"):
        parts.append(f"{read['empty_trailing_columns_dropped']} empty trailing columns ignored")
    if "rows" in read:
        parts.append(f"{read['rows']} rows")
    return ", ".join(parts)


def format_digest(digest: dict) -> str:
    """The digest as aligned text (what ``infomec inspect`` prints).

    Examples
    --------
    >>> digest = {"rows": 3, "files": {}, "warnings": [], "sources": [],
    ...           "latents": [{"name": "z0", "dtype": "float64", "distinct": 3, "min": 0.0,
    ...                        "max": 1.0, "kind": "continuous", "why": "float dtype",
    ...                        "status": "active", "notes": []}]}
    >>> print(format_digest(digest).splitlines()[0])
    3 rows
    """
    lines = [f"{digest.get('rows', '?')} rows"]
    for role, record in digest.get("files", {}).items():
        lines.append(f"{role}: {record.get('path', '')} ({describe_file(record)})")
    for role in ("latents", "sources"):
        records = digest.get(role, [])
        if not records:
            continue
        lines.append("")
        header = ["column", "dtype", "distinct", "min", "max", "read as"]
        if role == "latents":
            header.append("status")
        rows = [header]
        for record in records:
            kind = record["kind"] + (f" ({record['why']})" if record.get("why") else "")
            row = [
                record["name"],
                record["dtype"],
                str(record["distinct"]) if record["distinct"] >= 0 else "not counted",
                _cell(record["min"]),
                _cell(record["max"]),
                kind,
            ]
            if role == "latents":
                row.append(record["status"])
            rows.append(row)
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines.append(f"{role}:")
        for row in rows:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            lines.append(("  " + "  ".join(cells)).rstrip())
        for record in records:
            for note in record["notes"]:
                lines.append(f"  {record['name']}: {note}")
        hidden = digest.get(f"{role}_not_listed", 0)
        if hidden:
            lines.append(f"  ... and {hidden} more columns")
    for message in digest.get("warnings", []):
        lines.append(f"warning: {message}")
    return "\n".join(lines)
