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

from infomec._warnings import warn
from infomec.inputs.frameworks import check_aligned_rows, column_names, to_numpy
from infomec.inputs.interpret import as_2d_array
from infomec.result import ScoreResult

__all__ = ["Collector"]

# Latents: discrete and continuous dtypes are scored differently, so they cannot mix.
# Sources: numbers, text and DataFrames mixing both (object arrays) cannot be joined.
_DTYPE_GROUPS = {
    "latents": {**dict.fromkeys("biu", "integer or boolean"), "f": "floating-point"},
    "sources": {
        **dict.fromkeys("biuf", "numeric"),
        **dict.fromkeys("US", "string"),
        "O": "strings and numbers",
    },
}


@dataclasses.dataclass
class _Column:
    """The accepted batches of one array (latents or sources) and what they must share."""

    name: str
    chunks: list[np.ndarray] = dataclasses.field(default_factory=list)
    width: int | None = None
    group: str | None = None
    names: list[str] | None = None

    def check(self, values: Any, batch: int, rows: int | None) -> np.ndarray:
        """``values`` as a 2-D numpy copy, checked against the earlier batches.

        A 1-D batch is one column of ``len`` rows, unless it is one row: its length is
        this array's known width, or the other array of the batch is a single row (or
        1-D of another length) -- see :meth:`Collector.update`.
        """
        names = column_names(values)
        try:
            array = np.array(to_numpy(values, self.name))  # a copy: callers reuse buffers
            if isinstance(values, np.ma.MaskedArray):
                array = as_2d_array(values, self.name, finite=False)
        except (TypeError, ValueError) as error:
            raise ValueError(f"batch {batch}: {self.name} cannot be read: {error}") from None
        if array.dtype.kind == "O":
            try:
                array = as_2d_array(array, self.name, finite=False)
            except ValueError as error:
                raise ValueError(f"batch {batch}: {error}") from None
        group = _DTYPE_GROUPS[self.name].get(array.dtype.kind)
        if group is None:
            raise ValueError(
                f"batch {batch}: {self.name} have unsupported dtype {array.dtype} "
                f"(expected {' or '.join(sorted(set(_DTYPE_GROUPS[self.name].values())))})"
            )
        if array.ndim == 1:
            array = self._place_1d(array, batch, rows)
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

    def _place_1d(self, array: np.ndarray, batch: int, rows: int | None) -> np.ndarray:
        """A 1-D batch as one column (``rows`` values) or one row (``width`` values)."""
        as_row = (self.width is not None and self.width > 1 and array.shape[0] == self.width) or (
            rows == 1 and array.shape[0] != 1
        )
        as_column = rows is None or array.shape[0] == rows
        if as_row and (rows is None or rows == 1):
            return array[None, :]
        if as_column and (self.width in (None, 1)):
            return array[:, None]
        raise ValueError(
            f"batch {batch}: 1-D {self.name} of {array.shape[0]} values cannot be placed: "
            f"not one column of {rows} rows"
            + (f" nor one row of {self.width} columns" if self.width else "")
            + "; pass 2-D batches (rows x columns)"
        )

    def accept(self, array: np.ndarray, names: list[str] | None) -> None:
        if self.width is None:
            self.width, self.group = array.shape[1], _DTYPE_GROUPS[self.name][array.dtype.kind]
        if self.names is None:
            self.names = names
        self.chunks.append(array)

    def joined(self) -> np.ndarray:
        """Every kept row as one array (kept as the only chunk, so joining happens once).

        Float batches of different widths are joined in the narrowest one: a float32
        batch holds its values only to float32 precision, and the float64 copy of the
        same value (``0.1``) must stay that value, not become a second one.
        """
        if len(self.chunks) > 1:
            floats = {chunk.dtype for chunk in self.chunks if chunk.dtype.kind == "f"}
            if len(floats) > 1:
                narrowest = min(floats, key=lambda dtype: dtype.itemsize)
                warn(
                    f"{self.name} batches mix {', '.join(sorted(map(str, floats)))}: joined as "
                    f"{narrowest} (one value in both widths stays one value)"
                )
                self.chunks = [chunk.astype(narrowest, copy=False) for chunk in self.chunks]
            self.chunks = [np.concatenate(self.chunks)]
        return self.chunks[0]

    def values(self) -> np.ndarray:
        """The kept rows as a single call would read them."""
        return self.joined()

    def keep(self, rows: np.ndarray) -> None:
        self.chunks = [self.joined()[rows]]


def _rows_of(values: Any) -> int | None:
    """Rows of a 2-D batch (None for a 1-D one, whose placement is decided later)."""
    shape = getattr(values, "shape", None)
    if shape is None:
        shape = np.shape(values)
    return int(shape[0]) if len(shape) == 2 else None


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

        Notes
        -----
        A 1-D array is placed by the shapes around it: one column of as many rows as
        the other array's batch; or one row (one sample) when its length is the width
        that earlier batches set, when the other array is a single row, or when both are
        1-D of different lengths. Two 1-D arrays of the same length in the first batch
        are one column each. One that fits none of these is refused.

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
        source_rows = _rows_of(sources)
        if source_rows is None and _rows_of(latents) is None:
            if np.shape(latents)[:1] != np.shape(sources)[:1]:
                source_rows = 1  # two 1-D arrays of different lengths: one sample each
        latent_array = self._latents.check(latents, batch, source_rows)
        source_array = self._sources.check(sources, batch, latent_array.shape[0])
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
