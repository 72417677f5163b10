"""Sphinx configuration: furo theme, MyST Markdown, autodoc of the public modules."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "gym-mecoffload"
author = "the gym-mecoffload developers"
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "envpages",
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "environments.md"]  # the overview is the envs index's body
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]
html_theme = "furo"
html_title = "gym-mecoffload"
autodoc_member_order = "bysource"
# gymnasium's own docstrings (Env.step, ...) are not ours to fix: show only ours.
autodoc_inherit_docstrings = False
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
