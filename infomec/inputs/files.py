"""Load latents and sources from .npz, .npy and delimited text files; write outputs atomically.

Files are recognised by their first bytes (a zip archive is read as ``.npz``, the
NumPy magic as ``.npy``), whatever their extension; other files are read as delimited
text when named ``.csv``, ``.tsv`` or ``.txt`` (see :mod:`infomec.inputs.text` for the
rules). Loading never unpickles (``allow_pickle=False``); every failure becomes a
one-line ``ValueError`` (or ``FileNotFoundError`` / ``IsADirectoryError``) naming the
file. A latents file that holds only ``sources`` (or the reverse) is refused as swapped.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from infomec._warnings import warn
from infomec.inputs.check import check_row_indexes
from infomec.inputs.formats import FORMATS, TABLE_KEY, array_names, read_arrays, sniff_format
from infomec.inputs.formats import SUFFIXES as FORMAT_SUFFIXES
from infomec.inputs.interpret import stack_columns
from infomec.inputs.text import read_text_table

NAME_KEYS = ("source_names", "latent_names")
SUFFIXES = (".npz", ".npy", ".csv", ".tsv", ".txt")
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
ROLES = ("latents", "sources")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip's first entry, or an empty zip
_NPY_MAGIC = b"\x93NUMPY"
_PICKLE_REFUSED = "{path}: contains an object (pickled) array, which is refused"


@dataclass(frozen=True)
class LoadedArray:
    """An array read from a file, with the column names the file carried (if any).

    ``names`` are the names for the role the file was loaded as; ``kind`` is the
    format read (``"npz"``, ``"npy"`` or ``"text"``); ``read`` says what was read, for
    provenance (:mod:`infomec.provenance`): ``{"format": kind}`` plus the ``.npz`` key
    (``"key"``) or, for text files, ``"header"`` (whether the first row was taken as
    column names), ``"columns"`` (the names, or null) and ``"index_col_dropped"``.
    """

    values: np.ndarray
    names: list[str] | None
    source_names: list[str] | None = None
    latent_names: list[str] | None = None
    kind: str = "npz"
    read: dict = field(default_factory=dict)
    row_index: np.ndarray | None = None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


def _check_path(path: Path) -> None:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a directory, expected a .npz, .npy or .csv file")


def detect_format(path: Path) -> str:
    """``"npz"``, ``"npy"`` or ``"text"``, from the file's first bytes and then its name."""
    _check_path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise OSError(f"{path}: cannot be read ({error.strerror or error})") from None
    other = sniff_format(path)  # .pt, HDF5, Parquet, Feather, safetensors (infomec.inputs.formats)
    if other is not None:
        return other
    suffix = path.suffix.lower()
    if head.startswith(_ZIP_MAGIC):
        found = "npz"
    elif head.startswith(_NPY_MAGIC):
        found = "npy"
    elif suffix in (".npz", ".npy"):
        if not head:
            raise ValueError(f"{path}: empty file")
        looks = " (it looks like text: name it .csv if it is one)" if _is_text(head) else ""
        raise ValueError(
            f"{path}: not a valid {suffix} file (it starts with neither the zip nor the "
            f"NumPy signature){looks}"
        )
    elif suffix in TEXT_SUFFIXES:
        return "text"
    elif suffix in FORMAT_SUFFIXES:  # named .pt, .h5, ... but not one (infomec.inputs.formats)
        raise ValueError(
            f"{path}: not a valid {FORMAT_SUFFIXES[suffix]} file (its first bytes are not "
            "those of one: corrupt or truncated?)"
        )
    else:
        raise ValueError(
            f"{path}: unsupported file type '{path.suffix}' (use .npz, .npy, .csv, .pt, "
            ".h5, .parquet, .feather or .safetensors)"
        )
    if suffix != f".{found}":
        warn(f"{path}: read as a .{found} file (its content), not by its name")
    return found


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in head


def _names_from(archive, key: str) -> list[str] | None:
    if key not in archive.files:
        return None
    names = archive[key]
    return [str(name) for name in np.asarray(names).ravel()]


def _other(role: str) -> str:
    return "sources" if role == "latents" else "latents"


def _refuse_swapped(path: Path, role: str, files: list[str]) -> None:
    """A file given as ``role`` that carries only the other role's array (or names)."""
    other = _other(role)
    if role in files:
        return
    own_names, other_names = f"{role[:-1]}_names", f"{other[:-1]}_names"
    if other in files:
        why = f"holds an array named '{other}' and none named '{role}'"
    elif other_names in files and own_names not in files:
        why = f"holds '{other_names}' (so it is a {other} file)"
    else:
        return
    raise ValueError(
        f"{path}: given as the {role} file but {why}: the latents and sources files look "
        "swapped (the order is LATENTS SOURCES)"
    )


def _choose_key(path: Path, archive, role: str, key: str | None) -> str:
    files = list(archive.files)
    duplicated = sorted({name for name in files if files.count(name) > 1})
    if duplicated:
        raise ValueError(f"{path}: holds several arrays named '{duplicated[0]}'")
    if key is not None:
        if key not in files:
            raise ValueError(f"{path}: no array named '{key}' (found: {', '.join(files)})")
        return key
    _refuse_swapped(path, role, files)
    data_keys = [name for name in files if name not in NAME_KEYS]
    if role in files:
        return role
    if len(data_keys) == 1:
        return data_keys[0]
    if not data_keys:
        raise ValueError(f"{path}: the .npz file holds no array")
    raise ValueError(
        f"{path}: holds several arrays ({', '.join(data_keys)}) and none is "
        f"named '{role}'; choose one with --{role}-key"
    )


def _load_npz(path: Path, role: str, key: str | None) -> LoadedArray:
    # np.load falls back to the .npy reader for non-zip files, whose error would then
    # (wrongly) talk about pickles: check the container first.
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path}: not a valid .npz file (not a zip archive)")
    try:
        with zipfile.ZipFile(path) as container:
            members = container.namelist()
        if members and not any(name.endswith(".npy") for name in members):
            raise ValueError(
                f"{path}: a zip archive without NumPy arrays, not an .npz file "
                "(a spreadsheet? save it as .csv)"
            )
        with np.load(path, allow_pickle=False) as archive:
            key = _choose_key(path, archive, role, key)
            values = archive[key]
            source_names = _names_from(archive, "source_names")
            latent_names = _names_from(archive, "latent_names")
    except ValueError as error:
        message = str(error)
        if "allow_pickle" in message or "Object arrays" in message:
            raise ValueError(_PICKLE_REFUSED.format(path=path)) from None
        if message.startswith(str(path)):
            raise
        raise ValueError(f"{path}: not a readable .npz file ({message})") from None
    except Exception as error:  # noqa: BLE001 - untrusted bytes: zlib, zipfile, tokenize...
        raise ValueError(f"{path}: corrupt or truncated .npz file ({_first_line(error)})") from None
    names = source_names if role == "sources" else latent_names
    names_key = f"{role[:-1]}_names" if names is not None else None
    read = {"format": "npz", "key": key, "names_key": names_key}
    return LoadedArray(values, names, source_names, latent_names, kind="npz", read=read)


def _load_npy(path: Path) -> LoadedArray:
    try:
        try:
            values = np.load(path, allow_pickle=False, mmap_mode="r")
        except ValueError as error:
            if "allow_pickle" in str(error) or "Object arrays" in str(error):
                raise
            # Zero-size arrays (and a few other headers) cannot be memory-mapped.
            values = np.load(path, allow_pickle=False)
    except ValueError as error:
        if "allow_pickle" in str(error) or "Object arrays" in str(error):
            raise ValueError(_PICKLE_REFUSED.format(path=path)) from None
        raise ValueError(f"{path}: not a readable .npy file ({error})") from None
    except Exception as error:  # noqa: BLE001 - untrusted bytes: header parser, mmap...
        raise ValueError(f"{path}: corrupt or truncated .npy file ({_first_line(error)})") from None
    return LoadedArray(values, None, kind="npy", read={"format": "npy"})


def _load_text(path: Path, role: str, header: bool | None, index_col, number) -> LoadedArray:
    table = read_text_table(path, role, header=header, index_col=index_col, **number)
    labels = table.names or [str(j + 1) for j in range(len(table.columns))]
    values = stack_columns(table.columns, f"{path}:", labels)
    read = {"format": "text", "columns": table.names, **table.reading}
    return LoadedArray(values, table.names, kind="text", read=read, row_index=table.row_index)


def index_col_for(index_col, role: str):
    """The index option of one role: ``index_col`` itself, or its entry for ``role`` when
    it is a mapping ``{"latents": .., "sources": ..}`` (options given per file)."""
    if isinstance(index_col, dict):
        return index_col.get(role, "auto")
    return index_col


def load_pair(
    latents_path: str | os.PathLike,
    sources_path: str | os.PathLike,
    **options,
) -> tuple[LoadedArray, LoadedArray]:
    """Load a latents file and its sources file, and compare their row indexes.

    ``options`` are :func:`load_array`'s (``latents_key`` / ``sources_key`` pick each
    file's key; ``index_col`` may be a mapping per role). Two text files that both carry
    a row index must carry the same one (see
    :func:`~infomec.inputs.check.check_row_indexes`).
    """
    keys = {
        "latents": options.pop("latents_key", None),
        "sources": options.pop("sources_key", None),
    }
    latents = load_array(latents_path, "latents", keys["latents"], **options)
    sources = load_array(sources_path, "sources", keys["sources"], **options)
    check_row_indexes(latents.row_index, sources.row_index, str(latents_path), str(sources_path))
    return latents, sources


def _load_other(path: Path, role: str, key: str | None, fmt: str) -> LoadedArray:
    """A file of :data:`infomec.inputs.formats.FORMATS`: its array chosen as an ``.npz`` key is."""
    from types import SimpleNamespace

    from infomec.inputs.frameworks import column_names, to_numpy

    if fmt in ("parquet", "feather"):
        table = read_arrays(path, fmt, key)[TABLE_KEY]
        names = column_names(table)
        read = {"format": fmt, "columns": names}
        return LoadedArray(to_numpy(table, f"{path}: {role}"), names, kind=fmt, read=read)
    if key is None:
        key = _choose_key(path, SimpleNamespace(files=array_names(path, fmt)), role, None)
    arrays = read_arrays(path, fmt, key)
    # Names lie beside the array: in its HDF5 group, at the top of a .pt dict.
    folder = key.strip("/").rpartition("/")[0] if fmt == "hdf5" else ""
    found = {
        name: [str(item) for item in np.asarray(arrays[f"{folder}/{name}".lstrip("/")]).ravel()]
        for name in NAME_KEYS
        if f"{folder}/{name}".lstrip("/") in arrays
    }
    names = found.get(f"{role[:-1]}_names")
    names_key = f"{role[:-1]}_names" if names is not None else None
    read = {"format": fmt, "key": key, "names_key": names_key}
    values = arrays[key.strip("/")] if fmt == "hdf5" else arrays[key]
    return LoadedArray(
        values,
        names,
        found.get("source_names"),
        found.get("latent_names"),
        kind=fmt,
        read=read,
    )


def load_array(
    path: str | os.PathLike,
    role: str,
    key: str | None = None,
    *,
    header: bool | None = None,
    index_col: str | int | None = "auto",
    decimal: str | None = None,
    thousands: str | None = None,
) -> LoadedArray:
    """Load the latents or sources array stored in ``path``.

    Parameters
    ----------
    path : str or path-like
        A ``.npz`` (key ``role``, or the only array; ``source_names`` /
        ``latent_names`` arrays are read as column names), ``.npy`` (memory-mapped) or
        delimited text file (``.csv``, ``.tsv``, ``.txt``; see
        :mod:`infomec.inputs.text`). The format is taken from the file's first bytes.
    role : {"latents", "sources"}
    key : str, optional
        Array name inside a ``.npz`` file.
    header : bool, optional
        Text files only: force a header row (True) or none (False); detected otherwise.
    index_col : "auto", "none", str or int, default "auto"
        Text files only: the row-index column to drop (``"auto"``: a pandas index).
        A column named or numbered here must be a row index; for a file of another
        format only ``"auto"`` / ``"none"`` are accepted.
    decimal, thousands : str, optional
        Text files only: the decimal mark and thousands separator, where detection
        finds them ambiguous.

    Returns
    -------
    LoadedArray

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> np.savez(os.path.join(folder, "z.npz"), latents=np.zeros((3, 2)))
    >>> load_array(os.path.join(folder, "z.npz"), "latents").values.shape
    (3, 2)
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}; got {role!r}")
    if header is not None and not isinstance(header, bool):
        raise ValueError(f"header must be True, False or None, got {header!r}")
    path = Path(path)
    index_col = index_col_for(index_col, role)
    found = detect_format(path)
    if found != "text" and index_col not in ("auto", "none", None):
        raise ValueError(
            f"{path}: index_col={index_col!r} applies to text files only (this is a .{found} "
            f"file); give it per file (CLI --{role}-index-col)"
        )
    if found in FORMATS:
        return _load_other(path, role, key, found)
    if found == "npz":
        return _load_npz(path, role, key)
    if key is not None:
        raise ValueError(f"{path}: --{role}-key applies to .npz files only")
    if found == "npy":
        return _load_npy(path)
    return _load_text(path, role, header, index_col, {"decimal": decimal, "thousands": thousands})


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Old name of :func:`infomec.outputs.write_file` (outputs live there now)."""
    from infomec.outputs import write_file

    write_file(path, text)


def write_bytes_atomic(path: str | os.PathLike, payload: bytes) -> None:
    """Old name of :func:`infomec.outputs.write_file` (outputs live there now)."""
    from infomec.outputs import write_file

    write_file(path, payload)
