"""The self-contained HTML page of a report: scores, intervals, inputs, figures, settings.

A function of a finished :class:`~infomec.result.ScoreResult` and of already rendered
figure bytes; it imports nothing above :mod:`infomec.result`.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from infomec.inputs.digest import format_digest
from infomec.result import ScoreResult, chance_key, format_score, per_source_key, to_plain

Intervals = Mapping[str, Sequence[float]]

#: Width of the page's column in CSS pixels (``max-width`` 1100 px less the padding).
PAGE_PX = 1068
#: The smallest text a figure may show in the page, in CSS pixels.
MIN_LABEL_PX = 10.0
#: NMI below this shows as 0.00: no latent carries the source.
NO_INFORMATION = 0.005


def report_dict(result: ScoreResult, intervals: Intervals | None = None) -> dict[str, Any]:
    """The SPEC section 4 JSON content, plus ``"ci"`` when intervals are given.

    An interval that the resamples could not determine (no finite replicate) is
    ``[null, null]``; every other value is finite (:func:`infomec.result.dumps_json`
    refuses NaN).
    """
    content = result.to_dict()
    if intervals is not None:
        content["ci"] = {
            key: [float(v) if math.isfinite(v) else None for v in bound]
            for key, bound in intervals.items()
        }
    return to_plain(content)


def _flatten(settings: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows = []
    for key, value in settings.items():
        if isinstance(value, Mapping):
            rows.extend(_flatten(value, f"{prefix}{key}."))
        else:
            plain = to_plain(value)
            rows.append((f"{prefix}{key}", plain if isinstance(plain, str) else json.dumps(plain)))
    return rows


_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.8em; }
.meta { color: #666; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.8em; text-align: left; }
td.num { text-align: right; font-family: ui-monospace, Menlo, Consolas, monospace; }
figure { margin: 1em 0; overflow-x: auto; }
figure img { max-width: none; height: auto; border: 1px solid #eee; }
th.span { text-align: center; border-bottom: none; } th.num { text-align: right; }
figcaption { color: #555; font-size: 0.9em; }
"""


def _score_rows(result: ScoreResult, intervals: Intervals | None) -> str:
    rows = []
    for key, value in result.scalars().items():
        bound = (intervals or {}).get(key)
        finite = bound is not None and all(math.isfinite(v) for v in bound)
        cells = [format_score(key, v) for v in bound] if finite else ["", ""]
        chance = result.chance_scalars()
        level = ""
        if chance_key(key) in chance:
            level = (
                f"{chance[chance_key(key)]:.3f} (95th pct {chance[chance_key(key, 'p95')]:.3f},"
                f" p = {chance[chance_key(key, 'p_value')]:.2f})"
            )
        rows.append(
            f"<tr><td>{html.escape(key)}</td><td class='num'>{format_score(key, value)}</td>"
            f"<td class='num'>{cells[0]}</td><td class='num'>{cells[1]}</td>"
            f"<td class='num'>{level}</td></tr>"
        )
    return "\n".join(rows)


def _source_rows(result: ScoreResult, intervals: Intervals | None) -> str:
    family = result["infomec"]
    rows = []
    for index, name in enumerate(result.source_names):
        bound = (intervals or {}).get(per_source_key(index))
        span = f"{bound[0]:.4f} – {bound[1]:.4f}" if bound is not None else ""
        nmi_row = np.asarray(family["nmi"])[index]
        best = int(nmi_row.argmax())
        # A source that no latent carries has no best latent (argmax would name z0).
        if nmi_row[best] < NO_INFORMATION:
            carried_by = "none (every NMI 0.00)"
        else:
            carried_by = f"{result.latent_names[best]} ({nmi_row[best]:.2f})"
        rows.append(
            f"<tr><td>{html.escape(name)}</td>"
            f"<td class='num'>{family['infoe_per_source'][index]:.4f}</td>"
            f"<td class='num'>{span}</td>"
            f"<td>{'yes' if family['converged'][index] else 'no'}</td>"
            f"<td>{html.escape(carried_by)}</td></tr>"
        )
    return "\n".join(rows)


def describe_read(read: Mapping[str, Any]) -> str:
    """What was read from an input file, as words (the ``read`` record of provenance).

    Examples
    --------
    >>> describe_read({"format": "npz", "key": "latents", "names_key": None})
    'npz file, array latents'
    >>> describe_read({"format": "text", "header": True, "columns": ["a", "b"],
    ...                "index_col_dropped": None})
    'text file, header row: a, b'
    """
    parts = [f"{read.get('format', '?')} file"]
    if read.get("key") is not None:
        parts.append(f"array {read['key']}")
    if read.get("names_key") is not None:
        parts.append(f"names from {read['names_key']}")
    if "header" in read:
        columns = read.get("columns")
        if read["header"] and columns:
            shown = ", ".join(map(str, columns[:12])) + (", ..." if len(columns) > 12 else "")
            parts.append(f"header row: {shown}")
        else:
            parts.append("header row" if read["header"] else "no header row")
    elif read.get("columns"):
        parts.append(f"columns: {', '.join(map(str, read['columns'][:12]))}")
    if read.get("index_col_dropped") is not None:
        parts.append(f"index column {read['index_col_dropped']} dropped")
    known = {"format", "key", "names_key", "header", "columns", "index_col_dropped"}
    for key, value in read.items():
        if key not in known and value is not None:
            plain = to_plain(value)
            parts.append(f"{key} {plain if isinstance(plain, str) else json.dumps(plain)}")
    return ", ".join(parts)


def _png_width(png: bytes) -> int | None:
    """The width of a PNG image, from its header (None if it is not a PNG)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or len(png) < 24:
        return None
    return int.from_bytes(png[16:20], "big")


def display_width(natural_px: int, smallest_text_px: float | None) -> int:
    """CSS width of a figure in the page: within the column when its smallest text
    stays >= :data:`MIN_LABEL_PX` there, wider otherwise (the figure then scrolls).

    Examples
    --------
    >>> display_width(800, 15.0), display_width(2000, 15.0), display_width(2000, 30.0)
    (800, 1334, 1068)
    """
    if natural_px <= PAGE_PX or not smallest_text_px:
        return min(natural_px, PAGE_PX)
    needed = math.ceil(natural_px * MIN_LABEL_PX / smallest_text_px)
    return int(min(natural_px, max(PAGE_PX, needed)))


def _input_rows(result: ScoreResult) -> list[str]:
    """The "Inputs" section: each input file's path, size, SHA-256 and what was read."""
    if not result.inputs:
        return ["<h2>Inputs</h2>", "<p class='meta'>Arrays in memory (no input files).</p>"]
    rows = [
        "<h2>Inputs</h2>",
        "<table><tr><th>role</th><th>path</th><th>size (bytes)</th><th>SHA-256</th>"
        "<th>read</th></tr>",
    ]
    for role, record in result.inputs.items():
        read = record.get("read") or {}
        how = describe_read(read)
        rows.append(
            f"<tr><td>{html.escape(role)}</td>"
            f"<td>{html.escape(str(record.get('path', '')))}<br>"
            f"<span class='meta'>{html.escape(str(record.get('absolute_path', '')))}</span></td>"
            f"<td class='num'>{record.get('size_bytes', '')}</td>"
            f"<td class='num'>{html.escape(str(record.get('sha256', '')))}</td>"
            f"<td>{html.escape(how)}</td></tr>"
        )
    rows.append("</table>")
    return rows


def _elapsed_text(result: ScoreResult) -> str:
    """``scored in`` the whole run (:func:`infomec.report.build_report` counts the
    bootstrap in ``elapsed_s``)."""
    boot = result.settings.get("bootstrap") or {}
    if not boot:
        return f"scored in {result.elapsed_s:.2f} s"
    return f"scored in {result.elapsed_s:.2f} s ({boot.get('n_boot', '?')} resamples included)"


def _interval_header(result: ScoreResult, intervals: Intervals | None) -> str:
    if not intervals:
        return "interval (not computed)"
    confidence = float((result.settings.get("bootstrap") or {}).get("confidence", 0.95))
    return f"{100 * confidence:.0f}% interval"


def render_html(
    result: ScoreResult,
    figures: Sequence[tuple[str, str, bytes]],
    *,
    intervals: Intervals | None = None,
    title: str = "infomec report",
) -> str:
    """One self-contained HTML page: figures inline (base64 PNG), scores, settings.

    Parameters
    ----------
    result : ScoreResult
    figures : sequence of (file name, caption, png bytes[, smallest text px])
        Each figure is embedded from the PNG bytes and linked to ``file name`` (a path
        relative to the page), the same figure in the format the user chose. With the
        height in PNG pixels of its smallest text, a wide figure is shown no smaller
        than keeps that text >= 10 CSS pixels (:func:`display_width`).
    intervals : dict, optional
    title : str

    Returns
    -------
    str
    """
    parts = [
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p class='meta'>"
        f"{result.n_samples} samples, {len(result.latent_names)} latents, "
        f"{len(result.source_names)} sources; preset "
        f"{html.escape(str(result.settings.get('preset', '?')))}; "
        f"{_elapsed_text(result)}; "
        f"infomec {html.escape(str(result.settings.get('versions', {}).get('infomec', '?')))}"
        "</p>",
        "<h2>Scores</h2>",
        "<table><tr><th rowspan='2'>score</th><th rowspan='2' class='num'>value</th>"
        f"<th colspan='2' class='span'>{_interval_header(result, intervals)}</th>"
        f"<th rowspan='2' class='num'>"
        f"{'chance level' if result.chance else 'chance level (not computed)'}</th></tr>"
        "<tr><th class='num'>low</th><th class='num'>high</th></tr>",
        _score_rows(result, intervals),
        "</table>",
    ]
    if intervals:
        boot = result.settings.get("bootstrap", {})
        parts.append(
            f"<p class='meta'>Intervals: {html.escape(str(boot.get('method', '?')))} "
            f"resampling of rows, {boot.get('n_boot', '?')} resamples, "
            f"{100 * float(boot.get('confidence', 0.95)):.0f}% percentile intervals "
            "re-centred on the estimate.</p>"
        )
    if "infomec" in result.families:
        parts += [
            "<h2>Sources</h2>",
            "<table><tr><th>source</th><th>InfoE</th><th>interval</th><th>converged</th>"
            "<th>best latent (NMI)</th></tr>",
            _source_rows(result, intervals),
            "</table>",
        ]
    parts += _input_rows(result)
    if result.digest:
        parts += [
            "<h2>Input digest</h2>",
            "<p class='meta'>How each input was read: check the columns' roles below "
            "(<code>infomec inspect</code> prints the same without scoring).</p>",
            f"<pre>{html.escape(format_digest(result.digest))}</pre>",
        ]
    parts.append("<h2>Figures</h2>")
    for name, caption, png, *smallest in figures:
        encoded = base64.b64encode(png).decode("ascii")
        natural = _png_width(png)
        size = ""
        if natural is not None:
            size = f" width='{display_width(natural, smallest[0] if smallest else None)}'"
        parts.append(
            f"<figure><img alt='{html.escape(caption)}'{size} "
            f"src='data:image/png;base64,{encoded}'>"
            f"<figcaption>{html.escape(caption)} "
            f"(<a href='{html.escape(name)}'>{html.escape(name)}</a>)</figcaption></figure>"
        )
    parts += [
        "<h2>Settings</h2>",
        "<table><tr><th>setting</th><th>value</th></tr>",
        *(
            f"<tr><td>{html.escape(key)}</td><td>{html.escape(value)}</td></tr>"
            for key, value in _flatten(result.settings)
        ),
        "</table>",
        "<p class='meta'>All scores: <a href='scores.json'>scores.json</a>.</p>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
