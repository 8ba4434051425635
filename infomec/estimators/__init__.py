"""Numba kernels: validated, contiguous arrays in, arrays out.

Every kernel here assumes its inputs were checked and encoded by
:mod:`infomec._validation`; nothing in this package raises on user input.

- :mod:`.contingency`: plug-in entropy and mutual information from label codes.
- :mod:`.ksg`: the Ross (2014) mixed continuous-discrete k-nearest-neighbour estimator.
- :mod:`.binning`: equal-width histogram discretisation with disentanglement_lib's edges.
- :mod:`.multinomial`, :mod:`.one_hot`: the InfoE probe's row kernels, Hessians and
  one-hot design products (solvers: :mod:`infomec.probes`).
- :mod:`.logistic`: the penalised logistic loss and Hessian pieces
  (:mod:`infomec.probes.penalized_logistic`).

DCI's compiled regression trees are in :mod:`infomec.gbt` (valid only under its
bit-for-bit contract with scikit-learn).
"""

from infomec.estimators.binning import histogram_codes
from infomec.estimators.contingency import (
    entropy_per_column,
    plugin_mutual_information,
    plugin_mutual_information_matrix,
)
from infomec.estimators.ksg import ksg_mutual_information_matrix, prepare_continuous_latents

__all__ = [
    "entropy_per_column",
    "histogram_codes",
    "ksg_mutual_information_matrix",
    "plugin_mutual_information",
    "plugin_mutual_information_matrix",
    "prepare_continuous_latents",
]
