"""A procedural Shapes3D-style renderer: an object in a room, 64 x 64 RGB, from an index.

The factor grid and order follow ``3dshapes.h5`` (floor hue 10, wall hue 10, object hue 10,
scale 8, shape 4, orientation 15; orientation fastest). The scene is a cheap 2.5-D drawing,
not a 3-D render: geometry depends only on (scale, shape, orientation), so it is drawn once
per combination into per-region coverage-times-shading maps and every image is a tint of one
of them by three hues.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ._base import GridDataset

SHAPES3D_NAMES = ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
SHAPES3D_SIZES = (10, 10, 10, 8, 4, 15)
SHAPE_NAMES = ("cube", "cylinder", "sphere", "capsule")
HUE_VALUES = np.arange(10) / 10.0
SCALE_VALUES = np.linspace(0.75, 1.25, 8)
ORIENTATION_DEGREES = np.linspace(-30.0, 30.0, 15)

_SUPERSAMPLE = 4
_SATURATION = 0.85
_FLOOR, _WALL, _OBJECT = 0, 1, 2


def hsv_to_rgb(hue: np.ndarray, saturation: float, value: float) -> np.ndarray:
    """Convert hues in [0, 1) at fixed saturation and value to RGB, shape (..., 3)."""
    hue = np.asarray(hue, dtype=np.float64)
    channel = (np.array([5.0, 3.0, 1.0]) + hue[..., None] * 6.0) % 6.0
    weight = np.clip(np.minimum(channel, 4.0 - channel), 0.0, 1.0)
    return value - value * saturation * weight


def _object_region(shape: int, scale: float, angle: float, u: np.ndarray, v: np.ndarray):
    """Return (inside mask, shading) of the object at points (u right, v down) in [0, 1]."""
    height = 0.28 * scale
    centre, base = 0.5, 0.85
    light = -angle  # the light is fixed in the room while the camera turns
    if shape == 0:
        # A cube seen at azimuth angle: two side faces whose widths trade off, and a lid.
        phi = np.pi / 4 + angle
        left_w, right_w = height * abs(np.cos(phi)), height * abs(np.sin(phi))
        left = centre - (left_w + right_w) / 2
        body_top = base - 0.8 * height
        in_x = (u >= left) & (u <= left + left_w + right_w)
        body = in_x & (v >= body_top) & (v <= base)
        lid = in_x & (v >= body_top - 0.2 * height) & (v < body_top)
        shade = np.where(u < left + left_w, 0.7, 0.95)
        return body | lid, np.where(lid, 1.0, shade)
    if shape == 1:
        # An upright cylinder with a lit elliptical cap and Lambert shading across its width.
        radius, top = 0.4 * height, base - 0.9 * height
        across = np.clip((u - centre) / radius, -1.0, 1.0)
        body = (np.abs(u - centre) <= radius) & (v >= top) & (v <= base)
        cap = ((u - centre) / radius) ** 2 + ((v - top) / (0.3 * radius)) ** 2 <= 1.0
        side = 0.55 + 0.45 * np.cos(np.arcsin(across) - light)
        return body | cap, np.where(cap, 1.0, side)
    if shape == 2:
        radius = 0.45 * height
        du, dv = (u - centre) / radius, (v - (base - radius)) / radius
        inside = du * du + dv * dv <= 1.0
        normal_z = np.sqrt(np.clip(1.0 - du * du - dv * dv, 0.0, 1.0))
        light_dir = np.array([np.sin(light) * 0.6, -0.5, 0.62])
        light_dir /= np.linalg.norm(light_dir)
        lambert = du * light_dir[0] + dv * light_dir[1] + normal_z * light_dir[2]
        return inside, 0.45 + 0.55 * np.clip(lambert, 0.0, 1.0)
    # A capsule lying on the floor; its apparent length follows the azimuth.
    radius = 0.22 * height
    half_length = 0.55 * height * (0.4 + 0.6 * abs(np.cos(angle + 0.3)))
    axis_v = base - radius
    nearest_u = np.clip(u, centre - half_length, centre + half_length)
    distance = np.hypot(u - nearest_u, v - axis_v) / radius
    inside = distance <= 1.0
    return inside, 0.55 + 0.45 * np.cos(np.clip((v - axis_v) / radius, -1.0, 1.0) * np.pi / 2)


def render_geometry(shape: int, scale: float, angle: float, image_size: int) -> np.ndarray:
    """Render the region maps of one (shape, scale, orientation) at ``image_size``.

    Returns
    -------
    ndarray of shape (3, image_size, image_size), float32
        For the floor, wall and object: the coverage of each pixel by the region times the
        region's shading, averaged over 4x4 sub-samples (so edges are anti-aliased).
    """
    n = image_size * _SUPERSAMPLE
    grid = (np.arange(n) + 0.5) / n
    u, v = np.meshgrid(grid, grid)
    # The room corner slides and the floor line tilts as the camera turns, so orientation
    # is visible even for the rotationally symmetric objects.
    corner = 0.5 - 0.8 * np.sin(angle)
    horizon = 0.5 + 0.25 * np.abs(u - corner)
    floor = v >= horizon
    floor_shade = 0.65 + 0.35 * np.clip((v - horizon) / np.maximum(1.0 - horizon, 1e-6), 0, 1)
    height = 0.28 * scale
    shadow = ((u - 0.53) / (0.6 * height)) ** 2 + ((v - 0.85) / (0.08 * height)) ** 2 <= 1.0
    floor_shade = np.where(shadow, 0.6 * floor_shade, floor_shade)
    wall_shade = np.where(u < corner, 0.8, 1.0)
    obj, obj_shade = _object_region(shape, scale, angle, u, v)
    maps = np.zeros((3, n, n), dtype=np.float64)
    maps[_FLOOR] = (floor & ~obj) * floor_shade
    maps[_WALL] = (~floor & ~obj) * wall_shade
    maps[_OBJECT] = obj * obj_shade
    s = _SUPERSAMPLE
    return maps.reshape(3, image_size, s, image_size, s).mean(axis=(2, 4)).astype(np.float32)


class ProceduralShapes3D(GridDataset):
    """Shapes3D-style RGB scenes rendered on demand from their flat index.

    Parameters
    ----------
    subset : mapping of str to sequence of int, optional
        Factor name -> classes to keep. Factors are ``floor_hue`` (10), ``wall_hue`` (10),
        ``object_hue`` (10), ``scale`` (8), ``shape`` (4), ``orientation`` (15).
    image_size : int, default=64
        Output height and width.

    Examples
    --------
    >>> data = ProceduralShapes3D(image_size=32)
    >>> len(data), data.images([0, 479_999]).shape
    (480000, (2, 3, 32, 32))
    """

    def __init__(
        self, subset: Mapping[str, Sequence[int]] | None = None, image_size: int = 64
    ) -> None:
        if image_size < 4:
            raise ValueError(f"image size must be >= 4, got {image_size}")
        super().__init__(SHAPES3D_NAMES, SHAPES3D_SIZES, subset)
        self.image_size = image_size
        self.image_shape = (3, image_size, image_size)
        # Geometry maps are drawn lazily, the first time a combination is asked for.
        self._geometry = np.zeros((8, 4, 15, 3, image_size, image_size), dtype=np.float32)
        self._drawn = np.zeros((8, 4, 15), dtype=bool)
        self._colours = hsv_to_rgb(HUE_VALUES, _SATURATION, 1.0).astype(np.float32)

    def _ensure_geometry(self, keys: np.ndarray) -> None:
        for scale, shape, orientation in np.unique(keys, axis=0):
            if not self._drawn[scale, shape, orientation]:
                self._geometry[scale, shape, orientation] = render_geometry(
                    int(shape),
                    SCALE_VALUES[scale],
                    np.deg2rad(ORIENTATION_DEGREES[orientation]),
                    self.image_size,
                )
                self._drawn[scale, shape, orientation] = True

    def factor_values(self, classes: np.ndarray) -> np.ndarray:
        """Convert classes of every factor (n, 6) to values like ``3dshapes.h5``'s labels."""
        classes = np.asarray(classes, dtype=np.int64)
        return np.stack(
            [
                HUE_VALUES[classes[:, 0]],
                HUE_VALUES[classes[:, 1]],
                HUE_VALUES[classes[:, 2]],
                SCALE_VALUES[classes[:, 3]],
                classes[:, 4].astype(np.float64),
                ORIENTATION_DEGREES[classes[:, 5]],
            ],
            axis=-1,
        )

    def render(self, classes: np.ndarray) -> np.ndarray:
        classes = np.asarray(classes, dtype=np.int64)
        self._ensure_geometry(classes[:, 3:6])
        maps = self._geometry[classes[:, 3], classes[:, 4], classes[:, 5]]  # (n, 3, h, w)
        colours = self._colours[classes[:, :3]]  # (n, region, rgb)
        images = np.einsum("nrhw,nrc->nchw", maps, colours)
        return np.clip(images, 0.0, 1.0)
