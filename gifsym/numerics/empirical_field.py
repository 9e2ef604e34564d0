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

**Memory**, stated per kernel and checked before anything is allocated (:meth:`EmpiricalField.memory_bytes`;
``w`` = 8 bytes for float64, 4 for float32; ``N_pad`` is N rounded up to the chunk C; q ≤ :data:`QUERY_BLOCK`
queries at a time, more blocks run one after the other):

* the data on the device, ``N_pad·(d + 2)·w`` (:meth:`~EmpiricalField.data_bytes`); they are placed a group
  of whole chunks (at most :data:`STAGING_BYTES`) at a time into a device array updated in place, so
  construction peaks at that plus two groups (the host staging buffer and its copy in transfer;
  :meth:`~EmpiricalField.layout_bytes`, checked against the available memory before anything is
  allocated; construction waits for the copies, so it does not spill into a later evaluation);
* per evaluation of the streaming kernels (velocity, score, posterior mean, JVPs, power iteration, the
  covariance derivative): ``TEMPS·q·C·w`` for the (query × chunk) tiles plus ``QUERY_ARRAYS·n·d·8`` for the
  queries, accumulators and results;
* per evaluation of the dense kernels (``cov``, ``jacobian``, ``posterior_cov``): the (query × chunk × d)
  tiles of the differences ``y − y*``, at most :data:`DENSE_TILE_BYTES` (their query block is cut to fit),
  the (query × d × d) accumulators and the ``n·d²`` result;
* in each statement, :data:`RUNTIME_BYTES` for allocator granularity and the runtime's bookkeeping.

Each jitted kernel checks its evaluation bytes at trace time (the shapes are known then), so a call that
would not fit raises :class:`~gifsym.budget.WorkLimitError` before XLA allocates; a caller that ``vmap``\ s a
kernel multiplies its tiles by the batch size, which the kernel cannot see. The defaults (C = 2048,
q = 4096) keep the streaming tiles under 256 MiB in float64 for any n. Not counted: XLA's compilation
(once per shape) and the caller's own arrays. Measured on a CPU (growth of the resident set in a fresh
process, tests/test_empirical_verify.py): N = 10⁶, d = 64: construction 1003 MiB (stated 1013 MiB: the
staging buffer and the device copy of the 504 MiB of data); at 1024 queries the velocity 36 MiB and a JVP
56 MiB (stated 72 MiB each); the dense Jacobian at 200 queries (in blocks of 85) 199 MiB (stated 286 MiB).

**Devices.** The field acts row by row with the data replicated (on several devices a copy is placed on
each, :func:`gifsym.numerics.sharding.replicated`), so an (n, d) query array sharded along its rows
(:mod:`gifsym.numerics.sharding`, as :func:`gifsym.numerics.simulate.integrate` does on several devices) is
evaluated shard by shard with no communication; :meth:`EmpiricalField.evaluate` shards explicitly.

**Kernels are** ``jax.tree_util.Partial(jax.jit(f), data)``: the data are an argument of every compiled
program, never a constant inside it (closed over, JAX would embed a copy in each compiled shape: for
200 000 points in d = 4 the velocity's program text is 18 MiB that way, 9 kB as it is). Callers that jit
around a kernel pass it as an argument (a Partial is a pytree whose leaves are the data), as
:func:`gifsym.numerics.simulate.integrate` and :mod:`gifsym.numerics.empirical_checks` do.

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

from gifsym.budget import check_allocation
from gifsym.errors import NumericError
from gifsym.numerics.singular_end import guard_time
from gifsym.numerics.sharding import POINTS, device_count, gather, points_mesh, replicated, shard_particles

#: Data points per chunk of the scan.
CHUNK = 2048
#: Queries per tile; more queries are processed in blocks of at most this size, one after the other.
#: Measured (N = 10⁵, d = 64, 4,096 queries, 2 cores, float64): tiles of 1024 × 2048 run the velocity at
#: 76 GFLOP/s, 4096 × 2048 at 52: the (query × chunk) elementwise work (scale, max, exp, sum) is memory-
#: bound, and a 16 MiB tile stays nearer the caches than a 64 MiB one.
QUERY_BLOCK = 1024
#: (query × chunk) temporaries alive at once in the heaviest streaming kernel (logits, weights, products).
#: Measured (N = 10⁶, d = 8, 4096 queries): the velocity holds 2 such tiles at its peak, a JVP 3.
TEMPS = 4
#: Arrays of n·d float64 alive at once per evaluation (queries, tangents, accumulators, padded copies of a
#: query block, results).
QUERY_ARRAYS = 8
#: The dense kernels' (query × chunk × d) tiles: their query block is cut so that DENSE_TEMPS of them fit
#: in DENSE_TILE_BYTES (the differences y − y*, their weighted copy, the product's operand).
DENSE_TILE_BYTES = 256 * 2**20
DENSE_TEMPS = 3
#: Host bytes staged at a time while the data are placed on the device (a group of whole chunks).
STAGING_BYTES = 64 * 2**20
#: Allowance in the layout statement for compiling its two small programs (a zero array, an in-place
#: update) the first time a shape is laid out (measured: 10 MiB at N = 10⁶, d = 4, after JAX's start-up).
LAYOUT_COMPILE_BYTES = 16 * 2**20
#: Fixed allowance in every statement for allocator granularity and the runtime's own bookkeeping per
#: transfer or call (measured: up to 1.3 MiB, at one query).
RUNTIME_BYTES = 4 * 2**20
#: Kernel families for :meth:`EmpiricalField.evaluation_bytes`.
KINDS = ("stream", "dense")
DTYPES = {"float64": jnp.float64, "float32": jnp.float32}


def _merge_lse(M, Z, *S):
    """Merge per-shard running log-sum-exps ``(M_k, Z_k = Σ e^{ℓ−M_k}, S_k = Σ e^{ℓ−M_k} y)`` stacked on
    axis 0: ``M = max M_k``, ``Z = Σ Z_k e^{M_k−M}``, ``S = Σ S_k e^{M_k−M}`` (a shard of padding only has
    ``M_k = −∞`` and weight 0)."""
    Mg = jnp.max(M, axis=0)
    # A shard of padding only (N smaller than the shards' chunks) has M_k = −∞ and, from e^{−∞−(−∞)}, NaN
    # sums: its weight is set to 0 and its sums to 0 explicitly (0·NaN would be NaN).
    ok = jnp.isfinite(M)
    w = jnp.where(ok, jnp.exp(jnp.where(ok, M, 0) - Mg), 0)

    def merged(a):
        shape = w.shape + (1,) * (a.ndim - w.ndim)
        return jnp.sum(jnp.where(ok.reshape(shape), a, 0) * w.reshape(shape), axis=0)

    return (Mg, merged(Z), *(merged(s) for s in S))


def _global_call(kernel: Callable, mesh) -> Callable:
    """``kernel`` callable from Python on several processes: host arrays (the same on every process) go in
    as arrays replicated over ``mesh``, and replicated results come back as this process's NumPy copy.
    Inside a trace (a caller's jit, e.g. the solver) arguments pass through unchanged."""
    from jax.sharding import NamedSharding, PartitionSpec

    repl = NamedSharding(mesh, PartitionSpec())

    def put(a):
        if isinstance(a, (np.ndarray, jax.Array)) and not isinstance(a, jax.core.Tracer) and np.ndim(a) > 0 \
                and getattr(a, "is_fully_addressable", True):
            host = np.asarray(a)
            return jax.make_array_from_callback(host.shape, repl, lambda idx: host[idx])
        return a

    def get(o):
        if isinstance(o, jax.Array) and not o.is_fully_addressable and o.sharding.is_fully_replicated:
            return np.asarray(o.addressable_data(0))
        return o

    def call(data, *args, **kwargs):
        if any(isinstance(a, jax.core.Tracer) for a in jax.tree_util.tree_leaves(args)):
            return kernel(data, *args, **kwargs)
        return jax.tree_util.tree_map(get, kernel(data, *(put(a) for a in args), **kwargs))

    for name in ("lower", "trace", "eval_shape"):
        if hasattr(kernel, name):
            setattr(call, name, getattr(kernel, name))
    return call


@partial(jax.jit, donate_argnums=0)
def _fill(Y: jax.Array, blk: jax.Array, g) -> jax.Array:
    """``Y`` with chunks ``g, g+1, …`` replaced by ``blk``, in place (``Y``'s buffer is donated)."""
    return jax.lax.dynamic_update_slice_in_dim(Y, blk, g, axis=0)


@dataclass(frozen=True)
class Coefficients:
    """The time coefficients at one t: ``cx, cm, s, b`` and the combinations the kernels use."""

    cx: jax.Array
    cm: jax.Array
    s: jax.Array
    b: jax.Array


@dataclass(frozen=True)
class Sizes:
    """The memory a streaming field states, from its shapes alone (nothing is allocated): see the module
    docstring. :func:`sizes` gives it for a field not built yet.

    Attributes:
        N, dim: the data's shape.
        chunk: data points per chunk C.
        query_block: queries per tile q.
        itemsize: bytes per number in the working dtype (8 or 4).

    Example:
        >>> z = sizes(10**6, 64)
        >>> round(z.data_bytes() / 2**20, 1), z.evaluation_bytes(4096) / 2**20  # MiB: data, one evaluation
        (504.3, 84.0)
    """

    N: int
    dim: int
    chunk: int
    query_block: int
    itemsize: int

    @property
    def n_chunks(self) -> int:
        return -(-self.N // self.chunk)

    @property
    def dense_block(self) -> int:
        """Queries per tile of the dense kernels: DENSE_TEMPS (q × C × d) tiles fit in DENSE_TILE_BYTES."""
        per_query = DENSE_TEMPS * self.chunk * self.dim * self.itemsize
        return int(max(1, min(self.query_block, DENSE_TILE_BYTES // per_query)))

    def data_bytes(self) -> int:
        """Bytes of the data on the device: (N_pad, d) points, (N_pad,) squared norms and log-weights."""
        return int(self.n_chunks * self.chunk * (self.dim + 2) * self.itemsize)

    @property
    def staging_chunks(self) -> int:
        """Chunks placed on the device at a time: as many as fit in STAGING_BYTES and in a sixteenth of the
        data (so that staging adds little to small data), at least one."""
        chunk_bytes = self.chunk * self.dim * self.itemsize
        return int(max(1, min(self.n_chunks // 16, STAGING_BYTES // chunk_bytes)))

    def layout_bytes(self) -> int:
        """Peak bytes while the data are laid out: the data on the device, one group of chunks twice (its
        host staging buffer and its copy in transfer), the host's float64 norms and log-weights, and the
        compilation of the layout's programs."""
        group = self.staging_chunks * self.chunk * self.dim * self.itemsize
        norms = 2 * self.n_chunks * self.chunk * 8
        return self.data_bytes() + 2 * group + norms + LAYOUT_COMPILE_BYTES + RUNTIME_BYTES

    def evaluation_bytes(self, n: int, *, kind: str = "stream") -> int:
        """Bytes one evaluation at n queries allocates beyond the data.

        Args:
            n: queries.
            kind: ``"stream"`` (velocity, score, posterior mean, JVPs, power iteration, covariance
                derivative) or ``"dense"`` (``cov``, ``jacobian``, ``posterior_cov``).
        """
        if kind not in KINDS:
            raise NumericError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        n, d, C, w = int(n), self.dim, self.chunk, self.itemsize
        queries = QUERY_ARRAYS * n * d * 8 + RUNTIME_BYTES
        if kind == "stream":
            return int(TEMPS * min(n, self.query_block) * C * w + queries)
        q = min(n, self.dense_block)
        # the (q, C, d) tiles, the (q, C) logits and weights, the (q, d, d) carry (in and out) and the
        # (n, d, d) result with its scaled copy (jacobian, posterior_cov).
        return int(DENSE_TEMPS * q * C * d * w + TEMPS * q * C * w + 3 * q * d * d * 8 + 2 * n * d * d * 8 + queries)

    def memory_bytes(self, n: int, *, kind: str = "stream") -> int:
        """Peak bytes of one evaluation at n queries, data included: :meth:`data_bytes` +
        :meth:`evaluation_bytes`."""
        return self.data_bytes() + self.evaluation_bytes(n, kind=kind)


def sizes(N: int, dim: int, *, chunk: int | None = None, query_block: int | None = None,
          dtype: str = "float64") -> Sizes:
    """The :class:`Sizes` of the field :class:`EmpiricalField` would build with these options."""
    if dtype not in DTYPES:
        raise NumericError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    return Sizes(int(N), int(dim), _chunk(int(N), chunk), int(query_block or QUERY_BLOCK),
                 8 if dtype == "float64" else 4)


def _chunk(N: int, chunk: int | None) -> int:
    return int(min(chunk or CHUNK, -(-N // 8) * 8))


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
        shard_points: split the data by points over every device of every process (default: when several
            processes run, :mod:`gifsym.numerics.distributed`); queries are then replicated.
    """

    def __init__(self, points: np.ndarray, *, lam: float, coef: Callable, centre: np.ndarray | None = None,
                 chunk: int | None = None, query_block: int | None = None, dtype: str = "float64",
                 shard_points: bool | None = None) -> None:
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
        self.chunk = _chunk(self.N, chunk)
        self.query_block = int(query_block or QUERY_BLOCK)
        self.centre = np.mean(P, axis=0) if centre is None else np.asarray(centre, dtype=np.float64)
        self._host = P
        if shard_points is None:
            shard_points = jax.process_count() > 1
        self._mesh = points_mesh() if shard_points else None
        if self._mesh is not None:
            self._data = self._sharded_layout()
        else:
            # Sizes are checked before anything is allocated: the staging buffer and the device copy.
            check_allocation(self.layout_bytes(), f"laying out {self.N} data points in {self.dim} dimensions")
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

    @cached_property
    def sizes(self) -> Sizes:
        """The memory this field states (:class:`Sizes`)."""
        return Sizes(self.N, self.dim, self.chunk, self.query_block, self.itemsize)

    @property
    def dense_block(self) -> int:
        """Queries per tile of the dense kernels (:attr:`Sizes.dense_block`)."""
        return self.sizes.dense_block

    def data_bytes(self) -> int:
        """Bytes of the data on the device (:meth:`Sizes.data_bytes`)."""
        return self.sizes.data_bytes()

    def layout_bytes(self) -> int:
        """Peak bytes while the data are laid out (:meth:`Sizes.layout_bytes`)."""
        return self.sizes.layout_bytes()

    def evaluation_bytes(self, n: int, *, kind: str = "stream") -> int:
        """Bytes one evaluation at n queries allocates beyond the data (:meth:`Sizes.evaluation_bytes`)."""
        return self.sizes.evaluation_bytes(n, kind=kind)

    def memory_bytes(self, n: int, *, kind: str = "stream") -> int:
        """Peak bytes of one evaluation at n queries, data included (:meth:`Sizes.memory_bytes`)."""
        return self.sizes.memory_bytes(n, kind=kind)

    def _check(self, n: int, kind: str, what: str) -> None:
        """Refuse, at trace time, an evaluation whose tiles would not fit (before XLA allocates them)."""
        check_allocation(self.evaluation_bytes(n, kind=kind),
                         f"{what} of the data target ({self.N} points in {self.dim} dimensions) at {n} queries")

    def _layout(self):
        """(n_chunks, C, d) centred data, (n_chunks, C) squared norms and log-weights (−inf on padding)."""
        dt = DTYPES[self.dtype]
        host = np.dtype(np.float64 if self.dtype == "float64" else np.float32)
        C, d, nc = self.chunk, self.dim, self.n_chunks
        q = np.zeros(nc * C)
        lw = np.zeros(nc * C)
        lw[self.N:] = -np.inf
        # On several devices the data are replicated on each (the queries are sharded along their rows):
        # kernels take the data as an argument, which must live where the queries do.
        where = replicated() if device_count() > 1 else None

        def staged(g: int, k: int) -> np.ndarray:
            """Chunks g … g+k−1, centred, in the working dtype (padding rows zero); fills their norms."""
            blk = np.zeros((k * C, d), dtype=host)
            rows = self._host[g * C: min(self.N, (g + k) * C)]
            np.subtract(rows, self.centre, out=blk[: len(rows)], casting="same_kind")  # no temporary copy
            q[g * C: (g + k) * C] = np.einsum("ij,ij->i", blk, blk, dtype=np.float64)
            return blk.reshape(k, C, d)

        if where is not None and jax.process_count() > 1:  # every process holds the same data
            # Built from one whole host copy (make_array_from_callback reads it per device): twice the data.
            check_allocation(2 * self.data_bytes() + RUNTIME_BYTES,
                             f"laying out {self.N} data points in {self.dim} dimensions on every process")
            full = staged(0, nc)
            Y = jax.make_array_from_callback(full.shape, where, lambda idx: full[idx])
        else:
            # The device array is filled in place a group of chunks at a time (the buffer is donated to each
            # update), so the host never holds more than one group: construction peaks at the data plus
            # two groups, not at twice the data (10⁶ points in d = 1024 would need 16 GiB, not 8).
            Y = jnp.zeros((nc, C, d), dtype=dt, device=where)
            per = self.sizes.staging_chunks
            for g in range(0, nc, per):
                Y = _fill(Y, jax.device_put(staged(g, min(per, nc - g)), where), g)
                Y.block_until_ready()  # one group in flight: its host buffer is freed before the next
        shape = (nc, C)
        out = (Y, jax.device_put(np.asarray(q.reshape(shape), dtype=dt), where),
               jax.device_put(np.asarray(lw.reshape(shape), dtype=dt), where))
        # device_put is asynchronous: wait, so that the copy (and the staging buffers' release) happens
        # here, inside what layout_bytes states, not during a later evaluation.
        return jax.block_until_ready(out)

    @property
    def point_shards(self) -> int:
        """Devices the data are split over by points (1: not split)."""
        return 1 if self._mesh is None else int(self._mesh.size)

    @property
    def mesh(self):
        """The 1-D mesh ``("points",)`` over all devices the data are split over, or ``None``."""
        return self._mesh

    def _sharded_layout(self):
        """(P, n_chunks/P, C, d) centred data, norms and log-weights split by points over the P devices of
        :attr:`mesh`; each process builds (and holds) only the shards of its own devices."""
        from jax.sharding import NamedSharding, PartitionSpec

        dt = DTYPES[self.dtype]
        host = np.dtype(np.float64 if self.dtype == "float64" else np.float32)
        P_, C, d = self.point_shards, self.chunk, self.dim
        per = -(-self.n_chunks // P_)  # chunks per shard; whole padding chunks (log-weight −inf) at the end
        rows = per * C
        local = sum(1 for dv in self._mesh.devices.flat if dv.process_index == jax.process_index())
        check_allocation(2 * local * rows * (d + 2) * self.itemsize + RUNTIME_BYTES,
                         f"laying out this process's {local} of {P_} shards of {self.N} data points in {d} dimensions")
        sharding = NamedSharding(self._mesh, PartitionSpec(POINTS))

        def shard(k: int):
            blk = np.zeros((rows, d), dtype=host)
            part = self._host[k * rows: min(self.N, (k + 1) * rows)]
            np.subtract(part, self.centre, out=blk[: len(part)], casting="same_kind")
            q = np.einsum("ij,ij->i", blk, blk, dtype=np.float64)
            lw = np.where(np.arange(k * rows, (k + 1) * rows) < self.N, 0.0, -np.inf)
            return blk.reshape(1, per, C, d), q.reshape(1, per, C).astype(dt), lw.reshape(1, per, C).astype(dt)

        def make(i, shape):
            return jax.make_array_from_callback(shape, sharding, lambda idx: shard(idx[0].start or 0)[i])

        out = (make(0, (P_, per, C, d)), make(1, (P_, per, C)), make(2, (P_, per, C)))
        return jax.block_until_ready(out)

    def _scan(self, body, data, *args):
        """``body(data, *args)``: a scan over chunks of ``data`` (n_chunks, C, …) returning a carry. With the
        data split by points it runs on each shard where the shard lives (``shard_map``) and returns the
        per-shard carries stacked along a new first axis of size :attr:`point_shards`, sharded like the
        data: the caller merges them (:func:`_merge_lse`, sums), and XLA turns that merge of global arrays
        into the all-reduces."""
        if self._mesh is None:
            return body(data, *args)
        from jax.sharding import PartitionSpec

        def local(d4, *a):
            return jax.tree_util.tree_map(lambda o: o[None], body(tuple(v[0] for v in d4), *a))

        f = jax.shard_map(local, mesh=self._mesh, in_specs=(PartitionSpec(POINTS),) + (PartitionSpec(),) * len(args),
                          out_specs=PartitionSpec(POINTS), check_vma=False)
        return f(data, *args)

    def _sum(self, *parts):
        """Per-shard sums merged (nothing to do without sharding)."""
        return parts if self._mesh is None else tuple(jnp.sum(p, axis=0) for p in parts)

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

    def _blocked(self, fn, x, *extra, block: int | None = None):
        """Apply ``fn(x_block, *extra_blocks)`` over query blocks of at most ``block`` (default
        ``query_block``) rows."""
        n = x.shape[0]
        q = block or self.query_block
        if n <= q:
            return fn(x, *extra)
        nb = -(-n // q)
        # The n queries spread evenly over the nb blocks (rows rounded up to 8), so that padding costs at
        # most 8 rows a block, not up to a whole block (10⁴ queries in blocks of 4096: 23 % wasted); never
        # more rows than the block the memory statement assumes.
        q = min(q, -(-n // (nb * 8)) * 8)
        pad = nb * q - n

        def split(a):
            a = jnp.concatenate([a, jnp.repeat(a[-1:], pad, axis=0)]) if pad else a
            return a.reshape(nb, q, *a.shape[1:])

        out = jax.lax.map(lambda args: fn(*args), (split(x), *(split(e) for e in extra)))
        return jax.tree_util.tree_map(lambda o: o.reshape(nb * q, *o.shape[2:])[:n], out)

    def _mean_pass(self, data, t, x):
        """One pass: ȳ (absolute coordinates) with the running log-sum-exp."""
        c, xs, alpha, beta = self._scaled(t, x)
        n = x.shape[0]
        dt = DTYPES[self.dtype]

        def body(data, xs, alpha, beta):
            def step(carry, blk):
                M, Z, S = carry
                L = self._logits(xs, *blk, alpha, beta)
                Mn = jnp.maximum(M, jnp.max(L, axis=1))
                scale = jnp.exp(M - Mn)
                E = jnp.exp(L - Mn[:, None])
                return (Mn, Z * scale + jnp.sum(E, axis=1), S * scale[:, None] + E @ blk[0]), None

            init = (jnp.full((n,), -jnp.inf, dtype=dt), jnp.zeros((n,), dt), jnp.zeros((n, self.dim), dt))
            return jax.lax.scan(step, init, data)[0]

        M, Z, S = self._scan(body, data, xs, alpha, beta)
        if self._mesh is not None:
            _, Z, S = _merge_lse(M, Z, S)
        return c, (S / Z[:, None]).astype(jnp.float64) + jnp.asarray(self.centre)

    def _lse_pass(self, data, xs, alpha, beta):
        """First pass of the centred kernels: log-sum-exp of the logits and each query's most likely point."""
        n = xs.shape[0]
        dt = DTYPES[self.dtype]

        def body(data, xs, alpha, beta):
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
            return jax.lax.scan(step, init, data)[0]

        M, Z, ystar = self._scan(body, data, xs, alpha, beta)
        if self._mesh is not None:
            # the most likely point overall is the first shard's with the largest maximum (as the scan's
            # strict ">" keeps the first chunk's on a tie)
            ystar = jnp.take_along_axis(ystar, jnp.argmax(M, axis=0)[None, :, None], axis=0)[0]
            M, Z = _merge_lse(M, Z)
        return M + jnp.log(Z), ystar

    def _cov_pass(self, data, xs, alpha, beta, lse, ystar, u):
        """Second pass: ``T₁ = Σ r (y − y*)`` and ``T₂ = Σ r (y − y*)((y − y*)·u)`` (centred coordinates)."""

        def body(data, xs, alpha, beta, lse, ystar, u):
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
            return jax.lax.scan(step, (z, z), data)[0]

        T1, T2 = self._sum(*self._scan(body, data, xs, alpha, beta, lse, ystar, u))
        return T1, T2 - T1 * jnp.sum(T1 * u, axis=1)[:, None]

    def _third_pass(self, data, xs, alpha, beta, lse, ystar, u):
        r"""Second pass for :attr:`cov_derivative`: ``Σ r (y − ȳ) ((y − ȳ)·u)²`` (centred coordinates).

        With ``D = y − y*``, ``g = D·u``, ``T₁ = Σ r D = ȳ − y*`` and ``τ = T₁·u`` (so ``Σ r g = τ``):
        ``Σ r (D − T₁)(g − τ)² = Σ r g² D − 2τ Σ r g D + T₁ (2τ² − Σ r g²)``; every sum is about y*, so its
        terms are as small as the posterior's spread (as in :meth:`_cov_pass`).
        """
        def body(data, xs, alpha, beta, lse, ystar, u):
            cu = jnp.sum(ystar * u, axis=1)

            def step(carry, blk):
                T1, A1, A2, B2 = carry
                Yb = blk[0]
                W = jnp.exp(self._logits(xs, *blk, alpha, beta) - lse[:, None])
                G = u @ Yb.T - cu[:, None]  # (y_i − y*)·u
                WG = W * G
                WG2 = WG * G

                def about_ystar(P):  # Σ_c P_c (y_c − y*)
                    return P @ Yb - jnp.sum(P, axis=1)[:, None] * ystar

                return (T1 + about_ystar(W), A1 + about_ystar(WG), A2 + about_ystar(WG2),
                        B2 + jnp.sum(WG2, axis=1)), None

            z = jnp.zeros_like(u)
            return jax.lax.scan(step, (z, z, z, jnp.zeros(u.shape[0], u.dtype)), data)[0]

        T1, A1, A2, B2 = self._sum(*self._scan(body, data, xs, alpha, beta, lse, ystar, u))
        tau = jnp.sum(T1 * u, axis=1)
        return A2 - 2 * tau[:, None] * A1 + T1 * (2 * tau * tau - B2)[:, None]

    def _dense_pass(self, data, xs, alpha, beta, lse, ystar):
        """Second pass for the dense ``Cov_r(y)`` (small d): ``Σ r (y − y*)(y − y*)ᵀ − T₁T₁ᵀ``."""
        n, d = xs.shape

        def body(data, xs, alpha, beta, lse, ystar):
            def step(carry, blk):
                T1, T2 = carry
                W = jnp.exp(self._logits(xs, *blk, alpha, beta) - lse[:, None])
                D = blk[0][None, :, :] - ystar[:, None, :]
                return (T1 + jnp.einsum("nc,ncd->nd", W, D), T2 + jnp.einsum("nc,ncd,nce->nde", W, D, D)), None

            init = (jnp.zeros((n, d), xs.dtype), jnp.zeros((n, d, d), xs.dtype))
            return jax.lax.scan(step, init, data)[0]

        T1, T2 = self._sum(*self._scan(body, data, xs, alpha, beta, lse, ystar))
        return T1, T2 - T1[:, :, None] * T1[:, None, :]

    # -- public functions ------------------------------------------------------------------------------
    #
    # Each is ``jax.tree_util.Partial(jax.jit(f), data)`` with ``f(data, t, x, …)``: the data enter every
    # compiled kernel as an argument. Closed over instead, JAX embeds them in the program as constants,
    # so every compiled shape would carry its own copy of the data (measured: a jitted sum over a closed-
    # over 200 MB array compiles to 400 MB of HLO text and holds ~1 GB more). A Partial is a pytree whose
    # leaves are the data, so a caller that jits around a kernel passes it as an argument too
    # (:func:`gifsym.numerics.simulate.integrate` does).

    def _bind(self, f, *, static_argnums=()) -> jax.tree_util.Partial:
        # Called from Python at a time where the coefficients are not finite (a_t = 0 with σ = 0): a clear
        # error instead of NaN; inside a trace (the solver) nothing is checked (gifsym.numerics.singular_end).
        kernel = guard_time(jax.jit(f, static_argnums=static_argnums), self._singular,
                            f"the field of the data target (sigma = {self.lam ** 0.5:g})", lead=1)
        if self._mesh is not None and jax.process_count() > 1:
            kernel = _global_call(kernel, self._mesh)
        return jax.tree_util.Partial(kernel, self._data)

    def _singular(self, t: float) -> bool:
        """Whether the time coefficients ``c_x, c_m, b/s`` are not finite at t (σ = 0 and a_t = 0)."""
        with np.errstate(all="ignore"):
            c = self._coefficients(t)
            vals = [float(v) for v in (c.cx, c.cm, c.s, c.b)]
            return not (all(np.isfinite(vals)) and vals[2] > 0)

    def _ybar(self, data, t, x, what: str):
        self._check(x.shape[0], "stream", what)
        return self._blocked(lambda xb: self._mean_pass(data, t, xb)[1], x)

    def coefficients(self, t) -> Coefficients:
        """The time coefficients ``c_x, c_m, s, b`` at t (JAX scalars; ``∇v = c_x I + (c_m b/s) Cov_r(y)``)."""
        return self._coefficients(t)

    @cached_property
    def velocity(self) -> Callable:
        """``v(t, x)``: x (n, d) → (n, d), jitted."""

        def f(data, t, x):
            c = self._coefficients(t)
            return c.cx * x + c.cm * self._ybar(data, t, x, "the velocity")

        return self._bind(f)

    @cached_property
    def score(self) -> Callable:
        """``∇ log p_t = (b ȳ − x)/s``."""

        def f(data, t, x):
            c = self._coefficients(t)
            return (c.b * self._ybar(data, t, x, "the score") - x) / c.s

        return self._bind(f)

    @cached_property
    def posterior_mean(self) -> Callable:
        """``m(t, x) = E[X₁ | X_t = x] = ȳ + (λb/s)(x − b ȳ)``."""

        def f(data, t, x):
            c = self._coefficients(t)
            yb = self._ybar(data, t, x, "the posterior mean")
            return yb + (self.lam * c.b / c.s) * (x - c.b * yb)

        return self._bind(f)

    def _centred(self, data, t, x, kernel):
        c, xs, alpha, beta = self._scaled(t, x)
        lse, ystar = self._lse_pass(data, xs, alpha, beta)
        return c, kernel(data, xs, alpha, beta, lse, ystar), ystar

    @cached_property
    def cov_matvec(self) -> Callable:
        """``(t, x, u) -> Cov_r(y) u`` (the spread of the data under the posterior), centred (see module)."""

        def f(data, t, x, u):
            self._check(x.shape[0], "stream", "Cov_r(y) u")

            def one(xb, ub):
                dt = DTYPES[self.dtype]
                _, (_, Cu), _ = self._centred(data, t, xb, lambda *a: self._cov_pass(*a, ub.astype(dt)))
                return Cu.astype(jnp.float64)

            return self._blocked(one, x, u)

        return self._bind(f)

    @cached_property
    def jvp(self) -> Callable:
        """``(t, x, u) -> (v(t, x), ∇v(t, x) u)`` for row-wise tangents u (n, d), jitted."""

        def f(data, t, x, u):
            self._check(x.shape[0], "stream", "the Jacobian-vector product")

            def one(xb, ub):
                dt = DTYPES[self.dtype]
                c, (T1, Cu), ystar = self._centred(data, t, xb, lambda *a: self._cov_pass(*a, ub.astype(dt)))
                ybar = (ystar + T1).astype(jnp.float64) + jnp.asarray(self.centre)
                v = c.cx * xb + c.cm * ybar
                return v, c.cx * ub + (c.cm * c.b / c.s) * Cu.astype(jnp.float64)

            return self._blocked(one, x, u)

        return self._bind(f)

    @cached_property
    def cov_derivative(self) -> Callable:
        r"""``(t, x, u) -> ∇_x (uᵀ Cov_r(y) u) = (b/s) Σ r_i (y_i − ȳ) ((y_i − ȳ)·u)²`` for a fixed u per row.

        Why: ``∂ℓ_i/∂x = (b y_i − x)/s``, so ``∂r_i/∂x = (b/s) r_i (y_i − ȳ)``, and the derivative of ȳ
        drops out because ``Σ r_i (y_i − ȳ)·u = 0``. With u a unit eigenvector of ∇v for a simple
        eigenvalue λ, ``∇_x λ = (c_m b/s) · cov_derivative(t, x, u)`` (first-order perturbation of a
        symmetric matrix): the gradient of the worst-x search, streamed like a JVP (no reverse-mode through
        the scan, whose saved residuals would grow with N).
        """

        def f(data, t, x, u):
            self._check(x.shape[0], "stream", "the covariance derivative")

            def one(xb, ub):
                dt = DTYPES[self.dtype]
                c, xs, alpha, beta = self._scaled(t, xb)
                lse, ystar = self._lse_pass(data, xs, alpha, beta)
                out = self._third_pass(data, xs, alpha, beta, lse, ystar, ub.astype(dt)).astype(jnp.float64)
                return (c.b / c.s) * out

            return self._blocked(one, x, u)

        return self._bind(f)

    def _cov(self, data, t, x):
        self._check(x.shape[0], "dense", "the dense posterior covariance")

        def one(xb):
            _, (_, Cd), _ = self._centred(data, t, xb, self._dense_pass)
            return Cd.astype(jnp.float64)

        return self._blocked(one, x, block=self.dense_block)

    @cached_property
    def cov(self) -> Callable:
        """``(t, x) -> Cov_r(y)`` dense (n, d, d); queries go in blocks of :attr:`dense_block` so that the
        (q, C, d) tiles stay under :data:`DENSE_TILE_BYTES`."""
        return self._bind(self._cov)

    @cached_property
    def jacobian(self) -> Callable:
        """``∇v(t, x) = c_x I + (c_m b/s) Cov_r(y)``, dense (n, d, d)."""

        def f(data, t, x):
            c = self._coefficients(t)
            return c.cx * jnp.eye(self.dim) + (c.cm * c.b / c.s) * self._cov(data, t, x)

        return self._bind(f)

    @cached_property
    def posterior_cov(self) -> Callable:
        """``C(t, x) = Cov(X₁ | X_t = x) = (λa²/s) I + (a²/s)² Cov_r(y)`` (a² = s − λb²), dense."""

        def f(data, t, x):
            c = self._coefficients(t)
            a2 = c.s - self.lam * c.b * c.b
            return (self.lam * a2 / c.s) * jnp.eye(self.dim) + (a2 / c.s) ** 2 * self._cov(data, t, x)

        return self._bind(f)

    @cached_property
    def max_eigenvalue(self) -> Callable:
        """``(t, x, iters) -> λ_max(∇v(t, x))`` per query by power iteration on ``Cov_r(y) ≽ 0`` (its largest
        eigenvalue ρ gives ``c_x + (c_m b/s) ρ`` because the coefficient is ≥ 0 under S-mono). The
        Rayleigh quotient after ``iters`` steps is a lower bound on ρ (an estimate of λ_max from below)."""

        def f(data, t, x, iters=50, seed=0):
            self._check(x.shape[0], "stream", "power iteration")
            key = jax.random.split(jax.random.PRNGKey(seed), 1)[0]

            def one(xb):
                c, xs, alpha, beta = self._scaled(t, xb)
                lse, ystar = self._lse_pass(data, xs, alpha, beta)
                u0 = jax.random.normal(key, xb.shape, dtype=xs.dtype)

                def body(_, u):
                    u = u / jnp.linalg.norm(u, axis=1, keepdims=True)
                    return self._cov_pass(data, xs, alpha, beta, lse, ystar, u)[1] + 1e-30 * u

                u = jax.lax.fori_loop(0, iters, body, u0)
                u = u / jnp.linalg.norm(u, axis=1, keepdims=True)
                rho = jnp.sum(u * self._cov_pass(data, xs, alpha, beta, lse, ystar, u)[1], axis=1).astype(jnp.float64)
                return c.cx + (c.cm * c.b / c.s) * rho

            return self._blocked(one, x)

        return self._bind(f, static_argnums=(3,))

    def evaluate(self, t: float, x, *, shard: bool | None = None) -> np.ndarray:
        """``v(t, x)`` as a NumPy array, with the queries spread over all devices (default: when there are
        several; the data are replicated)."""
        if shard is None:
            shard = device_count() > 1
        if self._mesh is not None:  # data split by points: queries replicated (see _global_call)
            return np.asarray(gather(self.velocity(t, np.asarray(x, dtype=np.float64))))
        if shard:
            xs, n = shard_particles(np.asarray(x, dtype=np.float64))
            return gather(self.velocity(t, xs))[:n]
        return np.asarray(self.velocity(t, jnp.asarray(x, dtype=jnp.float64)))


__all__ = ["CHUNK", "DENSE_TEMPS", "DENSE_TILE_BYTES", "DTYPES", "KINDS", "LAYOUT_COMPILE_BYTES", "QUERY_ARRAYS", "QUERY_BLOCK", "TEMPS",
           "RUNTIME_BYTES", "STAGING_BYTES", "Coefficients", "EmpiricalField", "Sizes", "sizes"]
