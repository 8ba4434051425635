"""The validated, encoded form of one (latents, sources) sample that metrics consume."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from infomec._validation import (
    EncodedColumns,
    as_2d_array,
    check_latents,
    check_same_length,
    encode_columns,
    encode_sources,
    is_discrete_dtype,
)


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
    """

    latents: np.ndarray
    discrete: bool
    sources: EncodedColumns
    source_names: list[str] = field(default_factory=list)
    latent_names: list[str] = field(default_factory=list)

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


def _names(given, count: int, prefix: str, what: str) -> list[str]:
    if given is None:
        return [f"{prefix}{j}" for j in range(count)]
    names = [str(name) for name in np.asarray(given).ravel()]
    if len(names) != count:
        raise ValueError(f"{what} has {len(names)} entries but there are {count} columns")
    return names


def prepare_sample(
    latents,
    sources,
    *,
    discrete_latents: bool | None = None,
    max_source_values: int = 1000,
    source_bins: int | None = None,
    source_names=None,
    latent_names=None,
) -> Sample:
    """Validate and encode one sample (see :func:`infomec.score` for the parameters)."""
    latent_array = check_latents(latents)
    source_array = as_2d_array(sources, "sources")
    check_same_length(latent_array, source_array)
    names = _names(source_names, source_array.shape[1], "s", "source_names")
    encoded = encode_sources(
        source_array, max_source_values=max_source_values, source_bins=source_bins, names=names
    )
    discrete = (
        is_discrete_dtype(latent_array) if discrete_latents is None else bool(discrete_latents)
    )
    return Sample(
        latents=latent_array,
        discrete=discrete,
        sources=encoded,
        source_names=names,
        latent_names=_names(latent_names, latent_array.shape[1], "z", "latent_names"),
    )
