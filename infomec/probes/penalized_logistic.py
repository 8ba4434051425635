"""scikit-learn's default logistic regression (L2, ``C = 1``), solved to a tight tolerance.

Used by explicitness (modularity family) and the BetaVAE score. The objective is
scikit-learn's (see :mod:`infomec.estimators.logistic`); it is minimised by Newton's
method with the exact Hessian, a Cholesky solve and the backtracking line search that
InfoE's probe uses too (:mod:`infomec.probes.newton`), which
reaches the gradient tolerance in a handful of iterations:

- with many rows, Newton first runs on 2,048 seeded rows to a loose tolerance (a fraction
  of the cost, and it lands near the full-data optimum), then on every row, steered at
  first by the stage's last Hessian;
- a factorised Hessian is reused while full steps keep cutting the gradient fourfold,
  so the last iterations cost one gradient each;
- problems whose Hessian would cost more than a few hundred gradient evaluations (many
  classes) use L-BFGS instead, as does any fit Newton leaves unfinished.

The optimum, and so the model, does not depend on any of this; only the time does.

The Hessian of the multinomial loss, ``sum_i (diag(q_i) - q_i q_i^T) kron x_i x_i^T``, is
assembled from its distinct entries only: one matrix product of the per-row feature
products ``x_f x_g`` (``f <= g``) with the per-row class weights ``q_a (delta_ab - q_b)``
(``a <= b``), in single precision (it only steers; convergence is judged on the float64
gradient).

With every class free (multinomial), the loss does not change when one vector is added
to every class's coefficients (or one number to every intercept). The optimum has the
class-sum of each coefficient row at zero (the penalty pulls it there; the intercepts,
unpenalised, are kept there), so the iterates are kept in that subspace and the Hessian
is made definite on its complement.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from infomec._validation import warn
from infomec.estimators.logistic import (
    class_pair_weights,
    feature_pair_products,
    free_class_probabilities,
    logistic_probabilities,
    penalized_logistic_loss,
)
from infomec.interrupts import stoppable
from infomec.probes.newton import NewtonLoop, minimize_lbfgs, symmetric_pair_index

#: Max-norm of the objective gradient at which the logistic fits stop. scikit-learn's
#: default stops at 1e-4 (or 100 iterations), up to ~1e-2 away from the optimum in
#: probability; this tolerance keeps probabilities within a few 1e-5 of it, whatever
#: the scikit-learn version.
LOGISTIC_TOL = 1e-6
LOGISTIC_MAX_ITER = 2000

# Newton while one Hessian costs at most this many gradient evaluations (in multiply-adds
# per row): L-BFGS needs ~50-500 gradients, and Newton's products run at BLAS speed.
_NEWTON_COST_RATIO = 256
_NEWTON_MAX_PARAMETERS = 2048
_NEWTON_MAX_ITER = 100
# Many rows: Newton first on this many (seeded) rows to a loose tolerance, which lands
# near the full-data optimum for a fraction of the cost.
_STAGE_ROWS = 2048
_STAGE_TOL = 1e-3
# Keep a factorised Hessian while full steps cut the gradient by at least this factor.
_REUSE_PROGRESS = 4.0
_CACHE_ENTRIES = 1 << 22  # feature products kept across Hessians up to this size
_CHUNK_ENTRIES = 1 << 21  # otherwise built in chunks of rows x columns of this size


class _Problem:
    """One penalised logistic problem on scaled features, with an intercept column."""

    def __init__(self, features: np.ndarray, labels: np.ndarray, n_classes: int, penalties):
        n_samples, n_features = features.shape
        self.features = np.empty((n_samples, n_features + 1))
        self.features[:, :n_features] = features
        self.features[:, n_features] = 1.0
        self.labels = labels
        self.n_classes = n_classes
        self.n_free = n_classes if n_classes > 2 else 1
        self.penalties = np.append(penalties, 0.0)[:, None]  # the intercept is free
        first_free = n_classes - self.n_free
        # sum of x_i over the rows of each free class: the label part of the gradient
        self.label_sums = np.column_stack(
            [
                np.bincount(labels, weights=column, minlength=n_classes)[first_free:]
                for column in self.features.T
            ]
        ).T
        self._columns = np.ascontiguousarray(self.features.T)
        self._products: np.ndarray | None = None
        # where each Hessian entry sits among the distinct ones (feature pair, class pair)
        n_columns = n_features + 1
        self._feature_index = symmetric_pair_index(n_columns)
        self._class_index = symmetric_pair_index(self.n_free)
        self._n_products = n_columns * (n_columns + 1) // 2
        self._n_weights = self.n_free * (self.n_free + 1) // 2

    def rows(self, rows: np.ndarray) -> _Problem:
        """The same problem (same penalties) on a subset of the rows."""
        return _Problem(
            self.features[rows, :-1], self.labels[rows], self.n_classes, self.penalties[:-1, 0]
        )

    def evaluate(self, params: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Objective, its gradient (shape of ``params``) and the free-class probabilities."""
        n_samples = self.labels.shape[0]
        probabilities = self.features @ params
        loss = free_class_probabilities(probabilities, self.labels, self.n_classes)
        gradient = (self.features.T @ probabilities - self.label_sums) / n_samples
        gradient += self.penalties * params
        penalty = 0.5 * float(np.sum(self.penalties * params * params))
        return loss / n_samples + penalty, gradient, probabilities

    def hessian(self, probabilities: np.ndarray) -> np.ndarray:
        """Exact Hessian of the objective at ``probabilities``, flattened like ``params``."""
        n_samples, n_features = self.features.shape
        n_free = self.n_free
        n_products, n_weights = self._n_products, self._n_weights
        by_class = np.ascontiguousarray(probabilities.T)
        if n_samples * n_products <= _CACHE_ENTRIES:
            chunk = n_samples
            if self._products is None:
                self._products = np.empty((n_products, n_samples), dtype=np.float32)
                feature_pair_products(self._columns, 0, self._products)
        else:
            chunk = max(1, _CHUNK_ENTRIES // (n_products + n_weights))
        weights = np.empty((n_weights, min(chunk, n_samples)), dtype=np.float32)
        distinct = np.zeros((n_products, n_weights))
        for start in range(0, n_samples, chunk):
            rows = min(chunk, n_samples - start)
            if self._products is not None:
                products = self._products
            else:
                products = np.empty((n_products, rows), dtype=np.float32)
                feature_pair_products(self._columns, start, products)
            class_pair_weights(by_class, start, weights[:, :rows])
            distinct += products @ weights[:, :rows].T
        distinct /= n_samples
        size = n_features * n_free
        hessian = distinct[
            self._feature_index[:, None, :, None], self._class_index[None, :, None, :]
        ].reshape(size, size)
        hessian[np.diag_indices(size)] += np.repeat(self.penalties[:, 0], n_free)
        return hessian


def _factorized_hessian(problem: _Problem, probabilities: np.ndarray):
    """Cholesky factor of the Hessian, definite on the multinomial class-sum directions."""
    hessian = problem.hessian(probabilities)
    if problem.n_free == problem.n_classes:
        # The loss is flat along class sums; the steps are projected off them, so adding
        # curvature there only makes the solve well-posed.
        n_free = problem.n_free
        scale = float(np.mean(np.diag(hessian)))
        blocks = hessian.reshape(-1, n_free, hessian.shape[0] // n_free, n_free)
        for f in range(blocks.shape[0]):
            blocks[f, :, f, :] += scale  # scale * kron(I, ones): each feature's class block
    return scipy.linalg.cho_factor(hessian, overwrite_a=True, check_finite=False)


class _PenalizedNewton(NewtonLoop):
    """Newton on one penalised problem until the gradient max-norm reaches ``tol``.

    Multinomial steps are projected off the class-sum directions; a factorised Hessian
    is kept while full steps cut the gradient by :data:`_REUSE_PROGRESS` (near the
    optimum the curvature barely moves). A failed Cholesky, or no progress along a
    fresh Hessian's step, stops the loop unfinished (L-BFGS takes over).
    """

    def __init__(self, problem: _Problem, tol: float) -> None:
        self.problem = problem
        self.tol = tol
        self.multinomial = problem.n_free == problem.n_classes

    def evaluate(self, params: np.ndarray):
        return self.problem.evaluate(params)

    def loss(self, evaluation) -> float:
        return evaluation[0]

    def gradient(self, evaluation) -> np.ndarray:
        return evaluation[1]

    def done(self, evaluation) -> bool:
        return bool(np.abs(evaluation[1]).max() <= self.tol)

    def factorize(self, params: np.ndarray, evaluation):
        try:
            return _factorized_hessian(self.problem, evaluation[2])
        except np.linalg.LinAlgError:
            return None

    def direction(self, factor, evaluation) -> np.ndarray:
        gradient = evaluation[1]
        step = scipy.linalg.cho_solve(factor, -gradient.ravel(), check_finite=False)
        step = step.reshape(gradient.shape)
        if self.multinomial:
            step -= step.mean(axis=1, keepdims=True)
        return step

    def keep(self, current, candidate, size: float) -> bool:
        progress = np.abs(candidate[1]).max() * _REUSE_PROGRESS
        return bool(size == 1.0 and progress <= np.abs(current[1]).max())


def _newton(problem: _Problem, params: np.ndarray, tol: float, factor=None):
    """Newton iterations from ``params``, optionally from a factorised Hessian.

    Returns the parameters, whether the gradient reached ``tol``, and the last factor.
    """
    outcome = _PenalizedNewton(problem, tol).run(params, _NEWTON_MAX_ITER, factor)
    return outcome.params, outcome.done, outcome.factor


def _lbfgs(
    features: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    penalties: np.ndarray,
    params: np.ndarray,
    tol: float,
) -> tuple[np.ndarray, bool]:
    """L-BFGS from ``params`` (flat: coefficients row-major, then the intercepts)."""
    gradient = np.empty_like(params)

    def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
        value = penalized_logistic_loss(flat, features, labels, n_classes, penalties, gradient)
        return value, gradient.copy()

    result = minimize_lbfgs(objective, params, tol=tol, max_iter=LOGISTIC_MAX_ITER, memory=20)
    objective(result.x)
    return result.x, bool(np.abs(gradient).max() <= tol)


def fit_penalized_logistic(
    features: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    penalties: np.ndarray,
    tol: float = LOGISTIC_TOL,
) -> tuple[np.ndarray, bool]:
    """Minimise scikit-learn's penalised logistic objective to a gradient tolerance.

    Parameters
    ----------
    features : ndarray of float64, shape (n_samples, n_features)
        Without an intercept column (the intercept is added, unpenalised).
    labels : ndarray of int64, shape (n_samples,)
        Codes ``0 .. n_classes - 1``, every class present.
    n_classes : int
        At least 2: binary logistic for 2, multinomial (every class free) above.
    penalties : ndarray of float64, shape (n_features,)
        Penalty weight ``alpha_f`` of each feature's coefficients.
    tol : float, default=1e-6
        Max-norm of the objective's gradient at which to stop.

    Returns
    -------
    params : ndarray of float64, shape ((n_features + 1) * n_free,)
        Coefficients (row-major, ``n_features x n_free``) followed by the intercepts.
    converged : bool

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> params, converged = fit_penalized_logistic(x, np.array([0, 0, 1, 1]), 2, np.array([0.25]))
    >>> round(float(params[0]), 4), converged  # scikit-learn: coef_ 1.0066, intercept 0
    (1.0066, True)
    """
    # A job of its own when called directly (modularity fits sources in threads): a
    # stop left by an interrupted job is cleared (infomec.interrupts).
    with stoppable():
        return _fit(features, labels, n_classes, penalties, tol)


def _fit(features, labels, n_classes: int, penalties, tol: float) -> tuple[np.ndarray, bool]:
    n_samples, n_features = features.shape
    n_free = n_classes if n_classes > 2 else 1
    n_products = (n_features + 1) * (n_features + 2) // 2
    hessian_cost = n_products * n_free * (n_free + 1) // 2
    n_parameters = (n_features + 1) * n_free
    params = np.zeros((n_features + 1, n_free))
    converged = False
    factor = None
    if hessian_cost <= _NEWTON_COST_RATIO * n_parameters and n_parameters <= _NEWTON_MAX_PARAMETERS:
        problem = _Problem(features, labels, n_classes, penalties)
        if n_samples >= 4 * _STAGE_ROWS:
            rows = np.random.default_rng(0).permutation(n_samples)[:_STAGE_ROWS]
            stage = problem.rows(np.sort(rows))
            if np.unique(stage.labels).size == n_classes:  # else the stage is ill-posed
                # Its last Hessian steers the first full-data steps (refreshed if they
                # stall): the stage's curvature is within a few per cent of the full one.
                params, _, factor = _newton(stage, params, max(tol, _STAGE_TOL))
        params, converged, _ = _newton(problem, params, tol, factor)
    if converged:
        return params.ravel(), True
    return _lbfgs(features, labels, n_classes, penalties, params.ravel(), tol)


class LogisticModel:
    """scikit-learn's default ``LogisticRegression()`` (L2, ``C = 1``), solved tightly.

    Multinomial for three or more classes, binary logistic for two, exactly as
    scikit-learn >= 0.22 with ``lbfgs``; the optimum of that objective is unique in
    probability, and it is solved until the gradient max-norm is below
    :data:`LOGISTIC_TOL` (not scikit-learn's looser 1e-4 / 100 iterations).

    The problem is solved on standardised features with each coefficient's penalty
    rescaled to match (and the intercept, which is not penalised, absorbing the centring):
    the same objective in better-conditioned coordinates, so the same model.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
    labels : ndarray of int, shape (n_samples,)
        Any integer codes; the model's classes are the distinct values, ascending.
    C : float, default=1.0

    Attributes
    ----------
    classes : ndarray of int64
    converged : bool

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> model = LogisticModel(x, np.array([0, 0, 1, 1]))
    >>> model.predict(x).tolist(), model.converged
    ([0, 0, 1, 1], True)
    """

    def __init__(self, features, labels, *, C: float = 1.0):
        features = np.asarray(features, dtype=np.float64)
        self.classes, codes = np.unique(np.asarray(labels), return_inverse=True)
        codes = codes.astype(np.int64)
        self.mean = features.mean(axis=0)
        scale = features.std(axis=0)
        self.scale = np.where(scale > 0, scale, 1.0)  # a constant feature only gets centred
        n_classes = self.classes.shape[0]
        self.converged = True
        if n_classes < 2:  # nothing to fit: every prediction is the one class
            self.params = np.zeros(0)
            return
        # alpha (W / scale)^2 on the original coefficients W = W_scaled / scale.
        penalties = 1.0 / (C * features.shape[0] * self.scale**2)
        self.params, self.converged = fit_penalized_logistic(
            self._scaled(features), codes, n_classes, penalties
        )

    def _scaled(self, features) -> np.ndarray:
        centred = np.asarray(features, dtype=np.float64) - self.mean
        return np.ascontiguousarray(centred / self.scale)

    def predict_proba(self, features) -> np.ndarray:
        """Probabilities of ``classes``, shape (n_samples, n_classes)."""
        if self.classes.shape[0] < 2:
            return np.ones((np.shape(features)[0], 1))
        return logistic_probabilities(self.params, self._scaled(features), self.classes.shape[0])

    def predict(self, features) -> np.ndarray:
        """Most probable class (the first on ties, as scikit-learn's arg-max)."""
        return self.classes[np.argmax(self.predict_proba(features), axis=1)]


def warn_unconverged(what: str, names: list[str]) -> None:
    """Announce logistic fits that did not reach the tolerance."""
    if names:
        warn(
            f"{what}: the logistic regression did not reach tol={LOGISTIC_TOL} within "
            f"{LOGISTIC_MAX_ITER} iterations for: {', '.join(names)}"
        )
