r"""The W₂ distance a velocity model actually realises: simulate its flow, compare with the target.

Particles start from the flow's source ``μ = Law(a₀Z + b₀X₁)`` (the Gaussian ``N(0, a₀²I)`` when
``b₀ = 0``), are pushed by the model's flow ``dY/dt = ṽ(t, Y)`` from t = 0 to 1 with diffrax (adaptive
Tsit5, tolerances far below the distances measured), and the exact W₂ between the n end points and n fresh
samples of the target is computed with POT (``ot.emd2``, network simplex; sorted matching in 1-D).

The empirical W₂ between two samples is not the W₂ of the laws: by the triangle inequality
``W₂(law of Y, ν) ≥ Ŵ₂ − W₂(μ̂_Y, law of Y) − W₂(ν̂, ν)``. Beside it we report the **sampling noise**: the
W₂ between two independent target samples of the same size, which is the size of those last two terms
for a model whose law is close to the target. A bound on ``W₂(law of Y, ν)`` is consistent with the
measurement when ``bound ≥ Ŵ₂ − noise``.

Example:
    >>> import numpy as np
    >>> from gifsym import GIF, schedule, target
    >>> from gifsym.numerics.models import adapt
    >>> flow = GIF(schedule("linear"), target("gaussian:sigma=1"))
    >>> r = realised_w2(flow, adapt(flow.field(), dim=1), n=200, seed=0)  # the exact field: noise only
    >>> bool(r.w2 < 0.3 and r.noise < 0.3)
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gifsym.errors import NumericError
from gifsym.numerics.models import Model
from gifsym.numerics.simulate import integrate, sample_source, sample_target
from gifsym.numerics.verify import empirical_w2

#: Particles above which POT's exact solver gets slow (quadratic memory, ~cubic time): refuse beyond.
MAX_OT_SAMPLES = 10_000


@dataclass(frozen=True)
class RealisedW2:
    """The measured W₂ between the model's samples and the target, and the sampling noise beside it.

    Attributes:
        w2: exact W₂ between n end points of the model's flow and n target samples.
        noise: exact W₂ between two independent target samples of size n.
        samples: n.
        solver: the ODE solver and its tolerances.
        method: how W₂ was computed.
        kind: ``"estimate"`` (a sample statistic).
    """

    w2: float
    noise: float
    samples: int
    solver: str
    method: str
    kind: str = "estimate"

    def to_dict(self) -> dict:
        return {"w2": self.w2, "noise": self.noise, "samples": self.samples, "solver": self.solver,
                "method": self.method, "kind": self.kind}


def realised_w2(flow, model: Model, *, n: int = 1000, seed: int = 0, rtol: float = 1e-7,
                atol: float = 1e-9) -> RealisedW2:
    """Simulate the model's flow from n source samples and measure W₂ to the target (see the module docstring).

    Raises:
        NumericError: n out of range, or the solve fails (the model's flow blows up).
    """
    import jax

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 2 <= n <= MAX_OT_SAMPLES:
        raise NumericError(f"realised W2 samples must be an integer in [2, {MAX_OT_SAMPLES}], got {n!r}")
    key = jax.random.PRNGKey(seed)
    k0, k1, k2, k3 = jax.random.split(jax.random.fold_in(key, 0x57A2), 4)
    x0 = np.asarray(sample_source(flow, int(n), key=k0))
    y1, *_ = integrate(model.jax_field(), x0, 0.0, 1.0, rtol=rtol, atol=atol, shard=False)
    ref = np.asarray(sample_target(flow, int(n), key=k1))
    w2 = empirical_w2(np.asarray(y1), ref)
    noise = empirical_w2(np.asarray(sample_target(flow, int(n), key=k2)), np.asarray(sample_target(flow, int(n), key=k3)))
    method = "exact W2 of the empirical measures (POT ot.emd2; sorted matching in 1-D)"
    return RealisedW2(float(w2), float(noise), int(n), f"tsit5 (rtol {rtol:g}, atol {atol:g})", method)


__all__ = ["RealisedW2", "realised_w2"]
