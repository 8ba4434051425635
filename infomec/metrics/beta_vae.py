"""The BetaVAE score (Higgins et al. 2017), as disentanglement_lib computes it, from arrays.

A training point fixes one source, chosen uniformly; 64 pairs of rows share that
source's value (the other sources vary as in the data) and the point's feature vector is
the mean absolute difference of their latents. A default ``LogisticRegression()`` (L2,
C = 1, multinomial) learns which source was fixed from 10000 such points built from the
training rows; the score is its accuracy on them (``train_accuracy``) and on 5000 points
built from the test rows (``eval_accuracy``).

Differences from disentanglement_lib, which encodes freshly generated images:

- pairs are sub-selected from the sample: the first row of a pair is uniform over rows
  whose value of the fixed source is shared by another row, the second uniform over the
  *other* rows with that value (a row is never paired with itself);
- a source none of whose values occurs twice cannot be held fixed; it is left out of
  the draw with a warning (with none left both accuracies are 0);
- the logistic regression is solved to a gradient tolerance of 1e-6 rather than
  scikit-learn's 1e-4 / 100 iterations, so results do not drift with its version.

The same rows may appear in many points (they are drawn with replacement, as
disentanglement_lib's factor vectors are); evaluation points are drawn from the test
rows only.
"""

from __future__ import annotations

import numpy as np

from infomec._validation import check_positive_int, warn
from infomec.data import HeldOut, Sample
from infomec.estimators.sampling import beta_vae_features, group_rows
from infomec.metrics._legacy import held_out_of, latent_matrix, require_held_out
from infomec.parallel import numba_threads
from infomec.probes.penalized_logistic import LogisticModel, warn_unconverged

__all__ = ["beta_vae", "compute"]

BATCH_SIZE = 64
NUM_TRAIN = 10000
NUM_EVAL = 5000


def _points(
    sample: Sample,
    n_points: int,
    batch_size: int,
    rng: np.random.Generator,
    part: str,
    n_jobs: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """``n_points`` feature vectors and the index of the source each one held fixed."""
    order, bounds, usable, n_usable = group_rows(sample.sources.codes, sample.sources.cardinalities)
    unusable = [sample.source_names[k] for k in np.flatnonzero(n_usable == 0)]
    if unusable:
        warn(
            f"beta_vae: no value of {', '.join(unusable)} occurs twice in the {part} rows; "
            "such sources are never held fixed there"
        )
    candidates = np.flatnonzero(n_usable > 0)
    if candidates.size == 0:
        return np.zeros((0, sample.n_latents)), np.zeros(0, dtype=np.int64)
    factors = candidates[rng.integers(0, candidates.size, size=n_points)]
    uniforms = rng.random((n_points, batch_size, 2))
    with numba_threads(n_jobs):
        features = beta_vae_features(
            latent_matrix(sample),
            sample.sources.codes,
            order,
            bounds,
            usable,
            n_usable,
            factors,
            uniforms,
        )
    return features, factors


def _beta_vae_of_held_out(
    held_out: HeldOut,
    *,
    batch_size: int,
    num_train: int,
    num_eval: int,
    seed: int,
    n_jobs: int | None,
) -> dict:
    batch_size = check_positive_int(batch_size, "batch_size")
    num_train = check_positive_int(num_train, "num_train")
    num_eval = check_positive_int(num_eval, "num_eval")
    rng = np.random.default_rng(seed)
    train_points, train_labels = _points(
        held_out.train, num_train, batch_size, rng, "training", n_jobs
    )
    eval_points, eval_labels = _points(held_out.test, num_eval, batch_size, rng, "test", n_jobs)
    if train_labels.size == 0 or eval_labels.size == 0:
        warn("beta_vae: no source can be held fixed; accuracies set to 0")
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0}
    model = LogisticModel(train_points, train_labels)
    warn_unconverged("beta_vae", [] if model.converged else ["the classifier"])
    return {
        "train_accuracy": float(np.mean(model.predict(train_points) == train_labels)),
        "eval_accuracy": float(np.mean(model.predict(eval_points) == eval_labels)),
    }


def beta_vae(
    *,
    latents,
    sources,
    test_latents=None,
    test_sources=None,
    test_size: float = 1 / 3,
    batch_size: int = BATCH_SIZE,
    num_train: int = NUM_TRAIN,
    num_eval: int = NUM_EVAL,
    discrete_latents: bool | None = None,
    seed: int = 0,
    n_jobs: int | None = None,
) -> dict:
    """BetaVAE score of a representation.

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
    sources : array-like of shape (n_samples, n_sources)
    test_latents, test_sources : array-like, optional
        Rows the evaluation points are drawn from; otherwise a seeded split.
    test_size : float, default=1/3
    batch_size : int, default=64
        Pairs averaged into one point.
    num_train, num_eval : int, default=10000, 5000
        Training and evaluation points.
    discrete_latents : bool, optional
        Only affects validation: differences use the latents' values.
    seed : int, default=0
        Seed of the split and of every draw.
    n_jobs : int, optional

    Returns
    -------
    dict
        ``train_accuracy`` and ``eval_accuracy`` (chance is about 1 / n_sources).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.integers(0, 4, size=(1500, 3))
    >>> latents = sources + 0.1 * rng.standard_normal((1500, 3))
    >>> beta_vae(latents=latents, sources=sources, num_train=500, num_eval=200)
    {'train_accuracy': 1.0, 'eval_accuracy': 1.0}
    """
    held_out = held_out_of(
        latents,
        sources,
        test_latents,
        test_sources,
        test_size=test_size,
        seed=seed,
        discrete_latents=discrete_latents,
    )
    return _beta_vae_of_held_out(
        held_out,
        batch_size=batch_size,
        num_train=num_train,
        num_eval=num_eval,
        seed=seed,
        n_jobs=n_jobs,
    )


def compute(
    sample: Sample,
    settings: dict,
    *,
    seed: int,
    n_jobs: int | None,
    held_out: HeldOut | None = None,
) -> dict:
    """The ``beta_vae`` family of :func:`infomec.score` (disentanglement_lib defaults)."""
    return _beta_vae_of_held_out(
        require_held_out(held_out, "beta_vae"),
        batch_size=BATCH_SIZE,
        num_train=NUM_TRAIN,
        num_eval=NUM_EVAL,
        seed=seed,
        n_jobs=n_jobs,
    )
