"""Factor spaces: the grid of ground-truth factor classes behind a dataset, and index helpers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FactorSpace:
    """A full factorial grid of factor classes, flattened in C order (last factor fastest).

    Parameters
    ----------
    names : tuple of str
        Factor names, in storage order.
    sizes : tuple of int
        Number of classes of each factor.
    """

    names: tuple[str, ...]
    sizes: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.names) != len(self.sizes):
            raise ValueError(f"{len(self.names)} factor names but {len(self.sizes)} factor sizes")
        if any(size < 1 for size in self.sizes):
            raise ValueError(f"factor sizes must be >= 1, got {self.sizes}")

    def __len__(self) -> int:
        return int(np.prod(self.sizes, dtype=np.int64))

    def unravel(self, indices: np.ndarray) -> np.ndarray:
        """Return the factor classes of flat indices as an int64 array of shape (n, n_factors)."""
        indices = np.asarray(indices, dtype=np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= len(self)):
            raise ValueError(f"indices must lie in [0, {len(self)})")
        return np.stack(np.unravel_index(indices, self.sizes), axis=-1).astype(np.int64)

    def ravel(self, classes: np.ndarray) -> np.ndarray:
        """Return the flat indices of factor classes of shape (n, n_factors)."""
        classes = np.asarray(classes, dtype=np.int64)
        return np.ravel_multi_index(tuple(classes.T), self.sizes).astype(np.int64)


def select_classes(
    names: Sequence[str], sizes: Sequence[int], subset: Mapping[str, Sequence[int]] | None
) -> list[np.ndarray]:
    """Return, per factor, the sorted original class indices that a subset keeps.

    Parameters
    ----------
    names, sizes : sequence
        The full factor names and sizes.
    subset : mapping of str to sequence of int, optional
        Factor name -> class indices to keep; factors not named keep every class.

    Returns
    -------
    list of ndarray
        One int64 array of kept classes per factor.
    """
    subset = dict(subset or {})
    unknown = sorted(set(subset) - set(names))
    if unknown:
        raise ValueError(f"unknown factor {unknown[0]!r}; factors are {', '.join(names)}")
    kept = []
    for name, size in zip(names, sizes, strict=True):
        classes = np.unique(np.asarray(subset.get(name, range(size)), dtype=np.int64))
        if classes.size == 0:
            raise ValueError(f"factor {name!r}: the subset keeps no class")
        if classes[0] < 0 or classes[-1] >= size:
            raise ValueError(f"factor {name!r}: classes must lie in [0, {size})")
        kept.append(classes)
    return kept


def evaluation_indices(n_items: int, size: int, seed: int) -> np.ndarray:
    """Draw a random evaluation subset (without replacement, in random order, not sorted).

    Parameters
    ----------
    n_items : int
        Number of items in the dataset.
    size : int
        Subset size; clipped to ``n_items``.
    seed : int
        Seed of the numpy Generator that draws the subset.

    Returns
    -------
    ndarray of shape (min(size, n_items),)
        Distinct int64 indices.
    """
    if size <= 0:
        raise ValueError(f"evaluation size must be > 0, got {size}")
    rng = np.random.default_rng(seed)
    return rng.choice(n_items, size=min(size, n_items), replace=False).astype(np.int64)


def block_downsample(images: np.ndarray, image_size: int) -> np.ndarray:
    """Average-pool images of shape (n, c, h, w) by an integer factor down to ``image_size``."""
    n, c, h, w = images.shape
    if h == image_size and w == image_size:
        return images
    if h % image_size or w % image_size:
        raise ValueError(f"image size {image_size} must divide the native size {h}x{w}")
    fh, fw = h // image_size, w // image_size
    return images.reshape(n, c, image_size, fh, image_size, fw).mean(axis=(3, 5))
