"""Loaders for real dataset files, exercised on small files written in the same formats.

numpy only (h5py where available): these run without torch.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from infomec.models.data import load_dsprites, load_mpi3d, load_shapes3d, open_dataset


@pytest.fixture
def dsprites_file(tmp_path):
    """A reduced-grid file with the official keys, dtypes and a pickled metadata dict."""
    sizes = (1, 3, 2, 2, 4, 4)
    classes = np.stack(np.unravel_index(np.arange(np.prod(sizes)), sizes), axis=-1)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 2, size=(len(classes), 64, 64), dtype=np.uint8)
    values = classes.astype(np.float64) / 10
    metadata = np.array({"latents_sizes": np.array(sizes), "title": "test"}, dtype=object)
    path = tmp_path / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
    np.savez(
        path,
        imgs=images,
        latents_classes=classes.astype(np.int64),
        latents_values=values,
        metadata=metadata,
    )
    return path, images, classes


def test_dsprites_loader_reads_without_unpickling(dsprites_file):
    path, images, classes = dsprites_file
    data = load_dsprites(path)
    assert data.factor_names == ("shape", "scale", "orientation", "posX", "posY")  # no color
    assert len(data) == len(images) and data.image_shape == (1, 64, 64)
    order = np.array([5, 0, 5, 90])
    np.testing.assert_array_equal(data.images(order)[:, 0], images[order])
    np.testing.assert_array_equal(data.factors(order), classes[order][:, 1:])
    assert load_dsprites(path, image_size=16).images([0]).shape == (1, 1, 16, 16)
    assert type(open_dataset(str(path))) is type(data)


def test_dsprites_loader_names_the_missing_array(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, imgs=np.zeros((2, 64, 64), np.uint8))
    with pytest.raises(ValueError, match="missing array 'latents_classes'"):
        load_dsprites(path)


def write_shapes3d(path, h5py):
    sizes = (2, 1, 2, 3, 2, 2)
    classes = np.stack(np.unravel_index(np.arange(np.prod(sizes)), sizes), axis=-1)
    # Values, not classes, as in 3dshapes.h5 (orientation in degrees, scale 0.75..1.25).
    grids = [[0.0, 0.1], [0.5], [0.3, 0.9], [0.75, 1.0, 1.25], [0.0, 3.0], [-30.0, 30.0]]
    labels = np.stack([np.asarray(grid)[classes[:, j]] for j, grid in enumerate(grids)], axis=-1)
    images = np.random.default_rng(1).integers(0, 256, (len(classes), 64, 64, 3), dtype=np.uint8)
    with h5py.File(path, "w") as handle:
        handle["images"] = images
        handle["labels"] = labels
    return images, classes


def test_shapes3d_loader_ranks_label_values(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "3dshapes.h5"
    images, classes = write_shapes3d(path, h5py)
    data = load_shapes3d(path)
    assert data.factor_names == ("floor_hue", "object_hue", "scale", "shape", "orientation")
    order = np.array([7, 2, 7, 0])  # unsorted, with a duplicate: h5py needs sorted reads
    np.testing.assert_allclose(
        data.images(order), images[order].transpose(0, 3, 1, 2) / np.float32(255)
    )
    np.testing.assert_array_equal(data.factors(order), classes[order][:, [0, 2, 3, 4, 5]])
    assert open_dataset(str(path), image_size=32).image_shape == (3, 32, 32)


def test_shapes3d_loader_without_h5py_says_what_to_install(tmp_path, monkeypatch):
    path = tmp_path / "3dshapes.h5"
    path.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match="pip install h5py"):
        load_shapes3d(path)


@pytest.mark.parametrize("suffix", [".npz", ".npy"])
def test_mpi3d_loader_derives_classes_from_the_index(tmp_path, suffix):
    sizes = (2, 1, 2, 1, 1, 3, 2)
    n = int(np.prod(sizes))
    images = np.random.default_rng(2).integers(0, 256, (n, 64, 64, 3), dtype=np.uint8)
    path = tmp_path / f"mpi3d{suffix}"
    if suffix == ".npz":
        np.savez(path, images=images)
    else:
        np.save(path, images)
    data = load_mpi3d(path, factor_sizes=sizes)
    assert data.factor_names == ("object_color", "object_size", "horizontal_axis", "vertical_axis")
    np.testing.assert_array_equal(
        data.factors([0, 1, 2, n - 1]), [[0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0], [1, 1, 2, 1]]
    )
    np.testing.assert_allclose(data.images([3])[0], images[3].transpose(2, 0, 1) / 255)
    with pytest.raises(ValueError, match="cannot infer the MPI3D factor grid from 24 images"):
        load_mpi3d(path)
    with pytest.raises(ValueError, match=r"give 48 images, the file has 24"):
        load_mpi3d(path, factor_sizes=(2, 2, 2, 1, 1, 3, 2))


def test_open_dataset_refuses_bad_paths(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset"):
        open_dataset(str(tmp_path / "missing.npz"))
    other = tmp_path / "data.txt"
    other.write_text("x")
    with pytest.raises(ValueError, match="unsupported dataset file type '.txt'"):
        open_dataset(str(other))
    archive = tmp_path / "other.npz"
    np.savez(archive, pixels=np.zeros(3))
    with pytest.raises(ValueError, match="expected an 'imgs'"):
        open_dataset(str(archive))
    with pytest.raises(ValueError, match="only be chosen for the procedural"):
        open_dataset(str(archive), subset={"shape": [0]})
