"""InfoMEC presets and the resolution of every knob into one settings dict.

The three presets reproduce the three published code paths of Hsu et al. (see
``SPEC.md`` section 2); any knob passed explicitly overrides its preset value, and the
resolved values are recorded in the output's ``settings``.
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass

import numpy as np

from infomec._validation import check_choice, check_optional_bool, check_positive_int

# ``clip_nmi``: whether NMI entries above 1 (the KSG estimate can exceed H(s) on tied
# latents) are clipped to 1. No published InfoMEC code path clips (paper-notes §1.1;
# Tripod keeps the NMI formula unchanged, §7.1), so every preset keeps them.
PRESETS: dict[str, dict[str, object]] = {
    # The authors' published standalone estimator (default).
    "reference": {
        "k": 10,
        "pruning_continuous": "range>max/20",
        "pruning_discrete": "range>0",
        "infoe_discrete_encoding": "onehot",
        "clip_nmi": False,
    },
    # The code path that logged the paper's tables.
    "paper": {
        "k": 3,
        "pruning_continuous": "range>max/8",
        "pruning_discrete": "range>max/8",
        "infoe_discrete_encoding": "scalar",
        "clip_nmi": False,
    },
    # Hsu et al. 2024 (Tripod).
    "tripod": {
        "k": 10,
        "pruning_continuous": "iqr>max/10",
        "pruning_discrete": "iqr>0.1",
        "infoe_discrete_encoding": "onehot",
        "clip_nmi": False,
    },
}

DEFAULTS: dict[str, object] = {
    "aggregate": "ratio",
    "infoe_kind": "classification",
    "infoe_normalizer": "balanced",
    "infoe_tol": 1e-6,
    "infoe_max_iter": 1000,
}

_RULE = re.compile(
    r"^(range|iqr)\s*>\s*(?:max\s*/\s*(?P<divisor>[0-9.eE+-]+)|(?P<value>[0-9.eE+-]+))$"
)


@dataclass(frozen=True)
class PruningRule:
    """An active-latent rule: ``statistic > max(statistic) / divisor`` or ``> value``.

    Parse one with :meth:`parse` from strings such as ``"range>max/20"``, ``"range>0"``,
    ``"iqr>0.1"`` or ``"none"`` (every latent active).
    """

    statistic: str
    divisor: float | None
    value: float | None

    @classmethod
    def parse(cls, text: str) -> PruningRule:
        """Parse a rule string, raising ``ValueError`` with the accepted forms."""
        cleaned = str(text).strip().lower()
        if cleaned == "none":
            return cls("none", None, None)
        match = _RULE.match(cleaned)
        try:
            if match is None:
                raise ValueError
            divisor = float(match["divisor"]) if match["divisor"] else None
            value = float(match["value"]) if match["value"] else None
            if divisor is not None and divisor <= 0:
                raise ValueError
        except ValueError:
            raise ValueError(
                f"pruning rule {text!r} not understood; use 'range>max/20', 'range>0', "
                "'iqr>max/10', 'iqr>0.1' or 'none'"
            ) from None
        return cls(match[1], divisor, value)

    def active(self, latents: np.ndarray) -> np.ndarray:
        """Boolean mask of the active latent columns of ``latents`` (n_samples, d).

        Ranges and IQRs are exact for every integer width (integers are measured from
        each column's minimum, in unsigned 64-bit arithmetic, so codes + 2**62 or uint64
        values near 2**64 keep their spread) and finite for floats up to the float64
        maximum (where ``max - min`` would overflow, halves are compared instead:
        halving is exact and keeps every comparison's outcome).
        """
        if self.statistic == "none":
            return np.ones(latents.shape[1], dtype=bool)
        spread = self._spread(latents)
        scale = 1.0
        if not np.isfinite(spread).all():  # float64 overflow: compare halves instead
            spread, scale = self._spread(latents * 0.5), 0.5
        threshold = spread.max() / self.divisor if self.divisor is not None else self.value * scale
        return spread > threshold

    def _spread(self, latents: np.ndarray) -> np.ndarray:
        """Range or IQR of each column, in float64."""
        if latents.dtype == np.bool_:
            latents = latents.view(np.uint8)
        if latents.dtype.kind in "iu":
            lows = latents.min(axis=0)
            if self.statistic == "range":
                highs = latents.max(axis=0)
                return np.array(
                    [float(int(h) - int(lo)) for h, lo in zip(highs, lows, strict=True)]
                )
            # Offsets from the minimum are exact in uint64 (subtraction wraps modulo 2**64).
            latents = latents.astype(np.uint64) - lows.astype(np.uint64)
        with np.errstate(over="ignore", invalid="ignore"):
            if self.statistic == "range":
                # Reduce in the input dtype (no float64 copy), subtract in float64.
                return latents.max(axis=0).astype(np.float64) - latents.min(axis=0)
            upper, lower = np.percentile(latents, [75, 25], axis=0)
            return upper.astype(np.float64) - lower


def resolve_settings(preset: str, discrete_latents: bool, **overrides) -> dict[str, object]:
    """Merge a preset, the defaults and explicit overrides into validated settings.

    Parameters
    ----------
    preset : {"reference", "paper", "tripod"}
    discrete_latents : bool
        Decides which of the preset's two pruning rules applies.
    **overrides
        Knobs given explicitly; ``None`` means "use the preset".

    Returns
    -------
    dict
        Keys ``preset, k, pruning, clip_nmi, aggregate, infoe_kind,
        infoe_normalizer, infoe_discrete_encoding, infoe_tol, infoe_max_iter``.
    """
    check_choice(preset, "preset", tuple(PRESETS))
    table = PRESETS[preset]
    settings: dict[str, object] = {"preset": preset, **DEFAULTS}
    settings["k"] = table["k"]
    settings["pruning"] = table["pruning_discrete" if discrete_latents else "pruning_continuous"]
    settings["clip_nmi"] = table["clip_nmi"]
    settings["infoe_discrete_encoding"] = table["infoe_discrete_encoding"]
    for key, value in overrides.items():
        if value is not None:
            settings[key] = value
    settings["k"] = check_positive_int(settings["k"], "k")  # its bound: effective_k
    PruningRule.parse(settings["pruning"])
    settings["clip_nmi"] = check_optional_bool(settings["clip_nmi"], "clip_nmi")
    check_choice(settings["aggregate"], "aggregate", ("ratio", "gap"))
    check_choice(settings["infoe_kind"], "infoe_kind", ("classification", "regression"))
    check_choice(settings["infoe_normalizer"], "infoe_normalizer", ("balanced", "entropy"))
    check_choice(
        settings["infoe_discrete_encoding"], "infoe_discrete_encoding", ("onehot", "scalar")
    )
    tol = settings["infoe_tol"]
    if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, numbers.Real) or not 0 < tol < 1:
        raise ValueError(f"infoe_tol must be a number in (0, 1), got {tol!r}")
    settings["infoe_tol"] = float(tol)
    settings["infoe_max_iter"] = check_positive_int(settings["infoe_max_iter"], "infoe_max_iter")
    return settings
