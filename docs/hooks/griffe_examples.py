"""Griffe extension: read gifsym's Google-style ``Example:`` sections as examples (griffe only knows the
plural ``Examples:``), so their ``>>>`` lines render as code instead of Markdown."""

from __future__ import annotations

import re

import griffe

_SINGULAR = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)


class ExampleSections(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _SINGULAR.sub(r"\1Examples:", obj.docstring.value)
