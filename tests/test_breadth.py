"""The review families (DCIMIG, JEMMIG, Z-max-var), DCI-ES explicitness and UDR.

DCIMIG and JEMMIG are compared with straightforward re-implementations of the review's
procedure written here from its formulas (min-max scaling, ``np.digitize`` against
``linspace(0, 1, 11)[:-1]``, plug-in information in bits from scikit-learn), and with
closed forms on factorial grids; the stochastic families with their definitions'
properties (perfect code, independent noise, invariances, seeding).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score
from sklearn.preprocessing import minmax_scale

import infomec
from infomec.metrics.dcimig import dcimig, dcimig_from_mutual_information
from infomec.metrics.jemmig import jemmig, jemmig_from_information

LN2 = np.log(2.0)


# ------------------------------------------------------------ the review's procedure


def review_bins(values: np.ndarray, n_bins: int = 10) -> np.ndarray:
    """The review's discretiser: min-max scale each column, digitise on [0, 1) edges."""
    edges = np.linspace(0, 1, n_bins + 1)[:-1]
    return np.digitize(minmax_scale(values), edges, right=False)


def histogram_bins(values: np.ndarray, n_bins: int = 10) -> np.ndarray:
    """The same bins drawn with numpy's histogram edges (the maximum in the top bin)."""
    return np.column_stack(
        [np.digitize(column, np.histogram_bin_edges(column, n_bins)[:-1]) for column in values.T]
    )


def bits_mi(a: np.ndarray, b: np.ndarray) -> float:
    return mutual_info_score(a, b) / LN2


def bits_entropy(*columns: np.ndarray) -> float:
    _, counts = np.unique(np.column_stack(columns), axis=0, return_counts=True)
    p = counts / counts.sum()
    return float(-np.sum(p * np.log2(p)))


def review_dcimig(sources: np.ndarray, codes: np.ndarray) -> float:
    n_sources, n_latents = sources.shape[1], codes.shape[1]
    matrix = np.array(
        [[bits_mi(sources[:, k], codes[:, j]) for j in range(n_latents)] for k in range(n_sources)]
    )
    for j in range(n_latents):
        column = np.sort(matrix[:, j])
        winner = np.argmax(matrix[:, j])
        gap = column[-1] - column[-2]
        matrix[:, j] = 0.0
        matrix[winner, j] = gap
    gap_sum = sum(np.max(matrix[k]) for k in range(n_sources))
    return gap_sum / sum(bits_entropy(sources[:, k]) for k in range(n_sources))


def review_jemmig(sources: np.ndarray, codes: np.ndarray, n_bins: int = 10) -> float:
    n_sources, n_latents = sources.shape[1], codes.shape[1]
    terms = []
    for k in range(n_sources):
        mi = np.array([bits_mi(sources[:, k], codes[:, j]) for j in range(n_latents)])
        best = np.argsort(mi, kind="stable")[-1]
        ordered = np.sort(mi)
        numerator = bits_entropy(sources[:, k], codes[:, best]) - ordered[-1] + ordered[-2]
        terms.append(1 - numerator / (bits_entropy(sources[:, k]) + np.log2(n_bins)))
    return float(np.mean(terms))


def _mixed(rng, n=3000, sizes=(3, 5, 4, 2)):
    sources = np.column_stack([rng.integers(0, size, n) for size in sizes])
    latents = np.column_stack(
        [
            sources[:, 0] + 0.3 * rng.standard_normal(n),
            sources[:, 1] * 0.5 - sources[:, 2] + 0.5 * rng.standard_normal(n),
            np.exp(sources[:, 2] + rng.standard_normal(n)),
            rng.uniform(-1, 1, n),
            sources[:, 3] * 2.0 + 0.1 * rng.standard_normal(n),
        ]
    )
    return sources, latents


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dcimig_and_jemmig_equal_the_review_procedure(seed):
    rng = np.random.default_rng(seed)
    sources, latents = _mixed(rng)
    codes = review_bins(latents)
    np.testing.assert_array_equal(codes, histogram_bins(latents))  # same bins, no edge hit
    assert dcimig(latents=latents, sources=sources)["score"] == pytest.approx(
        review_dcimig(sources, codes), abs=1e-12
    )
    assert jemmig(latents=latents, sources=sources)["score"] == pytest.approx(
        review_jemmig(sources, codes), abs=1e-12
    )


@pytest.mark.parametrize("bins", [2, 7, 25])
def test_bins_knob_follows_the_review(bins):
    rng = np.random.default_rng(3)
    sources, latents = _mixed(rng, n=2000)
    codes = histogram_bins(latents, bins)
    assert dcimig(latents=latents, sources=sources, bins=bins)["score"] == pytest.approx(
        review_dcimig(sources, codes), abs=1e-12
    )
    assert jemmig(latents=latents, sources=sources, bins=bins)["score"] == pytest.approx(
        review_jemmig(sources, codes, bins), abs=1e-12
    )


def test_discrete_latents_are_binned_like_the_review():
    # 15 integer values: 10 bins merge some of them, as the review's code does.
    rng = np.random.default_rng(4)
    sources = rng.integers(0, 5, (2000, 2))
    latents = np.column_stack([sources[:, 0] * 3 + rng.integers(0, 3, 2000), sources[:, 1]])
    codes = histogram_bins(latents.astype(float))
    assert dcimig(latents=latents, sources=sources)["score"] == pytest.approx(
        review_dcimig(sources, codes), abs=1e-12
    )
    assert jemmig(latents=latents, sources=sources)["score"] == pytest.approx(
        review_jemmig(sources, codes), abs=1e-12
    )


def _grid(sizes=(2, 3, 4), repeats=50):
    """Every combination equally often: sources exactly independent in the sample."""
    grid = np.stack(np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij"), -1)
    return np.repeat(grid.reshape(-1, len(sizes)), repeats, axis=0)


def test_perfect_code_on_a_grid_scores_exactly_one():
    sources = _grid()
    latents = sources * 0.7 + 1.0
    assert dcimig(latents=latents, sources=sources)["score"] == pytest.approx(1.0, abs=1e-12)
    result = jemmig(latents=latents, sources=sources)
    np.testing.assert_allclose(result["per_source"], 1.0, atol=1e-12)
    np.testing.assert_allclose(
        dcimig(latents=latents, sources=sources)["gaps"], np.log2([2, 3, 4]), atol=1e-12
    )


def test_jemmig_closed_form_with_a_redundant_latent():
    # Source 0 copied twice: I1 = I2 = H(s0) = 1 bit, H(s0, z*) = 1 bit.
    sources = _grid((2, 4))
    latents = np.column_stack([sources[:, 0], sources[:, 0], sources[:, 1]]).astype(float)
    per_source = jemmig(latents=latents, sources=sources)["per_source"]
    assert per_source[0] == pytest.approx(1 - 1 / (1 + np.log2(10)), abs=1e-12)
    assert per_source[1] == pytest.approx(1.0, abs=1e-12)
    # DCIMIG: both copies of s0 have gap 1 bit for s0; s1 gets 2 bits: (1 + 2) / (1 + 2).
    assert dcimig(latents=latents, sources=sources)["score"] == pytest.approx(1.0, abs=1e-12)


def test_dcimig_aggregation_by_hand():
    # Latent 0: s0 wins by 0.5; latent 1: s0 wins by 0.1; latent 2: tie s1/s2 -> s1, gap 0.
    mi = np.array([[0.9, 0.3, 0.0], [0.4, 0.2, 0.6], [0.1, 0.1, 0.6]])
    score, gaps = dcimig_from_mutual_information(mi, np.array([1.0, 2.0, 1.0]))
    np.testing.assert_allclose(gaps, [0.5, 0.0, 0.0])
    assert score == pytest.approx(0.5 / 4.0)
    # One source: the gap is the MI itself.
    score, gaps = dcimig_from_mutual_information([[0.3, 0.5]], [1.0])
    assert score == pytest.approx(0.5) and gaps.tolist() == [0.5]


def test_jemmig_ties_take_the_last_latent():
    mi = np.array([[0.5, 0.5]])
    joint = np.array([[9.0, 1.5]])
    score, _ = jemmig_from_information(mi, [1.0], joint, bins=2)
    assert score == pytest.approx(1 - (1.5 - 0.5 + 0.5) / 2.0)


def test_review_families_invariances():
    rng = np.random.default_rng(5)
    sources, latents = _mixed(rng)
    base_d = dcimig(latents=latents, sources=sources)
    base_j = jemmig(latents=latents, sources=sources)
    permutation = np.array([3, 0, 4, 2, 1])
    transformed = latents[:, permutation] * np.array([2.0, -1.0, 0.5, -3.0, 10.0]) + 7.0
    assert dcimig(latents=transformed, sources=sources)["score"] == pytest.approx(
        base_d["score"], abs=1e-12
    )
    assert jemmig(latents=transformed, sources=sources)["score"] == pytest.approx(
        base_j["score"], abs=1e-12
    )
    # Source columns permuted: the per-source outputs follow, relabelled values change nothing.
    order = np.array([2, 0, 3, 1])
    relabelled = np.array([7, 2, 9, 4, 1])[sources[:, order]]
    np.testing.assert_allclose(
        jemmig(latents=latents, sources=relabelled)["per_source"],
        base_j["per_source"][order],
        atol=1e-12,
    )
    np.testing.assert_allclose(
        dcimig(latents=latents, sources=relabelled)["gaps"], base_d["gaps"][order], atol=1e-12
    )


def test_review_families_on_independent_noise():
    rng = np.random.default_rng(6)
    sources = rng.integers(0, 4, (20000, 3))
    noise = rng.uniform(size=(20000, 4))  # uniform: each latent fills its 10 bins evenly
    assert dcimig(latents=noise, sources=sources)["score"] < 0.01
    assert abs(jemmig(latents=noise, sources=sources)["score"]) < 0.01


def test_review_families_refuse_bad_bins_and_are_registered():
    rng = np.random.default_rng(7)
    sources = rng.integers(0, 3, (300, 2))
    latents = rng.standard_normal((300, 2))
    for function in (dcimig, jemmig):
        with pytest.raises(ValueError, match="bins must be an integer >= 2"):
            function(latents=latents, sources=sources, bins=1)
    result = infomec.score(latents=latents, sources=sources, metrics="dcimig,jemmig")
    assert result["dcimig"]["score"] == dcimig(latents=latents, sources=sources)["score"]
    assert result["jemmig"]["score"] == jemmig(latents=latents, sources=sources)["score"]


def test_dcimig_single_valued_sources_warn():
    latents = np.random.default_rng(8).standard_normal((100, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", infomec.InfoMECWarning)
        sources = np.zeros((100, 2), dtype=int)
        with pytest.warns(infomec.InfoMECWarning, match="dcimig: every source"):
            assert dcimig(latents=latents, sources=sources)["score"] == 0.0


# ---------------------------------------------------------------------- Z-max-var

from infomec.metrics.z_max_var import z_max_var  # noqa: E402


def review_z_max_var(sources, latents, rng, batch_size=200, n_train=800, n_eval=800):
    """The review's procedure, written from its description, on discrete sources."""
    n, n_sources = sources.shape
    variances = np.var(latents[rng.permutation(n)[:10000]], axis=0, ddof=1)
    active = np.sqrt(variances) >= 0.02
    train_factors = rng.integers(0, n_sources, n_train)
    eval_factors = rng.integers(0, n_sources, n_eval)
    votes = {"train": np.zeros((latents.shape[1], n_sources)), "eval": None}
    votes["eval"] = votes["train"].copy()
    for k in range(n_sources):
        others = np.delete(sources, k, axis=1)
        keys = [tuple(row) for row in others]
        counts = {}
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
        usable = [key for key, count in counts.items() if count > 1]
        n_tr, n_ev = int(np.sum(train_factors == k)), int(np.sum(eval_factors == k))
        chosen = [usable[i] for i in rng.integers(0, len(usable), n_tr + n_ev)]
        for key in dict.fromkeys(chosen):
            positions = [i for i, c in enumerate(chosen) if c == key]
            rows = np.flatnonzero(np.all(others == np.array(key), axis=1))
            needed = batch_size * len(positions)
            sequence = []
            while len(sequence) < needed:
                sequence.extend(rng.permutation(rows).tolist())
            for slot, position in enumerate(positions):
                batch = np.array(sequence[slot * batch_size : (slot + 1) * batch_size])
                ratio = np.var(latents[batch], axis=0, ddof=1)[active] / variances[active]
                part = "train" if position < n_tr else "eval"
                votes[part][np.flatnonzero(active)[np.argmax(ratio)], k] += 1
    classifier = np.argmax(votes["train"], axis=1)
    hits = votes["eval"][np.arange(latents.shape[1]), classifier].sum()
    accuracy = hits / votes["eval"].sum()
    return (accuracy - 1 / n_sources) / (1 - 1 / n_sources)


def test_z_max_var_matches_the_review_procedure_within_its_seed_spread():
    # Data neither implementation was tuned on: a partly entangled code with a noise latent.
    rng = np.random.default_rng(2024)
    sources = rng.integers(0, 3, (1500, 3))
    latents = np.column_stack(
        [
            sources[:, 0] + 0.8 * rng.standard_normal(1500),
            sources[:, 1] + 0.5 * sources[:, 2] + 0.8 * rng.standard_normal(1500),
            sources[:, 2] + 0.8 * rng.standard_normal(1500),
            0.5 * rng.standard_normal(1500),
        ]
    )
    seeds = range(8)
    ours = np.array([z_max_var(latents=latents, sources=sources, seed=s)["score"] for s in seeds])
    review = np.array(
        [review_z_max_var(sources, latents, np.random.default_rng(100 + s)) for s in seeds]
    )
    spread = np.sqrt(ours.var(ddof=1) / len(ours) + review.var(ddof=1) / len(review))
    assert abs(ours.mean() - review.mean()) < 4 * spread + 1e-3, (ours, review)
    assert 0.1 < ours.mean() < 0.95  # neither trivial nor perfect


def test_z_max_var_perfect_code_noise_and_inactive_latents():
    rng = np.random.default_rng(9)
    sources = rng.integers(0, 4, (4000, 3))
    perfect = np.column_stack([sources + 0.05 * rng.standard_normal(sources.shape), np.ones(4000)])
    result = z_max_var(latents=perfect, sources=sources)
    assert result == {
        "score": 1.0,
        "train_accuracy": 1.0,
        "eval_accuracy": 1.0,
        "num_active_dims": 3,
    }
    scores = [
        z_max_var(latents=rng.standard_normal((4000, 3)), sources=sources, seed=s)["score"]
        for s in range(4)
    ]
    assert abs(np.mean(scores)) < 0.1


def test_z_max_var_is_seeded_and_supports_the_held_out_form():
    rng = np.random.default_rng(10)
    sources = rng.integers(0, 3, (2400, 3))
    latents = np.column_stack([sources, np.zeros(2400)]) + 0.9 * rng.standard_normal((2400, 4))
    first = z_max_var(latents=latents, sources=sources, seed=3)
    assert first == z_max_var(latents=latents, sources=sources, seed=3)
    assert first != z_max_var(latents=latents, sources=sources, seed=4)
    split = z_max_var(latents=latents, sources=sources, same_rows=False, seed=3)
    explicit = z_max_var(
        latents=latents[:1600], sources=sources[:1600],
        test_latents=latents[1600:], test_sources=sources[1600:], seed=3,
    )  # fmt: skip
    for result in (split, explicit):
        assert 0.2 < result["score"] < 1.0
    via_score = infomec.score(latents=latents, sources=sources, metrics=["z_max_var"], seed=3)
    assert via_score["z_max_var"] == first


def test_z_max_var_sources_without_repeated_combinations():
    rng = np.random.default_rng(11)
    # Source 1 takes 100 values (5 rows each, the sparsest accepted); within each of its
    # values sources 0 and 2 take 5 distinct values, so fixing (s1, s2) or (s0, s1)
    # selects one row. 10 rank bins of source 1 make those combinations repeat.
    within = np.tile(np.arange(5), 100)
    sources = np.column_stack([within, np.repeat(np.arange(100), 5), (within + 1) % 5])
    latents = rng.standard_normal((500, 3))
    assert z_max_var(latents=latents, sources=sources)["num_active_dims"] == 3
    with pytest.warns(infomec.InfoMECWarning, match="fewer than two sources can vote"):
        with pytest.warns(infomec.InfoMECWarning, match="occurs twice for s0, s2"):
            result = z_max_var(latents=latents, sources=sources, source_bins=None)
    assert result["score"] == 0.0
    with pytest.raises(ValueError, match="source_bins must be an integer >= 2"):
        z_max_var(latents=latents, sources=sources, source_bins=1)
    with pytest.raises(ValueError, match="std_threshold must be a finite number"):
        z_max_var(latents=latents, sources=sources, std_threshold=-1)


# ------------------------------------------------------------------------ DCI-ES

from infomec.metrics.dci_es import DEPTHS, dci_es, explicitness_from_curve  # noqa: E402


def test_explicitness_of_curves_by_hand():
    # Trapezoids by hand: excess (0.3, 0.1, 0, 0) over capacities (1, 2, 4, 8):
    # 0.5 * (0.3 + 0.1) * 1 + 0.5 * 0.1 * 2 = 0.3; E = 1 - 2 * 0.3 / (7 * 0.6).
    assert explicitness_from_curve([1, 2, 4, 8], [0.4, 0.2, 0.1, 0.1], 0.6) == pytest.approx(
        1 - 0.6 / 4.2
    )
    # The running minimum ignores a probe worse than a smaller one.
    assert explicitness_from_curve([1, 2, 4, 8], [0.4, 0.1, 0.5, 0.1], 0.6) == pytest.approx(
        1 - 2 * 0.15 / 4.2
    )
    # Linear fall from the baseline: 0; best loss from the start: 1; late drop: about -1.
    assert explicitness_from_curve([1, 3], [0.5, 0.0], 0.5) == pytest.approx(0.0)
    assert explicitness_from_curve(DEPTHS, [0.3] * 12, 0.5) == 1.0
    late = explicitness_from_curve(np.arange(1.0, 101.0), [0.5] * 99 + [0.0], 0.5)
    assert late == pytest.approx(-1 + 1 / 99)
    # Extension to a larger capacity, and the area above 0 (the paper's l* = 0).
    assert explicitness_from_curve([1, 3], [0.5, 0.0], 0.5, c_max=5) == pytest.approx(0.5)
    assert explicitness_from_curve([1, 3], [0.5, 0.5], 0.5, lowest_loss=0.0) == -1.0
    with pytest.raises(ValueError, match="strictly increasing"):
        explicitness_from_curve([1, 1], [0.5, 0.4], 0.5)


def test_dci_es_equals_forests_fitted_here():
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(12)
    sources = rng.integers(0, 3, (900, 2))
    latents = np.column_stack([sources[:, 0] + 0.6 * rng.standard_normal(900), sources[:, 1]])
    latents = latents + np.column_stack([np.zeros(900), rng.standard_normal(900)])
    depths = (1, 2, 4, 8)
    result = dci_es(
        latents=latents[:600], sources=sources[:600],
        test_latents=latents[600:], test_sources=sources[600:],
        depths=depths, n_estimators=20, seed=5, n_jobs=2,
    )  # fmt: skip
    for k in range(2):
        losses = []
        for depth in depths:
            forest = RandomForestClassifier(n_estimators=20, max_depth=depth, random_state=5)
            forest.fit(latents[:600], sources[:600, k])
            losses.append(1 - forest.score(latents[600:], sources[600:, k]))
        np.testing.assert_allclose(result["test_losses"][k], losses, atol=1e-12)
        assert result["per_source"][k] == pytest.approx(
            explicitness_from_curve(depths, losses, 2 / 3), abs=1e-12
        )
    assert result["explicitness"] == pytest.approx(result["per_source"].mean())


def test_dci_es_perfect_code_noise_and_knobs():
    rng = np.random.default_rng(13)
    sources = rng.integers(0, 2, (900, 2))
    perfect = sources + 0.05 * rng.standard_normal((900, 2))
    assert dci_es(latents=perfect, sources=sources, n_estimators=10)["explicitness"] == 1.0
    noise = rng.standard_normal((900, 2))
    flat = dci_es(latents=noise, sources=sources, depths=(1, 4, 16), n_estimators=10)
    above_zero = dci_es(
        latents=noise, sources=sources, depths=(1, 4, 16), n_estimators=10, lowest_loss=0.0
    )
    assert flat["explicitness"] > 0.5  # own-minimum convention: a flat curve scores high
    assert above_zero["explicitness"] < -0.5  # l* = 0: never better than guessing
    # Seeded; n_jobs does not change the result; max_samples is a real knob.
    again = dci_es(latents=noise, sources=sources, depths=(1, 4, 16), n_estimators=10, n_jobs=1)
    np.testing.assert_array_equal(again["test_losses"], flat["test_losses"])
    with pytest.raises(ValueError, match="depths must be strictly increasing"):
        dci_es(latents=noise, sources=sources, depths=(4, 2))
    with pytest.raises(ValueError, match="max_samples must be None or a float"):
        dci_es(latents=noise, sources=sources, max_samples=2)
    with pytest.raises(ValueError, match="lowest_loss must be None or a number"):
        dci_es(latents=noise, sources=sources, lowest_loss=-0.1)
    result = infomec.score(latents=perfect, sources=sources, metrics=["dci_es"])
    assert result["dci_es"]["explicitness"] == 1.0
    assert result["dci_es"]["test_losses"].shape == (2, len(DEPTHS))


# --------------------------------------------------------------------------- UDR

from scipy.stats import spearmanr  # noqa: E402
from sklearn.linear_model import Lasso  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from infomec.metrics.udr import relative_strength, udr  # noqa: E402


def dlib_udr(runs, kl, correlation):
    """disentanglement_lib's aggregation, written from its description, with scipy/sklearn."""
    prepared = [
        StandardScaler().fit_transform(run) * (k > 0.01) for run, k in zip(runs, kl, strict=True)
    ]
    masks = [k > 0.01 for k in kl]
    n = len(runs)
    pairwise = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            if correlation == "lasso":
                matrix = np.abs(Lasso(alpha=0.1).fit(prepared[i], prepared[j]).coef_).T
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # constant columns: NaN
                    matrix = np.array(
                        [
                            [abs(spearmanr(prepared[i][:, a], prepared[j][:, b])[0]) for b in
                             range(prepared[j].shape[1])]
                            for a in range(prepared[i].shape[1])
                        ]
                    )  # fmt: skip
            matrix = matrix[masks[i]][:, masks[j]]
            with np.errstate(invalid="ignore", divide="ignore"):
                x = np.nanmean(np.nan_to_num(matrix.max(axis=0) ** 2 / matrix.sum(axis=0)))
                y = np.nanmean(np.nan_to_num(matrix.max(axis=1) ** 2 / matrix.sum(axis=1)))
            pairwise[i, j] = (x + y) / 2
    return np.array([np.median(np.delete(pairwise[:, i], i)) for i in range(n)]), pairwise


def _udr_runs(rng, n=400):
    factors = rng.standard_normal((n, 3))
    runs = []
    for _ in range(4):
        mixing = np.eye(3) + 0.3 * rng.standard_normal((3, 3))
        code = np.tanh(factors @ mixing) + 0.2 * rng.standard_normal((n, 3))
        runs.append(np.column_stack([code, 0.001 * rng.standard_normal(n)]))  # + a dead latent
    kl = [np.array([1.0, 0.5, 2.0, 0.001]) for _ in runs]
    return runs, kl


@pytest.mark.parametrize("correlation", ["spearman", "lasso"])
def test_udr_equals_disentanglement_lib_aggregation(correlation):
    runs, kl = _udr_runs(np.random.default_rng(14))
    expected_scores, expected_pairwise = dlib_udr(runs, kl, correlation)
    result = udr(runs, correlation=correlation, kl=kl)
    np.testing.assert_allclose(result["pairwise"], expected_pairwise, atol=1e-9)
    np.testing.assert_allclose(result["scores"], expected_scores, atol=1e-9)
    assert result["num_active_dims"].tolist() == [3, 3, 3, 3]
    # The variance rule finds the same active latents here (the dead one is tiny).
    np.testing.assert_allclose(udr(runs, correlation=correlation)["scores"], expected_scores)


def test_udr_identical_permuted_and_flipped_runs_score_one():
    grid = _grid((4, 5, 3), repeats=2).astype(float)  # exactly uncorrelated columns
    runs = [grid, -grid[:, [2, 0, 1]], np.exp(grid[:, [1, 2, 0]]) * 3.0]
    np.testing.assert_allclose(udr(runs)["scores"], 1.0, atol=1e-12)
    assert relative_strength(np.eye(4)) == 1.0
    assert relative_strength([[1.0, 0.0], [0.5, 0.5]]) == pytest.approx((7 / 12 + 5 / 8) / 2)


def test_udr_unrelated_runs_score_low_and_ranks_runs():
    rng = np.random.default_rng(15)
    factors = rng.standard_normal((2000, 3))
    good = [factors[:, rng.permutation(3)] + 0.1 * rng.standard_normal((2000, 3)) for _ in range(3)]
    unrelated = rng.standard_normal((2000, 3))
    scores = udr([*good, unrelated])["scores"]
    assert scores[:3].min() > 0.9 and scores[3] < 0.1
    lasso = udr([*good, unrelated], correlation="lasso")["scores"]
    assert lasso[:3].min() > 0.8 and lasso[3] < 0.1  # alpha = 0.1 shrinks the matches


def test_udr_refuses_bad_input_and_warns_on_dead_runs():
    rng = np.random.default_rng(16)
    run = rng.standard_normal((50, 2))
    with pytest.raises(ValueError, match="at least two runs"):
        udr([run])
    with pytest.raises(ValueError, match="every run must encode the same rows"):
        udr([run, run[:40]])
    with pytest.raises(ValueError, match="correlation must be one of"):
        udr([run, run], correlation="pearson")
    with pytest.raises(ValueError, match="kl\\[1\\] must hold one finite value per latent"):
        udr([run, run], kl=[np.ones(2), np.ones(3)])
    with pytest.warns(infomec.InfoMECWarning, match="no active latent"):
        result = udr([run, run, run], kl=[np.ones(2), np.ones(2), np.zeros(2)])
    assert result["pairwise"][2].tolist() == [0.0, 0.0, 0.0]
    assert result["scores"][2] == 0.0


# -------------------------------------------------------------------------- CLI


def test_cli_scores_the_new_families(tmp_path, capsys):
    import json

    import cli

    rng = np.random.default_rng(17)
    sources = rng.integers(0, 3, (600, 3))
    latents = np.column_stack([sources + 0.1 * rng.standard_normal((600, 3)), np.zeros(600)])
    np.save(tmp_path / "z.npy", latents)
    np.save(tmp_path / "s.npy", sources)
    metrics = "dcimig,jemmig,z_max_var,dci_es"
    argv = ["score", str(tmp_path / "z.npy"), str(tmp_path / "s.npy"), "--metrics", metrics]
    assert cli.main([*argv, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dcimig"]["score"] > 0.9 and out["jemmig"]["score"] > 0.5
    assert out["z_max_var"]["num_active_dims"] == 3
    assert len(out["dci_es"]["test_losses"]) == 3
    api = infomec.score(latents=latents, sources=sources, metrics=metrics.split(","))
    assert out["z_max_var"] == api["z_max_var"]
    assert out["dci_es"]["explicitness"] == api["dci_es"]["explicitness"]


def test_all_leaves_out_dci_es_which_runs_when_named():
    from infomec.metrics import REGISTRY
    from infomec.scoring import resolve_metrics

    every = resolve_metrics("all")
    by_name_only = {name for name, family in REGISTRY.items() if not family.in_all}
    assert "dci_es" in by_name_only and set(every) == set(REGISTRY) - by_name_only
    assert resolve_metrics("infomec,dci_es") == ["infomec", "dci_es"]
