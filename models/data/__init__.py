"""Datasets for the reference trainer (numpy only): procedural generators and file loaders.

Every dataset maps a flat index to a float32 image in [0, 1] (channels first) and to integer
factor classes, rendering or reading on demand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ._base import FactorDataset as FactorDataset
from ._base import GridDataset as GridDataset
from ._factors import FactorSpace as FactorSpace
from ._factors import evaluation_indices as evaluation_indices
from .files import ArrayDataset as ArrayDataset
from .files import load_dsprites as load_dsprites
from .files import load_mpi3d as load_mpi3d
from .files import load_shapes3d as load_shapes3d
from .procedural_dsprites import ProceduralDSprites as ProceduralDSprites
from .procedural_shapes3d import ProceduralShapes3D as ProceduralShapes3D

__all__ = [
    "ArrayDataset",
    "FactorDataset",
    "FactorSpace",
    "GridDataset",
    "ProceduralDSprites",
    "ProceduralShapes3D",
    "evaluation_indices",
    "load_dsprites",
    "load_mpi3d",
    "load_shapes3d",
    "open_dataset",
]

PROCEDURAL = {"dsprites": ProceduralDSprites, "shapes3d": ProceduralShapes3D}


def open_dataset(
    name_or_path: str,
    image_size: int | None = None,
    subset: Mapping[str, Sequence[int]] | None = None,
) -> FactorDataset:
    """Open a procedural dataset by name, or a dataset file by path.

    Parameters
    ----------
    name_or_path : str
        ``"dsprites"`` or ``"shapes3d"`` for the procedural generators; otherwise a path:
        ``.h5``/``.hdf5`` is read as 3dshapes.h5, ``.npz`` with ``imgs`` as dSprites,
        ``.npz`` with ``images`` or ``.npy`` as MPI3D.
    image_size : int, optional
        Output image size. Default 64.
    subset : mapping of str to sequence of int, optional
        Factor classes to keep (procedural datasets only).

    Returns
    -------
    FactorDataset
        With ``family`` set (``dsprites``, ``shapes3d`` or ``mpi3d``).
    """
    return _open(name_or_path, image_size, subset)


def _open(
    name_or_path: str,
    image_size: int | None,
    subset: Mapping[str, Sequence[int]] | None,
) -> FactorDataset:
    if name_or_path in PROCEDURAL:
        dataset = PROCEDURAL[name_or_path](subset=subset, image_size=image_size or 64)
        dataset.family = name_or_path
        return dataset
    path = Path(name_or_path)
    if not path.is_file():
        raise ValueError(
            f"unknown dataset {name_or_path!r}: expected dsprites, shapes3d or an existing file"
        )
    if subset:
        raise ValueError("a factor subset can only be chosen for the procedural datasets")
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5"):
        return _labelled(load_shapes3d(path, image_size), "shapes3d")
    if suffix == ".npy":
        return _labelled(load_mpi3d(path, image_size), "mpi3d")
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            keys = set(archive.files)
        if "imgs" in keys:
            return _labelled(load_dsprites(path, image_size), "dsprites")
        if "images" in keys:
            return _labelled(load_mpi3d(path, image_size), "mpi3d")
        raise ValueError(f"{path}: expected an 'imgs' (dSprites) or 'images' (MPI3D) array")
    raise ValueError(f"{path}: unsupported dataset file type {suffix!r} (use .npz, .npy or .h5)")


def _labelled(dataset: FactorDataset, family: str) -> FactorDataset:
    dataset.family = family
    return dataset
