"""Metric families, registered by name.

Each family is a function of a validated :class:`~infomec.data.Sample`::

    compute(sample, settings, *, seed, n_jobs, held_out) -> dict

``held_out`` is a :class:`~infomec.data.HeldOut` (training and test rows) for families
registered with ``needs_held_out=True`` and ``None`` otherwise. :func:`infomec.score`
and the CLI look families up here, and the test suite parametrises over this registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from infomec.metrics import beta_vae as _beta_vae
from infomec.metrics import dci as _dci
from infomec.metrics import dci_es as _dci_es
from infomec.metrics import dcimig as _dcimig
from infomec.metrics import downstream_task as _downstream
from infomec.metrics import factor_vae as _factor_vae
from infomec.metrics import fairness as _fairness
from infomec.metrics import infomec as _infomec
from infomec.metrics import irs as _irs
from infomec.metrics import jemmig as _jemmig
from infomec.metrics import mig as _mig
from infomec.metrics import mig_sup as _mig_sup
from infomec.metrics import modularity as _modularity
from infomec.metrics import sap as _sap
from infomec.metrics import sap_continuous as _sap_continuous
from infomec.metrics import strong_downstream_task as _strong_downstream
from infomec.metrics import unified_scores as _unified
from infomec.metrics import unsupervised as _unsupervised
from infomec.metrics import z_max_var as _z_max_var


@dataclass(frozen=True)
class MetricFamily:
    """A registered metric family: its function and what it needs of its input.

    ``needs_held_out``: training and test rows. ``needs_summable_latents``: float latents
    whose sums over the rows stay finite in float64 (disentanglement_lib's definitions
    average raw values; InfoMEC ranks and rescales them). ``in_all``: computed by
    ``metrics="all"``; a family that costs minutes where the others cost seconds is
    computed only when asked for by name. ``takes_variances``: the family takes
    variances of raw latents or fits models on them, so sums of squares must stay finite.
    """

    compute: Callable[..., dict]
    needs_held_out: bool = False
    needs_summable_latents: bool = True
    in_all: bool = True
    takes_variances: bool = False


REGISTRY: dict[str, MetricFamily] = {
    "infomec": MetricFamily(_infomec.compute, needs_summable_latents=False),
    # The disentanglement_lib ("legacy") families, SPEC section 3.
    "mig": MetricFamily(_mig.compute),
    "mig_sup": MetricFamily(_mig_sup.compute),
    "dci": MetricFamily(_dci.compute, needs_held_out=True, takes_variances=True),
    "sap": MetricFamily(_sap.compute, needs_held_out=True, takes_variances=True),
    "modularity": MetricFamily(_modularity.compute, needs_held_out=True, takes_variances=True),
    "beta_vae": MetricFamily(_beta_vae.compute, needs_held_out=True, takes_variances=True),
    "factor_vae": MetricFamily(_factor_vae.compute, needs_held_out=True, takes_variances=True),
    "irs": MetricFamily(_irs.compute),
    "unsupervised": MetricFamily(_unsupervised.compute),
    # The review of Zaidi et al. (2020), its own binning (10 bins, bits).
    "dcimig": MetricFamily(_dcimig.compute),
    "jemmig": MetricFamily(_jemmig.compute),
    "z_max_var": MetricFamily(_z_max_var.compute, takes_variances=True),
    # DCI-ES explicitness (Eastwood et al. 2023): random-forest loss-capacity curves.
    # About a minute on 10,000 x 10 (1,200 forests): by name only, not in "all".
    "dci_es": MetricFamily(
        _dci_es.compute, needs_held_out=True, in_all=False, takes_variances=True
    ),
    # SAP's other variant in disentanglement_lib: squared correlations, no fit.
    "sap_continuous": MetricFamily(_sap_continuous.compute, takes_variances=True),
    # disentanglement_lib's task families. unified_scores costs about what dci and sap
    # cost together. The three below fit one predictor per source per training size (up
    # to 10,000 rows), or per (source, experiment): minutes on 10,000 x 10, by name only.
    "unified_scores": MetricFamily(_unified.compute, needs_held_out=True, takes_variances=True),
    "downstream_task": MetricFamily(
        _downstream.compute, needs_held_out=True, in_all=False, takes_variances=True
    ),
    "fairness": MetricFamily(
        _fairness.compute, needs_held_out=True, in_all=False, takes_variances=True
    ),
    "strong_downstream_task": MetricFamily(
        _strong_downstream.compute, needs_held_out=True, in_all=False, takes_variances=True
    ),
}

__all__ = ["REGISTRY", "MetricFamily"]
