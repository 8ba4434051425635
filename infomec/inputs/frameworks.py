"""Framework arrays in: torch tensors, JAX arrays and pandas objects become numpy arrays.

Every public function that takes latents or sources calls :func:`numpy_inputs` first, so
users pass what their pipeline holds. A type is recognised by its module (``sys.modules``
and the class's ``__module__``): this module never imports torch, JAX or pandas, so
scoring numpy arrays never loads them. Anything that is not recognised passes through
unchanged; :mod:`infomec._validation` then checks it like any array-like.
"""

from __future__ import annotations

import sys
from typing import Any, NamedTuple

import numpy as np

from infomec.inputs.interpret import from_pandas

__all__ = [
    "NumpyInputs",
    "column_names",
    "is_dataframe",
    "numpy_inputs",
    "to_numpy",
]


def _root_module(value: Any) -> str:
    return type(value).__module__.partition(".")[0]


def _loaded_type(module: str, name: str) -> type | None:
    """``module.name`` if that module is already imported (never imports it)."""
    found = getattr(sys.modules.get(module), name, None)
    return found if isinstance(found, type) else None


def _is_torch_tensor(value: Any) -> bool:
    tensor = _loaded_type("torch", "Tensor")  # a tensor exists only if torch was imported
    return tensor is not None and isinstance(value, tensor)


def _is_jax_array(value: Any) -> bool:
    # jax.Array instances live in jaxlib (``jaxlib.xla_extension``, ``jaxlib._jax``).
    return _root_module(value) in ("jax", "jaxlib") and hasattr(value, "__array__")


def _pandas_kind(value: Any) -> str | None:
    """``"frame"``, ``"series"`` or None (pandas not imported, or another type)."""
    for kind, name in (("frame", "DataFrame"), ("series", "Series")):
        found = _loaded_type("pandas", name)
        if found is not None and isinstance(value, found):
            return kind
    return None


def is_dataframe(value: Any) -> bool:
    """Whether ``value`` is a pandas DataFrame (False whenever pandas is not loaded)."""
    return _pandas_kind(value) == "frame"


def _torch_to_numpy(tensor: Any, name: str) -> np.ndarray:
    # detach: tensors that require grad refuse .numpy(); cpu: CUDA/MPS tensors too.
    tensor = tensor.detach().cpu()
    if tensor.layout != sys.modules["torch"].strided:  # sparse layouts have no numpy view
        tensor = tensor.to_dense()
    try:
        return tensor.numpy()
    except TypeError:  # dtypes numpy lacks (bfloat16, float8): their values fit float32
        pass
    try:
        return tensor.float().numpy()
    except (TypeError, RuntimeError) as error:
        raise ValueError(f"{name} cannot be read as an array: {error}") from None


def to_numpy(values: Any, name: str = "latents") -> Any:
    """``values`` as a numpy array if it is a torch tensor, JAX array or pandas object.

    Parameters
    ----------
    values : object
        Anything; types from torch, JAX and pandas are converted, the rest is returned
        unchanged.
    name : str, default="latents"
        Role of the array, used in messages. Columns of a ``*sources`` DataFrame may be
        text (kept as strings; beside numeric columns, an object array whose columns
        keep their own values); latents must be numeric.

    Returns
    -------
    ndarray or the input unchanged

    Raises
    ------
    ValueError
        A non-numeric latents column, or a missing value in a text sources column.

    Examples
    --------
    >>> import pandas as pd
    >>> to_numpy(pd.DataFrame({"shape": ["disk", "cube", "disk"], "size": [1, 2, 3]}), "sources")
    array([['disk', 1],
           ['cube', 2],
           ['disk', 3]], dtype=object)
    >>> to_numpy([1, 2])
    [1, 2]
    """
    if _is_torch_tensor(values):
        return _torch_to_numpy(values, name)
    if _is_jax_array(values):
        try:
            return np.asarray(values)  # copies from the device when needed
        except (TypeError, ValueError, RuntimeError) as error:  # e.g. a traced value
            raise ValueError(f"{name} cannot be read as an array: {error}") from None
    if _pandas_kind(values) is not None:
        return from_pandas(values, name)
    return values


def column_names(values: Any) -> list[str] | None:
    """Column names of a pandas DataFrame (or a named Series); None for anything else.

    Examples
    --------
    >>> import pandas as pd
    >>> column_names(pd.DataFrame({"a": [1], 2: [3]})), column_names(pd.Series([1]))
    (['a', '2'], None)
    """
    kind = _pandas_kind(values)
    if kind == "frame":
        return [str(column) for column in values.columns]
    if kind == "series" and values.name is not None:
        return [str(values.name)]
    return None


class NumpyInputs(NamedTuple):
    """What :func:`numpy_inputs` returns, in the order of its arguments."""

    latents: Any
    sources: Any
    test_latents: Any
    test_sources: Any
    source_names: Any
    latent_names: Any


def check_aligned_rows(first: Any, second: Any, first_name: str, second_name: str) -> None:
    """Refuse two pandas objects whose row indexes differ.

    Rows are paired by position; pandas users pair them by index label. When both sides
    carry an index and the two differ (shuffled, shifted, filtered), pairing by position
    would score mismatched rows without a word.

    Examples
    --------
    >>> import pandas as pd
    >>> check_aligned_rows(pd.Series([1, 2]), pd.Series([3, 4], index=[1, 0]), "a", "b")
    Traceback (most recent call last):
    ValueError: a and b have different row indexes (rows are paired by position): ...
    """
    if _pandas_kind(first) is None or _pandas_kind(second) is None:
        return
    if not first.index.equals(second.index):
        raise ValueError(
            f"{first_name} and {second_name} have different row indexes (rows are paired by "
            f"position): align them first, e.g. {second_name.split()[-1]}.loc["
            f"{first_name.split()[-1]}.index], or pass .to_numpy() to pair by position"
        )


def numpy_inputs(
    latents: Any,
    sources: Any,
    test_latents: Any = None,
    test_sources: Any = None,
    source_names: Any = None,
    latent_names: Any = None,
) -> NumpyInputs:
    """Convert the arrays of one call; take names from DataFrame columns when none given.

    Parameters
    ----------
    latents, sources, test_latents, test_sources : object
        Converted with :func:`to_numpy` (None stays None).
    source_names, latent_names : sequence of str, optional
        Kept when given; otherwise the column names of ``sources`` / ``latents`` when
        those are DataFrames (or named Series), else None.

    Returns
    -------
    NumpyInputs
        The six arguments, in order, ready for unpacking.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"shape": [0, 1], "size": [2, 3]})
    >>> inputs = numpy_inputs([[0.5], [0.1]], frame)
    >>> inputs.sources.tolist(), inputs.source_names, inputs.latent_names
    ([[0, 2], [1, 3]], ['shape', 'size'], None)
    """
    check_aligned_rows(latents, sources, "latents", "sources")
    check_aligned_rows(test_latents, test_sources, "test latents", "test sources")
    if source_names is None:
        source_names = column_names(sources)
    if latent_names is None:
        latent_names = column_names(latents)
    return NumpyInputs(
        to_numpy(latents, "latents"),
        to_numpy(sources, "sources"),
        None if test_latents is None else to_numpy(test_latents, "test latents"),
        None if test_sources is None else to_numpy(test_sources, "test sources"),
        source_names,
        latent_names,
    )
