"""The documentation builds, with every warning an error (broken references, bad
docstrings under numpydoc, malformed pages)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

pytest.importorskip("sphinx")
pytest.importorskip("numpydoc")
pytest.importorskip("myst_parser")


def test_the_docs_build_with_warnings_as_errors(tmp_path):
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-d",
            str(tmp_path / "doctrees"),  # nothing is written into docs/
            str(DOCS),
            str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "MPLBACKEND": "Agg"},
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-5000:]
    html = tmp_path / "html"
    for page in ("index", "quickstart", "inputs", "metrics", "definitions", "reports",
                 "trainer", "integrations", "performance", "api", "changelog"):  # fmt: skip
        assert (html / f"{page}.html").is_file(), page
    api = (html / "api.html").read_text(encoding="utf-8")
    # The reference is generated from the docstrings: a few of them, rendered.
    for anchor in (
        "infomec.score",
        "infomec.ScoreResult.scalars",
        "infomec.inputs.formats.sniff_format",
    ):
        assert f'id="{anchor}"' in api, anchor
    assert 'id="infomec.integrations.lightning.InfoMECCallback"' in api
    assert "Parameters" in api and "Examples" in api


def test_every_page_is_in_the_table_of_contents():
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    pages = {path.stem for path in DOCS.glob("*.md")} | {path.stem for path in DOCS.glob("*.rst")}
    assert pages - {"index"} <= set(index.split())
