"""The loss log (``losses.csv``) and ``curves.png``: every loss term and the evaluations vs step.

``losses.csv`` has one row per ``log_every`` steps: ``step`` and the mean of each loss term
over those steps (a GAN's ``generator`` term only over the steps that had a generator
update; a blank cell when none did). Rows are appended as training goes (one line per log
entry, no per-step cost) and the file is rewritten from the checkpoint's history when a run
resumes, so it always matches ``train_log.json``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .checkpoint import atomic_write

LOSSES_NAME = "losses.csv"
METRICS = {"infom": "InfoM", "infoe": "InfoE", "infoc": "InfoC"}
# Readable names of the loss terms the models log (models.qlae, baselines, qlinfogan).
TERM_LABELS = {
    "loss": "total loss",
    "bce": "reconstruction (BCE per pixel)",
    "kl": "KL to the prior",
    "mi": "index-code MI",
    "tc": "total correlation",
    "dim_kl": "dimension-wise KL",
    "quantization": "quantization loss",
    "commitment": "commitment loss",
    "critic": "critic loss",
    "wasserstein": "Wasserstein estimate",
    "penalty": "gradient penalty",
    "latent": "latent reconstruction",
    "generator": "generator loss",
}


def loss_terms(history: Sequence[Mapping[str, Any]]) -> list[str]:
    """The loss terms present in ``history``, in :data:`TERM_LABELS` order (others last).

    Examples
    --------
    >>> loss_terms([{"step": 2, "bce": 0.5, "loss": 0.6}, {"step": 4, "generator": 1.0}])
    ['loss', 'bce', 'generator']
    """
    names = list(dict.fromkeys(name for entry in history for name in entry if name != "step"))
    known = [name for name in TERM_LABELS if name in names]
    return known + [name for name in names if name not in TERM_LABELS]


class LossLog:
    """``losses.csv`` of a run directory (see the module docstring).

    Parameters
    ----------
    path : Path
        The CSV file.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.columns: list[str] = []

    def rewrite(self, history: Sequence[Mapping[str, Any]]) -> None:
        """Replace the file with ``history`` (atomically)."""
        self.columns = ["step", *loss_terms(history)]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.columns)
        for entry in history:
            writer.writerow([_cell(entry.get(name)) for name in self.columns])
        atomic_write(self.path, lambda handle: handle.write(buffer.getvalue().encode()))

    def append(self, entry: Mapping[str, Any]) -> None:
        """Add one log entry; a new term (a GAN's first generator step) rewrites the header."""
        new = [name for name in entry if name != "step" and name not in self.columns]
        if new or not self.path.exists():
            self.rewrite([*read_losses(self.path), entry])
            return
        with open(self.path, "a", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerow(
                [_cell(entry.get(name)) for name in self.columns]
            )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return str(value)
    return repr(float(value))


def read_losses(path: Path) -> list[dict[str, float]]:
    """Rows of a ``losses.csv`` as dicts (``step`` an int, blank cells left out).

    Examples
    --------
    >>> import tempfile
    >>> log = LossLog(Path(tempfile.mkdtemp()) / "losses.csv")
    >>> log.rewrite([{"step": 5, "loss": 0.5}])
    >>> log.append({"step": 10, "loss": 0.25})
    >>> read_losses(log.path)
    [{'step': 5, 'loss': 0.5}, {'step': 10, 'loss': 0.25}]
    """
    path = Path(path)
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as handle:
        rows = []
        for row in csv.DictReader(handle):
            entry: dict[str, float] = {"step": int(row.pop("step"))}
            entry.update({name: float(value) for name, value in row.items() if value})
            rows.append(entry)
    return rows


def plot_curves(
    evaluations: list[dict[str, Any]], history: list[dict[str, Any]], path: Path, title: str
) -> Path:
    """Plot the evaluations (``step``, ``infom``..., ``psnr``) and every logged loss term.

    One panel for InfoM/InfoE/InfoC, one for PSNR, then one per loss term (terms differ in
    scale by orders of magnitude, so each gets its own axis).

    Returns
    -------
    Path
        ``path``, written atomically.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    terms = loss_terms(history)
    panels = 2 + len(terms)
    columns = min(4, panels)
    rows = math.ceil(panels / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.0 * rows), squeeze=False)
    flat = list(axes.ravel())
    scores, psnr = flat[0], flat[1]
    for name, label in METRICS.items():
        points = [(e["step"], e[name]) for e in evaluations if e.get(name) is not None]
        if points:
            steps, values = zip(*points, strict=True)
            scores.plot(steps, values, marker="o", label=label)
    scores.set(xlabel="step", ylabel="score", ylim=(-0.02, 1.02), title="InfoMEC (eval subset)")
    if scores.lines:
        scores.legend(fontsize=8)
    points = [(e["step"], e["psnr"]) for e in evaluations if e.get("psnr") is not None]
    if points:
        steps, values = zip(*points, strict=True)
        psnr.plot(steps, values, marker="o", color="tab:green")
    psnr.set(xlabel="step", ylabel="dB", title="reconstruction PSNR (eval subset)")
    for axis, name in zip(flat[2:], terms, strict=False):
        points = [(entry["step"], entry[name]) for entry in history if name in entry]
        steps, values = zip(*points, strict=True)
        axis.plot(steps, values, marker="." if len(points) < 30 else None, color="tab:blue")
        axis.set(xlabel="step", title=TERM_LABELS.get(name, name))
        if min(values) > 0 and max(values) > 10 * min(values):
            # Losses fall by orders of magnitude: a log axis keeps the late trend readable.
            axis.set_yscale("log")
    for axis in flat[panels:]:
        axis.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    atomic_write(
        path, lambda handle: fig.savefig(handle, format="png", dpi=90, metadata={"Software": None})
    )
    plt.close(fig)
    return path
