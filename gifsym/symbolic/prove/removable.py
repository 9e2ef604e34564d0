r"""Properties of a *function* whose formula has removable singularities (:func:`prove_extended`).

SymPy writes the derivative of ``(1 − t)(1 + 10⁻³ |t − ½|³)`` with a factor ``(t² − t + ¼)^{−1/2}``, which is
``0/0`` at ``t = ½`` although the function is C² there. A point where the *formula* is undefined is not a
counterexample: the function in question is the formula's continuous extension, when there is one. Here:

1. **Singular points.** The isolated points of the interval where the formula is undefined are the zeros
   of its divisors and of the arguments of ``g^{−1/2}``, ``log g`` (the definedness conditions of
   :func:`gifsym.symbolic.prove.program.definedness_conditions`), found exactly by ``solveset``
   (under a budget); if they cannot all be found exactly, nothing is claimed beyond the plain prover.
2. **Between them** the relation is proved on each open piece by :func:`prove_relation`.
3. **At each of them**, the two one-sided limits are computed exactly (``sympy.limit``). If they agree and are
   finite, the function one order below is differentiable there with this derivative (mean value theorem:
   a function continuous at ``p`` whose derivative has a limit ``L`` at ``p`` is differentiable at ``p`` with
   derivative ``L``, and the derivative is then continuous at ``p``); the relation is checked on ``L``. If
   they differ or are infinite, the derivative does not exist (or is not continuous) at ``p``: a genuine
   counterexample, reported with both limits.

Example:
    >>> import sympy
    >>> t = sympy.Symbol("t", real=True)
    >>> b = t + sympy.Rational(1, 1000) * (sympy.sqrt(t**2 - t + sympy.Rational(1, 4)) * (t - sympy.Rational(1, 2)))
    >>> prove_extended(sympy.diff(b, t), t, ">=", lo_open=True, hi_open=True).status
    'holds'
    >>> prove_extended(sympy.diff(b, t, 2), t, "finite", lo_open=True, hi_open=True).status
    'violated'
"""

from __future__ import annotations

import math
from itertools import pairwise

import sympy

from gifsym.budget import attempt
from gifsym.symbolic.prove.limits import prove_value
from gifsym.symbolic.prove.polynomial import roots_inside
from gifsym.symbolic.prove.program import compile_program, definedness_conditions
from gifsym.symbolic.prove.relations import prove_relation
from gifsym.symbolic.prove.verdict import Verdict, combine, fmt_expr, fmt_point

#: Seconds SymPy may spend finding the zeros of one definedness condition, and on one limit.
SOLVE_SECONDS = 3.0
LIMIT_SECONDS = 3.0
#: Most singular points handled in one interval.
MAX_POINTS = 16


def singular_points(expr: sympy.Expr, var: sympy.Symbol, lo: sympy.Expr, hi: sympy.Expr) -> tuple | None:
    """The points of ``(lo, hi)`` where the formula ``expr`` is undefined because a divisor (or the argument
    of ``g^{-1/2}``, ``log g``) vanishes: exact and increasing, ``()`` when there are none, None when they
    could not all be found exactly (then nothing beyond the plain prover is claimed)."""
    prog = compile_program(expr, var)
    if prog is None:
        return None
    points: set = set()
    domain = sympy.Interval.open(lo, hi)
    for g, rel in definedness_conditions(prog):
        if rel == ">=":  # sqrt(g) is defined where g = 0; where g < 0 the plain prover finds it
            continue
        if var not in g.free_symbols:
            continue
        if roots_inside(g, var, lo, hi) == 0:  # a polynomial without zeros there (Sturm, exact)
            continue
        ok, sol = attempt(lambda g=g: sympy.solveset(g, var, domain), SOLVE_SECONDS)
        if not ok:
            return None
        if sol is sympy.S.EmptySet:
            continue
        if not isinstance(sol, sympy.FiniteSet) or not all(p.is_number and p.is_real for p in sol):
            return None
        points |= set(sol)
    if len(points) > MAX_POINTS:
        return None
    return tuple(sorted(points, key=lambda p: float(sympy.N(p, 30))))


def _limit(expr: sympy.Expr, var: sympy.Symbol, p: sympy.Expr, side: str) -> sympy.Expr | None:
    ok, lim = attempt(lambda: sympy.limit(expr, var, p, side), LIMIT_SECONDS)
    if not ok or not isinstance(lim, sympy.Basic) or lim.has(sympy.Limit, sympy.AccumBounds, sympy.nan):
        return None
    if lim.free_symbols or not (lim.is_number or lim in (sympy.oo, -sympy.oo, sympy.zoo)):
        return None
    return lim


def prove_extended(
    expr: sympy.Expr,
    var: sympy.Symbol,
    relation: str,
    *,
    lo: object = 0,
    hi: object = 1,
    lo_open: bool = False,
    hi_open: bool = False,
    of: sympy.Expr | None = None,
) -> Verdict:
    r"""Like :func:`prove_relation`, for the continuous extension of ``expr`` across the isolated points where
    its formula is undefined (see the module docstring).

    ``expr`` is meant as the derivative of a function continuous on the interval (the caller proves that):
    at a singular point with equal finite one-sided limits ``L`` the derivative exists and equals ``L``, so
    ``relation`` is checked on ``L``; unequal or infinite limits refute the relation (the derivative does not
    exist there, or is not continuous). ``relation="finite"`` asks for a continuous extension. With ``of``
    (the function ``expr`` is the derivative of), its continuity at each singular point is proved here too.
    """
    lo, hi = sympy.nsimplify(lo), sympy.nsimplify(hi)
    points = singular_points(expr, var, lo, hi) if var in expr.free_symbols and not (
        expr.free_symbols - {var}) else None
    if not points:
        return prove_relation(expr, var, relation, lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open)
    ends = [lo, *points, hi]
    verdicts = []
    for k, (a, b) in enumerate(pairwise(ends)):
        verdicts.append(prove_relation(expr, var, relation, lo=a, hi=b, lo_open=lo_open if k == 0 else True,
                                       hi_open=hi_open if k == len(ends) - 2 else True))
    for p in points:
        verdicts.append(_at_point(expr, var, relation, p))
        if of is not None:
            dist = float(sympy.N(sympy.Min(p - lo, hi - p), 30))
            delta = sympy.Rational(1, 2 ** max(11, int(-math.log2(dist)) + 2))  # 2^-k < dist / 2
            near = p if p.is_Rational else sympy.Rational(str(sympy.N(p, 30)))
            c = prove_relation(of, var, "finite", lo=near - delta, hi=near + delta)
            verdicts.append(Verdict(c.status, f"{fmt_expr(of)} is continuous around {var} = {fmt_point(p)}: "
                                              f"{c.reason}"))
    v = combine(*verdicts)
    if v.status == "holds":
        shown = ", ".join(fmt_point(p) for p in points)
        return Verdict("holds", f"{fmt_expr(expr)} {relation} 0 on ({lo}, {hi}) for its continuous extension "
                                f"(removable singularities at {var} = {shown}): {v.reason}")
    return v


def _at_point(expr: sympy.Expr, var: sympy.Symbol, relation: str, p: sympy.Expr) -> Verdict:
    at = f"{var} = {fmt_point(p)}"
    left, right = _limit(expr, var, p, "-"), _limit(expr, var, p, "+")
    if left is None or right is None:
        return Verdict("unknown", f"{fmt_expr(expr)} is undefined at {at} (0/0) and SymPy could not compute both "
                                  "one-sided limits there")
    finite = all(x.is_finite for x in (left, right))
    if not finite or (left - right).is_zero is False:
        return Verdict("violated", f"{fmt_expr(expr)} is undefined at {at} and not removably so: its one-sided "
                                   f"limits are {left} (left) and {right} (right), so the derivative does not "
                                   f"exist or is not continuous there")
    if (left - right).is_zero is not True:
        return Verdict("unknown", f"{fmt_expr(expr)} at {at}: one-sided limits {left} and {right} could not be "
                                  "proved equal")
    if relation == "finite":
        return Verdict("holds", f"removable singularity at {at}: both one-sided limits are {left}")
    v = prove_value(left, var, 0, relation, 0)
    return Verdict(v.status, f"removable singularity at {at}: the derivative exists there and equals the "
                             f"limit {left} ({v.reason})")


__all__ = ["prove_extended", "singular_points"]
