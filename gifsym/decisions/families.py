r"""The best member of a one-parameter schedule family for a target: SD3/FLUX's shift, EDM's ρ.

For each parameter value on a grid the objective of :mod:`gifsym.decisions.objectives` is evaluated
(``lipschitz``: sup_t θ_t; ``lipschitz-sq``: ∫ E‖∇v_t‖_F² dt, exact targets), and the best value is refined
by a bounded scalar search between its grid neighbours (in the log of the parameter). Every number is an
estimate (dense-grid evaluation).

Example:
    >>> from gifsym import target
    >>> best = best_parameter(target("gaussian:sigma=1/2"), family="sd3", values=(1, 2))
    >>> best.spec, best.objective_values
    ('sd3:shift=1', (1.25, 2.0))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gifsym.decisions import objectives
from gifsym.errors import GifsymError
from gifsym.symbolic.schedule import schedule
from gifsym.symbolic.target import Target

#: family -> (parameter, default grid of values)
FAMILIES = {
    "sd3": ("shift", tuple(float(x) for x in np.geomspace(1 / 64, 64, 25))),
    "edm": ("rho", tuple(float(x) for x in np.geomspace(0.5, 32, 19))),
}


@dataclass(frozen=True)
class BestParameter:
    """The objective along a family and its best member.

    Attributes:
        family, parameter: e.g. ``"sd3"``, ``"shift"``.
        objective: ``"lipschitz"`` or ``"lipschitz-sq"``.
        values, objective_values: the curve (estimates; ``inf`` where the objective is not finite).
        best, best_value: the best parameter (refined between grid points) and its objective.
        kind: ``"estimate"``.
    """

    family: str
    parameter: str
    objective: str
    values: tuple[float, ...]
    objective_values: tuple[float, ...]
    best: float
    best_value: float
    kind: str = "estimate"

    @property
    def spec(self) -> str:
        """The schedule spec of the best member, e.g. ``sd3:shift=2.5``."""
        return f"{self.family}:{self.parameter}={self.best:.6g}"

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        def num(x):
            return x if math.isfinite(x) else None

        return {"family": self.family, "parameter": self.parameter, "objective": self.objective,
                "values": list(self.values), "objective_values": [num(v) for v in self.objective_values],
                "best": self.best, "best_value": num(self.best_value), "spec": self.spec, "kind": self.kind}


def _objective(family: str, parameter: str, value: float, target: Target, objective: str) -> float:
    s = schedule(f"{family}:{parameter}={value!r}")
    if objective == "lipschitz":
        return objectives.lipschitz_sup(s, target)
    return objectives.lipschitz_sq_integral(s, target)


def best_parameter(target: Target, *, family: str = "sd3", objective: str = "lipschitz",
                   values: tuple[float, ...] | None = None) -> BestParameter:
    """The parameter of ``family`` (``"sd3"``: shift; ``"edm"``: ρ) that minimises ``objective`` for ``target``.

    Raises:
        GifsymError: an unknown family or objective, or values that are not positive numbers.
    """
    if family not in FAMILIES:
        raise GifsymError(f"unknown family {family!r}; accepted: {', '.join(FAMILIES)}")
    if objective not in ("lipschitz", "lipschitz-sq"):
        raise GifsymError(f"objective {objective!r} is not available for a family; accepted: lipschitz, lipschitz-sq")
    parameter, default = FAMILIES[family]
    grid = tuple(sorted(float(v) for v in (values if values is not None else default)))
    if not grid or not all(math.isfinite(v) and v > 0 for v in grid):
        raise GifsymError(f"values of {parameter} must be positive numbers, got {values!r}")
    curve = tuple(_objective(family, parameter, v, target, objective) for v in grid)
    i = int(np.argmin(curve))
    best, best_value = grid[i], curve[i]
    if 0 < i < len(grid) - 1 and math.isfinite(best_value):
        from scipy.optimize import minimize_scalar

        found = minimize_scalar(lambda u: _objective(family, parameter, float(np.exp(u)), target, objective),
                                bounds=(math.log(grid[i - 1]), math.log(grid[i + 1])), method="bounded",
                                options={"xatol": 1e-3})
        if found.fun < best_value:
            best, best_value = float(np.exp(found.x)), float(found.fun)
    return BestParameter(family, parameter, objective, grid, curve, best, best_value)
