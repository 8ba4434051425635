"""Scale: time and peak memory of ``infomec score`` against N and d, parallel speed-up,
and a sweep of many runs locally vs on a dask LocalCluster.

Every measurement is a separate ``infomec score`` process on memory-mapped ``.npy``
files; wall time and peak RSS come from GNU ``time`` (measured outside the process).
Growth exponents are least-squares slopes of log(time) and log(peak RSS) against log(N)
or log(d).

Run:  python benchmarks/bench_scale.py                      (N up to 1e7; ~15 min)
      python benchmarks/bench_scale.py --max-n 1000000 --sweep-runs 10   (quick)
      python benchmarks/bench_scale.py --only sweep               (50-run sweep only)
      python benchmarks/bench_scale.py --only n --n-values 1000000 10000000

``--only`` re-runs some parts (n: rows against N, d: rows against d, speedup: 1 vs 2
cores, sweep: local processes vs LocalCluster); such a partial run writes
``results/bench_scale_<parts>.md`` unless ``--output`` says otherwise, so the complete
``results/bench_scale.md`` is not overwritten.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, command_line, machine  # noqa: E402

CARDINALITIES = (3, 6, 10, 8, 4, 15)


def write_data(folder: Path, n_samples: int, n_latents: int, tag: str) -> tuple[Path, Path]:
    """Continuous latents and K = 6 factorial sources, written in chunks (bounded memory)."""
    latents_path, sources_path = folder / f"z_{tag}.npy", folder / f"s_{tag}.npy"
    latents = np.lib.format.open_memmap(latents_path, "w+", np.float64, (n_samples, n_latents))
    sources = np.lib.format.open_memmap(sources_path, "w+", np.int8, (n_samples, 6))
    rng = np.random.default_rng(0)
    mixing = rng.standard_normal((6, n_latents))
    for start in range(0, n_samples, 1_000_000):
        stop = min(start + 1_000_000, n_samples)
        block = np.column_stack([rng.integers(0, c, stop - start) for c in CARDINALITIES])
        sources[start:stop] = block
        scaled = block / (np.array(CARDINALITIES) - 1.0)
        latents[start:stop] = scaled @ mixing + 0.3 * rng.standard_normal((stop - start, n_latents))
    latents.flush()
    sources.flush()
    del latents, sources
    return latents_path, sources_path


def measure(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one ``infomec`` process.

    GNU time starts the process from its own small image: a child forked from this
    (large) benchmark process would report this process's pages in its peak RSS.
    """
    completed = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", sys.executable, "-m", "cli", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"infomec {' '.join(argv)} failed: {completed.stderr}")
    wall, peak_kib = completed.stderr.strip().splitlines()[-1].split()
    return float(wall), int(peak_kib) / 1024


def slope(xs, ys) -> float:
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def sweep_comparison(folder: Path, n_runs: int) -> tuple[float, float, bool]:
    """Wall seconds of one sweep locally (2 loky processes) and on a 2-worker
    LocalCluster (started beforehand, not timed), and whether the scores are equal."""
    from distributed import LocalCluster

    from infomec.sweep import Run, sweep

    latents_path, sources_path = write_data(folder, 20_000, 8, "sweep")
    runs = [
        Run(name=f"r{i}", latents=str(latents_path), sources=str(sources_path), seed=i)
        for i in range(n_runs)
    ]
    started = time.perf_counter()
    local = sweep(runs, n_jobs=2)
    local_wall = time.perf_counter() - started
    with LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        started = time.perf_counter()
        remote = sweep(runs, scheduler=cluster.scheduler_address)
        remote_wall = time.perf_counter() - started
    columns = ["run", "infomec.infom", "infomec.infoe", "infomec.infoc"]
    equal = remote[columns].equals(local[columns])
    return local_wall, remote_wall, equal


PARTS = ("n", "d", "speedup", "sweep")


def parse_parts(text: str) -> list[str]:
    """``"all"`` or a comma-separated subset of :data:`PARTS`, in PARTS order."""
    names = list(PARTS) if text == "all" else [p.strip() for p in text.split(",")]
    unknown = [name for name in names if name not in PARTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown part {', '.join(unknown) or '(none)'}; choose from {', '.join(PARTS)}"
        )
    return [part for part in PARTS if part in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        type=parse_parts,
        default=list(PARTS),
        metavar="PARTS",
        help=f"comma-separated parts to run: {', '.join(PARTS)} (default: all)",
    )
    parser.add_argument("--max-n", type=int, default=10_000_000)
    parser.add_argument(
        "--n-values",
        type=int,
        nargs="+",
        default=None,
        metavar="N",
        help="N of the rows against N (default: 1e4, 1e5, 1e6, 1e7 up to --max-n)",
    )
    parser.add_argument("--sweep-runs", type=int, default=50)
    parser.add_argument("--output", default=None, help="default: results/bench_scale.md")
    args = parser.parse_args()
    parts = args.only
    if args.output is None:
        suffix = "" if parts == list(PARTS) else "_" + "_".join(parts)
        args.output = str(RESULTS / f"bench_scale{suffix}.md")

    if args.n_values is not None:
        sizes = sorted(set(args.n_values))
    else:
        sizes = [n for n in (10_000, 100_000, 1_000_000, 10_000_000) if n <= args.max_n]
    if "n" not in parts:
        sizes = []
    rows_n, rows_d, speedup = [], [], []
    sweep_result = None
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        warm = write_data(folder, 1000, 4, "warm")
        measure(["score", str(warm[0]), str(warm[1])])  # fill the numba cache
        for n in sizes:
            z, s = write_data(folder, n, 16, f"n{n}")
            wall, peak = measure(["score", str(z), str(s)])
            rows_n.append((n, wall, peak))
            print(f"N={n:,} d=16: {wall:.1f} s, {peak:.0f} MiB", flush=True)
            z.unlink()
        for d in (4, 8, 16, 32) if "d" in parts else ():
            z, s = write_data(folder, 200_000, d, f"d{d}")
            wall, peak = measure(["score", str(z), str(s)])
            rows_d.append((d, wall, peak))
            print(f"N=200,000 d={d}: {wall:.1f} s, {peak:.0f} MiB", flush=True)
        if "speedup" in parts:
            z, s = write_data(folder, 1_000_000, 16, "speed")
            for jobs in (1, 2):
                wall, _ = measure(["score", str(z), str(s), "--n-jobs", str(jobs)])
                speedup.append(wall)
                print(f"N=1,000,000 d=16 n_jobs={jobs}: {wall:.1f} s", flush=True)
        if "sweep" in parts:
            sweep_result = sweep_comparison(folder, args.sweep_runs)

    lines = [
        "# Scale: time and peak memory of `infomec score`",
        "",
        f"Command: `{command_line()}`  ",
        f"Machine: {machine()}  ",
        f"Date: {time.strftime('%Y-%m-%d %H:%M')}. Continuous float64 latents from "
        "memory-mapped .npy files, K = 6 sources; one process per row, wall time and peak "
        "RSS measured from outside by GNU time; the sweep is timed inside this process.",
        "",
    ]
    if rows_n or rows_d:
        lines += [
            "| N | d | wall (s) | peak RSS (MiB) |",
            "|---|---|---|---|",
            *[f"| {n:,} | 16 | {w:.1f} | {p:.0f} |" for n, w, p in rows_n],
            *[f"| 200,000 | {d} | {w:.1f} | {p:.0f} |" for d, w, p in rows_d],
            "",
        ]

    def exponents(rows) -> str:
        keys = [r[0] for r in rows]
        return (
            f"time ~ ^{slope(keys, [r[1] for r in rows]):.2f}, "
            f"peak memory ~ ^{slope(keys, [r[2] for r in rows]):.2f}"
        )

    large_n = [r for r in rows_n if r[0] >= 100_000]
    if len(large_n) >= 2:
        lines.append(f"Growth exponents against N (N >= 1e5): {exponents(large_n)}.  ")
    if rows_d:
        lines.append(f"Growth exponents against d (N = 200,000): {exponents(rows_d)}.  ")
    if speedup:
        lines.append(
            f"Parallel speed-up at N = 1e6, d = 16: n_jobs=1 {speedup[0]:.1f} s, n_jobs=2 "
            f"{speedup[1]:.1f} s ({speedup[0] / speedup[1]:.2f}x).  "
        )
    if sweep_result is not None:
        sweep_local, sweep_remote, equal = sweep_result
        lines.append(
            f"Sweep of {args.sweep_runs} runs (N = 20,000, d = 8, one thread per run): local "
            f"processes (n_jobs=2) {sweep_local:.1f} s, dask LocalCluster (2 workers x 1 "
            f"thread, started beforehand) {sweep_remote:.1f} s; identical scores: {equal}."
        )
    Path(args.output).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
