"""Sweeps over many runs: manifests, failing runs, parallel runs, the ``sweep`` command."""

from __future__ import annotations

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

import cli
import infomec
from infomec.sweep import Run, read_manifest, runs_from_paths, score_columns, sweep


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Sources, three runs of two models, a corrupt file and a manifest that lists them."""
    folder = tmp_path_factory.mktemp("sweep")
    rng = np.random.default_rng(3)
    sources = rng.integers(0, 3, size=(300, 2))
    np.savez(folder / "sources.npz", sources=sources, source_names=np.array(["shape", "size"]))
    for name, mix in (("qlae_0", 0.0), ("qlae_1", 0.05), ("ae_0", 0.7)):
        mixing = np.array([[1 - mix, mix], [mix, 1 - mix]])
        latents = (sources / 2 + 0.1 * rng.standard_normal(sources.shape)) @ mixing
        np.savez(folder / f"{name}.npz", latents=latents)
    (folder / "corrupt.npz").write_bytes(b"not a zip file")
    (folder / "runs").mkdir()
    (folder / "runs" / "runs.csv").write_text(
        "run,latents,sources,model,seed,beta\n"
        "q0,../qlae_0.npz,../sources.npz,qlae,0,1.0\n"
        "q1,../qlae_1.npz,,qlae,1,1.0\n"
        "a0,../ae_0.npz,../sources.npz,ae,0,4.0\n"
        "bad,../corrupt.npz,../sources.npz,ae,1,4.0\n"
    )
    return folder


def test_runs_from_paths_names_runs_after_their_files():
    runs = runs_from_paths(["x/latents.npz", "y/latents.npz", "z.npy"], "s.npz")
    assert [run.name for run in runs] == ["x/latents", "y/latents", "z"]
    assert all(run.sources == "s.npz" for run in runs)


def test_manifest_paths_are_relative_to_the_manifest(folder):
    runs = read_manifest(folder / "runs" / "runs.csv", sources=folder / "sources.npz")
    assert [run.name for run in runs] == ["q0", "q1", "a0", "bad"]
    assert runs[0].latents == folder / "runs" / ".." / "qlae_0.npz"
    assert runs[0].latents.is_file() and runs[0].sources.is_file()
    assert runs[1].sources == folder / "sources.npz"  # the empty cell falls back
    assert (runs[2].model, runs[2].seed, runs[2].extra) == ("ae", "0", {"beta": "4.0"})


@pytest.mark.parametrize(
    "content, message",
    [
        ("run,model\nr,ae\n", "'latents' column"),
        ("latents\n", "no run"),
        ("latents\nz.npz\n", "no sources"),
    ],
)
def test_bad_manifests_are_refused(tmp_path, content, message):
    (tmp_path / "runs.csv").write_text(content)
    with pytest.raises(ValueError, match=message):
        read_manifest(tmp_path / "runs.csv")


def test_missing_manifest(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such manifest"):
        read_manifest(tmp_path / "runs.csv")


def test_a_failing_run_is_recorded_and_the_others_are_scored(folder):
    runs = read_manifest(folder / "runs" / "runs.csv", sources=folder / "sources.npz")
    frame = sweep(runs, n_jobs=1)
    assert frame["run"].tolist() == ["q0", "q1", "a0", "bad"]
    assert frame["error"].tolist()[:3] == ["", "", ""]
    assert "corrupt.npz" in frame.loc[3, "error"] and "\n" not in frame.loc[3, "error"]
    assert np.isnan(frame.loc[3, "infomec.infom"])
    assert score_columns(frame) == ["infomec.infom", "infomec.infoe", "infomec.infoc"]
    assert frame["beta"].tolist() == ["1.0", "1.0", "4.0", "4.0"]
    assert frame["n_samples"].tolist()[:3] == [300, 300, 300]
    direct = infomec.score(
        latents=np.load(folder / "ae_0.npz")["latents"],
        sources=np.load(folder / "sources.npz")["sources"],
    )
    assert frame.loc[2, "infomec.infom"] == direct.infom
    assert frame.loc[0, "infomec.infom"] > frame.loc[2, "infomec.infom"]


def test_parallel_runs_give_the_same_table(folder):
    runs = read_manifest(folder / "runs" / "runs.csv", sources=folder / "sources.npz")[:3]
    serial = sweep(runs, n_jobs=1)
    parallel = sweep(runs, n_jobs=2)
    columns = ["run", *score_columns(serial), "error"]
    pd.testing.assert_frame_equal(serial[columns], parallel[columns])


def test_in_memory_runs_and_unexpected_errors():
    sources = np.repeat(np.arange(3), 20)[:, None]
    runs = [
        Run(name="ok", latents=sources.copy(), sources=sources),
        Run(name="short", latents=sources[:10].copy(), sources=sources),
    ]
    frame = sweep(runs)
    assert frame.loc[0, "infomec.infom"] == 1.0
    assert frame.loc[0, "latents"] == "array(60, 1)"
    assert "rows" in frame.loc[1, "error"]


@pytest.mark.parametrize(
    "options, message",
    [({"scheduler": "spark"}, "scheduler"), ({"metrics": "nope"}, "unknown metric")],
)
def test_bad_options_fail_the_whole_sweep(options, message):
    sources = np.repeat(np.arange(3), 20)[:, None]
    with pytest.raises(ValueError, match=message):
        sweep([Run(name="r", latents=sources.copy(), sources=sources)], **options)
    with pytest.raises(ValueError, match="no runs"):
        sweep([])


# ----------------------------------------------------------------------- CLI


def run(argv, capsys):
    status = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_sweep_with_a_broken_file(folder, tmp_path, capsys):
    status, stdout, stderr = run(
        [
            "sweep",
            folder / "qlae_0.npz",
            folder / "ae_0.npz",
            folder / "corrupt.npz",
            "--sources",
            folder / "sources.npz",
            "--out",
            tmp_path,
        ],
        capsys,
    )
    assert status == 0, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("infomec: error:")]
    assert len(errors) == 1 and "run corrupt:" in errors[0]
    assert "scored 2 of 3 runs" in stdout
    frame = pd.read_csv(tmp_path / "sweep.csv", keep_default_na=False)
    assert frame["run"].tolist() == ["qlae_0", "ae_0", "corrupt"]
    assert {"run", "model", "seed", "latents", "error", "infomec.infom"} <= set(frame.columns)
    assert matplotlib.image.imread(tmp_path / "sweep.png").std() > 0


def test_cli_sweep_with_a_manifest(folder, tmp_path, capsys):
    manifest = folder / "runs" / "runs.csv"
    status, _, stderr = run(["sweep", "--manifest", manifest, "--out", tmp_path], capsys)
    assert status == 2 and "row 2 has no sources" in stderr  # q1 relies on --sources
    status, stdout, stderr = run(
        ["sweep", "--manifest", manifest, "--sources", folder / "sources.npz", "--out", tmp_path],
        capsys,
    )
    assert status == 0, stderr
    frame = pd.read_csv(tmp_path / "sweep.csv", keep_default_na=False)
    assert frame["model"].tolist() == ["qlae", "qlae", "ae", "ae"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["sweep", "--out", "{tmp}"], "give latents files"),
        (["sweep", "{folder}/qlae_0.npz", "--out", "{tmp}"], "--sources"),
    ],
)
def test_cli_sweep_usage_errors(folder, tmp_path, capsys, argv, message):
    argv = [a.format(folder=folder, tmp=tmp_path) for a in argv]
    status, _, stderr = run(argv, capsys)
    assert status == 2 and message in stderr


def test_cli_sweep_exits_2_when_no_run_is_scored(folder, tmp_path, capsys):
    status, stdout, stderr = run(
        ["sweep", folder / "corrupt.npz", "--sources", folder / "sources.npz", "--out", tmp_path],
        capsys,
    )
    assert status == 2
    assert "scored 0 of 1 runs" in stdout
    assert (tmp_path / "sweep.csv").is_file() and not (tmp_path / "sweep.png").exists()
