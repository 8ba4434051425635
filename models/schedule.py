"""Learning-rate schedules: the authors' constant rate and the CPU recipe's cosine decay.

The paper trains 2x10^5 steps at a constant rate, and so does every profile by default. A
CPU run is about 20x shorter and still improving when it stops; decaying the rate along a
half cosine to 1% of its start makes a short run settle, but lower: QLAE on procedural
shapes3d reached 25.4 dB PSNR after 6,500 cosine steps against 27.9 dB after 6,000
constant ones (benchmarks/results/plateau_qlae_shapes3d.md). The schedule is a function of
the step alone, so a resumed run follows it bit for bit. Torch-free.
"""

from __future__ import annotations

import math

SCHEDULES = ("constant", "cosine")
#: Where the cosine schedule ends, as a fraction of the starting learning rate.
FINAL_FRACTION = 0.01


def lr_multiplier(schedule: str, step: int, decay_steps: int | None) -> float:
    """The factor applied to the base learning rate for the update made at ``step``.

    ``cosine`` falls from 1 at step 0 to :data:`FINAL_FRACTION` at ``decay_steps`` and
    stays there (a run extended past its schedule goes on at the final rate).

    Examples
    --------
    >>> lr_multiplier("constant", 500, None)
    1.0
    >>> [round(lr_multiplier("cosine", s, 100), 3) for s in (0, 50, 100, 150)]
    [1.0, 0.505, 0.01, 0.01]
    """
    if schedule == "constant":
        return 1.0
    if schedule != "cosine":
        raise ValueError(f"unknown lr schedule {schedule!r}; choose from {', '.join(SCHEDULES)}")
    if not decay_steps or decay_steps <= 0:
        raise ValueError(f"the cosine schedule needs decay_steps > 0, got {decay_steps!r}")
    progress = min(step, decay_steps) / decay_steps
    return FINAL_FRACTION + (1.0 - FINAL_FRACTION) * 0.5 * (1.0 + math.cos(math.pi * progress))


def describe_schedule(schedule: str, decay_steps: int | None) -> str:
    """A few words for the run's first line.

    Examples
    --------
    >>> describe_schedule("cosine", 7000)
    'lr cosine to 1% over 7000 steps'
    >>> describe_schedule("constant", None)
    'lr constant'
    """
    if schedule == "cosine":
        return f"lr cosine to {FINAL_FRACTION:.0%} over {decay_steps} steps"
    return f"lr {schedule}"
