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

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import mpmath
import sympy
from sympy.integrals.rationaltools import ratint

from gifsym.budget import BudgetExceeded, attempt, budgets_available, work_budget
from gifsym.symbolic import balls
from gifsym.symbolic.expr import as_expr
from gifsym.symbolic.flow import DA, DB, PLACEHOLDER_NAMES, A, B, instantiate
from gifsym.symbolic.schedule import Schedule, t

#: Working precision (decimal digits) of numerical evaluation, root refinement and quadrature.
DPS = 30
#: Seconds SymPy may spend on one ``integrate`` / ``limit`` / ``solveset`` call.
INTEGRATE_BUDGET = 3.0
LIMIT_BUDGET = 4.0
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


def cache_decided(keep: Callable[[Any], bool], maxsize: int = 4096):
    """Memoize a pure function, but only results ``keep`` accepts: a result degraded by a time budget (SymPy
    interrupted on a loaded machine) must not stick, or the same question would get a weaker answer forever."""

    def wrap(fn):
        store: dict = {}

        def cached(*args):
            try:
                return store[args]
            except KeyError:
                pass
            out = fn(*args)
            if keep(out):
                if len(store) >= maxsize:
                    store.clear()
                store[args] = out
            return out

        cached.cache_clear = store.clear  # type: ignore[attr-defined]
        cached.__wrapped__ = fn  # type: ignore[attr-defined]
        cached.__doc__, cached.__name__ = fn.__doc__, fn.__name__
        cached.__module__, cached.__qualname__ = fn.__module__, fn.__qualname__
        return cached

    return wrap


def _nonlinear_exponential(expr: sympy.Expr) -> bool:
    """Whether ``expr`` has an exponential whose exponent is not affine in t."""
    for e in expr.atoms(sympy.exp, sympy.Pow):
        arg = e.args[0] if isinstance(e, sympy.exp) else e.exp
        if arg.has(t) and (not arg.is_polynomial(t) or sympy.degree(arg, t) > 1):
            return True
    return False


def _in_t(e: Any, what: str = "expr") -> sympy.Expr:
    """A caller's expression in ``t`` (or a number): strings by the safe parser, never ``sympify``."""
    return as_expr(e, names={"t": t}, what=what)


def _in_placeholders(e: Any, what: str = "expr") -> sympy.Expr:
    """A caller's placeholder expression (a string names them a, da, b, db)."""
    return as_expr(e, names=PLACEHOLDER_NAMES, what=what)


# ---------------------------------------------------------------------------------------------------------
# Signs and total derivatives in the placeholders


def total_derivative(expr: sympy.Expr) -> sympy.Expr:
    """``d/dt expr(a_t, b_t) = ∂_a expr · ȧ + ∂_b expr · ḃ`` in the placeholders.

    Example:
        >>> total_derivative(B / A) == DB / A - B * DA / A**2
        True
    """
    expr = _in_placeholders(expr)
    return sympy.diff(expr, A) * DA + sympy.diff(expr, B) * DB


@lru_cache(maxsize=1024)
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
    e = sympy.together(_in_placeholders(expr).xreplace(_SIGNED))
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
    return sympy.lambdify(t, _in_t(expr), modules="mpmath")


def mp_value(expr: sympy.Expr, x: Any) -> Any:
    """``expr`` at ``t = x`` to :data:`DPS` digits, as an mpmath number (``mpmath.nan`` where undefined or
    complex). SymPy's ``evalf`` at the exact point (an mpf is the binary rational it is), with its adaptive
    precision: for the one or two points a formula is evaluated at, compiling it (``lambdify``) costs more.

    Example:
        >>> mpmath.nstr(mp_value(sympy.sqrt(t), mpmath.mpf(2)), 30)
        '1.41421356237309504880168872421'
        >>> mpmath.isnan(mp_value(sympy.log(t - 1), 0.5))
        True
    """
    expr = _in_t(expr)
    if isinstance(x, sympy.Basic):
        point = x
    else:
        man, exp = mpmath.mpf(x).man_exp
        point = sympy.Integer(int(man)) * sympy.Integer(2) ** int(exp)
    v = expr.xreplace({t: point}).evalf(DPS + 10)
    if not v.is_number or v.has(sympy.nan, sympy.zoo) or v.is_finite is False:
        return mpmath.nan
    re, im = v.as_real_imag()
    if not (isinstance(re, sympy.Float) or re.is_zero) or not (im.is_zero or isinstance(im, sympy.Float)):
        return mpmath.nan
    with mpmath.workdps(DPS + 10):
        real, imag = mpmath.mpf(re), mpmath.mpf(im) if not im.is_zero else mpmath.mpf(0)
        if abs(imag) > mpmath.mpf(10) ** (-DPS) * max(1, abs(real)):
            return mpmath.nan
        return real


def _is_good(v: sympy.Basic) -> bool:
    if not isinstance(v, sympy.Basic):
        return False
    if v.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo, sympy.AccumBounds, sympy.Limit):
        return False
    return v.is_real is not False


#: The three kinds of knowledge (interface.md): a SymPy closed form, a rigorous enclosure, a float.
KINDS = ("exact", "certified", "estimate")


def weakest(*kinds: str) -> str:
    """The kind of a result computed from results of these kinds (estimate < certified < exact).

    Example:
        >>> weakest("exact", "certified")
        'certified'
    """
    return max(kinds, key=KINDS.index) if kinds else "exact"


@dataclass(frozen=True)
class EndpointValue:
    """The value (or one-sided limit) of an expression at a point.

    Attributes:
        value: a SymPy number, ``oo`` / ``-oo``, a Float, or ``nan`` when it could not be decided.
        kind: ``"exact"`` (substitution or ``sympy.limit``) or ``"estimate"`` (numerical extrapolation:
            no proof; callers that need a proof treat it as undecided).
    """

    value: sympy.Expr
    kind: str = "exact"

    @property
    def exact(self) -> bool:
        return self.kind == "exact"

    @property
    def finite(self) -> bool:
        """Finite (for an expression in symbolic parameters: finite for generic values of them)."""
        return self.value.is_finite is True or _is_good(self.value)

    @property
    def decided(self) -> bool:
        """Known with proof (an estimate is not)."""
        return self.value is not sympy.nan and self.kind != "estimate"


@cache_decided(lambda v: v.kind == "exact")
def endpoint_value(expr: sympy.Expr, point: sympy.Expr, side: str = "+") -> EndpointValue:
    """``expr`` at ``t = point``, or its one-sided limit (``side`` ``"+"`` from the right, ``"-"`` from the
    left) where substitution is undefined: exact by substitution or ``sympy.limit`` (under a budget); else
    a numerical extrapolation, labelled ``estimate``.

    Example:
        >>> endpoint_value(sympy.log(1 - t) / (1 - t), sympy.Integer(1), "-").value
        -oo
        >>> endpoint_value(sympy.sin(t) / t, sympy.Integer(0), "+").value
        1
        >>> endpoint_value(sympy.sin(1 - t) / (1 - t)**sympy.Rational(99, 100), sympy.Integer(1), "-").value
        0
    """
    expr = _in_t(expr)
    point = _in_t(point, "point")
    if t not in expr.free_symbols:
        return EndpointValue(expr)
    v = expr.xreplace({t: point})
    if _is_good(v):
        return EndpointValue(v)
    ok, lim = attempt(lambda: sympy.limit(expr, t, point, side), LIMIT_BUDGET)
    if ok and isinstance(lim, sympy.Basic) and not lim.has(sympy.Limit, sympy.AccumBounds, sympy.nan, sympy.zoo) \
            and (lim.is_extended_real is not False):
        return EndpointValue(lim)
    symbolic = bool(expr.free_symbols - {t})
    guess = sympy.nan if symbolic else _numeric_limit(expr, point, side)
    return EndpointValue(guess, "estimate")


def _numeric_limit(expr: sympy.Expr, point: sympy.Expr, side: str) -> sympy.Expr:
    """Extrapolate ``expr`` to ``point`` from values at distances 1e-6 … 1e-24: a converging sequence gives a
    Float, a growing one ±oo, anything else nan. An estimate only: no extrapolation proves a limit."""
    sgn = 1 if side == "+" else -1
    with mpmath.workdps(60):
        f = mp_function(expr)
        p = mpmath.mpf(sympy.N(point, 60))
        vals = []
        for k in (6, 9, 12, 15, 18, 21, 24):
            try:
                v = f(p + sgn * mpmath.mpf(10) ** (-k))
            except (ZeroDivisionError, ValueError, OverflowError, TypeError):
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
        if monotone and diffs[-1] >= 0.5 * diffs[-2]:
            return sympy.oo if vals[-1] > vals[0] else -sympy.oo
    return sympy.nan


# ---------------------------------------------------------------------------------------------------------
# Roots and sign changes


@dataclass(frozen=True)
class Roots:
    """Points in an open interval where an expression changes sign.

    Attributes:
        points: increasing; exact SymPy numbers where SymPy solved the equation, else Floats (the midpoints
            of certified enclosures).
        exact: whether every point is exact.
        enclosures: for each point, an interval ``(lo, hi)`` (exact rationals) proved to contain exactly
            one sign change (``(p, p)`` for an exact point).
        complete: whether the rest of the interval was proved free of sign changes (False: some boxes,
            listed in ``undecided``, could not be decided by ball arithmetic within the budget).
    """

    points: tuple[sympy.Expr, ...]
    exact: bool
    enclosures: tuple[tuple[sympy.Expr, sympy.Expr], ...] = ()
    complete: bool = True
    undecided: tuple[tuple[sympy.Expr, sympy.Expr], ...] = ()

    @property
    def kind(self) -> str:
        """``exact`` when every point is exact, else ``certified`` (isolated by ball arithmetic)."""
        return "exact" if self.exact else "certified"


def _rational_inside(x: sympy.Expr, upward: bool) -> sympy.Rational:
    """A rational at most 2^-120 from x on the side that keeps the interval inside (x itself if rational)."""
    if isinstance(x, sympy.Rational):
        return x
    if isinstance(x, sympy.Float):
        return sympy.Rational(x)
    ball = balls.enclose(x)
    if ball is None:
        raise ValueError(f"cannot enclose {x}")
    lo, hi = balls.ends(ball)
    return hi if upward else lo


@lru_cache(maxsize=1024)
def roots(expr: sympy.Expr, lo: sympy.Expr = sympy.S.Zero, hi: sympy.Expr = sympy.S.One,
          real_domain: bool = False, equation: sympy.Expr | None = None) -> Roots:
    """Sign changes of ``expr`` (in ``t``, numbers only) in ``(lo, hi)``, isolated by ball arithmetic
    (:func:`gifsym.symbolic.balls.sign_changes`: each in a certified enclosure), replaced by SymPy's exact
    roots when ``solve`` finds, within its budget, one inside each enclosure. ``real_domain``: every
    fractional power in ``expr`` is known to have a non-negative base on the interval (see
    :func:`gifsym.symbolic.balls.compile_ball`), as for the coefficients of a schedule whose S-pos and
    S-mono were proved. ``equation``: what to ``solve`` instead of ``expr = 0``, when the caller knows it has
    the same zeros in ``(lo, hi)`` and is easier for SymPy (``b² − ρ²a²`` for ``b − ρa``: no square roots).

    Example:
        >>> roots(t**2 - sympy.Rational(1, 4)).points
        (1/2,)
    """
    expr, lo, hi = _in_t(expr), _in_t(lo, "lo"), _in_t(hi, "hi")
    equation = None if equation is None else _in_t(equation, "equation")
    try:
        a, b = _rational_inside(lo, True), _rational_inside(hi, False)
    except ValueError:
        return Roots((), False, (), False, ((lo, hi),))
    if not a < b:
        return Roots((), True)
    iso = balls.sign_changes(expr, t, a, b, real_domain=real_domain)
    # An exact zero at a rational point of the bisection is reported as a zero-width enclosure.
    enclosures = tuple(iso.roots)
    numeric = tuple(sympy.Float((x + y) / 2, DPS) if x != y else x for x, y in enclosures)
    # Exact roots are a refinement only. Exponentials of non-linear functions of t (VP, sub-VP) send
    # sympy.solve into polynomial factorizations whose single big-integer steps outlast any time budget,
    # so those keep the certified enclosures.
    if numeric and not _nonlinear_exponential(expr):
        ok, sol = attempt(lambda: sympy.solve(expr if equation is None else equation, t), SOLVE_BUDGET)
        if ok and isinstance(sol, list):
            exact = []
            for x, y in enclosures:
                inside = []
                for v in sol:
                    ball = balls.enclose(v) if v.is_number else None
                    if ball is not None:
                        vlo, vhi = balls.ends(ball)
                        if x <= vlo and vhi <= y:
                            inside.append(v)
                if len(inside) == 1:  # logarithms of powers split (log(q^c) = c log q for q > 0), as solve would
                    exact.append(sympy.expand_log(inside[0]) if inside[0].has(sympy.log) else inside[0])
            if len(exact) == len(enclosures):
                return Roots(tuple(exact), True, tuple((v, v) for v in exact), iso.complete, iso.undecided)
    all_exact = all(not isinstance(p, sympy.Float) for p in numeric)
    return Roots(numeric, all_exact, enclosures, iso.complete, iso.undecided)


def sign_changes(expr: sympy.Expr, schedule: Schedule, lo: sympy.Expr = sympy.S.Zero,
                 hi: sympy.Expr = sympy.S.One) -> Roots:
    """Sign changes in ``(lo, hi)`` of a placeholder expression instantiated for ``schedule``.

    Factors whose sign is fixed for every admissible schedule (see :func:`sign`) are dropped, and a factor
    that is homogeneous in ``(a, b)`` depends on ``t`` only through the SNR ``r_t = b_t/a_t``: its zeros are
    found once as values ``ρ*`` of the SNR (schedule-free) and then located in time by solving
    ``b_t = ρ* a_t``, which SymPy solves far more often than the original expression.
    """
    expr, lo, hi = _in_placeholders(expr), _in_t(lo, "lo"), _in_t(hi, "hi")
    num, den = sympy.fraction(sympy.together(expr))
    found: list[Roots] = []
    for part in (num, den):
        _, factors = sympy.factor_list(part)
        for f, mult in factors:
            if mult % 2 == 0 or f.free_symbols.isdisjoint({A, B, DA, DB}) or sign(f) is not None:
                continue
            found.extend(_factor_roots(f, schedule, lo, hi))
    pairs = sorted(((p, e) for r in found for p, e in zip(r.points, r.enclosures)),
                   key=lambda pe: float(sympy.N(pe[0], DPS)))
    out: list = []
    for p, e in pairs:  # the same point found exactly and numerically: keep one, preferably exact
        if out and abs(float(sympy.N(p - out[-1][0], DPS))) < 1e-20:
            if isinstance(out[-1][0], sympy.Float) and not isinstance(p, sympy.Float):
                out[-1] = (p, e)
            continue
        out.append((p, e))
    exact = all(not isinstance(p, sympy.Float) for p, _ in out)
    undecided = tuple(u for r in found for u in r.undecided)
    return Roots(tuple(p for p, _ in out), exact, tuple(e for _, e in out), all(r.complete for r in found),
                 undecided)


def _factor_roots(f: sympy.Expr, schedule: Schedule, lo, hi) -> list[Roots]:
    if f.free_symbols.isdisjoint({DA, DB}):
        try:
            poly = sympy.Poly(f, A, B)
        except sympy.PolynomialError:
            poly = None
        if poly is not None and poly.is_homogeneous and poly.total_degree() > 0:
            g = sympy.expand(f.subs({A: 1, B: RHO}))
            ok, rhos = attempt(lambda: sympy.solve(g, RHO), SOLVE_BUDGET, terminates=g.is_polynomial(RHO))
            if ok:
                # b = ρa ⇔ b² = ρ²a² where a, b > 0 (S-pos on the open interval): the squares have no roots.
                return [roots(schedule.b - r * schedule.a, lo, hi, True, sympy.expand(schedule.b**2 - r**2 * schedule.a**2))
                        for r in rhos if r.is_real and r.is_positive]
    # The bounds are derived only for schedules with S-pos and S-mono proved: a, b, ȧ, ḃ are real on (0, 1).
    return [roots(instantiate(f, schedule), lo, hi, True)]


# ---------------------------------------------------------------------------------------------------------
# Potentials and integrals


@cache_decided(lambda G: G is not None, maxsize=1024)
def find_potential(F: sympy.Expr) -> sympy.Expr | None:
    """A function ``G(a, b)`` of the placeholders with ``d/dt G(a_t, b_t) = F``, or None.

    ``F`` must be linear in ``ȧ, ḃ``: ``F = P ȧ + Q ḃ``. It is a total derivative exactly when the 1-form is
    closed (``∂P/∂b = ∂Q/∂a``); then ``G = ∫ P da + h(b)`` with ``h' = Q − ∂_b ∫ P da``.

    Example:
        >>> R = sympy.Symbol("R", positive=True)
        >>> find_potential(DA / A + B * (A * DB - DA * B) * R**2 / A**3)
        R**2*b_t**2/(2*a_t**2) + log(a_t)
    """
    F = _in_placeholders(F, "F")
    G = _log_potential(F)
    if G is not None:
        return G
    P, Q = sympy.diff(F, DA), sympy.diff(F, DB)
    if P.has(DA, DB) or Q.has(DA, DB) or (P == 0 and Q == 0):
        return None
    if sympy.cancel(F - P * DA - Q * DB) != 0:
        return None
    if sympy.cancel(sympy.diff(P, B) - sympy.diff(Q, A)) != 0:
        return None

    def build():
        G = _antiderivative(P, A) if P != 0 else sympy.Integer(0)
        h = sympy.cancel(Q - sympy.diff(G, B))
        if h.has(A):
            return None
        G = G + (_antiderivative(h, B) if h != 0 else 0)
        if G.has(sympy.Integral, sympy.Piecewise):
            return None
        check = sympy.cancel(sympy.together(total_derivative(G) - F))
        return G if check == 0 or sympy.simplify(check) == 0 else None

    # Integrating a rational function of (a, b) always terminates (ratint): no budget, so that a loaded machine
    # cannot change the answer; the budget only guards the rest.
    if F.is_rational_function(A, B, DA, DB):
        ok, G = attempt(build, 3600.0, terminates=True)
    else:
        ok, G = attempt(build, INTEGRATE_BUDGET)
    return G if ok else None


def _log_potential(F: sympy.Expr) -> sympy.Expr | None:
    """``c log D`` when ``F = c Ḋ/D`` with ``D`` the denominator of F and ``c`` a constant, else None: the
    bounds ``U^κ``, ``L^β``, ``L^σ`` of most classes, found by one ``cancel`` instead of integrating (10 of the
    inventory's 13 potentials). D's sign is taken so that its leading coefficient in ``(a, b)`` is positive
    and its terms are collected in ``a``, as ``ratint`` writes it (the two forms differ by a constant)."""
    num, den = sympy.fraction(sympy.together(F))
    if not den.has(A, B) or den.has(DA, DB):  # Ḋ = D_a ȧ + D_b ḃ needs D to depend on a and b alone
        return None
    dD = total_derivative(den)
    if dD == 0:
        return None
    c = sympy.cancel(num / dD)
    if c.has(A, B, DA, DB):
        return None
    try:
        lc = sympy.Poly(den, A, B).LC()
    except sympy.PolynomialError:
        return None
    if lc.is_negative:
        den = -den
    elif not lc.is_positive:
        return None
    return c * sympy.log(sympy.collect(sympy.expand(den), A))


def _antiderivative(f: sympy.Expr, x: sympy.Symbol) -> sympy.Expr:
    """An antiderivative of ``f`` in ``x``: by Horowitz–Ostrogradsky and the Lazard–Rioboo–Trager log part
    (``ratint``) for a rational function, which is where ``integrate`` ends up for one, without its other
    attempts first (0.13 s against 0.35–0.58 s on the bounds of a Gaussian with a full covariance, and
    ``½ log(…)`` rather than a product of algebraic numbers in front); ``integrate`` otherwise, or when the
    logarithmic part needs a ``RootSum``."""
    if f.is_rational_function(x):
        G = ratint(f, x)
        if not G.has(sympy.RootSum):
            return G
    return sympy.integrate(f, x)


@dataclass(frozen=True)
class Integral:
    r"""A definite integral ``∫_lo^hi f dt``.

    Attributes:
        value: exact SymPy value; the midpoint (a Float) of a certified enclosure or an estimate; ``±oo``
            when it is proved to diverge; ``nan`` when it could not be decided.
        kind: ``"exact"`` (closed form), ``"certified"`` (``enclosure`` holds the true value; for ``±oo``:
            divergence proved by comparison), or ``"estimate"`` (no guarantee).
        method: ``"potential"`` (a total derivative, see :func:`find_potential`), ``"sympy"`` (``integrate``),
            ``"ball quadrature"`` (Arb's rigorous integration, with comparison tails at singular ends) or
            ``"quadrature"`` (mpmath, an estimate).
        antiderivative: an antiderivative in ``t`` when one is known (lets callers integrate to any T).
        enclosure: ``(lo, hi)`` exact rationals with ``lo ≤ value ≤ hi`` (certified finite values only).
        error: for an estimate, mpmath's error estimate (no guarantee).
    """

    value: sympy.Expr
    kind: str
    method: str
    antiderivative: sympy.Expr | None = None
    enclosure: tuple[sympy.Rational, sympy.Rational] | None = None
    error: float = 0.0

    @property
    def numeric(self) -> bool:
        """Not a closed form (certified or estimated)."""
        return self.kind != "exact"

    @property
    def decided(self) -> bool:
        """Known with proof: exact or certified (and not nan)."""
        return self.kind != "estimate" and self.value is not sympy.nan


def certify(val: sympy.Expr, method: str, antiderivative: sympy.Expr | None = None) -> Integral:
    """An exact value at numerically located (rational) points as a certified enclosure: its closed form is
    exact but unreadable (rationals of 30 digits inside logarithms), so it is reported by a ball."""
    if val in (sympy.oo, -sympy.oo):
        return Integral(val, "certified", method, antiderivative)
    ball = balls.enclose(val)
    if ball is None:
        return Integral(sympy.nan, "estimate", method, antiderivative)
    lo, hi = balls.ends(ball)
    return Integral(sympy.Float((lo + hi) / 2, DPS), "certified", method, antiderivative, (lo, hi))


def located(x: sympy.Expr) -> sympy.Expr:
    """A numerically located point (a Float) as the exact binary rational it is; other points unchanged."""
    x = _in_t(x, "point")
    return sympy.Rational(x) if isinstance(x, sympy.Float) else x


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
    G, point = _in_placeholders(G, "G"), _in_t(point, "point")
    ends = _schedule_point(schedule, point, side)
    if ends is not None:
        v = G.xreplace(ends)
        if _is_good(v):
            return EndpointValue(v)
        v = _separable_limit(G, ends)
        if v is not None:
            return EndpointValue(v)
    return endpoint_value(instantiate(G, schedule), point, side)


def _separable_limit(G: sympy.Expr, ends: dict) -> sympy.Expr | None:
    """The limit of ``G(a, b)`` as ``(a, b) → ends`` along any path, when G is a sum of terms each finite at
    the end point or of the form ``f(a) g(b)`` with g continuous and non-zero there (``log a``,
    ``R² b²/(2a²)``): then the limit of each term is that of ``f`` alone. Where infinities of both signs meet,
    a term whose ``f_k`` dominates every other infinite one (``f_j/f_k → 0``, SymPy limits in ``a`` alone)
    decides: ``Σ (c_j + o(1)) f_j = c_k f_k (1 + o(1))``. None when that does not apply."""
    a0 = ends[A]
    finite = sympy.Integer(0)
    infinite: list[tuple[sympy.Expr, sympy.Expr, sympy.Expr]] = []  # (f(a), g(b) at the end, limit of f)
    for term in sympy.Add.make_args(sympy.expand(G)):
        v = term.xreplace(ends)
        if _is_good(v):
            finite += v
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
        if lim in (sympy.oo, -sympy.oo):
            infinite.append((f_a, gv, lim))
        else:
            finite += lim * gv
    if not infinite:
        return finite
    signs = {(lim * gv).is_extended_positive for _, gv, lim in infinite}
    if len(signs) == 1 and None not in signs:
        return sympy.oo if signs.pop() else -sympy.oo
    for k, (fk, gk, lk) in enumerate(infinite):
        dominated = True
        for j, (fj, _, _) in enumerate(infinite):
            if j == k:
                continue
            ok, r = attempt(lambda fj=fj, fk=fk: sympy.limit(fj / fk, A, a0, "+"), LIMIT_BUDGET)
            if not ok or r != 0:
                dominated = False
                break
        if dominated:
            sgn = (lk * gk).is_extended_positive
            if sgn is None:
                return None
            return sympy.oo if sgn else -sympy.oo
    return None


def integrate_piece(F: sympy.Expr, schedule: Schedule, lo: sympy.Expr, hi: sympy.Expr) -> Integral:
    """``∫_lo^hi F(a_t, ȧ_t, b_t, ḃ_t) dt`` for a placeholder formula F: potential, then SymPy, then quadrature.

    Float ends (numerically located points) are taken as the exact rationals they are, so the result is the
    integral over exactly that interval; its value is then reported as a certified enclosure.
    """
    F, lo, hi = _in_placeholders(F, "F"), _in_t(lo, "lo"), _in_t(hi, "hi")
    floats = any(isinstance(x, sympy.Float) for x in (lo, hi))
    lo, hi = located(lo), located(hi)
    G = cell_potential(F, schedule, lo, hi)
    if G is not None:
        vhi = potential_value(G, schedule, hi, "-")
        vlo = potential_value(G, schedule, lo, "+")
        if vhi.decided and vlo.decided:
            val = _difference(vhi, vlo)
            if val is not sympy.nan:
                if floats:
                    return certify(val, "potential", instantiate(G, schedule))
                return Integral(tidy(val), "exact", "potential", instantiate(G, schedule))
    return integrate_t(instantiate(F, schedule), lo, hi, floats)


def cell_potential(F: sympy.Expr, schedule: Schedule, lo: sympy.Expr, hi: sympy.Expr) -> sympy.Expr | None:
    """A potential of ``F`` (:func:`find_potential`) that is real on the cell ``(lo, hi)`` of ``schedule``.

    ``log(u)`` and ``log(−u)`` have the same derivative ``u'/u``; where ``u < 0`` on the cell (a bound valid
    where ``κa² + b² < 0``) only the second is real, so only it gives the integral by its end values.

    Example:
        >>> from gifsym import schedule
        >>> cell_potential((A * DA - 2 * B * DB) / (A**2 - 2 * B**2), schedule("linear"), sympy.Integer(1) / 2, 1)
        log(-a_t**2 + 2*b_t**2)/2
    """
    lo, hi = _in_t(lo, "lo"), _in_t(hi, "hi")
    G = find_potential(F)
    if G is None:
        return None
    real = _real_logs(G, lo, hi, schedule)
    return G if real is None else real


def tidy(val: sympy.Expr) -> sympy.Expr:
    # Cheap normalisations only: simplify() on values built from exp/log of schedule parameters can take
    # minutes, and exp(log(x)/2) already becomes sqrt(x) by itself.
    if isinstance(val, sympy.Float) or val in (sympy.oo, -sympy.oo):
        return val
    if val.is_number and any(p.exp.has(sympy.log) for p in val.atoms(sympy.Pow)):
        # A schedule at a root located by solve, e.g. 5000^(2 − log(q)/log 5000) (VE): powsimp makes it q^…
        val = sympy.powsimp(sympy.expand_power_exp(val))
    return sympy.expand_log(val, force=False) if val.has(sympy.log) and sympy.count_ops(val) < 40 else val


@lru_cache(maxsize=1024)
def integrate_t(f: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr, located_ends: bool = False) -> Integral:
    """``∫_lo^hi f dt`` for an expression in ``t``: SymPy's antiderivative within a budget, else quadrature
    (:func:`quadrature`). ``located_ends``: the ends are numerically located points (the value is then
    reported as a certified enclosure, see :func:`certify`).

    Example:
        >>> integrate_t(2 * t, sympy.Integer(0), sympy.Integer(1)).value
        1
        >>> I = integrate_t((1 - t)**sympy.Rational(-99, 100) * (2 + sympy.sin(t)), sympy.Integer(0), sympy.Integer(1))
        >>> I.kind, I.enclosure[0] < 283.4404096414862 < I.enclosure[1]
        ('certified', True)
    """
    f, lo, hi = _in_t(f, "f"), located(_in_t(lo, "lo")), located(_in_t(hi, "hi"))
    ok, F = attempt(lambda: sympy.integrate(f, t), INTEGRATE_BUDGET)
    if ok and isinstance(F, sympy.Basic) and not F.has(sympy.Integral) and _elementary(F):
        for G in (F, _real_logs(F, lo, hi, None)):
            if G is None:
                continue
            vhi, vlo = endpoint_value(G, hi, "-"), endpoint_value(G, lo, "+")
            if vhi.decided and vlo.decided:
                val = _difference(vhi, vlo)
                if val is not sympy.nan and val.is_real is not False:
                    if located_ends:
                        return certify(val, "sympy", G)
                    return Integral(tidy(val), "exact", "sympy", G)
    return quadrature(f, lo, hi)


def _real_logs(F: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr, schedule: Schedule | None) -> sympy.Expr | None:
    """``F`` (in ``t``, or in the placeholders of ``schedule``) with ``log(u)`` written ``log(−u)`` for each
    argument negative at the middle of ``(lo, hi)``, or None when there is none. Both have the derivative
    ``u'/u`` (they differ by the constant ``iπ``), but only the second is real there. The caller's end values
    decide: they are real only if ``u`` keeps its sign, and ``F`` is an antiderivative of a function without
    poles inside the cell. ``integrate`` returns either form for the same integrand, depending on SymPy's
    cache (for ``sin(πt/2) cos(πt/2)/(cos²(πt/2) − 2 sin²(πt/2))``, ``log(cos² − 2 sin²)`` or
    ``log(2 sin² − cos²)``); without this, whether an integral is exact would depend on what ran before it."""
    if (F if schedule is None else instantiate(F, schedule)).free_symbols - {t}:
        return None  # symbolic parameters: the sign of an argument is not a number
    mid = (located(lo) + located(hi)) / 2
    flips = {}
    for e in F.atoms(sympy.log):
        u = e.args[0] if schedule is None else instantiate(e.args[0], schedule)
        # evalf at one point: compiling u (lambdify) would cost more than the whole question is worth.
        if u.xreplace({t: mid}).evalf(15).is_extended_negative:
            flips[e] = sympy.log(-e.args[0])
    return F.xreplace(flips) if flips else None


def _elementary(F: sympy.Expr) -> bool:
    """Whether an antiderivative uses only functions whose limits SymPy handles (not hyper, gamma, ...)."""
    allowed = (sympy.exp, sympy.log, sympy.sin, sympy.cos, sympy.tan, sympy.sinh, sympy.cosh, sympy.tanh,
               sympy.erf, sympy.asin, sympy.acos, sympy.atan, sympy.asinh, sympy.acosh, sympy.atanh, sympy.Abs,
               sympy.erfi, sympy.Piecewise)
    return all(isinstance(e, allowed) for e in F.atoms(sympy.Function))


#: Width of the end pieces split off at a singular end of a quadrature (2^-40).
_TAIL = sympy.Rational(1, 2**40)


def quadrature(f: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr) -> Integral:
    """``∫_lo^hi f dt`` as a certified enclosure, or an estimate when that cannot be proved.

    Where ``f`` is analytic in a neighbourhood of an end, Arb's integrator (:func:`gifsym.symbolic.balls.integral`)
    encloses the integral rigorously. At an end where it is not (a pole, a branch point, a blow-up), a piece
    of width 2^-40 is split off and bounded by comparison (:func:`_tail`): ``f = s^p h(s)`` near the end
    (``s`` the distance to it, ``p`` from SymPy's leading term) with ``h`` enclosed on the whole piece by
    ball arithmetic; then ``∫_0^δ s^p h ∈ h([0, δ]) δ^{p+1}/(p+1)`` for ``p > −1``, and for ``p ≤ −1`` a ball
    ``h([0, δ])`` excluding 0 proves divergence. Anything else (no leading term, ``h`` not enclosed) leaves
    convergence undecided: ``nan``, never a guessed ``±oo``.
    """
    f, lo, hi = _in_t(f, "f"), located(_in_t(lo, "lo")), located(_in_t(hi, "hi"))
    if f.free_symbols - {t}:  # symbolic parameters: nothing to integrate numerically
        return Integral(sympy.nan, "estimate", "quadrature")
    body = [lo, hi]
    tails: list[balls.Enclosure] = []
    infinite: list[sympy.Expr] = []
    for k, (end, side) in enumerate(((lo, "+"), (hi, "-"))):
        if balls.analytic_near(f, t, end):
            continue
        tail = _tail(f, end, side)
        if tail is None:  # convergence at this end not decided: no number, and certainly not a guessed ±oo
            return Integral(sympy.nan, "estimate", "ball quadrature")
        if tail in (sympy.oo, -sympy.oo):
            infinite.append(tail)
            continue
        tails.append(tail)
        body[k] = end + _TAIL if side == "+" else end - _TAIL
    if infinite:
        if len(set(infinite)) > 1:  # +oo at one end, -oo at the other
            return Integral(sympy.nan, "estimate", "ball quadrature")
        return Integral(infinite[0], "certified", "ball quadrature")
    enc = balls.integral(f, t, body[0], body[1])
    if enc is None:
        # An estimate only where f is proved bounded on the whole interval (else quadrature may be garbage).
        return _estimate(f, lo, hi) if _bounded(f, body[0], body[1]) else Integral(sympy.nan, "estimate", "quadrature")
    for tail in tails:
        enc = enc + tail
    return Integral(sympy.Float(enc.mid, DPS), "certified", "ball quadrature", None, (enc.lo, enc.hi))


def _tail(f: sympy.Expr, end: sympy.Expr, side: str) -> balls.Enclosure | sympy.Expr | None:
    """``∫`` of f over the piece of width :data:`_TAIL` at ``end`` (see :func:`quadrature`): an enclosure,
    ``±oo`` (divergence proved), or None (undecided)."""
    s = sympy.Dummy("s", positive=True)
    g = f.subs(t, end - s if side == "-" else end + s)
    ok, lead = attempt(lambda: g.leadterm(s), LIMIT_BUDGET)
    if not ok or not isinstance(lead, tuple):
        return None
    c, p = lead
    if not isinstance(p, sympy.Rational) or c.has(s) or c == 0:
        return None
    base = g * s ** (-p)
    H = None
    for rewrite in (lambda e: e, sympy.powsimp, lambda e: sympy.factor(e, deep=True), sympy.simplify):
        ok, h = attempt(lambda r=rewrite: r(base), LIMIT_BUDGET)
        if not ok or not isinstance(h, sympy.Expr) or h.has(sympy.log(s)):
            continue
        try:
            H = balls.compile_ball(h, s)(balls.interval_ball(0, _TAIL))
        except balls.NotEnclosed:
            continue
        if H.is_finite():
            break
        H = None
    if H is None:
        return None
    if p > -1:
        scale = balls.enclose(_TAIL ** (p + 1) / (p + 1))
        return balls.Enclosure.of(H * scale)
    if H > 0:
        return sympy.oo
    if H < 0:
        return -sympy.oo
    return None


def _bounded(f: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr, depth: int = 14) -> bool:
    """Whether ball arithmetic proves f bounded on [lo, hi] (boxes bisected down to width 2^-depth)."""
    try:
        g = balls.compile_ball(f, t)
        a, b = _rational_inside(lo, True), _rational_inside(hi, False)
    except (balls.NotEnclosed, ValueError):
        return False
    stack = [(a, b, 0)]
    while stack:
        x, y, d = stack.pop()
        if g(balls.interval_ball(x, y)).is_finite():
            continue
        if d >= depth:
            return False
        m = (x + y) / 2
        stack += [(x, m, d + 1), (m, y, d + 1)]
    return True


def _estimate(f: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr) -> Integral:
    """mpmath's tanh-sinh quadrature with its error estimate: an estimate (no proof of convergence)."""
    g = mp_function(f)

    def fm(x):
        v = g(x)
        return v.real if isinstance(v, mpmath.mpc) else v

    try:
        with mpmath.workdps(DPS):
            lo_m, hi_m = (mpmath.mpf(sympy.N(v, DPS + 10)) for v in (lo, hi))
            val, err = mpmath.quad(fm, [lo_m, hi_m], error=True)
        if not mpmath.isfinite(val):
            raise ValueError
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return Integral(sympy.nan, "estimate", "quadrature")
    return Integral(sympy.Float(val, DPS), "estimate", "quadrature", error=float(err))


__all__ = [
    "DPS",
    "KINDS",
    "RHO",
    "BudgetExceeded",
    "EndpointValue",
    "Integral",
    "Roots",
    "attempt",
    "budgets_available",
    "cell_potential",
    "certify",
    "endpoint_value",
    "find_potential",
    "integrate_piece",
    "integrate_t",
    "located",
    "mp_function",
    "mp_value",
    "potential_value",
    "quadrature",
    "roots",
    "sign",
    "sign_changes",
    "total_derivative",
    "weakest",
    "work_budget",
]
