"""``curves.png``: periodic evaluations (InfoM / InfoE / InfoC, PSNR) and the loss vs steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .checkpoint import atomic_write

METRICS = {"infom": "InfoM", "infoe": "InfoE", "infoc": "InfoC"}


def plot_curves(
    evaluations: list[dict[str, Any]], history: list[dict[str, Any]], path: Path, title: str
) -> Path:
    """Plot the evaluation entries (``step``, ``infom``..., ``psnr``) and the loss history.

    Returns
    -------
    Path
        ``path``, written atomically.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 3.6))
    for name, label in METRICS.items():
        points = [(e["step"], e[name]) for e in evaluations if e.get(name) is not None]
        if points:
            steps, values = zip(*points, strict=True)
            left.plot(steps, values, marker="o", label=label)
    left.set(xlabel="step", ylabel="score", ylim=(-0.02, 1.02), title="InfoMEC (eval subset)")
    if left.lines:
        left.legend()
    points = [(e["step"], e["psnr"]) for e in evaluations if e.get("psnr") is not None]
    if points:
        steps, values = zip(*points, strict=True)
        middle.plot(steps, values, marker="o", color="tab:green")
    middle.set(xlabel="step", ylabel="dB", title="reconstruction PSNR")
    loss_key = next((k for k in ("loss", "critic") if history and k in history[0]), None)
    if loss_key is not None:
        steps = [entry["step"] for entry in history if loss_key in entry]
        right.plot(steps, [entry[loss_key] for entry in history if loss_key in entry])
    right.set(xlabel="step", title=f"training {loss_key or 'loss'}")
    fig.suptitle(title)
    fig.tight_layout()
    atomic_write(path, lambda handle: fig.savefig(handle, format="png", dpi=90))
    plt.close(fig)
    return path
