"""The pictures of a trained model, and the run's ``report.html`` that shows them.

- ``reconstructions.png``: fixed evaluation images (the first of the seeded evaluation
  subset) above their reconstructions (a GAN's: generator(encoder(x))).
- ``traversals.png``: one row per latent, ordered as the NMI heatmap orders its columns
  (by the source each latent captures best, active latents first), labelled with that
  source and its NMI; pruned (inactive) latents are marked. Each row starts from the code
  of one evaluation image and walks one latent: a quantized model's row walks that latent's
  codebook values (sorted), a continuous latent walks quantiles (5 %..95 %) of its values
  over the evaluation images. Autoencoders decode; GANs walk the generator's code.
- ``curves.png``: every loss term and the evaluations (:mod:`models.curves`).
- ``report.html``: infomec's report page (scores, sources, NMI heatmap, InfoE) with the
  three pictures beside the heatmap, written when the run was scored.

Figures are drawn with matplotlib's Agg backend at fixed sizes (no tight cropping), so a
picture's pixel size follows from the model and data alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .checkpoint import atomic_write
from .config import TrainConfig
from .curves import plot_curves
from .data import FactorDataset, evaluation_indices

DPI = 100
N_RECONSTRUCTIONS = 8
N_QUANTILES = 9
CELL = 0.75  # inches per image cell
LABEL_WIDTH = 2.3  # inches for a traversal row's label
RANGE_WIDTH = 0.8  # inches for a traversal row's value range, on the right
PICTURE_NAMES = ("reconstructions.png", "traversals.png", "curves.png")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


PAD = 1  # pixels of white between images in a mosaic


def _mosaic(images: np.ndarray) -> np.ndarray:
    """Images of shape (rows, columns, channels, h, w) in [0, 1] as one RGB array with
    white gaps (one ``imshow`` is far cheaper than an axes per image)."""
    rows, columns, channels, height, width = images.shape
    if channels == 1:
        images = np.repeat(images, 3, axis=2)
    canvas = np.ones((rows * (height + PAD) - PAD, columns * (width + PAD) - PAD, 3))
    for row in range(rows):
        for column in range(columns):
            top, left = row * (height + PAD), column * (width + PAD)
            canvas[top : top + height, left : left + width] = images[row, column].transpose(1, 2, 0)
    return np.clip(canvas, 0.0, 1.0)


def _image_axes(figure, left: float, bottom: float, width: float, height: float):
    """Axes at a position given in inches, without ticks."""
    fig_width, fig_height = figure.get_size_inches()
    axis = figure.add_axes(
        (left / fig_width, bottom / fig_height, width / fig_width, height / fig_height)
    )
    axis.set_xticks([])
    axis.set_yticks([])
    return axis


def _save(figure, path: Path) -> Path:
    atomic_write(
        path,
        lambda handle: figure.savefig(handle, format="png", dpi=DPI, metadata={"Software": None}),
    )
    _pyplot().close(figure)
    return path


RECON_LABEL = 0.7  # inches for the row labels of reconstructions.png
TOP = 0.45  # inches for a figure's title


def reconstruction_size(n_images: int = N_RECONSTRUCTIONS) -> tuple[int, int]:
    """(width, height) in pixels of ``reconstructions.png``."""
    return round((RECON_LABEL + CELL * n_images + 0.1) * DPI), round((2 * CELL + TOP + 0.1) * DPI)


def traversal_size(num_latents: int, num_steps: int) -> tuple[int, int]:
    """(width, height) in pixels of ``traversals.png``."""
    return round((LABEL_WIDTH + CELL * num_steps + RANGE_WIDTH) * DPI), round(
        (CELL * num_latents + TOP + 0.1) * DPI
    )


def _images(model: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
    return model.decode(model.encode_code(x)).float().cpu().numpy()


def plot_reconstructions(originals: np.ndarray, reconstructions: np.ndarray, title: str):
    """Originals (top row) above their reconstructions (bottom row); returns the figure."""
    plt = _pyplot()
    n = len(originals)
    width, height = reconstruction_size(n)
    figure = plt.figure(figsize=(width / DPI, height / DPI))
    axis = _image_axes(figure, RECON_LABEL, 0.1, CELL * n, 2 * CELL)
    mosaic = _mosaic(np.stack([originals, reconstructions]))
    axis.imshow(mosaic, interpolation="nearest", aspect="auto")
    size = originals.shape[-2]
    for row, label in enumerate(("image", "recon.")):
        axis.text(-2, row * (size + PAD) + size / 2, label, ha="right", va="center", fontsize=9)
    figure.suptitle(title, fontsize=10, y=1 - 0.1 / (height / DPI), va="top")
    return figure


def traversal_values(model: torch.nn.Module, latents: np.ndarray, quantized: bool) -> np.ndarray:
    """Values each latent walks, shape (num_latents, steps).

    Quantized latents: their sorted codebook values. Continuous latents: the 5 %..95 %
    quantiles of their evaluation values (``latents``, the ``z_hat`` the metrics saw).
    """
    if quantized:
        return np.sort(model.latent.values.detach().float().cpu().numpy(), axis=1)
    levels = np.linspace(0.05, 0.95, N_QUANTILES)
    return np.quantile(np.asarray(latents, dtype=np.float64), levels, axis=0).T


def latent_labels(
    num_latents: int,
    nmi: np.ndarray | None,
    active: np.ndarray | None,
    source_names: Sequence[str],
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Row order, label and pruned flag of each latent (see the module docstring).

    Without scores (``nmi`` None) the latents keep their index order and labels.
    """
    if nmi is None:
        return (
            np.arange(num_latents),
            [f"z{j}" for j in range(num_latents)],
            np.zeros(num_latents, dtype=bool),
        )
    from infomec.figures import latent_order

    nmi = np.asarray(nmi, dtype=float)
    active = np.ones(num_latents, dtype=bool) if active is None else np.asarray(active, bool)
    order = latent_order(nmi, active)
    labels = []
    for j in range(num_latents):
        best = int(nmi[:, j].argmax())
        text = f"z{j}: {source_names[best]}, NMI {nmi[best, j]:.2f}"
        labels.append(text + (" (pruned)" if not active[j] else ""))
    return order, labels, ~active


def plot_traversals(
    rows: np.ndarray,
    values: np.ndarray,
    order: np.ndarray,
    labels: Sequence[str],
    pruned: np.ndarray,
    title: str,
):
    """Grid of traversal images ``rows[j, step]`` (latent j in row ``order`` position),
    each row labelled on the left and with its value range on the right; pruned rows in
    red with a dashed frame."""
    from matplotlib.patches import Rectangle

    plt = _pyplot()
    num_latents, steps = rows.shape[:2]
    width, height = traversal_size(num_latents, steps)
    figure = plt.figure(figsize=(width / DPI, height / DPI))
    axis = _image_axes(figure, LABEL_WIDTH, 0.1, CELL * steps, CELL * num_latents)
    mosaic = _mosaic(rows[np.asarray(order)])
    axis.imshow(mosaic, interpolation="nearest", aspect="auto")
    size_y, size_x = rows.shape[-2:]
    right = mosaic.shape[1]
    for position, j in enumerate(order):
        middle = position * (size_y + PAD) + size_y / 2
        colour = "tab:red" if pruned[j] else "black"
        axis.text(-2, middle, labels[j], ha="right", va="center", fontsize=8, color=colour)
        axis.text(
            right + 1,
            middle,
            f"{values[j, 0]:.2g}..{values[j, -1]:.2g}",
            ha="left",
            va="center",
            fontsize=7,
            color=colour,
        )
        if pruned[j]:
            axis.add_patch(
                Rectangle(
                    (-0.5, position * (size_y + PAD) - 0.5),
                    right,
                    size_y,
                    fill=False,
                    edgecolor="tab:red",
                    linestyle="--",
                    linewidth=1.2,
                )
            )
    del size_x
    figure.suptitle(title, fontsize=10, y=1 - 0.1 / (height / DPI), va="top")
    return figure


@torch.no_grad()
def traversal_images(model: torch.nn.Module, base: torch.Tensor, values: np.ndarray) -> np.ndarray:
    """Decode the code of image ``base`` (1, c, h, w) with latent j set to each of
    ``values[j]``; returns shape (num_latents, steps, c, h, w)."""
    code = model.encode_code(base)[0]
    num_latents, steps = values.shape
    walks = code.repeat(num_latents * steps, 1).reshape(num_latents, steps, -1).clone()
    for j in range(num_latents):
        walks[j, :, j] = torch.as_tensor(values[j], dtype=walks.dtype, device=walks.device)
    images = model.decode(walks.reshape(num_latents * steps, -1)).float().cpu().numpy()
    return images.reshape(num_latents, steps, *images.shape[1:])


def write_pictures(
    model: torch.nn.Module,
    dataset: FactorDataset,
    config: TrainConfig,
    device: torch.device,
    out: Path,
    latents: np.ndarray,
    result: Any = None,
    log: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write ``reconstructions.png``, ``traversals.png``, ``curves.png`` and, given a
    ``result`` (:class:`infomec.ScoreResult` of the evaluation latents), ``report.html``.

    Parameters
    ----------
    model : nn.Module
        The trained model (``encode_code``, ``decode``).
    dataset : FactorDataset
    config : TrainConfig
        The run's resolved settings.
    device : torch.device
    out : Path
        Run directory.
    latents : ndarray
        The evaluation latents (``latents.npz``).
    result : infomec.ScoreResult, optional
        Orders and labels the traversal rows; with it the report page is written.
    log : dict, optional
        ``train_log.json``'s content (``history``, ``evaluations``) for the curves.

    Returns
    -------
    list of Path
    """
    from .config import QUANTIZED_MODELS

    title = f"{config.model}, {config.dataset}, seed {config.seed}, step {config.steps}"
    indices = evaluation_indices(len(dataset), config.eval_size, config.data_seed)
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    first = indices[:N_RECONSTRUCTIONS]
    x = torch.from_numpy(dataset.images(first)).to(device, memory_format=memory_format)
    files = [
        _save(
            plot_reconstructions(x.float().cpu().numpy(), _images(model, x), title),
            out / "reconstructions.png",
        )
    ]
    quantized = config.model in QUANTIZED_MODELS
    values = traversal_values(model, latents, quantized)
    nmi = active = None
    if result is not None and "infomec" in result.families:
        nmi, active = _nmi_and_active(result)
    order, labels, pruned = latent_labels(values.shape[0], nmi, active, dataset.factor_names)
    rows = traversal_images(model, x[:1], values)
    walk = "codebook values" if quantized else "5-95 % quantiles of the evaluation codes"
    files.append(
        _save(
            plot_traversals(rows, values, order, labels, pruned, f"{title}: {walk}"),
            out / "traversals.png",
        )
    )
    log = log or {}
    files.append(
        plot_curves(
            list(log.get("evaluations", [])),
            list(log.get("history", [])),
            out / "curves.png",
            title,
        )
    )
    if result is not None:
        files.append(write_report_page(result, out, files, title))
    return files


def _nmi_and_active(result: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """The NMI matrix (sources x latents) and active-latent mask of a ScoreResult."""
    values = result.families["infomec"]
    active = values.get("active_latents")
    return np.asarray(values["nmi"], dtype=float), None if active is None else np.asarray(
        active, dtype=bool
    )


def write_report_page(result: Any, out: Path, pictures: Sequence[Path], title: str) -> Path:
    """``report.html``: infomec's page with the NMI heatmap, the run's pictures beside it,
    then InfoE per source. Also writes ``nmi.png`` and ``infoe.png``."""
    from infomec.figures import figure_bytes, plot_infoe, plot_nmi
    from infomec.report_html import render_html

    plt = _pyplot()
    figures: list[tuple[str, str, bytes]] = []
    nmi_figure = plot_nmi(result).figure
    nmi_png = figure_bytes(nmi_figure, "png")
    plt.close(nmi_figure)
    atomic_write(out / "nmi.png", lambda handle: handle.write(nmi_png))
    figures.append(("nmi.png", "Normalised mutual information (sources x latents)", nmi_png))
    captions = {
        "reconstructions.png": "Evaluation images (top) and their reconstructions (bottom)",
        "traversals.png": "Latent traversals, rows in the heatmap's latent order",
        "curves.png": "Loss terms and evaluations during training",
    }
    for path in pictures:
        if path.name in captions:
            figures.append((path.name, captions[path.name], path.read_bytes()))
    infoe_figure = plot_infoe(result).figure
    infoe_png = figure_bytes(infoe_figure, "png")
    plt.close(infoe_figure)
    atomic_write(out / "infoe.png", lambda handle: handle.write(infoe_png))
    figures.append(("infoe.png", "InfoE per source", infoe_png))
    page = render_html(result, figures, title=f"infomec train: {title}")
    path = out / "report.html"
    atomic_write(path, lambda handle: handle.write(page.encode("utf-8")))
    return path


def redraw(run_dir: str | Path, *, quiet: bool = False) -> list[Path]:
    """Draw the pictures (and ``report.html``) of a run directory again from its checkpoint
    (what ``infomec train --figures DIR`` does).

    The model is rebuilt from ``checkpoint.pt`` and the evaluation subset encoded again;
    a run that was scored (it has ``scores.json``) is scored again with its first preset
    and seed (the same numbers), which orders and labels the traversals and gives the page.

    Parameters
    ----------
    run_dir : str or Path
    quiet : bool, default=False
        No progress on stderr.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ValueError
        No loadable checkpoint in ``run_dir``.
    """
    import json

    import infomec

    from .checkpoint import CHECKPOINT_NAME, load_checkpoint
    from .data import open_dataset
    from .registry import build_model
    from .train import evaluate, keep_torch_threads

    out = Path(run_dir)
    checkpoint = load_checkpoint(out / CHECKPOINT_NAME)
    saved = {"channels_last": False, **checkpoint["config"], "steps": checkpoint["step"]}
    config = TrainConfig.from_dict(saved)
    cuda = config.device == "cuda" and torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    dataset = open_dataset(config.dataset, config.effective_image_size(), config.subset)
    torch.manual_seed(config.seed)
    model = build_model(config, dataset.image_shape, len(dataset)).to(device)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
    model.load_state_dict(checkpoint["model"])
    latents, sources, _ = evaluate(model, dataset, config, device)
    result = None
    if (out / "scores.json").exists():
        with keep_torch_threads():
            result = infomec.score(
                latents=latents,
                sources=sources,
                preset=config.presets[0],
                seed=config.seed,
                source_names=list(dataset.factor_names),
                progress=False if quiet else None,
            )
    log_path = out / "train_log.json"
    if log_path.exists():
        log = json.loads(log_path.read_text())
    else:
        log = {"history": checkpoint["history"], "evaluations": checkpoint.get("evaluations", [])}
    return write_pictures(model, dataset, config, device, out, latents, result, log)
