"""What a metric family will cost, estimated from the input's shape before it runs.

Every family's time and memory grow with the number of rows ``N``, of latents ``d`` and
of sources ``K`` (and their classes ``C``), each in its own way: the InfoE probe's
discriminant start with ``d^2``, the ``unsupervised`` family's covariance and pairwise
mutual information with ``d^2``, DCI's boosted trees with ``N d C``. An input with few
rows and very many latents (200 x 1,000,000) is ordinary for a file but would run for
hours or ask for terabytes. So :func:`check_costs` runs before any family allocates
anything, and refuses, in one line naming the family, the shape and the option that
lowers the cost:

- **work**: each family's multiply-adds (calibrated so that ``10**10`` take about a
  second on one core) must stay within ``max_work`` (default :data:`DEFAULT_MAX_WORK`,
  about half an hour on one core); ``max_work=`` / ``--max-work`` raises or lowers it
  (``inf`` switches the check off);
- **memory**: the largest working set of a family (its copies of the latents, one-hot
  designs, contingency tables, covariance and NMI matrices) must fit in the memory
  available now (``MemAvailable``), whatever ``max_work`` says.

The estimates are deliberately simple (leading terms, with constants from rough
measurements on a shared two-core machine; see :data:`_RATES`): they separate seconds
from hours, not 10 s from 20 s. The probes keep their own exact
work accounting (:mod:`infomec.probes.linear_probes`), which bounds InfoE's fits
whatever this estimate says.

Examples
--------
>>> shape = Shape(n_samples=200, n_latents=1_000_000, n_sources=3, n_classes=12,
...               max_classes=4, discrete=False)
>>> estimate("unsupervised", shape).memory > 10**12  # a d x d covariance: 8 TB
True
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

__all__ = [
    "DEFAULT_MAX_WORK",
    "BudgetError",
    "Cost",
    "Shape",
    "available_memory",
    "check_costs",
    "check_figures",
    "check_memory",
    "estimate",
]

#: Multiply-adds a family may spend by default: about half an hour on one core.
DEFAULT_MAX_WORK = 2e13
#: Nominal multiply-adds per second on one core (the probes' calibration).
_PER_SECOND = 1e10


class BudgetError(ValueError):
    """A family's estimated work or memory is over the budget (a one-line message)."""


@dataclass(frozen=True)
class Shape:
    """What the estimates read of an input: its dimensions, nothing of its values."""

    n_samples: int
    n_latents: int
    n_sources: int
    n_classes: int  # sum over sources of their distinct values
    max_classes: int
    discrete: bool
    k: int = 10
    dci_model: str = "gbt"

    @classmethod
    def of(cls, sample, settings: dict) -> Shape:
        """The shape of a validated :class:`~infomec.data.Sample` under ``settings``."""
        cardinalities = [int(c) for c in sample.sources.cardinalities]
        return cls(
            n_samples=int(sample.n_samples),
            n_latents=int(sample.n_latents),
            n_sources=int(sample.n_sources),
            n_classes=max(sum(cardinalities), 1),
            max_classes=max(cardinalities, default=1),
            discrete=bool(sample.discrete),
            k=int(settings.get("k") or 10),
            dci_model=str(settings.get("dci_model", "gbt")),
        )

    def describe(self) -> str:
        return f"{self.n_samples} rows x {self.n_latents} latents x {self.n_sources} sources"


@dataclass(frozen=True)
class Cost:
    """Estimated multiply-adds and peak bytes of one family."""

    work: float
    memory: float


def _driver(family: str, shape: Shape, attribute: str) -> str:
    """The dimension ("rows" or "latents") whose halving lowers ``attribute`` most."""
    fewer_rows = replace(shape, n_samples=max(shape.n_samples // 2, 1))
    fewer_latents = replace(shape, n_latents=max(shape.n_latents // 2, 1))
    by_rows = getattr(estimate(family, fewer_rows), attribute)
    by_latents = getattr(estimate(family, fewer_latents), attribute)
    return "rows" if by_rows < by_latents else "latents"


# Multiply-adds per elementary step of each kind of kernel, relative to BLAS speed:
# measured once on this project's kernels (a compiled tree's split scan, a sort, a
# plug-in count) against the probes' calibration of 10**10 multiply-adds a second.
_RATES = {
    "sort": 4.0,  # per element and level of an argsort
    "count": 4.0,  # per (row, latent, source) of a plug-in or binned MI
    "ksg": 8.0,  # per (row, latent, source) and neighbour of the KSG estimator
    "tree": 30.0,  # per (row, feature) scanned at a tree level (compiled GBT)
    "forest": 60.0,  # per (row, feature) scanned at a tree node (scikit-learn forest)
    "svm": 20.0,  # per (row, latent, class) of the exact one-latent SVM
    "logistic": 2.0,  # per (row, feature, class) of one logistic evaluation
    "gather": 10.0,  # per value gathered from scattered rows (batches of random rows)
}
# Per latent, whatever the family: Python and numpy calls of tens of microseconds.
_PER_LATENT = 5e5
# Iterations a penalised logistic fit (modularity, beta_vae) typically needs.
_LOGISTIC_ITERATIONS = 300
# The InfoE probes' work is bounded by the probes themselves (two fits' worth).
_PROBE_WORK = 6e11
_GBT_STAGES, _GBT_DEPTH = 100, 3
_FOREST_TREES = 100


def _log2(n: int) -> float:
    return math.log2(max(n, 2))


def _binned_mi(s: Shape) -> Cost:
    """Latents binned (a sort per column) and a contingency count per (latent, source)."""
    n, d = s.n_samples, s.n_latents
    work = _RATES["sort"] * n * d * _log2(n) + _RATES["count"] * n * d * s.n_sources
    return Cost(work, 24.0 * n * d + 16.0 * d * s.n_classes)


def _infomec(s: Shape) -> Cost:
    n, d = s.n_samples, s.n_latents
    if s.discrete:
        nmi = _RATES["count"] * n * d * s.n_sources
    else:
        nmi = _RATES["sort"] * n * d * _log2(n) + _RATES["ksg"] * n * d * s.n_sources * s.k
    # Sorted latents (float64 + int32), the probe's design, each row's class
    # probabilities of the fits running at once, the NMI matrix.
    memory = 12.0 * n * d + 8.0 * n * (d + 1) + 16.0 * n * s.n_classes + 8.0 * d * s.n_sources
    return Cost(nmi + _PROBE_WORK + 2.0 * n * d, memory)


def _dci(s: Shape) -> Cost:
    n, d, c = s.n_samples, s.n_latents, s.n_classes
    if s.dci_model == "gbt":
        work = _GBT_STAGES * _GBT_DEPTH * c * n * d * _RATES["tree"]
        work += _RATES["sort"] * n * d * _log2(n)
    elif s.dci_model == "hist_gbt":
        work = _GBT_STAGES * c * n * d * _RATES["logistic"] * 4
    elif s.dci_model == "random_forest":
        work = _FOREST_TREES * s.n_sources * n * math.sqrt(d) * _log2(n) * _RATES["forest"]
    else:  # lasso: coordinate descent, about a hundred sweeps
        work = 100 * n * d * s.n_sources * _RATES["logistic"]
    # The latents as float32 for the trees, their sort order, standardised copies.
    return Cost(work, 24.0 * n * d)


def _sap(s: Shape) -> Cost:
    n, d = s.n_samples, s.n_latents
    work = _RATES["svm"] * n * _log2(n) * d * s.n_classes
    return Cost(work, 16.0 * n * d)


def _modularity(s: Shape) -> Cost:
    binned = _binned_mi(s)
    n, d = s.n_samples, s.n_latents
    fits = _LOGISTIC_ITERATIONS * _RATES["logistic"] * n * d * s.n_classes
    return Cost(binned.work + fits, binned.memory + 16.0 * n * d)


def _beta_vae(s: Shape) -> Cost:
    """15,000 points of ``d`` features, each from two batches of 64 rows, then a
    penalised logistic fit on the 10,000 training points."""
    d = s.n_latents
    work = 15_000 * 64 * d * _RATES["gather"] + _RATES["sort"] * s.n_samples * d
    work += _LOGISTIC_ITERATIONS * _RATES["logistic"] * 10_000 * d * s.n_sources
    return Cost(work, 3 * 8.0 * 15_000 * d + 8.0 * s.n_samples * d)


def _factor_vae(s: Shape) -> Cost:
    """15,000 votes, each the variances of a batch of 64 rows of every latent."""
    d = s.n_latents
    work = 15_000 * 64 * d * _RATES["gather"] + 2.0 * min(s.n_samples, 10_000) * d
    return Cost(work, 16.0 * s.n_samples * d)


def _irs(s: Shape) -> Cost:
    n, d = s.n_samples, s.n_latents
    work = _RATES["sort"] * n * d * _log2(n) * (1 + s.n_sources)
    return Cost(work, 24.0 * n * d)


def _unsupervised(s: Shape) -> Cost:
    n, d = s.n_samples, s.n_latents
    # Covariance (N d^2), two symmetric eigenvalue problems (d^3 each), the mutual
    # information of every latent pair (N d^2); a few d x d matrices alive at once.
    work = 2.0 * n * d * d + 4.0 * float(d) ** 3 + _RATES["count"] * n * d * d
    return Cost(work, 16.0 * n * d + 56.0 * float(d) * d)


def _z_max_var(s: Shape) -> Cost:
    n, d = s.n_samples, s.n_latents
    work = 2.0 * min(n, 10_000) * d + 1600 * 200 * d * 2.0 + _RATES["sort"] * n * d
    # The votes of a source gather their batches' values at once: (800 / K) batches of
    # 200 rows of every active latent, and a temporary of the same size for the variance.
    batches = math.ceil(800 / max(s.n_sources, 1))
    return Cost(work, 16.0 * n * d + 2 * 8.0 * batches * 200 * d)


def _dci_es(s: Shape) -> Cost:
    n, d = s.n_samples, s.n_latents
    depths = 12  # the capacity curve's tree depths
    work = depths * _FOREST_TREES * s.n_sources * n * math.sqrt(d) * _log2(n) * 4
    work *= _RATES["forest"]
    return Cost(work, 16.0 * n * d)


def _sap_continuous(s: Shape) -> Cost:
    """A squared correlation per (latent, source): one pass over the rows each."""
    n, d = s.n_samples, s.n_latents
    return Cost(4.0 * n * d * s.n_sources, 16.0 * n * d)


def _gbt_on(s: Shape, rows: int) -> Cost:
    """DCI's boosted trees fitted on ``rows`` rows (every source)."""
    return _dci(replace(s, n_samples=max(min(rows, s.n_samples), 1), dci_model="gbt"))


def _unified_scores(s: Shape) -> Cost:
    """DCI's importances, the binned mutual information and SAP's SVMs."""
    parts = (_dci(replace(s, dci_model="gbt")), _binned_mi(s), _sap(s))
    return Cost(sum(c.work for c in parts), max(c.memory for c in parts))


# The downstream tasks' training sizes (disentanglement_lib's), summed: one fit each.
_DOWNSTREAM_ROWS = 10 + 100 + 1000 + 10_000


def _downstream_task(s: Shape) -> Cost:
    """Boosted trees and a cross-validated logistic regression (10 C values x 5 folds,
    up to 100 iterations) per training size and source."""
    trees = _gbt_on(s, _DOWNSTREAM_ROWS)
    rows = min(_DOWNSTREAM_ROWS, s.n_samples)
    logistic = 50 * 100 * _RATES["logistic"] * rows * s.n_latents * s.n_classes
    return Cost(trees.work + logistic, trees.memory)


def _fairness(s: Shape) -> Cost:
    """Boosted trees per source on up to 10,000 training rows, then predictions."""
    return _gbt_on(s, 10_000)


def _strong_downstream_task(s: Shape) -> Cost:
    """The downstream task's trees, and 10 shifted refits per source and size."""
    trees = _gbt_on(s, _DOWNSTREAM_ROWS)
    return Cost(11 * trees.work, trees.memory)


#: One estimate per registered family (``tests/test_bounded_cost.py`` checks that every
#: family of :data:`infomec.metrics.REGISTRY` has one).
ESTIMATES: dict[str, Callable[[Shape], Cost]] = {
    "infomec": _infomec,
    "mig": _binned_mi,
    "mig_sup": _binned_mi,
    "dcimig": _binned_mi,
    "jemmig": _binned_mi,
    "dci": _dci,
    "sap": _sap,
    "modularity": _modularity,
    "beta_vae": _beta_vae,
    "factor_vae": _factor_vae,
    "irs": _irs,
    "unsupervised": _unsupervised,
    "z_max_var": _z_max_var,
    "dci_es": _dci_es,
    "sap_continuous": _sap_continuous,
    "unified_scores": _unified_scores,
    "downstream_task": _downstream_task,
    "fairness": _fairness,
    "strong_downstream_task": _strong_downstream_task,
}


def estimate(family: str, shape: Shape) -> Cost:
    """The estimated :class:`Cost` of ``family`` on an input of ``shape``.

    A family without an estimate of its own is costed as a binned mutual information
    per (latent, source) pair, the cheapest thing any family does. Every family also
    pays :data:`_PER_LATENT` per latent: columns are validated, named, binned or sorted
    one at a time, which dominates the time of the cheap families on wide inputs (20 s
    for ``mig`` on 200 x 100,000 measured while the machine was shared).
    """
    cost = ESTIMATES.get(family, _binned_mi)(shape)
    return Cost(cost.work + _PER_LATENT * shape.n_latents, cost.memory)


def available_memory() -> float:
    """Bytes of memory available now (``MemAvailable``), else the physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, AttributeError):
        return math.inf


def _bytes(amount: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if amount >= size:
            return f"{amount / size:.1f} {unit}"
    return f"{amount / 1e3:.1f} kB"


def _remedy(driver: str) -> str:
    if driver == "rows":
        return "score a subsample of the rows"
    return "score fewer latents (select or project them)"


def check_max_work(max_work) -> float:
    """``None`` (the default budget), a positive number, or ``inf`` (no bound)."""
    if max_work is None:
        return DEFAULT_MAX_WORK
    if isinstance(max_work, bool) or not isinstance(max_work, (int, float)):
        raise ValueError(f"max_work must be a positive number or inf, got {max_work!r}")
    if not max_work > 0:  # also NaN
        raise ValueError(f"max_work must be a positive number or inf, got {max_work!r}")
    return float(max_work)


def check_memory(nbytes: float, what: str, cause: str) -> None:
    """Raise :class:`BudgetError` if allocating ``nbytes`` for ``what`` cannot fit.

    ``cause`` names the input dimension that makes it large, e.g. ``"100000 latents"``.

    Examples
    --------
    >>> check_memory(8e15, "a covariance matrix", "1000000 latents")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    infomec.cost.BudgetError: a covariance matrix needs about 8000.0 TB of memory for ...
    """
    available = available_memory()
    if nbytes > available:
        raise BudgetError(
            f"{what} needs about {_bytes(nbytes)} of memory for {cause}, more than the "
            f"{_bytes(available)} available; score fewer latents or a subsample of the rows"
        )


def _null_work(family: str, shape: Shape, draws: int, shared: bool) -> float:
    """Work of the permutation null (see :mod:`infomec.metrics.null`): InfoMEC's KSG
    columns, ``max(R, d)`` of them when continuous latents share the shuffles (those
    without tied values do; the estimate assumes all of them) and ``R d`` otherwise; a
    binned MI matrix per draw for the other families and for discrete latents."""
    n, d = shape.n_samples, shape.n_latents
    if family == "infomec" and not shape.discrete:
        columns = max(draws, d) if shared else draws * d
        return _RATES["ksg"] * n * columns * shape.n_sources * shape.k
    return draws * _binned_mi(shape).work


def check_costs(
    families: Sequence[str],
    sample,
    settings: dict,
    *,
    max_work=None,
    repeats: int = 1,
    null_draws: Mapping[str, int] | None = None,
    null_shared: bool = True,
) -> dict[str, Cost]:
    """Refuse, before anything is allocated, a family that would cost too much.

    Parameters
    ----------
    families : sequence of str
        Registered family names.
    sample : Sample
        The validated input (its shape only is read).
    settings : dict
        The resolved settings (``k``, ``dci_model``).
    max_work : float, optional
        Multiply-adds each family may spend (default :data:`DEFAULT_MAX_WORK`);
        ``math.inf`` switches the work check off (memory is always checked).
    repeats : int, default=1
        Copies of the working set alive at once (1 for a score).
    null_draws : mapping of str to int, optional
        Draws of the permutation null per family (each one more MI kernel call).
    null_shared : bool, default=True
        Whether InfoMEC's continuous latents share the shuffles (``null_exact=False``).

    Returns
    -------
    dict
        ``{family: Cost}``.

    Raises
    ------
    BudgetError
        A family's work is over ``max_work`` or its memory over what is available.
    """
    limit = check_max_work(max_work)
    shape = Shape.of(sample, settings)
    costs = {}
    available = None
    for family in families:
        cost = estimate(family, shape)
        draws = (null_draws or {}).get(family, 0)
        if draws:
            cost = Cost(cost.work + _null_work(family, shape, draws, null_shared), cost.memory)
        if cost.work > limit:
            minutes = cost.work / _PER_SECOND / 60
            raise BudgetError(
                f"{family}: about {cost.work:.1e} multiply-adds (~{minutes:,.0f} min on one "
                f"core) for {shape.describe()}, over the work budget of {limit:.1e} "
                f"(max_work / --max-work); {_remedy(_driver(family, shape, 'work'))}, or "
                "raise --max-work"
            )
        if available is None:
            available = available_memory()
        if cost.memory * repeats > available:
            raise BudgetError(
                f"{family}: needs about {_bytes(cost.memory * repeats)} of memory for "
                f"{shape.describe()}, more than the {_bytes(available)} available; "
                f"{_remedy(_driver(family, shape, 'memory'))}"
            )
        costs[family] = cost
    return costs


#: Pixels matplotlib draws at most along one side of a figure.
MAX_FIGURE_PIXELS = 2**16


def check_figures(n_sources: int, n_latents: int, *, dpi: int, cell_inches: float) -> None:
    """Refuse a report whose heatmaps (one square cell per (source, latent)) cannot be
    drawn: wider or taller than :data:`MAX_FIGURE_PIXELS` at ``dpi``.

    Checked before anything is scored, so that a report of 200 x 100,000 latents fails
    in a second instead of after the scoring.

    Examples
    --------
    >>> check_figures(4, 100_000, dpi=150, cell_inches=0.45)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    infomec.cost.BudgetError: report: an NMI heatmap of 100000 latents would be ...
    """
    for count, what in ((n_latents, "latents"), (n_sources, "sources")):
        pixels = count * cell_inches * dpi
        if pixels > MAX_FIGURE_PIXELS:
            raise BudgetError(
                f"report: an NMI heatmap of {count} {what} would be {pixels:,.0f} pixels "
                f"across at {dpi} dpi, more than the {MAX_FIGURE_PIXELS} matplotlib draws; "
                f"score a selection of the {what} for the report, or use infomec score "
                "(no figures)"
            )
