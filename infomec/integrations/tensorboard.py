"""Log a :class:`~infomec.ScoreResult` to TensorBoard.

:func:`log_result` writes every scalar of :meth:`infomec.ScoreResult.scalars` with
``add_scalar`` and the NMI heatmap (optionally the InfoE bars) with ``add_image``. Any
writer with those two methods works: ``torch.utils.tensorboard.SummaryWriter`` (needs
the ``tensorboard`` package: ``pip install 'infomec[integrations]'``), tensorboardX's,
or a Lightning ``TensorBoardLogger``'s ``.experiment``.

Examples
--------
A sketch (see the documentation's integrations page for a runnable one)::

    from torch.utils.tensorboard import SummaryWriter
    from infomec.integrations.tensorboard import log_result

    writer = SummaryWriter("runs/eval")
    log_result(writer, infomec.score(latents=z, sources=s), step=epoch)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infomec.integrations import DEFAULT_PREFIX, images_of

__all__ = ["log_result"]


def log_result(
    writer: Any,
    result: Any,
    step: int | None = None,
    *,
    prefix: str = DEFAULT_PREFIX,
    figures: Sequence[str] = ("nmi",),
) -> list[str]:
    """Write ``result``'s scalars and figures to a TensorBoard writer.

    Parameters
    ----------
    writer : torch.utils.tensorboard.SummaryWriter or alike
        Anything with ``add_scalar(tag, value, step)`` and
        ``add_image(tag, image, step, dataformats="HWC")``.
    result : infomec.ScoreResult
    step : int, optional
        The global step (epoch, training step) to log at.
    prefix : str, default "infomec/"
        Prepended to every tag: ``"infomec/infomec.infom"``, ``"infomec/nmi"``.
    figures : sequence of {"nmi", "infoe"}, default ("nmi",)
        The figures to log as images; ``()`` logs scalars only.

    Returns
    -------
    list of str
        The tags written.

    Examples
    --------
    >>> import numpy as np, infomec
    >>> class Writer:  # records what a SummaryWriter would be told
    ...     def __init__(self):
    ...         self.tags = []
    ...     def add_scalar(self, tag, value, step):
    ...         self.tags.append(tag)
    ...     def add_image(self, tag, image, step, dataformats):
    ...         self.tags.append(tag)
    >>> sources = np.repeat(np.arange(3), 20)[:, None]
    >>> result = infomec.score(latents=sources.copy(), sources=sources)
    >>> log_result(Writer(), result, step=0)
    ['infomec/infomec.infom', 'infomec/infomec.infoe', 'infomec/infomec.infoc', 'infomec/nmi']
    """
    tags = []
    for name, value in result.scalars().items():
        writer.add_scalar(prefix + name, value, step)
        tags.append(prefix + name)
    for name, image in images_of(result, tuple(figures)).items():
        writer.add_image(prefix + name, image, step, dataformats="HWC")
        tags.append(prefix + name)
    return tags
