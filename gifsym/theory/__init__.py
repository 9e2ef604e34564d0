r"""The theory layer: the lemma engine and gifsym's library of results, Jacobian bounds, flow-map
constants, well-posedness and stability (math.md §5–7).

Modules, from the bottom up: :mod:`~gifsym.theory.integrals` (integrals, limits and signs of
expressions in t), :mod:`~gifsym.theory.engine` (lemmas as data, the registry and graph),
:mod:`~gifsym.theory.envelopes` (bound pieces and their envelopes), :mod:`~gifsym.theory.flow_constants`
(integrals of envelopes, flow-map constants, well-posedness), :mod:`~gifsym.theory.jacobian_bounds` and
:mod:`~gifsym.theory.flow_maps` (the results for a flow, from an injected registry),
:mod:`~gifsym.theory.library` (the results of the theory as lemma data), :mod:`~gifsym.theory.lemmas`
(the library's registry and graph) and :mod:`~gifsym.theory.stability`.

:func:`bounds` and :func:`flow_map_lipschitz` below derive from gifsym's library unless another
registry is passed.

Example:
    >>> from gifsym import schedule, target
    >>> from gifsym.symbolic.flow import Flow
    >>> bounds(Flow(schedule("linear"), target("ball:R=1"))).interval
    Interval.Ropen(0, 1)
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gifsym.theory import flow_maps, jacobian_bounds, lemmas
from gifsym.theory.flow_maps import FlowMapBounds
from gifsym.theory.jacobian_bounds import Bounds


def _as_gif(flow: Any) -> tuple[Any, tuple[str, ...]]:
    """A σ_min path (``a_1 > 0``, S-end violated) is read as the GIF of the smoothed target it is
    (:mod:`gifsym.symbolic.convert.sigma_min`); the note says so. Other flows are returned unchanged."""
    from gifsym.symbolic.convert.sigma_min import equivalent_flow

    new, path = equivalent_flow(flow)
    return new, (() if path is None else (path.describe() + "; these results are for that GIF",))


def bounds(flow: Any, *, registry: Any = None, assume: tuple[str, ...] = ()) -> Bounds:
    """Every bound on ``∇_x v`` that applies to the flow, combined, with θ_t (see
    :func:`gifsym.theory.jacobian_bounds.bounds`); ``registry`` defaults to gifsym's library, whose
    results are also kept in the on-disk cache (:mod:`gifsym.store`). A σ_min path gets the bounds of its
    equivalent GIF (with a note)."""
    flow, notes = _as_gif(flow)
    if registry is not None:
        b = jacobian_bounds.bounds(flow, registry=registry, assume=assume)
    else:
        b = _library("bounds", flow, assume)
    return replace(b, notes=notes + b.notes) if notes else b


def flow_map_lipschitz(flow: Any, *, registry: Any = None, assume: tuple[str, ...] = ()) -> FlowMapBounds:
    """Forward and reverse flow-map Lipschitz constants with the well-posedness interval (see
    :func:`gifsym.theory.flow_maps.flow_map_lipschitz`); ``registry`` defaults to gifsym's library, whose
    results are also kept in the on-disk cache. A σ_min path gets the constants of its equivalent GIF
    (with a note)."""
    flow, notes = _as_gif(flow)
    if registry is not None:
        fm = flow_maps.flow_map_lipschitz(flow, registry=registry, assume=assume)
    else:
        fm = _library("flow-map", flow, assume)
    return replace(fm, notes=notes + fm.notes) if notes else fm


def source_stability(flow: Any, *, assume: tuple[str, ...] = ()) -> Any:
    """Source stability of ``flow`` from gifsym's library (:func:`gifsym.theory.stability.source_stability`
    with ``w2`` and ``second_moment`` left symbolic), kept in the on-disk cache like the bounds.

    Raises:
        AssumptionError: the flow has no forward flow-map constant.
    """
    return _library("source-stability", flow, assume)


def _result_types() -> dict[str, type]:
    """Every dataclass a stored result may contain (a stored result naming another type does not load)."""
    from gifsym.theory.envelopes import BoundPiece, Cell, Envelope
    from gifsym.theory.flow_constants import EnvelopeIntegral, FlowConstant, WellPosedness
    from gifsym.theory.stability import SourceStability

    return {c.__name__: c for c in (Bounds, FlowMapBounds, BoundPiece, Cell, Envelope, EnvelopeIntegral,
                                    FlowConstant, WellPosedness, SourceStability)}


#: Results of gifsym's library already derived in this process, by (kind, schedule, target, assumptions).
_derived: dict[tuple[Any, ...], Any] = {}


def _library(kind: str, flow: Any, assume: tuple[str, ...]) -> Any:
    """The result of ``kind`` ("bounds", "flow-map" or "source-stability") from gifsym's library: from this
    process's memo, the disk cache, or derived. A result that a time or memory budget cut short is kept
    nowhere, so a later call can still get the full answer."""
    from gifsym import budget, store
    from gifsym.symbolic.flow import Flow

    assume = tuple(sorted(assume))
    k = (kind, flow.schedule, flow.target, assume)
    found = _derived.get(k)
    if found is not None:
        return found
    from gifsym.theory import stability

    derive = {"bounds": jacobian_bounds.bounds, "flow-map": flow_maps.flow_map_lipschitz,
              "source-stability": stability.source_stability}[kind]
    before = budget.exceeded_count()
    result = store.cached(kind, {"schedule": flow.schedule, "target": flow.target, "assume": assume},
                          _result_types(),
                          lambda: derive(Flow(flow.schedule, flow.target), registry=lemmas.registry(), assume=assume))
    if budget.exceeded_count() == before:
        _derived[k] = result
    return result


__all__ = ["Bounds", "FlowMapBounds", "bounds", "flow_map_lipschitz", "lemmas", "source_stability"]
