"""Latent layers: quantized (QLAE), continuous (AE, InfoGAN) and diagonal Gaussian (VAEs).

Each layer declares ``num_inputs``, the width of the encoder head it consumes, and returns a
dict of named tensors; ``z_hat`` is always what the decoder reads.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class QuantizedLatent(nn.Module):
    """Per-dimension scalar quantization with learnable codebooks (Hsu et al. 2023).

    Latent j owns its own codebook of ``num_values`` scalars, initialised to
    ``linspace(-0.5, 0.5, num_values)``. Each dimension is snapped to its nearest codebook
    value; gradients pass straight through the snap to the encoder.

    Parameters
    ----------
    num_latents : int
        Number of latent dimensions.
    num_values : int, default=10
        Codebook size per dimension.
    optimize_values : bool, default=True
        Whether the codebook values are learned.
    """

    def __init__(self, num_latents: int, num_values: int = 10, optimize_values: bool = True):
        super().__init__()
        if num_latents < 1 or num_values < 2:
            raise ValueError("need num_latents >= 1 and num_values >= 2")
        self.num_latents = num_latents
        self.num_values = num_values
        self.num_inputs = num_latents
        values = torch.linspace(-0.5, 0.5, num_values).repeat(num_latents, 1)
        self.values = nn.Parameter(values, requires_grad=optimize_values)

    def forward(self, pre_z: torch.Tensor) -> dict[str, torch.Tensor]:
        """Quantize encoder outputs of shape (batch, num_latents).

        Returns
        -------
        dict
            ``z_continuous`` (the input), ``z_indices`` (int64 codebook positions),
            ``z_quantized`` (codebook values; gradient reaches the codebook only),
            ``z_hat`` (quantized values, with the straight-through gradient to the input),
            ``quantization_loss`` (moves codebooks towards encodings) and
            ``commitment_loss`` (moves encodings towards codebooks); both are means over
            dimensions and batch.
        """
        distance = (pre_z.unsqueeze(-1) - self.values).abs()  # (batch, latents, values)
        indices = distance.argmin(dim=-1)
        quantized = self.gather(indices)
        # Straight-through: the forward value is the codebook value, the backward is identity.
        z_hat = pre_z + (quantized - pre_z).detach()
        return {
            "z_continuous": pre_z,
            "z_indices": indices,
            "z_quantized": quantized,
            "z_hat": z_hat,
            "quantization_loss": F.mse_loss(quantized, pre_z.detach()),
            "commitment_loss": F.mse_loss(pre_z, quantized.detach()),
        }

    def gather(self, indices: torch.Tensor) -> torch.Tensor:
        """Return the codebook values at int64 ``indices`` of shape (batch, num_latents)."""
        values = self.values.unsqueeze(0).expand(indices.shape[0], -1, -1)
        return values.gather(-1, indices.unsqueeze(-1)).squeeze(-1)

    def sample(self, batch_size: int, device: torch.device | None = None) -> torch.Tensor:
        """Draw codes uniformly from the codebook grid (the QLInfoGAN prior), differentiable
        with respect to the codebook values."""
        indices = torch.randint(
            self.num_values, (batch_size, self.num_latents), device=device or self.values.device
        )
        return self.gather(indices)

    def ranked_indices(self, indices: torch.Tensor) -> torch.Tensor:
        """Renumber codebook positions by the rank of their value within each codebook.

        Learned codebooks can drift out of order; ranked codes keep "larger code, larger value"
        so that exported integer codes stay ordinal.
        """
        ranks = self.values.detach().argsort(dim=-1).argsort(dim=-1)  # (latents, values)
        return ranks.gather(-1, indices.T).T


class ContinuousLatent(nn.Module):
    """The identity latent of a plain autoencoder."""

    def __init__(self, num_latents: int):
        super().__init__()
        self.num_latents = num_latents
        self.num_inputs = num_latents

    def forward(self, pre_z: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"z_hat": pre_z}

    def sample(self, batch_size: int, device: torch.device | None = None) -> torch.Tensor:
        """Draw from Uniform(0, 1)^d, the InfoWGAN-GP prior."""
        return torch.rand(batch_size, self.num_latents, device=device)


class GaussianLatent(nn.Module):
    """Diagonal Gaussian posterior; the encoder head gives means and softplus scales."""

    def __init__(self, num_latents: int, min_scale: float = 1e-6):
        super().__init__()
        self.num_latents = num_latents
        self.num_inputs = 2 * num_latents
        self.min_scale = min_scale

    def forward(self, pre_z: torch.Tensor) -> dict[str, torch.Tensor]:
        """Return ``mean``, ``scale`` and ``z_sample``, a reparameterised sample in training
        mode and the mean in evaluation mode (so evaluation draws no random numbers);
        ``z_hat`` is ``z_sample``."""
        mean, raw_scale = pre_z.chunk(2, dim=-1)
        scale = F.softplus(raw_scale) + self.min_scale
        sample = mean + scale * torch.randn_like(mean) if self.training else mean
        return {"mean": mean, "scale": scale, "z_sample": sample, "z_hat": sample}
