r"""The exact field of a data target at scale: streaming over the data with a running log-sum-exp.

For points ``y_1..y_N`` and ``λ = σ² ≥ 0`` (σ = 0: the empirical law; σ > 0: its Gaussian smoothing, an
isotropic mixture with equal weights, see :mod:`gifsym.symbolic.empirical`) the responsibilities at
``(t, x)`` are ``r_i ∝ exp(ℓ_i)``, ``ℓ_i = −|x − b y_i|²/(2s)``, ``s = a² + λb²``, and with
``ȳ = Σ r_i y_i`` and ``Cov_r(y) = Σ r_i (y_i − ȳ)(y_i − ȳ)ᵀ``:

* velocity ``v = c_x x + c_m ȳ`` (``c_x, c_m`` of :func:`gifsym.symbolic.flow.component_coefficients`);
* score ``∇ log p_t = (b ȳ − x)/s``; posterior mean ``m = ȳ + (λb/s)(x − b ȳ)``; posterior covariance
  ``C = (λa²/s) I + (a²/s)² Cov_r(y)``;
* Jacobian ``∇v = c_x I + (c_m b/s) Cov_r(y)`` (for λ = 0 the key identity, ``C = Cov_r(y)``).

**Streaming.** ``ℓ_i = (b/s) x·y_i − (b²/2s)|y_i|² + const(x)``: one (n×d)·(d×C) product per chunk of C
points. A scan over chunks keeps, per query, the running maximum M, ``Z = Σ e^{ℓ_i − M}`` and
``S = Σ e^{ℓ_i − M} y_i``, rescaled by ``e^{M_old − M_new}`` when the maximum grows (the log-sum-exp
recursion), so nothing of size N·n is ever formed: the velocity costs two products per chunk.

**Jacobian–vector products** ``(∇v) u = c_x u + (c_m b/s) Cov_r(y) u`` need ``Cov_r(y) u`` without the
cancellation of ``Σ r y (y·u) − ȳ(ȳ·u)``, which is catastrophic as t → 1 where the coefficient grows like
``(1 − t)^{−(2p+1)}`` and the posterior concentrates on one point: a first pass finds the log-sum-exp and
each query's most likely point ``y*``; a second pass accumulates ``T₁ = Σ r_i (y_i − y*)`` and
``T₂ = Σ r_i (y_i − y*)((y_i − y*)·u)`` with normalized weights, and ``Cov_r(y) u = T₂ − T₁ (T₁·u)``. Terms
are then as small as the posterior's spread (for a concentrated posterior, O(ε²|y|²|u|) instead of
O(ε|y|²|u|)). Five products per chunk. The data are stored about the centre of their enclosing ball, so
``|y_i| ≤ R`` in every product.

**Memory** (:meth:`EmpiricalField.memory_bytes`): the data, ``(N_pad·(d + 2))·w`` bytes (w = 8 for float64,
4 for float32; ``N_pad`` is N rounded up to the chunk), plus per evaluation ``TEMPS·q·C·w`` for the
(query block × chunk) tiles (q ≤ :data:`QUERY_BLOCK` queries at a time, more blocks run one after the
other) and ``O(n·d)`` for the queries and accumulators. The defaults (C = 2048, q = 4096) keep the tiles
under 256 MiB in float64 for any n. Building the layout holds one more host copy of the data in the working
dtype while it is placed on the device. Measured on a CPU (issue 13): N = 10⁶, d = 64, 200 queries: layout
518 MiB, one evaluation 3.5 s on a loaded 2-core machine.

**Devices.** The field acts row by row with the data replicated, so an (n, d) query array sharded along
its rows (:mod:`gifsym.numerics.sharding`, as :func:`gifsym.numerics.simulate.integrate` does on several
devices) is evaluated shard by shard with no communication; :meth:`EmpiricalField.evaluate` shards
explicitly.

**Precision.** float64 by default; ``dtype="float32"`` halves memory and doubles throughput on most
hardware, with logits accurate to ~1e-7·(b/s)|x||y| (so only for t not too close to 1 when σ = 0).

Example:
    >>> import numpy as np
    >>> from gifsym import GIF, schedule, target
    >>> from gifsym.numerics.fields import empirical_field
    >>> ef = empirical_field(GIF(schedule("linear"), target("empirical", data=np.array([[-1.0], [1.0]]))))
    >>> v = np.asarray(ef.velocity(0.5, np.array([[0.0], [0.5]])))
    >>> bool(np.allclose(v, [[0.0], [(np.tanh(1.0) - 0.5) / 0.5]]))  # v = (m - x)/(1 - t), m = tanh(b x / a²)
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial

import jax
import jax.numpy as jnp
import numpy as np

from gifsym.errors import NumericError
from gifsym.numerics.sharding import device_count, gather, shard_particles

#: Data points per chunk of the scan.
CHUNK = 2048
#: Queries per tile; more queries are processed in blocks of this size, one after the other.
QUERY_BLOCK = 4096
#: (query × chunk) temporaries alive at once in the heaviest kernel (logits, weights, products).
TEMPS = 4
DTYPES = {"float64": jnp.float64, "float32": jnp.float32}


@dataclass(frozen=True)
class Coefficients:
    """The time coefficients at one t: ``cx, cm, s, b`` and the combinations the kernels use."""

    cx: jax.Array
    cm: jax.Array
    s: jax.Array
    b: jax.Array


class EmpiricalField:
    """The streaming field of the (smoothed) empirical law of ``points``.

    Args:
        points: (N, d) data.
        lam: the component variance σ² (0 for the empirical law).
        coef: ``coef(t, lam) -> (c_x, c_m, s, b)`` (JAX, float64), e.g.
            ``gifsym.numerics.fields.time_coefficients(schedule).fn``.
        centre: a point near the data (default: their mean); the data are stored relative to it.
        chunk: data points per chunk (default :data:`CHUNK`, at most N rounded up to 8).
        query_block: queries per tile (default :data:`QUERY_BLOCK`).
        dtype: ``"float64"`` (default) or ``"float32"``.
    """

    def __init__(self, points: np.ndarray, *, lam: float, coef: Callable, centre: np.ndarray | None = None,
                 chunk: int | None = None, query_block: int | None = None, dtype: str = "float64") -> None:
        if dtype not in DTYPES:
            raise NumericError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        P = np.asarray(points, dtype=np.float64)
        if P.ndim != 2 or P.shape[0] < 1:
            raise NumericError(f"points must be an (N, d) array with N >= 1, got shape {P.shape}")
        for name, v in (("chunk", chunk), ("query_block", query_block)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
                raise NumericError(f"{name} must be a positive integer, got {v!r}")
        self.N, self.dim = P.shape
        self.lam = float(lam)
        self.coef = coef
        self.dtype = dtype
        self.chunk = int(min(chunk or CHUNK, -(-self.N // 8) * 8))
        self.query_block = int(query_block or QUERY_BLOCK)
        self.centre = np.mean(P, axis=0) if centre is None else np.asarray(centre, dtype=np.float64)
        self._host = P
        self._data = self._layout()  # placed on the device now: never inside a trace
        if not jax.config.jax_enable_x64:  # gifsym computes in float64 (see gifsym.numerics.fields.enable_x64)
            jax.config.update("jax_enable_x64", True)

    # -- layout ---------------------------------------------------------------------------------------

    @property
    def n_chunks(self) -> int:
        return -(-self.N // self.chunk)

    @property
    def itemsize(self) -> int:
        return 8 if self.dtype == "float64" else 4

    def memory_bytes(self, n: int) -> int:
        """Peak bytes of one evaluation at n queries: data + tiles + query-sized arrays (see module)."""
        data = self.n_chunks * self.chunk * (self.dim + 2) * self.itemsize
        q = min(n, self.query_block)
        tiles = TEMPS * q * self.chunk * self.itemsize
        return int(data + tiles + 8 * n * self.dim * 8)

    def _layout(self):
        """(n_chunks, C, d) centred data, (n_chunks, C) squared norms and log-weights (−inf on padding)."""
        dt = DTYPES[self.dtype]
        total = self.n_chunks * self.chunk
        # One host buffer in the working dtype, filled in place (no transient copies of the data), then
        # placed on the device; padding rows are zeros with log-weight −inf.
        Y = np.zeros((total, self.dim), dtype=np.dtype(np.float64 if self.dtype == "float64" else np.float32))
        for lo in range(0, self.N, 65536):
            Y[lo:lo + 65536][: self.N - lo] = self._host[lo:lo + 65536] - self.centre
        q = np.einsum("ij,ij->i", Y, Y, dtype=np.float64)
        lw = np.zeros(total)
        lw[self.N:] = -np.inf
        shape = (self.n_chunks, self.chunk)
        out = (jax.device_put(Y.reshape(*shape, self.dim)), jax.device_put(np.asarray(q.reshape(shape), dtype=dt)),
               jax.device_put(np.asarray(lw.reshape(shape), dtype=dt)))
        return out

    # -- kernels --------------------------------------------------------------------------------------

    def _coefficients(self, t) -> Coefficients:
        cx, cm, s, b = self.coef(jnp.asarray(t, dtype=jnp.float64), jnp.asarray(self.lam, dtype=jnp.float64))
        return Coefficients(cx, cm, s, b)

    def _logits(self, xs, Yb, qb, lwb, alpha, beta):
        # −|x − b y|²/(2s) up to a per-query constant: (b/s) x·y − (b²/2s)|y|².
        return (xs @ Yb.T) * alpha - qb * beta + lwb

    def _scaled(self, t, x):
        c = self._coefficients(t)
        dt = DTYPES[self.dtype]
        xs = (x - c.b * jnp.asarray(self.centre)).astype(dt)
        return c, xs, (c.b / c.s).astype(dt), (c.b * c.b / (2 * c.s)).astype(dt)

    def _blocked(self, fn, x, *extra):
        """Apply ``fn(x_block, *extra_blocks)`` over query blocks of at most ``query_block`` rows."""
        n = x.shape[0]
        q = self.query_block
        if n <= q:
            return fn(x, *extra)
        nb = -(-n // q)
        pad = nb * q - n

        def split(a):
            a = jnp.concatenate([a, jnp.repeat(a[-1:], pad, axis=0)]) if pad else a
            return a.reshape(nb, q, *a.shape[1:])

        out = jax.lax.map(lambda args: fn(*args), (split(x), *(split(e) for e in extra)))
        return jax.tree_util.tree_map(lambda o: o.reshape(nb * q, *o.shape[2:])[:n], out)

    def _mean_pass(self, t, x):
        """One pass: ȳ (absolute coordinates) with the running log-sum-exp."""
        c, xs, alpha, beta = self._scaled(t, x)
        Y, Q, LW = self._data
        n = x.shape[0]
        dt = DTYPES[self.dtype]

        def step(carry, blk):
            M, Z, S = carry
            L = self._logits(xs, *blk, alpha, beta)
            Mn = jnp.maximum(M, jnp.max(L, axis=1))
            scale = jnp.exp(M - Mn)
            E = jnp.exp(L - Mn[:, None])
            return (Mn, Z * scale + jnp.sum(E, axis=1), S * scale[:, None] + E @ blk[0]), None

        init = (jnp.full((n,), -jnp.inf, dtype=dt), jnp.zeros((n,), dt), jnp.zeros((n, self.dim), dt))
        (_, Z, S), _ = jax.lax.scan(step, init, (Y, Q, LW))
        return c, (S / Z[:, None]).astype(jnp.float64) + jnp.asarray(self.centre)

    def _lse_pass(self, xs, alpha, beta):
        """First pass of the centred kernels: log-sum-exp of the logits and each query's most likely point."""
        Y, Q, LW = self._data
        n = xs.shape[0]
        dt = DTYPES[self.dtype]

        def step(carry, blk):
            M, Z, ystar = carry
            L = self._logits(xs, *blk, alpha, beta)
            j = jnp.argmax(L, axis=1)
            mb = jnp.take_along_axis(L, j[:, None], axis=1)[:, 0]
            Mn = jnp.maximum(M, mb)
            Z = Z * jnp.exp(M - Mn) + jnp.sum(jnp.exp(L - Mn[:, None]), axis=1)
            ystar = jnp.where((mb > M)[:, None], blk[0][j], ystar)
            return (Mn, Z, ystar), None

        init = (jnp.full((n,), -jnp.inf, dtype=dt), jnp.zeros((n,), dt), jnp.zeros((n, self.dim), dt))
        (M, Z, ystar), _ = jax.lax.scan(step, init, (Y, Q, LW))
        return M + jnp.log(Z), ystar

    def _cov_pass(self, xs, alpha, beta, lse, ystar, u):
        """Second pass: ``T₁ = Σ r (y − y*)`` and ``T₂ = Σ r (y − y*)((y − y*)·u)`` (centred coordinates)."""
        Y, Q, LW = self._data
        cu = jnp.sum(ystar * u, axis=1)

        def step(carry, blk):
            T1, T2 = carry
            Yb = blk[0]
            W = jnp.exp(self._logits(xs, *blk, alpha, beta) - lse[:, None])
            G = u @ Yb.T - cu[:, None]  # (y_i − y*)·u
            WG = W * G
            T1 = T1 + W @ Yb - jnp.sum(W, axis=1)[:, None] * ystar
            T2 = T2 + WG @ Yb - jnp.sum(WG, axis=1)[:, None] * ystar
            return (T1, T2), None

        z = jnp.zeros_like(u)
        (T1, T2), _ = jax.lax.scan(step, (z, z), (Y, Q, LW))
        return T1, T2 - T1 * jnp.sum(T1 * u, axis=1)[:, None]

    def _dense_pass(self, xs, alpha, beta, lse, ystar):
        """Second pass for the dense ``Cov_r(y)`` (small d): ``Σ r (y − y*)(y − y*)ᵀ − T₁T₁ᵀ``."""
        Y, Q, LW = self._data
        n, d = xs.shape

        def step(carry, blk):
            T1, T2 = carry
            W = jnp.exp(self._logits(xs, *blk, alpha, beta) - lse[:, None])
            D = blk[0][None, :, :] - ystar[:, None, :]
            return (T1 + jnp.einsum("nc,ncd->nd", W, D), T2 + jnp.einsum("nc,ncd,nce->nde", W, D, D)), None

        init = (jnp.zeros((n, d), xs.dtype), jnp.zeros((n, d, d), xs.dtype))
        (T1, T2), _ = jax.lax.scan(step, init, (Y, Q, LW))
        return T1, T2 - T1[:, :, None] * T1[:, None, :]

    # -- public functions (jitted) --------------------------------------------------------------------

    def _ybar(self, t, x):
        return self._blocked(lambda xb: self._mean_pass(t, xb)[1], x)

    @cached_property
    def velocity(self) -> Callable:
        """``v(t, x)``: x (n, d) → (n, d), jitted."""

        def f(t, x):
            c = self._coefficients(t)
            return c.cx * x + c.cm * self._ybar(t, x)

        return jax.jit(f)

    @cached_property
    def score(self) -> Callable:
        """``∇ log p_t(x) = (b ȳ − x)/s``."""

        def f(t, x):
            c = self._coefficients(t)
            return (c.b * self._ybar(t, x) - x) / c.s

        return jax.jit(f)

    @cached_property
    def posterior_mean(self) -> Callable:
        """``m(t, x) = E[X₁ | X_t = x] = ȳ + (λb/s)(x − b ȳ)``."""

        def f(t, x):
            c = self._coefficients(t)
            yb = self._ybar(t, x)
            return yb + (self.lam * c.b / c.s) * (x - c.b * yb)

        return jax.jit(f)

    def _centred(self, t, x, kernel):
        c, xs, alpha, beta = self._scaled(t, x)
        lse, ystar = self._lse_pass(xs, alpha, beta)
        return c, kernel(xs, alpha, beta, lse, ystar), ystar

    @cached_property
    def cov_matvec(self) -> Callable:
        """``(t, x, u) -> Cov_r(y) u`` (the spread of the data under the posterior), centred (see module)."""

        def one(t, xb, ub):
            dt = DTYPES[self.dtype]
            _, (_, Cu), _ = self._centred(t, xb, lambda *a: self._cov_pass(*a, ub.astype(dt)))
            return Cu.astype(jnp.float64)

        return jax.jit(lambda t, x, u: self._blocked(partial(one, t), x, u))

    @cached_property
    def jvp(self) -> Callable:
        """``(t, x, u) -> (v(t, x), ∇v(t, x) u)`` for row-wise tangents u (n, d), jitted."""

        def one(t, xb, ub):
            dt = DTYPES[self.dtype]
            c, (T1, Cu), ystar = self._centred(t, xb, lambda *a: self._cov_pass(*a, ub.astype(dt)))
            ybar = (ystar + T1).astype(jnp.float64) + jnp.asarray(self.centre)
            v = c.cx * xb + c.cm * ybar
            return v, c.cx * ub + (c.cm * c.b / c.s) * Cu.astype(jnp.float64)

        return jax.jit(lambda t, x, u: self._blocked(partial(one, t), x, u))

    @cached_property
    def cov(self) -> Callable:
        """``(t, x) -> Cov_r(y)`` dense (n, d, d) (small d: the tiles are (q, C, d))."""

        def one(t, xb):
            _, (_, Cd), _ = self._centred(t, xb, self._dense_pass)
            return Cd.astype(jnp.float64)

        return jax.jit(lambda t, x: self._blocked(partial(one, t), x))

    @cached_property
    def jacobian(self) -> Callable:
        """``∇v(t, x) = c_x I + (c_m b/s) Cov_r(y)``, dense (n, d, d)."""

        def f(t, x):
            c = self._coefficients(t)
            return c.cx * jnp.eye(self.dim) + (c.cm * c.b / c.s) * self.cov(t, x)

        return jax.jit(f)

    @cached_property
    def posterior_cov(self) -> Callable:
        """``C(t, x) = Cov(X₁ | X_t = x) = (λa²/s) I + (a²/s)² Cov_r(y)`` (a² = s − λb²), dense."""

        def f(t, x):
            c = self._coefficients(t)
            a2 = c.s - self.lam * c.b * c.b
            return (self.lam * a2 / c.s) * jnp.eye(self.dim) + (a2 / c.s) ** 2 * self.cov(t, x)

        return jax.jit(f)

    @cached_property
    def max_eigenvalue(self) -> Callable:
        """``(t, x, iters) -> λ_max(∇v(t, x))`` per query by power iteration on ``Cov_r(y) ≽ 0`` (its largest
        eigenvalue ρ gives ``c_x + (c_m b/s) ρ`` because the coefficient is ≥ 0 under S-mono). The
        Rayleigh quotient after ``iters`` steps is a lower bound on ρ (an estimate of λ_max from below)."""

        def one(t, xb, iters, key):
            c, xs, alpha, beta = self._scaled(t, xb)
            lse, ystar = self._lse_pass(xs, alpha, beta)
            u0 = jax.random.normal(key, xb.shape, dtype=xs.dtype)

            def body(_, u):
                u = u / jnp.linalg.norm(u, axis=1, keepdims=True)
                return self._cov_pass(xs, alpha, beta, lse, ystar, u)[1] + 1e-30 * u

            u = jax.lax.fori_loop(0, iters, body, u0)
            u = u / jnp.linalg.norm(u, axis=1, keepdims=True)
            rho = jnp.sum(u * self._cov_pass(xs, alpha, beta, lse, ystar, u)[1], axis=1).astype(jnp.float64)
            return c.cx + (c.cm * c.b / c.s) * rho

        def f(t, x, iters=50, seed=0):
            keys = jax.random.split(jax.random.PRNGKey(seed), 1)[0]
            return self._blocked(lambda xb: one(t, xb, iters, keys), x)

        return jax.jit(f, static_argnums=(2,))

    def evaluate(self, t: float, x, *, shard: bool | None = None) -> np.ndarray:
        """``v(t, x)`` as a NumPy array, with the queries spread over all devices (default: when there are
        several; the data are replicated)."""
        if shard is None:
            shard = device_count() > 1
        if shard:
            xs, n = shard_particles(np.asarray(x, dtype=np.float64))
            return gather(self.velocity(t, xs))[:n]
        return np.asarray(self.velocity(t, jnp.asarray(x, dtype=jnp.float64)))


__all__ = ["CHUNK", "DTYPES", "QUERY_BLOCK", "TEMPS", "EmpiricalField"]
