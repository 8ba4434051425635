"""Resampling intervals: coverage of the estimate, determinism, schemes, held-out rows."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import infomec
from infomec.bootstrap import resolve_method
from infomec.metrics import REGISTRY, MetricFamily
from infomec.result import per_source_key

N_BOOT = 20
# One thread: at a few hundred rows, thread start-up costs more than it saves.
FAST = {"n_jobs": 1}


@pytest.fixture
def continuous(rng):
    sources = rng.integers(0, 4, size=(500, 3))
    latents = np.hstack(
        [sources / 3 + 0.1 * rng.standard_normal(sources.shape), 1e-4 * rng.random((500, 1))]
    )
    return latents, sources


@pytest.fixture
def discrete(rng):
    sources = rng.integers(0, 4, size=(500, 2))
    latents = (sources + rng.integers(0, 2, size=sources.shape)).astype(np.int64)
    return latents, sources


@pytest.mark.parametrize("kind", ["continuous", "discrete"])
def test_every_interval_contains_its_estimate(kind, request):
    latents, sources = request.getfixturevalue(kind)
    result = infomec.score(latents=latents, sources=sources, **FAST)
    intervals = infomec.bootstrap(latents=latents, sources=sources, n_boot=N_BOOT, **FAST)
    expected = set(result.scalars()) | {per_source_key(i) for i in range(sources.shape[1])}
    assert set(intervals) == expected
    point = {**result.scalars()}
    for i, value in enumerate(result["infomec"]["infoe_per_source"]):
        point[per_source_key(i)] = value
    for key, (low, high) in intervals.items():
        assert 0.0 <= low <= point[key] <= high <= 1.0, key
    # Sampling noise is real: InfoM's interval is not a single point on noisy data.
    assert intervals["infomec.infom"][1] > intervals["infomec.infom"][0]


def test_same_seed_same_intervals_other_seed_other_intervals(continuous):
    latents, sources = continuous
    first = infomec.bootstrap(latents=latents, sources=sources, n_boot=8, seed=3, **FAST)
    again = infomec.bootstrap(latents=latents, sources=sources, n_boot=8, seed=3, **FAST)
    other = infomec.bootstrap(latents=latents, sources=sources, n_boot=8, seed=4, **FAST)
    assert first == again
    assert first != other


def test_auto_picks_half_samples_for_continuous_latents():
    assert resolve_method("auto", np.zeros((3, 2))) == "half"
    assert resolve_method("auto", np.zeros((3, 2), dtype=int)) == "bootstrap"
    assert resolve_method("auto", np.zeros((3, 2)), discrete_latents=True) == "bootstrap"
    assert resolve_method("bootstrap", np.zeros((3, 2))) == "bootstrap"


def test_half_samples_avoid_the_ksg_bias_of_repeated_rows(rng):
    # With repeated rows KSG finds information in independent pairs, which drags the
    # replicates far below a near-perfect InfoM; half-samples have no repeated rows.
    sources = rng.integers(0, 5, size=(1500, 3))
    latents = sources / 4 + 0.03 * rng.standard_normal(sources.shape)
    point = infomec.score(latents=latents, sources=sources, **FAST).infom
    low, high = infomec.bootstrap(latents=latents, sources=sources, n_boot=10, **FAST)[
        "infomec.infom"
    ]
    assert point > 0.95
    assert high - low < 0.05


def test_warnings_of_the_resamples_are_reported_once_each(continuous):
    latents, sources = continuous
    sources = np.column_stack([sources, np.zeros(len(sources), dtype=int)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        infomec.bootstrap(latents=latents, sources=sources, n_boot=5, **FAST)
    resampled = [str(w.message) for w in caught if "resamples" in str(w.message)]
    assert resampled
    assert len(resampled) == len(set(resampled))
    assert all(message.startswith("in 5 of 5 resamples") for message in resampled)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"n_boot": 1}, "n_boot"),
        ({"confidence": 1.5}, "confidence"),
        ({"confidence": "high"}, "confidence"),
        ({"method": "jackknife"}, "method"),
        ({"seed": -1}, "seed"),
        ({"test_latents": np.zeros((4, 4))}, "together"),
    ],
)
def test_bad_options_are_one_line_value_errors(continuous, options, message):
    latents, sources = continuous
    with pytest.raises(ValueError, match=message) as error:
        infomec.bootstrap(latents=latents, sources=sources, **options)
    assert "\n" not in str(error.value)


def test_misaligned_rows_are_refused(continuous):
    latents, sources = continuous
    with pytest.raises(ValueError, match="rows"):
        infomec.bootstrap(latents=latents, sources=sources[:-1], n_boot=2)


def test_held_out_families_resample_inside_the_split(monkeypatch, rng):
    # A stand-in family that records which rows it trained and tested on: copies of a
    # training row must never show up among the test rows.
    seen = []

    def compute(sample, settings, *, seed, n_jobs, held_out):
        train = set(held_out.train.latents[:, 0].tolist())
        test = set(held_out.test.latents[:, 0].tolist())
        seen.append((held_out.train.n_samples, held_out.test.n_samples, train & test))
        return {"score": 0.5}

    monkeypatch.setitem(REGISTRY, "probe", MetricFamily(compute, needs_held_out=True))
    # Distinct values name the rows (not integers: a row identifier is refused).
    latents = np.arange(300, dtype=float)[:, None] + 0.25
    sources = rng.integers(0, 3, size=(300, 1))
    intervals = infomec.bootstrap(
        latents=latents,
        sources=sources,
        metrics="infomec,probe",
        n_boot=4,
        method="bootstrap",
        **FAST,
    )
    assert intervals["probe.score"] == (0.5, 0.5)
    assert len(seen) == 5  # the estimate, then one call per resample
    assert all(overlap == set() for _, _, overlap in seen)
    assert all((train, test) == (200, 100) for train, test, _ in seen)
