"""Exact and 50-digit values of an expression at a point, and the exact (or rigorous) sign of a constant."""

from __future__ import annotations

import mpmath
import sympy

from gifsym.symbolic.expr import as_expr
from gifsym.symbolic.prove.budget import DIGITS
from gifsym.symbolic.prove.intervals import constant_enclosure, iv_ends

# ---------------------------------------------------------------------------------------------------
# Exact and 50-digit point values


def is_undefined(value: sympy.Basic) -> bool:
    return bool(value.has(sympy.nan, sympy.zoo)) or value.is_extended_real is False


def value_at(expr: sympy.Expr, var: sympy.Symbol, point: sympy.Expr) -> sympy.Expr:
    # subs would sympify (eval) a string point: convert caller values through the safe door first.
    expr, point = as_expr(expr, names={var.name: var}, what="expr"), as_expr(point, what="point")
    try:
        return expr.subs(var, point)
    except (ValueError, TypeError, ZeroDivisionError, ArithmeticError):
        return sympy.nan


def n50(expr: sympy.Expr, var: sympy.Symbol, point: sympy.Expr):
    """The value at ``point`` to 50 digits as an mpf, or None when not a finite real number.

    The point is substituted exactly first (evalf's own ``subs`` would round it, which turns a pole
    into a huge finite number); SymPy's evalf then works to 50 correct digits.
    """
    exact = value_at(expr, var, point) if var in expr.free_symbols else expr
    if exact.free_symbols or is_undefined(exact) or exact.has(sympy.oo, -sympy.oo):
        return None
    try:
        value = exact.evalf(DIGITS)
    except (ValueError, TypeError, ZeroDivisionError, ArithmeticError, RecursionError):
        return None
    if not (value.is_Number and value.is_finite and value.is_extended_real):
        return None
    with mpmath.workdps(DIGITS):
        return mpmath.mpf(value)

def exact_sign(value: sympy.Expr) -> int | None:
    """The sign of a constant, exactly (SymPy) or rigorously (interval arithmetic); None if unknown."""
    if value.has(sympy.nan, sympy.zoo):
        return None
    if value.is_zero:
        return 0
    if value.is_extended_positive:
        return 1
    if value.is_extended_negative:
        return -1
    enclosure = constant_enclosure(value)
    if enclosure is not None:
        a, b = iv_ends(enclosure)
        if a > 0:
            return 1
        if b < 0:
            return -1
    return None
