"""Training configuration (torch-free, so the CLI can describe it without importing torch).

A :class:`TrainConfig` leaves most settings as ``None`` ("the default"); :meth:`resolved`
fills them in a fixed order and records why each value was chosen:

1. the *profile*: ``paper`` (the authors' 64 px network and 10,000 evaluation images, the
   default on CUDA) or ``cpu`` (32 px Burgess-style network, 5,000 evaluation images, the
   default without CUDA; about 100x cheaper per step);
2. the model's defaults (learning rate, batch size, weight decay, beta);
3. the authors' per-dataset values (``configs/params`` of the QLAE code), which override 2.

A value the user gives always wins.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any

from .schedule import DECAYING, SCHEDULES

# The paper's settings: autoencoders lr 1e-3, batch 128; GANs lr 2e-4, batch 64. Weight decay:
# QLAE 0.1, AE and VAEs none, InfoWGAN-GP 1e-4, QLInfoWGAN-GP 1e-3. beta: 4 for the beta-VAE
# and a total-correlation weight of 6 for beta-TCVAE, the dSprites choices of Higgins et al.
# (2017) and Chen et al. (2018), used where the authors give no per-dataset value.
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "qlae": {"batch_size": 128, "lr": 1e-3, "weight_decay": 0.1},
    "ae": {"batch_size": 128, "lr": 1e-3, "weight_decay": 0.0},
    "vae": {"batch_size": 128, "lr": 1e-3, "weight_decay": 0.0, "beta": 4.0},
    "tcvae": {"batch_size": 128, "lr": 1e-3, "weight_decay": 0.0, "beta": 6.0},
    "infowgan": {"batch_size": 64, "lr": 2e-4, "weight_decay": 1e-4},
    "qlinfowgan": {"batch_size": 64, "lr": 2e-4, "weight_decay": 1e-3},
}
# The authors' per-dataset values (latent_quantization configs/params, see
# shared/reference/paper-notes.md 4.2-4.5): beta-VAE beta, beta-TCVAE TC weight, AE weight
# decay (Shapes3D and MPI3D param files), QLInfoWGAN-GP weight decay (Falcor3D 1e-4).
DATASET_DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    "shapes3d": {"vae": {"beta": 3.0}, "tcvae": {"beta": 3.0}, "ae": {"weight_decay": 1e-3}},
    "mpi3d": {"vae": {"beta": 0.1}, "tcvae": {"beta": 0.3}, "ae": {"weight_decay": 1e-3}},
    "falcor3d": {
        "vae": {"beta": 10.0},
        "tcvae": {"beta": 3.0},
        "qlinfowgan": {"weight_decay": 1e-4},
    },
    "isaac3d": {"vae": {"beta": 0.3}, "tcvae": {"beta": 1.0}},
}
MODEL_NAMES = tuple(MODEL_DEFAULTS)
QUANTIZED_MODELS = frozenset({"qlae", "qlinfowgan"})
ARCHITECTURE_NAMES = ("paper", "burgess")
# ``small`` was the old name of ``burgess`` (the same network); it is mapped with a warning.
DEPRECATED_ARCHITECTURES = {"small": "burgess"}
DEVICES = ("cpu", "cuda")
# Runs of at least this many steps evaluate about ten times by default (shorter ones, such
# as quick trials, only at the end).
EVALUATED_FROM = 1_000
# The learning-rate schedule per profile when --lr-schedule is not given, and why.
PROFILE_SCHEDULES = {"paper": "constant", "cpu": "constant"}
SCHEDULE_REASONS = {
    "paper": "paper profile: the authors' constant rate",
    "cpu": (
        "the authors' constant rate: a cosine decay over the run settles sooner but lower "
        "(QLAE on procedural shapes3d: 25.4 dB after 6,500 cosine steps, 27.9 dB after "
        "6,000 constant ones; benchmarks/results/plateau_qlae_shapes3d.md)"
    ),
}
PROFILES: dict[str, dict[str, Any]] = {
    "paper": {"image_size": 64, "arch": "paper", "eval_size": 10_000},
    "cpu": {"image_size": 32, "arch": "burgess", "eval_size": 5_000},
}
# Settings a resumed run may change: they do not alter the training trajectory before the
# checkpoint (steps only extends it; evaluation and checkpoints draw no random numbers).
RESUMABLE_CHANGES = frozenset(
    {
        "steps",
        "device",
        "eval_size",
        "checkpoint_every",
        "checkpoint_minutes",
        "log_every",
        "eval_every",
        "presets",
        "chosen_by",
    }
)
SCORE_PRESETS = ("reference", "paper", "tripod")
# The authors' training length (paper profile default when --steps is not given).
AUTHORS_STEPS = 200_000
_QLAE_SHAPES3D = (
    "measured: at the authors' constant rate no run under 25 minutes on 2 CPU cores reaches "
    "the < 0.5 dB rule (27.94 dB at 6,000 steps, still +1.06 dB over the last fifth; "
    "benchmarks/results/plateau_qlae_shapes3d.md); with the anneal schedule 6,500 steps "
    "reached 27.29 dB and gained 0.03 dB over the last fifth "
    "(benchmarks/results/anneal_qlae_shapes3d.md); at 9,000 steps the default command took "
    "15.7 minutes with 2 torch threads and reached 28.02 dB, +0.03 dB over the last fifth "
    "(benchmarks/results/default_train_qlae_shapes3d.md), and five table seeds 27.9 to "
    "28.7 dB (benchmarks/results/paper_table.md)"
)
_SAME_BUDGET = (
    "the same budget and schedule as QLAE's (9,000 steps, anneal), so that the paper table "
    "compares equally trained models; measured there (benchmarks/results/paper_table.md, "
    "shapes3d): every AE, beta-VAE and beta-TCVAE seed (5 each) gained under 0.05 dB "
    "over the last fifth, a plateau by the rule"
)
_DSPRITES_QLAE = (
    "measured (benchmarks/results/paper_table.md, dsprites): 6,500 steps with the anneal "
    "schedule, the plateau recipe of shapes3d: three QLAE seeds reached 28.9 to 29.5 dB, "
    "+0.05 to +0.06 dB over the last fifth, about 21 minutes each on one torch thread beside "
    "a second run; at the authors' constant rate QLAE seed 0 reached 29.4 dB (+0.18 dB) but "
    "AE seed 0 still gained 0.66 dB (paper_table_dsprites_6500_constant.jsonl)"
)
_DSPRITES_SAME_BUDGET = (
    "the same budget and schedule as QLAE's on dsprites (6,500 steps, anneal), so that the "
    "table compares equally trained models; measured there (benchmarks/results/"
    "paper_table.md, dsprites): every AE, beta-VAE and beta-TCVAE seed (3 each) met the "
    "plateau rule"
)
_PROVISIONAL_GUESS = (
    "provisional guess, no measurement yet for this model and dataset; "
    "benchmarks/plateau.py measures it"
)
_GAN_SHAPES3D = (
    "provisional, not a plateau: the shapes3d table's InfoWGAN-GP / QLInfoWGAN-GP runs at "
    "5,000 critic steps (1,000 generator steps, about 10 minutes with 1 torch thread) still "
    "reconstruct G(Q(x)) as a blur (10-12 dB) and their InfoMEC moves by about 0.1 between "
    "evaluations (benchmarks/results/paper_table.md); GAN training needs far longer"
)
# CPU-profile step count per dataset family and model when --steps is not given: the step
# at which reconstruction stops gaining (PSNR up < 0.5 dB over the last fifth of training),
# with where the number comes from. Families without an entry use the shapes3d row.
CPU_DEFAULT_STEPS: dict[str, dict[str, tuple[int, str]]] = {
    "shapes3d": {
        "qlae": (9_000, _QLAE_SHAPES3D),
        "ae": (9_000, _SAME_BUDGET),
        "vae": (9_000, _SAME_BUDGET),
        "tcvae": (9_000, _SAME_BUDGET),
        "infowgan": (5_000, _GAN_SHAPES3D),
        "qlinfowgan": (5_000, _GAN_SHAPES3D),
    },
    "dsprites": {
        "qlae": (6_500, _DSPRITES_QLAE),
        "ae": (6_500, _DSPRITES_SAME_BUDGET),
        "vae": (6_500, _DSPRITES_SAME_BUDGET),
        "tcvae": (6_500, _DSPRITES_SAME_BUDGET),
        "infowgan": (5_000, _PROVISIONAL_GUESS),
        "qlinfowgan": (5_000, _PROVISIONAL_GUESS),
    },
}
_ANNEAL_SHAPES3D = (
    "the plateau recipe on shapes3d: the authors' constant rate for 60% of the run, then a "
    "cosine to 1% by 80% and 1% for the last fifth, which shows the run has settled (QLAE: "
    "27.29 dB after 6,500 steps, +0.03 dB over the last fifth, against +1.0 dB at the "
    "constant rate; benchmarks/results/anneal_qlae_shapes3d.md)"
)
_ANNEAL_DSPRITES = (
    "the plateau recipe of shapes3d (constant rate for 60 % of the run, a cosine to 1 % by "
    "80 %, 1 % for the last fifth): at the constant rate the dsprites AE seed 0 still gained "
    "0.66 dB over the last fifth of 6,500 steps (paper_table_dsprites_6500_constant.jsonl)"
)
# CPU-profile learning-rate schedule per dataset family and model when --lr-schedule is not
# given (others: the profile's, the authors' constant rate). Families without an entry use
# the shapes3d row, as for the steps.
CPU_DEFAULT_SCHEDULES: dict[str, dict[str, tuple[str, str]]] = {
    "shapes3d": {model: ("anneal", _ANNEAL_SHAPES3D) for model in ("qlae", "ae", "vae", "tcvae")},
    "dsprites": {model: ("anneal", _ANNEAL_DSPRITES) for model in ("qlae", "ae", "vae", "tcvae")},
}


def default_schedule(model: str, profile: str, family: str | None) -> tuple[str, str]:
    """The learning-rate schedule used when ``--lr-schedule`` is not given, and why.

    Examples
    --------
    >>> default_schedule("qlae", "cpu", "shapes3d")[0]
    'anneal'
    >>> default_schedule("qlae", "cpu", "dsprites")[0], default_schedule("qlae", "paper", None)[0]
    ('anneal', 'constant')
    >>> default_schedule("infowgan", "cpu", "dsprites")[0]
    'constant'
    """
    row = family if family in CPU_DEFAULT_SCHEDULES else "shapes3d"
    if profile == "cpu" and model in CPU_DEFAULT_SCHEDULES[row]:
        return CPU_DEFAULT_SCHEDULES[row][model]
    return PROFILE_SCHEDULES[profile], SCHEDULE_REASONS[profile]


def default_steps(model: str, profile: str, family: str | None) -> tuple[int, str]:
    """The step count used when ``--steps`` is not given, and why.

    Parameters
    ----------
    model : str
    profile : {"cpu", "paper"}
    family : str, optional
        Dataset family (``shapes3d``, ``dsprites``, ...).

    Returns
    -------
    steps : int
    reason : str
        Recorded in the run's ``chosen_by["steps"]``.

    Examples
    --------
    >>> default_steps("qlae", "paper", "shapes3d")
    (200000, "authors' step count (paper profile)")
    >>> steps, why = default_steps("ae", "cpu", "mpi3d")
    >>> why.startswith("cpu profile plateau table (shapes3d row")
    True
    """
    if profile == "paper":
        return AUTHORS_STEPS, "authors' step count (paper profile)"
    row = family if family in CPU_DEFAULT_STEPS else "shapes3d"
    steps, reason = CPU_DEFAULT_STEPS[row][model]
    where = row if row == family else f"{row} row, no {family or 'unknown'} row"
    return steps, f"cpu profile plateau table ({where}): {reason}"


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run. ``None`` means "the default".

    Attributes
    ----------
    model : str
        One of ``qlae``, ``ae``, ``vae``, ``tcvae``, ``infowgan``, ``qlinfowgan``.
    dataset : str
        ``dsprites``, ``shapes3d`` (procedural) or a path to a dataset file.
    steps : int, optional
        Total number of training steps (critic steps for the GANs); default: the profile's
        (:func:`default_steps`: the CPU plateau table, or the authors' 2x10^5).
    seed : int
        Seed of initialisation, batch sampling and noise.
    data_seed : int
        Seed of the evaluation subset (kept apart from ``seed`` so every run of a comparison is
        evaluated on the same images).
    device : str, optional
        ``cpu`` or ``cuda``; default: cuda when PyTorch sees one.
    profile : str, optional
        ``paper`` or ``cpu``; default: paper on cuda, cpu otherwise. Fills ``image_size``,
        ``arch`` and ``eval_size`` when they are not given.
    subset : dict of str to list of int, optional
        Factor classes to keep (procedural datasets only).
    num_latents : int, optional
        Default: twice the number of factors, as in the paper.
    eval_size : int, optional
        Number of images encoded for the metrics (at the end and by ``eval_every``).
    checkpoint_every : int
        Checkpoint period in steps.
    checkpoint_minutes : float
        Also checkpoint when this much wall time has passed since the last checkpoint.
    log_every : int, optional
        Period, in steps, of loss-history entries (``losses.csv``); default: enough for
        at least 50 points, at most every 50 steps.
    eval_every : int, optional
        Period, in steps, of evaluations (InfoM/InfoE/InfoC, PSNR) during training; default:
        about a tenth of ``steps`` (rounded to 100) for runs of 1,000 steps or more, else
        none (the run is evaluated at its end only).
    channels_last : bool, optional
        Channels-last memory format for the networks and batches; default: on a CPU
        (measured faster there, benchmarks/results/bench_train_step.md). Set by the trainer.
    lr_schedule : str, optional
        ``constant`` (the authors', and the default) or ``cosine`` (a half cosine from
        ``lr`` to 1% of it, see :mod:`infomec.models.schedule`).
    lr_decay_steps : int, optional
        Steps over which ``cosine`` decays; default: the run's ``steps`` when it starts. Kept
        when a run is extended with a larger ``steps``: the extension goes on at the final rate.
    presets : tuple of str
        infomec presets written to ``scores.json``; the first one is used by ``eval_every``.
    chosen_by : dict of str to str, optional
        Filled by :meth:`resolved`: why each defaulted setting has its value.
    """

    model: str
    dataset: str
    steps: int | None = None
    seed: int = 0
    data_seed: int = 20230228
    device: str | None = None
    profile: str | None = None
    batch_size: int | None = None
    image_size: int | None = None
    arch: str | None = None
    subset: dict[str, list[int]] | None = field(default=None)
    num_latents: int | None = None
    num_values: int = 10
    lr: float | None = None
    weight_decay: float | None = None
    beta: float | None = None
    quantization_weight: float = 0.01
    commitment_weight: float = 0.01
    eval_size: int | None = None
    checkpoint_every: int = 1_000
    checkpoint_minutes: float = 5.0
    log_every: int | None = None
    eval_every: int | None = None
    channels_last: bool | None = None
    lr_schedule: str | None = None
    lr_decay_steps: int | None = None
    presets: tuple[str, ...] = ("reference",)
    chosen_by: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if self.model not in MODEL_DEFAULTS:
            raise ValueError(f"unknown model {self.model!r}; choose from {', '.join(MODEL_NAMES)}")
        if self.arch in DEPRECATED_ARCHITECTURES:
            new = DEPRECATED_ARCHITECTURES[self.arch]
            warnings.warn(
                f"architecture {self.arch!r} is deprecated; it is the same network as {new!r}",
                FutureWarning,
                stacklevel=3,
            )
            object.__setattr__(self, "arch", new)
        if self.arch is not None and self.arch not in ARCHITECTURE_NAMES:
            raise ValueError(
                f"unknown architecture {self.arch!r}; choose from {', '.join(ARCHITECTURE_NAMES)}"
            )
        if self.device is not None and self.device not in DEVICES:
            raise ValueError(f"unknown device {self.device!r}; choose from cpu, cuda")
        if self.profile is not None and self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}; choose from paper, cpu")
        if self.beta is not None and "beta" not in MODEL_DEFAULTS[self.model]:
            raise ValueError(f"beta applies to vae and tcvae only, not {self.model}")
        positive = ["steps", "image_size", "eval_size", "checkpoint_every", "log_every"]
        positive += ["batch_size", "num_latents", "lr", "eval_every", "checkpoint_minutes"]
        positive += ["lr_decay_steps"]
        for name in positive:
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name.replace('_', '-')} must be > 0, got {value}")
        if self.model == "tcvae" and self.batch_size == 1:
            raise ValueError("batch-size must be > 1 for tcvae (its estimator compares samples)")
        if self.lr_schedule is not None and self.lr_schedule not in SCHEDULES:
            raise ValueError(
                f"unknown lr schedule {self.lr_schedule!r}; choose from {', '.join(SCHEDULES)}"
            )
        if self.lr_decay_steps is not None and self.lr_schedule not in (None, *DECAYING):
            raise ValueError("lr-decay-steps applies to --lr-schedule cosine or anneal only")
        if self.num_values < 2:
            raise ValueError(f"num-values must be >= 2, got {self.num_values}")
        for name in ("weight_decay", "beta", "quantization_weight", "commitment_weight"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name.replace('_', '-')} must be >= 0, got {value}")
        presets = (self.presets,) if isinstance(self.presets, str) else tuple(self.presets)
        if not presets or any(p not in SCORE_PRESETS for p in presets):
            raise ValueError(f"presets must be among {', '.join(SCORE_PRESETS)}, got {presets}")
        object.__setattr__(self, "presets", tuple(dict.fromkeys(presets)))

    def effective_profile(self) -> str:
        """The profile in force: the given one, else ``paper`` on cuda and ``cpu`` otherwise."""
        return self.profile or ("paper" if self.device == "cuda" else "cpu")

    def effective_image_size(self) -> int:
        """The image size in force (given, else the profile's)."""
        return self.image_size or PROFILES[self.effective_profile()]["image_size"]

    def resolved(self, num_factors: int, family: str | None = None) -> TrainConfig:
        """Fill every ``None`` (see the module docstring for the order) and record why.

        Parameters
        ----------
        num_factors : int
            Number of varying factors (the default latent count is twice this).
        family : str, optional
            Dataset family (``shapes3d``, ``mpi3d``, ``dsprites``, ...) whose authors'
            per-dataset values apply.

        Returns
        -------
        TrainConfig
            With ``device`` still as given (the trainer resolves it, as that needs torch).
        """
        chosen = dict(self.chosen_by or {})
        updates: dict[str, Any] = {}
        profile = self.effective_profile()
        if self.profile is None:
            chosen["profile"] = f"default on {self.device or 'cpu'}"
            updates["profile"] = profile
        for name, value in PROFILES[profile].items():
            if getattr(self, name) is None:
                updates[name] = value
                chosen[name] = f"{profile} profile"
        for name, value in MODEL_DEFAULTS[self.model].items():
            if getattr(self, name) is None:
                updates[name] = value
                chosen[name] = f"{self.model} default"
        for name, value in DATASET_DEFAULTS.get(family or "", {}).get(self.model, {}).items():
            if getattr(self, name) is None:
                updates[name] = value
                chosen[name] = f"authors' {family} setting"
        steps = self.steps
        if steps is None:
            steps, chosen["steps"] = default_steps(self.model, profile, family)
            updates["steps"] = steps
        if self.eval_every is None and steps >= EVALUATED_FROM:
            # A curve to read: about ten evaluations over a run of recipe length.
            updates["eval_every"] = max(100, int(round(steps / 10, -2)))
            chosen["eval_every"] = f"about ten evaluations over {steps} steps"
        if self.log_every is None:
            # At least 50 points on the loss curves, and never more often than every 50 steps.
            updates["log_every"] = max(1, min(50, steps // 50))
            chosen["log_every"] = "at least 50 loss points, at most every 50 steps"
        schedule = self.lr_schedule
        if schedule is None:
            schedule, chosen["lr_schedule"] = default_schedule(self.model, profile, family)
            updates["lr_schedule"] = schedule
        if schedule not in DECAYING and self.lr_decay_steps is not None:
            raise ValueError("lr-decay-steps applies to --lr-schedule cosine or anneal only")
        if schedule in DECAYING and self.lr_decay_steps is None:
            updates["lr_decay_steps"] = steps
            chosen["lr_decay_steps"] = "the run's steps"
        if self.num_latents is None:
            updates["num_latents"] = 2 * num_factors
            chosen["num_latents"] = "twice the number of factors"
        for name in ("beta", "weight_decay", "lr", "batch_size", "image_size", "arch"):
            if name not in chosen and getattr(self, name) is not None:
                chosen[name] = "given"
        updates["chosen_by"] = chosen
        return dataclasses.replace(self, **updates)

    def to_dict(self) -> dict[str, Any]:
        """A JSON- and checkpoint-safe dict (plain str / int / float / list / None)."""
        values = dataclasses.asdict(self)
        values["presets"] = list(self.presets)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training setting {unknown[0]!r}")
        return cls(**values)
