r"""Ball arithmetic (python-flint's ``arb`` / ``acb``): rigorous enclosures of values, integrals and roots.

A *certified* number is a ball ``[mid ± rad]`` that provably contains the true value: every operation
rounds outward, so the enclosure holds whatever the floating-point error. This module compiles a SymPy
expression of one variable into a straight-line program over balls and offers three verbs:

* :func:`enclose` — the value of a constant expression as a ball (``None`` when it cannot be enclosed);
* :func:`integral` — ``∫_lo^hi f`` by Arb's rigorous integrator (Petras' algorithm with error bounds from
  the analytic continuation of ``f``: branch cuts of ``sqrt``, ``log`` and fractional powers are reported
  to it, so the enclosure is valid, not an estimate);
* :func:`sign_changes` — isolate every sign change of ``f`` in ``[lo, hi]`` by bisection: a box where the
  enclosure of ``f`` excludes 0 has no root; a box where the enclosure of ``f'`` excludes 0 and ``f`` has
  opposite strict signs at the ends has exactly one, refined to a narrow ball. A box that can be decided
  neither way within the budget makes the isolation *incomplete* (and says where).

Everything here is exact about what it does not know: a value that cannot be enclosed is ``None``, never a
guess.

Example:
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> lo, hi = ends(enclose(sympy.sqrt(2)))
    >>> lo < sympy.sqrt(2) < hi and hi - lo < sympy.Rational(1, 10**35)
    True
    >>> [(lo, hi)] = sign_changes(x**2 - 2, x, 0, 2).roots
    >>> lo < sympy.sqrt(2) < hi
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sympy
from flint import acb, arb, ctx, fmpq, fmpz

from gifsym.symbolic.straightline import Unsupported, straight_line
from gifsym.symbolic.expr import as_expr

#: Working precision of ball arithmetic, in bits (about 38 decimal digits).
PREC = 128


class NotEnclosed(Exception):
    """The expression uses something ball arithmetic here does not support."""



def sympy_to_arb(c: sympy.Expr) -> arb:
    """An exact SymPy number (Rational, Float, pi, E) as a ball (exact where the number is a binary fraction).

    Example:
        >>> sympy_to_arb(sympy.Rational(1, 4))
        0.250000000000000
    """
    if isinstance(c, sympy.Integer):
        return arb(fmpz(int(c)))
    if isinstance(c, sympy.Rational):
        return arb(fmpq(int(c.p), int(c.q)))
    if isinstance(c, sympy.Float):
        r = sympy.Rational(c)  # a Float is a binary fraction: exact
        return arb(fmpq(int(r.p), int(r.q)))
    if c is sympy.pi:
        return arb.pi()
    if c is sympy.E:
        return arb.const_e()
    raise NotEnclosed(f"the constant {c}")


@lru_cache(maxsize=2048)
def _program(expr: sympy.Expr, var: sympy.Symbol | None) -> tuple:
    """The straight-line program of ``expr`` (:func:`gifsym.symbolic.straightline.straight_line`) over balls:
    ("var",) | ("const", arb) | ("add"/"mul", idx) | ("powi", i, n) | ("powq", i, p, q) | ("pow", i, j) |
    ("fn", name, i)."""
    try:
        prog = straight_line(expr, var)
    except Unsupported as e:
        raise NotEnclosed(str(e)) from None
    ops = []
    with ctx.workprec(PREC):  # constants converted once, at the working precision
        for op in prog.ops:
            if op[0] == "const":
                op = ("const", sympy_to_arb(op[1]))
            elif op[0] == "powr":
                op = ("powq", op[1], int(op[2].p), int(op[2].q))
            elif op[0] == "powg":
                op = ("pow", op[1], op[2])
            ops.append(op)
    return tuple(ops)


def _real_root(base: arb, p: int, q: int, real_domain: bool) -> arb:
    """``base**(p/q)`` for a real ball. With ``real_domain`` the caller knows the value is real, so the base
    is ≥ 0 and its enclosure may be clipped to its non-negative part (rounding can push it below 0)."""
    if real_domain and not base > 0 and base.is_finite():
        if base < 0:
            return arb.nan()
        base = base.nonnegative_part()
        if not base > 0:  # the base touches 0: x**(p/q) is monotone on [0, hi]
            if p < 0:
                return arb.nan()
            top = _real_root(arb(base.upper()), p, q, False)
            return arb(0).union(top)
    if q == 2:
        root = base.sqrt()
        return root**p if p >= 0 else 1 / root ** (-p)
    return (arb(fmpq(p, q)) * base.log()).exp()


def _run(ops: tuple, x: Any, complex_: bool, analytic: bool, real_domain: bool = False) -> Any:
    """Evaluate a program on a ball (real ``arb`` or complex ``acb``)."""
    vals: list = []
    for op in ops:
        kind = op[0]
        if kind == "var":
            v = x
        elif kind == "const":
            v = op[1] if not complex_ else acb(op[1])
        elif kind == "add":
            v = vals[op[1][0]]
            for i in op[1][1:]:
                v = v + vals[i]
        elif kind == "mul":
            v = vals[op[1][0]]
            for i in op[1][1:]:
                v = v * vals[i]
        elif kind == "powi":
            base, n = vals[op[1]], op[2]
            v = base**n if n >= 0 else 1 / base ** (-n)
        elif kind == "powq":
            base, p, q = vals[op[1]], op[2], op[3]
            if complex_:
                v = base.pow(acb(fmpq(p, q)), analytic=analytic)
            else:
                v = _real_root(base, p, q, real_domain)
        elif kind == "pow":
            base, ex = vals[op[1]], vals[op[2]]
            v = base.pow(ex, analytic=analytic) if complex_ else (ex * base.log()).exp()
        else:
            name, a = op[1], vals[op[2]]
            if name == "abs":
                v = a.real_abs(analytic=analytic) if complex_ else abs(a)
            elif name == "log" and complex_:
                v = a.log(analytic=analytic)
            else:
                v = getattr(a, name)()
        vals.append(v)
    return vals[-1]


def compile_ball(expr: sympy.Expr, var: sympy.Symbol, *, real_domain: bool = False) -> Callable[[arb], arb]:
    """``expr`` (in ``var`` only) as a function of a real ball; the result encloses every value ``expr``
    takes on the ball (non-finite where the formula is undefined on part of it).

    ``real_domain=True`` promises that every fractional power in ``expr`` has a non-negative base on the
    balls it is evaluated on (e.g. a schedule proved real there); enclosures of such bases are then clipped
    at 0, which removes the rounding overshoot below 0 at a zero of the base.

    Raises:
        NotEnclosed: the expression uses another symbol or an unsupported function.
    """
    ops = _program(expr, var)

    def f(x: arb) -> arb:
        with ctx.workprec(PREC):
            try:
                return _run(ops, x, False, False, real_domain)
            except (ZeroDivisionError, ValueError, ArithmeticError):
                return arb.nan()

    return f


def enclose(expr: sympy.Expr, *, prec: int = PREC) -> arb | None:
    """A ball containing the value of a constant expression, or None (undefined, complex, unsupported).

    Example:
        >>> enclose(sympy.exp(1) - sympy.E).contains(0)
        True
    """
    expr = as_expr(expr, what="expr")
    if expr.free_symbols:
        return None
    try:
        ops = _program(expr, None)
    except NotEnclosed:
        return None
    with ctx.workprec(prec):
        try:
            v = _run(ops, None, False, False)
        except (ZeroDivisionError, ValueError, ArithmeticError):
            return None
    return v if v.is_finite() else None


def ends(ball: arb) -> tuple[sympy.Rational, sympy.Rational]:
    """Rationals ``lo ≤ hi`` with the ball inside ``[lo, hi]`` (its ends, rounded outward at :data:`PREC`)."""
    with ctx.workprec(PREC):
        return _exact(ball.lower()), _exact(ball.upper())


def _exact(x: arb) -> sympy.Rational:
    """An exact ball (a point, as returned by lower()/upper()) as a Rational."""
    m, e = x.mid().man_exp()
    return sympy.Integer(int(m)) * sympy.Integer(2) ** int(e)


def interval_ball(lo: Any, hi: Any) -> arb:
    """The ball containing ``[lo, hi]`` (exact SymPy numbers)."""
    a, b = sympy_to_arb(sympy.Rational(lo)), sympy_to_arb(sympy.Rational(hi))
    with ctx.workprec(PREC):
        return a.union(b)


_RADIUS = sympy.Rational(1, 2**20)
_WIDTH = sympy.Rational(1, 2**100)


def analytic_near(expr: sympy.Expr, var: sympy.Symbol, point: sympy.Expr, radius: sympy.Rational = _RADIUS) -> bool:
    """Whether ``expr`` is proved analytic (hence bounded) on the complex disc of ``radius`` around ``point``
    (every branch cut and pole checked by Arb's ``analytic`` evaluation)."""
    try:
        ops = _program(expr, var)
    except NotEnclosed:
        return False
    c = enclose(point)
    if c is None:
        return False
    with ctx.workprec(PREC):
        z = acb(c, 0) + acb(arb(0, sympy_to_arb(radius)), arb(0, sympy_to_arb(radius)))
        try:
            v = _run(ops, z, True, True)
        except (ZeroDivisionError, ValueError, ArithmeticError):
            return False
    return bool(v.is_finite())


# ---------------------------------------------------------------------------------------------------------
# Integration


@dataclass(frozen=True)
class Enclosure:
    """A certified real value: the true value lies in ``[lo, hi]`` (exact rationals)."""

    lo: sympy.Rational
    hi: sympy.Rational

    @property
    def mid(self) -> sympy.Rational:
        return (self.lo + self.hi) / 2

    @property
    def width(self) -> sympy.Rational:
        return self.hi - self.lo

    def __add__(self, other: Enclosure) -> Enclosure:
        return Enclosure(self.lo + other.lo, self.hi + other.hi)

    def ball(self) -> arb:
        """As an arb ball (containing ``[lo, hi]``)."""
        lo, hi = sympy_to_arb(self.lo), sympy_to_arb(self.hi)
        with ctx.workprec(PREC):
            return lo.union(hi)

    @staticmethod
    def of(ball: arb) -> Enclosure:
        lo, hi = ends(ball)
        return Enclosure(lo, hi)


def integral(expr: sympy.Expr, var: sympy.Symbol, lo: sympy.Expr, hi: sympy.Expr, *,
             rel_tol: float = 1e-25, eval_limit: int = 200_000) -> Enclosure | None:
    """``∫_lo^hi expr d var`` as a certified enclosure, or None when Arb's integrator cannot bound it (a
    singularity on or near the path, an unsupported function, or the evaluation limit reached with a
    useless enclosure).

    Example:
        >>> x = sympy.Symbol("x")
        >>> e = integral(sympy.sin(x), x, sympy.Integer(0), sympy.pi)
        >>> e.lo <= 2 <= e.hi and e.width < 1e-20
        True
    """
    try:
        ops = _program(expr, var)
    except NotEnclosed:
        return None
    a, b = enclose(lo), enclose(hi)
    if a is None or b is None:
        return None

    def f(z, analytic):
        try:
            return _run(ops, z, True, bool(analytic))
        except (ZeroDivisionError, ValueError, ArithmeticError):
            return acb("nan")

    with ctx.workprec(PREC):
        try:
            v = acb.integral(f, acb(a), acb(b), rel_tol=rel_tol, abs_tol=rel_tol, eval_limit=eval_limit)
        except (ValueError, ArithmeticError, ZeroDivisionError):
            return None
        re, im = v.real, v.imag
    if not (re.is_finite() and im.is_finite()) or not im.contains(0):
        return None
    # An enclosure as wide as the value is no certificate of anything useful.
    if re.rad() > 1e-6 * max(1.0, abs(float(re.mid()))):
        return None
    return Enclosure.of(re)


# ---------------------------------------------------------------------------------------------------------
# Root isolation


@dataclass(frozen=True)
class Isolation:
    """The sign changes of a function on ``[lo, hi]``.

    Attributes:
        roots: disjoint narrow intervals ``(lo_i, hi_i)`` (exact rationals), each containing exactly one
            point where the function changes sign (it is strictly monotone there).
        complete: True when every other part of the interval was proved free of sign changes; False when
            some boxes could not be decided (``undecided`` lists them).
        undecided: boxes where a root (of even multiplicity, or too close to another) may hide.
    """

    roots: tuple[tuple[sympy.Rational, sympy.Rational], ...]
    complete: bool
    undecided: tuple[tuple[sympy.Rational, sympy.Rational], ...] = ()


def _box(lo: sympy.Rational, hi: sympy.Rational) -> arb:
    with ctx.workprec(PREC):
        return sympy_to_arb(lo).union(sympy_to_arb(hi))


# Boxes are split slightly off-centre, so that simple rational roots (1/2) are rarely split points.
_SPLIT = sympy.Rational(65, 128)


def _exact_zero(b: arb) -> bool:
    return b.is_exact() and b.is_zero()


def _strict_sign(b: arb) -> int:
    if not b.is_finite():
        return 0
    if b > 0:
        return 1
    if b < 0:
        return -1
    return 0


def sign_changes(expr: sympy.Expr, var: sympy.Symbol, lo: Any, hi: Any, *, max_boxes: int = 4000,
                 width: sympy.Rational = _WIDTH, real_domain: bool = False) -> Isolation:
    """Isolate the sign changes of ``expr`` on ``[lo, hi]`` (rational ends); see the module docstring.

    Each root interval is refined to width ``width`` (relative to ``hi − lo``) by bisection on point values.
    ``real_domain``: see :func:`compile_ball`.
    """
    lo, hi = sympy.Rational(lo), sympy.Rational(hi)
    try:
        f = compile_ball(expr, var, real_domain=real_domain)
        df = compile_ball(sympy.diff(expr, var), var, real_domain=real_domain)
    except NotEnclosed:
        return Isolation((), False, ((lo, hi),))
    tol = width * (hi - lo)
    roots: list = []
    undecided: list = []
    stack = [(lo, hi)]
    boxes = 0
    while stack:
        a, b = stack.pop()
        boxes += 1
        if boxes > max_boxes:
            undecided.append((a, b))
            undecided.extend(stack)
            break
        F = f(_box(a, b))
        if _strict_sign(F):
            continue
        D = df(_box(a, b))
        if _strict_sign(D):  # f is strictly monotone on the box: at most one zero
            fa, fb = f(_box(a, a)), f(_box(b, b))
            sa, sb = _strict_sign(fa), _strict_sign(fb)
            if sa and sb:
                if sa != sb:
                    roots.append(_refine(f, a, b, sa, tol))
                continue  # the same strict sign at both ends: no root
            # An exact zero at an end (a rational root met by the bisection) is the box's only zero.
            if _exact_zero(fa) and (sb or _exact_zero(fb)):
                roots.append((a, a))
                continue
            if _exact_zero(fb) and sa:
                roots.append((b, b))
                continue
        if b - a < tol:
            undecided.append((a, b))
            continue
        m = a + (b - a) * _SPLIT
        stack.extend(((m, b), (a, m)))
    roots = sorted(set(roots))
    undecided.sort()
    return Isolation(tuple(roots), not undecided, tuple(undecided))


def _refine(f: Callable, a: sympy.Rational, b: sympy.Rational, sa: int, tol: sympy.Rational):
    """Bisect a box with one sign change (strict signs ``sa`` at ``a``, ``-sa`` at ``b``) to width ``tol``."""
    while b - a > tol:
        m = (a + b) / 2
        sm = _strict_sign(f(_box(m, m)))
        if sm == 0:  # the midpoint's value is too close to 0 to sign: the root is within rounding of m
            step = (b - a) / 64
            left, right = _strict_sign(f(_box(m - step, m - step))), _strict_sign(f(_box(m + step, m + step)))
            if left == sa and right == -sa:
                return (m - step, m + step)
            return (a, b)
        if sm == sa:
            a = m
        else:
            b = m
    return (a, b)


__all__ = [
    "PREC",
    "Enclosure",
    "Isolation",
    "NotEnclosed",
    "analytic_near",
    "compile_ball",
    "enclose",
    "ends",
    "integral",
    "interval_ball",
    "sign_changes",
    "sympy_to_arb",
]
