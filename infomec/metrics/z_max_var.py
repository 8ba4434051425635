"""Z-max-var: the review's FactorVAE-style score voting with the largest variance ratio.

Zaidi et al. (2020) evaluate the variant of the FactorVAE score proposed with Relevance
FactorVAE (Kim et al. 2019), following their public code:

- sources are binned into ``source_bins = 10`` equal-width bins (the review bins every
  factor); latent variances (ddof 1) come from ``num_variance_estimate = 10000`` random
  rows, and latents with standard deviation below ``std_threshold = 0.02`` are inactive;
- each vote picks a source ``k`` uniformly, fixes all *other* sources to a combination
  of values drawn uniformly among those that occur in at least 2 rows, and takes a batch
  of ``batch_size = 200`` rows with that combination: the rows of a combination are used
  in a random order, cycled with a fresh shuffle when more are needed (batches of the
  same combination take consecutive stretches of that sequence, as in the review); the
  vote goes to the active latent with the largest ``variance in the batch / global
  variance``;
- a majority classifier maps each latent to the source it got most training votes for
  (``num_train = 800`` votes); its accuracy on ``num_eval = 800`` evaluation votes,
  rescaled as ``(accuracy - 1/K) / (1 - 1/K)``, is the score.

As in the review, training and evaluation votes are drawn from the same rows by default;
with explicit ``test_latents`` / ``test_sources`` (or ``same_rows=False``, a seeded
split) the evaluation votes come from the held-out rows and the variances from the
training rows.

Differences from the review's code: every draw comes from one seeded generator (the
review mixes Python's and numpy's unseeded ones, so only its spread over seeds can be
matched); votes are recorded at the latent's own index (the review indexes them among
active latents, which relabels latents but leaves accuracies unchanged); a source none of
whose other-source combinations occurs twice is left out of the draw with a warning and
``K`` counts the sources that can vote (the review returns NaN); with fewer than two such
sources, or no active latent, the scores are 0 with a warning. Sources are binned through
their value ranks (the validated sample keeps ranks, not values): the same bins as the
review's whenever a source's values are equally spaced, and no binning at all for
sources with at most ``source_bins`` values.
"""

from __future__ import annotations

import numpy as np

from infomec._validation import check_positive_int, warn
from infomec.data import HeldOut, Sample
from infomec.estimators import histogram_codes
from infomec.metrics._legacy import held_out_of, latent_matrix, sample_of

__all__ = ["compute", "z_max_var"]

SOURCE_BINS = 10
BATCH_SIZE = 200
NUM_TRAIN = 800
NUM_EVAL = 800
NUM_VARIANCE_ESTIMATE = 10000
STD_THRESHOLD = 0.02


def _binned_sources(sample: Sample, source_bins: int | None) -> np.ndarray:
    """Source codes (n_sources, n), binned into ``source_bins`` equal-width bins of rank."""
    codes = sample.sources.codes
    if source_bins is None:
        return codes
    return histogram_codes(codes.T.astype(np.float64), source_bins)[0]


class _Combinations:
    """Rows grouped by the combination of values of every source but one."""

    def __init__(self, codes: np.ndarray, k: int):
        others = np.delete(codes, k, axis=0).T
        if others.shape[1] == 0:
            inverse = np.zeros(codes.shape[1], dtype=np.int64)
            counts = np.array([codes.shape[1]])
        else:
            _, inverse, counts = np.unique(others, axis=0, return_inverse=True, return_counts=True)
            inverse = inverse.ravel()
        self.order = np.argsort(inverse, kind="stable")
        self.starts = np.concatenate([[0], np.cumsum(counts)])
        self.usable = np.flatnonzero(counts >= 2)

    def rows(self, group: int) -> np.ndarray:
        return self.order[self.starts[group] : self.starts[group + 1]]


def _batches(
    combinations: _Combinations, n_votes: list[int], batch_size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Row indices of the batches of each part, shape (n_votes[part], batch_size) each.

    The parts' votes draw their combinations together; each chosen combination's rows
    are shuffled, cycled with fresh shuffles, and cut into consecutive batches, the
    first ones going to the first part (the review's order).
    """
    total = sum(n_votes)
    chosen = combinations.usable[rng.integers(0, combinations.usable.size, size=total)]
    part_of_vote = np.repeat(np.arange(len(n_votes)), n_votes)
    out = [np.empty((count, batch_size), dtype=np.int64) for count in n_votes]
    filled = [0] * len(n_votes)
    for group in np.unique(chosen):
        votes = np.flatnonzero(chosen == group)
        members = combinations.rows(group)
        needed = batch_size * votes.size
        n_loops = -(-needed // members.size)
        sequence = np.concatenate([rng.permutation(members) for _ in range(n_loops)])[:needed]
        batches = sequence.reshape(votes.size, batch_size)
        for part, batch in zip(part_of_vote[votes], batches, strict=True):
            out[part][filled[part]] = batch
            filled[part] += 1
    return out


def _winners(
    latents: np.ndarray, batches: np.ndarray, variances: np.ndarray, active: np.ndarray
) -> np.ndarray:
    """The active latent with the largest batch variance / global variance, per batch."""
    if batches.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    columns = np.flatnonzero(active)
    values = latents[:, columns][batches]  # (n_batches, batch_size, n_active)
    ratios = np.var(values, axis=1, ddof=1) / variances[columns]
    return columns[np.argmax(ratios, axis=1)]


def _accuracy(votes: np.ndarray, classifier: np.ndarray) -> float:
    total = votes.sum()
    if total == 0:
        return 0.0
    return float(votes[classifier, np.arange(votes.shape[1])].sum() / total)


def _zero(num_active_dims: int) -> dict:
    return {
        "score": 0.0,
        "train_accuracy": 0.0,
        "eval_accuracy": 0.0,
        "num_active_dims": num_active_dims,
    }


def _z_max_var(
    train: Sample,
    test: Sample | None,
    *,
    source_bins: int | None,
    batch_size: int,
    num_train: int,
    num_eval: int,
    num_variance_estimate: int,
    std_threshold: float,
    seed: int,
) -> dict:
    """Both forms: ``test=None`` draws the evaluation votes from the training rows."""
    rng = np.random.default_rng(seed)
    latents = latent_matrix(train)
    rows = rng.permutation(train.n_samples)[:num_variance_estimate]
    variances = np.var(latents[rows], axis=0, ddof=1)
    active = (np.sqrt(variances) >= std_threshold) & (variances > 0)
    if not active.any():
        warn("z_max_var: every latent is inactive (std below std_threshold); scores set to 0")
        return _zero(0)

    parts = [(train, latents, _binned_sources(train, source_bins))]
    if test is not None:
        parts.append((test, latent_matrix(test), _binned_sources(test, source_bins)))
    combinations = [
        [_Combinations(codes, k) for k in range(train.n_sources)] for _, _, codes in parts
    ]
    can_vote = np.array(
        [all(part[k].usable.size > 0 for part in combinations) for k in range(train.n_sources)]
    )
    if not can_vote.all():
        names = [train.source_names[k] for k in np.flatnonzero(~can_vote)]
        warn(
            f"z_max_var: no combination of the other sources' values occurs twice for "
            f"{', '.join(names)}; such sources never vote (bin sources more coarsely)"
        )
    voters = np.flatnonzero(can_vote)
    if voters.size < 2:
        warn("z_max_var: fewer than two sources can vote; scores set to 0")
        return _zero(int(active.sum()))

    train_factors = voters[rng.integers(0, voters.size, size=num_train)]
    eval_factors = voters[rng.integers(0, voters.size, size=num_eval)]
    shape = (train.n_sources, train.n_latents)
    train_votes, eval_votes = np.zeros(shape, np.int64), np.zeros(shape, np.int64)
    for k in voters:
        n_train = int(np.sum(train_factors == k))
        n_eval = int(np.sum(eval_factors == k))
        if test is None:
            train_batches, eval_batches = _batches(
                combinations[0][k], [n_train, n_eval], batch_size, rng
            )
            eval_latents = latents
        else:
            (train_batches,) = _batches(combinations[0][k], [n_train], batch_size, rng)
            (eval_batches,) = _batches(combinations[1][k], [n_eval], batch_size, rng)
            eval_latents = parts[1][1]
        np.add.at(train_votes[k], _winners(latents, train_batches, variances, active), 1)
        np.add.at(eval_votes[k], _winners(eval_latents, eval_batches, variances, active), 1)

    classifier = np.argmax(train_votes, axis=0)
    train_accuracy = _accuracy(train_votes, classifier)
    eval_accuracy = _accuracy(eval_votes, classifier)
    chance = 1.0 / voters.size
    return {
        "score": (eval_accuracy - chance) / (1.0 - chance),
        "train_accuracy": train_accuracy,
        "eval_accuracy": eval_accuracy,
        "num_active_dims": int(active.sum()),
    }


def _checked_settings(
    source_bins, batch_size, num_train, num_eval, num_variance_estimate, std_threshold
) -> dict:
    """The knobs as keyword arguments of :func:`_z_max_var`, or a ``ValueError``."""
    if source_bins is not None:
        source_bins = check_positive_int(source_bins, "source_bins", minimum=2)
    if (
        isinstance(std_threshold, bool)
        or not isinstance(std_threshold, (int, float, np.integer, np.floating))
        or not 0 <= std_threshold < np.inf
    ):
        raise ValueError(f"std_threshold must be a finite number >= 0, got {std_threshold!r}")
    return {
        "source_bins": source_bins,
        "batch_size": check_positive_int(batch_size, "batch_size", minimum=2),
        "num_train": check_positive_int(num_train, "num_train"),
        "num_eval": check_positive_int(num_eval, "num_eval"),
        "num_variance_estimate": check_positive_int(
            num_variance_estimate, "num_variance_estimate", minimum=2
        ),
        "std_threshold": float(std_threshold),
    }


def z_max_var(
    *,
    latents,
    sources,
    test_latents=None,
    test_sources=None,
    same_rows: bool = True,
    test_size: float = 1 / 3,
    source_bins: int | None = SOURCE_BINS,
    batch_size: int = BATCH_SIZE,
    num_train: int = NUM_TRAIN,
    num_eval: int = NUM_EVAL,
    num_variance_estimate: int = NUM_VARIANCE_ESTIMATE,
    std_threshold: float = STD_THRESHOLD,
    discrete_latents: bool | None = None,
    seed: int = 0,
) -> dict:
    """Z-max-var score of a representation (the review of Zaidi et al. 2020).

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
    sources : array-like of shape (n_samples, n_sources)
    test_latents, test_sources : array-like, optional
        Rows the evaluation votes are drawn from (the held-out form).
    same_rows : bool, default=True
        Without test arrays: draw training and evaluation votes from the same rows, as
        the review does; ``False`` splits the rows (``test_size``, seeded by ``seed``).
    test_size : float, default=1/3
    source_bins : int or None, default=10
        Equal-width bins of each source's value ranks (``None``: no binning).
    batch_size : int, default=200
    num_train, num_eval : int, default=800, 800
        Training and evaluation votes.
    num_variance_estimate : int, default=10000
        Rows drawn for the global variances (ddof 1).
    std_threshold : float, default=0.02
        Latents whose global standard deviation is below it are inactive.
    discrete_latents : bool, optional
        Only affects validation: variances use the latents' values.
    seed : int, default=0
        Seed of every draw.

    Returns
    -------
    dict
        ``score`` (rescaled evaluation accuracy, 1 for a perfect code, about 0 at
        chance), ``train_accuracy``, ``eval_accuracy`` (raw) and ``num_active_dims``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.integers(0, 4, size=(3000, 3))
    >>> latents = np.column_stack([sources + 0.1 * rng.standard_normal((3000, 3)),
    ...                            np.zeros(3000)])
    >>> z_max_var(latents=latents, sources=sources, num_train=300, num_eval=300)
    {'score': 1.0, 'train_accuracy': 1.0, 'eval_accuracy': 1.0, 'num_active_dims': 3}
    """
    settings = _checked_settings(
        source_bins, batch_size, num_train, num_eval, num_variance_estimate, std_threshold
    )
    seed = check_positive_int(seed, "seed", minimum=0)
    if test_latents is None and test_sources is None and same_rows:
        train, test = sample_of(latents, sources, discrete_latents, squares=True), None
    else:
        held_out = held_out_of(
            latents,
            sources,
            test_latents,
            test_sources,
            test_size=test_size,
            seed=seed,
            discrete_latents=discrete_latents,
        )
        train, test = held_out.train, held_out.test
    return _z_max_var(train, test, **settings, seed=seed)


def compute(
    sample: Sample,
    settings: dict,
    *,
    seed: int,
    n_jobs: int | None,
    held_out: HeldOut | None = None,
) -> dict:
    """The ``z_max_var`` family of :func:`infomec.score`: the review's form (same rows)."""
    return _z_max_var(
        sample,
        None,
        source_bins=SOURCE_BINS,
        batch_size=BATCH_SIZE,
        num_train=NUM_TRAIN,
        num_eval=NUM_EVAL,
        num_variance_estimate=NUM_VARIANCE_ESTIMATE,
        std_threshold=STD_THRESHOLD,
        seed=seed,
    )
