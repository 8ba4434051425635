"""The training loop: seeded batches, checkpoints (by steps, by wall time, on Ctrl-C/SIGTERM),
resume, progress, periodic evaluation and the final evaluation.

A run directory ends up holding ``checkpoint.pt``, ``train.log`` (every progress line),
``train_log.json`` (settings and why they were chosen, loss history, evaluations,
reconstruction quality), ``latents.npz``, ``sources.npz``, ``scores.json`` and, with
``eval_every``, ``curves.png``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch

from .batches import BatchStream
from .checkpoint import (
    CHECKPOINT_NAME,
    atomic_write,
    capture_rng,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
)
from .config import QUANTIZED_MODELS, RESUMABLE_CHANGES, TrainConfig
from .curves import LOSSES_NAME, LossLog, plot_curves
from .data import FactorDataset, evaluation_indices, open_dataset
from .interrupt import StopRequests, TrainingInterrupted
from .progress import Progress, format_seconds, open_log
from .registry import build_model
from .schedule import describe_schedule, lr_multiplier

EVAL_BATCH = 256
#: Per-latent KL file of Gaussian-posterior runs (the name ``infomec sweep`` looks for).
KL_NAME = "kl.npy"


def _device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda requested but PyTorch sees no CUDA device")
    return torch.device(name)


def default_device() -> str:
    """``cuda`` when PyTorch sees a CUDA device, else ``cpu``."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def resumed_config(out_dir: str | Path, changes: Mapping[str, Any] | None = None) -> TrainConfig:
    """The config saved in ``out_dir``'s checkpoint, updated by ``changes`` (for example a
    larger ``steps``); pass the result to :func:`train` with ``resume=True``."""
    checkpoint = load_checkpoint(Path(out_dir) / CHECKPOINT_NAME)
    # Checkpoints from before the channels_last setting were trained in the default format.
    # Those from before the lr_schedule setting trained at the authors' constant rate.
    saved = {"channels_last": False, "lr_schedule": "constant", **checkpoint["config"]}
    return TrainConfig.from_dict({**saved, **(changes or {})})


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
    """Means of logged loss terms since the last log entry (GAN terms appear on some steps).

    Sums stay float64 tensors on the training device, so adding a step's losses never waits
    for the device; values are read only when a log entry or a report needs them. Saved sums
    are Python floats (float64), so a resumed run continues the same float64 additions.
    """

    def __init__(self) -> None:
        self.sums: dict[str, Any] = {}
        self.counts: dict[str, int] = {}

    def add(self, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            value = torch.as_tensor(value).to(torch.float64)
            self.sums[name] = self.sums.get(name, 0.0) + value
            self.counts[name] = self.counts.get(name, 0) + 1

    def state(self) -> dict[str, dict[str, float]]:
        return {"sums": {k: float(v) for k, v in self.sums.items()}, "counts": dict(self.counts)}

    def load(self, state: Mapping[str, Mapping[str, float]]) -> None:
        self.sums.update(state["sums"])
        self.counts.update(state["counts"])

    def peek(self) -> dict[str, float]:
        return {name: float(self.sums[name]) / self.counts[name] for name in self.sums}

    def pop(self) -> dict[str, float]:
        means = self.peek()
        self.sums.clear()
        self.counts.clear()
        return means


@contextmanager
def keep_torch_threads() -> Iterator[None]:
    """Restore torch's CPU thread count after the block.

    Scoring with ``infomec`` runs numba kernels whose OpenMP layer shares libgomp with
    torch; resetting numba's thread count afterwards also sets torch's (1 became 2,
    measured), and on a busy 2-core machine two spinning threads made every later step
    cost about 3x its CPU time. Every ``infomec.score`` call of the trainer runs inside.
    """
    threads = torch.get_num_threads()
    try:
        yield
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


def _check_finite(values: Mapping[str, float], step: int) -> None:
    if not all(math.isfinite(value) for value in values.values()):
        raise ValueError(f"training diverged (non-finite loss) by step {step}")


def _loss_text(means: Mapping[str, float]) -> str:
    key = "loss" if "loss" in means else "critic" if "critic" in means else None
    return f"{key} {means[key]:.4g}" if key else ""


def _check_scorable(dataset: FactorDataset, config: TrainConfig) -> None:
    """Refuse an evaluation subset too small for infomec to score its factors.

    infomec refuses a source with fewer than ``MIN_ROWS_PER_SOURCE_VALUE`` rows per
    distinct value (mutual information means nothing there); finding that out after
    the training would waste it.
    """
    from infomec._validation import MIN_ROWS_PER_SOURCE_VALUE

    indices = evaluation_indices(len(dataset), config.eval_size, config.data_seed)
    factors = dataset.factors(indices)
    for name, column in zip(dataset.factor_names, factors.T, strict=True):
        values = len(np.unique(column))
        if len(indices) < MIN_ROWS_PER_SOURCE_VALUE * values:
            raise ValueError(
                f"--eval-size {len(indices)} is too small to score: factor {name!r} takes "
                f"{values} values in the evaluation images (at least "
                f"{MIN_ROWS_PER_SOURCE_VALUE} images per value are needed); use "
                f"--eval-size {MIN_ROWS_PER_SOURCE_VALUE * values} or more, a --subset of "
                f"{name}, or --no-score"
            )


def describe(config: TrainConfig, dataset: FactorDataset) -> str:
    """One line saying what runs, where, and why its sizes are what they are."""
    chosen = config.chosen_by or {}
    steps_why = chosen.get("steps", "given").split(":")[0]
    parts = [
        f"{config.model} on {dataset.family} ({len(dataset):,} images), {config.steps} steps "
        f"({steps_why})",
        f"device {config.device}",
        f"{config.profile} profile: {config.image_size} px `{config.arch}` network, "
        f"batch {config.batch_size}, {config.eval_size} evaluation images",
        describe_schedule(config.lr_schedule, config.lr_decay_steps),
    ]
    if config.beta is not None:
        parts.append(f"beta {config.beta:g} ({chosen.get('beta', 'given')})")
    line = "infomec train: " + "; ".join(parts)
    if config.profile == "cpu" and chosen.get("profile", "").startswith("default"):
        line += (
            " [no CUDA device, so the CPU profile; --profile paper trains the authors' "
            "64 px network, about 100x slower per step]"
        )
    return line


def train(
    config: TrainConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool | None = None,
    quiet: bool = False,
    score: bool = True,
    workers: int | None = None,
    report_seconds: float = 10.0,
    figures: bool = True,
) -> dict[str, Any]:
    """Train a model, checkpointing as it goes, then evaluate it and write the run's files.

    Parameters
    ----------
    config : TrainConfig
        The run's settings. When resuming it may differ from the saved settings (see
        :func:`resumed_config`) only in those of ``RESUMABLE_CHANGES`` (steps, device,
        periods, evaluation size, presets).
    out_dir : str or Path
        Run directory (created if needed).
    resume : bool, default=False
        Continue from ``out_dir/checkpoint.pt``. The result equals an uninterrupted run.
    progress : bool, optional
        tqdm bar on stderr; default: when stderr is a terminal. Without a bar, one line
        (step, loss, steps/s, ETA) every ``report_seconds``.
    quiet : bool, default=False
        Nothing on stderr; ``DIR/train.log`` still gets every line.
    score : bool, default=True
        Compute InfoMEC with ``infomec.score`` for each of ``config.presets`` and write
        ``scores.json``.
    workers : int, optional
        Threads preparing batches ahead (0: in the loop); default 2 on CUDA, 0 on a CPU.
    report_seconds : float, default=10
        Period of the one-line progress reports.
    figures : bool, default=True
        Write ``reconstructions.png``, ``traversals.png``, ``curves.png`` and (with
        ``score``) ``report.html`` at the end (see :mod:`models.pictures`).

    Returns
    -------
    dict
        ``config`` (resolved), ``eval`` (``bce``, ``psnr``), ``scores`` (or None),
        ``evaluations`` and the output ``files``.

    Notes
    -----
    ``losses.csv`` gets one row of mean loss terms per ``log_every`` steps as training goes;
    ``train_log.json``'s ``timing_this_session`` records the loop's steps/s.

    Raises
    ------
    TrainingInterrupted
        After SIGINT/SIGTERM: a checkpoint at the current step has been saved.
    """
    out = Path(out_dir)
    checkpoint_path = out / CHECKPOINT_NAME
    checkpoint = None
    if resume:
        checkpoint = load_checkpoint(checkpoint_path)
    elif checkpoint_path.exists():
        raise ValueError(f"{out} already holds a checkpoint; resume it or choose another dir")
    config = dataclasses.replace(config, device=config.device or default_device())
    device = _device(config.device)
    if config.channels_last is None:
        chosen = {**(config.chosen_by or {}), "channels_last": f"default on {device.type}"}
        config = dataclasses.replace(config, channels_last=device.type == "cpu", chosen_by=chosen)
    dataset = open_dataset(config.dataset, config.effective_image_size(), config.subset)
    config = config.resolved(len(dataset.factor_names), dataset.family)
    if score or config.eval_every:
        _check_scorable(dataset, config)  # before training, not after it
    if checkpoint is not None:
        saved = TrainConfig.from_dict(checkpoint["config"])
        _check_resumable(saved.resolved(len(dataset.factor_names), dataset.family), config)
        if checkpoint["step"] > config.steps:
            raise ValueError(
                f"the checkpoint is at step {checkpoint['step']}, beyond steps={config.steps}"
            )
    out.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(config.seed)
    model = build_model(config, dataset.image_shape, len(dataset)).to(device)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizers = model.make_optimizers()
    step, history, evaluations, means = 0, [], [], _RunningMeans()
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        for optimizer, state in zip(optimizers, checkpoint["optimizers"], strict=True):
            optimizer.load_state_dict(state)
        restore_rng(checkpoint["rng"], device)
        step, history = checkpoint["step"], checkpoint["history"]
        evaluations = checkpoint.get("evaluations", [])
        means.load(checkpoint["pending_log"])

    saved_step = step if checkpoint is not None else None
    timing = {"loop_s": 0.0, "loop_cpu_s": 0.0, "checkpoint_s": 0.0, "evaluation_s": 0.0}
    timing["steps"] = 0

    def save() -> None:
        nonlocal saved_step
        began = time.perf_counter()
        saved_step = step
        save_checkpoint(
            checkpoint_path,
            {
                "step": step,
                "config": config.to_dict(),
                "model": model.state_dict(),
                "optimizers": [optimizer.state_dict() for optimizer in optimizers],
                "rng": capture_rng(device),
                "history": history,
                "evaluations": evaluations,
                "pending_log": means.state(),
            },
        )
        timing["checkpoint_s"] += time.perf_counter() - began

    def evaluate_now(reporter: Progress) -> None:
        began = time.perf_counter()
        evaluations.append(periodic_evaluation(model, dataset, config, device, step, reporter))
        timing["evaluation_s"] += time.perf_counter() - began

    log_file = open_log(out / "train.log")
    losses = LossLog(out / LOSSES_NAME)
    # The loss file is rewritten from the checkpoint's history, so a resumed run drops the
    # entries an interrupted session logged after its last checkpoint.
    losses.rewrite(history)
    started = time.perf_counter()
    try:
        notice = Progress(0, desc="", log_file=log_file, bar=False, quiet=quiet)
        notice.message(describe(config, dataset))
        if checkpoint is not None:
            notice.message(f"infomec train: resuming {out} at step {step}/{config.steps}")
        if workers is None:
            workers = default_workers(device)
        bar = Progress(
            config.steps,
            step,
            desc=f"{config.model} step",
            log_file=log_file,
            bar=progress,
            quiet=quiet,
            every_seconds=report_seconds,
        )
        last_save = time.monotonic()
        memory_format = torch.channels_last if config.channels_last else None
        stream = BatchStream(
            dataset, config.seed, config.batch_size, device, workers, memory_format=memory_format
        )
        with StopRequests() as stop, bar, stream:
            if _evaluation_missing(config, evaluations, step):
                # A run extended past its old end (--steps) lacks the evaluation that end's
                # final scoring made; evaluating draws no random numbers, so add it now.
                evaluate_now(bar)
            # CPU seconds of the whole process (every thread) beside wall seconds: on a
            # shared machine their ratio shows how much of the time others took.
            loop_started, loop_cpu, first_step = time.perf_counter(), time.process_time(), step
            while step < config.steps and not stop.requested:
                # The step's loss terms stay tensors; they are read (one host sync) only
                # for a log entry every log_every steps or a progress line.
                set_learning_rate(optimizers, config, step)
                means.add(model.train_step(stream.get(step), step, optimizers))
                step += 1
                if step % config.log_every == 0:
                    history.append({"step": step, **means.pop()})
                    _check_finite(history[-1], step)
                    losses.append(history[-1])
                if config.eval_every and step % config.eval_every == 0 and step < config.steps:
                    evaluate_now(bar)
                    plot_curves(evaluations, history, out / "curves.png", _title(config))
                overdue = time.monotonic() - last_save >= 60 * config.checkpoint_minutes
                if step % config.checkpoint_every == 0 or step == config.steps or overdue:
                    _check_finite(means.peek(), step)
                    save()
                    last_save = time.monotonic()
                if bar.due() or bar.bar is not None and step % config.log_every == 0:
                    recent = means.peek() or (history[-1] if history else {})
                    bar.update(step, _loss_text(recent))
                else:
                    bar.update(step)
            timing["loop_s"] = time.perf_counter() - loop_started
            timing["loop_cpu_s"] = time.process_time() - loop_cpu
            timing["steps"] = step - first_step
            if stop.requested:
                if step != saved_step:
                    save()
                if evaluations:
                    plot_curves(evaluations, history, out / "curves.png", _title(config))
                bar.message(
                    f"infomec train: stopped at step {step}/{config.steps}; checkpoint saved. "
                    f"Continue with: infomec train --resume --out {out}"
                )
                raise TrainingInterrupted(step, config.steps, str(out))
        train_seconds = time.perf_counter() - started
        notice.message(
            f"infomec train: trained to step {step} in {format_seconds(train_seconds)}; "
            "encoding the evaluation images"
        )
        return _finish(
            model,
            dataset,
            config,
            device,
            out,
            history,
            evaluations,
            means,
            train_seconds,
            score,
            {"log_file": log_file, "bar": progress, "quiet": quiet},
            {**timing, "steps_per_s": _rate(timing)},
            figures,
        )
    finally:
        log_file.close()


def set_learning_rate(optimizers: list[torch.optim.Optimizer], config: TrainConfig, step: int):
    """Set every parameter group's rate for the update made at ``step`` (a function of the
    step alone, so an interrupted and resumed run follows the same rates)."""
    rate = config.lr * lr_multiplier(config.lr_schedule, step, config.lr_decay_steps)
    for optimizer in optimizers:
        for group in optimizer.param_groups:
            group["lr"] = rate


def _rate(timing: Mapping[str, float]) -> float | None:
    """Training steps per second of this session's loop, checkpoints and evaluations
    included (what a user waits for)."""
    return timing["steps"] / timing["loop_s"] if timing["loop_s"] > 0 else None


def default_workers(device: torch.device) -> int:
    """Batch-preparing threads: 2 on CUDA; none on a CPU, where a thread rendering the
    next batch was about 5 % slower, not faster (benchmarks/results/bench_train_step.md)."""
    return 2 if device.type == "cuda" else 0


def _evaluation_missing(config: TrainConfig, evaluations: list[dict[str, Any]], step: int) -> bool:
    """Whether step ``step`` (0 < step < steps) is an ``eval_every`` step with no entry."""
    if not config.eval_every or step == 0 or step >= config.steps or step % config.eval_every:
        return False
    return not evaluations or evaluations[-1]["step"] != step


def _title(config: TrainConfig) -> str:
    return f"{config.model}, {config.dataset}, seed {config.seed}"


def _finish(
    model: torch.nn.Module,
    dataset: FactorDataset,
    config: TrainConfig,
    device: torch.device,
    out: Path,
    history: list[dict[str, Any]],
    evaluations: list[dict[str, Any]],
    means: _RunningMeans,
    train_seconds: float,
    score: bool,
    progress_options: Mapping[str, Any],
    timing: Mapping[str, Any],
    figures: bool,
) -> dict[str, Any]:
    """Final evaluation, scores and the run's files."""
    latents, sources, quality = evaluate(model, dataset, config, device, progress_options)
    kl = quality.pop("kl_per_latent", None)
    reporter = Progress(
        0, log_file=progress_options["log_file"], bar=False, quiet=progress_options["quiet"]
    )
    files = write_outputs(out, latents, sources, dataset.factor_names, kl)
    scores, result = None, None
    if score:
        started = time.perf_counter()
        reporter.message(
            f"infomec train: scoring {len(latents)} latents (presets {', '.join(config.presets)})"
        )
        scores, result = score_latents(latents, sources, dataset.factor_names, config, out)
        files.append(out / "scores.json")
        reporter.message(
            f"infomec train: scored in {format_seconds(time.perf_counter() - started)}"
        )
    final = {"step": config.steps, **quality}
    if scores is not None:
        final.update(_infomec_summary(scores))
    evaluations = [*evaluations, final]
    # A last, partial logging interval is reported but kept out of the checkpoint's history,
    # so a resumed run logs exactly the entries an uninterrupted one would.
    partial = [{"step": config.steps, **means.peek()}] if means.sums else []
    LossLog(out / LOSSES_NAME).rewrite(history + partial)
    files.append(out / LOSSES_NAME)
    log = {
        "config": config.to_dict(),
        "history": history + partial,
        "evaluations": evaluations,
        "eval": {
            **quality,
            "n_samples": len(latents),
            "discrete_latents": config.model in QUANTIZED_MODELS,
        },
        "train_seconds_this_session": train_seconds,
        "timing_this_session": dict(timing),
        "torch_version": torch.__version__,
    }
    _write_json(out / "train_log.json", log)
    files.append(out / "train_log.json")
    if figures:
        from .pictures import write_pictures

        files += write_pictures(model, dataset, config, device, out, latents, result, log)
    return {
        "config": config,
        "eval": quality,
        "scores": scores,
        "evaluations": evaluations,
        "files": files,
    }


def _infomec_summary(scores: Mapping[str, Any]) -> dict[str, Any]:
    values = scores.get("infomec", {})
    summary = {name: float(values[name]) for name in ("infom", "infoe", "infoc") if name in values}
    if "active_latents" in values:
        summary["n_active"] = int(np.sum(values["active_latents"]))
    return summary


def periodic_evaluation(
    model: torch.nn.Module,
    dataset: FactorDataset,
    config: TrainConfig,
    device: torch.device,
    step: int,
    reporter: Progress | None = None,
) -> dict[str, Any]:
    """Encode the evaluation subset and score it with the first preset (``eval_every``).

    Draws no random numbers from the training streams, so it does not change the run.
    """
    import infomec

    latents, sources, quality = evaluate(model, dataset, config, device)
    quality.pop("kl_per_latent", None)
    with keep_torch_threads():
        # A curve point: no permutation null (the final scores carry the chance levels).
        result = infomec.score(
            latents=latents,
            sources=sources,
            preset=config.presets[0],
            seed=config.seed,
            null=0,
            progress=False,
        ).to_dict()
    entry = {"step": step, **quality, **_infomec_summary(result)}
    if reporter is not None:
        reporter.message(
            f"eval at step {step}: InfoM {entry['infom']:.3f}, InfoE {entry['infoe']:.3f}, "
            f"InfoC {entry['infoc']:.3f}, PSNR {entry['psnr']:.2f} dB"
        )
    return entry


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    dataset: FactorDataset,
    config: TrainConfig,
    device: torch.device,
    progress_options: Mapping[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Encode the seeded evaluation subset (with progress when ``progress_options``, the
    keyword arguments of :class:`models.progress.Progress`, are given).

    Returns
    -------
    latents : ndarray of shape (n, num_latents)
        int64 codes for quantized models, float64 means/encodings otherwise.
    sources : ndarray of shape (n, n_factors)
        int64 factor classes.
    quality : dict
        Mean reconstruction ``bce`` (per pixel) and ``psnr`` (dB, per image then averaged);
        for Gaussian-posterior models also ``kl_per_latent`` (ndarray, mean KL to the prior
        of each latent).
    """
    indices = evaluation_indices(len(dataset), config.eval_size, config.data_seed)
    reporter = None
    if progress_options is not None:
        reporter = Progress(len(indices), desc="encode images", **progress_options)
    codes, bce, psnr, kl = [], [], [], []
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    for start in range(0, len(indices), EVAL_BATCH):
        batch = indices[start : start + EVAL_BATCH]
        x = torch.from_numpy(dataset.images(batch)).to(device, memory_format=memory_format)
        latent, quality = model.evaluate(x)
        codes.append(latent.cpu().numpy())
        bce.append(quality["bce"].cpu().numpy())
        psnr.append(quality["psnr"].cpu().numpy())
        if "kl" in quality:
            kl.append(quality["kl"].cpu().numpy())
        if reporter is not None:
            done = start + len(batch)
            reporter.update(done, "" if reporter.due() or done == len(indices) else None)
    if reporter is not None:
        reporter.close()
    latents = np.concatenate(codes)
    latents = latents.astype(np.int64 if latents.dtype.kind in "iu" else np.float64)
    quality: dict[str, Any] = {
        "bce": float(np.concatenate(bce).mean()),
        "psnr": float(np.concatenate(psnr).mean()),
    }
    if kl:
        # Mean over the evaluation images of KL(q(z_j | x) || N(0, 1)), per latent j.
        quality["kl_per_latent"] = np.concatenate(kl).mean(axis=0).astype(np.float64)
    return latents, dataset.factors(indices), quality


def write_outputs(
    out: Path,
    latents: np.ndarray,
    sources: np.ndarray,
    source_names: tuple[str, ...],
    kl: np.ndarray | None = None,
) -> list[Path]:
    """Write ``latents.npz`` (key ``latents``) and ``sources.npz`` (``sources``,
    ``source_names``) atomically, and ``kl.npy`` (per-latent KL to the prior, what
    ``infomec sweep`` reads for UDR's active latents) when ``kl`` is given."""
    names = np.array(source_names, dtype=np.str_)
    atomic_write(out / "latents.npz", lambda handle: np.savez(handle, latents=latents))
    atomic_write(
        out / "sources.npz", lambda handle: np.savez(handle, sources=sources, source_names=names)
    )
    files = [out / "latents.npz", out / "sources.npz"]
    if kl is not None:
        atomic_write(out / KL_NAME, lambda handle: np.save(handle, kl))
        files.append(out / KL_NAME)
    return files


def score_latents(
    latents: np.ndarray,
    sources: np.ndarray,
    source_names: tuple[str, ...],
    config: TrainConfig,
    out: Path,
) -> dict[str, Any]:
    """Score with ``infomec.score`` under each of ``config.presets``; write ``scores.json``.

    The file's top level is the first preset's result (``infomec.ScoreResult.to_dict``, whose
    ``settings`` name the preset), plus ``preset`` (its name) and ``presets`` (every preset's
    result by name).
    """
    import infomec

    with keep_torch_threads():
        results = {
            preset: infomec.score(
                latents=latents,
                sources=sources,
                preset=preset,
                seed=config.seed,
                source_names=list(source_names),
            )
            for preset in config.presets
        }
    by_preset = {preset: result.to_dict() for preset, result in results.items()}
    first = config.presets[0]
    payload = {**by_preset[first], "preset": first, "presets": by_preset}
    _write_json(out / "scores.json", payload)
    return payload, results[first]


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
