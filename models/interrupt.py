"""Turn Ctrl-C and SIGTERM into a request to stop after the current step.

A signal arriving in the middle of an optimizer step would leave the model half-updated, so
the handler only sets a flag; the training loop checks it after each step, saves a
checkpoint and stops. A second Ctrl-C stops at once (the last checkpoint stays intact, as
every checkpoint write is atomic).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any


class StopRequests:
    """Context manager that records SIGINT/SIGTERM instead of dying (main thread only)."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        return self.signal is not None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # asked twice: stop now
        self.signal = signum

    def __enter__(self) -> StopRequests:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on request after saving a checkpoint at ``step``."""

    def __init__(self, step: int, total: int, out_dir: str) -> None:
        super().__init__(f"interrupted at step {step}/{total}")
        self.step, self.total, self.out_dir = step, total, out_dir
