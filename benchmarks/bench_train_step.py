"""Training steps per second: the trainer's loop against a bare PyTorch loop, interleaved.

Both loops train the same network (``models.registry.build_model`` of the same resolved
config, same seed), on the same batches (``models.batches.batch_indices(seed, step)``),
with the same optimizer; the bare loop is forward, loss, backward, clip, step and nothing
else. Arms run in ONE process, one after another within each round, in a rotated order,
so machine contention (other jobs on a shared machine) hits every arm alike; each arm
starts from a fresh model, so first-step costs are paid by all.

Arms:

- ``trainer-plain``: ``models.train.train`` with the bare loop's settings (contiguous
  format, batches rendered in the loop): the trainer's own overhead (progress, logging,
  loss bookkeeping, checkpoint) against ``bare``. Its final parameters must equal the bare
  loop's bit for bit (checked).
- ``trainer``: ``train`` with its CPU defaults (channels-last, batches in the loop).
- ``bare``: the bare loop, one torch thread, contiguous, batches in the loop.
- ``bare+channels_last``, ``bare+prefetch`` (a background thread renders the next batch),
  ``bare+cl+prefetch``, ``bare+threads2`` (two torch threads), ``bare+compile``
  (``torch.compile`` of the network, autoencoders only; opt in with ``--compile``, its
  compile time is reported separately).

The evaluation (encoding the evaluation subset) is timed per round too: the trainer's
(batches of 256, its memory format) against batches of 1024.

Writes ``benchmarks/results/bench_train_step.md`` (or ``--out``) with the command,
``uptime`` before and after, the torch version and threads.

Example
-------
nice -n 5 python benchmarks/bench_train_step.py --model qlae --dataset shapes3d --steps 20
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ARMS = (
    "trainer-plain",
    "trainer",
    "bare",
    "bare+channels_last",
    "bare+prefetch",
    "bare+cl+prefetch",
    "bare+threads2",
)


def uptime() -> str:
    """``uptime``'s line (load averages), or the load averages alone."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qlae")
    parser.add_argument("--dataset", default="shapes3d")
    parser.add_argument("--steps", type=int, default=20, help="steps per arm and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--image-size", type=int, help="default: the CPU profile's (32)")
    parser.add_argument("--batch-size", type=int, help="default: the model's")
    parser.add_argument("--eval-size", type=int, default=5000, help="images per evaluation")
    parser.add_argument("--subset", action="append", metavar="FACTOR=CLASSES")
    parser.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS))
    parser.add_argument("--compile", action="store_true", help="add the bare+compile arm")
    parser.add_argument("--no-eval", action="store_true", help="skip the evaluation timing")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/bench_train_step.md"))
    parser.add_argument("--note", default="", help="free text added to the results file")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.rounds < 1:
        parser.error("--steps and --rounds must be >= 1")
    return args


class Setup:
    """The resolved config, dataset and batch function shared by every arm."""

    def __init__(self, args: argparse.Namespace) -> None:
        from infomec.models.cli import parse_subset
        from infomec.models.config import TrainConfig
        from infomec.models.data import open_dataset

        self.base = TrainConfig(
            model=args.model,
            dataset=args.dataset,
            steps=args.steps,
            device="cpu",
            profile="cpu",
            image_size=args.image_size,
            batch_size=args.batch_size,
            subset=parse_subset(args.subset),
            eval_size=args.eval_size,
            checkpoint_every=args.steps,
            log_every=max(1, min(50, args.steps // 4)),
        )
        self.dataset = open_dataset(
            args.dataset, self.base.effective_image_size(), self.base.subset
        )
        self.config = self.base.resolved(len(self.dataset.factor_names), self.dataset.family)
        # The procedural renderers draw each geometry once, on first use: render the
        # arms' batches once here so that no arm pays that warm-up (a long run pays it once).
        for step in range(self.config.steps):
            self.batch(step, channels_last=False)

    def batch(self, step: int, channels_last: bool):
        import torch

        from infomec.models.batches import batch_indices

        config = self.config
        indices = batch_indices(config.seed, step, len(self.dataset), config.batch_size)
        x = torch.from_numpy(self.dataset.images(indices))
        return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def run_trainer(setup: Setup, folder: Path, plain: bool) -> tuple[float, dict]:
    """(wall, CPU) seconds of the trainer's step loop, and its final parameters."""
    import dataclasses
    import json

    import infomec.models.train as train_module
    from infomec.models.checkpoint import load_checkpoint
    from infomec.models.train import train

    config = dataclasses.replace(setup.base, channels_last=False if plain else None)
    opened = train_module.open_dataset
    # The same (warm) dataset object as the bare arms, rather than a fresh one.
    train_module.open_dataset = lambda *_: setup.dataset
    with tempfile.TemporaryDirectory(dir=folder) as out:
        try:
            train(
                config,
                out,
                progress=False,
                quiet=True,
                score=False,
                figures=False,
                workers=0 if plain else None,
            )
        finally:
            train_module.open_dataset = opened
        timing = json.loads((Path(out) / "train_log.json").read_text())["timing_this_session"]
        params = load_checkpoint(Path(out) / "checkpoint.pt")["model"]
    return (timing["loop_s"], timing["loop_cpu_s"]), params


def run_bare(
    setup: Setup,
    *,
    channels_last: bool = False,
    prefetch: bool = False,
    threads: int = 1,
    compile_model: bool = False,
) -> tuple[float, dict, float]:
    """(wall, CPU) seconds of a bare loop, its final parameters, and its compile seconds
    (the first step, left out of both)."""
    import torch

    from infomec.models.autoencoder import Autoencoder, clipped_step
    from infomec.models.registry import build_model
    from infomec.models.train import set_learning_rate

    config, steps = setup.config, setup.config.steps
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        torch.manual_seed(config.seed)
        net = build_model(config, setup.dataset.image_shape, len(setup.dataset))
        if channels_last:
            net = net.to(memory_format=torch.channels_last)
        optimizers = net.make_optimizers()
        net.train()
        forward = torch.compile(net) if compile_model else net
        autoencoder = isinstance(net, Autoencoder)
        pool = ThreadPoolExecutor(1) if prefetch else None
        compile_s = compile_cpu_s = 0.0
        try:
            pending = pool.submit(setup.batch, 0, channels_last) if pool else None
            started, cpu_started = time.perf_counter(), time.process_time()
            for step in range(steps):
                if pool is not None:
                    x = pending.result()
                    if step + 1 < steps:
                        pending = pool.submit(setup.batch, step + 1, channels_last)
                else:
                    x = setup.batch(step, channels_last)
                began, cpu_began = time.perf_counter(), time.process_time()
                set_learning_rate(optimizers, config, step)  # the cpu recipe's schedule
                if autoencoder:
                    loss = net.objective(x, forward(x))["loss"]
                    clipped_step(optimizers[0], loss, net._clipped)
                else:
                    net.train_step(x, step, optimizers)
                if compile_model and step == 0:
                    compile_s = time.perf_counter() - began
                    compile_cpu_s = time.process_time() - cpu_began
            seconds = time.perf_counter() - started - compile_s
            cpu_seconds = time.process_time() - cpu_started - compile_cpu_s
        finally:
            if pool is not None:
                pool.shutdown()
        return (seconds, cpu_seconds), net.state_dict(), compile_s
    finally:
        torch.set_num_threads(previous)


def time_evaluation(setup: Setup, batch: int, channels_last: bool) -> float:
    """Seconds to encode the evaluation subset with a freshly built model."""
    import dataclasses

    import torch

    import infomec.models.train as train_module
    from infomec.models.registry import build_model

    config = dataclasses.replace(setup.config, channels_last=channels_last)
    torch.manual_seed(0)
    net = build_model(config, setup.dataset.image_shape, len(setup.dataset))
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    saved = train_module.EVAL_BATCH
    train_module.EVAL_BATCH = batch
    try:
        started = time.perf_counter()
        train_module.evaluate(net, setup.dataset, config, torch.device("cpu"))
        return time.perf_counter() - started
    finally:
        train_module.EVAL_BATCH = saved


def arm_functions(setup: Setup, folder: Path, args) -> dict[str, Callable[[], tuple]]:
    arms: dict[str, Callable[[], tuple]] = {
        "trainer-plain": lambda: run_trainer(setup, folder, plain=True),
        "trainer": lambda: run_trainer(setup, folder, plain=False),
        "bare": lambda: run_bare(setup),
        "bare+channels_last": lambda: run_bare(setup, channels_last=True),
        "bare+prefetch": lambda: run_bare(setup, prefetch=True),
        "bare+cl+prefetch": lambda: run_bare(setup, channels_last=True, prefetch=True),
        "bare+threads2": lambda: run_bare(setup, threads=2),
    }
    chosen = {name: arms[name] for name in args.arms}
    if args.compile:
        chosen["bare+compile"] = lambda: run_bare(setup, compile_model=True)
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    import torch

    torch.set_num_threads(1)
    load_before = uptime()
    setup = Setup(args)
    times: dict[str, list[tuple[float, float]]] = {}
    compile_times: list[float] = []
    params: dict[str, dict] = {}
    evals: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        arms = arm_functions(setup, Path(folder), args)
        names = list(arms)
        for round_index in range(args.rounds):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                result = arms[name]()
                times.setdefault(name, []).append(result[0])
                params[name] = result[1]
                if name == "bare+compile":
                    compile_times.append(result[2])
                print(
                    f"round {round_index + 1}: {name} {args.steps / result[0][0]:.2f} "
                    f"steps/s (per CPU second: {args.steps / result[0][1]:.2f})",
                    file=sys.stderr,
                    flush=True,
                )
            if not args.no_eval:
                for label, batch, cl in [
                    ("256 per batch, channels-last (the trainer's)", 256, True),
                    ("1024 per batch, channels-last", 1024, True),
                    ("256 per batch, contiguous", 256, False),
                ]:
                    evals.setdefault(label, []).append(time_evaluation(setup, batch, cl))
    load_after = uptime()
    text = render(args, argv, setup, times, compile_times, params, evals, load_before, load_after)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
    return 0


def _equal(a: dict, b: dict) -> bool:
    import torch

    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def render(args, argv, setup, times, compile_times, params, evals, before, after) -> str:
    import torch

    steps = args.steps
    rates = {name: [steps / wall for wall, _ in values] for name, values in times.items()}
    cpu_rates = {name: [steps / cpu for _, cpu in values] for name, values in times.items()}
    lines = [
        "# Training steps per second: trainer vs bare PyTorch loop (CPU)",
        "",
        f"Command: `python benchmarks/bench_train_step.py {' '.join(argv)}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch thread unless the arm says otherwise.",
        "",
        f"Load: before `{before}`; after `{after}`. **On a shared machine these numbers "
        "are contended**: compare arms only with each other (they ran interleaved in one "
        "process, rotated each round). Steps per CPU second (the process's CPU time, every "
        "thread) depend far less on other jobs than steps per wall second, but do not show "
        "what overlapping work saves (a batch thread) and count a spinning thread as work.",
        "",
        f"Run: {setup.config.model} on {setup.config.dataset}, {setup.config.image_size} px "
        f"`{setup.config.arch}` network, batch {setup.config.batch_size}, {steps} steps per "
        f"arm and round, {args.rounds} rounds; each arm from a fresh model (seed "
        f"{setup.config.seed}), all on one dataset object whose procedural geometry was "
        "rendered before timing.",
        "",
        "| arm | steps/s per round (wall) | median | median ratio to bare | steps per CPU s "
        "per round | median | median ratio to bare |",
        "|---|---|---|---|---|---|---|",
    ]

    def ratio(values: list[float], base: list[float] | None) -> str:
        if base is None:
            return "–"
        return f"{statistics.median(v / b for v, b in zip(values, base, strict=True)):.3f}"

    for name in rates:
        wall, cpu = rates[name], cpu_rates[name]
        lines.append(
            f"| {name} | {', '.join(f'{v:.2f}' for v in wall)} | {statistics.median(wall):.2f} "
            f"| {ratio(wall, rates.get('bare'))} | {', '.join(f'{v:.2f}' for v in cpu)} | "
            f"{statistics.median(cpu):.2f} | {ratio(cpu, cpu_rates.get('bare'))} |"
        )
    lines.append("")
    if "trainer-plain" in params and "bare" in params:
        same = _equal(params["trainer-plain"], params["bare"])
        lines.append(
            f"Same computation: the trainer-plain and bare arms end with "
            f"{'bit-identical' if same else '**different**'} parameters."
        )
    if "trainer" in params and "bare+channels_last" in params:
        same = _equal(params["trainer"], params["bare+channels_last"])
        lines.append(
            f"The trainer's defaults and bare+channels_last end with "
            f"{'bit-identical' if same else '**different**'} parameters."
        )
    if compile_times:
        lines.append(
            f"torch.compile: first step (compilation) {statistics.median(compile_times):.1f} s "
            "(median over rounds), excluded from its steps/s."
        )
    if evals:
        lines += [
            "",
            f"Evaluation (encoding {setup.config.eval_size} images, fresh model), seconds "
            "per round:",
            "",
            "| evaluation | seconds per round | median |",
            "|---|---|---|",
        ]
        for label, values in evals.items():
            per_round = ", ".join(f"{v:.2f}" for v in values)
            lines.append(f"| {label} | {per_round} | {statistics.median(values):.2f} |")
    if args.note:
        lines += ["", f"Note: {args.note}"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
