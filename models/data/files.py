"""Loaders for dataset files a user already has: dSprites .npz, 3dshapes.h5 and MPI3D .npz/.npy.

Nothing is downloaded. Files are opened without unpickling (``allow_pickle=False``); the
dSprites ``metadata`` entry, a pickled Python 2 dict, is never read because the factor classes
are stored in plain arrays beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._base import FactorDataset
from ._factors import FactorSpace, block_downsample

DSPRITES_FILE_NAMES = ("color", "shape", "scale", "orientation", "posX", "posY")
SHAPES3D_FILE_NAMES = ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
MPI3D_NAMES = (
    "object_color",
    "object_shape",
    "object_size",
    "camera_height",
    "background_color",
    "horizontal_axis",
    "vertical_axis",
)
# MPI3D stores no labels: the factor grid is inferred from the number of images.
MPI3D_SIZES_BY_COUNT = {
    1_036_800: (6, 6, 2, 3, 3, 40, 40),  # mpi3d_toy, mpi3d_realistic, mpi3d_real
    460_800: (4, 4, 2, 3, 3, 40, 40),  # mpi3d_complex (the QLAE paper's "MPI3D")
}


def _take(array: Any, indices: np.ndarray) -> np.ndarray:
    """Read rows of an ndarray, memmap or h5py dataset in any order, duplicates allowed."""
    # h5py only reads strictly increasing index lists, and sorted reads are also the fast
    # path for memmaps; reorder afterwards.
    unique, inverse = np.unique(indices, return_inverse=True)
    return np.asarray(array[unique])[inverse]


class ArrayDataset(FactorDataset):
    """Images stored in an array (in memory, memory-mapped or HDF5) with factor classes.

    Parameters
    ----------
    images : array-like of shape (n, h, w) or (n, h, w, channels)
        Stored images, integer valued.
    classes : ndarray of shape (n, n_factors)
        Integer factor classes of every image.
    factor_names : sequence of str
        One name per column of ``classes``.
    max_value : float
        Stored value of a fully lit pixel (1 for dSprites, 255 for the RGB datasets).
    image_size : int, optional
        Output size; must divide the stored size. Default: the stored size.
    """

    def __init__(
        self,
        images: Any,
        classes: np.ndarray,
        factor_names: Sequence[str],
        max_value: float,
        image_size: int | None = None,
    ) -> None:
        classes = np.asarray(classes, dtype=np.int64)
        if len(images) != len(classes):
            raise ValueError(f"{len(images)} images but {len(classes)} rows of factor classes")
        if classes.ndim != 2 or classes.shape[1] != len(factor_names):
            raise ValueError(f"factor classes must have shape (n, {len(factor_names)})")
        shape = tuple(images.shape[1:])
        if len(shape) not in (2, 3) or shape[0] != shape[1]:
            raise ValueError(f"images must be square (n, h, w[, c]), got {images.shape}")
        varying = [j for j in range(classes.shape[1]) if np.unique(classes[:, j]).size > 1]
        self._images = images
        self._classes = classes[:, varying]
        self.factor_names = tuple(factor_names[j] for j in varying)
        self._max_value = float(max_value)
        native = shape[0]
        self.image_size = native if image_size is None else int(image_size)
        if self.image_size < 1 or native % self.image_size:
            raise ValueError(f"image size must divide the stored size {native}")
        channels = 1 if len(shape) == 2 else shape[2]
        self.image_shape = (channels, self.image_size, self.image_size)

    def __len__(self) -> int:
        return len(self._classes)

    def images(self, indices: np.ndarray) -> np.ndarray:
        raw = _take(self._images, self.check_indices(indices))
        raw = raw[:, None] if raw.ndim == 3 else raw.transpose(0, 3, 1, 2)
        images = raw.astype(np.float32) / np.float32(self._max_value)
        return block_downsample(images, self.image_size)

    def factors(self, indices: np.ndarray) -> np.ndarray:
        return self._classes[self.check_indices(indices)]


def _require_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"dataset file not found: {path}")
    return path


def _require_keys(archive: Any, keys: Sequence[str], path: Path) -> None:
    missing = [key for key in keys if key not in archive]
    if missing:
        raise ValueError(f"{path}: missing array {missing[0]!r} (found {', '.join(archive)})")


def load_dsprites(path: str | Path, image_size: int | None = None) -> ArrayDataset:
    """Load the official dSprites file ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz``.

    Parameters
    ----------
    path : str or Path
        An npz with ``imgs`` (n, 64, 64) uint8 0/1 and ``latents_classes`` (n, 6).
    image_size : int, optional
        Output size (must divide 64).

    Returns
    -------
    ArrayDataset
        Factors named as in the official metadata; ``color`` has one value and is dropped.

    Notes
    -----
    The whole ``imgs`` array is read into memory (about 3 GB for the official file).
    """
    path = _require_file(path)
    with np.load(path, allow_pickle=False) as archive:
        _require_keys(archive, ("imgs", "latents_classes"), path)
        classes = archive["latents_classes"]
        images = archive["imgs"]
    names = (
        DSPRITES_FILE_NAMES
        if classes.shape[1] == len(DSPRITES_FILE_NAMES)
        else tuple(f"factor_{j}" for j in range(classes.shape[1]))
    )
    return ArrayDataset(images, classes, names, max_value=1.0, image_size=image_size)


def _import_h5py() -> Any:
    try:
        import h5py
    except ImportError as exc:
        raise ImportError(
            "reading 3dshapes.h5 needs the optional package h5py: pip install h5py"
        ) from exc
    return h5py


def load_shapes3d(path: str | Path, image_size: int | None = None) -> ArrayDataset:
    """Load DeepMind's ``3dshapes.h5`` (needs the optional package h5py).

    Parameters
    ----------
    path : str or Path
        HDF5 file with ``images`` (n, 64, 64, 3) uint8 and ``labels`` (n, 6) factor values.
    image_size : int, optional
        Output size (must divide 64).

    Returns
    -------
    ArrayDataset
        Images are read from the open file on demand; the labels are turned into class
        indices by ranking each column's distinct values (the file stores values, not
        classes, and the documented value grids do not all match the file).
    """
    path = _require_file(path)
    h5py = _import_h5py()
    handle = h5py.File(path, "r")
    _require_keys(handle, ("images", "labels"), path)
    labels = np.asarray(handle["labels"])
    classes = np.stack(
        [np.unique(labels[:, j], return_inverse=True)[1] for j in range(labels.shape[1])],
        axis=-1,
    )
    names = (
        SHAPES3D_FILE_NAMES
        if labels.shape[1] == len(SHAPES3D_FILE_NAMES)
        else tuple(f"factor_{j}" for j in range(labels.shape[1]))
    )
    dataset = ArrayDataset(handle["images"], classes, names, max_value=255.0, image_size=image_size)
    dataset.h5_file = handle  # images are read lazily: the file stays open with the dataset
    return dataset


def load_mpi3d(
    path: str | Path,
    image_size: int | None = None,
    factor_sizes: Sequence[int] | None = None,
) -> ArrayDataset:
    """Load an MPI3D file: ``.npz`` with an ``images`` array, or a ``.npy`` of the same array.

    Parameters
    ----------
    path : str or Path
        ``images`` of shape (n, 64, 64, 3) uint8, stored in factor order (last factor
        fastest). A ``.npy`` file is memory-mapped; an ``.npz`` is read into memory, since
        numpy cannot memory-map npz members (about 12.7 GB for the 1,036,800-image files).
        Convert once with ``np.save("mpi3d.npy", np.load(path)["images"])`` to save memory.
    image_size : int, optional
        Output size (must divide 64).
    factor_sizes : sequence of int, optional
        Sizes of the 7 factors. Default: inferred from the number of images (1,036,800 ->
        6, 6, 2, 3, 3, 40, 40; 460,800 -> 4, 4, 2, 3, 3, 40, 40).

    Returns
    -------
    ArrayDataset
    """
    path = _require_file(path)
    if path.suffix == ".npy":
        images = np.load(path, mmap_mode="r", allow_pickle=False)
    else:
        with np.load(path, allow_pickle=False) as archive:
            _require_keys(archive, ("images",), path)
            images = archive["images"]
    if factor_sizes is None:
        if len(images) not in MPI3D_SIZES_BY_COUNT:
            raise ValueError(
                f"{path}: cannot infer the MPI3D factor grid from {len(images)} images; "
                "pass factor_sizes"
            )
        factor_sizes = MPI3D_SIZES_BY_COUNT[len(images)]
    names = (
        MPI3D_NAMES
        if len(factor_sizes) == len(MPI3D_NAMES)
        else tuple(f"factor_{j}" for j in range(len(factor_sizes)))
    )
    space = FactorSpace(names, tuple(int(size) for size in factor_sizes))
    if len(space) != len(images):
        raise ValueError(
            f"{path}: factor sizes {tuple(factor_sizes)} give {len(space)} images, "
            f"the file has {len(images)}"
        )
    classes = space.unravel(np.arange(len(images)))
    return ArrayDataset(images, classes, space.names, max_value=255.0, image_size=image_size)
