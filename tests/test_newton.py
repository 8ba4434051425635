"""The logistic solvers' shared core (infomec.probes.newton)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

from infomec.probes import newton
from infomec.probes.newton import (
    MIN_STEP,
    NewtonLoop,
    backtracking_line_search,
    symmetric_pair_index,
)


def test_line_search_takes_the_full_step_when_it_decreases_enough():
    calls = []

    def evaluate(size):
        calls.append(size)
        return (1.0 - size) ** 2  # f(x) = x^2 from x = 1 along the Newton step -1

    assert backtracking_line_search(evaluate, 1.0, -2.0, float) == (1.0, 0.0, False)
    assert calls == [1.0]


def test_line_search_stalls_only_when_nothing_decreases():
    size, value, stalled = backtracking_line_search(lambda t: 1.0 + t, 1.0, -1.0, float)
    assert stalled and size < MIN_STEP <= 2 * size and value > 1.0
    # Below MIN_STEP but still a decrease (no Armijo decrease): taken, not stalled.
    size, value, stalled = backtracking_line_search(lambda t: 1.0 - 1e-9, 1.0, -1e6, float)
    assert not stalled and size < MIN_STEP and value < 1.0


def test_symmetric_pair_index_matches_triu_indices():
    index = symmetric_pair_index(5)
    rows, columns = np.triu_indices(5)
    assert (index[rows, columns] == np.arange(rows.size)).all()
    assert (index == index.T).all()


class _Quadratic(NewtonLoop):
    """f(x) = (x - target)' A (x - target) / 2, done once the gradient is below 1e-12."""

    def __init__(self, matrix, target, stale=None):
        self.matrix, self.target, self.stale = matrix, target, stale
        self.factorizations = 0

    def evaluate(self, params):
        residual = params - self.target
        return 0.5 * residual @ self.matrix @ residual, self.matrix @ residual

    def loss(self, evaluation):
        return evaluation[0]

    def gradient(self, evaluation):
        return evaluation[1]

    def done(self, evaluation):
        return bool(np.abs(evaluation[1]).max() <= 1e-12)

    def factorize(self, params, evaluation):
        self.factorizations += 1
        return self.matrix

    def direction(self, factor, evaluation):
        return np.linalg.solve(factor, -evaluation[1])


def test_newton_loop_solves_a_quadratic_in_one_step():
    matrix, target = np.array([[2.0, 0.5], [0.5, 1.0]]), np.array([1.0, -2.0])
    outcome = _Quadratic(matrix, target).run(np.zeros(2), max_iter=10)
    assert outcome.done and outcome.n_iter == 1
    np.testing.assert_allclose(outcome.params, target)


def test_newton_loop_refreshes_a_stale_hessian_that_points_uphill():
    matrix, target = np.array([[2.0, 0.5], [0.5, 1.0]]), np.array([1.0, -2.0])
    loop = _Quadratic(matrix, target)
    outcome = loop.run(np.zeros(2), max_iter=10, factor=-matrix)  # a stale, wrong factor
    assert outcome.done and loop.factorizations == 1  # refreshed once, then one step
    np.testing.assert_allclose(outcome.params, target)


def test_both_logistic_solvers_iterate_the_shared_newton_loop():
    probes = Path(newton.__file__).parent
    for name in ("linear_probes.py", "penalized_logistic.py"):
        source = (probes / name).read_text(encoding="utf-8")
        tree = ast.parse(source)
        bases = {
            base.id
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef)
            for base in node.bases
            if isinstance(base, ast.Name)
        }
        called = {
            node.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        assert "NewtonLoop" in bases
        assert {"minimize_lbfgs", "symmetric_pair_index"} <= called
        # no private copy of the line search, the step loop or scipy's minimize call
        assert "size *= 0.5" not in source and "scipy.optimize.minimize(" not in source
        assert "backtracking_line_search" not in source
