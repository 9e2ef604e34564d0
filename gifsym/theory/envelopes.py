r"""Bound pieces and their envelopes (math.md §5): where each variance-inequality bound holds, and the
pointwise min / max of several.

A bound lemma (``bound-slc``, ``bound-slcvx``, ``bound-ball``, ``bound-conv``, ``bound-psd``) derives, once per
class membership, a :class:`BoundPiece`: its formula in the placeholders ``a, ȧ, b, ḃ`` (from the key
identity and a variance inequality), instantiated for the schedule, and the time interval where it holds:

* **where a piece holds**: a variance inequality may need a positivity condition (Brascamp–Lieb needs the
  conditional law's precision ``κ + b²/a²`` to be > 0), and a formula may diverge at an end (the ball bound
  at t = 1). Sign changes are located by :func:`gifsym.theory.integrals.sign_changes`;
* **envelopes**: the pointwise min of the upper pieces and max of the lower pieces (:class:`Envelope`). A
  piece that is provably dominated for *every* admissible schedule (a sign argument in the placeholders,
  under ``a, b > 0``, ``ȧ ≤ 0 ≤ ḃ``) is dropped; the rest are split at their crossing points, so the
  envelope is a ``Piecewise`` of ``Min``/``Max`` that lambdifies.

Example:
    >>> from gifsym import schedule
    >>> make_piece("lower", "bound-psd", DA / A, schedule("linear")).interval
    Interval.Ropen(0, 1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any

import mpmath
import sympy

from gifsym.symbolic import balls
from gifsym.symbolic.expr import as_expr
from gifsym.symbolic.flow import DA, DB, PLACEHOLDER_NAMES, A, B, instantiate
from gifsym.symbolic.printing import latex_expr as _latex
from gifsym.symbolic.schedule import Schedule, real_number, t
from gifsym.theory import normal_forms
from gifsym.theory.integrals import (
    DPS,
    RHO,
    endpoint_value,
    located,
    mp_value,
    sign,
    sign_changes,
)

_ZERO, _ONE = sympy.Integer(0), sympy.Integer(1)
_UNIT = sympy.Interval(0, 1)


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

    def where(self) -> sympy.Basic:
        """The condition on ``t`` (and on symbolic parameters) under which the piece holds."""
        s = self.interval
        if isinstance(s, sympy.ConditionSet):
            return sympy.And(s.condition, s.base_set.as_relational(t))
        if s == _UNIT:
            return sympy.true
        return s.as_relational(t)

    @property
    def guarded(self) -> sympy.Expr:
        """The bound as an expression correct for every ``t`` in [0, 1] and every admitted parameter value:
        ``Piecewise((formula, where), (±oo, True))`` (``+oo`` for an upper bound: no bound)."""
        cond = self.where()
        if cond is sympy.true:
            return self.formula
        none = sympy.oo if self.side == "upper" else -sympy.oo
        return sympy.Piecewise((self.formula, cond), (none, True))

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
    general = as_expr(general, names=PLACEHOLDER_NAMES, what="general")
    validity = None if validity is None else as_expr(validity, names=PLACEHOLDER_NAMES, what="validity")
    formula = instantiate(general, schedule)
    interval, condition = _piece_interval(formula, validity, schedule)
    return BoundPiece(side, lemma, general, formula, interval, tuple(params), implied_by, validity, condition)


def _finite_ends(formula: sympy.Expr) -> sympy.Interval:
    e0 = endpoint_value(formula, _ZERO, "+")
    e1 = endpoint_value(formula, _ONE, "-")
    return sympy.Interval(0, 1, left_open=not (e0.decided and e0.finite), right_open=not (e1.decided and e1.finite))


def _validity_numerator(validity: sympy.Expr) -> sympy.Expr:
    """``q`` with ``validity > 0 ⟺ q > 0`` for every admissible schedule: the numerator when the denominator
    is positive (``κ + b²/a²`` becomes ``κa² + b²``, which is also defined at t = 1 where a = 0)."""
    num, den = sympy.fraction(sympy.together(validity))
    return num if sign(den) == ">" else validity


def _piece_interval(formula: sympy.Expr, validity: sympy.Expr | None, schedule: Schedule):
    full = _finite_ends(formula)
    if validity is None or sign(validity) == ">":
        return full, sympy.true
    q = _validity_numerator(validity)
    P = instantiate(q, schedule)
    if P.free_symbols - {t}:
        cond = _snr_condition(validity, schedule)
        if cond is sympy.true:
            return full, sympy.true
        return sympy.ConditionSet(t, P > 0, full), (cond if cond is not None else sympy.false)
    if _snr_condition(validity, schedule) is not None:
        s = _up_set(q, P, schedule)
    else:
        s = _positive_set(q, P, schedule)
    s = s.intersect(full) if s is not sympy.S.EmptySet else s
    return s, sympy.true if s == full else sympy.false


def _positive(P: sympy.Expr, point: sympy.Expr, side: str) -> bool:
    """P > 0 at a point, proved (exact value or limit, or a ball excluding 0)."""
    v = endpoint_value(P, point, side)
    if not v.decided:
        return False
    if v.value is sympy.oo:
        return True
    ball = balls.enclose(v.value)
    return ball is not None and bool(ball > 0)


def _up_set(q: sympy.Expr, P: sympy.Expr, schedule: Schedule) -> sympy.Set:
    """Where ``P > 0`` when ``P`` is non-decreasing in t (a function of the SNR, lemma snr-monotone): all of
    [0, 1] if ``P(0) > 0``; else ``(t*, 1]`` with the exact crossing ``t*``, or ``[t⁺, 1]`` with ``t⁺`` the upper
    end of a certified enclosure of it (rounded up, so the piece is never used where it does not hold)."""
    if _positive(P, _ZERO, "+"):
        return _UNIT
    if not _positive(P, _ONE, "-"):
        return sympy.S.EmptySet
    rts = sign_changes(q, schedule)
    if rts.complete and len(rts.points) == 1:
        p, (lo, hi) = rts.points[0], rts.enclosures[0]
        if not isinstance(p, sympy.Float):
            return sympy.Interval.Lopen(p, 1)
        return sympy.Interval(float_up(hi), 1)
    # Fall back on a certified bisection for the first point where P > 0 is proved.
    lo, hi = _ZERO, _ONE
    f = balls.compile_ball(P, t, real_domain=True)
    for _ in range(100):
        m = (lo + hi) / 2
        v = f(balls.interval_ball(m, m))
        if v.is_finite() and v > 0:
            hi = m
        else:
            lo = m
    return sympy.Interval(float_up(hi), 1)


def float_up(r: sympy.Rational) -> sympy.Float:
    """A 35-digit Float ≥ r (and within 2^-100 of it, for r in [0, 1])."""
    f = sympy.Float(r, 35)
    while sympy.Rational(f) < r:
        f = sympy.Float(sympy.Rational(f) + sympy.Rational(1, 2**110), 35)
    return f


def _positive_set(q: sympy.Expr, P: sympy.Expr, schedule: Schedule) -> sympy.Set:
    """Where ``P > 0``, from its certified sign changes; a stretch containing a box ball arithmetic could not
    decide is left out (the piece is not used there)."""
    rts = sign_changes(q, schedule)
    pts = [_ZERO, *rts.points, _ONE]
    blocked = [(u0, u1) for u0, u1 in rts.undecided]
    parts: list[sympy.Set] = []
    for lo, hi in pairwise(pts):
        lo_r, hi_r = located(lo), located(hi)
        if any(not (u1 <= lo_r or u0 >= hi_r) for u0, u1 in blocked):
            continue
        mid = (lo_r + hi_r) / 2 if lo_r.is_Rational and hi_r.is_Rational else None
        v = balls.enclose(P.subs(t, mid)) if mid is not None else None
        if v is not None and v > 0:
            parts.append(sympy.Interval.open(lo, hi))
    for p, side in ((_ZERO, "+"), (_ONE, "-")):
        if _positive(P, p, side):
            parts.append(sympy.FiniteSet(p))
    return sympy.Union(*parts) if parts else sympy.S.EmptySet


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
    r0 = endpoint_value(normal_forms.simplify(schedule.b / schedule.a), _ZERO, "+")
    if not r0.exact:
        return None
    cond = normal_forms.simplify(g.subs(RHO, r0.value) > 0)
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

    def value_at(self, t0: Any, *, exact: bool = False) -> Any:
        """The combined bound at ``t0``: a float (``±inf`` where no piece holds), or a SymPy expression when
        symbolic parameters remain (``exact=True``: always SymPy, ``±oo`` where no piece holds)."""
        vals = []
        point = real_number("t", t0)
        side = "-" if point == 1 else "+"
        none_s = sympy.oo if self.side == "upper" else -sympy.oo
        for p in self.pieces:
            inside = contains(p.interval, point)
            if inside is False:
                continue
            if not exact and inside is True:
                f = _float_at(p.formula, point)
                if f is not None:
                    vals.append(f)
                    continue
            ev = endpoint_value(p.formula, point, side)
            if not ev.decided:
                continue
            v = ev.value
            if inside is None:  # symbolic parameters: the piece holds under a condition on them
                cond = p.where().subs(t, point)
                if cond is sympy.false:
                    continue
                if cond is not sympy.true:
                    v = sympy.Piecewise((v, cond), (none_s, True))
            vals.append(v)
        none = math.inf if self.side == "upper" else -math.inf
        if exact:
            if not vals:
                return none_s
            return (sympy.Min(*vals) if self.side == "upper" else sympy.Max(*vals)) if len(vals) > 1 else vals[0]
        if not vals:
            return none
        if all(isinstance(v, float) or v.is_number for v in vals):
            fs = [float(v) for v in vals]
            return min(fs) if self.side == "upper" else max(fs)
        return sympy.Min(*vals) if self.side == "upper" else sympy.Max(*vals)


def _float_at(formula: sympy.Expr, point: sympy.Expr) -> float | None:
    """The float of ``formula`` at ``t = point`` from a ball of 2·``FLOAT_PREC`` bits, when the ball is finite
    and narrower than a float's rounding; None otherwise (undefined, complex, symbolic or cancelling values:
    the caller then takes the exact route of :func:`endpoint_value`). Why: the values table needs floats, and
    SymPy's exact substitution and realness test take ~50 ms per piece on the larger closed forms, while the
    ball takes ~1 ms and rounds to the same float."""
    if formula.free_symbols - {t}:
        return None
    ball = balls.enclose(formula.xreplace({t: point}), prec=FLOAT_PREC)
    if ball is None:
        return None
    mid, rad = float(ball.mid()), float(ball.rad())
    if not math.isfinite(mid) or rad > 2.0**-60 * abs(mid):
        return None
    return mid


#: The working precision (bits) of :func:`_float_at`: far more than a float's 53, so the midpoint rounds to
#: the float of the exact value (up to a tie at the last bit).
FLOAT_PREC = 128


def _compare(x: sympy.Expr, e: sympy.Expr) -> int | None:
    """The sign of ``x − e`` for exact numbers: exactly for rationals (a Float end is the rational it is),
    else by a ball excluding 0, else SymPy's exact zero test; None when undecided."""
    x, e = located(x), located(e)
    if isinstance(x, sympy.Rational) and isinstance(e, sympy.Rational):
        return 1 if x > e else -1 if x < e else 0
    ball = balls.enclose(x - e)
    if ball is not None and ball > 0:
        return 1
    if ball is not None and ball < 0:
        return -1
    return 0 if (x - e).is_zero else None


def contains(s: sympy.Set, x: Any, tol: float = 1e-25) -> bool | None:
    """Whether the number x lies in s (open ends respected); None if undecidable. An exact SymPy number is
    compared exactly (:func:`_compare`); an mpmath number (a cell midpoint) with ends compared to ``tol``."""
    if isinstance(x, sympy.Basic):
        return _contains_exact(s, x)
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
        res = [contains(a, x, tol) for a in s.args]
        return True if any(r is True for r in res) else (None if any(r is None for r in res) else False)
    if isinstance(s, sympy.FiniteSet):
        return any(abs(x - mpmath.mpf(sympy.N(p, DPS))) <= tol for p in s if p.is_number)
    if s is sympy.S.EmptySet:
        return False
    return None


def _contains_exact(s: sympy.Set, x: sympy.Expr) -> bool | None:
    if isinstance(s, sympy.Interval):
        if not (s.inf.is_number and s.sup.is_number):
            return None
        lo, hi = _compare(x, s.inf), _compare(x, s.sup)
        if lo is None or hi is None:
            return None
        return (lo > 0 or (lo == 0 and not s.left_open)) and (hi < 0 or (hi == 0 and not s.right_open))
    if isinstance(s, sympy.Union):
        res = [_contains_exact(a, x) for a in s.args]
        return True if any(r is True for r in res) else (None if any(r is None for r in res) else False)
    if isinstance(s, sympy.FiniteSet):
        return any(_compare(x, p) == 0 for p in s if p.is_number)
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
    if not _better_formula(i.side, i.general, j.general):
        return False
    return j.interval.is_subset(i.interval) is True


@lru_cache(maxsize=4096)
def _better_formula(side: str, gi: sympy.Expr, gj: sympy.Expr) -> bool:
    # A sign question about placeholder formulas only: the same for every schedule, so cached across them.
    d = sympy.cancel(gj - gi) if side == "upper" else sympy.cancel(gi - gj)
    return d == 0 or sign(d) in (">", ">=")


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
        # Symbolic parameters: each piece guarded by the condition under which it holds, so the combination
        # is correct for every parameter value it admits (a piece that fails for some values gives ±oo there).
        expr = _combine(side, [p.guarded for p in kept])
        interval = sympy.Union(*(p.interval for p in kept))
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
        a, b = mpmath.mpf(sympy.N(lo, DPS)), mpmath.mpf(sympy.N(hi, DPS))
        mid = (a + b) / 2
        valid = tuple(k for k, p in enumerate(kept) if contains(p.interval, mid))
        # No two pieces cross inside a cell, so any interior point ranks them. A formula may be 0/0 at the
        # midpoint (a schedule with a removable singularity there, (1 - t) sin(t - 1/2)/(t - 1/2)): then
        # the next sample point.
        vals: dict = {}
        for x in (mid, a + (b - a) * 3 / 7, a + (b - a) * 4 / 7):
            vals = {k: mp_value(kept[k].formula, x) for k in valid}
            vals = {k: v for k, v in vals.items() if not mpmath.isnan(v)}
            if len(vals) == len(valid):
                break
        active = best(vals, key=lambda k: vals[k]) if vals else None
        cells.append(Cell(lo, hi, valid, active))
    # The expression: one entry per point and per cell, then consecutive equal entries merged.
    entries: list[tuple[sympy.Expr, sympy.Basic]] = []
    for k, c in enumerate(cells):
        x = mpmath.mpf(sympy.N(c.lo, DPS))
        at = [p.formula for p in kept if contains(p.interval, x)]
        entries.append((_combine(side, at), t <= c.lo))
        entries.append((_combine(side, [kept[i].formula for i in c.valid]), t < c.hi))
    at1 = [p.formula for p in kept if contains(p.interval, mpmath.mpf(1))]
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
