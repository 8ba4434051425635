"""The ``infomec`` command line: parse, call the library, format, map errors.

Bad input ends with a one-line ``infomec: error: ...`` on stderr and exit status 2;
Ctrl-C (SIGINT) with one line and status 130, SIGTERM with 143, a closed pipe on
stdout silently with 141, a NaN that reached an output (a bug) with 1. Nothing is
computed here.
"""

# ruff: noqa: E402
from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys


def _exit_quietly(signum, frame) -> None:
    """A signal while the modules below are imported: one line and 128 + signal, no
    traceback from the import it interrupts."""
    with contextlib.suppress(Exception):
        message = "interrupted" if signum == signal.SIGINT else "terminated"
        sys.stderr.write(f"infomec: {message}\n")
        sys.stderr.flush()
    os._exit(128 + signum)


#: 128 + the signal that arrived after the command finished, if one did.
_late_status: int | None = None
#: The command's exit status, once :func:`main` has returned one (console script only).
_final_status: int | None = None


def _late_signal(signum, frame) -> None:
    """A signal after the command finished: one line now, status 128 + signal at exit,
    and the clean-up on the way out (worker processes, temporary folders) still runs."""
    global _late_status
    if _late_status is None:
        _late_status = 128 + signum
        with contextlib.suppress(Exception):
            message = "interrupted" if signum == signal.SIGINT else "terminated"
            sys.stderr.write(f"infomec: {message}\n")
            sys.stderr.flush()


def _exit_with_late_status() -> None:
    """Registered before any other module's exit hook, so it runs after all of them:
    every clean-up is done, and what is left of the interpreter's shutdown (where a
    signal would kill the process without a word) is skipped."""
    status = _late_status if _late_status is not None else _final_status
    if status is not None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(status)


def _runs_as_the_command() -> bool:
    """The console script, ``python -m infomec`` or ``python -m cli``: the process is ours."""
    program = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    stem = os.path.splitext(os.path.basename(program))[0]
    in_package = os.path.basename(os.path.dirname(program)) == "infomec"
    return __name__ == "__main__" or stem == "infomec" or (stem == "__main__" and in_package)


if _runs_as_the_command():
    # The console script (or python -m cli). The imports below take a second or more;
    # Ctrl-C during them exits quietly too. (Hence imports after code: E402 is off.)
    signal.signal(signal.SIGINT, _exit_quietly)
    signal.signal(signal.SIGTERM, _exit_quietly)
    atexit.register(_exit_with_late_status)

import argparse
import csv
import dataclasses
import io
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import infomec
from infomec._numba_cache import announce_compilation
from infomec.inputs.digest import digest_with_files
from infomec.inputs.files import ROLES, load_pair
from infomec.metrics.dci import DCI_MODELS
from infomec.metrics.null import DEFAULT_NULL
from infomec.outputs import STDOUT, check_file, write_file
from infomec.presets import PRESETS
from infomec.progress import quiet
from infomec.provenance import loaded_record
from infomec.result import NonFiniteError, chance_key, format_score

EXIT_BUG = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a tool killed by the signal would report
EXIT_TERMINATED = 143  # 128 + SIGTERM


class UsageError(Exception):
    """A problem with the command line itself (reported like bad input)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every cleanup on the way out runs."""


def _print_warning(message, category, filename, lineno, file=None, line=None) -> None:
    text = " ".join(str(message).split())
    print(f"infomec: warning: {text}", file=sys.stderr)


# ------------------------------------------------------------------- formatting


def format_table(result: infomec.ScoreResult) -> str:
    """A readable report: scalar scores, then the NMI matrix with the active latents."""
    lines = []
    nmi = result.nmi if "infomec" in result.families else None
    width = max(len(name) for name in result.scalars()) if result.scalars() else 10
    header = (
        f"infomec {infomec.__version__}: {result.n_samples} samples, "
        f"{len(result.latent_names)} latents, {len(result.source_names)} sources, "
        f"preset {result.settings['preset']} ({result.elapsed_s:.2f} s)"
    )
    lines.append(header)
    chance = result.chance_scalars()
    for name, value in result.scalars().items():
        line = f"  {name:<{width}}  {format_score(name, value)}"
        if chance_key(name) in chance:
            mean, p95, p_value = (
                chance[chance_key(name, statistic)] for statistic in ("mean", "p95", "p_value")
            )
            line += f"   chance {mean:.3f} (95th percentile {p95:.3f}, p = {p_value:.2f})"
        lines.append(line)
    if nmi is not None:
        active = result["infomec"]["active_latents"]
        null = result["infomec"].get("chance")
        above = np.ones(nmi.shape, bool) if null is None else null["nmi_above_floor"]
        label_width = max(len(name) for name in result.source_names + ["active"])
        cells = [f"{name:>6}" for name in result.latent_names]
        lines.append("")
        lines.append("NMI (rows: sources, columns: latents; * = active latent)")
        if null is not None:
            lines.append(
                "  ~ = not above its noise floor (95th percentile under the null: "
                f"{null.get('null_method', str(null['n_draws']) + ' shuffles of the sources')})"
            )
        lines.append(" " * (label_width + 2) + " ".join(cells))
        for name, row, marks in zip(result.source_names, nmi, above, strict=True):
            # A "~" takes the place of the space after its cell, so columns stay aligned.
            row_cells = [f"{v:>6.3f}" + ("" if m else "~") for v, m in zip(row, marks, strict=True)]
            lines.append(f"  {name:<{label_width}}" + " ".join(row_cells).replace("~ ", "~"))
        lines.append(
            f"  {'active':<{label_width}}" + " ".join(f"{'*' if a else '':>6}" for a in active)
        )
        per_source = result["infomec"]["infoe_per_source"]
        pairs = zip(result.source_names, per_source, strict=True)
        lines.append("")
        lines.append("InfoE per source: " + ", ".join(f"{n} {v:.3f}" for n, v in pairs))
    return "\n".join(lines) + "\n"


def format_sweep_table(frame, digits: int = 3) -> str:
    """The sweep's table as text: one row per run, its model and seed, every score
    (``digits`` decimals), UDR and the error of a failed run (the CSV has every column).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"run": ["a", "b"], "model": ["vae", "vae"],
    ...                       "infomec.infom": [0.91234, None], "error": ["", "corrupt"]})
    >>> print(format_sweep_table(frame))
    run model  infomec.infom    error
      a   vae          0.912
      b   vae                 corrupt
    """
    from infomec.sweep_table import score_columns

    shown = [c for c in ("run", "model", "seed") if c in frame.columns]
    scores = score_columns(frame) + [c for c in ("udr",) if c in frame.columns]
    table = frame[shown + scores].copy()
    for column in scores:
        table[column] = [
            "" if value is None or value != value else f"{float(value):.{digits}f}"
            for value in frame[column]
        ]
    if "error" in frame.columns and (frame["error"].fillna("").astype(str) != "").any():
        table["error"] = frame["error"].fillna("").astype(str)
    table = table.fillna("").astype(str)
    return table.to_string(index=False)


def format_csv(result: infomec.ScoreResult) -> str:
    """One header line and one row: every scalar score, the chance levels (when computed),
    ``n_samples``, ``elapsed_s``."""
    row = {
        **result.scalars(),
        **result.chance_scalars(),
        "n_samples": result.n_samples,
        "elapsed_s": result.elapsed_s,
    }
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(row), lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    return buffer.getvalue()


FORMATTERS = {
    "json": lambda result: result.to_json(indent=2) + "\n",
    "table": format_table,
    "csv": format_csv,
}
#: ``--format`` taken from ``--output``'s extension when not given (else JSON).
FORMAT_OF_SUFFIX = {".json": "json", ".csv": "csv", ".txt": "table"}


def output_format(fmt: str | None, output: str | None) -> str:
    """``--format`` if given, else the one ``--output``'s extension names, else JSON."""
    if fmt is not None:
        return fmt
    if output is None or output == STDOUT:
        return "json"
    return FORMAT_OF_SUFFIX.get(Path(output).suffix.lower(), "json")


def emit(text: str, output: str | None, inputs: Sequence[str] = ()) -> None:
    """Write ``text`` to stdout (``output`` None or ``-``) or to ``output``, never over
    one of ``inputs`` (see :func:`infomec.outputs.write_file`)."""
    write_file(STDOUT if output is None else output, text, inputs=inputs)


# --------------------------------------------------------------------- commands


def _split_names(text: str | None) -> list[str] | None:
    return None if text is None else [name.strip() for name in text.split(",")]


def _read_options(args: argparse.Namespace) -> dict:
    """How ``score``, ``report``, ``sweep`` and ``inspect`` read their files."""
    index_col = {
        "latents": args.index_col if args.latents_index_col is None else args.latents_index_col,
        "sources": args.index_col if args.sources_index_col is None else args.sources_index_col,
    }
    return {
        "header": args.header,
        "index_col": index_col,
        "decimal": args.decimal,
        "thousands": "" if args.thousands == "none" else args.thousands,
    }


def _load_pair(
    args: argparse.Namespace, latents: str, sources: str, prefix: str, records: dict
) -> tuple:
    """Load one latents file and its sources file (row indexes compared), recording
    their provenance (path, size, SHA-256, how they were read) under ``prefix + role``."""
    pair = load_pair(
        latents,
        sources,
        latents_key=args.latents_key,
        sources_key=args.sources_key,
        **_read_options(args),
    )
    for path, role, loaded in zip((latents, sources), ROLES, pair, strict=True):
        records[prefix + role] = loaded_record(path, loaded)
    return pair


def _load_inputs(args: argparse.Namespace, records: dict) -> tuple:
    """The latents and sources (and held-out ``--test-*``) files of ``score`` / ``report``."""
    if (args.test_latents is None) != (args.test_sources is None):
        raise UsageError("--test-latents and --test-sources must be given together")
    latents, sources = _load_pair(args, args.latents, args.sources, "", records)
    test = (None, None)
    if args.test_latents is not None:
        pair = _load_pair(args, args.test_latents, args.test_sources, "test_", records)
        test = tuple(loaded.values for loaded in pair)
    return latents, sources, *test


def _with_files(result: infomec.ScoreResult, records: dict) -> infomec.ScoreResult:
    """The result with its input files' provenance, and their reading in the digest."""
    digest = digest_with_files(result.digest, records)
    return dataclasses.replace(result, inputs=records, digest=digest)


def _score_inputs(args: argparse.Namespace) -> list[str]:
    return [p for p in (args.latents, args.sources, args.test_latents, args.test_sources) if p]


def run_score(args: argparse.Namespace) -> int:
    if args.output is not None:
        check_file(args.output, _score_inputs(args))  # before any loading or computing
    records: dict[str, dict] = {}
    latents, sources, test_latents, test_sources = _load_inputs(args, records)
    try:
        result = infomec.score(
            latents=latents.values,
            sources=sources.values,
            source_names=_split_names(args.source_names) or sources.names,
            latent_names=_split_names(args.latent_names) or latents.names,
            test_latents=test_latents,
            test_sources=test_sources,
            n_jobs=args.n_jobs,
            scheduler=args.scheduler,
            **_score_options(args),
        )
    except ValueError as error:
        raise ValueError(f"{args.latents} / {args.sources}: {error}") from None
    result = _with_files(result, records)
    text = FORMATTERS[output_format(args.format, args.output)](result)
    emit(text, args.output, _score_inputs(args))
    return 0


#: The files ``demo --out DIR`` writes.
DEMO_FILES = ("sources.npz", "disentangled.npz", "entangled.npz")


def _npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def run_demo(args: argparse.Namespace) -> int:
    from infomec.demo import make_example
    from infomec.outputs import DEMO_MARKER, check_folder, write_folder

    if args.out is not None:
        # Before computing: only files infomec wrote there (verified by hash) are replaced.
        check_folder(args.out, DEMO_FILES, owned_only=True, marker=DEMO_MARKER)
    example = make_example(args.n_samples, seed=args.seed)
    names = [str(name) for name in example["source_names"]]
    results = {
        kind: infomec.score(
            latents=example[kind], sources=example["sources"], source_names=names, seed=args.seed
        )
        for kind in ("disentangled", "entangled")
    }
    print(
        f"infomec demo: {args.n_samples} samples of a factorial grid "
        f"({', '.join(names)}), 4 informative + 2 dead latents\n"
    )
    print(f"  {'':6}{'disentangled':>14}{'entangled':>12}")
    for key, label in (("infom", "InfoM"), ("infoe", "InfoE"), ("infoc", "InfoC")):
        row = "".join(
            f"{results[kind]['infomec'][key]:>{w}.3f}"
            for kind, w in (("disentangled", 14), ("entangled", 12))
        )
        print(f"  {label:6}{row}")
    print("\nDisentangled representation in detail:\n")
    print(format_table(results["disentangled"]))
    if args.out is not None:
        folder = Path(args.out)
        files = {
            "sources.npz": _npz_bytes(
                sources=example["sources"], source_names=example["source_names"]
            ),
            **{
                f"{kind}.npz": _npz_bytes(latents=example[kind])
                for kind in ("disentangled", "entangled")
            },
        }
        write_folder(folder, files, owned_only=True, marker=DEMO_MARKER)
        print(
            f"Wrote {folder}/sources.npz, disentangled.npz, entangled.npz; try:\n"
            f"  infomec score {folder}/entangled.npz {folder}/sources.npz --format table"
        )
    return 0


def _role_hint(args: argparse.Namespace, error: ValueError) -> str:
    """A single text file refused as latents for holding text is likely a sources file."""
    if args.sources is None and args.role == "latents" and "text" in str(error):
        return " (a sources file? pass --role sources)"
    return ""


def run_inspect(args: argparse.Namespace) -> int:
    """Print how the files are read (the input digest), without scoring."""
    from infomec.inputs.digest import format_digest
    from infomec.inputs.files import load_array
    from infomec.inputs.pipeline import inspect_inputs
    from infomec.result import dumps_json

    records: dict[str, dict] = {}
    discrete = {None: None, "discrete": True, "continuous": False}[args.latent_type]
    options = {"discrete_latents": discrete, "source_bins": args.source_bins}
    if args.sources is not None:
        latents, sources = _load_pair(args, args.latents, args.sources, "", records)
        arrays = {"latents": latents, "sources": sources}
        options["pruning"] = args.pruning
    else:
        role = args.role
        key = args.latents_key if role == "latents" else args.sources_key
        try:
            loaded = load_array(args.latents, role, key, **_read_options(args))
        except ValueError as error:
            raise ValueError(f"{error}{_role_hint(args, error)}") from None
        records[role] = loaded_record(args.latents, loaded)
        arrays = {role: loaded}
    try:
        digest = inspect_inputs(
            **{role: loaded.values for role, loaded in arrays.items()}, **options
        )
    except ValueError as error:
        paths = " / ".join(r["path"] for r in records.values())
        raise ValueError(f"{paths}: {error}{_role_hint(args, error)}") from None
    for role, loaded in arrays.items():
        if loaded.names:  # names from the file (header, npz names arrays)
            for record, name in zip(digest.get(role, []), loaded.names, strict=False):
                record["name"] = name
    digest = digest_with_files(digest, records)
    print(dumps_json(digest) if args.format == "json" else format_digest(digest))
    return 0


def _score_options(args: argparse.Namespace) -> dict:
    """The ``infomec.score`` keywords that ``report`` and ``sweep`` share."""
    return {
        "metrics": args.metrics,
        "preset": args.preset,
        "discrete_latents": {None: None, "discrete": True, "continuous": False}[args.latent_type],
        "k": args.k,
        "pruning": args.pruning,
        "aggregate": args.aggregate,
        "clip_nmi": args.clip_nmi,
        "max_source_values": args.max_source_values,
        "source_bins": args.source_bins,
        "test_size": args.test_size,
        "dci_model": args.dci_model,
        "seed": args.seed,
        "null": args.null,
        "null_metrics": args.null_metrics,
        "null_exact": args.null_exact,
        "max_work": args.max_work,
    }


def _max_work(text: str) -> float:
    """``--max-work``: a positive, finite number of multiply-adds (e.g. ``1e14``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive, finite number, got {text!r}")
    return value


def run_report(args: argparse.Namespace) -> int:
    from infomec.report import build_report, check_report_folder

    inputs = _score_inputs(args)
    check_report_folder(args.out, args.figure_format, inputs)  # before any computing
    records: dict[str, dict] = {}
    latents, sources, test_latents, test_sources = _load_inputs(args, records)
    if args.bootstrap == 1:
        raise UsageError("--bootstrap needs at least 2 resamples (or 0 for none)")
    try:
        _, _, written = build_report(
            latents=latents.values,
            sources=sources.values,
            out_dir=args.out,
            n_boot=args.bootstrap,
            fmt=args.figure_format,
            method=args.resample,
            source_names=_split_names(args.source_names) or sources.names,
            latent_names=_split_names(args.latent_names) or latents.names,
            test_latents=test_latents,
            test_sources=test_sources,
            n_jobs=args.n_jobs,
            scheduler=args.scheduler,
            inputs=inputs,
            input_records=records,
            **_score_options(args),
        )
    except ValueError as error:
        raise ValueError(f"{args.latents} / {args.sources}: {error}") from None
    print("\n".join(str(path) for path in written.values()))
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    from infomec.sweep import (
        check_sweep_folder,
        read_manifest,
        run_inputs,
        runs_from_paths,
        sweep,
        sweep_provenance,
        write_sweep,
    )

    if not args.latents and args.manifest is None:
        raise UsageError("give latents files, or --manifest runs.csv")
    if args.latents and args.sources is None:
        raise UsageError("latents files need --sources FILE")
    runs = [] if args.manifest is None else read_manifest(args.manifest, sources=args.sources)
    runs += runs_from_paths(args.latents, args.sources) if args.latents else []
    inputs = [p for p in (args.manifest, args.sources) if p] + run_inputs(runs)
    check_sweep_folder(args.out, inputs)  # before any scoring
    frame = sweep(
        runs,
        n_jobs=args.n_jobs,
        scheduler=args.scheduler,
        latents_key=args.latents_key,
        sources_key=args.sources_key,
        **_read_options(args),
        udr=args.udr,
        udr_correlation=args.udr_correlation,
        **_score_options(args),
    )
    failed = frame[frame["error"] != ""]
    scored = len(frame) - len(failed)
    # With some runs scored the sweep succeeds (exit 0): a failed run is a warning then,
    # and an error only when no run could be scored.
    if scored == 0 or not args.quiet:
        level = "warning" if scored else "error"
        for run, error in zip(failed["run"], failed["error"], strict=True):
            print(f"infomec: {level}: run {run} failed: {error}", file=sys.stderr)
    provenance = sweep_provenance(
        runs,
        manifest=args.manifest,
        sources=args.sources,
        options={
            **_score_options(args),
            "latents_key": args.latents_key,
            "sources_key": args.sources_key,
            "udr": args.udr,
            "udr_correlation": args.udr_correlation,
        },
    )
    written = write_sweep(frame, args.out, inputs=inputs, provenance=provenance)
    print(format_sweep_table(frame))
    print(f"scored {scored} of {len(frame)} runs; wrote {', '.join(map(str, written))}")
    return 0 if scored else EXIT_USAGE


# ----------------------------------------------------------------------- parser


def _add_score_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("latents", help="latents file (.npz, .npy or .csv), shape (N, d)")
    parser.add_argument("sources", help="sources file (.npz, .npy or .csv), shape (N, K)")
    _add_shared_score_options(parser)
    _add_single_run_options(parser)
    parser.add_argument(
        "--format",
        choices=tuple(FORMATTERS),
        default=None,
        help="output format (default: from --output's extension, .json json, .csv csv, "
        ".txt table; json otherwise and on stdout)",
    )
    parser.add_argument(
        "--output", "-o", default=None, help="write here instead of stdout (default: stdout)"
    )
    _add_text_file_options(parser)
    _add_quiet_option(parser)


def _add_single_run_options(parser: argparse.ArgumentParser) -> None:
    """Options of ``score`` and ``report`` (one representation): held-out files, names,
    threads and the dask scheduler of the metric families."""
    parser.add_argument(
        "--test-latents",
        default=None,
        help="held-out latents for dci, sap, modularity, beta_vae, factor_vae "
        "(default: split the sample by --test-size)",
    )
    parser.add_argument(
        "--test-sources",
        default=None,
        help="held-out sources (with --test-latents; default: none)",
    )
    parser.add_argument(
        "--source-names",
        default=None,
        help="comma-separated source names (default: from the file, else s0, s1, ..)",
    )
    parser.add_argument(
        "--latent-names",
        default=None,
        help="comma-separated latent names (default: from the file, else z0, z1, ..)",
    )
    parser.add_argument("--n-jobs", type=int, default=None, help="threads (default: all cores)")
    _add_scheduler_option(parser, "compute the metric families on, one task per family")


def _add_quiet_option(parser: argparse.ArgumentParser, default=argparse.SUPPRESS) -> None:
    """``--quiet`` / ``-q``, before or after the command name (a subcommand's own flag
    defaults to SUPPRESS so that it never overrides the global one)."""
    parser.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        default=default,
        help="no progress and no warnings; errors still print, exit status unchanged "
        "(default: off)",
    )


def _index_col(text: str) -> str | int:
    """``--index-col``: auto, none, a 0-based position or a column name."""
    return int(text) if text.isdigit() else text


def _add_text_file_options(parser: argparse.ArgumentParser) -> None:
    """How ``score``, ``report`` and ``sweep`` read .csv / .tsv / .txt inputs."""
    header = parser.add_mutually_exclusive_group()
    header.add_argument(
        "--header",
        dest="header",
        action="store_const",
        const=True,
        default=None,
        help="text files: the first row holds column names "
        "(default: it does unless every field in it is a number)",
    )
    header.add_argument(
        "--no-header",
        dest="header",
        action="store_const",
        const=False,
        help="text files: the first row is data (default: detected, see --header)",
    )
    parser.add_argument(
        "--index-col",
        type=_index_col,
        default="auto",
        metavar="auto|none|NAME|POS",
        help="text files: the row-index column to drop, in every file (default auto: an "
        "unnamed or 'Unnamed: 0' first column, or a first column of distinct integers in "
        "an arithmetic sequence such as 0..N-1; none keeps all). A named or numbered "
        "column must be a row index (unique row labels), else the file is refused",
    )
    for role in ROLES:
        parser.add_argument(
            f"--{role}-index-col",
            type=_index_col,
            default=None,
            metavar="auto|none|NAME|POS",
            help=f"the same for the {role} file(s) only (default: --index-col)",
        )
    parser.add_argument(
        "--decimal",
        choices=(".", ","),
        default=None,
        help="text files: the decimal mark (default: detected; ',' only with ';' or tab)",
    )
    parser.add_argument(
        "--thousands",
        choices=(".", ",", "none"),
        default=None,
        help="text files: the thousands separator (default: detected; ambiguous files "
        "such as '1.000' in a ';' file without decimal commas are refused until given)",
    )


def _add_latent_type_option(parser: argparse.ArgumentParser) -> None:
    """``--discrete`` / ``--continuous`` (``args.latent_type``; default: by dtype)."""
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument(
        "--discrete",
        dest="latent_type",
        action="store_const",
        const="discrete",
        default=None,
        help="treat latents as discrete codes (default: integer dtype)",
    )
    kind.add_argument(
        "--continuous",
        dest="latent_type",
        action="store_const",
        const="continuous",
        help="treat latents as continuous (default: float)",
    )


def _add_shared_score_options(parser: argparse.ArgumentParser) -> None:
    """Options of ``score``, ``report`` and ``sweep`` passed on to ``infomec.score``."""
    parser.add_argument(
        "--max-work",
        type=_max_work,
        default=None,
        help="multiply-adds each metric family may spend, estimated from the input's "
        "shape before it runs (default: 2e13, about half an hour on one core)",
    )
    _add_latent_type_option(parser)
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="reference",
        help="InfoMEC code path to reproduce (default: reference)",
    )
    parser.add_argument(
        "--metrics",
        default="infomec",
        help="comma-separated metric families, or 'all' (default: infomec)",
    )
    parser.add_argument(
        "--k", type=int, default=None, help="KSG neighbours (default: the preset's, 10 or 3)"
    )
    parser.add_argument(
        "--pruning",
        default=None,
        help="active-latent rule, e.g. 'range>max/20', 'iqr>0.1', 'none' (default: the preset's)",
    )
    parser.add_argument(
        "--aggregate",
        choices=("ratio", "gap"),
        default=None,
        help="InfoM/InfoC aggregation (default: the preset's, ratio)",
    )
    clip = parser.add_mutually_exclusive_group()
    clip.add_argument(
        "--clip-nmi",
        dest="clip_nmi",
        action="store_const",
        const=True,
        default=None,
        help="clip NMI entries at 1; the KSG estimate can exceed H(s) on tied latents "
        "(default: no preset clips, as the authors' code)",
    )
    clip.add_argument(
        "--no-clip-nmi",
        dest="clip_nmi",
        action="store_const",
        const=False,
        help="keep NMI entries above 1, as the authors' code does (the default of every preset)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of every stochastic step (default: 0)"
    )
    parser.add_argument(
        "--max-source-values",
        type=int,
        default=1000,
        help="sources with more distinct values are refused unless --source-bins is given "
        "(default: 1000)",
    )
    parser.add_argument(
        "--source-bins",
        type=int,
        default=None,
        help="bin sources with more than --max-source-values values (default: refuse them)",
    )
    parser.add_argument(
        "--test-size",
        type=float,
        default=1 / 3,
        help="fraction of rows held out when no test files are given (default: 1/3)",
    )
    parser.add_argument(
        "--dci-model",
        choices=DCI_MODELS,
        default="gbt",
        help="DCI predictor (default: gbt, as disentanglement_lib; hist_gbt is much faster)",
    )
    parser.add_argument(
        "--null",
        type=int,
        default=DEFAULT_NULL,
        metavar="R",
        help="shuffles of the sources for chance levels and NMI noise floors; 0: none "
        f"(default: {DEFAULT_NULL}, shared by latents with one null law: about one NMI "
        "matrix of cost)",
    )
    parser.add_argument(
        "--null-exact",
        action="store_true",
        help="score every latent under every shuffle (R NMI matrices of cost; default: "
        "tie-free continuous latents share the shuffles)",
    )
    parser.add_argument(
        "--null-metrics",
        default=None,
        metavar="FAMILIES",
        help="families with chance levels: comma-separated among infomec, mig, mig_sup, "
        "modularity, or 'all' (default: infomec)",
    )
    parser.add_argument(
        "--latents-key",
        default=None,
        help="array name in the latents .npz / .pt / .h5 / .safetensors file (an HDF5 "
        "dataset path such as eval/latents; default: 'latents' or the only array)",
    )
    parser.add_argument(
        "--sources-key",
        default=None,
        help="array name in the sources .npz / .pt / .h5 / .safetensors file "
        "(default: 'sources' or the only array)",
    )


def _add_scheduler_option(parser: argparse.ArgumentParser, purpose: str) -> None:
    """``--scheduler`` of ``score``, ``report`` and ``sweep`` (see
    :func:`infomec.parallel.map_in_order`)."""
    parser.add_argument(
        "--scheduler",
        default="joblib",
        metavar="ADDRESS",
        help=f"dask.distributed scheduler address (tcp://host:port) to {purpose} "
        "(needs the dist extra; default: this machine)",
    )


def _add_report_parser(commands) -> None:
    report = commands.add_parser(
        "report", help="figures, scores.json and a self-contained report.html in a folder"
    )
    report.add_argument("latents", help="latents file (.npz, .npy or .csv), shape (N, d)")
    report.add_argument("sources", help="sources file (.npz, .npy or .csv), shape (N, K)")
    report.add_argument("--out", required=True, help="folder to write into (created if needed)")
    report.add_argument(
        "--bootstrap",
        type=int,
        default=0,
        metavar="B",
        help="resamples for 95%% intervals of every score (default: 0, none)",
    )
    report.add_argument(
        "--resample",
        choices=("auto", "bootstrap", "half"),
        default="auto",
        help="resampling scheme of --bootstrap (default: auto, bootstrap for discrete "
        "latents, half-samples for continuous ones)",
    )
    report.add_argument(
        "--format",
        dest="figure_format",
        choices=("png", "svg", "pdf"),
        default="png",
        help="format of the figure files (default: png)",
    )
    _add_single_run_options(report)
    _add_text_file_options(report)
    _add_shared_score_options(report)
    _add_quiet_option(report)
    report.set_defaults(handler=run_report)


def _add_sweep_parser(commands) -> None:
    sweep = commands.add_parser(
        "sweep", help="score many runs into sweep.csv and sweep.png (and udr.png)"
    )
    sweep.add_argument("latents", nargs="*", help="latents files, one per run")
    sweep.add_argument(
        "--sources", default=None, help="sources file shared by the runs (default: none)"
    )
    sweep.add_argument(
        "--manifest",
        default=None,
        help="CSV with columns latents [, run, sources, model, seed]; paths relative to it "
        "(default: none)",
    )
    sweep.add_argument("--out", required=True, help="folder to write into (created if needed)")
    sweep.add_argument("--n-jobs", type=int, default=1, help="runs scored in parallel (default: 1)")
    udr = sweep.add_mutually_exclusive_group()
    udr.add_argument(
        "--udr",
        dest="udr",
        action="store_const",
        const=True,
        default=None,
        help="UDR also among the runs without a model, as seeds of one model "
        "(default: UDR per manifest model with >= 2 scored runs)",
    )
    udr.add_argument(
        "--no-udr",
        dest="udr",
        action="store_const",
        const=False,
        help="no udr column nor udr.png (default: UDR per model)",
    )
    sweep.add_argument(
        "--udr-correlation",
        choices=("spearman", "lasso"),
        default="spearman",
        help="similarity of latents across runs in UDR (default: spearman)",
    )
    _add_scheduler_option(sweep, "score the runs on")
    _add_shared_score_options(sweep)
    _add_text_file_options(sweep)
    _add_quiet_option(sweep)
    sweep.set_defaults(handler=run_sweep)


def _add_train_parser(commands) -> None:
    # models/cli.py imports torch only when training runs, so the parser is always there.
    from infomec.models.cli import add_train_arguments, run_train

    train = commands.add_parser(
        "train", help="train a reference model (QLAE, AE, VAE, ...; needs the models extra)"
    )
    add_train_arguments(train)
    _add_quiet_option(train)
    train.set_defaults(handler=_run_train_quietly_if_asked(run_train))


def _run_train_quietly_if_asked(run_train):
    """``--quiet`` for ``train``: its own progress lines off too (DIR/train.log keeps them)."""

    def handler(args: argparse.Namespace) -> int:
        if args.quiet:
            args.no_progress = True
        return run_train(args)

    return handler


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit status 2, no usage dump
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="infomec",
        description="Disentanglement metrics (InfoM / InfoE / InfoC and more) from arrays.",
    )
    parser.add_argument("--version", action="version", version=f"infomec {infomec.__version__}")
    _add_quiet_option(parser, default=False)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    score = commands.add_parser("score", help="score latents against sources")
    _add_score_arguments(score)
    score.set_defaults(handler=run_score)
    demo = commands.add_parser("demo", help="score the embedded example and compare two codes")
    demo.add_argument(
        "--n-samples", type=int, default=5000, help="rows of the example (default: 5000)"
    )
    demo.add_argument(
        "--seed", type=int, default=0, help="seed of the example and the scores (default: 0)"
    )
    demo.add_argument(
        "--out", default=None, help="also write the example files here (default: don't)"
    )
    _add_quiet_option(demo)
    demo.set_defaults(handler=run_demo)
    _add_report_parser(commands)
    _add_sweep_parser(commands)
    _add_inspect_parser(commands)
    _add_train_parser(commands)
    return parser


def _add_inspect_parser(commands) -> None:
    inspect = commands.add_parser(
        "inspect",
        help="show how input files are read (the input digest), without scoring",
        description="Print the input digest: how each file was read (format, delimiter, "
        "header, index column) and each column's dtype, distinct values, range and role "
        "(code or continuous, active or pruned, label normalisations), with the reason.",
    )
    inspect.add_argument("latents", help="latents file (or, with --role sources, a sources file)")
    inspect.add_argument("sources", nargs="?", default=None, help="sources file (optional)")
    inspect.add_argument(
        "--role",
        choices=("latents", "sources"),
        default="latents",
        help="how a single file is read (default: latents)",
    )
    _add_latent_type_option(inspect)
    inspect.add_argument(
        "--pruning", default=None, help="active-latent rule (default: the preset's)"
    )
    inspect.add_argument(
        "--source-bins", type=int, default=None, help="bin sparse numeric sources (default: no)"
    )
    inspect.add_argument("--latents-key", default=None, help="array name in a latents .npz")
    inspect.add_argument("--sources-key", default=None, help="array name in a sources .npz")
    inspect.add_argument(
        "--format", choices=("text", "json"), default="text", help="output (default: text)"
    )
    _add_text_file_options(inspect)
    _add_quiet_option(inspect)
    inspect.set_defaults(handler=run_inspect)


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the exit-time flush is quiet."""
    with contextlib.suppress(Exception):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``infomec`` console script; returns the exit status.

    With ``argv=None`` (the console script, ``python -m cli``) the process is ours:
    SIGTERM is handled like Ctrl-C, and a signal that arrives after the command has
    finished still ends the process with one line and 130 / 143.
    """
    warnings.showwarning = _print_warning
    owns_process = argv is None
    if owns_process:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        status = _main(argv)
    except KeyboardInterrupt as interrupt:  # arrived while _main was reporting something
        status = _interrupted(interrupt)
    finally:
        if owns_process:
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, _late_signal)
    if owns_process:
        global _final_status
        _final_status = status
    return status


def _interrupted(interrupt: KeyboardInterrupt) -> int:
    terminated = isinstance(interrupt, Terminated)
    print(f"infomec: {'terminated' if terminated else 'interrupted'}", file=sys.stderr)
    return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
        # --quiet: progress off, and every warning (ours, numba's, scikit-learn's)
        # ignored; errors are not warnings and still print.
        # A first run compiles the numba kernels (~15 s): say so once, unless --quiet.
        with quiet(args.quiet), announce_compilation(enabled=not args.quiet):
            status = args.handler(args)
        if sys.stdout is not None:
            sys.stdout.flush()  # a broken pipe shows here, not at exit
        return status
    except UsageError as error:
        print(f"infomec: error: {error} (see infomec --help)", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except NonFiniteError as error:
        print(f"infomec: error: {error}", file=sys.stderr)
        return EXIT_BUG
    except (ValueError, OSError) as error:
        text = " ".join(str(error).split())
        print(f"infomec: error: {text}", file=sys.stderr)
        return EXIT_USAGE
    except MemoryError as error:
        # Costs are estimated before allocating (infomec.cost); this is the last resort.
        detail = " ".join(str(error).split())
        print(
            f"infomec: error: out of memory{f' ({detail})' if detail else ''}; "
            "score fewer latents or a subsample of the rows",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except KeyboardInterrupt as interrupt:  # Ctrl-C, or SIGTERM (Terminated)
        return _interrupted(interrupt)


if __name__ == "__main__":
    sys.exit(main())
