r"""The objectives a schedule is designed for, evaluated on any schedule.

* ``lipschitz``: ``sup_t θ_t`` with θ_t gifsym's bound on ``sup_x ‖∇_x v(t, x)‖_op``
  (:func:`gifsym.theory.bounds`), by evaluation on a grid dense near both ends (estimate);
* ``lipschitz-sq``: ``∫_0^1 E‖∇_x v_t(X_t)‖_F² dt`` (Chen, Vanden-Eijnden & Xu, arXiv 2509.01629) on an
  exact target (Gaussian, Gaussian mixture): the exact Jacobian (:mod:`gifsym.numerics.fields`) averaged over
  ``X_t | k ~ N(b_t m_k, a_t² I + b_t² Σ_k)`` with the same standard normal draws for every component and
  time (quantiles in 1-D), and the time integral by the trapezoid rule on a grid dense toward both ends
  (estimate).

Example:
    >>> from gifsym import schedule, target
    >>> round(lipschitz_sup(schedule("linear"), target("gaussian:sigma=0.5")), 6)
    1.25
"""

from __future__ import annotations

import numpy as np
import sympy

from gifsym.errors import GifsymError
from gifsym.symbolic.flow import Flow
from gifsym.symbolic.schedule import Schedule, t
from gifsym.symbolic.target import Mixture, Target

OBJECTIVES = ("lipschitz", "lipschitz-sq", "steps")

#: Samples per component for the expectation of ``lipschitz-sq``.
SAMPLES = 1024


def time_grid(n: int = 4001) -> np.ndarray:
    """Times in [0, 1], uniform plus geometric toward both ends (down to 1e-12 from each)."""
    ends = np.geomspace(1e-12, 0.05, n // 4)
    return np.unique(np.concatenate([[0.0, 1.0], np.linspace(0, 1, n // 2), ends, 1 - ends]))


def lipschitz_curve(schedule: Schedule, target: Target) -> sympy.Expr:
    """gifsym's θ_t for the flow (:func:`gifsym.theory.bounds`)."""
    from gifsym import theory

    return theory.bounds(Flow(schedule, target)).lipschitz


def lipschitz_sup(schedule: Schedule, target: Target, *, ts: np.ndarray | None = None) -> float:
    """``sup_t θ_t`` on a dense grid (estimate; ``inf`` where θ is not finite)."""
    theta = lipschitz_curve(schedule, target)
    ts = time_grid() if ts is None else ts
    f = sympy.lambdify(t, theta, modules=["numpy"])
    with np.errstate(all="ignore"):
        values = np.broadcast_to(np.asarray(f(ts), dtype=float), ts.shape)
    inner = values[(ts > 0) & (ts < 1)]
    if not np.all(np.isfinite(inner)):
        return float("inf")
    ends = values[(ts == 0) | (ts == 1)]
    best = float(np.max(np.concatenate([inner, ends[np.isfinite(ends)]])))
    # refine the largest interior value between its grid neighbours (the peak is smooth there)
    i = int(np.argmax(np.where((ts > 0) & (ts < 1), values, -np.inf)))
    if 0 < i < len(ts) - 1:
        from scipy.optimize import minimize_scalar

        def g(x):
            with np.errstate(all="ignore"):
                return -float(f(x))

        found = minimize_scalar(g, bounds=(ts[i - 1], ts[i + 1]), method="bounded", options={"xatol": 1e-14})
        if np.isfinite(found.fun):
            best = max(best, -float(found.fun))
    return best


def _mixture(target: Target) -> Mixture:
    law = target.law
    if not isinstance(law, Mixture):
        raise GifsymError(f"objective 'lipschitz-sq' needs an exact target (gaussian:..., gmm:FILE); "
                          f"{target.spec!r} is a class of laws")
    return law


def _normals(d: int, n: int, seed: int) -> np.ndarray:
    if d == 1:  # quantiles: a deterministic rule with no sampling noise in 1-D
        from scipy.special import ndtri

        return ndtri((np.arange(n) + 0.5) / n)[:, None]
    return np.random.default_rng(seed).standard_normal((n, d))


class MeanSquareJacobian:
    """``E‖∇_x v_t(X_t)‖_F²`` for a flow with an exact target, at given times (float64, estimate)."""

    def __init__(self, schedule: Schedule, target: Target, *, samples: int = SAMPLES, seed: int = 0):
        from gifsym.numerics.fields import compile_jacobian_field

        law = _mixture(target)
        arr = law.arrays
        self._w = np.asarray(arr["weights"], dtype=float)
        self._m = np.asarray(arr["means"], dtype=float)
        self._cov = np.asarray(arr["covs"], dtype=float)
        # a Gaussian's ∇v does not depend on x: one point gives the expectation exactly
        self._z = _normals(self._m.shape[1], 1 if law.K == 1 else samples, seed)
        self._jac = compile_jacobian_field(Flow(schedule, target))
        self._ab = sympy.lambdify(t, (schedule.a, schedule.b), modules=["numpy"])

    def __call__(self, times: np.ndarray) -> np.ndarray:
        import jax
        import jax.numpy as jnp

        times = np.asarray(times, dtype=float)
        d, n = self._m.shape[1], self._z.shape[0]
        batched = jax.vmap(self._jac, in_axes=(0, 0))
        with np.errstate(all="ignore"):
            a, b = (np.broadcast_to(np.asarray(v, dtype=float), times.shape) for v in self._ab(times))
        out = np.zeros(len(times))
        chunk = max(1, 2**20 // (n * d * d))  # times per call: bounded memory
        for w, m, cov in zip(self._w, self._m, self._cov):
            covs = (a * a)[:, None, None] * np.eye(d) + (b * b)[:, None, None] * cov  # (T, d, d)
            x = b[:, None, None] * m[None, None, :] + np.einsum("nj,tij->tni", self._z, np.linalg.cholesky(covs))
            for lo in range(0, len(times), chunk):
                j = np.asarray(batched(jnp.asarray(times[lo:lo + chunk]), jnp.asarray(x[lo:lo + chunk])))
                out[lo:lo + chunk] += w * np.mean(np.sum(j * j, axis=(2, 3)), axis=1)
        return out


def lipschitz_sq_integral(schedule: Schedule, target: Target, *, samples: int = SAMPLES) -> float:
    """``∫_0^1 E‖∇v_t(X_t)‖_F² dt`` (estimate): the trapezoid rule on :func:`time_grid` (uniform, and
    geometric toward both ends where the SNR runs through most of its range)."""
    msj = MeanSquareJacobian(schedule, target, samples=samples)
    ts = time_grid()
    ts = ts[(ts > 0) & (ts < 1)]
    values = msj(ts)
    if not np.all(np.isfinite(values)):
        return float("inf")
    # The ends: [0, t_0] and [t_last, 1] by the one-sided values (the integrand is bounded there).
    return float(np.trapezoid(values, ts) + values[0] * ts[0] + values[-1] * (1 - ts[-1]))
