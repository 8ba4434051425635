"""What the logistic solvers share: one Newton loop, one line search, one L-BFGS driver.

Both logistic solvers (:mod:`infomec.probes.linear_probes` for InfoE,
:mod:`infomec.probes.penalized_logistic` for explicitness and BetaVAE) iterate
:class:`NewtonLoop` (Newton steps from a factorised, possibly reused Hessian, with the
backtracking line search :func:`backtracking_line_search`), fall back on L-BFGS through
:func:`minimize_lbfgs`, and assemble their Hessians from distinct (feature pair, class
pair) entries indexed by :func:`symmetric_pair_index`. What differs between them (the
objective, the stopping test, how a step is solved, when a Hessian is kept) are the
loop's hooks; a fix to the iteration itself reaches both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

import numpy as np

from infomec.interrupts import check_stop

__all__ = [
    "ARMIJO",
    "MIN_STEP",
    "NewtonLoop",
    "NewtonOutcome",
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
Evaluation = TypeVar("Evaluation")


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

    def checked(flat: np.ndarray) -> tuple[float, np.ndarray]:
        check_stop()  # Ctrl-C reaches solvers running in worker threads
        return objective(flat)

    return scipy.optimize.minimize(
        checked,
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


@dataclass(frozen=True)
class NewtonOutcome(Generic[Evaluation]):
    """Where :meth:`NewtonLoop.run` stopped.

    Attributes
    ----------
    params : ndarray
    evaluation
        The objective at ``params`` (the solver's own evaluation object).
    factor
        The last factorised Hessian, if it was kept (it can steer a later run).
    n_iter : int
        Iterations, each one Newton step or one refreshed Hessian.
    done : bool
        The solver's stopping test passed (``False``: the budget ran out, the Hessian
        failed, no step made progress, or ``max_iter`` was reached).
    """

    params: np.ndarray
    evaluation: Evaluation
    factor: Any
    n_iter: int
    done: bool


class NewtonLoop(Generic[Evaluation]):
    """Newton's method with a backtracking line search and Hessian reuse.

    Each iteration: stop if :meth:`done`; factorise the Hessian unless one is kept
    (:meth:`factorize`); solve for a step (:meth:`direction`); if it is not a descent
    direction, :meth:`uphill` replaces it, or a stale Hessian is refreshed, or the loop
    stops; line-search it (:func:`backtracking_line_search`); if no step lowers the
    objective, a stale Hessian is refreshed, else the loop stops (:meth:`stalled`);
    otherwise take the step, keep the Hessian if :meth:`keep` says so, and record it
    (:meth:`accept`).

    Subclasses define the objective (:meth:`evaluate`, :meth:`loss`, :meth:`gradient`)
    and the hooks; the defaults stop on nothing and never keep a Hessian.
    """

    def evaluate(self, params: np.ndarray) -> Evaluation:
        raise NotImplementedError

    def loss(self, evaluation: Evaluation) -> float:
        raise NotImplementedError

    def gradient(self, evaluation: Evaluation) -> np.ndarray:
        raise NotImplementedError

    def factorize(self, params: np.ndarray, evaluation: Evaluation) -> Any | None:
        """The factorised Hessian at ``params``, or None where it cannot be had (stop)."""
        raise NotImplementedError

    def direction(self, factor: Any, evaluation: Evaluation) -> np.ndarray:
        """The Newton step: ``-H^-1 g`` from ``factor``, shaped like the parameters."""
        raise NotImplementedError

    def done(self, evaluation: Evaluation) -> bool:
        """Whether the stopping test passes at ``evaluation`` (checked every iteration)."""
        return False

    def out_of_budget(self) -> bool:
        """Whether to stop now, not done (checked every iteration, after :meth:`done`)."""
        return False

    def negligible(
        self, params: np.ndarray, step: np.ndarray, slope: float, evaluation: Evaluation
    ) -> tuple[np.ndarray, Evaluation] | None:
        """A final point when the step's predicted decrease is below float precision."""
        return None

    def uphill(self, evaluation: Evaluation, fresh: bool) -> np.ndarray | None:
        """A replacement for a step that is not a descent direction, or None.

        None refreshes a kept (stale) Hessian and stops with a fresh one.
        """
        return None

    def stalled(self, evaluation: Evaluation, slope: float) -> None:
        """Called before stopping when no step along a fresh Hessian's direction helped."""

    def keep(self, current: Evaluation, candidate: Evaluation, size: float) -> bool:
        """Whether the Hessian that gave this step serves the next one too."""
        return False

    def accept(self, current: Evaluation, candidate: Evaluation, size: float) -> None:
        """Record an accepted step (e.g. for a stopping test on the decrease)."""

    def begin(self, evaluation: Evaluation) -> None:
        """Called once with the objective at the starting point."""

    def _along(self, params: np.ndarray, step: np.ndarray, size: float) -> Evaluation:
        return self.evaluate(params + size * step)

    def run(
        self, params: np.ndarray, max_iter: int, factor: Any = None
    ) -> NewtonOutcome[Evaluation]:
        """Iterate from ``params``, optionally from a factorised Hessian ``factor``."""
        current = self.evaluate(params)
        self.begin(current)
        for iteration in range(max_iter):
            check_stop()  # Ctrl-C reaches solvers running in worker threads
            if self.done(current):
                return NewtonOutcome(params, current, factor, iteration, True)
            if self.out_of_budget():
                return NewtonOutcome(params, current, factor, iteration, False)
            fresh = factor is None
            if fresh:
                factor = self.factorize(params, current)
                if factor is None:
                    return NewtonOutcome(params, current, None, iteration, False)
            step = self.direction(factor, current)
            gradient = self.gradient(current)
            slope = float(np.dot(gradient.ravel(), step.ravel()))
            final = self.negligible(params, step, slope, current)
            if final is not None:
                return NewtonOutcome(final[0], final[1], None, iteration + 1, False)
            if not slope < 0:
                replacement = self.uphill(current, fresh)
                if replacement is None:
                    if fresh:
                        return NewtonOutcome(params, current, None, iteration, False)
                    factor = None  # a stale Hessian misled the step: refresh it
                    continue
                step = replacement
                slope = float(np.dot(gradient.ravel(), step.ravel()))
            size, candidate, stalled = backtracking_line_search(
                partial(self._along, params, step), self.loss(current), slope, self.loss
            )
            if stalled:
                if fresh:
                    self.stalled(current, slope)  # no progress at float precision
                    return NewtonOutcome(params, current, None, iteration + 1, False)
                factor = None  # a stale Hessian misled the step: refresh and retry
                continue
            if not self.keep(current, candidate, size):
                factor = None
            self.accept(current, candidate, size)
            params, current = params + size * step, candidate
        return NewtonOutcome(params, current, factor, max_iter, self.done(current))
