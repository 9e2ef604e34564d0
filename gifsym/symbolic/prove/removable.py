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
from gifsym.symbolic.prove.points import is_undefined, value_at
from gifsym.symbolic.prove.polynomial import roots_inside
from gifsym.symbolic.prove.program import compile_program, definedness_conditions
from gifsym.symbolic.prove.relations import prove_relation
from gifsym.symbolic.prove.verdict import Verdict, combine, fmt_expr, fmt_interval, fmt_point

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
    if expr.is_rational_function(var):
        # A rational function: cancel the common factors; where the reduced denominator does not vanish it is
        # continuous, so the limit is its value (sympy.limit can take seconds on b'' of a 0/0 polynomial).
        reduced = sympy.cancel(expr)
        value = value_at(reduced, var, p)
        if not is_undefined(value) and value.is_finite:
            return value
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
    its formula is undefined (see the module docstring), closed ends included: where the formula is
    undefined at a closed end (``(t - t²)/t`` at 0), the function's value there is its one-sided limit.

    Without ``of``, ``expr`` is a function itself (a schedule's ``a_t``): at a singular point with equal
    finite one-sided limits ``L`` its continuous extension takes the value ``L``, and ``relation`` is checked
    on ``L``. With ``of``, ``expr`` is meant as the derivative of ``of``, a function continuous on the
    interval (proved here too, for its own continuous extension): at a singular point with equal finite
    one-sided limits ``L`` the derivative exists and equals ``L``. Either way, unequal or infinite limits
    refute the relation (no continuous extension, or no derivative, there). ``relation="finite"`` asks for
    a continuous extension.

    Example:
        >>> t = sympy.Symbol("t", real=True)
        >>> v = prove_extended((t - t**2) / t, t, ">", hi_open=True)
        >>> v.status, "removable singularity at t = 0" in v.reason
        ('holds', True)
    """
    lo, hi = sympy.nsimplify(lo), sympy.nsimplify(hi)
    pure = var in expr.free_symbols and not (expr.free_symbols - {var})
    points = singular_points(expr, var, lo, hi) if pure else None
    ends = []  # (end, side): a closed end where the formula is undefined; the value there is a limit
    where = fmt_interval(lo, hi, lo_open, hi_open)
    if pure:
        if not lo_open and is_undefined(value_at(expr, var, lo)):
            ends.append((lo, "+"))
            lo_open = True
        if not hi_open and is_undefined(value_at(expr, var, hi)):
            ends.append((hi, "-"))
            hi_open = True
    if not points and not ends:
        v = prove_relation(expr, var, relation, lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open)
        if v.holds or relation == "finite" or not pure:
            return v
        at_lo, at_hi = (open_ and e.is_Rational and is_undefined(value_at(expr, var, e))
                        for e, open_ in ((lo, lo_open), (hi, hi_open)))
        if not (at_lo or at_hi):
            return v
        return _near_singular(expr, var, relation, lo, hi, lo_open, hi_open, at_lo, at_hi) or v
    points = points or ()
    cuts = [lo, *points, hi]
    verdicts = []
    singular = {p for p in points if p.is_Rational} | {e for e, _ in ends if e.is_Rational}
    # An open end where the formula is 0/0 (a' of (1 - t) sin(t)/t at t = 0) defeats interval arithmetic
    # next to it just the same.
    singular |= {e for e, is_open in ((lo, lo_open), (hi, hi_open))
                 if is_open and e.is_Rational and pure and is_undefined(value_at(expr, var, e))}
    for k, (a, b) in enumerate(pairwise(cuts)):
        a_open, b_open = lo_open if k == 0 else True, hi_open if k == len(cuts) - 2 else True
        v = prove_relation(expr, var, relation, lo=a, hi=b, lo_open=a_open, hi_open=b_open)
        if not v.holds and relation != "finite" and (a in singular or b in singular):
            v = _near_singular(expr, var, relation, a, b, a_open, b_open, a in singular, b in singular) or v
        verdicts.append(v)
    for end, side in ends:
        verdicts.append(_at_end(expr, var, relation, end, side))
    for p in points:
        verdicts.append(_at_point(expr, var, relation, p, derivative=of is not None))
        if of is not None:
            dist = float(sympy.N(sympy.Min(p - lo, hi - p), 30))
            delta = sympy.Rational(1, 2 ** max(11, int(-math.log2(dist)) + 2))  # 2^-k < dist / 2
            near = p if p.is_Rational else sympy.Rational(str(sympy.N(p, 30)))
            # The function itself may be 0/0 at p too (sin(t - 1/2)/(t - 1/2)): its continuous extension.
            c = prove_extended(of, var, "finite", lo=near - delta, hi=near + delta)
            verdicts.append(Verdict(c.status, f"{fmt_expr(of)} is continuous around {var} = {fmt_point(p)}: "
                                              f"{c.reason}"))
    v = combine(*verdicts)
    if v.status == "holds":
        shown = ", ".join(fmt_point(p) for p in (*(e for e, _ in ends), *points))
        claim = f"{relation} 0" if relation != "finite" else "finite"
        return Verdict("holds", f"{fmt_expr(expr)} {claim} on {where} for its continuous "
                                f"extension (the formula has a removable singularity at {var} = {shown}): "
                                f"{v.reason}")
    return v


def _near_singular(expr, var, relation, a, b, a_open, b_open, at_a, at_b) -> Verdict | None:
    r"""The sign of ``expr`` on a piece ``(a, b)`` next to a removable singular point, where interval
    arithmetic on the formula fails (``0/0`` on every box touching the point). Near the point ``p``, write
    ``expr = N/D`` (``sympy.together``) with ``D`` vanishing to order ``k`` at ``p`` and ``N`` to order ``≥ k``
    (checked exactly). Taylor's theorem with Lagrange remainder gives ``N(t) = N^{(k)}(ξ)(t - p)^k/k!`` and
    ``D(t) = D^{(k)}(η)(t - p)^k/k!`` with ``ξ, η`` between ``p`` and ``t``, so on a box ``J`` touching ``p``,
    ``expr(t) ∈ N^{(k)}(J) / D^{(k)}(J)``: two enclosures by interval arithmetic of functions with no
    singularity. The rest of the piece is left to :func:`prove_relation`."""
    n, d = sympy.fraction(sympy.together(expr))
    parts, lo, hi, lo_open, hi_open = [], a, b, a_open, b_open
    for p, is_end, side in ((a, at_a, "lo"), (b, at_b, "hi")):
        if not is_end:
            continue
        for frac in (sympy.Rational(1, 16), sympy.Rational(1, 256)):
            delta = (b - a) * frac
            box = (p, p + delta) if side == "lo" else (p - delta, p)
            v = _quotient_enclosure(n, d, var, relation, p, box)
            if v is not None:
                break
        else:
            return None
        parts.append(v)
        if side == "lo":
            lo, lo_open = p + delta, False
        else:
            hi, hi_open = p - delta, False
    rest = prove_relation(expr, var, relation, lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open)
    if not rest.holds:
        return None
    return Verdict("holds", "; ".join([rest.reason, *parts]))


def _quotient_enclosure(n, d, var, relation, p, box) -> str | None:
    """The reason why ``relation`` holds for ``n/d`` on ``box`` (touching the common zero ``p``), or None."""
    from fractions import Fraction

    from gifsym.symbolic.prove.intervals import iv_box, iv_ends, try_iv

    k = 0
    dk = d
    while k < 4:
        k += 1
        dk = sympy.diff(dk, var)
        value = value_at(dk, var, p)
        if is_undefined(value):
            return None
        if value.is_zero is False:
            break
    else:
        return None
    nk = n
    for j in range(k):
        if (sympy.simplify(value_at(nk, var, p)) if j else value_at(nk, var, p)).is_zero is not True:
            return None
        nk = sympy.diff(nk, var)
    progs = [compile_program(e, var) for e in (nk, dk)]
    if None in progs:
        return None
    x = iv_box(Fraction(int(box[0].p), int(box[0].q)), Fraction(int(box[1].p), int(box[1].q)))
    (en, sn), (ed, sd) = (try_iv(prog, x) for prog in progs)
    if en is None or ed is None or sn or sd:
        return None
    d_lo, d_hi = iv_ends(ed)
    if d_lo <= 0 <= d_hi:
        return None
    q_lo, q_hi = iv_ends(en / ed)  # mpmath.iv: outward rounding, so the quotient is enclosed rigorously
    ok = {">": q_lo > 0, ">=": q_lo >= 0, "<": q_hi < 0, "<=": q_hi <= 0}[relation]
    if not ok:
        return None
    return (f"on [{fmt_point(box[0])}, {fmt_point(box[1])}] next to the removable singularity at "
            f"{var} = {fmt_point(p)}: the numerator and denominator both vanish to order {k} there, so by "
            f"Taylor's theorem the quotient lies in N^({k})/D^({k}) over the box, enclosed in "
            f"[{float(q_lo):.6g}, {float(q_hi):.6g}] by interval arithmetic")


def _at_end(expr: sympy.Expr, var: sympy.Symbol, relation: str, end: sympy.Expr, side: str) -> Verdict:
    """A closed end where the formula is undefined: the function's value there is its one-sided limit."""
    at = f"{var} = {fmt_point(end)}"
    lim = _limit(expr, var, end, side)
    if lim is None:
        return Verdict("unknown", f"{fmt_expr(expr)} is undefined at {at} and SymPy could not compute its limit "
                                  f"from the {'right' if side == '+' else 'left'} there")
    if not lim.is_finite:
        return Verdict("violated", f"{fmt_expr(expr)} is undefined at {at} and not removably so: its limit from "
                                   f"the {'right' if side == '+' else 'left'} is {lim}")
    what = (f"removable singularity at {at}: the formula is undefined there, its limit from the "
            f"{'right' if side == '+' else 'left'} is {lim}, the value of its continuous extension")
    if relation == "finite":
        return Verdict("holds", what)
    v = prove_value(lim, var, end, relation, 0)
    return Verdict(v.status, f"{what} ({v.reason})")


def _at_point(expr: sympy.Expr, var: sympy.Symbol, relation: str, p: sympy.Expr, *, derivative: bool) -> Verdict:
    at = f"{var} = {fmt_point(p)}"
    left, right = _limit(expr, var, p, "-"), _limit(expr, var, p, "+")
    if left is None or right is None:
        return Verdict("unknown", f"{fmt_expr(expr)} is undefined at {at} (0/0) and SymPy could not compute both "
                                  "one-sided limits there")
    finite = all(x.is_finite for x in (left, right))
    if not finite or (left - right).is_zero is False:
        consequence = ("the derivative does not exist or is not continuous there" if derivative else
                       "the function has no continuous extension there")
        return Verdict("violated", f"{fmt_expr(expr)} is undefined at {at} and not removably so: its one-sided "
                                   f"limits are {left} (left) and {right} (right), so {consequence}")
    if (left - right).is_zero is not True:
        return Verdict("unknown", f"{fmt_expr(expr)} at {at}: one-sided limits {left} and {right} could not be "
                                  "proved equal")
    if relation == "finite":
        return Verdict("holds", f"removable singularity at {at}: both one-sided limits are {left}")
    v = prove_value(left, var, p, relation, 0)
    if derivative:
        return Verdict(v.status, f"removable singularity at {at}: the derivative exists there and equals the "
                                 f"limit {left} ({v.reason})")
    return Verdict(v.status, f"removable singularity at {at}: the formula is undefined there, both one-sided "
                             f"limits are {left}, the value of its continuous extension ({v.reason})")


__all__ = ["prove_extended", "singular_points"]
