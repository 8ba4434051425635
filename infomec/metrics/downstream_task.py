"""disentanglement_lib's downstream task: how well simple predictors read each source.

For each training size ``n`` in (10, 100, 1000, 10000) and each source ``k``, a predictor
fitted on ``n`` training points (all latents, raw values) predicts the source; its
accuracy on those points and on the test points is reported, with disentanglement_lib's
output names: ``"{n}:mean_train_accuracy"``, ``"{n}:mean_test_accuracy"``,
``"{n}:min_train_accuracy"``, ``"{n}:min_test_accuracy"``,
``"{n}:train_accuracy_factor_{k}"`` and ``"{n}:test_accuracy_factor_{k}"``. The
predictors are those of its two configurations: ``LogisticRegressionCV(Cs=10,
cv=KFold(n_splits=5))`` (``predictor="logistic_regression"``) and
``GradientBoostingClassifier()`` (``"boosted_trees"``, seeded).

From a table of rows instead of a simulator:

- the ``n`` training points are ``n`` of the training rows, drawn without replacement
  (all of them, in their order, when ``n`` equals their number); a size larger than the
  number of training rows is left out, with a warning, rather than repeating rows;
- the test points are the test rows, the same for every size (disentanglement_lib draws
  5000 fresh points per size);
- a training draw in which a source takes one value predicts that value (scikit-learn
  raises); logistic fits that stop at scikit-learn's 100 iterations are named in one
  warning (disentanglement_lib ran with the same limit, silently).

The ``downstream_task`` family of :func:`infomec.score` runs both predictors and prefixes
the keys with ``"logistic_regression."`` and ``"boosted_trees."``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from infomec._validation import check_choice, warn
from infomec.data import HeldOut, Sample
from infomec.metrics._legacy import held_out_of, latent_matrix, require_held_out
from infomec.metrics._predictors import PREDICTORS, check_sizes, fit_predictor, training_rows
from infomec.parallel import resolve_n_jobs

__all__ = ["NUM_TRAIN", "compute", "downstream_task", "per_size_scores"]

#: disentanglement_lib's ``downstream_task.num_train``.
NUM_TRAIN = (10, 100, 1000, 10000)


def per_size_scores(size: int, train_accuracy, test_accuracy) -> dict:
    """disentanglement_lib's score names for one training size.

    Examples
    --------
    >>> scores = per_size_scores(10, [1.0, 0.5], [0.75, 0.25])
    >>> scores["10:mean_test_accuracy"], scores["10:min_train_accuracy"]
    (0.5, 0.5)
    >>> scores["10:test_accuracy_factor_1"]
    0.25
    """
    train_accuracy = np.asarray(train_accuracy, dtype=np.float64)
    test_accuracy = np.asarray(test_accuracy, dtype=np.float64)
    scores = {
        f"{size}:mean_train_accuracy": float(np.mean(train_accuracy)),
        f"{size}:mean_test_accuracy": float(np.mean(test_accuracy)),
        f"{size}:min_train_accuracy": float(np.min(train_accuracy)),
        f"{size}:min_test_accuracy": float(np.min(test_accuracy)),
    }
    for k, (train, test) in enumerate(zip(train_accuracy, test_accuracy, strict=True)):
        scores[f"{size}:train_accuracy_factor_{k}"] = float(train)
        scores[f"{size}:test_accuracy_factor_{k}"] = float(test)
    return scores


def _downstream_of_held_out(
    held_out: HeldOut,
    *,
    predictor: str,
    num_train: tuple[int, ...],
    seed: int,
    n_jobs: int | None,
    announce: bool = True,
) -> dict:
    train, test = held_out.train, held_out.test
    train_x, test_x = latent_matrix(train), latent_matrix(test)
    too_large = [size for size in num_train if size > train.n_samples]
    if too_large and announce:
        warn(
            f"downstream_task: training sizes {', '.join(map(str, too_large))} exceed the "
            f"{train.n_samples} training rows and are left out"
        )
    rng = np.random.default_rng(seed)
    scores: dict = {}
    unconverged: list[str] = []
    n_cores = resolve_n_jobs(n_jobs)
    with ThreadPoolExecutor(n_cores) as pool:
        for size in num_train:
            if size > train.n_samples:
                continue
            rows = training_rows(train.n_samples, size, rng)
            x = train_x[rows]

            def fit(k: int, rows=rows, x=x) -> tuple[float, float, bool]:
                y = train.sources.codes[k, rows].astype(np.int64)
                model, converged = fit_predictor(
                    predictor, x, y, seed=seed, tree_pool=pool if n_cores > 1 else None
                )
                test_y = test.sources.codes[k].astype(np.int64)
                return (
                    float(np.mean(model.predict(x) == y)),
                    float(np.mean(model.predict(test_x) == test_y)),
                    converged,
                )

            outcomes = [fit(k) for k in range(train.n_sources)]
            unconverged += [
                f"{train.source_names[k]} (size {size})"
                for k, outcome in enumerate(outcomes)
                if not outcome[2]
            ]
            scores.update(per_size_scores(size, [o[0] for o in outcomes], [o[1] for o in outcomes]))
    if unconverged:
        warn(
            "downstream_task: LogisticRegressionCV stopped at 100 iterations for "
            + ", ".join(unconverged)
        )
    return scores


def downstream_task(
    *,
    latents,
    sources,
    test_latents=None,
    test_sources=None,
    test_size: float = 1 / 3,
    predictor: str = "logistic_regression",
    num_train=NUM_TRAIN,
    discrete_latents: bool | None = None,
    seed: int = 0,
    n_jobs: int | None = None,
) -> dict:
    """disentanglement_lib's downstream task: accuracy of predictors of every source.

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
    sources : array-like of shape (n_samples, n_sources)
    test_latents, test_sources : array-like, optional
        Test rows (used as given); otherwise a seeded split of ``test_size``.
    test_size : float, default=1/3
    predictor : {"logistic_regression", "boosted_trees"}, default="logistic_regression"
        ``LogisticRegressionCV(Cs=10, cv=KFold(5))`` or ``GradientBoostingClassifier()``.
    num_train : sequence of int, default=(10, 100, 1000, 10000)
        Training sizes; sizes above the number of training rows are left out.
    discrete_latents : bool, optional
        Only affects validation.
    seed : int, default=0
        Seed of the split, of the training draws and of the boosted trees.
    n_jobs : int, optional
        Threads for the boosted trees of one stage (results do not depend on it).

    Returns
    -------
    dict
        disentanglement_lib's keys, e.g. ``"1000:mean_test_accuracy"`` (see the module
        documentation); source ``k`` is ``factor_k``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.integers(0, 3, size=(900, 2))
    >>> latents = sources + 0.1 * rng.standard_normal((900, 2))
    >>> scores = downstream_task(latents=latents, sources=sources, num_train=(100, 600))
    >>> scores["600:mean_test_accuracy"], scores["100:test_accuracy_factor_0"]
    (1.0, 1.0)
    """
    predictor = check_choice(predictor, "predictor", PREDICTORS)
    num_train = check_sizes(num_train)
    held_out = held_out_of(
        latents,
        sources,
        test_latents,
        test_sources,
        test_size=test_size,
        seed=seed,
        discrete_latents=discrete_latents,
    )
    return _downstream_of_held_out(
        held_out, predictor=predictor, num_train=num_train, seed=seed, n_jobs=n_jobs
    )


def compute(
    sample: Sample,
    settings: dict,
    *,
    seed: int,
    n_jobs: int | None,
    held_out: HeldOut | None = None,
) -> dict:
    """The ``downstream_task`` family of :func:`infomec.score`: both predictors."""
    held_out = require_held_out(held_out, "downstream_task")
    scores = {}
    for predictor in PREDICTORS:
        part = _downstream_of_held_out(
            held_out,
            predictor=predictor,
            num_train=NUM_TRAIN,
            seed=seed,
            n_jobs=n_jobs,
            announce=predictor == PREDICTORS[0],  # the same sizes: say it once
        )
        scores.update({f"{predictor}.{key}": value for key, value in part.items()})
    return scores
