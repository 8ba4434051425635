"""Sphinx configuration of infomec's documentation (``sphinx-build -W -b html docs OUT``)."""

from __future__ import annotations

import os
import sys

# Build from a checkout without installing: infomec's own folder first.
sys.path.insert(0, os.path.abspath(".."))
os.environ.setdefault("MPLBACKEND", "Agg")

import infomec  # noqa: E402

# The integrations' libraries come with the [integrations] extra, not [docs] / [dev]:
# their modules are documented from stand-ins (the API text is infomec's own), so the
# docs build the same with or without them, and without loading Lightning.
autodoc_mock_imports = ["lightning"]

project = "infomec"
author = "the infomec authors"
copyright = "the infomec authors, MIT License"
release = infomec.__version__
version = release

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath"]

# API reference: numpydoc renders the docstrings (the scikit-learn convention).
autosummary_generate = False  # the reference pages are written out, nothing generated
autodoc_typehints = "none"  # the numpydoc "Parameters" sections say the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

html_theme = "alabaster"
html_title = f"infomec {release}"
html_static_path: list[str] = []
