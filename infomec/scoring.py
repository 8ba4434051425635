"""``infomec.score``: validate once, run the requested metric families, collect a result."""

from __future__ import annotations

import platform
import time
import warnings
from collections.abc import Sequence
from functools import partial

import numba
import numpy as np

from infomec._validation import check_choice, check_positive_int, check_summable
from infomec.data import prepare_held_out, prepare_sample, split_sample
from infomec.metrics import REGISTRY
from infomec.metrics.dci import DCI_MODELS
from infomec.parallel import check_scheduler, map_in_order, resolve_n_jobs
from infomec.presets import resolve_settings
from infomec.result import ScoreResult
from infomec.version import __version__


def resolve_metrics(metrics: str | Sequence[str]) -> list[str]:
    """Turn ``"all"``, ``"a,b"`` or a list into registered family names (in order)."""
    if isinstance(metrics, str):
        names = list(REGISTRY) if metrics == "all" else [m.strip() for m in metrics.split(",")]
    else:
        names = [str(m) for m in metrics]
    names = [name for name in dict.fromkeys(names) if name]
    unknown = [name for name in names if name not in REGISTRY]
    if unknown or not names:
        raise ValueError(
            f"unknown metric {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(REGISTRY)} or 'all'"
        )
    return names


def _family_and_warnings(
    name: str, sample, settings: dict, held_out, *, seed: int, n_jobs: int | None
) -> tuple[dict, list[tuple[str, type[Warning]]]]:
    """One family, computed on a worker, and the warnings it raised there."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        family = REGISTRY[name].compute(
            sample, settings, seed=seed, n_jobs=n_jobs, held_out=held_out
        )
    return family, [(str(warning.message), warning.category) for warning in caught]


def _compute_on_cluster(
    names: list[str], sample, settings: dict, held_out, *, seed, n_jobs, address: str
) -> dict[str, dict]:
    """Every family as one task on a dask cluster; their warnings are raised here."""
    task = partial(_family_and_warnings, seed=seed, n_jobs=n_jobs)
    outcomes = map_in_order(task, names, scheduler=address, shared=(sample, settings, held_out))
    families = {}
    for name, (family, caught) in zip(names, outcomes, strict=True):
        for message, category in caught:
            warnings.warn(message, category, stacklevel=3)
        families[name] = family
    return families


def score(
    *,
    latents,
    sources,
    metrics: str | Sequence[str] = ("infomec",),
    preset: str = "reference",
    discrete_latents: bool | None = None,
    k: int | None = None,
    pruning: str | None = None,
    aggregate: str | None = None,
    infoe_kind: str | None = None,
    infoe_normalizer: str | None = None,
    infoe_discrete_encoding: str | None = None,
    infoe_tol: float | None = None,
    infoe_max_iter: int | None = None,
    max_source_values: int = 1000,
    source_bins: int | None = None,
    source_names=None,
    latent_names=None,
    test_latents=None,
    test_sources=None,
    test_size: float = 1 / 3,
    dci_model: str = "gbt",
    seed: int = 0,
    n_jobs: int | None = None,
    scheduler: str = "joblib",
) -> ScoreResult:
    """Score a representation against ground-truth sources.

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
        Integer/bool dtypes are treated as discrete codes, floats as continuous.
    sources : array-like of shape (n_samples, n_sources)
        Discrete ground-truth factors (int, bool, float or string columns), rows aligned
        with ``latents``.
    metrics : str or sequence of str, default=("infomec",)
        Families to compute (``"all"`` for every registered one): ``infomec`` and the
        disentanglement_lib families ``mig``, ``mig_sup``, ``dci``, ``sap``,
        ``modularity``, ``beta_vae``, ``factor_vae``, ``irs``, ``unsupervised``.
    preset : {"reference", "paper", "tripod"}, default="reference"
        The published InfoMEC code path to reproduce (SPEC section 2).
    discrete_latents : bool, optional
        Override the dtype-based detection of discrete latents.
    k : int, optional
        KSG neighbours (preset: 10, 3 for ``paper``).
    pruning : str, optional
        Active-latent rule, e.g. ``"range>max/20"``, ``"range>0"``, ``"iqr>0.1"``,
        ``"none"``.
    aggregate : {"ratio", "gap"}, optional
        InfoM/InfoC aggregation (default ``"ratio"``).
    infoe_kind : {"classification", "regression"}, optional
    infoe_normalizer : {"balanced", "entropy"}, optional
        ``balanced`` (default): balanced fit, ``CE_null = log K``; ``entropy``:
        unweighted fit, ``CE_null = H(s)``.
    infoe_discrete_encoding : {"onehot", "scalar"}, optional
        Probe input for discrete latents.
    infoe_tol : float, optional
        Tolerance of the InfoE probe (default 1e-6): it stops once each source's InfoE
        is determined to within it (see the README); ``converged`` reports it.
    infoe_max_iter : int, optional
        Iteration cap of the InfoE probe (default 1000).
    max_source_values : int, default=1000
        Sources with more distinct values are refused unless ``source_bins`` is given.
    source_bins : int, optional
        Bin such sources into this many equal-width bins instead.
    source_names, latent_names : sequence of str, optional
        Names used in messages, tables and figures (default ``s0..``, ``z0..``).
    test_latents, test_sources : array-like, optional
        Held-out rows for families that fit a model (e.g. DCI). Training then uses
        exactly ``latents`` / ``sources`` in order and evaluation exactly these rows.
    test_size : float, default=1/3
        Without explicit test arrays, the fraction of rows such families hold out
        (a random split seeded by ``seed``).
    dci_model : {"gbt", "hist_gbt", "random_forest", "lasso"}, default="gbt"
        Per-source predictor of the ``dci`` family: disentanglement_lib's
        ``GradientBoostingClassifier()`` or a faster / different one
        (see :mod:`infomec.metrics.dci`).
    seed : int, default=0
        Seed of every stochastic step (KSG tie-breaking jitter, probe warm starts,
        held-out split).
    n_jobs : int, optional
        Threads (``None`` or ``-1``: every core) of each family. Results do not depend
        on it.
    scheduler : str, default="joblib"
        Where the metric families run: ``"joblib"`` computes them here, one after the
        other; the address of a dask.distributed scheduler (``"tcp://host:8786"``;
        needs the ``dist`` extra) computes each family as one task on that cluster's
        workers, the validated arrays sent to the workers once. Every family is seeded,
        so the scores equal the local ones; warnings raised on the workers are raised
        again here. Worth it when several slow families (``dci``, ``factor_vae``,
        ``infomec`` at large N, ...) are requested.

    Returns
    -------
    ScoreResult

    Raises
    ------
    ValueError
        Bad input: NaN/inf, misaligned or empty arrays, unknown options, a malformed
        ``scheduler`` address or one that cannot be reached.

    Examples
    --------
    >>> import numpy as np, infomec
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.integers(0, 5, size=(2000, 2))
    >>> latents = sources + 0.2 * rng.standard_normal((2000, 2))
    >>> result = infomec.score(latents=latents, sources=sources)
    >>> round(result.infom, 2), round(result.infoc, 2), round(result.infoe, 2)
    (1.0, 1.0, 0.99)
    """
    started = time.perf_counter()
    names = resolve_metrics(metrics)
    seed = check_positive_int(seed, "seed", minimum=0)
    max_source_values = check_positive_int(max_source_values, "max_source_values", minimum=2)
    resolve_n_jobs(n_jobs)
    scheduler = check_scheduler(scheduler)
    sample = prepare_sample(
        latents,
        sources,
        discrete_latents=discrete_latents,
        max_source_values=max_source_values,
        source_bins=source_bins,
        source_names=source_names,
        latent_names=latent_names,
    )
    settings = resolve_settings(
        preset,
        sample.discrete,
        k=k,
        pruning=pruning,
        aggregate=aggregate,
        infoe_kind=infoe_kind,
        infoe_normalizer=infoe_normalizer,
        infoe_discrete_encoding=infoe_discrete_encoding,
        infoe_tol=infoe_tol,
        infoe_max_iter=infoe_max_iter,
    )
    settings["dci_model"] = check_choice(dci_model, "dci_model", DCI_MODELS)
    if (test_latents is None) != (test_sources is None):
        raise ValueError("test_latents and test_sources must be given together")
    held_out = None
    if any(REGISTRY[name].needs_held_out for name in names):
        if test_latents is not None:
            held_out = prepare_held_out(
                latents,
                sources,
                test_latents,
                test_sources,
                discrete_latents=sample.discrete,
                max_source_values=max_source_values,
                source_bins=source_bins,
                source_names=sample.source_names,
                latent_names=sample.latent_names,
            )
        else:
            held_out = split_sample(sample, test_size=test_size, seed=seed)
    if any(REGISTRY[name].needs_summable_latents for name in names):
        check_summable(sample.latents)
        if held_out is not None and held_out.explicit:
            check_summable(held_out.test.latents, "test_latents")
    if scheduler == "joblib":
        families = {
            name: REGISTRY[name].compute(
                sample, settings, seed=seed, n_jobs=n_jobs, held_out=held_out
            )
            for name in names
        }
    else:
        families = _compute_on_cluster(
            names, sample, settings, held_out, seed=seed, n_jobs=n_jobs, address=scheduler
        )
    settings.update(
        metrics=names,
        discrete_latents=sample.discrete,
        max_source_values=max_source_values,
        source_bins=source_bins,
        test_size=None if held_out is None or held_out.explicit else test_size,
        seed=seed,
        versions={
            "infomec": __version__,
            "numpy": np.__version__,
            "numba": numba.__version__,
            "python": platform.python_version(),
        },
    )
    return ScoreResult(
        families=families,
        settings=settings,
        n_samples=sample.n_samples,
        elapsed_s=time.perf_counter() - started,
        source_names=sample.source_names,
        latent_names=sample.latent_names,
    )
