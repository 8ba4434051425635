"""Profiles, per-dataset settings, the deprecated architecture name, periodic evaluation,
several presets in scores.json, progress without a terminal, and prefetched batches."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from infomec.models.batches import BatchStream, batch_indices  # noqa: E402
from infomec.models.config import TrainConfig  # noqa: E402
from infomec.models.data import open_dataset  # noqa: E402
from infomec.models.progress import Progress  # noqa: E402
from infomec.models.train import train  # noqa: E402

SUBSET = {"orientation": [0, 20], "scale": [0, 5]}


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


def test_without_cuda_the_cpu_profile_fills_sizes_and_says_why():
    config = TrainConfig(model="qlae", dataset="shapes3d", steps=1, device="cpu").resolved(6)
    assert (config.profile, config.image_size, config.arch, config.eval_size) == (
        "cpu",
        32,
        "burgess",
        5000,
    )
    assert config.chosen_by["image_size"] == "cpu profile"
    assert config.chosen_by["profile"] == "default on cpu"
    on_cuda = TrainConfig(model="qlae", dataset="shapes3d", steps=1, device="cuda").resolved(6)
    assert (on_cuda.profile, on_cuda.image_size, on_cuda.arch, on_cuda.eval_size) == (
        "paper",
        64,
        "paper",
        10_000,
    )
    # A given size wins over the profile.
    sized = TrainConfig(model="qlae", dataset="shapes3d", steps=1, image_size=64).resolved(6)
    assert sized.image_size == 64 and sized.arch == "burgess"
    assert sized.chosen_by["image_size"] == "given"


@pytest.mark.parametrize(
    ("model", "family", "beta", "why"),
    [
        ("vae", "shapes3d", 3.0, "authors' shapes3d setting"),
        ("vae", "mpi3d", 0.1, "authors' mpi3d setting"),
        ("vae", "falcor3d", 10.0, "authors' falcor3d setting"),
        ("vae", "isaac3d", 0.3, "authors' isaac3d setting"),
        ("tcvae", "shapes3d", 3.0, "authors' shapes3d setting"),
        ("tcvae", "mpi3d", 0.3, "authors' mpi3d setting"),
        ("tcvae", "falcor3d", 3.0, "authors' falcor3d setting"),
        ("tcvae", "isaac3d", 1.0, "authors' isaac3d setting"),
        ("vae", "dsprites", 4.0, "vae default"),
        ("tcvae", "dsprites", 6.0, "tcvae default"),
    ],
)
def test_beta_follows_the_authors_per_dataset_configs(model, family, beta, why):
    config = TrainConfig(model=model, dataset="x", steps=1).resolved(6, family)
    assert config.beta == beta and config.chosen_by["beta"] == why


def test_a_given_beta_wins_and_other_per_dataset_values_apply():
    config = TrainConfig(model="vae", dataset="x", steps=1, beta=7.0).resolved(6, "shapes3d")
    assert config.beta == 7.0 and config.chosen_by["beta"] == "given"
    ae = TrainConfig(model="ae", dataset="x", steps=1).resolved(6, "shapes3d")
    assert ae.weight_decay == 1e-3 and ae.chosen_by["weight_decay"] == "authors' shapes3d setting"
    gan = TrainConfig(model="qlinfowgan", dataset="x", steps=1).resolved(6, "falcor3d")
    assert gan.weight_decay == 1e-4


def test_open_dataset_names_the_family():
    assert open_dataset("shapes3d", 16).family == "shapes3d"
    assert open_dataset("dsprites", 16, SUBSET).family == "dsprites"


def test_small_is_a_deprecated_alias_of_burgess():
    with pytest.warns(FutureWarning, match="'small' is deprecated; it is the same network"):
        config = TrainConfig(model="qlae", dataset="dsprites", steps=1, arch="small")
    assert config.arch == "burgess"
    with pytest.raises(ValueError, match="unknown architecture 'tiny'"):
        TrainConfig(model="qlae", dataset="dsprites", steps=1, arch="tiny")


def test_the_run_records_its_settings_and_why(tmp_path):
    train(tiny("vae", steps=2), tmp_path, score=False, quiet=True)
    log = json.loads((tmp_path / "train_log.json").read_text())
    assert log["config"]["beta"] == 4.0
    assert log["config"]["chosen_by"]["beta"] == "vae default"  # dSprites: no authors' value
    first_line = (tmp_path / "train.log").read_text().splitlines()[0]
    assert "vae on dsprites" in first_line and "beta 4 (vae default)" in first_line


def test_eval_every_records_scores_and_draws_curves(tmp_path):
    summary = train(tiny(steps=4, eval_every=2), tmp_path / "eval", quiet=True)
    log = json.loads((tmp_path / "eval" / "train_log.json").read_text())
    assert [entry["step"] for entry in log["evaluations"]] == [2, 4]
    for entry in log["evaluations"]:
        assert {"infom", "infoe", "infoc", "psnr", "bce", "n_active"} <= set(entry)
    assert log["evaluations"][-1]["infom"] == summary["scores"]["infomec"]["infom"]
    assert (tmp_path / "eval" / "curves.png").read_bytes()[:4] == b"\x89PNG"
    # Evaluating during training does not change the run.
    train(tiny(steps=4), tmp_path / "plain", quiet=True, score=False)
    for name in ("latents.npz",):
        a = np.load(tmp_path / "eval" / name)["latents"]
        np.testing.assert_array_equal(a, np.load(tmp_path / "plain" / name)["latents"])


def test_an_extended_run_keeps_an_evaluation_at_its_old_end(tmp_path):
    from infomec.models.train import resumed_config

    train(tiny(steps=2, eval_every=2), tmp_path, quiet=True, score=False)
    train(resumed_config(tmp_path, {"steps": 4}), tmp_path, resume=True, quiet=True, score=False)
    log = json.loads((tmp_path / "train_log.json").read_text())
    assert [entry["step"] for entry in log["evaluations"]] == [2, 4]


def test_scores_json_records_the_preset_and_holds_several(tmp_path):
    train(tiny(steps=2, presets=("paper", "reference")), tmp_path, quiet=True)
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert scores["preset"] == "paper" and scores["settings"]["preset"] == "paper"
    assert set(scores["presets"]) == {"paper", "reference"}
    assert scores["presets"]["reference"]["settings"]["preset"] == "reference"
    assert scores["infomec"] == scores["presets"]["paper"]["infomec"]
    with pytest.raises(ValueError, match="presets must be among"):
        tiny(presets=("nope",))


def test_without_a_terminal_progress_comes_as_periodic_lines(tmp_path, capsys):
    train(tiny(steps=6), tmp_path, score=False, progress=False, report_seconds=0.0)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("qlae step ")]
    assert lines, err
    assert re.search(r"qlae step \d+/6 \| loss [0-9.]+ \| [0-9.e+]+/s \| ETA", lines[0])
    assert any(line.startswith("encode images 160/160") for line in err.splitlines())
    log = (tmp_path / "train.log").read_text()
    assert "qlae step" in log and "trained to step 6" in log


def test_progress_eta_and_quiet(tmp_path, capsys):
    with open(tmp_path / "log.txt", "w") as handle:
        progress = Progress(100, 50, desc="x", log_file=handle, bar=False, quiet=True)
        progress.update(60, "loss 1")
    assert capsys.readouterr().err == ""
    assert "x 60/100 | loss 1" in (tmp_path / "log.txt").read_text()


def test_batches_are_a_function_of_seed_and_step_with_or_without_workers():
    data = open_dataset("dsprites", 16, SUBSET)
    device = torch.device("cpu")
    with BatchStream(data, 3, 5, device) as plain, BatchStream(data, 3, 5, device, 2) as ahead:
        for step in range(6):
            assert torch.equal(plain.get(step), ahead.get(step))
    indices = batch_indices(3, 4, len(data), 5)
    np.testing.assert_array_equal(indices, batch_indices(3, 4, len(data), 5))
    assert not np.array_equal(indices, batch_indices(3, 5, len(data), 5))
