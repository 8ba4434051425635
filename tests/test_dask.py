"""Sweeps and scores on a real dask.distributed LocalCluster (loopback) equal the local run."""

from __future__ import annotations

import json

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

import cli  # noqa: E402
import infomec  # noqa: E402
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
    monkeypatch.setattr("infomec.parallel.CONNECT_TIMEOUT", 1.0)
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


# ------------------------------------------------------------------ score(scheduler=)

FAMILIES = ["infomec", "mig", "sap", "modularity", "irs", "factor_vae"]


@pytest.fixture
def arrays(tmp_path):
    rng = np.random.default_rng(1)
    sources = rng.integers(0, 4, size=(600, 3))
    latents = np.column_stack(
        [sources[:, :2] + 0.3 * rng.standard_normal((600, 2)), rng.standard_normal(600)]
    )
    np.savez(tmp_path / "sources.npz", sources=sources)
    np.savez(tmp_path / "latents.npz", latents=latents)
    return tmp_path, latents, sources


def _without_time(result):
    payload = result.to_dict()
    payload.pop("elapsed_s")
    return payload


def test_score_on_cluster_equals_local(cluster, arrays):
    _, latents, sources = arrays
    sources = sources.copy()
    sources[:, 2] = 1  # a constant source: MIG warns on the workers
    options = {"latents": latents, "sources": sources, "metrics": FAMILIES, "seed": 3}
    with pytest.warns(UserWarning, match="zero entropy"):
        local = infomec.score(**options)
    # The warning is raised on a worker and again here.
    with pytest.warns(UserWarning, match="zero entropy"):
        remote = infomec.score(**options, scheduler=cluster)
    assert list(remote.families) == FAMILIES
    assert _without_time(remote) == _without_time(local)


def test_cli_score_scheduler(cluster, arrays, capsys):
    folder, _, _ = arrays
    argv = [
        "score",
        str(folder / "latents.npz"),
        str(folder / "sources.npz"),
        "--metrics",
        "mig,sap,infomec",
    ]
    assert cli.main(argv) == 0
    local = json.loads(capsys.readouterr().out)
    assert cli.main([*argv, "--scheduler", cluster]) == 0
    remote = json.loads(capsys.readouterr().out)
    local.pop("elapsed_s")
    remote.pop("elapsed_s")
    assert remote == local


@pytest.mark.parametrize(
    "address, message",
    [
        ("tcp://127.0.0.1:1", "cannot reach the dask scheduler at tcp://127.0.0.1:1"),
        ("localhost", "scheduler must be 'joblib' or a dask scheduler address"),
    ],
)
def test_cli_score_bad_scheduler_exits_2_with_one_line(
    arrays, capsys, monkeypatch, address, message
):
    monkeypatch.setattr("infomec.parallel.CONNECT_TIMEOUT", 1.0)
    folder, _, _ = arrays
    status = cli.main(
        [
            "score",
            str(folder / "latents.npz"),
            str(folder / "sources.npz"),
            "--metrics",
            "mig,sap",
            "--scheduler",
            address,
        ]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_scheduler_without_workers_is_a_clean_error(arrays, monkeypatch):
    monkeypatch.setattr("infomec.parallel.CONNECT_TIMEOUT", 1.0)
    _, latents, sources = arrays
    with distributed.LocalCluster(
        n_workers=0, host="127.0.0.1", processes=True, dashboard_address=":0"
    ) as empty:
        with pytest.raises(ValueError, match="has no workers"):
            infomec.score(latents=latents, sources=sources, scheduler=empty.scheduler_address)
