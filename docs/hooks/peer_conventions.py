"""MkDocs hook: regenerate the peer tables between the markers of docs/conventions.md
(:func:`gifsym.output.conventions.with_tables`), so the built page cannot drift from the code even if the file
was not regenerated (tests/test_issue21.py checks the file itself is current)."""

from __future__ import annotations

import os
import sys


def on_page_markdown(markdown: str, page, config, files) -> str:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if root not in sys.path:
        sys.path.insert(0, root)
    from gifsym.output.conventions import BEGIN, with_tables

    return with_tables(markdown) if BEGIN in markdown else markdown
