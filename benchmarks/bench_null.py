"""Cost of the chance levels: ``infomec.score`` with and without its permutation null.

For each data set, the fastest of ``--repeats`` scores (after a warm-up) with
``null=0`` and with ``null=R`` for each R of ``--draws`` (the default R first), on
``--n-jobs`` threads; the extra cost is given in units of the score without a null.
Also: the chance levels themselves on the issue's noise case and on the demo's
informative code, and InfoE's closed-form null against real probe refits on shuffled
sources (how good the Wilks approximation is).

Run:  python benchmarks/bench_null.py            (-> results/bench_null.md)
      python benchmarks/bench_null.py --repeats 1 --draws 10 --no-write   (quick)

The machine this was written on is shared with other jobs: timings are noisy, and the
ratios (measured back to back) mean more than the seconds.
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, command_line, fastest, machine  # noqa: E402

import infomec  # noqa: E402
from infomec.demo import make_example  # noqa: E402
from infomec.metrics.null import DEFAULT_NULL  # noqa: E402


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def data_sets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    grid = np.array(list(itertools.product(*(range(size) for size in (3, 3, 4, 5, 6)))))
    noise = np.random.default_rng(0).standard_normal((grid.shape[0], 10))
    example = make_example()
    rng = np.random.default_rng(0)
    sources = rng.integers(0, 10, size=(10_000, 5))
    latents = sources @ rng.standard_normal((5, 10)) + rng.standard_normal((10_000, 10))
    codes = np.clip(np.round(latents[:, :10]), -4, 4).astype(np.int64)  # a quantized code
    return {
        "noise 1,080 x 10 (5 factorial sources)": (noise, grid),
        "noise 1,080 x 2 (few latents)": (noise[:, :2], grid),
        "demo 5,000 x 6 (4 sources)": (example["disentangled"], example["sources"]),
        "10,000 x 10 (5 sources of 10 values)": (latents, sources),
        "10,000 x 10 integer codes (discrete)": (codes, sources),
    }


def score(latents, sources, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return infomec.score(latents=latents, sources=sources, progress=False, **kwargs)


def timings(repeats: int, draws: list[int], n_jobs: int) -> list[str]:
    arms = [(r, False) for r in draws] + [(DEFAULT_NULL, True)]
    lines = [
        "| data | null=0 (s) | "
        + " | ".join(
            f"null={r}{' exact' if exact else ''} (s) | extra, in scores" for r, exact in arms
        )
        + " |",
        "|---|---:|" + "---:|---:|" * len(arms),
    ]
    for name, data in data_sets().items():

        def run(r: int, exact: bool, data=data) -> float:
            return fastest(lambda: score(*data, null=r, null_exact=exact, n_jobs=n_jobs), repeats)

        base = run(0, False)
        cells = [f"{base:.3f}"]
        for r, exact in arms:
            seconds = run(r, exact)
            cells += [f"{seconds:.3f}", f"{(seconds - base) / base:.2f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def agreement() -> list[str]:
    """Shared shuffles against every latent scored under every shuffle (null=100)."""
    example = make_example()
    grid_noise, grid = data_sets()["noise 1,080 x 10 (5 factorial sources)"]
    cases = {
        "noise (1,080 rows)": (grid_noise, grid),
        "demo entangled": (example["entangled"], example["sources"]),
    }
    lines = [
        "| data | null | InfoM chance mean (p05-p95) | InfoC chance mean (p05-p95) "
        "| mean NMI floor | family-wise p |",
        "|---|---|---|---|---:|---:|",
    ]
    for name, (latents, sources) in cases.items():
        for exact in (False, True):
            chance = score(latents, sources, null=100, null_exact=exact).chance["infomec"]
            cells = [
                f"{chance[k]['mean']:.3f} ({chance[k]['p05']:.3f}-{chance[k]['p95']:.3f})"
                for k in ("infom", "infoc")
            ]
            lines.append(
                f"| {name} | {'exact' if exact else 'shared'} | "
                + " | ".join(cells)
                + f" | {np.mean(chance['nmi_floor']):.4f} | {chance['family_p_value']:.3f} |"
            )
    return lines


def levels() -> list[str]:
    grid_noise, grid = data_sets()["noise 1,080 x 10 (5 factorial sources)"]
    example = make_example()
    cases = {
        "noise (1,080 rows)": (grid_noise, grid),
        "demo disentangled": (example["disentangled"], example["sources"]),
        "demo entangled": (example["entangled"], example["sources"]),
    }
    lines = [
        "| data | max NMI | InfoM (chance, p95) | InfoE (chance, p95) | InfoC (chance, p95) "
        "| family-wise p |",
        "|---|---:|---|---|---|---:|",
    ]
    for name, (latents, sources) in cases.items():
        result = score(latents, sources, null=100)
        chance = result.chance["infomec"]
        cells = [
            f"{result['infomec'][k]:.3f} ({chance[k]['mean']:.3f}, {chance[k]['p95']:.3f})"
            for k in ("infom", "infoe", "infoc")
        ]
        lines.append(
            f"| {name} | {result.nmi.max():.3f} | "
            + " | ".join(cells)
            + f" | {chance['family_p_value']:.3f} |"
        )
    return lines


def calibration(seeds: int) -> list[str]:
    """How noise fares against its own chance levels, over seeds of the issue's case:
    how often its InfoM / InfoC lie in their 5-95% band (about 90% expected) and how
    often the "no detectable information" warning fires (about 95% expected)."""
    grid = data_sets()["noise 1,080 x 10 (5 factorial sources)"][1]
    lines = [
        "| null | seeds | InfoM in its 5-95% band | InfoC in its band | warned |",
        "|---|---:|---:|---:|---:|",
    ]
    for exact in (False, True):
        inside_m = inside_c = warned = 0
        for seed in range(seeds):
            latents = np.random.default_rng(1000 + seed).standard_normal((grid.shape[0], 10))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = infomec.score(
                    latents=latents, sources=grid, seed=seed, null_exact=exact, progress=False
                )
            chance = result.chance["infomec"]
            inside_m += chance["infom"]["p05"] <= result.infom <= chance["infom"]["p95"]
            inside_c += chance["infoc"]["p05"] <= result.infoc <= chance["infoc"]["p95"]
            warned += any("no latent carries detectable" in str(w.message) for w in caught)
        lines.append(
            f"| {'exact' if exact else 'shared (default)'}, R={DEFAULT_NULL} | {seeds} | "
            f"{inside_m / seeds:.0%} | {inside_c / seeds:.0%} | {warned / seeds:.0%} |"
        )
    return lines


def infoe_check(refits: int) -> list[str]:
    """Closed-form InfoE null against refits of the probe on shuffled sources."""
    rng = np.random.default_rng(1)
    lines = [
        "| case | closed form mean (std) | refits mean (std) |",
        "|---|---|---|",
    ]
    cases = {
        "600 x 3, one balanced 4-class source": (600, [0.25] * 4),
        "600 x 3, one unbalanced 4-class source (50/30/15/5%)": (600, [0.5, 0.3, 0.15, 0.05]),
        "2,000 x 3, one balanced 10-class source": (2000, [0.1] * 10),
    }
    for name, (n, weights) in cases.items():
        sources = rng.choice(len(weights), size=(n, 1), p=weights)
        latents = sources + rng.standard_normal((n, 3))
        closed = score(latents, sources, null=1000).chance["infomec"]["infoe"]
        values = [score(latents, rng.permutation(sources), null=0).infoe for _ in range(refits)]
        lines.append(
            f"| {name} | {closed['mean']:.5f} ({closed['std']:.5f}) | "
            f"{np.mean(values):.5f} ({np.std(values, ddof=1):.5f}) |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--draws", type=int, nargs="+", default=[DEFAULT_NULL, 100])
    parser.add_argument("--note", default="", help="a line about the machine's state")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--refits", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=40, help="noise seeds for calibration")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    uptime = load()
    lines = [
        "# Chance levels: the cost of the permutation null",
        "",
        f"Command: `{command_line()}`",
        "",
        f"Machine: {machine()}",
        "",
        f"Load at start (`uptime`): {uptime}. {args.note}",
        "",
        "By default tie-free continuous latents share the shuffles and their null is a "
        "Gaussian model fitted to the shared draws (`infomec.metrics.null`); `exact` scores "
        "every latent under every shuffle (`null_exact=True`).",
        "",
        f"## Wall time of `infomec.score` (fastest of {args.repeats}, n_jobs={args.n_jobs})",
        "",
        '"extra, in scores": (time with the null - time without) / time without.',
        "",
        *timings(args.repeats, args.draws, args.n_jobs),
        "",
        "## Shared against exact shuffles (null=100)",
        "",
        *agreement(),
        "",
        f"## Noise against its own chance levels ({args.seeds} seeds of the issue's case)",
        "",
        *calibration(args.seeds),
        "",
        "## Chance levels (null=100)",
        "",
        *levels(),
        "",
        f"## InfoE's closed-form null against {args.refits} refits on shuffled sources",
        "",
        *infoe_check(args.refits),
        "",
        f"Load at the end: {load()}",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        (RESULTS / "bench_null.md").write_text(text)


if __name__ == "__main__":
    main()
