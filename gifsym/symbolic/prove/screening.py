"""Step 1 of a proof: look for counterexamples on a floating-point grid, each confirmed to 50 digits
(screening only: a float never proves anything)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import sympy

from gifsym.symbolic.prove.budget import DIGITS, VIOLATION_RTOL
from gifsym.symbolic.prove.grid import eval_np, grid_cached
from gifsym.symbolic.prove.points import is_undefined, n50, value_at
from gifsym.symbolic.prove.program import Program
from gifsym.symbolic.prove.task import Task
from gifsym.symbolic.prove.verdict import Verdict, fmt_expr, fmt_num, fmt_point

# -- 1. screening -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Screen:
    violation: Verdict | None
    evidence: str


def screen_grid(task: Task, prog: Program | None) -> _Screen:
    import numpy as np
    points, xs, regular = grid_cached(task.lo, task.hi, task.lo_open, task.hi_open)
    if prog is None:
        # No fast evaluator: a coarse grid evaluated by SymPy (exact substitution, 15 digits).
        keep = [
            i
            for i, p in enumerate(points)
            if regular[i] and ((p - task.lo) / (task.hi - task.lo) * 40).is_integer
        ]
        points, regular = [points[i] for i in keep], regular[keep]
        values = np.array([_float_at(task.f, task.var, p) for p in points])
    else:
        values = eval_np(prog, xs)
    finite = np.isfinite(values)
    scale = float(np.max(np.abs(values[finite]))) if finite.any() else 0.0
    if task.relation == "finite":
        order = sorted(np.flatnonzero(~finite), key=lambda i: not regular[i])
    else:
        bad = ~finite | (values <= 0 if task.strict else values < 0)
        candidates = np.flatnonzero(bad)
        # The most violating regular point first; then the end clusters; unevaluable points last.
        order = sorted(
            candidates, key=lambda i: (not finite[i], not regular[i], values[i] if finite[i] else 0.0)
        )
    for i in order[:6]:
        verdict = _confirm(task, points[i], scale)
        if verdict is not None:
            return _Screen(verdict, "")
    if finite.any():
        shown = np.where(finite, values, np.inf)
        k = int(np.argmin(shown))
        sign = -1 if task.relation in ("<", "<=") else 1
        what = "max" if sign < 0 else "min"
        evidence = (
            f"{what} of {fmt_expr(task.expr)} over {len(points)} points in {task.where} is "
            f"{fmt_num(sign * values[k])} at {task.var} = {fmt_point(points[k])}"
        )
        if not finite.all():
            evidence += f" ({int((~finite).sum())} points not evaluable in floating point)"
    else:
        evidence = "no grid point could be evaluated in floating point"
    return _Screen(None, evidence)


def _float_at(expr: sympy.Expr, var: sympy.Symbol, point: sympy.Expr) -> float:
    value = value_at(expr, var, point)
    if is_undefined(value) or value.free_symbols:
        return math.nan
    try:
        return float(value.evalf(15))
    except (TypeError, ValueError, OverflowError):
        return math.nan


def _imaginary_part(value: sympy.Expr):
    """The imaginary part of a constant when it is clearly nonzero at 50 digits, else None."""
    if value.free_symbols or not value.is_number:
        return None
    try:
        number = value.evalf(DIGITS)
        real, imaginary = number.as_real_imag()
    except (ValueError, TypeError, ArithmeticError, RecursionError):
        return None
    if not (imaginary.is_Number and real.is_Number):
        return None
    size = max(abs(real), abs(imaginary), 1)
    return imaginary if mpmath.mpf(abs(imaginary)) > VIOLATION_RTOL * mpmath.mpf(size) else None


def _confirm(task: Task, p: sympy.Rational, scale: float) -> Verdict | None:
    """Re-checks a suspicious grid point exactly / to 50 digits; a Verdict only for a real violation."""
    var, at = task.var, f"{task.var} = {fmt_point(p)}"
    value = n50(task.f, var, p)
    if value is None:
        exact = value_at(task.expr, var, p)
        if exact is sympy.nan and _removable(task.expr, var, p):
            # 0/0 with equal finite one-sided limits: the formula, not the function, is undefined there; no
            # counterexample (gifsym.symbolic.prove.removable decides the continuous extension).
            return None
        if is_undefined(exact) or (task.relation == "finite" and exact.has(sympy.oo, -sympy.oo)):
            return Verdict(
                "violated",
                f"{task.claim}: counterexample: {fmt_expr(task.expr)} is {fmt_expr(exact)} (not a finite real number) at {at}",
            )
        imaginary = _imaginary_part(exact)
        if imaginary is not None:
            return Verdict(
                "violated",
                f"{task.claim}: counterexample: {fmt_expr(task.expr)} is not real at {at} (imaginary part "
                f"{fmt_num(imaginary)}, checked to {DIGITS} digits)",
            )
        return None
    if task.relation == "finite":
        return None
    threshold = VIOLATION_RTOL * mpmath.mpf(scale) if scale > 0 else mpmath.mpf(VIOLATION_RTOL)
    shown = -value if task.relation in ("<", "<=") else value
    if value < -threshold:
        return Verdict(
            "violated",
            f"{task.claim}: counterexample: {fmt_expr(task.expr)} = {fmt_num(shown)} at {at}, "
            f"not {task.relation} 0 (checked to {DIGITS} digits)",
        )
    if task.strict and abs(value) <= threshold:
        exact = value_at(task.f, var, p)
        if exact.is_zero or (
            exact.is_number and sympy.count_ops(exact) <= 200 and sympy.simplify(exact) == 0
        ):
            return Verdict(
                "violated",
                f"{task.claim}: counterexample: {fmt_expr(task.expr)} = 0 at {at} (exact), "
                f"not {task.relation} 0",
            )
    return None


def _removable(expr: sympy.Expr, var: sympy.Symbol, p: sympy.Expr) -> bool:
    """Whether both one-sided limits at ``p`` are finite and equal (SymPy, within a budget; False if unknown)."""
    from gifsym.budget import attempt

    limits = []
    for side in ("-", "+"):
        ok, lim = attempt(lambda side=side: sympy.limit(expr, var, p, side), 3.0)
        if not ok or not isinstance(lim, sympy.Expr) or not lim.is_number or lim.is_finite is not True:
            return False
        limits.append(lim)
    return (limits[0] - limits[1]).is_zero is True
