"""MkDocs hook: replace ``<!-- gifsym-peer-conventions -->`` with the peer tables generated from the code
(:func:`gifsym.output.conventions.conventions_markdown`), so docs/conventions.md cannot drift from it."""

from __future__ import annotations

import os
import sys

MARKER = "<!-- gifsym-peer-conventions -->"


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER not in markdown:
        return markdown
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if root not in sys.path:
        sys.path.insert(0, root)
    from gifsym.output.conventions import conventions_markdown

    return markdown.replace(MARKER, conventions_markdown())
