"""The logistic solvers' shared core (infomec.probes.newton)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

from infomec.probes import newton
from infomec.probes.newton import MIN_STEP, backtracking_line_search, symmetric_pair_index


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


def test_both_logistic_solvers_use_the_shared_line_search_and_lbfgs():
    probes = Path(newton.__file__).parent
    for name in ("linear_probes.py", "penalized_logistic.py"):
        tree = ast.parse((probes / name).read_text(encoding="utf-8"))
        called = {
            node.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        assert {"backtracking_line_search", "minimize_lbfgs", "symmetric_pair_index"} <= called
        # no private copy of the halving loop or of scipy's minimize call
        source = (probes / name).read_text(encoding="utf-8")
        assert "size *= 0.5" not in source and "scipy.optimize.minimize(" not in source
