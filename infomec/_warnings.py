"""infomec's warning category, and warnings attributed to the caller's line."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings


class InfoMECWarning(UserWarning):
    """A degenerate but valid input, or a guard that changed how a score is averaged."""


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
# Frames between two infomec frames that are not the caller's: ``with`` blocks of our
# context managers run their exit code from contextlib.
_PASS_THROUGH = frozenset({contextlib.__file__})


def caller_stacklevel() -> int:
    """The ``stacklevel`` that attributes a warning to the first frame outside infomec.

    To be passed to :func:`warnings.warn` by the function that calls this one: frames of
    the infomec package (however deep the call chain) are skipped, so a warning raised
    inside ``infomec.score`` points at the user's line that called it. (Python 3.12's
    ``skip_file_prefixes`` does the same; the project supports 3.10.)
    """
    frame = sys._getframe(1)
    level = 1
    while frame is not None and (
        frame.f_code.co_filename.startswith(_PACKAGE_DIR)
        or frame.f_code.co_filename in _PASS_THROUGH
    ):
        frame = frame.f_back
        level += 1
    return level


def warn(message: str, category: type[Warning] = InfoMECWarning) -> None:
    """Emit a warning (an :class:`InfoMECWarning` by default) at the caller's line."""
    warnings.warn(message, category, stacklevel=caller_stacklevel())
