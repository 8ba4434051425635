"""Mistakes found by trying the merged tool as a hostile user: read right or refused."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

import cli
import infomec
from infomec.inputs.files import load_array


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    sources = rng.integers(0, 3, (600, 2))
    latents = sources + 0.3 * rng.standard_normal((600, 2))
    return latents, sources


def run(argv, capsys):
    status = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_numbers_python_reads_but_the_parser_does_not_are_one_line_errors(tmp_path, capsys):
    for weird in ("1_0", "\u0661\u0662", "\uff11\uff12"):
        path = tmp_path / "u.csv"
        path.write_text(f"a,b\n1,2\n3,4\n5,6\n{weird},3\n", encoding="utf-8")
        with pytest.raises(ValueError, match="must be plain decimal numbers"):
            load_array(path, "latents")
    np.savez(tmp_path / "s.npz", sources=np.arange(4) % 2)
    status, out, err = run(["score", tmp_path / "u.csv", tmp_path / "s.npz"], capsys)
    assert status == 2 and out == "" and len(err.splitlines()) == 1


def test_integers_beyond_64_bits_are_named(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("a,b\n-53,-121\n1,2\n3,99999999999999999999999\n")
    with pytest.raises(
        ValueError, match=r"column 'b' holds integers beyond 64 bits \(e\.g\. 9{23}\)"
    ):
        load_array(path, "latents")


def test_pandas_default_names_over_integers_are_flagged(tmp_path, data):
    latents, sources = data
    pd.DataFrame((latents * 2).round().astype(int)).to_csv(tmp_path / "z.csv", index=False)
    with pytest.warns(infomec.InfoMECWarning, match="pass --header"):
        assert load_array(tmp_path / "z.csv", "latents").values.shape[0] == 601
    assert load_array(tmp_path / "z.csv", "latents", header=True).values.shape[0] == 600


def test_one_column_with_decimal_commas_is_not_split_into_an_index(tmp_path, data):
    latents, _ = data
    frame = pd.DataFrame({"z0": latents[:, 0]})
    frame.to_csv(tmp_path / "z.csv", sep=";", decimal=",", index=False)
    with pytest.raises(ValueError, match="check the delimiter"):
        load_array(tmp_path / "z.csv", "latents")


def test_float_row_numbers_are_a_row_index(tmp_path, data):
    latents, sources = data
    np.savetxt(tmp_path / "z.csv", np.c_[np.arange(600), latents], delimiter=",")
    with pytest.warns(infomec.InfoMECWarning, match="distinct integers 0..599"):
        loaded = load_array(tmp_path / "z.csv", "latents")
    np.testing.assert_array_equal(loaded.values, latents)


def test_pandas_rows_are_paired_by_index_or_refused(data):
    latents, sources = data
    z, s = pd.DataFrame(latents), pd.DataFrame(sources)
    order = np.random.default_rng(1).permutation(600)
    with pytest.raises(ValueError, match="different row indexes"):
        infomec.score(latents=z, sources=s.iloc[order])
    with pytest.raises(ValueError, match="different row indexes"):
        infomec.Collector().update(latents=z, sources=s.iloc[order])
    aligned = infomec.score(latents=z, sources=s.iloc[order].loc[z.index])
    assert aligned.infom == infomec.score(latents=latents, sources=sources).infom
    # An array on one side carries no index: paired by position, as documented.
    assert infomec.score(latents=z, sources=sources).infom == aligned.infom


def test_test_labels_never_seen_in_training(data):
    latents, sources = data
    with pytest.raises(ValueError, match="shares no value with the training sources"):
        infomec.score(
            latents=latents,
            sources=sources,
            test_latents=latents,
            test_sources=sources + 100,
            metrics="sap",
        )
    some = sources.copy()
    some[:100, 0] = 7
    with pytest.warns(infomec.InfoMECWarning, match="never seen in training"):
        infomec.score(
            latents=latents, sources=sources, test_latents=latents, test_sources=some, metrics="sap"
        )


def test_negative_nmi_is_refused():
    nmi = np.array([[0.5, 0.1], [-0.05, 0.4]])
    for function in (infomec.infom, infomec.infoc):
        with pytest.raises(ValueError, match="non-negative"):
            function(nmi)


@pytest.mark.parametrize("family", ["sap", "modularity", "beta_vae", "factor_vae", "z_max_var"])
def test_latents_whose_variances_overflow_are_refused_by_families_that_take_them(data, family):
    latents, sources = data
    # 1e300: sums fit in float64, squares do not; scores fell to chance levels before.
    with pytest.raises(ValueError, match="sums of squares .* would overflow float64"):
        infomec.score(latents=latents * 1e300, sources=sources, metrics=[family])
    pure = getattr(importlib.import_module(f"infomec.metrics.{family}"), family)
    with pytest.raises(ValueError, match="sums of squares"):
        pure(latents=latents * 1e300, sources=sources)
    # Families that only bin the values still score them; so does InfoMEC.
    result = infomec.score(latents=latents * 1e300, sources=sources, metrics="infomec,mig")
    assert (
        result["mig"]["score"]
        == infomec.score(latents=latents, sources=sources, metrics="mig")["mig"]["score"]
    )


def test_output_through_a_missing_folder_never_reaches_an_input(
    tmp_path, data, capsys, monkeypatch
):
    latents, sources = data
    monkeypatch.chdir(tmp_path)
    np.savez("L.npz", latents=latents)
    np.savez("S.npz", sources=sources)
    before = (tmp_path / "L.npz").read_bytes()
    status, out, err = run(["score", "L.npz", "S.npz", "-o", "nope/../L.npz"], capsys)
    assert status == 2 and "folder nope/.. does not exist" in err and len(err.splitlines()) == 1
    assert (tmp_path / "L.npz").read_bytes() == before


def test_a_sweep_never_writes_over_a_runs_kl_file(tmp_path, data, capsys):
    latents, sources = data
    (tmp_path / "out").mkdir()
    for name in ("a", "b"):
        np.savez(tmp_path / f"{name}.npz", latents=latents)
    np.savez(tmp_path / "S.npz", sources=sources)
    np.save(tmp_path / "kl.npy", np.ones(2))
    with open(tmp_path / "out" / "sweep.png", "wb") as handle:  # a KL file at an output name
        np.save(handle, np.ones(2))
    (tmp_path / "runs.csv").write_text(
        "run,model,latents,kl\na,m,a.npz,kl.npy\nb,m,b.npz,out/sweep.png\n"
    )
    before = (tmp_path / "out" / "sweep.png").read_bytes()
    argv = ["sweep", "--manifest", tmp_path / "runs.csv", "--sources", tmp_path / "S.npz"]
    status, _, err = run([*argv, "--out", tmp_path / "out"], capsys)
    assert status == 2 and "is an input of this run" in err
    assert (tmp_path / "out" / "sweep.png").read_bytes() == before
