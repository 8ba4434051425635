"""Random valid arrays through every supported file form score exactly as in memory.

Forms: ``.npz`` (with and without name arrays), ``.npy`` in both byte orders, and
delimited text with each delimiter, with and without a header and a pandas-style index
column, ``\\n`` or ``\\r\\n`` line ends, with or without a UTF-8 byte-order mark. Scores
use discrete latents (plug-in MI, one-hot InfoE) at small N, so examples are fast.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import infomec
from infomec.inputs.files import load_array

TEXT_FORMS = st.fixed_dictionaries(
    {
        "kind": st.just("text"),
        "delimiter": st.sampled_from([",", ";", "\t", " "]),
        "header": st.booleans(),
        "index": st.booleans(),
        "newline": st.sampled_from(["\n", "\r\n"]),
        "bom": st.booleans(),
    }
)
FORMS = st.one_of(
    st.fixed_dictionaries({"kind": st.just("npz"), "names": st.booleans()}),
    st.fixed_dictionaries({"kind": st.just("npy"), "order": st.sampled_from(["<", ">"])}),
    TEXT_FORMS,
)


def _field(value) -> str:
    # repr of a Python float round-trips exactly; integers print exactly.
    return repr(float(value)) if isinstance(value, float | np.floating) else str(int(value))


def write(path: Path, values: np.ndarray, role: str, form: dict) -> Path:
    """Write ``values`` (2-D) as ``form`` describes; return the file's path."""
    names = [f"{role[0]}col{j}" for j in range(values.shape[1])]
    if form["kind"] == "npz":
        path = path.with_suffix(".npz")
        extra = {f"{role[:-1]}_names": np.array(names)} if form["names"] else {}
        np.savez(path, **{role: values}, **extra)
        return path
    if form["kind"] == "npy":
        path = path.with_suffix(".npy")
        np.save(path, values.astype(values.dtype.newbyteorder(form["order"])))
        return path
    path = path.with_suffix(".csv")
    sep, newline = form["delimiter"], form["newline"]
    lines = []
    if form["header"]:
        # pandas writes an empty name for the index; whitespace cannot hold one, so
        # the header is then one name short (as R's write.csv writes it).
        index_name = [""] if form["index"] and sep != " " else []
        lines.append(sep.join(index_name + names))
    for n, row in enumerate(values.tolist()):
        index = [str(n)] if form["index"] else []
        lines.append(sep.join(index + [_field(value) for value in row]))
    text = newline.join(lines) + newline
    path.write_bytes(("\ufeff" if form["bom"] else "").encode() + text.encode())
    return path


@st.composite
def samples(draw):
    n = draw(st.integers(20, 40))
    d = draw(st.integers(1, 3))
    if draw(st.booleans()):
        offset = draw(st.sampled_from([0, -(2**62), 2**40]))
        latents = draw(hnp.arrays(np.int64, (n, d), elements=st.integers(-3, 3))) + offset
    else:
        floats = st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False, width=64)
        latents = draw(hnp.arrays(np.float64, (n, d), elements=floats))
    sources = draw(hnp.arrays(np.int64, (n, draw(st.integers(1, 2))), elements=st.integers(0, 3)))
    return latents, sources


def _numbers(result) -> list:
    family = result["infomec"]
    return [family["infom"], family["infoe"], family["infoc"], family["nmi"].tolist()]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(samples(), FORMS, FORMS)
def test_every_file_form_scores_like_the_arrays(tmp_path, sample, latent_form, source_form):
    latents, sources = sample
    options = {"discrete_latents": True, "n_jobs": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # single-valued sources and the like
        expected = infomec.score(latents=latents, sources=sources, **options)
        latent_path = write(tmp_path / "latents", latents, "latents", latent_form)
        source_path = write(tmp_path / "sources", sources, "sources", source_form)
        loaded_latents = load_array(latent_path, "latents")
        loaded_sources = load_array(source_path, "sources")
        assert loaded_latents.values.shape == latents.shape
        assert np.array_equal(loaded_latents.values, latents)
        assert np.array_equal(loaded_sources.values, sources)
        result = infomec.score(
            latents=loaded_latents.values, sources=loaded_sources.values, **options
        )
    assert _numbers(result) == _numbers(expected)
    for loaded, form, role in (
        (loaded_latents, latent_form, "latents"),
        (loaded_sources, source_form, "sources"),
    ):
        named = form.get("names") or form.get("header")
        count = latents.shape[1] if role == "latents" else sources.shape[1]
        want = [f"{role[0]}col{j}" for j in range(count)] if named else None
        assert loaded.names == want
