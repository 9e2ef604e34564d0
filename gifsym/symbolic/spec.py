"""Spec strings: ``name:key=value,key=value`` and their ``+``-joined combinations.

The grammar of interface.md: a name, optionally a colon and comma-separated ``key=value`` items (a key
without ``=value`` is a symbolic parameter), or a single bare value (``gmm:FILE.json``). Values may be
bracketed lists (``mean=[1,2]``), whose commas do not separate items.

Example:
    >>> split_spec("vp:beta_min=0.1,beta_max=20")
    ('vp', {'beta_min': '0.1', 'beta_max': '20'}, None)
    >>> split_spec("gaussian:sigma=0.5,mean=[1,2]")
    ('gaussian', {'sigma': '0.5', 'mean': '[1,2]'}, None)
    >>> split_spec("gmm:mix.json")
    ('gmm', {}, 'mix.json')
"""

from __future__ import annotations

import re

from gifsym.errors import SpecError

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*\Z")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside square brackets."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth < 0:
                raise SpecError(f"unbalanced ']' in {text!r}")
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if depth != 0:
        raise SpecError(f"unbalanced '[' in {text!r}")
    parts.append("".join(cur))
    return parts


def split_spec(text: str) -> tuple[str, dict[str, str | None], str | None]:
    """Split one spec into ``(name, {key: value-or-None}, bare_value)``.

    Raises:
        SpecError: on an empty name, a malformed item or a repeated key.
    """
    if not isinstance(text, str) or not text.strip():
        raise SpecError(f"empty spec {text!r}; expected NAME or NAME:key=value,...")
    text = text.strip()
    name, _, rest = text.partition(":")
    name = name.strip().lower()
    if not _NAME.match(name):
        raise SpecError(f"bad name {name!r} in spec {text!r}; expected a word such as 'linear' or 'gaussian'")
    items: dict[str, str | None] = {}
    bare = None
    if rest.strip():
        for item in _split_top(rest, ","):
            item = item.strip()
            if not item:
                raise SpecError(f"empty item in spec {text!r}")
            key, eq, value = item.partition("=")
            key = key.strip()
            if not eq and not _KEY.match(key):
                # A single non-identifier item is a bare value, e.g. a file name.
                if bare is not None or items:
                    raise SpecError(f"unexpected {item!r} in spec {text!r}; expected key=value")
                bare = item
                continue
            if not _KEY.match(key):
                raise SpecError(f"bad parameter name {key!r} in spec {text!r}")
            if key in items:
                raise SpecError(f"parameter {key!r} given twice in spec {text!r}")
            items[key] = value.strip() if eq else None
            if eq and not items[key]:
                raise SpecError(f"parameter {key!r} has an empty value in spec {text!r}")
    return name, items, bare


def split_plus(text: str, names: set[str]) -> list[str]:
    """Split a combined spec ``A+B`` at each ``+`` that starts a known class name.

    A ``+`` inside a value (``kappa=1e+3``) is kept, because what follows it is not ``NAME`` or
    ``NAME:``.

    Example:
        >>> split_plus("ball:R=1+slc:kappa=-0.5", {"ball", "slc"})
        ['ball:R=1', 'slc:kappa=-0.5']
    """
    # Each output spec is collected as a list of its pieces and joined once (linear in the text's length;
    # appending to the string itself copies it every time, quadratic for a long "a+a+a+..." value).
    groups: list[list[str]] = []
    for part in _split_top(text, "+"):
        head = part.strip().partition(":")[0].strip().lower()
        if groups and head not in names:
            groups[-1].append(part)
        else:
            groups.append([part])
    return ["+".join(g).strip() for g in groups]
