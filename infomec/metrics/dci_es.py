"""DCI-ES explicitness E (Eastwood et al., ICLR 2023) from loss-capacity curves.

For each source ``s_k`` a ladder of probes of increasing capacity predicts it from all
the latents; each probe is fitted on the training rows and its loss measured on the test
rows. The curve is made monotone by a running minimum over capacity, and

    E_k = 1 - 2 A_k / ((c_max - c_min) * baseline_k),

with ``A_k`` the trapezoid-rule area between the curve and *its own minimum* and
``baseline_k`` the loss of a probe that knows nothing: ``1 - 1/K_k`` (guessing among the
source's ``K_k`` values) for a classified source, 1 for a regressed one. E is the mean
of ``E_k`` over sources. ``E_k = 1`` when the first probe already reaches the best loss.
A loss that falls linearly from the baseline ``b`` to a minimum ``m`` scores ``m / b``:
0 only when the minimum is 0. E goes below 0 (down to -1) for curves that stay near the
baseline longer. Because the area is measured above the curve's own minimum, E rates
how early the best loss is reached, not how low it is: a code that never beats guessing
has a flat curve and scores about 1. ``lowest_loss=0.0`` measures the area above 0
instead: such a code then scores about -1. Read E with an informativeness score
(``dci``, InfoE).

Probe families (``probe=``), each with its own capacity axis and so its own E:

- ``"forest"`` (default): ``RandomForestClassifier`` / ``RandomForestRegressor`` (100
  trees, otherwise scikit-learn's defaults, seeded) with ``max_depth`` in (1, 2, 3, 4, 8,
  10, 12, 14, 16, 18, 20, 32), the official random-forest ladder; capacity = the depth,
  on a linear axis;
- ``"mlp"``: ``MLPClassifier`` / ``MLPRegressor`` with two hidden layers of width ``h``
  (no hidden layer for ``h = 0``), the official per-source MLP probe; capacity = its
  number of parameters (``K_k`` outputs for a classified source, 1 for a regressed one,
  as the official probe counts them), on a log axis. Default widths (0, 14, 28, 47, 103,
  243): the official ladder (0, 14, 21, 28, 33, 47, 75, 103, 131, 243, 467, 915, 1811,
  3603) thinned and stopped at 243, since scikit-learn's CPU training of the wider ones
  takes minutes per probe (pass ``ladder=`` for the full one). Trained with
  scikit-learn's Adam defaults (200 epochs, batch 200, learning rate 1e-3); the
  official probe trains 10 epochs of AdamW at 2e-4, batch 128, on its data sets' far
  larger tables;
- ``"rff"``: random Fourier features (``RBFSampler`` with ``D`` components,
  ``gamma = 2 pi^2 sigma^2`` with the official ``sigma = 0.08``: the same Gaussian
  kernel as the official encoding ``[cos 2 pi Bz, sin 2 pi Bz]``, ``B ~ N(0, sigma^2)``)
  followed by a linear probe (``LogisticRegression()`` / ``Ridge()``); capacity = ``D``,
  on a log axis. Default ``D`` in (16, 32, 64, 128, 256, 512, 1024), the official ladder
  up to 1024 (it goes on to 131072). The official linear layer is trained by AdamW.

Sources are classified (loss ``1 - accuracy``) unless named in ``regress=`` (indices,
or ``"all"``): a regressed source is predicted from its value ranks ``0 .. K_k - 1``
with loss ``1 - R^2`` and baseline 1, as the official code does for its continuous
factors. ``seeds=`` repeats the whole ladder under several probe seeds (the rows and
their split stay fixed, as in the official runs) and reports the mean and the standard
deviation (``ddof=0``, as the official gathering script prints) of E.

The official code (github.com/andreinicolicioiu/DCI-ES, as of its last commit,
2023-08-18), checked line by line against this module:

- its gathering script ``src/simple_gather.py`` runs for forests: the capacity it reads
  is ``results["capacity"]`` (the forest's ``max_depth``), and ``Explitcitness`` passes
  the normaliser as ``max_area``, which ``compute_explitcitness`` takes. The script's
  first version (2023-08-17) read ``num_params`` (0 for forests) and passed
  ``global_max_area=``, a keyword the function did not take; both were fixed the next
  day (commits 7d09ce7 and a9408a0);
- capacities are logged (``np.log``) for the MLP and RFF ladders only; forests keep
  the depth on a linear axis;
- the representation loader takes a ``standardise=True`` flag but never uses it
  (``load_representation_dataset`` does not pass it on): the probes see raw latents, as
  here;
- ``l* = 0`` ("we assume l* = 0") enters only the normaliser ``(c_max - c_min) *
  baseline``; the area is measured above the curve's own minimum;
- hence a linear fall from the baseline scores 0 only when its minimum is 0 (above).

Size S is not computed: its definition (the paper's) could not be checked against a
primary source here; the official code has none.

A single-valued source has no baseline: it is left out of the mean with a warning (its
``per_source`` entry is 0).
"""

from __future__ import annotations

import warnings

import numpy as np

from infomec._validation import check_choice, check_positive_int, warn
from infomec.data import HeldOut
from infomec.metrics._legacy import held_out_of, latent_matrix, require_held_out
from infomec.parallel import resolve_n_jobs, run_largest_first

__all__ = [
    "DEPTHS",
    "MLP_WIDTHS",
    "PROBES",
    "RFF_COMPONENTS",
    "compute",
    "dci_es",
    "explicitness_from_curve",
    "mlp_parameter_count",
]

#: ``max_depth`` ladder of the official random-forest probes.
DEPTHS = (1, 2, 3, 4, 8, 10, 12, 14, 16, 18, 20, 32)
N_ESTIMATORS = 100
#: Hidden widths of the MLP probes: the official ladder thinned, up to 243.
MLP_WIDTHS = (0, 14, 28, 47, 103, 243)
#: Random Fourier features of the RFF probes: the official ladder up to 1024.
RFF_COMPONENTS = (16, 32, 64, 128, 256, 512, 1024)
#: The official ``rff_sigma_gain`` (scale ``const``): frequencies ``B ~ N(0, sigma^2)``.
RFF_SIGMA = 0.08
PROBES = ("forest", "mlp", "rff")
_LADDERS = {"forest": DEPTHS, "mlp": MLP_WIDTHS, "rff": RFF_COMPONENTS}


def explicitness_from_curve(
    capacities, losses, baseline: float, *, c_max=None, lowest_loss: float | None = None
) -> float:
    """E of one loss-capacity curve.

    Parameters
    ----------
    capacities : array-like of shape (n_probes,)
        Increasing capacities.
    losses : array-like of shape (n_probes,)
        Test loss of each probe (made monotone here by a running minimum).
    baseline : float
        Loss of a probe that knows nothing (> 0).
    c_max : float, optional
        Largest capacity of the comparison; a curve ending earlier is extended flat to
        it (default: its own last capacity).
    lowest_loss : float, optional
        The loss the area is measured above. Default: the curve's own minimum (the
        official code); ``0.0`` is the paper's assumption ``l* = 0``.

    Returns
    -------
    float
        ``1 - 2 * area / ((c_max - c_min) * baseline)``.

    Examples
    --------
    A loss falling linearly from the baseline to 0 scores 0; one at its minimum from the
    start scores 1:

    >>> explicitness_from_curve([1, 2, 3], [0.5, 0.25, 0.0], baseline=0.5)
    0.0
    >>> explicitness_from_curve([1, 2, 3], [0.2, 0.3, 0.2], baseline=0.5)
    1.0

    A linear fall to a minimum of 0.1 scores 0.1 / 0.5 (the area is above the minimum):

    >>> round(explicitness_from_curve([1, 2, 3], [0.5, 0.3, 0.1], baseline=0.5), 6)
    0.2
    """
    capacities = np.asarray(capacities, dtype=np.float64)
    losses = np.minimum.accumulate(np.asarray(losses, dtype=np.float64))
    if capacities.ndim != 1 or capacities.shape != losses.shape or capacities.size < 2:
        raise ValueError("capacities and losses must be 1-D, of equal length >= 2")
    if np.any(np.diff(capacities) <= 0):
        raise ValueError("capacities must be strictly increasing")
    if not baseline > 0:
        raise ValueError(f"baseline must be > 0, got {baseline!r}")
    if c_max is not None and c_max > capacities[-1]:
        capacities = np.append(capacities, c_max)
        losses = np.append(losses, losses[-1])
    floor = losses.min() if lowest_loss is None else float(lowest_loss)
    excess = losses - floor
    area = float(np.sum(0.5 * (excess[:-1] + excess[1:]) * np.diff(capacities)))
    return float(1.0 - 2.0 * area / ((capacities[-1] - capacities[0]) * baseline))


def mlp_parameter_count(n_inputs: int, width: int, n_outputs: int) -> int:
    """Parameters of the official per-source MLP probe (two hidden layers of ``width``).

    Examples
    --------
    >>> mlp_parameter_count(10, 0, 3), mlp_parameter_count(10, 14, 3)
    (33, 409)
    """
    if width == 0:
        return n_inputs * n_outputs + n_outputs
    return (n_inputs + 1) * width + (width + 1) * width + (width + 1) * n_outputs


def _probe(probe: str, size: int, regression: bool, seed: int, n_estimators, max_samples):
    # scikit-learn is imported here: it costs seconds that `infomec score` may not need.
    if probe == "forest":
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        forest = RandomForestRegressor if regression else RandomForestClassifier
        return forest(
            n_estimators=n_estimators,
            max_depth=size,
            max_samples=max_samples,
            random_state=seed,
            n_jobs=1,
        )
    if probe == "mlp":
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        network = MLPRegressor if regression else MLPClassifier
        # alpha=0: the official probe trains without weight decay.
        return network(
            hidden_layer_sizes=(size, size) if size else (), alpha=0.0, random_state=seed
        )
    from sklearn.kernel_approximation import RBFSampler
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline

    features = RBFSampler(gamma=2.0 * np.pi**2 * RFF_SIGMA**2, n_components=size, random_state=seed)
    return make_pipeline(features, Ridge() if regression else LogisticRegression(max_iter=1000))


def _probe_loss(
    probe, size, regression, train_x, train_y, test_x, test_y, n_estimators, max_samples, seed
) -> tuple[float, bool]:
    """Test loss of one probe (1 - accuracy, or 1 - R^2) and whether it converged."""
    from threadpoolctl import threadpool_limits

    model = _probe(probe, size, regression, seed, n_estimators, max_samples)
    if regression:
        train_y, test_y = train_y.astype(np.float64), test_y.astype(np.float64)
    with threadpool_limits(limits=1):
        model.fit(train_x, train_y)
        predictions = model.predict(test_x)
    # Read from the model, not from warnings: filters are process-wide, probes threaded.
    fitted = model[-1] if probe == "rff" else model
    iterations, limit = getattr(fitted, "n_iter_", None), getattr(fitted, "max_iter", None)
    converged = iterations is None or limit is None or int(np.max(iterations)) < limit
    if not regression:
        return 1.0 - float(np.mean(predictions == test_y)), converged
    total = float(np.sum((test_y - test_y.mean()) ** 2))
    residual = float(np.sum((test_y - predictions) ** 2))
    # A constant test column has no R^2 (scikit-learn: 0 or 1 by convention): loss 1,
    # or 0 if predicted exactly.
    r_squared = 1.0 - residual / total if total > 0 else float(residual == 0.0)
    return 1.0 - r_squared, converged


def _capacities(probe, ladder, n_latents, n_outputs) -> np.ndarray:
    """The capacity axis: depth (linear), log parameter count, log feature count."""
    if probe == "forest":
        return np.asarray(ladder, dtype=np.float64)
    if probe == "mlp":
        counts = [mlp_parameter_count(n_latents, width, n_outputs) for width in ladder]
        return np.log(np.asarray(counts, dtype=np.float64))
    return np.log(np.asarray(ladder, dtype=np.float64))


def _losses(held_out, probe, ladder, regressed, n_estimators, max_samples, seed, n_jobs):
    train, test = held_out.train, held_out.test
    train_x, test_x = latent_matrix(train), latent_matrix(test)
    n_sources, n_probes = train.n_sources, len(ladder)

    def task(index: int) -> tuple[float, bool]:
        k, p = divmod(index, n_probes)
        return _probe_loss(
            probe,
            ladder[p],
            bool(regressed[k]),
            train_x,
            train.sources.codes[k],
            test_x,
            test.sources.codes[k],
            n_estimators,
            max_samples,
            seed,
        )

    # Larger probes cost more: start them first so the workers finish together.
    sizes = [ladder[index % n_probes] for index in range(n_sources * n_probes)]
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # Set here, before the threads start: one warning after the ladder says it.
        warnings.simplefilter("ignore", ConvergenceWarning)
        outcomes = run_largest_first(
            task, sizes, n_jobs=resolve_n_jobs(n_jobs), backend="threading"
        )
    losses = np.array([loss for loss, _ in outcomes]).reshape(n_sources, n_probes)
    return losses, all(converged for _, converged in outcomes)


def _dci_es_of_held_out(
    held_out: HeldOut,
    *,
    depths: tuple[int, ...] = DEPTHS,
    n_estimators: int,
    max_samples,
    seed: int,
    n_jobs: int | None,
    lowest_loss: float | None = None,
    probe: str = "forest",
    ladder: tuple[int, ...] | None = None,
    regress=None,
    seeds: tuple[int, ...] | None = None,
) -> dict:
    train = held_out.train
    ladder = depths if probe == "forest" and ladder is None else ladder
    ladder = _LADDERS[probe] if ladder is None else ladder
    regressed = _regressed(regress, train.n_sources)
    cardinalities = train.sources.cardinalities
    usable = cardinalities > 1
    if not usable.all():
        names = [train.source_names[k] for k in np.flatnonzero(~usable)]
        warn(f"dci_es: single-valued sources left out of the mean: {', '.join(names)}")
    runs, all_converged = [], True
    for run_seed in (seed,) if seeds is None else seeds:
        losses, converged = _losses(
            held_out, probe, ladder, regressed, n_estimators, max_samples, run_seed, n_jobs
        )
        all_converged &= converged
        per_source = np.zeros(train.n_sources)
        for k in np.flatnonzero(usable):
            outputs = 1 if regressed[k] else int(cardinalities[k])
            baseline = 1.0 if regressed[k] else 1.0 - 1.0 / cardinalities[k]
            capacities = _capacities(probe, ladder, train.n_latents, outputs)
            per_source[k] = explicitness_from_curve(
                capacities, losses[k], baseline, lowest_loss=lowest_loss
            )
        explicitness = float(per_source[usable].mean()) if usable.any() else 0.0
        runs.append((explicitness, per_source, losses))
    if not all_converged:
        warn(
            f"dci_es: some {probe} probes stopped at scikit-learn's iteration limit before "
            "converging; their losses are those of the stopped fits"
        )
    if seeds is None:
        explicitness, per_source, losses = runs[0]
        return {"explicitness": explicitness, "per_source": per_source, "test_losses": losses}
    per_seed = np.array([run[0] for run in runs])
    return {
        "explicitness": float(per_seed.mean()),
        "explicitness_std": float(per_seed.std()),
        "per_seed": per_seed,
        "per_source": np.mean([run[1] for run in runs], axis=0),
        "test_losses": np.array([run[2] for run in runs]),
    }


def _regressed(regress, n_sources: int) -> np.ndarray:
    """Mask of the sources predicted by regression (``None``, ``"all"`` or indices)."""
    mask = np.zeros(n_sources, dtype=bool)
    if regress is None:
        return mask
    if isinstance(regress, str):
        if regress != "all":
            raise ValueError(f"regress must be None, 'all' or source indices, got {regress!r}")
        return ~mask
    try:
        indices = list(regress)
    except TypeError:
        raise ValueError(
            f"regress must be None, 'all' or source indices, got {regress!r}"
        ) from None
    for index in indices:
        check_positive_int(index, "each regress index", minimum=0, maximum=n_sources - 1)
        mask[index] = True
    return mask


def _checked_ladder(ladder, probe: str) -> tuple[int, ...]:
    name = "depths" if probe == "forest" else "ladder"
    ladder = tuple(ladder)
    if len(ladder) < 2:
        raise ValueError(f"{name} must list at least two probe sizes")
    minimum = 0 if probe == "mlp" else 1
    checked = tuple(check_positive_int(size, f"each {name} entry", minimum) for size in ladder)
    if any(b <= a for a, b in zip(checked, checked[1:], strict=False)):
        raise ValueError(f"{name} must be strictly increasing, got {list(ladder)}")
    return checked


def _checked_seeds(seeds) -> tuple[int, ...] | None:
    if seeds is None:
        return None
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seeds = range(check_positive_int(seeds, "seeds"))
    try:
        seeds = tuple(seeds)
    except TypeError:
        raise ValueError(f"seeds must be a count or a sequence of seeds, got {seeds!r}") from None
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    return tuple(check_positive_int(value, "each seed", minimum=0) for value in seeds)


def _checked_max_samples(max_samples):
    if max_samples is None:
        return None
    if (
        isinstance(max_samples, bool)
        or not isinstance(max_samples, (float, np.floating))
        or not 0 < max_samples <= 1
    ):
        raise ValueError(f"max_samples must be None or a float in (0, 1], got {max_samples!r}")
    return float(max_samples)


def _checked_lowest_loss(lowest_loss):
    if lowest_loss is None:
        return None
    if (
        isinstance(lowest_loss, bool)
        or not isinstance(lowest_loss, (int, float, np.integer, np.floating))
        or not 0 <= lowest_loss <= 1
    ):
        raise ValueError(f"lowest_loss must be None or a number in [0, 1], got {lowest_loss!r}")
    return float(lowest_loss)


def dci_es(
    *,
    latents,
    sources,
    test_latents=None,
    test_sources=None,
    test_size: float = 1 / 3,
    depths=DEPTHS,
    n_estimators: int = N_ESTIMATORS,
    max_samples: float | None = None,
    lowest_loss: float | None = None,
    probe: str = "forest",
    ladder=None,
    regress=None,
    seeds=None,
    discrete_latents: bool | None = None,
    seed: int = 0,
    n_jobs: int | None = None,
) -> dict:
    """DCI-ES explicitness of a representation from loss-capacity curves.

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
    sources : array-like of shape (n_samples, n_sources)
    test_latents, test_sources : array-like, optional
        Rows the probes are evaluated on; otherwise a seeded split of ``test_size``.
    test_size : float, default=1/3
    depths : sequence of int, default=(1, 2, 3, 4, 8, 10, 12, 14, 16, 18, 20, 32)
        ``max_depth`` of each probe, increasing: the capacity axis (linear).
    n_estimators : int, default=100
        Trees per forest.
    max_samples : float, optional
        Fraction of the training rows each tree's bootstrap draws (scikit-learn's
        ``max_samples``; default: all of them, as the official code). 0.5 roughly
        halves the time; it changes the probes, so say so when reporting E.
    lowest_loss : float, optional
        Measure each curve's area above this loss instead of above the curve's own
        minimum (the official code). With ``0.0`` (the paper's ``l* = 0``) a code that
        never beats guessing scores about -1; with the default it scores about 1, since
        E then rates only how early the best loss is reached.
    probe : {"forest", "mlp", "rff"}, default="forest"
        The probe family (module documentation); each family gives its own E.
    ladder : sequence of int, optional
        Probe sizes, increasing: ``max_depth`` (forest; ``depths`` is the same), hidden
        width (mlp; 0 = no hidden layer) or number of random features (rff). Default:
        :data:`DEPTHS`, :data:`MLP_WIDTHS`, :data:`RFF_COMPONENTS`.
    regress : None, "all" or sequence of int, optional
        Sources (by index) predicted by regression on their value ranks, with loss
        ``1 - R^2`` and baseline 1 (the official treatment of ordinal / continuous
        factors); the others are classified.
    seeds : int or sequence of int, optional
        Repeat the ladder under these probe seeds (an int ``n``: seeds 0 .. n-1) and
        report the mean and spread of E; the split still uses ``seed``.
    discrete_latents : bool, optional
        Only affects validation (probes use the values).
    seed : int, default=0
        ``random_state`` of every probe and the split.
    n_jobs : int, optional
        Probes fitted at once, over (source, size) pairs (``None``: every core).
        Results do not depend on it.

    Returns
    -------
    dict
        ``explicitness`` (mean E over sources), ``per_source`` (ndarray of E_k) and
        ``test_losses`` (ndarray (n_sources, n_probes), before the running minimum).
        With ``seeds``: ``explicitness`` is the mean over seeds, ``explicitness_std``
        their standard deviation (ddof 0), ``per_seed`` the E of each seed,
        ``per_source`` the mean over seeds and ``test_losses`` has a leading seed axis.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.integers(0, 2, size=(600, 2))
    >>> latents = sources + 0.05 * rng.standard_normal((600, 2))
    >>> result = dci_es(latents=latents, sources=sources, depths=(1, 2, 4), n_estimators=10)
    >>> result["explicitness"], result["test_losses"].shape
    (1.0, (2, 3))
    >>> rff = dci_es(latents=latents, sources=sources, probe="rff", ladder=(16, 64), seeds=2)
    >>> round(rff["explicitness"], 3), round(rff["explicitness_std"], 3), rff["per_seed"].shape
    (1.0, 0.0, (2,))
    """
    probe = check_choice(probe, "probe", PROBES)
    if ladder is None:
        ladder = depths if probe == "forest" else _LADDERS[probe]
    held_out = held_out_of(
        latents,
        sources,
        test_latents,
        test_sources,
        test_size=test_size,
        seed=seed,
        discrete_latents=discrete_latents,
    )
    return _dci_es_of_held_out(
        held_out,
        n_estimators=check_positive_int(n_estimators, "n_estimators"),
        max_samples=_checked_max_samples(max_samples),
        seed=seed,
        n_jobs=n_jobs,
        lowest_loss=_checked_lowest_loss(lowest_loss),
        probe=probe,
        ladder=_checked_ladder(ladder, probe),
        regress=regress,
        seeds=_checked_seeds(seeds),
    )


def compute(
    sample,
    settings: dict,
    *,
    seed: int,
    n_jobs: int | None,
    held_out: HeldOut | None = None,
) -> dict:
    """The ``dci_es`` family of :func:`infomec.score` (the official forest ladder)."""
    return _dci_es_of_held_out(
        require_held_out(held_out, "dci_es"),
        n_estimators=N_ESTIMATORS,
        max_samples=None,
        seed=seed,
        n_jobs=n_jobs,
    )
