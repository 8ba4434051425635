"""Continuous baselines: AE, beta-VAE and beta-TCVAE, with the paper's loss scaling.

Reconstruction is a mean over pixels, so KL-type terms are divided by the number of pixel
values n_x to keep the same balance as the usual per-image sums.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .autoencoder import Autoencoder
from .latents import ContinuousLatent, GaussianLatent
from .nets import Architecture

_LOG_2PI = math.log(2.0 * math.pi)


class AE(Autoencoder):
    """Plain autoencoder with a continuous latent and BCE loss (no weight decay by default)."""

    def __init__(
        self,
        arch: Architecture,
        image_shape: tuple[int, int, int],
        num_latents: int,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
    ):
        super().__init__(ContinuousLatent(num_latents), arch, image_shape, lr, weight_decay)

    def objective(self, x: torch.Tensor, out: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        bce = F.binary_cross_entropy_with_logits(out["x_logits"], x)
        return {"loss": bce, "bce": bce}


class VAE(Autoencoder):
    """beta-VAE: BCE + beta * KL(q(z|x) || N(0, I)) / n_x; evaluated at the posterior mean.

    Parameters
    ----------
    beta : float, default=4.0
        KL weight (4 is the usual dSprites choice of Higgins et al. 2017).
    """

    def __init__(
        self,
        arch: Architecture,
        image_shape: tuple[int, int, int],
        num_latents: int,
        beta: float = 4.0,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
    ):
        super().__init__(GaussianLatent(num_latents), arch, image_shape, lr, weight_decay)
        self.beta = beta
        self.num_pixels = math.prod(image_shape)

    def objective(self, x: torch.Tensor, out: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        bce = F.binary_cross_entropy_with_logits(out["x_logits"], x)
        mean, scale = out["mean"], out["scale"]
        kl = 0.5 * (mean.pow(2) + scale.pow(2) - 1.0 - 2.0 * scale.log()).sum(1).mean()
        return {"loss": bce + self.beta * kl / self.num_pixels, "bce": bce, "kl": kl}

    def latent_statistics(self, out: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``kl``: KL(q(z_j | x) || N(0, 1)) of each image and latent, shape (n, latents);
        its mean over images is the per-latent KL that UDR reads."""
        mean, scale = out["mean"], out["scale"]
        return {"kl": 0.5 * (mean.pow(2) + scale.pow(2) - 1.0 - 2.0 * scale.log())}


def _gaussian_log_density(z: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor):
    return -0.5 * (((z - mean) / scale).pow(2) + 2.0 * scale.log() + _LOG_2PI)


class TCVAE(VAE):
    """beta-TCVAE (Chen et al. 2018) with minibatch-weighted sampling.

    The KL term is split into index-code MI, total correlation (weighted by ``beta``) and
    dimension-wise KL; MI and dimension-wise KL keep weight 1.

    Parameters
    ----------
    dataset_size : int
        Number of distinct training images (enters the minibatch-weighted estimate).
    beta : float, default=6.0
        Total-correlation weight (6 is the dSprites choice of Chen et al. 2018).
    """

    def __init__(
        self,
        arch: Architecture,
        image_shape: tuple[int, int, int],
        num_latents: int,
        dataset_size: int,
        beta: float = 6.0,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
    ):
        super().__init__(arch, image_shape, num_latents, beta, lr, weight_decay)
        self.dataset_size = dataset_size

    def objective(self, x: torch.Tensor, out: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        bce = F.binary_cross_entropy_with_logits(out["x_logits"], x)
        z, mean, scale = out["z_sample"], out["mean"], out["scale"]
        batch = z.shape[0]
        log_qz_given_x = _gaussian_log_density(z, mean, scale).sum(1)
        # pairwise[i, j, k] = log q(z_i[k] | x_j)
        pairwise = _gaussian_log_density(z[:, None], mean[None], scale[None])
        log_norm = math.log(batch * self.dataset_size)
        log_qz = torch.logsumexp(pairwise.sum(2), dim=1) - log_norm
        log_prod_qzk = (torch.logsumexp(pairwise, dim=1) - log_norm).sum(1)
        log_pz = _gaussian_log_density(z, torch.zeros_like(z), torch.ones_like(z)).sum(1)
        mi = (log_qz_given_x - log_qz).mean()
        tc = (log_qz - log_prod_qzk).mean()
        dimension_kl = (log_prod_qzk - log_pz).mean()
        regulariser = (mi + self.beta * tc + dimension_kl) / self.num_pixels
        return {"loss": bce + regulariser, "bce": bce, "mi": mi, "tc": tc, "dim_kl": dimension_kl}
