"""Modularity and explicitness (Ridgeway & Mozer 2018), as disentanglement_lib computes them.

Modularity, from the plug-in mutual information ``m[j, k]`` between latent ``j`` (20
histogram bins; own codes when discrete) and source ``k`` on the training rows::

    theta_j = max_k m_jk^2,   delta_j = (sum_k m_jk^2 - theta_j) / (theta_j (K - 1)),
    modularity = mean_j (1 - delta_j),  with 0 for a latent whose theta_j is 0.

Explicitness: per source, a default ``LogisticRegression()`` (L2, C = 1; multinomial,
binary for two classes) on the latents standardised with the training mean and std;
the macro one-vs-rest ROC-AUC of its probabilities on the training rows and on the test
rows, averaged over sources.

Differences from disentanglement_lib, all where it would raise or return NaN, except
the first:

- the logistic regression is solved to a gradient tolerance of 1e-6 (scikit-learn stops
  at 1e-4 or 100 iterations), so results do not drift with the scikit-learn version;
- a constant training latent is only centred (disentanglement_lib divides by std 0);
- a source with one value in the training rows is left out of the explicitness means,
  with a warning (no ROC-AUC exists); with none left, explicitness is 0.5 (chance);
- a class of the evaluated rows unknown to the model scores 0 (AUC 0.5 for that class),
  and a class without positive or negative rows is left out of the macro average;
- with one source, ``delta_j`` has no second source to share with: modularity counts
  every latent with ``theta_j > 0`` as 1.
"""

from __future__ import annotations

import numpy as np
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from infomec._validation import warn
from infomec.data import HeldOut, Sample
from infomec.metrics._legacy import (
    DLIB_BINS,
    binned_mutual_information,
    check_n_bins,
    held_out_of,
    latent_matrix,
    macro_roc_auc,
    require_held_out,
    standardize,
)
from infomec.parallel import resolve_n_jobs
from infomec.probes.penalized_logistic import LogisticModel, warn_unconverged

__all__ = ["compute", "modularity", "modularity_from_mutual_information"]


def modularity_from_mutual_information(mutual_information) -> float:
    """Modularity from an MI matrix with latents as rows and sources as columns.

    Parameters
    ----------
    mutual_information : array-like of shape (n_latents, n_sources)

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> modularity_from_mutual_information(np.eye(3))
    1.0
    >>> round(modularity_from_mutual_information([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), 4)
    0.6667
    """
    mutual_information = np.asarray(mutual_information, dtype=np.float64)
    if (
        mutual_information.ndim != 2
        or mutual_information.size == 0
        or not np.isfinite(mutual_information).all()
    ):
        raise ValueError(
            f"mutual_information must be a finite, non-empty (n_latents, n_sources) array, "
            f"got shape {mutual_information.shape}"
        )
    squared = mutual_information**2
    theta = squared.max(axis=1)
    used = theta > 0  # an empty latent scores 0 (disentanglement_lib's own guard)
    per_latent = np.zeros(squared.shape[0])
    n_sources = squared.shape[1]
    if n_sources == 1:
        per_latent[used] = 1.0
    else:
        delta = (squared[used].sum(axis=1) - theta[used]) / (theta[used] * (n_sources - 1))
        per_latent[used] = 1.0 - delta
    return float(np.clip(per_latent.mean(), 0.0, 1.0))


def _explicitness_of_source(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray
) -> tuple[float, float, bool]:
    model = LogisticModel(train_x, train_y)
    return (
        macro_roc_auc(train_y, model.predict_proba(train_x), model.classes),
        macro_roc_auc(test_y, model.predict_proba(test_x), model.classes),
        model.converged,
    )


def _explicitness(held_out: HeldOut, n_jobs: int | None = None) -> tuple[float, float]:
    """Mean explicitness (ROC-AUC) over sources on the training and on the test rows."""
    train, test = held_out.train, held_out.test
    train_x, test_x = standardize(latent_matrix(train), latent_matrix(test))
    fittable = [k for k in range(train.n_sources) if np.unique(train.sources.codes[k]).size > 1]
    if len(fittable) < train.n_sources:
        names = [name for k, name in enumerate(train.source_names) if k not in fittable]
        warn(
            "explicitness: sources with a single value in the training rows are left out: "
            + ", ".join(names)
        )
    if not fittable:
        return 0.5, 0.5
    jobs = (
        delayed(_explicitness_of_source)(
            train_x, train.sources.codes[k], test_x, test.sources.codes[k]
        )
        for k in fittable
    )
    # The kernels and BLAS release the GIL, so threads fit sources side by side, each
    # on one BLAS thread (the products are small; more threads would oversubscribe).
    with threadpool_limits(limits=1, user_api="blas"):
        outcomes = Parallel(n_jobs=resolve_n_jobs(n_jobs), backend="threading")(jobs)
    pairs = zip(fittable, outcomes, strict=True)
    warn_unconverged("explicitness", [train.source_names[k] for k, out in pairs if not out[2]])
    return (
        float(np.mean([outcome[0] for outcome in outcomes])),
        float(np.mean([outcome[1] for outcome in outcomes])),
    )


def _modularity_of_held_out(held_out: HeldOut, n_bins: int, n_jobs: int | None) -> dict:
    mutual_information, _ = binned_mutual_information(held_out.train, n_bins, n_jobs)
    explicit_train, explicit_test = _explicitness(held_out, n_jobs)
    return {
        "modularity": modularity_from_mutual_information(mutual_information.T),
        "explicitness_train": explicit_train,
        "explicitness_test": explicit_test,
    }


def modularity(
    *,
    latents,
    sources,
    test_latents=None,
    test_sources=None,
    test_size: float = 1 / 3,
    discrete_latents: bool | None = None,
    n_bins: int = DLIB_BINS,
    seed: int = 0,
    n_jobs: int | None = None,
) -> dict:
    """Modularity and explicitness of a representation.

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
    sources : array-like of shape (n_samples, n_sources)
    test_latents, test_sources : array-like, optional
        Held-out rows (used exactly as given); otherwise a seeded split.
    test_size : float, default=1/3
    discrete_latents : bool, optional
        Use the latents' own codes for the MI instead of histogram bins (default for
        integer dtypes). Explicitness always uses the standardised values.
    n_bins : int, default=20
    seed : int, default=0
        Seed of the split (everything else is deterministic).
    n_jobs : int, optional

    Returns
    -------
    dict
        ``modularity`` (on the training rows), ``explicitness_train`` and
        ``explicitness_test`` (mean ROC-AUC over sources).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.integers(0, 3, size=(900, 2))
    >>> latents = sources + 0.1 * rng.standard_normal((900, 2))
    >>> result = modularity(latents=latents, sources=sources)
    >>> round(result["modularity"], 2), round(result["explicitness_test"], 2)
    (1.0, 1.0)
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
    return _modularity_of_held_out(held_out, check_n_bins(n_bins), n_jobs)


def compute(
    sample: Sample,
    settings: dict,
    *,
    seed: int,
    n_jobs: int | None,
    held_out: HeldOut | None = None,
) -> dict:
    """The ``modularity`` family of :func:`infomec.score` (MI on training rows)."""
    return _modularity_of_held_out(require_held_out(held_out, "modularity"), DLIB_BINS, n_jobs)
