"""A SymPy expression of one variable as a straight-line program: every distinct subexpression computed once,
in post order, so that an evaluator walks a flat list instead of a tree.

The interval prover (:mod:`gifsym.symbolic.prove.program`) and ball arithmetic (:mod:`gifsym.symbolic.balls`)
evaluate the same programs, each with its own arithmetic and its own set of functions.

Example:
    >>> x = sympy.Symbol("x")  # x is computed once, and both terms read it
    >>> straight_line(sympy.exp(x) + x**2, x).ops
    (('var',), ('fn', 'exp', 0), ('powi', 0, 2), ('add', (2, 1)))
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy


class Unsupported(Exception):
    """The expression uses something no evaluator here knows: another symbol, a constant that is not a
    finite real, or a function outside :data:`FUNCTIONS`."""


#: Every function some evaluator knows, by the name the programs carry.
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
    sympy.asin: "asin",
    sympy.acos: "acos",
    sympy.atan: "atan",
    sympy.asinh: "asinh",
    sympy.acosh: "acosh",
    sympy.atanh: "atanh",
}


@dataclass(frozen=True)
class Program:
    nodes: tuple  # the SymPy subexpression computed by each instruction
    ops: tuple  # ("var",) | ("const", c) | ("add", idx) | ("mul", idx) | ("powi", i, n)
    #            | ("powr", i, Rational) | ("powg", i, j) | ("fn", name, i)


def _children(e: sympy.Basic, var: sympy.Symbol | None) -> tuple:
    if var is not None and e == var:
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


@lru_cache(maxsize=2048)
def straight_line(expr: sympy.Expr, var: sympy.Symbol | None) -> Program:
    """The program of ``expr`` in ``var`` (``None``: a constant expression).

    Raises:
        Unsupported: see :class:`Unsupported`.
    """
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
        if var is not None and e == var:
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


__all__ = ["FUNCTIONS", "Program", "Unsupported", "straight_line"]
