"""A writable cache folder for numba's compiled kernels, found before numba is imported.

infomec's kernels are compiled with ``cache=True``. numba stores them next to the
sources (``__pycache__``) or in the user's cache folder (``~/.cache/numba``), and *raises*
at import when neither is writable: a read-only install run by a user without a
writable HOME (a container, a service account) could not even print ``--version``.
:func:`ensure_numba_cache` then points ``NUMBA_CACHE_DIR`` at a private folder in the
temporary folder, quietly, once per process; compiled kernels are kept there between
runs. Nothing changes when either usual place is writable or ``NUMBA_CACHE_DIR`` is set.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def _writable(folder: str) -> bool:
    """True when ``folder`` exists or can be created, and a file can be written in it."""
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _user_cache() -> str:
    """numba's user-wide cache folder (``numba.misc.appdirs.user_cache_dir``)."""
    if sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Caches")
    elif sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "numba")


def _private_folder() -> str | None:
    """``<tmp>/infomec-numba-<uid>`` if it is ours alone, else a fresh temporary folder.

    Another user could plant a folder of that name holding crafted cache files
    (numba unpickles them), so it is used only when this user owns it and nobody
    else can write it.
    """
    user = getattr(os, "getuid", lambda: "user")()
    shared = os.path.join(tempfile.gettempdir(), f"infomec-numba-{user}")
    try:
        os.makedirs(shared, mode=0o700, exist_ok=True)
        info = os.lstat(shared)
        owned = not hasattr(os, "getuid") or info.st_uid == os.getuid()
        if stat.S_ISDIR(info.st_mode) and owned and not info.st_mode & 0o022:
            if _writable(shared):
                return shared
    except OSError:
        pass
    try:
        return tempfile.mkdtemp(prefix="infomec-numba-")
    except OSError:
        return None


def ensure_numba_cache() -> None:
    """Set ``NUMBA_CACHE_DIR`` to a private temporary folder when numba has nowhere to
    cache infomec's kernels (see the module docstring); otherwise do nothing."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    package = os.path.dirname(os.path.abspath(__file__))
    if _writable(os.path.join(package, "__pycache__")) or _writable(_user_cache()):
        return
    folder = _private_folder()
    if folder is not None:
        os.environ["NUMBA_CACHE_DIR"] = folder
        config = sys.modules.get("numba.core.config")
        if config is not None:  # numba was imported first: it read the variable already
            config.CACHE_DIR = folder


# --------------------------------------------------------------------------- first run
# numba compiles a kernel only when its cache holds none for the signature (a fresh
# install, a new numba, a changed source): the first command then spends some 15 s
# compiling before any progress can show. The command says so, once per process.

COMPILING_MESSAGE = (
    "infomec: compiling kernels, once, about 15 s (later runs load them from the cache)"
)
_ANNOUNCE = {"enabled": 0, "done": False, "listener": None}
_ANNOUNCE_LOCK = threading.Lock()


def _is_ours(event) -> bool:
    dispatcher = (getattr(event, "data", None) or {}).get("dispatcher")
    module = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
    return module == "infomec" or module.startswith("infomec.")


def _register_listener() -> None:
    """Register (once per process) a listener of numba's ``numba:compile`` event."""
    if _ANNOUNCE["listener"] is not None:
        return
    from numba.core import event

    class _Announcer(event.Listener):
        def on_start(self, event) -> None:
            with _ANNOUNCE_LOCK:
                if _ANNOUNCE["done"] or not _ANNOUNCE["enabled"] or not _is_ours(event):
                    return
                _ANNOUNCE["done"] = True
            stream = sys.stderr
            if stream is not None:
                print(COMPILING_MESSAGE, file=stream, flush=True)

        def on_end(self, event) -> None:
            pass

    listener = _Announcer()
    event.register("numba:compile", listener)
    _ANNOUNCE["listener"] = listener


@contextmanager
def announce_compilation(enabled: bool = True) -> Iterator[None]:
    """Within the block, the first compilation of an infomec kernel prints one line.

    numba fires its ``numba:compile`` event only for a real compilation (a kernel
    loaded from the cache fires none), so the line shows on a first run, or after
    numba or the kernels changed, and never again in the same process. It goes to
    stderr whether or not that is a terminal (so logs show it too); with
    ``enabled=False`` (the command's ``--quiet``) nothing is printed and numba is not
    even imported.

    Parameters
    ----------
    enabled : bool, default True

    Examples
    --------
    >>> with announce_compilation(enabled=False):
    ...     pass
    """
    if not enabled:
        yield
        return
    _register_listener()
    with _ANNOUNCE_LOCK:
        _ANNOUNCE["enabled"] += 1
    try:
        yield
    finally:
        with _ANNOUNCE_LOCK:
            _ANNOUNCE["enabled"] -= 1
