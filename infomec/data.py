"""The validated, encoded form of one (latents, sources) sample that metrics consume."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from infomec._frameworks import column_names
from infomec._validation import (
    EncodedColumns,
    as_2d_array,
    check_finite,
    check_latents,
    check_names,
    check_optional_bool,
    check_same_length,
    encode_columns,
    encode_sources,
    exact_integer_latents,
    hint_discrete_codes,
    is_discrete_dtype,
    warn,
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
    """Validate and encode one sample (see :func:`infomec.score` for the parameters).

    Names default to a DataFrame's column names, else ``s0 ..`` / ``z0 ..``. Float
    latents that look like discrete codes get a hint (when ``discrete_latents`` is not
    given); 64-bit integer latents beyond +-2**53 are shifted per column
    (:func:`~infomec._validation.exact_integer_latents`).
    """
    discrete_latents = check_optional_bool(discrete_latents, "discrete_latents")
    latent_array = as_2d_array(latents, "latents", finite=False)
    source_array = as_2d_array(sources, "sources", finite=False)
    check_same_length(latent_array, source_array)
    given_latent_names = column_names(latents) if latent_names is None else latent_names
    given_source_names = column_names(sources) if source_names is None else source_names
    latent_names = check_names(given_latent_names, latent_array.shape[1], "z", "latent_names")
    names = check_names(given_source_names, source_array.shape[1], "s", "source_names")
    # Messages name a column by position unless the user named the columns.
    latent_array = check_latents(latent_array, None if given_latent_names is None else latent_names)
    check_finite(source_array, "sources", None if given_source_names is None else names)
    encoded = encode_sources(
        source_array,
        max_source_values=max_source_values,
        source_bins=source_bins,
        names=names,
        latents=latent_array,
    )
    if discrete_latents is None:
        discrete = is_discrete_dtype(latent_array)
        if not discrete:
            hint_discrete_codes(latent_array)
    else:
        discrete = discrete_latents
    return Sample(
        latents=exact_integer_latents(latent_array),
        discrete=discrete,
        sources=encoded,
        source_names=names,
        latent_names=latent_names,
    )


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


def _plain(value):
    """A numpy scalar as the Python value it holds (for messages: 102, not np.int64(102))."""
    return value.item() if isinstance(value, np.generic) else value


def _check_test_labels_seen(joint: Sample, n_train: int, test_sources: np.ndarray) -> None:
    """Held-out families classify test rows with labels learnt on training rows.

    A test source none of whose values occurs in training (codes shifted, labels spelt
    differently) would score 0 without a word: refused. Some unseen values (rare
    classes) are legitimate but lower every accuracy: a warning when they hold at least
    a tenth of the test rows.
    """
    codes = joint.sources.codes
    for k, name in enumerate(joint.source_names):
        seen = np.zeros(int(joint.sources.cardinalities[k]), dtype=bool)
        seen[codes[k, :n_train]] = True
        unseen = ~seen[codes[k, n_train:]]
        if unseen.all():
            raise ValueError(
                f"test sources column {name!r} shares no value with the training sources "
                f"(e.g. {_plain(test_sources[0, k])!r} in the test rows); both must use the "
                "same labels"
            )
        if unseen.mean() >= 0.1:
            warn(
                f"{unseen.mean():.0%} of the test rows of source {name!r} hold values never "
                f"seen in training (e.g. {_plain(test_sources[int(np.argmax(unseen)), k])!r}): "
                "held-out accuracies count them as errors"
            )


def prepare_held_out(
    latents,
    sources,
    test_latents,
    test_sources,
    *,
    discrete_latents: bool | None,
    max_source_values: int,
    source_bins: int | None,
    source_names=None,
    latent_names=None,
) -> HeldOut:
    """Validate explicit training and test arrays and encode them jointly."""
    train_latents = check_latents(latents)
    test_latent_array = check_latents(test_latents)
    if train_latents.shape[1] != test_latent_array.shape[1]:
        raise ValueError(
            f"test latents have {test_latent_array.shape[1]} columns but latents have "
            f"{train_latents.shape[1]}"
        )
    train_sources = as_2d_array(sources, "sources")
    test_source_array = as_2d_array(test_sources, "test sources")
    if train_sources.shape[1] != test_source_array.shape[1]:
        raise ValueError(
            f"test sources have {test_source_array.shape[1]} columns but sources have "
            f"{train_sources.shape[1]}"
        )
    check_same_length(test_latent_array, test_source_array, context="test ")
    joint = prepare_sample(
        np.concatenate([train_latents, test_latent_array]),
        np.concatenate([train_sources, test_source_array]),
        discrete_latents=(
            is_discrete_dtype(train_latents) if discrete_latents is None else discrete_latents
        ),
        max_source_values=max_source_values,
        source_bins=source_bins,
        source_names=source_names,
        latent_names=latent_names,
    )
    n_train = train_latents.shape[0]
    _check_test_labels_seen(joint, n_train, test_source_array)
    rows = np.arange(joint.n_samples)
    return HeldOut(
        train=_rows(joint, rows[:n_train]), test=_rows(joint, rows[n_train:]), explicit=True
    )
