"""infomec.Collector: batches in, one score out; the seeded reservoir."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import infomec
from infomec.inputs.frameworks import to_numpy
from tests.conftest import disentangled_code, factorial_sample


@pytest.fixture
def data(rng):
    sources = factorial_sample(rng, 700, sizes=(3, 4))
    latents = np.hstack(
        [disentangled_code(rng, sources, noise=0.2), 1e-3 * rng.standard_normal((700, 1))]
    )
    return latents, sources


def _batches(latents, sources, edges=(0, 64, 128, 300, 301, 650, 700)):
    for start, stop in zip(edges[:-1], edges[1:], strict=True):
        yield latents[start:stop], sources[start:stop]


def _without_time(result: infomec.ScoreResult) -> dict:
    output = result.to_dict()
    output.pop("elapsed_s")
    return output


def test_equals_one_call_on_the_concatenation(data):
    latents, sources = data
    collector = infomec.Collector()
    for batch_latents, batch_sources in _batches(latents, sources):
        collector.update(latents=batch_latents, sources=batch_sources)
    assert (collector.n_seen, collector.n_batches, len(collector)) == (700, 6, 700)
    np.testing.assert_array_equal(collector.latents, latents)
    np.testing.assert_array_equal(collector.sources, sources)
    kwargs = dict(metrics=["infomec", "mig"], seed=3, k=5)
    expected = infomec.score(latents=latents, sources=sources, **kwargs)
    assert _without_time(collector.score(**kwargs)) == _without_time(expected)


def test_one_dimensional_batches_are_columns(data):
    latents, sources = data
    collector = infomec.Collector()
    for batch_latents, batch_sources in _batches(latents, sources):
        collector.update(latents=batch_latents[:, 0], sources=batch_sources[:, 0])
    assert collector.latents.shape == (700, 1)
    expected = infomec.score(latents=latents[:, 0], sources=sources[:, 0])
    assert _without_time(collector.score()) == _without_time(expected)


def test_batches_are_copied(data):
    latents, sources = data
    buffer = latents[:100].copy()
    collector = infomec.Collector()
    collector.update(latents=buffer, sources=sources[:100])
    buffer[:] = 0.0  # an evaluation loop reusing its output buffer
    np.testing.assert_array_equal(collector.latents, latents[:100])


def test_torch_and_pandas_batches(data):
    torch = pytest.importorskip("torch")
    latents, sources = data
    collector = infomec.Collector()
    for batch_latents, batch_sources in _batches(latents, sources):
        frame = pd.DataFrame(batch_sources, columns=["shape", "size"])
        collector.update(latents=torch.tensor(batch_latents, requires_grad=True), sources=frame)
    result = collector.score()
    assert result.source_names == ["shape", "size"]
    expected = infomec.score(latents=latents, sources=sources, source_names=["shape", "size"])
    assert _without_time(result) == _without_time(expected)
    renamed = collector.score(source_names=["a", "b"])
    assert renamed.source_names == ["a", "b"]


def test_report_writes_the_folder(tmp_path, data):
    latents, sources = data
    collector = infomec.Collector(latent_names=["x", "y", "dead"])
    for batch_latents, batch_sources in _batches(latents, sources):
        collector.update(latents=batch_latents, sources=batch_sources)
    result, intervals, written = collector.report(tmp_path / "out", n_boot=2)
    assert intervals is not None
    saved = json.loads(written["scores"].read_text())
    assert saved["latent_names"] == ["x", "y", "dead"]
    assert (
        saved["infomec"]["infom"]
        == result.infom
        == infomec.score(latents=latents, sources=sources).infom
    )
    assert "collector" not in saved["settings"]


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ((np.zeros((5, 2)), np.zeros((5, 2), int)), "batch 1: latents have 2 columns but earlier"),
        ((np.zeros((5, 3), int), np.zeros((5, 2), int)), r"batch 1: latents have dtype int64 \("),
        ((np.zeros((5, 3)), np.zeros((5, 3), int)), "batch 1: sources have 3 columns"),
        ((np.zeros((5, 3)), np.full((5, 2), "a")), "batch 1: sources have dtype <U1 .string."),
        ((np.zeros((5, 3)), np.zeros((4, 2), int)), "batch 1: latents have 5 rows but sources"),
        ((np.full((5, 3), np.nan), np.zeros((5, 2))), "batch 1: latents column 0 contains NaN"),
        ((np.zeros((5, 3, 1)), np.zeros((5, 2))), r"must be 1-D or 2-D .* shape \(5, 3, 1\)"),
        (
            (np.array([["a", 1, 2]] * 5, dtype=object), np.zeros((5, 2))),
            "latents has unsupported dtype object",
        ),
        ((np.zeros((5, 3)), np.array([[1j, 0]] * 5)), "sources have unsupported dtype complex"),
    ],
)
def test_inconsistent_batches_are_refused_and_change_nothing(data, batch, message):
    latents, sources = data
    collector = infomec.Collector(max_samples=50)
    collector.update(latents=latents[:10], sources=sources[:10])
    with pytest.raises(ValueError, match=message):
        collector.update(latents=batch[0], sources=batch[1])
    assert (collector.n_seen, collector.n_batches, len(collector)) == (10, 1, 10)
    collector.update(latents=latents[10:20], sources=sources[10:20])
    reference = infomec.Collector(max_samples=50)
    reference.update(latents=latents[:20], sources=sources[:20])
    np.testing.assert_array_equal(collector.latents, reference.latents)


def test_changed_column_names_are_refused(data):
    latents, sources = data
    collector = infomec.Collector()
    collector.update(latents=latents[:5], sources=pd.DataFrame(sources[:5], columns=["a", "b"]))
    with pytest.raises(ValueError, match=r"sources columns \['a', 'c'\] differ"):
        collector.update(
            latents=latents[5:9], sources=pd.DataFrame(sources[5:9], columns=["a", "c"])
        )


def test_empty_collector_and_bad_arguments():
    with pytest.raises(ValueError, match="the collector is empty"):
        infomec.Collector().score()
    for bad in (1, 2.5, True, -3):
        with pytest.raises(ValueError, match="max_samples must be an integer >= 2"):
            infomec.Collector(max_samples=bad)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        infomec.Collector(seed=-1)


# ---------------------------------------------------------------------- reservoir


def _reservoir(latents, sources, edges, max_samples=100, seed=7) -> infomec.Collector:
    collector = infomec.Collector(max_samples=max_samples, seed=seed)
    for batch_latents, batch_sources in _batches(latents, sources, edges):
        collector.update(latents=batch_latents, sources=batch_sources)
    return collector


def _tagged(n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Latents and sources that carry their own row number, to follow each row."""
    rows = np.arange(n_rows)
    return np.column_stack([rows, -rows]).astype(float), np.column_stack([rows, rows % 3])


def test_reservoir_keeps_aligned_rows_in_arrival_order():
    latents, sources = _tagged(700)
    collector = _reservoir(latents, sources, (0, 64, 128, 300, 301, 650, 700))
    assert (len(collector), collector.n_seen) == (100, 700)
    kept = collector.latents[:, 0].astype(int)
    assert np.all(np.diff(kept) > 0)  # distinct rows, in the order they arrived
    np.testing.assert_array_equal(collector.latents, latents[kept])
    np.testing.assert_array_equal(collector.sources, sources[kept])


def test_reservoir_is_the_rows_with_the_smallest_keys():
    # The documented rule: one uniform key per row from the seeded generator, in
    # arrival order; the max_samples smallest keys are kept.
    latents, sources = _tagged(700)
    keys = np.random.default_rng(7).random(700)
    expected = np.sort(np.argsort(keys)[:100])
    collector = _reservoir(latents, sources, (0, 64, 128, 300, 301, 650, 700))
    np.testing.assert_array_equal(collector.latents[:, 0].astype(int), expected)


def test_reservoir_is_deterministic_and_independent_of_batch_sizes():
    latents, sources = _tagged(700)
    first = _reservoir(latents, sources, (0, 64, 128, 300, 301, 650, 700)).latents
    again = _reservoir(latents, sources, (0, 64, 128, 300, 301, 650, 700)).latents
    regrouped = _reservoir(latents, sources, (0, 1, 2, 250, 700)).latents
    other_seed = _reservoir(latents, sources, (0, 64, 128, 300, 301, 650, 700), seed=8).latents
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, regrouped)
    assert not np.array_equal(first, other_seed)


def test_reservoir_is_uniform():
    # Each of 50 rows should be kept with probability 10/50; over 2,000 seeds the
    # counts are binomial(2000, 0.2): mean 400, sd 17.9.
    latents, sources = _tagged(50)
    counts = np.zeros(50)
    for seed in range(2000):
        collector = _reservoir(latents, sources, (0, 7, 20, 21, 50), max_samples=10, seed=seed)
        counts[collector.latents[:, 0].astype(int)] += 1
    assert counts.sum() == 20_000
    assert np.abs(counts - 400).max() < 5 * 17.9
    chi_square = float(np.sum((counts - 400) ** 2 / 400))
    assert chi_square < 100  # chi-square with 49 degrees of freedom: p < 1e-5 beyond 100


def test_reservoir_memory_stays_bounded():
    latents, sources = _tagged(5000)
    collector = infomec.Collector(max_samples=100)
    for start in range(0, 5000, 50):
        collector.update(latents=latents[start : start + 50], sources=sources[start : start + 50])
        buffered = sum(chunk.shape[0] for chunk in collector._latents.chunks)
        assert buffered < 2 * 100
    assert len(collector) == 100


def test_fewer_rows_than_max_samples_keeps_everything(data):
    latents, sources = data
    collector = _reservoir(latents, sources, (0, 300, 700), max_samples=1000)
    np.testing.assert_array_equal(collector.latents, latents)
    result = collector.score()
    assert result.settings["collector"] == {"max_samples": 1000, "seed": 7, "rows_seen": 700}
    assert result.infom == infomec.score(latents=latents, sources=sources).infom


def test_reservoir_score_and_report_record_the_sampling(tmp_path, data):
    latents, sources = data
    collector = _reservoir(latents, sources, (0, 300, 700), max_samples=200)
    kept_latents, kept_sources = collector.latents, collector.sources
    result = collector.score()
    expected = infomec.score(latents=kept_latents, sources=kept_sources)
    assert result.infom == expected.infom and result.infoe == expected.infoe
    assert result.n_samples == 200
    _, _, written = collector.report(tmp_path)
    saved = json.loads(written["scores"].read_text())
    assert saved["settings"]["collector"] == {"max_samples": 200, "seed": 7, "rows_seen": 700}
    assert "rows_seen" in written["html"].read_text()


# ------------------------------------------------------------------- text sources


def _text_frame(sources: np.ndarray) -> pd.DataFrame:
    shapes = np.array(["square", "ellipse", "heart"])  # unsorted: codes != ranks
    return pd.DataFrame({"shape": shapes[sources[:, 0]], "size": sources[:, 1] * 0.5})


def test_text_and_numeric_sources_equal_one_call_on_the_concatenated_frame(data):
    latents, sources = data
    frame = _text_frame(sources)
    # The first batch shows one shape only: codes numbered per batch would differ.
    first_shape = np.flatnonzero(sources[:, 0] == 2)[:5]
    order = np.concatenate([first_shape, np.setdiff1d(np.arange(700), first_shape)])
    latents, frame = latents[order], frame.iloc[order].reset_index(drop=True)
    collector = infomec.Collector()
    for start, stop in zip((0, 5, 300), (5, 300, 700), strict=True):
        collector.update(latents=latents[start:stop], sources=frame.iloc[start:stop])
    expected = infomec.score(latents=latents, sources=frame)
    assert _without_time(collector.score()) == _without_time(expected)
    assert collector.score().source_names == ["shape", "size"]
    np.testing.assert_array_equal(collector.sources, to_numpy(frame, "sources"))


def test_all_text_sources_stay_strings(data):
    latents, sources = data
    frame = _text_frame(sources).astype(str)
    collector = infomec.Collector()
    collector.update(latents=latents[:300], sources=frame.iloc[:300])
    collector.update(latents=latents[300:], sources=frame.iloc[300:])
    assert collector.sources.dtype.kind == "U"
    assert _without_time(collector.score()) == _without_time(
        infomec.score(latents=latents, sources=frame)
    )


def test_text_columns_must_stay_text(data):
    latents, sources = data
    frame = _text_frame(sources)
    collector = infomec.Collector()
    collector.update(latents=latents[:10], sources=frame.iloc[:10])
    mixed_then_numeric = "batch 1: sources have dtype int64 .numeric. but earlier batches were st"
    with pytest.raises(ValueError, match=mixed_then_numeric):
        collector.update(latents=latents[10:20], sources=sources[10:20])
    numeric_first = infomec.Collector()
    numeric_first.update(latents=latents[:10], sources=sources[:10])
    with pytest.raises(ValueError, match="batch 1: sources have dtype object .strings and num"):
        numeric_first.update(latents=latents[10:20], sources=frame.iloc[10:20])
    # A column that is text in one batch and numbers in another is read as one call
    # reads the joined column: labels, numbers written one way.
    swapped = frame.iloc[10:20].assign(
        shape=sources[10:20, 0], size=lambda f: f["size"].astype(str)
    )
    collector.update(latents=latents[10:20], sources=swapped)
    joined = pd.concat([frame.iloc[:10], swapped])
    with pytest.raises(ValueError) as one_call:
        infomec.score(latents=latents[:20], sources=joined)
    with pytest.raises(ValueError) as collected:
        collector.score()
    assert str(collected.value) == str(one_call.value)  # 0..2 and their names: too many


def test_a_refused_first_batch_leaves_no_trace(data):
    latents, sources = data
    collector = infomec.Collector()
    with pytest.raises(ValueError, match="rows must be aligned"):
        collector.update(latents=latents[:9], sources=_text_frame(sources).iloc[:10])
    collector.update(latents=latents[:10], sources=sources[:10])  # plain arrays now
    collector.update(latents=latents[10:20], sources=sources[10:20])
    np.testing.assert_array_equal(collector.sources, sources[:20])


def test_a_refused_batch_adds_no_text_value(data):
    latents, sources = data
    frame = _text_frame(sources)
    keep = np.flatnonzero(sources[:, 0] != 1)  # never shows "ellipse", first when sorted
    collector = infomec.Collector()
    collector.update(latents=latents[keep[:20]], sources=frame.iloc[keep[:20]])
    with pytest.raises(ValueError, match="rows must be aligned"):
        ellipses = np.flatnonzero(sources[:, 0] == 1)[:4]
        collector.update(latents=latents[ellipses[:3]], sources=frame.iloc[ellipses])
    collector.update(latents=latents[keep[20:]], sources=frame.iloc[keep[20:]])
    np.testing.assert_array_equal(collector.sources, to_numpy(frame.iloc[keep], "sources"))
