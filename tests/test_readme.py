"""Every README and documentation example runs as written.

README.md and the pages of docs/ are parsed when the tests are collected, so new
examples are tested without touching this file:

- each ```python block runs in a fresh interpreter, in an empty temporary folder (so it
  must define or generate its own data); a block that imports an optional library
  (torch, lightning, wandb, h5py, ...) is skipped when that library is not installed;
- in each ```bash block, the concrete ``infomec ...`` command lines (no ``[options]``,
  ``{a,b}``, ``...`` or upper-case placeholders such as ``LATENTS``) run in order, in one
  empty temporary folder, and must exit 0; other lines (installs, synopses) are skipped.

A block whose fence is preceded by the line ``<!-- slow -->`` (invisible on GitHub) is
marked ``slow``: do that for any block that takes more than about 20 s.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
PAGES = [README, *sorted((REPO / "docs").glob("*.md"))]
# Libraries of the optional extras: a block importing one is skipped without it.
OPTIONAL = ("torch", "lightning", "tensorboard", "wandb", "h5py", "pyarrow", "safetensors")
SLOW_MARKER = "<!-- slow -->"
# An upper-case word standing alone (LATENTS, DIR, N), not part of a path or an option.
PLACEHOLDER = re.compile(r"(?<![\w/.=-])[A-Z][A-Z_]*(?![\w/.-])")


@dataclass(frozen=True)
class Block:
    language: str
    line: int  # 1-based line of the opening fence
    text: str
    slow: bool


def readme_blocks(path: Path = README) -> list[Block]:
    """The fenced code blocks of ``path``, in order."""
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        fence = re.match(r"^(`{3,})\s*([\w+-]*)\s*$", lines[index])
        if fence is None:
            index += 1
            continue
        start = index
        body: list[str] = []
        index += 1
        while index < len(lines) and not lines[index].startswith(fence.group(1)):
            body.append(lines[index])
            index += 1
        previous = next(
            (lines[j].strip() for j in range(start - 1, -1, -1) if lines[j].strip()), ""
        )
        blocks.append(
            Block(
                fence.group(2).lower(), start + 1, "\n".join(body) + "\n", previous == SLOW_MARKER
            )
        )
        index += 1
    return blocks


def concrete_commands(text: str) -> list[str]:
    """The ``infomec ...`` lines of a shell block that can run as they are."""
    joined = re.sub(r"\s*\\\n\s*", " ", text)  # continuation lines
    commands = []
    for line in joined.splitlines():
        command = line.strip()
        if not command.startswith("infomec "):
            continue
        if any(mark in command for mark in ("[", "{", "...")) or PLACEHOLDER.search(command):
            continue  # a synopsis, not an example
        commands.append(command)
    return commands


def _params(language: str) -> list:
    params = []
    for page in PAGES:
        name = page.relative_to(REPO).as_posix()
        for block in readme_blocks(page):
            if block.language != language:
                continue
            if language in ("bash", "sh", "shell") and not concrete_commands(block.text):
                continue
            marks = [pytest.mark.slow] if block.slow else []
            params.append(pytest.param(block, id=f"{name}:line{block.line}", marks=marks))
    return params


def _environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), *filter(None, [environment.get("PYTHONPATH")])]
    )
    environment["MPLBACKEND"] = "Agg"
    return environment


def _check(completed: subprocess.CompletedProcess, block: Block) -> None:
    assert completed.returncode == 0, (
        f"block at line {block.line} failed (exit {completed.returncode}):\n"
        f"{block.text}\n--- stdout\n{completed.stdout[-3000:]}\n--- stderr\n"
        f"{completed.stderr[-3000:]}"
    )


def test_the_readme_has_examples_of_both_kinds():
    readme = [block for block in readme_blocks(README) if block.language in ("python", "bash")]
    assert {block.language for block in readme} == {"python", "bash"}
    assert _params("python") and _params("bash")


def test_the_readme_starts_with_set_up_and_test_lines():
    first = readme_blocks(README)[0]
    setup, tests = first.text.strip().splitlines()[:2]
    assert setup.startswith("python3 -m venv .venv") and "activate" in setup
    assert setup.endswith("infomec demo")  # the console script of the activated venv
    assert "pytest" in tests and "-m slow" in tests and "min" in tests


def test_the_set_up_line_then_infomec_works_in_the_same_shell(tmp_path):
    # The set-up line as written, with the install replaced by this checkout's venv
    # (no network, minutes saved): what follows it must find `infomec`.
    setup = readme_blocks(README)[0].text.strip().splitlines()[0]
    venv = Path(sys.executable).parent.parent
    activation = setup.split("&&")[1].strip()
    assert activation == ". .venv/bin/activate"
    (tmp_path / ".venv").symlink_to(venv)
    environment = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PATH")}
    environment["PATH"] = "/usr/bin:/bin"
    completed = subprocess.run(
        ["bash", "-c", f"{activation} && infomec --version"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("infomec ")


@pytest.mark.parametrize("block", _params("python"))
def test_python_block_runs(block: Block, tmp_path: Path) -> None:
    for library in OPTIONAL:
        if re.search(rf"^\s*(import|from) {library}\b", block.text, re.M):
            if importlib.util.find_spec(library) is None:
                pytest.skip(f"the block needs {library}")
    script = tmp_path / "block.py"
    script.write_text(block.text, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    completed = subprocess.run(
        [sys.executable, str(script)],
        cwd=work,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    _check(completed, block)


@pytest.mark.parametrize("block", _params("bash"))
def test_cli_commands_run(block: Block, tmp_path: Path) -> None:
    # `infomec` is the console script of this checkout (cli.main), whatever is installed.
    script = "\n".join(
        [
            "set -euo pipefail",
            f'infomec() {{ "{sys.executable}" -c "import sys, cli; sys.exit(cli.main())" "$@"; }}',
            *concrete_commands(block.text),
        ]
    )
    completed = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    _check(completed, block)


def test_commands_are_told_from_synopses():
    text = (
        "infomec score LATENTS SOURCES [--discrete]\n"
        "infomec train --model {qlae,ae} --steps N --out DIR\n"
        "infomec demo --out demo && infomec score demo/entangled.npz demo/sources.npz \\\n"
        "    --format table\n"
        ".venv/bin/infomec demo\n"
        "infomec sweep LATENTS... --sources FILE\n"
    )
    assert concrete_commands(text) == [
        "infomec demo --out demo && infomec score demo/entangled.npz demo/sources.npz "
        "--format table"
    ]


def test_blocks_and_slow_marks_are_parsed(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(
        "text\n```python\nx = 1\n```\n\n<!-- slow -->\n\n```bash\ninfomec demo\n```\n"
        "````json\n{}\n````\n",
        encoding="utf-8",
    )
    assert readme_blocks(readme) == [
        Block("python", 2, "x = 1\n", False),
        Block("bash", 8, "infomec demo\n", True),
        Block("json", 11, "{}\n", False),
    ]
