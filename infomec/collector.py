"""``infomec.Collector``: accumulate (latents, sources) batch by batch, score at the end.

Made for evaluation loops: call :meth:`Collector.update` with each batch's latents and
sources (numpy, torch tensors on any device, JAX arrays, pandas objects), then
:meth:`Collector.score` or :meth:`Collector.report` once. Without ``max_samples`` the
result equals one :func:`infomec.score` call on the concatenated batches. With
``max_samples`` the collector keeps a uniform random sample of that many rows (a seeded
reservoir), so memory stays bounded however long the loop runs.

The reservoir gives every row seen a random key and keeps the rows with the
``max_samples`` smallest keys: every subset of that size is equally likely, and rows of
latents and sources are kept or dropped together. Keys come from one
``numpy.random.Generator`` stream, one per row in arrival order, so the sample depends
on the seed and the sequence of rows, not on how they were split into batches. Rows
whose key cannot make the cut are dropped on arrival; the kept rows are buffered up to
``2 * max_samples`` and cut back to ``max_samples`` when the buffer fills, which costs
O(1) per row on average.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from infomec._frameworks import (
    check_aligned_rows,
    column_names,
    frame_columns,
    is_dataframe,
    to_numpy,
)
from infomec.result import ScoreResult

__all__ = ["Collector"]

# Latents: discrete and continuous dtypes are scored differently, so they cannot mix.
# Sources: numbers and strings cannot be concatenated meaningfully.
_DTYPE_GROUPS = {
    "latents": {**dict.fromkeys("biu", "integer or boolean"), "f": "floating-point"},
    "sources": {**dict.fromkeys("biuf", "numeric"), **dict.fromkeys("US", "string")},
}


class _TextCodes:
    """Codes for the text columns of DataFrame sources that mix text and numbers.

    One call turns such a column into the rank of each value among the call's sorted
    distinct values (see :mod:`infomec._frameworks`); batches hold different values, so
    here a value gets a number when first seen, and :meth:`ranks` turns the numbers into
    the ranks of the sorted values seen, which is what one call on all rows would give.
    """

    def __init__(self, text: list[bool]) -> None:
        self.text = text
        self.numbers: list[dict[str, int]] = [{} for _ in text]

    def encode(self, columns: list[np.ndarray]) -> tuple[np.ndarray, _TextCodes]:
        """One batch's columns with text as numbers, and the codes including its values.

        ``self`` is left as it is, so a batch refused later leaves no value behind.
        """
        extended = _TextCodes(self.text)
        extended.numbers = [dict(numbers) for numbers in self.numbers]
        coded = []
        for column, is_text, numbers in zip(columns, self.text, extended.numbers, strict=True):
            if is_text:
                values, inverse = np.unique(column, return_inverse=True)
                lookup = [numbers.setdefault(value, len(numbers)) for value in values.tolist()]
                column = np.asarray(lookup, dtype=np.int64)[inverse.ravel()]
            coded.append(column)
        return np.column_stack(coded), extended

    def ranks(self, array: np.ndarray) -> np.ndarray:
        ranked = array.copy()
        for j, (is_text, numbers) in enumerate(zip(self.text, self.numbers, strict=True)):
            if is_text:
                rank_of = np.empty(len(numbers), dtype=np.int64)
                rank_of[[numbers[value] for value in sorted(numbers)]] = np.arange(len(numbers))
                ranked[:, j] = rank_of[array[:, j].astype(np.int64)]
        return ranked


def _mixed_text(values: Any, name: str) -> tuple[list[np.ndarray], list[bool]] | None:
    """The columns and text flags of DataFrame sources mixing text and numbers, else None."""
    if name != "sources" or not is_dataframe(values):
        return None
    columns = frame_columns(values, name)
    text = [column.dtype.kind == "U" for column in columns]
    return (columns, text) if any(text) and not all(text) else None


@dataclasses.dataclass
class _Column:
    """The accepted batches of one array (latents or sources) and what they must share."""

    name: str
    chunks: list[np.ndarray] = dataclasses.field(default_factory=list)
    width: int | None = None
    group: str | None = None
    names: list[str] | None = None
    text_codes: _TextCodes | None = None
    pending_text_codes: _TextCodes | None = None  # with the batch being checked

    def _read(self, values: Any, batch: int) -> np.ndarray:
        """``values`` as a numpy copy (callers may reuse their buffers)."""
        self.pending_text_codes = None
        mixed = _mixed_text(values, self.name)
        first = self.width is None
        if mixed is None and self.text_codes is None:
            return np.array(to_numpy(values, self.name))
        if mixed is None or (self.text_codes is None and not first):
            raise ValueError(
                f"batch {batch}: {self.name} mix text and numeric columns in some batches "
                "only; pass every batch as a DataFrame with the same column types"
            )
        columns, text = mixed
        codes = _TextCodes(text) if first else self.text_codes
        if text != codes.text:
            labels = [str(name) for name, flag in zip(values.columns, text, strict=True) if flag]
            raise ValueError(
                f"batch {batch}: {self.name} text columns {labels} differ from earlier batches'"
            )
        array, self.pending_text_codes = codes.encode(columns)
        return array

    def check(self, values: Any, batch: int) -> np.ndarray:
        """``values`` as a 2-D numpy copy, checked against the earlier batches."""
        names = column_names(values)
        try:
            array = self._read(values, batch)
        except (TypeError, ValueError) as error:
            message = str(error)
            if not message.startswith("batch "):
                message = f"batch {batch}: {self.name} cannot be read: {message}"
            raise ValueError(message) from None
        group = _DTYPE_GROUPS[self.name].get(array.dtype.kind)
        if group is None:
            raise ValueError(
                f"batch {batch}: {self.name} have unsupported dtype {array.dtype} "
                f"(expected {' or '.join(sorted(set(_DTYPE_GROUPS[self.name].values())))})"
            )
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2:
            raise ValueError(
                f"batch {batch}: {self.name} must be 1-D or 2-D (rows x columns), "
                f"got shape {array.shape}"
            )
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            row, column = np.argwhere(~np.isfinite(array))[0]
            raise ValueError(
                f"batch {batch}: {self.name} column {column} contains "
                f"{'NaN' if np.isnan(array[row, column]) else 'inf'} (batch row {row})"
            )
        if self.width is not None and array.shape[1] != self.width:
            raise ValueError(
                f"batch {batch}: {self.name} have {array.shape[1]} columns but earlier "
                f"batches had {self.width}"
            )
        if self.group is not None and group != self.group:
            raise ValueError(
                f"batch {batch}: {self.name} have dtype {array.dtype} ({group}) but earlier "
                f"batches were {self.group}; convert every batch the same way"
            )
        if self.names is not None and names is not None and names != self.names:
            raise ValueError(
                f"batch {batch}: {self.name} columns {names} differ from earlier "
                f"batches' {self.names}"
            )
        return array

    def accept(self, array: np.ndarray, names: list[str] | None) -> None:
        if self.width is None:
            self.width, self.group = array.shape[1], _DTYPE_GROUPS[self.name][array.dtype.kind]
        if self.pending_text_codes is not None:
            self.text_codes, self.pending_text_codes = self.pending_text_codes, None
        if self.names is None:
            self.names = names
        self.chunks.append(array)

    def joined(self) -> np.ndarray:
        """Every kept row as one array (kept as the only chunk, so joining happens once)."""
        if len(self.chunks) > 1:
            self.chunks = [np.concatenate(self.chunks)]
        return self.chunks[0]

    def values(self) -> np.ndarray:
        """The kept rows as a single call would read them."""
        joined = self.joined()
        return joined if self.text_codes is None else self.text_codes.ranks(joined)

    def keep(self, rows: np.ndarray) -> None:
        self.chunks = [self.joined()[rows]]


class Collector:
    """Accumulate latents and sources over batches; score or report them at the end.

    Parameters
    ----------
    max_samples : int, optional
        Keep at most this many rows: a uniform random sample of all rows seen (a
        seeded reservoir; latents and sources rows stay aligned). By default every row
        is kept and the scores equal one :func:`infomec.score` call on the
        concatenated batches.
    seed : int, default=0
        Seed of the reservoir (not of the scoring, which :meth:`score` takes). The same
        rows in the same order give the same sample, whatever the batch sizes.
    source_names, latent_names : sequence of str, optional
        Column names (default: the columns of DataFrame batches, else ``s0..``,
        ``z0..``); :meth:`score` keywords override them.

    Attributes
    ----------
    n_seen : int
        Rows passed to :meth:`update` so far.
    n_batches : int
        Batches accepted so far.

    Examples
    --------
    >>> import numpy as np, infomec
    >>> collector = infomec.Collector()
    >>> for start in range(0, 90, 30):
    ...     sources = np.arange(start, start + 30) % 3
    ...     collector.update(latents=2.0 * sources, sources=sources)
    >>> len(collector), collector.score().infom
    (90, 1.0)
    """

    def __init__(
        self,
        *,
        max_samples: int | None = None,
        seed: int = 0,
        source_names: Any = None,
        latent_names: Any = None,
    ) -> None:
        if max_samples is not None and (
            isinstance(max_samples, bool)
            or not isinstance(max_samples, (int, np.integer))
            or max_samples < 2
        ):
            raise ValueError(f"max_samples must be an integer >= 2 or None, got {max_samples!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        self.max_samples = None if max_samples is None else int(max_samples)
        self.seed = int(seed)
        self._source_names = source_names
        self._latent_names = latent_names
        self.reset()

    def reset(self) -> None:
        """Forget every batch (the reservoir restarts from ``seed``)."""
        self._latents = _Column("latents")
        self._sources = _Column("sources")
        self._keys = np.empty(0)
        self._cutoff = 1.0  # keys are drawn from [0, 1): every row is a candidate
        self._rng = np.random.default_rng(self.seed)
        self.n_seen = 0
        self.n_batches = 0

    def __len__(self) -> int:
        """Rows kept (all rows seen, or at most ``max_samples``)."""
        kept = sum(chunk.shape[0] for chunk in self._latents.chunks)
        return kept if self.max_samples is None else min(kept, self.max_samples)

    def __repr__(self) -> str:
        limit = "" if self.max_samples is None else f", max_samples={self.max_samples}"
        return f"Collector(n_seen={self.n_seen}, kept={len(self)}{limit})"

    def update(self, *, latents: Any, sources: Any) -> None:
        """Add one batch of aligned rows.

        Parameters
        ----------
        latents : array-like of shape (batch, n_latents) or (batch,)
            Numpy arrays, torch tensors (any device, with or without grad; detached and
            copied to the CPU), JAX arrays, pandas DataFrames or Series.
        sources : array-like of shape (batch, n_sources) or (batch,)
            The same kinds of arrays; the rows are the same samples as ``latents``'.

        Raises
        ------
        ValueError
            Misaligned rows; a different number of columns, kind of dtype or column
            names than earlier batches; NaN or inf in float latents or sources. The
            collector is unchanged after an error.
        """
        batch = self.n_batches
        check_aligned_rows(latents, sources, "latents", "sources")
        latent_names, source_names = column_names(latents), column_names(sources)
        latent_array = self._latents.check(latents, batch)
        source_array = self._sources.check(sources, batch)
        if latent_array.shape[0] != source_array.shape[0]:
            raise ValueError(
                f"batch {batch}: latents have {latent_array.shape[0]} rows but sources have "
                f"{source_array.shape[0]}; rows must be aligned samples"
            )
        rows = latent_array.shape[0]
        if self.max_samples is not None:
            keys = self._rng.random(rows)
            if self._cutoff < 1.0:
                # Only keys below the last cut-off can still be among the smallest.
                candidates = np.flatnonzero(keys < self._cutoff)
                keys = keys[candidates]
                latent_array, source_array = latent_array[candidates], source_array[candidates]
            self._keys = np.concatenate([self._keys, keys])
        self._latents.accept(latent_array, latent_names)
        self._sources.accept(source_array, source_names)
        self.n_seen += rows
        self.n_batches += 1
        if self.max_samples is not None and self._keys.size >= 2 * self.max_samples:
            self._cut()

    def _cut(self) -> None:
        """Keep the rows with the ``max_samples`` smallest keys, in arrival order."""
        if self.max_samples is None or self._keys.size <= self.max_samples:
            return
        rows = np.sort(np.argpartition(self._keys, self.max_samples - 1)[: self.max_samples])
        self._keys = self._keys[rows]
        # max_samples keys lie below this one: a later key at or above it never makes it.
        # (Cut-offs only fall, so a stale one just lets a few more rows wait for a cut.)
        self._cutoff = float(self._keys.max())
        self._latents.keep(rows)
        self._sources.keep(rows)

    @property
    def latents(self) -> np.ndarray:
        """The kept latents, shape (kept rows, n_latents), in arrival order."""
        self._require_rows()
        self._cut()
        return self._latents.values()

    @property
    def sources(self) -> np.ndarray:
        """The kept sources, shape (kept rows, n_sources), aligned with :attr:`latents`."""
        self._require_rows()
        self._cut()
        return self._sources.values()

    def _require_rows(self) -> None:
        if not self._latents.chunks:
            raise ValueError("the collector is empty: call update(latents=, sources=) first")

    def _inputs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        names = {
            "source_names": self._source_names
            if self._source_names is not None
            else self._sources.names,
            "latent_names": self._latent_names
            if self._latent_names is not None
            else self._latents.names,
        }
        return {"latents": self.latents, "sources": self.sources, **names, **kwargs}

    def _with_sampling(self, result: ScoreResult) -> ScoreResult:
        """Record the reservoir in the settings when rows were dropped."""
        if self.max_samples is None:
            return result
        sampling = {"max_samples": self.max_samples, "seed": self.seed, "rows_seen": self.n_seen}
        return dataclasses.replace(result, settings=dict(result.settings, collector=sampling))

    def score(self, **kwargs: Any) -> ScoreResult:
        """Score the kept rows: :func:`infomec.score` with the same keywords.

        With ``max_samples``, ``settings["collector"]`` records the reservoir
        (``max_samples``, ``seed``, ``rows_seen``).

        Raises
        ------
        ValueError
            An empty collector, or anything :func:`infomec.score` refuses.
        """
        from infomec.scoring import score

        return self._with_sampling(score(**self._inputs(kwargs)))

    def report(
        self, out_dir: str | Path, **kwargs: Any
    ) -> tuple[ScoreResult, dict[str, tuple[float, float]] | None, dict[str, Path]]:
        """Write the report folder of the kept rows (what ``infomec report`` writes).

        Parameters
        ----------
        out_dir : str or path-like
        **kwargs
            Keywords of :func:`infomec.report.build_report` (``n_boot``, ``fmt``, ...)
            and of :func:`infomec.score`.

        Returns
        -------
        result, intervals, written
            As :func:`infomec.report.build_report` returns them.
        """
        from infomec.report import build_report, write_report

        result, intervals, written = build_report(out_dir=out_dir, **self._inputs(kwargs))
        if self.max_samples is None:
            return result, intervals, written
        # Rewrite so that scores.json and report.html record the reservoir too.
        result = self._with_sampling(result)
        fmt = kwargs.get("fmt", "png")
        return result, intervals, write_report(result, out_dir, intervals=intervals, fmt=fmt)
