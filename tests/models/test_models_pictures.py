"""Trainer II: pictures and report.html of every run (and ``--figures DIR``), losses.csv with
every loss term of each model, per-latent KL for UDR, default steps with their reason, and
the benchmark scripts (bench_train_step, plateau, paper_table's plateau suite) with a
handful of steps."""

from __future__ import annotations

import importlib.util
import json
import math
import struct
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from infomec.models.config import TrainConfig, default_steps  # noqa: E402
from infomec.models.curves import read_losses  # noqa: E402
from infomec.models.data import open_dataset  # noqa: E402
from infomec.models.pictures import reconstruction_size, traversal_size  # noqa: E402
from infomec.models.train import describe, train  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SUBSET = {"orientation": [0, 20], "scale": [0, 5]}
TERMS = {
    "qlae": ["loss", "bce", "quantization", "commitment"],
    "ae": ["loss", "bce"],
    "vae": ["loss", "bce", "kl"],
    "tcvae": ["loss", "bce", "mi", "tc", "dim_kl"],
    "infowgan": ["critic", "wasserstein", "penalty", "latent", "generator"],
    "qlinfowgan": ["critic", "wasserstein", "penalty", "latent", "generator"],
}


def tiny(model: str = "qlae", **changes) -> TrainConfig:
    settings = dict(
        model=model,
        dataset="dsprites",
        steps=4,
        arch="burgess",
        image_size=16,
        batch_size=8,
        subset=SUBSET,
        eval_size=160,
        log_every=2,
    )
    return TrainConfig(**{**settings, **changes})


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", path
    return struct.unpack(">II", data[16:24])


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_pictures(run: Path, num_latents: int, walk_steps: int) -> None:
    assert png_size(run / "reconstructions.png") == reconstruction_size()
    assert png_size(run / "traversals.png") == traversal_size(num_latents, walk_steps)
    width, height = png_size(run / "curves.png")
    assert width > 600 and height > 200


def test_a_scored_run_writes_pictures_and_report_and_figures_redraws_them(tmp_path):
    import cli

    run = tmp_path / "run"
    train(tiny("qlae", steps=4), run, progress=False, quiet=True)
    check_pictures(run, num_latents=10, walk_steps=10)  # QLAE walks its 10 codebook values
    page = (run / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 5  # nmi, 3 pictures, infoe
    # The pictures sit right after the NMI heatmap.
    order = [page.index(name) for name in ("nmi.png", "reconstructions.png", "traversals.png")]
    assert order == sorted(order)
    before = {name: (run / name).stat().st_mtime_ns for name in ("traversals.png", "report.html")}
    for name in ("reconstructions.png", "traversals.png", "curves.png", "report.html"):
        (run / name).unlink()
    assert cli.main(["train", "--figures", str(run), "--no-progress", "--threads", "1"]) == 0
    check_pictures(run, num_latents=10, walk_steps=10)
    assert (run / "report.html").stat().st_mtime_ns > before["report.html"]


def test_an_unscored_run_has_pictures_but_no_report_and_figures_redraws_them(tmp_path):
    import cli

    train(tiny("ae", steps=2), tmp_path, progress=False, quiet=True, score=False)
    check_pictures(tmp_path, num_latents=10, walk_steps=9)  # 9 quantiles of each latent
    assert not (tmp_path / "report.html").exists()
    for name in ("reconstructions.png", "traversals.png", "curves.png"):
        (tmp_path / name).unlink()
    assert cli.main(["train", "--figures", str(tmp_path), "--no-progress"]) == 0
    check_pictures(tmp_path, num_latents=10, walk_steps=9)
    assert not (tmp_path / "report.html").exists()  # no scores to show


def test_figures_needs_a_checkpoint(tmp_path, capsys):
    import cli

    assert cli.main(["train", "--figures", str(tmp_path / "nowhere")]) == 2
    assert "no checkpoint to resume from" in capsys.readouterr().err


@pytest.mark.parametrize("model", list(TERMS))
def test_losses_csv_has_every_term_of_each_model(tmp_path, model):
    # log_every 5 with 10 steps: each interval holds one generator step of a GAN.
    train(tiny(model, steps=10, log_every=5), tmp_path, progress=False, score=False, figures=False)
    header = (tmp_path / "losses.csv").read_text().splitlines()[0].split(",")
    assert header == ["step", *TERMS[model]]
    rows = read_losses(tmp_path / "losses.csv")
    assert [row["step"] for row in rows] == [5, 10]
    assert all(math.isfinite(row[term]) for row in rows for term in TERMS[model])
    log = json.loads((tmp_path / "train_log.json").read_text())
    assert rows == [{k: v for k, v in e.items()} for e in log["history"]]


def test_losses_csv_matches_history_after_an_interrupted_resume(tmp_path):
    from infomec.models.train import resumed_config

    train(tiny("qlae", steps=5, log_every=1), tmp_path, score=False, figures=False)
    # A session that died after logging step 6 but before its checkpoint: the resumed
    # run starts again from the step-5 checkpoint and must not keep that row.
    with open(tmp_path / "losses.csv", "a") as handle:
        handle.write("6,999.0,999.0,999.0,999.0\n")
    train(resumed_config(tmp_path, {"steps": 7}), tmp_path, resume=True, score=False,
          figures=False)  # fmt: skip
    rows = read_losses(tmp_path / "losses.csv")
    assert [row["step"] for row in rows] == [1, 2, 3, 4, 5, 6, 7]
    assert all(row["loss"] < 999 for row in rows)


def test_beta_vae_runs_keep_per_latent_kl_and_a_sweep_gives_udr(tmp_path):
    from infomec.sweep import runs_from_paths, sweep

    for seed in (0, 1):
        run = tmp_path / f"vae-seed{seed}"
        train(tiny("vae", steps=3, seed=seed), run, progress=False, score=False, figures=False)
        kl = np.load(run / "kl.npy")
        assert kl.shape == (10,) and kl.dtype == np.float64 and np.all(kl >= 0)
    runs = runs_from_paths(
        [tmp_path / "vae-seed0" / "latents.npz", tmp_path / "vae-seed1" / "latents.npz"],
        tmp_path / "vae-seed0" / "sources.npz",
    )
    assert [Path(run.kl).name for run in runs] == ["kl.npy", "kl.npy"]
    frame = sweep(runs, udr=True, metrics=["mig"], progress=False)
    assert frame["udr"].notna().all() and frame["error"].eq("").all()
    # A QLAE run has no Gaussian posterior, so no KL file.
    train(tiny("qlae", steps=1), tmp_path / "qlae", progress=False, score=False, figures=False)
    assert not (tmp_path / "qlae" / "kl.npy").exists()


def test_default_steps_come_from_the_plateau_table_with_their_reason(tmp_path):
    config = TrainConfig(model="qlae", dataset="shapes3d", device="cpu").resolved(6, "shapes3d")
    assert config.steps == default_steps("qlae", "cpu", "shapes3d")[0]
    assert config.chosen_by["steps"].startswith("cpu profile plateau table (shapes3d)")
    assert "measured" in config.chosen_by["steps"]
    assert config.log_every == 50 and "loss points" in config.chosen_by["log_every"]
    # The shapes3d recipe: the anneal over the run, and a curve of about ten evaluations.
    assert config.lr_schedule == "anneal" and config.lr_decay_steps == config.steps
    assert "plateau recipe" in config.chosen_by["lr_schedule"]
    cosine = TrainConfig(model="qlae", dataset="shapes3d", lr_schedule="cosine")
    cosine = cosine.resolved(6, "shapes3d")
    assert cosine.lr_decay_steps == cosine.steps and "lr_schedule" not in cosine.chosen_by
    assert config.eval_every == round(config.steps / 10, -2)
    assert 9 <= config.steps // config.eval_every <= 11
    vae = TrainConfig(model="vae", dataset="shapes3d", device="cpu").resolved(6, "shapes3d")
    assert "measured there" in vae.chosen_by["steps"] and "paper_table.md" in vae.chosen_by["steps"]
    dsprites = TrainConfig(model="vae", dataset="dsprites").resolved(5, "dsprites")
    assert dsprites.chosen_by["steps"].startswith("cpu profile plateau table (dsprites)")
    assert dsprites.lr_schedule == "anneal" and dsprites.lr_decay_steps == dsprites.steps
    assert "0.66 dB" in dsprites.chosen_by["lr_schedule"]
    gan = TrainConfig(model="infowgan", dataset="dsprites").resolved(5, "dsprites")
    assert "provisional" in gan.chosen_by["steps"]
    # The anneal schedule spans the run unless told otherwise; a length needs a schedule
    # that decays.
    anneal = TrainConfig(model="qlae", dataset="shapes3d", lr_schedule="anneal")
    assert anneal.resolved(6, "shapes3d").lr_decay_steps == config.steps
    with pytest.raises(ValueError, match="cosine or anneal only"):
        TrainConfig(model="qlae", dataset="shapes3d", lr_schedule="constant", lr_decay_steps=9)
    with pytest.raises(ValueError, match="cosine or anneal only"):  # the GANs: constant
        TrainConfig(model="infowgan", dataset="dsprites", lr_decay_steps=9).resolved(5, "dsprites")
    # The GANs keep the authors' constant rate on every dataset.
    assert (
        TrainConfig(model="qlinfowgan", dataset="shapes3d").resolved(6, "shapes3d").lr_schedule
        == "constant"
    )
    paper = TrainConfig(model="ae", dataset="shapes3d", device="cuda").resolved(6, "shapes3d")
    assert paper.steps == 200_000 and "authors'" in paper.chosen_by["steps"]
    assert paper.lr_schedule == "constant" and paper.lr_decay_steps is None
    given = TrainConfig(model="ae", dataset="shapes3d", steps=7).resolved(6, "shapes3d")
    assert given.steps == 7 and "steps" not in given.chosen_by and given.eval_every is None
    dataset = open_dataset("shapes3d", 32)
    assert "steps (cpu profile plateau table" in describe(config, dataset)
    # A short run's default log period still gives every step a point.
    train(tiny("ae", steps=3, log_every=None), tmp_path, progress=False, score=False,
          figures=False)  # fmt: skip
    log = json.loads((tmp_path / "train_log.json").read_text())
    assert log["config"]["log_every"] == 1 and "log_every" in log["config"]["chosen_by"]
    assert log["timing_this_session"]["steps"] == 3
    assert log["timing_this_session"]["steps_per_s"] > 0


def test_channels_last_is_the_cpu_default_and_resumes_bit_exactly(tmp_path):
    from infomec.models.checkpoint import load_checkpoint
    from infomec.models.train import resumed_config

    whole, split = tmp_path / "whole", tmp_path / "split"
    # dsprites' default anneal spans the run: both runs anneal over the same 4 steps.
    train(tiny("qlae", steps=4, lr_decay_steps=4), whole, score=False, figures=False)
    train(tiny("qlae", steps=2, lr_decay_steps=4), split, score=False, figures=False)
    train(resumed_config(split, {"steps": 4}), split, resume=True, score=False, figures=False)
    a, b = load_checkpoint(whole / "checkpoint.pt"), load_checkpoint(split / "checkpoint.pt")
    assert a["config"]["channels_last"] is True
    assert a["config"]["chosen_by"]["channels_last"] == "default on cpu"
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key


def test_bench_train_step_runs_with_two_steps(tmp_path):
    bench = load_script("bench_train_step")
    out = tmp_path / "bench.md"
    argv = ["--dataset", "dsprites", "--image-size", "16", "--batch-size", "8"]
    argv += ["--subset", "orientation=0,20", "--subset", "scale=0,5", "--eval-size", "160"]
    argv += ["--steps", "2", "--rounds", "1", "--out", str(out)]
    argv += ["--arms", "trainer-plain", "trainer", "bare", "bare+channels_last"]
    assert bench.main(argv) == 0
    text = out.read_text()
    assert "load average" in text and "torch 2." in text
    assert "| trainer-plain |" in text and "| bare |" in text
    assert "bit-identical parameters" in text and "**different**" not in text


def test_plateau_rule():
    plateau = load_script("plateau")
    curve = [(100, 20.0), (200, 22.0), (300, 23.0), (400, 23.3), (500, 23.5)]
    # 400: PSNR(400) - PSNR(320) = 23.3 - 23.06 < 0.5; 300: 23.0 - 22.4 = 0.6.
    assert plateau.plateau_step(curve) == 400
    assert plateau.plateau_step([(100, 20.0), (200, 25.0), (300, 30.0)]) is None
    assert math.isnan(plateau.gains(curve)[0])


def test_plateau_script_writes_the_curve(tmp_path):
    plateau = load_script("plateau")
    csv = tmp_path / "curve.csv"
    argv = ["--model", "ae", "--dataset", "dsprites", "--steps", "4", "--eval-every", "2"]
    argv += ["--image-size", "16", "--batch-size", "8", "--eval-size", "160"]
    argv += ["--subset", "orientation=0,20", "--subset", "scale=0,5"]
    argv += ["--runs-dir", str(tmp_path / "runs"), "--csv", str(csv)]
    assert plateau.main(argv) == 0
    lines = csv.read_text().splitlines()
    assert lines[0].startswith("step,psnr,bce,infom")
    assert [line.split(",")[0] for line in lines[1:]] == ["2", "4"]
    summary = csv.with_suffix(".md").read_text()
    assert "Plateau: ae on dsprites" in summary and "load average" in summary
    run = next((tmp_path / "runs").iterdir())
    assert (run / "traversals.png").exists() and (run / "report.html").exists()


@pytest.mark.slow
def test_paper_table_suite_at_the_plateau_with_a_handful_of_steps(tmp_path):
    paper_table = load_script("paper_table")
    out = tmp_path / "table.md"
    argv = ["--suite", "issue23", "--max-steps", "2", "--seeds", "0", "1", "--gan-seeds", "0"]
    argv += ["--models", "qlae", "ae", "infowgan", "qlinfowgan", "--image-size", "16"]
    argv += ["--eval-size", "200", "--presets", "reference", "--no-mig", "--no-pictures"]
    argv += ["--quiet-check", "--out", str(out), "--runs-dir", str(tmp_path / "runs")]
    assert paper_table.main(argv) == 0
    text = out.read_text()
    assert "Quiet check: start `" in text and "load average" in text
    assert "### shapes3d" in text and "### dsprites" in text
    assert "Latent quantization dramatically improves modularity" in text
    assert "without compromising data reconstruction" in text
    assert "capped at --max-steps 2" in text
    rows = [
        json.loads(line) for line in (tmp_path / "table_shapes3d.jsonl").read_text().splitlines()
    ]
    assert {(r["model"], r["seed"]) for r in rows} == {
        ("qlae", 0), ("qlae", 1), ("ae", 0), ("ae", 1), ("infowgan", 0), ("qlinfowgan", 0),
    }  # fmt: skip
    assert all(r["steps"] == 2 for r in rows)
    dsprites = (tmp_path / "table_dsprites.jsonl").read_text().splitlines()
    assert {json.loads(line)["model"] for line in dsprites} == {"qlae", "ae"}


def test_the_eta_leaves_out_the_first_steps_warm_up(monkeypatch):
    import infomec.models.progress as progress_module

    clock = [0.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    bar = progress_module.Progress(1000, desc="qlae step", bar=False, quiet=True)
    clock[0] = 100.0  # a slow first step (imports, first kernels, cold caches)
    bar.update(1)
    clock[0] = 110.0  # then 2 steps per second
    bar.update(21)
    assert bar.rate() == pytest.approx(2.0)
    assert "ETA 8.2 min" in bar.line()  # 979 steps at 2/s, not at 21 / 110 s
    clock[0] = 400.0  # later, slower: the rate follows the last couple of minutes
    bar.update(321)
    bar.report()
    clock[0] = 500.0
    bar.update(421)
    assert bar.rate() == pytest.approx(1.0)


def test_scoring_during_training_leaves_torch_threads_alone(tmp_path):
    # numba's kernels share libgomp with torch: without care, a periodic evaluation left
    # torch on 2 threads (each later step then cost ~3x its CPU time on a busy machine).
    assert torch.get_num_threads() == 1  # tests/models/conftest.py
    train(tiny("ae", steps=4, eval_every=2), tmp_path, score=False, figures=False)
    assert torch.get_num_threads() == 1
