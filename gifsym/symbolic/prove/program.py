"""A SymPy expression of one variable compiled into a straight-line program (shared subexpressions
evaluated once), with the definedness conditions of its operations."""

from __future__ import annotations

from functools import lru_cache

import sympy

from gifsym.symbolic.straightline import FUNCTIONS as ALL_FUNCTIONS
from gifsym.symbolic.straightline import Program, Unsupported, straight_line

# ---------------------------------------------------------------------------------------------------
# Compiling a SymPy expression into a straight-line program (gifsym.symbolic.straightline), checked
# against the functions interval arithmetic knows


class Undefined(Exception):
    """An operation was applied outside its domain on (part of) a box."""


#: The functions interval arithmetic evaluates (the inverse trigonometric and hyperbolic ones of
#: :data:`gifsym.symbolic.straightline.FUNCTIONS` only ball arithmetic does).
FUNCTIONS = {f: name for f, name in ALL_FUNCTIONS.items()
             if name in ("exp", "log", "sin", "cos", "tan", "sinh", "cosh", "tanh", "erf", "abs")}
_NAMES = frozenset(FUNCTIONS.values())


@lru_cache(maxsize=1024)
def _compile(expr: sympy.Expr, var: sympy.Symbol) -> Program:
    prog = straight_line(expr, var)
    for op in prog.ops:
        if op[0] == "fn" and op[1] not in _NAMES:
            raise Unsupported(f"the function {op[1]}")
    return prog


def compile_program(expr: sympy.Expr, var: sympy.Symbol) -> Program | None:
    try:
        return _compile(expr, var)
    except Unsupported:
        return None


def unsupported_reason(expr: sympy.Expr, var: sympy.Symbol) -> str:
    try:
        _compile(expr, var)
    except Unsupported as error:
        return f"interval arithmetic does not support {error}"
    return ""


def definedness_conditions(prog: Program) -> tuple[tuple[sympy.Expr, str], ...]:
    """The definedness conditions ``(g, rel)`` meaning ``g rel 0`` (rel in ">", ">=", "!=")."""
    found: dict = {}
    for op in prog.ops:
        kind = op[0]
        if kind == "powi" and op[2] < 0:
            cond = (prog.nodes[op[1]], "!=")
        elif kind == "powr":
            cond = (prog.nodes[op[1]], ">=" if op[2] > 0 else ">")
        elif kind == "powg":
            cond = (prog.nodes[op[1]], ">")
        elif kind == "fn" and op[1] == "log":
            cond = (prog.nodes[op[2]], ">")
        elif kind == "fn" and op[1] == "tan":
            cond = (sympy.cos(prog.nodes[op[2]]), "!=")
        else:
            continue
        previous = found.get(cond[0])
        if previous is None or previous == cond[1]:
            found[cond[0]] = cond[1]
        else:  # g > 0 implies the others; g >= 0 together with g != 0 is g > 0
            found[cond[0]] = ">"
    return tuple(found.items())
