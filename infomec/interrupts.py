"""One stop flag that Ctrl-C and SIGTERM raise, and that long work checks between chunks.

Python runs a signal handler only in the main thread, between bytecodes: while the main
thread is inside one long compiled call (a numba kernel over every (source, latent)
pair) the handler waits for it, and worker threads (InfoE's probes, DCI's boosting pool)
never see the signal at all, so the process would wait for them before it could exit.
Hence:

- :func:`stoppable` wraps a job (a :func:`infomec.score` call): in the main thread it
  puts a handler in front of the current SIGINT / SIGTERM ones that sets the flag and
  then calls the previous handler (Ctrl-C still raises ``KeyboardInterrupt``, the CLI's
  SIGTERM still raises its ``Terminated``);
- long loops call :func:`check_stop` between chunks (a kernel's blocks of columns, a
  solver's iterations, a boosting stage): it raises :class:`Stopped` once the flag is
  set, so worker threads unwind within a chunk and the main thread's handler runs at
  the next chunk boundary.

Chunks are sized to a few tens of milliseconds, so a run ends well within two seconds
of the signal. Results never depend on the chunking (each chunk is an independent
slice of the same computation).

Examples
--------
>>> with stoppable():
...     check_stop()  # nothing asked us to stop: returns
>>> stop_requested()
False
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

__all__ = ["Stopped", "check_stop", "request_stop", "stop_requested", "stoppable"]

_STOP = threading.Event()
_DEPTH = 0
_DEPTH_LOCK = threading.Lock()


class Stopped(KeyboardInterrupt):
    """Raised by :func:`check_stop` in a thread once a stop was requested."""


def request_stop() -> None:
    """Ask every running job to stop at its next chunk boundary."""
    _STOP.set()


def stop_requested() -> bool:
    return _STOP.is_set()


def check_stop() -> None:
    """Raise :class:`Stopped` if a stop was requested (cheap: one flag read).

    In the main thread only while a job runs (inside :func:`stoppable`): a kernel called
    directly after an interrupted job must not inherit its stop. In other threads
    always: workers left running by an interrupted job must end, or the process waits
    for them at exit.
    """
    if _STOP.is_set() and (_DEPTH > 0 or threading.current_thread() is not threading.main_thread()):
        raise Stopped()


def _chained(previous):
    """A handler that sets the stop flag, then does what ``previous`` did."""

    def handler(signum, frame):
        _STOP.set()
        if callable(previous):
            return previous(signum, frame)
        if previous == signal.SIG_IGN:
            return None
        # SIG_DFL (or a handler set outside Python): what the default would have done.
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)
        return None

    handler.chained_to = previous
    return handler


@contextlib.contextmanager
def stoppable() -> Iterator[None]:
    """Run a job that signals, and an interrupt in its main thread, stop as a whole.

    The outermost block clears a stop left over from an earlier, interrupted job. A
    ``KeyboardInterrupt`` that leaves the block (Ctrl-C, or the CLI's SIGTERM) sets the
    flag, so worker threads still running stop at their next check. Functions that start
    worker threads run them inside it too (:func:`infomec.parallel.run_largest_first`):
    inside a job it changes nothing, and called directly it makes them a job of their own.
    """
    global _DEPTH
    in_main = threading.current_thread() is threading.main_thread()
    with _DEPTH_LOCK:
        outermost = _DEPTH == 0
        _DEPTH += 1
    if outermost:
        _STOP.clear()
    previous = {}
    try:
        if in_main and outermost:
            for signum in (signal.SIGINT, signal.SIGTERM):
                current = signal.getsignal(signum)
                previous[signum] = current
                signal.signal(signum, _chained(current))
        yield
    except KeyboardInterrupt:
        _STOP.set()
        raise
    finally:
        for signum, handler in previous.items():
            # Put back only our own handler: something inside may have set another.
            if getattr(signal.getsignal(signum), "chained_to", object()) is handler:
                signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        with _DEPTH_LOCK:
            _DEPTH -= 1
