"""QLAE against AE, beta-VAE and beta-TCVAE on procedural dSprites-style data, CPU scale.

Trains every model for every seed with the reference trainer (``models/``), scores the
encoded evaluation subset with ``infomec.score`` (plus MIG and DCI when the core offers them)
and writes a markdown table of mean +- sample standard deviation over seeds, with the exact
command at the top.

Example
-------
nice -n 10 python benchmarks/paper_table.py --steps 600 --seeds 0 1 2 --image-size 32
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

import infomec  # noqa: E402
import infomec.metrics  # noqa: E402
from models.cli import parse_subset  # noqa: E402

MODELS = ("qlae", "ae", "vae", "tcvae")
LABELS = {"qlae": "QLAE", "ae": "AE", "vae": "beta-VAE", "tcvae": "beta-TCVAE"}
# (family, key in that family's output, column header); optional families are skipped when
# the metrics core does not register them.
COLUMNS = [
    ("infomec", "infom", "InfoM"),
    ("infomec", "infoe", "InfoE"),
    ("infomec", "infoc", "InfoC"),
    ("mig", "score", "MIG"),
    ("dci", "disentanglement", "DCI-D"),
    ("dci", "completeness", "DCI-C"),
    ("dci", "informativeness_test", "DCI-I"),
]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--arch", default="small", choices=("small", "paper"))
    parser.add_argument("--eval-size", type=int, default=5000)
    parser.add_argument("--subset", action="append", metavar="FACTOR=CLASSES")
    parser.add_argument(
        "--preset",
        default="paper",
        help="infomec.score preset (default paper: the code path that logged the paper's tables)",
    )
    parser.add_argument(
        "--metrics",
        nargs="+",
        default=["infomec", "mig"],
        choices=("infomec", "mig", "dci"),
        help="metric families; those the core lacks are skipped (dci is slow on a CPU)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--runs-dir", help="keep run directories here (default: temporary)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/paper_table.md"))
    return parser.parse_args(argv)


def available_families(requested: Sequence[str]) -> list[str]:
    registry = getattr(infomec.metrics, "REGISTRY", {"infomec": None})
    return [family for family in requested if family in registry or family == "infomec"]


def run_one(args: argparse.Namespace, model: str, seed: int, run_dir: Path, families: list[str]):
    from models.config import TrainConfig
    from models.train import train

    config = TrainConfig(
        model=model,
        dataset="dsprites",
        steps=args.steps,
        seed=seed,
        batch_size=args.batch_size,
        image_size=args.image_size,
        arch=args.arch,
        subset=parse_subset(args.subset),
        eval_size=args.eval_size,
        checkpoint_every=args.steps,
        log_every=max(1, args.steps // 10),
    )
    started = time.perf_counter()
    summary = train(config, run_dir, score=False, progress=False)
    train_seconds = time.perf_counter() - started
    latents = np.load(run_dir / "latents.npz")["latents"]
    sources = np.load(run_dir / "sources.npz")
    started = time.perf_counter()
    result = infomec.score(
        latents=latents,
        sources=sources["sources"],
        metrics=families,
        preset=args.preset,
        seed=seed,
        source_names=list(sources["source_names"]),
    ).to_dict()
    row: dict[str, Any] = {
        "model": model,
        "seed": seed,
        "psnr": summary["eval"]["psnr"],
        "bce": summary["eval"]["bce"],
        "train_s": train_seconds,
        "score_s": time.perf_counter() - started,
        "active": len(result["infomec"].get("active_latents", [])),
    }
    for family, key, header in COLUMNS:
        if family in result and key in result[family]:
            row[header] = float(result[family][key])
    return row


def mean_std(values: list[float], digits: int) -> str:
    values_array = np.asarray(values, dtype=float)
    if len(values_array) < 2:
        return f"{values_array.mean():.{digits}f}"
    return f"{values_array.mean():.{digits}f} ± {values_array.std(ddof=1):.{digits}f}"


def render(args: argparse.Namespace, argv: Sequence[str], rows: list[dict], wall: float) -> str:
    headers = [h for _, _, h in COLUMNS if any(h in row for row in rows)]
    command = "nice -n 10 python benchmarks/paper_table.py " + shlex.join(argv)
    import torch

    lines = [
        "# QLAE vs baselines on procedural dSprites-style data (CPU scale)",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {platform.system()}, Python {platform.python_version()}, "
        f"torch {torch.__version__} ({args.threads} thread), infomec {infomec.__version__}; "
        f"total wall time {wall / 60:.1f} min.",
        "",
        f"Settings: {args.steps} steps, batch {args.batch_size}, {args.image_size}x"
        f"{args.image_size} images, `{args.arch}` architecture, 10 latents (twice the 5 "
        f"factors), evaluation on {args.eval_size} random images (data seed 20230228), "
        f"infomec preset `{args.preset}`, seeds {', '.join(map(str, args.seeds))}. "
        "QLAE latents are its integer codes; the others are continuous (means for the VAEs). "
        "Cells are mean ± sample standard deviation (ddof=1) over seeds. "
        "PSNR and BCE are reconstruction quality on the evaluation images.",
        "",
        "| model | " + " | ".join(headers) + " | PSNR (dB) | BCE | active latents |",
        "|---" * (len(headers) + 4) + "|",
    ]
    for model in args.models:
        group = [row for row in rows if row["model"] == model]
        cells = [mean_std([row[h] for row in group], 3) for h in headers]
        cells += [
            mean_std([row["psnr"] for row in group], 2),
            mean_std([row["bce"] for row in group], 4),
            mean_std([row["active"] for row in group], 1),
        ]
        lines.append(f"| {LABELS[model]} | " + " | ".join(cells) + " |")
    lines += ["", *comparison(args, rows), "", "Per run:", ""]
    lines.append("| model | seed | " + " | ".join(headers) + " | PSNR | train s | score s |")
    lines.append("|---" * (len(headers) + 5) + "|")
    for row in rows:
        cells = [f"{row[h]:.3f}" for h in headers]
        cells += [f"{row['psnr']:.2f}", f"{row['train_s']:.0f}", f"{row['score_s']:.1f}"]
        lines.append(f"| {LABELS[row['model']]} | {row['seed']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def comparison(args: argparse.Namespace, rows: list[dict]) -> list[str]:
    """State, per metric, whether QLAE's mean beats every baseline's mean (as measured)."""
    if "qlae" not in args.models or len(args.models) < 2:
        return []
    lines = []
    for header in ("InfoM", "InfoE", "InfoC"):
        means = {
            model: np.mean([row[header] for row in rows if row["model"] == model])
            for model in args.models
        }
        best = max((m for m in args.models if m != "qlae"), key=means.get)
        verdict = "higher than" if means["qlae"] > means[best] else "not higher than"
        lines.append(
            f"- {header}: QLAE mean {means['qlae']:.3f} is {verdict} the best baseline "
            f"({LABELS[best]}, {means[best]:.3f})."
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    families = available_families(args.metrics)
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        runs = Path(args.runs_dir or scratch)
        for seed in args.seeds:
            for model in args.models:
                run_dir = runs / f"{model}-seed{seed}"
                row = run_one(args, model, seed, run_dir, families)
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    table = render(args, argv, rows, time.perf_counter() - started)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
