r"""The lemma graph: results of math.md §4–7 as data, their dependencies, and their derivation for a flow.

A :class:`Lemma` is data: a name, a kind (definition / lemma / proposition / theorem), a LaTeX statement,
the assumption ids it needs directly (schedule assumptions ``S-*`` and target classes ``T-*``), the lemmas
it ``uses`` (all needed) and the lemmas it may combine (``any_of``: at least one needed; its derive
function sees those that apply), and either a small pure ``derive(ctx, deps)`` that produces its formula
for a flow from the formulas of the lemmas it declares, or a stated ``formula`` (a cited result, taken as
given). The engine (:mod:`gifsym.theory.engine`) knows no particular lemma; this module serves gifsym's library
(:mod:`gifsym.theory.library`) through it.

* :func:`graph` — a ``networkx.DiGraph`` (edge ``u → v`` when ``v`` uses ``u``), built and validated at first
  use; a malformed library (unknown names or assumption ids, cycles, bad kinds) raises
  :class:`~gifsym.errors.GraphError` listing every problem.
* :func:`requires` — the assumption ids every flow needs for a lemma: the union of the direct assumptions
  of the lemma and of its ancestors along ``uses`` edges (for a lemma with alternatives, ``any_of``, what all
  of them require). It also needs one of its alternatives; :func:`alternatives` lists them with their own
  requirements.
* :func:`applicable` — the lemmas whose assumptions a flow satisfies (schedule assumptions proved by the
  core's checker, target classes declared or implied), in dependency order.
* :func:`status` — computed, never stored: ``derived`` (a derive function obtains it from what it uses),
  ``numerically checked`` (no derivation, but a numerical check is registered for it, see
  :func:`register_check`), ``stated`` (taken as given: definitions and cited theorems).
* :func:`derive` — the lemma's formula for a flow. The derive function receives a mapping of the formulas
  of the lemmas it declares, and nothing else: reading any other name raises
  :class:`~gifsym.errors.LemmaError`.

Example:
    >>> from gifsym import lemmas
    >>> sorted(lemmas.requires("bound-slc"))
    ['S-end', 'S-mono', 'S-pos', 'T-slc']
    >>> lemmas.status("brascamp-lieb"), lemmas.status("bound-slc")
    ('stated', 'derived')
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from gifsym.theory.engine import (
    ASSUMPTION_IDS,
    KIND_SHAPES,
    KINDS,
    STATUS_COLOURS,
    STATUSES,
    Check,
    Context,
    Deps,
    Lemma,
    Registry,
    register_check,
    unregister_check,
)
from gifsym.theory.library import LEMMAS

if TYPE_CHECKING:  # imported where used: a run answered from the cache never needs networkx
    import networkx as nx

# ---------------------------------------------------------------------------------------------------------
# The default registry (gifsym's library), built at first use.


@lru_cache(maxsize=1)
def registry() -> Registry:
    """The registry of :mod:`gifsym.theory.library`, validated."""
    reg = Registry(LEMMAS)
    reg.validate()
    return reg


def graph() -> nx.DiGraph:
    """The lemma graph (see :meth:`Registry.graph`)."""
    return registry().graph()


def get(name: str) -> Lemma:
    """The lemma called ``name``."""
    return registry().get(name)


lemma = get


def names() -> tuple[str, ...]:
    """Every lemma name in dependency order."""
    return registry().names()


def requires(name: str) -> frozenset[str]:
    """The assumption ids every flow needs for ``name`` (see :meth:`Registry.requires`)."""
    return registry().requires(name)


def alternatives(name: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """The alternatives of a combining lemma and what each requires."""
    return registry().alternatives(name)


def applicable(gif: Any, *, assume: Iterable[str] = ()) -> list[str]:
    """The lemmas that hold for ``gif``, in dependency order."""
    return registry().applicable(gif, assume=assume)


def status(name: str) -> str:
    """``derived``, ``numerically checked`` or ``stated``."""
    return registry().status(name)


def derive(name: str, gif: Any = None, *, assume: Iterable[str] = ()) -> Any:
    """The formula of lemma ``name`` for the flow ``gif``."""
    return registry().derive(name, gif, assume=assume)


def to_dot(*, gif: Any = None, reduced: bool = True) -> str:
    """The graph as Graphviz DOT text."""
    return registry().to_dot(gif=gif, reduced=reduced)


def draw(path: str | os.PathLike, *, gif: Any = None, reduced: bool = True) -> str:
    """Write the graph drawing to ``path`` (.dot, .svg, .png, .pdf)."""
    return registry().draw(path, gif=gif, reduced=reduced)


__all__ = [
    "ASSUMPTION_IDS",
    "KINDS",
    "KIND_SHAPES",
    "STATUSES",
    "STATUS_COLOURS",
    "Check",
    "Context",
    "Deps",
    "Lemma",
    "Registry",
    "alternatives",
    "applicable",
    "derive",
    "draw",
    "get",
    "graph",
    "lemma",
    "names",
    "register_check",
    "registry",
    "requires",
    "status",
    "to_dot",
    "unregister_check",
]
