"""Bounded cost for every shape: each family's work and memory are estimated from the
input's shape before it runs, and an input over the budget is refused in one line."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

import cli
import infomec
from infomec import cost
from infomec.metrics import REGISTRY
from infomec.probes import linear_probes
from infomec.probes.linear_probes import _Problem, _warm_start, _Work, discriminant_cost


def test_every_family_has_an_estimate():
    assert set(REGISTRY) <= set(cost.ESTIMATES)


def _shape(n, d, n_sources=3, classes=4, discrete=False):
    return cost.Shape(n, d, n_sources, n_sources * classes, classes, discrete)


@pytest.mark.parametrize("family", sorted(cost.ESTIMATES))
def test_estimates_grow_with_every_dimension(family):
    base = cost.estimate(family, _shape(2000, 50))
    assert base.work > 0 and base.memory > 0
    wider = cost.estimate(family, _shape(2000, 500))
    assert wider.work > base.work and wider.memory > base.memory
    assert cost.estimate(family, _shape(20000, 50)).memory > base.memory


def test_ordinary_shapes_are_within_the_default_budget():
    # The demo, the benchmark's 50,000 rows, a million rows of a few latents.
    for n, d in [(5000, 6), (50_000, 10), (1_000_000, 10), (200, 2000)]:
        shape = _shape(n, d, n_sources=5, classes=10)
        for family in REGISTRY:
            if REGISTRY[family].in_all:
                assert cost.estimate(family, shape).work < cost.DEFAULT_MAX_WORK, (family, n, d)


def test_few_rows_and_a_million_latents_are_refused_or_cheap():
    shape = _shape(200, 1_000_000)
    refused = [
        family
        for family in REGISTRY
        if cost.estimate(family, shape).work > cost.DEFAULT_MAX_WORK
        or cost.estimate(family, shape).memory > 64e9
    ]
    # The d^2 and (points x d) families cannot run on any ordinary machine.
    assert {"unsupervised", "beta_vae", "z_max_var", "dci"} <= set(refused)
    assert "mig" not in refused  # one sort and one count per latent: seconds


@pytest.fixture(scope="module")
def wide():
    rng = np.random.default_rng(0)
    latents = rng.standard_normal((200, 200_000), dtype=np.float32)
    sources = rng.integers(0, 4, size=(200, 3))
    return latents, sources


def test_metrics_all_on_a_wide_input_is_refused_in_one_line_at_once(wide):
    latents, sources = wide
    started = time.perf_counter()
    with pytest.raises(ValueError) as caught:
        infomec.score(latents=latents, sources=sources, metrics="all", progress=False)
    elapsed = time.perf_counter() - started
    message = str(caught.value)
    assert "\n" not in message
    assert "200 rows x 200000 latents x 3 sources" in message
    assert "fewer latents" in message and message.split(":")[0] in REGISTRY
    assert elapsed < 60, elapsed  # before any family runs (seconds of validation only)


def test_max_work_bounds_and_unbounds(rng):
    sources = rng.integers(0, 3, size=(300, 2))
    latents = sources + 0.1 * rng.standard_normal(sources.shape)
    with pytest.raises(cost.BudgetError, match=r"^mig: about .* over the work budget of 1\.0e\+03"):
        infomec.score(latents=latents, sources=sources, metrics="mig", max_work=1e3)
    loose = infomec.score(latents=latents, sources=sources, metrics="mig", max_work=math.inf)
    default = infomec.score(latents=latents, sources=sources, metrics="mig")
    assert loose["mig"]["score"] == default["mig"]["score"]
    for bad in (0, -1.0, float("nan"), "1e9", True):
        with pytest.raises(ValueError, match="max_work must be a positive number"):
            infomec.score(latents=latents, sources=sources, max_work=bad)


def test_memory_is_checked_before_allocating(rng, monkeypatch):
    monkeypatch.setattr(cost, "available_memory", lambda: 1e3)
    sources = rng.integers(0, 3, size=(300, 2))
    latents = sources + 0.1 * rng.standard_normal(sources.shape)
    with pytest.raises(cost.BudgetError, match=r"^infomec: needs about .* of memory for 300 rows"):
        infomec.score(latents=latents, sources=sources, max_work=math.inf)


def test_check_memory_names_the_size_and_the_cause():
    with pytest.raises(cost.BudgetError, match=r"needs about 8000\.0 TB .* for 1000000 latents"):
        cost.check_memory(8e15, "a covariance matrix", "1000000 latents")
    cost.check_memory(10, "a few bytes", "nothing")


# ------------------------------------------------------------------ the LDA warm start


def _problem(n, p, rng):
    features = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))])
    labels = rng.integers(0, 3, size=n)
    weights = np.full(n, 1.0 / n)
    return _Problem(features, labels, weights, 2, np.zeros(n), None, None)


def test_the_discriminant_start_is_charged_to_the_work_budget(rng):
    problem = _problem(300, 6, rng)
    budget = _Work(1e12, 1.0, 1.0, 1.0)
    _warm_start(problem, 3, budget)
    assert budget.total >= discriminant_cost(300, 6)


def test_a_discriminant_start_over_half_the_budget_is_skipped(rng, monkeypatch):
    called = []
    monkeypatch.setattr(linear_probes, "_discriminant_start", lambda *a: called.append(1) or None)
    problem = _problem(300, 60, rng)
    budget = _Work(2 * discriminant_cost(300, 60) * 0.99, 1.0, 1.0, 1.0)
    start = _warm_start(problem, 3, budget)
    assert not called and budget.total == 0 and not start.any()


def test_a_wide_probe_never_builds_a_features_squared_matrix(rng):
    # 200 rows, 20,000 features: the scatter matrix would be 3.2 GB and 10^12 work.
    n, p = 200, 20_000
    features = np.column_stack([np.ones(n), rng.standard_normal((n, p))])
    labels = np.arange(n) % 3
    started = time.perf_counter()
    fit = linear_probes.fit_multinomial_logistic(features, labels, 3, work_budget=3e10)
    assert time.perf_counter() - started < 60
    assert np.isfinite(fit.log_loss)


# ------------------------------------------------------------------ the command line


@pytest.fixture
def files(tmp_path, rng):
    sources = rng.integers(0, 3, size=(300, 2))
    latents = sources + 0.1 * rng.standard_normal(sources.shape)
    np.savez(tmp_path / "sources.npz", sources=sources)
    np.savez(tmp_path / "latents.npz", latents=latents)
    return tmp_path


def _run(argv, capsys):
    status = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("command", ["score", "report"])
def test_cli_refuses_over_budget_in_one_line(files, capsys, command):
    argv = [command, files / "latents.npz", files / "sources.npz", "--max-work", "1e4"]
    if command == "report":
        argv += ["--out", files / "out"]
    status, out, err = _run(argv, capsys)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("infomec: error: ")
    assert "infomec: about" in err and "--max-work" in err


@pytest.mark.parametrize("value", ["0", "-3", "inf", "nan", "lots"])
def test_cli_max_work_must_be_a_positive_finite_number(files, capsys, value):
    argv = ["score", files / "latents.npz", files / "sources.npz", "--max-work", value]
    status, _, err = _run(argv, capsys)
    assert status == 2 and err.count("\n") == 1 and "--max-work" in err


def test_cli_maps_a_memory_error_to_one_line(files, capsys, monkeypatch):
    def out_of_memory(**kwargs):
        raise MemoryError("Unable to allocate 74.5 GiB for an array")

    monkeypatch.setattr(infomec, "score", out_of_memory)
    status, out, err = _run(["score", files / "latents.npz", files / "sources.npz"], capsys)
    assert status == 2 and out == ""
    assert err.startswith("infomec: error: out of memory (Unable to allocate 74.5 GiB")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_blocks_between_stop_checks_change_no_value(rng, monkeypatch):
    from infomec.estimators import contingency

    sources = rng.integers(0, 4, size=(600, 3))
    latents = np.hstack([sources + 0.3 * rng.standard_normal(sources.shape),
                         rng.standard_normal((600, 3))])  # fmt: skip
    families = "infomec,mig,sap,irs,beta_vae,factor_vae,unsupervised"
    whole = infomec.score(latents=latents, sources=sources, metrics=families, progress=False)
    monkeypatch.setattr(contingency, "CHUNK_CELLS", 1000)  # a block per latent or point
    blocked = infomec.score(latents=latents, sources=sources, metrics=families, progress=False)
    assert blocked.scalars() == whole.scalars()
    np.testing.assert_array_equal(blocked.nmi, whole.nmi)


def test_a_report_whose_heatmap_cannot_be_drawn_is_refused_before_scoring(
    tmp_path, capsys, monkeypatch
):
    rng = np.random.default_rng(1)
    np.save(tmp_path / "z.npy", rng.standard_normal((60, 1000)))
    np.save(tmp_path / "s.npy", rng.integers(0, 2, size=(60, 2)))

    def no_scoring(**kwargs):
        raise AssertionError("scored before the figure check")

    monkeypatch.setattr("infomec.scoring.score", no_scoring)
    argv = ["report", tmp_path / "z.npy", tmp_path / "s.npy", "--out", tmp_path / "out"]
    status, out, err = _run(argv, capsys)
    assert status == 2 and out == "" and err.count("\n") == 1
    assert "report: an NMI heatmap of 1000 latents would be 67,500 pixels across" in err
    assert not (tmp_path / "out").exists()


def test_a_refusal_names_the_dimension_that_drives_the_cost():
    assert cost._driver("dci_es", _shape(1_000_000, 10), "work") == "rows"
    assert cost._driver("unsupervised", _shape(200, 1_000_000), "work") == "latents"
    assert cost._driver("beta_vae", _shape(200, 1_000_000), "memory") == "latents"
