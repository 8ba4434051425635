"""InfoWGAN-GP and QLInfoWGAN-GP: a Wasserstein GAN with gradient penalty whose critic
doubles as an encoder trained to recover the generator's latent code (Hsu et al. 2023).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .autoencoder import clipped_step, make_optimizer, reconstruction_quality
from .latents import ContinuousLatent, QuantizedLatent
from .nets import Architecture, Encoder, make_decoder


class InfoWGAN(nn.Module):
    """InfoWGAN-GP with a Uniform(0, 1) continuous prior; see :class:`QLInfoWGAN`.

    Parameters
    ----------
    arch : Architecture
    image_shape : tuple of int
        (channels, size, size).
    num_latents : int
    lr : float, default=2e-4
    weight_decay : float, default=1e-4
    critic_steps : int, default=5
        Critic steps per generator step.
    gradient_penalty_weight : float, default=10
    latent_weight : float, default=200
        Weight of the latent-reconstruction MSE in both losses.
    """

    def __init__(
        self,
        arch: Architecture,
        image_shape: tuple[int, int, int],
        num_latents: int,
        lr: float = 2e-4,
        weight_decay: float = 1e-4,
        critic_steps: int = 5,
        gradient_penalty_weight: float = 10.0,
        latent_weight: float = 200.0,
        latent: nn.Module | None = None,
    ):
        super().__init__()
        channels, size, _ = image_shape
        self.latent = latent if latent is not None else ContinuousLatent(num_latents)
        self.encoder = Encoder(arch, channels, size, self.latent.num_inputs)
        self.critic_head = nn.Linear(self.encoder.num_features, 1)
        self.generator = make_decoder(arch, num_latents, channels, size)
        self.lr = lr
        self.weight_decay = weight_decay
        self.critic_steps = critic_steps
        self.gradient_penalty_weight = gradient_penalty_weight
        self.latent_weight = latent_weight
        self._clipped: list[list[nn.Parameter]] = []

    def make_optimizers(self) -> list[torch.optim.Optimizer]:
        """Critic+encoder optimizer, then generator+codebook optimizer (Adam betas (0, 0.9))."""
        critic, critic_clipped = make_optimizer(
            [self.encoder, self.critic_head], (), self.lr, self.weight_decay, (0.0, 0.9)
        )
        generator, generator_clipped = make_optimizer(
            [self.generator, self.latent], (self.latent,), self.lr, self.weight_decay, (0.0, 0.9)
        )
        self._clipped = [critic_clipped, generator_clipped]
        return [critic, generator]

    def critique(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Return the critic value (batch,) and the latent-layer outputs of images ``x``."""
        encoded = self.encoder(x)
        return self.critic_head(encoded["features"]).squeeze(-1), self.latent(encoded["pre_z"])

    def _latent_terms(self, out: dict[str, torch.Tensor], z: torch.Tensor) -> torch.Tensor:
        return self.latent_weight * F.mse_loss(out["z_hat"], z)

    def _gradient_penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        mix = torch.rand(real.shape[0], 1, 1, 1, device=real.device)
        blend = (mix * real + (1.0 - mix) * fake).requires_grad_(True)
        value, _ = self.critique(blend)
        (grad,) = torch.autograd.grad(value.sum(), blend, create_graph=True)
        return (grad.flatten(1).norm(dim=1) - 1.0).pow(2).mean()

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.generator(z))

    @torch.no_grad()
    def encode_code(self, x: torch.Tensor) -> torch.Tensor:
        """The generator code the critic's encoder reads from images ``x`` (``z_hat``)."""
        self.eval()
        return self.critique(x)[1]["z_hat"]

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] generated from codes ``z`` of shape (n, num_latents)."""
        self.eval()
        return self.generate(z)

    def train_step(
        self, x: torch.Tensor, step: int, optimizers: list[torch.optim.Optimizer]
    ) -> dict[str, torch.Tensor]:
        """One critic step, plus a generator step every ``critic_steps`` steps; returns the
        detached loss terms as 0-d tensors (no host synchronisation)."""
        self.train()
        critic_opt, generator_opt = optimizers
        z = self.latent.sample(x.shape[0], x.device)
        with torch.no_grad():
            fake = self.generate(z)
        real_value, _ = self.critique(x)
        fake_value, fake_out = self.critique(fake)
        wasserstein = fake_value.mean() - real_value.mean()
        penalty = self._gradient_penalty(x, fake)
        latent_loss = self._latent_terms(fake_out, z.detach())
        critic_loss = wasserstein + self.gradient_penalty_weight * penalty + latent_loss
        clipped_step(critic_opt, critic_loss, self._clipped[0])
        logs = {
            "critic": critic_loss.detach(),
            "wasserstein": wasserstein.detach(),
            "penalty": penalty.detach(),
            "latent": latent_loss.detach(),
        }
        if step % self.critic_steps == 0:
            z = self.latent.sample(x.shape[0], x.device)
            fake_value, fake_out = self.critique(self.generate(z))
            generator_loss = -fake_value.mean() + self._latent_terms(fake_out, z)
            clipped_step(generator_opt, generator_loss, self._clipped[1])
            # The generator step also filled the critic's gradients; they are cleared by the
            # next critic step's zero_grad.
            logs["generator"] = generator_loss.detach()
        return logs

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Encode real images and reconstruct them as generator(encoder(x))."""
        self.eval()
        _, out = self.critique(x)
        logits = self.generator(out["z_hat"])
        return self.latent_codes(out), reconstruction_quality(logits, x)

    def latent_codes(self, out: dict[str, torch.Tensor]) -> torch.Tensor:
        return out["z_hat"]


class QLInfoWGAN(InfoWGAN):
    """QLInfoWGAN-GP: InfoWGAN-GP with a quantized latent and a uniform codebook prior.

    Both losses add ``quantization_weight`` * quantization loss and ``commitment_weight`` *
    commitment loss of the encodings of generated images; the codebooks are trained by the
    generator's optimizer. Defaults as :class:`InfoWGAN` except ``weight_decay=1e-3``.
    """

    def __init__(
        self,
        arch: Architecture,
        image_shape: tuple[int, int, int],
        num_latents: int,
        num_values: int = 10,
        lr: float = 2e-4,
        weight_decay: float = 1e-3,
        critic_steps: int = 5,
        gradient_penalty_weight: float = 10.0,
        latent_weight: float = 200.0,
        quantization_weight: float = 0.01,
        commitment_weight: float = 0.01,
    ):
        super().__init__(
            arch,
            image_shape,
            num_latents,
            lr,
            weight_decay,
            critic_steps,
            gradient_penalty_weight,
            latent_weight,
            latent=QuantizedLatent(num_latents, num_values),
        )
        self.quantization_weight = quantization_weight
        self.commitment_weight = commitment_weight

    def _latent_terms(self, out: dict[str, torch.Tensor], z: torch.Tensor) -> torch.Tensor:
        return (
            super()._latent_terms(out, z)
            + self.quantization_weight * out["quantization_loss"]
            + self.commitment_weight * out["commitment_loss"]
        )

    def latent_codes(self, out: dict[str, torch.Tensor]) -> torch.Tensor:
        """Discrete integer codes, ranked by codebook value within each dimension."""
        return self.latent.ranked_indices(out["z_indices"])
