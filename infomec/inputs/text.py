"""Read a delimited text file (CSV, TSV, whitespace) the way a person would expect.

The rules, in order (``README.md``, "Command line", repeats them):

1. **Text.** UTF-8 (a byte-order mark is skipped) or UTF-16 with its mark; anything
   else, or a file with NUL bytes, is refused. Line ends may be ``\\n``, ``\\r\\n`` or ``\\r``.
2. **Delimiter.** Among ``,`` ``;`` tab and runs of whitespace, the one that splits the
   first lines (up to 64) into the same number of fields, at least two (tab, then ``;``,
   then ``,``, then whitespace when several do). A file with none of them is one
   column; a file that uses another character (``|``, ``:``) is refused, naming it.
   With ``;`` or tab, decimal commas (``2,5``) are read as numbers.
3. **Header.** The first row is a header when it holds text, unless its text values
   recur below in their own columns (headerless categorical sources); when it is one
   field short of the rows (the index column's name left out); when it holds integers
   above columns that each hold non-integers (pandas' default names ``0, 1, ..``); or
   when it leaves a field empty that no later row leaves empty (``df.to_csv()``'s
   index column). Otherwise (every field a number) it is data. ``header=True`` /
   ``False`` forces either. A first line that starts with ``#`` (``np.savetxt``'s
   header) gives the names when its field count fits.
4. **Index column** (``index_col="auto"``): a first column named ``""`` or
   ``Unnamed: 0`` (or absent from a header one name short), or whose values are
   exactly ``0 .. N-1``, is a row index and is dropped with a warning naming it.
   ``"none"`` keeps every column; a name or a 0-based position drops that column.
5. **Values.** Empty fields, NaN and inf are refused, naming the column and data row.
   A trailing delimiter (an unnamed, all-empty last column) is ignored. Header names
   must be unique and non-empty.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from infomec._warnings import warn
from infomec.inputs.check import row_identifier

DELIMITERS = ("\t", ";", ",")
_SAMPLE_LINES = 64
_LINE_END = re.compile(r"\r\n|\r|\n")
# Excel's first line naming the delimiter: sep=; (sometimes quoted).
_SEP_LINE = re.compile(r'^\s*"?sep=(.)"?\s*$', re.IGNORECASE)
_SPECIAL = re.compile(r"^[+-]?(?:nan|inf|infinity)$", re.IGNORECASE)
_INDEX_NAMES = ("", "unnamed: 0")
# Characters that can separate columns in files infomec does not read.
_OTHER_SEPARATORS = "|:/!^~"


def _describe(delimiter: str | None) -> str:
    return {None: "whitespace", "\t": "tab", ";": "';'", ",": "','"}.get(delimiter, repr(delimiter))


@dataclass(frozen=True)
class Dialect:
    """How the file is split: delimiter (``None``: whitespace), decimal mark, thousands
    separator (``None``: none)."""

    delimiter: str | None
    decimal: str = "."
    thousands: str | None = None

    def split(self, line: str) -> list[str]:
        """Fields of one line (quotes honoured), stripped."""
        if self.delimiter is None:
            return line.split()
        row = next(csv.reader([line], delimiter=self.delimiter, skipinitialspace=True), [])
        return [field.strip() for field in row]

    def is_number(self, field: str) -> bool:
        return bool(_number_pattern(self.decimal, self.thousands).fullmatch(field)) or bool(
            _SPECIAL.match(field)
        )


def _number_pattern(decimal: str, thousands: str | None) -> re.Pattern:
    dot = re.escape(decimal) if decimal == "," else r"\."
    if decimal == ",":
        dot = r"[.,]" if thousands is None else ","  # '2.5' still reads in a ';' file
    whole = r"\d+" if thousands is None else rf"(?:\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+|\d+)"
    return re.compile(rf"[+-]?(?:{whole}{dot}?\d*|{dot}\d+)(?:[eE][+-]?\d+)?")


def decode(path: Path, raw: bytes) -> str:
    """The text of the file, or a one-line ``ValueError``."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path}: not UTF-8 text (byte {raw[error.start]:#04x} at offset {error.start}); "
            "save it as UTF-8 CSV"
        ) from None
    if "\x00" in text:
        raise ValueError(f"{path}: holds NUL bytes: a binary file, not a .csv file")
    return text


def _lines(text: str, limit: int) -> list[tuple[str, int]]:
    """Up to ``limit`` non-blank lines of ``text``, each with the offset just after it.

    Lines are found however long they are (a header of thousands of columns is one
    line), and only as far into the file as the ``limit``-th non-blank line.
    """
    found: list[tuple[str, int]] = []
    start = 0
    for match in _LINE_END.finditer(text):
        if text[start : match.start()].strip():
            found.append((text[start : match.start()], match.end()))
            if len(found) >= limit:
                return found
        start = match.end()
    if text[start:].strip():
        found.append((text[start:], len(text)))
    return found


def _field_counts(lines: list[str], delimiter: str) -> list[int]:
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter, skipinitialspace=True)
    return [len(row) for row in reader]


def detect_dialect(path: Path, sample: list[str]) -> Dialect:
    """The delimiter that splits every sample line into the same number (>= 2) of fields."""
    for delimiter in DELIMITERS:
        counts = _field_counts(sample, delimiter)
        # The header may be one field short: R's write.csv leaves the index unnamed.
        body = counts[1:] or counts
        if min(body) == max(body) >= 2 and counts[0] in (body[0], body[0] - 1):
            return Dialect(delimiter)
    split = [line.split() for line in sample]
    counts = [len(fields) for fields in split]
    body = counts[1:] or counts
    if min(body) == max(body) >= 2 and counts[0] in (body[0], body[0] - 1):
        return Dialect(None)
    used = [d for d in DELIMITERS if max(_field_counts(sample, d)) >= 2]
    numbers_only = all(Dialect(None).is_number(field) for fields in split for field in fields)
    if not used and max(map(len, split)) >= 2 and numbers_only:
        used = [None]
    if not used:
        for other in _OTHER_SEPARATORS:
            per_line = {line.count(other) for line in sample}
            if len(per_line) == 1 and per_line.pop() > 0:
                raise ValueError(
                    f"{path}: columns look separated by {other!r}, which is not read; "
                    "use ',', ';', tab or spaces"
                )
        return Dialect(",")  # one column
    delimiter = used[0]
    if delimiter is not None:
        counts = _field_counts(sample, delimiter)
    odd = next(n for n, count in enumerate(counts) if count != counts[0])
    raise ValueError(
        f"{path}: rows split by {_describe(delimiter)} have different numbers of fields "
        f"({counts[0]} in the first non-blank line, {counts[odd]} in non-blank line {odd + 1})"
    )


_COMMA_DECIMAL = re.compile(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d*),\d+(?:[eE][+-]?\d+)?")
_DOTTED = re.compile(r"[+-]?\d+(?:\.\d+)+")
_DOT_THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2}(?:\.\d{3})+")
_COMMA_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")


def number_format(
    path: Path,
    dialect: Dialect,
    sample: list[str],
    decimal: str | None = None,
    thousands: str | None = None,
) -> Dialect:
    """The dialect with its decimal mark and thousands separator, detected or as given.

    - ``,``-delimited: the decimal mark is ``.``; a (quoted) field such as ``"1,234"``
      means ``,`` separates thousands.
    - ``;``, tab or whitespace: a field such as ``2,5`` means decimal commas (and then
      ``1.234,5`` a ``.`` thousands separator). Without decimal commas, fields with
      dots whose every group after the first has three digits (``1.000``, ``12.500``)
      are ambiguous -- thousands or decimals? -- unless one has two dots (``1.000.000``:
      thousands); ambiguous files are refused, naming a field, and read with
      ``decimal=`` / ``thousands=`` (CLI ``--decimal``, ``--thousands``).
    """
    if decimal is not None or thousands is not None:
        decimal = decimal or ("," if thousands == "." else ".")
        thousands = thousands or None  # "": no thousands separator, as asked
        if thousands == decimal:
            raise ValueError(
                f"{path}: the decimal mark and thousands separator are both {decimal!r}"
            )
        return Dialect(dialect.delimiter, decimal, thousands)
    fields = [field for line in sample for field in dialect.split(line)]
    if dialect.delimiter == ",":
        grouped = any(_COMMA_THOUSANDS.fullmatch(field) for field in fields)
        return Dialect(",", ".", "," if grouped else None)
    commas = [field for field in fields if _COMMA_DECIMAL.fullmatch(field)]
    dotted = [field for field in fields if _DOTTED.fullmatch(field)]
    grouped = [field for field in dotted if _DOT_THOUSANDS.fullmatch(field)]
    if dialect.delimiter is not None and commas:
        grouped_commas = any("." in field for field in commas)  # 1.234,5
        if grouped_commas or (dotted and len(grouped) == len(dotted)):
            return Dialect(dialect.delimiter, ",", ".")
        return Dialect(dialect.delimiter, ",", None)
    if dotted and len(grouped) == len(dotted):
        if any(field.count(".") > 1 for field in grouped):
            return Dialect(dialect.delimiter, ",", ".")
        raise ValueError(
            f"{path}: numbers such as {grouped[0]!r} can be read with '.' as the decimal "
            f"mark or as a thousands separator ({grouped[0].replace('.', '')}); say which "
            "with --decimal . or --thousands . (API: decimal= / thousands=)"
        )
    return Dialect(dialect.delimiter, ".", None)


_INTEGER = re.compile(r"[+-]?\d+")


def _has_header(first: list[str], rows: list[list[str]], dialect: Dialect) -> bool:
    """Whether the first row names the columns (see rule 3 of the module docstring)."""
    if rows and len(first) == len(rows[0]) - 1:
        return True  # one field short: the names skip the index column (R's write.csv)
    columns = [[row[j] for row in rows if j < len(row)] for j in range(len(first))]
    non_empty = [field for field in first if field]
    if any(not dialect.is_number(field) for field in non_empty):
        # Text: a header, unless its values recur below in their own columns (headerless
        # categorical sources repeat 'red'; a column name does not reappear as a value).
        pairs = zip(first, columns, strict=True)
        return not any(field and field in column for field, column in pairs)
    # pandas' default names 0, 1, .. above columns that each hold non-integers; other
    # integers (and any integers above integer data) are data.
    default_names = [str(j) for j in range(len(non_empty))]
    if non_empty and rows and non_empty == default_names:
        if all(
            any(value and not _INTEGER.fullmatch(value) for value in column)
            for field, column in zip(first, columns, strict=True)
            if field
        ):
            return True
    # An empty field where no later row has one: the index column's blank header.
    return any(
        not field and column and all(column) for field, column in zip(first, columns, strict=True)
    )


@dataclass(frozen=True)
class Layout:
    """Where the data start, the header names (if any) and the dialect."""

    dialect: Dialect
    names: list[str] | None
    data_offset: int
    header_why: str = ""
    sep_line: str | None = None


def layout(
    path: Path,
    text: str,
    header: bool | None,
    decimal: str | None = None,
    thousands: str | None = None,
) -> Layout:
    """Find the dialect, the header row and the offset of the first data line."""
    lines = _lines(text, _SAMPLE_LINES)
    if not lines:
        raise ValueError(f"{path}: empty file")
    given = None
    sep_line = _SEP_LINE.match(lines[0][0])
    if sep_line is not None:  # Excel's "sep=;" names the delimiter
        given, lines = sep_line.group(1), lines[1:]
        if not lines:
            raise ValueError(f"{path}: no data rows (only a 'sep=' line)")
    comment = None
    if lines[0][0].lstrip().startswith("#"):  # np.savetxt(header=...) writes "# a,b"
        comment, lines = lines[0], lines[1:]
        if not lines:
            raise ValueError(f"{path}: no data rows (only a '#' line)")
    sample = [line for line, _ in lines]
    dialect = Dialect(given) if given is not None else detect_dialect(path, sample)
    dialect = number_format(path, dialect, sample, decimal, thousands)
    first = dialect.split(sample[0])
    rows = [dialect.split(line) for line in sample[1:]]
    if comment is not None:
        names = dialect.split(comment[0].lstrip()[1:].strip())
        keep = header is not False and len(names) == len(first)
        return Layout(dialect, names if keep else None, comment[1], "a '#' line", given)
    why = "as asked"
    if header is None:
        header = _has_header(first, rows, dialect)
        why = "detected: " + (
            "the first row names the columns"
            if header
            else "every field of the first row is a number"
        )
        if not header and len(first) >= 2 and first == [str(j) for j in range(len(first))]:
            _warn(
                f"{path}: the first row is {','.join(first)}, read as data; if these are "
                "column names (pandas writes 0,1,.. for unnamed columns), pass --header "
                "(API: header=True)"
            )
    if not header:
        start = 0 if sep_line is None else _offset_after_sep(text)
        return Layout(dialect, None, start, why, given)
    if len(lines) == 1:
        raise ValueError(f"{path}: a header row and no data rows")
    return Layout(dialect, first, lines[0][1], why, given)


def _offset_after_sep(text: str) -> int:
    match = _LINE_END.search(text)
    return match.end() if match else len(text)


def _read_frame(path: Path, buffer: io.IOBase, dialect: Dialect):
    """Parse ``buffer`` from its position (the first data line) with pandas' C parser."""
    import pandas as pd  # slow import; only paid by CSV users

    options = {
        "header": None,
        "keep_default_na": False,  # "NA", "None", "null" are labels, not missing values
        "na_values": [""],
        "skipinitialspace": True,
        "decimal": dialect.decimal,
    }
    if dialect.thousands is not None:
        options["thousands"] = dialect.thousands
    if int(pd.__version__.split(".")[0]) < 3:  # pandas 3 parses floats exactly already
        options["float_precision"] = "round_trip"
    if dialect.delimiter is None:
        options["sep"] = r"\s+"
    else:
        options["sep"] = dialect.delimiter
    try:
        return pd.read_csv(buffer, encoding="utf-8", **options)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: no data rows") from None
    except Exception as error:  # noqa: BLE001 - untrusted bytes: parser errors
        text = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ValueError(f"{path}: malformed .csv file ({type(error).__name__}: {text})") from None


def _align_names(path: Path, names: list[str], n_columns: int) -> tuple[list[str], bool]:
    """Header names for ``n_columns`` columns, and whether column 0 is an unnamed index."""
    names = list(names)
    while len(names) > n_columns and names[-1] == "":  # trailing delimiter in the header
        names.pop()
    if len(names) == n_columns - 1:  # R's write.csv / pandas: the index has no header field
        return ["", *names], True
    if len(names) != n_columns:
        raise ValueError(
            f"{path}: the header has {len(names)} names but the rows have {n_columns} fields"
        )
    return names, False


def _drop_trailing_empty(frame, names: list[str] | None):
    """Trailing delimiters (one, or Excel's several) add unnamed, all-empty last columns."""
    while frame.shape[1] >= 2 and frame.iloc[:, -1].isna().all():
        if names is not None and names[-1] != "":
            break
        frame = frame.iloc[:, :-1]
        names = None if names is None else names[:-1]
    return frame, names


#: Rows needed before an arithmetic sequence other than 0..N-1 / 1..N is taken for ids.
_MIN_ID_ROWS = 10


def _is_row_index(column) -> bool:
    """Row numbers: distinct integers in an arithmetic sequence once sorted (0..N-1,
    R's 1..N, ids from any start, in any order; np.savetxt writes them as floats).
    Other sequences than 0..N-1 and 1..N count from :data:`_MIN_ID_ROWS` rows on."""
    values = column.to_numpy()
    if values.dtype.kind not in "iuf":
        return False
    found = row_identifier(values)
    if found is None:
        return False
    return found in ((0, 1), (1, 1)) or values.shape[0] >= _MIN_ID_ROWS


def _fits_index(column) -> bool:
    """Whether a column asked for as the row index can be one: unique row labels
    (integers or text, not measurements)."""
    values = column.to_numpy()
    if not column.is_unique:
        return False
    if values.dtype.kind == "f":
        return bool(np.all(values == np.round(values)))
    return True


def _index_position(
    path: Path, frame, names: list[str] | None, index_col, unnamed_index: bool
) -> tuple[int | None, str]:
    """Which column is a row index (None: none) and why, under ``index_col``."""
    n_columns = frame.shape[1]
    if index_col is None or index_col == "none":
        return None, ""
    if isinstance(index_col, (int, np.integer)) and not isinstance(index_col, bool):
        if not 0 <= index_col < n_columns:
            raise ValueError(
                f"{path}: index_col={index_col} is out of range ({n_columns} columns, "
                "counted from 0)"
            )
        _check_fits(path, frame, int(index_col), names)
        return int(index_col), "as asked"
    if not isinstance(index_col, str):
        raise ValueError(
            f"index_col must be 'auto', 'none', a column name or a 0-based position; "
            f"got {index_col!r}"
        )
    if index_col != "auto":
        if names is None or index_col not in names:
            found = "it has no header" if names is None else f"columns: {', '.join(names)}"
            raise ValueError(f"{path}: no column named {index_col!r} for index_col ({found})")
        _check_fits(path, frame, names.index(index_col), names)
        return names.index(index_col), "as asked"
    if n_columns < 2:
        return None, ""
    if unnamed_index and not frame.iloc[:, 0].is_unique:
        # Row names are unique; a repeating first column under a header one name short
        # is more likely a misread delimiter (a one-column file with decimal commas).
        raise ValueError(
            f"{path}: the header has {len(names) - 1} names but the rows have "
            f"{n_columns} fields, and the first column repeats values, so it is not a "
            "row index; check the delimiter (decimal commas need ';' or tab between "
            "columns)"
        )
    if unnamed_index or (names is not None and names[0].strip().lower() in _INDEX_NAMES):
        return 0, "it has no name in the header: a row index, as df.to_csv() writes it"
    if frame.shape[0] >= 3 and _is_row_index(frame.iloc[:, 0]):
        first, step = row_identifier(frame.iloc[:, 0].to_numpy())
        last = first + step * (frame.shape[0] - 1)
        return 0, f"its values are the distinct integers {first}..{last}: a row index"
    return None, ""


def _check_fits(path: Path, frame, position: int, names: list[str] | None) -> None:
    """An index column asked for must be one: never drop a data column instead."""
    column = frame.iloc[:, position]
    if _fits_index(column):
        return
    label = _column_label(names, position)
    why = "repeats values" if not column.is_unique else "holds measurements, not row labels"
    raise ValueError(
        f"{path}: column {label} {why}, so it is not a row index; --index-col does not fit "
        "this file (give it per file: --latents-index-col / --sources-index-col)"
    )


def _missing_message(path: Path, label: str, row: int) -> str:
    return f"{path}: empty value in column {label} (data row {row + 1})"


def _column_array(path: Path, column, label: str, role: str) -> np.ndarray:
    """One column as a numpy array; missing values and NaN/inf refused."""
    missing = np.flatnonzero(column.isna().to_numpy())
    if missing.size:
        raise ValueError(_missing_message(path, label, int(missing[0])))
    values = column.to_numpy()
    if values.dtype.kind in "biuf":
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            row = int(np.flatnonzero(~np.isfinite(values))[0])
            bad = "NaN" if np.isnan(values[row]) else "inf"
            raise ValueError(f"{path}: column {label} contains {bad} (data row {row + 1})")
        return values
    text = np.char.strip(values.astype(str))
    special = np.array([bool(_SPECIAL.match(value.strip())) for value in text])
    if special.any():
        row = int(np.flatnonzero(special)[0])
        bad = "NaN" if "nan" in text[row].lower() else "inf"
        raise ValueError(f"{path}: column {label} contains {bad} (data row {row + 1})")
    if role == "latents":
        if all(_ASCII_INTEGER.fullmatch(value.strip()) for value in text):
            huge = next((value for value in text if abs(int(value)) >= 2**63), text[0])
            raise ValueError(
                f"{path}: column {label} holds integers beyond 64 bits (e.g. {huge.strip()})"
            )
        bad = next(n for n, value in enumerate(text) if not _is_plain_number(value))
        raise ValueError(
            f"{path}: latents column {label} holds text ({str(text[bad])!r} in data row "
            f"{bad + 1}); latents must be plain decimal numbers"
        )
    # Labels as written: infomec.inputs.labels normalises them (the same in every door)
    # and records what it changed in the input digest.
    return values.astype(str)


_ASCII_INTEGER = re.compile(r"[+-]?[0-9]+")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _is_plain_number(value: str) -> bool:
    """What the parser reads as a number: ASCII digits, no '_' (Python's float() also
    takes '1_000' and other scripts' digits, which the column's parse did not)."""
    return bool(_PLAIN_NUMBER.fullmatch(value.strip()))


@dataclass(frozen=True)
class TextTable:
    """The columns read from a delimited text file."""

    columns: list[np.ndarray]
    names: list[str] | None
    dropped: str | None
    row_index: np.ndarray | None = None
    reading: dict = field(default_factory=dict)


def read_text_table(
    path: Path,
    role: str,
    *,
    header: bool | None = None,
    index_col="auto",
    decimal: str | None = None,
    thousands: str | None = None,
) -> TextTable:
    """Read ``path`` by the module's rules into one array per column.

    Parameters
    ----------
    path : Path
    role : {"latents", "sources"}
        Latents must be numbers; sources may be text.
    header : bool, optional
        Force a header row (True) or none (False); detected by default.
    index_col : "auto", "none", str or int, default "auto"
        Which column is a row index to drop (see the module docstring). A column named
        or numbered here must be one (unique integers or labels), else it is refused.
    decimal, thousands : str, optional
        The decimal mark and thousands separator, when detection finds them ambiguous.

    Returns
    -------
    TextTable
        With ``row_index`` (the dropped index column's values, to compare with the
        other file's) and ``reading`` (how the file was read, for the input digest).
    """
    raw = path.read_bytes()
    text = decode(path, raw)  # decodes the whole file once: a bad byte anywhere is refused
    try:
        found = layout(path, text, header, decimal, thousands)
    except csv.Error as error:  # e.g. a field over csv's size limit
        raise ValueError(f"{path}: malformed .csv file ({error})") from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16: rare, parse the decoded text
        buffer: io.IOBase = io.StringIO(text)
        buffer.seek(found.data_offset)
    else:  # UTF-8: pandas parses the bytes themselves (a str copy would take 4x the file)
        bom = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
        buffer = io.BytesIO(raw)
        buffer.seek(bom + len(text[: found.data_offset].encode("utf-8")))
    del text
    frame = _read_frame(path, buffer, found.dialect)
    if frame.shape[0] == 0:
        raise ValueError(f"{path}: no data rows")
    names, unnamed_index = found.names, False
    if names is not None:
        names, unnamed_index = _align_names(path, names, frame.shape[1])
    width = frame.shape[1]
    frame, names = _drop_trailing_empty(frame, names)
    trailing = width - frame.shape[1]
    position, why = _index_position(path, frame, names, index_col, unnamed_index)
    dropped = row_index = None
    if position is not None:
        dropped = _column_label(names, position)
        row_index = frame.iloc[:, position].to_numpy()
        keep = [j for j in range(frame.shape[1]) if j != position]
        if not keep:
            raise ValueError(f"{path}: no column left after dropping the index column")
        if why != "as asked":
            _warn(
                f"{path}: dropped column {dropped} ({why}); pass --index-col none "
                "(API: index_col='none') to keep it (infomec inspect shows the reading)"
            )
        frame = frame.iloc[:, keep]
        names = None if names is None else [names[j] for j in keep]
    if names is not None:
        _check_header_names(path, names)
    columns = [
        _column_array(path, frame.iloc[:, j], _column_label(names, j), role)
        for j in range(frame.shape[1])
    ]
    dialect = found.dialect
    reading = {
        "delimiter": _describe(dialect.delimiter),
        "decimal": dialect.decimal,
        "thousands": dialect.thousands,
        "sep_line": found.sep_line is not None,
        "header": found.names is not None,
        "header_why": found.header_why,
        "index_col_dropped": dropped,
        "index_why": why or None,
        "empty_trailing_columns_dropped": trailing,
        "rows": int(frame.shape[0]),
        "n_columns": len(columns),
    }
    return TextTable(columns, names, dropped, row_index, reading)


def _column_label(names: list[str] | None, j: int) -> str:
    if names is None:
        return str(j + 1)
    return f"'{names[j]}'" if names[j] else str(j + 1)


def _check_header_names(path: Path, names: list[str]) -> None:
    for position, name in enumerate(names):
        if not name:
            raise ValueError(
                f"{path}: column {position + 1} has no name in the header"
                + (" (a row index? --index-col auto drops it)" if position == 0 else "")
            )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{path}: the header names column '{name}' twice")
        seen.add(name)


def _warn(message: str) -> None:
    warn(message)
