"""No lost work: Ctrl-C / SIGTERM checkpoints and exits 130, resuming from DIR alone gives
the latents of an uninterrupted run, checkpoints also come by wall time and are atomic."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import infomec.models.train as train_module  # noqa: E402
from infomec.models.checkpoint import atomic_write, load_checkpoint  # noqa: E402
from infomec.models.config import TrainConfig  # noqa: E402
from infomec.models.train import train  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TINY = [
    "--dataset", "dsprites", "--arch", "burgess", "--image-size", "16", "--batch-size", "8",
    "--eval-size", "160", "--subset", "orientation=0,20", "--subset", "scale=0,5",
    "--threads", "1", "--no-score", "--log-every", "3", "--checkpoint-every", "1000",
]  # fmt: skip

# The child runs the real CLI; its batch source sends the given signal to the process itself
# right before step STOP_AT, so the interruption lands at a known step but goes through the
# real signal handler.
CHILD = """
import os, sys
import infomec.models.batches as batches
import cli
signum, stop_at = int(sys.argv[1]), int(sys.argv[2])
original = batches.BatchStream.get
def get(self, step):
    if step == stop_at:
        os.kill(os.getpid(), signum)
    return original(self, step)
batches.BatchStream.get = get
sys.exit(cli.main(sys.argv[3:]))
"""


def run_cli(*argv: str, child: tuple[int, int] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    if child is None:
        command = [sys.executable, "-c", "import sys, cli; sys.exit(cli.main(sys.argv[1:]))"]
    else:
        command = [sys.executable, "-c", CHILD, str(child[0]), str(child[1])]
    return subprocess.run(
        [*command, "train", *argv], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    ("model", "signum"),
    [
        ("qlae", signal.SIGINT),
        # The same path with the other signal and a sampling model: slow on a shared machine.
        pytest.param("vae", signal.SIGTERM, marks=pytest.mark.slow),
    ],
)
def test_interrupted_then_resumed_run_equals_a_straight_run(tmp_path, model, signum):
    straight, split = str(tmp_path / "straight"), str(tmp_path / "split")
    common = ["--model", model, "--steps", "10", *TINY]
    done = run_cli(*common, "--out", straight)
    assert done.returncode == 0, done.stderr

    # The signal arrives while the batch of step index 7 is prepared: that step completes
    # (a half-done optimizer step is never saved), then the run stops at 8 of 10.
    stopped = run_cli(*common, "--out", split, child=(signum, 7))
    assert stopped.returncode == 130, stopped.stderr
    assert "stopped at step 8/10" in stopped.stderr
    assert f"infomec train --resume --out {split}" in stopped.stderr
    assert load_checkpoint(Path(split) / "checkpoint.pt")["step"] == 8
    assert not (Path(split) / "latents.npz").exists()

    resumed = run_cli("--resume", "--out", split)  # nothing but the directory
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stderr and "at step 8/10" in resumed.stderr
    for name in ("latents.npz", "sources.npz"):
        a, b = np.load(Path(straight) / name), np.load(Path(split) / name)
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key])
    logs = [json.loads((Path(d) / "train_log.json").read_text()) for d in (straight, split)]
    assert logs[0]["history"] == logs[1]["history"]
    assert "train.log" in os.listdir(split)
    assert "stopped at step 8/10" in (Path(split) / "train.log").read_text()


def test_resume_needs_a_checkpoint_and_a_fresh_run_needs_model_and_dataset(tmp_path):
    missing = run_cli("--model", "qlae", "--out", str(tmp_path / "x"))
    assert missing.returncode == 2
    assert "infomec: error: --dataset required" in missing.stderr
    no_out = run_cli("--model", "qlae", "--dataset", "dsprites")
    assert no_out.returncode == 2 and "infomec: error: --out DIR is required" in no_out.stderr
    nothing = run_cli("--resume", "--out", str(tmp_path / "nowhere"))
    assert nothing.returncode == 2 and "no checkpoint to resume from" in nothing.stderr


def tiny(**changes) -> TrainConfig:
    settings = dict(
        model="qlae",
        dataset="dsprites",
        steps=3,
        arch="burgess",
        image_size=16,
        batch_size=8,
        subset={"orientation": [0, 20], "scale": [0, 5]},
        eval_size=160,
        checkpoint_every=1000,
        log_every=1000,
    )
    return TrainConfig(**{**settings, **changes})


def test_checkpoints_also_come_by_wall_time(tmp_path, monkeypatch):
    saved_steps = []
    original = train_module.save_checkpoint
    monkeypatch.setattr(
        train_module,
        "save_checkpoint",
        lambda path, payload: (saved_steps.append(payload["step"]), original(path, payload)),
    )
    train(tiny(checkpoint_minutes=1e-9), tmp_path / "often", score=False, quiet=True)
    assert saved_steps == [1, 2, 3]
    saved_steps.clear()
    train(tiny(), tmp_path / "rarely", score=False, quiet=True)
    assert saved_steps == [3]  # the last step only


def test_an_interrupted_write_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(b"previous")

    def half_write(handle):
        handle.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, half_write)
    assert path.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["checkpoint.pt"]
