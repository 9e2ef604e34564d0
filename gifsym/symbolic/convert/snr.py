r"""The inverse of a schedule's signal-to-noise ratio ``ρ(t) = b_t / a_t``: exact where SymPy finds it,
certified by interval bisection otherwise.

Under S-mono with ``a ḃ − ȧ b > 0`` on (0, 1), ``ρ' = (a ḃ − ȧ b)/a² > 0``: ρ is a strictly increasing
bijection of [0, 1) onto ``[ρ(0), ∞)``, and ``ρ⁻¹`` is what a change of schedule needs
(:mod:`gifsym.symbolic.convert.schedule_transfer`). It is found in one of two ways, and says which (``kind``):

* ``exact``: ``ρ(t)² = y²`` is solved by SymPy, either directly (a rational function of t of low degree)
  or through one *kernel* ``K(t)`` — an exponential, a power of t, a cosine — in which ``ρ²`` is rational
  (``e^{−B}/(1 − e^{−B})`` for VP), followed by inverting ``K`` and a polynomial of degree ≤ 2. Of the
  solution branches, the one with ``t(ρ(t_j)) = t_j`` at 24 times ``t_j`` (to 30 digits) is kept.
* ``certified``: otherwise ``t(y)`` is enclosed by bisection on ``[0, 1]`` in interval arithmetic
  (:mod:`mpmath.iv`): at each end of the final bracket the sign of ``ρ − y`` is proved, so by the
  intermediate value theorem and the strict monotonicity of ρ (proved from the Wronskian) the root lies
  inside. Fast float evaluation (``at``) bisects in float64 and stays within the enclosure to rounding.

Example:
    >>> from gifsym import schedule
    >>> inv = snr_inverse(schedule("linear"))
    >>> inv.kind, inv.expr
    ('exact', y/(y + 1))
    >>> inv.at(1.0)
    0.5
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

import mpmath
import sympy

from gifsym.errors import ConvertError
from gifsym.symbolic.convert import arguments
from gifsym.symbolic.schedule import Schedule, t

if TYPE_CHECKING:  # imported where used: a run answered from the cache never needs numpy
    import numpy as np

#: The SNR value, argument of the inverse.
y = sympy.Symbol("y", positive=True)

# Times at which a candidate branch of the exact inverse is checked: t(ρ(t_j)) = t_j.
_CHECK_TIMES = (sympy.Rational(1, 1000),) + tuple(sympy.Rational(k, 25) for k in range(1, 25)) + (
    sympy.Rational(999, 1000),)
# Digits of those checks; a branch passes when |t(ρ(t_j)) − t_j| < 10^-_CHECK_DIGITS.
_CHECK_DIGITS = 25
# Largest float64 error of t(ρ(t_j)) − t_j a closed form may have to be used (rounding of a few ulps of
# ρ propagates through the inverse; 1e-9 leaves room for that and refuses forms that lose half the digits).
_FLOAT_TOLERANCE = 1e-9
# Bisection steps of the float inverse: 2^-64 < 1e-19, below double precision on [0, 1].
_FLOAT_STEPS = 64


def _as_exp(expr: sympy.Expr) -> sympy.Expr:
    """Write ``c**E(t)`` (number base, exponent in t) as ``exp(E log c)`` so one kernel covers both."""
    return expr.replace(lambda e: e.is_Pow and e.base.is_number and e.base.is_positive and e.exp.has(t),
                        lambda e: sympy.exp(e.exp * sympy.log(e.base)))


def _poly_roots(num: sympy.Expr, var: sympy.Symbol, max_degree: int) -> list[sympy.Expr] | None:
    """Roots of a polynomial in ``var`` of degree ≤ max_degree (coefficients may hold other symbols).

    A quadratic's two roots are given in both forms, ``(−B ± √D)/(2A)`` and ``2C/(−B ∓ √D)``: the same
    numbers, but where one form cancels catastrophically in floating point the other does not
    (:func:`_branch` keeps the more accurate).
    """
    try:
        poly = sympy.Poly(sympy.expand(num), var)
    except sympy.PolynomialError:
        return None
    if poly.degree() < 1 or poly.degree() > max_degree:
        return None
    if poly.degree() == 1:
        c1, c0 = poly.all_coeffs()
        return [-c0 / c1]
    if poly.degree() == 2:
        A, B, C = poly.all_coeffs()
        root = sympy.sqrt(sympy.factor(sympy.expand(B**2 - 4 * A * C)))
        return [(-B + root) / (2 * A), (-B - root) / (2 * A), 2 * C / (-B - root), 2 * C / (-B + root)]
    # sympy.roots applies the radical formulas without simplifying them (sympy.solve's simplification of
    # log-laden roots can run for minutes); the branch test below picks the right one anyway.
    return list(sympy.roots(poly, var, multiple=True))


def _rational_roots(f: sympy.Expr, var: sympy.Symbol, value: sympy.Expr, max_degree: int) -> list | None:
    """Roots in ``var`` of ``f(var) = value`` when f is a rational function of var of low degree."""
    if not f.is_rational_function(var):
        return None
    num, den = sympy.fraction(sympy.cancel(sympy.together(f)))
    # Solve for a plain symbol and put the value in afterwards: the radical formulas then never ask SymPy
    # whether an expression in logs and roots is zero (which can take minutes).
    v = sympy.Dummy("v")
    roots = _poly_roots(num - v * den, var, max_degree)
    return None if roots is None else [r.xreplace({v: value}) for r in roots]


def _invert_kernel(kernel: sympy.Expr, value: sympy.Expr) -> list[sympy.Expr] | None:
    """Solutions t of ``kernel(t) = value`` for an exponential, a cosine, a sine or a power of an
    expression that is a polynomial of degree ≤ 2 in t."""
    if kernel.func == sympy.exp:
        inner, target = kernel.args[0], sympy.log(value)
    elif kernel.func == sympy.cos:
        inner, target = kernel.args[0], sympy.acos(value)
    elif kernel.func == sympy.sin:
        inner, target = kernel.args[0], sympy.asin(value)
    elif kernel.is_Pow and kernel.exp.is_number:
        inner, target = kernel.base, value ** (1 / kernel.exp)
    else:
        return None
    if inner == t:
        return [target]
    return _rational_roots(inner, t, target, 2)


def _kernels(f: sympy.Expr) -> list[sympy.Expr]:
    out = [e for e in f.atoms(sympy.exp, sympy.cos, sympy.sin) if e.has(t)]
    out += [e for e in f.atoms(sympy.Pow) if e.base.has(t) and e.exp.is_number and not e.exp.is_Integer]
    out += [e for e in f.atoms(sympy.Pow) if e.base.has(t) and e.exp.is_Integer and abs(e.exp) > 1]
    return sorted(set(out), key=sympy.count_ops)


def _candidates(f: sympy.Expr) -> list[sympy.Expr]:
    """Solutions t(y) of ``f(t) = y²`` (f the squared SNR) found by a direct or a kernel solve."""
    direct = _rational_roots(f, t, y**2, 2)
    if direct:
        return direct
    w = sympy.Dummy("w", positive=True)
    for kernel in _kernels(f):
        g = f.subs(kernel, w)
        if kernel.func == sympy.cos:  # sin(E) = sqrt(1 − cos(E)²) where sin(E) ≥ 0 (checked by the branch test)
            g = g.subs(sympy.sin(kernel.args[0]), sympy.sqrt(1 - w**2))
        if g.has(t):
            continue
        roots = _rational_roots(g, w, y**2, 4)
        if not roots:
            continue
        out = []
        for r in roots:
            sols = _invert_kernel(kernel, r)
            if sols:
                out.extend(sols)
        if out:
            return out
    direct = _rational_roots(f, t, y**2, 4)
    return direct or []


def _branch(candidates: list[sympy.Expr], snr: sympy.Expr) -> sympy.Expr | None:
    """The candidate with ``t(ρ(t_j)) = t_j`` at every check time (40-digit mpmath) that float64 evaluates
    most accurately, or None when no candidate passes."""
    import numpy as np
    rho = sympy.lambdify(t, snr, modules="mpmath")
    tol = mpmath.mpf(10) ** -_CHECK_DIGITS
    times = [mpmath.mpf(tj.p) / tj.q for tj in _CHECK_TIMES]
    good: list[tuple[float, int, sympy.Expr]] = []
    with mpmath.workdps(40):
        ys = [rho(tj) for tj in times]
        for i, cand in enumerate(candidates):
            f = sympy.lambdify(y, cand, modules="mpmath")
            try:
                vals = [mpmath.mpc(f(yj)) for yj in ys]
            except (TypeError, ValueError, ZeroDivisionError):
                continue
            if all(abs(v.imag) < tol and abs(v.real - tj) < tol for v, tj in zip(vals, times)):
                fast = sympy.lambdify(y, cand, modules=["numpy", "scipy"])
                with np.errstate(all="ignore"):
                    got = np.array([complex(fast(float(yj))) for yj in ys])
                err = float(np.max(np.abs(got - np.array([float(tj) for tj in times]))))
                good.append((err if np.isfinite(err) else np.inf, i, cand))
    # A closed form float64 cannot evaluate (overflow, cancellation) is of no use to the numerics.
    good = [g for g in good if g[0] < _FLOAT_TOLERANCE]
    return min(good, key=lambda g: g[:2])[2] if good else None


@lru_cache(maxsize=128)
def _exact_inverse(s: Schedule) -> sympy.Expr | None:
    if s.free_parameters:
        return None
    f = _as_exp(sympy.powsimp(sympy.expand_power_base(s.b**2 / s.a**2, force=True)))
    try:
        cands = _candidates(f)
    except (NotImplementedError, sympy.PolynomialError, ValueError, TypeError):
        return None
    if not cands:
        return None
    return _branch(_variants(cands), s.snr)


def _variants(cands: list[sympy.Expr]) -> list[sympy.Expr]:
    """Each candidate, tidied (``cancel`` when rational in y), and with ``log(u^k/v^m)`` written as
    ``k log u − m log v`` where that stays real: the same function, but float64 evaluates it without
    overflowing ``u^k``."""
    out = []
    for c in cands:
        # cancel rational parts (also under a root: ((2y − 2y²)/(2 − 2y²))^(1/3) has a removable 0/0 at y = 1)
        c = c.replace(lambda e: e.is_Pow and e.base.has(y) and e.base.is_rational_function(y),
                      lambda e: sympy.cancel(e.base) ** e.exp)
        if c.is_rational_function(y):
            c = sympy.cancel(c)
        out.append(c)
        if c.has(sympy.log):
            e = sympy.expand_log(c, force=True)
            if not e.has(sympy.I) and e != c:
                out.append(e)
    return out


@dataclass(frozen=True)
class SNRInverse:
    r"""``t = ρ⁻¹(y)`` for one schedule.

    Attributes:
        schedule: the schedule whose SNR ``ρ = b/a`` is inverted.
        expr: ``t(y)`` as a SymPy expression in :data:`y` when ``kind == "exact"``, else ``None``.
        kind: ``"exact"`` (closed form), ``"certified"`` (interval bisection; ρ proved strictly
            increasing) or ``"estimate"`` (bisection where strict monotonicity was not proved).
        range: ``(ρ(0), ρ(1⁻))``, the values y the inverse is defined for (floats; ``inf`` allowed).
        method: how the inverse was obtained, in words.
    """

    schedule: Schedule
    expr: sympy.Expr | None
    kind: str
    range: tuple[float, float]
    method: str

    @cached_property
    def _snr_np(self):
        return sympy.lambdify(t, self.schedule.snr, modules=["numpy", "scipy"])

    @cached_property
    def _expr_np(self):
        return None if self.expr is None else sympy.lambdify(y, self.expr, modules=["numpy", "scipy"])

    def at(self, value: float | np.ndarray) -> float | np.ndarray:
        """``ρ⁻¹(value)`` in float64 (exact formula, or bisection to 2⁻⁶⁴); values outside ``range``
        give the nearest end (0 or 1)."""
        import numpy as np
        v = np.asarray(value, dtype=float)
        if self._expr_np is not None:
            with np.errstate(all="ignore"):
                out = np.asarray(self._expr_np(np.maximum(v, 1e-300)), dtype=float)
            out = np.where(v <= self.range[0], 0.0, np.where(np.isinf(v), 1.0, out))
        else:
            lo, hi = np.zeros_like(v), np.ones_like(v)
            with np.errstate(all="ignore"):
                for _ in range(_FLOAT_STEPS):
                    mid = (lo + hi) / 2
                    below = np.asarray(self._snr_np(mid), dtype=float) < v
                    lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
            out = (lo + hi) / 2
        out = np.clip(out, 0.0, 1.0)
        return float(out) if out.ndim == 0 else out

    def enclosure(self, value: float | Fraction, *, width: float = 1e-15) -> tuple[float, float]:
        """A certified bracket ``[lo, hi]`` of ``ρ⁻¹(value)`` (float ends, widened outward), from interval
        bisection: ``ρ(lo) < value < ρ(hi)`` is proved in interval arithmetic at both ends.

        Raises:
            ConvertError: ``value`` is outside ``range``, or ρ could not be enclosed.
        """
        import numpy as np
        from gifsym.symbolic.convert.enclosure import enclose, endpoints

        yv = Fraction(value) if not isinstance(value, Fraction) else value
        snr = self.schedule.snr
        lo, hi = Fraction(0), Fraction(1)
        if not (self.range[0] < float(yv) < self.range[1]):
            raise ConvertError(f"SNR {float(yv)!r} is outside the range {self.range} of schedule {self.schedule.spec}")
        def side(p: Fraction) -> int:
            """-1 if ρ(p) < y is proved, +1 if ρ(p) > y is proved, 0 if the enclosure contains y."""
            box_lo, box_hi = endpoints(enclose(snr, t, p))
            return -1 if box_hi < yv else 1 if box_lo > yv else 0

        while hi - lo > width:
            mid = (lo + hi) / 2
            where = side(mid)
            if where < 0:
                lo = mid
            elif where > 0:
                hi = mid
            else:
                # ρ(mid) cannot be separated from y (the root is at mid, to the working precision): step out
                # from mid on each side until the sign is proved there.
                step = Fraction(width) / 4
                left = right = None
                while left is None or right is None:
                    if left is None and (mid - step <= lo or side(mid - step) < 0):
                        left = max(lo, mid - step)
                    if right is None and (mid + step >= hi or side(mid + step) > 0):
                        right = min(hi, mid + step)
                    step *= 2
                lo, hi = left, right
                break
        return (float(np.nextafter(float(lo), -np.inf)) if lo > 0 else 0.0,
                float(np.nextafter(float(hi), np.inf)) if hi < 1 else 1.0)


def snr_inverse(s: Schedule) -> SNRInverse:
    """``ρ⁻¹`` for schedule ``s`` (see the module docstring for how, and :class:`SNRInverse`).

    Raises:
        ConvertError: the schedule has symbolic parameters (a numeric inverse needs numbers), or its SNR
            is not increasing.
    """
    arguments.schedule(s, where="snr_inverse(schedule)")  # before the cache, which needs a hashable argument
    return _snr_inverse(s)


@lru_cache(maxsize=128)
def _snr_inverse(s: Schedule) -> SNRInverse:
    from gifsym.symbolic import prove

    if s.free_parameters:
        raise ConvertError(f"the SNR inverse of {s.spec} needs numeric parameters; it has "
                           f"{sorted(map(str, s.free_parameters))}")
    mono = prove.prove_relation(s.wronskian, t, ">", lo_open=True, hi_open=True)
    if mono.status == "violated":
        raise ConvertError(f"the SNR b/a of {s.spec} is not increasing ({mono.reason}); it has no inverse")
    # S-pos makes a_0 > 0; a_1 is 0 (ρ → ∞) or σ_min > 0 (a σ_min path, ρ(1) finite).
    a0, a1 = (sympy.N(s.a.subs(t, e), 30) for e in (0, 1))
    r0 = float(sympy.N(s.b.subs(t, 0), 30) / a0)
    r1 = float("inf") if a1 == 0 else float(sympy.N(s.b.subs(t, 1), 30) / a1)
    expr = _exact_inverse(s)
    if expr is not None:
        return SNRInverse(s, expr, "exact", (r0, r1),
                          f"SymPy solve of (b/a)^2 = y^2; branch t(rho(t_j)) = t_j checked at "
                          f"{len(_CHECK_TIMES)} times to {_CHECK_DIGITS} digits")
    kind = "certified" if mono.status == "holds" else "estimate"
    why = "rho strictly increasing: " + mono.reason if mono.status == "holds" else \
        "strict monotonicity of rho not proved (" + mono.reason + "): the bracket holds a root, maybe not the only one"
    return SNRInverse(s, None, kind, (r0, r1), "interval bisection (mpmath.iv, outward rounding); " + why)
