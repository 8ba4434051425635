"""Read the array files researchers save: PyTorch, HDF5, Parquet, Feather, safetensors.

:func:`sniff_format` names a file's format from its first bytes (never its name), and
:func:`read_arrays` reads it into numpy arrays (or a pandas DataFrame for the table
formats); :func:`array_names` lists what a file holds without reading the data. Each
format needs its own library, which lives in an optional extra; a missing one gives a
one-line ``ValueError`` naming the extra to install:

=============== ======================================= ===============================
format          read with                               extra
=============== ======================================= ===============================
``torch``       ``torch.load(weights_only=True)``       ``pip install 'infomec[models]'``
``hdf5``        h5py                                    ``pip install 'infomec[files]'``
``parquet``     pandas with pyarrow                     ``pip install 'infomec[files]'``
``feather``     pandas with pyarrow                     ``pip install 'infomec[files]'``
``safetensors`` ``safetensors.numpy``                   ``pip install 'infomec[files]'``
=============== ======================================= ===============================

Nothing here imports torch, h5py, pyarrow or safetensors until a file of that format
is read, so ``import infomec`` and reading an ``.npz`` file never load them. PyTorch
files are read with ``weights_only=True``: tensors, numpy arrays and lists of names
load, any other pickled object is refused (never executed). Every failure is a one-line
``ValueError`` naming the file.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FORMATS", "SINGLE_ARRAY_KEY", "array_names", "read_arrays", "sniff_format"]

#: The formats :func:`sniff_format` recognises, with the extra that reads each.
FORMATS = {
    "torch": "models",
    "hdf5": "files",
    "parquet": "files",
    "feather": "files",
    "safetensors": "files",
}

#: File name endings of each format: a file so named whose content is not that format
#: is refused as corrupt rather than as an unknown kind of file.
SUFFIXES = {
    ".pt": "torch",
    ".pth": "torch",
    ".h5": "hdf5",
    ".hdf5": "hdf5",
    ".hdf": "hdf5",
    ".parquet": "parquet",
    ".feather": "feather",
    ".arrow": "feather",
    ".safetensors": "safetensors",
}

#: The key of the one array in a PyTorch file that holds a bare tensor (not a dict).
SINGLE_ARRAY_KEY = "tensor"

#: The key of the table read from a Parquet or Feather file.
TABLE_KEY = "table"

_LIBRARIES = {"torch": "torch", "hdf5": "h5py", "parquet": "pyarrow", "feather": "pyarrow"}
_LIBRARIES["safetensors"] = "safetensors"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
# An HDF5 file may start with a user block of 512, 1024, 2048, ... bytes.
_HDF5_OFFSETS = (0, 512, 1024, 2048, 4096)
# torch.save's legacy (non-zip) format: a protocol-2 pickle of torch's magic number.
_TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_SAFETENSORS_MAX_HEADER = 100 * 1024 * 1024  # the safetensors library's own limit
NAME_KEYS = ("source_names", "latent_names")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


def _is_torch_zip(path: Path, head: bytes) -> bool:
    """torch.save's zip archives hold ``<name>/data.pkl``; an ``.npz`` holds ``.npy`` files."""
    # The first entry's name is in its local header (a truncated archive still has it):
    # torch writes data.pkl first.
    if head.startswith(b"PK\x03\x04") and len(head) >= 30:
        (length,) = struct.unpack("<H", head[26:28])
        if head[30 : 30 + length].endswith(b"data.pkl"):
            return True
    try:
        with zipfile.ZipFile(path) as archive:
            return any(
                name.endswith("/data.pkl") or name == "data.pkl" for name in archive.namelist()
            )
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _is_safetensors(head: bytes, size: int) -> bool:
    """An 8-byte little-endian header length, then that many bytes of JSON object."""
    if len(head) < 10:
        return False
    (length,) = struct.unpack("<Q", head[:8])
    return 2 <= length <= min(size - 8, _SAFETENSORS_MAX_HEADER) and head[8:9] == b"{"


def sniff_format(path: str | os.PathLike) -> str | None:
    """The format of ``path`` from its content, or None for any other file.

    Parameters
    ----------
    path : str or path-like
        An existing file.

    Returns
    -------
    str or None
        ``"torch"`` (a ``torch.save`` zip archive or legacy pickle stream), ``"hdf5"``,
        ``"parquet"``, ``"feather"`` (Arrow IPC, or Feather version 1) or
        ``"safetensors"``; None for anything else (``.npz``, ``.npy`` and text files
        included, which :mod:`infomec.inputs.files` reads itself).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "table.parquet")
    >>> with open(path, "wb") as handle:
    ...     _ = handle.write(b"PAR1" + bytes(8) + b"PAR1")
    >>> sniff_format(path)
    'parquet'
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(512)
            at_offsets = []
            for offset in _HDF5_OFFSETS[1:]:
                handle.seek(offset)
                at_offsets.append(handle.read(len(_HDF5_MAGIC)))
    except OSError:
        return None
    if head.startswith(_HDF5_MAGIC) or _HDF5_MAGIC in at_offsets:
        return "hdf5"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith((b"ARROW1", b"FEA1")):
        return "feather"
    if head.startswith(_TORCH_LEGACY_MAGIC):
        return "torch"
    if head.startswith(_ZIP_MAGIC):
        return "torch" if _is_torch_zip(path, head) else None
    if _is_safetensors(head, size):
        return "safetensors"
    return None


def _require(fmt: str, path: Path) -> Any:
    """Import the library that reads ``fmt``, or refuse in one line naming the extra."""
    library = _LIBRARIES[fmt]
    if importlib.util.find_spec(library) is None:
        hint = (
            " (CPU-only build: pip install torch --index-url https://download.pytorch.org/whl/cpu)"
            if fmt == "torch"
            else ""
        )
        raise ValueError(
            f"{path}: reading {fmt} files needs {library}: "
            f"pip install 'infomec[{FORMATS[fmt]}]'{hint}"
        )
    return importlib.import_module(library)


# --------------------------------------------------------------------------- torch


def _numpy_safe_globals() -> list:
    """numpy's array reconstruction, which ``weights_only`` refuses by default.

    Allowing it keeps loading restricted: an array's items are unpickled by the same
    restricted unpickler, so object arrays of arbitrary classes are still refused.
    """
    found = []
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):
        try:
            reconstruct = importlib.import_module(module)._reconstruct
        except (ImportError, AttributeError):
            continue
        found.append((reconstruct, f"{module}._reconstruct"))
    # The dtype classes of numbers and text (numpy.dtypes.Float64DType, ...), not object.
    dtypes = {type(np.dtype(code)) for code in "?bhilqBHILQefdgUS"}
    return [*found, np.ndarray, np.dtype, *sorted(dtypes, key=str)]


def _tensor_to_numpy(torch: Any, value: Any, path: Path, key: str) -> np.ndarray:
    if value.layout != torch.strided:
        raise ValueError(f"{path}: '{key}' is a sparse tensor; save it with .to_dense()")
    value = value.detach()
    if value.dtype == torch.bfloat16:  # numpy has no bfloat16; float32 holds it exactly
        value = value.float()
    try:
        return value.numpy()
    except (TypeError, RuntimeError) as error:
        raise ValueError(f"{path}: '{key}' cannot become a numpy array ({error})") from None


def _torch_entry(torch: Any, value: Any, path: Path, key: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return _tensor_to_numpy(torch, value, path, key)
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "O":
            raise ValueError(f"{path}: '{key}' is an object array, which is refused")
        return value
    if key in NAME_KEYS and isinstance(value, (list, tuple)):
        if all(isinstance(item, str) for item in value):
            return np.asarray(value, dtype=str)
    raise ValueError(
        f"{path}: '{key}' holds a value of type {type(value).__name__}, not a tensor or array "
        "(a .pt file must hold a tensor or a dict of tensors)"
    )


def _read_torch(path: Path, key: str | None) -> dict[str, np.ndarray]:
    torch = _require("torch", path)
    try:
        with torch.serialization.safe_globals(_numpy_safe_globals()):
            loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - untrusted bytes: the unpickler, zip, storages
        message = _first_line(error)
        if "Weights only load failed" in message or "Unsupported global" in str(error):
            raise ValueError(
                f"{path}: holds pickled objects that torch.load(weights_only=True) refuses; "
                "save tensors, or a dict of tensors (torch.save({'latents': z}, path))"
            ) from None
        raise ValueError(f"{path}: corrupt or truncated PyTorch file ({message})") from None
    if isinstance(loaded, (torch.Tensor, np.ndarray)):
        entries = {SINGLE_ARRAY_KEY: loaded}
    elif isinstance(loaded, dict):
        bad = next((name for name in loaded if not isinstance(name, str)), None)
        if bad is not None:
            raise ValueError(f"{path}: the dict has a key {bad!r}; keys must be strings")
        entries = loaded
    else:
        raise ValueError(
            f"{path}: holds a value of type {type(loaded).__name__}; a .pt file must hold a tensor "
            "or a dict of tensors"
        )
    if key is not None:
        _check_key(path, key, list(entries))
        entries = {name: value for name, value in entries.items() if name in (key, *NAME_KEYS)}
    return {name: _torch_entry(torch, value, path, name) for name, value in entries.items()}


# --------------------------------------------------------------------------- hdf5


def _hdf5_datasets(h5py: Any, handle: Any) -> list[str]:
    names: list[str] = []

    def visit(name: str, item: Any) -> None:
        if isinstance(item, h5py.Dataset):
            names.append(name)

    handle.visititems(visit)
    return names


def _hdf5_read(h5py: Any, dataset: Any, path: Path) -> np.ndarray:
    if h5py.check_string_dtype(dataset.dtype) is not None:
        return np.asarray(dataset.asstr()[()], dtype=str)
    if dataset.dtype.names is not None or dataset.dtype.kind not in "biuf":
        raise ValueError(
            f"{path}: dataset '{dataset.name.lstrip('/')}' has dtype {dataset.dtype}, "
            "not numbers or text"
        )
    return np.asarray(dataset[()])


def _read_hdf5(path: Path, key: str | None) -> dict[str, np.ndarray]:
    h5py = _require("hdf5", path)
    try:
        with h5py.File(path, "r") as handle:
            names = _hdf5_datasets(h5py, handle)
            if key is not None:
                key = key.strip("/")
                _check_key(path, key, names)
                parent = key.rpartition("/")[0]
                siblings = [f"{parent}/{n}".lstrip("/") for n in NAME_KEYS]
                names = [key, *(name for name in siblings if name in names)]
            return {name: _hdf5_read(h5py, handle[name], path) for name in names}
    except ValueError as error:
        if str(error).startswith(str(path)):
            raise
        raise ValueError(
            f"{path}: corrupt or unreadable HDF5 file ({_first_line(error)})"
        ) from None
    except Exception as error:  # noqa: BLE001 - untrusted bytes: the HDF5 library
        raise ValueError(
            f"{path}: corrupt or unreadable HDF5 file ({_first_line(error)})"
        ) from None


# --------------------------------------------------------------------------- tables


def _read_table(path: Path, fmt: str, key: str | None) -> dict[str, Any]:
    if key is not None:
        raise ValueError(f"{path}: a {fmt} file is one table; a key does not apply to it")
    _require(fmt, path)
    import pandas as pd

    try:
        if fmt == "parquet":
            frame = pd.read_parquet(path, engine="pyarrow")
        else:
            frame = pd.read_feather(path)
    except Exception as error:  # noqa: BLE001 - untrusted bytes: Arrow's readers
        raise ValueError(
            f"{path}: corrupt or unreadable {fmt} file ({_first_line(error)})"
        ) from None
    return {TABLE_KEY: frame}


# --------------------------------------------------------------------------- safetensors


def _read_safetensors(path: Path, key: str | None) -> dict[str, np.ndarray]:
    _require("safetensors", path)
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="np") as handle:
            names = list(handle.keys())
            if key is not None:
                _check_key(path, key, names)
                names = [key]
            return {name: handle.get_tensor(name) for name in names}
    except ValueError as error:
        if str(error).startswith(str(path)):
            raise
        raise ValueError(f"{path}: unreadable safetensors file ({_first_line(error)})") from None
    except Exception as error:  # noqa: BLE001 - untrusted bytes: the Rust reader
        raise ValueError(
            f"{path}: corrupt or unreadable safetensors file ({_first_line(error)})"
        ) from None


# --------------------------------------------------------------------------- entry points


def _check_key(path: Path, key: str, names: list[str]) -> None:
    if key not in names:
        found = ", ".join(names) if names else "none"
        raise ValueError(f"{path}: no array named '{key}' (found: {found})")


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")


def read_arrays(path: str | os.PathLike, fmt: str, key: str | None = None) -> dict[str, Any]:
    """Read the arrays of a file in one of :data:`FORMATS`.

    Parameters
    ----------
    path : str or path-like
        The file (its format as :func:`sniff_format` names it).
    fmt : {"torch", "hdf5", "parquet", "feather", "safetensors"}
        The format.
    key : str, optional
        The one array to read (with any ``source_names`` / ``latent_names`` beside
        it): a dict key of a PyTorch file, a dataset path of an HDF5 file
        (``"group/latents"``), a tensor name of a safetensors file. Not for tables.

    Returns
    -------
    dict
        Name to array. A PyTorch file holding a bare tensor gives
        ``{SINGLE_ARRAY_KEY: array}`` (``"tensor"``), a dict its keys; an HDF5 file
        every dataset at any depth under its path (``"group/latents"``); a Parquet or
        Feather file ``{"table": DataFrame}``; a safetensors file its tensors. Text
        datasets and lists of strings (names) become numpy string arrays.

    Raises
    ------
    ValueError
        One line naming the file: the library is missing (with the extra to
        install), the file is corrupt, ``key`` is not in it, or a PyTorch file holds
        anything but tensors, arrays and lists of names.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from safetensors.numpy import save_file
    >>> path = os.path.join(tempfile.mkdtemp(), "z.safetensors")
    >>> save_file({"latents": np.zeros((4, 2), dtype=np.float32)}, path)
    >>> sniff_format(path)
    'safetensors'
    >>> read_arrays(path, "safetensors")["latents"].shape
    (4, 2)
    """
    _check_format(fmt)
    path = Path(path)
    if fmt == "torch":
        return _read_torch(path, key)
    if fmt == "hdf5":
        return _read_hdf5(path, key)
    if fmt == "safetensors":
        return _read_safetensors(path, key)
    return _read_table(path, fmt, key)


def array_names(path: str | os.PathLike, fmt: str) -> list[str]:
    """The names :func:`read_arrays` would return, reading as little as the format allows.

    HDF5 and safetensors files are listed without reading their data (a large image
    set beside the latents costs nothing); PyTorch files are loaded whole.

    Parameters
    ----------
    path : str or path-like
    fmt : {"torch", "hdf5", "parquet", "feather", "safetensors"}

    Returns
    -------
    list of str

    Examples
    --------
    >>> import os, tempfile
    >>> import h5py, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "run.h5")
    >>> with h5py.File(path, "w") as handle:
    ...     handle["eval/latents"] = np.zeros((4, 2))
    >>> array_names(path, "hdf5")
    ['eval/latents']
    """
    _check_format(fmt)
    path = Path(path)
    if fmt in ("parquet", "feather"):
        return [TABLE_KEY]
    if fmt == "hdf5":
        h5py = _require("hdf5", path)
        try:
            with h5py.File(path, "r") as handle:
                return _hdf5_datasets(h5py, handle)
        except Exception as error:  # noqa: BLE001 - untrusted bytes
            raise ValueError(
                f"{path}: corrupt or unreadable HDF5 file ({_first_line(error)})"
            ) from None
    if fmt == "safetensors":
        _require("safetensors", path)
        try:
            with open(path, "rb") as handle:
                (length,) = struct.unpack("<Q", handle.read(8))
                header = json.loads(handle.read(length))
        except Exception as error:  # noqa: BLE001 - untrusted bytes
            raise ValueError(
                f"{path}: corrupt or unreadable safetensors file ({_first_line(error)})"
            ) from None
        if not isinstance(header, dict):
            raise ValueError(f"{path}: corrupt safetensors file (its header is not an object)")
        return [name for name in header if name != "__metadata__"]
    return list(_read_torch(path, None))
