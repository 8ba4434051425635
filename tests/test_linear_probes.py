"""The InfoE probe's building blocks against finite differences and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from infomec import linear_probes
from infomec.estimators.multinomial import cross_entropy_residual_in_place, softmax_in_place


def _problem(rng, n_samples: int, n_classes: int, sparse: bool) -> linear_probes._Problem:
    labels = rng.integers(0, n_classes, n_samples)
    if sparse:  # intercept plus dummy-coded codes of two discrete latents
        codes = rng.integers(0, 4, size=(n_samples, 2))
        columns = [np.ones(n_samples)]
        columns += [(codes[:, j] == value).astype(float) for j in range(2) for value in (1, 2, 3)]
        features = scipy.sparse.csr_array(np.column_stack(columns))
    else:
        features = np.column_stack([np.ones(n_samples), rng.standard_normal((n_samples, 3))])
    weights = rng.uniform(0.5, 2.0, n_samples)
    return linear_probes._Problem(features, labels, weights / weights.sum(), n_classes - 1)


def test_row_kernels_match_numpy(rng):
    logits = rng.standard_normal((50, 4)) * 30  # large logits: the shift must be stable
    labels = rng.integers(0, 5, 50)
    weights = rng.uniform(size=50)
    full = np.column_stack([logits, np.zeros(50)])  # the reference class has logit 0
    log_partition = np.log(np.exp(full - full.max(1, keepdims=True)).sum(1)) + full.max(1)
    probabilities = np.exp(full - log_partition[:, None])

    softmaxed = logits.copy()
    np.testing.assert_allclose(softmax_in_place(softmaxed), log_partition, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(softmaxed, probabilities[:, :4], rtol=1e-12, atol=1e-300)

    residual = logits.copy()
    weighted, plain = cross_entropy_residual_in_place(residual, labels, weights)
    row_losses = log_partition - full[np.arange(50), labels]
    assert weighted == pytest.approx(np.dot(weights, row_losses), rel=1e-13)
    assert plain == pytest.approx(row_losses.sum(), rel=1e-13)
    expected = weights[:, None] * (probabilities - np.eye(5)[labels])[:, :4]
    np.testing.assert_allclose(residual, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("sparse", [False, True])
def test_gradient_and_hessian_match_finite_differences(rng, sparse):
    problem = _problem(rng, 300, 4, sparse)
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
    fit = linear_probes.fit_multinomial_logistic(features, labels, 3, balanced=False)
    reference = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(x, labels)
    assert fit.converged and fit.gradient_norm <= 1e-6
    assert fit.log_loss == pytest.approx(log_loss(labels, reference.predict_proba(x)), abs=1e-8)

