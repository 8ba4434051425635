"""The InfoE probe's building blocks against finite differences and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from infomec.estimators.multinomial import cross_entropy_residual_in_place, softmax_in_place
from infomec.probes import linear_probes


def _one_hot(codes: np.ndarray):
    """Intercept plus dummy-coded columns (first value dropped) of discrete latents."""
    columns = [np.ones(codes.shape[0])]
    for code in codes.T:
        columns += [(code == value).astype(float) for value in range(1, code.max() + 1)]
    return scipy.sparse.csr_array(np.column_stack(columns))


def _separated_codes(rng, n_samples: int, heavily: bool = False):
    """Codes of two latents and labels where latent 0's value 3 never shows class 0.

    ``heavily``: nor class 1, and latent 1's value 2 never shows class 0 (three of the
    21 coefficients are then flat: the Newton system leaves them out).
    """
    codes = rng.integers(0, 4, size=(n_samples, 2))
    labels = (codes[:, 0] + codes[:, 1] + rng.integers(0, 3, n_samples)) % 4
    labels[(codes[:, 0] == 3) & (labels == 0)] = 1
    if heavily:
        labels[(codes[:, 0] == 3) & (labels == 1)] = 2
        labels[(codes[:, 1] == 2) & (labels == 0)] = 3
    return codes, labels


def _problem(
    rng, n_samples: int, n_classes: int, sparse: bool, ruled_out: bool = False
) -> linear_probes._Problem:
    labels = rng.integers(0, n_classes, n_samples)
    codes = rng.integers(0, 4, size=(n_samples, 2))
    if sparse:  # intercept plus dummy-coded codes of two discrete latents
        features = _one_hot(codes)
    else:
        features = np.column_stack([np.ones(n_samples), rng.standard_normal((n_samples, 3))])
    mask = None
    if ruled_out:  # random (row, class) pairs, never a row's own class
        mask = rng.uniform(size=(n_samples, n_classes)) < 0.3
        mask[np.arange(n_samples), labels] = False
    reference, offsets, fitted = linear_probes._ruled_out_logits(features, labels, n_classes, mask)
    weights = rng.uniform(0.5, 2.0, n_samples)
    return linear_probes._Problem(
        features, labels, weights / weights.sum(), n_classes - 1, reference, offsets, fitted
    )


@pytest.mark.parametrize("with_ruled_out", [False, True])
def test_row_kernels_match_numpy(rng, with_ruled_out):
    logits = rng.standard_normal((50, 4)) * 30  # large logits: the shift must be stable
    labels = rng.integers(0, 5, 50)
    weights = rng.uniform(size=50)
    reference = np.zeros(50)  # the reference class has logit 0 ...
    if with_ruled_out:  # ... or -inf, like a ruled-out free class; never a row's own
        ruled_out = rng.uniform(size=(50, 5)) < 0.4
        ruled_out[np.arange(50), labels] = False
        logits[ruled_out[:, :4]] = -np.inf
        reference[ruled_out[:, 4]] = -np.inf
    full = np.column_stack([logits, reference])
    log_partition = np.log(np.exp(full - full.max(1, keepdims=True)).sum(1)) + full.max(1)
    probabilities = np.exp(full - log_partition[:, None])

    softmaxed = logits.copy()
    np.testing.assert_allclose(
        softmax_in_place(softmaxed, reference), log_partition, rtol=1e-13, atol=1e-14
    )
    np.testing.assert_allclose(softmaxed, probabilities[:, :4], rtol=1e-12, atol=1e-300)

    residual = logits.copy()
    kept = np.empty((50, 4))
    weighted, plain = cross_entropy_residual_in_place(residual, labels, weights, reference, kept)
    row_losses = log_partition - full[np.arange(50), labels]
    assert weighted == pytest.approx(np.dot(weights, row_losses), rel=1e-13)
    assert plain == pytest.approx(row_losses.sum(), rel=1e-13)
    expected = weights[:, None] * (probabilities - np.eye(5)[labels])[:, :4]
    # w (p - 1) for p near 1 cancels: a few ulps of 1, absolutely, in either computation.
    np.testing.assert_allclose(residual, expected, rtol=1e-12, atol=4e-15)
    np.testing.assert_allclose(kept, probabilities[:, :4], rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("ruled_out", [False, True])
def test_gradient_and_hessian_match_finite_differences(rng, sparse, ruled_out):
    problem = _problem(rng, 300, 4, sparse, ruled_out)
    coef = rng.standard_normal((problem.features.shape[1], 3)) * 0.5
    evaluation = linear_probes._evaluate(coef, problem)
    hessian = linear_probes._hessian(coef, problem)
    step = 1e-6
    for index in range(coef.size):
        shift = np.zeros(coef.size)
        shift[index] = step
        shift = shift.reshape(coef.shape)
        up = linear_probes._evaluate(coef + shift, problem)
        down = linear_probes._evaluate(coef - shift, problem)
        derivative = (up.loss - down.loss) / (2 * step)
        assert derivative == pytest.approx(evaluation.gradient.ravel()[index], abs=1e-7)
        column = (up.gradient - down.gradient).ravel() / (2 * step)
        # The dense path builds the Hessian in single precision (it only steers Newton).
        np.testing.assert_allclose(hessian[:, index], column, atol=1e-5 if not sparse else 1e-7)


def test_sparse_and_dense_designs_give_the_same_fit(rng):
    problem = _problem(rng, 2000, 5, sparse=True)
    labels = problem.labels
    sparse_fit = linear_probes.fit_multinomial_logistic(problem.features, labels, 5, tol=1e-8)
    dense_fit = linear_probes.fit_multinomial_logistic(
        problem.features.toarray(), labels, 5, tol=1e-8
    )
    assert sparse_fit.converged and dense_fit.converged
    assert sparse_fit.log_loss == pytest.approx(dense_fit.log_loss, abs=1e-9)


@pytest.mark.parametrize("n_samples", [3000, 40000])  # exact and subsampled Hessians
def test_fit_matches_converged_sklearn(rng, n_samples):
    x = rng.standard_normal((n_samples, 3))
    labels = (x @ [1.0, -0.5, 0.3] + rng.standard_normal(n_samples) > 0).astype(int)
    labels[x[:, 1] + rng.standard_normal(n_samples) > 1.5] = 2  # not separable
    features = np.column_stack([np.ones(n_samples), x])
    reference = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(x, labels)
    expected = log_loss(labels, reference.predict_proba(x))
    for tol in (1e-6, 1e-10):  # the loss is determined to tol * log(3)
        fit = linear_probes.fit_multinomial_logistic(features, labels, 3, balanced=False, tol=tol)
        assert fit.converged and fit.loss_error <= tol * np.log(3)
        assert fit.log_loss == pytest.approx(expected, abs=tol * np.log(3))


def test_classes_absent_from_cells_matches_a_direct_count(rng):
    codes, labels = _separated_codes(rng, 500)
    ruled_out = linear_probes.classes_absent_from_cells(list(codes.T), labels, 4)
    for n in range(0, 500, 7):
        for c in range(4):
            seen = [np.any((codes[:, j] == codes[n, j]) & (labels == c)) for j in range(2)]
            assert ruled_out[n, c] == (not all(seen))
    assert ruled_out[codes[:, 0] == 3, 0].all()


@pytest.mark.parametrize("heavily", [False, True])
def test_ruling_out_empty_cells_reaches_the_infimum_fast(rng, heavily):
    """Unmasked, the optimum is at infinity and Newton crawls towards the same loss."""
    codes, labels = _separated_codes(rng, 3000, heavily)
    features = _one_hot(codes)
    ruled_out = linear_probes.classes_absent_from_cells(list(codes.T), labels, 4)
    _, _, fitted = linear_probes._ruled_out_logits(features, labels, 4, ruled_out)
    assert (fitted is not None) == heavily
    masked = linear_probes.fit_multinomial_logistic(
        features, labels, 4, balanced=False, tol=1e-8, ruled_out=ruled_out
    )
    crawling = linear_probes.fit_multinomial_logistic(features, labels, 4, balanced=False, tol=1e-8)
    assert masked.converged and crawling.converged
    assert masked.n_iter < crawling.n_iter
    # The unmasked fit approaches the infimum from above.
    assert masked.log_loss <= crawling.log_loss + 1e-12
    assert masked.log_loss == pytest.approx(crawling.log_loss, abs=1e-7)


def test_ruled_out_is_validated(rng):
    codes, labels = _separated_codes(rng, 100)
    features = _one_hot(codes)
    with pytest.raises(ValueError, match="shape"):
        linear_probes.fit_multinomial_logistic(
            features, labels, 4, ruled_out=np.zeros((100, 3), bool)
        )
    own = np.zeros((100, 4), bool)
    own[0, labels[0]] = True
    with pytest.raises(ValueError, match="own class"):
        linear_probes.fit_multinomial_logistic(features, labels, 4, ruled_out=own)


@pytest.mark.parametrize("ruled_out", [False, True])
def test_hessian_products_and_probabilities_match_the_hessian(rng, ruled_out):
    problem = _problem(rng, 400, 4, sparse=True, ruled_out=ruled_out)
    coef = rng.standard_normal((problem.features.shape[1], 3)) * 0.5
    evaluation = linear_probes._evaluate(coef, problem, keep_probabilities=True)
    expected = linear_probes._logits(coef, problem.features, problem.free_offsets)
    softmax_in_place(expected, problem.reference_logits)
    np.testing.assert_allclose(evaluation.probabilities, expected, atol=1e-15)
    hessian = linear_probes._hessian(coef, problem)
    direction = rng.standard_normal(coef.shape)
    product = linear_probes._hessian_product(problem, evaluation.probabilities, direction)
    np.testing.assert_allclose(product.ravel(), hessian @ direction.ravel(), atol=1e-14)


def test_conjugate_gradient_step_corrects_a_stale_factor(rng):
    problem = _problem(rng, 400, 4, sparse=True)
    coef = rng.standard_normal((problem.features.shape[1], 3)) * 0.5
    evaluation = linear_probes._evaluate(coef, problem, keep_probabilities=True)
    hessian = linear_probes._hessian(coef, problem)
    newton_step = -np.linalg.solve(hessian, evaluation.gradient.ravel())

    def product(direction):
        return linear_probes._hessian_product(problem, evaluation.probabilities, direction)

    exact = linear_probes._factorized_hessian(coef, problem)
    step, n_products = linear_probes._conjugate_gradient_step(
        exact, evaluation.gradient, product, 1e-8, 8
    )
    assert n_products == 1  # an exact preconditioner solves it at once
    np.testing.assert_allclose(step.ravel(), newton_step, rtol=1e-6, atol=1e-10)

    stale = linear_probes._factorized_hessian(coef * 0.0, problem)  # curvature elsewhere
    step, n_products = linear_probes._conjugate_gradient_step(
        stale, evaluation.gradient, product, 1e-10, 50
    )
    assert 1 < n_products < 50
    np.testing.assert_allclose(step.ravel(), newton_step, rtol=1e-6, atol=1e-10)


def _separable(rng, n_samples: int = 3000):
    """Three classes a latent separates (the demo's shape): the optimum is at infinity."""
    labels = rng.integers(0, 3, n_samples)
    x = np.column_stack(
        [labels + 0.05 * rng.standard_normal(n_samples), rng.standard_normal(n_samples)]
    )
    return (x - x.mean(0)) / x.std(0), labels


def test_dense_hessian_keeps_its_precision_near_a_separable_optimum(rng):
    """p (1 - p) for p near 1 is formed per row: no cancellation between large sums."""
    x = np.column_stack([np.ones(500), rng.standard_normal((500, 3))])
    probabilities = np.full((500, 2), 1e-10)
    probabilities[np.arange(500), rng.integers(0, 2, 500)] = 1.0 - 2e-10
    weights = np.full(500, 1 / 500)
    expected = np.zeros((8, 8))
    for n in range(500):
        p = probabilities[n]
        curvature = np.diag(p) - np.outer(p, p)
        curvature[np.diag_indices(2)] = p * (1 - p)
        expected += weights[n] * np.kron(np.outer(x[n], x[n]), curvature)
    hessian = linear_probes._dense_hessian(x, probabilities, weights)
    np.testing.assert_allclose(hessian, expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())


def test_separable_fit_stops_once_the_loss_is_determined(rng):
    """The gradient of a separable fit shrinks only as fast as its loss: the probe stops
    on the loss bound, in a few dozen Newton steps (it used to run 1,000)."""
    x, labels = _separable(rng)
    # Intercept last: no discriminant warm start, so Newton starts from zero.
    features = np.column_stack([x, np.ones(labels.size)])
    fit = linear_probes.fit_multinomial_logistic(features, labels, 3)
    loss_tol = 1e-6 * np.log(3)
    assert fit.converged and fit.n_iter < 40
    assert fit.log_loss <= fit.loss_error <= loss_tol


def test_discriminant_start_lands_next_to_the_optimum(rng):
    labels = rng.integers(0, 5, 4000)
    x = labels[:, None] * [0.3, -0.2] + rng.standard_normal((4000, 2))
    features = np.column_stack([np.ones(4000), x])
    fit = linear_probes.fit_multinomial_logistic(features, labels, 5)
    problem = linear_probes._Problem(
        features, labels, np.full(4000, 1 / 4000), 4, np.zeros(4000), None, None
    )
    start = linear_probes._discriminant_start(problem, 5)
    assert linear_probes._evaluate(start, problem).mean_loss - fit.log_loss < 1e-2
    assert fit.converged and fit.n_iter <= 4


def test_stopping_extrapolates_a_linearly_converging_loss():
    """Losses 1 + 2^-k: twice what is left is reported once two full steps are seen."""

    def evaluation(k):
        loss = 1.0 + 0.5**k
        return linear_probes._Evaluation(loss, np.zeros(1), loss)

    stopping = linear_probes._Stopping(loss_tol=1e-3, mean_per_weighted=1.0)
    assert not stopping.start(evaluation(0)) and stopping.error == 2.0  # the loss bound
    assert not stopping.step(evaluation(0), evaluation(1), full_step=True)
    for k in range(2, 12):
        determined = stopping.step(evaluation(k - 1), evaluation(k), full_step=True)
        assert stopping.error == pytest.approx(2 * 0.5**k)
        assert determined == (2 * 0.5**k <= 1e-3)
    # A damped step forgets the rate.
    assert not stopping.step(evaluation(12), evaluation(13), full_step=False)


def test_work_budget_bounds_a_fit(rng):
    """Many classes, nearly one row each: stopped by the budget, and says so."""
    x = rng.standard_normal((600, 3))
    labels = np.arange(600) % 300
    features = np.column_stack([np.ones(600), x])
    fit = linear_probes.fit_multinomial_logistic(features, labels, 300, work_budget=1e8)
    assert not fit.converged and fit.n_iter < 50


def test_fit_starting_at_the_optimum_stops_at_float_precision():
    """Pure noise: the discriminant start is the optimum to about 1e-10, after which no
    step can show a decrease in float64; the fit must stop, not crawl to max_iter."""
    rng = np.random.default_rng(12345)
    labels = rng.integers(0, 3, 4000)
    x = rng.standard_normal((4000, 3))
    features = np.column_stack([np.ones(4000), (x - x.mean(0)) / x.std(0)])
    fit = linear_probes.fit_multinomial_logistic(features, labels, 3)
    assert fit.converged and fit.n_iter <= 3
    reference = LogisticRegression(
        C=np.inf, class_weight="balanced", solver="newton-cg", tol=1e-10, max_iter=1000
    ).fit(features[:, 1:], labels)
    expected = log_loss(labels, reference.predict_proba(features[:, 1:]))
    assert fit.log_loss == pytest.approx(expected, abs=1e-9)
