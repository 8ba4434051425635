"""Checkpoints and atomic output files.

A checkpoint is one ``torch.save`` dict: schema version, step, resolved config (plain dict),
model and optimizer state dicts, RNG states and the training log so far. It holds only
tensors and plain Python values, so it loads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import torch

# Version 2: batches are drawn from a per-step seed (not one running numpy stream), so a
# version-1 checkpoint would not continue its own batch sequence.
CHECKPOINT_VERSION = 2
CHECKPOINT_NAME = "checkpoint.pt"


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write a file through a temporary sibling and an atomic rename, so readers (and a crash)
    never see a half-written file."""
    path = Path(path)
    # A unique temporary name per process, so two writers never share a half-written file.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            write(handle)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def capture_rng(device: torch.device) -> dict[str, Any]:
    """Snapshot the random streams a training step draws from (torch's; batches come from
    per-step seeds)."""
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore_rng(state: dict[str, Any], device: torch.device) -> None:
    """Restore a snapshot taken by :func:`capture_rng`."""
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Save a checkpoint dict atomically, stamping the schema version."""
    payload = {"version": CHECKPOINT_VERSION, **payload}
    atomic_write(path, lambda handle: torch.save(payload, handle))


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Load a checkpoint without unpickling arbitrary objects; refuse unknown versions."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no checkpoint to resume from at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as exc:
        # weights_only refuses anything but tensors and plain containers; say so in one line.
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{path}: not a loadable checkpoint ({first_line})") from exc
    if not isinstance(payload, dict) or payload.get("version") != CHECKPOINT_VERSION:
        raise ValueError(f"{path}: not an infomec checkpoint of version {CHECKPOINT_VERSION}")
    return payload
