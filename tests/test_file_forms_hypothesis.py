"""Random valid arrays through every supported file form score exactly as in memory.

Forms: ``.npz`` (with and without name arrays), ``.npy`` in both byte orders, and
delimited text with each delimiter, with and without a header and a row-index column
(pandas' 0..N-1 or R's 1..N), ``\\n`` or ``\\r\\n`` line ends, with or without a UTF-8
byte-order mark, Excel's ``sep=`` first line, trailing empty columns, decimal commas
(``;`` and tab) and sources written as text labels with stray spaces. Scores use
discrete latents (plug-in MI, one-hot InfoE) at small N, so examples are fast.
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
        "index_start": st.sampled_from([0, 1]),
        "sep_line": st.booleans(),
        "trailing": st.integers(0, 2),
        "decimal_comma": st.booleans(),
        "labels": st.booleans(),
    }
)
# A ';' file whose every number looks like '1.125' is ambiguous (thousands or decimals)
# and refused by design; the round trip accepts exactly that refusal.
AMBIGUOUS = "can be read with '.' as the decimal mark or as a thousands separator"
FORMS = st.one_of(
    st.fixed_dictionaries({"kind": st.just("npz"), "names": st.booleans()}),
    st.fixed_dictionaries({"kind": st.just("npy"), "order": st.sampled_from(["<", ">"])}),
    TEXT_FORMS,
)


def _field(value, decimal_comma: bool = False) -> str:
    # repr of a Python float round-trips exactly; integers print exactly.
    if isinstance(value, float | np.floating):
        text = repr(float(value))
        return text.replace(".", ",") if decimal_comma else text
    return str(int(value))


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
    comma = form["decimal_comma"] and sep in (";", "\t")
    trailing = sep * form["trailing"] if sep != " " else ""
    lines = [f"sep={sep}"] if form["sep_line"] and sep != " " else []
    if form["header"]:
        # pandas writes an empty name for the index; whitespace cannot hold one, so
        # the header is then one name short (as R's write.csv writes it).
        index_name = [""] if form["index"] and sep != " " else []
        lines.append(sep.join(index_name + names) + trailing)
    for n, row in enumerate(values.tolist()):
        index = [str(n + form["index_start"])] if form["index"] else []
        if role == "sources" and form["labels"]:
            fields = [f" v{value} " if n % 2 else f"v{value}" for value in row]
        else:
            fields = [_field(value, comma) for value in row]
        lines.append(sep.join(index + fields) + trailing)
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
        try:
            loaded_latents = load_array(latent_path, "latents")
        except ValueError as error:
            assert AMBIGUOUS in str(error)
            return
        loaded_sources = load_array(source_path, "sources")
        assert loaded_latents.values.shape == latents.shape
        assert np.array_equal(loaded_latents.values, latents)
        if not source_form.get("labels"):
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
