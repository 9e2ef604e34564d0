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

Importing gifsym does no work and does not import JAX; the numerics load on first use.

Example:
    >>> import gifsym
    >>> flow = gifsym.GIF(gifsym.schedule("linear"), gifsym.target("gaussian:sigma=1"))
    >>> flow.velocity()
    Matrix([[x_1*(2*t - 1)/(2*t**2 - 2*t + 1)]])
"""

from __future__ import annotations

from gifsym import convert
from gifsym.errors import GifsymError
from gifsym.gif import GIF
from gifsym.output.latex import to_latex
from gifsym.symbolic.compact import compact
from gifsym.symbolic.schedule import Schedule, schedule, t
from gifsym.symbolic.target import Target, target
from gifsym.theory import lemmas
from gifsym.version import __version__


def __getattr__(name: str):
    # `gifsym.verify` / `gifsym.certify` are the numerics layer's; that layer imports JAX, so they load on
    # first use.
    if name == "verify":
        from gifsym.numerics.verify import verify

        return verify
    if name in ("design", "Design"):
        # the decisions layer (schedule design) uses the numerics for some objectives
        from gifsym.decisions import design as module

        return getattr(module, name)
    if name == "certify":
        from gifsym.numerics.certify import certify

        return certify
    if name in ("plan", "Plan"):  # sampler plans (gifsym.decisions), loaded on first use like the numerics
        from gifsym.decisions import plan as _plan

        return getattr(_plan, name)
    raise AttributeError(f"module 'gifsym' has no attribute {name!r}")


__all__ = ["GIF", "Design", "GifsymError", "Plan", "Schedule", "Target", "__version__", "certify", "compact",
           "convert", "design", "lemmas", "plan", "schedule", "t", "target", "to_latex", "verify"]
