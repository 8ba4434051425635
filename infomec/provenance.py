"""What was scored, with which software: input files (path, size, SHA-256, keys read)
and library versions, as recorded in ``scores.json``, ``score --format json``,
``report.html`` and ``sweep.json``.

Files are hashed in 1 MiB chunks (one more read of each input, never the whole file in
memory). Arrays passed to the Python API in memory record no file, only the versions.

Examples
--------
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "a.csv")
>>> with open(path, "w") as handle:
...     _ = handle.write("1,2\\n")
>>> record = file_record(path)
>>> record["size_bytes"], record["sha256"][:12]
(4, '52186c933993')
"""

from __future__ import annotations

import hashlib
import os
import platform
from functools import cache
from pathlib import Path
from typing import Any

#: Bytes read at a time while hashing.
CHUNK_BYTES = 1 << 20
#: Libraries whose versions every result records (distribution names).
PACKAGES = ("numpy", "scipy", "scikit-learn", "numba", "pandas")


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of the file's bytes, read in :data:`CHUNK_BYTES` chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def file_record(path: str | os.PathLike, read: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"path", "absolute_path", "size_bytes", "sha256"}`` of one input file, plus
    ``"read"`` (how it was read: format, npz key, columns, header, index column) when given.

    Raises
    ------
    OSError
        The file cannot be read (named in the message).
    """
    try:
        record: dict[str, Any] = {
            "path": os.fspath(path),
            "absolute_path": str(Path(path).resolve()),
            "size_bytes": os.stat(path).st_size,
            "sha256": sha256_of(path),
        }
    except OSError as error:
        raise OSError(f"{path}: cannot be read to hash it ({error.strerror or error})") from None
    if read is not None:
        record["read"] = dict(read)
    return record


def loaded_record(path: str | os.PathLike, loaded: Any) -> dict[str, Any]:
    """:func:`file_record` of a file read by :func:`infomec.inputs.files.load_array` (its
    :class:`~infomec.inputs.files.LoadedArray` says which keys / columns were read)."""
    return file_record(path, getattr(loaded, "read", None))


def _version_of(distribution: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


@cache
def versions() -> dict[str, str]:
    """Versions of infomec, Python and :data:`PACKAGES` (from the installed metadata, so
    nothing is imported to ask; the imported module's version where it is loaded).

    Examples
    --------
    >>> sorted(versions())
    ['infomec', 'numba', 'numpy', 'pandas', 'python', 'scikit-learn', 'scipy']
    """
    import sys

    from infomec.version import __version__

    found = {"infomec": __version__, "python": platform.python_version()}
    modules = {"scikit-learn": "sklearn"}
    for distribution in PACKAGES:
        module = sys.modules.get(modules.get(distribution, distribution))
        version = getattr(module, "__version__", None)
        found[distribution] = str(version) if version else _version_of(distribution)
    return found
