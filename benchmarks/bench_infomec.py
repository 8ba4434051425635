"""InfoMEC speed and agreement: ``infomec.score`` against the scikit-learn reference.

The reference procedure is the authors' standalone InfoMEC estimator re-implemented
with scikit-learn calls that work on current versions: one ``mutual_info_classif``
(k = 10, standardised latent) or ``mutual_info_score`` per (latent, source) pair, and
one ``LogisticRegression(C=inf, class_weight="balanced", max_iter=100)`` per source
(plus its all-zeros null model). Both run side by side in this process, on the same
data; we report median wall times of ``--repeats`` runs, ratios, and the largest
differences in NMI / InfoM / InfoE / InfoC. InfoE is also compared with a
well-converged scikit-learn fit (tol 1e-8) where that is affordable.

Run:  python benchmarks/bench_infomec.py --kinds continuous   (-> bench_infomec_continuous.md)
      python benchmarks/bench_infomec.py --sizes 10000 --repeats 1 --no-large   (quick)
      python benchmarks/bench_infomec.py --worst-case   (-> bench_infomec_worstcase.md)

``--worst-case`` times the InfoE probe's hardest inputs instead (many classes, separable
sources, about one row per value, 1,000 classes at N = 100,000, wide one-hot designs),
each in its own process under a time limit: ``infomec.score`` when the input is
accepted, and the probe alone (as InfoE builds it) either way.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.feature_selection import mutual_info_classif
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, mutual_info_score
from sklearn.preprocessing import LabelEncoder, OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, command_line, machine  # noqa: E402

import infomec  # noqa: E402

CARDINALITIES = (3, 6, 10, 8, 4, 15)


def make_data(n_samples: int, n_latents: int, seed: int = 0, discrete: bool = False):
    """Factorial sources and a partly disentangled, partly mixed code."""
    rng = np.random.default_rng(seed)
    n_sources = len(CARDINALITIES)
    sources = np.column_stack([rng.integers(0, c, n_samples) for c in CARDINALITIES])
    scaled = sources / (np.array(CARDINALITIES) - 1.0)
    latents = rng.standard_normal((n_samples, n_latents)) * 0.3
    latents[:, :n_sources] += np.tanh(2 * scaled - 1)
    mix = rng.standard_normal((n_sources, n_latents - n_sources)) * 0.5
    latents[:, n_sources:] += scaled @ mix
    if discrete:
        edges = np.quantile(latents, np.linspace(0, 1, 11)[1:-1], axis=0)
        latents = np.stack(
            [np.searchsorted(edges[:, j], latents[:, j]) for j in range(n_latents)], 1
        )
    return latents, sources


# ------------------------------------------------------------- the reference


def reference_nmi(latents, sources, discrete, k=10, seed=0):
    sources = np.column_stack([LabelEncoder().fit_transform(s) for s in sources.T])
    if discrete:
        latents = np.column_stack([LabelEncoder().fit_transform(z) for z in latents.T])
    else:
        latents = StandardScaler().fit_transform(latents)
    nmi = np.zeros((sources.shape[1], latents.shape[1]))
    for i in range(sources.shape[1]):
        entropy = mutual_info_score(sources[:, i], sources[:, i])
        for j in range(latents.shape[1]):
            if discrete:
                mi = mutual_info_score(sources[:, i], latents[:, j])
            else:
                mi = mutual_info_classif(
                    latents[:, j : j + 1], sources[:, i], n_neighbors=k, random_state=seed
                )[0]
            nmi[i, j] = mi / entropy
    return nmi


def _fit_loss(features, labels, tol, max_iter, solver="lbfgs"):
    model = LogisticRegression(
        C=np.inf, class_weight="balanced", tol=tol, max_iter=max_iter, solver=solver
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(features, labels)
    return log_loss(labels, model.predict_proba(features))


def reference_infoe(
    latents, sources, discrete, tol=1e-4, max_iter=100, null_model=True, solver="lbfgs"
):
    if discrete:
        features = OneHotEncoder(sparse_output=False).fit_transform(latents)
    else:
        features = StandardScaler().fit_transform(latents)
    values = []
    for labels in sources.T:
        ce_fit = _fit_loss(features, labels, tol, max_iter, solver)
        if null_model:
            ce_null = _fit_loss(np.zeros_like(features), labels, tol, max_iter)
        else:
            ce_null = np.log(np.unique(labels).size)
        values.append((ce_null - ce_fit) / ce_null)
    return float(np.mean(values))


def reference_score(latents, sources, discrete):
    started = time.perf_counter()
    nmi = reference_nmi(latents, sources, discrete)
    nmi_seconds = time.perf_counter() - started
    ranges = latents.max(axis=0) - latents.min(axis=0)
    active = ranges > 0 if discrete else ranges > ranges.max() / 20
    pruned = nmi[:, active]
    n_sources, n_active = pruned.shape
    infom = (np.mean(pruned.max(0) / pruned.sum(0)) - 1 / n_sources) / (1 - 1 / n_sources)
    infoc = (np.mean(pruned.max(1) / pruned.sum(1)) - 1 / n_active) / (1 - 1 / n_active)
    infoe = reference_infoe(latents, sources, discrete)
    return {"nmi": nmi, "infom": infom, "infoe": infoe, "infoc": infoc, "nmi_s": nmi_seconds}


# ---------------------------------------------------------------- measuring


def timed(function, repeats):
    times, value = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - started)
    return float(np.median(times)), value


def compare(n_samples, discrete, repeats, converged_limit):
    latents, sources = make_data(n_samples, 12, discrete=discrete)
    kind = "discrete" if discrete else "continuous"
    # Load the compiled kernels from numba's cache first: a one-off cost per process,
    # measured separately as the second-process time.
    infomec.score(latents=latents[:2000], sources=sources[:2000])
    ours_nmi_t, ours_nmi = timed(
        lambda: infomec.nmi_matrix(latents=latents, sources=sources), repeats
    )
    ours_t, ours = timed(lambda: infomec.score(latents=latents, sources=sources), repeats)
    # One reference run; its NMI part is timed inside it.
    ref_t, ref = timed(lambda: reference_score(latents, sources, discrete), 1)
    ref_nmi_t, ref_nmi = ref["nmi_s"], ref["nmi"]
    row = {
        "N": n_samples,
        "latents": kind,
        "nmi_ours_s": ours_nmi_t,
        "nmi_ref_s": ref_nmi_t,
        "nmi_ratio": ref_nmi_t / ours_nmi_t,
        "score_ours_s": ours_t,
        "score_ref_s": ref_t,
        "score_ratio": ref_t / ours_t,
        "max_dnmi": float(np.abs(ours_nmi - ref_nmi).max()),
        "dinfom": abs(ours.infom - ref["infom"]),
        "dinfoc": abs(ours.infoc - ref["infoc"]),
        "dinfoe_ref100": abs(ours.infoe - ref["infoe"]),
        "dinfoe_converged": float("nan"),
        "converged": bool(np.all(ours["infomec"]["converged"])),
    }
    if n_samples <= converged_limit:
        # newton-cg reaches tol 1e-8 in a few dozen iterations where lbfgs needs thousands.
        converged = reference_infoe(
            latents,
            sources,
            discrete,
            tol=1e-8,
            max_iter=1000,
            null_model=False,
            solver="newton-cg",
        )
        row["dinfoe_converged"] = abs(ours.infoe - converged)
    print({k: (round(v, 5) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    return row


def child_run(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one ``infomec`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cli", *args], check=True, capture_output=True)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024


# ------------------------------------------------------------ worst cases


# name: (description, builder of (latents, one source column)); every source has
# at least about 5 rows per value unless the name says otherwise.
def _worst_case(name: str):
    rng = np.random.default_rng(0)
    noise = rng.standard_normal

    def cyclic(n, k):
        return np.arange(n) % k

    if name.startswith("one-row-per-value"):  # an index column passed as a source
        n = int(name.rsplit("-", 1)[1])
        return noise((n, 2)), np.arange(n)
    if name == "k1000-n5000-d2-noise":
        return noise((5000, 2)), cyclic(5000, 1000)
    if name == "k200-n1000-d20-noise":
        return noise((1000, 20)), cyclic(1000, 200)
    if name == "k1000-n5000-d2-separable":
        s = cyclic(5000, 1000)
        return np.column_stack([s / 1000 + 1e-5 * noise(5000), noise(5000)]), s
    if name == "k3-n5000-separable-demo":
        from infomec.demo import make_example

        example = make_example(5000)
        return example["disentangled"], example["sources"][:, 0]
    if name == "k20-n100k-d20-separable":
        s = rng.integers(0, 20, 100_000)
        z = noise((100_000, 20))
        z[:, 0] = s + 0.01 * noise(100_000)
        return z, s
    if name == "k1000-n100k-d10-separable":
        s = cyclic(100_000, 1000)
        z = noise((100_000, 10))
        z[:, 0] = s / 1000 + 1e-5 * noise(100_000)
        return z, s
    if name == "k1000-n100k-d20-noise":
        return noise((100_000, 20)), cyclic(100_000, 1000)
    if name == "k1000-n100k-d20-informative":
        s = cyclic(100_000, 1000)
        z = noise((100_000, 20))
        z[:, :3] += np.column_stack([s % 10, (s // 10) % 10, s // 100])
        return z, s
    if name == "k100-n100k-d50":
        s = rng.integers(0, 100, 100_000)
        z = noise((100_000, 50))
        z[:, 0] += s / 10
        return z, s
    if name == "k1000-n100k-onehot-10x100":
        s = cyclic(100_000, 1000)
        z = rng.integers(0, 100, (100_000, 10))
        z[:, 0] = s % 100
        return z, s
    if name == "k1000-n100k-onehot-2x5000":
        return rng.integers(0, 5000, (100_000, 2)), cyclic(100_000, 1000)
    if name == "k2-n100k-onehot-2x50000":
        return rng.integers(0, 50_000, (100_000, 2)), rng.integers(0, 2, 100_000)
    raise ValueError(f"unknown worst case {name!r}")


WORST_CASES = (
    "one-row-per-value-100",
    "one-row-per-value-500",
    "one-row-per-value-2000",
    "k1000-n5000-d2-noise",
    "k1000-n5000-d2-separable",
    "k200-n1000-d20-noise",
    "k3-n5000-separable-demo",
    "k20-n100k-d20-separable",
    "k100-n100k-d50",
    "k1000-n100k-d10-separable",
    "k1000-n100k-d20-noise",
    "k1000-n100k-d20-informative",
    "k1000-n100k-onehot-10x100",
    "k1000-n100k-onehot-2x5000",
    "k2-n100k-onehot-2x50000",
)


def worst_case_one(name: str) -> dict:
    """Time one worst case in this process: the probe alone, then ``infomec.score``."""
    from infomec.metrics.infomec import _standardized_with_intercept
    from infomec.probes.linear_probes import classes_absent_from_cells, fit_multinomial_logistic
    from infomec.probes.one_hot_design import OneHotDesign

    latents, source = _worst_case(name)
    labels = np.unique(source, return_inverse=True)[1].astype(np.int64)
    n_classes = int(labels.max()) + 1
    discrete = latents.dtype.kind in "iu"
    row = {"case": name, "N": latents.shape[0], "K": n_classes, "d": latents.shape[1]}
    with warnings.catch_warnings():  # load the compiled kernels first
        warnings.simplefilter("ignore")
        warm = min(200, latents.shape[0])
        infomec.score(latents=latents[:warm], sources=np.arange(warm) % 2)
    started, cpu = time.perf_counter(), time.process_time()
    if discrete:
        codes = [np.unique(c, return_inverse=True)[1] for c in latents.T]
        design = OneHotDesign.from_codes(codes)
        ruled_out = classes_absent_from_cells(codes, labels, n_classes)
    else:
        design, ruled_out = _standardized_with_intercept(latents), None
    row["design"] = f"{'one-hot' if discrete else 'dense'} {design.shape[1]} columns"
    # One BLAS thread, as InfoE runs its probes.
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore")
        fit = fit_multinomial_logistic(design, labels, n_classes, ruled_out=ruled_out)
    row["probe_s"] = time.perf_counter() - started
    row["probe_cpu_s"] = time.process_time() - cpu
    row["probe_infoe"] = 1 - fit.log_loss / np.log(n_classes)
    row["probe_converged"] = fit.converged
    row["probe_iterations"] = fit.n_iter
    started, cpu = time.perf_counter(), time.process_time()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = infomec.score(latents=latents, sources=source[:, None])
        row["score_s"] = time.perf_counter() - started
        row["score_cpu_s"] = time.process_time() - cpu
        probe_warnings = sum("InfoE probe" in str(w.message) for w in caught)
        row["score"] = (
            f"InfoE {result.infoe:.6f}, converged "
            f"{bool(result['infomec']['converged'].all())}, "
            f"{probe_warnings} probe warning{'s' * (probe_warnings != 1)}"
        )
    except ValueError as error:
        row["score_s"] = row["score_cpu_s"] = float("nan")
        row["score"] = f"refused: {str(error)[:70]}"
    return row


def worst_case_table(limit: float) -> list[str]:
    rows = []
    for name in WORST_CASES:
        command = [sys.executable, __file__, "--worst-case-one", name]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=limit, check=True
            )
            row = json.loads(done.stdout.strip().splitlines()[-1])
        except subprocess.TimeoutExpired:
            row = {"case": name, "score": f"over the {limit:.0f} s limit"}
        print(row, flush=True)
        rows.append(row)
    lines = [
        "| case | N | K | latents | design | probe wall (s) | probe CPU (s) | probe InfoE "
        "| converged | iterations | score wall (s) | score CPU (s) | score |",
        "|" + "---|" * 13,
    ]
    for r in rows:
        if "probe_s" not in r:
            lines.append(f"| {r['case']} | | | | | | | | | | | | {r['score']} |")
            continue
        lines.append(
            f"| {r['case']} | {r['N']:,} | {r['K']} | {r['d']} | {r['design']} "
            f"| {r['probe_s']:.2f} | {r['probe_cpu_s']:.2f} | {r['probe_infoe']:.6f} "
            f"| {r['probe_converged']} | {r['probe_iterations']} | {r['score_s']:.2f} "
            f"| {r['score_cpu_s']:.2f} | {r['score']} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 200_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--converged-limit",
        type=int,
        default=50_000,
        help="largest N for the converged scikit-learn InfoE fit",
    )
    parser.add_argument("--no-large", action="store_true", help="skip the 1M x 32 run")
    parser.add_argument(
        "--kinds",
        nargs="+",
        choices=("continuous", "discrete"),
        default=["continuous", "discrete"],
        help="latent kinds to compare (the discrete reference is slow: ~7 min at 50k)",
    )
    parser.add_argument(
        "--output", help="default: results/bench_infomec_<kind>.md (or bench_infomec.md)"
    )
    parser.add_argument(
        "--worst-case", action="store_true", help="the InfoE probe's hardest inputs instead"
    )
    parser.add_argument("--worst-case-one", help=argparse.SUPPRESS)
    parser.add_argument(
        "--limit", type=float, default=300.0, help="seconds per worst case (default 300)"
    )
    args = parser.parse_args()
    if args.worst_case_one:
        print(json.dumps(worst_case_one(args.worst_case_one)))
        return
    if args.worst_case:
        started = time.strftime("%Y-%m-%d %H:%M")
        load = os.getloadavg()
        table = worst_case_table(args.limit)
        lines = [
            "# InfoE probe: worst-case inputs",
            "",
            f"Command: `{command_line()}`  ",
            f"Machine: {machine()}  ",
            f"Date: {started}; load average at the start {load[0]:.1f} (1 min), "
            f"{load[1]:.1f} (5 min), at the end {os.getloadavg()[0]:.1f} (other jobs "
            "shared the 2 cores, so wall seconds run well above CPU seconds); one "
            "process per case.",
            "",
            "probe: the InfoE probe alone on the design InfoE builds (dense standardised "
            "latents or one-hot codes), default infoe_tol 1e-6 and work bound, one "
            "thread. score: `infomec.score(latents=, sources=)` (NMI, InfoM/E/C, every "
            "core), or why it refused the input.",
            "",
            *table,
        ]
        output = args.output or str(RESULTS / "bench_infomec_worstcase.md")
        Path(output).write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
        return
    if args.output is None:
        suffix = f"_{args.kinds[0]}" if len(set(args.kinds)) == 1 else ""
        args.output = str(RESULTS / f"bench_infomec{suffix}.md")

    rows = [
        compare(n, discrete, args.repeats, args.converged_limit)
        for n in args.sizes
        for discrete in [kind == "discrete" for kind in args.kinds]
    ]

    with tempfile.TemporaryDirectory() as folder:
        latents, sources = make_data(10_000, 12)
        np.save(f"{folder}/z.npy", latents)
        np.save(f"{folder}/s.npy", sources)
        child_run(["score", f"{folder}/z.npy", f"{folder}/s.npy"])  # fills the numba cache
        second_wall, _ = child_run(["score", f"{folder}/z.npy", f"{folder}/s.npy"])
        large = None
        if not args.no_large:
            latents, sources = make_data(1_000_000, 32)
            sources = np.column_stack([sources, sources[:, :2] % 2])  # K = 8
            np.save(f"{folder}/zl.npy", latents.astype(np.float64))
            np.save(f"{folder}/sl.npy", sources)
            del latents, sources
            large = child_run(["score", f"{folder}/zl.npy", f"{folder}/sl.npy"])

    lines = [
        "# InfoMEC: infomec.score vs the scikit-learn reference procedure",
        "",
        f"Command: `{command_line()}`  ",
        f"Machine: {machine()}  ",
        f"Date: {time.strftime('%Y-%m-%d %H:%M')}; d = 12 latents, K = 6 sources "
        f"(cardinalities {CARDINALITIES}); ours: median of {args.repeats}, reference: 1 run.",
        "",
        "| N | latents | NMI ours (s) | NMI sklearn (s) | NMI speed-up | score ours (s) "
        "| reference (s) | score speed-up | max abs dNMI | dInfoM | dInfoC | dInfoE vs ref "
        "(max_iter 100) | dInfoE vs converged | converged |",
        "|" + "---|" * 14,
    ]
    for r in rows:
        lines.append(
            f"| {r['N']:,} | {r['latents']} | {r['nmi_ours_s']:.3f} | {r['nmi_ref_s']:.2f} "
            f"| {r['nmi_ratio']:.0f}x | {r['score_ours_s']:.3f} | {r['score_ref_s']:.2f} "
            f"| {r['score_ratio']:.0f}x | {r['max_dnmi']:.1e} | {r['dinfom']:.1e} "
            f"| {r['dinfoc']:.1e} | {r['dinfoe_ref100']:.1e} | {r['dinfoe_converged']:.1e} "
            f"| {r['converged']} |"
        )
    lines += [
        "",
        "Second `infomec score` process on 10,000 x 12 (numba cache warm): "
        f"{second_wall:.2f} s wall.",
    ]
    if large is not None:
        lines.append(
            f"`infomec score` on N = 1,000,000, d = 32, K = 8 (continuous): "
            f"{large[0]:.1f} s wall, peak RSS {large[1]:.0f} MiB."
        )
    Path(args.output).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
