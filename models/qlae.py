"""QLAE: an autoencoder with a quantized latent space (Hsu et al. 2023)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .autoencoder import Autoencoder
from .latents import QuantizedLatent
from .nets import Architecture


class QLAE(Autoencoder):
    """Quantized-latent autoencoder.

    Loss = BCE (mean over pixels) + ``quantization_weight`` * quantization loss
    + ``commitment_weight`` * commitment loss, optimised by AdamW with weight decay 0.1 on
    weights (not biases or codebooks) and elementwise gradient clipping of the decayed group.

    Parameters
    ----------
    arch, image_shape
        Networks, see :class:`models.autoencoder.Autoencoder`.
    num_latents : int
        Number of latent dimensions (the paper uses twice the number of factors).
    num_values : int, default=10
        Codebook size per dimension.
    lr : float, default=1e-3
    weight_decay : float, default=0.1
    quantization_weight, commitment_weight : float, default=0.01
    """

    def __init__(
        self,
        arch: Architecture,
        image_shape: tuple[int, int, int],
        num_latents: int,
        num_values: int = 10,
        lr: float = 1e-3,
        weight_decay: float = 0.1,
        quantization_weight: float = 0.01,
        commitment_weight: float = 0.01,
    ):
        super().__init__(
            QuantizedLatent(num_latents, num_values), arch, image_shape, lr, weight_decay
        )
        self.quantization_weight = quantization_weight
        self.commitment_weight = commitment_weight

    def objective(self, x: torch.Tensor, out: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        bce = F.binary_cross_entropy_with_logits(out["x_logits"], x)
        loss = (
            bce
            + self.quantization_weight * out["quantization_loss"]
            + self.commitment_weight * out["commitment_loss"]
        )
        return {
            "loss": loss,
            "bce": bce,
            "quantization": out["quantization_loss"],
            "commitment": out["commitment_loss"],
        }

    def latent_codes(self, out: dict[str, torch.Tensor]) -> torch.Tensor:
        """Discrete integer codes, ranked by codebook value within each dimension."""
        return self.latent.ranked_indices(out["z_indices"])
