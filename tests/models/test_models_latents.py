"""The quantized latent layer (straight-through, codebooks, losses) and the other latents."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from infomec.models.latents import ContinuousLatent, GaussianLatent, QuantizedLatent  # noqa: E402


def test_codebooks_start_as_linspace():
    layer = QuantizedLatent(3, 5)
    expected = torch.linspace(-0.5, 0.5, 5).repeat(3, 1)
    torch.testing.assert_close(layer.values.data, expected)
    assert layer.values.requires_grad
    assert not QuantizedLatent(3, 5, optimize_values=False).values.requires_grad


def test_each_dimension_snaps_to_its_own_nearest_value():
    layer = QuantizedLatent(2, 3)
    with torch.no_grad():
        layer.values[1] = torch.tensor([10.0, -4.0, 0.0])
    pre_z = torch.tensor([[0.3, 6.0], [-0.2, -2.1], [9.0, 0.1]])
    out = layer(pre_z)
    torch.testing.assert_close(out["z_indices"], torch.tensor([[2, 0], [1, 1], [2, 2]]))
    torch.testing.assert_close(out["z_hat"], torch.tensor([[0.5, 10.0], [0.0, -4.0], [0.5, 0.0]]))
    distance = (pre_z[..., None] - layer.values).abs()
    torch.testing.assert_close(out["z_indices"], distance.argmin(-1))


def test_gradient_passes_straight_through_to_the_encoder():
    layer = QuantizedLatent(4, 10)
    pre_z = torch.randn(8, 4, generator=torch.Generator().manual_seed(0), requires_grad=True)
    weights = torch.randn(8, 4)
    (layer(pre_z)["z_hat"] * weights).sum().backward()
    torch.testing.assert_close(pre_z.grad, weights)
    assert layer.values.grad is None  # the reconstruction path does not train the codebook


def test_losses_split_their_gradients():
    layer = QuantizedLatent(2, 4)
    pre_z = torch.tensor([[0.1, 0.4], [-0.45, 0.0]], requires_grad=True)
    out = layer(pre_z)
    out["quantization_loss"].backward(retain_graph=True)
    assert pre_z.grad is None and layer.values.grad.abs().sum() > 0
    layer.values.grad = None
    out["commitment_loss"].backward()
    assert layer.values.grad is None and pre_z.grad.abs().sum() > 0
    expected = ((pre_z - out["z_quantized"]) ** 2).mean()
    torch.testing.assert_close(out["commitment_loss"], expected)


def test_codebook_values_move_towards_the_encodings():
    layer = QuantizedLatent(1, 3)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.5)
    pre_z = torch.full((16, 1), 0.3)
    for _ in range(20):
        optimizer.zero_grad()
        layer(pre_z)["quantization_loss"].backward()
        optimizer.step()
    values = layer.values.detach()[0]
    assert abs(values[2].item() - 0.3) < 1e-3  # the used value moved onto the encodings
    torch.testing.assert_close(values[:2], torch.tensor([-0.5, 0.0]))  # unused ones stayed


def test_prior_samples_are_codebook_values():
    layer = QuantizedLatent(3, 4)
    torch.manual_seed(0)
    sample = layer.sample(200)
    assert sample.shape == (200, 3)
    assert set(sample.flatten().tolist()) <= set(layer.values[0].tolist())
    assert len(set(sample[:, 0].tolist())) == 4
    sample.sum().backward()
    assert layer.values.grad.sum() == 200 * 3  # differentiable w.r.t. the codebook


def test_ranked_indices_follow_codebook_order():
    layer = QuantizedLatent(2, 3)
    with torch.no_grad():
        layer.values[0] = torch.tensor([0.9, -1.0, 0.2])  # drifted out of order
    indices = torch.tensor([[0, 0], [1, 1], [2, 2]])
    torch.testing.assert_close(
        layer.ranked_indices(indices), torch.tensor([[2, 0], [0, 1], [1, 2]])
    )


def test_bad_quantizer_sizes():
    with pytest.raises(ValueError, match="num_values >= 2"):
        QuantizedLatent(2, 1)


def test_continuous_and_gaussian_latents():
    assert ContinuousLatent(3).num_inputs == 3
    prior = ContinuousLatent(3).sample(100)
    assert prior.min() >= 0 and prior.max() <= 1
    layer = GaussianLatent(2)
    assert layer.num_inputs == 4
    pre_z = torch.tensor([[1.0, -1.0, 0.0, 5.0]])
    layer.eval()
    state = torch.get_rng_state()
    out = layer(pre_z)
    assert torch.equal(torch.get_rng_state(), state)  # evaluation draws no noise
    torch.testing.assert_close(out["z_hat"], torch.tensor([[1.0, -1.0]]))
    assert (out["scale"] > 0).all()
    layer.train()
    assert not torch.equal(layer(pre_z)["z_hat"], out["z_hat"])
