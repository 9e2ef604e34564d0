r"""Exact signs of algebraic products of polynomials: :func:`polynomial_verdict`.

A claim ``f > 0`` (or ``>= 0``) on an interval where ``f = c \prod_i P_i^{e_i}`` with ``c`` a rational constant,
each ``P_i`` a polynomial in the variable with rational coefficients and each ``e_i`` rational is decided
exactly, without interval arithmetic (which loses everything to cancellation on an expanded polynomial of high
degree): the sign of each ``P_i`` on the interval comes from Sturm's theorem (:meth:`sympy.Poly.count_roots`,
exact on rational ends) applied to the odd-multiplicity factors of its square-free decomposition, plus the
exact value at one rational interior point. A fractional power ``P^{p/q}`` with ``q`` even needs ``P \ge 0``
(``P > 0`` when the exponent is negative) and is then ``\ge 0``.

Only proofs are returned; anything else (a sign change, a factor that is not of this form) returns ``None``
and the general prover takes over (it finds the counterexamples).

Schedules built from polynomials with rational coefficients (the designed schedules of
:mod:`gifsym.decisions.design`: ``a = \sqrt{1 - q(t)}``, ``b = \sqrt{q(t)}``) are decided by this route.

Example:
    >>> import sympy
    >>> from gifsym.symbolic.prove.task import Task
    >>> t = sympy.Symbol("t")
    >>> f = (1 - t**2)**-sympy.Rational(1, 2) * (t - sympy.Rational(1, 3))**2
    >>> polynomial_verdict(Task(f, f, t, ">=", False, sympy.Integer(0), sympy.Integer(1), False, True)).status
    'holds'
"""

from __future__ import annotations

import sympy

from gifsym.symbolic.prove.task import Task
from gifsym.symbolic.prove.verdict import Verdict

#: Beyond this degree root counting is left to the general prover (Sturm sequences grow quadratically).
MAX_DEGREE = 200


def _polynomial(expr: sympy.Expr, var: sympy.Symbol) -> sympy.Poly | None:
    if not expr.is_polynomial(var):
        return None
    try:
        p = sympy.Poly(expr, var)
    except sympy.PolynomialError:
        return None
    if p.domain not in (sympy.ZZ, sympy.QQ) or p.degree() > MAX_DEGREE:
        return None
    return p


def _factors(f: sympy.Expr, var: sympy.Symbol) -> tuple[sympy.Rational, list[tuple[sympy.Poly, sympy.Rational]]] | None:
    """``f = c * prod P_i**e_i``, or None."""
    constant, factors = sympy.Integer(1), []
    for g in sympy.Mul.make_args(f):
        if var not in g.free_symbols:
            if not isinstance(g, sympy.Rational):
                return None
            constant *= g
            continue
        base, exponent = g.as_base_exp() if isinstance(g, sympy.Pow) else (g, sympy.Integer(1))
        if not isinstance(exponent, sympy.Rational):
            return None
        p = _polynomial(base, var)
        if p is None:
            return None
        factors.append((p, exponent))
    return constant, factors


def roots_inside(expr: sympy.Expr, var: sympy.Symbol, lo: sympy.Expr, hi: sympy.Expr) -> int | None:
    """The number of distinct roots of ``expr`` in the open interval ``(lo, hi)`` when it is a polynomial with
    rational coefficients and the ends are rational (Sturm, exact); None otherwise.

    Example:
        >>> t = sympy.Symbol("t")
        >>> roots_inside(t**2 - sympy.Rational(1, 4), t, sympy.Integer(0), sympy.Integer(1))
        1
    """
    p = _polynomial(expr, var)
    if p is None or p.is_zero or not (isinstance(lo, sympy.Rational) and isinstance(hi, sympy.Rational)):
        return None
    square_free = p.sqf_part()
    return square_free.count_roots(lo, hi) - int(_at(square_free, lo) == 0) - int(_at(square_free, hi) == 0)


def _at(p: sympy.Poly, x: sympy.Rational) -> sympy.Rational:
    return p.eval(x)


def _zeros(p: sympy.Poly, task: Task) -> int:
    """Distinct roots of p in the task's interval (ends counted only where it is closed)."""
    square_free = p.sqf_part()
    inside = square_free.count_roots(task.lo, task.hi)
    return inside - int(task.lo_open and _at(square_free, task.lo) == 0) - int(task.hi_open and _at(square_free, task.hi) == 0)


def _sign(p: sympy.Poly, task: Task) -> tuple[int, bool] | None:
    """``(s, strict)`` with ``s p > 0`` (strict) or ``s p >= 0`` on the task's interval; None if p changes sign."""
    lo, hi = task.lo, task.hi
    if p.is_zero:
        return (1, False)
    # Roots of p in the interval (ends included only where the interval is closed).
    inside = _zeros(p, task)
    # A sign change needs a root of odd multiplicity strictly inside.
    for factor, multiplicity in p.sqf_list()[1]:
        if multiplicity % 2:
            interior = factor.count_roots(lo, hi) - int(_at(factor, lo) == 0) - int(_at(factor, hi) == 0)
            if interior:
                return None
    # Constant sign off the roots: read it at a rational point that is not a root.
    for k in range(1, 64):
        x = lo + (hi - lo) * sympy.Rational(k, 64) if k % 2 else lo + (hi - lo) * sympy.Rational(1, k + 1)
        value = _at(p, x)
        if value != 0:
            return (1 if value > 0 else -1, inside == 0)
    return None


def polynomial_verdict(task: Task) -> Verdict | None:
    """A proof of the task when ``task.f`` is ``c * prod P_i**e_i`` (see the module docstring), else None."""
    var = task.var
    if task.relation == "finite":
        p = _polynomial(task.f, var)
        return Verdict("holds", f"{task.claim}: proved: a polynomial is continuous") if p is not None else None
    split = _factors(task.f, var)
    if split is None or not split[1]:
        return None
    constant, factors = split
    if constant == 0:
        return None
    sign, strict, shown = (1 if constant > 0 else -1), True, []
    for p, e in factors:
        if e.q == 1 and e.p % 2 == 0:  # an even power: >= 0, > 0 off the roots of P
            positive = _zeros(p, task) == 0
            if e < 0 and not positive:
                return None  # a pole inside
            strict = strict and positive
            shown.append(f"P{len(shown) + 1}^{e} {'>' if positive else '>='} 0")
            continue
        found = _sign(p, task)
        if found is None:
            return None
        s, positive = found
        if e.q % 2 == 0:  # P^(p/q), q even: real only where P >= 0 (P > 0 for a negative power)
            if s < 0 or (e < 0 and not positive):
                return None
            strict = strict and positive
            shown.append(f"P{len(shown) + 1} {'>' if positive else '>='} 0")
            continue
        if e < 0 and not positive:
            return None  # a pole inside
        sign *= s  # an odd power (p/q with p and q odd) keeps the sign of P
        strict = strict and positive
        shown.append(f"P{len(shown) + 1} {'>' if s > 0 else '<'}{'' if positive else '='} 0")
    if sign < 0 or (task.strict and not strict):
        return None
    degrees = ", ".join(str(p.degree()) for p, _ in factors)
    return Verdict("holds", f"{task.claim}: proved exactly: a product of powers of polynomials with rational "
                            f"coefficients (degrees {degrees}) whose signs on {task.where} follow from Sturm "
                            f"root counts ({', '.join(shown)})")
