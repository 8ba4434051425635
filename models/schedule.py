"""Learning-rate schedules: the authors' constant rate, a cosine decay and an anneal.

The paper trains 2x10^5 steps at a constant rate, and so does every profile by default. A
CPU run is about 20x shorter and still improving when it stops; decaying the rate along a
half cosine to 1% of its start makes a short run settle, but lower: QLAE on procedural
shapes3d reached 25.4 dB PSNR after 6,500 cosine steps against 27.9 dB after 6,000
constant ones (benchmarks/results/plateau_qlae_shapes3d.md). ``anneal`` keeps the constant
rate for the first 60% of the run, falls along a half cosine to 1% by 80%, and trains the
last fifth at that rate: the plateau rule's window (PSNR up < 0.5 dB over the last fifth)
then shows whether the annealed model has settled. The schedule is a function of the step
alone, so a resumed run follows it bit for bit. Torch-free.
"""

from __future__ import annotations

import math

SCHEDULES = ("constant", "cosine", "anneal")
#: The schedules that take a length (``decay_steps``; default: the run's steps).
DECAYING = ("cosine", "anneal")
#: Where the decaying schedules end, as a fraction of the starting learning rate.
FINAL_FRACTION = 0.01
#: ``anneal``: the fractions of its steps where the decay starts and ends.
ANNEAL_WINDOW = (0.6, 0.8)


def lr_multiplier(schedule: str, step: int, decay_steps: int | None) -> float:
    """The factor applied to the base learning rate for the update made at ``step``.

    ``cosine`` falls from 1 at step 0 to :data:`FINAL_FRACTION` at ``decay_steps`` and
    stays there (a run extended past its schedule goes on at the final rate). ``anneal``
    stays at 1 until 60% of ``decay_steps``, falls the same way to the final rate by 80%,
    and stays there.

    Examples
    --------
    >>> lr_multiplier("constant", 500, None)
    1.0
    >>> [round(lr_multiplier("cosine", s, 100), 3) for s in (0, 50, 100, 150)]
    [1.0, 0.505, 0.01, 0.01]
    >>> [round(lr_multiplier("anneal", s, 100), 3) for s in (0, 59, 60, 70, 80, 99)]
    [1.0, 1.0, 1.0, 0.505, 0.01, 0.01]
    """
    if schedule == "constant":
        return 1.0
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown lr schedule {schedule!r}; choose from {', '.join(SCHEDULES)}")
    if not decay_steps or decay_steps <= 0:
        raise ValueError(f"the {schedule} schedule needs decay_steps > 0, got {decay_steps!r}")
    start, end = (0.0, 1.0) if schedule == "cosine" else ANNEAL_WINDOW
    progress = (step / decay_steps - start) / (end - start)
    progress = min(max(progress, 0.0), 1.0)
    return FINAL_FRACTION + (1.0 - FINAL_FRACTION) * 0.5 * (1.0 + math.cos(math.pi * progress))


def describe_schedule(schedule: str, decay_steps: int | None) -> str:
    """A few words for the run's first line.

    Examples
    --------
    >>> describe_schedule("cosine", 7000)
    'lr cosine to 1% over 7000 steps'
    >>> describe_schedule("anneal", 1000)
    'lr constant to step 600, cosine to 1% by step 800, then 1%'
    >>> describe_schedule("constant", None)
    'lr constant'
    """
    if schedule == "cosine":
        return f"lr cosine to {FINAL_FRACTION:.0%} over {decay_steps} steps"
    if schedule == "anneal" and decay_steps:
        start, end = (round(f * decay_steps) for f in ANNEAL_WINDOW)
        return (
            f"lr constant to step {start}, cosine to {FINAL_FRACTION:.0%} by step {end}, "
            f"then {FINAL_FRACTION:.0%}"
        )
    return f"lr {schedule}"
