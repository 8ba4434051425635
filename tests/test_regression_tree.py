"""The compiled regression tree against scikit-learn's DecisionTreeRegressor, array by array."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.tree import DecisionTreeRegressor

from infomec.gbt.regression_tree import fit_regression_tree, introsort, presort

_SEED_BOUND = 0x7FFFFFFF  # the splitter's draw: random_state.randint(0, 2**31 - 1)
_ARRAYS = (
    "children_left", "children_right", "feature", "threshold", "impurity",
    "n_node_samples", "weighted_n_node_samples",
)  # fmt: skip


def _features(rng, kind: str, n_rows: int) -> np.ndarray:
    x = rng.standard_normal((n_rows, 6))
    if kind == "few levels":  # ties everywhere: the replayed sort at every node
        x = np.round(x, 1)
    elif kind == "twins":  # two identical columns: ties between features
        x[:, 3] = x[:, 1]
    elif kind == "tied twins":  # ... with tied values: the twins' sums differ by order only
        x[:, 1] = np.round(x[:, 1], 2)
        x[:, 3] = x[:, 1]
    elif kind == "constant":  # features found constant, carried down the tree
        x[:, 2] = 0.0
        x[:, 4] = np.round(x[:, 4])
    elif kind == "close values":  # distinct, yet closer than scikit-learn's 1e-7
        x[:, 0] = 1.0 + 1e-8 * rng.integers(0, 3, n_rows)
    elif kind == "neighbours":  # float32 values one ulp (1.2e-7) apart: equal to scikit-learn
        x[:, 0] = 1.0 + np.float32(2.0**-23) * rng.integers(0, 6, n_rows)
        x[:, 1] = np.float32(1.5) + np.float32(2.0**-23) * rng.integers(0, 600, n_rows)
    elif kind == "pairs":  # continuous values, a few tied pairs (float32 collisions)
        tied = rng.choice(n_rows, size=(60, 2), replace=False)
        columns = rng.integers(0, x.shape[1], 60)
        x[tied[:, 1], columns] = x[tied[:, 0], columns]
        x[tied[:20, 1]] = x[tied[:20, 0]]  # and some rows tied in every feature
    elif kind == "signed zeros":  # 0.0 and -0.0 tie; a zero threshold keeps its sign
        x[:, 1] = np.where(rng.random(n_rows) < 0.3, x[:, 1], 0.0)
        x[rng.random(n_rows) < 0.5, 1] *= -1.0
    return x.astype(np.float32)


def _assert_same_tree(x, y, seed, **settings):
    expected = DecisionTreeRegressor(random_state=np.random.RandomState(seed), **settings)
    expected = expected.fit(x, y, sample_weight=np.ones(len(y)), check_input=False).tree_
    min_samples_split = max(settings.get("min_samples_split", 2), 2 * settings["min_samples_leaf"])
    (count, depth, *arrays, _, value) = fit_regression_tree(
        *presort(x), y, np.random.RandomState(seed).randint(0, _SEED_BOUND),
        settings["max_depth"], min_samples_split, settings["min_samples_leaf"],
        settings["min_impurity_decrease"],
    )  # fmt: skip
    assert (count, depth) == (expected.node_count, expected.max_depth)
    for name, array in zip(_ARRAYS, arrays, strict=False):
        np.testing.assert_array_equal(array, getattr(expected, name), err_msg=name)
    np.testing.assert_array_equal(value, expected.value[:, 0, 0])


@pytest.mark.parametrize(
    "kind",
    [
        "distinct",
        "few levels",
        "twins",
        "tied twins",
        "constant",
        "close values",
        "neighbours",
        "pairs",
        "signed zeros",
    ],
)
@pytest.mark.parametrize(
    "settings",
    [
        {"max_depth": 3, "min_samples_leaf": 1, "min_impurity_decrease": 0.0},
        {"max_depth": 7, "min_samples_leaf": 4, "min_impurity_decrease": 0.0},
        {"max_depth": 5, "min_samples_leaf": 1, "min_impurity_decrease": 1e-3},
    ],
)
def test_the_tree_is_scikit_learns_in_every_array(rng, kind, settings):
    for seed in range(4):
        x = _features(rng, kind, 700)
        y = np.sin(3 * x[:, 0]) + (x[:, 1] > 0) + 0.3 * rng.standard_normal(len(x))
        if seed == 3:
            y = np.round(y)  # equal targets: exact ties between candidate splits
        _assert_same_tree(x, y.astype(np.float64), seed, **settings)


def test_tied_rows_whose_order_changes_the_sums_follow_scikit_learns_sort(rng):
    # Twin features with tied values, and targets of very different sizes: summing the
    # tied rows in another order than scikit-learn's sort leaves them in changes the
    # proxy improvements in their last bits, which decides between the twins. (Reading
    # tied rows in presorted order without checking gives other trees for several of
    # these seeds.)
    for seed in range(40):
        x = rng.standard_normal((700, 6))
        x[:, 1] = np.round(x[:, 1], 1)
        x[:, 3] = x[:, 1]
        x = x.astype(np.float32)
        scale = rng.choice([1e6, 1.0, 1e-6], 700)
        y = rng.standard_normal(700) * scale + 3.0 * (x[:, 1] > 0.3)
        _assert_same_tree(x, y, seed, max_depth=5, min_samples_leaf=1, min_impurity_decrease=0.0)


def test_a_pure_node_is_a_leaf_and_one_row_trees_work():
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    _assert_same_tree(x, np.ones(3), 0, max_depth=3, min_samples_leaf=1, min_impurity_decrease=0.0)
    _assert_same_tree(
        x[:1], np.ones(1), 0, max_depth=3, min_samples_leaf=1, min_impurity_decrease=0.0
    )


@pytest.mark.parametrize("n", [0, 1, 15, 16, 17, 100, 5000])
@pytest.mark.parametrize("levels", [3, 40, None])
def test_introsort_leaves_ties_where_scikit_learns_sort_does(rng, n, levels):
    sorting = pytest.importorskip("sklearn.utils._sorting")
    values = rng.standard_normal(n) if levels is None else rng.integers(0, levels, n)
    values = values.astype(np.float32)
    rows = rng.permutation(n).astype(np.intp)
    expected_values, expected_rows = values.copy(), rows.copy()
    sorting._py_simultaneous_sort(expected_values, expected_rows, n, use_three_way_partition=True)
    padded_values = np.concatenate([[9.0], values, [-9.0]]).astype(np.float32)
    padded_rows = np.concatenate([[-1], rows, [-2]]).astype(np.int64)
    introsort(padded_values, padded_rows, 1, n)  # a slice: the rest stays put
    np.testing.assert_array_equal(padded_rows[1:-1], expected_rows)
    np.testing.assert_array_equal(padded_values[1:-1], expected_values)
    assert (padded_rows[0], padded_rows[-1]) == (-1, -2)


def test_introsort_falls_back_to_heap_sort_as_scikit_learn_does():
    # An organ pipe (0, 1, ..., 2047, 2047, ..., 0: every value twice) defeats the
    # median-of-three pivot: each partition peels off a pair, the depth limit is reached
    # within the first 24 levels and heap sort finishes, with its own order of ties.
    sorting = pytest.importorskip("sklearn.utils._sorting")
    half = np.arange(2048, dtype=np.float32)
    values = np.concatenate([half, half[::-1]])
    rows = np.arange(values.size, dtype=np.intp)
    expected_values, expected_rows = values.copy(), rows.copy()
    sorting._py_simultaneous_sort(
        expected_values, expected_rows, values.size, use_three_way_partition=True
    )
    ours = rows.astype(np.int64)
    introsort(values, ours, 0, values.size)
    np.testing.assert_array_equal(ours, expected_rows)
    np.testing.assert_array_equal(values, expected_values)
