"""InfoMEC: closed forms, the guards of SPEC section 2, and an invariance suite.

The invariance suite follows scikit-learn's metrics/cluster/tests/test_common.py: one
list of quantities, each checked against the same properties.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import infomec
from infomec import InfoMECWarning
from tests.conftest import disentangled_code, factorial_sample

# ----------------------------------------------------------------- closed forms


def test_perfect_one_to_one_map():
    nmi = np.eye(3)
    assert infomec.infom(nmi) == 1.0
    assert infomec.infoc(nmi) == 1.0


def test_each_source_copied_into_two_latents():
    # Shapes3D-sized example from the paper notes: InfoM = 1, InfoC = 0.4545...
    nmi = np.kron(np.eye(6), np.ones((1, 2)))
    assert infomec.infom(nmi) == pytest.approx(1.0)
    assert infomec.infoc(nmi) == pytest.approx((0.5 - 1 / 12) / (1 - 1 / 12))
    assert infomec.infoc(nmi) == pytest.approx(0.4545, abs=1e-4)


def test_uniform_nmi_scores_zero():
    nmi = np.full((4, 5), 0.3)
    assert infomec.infom(nmi) == pytest.approx(0.0)
    assert infomec.infoc(nmi) == pytest.approx(0.0)


def test_pruned_dead_latents_do_not_count():
    nmi = np.hstack([np.eye(3), np.full((3, 3), 0.2)])
    active = np.array([True] * 3 + [False] * 3)
    assert infomec.infom(nmi, active_latents=active) == 1.0
    assert infomec.infoc(nmi, active_latents=active) == 1.0


def test_gap_aggregate():
    nmi = np.array([[0.9, 0.1], [0.3, 0.6]])
    # latents: top-2 gaps over sources 0.6 and 0.5; sources: 0.8 and 0.3
    assert infomec.infom(nmi, aggregate="gap") == pytest.approx(0.55)
    assert infomec.infoc(nmi, aggregate="gap") == pytest.approx(0.55)


# ------------------------------------------------------------------------ guards


def test_latent_without_information_is_left_out_of_infom():
    nmi = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    with pytest.warns(InfoMECWarning, match="z2"):
        assert infomec.infom(nmi) == 1.0


def test_source_without_information_is_left_out_of_infoc():
    nmi = np.array([[1.0, 0.0], [0.0, 0.0]])
    with pytest.warns(InfoMECWarning, match="s1"):
        assert infomec.infoc(nmi) == 1.0


def test_single_active_latent_gives_infoc_one():
    nmi = np.array([[0.5, 0.2], [0.4, 0.1]])
    assert infomec.infoc(nmi, active_latents=[True, False]) == 1.0


def test_single_source_gives_infom_one():
    assert infomec.infom(np.array([[0.5, 0.2]])) == 1.0


def test_no_active_latent_gives_zero_with_warning():
    nmi = np.eye(2)
    with pytest.warns(InfoMECWarning, match="no active latent"):
        assert infomec.infom(nmi, active_latents=[False, False]) == 0.0
    with pytest.warns(InfoMECWarning, match="no active latent"):
        assert infomec.infoc(nmi, active_latents=[False, False]) == 0.0


def test_all_zero_nmi_gives_zero_with_warning():
    with pytest.warns(InfoMECWarning):
        assert infomec.infom(np.zeros((2, 3))) == 0.0
    with pytest.warns(InfoMECWarning):
        assert infomec.infoc(np.zeros((2, 3))) == 0.0


def test_constant_source_has_zero_row_and_no_nan(rng):
    sources = factorial_sample(rng, 500, sizes=(4, 1))
    latents = disentangled_code(rng, sources)
    with pytest.warns(InfoMECWarning, match="single value"):
        result = infomec.score(latents=latents, sources=sources)
    assert np.all(result.nmi[1] == 0.0)
    values = [result.infom, result.infoe, result.infoc]
    assert np.all(np.isfinite(values))
    assert result["infomec"]["infoe_per_source"][1] == 0.0


def test_all_latents_constant(rng):
    sources = factorial_sample(rng, 300)
    with pytest.warns(InfoMECWarning):
        result = infomec.score(latents=np.ones((300, 3)), sources=sources)
    assert result.infom == 0.0 and result.infoc == 0.0 and result.infoe == 0.0


def _tied_grid_case() -> tuple[np.ndarray, np.ndarray]:
    """A binary source on 400 rows and two float latents: its codes exactly (ties
    push the KSG estimate past H(s)) and the codes under noise (a lesser share)."""
    sources = np.tile(np.arange(2), 200)[:, None]
    noise = np.random.default_rng(3).standard_normal(400)
    latents = np.column_stack([sources[:, 0].astype(float), sources[:, 0] + 0.8 * noise])
    return latents, sources


def test_nmi_above_one_is_kept_as_the_authors_code_does():
    from sklearn.feature_selection import mutual_info_classif
    from sklearn.metrics import mutual_info_score

    latents, sources = _tied_grid_case()
    with pytest.warns(InfoMECWarning, match="discrete codes saved as floats"):
        nmi = infomec.nmi_matrix(latents=latents[:, :1], sources=sources, k=3)
        clipped = infomec.nmi_matrix(latents=latents[:, :1], sources=sources, k=3, clip_nmi=True)
    # The authors' estimator (scikit-learn's, on z-scored latents) on the same rows; the
    # tie-breaking jitter does not move it here.
    column = StandardScaler().fit_transform(latents[:, :1])
    theirs = mutual_info_classif(column, sources[:, 0], n_neighbors=3, random_state=0)[0]
    theirs /= mutual_info_score(sources[:, 0], sources[:, 0])
    assert theirs > 1.001
    assert nmi[0, 0] == pytest.approx(theirs, abs=1e-9)
    assert clipped[0, 0] == 1.0


@pytest.mark.parametrize("preset", ["reference", "paper", "tripod"])
def test_no_preset_clips_nmi_and_clip_nmi_moves_infoc(preset):
    latents, sources = _tied_grid_case()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InfoMECWarning)
        kept = infomec.score(latents=latents, sources=sources, preset=preset, k=3)
        clipped = infomec.score(latents=latents, sources=sources, preset=preset, k=3, clip_nmi=True)
    assert kept.settings["clip_nmi"] is False and clipped.settings["clip_nmi"] is True
    assert kept.nmi[0, 0] > 1.001 and clipped.nmi[0, 0] == 1.0
    assert clipped.nmi[0, 1] == kept.nmi[0, 1] < 1.0  # entries below 1 are untouched
    # One source, two active latents: InfoC = (max / sum - 1/2) / (1 - 1/2).
    for result in (kept, clipped):
        ratio = result.nmi[0].max() / result.nmi[0].sum()
        assert result.infoc == pytest.approx(2 * ratio - 1, abs=1e-12)
    assert kept.infoc > clipped.infoc
    assert 0.0 <= kept.infoc <= 1.0 and 0.0 <= kept.infom <= 1.0


def test_clip_nmi_must_be_a_bool():
    sources = np.repeat(np.arange(3), 20)[:, None]
    latents = sources + np.random.default_rng(0).standard_normal((60, 1))
    with pytest.raises(ValueError, match="clip_nmi must be True, False or None"):
        infomec.score(latents=latents, sources=sources, clip_nmi="yes")


# ----------------------------------------------------------------- the presets


def test_presets_resolve_into_settings(rng):
    sources = factorial_sample(rng, 400)
    latents = disentangled_code(rng, sources)
    for preset, k, pruning in (
        ("reference", 10, "range>max/20"),
        ("paper", 3, "range>max/8"),
        ("tripod", 10, "iqr>max/10"),
    ):
        settings = infomec.score(latents=latents, sources=sources, preset=preset).settings
        assert (settings["preset"], settings["k"], settings["pruning"]) == (preset, k, pruning)
    codes = sources.copy()
    assert infomec.score(latents=codes, sources=sources).settings["pruning"] == "range>0"
    overridden = infomec.score(
        latents=latents, sources=sources, preset="paper", k=5, pruning="none"
    )
    assert overridden.settings["k"] == 5 and overridden.settings["pruning"] == "none"


@pytest.mark.parametrize(
    "rule, expected",
    [
        ("range>max/2", [True, False, False]),
        ("range>0", [True, True, False]),
        ("iqr>0.1", [True, True, False]),
        ("none", [True, True, True]),
    ],
)
def test_pruning_rules(rule, expected):
    latents = np.column_stack([np.linspace(0, 10, 101), np.linspace(0, 1, 101), np.zeros(101)])
    assert infomec.PruningRule.parse(rule).active(latents).tolist() == expected


def test_bad_pruning_rule_is_refused():
    with pytest.raises(ValueError, match="pruning rule"):
        infomec.PruningRule.parse("range<3")


# -------------------------------------------------------------------- InfoE parity


def _sklearn_infoe(features, sources):
    values = []
    for column in sources.T:
        model = LogisticRegression(C=np.inf, class_weight="balanced", tol=1e-8, max_iter=20000)
        model.fit(features, column)
        ce_fit = log_loss(column, model.predict_proba(features))
        values.append((np.log(np.unique(column).size) - ce_fit) / np.log(np.unique(column).size))
    return np.array(values)


def test_infoe_matches_converged_sklearn_continuous(rng):
    sources = factorial_sample(rng, 3000, sizes=(3, 5, 4))
    latents = disentangled_code(rng, sources, noise=0.4)
    latents = np.hstack([latents, rng.standard_normal((3000, 2))])
    score, per_source = infomec.infoe(latents=latents, sources=sources)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _sklearn_infoe(StandardScaler().fit_transform(latents), sources)
    np.testing.assert_allclose(per_source, expected, atol=1e-3)
    assert score == pytest.approx(expected.mean(), abs=1e-3)


def test_infoe_matches_converged_sklearn_one_hot(rng):
    sources = factorial_sample(rng, 2000, sizes=(3, 4))
    codes = np.column_stack(
        [
            (sources[:, 0] + rng.integers(0, 2, 2000)) % 3,
            sources[:, 1] // 2,
            rng.integers(0, 5, 2000),
        ]
    )
    _, per_source = infomec.infoe(latents=codes, sources=sources)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one_hot = OneHotEncoder(sparse_output=False).fit_transform(codes)
        expected = _sklearn_infoe(one_hot, sources)
    np.testing.assert_allclose(per_source, expected, atol=1e-3)


def test_one_hot_infoe_reaches_the_infimum_of_a_separated_fit(rng):
    """Latent 0's values each rule out half the classes of source 0: the optimum lies at
    infinity, which a newton-cg run to 1e-10 approaches and the probe reaches."""
    sources = factorial_sample(rng, 1500, sizes=(4, 4))
    codes = np.column_stack(
        [
            2 * sources[:, 0] + rng.integers(0, 2, 1500),
            (sources[:, 1] + rng.integers(0, 3, 1500)) % 5,
            rng.integers(0, 20, 1500),
        ]
    )
    _, per_source = infomec.infoe(latents=codes, sources=sources)
    one_hot = OneHotEncoder(sparse_output=False).fit_transform(codes)
    expected = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for column in sources.T:
            model = LogisticRegression(
                C=np.inf, class_weight="balanced", solver="newton-cg", tol=1e-10, max_iter=20000
            ).fit(one_hot, column)
            ce_fit = log_loss(column, model.predict_proba(one_hot))
            expected.append((np.log(4) - ce_fit) / np.log(4))
    np.testing.assert_allclose(per_source, expected, atol=1e-6)


def _separability_case(rng, case: str, n_samples: int = 1500):
    """Latents and one 3-class source: the source is separable, partly separable
    (class 0 is, classes 1 and 2 overlap) or ordinary; continuous latents, or discrete
    ones whose separation no single one-hot cell shows (the probe's ruled-out cells
    do not decide it)."""
    kind, discrete = case.split("-")
    if discrete == "discrete":
        codes = rng.integers(0, 4, size=(n_samples, 3))
        high = codes[:, 0] + codes[:, 1] >= 4  # a threshold on a sum: linear in one-hot
        noisy = (codes[:, 0] + rng.integers(0, 2, n_samples)) % 3
        source = {
            "separable": np.where(high, 0, 1 + (codes[:, 0] + codes[:, 1] >= 2)),
            "quasi": np.where(high, 0, 1 + rng.integers(0, 2, n_samples)),
            "ordinary": noisy,
        }[kind]
        return codes, source[:, None]
    source = rng.integers(0, 3, n_samples)
    noise = rng.standard_normal((n_samples, 2))
    latents = {
        "separable": np.column_stack([source + 0.05 * noise[:, 0], noise[:, 1]]),
        "quasi": np.column_stack(
            [3.0 * (source == 0) + 0.1 * noise[:, 0], (source == 2) + noise[:, 1]]
        ),
        "ordinary": source[:, None] + noise,
    }[kind]
    return latents, source[:, None]


def _sklearn_balanced_infoe(features, labels) -> float:
    """InfoE from scikit-learn's newton-cg, run to a gradient of 1e-10, and the
    unweighted in-sample log-loss (as the probe reports it)."""
    model = LogisticRegression(
        C=np.inf, class_weight="balanced", solver="newton-cg", tol=1e-10, max_iter=10_000
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(features, labels)
    n_classes = np.unique(labels).size
    ce_fit = log_loss(labels, model.predict_proba(features), labels=np.arange(n_classes))
    return (np.log(n_classes) - ce_fit) / np.log(n_classes)


@pytest.mark.parametrize(
    "case",
    [
        f"{kind}-{latents}"
        for kind in ("separable", "quasi", "ordinary")
        for latents in ("continuous", "discrete")
    ],
)
def test_infoe_is_within_infoe_tol_of_converged_sklearn(rng, case):
    """Determined by value: separable optima (loss -> 0, or -> the overlap's loss)
    are found to infoe_tol, like ordinary ones, without a convergence warning."""
    latents, sources = _separability_case(rng, case)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InfoMECWarning)  # no "did not reach" here
        result = infomec.score(latents=latents, sources=sources)
    assert result["infomec"]["converged"].all()
    if case.endswith("discrete"):
        features = OneHotEncoder(sparse_output=False).fit_transform(latents)
    else:
        features = StandardScaler().fit_transform(latents)
    expected = _sklearn_balanced_infoe(features, sources[:, 0])
    assert abs(result["infomec"]["infoe_per_source"][0] - expected) <= 1e-6
    if case.startswith("separable"):
        assert expected > 1 - 1e-6


def test_demo_scores_without_a_convergence_warning():
    """The README's first command: its separable source (shape) is determined by value."""
    from infomec.demo import make_example

    example = make_example(5000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InfoMECWarning)
        for kind in ("disentangled", "entangled"):
            result = infomec.score(latents=example[kind], sources=example["sources"])
            assert result["infomec"]["converged"].all()
    assert result["infomec"]["infoe_per_source"][0] > 1 - 1e-6


def test_infoe_reports_convergence(rng):
    sources = factorial_sample(rng, 1000)
    result = infomec.score(latents=disentangled_code(rng, sources, 0.3), sources=sources)
    assert result["infomec"]["converged"].tolist() == [True, True, True]
    with pytest.warns(InfoMECWarning, match="did not reach infoe_tol"):
        capped = infomec.score(
            latents=disentangled_code(rng, sources, 0.3), sources=sources, infoe_max_iter=1
        )
    assert not capped["infomec"]["converged"].all()


def test_infoe_entropy_normalizer_and_regression(rng):
    sources = factorial_sample(rng, 1500)
    latents = disentangled_code(rng, sources, 0.2)
    for kind in ("classification", "regression"):
        for normalizer in ("balanced", "entropy"):
            result = infomec.score(
                latents=latents, sources=sources, infoe_kind=kind, infoe_normalizer=normalizer
            )
            assert 0.5 < result.infoe <= 1.0
    # OLS R^2 on a noiseless linear code is exactly 1.
    exact = infomec.score(latents=sources.astype(float), sources=sources, infoe_kind="regression")
    assert exact.infoe == pytest.approx(1.0)


# ------------------------------------------------------------- invariance suite

QUANTITIES = {
    "infom": lambda result: result.infom,
    "infoc": lambda result: result.infoc,
    "infoe": lambda result: result.infoe,
    "nmi": lambda result: result.nmi,
}


@pytest.fixture(scope="module")
def coded_sample():
    rng = np.random.default_rng(7)
    sources = factorial_sample(rng, 2500, sizes=(3, 6, 4))
    latents = np.hstack(
        [disentangled_code(rng, sources, 0.1), 1e-4 * rng.standard_normal((2500, 1))]
    )
    return sources, latents


@pytest.mark.parametrize("name", list(QUANTITIES))
@pytest.mark.parametrize("discrete", [False, True])
def test_bounded_in_unit_interval(coded_sample, name, discrete):
    sources, latents = coded_sample
    latents = np.round(latents * 4).astype(int) if discrete else latents
    value = np.asarray(QUANTITIES[name](infomec.score(latents=latents, sources=sources)))
    assert np.all((value >= 0) & (value <= 1)) and np.all(np.isfinite(value))


@pytest.mark.parametrize("name", list(QUANTITIES))
def test_latent_permutation_invariance(coded_sample, name):
    sources, latents = coded_sample
    permutation = np.array([2, 0, 3, 1])
    base = infomec.score(latents=latents, sources=sources)
    permuted = infomec.score(latents=latents[:, permutation], sources=sources)
    expected = QUANTITIES[name](base)
    if name == "nmi":
        expected = expected[:, permutation]
    np.testing.assert_allclose(QUANTITIES[name](permuted), expected, atol=1e-12)


@pytest.mark.parametrize("name", list(QUANTITIES))
def test_source_relabelling_invariance(coded_sample, name):
    sources, latents = coded_sample
    relabelled = np.column_stack(
        [
            np.array(["a", "b", "c"])[sources[:, 0]],  # strings
            10 - 3 * sources[:, 1],  # order-reversing integer map
            sources[:, 2] * 0.5 + 7.25,  # floats
        ]
    )
    base = infomec.score(latents=latents, sources=sources)
    other = infomec.score(
        latents=latents,
        sources=np.column_stack([relabelled[:, 0], relabelled[:, 1], relabelled[:, 2]]),
    )
    np.testing.assert_allclose(
        np.asarray(QUANTITIES[name](other)), np.asarray(QUANTITIES[name](base)), atol=1e-3
    )


@pytest.mark.parametrize("discrete", [False, True])
def test_perfect_code_scores_one(rng, discrete):
    sources = factorial_sample(rng, 2000, sizes=(3, 5, 4))
    latents = sources.copy() if discrete else sources + 0.01 * rng.standard_normal(sources.shape)
    result = infomec.score(latents=latents, sources=sources)
    assert result.infom > 0.98 and result.infoc > 0.98
    assert result.infoe > 0.95


@pytest.mark.parametrize("discrete", [False, True])
def test_independent_noise_scores_near_zero(rng, discrete):
    sources = factorial_sample(rng, 4000, sizes=(3, 5, 4))
    latents = rng.integers(0, 6, (4000, 3)) if discrete else rng.standard_normal((4000, 3))
    result = infomec.score(latents=latents, sources=sources)
    assert np.all(result.nmi < 0.02)
    assert result.infoe < 0.02


def test_duplicated_latent_lowers_infoc(coded_sample):
    sources, latents = coded_sample
    base = infomec.score(latents=latents, sources=sources)
    duplicated = infomec.score(latents=np.hstack([latents, latents[:, :1]]), sources=sources)
    assert duplicated.infoc < base.infoc - 0.05
    assert duplicated.infom == pytest.approx(base.infom, abs=0.02)


def test_monotone_transform_leaves_nmi_nearly_unchanged(coded_sample):
    sources, latents = coded_sample
    transformed = latents.copy()
    transformed[:, 1] = np.exp(3 * latents[:, 1])
    base = infomec.nmi_matrix(latents=latents, sources=sources)
    other = infomec.nmi_matrix(latents=transformed, sources=sources)
    # KSG is not exactly rank-based (distances change), but stays close.
    np.testing.assert_allclose(other[:, 1], base[:, 1], atol=0.05)
    np.testing.assert_array_equal(other[:, [0, 2, 3]], base[:, [0, 2, 3]])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_is_refused(coded_sample, bad):
    sources, latents = coded_sample
    broken = latents.copy()
    broken[5, 2] = bad
    with pytest.raises(ValueError, match="column 2"):
        infomec.score(latents=broken, sources=sources)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_found_in_every_float_dtype(bad, dtype):
    from infomec._validation import as_2d_array

    values = np.ones((50, 3), dtype=dtype)
    values[7, 1] = bad
    with pytest.raises(ValueError, match="column 1 contains .* at row 7"):
        as_2d_array(values, "latents")


def test_finite_values_whose_sum_overflows_are_accepted_silently():
    from infomec._validation import as_2d_array

    huge = np.full((50, 2), 1e308)  # the sum overflows; every value is finite
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert as_2d_array(huge, "latents") is not None
        assert as_2d_array(np.full((50, 2), 6e4, dtype=np.float16), "latents") is not None


# ------------------------------------------------- degenerate but valid inputs


def test_latent_identical_to_a_source(rng):
    sources = factorial_sample(rng, 1500, sizes=(4, 3))
    latents = np.column_stack([sources[:, 0], rng.integers(0, 3, 1500)])
    result = infomec.score(latents=latents, sources=sources)
    assert result.nmi[0, 0] == pytest.approx(1.0)
    assert np.isfinite([result.infom, result.infoe, result.infoc]).all()


def test_heavy_class_imbalance_stays_finite(rng):
    sources = (rng.random((4000, 2)) < [0.01, 0.3]).astype(int)
    latents = sources + 0.5 * rng.standard_normal((4000, 2))
    result = infomec.score(latents=latents, sources=sources)
    values = [result.infom, result.infoe, result.infoc, *result["infomec"]["infoe_per_source"]]
    assert all(0.0 <= value <= 1.0 for value in values)


def test_one_thousand_class_source_gives_a_finite_answer(rng):
    # Six rows per value: more than sources need to be accepted.
    sources = np.column_stack([np.arange(6000) % 1000, rng.integers(0, 3, 6000)])
    latents = np.column_stack(
        [sources[:, 0] / 1000, sources[:, 1] + 0.1 * rng.standard_normal(6000)]
    )
    # Separable (each source value has its own interval of latent 0): the probe stops
    # on the value, in seconds and without a warning (it used to take 1-2 minutes).
    with warnings.catch_warnings():
        warnings.simplefilter("error", InfoMECWarning)
        result = infomec.score(latents=latents, sources=sources)
    assert result["infomec"]["converged"].all()
    assert result["infomec"]["infoe_per_source"][0] > 1 - 1e-6
    assert np.isfinite([result.infom, result.infoe, result.infoc]).all()
    assert 0.0 <= result.infoe <= 1.0 and result.nmi[0, 0] > 0.5
