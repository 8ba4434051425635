"""The training loop: seeded batches, periodic checkpoints, resume, final evaluation.

A run directory ends up holding ``checkpoint.pt``, ``train_log.json`` (config, loss history,
reconstruction quality), ``latents.npz``, ``sources.npz`` and, when the metrics core offers
``infomec.score``, ``scores.json``.
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch
from tqdm import tqdm

from .checkpoint import (
    CHECKPOINT_NAME,
    atomic_write,
    capture_rng,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
)
from .config import QUANTIZED_MODELS, RESUMABLE_CHANGES, TrainConfig
from .data import FactorDataset, evaluation_indices, open_dataset
from .registry import build_model

EVAL_BATCH = 256


def _device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda requested but PyTorch sees no CUDA device")
    return torch.device(name)


def resumed_config(out_dir: str | Path, changes: dict[str, Any] | None = None) -> TrainConfig:
    """The config saved in ``out_dir``'s checkpoint, updated by ``changes`` (for example a
    larger ``steps``); pass the result to :func:`train` with ``resume=True``."""
    checkpoint = load_checkpoint(Path(out_dir) / CHECKPOINT_NAME)
    return TrainConfig.from_dict({**checkpoint["config"], **(changes or {})})


def _check_resumable(saved: TrainConfig, requested: TrainConfig) -> None:
    """Refuse to resume with settings that change the training trajectory."""
    saved_values, requested_values = saved.to_dict(), requested.to_dict()
    for name, value in requested_values.items():
        if name not in RESUMABLE_CHANGES and value != saved_values[name]:
            raise ValueError(
                f"cannot resume: {name.replace('_', '-')} is {saved_values[name]!r} in the "
                f"checkpoint but {value!r} was given"
            )


class _RunningMeans:
    """Means of logged loss terms since the last log entry (GAN terms appear on some steps)."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.sums[name] += value
            self.counts[name] += 1

    def state(self) -> dict[str, dict[str, float]]:
        return {"sums": dict(self.sums), "counts": dict(self.counts)}

    def load(self, state: dict[str, dict[str, float]]) -> None:
        self.sums.update(state["sums"])
        self.counts.update(state["counts"])

    def peek(self) -> dict[str, float]:
        return {name: self.sums[name] / self.counts[name] for name in self.sums}

    def pop(self) -> dict[str, float]:
        means = self.peek()
        self.sums.clear()
        self.counts.clear()
        return means


def train(
    config: TrainConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool | None = None,
    score: bool = True,
) -> dict[str, Any]:
    """Train a model, checkpointing as it goes, then evaluate it and write the run's files.

    Parameters
    ----------
    config : TrainConfig
        The run's settings. When resuming it may differ from the saved settings (see
        :func:`resumed_config`) only in ``steps``, ``device``, ``eval_size``,
        ``checkpoint_every`` and ``log_every``.
    out_dir : str or Path
        Run directory (created if needed).
    resume : bool, default=False
        Continue from ``out_dir/checkpoint.pt``. The result equals an uninterrupted run.
    progress : bool, optional
        Show a tqdm bar on stderr. Default: only when stderr is a terminal.
    score : bool, default=True
        Compute InfoMEC with ``infomec.score`` and write ``scores.json``.

    Returns
    -------
    dict
        ``config`` (resolved), ``eval`` (``bce``, ``psnr``), ``scores`` (or None) and the
        output ``files``.
    """
    out = Path(out_dir)
    checkpoint_path = out / CHECKPOINT_NAME
    checkpoint = None
    if resume:
        checkpoint = load_checkpoint(checkpoint_path)
    elif checkpoint_path.exists():
        raise ValueError(f"{out} already holds a checkpoint; resume it or choose another dir")
    device = _device(config.device)
    dataset = open_dataset(config.dataset, config.image_size, config.subset)
    config = config.resolved(len(dataset.factor_names))
    if checkpoint is not None:
        _check_resumable(TrainConfig.from_dict(checkpoint["config"]), config)
        if checkpoint["step"] > config.steps:
            raise ValueError(
                f"the checkpoint is at step {checkpoint['step']}, beyond steps={config.steps}"
            )
    out.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(config.seed)
    batch_rng = np.random.default_rng(config.seed)
    model = build_model(config, dataset.image_shape, len(dataset)).to(device)
    optimizers = model.make_optimizers()
    step, history, means = 0, [], _RunningMeans()
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        for optimizer, state in zip(optimizers, checkpoint["optimizers"], strict=True):
            optimizer.load_state_dict(state)
        restore_rng(checkpoint["rng"], batch_rng, device)
        step, history = checkpoint["step"], checkpoint["history"]
        means.load(checkpoint["pending_log"])

    def save() -> None:
        save_checkpoint(
            checkpoint_path,
            {
                "step": step,
                "config": config.to_dict(),
                "model": model.state_dict(),
                "optimizers": [optimizer.state_dict() for optimizer in optimizers],
                "rng": capture_rng(batch_rng, device),
                "history": history,
                "pending_log": means.state(),
            },
        )

    started = time.perf_counter()
    bar = tqdm(
        total=config.steps,
        initial=step,
        desc=config.model,
        file=sys.stderr,
        disable=(not sys.stderr.isatty()) if progress is None else not progress,
        dynamic_ncols=True,
    )
    with bar:
        while step < config.steps:
            indices = batch_rng.integers(len(dataset), size=config.batch_size)
            x = torch.from_numpy(dataset.images(indices)).to(device)
            logs = model.train_step(x, step, optimizers)
            if not all(math.isfinite(value) for value in logs.values()):
                raise ValueError(f"training diverged (non-finite loss) at step {step + 1}")
            means.add(logs)
            step += 1
            bar.update(1)
            bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()}, refresh=False)
            if step % config.log_every == 0:
                history.append({"step": step, **means.pop()})
            if step % config.checkpoint_every == 0 or step == config.steps:
                save()
    train_seconds = time.perf_counter() - started

    latents, sources, quality = evaluate(model, dataset, config, device)
    is_quantized = config.model in QUANTIZED_MODELS
    files = write_outputs(out, latents, sources, dataset.factor_names)
    scores = (
        score_latents(latents, sources, dataset.factor_names, config.seed, out) if score else None
    )
    if scores is not None:
        files.append(out / "scores.json")
    # A last, partial logging interval is reported but kept out of the checkpoint's history,
    # so a resumed run logs exactly the entries an uninterrupted one would.
    partial = [{"step": step, **means.peek()}] if means.sums else []
    log = {
        "config": config.to_dict(),
        "history": history + partial,
        "eval": {**quality, "n_samples": len(latents), "discrete_latents": is_quantized},
        "train_seconds_this_session": train_seconds,
        "torch_version": torch.__version__,
    }
    _write_json(out / "train_log.json", log)
    files.append(out / "train_log.json")
    return {"config": config, "eval": quality, "scores": scores, "files": files}


@torch.no_grad()
def evaluate(
    model: torch.nn.Module, dataset: FactorDataset, config: TrainConfig, device: torch.device
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Encode the seeded evaluation subset.

    Returns
    -------
    latents : ndarray of shape (n, num_latents)
        int64 codes for quantized models, float64 means/encodings otherwise.
    sources : ndarray of shape (n, n_factors)
        int64 factor classes.
    quality : dict
        Mean reconstruction ``bce`` (per pixel) and ``psnr`` (dB, per image then averaged).
    """
    indices = evaluation_indices(len(dataset), config.eval_size, config.data_seed)
    codes, bce, psnr = [], [], []
    for start in range(0, len(indices), EVAL_BATCH):
        batch = indices[start : start + EVAL_BATCH]
        x = torch.from_numpy(dataset.images(batch)).to(device)
        latent, quality = model.evaluate(x)
        codes.append(latent.cpu().numpy())
        bce.append(quality["bce"].cpu().numpy())
        psnr.append(quality["psnr"].cpu().numpy())
    latents = np.concatenate(codes)
    latents = latents.astype(np.int64 if latents.dtype.kind in "iu" else np.float64)
    quality = {"bce": float(np.concatenate(bce).mean()), "psnr": float(np.concatenate(psnr).mean())}
    return latents, dataset.factors(indices), quality


def write_outputs(
    out: Path, latents: np.ndarray, sources: np.ndarray, source_names: tuple[str, ...]
) -> list[Path]:
    """Write ``latents.npz`` (key ``latents``) and ``sources.npz`` (``sources``,
    ``source_names``) atomically."""
    names = np.array(source_names, dtype=np.str_)
    atomic_write(out / "latents.npz", lambda handle: np.savez(handle, latents=latents))
    atomic_write(
        out / "sources.npz", lambda handle: np.savez(handle, sources=sources, source_names=names)
    )
    return [out / "latents.npz", out / "sources.npz"]


def score_latents(
    latents: np.ndarray,
    sources: np.ndarray,
    source_names: tuple[str, ...],
    seed: int,
    out: Path,
) -> dict[str, Any] | None:
    """Score with the metrics core (default settings) and write ``scores.json``; None if the
    core lacks ``infomec.score``."""
    import infomec

    score = getattr(infomec, "score", None)
    if score is None:
        warnings.warn("infomec.score is not available; scores.json not written", stacklevel=2)
        return None
    result = score(
        latents=latents, sources=sources, seed=seed, source_names=list(source_names)
    ).to_dict()
    _write_json(out / "scores.json", result)
    return result


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _write_json(path: Path, payload: Any) -> None:
    def write(handle: IO[bytes]) -> None:
        text = json.dumps(payload, indent=2, default=_json_default, allow_nan=False)
        handle.write(text.encode() + b"\n")

    atomic_write(path, write)
