"""The command line, run in-process through ``cli.main`` and once as a real process."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import cli
import infomec


@pytest.fixture
def files(tmp_path, rng):
    sources = rng.integers(0, 4, size=(600, 3))
    latents = sources + 0.1 * rng.standard_normal(sources.shape)
    np.savez(tmp_path / "sources.npz", sources=sources, source_names=np.array(["a", "b", "c"]))
    np.savez(tmp_path / "latents.npz", latents=latents)
    return tmp_path, latents, sources


def run(argv, capsys):
    status = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_score_json_matches_api(files, capsys):
    folder, latents, sources = files
    status, out, err = run(["score", folder / "latents.npz", folder / "sources.npz"], capsys)
    assert status == 0, err
    payload = json.loads(out)
    expected = infomec.score(latents=latents, sources=sources)
    for key in ("infom", "infoe", "infoc"):
        assert payload["infomec"][key] == pytest.approx(getattr(expected, key), abs=1e-12)
    assert np.allclose(payload["infomec"]["nmi"], expected.nmi)
    assert payload["source_names"] == ["a", "b", "c"]
    assert set(payload) >= {"infomec", "settings", "n_samples", "elapsed_s"}
    assert payload["settings"]["preset"] == "reference" and payload["n_samples"] == 600


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_other_formats_and_output_file(files, capsys, fmt):
    folder, _, _ = files
    target = folder / f"out.{fmt}"
    argv = ["score", folder / "latents.npz", folder / "sources.npz", "--format", fmt, "-o", target]
    status, out, _ = run(argv, capsys)
    assert status == 0 and out == ""
    text = target.read_text()
    assert "infomec.infom" in text
    if fmt == "csv":
        assert len(text.strip().splitlines()) == 2


def test_options_reach_the_settings(files, capsys):
    folder, _, _ = files
    argv = [
        "score",
        folder / "latents.npz",
        folder / "sources.npz",
        "--preset",
        "paper",
        "--k",
        "5",
        "--seed",
        "3",
        "--discrete",
        "--pruning",
        "none",
        "--clip-nmi",
    ]
    status, out, err = run(argv, capsys)
    assert status == 0, err
    settings = json.loads(out)["settings"]
    assert (settings["preset"], settings["k"], settings["seed"]) == ("paper", 5, 3)
    assert settings["discrete_latents"] is True and settings["pruning"] == "none"
    assert settings["clip_nmi"] is True
    for tail, expected in (([], False), (["--no-clip-nmi"], False)):
        status, out, err = run(argv[:-1] + tail, capsys)
        assert status == 0, err
        assert json.loads(out)["settings"]["clip_nmi"] is expected


@pytest.mark.parametrize(
    "argv_tail, message",
    [
        (["--preset", "nope"], "invalid choice"),
        (["--k", "0"], "k must be"),
        (["--pruning", "weird"], "pruning rule"),
        (["--metrics", "nope"], "unknown metric"),
        (["--latents-key", "missing"], "no array named"),
        (["--metrics", "mig,sap", "--scheduler", "localhost"], "scheduler must be"),
    ],
)
def test_bad_options_exit_2_with_one_line(files, capsys, argv_tail, message):
    folder, _, _ = files
    status, out, err = run(
        ["score", folder / "latents.npz", folder / "sources.npz", *argv_tail], capsys
    )
    assert status == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_bad_data_exit_2(files, capsys, tmp_path):
    folder, latents, _ = files
    broken = latents.copy()
    broken[3, 1] = np.nan
    np.save(tmp_path / "nan.npy", broken)
    status, _, err = run(["score", tmp_path / "nan.npy", folder / "sources.npz"], capsys)
    assert status == 2 and "column 1 contains NaN" in err
    np.save(tmp_path / "short.npy", latents[:10])
    status, _, err = run(["score", tmp_path / "short.npy", folder / "sources.npz"], capsys)
    assert status == 2 and "rows" in err
    status, _, err = run(["score", tmp_path / "absent.npz", folder / "sources.npz"], capsys)
    assert status == 2 and "no such file" in err


def test_unwritable_output_leaves_nothing(files, capsys):
    folder, _, _ = files
    target = folder / "no_such_dir" / "out.json"
    status, _, err = run(
        ["score", folder / "latents.npz", folder / "sources.npz", "-o", target], capsys
    )
    assert status == 2 and "does not exist" in err
    assert not target.exists()


def test_demo(capsys, tmp_path):
    status, out, _ = run(["demo", "--n-samples", "1500", "--out", tmp_path], capsys)
    assert status == 0
    assert "disentangled" in out and "InfoM" in out
    rows = {
        line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()[:4] == "Info"
    }
    infom_disentangled, infom_entangled = map(float, rows["InfoM"])
    assert infom_disentangled > 0.9 > infom_entangled
    assert (tmp_path / "entangled.npz").exists()


def test_console_script_runs_as_a_process(files):
    folder, _, _ = files
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "score",
            str(folder / "latents.npz"),
            str(folder / "sources.npz"),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "infom" in json.loads(completed.stdout)["infomec"]


def test_ctrl_c_ends_with_status_130_and_no_output(files, capsys, monkeypatch):
    folder, _, _ = files

    def interrupted(**_):
        raise KeyboardInterrupt

    monkeypatch.setattr(infomec, "score", interrupted)
    target = folder / "out.json"
    argv = ["score", folder / "latents.npz", folder / "sources.npz", "-o", target]
    status, _, err = run(argv, capsys)
    assert status == 130 and err.strip() == "infomec: interrupted"
    assert not target.exists()


def test_text_file_flags(files, capsys, tmp_path):
    folder, latents, sources = files
    np.savetxt(tmp_path / "z.csv", latents, delimiter=",", fmt="%.17g")
    status, out, err = run(["score", tmp_path / "z.csv", folder / "sources.npz"], capsys)
    assert status == 0, err
    headerless = json.loads(out)
    assert headerless["n_samples"] == 600 and headerless["latent_names"] == ["z0", "z1", "z2"]
    # --header takes the first row as names: one row fewer, which the sources refuse.
    status, _, err = run(["score", tmp_path / "z.csv", folder / "sources.npz", "--header"], capsys)
    assert status == 2 and "599 rows but sources have 600" in err
    status, _, err = run(
        ["score", tmp_path / "z.csv", folder / "sources.npz", "--header", "--no-header"], capsys
    )
    assert status == 2 and "not allowed with argument" in err
    status, _, err = run(
        ["score", tmp_path / "z.csv", folder / "sources.npz", "--index-col", "7"], capsys
    )
    assert status == 2 and "out of range" in err and len(err.strip().splitlines()) == 1


def test_k_beyond_the_classes_is_recorded_as_used(files, capsys):
    folder, _, _ = files
    status, out, err = run(
        ["score", folder / "latents.npz", folder / "sources.npz", "--k", "100000"], capsys
    )
    assert status == 0 and "infomec: warning: k=100000 reaches" in err
    k = json.loads(out)["settings"]["k"]
    assert k < 600 and f"k={k}, which is used and recorded" in err


def test_a_non_finite_score_is_a_bug_with_exit_1(files, capsys, monkeypatch):
    folder, latents, sources = files
    result = infomec.score(latents=latents, sources=sources)
    broken = result.__class__(
        families={"infomec": {**result["infomec"], "infoe": float("inf")}},
        settings=result.settings,
        n_samples=result.n_samples,
        elapsed_s=result.elapsed_s,
        source_names=result.source_names,
        latent_names=result.latent_names,
    )
    monkeypatch.setattr(infomec, "score", lambda **_: broken)
    target = folder / "out.json"
    argv = ["score", folder / "latents.npz", folder / "sources.npz", "-o", target]
    status, out, err = run(argv, capsys)
    assert status == 1 and out == "" and not target.exists()
    assert err.startswith("infomec: error: infomec.infoe is NaN or infinite")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("scale", [1e-150, 1e150])
def test_unsupervised_json_is_strict_at_extreme_scales(files, capsys, scale):
    folder, latents, _ = files
    np.savez(folder / "scaled.npz", latents=latents * scale)
    argv = ["score", folder / "scaled.npz", folder / "sources.npz", "--metrics", "unsupervised"]
    status, out, err = run(argv, capsys)
    assert status == 0, err

    def refuse(constant):
        raise AssertionError(f"{constant} in the JSON output")

    payload = json.loads(out, parse_constant=refuse)
    assert 0 < payload["unsupervised"]["gaussian_wasserstein_correlation_norm"] < 1


def test_console_script_help_and_version_work_with_a_closed_stdout():
    completed = subprocess.run(
        ["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-m", "cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0 and "Traceback" not in completed.stderr


# ------------------------------------------------- one set of options (issue 18 item 6)


@pytest.mark.parametrize(
    ("name", "fmt", "check"),
    [
        ("out.json", None, lambda text: json.loads(text)["infomec"]),
        ("out.csv", None, lambda text: text.startswith("infomec.infom,")),
        ("out.txt", None, lambda text: text.startswith("infomec ") and "NMI (rows" in text),
        ("out.dat", None, lambda text: json.loads(text)["infomec"]),
        ("out.csv", "json", lambda text: json.loads(text)["infomec"]),
    ],
)
def test_output_format_follows_the_extension_unless_given(files, capsys, name, fmt, check):
    folder, _, _ = files
    argv = ["score", folder / "latents.npz", folder / "sources.npz", "-o", folder / name]
    status, out, err = run(argv + (["--format", fmt] if fmt else []), capsys)
    assert status == 0, err
    assert check((folder / name).read_text())


def test_stdout_is_json_by_default(files, capsys):
    folder, _, _ = files
    status, out, _ = run(["score", folder / "latents.npz", folder / "sources.npz"], capsys)
    assert status == 0 and json.loads(out)["infomec"]


def _subparser(name: str):
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    return commands.choices[name]


def _options(parser) -> dict[str, object]:
    import argparse

    return {
        next(o for o in action.option_strings if o.startswith("--")): action
        for action in parser._actions
        if action.option_strings and not isinstance(action, argparse._HelpAction)
    }


def test_report_and_sweep_accept_every_score_option_that_applies():
    score = set(_options(_subparser("score")))
    report = set(_options(_subparser("report")))
    sweep = set(_options(_subparser("sweep")))
    # score's output options are its own; report writes a folder (its --format is the
    # figures'), a sweep's runs have their own test rows, names and threads.
    assert score - report == {"--output"}
    per_run = {"--test-latents", "--test-sources", "--source-names", "--latent-names"}
    assert score - sweep == {"--output", "--format"} | per_run
    for option in ("--dci-model", "--test-size", "--scheduler", "--header", "--index-col"):
        assert option in report and option in sweep


@pytest.mark.parametrize("command", ["score", "report", "sweep", "demo"])
def test_every_option_help_shows_its_default(command):
    for name, action in _options(_subparser(command)).items():
        if name == "--out" and action.required:
            continue
        assert action.help and "default" in action.help, f"{command} {name}: {action.help!r}"


def test_report_passes_test_files_dci_model_and_test_size(files, capsys, rng):
    folder, _, _ = files
    sources = rng.integers(0, 4, size=(200, 3))
    np.save(folder / "tz.npy", sources + 0.1 * rng.standard_normal(sources.shape))
    np.save(folder / "ts.npy", sources)
    out = folder / "report"
    argv = [
        "report", folder / "latents.npz", folder / "sources.npz", "--out", out,
        "--metrics", "infomec,dci", "--dci-model", "hist_gbt",
        "--test-latents", folder / "tz.npy", "--test-sources", folder / "ts.npy",
    ]  # fmt: skip
    status, _, err = run(argv, capsys)
    assert status == 0, err
    content = json.loads((out / "scores.json").read_text())
    assert content["settings"]["dci_model"] == "hist_gbt"
    assert content["settings"]["test_size"] is None  # explicit test rows were used
    status, _, err = run(argv[:9] + ["--test-size", "0.25"], capsys)
    assert status == 0, err
    assert json.loads((out / "scores.json").read_text())["settings"]["test_size"] == 0.25


def test_sweep_passes_dci_model_test_size_and_csv_options(files, capsys, rng):
    folder, latents, sources = files
    # Headerless CSV latents: --no-header must be honoured (the first row is data).
    np.savetxt(folder / "z.csv", latents, delimiter=",")
    argv = [
        "sweep", folder / "z.csv", "--sources", folder / "sources.npz", "--out", folder / "o",
        "--metrics", "infomec,dci", "--dci-model", "hist_gbt", "--test-size", "0.25",
        "--no-header", "--index-col", "none",
    ]  # fmt: skip
    status, out, err = run(argv, capsys)
    assert status == 0, err
    import pandas as pd

    frame = pd.read_csv(folder / "o" / "sweep.csv", keep_default_na=False)
    assert frame.loc[0, "error"] == "" and frame.loc[0, "n_samples"] == 600
    options = json.loads((folder / "o" / "sweep.json").read_text())["options"]
    assert options["dci_model"] == "hist_gbt" and options["test_size"] == 0.25


def test_table_shows_counts_as_integers(files, capsys):
    folder, _, _ = files
    argv = ["score", folder / "latents.npz", folder / "sources.npz", "--format", "table"]
    status, out, err = run(argv + ["--metrics", "infomec,factor_vae"], capsys)
    assert status == 0, err
    line = next(line for line in out.splitlines() if "num_active_dims" in line)
    assert line.split()[-1] == "3"
