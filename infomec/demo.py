"""The embedded example: a factorial grid of sources and two representations of it.

``infomec demo`` scores a *disentangled* representation (each informative latent is
one source plus a little noise; two latents are nearly dead) and an *entangled* one
(the same informative latents mixed by a random rotation), so a new user sees at once
what InfoM / InfoE / InfoC reward.
"""

from __future__ import annotations

import numpy as np

SOURCE_NAMES = ("shape", "scale", "orientation", "position")
SOURCE_SIZES = (3, 6, 10, 8)


def make_example(n_samples: int = 5000, seed: int = 0) -> dict[str, np.ndarray]:
    """Build the demo data set.

    Parameters
    ----------
    n_samples : int, default=5000
        Rows drawn uniformly from the 3 x 6 x 10 x 8 factor grid.
    seed : int, default=0

    Returns
    -------
    dict
        ``sources`` (int, (n, 4)), ``source_names``, ``disentangled`` and ``entangled``
        (float, (n, 6)).

    Examples
    --------
    >>> example = make_example(100)
    >>> example["sources"].shape, example["disentangled"].shape
    ((100, 4), (100, 6))
    """
    rng = np.random.default_rng(seed)
    sources = np.column_stack([rng.integers(0, size, n_samples) for size in SOURCE_SIZES])
    scaled = sources / (np.array(SOURCE_SIZES) - 1.0)
    informative = scaled + 0.05 * rng.standard_normal(scaled.shape)
    dead = 1e-3 * rng.standard_normal((n_samples, 2))
    disentangled = np.hstack([informative, dead])
    rotation, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    entangled = np.hstack([informative @ rotation, dead])
    return {
        "sources": sources,
        "source_names": np.array(SOURCE_NAMES),
        "disentangled": disentangled,
        "entangled": entangled,
    }
