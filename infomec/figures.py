"""Figures of a finished :class:`~infomec.result.ScoreResult` (and of sweep tables).

Figures are functions of a result, the way scikit-learn's ``*Display`` objects sit on top
of fitted estimators: this module imports nothing above :mod:`infomec.result` (no scoring,
no bootstrap, no sweep), so a result can draw itself without an import cycle
(``ScoreResult.plot_*`` import it lazily). The HTML page is :mod:`infomec.report_html`;
the pipeline (score -> bootstrap -> figures -> page) is :mod:`infomec.report`.

Figures are built on :class:`matplotlib.figure.Figure` objects and rendered by the Agg
canvas directly, never through ``pyplot``: no display, no global figure registry and no
backend switch are involved, so reports render headless, in worker threads, and inside
a notebook without changing the notebook's own backend. Functions that take ``ax`` draw
into an existing axes instead (e.g. one made with ``pyplot``) and return it.

Examples
--------
>>> import numpy as np, infomec
>>> from infomec.figures import plot_nmi
>>> sources = np.repeat(np.arange(4), 25)[:, None]
>>> ax = plot_nmi(infomec.score(latents=sources.copy(), sources=sources))
>>> [label.get_text() for label in ax.get_yticklabels()]
['s0']
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from infomec.outputs import write_file
from infomec.result import ScoreResult, format_score, per_source_key
from infomec.sweep_table import score_columns

FORMATS = ("png", "svg", "pdf")
INACTIVE_COLOR = "#c62828"
#: Sweep groups with fewer runs are drawn as labelled points, without a box plot.
MIN_BOX_RUNS = 5
#: Sweeps of at most this many runs label every point of the scatter.
MAX_LABELLED_RUNS = 20
HEATMAP_CMAP = "viridis"
DPI = 150
# Scalars that are not scores in [0, 1]: listed as numbers in the summary, not drawn as bars.
UNBOUNDED_SCALARS = frozenset(
    {
        "factor_vae.num_active_dims",
        "irs.num_active_dims",
        "unsupervised.gaussian_total_correlation",
        "unsupervised.gaussian_wasserstein_correlation",
        "unsupervised.mutual_info_score",
    }
)
_PRETTY = {"infom": "InfoM", "infoe": "InfoE", "infoc": "InfoC"}

Intervals = Mapping[str, Sequence[float]]


# ------------------------------------------------------------------------ helpers


def _require_infomec(result: ScoreResult) -> dict[str, Any]:
    if "infomec" not in result.families:
        raise ValueError("the result has no 'infomec' family; score with metrics including it")
    return result["infomec"]


def _new_axes(width: float, height: float, layout: str = "constrained") -> Axes:
    figure = Figure(figsize=(width, height), layout=layout)
    return figure.add_subplot()


def _text_color(value: float, cmap: str) -> str:
    """Black or white, whichever reads better on the colour ``value`` maps to."""
    red, green, blue, _ = matplotlib.colormaps[cmap](float(np.clip(value, 0.0, 1.0)))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "black" if luminance > 0.45 else "white"


def _interval_text(interval: Sequence[float] | None, digits: int = 2, key: str = "") -> str:
    """`` [low, high]`` with ``digits`` decimals (counts as integers, see
    :func:`infomec.result.format_score`), or ``""`` without a finite interval."""
    if interval is None or not all(np.isfinite(interval)):
        return ""
    low, high = (format_score(key, bound, digits) for bound in interval[:2])
    return f" [{low}, {high}]"


def _rotate_if_long(ax: Axes, labels: Sequence[str], axis: str = "x") -> None:
    # Short labels (z0, s3) stay horizontal; long names would collide with their
    # neighbours at one cell per label, so they are slanted.
    if axis == "x" and max((len(label) for label in labels), default=0) > 4:
        for label in ax.get_xticklabels():
            label.set_rotation(40)
            label.set_horizontalalignment("right")
            label.set_rotation_mode("anchor")


def latent_order(nmi: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Column order that puts each latent under the source it captures best.

    Active latents come first, grouped by their best source (in source order) and by
    decreasing NMI within a group, so a disentangled code shows a diagonal; inactive
    latents follow, ordered the same way.

    Parameters
    ----------
    nmi : ndarray of shape (n_sources, n_latents)
    active : ndarray of bool, shape (n_latents,)

    Returns
    -------
    ndarray of int, shape (n_latents,)

    Examples
    --------
    >>> nmi = np.array([[0.1, 0.9, 0.0], [0.8, 0.0, 0.2]])
    >>> latent_order(nmi, np.array([True, True, True])).tolist()
    [1, 0, 2]
    """
    nmi = np.asarray(nmi, dtype=float)
    best = nmi.argmax(axis=0)
    strength = nmi.max(axis=0)
    # np.lexsort sorts by the last key first.
    return np.lexsort((-strength, best, ~np.asarray(active, dtype=bool)))


def _below_floor(family: Mapping[str, Any]) -> np.ndarray | None:
    """Mask of NMI entries not above their noise floor, or None without a null."""
    chance = family.get("chance")
    if chance is None:
        return None
    return ~np.asarray(chance["nmi_above_floor"], dtype=bool)


def _draw_chance(ax: Axes, position: float, level: Mapping[str, float]) -> None:
    """A tick at a score's chance level and a dotted box over its 5-95% band."""
    ax.add_patch(
        Rectangle(
            (level["p05"], position - 0.36),
            max(level["p95"] - level["p05"], 0.0),
            0.72,
            facecolor="none",
            edgecolor="0.25",
            linestyle=":",
            linewidth=0.9,
            zorder=4,
            gid="chance_band",
        )
    )
    ax.plot(
        [level["mean"], level["mean"]],
        [position - 0.42, position + 0.42],
        color="black",
        linewidth=1.8,
        zorder=5,
        gid="chance",
    )


def _chance_level(result: ScoreResult, key: str) -> Mapping[str, float] | None:
    family, _, name = key.partition(".")
    level = result.chance.get(family, {}).get(name)
    return level if isinstance(level, Mapping) else None


def _heatmap(
    ax: Axes,
    values: np.ndarray,
    *,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    vmax: float,
    cmap: str,
    annotate: bool,
) -> Any:
    image = ax.imshow(values, vmin=0.0, vmax=vmax, cmap=cmap, aspect="equal")
    rows, columns = values.shape
    ax.set_xticks(np.arange(columns), labels=list(column_labels))
    ax.set_yticks(np.arange(rows), labels=list(row_labels))
    ax.tick_params(length=0, labelsize=8)
    # Thin white cell borders keep neighbouring cells apart at any colour.
    ax.set_xticks(np.arange(columns + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(rows + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.0)
    ax.tick_params(which="minor", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if annotate:
        for i in range(rows):
            for j in range(columns):
                ax.text(
                    j,
                    i,
                    f"{values[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color=_text_color(values[i, j] / vmax if vmax > 0 else 0.0, cmap),
                    gid="cell",
                )
    _rotate_if_long(ax, column_labels)
    return image


CELL_INCHES = 0.45


def _colorbar(
    ax: Axes, image: Any, shape: tuple[int, int] | None, cell: float = CELL_INCHES
) -> Any:
    """A colour bar as long as the matrix, when the cell size is ours to know.

    A colour bar's width is a fraction of its parent's width and its length a multiple
    of its width, so with default settings a tall, narrow matrix gets a stubby bar; for
    matrices drawn at a known cell size (``cell`` inches) both are set from the matrix
    shape instead.
    """
    if shape is None:
        return ax.figure.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
    n_rows, n_columns = shape
    width = 0.13  # inches
    return ax.figure.colorbar(
        image,
        ax=ax,
        fraction=1.3 * width / (n_columns * cell),
        aspect=n_rows * cell / width,
        pad=0.02,
    )


def heatmap_size(
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    *,
    title_lines: int = 1,
    cell: float = CELL_INCHES,
) -> tuple[float, float]:
    """Figure size (inches) for a heatmap of square cells with its labels and colour bar.

    The size is computed from the content rather than padded generously: fixed-aspect
    axes in a figure with slack float in it, and the colour bar (which spans the axes
    box) then no longer matches the matrix.

    Examples
    --------
    >>> width, height = heatmap_size(["a", "b"], ["z0", "z1", "z2"])
    >>> round(width, 2), round(height, 2)
    (2.82, 1.97)
    """
    longest_row = max((len(label) for label in row_labels), default=1)
    longest_column = max((len(label) for label in column_labels), default=1)
    # About 0.065 inch per character at 8 points; slanted labels need their projection.
    row_margin = 0.065 * longest_row + 0.45
    column_margin = (0.05 * longest_column if longest_column > 4 else 0.15) + 0.55
    width = len(column_labels) * cell + row_margin + 0.95
    height = len(row_labels) * cell + column_margin + 0.22 * title_lines + 0.15
    return width, height


def cell_to_fill(
    width: float, row_labels: Sequence[str], column_labels: Sequence[str], largest: float = 0.8
) -> float:
    """The cell size (inches) at which a heatmap is ``width`` inches wide (between
    :data:`CELL_INCHES` and ``largest``), so that it fills a panel of that width.

    Examples
    --------
    >>> round(cell_to_fill(heatmap_size(["a"], ["z0", "z1"], cell=0.6)[0], ["a"], ["z0", "z1"]), 2)
    0.6
    """
    base, _ = heatmap_size(row_labels, column_labels, cell=0.0)
    n_columns = max(len(column_labels), 1)
    return float(np.clip((width - base) / n_columns, CELL_INCHES, largest))


# ------------------------------------------------------------------------ figures


def plot_nmi(
    result: ScoreResult,
    ax: Axes | None = None,
    *,
    intervals: Intervals | None = None,
    reorder: bool = True,
    annotate: bool = True,
    colorbar: bool = True,
    cmap: str = HEATMAP_CMAP,
) -> Axes:
    """Heatmap of the NMI matrix: sources as rows, latents as columns.

    Parameters
    ----------
    result : ScoreResult
        A result with the ``infomec`` family.
    ax : matplotlib Axes, optional
        Draw here; by default a new figure sized to the matrix is made (``ax.figure``).
    intervals : dict, optional
        :func:`infomec.bootstrap` output; the scores in the title then carry intervals.
    reorder : bool, default=True
        Order latents by the source they capture best (:func:`latent_order`).
    annotate : bool, default=True
        Write each NMI value (2 decimals) in its cell.
    colorbar : bool, default=True
    cmap : str, default="viridis"

    Returns
    -------
    matplotlib Axes
        Inactive latents have red tick labels and grey hatched columns.

    Examples
    --------
    >>> import numpy as np, infomec
    >>> sources = np.repeat(np.arange(3), 20)[:, None]
    >>> ax = infomec.score(latents=sources.copy(), sources=sources).plot_nmi()
    >>> [text.get_text() for text in ax.texts]
    ['1.00']
    """
    family = _require_infomec(result)
    nmi = np.asarray(family["nmi"], dtype=float)
    active = np.asarray(family["active_latents"], dtype=bool)
    n_sources, n_latents = nmi.shape
    order = latent_order(nmi, active) if reorder else np.arange(n_latents)
    latent_names = [result.latent_names[j] for j in order]
    owns_figure = ax is None
    intervals = intervals or {}
    scores = [
        f"{_PRETTY[key]} {family[key]:.2f}{_interval_text(intervals.get(f'infomec.{key}'))}"
        for key in ("infom", "infoe", "infoc")
    ]
    title = "   ".join(scores)
    if ax is None:
        width, _ = heatmap_size(result.source_names, latent_names)
        # A figure too narrow for the title on one line (about 0.075 inch per character
        # at 9 points) gets one score per line.
        if 0.075 * len(title) > width - 0.2:
            title = "\n".join(scores)
        n_inactive = int((~active).sum())
        below = _below_floor(family)
        noted = below is not None and bool((below & active[None, :]).any())
        ax = _new_axes(
            *heatmap_size(
                result.source_names,
                latent_names,
                title_lines=title.count("\n") + 1 + (n_inactive > 0) + noted,
            ),
            layout="compressed",
        )
    image = _heatmap(
        ax,
        nmi[:, order],
        row_labels=result.source_names,
        column_labels=latent_names,
        vmax=1.0,
        cmap=cmap,
        annotate=annotate,
    )
    for position, latent in enumerate(order):
        if active[latent]:
            continue
        ax.get_xticklabels()[position].set_color(INACTIVE_COLOR)
        ax.add_patch(
            Rectangle(
                (position - 0.5, -0.5),
                1.0,
                n_sources,
                facecolor="0.9",
                edgecolor="0.65",
                hatch="//",
                linewidth=0.0,
                gid="inactive",
            )
        )
    below = _below_floor(family)
    if below is not None:
        for position, latent in enumerate(order):
            for source in np.flatnonzero(below[:, latent] & active[latent]):
                # A white veil with dots: the entry is within what shuffled sources get.
                ax.add_patch(
                    Rectangle(
                        (position - 0.5, source - 0.5),
                        1.0,
                        1.0,
                        facecolor=(1.0, 1.0, 1.0, 0.6),
                        edgecolor="0.55",
                        hatch="..",
                        linewidth=0.0,
                        gid="below_floor",
                    )
                )
    for text in ax.texts:
        # Cells under the grey overlay or the noise veil get dark text whatever their colour.
        if text.get_gid() != "cell":
            continue
        column, row = (int(round(v)) for v in text.get_position())
        veiled = below is not None and below[row, order[column]]
        if not active[order[column]] or veiled:
            text.set_color("0.35")
            text.set_zorder(3)
    if colorbar:
        bar = _colorbar(ax, image, nmi.shape if owns_figure else None)
        bar.set_label("NMI  I(s; z) / H(s)", fontsize=8)
        bar.set_ticks([0.0, 0.25, 0.5, 0.75, 1.0])
        bar.ax.tick_params(labelsize=7)
    if owns_figure:
        # The figure-wide title spans the colour bar too, so it has the most room.
        ax.figure.suptitle(title, fontsize=9)
    else:
        ax.set_title(title, fontsize=9)
    n_inactive = int((~active).sum())
    label = "latents, ordered by the source they capture best" if reorder else "latents"
    if n_inactive:
        label += f"\n{n_inactive} inactive (red, hatched): left out of InfoM and InfoC"
    if below is not None and (below & active[None, :]).any():
        label += "\ndotted: not above its noise floor (shuffled sources)"
    ax.set_xlabel(label, fontsize=8)
    ax.set_ylabel("sources", fontsize=8)
    return ax


def plot_infoe(
    result: ScoreResult,
    ax: Axes | None = None,
    *,
    intervals: Intervals | None = None,
) -> Axes:
    """Bar chart of InfoE per source, with the mean (InfoE) as a dashed line.

    Parameters
    ----------
    result : ScoreResult
        A result with the ``infomec`` family.
    ax : matplotlib Axes, optional
    intervals : dict, optional
        :func:`infomec.bootstrap` output: adds error bars per source.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, infomec
    >>> sources = np.repeat(np.arange(3), 20)[:, None]
    >>> ax = infomec.score(latents=sources.copy(), sources=sources).plot_infoe()
    >>> len(ax.patches)
    1
    """
    family = _require_infomec(result)
    values = np.asarray(family["infoe_per_source"], dtype=float)
    converged = np.asarray(family.get("converged", np.ones(values.size, bool)), dtype=bool)
    names = list(result.source_names)
    if ax is None:
        ax = _new_axes(max(4.0, 0.55 * len(names) + 1.6), 3.2)
    positions = np.arange(values.size)
    ax.bar(positions, values, width=0.65, color="#3b6fb6", zorder=2)
    intervals = intervals or {}
    bounds = [intervals.get(per_source_key(i)) for i in range(values.size)]
    if any(bound is not None for bound in bounds):
        low = np.array([b[0] if b is not None else v for b, v in zip(bounds, values, strict=True)])
        high = np.array([b[1] if b is not None else v for b, v in zip(bounds, values, strict=True)])
        errors = np.vstack([np.maximum(values - low, 0.0), np.maximum(high - values, 0.0)])
        ax.errorbar(positions, values, yerr=errors, fmt="none", ecolor="black", capsize=3, lw=1)
    for position, value in zip(positions, values, strict=True):
        # Inside the top of the bar, clear of the error bar and of the mean line; short
        # bars have no room inside, so their label sits just above them.
        inside = value >= 0.1
        ax.text(
            position,
            value - 0.03 if inside else value + 0.03,
            f"{value:.2f}",
            ha="center",
            va="top" if inside else "bottom",
            fontsize=7,
            color="white" if inside else "black",
            zorder=4,
        )
    ax.axhline(family["infoe"], color="0.3", linestyle="--", linewidth=1, zorder=1)
    ax.text(
        1.0,
        family["infoe"],
        f" InfoE {family['infoe']:.2f}",
        transform=ax.get_yaxis_transform(),
        va="center",
        ha="left",
        fontsize=8,
        color="0.3",
    )
    ax.set_xticks(
        positions, labels=[n if c else f"{n}*" for n, c in zip(names, converged, strict=True)]
    )
    _rotate_if_long(ax, names)
    ax.set_ylim(0.0, 1.12)
    ax.set_xlim(-0.6, values.size - 0.4)
    ax.set_yticks([0.0, 0.25, 0.5, 0.75, 1.0])
    ax.set_ylabel("InfoE  (1 - CE / CE$_{null}$)", fontsize=8)
    title = "Linear predictability of each source from all latents"
    if not converged.all():
        title += "\n* probe did not converge"
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(axis="y", color="0.9", zorder=0)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def _scalar_label(key: str) -> str:
    family, _, name = key.partition(".")
    if family == "infomec":
        return _PRETTY.get(name, name)
    return f"{family}: {name}"


def _split_scalars(scalars: Mapping[str, float]) -> tuple[list[str], list[str]]:
    bounded, other = [], []
    for key, value in scalars.items():
        fits = np.isfinite(value) and 0.0 <= value <= 1.0
        (bounded if fits and key not in UNBOUNDED_SCALARS else other).append(key)
    return bounded, other


def plot_summary(
    result: ScoreResult,
    figure: Figure | None = None,
    *,
    intervals: Intervals | None = None,
) -> Figure:
    """Every scalar score as a bar (with intervals), plus the DCI importance heatmap.

    Scores in [0, 1] are drawn as horizontal bars coloured by family; other scalars
    (counts, correlations in nats) are listed as numbers beside them. When the result has
    DCI, its importance matrix is drawn below in the orientation and latent order of the
    NMI heatmap.

    Parameters
    ----------
    result : ScoreResult
    figure : matplotlib Figure, optional
        Draw into this (empty) figure; by default a new one sized to the content.
    intervals : dict, optional
        :func:`infomec.bootstrap` output: error bars on the scores.

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import numpy as np, infomec
    >>> sources = np.repeat(np.arange(3), 20)[:, None]
    >>> figure = infomec.score(latents=sources.copy(), sources=sources).plot_summary()
    >>> [label.get_text() for label in figure.axes[0].get_yticklabels()]
    ['InfoM', 'InfoE', 'InfoC']
    """
    scalars = result.scalars()
    if not scalars:
        raise ValueError("the result has no scalar score to summarise")
    bounded, other = _split_scalars(scalars)
    importance = None
    if "dci" in result.families and "importance" in result["dci"]:
        importance = np.asarray(result["dci"]["importance"], dtype=float)
    n_bars = max(len(bounded), 1)
    bar_height = 0.28 * n_bars + 1.0 + (0.18 * len(other) if other else 0.0)
    bar_height += 0.2 if result.chance else 0.0  # the title's line on chance levels
    # Labels (about 0.065 inch per character at 8 points), a 3.8-inch bar scale, and the
    # value column (wider with intervals); the family is in each label, so no legend.
    longest = max(len(_scalar_label(key)) for key in bounded) if bounded else 10
    width = 0.065 * longest + 0.4 + 3.8 + (2.0 if intervals else 0.7)
    cell = CELL_INCHES
    beside = False
    if importance is not None:
        sources, latents = result.source_names, result.latent_names
        # Stacked: the heatmap's cells grow (up to 0.8 inch) until it is as wide as the
        # bars above it. A heatmap of few latents cannot fill that width: it then goes
        # beside the bars, its cells grown towards the bars' height instead, so that
        # neither layout leaves half of the canvas blank.
        cell = cell_to_fill(width, sources, latents)
        heat_width, heat_height = heatmap_size(sources, latents, cell=cell)
        if heat_width < 0.8 * width:
            beside = True
            _, base_height = heatmap_size(sources, latents, cell=0.0)
            cell = float(
                np.clip((bar_height - base_height) / max(len(sources), 1), CELL_INCHES, 0.8)
            )
            heat_width, heat_height = heatmap_size(sources, latents, cell=cell)
    if importance is None:
        size = (width, bar_height)
    elif beside:
        size = (width + heat_width, max(bar_height, heat_height))
    else:
        size = (max(width, heat_width), bar_height + heat_height)
    if figure is None:
        figure = Figure(figsize=size, layout="constrained")
    # Sub-figures keep the panels' margins independent: long score names on the left of
    # the bars must not squeeze the heatmap beside or below them.
    if importance is None:
        panels = [figure]
    elif beside:
        grid = figure.add_gridspec(1, 2, width_ratios=[width, heat_width])
        panels = [figure.add_subfigure(grid[0, 0]), figure.add_subfigure(grid[0, 1])]
    else:
        grid = figure.add_gridspec(2, 1, height_ratios=[bar_height, heat_height])
        panels = [figure.add_subfigure(grid[0, 0]), figure.add_subfigure(grid[1, 0])]
    ax = panels[0].add_subplot()
    families = list(dict.fromkeys(key.partition(".")[0] for key in bounded))
    palette = matplotlib.colormaps["tab10"]
    colours = {family: palette(i % 10) for i, family in enumerate(families)}
    positions = np.arange(len(bounded))
    values = np.array([scalars[key] for key in bounded])
    ax.barh(
        positions,
        values,
        height=0.62,
        color=[colours[key.partition(".")[0]] for key in bounded],
        zorder=2,
    )
    intervals = intervals or {}
    for position, key in zip(positions, bounded, strict=True):
        bound = intervals.get(key)
        if bound is not None and all(np.isfinite(bound)):
            ax.errorbar(
                scalars[key],
                position,
                xerr=[[max(scalars[key] - bound[0], 0.0)], [max(bound[1] - scalars[key], 0.0)]],
                fmt="none",
                ecolor="black",
                capsize=2.5,
                lw=1,
                zorder=3,
            )
        ax.text(
            1.02,
            position,
            f"{format_score(key, scalars[key], 3)}{_interval_text(bound, 3, key)}",
            transform=ax.get_yaxis_transform(),
            va="center",
            fontsize=7.5,
            family="monospace",
        )
    with_chance = False
    for position, key in zip(positions, bounded, strict=True):
        chance_level = _chance_level(result, key)
        if chance_level is not None:
            _draw_chance(ax, position, chance_level)
            with_chance = True
    ax.set_yticks(positions, labels=[_scalar_label(key) for key in bounded])
    ax.invert_yaxis()
    ax.set_xlim(0.0, 1.0)
    ax.set_xticks([0.0, 0.25, 0.5, 0.75, 1.0])
    ax.tick_params(labelsize=8)
    ax.grid(axis="x", color="0.9", zorder=0)
    ax.spines[["top", "right"]].set_visible(False)
    level = f"{int(round(100 * _confidence(result)))}% intervals" if intervals else "no intervals"
    title = (
        f"Scores ({result.n_samples} samples, preset {result.settings.get('preset', '?')}, {level})"
    )
    if with_chance:
        draws = next(iter(result.chance.values()))["n_draws"]
        title += f"\n| chance level, dotted box its 5-95% band ({draws} shuffles of the sources)"
    ax.set_title(title, fontsize=9, loc="left")
    if other:
        lines = [
            f"{_scalar_label(key)} = {_other_value(key, scalars[key])}"
            f"{_interval_text(intervals.get(key), 3, key)}"
            for key in other
        ]
        ax.set_xlabel("\n".join(["other values:", *lines]), fontsize=7.5, loc="left")
    if importance is not None:
        heat = panels[1].add_subplot()
        _plot_importance(result, importance, heat, cell)
    return figure


def _other_value(key: str, value: float) -> str:
    # Counts as integers; correlations in nats (any magnitude) with 4 significant digits.
    text = format_score(key, value, 3)
    return text if text.lstrip("-").isdigit() else f"{value:.4g}"


def _confidence(result: ScoreResult) -> float:
    return float(result.settings.get("bootstrap", {}).get("confidence", 0.95))


def _plot_importance(
    result: ScoreResult, importance: np.ndarray, ax: Axes, cell: float = CELL_INCHES
) -> None:
    # DCI importance is (latents x sources); drawn transposed so that it lines up with
    # the NMI heatmap (sources as rows) and in the same latent order. Same colour
    # convention as the NMI heatmap (viridis on a fixed 0-1 scale): the tree models'
    # importances of a source are fractions summing to 1, so 1 is their natural top, and
    # a fixed scale keeps colours comparable between reports. (dci_model="lasso" gives
    # |coefficients|, which may exceed 1: the scale then stretches to the largest.)
    matrix = importance.T
    n_latents = matrix.shape[1]
    if "infomec" in result.families and len(result["infomec"]["active_latents"]) == n_latents:
        family = result["infomec"]
        order = latent_order(np.asarray(family["nmi"]), np.asarray(family["active_latents"]))
    else:
        order = latent_order(matrix, np.ones(n_latents, dtype=bool))
    vmax = max(1.0, float(matrix.max()) if matrix.size else 1.0)
    image = _heatmap(
        ax,
        matrix[:, order],
        row_labels=result.source_names,
        column_labels=[result.latent_names[j] for j in order],
        vmax=vmax,
        cmap=HEATMAP_CMAP,
        annotate=True,
    )
    bar = _colorbar(ax, image, matrix.shape, cell)
    bar.set_label("importance", fontsize=8)
    if vmax == 1.0:
        bar.set_ticks([0.0, 0.25, 0.5, 0.75, 1.0])
    bar.ax.tick_params(labelsize=7)
    dci = result["dci"]
    scores = ", ".join(
        f"{name[0].upper()} {dci[name]:.2f}"
        for name in ("disentanglement", "completeness")
        if name in dci
    )
    ax.set_title(f"DCI importance ({scores})" if scores else "DCI importance", fontsize=9)
    ax.set_xlabel("latents (same order as the NMI heatmap)", fontsize=8)
    ax.set_ylabel("sources", fontsize=8)


# Where a run's label may go around its point: offsets in points, then alignment.
_LABEL_SPOTS = [
    (dx * ring, dy * ring, ha, va)
    for ring in (1, 2, 3)
    for dx, dy, ha, va in (
        (4, 3, "left", "bottom"),
        (4, -3, "left", "top"),
        (-4, 3, "right", "bottom"),
        (-4, -3, "right", "top"),
        (0, 6, "center", "bottom"),
        (0, -6, "center", "top"),
        (6, 0, "left", "center"),
        (-6, 0, "right", "center"),
    )
]


def place_labels(figure: Figure, gid: str = "run-label") -> int:
    """Move the labels (annotations with ``gid``) of each axes so that none overlap.

    Each label, in drawing order, takes the first free spot around its point (right
    and above first, then the other sides, then farther out) inside its axes; a label
    with no free spot left is hidden rather than drawn over another. Labels are left
    out of the layout, so moving them does not move the axes.

    Returns
    -------
    int
        The number of labels hidden.

    Examples
    --------
    >>> figure = Figure(figsize=(2, 2))
    >>> ax = figure.add_subplot()
    >>> for name in ("first", "second"):  # two labels of one point
    ...     _ = ax.annotate(name, (0.5, 0.5), xytext=(4, 3), textcoords="offset points",
    ...                     gid="run-label")
    >>> place_labels(figure), [text.xyann for text in ax.texts]
    (0, [(4, 3), (4, -3)])
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    labels = [[t for t in ax.texts if t.get_gid() == gid] for ax in figure.axes]
    if not any(labels):
        return 0
    for text in (t for group in labels for t in group):
        text.set_in_layout(False)
    canvas = FigureCanvasAgg(figure)
    figure.draw_without_rendering()  # settles the layout, so positions are final
    renderer = canvas.get_renderer()
    hidden = 0
    for ax, group in zip(figure.axes, labels, strict=True):
        frame = ax.get_window_extent(renderer)
        taken = []
        for text in group:
            for dx, dy, ha, va in _LABEL_SPOTS:
                text.xyann = (dx, dy)
                text.set_horizontalalignment(ha)
                text.set_verticalalignment(va)
                box = text.get_window_extent(renderer).padded(1.0)
                inside = (
                    box.x0 >= frame.x0
                    and box.x1 <= frame.x1
                    and box.y0 >= frame.y0
                    and box.y1 <= frame.y1
                )
                if inside and not any(box.overlaps(other) for other in taken):
                    taken.append(box)
                    break
            else:
                text.set_visible(False)
                hidden += 1
    return hidden


def plot_sweep(
    frame,
    *,
    x: str = "infomec.infom",
    y: str = "infomec.infoe",
    hue: str = "model",
    metrics: Sequence[str] | None = None,
) -> Figure:
    """Scatter of two scores over many runs, coloured by model, plus per-metric spreads.

    Each metric panel shows every run as a point (with a little horizontal jitter); a
    group of at least :data:`MIN_BOX_RUNS` runs gets a box plot behind its points, a
    smaller group only its points, each labelled with its run name (a box of 1-4 runs
    would suggest a distribution that is not there). With at most
    :data:`MAX_LABELLED_RUNS` runs the scatter labels its points with run names too.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`infomec.sweep.sweep` output (one row per run; failed runs are skipped).
    x, y : str, default "infomec.infom", "infomec.infoe"
        Score columns of the scatter.
    hue : str, default="model"
        Column that groups runs (missing or empty values form one group).
    metrics : sequence of str, optional
        Score columns of the per-model distributions (default: every score column).

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"model": ["a", "a", "b"], "infomec.infom": [0.9, 0.8, 0.3],
    ...                       "infomec.infoe": [0.7, 0.6, 0.5], "error": ["", "", ""]})
    >>> figure = plot_sweep(frame)
    >>> figure.axes[0].get_xlabel()
    'InfoM'
    """
    n_runs = len(frame)
    if "error" in frame.columns:
        frame = frame[frame["error"].fillna("").astype(str) == ""]
    if frame.empty:
        raise ValueError("no scored run to plot")
    groups = (
        frame[hue].fillna("").astype(str).replace("", "(no model)")
        if hue in frame.columns
        else np.full(len(frame), "(no model)")
    )
    models = list(dict.fromkeys(sorted(set(groups))))
    run_names = (
        frame["run"].fillna("").astype(str).to_numpy()
        if "run" in frame.columns
        else np.array([str(i) for i in range(len(frame))])
    )
    palette = matplotlib.colormaps["tab10"]
    colours = {model: palette(i % 10) for i, model in enumerate(models)}
    metrics = list(metrics) if metrics is not None else score_columns(frame)
    n_columns = min(3, max(1, len(metrics)))
    n_rows = math.ceil(len(metrics) / n_columns) if metrics else 0
    panel_width = max(2.4, 0.55 * len(models) + 1.0)
    figure = Figure(
        figsize=(4.4 + n_columns * panel_width, max(4.0, 2.5 * n_rows)), layout="constrained"
    )
    outer = figure.add_gridspec(1, 2, width_ratios=[4.4, n_columns * panel_width])
    scatter = figure.add_subplot(outer[0])
    for model in models:
        rows = np.asarray(groups == model)
        if x in frame.columns and y in frame.columns:
            scatter.scatter(
                frame.loc[rows, x],
                frame.loc[rows, y],
                s=36,
                color=colours[model],
                edgecolor="white",
                linewidth=0.6,
                label=f"{model} ({int(rows.sum())})",
                zorder=3,
            )
            if len(frame) <= MAX_LABELLED_RUNS:
                for name, px, py in zip(
                    run_names[rows], frame.loc[rows, x], frame.loc[rows, y], strict=True
                ):
                    scatter.annotate(
                        name,
                        (px, py),
                        xytext=(4, 3),
                        textcoords="offset points",
                        fontsize=6,
                        color="0.25",
                        gid="run-label",
                    )
    scatter.set_xlim(-0.02, 1.02)
    scatter.set_ylim(-0.02, 1.02)
    scatter.set_aspect("equal")
    scatter.set_xlabel(_scalar_label(x), fontsize=9)
    scatter.set_ylabel(_scalar_label(y), fontsize=9)
    scatter.grid(color="0.9", zorder=0)
    scatter.tick_params(labelsize=8)
    failed = f" ({n_runs - len(frame)} failed, not shown)" if n_runs > len(frame) else ""
    scatter.set_title(f"{len(frame)} runs{failed}", fontsize=9)
    scatter.legend(fontsize=7, title=hue, title_fontsize=7, loc="best", frameon=True)
    if metrics:
        inner = outer[1].subgridspec(n_rows, n_columns)
        jitter = np.random.default_rng(0)  # fixed: the same sweep gives the same picture
        for index, metric in enumerate(metrics):
            ax = figure.add_subplot(inner[index // n_columns, index % n_columns])
            data, names = [], []
            for model in models:
                column = frame.loc[np.asarray(groups == model), metric]
                keep = column.notna().to_numpy()
                data.append(column.to_numpy(dtype=float)[keep])
                names.append(run_names[np.asarray(groups == model)][keep])
            boxed = [i for i, values in enumerate(data) if values.size >= MIN_BOX_RUNS]
            if boxed:
                ax.boxplot(
                    [data[i] for i in boxed],
                    positions=boxed,
                    widths=0.55,
                    showfliers=False,
                    medianprops={"color": "black"},
                    boxprops={"color": "0.4"},
                    whiskerprops={"color": "0.4"},
                    capprops={"color": "0.4"},
                )
            for position, (model, values) in enumerate(zip(models, data, strict=True)):
                offsets = jitter.uniform(-0.15, 0.15, values.size)
                ax.scatter(position + offsets, values, s=14, color=colours[model], zorder=3)
                if values.size < MIN_BOX_RUNS:
                    points = zip(names[position], position + offsets, values, strict=True)
                    for name, px, py in points:
                        ax.annotate(
                            name,
                            (px, py),
                            xytext=(5, 0),
                            textcoords="offset points",
                            va="center",
                            fontsize=6,
                            color="0.25",
                            gid="run-label",
                        )
            ax.set_xticks(np.arange(len(models)), labels=models)
            ax.set_xlim(-0.6, len(models) - 0.4)
            _rotate_if_long(ax, models)
            ax.set_title(_scalar_label(metric), fontsize=8)
            everything = np.concatenate(data) if data else np.array([])
            if everything.size and everything.min() >= 0 and everything.max() <= 1:
                # Scores in [0, 1] share one scale, so panels compare at a glance.
                ax.set_ylim(-0.02, 1.02)
            ax.tick_params(labelsize=7)
            ax.grid(axis="y", color="0.9", zorder=0)
            ax.spines[["top", "right"]].set_visible(False)
    place_labels(figure)  # run names never overlap (one with no free spot is hidden)
    return figure


def plot_udr(frame, *, x: str = "infomec.infom", hue: str = "model") -> Figure:
    """UDR of each run against a supervised score (InfoM), coloured by model.

    UDR ranks runs without sources; a sweep that also has sources shows here whether
    the ranking agrees with the supervised one (the title gives Spearman's rank
    correlation across runs, with at least 3 runs). Runs without a UDR or without
    ``x`` are left out; colours follow :func:`plot_sweep`'s.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"model": ["a", "a", "b"], "infomec.infom": [0.9, 0.8, 0.3],
    ...                       "udr": [0.7, 0.6, None], "error": ["", "", ""]})
    >>> plot_udr(frame).axes[0].get_ylabel()
    'UDR'
    """
    import pandas as pd
    from scipy.stats import spearmanr

    if "error" in frame.columns:
        frame = frame[frame["error"].fillna("").astype(str) == ""]
    groups = (
        frame[hue].fillna("").astype(str).replace("", "(no model)")
        if hue in frame.columns
        else pd.Series("(no model)", index=frame.index)
    )
    colours = {
        model: matplotlib.colormaps["tab10"](i % 10) for i, model in enumerate(sorted(set(groups)))
    }
    shown = frame["udr"].notna() & frame[x].notna() if x in frame.columns else None
    if shown is None or not shown.any():
        raise ValueError(f"no run has both a UDR and {x} to plot")
    frame, groups = frame[shown], groups[shown]
    ax = _new_axes(4.8, 4.4)
    for model in sorted(set(groups)):
        rows = np.asarray(groups == model)
        ax.scatter(frame.loc[rows, x], frame.loc[rows, "udr"], s=36, color=colours[model],
                   edgecolor="white", linewidth=0.6, label=f"{model} ({int(rows.sum())})",
                   zorder=3)  # fmt: skip
    if len(frame) <= MAX_LABELLED_RUNS and "run" in frame.columns:
        for name, px, py in zip(frame["run"].astype(str), frame[x], frame["udr"], strict=True):
            ax.annotate(name, (px, py), xytext=(4, 3), textcoords="offset points", fontsize=6,
                        color="0.25", gid="run-label")  # fmt: skip
    title = f"UDR of {len(frame)} runs"
    if len(frame) >= 3 and frame[x].nunique() > 1 and frame["udr"].nunique() > 1:
        rho = spearmanr(frame[x], frame["udr"]).statistic
        title += f"; Spearman rho with {_scalar_label(x)} = {rho:.2f}"
    ax.set_title(title, fontsize=9)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(_scalar_label(x), fontsize=9)
    ax.set_ylabel("UDR", fontsize=9)
    ax.grid(color="0.9", zorder=0)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=7, title=hue, title_fontsize=7, loc="best", frameon=True)
    place_labels(ax.figure)
    return ax.figure


# ------------------------------------------------------------------------ output


def smallest_text_points(figure: Figure) -> float | None:
    """The font size (points) of the smallest visible text in ``figure``, once drawn.

    The report page uses it to show a wide figure no smaller than keeps every label
    readable (:func:`infomec.report_html.display_width`).

    Examples
    --------
    >>> figure = Figure()
    >>> _ = figure.text(0.1, 0.1, "small", fontsize=6), figure.text(0.5, 0.5, "big")
    >>> smallest_text_points(figure)
    6.0
    """
    from matplotlib.text import Text

    sizes = [
        text.get_fontsize()
        for text in figure.findobj(Text)
        if text.get_visible() and text.get_text().strip()
    ]
    return float(min(sizes)) if sizes else None


def figure_bytes(figure: Figure, fmt: str = "png", dpi: int = DPI) -> bytes:
    """Render ``figure`` to bytes (``png``, ``svg`` or ``pdf``) without any display."""
    if fmt not in FORMATS:
        raise ValueError(f"figure format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    buffer = io.BytesIO()
    # metadata=None for svg/pdf would stamp the creation date; fixed metadata keeps the
    # files byte-identical between runs with the same inputs.
    metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}
    # A fixed salt makes SVG element ids (random by default) reproducible too.
    with matplotlib.rc_context({"svg.hashsalt": "infomec"}):
        # bbox_inches="tight" crops the spare margin that fixed-aspect heatmaps leave.
        figure.savefig(
            buffer,
            format=fmt,
            dpi=dpi,
            metadata=metadata[fmt],
            bbox_inches="tight",
            pad_inches=0.08,
        )
    return buffer.getvalue()


def save_figure(
    figure: Figure, path: str | Path, dpi: int = DPI, *, inputs: Sequence[str | Path] = ()
) -> Path:
    """Write ``figure`` to ``path`` (see :func:`infomec.outputs.write_file`); the format
    follows the suffix, and ``path`` may not be one of ``inputs``."""
    path = Path(path)
    write_file(path, figure_bytes(figure, path.suffix.lstrip(".").lower(), dpi), inputs=inputs)
    return path
