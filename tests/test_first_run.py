"""A first run (empty kernel cache) says once that it compiles; --quiet says nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import types

import numpy as np
import pytest

from infomec import _numba_cache
from infomec._numba_cache import COMPILING_MESSAGE, announce_compilation


def _fresh_kernel(module_name: str, name: str):
    """A new numba function whose module is ``module_name`` (compiled on first call)."""
    from numba import njit

    module = types.ModuleType(module_name)
    exec(f"def {name}(x):\n    return x * 2 + 1\n", module.__dict__)
    return njit(cache=False)(module.__dict__[name])


def test_the_first_compilation_of_an_infomec_kernel_is_announced_once(monkeypatch, capsys):
    monkeypatch.setitem(_numba_cache._ANNOUNCE, "done", False)
    with announce_compilation():
        assert _fresh_kernel("infomec.probe_a", "first")(np.float64(1.0)) == 3.0
        assert _fresh_kernel("infomec.probe_b", "second")(np.float64(2.0)) == 5.0
    assert capsys.readouterr().err == COMPILING_MESSAGE + "\n"


def test_other_kernels_and_quiet_runs_say_nothing(monkeypatch, capsys):
    monkeypatch.setitem(_numba_cache._ANNOUNCE, "done", False)
    with announce_compilation():
        _fresh_kernel("somebody_else", "theirs")(np.float64(1.0))  # not infomec's
    with announce_compilation(enabled=False):
        _fresh_kernel("infomec.probe_c", "quiet")(np.float64(1.0))
    _fresh_kernel("infomec.probe_d", "outside")(np.float64(1.0))  # outside any block
    assert capsys.readouterr().err == ""
    assert _numba_cache._ANNOUNCE["done"] is False


def _score(tmp_path, *flags: str) -> subprocess.CompletedProcess:
    rng = np.random.default_rng(0)
    sources = rng.integers(0, 3, size=(200, 2))
    tmp_path.mkdir(exist_ok=True)
    np.savez(tmp_path / "z.npz", latents=sources + 0.1 * rng.standard_normal((200, 2)))
    np.savez(tmp_path / "s.npz", sources=sources)
    code = "import sys, cli; sys.exit(cli.main())"
    environment = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    environment["PYTHONPATH"] = root
    return subprocess.run(
        [sys.executable, "-c", code, *flags, "score", "z.npz", "s.npz", "--format", "csv"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
    )


@pytest.mark.slow
def test_an_empty_cache_is_announced_once_then_never(tmp_path):
    # The kernels compile into an empty cache folder (some 15-30 s), then load from it.
    first = _score(tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stderr.count(COMPILING_MESSAGE) == 1
    second = _score(tmp_path)
    assert second.returncode == 0 and COMPILING_MESSAGE not in second.stderr
    quiet = _score(tmp_path / "quiet", "-q")  # an empty cache again, but --quiet
    assert quiet.returncode == 0 and quiet.stderr == ""
