"""Provenance: every output says which files (path, size, SHA-256, keys read) and which
library versions produced it."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

import cli
import infomec
from infomec import provenance
from infomec.inputs.files import load_array

VERSION_KEYS = {"infomec", "python", "numpy", "scipy", "scikit-learn", "numba", "pandas"}


@pytest.fixture
def files(tmp_path, rng):
    sources = rng.integers(0, 3, size=(300, 2))
    latents = sources + 0.1 * rng.standard_normal(sources.shape)
    np.savez(tmp_path / "sources.npz", sources=sources, source_names=np.array(["a", "b"]))
    np.savez(tmp_path / "latents.npz", latents=latents)
    return tmp_path, latents, sources


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_file_record_hashes_in_chunks_like_one_read(tmp_path, monkeypatch):
    path = tmp_path / "big.bin"
    payload = np.random.default_rng(0).bytes(3 * 1024 + 17)
    path.write_bytes(payload)
    monkeypatch.setattr(provenance, "CHUNK_BYTES", 1024)  # several chunks, a short last one
    record = provenance.file_record(path, {"format": "npy"})
    assert record["sha256"] == hashlib.sha256(payload).hexdigest()
    assert record["size_bytes"] == len(payload)
    assert record["path"] == str(path) and record["absolute_path"] == str(path.resolve())
    assert record["read"] == {"format": "npy"}


def test_file_record_of_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(OSError, match="cannot be read to hash it"):
        provenance.file_record(tmp_path / "gone.npz")


def test_versions_name_every_library_the_scores_depend_on():
    import numba
    import scipy
    import sklearn

    found = provenance.versions()
    assert set(found) == VERSION_KEYS
    assert found["scipy"] == scipy.__version__ and found["scikit-learn"] == sklearn.__version__
    assert found["numba"] == numba.__version__ and found["pandas"] == pd.__version__


def test_api_results_record_versions_but_no_files(rng):
    sources = rng.integers(0, 3, size=(200, 2))
    result = infomec.score(
        latents=sources + 0.1 * rng.standard_normal(sources.shape), sources=sources
    )
    assert set(result.settings["versions"]) == VERSION_KEYS
    content = json.loads(result.to_json())
    assert content["inputs"] == {}
    assert set(content["settings"]["versions"]) == VERSION_KEYS


def test_loaded_arrays_say_what_was_read(tmp_path, rng):
    np.savez(tmp_path / "z.npz", latents=rng.standard_normal((20, 2)), latent_names=["u", "v"])
    assert load_array(tmp_path / "z.npz", "latents").read == {
        "format": "npz",
        "key": "latents",
        "names_key": "latent_names",
    }
    np.save(tmp_path / "z.npy", np.zeros((20, 2)))
    assert load_array(tmp_path / "z.npy", "latents").read == {"format": "npy"}
    frame = pd.DataFrame({"u": np.arange(20) % 3, "v": np.arange(20) % 2})
    frame.to_csv(tmp_path / "s.csv")  # with pandas' index column
    with pytest.warns(UserWarning, match="dropped column"):
        read = load_array(tmp_path / "s.csv", "sources").read
    assert {key: read[key] for key in ("format", "header", "columns", "index_col_dropped")} == {
        "format": "text",
        "header": True,
        "columns": ["u", "v"],
        "index_col_dropped": "1",
    }
    assert read["delimiter"] == "','" and read["rows"] == 20
    (tmp_path / "plain.csv").write_text("1,2\n3,4\n5,6\n")
    read = load_array(tmp_path / "plain.csv", "sources", index_col="none").read
    assert read["header"] is False and read["columns"] is None


def test_score_json_records_each_input(files, capsys):
    folder, _, _ = files
    argv = ["score", str(folder / "latents.npz"), str(folder / "sources.npz")]
    assert cli.main(argv) == 0
    content = json.loads(capsys.readouterr().out)
    latents = content["inputs"]["latents"]
    assert latents["path"] == str(folder / "latents.npz")
    assert latents["absolute_path"] == str((folder / "latents.npz").resolve())
    assert latents["size_bytes"] == (folder / "latents.npz").stat().st_size
    assert latents["sha256"] == _sha(folder / "latents.npz")
    assert latents["read"]["key"] == "latents"
    assert content["inputs"]["sources"]["read"] == {
        "format": "npz",
        "key": "sources",
        "names_key": "source_names",
    }
    assert set(content["settings"]["versions"]) == VERSION_KEYS


def test_test_files_are_recorded_too(files, capsys, rng):
    folder, _, _ = files
    sources = rng.integers(0, 3, size=(150, 2))
    np.save(folder / "tz.npy", sources + 0.1 * rng.standard_normal(sources.shape))
    np.save(folder / "ts.npy", sources)
    argv = [
        "score", str(folder / "latents.npz"), str(folder / "sources.npz"), "--metrics", "sap",
        "--test-latents", str(folder / "tz.npy"), "--test-sources", str(folder / "ts.npy"),
    ]  # fmt: skip
    assert cli.main(argv) == 0
    inputs = json.loads(capsys.readouterr().out)["inputs"]
    assert list(inputs) == ["latents", "sources", "test_latents", "test_sources"]
    assert inputs["test_sources"]["sha256"] == _sha(folder / "ts.npy")


def test_report_records_inputs_in_scores_json_and_html(files, capsys):
    folder, _, _ = files
    out = folder / "report"
    argv = ["report", str(folder / "latents.npz"), str(folder / "sources.npz"), "--out", str(out)]
    assert cli.main(argv) == 0
    content = json.loads((out / "scores.json").read_text())
    digest = _sha(folder / "sources.npz")
    assert content["inputs"]["sources"]["sha256"] == digest
    assert set(content["settings"]["versions"]) == VERSION_KEYS
    page = (out / "report.html").read_text()
    assert "<h2>Inputs</h2>" in page and digest in page
    assert str((folder / "latents.npz").resolve()) in page
    assert "versions.scikit-learn" in page and "versions.scipy" in page


def test_sweep_json_records_manifest_runs_and_versions(files, capsys, rng):
    folder, _, sources = files
    np.savez(folder / "r2.npz", latents=sources + 0.3 * rng.standard_normal(sources.shape))
    (folder / "runs.csv").write_text("run,latents,model\none,latents.npz,ae\ntwo,r2.npz,ae\n")
    argv = [
        "sweep", "--manifest", str(folder / "runs.csv"), "--sources",
        str(folder / "sources.npz"), "--out", str(folder / "out"),
    ]  # fmt: skip
    assert cli.main(argv) == 0
    content = json.loads((folder / "out" / "sweep.json").read_text())
    assert content["manifest"]["sha256"] == _sha(folder / "runs.csv")
    assert content["sources"]["sha256"] == _sha(folder / "sources.npz")
    assert [run["run"] for run in content["runs"]] == ["one", "two"]
    assert content["runs"][1]["latents"]["sha256"] == _sha(folder / "r2.npz")
    assert content["runs"][1]["sources"]["sha256"] == _sha(folder / "sources.npz")
    assert content["options"]["metrics"] == "infomec"
    assert set(content["versions"]) == VERSION_KEYS


def test_sweep_json_notes_an_unreadable_run_file(files, capsys):
    folder, _, _ = files
    argv = [
        "sweep", str(folder / "latents.npz"), str(folder / "missing.npz"),
        "--sources", str(folder / "sources.npz"), "--out", str(folder / "out"),
    ]  # fmt: skip
    assert cli.main(argv) == 0
    runs = json.loads((folder / "out" / "sweep.json").read_text())["runs"]
    assert "error" in runs[1]["latents"] and "sha256" in runs[0]["latents"]
