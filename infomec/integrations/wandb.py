"""Log a :class:`~infomec.ScoreResult` to Weights & Biases.

:func:`log_result` logs every scalar of :meth:`infomec.ScoreResult.scalars` and the NMI
heatmap (optionally the InfoE bars) as ``wandb.Image`` in one ``run.log`` call. The
``wandb`` package comes with ``pip install 'infomec[integrations]'``; offline runs
(``WANDB_MODE=offline``) work the same and sync later.

Examples
--------
A sketch (see the documentation's integrations page for a runnable one)::

    import wandb
    from infomec.integrations.wandb import log_result

    run = wandb.init(project="my-vae")
    log_result(infomec.score(latents=z, sources=s), run=run, step=epoch)
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from typing import Any

from infomec.integrations import DEFAULT_PREFIX, INSTALL_HINT, images_of

__all__ = ["log_result"]


def _wandb() -> Any:
    if importlib.util.find_spec("wandb") is None:
        raise ValueError(f"logging to Weights & Biases needs wandb: {INSTALL_HINT}")
    return importlib.import_module("wandb")


def log_result(
    result: Any,
    run: Any = None,
    step: int | None = None,
    *,
    prefix: str = DEFAULT_PREFIX,
    figures: Sequence[str] = ("nmi",),
) -> dict[str, Any]:
    """Log ``result``'s scalars and figures to a W&B run.

    Parameters
    ----------
    result : infomec.ScoreResult
    run : wandb Run, optional
        Default: the active run (``wandb.run``, set by ``wandb.init``).
    step : int, optional
        Passed to ``run.log``; by default W&B's own step counter.
    prefix : str, default "infomec/"
        Prepended to every key: ``"infomec/infomec.infom"``, ``"infomec/nmi"``.
    figures : sequence of {"nmi", "infoe"}, default ("nmi",)
        The figures to log as ``wandb.Image``; ``()`` logs scalars only.

    Returns
    -------
    dict
        What was logged (key to float or ``wandb.Image``).

    Raises
    ------
    ValueError
        wandb is not installed, or no run is given or active.
    """
    wandb = _wandb()
    run = run if run is not None else wandb.run
    if run is None:
        raise ValueError("no active W&B run: call wandb.init(...) first or pass run=")
    logged: dict[str, Any] = {prefix + name: value for name, value in result.scalars().items()}
    for name, image in images_of(result, tuple(figures)).items():
        logged[prefix + name] = wandb.Image(image, caption=f"{name} ({result.n_samples} rows)")
    run.log(logged, step=step)
    return logged
