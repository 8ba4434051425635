"""scikit-learn's GradientBoostingClassifier with each stage's class trees fitted in threads.

DCI's default model (disentanglement_lib's) is ``GradientBoostingClassifier()``: per stage
one regression tree per class, all fitted to the negative gradient of the same stage, so
the trees of one stage are independent of each other. scikit-learn fits them one after
another; here they are handed to a thread pool, which the fits of all of DCI's sources
share, so a source with many classes no longer keeps one core busy while the others idle.
The trees are compiled (:mod:`infomec.gbt.regression_tree`: scikit-learn's tree on
features sorted once for the whole fit) and release the GIL, as do the leaf updates.

The result is the one scikit-learn computes, bit for bit, for the same ``random_state``,
and the fit checks this as it goes rather than trusting one scikit-learn version:

- stage 0 runs scikit-learn's own loop; its trees' ``get_params()`` are the tree
  settings every later stage uses (they differ between versions: ``friedman_mse`` up
  to scikit-learn 1.8, ``squared_error`` from 1.9);
- stage 1 is fitted both ways, threaded on copies first; if the trees, the updated raw
  predictions or the random state differ in any bit, the fit stays on scikit-learn's
  loop to the end (an exact result, just not a threaded one);
- in that threaded trial each tree is fitted by scikit-learn and compiled, and later
  stages use the compiled trees only if every array of every tree agreed (structure,
  thresholds, values, impurities, sample counts); settings the compiled tree does not
  cover (``friedman_mse``, weights, ...) keep scikit-learn's trees, threaded;
- scikit-learn hands every tree the same ``RandomState``, and each tree draws exactly one
  integer from it (its splitter's seed). Here the stage draws those integers from the
  shared state in tree order, and tree ``k`` gets a random state that hands out the
  ``k``-th once (:class:`_OneDraw`), or the compiled tree gets it as its seed; a second
  draw, other arguments or any other use of it make :func:`fit_gradient_boosting` refit
  with the plain estimator and warn once;
- the leaf values (the Newton step after each tree) are scikit-learn's arithmetic
  compiled without the GIL (:mod:`infomec.gbt.leaf_update`), used once every tree
  of stage 1 has given scikit-learn's bits with it; where scikit-learn would warn or
  raise there, its own function updates the tree instead;
- a version whose private stage interface differs from the one used here
  (``_fit_stage``'s arguments, ``_update_terminal_regions``) gets the plain estimator.

Only the defaults DCI uses take the threaded path (no subsampling, dense input); anything
else goes through scikit-learn's own stage loop.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable
from concurrent.futures import Executor
from functools import cache
from typing import Any

import numpy as np

from infomec._validation import warn
from infomec.gbt.leaf_update import UPDATED, newton_leaf_update
from infomec.gbt.regression_tree import Presorted, fit_regression_tree, presort
from infomec.interrupts import check_stop

__all__ = ["fit_gradient_boosting"]

# The arguments of GradientBoostingClassifier._fit_stage this module was written against.
_STAGE_PARAMETERS = (
    "self", "i", "X", "y", "raw_predictions", "sample_weight", "sample_mask",
    "random_state", "X_csc", "X_csr",
)  # fmt: skip
# Fewer training rows than this and no compiled trees: scikit-learn's serial loop. Its
# small trees take about as long as handing them to a thread (on 2 cores, 5 classes:
# 1.07x faster threaded at 1,000 rows, 1.24x at 2,000, 1.4x at 4,000; half as fast at
# 500). Compiled trees pay at any size (benchmarks/results/bench_trees.md: 2x to 4x
# faster than scikit-learn's fit at 250 to 2,000 rows, on one thread or two).
_MIN_THREADED_ROWS = 2000
# The upper bound of the integer a tree's splitter draws (scikit-learn's RAND_R_MAX).
_SPLITTER_SEED_BOUND = 0x7FFFFFFF


class _UnexpectedDraws(RuntimeError):
    """A tree consumed its random state differently from one draw."""


class _OneDraw(np.random.RandomState):
    """A tree's random state: the one integer scikit-learn's shared state would give it.

    Its own generator (``generator``, shared by a stage's trees) must stay untouched:
    every other method draws from it, and the stage checks its state afterwards.
    """

    def __init__(self, draw: int, generator: np.random.BitGenerator) -> None:
        super().__init__(generator)
        self._draw: int | None = draw

    def randint(self, low, high=None, size=None, dtype=int):
        if self._draw is None or (low, high, size) != (0, _SPLITTER_SEED_BOUND, None):
            raise _UnexpectedDraws
        draw, self._draw = self._draw, None
        return draw

    @property
    def drawn(self) -> bool:
        return self._draw is None


def _state_copy(random_state: np.random.RandomState) -> np.random.RandomState:
    copy = np.random.RandomState()
    copy.set_state(random_state.get_state())
    return copy


def _same_tree(first, second, *, every_array: bool = False) -> bool:
    """Whether two fitted regression trees are identical (structure and node values).

    With ``every_array``, also the impurities and sample counts (feature importances).
    """
    first, second = first.tree_, second.tree_
    names = ["children_left", "children_right", "feature", "threshold", "value"]
    if every_array:
        names += ["impurity", "n_node_samples", "weighted_n_node_samples"]
        if (first.node_count, first.max_depth) != (second.node_count, second.max_depth):
            return False
    return all(np.array_equal(getattr(first, name), getattr(second, name)) for name in names)


# The tree settings the compiled tree reproduces, and their only supported values (the
# rest are checked in _compiled_tree_applies).
_COMPILED_TREE_SETTINGS = {
    "criterion": "squared_error", "splitter": "best", "max_features": None,
    "max_leaf_nodes": None, "min_weight_fraction_leaf": 0.0, "ccp_alpha": 0.0,
    "monotonic_cst": None, "class_weight": None,
}  # fmt: skip
_COMPILED_TREE_MAX_DEPTH = 30


def _compiled_tree_applies(settings: dict, X: np.ndarray, sample_weight) -> bool:
    """Whether :func:`fit_regression_tree` covers these trees' settings and input."""

    def integer(value) -> bool:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)

    counts = ("max_depth", "min_samples_split", "min_samples_leaf", "min_impurity_decrease")
    if set(settings) - set(_COMPILED_TREE_SETTINGS) - set(counts):
        return False  # a setting this module does not know
    return (
        all(settings.get(name, value) == value for name, value in _COMPILED_TREE_SETTINGS.items())
        and integer(settings["max_depth"])
        and 1 <= settings["max_depth"] <= _COMPILED_TREE_MAX_DEPTH
        and integer(settings["min_samples_split"])
        and integer(settings["min_samples_leaf"])
        and isinstance(X, np.ndarray)
        and X.dtype == np.float32
        and X.ndim == 2
        and (sample_weight is None or bool(np.all(sample_weight == 1.0)))
    )


def _as_regressor(tree_arrays: tuple, settings: dict, random_state, n_features: int) -> Any:
    """A fitted ``DecisionTreeRegressor`` holding :func:`fit_regression_tree`'s tree."""
    from sklearn.tree import DecisionTreeRegressor
    from sklearn.tree._tree import NODE_DTYPE, Tree

    node_count, depth, *columns, value = tree_arrays
    nodes = np.empty(node_count, dtype=NODE_DTYPE)
    for name, column in zip(NODE_DTYPE.names, columns, strict=True):
        nodes[name] = column
    tree = Tree(n_features, np.ones(1, dtype=np.intp), 1)
    tree.__setstate__(
        {"max_depth": depth, "node_count": node_count, "nodes": nodes,
         "values": value.reshape(-1, 1, 1)}
    )  # fmt: skip
    regressor = DecisionTreeRegressor(**settings, random_state=random_state)
    regressor.n_features_in_, regressor.n_outputs_ = n_features, 1
    regressor.max_features_, regressor.tree_ = n_features, tree
    return regressor


def _same_state(first: dict, second: dict) -> bool:
    """Whether two MT19937 states (``BitGenerator.state`` dicts) are the same.

    A ``RandomState``'s is ``get_state(legacy=False)``.
    """
    first, second = first["state"], second["state"]
    return first["pos"] == second["pos"] and np.array_equal(first["key"], second["key"])


@cache
def _threaded_class() -> type | None:
    """The threaded subclass, or None where this scikit-learn's stage interface differs."""
    from sklearn.ensemble import GradientBoostingClassifier

    try:
        from sklearn._loss.loss import HalfBinomialLoss, HalfMultinomialLoss
        from sklearn.ensemble._gb import _update_terminal_regions
        from sklearn.tree import DecisionTreeRegressor
        from sklearn.tree._tree import TREE_LEAF
    except ImportError:
        return None
    parameters = tuple(inspect.signature(GradientBoostingClassifier._fit_stage).parameters)
    if parameters != _STAGE_PARAMETERS:
        return None

    def newton_factor(loss) -> float | None:
        """The leaf update's factor (:mod:`infomec.gbt.leaf_update`), or None.

        None for another loss, whose leaves scikit-learn's own function updates.
        """
        if type(loss) is HalfMultinomialLoss:
            return (loss.n_classes - 1) / loss.n_classes
        if type(loss) is HalfBinomialLoss:
            return 1.0
        return None

    class ThreadedGradientBoostingClassifier(GradientBoostingClassifier):
        # Set after construction (not __init__ arguments, which scikit-learn would
        # validate as hyper-parameters). threaded, compiled_leaves: None until stage 1
        # has been checked (the compiled leaf update against scikit-learn's, tree by tree).
        tree_pool: Executor | None = None
        threaded: bool | None = None
        compiled_leaves: bool | None = None
        compiled_trees: bool | None = None
        # presort(X) for the compiled trees, during the fit (None where they do not apply).
        presorted: Presorted | None = None

        def _fit_stage(
            self, i, X, y, raw_predictions, sample_weight, sample_mask, random_state,
            X_csc=None, X_csr=None,
        ):  # fmt: skip
            def plain():
                return super(ThreadedGradientBoostingClassifier, self)._fit_stage(
                    i, X, y, raw_predictions, sample_weight, sample_mask, random_state,
                    X_csc=X_csc, X_csr=X_csr,
                )  # fmt: skip

            check_stop()  # every stage: Ctrl-C reaches fits running in worker threads
            if (
                i == 0
                or self.tree_pool is None
                or self.threaded is False
                or self.subsample < 1.0
                or X_csc is not None
            ):
                return plain()
            arguments = (X, y, sample_weight, sample_mask)
            if self.threaded:
                trees, _ = self._threaded_stage(*arguments, raw_predictions, random_state)
                for k, tree in enumerate(trees):
                    self.estimators_[i, k] = tree
                return raw_predictions
            # Stage 1: threaded on copies, then scikit-learn's own; go on threaded only
            # if the two agree in every bit.
            settings = self.estimators_[0, 0].get_params()
            del settings["random_state"]
            if _compiled_tree_applies(settings, X, sample_weight):
                self.presorted = presort(X)
            else:
                self.compiled_trees = False
                if X.shape[0] < _MIN_THREADED_ROWS:
                    self.threaded = False
                    return plain()
            trial_predictions, trial_state = raw_predictions.copy(), _state_copy(random_state)
            try:
                trees, compiled_agrees = self._threaded_stage(
                    *arguments, trial_predictions, trial_state
                )
            except (_UnexpectedDraws, TypeError, ValueError, AttributeError):
                trees, compiled_agrees = None, False
            raw_predictions = plain()
            self.threaded = (
                trees is not None
                and np.array_equal(trial_predictions, raw_predictions)
                and _same_state(
                    trial_state.get_state(legacy=False), random_state.get_state(legacy=False)
                )
                and all(map(_same_tree, trees, self.estimators_[i]))
            )
            self.compiled_leaves = self.threaded and compiled_agrees
            self.compiled_trees = bool(self.threaded and self.compiled_trees)
            if not self.compiled_trees:
                self.presorted = None
            return raw_predictions

        def _threaded_stage(
            self, X, y, sample_weight, sample_mask, raw_predictions, random_state
        ) -> tuple[list, bool]:
            """One stage's trees, fitted in the pool; updates ``raw_predictions``.

            Also returns whether the compiled leaf update was used (or, in stage 1,
            agreed with scikit-learn's on every tree).
            """
            negative_gradient = -self._loss.gradient(
                y_true=y, raw_prediction=raw_predictions, sample_weight=None
            )
            if negative_gradient.ndim == 1:
                negative_gradient = negative_gradient.reshape(-1, 1)
            n_trees = self.n_trees_per_iteration_
            # scikit-learn's own settings for this fit's trees (stage 0 ran its loop).
            settings = self.estimators_[0, 0].get_params()
            del settings["random_state"]
            factor = newton_factor(self._loss)
            # The splitter seeds scikit-learn's trees would draw, in tree order.
            draws = [random_state.randint(0, _SPLITTER_SEED_BOUND) for _ in range(n_trees)]
            generator = np.random.MT19937(0)
            untouched = generator.state

            def fit_tree(k: int):
                check_stop()
                target = (y == k).astype(np.float64) if self._loss.is_multiclass else y
                tree, trees_agree = self._fit_tree(
                    X, negative_gradient[:, k], sample_weight, settings, draws[k],
                    generator, random_state,
                )  # fmt: skip
                # Adds this tree's leaf values to column k of raw_predictions: the trees
                # of a stage write disjoint columns.
                leaves_compiled = self._update_leaves(
                    tree.tree_, X, target, negative_gradient[:, k], sample_weight,
                    sample_mask, raw_predictions, k, factor,
                )  # fmt: skip
                return tree, leaves_compiled, trees_agree

            fitted = list(self.tree_pool.map(fit_tree, range(n_trees)))
            if not _same_state(generator.state, untouched):
                raise _UnexpectedDraws
            if self.compiled_trees is None:
                self.compiled_trees = all(agree for _, _, agree in fitted)
            return [tree for tree, _, _ in fitted], all(compiled for _, compiled, _ in fitted)

        def _fit_tree(
            self, X, gradient, sample_weight, settings, draw, generator, random_state
        ) -> tuple[Any, bool]:
            """One regression tree of a stage: compiled, or scikit-learn's.

            The compiled tree (:mod:`infomec.gbt.regression_tree`) once stage 1
            has shown it to agree; until then (stage 1) both, returning scikit-learn's
            and whether the two agree in every array.
            """
            if self.compiled_trees:
                return self._compiled_tree(X, gradient, settings, draw, random_state), True
            tree_state = _OneDraw(draw, generator)
            tree = DecisionTreeRegressor(**settings, random_state=tree_state)
            tree.fit(X, gradient, sample_weight=sample_weight, check_input=False)
            if not tree_state.drawn:
                raise _UnexpectedDraws
            trees_agree = False
            if self.compiled_trees is None and self.presorted is not None:
                # Any failure (another scikit-learn's Tree layout, say) only means the
                # compiled trees are not used.
                try:
                    compiled = self._compiled_tree(X, gradient, settings, draw, random_state)
                    trees_agree = _same_tree(tree, compiled, every_array=True)
                except Exception:  # noqa: BLE001
                    trees_agree = False
            return tree, trees_agree

        def _compiled_tree(self, X, gradient, settings, draw, random_state):
            tree_arrays = fit_regression_tree(
                *self.presorted, np.ascontiguousarray(gradient, dtype=np.float64), draw,
                settings["max_depth"],
                max(settings["min_samples_split"], 2 * settings["min_samples_leaf"]),
                settings["min_samples_leaf"], float(settings["min_impurity_decrease"]),
            )  # fmt: skip
            return _as_regressor(tree_arrays, settings, random_state, X.shape[1])

        def _update_leaves(
            self, tree_, X, target, gradient, sample_weight, sample_mask, raw_predictions, k,
            factor,
        ) -> bool:  # fmt: skip
            """A tree's Newton leaf values, added to column ``k`` of ``raw_predictions``.

            Compiled once stage 1 has shown it to agree; scikit-learn's function
            otherwise (and in stage 1, which compares the two: returns whether they
            agreed). Returns whether the compiled update was used or agreed.
            """

            def compiled_update(leaf_values, predictions, column) -> int:
                return newton_leaf_update(
                    tree_.apply(X), gradient, target, sample_weight, factor,
                    tree_.children_left == TREE_LEAF, leaf_values, predictions, column,
                    self.learning_rate,
                )  # fmt: skip

            def scikit_learns_update() -> None:
                _update_terminal_regions(
                    self._loss, tree_, X, target, gradient, raw_predictions, sample_weight,
                    sample_mask, learning_rate=self.learning_rate, k=k,
                )  # fmt: skip

            if factor is None or self.compiled_leaves is False:
                scikit_learns_update()
                return False
            if self.compiled_leaves:
                if compiled_update(tree_.value[:, 0, 0], raw_predictions, k) != UPDATED:
                    scikit_learns_update()  # it warns or raises there
                return True
            # Stage 1: the compiled update on copies, then scikit-learn's for real.
            leaf_values, column = tree_.value[:, 0, 0].copy(), raw_predictions[:, [k]]
            status = compiled_update(leaf_values, column, 0)
            scikit_learns_update()
            return (
                status == UPDATED
                and np.array_equal(leaf_values, tree_.value[:, 0, 0])
                and np.array_equal(column[:, 0], raw_predictions[:, k])
            )

    return ThreadedGradientBoostingClassifier


@cache
def _warn_unexpected_draws() -> None:
    warn(
        "this scikit-learn version seeds its trees differently from what DCI's threaded "
        "gradient boosting expects; its sources fall back to scikit-learn's serial fit"
    )


def fit_gradient_boosting(
    x: np.ndarray, y: np.ndarray, *, seed: int, tree_pool: Executor | None = None
) -> Any:
    """``GradientBoostingClassifier(random_state=seed).fit(x, y)``, trees in ``tree_pool``.

    Parameters
    ----------
    x : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Class labels.
    seed : int
        ``random_state`` of the classifier.
    tree_pool : concurrent.futures.Executor, optional
        Threads fitting each stage's per-class trees (compiled), which concurrent fits
        may share. Without one, scikit-learn's own loop; so too where the compiled trees
        do not apply and there are fewer than 2,000 rows (threads alone do not pay).

    Returns
    -------
    sklearn.ensemble.GradientBoostingClassifier
        Fitted; identical to scikit-learn's with the same seed.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> from sklearn.ensemble import GradientBoostingClassifier
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.standard_normal((2000, 3)), rng.integers(0, 3, 2000)
    >>> with ThreadPoolExecutor(2) as pool:
    ...     threaded = fit_gradient_boosting(x, y, seed=0, tree_pool=pool)
    >>> plain = GradientBoostingClassifier(random_state=0).fit(x, y)
    >>> bool((threaded.feature_importances_ == plain.feature_importances_).all())
    True
    """
    from sklearn.ensemble import GradientBoostingClassifier

    threaded: Callable[..., Any] | None = None
    if tree_pool is not None:
        threaded = _threaded_class()
    if threaded is not None:
        classifier = threaded(random_state=seed)
        classifier.tree_pool = tree_pool
        try:
            classifier.fit(x, y)
        except _UnexpectedDraws:
            _warn_unexpected_draws()
        else:
            return classifier
        finally:
            # The fitted model holds no executor and no sorted copy of the data.
            classifier.tree_pool = classifier.presorted = None
    return GradientBoostingClassifier(random_state=seed).fit(x, y)
