"""Arguments and entry point of ``infomec train`` (torch is imported only when training runs).

The top-level ``cli.py`` adds these arguments to its ``train`` sub-command and calls
:func:`run_train`; ``python -m models.cli ...`` runs the same thing on its own.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from .config import (
    ARCHITECTURE_NAMES,
    DEPRECATED_ARCHITECTURES,
    DEVICES,
    MODEL_NAMES,
    PROFILES,
    SCORE_PRESETS,
)

EXIT_INTERRUPTED = 130

# Flags that map one-to-one onto TrainConfig fields. They default to None so that a resumed
# run can tell "not given" (keep the checkpoint's value) from "given".
_CONFIG_FLAGS = (
    "model",
    "dataset",
    "steps",
    "seed",
    "data_seed",
    "device",
    "profile",
    "batch_size",
    "image_size",
    "arch",
    "num_latents",
    "num_values",
    "lr",
    "lr_schedule",
    "lr_decay_steps",
    "weight_decay",
    "beta",
    "eval_size",
    "checkpoint_every",
    "checkpoint_minutes",
    "log_every",
    "eval_every",
)


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``infomec train`` options to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser (or sub-parser) to extend.
    """
    what = parser.add_argument_group("what to train (model and dataset required unless --resume)")
    what.add_argument("--model", choices=MODEL_NAMES, help="model to train")
    what.add_argument(
        "--dataset",
        metavar="{dsprites,shapes3d,PATH}",
        help="procedural dataset name, or a dSprites .npz, 3dshapes .h5 or MPI3D .npz/.npy file",
    )
    what.add_argument(
        "--steps",
        type=int,
        help="total training steps (on resume: a new total); default: the profile's (cpu: "
        "the model's measured plateau per dataset, recorded with its reason in "
        "train_log.json; paper: 200000)",
    )
    parser.add_argument("--out", metavar="DIR", help="run directory (required to train)")
    parser.add_argument(
        "--figures",
        metavar="DIR",
        help="draw the pictures and report.html of the run in DIR again (from its "
        "checkpoint) and exit",
    )
    run = parser.add_argument_group("run")
    run.add_argument(
        "--resume",
        action="store_true",
        help="continue DIR's run from DIR/checkpoint.pt with its saved settings",
    )
    run.add_argument("--seed", type=int, help="training seed (default 0)")
    run.add_argument("--data-seed", type=int, help="evaluation-subset seed (default 20230228)")
    run.add_argument("--device", choices=DEVICES, help="default cuda if available, else cpu")
    run.add_argument(
        "--profile",
        choices=tuple(PROFILES),
        help="paper: 64 px, the authors' network, 10000 evaluation images (default on cuda); "
        "cpu: 32 px, burgess network, 5000 evaluation images (default on cpu)",
    )
    run.add_argument("--eval-size", type=int, help="images encoded for the metrics (per profile)")
    run.add_argument(
        "--eval-every",
        type=int,
        metavar="N",
        help="score InfoM/InfoE/InfoC and PSNR every N steps into train_log.json and curves.png",
    )
    run.add_argument(
        "--preset",
        action="append",
        choices=SCORE_PRESETS,
        dest="presets",
        help="infomec preset(s) for scores.json (repeatable; default reference; the first "
        "one is used by --eval-every)",
    )
    run.add_argument("--checkpoint-every", type=int, metavar="N", help="default 1000 steps")
    run.add_argument(
        "--checkpoint-minutes",
        type=float,
        metavar="M",
        help="also checkpoint every M minutes of wall time (default 5)",
    )
    run.add_argument("--log-every", type=int, metavar="N", help="default 50 steps")
    run.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    run.add_argument(
        "--no-progress", action="store_true", help="nothing on stderr (DIR/train.log still)"
    )
    run.add_argument("--no-score", action="store_true", help="skip scores.json")
    model = parser.add_argument_group("model and data")
    model.add_argument("--batch-size", type=int, help="default 128 (autoencoders), 64 (GANs)")
    model.add_argument("--image-size", type=int, help="default 64 (paper profile), 32 (cpu)")
    model.add_argument(
        "--arch",
        choices=ARCHITECTURE_NAMES + tuple(DEPRECATED_ARCHITECTURES),
        help="paper: the authors' 12-conv encoder and style decoder; burgess: a Burgess-style "
        "4-conv net, fast on a CPU (default per profile; 'small' is a deprecated alias)",
    )
    model.add_argument("--num-latents", type=int, help="default twice the number of factors")
    model.add_argument("--num-values", type=int, help="codebook size per latent (default 10)")
    model.add_argument("--lr", type=float, help="learning rate (default per model)")
    model.add_argument(
        "--lr-schedule",
        choices=("constant", "cosine", "anneal"),
        help="constant: the authors' (default); cosine: decay to 1%% of --lr over the run "
        "(settles sooner, but lower: see benchmarks/results/plateau_qlae_shapes3d.md); "
        "anneal: constant for 60%% of the run, cosine to 1%% by 80%%, then 1%%",
    )
    model.add_argument(
        "--lr-decay-steps",
        type=int,
        help="length of the cosine or anneal schedule (default: --steps)",
    )
    model.add_argument("--weight-decay", type=float, help="default per model")
    model.add_argument(
        "--beta",
        type=float,
        help="vae KL weight / tcvae TC weight (default: the authors' per-dataset value, e.g. "
        "3 and 3 on Shapes3D; else 4 and 6)",
    )
    model.add_argument(
        "--subset",
        action="append",
        metavar="FACTOR=CLASSES",
        help="keep some classes of a procedural factor: 'orientation=0:40:4' or 'shape=0,2' "
        "(repeatable)",
    )


def parse_subset(items: Sequence[str] | None) -> dict[str, list[int]] | None:
    """Parse ``--subset`` items (``NAME=START:STOP[:STEP]`` or ``NAME=I,J,...``)."""
    if not items:
        return None
    subset: dict[str, list[int]] = {}
    for item in items:
        name, sep, spec = item.partition("=")
        try:
            if not sep or not name:
                raise ValueError
            if ":" in spec:
                classes = list(range(*(int(part) for part in spec.split(":"))))
            else:
                classes = [int(part) for part in spec.split(",")]
        except (ValueError, TypeError):
            raise ValueError(
                f"bad --subset {item!r}: use FACTOR=START:STOP[:STEP] or FACTOR=I,J,..."
            ) from None
        subset[name] = classes
    return subset


def run_train(args: argparse.Namespace) -> int:
    """Run ``infomec train`` from parsed arguments; returns the exit status.

    Raises
    ------
    ValueError
        With a one-line message for bad input (unknown model, missing file, steps <= 0, ...).
    """
    if args.figures is not None:
        return _redraw(args)
    if args.out is None:
        raise ValueError("--out DIR is required (or --figures DIR to redraw a run's pictures)")
    given: dict[str, Any] = {
        name: getattr(args, name) for name in _CONFIG_FLAGS if getattr(args, name) is not None
    }
    subset = parse_subset(args.subset)
    if subset is not None:
        given["subset"] = subset
    if args.presets:
        given["presets"] = tuple(args.presets)
    if not args.resume:
        missing = [f"--{name}" for name in ("model", "dataset") if name not in given]
        if missing:
            raise ValueError(f"{', '.join(missing)} required (or --resume to continue DIR)")
    try:
        from .config import TrainConfig
        from .interrupt import TrainingInterrupted
        from .train import resumed_config, train
    except ImportError as exc:
        raise ValueError(
            f"infomec train needs PyTorch ({exc}); install it with: pip install 'infomec[models]'"
        ) from exc
    config = resumed_config(args.out, given) if args.resume else TrainConfig(**given)
    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"threads must be > 0, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)
    try:
        summary = train(
            config, args.out, resume=args.resume, quiet=args.no_progress, score=not args.no_score
        )
    except ImportError as exc:  # an optional reader such as h5py
        raise ValueError(str(exc)) from exc
    except TrainingInterrupted:  # the checkpoint is saved; train() said how to resume
        return EXIT_INTERRUPTED
    quality = summary["eval"]
    line = f"{args.out}: PSNR {quality['psnr']:.2f} dB, BCE {quality['bce']:.4f}"
    scores = (summary["scores"] or {}).get("infomec")
    if scores:
        line += ", " + ", ".join(
            f"{name} {scores[name]:.3f}" for name in ("infom", "infoe", "infoc") if name in scores
        )
    print(line)
    return 0


def _redraw(args: argparse.Namespace) -> int:
    """``--figures DIR``: the pictures of a finished (or interrupted) run, drawn again."""
    if args.out is not None and args.out != args.figures:
        raise ValueError("--figures DIR redraws the run in DIR; leave out --out")
    try:
        from .pictures import redraw
    except ImportError as exc:
        raise ValueError(
            f"infomec train needs PyTorch ({exc}); install it with: pip install 'infomec[models]'"
        ) from exc
    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"threads must be > 0, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)
    files = redraw(args.figures, quiet=args.no_progress)
    print(f"{args.figures}: " + ", ".join(path.name for path in files))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m models.cli --model qlae --dataset dsprites ...``."""
    parser = argparse.ArgumentParser(prog="python -m models.cli", description=__doc__)
    add_train_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_train(args)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
