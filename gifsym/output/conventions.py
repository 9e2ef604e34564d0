r"""The peer-conventions tables of the documentation, generated from :mod:`gifsym.convert`'s data.

docs/conventions.md holds the marker ``<!-- gifsym-peer-conventions -->``; the MkDocs hook
``docs/hooks/peer_conventions.py`` replaces it with :func:`conventions_markdown`, so the page cannot drift
from the code: each formula is printed by SymPy from the catalogue entry, each row comes from
:data:`~gifsym.symbolic.convert.peers.PEER_CLASSES` (peer → gifsym) or
:data:`~gifsym.symbolic.convert.peers.TO_PEER_RULES` (gifsym → peer).

Example:
    >>> md = conventions_markdown()
    >>> "FlowMatchEulerDiscreteScheduler" in md and "`fm-vp:" in md
    True
"""

from __future__ import annotations

from gifsym.output.latex import latex_expr
from gifsym.symbolic.convert.peers import CONVENTIONS, PEER_CLASSES, TO_PEER_RULES
from gifsym.symbolic.schedule import PEER_CATALOGUE, schedule

_PEERS = ("flow_matching", "diffusers", "torchcfm")


def _math(expr) -> str:
    return r"\(" + latex_expr(expr) + r"\)"


def _cell(text: str) -> str:
    """Text for a Markdown table cell (a bare '|' would end the cell)."""
    return text.replace("|", "\\|")


def _symbolic(name: str):
    """The catalogue entry with every parameter left symbolic, so the formulas show them."""
    params = [p.name for p in PEER_CATALOGUE[name].parameters]
    spec = name + (":" + ",".join(params) if params else "")
    return spec, schedule(spec)


def _spec_rows(spec_names: str) -> tuple[str, str, str]:
    """(spec with its parameters, a_t, b_t) for a catalogue name (or 'a / b' of two names)."""
    names = [n.strip() for n in spec_names.split("/")]
    specs, a_s, b_s = [], [], []
    for n in names:
        if n not in PEER_CATALOGUE:
            return spec_names, "—", "—"
        spec, s = _symbolic(n)
        specs.append(f"`{spec}`")
        a_s.append(_math(s.a))
        b_s.append(_math(s.b))
    return "<br>".join(specs), "<br>".join(a_s), "<br>".join(b_s)


def conventions_markdown() -> str:
    """Markdown: the conventions table of every peer, then per peer its classes → gifsym (with a_t, b_t
    printed by SymPy) and gifsym → its objects."""
    lines = ["### How each library writes the path", "",
             "| library | its path | gifsym's \\(a_t\\) (noise) | gifsym's \\(b_t\\) (data) | its time | its model "
             "predicts |", "|---|---|---|---|---|---|"]
    for c in CONVENTIONS:
        lines.append("| " + " | ".join(_cell(x) for x in (c.peer, c.path, c.a, c.b, c.time, c.model)) + " |")
    lines.append("")
    for peer in _PEERS:
        lines += [f"### {peer}", "", f"**{peer} → gifsym** (`gifsym.convert.from_peer(obj)`; the spec string "
                  "builds the same schedule without the package)", "",
                  "| class | parameters read | gifsym spec | \\(a_t\\) | \\(b_t\\) | kind | its time |",
                  "|---|---|---|---|---|---|---|"]
        for c in PEER_CLASSES:
            if c.peer != peer:
                continue
            if c.kind == "-":
                lines.append(f"| `{c.name}` | — | refused: noise and data are coupled by an OT plan, so the "
                             "marginal flow is not a GIF | — | — | — | — |")
                continue
            params = ", ".join(f"`{g}` ← `{p}`" for g, p in c.parameters) or "—"
            spec, a, b = _spec_rows(c.spec)
            lines.append(f"| `{c.name}` | {params} | {spec} | {a} | {b} | {c.kind} | {_cell(c.time)} |")
        lines += ["", f"**gifsym → {peer}** (`gifsym.convert.to_peer(schedule, \"{peer}\")`)", "",
                  "| gifsym schedules | object built |", "|---|---|"]
        for r in TO_PEER_RULES:
            if r.peer == peer:
                specs = "any schedule" if "*" in r.specs else ", ".join(f"`{n}`" for n in r.specs)
                lines.append(f"| {specs} | {_cell(r.builds)} |")
        lines.append("")
    lines += ["### Spec strings of other peer schedules", "",
              "| spec (parameters) | \\(a_t\\) | \\(b_t\\) | what it is |", "|---|---|---|---|"]
    listed = {n.strip() for c in PEER_CLASSES for n in c.spec.split("/")}
    for name, entry in PEER_CATALOGUE.items():
        if name in listed:
            continue
        spec, s = _symbolic(name)
        lines.append(f"| `{spec}` | {_math(s.a)} | {_math(s.b)} | {_cell(entry.description)} |")
    lines.append("")
    return "\n".join(lines)
