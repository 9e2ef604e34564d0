r"""Local errors of a one-step sampler at exact points, by simulation (for sampler plans of mixtures).

For a grid ``t_0 < … < t_N`` and an explicit Runge–Kutta method (sub-diagonal tableau ``c, a, w``), step
k's local error at exact points is ``δ_k = ‖Ψ_k(X_{t_k}) − Φ_k(X_{t_k})‖_{L²(p_{t_k})}`` (math.md §9 (a)).
Here ``X_{t_k} = a Z + b X_1`` is sampled exactly (the same draws of Z and X₁ for every k and every call:
common random numbers, so grids can be compared), ``Ψ_k`` is approximated by ``substeps`` classical RK4
steps, and the root mean square over the samples is returned: an **estimate** (sampling error and the
reference integrator's error are not bounded). All steps are computed at once (``jax.vmap`` over k).

The Jacobian's spectrum at the samples, ``[min λ, max λ]`` of ∇v over the draws at each stage time, is
also returned: an estimate of ``[ℓ_t, u_t]`` where no bound is derived.

Example:
    >>> import numpy as np
    >>> from gifsym import GIF, schedule, target
    >>> flow = GIF(schedule("linear"), target("gaussian:sigma=0.5"))
    >>> le = LocalErrors(flow, n=256)
    >>> d = le.deltas(np.linspace(0, 1, 5), (0.0,), (), (1.0,))  # Euler
    >>> d.shape, bool(np.all(d > 0))
    ((4,), True)
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from gifsym.numerics.fields import compile_field, compile_jacobian_field, enable_x64
from gifsym.numerics.simulate import sample_target


#: Draws of ``X_t`` per simulation (plans state it in their conditions).
DRAWS = 1000


def _bucket(n: int) -> int:
    """The padded length for ``n`` times: a power of two (≥ 8), so that the compiled kernels' shapes repeat
    across grids of different N (a search over N would otherwise compile a kernel per N)."""
    return max(8, 1 << (n - 1).bit_length())


def _pad(x: np.ndarray, n: int) -> np.ndarray:
    # Padding repeats the last entry (finite times, as the real ones); padded results are dropped.
    return np.concatenate([x, np.repeat(x[-1:], n - x.size)])


class LocalErrors:
    """Simulated local errors of samplers on a flow with an exact law (see the module docstring).

    Args:
        flow: a flow with an exact (Gaussian or mixture) target.
        n: number of draws.
        seed: their seed.
        substeps: RK4 steps of the reference integration per grid step.
    """

    def __init__(self, flow, *, n: int = DRAWS, seed: int = 0, substeps: int = 8) -> None:
        import jax
        import jax.numpy as jnp
        import sympy

        from gifsym.symbolic.schedule import t as T

        enable_x64()
        self.flow, self.n, self.substeps = flow, n, substeps
        self.x1 = jnp.asarray(sample_target(flow, n, seed=seed))
        self.z = jax.random.normal(jax.random.PRNGKey(seed + 1), self.x1.shape, dtype=jnp.float64)
        self._ab = sympy.lambdify([T], [flow.schedule.a, flow.schedule.b], modules="numpy")
        self._v = jax.vmap(compile_field(flow))
        # Compiled once per object (per flow): a fresh jax.vmap on every call would be traced again.
        self._jac = jax.jit(jax.vmap(compile_jacobian_field(flow)))
        self._z_np, self._x1_np = np.asarray(self.z), np.asarray(self.x1)

    def points(self, ts: np.ndarray):
        """``X_t = a_t Z + b_t X_1`` for each t: (len(ts), n, d)."""
        import jax.numpy as jnp

        # In NumPy (a few thousand numbers): JAX's eager operations would dispatch one by one.
        a, b = (np.broadcast_to(np.asarray(v, dtype=float), np.shape(ts)) for v in self._ab(np.asarray(ts)))
        return jnp.asarray(a[:, None, None] * self._z_np[None] + b[:, None, None] * self._x1_np[None])

    @functools.lru_cache(maxsize=8)  # noqa: B019 — one compiled kernel per tableau, kept with the object
    def _kernel(self, c: tuple, a: tuple, w: tuple):
        import jax
        import jax.numpy as jnp

        v, m = self._v, self.substeps

        @jax.jit
        def run(t0, h, x):
            dt = (h / m)[:, None, None]

            def body(i, y):
                tt = t0 + i * dt[:, 0, 0]
                k1 = v(tt, y)
                k2 = v(tt + dt[:, 0, 0] / 2, y + dt / 2 * k1)
                k3 = v(tt + dt[:, 0, 0] / 2, y + dt / 2 * k2)
                k4 = v(tt + dt[:, 0, 0], y + dt * k3)
                return y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

            ref = jax.lax.fori_loop(0, m, body, x)  # the reference for Ψ_k
            hh = h[:, None, None]
            step, k = x, None
            for i, (ci, wi) in enumerate(zip(c, w, strict=True)):
                k = v(t0 + ci * h, x if i == 0 else x + a[i - 1] * hh * k)
                step = step + wi * hh * k
            return jnp.sqrt(jnp.mean(jnp.sum((ref - step) ** 2, axis=2), axis=1))

        return run

    def deltas(self, grid: Sequence[float], c: Sequence[float], a: Sequence[float], w: Sequence[float]) -> np.ndarray:
        """Estimated δ_k for every step of ``grid`` (the method given by its tableau)."""
        import jax.numpy as jnp

        g = np.asarray(grid, dtype=float)
        run = self._kernel(tuple(map(float, c)), tuple(map(float, a)), tuple(map(float, w)))
        n = g.size - 1
        tk, h = _pad(g[:-1], _bucket(n)), _pad(np.diff(g), _bucket(n))
        return np.asarray(run(jnp.asarray(tk), jnp.asarray(h), self.points(tk)))[:n]

    def spectrum(self, ts: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """Smallest and largest eigenvalue of ∇v over the draws of ``X_t``, for each t (an estimate)."""
        import jax.numpy as jnp

        ts = np.asarray(ts, dtype=float)
        n = ts.size
        tp = _pad(ts.ravel(), _bucket(n)) if n else ts.ravel()
        J = np.asarray(self._jac(jnp.asarray(tp), self.points(tp)))[:n]
        ev = np.linalg.eigvalsh(0.5 * (J + np.swapaxes(J, -1, -2)))
        return ev.min(axis=(1, 2)).reshape(ts.shape), ev.max(axis=(1, 2)).reshape(ts.shape)
