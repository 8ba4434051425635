"""Shared machinery of the autoencoders: networks around a latent layer, the paper's
optimizer partition, and evaluation helpers."""

from __future__ import annotations

from abc import abstractmethod

import torch
import torch.nn.functional as F
from torch import nn

from .nets import Architecture, Encoder, make_decoder, split_decayed_parameters

GRADIENT_CLIP = 1.0


def make_optimizer(
    modules: list[nn.Module],
    exclude: tuple[nn.Module, ...],
    lr: float,
    weight_decay: float,
    betas: tuple[float, float] = (0.9, 0.999),
) -> tuple[torch.optim.Optimizer, list[nn.Parameter]]:
    """AdamW with decoupled weight decay on weights only; returns it and the decayed params.

    Biases and the parameters of ``exclude`` (latent codebooks) form a second group with no
    weight decay, i.e. plain Adam. The caller clips the decayed group's gradients.
    """
    container = nn.ModuleList(modules)
    decayed, plain = split_decayed_parameters(container, exclude)
    optimizer = torch.optim.AdamW(
        [
            {"params": decayed, "weight_decay": weight_decay},
            {"params": plain, "weight_decay": 0.0},
        ],
        lr=lr,
        betas=betas,
    )
    return optimizer, decayed


def clipped_step(
    optimizer: torch.optim.Optimizer, loss: torch.Tensor, clipped: list[nn.Parameter]
) -> None:
    """Backpropagate, clip the decayed parameters' gradients elementwise to [-1, 1], step."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    # Elementwise value clipping (optax.clip), not norm clipping, and only on the decayed
    # group, as in the paper's optimizer.
    torch.nn.utils.clip_grad_value_(clipped, GRADIENT_CLIP)
    optimizer.step()


def reconstruction_quality(logits: torch.Tensor, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-image reconstruction BCE (mean over pixels) and PSNR of sigmoid(logits) vs ``x``."""
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).mean(1)
    mse = (torch.sigmoid(logits) - x).pow(2).flatten(1).mean(1)
    psnr = -10.0 * torch.log10(mse.clamp_min(1e-10))
    return {"bce": bce, "psnr": psnr}


class Autoencoder(nn.Module):
    """Encoder -> latent layer -> decoder, trained by one clipped AdamW optimizer.

    Parameters
    ----------
    latent : nn.Module
        A latent layer from :mod:`models.latents`.
    arch : Architecture
    image_shape : tuple of int
        (channels, size, size).
    lr, weight_decay : float
        Optimizer settings (weight decay applies to weights, not biases or codebooks).
    """

    def __init__(
        self,
        latent: nn.Module,
        arch: Architecture,
        image_shape: tuple[int, int, int],
        lr: float,
        weight_decay: float,
    ):
        super().__init__()
        channels, size, _ = image_shape
        self.latent = latent
        self.encoder = Encoder(arch, channels, size, latent.num_inputs)
        self.decoder = make_decoder(arch, latent.num_latents, channels, size)
        self.lr = lr
        self.weight_decay = weight_decay
        self._clipped: list[nn.Parameter] = []

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.latent(self.encoder(x)["pre_z"])
        out["x_logits"] = self.decoder(out["z_hat"])
        return out

    @abstractmethod
    def objective(self, x: torch.Tensor, out: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Return the named loss terms; ``loss`` is the one minimised."""

    def make_optimizers(self) -> list[torch.optim.Optimizer]:
        optimizer, self._clipped = make_optimizer(
            [self.encoder, self.decoder, self.latent], (self.latent,), self.lr, self.weight_decay
        )
        return [optimizer]

    def train_step(
        self, x: torch.Tensor, step: int, optimizers: list[torch.optim.Optimizer]
    ) -> dict[str, torch.Tensor]:
        """One gradient step on a batch; returns the detached loss terms as 0-d tensors
        (left on the device, so a step never waits for the accelerator)."""
        del step  # every step is the same for an autoencoder
        self.train()
        terms = self.objective(x, self(x))
        clipped_step(optimizers[0], terms["loss"], self._clipped)
        return {name: value.detach() for name, value in terms.items()}

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Encode and reconstruct a batch in evaluation mode.

        Returns
        -------
        latents : Tensor
            What the metrics see (see :meth:`latent_codes`).
        quality : dict
            Per-image ``bce`` and ``psnr``.
        """
        self.eval()
        out = self(x)
        quality = reconstruction_quality(out["x_logits"], x)
        return self.latent_codes(out), {**quality, **self.latent_statistics(out)}

    def latent_statistics(self, out: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Per-image statistics of the latent layer kept by :meth:`evaluate` (none here)."""
        del out
        return {}

    @torch.no_grad()
    def encode_code(self, x: torch.Tensor) -> torch.Tensor:
        """The decoder's input for images ``x`` in evaluation mode (``z_hat``: codebook
        values for QLAE, posterior means for the VAEs)."""
        self.eval()
        return self.latent(self.encoder(x)["pre_z"])["z_hat"]

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] decoded from codes ``z`` of shape (n, num_latents)."""
        self.eval()
        return torch.sigmoid(self.decoder(z))

    def latent_codes(self, out: dict[str, torch.Tensor]) -> torch.Tensor:
        """The latents handed to the metrics: ``z_hat`` (in eval mode) unless overridden."""
        return out["z_hat"]
