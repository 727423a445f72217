"""Sphinx configuration of preserve's documentation: Markdown pages (MyST), the command
reference generated from the click commands (sphinx-click), the furo theme. Built by
`make docs` with warnings as errors."""

from preserve import __version__

project = "preserve"
author = "the preserve authors"
copyright = "the preserve authors"
version = release = __version__

extensions = ["myst_parser", "sphinx_click"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# Headings up to level 3 get anchors, so that pages can link to sections (`page.md#anchor`).
myst_heading_anchors = 3
# Options are written as typed (`--due`), never with "--" turned into a dash.
smartquotes = False

html_theme = "furo"
html_title = f"preserve {release}"
html_static_path: list[str] = []
