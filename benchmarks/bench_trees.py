"""DCI-GBT's compiled regression trees against scikit-learn's, tree by tree and fit by fit.

bench_legacy.py times whole DCI calls at 10,000 rows; this script shows where the
compiled trees (``infomec.gbt.regression_tree``) gain and where they do not:

- one depth-3 regression tree (a boosting stage's), one thread, on bench_legacy's
  latents (10,000 x 10, continuous, a few float32 ties), on latents with distinct values
  only, and on latents rounded to 0.1 (quantized: ties at every node, where scikit-learn's
  sort has to be replayed);
- one source's ``GradientBoostingClassifier`` (5 classes, 100 stages) at small sizes:
  ``fit_gradient_boosting`` with a pool of one and of two threads against scikit-learn's
  own fit.

Every compiled tree is checked against scikit-learn's (same seed) before it is timed.
Times are minima over ``--repeats`` runs.

Run:  python benchmarks/bench_trees.py      (writes benchmarks/results/bench_trees.md)
"""

from __future__ import annotations

import argparse
import datetime
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.tree import DecisionTreeRegressor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, command_line, fastest, machine  # noqa: E402
from bench_legacy import make_data  # noqa: E402

from infomec.gbt.boosting import fit_gradient_boosting  # noqa: E402
from infomec.gbt.regression_tree import fit_regression_tree, presort  # noqa: E402

SPLITTER_SEED_BOUND = 0x7FFFFFFF
SMALL_SIZES = (250, 1000, 2000)


def tree_rows(repeats: int) -> list[tuple[str, float, float]]:
    """Seconds per tree, compiled and scikit-learn's, on three kinds of latents."""
    latents, sources, _, _ = make_data()
    rng = np.random.default_rng(0)
    kinds = {
        "bench_legacy's latents": latents,
        "distinct values": np.argsort(rng.random(latents.shape), axis=0) / len(latents),
        "quantized (rounded to 0.1)": np.round(latents, 1),
    }
    # A first stage's negative gradient for one class of the 15-valued source.
    target = (sources[:, 4] == 3) - 1.0 / 15
    rows = []
    for name, values in kinds.items():
        x = np.ascontiguousarray(values, dtype=np.float32)
        presorted = presort(x)
        seed = np.random.RandomState(0).randint(0, SPLITTER_SEED_BOUND)

        def compiled(x=x, presorted=presorted, seed=seed):
            return fit_regression_tree(*presorted, target, seed, 3, 2, 1, 0.0)

        def scikit_learns(x=x):
            regressor = DecisionTreeRegressor(max_depth=3, random_state=np.random.RandomState(0))
            return regressor.fit(x, target, sample_weight=np.ones(len(x)), check_input=False)

        expected = scikit_learns().tree_
        ours = compiled()
        assert np.array_equal(ours[5], expected.threshold), name
        assert np.array_equal(ours[6], expected.impurity), name
        rows.append((name, fastest(compiled, repeats), fastest(scikit_learns, repeats)))
        print(f"{name}: {rows[-1][1] * 1e3:.1f} / {rows[-1][2] * 1e3:.1f} ms", flush=True)
    return rows


def small_fit_rows(repeats: int) -> list[tuple[int, float, float, float]]:
    """Seconds per GBT fit at small sizes: one thread, two threads, scikit-learn."""
    rng = np.random.default_rng(1)
    rows = []
    for n in SMALL_SIZES:
        labels = rng.integers(0, 5, n)
        x = rng.standard_normal((n, 10))
        x[:, 0] += labels
        expected = GradientBoostingClassifier(random_state=0).fit(x, labels)
        times = []
        for n_threads in (1, 2):
            with ThreadPoolExecutor(n_threads) as pool:
                fit = partial(fit_gradient_boosting, x, labels, seed=0, tree_pool=pool)
                model = fit()
                assert model.compiled_trees
                assert np.array_equal(model.feature_importances_, expected.feature_importances_)
                times.append(fastest(fit, repeats))
        scikit_learns = partial(GradientBoostingClassifier(random_state=0).fit, x, labels)
        baseline = fastest(scikit_learns, 1)
        rows.append((n, times[0], times[1], baseline))
        print(f"{n} rows: {times[0]:.2f} / {times[1]:.2f} / {baseline:.2f} s", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", default=str(RESULTS / "bench_trees.md"))
    args = parser.parse_args()
    trees = tree_rows(args.repeats)
    fits = small_fit_rows(max(1, args.repeats // 2))
    lines = [
        "# DCI-GBT's compiled regression trees vs scikit-learn's",
        "",
        f"Command: `{command_line()}`  ",
        f"Machine: {machine()}  ",
        f"Date: {datetime.date.today()}; minima over {args.repeats} runs (fits: "
        f"{max(1, args.repeats // 2)}; scikit-learn's fit once)",
        "",
        "One depth-3 regression tree, 10,000 x 10 float32 latents, one thread (each "
        "compiled tree checked equal to scikit-learn's first):",
        "",
        "| latents | compiled (ms) | scikit-learn (ms) | speed-up |",
        "|---|---:|---:|---:|",
        *[
            f"| {name} | {ours * 1e3:.1f} | {theirs * 1e3:.1f} | {theirs / ours:.1f}x |"
            for name, ours, theirs in trees
        ],
        "",
        "One source's GradientBoostingClassifier (5 classes, 10 latents, 100 stages): "
        "`fit_gradient_boosting` with a pool of 1 / 2 threads against scikit-learn's fit "
        "(feature importances checked equal):",
        "",
        "| rows | 1 thread (s) | 2 threads (s) | scikit-learn (s) | speed-up (2 threads) |",
        "|---:|---:|---:|---:|---:|",
        *[
            f"| {n} | {one:.3f} | {two:.3f} | {theirs:.3f} | {theirs / two:.1f}x |"
            for n, one, two, theirs in fits
        ],
        "",
    ]
    path = Path(args.output)
    path.write_text("\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
