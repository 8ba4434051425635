"""Score many representations (runs) against their sources and collect one table.

A run is a latents file (or array) plus its sources and some metadata (run name, model,
training seed, ...). :func:`sweep` scores every run independently, in parallel across
runs, and returns one :class:`pandas.DataFrame` row per run. A run that fails (a missing
or malformed file, bad input) is recorded with its error message and does not stop the
others. The scored runs of each model are then ranked against each other by UDR, from
their latents alone (the ``udr`` column).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> sources = rng.integers(0, 3, size=(300, 2))
>>> runs = [Run(name="good", latents=sources + 0.1 * rng.standard_normal((300, 2)),
...             sources=sources, model="ae"),
...         Run(name="missing", latents="no/such/file.npz", sources=sources, model="ae")]
>>> frame = sweep(runs, n_jobs=1)
>>> frame["run"].tolist(), bool(frame.loc[1, "error"])
(['good', 'missing'], True)
"""

from __future__ import annotations

import contextlib
import os
import time
import traceback
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from infomec.inputs.check import check_row_indexes
from infomec.inputs.files import index_col_for, load_array
from infomec.parallel import check_scheduler, map_in_order, resolve_n_jobs
from infomec.progress import progress as progress_of
from infomec.sweep_table import META_COLUMNS, TAIL_COLUMNS, is_chance_column

#: The column of each run's UDR (blank where it has none), between scores and tail.
UDR_COLUMN = "udr"
#: The supervised score that ``udr.png`` sets UDR against.
UDR_INFOM = "infomec.infom"


@dataclass(frozen=True)
class Run:
    """One representation to score.

    Attributes
    ----------
    name : str
        Row label in the output.
    latents, sources : path or array-like
        Files (``.npz``, ``.npy``, ``.csv``) are loaded in the worker that scores them.
    model : str, optional
        Groups runs in the sweep figure; the runs of one model are its seeds for UDR.
    seed : int or str, optional
        The training seed of the run (metadata only; the scoring seed is ``sweep``'s).
    extra : dict
        Any other manifest columns, copied into the output row.
    kl : path or array-like, optional
        Per-latent KL divergences of the run (an ``.npy`` file or an array), for UDR's
        active-latent rule (see :func:`sweep`); a manifest's ``kl`` column.
    """

    name: str
    latents: Any
    sources: Any
    model: str | None = None
    seed: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    kl: Any = None


def _describe(value: Any) -> str:
    if isinstance(value, (str, os.PathLike)):
        return str(value)
    shape = getattr(value, "shape", None)
    return f"array{tuple(shape)}" if shape is not None else type(value).__name__


#: A run's per-latent KL file beside its latents file (``infomec train`` writes one for
#: beta-VAE and beta-TCVAE runs): used for UDR when the run names no other.
KL_BESIDE_LATENTS = "kl.npy"


def _kl_beside(latents: Path) -> Path | None:
    candidate = latents.parent / KL_BESIDE_LATENTS
    return candidate if candidate.is_file() else None


def runs_from_paths(latents: Sequence[str | os.PathLike], sources: Any) -> list[Run]:
    """One :class:`Run` per latents file, all scored against the same ``sources``.

    Runs are named after their file (without suffix); when two files share a name, the
    path as given (without suffix) tells them apart. A ``kl.npy`` beside a latents file
    is its run's per-latent KL (for UDR).

    Examples
    --------
    >>> [run.name for run in runs_from_paths(["a/z.npz", "b/z.npz", "c.npy"], "s.npz")]
    ['a/z', 'b/z', 'c']
    """
    paths = [Path(path) for path in latents]
    stems = [path.stem for path in paths]
    names = [
        stem if stems.count(stem) == 1 else str(path.with_suffix(""))
        for stem, path in zip(stems, paths, strict=True)
    ]
    return [
        Run(name=name, latents=path, sources=sources, kl=_kl_beside(path))
        for name, path in zip(names, paths, strict=True)
    ]


def read_manifest(path: str | os.PathLike, sources: Any = None) -> list[Run]:
    """Runs listed in a CSV manifest.

    Parameters
    ----------
    path : str or path-like
        CSV with a ``latents`` column and optional ``run``, ``sources``, ``model``,
        ``seed`` and ``kl`` (an ``.npy`` file of per-latent KL divergences, for UDR;
        default: a ``kl.npy`` beside the latents file, if any) columns; any other column
        (``kl`` too) is carried into the output. Relative paths are relative to the
        manifest's folder.
    sources : path or array-like, optional
        Sources of runs whose ``sources`` cell is missing or empty.

    Returns
    -------
    list of Run

    Raises
    ------
    ValueError
        No ``latents`` column, an empty manifest, or a run without sources.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with open(os.path.join(folder, "runs.csv"), "w") as handle:
    ...     _ = handle.write("run,latents,model,seed\\nr1,r1.npz,qlae,0\\n")
    >>> run, = read_manifest(os.path.join(folder, "runs.csv"), sources="s.npz")
    >>> run.name, run.model, run.seed, Path(run.latents).name
    ('r1', 'qlae', '0', 'r1.npz')
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such manifest file")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else "empty file"
        raise ValueError(f"{path}: malformed manifest ({message})") from None
    header = _manifest_header(path)
    table.columns = header if len(header) == len(table.columns) else table.columns
    table.columns = [str(column).strip() for column in table.columns]
    _check_manifest_columns(path, list(table.columns))
    if "latents" not in table.columns:
        raise ValueError(
            f"{path}: the manifest needs a 'latents' column (found: {', '.join(table.columns)})"
        )
    if table.empty:
        raise ValueError(f"{path}: the manifest lists no run")
    folder = path.parent

    def resolve(cell: str) -> Path:
        # Paths in a manifest are relative to the manifest, not to the working folder,
        # so a sweep folder can be moved or shared as a whole.
        candidate = Path(cell.strip()).expanduser()
        return candidate if candidate.is_absolute() else folder / candidate

    runs = []
    for index, row in table.iterrows():
        cell = row.get("sources", "").strip()
        run_sources = resolve(cell) if cell else sources
        if run_sources is None:
            raise ValueError(
                f"{path}: row {index + 1} has no sources; add a 'sources' column or pass --sources"
            )
        latents = resolve(row["latents"])
        kl = row.get("kl", "").strip()
        extra = {column: row[column] for column in table.columns if column not in META_COLUMNS}
        runs.append(
            Run(
                name=row.get("run", "").strip() or latents.stem,
                latents=latents,
                sources=run_sources,
                model=row.get("model", "").strip() or None,
                seed=row.get("seed", "").strip() or None,
                extra=extra,
                kl=resolve(kl) if kl else _kl_beside(latents),
            )
        )
    return runs


def _manifest_header(path: Path) -> list[str]:
    """The manifest's first row as written (pandas renames a repeated ``a`` to ``a.1``)."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def _check_manifest_columns(path: Path, columns: list[str]) -> None:
    """Refuse column names that would collide in the output table, in one line."""
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise ValueError(f"{path}: column {column!r} appears twice in the manifest")
        seen.add(column)
        if column in TAIL_COLUMNS or column == UDR_COLUMN:
            raise ValueError(
                f"{path}: column {column!r} is reserved for the sweep's output; rename it"
            )
    # A score column ("<family>.<name>") in the manifest would be overwritten by the score.
    from infomec.metrics import REGISTRY

    for column in columns:
        if "." in column and column.split(".", 1)[0] in REGISTRY:
            raise ValueError(f"{path}: column {column!r} has the name of a score column; rename it")


@lru_cache(maxsize=8)
def _load_cached(path: str, role: str, key: str | None, options: tuple):
    # Many runs share one sources file; each worker process loads it once.
    return load_array(path, role, key, **dict(options))


def _load(value: Any, role: str, key: str | None, read: dict[str, Any]):
    if isinstance(value, (str, os.PathLike)):
        options = {**read, "index_col": index_col_for(read.get("index_col", "auto"), role)}
        if role == "sources":
            return _load_cached(str(value), role, key, tuple(sorted(options.items())))
        return load_array(value, role, key, **options)
    return None


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    if isinstance(error, (ValueError, OSError)):
        return text or type(error).__name__
    # Anything else is a bug somewhere, not bad input: keep the type and the location
    # so that the row points at it.
    where = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    location = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
    return f"{type(error).__name__}{location}: {text}"


def score_run(
    run: Run,
    *,
    latents_key: str | None = None,
    sources_key: str | None = None,
    header: bool | None = None,
    index_col: str | int | dict | None = "auto",
    decimal: str | None = None,
    thousands: str | None = None,
    **score_kwargs: Any,
) -> dict[str, Any]:
    """Score one run and return its output row (never raises for a failing run).

    ``latents_key``, ``sources_key``, ``header``, ``index_col`` (one for both files, or
    a mapping per role), ``decimal`` and ``thousands`` say how files are read (see
    :func:`infomec.inputs.files.load_array`); two files' row indexes must agree.

    Examples
    --------
    >>> import numpy as np
    >>> sources = np.repeat(np.arange(3), 20)[:, None]
    >>> row = score_run(Run(name="r", latents=sources.copy(), sources=sources))
    >>> row["infomec.infom"], row["error"]
    (1.0, '')
    """
    from infomec.scoring import score

    row: dict[str, Any] = {
        "run": run.name,
        "model": run.model or "",
        "seed": "" if run.seed is None else run.seed,
        "latents": _describe(run.latents),
        "sources": _describe(run.sources),
        **run.extra,
    }
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            read = {"header": header, "index_col": index_col}
            read.update(decimal=decimal, thousands=thousands)
            latents = _load(run.latents, "latents", latents_key, read)
            sources = _load(run.sources, "sources", sources_key, read)
            if latents is not None and sources is not None:
                check_row_indexes(
                    latents.row_index, sources.row_index, str(run.latents), str(run.sources)
                )
            result = score(
                progress=False,  # the sweep shows its own progress, over runs
                latents=run.latents if latents is None else latents.values,
                sources=run.sources if sources is None else sources.values,
                source_names=None if sources is None else sources.names,
                latent_names=None if latents is None else latents.latent_names,
                **score_kwargs,
            )
        except Exception as error:  # a failing run must not stop the sweep
            row.update(
                n_samples=np.nan,
                elapsed_s=time.perf_counter() - started,
                error=_one_line(error),
                warnings="",
            )
            return row
    row.update(result.scalars())
    row.update(result.chance_scalars())
    messages = dict.fromkeys(" ".join(str(w.message).split()) for w in caught)
    row.update(
        n_samples=result.n_samples,
        elapsed_s=result.elapsed_s,
        error="",
        warnings="; ".join(messages),
    )
    return row


@contextmanager
def _workers_deaf_to_ctrl_c(enabled: bool) -> Iterator[None]:
    """Keep Ctrl-C away from worker processes started in this block; not from us.

    A terminal sends Ctrl-C's SIGINT to every process of the foreground group, loky's
    workers included, and a worker interrupted while it starts prints a traceback. A
    process started by a thread that blocks SIGINT inherits the block across exec, so
    the calling thread blocks it while workers may be started. This process still
    hears it: a helper thread that keeps SIGINT unblocked (the kernel hands the signal
    to it) trips Python's handler, which raises KeyboardInterrupt in the main thread.
    """
    import signal
    import threading

    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return
    # Python 3.11's multiprocessing resource tracker unblocks SIGINT after it starts its
    # own process (bpo-33613's fix, without restoring the previous mask): start it first.
    with contextlib.suppress(Exception):
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()
    done = threading.Event()
    listener = threading.Thread(target=done.wait, name="infomec-sigint", daemon=True)
    listener.start()  # before the block: it keeps SIGINT deliverable to this process
    # Workers stopped by Ctrl-C leave loky semaphores that loky's resource tracker (a
    # process started in this block, with this environment) removes at exit, with a
    # two-line warning after "infomec: interrupted": nothing the user can act on.
    previous = os.environ.get("PYTHONWARNINGS")
    quiet_tracker = "ignore:resource_tracker:UserWarning"
    os.environ["PYTHONWARNINGS"] = f"{previous},{quiet_tracker}" if previous else quiet_tracker
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        done.set()
        if previous is None:
            os.environ.pop("PYTHONWARNINGS", None)
        else:
            os.environ["PYTHONWARNINGS"] = previous


def _ignore_interrupts() -> None:
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def sweep(
    runs: Iterable[Run],
    *,
    n_jobs: int | None = 1,
    scheduler: str = "joblib",
    progress: bool | None = None,
    latents_key: str | None = None,
    sources_key: str | None = None,
    header: bool | None = None,
    index_col: str | int | dict | None = "auto",
    decimal: str | None = None,
    thousands: str | None = None,
    udr: bool | None = None,
    udr_correlation: str = "spearman",
    **score_kwargs: Any,
):
    """Score every run; one row per run, failures recorded rather than raised.

    Parameters
    ----------
    runs : iterable of Run
        See :func:`runs_from_paths` and :func:`read_manifest`.
    n_jobs : int or None, default=1
        Runs scored at once (``None`` or ``-1``: one per core). Each run's own numba
        threads are limited so that the machine is not oversubscribed; scores do not
        depend on ``n_jobs``. Not used with a dask ``scheduler``, whose worker threads
        each score one run at a time (on one thread).
    scheduler : str, default="joblib"
        How runs are distributed: ``"joblib"`` (local processes, ``n_jobs`` of them)
        or the address of a dask.distributed scheduler (``"tcp://host:8786"``; needs
        the ``dist`` extra), whose workers then score the runs. Scores do not depend
        on the scheduler.
    progress : bool, optional
        Progress over runs on stderr: a bar in a terminal, else a line every 10 s
        (:mod:`infomec.progress`); default: shown unless silenced.
    latents_key, sources_key : str, optional
        Array names inside ``.npz`` files.
    header, index_col, decimal, thousands : optional
        How delimited text files are read (see :func:`infomec.inputs.files.load_array`);
        ``index_col`` may be a mapping ``{"latents": .., "sources": ..}``.
    udr : bool, optional
        The ``udr`` column: each run's Unsupervised Disentanglement Ranking
        (:func:`infomec.metrics.udr.udr`) among the scored runs of its ``model``, for
        models with at least 2 scored runs. By default (``None``) runs without a model
        get none; ``True`` also takes all runs without a model as the seeds of one
        model; ``False`` leaves the column out.
    udr_correlation : {"spearman", "lasso"}, default="spearman"
        Similarity of latents across runs in UDR.
    **score_kwargs
        Any keyword of :func:`infomec.score` (``metrics``, ``preset``, ``seed``, ...).

    Returns
    -------
    pandas.DataFrame
        Columns ``run``, ``model``, ``seed``, ``latents``, ``sources``, any extra
        manifest columns, one column per scalar score (``"infomec.infom"``, ...),
        the chance levels of the scores that have one (``"infomec.infom_chance"``,
        ``..._chance_p95``, ``..._p_value``; see ``null``),
        ``udr`` (NaN for a run without one, a blank cell in ``sweep.csv``; a model
        whose UDR could not be computed says why in its runs' ``warnings``),
        ``n_samples``, ``elapsed_s``, ``error`` (empty when the run was scored) and
        ``warnings``.

    Raises
    ------
    ValueError
        No runs, or bad options (``n_jobs``, ``scheduler``, unknown metric).

    Examples
    --------
    >>> import numpy as np
    >>> sources = np.repeat(np.arange(3), 20)[:, None]
    >>> frame = sweep([Run(name="r", latents=sources.copy(), sources=sources)])
    >>> frame[["run", "infomec.infom", "error"]].to_dict("records")
    [{'run': 'r', 'infomec.infom': 1.0, 'error': ''}]
    """
    import pandas as pd

    from infomec._validation import check_choice, check_optional_bool
    from infomec.metrics.udr import CORRELATIONS
    from infomec.scoring import resolve_metrics

    runs = list(runs)
    if not runs:
        raise ValueError("no runs to score")
    udr = check_optional_bool(udr, "udr")
    check_choice(udr_correlation, "udr_correlation", CORRELATIONS)
    workers = min(resolve_n_jobs(n_jobs), len(runs))
    scheduler = check_scheduler(scheduler)
    if "metrics" in score_kwargs:
        # Checked once here: an unknown metric is a mistake in the command, not in a run.
        score_kwargs["metrics"] = resolve_metrics(score_kwargs["metrics"])
    # Locally the cores are shared among the runs scored at once; on a dask cluster each
    # worker thread scores one run at a time, so a run gets one thread.
    local_threads = max(1, (os.cpu_count() or 1) // workers)
    score_kwargs.setdefault("n_jobs", local_threads if scheduler == "joblib" else 1)

    caller = os.getpid()

    def score_one(run: Run) -> dict[str, Any]:
        if os.getpid() != caller:
            # A worker process: Ctrl-C reaches the whole process group, and the caller
            # alone handles it (it stops the workers); a worker would print a traceback.
            _ignore_interrupts()
        return score_run(
            run,
            latents_key=latents_key,
            sources_key=sources_key,
            header=header,
            index_col=index_col,
            decimal=decimal,
            thousands=thousands,
            **score_kwargs,
        )

    rows = []
    deaf = workers > 1 and scheduler == "joblib" and hasattr(os, "fork")
    with (
        progress_of(len(runs), "sweep", unit="run", enabled=progress) as bar,
        _workers_deaf_to_ctrl_c(deaf),
    ):
        for row in map_in_order(score_one, runs, n_jobs=workers, scheduler=scheduler):
            rows.append(row)
            bar.update()
            if row["error"]:
                bar.note(f"{sum(1 for r in rows if r['error'])} failed")
    frame = pd.DataFrame(rows)
    # Nullable integers: a failed run has no sample count, and 5000.0 would read oddly.
    frame["n_samples"] = frame["n_samples"].astype("Int64")
    # Extras are the runs' manifest columns (any name, dots included); scores the rest.
    extras = list(dict.fromkeys(key for run in runs for key in run.extra))
    scores = [
        c
        for c in frame.columns
        if c not in META_COLUMNS and c not in TAIL_COLUMNS and c not in extras
    ]
    # Chance levels sit after the scores, and are not scores themselves (not plotted).
    chance = [c for c in scores if is_chance_column(c)]
    scores = [c for c in scores if c not in chance]
    frame = frame[[*META_COLUMNS, *extras, *scores, *chance, *TAIL_COLUMNS]]
    frame.attrs["score_columns"] = scores
    if udr is not False:
        values, notes = _udr_of_runs(
            frame,
            runs,
            unlabelled_as_one_model=bool(udr),
            correlation=udr_correlation,
            read=dict(header=header, index_col=index_col, decimal=decimal, thousands=thousands),
            latents_key=latents_key,
        )
        frame.insert(frame.columns.get_loc("n_samples"), UDR_COLUMN, values)
        for index, note in notes.items():
            frame.loc[index, "warnings"] = "; ".join(
                part for part in (frame.loc[index, "warnings"], note) if part
            )
    return frame


def _udr_groups(frame, runs: list[Run], unlabelled_as_one_model: bool) -> dict[str, list[int]]:
    """Row indices of the scored runs of each model that has at least two of them."""
    groups: dict[str, list[int]] = {}
    for index, run in enumerate(runs):
        if frame.loc[index, "error"] or not (run.model or unlabelled_as_one_model):
            continue
        groups.setdefault(run.model or "", []).append(index)
    return {model: rows for model, rows in groups.items() if len(rows) >= 2}


def _latents_for_udr(run: Run, read: dict[str, Any], key: str | None) -> np.ndarray:
    from infomec.inputs.frameworks import to_numpy

    if isinstance(run.latents, (str, os.PathLike)):
        return _load(run.latents, "latents", key, read).values
    return np.asarray(to_numpy(run.latents, "latents"))


def _kl_for_udr(run: Run) -> np.ndarray:
    from infomec.inputs.frameworks import to_numpy

    if isinstance(run.kl, (str, os.PathLike)):
        try:
            values = np.load(run.kl, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise ValueError(f"{run.kl}: cannot read per-latent KL values ({error})") from None
        if not isinstance(values, np.ndarray):  # an .npz archive
            raise ValueError(f"{run.kl}: per-latent KL values must be an .npy file")
        return values
    return np.asarray(to_numpy(run.kl, "kl"))


def _udr_of_runs(
    frame,
    runs: list[Run],
    *,
    unlabelled_as_one_model: bool,
    correlation: str,
    read: dict,
    latents_key: str | None,
) -> tuple[np.ndarray, dict[int, str]]:
    """Each run's UDR among the scored runs of its model (NaN where there is none),
    and a note per row that says why its model has none or what UDR warned."""
    from infomec._validation import warn
    from infomec.metrics.udr import udr

    values = np.full(len(runs), np.nan)
    notes: dict[int, str] = {}
    for model, rows in _udr_groups(frame, runs, unlabelled_as_one_model).items():
        label = f"model {model}" if model else "the runs without a model"
        group = [runs[index] for index in rows]
        caught: list[str] = []
        try:
            counts = sorted({int(frame.loc[index, "n_samples"]) for index in rows})
            if len(counts) > 1:
                # UDR compares the runs' codes of the same inputs, row by row.
                raise ValueError(
                    f"the runs encode different numbers of rows "
                    f"({', '.join(map(str, counts))}); every run must encode the same rows"
                )
            with_kl = [run.kl is not None for run in group]
            if any(with_kl) and not all(with_kl):
                raise ValueError("kl is given for some runs but not all")
            kl = [_kl_for_udr(run) for run in group] if all(with_kl) else None
            latents = [_latents_for_udr(run, read, latents_key) for run in group]
            with warnings.catch_warnings(record=True) as recorded:
                warnings.simplefilter("always")
                result = udr(latents, correlation=correlation, kl=kl)
            caught = [" ".join(str(w.message).split()) for w in recorded]
        except (ValueError, OSError) as error:
            message = f"udr of {label} not computed: {' '.join(str(error).split())}"
            warn(message)
            for index in rows:
                notes[index] = message
            continue
        values[rows] = result["scores"]
        for index in rows:
            if caught:
                notes[index] = "; ".join(f"udr of {label}: {text}" for text in caught)
    return values, notes


# ------------------------------------------------------------------ output folder

#: The files :func:`write_sweep` writes (``sweep.png`` only when a run was scored,
#: ``udr.png`` only when a run has a UDR and an InfoM, ``sweep.json`` only with
#: provenance).
SWEEP_FILES = ("sweep.csv", "sweep.json", "sweep.png", "udr.png")


def run_inputs(runs: Iterable[Run]) -> list[Path]:
    """The files the runs read (latents, sources and KL paths): never to be overwritten."""
    paths = []
    for run in runs:
        for value in (run.latents, run.sources, run.kl):
            if isinstance(value, (str, os.PathLike)):
                paths.append(Path(value))
    return list(dict.fromkeys(paths))


def check_sweep_folder(
    out_dir: str | os.PathLike, inputs: Sequence[str | os.PathLike] = ()
) -> None:
    """Raise (``ValueError`` / ``OSError``) unless :func:`write_sweep` can write ``out_dir``."""
    from infomec.outputs import check_folder

    check_folder(out_dir, SWEEP_FILES, inputs)


def sweep_provenance(
    runs: Iterable[Run],
    *,
    manifest: str | os.PathLike | None = None,
    sources: Any = None,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a sweep scored, for ``sweep.json``: the manifest and shared sources files,
    every run's latents and sources files (path, size, SHA-256; see
    :func:`infomec.provenance.file_record`), the scoring options and the versions.

    A file that cannot be read is recorded with its ``"error"`` instead of its hash (its
    run failed too, and says why in ``sweep.csv``).
    """
    from infomec.provenance import file_record, versions

    hashed: dict[str, dict[str, Any]] = {}

    def record(value: Any) -> dict[str, Any] | None:
        if not isinstance(value, (str, os.PathLike)):
            return None if value is None else {"array": _describe(value)}
        key = os.fspath(value)
        if key not in hashed:  # a shared sources file is hashed once
            try:
                hashed[key] = file_record(value)
            except OSError as error:
                hashed[key] = {"path": key, "error": " ".join(str(error).split())}
        return hashed[key]

    return {
        "manifest": record(manifest),
        "sources": record(sources),
        "runs": [
            {"run": run.name, "latents": record(run.latents), "sources": record(run.sources)}
            for run in runs
        ],
        "options": dict(options or {}),
        "versions": dict(versions()),
    }


def write_sweep(
    frame,
    out_dir: str | os.PathLike,
    *,
    inputs: Sequence[str | os.PathLike] = (),
    provenance: dict[str, Any] | None = None,
) -> list[Path]:
    """Write ``sweep.csv``, ``sweep.json`` (with ``provenance``: see
    :func:`sweep_provenance`), when a run was scored ``sweep.png`` and, when a run has
    a UDR and an InfoM, ``udr.png`` (:func:`infomec.figures.plot_udr`) into ``out_dir``,
    as one set.

    The set replaces the previous sweep's at once (:func:`infomec.outputs.write_folder`);
    other files in the folder, such as the manifest, are left alone, and none of
    ``inputs`` is ever overwritten.

    Returns
    -------
    list of Path
        The files written.
    """
    from infomec.outputs import write_folder
    from infomec.result import dumps_json

    files: dict[str, bytes | str] = {"sweep.csv": frame.to_csv(index=False)}
    if provenance is not None:
        files["sweep.json"] = dumps_json(provenance, indent=2) + "\n"
    if (frame["error"] == "").any():
        from infomec.figures import figure_bytes, plot_sweep

        files["sweep.png"] = figure_bytes(plot_sweep(frame), "png")
    if _has_udr_figure(frame):
        from infomec.figures import figure_bytes, plot_udr

        files["udr.png"] = figure_bytes(plot_udr(frame), "png")
    return list(write_folder(out_dir, files, inputs=inputs).values())


def _has_udr_figure(frame) -> bool:
    if UDR_COLUMN not in frame.columns or UDR_INFOM not in frame.columns:
        return False
    return bool((frame[UDR_COLUMN].notna() & frame[UDR_INFOM].notna()).any())
