"""Inputs a user plausibly gets wrong: each is read like its clean twin, or refused.

Refusals are one line (``ValueError`` from the API, ``infomec: error: ...`` and exit 2
from the CLI); a file read differently from what its writer meant would be a silent
wrong score, which is what these tests rule out.
"""

from __future__ import annotations

import json
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

import cli
import infomec
from infomec import InfoMECWarning
from infomec.inputs.files import load_array
from infomec.presets import PruningRule

N = 600


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    sources = rng.integers(0, 4, size=(N, 3))
    latents = sources + 0.3 * rng.standard_normal(sources.shape)
    return latents, sources


@pytest.fixture(scope="module")
def clean(data):
    latents, sources = data
    return infomec.score(latents=latents, sources=sources)


def run(argv, capsys):
    status = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def refused(status: int, err: str, *fragments: str) -> bool:
    """Exit 2, one line, no traceback, every fragment in the message."""
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("infomec: error:")]
    return (
        status == 2
        and len(errors) == 1
        and "Traceback" not in err
        and all(fragment in errors[0] for fragment in fragments)
    )


def same_scores(payload_or_result, expected, tol: float = 1e-9) -> None:
    """InfoM/InfoE/InfoC, NMI and active latents agree (payload: the CLI's JSON)."""
    if isinstance(payload_or_result, dict):
        family = payload_or_result["infomec"]
        got = {key: family[key] for key in ("infom", "infoe", "infoc")}
        nmi, active = np.array(family["nmi"]), np.array(family["active_latents"])
    else:
        got = {key: getattr(payload_or_result, key) for key in ("infom", "infoe", "infoc")}
        nmi = payload_or_result.nmi
        active = payload_or_result["infomec"]["active_latents"]
    for key, value in got.items():
        assert value == pytest.approx(getattr(expected, key), abs=tol), key
    np.testing.assert_allclose(nmi, expected.nmi, atol=tol, rtol=0)
    assert np.array_equal(active, expected["infomec"]["active_latents"])


def score_cli(argv, capsys) -> dict:
    status, out, err = run(["score", *argv], capsys)
    assert status == 0, err
    return json.loads(out)


# ------------------------------------------------------------------ 1. swaps


def test_swapped_npz_files_are_refused(tmp_path, data, capsys):
    latents, sources = data
    np.savez(tmp_path / "latents.npz", latents=latents)
    np.savez(tmp_path / "sources.npz", sources=sources, source_names=np.array(["a", "b", "c"]))
    status, _, err = run(["score", tmp_path / "sources.npz", tmp_path / "latents.npz"], capsys)
    assert refused(status, err, "swapped", "sources.npz")
    # A latents file holding only source_names beside an unnamed array is a sources file.
    np.savez(tmp_path / "s2.npz", arr_0=sources, source_names=np.array(["a", "b", "c"]))
    with pytest.raises(ValueError, match="swapped"):
        load_array(tmp_path / "s2.npz", "latents")
    # The sources role refuses an archive that holds only latents.
    with pytest.raises(ValueError, match="swapped"):
        load_array(tmp_path / "latents.npz", "sources")
    # An explicit key is trusted.
    assert load_array(tmp_path / "sources.npz", "latents", key="sources").values.shape == (N, 3)


def test_swapped_arrays_name_the_swap_before_source_bins(data, tmp_path, capsys):
    latents, sources = data
    with pytest.raises(ValueError) as caught:
        infomec.score(latents=sources, sources=latents)
    message = str(caught.value)
    assert "swapped" in message and "source_bins" in message
    assert message.index("swapped") < message.index("source_bins")
    np.save(tmp_path / "z.npy", latents)
    np.save(tmp_path / "s.npy", sources)
    status, _, err = run(["score", tmp_path / "s.npy", tmp_path / "z.npy"], capsys)
    assert refused(status, err, "swapped", "--source-bins")
    assert err.index("swapped") < err.index("--source-bins")


def test_continuous_sources_beside_continuous_latents_only_suggest_bins(data):
    latents, _ = data
    with pytest.raises(ValueError, match="source_bins") as caught:
        infomec.score(latents=latents, sources=latents[:, 0] * 7.1)
    assert "swapped" not in str(caught.value)


# ------------------------------------------------------------ sparse sources


def test_sparse_sources_are_refused_with_the_column_name():
    rng = np.random.default_rng(0)
    latents = rng.standard_normal((200, 2))
    sources = np.column_stack([rng.integers(0, 3, 200), np.arange(200) % 50])
    with pytest.raises(ValueError, match=r"column 'id' .*\(4\.0 rows per value.*source_bins"):
        infomec.score(latents=latents, sources=sources, source_names=["kind", "id"])
    # 40 values in 200 rows is exactly 5 per value: accepted.
    sources[:, 1] = np.arange(200) % 40
    infomec.score(latents=latents, sources=sources)


def test_source_bins_rescue_sparse_and_continuous_sources():
    rng = np.random.default_rng(1)
    position = rng.uniform(0, 1, 500)
    latents = np.column_stack([position + 0.01 * rng.standard_normal(500), rng.random(500)])
    with pytest.raises(ValueError, match="source_bins"):
        infomec.score(latents=latents, sources=position)
    result = infomec.score(latents=latents, sources=position, source_bins=10)
    assert result.settings["source_bins"] == 10 and result.nmi[0, 0] > 0.5
    with pytest.raises(ValueError, match="at most 100 bins"):
        infomec.score(latents=latents, sources=position, source_bins=400)


@pytest.mark.parametrize("bins", [1, 0, -3, 10**12, 2.5, "5", True, 502])
def test_source_bins_are_bounded_before_anything_is_allocated(bins, data):
    latents, sources = data
    with pytest.raises(ValueError, match="source_bins must be an integer from 2"):
        infomec.score(latents=latents[:501], sources=sources[:501], source_bins=bins)


def test_source_bins_cli_refuses_huge_values(tmp_path, data, capsys):
    latents, sources = data
    np.save(tmp_path / "z.npy", latents)
    np.save(tmp_path / "s.npy", sources)
    status, _, err = run(
        ["score", tmp_path / "z.npy", tmp_path / "s.npy", "--source-bins", 10**12], capsys
    )
    assert refused(status, err, "source_bins must be an integer from 2 to the number of rows")


def test_bootstrap_half_samples_of_a_borderline_sample_are_not_refused():
    rng = np.random.default_rng(2)
    sources = np.repeat(np.arange(20), 5)  # exactly 5 rows per value
    latents = (sources + 0.3 * rng.standard_normal(100))[:, None]
    intervals = infomec.bootstrap(
        latents=latents, sources=sources, n_boot=3, method="half", progress=False
    )
    assert np.isfinite(intervals["infomec.infom"]).all()


# ------------------------------------------------------------------ 2. text files


def test_csv_without_header_reads_every_row(tmp_path, data, clean, capsys):
    latents, sources = data
    np.savetxt(tmp_path / "z.csv", latents, delimiter=",", fmt="%.17g")
    np.savetxt(tmp_path / "s.csv", sources, delimiter=",", fmt="%d")
    loaded = load_array(tmp_path / "z.csv", "latents")
    assert loaded.names is None and loaded.values.shape == (N, 3)
    payload = score_cli([tmp_path / "z.csv", tmp_path / "s.csv"], capsys)
    same_scores(payload, clean, tol=0)
    assert payload["source_names"] == ["s0", "s1", "s2"] and payload["n_samples"] == N


def test_header_flags_force_either_reading(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("1,2\n3,4\n5,6\n")
    assert load_array(path, "sources", header=True).names == ["1", "2"]
    (tmp_path / "named.csv").write_text("a,b\n3,4\n5,6\n")
    forced = load_array(tmp_path / "named.csv", "sources", header=False)
    assert forced.names is None and forced.values[0].tolist() == ["a", "b"]


@pytest.mark.parametrize(
    "text, names, first_row",
    [
        # Headerless categorical sources: 'red' recurs below, so the first row is data.
        ("red,small\nblue,big\nred,big\n", None, ["red", "small"]),
        ("colour,size\nred,small\nblue,big\n", ["colour", "size"], ["red", "small"]),
        # Integers above float columns are data (a headerless file's first row happens
        # to hold integers), unless they are pandas' default names 0, 1, ...
        ("1,2\n0.5,0.25\n1.5,2.75\n", None, [1.0, 2.0]),
        ("0,1\n0.5,0.25\n1.5,2.75\n", ["0", "1"], [0.5, 0.25]),
        # ... but above an integer column the row is data (np.savetxt(fmt="%g")).
        ("1,2\n0.5,3\n1.5,4\n", None, [1.0, 2.0]),
        ("0,1\n2,3\n4,5\n", None, [0, 1]),
    ],
)
def test_header_detection(tmp_path, text, names, first_row):
    path = tmp_path / "f.csv"
    path.write_text(text)
    loaded = load_array(path, "sources")
    assert loaded.names == names and loaded.values[0].tolist() == first_row


def test_pandas_index_column_is_dropped_with_a_warning(tmp_path, data, clean, capsys):
    latents, sources = data
    pd.DataFrame(latents, columns=["x", "y", "z"]).to_csv(tmp_path / "z.csv")
    pd.DataFrame(sources, columns=["a", "b", "c"]).to_csv(tmp_path / "s.csv")
    status, out, err = run(["score", tmp_path / "z.csv", tmp_path / "s.csv"], capsys)
    assert status == 0, err
    assert "infomec: warning:" in err and "index" in err and "--index-col none" in err
    payload = json.loads(out)
    same_scores(payload, clean, tol=0)
    assert payload["latent_names"] == ["x", "y", "z"]
    # Default column labels (0, 1, 2) and a re-saved "Unnamed: 0" column too.
    pd.DataFrame(latents).to_csv(tmp_path / "plain.csv")
    with pytest.warns(InfoMECWarning, match="dropped column"):
        assert load_array(tmp_path / "plain.csv", "latents").values.shape == (N, 3)
    pd.read_csv(tmp_path / "z.csv").to_csv(tmp_path / "twice.csv", index=False)
    with pytest.warns(InfoMECWarning, match="'Unnamed: 0'"):
        loaded = load_array(tmp_path / "twice.csv", "latents")
    assert loaded.names == ["x", "y", "z"]
    # A headerless index (to_csv(header=False)) is found by its values 0..N-1.
    pd.DataFrame(latents).to_csv(tmp_path / "bare.csv", header=False)
    with pytest.warns(InfoMECWarning, match=f"distinct integers 0..{N - 1}"):
        assert np.array_equal(load_array(tmp_path / "bare.csv", "latents").values, latents)


def test_index_col_option(tmp_path, capsys, data):
    latents, sources = data
    path = tmp_path / "z.csv"
    pd.DataFrame(latents, columns=["x", "y", "z"]).to_csv(path, index_label="row")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a named index column with 0..N-1 still warns
        with pytest.raises(InfoMECWarning):
            load_array(path, "latents")
    assert load_array(path, "latents", index_col="none").values.shape == (N, 4)
    assert load_array(path, "latents", index_col="row").names == ["x", "y", "z"]
    with pytest.raises(ValueError, match="column 'x' holds measurements, not row labels"):
        load_array(path, "latents", index_col=1)  # never drops a data column
    with pytest.raises(ValueError, match="no column named 'nope'"):
        load_array(path, "latents", index_col="nope")
    with pytest.raises(ValueError, match="out of range"):
        load_array(path, "latents", index_col=9)
    np.save(tmp_path / "s.npy", sources)
    status, out, err = run(
        ["score", path, tmp_path / "s.npy", "--latents-index-col", "row", "--format", "csv"],
        capsys,
    )
    assert status == 0 and "warning" not in err
    status, _, err = run(["score", path, tmp_path / "s.npy", "--latents-index-col", "none"], capsys)
    # 0..N-1 kept as a latent: a row identifier, refused by name in every door
    assert status == 2 and "latents column 'row' holds 600 distinct integers 0..599" in err


@pytest.mark.parametrize(
    "separator, decimal", [(";", "."), ("\t", "."), (" ", "."), (";", ","), ("\t", ",")]
)
def test_every_delimiter_is_detected(tmp_path, data, clean, separator, decimal):
    latents, sources = data
    frame = pd.DataFrame(latents, columns=["x", "y", "z"])
    frame.to_csv(tmp_path / "z.csv", sep=separator, index=False, decimal=decimal)
    pd.DataFrame(sources, columns=["a", "b", "c"]).to_csv(
        tmp_path / "s.csv", sep=separator, index=False
    )
    z = load_array(tmp_path / "z.csv", "latents")
    s = load_array(tmp_path / "s.csv", "sources")
    assert z.names == ["x", "y", "z"] and s.names == ["a", "b", "c"]
    assert np.array_equal(z.values, latents) and np.array_equal(s.values, sources)
    same_scores(infomec.score(latents=z.values, sources=s.values), clean, tol=0)


def test_semicolon_sources_are_not_one_text_column(tmp_path, data):
    _, sources = data
    pd.DataFrame(sources, columns=["a", "b", "c"]).to_csv(tmp_path / "s.csv", sep=";", index=False)
    loaded = load_array(tmp_path / "s.csv", "sources")
    assert loaded.names == ["a", "b", "c"] and loaded.values.dtype.kind == "i"


@pytest.mark.parametrize(
    "text, match",
    [
        ("a|b\n1|2\n3|4\n", "separated by '\\|'"),
        ("a,b\n1,2\n3,4,5\n", "different numbers of fields"),
        ("a;b\n1;2\n3;4;5\n", "split by ';'"),
        ("1 2 3\n4 5\n6 7 8\n", "split by whitespace"),
        ("", "empty file"),
        ("\n \n\n", "empty file"),
        ("a,b\n", "no data rows"),
        ("a,a\n1,2\n3,4\n", "names column 'a' twice"),
        ("a,,b\n1,2,3\n4,5,6\n", "column 2 has no name"),
        ("a,b\n1,\n2,3\n", "empty value in column 'b' \\(data row 1\\)"),
        ("a,b\n1,nan\n2,nan\n", "column 'b' contains NaN"),
        ("a,b\n1,inf\n2,3\n", "column 'b' contains inf"),
        ('a,b\n1,"2\n3,4\n', "malformed"),
        ("a,b\n1,x\n2,y\n", "latents column 'b' holds text \\('x'"),
        ("a\n18446744073709551617\n2\n", "beyond 64 bits"),
    ],
)
def test_malformed_text_is_refused_in_one_line(tmp_path, text, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match) as caught:
        load_array(path, "latents")
    assert "\n" not in str(caught.value) and "bad.csv" in str(caught.value)


@pytest.mark.parametrize(
    "payload",
    [
        "\ufeffa,b\n1,2\n3,4\n".encode(),  # UTF-8 byte-order mark (Excel)
        "a\tb\n1\t2\n3\t4\n".encode("utf-16"),  # Excel's "Unicode text"
        b'"a","b"\n"1","2"\n"3","4"\n',  # quoted
        b"a,b,\n1,2,\n3,4,\n",  # trailing delimiter
        b"a,b\r\n1,2\r\n3,4\r\n",  # CRLF
        b"a,b\r1,2\r3,4\r",  # old Mac line ends
        b"\n\na , b\n 1 , 2\n\n3,4\n\n",  # blank lines and spaces
        b"# a,b\n1,2\n3,4\n",  # np.savetxt(header="a,b")
        b'"a","b"\n"1",1,2\n"2",3,4\n',  # R's write.csv (the index has no header)
    ],
)
def test_common_text_variants_read_alike(tmp_path, payload):
    path = tmp_path / "f.csv"
    path.write_bytes(payload)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = load_array(path, "latents")
    assert loaded.names == ["a", "b"]
    assert loaded.values.tolist() == [[1, 2], [3, 4]]


def test_text_encodings_other_than_utf_are_refused(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("a,b\ncafé,2\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8"):
        load_array(path, "sources")
    (tmp_path / "nul.csv").write_bytes(b"a,b\n\x00,1\n")
    with pytest.raises(ValueError, match="binary"):
        load_array(tmp_path / "nul.csv", "sources")


def test_text_sources_are_read_as_written_then_normalised_once(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("region,size\nNA,1\nEU ,2\nEU,1\n")
    loaded = load_array(path, "sources")
    assert loaded.values[:, 0].tolist() == ["NA", "EU ", "EU"]  # the reading keeps them
    # ... and the one label normalisation of every door strips 'EU ' and refuses 'NA'.
    with pytest.raises(ValueError, match="column 'region' has a missing-value label 'NA' at row 0"):
        infomec.score(latents=np.zeros((3, 1)), sources=loaded.values, source_names=loaded.names)


# ------------------------------------------------------------ content, not names


def test_files_are_recognised_by_content(tmp_path, data, clean, capsys):
    latents, sources = data
    np.savez(tmp_path / "z.npz", latents=latents)
    (tmp_path / "z_renamed.npy").write_bytes((tmp_path / "z.npz").read_bytes())
    np.save(tmp_path / "s.npy", sources)
    (tmp_path / "s_renamed.csv").write_bytes((tmp_path / "s.npy").read_bytes())
    status, out, err = run(
        ["score", tmp_path / "z_renamed.npy", tmp_path / "s_renamed.csv"], capsys
    )
    assert status == 0 and "read as a .npz file" in err and "read as a .npy file" in err
    same_scores(json.loads(out), clean, tol=0)
    (tmp_path / "text.npy").write_text("1,2\n3,4\n")
    with pytest.raises(ValueError, match="not a valid .npy file .*looks like text"):
        load_array(tmp_path / "text.npy", "latents")


def test_zip_archives_without_arrays_and_duplicate_members_are_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "book.xlsx", "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(ValueError, match="without NumPy arrays"):
        load_array(tmp_path / "book.xlsx", "latents")
    one = tmp_path / "one.npy"
    np.save(one, np.zeros((5, 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        with zipfile.ZipFile(tmp_path / "dup.npz", "w") as archive:
            archive.write(one, "latents.npy")
            archive.write(one, "latents.npy")
    with pytest.raises(ValueError, match="several arrays named 'latents'"):
        load_array(tmp_path / "dup.npz", "latents")


def test_three_d_and_one_row_files_are_refused(tmp_path, data, capsys):
    _, sources = data
    np.save(tmp_path / "s.npy", sources)
    np.save(tmp_path / "cube.npy", np.zeros((N, 2, 2)))
    status, _, err = run(["score", tmp_path / "cube.npy", tmp_path / "s.npy"], capsys)
    assert refused(status, err, "must be 2-D")
    (tmp_path / "row.csv").write_text("a,b\n1,2\n")
    status, _, err = run(["score", tmp_path / "row.csv", tmp_path / "row.csv"], capsys)
    assert refused(status, err, "at least 2 rows")
    (tmp_path / "nan.csv").write_text("a,b\n" + "1,nan\n" * 10)
    status, _, err = run(["score", tmp_path / "nan.csv", tmp_path / "s.npy"], capsys)
    assert refused(status, err, "contains NaN")


# ------------------------------------------------------------ 3. dtypes, ranges


@pytest.mark.parametrize("dtype", [">f8", ">f4", "<f2", ">i8", ">i4", ">u2", "<u8", "i1"])
def test_every_byte_order_and_width_is_converted(tmp_path, data, dtype, capsys):
    latents, sources = data
    values = latents.astype(dtype) if dtype[-2] == "f" else np.round(latents * 3).astype(dtype)
    native = values.astype(values.dtype.newbyteorder("="))
    if native.dtype == np.float16:
        native = native.astype(np.float32)
    expected = infomec.score(latents=native, sources=sources.astype(">i8").astype(np.int64))
    result = infomec.score(latents=values, sources=sources.astype(">i8"))
    same_scores(result, expected, tol=0)
    np.save(tmp_path / "z.npy", values)
    np.save(tmp_path / "s.npy", sources.astype(">i4"))
    same_scores(score_cli([tmp_path / "z.npy", tmp_path / "s.npy"], capsys), expected, tol=0)


@pytest.mark.parametrize("preset", ["reference", "paper", "tripod"])
@pytest.mark.parametrize("continuous", [False, True])
def test_integer_latents_with_huge_offsets_score_like_their_twin(data, preset, continuous):
    _, sources = data
    rng = np.random.default_rng(3)
    codes = sources + rng.integers(0, 2, size=sources.shape)
    kwargs = {"preset": preset, "discrete_latents": False if continuous else None}
    twin = infomec.score(latents=codes, sources=sources, **kwargs)
    for shifted in (
        codes + 2**62,
        codes + 2**55,
        codes + np.iinfo(np.int64).min,  # down to int64's minimum
        codes.astype(np.uint64) + np.uint64(2**64 - 8),  # up to uint64's maximum
    ):
        result = infomec.score(latents=shifted, sources=sources, **kwargs)
        same_scores(result, twin, tol=1e-9)


def test_float_latents_near_the_float64_maximum_keep_their_active_set(data):
    latents, sources = data
    twin = infomec.score(latents=latents, sources=sources)
    big = latents / np.abs(latents).max() * 1.7e308
    big[:, 2] = 0.5 * big[:, 2] - 1.6e308  # a spread that overflows max - min elsewhere
    result = infomec.score(latents=big, sources=sources)
    assert result["infomec"]["active_latents"].all()
    assert result.infom == pytest.approx(twin.infom, abs=0.05)


@pytest.mark.parametrize(
    "values, rule, active",
    [
        (np.array([[-(2**63), 0], [2**63 - 1, 1]], dtype=np.int64), "range>max/20", [1, 0]),
        (np.array([[0, 5], [2**64 - 1, 6]], dtype=np.uint64), "range>max/20", [1, 0]),
        (np.array([[2**62, 2**62], [2**62 + 3, 2**62 + 1]]), "range>max/2", [1, 0]),
        (np.array([[2**62, 2**62], [2**62 + 3, 2**62 + 1]]), "range>0", [1, 1]),
        (np.array([[-1.7e308, 0.0], [1.7e308, 1e300]]), "range>max/20", [1, 0]),
        (np.array([[-1.7e308, 0.0], [1.7e308, 1e300]]), "range>0", [1, 1]),
        (np.array([[-1.7e308, 0.0], [1.7e308, 1e300]] * 4), "iqr>max/10", [1, 0]),
        (np.array([[2**62 + v, 2**62 + v // 3] for v in range(8)]), "iqr>max/2", [1, 0]),
        (np.array([[2**62 + v, 2**62 + v // 3] for v in range(8)]), "iqr>0.1", [1, 1]),
    ],
)
def test_pruning_ranges_are_exact(values, rule, active):
    assert PruningRule.parse(rule).active(values).tolist() == [bool(a) for a in active]


def test_pandas_nullable_columns_are_converted_and_na_refused(data, clean):
    latents, sources = data
    frame = pd.DataFrame(latents, columns=["x", "y", "z"]).astype("Float64")
    source_frame = pd.DataFrame(sources, columns=["a", "b", "c"]).astype("Int64")
    result = infomec.score(latents=frame, sources=source_frame)
    same_scores(result, clean, tol=0)
    assert result.latent_names == ["x", "y", "z"] and result.source_names == ["a", "b", "c"]
    flags = pd.Series(sources[:, 0] > 1, dtype="boolean", name="big")
    assert infomec.score(latents=latents, sources=flags).source_names == ["big"]
    source_frame.iloc[5, 1] = pd.NA
    missing = "sources column 'b' (has a missing value|contains NaN).* row 5"
    with pytest.raises(ValueError, match=missing):
        infomec.score(latents=latents, sources=source_frame)


# ------------------------------------------------------------------ 4. hints


def test_float_codes_get_a_discrete_hint(data):
    _, sources = data
    with pytest.warns(InfoMECWarning, match="--discrete"):
        infomec.score(latents=sources.astype(float), sources=sources)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InfoMECWarning)
        infomec.score(latents=sources.astype(float), sources=sources, discrete_latents=True)


def test_continuous_latents_get_no_discrete_hint(data):
    latents, sources = data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        infomec.score(latents=latents, sources=sources)
    assert not [w for w in caught if "discrete" in str(w.message)]


def test_k_beyond_every_class_is_clamped_and_recorded(data):
    latents, sources = data
    largest = max(np.bincount(column).max() for column in sources.T)
    with pytest.warns(InfoMECWarning, match=f"k={largest - 1}"):
        result = infomec.score(latents=latents, sources=sources, k=2**64)
    assert result.settings["k"] == largest - 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same = infomec.score(latents=latents, sources=sources, k=largest - 1)
    same_scores(result, same, tol=0)
    with pytest.warns(InfoMECWarning, match="smallest"):
        infomec.score(latents=latents, sources=sources, k=largest - 5)


@pytest.mark.parametrize("k", [0, -1, 3.0, "3", True, None])
def test_k_must_be_a_positive_integer(data, k):
    latents, sources = data
    if k is None:
        assert infomec.score(latents=latents, sources=sources, k=k).settings["k"] == 10
        return
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        infomec.score(latents=latents, sources=sources, k=k)


@pytest.mark.parametrize(
    "names, match",
    [
        (["a", "a", "b"], "'a' twice"),
        (["a", "", "b"], "empty name at position 1"),
        (["a", "  ", "b"], "empty name at position 1"),
        ("a,b,c", "list of names"),
        (["a", "b"], "has 2 entries"),
    ],
)
def test_names_are_unique_and_non_empty(data, names, match):
    latents, sources = data
    with pytest.raises(ValueError, match=match):
        infomec.score(latents=latents, sources=sources, source_names=names)
    with pytest.raises(ValueError, match=match.replace("source", "latent")):
        infomec.score(latents=latents, sources=sources, latent_names=names)


def test_cli_names_are_checked(tmp_path, data, capsys):
    latents, sources = data
    np.save(tmp_path / "z.npy", latents)
    np.save(tmp_path / "s.npy", sources)
    status, _, err = run(
        ["score", tmp_path / "z.npy", tmp_path / "s.npy", "--latent-names", "a,,b"], capsys
    )
    assert refused(status, err, "latent_names has an empty name")
    status, _, err = run(
        ["score", tmp_path / "z.npy", tmp_path / "s.npy", "--source-names", "a,b,a"], capsys
    )
    assert refused(status, err, "source_names has 'a' twice")


def test_warnings_and_errors_use_the_given_names(data):
    latents, sources = data
    dead = np.column_stack([latents, np.zeros(N)])
    with pytest.warns(InfoMECWarning) as caught:
        infomec.score(
            latents=dead,
            sources=np.column_stack([sources, np.zeros(N, int)]),
            latent_names=["x", "y", "z", "dead"],
            source_names=["shape", "size", "colour", "flat"],
            pruning="none",
        )
    text = " ".join(str(w.message) for w in caught)
    assert "dead" in text and "flat" in text
    assert "z3" not in text and "s3" not in text
    broken = latents.copy()
    broken[4, 1] = np.nan
    with pytest.raises(ValueError, match="latents column 'speed' contains NaN"):
        infomec.score(latents=broken, sources=sources, latent_names=["a", "speed", "c"])


# ------------------------------------------------------------------ 5. API arguments


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"metrics": None}, "metrics must be 'all', a comma-separated string or a list"),
        ({"metrics": 5}, "metrics must be"),
        ({"metrics": [1, 2]}, "metrics must be"),
        ({"metrics": ""}, "unknown metric"),
        ({"test_size": "0.3", "metrics": "dci"}, "test_size must be a number in \\(0, 1\\)"),
        ({"test_size": 0.3 + 0j}, "test_size must be"),
        ({"test_size": 1.5}, "test_size must be"),
        ({"discrete_latents": "yes"}, "discrete_latents must be True, False or None"),
        ({"preset": None}, "preset must be one of"),
        ({"preset": ["paper"]}, "preset must be one of"),
        ({"seed": -1}, "seed must be"),
        ({"seed": 1.5}, "seed must be"),
        ({"seed": 2**32}, "seed must be an integer from 0 to 4294967295"),
        ({"max_source_values": "many"}, "max_source_values must be"),
        ({"infoe_tol": "small"}, "infoe_tol must be"),
        ({"dci_model": 3}, "dci_model must be one of"),
        ({"aggregate": None, "pruning": 5}, "pruning rule"),
    ],
)
def test_bad_api_arguments_raise_value_error(data, kwargs, match):
    latents, sources = data
    with pytest.raises(ValueError, match=match):
        infomec.score(latents=latents, sources=sources, **kwargs)


def test_a_wrong_call_signature_is_a_type_error(data):
    latents, sources = data
    with pytest.raises(TypeError):
        infomec.score(latents, sources)  # keyword-only
    with pytest.raises(TypeError):
        infomec.score(latents=latents, sources=sources, bins=3)


def test_cli_and_api_print_the_same_message(tmp_path, data, capsys):
    latents, sources = data
    np.save(tmp_path / "z.npy", latents)
    np.save(tmp_path / "s.npy", sources)
    with pytest.raises(ValueError) as caught:
        infomec.score(latents=latents, sources=sources, source_names=["a", "a", "b"])
    status, _, err = run(
        ["score", tmp_path / "z.npy", tmp_path / "s.npy", "--source-names", "a,a,b"], capsys
    )
    assert status == 2 and str(caught.value) in err


def test_numbers_in_other_containers_read_alike(data, clean):
    latents, sources = data
    same_scores(
        infomec.score(latents=latents.astype(object), sources=sources.tolist()), clean, tol=0
    )
    result = infomec.score(latents=latents, sources=sources, infoe_tol=np.float32(1e-6))
    assert result.settings["infoe_tol"] == pytest.approx(1e-6)
    with pytest.raises(ValueError, match="unsupported dtype object"):
        infomec.score(latents=np.array([[1.0, None]] * N, dtype=object), sources=sources)
