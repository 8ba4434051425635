"""The input pipeline: read -> interpret -> check -> encode, once, for every door.

``infomec.score``, the metric functions, :class:`~infomec.Collector`, ``report``,
``sweep``, the CLI and the trainer's evaluation all reach the metrics through
:func:`prepare_sample` (and :func:`prepare_held_out` for explicit test rows), so the
same values give the same encoding and the same digest whichever door they came
through. Warnings raised while an input is interpreted are recorded in its digest.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np

from infomec._validation import check_optional_bool
from infomec._warnings import InfoMECWarning, warn
from infomec.data import HeldOut, Sample, _rows
from infomec.inputs.check import (
    check_names,
    check_same_length,
    hint_discrete_codes,
    is_discrete_dtype,
    many_valued_integer_latents,
    refuse_identifier,
    review_pruning,
    row_identifier,
)
from infomec.inputs.digest import (
    MAX_LISTED_COLUMNS,
    latent_records,
    mark_pruning,
    source_records,
)
from infomec.inputs.encode import encode_sources, exact_integer_latents, in_resample
from infomec.inputs.frameworks import column_names
from infomec.inputs.interpret import as_2d_array, check_latents, source_columns
from infomec.presets import PruningRule, resolve_settings


def _refuse_identifier_latents(latents: np.ndarray, names: list[str]) -> None:
    """A latent that is a row identifier (distinct integers in an arithmetic sequence)."""
    if latents.dtype.kind not in "iuf" or latents.shape[0] < 3:
        return
    # Cheap screens first (vectorised over wide inputs): an id column has different,
    # integer values in its first two rows.
    head = latents[:2].astype(np.float64)
    with np.errstate(invalid="ignore"):
        candidates = np.flatnonzero((head[0] != head[1]) & (head == np.round(head)).all(axis=0))
    for j in candidates:
        column = latents[:, j]
        if row_identifier(column) is not None:
            refuse_identifier(column, repr(names[j]), "latents")


def _discrete(latents: np.ndarray, given: bool | None, names: list[str]) -> tuple[bool, str]:
    """Whether latents are scored as codes, and why (recorded in the digest)."""
    if given is not None:
        return given, f"discrete_latents={given}"
    if is_discrete_dtype(latents):
        many = many_valued_integer_latents(latents, names)
        if many:
            warn(
                f"latents {', '.join(many[:5])}{' ...' if len(many) > 5 else ''} are integers "
                "with many distinct values: they are scored as discrete codes, where plug-in "
                "mutual information saturates; if they are fixed-point or rank values, pass "
                "discrete_latents=False (CLI --continuous)"
            )
        return True, f"{latents.dtype} dtype"
    hint_discrete_codes(latents)
    return False, f"{latents.dtype} dtype"


class _Recorded:
    """Warnings raised inside the block, recorded for the digest and raised again."""

    def __enter__(self) -> list[str]:
        self._catcher = warnings.catch_warnings(record=True)
        self._caught = self._catcher.__enter__()
        warnings.simplefilter("always")
        self.messages: list[str] = []
        return self.messages

    def __exit__(self, *exc_info) -> None:
        self._catcher.__exit__(*exc_info)
        for caught in self._caught:
            if issubclass(caught.category, InfoMECWarning):
                self.messages.append(str(caught.message))
            warn(str(caught.message), caught.category)


def digest_with_pruning(sample: Sample, pruning: str) -> dict:
    """The sample's input digest with each latent's pruning status under ``pruning``
    (and the warnings of :func:`~infomec.inputs.check.review_pruning`)."""
    if not sample.digest:  # a resample (or a hand-built sample): no digest to annotate
        return {}
    digest = copy.deepcopy(sample.digest)
    with _Recorded() as messages:
        active, notes = review_pruning(
            sample.latents, PruningRule.parse(pruning), sample.latent_names
        )
    digest.setdefault("warnings", []).extend(messages)
    mark_pruning(digest, active, pruning, notes)
    return digest


def inspect_inputs(
    latents=None,
    sources=None,
    *,
    discrete_latents: bool | None = None,
    max_source_values: int = 1000,
    source_bins: int | None = None,
    pruning: str | None = None,
    preset: str = "reference",
) -> dict:
    """The input digest of latents and/or sources, without scoring.

    With both, exactly what :func:`infomec.score` records (pruning by ``pruning``, or
    the preset's rule); with one, the columns of that one as they would be read.

    Examples
    --------
    >>> digest = inspect_inputs(sources=np.array([["a"], [" a"], ["b"], ["b"]] * 3))
    >>> digest["sources"][0]["distinct"], digest["sources"][0]["notes"]
    (2, ['1 labels stripped of surrounding spaces'])
    """
    if latents is not None and sources is not None:
        sample = prepare_sample(
            latents,
            sources,
            discrete_latents=discrete_latents,
            max_source_values=max_source_values,
            source_bins=source_bins,
        )
        if pruning is None:
            pruning = resolve_settings(preset, sample.discrete)["pruning"]
        return digest_with_pruning(sample, pruning)
    if latents is None and sources is None:
        raise ValueError("give latents, sources or both")
    with _Recorded() as messages:
        if latents is not None:
            array = check_latents(as_2d_array(latents, "latents", finite=False))
            names = check_names(column_names(latents), array.shape[1], "z", "latent_names")
            discrete, why = _discrete(array, discrete_latents, names)
            records = {"latents": latent_records(array, names, discrete, why)}
        else:
            array = as_2d_array(sources, "sources", finite=False)
            names = check_names(column_names(sources), array.shape[1], "s", "source_names")
            columns, notes = source_columns(array, "sources", names)
            records = {"sources": source_records(columns, names, notes)}
    return {"rows": int(array.shape[0]), "files": {}, **records, "warnings": messages}


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
    """Read, interpret, check and encode one sample (parameters as :func:`infomec.score`).

    Names default to a DataFrame's column names, else ``s0 ..`` / ``z0 ..``. The
    returned :class:`~infomec.data.Sample` carries the input digest
    (:mod:`infomec.inputs.digest`).
    """
    discrete_latents = check_optional_bool(discrete_latents, "discrete_latents")
    recorder = _Recorded()
    with recorder as messages:
        latent_array = as_2d_array(latents, "latents", finite=False)
        source_array = as_2d_array(sources, "sources", finite=False)
        check_same_length(latent_array, source_array)
        given_latent_names = column_names(latents) if latent_names is None else latent_names
        given_source_names = column_names(sources) if source_names is None else source_names
        latent_names = check_names(given_latent_names, latent_array.shape[1], "z", "latent_names")
        names = check_names(given_source_names, source_array.shape[1], "s", "source_names")
        # Messages name a column by position unless the user named the columns.
        latent_array = check_latents(
            latent_array, None if given_latent_names is None else latent_names
        )
        columns, notes = source_columns(
            source_array, "sources", None if given_source_names is None else names
        )
        _refuse_identifier_latents(latent_array, latent_names)
        encoded = encode_sources(
            columns,
            max_source_values=max_source_values,
            source_bins=source_bins,
            names=names,
            latents=latent_array,
            notes=notes,
        )
        discrete, why = _discrete(latent_array, discrete_latents, latent_names)
    if in_resample():  # the full sample's digest was recorded; resamples skip its cost
        digest: dict[str, Any] = {}
    else:
        digest = _digest(latent_array, latent_names, discrete, why, columns, names, notes)
        digest["warnings"] = messages
    return Sample(
        latents=exact_integer_latents(latent_array),
        discrete=discrete,
        sources=encoded,
        source_names=names,
        latent_names=latent_names,
        digest=digest,
    )


def _digest(latent_array, latent_names, discrete, why, columns, names, notes) -> dict[str, Any]:
    """The input digest of one prepared sample (:mod:`infomec.inputs.digest`)."""
    digest: dict[str, Any] = {
        "rows": int(latent_array.shape[0]),
        "files": {},
        "latents": latent_records(latent_array, latent_names, discrete, why),
        "sources": source_records(columns, names, notes),
    }
    if latent_array.shape[1] > MAX_LISTED_COLUMNS:
        digest["latents_not_listed"] = latent_array.shape[1] - MAX_LISTED_COLUMNS
    return digest


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
