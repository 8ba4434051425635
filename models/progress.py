"""Progress reporting for training and evaluation: a tqdm bar on a terminal, periodic
one-line reports otherwise, and every report appended to a log file.

Without a terminal (nohup, CI, a redirected stderr) a bar would print nothing useful, so the
reporter writes ``step 120/200 | loss 0.4123 | 8.1 steps/s | ETA 10 s`` every
``every_seconds`` (and at the first report after ``first_after`` seconds, so a run says how
long it will take early on).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import IO

from tqdm import tqdm

RATE_WINDOW = 120.0  # seconds of recent progress the rate and ETA are measured over


def format_seconds(seconds: float) -> str:
    """Short human duration: ``42 s``, ``3.5 min``, ``2.1 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


class Progress:
    """Report progress of a counted loop.

    Parameters
    ----------
    total, initial : int
        Loop length and starting count (a resumed run starts past 0).
    desc : str
        Label (the model name, ``encode``, ...).
    log_file : IO[str], optional
        Open text file that receives every line (and the final line of a bar).
    bar : bool, optional
        tqdm bar; default: when stderr is a terminal.
    quiet : bool, default=False
        Nothing on stderr (the log file still gets the lines).
    every_seconds : float, default=10
        Period of the one-line reports when there is no bar (and of log-file lines).
    first_after : float, default=3
        The first one-line report comes after this many seconds (it carries the first ETA).
    """

    def __init__(
        self,
        total: int,
        initial: int = 0,
        desc: str = "",
        log_file: IO[str] | None = None,
        bar: bool | None = None,
        quiet: bool = False,
        every_seconds: float = 10.0,
        first_after: float = 3.0,
    ) -> None:
        self.total, self.count, self.start_count = total, initial, initial
        self.desc, self.log_file, self.quiet = desc, log_file, quiet
        self.every_seconds, self.first_after = every_seconds, min(first_after, every_seconds)
        use_bar = sys.stderr.isatty() if bar is None else bar
        self.bar = (
            tqdm(total=total, initial=initial, desc=desc, file=sys.stderr, dynamic_ncols=True)
            if use_bar and not quiet
            else None
        )
        self.started = self.last_report = time.monotonic()
        self.reported_once = False
        # (time, count) marks the rate is measured from: the end of the first item (whose
        # warm-up, e.g. a model's first step, would skew an early ETA), then the reports.
        self._marks: list[tuple[float, int]] = []

    def rate(self) -> float:
        """Items per second (0 before the first item).

        Measured from the end of the first item, over about the last ``RATE_WINDOW``
        seconds once the run is that long, so the ETA follows the current speed and the
        first item's warm-up does not inflate it; with a single item done, since the start.
        """
        now = time.monotonic()
        for mark_time, mark_count in self._marks:
            if now - mark_time <= RATE_WINDOW or mark_time == self._marks[-1][0]:
                if self.count > mark_count and now > mark_time:
                    return (self.count - mark_count) / (now - mark_time)
                break
        elapsed = now - self.started
        done = self.count - self.start_count
        return done / elapsed if elapsed > 0 and done > 0 else 0.0

    def eta(self) -> float | None:
        """Seconds left at the current rate (None before the first item)."""
        rate = self.rate()
        return (self.total - self.count) / rate if rate > 0 else None

    def line(self, extra: str = "") -> str:
        """``desc step n/total | extra | rate | ETA``."""
        parts = [f"{self.desc} {self.count}/{self.total}".strip()]
        if extra:
            parts.append(extra)
        rate, eta = self.rate(), self.eta()
        if rate > 0:
            parts.append(f"{rate:.3g}/s")
        if eta is not None:
            parts.append(f"ETA {format_seconds(eta)}")
        return " | ".join(parts)

    def due(self) -> bool:
        """Whether a periodic report is due (cheap: callers fetch loss values only then)."""
        waited = time.monotonic() - self.last_report
        return waited >= (self.every_seconds if self.reported_once else self.first_after)

    def update(self, count: int, extra: str | None = None) -> None:
        """Advance to ``count``; report if due (``extra`` is a short status such as the loss)."""
        if self.bar is not None:
            self.bar.update(count - self.count)
        if not self._marks and count > self.start_count:
            self._marks.append((time.monotonic(), count))
        self.count = count
        if extra is not None:
            if self.bar is not None:
                self.bar.set_postfix_str(extra, refresh=False)
            self.report(extra)

    def report(self, extra: str = "") -> None:
        """Write one progress line now (to stderr without a bar, always to the log file)."""
        self.last_report = time.monotonic()
        self.reported_once = True
        text = self.line(extra)
        if self._marks:
            self._marks.append((self.last_report, self.count))
            # Keep the marks of the last window (and the newest one older than it).
            while len(self._marks) > 2 and self.last_report - self._marks[1][0] > RATE_WINDOW:
                self._marks.pop(0)
        if self.bar is None and not self.quiet:
            print(text, file=sys.stderr, flush=True)
        self._log(text)

    def message(self, text: str) -> None:
        """A one-off line (a notice or the end of a phase), on stderr and in the log."""
        if not self.quiet:
            if self.bar is not None:
                self.bar.write(text, file=sys.stderr)
            else:
                print(text, file=sys.stderr, flush=True)
        self._log(text)

    def _log(self, text: str) -> None:
        if self.log_file is not None:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            self.log_file.write(f"{stamp} {text}\n")
            self.log_file.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_log(path: Path) -> IO[str]:
    """Open ``path`` for appending (a resumed run continues the same log)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "a", encoding="utf-8")
