"""Training batches: drawn from a per-step seed, optionally rendered ahead on worker threads.

Batch ``s`` of a run with seed ``seed`` holds the images at
``default_rng([seed, s]).integers(len(dataset), size=batch_size)``. Because every batch is
a pure function of (seed, step), worker threads may prepare batches in any order, and a
resumed run draws exactly the batches an uninterrupted one would, with no sampler state to
save.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import torch

from .data import FactorDataset


def batch_indices(seed: int, step: int, n_items: int, batch_size: int) -> np.ndarray:
    """The dataset indices of training batch ``step`` (int64, with replacement)."""
    return np.random.default_rng([seed, step]).integers(n_items, size=batch_size)


class BatchStream:
    """Hands out the batch of each step as a tensor on ``device``.

    Parameters
    ----------
    dataset : FactorDataset
    seed, batch_size : int
    device : torch.device
    workers : int, default=0
        Threads rendering batches ahead (0: render in the calling thread). numpy releases
        the GIL in the rendering kernels, so threads overlap data preparation with the
        model's step; on CUDA the batch is copied from pinned memory asynchronously.
    ahead : int, optional
        Batches kept in flight (default ``2 * workers``).
    memory_format : torch.memory_format, optional
        Layout of the batches (``torch.channels_last`` for a channels-last network); the
        conversion happens on the worker threads.
    """

    def __init__(
        self,
        dataset: FactorDataset,
        seed: int,
        batch_size: int,
        device: torch.device,
        workers: int = 0,
        ahead: int | None = None,
        memory_format: torch.memory_format | None = None,
    ) -> None:
        self.dataset, self.seed, self.batch_size, self.device = dataset, seed, batch_size, device
        self.workers = workers
        self.memory_format = memory_format
        self.ahead = max(1, ahead if ahead is not None else 2 * workers)
        self._pool = ThreadPoolExecutor(workers, "batches") if workers > 0 else None
        self._pending: dict[int, Future[torch.Tensor]] = {}

    def _render(self, step: int) -> torch.Tensor:
        indices = batch_indices(self.seed, step, len(self.dataset), self.batch_size)
        x = torch.from_numpy(self.dataset.images(indices))
        if self.memory_format is not None:
            x = x.contiguous(memory_format=self.memory_format)
        return x.pin_memory() if self.device.type == "cuda" else x

    def get(self, step: int) -> torch.Tensor:
        """The batch of ``step`` (steps are asked for in increasing order)."""
        if self._pool is None:
            return self._render(step).to(self.device)
        for future_step in range(step, step + self.ahead):
            if future_step not in self._pending:
                self._pending[future_step] = self._pool.submit(self._render, future_step)
        x = self._pending.pop(step).result()
        return x.to(self.device, non_blocking=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pending.clear()

    def __enter__(self) -> BatchStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
