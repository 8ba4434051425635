"""Chance levels (issue 26): the permutation null of the NMI matrix and of the scores."""

from __future__ import annotations

import csv
import io
import itertools
import json
import warnings

import numpy as np
import pytest

import infomec
from cli import format_csv, main
from infomec.demo import make_example
from infomec.metrics import null as null_module
from infomec.metrics.null import DEFAULT_NULL, check_null, family_p_value, summary

STRONG = "no latent carries detectable information about any source"
MILD = "no higher than noise gets"


def factorial_noise(seed: int = 0, n_latents: int = 10):
    """The issue's case: Gaussian-noise latents against a full 3x3x4x5x6 factorial grid
    of five sources (1,080 rows)."""
    grid = np.array(list(itertools.product(*(range(size) for size in (3, 3, 4, 5, 6)))))
    latents = np.random.default_rng(seed).standard_normal((grid.shape[0], n_latents))
    return latents, grid


def scored(latents, sources, **kwargs):
    """The result and the messages of every warning raised while scoring."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = infomec.score(latents=latents, sources=sources, progress=False, **kwargs)
    return result, [str(w.message) for w in caught]


@pytest.fixture(scope="module")
def noise():
    latents, sources = factorial_noise()
    return latents, sources, *scored(latents, sources, null=50)


@pytest.fixture(scope="module")
def demo():
    example = make_example(3000)
    return example, *scored(example["disentangled"], example["sources"])


def test_noise_keeps_the_authors_numbers_and_warns(noise):
    latents, sources, result, messages = noise
    plain, plain_messages = scored(latents, sources, null=0)
    # The scores themselves are never altered by the null.
    assert (result.infom, result.infoe, result.infoc) == (plain.infom, plain.infoe, plain.infoc)
    np.testing.assert_array_equal(result.nmi, plain.nmi)
    assert result.nmi.max() < 0.05  # noise: every entry near 0 ...
    assert result.infom > 0.4 and result.infoc > 0.2  # ... and yet mid-range scores
    assert any(STRONG in m for m in messages)
    assert not any(STRONG in m or MILD in m for m in plain_messages)
    chance = result.chance["infomec"]
    assert chance["family_p_value"] > 0.05
    assert not result["infomec"]["chance"]["nmi_above_floor"].all()


def test_noise_scores_lie_inside_their_chance_band(noise):
    """One draw of noise lies in its null's 5-95% band nine times in ten (the calibration
    test below counts seeds); this one lies within its null's spread, and no score is
    above chance."""
    _, _, result, _ = noise
    for key in ("infom", "infoe", "infoc"):
        level = result.chance["infomec"][key]
        assert level["mean"] - 3 * level["std"] <= result["infomec"][key] <= level["p95"], key
        assert level["p_value"] > 0.05


def test_noise_band_is_calibrated_over_seeds():
    """Noise is a draw of its own null: its scores fall in the 5-95% band about 90% of
    the time, and the strong warning fires nearly always."""
    inside, warned = 0, 0
    for seed in range(1, 7):
        latents, sources = factorial_noise(seed)
        result, messages = scored(latents, sources, seed=seed, null=30)
        level = result.chance["infomec"]["infom"]
        inside += level["p05"] <= result.infom <= level["p95"]
        warned += any(STRONG in m for m in messages)
    assert inside >= 4
    assert warned >= 5


def test_informative_code_is_far_above_chance(demo):
    example, result, messages = demo
    assert not any(STRONG in m or MILD in m for m in messages)
    chance = result.chance["infomec"]
    # InfoE far above; InfoM and InfoC above all of noise, whose ratios of near-zero NMI
    # values reach about 0.9 at their 95th percentile with four sources.
    assert result.infoe > chance["infoe"]["p95"] + 0.5
    for key in ("infom", "infoe", "infoc"):
        assert result["infomec"][key] > chance[key]["p95"] + 0.05, key
        # Above every modelled null matrix (finer than 1 / (R + 1) for InfoM and InfoC).
        assert chance[key]["p_value"] <= 1 / (DEFAULT_NULL + 1)
    assert chance["family_p_value"] == pytest.approx(1 / (DEFAULT_NULL + 1))
    # Each source's own latent is far above its floor; the dead latents are not.
    above = chance["nmi_above_floor"]
    assert above[np.arange(4), np.arange(4)].all()
    assert not above[:, 4:].any()


def test_entangled_code_is_informative_but_no_more_modular_than_noise():
    """Rotations of an informative code: information is detectable (no strong
    warning) and InfoE far above chance, but InfoM no higher than noise gets; the mild
    warning names InfoM when it is below nearly all of noise."""
    example = make_example(3000)
    result, messages = scored(example["entangled"], example["sources"], null=30)
    assert not any(STRONG in m for m in messages)
    assert result.infom < result.chance["infomec"]["infom"]["p95"]
    assert result.infoe > result.chance["infomec"]["infoe"]["p95"]
    # Every latent an equal mix of the four sources: InfoM near 0, far below noise.
    rng = np.random.default_rng(0)
    mixed = example["disentangled"][:, :4] @ (np.full((4, 4), 0.5) + 0.02 * rng.random((4, 4)))
    result, messages = scored(mixed, example["sources"], null=30)
    assert not any(STRONG in m for m in messages)
    assert result.infom < result.chance["infomec"]["infom"]["p05"]
    assert any(m.startswith("InfoM") and "below its chance band" in m for m in messages)


def test_perfect_code_of_two_sources_is_not_flagged():
    """Noise's InfoM with two sources reaches 1 by chance; a perfect code is not noise."""
    rng = np.random.default_rng(0)
    sources = rng.integers(0, 3, size=(200, 2))
    latents = sources + 0.1 * rng.standard_normal((200, 2))
    result, messages = scored(latents, sources, null=30)
    assert result.infom > 0.9
    assert not any(STRONG in m or MILD in m for m in messages)


def test_deterministic_across_n_jobs_and_seeded():
    latents, sources = factorial_noise(3)
    one, _ = scored(latents, sources, n_jobs=1, seed=4)
    two, _ = scored(latents, sources, n_jobs=2, seed=4)
    again, _ = scored(latents, sources, n_jobs=2, seed=4)
    other, _ = scored(latents, sources, n_jobs=1, seed=5)
    assert one.to_json() == two.to_json().replace(
        f'"elapsed_s": {two.elapsed_s}', f'"elapsed_s": {one.elapsed_s}'
    )
    assert two.chance_scalars() == again.chance_scalars()
    assert one.chance_scalars() != other.chance_scalars()


def test_discrete_latents_have_a_null_too():
    rng = np.random.default_rng(0)
    sources = rng.integers(0, 4, size=(800, 2))
    informative, _ = scored(np.column_stack([sources[:, 0], rng.integers(0, 3, 800)]), sources)
    chance = informative.chance["infomec"]
    # The copied source is far above its floor; noise entries exceed theirs about 5% of
    # the time each, which is why the warning uses a family-wise test instead.
    assert chance["nmi_above_floor"][0, 0]
    assert informative.nmi[0, 0] > 10 * chance["nmi_floor"][0, 0]
    noise, messages = scored(rng.integers(0, 3, size=(800, 3)), sources, null=30)
    assert any(STRONG in m for m in messages)


def test_null_zero_gives_no_chance_fields():
    latents, sources = factorial_noise()
    result, messages = scored(latents, sources, null=0)
    assert "chance" not in result["infomec"]
    assert result.chance == {} and result.chance_scalars() == {}
    assert result.settings["null"] == 0 and result.settings["null_metrics"] == []
    assert "_chance" not in format_csv(result)


def test_p_values_and_floors_are_well_formed(noise):
    _, _, result, _ = noise
    chance = result.chance["infomec"]
    p = np.asarray(chance["nmi_p_value"])
    assert p.shape == result.nmi.shape
    assert ((p > 0) & (p <= 1)).all()
    assert (np.asarray(chance["nmi_floor"]) >= 0).all()
    for key in ("infom", "infoe", "infoc"):
        assert 0 < chance[key]["p_value"] <= 1
        assert chance[key]["p05"] <= chance[key]["mean"] <= chance[key]["p95"]
        assert chance[key]["std"] >= 0


def test_summary_and_family_p_value_by_hand():
    level = summary(np.array([0.1, 0.2, 0.3, 0.4]), 0.3)
    assert level["p_value"] == pytest.approx(3 / 5)  # 1 + two draws >= 0.3, over 5
    assert level["mean"] == pytest.approx(0.25)
    null = np.random.default_rng(0).random((19, 2, 3)) * 0.01
    mask = np.ones((2, 3), dtype=bool)
    assert family_p_value(null, np.full((2, 3), 0.5), mask) == pytest.approx(1 / 20)
    assert family_p_value(null, np.zeros((2, 3)), mask) == pytest.approx(1.0)
    assert family_p_value(null, np.zeros((2, 3)), np.zeros((2, 3), bool)) == 1.0


def test_json_and_csv_round_trip(demo):
    _, result, _ = demo
    content = json.loads(result.to_json())
    chance = content["infomec"]["chance"]
    assert chance["infom"]["mean"] == result.chance["infomec"]["infom"]["mean"]
    assert np.array_equal(chance["nmi_above_floor"], result.chance["infomec"]["nmi_above_floor"])
    assert content["settings"]["null"] == DEFAULT_NULL
    row = next(csv.DictReader(io.StringIO(format_csv(result))))
    for key, value in result.chance_scalars().items():
        assert float(row[key]) == value
    assert float(row["infomec.infom_chance"]) == result.chance["infomec"]["infom"]["mean"]
    frame = result.to_frame()
    assert frame.loc[0, "infomec.infoc_chance_p95"] == result.chance["infomec"]["infoc"]["p95"]


@pytest.mark.parametrize("bad", [1, 9, -1, True, 2.5, "10", 10**9])
def test_bad_null_is_refused(bad):
    latents, sources = factorial_noise()
    with pytest.raises(ValueError, match="null must be 0"):
        infomec.score(latents=latents, sources=sources, null=bad, progress=False)
    assert check_null(0) == 0


def test_null_metrics_are_checked():
    latents, sources = factorial_noise()
    with pytest.raises(ValueError, match="no permutation null for sap"):
        infomec.score(latents=latents, sources=sources, null_metrics="sap", progress=False)
    with pytest.raises(ValueError, match="which metrics does not compute"):
        infomec.score(latents=latents, sources=sources, null_metrics="mig", progress=False)
    with pytest.raises(ValueError, match="null_metrics must be"):
        infomec.score(latents=latents, sources=sources, null_metrics=3, progress=False)


def test_legacy_families_get_chance_levels_on_request():
    example = make_example(3000)
    metrics = "infomec,mig,mig_sup,modularity,sap"
    result, _ = scored(example["disentangled"], example["sources"], metrics=metrics)
    assert set(result.chance) == {"infomec"}  # off by default for the legacy families
    result, _ = scored(
        example["disentangled"], example["sources"], metrics=metrics, null_metrics="all"
    )
    assert set(result.chance) == {"infomec", "mig", "mig_sup", "modularity"}
    for family, key in (("mig", "score"), ("mig_sup", "score"), ("modularity", "modularity")):
        assert result[family][key] > result.chance[family][key]["p95"], family
    latents, sources = factorial_noise()
    noise, messages = scored(latents, sources, metrics="mig,mig_sup", null_metrics="all")
    assert noise["mig"]["score"] < noise.chance["mig"]["score"]["p95"] + 0.02
    assert "infomec" not in noise.chance


def test_infoe_closed_form_matches_refits_on_shuffled_sources():
    """The Wilks closed form of InfoE's null against real probes on shuffled labels."""
    rng = np.random.default_rng(0)
    sources = rng.integers(0, 4, size=(600, 1))
    latents = sources + rng.standard_normal((600, 3))
    result, _ = scored(latents, sources, null=200)
    refits = [scored(latents, rng.permutation(sources), null=0)[0].infoe for _ in range(30)]
    closed = result.chance["infomec"]["infoe"]
    assert closed["mean"] == pytest.approx(np.mean(refits), rel=0.3)
    assert closed["std"] == pytest.approx(np.std(refits, ddof=1), rel=0.6)


def test_bootstrap_composes_with_chance_levels(monkeypatch):
    example = make_example(600)
    calls = []
    original = null_module.attach_chance

    def counting(*args, **kwargs):
        calls.append(kwargs["n_draws"])
        return original(*args, **kwargs)

    monkeypatch.setattr("infomec.scoring.attach_chance", counting)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        intervals = infomec.bootstrap(
            latents=example["disentangled"], sources=example["sources"], n_boot=4
        )
    # One null, for the point estimate; the resamples score without one.
    assert calls == [DEFAULT_NULL, 0, 0, 0, 0]
    assert "infomec.infom_chance" not in intervals
    assert set(intervals) >= {"infomec.infom", "infomec.infoe", "infomec.infoc"}


def test_figures_mark_chance(noise, demo):
    _, _, result, _ = noise
    ax = result.plot_nmi()
    assert any(patch.get_gid() == "below_floor" for patch in ax.patches)
    assert "noise floor" in ax.get_xlabel()
    figure = result.plot_summary()
    gids = [line.get_gid() for line in figure.axes[0].lines]
    assert gids.count("chance") == 3
    _, plain, _ = demo
    plain_ax = infomec.score(
        latents=make_example(300)["disentangled"],
        sources=make_example(300)["sources"],
        null=0,
        progress=False,
    ).plot_nmi()
    assert not any(patch.get_gid() == "below_floor" for patch in plain_ax.patches)


def test_sweep_table_has_chance_columns():
    from infomec.sweep import Run, sweep

    latents, sources = factorial_noise()
    example = make_example(1080)
    runs = [
        Run(name="noise", latents=latents, sources=sources),
        Run(name="code", latents=example["disentangled"], sources=sources),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = sweep(runs, progress=False, udr=False)
    assert "infomec.infom_chance" in frame.columns
    assert "infomec.infom_chance" not in frame.attrs["score_columns"]
    assert "infomec.infom" in frame.attrs["score_columns"]
    noise_row = frame.set_index("run").loc["noise"]
    assert STRONG in noise_row["warnings"]


def _cli(tmp_path, *options):
    latents, sources = factorial_noise()
    np.save(tmp_path / "latents.npy", latents)
    np.save(tmp_path / "sources.npy", sources)
    out = tmp_path / "out.json"
    status = main(
        [
            "-q",
            "score",
            str(tmp_path / "latents.npy"),
            str(tmp_path / "sources.npy"),
            "-o",
            str(out),
            *options,
        ]
    )
    return status, out


def test_cli_null_options(tmp_path, capsys):
    status, out = _cli(tmp_path, "--null", "0", "--format", "csv")
    assert status == 0 and "_chance" not in out.read_text()
    status, out = _cli(tmp_path, "--null", "50")
    content = json.loads(out.read_text())
    assert status == 0 and content["infomec"]["chance"]["n_draws"] == 50
    status, out = _cli(tmp_path, "--null", "50", "--format", "table")
    text = out.read_text()
    assert "chance" in text and "not above its noise floor" in text and "~" in text
    status, _ = _cli(tmp_path, "--null", "3")
    assert status == 2
    assert "infomec: error:" in capsys.readouterr().err


def test_report_with_bootstrap_shows_intervals_and_chance(tmp_path):
    from infomec.report import build_report

    example = make_example(600)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result, intervals, written = build_report(
            latents=example["disentangled"],
            sources=example["sources"],
            out_dir=tmp_path / "report",
            n_boot=3,
            progress=False,
        )
    content = json.loads(written["scores"].read_text())
    assert content["infomec"]["chance"]["n_draws"] == DEFAULT_NULL
    assert "ci" in content and "infomec.infom" in content["ci"]
    page = written["html"].read_text()
    assert "chance level" in page and "not computed" not in page.split("chance level")[1][:20]


# ------------------------------------------------------------ shared shuffles


def _exact_null_columns(latents, codes, n_classes, n_draws, seed=0):
    """KSG MI of each latent against ``n_draws`` shuffles of one source (no pooling)."""
    from infomec.estimators.ksg import ksg_mutual_information_matrix, prepare_continuous_latents

    rng = np.random.default_rng(seed)
    shuffled = np.stack([codes[rng.permutation(codes.size)] for _ in range(n_draws)])
    prepared = prepare_continuous_latents(latents, 0)
    return ksg_mutual_information_matrix(
        *prepared, shuffled.astype(np.int32), np.full(n_draws, n_classes), 10
    )


def test_tie_free_continuous_latents_share_one_null_law():
    """Why tie-free continuous latents may share shuffles: the KSG null barely depends on
    the latent's distribution (ranks decide the neighbour counts). (Latents with tied
    values get groups of their own all the same: no such argument covers them.)"""
    rng = np.random.default_rng(1)
    n = 1080
    codes = np.repeat(np.arange(5), n // 5)
    marginals = np.column_stack([
        rng.standard_normal(n),
        rng.uniform(size=n),
        rng.lognormal(size=n),
        np.r_[rng.normal(-5, 1, n // 2), rng.normal(5, 0.1, n - n // 2)],
        rng.standard_t(2, size=n),
    ])  # fmt: skip
    null = _exact_null_columns(marginals, codes, 5, 200)
    means, tops = null.mean(axis=0), np.quantile(null, 0.95, axis=0)
    assert means.max() / means.min() < 1.5 and tops.max() / tops.min() < 1.3


def test_tie_free_latents_are_the_modelled_ones():
    from infomec.data import Sample
    from infomec.inputs.encode import encode_columns
    from infomec.metrics.null import tie_free_latents

    rng = np.random.default_rng(0)
    sources = encode_columns(rng.integers(0, 3, size=(300, 1)))
    continuous = np.column_stack([
        rng.standard_normal(300), rng.uniform(size=300), np.round(rng.standard_normal(300)),
        np.full(300, 2.0), rng.exponential(size=300),
    ])  # fmt: skip
    assert tie_free_latents(Sample(continuous, False, sources)).tolist() == [
        True, True, False, False, True,
    ]  # fmt: skip
    codes = rng.integers(0, 3, size=(300, 2))
    assert not tie_free_latents(Sample(codes, True, sources)).any()


def test_the_unclipped_null_is_gaussian_around_zero():
    """The model behind shared shuffles: an unclipped KSG estimate under independence is a
    mean of many neighbour terms, so nearly Gaussian, and centred on 0; its 95th
    percentile is the model's within a few percent."""
    from infomec.inputs.pipeline import prepare_sample
    from infomec.metrics import infomec as infomec_module
    from infomec.metrics.null import permutations

    latents, sources = factorial_noise(n_latents=6)
    sample = prepare_sample(latents, sources)
    raw = infomec_module.permuted_nmi_matrices(
        sample, permutations(0, 150, sample.n_samples), k=10, seed=0, unclipped=True
    )
    assert (raw < 0).mean() > 0.3  # unclipped: negative about half the time
    for values in raw.transpose(1, 0, 2).reshape(5, -1):  # per source, all latents
        center, spread = values.mean(), values.std(ddof=1)
        assert abs(center) < 0.1 * spread  # 750 values: 0 within 3 standard errors
        assert abs(np.quantile(values, 0.95) - (center + 1.645 * spread)) < 0.12 * spread
        assert abs(float(((values - center) ** 3).mean()) / spread**3) < 0.5  # skewness
    clipped = infomec_module.permuted_nmi_matrices(
        sample, permutations(0, 3, sample.n_samples), k=10, seed=0
    )
    np.testing.assert_allclose(clipped, np.maximum(raw[:3], 0.0), atol=1e-15)


def test_shared_shuffles_cost_about_one_nmi_matrix(monkeypatch):
    """The null's kernel work: max(R, g) latent columns per group of g latents, against
    R g when every latent is scored under every shuffle."""
    from infomec.metrics import infomec as infomec_module

    columns = []
    original = infomec_module.permuted_nmi_matrices

    def counting(sample, orders, **kwargs):
        result = original(sample, orders, **kwargs)
        columns.append(result.shape[0] * result.shape[2])
        return result

    monkeypatch.setattr(infomec_module, "permuted_nmi_matrices", counting)
    latents, sources = factorial_noise(n_latents=30)
    scored(latents, sources, null=20)
    assert sum(columns) == 30  # one group of 30 tie-free latents: each scored once
    columns.clear()
    scored(latents[:, :10], sources, null=20)
    assert sum(columns) == 20
    columns.clear()
    scored(latents[:, :10], sources, null=20, null_exact=True)
    assert sum(columns) == 200


def test_shared_shuffles_agree_with_the_exact_null():
    """Pooled chance levels against every latent scored under every shuffle: the same
    bands within the noise of 40 draws, and the same verdicts."""
    latents, sources = factorial_noise(0)
    pooled, pooled_messages = scored(latents, sources, null=40)
    exact, exact_messages = scored(latents, sources, null=40, null_exact=True)
    for key in ("infom", "infoc"):
        a, b = pooled.chance["infomec"][key], exact.chance["infomec"][key]
        assert abs(a["mean"] - b["mean"]) < 0.06, key
        assert abs(a["p95"] - b["p95"]) < 0.1, key
    floors_a = np.asarray(pooled.chance["infomec"]["nmi_floor"]).mean(axis=1)
    floors_b = np.asarray(exact.chance["infomec"]["nmi_floor"]).mean(axis=1)
    np.testing.assert_allclose(floors_a, floors_b, rtol=0.35)
    assert any(STRONG in m for m in pooled_messages) and any(STRONG in m for m in exact_messages)
    assert exact.settings["null_exact"] and not pooled.settings["null_exact"]
    assert "Gaussian model" in pooled.chance["infomec"]["null_method"]
    assert "every latent" in exact.chance["infomec"]["null_method"]


def test_bench_null_tables_render():
    """The benchmark's calibration and agreement tables (a quick run of each)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import bench_null

    lines = bench_null.calibration(2)
    assert lines[0].startswith("| null | seeds") and len(lines) == 4
    assert "shared (default)" in lines[2] and "exact" in lines[3]


def test_latents_with_ties_keep_their_own_shuffles():
    """A rounded latent and a constant one beside tie-free latents: the tie-free ones
    share the shuffles under the model, the others are scored under every shuffle; the
    informative rounded latent is far above its floor, and n_jobs changes nothing."""
    latents, sources = factorial_noise(4, n_latents=4)
    rounded = np.round(sources[:, :1] + 0.3 * latents[:, :1])  # informative, tied values
    mixed = np.column_stack([latents, rounded, np.full(len(latents), 7.0)])
    one, messages = scored(mixed, sources, null=20, n_jobs=1)
    two, _ = scored(mixed, sources, null=20, n_jobs=2)
    chance = one.chance["infomec"]
    assert "4 tie-free" in chance["null_method"] and "2 other" in chance["null_method"]
    assert chance["nmi_above_floor"][0, 4] and not chance["nmi_above_floor"][:, :4].all()
    assert chance["nmi_p_value"][0, 4] == pytest.approx(1 / 21)  # its own 20 shuffles
    assert not any(STRONG in m for m in messages)
    assert one.chance_scalars() == two.chance_scalars()
    np.testing.assert_array_equal(chance["nmi_floor"], two.chance["infomec"]["nmi_floor"])


@pytest.mark.parametrize("aggregate", ["ratio", "gap"])
def test_stacked_infom_infoc_equal_the_single_matrix_functions(aggregate):
    from infomec.metrics.infomec import infoc, infom, infom_infoc_of_stack

    rng = np.random.default_rng(0)
    for n_sources, n_latents in ((1, 3), (3, 1), (4, 6), (5, 10)):
        stack = np.maximum(0.01 * rng.standard_normal((60, n_sources, n_latents)), 0.0)
        stack[0] = 0.0  # nothing defined: 0
        stack[1, :, 0] = 0.0  # a latent with no information, left out
        active = rng.random(n_latents) > 0.2
        active[0] = True
        stacked_m, stacked_c = infom_infoc_of_stack(stack, active, aggregate)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            single_m = [infom(m, active_latents=active, aggregate=aggregate) for m in stack]
            single_c = [infoc(m, active_latents=active, aggregate=aggregate) for m in stack]
        np.testing.assert_allclose(stacked_m, single_m, atol=1e-15)
        np.testing.assert_allclose(stacked_c, single_c, atol=1e-15)
    assert infom_infoc_of_stack(stack, np.zeros(n_latents, bool))[0].tolist() == [0.0] * 60


def test_noise_with_many_entries_at_few_rows_still_warns():
    """At 200 rows the estimates' right tail is heavier than the Gaussian model's, and the
    largest of 1,200 noise entries lies where that matters: the model's "information
    detected" is then checked with exact shuffles, and noise gets its warning."""
    from infomec.metrics.null import decisive_deviation

    assert decisive_deviation(50) < decisive_deviation(1200) < decisive_deviation(10**6)
    rng = np.random.default_rng(5)
    sources = rng.integers(0, 4, size=(200, 3))
    for seed in (1, 2, 4):
        latents = np.random.default_rng(seed).standard_normal((200, 400))
        result, messages = scored(latents, sources, seed=seed)
        assert any(STRONG in m for m in messages), result.chance["infomec"]["null_method"]
    # Seed 0 is the one noise draw in about 21 that tops all 20 exact shuffles (p = 1/21,
    # as the exact null itself says), so it is not flagged.
    latents = np.random.default_rng(0).standard_normal((200, 400))
    shared, _ = scored(latents, sources, seed=0)
    exact, _ = scored(latents, sources, seed=0, null_exact=True)
    assert shared.chance["infomec"]["family_p_value"] == pytest.approx(1 / 21)
    assert exact.chance["infomec"]["family_p_value"] == pytest.approx(1 / 21)
    # A code with one clearly informative latent among the 400 is decided by the model.
    latents[:, 0] = sources[:, 0] + 0.1 * rng.standard_normal(200)
    result, messages = scored(latents, sources)
    assert not any(STRONG in m for m in messages)
    assert "every latent" not in result.chance["infomec"]["null_method"]
