"""Inside the InfoE one-hot probe and the IRS kernel: work counts and kernel times.

bench_infomec.py and bench_legacy.py time whole calls against references; this script
shows where the time of two of them goes, on the same data:

- the one-hot InfoE probe on bench_infomec's discrete data (N = 50,000, d = 12): per
  source, the full-data Newton iterations, factorised Hessians, exact Hessian products
  and loss evaluations, and the seconds on one thread, with the classes that a latent
  value never shows ruled out (as ``infomec.score`` fits them) and without;
- its building blocks: the sparse Hessian on the 8,192-row curvature subsample (15
  classes), and a product with the design through the grouped-code tables against
  scipy's CSR product;
- the IRS deviation kernel on bench_legacy's data (10,000 x 10, 5 sources), on the
  calling thread and on every core, and the other stages of a one-thread IRS call.

Counts are deterministic; times are minima over ``--repeats`` runs.

Run:  python benchmarks/bench_probe.py      (writes benchmarks/results/bench_probe.md)
"""

from __future__ import annotations

import argparse
import datetime
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, command_line, fastest, machine  # noqa: E402
from bench_infomec import make_data  # noqa: E402
from bench_legacy import make_data as make_legacy_data  # noqa: E402

import infomec  # noqa: E402
from infomec.data import prepare_sample  # noqa: E402
from infomec.estimators.deviation import (  # noqa: E402
    column_deviation_stats,
    mean_group_deviation_quantiles,
    mean_group_deviation_quantiles_serial,
)
from infomec.estimators.multinomial import softmax_in_place, sparse_multinomial_hessian  # noqa: E402
from infomec.estimators.sampling import order_by_value  # noqa: E402
from infomec.parallel import numba_threads  # noqa: E402
from infomec.probes import linear_probes  # noqa: E402
from infomec.probes.one_hot_design import OneHotDesign  # noqa: E402


class Counted:
    """Counts the calls of the probe's private steps while a fit runs."""

    NAMES = ("_factorized_hessian", "_hessian_product", "_evaluate")

    def __enter__(self) -> Counter:
        self.counts: Counter = Counter()
        self.originals = {name: getattr(linear_probes, name) for name in self.NAMES}
        for name, original in self.originals.items():
            setattr(linear_probes, name, self._counting(name, original))
        return self.counts

    def _counting(self, name, original):
        def wrapper(*args, **kwargs):
            self.counts[name] += 1
            return original(*args, **kwargs)

        return wrapper

    def __exit__(self, *exc) -> None:
        for name, original in self.originals.items():
            setattr(linear_probes, name, original)


def probe_rows(repeats: int) -> list[tuple]:
    latents, sources = make_data(50_000, 12, discrete=True)
    design = OneHotDesign.from_codes(list(latents.T))
    rows = []
    for k in np.argsort(-sources.max(axis=0), kind="stable"):
        labels = sources[:, k]
        n_classes = int(labels.max()) + 1
        ruled_out = linear_probes.classes_absent_from_cells(list(latents.T), labels, n_classes)
        for masked in (True, False):
            options = {"ruled_out": ruled_out if masked else None}
            with Counted() as counts:
                fit = linear_probes.fit_multinomial_logistic(design, labels, n_classes, **options)
            seconds = fastest(
                lambda o=options, y=labels, c=n_classes: linear_probes.fit_multinomial_logistic(
                    design, y, c, **o
                ),
                repeats,
            )
            rows.append(
                (
                    n_classes,
                    "ruled out" if masked else "not ruled out",
                    fit.n_iter,
                    counts["_factorized_hessian"],
                    counts["_hessian_product"],
                    counts["_evaluate"],
                    seconds,
                    fit.log_loss,
                    fit.converged,
                )
            )
    return rows


def kernel_rows(repeats: int) -> list[tuple[str, float]]:
    latents, sources = make_data(50_000, 12, discrete=True)
    design = OneHotDesign.from_codes(list(latents.T))
    rng = np.random.default_rng(0)
    rows = np.sort(rng.permutation(50_000)[:8192])
    subsample = design.csr[rows]
    probabilities = rng.standard_normal((8192, 14))
    softmax_in_place(probabilities, np.zeros(8192))
    weights = np.full(8192, 1 / 8192)
    coef = rng.standard_normal((design.shape[1], 14))
    residual = rng.standard_normal((50_000, 14))
    csr = design.csr
    timings = [
        (
            "sparse Hessian, 8,192 rows, 15 classes (1,526 parameters)",
            fastest(
                lambda: sparse_multinomial_hessian(
                    subsample.indptr,
                    subsample.indices,
                    subsample.data,
                    probabilities,
                    weights,
                    design.shape[1],
                ),
                repeats,
            ),
        ),
        (
            "X @ coef, grouped-code tables (50,000 x 109, 14 classes)",
            fastest(lambda: design @ coef, repeats),
        ),
        ("X @ coef, scipy CSR", fastest(lambda: csr @ coef, repeats)),
        ("X.T @ R, grouped-code tables", fastest(lambda: design.T @ residual, repeats)),
        ("X.T @ R, scipy CSR", fastest(lambda: csr.T @ residual, repeats)),
    ]
    z, s, _, _ = make_legacy_data()
    columns, _, _ = column_deviation_stats(np.ascontiguousarray(z, dtype=np.float64))
    codes = np.ascontiguousarray(s.T)
    cardinalities = codes.max(axis=1) + 1
    order, bounds = order_by_value(codes, cardinalities)
    arguments = (columns, order, bounds, cardinalities, 0.99)

    def parallel():
        with numba_threads(None):
            mean_group_deviation_quantiles(*arguments)

    timings += [
        (
            "IRS deviation kernel, calling thread (10,000 x 10, 5 sources)",
            fastest(lambda: mean_group_deviation_quantiles_serial(*arguments), repeats * 20),
        ),
        ("IRS deviation kernel, every core", fastest(parallel, repeats * 20)),
    ]
    # Where the rest of a one-thread `infomec.score(metrics=["irs"])` call goes.
    latents = np.ascontiguousarray(z, dtype=np.float64)
    timings += [
        (
            "IRS: validation and encoding of the arrays (prepare_sample)",
            fastest(lambda: prepare_sample(z, s), repeats * 20),
        ),
        (
            "IRS: transposition and column statistics",
            fastest(lambda: column_deviation_stats(latents), repeats * 20),
        ),
        (
            "IRS: rows grouped by source value",
            fastest(lambda: order_by_value(codes, cardinalities), repeats * 20),
        ),
        (
            "IRS: whole call, infomec.score(metrics=['irs'], n_jobs=1)",
            fastest(
                lambda: infomec.score(latents=z, sources=s, metrics=["irs"], n_jobs=1),
                repeats * 20,
            ),
        ),
    ]
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", default=str(RESULTS / "bench_probe.md"))
    args = parser.parse_args()
    with threadpool_limits(limits=1, user_api="blas"):  # as infomec.score's probes
        probes = probe_rows(args.repeats)
        kernels = kernel_rows(args.repeats)
    lines = [
        "# Inside the InfoE one-hot probe and the IRS kernel",
        "",
        f"Command: `{command_line()}`  ",
        f"Machine: {machine()}  ",
        f"Date: {datetime.datetime.now():%Y-%m-%d %H:%M}; times: minimum of {args.repeats} "
        "runs on one thread (the IRS rows: of 20x as many).",
        "",
        "InfoE probe on bench_infomec's discrete data (N = 50,000, d = 12, one-hot: 109 "
        "columns), one source at a time, gradient tolerance 1e-6:",
        "",
        "| classes | classes a cell never shows | Newton iterations | Hessians factorised "
        "| Hessian products | loss evaluations | seconds | in-sample log-loss | converged |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in probes:
        lines.append(
            f"| {row[0]} | {row[1]} | {row[2]} | {row[3]} | {row[4]} | {row[5]} | "
            f"{row[6]:.3f} | {row[7]:.9f} | {row[8]} |"
        )
    lines += ["", "| kernel | milliseconds |", "|---|---:|"]
    lines += [f"| {name} | {seconds * 1e3:.2f} |" for name, seconds in kernels]
    Path(args.output).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
