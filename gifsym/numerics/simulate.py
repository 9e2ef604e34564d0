r"""Push particles through a GIF with diffrax (float64): noise → data, or data → noise.

The ODE is ``dX_t/dt = v(t, X_t)`` (math.md §1) for an (n, d) array of independent particles, solved as
one system: adaptive Tsit5 (default), Dopri5 or Dopri8 with a PID step-size controller, or fixed-step
Euler, Heun or RK4 with ``steps`` steps (for convergence-order studies). ``reverse=True`` runs the same
ODE backwards in time, from ``t1`` to ``t0``: the encoder ``X_{1,0}``.

Error control uses the max norm over all particles by default (each particle is held to
``atol + rtol·|x|``, and the norm is exact in any summation order, so sharded runs take exactly the
steps a single-device run takes); ``norm="rms"`` matches ``scipy.integrate.solve_ivp``.

Endpoints. Where the field is finite at t = 1 (Gaussian and GMM targets: every component has variance
> 0) the flow runs to 1. Where it is not (quadrature oracles, whose evaluation divides by a_t), the run
stops at ``1 − ε`` (ε = ``eps``, default :data:`DEFAULT_EPS`) and reports ε together with the coupling
bound on what stopping early costs,

.. math::

    W_2(p_{1-ε}, ν) \le \big\| a_{1-ε} Z + (b_{1-ε} - 1) X_1 \big\|_{L^2}
    = \sqrt{a_{1-ε}^2\, d + (1 - b_{1-ε})^2\, \mathbb E|X_1|^2}

(Z ⊥ X₁ and E Z = 0, so the cross term vanishes). A reverse run started from data samples at ``1 − ε``
starts from ν instead of ``p_{1−ε}`` and carries the same W₂ discrepancy into the encoder.

Example:
    >>> import numpy as np
    >>> from gifsym import GIF, schedule, target
    >>> flow = GIF(schedule("linear"), target("gaussian:sigma=2"))
    >>> res = simulate(flow, np.array([[1.0], [-0.5]]), rtol=1e-10, atol=1e-12)
    >>> np.round(res.x[:, 0], 8).tolist()  # the exact map: X_{0,1}(x) = 2x
    [2.0, -1.0]
"""

from __future__ import annotations

import functools
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import sympy

from gifsym.errors import NumericError
from gifsym.numerics.empirical_field import sizes as empirical_sizes
from gifsym.numerics.fields import enable_x64, endpoint_report, field
from gifsym.numerics.oracle import OracleFlow
from gifsym.numerics.sharding import (
    device_count,
    gather,
    points_mesh,
    points_mesh_of,
    replicate_particles,
    shard_particles,
)
from gifsym.symbolic.empirical import EmpiricalLaw
from gifsym.symbolic.expr import as_expr
from gifsym.symbolic.schedule import t as T_SYM

#: Adaptive solvers (embedded error estimate) and fixed-step solvers (need ``steps``), with their orders.
ADAPTIVE = {"tsit5": 5, "dopri5": 5, "dopri8": 8}
FIXED = {"euler": 1, "heun": 2, "rk4": 4}
SOLVERS = {**ADAPTIVE, **FIXED}

#: Default distance from t = 1 at which a run stops when the field is not finite at 1. With a_t ~ 1 − t
#: near 1 (linear schedule) the W₂ cost of stopping is ~ε·(d + E|X₁|²)^{1/2}, while the field's
#: Jacobian (∼ ȧ/a for a compactly supported target) stays ~1/ε, which adaptive solvers handle.
DEFAULT_EPS = 1e-3
#: Number of saved times when ``save_path=True``.
DEFAULT_PATH_POINTS = 101
#: Step budget of adaptive solves: far above the few hundred steps a flow needs at rtol 1e-10.
MAX_STEPS = 100_000
#: A run is "long" (progress shown on a TTY by default) from this many particle-coordinates on.
PROGRESS_SIZE = 200_000


@dataclass(frozen=True)
class SimulationStats:
    """Step statistics of one solve.

    Attributes:
        num_steps: steps attempted.
        num_accepted: steps accepted.
        num_rejected: steps rejected by the error controller.
        wall_s: wall-clock seconds of the call (including compilation on first use).
        devices: number of devices the particles were spread over.
    """

    num_steps: int
    num_accepted: int
    num_rejected: int
    wall_s: float
    devices: int

    def to_dict(self) -> dict:
        return {"num_steps": self.num_steps, "num_accepted": self.num_accepted,
                "num_rejected": self.num_rejected, "wall_s": self.wall_s, "devices": self.devices}


@dataclass(frozen=True)
class SimulationResult:
    """The outcome of :func:`simulate`.

    Attributes:
        x: end points, (n, d) float64: at ``t_end`` (data side when forward, noise side when reverse).
        t_start: time the particles started at.
        t_end: time they ended at.
        reverse: whether the run went data → noise.
        solver: solver name.
        eps: ``1 − (largest time of the run)``: 0 when the run reached (or started at) t = 1.
        w2_endpoint: upper bound on ``W₂(p_{1−ε}, ν)``, the cost of not reaching t = 1 (0 when ε = 0;
            ``None`` when the target's second moment is unknown).
        ts: saved times, (k,), when a path was asked for.
        path: the particles at ``ts``, (k, n, d).
        stats: step statistics, when asked for.
    """

    x: np.ndarray
    t_start: float
    t_end: float
    reverse: bool
    solver: str
    eps: float
    w2_endpoint: float | None
    ts: np.ndarray | None = None
    path: np.ndarray | None = None
    stats: SimulationStats | None = None

    def to_dict(self) -> dict:
        """A JSON-ready summary (no arrays)."""
        return {"n": int(self.x.shape[0]), "dim": int(self.x.shape[1]), "t_start": self.t_start,
                "t_end": self.t_end, "reverse": self.reverse, "solver": self.solver, "eps": self.eps,
                "w2_endpoint": self.w2_endpoint, "stats": self.stats.to_dict() if self.stats else None}


# ---------------------------------------------------------------------------------------------------------
# The flow's numbers: field, endpoints, second moment, sampling


def flow_dim(gif) -> int:
    """The state dimension of a flow with a numerical field (exact law or oracle member)."""
    d = gif.dim
    if d is None:
        raise NumericError(
            f"target {gif.target.spec!r} is a class of laws, which has no field to simulate; pick a member "
            "with gifsym.oracle.oracle_flow(schedule, target) (the CLI does this for you)")
    return int(d)


def endpoints(gif) -> tuple[bool, bool]:
    """Whether the numerical field can be evaluated at t = 0 and at t = 1."""
    if isinstance(gif, OracleFlow):
        a0 = _value(gif.schedule.a, 0.0)
        return math.isfinite(a0) and a0 > 0, False  # the quadrature divides by a_t, which is 0 at t = 1
    flow_dim(gif)
    rep = endpoint_report(gif)
    return rep.finite_at_0, rep.finite_at_1


def second_moment(gif) -> float | None:
    """``E|X₁|²`` of the target (exact law or oracle member), or ``None``."""
    if isinstance(gif, OracleFlow):
        return gif.oracle.second_moment
    return gif.target.law.second_moment if gif.target.law is not None else None


def _value(expr: sympy.Expr, tt: float) -> float:
    v = as_expr(expr, names={"t": T_SYM}).subs(T_SYM, tt)
    if v.free_symbols:
        raise NumericError(f"the schedule has symbolic parameters {sorted(map(str, v.free_symbols))}; give them numbers")
    try:
        return float(v)
    except TypeError:  # zoo, nan: not a real number
        return math.nan


def w2_time_shift(gif, s: float, u: float) -> float | None:
    r"""Coupling bound ``W₂(p_s, p_u) ≤ ((a_s − a_u)² d + (b_s − b_u)² E|X₁|²)^{1/2}`` (same Z, X₁).

    Example:
        >>> from gifsym import GIF, schedule, target
        >>> round(w2_time_shift(GIF(schedule("linear"), target("gaussian:sigma=1")), 0.9, 1.0), 6)  # 0.1·√2
        0.141421
    """
    m2 = second_moment(gif)
    if m2 is None:
        return None
    if s == u:
        return 0.0
    a = _value(gif.schedule.a, s) - _value(gif.schedule.a, u)
    b = _value(gif.schedule.b, s) - _value(gif.schedule.b, u)
    return math.sqrt(a * a * flow_dim(gif) + b * b * m2)


def _key(key, seed: int):
    import jax
    enable_x64()
    if key is None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise NumericError(f"seed must be an integer, got {seed!r}")
        return jax.random.PRNGKey(int(seed))
    return key


def sample_target(gif, n: int, *, key=None, seed: int = 0):
    """``n`` samples of the target ν (exact Gaussian/GMM law, or the oracle member), (n, d) float64.

    Example:
        >>> from gifsym import GIF, schedule, target
        >>> sample_target(GIF(schedule("linear"), target("gaussian:sigma=1,dim=3")), 4).shape
        (4, 3)
    """
    import jax
    import jax.numpy as jnp
    n = _count(n)
    check_size(gif, n, what=f"sampling {n} points of the target")
    key = _key(key, seed)
    if isinstance(gif, OracleFlow):
        return gif.oracle.sample(n, key=key)
    flow_dim(gif)
    law = gif.target.law
    if isinstance(law, EmpiricalLaw):  # data: a uniformly drawn point, plus σ·Z when smoothed
        kc, kz = jax.random.split(key)
        y = jnp.asarray(law.points[np.asarray(jax.random.randint(kc, (n,), 0, law.N))])
        return y + float(law.sigma) * jax.random.normal(kz, y.shape, dtype=jnp.float64) if law.smoothed else y
    arr = law.arrays
    kc, kz = jax.random.split(key)
    comp = jax.random.categorical(kc, jnp.log(jnp.asarray(arr["weights"])), shape=(n,))
    chol = jnp.asarray(np.linalg.cholesky(arr["covs"]))  # (K, d, d)
    z = jax.random.normal(kz, (n, arr["means"].shape[1]), dtype=jnp.float64)
    return jnp.asarray(arr["means"])[comp] + jnp.einsum("nij,nj->ni", chol[comp], z)


def sample_source(gif, n: int, *, key=None, seed: int = 0):
    r"""``n`` samples of the source ``μ = Law(a₀Z + b₀X₁)``, (n, d) float64.

    ``N(0, a₀² I)`` when ``b₀ = 0``; otherwise the exact law, which needs target samples (VP, sub-VP, VE).

    Example:
        >>> from gifsym import GIF, schedule, target
        >>> x = sample_source(GIF(schedule("linear"), target("gaussian:sigma=1")), 20000, seed=1)
        >>> bool(abs(float(x.std()) - 1) < 0.02)  # a₀ = 1; 0.02 ≈ 3 standard errors of the sample std
        True
    """
    import jax
    import jax.numpy as jnp

    n = _count(n)
    check_size(gif, n, what=f"sampling {n} points of the source")
    d = flow_dim(gif)
    key = _key(key, seed)
    a0, b0 = _value(gif.schedule.a, 0.0), _value(gif.schedule.b, 0.0)
    kz, kx = jax.random.split(key)
    z = a0 * jax.random.normal(kz, (n, d), dtype=jnp.float64)
    if b0 == 0:
        return z
    return z + b0 * sample_target(gif, n, key=kx)


def _count(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise NumericError(f"the number of samples must be a positive integer, got {n!r}")
    return int(n)


#: Arrays of n·d floats a solve keeps alive at once (state, Runge–Kutta stages, error estimate, buffers):
#: generous, so that the estimate errs on the side of refusing.
_STATE_COPIES = 40
#: Arrays of n·(components or quadrature nodes)·d floats the field builds per evaluation.
_FIELD_COPIES = 6
#: Dense n·d·d Jacobians a check holds at once (the symbolic one, jax.jacfwd's, their difference and the
#: eigenvalue work), for every target: ``verify --dim 10000`` needs them whatever the law.
_JACOBIAN_COPIES = 4


def memory_estimate(gif, n: int, *, save_path: int = 0, pairwise: bool = False) -> float:
    """Bytes a simulation (or check) of ``n`` particles needs, roughly: the solver's copies of the state,
    the field's per-component (or per-quadrature-node) intermediates — for a data target the streaming
    field's stated layout and tiles (:class:`gifsym.numerics.empirical_field.Sizes`) —, saved paths, and an
    ``n × n`` cost matrix when ``pairwise`` (a check: exact W₂ between samples, and the dense ``n·d²``
    Jacobians at the n samples; for data those are the streaming field's dense evaluation)."""
    d = flow_dim(gif)
    law = None if isinstance(gif, OracleFlow) else gif.target.law
    if isinstance(law, EmpiricalLaw):
        # Data: the streaming field's stated memory (its layout and its tiles), not an n × N × d array; a
        # check (pairwise) also takes dense Jacobians at the n samples.
        z = empirical_sizes(law.N, law.dim)
        field_bytes = float(z.layout_bytes() + z.evaluation_bytes(n, kind="dense" if pairwise else "stream"))
    elif isinstance(gif, OracleFlow):
        from gifsym.numerics.oracle import N_NODES

        field_bytes = 8.0 * n * N_NODES * d * _FIELD_COPIES
    else:
        field_bytes = 8.0 * n * law.K * d * _FIELD_COPIES
    total = 8.0 * n * d * (_STATE_COPIES + save_path) + field_bytes
    if pairwise:
        total += 8.0 * 3 * n * n
        if not isinstance(law, EmpiricalLaw):  # the streaming field's dense evaluation counts its own Jacobians
            total += 8.0 * _JACOBIAN_COPIES * n * d * d
    return total


def check_size(gif, n: int, *, save_path: int = 0, pairwise: bool = False, what: str = "") -> None:
    """Refuse, before anything is allocated, a run that would need more than half the available memory
    (``simulate -n 1000000000000`` is an error, not an abort inside XLA).

    Raises:
        WorkLimitError: the estimate of :func:`memory_estimate` exceeds the allowance.
    """
    from gifsym.budget import check_allocation

    n = _count(n)
    check_allocation(memory_estimate(gif, n, save_path=save_path, pairwise=pairwise),
                     what or f"{n} particles in dimension {flow_dim(gif)}")


# ---------------------------------------------------------------------------------------------------------
# diffrax plumbing


@functools.lru_cache(maxsize=1)
def _rk4_class():
    from diffrax._local_interpolation import ThirdOrderHermitePolynomialInterpolation
    from diffrax._solver.runge_kutta import AbstractERK, ButcherTableau

    class RK4(AbstractERK):
        """The classical 4-stage, 4th-order Runge–Kutta method (no error estimate: fixed steps only)."""

        tableau = ButcherTableau(
            a_lower=(np.array([0.5]), np.array([0.0, 0.5]), np.array([0.0, 0.0, 1.0])),
            b_sol=np.array([1 / 6, 1 / 3, 1 / 3, 1 / 6]),
            b_error=np.zeros(4),
            c=np.array([0.5, 0.5, 1.0]),
        )
        interpolation_cls = ThirdOrderHermitePolynomialInterpolation.from_k

        def order(self, terms):
            return 4

    return RK4


def _solver(name: str):
    import diffrax

    return {"tsit5": diffrax.Tsit5, "dopri5": diffrax.Dopri5, "dopri8": diffrax.Dopri8, "euler": diffrax.Euler,
            "heun": diffrax.Heun, "rk4": _rk4_class()}[name]()


def _progress_meter():
    import importlib.util

    import diffrax

    if importlib.util.find_spec("tqdm") is not None:
        return diffrax.TqdmProgressMeter()

    class StderrMeter(diffrax.TextProgressMeter):
        """diffrax's text meter, on one stderr line (stdout stays clean for ``--json``)."""

        @staticmethod
        def _init_bar():
            sys.stderr.write("simulate:   0%")
            sys.stderr.flush()
            return [0.0]

        @staticmethod
        def _step_bar(bar, progress):
            bar[0] = float(np.asarray(progress))
            sys.stderr.write(f"\rsimulate: {100 * bar[0]:3.0f}%")
            sys.stderr.flush()

        @staticmethod
        def _close_bar(bar):
            sys.stderr.write("\rsimulate: 100%\n")
            sys.stderr.flush()

    return StderrMeter(minimum_increase=0.05)


def _max_norm(y):
    import jax.numpy as jnp

    return jnp.max(jnp.abs(y))


def _rms_norm(y):
    import jax.numpy as jnp

    return jnp.sqrt(jnp.mean(y * y))


@functools.lru_cache(maxsize=128)
def _compiled_solve(field: Callable, solver: str, norm: str, fixed_steps: int | None, n_save: int, progress: bool):
    """A jitted ``run(x0, t_from, t_to, drift, rtol, atol, steps) -> (x_end, path, stats, result)``.

    Cached on the field object (fields are cached per flow) and on what changes the compiled program: the
    solver, the norm, adaptive or fixed steps (a power-of-two step budget for fixed steps) and the number
    of saved times. Times, tolerances, the step count and the drift are traced arguments, so forward and
    reverse runs, perturbed runs and convergence studies reuse one compilation per particle-array shape.
    The field goes in as an argument, a :class:`jax.tree_util.Partial`: a data target's field carries its
    data as the Partial's leaves (:mod:`gifsym.numerics.empirical_field`), which closed over would be
    embedded in the compiled solve as constants.
    """
    import diffrax
    import jax
    import jax.numpy as jnp

    slv = _solver(solver)
    meter = _progress_meter() if progress else diffrax.NoProgressMeter()

    def run(fieldp, x0, t_from, t_to, drift, rtol, atol, steps):
        term = diffrax.ODETerm(lambda tt, y, drift: fieldp(tt, y) + drift)
        if fixed_steps is None:
            ctrl = diffrax.PIDController(rtol=rtol, atol=atol, norm=_max_norm if norm == "max" else _rms_norm)
            dt0, max_steps = None, MAX_STEPS
        else:
            ctrl = diffrax.ConstantStepSize()
            # The last step is clipped to t_to; round-off in t_from + k·dt can add one step of ~1e-16.
            dt0, max_steps = (t_to - t_from) / steps, fixed_steps
        if n_save:
            saveat = diffrax.SaveAt(ts=t_from + (t_to - t_from) * jnp.linspace(0.0, 1.0, n_save))
        else:
            saveat = diffrax.SaveAt(t1=True)
        sol = diffrax.diffeqsolve(term, slv, t_from, t_to, dt0, x0, args=drift, stepsize_controller=ctrl,
                                  saveat=saveat, max_steps=max_steps, throw=False, progress_meter=meter,
                                  adjoint=diffrax.ForwardMode())
        st = sol.stats
        return (sol.ys[-1], sol.ys, (st["num_steps"], st["num_accepted_steps"], st["num_rejected_steps"]),
                sol.result._value)

    fieldp = field if isinstance(field, jax.tree_util.Partial) else jax.tree_util.Partial(field)
    return functools.partial(jax.jit(run), fieldp)


def integrate(field: Callable, x0, t_from: float, t_to: float, *, solver: str = "tsit5", rtol: float = 1e-6,
              atol: float = 1e-9, steps: int | None = None, norm: str = "max", n_save: int = 0,
              drift=None, progress: bool = False, shard: bool | None = None, same_on_all: bool = False):
    """Solve ``dx/dt = field(t, x) + drift`` from ``t_from`` to ``t_to`` (either direction).

    The low-level entry point under :func:`simulate` (which adds endpoints, sampling conventions and
    validation); ``field`` is a JAX function of ``(t, x)`` with x of shape (n, d).

    With several processes ``x0`` is this process's share of the particles, unless ``same_on_all``: then
    it is all of them, the same on every process (as :func:`gifsym.numerics.verify.verify` draws them).

    Returns:
        ``(x_end, ts, path, (num_steps, num_accepted, num_rejected), devices)`` with NumPy arrays; ``ts`` and
        ``path`` are ``None`` unless ``n_save > 0``.

    Raises:
        NumericError: the solver failed (step budget exhausted, non-finite values).
    """
    import jax
    import jax.numpy as jnp
    enable_x64()
    x0 = np.asarray(x0, dtype=np.float64) if not hasattr(x0, "devices") else x0
    n, d = x0.shape
    if shard is None:
        shard = device_count() > 1
    ndev = 1
    mesh = points_mesh_of(field)
    if mesh is None and same_on_all and jax.process_count() > 1:
        mesh = points_mesh()  # the same particles everywhere: every process runs the whole solve
    if mesh is not None:  # a data target split by points: every shard of the data sees every particle
        x0, n = replicate_particles(x0, mesh, same_on_all=same_on_all)
        ndev = mesh.size
    elif shard:
        x0, n = shard_particles(x0)
        ndev = device_count()
    else:
        x0 = jnp.asarray(x0, dtype=jnp.float64)
    drift = jnp.zeros((d,)) if drift is None else jnp.asarray(drift, dtype=jnp.float64).reshape(d)
    # Fixed steps: the step budget is the next power of two above steps + 1 (at least 4096), so one
    # compilation serves a whole convergence study.
    budget = None if steps is None else max(4096, 1 << int(steps + 2).bit_length())
    run = _compiled_solve(field, solver, norm, budget, int(n_save), bool(progress))
    f64 = jnp.float64
    x_end, ys, st, result = run(x0, f64(t_from), f64(t_to), drift, f64(rtol), f64(atol), f64(steps or 1))
    x_end = gather(x_end)[:n]
    code = int(result)
    if code != 0 or not np.all(np.isfinite(x_end)):
        import diffrax

        if code == int(diffrax.RESULTS.max_steps_reached._value):
            why = f"the step budget ({MAX_STEPS} steps) was exhausted; loosen rtol/atol or stop further from t = 1"
        elif code == 0:
            why = "the particles became non-finite (the field overflowed)"
        else:
            why = f"diffrax stopped with result code {code} (a step size underflow or non-finite field values)"
        raise NumericError(f"the {solver} solve from t = {t_from:g} to t = {t_to:g} failed: {why}")
    path = ts = None
    if n_save:
        path = gather(ys)[:, :n]
        ts = np.asarray(t_from + (t_to - t_from) * np.linspace(0.0, 1.0, n_save))
    stats = tuple(int(v) for v in st)
    return x_end, ts, path, stats, ndev


# ---------------------------------------------------------------------------------------------------------
# The public entry point


def _check_options(solver, rtol, atol, steps, t0, t1, norm) -> None:
    if solver not in SOLVERS:
        raise NumericError(f"unknown solver {solver!r}; accepted: {', '.join(SOLVERS)}")
    if solver in FIXED:
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
            raise NumericError(f"solver {solver!r} takes fixed steps: give steps=N (a positive integer; --steps N on the command line), "
                               f"got {steps!r}")
    elif steps is not None:
        raise NumericError(f"steps is for the fixed-step solvers ({', '.join(FIXED)}); {solver!r} is adaptive "
                           "(use rtol/atol)")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise NumericError(f"{name} must be a positive number, got {v!r}")
    for name, v in (("t0", t0), ("t1", t1)):
        if not (isinstance(v, (int, float)) and 0 <= v <= 1):
            raise NumericError(f"{name} must be a time in [0, 1], got {v!r}")
    if not t0 < t1:
        raise NumericError(f"need t0 < t1 (reverse=True runs from t1 back to t0), got t0={t0}, t1={t1}")
    if norm not in ("max", "rms"):
        raise NumericError(f"norm must be 'max' or 'rms', got {norm!r}")


def simulate(gif, x0, *, t0: float = 0.0, t1: float = 1.0, solver: str = "tsit5", rtol: float = 1e-6,
             atol: float = 1e-9, steps: int | None = None, reverse: bool = False,
             save_path: bool | int = False, stats: bool = False, eps: float | None = None, norm: str = "max",
             drift: Sequence[float] | None = None, progress: bool | None = None,
             shard: bool | None = None) -> SimulationResult:
    r"""Integrate the flow from ``t0`` to ``t1`` (or back, with ``reverse=True``).

    Args:
        gif: a :class:`~gifsym.symbolic.flow.GIF` with an exact target, or an
            :class:`~gifsym.numerics.oracle.OracleFlow` (a class target's concrete member).
        x0: start points, (n, d) (or (n,) when d = 1): samples of ``p_{t0}`` (forward) or of ``p_{t1}``
            (reverse; e.g. data, :func:`sample_target`).
        t0, t1: the time interval, ``0 ≤ t0 < t1 ≤ 1``.
        solver: ``tsit5``, ``dopri5``, ``dopri8`` (adaptive) or ``euler``, ``heun``, ``rk4`` (fixed steps).
        rtol, atol: tolerances of the adaptive solvers.
        steps: number of steps of a fixed-step solver.
        reverse: run data → noise, from ``t1`` to ``t0``.
        save_path: ``True`` for the particles at 101 equally spaced times, or that number of times.
        stats: return step statistics.
        eps: how far before t = 1 to stop when the field is not finite there (default
            :data:`DEFAULT_EPS`); ignored when the run does not reach 1 or the field is finite at 1.
        norm: the error norm over the particle array, ``"max"`` (default) or ``"rms"``.
        drift: a constant vector added to the field (a known perturbation ``ṽ = v + drift``, used by the
            velocity-stability check of :func:`gifsym.numerics.verify`).
        progress: show a progress meter (stderr); default: on a TTY, for runs of at least
            :data:`PROGRESS_SIZE` particle-coordinates or 10⁴ fixed steps.
        shard: spread particles over all JAX devices (default: when there is more than one).

    Returns:
        A :class:`SimulationResult` (end points ``x``, ε and the W₂ cost of stopping early, and, on
        request, ``ts``/``path`` and ``stats``).

    Raises:
        NumericError: a bad option, a class target without a member, or a failed solve.
    """
    _check_options(solver, rtol, atol, steps, t0, t1, norm)
    d = flow_dim(gif)
    x0 = np.asarray(x0, dtype=np.float64) if not hasattr(x0, "devices") else x0
    if x0.ndim == 1 and d == 1:
        x0 = x0.reshape(-1, 1)
    if x0.ndim != 2 or x0.shape[1] != d or x0.shape[0] < 1:
        raise NumericError(f"x0 must have shape (n, {d}) for this {d}-dimensional flow, got {tuple(x0.shape)}")
    if not bool(np.all(np.isfinite(np.asarray(x0)))):
        raise NumericError("x0 has non-finite entries")
    if isinstance(save_path, bool):
        n_save = DEFAULT_PATH_POINTS if save_path else 0
    elif isinstance(save_path, (int, np.integer)) and save_path >= 2:
        n_save = int(save_path)
    else:
        raise NumericError(f"save_path must be True/False or a number of saved times >= 2, got {save_path!r}")
    check_size(gif, int(x0.shape[0]), save_path=n_save, what=f"simulating {int(x0.shape[0])} particles")
    eps = DEFAULT_EPS if eps is None else eps
    if not (isinstance(eps, (int, float)) and 0 < eps < 1):
        raise NumericError(f"eps must be in (0, 1), got {eps!r}")

    finite0, finite1 = endpoints(gif)
    lo, hi = float(t0), float(t1)
    if hi == 1.0 and not finite1:
        hi = 1.0 - eps
    if lo == 0.0 and not finite0:
        lo = eps
    if not lo < hi:
        raise NumericError(f"nothing to integrate: the field is usable on [{lo:g}, {hi:g}] only")
    eps_used = 1.0 - hi
    w2 = w2_time_shift(gif, hi, 1.0) if eps_used > 0 else 0.0

    if progress is None:
        work = x0.shape[0] * d if steps is None else steps
        progress = sys.stderr.isatty() and (work >= (PROGRESS_SIZE if steps is None else 10_000))
    t_from, t_to = (hi, lo) if reverse else (lo, hi)
    start = time.perf_counter()
    x_end, ts, path, st, ndev = integrate(field(gif), x0, t_from, t_to, solver=solver, rtol=rtol, atol=atol,
                                         steps=None if steps is None else int(steps), norm=norm, n_save=n_save,
                                         drift=drift, progress=bool(progress), shard=shard)
    wall = time.perf_counter() - start
    return SimulationResult(
        x=x_end, t_start=t_from, t_end=t_to, reverse=bool(reverse), solver=solver, eps=eps_used, w2_endpoint=w2,
        ts=ts, path=path, stats=SimulationStats(*st, wall, ndev) if stats else None,
    )


__all__ = [
    "ADAPTIVE",
    "DEFAULT_EPS",
    "FIXED",
    "SOLVERS",
    "SimulationResult",
    "SimulationStats",
    "check_size",
    "endpoints",
    "flow_dim",
    "integrate",
    "memory_estimate",
    "sample_source",
    "sample_target",
    "second_moment",
    "simulate",
    "w2_time_shift",
]
