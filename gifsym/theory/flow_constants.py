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

from gifsym.symbolic import balls
from gifsym.symbolic.expr import simplified
from gifsym.symbolic.flow import A, B, instantiate
from gifsym.symbolic.printing import latex_expr as _latex
from gifsym.symbolic.schedule import Schedule, t
from gifsym.theory.integrals import (
    DPS,
    cell_potential,
    endpoint_value,
    find_potential,
    integrate_piece,
    located,
    potential_value,
    tidy,
    weakest,
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


def _enclosure_of(value: sympy.Expr, kind: str, enclosure) -> tuple | None:
    """An enclosure (exact rationals) of a finite value: its own for a certified value, a ball for an exact
    one, None for an estimate or a value ball arithmetic cannot evaluate."""
    if kind == "certified" and enclosure is not None:
        return enclosure
    if kind == "exact":
        ball = balls.enclose(value)
        if ball is not None:
            return balls.ends(ball)
    return None


@dataclass(frozen=True)
class EnvelopeIntegral:
    """``∫_0^1`` of an envelope, cell by cell.

    Attributes:
        value: exact, a Float (certified midpoint or estimate), ``±oo`` (diverges), or ``nan`` (no bound on
            part of [0, 1], or undecided).
        kind: ``"exact"``, ``"certified"`` (``enclosure`` holds the value) or ``"estimate"``.
        methods: the methods used per cell.
        divergent_at_end: the integral diverges only at t = 1 (finite on [0, T] for every T < 1).
        gap: the first time from which no piece holds (None if covered).
        as_function_of_T: ``∫_0^T`` for T in (0, 1), when every cell has an antiderivative.
        enclosure: ``(lo, hi)`` for a certified finite value.
        undecided: the integral of some cell could not be decided (``value`` is then nan).
    """

    value: sympy.Expr
    kind: str
    methods: tuple[str, ...]
    divergent_at_end: bool = False
    gap: sympy.Expr | None = None
    as_function_of_T: sympy.Expr | None = None
    enclosure: tuple | None = None
    undecided: bool = False

    @property
    def numeric(self) -> bool:
        return self.kind != "exact"


@lru_cache(maxsize=1024)
def envelope_integral(env: Envelope, schedule: Schedule) -> EnvelopeIntegral | None:
    """``∫_0^1`` of a numeric envelope (None for a symbolic one: see :func:`flow_constant`)."""
    if env.cells is None:
        return None
    total = _ZERO
    kinds, methods, encs = [], [], []
    t_terms = []
    for k, c in enumerate(env.cells):
        if c.active is None:
            return EnvelopeIntegral(sympy.nan, weakest(*kinds), tuple(methods), gap=c.lo)
        piece = env.pieces[c.active]
        I = integrate_piece(piece.general, schedule, c.lo, c.hi)
        methods.append(I.method)
        kinds.append(I.kind)
        last = k == len(env.cells) - 1
        if I.value in (sympy.oo, -sympy.oo) and I.kind != "estimate":
            if last and _finite_inside(piece, c):
                return EnvelopeIntegral(I.value, weakest(*kinds), tuple(methods), divergent_at_end=True,
                                        as_function_of_T=_t_function(env, schedule, t_terms, c))
            return EnvelopeIntegral(I.value, weakest(*kinds), tuple(methods), gap=c.lo)
        if I.value is sympy.nan or I.kind == "estimate" and not I.value.is_finite:
            return EnvelopeIntegral(sympy.nan, "estimate", tuple(methods), undecided=True)
        total = total + I.value
        encs.append(_enclosure_of(I.value, I.kind, I.enclosure))
        t_terms.append((c, piece))
    kind = weakest(*kinds)
    fT = _t_function(env, schedule, t_terms, None)
    if kind == "exact":
        return EnvelopeIntegral(tidy(total), kind, tuple(methods), as_function_of_T=fT)
    if kind == "certified" and all(e is not None for e in encs):
        lo, hi = sum(e[0] for e in encs), sum(e[1] for e in encs)
        return EnvelopeIntegral(sympy.Float((lo + hi) / 2, DPS), kind, tuple(methods), as_function_of_T=fT,
                                enclosure=(lo, hi))
    return EnvelopeIntegral(sympy.Float(sympy.N(total, DPS), DPS), "estimate", tuple(methods), as_function_of_T=fT)


def _finite_inside(piece: BoundPiece, c: Cell) -> bool:
    return contains(piece.interval, mpmath.mpf(sympy.N(c.lo, DPS)) + mpmath.mpf(10) ** -20) is not False


def _t_function(env: Envelope, schedule: Schedule, done: list, last: Cell | None) -> sympy.Expr | None:
    """``∫_0^T`` of the envelope for T in (0, 1) as a SymPy expression, from each cell's potential; None when
    a cell ends at a numerically located point (a closed form in 30-digit rationals is no closed form to read)."""
    cells = list(done) + ([(last, env.pieces[last.active])] if last is not None else [])
    if any(isinstance(x, sympy.Float) for c, _ in cells for x in (c.lo, c.hi)):
        return None
    terms = []
    for k, (c, piece) in enumerate(cells):
        G = cell_potential(piece.general, schedule, c.lo, c.hi)
        if G is None:
            return None
        Gt = _at_T(instantiate(G, schedule))
        g_lo = potential_value(G, schedule, located(c.lo), "+")
        if not (g_lo.decided and g_lo.finite):
            return None
        if len(cells) == 1:
            return Gt - g_lo.value
        g_hi = potential_value(G, schedule, located(c.hi), "-")
        inner = Gt - g_lo.value
        if k == len(cells) - 1:
            terms.append(sympy.Piecewise((0, T <= c.lo), (inner, True)))
        else:
            if not (g_hi.decided and g_hi.finite):
                return None
            terms.append(sympy.Piecewise((0, T <= c.lo), (inner, T < c.hi), (g_hi.value - g_lo.value, True)))
    return sympy.Add(*terms)


def _at_T(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` in ``T`` instead of ``t``, as it is: substitution re-evaluates every node under T's own
    assumptions, and for EDM's potential one ``exp`` of it asked SymPy for the sign of a polynomial through
    ``roots`` (250 s of the 300 s of ``bounds --schedule edm``). The formula is already evaluated in t; the
    same tree in T is the same function.

    Example:
        >>> _at_T(sympy.exp(-t**2) + t)
        T + exp(-T**2)
    """
    with sympy.evaluate(False):
        return expr.xreplace({t: T})


@dataclass(frozen=True)
class FlowConstant:
    r"""A flow-map Lipschitz constant, ``exp(± ∫ λ)``.

    Attributes:
        value: exact SymPy value; a Float (the midpoint of a certified enclosure, or an estimate); or ``oo``
            (no finite bound: the integral diverges, no bound applies, or it could not be decided — see
            ``reason``). With symbolic parameters, a ``Piecewise`` in them.
        kind: ``"exact"`` (closed form), ``"certified"`` (``enclosure`` holds the constant) or ``"estimate"``.
        method: ``"exact"`` (SymPy: potentials or ``integrate``), ``"ball quadrature"``, ``"exact
            antiderivative at certified points"``, ``"quadrature"`` (an estimate), ``"exact (best single
            bound)"`` (symbolic parameters: the smallest constant of a single piece), or ``"not applicable"``.
        exponent: ``∫_0^1 λ_max`` (forward) or ``−∫_0^1 λ_min`` (reverse).
        as_function_of_T: the constant of the map on [0, T] (``Lip(X_{0,T})`` / ``Lip(X_{T,0})``) for
            T in (0, 1), when known in closed form.
        endpoint_formula: the constant as a function of the schedule's start values ``a_0, b_0`` alone, when
            the bound integrates to a potential over [0, 1] (a schedule-free fact).
        reason: why the constant is unbounded, when it is.
        enclosure: ``(lo, hi)`` exact rationals containing the constant (certified values).
        conditional_on: ``"well-posed"`` when the flow (hence the map) is not shown to exist on [0, 1]: the
            constant bounds the map if it exists. None when well-posedness is established.
        condition: with symbolic parameters, the condition under which well-posedness on [0, 1] holds.
    """

    value: sympy.Expr
    kind: str = "exact"
    method: str = "exact"
    exponent: sympy.Expr | None = None
    as_function_of_T: sympy.Expr | None = None
    endpoint_formula: sympy.Expr | None = None
    reason: str = ""
    enclosure: tuple | None = None
    conditional_on: str | None = None
    condition: sympy.Basic = sympy.true

    @property
    def finite(self) -> bool:
        return self.value is not sympy.oo and self.value is not sympy.zoo

    @property
    def numeric(self) -> bool:
        """Not a closed form (certified or estimated)."""
        return self.kind != "exact"

    @property
    def error(self) -> float:
        """Half the width of the certified enclosure (0 for exact values, inf for estimates)."""
        if self.kind == "exact":
            return 0.0
        if self.enclosure is None:
            return math.inf
        return float((self.enclosure[1] - self.enclosure[0]) / 2)

    def __float__(self) -> float:
        if not self.finite:
            return math.inf
        return float(self.value)

    def to_latex(self) -> str:
        if not self.finite:
            return r"\infty"
        s = _latex(self.value)
        if self.kind == "certified" and self.enclosure is not None:
            s += rf" \ (\in [{float(self.enclosure[0]):.15g}, {float(self.enclosure[1]):.15g}],\ \text{{certified}})"
        elif self.kind == "estimate":
            s += r" \ (\text{estimate})"
        if self.conditional_on:
            s += rf" \ (\text{{if {self.conditional_on}}})"
        return s


def _exp(x: sympy.Expr) -> sympy.Expr:
    if x is sympy.oo:
        return sympy.oo
    if x is -sympy.oo:
        return _ZERO
    if isinstance(x, sympy.Float):
        return sympy.Float(mpmath.exp(mpmath.mpf(x)), DPS)
    return sympy.exp(x)


def _exp_enclosure(enc: tuple, sgn: int) -> tuple:
    """An enclosure of ``exp(sgn · x)`` for ``x`` in ``[lo, hi]`` (exp is increasing: ends map to ends)."""
    lo, hi = (enc[0], enc[1]) if sgn > 0 else (-enc[1], -enc[0])
    a, b = balls.enclose(sympy.exp(lo)), balls.enclose(sympy.exp(hi))
    return balls.ends(a)[0], balls.ends(b)[1]


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
    if I.undecided:
        return FlowConstant(sympy.oo, I.kind, "not decided",
                            reason=f"the integral of the {env.side} bound could not be decided (no finite bound "
                                   "is claimed)")
    if I.value is sympy.nan:
        return FlowConstant(sympy.oo, I.kind, "exact", reason=f"no {env.side} bound holds from t = {I.gap} on")
    exponent = sgn * I.value
    value = _exp(exponent)
    fT = _exp(sgn * I.as_function_of_T) if I.as_function_of_T is not None else None
    if value is sympy.oo:
        why = ("the integral diverges at t = 1; the map on [0, T] is bounded for every T < 1"
               if I.divergent_at_end else f"the integral diverges at t = {I.gap}")
        return FlowConstant(sympy.oo, I.kind, "exact" if I.kind == "exact" else "ball quadrature", exponent, fT,
                            reason=why)
    method = ("quadrature" if I.kind == "estimate" else "ball quadrature" if "ball quadrature" in I.methods else
              "exact antiderivative at certified points" if I.kind == "certified" else "exact")
    enclosure = _exp_enclosure(I.enclosure, sgn) if I.kind == "certified" else None
    if enclosure is not None:
        value = sympy.Float((enclosure[0] + enclosure[1]) / 2, DPS)
    return FlowConstant(value, I.kind, method, exponent, fT,
                        _endpoint_formula(env, sgn) if len(env.cells) == 1 else None, enclosure=enclosure)


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
    return simplified(_exp(sgn * (g1 - G.subs({A: A0, B: B0}, simultaneous=True))))


def _symbolic_constant(env: Envelope, schedule: Schedule, sgn: int) -> FlowConstant:
    """Symbolic parameters: each piece's own constant (under the condition that it holds on all of [0, 1]);
    the smallest is a valid constant for the envelope."""
    values, fTs, ends = [], [], []
    for p in env.pieces:
        if p.condition is sympy.false:
            continue
        I = integrate_piece(p.general, schedule, _ZERO, _ONE)
        if I.value is sympy.nan or I.kind != "exact":
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
    return FlowConstant(value, "exact", method, None, fT, end)


@dataclass(frozen=True)
class WellPosedness:
    """Where the flow is well posed: ``∫_0^T θ_t dt < ∞``.

    Attributes:
        interval: ``[0, 1]``; ``[0, 1)`` (well posed on [0, T] for every T < 1, the integral diverges at 1);
            ``[0, τ)`` when no bound holds from τ on; or empty. With symbolic parameters: the interval of the
            first case (see ``cases``).
        reason: one sentence.
        condition: for symbolic parameters, the condition under which ``interval`` holds.
        cases: ``((interval, condition), ...)``: the first case whose condition holds applies (the last
            condition is ``True``). One case without symbolic parameters.
    """

    interval: sympy.Set
    reason: str
    condition: sympy.Basic = sympy.true
    cases: tuple = ()

    def __post_init__(self) -> None:
        if not self.cases:
            object.__setattr__(self, "cases", ((self.interval, self.condition),)
                               if self.condition is sympy.true else
                               ((self.interval, self.condition), (sympy.S.EmptySet, sympy.true)))

    @property
    def established(self) -> bool:
        """Well posed on all of [0, 1] for every admitted parameter value."""
        return self.interval == _UNIT and self.condition is sympy.true

    def to_latex(self) -> str:
        out = rf"\text{{well posed on }} {_latex(self.interval)}"
        if self.condition is not sympy.true:
            out += rf" \text{{ if }} {_latex(self.condition)}"
        return out


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
        if I.undecided:
            return WellPosedness(sympy.S.EmptySet, f"the integral of the {env.side} bound could not be decided")
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


def _side_conditions(env: Envelope, schedule: Schedule) -> tuple[sympy.Basic, sympy.Basic]:
    """For one side with symbolic parameters: (condition under which some piece holding on all of [0, 1] has a
    finite integral there, condition under which some piece holding on [0, 1) is integrable on every [0, T])."""
    full, partial = [], []
    for p in env.pieces:
        if p.condition is sympy.false:
            continue
        I = integrate_piece(p.general, schedule, _ZERO, _ONE)
        if I.value in (sympy.oo, -sympy.oo) and I.decided:
            if endpoint_value(p.formula, _ZERO, "+").finite:
                partial.append(p.condition)
            continue
        if I.decided and I.value.is_finite is not False:
            full.append(p.condition)
            partial.append(p.condition)
    return sympy.Or(*full), sympy.Or(*partial)


def _symbolic_well_posedness(upper: Envelope, lower: Envelope, schedule: Schedule) -> WellPosedness:
    """With symbolic parameters: θ is integrable on [0, 1] where, on each side, some piece holding on all of
    [0, 1] has a finite integral (under its condition on the parameters); on [0, T] for every T < 1 where
    each side has a piece integrable up to every T < 1; nowhere otherwise."""
    (uf, up), (lf, lp) = _side_conditions(upper, schedule), _side_conditions(lower, schedule)
    c_full = sympy.And(uf, lf)
    c_part = sympy.And(up, lp)
    cases = []
    if c_full is not sympy.false:
        cases.append((_UNIT, c_full))
    if c_part is not sympy.false and c_full is not sympy.true and c_part != c_full:
        cases.append((sympy.Interval.Ropen(0, 1), c_part))
    if not cases or cases[-1][1] is not sympy.true:
        cases.append((sympy.S.EmptySet, sympy.true))
    interval, cond = cases[0]
    if interval == _UNIT:
        why = "θ_t is integrable on [0, 1]" + ("" if cond is sympy.true else f" when {cond}")
    elif interval == sympy.Interval.Ropen(0, 1):
        why = "a bound is not integrable at t = 1: well posed on [0, T] for every T < 1" + (
            "" if cond is sympy.true else f" when {cond}")
    else:
        why = "no bound on θ_t holds on all of [0, 1) for any parameter value"
    if len(cases) > 1:
        why += "; otherwise " + "; ".join(f"on {i} when {c}" if c is not sympy.true else f"on {i}"
                                          for i, c in cases[1:])
    return WellPosedness(interval, why, cond, tuple(cases))
