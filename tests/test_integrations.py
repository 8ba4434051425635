"""Lightning, TensorBoard and Weights & Biases hooks, against the real libraries.

Kept small (a linear encoder, one epoch, a few batches): each test checks that what
reached the library is what ``infomec.score`` gives on the same rows.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import infomec
from infomec.demo import make_example

try:  # the Lightning and TensorBoard hooks need torch; W&B logging does not
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="needs torch ([models])")


@pytest.fixture(scope="module")
def example():
    data = make_example(600)
    return data["disentangled"].astype(np.float32), data["sources"], list(data["source_names"])


@pytest.fixture(scope="module")
def result(example):
    latents, sources, names = example
    return infomec.score(latents=latents, sources=sources, source_names=names)


def _event_file_tags(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    (events,) = folder.rglob("events.out.tfevents.*")
    accumulator = EventAccumulator(str(events.parent), size_guidance={"images": 0, "scalars": 0})
    accumulator.Reload()
    return accumulator


@needs_torch
def test_tensorboard_writer_gets_every_scalar_and_the_heatmap(tmp_path, result):
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter

    from infomec.integrations.tensorboard import log_result

    writer = SummaryWriter(str(tmp_path))
    tags = log_result(writer, result, step=3, figures=("nmi", "infoe"))
    writer.close()
    events = _event_file_tags(tmp_path)
    scalars = events.Tags()["scalars"]
    assert sorted(scalars) == sorted(f"infomec/{key}" for key in result.scalars())
    for key, value in result.scalars().items():
        (event,) = events.Scalars(f"infomec/{key}")
        assert event.step == 3 and event.value == pytest.approx(value, rel=1e-6)
    assert sorted(events.Tags()["images"]) == ["infomec/infoe", "infomec/nmi"]
    (image,) = events.Images("infomec/nmi")
    assert image.width > 200 and image.height > 100
    assert tags[-2:] == ["infomec/nmi", "infomec/infoe"]


def test_an_unknown_figure_is_refused(result):
    from infomec.integrations import figures_of

    with pytest.raises(ValueError, match="figures must be among"):
        figures_of(result, ("heatmap",))


def test_wandb_offline_run_records_the_scores(tmp_path, monkeypatch, result):
    wandb = pytest.importorskip("wandb")
    from infomec.integrations.wandb import log_result

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    with pytest.raises(ValueError, match="no active W&B run"):
        log_result(result)
    run = wandb.init(project="infomec-test", dir=str(tmp_path), mode="offline")
    try:
        logged = log_result(result, step=0, figures=("nmi",))
        assert isinstance(logged["infomec/nmi"], wandb.Image)
    finally:
        run.finish()
    # The offline run's record file holds each key and its value (as JSON text).
    (record,) = tmp_path.rglob("offline-run-*/*.wandb")
    content = record.read_bytes()
    for key, value in result.scalars().items():
        assert logged[f"infomec/{key}"] == value
        assert f"infomec/{key}".encode() in content and json.dumps(value).encode() in content
    assert list(tmp_path.rglob("media/images/infomec/nmi_0_*.png"))


def test_missing_wandb_names_the_extra(monkeypatch, result):
    from infomec.integrations import wandb as integration

    monkeypatch.setattr(integration.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ValueError, match=r"pip install 'infomec\[integrations\]'"):
        integration.log_result(result)


def test_missing_lightning_names_the_extra():
    code = (
        "import sys\n"
        "sys.modules['lightning'] = None; sys.modules['pytorch_lightning'] = None\n"
        "try:\n    import infomec.integrations.lightning\n"
        "except ImportError as error:\n    print(error)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "pip install 'infomec[integrations]'" in completed.stdout, completed.stderr


def _lightning_module(pl, returns_outputs: bool):
    class Encoder(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.encoder = torch.nn.Linear(6, 6)
            with torch.no_grad():  # start at the identity: the scores are the data's
                self.encoder.weight.copy_(torch.eye(6))
                self.encoder.bias.zero_()

        def training_step(self, batch, batch_idx):
            inputs, _ = batch
            return ((self.encoder(inputs) - inputs) ** 2).mean()

        def validation_step(self, batch, batch_idx):
            inputs, factors = batch
            latents = self.encoder(inputs)
            self.log("val_loss", ((latents - inputs) ** 2).mean())
            return {"latents": latents, "sources": factors} if returns_outputs else None

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.0)  # weights stay the identity

    return Encoder()


@needs_torch
@pytest.mark.parametrize("returns_outputs", [True, False])
def test_lightning_callback_logs_the_scores_and_the_heatmap(
    tmp_path, example, result, returns_outputs
):
    pl = pytest.importorskip("lightning.pytorch")
    pytest.importorskip("tensorboard")
    from lightning.pytorch.loggers import TensorBoardLogger

    from infomec.integrations.lightning import InfoMECCallback

    torch.set_num_threads(1)
    latents, sources, names = example
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(latents), torch.from_numpy(sources))
    loader = torch.utils.data.DataLoader(dataset, batch_size=200)
    extract = (
        None if returns_outputs else (lambda module, batch: (module.encoder(batch[0]), batch[1]))
    )
    callback = InfoMECCallback(extract, metrics=["infomec", "mig"], source_names=names)
    trainer = pl.Trainer(
        max_epochs=1,
        limit_train_batches=2,
        accelerator="cpu",
        logger=TensorBoardLogger(str(tmp_path), name="run"),
        callbacks=[callback],
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        num_sanity_val_steps=2,
    )
    trainer.fit(_lightning_module(pl, returns_outputs), loader, loader)
    logged = trainer.callback_metrics
    assert callback.result.n_samples == 600  # every validation row, no sanity-check rows
    expected = infomec.score(
        latents=latents, sources=sources, source_names=names, metrics=["infomec", "mig"]
    )
    assert logged["infomec/infomec.infom"].item() == pytest.approx(expected.infom, abs=1e-6)
    assert logged["infomec/mig.score"].item() == pytest.approx(expected["mig"]["score"], abs=1e-6)
    assert expected.infom == pytest.approx(result.infom)
    events = _event_file_tags(tmp_path)
    assert "infomec/nmi" in events.Tags()["images"]
    assert "infomec/infomec.infoc" in events.Tags()["scalars"]


@needs_torch
def test_lightning_callback_explains_what_it_needs(tmp_path, example):
    pl = pytest.importorskip("lightning.pytorch")
    from infomec.integrations.lightning import InfoMECCallback

    with pytest.raises(ValueError, match="every_n_epochs"):
        InfoMECCallback(every_n_epochs=0)
    latents, sources, _ = example
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(latents), torch.from_numpy(sources))
    loader = torch.utils.data.DataLoader(dataset, batch_size=300)
    trainer = pl.Trainer(
        max_epochs=1,
        limit_train_batches=1,
        accelerator="cpu",
        logger=False,
        callbacks=[InfoMECCallback()],
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        num_sanity_val_steps=0,
    )
    with pytest.raises(ValueError, match="must return a dict with 'latents' and 'sources'"):
        trainer.fit(_lightning_module(pl, returns_outputs=False), loader, loader)
