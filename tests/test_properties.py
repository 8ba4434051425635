"""Property-based tests: any input either scores inside the bounds or raises ValueError.

Hypothesis draws shapes, dtypes (int8..int64, uint, bool, float16..float64, strings)
and values, including extremes; the API must never raise anything else and never
return NaN.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import infomec

NUMERIC_DTYPES = [
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
    np.bool_,
    np.float16,
    np.float32,
    np.float64,
]


@st.composite
def latent_source_pairs(draw):
    n_samples = draw(st.integers(min_value=0, max_value=40))
    n_latents = draw(st.integers(min_value=0, max_value=3))
    n_sources = draw(st.integers(min_value=0, max_value=3))
    latent_dtype = draw(st.sampled_from(NUMERIC_DTYPES))
    latents = draw(hnp.arrays(latent_dtype, (n_samples, n_latents)))
    source_kind = draw(st.sampled_from(["int", "float", "bool", "str"]))
    if source_kind == "str":
        sources = draw(
            hnp.arrays(
                np.dtype("U3"),
                (n_samples, n_sources),
                elements=st.sampled_from(["a", "bb", "ccc", ""]),
            )
        )
    else:
        dtype = {"int": np.int16, "float": np.float64, "bool": np.bool_}[source_kind]
        sources = draw(hnp.arrays(dtype, (n_samples, n_sources)))
    # Sometimes misalign the rows on purpose.
    if draw(st.booleans()) and n_samples > 2:
        sources = sources[: n_samples - 1]
    return latents, sources


def _check(result):
    for key in ("infom", "infoe", "infoc"):
        value = result["infomec"][key]
        assert isinstance(value, float) and 0.0 <= value <= 1.0
    nmi = result.nmi
    assert np.all(np.isfinite(nmi)) and np.all(nmi >= 0)
    # The KSG estimate may exceed H(s) on tied latents, and is kept unless clip_nmi;
    # plug-in MI never exceeds H(s) (up to rounding).
    if result.settings["clip_nmi"]:
        assert np.all(nmi <= 1)
    elif result.settings["discrete_latents"]:
        assert np.all(nmi <= 1 + 1e-12)
    assert np.all(np.isfinite(result["infomec"]["infoe_per_source"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    latent_source_pairs(),
    st.sampled_from(["reference", "paper", "tripod"]),
    st.sampled_from([None, True]),
)
def test_score_is_bounded_or_raises_value_error(pair, preset, clip_nmi):
    latents, sources = pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = infomec.score(
                latents=latents, sources=sources, preset=preset, clip_nmi=clip_nmi, n_jobs=1
            )
        except ValueError:
            return
    _check(result)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(2, 30), st.integers(1, 3)),
        elements=st.floats(allow_nan=False, allow_infinity=False, width=64),
    ),
    st.integers(1, 4),
)
def test_extreme_finite_floats_never_give_nan(latents, n_classes):
    # Sources need 5 rows per value (sparser ones are refused): fewer classes at small N.
    n_classes = max(1, min(n_classes, latents.shape[0] // 5))
    sources = np.arange(latents.shape[0]) % n_classes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check(infomec.score(latents=latents, sources=sources, n_jobs=1))


@pytest.mark.parametrize("dtype", NUMERIC_DTYPES)
def test_every_numeric_dtype_is_accepted(dtype, rng):
    sources = rng.integers(0, 3, size=(200, 2))
    latents = (sources * 2 + rng.integers(0, 2, size=(200, 2))).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check(infomec.score(latents=latents, sources=sources, n_jobs=1))


@pytest.mark.parametrize(
    "latents, sources, message",
    [
        (np.zeros((0, 2)), np.zeros((0, 1)), "at least 2 rows"),
        (np.zeros((1, 2)), np.zeros((1, 1)), "at least 2 rows"),
        (np.zeros((5, 0)), np.zeros((5, 1)), "no columns"),
        (np.zeros((5, 2)), np.zeros((5, 0)), "no columns"),
        (np.zeros((5, 2, 2)), np.zeros((5, 1)), "must be 2-D"),
        (np.array([[1, None]] * 3, dtype=object), np.zeros((3, 1)), "unsupported dtype"),
        (np.array([["a"], ["b"]]), np.zeros((2, 1)), "numeric"),
        (np.zeros((5, 2)) + 1j, np.zeros((5, 1)), "unsupported dtype"),
        (np.zeros((5, 2)), np.zeros((4, 1)), "rows"),
        (np.zeros((5, 2)), np.arange(2000.0), "rows"),
    ],
)
def test_bad_shapes_and_dtypes_raise_value_error(latents, sources, message):
    with pytest.raises(ValueError, match=message):
        infomec.score(latents=latents, sources=sources)


def test_too_many_source_values_names_the_column_and_suggests_bins(rng):
    sources = np.column_stack([rng.integers(0, 3, 3000), rng.standard_normal(3000)])
    with pytest.raises(ValueError, match=r"column 's1'.*source_bins"):
        infomec.score(
            latents=rng.standard_normal((3000, 2)), sources=sources, source_names=["s0", "s1"]
        )
    result = infomec.score(latents=rng.standard_normal((3000, 2)), sources=sources, source_bins=10)
    assert result.settings["source_bins"] == 10
