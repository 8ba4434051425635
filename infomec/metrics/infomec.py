"""InfoMEC (Hsu et al. 2023): the NMI matrix, InfoM, InfoC and InfoE.

Definitions are those of ``SPEC.md`` section 2. Sources are the rows of the NMI matrix
and latents its columns. Every guard that keeps a score finite is listed in the
docstring of the function that applies it, and announced with an
:class:`~infomec.InfoMECWarning`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from infomec._numeric import standardize
from infomec._validation import InfoMECWarning, check_choice, effective_k, warn
from infomec.data import Sample
from infomec.estimators import (
    entropy_per_column,
    ksg_mutual_information_matrix,
    plugin_mutual_information_matrix,
    prepare_continuous_latents,
)
from infomec.inputs.frameworks import numpy_inputs, to_numpy
from infomec.inputs.pipeline import prepare_sample
from infomec.parallel import numba_threads, resolve_n_jobs, run_largest_first
from infomec.presets import PruningRule, resolve_settings
from infomec.probes.linear_probes import (
    PROBE_WORK_BUDGET,
    classes_absent_from_cells,
    fit_multinomial_logistic,
    least_squares_r2,
)
from infomec.probes.one_hot_design import OneHotDesign

__all__ = ["InfoMECWarning", "infoc", "infoe", "infom", "nmi_matrix"]


# --------------------------------------------------------------------------- NMI


def normalized_mutual_information(
    sample: Sample, *, k: int, seed: int, n_jobs: int | None = None, clip_nmi: bool = False
) -> np.ndarray:
    """NMI[i, j] = I(s_i; z_j) / H(s_i) for a validated sample, at least 0.

    Discrete latents use the plug-in estimator; continuous ones the Ross KSG estimator
    with ``k`` neighbours on standardised latents (ties broken by ``seed``). A source
    with ``H = 0`` gets an all-zero row. Negative estimates are 0 (as scikit-learn's
    estimators return them). The KSG estimate can exceed ``H(s_i)`` on tied data
    (1.0018 for a binary source and latents equal to its codes, 400 rows); the
    authors' code keeps such values, and so does this function unless ``clip_nmi``,
    which clips them to 1.
    """
    sources = sample.sources
    # Below ~10^5 (row, pair) cells, waking a second thread costs more than it saves.
    if sample.n_samples * sample.n_sources * sample.n_latents < 100_000:
        n_jobs = 1
    with numba_threads(n_jobs):
        entropies = entropy_per_column(sources.codes, sources.cardinalities)
        if sample.discrete:
            latent_codes = sample.latent_codes
            mutual_information = plugin_mutual_information_matrix(
                sources.codes, sources.cardinalities, latent_codes.codes, latent_codes.cardinalities
            )
        else:
            sorted_values, order = prepare_continuous_latents(
                sample.latents, seed, n_threads=resolve_n_jobs(n_jobs)
            )
            mutual_information = ksg_mutual_information_matrix(
                sorted_values, order, sources.codes, sources.cardinalities, k
            )
    return _normalized(mutual_information, entropies, clip_nmi)


def _normalized(
    mutual_information: np.ndarray, entropies: np.ndarray, clip_nmi: bool
) -> np.ndarray:
    """``I / H(s_i)`` row by row (zero rows where ``H = 0``), at least 0, at most 1 if
    ``clip_nmi``: the one normalisation of the score and of its permutation null."""
    nmi = np.zeros_like(mutual_information)
    informative = entropies > 0
    nmi[informative] = mutual_information[informative] / entropies[informative, None]
    return np.clip(nmi, 0.0, 1.0 if clip_nmi else None)


#: Bytes of permuted source codes handed to one kernel call of the null.
_NULL_BATCH_BYTES = 32 * 2**20


def permuted_nmi_matrices(
    sample: Sample,
    permutations,
    *,
    k: int,
    seed: int,
    n_jobs: int | None = None,
    clip_nmi: bool = False,
    latents: Sequence[int] | None = None,
    unclipped: bool = False,
) -> np.ndarray:
    """NMI matrices of ``sample`` with its sources' rows reordered by each permutation.

    The permutation null of :mod:`infomec.metrics.null`: the same estimator, jitter
    (``seed``) and normalisation as :func:`normalized_mutual_information`, with the
    latents prepared once. Permuting rows keeps every source's class counts (so its
    entropy) and breaks any link with the latents. Several permutations go to one
    kernel call as extra "sources" (at most ``_NULL_BATCH_BYTES`` of codes at once), so
    the kernel's threads share out draws and pairs alike; each pair's estimate does not
    depend on the batching or on ``n_jobs``.

    Parameters
    ----------
    sample : Sample
    permutations : iterable of ndarray of shape (n_samples,)
        Row orders, one per draw (e.g. from :func:`infomec.metrics.null.permutations`).
    k, seed, n_jobs, clip_nmi
        As for :func:`normalized_mutual_information`.
    latents : sequence of int, optional
        The latent columns to score (all by default); each column's estimate is the one
        it gets among all of them (the jitter is shared by every column).
    unclipped : bool, default=False
        Continuous latents only: the KSG estimates before their clipping at 0, divided by
        the source's entropy (negative about half the time under the null; what the
        null's model is fitted to). ``clip_nmi`` is then ignored.

    Returns
    -------
    ndarray of shape (n_draws, n_sources, n_latents or len(latents))
    """
    if unclipped and sample.discrete:
        raise ValueError("unclipped estimates exist for continuous latents only")
    sources = sample.sources
    n_sources, n_samples = sources.codes.shape
    columns = np.arange(sample.n_latents) if latents is None else np.asarray(latents, dtype=int)
    n_columns = columns.size
    per_draw = max(1, n_sources * n_samples * sources.codes.itemsize)
    batch = max(1, _NULL_BATCH_BYTES // per_draw)
    # Below ~10^5 (row, pair) cells per call a second thread costs more than it saves.
    threads = n_jobs if n_samples * n_sources * n_columns * batch >= 100_000 else 1
    cardinalities = np.asarray(sources.cardinalities, dtype=np.int64)
    prepared = None
    matrices = []
    pending: list[np.ndarray] = []

    def flush() -> None:
        codes = np.ascontiguousarray(np.concatenate([sources.codes[:, p] for p in pending]))
        tiled = np.tile(cardinalities, len(pending))
        if sample.discrete:
            latent_codes = sample.latent_codes
            information = plugin_mutual_information_matrix(
                codes,
                tiled,
                np.ascontiguousarray(latent_codes.codes[columns]),
                np.asarray(latent_codes.cardinalities)[columns],
            )
        else:
            information = ksg_mutual_information_matrix(
                *prepared, codes, tiled, k, clip=not unclipped
            )
        for block in information.reshape(len(pending), n_sources, -1):
            if unclipped:
                ratio = np.zeros_like(block)
                informative = entropies > 0
                ratio[informative] = block[informative] / entropies[informative, None]
                matrices.append(ratio)
            else:
                matrices.append(_normalized(block, entropies, clip_nmi))
        pending.clear()

    with numba_threads(threads):
        entropies = entropy_per_column(sources.codes, sources.cardinalities)
        if not sample.discrete:
            prepared = prepare_continuous_latents(
                sample.latents[:, columns], seed, n_threads=resolve_n_jobs(threads)
            )
        for permutation in permutations:
            pending.append(np.asarray(permutation))
            if len(pending) == batch:
                flush()
        if pending:
            flush()
    if not matrices:
        return np.zeros((0, n_sources, n_columns))
    return np.stack(matrices)


def nmi_matrix(
    *,
    latents,
    sources,
    discrete_latents: bool | None = None,
    k: int = 10,
    seed: int = 0,
    n_jobs: int | None = None,
    clip_nmi: bool = False,
) -> np.ndarray:
    """Normalized mutual information between every source and every latent.

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
        Numpy arrays, torch tensors, JAX arrays or pandas objects, as in
        :func:`infomec.score`.
    sources : array-like of shape (n_samples, n_sources)
        Discrete factors; each column is label-encoded on its own.
    discrete_latents : bool, optional
        Treat latents as discrete codes (plug-in MI) or continuous (KSG). By default
        integer and boolean dtypes are discrete, floats continuous.
    k : int, default=10
        Neighbours of the KSG estimator (continuous latents only).
    seed : int, default=0
        Seed of the tie-breaking jitter (continuous latents only).
    n_jobs : int, optional
        Threads; ``None`` or ``-1`` uses every core. Results do not depend on it.
    clip_nmi : bool, default=False
        Clip entries at 1. The KSG estimate can exceed ``H(s_i)`` on tied latents;
        the authors' code keeps such values (and so does the default).

    Returns
    -------
    ndarray of shape (n_sources, n_latents)
        ``I(s_i; z_j) / H(s_i)``, at least 0; at most 1 with ``clip_nmi`` (and, up
        to rounding, for discrete latents).

    Examples
    --------
    >>> import numpy as np
    >>> sources = np.repeat(np.arange(4), 25)[:, None]
    >>> latents = np.column_stack([sources[:, 0], np.tile(np.arange(2), 50)])
    >>> nmi_matrix(latents=latents, sources=sources).round(2).tolist()
    [[1.0, 0.0]]
    """
    latents, sources, *_ = numpy_inputs(latents, sources)
    sample = prepare_sample(latents, sources, discrete_latents=discrete_latents)
    settings = resolve_settings("reference", sample.discrete, k=k, clip_nmi=clip_nmi)
    k = settings["k"]
    if not sample.discrete:
        k = effective_k(k, sample.sources, sample.source_names, explicit=False)
    return normalized_mutual_information(
        sample, k=k, seed=seed, n_jobs=n_jobs, clip_nmi=settings["clip_nmi"]
    )


# ---------------------------------------------------------------- InfoM / InfoC


def _top_two(matrix: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    ordered = np.sort(matrix, axis=axis)
    top = np.take(ordered, -1, axis=axis)
    second = np.take(ordered, -2, axis=axis) if matrix.shape[axis] > 1 else np.zeros_like(top)
    return top, second


def _sparsity(
    matrix: np.ndarray, axis: int, chance_count: int, aggregate: str, what: str, names
) -> float:
    """Mean preference of each slice of ``matrix`` along ``axis`` for its top entry.

    Slices whose entries sum to 0 have no preference: they are left out (and named in a
    warning). ``ratio`` is rescaled from ``[1/n, 1]`` to ``[0, 1]`` with
    ``n = chance_count``; ``n == 1`` scores 1. Nothing left to average scores 0.
    """
    totals = matrix.sum(axis=axis)
    defined = totals > 0
    if not defined.all():
        left_out = [names[i] for i in np.flatnonzero(~defined)]
        warn(f"{what} with no information left out of the mean: {', '.join(left_out)}")
    if not defined.any():
        warn(f"no {what} carries information; score set to 0")
        return 0.0
    top, second = _top_two(matrix, axis)
    if aggregate == "gap":
        return float(np.clip(np.mean((top - second)[defined]), 0.0, 1.0))
    preference = float(np.mean(top[defined] / totals[defined]))
    if chance_count == 1:
        return 1.0
    chance = 1.0 / chance_count
    return float(np.clip((preference - chance) / (1.0 - chance), 0.0, 1.0))


def _sparsity_of_stack(
    stack: np.ndarray, axis: int, chance_count: int, aggregate: str
) -> np.ndarray:
    """:func:`_sparsity` of each matrix of ``stack`` (M, ...), ``axis`` within a matrix,
    without warnings: the chance levels score hundreds of null matrices at once."""
    totals = stack.sum(axis=axis + 1)
    defined = totals > 0
    count = defined.sum(axis=1)
    top, second = _top_two(stack, axis + 1)
    if aggregate == "gap":
        values = np.where(defined, top - second, 0.0).sum(axis=1) / np.maximum(count, 1)
        values = np.clip(values, 0.0, 1.0)
    elif chance_count == 1:
        values = np.ones(stack.shape[0])
    else:
        shares = np.where(defined, top / np.where(defined, totals, 1.0), 0.0)
        preference = shares.sum(axis=1) / np.maximum(count, 1)
        chance = 1.0 / chance_count
        values = np.clip((preference - chance) / (1.0 - chance), 0.0, 1.0)
    return np.where(count > 0, values, 0.0)


def infom_infoc_of_stack(
    stack: np.ndarray, active_latents: np.ndarray, aggregate: str = "ratio"
) -> tuple[np.ndarray, np.ndarray]:
    """InfoM and InfoC of each NMI matrix of ``stack`` (M, n_sources, n_latents), with the
    guards of :func:`infom` and :func:`infoc` and none of their warnings.

    Examples
    --------
    >>> stack = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.5, 0.5], [0.5, 0.5]]])
    >>> [values.tolist() for values in infom_infoc_of_stack(stack, np.array([True, True]))]
    [[1.0, 0.0], [1.0, 0.0]]
    """
    active = np.asarray(active_latents, dtype=bool)
    if not active.any():
        return np.zeros(stack.shape[0]), np.zeros(stack.shape[0])
    columns = stack[:, :, active]
    infom_values = _sparsity_of_stack(columns, 0, stack.shape[1], aggregate)
    infoc_values = _sparsity_of_stack(columns, 1, int(active.sum()), aggregate)
    return infom_values, infoc_values


def _active_or_all(nmi: np.ndarray, active_latents) -> np.ndarray:
    nmi = np.asarray(nmi, dtype=np.float64)
    if nmi.ndim != 2 or nmi.size == 0 or not np.isfinite(nmi).all():
        raise ValueError(f"nmi must be a finite, non-empty 2-D array, got shape {nmi.shape}")
    if (nmi < 0).any():  # mutual information is never negative: not an NMI matrix
        row, column = (int(i) for i in np.argwhere(nmi < 0)[0])
        raise ValueError(
            f"nmi must be non-negative (normalized mutual information), got "
            f"{nmi[row, column]:g} at [{row}, {column}]"
        )
    if active_latents is None:
        return np.ones(nmi.shape[1], dtype=bool)
    active = np.asarray(to_numpy(active_latents, "active_latents"), dtype=bool).ravel()
    if active.shape[0] != nmi.shape[1]:
        raise ValueError(
            f"active_latents has {active.shape[0]} entries but nmi has {nmi.shape[1]} columns"
        )
    return active


def infom(nmi, *, active_latents=None, aggregate: str = "ratio", latent_names=None) -> float:
    """InfoM (modularity): does each active latent capture at most one source?

    ``(mean_j max_i NMI_ij / sum_i NMI_ij - 1/K) / (1 - 1/K)`` over active latents ``j``.

    Guards: an active latent whose NMI column sums to 0 is left out of the mean (with a
    warning); with nothing left, or no active latent, InfoM is 0; with one source it is
    1. ``aggregate="gap"`` averages top-1 minus top-2 instead (no rescaling).

    Parameters
    ----------
    nmi : array-like of shape (n_sources, n_latents)
    active_latents : array-like of bool, shape (n_latents,), optional
        Columns to use. **Pass it**: by default every column counts, dead latents
        included, whereas :func:`infomec.score` first prunes inactive latents (its
        ``result["infomec"]["active_latents"]``, or
        ``PruningRule.parse("range>max/20").active(latents)``); without the mask the
        score differs from :func:`infomec.score`'s wherever a latent is inactive.
    aggregate : {"ratio", "gap"}, default="ratio"
    latent_names : sequence of str, optional
        Names of the latents in warnings (default ``z0 ..``).

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> infom([[1.0, 0.0], [0.0, 1.0]])
    1.0
    >>> infom([[0.5, 0.5], [0.5, 0.5]])
    0.0
    """
    check_choice(aggregate, "aggregate", ("ratio", "gap"))
    nmi = np.asarray(to_numpy(nmi, "nmi"), dtype=np.float64)
    active = _active_or_all(nmi, active_latents)
    if not active.any():
        warn("no active latent; InfoM set to 0")
        return 0.0
    names = [
        latent_names[j] if latent_names is not None else f"z{j}" for j in np.flatnonzero(active)
    ]
    return _sparsity(nmi[:, active], 0, nmi.shape[0], aggregate, "active latents", names)


def infoc(nmi, *, active_latents=None, aggregate: str = "ratio", source_names=None) -> float:
    """InfoC (compactness): is each source captured by one active latent?

    ``(mean_i max_j NMI_ij / sum_j NMI_ij - 1/L) / (1 - 1/L)`` over active latents, with
    ``L`` the number of active latents.

    Guards: a source whose active NMI row sums to 0 is left out of the mean (with a
    warning); with nothing left, or ``L == 0``, InfoC is 0; ``L == 1`` gives 1.

    Parameters
    ----------
    nmi : array-like of shape (n_sources, n_latents)
    active_latents : array-like of bool, shape (n_latents,), optional
        Columns to use; every column by default, dead latents included. Pass
        :func:`infomec.score`'s mask to get its number (see :func:`infom`).
    aggregate : {"ratio", "gap"}, default="ratio"
    source_names : sequence of str, optional
        Names of the sources in warnings (default ``s0 ..``).

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> infoc([[1.0, 0.0], [0.0, 1.0]])
    1.0
    >>> round(infoc([[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]]), 4)
    0.3333
    """
    check_choice(aggregate, "aggregate", ("ratio", "gap"))
    nmi = np.asarray(to_numpy(nmi, "nmi"), dtype=np.float64)
    active = _active_or_all(nmi, active_latents)
    n_active = int(active.sum())
    if n_active == 0:
        warn("no active latent; InfoC set to 0")
        return 0.0
    names = (
        list(source_names) if source_names is not None else [f"s{i}" for i in range(nmi.shape[0])]
    )
    return _sparsity(nmi[:, active], 1, n_active, aggregate, "sources", names)


# ------------------------------------------------------------------------ InfoE

# Sources that each get the probe's full work bound (see explicitness_per_source).
_FULL_BUDGET_SOURCES = 2


def _standardized_with_intercept(values: np.ndarray) -> np.ndarray:
    """Intercept column plus each non-constant column standardised.

    Columns are converted one at a time, so the only full-size float64 array is the
    output itself.
    """
    design = np.empty((values.shape[0], 1 + values.shape[1]))
    design[:, 0] = 1.0
    filled = 1
    for j in range(values.shape[1]):
        column = standardize(values[:, j])
        if column is not None:
            design[:, filled] = column
            filled += 1
    return design if filled == design.shape[1] else np.ascontiguousarray(design[:, :filled])


def infoe_design_matrix(sample: Sample, discrete_encoding: str):
    """Probe inputs: intercept plus standardised latents, or dummy-coded discrete codes.

    One-hot codes drop each latent's first value (the intercept spans it), which keeps
    the unpenalised problem strictly convex without changing the fitted model.
    Constant latents contribute no column.
    """
    if not sample.discrete or discrete_encoding == "scalar":
        return _standardized_with_intercept(sample.latents)
    return OneHotDesign.from_codes(list(sample.latent_codes.codes))


def _explicitness_of_source(
    features,
    labels: np.ndarray,
    n_classes: int,
    settings: dict,
    seed: int,
    one_hot_codes: list | None,
    work_budget: float,
) -> tuple[float, bool]:
    if n_classes < 2:
        return 0.0, True
    if settings["infoe_kind"] == "regression":
        return least_squares_r2(features, labels.astype(np.float64)), True
    balanced = settings["infoe_normalizer"] == "balanced"
    if balanced:
        null_loss = np.log(n_classes)  # the balanced intercept-only optimum is uniform
    else:
        frequencies = np.bincount(labels, minlength=n_classes) / labels.shape[0]
        null_loss = float(-np.sum(frequencies * np.log(frequencies)))
    if features.shape[1] == 1:  # intercept only: nothing to explain with
        return 0.0, True
    # One-hot cells that never show a class put the optimum at infinity; fitting those
    # probabilities as exactly 0 reaches the same infimum (see classes_absent_from_cells).
    ruled_out = None
    if one_hot_codes is not None:
        ruled_out = classes_absent_from_cells(one_hot_codes, labels, n_classes)
    # InfoE = (null - CE) / null: an error of infoe_tol * null in CE is infoe_tol in it.
    fit = fit_multinomial_logistic(
        features,
        labels,
        n_classes,
        balanced=balanced,
        tol=settings["infoe_tol"],
        loss_tol=settings["infoe_tol"] * null_loss,
        max_iter=settings["infoe_max_iter"],
        seed=seed,
        ruled_out=ruled_out,
        work_budget=work_budget,
    )
    return float(np.clip((null_loss - fit.log_loss) / null_loss, 0.0, 1.0)), fit.converged


def explicitness_per_source(
    sample: Sample, settings: dict, *, seed: int, n_jobs: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """InfoE of each source and whether its probe converged (parallel over sources)."""
    features = infoe_design_matrix(sample, settings["infoe_discrete_encoding"])
    sources = sample.sources
    one_hot = isinstance(features, OneHotDesign)
    one_hot_codes = list(sample.latent_codes.codes) if one_hot else None
    # Each probe's work is bounded; beyond two sources the bounds are shared out, so a
    # whole score stays bounded too (the share depends only on the number of sources).
    n_fitted = max(int(np.sum(sources.cardinalities > 1)), 1)
    work_budget = PROBE_WORK_BUDGET * min(1.0, _FULL_BUDGET_SOURCES / n_fitted)

    def fit(i: int) -> tuple[float, bool]:
        return _explicitness_of_source(
            features,
            sources.codes[i].astype(np.int64),
            int(sources.cardinalities[i]),
            settings,
            seed,
            one_hot_codes,
            work_budget,
        )

    # Threads pay off only on sizeable fits; below that their start-up dominates.
    workers = resolve_n_jobs(n_jobs) if sample.n_samples * sample.n_sources >= 50_000 else 1
    # One BLAS thread per fit whatever n_jobs is: results then do not depend on n_jobs.
    # Cost grows with the number of classes: those fits start first.
    with threadpool_limits(limits=1, user_api="blas"):
        outcomes = run_largest_first(
            fit, sources.cardinalities, n_jobs=workers, backend="threading"
        )
    per_source = np.array([value for value, _ in outcomes])
    converged = np.array([flag for _, flag in outcomes])
    if not converged.all():
        names = [sample.source_names[i] for i in np.flatnonzero(~converged)]
        warn(
            f"InfoE probe did not reach infoe_tol={settings['infoe_tol']} (InfoE not "
            f"determined to that tolerance) within infoe_max_iter="
            f"{settings['infoe_max_iter']} or its work bound for: {', '.join(names)}"
        )
    return per_source, converged


def _mean_over_informative_sources(per_source: np.ndarray, sample: Sample) -> float:
    informative = sample.sources.cardinalities > 1
    if not informative.any():
        warn("every source takes a single value; InfoE set to 0")
        return 0.0
    return float(np.mean(per_source[informative]))


def infoe(
    *,
    latents,
    sources,
    discrete_latents: bool | None = None,
    preset: str = "reference",
    infoe_kind: str | None = None,
    infoe_normalizer: str | None = None,
    infoe_discrete_encoding: str | None = None,
    infoe_tol: float | None = None,
    infoe_max_iter: int | None = None,
    seed: int = 0,
    n_jobs: int | None = None,
) -> tuple[float, np.ndarray]:
    """InfoE (explicitness): how linearly decodable is each source from all latents?

    Per source, ``(CE_null - CE_fit) / CE_null`` where ``CE_fit`` is the in-sample
    log-loss of an unpenalised multinomial logistic regression with balanced class
    weights and ``CE_null = log K_i`` (the balanced intercept-only model);
    ``infoe_normalizer="entropy"`` fits unweighted and uses ``H(s_i)``;
    ``infoe_kind="regression"`` uses the in-sample OLS ``R^2`` instead. Single-valued
    sources score 0 and are left out of the mean.

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
    sources : array-like of shape (n_samples, n_sources)
        Numpy arrays, torch tensors, JAX arrays or pandas objects, as in
        :func:`infomec.score`.
    discrete_latents : bool, optional
        Auto-detected from the dtype by default.
    preset : {"reference", "paper", "tripod"}, default="reference"
        Decides the encoding of discrete latents (one-hot or standardised scalars).
    infoe_kind, infoe_normalizer, infoe_discrete_encoding, infoe_tol, infoe_max_iter
        Override the preset (see :func:`infomec.score`).
    seed : int, default=0
    n_jobs : int, optional

    Returns
    -------
    infoe : float in [0, 1]
    per_source : ndarray of shape (n_sources,)

    Examples
    --------
    >>> import numpy as np
    >>> sources = np.repeat(np.arange(3), 20)[:, None]
    >>> score, per_source = infoe(latents=sources.astype(float), sources=sources)
    >>> score > 0.99
    True
    """
    latents, sources, *_ = numpy_inputs(latents, sources)
    sample = prepare_sample(latents, sources, discrete_latents=discrete_latents)
    settings = resolve_settings(
        preset,
        sample.discrete,
        infoe_kind=infoe_kind,
        infoe_normalizer=infoe_normalizer,
        infoe_discrete_encoding=infoe_discrete_encoding,
        infoe_tol=infoe_tol,
        infoe_max_iter=infoe_max_iter,
    )
    per_source, _ = explicitness_per_source(sample, settings, seed=seed, n_jobs=n_jobs)
    return _mean_over_informative_sources(per_source, sample), per_source


# ----------------------------------------------------------------- the family


def compute(
    sample: Sample, settings: dict, *, seed: int, n_jobs: int | None, held_out=None
) -> dict:
    """Every InfoMEC output for one sample (the ``infomec`` family of :func:`score`).

    InfoMEC is in-sample by definition: ``held_out`` is ignored.
    """
    nmi = normalized_mutual_information(
        sample, k=settings["k"], seed=seed, n_jobs=n_jobs, clip_nmi=settings["clip_nmi"]
    )
    active = PruningRule.parse(settings["pruning"]).active(sample.latents)
    per_source, converged = explicitness_per_source(sample, settings, seed=seed, n_jobs=n_jobs)
    return {
        "infom": infom(
            nmi,
            active_latents=active,
            aggregate=settings["aggregate"],
            latent_names=sample.latent_names,
        ),
        "infoe": _mean_over_informative_sources(per_source, sample),
        "infoc": infoc(
            nmi,
            active_latents=active,
            aggregate=settings["aggregate"],
            source_names=sample.source_names,
        ),
        "nmi": nmi,
        "active_latents": active,
        "infoe_per_source": per_source,
        "converged": converged,
    }
