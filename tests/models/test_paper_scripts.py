"""benchmarks/paper_scale.py and paper_table.py end to end on a CPU with a handful of steps,
and the table's statistics."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[2]


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_paper_scale_runs_a_handful_of_steps_on_a_cpu(tmp_path):
    paper_scale = load("paper_scale")
    out = tmp_path / "scale.md"
    argv = ["--device", "cpu", "--dataset", "dsprites", "--image-size", "16"]
    argv += ["--subset", "orientation=0,20", "--subset", "scale=0,5", "--eval-size", "160"]
    argv += ["--seeds", "0", "1", "--models", "qlae", "ae", "--steps", "2", "--workers", "2"]
    argv += ["--threads", "1", "--presets", "reference", "--out", str(out)]
    argv += ["--runs-dir", str(tmp_path / "runs")]
    assert paper_scale.main(argv) == 0
    table = out.read_text()
    assert "authors' configuration, GPU" in table and "Complete: 4 runs." in table
    assert "16 px `paper` network" in table  # the authors' network, shrunk for the test
    assert "| InfoM | QLAE vs AE |" in table and "Welch" in table
    rows = [json.loads(line) for line in out.with_suffix(".jsonl").read_text().splitlines()]
    assert {(r["model"], r["seed"]) for r in rows} == {
        ("qlae", 0),
        ("qlae", 1),
        ("ae", 0),
        ("ae", 1),
    }
    assert all(
        r["settings"]["arch"] == "paper" and r["settings"]["batch_size"] == 128 for r in rows
    )
    assert out.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"
    # A second call skips the finished runs.
    assert paper_scale.main(argv) == 0
    assert len(out.with_suffix(".jsonl").read_text().splitlines()) == 4


def test_paper_scale_refuses_without_cuda(capsys):
    paper_scale = load("paper_scale")
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    assert paper_scale.main(["--steps", "1"]) == 2
    assert "no CUDA device" in capsys.readouterr().err


def test_intervals_welch_holm_and_step_planning():
    paper_table = load("paper_table")
    mean, half = paper_table.mean_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and half == pytest.approx(4.302653 * 1.0 / math.sqrt(3), rel=1e-6)
    t, p = paper_table.welch([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 9.0])
    from scipy import stats

    expected = stats.ttest_ind([1, 2, 3, 4], [2, 4, 6, 9], equal_var=False)
    assert (t, p) == pytest.approx((expected.statistic, expected.pvalue))
    assert math.isnan(paper_table.welch([1.0], [2.0, 3.0])[1])
    assert paper_table.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    # 2 seeds x (1/2 + 1/4 s per step) = 1.5 s per step; 100 s - 4 runs x 10 s = 60 s.
    assert paper_table.plan_steps(100.0, {"a": 2.0, "b": 4.0}, 2, 10.0) == 40


def test_comparisons_need_significance_for_a_verdict():
    paper_table = load("paper_table")
    rows = []
    for seed in range(5):
        for model, infom in (("qlae", 0.8 + 0.01 * seed), ("ae", 0.3 + 0.01 * seed)):
            rows.append({"model": model, "seed": seed, "paper.infom": infom,
                         "paper.infoe": 0.5 + 0.1 * (seed % 2), "paper.infoc": 0.4})  # fmt: skip
    metrics = paper_table.preset_metrics("paper")
    tests = {t["metric"]: t for t in paper_table.comparisons(rows, ["qlae", "ae"], metrics)}
    assert tests["InfoM"]["verdict"] == "holds (quantized higher)"
    assert tests["InfoE"]["verdict"] == "not significant"
    assert tests["InfoC"]["verdict"] == "untestable (n < 2)"  # no spread on either side
    assert np.isfinite(tests["InfoM"]["p_holm"])


def test_the_table_judges_each_autoencoder_run_by_the_plateau_rule():
    paper_table = load("paper_table")
    flat = {"model": "qlae", "seed": 0, "psnr_curve": [[500, 20.0], [800, 24.8], [1000, 25.0]]}
    climbing = {"model": "ae", "seed": 1, "psnr_curve": [[500, 20.0], [1000, 25.0]]}
    short = {"model": "vae", "seed": 2, "psnr_curve": [[3, 9.7]]}
    gan = {"model": "infowgan", "seed": 0, "psnr_curve": [[500, 9.0], [1000, 14.0]]}
    # PSNR(1000) - PSNR(800): 0.2 dB; the second run interpolates 23.0 at step 800.
    assert paper_table.last_fifth_gain(flat) == pytest.approx(0.2)
    assert paper_table.last_fifth_gain(climbing) == pytest.approx(2.0)
    assert math.isnan(paper_table.last_fifth_gain(short))
    (text,) = paper_table.plateau_lines([flat, climbing, short, gan])
    assert "1 of 3 autoencoder runs meet it" in text  # the GAN is not judged
    assert "still climbing: AE seed 1" in text and "too short to judge: β-VAE seed 2" in text
    assert paper_table.plateau_lines([gan]) == []


def test_a_lane_runs_the_table_arguments_less_the_table_options(tmp_path):
    paper_table = load("paper_table")
    argv = ["--suite", "issue23", "--lanes=2", "--seeds", "0", "--runs-dir", "x", "--plateau"]
    args = paper_table.parse_args(argv)
    args.dataset = "dsprites"  # the suite's part
    command = paper_table.lane_command(argv, args, tmp_path / "runs")
    assert command[1].endswith("paper_table.py")
    assert command[2:] == ["--seeds", "0", "--plateau", "--dataset", "dsprites", "--runs-dir",
                           str(tmp_path / "runs")]  # fmt: skip
    with pytest.raises(SystemExit):
        paper_table.parse_args(["--only-run", "qlae:0:2"])  # no --row-file


def test_the_table_trains_in_lanes_and_keeps_the_same_rows(tmp_path):
    paper_table = load("paper_table")
    argv = ["--steps", "2", "--seeds", "0", "--models", "qlae", "ae", "--image-size", "16"]
    argv += ["--eval-size", "160", "--presets", "reference", "paper"]
    argv += ["--subset", "orientation=0,20", "--subset", "scale=0,5", "--dataset", "dsprites"]
    # Two lanes, with pictures: the trainer scores each run (labelled traversals, its page)
    # and the table reads those scores; in turn without pictures: the table scores.
    lanes = [*argv, "--lanes", "2", "--out", str(tmp_path / "lanes.md")]
    lanes += ["--runs-dir", str(tmp_path / "lane-runs")]
    assert paper_table.main(lanes) == 0
    in_turn = [*argv, "--out", str(tmp_path / "turn.md"), "--runs-dir", str(tmp_path / "runs")]
    assert paper_table.main([*in_turn, "--no-pictures"]) == 0
    for run in (tmp_path / "lane-runs").iterdir():
        assert (run / "scores.json").exists() and (run / "report.html").exists()
    assert not list((tmp_path / "runs").glob("*/scores.json"))

    def rows(name):
        lines = (tmp_path / name).read_text().splitlines()
        return sorted((json.loads(line) for line in lines), key=lambda r: r["model"])

    for a, b in zip(rows("lanes.jsonl"), rows("turn.jsonl"), strict=True):
        assert (a["model"], a["seed"], a["steps"]) == (b["model"], b["seed"], b["steps"])
        for key in ("reference.infom", "reference.infoc", "paper.infoe", "mig", "psnr"):
            assert a[key] == b[key], key
        assert a["psnr_curve"] == b["psnr_curve"]
    assert "Complete: 2 runs." in (tmp_path / "lanes.md").read_text()
    assert sorted(p.name for p in (tmp_path / "lane-runs").iterdir()) == [
        "ae-seed0-steps2",
        "qlae-seed0-steps2",
    ]


def fake_row(model: str, seed: int, steps: int = 100) -> dict:
    settings = {"image_size": 32, "arch": "burgess", "batch_size": 128, "lr": 1e-3,
                "weight_decay": 0.1, "beta": None, "eval_size": 500}  # fmt: skip
    quantized = model.startswith("ql")
    return {
        "model": model, "seed": seed, "steps": steps, "psnr": 25.0 + seed, "bce": 0.4,
        "train_s": 60.0, "score_s": 1.0, "reference.infom": 0.6 + 0.1 * quantized + 0.01 * seed,
        "reference.infoe": 0.5, "reference.infoc": 0.3 - 0.01 * seed, "reference.active": 10,
        "settings": settings, "beta_source": None, "run_dir": "runs/x",
        "psnr_curve": [[steps // 2, 20.0], [steps, 25.0 + seed]],
    }  # fmt: skip


def test_the_suite_renders_from_its_rows_and_refuses_runs_of_several_lengths(tmp_path, capsys):
    paper_table = load("paper_table")
    write = lambda name, rows: (tmp_path / name).write_text(  # noqa: E731
        "".join(json.dumps(row) + "\n" for row in rows)
    )
    shapes = [fake_row(m, s) for m in ("qlae", "ae", "infowgan", "qlinfowgan") for s in (0, 1)]
    write("table_shapes3d.jsonl", shapes)
    write("table_dsprites.jsonl", [fake_row(m, s, 60) for m in ("qlae", "ae") for s in (0, 1)])
    argv = ["--suite", "issue23", "--render-only", "--seeds", "0", "1", "--presets", "reference"]
    argv += ["--no-mig", "--models", "qlae", "ae", "infowgan", "qlinfowgan"]
    argv += ["--out", str(tmp_path / "table.md")]
    assert paper_table.main(argv) == 0
    text = (tmp_path / "table.md").read_text()
    assert "### shapes3d" in text and "### dsprites" in text
    assert "QLInfoWGAN-GP vs InfoWGAN-GP" in text
    # Every autoencoder run gained 5 dB or more over its last fifth: none at its plateau.
    assert "0 of 4 autoencoder runs meet it; still climbing: QLAE seed 0" in text
    # Runs of another length beside them: no table of mixed means.
    write("table_shapes3d.jsonl", [*shapes, fake_row("qlae", 2, steps=200)])
    assert paper_table.main(argv) == 2
    assert "qlae runs of several lengths (100, 200 steps)" in capsys.readouterr().err
    # A single table whose rows file does not exist (table.jsonl): one line, exit 2.
    assert paper_table.main([a for a in argv if a not in ("--suite", "issue23")]) == 2
    assert "no finished runs in" in capsys.readouterr().err


def test_quiet_check_judges_the_end_load_beside_the_tables_own_lanes(monkeypatch):
    paper_table = load("paper_table")
    import argparse

    monkeypatch.setattr(paper_table.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(paper_table, "uptime", lambda: "load average: x")
    record = {"start": "load average: 0.40", "start_load": 0.4}
    args = argparse.Namespace(quiet_record=record, lanes=2, threads=1)
    # Two one-thread lanes add about 2 to the load: 1.9 at the end is their own.
    line = paper_table.quiet_lines(args, load=1.9)[0]
    assert line.count("quiet: 1-min load") == 2 and "NOT quiet" not in line
    assert "about 2 of it this table's own runs" in line
    # 3.5 is more than the lanes: something else ran beside them.
    assert "**NOT quiet**: 1-min load 3.50" in paper_table.quiet_lines(args, load=3.5)[0]
    # One lane of one thread adds about 1: 2.2 is busy beyond it, 1.9 is not.
    one = argparse.Namespace(quiet_record=record, lanes=1, threads=1)
    assert "NOT quiet" in paper_table.quiet_lines(one, load=2.2)[0]
    assert "NOT quiet" not in paper_table.quiet_lines(one, load=1.9)[0]
    assert paper_table.quiet_lines(argparse.Namespace(threads=1)) == []


def test_the_recorded_command_says_nice_only_when_the_process_is_niced(monkeypatch):
    paper_table = load("paper_table")
    monkeypatch.setattr(paper_table.os, "nice", lambda increment: 0)
    assert paper_table.invoked_as() == "python benchmarks/paper_table.py"
    monkeypatch.setattr(paper_table.os, "nice", lambda increment: 5)
    assert paper_table.invoked_as() == "nice -n 5 python benchmarks/paper_table.py"


def test_the_table_says_what_noise_gets_and_flags_scores_within_it():
    paper_table = load("paper_table")
    band = {"mean": 0.6, "std": 0.1, "p05": 0.45, "p95": 0.72, "p_value": 1.0}
    result = {"infomec": {"chance": {"infom": band, "infoe": band, "infoc": band}}}
    fields = paper_table.chance_fields(result, "paper")
    assert fields["paper.infom.chance"] == 0.6 and fields["paper.infoc.chance_p95"] == 0.72
    assert paper_table.chance_fields({"infomec": {}}, "paper") == {}  # no shuffles drawn
    rows = []
    for seed in range(3):
        # The quantized model's noise is low; the baseline's is high and it scores below it.
        low = {f"paper.{key}.{kind}": value for key, _ in paper_table.INFOMEC
               for kind, value in (("chance", 0.1), ("chance_p95", 0.15))}  # fmt: skip
        high = {f"paper.{key}.{kind}": value for key, _ in paper_table.INFOMEC
                for kind, value in (("chance", 0.6), ("chance_p95", 0.72))}  # fmt: skip
        scores = {"paper.infom": 0.5 + 0.01 * seed, "paper.infoe": 0.75, "paper.infoc": 0.25}
        scores["psnr"] = 28.0 + seed
        rows.append({"model": "qlae", "seed": seed, **scores, **low})
        rows.append({"model": "ae", "seed": seed, **scores, "paper.infom": 0.4 + 0.02 * seed,
                     "paper.infoe": 0.875, **high})  # fmt: skip
    table = "\n".join(paper_table.chance_table(rows, ["qlae", "ae"], "paper"))
    assert "| QLAE | 0.100 | 3 of 3 | 0.100 | 3 of 3 | 0.100 | 3 of 3 |" in table
    assert "| AE | 0.600 | 0 of 3 | 0.600 | 3 of 3 | 0.600 | 0 of 3 |" in table
    caveat = paper_table.noise_caveats(rows, ["qlae", "ae"], "paper")
    assert caveat == [
        "- Noise: these scores are not above what shuffled sources get (their 95th "
        "percentile), so a comparison with them compares noise levels: AE's InfoM in 3 of 3 "
        "runs; AE's InfoC in 3 of 3 runs (preset `paper`)."
    ]
    assert paper_table.claim_verdicts(rows, ["qlae", "ae"], "paper")[-1] == caveat[0]
    # Rows from before chance levels were recorded: no table, no caveat.
    bare = [{k: v for k, v in r.items() if "chance" not in k} for r in rows]
    assert paper_table.chance_table(bare, ["qlae", "ae"], "paper") == []
    assert paper_table.noise_caveats(bare, ["qlae", "ae"], "paper") == []


def test_chance_levels_are_added_to_old_rows_only_when_their_scores_reproduce(tmp_path):
    add = load("paper_table_add_chance")
    band = {"mean": 0.6, "std": 0.1, "p05": 0.45, "p95": 0.72, "p_value": 1.0}
    scored = {"infomec": {"infom": 0.5, "chance": {"infom": band, "infoe": band, "infoc": band}}}
    run = tmp_path / "run"
    run.mkdir()
    (run / "scores.json").write_text(json.dumps({"presets": {"paper": scored}}))
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"run_dir": str(run), "seed": 0, "paper.infom": 0.5}) + "\n")
    assert add.main([str(rows)]) == 0
    row = json.loads(rows.read_text())
    assert row["paper.infom.chance"] == 0.6 and row["paper.infoc.chance_p95"] == 0.72
    # A row its run does not reproduce is refused and the file left as it was.
    rows.write_text(json.dumps({"run_dir": str(run), "seed": 0, "paper.infom": 0.4}) + "\n")
    before = rows.read_text()
    assert add.main([str(rows)]) == 2 and rows.read_text() == before
