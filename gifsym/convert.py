"""``gifsym.convert``: peers' conventions, parameterisations, schedule transfer and σ_min paths.

The code lives in the symbolic layer, :mod:`gifsym.symbolic.convert`; this module is its public name, so that
``from gifsym.convert import from_peer`` works. Importing it imports no peer library, no torch and no JAX.
"""

from __future__ import annotations

from gifsym.symbolic.convert import *
from gifsym.symbolic.convert import __all__  # noqa: F401
