"""Hooks into the tools researchers watch training with.

Each module is a few lines on top of :class:`infomec.Collector` and
:meth:`infomec.ScoreResult.scalars`, and imports its library only when it is imported
itself (``import infomec`` never does):

- :mod:`infomec.integrations.lightning`: a PyTorch Lightning callback that collects
  latents and sources over the validation batches and logs InfoM / InfoE / InfoC (and
  any chosen families) plus the NMI heatmap, to every logger of the trainer;
- :mod:`infomec.integrations.tensorboard`: a result's scalars and figures to a
  TensorBoard ``SummaryWriter``;
- :mod:`infomec.integrations.wandb`: a result's scalars and figures to a Weights &
  Biases run.

The libraries come with ``pip install 'infomec[integrations]'``.
"""

#: What to install when an integration's library is missing.
INSTALL_HINT = "pip install 'infomec[integrations]'"

#: Scalars and figures are logged under names that start with this prefix.
DEFAULT_PREFIX = "infomec/"


def figures_of(result, which=("nmi",)):
    """The figures of ``result`` to log: name -> matplotlib figure (caller closes them).

    Parameters
    ----------
    result : infomec.ScoreResult
    which : sequence of {"nmi", "infoe"}, default ("nmi",)
        ``"nmi"``: the NMI heatmap (:meth:`~infomec.ScoreResult.plot_nmi`);
        ``"infoe"``: the per-source InfoE bars (:meth:`~infomec.ScoreResult.plot_infoe`).

    Returns
    -------
    dict
        Name to :class:`matplotlib.figure.Figure`, in the order of ``which``.

    Examples
    --------
    >>> import numpy as np, infomec
    >>> from infomec.integrations import figures_of
    >>> sources = np.repeat(np.arange(3), 20)[:, None]
    >>> result = infomec.score(latents=sources.copy(), sources=sources)
    >>> list(figures_of(result, ("nmi", "infoe")))
    ['nmi', 'infoe']
    """
    plots = {"nmi": result.plot_nmi, "infoe": result.plot_infoe}
    unknown = [name for name in which if name not in plots]
    if unknown:
        raise ValueError(f"figures must be among {', '.join(plots)}; got {unknown[0]!r}")
    return {name: plots[name]().figure for name in which}


def render(figure):
    """``figure`` as an RGB image: a ``(height, width, 3)`` uint8 array.

    Drawn by matplotlib's Agg canvas directly (never through ``pyplot``), so logging
    from a training job needs no display and leaves the session's backend alone.

    Parameters
    ----------
    figure : matplotlib.figure.Figure

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> render(Figure(figsize=(2, 1), dpi=50)).shape
    (50, 100, 3)
    """
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.array(canvas.buffer_rgba())[..., :3]


def images_of(result, which=("nmi",)):
    """:func:`figures_of` rendered: name -> RGB uint8 array (the figures are released).

    Parameters
    ----------
    result : infomec.ScoreResult
    which : sequence of {"nmi", "infoe"}, default ("nmi",)

    Returns
    -------
    dict
        Name to a ``(height, width, 3)`` uint8 array.
    """
    return {name: render(figure) for name, figure in figures_of(result, which).items()}
