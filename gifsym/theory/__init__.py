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

from functools import lru_cache
from typing import Any

from gifsym.theory import flow_maps, jacobian_bounds, lemmas
from gifsym.theory.flow_maps import FlowMapBounds
from gifsym.theory.jacobian_bounds import Bounds


def bounds(flow: Any, *, registry: Any = None, assume: tuple[str, ...] = ()) -> Bounds:
    """Every bound on ``∇_x v`` that applies to the flow, combined, with θ_t (see
    :func:`gifsym.theory.jacobian_bounds.bounds`); ``registry`` defaults to gifsym's library, whose
    results are also kept in the on-disk cache (:mod:`gifsym.store`)."""
    if registry is not None:
        return jacobian_bounds.bounds(flow, registry=registry, assume=assume)
    return _library_bounds(flow.schedule, flow.target, tuple(sorted(assume)))


def flow_map_lipschitz(flow: Any, *, registry: Any = None, assume: tuple[str, ...] = ()) -> FlowMapBounds:
    """Forward and reverse flow-map Lipschitz constants with the well-posedness interval (see
    :func:`gifsym.theory.flow_maps.flow_map_lipschitz`); ``registry`` defaults to gifsym's library, whose
    results are also kept in the on-disk cache."""
    if registry is not None:
        return flow_maps.flow_map_lipschitz(flow, registry=registry, assume=assume)
    return _library_flow_map(flow.schedule, flow.target, tuple(sorted(assume)))


def _result_types() -> dict[str, type]:
    from gifsym.theory.envelopes import BoundPiece, Cell, Envelope
    from gifsym.theory.flow_constants import FlowConstant

    return {c.__name__: c for c in (Bounds, FlowMapBounds, BoundPiece, Cell, Envelope, FlowConstant)}


@lru_cache(maxsize=512)
def _library_bounds(schedule: Any, target: Any, assume: tuple[str, ...]) -> Bounds:
    from gifsym import store
    from gifsym.symbolic.flow import Flow

    def compute() -> Bounds:
        return jacobian_bounds.bounds(Flow(schedule, target), registry=lemmas.registry(), assume=assume)

    return store.cached("bounds", {"schedule": schedule, "target": target, "assume": assume}, _result_types(),
                        compute)


@lru_cache(maxsize=512)
def _library_flow_map(schedule: Any, target: Any, assume: tuple[str, ...]) -> FlowMapBounds:
    from gifsym import store
    from gifsym.symbolic.flow import Flow

    def compute() -> FlowMapBounds:
        return flow_maps.flow_map_lipschitz(Flow(schedule, target), registry=lemmas.registry(), assume=assume)

    return store.cached("flow-map", {"schedule": schedule, "target": target, "assume": assume},
                        _result_types(), compute)


__all__ = ["Bounds", "FlowMapBounds", "bounds", "flow_map_lipschitz", "lemmas"]
