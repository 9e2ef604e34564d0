r"""Stability of the flow's output in W₂ (math.md §6): in the source, and in the velocity field.

* **Source stability** (lemma ``source-stability``): the flow map is ``L``-Lipschitz with
  ``L = Lip(X_{0,1})`` (the forward flow-map constant), so
  ``W₂((X_{0,1})_# μ, (X_{0,1})_# μ̃) ≤ L W₂(μ, μ̃)``. When ``b₀ > 0`` (VP, sub-VP, VE) the true source
  ``μ = Law(a₀Z + b₀X₁)`` is not the Gaussian ``N(0, a₀²I)`` one samples in practice; coupling the two through
  the same ``Z`` gives ``W₂(μ, N(0, a₀²I)) ≤ b₀ (E|X₁|²)^{1/2}``, hence
  ``W₂((X_{0,1})_# N(0, a₀²I), ν) ≤ L b₀ (E|X₁|²)^{1/2}``.
* **Velocity stability** (lemma ``velocity-stability``): if ``ṽ`` is ``C``-Lipschitz and
  ``ε(t) = ‖v(t,·) − ṽ(t,·)‖_{L²(p_t)}``, then ``W₂ ≤ ∫₀¹ e^{C(1−t)} ε(t) dt`` (Grönwall) and
  ``W₂² ≤ (e^{2C} − 1)/(2C) ∫₀¹ ε(t)² dt`` (Cauchy–Schwarz).

Both return frozen dataclasses holding SymPy expressions (symbolic where an input is) and their values as
floats where everything is numeric.

Example:
    >>> from gifsym import GIF, schedule, target
    >>> s = source_stability(GIF(schedule("vp"), target("gaussian:sigma=1")))
    >>> round(s.gaussian_start_cost_value, 6)  # b_0 (E|X_1|^2)^{1/2} with b_0 = exp(-201/40)
    0.006572
    >>> v = velocity_stability(1, error=0.01)
    >>> round(v.gronwall_value, 6), round(v.cauchy_schwarz_value, 6)
    (0.017183, 0.017873)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import sympy

from gifsym.errors import GifsymError
from gifsym.symbolic.printing import latex_expr as lx
from gifsym.symbolic.schedule import t
from gifsym.theory import lemmas
from gifsym.theory.integrals import endpoint_value, integrate_t, weakest
from gifsym.theory.library import LIP, M2, W2, _eps


def _caller_value(name: str, value: Any, *, names: dict | None = None, nonnegative: bool = True) -> sympy.Expr:
    """A caller's value: a SymPy expression as is, a real number of any numeric type, or a string parsed by the
    safe grammar (never ``sympify``: a string is not code). ``names``: the symbols a string may use.

    Raises:
        GifsymError: not a number / expression, NaN or infinite, or negative where it must not be.
    """
    from gifsym.symbolic.expr import parse_expression
    from gifsym.symbolic.schedule import real_number

    if isinstance(value, sympy.Basic):
        v = value
    elif isinstance(value, str) and names:
        v = parse_expression(value, names=names)
    else:
        v = real_number(name, value)
    if v.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo) or v.is_extended_real is False:
        raise GifsymError(f"{name}={value!r} must be a finite real value")
    if nonnegative and v.is_negative:
        raise GifsymError(f"{name}={value!r} must be >= 0")
    return v


def _float(e: Any) -> float | None:
    """A float for a numeric expression (``inf`` for ``oo``), None when symbols remain."""
    if e is None:
        return None
    if not isinstance(e, sympy.Basic):
        e = sympy.Float(e) if isinstance(e, float) else sympy.Integer(e)
    if e is sympy.oo:
        return math.inf
    if e.free_symbols or not e.is_number:
        return None
    v = complex(sympy.N(e, 30))
    return v.real if abs(v.imag) <= 1e-12 * max(1.0, abs(v.real)) else None


class _FloatOf:
    """A result's SymPy field as a float (``inf`` for ``oo``; None while symbols remain), read-only."""

    def __init__(self, field: str) -> None:
        self.field = field

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        return self if obj is None else _float(getattr(obj, self.field))


def _registry(registry: Any):
    if registry is not None:
        return registry
    return lemmas.registry()


@dataclass(frozen=True)
class SourceStability:
    r"""Source stability of one flow.

    Attributes:
        lipschitz: ``L = Lip(X_{0,1})`` (the forward flow-map constant; ``oo`` when unbounded).
        w2_source: ``W₂(μ, μ̃)`` as given (a symbol ``W`` when not given).
        bound: ``L · W₂(μ, μ̃)``, the bound on ``W₂((X_{0,1})_# μ, (X_{0,1})_# μ̃)``.
        b0: ``b_0``.
        second_moment: ``E|X₁|²`` (exact for Gaussian / GMM targets, the symbol ``M_2`` for a class unless given).
        gaussian_start_cost: ``b₀ (E|X₁|²)^{1/2} ≥ W₂(μ, N(0, a₀² I))`` (0 when ``b₀ = 0``).
        pushed_gaussian_start: ``L b₀ (E|X₁|²)^{1/2} ≥ W₂((X_{0,1})_# N(0, a₀² I), ν)``.
        numeric: whether ``lipschitz`` is not a closed form.
        kind: how ``lipschitz`` (hence ``bound`` and ``pushed_gaussian_start``) is known: ``exact``,
            ``certified`` or ``estimate``.
        pushed_enclosure: for a certified ``lipschitz``, an enclosure ``(lo, hi)`` of ``pushed_gaussian_start``.
    """

    lipschitz: sympy.Expr
    w2_source: sympy.Expr
    bound: sympy.Expr
    b0: sympy.Expr
    second_moment: sympy.Expr
    gaussian_start_cost: sympy.Expr
    pushed_gaussian_start: sympy.Expr
    numeric: bool = False
    kind: str = "exact"
    pushed_enclosure: tuple | None = None

    lipschitz_value = _FloatOf("lipschitz")
    bound_value = _FloatOf("bound")
    gaussian_start_cost_value = _FloatOf("gaussian_start_cost")
    pushed_gaussian_start_value = _FloatOf("pushed_gaussian_start")

    def to_latex(self) -> str:
        return (rf"W_2\big((X_{{0,1}})_\# \mu, (X_{{0,1}})_\# \tilde\mu\big) \le {lx(self.bound)}, \qquad "
                rf"W_2\big((X_{{0,1}})_\# N(0, a_0^2 I), \nu\big) \le {lx(self.pushed_gaussian_start)}")


def source_stability(gif: Any, *, w2: Any = None, second_moment: Any = None, registry: Any = None,
                     assume: tuple[str, ...] = ()) -> SourceStability:
    """Source stability of ``gif`` (lemma ``source-stability``).

    Args:
        gif: the flow.
        w2: ``W₂(μ, μ̃)`` (a number or expression); left as the symbol ``W`` when None.
        second_moment: ``E|X₁|²`` for a class target (exact laws know their own).
        registry, assume: as for :func:`gifsym.theory.bounds`.
    """
    reg = _registry(registry)
    f = reg.derive("source-stability", gif, assume=assume)
    sub = {}
    if w2 is not None:
        sub[W2] = _caller_value("w2", w2)
    if second_moment is not None:
        if gif.target.law is not None:
            raise GifsymError("second_moment= is for class targets; an exact law knows its E|X_1|^2")
        sub[M2] = _caller_value("second_moment", second_moment)
    fwd = reg.derive("flow-map-lipschitz", gif, assume=assume)
    pushed = f["pushed_gaussian_start"].subs(sub)
    enclosure = None
    if fwd.kind == "certified" and fwd.enclosure is not None and not pushed.free_symbols:
        from gifsym.symbolic import balls

        cost = balls.enclose(f["gaussian_start_cost"].subs(sub))
        if cost is not None:
            c_lo, c_hi = balls.ends(cost)
            enclosure = (fwd.enclosure[0] * c_lo, fwd.enclosure[1] * c_hi)  # both factors are >= 0
    return SourceStability(
        lipschitz=f["lipschitz"],
        w2_source=W2.subs(sub),
        bound=f["bound"].subs(sub),
        b0=f["b0"],
        second_moment=f["second_moment"].subs(sub),
        gaussian_start_cost=f["gaussian_start_cost"].subs(sub),
        pushed_gaussian_start=pushed,
        numeric=fwd.numeric,
        kind=fwd.kind,
        pushed_enclosure=enclosure,
    )


@dataclass(frozen=True)
class VelocityStability:
    r"""Velocity stability bounds on ``W₂((Y_{0,1})_# μ, ν)`` for a ``C``-Lipschitz approximate field ṽ.

    Attributes:
        C: the Lipschitz constant of ṽ.
        gronwall: ``∫₀¹ e^{C(1−t)} ε(t) dt`` (evaluated when ε is given, else an unevaluated Integral).
        factor: ``(e^{2C} − 1)/(2C)`` (1 when C = 0).
        cauchy_schwarz: ``(factor · ∫₀¹ ε²)^{1/2}``.
        numeric: True when an integral needed quadrature.
    """

    C: sympy.Expr
    gronwall: sympy.Expr
    factor: sympy.Expr
    cauchy_schwarz: sympy.Expr
    numeric: bool = False
    kind: str = "exact"

    gronwall_value = _FloatOf("gronwall")
    cauchy_schwarz_value = _FloatOf("cauchy_schwarz")
    factor_value = _FloatOf("factor")

    def to_latex(self) -> str:
        return rf"W_2 \le {lx(self.gronwall)}, \qquad W_2 \le {lx(self.cauchy_schwarz)}"


def velocity_stability(C: Any, *, error: Any = None, error_sq_integral: Any = None, registry: Any = None
                       ) -> VelocityStability:
    """Both velocity-stability bounds of math.md §6 (lemma ``velocity-stability``).

    Args:
        C: the Lipschitz constant (in x) of the approximate field ṽ (number or expression, ≥ 0).
        error: ``ε(t) = ‖v(t,·) − ṽ(t,·)‖_{L²(p_t)}``: a number (constant in t) or an expression in ``t``.
        error_sq_integral: ``∫₀¹ ε(t)² dt``, when only that is known (the Cauchy–Schwarz form).

    Example:
        >>> velocity_stability(0, error=sympy.Rational(1, 2)).gronwall
        1/2
        >>> velocity_stability(2, error=sympy.exp(-t)).gronwall
        -exp(-1)/3 + exp(2)/3
    """
    C = _caller_value("C", C)
    f = _registry(registry).derive("velocity-stability")
    numeric = False
    factor = f["factor"].subs(LIP, C)
    if C == 0 or factor.has(sympy.nan, sympy.zoo):
        factor = sympy.limit(f["factor"], LIP, C)
    gronwall = f["gronwall"].subs(LIP, C)
    sq = sympy.Integral(_eps(t) ** 2, (t, 0, 1))
    if error is not None:
        eps = _caller_value("error", error, names={"t": t})
        integrand = gronwall.function.subs(_eps(t), eps)
        I = integrate_t(integrand, sympy.Integer(0), sympy.Integer(1))
        J = integrate_t(eps**2, sympy.Integer(0), sympy.Integer(1))
        for K, what in ((I, "the Grönwall integral"), (J, "the integral of error**2")):
            if K.value is sympy.nan and not integrand.free_symbols - {t}:
                raise GifsymError(f"{what} of error={error!r} on [0, 1] could not be evaluated")
        gronwall, sq = I.value, J.value
        numeric = I.numeric or J.numeric
        kind = weakest(I.kind, J.kind)
    else:
        kind = "exact"
    if error_sq_integral is not None:
        sq = _caller_value("error_sq_integral", error_sq_integral)
    cs = sympy.sqrt(factor * sq)
    return VelocityStability(C, gronwall, factor, cs, numeric, kind)


@dataclass(frozen=True)
class CycleConsistency:
    """``T = X²_{0,1} ∘ X¹_{1,0}`` between two targets with flows from the same source.

    Attributes:
        lipschitz: ``Lip(T) ≤ Lip(X²_{0,1}) Lip(X¹_{1,0})`` (``oo`` when either is unbounded).
        inverse_lipschitz: ``Lip(T⁻¹) ≤ Lip(X¹_{0,1}) Lip(X²_{1,0})``.
    """

    lipschitz: sympy.Expr
    inverse_lipschitz: sympy.Expr

    lipschitz_value = _FloatOf("lipschitz")

def cycle_consistency(gif1: Any, gif2: Any, *, registry: Any = None) -> CycleConsistency:
    """The Lipschitz constants of the transport map between two targets (lemma ``cycle-consistency``).

    Raises:
        GifsymError: the flows do not start from the same source (different schedules or ``b₀ > 0``).
    """
    if gif1.schedule != gif2.schedule:
        raise GifsymError("cycle consistency needs both flows on the same schedule (the same source)")
    if endpoint_value(gif1.schedule.b, sympy.Integer(0), "+").value != 0:
        raise GifsymError(f"schedule {gif1.schedule.spec} has b_0 > 0: the two sources differ (they depend on the "
                          "targets), so there is no common source")
    reg = _registry(registry)
    reg.derive("cycle-consistency", gif1)
    reg.derive("cycle-consistency", gif2)
    f1, r1 = (reg.derive(n, gif1).value for n in ("flow-map-lipschitz", "reverse-flow-map-lipschitz"))
    f2, r2 = (reg.derive(n, gif2).value for n in ("flow-map-lipschitz", "reverse-flow-map-lipschitz"))

    def prod(x, y):
        return sympy.oo if sympy.oo in (x, y) else x * y

    return CycleConsistency(prod(f2, r1), prod(f1, r2))


__all__ = ["CycleConsistency", "SourceStability", "VelocityStability", "cycle_consistency", "source_stability",
           "velocity_stability"]
