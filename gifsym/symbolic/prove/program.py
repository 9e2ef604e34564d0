"""A SymPy expression of one variable compiled into a straight-line program (shared subexpressions
evaluated once), with the definedness conditions of its operations."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy

# ---------------------------------------------------------------------------------------------------
# Compiling a SymPy expression into a straight-line program (shared subexpressions evaluated once)


class Unsupported(Exception):
    """The expression uses something the numeric evaluators do not know."""


class Undefined(Exception):
    """An operation was applied outside its domain on (part of) a box."""


FUNCTIONS = {
    sympy.exp: "exp",
    sympy.log: "log",
    sympy.sin: "sin",
    sympy.cos: "cos",
    sympy.tan: "tan",
    sympy.sinh: "sinh",
    sympy.cosh: "cosh",
    sympy.tanh: "tanh",
    sympy.erf: "erf",
    sympy.Abs: "abs",
}


@dataclass(frozen=True)
class Program:
    nodes: tuple  # the SymPy subexpression computed by each instruction
    ops: tuple  # ("var",) | ("const", c) | ("add", idx) | ("mul", idx) | ("powi", i, n)
    #            | ("powr", i, Rational) | ("powg", i, j) | ("fn", name, i)


def _children(e: sympy.Basic, var: sympy.Symbol) -> tuple:
    if e == var:
        return ()
    if e.is_Number or e.is_NumberSymbol:
        if e.is_extended_real is not True or not e.is_finite:
            raise Unsupported(f"the constant {e}")
        if e.is_NumberSymbol and e not in (sympy.pi, sympy.E):
            raise Unsupported(f"the constant {e}")
        return ()
    if isinstance(e, sympy.Symbol):
        raise Unsupported(f"the symbol {e}")
    if e.is_Atom:
        raise Unsupported(f"the constant {e}")
    if isinstance(e, (sympy.Add, sympy.Mul)):
        return e.args
    if isinstance(e, sympy.Pow):
        return (e.base,) if isinstance(e.exp, sympy.Rational) else e.args
    if e.func in FUNCTIONS and len(e.args) == 1:
        return e.args
    raise Unsupported(f"the function {e.func.__name__}")


@lru_cache(maxsize=1024)
def _compile(expr: sympy.Expr, var: sympy.Symbol) -> Program:
    index: dict = {}
    nodes: list = []
    ops: list = []
    stack = [(expr, False)]
    while stack:  # iterative post-order: deep expressions cannot exhaust the Python stack
        e, ready = stack.pop()
        if e in index:
            continue
        if not ready:
            stack.append((e, True))
            stack.extend((c, False) for c in _children(e, var) if c not in index)
            continue
        if e == var:
            op: tuple = ("var",)
        elif e.is_Number or e.is_NumberSymbol:
            op = ("const", e)
        elif isinstance(e, sympy.Add):
            op = ("add", tuple(index[a] for a in e.args))
        elif isinstance(e, sympy.Mul):
            op = ("mul", tuple(index[a] for a in e.args))
        elif isinstance(e, sympy.Pow):
            if isinstance(e.exp, sympy.Integer):
                op = ("powi", index[e.base], int(e.exp))
            elif isinstance(e.exp, sympy.Rational):
                op = ("powr", index[e.base], e.exp)
            else:
                op = ("powg", index[e.base], index[e.exp])
        else:
            op = ("fn", FUNCTIONS[e.func], index[e.args[0]])
        index[e] = len(ops)
        ops.append(op)
        nodes.append(e)
    return Program(tuple(nodes), tuple(ops))


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
