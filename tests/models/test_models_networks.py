"""Networks and models in tiny configurations: shapes, optimizer partition, one step each."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from infomec.models.autoencoder import clipped_step, make_optimizer  # noqa: E402
from infomec.models.config import ARCHITECTURE_NAMES, MODEL_NAMES, TrainConfig  # noqa: E402
from infomec.models.data import ProceduralDSprites  # noqa: E402
from infomec.models.nets import (  # noqa: E402
    ARCHITECTURES,
    Encoder,
    StyleDecoder,
    make_decoder,
    split_decayed_parameters,
)
from infomec.models.registry import build_model  # noqa: E402


def tiny_model(name: str, arch: str = "burgess", size: int = 16, channels: int = 1):
    config = TrainConfig(model=name, dataset="dsprites", steps=1, arch=arch, image_size=size)
    torch.manual_seed(0)
    return build_model(config.resolved(2), (channels, size, size), dataset_size=1000)


def batch(size: int = 16, channels: int = 1, n: int = 8):
    generator = torch.Generator().manual_seed(1)
    return (torch.rand(n, channels, size, size, generator=generator) > 0.7).float()


def test_architecture_names_match_the_config():
    assert set(ARCHITECTURES) == set(ARCHITECTURE_NAMES)


@pytest.mark.parametrize("arch", ARCHITECTURE_NAMES)
@pytest.mark.parametrize("size", [16, 32])
def test_encoder_and_decoder_shapes(arch, size):
    spec = ARCHITECTURES[arch]
    encoder = Encoder(spec, 3, size, 7)
    out = encoder(torch.rand(2, 3, size, size))
    assert out["pre_z"].shape == (2, 7) and out["features"].shape == (2, spec.dense[-1])
    decoder = make_decoder(spec, 7, 3, size)
    assert decoder(out["pre_z"]).shape == (2, 3, size, size)


def test_paper_architecture_at_64px_follows_the_paper():
    spec = ARCHITECTURES["paper"]
    encoder = Encoder(spec, 3, 64, 12)
    convs = [m for m in encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 12 and all(conv.bias is None for conv in convs)
    assert [conv.out_channels for conv in convs[2::3]] == [32, 64, 128, 256]
    decoder = make_decoder(spec, 12, 3, 64)
    assert isinstance(decoder, StyleDecoder) and len(decoder.blocks) == 12
    assert decoder(torch.zeros(1, 12)).shape == (1, 3, 64, 64)


def test_image_size_must_fit_the_architecture():
    with pytest.raises(ValueError, match="power of two from 8 to 64"):
        Encoder(ARCHITECTURES["paper"], 1, 24, 4)
    with pytest.raises(ValueError, match="power of two"):
        Encoder(ARCHITECTURES["paper"], 1, 128, 4)


def test_weight_decay_skips_biases_and_codebooks():
    model = tiny_model("qlae", arch="paper")
    decayed, plain = split_decayed_parameters(model, (model.latent,))
    decayed_ids, plain_ids = {id(p) for p in decayed}, {id(p) for p in plain}
    names = dict(model.named_parameters())
    assert id(names["latent.values"]) in plain_ids
    assert id(names["decoder.constant"]) in decayed_ids
    assert id(names["encoder.convs.1.weight"]) in decayed_ids  # instance-norm scale
    assert all(id(p) in plain_ids for n, p in names.items() if n.endswith("bias"))
    optimizer = model.make_optimizers()[0]
    assert [group["weight_decay"] for group in optimizer.param_groups] == [0.1, 0.0]


def test_gradient_value_clipping_touches_only_the_decayed_group():
    weight = torch.nn.Parameter(torch.zeros(3))
    layer = torch.nn.Linear(3, 1)
    with torch.no_grad():
        layer.bias.zero_()
    optimizer, clipped = make_optimizer([layer], (), lr=0.0, weight_decay=0.0)
    loss = 100 * layer(torch.ones(1, 3)).sum() + (weight * 0).sum()
    clipped_step(optimizer, loss, clipped)
    assert layer.weight.grad.abs().max() == 1.0  # clipped from 100 elementwise
    assert layer.bias.grad.item() == 100.0  # biases are not clipped


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_trains_one_step_and_evaluates(name):
    model = tiny_model(name)
    optimizers = model.make_optimizers()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    logs = model.train_step(batch(), 0, optimizers)
    assert logs and all(v.ndim == 0 and torch.isfinite(v) for v in logs.values())
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    assert changed
    latents, quality = model.evaluate(batch())
    assert latents.shape == (8, 4)
    quantized = name.startswith("ql")
    assert latents.dtype == (torch.int64 if quantized else torch.float32)
    if quantized:
        assert latents.min() >= 0 and latents.max() < 10
    assert quality["psnr"].shape == (8,) and torch.isfinite(quality["bce"]).all()


def test_gan_generator_steps_every_fifth_step():
    model = tiny_model("qlinfowgan")
    optimizers = model.make_optimizers()
    generator = {k: v.clone() for k, v in model.generator.state_dict().items()}
    codebook = model.latent.values.detach().clone()
    logs = model.train_step(batch(), 1, optimizers)
    assert "generator" not in logs
    assert all(torch.equal(v, generator[k]) for k, v in model.generator.state_dict().items())
    assert torch.equal(model.latent.values, codebook)  # codebooks belong to the generator
    logs = model.train_step(batch(), 5, optimizers)
    assert "generator" in logs and logs["penalty"] >= 0
    assert not torch.equal(model.latent.values, codebook)


def test_qlae_and_ae_reduce_reconstruction_loss_on_a_fixed_batch():
    sprites = ProceduralDSprites(subset={"orientation": [0], "scale": [5]}, image_size=16)
    x = torch.from_numpy(sprites.images(np.arange(0, len(sprites), 97)[:16]))
    for name in ("qlae", "ae"):
        model = tiny_model(name)
        optimizers = model.make_optimizers()
        losses = [float(model.train_step(x, step, optimizers)["bce"]) for step in range(25)]
        # Trends, not exact values: results are not bit-identical across torch builds.
        assert sum(losses[-5:]) < 0.7 * sum(losses[:5]), name


def test_vae_kl_and_tcvae_terms_are_reported():
    x = batch()
    vae, tcvae = tiny_model("vae"), tiny_model("tcvae")
    assert vae.beta == 4.0 and tcvae.beta == 6.0
    assert tcvae.train_step(x, 0, tcvae.make_optimizers()).keys() >= {"mi", "tc", "dim_kl"}
    assert vae.train_step(x, 0, vae.make_optimizers())["kl"] >= 0
