"""QLAE against AE, beta-VAE and beta-TCVAE on procedural Shapes3D, over seeds, with tests.

Trains every model for every seed with the reference trainer (``models/``), scores each
run's encoded evaluation subset with ``infomec.score`` under two presets (the first one is
the table's stated preset, the second a second column set) plus MIG, and writes a markdown
table of means with 95 % t-intervals, Welch tests of QLAE (and QLInfoWGAN-GP) against each
baseline, the orderings that hold or not at this scale, per-run rows, and a figure.

``--budget-minutes`` sizes the run: a short calibration measures each model's steps per
second on this machine now, and the step count is the largest that fits every run (plus
its evaluation) in the budget. Rows are appended to a ``.jsonl`` file next to ``--out`` as
runs finish, and the table is rewritten after each run (marked PARTIAL until the last), so
an interrupted table keeps its finished runs; rerunning with the same ``--out`` and
``--steps`` skips them.

``--lanes N`` trains N runs at a time, each in a process of its own (``--threads`` torch
threads each): on 2 cores, two one-thread lanes train 1.3x the steps per second of one
two-thread run. Each row keeps its PSNR curve, and the per-run table says which
autoencoder runs meet the plateau rule (PSNR up < 0.5 dB over the last fifth).

Examples
--------
nice -n 5 python benchmarks/paper_table.py --budget-minutes 50 --seeds 0 1 2 3 4
python benchmarks/paper_table.py --suite issue23 --seeds 0 1 2 --lanes 2 --quiet-check
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
# infomec from this checkout (infomec.models needs `pip install -e .[models]`)
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from plateau import GAIN_DB, gains  # noqa: E402  (the plateau rule's one definition)

import infomec  # noqa: E402
from infomec.models.cli import parse_subset  # noqa: E402

MODELS = ("qlae", "ae", "vae", "tcvae", "infowgan", "qlinfowgan")
DEFAULT_MODELS = ("qlae", "ae", "vae", "tcvae")
LABELS = {
    "qlae": "QLAE",
    "ae": "AE",
    "vae": "β-VAE",
    "tcvae": "β-TCVAE",
    "infowgan": "InfoWGAN-GP",
    "qlinfowgan": "QLInfoWGAN-GP",
}
# (quantized model, baseline) pairs the paper compares.
PAIRS = [("qlae", "ae"), ("qlae", "vae"), ("qlae", "tcvae"), ("qlinfowgan", "infowgan")]
INFOMEC = (("infom", "InfoM"), ("infoe", "InfoE"), ("infoc", "InfoC"))
ALPHA = 0.05


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="shapes3d", help="shapes3d (default) or dsprites")
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), choices=MODELS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--steps", type=int, help="training steps per run")
    size.add_argument(
        "--budget-minutes",
        type=float,
        help="wall-time budget of the whole table; steps are derived from measured steps/s",
    )
    size.add_argument(
        "--plateau",
        action="store_true",
        help="each model at its plateau step count (the CPU profile's default-steps table "
        "in models/config.py, reason recorded per run)",
    )
    parser.add_argument(
        "--max-steps",
        type=int,
        help="cap every run's step count (to test --plateau with a handful of steps)",
    )
    parser.add_argument(
        "--gan-seeds",
        nargs="+",
        type=int,
        help="seeds of the InfoWGAN-GP / QLInfoWGAN-GP runs (default: --seeds)",
    )
    parser.add_argument(
        "--quiet-check",
        action="store_true",
        help="record uptime / load averages at the start and end in the results file, and "
        "say whether the machine was quiet (load below half its cores)",
    )
    parser.add_argument(
        "--suite",
        choices=("issue23",),
        help="issue23: the shapes3d table (QLAE, AE, beta-VAE, beta-TCVAE over --seeds, "
        "InfoWGAN-GP vs QLInfoWGAN-GP over --gan-seeds, default 0 1 2) and the dsprites "
        "autoencoder-family table, each model at its plateau, in one results file with a "
        "verdict per claim of the abstract",
    )
    parser.add_argument("--profile", default="cpu", choices=("cpu", "paper"))
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--batch-size", type=int, help="default: each model's (128 / 64)")
    parser.add_argument("--image-size", type=int, help="default: the profile's")
    parser.add_argument("--arch", help="default: the profile's")
    parser.add_argument("--eval-size", type=int, help="default: the profile's")
    parser.add_argument("--subset", action="append", metavar="FACTOR=CLASSES")
    parser.add_argument(
        "--presets",
        nargs="+",
        default=["paper", "reference"],
        choices=("paper", "reference", "tripod"),
        help="infomec presets; the first is the table's stated preset (default paper: the "
        "code path that logged the paper's tables), the others get their own column sets",
    )
    parser.add_argument("--mig", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument(
        "--overhead-seconds",
        type=float,
        default=15.0,
        help="budget per run for encoding and scoring (InfoE's probe can take minutes on "
        "poorly separable latents on a contended CPU)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument(
        "--lanes",
        type=int,
        default=1,
        help="runs trained side by side, each in its own process with --threads threads "
        "(2 lanes of 1 thread gave about 30 %% more steps/s than 1 of 2 threads on a "
        "2-core machine)",
    )
    # A lane's process: train and score one run, write its row to a file (set by the table).
    parser.add_argument("--only-run", metavar="MODEL:SEED:STEPS", help=argparse.SUPPRESS)
    parser.add_argument("--row-file", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, help="batch-preparing threads (trainer default)")
    parser.add_argument(
        "--pictures",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="each run writes reconstructions, traversals and curves (default on)",
    )
    parser.add_argument(
        "--runs-dir", help="run directories (default: a folder under the system temp dir)"
    )
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/paper_table.md"))
    parser.add_argument("--figure", help="default: --out with .png")
    parser.add_argument("--machine-note", default="", help="free text about the machine's state")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="no training: rewrite the table and figure from the --out .jsonl rows (same "
        "arguments as the run that made them)",
    )
    args = parser.parse_args(argv)
    if args.suite and (args.steps is not None or args.budget_minutes is not None):
        parser.error("--suite trains every model at its plateau; leave out --steps/--budget")
    if args.suite:
        args.plateau = True
    if args.max_steps is not None and args.max_steps < 1:
        parser.error("--max-steps must be >= 1")
    if args.lanes < 1 or args.threads < 1:
        parser.error("--lanes and --threads must be >= 1")
    if bool(args.only_run) != bool(args.row_file):
        parser.error("--only-run and --row-file go together")
    return args


# ----------------------------------------------------------------------- training


def train_config(args: argparse.Namespace, model: str, seed: int, steps: int):
    from infomec.models.config import TrainConfig

    return TrainConfig(
        model=model,
        dataset=args.dataset,
        steps=steps,
        seed=seed,
        device=args.device,
        profile=args.profile,
        batch_size=args.batch_size,
        image_size=args.image_size,
        arch=args.arch,
        subset=parse_subset(args.subset),
        eval_size=args.eval_size,
        checkpoint_every=max(steps, 1),
        log_every=max(1, min(1000, steps // 20)),
        eval_every=getattr(args, "eval_every", None),
        presets=tuple(args.presets),
    )


def measure_rate(args: argparse.Namespace, model: str, steps: int = 12, warmup: int = 3) -> float:
    """Training steps per second of ``model`` on this machine now (no files written)."""
    import torch

    from infomec.models.batches import BatchStream
    from infomec.models.data import open_dataset
    from infomec.models.registry import build_model

    config = train_config(args, model, 0, steps)
    dataset = open_dataset(config.dataset, config.effective_image_size(), config.subset)
    config = config.resolved(len(dataset.factor_names), dataset.family)
    device = torch.device(args.device)
    torch.manual_seed(0)
    net = build_model(config, dataset.image_shape, len(dataset)).to(device)
    optimizers = net.make_optimizers()
    with BatchStream(dataset, 0, config.batch_size, device, args.workers or 0) as stream:
        for step in range(warmup):
            net.train_step(stream.get(step), step, optimizers)
        _synchronize(device)
        started = time.perf_counter()
        for step in range(warmup, warmup + steps):
            net.train_step(stream.get(step), step, optimizers)
        _synchronize(device)
    return steps / (time.perf_counter() - started)


def _synchronize(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def plan_steps(budget_s: float, rates: dict[str, float], n_seeds: int, overhead_s: float) -> int:
    """The largest common step count whose runs (plus ``overhead_s`` each) fit ``budget_s``."""
    seconds_per_step = n_seeds * sum(1.0 / rate for rate in rates.values())
    usable = budget_s - overhead_s * n_seeds * len(rates)
    return max(1, int(usable / seconds_per_step))


def score_run(args: argparse.Namespace, run_dir: Path, seed: int) -> dict[str, Any]:
    """Score a finished run under every preset (and MIG); one flat dict of numbers.

    A run the trainer scored (``scores.json``: the same presets and seed) is read, not
    scored again; MIG is scored here under the first preset.
    """
    latents = np.load(run_dir / "latents.npz")["latents"]
    sources = np.load(run_dir / "sources.npz")
    scored_path = run_dir / "scores.json"
    scored = json.loads(scored_path.read_text())["presets"] if scored_path.exists() else {}

    def score(preset: str, families: list[str]) -> dict[str, Any]:
        return infomec.score(
            latents=latents,
            sources=sources["sources"],
            metrics=families,
            preset=preset,
            seed=seed,
            source_names=list(sources["source_names"]),
        ).to_dict()

    row: dict[str, Any] = {}
    for preset in args.presets:
        result = scored.get(preset) or score(preset, ["infomec"])
        for key, _ in INFOMEC:
            row[f"{preset}.{key}"] = float(result["infomec"][key])
        # The number of active latents is the count of True in the pruning mask.
        row[f"{preset}.active"] = int(np.sum(result["infomec"]["active_latents"]))
        row.update(chance_fields(result, preset))
    if args.mig:
        row["mig"] = float(score(args.presets[0], ["mig"])["mig"]["score"])
    return row


def chance_fields(result: dict[str, Any], preset: str) -> dict[str, float]:
    """What noise gets under ``preset``, from a score's dict (``ScoreResult.to_dict``):
    the mean of InfoM / InfoE / InfoC over shuffles of the sources, and their 95th
    percentile; empty when the preset drew no shuffles (``null`` 0)."""
    chance = result["infomec"].get("chance") or {}
    fields = {}
    for key, _ in INFOMEC:
        if isinstance(chance.get(key), dict):
            fields[f"{preset}.{key}.chance"] = float(chance[key]["mean"])
            fields[f"{preset}.{key}.chance_p95"] = float(chance[key]["p95"])
    return fields


def plateau_steps(args: argparse.Namespace, model: str) -> tuple[int, str]:
    """A model's plateau step count for this dataset and profile (capped by --max-steps),
    and the table's reason for it."""
    from infomec.models.config import default_steps
    from infomec.models.data import open_dataset

    family = args.dataset if args.dataset in ("dsprites", "shapes3d") else None
    if family is None:  # a dataset file: its family decides
        family = open_dataset(args.dataset, 8 if args.profile == "cpu" else 64).family
    steps, reason = default_steps(model, args.profile, family)
    if args.max_steps is not None and steps > args.max_steps:
        return args.max_steps, f"capped at --max-steps {args.max_steps}; table: {reason}"
    return steps, reason


def run_one(
    args: argparse.Namespace, model: str, seed: int, steps: int, run_dir: Path
) -> dict[str, Any]:
    from infomec.models.train import train

    started = time.perf_counter()
    summary = train(
        train_config(args, model, seed, steps),
        run_dir,
        resume=(run_dir / "checkpoint.pt").exists(),
        quiet=True,
        # Scored runs' traversals are ordered and labelled by source and NMI, and their
        # report.html shows the pictures beside the NMI heatmap.
        score=getattr(args, "pictures", True),
        workers=args.workers,
        figures=getattr(args, "pictures", True),
    )
    train_s = time.perf_counter() - started
    started = time.perf_counter()
    from infomec.models.train import keep_torch_threads

    with keep_torch_threads():  # numba's scoring would leave torch on 2 threads
        scores = score_run(args, run_dir, seed)
    row = {
        "model": model,
        "seed": seed,
        "steps": steps,
        "psnr": summary["eval"]["psnr"],
        "bce": summary["eval"]["bce"],
        "train_s": train_s,
        **scores,
    }
    row["score_s"] = time.perf_counter() - started
    config = summary["config"]
    row["settings"] = {
        name: getattr(config, name)
        for name in (
            "image_size",
            "arch",
            "batch_size",
            "lr",
            "weight_decay",
            "beta",
            "eval_size",
            "lr_schedule",
        )
    }
    row["beta_source"] = (config.chosen_by or {}).get("beta")
    row["run_dir"] = str(run_dir)
    row["psnr_curve"] = psnr_curve(run_dir)
    return row


def psnr_curve(run_dir: Path) -> list[list[float]]:
    """(step, PSNR) at each evaluation during training and at the end, from the run's log."""
    log = json.loads((Path(run_dir) / "train_log.json").read_text())
    curve = {int(e["step"]): float(e["psnr"]) for e in log.get("evaluations", [])}
    curve[int(log["config"]["steps"])] = float(log["eval"]["psnr"])
    return [[step, curve[step]] for step in sorted(curve)]


def last_fifth_gain(row: dict[str, Any]) -> float:
    """PSNR gained over the run's last fifth (the plateau rule's number; NaN without a
    curve reaching back that far)."""
    curve = [(int(step), value) for step, value in row.get("psnr_curve") or []]
    return gains(curve)[-1] if curve else math.nan


# ----------------------------------------------------------------------- statistics


def mean_interval(values: Sequence[float]) -> tuple[float, float]:
    """Mean and half-width of its 95 % t-interval (sample SD, n - 1 degrees of freedom)."""
    array = np.asarray(values, dtype=float)
    if len(array) < 2:
        return float(array.mean()), math.nan
    half = stats.t.ppf(0.975, len(array) - 1) * array.std(ddof=1) / math.sqrt(len(array))
    return float(array.mean()), float(half)


def welch(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """Welch's t statistic and two-sided p (NaN when a side has < 2 values or no spread)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 or len(b) < 2 or (a.std() == 0 and b.std() == 0):
        return math.nan, math.nan
    result = stats.ttest_ind(a, b, equal_var=False)
    return float(result.statistic), float(result.pvalue)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (NaN stays NaN)."""
    p = np.asarray(pvalues, dtype=float)
    finite = np.flatnonzero(np.isfinite(p))
    adjusted = np.full(len(p), math.nan)
    order = finite[np.argsort(p[finite])]
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p[index]))
        adjusted[index] = running
    return adjusted.tolist()


def comparisons(
    rows: list[dict],
    models: Sequence[str],
    metrics: Sequence[tuple[str, str]],
    pairs: Sequence[tuple[str, str]] = tuple(PAIRS),
) -> list[dict[str, Any]]:
    """Welch tests of each quantized model against its baselines (``pairs``) on ``metrics``
    (row key, label); verdicts use Holm-adjusted p over these tests."""
    tests = []
    for quantized, baseline in pairs:
        if quantized not in models or baseline not in models:
            continue
        for key, label in metrics:
            a = [r[key] for r in rows if r["model"] == quantized]
            b = [r[key] for r in rows if r["model"] == baseline]
            if not a or not b:
                continue
            t, p = welch(a, b)
            tests.append(
                {
                    "metric": label,
                    "quantized": quantized,
                    "baseline": baseline,
                    "mean_q": float(np.mean(a)),
                    "mean_b": float(np.mean(b)),
                    "n": (len(a), len(b)),
                    "t": t,
                    "p": p,
                }
            )
    for test, adjusted in zip(tests, holm([t["p"] for t in tests]), strict=True):
        test["p_holm"] = adjusted
        if not math.isfinite(adjusted):
            test["verdict"] = "untestable (n < 2)"
        elif adjusted >= ALPHA:
            test["verdict"] = "not significant"
        elif test["mean_q"] > test["mean_b"]:
            test["verdict"] = "holds (quantized higher)"
        else:
            test["verdict"] = "reversed (quantized lower)"
    return tests


def preset_metrics(preset: str) -> list[tuple[str, str]]:
    """(row key, label) of InfoM, InfoE and InfoC under ``preset``."""
    return [(f"{preset}.{key}", label) for key, label in INFOMEC]


# ----------------------------------------------------------------------- report


def _cell(values: Sequence[float], digits: int) -> str:
    if not values:
        return "–"
    mean, half = mean_interval(values)
    if not math.isfinite(half):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {half:.{digits}f}"


def _format_p(p: float) -> str:
    if not math.isfinite(p):
        return "–"
    return f"{p:.2g}" if p >= 0.001 else f"{p:.1e}"


def summary_table(rows: list[dict], models: Sequence[str], preset: str, extra: bool) -> list[str]:
    headers = ["InfoM", "InfoE", "InfoC", "active latents"]
    if extra:
        headers += ["MIG", "PSNR (dB)"]
    lines = [
        "| model | n | " + " | ".join(headers) + " |",
        "|---" * (len(headers) + 2) + "|",
    ]
    for model in models:
        group = [r for r in rows if r["model"] == model]
        if not group:
            continue
        cells = [_cell([r[f"{preset}.{key}"] for r in group], 3) for key, _ in INFOMEC]
        cells.append(_cell([r[f"{preset}.active"] for r in group], 1))
        if extra:
            cells.append(_cell([r["mig"] for r in group if "mig" in r], 3))
            cells.append(_cell([r["psnr"] for r in group], 2))
        lines.append(f"| {LABELS[model]} | {len(group)} | " + " | ".join(cells) + " |")
    return lines


def above_chance(rows: list[dict], preset: str, key: str) -> tuple[int, int]:
    """How many of ``rows`` score ``key`` above the 95th percentile of their own shuffled
    sources, out of how many rows know it."""
    known = [r for r in rows if f"{preset}.{key}.chance_p95" in r]
    return sum(r[f"{preset}.{key}"] > r[f"{preset}.{key}.chance_p95"] for r in known), len(known)


def chance_table(rows: list[dict], models: Sequence[str], preset: str) -> list[str]:
    """Per model: the mean over runs of what shuffled sources score, and how many runs
    score above their own shuffles' 95th percentile (empty without chance levels)."""
    if not any(f"{preset}.infom.chance" in r for r in rows):
        return []
    lines = [
        "What noise gets (each run's sources shuffled, its `null` draws; mean over runs of "
        "the shuffled mean, and how many runs score above their own shuffles' 95th "
        "percentile). A score at or below its chance level says no more than noise does, "
        "so compare models on what they score above it:",
        "",
        "| model | InfoM chance | above | InfoE chance | above | InfoC chance | above |",
        "|---|---|---|---|---|---|---|",
    ]
    for model in models:
        group = [r for r in rows if r["model"] == model and f"{preset}.infom.chance" in r]
        if not group:
            continue
        cells = []
        for key, _ in INFOMEC:
            above, known = above_chance(group, preset, key)
            cells += [f"{np.mean([r[f'{preset}.{key}.chance'] for r in group]):.3f}"]
            cells += [f"{above} of {known}"]
        lines.append(f"| {LABELS[model]} | " + " | ".join(cells) + " |")
    return lines


def noise_caveats(rows: list[dict], models: Sequence[str], preset: str) -> list[str]:
    """A caveat per model and metric whose runs do not all score above their chance band."""
    items = []
    for model in models:
        group = [r for r in rows if r["model"] == model]
        for key, label in INFOMEC:
            above, known = above_chance(group, preset, key)
            if known and above < known:
                items.append(f"{LABELS[model]}'s {label} in {known - above} of {known} runs")
    if not items:
        return []
    return [
        "- Noise: these scores are not above what shuffled sources get (their 95th "
        "percentile), so a comparison with them compares noise levels: "
        + "; ".join(items)
        + f" (preset `{preset}`)."
    ]


def tests_table(tests: list[dict]) -> list[str]:
    lines = [
        "| metric | comparison | means (quantized vs baseline) | Welch t | p | p (Holm) | "
        "ordering QLAE > baseline |",
        "|---|---|---|---|---|---|---|",
    ]
    for test in tests:
        t = f"{test['t']:.2f}" if math.isfinite(test["t"]) else "–"
        lines.append(
            f"| {test['metric']} | {LABELS[test['quantized']]} vs {LABELS[test['baseline']]} | "
            f"{test['mean_q']:.3f} vs {test['mean_b']:.3f} | {t} | {_format_p(test['p'])} | "
            f"{_format_p(test['p_holm'])} | {test['verdict']} |"
        )
    return lines


def findings(tests: list[dict]) -> list[str]:
    """Plain sentences: which of the paper's orderings hold here, and which are not shown."""
    lines = []
    for verdict, text in [
        ("holds", "Hold (quantized model significantly higher)"),
        ("reversed", "Reversed (quantized model significantly lower)"),
        ("not significant", "Not significant at this scale"),
        ("untestable", "Untestable (fewer than 2 seeds)"),
    ]:
        items = [
            f"{t['metric']} vs {LABELS[t['baseline']]}"
            for t in tests
            if t["verdict"].startswith(verdict)
        ]
        if items:
            lines.append(f"- {text}: " + "; ".join(items) + ".")
    return lines


def scale_note(args: argparse.Namespace, steps: int, settings: dict[str, Any]) -> str:
    """How these runs compare with the authors' (2x10^5 steps, 64 px, their network);
    ``steps`` is the largest step count of the table."""
    authors = steps >= 200_000 and settings.get("image_size") == 64
    if authors and settings.get("arch") == "paper":
        return (
            "**Scale.** The authors' configuration: 2×10^5 steps, 64 px, their 12-conv "
            f"encoder and style decoder, on a procedural imitation of {args.dataset}."
        )
    return (
        "**Scale caveat.** The authors train 2×10^5 steps at 64 px with their 12-conv network; "
        f"these runs are at most {steps} steps ({100 * steps / 2e5:.2g} % of that) of the "
        f"{settings.get('image_size')} px `{settings.get('arch')}` network on a procedural "
        f'imitation of {args.dataset}. The table answers "does QLAE beat the baselines '
        "*here*\", not whether the paper's numbers reproduce."
    )


# The abstract's claims (shared/reference/paper-notes.md) and the tests that speak to them:
# (claim, [(quantized, baseline)], metric labels, the direction that supports it).
CLAIMS = [
    (
        "Latent quantization dramatically improves modularity and explicitness "
        "(QLAE vs AE, QLInfoWGAN-GP vs InfoWGAN-GP: InfoM, InfoE)",
        [("qlae", "ae"), ("qlinfowgan", "infowgan")],
        ("InfoM", "InfoE"),
        "higher",
    ),
    (
        "QLAE consistently outperforms strong methods from prior work in these key "
        "disentanglement properties (QLAE vs β-VAE, β-TCVAE: InfoM, InfoE, InfoC)",
        [("qlae", "vae"), ("qlae", "tcvae")],
        ("InfoM", "InfoE", "InfoC"),
        "higher",
    ),
    (
        "... without compromising data reconstruction (QLAE vs each baseline: PSNR not "
        "significantly lower)",
        [("qlae", "ae"), ("qlae", "vae"), ("qlae", "tcvae")],
        ("PSNR",),
        "not lower",
    ),
]


def claim_verdict(tests: list[dict], direction: str) -> str:
    """One verdict from the Welch/Holm tests that bear on a claim.

    ``higher`` claims are supported only when every test holds, contradicted when any
    test is reversed; ``not lower`` claims are contradicted by a reversed test and
    otherwise consistent (a non-significant difference does not show equality).
    """
    if not tests:
        return "untested (the models it compares were not run)"
    verdicts = [t["verdict"] for t in tests]
    if any(v.startswith("reversed") for v in verdicts):
        return "contradicted here (a baseline is significantly better)"
    if direction == "not lower":
        if any(v.startswith("untestable") for v in verdicts):
            return "untestable (fewer than 2 seeds)"
        return "consistent here (no baseline significantly better)"
    if all(v.startswith("holds") for v in verdicts):
        return "supported here (every comparison significant in the claimed direction)"
    if any(v.startswith("holds") for v in verdicts):
        return "partly supported here (some comparisons significant, none reversed)"
    return "not shown here (no comparison significant)"


def claim_verdicts(rows: list[dict], models: Sequence[str], preset: str) -> list[str]:
    """A verdict line per claim of the abstract, from this table's rows."""
    lines = []
    metrics = {label: key for key, label in preset_metrics(preset)}
    metrics["PSNR"] = "psnr"
    for claim, pairs, labels, direction in CLAIMS:
        tests = comparisons(rows, models, [(metrics[label], label) for label in labels], pairs)
        detail = "; ".join(
            f"{t['metric']} {LABELS[t['quantized']]} vs {LABELS[t['baseline']]}: {t['verdict']}"
            for t in tests
        )
        lines.append(f"- **{claim}**: {claim_verdict(tests, direction)}.")
        if detail:
            lines.append(f"  ({detail}; preset `{preset}`, Holm over these tests.)")
    plateau = {r["model"]: r.get("steps_reason") or "" for r in rows}
    if any("provisional" in reason or "capped" in reason for reason in plateau.values()):
        lines.append(
            "- Caveat: some step counts are provisional or capped, not a measured plateau "
            "(see the table's step counts)."
        )
    return lines + noise_caveats(rows, models, preset)


def invoked_as() -> str:
    """How this script was run, as a command line: with ``nice -n N`` when its process
    runs at a niceness N > 0 (the table records the command it ran under)."""
    niceness = os.nice(0) if hasattr(os, "nice") else 0
    prefix = f"nice -n {niceness} " if niceness > 0 else ""
    return f"{prefix}python benchmarks/paper_table.py"


def uptime() -> str:
    """``uptime``'s line, or the load averages alone."""
    import subprocess

    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def quiet_lines(args: argparse.Namespace, load: float | None = None) -> list[str]:
    """The --quiet-check record: load at the start and now (the end of the last run).

    At the end the table's own lanes are still in the 1-minute load (about one per busy
    core), so the end is judged on the load beyond them.
    """
    record = getattr(args, "quiet_record", None)
    if not record:
        return []
    now = uptime()
    load = os.getloadavg()[0] if load is None else load
    cores = os.cpu_count() or 1
    own = min(cores, max(1, getattr(args, "lanes", 1) or 1) * max(1, args.threads or 1))

    def judged(value: float, own_share: int = 0) -> str:
        text = f"1-min load {value:.2f} on {cores} cores"
        if own_share:
            text += f", about {own_share} of it this table's own runs"
        verdict = "quiet" if value - own_share < cores / 2 else "**NOT quiet**"
        return f"{verdict}: {text}"

    return [
        f"Quiet check: start `{record['start']}` ({judged(record['start_load'])}); end "
        f"`{now}` ({judged(load, own)}). Quiet means a load below half the cores besides "
        "the table's own runs.",
        "",
    ]


def render(
    args: argparse.Namespace,
    argv: Sequence[str],
    rows: list[dict],
    steps_by_model: dict[str, int],
    wall: float,
    plan: dict[str, Any],
    total_runs: int,
    wall_label: str = "Total wall time",
) -> str:
    import torch

    steps = max(steps_by_model.values())
    if len(set(steps_by_model.values())) == 1:
        steps_text = f"{steps} steps per run"
    else:
        steps_text = "steps per run: " + ", ".join(
            f"{LABELS[m]} {n}" for m, n in steps_by_model.items()
        )
    reasons = sorted({(r["model"], r.get("steps_reason")) for r in rows if r.get("steps_reason")})
    reason_text = "".join(f" {LABELS[m]}: {why}." for m, why in reasons)

    script = getattr(args, "script", None) or invoked_as()
    command = f"{script} {shlex.join(argv)}"
    done = len(rows)
    settings = rows[0]["settings"] if rows else {}
    status = (
        f"**PARTIAL: {done} of {total_runs} runs finished** (the table covers those only)."
        if done < total_runs
        else f"Complete: {done} runs."
    )
    betas = sorted(
        {
            (r["model"], r["settings"]["beta"], r["beta_source"])
            for r in rows
            if r["settings"]["beta"] is not None
        }
    )
    beta_text = "".join(f"{LABELS[m]} β = {b:g} ({src}). " for m, b, src in betas)
    seeds = sorted({r["seed"] for r in rows})
    # Rows from before the lr_schedule setting trained at the authors' constant rate.
    schedule_text = "; ".join(
        f"{LABELS[m]} {schedule}"
        for m, schedule in sorted(
            {(r["model"], r["settings"].get("lr_schedule") or "constant") for r in rows},
            key=lambda pair: args.models.index(pair[0]),
        )
    )
    lines = [
        f"# QLAE vs baselines on procedural {args.dataset} ({getattr(args, 'scale', 'CPU scale')})",
        "",
        status,
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {platform.system()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, torch {torch.__version__} ({args.threads} thread), "
        f"infomec {infomec.__version__}. {args.machine_note} {wall_label} "
        f"{wall / 60:.1f} min.",
        "",
        f"Plan: {plan.get('text', '')}",
        "",
        f"Settings: {steps_text}; learning-rate schedule: {schedule_text}; {args.profile} profile "
        f"({settings.get('image_size')} px `{settings.get('arch')}` network), batch "
        f"{args.batch_size or 'per model (128 autoencoders)'}"
        f", latents twice the factors, evaluation on {settings.get('eval_size')} images "
        f"(data seed 20230228, the same images for every run), seeds "
        f"{', '.join(map(str, seeds))}. {beta_text}QLAE latents are its integer codes, "
        "the others continuous (posterior means for the VAEs).",
        "",
        *([f"Step counts (plateau table):{reason_text}", ""] if reason_text else []),
        *quiet_lines(args),
        scale_note(args, steps, settings),
        "",
        "**What is tested.** The paper's claim (abstract): QLAE \"consistently outperforms "
        "strong methods from prior work in these key disentanglement properties [InfoM, InfoE, "
        'InfoC] without compromising data reconstruction". Its numbers were not available to '
        "this project (see shared/reference/paper-notes.md), so only these orderings are "
        "tested: QLAE above each baseline on each metric, and its PSNR not below theirs.",
        "",
        f"Cells: mean ± half-width of the 95 % t-interval over seeds (t(0.975, n−1) × sample "
        "SD / √n). Tests: Welch's t-test (`scipy.stats.ttest_ind(equal_var=False)`), "
        f"two-sided; an ordering counts as holding only when the Holm-adjusted p (over the "
        f"tests of that preset) is below {ALPHA}. Active latents: the number of latents the "
        "preset's pruning keeps (sum of the mask).",
        "",
    ]
    for index, preset in enumerate(args.presets):
        role = "stated preset" if index == 0 else "second column set"
        lines += [f"## Preset `{preset}` ({role})", ""]
        lines += summary_table(rows, args.models, preset, extra=index == 0)
        noise = chance_table(rows, args.models, preset)
        if noise:
            lines += ["", *noise]
        tests = comparisons(rows, args.models, preset_metrics(preset))
        if tests:
            lines += ["", *tests_table(tests), "", *findings(tests)]
        lines.append("")
    psnr = comparisons(rows, args.models, [("psnr", "PSNR")])
    if psnr:
        lines += [
            "## Reconstruction",
            "",
            '"Without compromising data reconstruction": Welch tests of PSNR (Holm over these '
            'tests); "not significant" is consistent with the claim but does not show it.',
            "",
            *tests_table(psnr),
            "",
        ]
    lines += ["## Claims of the abstract", "", *claim_verdicts(rows, args.models, args.presets[0])]
    lines.append("")
    if args.figure_path:
        lines += [f"Figure: `{Path(args.figure_path).name}`.", ""]
    if any(r.get("run_dir") for r in rows):
        lines += [
            "Pictures: each run directory holds reconstructions.png, traversals.png, "
            "curves.png and losses.csv (`run_dir` in the .jsonl rows).",
            "",
        ]
    lines += ["## Per run", "", *plateau_lines(rows), ""]
    first = args.presets[0]
    lines.append(
        "| model | seed | steps | InfoM | InfoE | InfoC | active | MIG | PSNR | last-fifth "
        "gain dB | train s | score s |"
    )
    lines.append("|---" * 12 + "|")
    for r in rows:
        lines.append(
            f"| {LABELS[r['model']]} | {r['seed']} | {r['steps']} | {r[f'{first}.infom']:.3f} | "
            f"{r[f'{first}.infoe']:.3f} | {r[f'{first}.infoc']:.3f} | {r[f'{first}.active']} | "
            f"{r.get('mig', math.nan):.3f} | {r['psnr']:.2f} | {_gain_cell(r)} | "
            f"{r['train_s']:.0f} | {r['score_s']:.1f} |"
        )
    lines += ["", f"(Per-run columns use the `{first}` preset.)"]
    return "\n".join(lines) + "\n"


def _gain_cell(row: dict) -> str:
    gain = last_fifth_gain(row)
    return f"{gain:.2f}" if math.isfinite(gain) else "–"


def plateau_lines(rows: list[dict]) -> list[str]:
    """Which autoencoder runs reached the plateau rule (PSNR up < 0.5 dB over the last
    fifth of training); the GANs' PSNR (of G(Q(x))) is not a training target, so not judged."""
    judged = [r for r in rows if r["model"] not in ("infowgan", "qlinfowgan")]
    if not judged:
        return []
    gained = {(r["model"], r["seed"]): last_fifth_gain(r) for r in judged}
    unknown = [key for key, gain in gained.items() if not math.isfinite(gain)]
    climbing = [key for key, gain in gained.items() if gain >= GAIN_DB]
    flat = len(gained) - len(unknown) - len(climbing)
    text = (
        f"Plateau rule (PSNR up < {GAIN_DB} dB over the last fifth of training, from each "
        f"run's evaluations): {flat} of {len(gained)} autoencoder runs meet it"
    )
    for label, keys in (("still climbing", climbing), ("curve too short to judge", unknown)):
        if keys:
            text += f"; {label}: " + ", ".join(f"{LABELS[m]} seed {s}" for m, s in keys)
    return [text + "."]


def plot(args: argparse.Namespace, rows: list[dict], path: Path) -> None:
    """Per metric: each seed as a dot, the mean with its 95 % t-interval as a bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    preset = args.presets[0]
    panels = [(f"{preset}.{key}", f"{label} ({preset})") for key, label in INFOMEC]
    panels.append(("psnr", "PSNR (dB)"))
    models = [m for m in args.models if any(r["model"] == m for r in rows)]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.4))
    for axis, (key, title) in zip(axes, panels, strict=True):
        for position, model in enumerate(models):
            values = [r[key] for r in rows if r["model"] == model]
            jitter = np.linspace(-0.12, 0.12, len(values)) if len(values) > 1 else [0.0]
            axis.scatter(position + np.asarray(jitter), values, s=14, alpha=0.6)
            mean, half = mean_interval(values)
            axis.errorbar(
                position, mean, yerr=0 if not math.isfinite(half) else half, fmt="_",
                color="black", capsize=5, markersize=16,
            )  # fmt: skip
        axis.set_xticks(range(len(models)), [LABELS[m] for m in models], rotation=30)
        axis.set_title(title)
    fig.suptitle(f"{args.dataset}: dots = seeds, bars = mean ± 95 % t-interval")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ----------------------------------------------------------------------- driver


def read_rows(path: Path, models: Sequence[str] | None = None) -> list[dict]:
    """The finished runs' rows of a table's ``.jsonl`` file (none if it does not exist),
    of ``models`` only when given."""
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [row for row in rows if models is None or row["model"] in models]


def load_rows(path: Path, steps_by_model: dict[str, int]) -> list[dict]:
    """The rows at each model's planned step count (runs of other lengths are left out)."""
    return [row for row in read_rows(path) if row["steps"] == steps_by_model.get(row["model"])]


def choose_steps(
    args: argparse.Namespace, say: Callable[[str], None], max_steps: int | None = None
) -> tuple[dict[str, int], dict]:
    """Steps per run of each model: given, each model's plateau (``--plateau``), or the
    largest common count that fits ``--budget-minutes`` (at most ``max_steps``)."""
    if getattr(args, "plateau", False):
        chosen = {model: plateau_steps(args, model) for model in args.models}
        args.steps_reasons = {model: reason for model, (_, reason) in chosen.items()}
        text = "each model at its plateau step count: " + ", ".join(
            f"{LABELS[m]} {n}" for m, (n, _) in chosen.items()
        )
        return {m: n for m, (n, _) in chosen.items()}, {"text": text + "."}
    if args.steps is not None:
        steps = {model: args.steps for model in args.models}
        return steps, {"text": f"{args.steps} steps given on the command line."}
    if args.budget_minutes is None:
        raise SystemExit("give --steps or --budget-minutes")
    rates = {model: measure_rate(args, model) for model in args.models}
    overhead = args.overhead_seconds
    budget = 60 * args.budget_minutes
    steps = plan_steps(budget, rates, len(args.seeds), overhead)
    rate_text = ", ".join(f"{LABELS[m]} {r:.1f}" for m, r in rates.items())
    text = (
        f"budget {args.budget_minutes:g} min; measured steps/s at launch: {rate_text}; "
        f"{overhead:.0f} s per run for encoding and scoring; so {steps} steps per run"
    )
    if max_steps is not None and steps >= max_steps:
        text += f", capped at {max_steps}"
        steps = max_steps
    elif max_steps is not None:
        text += f" (**fewer than the {max_steps} wanted**)"
    text += "."
    say(text)
    return {model: steps for model in args.models}, {"text": text, "rates": rates}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    return run_table(parse_args(argv), argv)


def seeds_of(args: argparse.Namespace, model: str) -> list[int]:
    """The seeds a model runs: ``--gan-seeds`` for the GANs when given, else ``--seeds``."""
    gan_seeds = getattr(args, "gan_seeds", None)
    return list(gan_seeds) if gan_seeds and model in ("infowgan", "qlinfowgan") else args.seeds


def run_table(args: argparse.Namespace, argv: Sequence[str], max_steps: int | None = None) -> int:
    """Train, score and tabulate every (seed, model) run; returns the exit status."""
    import torch

    if getattr(args, "suite", None):
        return run_suite(args, argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    args.figure_path = args.figure or str(out.with_suffix(".png"))
    default_runs = Path(tempfile.gettempdir()) / f"infomec-{out.stem}-runs"
    runs = Path(args.runs_dir or default_runs)
    runs.mkdir(parents=True, exist_ok=True)
    if getattr(args, "quiet_check", False) and not getattr(args, "quiet_record", None):
        args.quiet_record = {"start": uptime(), "start_load": os.getloadavg()[0]}

    def say(text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    rows_path = out.with_suffix(".jsonl")  # one JSON row per finished run, kept with the table
    total = sum(len(seeds_of(args, model)) for model in args.models)
    if args.render_only:
        rows = read_rows(rows_path, args.models)
        if not rows:
            print(f"paper_table.py: error: no finished runs in {rows_path}", file=sys.stderr)
            return 2
        counts = {m: sorted({r["steps"] for r in rows if r["model"] == m}) for m in args.models}
        mixed = {m: c for m, c in counts.items() if len(c) > 1}
        if mixed:  # a table of means over runs of different lengths would mislead
            model, steps = next(iter(mixed.items()))
            print(
                f"paper_table.py: error: {rows_path} holds {model} runs of several lengths "
                f"({', '.join(map(str, steps))} steps); keep one length per model there",
                file=sys.stderr,
            )
            return 2
        rows.sort(key=lambda r: (args.models.index(r["model"]), r["seed"]))
        steps_by_model = {r["model"]: r["steps"] for r in rows}
        wall = sum(r["train_s"] + r["score_s"] for r in rows)  # the runs' own times
        shown = [arg for arg in argv if arg != "--render-only"]
        plan = {"text": "step counts as in the rows (rendered again from rows)."}
        label = "Sum of the runs' training and scoring times"
        out.write_text(render(args, shown, rows, steps_by_model, wall, plan, total, label))
        plot(args, rows, Path(args.figure_path))
        say(f"rendered {out} from {len(rows)} rows")
        return 0
    if args.only_run:  # one lane's run, started by the table's own process
        model, seed, steps = args.only_run.split(":")
        try:
            row = run_one(args, model, int(seed), int(steps), runs / run_name(model, seed, steps))
        except KeyboardInterrupt:  # the run saved its checkpoint; the table says the rest
            return 130
        Path(args.row_file).write_text(json.dumps(row))
        return 0
    steps_by_model, plan = choose_steps(args, say, max_steps)
    rows = load_rows(rows_path, steps_by_model)
    # Seed-major order: a table cut short still has every model at the finished seeds.
    all_seeds = sorted({seed for model in args.models for seed in seeds_of(args, model)})
    pending = [
        (model, seed, steps_by_model[model])
        for seed in all_seeds
        for model in args.models
        if seed in seeds_of(args, model)
        and not any(r["model"] == model and r["seed"] == seed for r in rows)
    ]
    runner = run_in_lanes(args, argv, pending, runs, say) if args.lanes > 1 else None
    try:
        for row in runner or run_in_turn(args, pending, runs, say):
            row["steps_reason"] = getattr(args, "steps_reasons", {}).get(row["model"])
            rows.append(row)
            with open(rows_path, "a") as handle:
                handle.write(json.dumps(row) + "\n")
            say(
                f"{row['model']} seed {row['seed']}: InfoM {row[f'{args.presets[0]}.infom']:.3f}, "
                f"PSNR {row['psnr']:.2f}, {row['train_s']:.0f} s"
            )
            wall = time.perf_counter() - started
            rows.sort(key=lambda r: (args.models.index(r["model"]), r["seed"]))
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(render(args, argv, rows, steps_by_model, wall, plan, total))
            plot(args, rows, Path(args.figure_path))
    except KeyboardInterrupt:  # each run saved a checkpoint; finished rows are kept
        say("stopped; rerun the same command to continue")
        return 130
    except LaneFailed as failure:
        say(str(failure))
        return failure.status
    say(f"done: {out}")
    print(out.read_text())
    return 0


def run_name(model: str, seed: int | str, steps: int | str) -> str:
    return f"{model}-seed{seed}-steps{steps}"


def run_in_turn(args, pending, runs: Path, say) -> Iterator[dict[str, Any]]:
    """Train the pending runs one after another in this process."""
    for model, seed, steps in pending:
        say(f"training {model} seed {seed} ({steps} steps)")
        yield run_one(args, model, seed, steps, runs / run_name(model, seed, steps))


class LaneFailed(RuntimeError):
    """A lane's process ended with an error (its own message is above in stderr), or was
    interrupted (``status`` 130)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def lane_command(argv: Sequence[str], args: argparse.Namespace, runs: Path) -> list[str]:
    """This script's command line for one lane: the table's arguments, less the options
    that make it a table (``--suite``, ``--lanes``), with the dataset and run folder fixed."""
    kept: list[str] = []
    skip = 0
    for arg in argv:
        if skip:
            skip -= 1
            continue
        name = arg.split("=", 1)[0]
        if name in ("--suite", "--lanes", "--dataset", "--runs-dir"):
            skip = 0 if "=" in arg else 1
            continue
        kept.append(arg)
    script = str(Path(__file__).resolve())
    return [sys.executable, script, *kept, "--dataset", args.dataset, "--runs-dir", str(runs)]


def run_in_lanes(args, argv, pending, runs: Path, say) -> Iterator[dict[str, Any]]:
    """Train the pending runs ``--lanes`` at a time, each in its own process (its row comes
    back through a file), yielding rows as runs finish.

    On Ctrl-C or SIGTERM every lane is asked to stop (SIGTERM: the trainer saves its
    checkpoint after the current step), and this waits for them before it stops too.
    """
    import signal
    import subprocess

    def stop(signum, frame):
        raise KeyboardInterrupt

    command = lane_command(argv, args, runs)
    queue = list(pending)
    active: dict[Any, tuple[str, int, Path]] = {}
    folder = Path(tempfile.mkdtemp(prefix="paper-table-lanes-"))
    previous = signal.signal(signal.SIGTERM, stop), signal.getsignal(signal.SIGINT)
    failed = None
    try:
        while queue or active:
            while queue and len(active) < args.lanes:
                model, seed, steps = queue.pop(0)
                row_file = folder / f"{run_name(model, seed, steps)}.json"
                say(f"training {model} seed {seed} ({steps} steps), {len(active)} run(s) beside")
                lane = [*command, "--only-run", f"{model}:{seed}:{steps}"]
                process = subprocess.Popen([*lane, "--row-file", str(row_file)])
                active[process] = (model, seed, row_file)
            finished = wait_any(list(active))
            model, seed, row_file = active.pop(finished)
            if finished.returncode == 0 and row_file.exists():
                yield json.loads(row_file.read_text())
            elif failed is None:  # start no more runs; the others finish and are kept
                queue.clear()
                failed = (model, seed, finished.returncode)
        if failed:
            model, seed, code = failed
            # 130 / -2 / -15: the lane was interrupted (it keeps its checkpoint).
            interrupted = code in (130, -signal.SIGINT, -signal.SIGTERM)
            what = "was interrupted" if interrupted else f"stopped with status {code}"
            raise LaneFailed(
                f"{model} seed {seed} {what}; finished runs are kept, rerun the same command "
                "to continue",
                130 if interrupted else 1,
            )
    except (KeyboardInterrupt, GeneratorExit):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not orphan lanes
        for process in active:
            if process.poll() is None:
                process.terminate()  # SIGTERM: stop after this step, keep the checkpoint
        for process in active:
            process.wait()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
        for leftover in folder.iterdir():
            leftover.unlink()
        folder.rmdir()


def wait_any(processes: list[Any], poll_s: float = 0.5) -> Any:
    """The first of ``processes`` to finish (polled: subprocess has no wait-for-any)."""
    while True:
        for process in processes:
            if process.poll() is not None:
                return process
        time.sleep(poll_s)


def run_suite(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``--suite issue23``: the shapes3d table (autoencoders and the GAN pair) and the
    dsprites autoencoder table, each at its plateau, then one results file holding both
    with a verdict per claim over the two."""
    import copy

    out = Path(args.out)
    if args.quiet_check:
        args.quiet_record = {"start": uptime(), "start_load": os.getloadavg()[0]}
    started = time.perf_counter()
    wanted = list(dict.fromkeys(args.models)) if "--models" in argv else list(MODELS)
    plans = [
        ("shapes3d", [m for m in MODELS if m in wanted]),
        ("dsprites", [m for m in DEFAULT_MODELS if m in wanted]),
    ]
    parts = []
    for dataset, models in plans:
        if not models:
            continue
        part = copy.copy(args)
        part.suite, part.dataset, part.models = None, dataset, models
        part.gan_seeds = args.gan_seeds or [0, 1, 2]
        part.out = str(out.with_name(f"{out.stem}_{dataset}.md"))
        part.figure = None
        # Run directories are named by model, seed and steps: one folder per dataset.
        part.runs_dir = str(Path(args.runs_dir) / dataset) if args.runs_dir else None
        status = run_table(part, argv)
        if status:
            return status
        parts.append(part)
    wall = time.perf_counter() - started
    lines = [
        "# QLAE and baselines on procedural shapes3d and dsprites (each run's plateau: its table)",
        "",
        f"Command: `python benchmarks/paper_table.py {shlex.join(argv)}`",
        "",
        f"Wall time of this command: {wall / 60:.1f} min (finished runs from an earlier "
        "call are reused, not retrained).",
        "",
        *quiet_lines(args),
        "## Claims of the abstract, per dataset",
        "",
    ]
    for part in parts:
        rows_path = Path(part.out).with_suffix(".jsonl")
        if args.render_only:  # the rows as they are (their step counts may be older ones)
            rows = read_rows(rows_path, part.models)
        else:
            rows = load_rows(rows_path, choose_steps(part, print)[0])
        lines += [f"### {part.dataset}", "", *claim_verdicts(rows, part.models, part.presets[0])]
        lines.append("")
    for part in parts:
        text = Path(part.out).read_text()
        # Each table's headings one level down, inside this file.
        lines += [line if not line.startswith("#") else "#" + line for line in text.splitlines()]
        lines.append("")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"[{time.strftime('%H:%M:%S')}] done: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
