"""Progress of long jobs (score, bootstrap, report, sweep) on stderr, and ``--quiet``.

One helper, :func:`progress`, is used by every job so that they all behave alike:

* stderr is a terminal: a tqdm bar, shown only once the job has run for
  :data:`TTY_DELAY` seconds (quick calls print nothing);
* stderr is a file or a pipe (a batch job, a notebook's captured stream): one line every
  :data:`INTERVAL` seconds from a timer thread, e.g.
  ``infomec: bootstrap 40/200 (20%), 12 s elapsed, ETA 48 s``, and a last line when the
  job ends if any line was printed; a job shorter than the interval prints nothing;
* :func:`set_quiet` (the CLI's ``--quiet``) or ``enabled=False``: nothing.

Jobs nest (a report scores, then bootstraps, and every resample scores again): only the
outermost job shows progress, so a bootstrap never prints one bar per resample.

Examples
--------
>>> with progress(3, "demo", enabled=False) as bar:
...     for step in range(3):
...         bar.update()
>>> bar.done
3
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO

#: Seconds between two progress lines when stderr is not a terminal. The environment
#: variable ``INFOMEC_PROGRESS_INTERVAL`` overrides it (tests, very long jobs).
INTERVAL = 10.0
#: Seconds before a terminal progress bar appears.
TTY_DELAY = 2.0

_QUIET: ContextVar[bool] = ContextVar("infomec_quiet", default=False)
_ACTIVE: ContextVar[bool] = ContextVar("infomec_progress_active", default=False)


def set_quiet(quiet: bool = True) -> None:
    """Silence (or restore) every progress display of this process's jobs by default."""
    _QUIET.set(bool(quiet))


@contextmanager
def quiet(enabled: bool = True) -> Iterator[None]:
    """Within the block: no progress display and every warning ignored (``--quiet``);
    both restored afterwards. ``enabled=False`` changes nothing."""
    if not enabled:
        yield
        return
    import warnings

    token = _QUIET.set(True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        _QUIET.reset(token)


def is_quiet() -> bool:
    """Whether :func:`set_quiet` silenced progress."""
    return _QUIET.get()


def _interval() -> float:
    text = os.environ.get("INFOMEC_PROGRESS_INTERVAL")
    try:
        value = float(text) if text else INTERVAL
    except ValueError:
        value = INTERVAL
    return value if 0 < value < 86_400 else INTERVAL  # inf or nan: the default


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 120:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 120:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def progress_line(desc: str, done: int, total: int, elapsed: float, note: str = "") -> str:
    """The one-line progress report used when stderr is not a terminal.

    Examples
    --------
    >>> progress_line("bootstrap", 40, 200, 12.0)
    'infomec: bootstrap 40/200 (20%), 12 s elapsed, ETA 48 s'
    >>> progress_line("score", 0, 3, 10.4, note="dci")
    'infomec: score 0/3 (0%), dci, 10 s elapsed'
    """
    percent = int(100 * done / total) if total else 100
    parts = [f"infomec: {desc} {done}/{total} ({percent}%)"]
    if note:
        parts.append(note)
    parts.append(f"{_duration(elapsed)} elapsed")
    if 0 < done < total:
        parts.append(f"ETA {_duration(elapsed * (total - done) / done)}")
    return ", ".join(parts)


class Progress:
    """Counter of one job's steps, displayed as the module docstring says.

    Use :func:`progress` to make one; ``update()`` after each step, ``note(text)`` to
    name the step under way (e.g. the metric family being computed).
    """

    def __init__(
        self, total: int, desc: str, unit: str, mode: str, stream: TextIO | None = None
    ) -> None:
        self.total = int(total)
        self.desc = desc
        self.done = 0
        self.mode = mode  # "off", "tty" or "lines"
        self._note = ""
        self._stream = stream if stream is not None else sys.stderr
        self._started = time.monotonic()
        self._printed = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._bar = None
        self._thread: threading.Thread | None = None
        if mode == "tty":
            from tqdm import tqdm  # imported only when a bar is shown

            self._bar = tqdm(
                total=self.total, desc=desc, unit=unit, delay=TTY_DELAY, file=self._stream
            )
        elif mode == "lines":
            self._thread = threading.Thread(
                target=self._report_periodically, name="infomec-progress", daemon=True
            )
            self._thread.start()

    def update(self, steps: int = 1) -> None:
        """Count ``steps`` more finished steps."""
        with self._lock:
            self.done += steps
        if self._bar is not None:
            self._bar.update(steps)

    def note(self, text: str) -> None:
        """Name the step under way (shown beside the count)."""
        self._note = text
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)

    def _write(self) -> None:
        with self._lock:
            line = progress_line(
                self.desc, self.done, self.total, time.monotonic() - self._started, self._note
            )
        try:
            self._stream.write(line + "\n")
            self._stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr: progress is optional
            self._stop.set()
            return
        self._printed = True

    def _report_periodically(self) -> None:
        interval = _interval()
        while not self._stop.wait(interval):
            self._write()

    def close(self) -> None:
        """Stop the display; a last line if periodic lines were printed."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
            if self._printed and self.done == self.total:
                self._note = ""
                self._write()


def _mode(enabled: bool | None, stream: TextIO) -> str:
    if enabled is False or (enabled is None and is_quiet()) or _ACTIVE.get():
        return "off"
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return "tty" if tty else "lines"


@contextmanager
def progress(
    total: int,
    desc: str,
    *,
    unit: str = "step",
    enabled: bool | None = None,
    stream: TextIO | None = None,
) -> Iterator[Progress]:
    """Show the progress of a job of ``total`` steps for as long as the block runs.

    Parameters
    ----------
    total : int
        Number of steps.
    desc : str
        Name of the job in the display (``"bootstrap"``, ``"sweep"``, ...).
    unit : str, default="step"
        Name of a step in the terminal bar.
    enabled : bool, optional
        ``True``: always show; ``False``: never; ``None`` (default): unless
        :func:`set_quiet` was called. Inside another job's block nothing is shown.
    stream : file, optional
        Where to write (default: ``sys.stderr``).

    Yields
    ------
    Progress
    """
    stream = stream if stream is not None else sys.stderr
    mode = _mode(enabled, stream) if stream is not None else "off"
    bar = Progress(total, desc, unit, mode, stream)
    token = _ACTIVE.set(True)
    try:
        yield bar
    finally:
        _ACTIVE.reset(token)
        bar.close()
