"""Torch tensors, JAX arrays and pandas objects straight into the public API."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import infomec
from infomec.inputs.frameworks import column_names, numpy_inputs, to_numpy
from infomec.report import build_report
from tests.conftest import disentangled_code, factorial_sample

REPO = Path(__file__).resolve().parents[1]


class FakeJaxArray:
    """Duck-typed stand-in for ``jax.Array`` (JAX is not installed here).

    JAX arrays refuse most numpy-style access except ``__array__``; so does this one.
    """

    __module__ = "jaxlib.xla_extension"

    def __init__(self, values: np.ndarray) -> None:
        self._values = np.asarray(values)

    def __array__(self, dtype=None, copy=None):
        return self._values if dtype is None else self._values.astype(dtype)


@pytest.fixture
def data(rng):
    sources = factorial_sample(rng, 600, sizes=(3, 4))
    latents = np.hstack(
        [disentangled_code(rng, sources, noise=0.2), 1e-3 * rng.standard_normal((600, 1))]
    )
    return latents, sources


def _same(first: infomec.ScoreResult, second: infomec.ScoreResult, digest: bool = True) -> None:
    one, two = first.to_dict(), second.to_dict()
    one.pop("elapsed_s"), two.pop("elapsed_s")
    if not digest:
        one.pop("input_digest"), two.pop("input_digest")
    assert one == two


# --------------------------------------------------------------------------- torch


def test_torch_tensors_with_grad_score_like_numpy(data):
    torch = pytest.importorskip("torch")
    latents, sources = data
    tensor = torch.tensor(latents, requires_grad=True)  # .numpy() would refuse it
    expected = infomec.score(latents=latents, sources=sources)
    _same(infomec.score(latents=tensor * 1.0, sources=torch.from_numpy(sources)), expected)


def test_torch_integer_codes_stay_discrete(data):
    torch = pytest.importorskip("torch")
    _, sources = data
    codes = torch.from_numpy(sources.copy())
    result = infomec.score(latents=codes, sources=codes)
    assert result.settings["discrete_latents"] is True
    _same(result, infomec.score(latents=sources, sources=sources))


def test_torch_bfloat16_is_widened_to_float32(data):
    torch = pytest.importorskip("torch")
    latents, _ = data
    array = to_numpy(torch.tensor(latents, dtype=torch.bfloat16))
    assert array.dtype == np.float32
    np.testing.assert_allclose(array, latents, rtol=1e-2, atol=1e-2)


def test_sparse_and_unconvertible_tensors():
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(to_numpy(torch.eye(3).to_sparse()), np.eye(3))

    class Broken(torch.Tensor):
        def numpy(self, *args, **kwargs):
            raise TypeError("no numpy for this one")

    broken = torch.zeros(3).as_subclass(Broken)
    with pytest.raises(ValueError, match="latents cannot be read as an array: no numpy"):
        to_numpy(broken)


def test_nmi_matrix_infoe_infom_infoc_accept_tensors(data):
    torch = pytest.importorskip("torch")
    latents, sources = data
    tensor = torch.tensor(latents, requires_grad=True)
    nmi = infomec.nmi_matrix(latents=latents, sources=sources)
    np.testing.assert_array_equal(infomec.nmi_matrix(latents=tensor, sources=sources), nmi)
    value, per_source = infomec.infoe(latents=tensor, sources=torch.from_numpy(sources))
    expected_value, expected_per_source = infomec.infoe(latents=latents, sources=sources)
    assert value == expected_value
    np.testing.assert_array_equal(per_source, expected_per_source)
    nmi_tensor = torch.tensor(nmi, requires_grad=True)
    mask = np.array([True, True, False])
    assert infomec.infom(nmi_tensor, active_latents=torch.from_numpy(mask)) == infomec.infom(
        nmi, active_latents=mask
    )
    assert infomec.infoc(nmi_tensor) == infomec.infoc(nmi)


def test_bootstrap_accepts_tensors(data):
    torch = pytest.importorskip("torch")
    latents, sources = data
    expected = infomec.bootstrap(latents=latents, sources=sources, n_boot=3)
    got = infomec.bootstrap(
        latents=torch.tensor(latents, requires_grad=True),
        sources=torch.from_numpy(sources),
        n_boot=3,
    )
    assert got == expected


def test_held_out_tensors(data):
    torch = pytest.importorskip("torch")
    latents, sources = data
    kwargs = dict(metrics=["sap"], test_latents=latents[400:], test_sources=sources[400:])
    expected = infomec.score(latents=latents[:400], sources=sources[:400], **kwargs)
    kwargs.update(
        test_latents=torch.from_numpy(latents[400:]), test_sources=pd.DataFrame(sources[400:])
    )
    _same(
        infomec.score(latents=torch.from_numpy(latents[:400]), sources=sources[:400], **kwargs),
        expected,
    )


# ----------------------------------------------------------------------------- JAX


def test_jax_like_arrays_are_converted(data):
    latents, sources = data
    fake = FakeJaxArray(latents)
    converted = to_numpy(fake)
    assert isinstance(converted, np.ndarray)
    np.testing.assert_array_equal(converted, latents)
    _same(
        infomec.score(latents=fake, sources=FakeJaxArray(sources)),
        infomec.score(latents=latents, sources=sources),
    )


def test_jax_arrays_that_cannot_be_read_raise_value_errors():
    class Traced(FakeJaxArray):
        def __array__(self, dtype=None, copy=None):
            raise TypeError("abstract tracer value encountered")

    with pytest.raises(ValueError, match="sources cannot be read as an array: abstract tracer"):
        infomec.score(latents=np.zeros((4, 1)), sources=Traced(np.zeros(4)))


def test_unknown_objects_pass_through_unchanged():
    class Opaque:
        __module__ = "mylib.arrays"

    opaque = Opaque()
    assert to_numpy(opaque) is opaque
    assert to_numpy([[1, 2]]) == [[1, 2]]


# -------------------------------------------------------------------------- pandas


def test_dataframes_give_names_and_the_same_scores(data):
    latents, sources = data
    latent_frame = pd.DataFrame(latents, columns=["a", "b", "dead"])
    source_frame = pd.DataFrame(sources, columns=["shape", "size"])
    result = infomec.score(latents=latent_frame, sources=source_frame)
    assert result.source_names == ["shape", "size"]
    assert result.latent_names == ["a", "b", "dead"]
    expected = infomec.score(
        latents=latents,
        sources=sources,
        source_names=["shape", "size"],
        latent_names=["a", "b", "dead"],
    )
    _same(result, expected)


def test_explicit_names_win_over_columns(data):
    latents, sources = data
    frame = pd.DataFrame(sources, columns=["shape", "size"])
    result = infomec.score(latents=latents, sources=frame, source_names=["x", "y"])
    assert result.source_names == ["x", "y"]


def test_series_are_one_column_named_after_the_series(data):
    latents, sources = data
    result = infomec.score(
        latents=pd.Series(latents[:, 0], name="z_shape"),
        sources=pd.Series(sources[:, 0], name="shape"),
    )
    assert result.latent_names == ["z_shape"]
    assert result.source_names == ["shape"]
    assert column_names(pd.Series([1, 2])) is None


def test_text_and_categorical_source_columns_score_like_their_codes(data):
    latents, sources = data
    names = np.array(["cube", "disk", "heart"])  # sorted: codes keep their order
    frame = pd.DataFrame(
        {"shape": names[sources[:, 0]], "size": pd.Categorical(sources[:, 1] * 10)}
    )
    _same(
        infomec.score(latents=latents, sources=frame, source_names=["s0", "s1"]),
        infomec.score(latents=latents, sources=sources),
        digest=False,  # the digests differ as they should: text labels, not integer codes
    )
    all_text = to_numpy(frame.astype(str), "sources")
    assert all_text.dtype.kind == "U"


def test_nullable_integers_stay_integers():
    frame = pd.DataFrame({"code": pd.array([1, 2, 3], dtype="Int64")})
    assert to_numpy(frame).dtype == np.int64
    missing = pd.DataFrame({"code": pd.array([1, None, 3], dtype="Int64")})
    with pytest.raises(ValueError, match="column 'code' has a missing value .* at row 1"):
        to_numpy(missing)


def test_missing_values_and_text_latents_are_refused(data):
    latents, sources = data
    text = np.array(["a", "b", "c"])[sources[:, 0]].astype(object)
    text[5] = None
    with pytest.raises(ValueError, match="sources column 'shape' has a missing value .*row 5"):
        infomec.score(latents=latents, sources=pd.DataFrame({"shape": text, "n": sources[:, 1]}))
    with pytest.raises(ValueError, match="latents must be numeric, got text"):
        infomec.score(latents=pd.DataFrame({"word": text[:5]}), sources=sources[:5])
    nan_latents = pd.DataFrame(latents, columns=["a", "b", "c"])
    nan_latents.iloc[3, 1] = np.nan
    with pytest.raises(ValueError, match="latents column 'b' has a missing value .* at row 3"):
        infomec.score(latents=nan_latents, sources=sources)


def test_build_report_takes_names_from_dataframes(tmp_path, data):
    latents, sources = data
    frame = pd.DataFrame(sources, columns=["shape", "size"])
    result, _, written = build_report(
        latents=pd.DataFrame(latents, columns=["a", "b", "dead"]),
        sources=frame,
        out_dir=tmp_path,
        n_boot=2,
    )
    saved = json.loads(written["scores"].read_text())
    assert saved["source_names"] == ["shape", "size"]
    assert saved["latent_names"] == ["a", "b", "dead"]


def test_numpy_inputs_keeps_order_and_none():
    inputs = numpy_inputs([[1.0], [2.0]], [[0], [1]])
    assert inputs == ([[1.0], [2.0]], [[0], [1]], None, None, None, None)


# ------------------------------------------------------------------------- imports


def test_numpy_input_never_imports_torch_or_jax():
    code = (
        "import sys, numpy as np, infomec\n"
        "s = np.repeat(np.arange(3), 20)[:, None]\n"
        "infomec.score(latents=s + 0.5 * np.random.default_rng(0).random(s.shape), sources=s)\n"
        "c = infomec.Collector(max_samples=40)\n"
        "c.update(latents=s.astype(float), sources=s)\n"
        "c.score()\n"
        "loaded = sorted(m for m in ('torch', 'jax', 'jaxlib') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr


def test_text_series_and_text_categoricals_are_strings():
    series = pd.Series(["b", "a", "b"], name="shape")
    assert to_numpy(series, "sources").tolist() == ["b", "a", "b"]
    categorical = pd.DataFrame({"c": pd.Categorical(["x", "y", "x"]), "n": [1, 2, 3]})
    assert to_numpy(categorical, "sources").tolist() == [["x", 1], ["y", 2], ["x", 3]]
    with pytest.raises(ValueError, match="latents must be numeric, got text"):
        infomec.score(latents=series, sources=np.array([0, 1, 0]))
