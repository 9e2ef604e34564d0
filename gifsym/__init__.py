"""gifsym: a symbolic-numeric derivation engine for Gaussian interpolation flows.

``X_t = a_t Z + b_t X_1`` with noise at t = 0 and data at t = 1. The symbolic layer (schedules, targets,
velocity fields, bounds, lemmas, LaTeX) imports without JAX; the numerics (``field``, ``simulate``,
``verify``) import JAX on first use.

Example:
    >>> import gifsym
    >>> flow = gifsym.GIF(gifsym.schedule("linear"), gifsym.target("gaussian:sigma=1"))
    >>> flow.velocity()
    Matrix([[x_1*(2*t - 1)/(2*t**2 - 2*t + 1)]])
"""

from __future__ import annotations

import importlib

from gifsym.errors import GifsymError
from gifsym.schedule import Schedule, schedule, t
from gifsym.target import Target, target
from gifsym.velocity import GIF

__version__ = "0.1.0"

# Loaded on first use: `lemmas` builds a graph, `verify` imports JAX, `to_latex` is light but lives with
# the report writer. Nothing here does work at import time.
_LAZY = {
    "lemmas": ("gifsym.lemmas", None),
    "verify": ("gifsym.verify", "verify"),
    "to_latex": ("gifsym.latex", "to_latex"),
}


def __getattr__(name: str):
    if name in _LAZY:
        module, attr = _LAZY[name]
        mod = importlib.import_module(module)
        return mod if attr is None else getattr(mod, attr)
    raise AttributeError(f"module 'gifsym' has no attribute {name!r}")


__all__ = ["GIF", "GifsymError", "Schedule", "Target", "lemmas", "schedule", "t", "target", "to_latex", "verify"]
