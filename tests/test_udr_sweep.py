"""UDR in sweeps: per-model groups, blank cells, errors, KL files, udr.png, the CLI."""

from __future__ import annotations

import json
import warnings

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

import cli
from infomec import InfoMECWarning
from infomec.metrics.udr import udr
from infomec.sweep import Run, read_manifest, sweep, write_sweep

N = 300


@pytest.fixture(scope="module")
def arrays():
    """Shared sources, one representation of them and its relatives."""
    rng = np.random.default_rng(11)
    sources = rng.integers(0, 4, size=(N, 3))
    base = sources + 0.3 * rng.standard_normal((N, 3))
    return {
        "sources": sources,
        "base": base,
        "permuted": -2.0 * base[:, [2, 0, 1]] + 1.0,  # same factors: order, sign, scale
        "noisy": base + 0.05 * rng.standard_normal((N, 3)),
        "other": [rng.standard_normal((N, 3)) for _ in range(3)],
    }


def _quiet_sweep(runs, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InfoMECWarning)
        return sweep(runs, **options)


def test_seeds_of_one_model_agree_and_unrelated_runs_do_not(arrays):
    s = arrays["sources"]
    good = [arrays["base"], arrays["permuted"], arrays["noisy"]]
    runs = [Run(f"g{i}", z, s, model="good") for i, z in enumerate(good)]
    runs += [Run(f"u{i}", z, s, model="unrelated") for i, z in enumerate(arrays["other"])]
    frame = _quiet_sweep(runs)
    scores = frame.set_index("run")["udr"]
    assert (scores[["g0", "g1", "g2"]] > 0.9).all()
    assert (scores[["u0", "u1", "u2"]] < 0.2).all()
    # The column is udr() on each model's runs, in manifest order, Spearman by default.
    np.testing.assert_array_equal(scores[["g0", "g1", "g2"]], udr(good)["scores"])
    np.testing.assert_array_equal(scores[["u0", "u1", "u2"]], udr(arrays["other"])["scores"])
    lasso = _quiet_sweep(runs[:3], udr_correlation="lasso")["udr"].to_numpy()
    np.testing.assert_array_equal(lasso, udr(good, correlation="lasso")["scores"])
    # Between the scores and the tail columns; not a score column of the sweep figure.
    columns = list(frame.columns)
    assert columns.index("infomec.infoc") < columns.index("udr") < columns.index("n_samples")
    assert "udr" not in frame.attrs["score_columns"]


def test_single_run_groups_failed_runs_and_runs_without_a_model_are_blank(arrays):
    s, base = arrays["sources"], arrays["base"]
    runs = [
        Run("solo", base, s, model="alone"),
        Run("ok", base, s, model="pair"),
        Run("broken", "no/such/file.npz", s, model="pair"),  # fails: "ok" has no partner
        Run("free0", base, s),
        Run("free1", arrays["permuted"], s),
    ]
    frame = _quiet_sweep(runs)
    assert frame["udr"].isna().all()
    assert frame.loc[2, "error"]
    # Asked for (--udr), the runs without a model are the seeds of one model.
    asked = _quiet_sweep(runs, udr=True)
    assert asked["udr"].isna().tolist() == [True, True, True, False, False]
    np.testing.assert_array_equal(
        asked["udr"].to_numpy()[3:], udr([base, arrays["permuted"]])["scores"]
    )
    assert "udr" not in _quiet_sweep(runs, udr=False).columns


def test_runs_that_encode_different_rows_are_reported(arrays):
    s, base = arrays["sources"], arrays["base"]
    runs = [
        Run("long", base, s, model="m"),
        Run("short", base[:200], s[:200], model="m"),
        Run("fine0", base, s, model="n"),
        Run("fine1", arrays["noisy"], s, model="n"),
    ]
    with pytest.warns(InfoMECWarning, match=r"udr of model m not computed.*\(200, 300\)"):
        frame = sweep(runs)
    assert frame["udr"].isna().tolist() == [True, True, False, False]
    for note in frame.loc[:1, "warnings"]:
        assert "udr of model m not computed: the runs encode different numbers of rows" in note
    assert frame.loc[0, "error"] == "" and frame.loc[0, "infomec.infom"] > 0.5  # still scored


def test_bad_udr_options_fail_the_whole_sweep(arrays):
    run = Run("r", arrays["base"], arrays["sources"])
    with pytest.raises(ValueError, match="udr_correlation must be one of spearman, lasso"):
        sweep([run], udr_correlation="pearson")
    with pytest.raises(ValueError, match="udr must be True, False or None"):
        sweep([run], udr="yes")


# -------------------------------------------------- manifests, KL files, CSV and figure


@pytest.fixture()
def manifest(arrays, tmp_path):
    """Three seeds of a model with per-latent KL files (latent 2 of seed 1 collapsed,
    KL 0.001) and two unrelated runs without KL."""
    folder = tmp_path / "runs"
    folder.mkdir()
    np.savez(folder / "sources.npz", sources=arrays["sources"])
    lines = ["run,latents,model,seed,kl"]
    for seed, name in enumerate(("base", "permuted", "noisy")):
        np.save(folder / f"vae_{seed}.npy", arrays[name])
        np.save(folder / f"kl_{seed}.npy", [2.0, 1.5, 0.001 if seed == 1 else 1.0])
        lines.append(f"vae_{seed},vae_{seed}.npy,vae,{seed},kl_{seed}.npy")
    for seed, latents in enumerate(arrays["other"][:2]):
        np.save(folder / f"ae_{seed}.npy", latents)
        lines.append(f"ae_{seed},ae_{seed}.npy,ae,{seed},")
    (folder / "runs.csv").write_text("\n".join(lines) + "\n")
    return folder


def test_kl_files_decide_the_active_latents(manifest, arrays):
    runs = read_manifest(manifest / "runs.csv", sources=manifest / "sources.npz")
    assert runs[1].kl == manifest / "kl_1.npy" and runs[3].kl is None
    frame = _quiet_sweep(runs)
    kl = [np.load(manifest / f"kl_{seed}.npy") for seed in range(3)]
    latents = [arrays[name] for name in ("base", "permuted", "noisy")]
    expected = udr(latents, kl=kl)["scores"]
    np.testing.assert_array_equal(frame["udr"].to_numpy()[:3], expected)
    assert not np.allclose(expected, udr(latents)["scores"])  # the KL rule mattered
    np.testing.assert_array_equal(frame["udr"].to_numpy()[3:], udr(arrays["other"][:2])["scores"])
    assert frame["kl"].tolist() == ["kl_0.npy", "kl_1.npy", "kl_2.npy", "", ""]


@pytest.mark.parametrize(
    "kl_cells, message",
    [
        (["kl_0.npy", "", "kl_2.npy"], "kl is given for some runs but not all"),
        (["kl_0.npy", "missing.npy", "kl_2.npy"], "missing.npy"),
        (["kl_0.npy", "bad_kl.npy", "kl_2.npy"], r"kl\[1\] must hold one finite value"),
    ],
)
def test_bad_kl_files_are_reported_for_their_model(manifest, kl_cells, message):
    np.save(manifest / "bad_kl.npy", [1.0, 2.0])  # two values for three latents
    lines = (manifest / "runs.csv").read_text().splitlines()
    for row, cell in enumerate(kl_cells, start=1):
        lines[row] = lines[row].rsplit(",", 1)[0] + "," + cell
    (manifest / "runs.csv").write_text("\n".join(lines) + "\n")
    runs = read_manifest(manifest / "runs.csv", sources=manifest / "sources.npz")
    with pytest.warns(InfoMECWarning, match=message):
        frame = sweep(runs)
    assert frame["udr"].isna().tolist() == [True, True, True, False, False]
    assert all("udr of model vae not computed" in note for note in frame.loc[:2, "warnings"])


def test_csv_round_trips_with_blank_cells_and_udr_png_is_written(manifest, tmp_path):
    runs = read_manifest(manifest / "runs.csv", sources=manifest / "sources.npz")
    runs.append(Run("lonely", manifest / "ae_0.npy", manifest / "sources.npz", model="solo"))
    frame = _quiet_sweep(runs)
    out = tmp_path / "out"
    written = write_sweep(frame, out)
    assert [path.name for path in written] == ["sweep.csv", "sweep.png", "udr.png"]
    cells = pd.read_csv(out / "sweep.csv", keep_default_na=False, dtype=str)["udr"]
    assert cells.iloc[-1] == "" and all(cells.iloc[:-1] != "")  # blank, never "nan"
    again = pd.read_csv(out / "sweep.csv")["udr"]
    np.testing.assert_array_equal(again.to_numpy(), frame["udr"].to_numpy())  # NaN = NaN
    image = matplotlib.image.imread(out / "udr.png")
    assert image.std() > 0
    # A sweep without any UDR writes no udr.png, and removes the previous one.
    write_sweep(_quiet_sweep(runs, udr=False), out)
    assert not (out / "udr.png").exists() and (out / "sweep.png").is_file()


def test_plot_udr_needs_a_run_with_udr_and_infom():
    from infomec.figures import plot_udr

    frame = pd.DataFrame(
        {
            "run": ["a", "b", "c", "d"],
            "model": ["m", "m", "m", ""],
            "infomec.infom": [0.9, 0.5, 0.2, 0.4],
            "udr": [0.8, 0.6, 0.1, np.nan],
            "error": ["", "", "", ""],
        }
    )
    ax = plot_udr(frame).axes[0]
    assert "Spearman rho with InfoM = 1.00" in ax.get_title()
    assert [text.get_text() for text in ax.texts] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="no run has both a UDR and infomec.infom"):
        plot_udr(frame.assign(udr=np.nan))


# ----------------------------------------------------------------------- CLI


def run(argv, capsys):
    status = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_sweep_writes_udr_and_records_its_options(manifest, tmp_path, capsys, arrays):
    out = tmp_path / "out"
    argv = ["sweep", "--manifest", manifest / "runs.csv", "--sources", manifest / "sources.npz"]
    status, stdout, stderr = run([*argv, "--out", out, "--udr-correlation", "lasso"], capsys)
    assert status == 0, stderr
    assert "udr.png" in stdout and (out / "udr.png").is_file()
    frame = pd.read_csv(out / "sweep.csv")
    expected = udr([arrays["other"][0], arrays["other"][1]], correlation="lasso")["scores"]
    np.testing.assert_allclose(frame["udr"].to_numpy()[3:], expected, rtol=0, atol=1e-15)
    options = json.loads((out / "sweep.json").read_text())["options"]
    assert (options["udr"], options["udr_correlation"]) == (None, "lasso")
    assert options["clip_nmi"] is None
    status, stdout, stderr = run([*argv, "--out", out, "--no-udr", "--clip-nmi"], capsys)
    assert status == 0, stderr
    assert "udr" not in pd.read_csv(out / "sweep.csv").columns and not (out / "udr.png").exists()
    options = json.loads((out / "sweep.json").read_text())["options"]
    assert options["udr"] is False and options["clip_nmi"] is True


def test_cli_sweep_refuses_a_manifest_column_named_udr(manifest, tmp_path, capsys):
    (manifest / "odd.csv").write_text("latents,udr\nvae_0.npy,0.5\n")
    argv = ["sweep", "--manifest", manifest / "odd.csv", "--sources", manifest / "sources.npz"]
    status, _, stderr = run([*argv, "--out", tmp_path / "out"], capsys)
    assert status == 2 and "column 'udr' is reserved" in stderr


def test_cli_sweep_rejects_an_unknown_udr_correlation(manifest, tmp_path, capsys):
    argv = ["sweep", "--manifest", manifest / "runs.csv", "--sources", manifest / "sources.npz"]
    status, _, stderr = run([*argv, "--out", tmp_path, "--udr-correlation", "pearson"], capsys)
    assert status == 2 and "invalid choice: 'pearson'" in stderr
    assert len(stderr.splitlines()) == 1
