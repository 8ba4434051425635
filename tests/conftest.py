"""Shared fixtures: seeded data generators and a one-time numba warm-up."""

from __future__ import annotations

import numpy as np
import pytest

import infomec


@pytest.fixture(scope="session", autouse=True)
def warm_numba_kernels():
    """Compile (or load from cache) every kernel once, so tests time only themselves."""
    rng = np.random.default_rng(0)
    sources = rng.integers(0, 3, size=(50, 2))
    latents = sources + 0.1 * rng.standard_normal((50, 2))
    infomec.score(latents=latents, sources=sources)
    infomec.score(latents=sources.copy(), sources=sources)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def factorial_sample(rng: np.random.Generator, n_samples: int = 3000, sizes=(3, 5, 4)):
    """Sources drawn uniformly from a factor grid."""
    return np.column_stack([rng.integers(0, size, n_samples) for size in sizes])


def disentangled_code(rng, sources, noise: float = 0.05) -> np.ndarray:
    """One continuous latent per source: its scaled value plus a little noise."""
    scaled = sources / np.maximum(sources.max(axis=0), 1)
    return scaled + noise * rng.standard_normal(sources.shape)
