"""Where reconstruction stops improving: one training run with periodic evaluations.

Trains ``--model`` on ``--dataset`` for ``--steps`` steps with the reference trainer
(``models/``; CPU profile unless told otherwise), evaluating every ``--eval-every`` steps
(PSNR and InfoM / InfoE / InfoC of the seeded evaluation subset), and writes the curve as a
CSV and a short markdown summary beside it.

The plateau rule (issue 23): the plateau step is the first evaluated step t from which
PSNR gains less than 0.5 dB over the last fifth of training at every later evaluation,
i.e. PSNR(t') - PSNR(0.8 t') < 0.5 dB for all evaluated t' >= t, with PSNR(0.8 t') read
off the curve by linear interpolation between evaluations (steps with 0.8 t' before the
first evaluation are not judged). That step is what the CPU
profile's default step table (``models/config.py``, ``CPU_DEFAULT_STEPS``) should hold.

The run directory keeps its checkpoint: rerunning the same command resumes an interrupted
run (and a larger ``--steps`` extends a finished one).

Example
-------
nice -n 5 python benchmarks/plateau.py --model qlae --dataset shapes3d --steps 6000 \\
    --eval-every 500
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GAIN_DB = 0.5
FRACTION = 0.2  # the last fifth of training
COLUMNS = ("step", "psnr", "bce", "infom", "infoe", "infoc", "n_active", "gain_last_fifth_db")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--dataset", required=True, help="dsprites, shapes3d or a file")
    parser.add_argument("--steps", type=int, required=True, help="training steps")
    parser.add_argument("--eval-every", type=int, required=True, metavar="E")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", default="cpu", choices=("cpu", "paper"))
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--eval-size", type=int, help="default: the profile's")
    parser.add_argument("--image-size", type=int, help="default: the profile's")
    parser.add_argument("--batch-size", type=int, help="default: the model's")
    parser.add_argument("--subset", action="append", metavar="FACTOR=CLASSES")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--runs-dir", help="default: a folder under the system temp dir")
    parser.add_argument("--csv", help="default: benchmarks/results/plateau_MODEL_DATASET.csv")
    args = parser.parse_args(argv)
    for name in ("steps", "eval_every", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.eval_every > args.steps:
        parser.error("--eval-every must be <= --steps")
    return args


def interpolate(curve: Sequence[tuple[int, float]], step: float) -> float:
    """PSNR at ``step`` by linear interpolation between evaluated points (NaN outside).

    Examples
    --------
    >>> interpolate([(100, 20.0), (200, 22.0)], 150)
    21.0
    """
    for (s0, v0), (s1, v1) in zip(curve, curve[1:], strict=False):
        if s0 <= step <= s1:
            return v0 + (v1 - v0) * (step - s0) / (s1 - s0)
    if curve and step == curve[-1][0]:
        return curve[-1][1]
    return math.nan


def gains(curve: Sequence[tuple[int, float]]) -> list[float]:
    """PSNR(t) - PSNR(0.8 t) for each evaluated step t (NaN where 0.8 t is not covered).

    Examples
    --------
    >>> gains([(100, 20.0), (200, 22.0), (300, 22.5), (400, 22.6)])
    [nan, 0.8000000000000007, 0.3000000000000007, 0.08000000000000185]
    """
    return [v - interpolate(curve, (1 - FRACTION) * s) for s, v in curve]


def plateau_step(curve: Sequence[tuple[int, float]]) -> int | None:
    """The first evaluated step from which the last-fifth PSNR gain stays below 0.5 dB at
    every later evaluation (None if the last one still gains more).

    A single flat stretch is not a plateau: one noisy evaluation can make PSNR(t) -
    PSNR(0.8 t) small early on while the curve keeps rising (a qlae run on shapes3d gained
    0.46 dB over steps 1600-2000, then 3.9 dB more by step 6000).

    Examples
    --------
    >>> plateau_step([(100, 20.0), (200, 22.0), (300, 23.0), (400, 23.3), (500, 23.5)])
    400
    >>> plateau_step([(100, 20.0), (200, 22.0), (300, 22.3), (400, 23.5), (500, 24.8)])
    >>> plateau_step([(100, 20.0), (200, 22.0)]) is None
    True
    """
    found = None
    for (step, _), gain in zip(curve, gains(curve), strict=True):
        if not math.isfinite(gain):
            continue
        if gain >= GAIN_DB:
            found = None
        elif found is None:
            found = step
    return found


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    import torch

    from infomec.models.cli import parse_subset
    from infomec.models.config import TrainConfig
    from infomec.models.train import train

    torch.set_num_threads(args.threads)
    dataset_name = Path(args.dataset).stem
    csv_path = Path(
        args.csv or ROOT / f"benchmarks/results/plateau_{args.model}_{dataset_name}.csv"
    )
    runs = Path(args.runs_dir or Path(tempfile.gettempdir()) / "infomec-plateau-runs")
    run_dir = runs / f"{args.model}-{dataset_name}-seed{args.seed}-every{args.eval_every}"
    config = TrainConfig(
        model=args.model,
        dataset=args.dataset,
        steps=args.steps,
        seed=args.seed,
        device=args.device,
        profile=args.profile,
        eval_size=args.eval_size,
        image_size=args.image_size,
        batch_size=args.batch_size,
        subset=parse_subset(args.subset),
        eval_every=args.eval_every,
        checkpoint_every=max(args.eval_every, 100),
    )
    before = uptime()
    started = time.perf_counter()
    resume = (run_dir / "checkpoint.pt").exists()
    if resume:
        from infomec.models.train import resumed_config

        config = resumed_config(run_dir, {"steps": args.steps})
    try:
        summary = train(config, run_dir, resume=resume)
    except KeyboardInterrupt:
        print(f"plateau.py: stopped; rerun the same command to continue {run_dir}")
        return 130
    wall = time.perf_counter() - started
    entries = sorted(summary["evaluations"], key=lambda entry: entry["step"])
    curve = [(int(entry["step"]), float(entry["psnr"])) for entry in entries]
    steps_gain = gains(curve)
    found = plateau_step(curve)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for entry, gain in zip(entries, steps_gain, strict=True):
            row = [entry.get(name, "") for name in COLUMNS[:-1]]
            writer.writerow([*row, "" if not math.isfinite(gain) else f"{gain:.3f}"])
    log = json.loads((run_dir / "train_log.json").read_text())
    timing = log.get("timing_this_session", {})
    verdict = (
        f"plateau at step {found} (PSNR {dict(curve)[found]:.2f} dB; it gained < {GAIN_DB} dB "
        "over the last fifth of training)"
        if found is not None
        else f"no plateau by step {args.steps}: the last fifth still gained "
        f"{steps_gain[-1]:.2f} dB (train longer)"
    )
    text = "\n".join(
        [
            f"# Plateau: {args.model} on {args.dataset}",
            "",
            f"Command: `python benchmarks/plateau.py {' '.join(argv)}`",
            "",
            f"torch {torch.__version__}, {args.threads} thread(s). Load before: `{before}`; "
            f"after: `{uptime()}`.",
            "",
            f"Result: **{verdict}**. Final PSNR {curve[-1][1]:.2f} dB at step {curve[-1][0]}.",
            "",
            f"Wall time of this session: {wall / 60:.1f} min (training loop "
            f"{timing.get('loop_s', math.nan) / 60:.1f} min at "
            f"{timing.get('steps_per_s') or math.nan:.2f} steps/s, of which evaluations "
            f"{timing.get('evaluation_s', math.nan) / 60:.1f} min).",
            "",
            f"Curve: `{csv_path.name}`; run directory (pictures, report.html): `{run_dir}`.",
            "",
        ]
    )
    csv_path.with_suffix(".md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
