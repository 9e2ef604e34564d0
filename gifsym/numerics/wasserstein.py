r"""The W₂ distance a velocity model actually realises: simulate its flow, compare with the target.

Particles start from the flow's source ``μ = Law(a₀Z + b₀X₁)`` (the Gaussian ``N(0, a₀²I)`` when
``b₀ = 0``), are pushed by the model's flow ``dY/dt = ṽ(t, Y)`` from t = 0 to 1 with diffrax (adaptive
Tsit5, tolerances far below the distances measured), and the exact W₂ between the n end points and n fresh
samples of the target is computed with POT (``ot.emd2``, network simplex; sorted matching in 1-D).

The empirical W₂ between two samples is not the W₂ of the laws: by the triangle inequality
``W₂(law of Y, ν) ≥ Ŵ₂ − W₂(μ̂_Y, law of Y) − W₂(ν̂, ν)``. Beside it we report the **sampling noise**: the
largest of :data:`NOISE_DRAWS` draws of the W₂ between two independent target samples of the same size. By
the joint convexity of W₂², ``E[W₂²(ν̂, ν̂′) | ν̂] ≥ W₂²(ν̂, ν)``, so each of the last two terms is (in
mean square, for a model whose law is close to the target) at most that two-sample level; one draw is a
single random number and does not bound them (it flagged the exact field in 3 of 8 seeds). A bound on
``W₂(law of Y, ν)`` is therefore called consistent with the measurement when
``bound ≥ Ŵ₂ − 2 × noise`` (:attr:`RealisedW2.slack`), a heuristic reference, not a proof.

A sample of n points cannot see a region of small mass: with confidence 1 − α, only a region of mass
greater than ``−ln(α)/n`` is hit by at least one of them (:func:`unseen_mass`), so neither Ŵ₂ nor a
sampled ε(t) tells anything about the model on a region of smaller mass.

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

#: Independent two-sample W₂ draws of the target that set the sampling noise (the largest is reported).
NOISE_DRAWS = 5

#: Particles above which POT's exact solver gets slow (quadratic memory, ~cubic time): refuse beyond.
MAX_OT_SAMPLES = 10_000


@dataclass(frozen=True)
class RealisedW2:
    """The measured W₂ between the model's samples and the target, and the sampling noise beside it.

    Attributes:
        w2: exact W₂ between n end points of the model's flow and n target samples.
        noise: the largest of :data:`NOISE_DRAWS` exact W₂ between two independent target samples of size n.
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
    noise_draws: tuple[float, ...] = ()

    @property
    def slack(self) -> float:
        """``2 × noise``: the two sampling terms of the triangle inequality, each at most the two-sample
        level (see the module docstring)."""
        return 2 * self.noise

    def to_dict(self) -> dict:
        return {"w2": self.w2, "noise": self.noise, "noise_draws": list(self.noise_draws), "slack": self.slack,
                "samples": self.samples, "unseen_mass_95": unseen_mass(self.samples, 0.05),
                "solver": self.solver, "method": self.method, "kind": self.kind}


def unseen_mass(n: int, alpha: float) -> float:
    r"""The mass a region may have and still be missed by all of n independent samples, at level α:
    ``P(no hit) = (1 − m)^n ≤ e^{−mn} ≤ α`` once ``m ≥ −ln(α)/n``. So with confidence 1 − α every region of
    mass greater than ``−ln(α)/n`` holds a sample, and none of smaller mass is ruled out.

    Example:
        >>> round(unseen_mass(1000, 0.05), 5)
        0.003
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 or not 0 < alpha < 1:
        raise NumericError(f"unseen_mass needs n >= 1 and alpha in (0, 1), got n={n!r}, alpha={alpha!r}")
    return -float(np.log(alpha)) / int(n)


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
    k0, *_ = jax.random.split(jax.random.fold_in(key, 0x57A2), 2 + 2 * NOISE_DRAWS)
    x0 = np.asarray(sample_source(flow, int(n), key=k0))
    y1, *_ = integrate(model.jax_field(), x0, 0.0, 1.0, rtol=rtol, atol=atol, shard=False)
    return realised_from_samples(flow, np.asarray(y1), seed=seed, solver=f"tsit5 (rtol {rtol:g}, atol {atol:g})")


def realised_from_samples(flow, y1: np.ndarray, *, seed: int = 0, solver: str = "given samples") -> RealisedW2:
    """W₂ between given samples of a model (e.g. a sampler's output) and as many target samples, with the
    sampling noise beside it (see the module docstring).

    Raises:
        NumericError: more than :data:`MAX_OT_SAMPLES` samples.
    """
    import jax

    n = len(y1)
    if not 2 <= n <= MAX_OT_SAMPLES:
        raise NumericError(f"realised W2 samples must number in [2, {MAX_OT_SAMPLES}], got {n}")
    key = jax.random.PRNGKey(seed)
    _, k1, *kn = jax.random.split(jax.random.fold_in(key, 0x57A2), 2 + 2 * NOISE_DRAWS)
    ref = np.asarray(sample_target(flow, int(n), key=k1))
    w2 = empirical_w2(np.asarray(y1), ref)
    draws = tuple(float(empirical_w2(np.asarray(sample_target(flow, int(n), key=kn[2 * j])),
                                     np.asarray(sample_target(flow, int(n), key=kn[2 * j + 1]))))
                  for j in range(NOISE_DRAWS))
    method = "exact W2 of the empirical measures (POT ot.emd2; sorted matching in 1-D)"
    return RealisedW2(float(w2), max(draws), int(n), solver, method, noise_draws=draws)


__all__ = ["NOISE_DRAWS", "RealisedW2", "realised_from_samples", "realised_w2", "unseen_mass"]
