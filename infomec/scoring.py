"""``infomec.score``: validate once, run the requested metric families, collect a result."""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from functools import partial

from infomec._validation import (
    check_choice,
    check_fraction,
    check_optional_bool,
    check_positive_int,
    check_summable,
    effective_k,
    warn,
)
from infomec.cost import check_costs
from infomec.data import split_sample
from infomec.inputs.frameworks import numpy_inputs
from infomec.inputs.pipeline import digest_with_pruning, prepare_held_out, prepare_sample
from infomec.interrupts import stoppable
from infomec.metrics import REGISTRY
from infomec.metrics.dci import DCI_MODELS
from infomec.metrics.null import DEFAULT_NULL, attach_chance, check_null, resolve_null_metrics
from infomec.parallel import check_scheduler, map_in_order, resolve_n_jobs
from infomec.presets import resolve_settings
from infomec.progress import progress as progress_of
from infomec.provenance import versions
from infomec.result import ScoreResult


def resolve_metrics(metrics: str | Sequence[str]) -> list[str]:
    """Turn ``"all"``, ``"a,b"`` or a list into registered family names (in order)."""
    if isinstance(metrics, str):
        names = (
            [name for name, family in REGISTRY.items() if family.in_all]
            if metrics == "all"
            else [m.strip() for m in metrics.split(",")]
        )
    elif isinstance(metrics, Sequence) and all(isinstance(m, str) for m in metrics):
        names = [m.strip() for m in metrics]
    else:
        raise ValueError(
            f"metrics must be 'all', a comma-separated string or a list of family names "
            f"({', '.join(REGISTRY)}); got {metrics!r}"
        )
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
            warn(message, category)
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
    clip_nmi: bool | None = None,
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
    progress: bool | None = None,
    null: int = DEFAULT_NULL,
    null_metrics: str | Sequence[str] | None = None,
    null_exact: bool = False,
    max_work: float | None = None,
) -> ScoreResult:
    """Score a representation against ground-truth sources.

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
        Integer/bool dtypes are treated as discrete codes, floats as continuous. Torch
        tensors (any device, with or without grad), JAX arrays and pandas DataFrames /
        Series are converted here.
    sources : array-like of shape (n_samples, n_sources)
        Discrete ground-truth factors (int, bool, float or string columns), rows aligned
        with ``latents``. A DataFrame may mix text and numeric columns.
    metrics : str or sequence of str, default=("infomec",)
        Families to compute (``"all"``: every registered one but ``dci_es``, which
        costs about a minute per 10,000 rows and runs only when named): ``infomec``, the
        disentanglement_lib families ``mig``, ``mig_sup``, ``dci``, ``sap``,
        ``modularity``, ``beta_vae``, ``factor_vae``, ``irs``, ``unsupervised``; the
        review's (Zaidi et al. 2020) ``dcimig``, ``jemmig``, ``z_max_var``; DCI-ES
        explicitness ``dci_es``.
    preset : {"reference", "paper", "tripod"}, default="reference"
        The published InfoMEC code path to reproduce (SPEC section 2).
    discrete_latents : bool, optional
        Override the dtype-based detection of discrete latents.
    k : int, optional
        KSG neighbours (preset: 10, 3 for ``paper``). A class of ``N_c`` rows uses
        ``min(k, N_c - 1)`` (as scikit-learn); a ``k`` that reaches every class of every
        source is lowered, with a warning, to the ``k`` that then applies (the largest
        class size minus 1), and that effective ``k`` is what ``settings`` records.
    pruning : str, optional
        Active-latent rule, e.g. ``"range>max/20"``, ``"range>0"``, ``"iqr>0.1"``,
        ``"none"``.
    aggregate : {"ratio", "gap"}, optional
        InfoM/InfoC aggregation (default ``"ratio"``).
    clip_nmi : bool, optional
        Clip NMI entries at 1 (negative estimates are always 0). The KSG estimate can
        exceed ``H(s)`` on tied latents; no preset clips, as the authors' code does
        not. InfoM, InfoC and InfoE stay in [0, 1] either way.
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
        Sources with more distinct values are refused unless ``source_bins`` is given;
        so are sources with fewer than 5 rows per distinct value on average
        (``N / K < 5``), too sparse for mutual information to mean anything.
    source_bins : int, optional
        Bin such sources into this many equal-width bins instead (``2 <= B <= N``, and
        at most ``N / 5`` so that the bins are not sparse themselves).
    source_names, latent_names : sequence of str, optional
        Names used in messages, tables and figures (default: the columns of a
        DataFrame, else ``s0..``, ``z0..``).
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
    progress : bool, optional
        Per-family progress on stderr (a bar in a terminal, else a line every 10 s;
        see :mod:`infomec.progress`): default shown unless silenced, never inside
        another job (a bootstrap, a sweep).
    null : int, default=20
        Draws of the permutation null that gives chance levels (sources' rows shuffled,
        seeded by ``seed``; see :mod:`infomec.metrics.null`): each NMI entry gets a
        floor and a p-value, each score of ``null_metrics`` a chance level
        (``result["infomec"]["chance"]``), and a warning names scores that noise
        reaches. 0 turns it off; otherwise at least 10. The scores do not change.
    null_exact : bool, default=False
        Score every latent under every shuffle (``null`` times the NMI's cost). By default
        continuous latents with no tied values share the shuffles and their entries' null
        is a Gaussian model fitted to the shared draws (about one NMI matrix in all;
        :mod:`infomec.metrics.null`).
    null_metrics : str or sequence of str, optional
        Families that get chance levels: InfoMEC by default (when computed); ``"all"``
        or names among ``infomec``, ``mig``, ``mig_sup``, ``modularity`` (each draw
        costs one MI kernel call; other families would refit their models).
    max_work : float, optional
        Multiply-adds each family may spend (default ``infomec.cost.DEFAULT_MAX_WORK``,
        about half an hour on one core; ``math.inf``: no bound). Each family's cost is
        estimated from the shape before it runs (:mod:`infomec.cost`); one over this,
        or over the memory available, is refused with a ``ValueError`` naming it.

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
    latents, sources, test_latents, test_sources, source_names, latent_names = numpy_inputs(
        latents, sources, test_latents, test_sources, source_names, latent_names
    )
    names = resolve_metrics(metrics)
    # scikit-learn's random_state (DCI, the KSG jitter) takes seeds below 2**32.
    seed = check_positive_int(seed, "seed", minimum=0, maximum=2**32 - 1)
    null = check_null(null)
    null_exact = bool(check_optional_bool(null_exact, "null_exact"))
    with_null = resolve_null_metrics(null_metrics, names) if null else []
    if not null and null_metrics is not None:
        resolve_null_metrics(null_metrics, names)  # checked all the same: no silent typo
    max_source_values = check_positive_int(max_source_values, "max_source_values", minimum=2)
    test_size = check_fraction(test_size, "test_size")
    discrete_latents = check_optional_bool(discrete_latents, "discrete_latents")
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
        clip_nmi=clip_nmi,
        infoe_kind=infoe_kind,
        infoe_normalizer=infoe_normalizer,
        infoe_discrete_encoding=infoe_discrete_encoding,
        infoe_tol=infoe_tol,
        infoe_max_iter=infoe_max_iter,
    )
    digest = digest_with_pruning(sample, settings["pruning"])
    if not sample.discrete:  # k only counts for the KSG estimator of continuous latents
        settings["k"] = effective_k(
            settings["k"], sample.sources, sample.source_names, explicit=k is not None
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
        squares = any(REGISTRY[name].takes_variances for name in names)
        check_summable(sample.latents, squares=squares)
        if held_out is not None and held_out.explicit:
            check_summable(held_out.test.latents, "test_latents", squares=squares)
    # Before anything is allocated: every family's work and memory, from the shape.
    check_costs(
        names,
        sample,
        settings,
        max_work=max_work,
        null_draws={name: null for name in with_null},
        null_shared=not null_exact,
    )
    if scheduler == "joblib":
        families = {}
        # Ctrl-C / SIGTERM also stop the families' worker threads (infomec.interrupts).
        with stoppable(), progress_of(len(names), "score", unit="family", enabled=progress) as bar:
            for name in names:
                bar.note(name)
                families[name] = REGISTRY[name].compute(
                    sample, settings, seed=seed, n_jobs=n_jobs, held_out=held_out
                )
                bar.update()
    else:
        families = _compute_on_cluster(
            names, sample, settings, held_out, seed=seed, n_jobs=n_jobs, address=scheduler
        )
    with stoppable():
        attach_chance(
            families,
            sample,
            held_out,
            settings,
            null_metrics=with_null,
            n_draws=null,
            seed=seed,
            n_jobs=n_jobs,
            pooled=not null_exact,
        )
    settings.update(
        metrics=names,
        null=null,
        null_metrics=with_null,
        null_exact=bool(null_exact),
        discrete_latents=sample.discrete,
        max_source_values=max_source_values,
        source_bins=source_bins,
        test_size=None if held_out is None or held_out.explicit else test_size,
        seed=seed,
        versions=dict(versions()),
    )
    return ScoreResult(
        families=families,
        settings=settings,
        n_samples=sample.n_samples,
        elapsed_s=time.perf_counter() - started,
        source_names=sample.source_names,
        latent_names=sample.latent_names,
        digest=digest,
    )
