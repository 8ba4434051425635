"""The distribution claims only infomec's own names, and its entry points work."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def _installed_name(folder: Path) -> str:
    """The package name a source folder is installed under (pyproject's package-dir)."""
    relative = folder.relative_to(ROOT).as_posix()
    for package, source in sorted(SETUPTOOLS["package-dir"].items(), key=lambda kv: -len(kv[1])):
        if source != "." and (relative == source or relative.startswith(source + "/")):
            return package + relative[len(source) :].replace("/", ".")
    return relative.replace("/", ".")


def test_every_package_folder_is_listed_under_infomec():
    folders = [
        init.parent for top in ("infomec", "models") for init in (ROOT / top).rglob("__init__.py")
    ]
    expected = {_installed_name(folder) for folder in folders} | {"infomec._cli"}
    assert set(SETUPTOOLS["packages"]) == expected
    assert all(name == "infomec" or name.startswith("infomec.") for name in SETUPTOOLS["packages"])
    assert "py-modules" not in SETUPTOOLS


def test_license_file_is_there_and_declared():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert PYPROJECT["project"]["license"] == "MIT"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True)


def test_python_dash_m_infomec_runs_the_command(tmp_path):
    completed = _run("-m", "infomec", "--version", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("infomec ")
    completed = _run("-m", "infomec", "score", "missing.npz", "also-missing.npz", cwd=tmp_path)
    assert completed.returncode == 2 and completed.stderr.count("\n") == 1


def test_importing_infomec_is_cheap_and_the_api_loads_on_use(tmp_path):
    code = (
        "import sys, infomec\n"
        "assert 'numba' not in sys.modules and 'sklearn' not in sys.modules\n"
        "assert infomec.score.__module__ == 'infomec.scoring'\n"
        "assert callable(infomec.demo.make_example) and 'score' in dir(infomec)\n"
        "from infomec import Collector, PRESETS\n"
        "try:\n    infomec.no_such_name\nexcept AttributeError:\n    pass\n"
        "else:\n    raise SystemExit('no AttributeError')\n"
    )
    completed = _run("-c", code, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr


@pytest.mark.slow
def test_the_wheel_holds_only_infomec(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr
    (wheel,) = tmp_path.glob("infomec-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert {name for name in top_level if not name.endswith(".dist-info")} == {"infomec"}
    assert "infomec/_cli/cli.py" in names and "infomec/models/train.py" in names
