"""SAP's continuous variant and disentanglement_lib's task families against its procedures.

Each reference below is written here from disentanglement_lib's numpy procedure
(``sap_score.compute_score_matrix``, ``downstream_task._compute_loss``,
``fairness.inter_group_fairness`` / ``compute_scores_dict``, ``unified_scores``'
aggregations and ``visualize_scores.precision``), with scikit-learn's estimators, and
driven by the same rows as infomec. Its own test expectations are reproduced as arrays
(``IdentityObservationsData``: ten factors with values 1..10, the code equal to them).
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import scipy.stats
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import mutual_info_score
from sklearn.model_selection import KFold

import infomec
import infomec.scoring
from infomec.metrics._predictors import CombinationIndex
from infomec.metrics.downstream_task import downstream_task
from infomec.metrics.fairness import fairness, inter_group_fairness, scores_dict
from infomec.metrics.sap_continuous import sap_continuous
from infomec.metrics.strong_downstream_task import strong_downstream_task
from infomec.metrics.unified_scores import aggregate, precision_curve, unified_scores


def identity_observations(n: int, n_factors: int = 10, seed: int = 0) -> np.ndarray:
    """disentanglement_lib's IdentityObservationsData: factors uniform on 1..10."""
    return np.random.RandomState(seed).randint(1, 11, size=(n, n_factors)).astype(np.float64)


def grid(sizes, repeats: int) -> np.ndarray:
    """A factorial table: every combination of source values, ``repeats`` rows each."""
    axes = np.meshgrid(*[np.arange(size) for size in sizes], indexing="ij")
    return np.repeat(np.stack(axes, -1).reshape(-1, len(sizes)), repeats, axis=0)


def quiet(function, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", infomec.InfoMECWarning)
        return function(**kwargs)


# ------------------------------------------------------------------ sap_continuous


def peer_sap_continuous(mus: np.ndarray, ys: np.ndarray) -> tuple[float, np.ndarray]:
    """sap_score.compute_score_matrix(continuous_factors=True), rows = samples here."""
    matrix = np.zeros((mus.shape[1], ys.shape[1]))
    for i in range(mus.shape[1]):
        for j in range(ys.shape[1]):
            cov = np.cov(mus[:, i], ys[:, j], ddof=1)
            if cov[0, 0] > 1e-12:
                matrix[i, j] = cov[0, 1] ** 2 / (cov[0, 0] * cov[1, 1])
    ordered = np.sort(matrix, axis=0)
    return float(np.mean(ordered[-1] - ordered[-2])), matrix


def test_sap_continuous_reproduces_disentanglement_lib_tests():
    factors = identity_observations(3000)
    assert 0.9 <= sap_continuous(latents=factors, sources=factors)["score"] <= 1.0
    zeros = np.zeros_like(factors)
    assert 0.0 <= quiet(sap_continuous, latents=zeros, sources=factors)["score"] <= 0.2
    doubled = np.hstack([factors, factors])
    assert 0.0 <= sap_continuous(latents=doubled, sources=factors)["score"] <= 0.2
    noise = np.random.default_rng(0).standard_normal((3000, 10))
    assert sap_continuous(latents=noise, sources=factors)["score"] <= 0.2


@pytest.mark.parametrize("seed", [0, 1])
def test_sap_continuous_equals_the_peer_on_the_same_rows(seed):
    rng = np.random.default_rng(seed)
    factors = identity_observations(2000, 4, seed)
    latents = np.column_stack(
        [
            factors[:, 0] + rng.standard_normal(2000),
            np.exp(0.3 * factors[:, 1]) + factors[:, 2],
            rng.standard_normal(2000),
            2.0 * factors[:, 3] - factors[:, 0],
            np.full(2000, 3.0),  # constant: var <= 1e-12, a zero row
        ]
    )
    expected_score, expected_matrix = peer_sap_continuous(latents, factors)
    result = sap_continuous(latents=latents, sources=factors)
    # Values 1..10 enter as ranks 0..9: an affine map, which a correlation ignores.
    np.testing.assert_allclose(result["matrix"], expected_matrix, rtol=0, atol=1e-12)
    assert result["score"] == pytest.approx(expected_score, abs=1e-12)
    assert not result["matrix"][4].any()


def test_sap_continuous_is_a_registered_family_and_a_cli_option(tmp_path, capsys):
    import cli

    factors = identity_observations(600, 3)
    latents = factors + 0.1 * np.random.default_rng(1).standard_normal(factors.shape)
    api = infomec.score(latents=latents, sources=factors, metrics=["sap_continuous"])
    assert (
        api["sap_continuous"]["score"] == sap_continuous(latents=latents, sources=factors)["score"]
    )
    assert "sap_continuous" in infomec.scoring.resolve_metrics("all")
    np.save(tmp_path / "z.npy", latents)
    np.save(tmp_path / "s.npy", factors.astype(int))
    argv = ["score", str(tmp_path / "z.npy"), str(tmp_path / "s.npy")]
    assert cli.main([*argv, "--metrics", "sap_continuous", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sap_continuous"]["score"] == pytest.approx(api["sap_continuous"]["score"])


def test_sap_continuous_single_valued_source_and_too_few_rows():
    sources = np.column_stack([np.zeros(50), np.arange(50) % 5])
    latents = np.column_stack([np.arange(50) % 5, np.ones(50) * np.arange(50)]).astype(float)
    result = quiet(sap_continuous, latents=latents, sources=sources)
    assert np.isfinite(result["matrix"]).all() and not result["matrix"][:, 0].any()


# ----------------------------------------------------------------- downstream_task


def peer_compute_loss(x_train, y_train, x_test, y_test, make):
    """downstream_task._compute_loss, samples as rows."""
    train, test = [], []
    for k in range(y_train.shape[1]):
        model = make().fit(x_train, y_train[:, k])
        train.append(np.mean(model.predict(x_train) == y_train[:, k]))
        test.append(np.mean(model.predict(x_test) == y_test[:, k]))
    return np.array(train), np.array(test)


def _lrcv():
    return LogisticRegressionCV(Cs=10, cv=KFold(n_splits=5), scoring="accuracy")


@pytest.mark.parametrize(
    "predictor, make",
    [
        ("logistic_regression", _lrcv),
        ("boosted_trees", lambda: GradientBoostingClassifier(random_state=3)),
    ],
)
def test_downstream_task_equals_the_peer_on_the_same_rows(predictor, make):
    rng = np.random.default_rng(4)
    sources = np.column_stack([rng.integers(0, k, 500) for k in (2, 4)])
    latents = np.column_stack(
        [sources[:, 0] + 0.8 * rng.standard_normal(500), sources[:, 1] - sources[:, 0]]
    ) + 0.5 * rng.standard_normal((500, 2))
    train, test = slice(0, 300), slice(300, 500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected_train, expected_test = peer_compute_loss(
            latents[train], sources[train], latents[test], sources[test], make
        )
        scores = downstream_task(
            latents=latents[train],
            sources=sources[train],
            test_latents=latents[test],
            test_sources=sources[test],
            predictor=predictor,
            num_train=(300,),  # every training row, in order: the peer's own points
            seed=3,
        )
    for k in range(2):
        assert scores[f"300:train_accuracy_factor_{k}"] == expected_train[k]
        assert scores[f"300:test_accuracy_factor_{k}"] == expected_test[k]
    assert scores["300:mean_test_accuracy"] == pytest.approx(np.mean(expected_test), abs=1e-15)
    assert scores["300:min_train_accuracy"] == np.min(expected_train)


def test_downstream_task_identity_code_and_noise():
    sources = identity_observations(1200, 2, seed=2)
    noise = np.random.default_rng(2).standard_normal((1200, 2))
    kwargs = {"predictor": "boosted_trees", "num_train": (10, 800)}
    perfect = downstream_task(latents=sources, sources=sources, **kwargs)
    chance = downstream_task(latents=noise, sources=sources, **kwargs)
    assert perfect["800:mean_test_accuracy"] >= 0.9
    assert abs(chance["800:mean_test_accuracy"] - 0.1) < 0.05  # ten values: chance 0.1
    names = {key.split(":", 1)[1] for key in perfect}
    assert {"mean_train_accuracy", "min_test_accuracy", "test_accuracy_factor_1"} <= names


def test_downstream_task_sizes_beyond_the_rows_are_left_out_with_a_warning():
    rng = np.random.default_rng(5)
    sources = rng.integers(0, 2, (150, 2))
    latents = sources + 0.1 * rng.standard_normal((150, 2))
    with pytest.warns(infomec.InfoMECWarning, match="10000 exceed the 100 training rows"):
        scores = downstream_task(
            latents=latents, sources=sources, num_train=(10, 10000), predictor="boosted_trees"
        )
    assert "10:mean_test_accuracy" in scores and not any(k.startswith("10000:") for k in scores)
    for bad in ({"predictor": "svm"}, {"num_train": ()}, {"num_train": (0,)}, {"num_train": "a"}):
        with pytest.raises(ValueError):
            downstream_task(latents=latents, sources=sources, **bad)


# ----------------------------------------------------------------------- fairness


def test_fairness_closed_forms_of_disentanglement_lib():
    mean, largest = inter_group_fairness(np.array([[0, 100], [100, 100]]))
    assert mean == pytest.approx(2 / 9) and largest == pytest.approx(1 / 3)
    scores = scores_dict(np.array([[0.0, 2.0, 4.0], [4.0, 0.0, 8.0], [2.0, 10.0, 0.0]]), "test")
    expected = {
        "test:pred0:sens1": 2.0, "test:pred0:sens2": 4.0, "test:pred1:sens0": 4.0,
        "test:pred1:sens2": 8.0, "test:pred2:sens0": 2.0, "test:pred2:sens1": 10.0,
        "test:pred0:mean_sens": 3.0, "test:pred0:max_sens": 4.0,
        "test:pred1:mean_sens": 6.0, "test:pred1:max_sens": 8.0,
        "test:pred2:mean_sens": 6.0, "test:pred2:max_sens": 10.0,
        "test:sens0:mean_pred": 3.0, "test:sens0:max_pred": 4.0,
        "test:sens1:mean_pred": 6.0, "test:sens1:max_pred": 10.0,
        "test:sens2:mean_pred": 6.0, "test:sens2:max_pred": 8.0,
        "test:mean_sens:mean_pred": 5.0, "test:mean_sens:max_pred": 22.0 / 3.0,
        "test:max_sens:mean_pred": 6.0, "test:max_sens:max_pred": 10.0,
        "test:mean_pred:mean_sens": 5.0, "test:mean_pred:max_sens": 22.0 / 3.0,
        "test:max_pred:mean_sens": 6.0, "test:max_pred:max_sens": 10.0,
    }  # fmt: skip
    assert scores.keys() == expected.keys()
    for key, value in expected.items():
        assert scores[key] == pytest.approx(value, abs=1e-12), key


def peer_inter_group_fairness(counts):
    """fairness.inter_group_fairness, in float32 as disentanglement_lib computes it."""
    overall = np.sum(counts, axis=1, dtype=np.float32)
    overall /= overall.sum()
    normalized = np.array(counts, dtype=np.float32)
    per_class = np.sum(counts, axis=0)
    normalized /= np.expand_dims(per_class, 0)
    distances = np.sum(np.abs(normalized - np.expand_dims(overall, 1)), 0) / 2.0
    mean = distances * per_class / per_class.sum()
    return np.sum(mean), np.amax(distances)


def test_fairness_equals_the_peer_on_a_factorial_table():
    # Test rows: one per combination, so each intervened combination is one known row;
    # every test row serves once as the factor vector (num_test_points_per_class=None).
    sizes = (2, 3, 3)
    rng = np.random.default_rng(6)
    train_s, test_s = grid(sizes, 12), grid(sizes, 1)
    mix = np.array([[1.0, 0.4, 0.0], [0.0, 1.0, 0.7], [0.3, 0.0, 1.0]])
    train_z = train_s @ mix + 0.6 * rng.standard_normal(train_s.shape)
    test_z = test_s @ mix + 0.6 * rng.standard_normal(test_s.shape)
    seed = 2
    result = fairness(
        latents=train_z,
        sources=train_s,
        test_latents=test_z,
        test_sources=test_s,
        num_test_points_per_class=None,
        seed=seed,
    )
    row_of = {tuple(row): n for n, row in enumerate(test_s)}
    mean_fairness = np.zeros((3, 3))
    max_fairness = np.zeros((3, 3))
    for i in range(3):
        model = GradientBoostingClassifier(random_state=seed).fit(train_z, train_s[:, i])
        for j in range(3):
            if i == j:
                continue
            counts = np.zeros((sizes[i], sizes[j]), dtype=np.int64)
            for c in range(sizes[j]):
                intervened = test_s.copy()
                intervened[:, j] = c
                rows = [row_of[tuple(row)] for row in intervened]
                counts[:, c] = np.bincount(model.predict(test_z[rows]), minlength=sizes[i])
            mean_fairness[i, j], max_fairness[i, j] = peer_inter_group_fairness(counts)
    expected = {
        **scores_dict(mean_fairness, "mean_fairness"),
        **scores_dict(max_fairness, "max_fairness"),
    }
    assert result.keys() == expected.keys()
    for key, value in expected.items():
        assert result[key] == pytest.approx(value, abs=1e-6), key  # the peer's float32
    assert result["mean_fairness:mean_pred:mean_sens"] > 0.01  # mixed code: some unfairness


def test_fairness_is_finite_on_a_factorial_table_and_warns_without_one():
    rng = np.random.default_rng(7)
    sources = grid((3, 4, 2), 20)
    latents = sources + 0.3 * rng.standard_normal(sources.shape)
    scores = fairness(latents=latents, sources=sources)
    assert len(scores) == 2 * (6 + 4 * 3 + 8) and np.isfinite(list(scores.values())).all()
    assert 0.0 <= scores["mean_fairness:mean_pred:mean_sens"] <= 0.2
    partial = np.ones(len(sources), dtype=bool)
    partial[(sources[:, 0] == 2) & (sources[:, 1] == 3)] = False  # combinations missing
    with pytest.warns(infomec.InfoMECWarning, match="no test row"):
        scores = fairness(latents=latents[partial], sources=sources[partial])
    assert np.isfinite(list(scores.values())).all()


def test_combination_index_draws_uniformly_among_matching_rows():
    codes = np.array([[0, 0, 0, 1], [1, 1, 1, 0]])
    index = CombinationIndex(codes)
    rows = index.lookup(np.tile([[0, 1]], (3000, 1)), np.random.default_rng(0))
    assert set(rows) == {0, 1, 2} and np.bincount(rows).min() > 900
    assert index.lookup(np.array([[1, 1]]), np.random.default_rng(0)).tolist() == [-1]


# ------------------------------------------------------------------ unified_scores


def peer_precision(matrix, th):
    """visualize_scores.precision with its recursive breadth-first search."""
    tmp = matrix.copy()
    tmp[tmp < th] = 0
    factors, codes = np.zeros(tmp.shape[0]), np.zeros(tmp.shape[1])

    def bfs(to_visit, size):
        node, flag = to_visit.pop()
        if flag == 0:
            factors[node] = 1
            for i in range(tmp.shape[1]):
                if tmp[node, i] != 0 and codes[i] == 0:
                    to_visit.append((i, 1))
                    size = bfs(to_visit, size + 1)
        else:
            codes[node] = 1
            for i in range(tmp.shape[0]):
                if tmp[i, node] != 0 and factors[i] == 0:
                    to_visit.append((i, 0))
                    size = bfs(to_visit, size + 1)
        return size

    count = 0
    for i in range(tmp.shape[0]):
        if factors[i] == 0 and bfs([(i, 0)], 1) > 1:
            count += 1
    return count


def peer_aggregations(m, entropy):
    """unified_scores' AGGREGATION_FN and pr_curves_values on an (codes x factors) matrix."""
    out = {}
    thresholds = np.sort(m.flatten())[::-1]
    precisions = [peer_precision(m, t) for t in thresholds]
    area = sum(
        (precisions[i] + precisions[i + 1]) * (thresholds[i] - thresholds[i + 1]) * 0.5
        for i in range(len(precisions) - 1)
    )
    out["area_precision"], out["max_precision"] = area, max(precisions)
    per_code = 1.0 - scipy.stats.entropy(m.T + 1e-11, base=m.shape[1])
    per_factor = 1.0 - scipy.stats.entropy(m + 1e-11, base=m.shape[0])
    out["dci_disentanglement"] = np.sum(per_code * m.sum(axis=1) / m.sum())
    out["dci_completeness"] = np.sum(per_factor * m.sum(axis=0) / m.sum())
    out["dci"] = out["dci_disentanglement"]
    out.update({f"dci_disentanglement.code_{i}": v for i, v in enumerate(per_code)})
    out.update({f"dci_completeness.code_{i}": v for i, v in enumerate(per_factor)})
    ordered = np.sort(m, axis=0)[::-1]
    mig = (ordered[0] - ordered[1]) / entropy
    out["mig"] = np.mean(mig)
    out.update({f"mig.factor_{i}": v for i, v in enumerate(mig)})
    gaps = np.sort(m, axis=0)[-1] - np.sort(m, axis=0)[-2]
    out["sap"] = np.mean(gaps)
    out.update({f"sap.factor_{i}": v for i, v in enumerate(gaps)})
    squared = np.square(m)
    top = np.max(squared, axis=1)
    modularity = 1.0 - (np.sum(squared, axis=1) - top) / (top * (squared.shape[1] - 1.0))
    modularity[top == 0.0] = 0.0
    out["modularity"] = np.mean(modularity)
    out.update({f"modularity.code_{i}": v for i, v in enumerate(modularity)})
    return out


def dlib_bins(values, n_bins=20):
    return np.column_stack([np.digitize(c, np.histogram(c, n_bins)[1][:-1]) for c in values.T])


def test_unified_scores_equal_the_peer_on_the_same_rows():
    rng = np.random.default_rng(8)
    sources = np.column_stack([rng.integers(0, k, 600) for k in (2, 3, 4)])
    latents = np.column_stack(
        [
            sources[:, 0] + 0.3 * rng.standard_normal(600),
            sources[:, 1] + sources[:, 2] + 0.5 * rng.standard_normal(600),
            rng.standard_normal(600),
            sources[:, 2] + 0.2 * rng.standard_normal(600),
        ]
    )
    train, test = slice(0, 400), slice(400, 600)
    result = unified_scores(
        latents=latents[train],
        sources=sources[train],
        test_latents=latents[test],
        test_sources=sources[test],
        seed=5,
    )
    codes = dlib_bins(latents[train])
    mi = np.array(
        [[mutual_info_score(sources[train, k], codes[:, j]) for k in range(3)] for j in range(4)]
    )
    entropy = np.array([mutual_info_score(s, s) for s in sources[train].T])
    importance = np.column_stack(
        [
            GradientBoostingClassifier(random_state=5)
            .fit(latents[train], sources[train, k])
            .feature_importances_
            for k in range(3)
        ]
    )
    svm = infomec.metrics.sap.sap(
        latents=latents[train],
        sources=sources[train],
        test_latents=latents[test],
        test_sources=sources[test],
    )["matrix"]
    matrices = {
        "mutual_information_matrix": mi,
        "importance_gbt_matrix": importance,
        "accuracy_svm_matrix": svm,
    }
    for name, matrix in matrices.items():
        for key, value in peer_aggregations(matrix, entropy).items():
            assert result[f"{name}.{key}"] == pytest.approx(value, abs=1e-9), (name, key)
    assert len(result) == 3 * len(peer_aggregations(mi, entropy))


def test_unified_scores_reproduce_disentanglement_lib_tests():
    # unified_scores_test, smaller (3 factors of 10 values, 1200 + 600 rows).
    factors = identity_observations(1800, 3, seed=3)
    train, test = slice(0, 1200), slice(1200, 1800)

    def scores(latents):
        return unified_scores(
            latents=latents[train],
            sources=factors[train],
            test_latents=latents[test],
            test_sources=factors[test],
        )

    same = scores(factors)
    assert 0.9 <= same["mutual_information_matrix.mig"] <= 1.0
    assert 0.9 <= same["mutual_information_matrix.modularity"] <= 1.0
    assert 0.9 <= same["importance_gbt_matrix.dci_disentanglement"] <= 1.0
    doubled = scores(np.hstack([factors, factors]))
    assert 0.0 <= doubled["mutual_information_matrix.mig"] <= 0.2
    assert 0.9 <= doubled["mutual_information_matrix.modularity"] <= 1.0
    assert 0.9 <= doubled["importance_gbt_matrix.dci_disentanglement"] <= 1.0
    assert 0.0 <= doubled["accuracy_svm_matrix.sap"] <= 0.2


def test_unified_scores_finite_on_a_factorial_table_and_precision_curve():
    rng = np.random.default_rng(9)
    sources = grid((2, 3, 4), 20)
    latents = np.column_stack([sources + 0.2 * rng.standard_normal(sources.shape), np.zeros(480)])
    result = quiet(unified_scores, latents=latents, sources=sources)
    assert np.isfinite(list(result.values())).all()
    matrix = rng.random((5, 3)) * (rng.random((5, 3)) < 0.5)
    thresholds, counts = precision_curve(matrix)
    assert counts.tolist() == [peer_precision(matrix, t) for t in thresholds]
    single = aggregate(np.array([[0.5], [0.2]]), [0.0])  # one source of entropy 0
    assert np.isfinite(list(single.values())).all() and single["mig"] == 0.0


# --------------------------------------------------------- strong_downstream_task


def test_strong_downstream_task_on_noise_and_on_a_perfect_code():
    # strong_downstream_task_test: noise representation, GBT, 2 experiments -> <= 0.3.
    rng = np.random.default_rng(10)
    sources = grid((5, 5, 5), 5)
    noise = rng.standard_normal((625, 4))
    scores = quiet(
        strong_downstream_task, latents=noise, sources=sources, num_train=(400,), n_experiment=2
    )
    assert 0.0 <= scores["400:mean_strong_test_accuracy"] <= 0.3
    perfect = sources + 0.05 * rng.standard_normal(sources.shape)
    scores = quiet(
        strong_downstream_task, latents=perfect, sources=sources, num_train=(400,), n_experiment=2
    )
    assert scores["400:mean_strong_test_accuracy"] >= 0.95
    assert abs(scores["400:strong_generalization_gap"]) <= 0.05


def test_strong_downstream_plain_part_is_the_downstream_task():
    rng = np.random.default_rng(11)
    sources = grid((3, 3), 40)
    latents = sources + 0.8 * rng.standard_normal(sources.shape)
    kwargs = {"latents": latents, "sources": sources, "num_train": (100,), "seed": 4}
    strong = quiet(strong_downstream_task, n_experiment=1, **kwargs)
    plain = quiet(downstream_task, predictor="boosted_trees", **kwargs)
    assert strong["100:mean_test_accuracy"] == plain["100:mean_test_accuracy"]
    assert strong["100:mean_train_accuracy"] == plain["100:mean_train_accuracy"]


# ------------------------------------------------------------------------ registry


def test_every_family_is_in_all_or_documented_as_left_out():
    from pathlib import Path

    from infomec.metrics import REGISTRY
    from infomec.scoring import resolve_metrics

    every = set(resolve_metrics("all"))
    left_out = {name for name, family in REGISTRY.items() if not family.in_all}
    assert every == set(REGISTRY) - left_out
    assert left_out == {"dci_es", "downstream_task", "fairness", "strong_downstream_task"}
    # The family table lives in the metrics page of the docs (the README links to it).
    readme = Path(__file__).resolve().parents[1].joinpath("docs", "metrics.md").read_text()
    for name in set(REGISTRY) - {"infomec"}:  # InfoMEC has its own section
        assert f"| `{name}`" in readme, name
    for name in left_out:  # each left-out family's row says so, with its cost
        row = readme[readme.index(f"| `{name}`") :].split("\n", 1)[0]
        assert "Not in `all`" in row, name


# ------------------------------------------------------------------ DCI-ES probes

from infomec.metrics.dci_es import dci_es, explicitness_from_curve, mlp_parameter_count  # noqa: E402


def official_explicitness(x, y, baseline):
    """metrics/explitcitness.py of the official code: one curve, running minimum,
    area above the curve's minimum, normaliser (max_x - min_x) * baseline."""
    y = np.minimum.accumulate(np.asarray(y, dtype=np.float64))
    x = np.asarray(x, dtype=np.float64)
    dy = 0.5 * (y[:-1] - y.min()) + 0.5 * (y[1:] - y.min())
    return 1.0 - np.sum(2 * dy * np.diff(x) / ((x.max() - x.min()) * baseline))


def test_linear_fall_scores_its_minimum_over_the_baseline():
    # The official E of a linear fall from b to m is m / b: 0 only when m = 0.
    x = np.linspace(1, 32, 12)
    for minimum in (0.0, 0.1, 0.3):
        y = np.linspace(0.5, minimum, 12)
        assert official_explicitness(x, y, 0.5) == pytest.approx(minimum / 0.5, abs=1e-12)
        assert explicitness_from_curve(x, y, 0.5) == pytest.approx(minimum / 0.5, abs=1e-12)


def _probe_data(seed=14, n=600):
    rng = np.random.default_rng(seed)
    sources = rng.integers(0, 3, (n, 2))
    latents = np.column_stack([sources[:, 0] + 0.4 * rng.standard_normal(n), sources[:, 1]])
    latents = latents + np.column_stack([np.zeros(n), 0.8 * rng.standard_normal(n)])
    return latents, sources


def test_dci_es_rff_probes_equal_pipelines_fitted_here_on_a_log_axis():
    from sklearn.kernel_approximation import RBFSampler
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline

    latents, sources = _probe_data()
    ladder = (16, 64, 256)
    result = dci_es(
        latents=latents[:400], sources=sources[:400],
        test_latents=latents[400:], test_sources=sources[400:],
        probe="rff", ladder=ladder, regress=[1], seed=3,
    )  # fmt: skip
    gamma = 2 * np.pi**2 * 0.08**2  # official sigma 0.08: exp(-2 pi^2 sigma^2 |dz|^2)
    for k, regressed in ((0, False), (1, True)):
        losses = []
        for size in ladder:
            linear = Ridge() if regressed else LogisticRegression(max_iter=1000)
            model = make_pipeline(
                RBFSampler(gamma=gamma, n_components=size, random_state=3), linear
            )
            model.fit(latents[:400], sources[:400, k])
            losses.append(1 - model.score(latents[400:], sources[400:, k]))  # R^2 or accuracy
        np.testing.assert_allclose(result["test_losses"][k], losses, atol=1e-9)
        baseline = 1.0 if regressed else 2 / 3
        expected = official_explicitness(np.log(ladder), losses, baseline)
        assert result["per_source"][k] == pytest.approx(expected, abs=1e-9)


def test_dci_es_mlp_capacity_is_the_official_parameter_count():
    from sklearn.neural_network import MLPClassifier

    latents, sources = _probe_data(15, 450)
    ladder = (0, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = dci_es(
            latents=latents[:300], sources=sources[:300],
            test_latents=latents[300:], test_sources=sources[300:],
            probe="mlp", ladder=ladder, seed=1,
        )  # fmt: skip
        losses = []
        for width in ladder:
            layers = (width, width) if width else ()
            model = MLPClassifier(hidden_layer_sizes=layers, alpha=0.0, random_state=1)
            model.fit(latents[:300], sources[:300, 0])
            losses.append(1 - model.score(latents[300:], sources[300:, 0]))
    np.testing.assert_allclose(result["test_losses"][0], losses, atol=1e-12)
    # 2 inputs, 3 classes: 2 * 3 + 3 = 9 parameters; width 6: 3*6 + 7*6 + 7*3 = 81.
    assert [mlp_parameter_count(2, w, 3) for w in ladder] == [9, 81]
    expected = official_explicitness(np.log([9, 81]), losses, 2 / 3)
    assert result["per_source"][0] == pytest.approx(expected, abs=1e-12)


def test_dci_es_seeds_give_mean_and_spread_of_single_runs():
    latents, sources = _probe_data(16, 450)
    arrays = {
        "latents": latents[:300], "sources": sources[:300],
        "test_latents": latents[300:], "test_sources": sources[300:],
        "depths": (1, 2, 4), "n_estimators": 10,
    }  # fmt: skip
    several = dci_es(seeds=(0, 7), **arrays)
    single = [dci_es(seed=s, **arrays)["explicitness"] for s in (0, 7)]
    np.testing.assert_allclose(several["per_seed"], single, atol=1e-15)
    assert several["explicitness"] == pytest.approx(np.mean(single), abs=1e-15)
    assert several["explicitness_std"] == pytest.approx(np.std(single), abs=1e-15)
    assert several["test_losses"].shape == (2, 2, 3)
    assert dci_es(seeds=2, **arrays)["per_seed"].shape == (2,)
    bad_options = (
        {"seeds": 0}, {"seeds": ()}, {"seeds": (-1,)}, {"probe": "svm"},
        {"regress": "some"}, {"regress": [5]}, {"probe": "rff", "ladder": (8,)},
    )  # fmt: skip
    for bad in bad_options:
        with pytest.raises(ValueError):
            dci_es(**{**arrays, **bad})


def test_strong_downstream_task_equals_the_peer_procedure_under_the_same_draws():
    # disentanglement_lib's _compute_loss_intervene and intervene(), with each draw taken
    # from the same generator in infomec's order (per target and experiment: the shifted
    # source, its training value, the test values, then one uniform per looked-up point),
    # and each shifted point looked up here by a dictionary of the table's combinations.
    rng = np.random.default_rng(17)
    train_s, test_s = grid((3, 2, 3), 6), grid((3, 2, 3), 2)
    train_z = train_s + 0.4 * rng.standard_normal(train_s.shape)
    test_z = test_s + 0.4 * rng.standard_normal(test_s.shape)
    seed, n_experiment = 3, 2
    result = strong_downstream_task(
        latents=train_z, sources=train_s, test_latents=test_z, test_sources=test_s,
        num_train=(len(train_s),), n_experiment=n_experiment, seed=seed,
    )  # fmt: skip

    def rows_by_combination(table):
        rows = {}
        for n, row in enumerate(table):
            rows.setdefault(tuple(row), []).append(n)
        return rows

    def look_up(rows, queries, draws):
        uniforms = draws.random(len(queries))
        found = []
        for query, uniform in zip(queries, uniforms, strict=True):
            matching = rows[tuple(query)]
            found.append(matching[int(uniform * len(matching))])
        return np.array(found)

    train_rows, test_rows = rows_by_combination(train_s), rows_by_combination(test_s)
    draws = np.random.default_rng(seed)
    sizes, accuracies = (3, 2, 3), []
    for i in range(3):
        for _ in range(n_experiment):
            others = [j for j in range(3) if j != i]
            j = others[draws.integers(len(others))]
            value = int(draws.integers(sizes[j]))
            shifted_train, shifted_test = train_s.copy(), test_s.copy()
            shifted_train[:, j] = value
            remaining = np.delete(np.arange(sizes[j]), value)
            shifted_test[:, j] = remaining[draws.integers(remaining.size, size=len(test_s))]
            x_train = train_z[look_up(train_rows, shifted_train, draws)]
            x_test = test_z[look_up(test_rows, shifted_test, draws)]
            model = GradientBoostingClassifier(random_state=seed).fit(x_train, shifted_train[:, i])
            accuracies.append(
                (
                    np.mean(model.predict(x_train) == shifted_train[:, i]),
                    np.mean(model.predict(x_test) == shifted_test[:, i]),
                )
            )
    n = len(train_s)
    expected_test = np.mean([a[1] for a in accuracies])
    assert result[f"{n}:mean_strong_train_accuracy"] == pytest.approx(
        np.mean([a[0] for a in accuracies]), abs=1e-15
    )
    assert result[f"{n}:mean_strong_test_accuracy"] == pytest.approx(expected_test, abs=1e-15)
    assert result[f"{n}:strong_generalization_gap"] == pytest.approx(
        1 - expected_test / result[f"{n}:mean_test_accuracy"], abs=1e-15
    )
