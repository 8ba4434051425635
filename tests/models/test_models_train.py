"""The training entry point: run files, checkpoints, resume equality, CLI behaviour."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import infomec  # noqa: E402
from infomec.models.checkpoint import load_checkpoint  # noqa: E402
from infomec.models.cli import add_train_arguments, main, parse_subset, run_train  # noqa: E402
from infomec.models.config import TrainConfig  # noqa: E402
from infomec.models.train import resumed_config, train  # noqa: E402

SUBSET = {"orientation": [0, 20], "scale": [0, 5]}


def tiny_config(model: str = "qlae", **changes) -> TrainConfig:
    settings = dict(
        model=model,
        dataset="dsprites",
        steps=4,
        arch="burgess",
        image_size=16,
        batch_size=8,
        subset=SUBSET,
        eval_size=160,
        checkpoint_every=2,
        log_every=2,
    )
    return TrainConfig(**{**settings, **changes})


def test_a_run_writes_latents_sources_log_and_checkpoint(tmp_path):
    summary = train(tiny_config(), tmp_path, score=False, progress=False)
    latents = np.load(tmp_path / "latents.npz")["latents"]
    sources = np.load(tmp_path / "sources.npz")
    assert latents.shape == (160, 10) and latents.dtype == np.int64  # 2 x 5 factors
    assert sources["sources"].shape == (160, 5) and sources["sources"].dtype == np.int64
    assert list(sources["source_names"]) == ["shape", "scale", "orientation", "posX", "posY"]
    log = json.loads((tmp_path / "train_log.json").read_text())
    assert [entry["step"] for entry in log["history"]] == [2, 4]
    assert log["config"]["weight_decay"] == 0.1 and log["config"]["num_latents"] == 10
    assert summary["eval"]["psnr"] > 0 and log["eval"]["discrete_latents"] is True
    checkpoint = load_checkpoint(tmp_path / "checkpoint.pt")  # weights_only=True inside
    assert checkpoint["step"] == 4 and checkpoint["config"]["model"] == "qlae"
    assert not list(tmp_path.glob("*.tmp"))


def test_continuous_models_write_float_latents(tmp_path):
    train(tiny_config("vae", steps=2), tmp_path, score=False, progress=False)
    latents = np.load(tmp_path / "latents.npz")["latents"]
    assert latents.dtype == np.float64 and latents.shape == (160, 10)


@pytest.mark.parametrize("model", ["qlae", "vae", "qlinfowgan"])
def test_resume_equals_an_uninterrupted_run(tmp_path, model):
    whole, split = tmp_path / "whole", tmp_path / "split"
    # A decaying rate over the whole run's 6 steps in both runs (anneal for the VAE: its
    # decay lies across the split): the rate is a function of the step, so the split run
    # follows it exactly.
    schedule = "anneal" if model == "vae" else "cosine"
    options = dict(checkpoint_every=4, log_every=3, lr_schedule=schedule, lr_decay_steps=6)
    config = tiny_config(model, steps=6, **options)
    train(config, whole, score=False, progress=False)
    # Stop after 5 steps: past the step-4 checkpoint, inside a logging interval.
    train(tiny_config(model, steps=5, **options), split, score=False)
    train(resumed_config(split, {"steps": 6}), split, resume=True, score=False)
    a, b = load_checkpoint(whole / "checkpoint.pt"), load_checkpoint(split / "checkpoint.pt")
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    assert a["history"] == b["history"] and [e["step"] for e in a["history"]] == [3, 6]
    for name in ("latents.npz", "sources.npz"):
        for key, value in np.load(whole / name).items():
            np.testing.assert_array_equal(value, np.load(split / name)[key])


def test_resume_refuses_changed_settings_and_missing_checkpoints(tmp_path):
    train(tiny_config(steps=2), tmp_path, score=False)
    with pytest.raises(ValueError, match="already holds a checkpoint"):
        train(tiny_config(steps=2), tmp_path, score=False)
    with pytest.raises(ValueError, match="cannot resume: lr is 0.001 in the checkpoint"):
        train(tiny_config(steps=3, lr=0.01), tmp_path, resume=True, score=False)
    with pytest.raises(ValueError, match="beyond steps=1"):
        train(resumed_config(tmp_path, {"steps": 1}), tmp_path, resume=True, score=False)
    with pytest.raises(ValueError, match="no checkpoint to resume from"):
        resumed_config(tmp_path / "elsewhere")


def test_checkpoints_load_without_unpickling_objects(tmp_path):
    path = tmp_path / "checkpoint.pt"
    torch.save({"version": 1, "payload": argparse.Namespace(x=1)}, path)
    with pytest.raises(ValueError, match="not a loadable checkpoint"):
        load_checkpoint(path)
    torch.save({"version": 99}, path)
    with pytest.raises(ValueError, match="not an infomec checkpoint of version 2"):
        load_checkpoint(path)


def test_standalone_entry_point_maps_errors_to_status_2(tmp_path, capsys):
    status = main(["--model", "qlae", "--dataset", "nope", "--steps", "1", "--out", str(tmp_path)])
    assert status == 2 and "error: unknown dataset 'nope'" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(infomec, "score"), reason="metrics core has no score() yet")
def test_scores_json_comes_from_the_core(tmp_path):
    # 160 rows: posX takes 32 values, and sources need 5 rows per value to be scored.
    summary = train(tiny_config(steps=2, eval_size=160), tmp_path, progress=False)
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert scores == json.loads(json.dumps(summary["scores"]))
    assert {"infom", "infoe", "infoc"} <= set(scores["infomec"])


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    return parser.parse_args(list(argv))


def test_cli_trains_and_resumes(tmp_path, capsys):
    out = str(tmp_path / "run")
    common = ["--model", "ae", "--dataset", "dsprites", "--out", out, "--arch", "burgess"]
    common += ["--image-size", "16", "--batch-size", "4", "--eval-size", "32", "--no-score"]
    common += ["--subset", "orientation=0:40:20", "--subset", "scale=0,5", "--no-progress"]
    assert run_train(parse(*common, "--steps", "2")) == 0
    assert "PSNR" in capsys.readouterr().out
    # Options left out on resume come from the checkpoint.
    resumed = ["--model", "ae", "--dataset", "dsprites", "--out", out, "--no-score"]
    assert run_train(parse(*resumed, "--steps", "3", "--resume")) == 0
    assert load_checkpoint(tmp_path / "run" / "checkpoint.pt")["step"] == 3
    with pytest.raises(ValueError, match="cannot resume: model is 'ae'"):
        run_train(parse(*common, "--steps", "4", "--resume", "--model", "vae"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--steps", "0"], "steps must be > 0"),
        (["--steps", "2", "--batch-size", "-1"], "batch-size must be > 0"),
        (["--steps", "2", "--dataset", "nowhere.npz"], "unknown dataset 'nowhere.npz'"),
        (["--steps", "2", "--beta", "2"], "beta applies to vae and tcvae only"),
        (["--steps", "2", "--image-size", "24"], "image size must divide 64"),
        (["--steps", "2", "--subset", "orientation"], "bad --subset"),
        (["--steps", "2", "--subset", "colour=0"], "unknown factor 'colour'"),
    ],
)
def test_cli_bad_input_is_a_one_line_value_error(tmp_path, argv, message):
    args = ["--model", "qlae", "--dataset", "dsprites", "--out", str(tmp_path), *argv]
    with pytest.raises(ValueError, match=message) as error:
        run_train(parse(*args))
    assert "\n" not in str(error.value)


def test_cli_rejects_unknown_models():
    with pytest.raises(SystemExit):
        parse("--model", "gan", "--dataset", "dsprites", "--steps", "1", "--out", "x")


def test_parse_subset():
    assert parse_subset(["orientation=0:10:5", "shape=0,2"]) == {
        "orientation": [0, 5],
        "shape": [0, 2],
    }
    assert parse_subset(None) is None


def test_an_eval_size_too_small_to_score_is_refused_before_training(tmp_path):
    # posX takes 32 values: 64 evaluation images give 2 per value, infomec needs 5.
    with pytest.raises(ValueError, match=r"--eval-size 64 is too small to score: factor 'posX'"):
        train(tiny_config(steps=2, eval_size=64), tmp_path, progress=False)
    assert not (tmp_path / "checkpoint.pt").exists()
    # Without scoring nothing needs the density.
    train(tiny_config(steps=2, eval_size=64), tmp_path / "unscored", progress=False, score=False)


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_silences_the_trainers_progress(tmp_path, capsys, where):
    import cli

    command = ["train", "--model", "ae", "--dataset", "dsprites", "--steps", "2"]
    command += ["--image-size", "16", "--batch-size", "4", "--no-score", "--out", str(tmp_path)]
    argv = ["-q", *command] if where == "before" else [*command, "-q"]
    assert cli.main(argv) == 0
    assert capsys.readouterr().err == ""
    assert "step" in (tmp_path / "train.log").read_text()  # the log file keeps it
