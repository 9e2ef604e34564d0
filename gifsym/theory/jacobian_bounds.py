r"""Two-sided bounds on the Jacobian of the velocity and the Lipschitz constant θ_t (math.md §5).

The bounds come from the lemma graph: the combining lemmas ``jacobian-upper`` and ``jacobian-lower`` take
the envelope (:mod:`gifsym.theory.envelopes`) of every bound lemma that applies to the flow, and
``lipschitz`` gives θ_t. The registry of lemmas is injected (:func:`gifsym.theory.bounds` passes gifsym's
library); this module knows no particular bound.

Example:
    >>> from gifsym import GIF, schedule, target
    >>> b = GIF(schedule("linear"), target("slc:kappa=2+slcvx:beta=4")).bounds()
    >>> b.upper, b.lower
    ((3*t - 2)/(t**2 + 2*(1 - t)**2), (5*t - 4)/(t**2 + 4*(1 - t)**2))
    >>> b.interval
    Interval(0, 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import sympy

from gifsym.errors import AssumptionError, GifsymError, shown
from gifsym.symbolic.flow import Flow
from gifsym.symbolic.printing import latex_expr as _latex
from gifsym.symbolic.schedule import Schedule
from gifsym.symbolic.target import Target
from gifsym.theory.envelopes import BoundPiece, Envelope

if TYPE_CHECKING:
    from gifsym.theory.engine import Registry

_ZERO, _ONE = sympy.Integer(0), sympy.Integer(1)
_UNIT = sympy.Interval(0, 1)


def time_point(t0: Any) -> sympy.Rational:
    """A time in [0, 1] as an exact SymPy number: ints, floats (their shortest decimal: 0.1 is 1/10), NumPy
    and SymPy reals, and strings in the safe grammar (:func:`gifsym.symbolic.expr.parse_number`; never
    ``sympify``). NaN, infinities, complex values and anything else are refused.

    Example:
        >>> time_point("1/4"), time_point(0.5)
        (1/4, 1/2)
    """
    from gifsym.symbolic.schedule import real_number

    v = real_number("t", t0)
    if v.free_symbols or not (v.is_number and v.is_real):
        raise GifsymError(f"time t={shown(t0)} must be a real number in [0, 1]")
    inside = (sympy.Ge(v, 0), sympy.Le(v, 1))  # SymPy may not decide one (erf(1001) <= 1): never bool() it
    if sympy.false in inside:
        raise GifsymError(f"time t={shown(t0)} must be a real number in [0, 1]")
    if not all(c is sympy.true for c in inside):
        raise GifsymError(f"time t={shown(t0)}: cannot decide whether it lies in [0, 1]; give it as a decimal or a "
                          "fraction")
    return v


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

    def at(self, t0: Any, *, exact: bool = False) -> dict[str, Any]:
        """``{"t", "upper", "lower", "lipschitz"}`` at one time ``t0`` in [0, 1] (an int, float, NumPy or
        SymPy real number, or a string parsed by :func:`gifsym.symbolic.expr.parse_number`): floats
        (``±inf`` where no bound holds), or SymPy expressions when symbolic parameters remain. With
        ``exact=True`` every value is the exact SymPy number (``oo`` / ``-oo`` where no bound holds).

        Raises:
            GifsymError: ``t0`` is not a real number in [0, 1].
        """
        point = time_point(t0)
        u = self.upper_envelope.value_at(point, exact=exact)
        l = self.lower_envelope.value_at(point, exact=exact)
        if isinstance(u, float) and isinstance(l, float):
            th = max(u, -l)
        else:
            th = sympy.Max(u, -l)
        return {"t": point if exact else float(point), "upper": u, "lower": l, "lipschitz": th}

    def values(self, times: Any, *, exact: bool = False) -> list[dict[str, Any]]:
        """:meth:`at` for each time."""
        return [self.at(x, exact=exact) for x in times]

    def to_latex(self) -> str:
        lines = [r"\begin{aligned}",
                 rf"u_t &= {_latex(self.upper)} \\",
                 rf"\ell_t &= {_latex(self.lower)} \\",
                 rf"\theta_t &= {_latex(self.lipschitz)}",
                 r"\end{aligned}",
                 rf"\quad t \in {_latex(self.interval)}"]
        return "\n".join(lines)


def interval_text(s: sympy.Set) -> str:
    """A time set as people write it: ``[0, 1)``, ``(-1 + sqrt(2), 1]``, unions with ``∪``.

    Example:
        >>> interval_text(sympy.Interval.Ropen(0, 1))
        '[0, 1)'
    """
    if isinstance(s, sympy.Interval):
        return f"{'(' if s.left_open else '['}{s.start}, {s.end}{')' if s.right_open else ']'}"
    if isinstance(s, sympy.Union):
        return " ∪ ".join(interval_text(a) for a in s.args)
    return str(s)


def lemma_names(reg: Any, seeds: list[str], pieces: tuple[BoundPiece, ...]) -> tuple[str, ...]:
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
        if p.implied_by is not None:
            for n in reg.implying(p.implied_by):
                add(n)
    return tuple(n for n in reg.names() if n in names)


def bounds(flow: Any, *, registry: Registry, assume: tuple[str, ...] = ()) -> Bounds:
    """Every upper and lower bound on ``∇_x v`` that applies to the flow, combined, with θ_t.

    Args:
        flow: the flow (a :class:`~gifsym.symbolic.flow.Flow`, e.g. a :class:`gifsym.GIF`).
        registry: the lemma registry to derive from (:func:`gifsym.theory.bounds` passes gifsym's library;
            tests pass modified ones).
        assume: assumption ids to take as given in addition to those proved (e.g. ``("S-mono",)`` for a
            custom schedule the checker could not decide).

    Raises:
        AssumptionError: the schedule assumptions the key identity needs are not proved, or ``assume``
            names one the checker proved violated.

    Example:
        >>> from gifsym import GIF, lemmas, schedule, target
        >>> b = bounds(GIF(schedule("linear"), target("ball:R=1")), registry=lemmas.registry())
        >>> b.interval
        Interval.Ropen(0, 1)
    """
    from gifsym.theory.engine import check_assume

    check_assume(flow.schedule, assume)
    return _bounds(flow.schedule, flow.target, registry, frozenset(assume))


@lru_cache(maxsize=512)
def _bounds(schedule: Schedule, target: Target, reg: Any, assume: frozenset[str]) -> Bounds:
    gif = Flow(schedule, target)
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
            notes.append(f"{p.label} ({p.side}) holds on {interval_text(p.interval)} only")
    for p, why in upper.dropped + lower.dropped:
        notes.append(f"{p.label} ({p.side}) is not used: {why}")
    interval = sympy.Intersection(upper.interval, lower.interval) if not upper.empty else sympy.S.EmptySet
    kept = upper.pieces + lower.pieces
    return Bounds(schedule, target, upper.expr, lower.expr, theta, interval, upper.interval, lower.interval,
                  pieces, upper, lower, lemma_names(reg, seeds, kept), tuple(notes))


__all__ = ["Bounds", "bounds", "interval_text", "lemma_names"]
