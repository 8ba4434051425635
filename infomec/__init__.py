"""infomec: fast, faithful disentanglement metrics from plain arrays.

The main entry point is :func:`score`; the InfoMEC building blocks
(:func:`nmi_matrix`, :func:`infom`, :func:`infoc`, :func:`infoe`) are public too.

Examples
--------
>>> import numpy as np, infomec
>>> sources = np.repeat(np.arange(3), 30)[:, None]
>>> infomec.score(latents=sources.copy(), sources=sources).infom
1.0
"""

from infomec._validation import InfoMECWarning
from infomec.bootstrap import bootstrap
from infomec.collector import Collector
from infomec.metrics.infomec import infoc, infoe, infom, nmi_matrix
from infomec.presets import PRESETS, PruningRule
from infomec.result import ScoreResult
from infomec.scoring import score
from infomec.version import __version__

__all__ = [
    "Collector",
    "PRESETS",
    "InfoMECWarning",
    "PruningRule",
    "ScoreResult",
    "__version__",
    "bootstrap",
    "infoc",
    "infoe",
    "infom",
    "nmi_matrix",
    "score",
]
