"""Linear probes for InfoE: multinomial logistic regression and least squares.

The logistic regression is unpenalised, fit in-sample, with optional balanced class
weights, and solved to a stated gradient tolerance:

- problems whose Hessian stays affordable use Newton's method with a backtracking line
  search. Dense (standardised) designs factorise the exact Hessian, or one from a
  fixed subsample of 8,192 rows, and are warm-started on nested, seeded subsamples (a
  fit on 4,096 rows is nearly the full-data optimum). One-hot designs solve each step
  by conjugate gradients on exact Hessian products, preconditioned by an occasionally
  refreshed factorisation;
- larger ones (many classes) use L-BFGS with a work cap.

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
    cross_entropy_residual_in_place,
    curvature_product_in_place,
    softmax_in_place,
    sparse_multinomial_hessian,
)
from infomec.one_hot_design import OneHotDesign

# Newton while one Hessian (rows x parameters^2) stays below this many multiply-adds;
# L-BFGS beyond (and at most _LBFGS_BUDGET multiply-adds of full-data gradients).
_NEWTON_BUDGET = 2e9
_NEWTON_MAX_PARAMETERS = 3000
_LBFGS_BUDGET = 4e9
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
        Whether the weighted-objective gradient reached the tolerance (max-norm).
    gradient_norm : float
        Final max-norm of the gradient of the (weight-normalised) objective.
    n_iter : int
        Full-data solver iterations.
    """

    log_loss: float
    converged: bool
    gradient_norm: float
    n_iter: int


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

    ``sum_n w_n (diag(p_n) - p_n p_n^T) kron x_n x_n^T``, as two matrix products.
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
    dense = features
    n_samples, n_features = dense.shape
    n_free = problem.n_free
    size = n_features * n_free
    weights = problem.weights
    # kron(x_n, p_n) for every row: the rank-one part, and (scaled) the diagonal part.
    # Single precision halves the cost; the Hessian only steers, and the convergence test
    # uses the float64 gradient.
    dense32 = dense.astype(np.float32)
    outer_rows = (dense32[:, :, None] * probabilities.astype(np.float32)[:, None, :]).reshape(
        n_samples, size
    )
    diagonal_part = dense32.T @ (outer_rows * weights.astype(np.float32)[:, None])
    outer_rows *= np.sqrt(weights).astype(np.float32)[:, None]
    hessian = -(outer_rows.T @ outer_rows).astype(np.float64)
    hessian4 = hessian.reshape(n_features, n_free, n_features, n_free)
    diagonal_part = diagonal_part.reshape(n_features, n_features, n_free)
    for a in range(n_free):
        hessian4[:, a, :, a] += diagonal_part[:, :, a]  # [i, (j, a)]: sum w p_a x_i x_j
    return hessian


def _newton(coef: np.ndarray, problem: _Problem, tol: float, max_iter: int):
    """Newton's method with a backtracking line search; returns (coef, n_iter, evaluation).

    On many rows the Hessian comes from a fixed subsample. Dense designs reuse it while
    steps keep shrinking the gradient fast: near the optimum the curvature barely moves,
    which leaves mostly cheap gradient evaluations. One-hot designs solve every step by
    conjugate gradients on exact full-data Hessian products, preconditioned by the
    last factorised Hessian (see ``_conjugate_gradient_step``). Convergence is judged
    on the full-data gradient.
    """
    costly = _is_sparse(problem.features)
    n_samples = problem.labels.shape[0]
    curvature_problem = problem
    # Subsampling pays only well beyond the subsample size (it slows convergence).
    subsampled = n_samples > 2 * _HESSIAN_ROWS
    if subsampled:
        rows = np.sort(np.random.default_rng(0).permutation(n_samples)[:_HESSIAN_ROWS])
        curvature_problem = problem.rows(rows)
    current = _evaluate(coef, problem, costly)
    factor = None
    n_products = 0
    for iteration in range(max_iter):
        if current.gradient_norm <= tol:
            return coef, iteration, current
        if factor is None:
            factor = _factorized_hessian(coef, curvature_problem)
        if costly:
            step, n_products = _conjugate_gradient_step(
                factor,
                current.gradient,
                partial(_hessian_product, problem, current.probabilities),
                _NEWTON_CG_TOLERANCE,
                _MAX_PRODUCTS,
            )
        else:
            step = factor.solve(-current.gradient)
        slope = float(np.dot(current.gradient.ravel(), step.ravel()))
        if slope >= 0:  # not a descent direction: fall back to steepest descent
            step = -current.gradient
            slope = -float(np.dot(step.ravel(), step.ravel()))
        size = 1.0
        while True:
            candidate = _evaluate(coef + size * step, problem, costly)
            if candidate.loss <= current.loss + 1e-4 * size * slope or size < 1e-10:
                break
            size *= 0.5
        if size < 1e-10 and candidate.loss >= current.loss:
            if not factor.reused:
                return coef, iteration + 1, current  # no progress at float precision
            factor = None  # a stale Hessian misled the step: refresh and retry
            continue
        # Dense designs keep the Hessian only after a full step that cut the gradient
        # well; a cheap exact one is never kept (fresh each step: quadratic convergence).
        if costly:
            keep = n_products <= _REFRESH_PRODUCTS
        else:
            progress = candidate.gradient_norm / current.gradient_norm
            keep = subsampled and size == 1.0 and progress <= _REUSE_PROGRESS
        factor = factor.reuse() if keep else None
        coef, current = coef + size * step, candidate
    return coef, max_iter, current


@dataclass(frozen=True)
class _Factor:
    """A damped Hessian of the fitted coefficients, Cholesky-factorised when possible.

    ``reused`` once it has served one step.
    """

    hessian: np.ndarray | None  # kept only when the Cholesky failed (lstsq then)
    cholesky: tuple | None
    fitted: np.ndarray | None
    reused: bool = False

    def reuse(self) -> _Factor:
        return _Factor(self.hessian, self.cholesky, self.fitted, True)

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


def _lbfgs(coef: np.ndarray, problem: _Problem, tol: float, max_iter: int):
    """L-BFGS for many parameters; returns (coef, n_iter, evaluation)."""
    shape = coef.shape

    def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
        evaluation = _evaluate(flat.reshape(shape), problem)
        return evaluation.loss, evaluation.gradient.ravel()

    import scipy.optimize  # lazy: only many-class problems get here (~0.25 s import)

    result = scipy.optimize.minimize(
        objective,
        coef.ravel(),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": tol, "ftol": 0.0, "maxcor": 30},
    )
    coef = result.x.reshape(shape)
    return coef, int(result.nit), _evaluate(coef, problem)


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
        Convergence threshold on the max-norm of the gradient of the weighted mean loss.
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
    n_parameters = features.shape[1] * n_free if fitted is None else fitted.size
    if _is_sparse(features):
        nnz_per_row = features.nnz / max(n_samples, 1)
        # Scattered updates cost a few BLAS multiply-adds each.
        hessian_cost = 4 * n_rows_curvature * (nnz_per_row * n_free) ** 2
    else:
        hessian_cost = n_rows_curvature * n_parameters**2
    # Newton while a Hessian and its solve stay cheap; L-BFGS beyond.
    use_newton = hessian_cost <= _NEWTON_BUDGET and n_parameters <= _NEWTON_MAX_PARAMETERS
    solver = _newton if use_newton else _lbfgs
    if not use_newton:
        # Many classes make each L-BFGS step expensive: cap the full-data work so a
        # 1,000-class source costs seconds, not minutes (``converged`` then tells).
        nnz = features.nnz if _is_sparse(features) else features.size
        max_iter = min(max_iter, max(50, int(_LBFGS_BUDGET / (nnz * n_classes))))
    coef = np.zeros((features.shape[1], n_classes - 1))

    # Warm start: solve on nested random subsamples, each a few times larger. Not for
    # one-hot designs: with about as many parameters as a stage has rows, a stage fit
    # is separated (a poor start) and each of its steps pays a full Cholesky.
    permutation = np.random.default_rng(seed).permutation(n_samples)
    stage_rows = _FIRST_STAGE_ROWS
    while stage_rows * 4 <= n_samples and not _is_sparse(features):
        stage = problem.rows(np.sort(permutation[:stage_rows]))
        coef, _, _ = solver(coef, stage, max(tol, _STAGE_TOL), 20)
        stage_rows *= _STAGE_GROWTH

    coef, n_iter, final = solver(coef, problem, tol, max_iter)
    return LogisticFit(
        log_loss=final.mean_loss,
        converged=final.gradient_norm <= tol,
        gradient_norm=final.gradient_norm,
        n_iter=n_iter,
    )


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
