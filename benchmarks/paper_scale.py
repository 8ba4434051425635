"""The paper-scale table on one CUDA GPU: the authors' configuration within a time budget.

Same runs, outputs and statistics as ``paper_table.py`` (means with 95 % t-intervals, Welch
tests, both presets, per-run rows, a verdict per claim of the abstract, a figure; every run
directory holds its reconstructions.png, traversals.png, curves.png and losses.csv), but with
the authors' settings: 64 px images,
their 12-conv encoder and style decoder (``--profile paper``), batch 128 for the
autoencoders and 64 for the GANs, 2x10^5 steps, 10,000 evaluation images, 3 seeds.

On the GPU the trainer prepares batches ahead on worker threads (each batch is a function
of seed and step, so the order of preparation does not matter), copies them from pinned
memory without blocking, and keeps the losses on the device: the host reads them only for
a log entry (every ``--log-every``-sized interval) or a progress line (every 10 s), never per
step. TF32 matrix products are on by default (JAX's default on such GPUs, which the
authors used); ``--no-tf32`` turns them off.

``--budget HOURS`` bounds the whole table: a short calibration measures each model's
steps/s, and the step count is 2x10^5 if every run fits, else the largest that does (the
table then says so). Each run checkpoints every 5 minutes of wall time; rerunning the same
command continues unfinished runs and skips finished ones.

Not yet measured on a GPU. Estimate from the FLOP count (about 2.7 GFLOP per 64 px image
per training step for the paper network, batch 128, 2x10^5 steps): about 12 to 46 minutes
per autoencoder run on one H100, depending on the utilisation reached.

Example
-------
python benchmarks/paper_scale.py --budget 8 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import paper_table  # noqa: E402

AUTHORS_STEPS = 200_000


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=8.0, help="hours for the whole table")
    parser.add_argument("--steps", type=int, help="steps per run (default: 2x10^5 if it fits)")
    parser.add_argument("--dataset", default="shapes3d")
    parser.add_argument(
        "--models", nargs="+", default=list(paper_table.DEFAULT_MODELS), choices=paper_table.MODELS
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    parser.add_argument("--image-size", type=int, help="default 64 (CPU tests use less)")
    parser.add_argument("--arch", help="default: the authors' (paper)")
    parser.add_argument("--eval-size", type=int, help="default 10000")
    parser.add_argument("--eval-every", type=int, help="periodic InfoMEC evaluations (curves)")
    parser.add_argument("--subset", action="append", metavar="FACTOR=CLASSES")
    parser.add_argument("--presets", nargs="+", default=["paper", "reference"])
    parser.add_argument("--workers", type=int, default=4, help="batch-preparing threads")
    parser.add_argument(
        "--overhead-seconds", type=float, default=120.0, help="per run: encoding and scoring"
    )
    parser.add_argument("--threads", type=int, default=4, help="torch CPU threads")
    parser.add_argument("--tf32", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--runs-dir")
    parser.add_argument(
        "--out", default=str(paper_table.ROOT / "benchmarks/results/paper_scale.md")
    )
    parser.add_argument("--figure")
    parser.add_argument("--machine-note", default="")
    args = parser.parse_args(argv)
    # The fields paper_table's functions read.
    args.profile, args.batch_size, args.mig, args.render_only = "paper", None, True, False
    # paper_table's other options: a fixed step count, every model on every seed; each run
    # writes its pictures (reconstructions, traversals, curves) into its run directory.
    args.plateau, args.gan_seeds, args.suite, args.max_steps = False, None, None, None
    args.quiet_check, args.pictures = False, True
    args.lanes, args.only_run, args.row_file = 1, None, None  # one GPU: runs in turn
    args.budget_minutes = None if args.steps is not None else 60 * args.budget
    args.scale = "authors' configuration, GPU"
    args.script = "python benchmarks/paper_scale.py"
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    import torch

    if args.device == "cuda":
        if not torch.cuda.is_available():
            print(
                "paper_scale.py: error: no CUDA device (use --device cpu to test)", file=sys.stderr
            )
            return 2
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
        torch.backends.cudnn.allow_tf32 = args.tf32
        torch.backends.cudnn.benchmark = True  # fixed shapes: pick the fastest kernels once
        name = torch.cuda.get_device_name()
        args.machine_note = f"{args.machine_note} GPU: {name}.".strip()
    return paper_table.run_table(args, argv, max_steps=AUTHORS_STEPS)


if __name__ == "__main__":
    sys.exit(main())
