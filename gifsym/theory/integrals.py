r"""Exact integrals with a time budget, quadrature with an error estimate, endpoint limits and sign changes.

The theory layer integrates bounds on the Jacobian of the velocity, ``∫ λ(t) dt``, and asks where an
expression changes sign. Everything here works on formulas written in the placeholders
``a, ȧ, b, ḃ`` of :mod:`gifsym.symbolic.flow` (so that facts found once hold for every schedule) and on their
instantiations in ``t``.

* **Potentials.** A bound ``F = P(a, b) ȧ + Q(a, b) ḃ`` is the time derivative of ``G(a_t, b_t)`` exactly
  when the 1-form ``P da + Q db`` is closed, ``∂P/∂b = ∂Q/∂a``; then ``∫_s^u F dt = G(a_u, b_u) − G(a_s, b_s)``
  depends on the schedule only through its values at the ends (:func:`find_potential`). For example
  ``U^κ = (κaȧ + bḃ)/(κa² + b²)`` has ``G = ½ log(κa² + b²)``.
* **SymPy**, when no potential exists: ``integrate`` under a wall-clock budget (:func:`attempt`; risch and
  meijerg can run for minutes).
* **Quadrature** (mpmath tanh-sinh, 30 digits) as the last resort, with mpmath's error estimate; such a
  result is flagged ``numeric``.

Endpoint values come from substitution where the expression is defined there, else from
``sympy.limit`` under a budget, else from a numerical extrapolation (flagged). Time budgets use
``SIGALRM`` and so only interrupt work in the main thread; elsewhere the exact attempts that need a
budget are skipped and the numerical route is taken (the result says so).

Example:
    >>> from gifsym.symbolic.flow import A, B, DA, DB
    >>> import sympy
    >>> kappa = sympy.Symbol("kappa", positive=True)
    >>> find_potential((kappa * A * DA + B * DB) / (kappa * A**2 + B**2))
    log(a_t**2*kappa + b_t**2)/2
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import mpmath
import sympy

from gifsym.symbolic.flow import DA, DB, A, B, instantiate
from gifsym.symbolic.schedule import Schedule, t

#: Working precision (decimal digits) of numerical evaluation, root refinement and quadrature.
DPS = 30
#: Seconds SymPy may spend on one ``integrate`` / ``limit`` / ``solveset`` call.
INTEGRATE_BUDGET = 3.0
LIMIT_BUDGET = 2.0
SOLVE_BUDGET = 1.0

#: The signature of the time derivative: placeholders standing for a_t, ȧ_t, b_t, ḃ_t with the signs that
#: S-pos and S-mono give them on (0, 1). Sign questions are asked of these (see :func:`sign`).
_SIGNED = {
    A: sympy.Dummy("a", positive=True),
    B: sympy.Dummy("b", positive=True),
    DA: sympy.Dummy("da", nonpositive=True),
    DB: sympy.Dummy("db", nonnegative=True),
}
#: The signal-to-noise ratio b/a as a placeholder (non-negative).
RHO = sympy.Symbol("rho", nonnegative=True)


class BudgetExceeded(BaseException):
    """A time budget ran out. A BaseException, so that SymPy's ``except Exception`` blocks let it through."""


_deadlines: list[float] = []
_saved_handler: list[Any] = []


def _on_alarm(signum, frame):
    raise BudgetExceeded()


def budgets_available() -> bool:
    """Whether a time budget can interrupt work here (main thread, a platform with ``setitimer``)."""
    return threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")


@contextlib.contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise :class:`BudgetExceeded` in the block once ``seconds`` have passed (nested budgets keep the
    earlier deadline). Only in the main thread: elsewhere it raises :class:`BudgetExceeded` at once."""
    if not budgets_available():
        raise BudgetExceeded()
    now = time.monotonic()
    deadline = now + seconds
    if _deadlines:
        deadline = min(deadline, _deadlines[-1])
    else:
        _saved_handler.append(signal.signal(signal.SIGALRM, _on_alarm))
    _deadlines.append(deadline)
    signal.setitimer(signal.ITIMER_REAL, max(deadline - now, 1e-4))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _deadlines.pop()
        if _deadlines:
            # The outer budget keeps running; if it is already spent it fires at once.
            signal.setitimer(signal.ITIMER_REAL, max(_deadlines[-1] - time.monotonic(), 1e-4))
        else:
            signal.signal(signal.SIGALRM, _saved_handler.pop())


def _nonlinear_exponential(expr: sympy.Expr) -> bool:
    """Whether ``expr`` has an exponential whose exponent is not affine in t."""
    for e in expr.atoms(sympy.exp, sympy.Pow):
        arg = e.args[0] if isinstance(e, sympy.exp) else e.exp
        if arg.has(t) and (not arg.is_polynomial(t) or sympy.degree(arg, t) > 1):
            return True
    return False


def attempt(fn: Callable[[], Any], seconds: float, *, terminates: bool = False) -> tuple[bool, Any]:
    """Run ``fn()`` under a time budget: ``(True, value)``, or ``(False, None)`` if the budget ran out, no
    budget can be enforced here (outside the main thread), or SymPy gave up with an exception.
    ``terminates=True`` marks work known to finish (rational-function algebra): it then runs without a
    budget, so that its result does not depend on how busy the machine is."""
    try:
        if terminates:
            # Known to finish: never cut short. A wall-clock budget would make the result depend on the
            # machine's load (a potential found on a quiet machine, quadrature on a busy one).
            return True, fn()
        with time_budget(seconds):
            return True, fn()
    except BudgetExceeded:
        return False, None
    except (ValueError, TypeError, NotImplementedError, ArithmeticError, AttributeError, RecursionError,
            IndexError, KeyError, sympy.PolynomialError, sympy.polys.polyerrors.PolificationFailed):
        return False, None


# ---------------------------------------------------------------------------------------------------------
# Signs and total derivatives in the placeholders


def total_derivative(expr: sympy.Expr) -> sympy.Expr:
    """``d/dt expr(a_t, b_t) = ∂_a expr · ȧ + ∂_b expr · ḃ`` in the placeholders.

    Example:
        >>> total_derivative(B / A) == DB / A - B * DA / A**2
        True
    """
    return sympy.diff(expr, A) * DA + sympy.diff(expr, B) * DB


def sign(expr: sympy.Expr) -> str | None:
    """The sign of a placeholder expression that holds for every schedule satisfying S-pos and S-mono on
    (0, 1) (``a, b > 0``, ``ȧ ≤ 0 ≤ ḃ``): ``">"``, ``">="``, ``"<"``, ``"<="`` (compared with 0), or None
    when SymPy's assumptions cannot decide it.

    Example:
        >>> sign(B * (A * DB - DA * B) / A**3)
        '>='
        >>> sign(A**2 + B**2)
        '>'
    """
    e = sympy.together(expr.xreplace(_SIGNED))
    if e.is_positive:
        return ">"
    if e.is_negative:
        return "<"
    num, den = sympy.fraction(e)
    if not (den.is_positive or sympy.expand(den).is_positive or sympy.factor(den).is_positive):
        return None
    for n in (sympy.expand(num), sympy.factor(num)):
        if n.is_positive:
            return ">"
        if n.is_negative:
            return "<"
        if n.is_nonnegative:
            return ">="
        if n.is_nonpositive:
            return "<="
    return None


# ---------------------------------------------------------------------------------------------------------
# Numerical evaluation


@lru_cache(maxsize=1024)
def mp_function(expr: sympy.Expr) -> Callable[[Any], Any]:
    """``expr`` (in ``t`` only) as an mpmath function of t (evaluate inside ``mpmath.workdps``)."""
    return sympy.lambdify(t, expr, modules="mpmath")


def mp_value(expr: sympy.Expr, x: Any) -> Any:
    """``expr`` at ``t = x`` with mpmath at :data:`DPS` digits (``mpmath.nan`` where undefined or complex)."""
    with mpmath.workdps(DPS + 10):
        try:
            v = mp_function(expr)(mpmath.mpf(x) if not isinstance(x, sympy.Basic) else mpmath.mpf(sympy.N(x, DPS + 10)))
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            return mpmath.nan
        if isinstance(v, mpmath.mpc):
            return v.real if abs(v.imag) <= mpmath.mpf(10) ** (-DPS) * max(1, abs(v.real)) else mpmath.nan
        return mpmath.mpf(v)


def _is_good(v: sympy.Basic) -> bool:
    if not isinstance(v, sympy.Basic):
        return False
    if v.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo, sympy.AccumBounds, sympy.Limit):
        return False
    return v.is_real is not False


@dataclass(frozen=True)
class EndpointValue:
    """The value (or one-sided limit) of an expression at a point.

    Attributes:
        value: a SymPy number, ``oo`` / ``-oo``, a Float (numeric), or ``nan`` when it could not be decided.
        exact: False when the value comes from numerical extrapolation.
    """

    value: sympy.Expr
    exact: bool

    @property
    def finite(self) -> bool:
        """Finite (for an expression in symbolic parameters: finite for generic values of them)."""
        return self.value.is_finite is True or _is_good(self.value)

    @property
    def decided(self) -> bool:
        return self.value is not sympy.nan


@lru_cache(maxsize=4096)
def endpoint_value(expr: sympy.Expr, point: sympy.Expr, side: str = "+") -> EndpointValue:
    """``expr`` at ``t = point``, or its one-sided limit (``side`` ``"+"`` from the right, ``"-"`` from the
    left) where substitution is undefined.

    Example:
        >>> endpoint_value(sympy.log(1 - t) / (1 - t), sympy.Integer(1), "-").value
        -oo
        >>> endpoint_value(sympy.sin(t) / t, sympy.Integer(0), "+").value
        1
    """
    expr = sympy.sympify(expr)
    point = sympy.sympify(point)
    if t not in expr.free_symbols:
        return EndpointValue(expr, True)
    v = expr.xreplace({t: point})
    if _is_good(v):
        return EndpointValue(v, True)
    symbolic = bool(expr.free_symbols - {t})
    guess = sympy.nan if symbolic else _numeric_limit(expr, point, side)
    if guess in (sympy.oo, -sympy.oo):
        # Divergence is a qualitative fact that 60-digit extrapolation decides reliably for the elementary
        # functions of schedules; SymPy's limit is asked only for finite values, which must be exact.
        return EndpointValue(guess, True)
    ok, lim = attempt(lambda: sympy.limit(expr, t, point, side), LIMIT_BUDGET)
    if ok and isinstance(lim, sympy.Basic) and not lim.has(sympy.Limit, sympy.AccumBounds, sympy.nan, sympy.zoo):
        return EndpointValue(lim, True)
    return EndpointValue(guess, False)


def _numeric_limit(expr: sympy.Expr, point: sympy.Expr, side: str) -> sympy.Expr:
    """Extrapolate ``expr`` to ``point`` from values at distances 1e-6 … 1e-24: a converging sequence gives a
    Float, a growing one ±oo, anything else nan."""
    sgn = 1 if side == "+" else -1
    with mpmath.workdps(60):
        f = mp_function(expr)
        p = mpmath.mpf(sympy.N(point, 60))
        vals = []
        for k in (6, 9, 12, 15, 18, 21, 24):
            try:
                v = f(p + sgn * mpmath.mpf(10) ** (-k))
            except (ZeroDivisionError, ValueError, OverflowError):
                return sympy.nan
            if isinstance(v, mpmath.mpc):
                return sympy.nan
            vals.append(mpmath.mpf(v))
        diffs = [abs(vals[i + 1] - vals[i]) for i in range(len(vals) - 1)]
        scale = max(1, abs(vals[-1]))
        if diffs[-1] <= mpmath.mpf(10) ** (-15) * scale:
            return sympy.Float(vals[-1], DPS)
        monotone = all(vals[i + 1] > vals[i] for i in range(len(vals) - 1)) or all(
            vals[i + 1] < vals[i] for i in range(len(vals) - 1))
        # Each step shrinks the distance 1000-fold: a convergent sequence's increments shrink with it, a
        # divergent one's (power or logarithmic growth) do not.
        if monotone and diffs[-1] >= 0.5 * diffs[-2]:
            return sympy.oo if vals[-1] > vals[0] else -sympy.oo
    return sympy.nan


# ---------------------------------------------------------------------------------------------------------
# Roots and sign changes


@dataclass(frozen=True)
class Roots:
    """Points in an open interval where an expression changes sign.

    Attributes:
        points: increasing; exact SymPy numbers where SymPy solved the equation, else 30-digit Floats.
        exact: whether every point is exact.
    """

    points: tuple[sympy.Expr, ...]
    exact: bool


def _grid(lo: float, hi: float, n: int = 240) -> list:
    # Points clustered at both ends (cosine spacing): sign changes close to t = 0 or t = 1 matter most.
    return [lo + (hi - lo) * (1 - mpmath.cos(mpmath.pi * (k + 0.5) / n)) / 2 for k in range(n)]


@lru_cache(maxsize=1024)
def roots(expr: sympy.Expr, lo: sympy.Expr = sympy.S.Zero, hi: sympy.Expr = sympy.S.One) -> Roots:
    """Sign changes of ``expr`` (in ``t``, numbers only) in ``(lo, hi)``: a numerical scan refined to 30
    digits, replaced by SymPy's exact roots when ``solveset`` finds the same ones within its budget.

    Example:
        >>> roots(t**2 - sympy.Rational(1, 4)).points
        (1/2,)
    """
    lo_f, hi_f = (mpmath.mpf(sympy.N(v, DPS + 10)) for v in (lo, hi))
    f = mp_function(expr)
    found = []
    with mpmath.workdps(DPS + 10):
        xs = _grid(lo_f, hi_f)
        vals = [mp_value(expr, x) for x in xs]
        for x0, x1, v0, v1 in zip(xs, xs[1:], vals, vals[1:]):
            if mpmath.isnan(v0) or mpmath.isnan(v1) or v0 == 0 or v0 * v1 > 0:
                if v1 == 0 and not mpmath.isnan(v0):
                    found.append(x1)
                continue
            try:
                r = mpmath.findroot(f, (x0, x1), solver="anderson")
            except (ValueError, ZeroDivisionError):
                r = (x0 + x1) / 2
            if not (x0 <= r <= x1):
                r = mpmath.findroot(f, (x0, x1), solver="bisect") if v0 * v1 < 0 else (x0 + x1) / 2
            found.append(r)
    numeric = tuple(sympy.Float(r, DPS) for r in found)
    # Exact roots are a refinement only. Exponentials of non-linear functions of t (VP, sub-VP) send
    # sympy.solve into polynomial factorizations whose single big-integer steps outlast any time budget
    # (the alarm is only seen between bytecodes), so those keep the high-precision numeric roots.
    if numeric and not _nonlinear_exponential(expr):
        ok, sol = attempt(lambda: sympy.solve(expr, t), SOLVE_BUDGET)
        if ok and isinstance(sol, list):
            exact = []
            for r in numeric:
                near = [v for v in sol if v.is_number and abs(complex(sympy.N(v - r, DPS))) < 1e-12]
                if near:
                    exact.append(near[0])
            if len(exact) == len(numeric):
                return Roots(tuple(exact), True)
    return Roots(numeric, not numeric)


def sign_changes(expr: sympy.Expr, schedule: Schedule, lo: sympy.Expr = sympy.S.Zero,
                 hi: sympy.Expr = sympy.S.One) -> Roots:
    """Sign changes in ``(lo, hi)`` of a placeholder expression instantiated for ``schedule``.

    Factors whose sign is fixed for every admissible schedule (see :func:`sign`) are dropped, and a factor
    that is homogeneous in ``(a, b)`` depends on ``t`` only through the SNR ``r_t = b_t/a_t``: its zeros are
    found once as values ``ρ*`` of the SNR (schedule-free) and then located in time by solving
    ``b_t = ρ* a_t``, which SymPy solves far more often than the original expression.
    """
    num, den = sympy.fraction(sympy.together(expr))
    points: set = set()
    exact = True
    for part in (num, den):
        _, factors = sympy.factor_list(part)
        for f, mult in factors:
            if mult % 2 == 0 or f.free_symbols.isdisjoint({A, B, DA, DB}) or sign(f) is not None:
                continue
            for r in _factor_roots(f, schedule, lo, hi):
                points.add(r)
    pts = sorted(points, key=lambda v: float(sympy.N(v, DPS)))
    out: list = []
    for p in pts:  # the same point found exactly and numerically: keep one, preferably exact
        if out and abs(float(sympy.N(p - out[-1], DPS))) < 1e-20:
            if isinstance(out[-1], sympy.Float) and not isinstance(p, sympy.Float):
                out[-1] = p
            continue
        out.append(p)
    exact = all(not isinstance(p, sympy.Float) for p in out)
    return Roots(tuple(out), exact)


def _factor_roots(f: sympy.Expr, schedule: Schedule, lo, hi) -> tuple:
    if f.free_symbols.isdisjoint({DA, DB}):
        try:
            poly = sympy.Poly(f, A, B)
        except sympy.PolynomialError:
            poly = None
        if poly is not None and poly.is_homogeneous and poly.total_degree() > 0:
            g = sympy.expand(f.subs({A: 1, B: RHO}))
            ok, rhos = attempt(lambda: sympy.solve(g, RHO), SOLVE_BUDGET, terminates=g.is_polynomial(RHO))
            if ok:
                pts = []
                for r in rhos:
                    if r.is_real and r.is_positive:
                        pts += roots(schedule.b - r * schedule.a, lo, hi).points
                return tuple(pts)
    return roots(instantiate(f, schedule), lo, hi).points


# ---------------------------------------------------------------------------------------------------------
# Potentials and integrals


@lru_cache(maxsize=1024)
def find_potential(F: sympy.Expr) -> sympy.Expr | None:
    """A function ``G(a, b)`` of the placeholders with ``d/dt G(a_t, b_t) = F``, or None.

    ``F`` must be linear in ``ȧ, ḃ``: ``F = P ȧ + Q ḃ``. It is a total derivative exactly when the 1-form is
    closed (``∂P/∂b = ∂Q/∂a``); then ``G = ∫ P da + h(b)`` with ``h' = Q − ∂_b ∫ P da``.

    Example:
        >>> R = sympy.Symbol("R", positive=True)
        >>> find_potential(DA / A + B * (A * DB - DA * B) * R**2 / A**3)
        R**2*b_t**2/(2*a_t**2) + log(a_t)
    """
    F = sympy.sympify(F)
    P, Q = sympy.diff(F, DA), sympy.diff(F, DB)
    if P.has(DA, DB) or Q.has(DA, DB) or (P == 0 and Q == 0):
        return None
    if sympy.cancel(F - P * DA - Q * DB) != 0:
        return None
    if sympy.cancel(sympy.diff(P, B) - sympy.diff(Q, A)) != 0:
        return None

    def build():
        G = sympy.integrate(P, A) if P != 0 else sympy.Integer(0)
        h = sympy.cancel(Q - sympy.diff(G, B))
        if h.has(A):
            return None
        G = G + (sympy.integrate(h, B) if h != 0 else 0)
        if G.has(sympy.Integral, sympy.Piecewise):
            return None
        check = sympy.cancel(sympy.together(total_derivative(G) - F))
        return G if check == 0 or sympy.simplify(check) == 0 else None

    # Integrating a rational function of (a, b) always terminates (ratint); the budget only guards the rest.
    ok, G = attempt(build, INTEGRATE_BUDGET, terminates=F.is_rational_function(A, B, DA, DB))
    return G if ok else None


@dataclass(frozen=True)
class Integral:
    r"""A definite integral ``∫_lo^hi f dt``.

    Attributes:
        value: exact SymPy value, a Float (numeric), or ``±oo`` when it diverges.
        numeric: True when the value comes from quadrature or a numerically located point.
        error: an estimate of the absolute error (0 for exact values).
        method: ``"potential"`` (a total derivative, see :func:`find_potential`), ``"sympy"`` (``integrate``)
            or ``"quadrature"``.
        antiderivative: an antiderivative in ``t`` when one is known (lets callers integrate to any T).
    """

    value: sympy.Expr
    numeric: bool
    error: float
    method: str
    antiderivative: sympy.Expr | None = None


def _difference(hi: EndpointValue, lo: EndpointValue) -> sympy.Expr:
    """``hi − lo`` with infinite ends: a finite end (possibly symbolic) does not change an infinite one."""
    inf = (sympy.oo, -sympy.oo)
    if hi.value in inf and lo.value in inf:
        return hi.value if hi.value == -lo.value else sympy.nan
    if hi.value in inf:
        return hi.value if lo.finite else sympy.nan
    if lo.value in inf:
        return -lo.value if hi.finite else sympy.nan
    if hi.value.has(*inf) or lo.value.has(*inf):
        return sympy.nan
    return hi.value - lo.value


def _schedule_point(schedule: Schedule, point: sympy.Expr, side: str) -> dict | None:
    """``{a: a(point), b: b(point)}`` when both are finite numbers (used to evaluate potentials)."""
    va, vb = endpoint_value(schedule.a, point, side), endpoint_value(schedule.b, point, side)
    if va.exact and vb.exact and va.finite and vb.finite:
        return {A: va.value, B: vb.value}
    return None


def potential_value(G: sympy.Expr, schedule: Schedule, point: sympy.Expr, side: str) -> EndpointValue:
    """``G(a_t, b_t)`` at ``t = point``: by substituting the schedule's end values into G when G is
    defined there (a fact about G alone, true for every schedule with those end values), else as a limit."""
    ends = _schedule_point(schedule, point, side)
    if ends is not None:
        v = G.xreplace(ends)
        if _is_good(v):
            return EndpointValue(v, True)
        v = _separable_limit(G, ends)
        if v is not None:
            return EndpointValue(v, True)
    return endpoint_value(instantiate(G, schedule), point, side)


def _separable_limit(G: sympy.Expr, ends: dict) -> sympy.Expr | None:
    """The limit of ``G(a, b)`` as ``(a, b) → ends`` along any path, when G is a sum of terms each finite at
    the end point or of the form ``f(a) g(b)`` with g continuous and non-zero there (``log a``,
    ``R² b²/(2a²)``): then the limit of each term is that of ``f`` alone. None when that does not apply
    or infinities of both signs meet."""
    a0 = ends[A]
    total = sympy.Integer(0)
    for term in sympy.Add.make_args(sympy.expand(G)):
        v = term.xreplace(ends)
        if _is_good(v):
            total += v
            continue
        g_b, f_a = term.as_independent(A, as_Add=False)  # term = g(b) · f(a)
        if f_a.has(B) or not f_a.has(A):
            return None
        gv = g_b.xreplace(ends)
        if not _is_good(gv) or gv == 0:
            return None
        ok, lim = attempt(lambda f=f_a: sympy.limit(f, A, a0, "+"), LIMIT_BUDGET)
        if not ok or lim in (sympy.zoo, sympy.nan) or lim.has(sympy.Limit, sympy.AccumBounds):
            return None
        total += lim * gv
        if total is sympy.nan:
            return None
    return total if total is not sympy.nan else None


def integrate_piece(F: sympy.Expr, schedule: Schedule, lo: sympy.Expr, hi: sympy.Expr) -> Integral:
    """``∫_lo^hi F(a_t, ȧ_t, b_t, ḃ_t) dt`` for a placeholder formula F: potential, then SymPy, then quadrature."""
    G = find_potential(F)
    if G is not None:
        vhi = potential_value(G, schedule, hi, "-")
        vlo = potential_value(G, schedule, lo, "+")
        if vhi.decided and vlo.decided:
            val = _difference(vhi, vlo)
            if val is not sympy.nan:
                numeric = not (vhi.exact and vlo.exact) or any(isinstance(x, sympy.Float) for x in (lo, hi))
                return Integral(tidy(val), numeric, 0.0 if not numeric else _point_error(val), "potential",
                                instantiate(G, schedule))
    return integrate_t(instantiate(F, schedule), lo, hi)


def tidy(val: sympy.Expr) -> sympy.Expr:
    # Cheap normalisations only: simplify() on values built from exp/log of schedule parameters can take
    # minutes, and exp(log(x)/2) already becomes sqrt(x) by itself.
    if isinstance(val, sympy.Float) or val in (sympy.oo, -sympy.oo):
        return val
    return sympy.expand_log(val, force=False) if val.has(sympy.log) and sympy.count_ops(val) < 40 else val


def _point_error(val: sympy.Expr) -> float:
    # Points located numerically carry ~DPS digits; the value inherits that relative accuracy.
    try:
        return abs(float(val)) * 10.0 ** (-(DPS - 5)) if val.is_finite else 0.0
    except TypeError:
        return 0.0


@lru_cache(maxsize=1024)
def integrate_t(f: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr) -> Integral:
    """``∫_lo^hi f dt`` for an expression in ``t``: SymPy's antiderivative within a budget, else quadrature.

    Example:
        >>> integrate_t(2 * t, sympy.Integer(0), sympy.Integer(1)).value
        1
    """
    ok, F = attempt(lambda: sympy.integrate(f, t), INTEGRATE_BUDGET)
    if ok and isinstance(F, sympy.Basic) and not F.has(sympy.Integral):
        vhi, vlo = endpoint_value(F, hi, "-"), endpoint_value(F, lo, "+")
        if vhi.decided and vlo.decided:
            val = _difference(vhi, vlo)
            if val is not sympy.nan and val.is_real is not False:
                numeric = not (vhi.exact and vlo.exact) or any(isinstance(x, sympy.Float) for x in (lo, hi))
                return Integral(tidy(val), numeric, _point_error(val) if numeric else 0.0, "sympy", F)
    return quadrature(f, lo, hi)


def quadrature(f: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr) -> Integral:
    """``∫_lo^hi f dt`` by mpmath (tanh-sinh, 30 digits) with its error estimate. An end where f is infinite
    is tested for integrability first (integrals to ``hi − ε`` for ε = 1e-4 … 1e-16 must settle)."""
    if f.free_symbols - {t}:  # symbolic parameters: nothing to integrate numerically
        return Integral(sympy.nan, True, math.inf, "quadrature")
    g = mp_function(f)
    lo_m, hi_m = (mpmath.mpf(sympy.N(v, DPS + 10)) for v in (lo, hi))

    def fm(x):
        v = g(x)
        return v.real if isinstance(v, mpmath.mpc) else v

    with mpmath.workdps(DPS):
        for end, side in ((hi, "-"), (lo, "+")):
            ev = endpoint_value(f, end, side)
            if ev.decided and ev.finite:
                continue
            partial = []
            for k in (4, 8, 12, 16):
                eps = mpmath.mpf(10) ** (-k)
                a, b = (lo_m, hi_m - eps) if side == "-" else (lo_m + eps, hi_m)
                partial.append(mpmath.quad(fm, [a, b]))
            d1, _, d3 = (abs(partial[i + 1] - partial[i]) for i in range(3))
            if d3 > 0.3 * d1 and d3 > mpmath.mpf(10) ** (-10):
                s = partial[-1] - partial[0]
                return Integral(sympy.oo if s > 0 else -sympy.oo, True, math.inf, "quadrature")
        val, err = mpmath.quad(fm, [lo_m, hi_m], error=True)
    return Integral(sympy.Float(val, DPS), True, float(err), "quadrature")


__all__ = [
    "DPS",
    "RHO",
    "BudgetExceeded",
    "EndpointValue",
    "Integral",
    "Roots",
    "attempt",
    "budgets_available",
    "endpoint_value",
    "find_potential",
    "integrate_piece",
    "integrate_t",
    "mp_function",
    "mp_value",
    "potential_value",
    "quadrature",
    "roots",
    "sign",
    "sign_changes",
    "time_budget",
    "total_derivative",
]
