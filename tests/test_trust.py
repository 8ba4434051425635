"""Trust II: every input read one way by every door, shown in the digest, or refused.

Each test states one rule of the input layer (``infomec/inputs/``) and feeds it the
plausible forms a user has -- files written by pandas, spreadsheets and numpy, labels
with stray spaces or another Unicode form, per-sample batches -- checking that each
gives the clean twin's number, a one-line refusal, or a warning that names the column.
"""

from __future__ import annotations

import json
import unicodedata
import warnings

import numpy as np
import pandas as pd
import pytest

import cli
import infomec
from infomec import InfoMECWarning
from infomec.inputs.files import load_array
from infomec.inputs.labels import normalize_labels
from infomec.inputs.pipeline import inspect_inputs, prepare_sample
from infomec.sweep import Run, sweep

N = 600
SHAPES = np.array(["cube", "sphere", "cylinder", "cone"])


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
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


def one_line_error(status: int, err: str, *fragments: str) -> bool:
    errors = [line for line in err.strip().splitlines() if line.startswith("infomec: error:")]
    return (
        status == 2
        and len(errors) == 1
        and "Traceback" not in err
        and all(fragment in errors[0] for fragment in fragments)
    )


def scores(result) -> tuple[float, float, float]:
    return result.infom, result.infoe, result.infoc


def json_scores(out: str) -> tuple[float, float, float]:
    payload = json.loads(out)["infomec"]
    return payload["infom"], payload["infoe"], payload["infoc"]


# ------------------------------------------------------------ one path, every door


def test_same_values_same_result_through_every_door(tmp_path, capsys, data, clean):
    """numpy, DataFrames, CSV and npz files, Collector batches, sweep, report: one result."""
    latents, sources = data
    labelled = pd.DataFrame(
        {"shape": SHAPES[sources[:, 0]], "size": sources[:, 1], "hue": sources[:, 2]}
    )
    latent_frame = pd.DataFrame(latents, columns=["a", "b", "c"])
    expected = scores(infomec.score(latents=latent_frame, sources=labelled))
    # Text labels sort differently from their codes, but label encoding is invariant.
    assert expected == pytest.approx(scores(clean), abs=1e-12)

    collector = infomec.Collector()
    for start in range(0, N, 70):
        collector.update(
            latents=latent_frame.iloc[start : start + 70], sources=labelled.iloc[start : start + 70]
        )
    assert scores(collector.score()) == expected

    latent_frame.to_csv(tmp_path / "z.csv", index=False)
    labelled.to_csv(tmp_path / "s.csv")  # with pandas' unnamed index column
    np.savez(tmp_path / "z.npz", latents=latents)
    np.savez(tmp_path / "s.npz", sources=labelled.to_numpy(dtype=object).astype(str))
    for pair in (("z.csv", "s.csv"), ("z.npz", "s.csv"), ("z.csv", "s.npz")):
        status, out, err = run(["score", *(tmp_path / p for p in pair), "-q"], capsys)
        assert status == 0, err
        assert json_scores(out) == pytest.approx(expected, abs=1e-12), pair

    frame = sweep(
        [Run("csv", latents=str(tmp_path / "z.csv"), sources=str(tmp_path / "s.csv"))],
        progress=False,
    )
    assert frame.loc[0, "error"] == ""
    assert frame.loc[0, "infomec.infom"] == pytest.approx(expected[0], abs=1e-12)

    result, _, _ = infomec.report.build_report(
        latents=latent_frame,
        sources=labelled,
        out_dir=tmp_path / "rep",
        n_boot=0,
        progress=False,
    )
    assert scores(result) == expected
    assert "Input digest" in (tmp_path / "rep" / "report.html").read_text()


def test_every_result_carries_the_digest(data):
    latents, sources = data
    result = infomec.score(latents=latents, sources=sources)
    digest = json.loads(result.to_json())["input_digest"]
    assert digest["rows"] == N
    assert [c["status"] for c in digest["latents"]] == ["active"] * 3
    assert {c["kind"] for c in digest["latents"]} == {"continuous"}
    assert digest["sources"][0]["distinct"] == 4


# ------------------------------------------------------------------------ labels


@pytest.mark.parametrize(
    "spoiled",
    [
        lambda labels: np.char.add(labels, " "),  # trailing spaces
        lambda labels: np.char.add("  ", labels),
        lambda labels: np.array([unicodedata.normalize("NFD", v) for v in labels]),
        lambda labels: labels.astype(object),
    ],
)
def test_labels_are_normalized_in_every_door(data, clean, spoiled):
    latents, sources = data
    labels = np.array(["café", "thé", "naïve", "crème"])[sources[:, 0]]
    marred = labels.astype(object)  # a str array would truncate longer spellings
    marred[::3] = spoiled(labels[::3])
    expected = infomec.score(latents=latents, sources=np.column_stack([labels, sources[:, 1:]]))
    assert scores(expected) == pytest.approx(scores(clean), abs=1e-12)
    mixed = pd.DataFrame({"s0": marred, "s1": sources[:, 1], "s2": sources[:, 2]})
    assert scores(infomec.score(latents=latents, sources=mixed)) == scores(expected)
    collector = infomec.Collector()
    collector.update(latents=latents[:300], sources=mixed.iloc[:300])
    collector.update(latents=latents[300:], sources=mixed.iloc[300:])
    assert scores(collector.score()) == scores(expected)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "nan",
        "NaN",
        "NA",
        "n/a",
        "N/A",
        "null",
        "NULL",
        "None",
        "<NA>",
        "#N/A",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#NULL!",
    ],
)
def test_missing_and_error_labels_are_refused_naming_column_and_row(data, bad):
    latents, sources = data
    labels = SHAPES[sources[:, 0]].astype(object)
    labels[17] = bad
    frame = pd.DataFrame({"shape": labels, "n": sources[:, 1]})
    with pytest.raises(ValueError, match=r"sources column 'shape' has .* at row 17"):
        infomec.score(latents=latents, sources=frame)


def test_missing_labels_in_a_csv_are_refused(tmp_path, capsys, data):
    latents, sources = data
    np.save(tmp_path / "z.npy", latents)
    labels = SHAPES[sources[:, 0]].astype(object)
    labels[5] = "#N/A"
    pd.DataFrame({"shape": labels, "n": sources[:, 1]}).to_csv(tmp_path / "s.csv", index=False)
    status, _, err = run(["score", tmp_path / "z.npy", tmp_path / "s.csv"], capsys)
    assert one_line_error(status, err, "'shape'", "#N/A", "row 5")


def test_masked_entries_are_refused():
    latents = np.ma.masked_array(np.ones((40, 2)), mask=False)
    latents.mask[7, 1] = True
    with pytest.raises(ValueError, match="latents column 1 has a masked .* row 7"):
        infomec.score(latents=latents, sources=np.arange(40) % 2)
    unmasked = np.ma.masked_array(np.arange(40.0) % 4 + 0.1 * np.sin(np.arange(40)), mask=False)
    assert infomec.score(latents=unmasked, sources=np.arange(40) % 4).infom == 1.0


def test_case_only_differences_warn_and_stay_apart():
    column = np.array(["Cube", "cube", "sphere"] * 10)
    with pytest.warns(InfoMECWarning, match="differ only by case .*'Cube' and 'cube'"):
        normalized = normalize_labels(column, "'shape'")
    assert np.unique(normalized.values).size == 3


def test_number_and_boolean_spellings_are_unified_by_value():
    assert normalize_labels(np.array(["1", "1.0", "01", "2"]), "x").values.tolist() == [1, 1, 1, 2]
    mixed = normalize_labels(np.array(["1", "1.0", "cube", "2.50", "2.5"]), "x").values
    assert mixed.tolist() == ["1", "1", "cube", "2.5", "2.5"]
    assert normalize_labels(np.array(["true", "TRUE", "False"]), "x").values.tolist() == [
        True,
        True,
        False,
    ]
    with pytest.raises(ValueError, match="mixes booleans .* with numbers"):
        normalize_labels(np.array(["true", "1", "0", "false"]), "x")


def test_object_column_mixing_numbers_and_labels_is_read_by_value(data):
    latents, sources = data
    column = np.where(sources[:, 0] == 0, "cube", sources[:, 0]).astype(object)
    as_float = column.copy()
    as_float[::2] = [float(v) if v != "cube" else v for v in column[::2]]
    a = infomec.score(latents=latents, sources=pd.DataFrame({"s": column}))
    b = infomec.score(latents=latents, sources=pd.DataFrame({"s": as_float}))
    assert scores(a) == scores(b)


# ------------------------------------------------------------ suspicious columns


@pytest.mark.parametrize("start, step", [(0, 1), (1, 1), (1000, 1), (5, 3)])
@pytest.mark.parametrize("shuffled", [False, True])
def test_row_identifier_latent_is_refused(data, start, step, shuffled):
    latents, sources = data
    ids = start + step * np.arange(N)
    if shuffled:
        ids = np.random.default_rng(0).permutation(ids)
    with_id = pd.DataFrame({"id": ids, "a": latents[:, 0], "b": latents[:, 1]})
    with pytest.raises(ValueError, match="latents column 'id' holds 600 distinct integers"):
        infomec.score(latents=with_id, sources=sources)
    with pytest.raises(ValueError, match="latents column 'id' holds"):
        infomec.score(latents=with_id.astype(float), sources=sources)


def test_row_identifier_source_is_named_not_binned(data):
    latents, sources = data
    with pytest.raises(ValueError, match="sources column 's1' holds 600 distinct integers 1..600"):
        infomec.score(latents=latents, sources=np.column_stack([sources[:, 0], 1 + np.arange(N)]))


def test_many_valued_integer_latents_warn_and_suggest_continuous(data):
    latents, sources = data
    fixed_point = np.round(latents * 1000).astype(np.int64)
    with pytest.warns(InfoMECWarning, match="integers with many distinct values.*--continuous"):
        result = infomec.score(latents=fixed_point, sources=sources)
    assert result.digest["latents"][0]["kind"] == "code"
    as_continuous = infomec.score(latents=fixed_point, sources=sources, discrete_latents=False)
    assert as_continuous.infom == pytest.approx(
        infomec.score(latents=latents, sources=sources).infom, abs=0.02
    )


def test_codes_with_few_values_do_not_warn(data):
    _, sources = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        infomec.score(latents=sources.copy(), sources=sources)


def test_extreme_values_that_set_pruning_are_named(data):
    latents, sources = data
    spoiled = latents.copy()
    spoiled[3, 2] = 500.0
    with pytest.warns(
        InfoMECWarning, match=r"'z2' have ranges set by a few extreme .*dropped z0, z1"
    ):
        result = infomec.score(latents=spoiled, sources=sources)
    statuses = [c["status"] for c in result.digest["latents"]]
    assert statuses == ["pruned (range>max/20)", "pruned (range>max/20)", "active"]
    assert "extreme" in result.digest["latents"][0]["notes"][0]


def test_ordinary_gaussian_latents_do_not_warn_about_extremes():
    rng = np.random.default_rng(3)
    sources = rng.integers(0, 3, (5000, 2))
    latents = sources + rng.standard_normal((5000, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        infomec.score(latents=latents, sources=sources)


def test_factor_values_with_arithmetic_noise_are_recognised(data):
    latents, sources = data
    values = np.array([0.5, 0.6, 0.7, 0.8])[sources[:, 0]]
    noisy = values + 1e-12 * np.random.default_rng(2).standard_normal(N)
    with pytest.raises(ValueError, match=r"codes plus float noise .*numpy.round\(x, 1\)"):
        infomec.score(latents=latents, sources=noisy)


def test_codes_plus_noise_sources_suggest_rounding_and_bins_never_split(data):
    latents, sources = data
    noisy = sources + 0.01 * np.random.default_rng(1).standard_normal(sources.shape)
    with pytest.raises(ValueError, match="codes plus float noise.*round it .numpy.rint"):
        infomec.score(latents=latents, sources=noisy)
    with pytest.warns(InfoMECWarning, match="rounded to its codes before binning"):
        binned = infomec.score(latents=latents, sources=noisy, source_bins=4)
    assert scores(binned) == pytest.approx(
        scores(infomec.score(latents=latents, sources=sources)), abs=1e-12
    )


# ------------------------------------------------------------------- text files


def test_reordered_rows_of_two_pandas_csvs_are_refused(tmp_path, capsys, data):
    latents, sources = data
    pd.DataFrame(latents).add_prefix("z").to_csv(tmp_path / "z.csv")
    shuffled = pd.DataFrame(sources).add_prefix("s").sample(frac=1, random_state=0)
    shuffled.to_csv(tmp_path / "s.csv")
    status, _, err = run(["score", tmp_path / "z.csv", tmp_path / "s.csv"], capsys)
    assert one_line_error(status, err, "different row indexes", "another order")
    shuffled.sort_index().to_csv(tmp_path / "s_sorted.csv")
    status, out, err = run(["score", tmp_path / "z.csv", tmp_path / "s_sorted.csv"], capsys)
    assert status == 0, err


def test_named_index_column_in_another_order_is_compared(tmp_path, capsys, data, clean):
    latents, sources = data
    ids = 100 + np.arange(N)
    pd.DataFrame({"id": ids, "a": latents[:, 0], "b": latents[:, 1], "c": latents[:, 2]}).to_csv(
        tmp_path / "z.csv", index=False
    )
    frame = pd.DataFrame({"id": ids, "s0": sources[:, 0], "s1": sources[:, 1], "s2": sources[:, 2]})
    frame.to_csv(tmp_path / "s.csv", index=False)
    status, out, err = run(["score", tmp_path / "z.csv", tmp_path / "s.csv", "-q"], capsys)
    assert status == 0 and json_scores(out) == pytest.approx(scores(clean), abs=1e-12)
    frame.iloc[::-1].to_csv(tmp_path / "s_rev.csv", index=False)
    status, _, err = run(["score", tmp_path / "z.csv", tmp_path / "s_rev.csv"], capsys)
    assert one_line_error(status, err, "different row indexes")


def test_index_option_per_file_and_refused_where_it_does_not_fit(tmp_path, capsys, data, clean):
    latents, sources = data
    pd.DataFrame(latents).add_prefix("z").to_csv(tmp_path / "z.csv", index_label="row")
    pd.DataFrame(sources).add_prefix("s").to_csv(tmp_path / "s.csv", index=False)
    status, _, err = run(
        ["score", tmp_path / "z.csv", tmp_path / "s.csv", "--index-col", "0"], capsys
    )
    assert one_line_error(status, err, "s.csv", "repeats values", "not a row index")
    status, out, err = run(
        ["score", tmp_path / "z.csv", tmp_path / "s.csv", "--latents-index-col", "row", "-q"],
        capsys,
    )
    assert status == 0 and json_scores(out) == pytest.approx(scores(clean), abs=1e-12)
    np.save(tmp_path / "s.npy", sources)
    status, _, err = run(
        ["score", tmp_path / "z.csv", tmp_path / "s.npy", "--index-col", "row"], capsys
    )
    assert one_line_error(status, err, "applies to text files only", "--sources-index-col")
    pd.DataFrame(latents).add_prefix("z").to_csv(tmp_path / "plain.csv", index=False)
    status, _, err = run(
        ["score", tmp_path / "plain.csv", tmp_path / "s.csv", "--latents-index-col", "0"], capsys
    )
    assert one_line_error(status, err, "holds measurements, not row labels")


@pytest.mark.parametrize("decimal", [",", "."])
def test_thousands_separators_detected_or_refused(tmp_path, decimal):
    rng = np.random.default_rng(2)
    values = 1000 * rng.integers(1, 9, 200) + rng.integers(1, 999, 200) + 0.25
    english = [f"{v:,.2f}" for v in values]  # 1,234.25
    if decimal == ",":  # 1.234,25 in a ';' file: unambiguous
        german = [v.replace(",", "_").replace(".", ",").replace("_", ".") for v in english]
        text = "z;y\n" + "".join(f"{v};0\n" for v in german)
    else:  # "1,234.25" quoted in a ',' file: unambiguous
        text = "z,y\n" + "".join(f'"{v}",0\n' for v in english)
    (tmp_path / "z.csv").write_text(text)
    loaded = load_array(tmp_path / "z.csv", "latents")
    np.testing.assert_allclose(loaded.values[:, 0], values)
    assert loaded.read["thousands"] == ("." if decimal == "," else ",")


def test_ambiguous_thousands_are_refused_until_said(tmp_path):
    path = tmp_path / "z.csv"
    path.write_text("a;b\n1.000;2.500\n3.250;4.000\n5.125;1.000\n")
    with pytest.raises(ValueError, match=r"'1.000' can be read .* --decimal . or --thousands"):
        load_array(path, "latents")
    assert load_array(path, "latents", decimal=".").values[0].tolist() == [1.0, 2.5]
    assert load_array(path, "latents", thousands=".").values[0].tolist() == [1000, 2500]
    path.write_text("a;b\n1.000;2.500\n0.250;4.000\n")  # 0.250 cannot be thousands
    assert load_array(path, "latents").values[1].tolist() == [0.25, 4.0]
    path.write_text("a;b\n1.000.000;2.500\n3.250;4.000\n")  # two dots: thousands
    assert load_array(path, "latents").values[0].tolist() == [1000000, 2500]


def test_wide_file_with_a_long_header(tmp_path, capsys):
    rng = np.random.default_rng(4)
    sources = rng.integers(0, 3, (60, 2))
    latents = rng.standard_normal((60, 3000))
    latents[:, :2] += 3 * sources
    names = [f"latent_with_a_long_name_{j:05d}" for j in range(3000)]  # header > 64 KiB
    pd.DataFrame(latents, columns=names).to_csv(tmp_path / "z.csv", index=False)
    loaded = load_array(tmp_path / "z.csv", "latents")
    assert loaded.values.shape == (60, 3000) and loaded.names == names
    np.testing.assert_array_equal(loaded.values, latents)


@pytest.mark.parametrize("first_row", ["3,7,1", "12,0,5", "-1,4,2"])
def test_headerless_file_whose_first_row_is_integers_reads_as_data(tmp_path, first_row):
    rng = np.random.default_rng(5)
    rows = "\n".join(",".join(f"{v:.3f}" for v in row) for row in rng.standard_normal((30, 3)))
    (tmp_path / "z.csv").write_text(first_row + "\n" + rows + "\n")
    loaded = load_array(tmp_path / "z.csv", "latents")
    assert loaded.names is None and loaded.values.shape == (31, 3)
    assert loaded.values[0].tolist() == [float(v) for v in first_row.split(",")]


def test_excel_sep_line_and_trailing_empty_columns(tmp_path, data):
    latents, sources = data
    body = "\n".join(";".join(f"{v:.6f}".replace(".", ",") for v in row) + ";;;" for row in latents)
    (tmp_path / "z.csv").write_text("sep=;\nx;y;z;;;\n" + body + "\n")
    loaded = load_array(tmp_path / "z.csv", "latents")
    assert loaded.names == ["x", "y", "z"] and loaded.read["sep_line"]
    assert loaded.read["empty_trailing_columns_dropped"] == 3
    np.testing.assert_allclose(loaded.values, latents, atol=1e-6)


def test_inspect_prints_the_digest_without_scoring(tmp_path, capsys, data):
    latents, sources = data
    pd.DataFrame(latents).add_prefix("z").to_csv(tmp_path / "z.csv")
    labels = pd.DataFrame({"shape": SHAPES[sources[:, 0]], "size": sources[:, 1]})
    labels.loc[3, "shape"] = " cube "
    labels.to_csv(tmp_path / "s.csv", index=False)
    status, out, err = run(["inspect", tmp_path / "z.csv", tmp_path / "s.csv"], capsys)
    assert status == 0, err
    assert "index column 1 dropped" in out and "',' delimited" in out
    assert "shape: 1 labels stripped of surrounding spaces" in out
    assert "continuous (float64 dtype)" in out and "active" in out
    status, out, err = run(
        ["inspect", tmp_path / "s.csv", "--role", "sources", "--format", "json"], capsys
    )
    assert status == 0 and json.loads(out)["sources"][0]["kind"] == "label"
    status, _, err = run(["inspect", tmp_path / "nope.csv"], capsys)
    assert one_line_error(status, err, "no such file")


def test_inspect_api_for_one_array():
    digest = inspect_inputs(latents=np.arange(40).reshape(20, 2) % 3)
    assert digest["latents"][0]["kind"] == "code" and digest["latents"][0]["distinct"] == 3


# ----------------------------------------------------------------------- batches


def test_per_sample_updates_are_placed_by_width(data, clean):
    latents, sources = data
    collector = infomec.Collector()
    collector.update(latents=latents[:10], sources=sources[:10])
    for n in range(10, N):
        collector.update(latents=latents[n], sources=sources[n])  # one row each
    assert scores(collector.score()) == scores(clean)


def test_first_per_sample_update_with_a_2d_partner(data, clean):
    latents, sources = data
    collector = infomec.Collector()
    for n in range(N):
        collector.update(latents=latents[n : n + 1], sources=sources[n])
    assert scores(collector.score()) == scores(clean)


def test_per_sample_updates_from_the_first_one(data, clean):
    latents, sources = data
    wide = np.column_stack([latents, latents[:, :1]])  # 4 latents, 3 sources: lengths differ
    collector = infomec.Collector()
    for n in range(N):
        collector.update(latents=wide[n], sources=sources[n])
    assert collector.latents.shape == (N, 4) and collector.sources.shape == (N, 3)
    assert scores(collector.score()) == scores(infomec.score(latents=wide, sources=sources))


def test_unplaceable_1d_updates_are_refused(data):
    latents, sources = data
    collector = infomec.Collector()
    collector.update(latents=latents[:10], sources=sources[:10])
    with pytest.raises(ValueError, match="batch 1: latents have 2 columns but earlier .* 3"):
        collector.update(latents=latents[0, :2], sources=sources[0])  # one row, too narrow
    with pytest.raises(ValueError, match="1-D sources of 4 values cannot be placed"):
        collector.update(latents=latents[:5], sources=np.arange(4))
    assert len(collector) == 10


def test_float32_and_float64_batches_are_one_value(data):
    _, sources = data
    values = (sources[:, :1] * 0.1).astype(np.float32)
    collector = infomec.Collector()
    collector.update(latents=values[:300], sources=sources[:300])
    collector.update(latents=values[300:].astype(np.float64), sources=sources[300:])
    with pytest.warns(InfoMECWarning, match="joined as float32"):
        joined = collector.latents
    assert joined.dtype == np.float32
    assert np.unique(joined).size == np.unique(values).size


def test_prepare_sample_is_the_door_of_the_metric_functions(data):
    latents, sources = data
    sample = prepare_sample(latents, pd.DataFrame({"shape": SHAPES[sources[:, 0]]}))
    assert sample.digest["sources"][0]["kind"] == "label"
    assert sample.sources.cardinalities.tolist() == [4]
