"""The result of :func:`infomec.score`: every family's outputs plus the settings used."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def to_plain(value: Any) -> Any:
    """Convert numpy scalars and arrays (recursively) into JSON-ready Python objects."""
    if isinstance(value, dict):
        return {str(key): to_plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return to_plain(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return value


class NonFiniteError(RuntimeError):
    """A score or setting is NaN or infinite: a bug, since JSON output has no such values."""


def _non_finite_key(value: Any, where: str = "") -> str | None:
    """The dotted key of the first NaN/inf float in a :func:`to_plain` value, or None."""
    if isinstance(value, float):
        return None if math.isfinite(value) else (where or "<top>")
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((f"[{index}]", item) for index, item in enumerate(value))
    else:
        return None
    for key, item in items:
        joined = f"{where}{key}" if key.startswith("[") or not where else f"{where}.{key}"
        found = _non_finite_key(item, joined)
        if found is not None:
            return found
    return None


def dumps_json(content: Any, indent: int | None = 2) -> str:
    """Strict JSON (``allow_nan=False``) of a :func:`to_plain` value.

    Raises
    ------
    NonFiniteError
        ``content`` holds NaN or infinity, which JSON cannot represent; naming the key.

    Examples
    --------
    >>> dumps_json({"a": [1.0, 2]}, indent=None)
    '{"a": [1.0, 2]}'
    >>> try:
    ...     dumps_json({"a": {"b": float("nan")}})
    ... except NonFiniteError as error:
    ...     print(str(error).split(",")[0])
    a.b is NaN or infinite
    """
    content = to_plain(content)
    key = _non_finite_key(content)
    if key is not None:
        raise NonFiniteError(
            f"{key} is NaN or infinite, which JSON cannot hold; this is a bug in infomec, "
            "please report it with the command that produced it"
        )
    return json.dumps(content, indent=indent, allow_nan=False)


def is_count(key: str) -> bool:
    """Whether the scalar score ``key`` (``"<family>.<name>"``) counts something, so that
    it is shown as an integer (``factor_vae.num_active_dims``).

    Examples
    --------
    >>> is_count("factor_vae.num_active_dims"), is_count("infomec.infom")
    (True, False)
    """
    name = key.rpartition(".")[2]
    return name.startswith(("num_", "n_"))


def per_source_key(index: int) -> str:
    """Key of source ``index``'s InfoE interval in the dict :func:`infomec.bootstrap` returns."""
    return f"infomec.infoe_per_source[{index}]"


#: Statistics of a chance level that :meth:`ScoreResult.chance_scalars` flattens, with
#: the suffix of their column (``infomec.infom_chance``, ``infomec.infom_chance_p95``).
CHANCE_COLUMNS = {"mean": "_chance", "p95": "_chance_p95", "p_value": "_p_value"}


def chance_key(score_key: str, statistic: str = "mean") -> str:
    """Column of a score's chance level (``"infomec.infom"`` -> ``"infomec.infom_chance"``).

    Examples
    --------
    >>> chance_key("infomec.infom"), chance_key("mig.score", "p95")
    ('infomec.infom_chance', 'mig.score_chance_p95')
    """
    return score_key + CHANCE_COLUMNS[statistic]


def format_score(key: str, value: float, digits: int = 4) -> str:
    """``value`` as text: counts (:func:`is_count`) whole as integers (``4``, not
    ``4.0000``; a non-integral interval bound keeps one decimal), other scores with
    ``digits`` decimals.

    Examples
    --------
    >>> format_score("irs.num_active_dims", 4.0), format_score("irs.num_active_dims", 3.5)
    ('4', '3.5')
    >>> format_score("infomec.infom", 1.0, 3)
    '1.000'
    """
    value = float(value)
    if is_count(key) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else f"{value:.1f}"
    return f"{value:.{digits}f}"


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


@dataclass(frozen=True)
class ScoreResult:
    """Scores of one representation, as returned by :func:`infomec.score`.

    Attributes
    ----------
    families : dict
        ``{"infomec": {"infom": ..., "nmi": ndarray, ...}, "<family>": {...}}``.
    settings : dict
        Every resolved knob, the seed and the library versions.
    n_samples : int
    elapsed_s : float
        Wall time of the scoring, in seconds.
    source_names, latent_names : list of str
    inputs : dict
        Provenance of the input files, by role (``"latents"``, ``"sources"``,
        ``"test_latents"``, ``"test_sources"``): see
        :func:`infomec.provenance.file_record`. Empty for arrays scored in memory.
    digest : dict
        The input digest: how each input file and column was read, and each latent's
        role (active or pruned, code or continuous) with the reason
        (:mod:`infomec.inputs.digest`; ``infomec inspect`` prints it).

    Examples
    --------
    >>> import numpy as np, infomec
    >>> sources = np.repeat(np.arange(4), 25)[:, None]
    >>> result = infomec.score(latents=sources.copy(), sources=sources)
    >>> result.infom, result["infomec"]["active_latents"].tolist()
    (1.0, [True])
    """

    families: dict[str, dict[str, Any]]
    settings: dict[str, Any]
    n_samples: int
    elapsed_s: float
    source_names: list[str] = field(default_factory=list)
    latent_names: list[str] = field(default_factory=list)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    digest: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, family: str) -> dict[str, Any]:
        return self.families[family]

    @property
    def infom(self) -> float:
        """InfoM (modularity)."""
        return self.families["infomec"]["infom"]

    @property
    def infoe(self) -> float:
        """InfoE (explicitness)."""
        return self.families["infomec"]["infoe"]

    @property
    def infoc(self) -> float:
        """InfoC (compactness)."""
        return self.families["infomec"]["infoc"]

    @property
    def nmi(self) -> np.ndarray:
        """The (n_sources, n_latents) normalized mutual information matrix."""
        return self.families["infomec"]["nmi"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: one key per family, then settings (versions included), the
        input files (``inputs``, empty for in-memory arrays), names, n_samples, elapsed_s."""
        output: dict[str, Any] = {name: to_plain(values) for name, values in self.families.items()}
        output["settings"] = to_plain(self.settings)
        output["inputs"] = to_plain(self.inputs)
        output["input_digest"] = to_plain(self.digest)
        output["source_names"] = list(self.source_names)
        output["latent_names"] = list(self.latent_names)
        output["n_samples"] = int(self.n_samples)
        output["elapsed_s"] = float(self.elapsed_s)
        return output

    def to_json(self, indent: int | None = 2) -> str:
        """The :meth:`to_dict` content as a strict JSON string.

        Raises
        ------
        NonFiniteError
            A value is NaN or infinite (never for a result of :func:`infomec.score`).
        """
        return dumps_json(self.to_dict(), indent=indent)

    def scalars(self) -> dict[str, float]:
        """Every scalar score, keyed ``"<family>.<name>"`` (e.g. ``"infomec.infom"``).

        What the integrations (:mod:`infomec.integrations`) log, what
        :meth:`to_frame` puts in its row and what ``--format csv`` prints: one float
        per scalar of every family scored (per-source arrays and matrices are left out).

        Returns
        -------
        dict of str to float

        Examples
        --------
        >>> import numpy as np, infomec
        >>> sources = np.repeat(np.arange(3), 20)[:, None]
        >>> infomec.score(latents=sources.copy(), sources=sources).scalars()
        {'infomec.infom': 1.0, 'infomec.infoe': 1.0, 'infomec.infoc': 1.0}
        """
        return {
            f"{family}.{name}": float(value)
            for family, values in self.families.items()
            for name, value in values.items()
            if _is_scalar(value)
        }

    @property
    def chance(self) -> dict[str, dict[str, Any]]:
        """Chance levels by family (``{"infomec": {"infom": {"mean": ..}, ..}}``); empty
        when the score ran with ``null=0``. See :mod:`infomec.metrics.null`."""
        return {
            name: values["chance"] for name, values in self.families.items() if "chance" in values
        }

    def chance_scalars(self) -> dict[str, float]:
        """Each chance level's mean, 95th percentile and the score's p-value, keyed as
        :func:`chance_key` names them (``"infomec.infom_chance"``, ...)."""
        flat = {}
        for family, chance in self.chance.items():
            for name, level in chance.items():
                if isinstance(level, dict):
                    for statistic in CHANCE_COLUMNS:
                        flat[chance_key(f"{family}.{name}", statistic)] = float(level[statistic])
        return flat

    def to_frame(self):
        """One-row :class:`pandas.DataFrame` of :meth:`scalars`, the
        :meth:`chance_scalars` when there are any, and ``n_samples``."""
        import pandas as pd  # imported lazily: it is slow to import and rarely needed

        row = {**self.scalars(), **self.chance_scalars(), "n_samples": self.n_samples}
        return pd.DataFrame([row])

    # Plotting lives in infomec.figures; it is imported here, on first use, so that
    # ``import infomec`` never pays for (or requires a working) matplotlib.

    def plot_nmi(self, ax=None, **kwargs):
        """NMI heatmap (sources x latents); see :func:`infomec.figures.plot_nmi`.

        Returns the matplotlib ``Axes`` (``ax.figure`` is the figure).

        Examples
        --------
        >>> import numpy as np, infomec
        >>> sources = np.repeat(np.arange(3), 20)[:, None]
        >>> ax = infomec.score(latents=sources.copy(), sources=sources).plot_nmi()
        >>> [label.get_text() for label in ax.get_yticklabels()], ax.texts[0].get_text()
        (['s0'], '1.00')
        """
        from infomec.figures import plot_nmi

        return plot_nmi(self, ax, **kwargs)

    def plot_infoe(self, ax=None, **kwargs):
        """Per-source InfoE bars; see :func:`infomec.figures.plot_infoe`. Returns ``Axes``.

        Examples
        --------
        >>> import numpy as np, infomec
        >>> sources = np.repeat(np.arange(3), 20)[:, None]
        >>> ax = infomec.score(latents=sources.copy(), sources=sources).plot_infoe()
        >>> [label.get_text() for label in ax.get_xticklabels()]
        ['s0']
        """
        from infomec.figures import plot_infoe

        return plot_infoe(self, ax, **kwargs)

    def plot_summary(self, figure=None, **kwargs):
        """Every scalar score (and DCI importance); see :func:`infomec.figures.plot_summary`.

        Returns the matplotlib ``Figure``.

        Examples
        --------
        >>> import numpy as np, infomec
        >>> sources = np.repeat(np.arange(3), 20)[:, None]
        >>> figure = infomec.score(latents=sources.copy(), sources=sources).plot_summary()
        >>> len(figure.axes)
        1
        """
        from infomec.figures import plot_summary

        return plot_summary(self, figure, **kwargs)
