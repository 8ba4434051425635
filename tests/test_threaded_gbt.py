"""DCI's threaded gradient boosting against scikit-learn's own GradientBoostingClassifier."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier

import infomec
from infomec.gbt import boosting as threaded_module
from infomec.gbt.boosting import fit_gradient_boosting
from infomec.gbt.leaf_update import OVERFLOW


def _data(rng, n_rows: int, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.integers(0, n_classes, n_rows)
    x = rng.standard_normal((n_rows, 3))
    x[:, 0] += 0.7 * labels
    # A duplicated column: the two tie at every split, and the seed decides between them.
    return np.column_stack([x, x[:, 0]]), labels


def _assert_same_model(first, second, x: np.ndarray) -> None:
    np.testing.assert_array_equal(first.feature_importances_, second.feature_importances_)
    np.testing.assert_array_equal(first.predict_proba(x), second.predict_proba(x))
    assert first.estimators_.shape == second.estimators_.shape


@pytest.fixture(autouse=True)
def threads_on_small_data(monkeypatch):
    """Thread the trees of the small samples here even without compiled trees."""
    monkeypatch.setattr(threaded_module, "_MIN_THREADED_ROWS", 0)


@pytest.fixture
def pool():
    with ThreadPoolExecutor(2) as executor:
        yield executor


@pytest.fixture
def fresh_caches():
    """The interface check and the warning are cached per process: start and end clean."""
    threaded_module._threaded_class.cache_clear()
    threaded_module._warn_unexpected_draws.cache_clear()
    yield
    threaded_module._threaded_class.cache_clear()
    threaded_module._warn_unexpected_draws.cache_clear()


@pytest.mark.parametrize(("n_classes", "n_threads"), [(2, 2), (4, 2), (6, 3)])
def test_threaded_fit_is_scikit_learns_bit_for_bit(rng, n_classes, n_threads):
    x, labels = _data(rng, 240, n_classes)
    with ThreadPoolExecutor(n_threads) as pool:
        threaded = fit_gradient_boosting(x, labels, seed=5, tree_pool=pool)
        other = fit_gradient_boosting(x, labels, seed=6, tree_pool=pool)
    assert threaded.threaded  # stage 1 agreed with scikit-learn: the rest ran in threads
    assert threaded.compiled_leaves  # ... with the compiled leaf update
    assert threaded.compiled_trees  # ... and the compiled trees
    assert threaded.presorted is None  # the fitted model keeps no sorted copy of x
    _assert_same_model(threaded, GradientBoostingClassifier(random_state=5).fit(x, labels), x)
    # The duplicated column really is a tie the seed breaks: another seed splits the
    # importance between the twins differently.
    assert not np.array_equal(threaded.feature_importances_, other.feature_importances_)
    assert threaded.tree_pool is None  # the fitted model keeps no executor


def test_no_pool_or_few_rows_without_compiled_trees_is_scikit_learns_loop(rng, monkeypatch, pool):
    x, labels = _data(rng, 120, 3)
    assert type(fit_gradient_boosting(x, labels, seed=0)) is GradientBoostingClassifier
    # Compiled trees pay at any size ...
    monkeypatch.setattr(threaded_module, "_MIN_THREADED_ROWS", 121)
    model = fit_gradient_boosting(x, labels, seed=0, tree_pool=pool)
    assert model.threaded and model.compiled_trees
    # ... threads alone only from _MIN_THREADED_ROWS rows.
    settings = dict(threaded_module._COMPILED_TREE_SETTINGS, criterion="absolute_error")
    monkeypatch.setattr(threaded_module, "_COMPILED_TREE_SETTINGS", settings)
    model = fit_gradient_boosting(x, labels, seed=0, tree_pool=pool)
    assert model.threaded is False
    _assert_same_model(model, GradientBoostingClassifier(random_state=0).fit(x, labels), x)


def test_a_stage_that_disagrees_with_scikit_learn_keeps_its_loop(rng, monkeypatch, pool):
    # Stage 1 is fitted both ways; any difference and the fit stays on scikit-learn's
    # own loop (exact, not threaded), without a warning.
    x, labels = _data(rng, 120, 3)
    monkeypatch.setattr(threaded_module, "_same_tree", lambda first, second, **_: False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = fit_gradient_boosting(x, labels, seed=1, tree_pool=pool)
    assert model.threaded is False
    _assert_same_model(model, GradientBoostingClassifier(random_state=1).fit(x, labels), x)


def test_unexpected_random_draws_after_the_check_refit_serially(
    rng, monkeypatch, fresh_caches, pool
):
    x, labels = _data(rng, 120, 3)
    calls = []

    same_state = threaded_module._same_state

    def drifting(first, second):  # right through stage 1's two checks, then wrong
        calls.append(None)
        return same_state(first, second) if len(calls) <= 2 else False

    monkeypatch.setattr(threaded_module, "_same_state", drifting)
    with pytest.warns(infomec.InfoMECWarning, match="seeds its trees differently"):
        model = fit_gradient_boosting(x, labels, seed=1, tree_pool=pool)
    assert type(model) is GradientBoostingClassifier
    _assert_same_model(model, GradientBoostingClassifier(random_state=1).fit(x, labels), x)


def test_a_trees_random_state_gives_one_draw_and_nothing_else():
    bound = threaded_module._SPLITTER_SEED_BOUND
    generator = np.random.MT19937(0)
    before = generator.state
    state = threaded_module._OneDraw(123, generator)
    with pytest.raises(threaded_module._UnexpectedDraws):
        state.randint(0, 10)  # not the splitter's draw
    assert not state.drawn
    assert state.randint(0, bound) == 123
    assert state.drawn
    with pytest.raises(threaded_module._UnexpectedDraws):
        state.randint(0, bound)  # a second draw
    assert threaded_module._same_state(generator.state, before)
    state.random_sample()  # any other use draws from the stage's generator: detected
    assert not threaded_module._same_state(generator.state, before)


def test_leaf_updates_scikit_learn_would_warn_about_go_to_its_own_function(rng, monkeypatch, pool):
    x, labels = _data(rng, 240, 4)
    compiled_update, calls = threaded_module.newton_leaf_update, []

    def overflowing(*arguments):  # right through stage 1 (4 trees), then "overflows"
        calls.append(None)
        return compiled_update(*arguments) if len(calls) <= 4 else OVERFLOW

    monkeypatch.setattr(threaded_module, "newton_leaf_update", overflowing)
    model = fit_gradient_boosting(x, labels, seed=3, tree_pool=pool)
    assert model.threaded and model.compiled_leaves
    assert len(calls) > 4
    _assert_same_model(model, GradientBoostingClassifier(random_state=3).fit(x, labels), x)


def test_a_compiled_leaf_update_that_disagrees_is_not_used(rng, monkeypatch, pool):
    x, labels = _data(rng, 240, 4)
    compiled_update = threaded_module.newton_leaf_update

    def off_by_one(*arguments):
        status = compiled_update(*arguments)
        arguments[6][:] += 1.0  # the leaf values
        return status

    monkeypatch.setattr(threaded_module, "newton_leaf_update", off_by_one)
    model = fit_gradient_boosting(x, labels, seed=3, tree_pool=pool)
    assert model.threaded and model.compiled_leaves is False
    _assert_same_model(model, GradientBoostingClassifier(random_state=3).fit(x, labels), x)


def test_another_stage_interface_gets_the_plain_estimator(rng, monkeypatch, fresh_caches, pool):
    monkeypatch.setattr(threaded_module, "_STAGE_PARAMETERS", ("self", "i"))
    assert threaded_module._threaded_class() is None
    x, labels = _data(rng, 120, 3)
    model = fit_gradient_boosting(x, labels, seed=0, tree_pool=pool)
    assert type(model) is GradientBoostingClassifier


def test_compiled_trees_that_disagree_leave_scikit_learns_trees_threaded(rng, monkeypatch, pool):
    x, labels = _data(rng, 240, 3)
    compiled_tree = threaded_module.fit_regression_tree

    def shifted(*arguments):
        *head, value = compiled_tree(*arguments)
        return (*head, value + 1e-12)

    monkeypatch.setattr(threaded_module, "fit_regression_tree", shifted)
    model = fit_gradient_boosting(x, labels, seed=2, tree_pool=pool)
    assert model.threaded and model.compiled_trees is False
    _assert_same_model(model, GradientBoostingClassifier(random_state=2).fit(x, labels), x)


def test_compiled_trees_that_fail_leave_scikit_learns_trees_threaded(rng, monkeypatch, pool):
    x, labels = _data(rng, 240, 3)

    def another_layout(*arguments):
        raise KeyError("nodes")

    monkeypatch.setattr(threaded_module, "_as_regressor", another_layout)
    model = fit_gradient_boosting(x, labels, seed=2, tree_pool=pool)
    assert model.threaded and model.compiled_trees is False
    _assert_same_model(model, GradientBoostingClassifier(random_state=2).fit(x, labels), x)


@pytest.mark.parametrize(
    "change",
    [
        {"criterion": "friedman_mse"},  # scikit-learn up to 1.8: not reproduced here
        {"max_depth": None},
        {"new_setting": 1},  # a setting this module does not know
    ],
)
def test_tree_settings_the_compiled_tree_does_not_cover(change):
    settings = dict(threaded_module._COMPILED_TREE_SETTINGS, max_depth=3)
    settings.update(min_samples_split=2, min_samples_leaf=1, min_impurity_decrease=0.0)
    x = np.zeros((4, 2), dtype=np.float32)
    assert threaded_module._compiled_tree_applies(settings, x, np.ones(4))
    assert not threaded_module._compiled_tree_applies(settings, x, np.array([1.0, 2, 1, 1]))
    assert not threaded_module._compiled_tree_applies(settings, x.astype(np.float64), None)
    settings.update(change)
    assert not threaded_module._compiled_tree_applies(settings, x, None)


def test_unsupported_tree_settings_keep_scikit_learns_trees(rng, monkeypatch, pool):
    x, labels = _data(rng, 240, 3)
    settings = dict(threaded_module._COMPILED_TREE_SETTINGS, criterion="absolute_error")
    monkeypatch.setattr(threaded_module, "_COMPILED_TREE_SETTINGS", settings)
    model = fit_gradient_boosting(x, labels, seed=4, tree_pool=pool)
    assert model.threaded and model.compiled_trees is False
    _assert_same_model(model, GradientBoostingClassifier(random_state=4).fit(x, labels), x)


def test_quantized_latents_many_classes_and_one_thread(rng):
    # Latents on a few levels (a quantized code: ties at every node, the replayed sort)
    # and a one-thread pool (DCI's n_jobs=1).
    labels = rng.integers(0, 5, 300)
    x = np.round(rng.standard_normal((300, 4)) + 0.5 * labels[:, None], 0)
    with ThreadPoolExecutor(1) as one_thread:
        model = fit_gradient_boosting(x, labels, seed=7, tree_pool=one_thread)
    assert model.compiled_trees
    _assert_same_model(model, GradientBoostingClassifier(random_state=7).fit(x, labels), x)
