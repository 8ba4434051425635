"""Linear probes for InfoE: multinomial logistic regression and least squares.

The logistic regression is unpenalised, fit in-sample, with optional balanced class
weights, and solved until its reported loss is determined to a stated tolerance (a
rigorous bound for separable problems, an extrapolation of the converging sequence for
the others; see ``_Stopping``), within a budget of work that bounds its time:

- problems whose Hessian stays affordable use Newton's method with the backtracking
  line search shared with the penalised solver (:mod:`infomec.probes.newton`). Dense
  (standardised) designs factorise the exact Hessian, or one from a fixed subsample of
  8,192 rows, and are warm-started on nested, seeded subsamples (a fit on 4,096 rows is
  nearly the full-data optimum). One-hot designs solve each step by conjugate gradients
  on exact Hessian products, preconditioned by an occasionally refreshed factorisation;
- larger ones (many classes) use L-BFGS, which also stops on a small gradient.

The reference class is the last one (its logit is fixed at 0), which makes the
objective strictly convex when the features have full rank. Classes that a one-hot
cell never shows can be ruled out (probability exactly 0): that is where the
unpenalised optimum lies at infinity, and fitting it as such keeps Newton quadratic.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import scipy.linalg
import scipy.sparse

from infomec.estimators.multinomial import (
    class_pair_curvature,
    cross_entropy_residual_in_place,
    curvature_product_in_place,
    softmax_in_place,
    sparse_multinomial_hessian,
)
from infomec.probes.newton import NewtonLoop, minimize_lbfgs, symmetric_pair_index
from infomec.probes.one_hot_design import OneHotDesign

# Newton while one Hessian stays below this many multiply-adds; L-BFGS beyond.
_NEWTON_BUDGET = 2e9
_NEWTON_MAX_PARAMETERS = 3000
# Work bound of one fit, in multiply-adds (see _Work): 20-30 s on one core.
PROBE_WORK_BUDGET = 3e11
# Newton stops once its predicted decrease is below this fraction of the loss: float64
# resolves no less (a sum of many rows' losses carries relative rounding of about 1e-14).
_FLOAT_FLOOR = 1e-12
# L-BFGS's decrease ratios jump about (a crawl along a flat valley can show a few small
# ones in a row): its extrapolation takes the worst of this many.
_LBFGS_WINDOW = 10
# L-BFGS keeps at most this many bytes of correction pairs.
_LBFGS_MEMORY_BYTES = 2**28
_CHUNK_ROWS = 65536
_FIRST_STAGE_ROWS = 4096
_STAGE_GROWTH = 8
_STAGE_TOL = 1e-4  # a warm start only needs to land near the optimum
_HESSIAN_ROWS = 8192
# Dense designs: keep a (subsampled) Hessian while each step cuts the gradient 10x.
_REUSE_PROGRESS = 0.1
# One-hot designs, where a Hessian costs dozens of gradients (scattered blocks and a
# large Cholesky): every Newton step is solved by conjugate gradients on exact Hessian
# products, preconditioned by the last factorised Hessian, to this relative residual
# (a constant forcing term: linear convergence at a rate of about 0.1 per step, which
# beat tighter, superlinear schedules on the products they cost). A Hessian is
# refreshed once a step needs more than _REFRESH_PRODUCTS products.
_NEWTON_CG_TOLERANCE = 0.1
_MAX_PRODUCTS = 8
_REFRESH_PRODUCTS = 3


@dataclass(frozen=True)
class LogisticFit:
    """Outcome of one multinomial logistic regression.

    Attributes
    ----------
    log_loss : float
        Unweighted mean in-sample cross-entropy (nats) of the fitted model.
    converged : bool
        Whether ``log_loss`` is determined to within the loss tolerance
        (``loss_error <= loss_tol``; for L-BFGS also: the gradient reached ``tol``).
    gradient_norm : float
        Final max-norm of the gradient of the (weight-normalised) objective.
    n_iter : int
        Full-data solver iterations.
    loss_error : float
        Bound (separable problems) or estimate (the others) of
        ``|log_loss - its value at the optimum|`` when the fit stopped; see
        :class:`_Stopping`. ``inf`` when nothing was known.
    """

    log_loss: float
    converged: bool
    gradient_norm: float
    n_iter: int
    loss_error: float = np.inf


@dataclass(frozen=True)
class _Problem:
    """Rows of one weighted multinomial problem (weights sum to one)."""

    features: object  # ndarray or scipy.sparse CSR, intercept column included
    labels: np.ndarray  # int64 class codes
    weights: np.ndarray
    n_free: int  # n_classes - 1: the last class is the reference
    # Reference-class logit of each row (0, or -inf where that class is ruled out), and
    # -inf/0 offsets of the free logits (None: nothing ruled out).
    reference_logits: np.ndarray
    free_offsets: np.ndarray | None
    # Coefficients in the Newton system (flat indices), None for all: a coefficient
    # whose rows all rule its class out does not move the objective.
    fitted: np.ndarray | None

    def rows(self, rows: np.ndarray) -> _Problem:
        weights = self.weights[rows]
        offsets = None if self.free_offsets is None else self.free_offsets[rows]
        return _Problem(
            self.features[rows],
            self.labels[rows],
            weights / weights.sum(),
            self.n_free,
            self.reference_logits[rows],
            offsets,
            self.fitted,
        )


def _is_sparse(features) -> bool:
    """A sparse or one-hot design (scattered Hessians, no dense warm-start stages)."""
    return scipy.sparse.issparse(features) or isinstance(features, OneHotDesign)


def _chunks(n_samples: int):
    for start in range(0, n_samples, _CHUNK_ROWS):
        yield slice(start, min(start + _CHUNK_ROWS, n_samples))


def _logits(coef: np.ndarray, features, offsets: np.ndarray | None) -> np.ndarray:
    """Free-class logits of every row, C-contiguous for the row kernels."""
    logits = np.ascontiguousarray(features @ coef, dtype=np.float64)
    if offsets is not None:
        logits += offsets
    return logits


@dataclass(frozen=True)
class _Evaluation:
    """The objective at one point: weighted loss, its gradient, unweighted mean loss.

    ``probabilities`` (free classes, every row) when asked for: Hessian products need them.
    """

    loss: float
    gradient: np.ndarray
    mean_loss: float
    probabilities: np.ndarray | None = None

    @property
    def gradient_norm(self) -> float:
        return float(np.abs(self.gradient).max())


def _evaluate(coef: np.ndarray, problem: _Problem, keep_probabilities: bool = False) -> _Evaluation:
    """Weighted cross-entropy and its gradient, accumulated over row chunks.

    Chunking bounds the temporaries to ``_CHUNK_ROWS`` rows whatever the sample size
    (besides the probabilities, when kept).
    """
    n_samples = problem.labels.shape[0]
    loss = loss_sum = 0.0
    gradient = np.zeros_like(coef)
    offsets = problem.free_offsets
    probabilities = np.empty((n_samples if keep_probabilities else 0, problem.n_free))
    for chunk in _chunks(n_samples):
        features = problem.features[chunk]
        residual = _logits(coef, features, None if offsets is None else offsets[chunk])
        chunk_loss, chunk_sum = cross_entropy_residual_in_place(
            residual,
            problem.labels[chunk],
            problem.weights[chunk],
            problem.reference_logits[chunk],
            probabilities[chunk],
        )
        loss += chunk_loss
        loss_sum += chunk_sum
        gradient += np.asarray(features.T @ residual)
    kept = probabilities if keep_probabilities else None
    return _Evaluation(loss, gradient, loss_sum / n_samples, kept)


def _hessian_product(
    problem: _Problem, probabilities: np.ndarray, direction: np.ndarray
) -> np.ndarray:
    """The exact full-data Hessian times ``direction`` (shaped like ``coef``)."""
    products = _logits(direction, problem.features, None)
    curvature_product_in_place(products, probabilities, problem.weights)
    return np.asarray(problem.features.T @ products)


def _conjugate_gradient_step(
    factor: _Factor, gradient: np.ndarray, product, tolerance: float, max_products: int
) -> tuple[np.ndarray, int]:
    """Solve ``H s = -g`` by conjugate gradients preconditioned with ``factor``.

    ``factor`` is a stale or subsampled Hessian: close to ``H``, so a few exact
    products ``H v`` (each about one gradient evaluation) correct it, where a fresh
    Hessian would cost a scattered accumulation and a Cholesky. Stops once the
    preconditioned residual falls below ``tolerance`` relative to the start; returns the
    step and the number of products used.
    """
    residual = -gradient
    preconditioned = factor.solve(residual)
    step = np.zeros_like(gradient)
    direction = preconditioned
    residual_norm = start_norm = float(np.vdot(residual, preconditioned))
    for n_products in range(1, max_products + 1):
        curved = product(direction)
        curvature = float(np.vdot(direction, curved))
        if curvature <= 0.0:  # flat at float precision: the step so far is the answer
            return (preconditioned if n_products == 1 else step), n_products
        size = residual_norm / curvature
        step += size * direction
        residual -= size * curved
        preconditioned = factor.solve(residual)
        new_norm = float(np.vdot(residual, preconditioned))
        if new_norm <= tolerance**2 * start_norm:
            return step, n_products
        direction = preconditioned + (new_norm / residual_norm) * direction
        residual_norm = new_norm
    return step, max_products


def _hessian(coef: np.ndarray, problem: _Problem) -> np.ndarray:
    """Exact Hessian of the weighted cross-entropy, ordered like ``coef.ravel()``.

    ``sum_n w_n (diag(p_n) - p_n p_n^T) kron x_n x_n^T``, in float64.
    """
    features = problem.features
    probabilities = _logits(coef, features, problem.free_offsets)
    softmax_in_place(probabilities, problem.reference_logits)
    if _is_sparse(features):
        features = features.csr if isinstance(features, OneHotDesign) else features
        features = scipy.sparse.csr_array(features)
        return sparse_multinomial_hessian(
            features.indptr,
            features.indices,
            features.data.astype(np.float64, copy=False),
            probabilities,
            problem.weights,
            features.shape[1],
        )
    return _dense_hessian(features, probabilities, problem.weights)


# The packed dense Hessian holds one column per feature pair: up to this many features
# (2,080 pairs), beyond which the Kronecker form is used.
_PACKED_MAX_FEATURES = 64
_PACKED_CHUNK_ROWS = 2048


def _dense_hessian(dense: np.ndarray, probabilities: np.ndarray, weights: np.ndarray):
    """``sum_n w_n (diag(p_n) - p_n p_n^T) kron x_n x_n^T`` of a dense design, in float64.

    Each row's class curvature ``w (delta_ab p_a - p_a p_b)`` is formed first, so near
    a separable optimum ``p_a (1 - p_a)`` is computed per row rather than as the small
    difference of two large sums (a float32 Hessian built that way left Newton crawling
    for 1,000 steps on the demo, where this one needs about 15). The sum over rows is one
    matrix product of feature pairs ``x_i x_j`` (``i <= j``) by class pairs (``a <= b``):
    a quarter of the multiply-adds of the Kronecker form, which serves wide designs.
    """
    n_samples, n_features = dense.shape
    if n_features > _PACKED_MAX_FEATURES:
        return _kronecker_hessian(dense, probabilities, weights)
    n_free = probabilities.shape[1]
    class_a, class_b = np.triu_indices(n_free)
    feature_i, feature_j = np.triu_indices(n_features)
    packed = np.zeros((feature_i.size, class_a.size))
    for start in range(0, n_samples, _PACKED_CHUNK_ROWS):
        rows = slice(start, min(start + _PACKED_CHUNK_ROWS, n_samples))
        curvature = class_pair_curvature(
            np.ascontiguousarray(probabilities[rows].T), np.ascontiguousarray(weights[rows])
        )
        by_feature = np.ascontiguousarray(dense[rows].T)  # whole-row gathers: cheap
        packed += (by_feature[feature_i] * by_feature[feature_j]) @ curvature.T
    # Unpack: entry [(i, a), (j, b)] is packed[pair(i, j), pair(a, b)], both symmetric.
    feature_pair = symmetric_pair_index(n_features)
    class_pair = symmetric_pair_index(n_free)
    hessian = packed[feature_pair[:, None, :, None], class_pair[None, :, None, :]]
    size = n_features * n_free
    return hessian.reshape(size, size)


def _kronecker_hessian(dense: np.ndarray, probabilities: np.ndarray, weights: np.ndarray):
    """The dense Hessian as ``diag part - rank-one part`` over rows ``kron(x_n, p_n)``.

    For wide designs (many features, few classes). In float64: the difference is small
    near a separable optimum.
    """
    n_samples, n_features = dense.shape
    n_free = probabilities.shape[1]
    size = n_features * n_free
    outer_rows = (dense[:, :, None] * probabilities[:, None, :]).reshape(n_samples, size)
    diagonal_part = dense.T @ (outer_rows * weights[:, None])
    outer_rows *= np.sqrt(weights)[:, None]
    hessian = -(outer_rows.T @ outer_rows)
    hessian4 = hessian.reshape(n_features, n_free, n_features, n_free)
    diagonal_part = diagonal_part.reshape(n_features, n_features, n_free)
    for a in range(n_free):
        hessian4[:, a, :, a] += diagonal_part[:, :, a]  # [i, (j, a)]: sum w p_a x_i x_j
    return hessian


class _Stopping:
    """Decides when the reported mean loss is determined to within ``loss_tol``.

    Two estimates of ``|reported loss - its value at the optimum|``, the smaller kept
    as ``error`` (the optimum may lie at infinity: then "at the optimum" is the limit
    along any minimising sequence, where the weighted loss tends to its infimum):

    - the separable bound ``kappa * f``, rigorous: every row's loss is >= 0, and the
      reported (unweighted) mean loss is at most ``kappa`` times the weighted objective
      ``f`` (``kappa`` = the largest ratio of a row's plain weight ``1 / n`` to its
      objective weight). Both the current and the optimal reported loss lie in
      ``[0, kappa * f]``. It decides separable problems (``f`` tends to 0), where the
      gradient vanishes only as fast as the loss;
    - an extrapolation of the last full step, for every other problem: with ``r`` the
      ratio of the last two decreases of ``f``, a linearly converging sequence has
      ``r / (1 - r)`` times its last change still to come (quadratic convergence has
      ``r`` near 0, and then much less). The reported loss's last change times
      ``r / (1 - r)``, doubled for safety, estimates what is left. Only consecutive full
      (undamped) steps count: damped steps are far from the optimum. With ``window``
      > 1, ``r`` is the largest of the last ``window`` ratios (all needed).
    """

    def __init__(self, loss_tol: float, mean_per_weighted: float, window: int = 1) -> None:
        self.loss_tol = loss_tol
        self.mean_per_weighted = mean_per_weighted
        # The largest of the last ``window`` decrease ratios is used: exact Newton steps'
        # ratios only fall, those of L-BFGS or inexact Newton steps fluctuate or rise.
        self.window = window
        self.ratios: list[float] = []
        self.previous_decrease: float | None = None
        self.error = np.inf

    def separable_bound(self, evaluation: _Evaluation) -> float:
        return self.mean_per_weighted * max(evaluation.loss, 0.0)

    def start(self, evaluation: _Evaluation) -> bool:
        """Whether the starting point already determines the loss."""
        self.error = self.separable_bound(evaluation)
        return self.error <= self.loss_tol

    def step(self, current: _Evaluation, candidate: _Evaluation, full_step: bool) -> bool:
        """Record an accepted step; whether the loss is now determined."""
        decrease = max(current.loss - candidate.loss, 0.0)
        previous = self.previous_decrease
        if full_step and previous is not None and previous > 0:
            self.ratios = [*self.ratios, decrease / previous][-self.window :]
        else:
            self.ratios = []
        self.previous_decrease = decrease if full_step else None
        extrapolated = np.inf
        if len(self.ratios) == self.window and max(self.ratios) < 1.0:
            ratio = max(self.ratios)
            change = abs(candidate.mean_loss - current.mean_loss)
            extrapolated = 2.0 * change * ratio / (1.0 - ratio)
        self.error = min(self.separable_bound(candidate), extrapolated)
        return self.error <= self.loss_tol


class _ProbeNewton(NewtonLoop):
    """Newton on one probe until ``stopping`` finds the reported loss determined.

    On many rows the Hessian comes from a fixed subsample. Dense designs reuse it while
    steps keep shrinking the gradient fast: near the optimum the curvature barely moves,
    which leaves mostly cheap gradient evaluations. One-hot designs solve every step by
    conjugate gradients on exact full-data Hessian products, preconditioned by the
    last factorised Hessian (see ``_conjugate_gradient_step``). Every evaluation and
    Hessian is charged to ``budget`` (a :class:`_Work`); the loop stops once it is spent.
    """

    def __init__(self, problem: _Problem, stopping: _Stopping, budget) -> None:
        self.problem = problem
        self.stopping = stopping
        self.budget = budget
        self.costly = _is_sparse(problem.features)
        n_samples = problem.labels.shape[0]
        self.curvature_problem = problem
        # Subsampling pays only well beyond the subsample size (it slows convergence).
        self.subsampled = n_samples > 2 * _HESSIAN_ROWS
        if self.subsampled:
            rows = np.sort(np.random.default_rng(0).permutation(n_samples)[:_HESSIAN_ROWS])
            self.curvature_problem = problem.rows(rows)
        # Steps from a subsampled, stale or iteratively solved Hessian converge linearly,
        # at a rate that early steps can understate: extrapolate from the worst of three.
        stopping.window = 3 if self.costly or self.subsampled else 1
        self.determined = False
        self.n_products = 0

    def evaluate(self, params: np.ndarray) -> _Evaluation:
        self.budget.spend_evaluation()
        return _evaluate(params, self.problem, self.costly)

    def loss(self, evaluation: _Evaluation) -> float:
        return evaluation.loss

    def gradient(self, evaluation: _Evaluation) -> np.ndarray:
        return evaluation.gradient

    def begin(self, evaluation: _Evaluation) -> None:
        self.determined = self.stopping.start(evaluation)

    def done(self, evaluation: _Evaluation) -> bool:
        return self.determined

    def out_of_budget(self) -> bool:
        return self.budget.spent()

    def factorize(self, params: np.ndarray, evaluation: _Evaluation) -> _Factor:
        self.budget.spend_hessian()
        return _factorized_hessian(params, self.curvature_problem)

    def direction(self, factor: _Factor, evaluation: _Evaluation) -> np.ndarray:
        if not self.costly:
            return factor.solve(-evaluation.gradient)
        step, self.n_products = _conjugate_gradient_step(
            factor,
            evaluation.gradient,
            partial(_hessian_product, self.problem, evaluation.probabilities),
            _NEWTON_CG_TOLERANCE,
            _MAX_PRODUCTS,
        )
        self.budget.spend_evaluation(self.n_products)
        return step

    def negligible(self, params, step, slope, evaluation):
        if -slope > _FLOAT_FLOOR * abs(evaluation.loss):
            return None
        # A Newton step whose predicted decrease (-slope / 2) float64 cannot resolve in
        # the loss: line searches would only shuffle rounding. Take it and stop; what is
        # left of the reported loss is well below its change in this step.
        candidate = self.evaluate(params + step)
        change = abs(candidate.mean_loss - evaluation.mean_loss)
        floor = 2.0 * change + self.stopping.mean_per_weighted * abs(slope)
        self.stopping.error = min(self.stopping.separable_bound(candidate), floor)
        return params + step, candidate

    def uphill(self, evaluation: _Evaluation, fresh: bool) -> np.ndarray:
        return -evaluation.gradient  # not a descent direction: steepest descent instead

    def stalled(self, evaluation: _Evaluation, slope: float) -> None:
        # No progress at float precision: the Newton decrement (-slope, twice the
        # predicted decrease) bounds what is left of the weighted loss.
        stopping = self.stopping
        stopping.error = min(stopping.error, stopping.mean_per_weighted * -slope)

    def keep(self, current: _Evaluation, candidate: _Evaluation, size: float) -> bool:
        # Dense designs keep the Hessian only after a full step that cut the gradient
        # well; a cheap exact one is never kept (fresh each step: quadratic convergence).
        if self.costly:
            return self.n_products <= _REFRESH_PRODUCTS
        progress = candidate.gradient_norm / current.gradient_norm
        return self.subsampled and size == 1.0 and progress <= _REUSE_PROGRESS

    def accept(self, current: _Evaluation, candidate: _Evaluation, size: float) -> None:
        self.determined = self.stopping.step(current, candidate, size == 1.0)


def _newton(coef: np.ndarray, problem: _Problem, stopping: _Stopping, max_iter: int, budget):
    """Newton's method (:class:`_ProbeNewton`); returns (coef, n_iter, evaluation).

    Stops once ``stopping`` finds the reported loss determined (``stopping.error``), at
    ``max_iter`` steps, or when ``budget`` (a :class:`_Work`) is spent.
    """
    outcome = _ProbeNewton(problem, stopping, budget).run(coef, max_iter)
    return outcome.params, outcome.n_iter, outcome.evaluation


@dataclass(frozen=True)
class _Factor:
    """A damped Hessian of the fitted coefficients, Cholesky-factorised when possible."""

    hessian: np.ndarray | None  # kept only when the Cholesky failed (lstsq then)
    cholesky: tuple | None
    fitted: np.ndarray | None

    def solve(self, right_hand_side: np.ndarray) -> np.ndarray:
        """``H^-1 b`` on the fitted coefficients, 0 on the others."""
        flat = right_hand_side.ravel()
        if self.fitted is not None:
            flat = flat[self.fitted]
        if self.cholesky is not None:
            solution = scipy.linalg.cho_solve(self.cholesky, flat, check_finite=False)
        else:
            solution = np.linalg.lstsq(self.hessian, flat, rcond=None)[0]
        if self.fitted is None:
            return solution.reshape(right_hand_side.shape)
        step = np.zeros(right_hand_side.size)
        step[self.fitted] = solution
        return step.reshape(right_hand_side.shape)


def _factorized_hessian(coef: np.ndarray, problem: _Problem) -> _Factor:
    hessian = _damped_hessian(coef, problem)
    try:
        # The transpose of the C-ordered Hessian is Fortran-ordered: LAPACK factorises it
        # in place instead of copying it first. Its lower triangle is the Hessian's upper
        # one, the triangle a plain cho_factor reads (the dense Hessian, built in single
        # precision, is symmetric only to rounding).
        cholesky = scipy.linalg.cho_factor(
            hessian.T, lower=True, overwrite_a=True, check_finite=False
        )
    except np.linalg.LinAlgError:  # the failed attempt overwrote it: build it again
        return _Factor(_damped_hessian(coef, problem), None, problem.fitted)
    return _Factor(None, cholesky, problem.fitted)


def _damped_hessian(coef: np.ndarray, problem: _Problem) -> np.ndarray:
    hessian = _hessian(coef, problem)
    if problem.fitted is not None:
        hessian = hessian[np.ix_(problem.fitted, problem.fitted)]
    # A whisper of damping keeps rank-deficient problems (duplicated or separable
    # features) solvable without changing well-posed steps.
    hessian[np.diag_indices_from(hessian)] += 1e-12 * max(1.0, float(np.trace(hessian)))
    return hessian


def _lbfgs(coef: np.ndarray, problem: _Problem, stopping: _Stopping, max_iter: int, budget, tol):
    """L-BFGS for many parameters; returns (coef, n_iter, evaluation).

    Stops like :func:`_newton` (``stopping``, ``max_iter``, ``budget``), or once the
    max-norm of the gradient is at most ``tol``.
    """
    shape = coef.shape
    cache = {"x": coef.ravel().copy(), "evaluation": _evaluate(coef, problem)}
    budget.spend_evaluation()
    if stopping.start(cache["evaluation"]):
        return coef, 0, cache["evaluation"]

    def evaluated(flat: np.ndarray) -> _Evaluation:
        if not np.array_equal(flat, cache["x"]):
            cache["x"], cache["evaluation"] = flat.copy(), _evaluate(flat.reshape(shape), problem)
            budget.spend_evaluation()
        return cache["evaluation"]

    def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
        evaluation = evaluated(flat)
        return evaluation.loss, evaluation.gradient.ravel()

    accepted = {"evaluation": cache["evaluation"]}

    def callback(intermediate_result) -> None:
        budget.spend_iteration()
        evaluation = evaluated(intermediate_result.x)
        determined = stopping.step(accepted["evaluation"], evaluation, True)
        accepted["evaluation"] = evaluation
        if determined or budget.spent():
            raise StopIteration

    # Each correction pair holds two vectors of every coefficient: cap their memory.
    memory = int(np.clip(_LBFGS_MEMORY_BYTES / (16 * coef.size), 3, 30))
    result = minimize_lbfgs(
        objective, coef.ravel(), tol=tol, max_iter=max_iter, memory=memory, callback=callback
    )
    return result.x.reshape(shape), int(result.nit), evaluated(result.x)


def _discriminant_applies(problem: _Problem) -> bool:
    """A dense design whose first column is the intercept, nothing ruled out."""
    features = problem.features
    if _is_sparse(features) or problem.free_offsets is not None or problem.fitted is not None:
        return False
    return bool(np.all(features[:, 0] == 1.0)) and not np.isinf(problem.reference_logits).any()


def discriminant_cost(n_samples: int, n_features: int) -> float:
    """Multiply-adds of the discriminant start: the within-class scatter (``N p^2``)
    and its Cholesky solve (``p^3 / 3``), ``p`` the design's columns.

    Examples
    --------
    >>> f"{discriminant_cost(200, 1_000_001):.1e}"
    '3.3e+17'
    """
    return float(n_samples) * n_features**2 + float(n_features) ** 3 / 3


def _discriminant_start(problem: _Problem, n_classes: int) -> np.ndarray | None:
    """Coefficients of linear discriminant analysis, for a warm start; None if n/a.

    With Gaussian classes sharing one covariance, LDA's logits are the logistic
    optimum, so on latents of that shape Newton or L-BFGS starts next to it: class
    means ``mu_c`` and the weighted within-class covariance ``S`` give slopes
    ``S^-1 (mu_c - mu_ref)`` and intercepts ``-(mu_c' S^-1 mu_c - mu_ref' S^-1 mu_ref) / 2``
    plus the log ratio of the classes' weights. Needs a dense design whose first column
    is the intercept and nothing ruled out.
    """
    if not _discriminant_applies(problem):
        return None
    latents = problem.features[:, 1:]
    weights = problem.weights
    indicator = scipy.sparse.csr_array(
        (weights, (problem.labels, np.arange(weights.size))), shape=(n_classes, weights.size)
    )
    class_weights = np.asarray(indicator.sum(axis=1)).ravel()
    means = (indicator @ latents) / class_weights[:, None]
    centred = latents - means[problem.labels]
    scatter = centred.T @ (centred * weights[:, None])
    # A whisper of ridge: duplicated or (within classes) constant latents.
    scatter[np.diag_indices_from(scatter)] += 1e-9 * max(float(np.trace(scatter)), 1.0)
    try:
        directions = scipy.linalg.solve(scatter, means.T, assume_a="pos", check_finite=False)
    except (np.linalg.LinAlgError, ValueError):
        return None
    slopes = directions[:, :-1] - directions[:, -1:]
    quadratic = np.einsum("ck,kc->c", means, directions)
    intercepts = -(quadratic[:-1] - quadratic[-1]) / 2 + np.log(
        class_weights[:-1] / class_weights[-1]
    )
    coef = np.vstack([intercepts, slopes])
    return coef if np.isfinite(coef).all() else None


def _warm_start(problem: _Problem, n_classes: int, budget: _Work) -> np.ndarray:
    """The discriminant start scaled back until it beats zero (uniform), else zero.

    Its scatter and solve are charged to ``budget``; a start that would take more than
    half of what is left (many latents: ``p^2`` memory and ``N p^2 + p^3 / 3`` work) is
    skipped, and the solver starts from zero.
    """
    zero = np.zeros((problem.features.shape[1], problem.n_free))
    if not _discriminant_applies(problem):
        return zero
    cost = discriminant_cost(*problem.features.shape)
    if cost > budget.left() / 2:
        return zero
    budget.spend(cost)
    start = _discriminant_start(problem, n_classes)
    if start is None:
        return zero
    uniform = np.log(n_classes)  # the loss at zero when every class is allowed
    for _ in range(6):
        budget.spend_evaluation()
        if _evaluate(start, problem).loss < uniform:
            return start
        start = start / 4  # an overconfident start: shrink it
    return zero


def _ruled_out_logits(features, labels: np.ndarray, n_classes: int, ruled_out):
    """Reference logits, free-logit offsets and fitted coefficients for ``ruled_out``."""
    n_samples = labels.shape[0]
    if ruled_out is None:
        return np.zeros(n_samples), None, None
    ruled_out = np.asarray(ruled_out, dtype=bool)
    if ruled_out.shape != (n_samples, n_classes):
        raise ValueError(
            f"ruled_out must have shape {(n_samples, n_classes)}, got {ruled_out.shape}"
        )
    if ruled_out[np.arange(n_samples), labels].any():
        raise ValueError("ruled_out must not rule out a row's own class")
    reference_logits = np.where(ruled_out[:, -1], -np.inf, 0.0)
    free = ruled_out[:, :-1]
    free_offsets = np.where(free, -np.inf, 0.0) if free.any() else None
    # A coefficient moves the objective only through rows that allow its class.
    if isinstance(features, OneHotDesign):
        magnitude = features  # indicators: already non-negative
    else:
        magnitude = abs(features) if scipy.sparse.issparse(features) else np.abs(features)
    support = np.asarray(magnitude.T @ (~free).astype(np.float64)) > 0
    # Solving for the others only: worth its copies once it removes a tenth of them (the
    # rest get a zero step anyway: zero gradient, zero curvature, damped).
    fitted = None if support.mean() > 0.9 else np.flatnonzero(support.ravel())
    return reference_logits, free_offsets, fitted


def fit_multinomial_logistic(
    features,
    labels: np.ndarray,
    n_classes: int,
    *,
    balanced: bool = True,
    tol: float = 1e-6,
    max_iter: int = 1000,
    seed: int = 0,
    ruled_out: np.ndarray | None = None,
    loss_tol: float | None = None,
    work_budget: float | None = None,
) -> LogisticFit:
    """Fit an unpenalised multinomial logistic regression and report its in-sample loss.

    Parameters
    ----------
    features : ndarray or scipy.sparse CSR matrix, shape (n_samples, n_features)
        Design matrix *including* an intercept column of ones.
    labels : ndarray of int, shape (n_samples,)
        Class codes ``0 .. n_classes - 1``, every class present.
    n_classes : int
        Number of classes (>= 2).
    balanced : bool, default=True
        Weight each sample by ``n_samples / (n_classes * count[label])``, as
        scikit-learn's ``class_weight="balanced"``.
    tol : float, default=1e-6
        Relative tolerance: the fit stops once the reported loss is determined to
        within ``loss_tol`` (default ``tol * log(n_classes)``, which is ``tol`` in
        InfoE). The L-BFGS solver (many classes) also stops once the max-norm of the
        gradient of the weighted mean loss is at most ``tol``.
    max_iter : int, default=1000
        Iteration cap for the full-data solve.
    seed : int, default=0
        Seed of the warm-start subsamples (the optimum does not depend on it).
    ruled_out : ndarray of bool, shape (n_samples, n_classes), optional
        (row, class) pairs known to have probability 0 at the optimum, fitted as exactly
        0. Where the optimum lies at infinity (a one-hot cell that never shows a class
        pushes that class's coefficient to minus infinity), this finds the same infimum
        in a few quadratically convergent steps instead of a slow linear crawl. No row
        may rule out its own class.
    loss_tol : float, optional
        Absolute tolerance on ``log_loss`` (see ``tol``).
    work_budget : float, optional
        Multiply-adds the fit may spend (default ``PROBE_WORK_BUDGET``, 20-30 s on one
        core); beyond it the fit stops and reports whether it had converged.

    Returns
    -------
    LogisticFit

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.0, 1.0, 2.0, 3.0])
    >>> features = np.column_stack([np.ones(4), x])
    >>> fit = fit_multinomial_logistic(features, np.array([0, 1, 0, 1]), 2)
    >>> fit.converged, round(fit.log_loss, 4)
    (True, 0.5869)
    """
    labels = np.asarray(labels, dtype=np.int64)
    n_samples = labels.shape[0]
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    if balanced:
        sample_weights = (n_samples / (n_classes * counts))[labels]
    else:
        sample_weights = np.ones(n_samples)
    n_free = n_classes - 1
    reference_logits, free_offsets, fitted = _ruled_out_logits(
        features, labels, n_classes, ruled_out
    )
    problem = _Problem(
        features,
        labels,
        sample_weights / sample_weights.sum(),
        n_free,
        reference_logits,
        free_offsets,
        fitted,
    )
    n_rows_curvature = min(n_samples, _HESSIAN_ROWS)
    n_features = features.shape[1]
    n_parameters = n_features * n_free if fitted is None else fitted.size
    nnz = features.nnz if _is_sparse(features) else features.size
    if _is_sparse(features):
        nnz_per_row = features.nnz / max(n_samples, 1)
        # Scattered updates cost a few BLAS multiply-adds each.
        hessian_cost = 4 * n_rows_curvature * (nnz_per_row * n_free) ** 2
    elif n_features <= _PACKED_MAX_FEATURES:  # feature pairs x class pairs
        hessian_cost = n_rows_curvature * n_features**2 * n_free * (n_free + 1) / 4
    else:
        hessian_cost = n_rows_curvature * n_parameters**2
    # Newton while a Hessian and its solve stay cheap; L-BFGS beyond.
    use_newton = hessian_cost <= _NEWTON_BUDGET and n_parameters <= _NEWTON_MAX_PARAMETERS
    # Costs in multiply-adds at BLAS speed, calibrated on one core: an evaluation is the
    # logits and gradient products (sparse or one-hot ones, gathers and scatters bound
    # by memory, count ten times) plus about 60 per (row, class) for the exponential
    # and residual kernel; an L-BFGS iteration adds about 400 per coefficient of its
    # own work (measured at 10^7 coefficients).
    product_cost = (20 if _is_sparse(features) else 2) * nnz * n_free
    evaluation_cost = product_cost + 60 * n_samples * n_classes
    budget = _Work(
        PROBE_WORK_BUDGET if work_budget is None else work_budget,
        evaluation_cost,
        hessian_cost + n_parameters**3 / 3,  # and its Cholesky
        400 * n_features * n_free,
    )
    if loss_tol is None:
        loss_tol = tol * np.log(n_classes)
    # The reported loss weighs rows by 1 / n; the objective by ``problem.weights``.
    mean_per_weighted = float(np.max(1.0 / (n_samples * problem.weights)))
    if use_newton:
        solver = _newton
        window = 1
    else:
        solver = partial(_lbfgs, tol=tol)
        window = _LBFGS_WINDOW
    coef = _warm_start(problem, n_classes, budget)

    # Warm start: solve on nested random subsamples, each a few times larger. Not for
    # one-hot designs: with about as many parameters as a stage has rows, a stage fit
    # is separated (a poor start) and each of its steps pays a full Cholesky.
    permutation = np.random.default_rng(seed).permutation(n_samples)
    stage_rows = _FIRST_STAGE_ROWS
    while stage_rows * 4 <= n_samples and not _is_sparse(features):
        stage = problem.rows(np.sort(permutation[:stage_rows]))
        stage_tol = max(loss_tol, _STAGE_TOL * np.log(n_classes))
        stage_budget = budget.share(stage_rows / n_samples)
        stopping = _Stopping(stage_tol, mean_per_weighted, window)
        coef, _, _ = solver(coef, stage, stopping, 20, stage_budget)
        budget.absorb(stage_budget)
        stage_rows *= _STAGE_GROWTH

    stopping = _Stopping(loss_tol, mean_per_weighted, window)
    coef, n_iter, final = solver(coef, problem, stopping, max_iter, budget)
    converged = stopping.error <= loss_tol
    if not use_newton:  # the gradient test, kept where no Hessian gives a better one
        converged = converged or final.gradient_norm <= tol
    return LogisticFit(
        log_loss=final.mean_loss,
        converged=bool(converged),
        gradient_norm=final.gradient_norm,
        n_iter=n_iter,
        loss_error=float(stopping.error),
    )


class _Work:
    """A budget of multiply-adds for one fit, spent by evaluations and Hessians.

    Bounds a probe's time whatever its input: a fit stops (``converged`` then says
    whether the loss was already determined) once ``limit`` is spent.
    """

    def __init__(
        self, limit: float, evaluation_cost: float, hessian_cost: float, iteration_cost: float
    ) -> None:
        self.limit = limit
        self.evaluation_cost = evaluation_cost
        self.hessian_cost = hessian_cost
        self.iteration_cost = iteration_cost  # an L-BFGS iteration's own work
        self.total = 0.0

    def spend(self, amount: float) -> None:
        self.total += amount

    def left(self) -> float:
        return max(self.limit - self.total, 0.0)

    def spend_evaluation(self, count: int = 1) -> None:
        self.total += count * self.evaluation_cost

    def spend_hessian(self) -> None:
        self.total += self.hessian_cost

    def spend_iteration(self) -> None:
        self.total += self.iteration_cost

    def spent(self) -> bool:
        return self.total >= self.limit

    def share(self, fraction: float) -> _Work:
        """A budget for a subsample of ``fraction`` of the rows, out of what is left."""
        return _Work(
            max(self.limit - self.total, 0.0),
            self.evaluation_cost * fraction,
            self.hessian_cost,  # the Hessian uses at most the same curvature rows
            self.iteration_cost,
        )

    def absorb(self, other: _Work) -> None:
        self.total += other.total


def classes_absent_from_cells(codes, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """(row, class) pairs that a one-hot probe fits with probability 0.

    When no row with value ``v`` of a discrete latent has class ``c``, the unpenalised
    likelihood keeps growing as the coefficient of (``v``, ``c``) goes to minus infinity:
    at the optimum every row with that value gives ``c`` probability 0.

    Parameters
    ----------
    codes : sequence of ndarray of int, each of shape (n_samples,)
        The codes ``0 .. V - 1`` of each discrete latent.
    labels : ndarray of int, shape (n_samples,)
    n_classes : int

    Returns
    -------
    ndarray of bool, shape (n_samples, n_classes)
        For ``fit_multinomial_logistic(..., ruled_out=...)``.

    Examples
    --------
    >>> import numpy as np
    >>> ruled_out = classes_absent_from_cells([np.array([0, 0, 1])], np.array([0, 1, 1]), 2)
    >>> ruled_out.astype(int).tolist()  # value 1 never shows class 0
    [[0, 0], [0, 0], [1, 0]]
    """
    labels = np.asarray(labels, dtype=np.int64)
    ruled_out = np.zeros((labels.shape[0], n_classes), dtype=bool)
    for code in codes:
        code = np.asarray(code, dtype=np.int64)
        n_values = int(code.max()) + 1 if code.size else 0
        counts = np.bincount(code * n_classes + labels, minlength=n_values * n_classes)
        ruled_out |= (counts.reshape(n_values, n_classes) == 0)[code]
    return ruled_out


def least_squares_r2(features, target: np.ndarray) -> float:
    """In-sample coefficient of determination of ordinary least squares.

    Parameters
    ----------
    features : ndarray or sparse matrix, shape (n_samples, n_features)
        Design matrix including an intercept column.
    target : ndarray of shape (n_samples,)

    Returns
    -------
    float
        ``R^2`` in [0, 1]; 0 for a constant target.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(5.0)
    >>> round(least_squares_r2(np.column_stack([np.ones(5), x]), 2 * x + 1), 6)
    1.0
    """
    target = np.asarray(target, dtype=np.float64)
    centered = target - target.mean()
    total = float(centered @ centered)
    if total == 0.0:
        return 0.0
    dense = features.toarray() if _is_sparse(features) else features
    coef = np.linalg.lstsq(dense, target, rcond=None)[0]
    residual = target - dense @ coef
    return float(np.clip(1.0 - (residual @ residual) / total, 0.0, 1.0))
