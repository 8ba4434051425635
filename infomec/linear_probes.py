"""Linear probes for InfoE: multinomial logistic regression and least squares.

The logistic regression is unpenalised, fit in-sample, with optional balanced class
weights, and solved to a stated gradient tolerance:

- small problems (the usual continuous case) use Newton's method with the exact Hessian
  and a backtracking line search, which reaches ``1e-8`` in a handful of iterations;
- large ones (one-hot codes with many classes) use L-BFGS.

Both are warm-started on nested, seeded subsamples of the rows (a fit on 4,096 rows is
nearly the full-data optimum), so the expensive full-data iterations are few.
The reference class is the last one (its logit is fixed at 0), which makes the
objective strictly convex when the features have full rank.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.optimize
import scipy.sparse

# Newton while rows * nnz_per_row^2 * classes^2 stays below this many multiply-adds.
_NEWTON_BUDGET = 4e9
_FIRST_STAGE_ROWS = 4096
_STAGE_GROWTH = 8
_HESSIAN_ROWS = 16384


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


def _loss_and_gradient(
    coef: np.ndarray, features, targets: np.ndarray, weights: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Weighted cross-entropy, its gradient, and the predicted probabilities.

    ``coef`` has shape (n_features, n_classes - 1); the last class has logit 0.
    ``targets`` is the one-hot label matrix without the last class's column;
    ``weights`` sum to one.
    """
    logits = features @ coef
    shift = np.maximum(logits.max(axis=1), 0.0)
    exp_logits = np.exp(logits - shift[:, None])
    denominator = exp_logits.sum(axis=1) + np.exp(-shift)
    log_partition = shift + np.log(denominator)
    probabilities = exp_logits / denominator[:, None]
    label_logit = np.einsum("ij,ij->i", logits, targets)
    loss = float(np.dot(weights, log_partition - label_logit))
    residual = (probabilities - targets) * weights[:, None]
    gradient = np.asarray(features.T @ residual)
    return loss, gradient, probabilities


def _hessian(features, probabilities: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Exact Hessian of the weighted cross-entropy, ordered like ``coef.ravel()``.

    ``sum_n w_n (diag(p_n) - p_n p_n^T) kron x_n x_n^T``, as two matrix products.
    """
    n_samples, n_features = features.shape
    n_free = probabilities.shape[1]
    dense = features.toarray() if scipy.sparse.issparse(features) else features
    size = n_features * n_free
    # kron(x_n, p_n) for every row, scaled by sqrt(w_n): the rank-one part.
    outer_rows = (dense[:, :, None] * probabilities[:, None, :]).reshape(n_samples, size)
    diagonal_part = dense.T @ (outer_rows * weights[:, None])  # [i, (j, a)]: sum w p_a x_i x_j
    outer_rows *= np.sqrt(weights)[:, None]
    hessian = -(outer_rows.T @ outer_rows)
    hessian4 = hessian.reshape(n_features, n_free, n_features, n_free)
    diagonal_part = diagonal_part.reshape(n_features, n_features, n_free)
    for a in range(n_free):
        hessian4[:, a, :, a] += diagonal_part[:, :, a]
    return hessian


def _newton(coef, features, targets, weights, tol, max_iter) -> tuple[np.ndarray, int]:
    n_samples = targets.shape[0]
    hessian_rows = None
    if n_samples > 2 * _HESSIAN_ROWS:
        hessian_rows = np.sort(np.random.default_rng(0).permutation(n_samples)[:_HESSIAN_ROWS])
    loss, gradient, probabilities = _loss_and_gradient(coef, features, targets, weights)
    for iteration in range(max_iter):
        if np.abs(gradient).max() <= tol:
            return coef, iteration
        if hessian_rows is None:
            hessian = _hessian(features, probabilities, weights)
        else:
            # On many rows a subsampled Hessian steers almost as well at a fraction of
            # the cost; convergence is still judged on the full-data gradient.
            sub_weights = weights[hessian_rows] / weights[hessian_rows].sum()
            hessian = _hessian(features[hessian_rows], probabilities[hessian_rows], sub_weights)
        # A whisper of damping keeps rank-deficient problems (duplicated or separable
        # features) solvable without changing well-posed steps.
        damping = 1e-12 * max(1.0, float(np.trace(hessian)))
        hessian[np.diag_indices_from(hessian)] += damping
        try:
            step = np.linalg.solve(hessian, -gradient.ravel())
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hessian, -gradient.ravel(), rcond=None)[0]
        step = step.reshape(coef.shape)
        slope = float(np.dot(gradient.ravel(), step.ravel()))
        if slope >= 0:  # not a descent direction: fall back to steepest descent
            step = -gradient
            slope = -float(np.dot(gradient.ravel(), gradient.ravel()))
        size = 1.0
        while True:
            candidate = coef + size * step
            new_loss, new_gradient, new_probabilities = _loss_and_gradient(
                candidate, features, targets, weights
            )
            if new_loss <= loss + 1e-4 * size * slope or size < 1e-10:
                break
            size *= 0.5
        if size < 1e-10 and new_loss >= loss:
            return coef, iteration + 1  # no further progress possible at float precision
        coef, loss, gradient, probabilities = candidate, new_loss, new_gradient, new_probabilities
    return coef, max_iter


def _lbfgs(coef, features, targets, weights, tol, max_iter) -> tuple[np.ndarray, int]:
    shape = coef.shape

    def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
        loss, gradient, _ = _loss_and_gradient(flat.reshape(shape), features, targets, weights)
        return loss, gradient.ravel()

    result = scipy.optimize.minimize(
        objective,
        coef.ravel(),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": tol, "ftol": 0.0, "maxcor": 30},
    )
    return result.x.reshape(shape), int(result.nit)


def fit_multinomial_logistic(
    features,
    labels: np.ndarray,
    n_classes: int,
    *,
    balanced: bool = True,
    tol: float = 1e-7,
    max_iter: int = 1000,
    seed: int = 0,
) -> LogisticFit:
    """Fit an unpenalised multinomial logistic regression and report its in-sample loss.

    Parameters
    ----------
    features : ndarray or scipy.sparse matrix, shape (n_samples, n_features)
        Design matrix *including* an intercept column of ones.
    labels : ndarray of int, shape (n_samples,)
        Class codes ``0 .. n_classes - 1``, every class present.
    n_classes : int
        Number of classes (>= 2).
    balanced : bool, default=True
        Weight each sample by ``n_samples / (n_classes * count[label])``, as
        scikit-learn's ``class_weight="balanced"``.
    tol : float, default=1e-7
        Convergence threshold on the max-norm of the gradient of the weighted mean loss.
    max_iter : int, default=1000
        Iteration cap for the full-data solve.
    seed : int, default=0
        Seed of the warm-start subsamples (the optimum does not depend on it).

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
    (True, 0.6365)
    """
    labels = np.asarray(labels, dtype=np.int64)
    n_samples = labels.shape[0]
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    if balanced:
        sample_weights = (n_samples / (n_classes * counts))[labels]
    else:
        sample_weights = np.ones(n_samples)
    nnz_per_row = (
        features.shape[1]
        if not scipy.sparse.issparse(features)
        else (features.nnz / max(n_samples, 1))
    )
    use_newton = n_samples * nnz_per_row**2 * (n_classes - 1) ** 2 / 2 <= _NEWTON_BUDGET
    solver = _newton if use_newton else _lbfgs
    coef = np.zeros((features.shape[1], n_classes - 1))
    targets = np.zeros((n_samples, n_classes - 1))
    free = labels < n_classes - 1
    targets[np.flatnonzero(free), labels[free]] = 1.0

    # Warm start: solve on nested random subsamples, each a few times larger.
    permutation = np.random.default_rng(seed).permutation(n_samples)
    stage_rows = _FIRST_STAGE_ROWS
    while stage_rows * 2 < n_samples:
        rows = np.sort(permutation[:stage_rows])
        stage_weights = sample_weights[rows] / sample_weights[rows].sum()
        coef, _ = solver(coef, features[rows], targets[rows], stage_weights, tol * 10, 50)
        stage_rows *= _STAGE_GROWTH

    weights = sample_weights / sample_weights.sum()
    coef, n_iter = solver(coef, features, targets, weights, tol, max_iter)
    _, gradient, probabilities = _loss_and_gradient(coef, features, targets, weights)
    gradient_norm = float(np.abs(gradient).max())
    last = np.clip(1.0 - probabilities.sum(axis=1), 0.0, 1.0)
    full = np.column_stack([probabilities, last])
    label_probability = full[np.arange(n_samples), labels]
    log_loss = float(-np.mean(np.log(np.maximum(label_probability, np.finfo(float).tiny))))
    return LogisticFit(
        log_loss=log_loss,
        converged=gradient_norm <= tol,
        gradient_norm=gradient_norm,
        n_iter=n_iter,
    )


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
    dense = features.toarray() if scipy.sparse.issparse(features) else features
    coef = np.linalg.lstsq(dense, target, rcond=None)[0]
    residual = target - dense @ coef
    return float(np.clip(1.0 - (residual @ residual) / total, 0.0, 1.0))
