r"""``GIF``: the facade that composes gifsym's layers for one flow.

A :class:`GIF` is a :class:`~gifsym.symbolic.flow.Flow` (its exact objects: ``velocity()``, ``jacobian()``,
``score()``, posterior mean and covariance) with the results of the layers above the symbolic one:
bounds and flow-map constants from :mod:`gifsym.theory` (with gifsym's lemma library), and JAX fields and
simulation from :mod:`gifsym.numerics`. Nothing below this module knows it exists: every layer works on a
``Flow``.

Example:
    >>> from gifsym import GIF, schedule, target
    >>> flow = GIF(schedule("linear"), target("slc:kappa=2+slcvx:beta=4"))
    >>> flow.bounds().upper
    (3*t - 2)/(t**2 + 2*(1 - t)**2)
"""

from __future__ import annotations

from dataclasses import dataclass

from gifsym import theory
from gifsym.symbolic.flow import Flow


@dataclass(frozen=True)
class GIF(Flow):
    """A Gaussian interpolation flow ``X_t = a_t Z + b_t X_1`` with every layer's results.

    Args:
        schedule: a :class:`~gifsym.symbolic.schedule.Schedule`.
        target: a :class:`~gifsym.symbolic.target.Target` (exact law or class).
    """

    def bounds(self) -> theory.Bounds:
        """Two-sided bounds on ∇v, θ_t, their intervals and lemmas (see :func:`gifsym.theory.bounds`)."""
        return theory.bounds(self)

    def flow_map_lipschitz(self) -> theory.FlowMapBounds:
        """Forward and reverse flow-map Lipschitz constants (see :func:`gifsym.theory.flow_map_lipschitz`)."""
        return theory.flow_map_lipschitz(self)

    # The numerics layer imports JAX; it is loaded here on first use so that `import gifsym` stays light.

    def field(self):
        """A jitted float64 JAX function ``v(t, x)``, x of shape (n, d) (see :func:`gifsym.numerics.fields.field`)."""
        from gifsym.numerics.fields import compile_field

        return compile_field(self)

    def jacobian_field(self):
        """A jitted float64 JAX function ``∇v(t, x)`` of shape (n, d, d)."""
        from gifsym.numerics.fields import compile_jacobian_field

        return compile_jacobian_field(self)

    def simulate(self, x0, *, t0: float = 0.0, t1: float = 1.0, solver: str = "tsit5", rtol: float = 1e-6,
                 atol: float = 1e-9, steps: int | None = None, reverse: bool = False,
                 save_path: bool | int = False, stats: bool = False, eps: float | None = None,
                 norm: str = "max", drift=None, progress: bool | None = None, shard: bool | None = None):
        """Integrate the flow with diffrax (see :func:`gifsym.numerics.simulate.simulate` for every option)."""
        from gifsym.numerics.simulate import simulate

        return simulate(self, x0, t0=t0, t1=t1, solver=solver, rtol=rtol, atol=atol, steps=steps,
                        reverse=reverse, save_path=save_path, stats=stats, eps=eps, norm=norm, drift=drift,
                        progress=progress, shard=shard)
