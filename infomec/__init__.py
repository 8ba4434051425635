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

import importlib
import importlib.util
import os
import sys
import types

from infomec._numba_cache import ensure_numba_cache as _ensure_numba_cache

_ensure_numba_cache()  # before numba is first imported: it reads the setting then

from infomec.version import __version__  # noqa: E402

_checkout = None
if __path__:  # a source checkout: the trainer's models/ beside the package folder
    _root = os.path.dirname(os.path.abspath(__path__[0]))
    if os.path.isfile(os.path.join(_root, "pyproject.toml")) and os.path.isfile(
        os.path.join(_root, "models", "__init__.py")
    ):
        _checkout = _root


class _CheckoutModels:
    """Finds ``infomec.models`` in a source checkout (the repository's ``models/``).

    The wheel installs ``models/`` as ``infomec.models``; an editable install in
    setuptools' default mode maps it too, but the ``compat`` mode of the README's set-up
    (which puts the checkout on ``sys.path``, so that a folder named ``infomec`` in the
    working folder cannot shadow the package) maps nothing: this finder, last on
    ``sys.meta_path``, fills in exactly that one package, from checkouts only.
    """

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name != "infomec.models" or _checkout is None:
            return None
        folder = os.path.join(_checkout, "models")
        return importlib.util.spec_from_file_location(
            name, os.path.join(folder, "__init__.py"), submodule_search_locations=[folder]
        )


if _checkout is not None and not any(
    isinstance(finder, type) and finder.__name__ == "_CheckoutModels" for finder in sys.meta_path
):
    sys.meta_path.append(_CheckoutModels)

# The public names load on first use (PEP 562), so that `import infomec` is cheap: the
# command can install its signal handlers before numba, scikit-learn and pandas load,
# and `infomec --version` answers at once.
_EXPORTS = {
    "ChanceWarning": "infomec.metrics.null",
    "Collector": "infomec.collector",
    "InfoMECWarning": "infomec._validation",
    "PRESETS": "infomec.presets",
    "PruningRule": "infomec.presets",
    "ScoreResult": "infomec.result",
    "bootstrap": "infomec.bootstrap",
    "infoc": "infomec.metrics.infomec",
    "infoe": "infomec.metrics.infomec",
    "infom": "infomec.metrics.infomec",
    "nmi_matrix": "infomec.metrics.infomec",
    "score": "infomec.scoring",
}

__all__ = [
    "ChanceWarning",
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


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif not name.startswith("__") and importlib.util.find_spec(f"{__name__}.{name}"):
        value = importlib.import_module(f"{__name__}.{name}")  # infomec.demo, infomec.inputs, ...
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """This package's module type: importing the submodule ``infomec.bootstrap`` sets the
    package attribute of the same name to the module, which would shadow the public
    function :func:`bootstrap`; that one assignment is ignored (the function then loads
    through ``__getattr__``, as every public name does)."""

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == f"{__name__}.{name}":
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
