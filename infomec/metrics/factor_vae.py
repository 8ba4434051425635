"""The FactorVAE score (Kim & Mnih 2018), as disentanglement_lib computes it, from arrays.

Global latent variances (ddof 1) come from 10000 training rows (all of them if there
are fewer); latents with standard deviation below 0.05 are pruned. Each vote fixes one
source, chosen uniformly, at the value of a random row, takes a batch of 64 rows with
that value, and votes for the active latent with the smallest ``variance in the batch /
global variance``. The classifier maps each latent to the source it received most
training votes for (10000 votes from the training rows); the accuracy of that map on
them is ``train_accuracy``, on 5000 votes from the test rows ``eval_accuracy``.

Differences from disentanglement_lib:

- ``num_active_dims`` is the number of latents that survive pruning. disentanglement_lib
  reports ``len(active_mask)``, i.e. the number of latents, whatever the pruning. It also
  stores each vote at the arg-min's index *among active latents* in an array indexed by
  all latents; votes here go to the latent's own index. Accuracies are unaffected;
  ``num_active_dims`` and per-latent interpretation differ.
- batches are sub-selected from the sample: 64 distinct rows drawn uniformly among those
  sharing the value, or all of them when fewer (at least 2) share it; a source none of
  whose values occurs twice is left out of the draw (with a warning);
- a latent with zero global variance is never active, even with ``prune_threshold=0``
  (disentanglement_lib would divide by 0).
"""

from __future__ import annotations

import numpy as np

from infomec._validation import check_positive_int, warn
from infomec.data import HeldOut, Sample
from infomec.estimators.sampling import factor_vae_votes, group_rows
from infomec.metrics._legacy import held_out_of, latent_matrix, require_held_out
from infomec.parallel import numba_threads

__all__ = ["compute", "factor_vae"]

BATCH_SIZE = 64
NUM_TRAIN = 10000
NUM_EVAL = 5000
NUM_VARIANCE_ESTIMATE = 10000
PRUNE_THRESHOLD = 0.05


def _votes(
    sample: Sample,
    n_votes: int,
    batch_size: int,
    global_variances: np.ndarray,
    active: np.ndarray,
    rng: np.random.Generator,
    part: str,
    n_jobs: int | None,
) -> np.ndarray:
    """Vote counts, shape (n_sources, n_latents)."""
    order, bounds, usable, n_usable = group_rows(sample.sources.codes, sample.sources.cardinalities)
    unusable = [sample.source_names[k] for k in np.flatnonzero(n_usable == 0)]
    if unusable:
        warn(
            f"factor_vae: no value of {', '.join(unusable)} occurs twice in the {part} rows; "
            "such sources are never held fixed there"
        )
    counts = np.zeros((sample.n_sources, sample.n_latents), dtype=np.int64)
    candidates = np.flatnonzero(n_usable > 0)
    if candidates.size == 0:
        return counts
    factors = candidates[rng.integers(0, candidates.size, size=n_votes)]
    anchors = rng.random(n_votes)
    uniforms = rng.random((n_votes, batch_size))
    with numba_threads(n_jobs):
        winners = factor_vae_votes(
            latent_matrix(sample),
            sample.sources.codes,
            order,
            bounds,
            usable,
            n_usable,
            factors,
            anchors,
            uniforms,
            global_variances,
            active,
        )
    np.add.at(counts, (factors, winners), 1)
    return counts


def _accuracy(votes: np.ndarray, classifier: np.ndarray) -> float:
    total = votes.sum()
    if total == 0:
        return 0.0
    return float(votes[classifier, np.arange(votes.shape[1])].sum() / total)


def _factor_vae_of_held_out(
    held_out: HeldOut,
    *,
    batch_size: int,
    num_train: int,
    num_eval: int,
    num_variance_estimate: int,
    prune_threshold: float,
    seed: int,
    n_jobs: int | None,
) -> dict:
    batch_size = check_positive_int(batch_size, "batch_size", minimum=2)
    num_train = check_positive_int(num_train, "num_train")
    num_eval = check_positive_int(num_eval, "num_eval")
    num_variance_estimate = check_positive_int(num_variance_estimate, "num_variance_estimate", 2)
    if (
        isinstance(prune_threshold, bool)
        or not isinstance(prune_threshold, (int, float, np.integer, np.floating))
        or not 0 <= prune_threshold < np.inf
    ):
        raise ValueError(f"prune_threshold must be a finite number >= 0, got {prune_threshold!r}")
    rng = np.random.default_rng(seed)
    train = held_out.train
    rows = np.arange(train.n_samples)
    if train.n_samples > num_variance_estimate:
        rows = np.sort(rng.choice(train.n_samples, size=num_variance_estimate, replace=False))
    global_variances = np.var(latent_matrix(train)[rows], axis=0, ddof=1)
    active = (np.sqrt(global_variances) >= prune_threshold) & (global_variances > 0)
    if not active.any():
        warn("factor_vae: every latent is pruned (std below prune_threshold); scores set to 0")
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}
    train_votes = _votes(
        train, num_train, batch_size, global_variances, active, rng, "training", n_jobs
    )
    eval_votes = _votes(
        held_out.test, num_eval, batch_size, global_variances, active, rng, "test", n_jobs
    )
    classifier = np.argmax(train_votes, axis=0)
    return {
        "train_accuracy": _accuracy(train_votes, classifier),
        "eval_accuracy": _accuracy(eval_votes, classifier),
        "num_active_dims": int(active.sum()),
    }


def factor_vae(
    *,
    latents,
    sources,
    test_latents=None,
    test_sources=None,
    test_size: float = 1 / 3,
    batch_size: int = BATCH_SIZE,
    num_train: int = NUM_TRAIN,
    num_eval: int = NUM_EVAL,
    num_variance_estimate: int = NUM_VARIANCE_ESTIMATE,
    prune_threshold: float = PRUNE_THRESHOLD,
    discrete_latents: bool | None = None,
    seed: int = 0,
    n_jobs: int | None = None,
) -> dict:
    """FactorVAE score of a representation.

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
    sources : array-like of shape (n_samples, n_sources)
    test_latents, test_sources : array-like, optional
        Rows the evaluation votes are drawn from; otherwise a seeded split.
    test_size : float, default=1/3
    batch_size : int, default=64
    num_train, num_eval : int, default=10000, 5000
        Training and evaluation votes.
    num_variance_estimate : int, default=10000
        Training rows used for the global variances.
    prune_threshold : float, default=0.05
        Latents whose global standard deviation is below it are ignored.
    discrete_latents : bool, optional
        Only affects validation: variances use the latents' values.
    seed : int, default=0
    n_jobs : int, optional

    Returns
    -------
    dict
        ``train_accuracy``, ``eval_accuracy`` and ``num_active_dims`` (int).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.integers(0, 4, size=(1500, 3))
    >>> latents = np.column_stack([sources + 0.1 * rng.standard_normal((1500, 3)),
    ...                            np.zeros(1500)])
    >>> factor_vae(latents=latents, sources=sources, num_train=500, num_eval=200)
    {'train_accuracy': 1.0, 'eval_accuracy': 1.0, 'num_active_dims': 3}
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
    return _factor_vae_of_held_out(
        held_out,
        batch_size=batch_size,
        num_train=num_train,
        num_eval=num_eval,
        num_variance_estimate=num_variance_estimate,
        prune_threshold=prune_threshold,
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
    """The ``factor_vae`` family of :func:`infomec.score` (disentanglement_lib defaults)."""
    return _factor_vae_of_held_out(
        require_held_out(held_out, "factor_vae"),
        batch_size=BATCH_SIZE,
        num_train=NUM_TRAIN,
        num_eval=NUM_EVAL,
        num_variance_estimate=NUM_VARIANCE_ESTIMATE,
        prune_threshold=PRUNE_THRESHOLD,
        seed=seed,
        n_jobs=n_jobs,
    )
