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
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
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
        rows.append(
            f"<tr><td>{html.escape(name)}</td>"
            f"<td class='num'>{family['infoe_per_source'][index]:.4f}</td>"
            f"<td class='num'>{span}</td>"
            f"<td>{'yes' if family['converged'][index] else 'no'}</td>"
            f"<td>{html.escape(result.latent_names[best])} ({nmi_row[best]:.2f})</td></tr>"
        )
    return "\n".join(rows)


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
        how = "; ".join(f"{key} {json.dumps(to_plain(value))}" for key, value in read.items())
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
    figures : sequence of (file name, caption, png bytes)
        Each figure is embedded from the PNG bytes and linked to ``file name`` (a path
        relative to the page), the same figure in the format the user chose.
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
        f"scored in {result.elapsed_s:.2f} s; "
        f"infomec {html.escape(str(result.settings.get('versions', {}).get('infomec', '?')))}"
        "</p>",
        "<h2>Scores</h2>",
        "<table><tr><th>score</th><th>value</th>"
        f"<th colspan='2'>{'interval' if intervals else 'interval (not computed)'}</th>"
        f"<th>{'chance level' if result.chance else 'chance level (not computed)'}</th></tr>",
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
    for name, caption, png in figures:
        encoded = base64.b64encode(png).decode("ascii")
        parts.append(
            f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,{encoded}'>"
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
