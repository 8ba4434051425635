"""Model names -> model builders (the defaults live in :mod:`models.config`)."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from .baselines import AE, TCVAE, VAE
from .config import TrainConfig
from .nets import ARCHITECTURES
from .qlae import QLAE
from .qlinfogan import InfoWGAN, QLInfoWGAN


def build_model(
    config: TrainConfig, image_shape: tuple[int, int, int], dataset_size: int
) -> nn.Module:
    """Build the model a resolved config names.

    Parameters
    ----------
    config : TrainConfig
        A config after :meth:`TrainConfig.resolved` (no ``None`` hyperparameters left).
    image_shape : tuple of int
        (channels, size, size) of the training images.
    dataset_size : int
        Number of distinct training images (used by beta-TCVAE).

    Returns
    -------
    nn.Module
        An object with ``make_optimizers()``, ``train_step(x, step, optimizers)`` and
        ``evaluate(x)``.
    """
    common = {
        "arch": ARCHITECTURES[config.arch],
        "image_shape": image_shape,
        "num_latents": config.num_latents,
        "lr": config.lr,
        "weight_decay": config.weight_decay,
    }
    quantized = {
        "num_values": config.num_values,
        "quantization_weight": config.quantization_weight,
        "commitment_weight": config.commitment_weight,
    }
    builders: dict[str, Callable[[], nn.Module]] = {
        "qlae": lambda: QLAE(**common, **quantized),
        "ae": lambda: AE(**common),
        "vae": lambda: VAE(**common, beta=config.beta),
        "tcvae": lambda: TCVAE(**common, dataset_size=dataset_size, beta=config.beta),
        "infowgan": lambda: InfoWGAN(**common),
        "qlinfowgan": lambda: QLInfoWGAN(**common, **quantized),
    }
    return builders[config.model]()
