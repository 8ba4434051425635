"""A PyTorch Lightning callback that scores the validation latents every epoch.

:class:`InfoMECCallback` feeds each validation batch's latents and sources to an
:class:`infomec.Collector`, scores them at the end of the validation epoch, logs every
scalar of :meth:`infomec.ScoreResult.scalars` with ``pl_module.log_dict`` (so they
reach every logger, ``trainer.callback_metrics``, checkpoint monitors and early
stopping), and sends the NMI heatmap to the loggers that take images (TensorBoard,
Weights & Biases). Needs ``lightning`` (or the older ``pytorch_lightning``): ``pip
install 'infomec[integrations]'``.

By default the latents and sources are what ``validation_step`` returns::

    def validation_step(self, batch, batch_idx):
        images, factors = batch
        latents = self.encoder(images)
        ...
        return {"latents": latents, "sources": factors}

or pass ``extract=lambda module, batch: (module.encoder(batch[0]), batch[1])``.
Each process scores the batches it saw (under DDP, its shard).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from infomec.collector import Collector
from infomec.integrations import DEFAULT_PREFIX, INSTALL_HINT, images_of

try:
    from lightning.pytorch.callbacks import Callback
except ImportError:  # the package's pre-2.0 name
    try:
        from pytorch_lightning.callbacks import Callback
    except ImportError:
        raise ImportError(
            f"infomec.integrations.lightning needs PyTorch Lightning: {INSTALL_HINT}"
        ) from None

__all__ = ["InfoMECCallback"]

Extract = Callable[[Any, Any], tuple[Any, Any]]


class InfoMECCallback(Callback):
    """Score the latents of every validation epoch and log the scores and the heatmap.

    Parameters
    ----------
    extract : callable, optional
        ``extract(pl_module, batch) -> (latents, sources)``, called under
        ``torch.no_grad()`` for each validation batch. By default the latents and
        sources are read from the dict ``validation_step`` returns (keys
        ``"latents"`` and ``"sources"``).
    metrics : str or sequence of str, default "infomec"
        The families to score, as :func:`infomec.score` takes them (e.g.
        ``["infomec", "dci", "mig"]``).
    every_n_epochs : int, default 1
        Score every n-th validation epoch only (scoring costs CPU time).
    figures : sequence of {"nmi", "infoe"}, default ("nmi",)
        Figures sent to the loggers that take images; ``()`` for none.
    prefix : str, default "infomec/"
        Prepended to every logged name: ``"infomec/infomec.infom"``.
    max_samples : int, optional
        Keep a uniform random sample of at most this many validation rows
        (:class:`infomec.Collector`'s reservoir).
    **score_kwargs
        Further keywords of :func:`infomec.score` (``source_names``, ``seed``,
        ``discrete_latents``, ``n_jobs``, ...).

    Attributes
    ----------
    result : infomec.ScoreResult or None
        The latest epoch's result.

    Examples
    --------
    >>> from infomec.integrations.lightning import InfoMECCallback
    >>> callback = InfoMECCallback(metrics=["infomec", "mig"], source_names=["shape", "size"])
    >>> callback.result is None
    True
    """

    def __init__(
        self,
        extract: Extract | None = None,
        *,
        metrics: str | Sequence[str] = "infomec",
        every_n_epochs: int = 1,
        figures: Sequence[str] = ("nmi",),
        prefix: str = DEFAULT_PREFIX,
        max_samples: int | None = None,
        **score_kwargs: Any,
    ) -> None:
        super().__init__()
        if isinstance(every_n_epochs, bool) or not isinstance(every_n_epochs, int):
            raise ValueError(f"every_n_epochs must be an integer >= 1, got {every_n_epochs!r}")
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be an integer >= 1, got {every_n_epochs!r}")
        self.extract = extract
        self.metrics = metrics
        self.every_n_epochs = every_n_epochs
        self.figures = tuple(figures)
        self.prefix = prefix
        self.score_kwargs = dict(score_kwargs)
        self.collector = Collector(max_samples=max_samples)
        self.result = None
        self._active = False

    def _scoring_now(self, trainer: Any) -> bool:
        return not trainer.sanity_checking and trainer.current_epoch % self.every_n_epochs == 0

    def on_validation_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        self.collector.reset()
        self._active = self._scoring_now(trainer)

    def on_validation_batch_end(
        self,
        trainer: Any,
        pl_module: Any,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if not self._active:
            return
        if self.extract is not None:
            import torch

            with torch.no_grad():
                latents, sources = self.extract(pl_module, batch)
        elif isinstance(outputs, dict) and "latents" in outputs and "sources" in outputs:
            latents, sources = outputs["latents"], outputs["sources"]
        else:
            raise ValueError(
                "InfoMECCallback: validation_step must return a dict with 'latents' and "
                "'sources', or pass extract=lambda module, batch: (latents, sources)"
            )
        self.collector.update(latents=latents, sources=sources)

    def on_validation_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if not self._active or len(self.collector) == 0:
            return
        self._active = False
        result = self.collector.score(metrics=self.metrics, progress=False, **self.score_kwargs)
        self.result = result
        scalars = {self.prefix + name: value for name, value in result.scalars().items()}
        pl_module.log_dict(scalars, on_epoch=True, sync_dist=False)
        if self.figures and trainer.is_global_zero:
            self._log_images(trainer, result)
        self.collector.reset()  # release the rows until the next epoch

    def _log_images(self, trainer: Any, result: Any) -> None:
        images = images_of(result, self.figures)
        step = trainer.global_step
        for logger in trainer.loggers:
            for name, image in images.items():
                if hasattr(logger, "log_image"):  # WandbLogger (and others with images)
                    logger.log_image(key=self.prefix + name, images=[image], step=step)
                elif hasattr(getattr(logger, "experiment", None), "add_image"):
                    logger.experiment.add_image(self.prefix + name, image, step, dataformats="HWC")
