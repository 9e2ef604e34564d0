r"""Displayed formulas that fit the page: long ones are split over lines or into named parts, never shrunk.

A report line is about 88 digit widths wide (11 pt type, 2.3 cm margins). :func:`latex_width` estimates how
wide a piece of LaTeX will be set, from the LaTeX itself (``\frac{a}{b}`` is as wide as the wider of a and
b, a superscript 0.7 of its width, ``\left(`` nothing, a binary operator with its spacing 2.4); it errs on
the wide side. :func:`display` then typesets ``lhs = expr`` in an ``align*`` block:

* if it fits, on one line;
* a ``Piecewise`` one line per branch; a ``Min``/``Max`` as ``\max(A_1, A_2)`` with each ``A_i`` below;
* a sum over several lines, ``+`` at the start of each continuation line;
* a fraction whose parts are too long as ``\mathcal N_k / \mathcal D_k`` with the numerator and the
  denominator named below (each split again if need be);
* a product factor by factor.

Example:
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> print(display("u", 1 / (1 + x)))
    \begin{align*}
      u &= \frac{1}{x + 1}
    \end{align*}
    >>> latex_width(r"\frac{1}{x + 1}") < latex_width("x + 1 + 1")
    True
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sympy

from gifsym.output.latex import latex_expr

#: Usable width of a display line, in digit widths of the 11 pt font (0.5 em = 5.5 pt): the text is
#: 483 pt = 88 digits wide; the rest is margin for the estimate and the alignment.
LINE = 72.0

_OPERATORS = set("+-=<>") | {r"\le", r"\ge", r"\preceq", r"\succeq", r"\cdot", r"\times", r"\leq", r"\geq",
                             r"\in", r"\to", r"\approx", r"\mid"}
_ZERO = {r"\left", r"\right", r"\bigl", r"\bigr", r"\big", r"\Big", r"\displaystyle", r"\limits", r"\nolimits",
         r"\mathrm", r"\mathbf", r"\mathit", r"\operatorname", r"\mathcal", r"\boldsymbol", r"\!",
         r"\dot", r"\ddot", r"\hat", r"\tilde", r"\bar", r"\vec", r"\widetilde", r"\widehat"}
_SPACES = {r"\,": 0.3, r"\;": 0.5, r"\:": 0.4, r"\ ": 0.6, r"\quad": 2.0, r"\qquad": 4.0, "~": 0.6}
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}^_]|[^\s\\{}^_]")


def latex_width(tex: str) -> float:
    r"""An estimate of the set width of math-mode LaTeX, in digit widths (see the module docstring).

    Example:
        >>> latex_width(r"\frac{\dot a_t}{a_t}") <= 3
        True
    """
    tokens = _TOKEN.findall(tex)
    pos = 0

    def group() -> float:
        nonlocal pos
        if pos >= len(tokens):
            return 0.0
        tok = tokens[pos]
        if tok == "{":
            pos += 1
            w = seq("}")
            pos += 1
            return w
        return atom()

    def atom() -> float:
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok in (r"\frac", r"\dfrac", r"\tfrac", r"\binom"):
            return max(group(), group()) + 0.8
        if tok == r"\sqrt":
            if pos < len(tokens) and tokens[pos] == "[":
                while pos < len(tokens) and tokens[pos] != "]":
                    pos += 1
                pos += 1
            return group() + 1.6
        if tok in ("^", "_"):
            return 0.7 * group()
        if tok in (r"\text", r"\textrm", r"\texttt", r"\textit", r"\mbox"):
            if pos < len(tokens) and tokens[pos] == "{":
                depth = 0
                chars = 0
                while pos < len(tokens):
                    t = tokens[pos]
                    depth += t == "{"
                    depth -= t == "}"
                    pos += 1
                    if depth == 0:
                        break
                    if t not in "{}":
                        chars += 1
                return chars * 0.95
            return 1.0
        if tok in _ZERO:
            return 0.0
        if tok in _SPACES:
            return _SPACES[tok]
        if tok in _OPERATORS:
            return 2.4
        if tok == ",":
            return 0.8
        if tok in "()[]|":
            return 0.7
        if tok in (r"\{", r"\}"):
            return 0.9
        if tok.startswith("\\"):
            name = tok[1:]
            if name in ("sin", "cos", "tan", "log", "exp", "max", "min", "sup", "inf", "det", "lim", "sinh",
                        "cosh", "tanh", "arg"):
                return len(name) * 0.95 + 0.4
            if name in ("sum", "int", "prod"):
                return 2.0
            return 1.1  # a Greek letter or a symbol
        return 1.0

    def seq(stop: str | None) -> float:
        nonlocal pos
        w = 0.0
        while pos < len(tokens) and tokens[pos] != stop:
            if tokens[pos] == "}":
                pos += 1
                continue
            w += group()
        return w

    return seq(None)


@dataclass
class _Namer:
    """Fresh names for the parts of a split formula: ``\\mathcal{N}_1``, ``\\mathcal{D}_1``, ``A_1``…"""

    counts: dict[str, int] = field(default_factory=dict)

    def __call__(self, kind: str) -> str:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return rf"{kind}_{{{self.counts[kind]}}}"


Printer = Callable[[Any], str]


#: A symbol name SymPy's LaTeX printer leaves as it is (no underscore, no Greek or accent name in it).
_PLACEHOLDER = "QQgifsymQQ"


def _rows(lhs: str, rel: str, expr: Any, show: Printer, namer: _Namer, room: float) -> list[tuple[str, str]]:
    """``(left cell, right cell)`` rows of an align* block for ``lhs rel expr`` within ``room`` digits."""
    tex = show(expr)
    head = latex_width(lhs) + 2.4
    if head + latex_width(tex) <= room or not isinstance(expr, sympy.Basic):
        return [(lhs, f"{rel} {tex}")]
    if isinstance(expr, sympy.Piecewise):
        out: list[tuple[str, str]] = []
        for value, cond in expr.args:
            when = r"\text{otherwise}" if cond == sympy.true else rf"\text{{if }} {latex_expr(cond)}"
            sub = _rows(lhs, rel, value, show, namer, room - latex_width(when) - 4)
            first_left, first_right = sub[0]
            out.append((first_left, f"{first_right} \\qquad {when}"))
            out += sub[1:]
        return out
    if isinstance(expr, (sympy.Max, sympy.Min)):
        op = r"\max" if isinstance(expr, sympy.Max) else r"\min"
        names = [namer("A") for _ in expr.args]
        out = [(lhs, rf"{rel} {op}\left({', '.join(names)}\right), \quad \text{{where}}")]
        for n, a in zip(names, expr.args):
            out += _rows(n, "=", a, show, namer, room)
        return out
    num, den = sympy.fraction(sympy.together(expr)) if isinstance(expr, (sympy.Mul, sympy.Pow)) else (expr, 1)
    if den != 1:
        sign = ""
        if num.could_extract_minus_sign():
            num, sign = -num, "-"
        n_tex, d_tex = show(num), show(den)
        if head + max(latex_width(n_tex), latex_width(d_tex)) + 1 <= room:
            return [(lhs, rf"{rel} {sign}\frac{{{n_tex}}}{{{d_tex}}}")]
        out = []
        parts = []
        for part, part_tex, kind in ((num, n_tex, r"\mathcal{N}"), (den, d_tex, r"\mathcal{D}")):
            if head + latex_width(part_tex) <= room:
                parts.append(part_tex)
            else:
                name = namer(kind)
                parts.append(name)
                out += _rows(name, "=", part, show, namer, room)
        first = [(lhs, rf"{rel} {sign}\frac{{{parts[0]}}}{{{parts[1]}}}" +
                  (r", \quad \text{where}" if out else ""))]
        return first + out
    if isinstance(expr, sympy.Add):
        return _split_sum(lhs, rel, list(sympy.Add.make_args(expr)), show, namer, room)
    if isinstance(expr, sympy.Mul):
        factors = list(sympy.Mul.make_args(expr))
        if len(factors) > 1:
            return _split_product(lhs, rel, factors, show, namer, room)
    if isinstance(expr, sympy.MatrixBase):
        out = []
        for i in range(expr.shape[0]):
            for j in range(expr.shape[1]):
                out += _rows(rf"\left[{lhs}\right]_{{{i + 1}{j + 1}}}" if expr.shape[1] > 1 else
                             rf"\left[{lhs}\right]_{{{i + 1}}}", rel, expr[i, j], show, namer, room)
        return out
    if isinstance(expr, sympy.Function) and len(expr.args) == 1:
        name = namer(r"\mathcal{U}")
        inner = expr.func(sympy.Symbol(_PLACEHOLDER))
        outer = show(inner).replace(_PLACEHOLDER, name)
        return [(lhs, rf"{rel} {outer}, \quad \text{{where}}")] + _rows(name, "=", expr.args[0], show, namer, room)
    if isinstance(expr, sympy.Pow) and expr.exp.is_number and not expr.base.is_Atom:
        # A root or power of a long base (a nested radical): the base is named and split below.
        name = namer(r"\mathcal{U}")
        inner = sympy.Pow(sympy.Symbol(_PLACEHOLDER), expr.exp, evaluate=False)
        outer = show(inner).replace(_PLACEHOLDER, name)
        return [(lhs, rf"{rel} {outer}, \quad \text{{where}}")] + _rows(name, "=", expr.base, show, namer, room)
    if isinstance(expr, sympy.Pow) and not expr.exp.is_number:
        name = namer(r"\mathcal{U}")
        return [(lhs, rf"{rel} e^{{{name}}}, \quad \text{{where}}" if expr.base is sympy.E
                 else rf"{rel} {show(expr.base)}^{{{name}}}, \quad \text{{where}}")] + \
            _rows(name, "=", expr.exp, show, namer, room)
    return [(lhs, f"{rel} {tex}")]  # an atom: nothing to split


def _split_sum(lhs, rel, terms, show, namer, room) -> list[tuple[str, str]]:
    head = latex_width(lhs) + 2.4
    lines: list[list[Any]] = [[]]
    width = head
    extra: list[tuple[str, str]] = []
    shown: list[str] = []
    for term in terms:
        tex = show(term)
        w = latex_width(tex) + 2.4
        if w + 4 > room:  # a term too long for any line: named and shown below
            name = namer(r"\mathcal{T}")
            extra += _rows(name, "=", term, show, namer, room)
            tex, w = name, latex_width(name) + 2.4
        if lines[-1] and width + w > room:
            lines.append([])
            width = 4.0
        lines[-1].append(tex)
        width += w
        shown.append(tex)
    out = []
    for k, line in enumerate(lines):
        body = " + ".join(line).replace("+ -", "- ")
        if k == 0:
            out.append((lhs, f"{rel} {body}"))
        else:
            body = body if body.startswith("-") else "+ " + body
            out.append(("", rf"\quad {body}"))
    if extra:
        out[-1] = (out[-1][0], out[-1][1] + r", \quad \text{where}")
    return out + extra


def _split_product(lhs, rel, factors, show, namer, room) -> list[tuple[str, str]]:
    r"""Factors over several lines (``\cdot`` at the start of each continuation line); a factor too long
    for any line is named and shown below."""
    head = latex_width(lhs) + 2.4
    lines: list[list[str]] = [[]]
    width = head
    named: list[tuple[str, str]] = []
    for f in factors:
        tex = show(f)
        if isinstance(f, sympy.Add):
            tex = rf"\left({tex}\right)"
        w = latex_width(tex) + 0.6
        if w + 6 > room and isinstance(f, sympy.Basic) and not f.is_Atom:
            name = namer(r"\mathcal{F}")
            named += _rows(name, "=", f, show, namer, room)
            tex, w = name, latex_width(name) + 0.6
        if lines[-1] and width + w > room:
            lines.append([])
            width = 6.0
        lines[-1].append(tex)
        width += w
    out = [(lhs, f"{rel} " + " ".join(lines[0]))]
    out += [("", r"\quad \cdot " + " ".join(line)) for line in lines[1:]]
    if named:
        out[-1] = (out[-1][0], out[-1][1] + r", \quad \text{where}")
    return out + named


def display(lhs: str, expr: Any, *, rel: str = "=", show: Printer | None = None, room: float = LINE) -> str:
    r"""``lhs rel expr`` as an ``align*`` block that fits the line (see the module docstring).

    Args:
        lhs: LaTeX of the left-hand side.
        expr: a SymPy expression (or anything ``show`` prints).
        rel: the relation, e.g. ``"="`` or ``r"\le"``.
        show: the printer of expressions (default :func:`gifsym.output.latex.latex_expr`; a compact form
            passes its own, which names the quantities).
        room: the width available, in digit widths.
    """
    rows = display_rows(lhs, expr, rel=rel, show=show, room=room)
    return align(rows)


def display_rows(lhs: str, expr: Any, *, rel: str = "=", show: Printer | None = None,
                 room: float = LINE) -> list[tuple[str, str]]:
    """The rows of :func:`display`, to be combined with others in one ``align*`` block."""
    return _rows(lhs, rel, expr, show or latex_expr, _Namer(), room)


def align(rows: list[tuple[str, str]]) -> str:
    """An ``align*`` block of ``(left, right)`` rows (the right cell starts with its relation)."""
    body = " \\\\\n".join(f"  {left} &{right}" for left, right in rows)
    return "\\begin{align*}\n" + body + "\n\\end{align*}"


def no_plus_minus(tex: str) -> str:
    """``a + -b`` as ``a - b`` (SymPy never prints it, but joined pieces can)."""
    return re.sub(r"\+\s*-", "- ", tex)


__all__ = ["LINE", "align", "display", "display_rows", "latex_width", "no_plus_minus"]
