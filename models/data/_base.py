"""The dataset interface shared by the procedural generators and the file loaders."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

import numpy as np

from ._factors import FactorSpace, select_classes


class FactorDataset(ABC):
    """Images indexed by flat position, each with integer ground-truth factor classes.

    Subclasses render or read images on demand, so a dataset never holds every image in
    memory unless its file format forces it.

    Attributes
    ----------
    factor_names : tuple of str
        Names of the factors returned by :meth:`factors` (factors with a single value are left
        out: they carry no information and would only produce a zero row in NMI).
    image_shape : tuple of int
        (channels, height, width) of the images returned by :meth:`images`.
    family : str
        Which published data set this is or imitates (``dsprites``, ``shapes3d``, ``mpi3d``;
        ``unknown`` if not set): selects the authors' per-dataset training settings.
    """

    factor_names: tuple[str, ...]
    image_shape: tuple[int, int, int]
    family: str = "unknown"

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def images(self, indices: np.ndarray) -> np.ndarray:
        """Return float32 images of shape (n, channels, height, width) with values in [0, 1]."""

    @abstractmethod
    def factors(self, indices: np.ndarray) -> np.ndarray:
        """Return int64 factor classes of shape (n, len(factor_names))."""

    def check_indices(self, indices: np.ndarray) -> np.ndarray:
        """Return ``indices`` as int64, refusing any outside [0, len(self))."""
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if indices.size and (indices.min() < 0 or indices.max() >= len(self)):
            raise ValueError(f"indices must lie in [0, {len(self)})")
        return indices


class GridDataset(FactorDataset):
    """A procedural dataset over a (possibly reduced) factorial grid of factor classes.

    Parameters
    ----------
    names, sizes : sequence
        The full factor grid of the dataset being imitated.
    subset : mapping of str to sequence of int, optional
        Factor name -> original class indices to keep.

    Notes
    -----
    :meth:`factors` reports the *original* class indices (for example orientation class 36
    stays 36 in a subset that keeps every fourth orientation), so results from different
    subsets name the same factor values the same way.
    """

    def __init__(
        self,
        names: Sequence[str],
        sizes: Sequence[int],
        subset: Mapping[str, Sequence[int]] | None,
    ) -> None:
        self.all_factor_names = tuple(names)
        self.kept_classes = select_classes(names, sizes, subset)
        self.space = FactorSpace(self.all_factor_names, tuple(len(c) for c in self.kept_classes))
        self._varying = [i for i, classes in enumerate(self.kept_classes) if len(classes) > 1]
        self.factor_names = tuple(self.all_factor_names[i] for i in self._varying)

    def __len__(self) -> int:
        return len(self.space)

    def all_classes(self, indices: np.ndarray) -> np.ndarray:
        """Return original classes of every factor (constant ones included), shape (n, K)."""
        positions = self.space.unravel(self.check_indices(indices))
        return np.stack(
            [classes[positions[:, i]] for i, classes in enumerate(self.kept_classes)], axis=-1
        )

    def factors(self, indices: np.ndarray) -> np.ndarray:
        return self.all_classes(indices)[:, self._varying]

    def images(self, indices: np.ndarray) -> np.ndarray:
        return self.render(self.all_classes(indices))

    @abstractmethod
    def render(self, classes: np.ndarray) -> np.ndarray:
        """Render float32 images of shape (n, c, h, w) from original classes of every factor."""
