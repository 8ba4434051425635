"""The compiled Newton leaf update against scikit-learn's own and numpy's summation."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn._loss.loss import HalfBinomialLoss, HalfMultinomialLoss
from sklearn.ensemble._gb import _update_terminal_regions
from sklearn.tree import DecisionTreeRegressor
from sklearn.tree._tree import TREE_LEAF

from infomec.gbt.leaf_update import (
    EMPTY_LEAF,
    OVERFLOW,
    UPDATED,
    newton_leaf_update,
    pairwise_sum,
)


def test_pairwise_sum_is_numpys_sum_bit_for_bit(rng):
    # Every branch: short runs, one block of eight accumulators (with a tail), halves
    # split at multiples of eight, several levels deep; magnitudes spread so that the
    # order of the additions shows in the last bits.
    for n in [*range(40), 127, 128, 129, 255, 256, 1000, 4099, 10_007]:
        values = rng.standard_normal(n + 3) * 10.0 ** rng.integers(-6, 6, n + 3)
        assert pairwise_sum(values, 3, n) == values[3:].sum(), n


@pytest.mark.parametrize(
    ("loss", "factor"),
    [(HalfMultinomialLoss(n_classes=4), 3 / 4), (HalfBinomialLoss(), 1.0)],
)
def test_newton_leaf_update_is_scikit_learns(rng, loss, factor):
    x = rng.standard_normal((3000, 3)).astype(np.float32)
    target = (rng.random(x.shape[0]) < 0.4).astype(np.float64)
    gradient = target - rng.uniform(0.05, 0.95, x.shape[0])
    weights = rng.uniform(0.5, 2.0, x.shape[0])
    raw = rng.standard_normal((x.shape[0], 4))
    expected_raw = raw.copy()
    tree, expected_tree = (
        DecisionTreeRegressor(max_depth=3, random_state=0).fit(x, gradient) for _ in range(2)
    )
    _update_terminal_regions(
        loss, expected_tree.tree_, x, target, gradient, expected_raw, weights,
        np.ones(x.shape[0], dtype=bool), learning_rate=0.1, k=2,
    )  # fmt: skip
    status = newton_leaf_update(
        tree.tree_.apply(x), gradient, target, weights, factor,
        tree.tree_.children_left == TREE_LEAF, tree.tree_.value[:, 0, 0], raw, 2, 0.1,
    )  # fmt: skip
    assert status == UPDATED
    np.testing.assert_array_equal(tree.tree_.value, expected_tree.tree_.value)
    np.testing.assert_array_equal(raw, expected_raw)


def _one_node_update(gradient, target, is_leaf) -> tuple[int, np.ndarray]:
    raw = np.zeros((gradient.size, 1))
    regions = np.zeros(gradient.size, dtype=np.int64)  # every row in node 0
    status = newton_leaf_update(
        regions, gradient, target, np.ones(gradient.size), 1.0, is_leaf,
        np.zeros(is_leaf.size), raw, 0, 0.1,
    )  # fmt: skip
    return status, raw


def test_where_scikit_learn_warns_or_raises_the_tree_is_left_to_it():
    # A hessian just above scikit-learn's 1e-150 cut-off under a huge gradient: the
    # update overflows (scikit-learn warns).
    status, raw = _one_node_update(
        np.array([-1e-149, 1e200]), np.array([0.0, 1e200]), np.array([True])
    )
    assert status == OVERFLOW
    assert not raw.any()  # untouched: scikit-learn redoes the whole tree
    # A leaf that no row reaches (scikit-learn: the weights sum to zero).
    status, raw = _one_node_update(np.array([0.5]), np.array([1.0]), np.array([True, True]))
    assert status == EMPTY_LEAF
    assert not raw.any()
    # A tiny hessian: a zero update, as scikit-learn's _safe_divide gives.
    status, raw = _one_node_update(np.array([1.0]), np.array([1.0]), np.array([True]))
    assert status == UPDATED
    assert not raw.any()
