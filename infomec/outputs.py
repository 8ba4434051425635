"""Write outputs without ever destroying an input or leaving a half-written set.

One file (``score --output``)
    :func:`write_file` writes ``-`` to standard output. An existing path that is not a
    regular file (a FIFO, ``/dev/stdout``, ``/dev/null``, a pipe) is opened and written
    *through*, as a shell's ``>`` would, never replaced. A regular file is written to a
    temporary file in its folder and renamed over it, so a failed or interrupted write
    leaves the old content; the replaced file keeps its permission bits, and a symlink
    is followed (the link stays, its target gets the new content). A target that is
    the same file as an input of the run (same inode, symlinks and hard links
    included) is refused before anything is written.

A set of files in a folder (``report --out``, ``sweep --out``)
    :func:`write_folder` writes every file of the set into a hidden staging folder
    inside the target folder (same filesystem), then *commits*: renames each staged file
    over its final name and removes files that the previous set in that folder had and
    the new one has not. The commit is a handful of renames (microseconds) run with
    SIGINT, SIGTERM and SIGHUP deferred: a signal that arrives during it is delivered
    right after it. So a Ctrl-C (or ``kill``) at any moment leaves either the complete
    old set (interrupted before the commit: the staging folder is removed) or the
    complete new set (at or after the commit). Only a SIGKILL or a power loss inside
    the commit can leave a mix; the next run into that folder replaces it whole, and
    removes staging folders left by dead processes.

    Why not stage a sibling folder and swap it in with two renames: a folder such as
    ``.`` cannot be renamed, the swap would carry away (and then delete) files of the
    user's that live in the folder, and between the two renames the folder would not
    exist at all.

    The folder may hold other files (the run's inputs, a manifest, the user's notes):
    only the file names of the set are written, and only files that infomec itself
    wrote there before are ever removed: the hidden ``.infomec-files`` lists each file
    of the set with the SHA-256 of the content written, and a file of the previous set
    is removed only while its content still has that hash. A file the user edited or
    replaced since is kept, with a warning naming it; so is every file of a list
    without hashes (written by an older infomec: nothing there can be verified).
    A name of the set that is an input of the run, a folder, or not a regular file is
    refused before anything is computed (:func:`check_folder`).

Errors name the target, never a temporary file: ``FileNotFoundError`` /
``PermissionError`` / ``OSError`` for the filesystem, ``ValueError`` for a target that
is an input of the run.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

__all__ = ["STDOUT", "check_file", "check_folder", "deferred_signals", "write_file", "write_folder"]

#: The ``--output`` value that means standard output.
STDOUT = "-"
#: Lists, one per line, the files that infomec wrote into a report or sweep folder,
#: each as ``<sha256 of the content written>  <name>`` below a :data:`MARKER_HEADER`.
MARKER = ".infomec-files"
#: First line of a marker with content hashes (older markers list bare names).
MARKER_HEADER = "# infomec-files 2: sha256  name"
#: The marker of ``infomec demo --out DIR``'s files: a folder of its own, so that a
#: report or sweep written into that folder never takes the demo's files for its own.
DEMO_MARKER = ".infomec-demo-files"
_STAGING_PREFIX = ".infomec-staging-"
# Paths under these are devices or views of file descriptors: always written through.
_DEVICE_ROOTS = ("/dev/", "/proc/")

PathLike = str | os.PathLike


# ------------------------------------------------------------------ checks


def _identity(path: PathLike) -> tuple[int, int] | None:
    """(device, inode) of ``path`` with symlinks followed, or None if it does not exist."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def _refuse_inputs(target: PathLike, inputs: Iterable[PathLike], shown: PathLike) -> None:
    identity = _identity(target)
    if identity is None:
        return
    for path in inputs:
        if isinstance(path, (str, os.PathLike)) and _identity(path) == identity:
            raise ValueError(
                f"{shown}: is an input of this run ({path}); refusing to overwrite it, "
                "choose another output"
            )


def _is_write_through(path: PathLike) -> bool:
    """True for devices, FIFOs, sockets and ``/dev/...`` paths: open them, never replace."""
    if os.path.abspath(path).startswith(_DEVICE_ROOTS):
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_writable_folder(folder: Path) -> None:
    if not folder.exists():
        ancestor = _existing_ancestor(folder)
        if not ancestor.is_dir():
            raise NotADirectoryError(f"{folder}: cannot be created, {ancestor} is a file")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise PermissionError(f"{folder}: cannot be created, {ancestor} is not writable")
        return
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: exists and is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(f"{folder}: folder is not writable")


def check_file(path: PathLike, inputs: Iterable[PathLike] = ()) -> None:
    """Raise unless :func:`write_file` can write ``path`` (nothing is created).

    Raises
    ------
    ValueError
        ``path`` is one of ``inputs`` (same file, symlinks followed).
    OSError
        Its folder is missing, ``path`` is a folder, or it cannot be written.

    Examples
    --------
    >>> check_file("-")
    >>> check_file("no/such/folder/out.json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: no/such/folder/out.json: folder no/such/folder does not exist
    """
    if str(path) == STDOUT:
        return
    given_folder = os.path.dirname(os.fspath(path)) or "."
    if not os.path.isdir(given_folder):
        # The system resolves "missing/../x" only if "missing" exists; os.path.realpath
        # would quietly collapse it to "x", which may be an input.
        raise FileNotFoundError(f"{path}: folder {given_folder} does not exist")
    _refuse_inputs(path, inputs, path)
    if _is_write_through(path):
        if os.path.exists(path) and not os.access(path, os.W_OK):
            raise PermissionError(f"{path}: not writable")
        return
    real = Path(os.path.realpath(path))
    if real.is_dir():
        raise IsADirectoryError(f"{path}: is a folder; give a file name")
    folder = real.parent
    if not folder.is_dir():
        shown_folder = folder if os.path.islink(path) else Path(path).parent
        raise FileNotFoundError(f"{path}: folder {shown_folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(f"{path}: folder {folder} is not writable")
    if real.exists() and not os.access(real, os.W_OK):
        raise PermissionError(f"{path}: file is read-only")


def check_folder(
    folder: PathLike,
    names: Iterable[str],
    inputs: Iterable[PathLike] = (),
    *,
    owned_only: bool = False,
    marker: str = MARKER,
) -> None:
    """Raise unless :func:`write_folder` can write the files ``names`` into ``folder``.

    Meant to run before any computing, so that a bad ``--out`` costs nothing. With
    ``owned_only``, a file of the set that exists must be infomec's own: listed in the
    folder's ``.infomec-files`` with the hash of its present content.

    Raises
    ------
    ValueError
        A file of the set is one of ``inputs``, or (``owned_only``) exists and is not
        verifiably infomec's.
    OSError
        ``folder`` is a file, cannot be created or written, or a name of the set is a
        folder or not a regular file there.
    """
    folder = Path(folder)
    _check_writable_folder(folder)
    inputs = list(inputs)
    listed = _read_marker(folder, marker) if owned_only and folder.is_dir() else {}
    for name in names:
        target = folder / name
        _refuse_inputs(target, inputs, target)
        if owned_only and (target.exists() or target.is_symlink()):
            if target.is_symlink() or listed.get(name) != _file_sha256(target):
                raise ValueError(
                    f"{target}: exists and was not written by infomec (or was changed "
                    "since); refusing to overwrite it: choose another --out or move it away"
                )
        if target.is_symlink() or not target.exists():
            continue
        if target.is_dir():
            raise IsADirectoryError(f"{target}: is a folder; choose another --out")
        if not target.is_file():
            raise OSError(f"{target}: exists and is not a regular file; choose another --out")


# ------------------------------------------------------------------ signals


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the block ends, then deliver the first.

    Outside the main thread (where handlers cannot be set) the block runs as is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def record(signum: int, frame) -> None:
        caught.append(signum)

    previous = {}
    try:
        for signum in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if signum is not None:
                previous[signum] = signal.signal(signum, record)
        yield
    finally:
        for signum, handler in previous.items():
            # None: a handler set outside Python, which cannot be put back; the default.
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        if caught:
            # Delivered now, to whatever handled it before (KeyboardInterrupt for SIGINT).
            signal.raise_signal(caught[0])


# ------------------------------------------------------------------ one file


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _named(error: OSError, target: PathLike) -> OSError:
    """The same kind of OSError, with a one-line message that names ``target``."""
    reason = error.strerror or str(error) or type(error).__name__
    kind = type(error) if type(error).__init__ is OSError.__init__ else OSError
    return kind(f"{target}: cannot write ({reason})")


def _replace_regular(real: Path, payload: bytes, mode: int | None = None) -> None:
    """Write ``payload`` to a temporary file beside ``real`` and rename it over ``real``."""
    if mode is None:
        try:
            mode = stat.S_IMODE(os.stat(real).st_mode)  # keep a replaced file's mode
        except FileNotFoundError:
            mode = _default_mode()
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{real.name}.", suffix=".tmp", dir=real.parent
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
        os.chmod(temporary, mode)
        os.replace(temporary, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _write_stdout(payload: bytes) -> None:
    stream = sys.stdout
    if stream is None:  # started with stdout closed (``>&-``)
        raise OSError("standard output is closed; give --output FILE")
    stream.flush()
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # a text stream without bytes (e.g. a captured one in tests)
        stream.write(payload.decode("utf-8"))
        stream.flush()
        return
    buffer.write(payload)
    buffer.flush()


def write_file(path: PathLike, payload: bytes | str, *, inputs: Iterable[PathLike] = ()) -> None:
    """Write ``payload`` to ``path`` (``"-"``: standard output) without destroying anything.

    Parameters
    ----------
    path : str or path-like
        ``"-"`` for standard output; a FIFO or device is written through; a regular
        file is replaced atomically, keeping its mode; a symlink is followed.
    payload : bytes or str
        ``str`` is encoded as UTF-8.
    inputs : iterable of path
        Files this run read; ``path`` may not be any of them.

    Raises
    ------
    ValueError
        ``path`` is one of ``inputs``.
    OSError
        The write failed; the message names ``path`` and the old content is intact.

    Examples
    --------
    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> write_file(target, "hello\\n")
    >>> open(target).read()
    'hello\\n'
    """
    data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    if str(path) == STDOUT:
        _write_stdout(data)
        return
    check_file(path, inputs)
    try:
        if _is_write_through(path):
            with open(path, "wb") as handle:
                handle.write(data)
        else:
            _replace_regular(Path(os.path.realpath(path)), data)
    except OSError as error:
        raise _named(error, path) from None


# ------------------------------------------------------------------ a set of files


def sha256_of(data: bytes) -> str:
    """Hex SHA-256 of ``data`` (what the marker records per file).

    Examples
    --------
    >>> sha256_of(b"")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str | None:
    """SHA-256 of a regular file's content (symlinks not followed), None if unreadable."""
    try:
        if path.is_symlink() or not path.is_file():
            return None
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    except OSError:
        return None


def _plain(name: str) -> bool:
    # Only plain names: a tampered marker must not reach outside the folder.
    return bool(name) and name == Path(name).name and not name.startswith(".")


def _read_marker(folder: Path, marker: str = MARKER) -> dict[str, str | None]:
    """``{name: sha256}`` of the files infomec wrote last time (``None``: no hash kept).

    A marker written before hashes were kept lists bare names: every hash is ``None``.
    """
    try:
        lines = (folder / marker).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    if not lines or lines[0] != MARKER_HEADER:
        return {name: None for name in lines if _plain(name)}
    listed: dict[str, str | None] = {}
    for line in lines[1:]:
        digest, _, name = line.partition("  ")
        if _plain(name) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest):
            listed[name] = digest
    return listed


def _marker_text(hashes: Mapping[str, str]) -> bytes:
    lines = [MARKER_HEADER, *(f"{digest}  {name}" for name, digest in hashes.items())]
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


def _stale_files(
    folder: Path, previous: Mapping[str, str | None]
) -> tuple[list[Path], list[str], list[str]]:
    """Of the previous set's files: those to remove (content still as written), those
    kept because they changed, and those kept because no hash was recorded.

    A name whose file is gone, a symlink or not a regular file is in none of them.
    """
    remove, changed, unverified = [], [], []
    for name, digest in previous.items():
        path = folder / name
        if path.is_symlink() or not path.is_file():
            continue
        if digest is None:
            unverified.append(name)
        elif _file_sha256(path) == digest:
            remove.append(path)
        else:
            changed.append(name)
    return remove, changed, unverified


def _warn_kept(folder: Path, changed: list[str], unverified: list[str]) -> None:
    """One warning per reason, naming the files of the previous set that stay."""
    from infomec._validation import warn  # the checks layer, loaded only when needed

    if changed:
        warn(
            f"{folder}: kept {', '.join(changed)} from infomec's previous set: changed since "
            "infomec wrote it (edited or replaced); remove it yourself if unwanted"
        )
    if unverified:
        warn(
            f"{folder}: kept {', '.join(unverified)} from infomec's previous set: its "
            f"{MARKER} (from an older infomec) has no content hashes, so it cannot be "
            "verified as infomec's; remove it yourself if unwanted"
        )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _remove_dead_staging(folder: Path) -> None:
    """Staging folders of processes that died (SIGKILL) before they could clean up."""
    for entry in folder.glob(f"{_STAGING_PREFIX}*"):
        pid = entry.name[len(_STAGING_PREFIX) :].split("-", 1)[0]
        if entry.is_dir() and not entry.is_symlink() and pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def write_folder(
    folder: PathLike,
    files: Mapping[str, bytes | str],
    *,
    inputs: Iterable[PathLike] = (),
    owned_only: bool = False,
    marker: str = MARKER,
) -> dict[str, Path]:
    """Write ``files`` (``{name: content}``) into ``folder`` as one set (see the module doc).

    Parameters
    ----------
    folder : str or path-like
        Created (with its parents) if missing.
    files : mapping of str to bytes or str
        Plain file names (no folders) and their content.
    inputs : iterable of path
        Files this run read; none of them is ever replaced.
    owned_only : bool, default=False
        Replace an existing file of the set only if infomec wrote it (its hash is in
        the folder's ``marker``); otherwise raise ``ValueError`` before writing.
    marker : str, default=".infomec-files"
        The hidden file that lists the set (:data:`DEMO_MARKER` for the demo's files).

    Returns
    -------
    dict
        ``{name: folder / name}`` in the order of ``files``.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> sorted(write_folder(folder, {"a.txt": "1", "b.txt": b"2"}))
    ['a.txt', 'b.txt']
    >>> sorted(write_folder(folder, {"a.txt": "3"}))  # b.txt was ours: removed
    ['a.txt']
    >>> sorted(path.name for path in Path(folder).iterdir())
    ['.infomec-files', 'a.txt']
    """
    folder = Path(folder)
    names = list(files)
    for name in names:
        if name != Path(name).name or name in ("", ".", "..") or name.startswith(".infomec-"):
            raise ValueError(f"{name!r}: not a plain file name")
    inputs = list(inputs)
    check_folder(folder, names, inputs, owned_only=owned_only, marker=marker)
    created = not folder.exists()
    committed = False
    staging: Path | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _remove_dead_staging(folder)
        staging = Path(tempfile.mkdtemp(prefix=f"{_STAGING_PREFIX}{os.getpid()}-", dir=folder))
        hashes: dict[str, str] = {}
        for name, content in files.items():
            data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
            hashes[name] = sha256_of(data)
            target = folder / name
            try:
                mode = stat.S_IMODE(os.stat(target).st_mode)
            except OSError:
                mode = _default_mode()
            try:
                _replace_regular(staging / name, data, mode)
            except OSError as error:
                raise _named(error, target) from None
        # Nothing changed under us while we wrote.
        check_folder(folder, names, inputs, owned_only=owned_only, marker=marker)
        listed = _read_marker(folder, marker)
        previous = {name: digest for name, digest in listed.items() if name not in files}
        # Hashed before the commit: a file is removed only while it is what we wrote.
        stale, changed, unverified = _stale_files(folder, previous)
        # An input of this run is never removed, whoever wrote it.
        stale = [path for path in stale if _identity(path) not in map(_identity, inputs)]
        marker_text = _marker_text(hashes)
        with deferred_signals():
            for name in names:
                try:
                    os.replace(staging / name, folder / name)
                except OSError as error:
                    raise _named(error, folder / name) from None
            committed = True
            for path in stale:
                with contextlib.suppress(OSError):
                    path.unlink()
            with contextlib.suppress(OSError):
                _replace_regular(folder / marker, marker_text)
        if changed or unverified:
            _warn_kept(folder, changed, unverified)
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if created and not committed:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty: we made it, and nothing of ours is in it
    return {name: folder / name for name in names}
