r"""Two-sided bounds on the Jacobian of the velocity, θ_t, and the flow-map Lipschitz constants (math.md §5–6).

The formulas come from the lemma graph (:mod:`gifsym.lemmas`): each bound lemma (``bound-slc``,
``bound-slcvx``, ``bound-ball``, ``bound-conv``, ``bound-psd``) derives, once per class membership, a
:class:`BoundPiece` — its formula in the placeholders ``a, ȧ, b, ḃ`` (from the key identity and a variance
inequality), instantiated for the schedule, and the time interval where it holds. This module does the
interval logic:

* **where a piece holds**: a variance inequality may need a positivity condition (Brascamp–Lieb needs the
  conditional law's precision ``κ + b²/a²`` to be > 0), and a formula may diverge at an end (the ball bound
  at t = 1). Sign changes are located by :func:`gifsym.integrals.sign_changes` (exactly where SymPy solves);
* **envelopes**: the pointwise min of the upper pieces and max of the lower pieces (:class:`Envelope`). A
  piece that is provably dominated for *every* admissible schedule (a sign argument in the placeholders,
  under ``a, b > 0``, ``ȧ ≤ 0 ≤ ḃ``) is dropped; the rest are split at their crossing points, so the
  envelope is a ``Piecewise`` of ``Min``/``Max`` that lambdifies;
* **integrals** of envelopes cell by cell (exact through potentials where possible, see
  :mod:`gifsym.integrals`), giving ``Lip(X_{0,1}) ≤ exp ∫₀¹ λ_max`` and ``Lip(X_{1,0}) ≤ exp(−∫₀¹ λ_min)``
  (:class:`FlowConstant`), their values as functions of the horizon T, and well-posedness.

Example:
    >>> from gifsym import GIF, schedule, target
    >>> b = GIF(schedule("linear"), target("slc:kappa=2+slcvx:beta=4")).bounds()
    >>> b.upper, b.lower
    ((3*t - 2)/(t**2 + 2*(1 - t)**2), (5*t - 4)/(t**2 + 4*(1 - t)**2))
    >>> b.interval
    Interval(0, 1)
    >>> GIF(schedule("linear"), target("slc:kappa=2+slcvx:beta=4")).flow_map_lipschitz().forward.value
    sqrt(2)/2
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any

import mpmath
import sympy

from gifsym.errors import AssumptionError
from gifsym.integrals import (
    DPS,
    RHO,
    endpoint_value,
    find_potential,
    integrate_piece,
    mp_value,
    potential_value,
    sign,
    sign_changes,
)
from gifsym.schedule import Schedule, t
from gifsym.target import Target
from gifsym.velocity import DA, DB, A, B, instantiate

#: The horizon of a flow map ``X_{0,T}`` (flow-map constants as functions of T).
T = sympy.Symbol("T", positive=True)
#: The schedule's values at t = 0, for schedule-free statements.
A0 = sympy.Symbol("a_0", positive=True)
B0 = sympy.Symbol("b_0", nonnegative=True)

_ZERO, _ONE = sympy.Integer(0), sympy.Integer(1)
_UNIT = sympy.Interval(0, 1)


def _latex(e: Any) -> str:
    from gifsym.latex import latex_expr

    return latex_expr(e)


# ---------------------------------------------------------------------------------------------------------
# Pieces


@dataclass(frozen=True)
class BoundPiece:
    r"""One bound on ``∇_x v`` from one lemma and one class membership.

    Attributes:
        side: ``"upper"`` (``∇v ≼ formula · I``) or ``"lower"`` (``∇v ≽ formula · I``).
        lemma: the lemma it comes from.
        general: the formula in the placeholders ``a, ȧ, b, ḃ`` (schedule-free).
        formula: the formula for the schedule, in ``t``.
        interval: where it holds, a subset of [0, 1] (a SymPy set; a ``ConditionSet`` when symbolic
            parameters leave it undecided).
        params: the class parameters it used, e.g. ``(("kappa", 2),)``.
        implied_by: the class of the target that implied the membership (e.g. ``"T-gauss"``), or None.
        validity: a placeholder expression that must be > 0 where the piece holds (None: no condition).
        condition: a condition on symbolic parameters under which the piece holds on its whole interval.
    """

    side: str
    lemma: str
    general: sympy.Expr
    formula: sympy.Expr
    interval: sympy.Set
    params: tuple[tuple[str, sympy.Expr], ...] = ()
    implied_by: str | None = None
    validity: sympy.Expr | None = None
    condition: sympy.Basic = sympy.true

    @property
    def label(self) -> str:
        """``bound-slc (kappa=2)``."""
        p = ", ".join(f"{k}={v}" for k, v in self.params)
        return f"{self.lemma} ({p})" if p else self.lemma

    @property
    def symbolic(self) -> bool:
        """Whether symbolic parameters remain (then cells and crossing points are not computed)."""
        return bool(self.formula.free_symbols - {t}) or not _numeric_set(self.interval)

    def to_latex(self) -> str:
        rel = r"\preceq" if self.side == "upper" else r"\succeq"
        return (rf"\nabla_x v \;{rel}\; \Big({_latex(self.formula)}\Big) I \quad (t \in {_latex(self.interval)},"
                rf"\ \text{{{self.label}}})")


def _numeric_set(s: sympy.Set) -> bool:
    if isinstance(s, sympy.Interval):
        return s.inf.is_number and s.sup.is_number
    if isinstance(s, sympy.Union):
        return all(_numeric_set(a) for a in s.args)
    return isinstance(s, (sympy.FiniteSet,)) and all(a.is_number for a in s) or s is sympy.S.EmptySet


@lru_cache(maxsize=2048)
def make_piece(side: str, lemma: str, general: sympy.Expr, schedule: Schedule, *,
               params: tuple = (), validity: sympy.Expr | None = None, implied_by: str | None = None) -> BoundPiece:
    """Instantiate a placeholder bound for ``schedule`` and find where it holds.

    Example:
        >>> from gifsym import schedule
        >>> kappa = sympy.Rational(-1, 2)
        >>> p = make_piece("upper", "bound-slc", (kappa * A * DA + B * DB) / (kappa * A**2 + B**2),
        ...                schedule("linear"), validity=kappa + B**2 / A**2)
        >>> p.interval
        Interval.Lopen(-1 + sqrt(2), 1)
    """
    general = sympy.sympify(general)
    formula = instantiate(general, schedule)
    interval, condition = _piece_interval(formula, validity, schedule)
    return BoundPiece(side, lemma, general, formula, interval, tuple(params), implied_by, validity, condition)


def _finite_ends(formula: sympy.Expr) -> sympy.Interval:
    e0 = endpoint_value(formula, _ZERO, "+")
    e1 = endpoint_value(formula, _ONE, "-")
    return sympy.Interval(0, 1, left_open=not (e0.decided and e0.finite), right_open=not (e1.decided and e1.finite))


def _piece_interval(formula: sympy.Expr, validity: sympy.Expr | None, schedule: Schedule):
    full = _finite_ends(formula)
    if validity is None or sign(validity) == ">":
        return full, sympy.true
    P = instantiate(validity, schedule)
    if P.free_symbols - {t}:
        cond = _snr_condition(validity, schedule)
        if cond is sympy.true:
            return full, sympy.true
        return sympy.ConditionSet(t, P > 0, full), (cond if cond is not None else sympy.false)
    pts = [_ZERO, *sign_changes(validity, schedule).points, _ONE]
    parts: list[sympy.Set] = []
    for lo, hi in pairwise(pts):
        mid = (mpmath.mpf(sympy.N(lo, DPS)) + mpmath.mpf(sympy.N(hi, DPS))) / 2
        v = mp_value(P, mid)
        if not mpmath.isnan(v) and v > 0:
            parts.append(sympy.Interval.open(lo, hi))
    for p, side in ((_ZERO, "+"), (_ONE, "-")):
        v = endpoint_value(P, p, side)
        if v.decided and (v.value > 0) is sympy.true:
            parts.append(sympy.FiniteSet(p))
    s = sympy.Union(*parts).intersect(full) if parts else sympy.S.EmptySet
    return s, sympy.true if s == full else sympy.false


def _snr_condition(validity: sympy.Expr, schedule: Schedule) -> sympy.Basic | None:
    """For a validity condition ``q(a, b) > 0`` homogeneous in ``(a, b)`` and non-decreasing in the SNR
    ``ρ = b/a``: since ``r_t`` is non-decreasing (lemma snr-monotone), the condition holds on all of [0, 1)
    iff it holds at t = 0, i.e. ``q(1, r_0) > 0``. Returns that condition, or None."""
    num, den = sympy.fraction(sympy.together(validity))
    if sign(den) != ">" or num.has(DA, DB):
        return None
    try:
        poly = sympy.Poly(num, A, B)
    except sympy.PolynomialError:
        return None
    if not poly.is_homogeneous:
        return None
    g = sympy.expand(num.subs({A: 1, B: RHO}))
    if not sympy.diff(g, RHO).is_nonnegative:
        return None
    r0 = endpoint_value(sympy.simplify(schedule.b / schedule.a), _ZERO, "+")
    if not r0.exact:
        return None
    cond = sympy.simplify(g.subs(RHO, r0.value) > 0)
    return cond


# ---------------------------------------------------------------------------------------------------------
# Envelopes


@dataclass(frozen=True)
class Cell:
    """An open time interval ``(lo, hi)`` where the order of the pieces does not change.

    Attributes:
        lo, hi: the ends (exact, or Floats located numerically).
        valid: indices of the pieces that hold on the cell.
        active: the index of the piece realising the min (upper) / max (lower) there, or None (no bound).
    """

    lo: sympy.Expr
    hi: sympy.Expr
    valid: tuple[int, ...]
    active: int | None


@dataclass(frozen=True)
class Envelope:
    r"""The combined bound of one side: pointwise min of the upper pieces or max of the lower pieces.

    Attributes:
        side: ``"upper"`` or ``"lower"``.
        pieces: the pieces kept.
        dropped: ``(piece, reason)`` for pieces dominated by a kept one (they add nothing).
        expr: the combined bound in ``t`` (``oo`` / ``-oo`` where no piece holds).
        interval: where some piece holds.
        cells: the cells between crossing points and interval ends, or None when symbolic parameters
            remain (then ``expr`` is the ``Min``/``Max`` of the pieces on the intersection of their intervals).
        points: the cell ends, from 0 to 1.
    """

    side: str
    pieces: tuple[BoundPiece, ...]
    dropped: tuple[tuple[BoundPiece, str], ...]
    expr: sympy.Expr
    interval: sympy.Set
    cells: tuple[Cell, ...] | None
    points: tuple[sympy.Expr, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.pieces

    @property
    def lemmas(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.lemma for p in self.pieces))

    def to_latex(self) -> str:
        sym = "u_t" if self.side == "upper" else r"\ell_t"
        return rf"{sym} = {_latex(self.expr)}, \quad t \in {_latex(self.interval)}"

    def value_at(self, t0: Any) -> Any:
        """The combined bound at ``t0``: a float (``±inf`` where no piece holds), or a SymPy expression when
        symbolic parameters remain."""
        vals = []
        point = sympy.Rational(repr(float(t0))) if isinstance(t0, (float, int)) else sympy.sympify(t0)
        x = mpmath.mpf(sympy.N(point, DPS))
        side = "-" if point == 1 else "+"
        for p in self.pieces:
            inside = _contains(p.interval, x)
            if inside is False:
                continue
            ev = endpoint_value(p.formula, point, side)
            if not ev.decided:
                continue
            vals.append(ev.value)
        none = math.inf if self.side == "upper" else -math.inf
        if not vals:
            return none
        if all(v.is_number for v in vals):
            fs = [float(v) for v in vals]
            return min(fs) if self.side == "upper" else max(fs)
        return sympy.Min(*vals) if self.side == "upper" else sympy.Max(*vals)


def _contains(s: sympy.Set, x: Any, tol: float = 1e-25) -> bool | None:
    """Whether the number x lies in s (ends compared to ``tol``, open ends respected); None if undecidable."""
    if isinstance(s, sympy.Interval):
        if not (s.inf.is_number and s.sup.is_number):
            return None
        lo, hi = mpmath.mpf(sympy.N(s.inf, DPS)), mpmath.mpf(sympy.N(s.sup, DPS))
        if abs(x - lo) <= tol:
            return not s.left_open
        if abs(x - hi) <= tol:
            return not s.right_open
        return bool(lo < x < hi)
    if isinstance(s, sympy.Union):
        res = [_contains(a, x, tol) for a in s.args]
        return True if any(r is True for r in res) else (None if any(r is None for r in res) else False)
    if isinstance(s, sympy.FiniteSet):
        return any(abs(x - mpmath.mpf(sympy.N(p, DPS))) <= tol for p in s if p.is_number)
    if s is sympy.S.EmptySet:
        return False
    return None


def _ends(s: sympy.Set) -> list[sympy.Expr]:
    if isinstance(s, sympy.Interval):
        return [s.inf, s.sup]
    if isinstance(s, sympy.Union):
        return [e for a in s.args for e in _ends(a)]
    if isinstance(s, sympy.FiniteSet):
        return list(s)
    return []


def _dominates(i: BoundPiece, j: BoundPiece) -> bool:
    """Piece i is at least as good as j wherever j holds, for every admissible schedule."""
    d = sympy.cancel(j.general - i.general) if i.side == "upper" else sympy.cancel(i.general - j.general)
    if d != 0 and sign(d) not in (">", ">="):
        return False
    return j.interval.is_subset(i.interval) is True


@lru_cache(maxsize=1024)
def envelope(side: str, pieces: tuple[BoundPiece, ...], schedule: Schedule) -> Envelope:
    """Combine the pieces of one side into an :class:`Envelope` (see the module docstring)."""
    kept: list[BoundPiece] = []
    dropped: list[tuple[BoundPiece, str]] = []
    for j, pj in enumerate(pieces):
        by = next((pi for i, pi in enumerate(pieces) if i != j and pi not in [d for d, _ in dropped]
                   and _dominates(pi, pj) and (i < j or not _dominates(pj, pi))), None)
        if by is not None:
            dropped.append((pj, f"never better than {by.label}"))
        else:
            kept.append(pj)
    none = sympy.oo if side == "upper" else -sympy.oo
    if not kept:
        return Envelope(side, (), tuple(dropped), none, sympy.S.EmptySet, (), (_ZERO, _ONE))
    if any(p.symbolic for p in kept):
        if len(kept) == 1:
            return Envelope(side, tuple(kept), tuple(dropped), kept[0].formula, kept[0].interval, None)
        expr = _combine(side, [p.formula for p in kept])
        interval = sympy.Intersection(*(p.interval for p in kept))
        return Envelope(side, tuple(kept), tuple(dropped), expr, interval, None)
    return _numeric_envelope(side, tuple(kept), tuple(dropped), schedule)


def _combine(side: str, exprs: list[sympy.Expr]) -> sympy.Expr:
    exprs = list(dict.fromkeys(exprs))
    if not exprs:
        return sympy.oo if side == "upper" else -sympy.oo
    if len(exprs) == 1:
        return exprs[0]
    return sympy.Min(*exprs, evaluate=False) if side == "upper" else sympy.Max(*exprs, evaluate=False)


def _sorted_points(points: list[sympy.Expr]) -> list[sympy.Expr]:
    out: list[sympy.Expr] = []
    for p in sorted(points, key=lambda v: mpmath.mpf(sympy.N(v, DPS))):
        if out and abs(mpmath.mpf(sympy.N(p - out[-1], DPS))) < 1e-20:
            if isinstance(out[-1], sympy.Float) and not isinstance(p, sympy.Float):
                out[-1] = p
            continue
        out.append(p)
    return out


def _numeric_envelope(side: str, kept: tuple[BoundPiece, ...], dropped: tuple, schedule: Schedule) -> Envelope:
    pts: list[sympy.Expr] = [_ZERO, _ONE]
    for p in kept:
        pts += [e for e in _ends(p.interval) if e.is_number and 0 <= e <= 1]
    for i in range(len(kept)):
        for j in range(i + 1, len(kept)):
            d = sympy.cancel(kept[i].general - kept[j].general)
            if d != 0:
                pts += list(sign_changes(d, schedule).points)
    pts = _sorted_points(pts)
    best = min if side == "upper" else max
    cells = []
    for lo, hi in pairwise(pts):
        mid = (mpmath.mpf(sympy.N(lo, DPS)) + mpmath.mpf(sympy.N(hi, DPS))) / 2
        valid = tuple(k for k, p in enumerate(kept) if _contains(p.interval, mid))
        vals = {k: mp_value(kept[k].formula, mid) for k in valid}
        vals = {k: v for k, v in vals.items() if not mpmath.isnan(v)}
        active = best(vals, key=lambda k: vals[k]) if vals else None
        cells.append(Cell(lo, hi, valid, active))
    # The expression: one entry per point and per cell, then consecutive equal entries merged.
    entries: list[tuple[sympy.Expr, sympy.Basic]] = []
    for k, c in enumerate(cells):
        x = mpmath.mpf(sympy.N(c.lo, DPS))
        at = [p.formula for p in kept if _contains(p.interval, x)]
        entries.append((_combine(side, at), t <= c.lo))
        entries.append((_combine(side, [kept[i].formula for i in c.valid]), t < c.hi))
    at1 = [p.formula for p in kept if _contains(p.interval, mpmath.mpf(1))]
    entries.append((_combine(side, at1), sympy.true))
    merged: list[tuple[sympy.Expr, sympy.Basic]] = []
    for e, c in entries:
        if merged and merged[-1][0] == e:
            merged[-1] = (e, c)
        else:
            merged.append((e, c))
    # The first entry's condition (t <= 0 or t < p1) also covers t < 0, which is outside [0, 1]: harmless.
    expr = merged[0][0] if len(merged) == 1 else sympy.Piecewise(*merged[:-1], (merged[-1][0], True))
    interval = sympy.Union(*(p.interval for p in kept))
    return Envelope(side, kept, dropped, expr, interval, tuple(cells), tuple(pts))


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
        from gifsym.integrals import tidy

        value = tidy(value)
    return EnvelopeIntegral(value, numeric, error, tuple(methods),
                            as_function_of_T=_t_function(env, schedule, t_terms, None))


def _finite_inside(piece: BoundPiece, c: Cell) -> bool:
    return _contains(piece.interval, mpmath.mpf(sympy.N(c.lo, DPS)) + mpmath.mpf(10) ** -20) is not False


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
    G = find_potential(env.pieces[0].general)
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


# ---------------------------------------------------------------------------------------------------------
# The results


@dataclass(frozen=True)
class Bounds:
    r"""Two-sided bounds ``lower_t I ≼ ∇_x v(t, x) ≼ upper_t I`` for all x, and ``θ_t``.

    Attributes:
        schedule, target: the flow.
        upper: ``u_t`` (``oo`` where no upper bound holds); a ``Min``/``Piecewise`` that lambdifies.
        lower: ``ℓ_t`` (``-oo`` where none holds).
        lipschitz: ``θ_t = max(|u_t|, |ℓ_t|) = max(u_t, −ℓ_t)`` (as ``u ≥ ℓ``).
        interval: where both a finite upper and a finite lower bound hold.
        upper_interval, lower_interval: where each side holds.
        pieces: every piece derived (kept or dropped), each with its lemma, formula and interval.
        upper_envelope, lower_envelope: the combinations (see :class:`Envelope`).
        lemmas: the lemmas these results come from, in dependency order.
        notes: remarks (pieces that do not reach an end, dominated pieces, missing sides).
    """

    schedule: Schedule
    target: Target
    upper: sympy.Expr
    lower: sympy.Expr
    lipschitz: sympy.Expr
    interval: sympy.Set
    upper_interval: sympy.Set
    lower_interval: sympy.Set
    pieces: tuple[BoundPiece, ...]
    upper_envelope: Envelope
    lower_envelope: Envelope
    lemmas: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def theta(self) -> sympy.Expr:
        return self.lipschitz

    def at(self, t0: Any) -> dict[str, Any]:
        """``{"t", "upper", "lower", "lipschitz"}`` at one time: floats (``±inf`` where no bound holds),
        or SymPy expressions when symbolic parameters remain."""
        u = self.upper_envelope.value_at(t0)
        l = self.lower_envelope.value_at(t0)
        if isinstance(u, float) and isinstance(l, float):
            th = max(u, -l)
        else:
            th = sympy.Max(u, -l)
        return {"t": float(t0), "upper": u, "lower": l, "lipschitz": th}

    def values(self, times: Any) -> list[dict[str, Any]]:
        """:meth:`at` for each time."""
        return [self.at(x) for x in times]

    def to_latex(self) -> str:
        lines = [r"\begin{aligned}",
                 rf"u_t &= {_latex(self.upper)} \\",
                 rf"\ell_t &= {_latex(self.lower)} \\",
                 rf"\theta_t &= {_latex(self.lipschitz)}",
                 r"\end{aligned}",
                 rf"\quad t \in {_latex(self.interval)}"]
        return "\n".join(lines)


@dataclass(frozen=True)
class FlowMapBounds:
    r"""Lipschitz constants of the flow map ``X_{0,1}`` (noise → data) and of its inverse ``X_{1,0}``.

    Attributes:
        schedule, target: the flow.
        forward: ``Lip(X_{0,1}) ≤ exp ∫_0^1 u_t dt`` (:class:`FlowConstant`).
        reverse: ``Lip(X_{1,0}) ≤ exp(−∫_0^1 ℓ_t dt)``.
        interval: where the flow is well posed (``[0, 1)`` means on [0, T] for every T < 1).
        T: the horizon symbol of ``forward.as_function_of_T`` / ``reverse.as_function_of_T``.
        lemmas: the lemmas used.
        notes: remarks (schedule-free facts found, why a constant is unbounded).
    """

    schedule: Schedule
    target: Target
    forward: FlowConstant
    reverse: FlowConstant
    interval: sympy.Set
    T: sympy.Symbol = T
    lemmas: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def note(self) -> str:
        return " ".join(self.notes)

    def to_latex(self) -> str:
        return (rf"\operatorname{{Lip}}(X_{{0,1}}) \le {self.forward.to_latex()}, \qquad "
                rf"\operatorname{{Lip}}(X_{{1,0}}) \le {self.reverse.to_latex()}, \qquad "
                rf"\text{{well posed on }} {_latex(self.interval)}")


def _registry(registry: Any):
    if registry is not None:
        return registry
    from gifsym.lemmas import registry as default

    return default()


def _lemma_names(reg: Any, seeds: list[str], pieces: tuple[BoundPiece, ...]) -> tuple[str, ...]:
    from gifsym.lemma_library import IMPLIED_BY

    names: set[str] = set()

    def add(n: str) -> None:
        if n in names:
            return
        names.add(n)
        for u in reg.get(n).uses:
            add(u)

    for n in seeds:
        add(n)
    for p in pieces:
        add(p.lemma)
        if p.implied_by in IMPLIED_BY and IMPLIED_BY[p.implied_by] in reg:
            add(IMPLIED_BY[p.implied_by])
    return tuple(n for n in reg.names() if n in names)


def bounds(gif: Any, *, registry: Any = None, assume: tuple[str, ...] = ()) -> Bounds:
    """Every upper and lower bound on ``∇_x v`` that applies to the flow, combined, with θ_t.

    Args:
        gif: the flow.
        registry: a lemma registry (default: gifsym's library; tests pass modified ones).
        assume: assumption ids to take as given in addition to those proved (e.g. ``("S-mono",)`` for a
            custom schedule the checker could not decide).

    Raises:
        AssumptionError: the schedule assumptions the key identity needs are not proved.

    Example:
        >>> from gifsym import GIF, schedule, target
        >>> b = bounds(GIF(schedule("linear"), target("ball:R=1")))
        >>> b.interval
        Interval.Ropen(0, 1)
    """
    return _bounds(gif.schedule, gif.target, _registry(registry), frozenset(assume))


@lru_cache(maxsize=512)
def _bounds(schedule: Schedule, target: Target, reg: Any, assume: frozenset[str]) -> Bounds:
    from gifsym.velocity import GIF

    gif = GIF(schedule, target)
    lower = reg.try_derive("jacobian-lower", gif, assume=assume)
    if lower is None:
        missing = sorted(reg.requires("jacobian-lower") - reg.held(gif, assume=assume))
        why = (f"the bounds need {', '.join(missing)}: " + reg.explain(missing, gif) if missing
               else reg.why_not("jacobian-lower", gif, assume=assume))
        raise AssumptionError(f"no bound on the Jacobian: {why}")
    upper = reg.try_derive("jacobian-upper", gif, assume=assume)
    notes = []
    if upper is None:
        upper = Envelope("upper", (), (), sympy.oo, sympy.S.EmptySet, (), (_ZERO, _ONE))
        alts = ", ".join(sorted({c for _, req in reg.alternatives("jacobian-upper") for c in req if c.startswith("T-")}))
        notes.append(f"no upper bound applies: the target is in none of the classes {alts}")
    lip = reg.try_derive("lipschitz", gif, assume=assume)
    theta = lip["theta"] if lip is not None else sympy.oo
    seeds = ["jacobian-lower"] + (["jacobian-upper", "lipschitz"] if lip is not None else [])
    pieces = upper.pieces + tuple(p for p, _ in upper.dropped) + lower.pieces + tuple(p for p, _ in lower.dropped)
    for p in upper.pieces + lower.pieces:
        if p.interval != _UNIT:
            notes.append(f"{p.label} ({p.side}) holds on {p.interval} only")
    for p, why in upper.dropped + lower.dropped:
        notes.append(f"{p.label} ({p.side}) is not used: {why}")
    interval = sympy.Intersection(upper.interval, lower.interval) if not upper.empty else sympy.S.EmptySet
    kept = upper.pieces + lower.pieces
    return Bounds(schedule, target, upper.expr, lower.expr, theta, interval, upper.interval, lower.interval,
                  pieces, upper, lower, _lemma_names(reg, seeds, kept), tuple(notes))


def flow_map_lipschitz(gif: Any, *, registry: Any = None, assume: tuple[str, ...] = ()) -> FlowMapBounds:
    """Forward and reverse flow-map Lipschitz constants with the well-posedness interval.

    Example:
        >>> from gifsym import GIF, schedule, target
        >>> fm = flow_map_lipschitz(GIF(schedule("trigonometric"), target("gaussian:sigma=0.5")))
        >>> fm.forward.value, fm.reverse.value
        (1/2, 2)
    """
    return _flow_map(gif.schedule, gif.target, _registry(registry), frozenset(assume))


@lru_cache(maxsize=512)
def _flow_map(schedule: Schedule, target: Target, reg: Any, assume: frozenset[str]) -> FlowMapBounds:
    from gifsym.velocity import GIF

    gif = GIF(schedule, target)
    b = _bounds(schedule, target, reg, assume)
    found = {n: reg.try_derive(n, gif, assume=assume)
             for n in ("well-posed", "flow-map-lipschitz", "reverse-flow-map-lipschitz")}
    wp, fwd, rev = found.values()
    notes = []
    # Without well-posedness (no upper bound, or S-smooth not proved) there is no flow map to bound.
    if fwd is None:
        fwd = FlowConstant(sympy.oo, method="not applicable", reason=reg.why_not("flow-map-lipschitz", gif,
                                                                                  assume=assume))
    if rev is None:
        rev = FlowConstant(sympy.oo, method="not applicable",
                           reason=reg.why_not("reverse-flow-map-lipschitz", gif, assume=assume))
    interval = wp.interval if wp is not None else sympy.S.EmptySet
    for name, c in (("forward", fwd), ("reverse", rev)):
        if c.endpoint_formula is not None:
            notes.append(f"the {name} constant depends on the schedule only through (a_0, b_0): "
                         f"{c.endpoint_formula}")
        if not c.finite and c.reason:
            notes.append(f"the {name} constant is unbounded: {c.reason}")
    seeds = [n for n, v in found.items() if v is not None]
    names = _lemma_names(reg, seeds + list(b.lemmas), ())
    return FlowMapBounds(schedule, target, fwd, rev, interval, T, names, tuple(notes))


__all__ = [
    "A0",
    "B0",
    "BoundPiece",
    "Bounds",
    "Cell",
    "Envelope",
    "EnvelopeIntegral",
    "FlowConstant",
    "FlowMapBounds",
    "T",
    "WellPosedness",
    "bounds",
    "envelope",
    "envelope_integral",
    "flow_constant",
    "flow_map_lipschitz",
    "make_piece",
    "well_posedness",
]
