"""gifsym: a symbolic-numeric derivation engine for Gaussian interpolation flows.

``X_t = a_t Z + b_t X_1`` with noise at t = 0 and data at t = 1. The package is layered; each layer
imports only the ones below it (enforced by import-linter, see ``pyproject.toml``):

* :mod:`gifsym.cli` — the click commands;
* :mod:`gifsym.gif` (the :class:`GIF` facade) and :mod:`gifsym.output` (LaTeX, reports, plots);
* :mod:`gifsym.decisions` — sampler plans (theory and numerics combined);
* :mod:`gifsym.numerics` — JAX fields, simulation, oracles, verification (the only layer importing JAX);
* :mod:`gifsym.theory` — the lemma engine and library, bounds, flow-map constants, stability;
* :mod:`gifsym.symbolic` — expressions, proofs, schedules, targets, the exact objects of a flow, and
  :mod:`gifsym.convert` (peers' conventions, parameterisations, schedule transfer, σ_min paths);
* :mod:`gifsym.errors`, :mod:`gifsym.io`, :mod:`gifsym.version` — shared by all.

Importing gifsym does no work and imports neither SymPy nor JAX; everything loads on first use.

Example:
    >>> import gifsym
    >>> flow = gifsym.GIF(gifsym.schedule("linear"), gifsym.target("gaussian:sigma=1"))
    >>> flow.velocity()
    Matrix([[x_1*(2*t - 1)/(2*t**2 - 2*t + 1)]])
"""

from __future__ import annotations

import importlib

from gifsym.version import __version__

#: Public name -> "module:attribute" (attribute empty for a module). They load on first use, so that
#: ``import gifsym`` (and the ``gifsym`` command, which installs its Ctrl-C handling first) imports no SymPy.
_LAZY = {
    "GIF": "gifsym.gif:GIF",
    "GifsymError": "gifsym.errors:GifsymError",
    "Schedule": "gifsym.symbolic.schedule:Schedule",
    "Target": "gifsym.symbolic.target:Target",
    "certify": "gifsym.decisions.end_to_end:certify",  # exact flow (numerics, JAX) or a sampler (with plan)
    "compact": "gifsym.symbolic.compact:compact",
    "convert": "gifsym.convert:",
    "distributed": "gifsym.numerics.distributed:",  # multi-process runs; JAX loads only when initialize runs
    "lemmas": "gifsym.theory.lemmas:",
    "schedule": "gifsym.symbolic.schedule:schedule",
    "t": "gifsym.symbolic.schedule:t",
    "target": "gifsym.symbolic.target:target",
    "to_latex": "gifsym.output.latex:to_latex",
    "verify": "gifsym.numerics.verify:verify",
    # the decisions layer (sampler plans, schedule design) combines theory and numerics
    "Design": "gifsym.decisions.design:Design",
    "design": "gifsym.decisions.design:design",
    "Plan": "gifsym.decisions.plan:Plan",
    "plan": "gifsym.decisions.plan:plan",
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'gifsym' has no attribute {name!r}")
    module, _, attr = _LAZY[name].partition(":")
    value = importlib.import_module(module)
    return getattr(value, attr) if attr else value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["GIF", "Design", "GifsymError", "Plan", "Schedule", "Target", "__version__", "certify", "compact",
           "convert", "design", "distributed", "lemmas", "plan", "schedule", "t", "target", "to_latex", "verify"]
