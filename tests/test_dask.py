"""Sweeps on a real dask.distributed LocalCluster (loopback) equal the local run."""

from __future__ import annotations

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

import cli  # noqa: E402
from infomec.sweep import Run, sweep  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        processes=True,
        dashboard_address=None,
    ) as local_cluster:
        yield local_cluster.scheduler_address


@pytest.fixture
def runs(tmp_path):
    rng = np.random.default_rng(0)
    sources = rng.integers(0, 4, size=(800, 3))
    np.savez(tmp_path / "sources.npz", sources=sources)
    paths = []
    for index, noise in enumerate((0.05, 0.5, 2.0)):
        path = tmp_path / f"run{index}.npz"
        np.savez(path, latents=sources + noise * rng.standard_normal(sources.shape))
        paths.append(path)
    return tmp_path, paths


def test_sweep_on_cluster_equals_local(cluster, runs):
    folder, paths = runs
    run_list = [
        Run(name=p.stem, latents=str(p), sources=str(folder / "sources.npz")) for p in paths
    ]
    local = sweep(run_list, n_jobs=1)
    remote = sweep(run_list, scheduler=cluster)
    columns = ["run", "infomec.infom", "infomec.infoe", "infomec.infoc", "error"]
    assert remote[columns].to_dict("records") == local[columns].to_dict("records")


def test_cli_sweep_scheduler(cluster, runs, capsys):
    folder, paths = runs
    out = folder / "out"
    status = cli.main(
        [
            "sweep",
            *map(str, paths),
            "--sources",
            str(folder / "sources.npz"),
            "--out",
            str(out),
            "--scheduler",
            cluster,
        ]
    )
    assert status == 0, capsys.readouterr().err
    assert (out / "sweep.csv").read_text().count("\n") == 4


def test_unreachable_scheduler_is_a_clean_error(runs, capsys, monkeypatch):
    monkeypatch.setattr("infomec.sweep.CONNECT_TIMEOUT", "1s")
    folder, paths = runs
    status = cli.main(
        [
            "sweep",
            str(paths[0]),
            "--sources",
            str(folder / "sources.npz"),
            "--out",
            str(folder / "o"),
            "--scheduler",
            "tcp://127.0.0.1:9",
        ]
    )
    err = capsys.readouterr().err
    assert status == 2 and "cannot reach the dask scheduler" in err
