"""Procedural dSprites- and Shapes3D-style generators: factor structure, ranges, determinism.

numpy only: these run without torch.
"""

from __future__ import annotations

import numpy as np
import pytest

from infomec.models.data import (
    ProceduralDSprites,
    ProceduralShapes3D,
    evaluation_indices,
    open_dataset,
)

# A small dSprites subset keeps mask rendering cheap in every test.
SMALL = {"orientation": [0, 5, 10, 39], "scale": [0, 5]}


@pytest.fixture(scope="module")
def sprites() -> ProceduralDSprites:
    return ProceduralDSprites(subset=SMALL)


@pytest.fixture(scope="module")
def scenes() -> ProceduralShapes3D:
    return ProceduralShapes3D(image_size=32)


def classes_index(data, **classes) -> int:
    """Flat index of the image with the given original classes (others at their first)."""
    positions = [
        int(np.flatnonzero(kept == classes.get(name, kept[0]))[0])
        for name, kept in zip(data.all_factor_names, data.kept_classes, strict=True)
    ]
    return int(data.space.ravel(np.array([positions]))[0])


def test_dsprites_grid_matches_the_official_layout():
    full = ProceduralDSprites()
    assert len(full) == 737_280
    assert full.factor_names == ("shape", "scale", "orientation", "posX", "posY")
    # Last factor fastest: index 32 is posX = 1, as in the official file.
    np.testing.assert_array_equal(
        full.factors([0, 1, 32]), [[0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 1, 0]]
    )
    one_orientation = ProceduralDSprites(subset={"orientation": [0]})
    assert one_orientation.factor_names == ("shape", "scale", "posX", "posY")


def test_dsprites_images_are_binary_64px_and_deterministic(sprites):
    indices = np.random.default_rng(0).integers(len(sprites), size=50)
    images = sprites.images(indices)
    assert images.shape == (50, 1, 64, 64) and images.dtype == np.float32
    assert set(np.unique(images)) <= {0.0, 1.0}
    assert images.reshape(50, -1).sum(1).min() > 10  # every image shows a sprite
    np.testing.assert_array_equal(images, ProceduralDSprites(subset=SMALL).images(indices))


def test_dsprites_position_is_a_one_pixel_shift(sprites):
    base = sprites.images([classes_index(sprites, shape=2, posX=3, posY=7)])[0, 0]
    right = sprites.images([classes_index(sprites, shape=2, posX=4, posY=7)])[0, 0]
    down = sprites.images([classes_index(sprites, shape=2, posX=3, posY=8)])[0, 0]
    np.testing.assert_array_equal(np.roll(base, 1, axis=1), right)
    np.testing.assert_array_equal(np.roll(base, 1, axis=0), down)


def test_dsprites_sprites_never_leave_the_canvas(sprites):
    for shape in range(3):
        centre = sprites.images(
            [classes_index(sprites, shape=shape, scale=5, orientation=5, posX=15, posY=15)]
        )
        for x, y in [(0, 0), (31, 31), (0, 31), (31, 0)]:
            corner = sprites.images(
                [classes_index(sprites, shape=shape, scale=5, orientation=5, posX=x, posY=y)]
            )
            assert corner.sum() == centre.sum()


def test_dsprites_every_factor_changes_pixels_and_keeps_the_endpoint_quirk(sprites):
    base = dict(shape=2, scale=5, orientation=5, posX=10, posY=10)
    image = sprites.images([classes_index(sprites, **base)])
    for name, other in [
        ("shape", 0),
        ("scale", 0),
        ("orientation", 10),
        ("posX", 11),
        ("posY", 11),
    ]:
        changed = sprites.images([classes_index(sprites, **{**base, name: other})])
        assert not np.array_equal(image, changed), name
    # The official grid includes both 0 and 2*pi, so classes 0 and 39 draw the same sprite.
    first = sprites.images([classes_index(sprites, **{**base, "orientation": 0})])
    last = sprites.images([classes_index(sprites, **{**base, "orientation": 39})])
    np.testing.assert_array_equal(first, last)


def test_dsprites_subset_reports_original_classes(sprites):
    assert len(sprites) == 3 * 2 * 4 * 32 * 32
    factors = sprites.factors(np.arange(len(sprites)))
    assert set(np.unique(factors[:, 1])) == {0, 5}
    assert set(np.unique(factors[:, 2])) == {0, 5, 10, 39}
    assert factors.dtype == np.int64


def test_dsprites_small_images_are_pooled():
    data = ProceduralDSprites(subset=SMALL, image_size=32)
    full = ProceduralDSprites(subset=SMALL)
    small, big = data.images([17, 300]), full.images([17, 300])
    assert small.shape == (2, 1, 32, 32)
    assert 0.0 <= small.min() and small.max() <= 1.0
    np.testing.assert_allclose(small.sum(axis=(2, 3)) * 4, big.sum(axis=(2, 3)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"subset": {"colour": [0]}}, "unknown factor 'colour'"),
        ({"subset": {"shape": [3]}}, r"classes must lie in \[0, 3\)"),
        ({"subset": {"shape": []}}, "keeps no class"),
        ({"image_size": 48}, "must divide 64"),
    ],
)
def test_dsprites_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ProceduralDSprites(**kwargs)


def test_dsprites_bad_indices(sprites):
    with pytest.raises(ValueError, match="indices must lie"):
        sprites.images([len(sprites)])


def test_shapes3d_grid_ranges_and_determinism(scenes):
    assert len(scenes) == 480_000
    assert scenes.factor_names == (
        "floor_hue",
        "wall_hue",
        "object_hue",
        "scale",
        "shape",
        "orientation",
    )
    np.testing.assert_array_equal(scenes.factors([1, 15]), [[0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0]])
    indices = np.random.default_rng(1).integers(len(scenes), size=40)
    images = scenes.images(indices)
    assert images.shape == (40, 3, 32, 32) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    np.testing.assert_array_equal(images, ProceduralShapes3D(image_size=32).images(indices))


def test_shapes3d_every_factor_changes_pixels(scenes):
    base = np.array([[2, 5, 8, 3, 1, 7]])
    image = scenes.render(base)
    for factor in range(6):
        other = base.copy()
        other[0, factor] = (other[0, factor] + 1) % scenes.space.sizes[factor]
        assert np.abs(scenes.render(other) - image).max() > 0.05, scenes.factor_names[factor]


def test_shapes3d_images_are_distinct_on_a_sample(scenes):
    indices = np.random.default_rng(2).choice(len(scenes), size=300, replace=False)
    images = (scenes.images(indices) * 255).round().astype(np.uint8)
    assert len({image.tobytes() for image in images}) == 300


def test_shapes3d_hues_tint_their_own_region(scenes):
    base = np.array([[0, 0, 0, 7, 2, 7]])
    object_changed = base.copy()
    object_changed[0, 2] = 5
    difference = np.abs(scenes.render(object_changed) - scenes.render(base)).sum(1)[0]
    # Only object pixels change: the top rows (wall) and the bottom-left corner (floor) stay.
    assert difference[:5].max() == 0 and difference[-3:, :3].max() == 0
    assert difference.max() > 0.1


def test_evaluation_indices_are_random_distinct_and_seeded():
    indices = evaluation_indices(1000, 200, seed=3)
    assert len(np.unique(indices)) == 200
    assert not np.all(np.diff(indices) > 0)  # not sorted
    np.testing.assert_array_equal(indices, evaluation_indices(1000, 200, seed=3))
    assert not np.array_equal(indices, evaluation_indices(1000, 200, seed=4))
    assert len(evaluation_indices(50, 200, seed=0)) == 50
    with pytest.raises(ValueError, match="must be > 0"):
        evaluation_indices(10, 0, seed=0)


def test_open_dataset_by_name_and_bad_names():
    assert isinstance(open_dataset("shapes3d", 16), ProceduralShapes3D)
    assert open_dataset("dsprites", 16, {"orientation": [0]}).image_shape == (1, 16, 16)
    with pytest.raises(ValueError, match="unknown dataset 'mnist'"):
        open_dataset("mnist")
