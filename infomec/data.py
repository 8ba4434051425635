"""The validated, encoded form of one (latents, sources) sample that metrics consume."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from infomec.inputs.encode import EncodedColumns, encode_columns


@dataclass(frozen=True)
class Sample:
    """Aligned latents and label-encoded sources, checked once at the API boundary.

    Attributes
    ----------
    latents : ndarray of shape (n_samples, n_latents)
        As given (integer, bool or float dtype); never copied unless needed.
    discrete : bool
        Whether the latents are treated as discrete codes.
    sources : EncodedColumns
        Label codes of each source column, shape (n_sources, n_samples).
    source_names, latent_names : list of str
    digest : dict
        How the input was read (:mod:`infomec.inputs.digest`); empty for samples built
        by hand.
    """

    latents: np.ndarray
    discrete: bool
    sources: EncodedColumns
    source_names: list[str] = field(default_factory=list)
    latent_names: list[str] = field(default_factory=list)
    digest: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def n_samples(self) -> int:
        return int(self.latents.shape[0])

    @property
    def n_latents(self) -> int:
        return int(self.latents.shape[1])

    @property
    def n_sources(self) -> int:
        return int(self.sources.codes.shape[0])

    @cached_property
    def latent_codes(self) -> EncodedColumns:
        """Label codes of each latent column (used when the latents are discrete)."""
        return encode_columns(self.latents)


@dataclass(frozen=True)
class HeldOut:
    """Training and evaluation rows for metrics that fit a model (DCI, SAP, ...).

    Both parts share one label encoding of sources and latents, so codes mean the same
    thing on either side. ``explicit`` says whether the user passed the test arrays
    (rows are then used exactly as given, in order) or they come from a seeded split.
    """

    train: Sample
    test: Sample
    explicit: bool


def _rows(sample: Sample, rows: np.ndarray) -> Sample:
    return Sample(
        latents=sample.latents[rows],
        discrete=sample.discrete,
        sources=EncodedColumns(sample.sources.codes[:, rows], sample.sources.cardinalities),
        source_names=sample.source_names,
        latent_names=sample.latent_names,
        digest=sample.digest,
    )


def split_sample(sample: Sample, *, test_size: float = 1 / 3, seed: int = 0) -> HeldOut:
    """Seeded random split of one sample into training and test rows (both kept in order)."""
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
    n_test = int(round(sample.n_samples * test_size))
    if n_test < 1 or n_test > sample.n_samples - 1:
        raise ValueError(
            f"test_size={test_size} leaves no training or no test rows of {sample.n_samples}"
        )
    permutation = np.random.default_rng(seed).permutation(sample.n_samples)
    test_rows = np.sort(permutation[:n_test])
    train_rows = np.sort(permutation[n_test:])
    return HeldOut(train=_rows(sample, train_rows), test=_rows(sample, test_rows), explicit=False)
