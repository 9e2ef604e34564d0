r"""Flow-map Lipschitz constants and well-posedness of a flow (math.md §6), from the lemma graph.

``well-posed``, ``flow-map-lipschitz`` and ``reverse-flow-map-lipschitz`` are derived from the Jacobian
bounds (:mod:`gifsym.theory.jacobian_bounds`) by integrating their envelopes
(:mod:`gifsym.theory.flow_constants`). The registry is injected, as for the bounds.

Example:
    >>> from gifsym import GIF, schedule, target
    >>> GIF(schedule("linear"), target("slc:kappa=2+slcvx:beta=4")).flow_map_lipschitz().forward.value
    sqrt(2)/2
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import sympy

from gifsym.symbolic.flow import Flow
from gifsym.symbolic.printing import latex_expr as _latex
from gifsym.symbolic.schedule import Schedule
from gifsym.symbolic.target import Target
from gifsym.theory.flow_constants import FlowConstant, T, WellPosedness, flow_constant
from gifsym.theory.jacobian_bounds import bounds, lemma_names

if TYPE_CHECKING:
    from gifsym.theory.engine import Registry


@dataclass(frozen=True)
class FlowMapBounds:
    r"""Lipschitz constants of the flow map ``X_{0,1}`` (noise → data) and of its inverse ``X_{1,0}``.

    Attributes:
        schedule, target: the flow.
        forward: ``Lip(X_{0,1}) ≤ exp ∫_0^1 u_t dt`` (:class:`FlowConstant`).
        reverse: ``Lip(X_{1,0}) ≤ exp(−∫_0^1 ℓ_t dt)``.
        interval: where the flow is well posed (``[0, 1)`` means on [0, T] for every T < 1).
        well_posed: the full well-posedness result (with its condition on symbolic parameters), or None
            when the lemma does not apply (e.g. S-smooth not proved).
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
    well_posed: WellPosedness | None = None

    @property
    def note(self) -> str:
        return " ".join(self.notes)

    def to_latex(self) -> str:
        return (rf"\operatorname{{Lip}}(X_{{0,1}}) \le {self.forward.to_latex()}, \qquad "
                rf"\operatorname{{Lip}}(X_{{1,0}}) \le {self.reverse.to_latex()}, \qquad "
                rf"\text{{well posed on }} {_latex(self.interval)}")


def flow_map_lipschitz(flow: Any, *, registry: Registry, assume: tuple[str, ...] = ()) -> FlowMapBounds:
    """Forward and reverse flow-map Lipschitz constants with the well-posedness interval.

    Example:
        >>> from gifsym import GIF, lemmas, schedule, target
        >>> flow = GIF(schedule("trigonometric"), target("gaussian:sigma=0.5"))
        >>> fm = flow_map_lipschitz(flow, registry=lemmas.registry())
        >>> fm.forward.value, fm.reverse.value
        (1/2, 2)
    """
    from gifsym.theory.engine import check_assume

    check_assume(flow.schedule, assume)
    return _flow_map(flow.schedule, flow.target, registry, frozenset(assume))


@lru_cache(maxsize=512)
def _flow_map(schedule: Schedule, target: Target, reg: Any, assume: frozenset[str]) -> FlowMapBounds:
    gif = Flow(schedule, target)
    b = bounds(gif, registry=reg, assume=tuple(assume))
    found = {n: reg.try_derive(n, gif, assume=assume)
             for n in ("well-posed", "flow-map-lipschitz", "reverse-flow-map-lipschitz")}
    wp, fwd, rev = found.values()
    notes = []
    # The constants bound the flow maps if the flow exists. Where well-posedness is not established (no
    # upper bound, θ not integrable, S-smooth not proved) they are still computed from the envelopes, and
    # reported as conditional on it: never as unconditional, never as +oo.
    established = wp is not None and wp.established
    envs = {"forward": b.upper_envelope, "reverse": b.lower_envelope}
    out = {}
    for name, c, lemma in (("forward", fwd, "flow-map-lipschitz"), ("reverse", rev, "reverse-flow-map-lipschitz")):
        env = envs[name]
        if c is None:
            c = (flow_constant(env, schedule, name) if not env.empty else
                 FlowConstant(sympy.oo, method="not applicable", reason=reg.why_not(lemma, gif, assume=assume)))
        if c.finite and not established:
            cond = _well_posed_condition(wp)
            c = replace(c, conditional_on="well-posed", condition=cond)
        out[name] = c
    fwd, rev = out["forward"], out["reverse"]
    interval = wp.interval if wp is not None else sympy.S.EmptySet
    for name, c in (("forward", fwd), ("reverse", rev)):
        if c.endpoint_formula is not None:
            notes.append(f"the {name} constant depends on the schedule only through (a_0, b_0): "
                         f"{c.endpoint_formula}")
        if not c.finite and c.reason:
            notes.append(f"the {name} constant is unbounded: {c.reason}")
        if c.conditional_on:
            why = (reg.why_not("well-posed", gif, assume=assume) if wp is None else wp.reason)
            notes.append(f"the {name} constant holds if the flow is well posed on [0, 1], which is not "
                         f"established ({why})")
    seeds = [n for n, v in found.items() if v is not None]
    names = lemma_names(reg, seeds + list(b.lemmas), ())
    return FlowMapBounds(schedule, target, fwd, rev, interval, T, names, tuple(notes), wp)


def _well_posed_condition(wp: Any) -> sympy.Basic:
    """The condition on the parameters under which the flow is well posed on [0, T] for every T < 1 (an
    interval [0, 1) or [0, 1] of a case of ``wp``): the constants are sup over T < 1 of the bounds on
    [0, T], so they hold under it. A case on [0, 1) counts: ``linear`` with ``slc:kappa`` is well posed
    on [0, 1) for kappa > 0 (the constant 1/sqrt(kappa) holds there), not only where [0, 1] is shown.

    Example:
        >>> from types import SimpleNamespace
        >>> k = sympy.Symbol("kappa", real=True)
        >>> _well_posed_condition(SimpleNamespace(cases=((sympy.Interval.Ropen(0, 1), k > 0),
        ...                                              (sympy.S.EmptySet, sympy.true))))
        kappa > 0
    """
    ropen = sympy.Interval.Ropen(0, 1)
    conds = [k for i, k in (wp.cases if wp is not None else ()) if ropen.is_subset(i) is True]
    return sympy.Or(*conds) if conds else sympy.false


__all__ = ["FlowMapBounds", "flow_map_lipschitz"]
