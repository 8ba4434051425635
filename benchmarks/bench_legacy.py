"""Legacy (disentanglement_lib) families: infomec against straightforward baselines.

Each baseline below is the family's definition written plainly with scikit-learn and
numpy, the way disentanglement_lib computes it: ``np.histogram`` + ``np.digitize`` and
one ``mutual_info_score`` per pair; ``GradientBoostingClassifier()`` per source;
``LinearSVC(C=0.01, class_weight="balanced")`` per (latent, source); default
``LogisticRegression()`` + ``roc_auc_score``; Python loops drawing the BetaVAE pairs and
FactorVAE batches from the rows that share a value; ``np.quantile`` per group for IRS;
``np.cov`` / ``slogdet`` / ``scipy.linalg.sqrtm`` for the unsupervised scores; for the
review's families (dcimig, jemmig, z_max_var) its procedure (min-max scaling, 10 bins
from ``np.digitize``, information in bits, Python loops over combinations of the other
sources' values), and for dci_es one ``RandomForestClassifier`` per (source, depth) with
``np.trapezoid`` (``benchmarks/results/bench_breadth.md`` holds a run of these four).

Data: 10 000 training + 5 000 test rows, d = 10 latents, K = 5 sources with 3dshapes-like
cardinalities (10, 10, 8, 4, 15). Families that use no held-out rows (mig, mig_sup, irs,
unsupervised) get the 10 000 training rows. Both sides run in this process, interleaved,
on the same data; the table reports medians of ``--repeats`` runs (DCI-GBT: medians of
``--gbt-pairs`` serial runs each followed at once by a parallel one, the baseline once;
a call under 0.25 s is timed as a loop of calls lasting about 0.25 s, per call),
the speed-up and the largest absolute difference between the two sides' outputs
(scalars, plus the DCI importance and SAP matrices). BetaVAE and FactorVAE draw their
random pairs / batches differently on each side, so their differences are Monte-Carlo
noise, not disagreement. After DCI-GBT, the same number of bare depth-3 regression trees
(scikit-learn's) fitted serially and then by one thread per core shows what threads alone
can gain on this machine (``tree_scaling``).

Run:  python benchmarks/bench_legacy.py --gbt-pairs 2   (writes benchmarks/results/bench_legacy.md)
      python benchmarks/bench_legacy.py --repeats 1 --skip-gbt   (quick)
      python benchmarks/bench_legacy.py --families modularity irs --output /tmp/part.md
          (a subset; the metrics="all" timing then only runs with --with-all)
      python benchmarks/bench_legacy.py --families dci --gbt-pairs 3 --output /tmp/dci.md
          (DCI-GBT's parallel speed-up alone, over three pairs of runs)
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import scipy.linalg
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import mutual_info_score, roc_auc_score
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeRegressor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, command_line, machine  # noqa: E402

import infomec  # noqa: E402

CARDINALITIES = (10, 10, 8, 4, 15)
N_TRAIN, N_TEST, N_LATENTS = 10_000, 5_000, 10


def make_data(seed: int = 0):
    """Factorial sources; latents: 5 noisy monotone codes and 5 mixtures."""
    rng = np.random.default_rng(seed)
    n = N_TRAIN + N_TEST
    sources = np.column_stack([rng.integers(0, c, n) for c in CARDINALITIES])
    scaled = sources / (np.array(CARDINALITIES) - 1.0)
    latents = 0.3 * rng.standard_normal((n, N_LATENTS))
    latents[:, :5] += np.tanh(2 * scaled - 1)
    latents[:, 5:] += scaled @ (0.5 * rng.standard_normal((5, 5)))
    return latents[:N_TRAIN], sources[:N_TRAIN], latents[N_TRAIN:], sources[N_TRAIN:]


def make_hard_data(seed: int = 1, signal: float = 2.0):
    """Unit noise on every latent, the sources added weakly to five of them.

    BetaVAE / FactorVAE accuracies are ~0.7 here (1.0 on :func:`make_data`), so the
    agreement of the two sides is informative.
    """
    rng = np.random.default_rng(seed)
    n = N_TRAIN + N_TEST
    sources = np.column_stack([rng.integers(0, c, n) for c in CARDINALITIES])
    latents = rng.standard_normal((n, N_LATENTS))
    latents[:, :5] += signal * sources / (np.array(CARDINALITIES) - 1.0)
    return latents[:N_TRAIN], sources[:N_TRAIN], latents[N_TRAIN:], sources[N_TRAIN:]


# ------------------------------------------------------------- the baselines


def histogram_bins(values: np.ndarray, n_bins: int = 20) -> np.ndarray:
    return np.column_stack([np.digitize(v, np.histogram(v, n_bins)[1][:-1]) for v in values.T])


def mi_matrix(codes: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """``m[j, k] = mutual_info_score(s_k, z_j)`` (latents as rows)."""
    return np.array([[mutual_info_score(s, z) for s in sources.T] for z in codes.T])


def entropies(sources: np.ndarray) -> np.ndarray:
    return np.array([mutual_info_score(s, s) for s in sources.T])


def baseline_mig(z, s):
    m = mi_matrix(histogram_bins(z), s)
    ordered = np.sort(m, axis=0)[::-1]
    gaps = (ordered[0] - ordered[1]) / entropies(s)
    return {"score": np.mean(gaps), "gaps": gaps}


def baseline_mig_sup(z, s):
    normalized = mi_matrix(histogram_bins(z), s) / entropies(s)
    ordered = np.sort(normalized, axis=1)
    return {"score": np.mean(ordered[:, -1] - ordered[:, -2])}


def _entropy_score(matrix: np.ndarray) -> np.ndarray:
    from scipy.stats import entropy

    return 1.0 - entropy(matrix.T + 1e-11, base=matrix.shape[1])


def baseline_dci(z, s, tz, ts):
    importance = np.zeros((z.shape[1], s.shape[1]))
    train_acc, test_acc = [], []
    for k in range(s.shape[1]):
        model = GradientBoostingClassifier(random_state=0).fit(z, s[:, k])
        importance[:, k] = np.abs(model.feature_importances_)
        train_acc.append(np.mean(model.predict(z) == s[:, k]))
        test_acc.append(np.mean(model.predict(tz) == ts[:, k]))
    d = np.sum(_entropy_score(importance) * importance.sum(1) / importance.sum())
    c = np.sum(_entropy_score(importance.T) * importance.sum(0) / importance.sum())
    return {
        "disentanglement": d,
        "completeness": c,
        "informativeness_train": np.mean(train_acc),
        "informativeness_test": np.mean(test_acc),
        "importance": importance,
    }


def baseline_sap(z, s, tz, ts):
    matrix = np.zeros((z.shape[1], s.shape[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j in range(z.shape[1]):
            for k in range(s.shape[1]):
                model = LinearSVC(C=0.01, class_weight="balanced").fit(z[:, [j]], s[:, k])
                matrix[j, k] = np.mean(model.predict(tz[:, [j]]) == ts[:, k])
    ordered = np.sort(matrix, axis=0)
    return {"score": np.mean(ordered[-1] - ordered[-2]), "matrix": matrix}


def baseline_modularity(z, s, tz, ts):
    squared = mi_matrix(histogram_bins(z), s) ** 2
    theta = squared.max(axis=1)
    per_code = 1.0 - (squared.sum(1) - theta) / (theta * (squared.shape[1] - 1))
    per_code[theta == 0] = 0.0
    mean, std = z.mean(axis=0), z.std(axis=0)
    train_auc, test_auc = [], []
    for k in range(s.shape[1]):
        model = LogisticRegression().fit((z - mean) / std, s[:, k])
        for x, y, out in (
            ((z - mean) / std, s[:, k], train_auc),
            ((tz - mean) / std, ts[:, k], test_auc),
        ):
            binarized = MultiLabelBinarizer().fit_transform(y[:, None])
            out.append(roc_auc_score(binarized, model.predict_proba(x)))
    return {
        "modularity": np.mean(per_code),
        "explicitness_train": np.mean(train_auc),
        "explicitness_test": np.mean(test_auc),
    }


def _groups(s):
    """For each source: value -> rows, and the rows whose value occurs twice."""
    groups, usable = [], []
    for column in s.T:
        by_value = {v: np.flatnonzero(column == v) for v in np.unique(column)}
        groups.append(by_value)
        usable.append(np.concatenate([r for r in by_value.values() if r.size > 1]))
    return groups, usable


def _beta_vae_points(z, s, n_points, rng, batch=64):
    groups, usable = _groups(s)
    points, labels = np.zeros((n_points, z.shape[1])), np.zeros(n_points, dtype=int)
    for p in range(n_points):
        k = rng.integers(s.shape[1])
        first = rng.choice(usable[k], batch)
        second = np.empty(batch, dtype=int)
        for b, row in enumerate(first):
            others = groups[k][s[row, k]]
            others = others[others != row]
            second[b] = others[rng.integers(others.size)]
        points[p] = np.mean(np.abs(z[first] - z[second]), axis=0)
        labels[p] = k
    return points, labels


def baseline_beta_vae(z, s, tz, ts):
    rng = np.random.default_rng(0)
    x, y = _beta_vae_points(z, s, 10_000, rng)
    ex, ey = _beta_vae_points(tz, ts, 5_000, rng)
    model = LogisticRegression().fit(x, y)
    return {
        "train_accuracy": np.mean(model.predict(x) == y),
        "eval_accuracy": np.mean(model.predict(ex) == ey),
    }


def _factor_vae_votes(z, s, n_votes, rng, variances, active, batch=64):
    groups, usable = _groups(s)
    votes = np.zeros((s.shape[1], z.shape[1]), dtype=int)
    for _ in range(n_votes):
        k = rng.integers(s.shape[1])
        rows = groups[k][s[rng.choice(usable[k]), k]]
        if rows.size > batch:
            rows = rng.choice(rows, batch, replace=False)
        ratio = np.var(z[rows], axis=0, ddof=1)[active] / variances[active]
        votes[k, np.flatnonzero(active)[np.argmin(ratio)]] += 1
    return votes


def baseline_factor_vae(z, s, tz, ts):
    rng = np.random.default_rng(0)
    variances = np.var(z, axis=0, ddof=1)
    active = np.sqrt(variances) >= 0.05
    train = _factor_vae_votes(z, s, 10_000, rng, variances, active)
    test = _factor_vae_votes(tz, ts, 5_000, rng, variances, active)
    classifier = np.argmax(train, axis=0)
    columns = np.arange(train.shape[1])
    return {
        "train_accuracy": train[classifier, columns].sum() / train.sum(),
        "eval_accuracy": test[classifier, columns].sum() / test.sum(),
        "num_active_dims": int(active.sum()),
    }


def baseline_irs(z, s):
    binned = histogram_bins(s.astype(float))
    max_dev = np.max(np.abs(z - z.mean(axis=0)), axis=0)
    cum = np.zeros((z.shape[1], s.shape[1]))
    for i in range(s.shape[1]):
        values = np.unique(binned[:, i])
        for value in values:
            group = z[binned[:, i] == value]
            cum[:, i] += np.quantile(np.abs(group - group.mean(axis=0)), 0.99, axis=0)
        cum[:, i] /= values.size
    scores = (1.0 - cum / max_dev[:, None]).max(axis=1)
    return {
        "score": np.average(scores, weights=max_dev),
        "per_latent": scores,
        "num_active_dims": z.shape[1],
    }


def baseline_unsupervised(z, s):
    cov = np.cov(z.T)
    tc = 0.5 * (np.sum(np.log(np.diag(cov))) - np.linalg.slogdet(cov)[1])
    w = 2 * np.trace(cov) - 2 * np.trace(scipy.linalg.sqrtm(cov * np.diag(cov)[:, None])).real
    codes = histogram_bins(z)
    pairwise = mi_matrix(codes, codes)
    np.fill_diagonal(pairwise, 0)
    d = z.shape[1]
    return {
        "gaussian_total_correlation": tc,
        "gaussian_wasserstein_correlation": w,
        "gaussian_wasserstein_correlation_norm": w / np.trace(cov),
        "mutual_info_score": pairwise.sum() / (d * d - d),
    }


# --------------------------------------- the review's families, DCI-ES explicitness

LN2 = np.log(2.0)


def review_bins(values: np.ndarray, n_bins: int = 10) -> np.ndarray:
    """The review's discretiser: min-max scaling, then digitise on linspace(0, 1) edges."""
    scaled = (values - values.min(axis=0)) / np.where(
        np.ptp(values, axis=0) > 0, np.ptp(values, axis=0), 1
    )
    return np.digitize(scaled, np.linspace(0, 1, n_bins + 1)[:-1])


def bits_entropy(*columns: np.ndarray) -> float:
    _, counts = np.unique(np.column_stack(columns), axis=0, return_counts=True)
    p = counts / counts.sum()
    return float(-np.sum(p * np.log2(p)))


def baseline_dcimig(z, s):
    mi = mi_matrix(review_bins(z), s).T / LN2  # (K, d), bits
    gaps = np.zeros(s.shape[1])
    for j in range(z.shape[1]):
        ordered = np.sort(mi[:, j])
        k = np.argmax(mi[:, j])
        gaps[k] = max(gaps[k], ordered[-1] - ordered[-2])
    return {"score": gaps.sum() / sum(bits_entropy(c) for c in s.T), "gaps": gaps}


def baseline_jemmig(z, s):
    codes = review_bins(z)
    mi = mi_matrix(codes, s).T / LN2
    terms = []
    for k in range(s.shape[1]):
        best = np.argsort(mi[k], kind="stable")[-1]
        ordered = np.sort(mi[k])
        joint = bits_entropy(s[:, k], codes[:, best])
        terms.append(
            1 - (joint - ordered[-1] + ordered[-2]) / (bits_entropy(s[:, k]) + np.log2(10))
        )
    return {"score": float(np.mean(terms)), "per_source": np.array(terms)}


def baseline_z_max_var(z, s, batch=200, n_train=800, n_eval=800):
    """The review's procedure (sources have at most 15 values: its 10 bins of ranks kept)."""
    rng = np.random.default_rng(0)
    s = np.column_stack([review_bins(c[:, None].astype(float))[:, 0] for c in s.T])
    variances = np.var(z[rng.permutation(len(z))[:10_000]], axis=0, ddof=1)
    active = np.flatnonzero(np.sqrt(variances) >= 0.02)
    factors = {
        "train": rng.integers(0, s.shape[1], n_train),
        "eval": rng.integers(0, s.shape[1], n_eval),
    }
    votes = {part: np.zeros((s.shape[1], z.shape[1]), dtype=int) for part in factors}
    for k in range(s.shape[1]):
        others = np.delete(s, k, axis=1)
        keys, counts = np.unique(others, axis=0, return_counts=True)
        usable = keys[counts >= 2]
        n_tr = int(np.sum(factors["train"] == k))
        chosen = rng.integers(0, len(usable), n_tr + int(np.sum(factors["eval"] == k)))
        for group in np.unique(chosen):
            positions = np.flatnonzero(chosen == group)
            rows = np.flatnonzero(np.all(others == usable[group], axis=1))
            loops = -(-batch * positions.size // rows.size)
            sequence = np.concatenate([rng.permutation(rows) for _ in range(loops)])
            for slot, position in enumerate(positions):
                batch_rows = sequence[slot * batch : (slot + 1) * batch]
                ratio = np.var(z[batch_rows][:, active], axis=0, ddof=1) / variances[active]
                votes["train" if position < n_tr else "eval"][k, active[np.argmax(ratio)]] += 1
    classifier = np.argmax(votes["train"], axis=0)
    columns = np.arange(z.shape[1])
    accuracy = {part: v[classifier, columns].sum() / v.sum() for part, v in votes.items()}
    chance = 1 / s.shape[1]
    return {
        "score": (accuracy["eval"] - chance) / (1 - chance),
        "train_accuracy": accuracy["train"],
        "eval_accuracy": accuracy["eval"],
        "num_active_dims": active.size,
    }


def baseline_dci_es(z, s, tz, ts):
    from sklearn.ensemble import RandomForestClassifier

    depths = np.array([1, 2, 3, 4, 8, 10, 12, 14, 16, 18, 20, 32], dtype=float)
    losses = np.array(
        [
            [
                1
                - RandomForestClassifier(100, max_depth=int(d), random_state=0)
                .fit(z, s[:, k])
                .score(tz, ts[:, k])
                for d in depths
            ]
            for k in range(s.shape[1])
        ]
    )
    per_source = []
    for k, curve in enumerate(np.minimum.accumulate(losses, axis=1)):
        excess = curve - curve.min()
        area = np.trapezoid(excess, depths)
        baseline_loss = 1 - 1 / len(np.unique(np.concatenate([s[:, k], ts[:, k]])))
        per_source.append(1 - 2 * area / ((depths[-1] - depths[0]) * baseline_loss))
    return {
        "explicitness": float(np.mean(per_source)),
        "per_source": np.array(per_source),
        "test_losses": losses,
    }


def baseline_sap_continuous(z, s):
    """disentanglement_lib's continuous_factors=True matrix: np.cov per pair."""
    matrix = np.zeros((z.shape[1], s.shape[1]))
    for j in range(z.shape[1]):
        for k in range(s.shape[1]):
            cov = np.cov(z[:, j], s[:, k], ddof=1)
            if cov[0, 0] > 1e-12 and cov[1, 1] > 0:
                matrix[j, k] = cov[0, 1] ** 2 / (cov[0, 0] * cov[1, 1])
    ordered = np.sort(matrix, axis=0)
    return {"score": np.mean(ordered[-1] - ordered[-2]), "matrix": matrix}


BASELINES = {
    "mig": (baseline_mig, False),
    "mig_sup": (baseline_mig_sup, False),
    "dci": (baseline_dci, True),
    "sap": (baseline_sap, True),
    "modularity": (baseline_modularity, True),
    "beta_vae": (baseline_beta_vae, True),
    "factor_vae": (baseline_factor_vae, True),
    "irs": (baseline_irs, False),
    "unsupervised": (baseline_unsupervised, False),
    "dcimig": (baseline_dcimig, False),
    "jemmig": (baseline_jemmig, False),
    "z_max_var": (baseline_z_max_var, False),
    "dci_es": (baseline_dci_es, True),
    "sap_continuous": (baseline_sap_continuous, False),
}


# ------------------------------------------------------------------ harness


def ours(name, data, **options):
    z, s, tz, ts = data
    held_out = {"test_latents": tz, "test_sources": ts} if BASELINES[name][1] else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", infomec.InfoMECWarning)
        return infomec.score(latents=z, sources=s, metrics=[name], **held_out, **options)[name]


def baseline(name, data):
    z, s, tz, ts = data
    function, held_out = BASELINES[name]
    return function(z, s, tz, ts) if held_out else function(z, s)


def max_difference(a: dict, b: dict) -> float:
    keys = [k for k in a if k in b and np.shape(a[k]) == np.shape(b[k])]
    return max(
        float(np.max(np.abs(np.asarray(a[k], float) - np.asarray(b[k], float)))) for k in keys
    )


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return time.perf_counter() - started, value


# A call shorter than this is timed as a loop of calls lasting about this long (as
# ``timeit`` does): one millisecond-scale call is mostly scheduler noise.
MIN_TIMED_SECONDS = 0.25


def timed_per_call(function, *args, **kwargs):
    """Seconds per call (a loop for fast functions) and the value of the first call."""
    seconds, value = timed(function, *args, **kwargs)
    if seconds >= MIN_TIMED_SECONDS:
        return seconds, value
    calls = int(np.ceil(MIN_TIMED_SECONDS / max(seconds, 1e-6)))
    started = time.perf_counter()
    for _ in range(calls):
        function(*args, **kwargs)
    return (time.perf_counter() - started) / calls, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--families",
        nargs="+",
        choices=list(BASELINES),
        default=list(BASELINES),
        metavar="FAMILY",
        help=f"families to time (default: all of {', '.join(BASELINES)})",
    )
    parser.add_argument("--skip-gbt", action="store_true", help="leave out DCI-GBT (slow)")
    parser.add_argument(
        "--gbt-pairs",
        type=int,
        default=1,
        help="DCI-GBT: serial-then-parallel pairs of runs (about 2 minutes each)",
    )
    parser.add_argument(
        "--with-all",
        action="store_true",
        help='time metrics="all" even when --families picks a subset',
    )
    parser.add_argument("--output", default=str(RESULTS / "bench_legacy.md"))
    args = parser.parse_args()
    names = [name for name in BASELINES if name in args.families]
    names = [name for name in names if not (name == "dci" and args.skip_gbt)]
    data = make_data()
    # Compile (or load) every kernel outside the timings.
    small = tuple(array[:500] for array in data)
    for name in names:
        ours(name, small, dci_model="lasso")
        baseline(name, small)

    # Two passes, each interleaving infomec with the baseline: one thread first, then
    # every core. On a shared machine the worker threads of a parallel region slow down
    # whatever runs right after them, so the single-threaded timings come first.
    passes = {}
    for label, n_jobs in (("serial", 1), ("parallel", None)):
        for name in names:
            if name == "dci":
                continue  # timed on its own below
            ours_times, base_times = [], []
            for _ in range(args.repeats):
                seconds, ours_result = timed_per_call(ours, name, data, n_jobs=n_jobs)
                ours_times.append(seconds)
                seconds, base_result = timed_per_call(baseline, name, data)
                base_times.append(seconds)
            passes[(label, name)] = (ours_times, base_times, ours_result, base_result)
            print(
                f"{label:8s} {name:13s} ours {np.median(ours_times):8.3f} s  "
                f"baseline {np.median(base_times):8.3f} s",
                flush=True,
            )
    gbt = None
    if "dci" in names:
        # DCI-GBT runs minutes per call: each serial run is followed at once by a
        # parallel one, so that both see the shared machine in about the same state.
        gbt = ([], [])
        for _ in range(args.gbt_pairs):
            for times, n_jobs in zip(gbt, (1, None), strict=True):
                seconds, ours_result = timed(ours, "dci", data, n_jobs=n_jobs)
                times.append(seconds)
                print(f"dci-gbt n_jobs={n_jobs}: {seconds:.1f} s", flush=True)
        seconds, base_result = timed(baseline, "dci", data)  # scikit-learn, one source a time
        for label, times in zip(("serial", "parallel"), gbt, strict=True):
            passes[(label, "dci")] = (times, [seconds], ours_result, base_result)
        ceiling = tree_scaling(data[0])
        print(f"bare trees serial / threaded: {ceiling[0]:.1f} / {ceiling[1]:.1f} s", flush=True)
        gbt = (*gbt, ceiling)
    rows = []
    for name in names:
        serial_ours, serial_base, _, _ = passes[("serial", name)]
        parallel_ours, parallel_base, ours_result, base_result = passes[("parallel", name)]
        rows.append(
            (
                name,
                float(np.median(parallel_ours)),
                float(np.median(parallel_base)),
                float(np.median(serial_ours)),
                float(np.median(serial_base)),
                max_difference(ours_result, base_result),
            )
        )

    hard = make_hard_data()
    agreement = []
    for name in ("beta_vae", "factor_vae", "z_max_var"):
        if name not in names:
            continue
        ours_result, base_result = ours(name, hard), baseline(name, hard)
        agreement.append((name, ours_result["eval_accuracy"], base_result["eval_accuracy"]))
        print(f"{name} on the hard code: {agreement[-1][1:]}", flush=True)

    all_seconds = None
    if args.with_all or len(args.families) == len(BASELINES):
        z, s, tz, ts = data
        every = {"latents": z, "sources": s, "test_latents": tz, "test_sources": ts}
        all_seconds = [
            timed(infomec.score, metrics="all", dci_model="hist_gbt", n_jobs=n_jobs, **every)[0]
            for n_jobs in (None, 1)
        ]
        print(f"metrics='all', dci_model='hist_gbt': {all_seconds} s", flush=True)
    write_report(Path(args.output), rows, all_seconds, gbt, agreement, args)


CEILING_TREES = 400


def tree_scaling(latents: np.ndarray) -> tuple[float, float]:
    """Seconds for :data:`CEILING_TREES` depth-3 regression trees: serially, then threaded.

    The trees of a GBT stage without any of the boosting around them: what DCI-GBT's
    threads could reach at best on this machine (the tree builder releases the GIL).
    """
    x = np.asarray(latents, dtype=np.float32)
    target = np.random.default_rng(0).standard_normal(x.shape[0])

    def fit(seed: int) -> None:
        DecisionTreeRegressor(max_depth=3, random_state=seed).fit(x, target)

    seeds = range(CEILING_TREES)
    serial, _ = timed(lambda: [fit(seed) for seed in seeds])
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        parallel, _ = timed(lambda: list(pool.map(fit, seeds)))
    return serial, parallel


def write_report(path: Path, rows, all_seconds, gbt, agreement, args) -> None:
    load = os.getloadavg()
    nice = os.nice(0)  # an increment of 0 reads the current niceness
    niceness = f"nice -n {nice} " if nice > 0 else ""
    lines = [
        "# Legacy metric families: infomec vs straightforward scikit-learn/numpy",
        "",
        f"Command: `{niceness}{command_line()}`  ",
        f"Machine: {machine()}  ",
        f"Date: {datetime.date.today()}; load average at the end {load[0]:.1f} / "
        f"{load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min; the cores may be shared with other "
        "jobs, which inflates absolute times; ratios are measured side by side)",
        "",
        f"Data: {N_TRAIN} training + {N_TEST} test rows, d = {N_LATENTS}, K = 5 sources with "
        f"cardinalities {CARDINALITIES}. Medians of {args.repeats} runs interleaved with the "
        f"baseline (DCI-GBT: {args.gbt_pairs} serial-then-parallel pair(s), its baseline "
        "once); a run of a call under "
        f"{MIN_TIMED_SECONDS} s times a loop of calls lasting about that long, per call, on "
        "both sides. infomec runs once with "
        "n_jobs=1 and once with n_jobs=None (every core); the baselines are plain "
        "scikit-learn calls with their own default threading, timed beside each.",
        "",
        "| family | one thread: infomec / baseline (s) | speed-up | every core: infomec / "
        "baseline (s) | speed-up | max abs difference |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, ours_s, base_s, serial_s, serial_base_s, difference in rows:
        label = "dci (GBT)" if name == "dci" else name
        lines.append(
            f"| {label} | {serial_s:.3f} / {serial_base_s:.3f} | {serial_base_s / serial_s:.1f}x | "
            f"{ours_s:.3f} / {base_s:.3f} | {base_s / ours_s:.1f}x | {difference:.1e} |"
        )
    lines.append("")
    if all_seconds is not None:
        lines.append(
            '`infomec.score(..., metrics="all", dci_model="hist_gbt")` (every family, InfoMEC '
            f"included) on the same data: **{all_seconds[0]:.1f} s** on every core, "
            f"{all_seconds[1]:.1f} s on one thread (target: 60 s on 2 cores)."
        )
    if gbt is not None:
        pairs = ", ".join(
            f"{serial:.1f} / {parallel:.1f} s ({serial / parallel:.2f}x)"
            for serial, parallel in zip(*gbt[:2], strict=True)
        )
        ratios = [serial / parallel for serial, parallel in zip(*gbt[:2], strict=True)]
        serial, parallel = gbt[2]
        baseline_seconds = next(row[2] for row in rows if row[0] == "dci")
        lines += [
            "DCI-GBT (disentanglement_lib's model), infomec's serial / parallel runs back to "
            f"back (n_jobs=1, then every core): {pairs}; median ratio "
            f"{np.median(ratios):.2f}x. Against scikit-learn's serial fit of the same "
            f"model ({baseline_seconds:.1f} s), every core is "
            f"**{baseline_seconds / np.median(gbt[1]):.2f}x** faster (target: the core "
            f"count, {os.cpu_count()}x): the threads and the compiled trees (each feature "
            "sorted once, scikit-learn's trees bit for bit) together.",
            "",
            f"What {os.cpu_count()} threads alone give on this machine: {CEILING_TREES} bare "
            "scikit-learn regression trees of a GBT stage's size (depth 3, the training "
            "rows), fitted one after another / by a pool of "
            f"{os.cpu_count()} threads: {serial:.1f} / "
            f"{parallel:.1f} s (**{serial / parallel:.2f}x**).",
        ]
    if agreement:
        lines += [
            "",
            "BetaVAE / FactorVAE agree on the data above trivially (every accuracy is 1.0). "
            "On a harder code (`make_hard_data`: unit noise, sources added with weight 2), "
            "eval accuracies with independent random draws on the two sides:",
            "",
            "| family | infomec | baseline |",
            "|---|---:|---:|",
            *[f"| {name} | {a:.4f} | {b:.4f} |" for name, a, b in agreement],
        ]
    lines += [
        "",
        "Differences: beta_vae and factor_vae draw different random pairs / batches on the "
        "two sides (Monte-Carlo noise). sap differs where liblinear stops at its tolerance "
        "(infomec solves the same SVM exactly). modularity's explicitness differs where "
        "scikit-learn's default logistic regression stops at tol 1e-4 / 100 iterations "
        "(infomec solves the same objective to 1e-6). Everything else is the same computation.",
        "",
    ]
    path.write_text("\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
