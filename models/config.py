"""Training configuration (torch-free, so the CLI can describe it without importing torch)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# The paper's settings: autoencoders lr 1e-3, batch 128; GANs lr 2e-4, batch 64. Weight decay:
# QLAE 0.1, AE and VAEs none, InfoWGAN-GP 1e-4, QLInfoWGAN-GP 1e-3 (its Shapes3D/MPI3D value).
# beta: 4 for the beta-VAE and a total-correlation weight of 6 for beta-TCVAE, the dSprites
# choices of Higgins et al. (2017) and Chen et al. (2018).
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "qlae": {"batch_size": 128, "lr": 1e-3, "weight_decay": 0.1},
    "ae": {"batch_size": 128, "lr": 1e-3, "weight_decay": 0.0},
    "vae": {"batch_size": 128, "lr": 1e-3, "weight_decay": 0.0, "beta": 4.0},
    "tcvae": {"batch_size": 128, "lr": 1e-3, "weight_decay": 0.0, "beta": 6.0},
    "infowgan": {"batch_size": 64, "lr": 2e-4, "weight_decay": 1e-4},
    "qlinfowgan": {"batch_size": 64, "lr": 2e-4, "weight_decay": 1e-3},
}
MODEL_NAMES = tuple(MODEL_DEFAULTS)
QUANTIZED_MODELS = frozenset({"qlae", "qlinfowgan"})
ARCHITECTURE_NAMES = ("paper", "small")
DEVICES = ("cpu", "cuda")
# Settings a resumed run may change: they do not alter the training trajectory before the
# checkpoint (steps only extends it).
RESUMABLE_CHANGES = frozenset({"steps", "device", "eval_size", "checkpoint_every", "log_every"})


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run. ``None`` means "the model's default".

    Attributes
    ----------
    model : str
        One of ``qlae``, ``ae``, ``vae``, ``tcvae``, ``infowgan``, ``qlinfowgan``.
    dataset : str
        ``dsprites``, ``shapes3d`` (procedural) or a path to a dataset file.
    steps : int
        Total number of training steps (critic steps for the GANs).
    seed : int
        Seed of initialisation, batch sampling and noise.
    data_seed : int
        Seed of the evaluation subset (kept apart from ``seed`` so every run of a comparison is
        evaluated on the same images).
    subset : dict of str to list of int, optional
        Factor classes to keep (procedural datasets only).
    num_latents : int, optional
        Default: twice the number of factors, as in the paper.
    eval_size : int
        Number of images encoded for the metrics at the end.
    checkpoint_every, log_every : int
        Periods, in steps, of checkpoints and of log entries.
    """

    model: str
    dataset: str
    steps: int
    seed: int = 0
    data_seed: int = 20230228
    device: str = "cpu"
    batch_size: int | None = None
    image_size: int = 64
    arch: str = "paper"
    subset: dict[str, list[int]] | None = field(default=None)
    num_latents: int | None = None
    num_values: int = 10
    lr: float | None = None
    weight_decay: float | None = None
    beta: float | None = None
    quantization_weight: float = 0.01
    commitment_weight: float = 0.01
    eval_size: int = 10_000
    checkpoint_every: int = 1_000
    log_every: int = 50

    def __post_init__(self) -> None:
        if self.model not in MODEL_DEFAULTS:
            raise ValueError(f"unknown model {self.model!r}; choose from {', '.join(MODEL_NAMES)}")
        if self.arch not in ARCHITECTURE_NAMES:
            raise ValueError(
                f"unknown architecture {self.arch!r}; choose from {', '.join(ARCHITECTURE_NAMES)}"
            )
        if self.device not in DEVICES:
            raise ValueError(f"unknown device {self.device!r}; choose from cpu, cuda")
        if self.beta is not None and "beta" not in MODEL_DEFAULTS[self.model]:
            raise ValueError(f"beta applies to vae and tcvae only, not {self.model}")
        positive = ["steps", "image_size", "eval_size", "checkpoint_every", "log_every"]
        positive += ["batch_size", "num_latents", "lr"]
        for name in positive:
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name.replace('_', '-')} must be > 0, got {value}")
        if self.model == "tcvae" and self.batch_size == 1:
            raise ValueError("batch-size must be > 1 for tcvae (its estimator compares samples)")
        if self.num_values < 2:
            raise ValueError(f"num-values must be >= 2, got {self.num_values}")
        for name in ("weight_decay", "beta", "quantization_weight", "commitment_weight"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name.replace('_', '-')} must be >= 0, got {value}")

    def resolved(self, num_factors: int) -> TrainConfig:
        """Fill every ``None`` with the model's default (latents: twice ``num_factors``)."""
        defaults = dict(MODEL_DEFAULTS[self.model])
        defaults["num_latents"] = 2 * num_factors
        updates = {name: value for name, value in defaults.items() if getattr(self, name) is None}
        return dataclasses.replace(self, **updates)

    def to_dict(self) -> dict[str, Any]:
        """A JSON- and checkpoint-safe dict (plain str / int / float / list / None)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training setting {unknown[0]!r}")
        return cls(**values)
