"""Load latents and sources from .npz, .npy and .csv files; write outputs atomically.

Loading never unpickles (``allow_pickle=False``); every failure becomes a one-line
``ValueError`` (or ``FileNotFoundError`` / ``IsADirectoryError``) naming the file.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NAME_KEYS = ("source_names", "latent_names")
SUFFIXES = (".npz", ".npy", ".csv")
_PICKLE_REFUSED = "{path}: contains an object (pickled) array, which is refused"


@dataclass(frozen=True)
class LoadedArray:
    """An array read from a file, with the column names the file carried (if any)."""

    values: np.ndarray
    names: list[str] | None
    source_names: list[str] | None = None
    latent_names: list[str] | None = None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


def _check_path(path: Path) -> None:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a directory, expected a .npz, .npy or .csv file")
    if path.suffix.lower() not in SUFFIXES:
        raise ValueError(f"{path}: unsupported file type '{path.suffix}' (use .npz, .npy or .csv)")


def _names_from(archive, key: str) -> list[str] | None:
    if key not in archive.files:
        return None
    names = archive[key]
    return [str(name) for name in np.asarray(names).ravel()]


def _load_npz(path: Path, role: str, key: str | None) -> LoadedArray:
    # np.load falls back to the .npy reader for non-zip files, whose error would then
    # (wrongly) talk about pickles: check the container first.
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path}: not a valid .npz file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            data_keys = [name for name in archive.files if name not in NAME_KEYS]
            if key is None:
                if role in archive.files:
                    key = role
                elif len(data_keys) == 1:
                    key = data_keys[0]
                elif not data_keys:
                    raise ValueError(f"{path}: the .npz file holds no array")
                else:
                    raise ValueError(
                        f"{path}: holds several arrays ({', '.join(data_keys)}) and none is "
                        f"named '{role}'; choose one with --{role}-key"
                    )
            elif key not in archive.files:
                raise ValueError(
                    f"{path}: no array named '{key}' (found: {', '.join(archive.files)})"
                )
            values = archive[key]
            source_names = _names_from(archive, "source_names")
            latent_names = _names_from(archive, "latent_names")
    except ValueError as error:
        message = str(error)
        if "allow_pickle" in message or "Object arrays" in message:
            raise ValueError(
                f"{path}: contains an object (pickled) array, which is refused"
            ) from None
        if message.startswith(str(path)):
            raise
        raise ValueError(f"{path}: not a readable .npz file ({message})") from None
    except Exception as error:  # noqa: BLE001 - untrusted bytes: zlib, zipfile, tokenize...
        raise ValueError(f"{path}: corrupt or truncated .npz file ({_first_line(error)})") from None
    names = source_names if role == "sources" else latent_names
    return LoadedArray(values, names, source_names, latent_names)


def _load_npy(path: Path) -> LoadedArray:
    try:
        values = np.load(path, allow_pickle=False, mmap_mode="r")
    except ValueError as error:
        if "allow_pickle" in str(error) or "Object arrays" in str(error):
            raise ValueError(
                f"{path}: contains an object (pickled) array, which is refused"
            ) from None
        raise ValueError(f"{path}: not a readable .npy file ({error})") from None
    except Exception as error:  # noqa: BLE001 - untrusted bytes: header parser, mmap...
        raise ValueError(f"{path}: corrupt or truncated .npy file ({_first_line(error)})") from None
    return LoadedArray(values, None)


def _load_csv(path: Path) -> LoadedArray:
    import pandas as pd  # slow import; only paid by CSV users

    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: empty .csv file") from None
    except Exception as error:  # noqa: BLE001 - untrusted bytes: parser, decoding...
        raise ValueError(f"{path}: malformed .csv file ({_first_line(error)})") from None
    if frame.shape[1] == 0:
        raise ValueError(f"{path}: the .csv file has no columns")
    names = [str(column) for column in frame.columns]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    if all(numeric):
        if frame.isna().to_numpy().any():
            row, column = np.argwhere(frame.isna().to_numpy())[0]
            raise ValueError(f"{path}: empty or NaN value in column '{names[column]}' (row {row})")
        values = frame.to_numpy()
    else:
        if frame.isna().to_numpy().any():
            row, column = np.argwhere(frame.isna().to_numpy())[0]
            raise ValueError(f"{path}: empty value in column '{names[column]}' (row {row})")
        values = frame.astype(str).to_numpy().astype(str)
    return LoadedArray(values, names)


def load_array(path: str | os.PathLike, role: str, key: str | None = None) -> LoadedArray:
    """Load the latents or sources array stored in ``path``.

    Parameters
    ----------
    path : str or path-like
        A ``.npz`` (key ``role``, or the only array; ``source_names`` /
        ``latent_names`` arrays are read as column names), ``.npy`` (memory-mapped) or
        ``.csv`` (header row = column names) file.
    role : {"latents", "sources"}
    key : str, optional
        Array name inside a ``.npz`` file.

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
    path = Path(path)
    _check_path(path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _load_npz(path, role, key)
    if key is not None:
        raise ValueError(f"{path}: --{role}-key applies to .npz files only")
    if suffix == ".npy":
        return _load_npy(path)
    return _load_csv(path)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Old name of :func:`infomec.outputs.write_file` (outputs live there now)."""
    from infomec.outputs import write_file

    write_file(path, text)


def write_bytes_atomic(path: str | os.PathLike, payload: bytes) -> None:
    """Old name of :func:`infomec.outputs.write_file` (outputs live there now)."""
    from infomec.outputs import write_file

    write_file(path, payload)
