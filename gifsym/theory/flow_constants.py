r"""Integrals of envelopes, flow-map Lipschitz constants and well-posedness (math.md §6).

Envelopes are integrated cell by cell (exact through potentials where possible, see
:mod:`gifsym.theory.integrals`), giving ``Lip(X_{0,1}) ≤ exp ∫₀¹ λ_max`` and ``Lip(X_{1,0}) ≤ exp(−∫₀¹ λ_min)``
(:class:`FlowConstant`), their values as functions of the horizon T, and where ``∫₀ᵀ θ_t dt < ∞``
(:class:`WellPosedness`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import mpmath
import sympy

from gifsym.symbolic.flow import A, B, instantiate
from gifsym.symbolic.printing import latex_expr as _latex
from gifsym.symbolic.schedule import Schedule, t
from gifsym.theory.integrals import (
    DPS,
    endpoint_value,
    find_potential,
    integrate_piece,
    potential_value,
)

#: The horizon of a flow map ``X_{0,T}`` (flow-map constants as functions of T).
T = sympy.Symbol("T", positive=True)
#: The schedule's values at t = 0, for schedule-free statements.
A0 = sympy.Symbol("a_0", positive=True)
B0 = sympy.Symbol("b_0", nonnegative=True)

_ZERO, _ONE = sympy.Integer(0), sympy.Integer(1)
_UNIT = sympy.Interval(0, 1)
from gifsym.theory.envelopes import BoundPiece, Cell, Envelope, contains

# ---------------------------------------------------------------------------------------------------------
# Integrals of envelopes, flow-map constants, well-posedness


@dataclass(frozen=True)
class EnvelopeIntegral:
    """``∫_0^1`` of an envelope, cell by cell.

    Attributes:
        value: exact, Float, ``±oo`` (diverges), or ``nan`` (no bound on part of [0, 1]).
        numeric: whether any part is numeric (quadrature or a numerically located point).
        error: absolute error estimate.
        methods: the methods used per cell.
        divergent_at_end: the integral diverges only at t = 1 (finite on [0, T] for every T < 1).
        gap: the first time from which no piece holds (None if covered).
        as_function_of_T: ``∫_0^T`` for T in (0, 1), when every cell has an antiderivative.
    """

    value: sympy.Expr
    numeric: bool
    error: float
    methods: tuple[str, ...]
    divergent_at_end: bool = False
    gap: sympy.Expr | None = None
    as_function_of_T: sympy.Expr | None = None


@lru_cache(maxsize=1024)
def envelope_integral(env: Envelope, schedule: Schedule) -> EnvelopeIntegral | None:
    """``∫_0^1`` of a numeric envelope (None for a symbolic one: see :func:`flow_constant`)."""
    if env.cells is None:
        return None
    total = _ZERO
    numeric, error, methods = False, 0.0, []
    t_terms = []
    for k, c in enumerate(env.cells):
        if c.active is None:
            return EnvelopeIntegral(sympy.nan, numeric, error, tuple(methods), gap=c.lo)
        piece = env.pieces[c.active]
        I = integrate_piece(piece.general, schedule, c.lo, c.hi)
        methods.append(I.method)
        numeric |= I.numeric
        error += I.error
        last = k == len(env.cells) - 1
        if I.value in (sympy.oo, -sympy.oo):
            if last and _finite_inside(piece, c):
                return EnvelopeIntegral(I.value, numeric, error, tuple(methods), divergent_at_end=True,
                                        as_function_of_T=_t_function(env, schedule, t_terms, c))
            return EnvelopeIntegral(I.value, numeric, error, tuple(methods), gap=c.lo)
        if I.value is sympy.nan:
            return EnvelopeIntegral(sympy.nan, numeric, error, tuple(methods), gap=c.lo)
        total = total + I.value
        t_terms.append((c, piece))
    value = total if numeric is False else sympy.Float(sympy.N(total, DPS), DPS)
    if not numeric:
        from gifsym.theory.integrals import tidy

        value = tidy(value)
    return EnvelopeIntegral(value, numeric, error, tuple(methods),
                            as_function_of_T=_t_function(env, schedule, t_terms, None))


def _finite_inside(piece: BoundPiece, c: Cell) -> bool:
    return contains(piece.interval, mpmath.mpf(sympy.N(c.lo, DPS)) + mpmath.mpf(10) ** -20) is not False


def _t_function(env: Envelope, schedule: Schedule, done: list, last: Cell | None) -> sympy.Expr | None:
    """``∫_0^T`` of the envelope for T in (0, 1) as a SymPy expression, from each cell's potential."""
    cells = list(done) + ([(last, env.pieces[last.active])] if last is not None else [])
    terms = []
    for k, (c, piece) in enumerate(cells):
        G = find_potential(piece.general)
        if G is None:
            return None
        Gt = instantiate(G, schedule).subs(t, T)
        g_lo = potential_value(G, schedule, c.lo, "+")
        if not (g_lo.decided and g_lo.finite):
            return None
        if len(cells) == 1:
            return Gt - g_lo.value
        g_hi = potential_value(G, schedule, c.hi, "-")
        inner = Gt - g_lo.value
        if k == len(cells) - 1:
            terms.append(sympy.Piecewise((0, T <= c.lo), (inner, True)))
        else:
            if not (g_hi.decided and g_hi.finite):
                return None
            terms.append(sympy.Piecewise((0, T <= c.lo), (inner, T < c.hi), (g_hi.value - g_lo.value, True)))
    return sympy.Add(*terms)


@dataclass(frozen=True)
class FlowConstant:
    r"""A flow-map Lipschitz constant, ``exp(± ∫ λ)``.

    Attributes:
        value: exact SymPy value, a Float (numeric), or ``oo`` (unbounded).
        numeric: True when quadrature or a numerically located point was used ("certified by quadrature":
            ``error`` bounds the absolute error).
        error: absolute error estimate of ``value`` (0 when exact).
        method: ``"exact"`` (SymPy: potentials or ``integrate``), ``"quadrature"``, ``"exact (best single
            bound)"`` (symbolic parameters: the smallest constant of a single piece), or ``"not applicable"``.
        exponent: ``∫_0^1 λ_max`` (forward) or ``−∫_0^1 λ_min`` (reverse).
        as_function_of_T: the constant of the map on [0, T] (``Lip(X_{0,T})`` / ``Lip(X_{T,0})``) for
            T in (0, 1), when known in closed form.
        endpoint_formula: the constant as a function of the schedule's start values ``a_0, b_0`` alone, when
            the bound integrates to a potential over [0, 1] (a schedule-free fact).
        reason: why the constant is unbounded, when it is.
    """

    value: sympy.Expr
    numeric: bool = False
    error: float = 0.0
    method: str = "exact"
    exponent: sympy.Expr | None = None
    as_function_of_T: sympy.Expr | None = None
    endpoint_formula: sympy.Expr | None = None
    reason: str = ""

    @property
    def finite(self) -> bool:
        return self.value is not sympy.oo and self.value is not sympy.zoo

    def __float__(self) -> float:
        if not self.finite:
            return math.inf
        return float(self.value)

    def to_latex(self) -> str:
        if not self.finite:
            return r"\infty"
        s = _latex(self.value)
        if self.numeric:
            s += rf" \ (\pm {self.error:.1e},\ \text{{quadrature}})"
        return s


def _exp(x: sympy.Expr) -> sympy.Expr:
    if x is sympy.oo:
        return sympy.oo
    if x is -sympy.oo:
        return _ZERO
    if isinstance(x, sympy.Float):
        return sympy.Float(mpmath.exp(mpmath.mpf(x)), DPS)
    return sympy.exp(x)


@lru_cache(maxsize=1024)
def flow_constant(env: Envelope, schedule: Schedule, direction: str) -> FlowConstant:
    """``exp ∫_0^1 λ_max`` (``direction="forward"``, from the upper envelope) or ``exp(−∫_0^1 λ_min)``
    (``"reverse"``, from the lower envelope)."""
    sgn = 1 if direction == "forward" else -1
    if env.empty:
        return FlowConstant(sympy.oo, method="not applicable", reason=f"no {env.side} bound applies")
    if env.cells is None:
        return _symbolic_constant(env, schedule, sgn)
    I = envelope_integral(env, schedule)
    if I.value is sympy.nan:
        return FlowConstant(sympy.oo, I.numeric, math.inf, "exact",
                            reason=f"no {env.side} bound holds from t = {I.gap} on")
    exponent = sgn * I.value
    value = _exp(exponent)
    fT = _exp(sgn * I.as_function_of_T) if I.as_function_of_T is not None else None
    if value is sympy.oo:
        why = ("the integral diverges at t = 1; the map on [0, T] is bounded for every T < 1"
               if I.divergent_at_end else f"the integral diverges at t = {I.gap}")
        return FlowConstant(sympy.oo, I.numeric, 0.0, "exact" if not I.numeric else "quadrature",
                            exponent, fT, reason=why)
    err = 0.0 if not I.numeric else float(abs(sympy.N(value))) * I.error
    method = ("quadrature" if "quadrature" in I.methods else
              "exact antiderivative at numerically located points" if I.numeric else "exact")
    return FlowConstant(value, I.numeric, err, method, exponent, fT,
                        _endpoint_formula(env, sgn) if len(env.cells) == 1 else None)


def _endpoint_formula(env: Envelope, sgn: int) -> sympy.Expr | None:
    """For an envelope that is one piece on all of [0, 1] with a potential G(a, b): the constant
    ``exp(±(G(0, 1) − G(a_0, b_0)))``, valid for every schedule with S-end (a_1 = 0, b_1 = 1)."""
    return _endpoint_constant(env.pieces[0].general, sgn)


@lru_cache(maxsize=1024)
def _endpoint_constant(general: sympy.Expr, sgn: int) -> sympy.Expr | None:
    # Schedule-free (a function of the placeholder formula alone), so cached across schedules: the simplify
    # below is the costliest step of a flow-map constant.
    G = find_potential(general)
    if G is None:
        return None
    g1 = G.subs({A: 0, B: 1}, simultaneous=True)
    if g1.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        return None
    return sympy.simplify(_exp(sgn * (g1 - G.subs({A: A0, B: B0}, simultaneous=True))))


def _symbolic_constant(env: Envelope, schedule: Schedule, sgn: int) -> FlowConstant:
    """Symbolic parameters: each piece's own constant (under the condition that it holds on all of [0, 1]);
    the smallest is a valid constant for the envelope."""
    values, fTs, ends = [], [], []
    for p in env.pieces:
        if p.condition is sympy.false:
            continue
        I = integrate_piece(p.general, schedule, _ZERO, _ONE)
        if I.value is sympy.nan:
            continue
        v = _exp(sgn * I.value)
        G = find_potential(p.general)
        fT = None
        if G is not None:
            g0 = potential_value(G, schedule, _ZERO, "+")
            if g0.decided:
                fT = _exp(sgn * (instantiate(G, schedule).subs(t, T) - g0.value))
        cond = p.condition
        values.append(v if cond is sympy.true else sympy.Piecewise((v, cond), (sympy.oo, True)))
        fTs.append(fT if fT is None or cond is sympy.true else sympy.Piecewise((fT, cond), (sympy.oo, True)))
        single = Envelope(env.side, (p,), (), p.formula, p.interval, ((Cell(_ZERO, _ONE, (0,), 0)),))
        ends.append(_endpoint_formula(single, sgn))
    if not values:
        return FlowConstant(sympy.oo, method="exact", reason="no bound holds on all of [0, 1]")
    method = "exact" if len(values) == 1 else "exact (best single bound)"
    value = values[0] if len(values) == 1 else sympy.Min(*values)
    fT = fTs[0] if len(fTs) == 1 else (sympy.Min(*fTs) if all(f is not None for f in fTs) else None)
    end = ends[0] if len(ends) == 1 else None
    return FlowConstant(value, False, 0.0, method, None, fT, end)


@dataclass(frozen=True)
class WellPosedness:
    """Where the flow is well posed: ``∫_0^T θ_t dt < ∞``.

    Attributes:
        interval: ``[0, 1]``; ``[0, 1)`` (well posed on [0, T] for every T < 1, the integral diverges at 1);
            ``[0, τ)`` when no bound holds from τ on; or empty.
        reason: one sentence.
        condition: for symbolic parameters, the condition under which ``interval`` holds.
    """

    interval: sympy.Set
    reason: str
    condition: sympy.Basic = sympy.true

    def to_latex(self) -> str:
        return rf"\text{{well posed on }} {_latex(self.interval)}"


@lru_cache(maxsize=512)
def well_posedness(upper: Envelope, lower: Envelope, schedule: Schedule) -> WellPosedness:
    """Decide where ``∫ θ_t dt`` with ``θ = max(|upper|, |lower|)`` is finite, from the envelopes' integrals
    (each bound has one sign near an end, so ``∫|λ|`` and ``∫λ`` diverge together)."""
    if upper.empty or lower.empty:
        side = "upper" if upper.empty else "lower"
        return WellPosedness(sympy.S.EmptySet, f"no {side} bound on the Jacobian applies, so θ_t is not bounded")
    if upper.cells is None or lower.cells is None:
        return _symbolic_well_posedness(upper, lower, schedule)
    ends = []
    for env in (upper, lower):
        I = envelope_integral(env, schedule)
        if I.value is sympy.nan or (I.value in (sympy.oo, -sympy.oo) and not I.divergent_at_end):
            gap = I.gap if I.gap is not None else _ZERO
            s = sympy.Interval.Ropen(0, gap) if gap != 0 else sympy.S.EmptySet
            return WellPosedness(s, f"the {env.side} bound is not integrable from t = {gap}")
        ends.append(I.divergent_at_end)
    if any(ends):
        which = [e.side for e, d in zip((upper, lower), ends) if d]
        what = "the upper and lower bounds are" if len(which) == 2 else f"the {which[0]} bound is"
        return WellPosedness(sympy.Interval.Ropen(0, 1),
                             f"{what} not integrable at t = 1: well posed on [0, T] for every T < 1")
    return WellPosedness(_UNIT, "θ_t is integrable on [0, 1]")


def _symbolic_well_posedness(upper: Envelope, lower: Envelope, schedule: Schedule) -> WellPosedness:
    """With symbolic parameters: θ is integrable on [0, 1] if on each side some piece has a finite integral
    (under its condition); if the only obstruction is divergence at t = 1, on [0, T] for every T < 1."""
    conds, at_end = [], False
    for env in (upper, lower):
        best, side_end = None, False
        for p in env.pieces:
            if p.condition is sympy.false:
                continue
            I = integrate_piece(p.general, schedule, _ZERO, _ONE)
            if I.value in (sympy.oo, -sympy.oo):
                side_end |= endpoint_value(p.formula, _ZERO, "+").finite
                continue
            if I.value is not sympy.nan:
                best = p.condition
                break
        if best is None and not side_end:
            return WellPosedness(sympy.S.EmptySet, f"no {env.side} bound is integrable on [0, 1]")
        if best is None:
            at_end = True
        else:
            conds.append(best)
    if at_end:
        return WellPosedness(sympy.Interval.Ropen(0, 1), "a bound is not integrable at t = 1: well posed on [0, T] "
                             "for every T < 1", sympy.And(*conds))
    return WellPosedness(_UNIT, "θ_t is integrable on [0, 1] under the condition on the parameters", sympy.And(*conds))
