"""The distribution claims only infomec's own names, and its entry points work."""

from __future__ import annotations

import os
import shutil
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
    expected = {_installed_name(folder) for folder in folders}
    assert set(SETUPTOOLS["packages"]) == expected
    assert all(name == "infomec" or name.startswith("infomec.") for name in SETUPTOOLS["packages"])
    # The root folder is never a package (every root .py would land in the wheel):
    # cli.py alone is a module of infomec._cli.
    assert SETUPTOOLS["py-modules"] == ["infomec._cli.cli"]
    assert SETUPTOOLS["package-dir"]["infomec._cli"] == "."


def _intended_files() -> set[str]:
    """What the wheel must hold: infomec/, models/ as infomec/models/, cli.py, py.typed."""
    files = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "infomec").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    files |= {
        "infomec/" + path.relative_to(ROOT).as_posix()
        for path in (ROOT / "models").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    return files | {"infomec/_cli/cli.py", "infomec/py.typed"}


def _build_wheel(source: Path, out: Path) -> list[str]:
    import importlib.metadata

    try:  # the installed setuptools builds it without a download when recent enough
        major = int(importlib.metadata.version("setuptools").split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        major = 0
    isolation = ["--no-build-isolation"] if major >= 77 else []
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", *isolation]
    completed = subprocess.run(
        [*command, "-w", str(out), str(source)], capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
    (wheel,) = out.glob("infomec-*.whl")
    return zipfile.ZipFile(wheel).namelist()


def test_the_wheel_ships_exactly_the_intended_files(tmp_path):
    # A copy of what the build reads, plus a stray module at the root that must not ship.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "cli.py"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("infomec", "models"):
        shutil.copytree(
            ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    (source / "stray_helper.py").write_text("x = 1\n")
    names = _build_wheel(source, tmp_path / "dist")
    shipped = {name for name in names if ".dist-info/" not in name}
    assert shipped == _intended_files()
    assert not any("stray_helper" in name for name in names)


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


def test_import_from_the_clones_parent_folder_finds_the_package(tmp_path):
    # The README's set-up installs in setuptools' compat editable mode, whose .pth file
    # puts the checkout on sys.path (PYTHONPATH stands for it here). From a folder that
    # holds a clone named `infomec` (a folder without __init__.py, which Python would
    # take as a namespace package), the checkout's regular package must win, with the
    # trainer's models/ as infomec.models.
    parent = tmp_path / "work"
    (parent / "infomec").mkdir(parents=True)
    code = (
        "import infomec, infomec.models; infomec.score; "
        "print(infomec.__file__); print(infomec.models.__file__)"
    )
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=parent, capture_output=True, text=True, env=environment
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == [
        str(ROOT / "infomec" / "__init__.py"),
        str(ROOT / "models" / "__init__.py"),
    ]
    # ... and this checkout's own install, from the folder above it.
    completed = _run("-c", "import infomec; infomec.score", cwd=ROOT.parent)
    assert completed.returncode == 0, completed.stderr


def test_an_installed_wheel_is_not_shadowed_by_a_clone_named_infomec(tmp_path):
    # The users' install (not editable): run from a folder that holds a clone named
    # `infomec`, `import infomec` must still find the package, not the clone's folder.
    names = _build_wheel(ROOT, tmp_path / "dist")
    assert "infomec/__init__.py" in names
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    target = tmp_path / "site"
    command = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target)]
    completed = subprocess.run([*command, str(wheel)], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    parent = tmp_path / "work"
    (parent / "infomec").mkdir(parents=True)  # what a clone looks like: no __init__.py
    (parent / "infomec" / "cli.py").write_text("raise SystemExit('the clone was imported')\n")
    code = "import infomec; infomec.score; print(infomec.__file__)"
    environment = {**os.environ, "PYTHONPATH": str(target)}
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=parent,
        capture_output=True,
        text=True,
        env=environment,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == str(target / "infomec" / "__init__.py")
