"""The report pipeline: score -> bootstrap -> figures -> HTML page, written as one folder.

What ``infomec report`` does. The figures live in :mod:`infomec.figures` and the page in
:mod:`infomec.report_html`; the names below re-export the figure functions most often
used from here.

Examples
--------
>>> import numpy as np, infomec
>>> from infomec.report import plot_nmi
>>> sources = np.repeat(np.arange(4), 25)[:, None]
>>> ax = plot_nmi(infomec.score(latents=sources.copy(), sources=sources))
>>> [label.get_text() for label in ax.get_yticklabels()]
['s0']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from infomec.cost import check_figures
from infomec.figures import (
    CELL_INCHES,
    DPI,
    FORMATS,
    INACTIVE_COLOR,
    Intervals,
    figure_bytes,
    latent_order,
    plot_infoe,
    plot_nmi,
    plot_summary,
    plot_sweep,
    plot_udr,
    save_figure,
    smallest_text_points,
)
from infomec.inputs.digest import digest_with_files
from infomec.inputs.frameworks import numpy_inputs
from infomec.outputs import check_folder, write_folder
from infomec.report_html import render_html, report_dict
from infomec.result import ScoreResult, dumps_json

__all__ = [
    "DPI",
    "FORMATS",
    "INACTIVE_COLOR",
    "build_report",
    "check_report_folder",
    "figure_bytes",
    "latent_order",
    "plot_infoe",
    "plot_nmi",
    "plot_summary",
    "plot_sweep",
    "plot_udr",
    "render_html",
    "report_dict",
    "report_files",
    "save_figure",
    "write_report",
]


def report_files(fmt: str = "png") -> list[str]:
    """Every file name a report may write (the set :func:`write_report` replaces).

    Examples
    --------
    >>> report_files("svg")
    ['nmi.svg', 'infoe.svg', 'summary.svg', 'scores.json', 'report.html']
    """
    if fmt not in FORMATS:
        raise ValueError(f"figure format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    return [f"{stem}.{fmt}" for stem in ("nmi", "infoe", "summary")] + [
        "scores.json",
        "report.html",
    ]


def check_report_folder(
    out_dir: str | Path, fmt: str = "png", inputs: Sequence[str | Path] = ()
) -> None:
    """Raise (``ValueError`` / ``OSError``) unless a report can be written into ``out_dir``.

    Cheap: :func:`build_report` calls it before computing anything.
    """
    check_folder(out_dir, report_files(fmt), inputs)


def write_report(
    result: ScoreResult,
    out_dir: str | Path,
    *,
    intervals: Intervals | None = None,
    fmt: str = "png",
    dpi: int = DPI,
    inputs: Sequence[str | Path] = (),
) -> dict[str, Path]:
    """Write the figures, ``scores.json`` and ``report.html`` into ``out_dir``, as one set.

    Parameters
    ----------
    result : ScoreResult
    out_dir : str or path-like
        Created if missing. Every file is rendered first, then the set replaces the
        previous report's set at once (:func:`infomec.outputs.write_folder`): an
        interrupted report leaves the old report whole; other files are left alone.
    intervals : dict, optional
        :func:`infomec.bootstrap` output (adds ``"ci"`` to ``scores.json``).
    fmt : {"png", "svg", "pdf"}, default="png"
        Format of the figure files (the HTML page always embeds PNG renderings).
    dpi : int, default=150
    inputs : sequence of path, optional
        Files the report was computed from; refused as targets.

    Returns
    -------
    dict
        ``{"nmi": path, "infoe": path, "summary": path, "scores": path, "html": path}``
        (no ``nmi`` / ``infoe`` without the ``infomec`` family).

    Raises
    ------
    infomec.result.NonFiniteError
        A score is NaN or infinite (a bug); nothing is written.

    Examples
    --------
    >>> import numpy as np, infomec, tempfile
    >>> sources = np.repeat(np.arange(3), 20)[:, None]
    >>> result = infomec.score(latents=sources.copy(), sources=sources)
    >>> sorted(write_report(result, tempfile.mkdtemp()))
    ['html', 'infoe', 'nmi', 'scores', 'summary']
    """
    check_report_folder(out_dir, fmt, inputs)
    folder = Path(out_dir)
    # Serialised first: a NaN (a bug) stops the report before anything is drawn or written.
    scores_json = dumps_json(report_dict(result, intervals), indent=2)
    figures: list[tuple[str, str, Figure]] = []
    if "infomec" in result.families:
        figures.append(
            (
                "nmi",
                "Normalised mutual information between each source and each latent",
                plot_nmi(result, intervals=intervals).figure,
            )
        )
        figures.append(
            ("infoe", "InfoE per source", plot_infoe(result, intervals=intervals).figure)
        )
    figures.append(("summary", "Every scalar score", plot_summary(result, intervals=intervals)))
    keys: dict[str, str] = {}
    files: dict[str, bytes | str] = {}
    embedded: list[tuple[str, str, bytes, float | None]] = []
    for stem, caption, figure in figures:
        name = f"{stem}.{fmt}"
        payload = figure_bytes(figure, fmt, dpi)
        png = payload if fmt == "png" else figure_bytes(figure, "png", dpi)
        smallest = smallest_text_points(figure)  # after drawing: tick labels exist then
        embedded.append((name, caption, png, None if smallest is None else smallest * dpi / 72))
        files[name] = payload
        keys[stem] = name
    files["scores.json"] = scores_json
    keys["scores"] = "scores.json"
    files["report.html"] = render_html(result, embedded, intervals=intervals)
    keys["html"] = "report.html"
    written = write_folder(folder, files, inputs=inputs)
    return {key: written[name] for key, name in keys.items()}


def build_report(
    *,
    latents,
    sources,
    out_dir: str | Path,
    n_boot: int = 0,
    fmt: str = "png",
    seed: int = 0,
    confidence: float = 0.95,
    method: str = "auto",
    progress: bool | None = None,
    inputs: Sequence[str | Path] = (),
    input_records: Mapping[str, Mapping[str, Any]] | None = None,
    **score_kwargs: Any,
) -> tuple[ScoreResult, dict[str, tuple[float, float]] | None, dict[str, Path]]:
    """Score, optionally bootstrap, and write the report folder (what ``infomec report`` does).

    Parameters
    ----------
    latents, sources : array-like
    out_dir : str or path-like
    n_boot : int, default=0
        Resamples for the intervals (:func:`infomec.bootstrap`); 0 computes none.
    fmt : {"png", "svg", "pdf"}, default="png"
    seed : int, default=0
    confidence : float, default=0.95
    method : {"auto", "bootstrap", "half"}, default="auto"
    progress : bool, optional
        Progress of the scoring and the resamples on stderr (see
        :mod:`infomec.progress`; default: shown unless silenced).
    inputs : sequence of path, optional
        Files ``latents`` and ``sources`` were read from: never overwritten.
    input_records : dict, optional
        Their provenance by role (:func:`infomec.provenance.loaded_record`), recorded
        in ``scores.json`` and ``report.html`` as ``result.inputs``.
    **score_kwargs
        Any other keyword of :func:`infomec.score`.

    Returns
    -------
    result : ScoreResult
        With the resampling settings under ``settings["bootstrap"]`` when ``n_boot > 0``.
    intervals : dict or None
    written : dict
        :func:`write_report`'s paths.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> sources = np.repeat(np.arange(3), 20)[:, None]
    >>> result, intervals, written = build_report(
    ...     latents=sources.copy(), sources=sources, out_dir=tempfile.mkdtemp(), n_boot=5)
    >>> intervals["infomec.infom"], written["html"].name
    ((1.0, 1.0), 'report.html')
    """
    import dataclasses
    import time

    from infomec.bootstrap import bootstrap, resolve_method
    from infomec.scoring import score

    started = time.perf_counter()

    latents, sources, _, _, *names = numpy_inputs(
        latents,
        sources,
        None,
        None,
        score_kwargs.pop("source_names", None),
        score_kwargs.pop("latent_names", None),
    )
    score_kwargs.update(source_names=names[0], latent_names=names[1])
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ValueError(f"n_boot must be 0 (no intervals) or an integer >= 2, got {n_boot!r}")
    # The folder is checked before any computing: a bad --out costs nothing.
    check_report_folder(out_dir, fmt, inputs)
    if np.ndim(latents) == 2 and np.ndim(sources) == 2:  # else score() says what is wrong
        check_figures(np.shape(sources)[1], np.shape(latents)[1], dpi=DPI, cell_inches=CELL_INCHES)
    result = score(latents=latents, sources=sources, seed=seed, progress=progress, **score_kwargs)
    if input_records:
        digest = digest_with_files(result.digest, dict(input_records))
        result = dataclasses.replace(result, inputs=dict(input_records), digest=digest)
    intervals = None
    if n_boot:
        intervals = bootstrap(
            latents=latents,
            sources=sources,
            n_boot=n_boot,
            seed=seed,
            confidence=confidence,
            method=method,
            result=result,
            progress=progress,
            **score_kwargs,
        )
        resolved = resolve_method(method, latents, score_kwargs.get("discrete_latents"))
        settings = dict(
            result.settings,
            bootstrap={
                "n_boot": int(n_boot),
                "method": resolved,
                "confidence": float(confidence),
                "seed": seed,
            },
        )
        # elapsed_s (the page's "scored in", scores.json) covers the whole run: the
        # resamples take most of it (464 s were once shown as the 23.8 s of scoring).
        result = dataclasses.replace(
            result, settings=settings, elapsed_s=time.perf_counter() - started
        )
    written = write_report(result, out_dir, intervals=intervals, fmt=fmt, inputs=inputs)
    return result, intervals, written
