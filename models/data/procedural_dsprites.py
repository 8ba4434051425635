"""A procedural dSprites-style generator: binary 2-D sprites rendered on demand from an index.

The factor grid, its order and the file's value conventions follow the official dSprites
dataset (shape 3, scale 6, orientation 40, posX 32, posY 32; last factor fastest). The pixels
do not: the official heart outline, sprite size and position mapping were never published, so
this is a look-alike, not a copy. The sprites are drawn without anti-aliasing, like the
original.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ._base import GridDataset
from ._factors import block_downsample

DSPRITES_NAMES = ("shape", "scale", "orientation", "posX", "posY")
DSPRITES_SIZES = (3, 6, 40, 32, 32)
SHAPE_NAMES = ("square", "ellipse", "heart")
SCALE_VALUES = np.linspace(0.5, 1.0, 6)
# The official grid keeps both ends, so orientation classes 0 and 39 draw the same angle.
ORIENTATION_VALUES = np.linspace(0.0, 2.0 * np.pi, 40)
POSITION_VALUES = np.linspace(0.0, 1.0, 32)

NATIVE_SIZE = 64
# Sprite centres run over the central half of the canvas, one pixel per position step, so a
# position change is an exact integer shift of a cached mask.
_FIRST_CENTRE = 16
_SPRITE_PIXELS = 16.0  # side of a scale-1 square
_WINDOW = 24  # every rotated sprite at scale 1 fits in a 24 x 24 window around its centre
_SUPERSAMPLE = 4


def _inside(shape: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Inside test for one unit sprite (about 1 wide, centred on 0) at points (x, y), y up."""
    if shape == 0:
        return np.maximum(np.abs(x), np.abs(y)) <= 0.5
    if shape == 1:
        return (x / 0.6) ** 2 + (y / 0.3) ** 2 <= 1.0
    # The implicit heart (u^2 + v^2 - 1)^3 <= u^2 v^3 spans about 2.3 across; rescale it to
    # about 1 and move its bounding box centre to the origin.
    u = x * 2.3
    v = y * 2.3 + 0.115
    return (u * u + v * v - 1.0) ** 3 - u * u * v**3 <= 0.0


def render_sprite_masks(shape: int, scale: float, angles: np.ndarray) -> np.ndarray:
    """Render binary sprites of one shape and scale at several angles, centred in a window.

    Parameters
    ----------
    shape : int
        0 square, 1 ellipse, 2 heart.
    scale : float
        Sprite scale (1 means a 16-pixel square).
    angles : ndarray of shape (n,)
        Counter-clockwise rotations in radians.

    Returns
    -------
    ndarray of shape (n, 24, 24), uint8
        0/1 masks; a pixel is on when most of its 4x4 sub-samples are inside the shape.
    """
    offsets = (np.arange(_WINDOW * _SUPERSAMPLE) + 0.5) / _SUPERSAMPLE - _WINDOW / 2
    cols, rows = np.meshgrid(offsets, offsets)
    # Image rows grow downwards; the shape equations are written with y up.
    x, y = cols[None], -rows[None]
    angles = np.asarray(angles, dtype=np.float64)[:, None, None]
    cos, sin = np.cos(angles), np.sin(angles)
    size = scale * _SPRITE_PIXELS
    x_unit = (cos * x + sin * y) / size
    y_unit = (-sin * x + cos * y) / size
    inside = _inside(shape, x_unit, y_unit).astype(np.float32)
    n = len(angles)
    coverage = inside.reshape(n, _WINDOW, _SUPERSAMPLE, _WINDOW, _SUPERSAMPLE).mean(axis=(2, 4))
    return (coverage >= 0.5).astype(np.uint8)


class ProceduralDSprites(GridDataset):
    """dSprites-style binary sprites rendered on demand from their flat index.

    Parameters
    ----------
    subset : mapping of str to sequence of int, optional
        Factor name -> classes to keep, e.g. ``{"orientation": range(0, 40, 4)}``. Factors are
        ``shape`` (3), ``scale`` (6), ``orientation`` (40), ``posX`` (32), ``posY`` (32).
        A factor reduced to one class is dropped from :attr:`factor_names`.
    image_size : int, default=64
        Output size; must divide 64. Smaller images are 64 x 64 renders average-pooled, so
        their edge pixels are grey rather than binary.

    Examples
    --------
    >>> data = ProceduralDSprites(subset={"orientation": [0, 10]}, image_size=32)
    >>> len(data), data.image_shape
    (36864, (1, 32, 32))
    >>> data.images([0, 5]).shape
    (2, 1, 32, 32)
    """

    def __init__(
        self, subset: Mapping[str, Sequence[int]] | None = None, image_size: int = NATIVE_SIZE
    ) -> None:
        if image_size < 1 or NATIVE_SIZE % image_size:
            raise ValueError(f"image size must divide {NATIVE_SIZE}, got {image_size}")
        super().__init__(DSPRITES_NAMES, DSPRITES_SIZES, subset)
        self.image_size = image_size
        self.image_shape = (1, image_size, image_size)
        shapes, scales, orientations = self.kept_classes[:3]
        # Only the (shape, scale, orientation) masks the subset can reach are rendered;
        # every image is then one mask pasted at an integer offset.
        self._masks = np.zeros((3, 6, 40, _WINDOW, _WINDOW), dtype=np.uint8)
        for shape in shapes:
            for scale in scales:
                self._masks[shape, scale, orientations] = render_sprite_masks(
                    int(shape), SCALE_VALUES[scale], ORIENTATION_VALUES[orientations]
                )

    def factor_values(self, classes: np.ndarray) -> np.ndarray:
        """Convert original classes of every factor (n, 5) to the official dSprites values."""
        classes = np.asarray(classes, dtype=np.int64)
        return np.stack(
            [
                classes[:, 0] + 1.0,  # the official file numbers shapes 1, 2, 3
                SCALE_VALUES[classes[:, 1]],
                ORIENTATION_VALUES[classes[:, 2]],
                POSITION_VALUES[classes[:, 3]],
                POSITION_VALUES[classes[:, 4]],
            ],
            axis=-1,
        )

    def binary_images(self, classes: np.ndarray) -> np.ndarray:
        """Render 64 x 64 uint8 0/1 images, shape (n, 64, 64), from classes of every factor."""
        classes = np.asarray(classes, dtype=np.int64)
        n = len(classes)
        masks = self._masks[classes[:, 0], classes[:, 1], classes[:, 2]]
        top = _FIRST_CENTRE + classes[:, 4] - _WINDOW // 2  # posY -> row
        left = _FIRST_CENTRE + classes[:, 3] - _WINDOW // 2  # posX -> column
        window = np.arange(_WINDOW)
        rows = (top[:, None] + window)[:, :, None]
        cols = (left[:, None] + window)[:, None, :]
        out = np.zeros((n, NATIVE_SIZE, NATIVE_SIZE), dtype=np.uint8)
        out[np.arange(n)[:, None, None], rows, cols] = masks
        return out

    def render(self, classes: np.ndarray) -> np.ndarray:
        images = self.binary_images(classes)[:, None].astype(np.float32)
        return block_downsample(images, self.image_size)
