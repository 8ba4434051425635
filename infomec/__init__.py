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

from infomec._numba_cache import ensure_numba_cache as _ensure_numba_cache

_ensure_numba_cache()  # before numba is first imported (below): it reads the setting then

from infomec._validation import InfoMECWarning  # noqa: E402
from infomec.bootstrap import bootstrap  # noqa: E402
from infomec.collector import Collector  # noqa: E402
from infomec.metrics.infomec import infoc, infoe, infom, nmi_matrix  # noqa: E402
from infomec.presets import PRESETS, PruningRule  # noqa: E402
from infomec.result import ScoreResult  # noqa: E402
from infomec.scoring import score  # noqa: E402
from infomec.version import __version__  # noqa: E402

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
