"""Progress of long jobs (one helper for all), ``--quiet``, and warnings that point at
the caller's line."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import cli
import infomec
from infomec import progress as progress_module
from infomec.inputs.files import load_array
from infomec.progress import progress, progress_line, quiet

LINE = re.compile(r"^infomec: (\w+) (\d+)/(\d+) \((\d+)%\), .*elapsed")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def fast_lines(monkeypatch):
    monkeypatch.setenv("INFOMEC_PROGRESS_INTERVAL", "0.05")


def test_progress_line_format():
    assert progress_line("bootstrap", 40, 200, 12.0) == (
        "infomec: bootstrap 40/200 (20%), 12 s elapsed, ETA 48 s"
    )
    assert progress_line("sweep", 3, 3, 130.0) == "infomec: sweep 3/3 (100%), 2 min 10 s elapsed"
    assert progress_line("score", 1, 4, 7200.0, "dci").endswith(
        "dci, 2 h 00 min elapsed, ETA 6 h 00 min"
    )


def test_lines_when_not_a_terminal(fast_lines):
    stream = io.StringIO()
    with progress(4, "job", stream=stream) as bar:
        for _ in range(4):
            time.sleep(0.08)
            bar.update()
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 2 and all(LINE.match(line) for line in lines)
    assert lines[-1].startswith("infomec: job 4/4 (100%)")  # a last line once it is done
    counts = [int(LINE.match(line).group(2)) for line in lines]
    assert counts == sorted(counts)


def test_a_short_job_prints_nothing():
    stream = io.StringIO()
    with progress(3, "job", stream=stream) as bar:
        bar.update(3)
    assert stream.getvalue() == ""


def test_a_terminal_gets_a_tqdm_bar(monkeypatch):
    monkeypatch.setattr(progress_module, "TTY_DELAY", 0.0)
    stream = FakeTerminal()
    with progress(2, "job", unit="thing", stream=stream) as bar:
        bar.update(2)
    assert bar.mode == "tty"
    assert "job" in stream.getvalue() and "2/2" in stream.getvalue()


def test_disabled_quiet_and_nested_jobs_print_nothing(fast_lines):
    stream = io.StringIO()
    with progress(1, "off", stream=stream, enabled=False) as bar:
        time.sleep(0.12)
    assert bar.mode == "off"
    with quiet(), progress(1, "quiet", stream=stream) as bar:
        time.sleep(0.12)
    assert bar.mode == "off" and stream.getvalue() == ""
    with progress(1, "outer", stream=io.StringIO()) as outer:
        with progress(1, "inner", stream=stream) as inner:
            time.sleep(0.12)
    assert outer.mode == "lines" and inner.mode == "off" and stream.getvalue() == ""
    # enabled=True overrides quiet, for callers who ask explicitly.
    with quiet(), progress(1, "asked", stream=stream, enabled=True) as bar:
        pass
    assert bar.mode == "lines"


def test_quiet_restores_warnings_and_progress_afterwards():
    with quiet():
        warnings.warn("hidden", UserWarning, stacklevel=1)  # no error, nothing shown
        assert progress_module.is_quiet()
    assert not progress_module.is_quiet()
    with pytest.warns(UserWarning, match="shown"):
        warnings.warn("shown", UserWarning, stacklevel=1)


def test_bootstrap_reports_progress_lines(rng, monkeypatch):
    monkeypatch.setenv("INFOMEC_PROGRESS_INTERVAL", "0.001")
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    sources = rng.integers(0, 3, size=(300, 2))
    latents = sources + 0.3 * rng.standard_normal(sources.shape)
    infomec.bootstrap(latents=latents, sources=sources, n_boot=6)
    lines = [line for line in stream.getvalue().splitlines() if line.startswith("infomec: ")]
    assert lines and all(line.startswith("infomec: bootstrap ") for line in lines)
    assert lines[-1].startswith("infomec: bootstrap 6/6 (100%)")  # no nested score lines


def test_score_names_the_family_under_way(fast_lines, rng, monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    sources = rng.integers(0, 3, size=(300, 2))
    latents = sources + 0.3 * rng.standard_normal(sources.shape)
    from infomec.metrics import REGISTRY

    original = REGISTRY["mig"].compute

    def slow(*args, **kwargs):
        time.sleep(0.2)
        return original(*args, **kwargs)

    monkeypatch.setitem(REGISTRY, "mig", dataclasses.replace(REGISTRY["mig"], compute=slow))
    infomec.score(latents=latents, sources=sources, metrics="infomec,mig")
    assert "infomec: score 1/2 (50%), mig, " in stream.getvalue()
    stream.truncate(0)
    infomec.score(latents=latents, sources=sources, metrics="infomec,mig", progress=False)
    assert stream.getvalue().strip("\x00") == ""


def _user_line_warning(latents, sources):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        infomec.score(latents=latents, sources=sources, k=500)  # warnings must name this line
        line = sys._getframe().f_lineno - 1
    return caught, line


def test_warnings_point_at_the_callers_line(rng):
    sources = rng.integers(0, 3, size=(300, 2))
    latents = sources + 0.1 * rng.standard_normal(sources.shape)
    caught, line = _user_line_warning(latents, sources)
    ours = [w for w in caught if issubclass(w.category, infomec.InfoMECWarning)]
    assert ours, "k beyond every class warns"
    assert all(w.filename == __file__ and w.lineno == line for w in ours)


def test_bootstrap_and_io_warnings_point_at_the_caller(rng, tmp_path):
    with open(tmp_path / "z.npy", "wb") as handle:
        np.savez(handle, latents=np.zeros((5, 2)))  # an .npz named .npy
    with pytest.warns(infomec.InfoMECWarning, match="read as a .npz file") as record:
        load_array(tmp_path / "z.npy", "latents")
    assert record[0].filename == __file__
    sources = rng.integers(0, 3, size=(300, 2))
    latents = sources + 0.1 * rng.standard_normal(sources.shape)
    with pytest.warns(infomec.InfoMECWarning, match="resamples") as record:
        infomec.bootstrap(latents=latents, sources=sources, n_boot=3, k=500, progress=False)
    assert {w.filename for w in record} == {__file__}


def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli", *argv],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "INFOMEC_PROGRESS_INTERVAL": "0.2"},
    )


def test_quiet_silences_warnings_not_errors_and_keeps_the_status(tmp_path, rng, capsys):
    sources = rng.integers(0, 3, size=(300, 2))
    np.save(tmp_path / "z.npy", sources + 0.1 * rng.standard_normal(sources.shape))
    np.save(tmp_path / "s.npy", sources)
    paths = [str(tmp_path / "z.npy"), str(tmp_path / "s.npy"), "--k", "500"]  # k warns
    assert cli.main(["score", *paths]) == 0
    assert "infomec: warning:" in capsys.readouterr().err
    for argv in (["-q", "score", *paths], ["score", *paths, "--quiet"]):
        assert cli.main(argv) == 0
        captured = capsys.readouterr()
        assert captured.err == "" and '"infom"' in captured.out
    assert cli.main(["score", "--quiet", paths[0], str(tmp_path / "missing.npy")]) == 2
    assert "infomec: error:" in capsys.readouterr().err
    # and the next command is not quiet any more
    assert cli.main(["score", *paths]) == 0
    assert "infomec: warning:" in capsys.readouterr().err


@pytest.mark.slow
def test_report_with_bootstrap_prints_progress_lines_to_a_file(tmp_path, rng):
    sources = rng.integers(0, 3, size=(400, 2))
    np.save(tmp_path / "z.npy", sources + 0.3 * rng.standard_normal(sources.shape))
    np.save(tmp_path / "s.npy", sources)
    args = ["report", str(tmp_path / "z.npy"), str(tmp_path / "s.npy"), "--bootstrap", "30"]
    done = _cli(*args, "--out", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    assert re.search(r"^infomec: bootstrap \d+/30 \(\d+%\)", done.stderr, re.M)
    done = _cli("-q", *args, "--out", str(tmp_path / "r2"))
    assert done.returncode == 0 and done.stderr == ""
