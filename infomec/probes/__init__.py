"""Fitted probes and their solvers: logistic regressions and least squares.

- :mod:`.linear_probes`: InfoE's probes: the unpenalised multinomial logistic
  regression (reference class, balanced weights, dense or one-hot designs, stopped on
  the reported loss) and least squares.
- :mod:`.penalized_logistic`: scikit-learn's default ``LogisticRegression`` (L2,
  every class free), solved tightly; used by explicitness and the BetaVAE score.
- :mod:`.newton`: what both logistic solvers share: the Newton loop (Hessian reuse,
  refresh on a stale step), the backtracking line search, the L-BFGS driver and the
  packed-Hessian index. Each solver supplies its objective and hooks.
- :mod:`.one_hot_design`: the one-hot design matrix of discrete latents.

Their numba kernels (row losses, gradients, Hessian pieces) are in
:mod:`infomec.estimators` (``multinomial``, ``logistic``, ``one_hot``).
"""
