"""Sweeps over many runs: manifests, failing runs, parallel runs, the ``sweep`` command."""

from __future__ import annotations

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

import cli
import infomec
from infomec.sweep import Run, read_manifest, runs_from_paths, sweep
from infomec.sweep_table import score_columns


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
    # The sweep succeeds: its failed run is a warning, not an error.
    assert "infomec: error:" not in stderr
    failed = [line for line in stderr.splitlines() if line.startswith("infomec: warning: run")]
    assert len(failed) == 1 and failed[0].startswith("infomec: warning: run corrupt failed: ")
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


# ------------------------------------------------------------------ manifests, outputs


@pytest.mark.parametrize(
    "header, row",
    [
        ("run,latents,kl.beta,my col", "r,../qlae_0.npz,4.0,x"),
        ("run, latents ,beta.1", "r,../qlae_0.npz,2"),
    ],
)
def test_manifest_columns_with_dots_and_spaces_are_carried(folder, tmp_path, capsys, header, row):
    (folder / "runs" / "odd.csv").write_text(f"{header}\n{row}\n")
    out = tmp_path / "out"
    argv = ["sweep", "--manifest", folder / "runs" / "odd.csv", "--sources", folder / "sources.npz"]
    status, stdout, stderr = run([*argv, "--out", out], capsys)
    assert status == 0, stderr
    assert "scored 1 of 1" in stdout and (out / "sweep.png").is_file()
    frame = pd.read_csv(out / "sweep.csv", keep_default_na=False, dtype=str)
    extras = [name.strip() for name in header.split(",")[2:]]
    assert [column for column in frame.columns if column in extras] == extras
    scores = sweep(read_manifest(folder / "runs" / "odd.csv", sources=folder / "sources.npz"))
    assert score_columns(scores) == ["infomec.infom", "infomec.infoe", "infomec.infoc"]


@pytest.mark.parametrize(
    "header, message",
    [
        ("run,latents,latents", "column 'latents' appears twice"),
        ("run,latents, run", "column 'run' appears twice"),
        ("latents,error", "column 'error' is reserved"),
        ("latents,infomec.infom", "has the name of a score column"),
    ],
)
def test_colliding_manifest_columns_are_refused_before_writing(
    folder, tmp_path, capsys, header, message
):
    manifest = tmp_path / "runs.csv"
    cells = ",".join([str(folder / "qlae_0.npz")] * len(header.split(",")))
    manifest.write_text(f"{header}\n{cells}\n")
    out = tmp_path / "out"
    status, _, stderr = run(
        ["sweep", "--manifest", manifest, "--sources", folder / "sources.npz", "--out", out],
        capsys,
    )
    assert status == 2 and message in stderr and len(stderr.splitlines()) == 1
    assert not out.exists()


def test_score_columns_of_any_table():
    frame = pd.DataFrame(
        {"run": ["a"], "kl.beta": ["1"], "infomec.infom": [0.5], "n_samples": pd.array([3])}
    )
    assert score_columns(frame) == ["infomec.infom"]  # a text column with a dot is not


def test_sweep_never_overwrites_its_manifest(folder, tmp_path, capsys, monkeypatch):
    manifest = tmp_path / "sweep.csv"
    manifest.write_text(f"latents\n{folder / 'qlae_0.npz'}\n")
    before = manifest.read_text()
    monkeypatch.chdir(tmp_path)

    def never(*args, **kwargs):
        raise AssertionError("scored although --out was refused")

    monkeypatch.setattr("infomec.sweep.sweep", never)
    status, _, stderr = run(
        ["sweep", "--manifest", "sweep.csv", "--sources", folder / "sources.npz", "--out", "."],
        capsys,
    )
    assert status == 2 and "sweep.csv: is an input of this run" in stderr
    assert manifest.read_text() == before


def test_sweep_out_checked_before_scoring(folder, tmp_path, capsys, monkeypatch):
    (tmp_path / "file").write_text("not a folder")

    def never(*args, **kwargs):
        raise AssertionError("scored although --out was refused")

    monkeypatch.setattr("infomec.sweep.sweep", never)
    argv = ["sweep", folder / "qlae_0.npz", "--sources", folder / "sources.npz", "--out"]
    status, _, stderr = run([*argv, tmp_path / "file"], capsys)
    assert status == 2 and "exists and is not a folder" in stderr


def test_sweep_into_a_folder_keeps_other_files_and_replaces_its_own(folder, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    sources = ["--sources", folder / "sources.npz", "--out", out]
    status, _, stderr = run(["sweep", folder / "qlae_0.npz", *sources], capsys)
    assert status == 0, stderr
    assert (out / "sweep.png").is_file()
    # No run scored: the new set is sweep.csv and sweep.json; the old sweep.png goes with
    # the old set.
    status, _, _ = run(["sweep", folder / "corrupt.npz", *sources], capsys)
    assert status == 2
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "notes.txt",
        "sweep.csv",
        "sweep.json",
    ]
    assert (out / "notes.txt").read_text() == "mine"
