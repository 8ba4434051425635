"""What the logistic solvers share: one line search, one L-BFGS driver, one packed index.

Both logistic solvers (:mod:`infomec.probes.linear_probes` for InfoE,
:mod:`infomec.probes.penalized_logistic` for explicitness and BetaVAE) take Newton steps
with the backtracking line search below, fall back on L-BFGS through
:func:`minimize_lbfgs`, and assemble their Hessians from distinct (feature pair, class
pair) entries indexed by :func:`symmetric_pair_index`. A fix here reaches both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "ARMIJO",
    "MIN_STEP",
    "backtracking_line_search",
    "minimize_lbfgs",
    "symmetric_pair_index",
]

#: Sufficient decrease (Armijo) constant: a step of size ``t`` along a direction of
#: slope ``s < 0`` is accepted once the objective fell by at least ``-ARMIJO * t * s``.
ARMIJO = 1e-4
#: Step sizes are halved from 1 down to the first below this (about 2**-34).
MIN_STEP = 1e-10

Candidate = TypeVar("Candidate")


def backtracking_line_search(
    evaluate: Callable[[float], Candidate],
    loss: float,
    slope: float,
    loss_of: Callable[[Candidate], float],
) -> tuple[float, Candidate, bool]:
    """Armijo backtracking from the full (Newton) step.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(size)``: the objective's evaluation at ``start + size * step``, in
        whatever form the solver keeps (called once per size tried).
    loss : float
        The objective at the start.
    slope : float
        Its directional derivative along ``step`` (negative: a descent direction).
    loss_of : callable
        The objective's value within an evaluation.

    Returns
    -------
    size : float
        The step size taken: the first of ``1, 1/2, 1/4, ...`` with sufficient decrease,
        else the first below :data:`MIN_STEP`.
    candidate
        ``evaluate(size)``.
    stalled : bool
        No step decreased the objective at all (float precision reached, or a poor
        direction): the caller refreshes its Hessian or stops.

    Examples
    --------
    >>> size, value, stalled = backtracking_line_search(
    ...     lambda t: (1.0 - 4.0 * t) ** 2, 1.0, -8.0, float)  # f(x) = x^2 from 1, step -4
    >>> size, value, stalled
    (0.25, 0.0, False)
    """
    size = 1.0
    while True:
        candidate = evaluate(size)
        if loss_of(candidate) <= loss + ARMIJO * size * slope or size < MIN_STEP:
            break
        size *= 0.5
    stalled = size < MIN_STEP and loss_of(candidate) >= loss
    return size, candidate, stalled


def minimize_lbfgs(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
    start: np.ndarray,
    *,
    tol: float,
    max_iter: int,
    memory: int,
    callback: Callable[[Any], None] | None = None,
):
    """scipy's L-BFGS-B, stopped on the gradient max-norm only (``ftol=0``).

    Parameters
    ----------
    objective : callable
        ``objective(flat) -> (value, gradient)``.
    start : ndarray
        Flat starting point.
    tol : float
        Max-norm of the projected gradient at which to stop.
    max_iter : int
    memory : int
        Correction pairs kept (``maxcor``).
    callback : callable, optional
        scipy's ``callback(intermediate_result)``; raising ``StopIteration`` stops.

    Returns
    -------
    scipy.optimize.OptimizeResult
    """
    import scipy.optimize  # lazy: only many-class problems get here (~0.25 s import)

    return scipy.optimize.minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        callback=callback,
        options={"maxiter": max_iter, "gtol": tol, "ftol": 0.0, "maxcor": memory},
    )


def symmetric_pair_index(size: int) -> np.ndarray:
    """``index[i, j]``: position of ``(min(i, j), max(i, j))`` in ``np.triu_indices(size)``.

    A Hessian ``sum_n (class curvature) kron x_n x_n^T`` has one distinct entry per
    feature pair ``i <= j`` and class pair ``a <= b``; this index unpacks them.

    Examples
    --------
    >>> symmetric_pair_index(3).tolist()
    [[0, 1, 2], [1, 3, 4], [2, 4, 5]]
    """
    pairs = np.triu_indices(size)
    index = np.empty((size, size), dtype=np.intp)
    index[pairs] = np.arange(pairs[0].size)
    index.T[pairs] = np.arange(pairs[0].size)
    return index
