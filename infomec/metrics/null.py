"""Chance levels: what the scores are when the sources carry no information.

A permutation null. The rows of the sources are shuffled ``R`` times (the latents stay
as they are), which keeps every source's class counts and every latent's distribution
and breaks any link between them; each draw is scored with the family's own estimator,
pruning and normalisation (:func:`~infomec.metrics.infomec.permuted_nmi_matrices`,
:func:`~infomec.metrics.infomec.infom`, ...). What the draws give:

- per NMI entry, a **floor** (the 95th percentile of the entry under the null, taken
  as the draw at or above it) and a
  permutation **p-value** ``(1 + #{null >= observed}) / (1 + R)``;
- per score, its **chance level**: the mean, spread and 5th / 95th percentiles of the
  score over the draws, and the score's p-value;
- whether any active entry is detectably informative at all, family-wise: 95% of the
  entries of noise lie below their floors, so with 50 entries two or three are above
  theirs by chance. The test is the max-statistic one (Westfall & Young): each entry
  is standardised by its null mean and spread, and the largest observed value is
  ranked among the largest values of the draws.

InfoE's chance level is a closed form, not refits (a refit costs a whole probe, as much
as the score itself): for a source independent of the latents, twice the log-likelihood
gain of the fitted probe over the intercept-only one is asymptotically chi-square with
``p (K - 1)`` degrees of freedom (Wilks), ``p`` the probe's input columns, so InfoE's
null per source is ``chi2(p (K - 1)) / (2 N CE_null)``; for ``infoe_kind="regression"``
the in-sample ``R^2`` of noise is exactly ``Beta(p / 2, (N - p - 1) / 2)`` under
Gaussian errors. Draws of these are averaged over sources as InfoE is. With balanced
class weights and unbalanced classes this is an approximation: against refits on
shuffled labels (``benchmarks/bench_null.py``) it is within 5% for balanced sources and
about a third low for a 50/30/15/5% source.

Sharing the shuffles. Scoring every latent under every shuffle costs ``R`` NMI
matrices, up to three whole scores at ``R = 10``. For continuous latents with no tied
values it is not needed: an unclipped KSG estimate under independence is a mean of many
nearest-neighbour terms, so nearly Gaussian, centred on 0 (the estimator is unbiased for
independent variables), with a spread that depends on the source's class counts and
barely on the latent (one-dimensional neighbour counts follow ranks). So those latents
share the shuffles (:func:`shared_pool`: draw ``t`` scores latent ``t mod g`` under
shuffle ``t mod R``, ``max(R, g)`` columns in all, one NMI matrix when ``g >= R``), each
source's spread ``sigma_i`` is fitted to the unclipped pool (root mean square, ``T``
values), and an entry's null is ``max(N(0, sigma_i^2), 0)``: its floor
``sigma_i t_{T, 0.95}``, its p-value ``P(t_T >= NMI / sigma_i)`` (Student-t, since
``sigma_i`` is estimated; never below ``1 / (T + 1)``). InfoM's and InfoC's chance levels
come from :data:`MODELLED_MATRICES` null matrices of fresh Gaussian entries; the
family-wise test's matrices also redraw each ``sigma_i`` from its estimate's law, so that
the test allows for the error of the fit; as the estimates' right tail is heavier than the
Gaussian's at a few hundred rows, the model's "information detected" stands only when it
is decisive (:func:`decisive_deviation`), and is otherwise decided by R shuffles of every
latent. Discrete latents and continuous ones with tied
values keep their own R shuffles. ``null_exact=True`` scores every latent under every
shuffle instead (the R whole matrices are then the null matrices);
``benchmarks/results/bench_null.md`` compares the two.

The draws are seeded from the score's ``seed`` through :class:`numpy.random.SeedSequence`
children, one per draw, so they do not depend on ``n_jobs``, and the first ``R`` draws
of a larger ``R`` are the same.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence

import numpy as np

from infomec._validation import check_positive_int, warn
from infomec.data import HeldOut, Sample
from infomec.estimators import entropy_per_column, plugin_mutual_information_matrix
from infomec.metrics import infomec as _infomec
from infomec.metrics._legacy import DLIB_BINS, latent_codes
from infomec.metrics.mig import mig_from_mutual_information
from infomec.metrics.mig_sup import mig_sup_from_mutual_information
from infomec.metrics.modularity import modularity_from_mutual_information
from infomec.parallel import numba_threads

__all__ = [
    "DEFAULT_NULL",
    "ChanceWarning",
    "NULL_FAMILIES",
    "attach_chance",
    "check_null",
    "permutations",
    "resolve_null_metrics",
]


class ChanceWarning(UserWarning):
    """A score that noise reaches, or a code with no detectable information.

    Not an :class:`~infomec.InfoMECWarning` (those announce a guard that changed how a
    score is computed): this one interprets a score and changes nothing, and can be
    silenced on its own with ``warnings.simplefilter("ignore", infomec.ChanceWarning)``.
    """


#: Shuffles of the sources by default. Tie-free continuous latents share them (module
#: docs), so that the null costs ``max(R, g) / g`` NMI matrices for ``g`` such latents:
#: two for 10 latents, one for 20 or more (a fifth to a third of a score each), and at 20
#: shuffles the family-wise test can reach p = 1/21 < 0.05
#: (benchmarks/results/bench_null.md). Ask for more (``null=100``) where p-values must
#: be finer, or where latents have ties and keep their own shuffles.
DEFAULT_NULL = 20
# Degrees of freedom of the heavy tail that vouches for the model's "information
# detected" (decisive_deviation).
_DECISIVE_DF = 5
#: Null matrices drawn from the model (InfoM / InfoC chance levels, family-wise test).
MODELLED_MATRICES = 400
#: The fewest draws accepted: fewer cannot place a 95th percentile.
MIN_NULL = 10
#: The most draws accepted (each costs about a tenth of a score).
MAX_NULL = 100_000
#: The quantile of an NMI entry's null that is its floor.
FLOOR_QUANTILE = 0.95
#: Level of the family-wise test "some active entry is above noise".
LEVEL = 0.05
#: Families with a cheap permutation null (one kernel call per draw, no refit).
NULL_FAMILIES = ("infomec", "mig", "mig_sup", "modularity")
# Mixed into the seed so that the null's draws differ from the bootstrap's resamples.
_NULL_STREAM = 0x6E756C6C


def check_null(null) -> int:
    """The number of draws: 0 (no null) or an integer >= :data:`MIN_NULL`.

    Examples
    --------
    >>> check_null(0), check_null(50)
    (0, 50)
    """
    if isinstance(null, (int, np.integer)) and not isinstance(null, bool) and null == 0:
        return 0
    try:
        return check_positive_int(null, "null", minimum=MIN_NULL, maximum=MAX_NULL)
    except ValueError:
        raise ValueError(
            f"null must be 0 (no chance levels) or a number of draws from {MIN_NULL} to "
            f"{MAX_NULL}, got {null!r}"
        ) from None


def resolve_null_metrics(null_metrics, metrics: Sequence[str]) -> list[str]:
    """Families that get chance levels, among the computed ``metrics``.

    ``None`` means InfoMEC alone (when computed); ``"all"`` every computed family that
    has a null; otherwise a comma-separated string or a list of names from
    :data:`NULL_FAMILIES`, each of which must be computed.

    Examples
    --------
    >>> resolve_null_metrics(None, ["infomec", "mig"]), resolve_null_metrics("all", ["mig"])
    (['infomec'], ['mig'])
    """
    if null_metrics is None:
        return [name for name in ("infomec",) if name in metrics]
    if isinstance(null_metrics, str):
        if null_metrics == "all":
            return [name for name in NULL_FAMILIES if name in metrics]
        names = [name.strip() for name in null_metrics.split(",") if name.strip()]
    elif isinstance(null_metrics, Sequence) and all(isinstance(n, str) for n in null_metrics):
        names = [name.strip() for name in null_metrics]
    else:
        raise ValueError(
            f"null_metrics must be 'all', a comma-separated string or a list of family "
            f"names ({', '.join(NULL_FAMILIES)}); got {null_metrics!r}"
        )
    names = list(dict.fromkeys(names))
    without = [name for name in names if name not in NULL_FAMILIES]
    if without:
        raise ValueError(
            f"no permutation null for {', '.join(without)} (a draw would refit its models, "
            f"as costly as the score); chance levels exist for {', '.join(NULL_FAMILIES)}"
        )
    missing = [name for name in names if name not in metrics]
    if missing:
        raise ValueError(
            f"null_metrics names {', '.join(missing)}, which metrics does not compute "
            f"({', '.join(metrics)})"
        )
    return names


def generators(seed: int, n_draws: int, stream: int = 0) -> list[np.random.Generator]:
    """One independent generator per draw, from ``seed`` (and ``stream``) alone."""
    streams = np.random.SeedSequence([int(seed), _NULL_STREAM, int(stream)]).spawn(n_draws)
    return [np.random.default_rng(stream) for stream in streams]


def permutations(seed: int, n_draws: int, n_samples: int) -> Iterator[np.ndarray]:
    """The row orders of the draws (one generator each, consumed lazily).

    Examples
    --------
    >>> [p.tolist() for p in permutations(0, 2, 4)] == [p.tolist() for p in permutations(0, 2, 4)]
    True
    """
    for rng in generators(seed, n_draws):
        yield rng.permutation(n_samples)


def summary(draws: np.ndarray, observed: float) -> dict[str, float]:
    """Chance level of one score: ``mean``, ``std``, ``p05``, ``p95`` of its draws and
    the score's permutation ``p_value`` ``(1 + #{draw >= observed}) / (1 + R)``.

    Examples
    --------
    >>> summary(np.array([0.1, 0.2, 0.3, 0.4]), 0.5)["p_value"]
    0.2
    """
    draws = np.asarray(draws, dtype=np.float64)
    p05, p95 = np.quantile(draws, [0.05, 0.95])
    return {
        "mean": float(draws.mean()),
        "std": float(draws.std(ddof=1)) if draws.size > 1 else 0.0,
        "p05": float(p05),
        "p95": float(p95),
        "p_value": float((1 + np.sum(draws >= observed)) / (1 + draws.size)),
    }


def entry_floors(null: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each entry's floor (its null's 95th percentile) and its permutation p-value.

    ``null`` has shape (R, n_sources, n_latents), ``observed`` (n_sources, n_latents).
    The floor is a draw, the one at or just above the 95th percentile (numpy's
    ``"higher"`` method): with R = 10 the largest, so that noise exceeds it about
    1 / (R + 1) of the time rather than more, as an interpolated value would let it.
    """
    floor = np.quantile(null, FLOOR_QUANTILE, axis=0, method="higher")
    p_value = (1 + np.sum(null >= observed[None], axis=0)) / (1 + null.shape[0])
    return floor, p_value


def family_p_value(null: np.ndarray, observed: np.ndarray, mask: np.ndarray) -> float:
    """Family-wise p-value of "some entry under ``mask`` is above noise" (max-T).

    The observed matrix and the R draws are R + 1 matrices, exchangeable when the
    sources carry no information. Each is standardised entry by entry with the mean and
    standard deviation of the other R (leave-one-out keeps them exchangeable, and an
    informative entry is measured against the draws alone); an entry whose spread is
    below half the median spread of its source's entries is scaled by that instead, so
    that one degenerate entry (every draw 0, say) cannot make noise look informative.
    The p-value is the rank of the observed matrix's largest standardised entry among
    the R + 1 largest: ``(1 + #{draw >= observed}) / (1 + R)``.
    """
    if not mask.any():
        return 1.0
    stacked = np.concatenate([observed[None], null])[:, mask]  # (R + 1, entries)
    rows = np.broadcast_to(np.arange(mask.shape[0])[:, None], mask.shape)[mask]
    others = stacked.shape[0] - 1
    total, squares = stacked.sum(axis=0), (stacked**2).sum(axis=0)
    mean = (total - stacked) / others
    spread = np.sqrt(np.maximum((squares - stacked**2) / others - mean**2, 0.0))
    scale = spread.copy()
    for row in np.unique(rows):
        in_row = rows == row
        typical = np.median(spread[:, in_row], axis=1, keepdims=True)
        scale[:, in_row] = np.maximum(spread[:, in_row], 0.5 * typical)
    largest = np.max((stacked - mean) / np.maximum(scale, 1e-12), axis=1)
    return float(np.sum(largest >= largest[0]) / stacked.shape[0])


def _quietly(function, *args, **kwargs):
    # Draws of noise trigger the scores' own guards (a latent with no information left
    # out, ...) in nearly every draw; those warnings describe the draw, not the data.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


# ------------------------------------------------------------------- InfoE


def _probe_inputs(sample: Sample, settings: dict) -> int:
    """Columns of the InfoE probe besides the intercept (as infoe_design_matrix builds)."""
    if sample.discrete and settings["infoe_discrete_encoding"] == "onehot":
        return int(np.sum(np.maximum(sample.latent_codes.cardinalities - 1, 0)))
    latents = sample.latents
    return int(np.sum(latents.max(axis=0) != latents.min(axis=0)))


def _entropy(codes: np.ndarray) -> float:
    frequencies = np.bincount(codes) / codes.shape[0]
    frequencies = frequencies[frequencies > 0]
    return float(-np.sum(frequencies * np.log(frequencies)))


def infoe_null(sample: Sample, settings: dict, rngs: Sequence[np.random.Generator]) -> np.ndarray:
    """InfoE of shuffled sources, one value per generator, in closed form (module docs)."""
    inputs = _probe_inputs(sample, settings)
    cardinalities = np.asarray(sample.sources.cardinalities)
    informative = cardinalities > 1
    n = sample.n_samples
    draws = np.zeros(len(rngs))
    if not informative.any() or inputs == 0:
        return draws
    sizes = cardinalities[informative]
    if settings["infoe_kind"] == "regression":
        a, b = inputs / 2.0, max(n - inputs - 1, 1) / 2.0
        for r, rng in enumerate(rngs):
            draws[r] = np.mean(rng.beta(a, b, size=sizes.size))
        return np.clip(draws, 0.0, 1.0)
    if settings["infoe_normalizer"] == "balanced":
        null_loss = np.log(sizes)  # the balanced intercept-only loss
    else:
        null_loss = np.array([_entropy(codes) for codes in sample.sources.codes[informative]])
    degrees = inputs * (sizes - 1)
    for r, rng in enumerate(rngs):
        per_source = rng.chisquare(degrees) / (2.0 * n * null_loss)
        draws[r] = np.mean(np.clip(per_source, 0.0, 1.0))
    return draws


# ---------------------------------------------------------------- families


def tie_free_latents(sample: Sample) -> np.ndarray:
    """Continuous latents with no tied values: those whose null the Gaussian model covers.

    Discrete latents (plug-in MI) and continuous latents with tied values (rounded,
    clipped or saturated units; constant ones) are left to exact draws.

    Examples
    --------
    >>> from infomec.data import Sample
    >>> from infomec.inputs.encode import encode_columns
    >>> latents = np.array([[0.1, 1.0, 2.0], [0.4, 1.0, 3.0], [0.3, 2.0, 2.5]])
    >>> sources = encode_columns(np.array([[0], [1], [0]]))
    >>> tie_free_latents(Sample(latents, False, sources)).tolist()
    [True, False, True]
    """
    if sample.discrete:
        return np.zeros(sample.n_latents, dtype=bool)
    ordered = np.sort(sample.latents, axis=0)
    return np.all(ordered[1:] > ordered[:-1], axis=0) & (sample.n_samples > 1)


def _columns(
    sample: Sample, latents: np.ndarray, orders: list, settings: dict, *, seed, n_jobs, unclipped
) -> np.ndarray:
    """NMI of ``latents`` (all sources) under each of ``orders``: (len(orders), S, len)."""
    return _infomec.permuted_nmi_matrices(
        sample,
        iter(orders),
        k=settings["k"],
        seed=seed,
        n_jobs=n_jobs,
        clip_nmi=settings["clip_nmi"],
        latents=latents,
        unclipped=unclipped,
    )


def shared_pool(
    sample: Sample, members: np.ndarray, n_draws: int, settings: dict, *, seed, n_jobs
) -> np.ndarray:
    """Unclipped null NMI of the tie-free latents ``members``, shuffles shared among them.

    Draw ``t`` scores latent ``members[t mod g]`` against every source under shuffle
    ``t mod R``: every shuffle is used, every member at least once, and the whole pool
    costs ``max(R, g)`` latent columns (one NMI matrix when ``g >= R``) instead of the
    ``R g`` of scoring every member under every shuffle. Kernel calls: one per shuffle
    (``g >= R``) or per member (``g < R``), whichever is fewer.

    Returns
    -------
    ndarray of shape (max(R, g), n_sources)
    """
    orders = list(permutations(seed, n_draws, sample.n_samples))
    size = members.size
    pool = np.empty((max(n_draws, size), sample.n_sources))
    options = dict(seed=seed, n_jobs=n_jobs, unclipped=True)
    if size >= n_draws:
        for r in range(n_draws):  # draws r, r + R, ...: members r, r + R, ... under shuffle r
            block = _columns(sample, members[r::n_draws], [orders[r]], settings, **options)
            pool[r::n_draws] = block[0].T
    else:
        for position, latent in enumerate(members):  # draws position, position + g, ...
            draws = np.arange(position, pool.shape[0], size)
            block = _columns(
                sample, [latent], [orders[t % n_draws] for t in draws], settings, **options
            )
            pool[draws] = block[:, :, 0]
    return pool


def _modelled_chance(
    sample: Sample, settings: dict, nmi: np.ndarray, mask: np.ndarray, *, seed, n_jobs, n_draws
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, str]:
    """Floors, p-values, null matrices and the family-wise p-value, with the tie-free
    latents' entries from the Gaussian model of their shared pool (module docs) and every
    other latent's from its own R shuffles."""
    # scipy.special, not scipy.stats: the latter takes seconds to import.
    from scipy.special import stdtr, stdtrit

    n_sources, n_latents = nmi.shape
    tie_free = tie_free_latents(sample)
    members = np.flatnonzero(tie_free)
    pool = shared_pool(sample, members, n_draws, settings, seed=seed, n_jobs=n_jobs)
    size = pool.shape[0]
    # Centred on 0 (the unclipped KSG estimate of independent variables is unbiased), so
    # the spread is the root mean square; with T values, entry / spread is Student-t
    # with T degrees of freedom, which the floors, p-values and null matrices use.
    spread = np.sqrt(np.mean(pool**2, axis=0))
    # The matrices' draws come from stream 2 of the seed, resampled draws of the other
    # latents from stream 3.
    normal, resample = generators(seed, 1, stream=2)[0], generators(seed, 1, stream=3)[0]
    n_matrices = max(n_draws, MODELLED_MATRICES)
    upper = 1.0 if settings["clip_nmi"] else None
    null = np.empty((n_matrices, n_sources, n_latents))
    standard = normal.standard_normal((n_matrices, n_sources, members.size))
    null[:, :, members] = np.clip(spread[None, :, None] * standard, 0.0, upper)
    # For the family-wise test, each matrix also draws the spread of each source (shared
    # by its latents, as the estimate is), so that an entry over the fitted spread is
    # Student-t, as an observed entry of noise is: the estimate's own error is accounted.
    tested = null.copy()
    widening = np.sqrt(size / normal.chisquare(size, (n_matrices, n_sources)))
    tested[:, :, members] = np.clip(null[:, :, members] * widening[:, :, None], 0.0, upper)
    floor, p_value = np.empty_like(nmi), np.empty_like(nmi)
    mean, scale = np.zeros_like(nmi), np.empty_like(nmi)
    floor[:, members] = np.clip(spread * stdtrit(size, FLOOR_QUANTILE), 0.0, upper)[:, None]
    ratio = nmi[:, members] / np.maximum(spread, 1e-300)[:, None]
    tail = np.where(nmi[:, members] > 0, stdtr(size, -ratio), 1.0)
    # Never finer than the null values the model was fitted to.
    p_value[:, members] = np.maximum(tail, 1.0 / (1 + size))
    scale[:, members] = spread[:, None]
    others = np.flatnonzero(~tie_free)
    if others.size:
        orders = list(permutations(seed, n_draws, sample.n_samples))
        own = _columns(sample, others, orders, settings, seed=seed, n_jobs=n_jobs, unclipped=False)
        picks = resample.integers(0, n_draws, size=(n_matrices, others.size))
        null[:, :, others] = own[picks, :, np.arange(others.size)[None, :]].transpose(0, 2, 1)
        tested[:, :, others] = null[:, :, others]
        floor[:, others], p_value[:, others] = entry_floors(own, nmi[:, others])
        mean[:, others], scale[:, others] = own.mean(axis=0), own.std(axis=0, ddof=1)
    family_p, largest = _max_statistic_p_value(tested, nmi, mask, mean, scale)
    method = (
        f"{n_draws} shuffles of the sources; {members.size} tie-free continuous latent(s) "
        f"share them ({size} null columns, Gaussian model per source)"
        + (f", {others.size} other latent(s) scored under each" if others.size else "")
        + f"; {n_matrices} null matrices"
    )
    return floor, p_value, null, (family_p, largest), method


def decisive_deviation(n_entries: int) -> float:
    """How many fitted spreads an entry must stand above 0 for the Gaussian model's
    verdict "information detected" to stand without exact shuffles.

    The model's right tail is lighter than the estimates' (skewness up to about 0.5 at
    200 rows), and with thousands of entries the largest one of noise lies where that
    matters. Student-t with 5 degrees of freedom has a far heavier tail than the
    estimates; Bonferroni over the entries makes the bound hold for the largest.

    Examples
    --------
    >>> round(decisive_deviation(50), 1)
    5.9
    """
    from scipy.special import stdtrit

    return float(-stdtrit(_DECISIVE_DF, LEVEL / max(n_entries, 1)))


def _max_statistic_p_value(
    null: np.ndarray, observed: np.ndarray, mask: np.ndarray, mean: np.ndarray, scale: np.ndarray
) -> float:
    """Max-statistic p-value with entries standardised by a known null mean and spread
    (from the model), against null matrices of fresh draws; a spread below half the
    median of its source's masked entries is raised to that (see :func:`family_p_value`)."""
    if not mask.any():
        return 1.0, 0.0
    floored = scale.copy()
    for row in range(mask.shape[0]):
        if mask[row].any():
            floored[row] = np.maximum(scale[row], 0.5 * np.median(scale[row, mask[row]]))
    floored = np.maximum(floored, 1e-12)
    largest = np.max(np.where(mask, (null - mean) / floored, -np.inf), axis=(1, 2))
    observed_largest = np.max(np.where(mask, (observed - mean) / floored, -np.inf))
    p_value = float((1 + np.sum(largest >= observed_largest)) / (1 + null.shape[0]))
    return p_value, float(observed_largest)


def _level(n_draws: int) -> float:
    """The family-wise test's level: 5%, or the finest p-value R shuffles allow."""
    return max(LEVEL, 1.0 / (1 + n_draws))


def _mask(sample: Sample, family: dict) -> np.ndarray:
    """Entries the family-wise test looks at: active latents, sources with H > 0."""
    active = np.asarray(family["active_latents"], dtype=bool)
    return (np.asarray(sample.sources.cardinalities) > 1)[:, None] & active[None, :]


def _every_latent(sample: Sample, settings: dict, *, seed, n_jobs, n_draws: int) -> np.ndarray:
    """The R shuffles scored in full: every latent under every shuffle, (R, S, L)."""
    orders = list(permutations(seed, n_draws, sample.n_samples))
    latents = np.arange(sample.n_latents)
    return _columns(sample, latents, orders, settings, seed=seed, n_jobs=n_jobs, unclipped=False)


def _infomec_chance(
    sample: Sample, settings: dict, family: dict, *, seed: int, n_jobs, n_draws: int,
    pooled: bool = True,
) -> dict:  # fmt: skip
    nmi = np.asarray(family["nmi"])
    mask = _mask(sample, family)
    if pooled and tie_free_latents(sample).any():
        floor, p_value, null, (family_p, largest), method = _modelled_chance(
            sample, settings, nmi, mask, seed=seed, n_jobs=n_jobs, n_draws=n_draws
        )
        if family_p <= _level(n_draws) and largest < decisive_deviation(int(mask.sum())):
            # The model finds information, but not by a margin its tail can vouch for
            # (pure noise with many entries lands here): decide with exact shuffles.
            exact = _every_latent(sample, settings, seed=seed, n_jobs=n_jobs, n_draws=n_draws)
            family_p = family_p_value(exact, nmi, mask)
            method += f"; the family-wise test on {n_draws} shuffles of every latent"
    else:
        # Every latent scored under every shuffle: the R matrices are the null matrices.
        null = _every_latent(sample, settings, seed=seed, n_jobs=n_jobs, n_draws=n_draws)
        floor, p_value = entry_floors(null, nmi)
        family_p = family_p_value(null, nmi, mask)
        method = f"{n_draws} shuffles of the sources, every latent scored under each"
    active = np.asarray(family["active_latents"], dtype=bool)
    infom, infoc = _infomec.infom_infoc_of_stack(null, active, settings["aggregate"])
    # InfoE's draws come from stream 1 of the seed (the permutations from stream 0).
    infoe = infoe_null(sample, settings, generators(seed, n_draws, stream=1))
    return {
        "n_draws": n_draws,
        "n_matrices": int(null.shape[0]),
        "null_method": method,
        "infom": summary(np.array(infom), family["infom"]),
        "infoe": summary(infoe, family["infoe"]),
        "infoc": summary(np.array(infoc), family["infoc"]),
        "infoe_method": "closed form (Wilks chi-square)"
        if settings["infoe_kind"] == "classification"
        else "closed form (beta R^2)",
        "nmi_floor": floor,
        "nmi_p_value": p_value,
        "nmi_above_floor": nmi > floor,
        # Never finer than the shuffles themselves allow, however many matrices.
        "family_p_value": max(family_p, 1.0 / (1 + n_draws)),
    }


def _binned_null(sample: Sample, *, seed: int, n_jobs, n_draws: int):
    """Plug-in MI of every draw on the 20-bin (or own) codes, and the source entropies."""
    codes, cardinalities = latent_codes(sample, DLIB_BINS)
    sources = sample.sources
    with numba_threads(n_jobs):
        entropies = entropy_per_column(sources.codes, sources.cardinalities)
        matrices = [
            plugin_mutual_information_matrix(
                np.ascontiguousarray(sources.codes[:, order]),
                sources.cardinalities,
                codes,
                cardinalities,
            )
            for order in permutations(seed, n_draws, sample.n_samples)
        ]
    return matrices, entropies


def _legacy_chance(
    name: str, sample: Sample, held_out: HeldOut | None, family: dict, *, seed, n_jobs, n_draws
) -> dict:
    if name == "modularity":
        matrices, _ = _binned_null(held_out.train, seed=seed, n_jobs=n_jobs, n_draws=n_draws)
        draws = [_quietly(modularity_from_mutual_information, m.T) for m in matrices]
        return {"n_draws": n_draws, "modularity": summary(np.array(draws), family["modularity"])}
    matrices, entropies = _binned_null(sample, seed=seed, n_jobs=n_jobs, n_draws=n_draws)
    if name == "mig":
        draws = [_quietly(mig_from_mutual_information, m, entropies)[0] for m in matrices]
    else:
        draws = [_quietly(mig_sup_from_mutual_information, m, entropies) for m in matrices]
    return {"n_draws": n_draws, "score": summary(np.array(draws), family["score"])}


_LABELS = {
    ("infomec", "infom"): "InfoM",
    ("infomec", "infoe"): "InfoE",
    ("infomec", "infoc"): "InfoC",
    ("mig", "score"): "MIG",
    ("mig_sup", "score"): "MIG-sup",
    ("modularity", "modularity"): "modularity",
}


def _warn_within_chance(
    name: str, family: dict, chance: dict, keys: Sequence[str], below_band: bool = False
) -> None:
    """Name each score of ``keys`` that noise reaches: below its null's 95th percentile,
    or with ``below_band`` below its 5th. A score that ties the top of its null is not
    named: such ties come from scores fixed by the shape of the data (InfoM is 1 with
    one source, InfoC with one active latent), not by its content."""
    for key in keys:
        level, value = chance[key], family[key]
        label = _LABELS.get((name, key), f"{name}.{key}")
        where = "below its chance band" if below_band else "within its chance band"
        if value < (level["p05"] if below_band else level["p95"]):
            warn(
                f"{label} {value:.3f} is {where}: sources shuffled "
                f"{chance['n_draws']} times score {level['mean']:.3f} on average "
                f"(5-95% {level['p05']:.3f}-{level['p95']:.3f}, p = {level['p_value']:.2f}), "
                f"so this {label} is no higher than noise gets",
                ChanceWarning,
            )


def attach_chance(
    families: dict[str, dict],
    sample: Sample,
    held_out: HeldOut | None,
    settings: dict,
    *,
    null_metrics: Sequence[str],
    n_draws: int,
    seed: int,
    n_jobs: int | None,
    pooled: bool = True,
) -> None:
    """Add ``"chance"`` to each family of ``null_metrics`` and warn where it matters.

    The scores themselves are left unchanged. Warnings (:class:`ChanceWarning`): when no
    active NMI entry is detectably above noise (family-wise, :func:`family_p_value`),
    InfoM and InfoC describe noise; otherwise InfoM and InfoC are named when below their
    null's 5th percentile. InfoE and the legacy scores are named when below their null's
    95th percentile.
    """
    if n_draws == 0:
        return
    for name in null_metrics:
        family = families[name]
        if name == "infomec":
            chance = _infomec_chance(
                sample, settings, family, seed=seed, n_jobs=n_jobs, n_draws=n_draws,
                pooled=pooled,
            )  # fmt: skip
            if chance["family_p_value"] > _level(n_draws) and family["active_latents"].any():
                warn(
                    "no latent carries detectable information about any source; InfoM and "
                    f"InfoC describe noise (no active NMI entry is above its permutation "
                    f"null: family-wise p = {chance['family_p_value']:.2f} over "
                    f"{n_draws} shuffles of the sources)",
                    ChanceWarning,
                )
            else:
                # Information above noise: InfoM and InfoC then spread NMI values far
                # larger than noise's, whose ratios of near-zero values reach 1 by chance
                # when there are few sources (a perfect code of two sources scores within
                # noise's band); they are named only when below nearly all of noise.
                _warn_within_chance(name, family, chance, ("infom", "infoc"), below_band=True)
            _warn_within_chance(name, family, chance, ("infoe",))
        else:
            chance = _legacy_chance(
                name, sample, held_out, family, seed=seed, n_jobs=n_jobs, n_draws=n_draws
            )
            scores = [key for key, level in chance.items() if isinstance(level, dict)]
            _warn_within_chance(name, family, chance, scores)
        family["chance"] = chance
