r"""Numerical checks that the theory holds on a real flow, and how tight it is (math.md §8).

:func:`verify` runs, on one flow (an exact Gaussian/GMM target, or a concrete member of a target class
from :mod:`gifsym.numerics.oracle`):

(a) ``velocity`` / ``jacobian``: the symbolic velocity and Jacobian, lambdified, against the JAX field at
    random in-domain points ``(t, x)``, ``x ~ p_t`` (for an oracle: the denoiser form and the key identity
    ``∇v = (ȧ/a) I + [b(aḃ − ȧb)/a³] C`` with the quadrature's m and C, against the field and ``jax.jacfwd``
    of it, which checks Tweedie's ``∇m = (b/a²) C`` on the quadrature);
(b) ``bounds``: on a grid of times, the largest and smallest eigenvalue of ``∇_x v`` over samples of p_t
    and over a gradient search for the worst x, against the derived ``upper_t``, ``lower_t`` and
    ``θ_t``; tightness = worst observed / bound per time. ``flow-map``: finite-difference Lipschitz
    ratios of the simulated flow maps against ``exp ∫ upper`` and ``exp(−∫ lower)``;
(c) ``transport``: the pushed-forward source against the target — Gaussian: Bures W₂ of the sample mean
    and covariance to the exact law; otherwise exact W₂ (POT) to fresh target samples — compared with the
    same statistic for target samples (the sampling noise at that size);
(d) ``auto-encoding``: encode data (reverse flow), decode it again: round-trip error, and the encoded
    samples against the source; ``cycle-consistency``: ``T = X²_{0,1} ∘ X¹_{1,0}`` to a second Gaussian
    target, its inverse, ``T_# ν¹`` against ν², and ``Lip(T) ≤ Lip(X²_{0,1}) Lip(X¹_{1,0})``;
(e) ``velocity-stability``: the flow of ``ṽ = v + η e₁`` from the same starts; by Grönwall every particle
    satisfies ``|Y_T − X_T| ≤ η ∫ exp(∫_s^T θ_r dr) ds`` (math.md §6), which is checked pathwise.

Data targets (``empirical:FILE``, any N): the field is the streaming one of
:mod:`gifsym.numerics.empirical_field`; (a) compares its routes (one-pass and centred velocity; analytic
covariance Jacobian, ``jax.jacfwd`` of the velocity, JVPs) with an independent NumPy reference built from
the denoiser form and the key identity (:mod:`gifsym.numerics.empirical_checks`), and also with the
symbolic Flow objects where those are built (≤ 64 points; above, the check's message and its
``symbolic`` metric say they were not); (b) searches the worst x with the streamed eigenvalue gradient,
and the bounds are those of the data-derived classes (smallest enclosing ball, Gaussian convolution).

A check that cannot run (no bounds for the flow, no finite flow-map constant) is ``skipped`` with the
reason; :attr:`VerifyReport.passed` is False when any check ``failed``.

Tolerances (each justified where it is set): float64 round-off in a quantity computed from terms of size
S is ~1e-16·S; we allow 1e-8·S for identities and bounds, so any algebraic error (O(1) relative) or a
bound understated by more than ~1e-8 relative is caught; solver errors are allowed 10³·rtol, far above
what an rtol-controlled solve leaves and far below an O(1) error; statistical comparisons use limits
whose chance of failing an exact flow was measured by Monte Carlo (< 5e-4 per check).

Example:
    >>> from gifsym import GIF, schedule, target
    >>> rep = verify(GIF(schedule("linear"), target("gaussian:sigma=0.5")), samples=200,
    ...              checks=("velocity", "jacobian"))
    >>> rep.passed, [c.status for c in rep.checks]
    (True, ['passed', 'passed'])
"""

from __future__ import annotations

import functools
import math
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy

from gifsym import theory
from gifsym.errors import GifsymError, NumericError
from gifsym.numerics import empirical_checks as data_checks
from gifsym.numerics import simulate as sim
from gifsym.numerics.fields import empirical_field, enable_x64, jacobian_field, lambdify_jax
from gifsym.numerics.fields import field as velocity_field
from gifsym.numerics.oracle import OracleFlow, oracle_flow
from gifsym.numerics.simulate import DEFAULT_EPS, integrate, sample_source, sample_target
from gifsym.symbolic.empirical import EmpiricalLaw
from gifsym.symbolic.expr import as_expr
from gifsym.symbolic.flow import Flow
from gifsym.symbolic.schedule import t as T_SYM
from gifsym.symbolic.target import gaussian

#: Every check, in the order they run (the letters of the issue: a, a, b, b, c, d, d, e).
CHECKS = ("velocity", "jacobian", "bounds", "flow-map", "transport", "auto-encoding", "cycle-consistency",
          "velocity-stability")
#: The lemma each check tests numerically.
CHECK_LEMMAS = {
    "velocity": "velocity-identity", "jacobian": "jacobian-identity", "bounds": "lipschitz",
    "flow-map": "flow-map-lipschitz", "transport": "well-posed", "auto-encoding": "auto-encoding",
    "cycle-consistency": "cycle-consistency", "velocity-stability": "velocity-stability",
}

# (a): identities hold to round-off. Both sides are float64 evaluations of terms of size ≤ S (see _scale_v),
# by different operation orders (and for oracles, a quadrature accurate to ~1e-13), so 1e-8·S leaves five
# orders of magnitude of margin; a wrong coefficient gives O(1)·S.
IDENTITY_RTOL = 1e-8
# (b): a bound is violated when worst − bound > 1e-8·S_t, S_t = 1 + |ȧ/a| + |bound| the size of the
# terms that cancel in ∇v = (ȧ/a) I + c_t C; round-off is ~1e-13·S_t, an understated bound is off by O(bound).
BOUND_RTOL = 1e-8
# (b) flow-map: finite differences of two solves from starts 1e-4 apart; each solve's error is a smooth
# function of the start (same steps), so the ratio is exact to ~rtol·Lip/1e-4·… ≲ 1e-4 relative at rtol 1e-8.
FLOWMAP_RTOL = 1e-3
FD_STEP = 1e-4
# (c)/(d): a W₂ statistic of pushed samples is compared with the same statistic for exact samples of the
# same size (equal in law when the flow is exact), plus the W₂ cost bounds of stopping at 1 − ε. The limit
# is FACTOR × the largest of R reference replicates. The statistics are not concentrated for multimodal
# targets (W₂ is dominated by how the sample splits between modes: sd/mean ≈ 0.25 at n = 1000 for the
# two-component GMM of the tests, max/median ≈ 2.3 over 240 draws), so the limits were set by Monte Carlo
# of the chance that an exact flow fails: with (R, FACTOR) = (16, 2.5), < 1e-4 for Bures W₂ of a Gaussian
# and ~1e-6 for sorted 1-D W₂ of a bimodal law; with (8, 2.5) for POT's W₂ in 2-D, < 5e-4 for that GMM
# (and ~0 for a Gaussian). A wrong flow moves mass by O(1), against noise O(n^{-1/2}).
CHEAP_REPLICATES, CHEAP_FACTOR = 16, 2.5
OT_REPLICATES, OT_FACTOR = 8, 2.5
# Samples used by the exact-OT statistic in d ≥ 2 (POT's network simplex: ~0.3 s at n = 1000).
OT_MAX = 1000
# (d): round trips of rtol-controlled solves: each solve holds local errors to atol + rtol|x| per step, and
# over the catalogue × {Gaussian, GMM, log-cosh, ball} at rtol 1e-8 the round-trip error is at most
# 1.2·rtol·(1 + max|y|); 10³ times that leaves a margin of ~800 while a wrong direction or time shift in
# either solve gives O(1).
ROUNDTRIP_FACTOR = 1e3
# (e): the constant drift η e₁ of the perturbed field, and the relative slack for solver error in |Y − X|.
DRIFT = 0.05
STABILITY_RTOL = 1e-4
# (b) worst-x search: starts (the k largest sampled values), steps of normalized gradient ascent.
ASCENT_STARTS = 16
ASCENT_STEPS = 60


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check.

    Attributes:
        name: one of :data:`CHECKS`.
        status: ``"passed"``, ``"failed"`` or ``"skipped"``.
        message: one line saying what was compared and how it came out.
        metrics: the figures (floats; ``inf`` where unbounded).
        rows: per-time rows of the ``bounds`` check (t, bounds, worst observed, tightness ratios).
        lemma: the lemma the check tests.
    """

    name: str
    status: str
    message: str
    metrics: Mapping[str, Any] = field(default_factory=dict)
    rows: tuple[Mapping[str, Any], ...] = ()
    lemma: str = ""

    @property
    def passed(self) -> bool:
        """Not failed (a skipped check does not fail a report)."""
        return self.status != "failed"

    def to_dict(self) -> dict:
        return {"name": self.name, "status": self.status, "lemma": self.lemma, "message": self.message,
                "metrics": _json(dict(self.metrics)), "rows": [_json(dict(r)) for r in self.rows]}


@dataclass(frozen=True)
class VerifyReport:
    """The checks of :func:`verify` on one flow.

    Attributes:
        schedule: schedule spec.
        target: target spec.
        member: the oracle member used for a class target (a description), or None.
        dim: dimension of the simulated flow.
        samples: particles per simulation.
        seed: PRNG seed.
        checks: the results, in :data:`CHECKS` order.
        wall_s: seconds taken.
    """

    schedule: str
    target: str
    member: str | None
    dim: int
    samples: int
    seed: int
    checks: tuple[CheckResult, ...]
    wall_s: float = 0.0

    @property
    def passed(self) -> bool:
        """Whether no check failed."""
        return all(c.passed for c in self.checks)

    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.status == "failed")

    def __getitem__(self, name: str) -> CheckResult:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict:
        """A JSON-ready dict (numbers are floats; ``null`` for non-finite values)."""
        return {"schedule": self.schedule, "target": self.target, "member": self.member, "dim": self.dim,
                "samples": self.samples, "seed": self.seed, "passed": self.passed, "wall_s": self.wall_s,
                "checks": [c.to_dict() for c in self.checks]}

    def __str__(self) -> str:
        head = f"verify {self.schedule} -> {self.target}" + (f" (member: {self.member})" if self.member else "")
        lines = [head, f"  {self.samples} samples, d = {self.dim}, seed {self.seed}, {self.wall_s:.1f} s"]
        for c in self.checks:
            lines.append(f"  {c.status.upper():7} {c.name:19} {c.message}")
        rows = next((c.rows for c in self.checks if c.name == "bounds"), ())
        if rows:
            lines.append("  bounds: t, lower <= min eig, max eig <= upper, theta, tightness max|eig|/theta")
            for r in rows:
                lines.append(f"    t={r['t']:.4f}  {_f(r['lower'])} <= {_f(r['min_eig'])}   {_f(r['max_eig'])} <= "
                             f"{_f(r['upper'])}   theta={_f(r['theta'])}   {_f(r['tightness'])}")
        lines.append("  all checks hold" if self.passed else
                     f"  FAILED: {', '.join(c.name for c in self.failures())}")
        return "\n".join(lines)

    def to_latex(self) -> str:
        """A LaTeX ``tabular`` of the bounds check: bound against worst observed eigenvalue per time."""
        rows = next((c.rows for c in self.checks if c.name == "bounds"), ())
        head = r"$t$ & $\ell_t$ & $\min\lambda$ & $\max\lambda$ & $u_t$ & $\max|\lambda|/\theta_t$ \\ \hline"
        out = [r"\begin{tabular}{rrrrrr}", head]
        for r in rows:
            out.append(" & ".join(_tex(r[k]) for k in ("t", "lower", "min_eig", "max_eig", "upper", "tightness"))
                       + r" \\")
        out.append(r"\end{tabular}")
        return "\n".join(out)


def _f(x: float | None) -> str:
    if x is None:
        return "   n/a"
    return f"{x:9.4g}" if math.isfinite(x) else ("     +inf" if x > 0 else "     -inf")


def _tex(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return r"$\infty$" if x is not None and x > 0 else (r"$-\infty$" if x is not None else "--")
    return f"{x:.4g}"


def _json(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json(v) for v in obj]
    if isinstance(obj, (bool, str)) or obj is None:
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    try:
        v = float(obj)
    except (TypeError, ValueError):
        return str(obj)
    return v if math.isfinite(v) else None


# ---------------------------------------------------------------------------------------------------------
# Bound expressions as NumPy functions


@dataclass(frozen=True)
class _BoundFns:
    upper: Any
    lower: Any
    theta: Any
    lemmas: tuple[str, ...]

    @staticmethod
    def build(b: Any) -> _BoundFns:
        def fn(expr):
            expr = as_expr(expr, names={"t": T_SYM}, what="bound")
            free = expr.free_symbols - {T_SYM}
            if free:
                raise NumericError(f"the bounds have symbolic parameters {sorted(map(str, free))}; give them numbers")
            f = sympy.lambdify(T_SYM, expr, modules="numpy")

            def raw(tt):
                with np.errstate(all="ignore"):
                    return np.broadcast_to(np.asarray(f(tt), dtype=float), tt.shape).copy()

            def g(tt):
                tt = np.asarray(tt, dtype=float)
                out = raw(tt)
                bad = np.isnan(out)
                if np.any(bad):
                    # 0/0 forms at an end (e.g. a·ȧ at t = 1 for Föllmer): the bounds are continuous on
                    # their interval, so take the value just inside it.
                    near = tt[bad] - 1e-9 * np.where(tt[bad] > 0.5, 1.0, -1.0)
                    out[bad] = raw(near)
                return out

            return g

        theta = getattr(b, "lipschitz", None)
        if theta is None:
            theta = sympy.Max(b.upper, -b.lower)
        return _BoundFns(fn(b.upper), fn(b.lower), fn(theta), tuple(getattr(b, "lemmas", ()) or ()))


def _gronwall(theta, lo: float, hi: float, eta: float) -> float:
    r"""``η ∫_lo^hi exp(∫_s^hi θ_r dr) ds``, as the solution at ``hi`` of ``B' = θ B + η``, ``B(lo) = 0``.

    (Pathwise Grönwall: ``|Y − X|' ≤ θ |Y − X| + η``.) DOP853 at rtol 1e-10 — far below the 1e-4 slack the
    check allows — and it steps through the kinks of a ``Max`` of bound pieces adaptively.

    Example:
        >>> round(_gronwall(lambda s: np.ones_like(s), 0.0, 1.0, 1.0), 9)  # ∫_0^1 e^{1−s} ds = e − 1
        1.718281828
    """
    from scipy.integrate import solve_ivp

    with np.errstate(over="ignore", invalid="ignore"):  # θ blowing up makes B overflow: the bound is then +inf
        sol = solve_ivp(lambda s, y: theta(np.array(s)) * y + eta, (lo, hi), [0.0], method="DOP853", rtol=1e-10,
                        atol=1e-14)
    if not sol.success:
        return math.inf
    v = float(sol.y[0, -1])
    return v if math.isfinite(v) else math.inf


def _quad(f, lo: float, hi: float) -> float:
    """``∫_lo^hi f`` to ~1e-11 relative (the integrands are smooth on the open interval)."""
    from scipy.integrate import quad

    if hi <= lo:
        return 0.0
    val, _ = quad(lambda s: float(f(np.array(s))), lo, hi, epsabs=1e-13, epsrel=1e-11, limit=400)
    return val


# ---------------------------------------------------------------------------------------------------------
# Statistics


def bures_w2(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> float:
    r"""W₂ between ``N(x̄, Σ̂)`` (sample moments of x) and ``N(mean, cov)``:
    ``|x̄ − m|² + tr(Σ̂ + Σ − 2 (Σ^{1/2} Σ̂ Σ^{1/2})^{1/2})``.

    Example:
        >>> import numpy as np
        >>> x = np.array([[1.0], [3.0]])  # mean 2, variance 1 (population)
        >>> round(bures_w2(x, np.array([2.0]), np.array([[4.0]])), 12)  # |1 − 2| = 1
        1.0
    """
    from scipy.linalg import sqrtm

    xm = x.mean(axis=0)
    xc = np.atleast_2d(np.cov(x, rowvar=False, bias=True))
    root = np.real(sqrtm(cov))
    cross = np.real(sqrtm(root @ xc @ root))
    w2sq = float(np.sum((xm - mean) ** 2) + np.trace(xc + cov - 2 * cross))
    return math.sqrt(max(w2sq, 0.0))


def empirical_w2(x: np.ndarray, y: np.ndarray) -> float:
    """Exact W₂ between two empirical measures of equal weight: sorted matching in 1-D (exact there), POT's
    network simplex otherwise.

    Example:
        >>> import numpy as np
        >>> empirical_w2(np.array([[0.0], [1.0]]), np.array([[3.0], [2.0]]))  # match 0→2, 1→3
        2.0
    """
    import ot

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape[1] == 1 and len(x) == len(y):
        return math.sqrt(float(np.mean((np.sort(x[:, 0]) - np.sort(y[:, 0])) ** 2)))
    M = ot.dist(x, y, metric="sqeuclidean")
    w = ot.emd2(np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y)), M, numItermax=10_000_000)
    return math.sqrt(max(float(w), 0.0))


# ---------------------------------------------------------------------------------------------------------
# JAX helpers (compiled once per field)


@functools.lru_cache(maxsize=64)
def _extremizer(jac):
    """A jitted search ``run(t, x0, scale, sign) -> (best_x, best_value)`` maximising ``sign·λ(∇v)``:
    ``λ_max`` for sign +1, ``−λ_min`` for sign −1, by normalised gradient ascent with a step decaying
    geometrically from 0.3 to 0.003 times the spatial scale (it keeps the best point seen)."""
    import jax
    import jax.numpy as jnp

    def obj(x, tt, sign):
        ev = jnp.linalg.eigvalsh(jac(tt, x))
        return jnp.where(sign > 0, ev[:, -1], -ev[:, 0])

    grad = jax.grad(lambda x, tt, sign: jnp.sum(obj(x, tt, sign)))

    def run(tt, x0, scale, sign):
        def body(i, carry):
            x, bx, bv = carry
            lr = scale * 0.3 * 0.01 ** (i / (ASCENT_STEPS - 1))
            g = jnp.nan_to_num(grad(x, tt, sign))
            x = x + lr * g / (jnp.linalg.norm(g, axis=1, keepdims=True) + 1e-300)
            val = obj(x, tt, sign)
            better = val > bv
            return x, jnp.where(better[:, None], x, bx), jnp.where(better, val, bv)

        v0 = obj(x0, tt, sign)
        _, bx, bv = jax.lax.fori_loop(0, ASCENT_STEPS, body, (x0, x0, v0))
        return bx, bv

    return jax.jit(run)


@functools.lru_cache(maxsize=64)
def _pointwise(fn):
    """``fn(t, x)`` (scalar t, x (n, d)) evaluated at per-point times: ``(ts (m,), xs (m, d)) -> (m, …)``."""
    import jax

    return jax.jit(jax.vmap(lambda tt, xx: fn(tt, xx[None])[0]))


@functools.lru_cache(maxsize=64)
def _pointwise_jacfwd(fn):
    import jax

    return jax.jit(jax.vmap(lambda tt, xx: jax.jacfwd(lambda y: fn(tt, y[None])[0])(xx)))


# ---------------------------------------------------------------------------------------------------------
# The verification


class _Run:
    """State shared by the checks of one :func:`verify` call."""

    def __init__(self, gif, flow, *, samples, seed, rtol, atol, eps, times, bounds, registry):
        import jax
        self.gif, self.flow = gif, flow
        self.n, self.seed, self.rtol, self.atol = samples, seed, rtol, atol
        self.d = sim.flow_dim(flow)
        self.key = jax.random.PRNGKey(seed)
        self.field, self.jac = velocity_field(flow), jacobian_field(flow)
        # A data target: its streaming field (the same object the compiled field uses), for the routes of
        # the velocity/Jacobian checks and the streamed worst-x search.
        self.data = empirical_field(flow) if _data_law(flow) is not None else None
        finite0, finite1 = sim.endpoints(flow)
        self.t_lo = 0.0 if finite0 else eps
        self.t_hi = 1.0 if finite1 else 1.0 - eps
        self.eps = 1.0 - self.t_hi
        self.w2_end = sim.w2_time_shift(flow, self.t_hi, 1.0) if self.eps > 0 else 0.0
        self.grid = np.linspace(self.t_lo, min(self.t_hi, 1.0 - eps), times)
        s = flow.schedule
        fa = sympy.lambdify(T_SYM, [s.a, s.b, s.da], "numpy")
        self.ab = lambda tt: tuple(np.broadcast_to(np.asarray(v, dtype=float), np.shape(tt)) for v in fa(tt))
        self.a0, self.b0 = (float(v) for v in self.ab(np.array(0.0))[:2])
        self.m2 = sim.second_moment(flow)
        self.k_pairs = max(2, samples // 10)
        self.bounds_obj, self.bounds_err = None, None
        self.fns = None
        try:
            if bounds is None and registry is not None:
                bounds = theory.bounds(Flow(gif.schedule, gif.target), registry=registry)
            elif bounds is None:
                # The class's bounds, also for an oracle member.
                bounds = theory.bounds(Flow(gif.schedule, gif.target))
            self.bounds_obj = bounds
            self.fns = _BoundFns.build(bounds)
        except GifsymError as e:  # e.g. an assumption the bounds need is not proved for this schedule
            self.bounds_err = f"no bounds for this flow: {e}"
        self._cache: dict[str, Any] = {}

    # -- randomness and simulation ----------------------------------------------------------------------

    def key_for(self, name: str):
        import jax

        # crc32, not hash(): str hashes change between processes, and results must not.
        return jax.random.fold_in(self.key, zlib.crc32(name.encode()) % (2**31))

    def target_samples(self, name: str, n: int | None = None) -> np.ndarray:
        return np.asarray(sample_target(self.flow, n or self.n, key=self.key_for(name)))

    def source_samples(self, name: str, n: int | None = None) -> np.ndarray:
        return np.asarray(sample_source(self.flow, n or self.n, key=self.key_for(name)))

    def solve(self, x0, t_from, t_to, *, field=None, drift=None) -> np.ndarray:
        x, _, _, _, _ = integrate(field or self.field, x0, t_from, t_to, rtol=self.rtol, atol=self.atol, drift=drift,
                                   same_on_all=True)  # seeded: the same particles on every process
        return x

    def with_pairs(self, x: np.ndarray, name: str, scale: float) -> tuple[np.ndarray, np.ndarray]:
        """``x`` with k extra rows ``x_i + δ u_i`` (|u_i| = 1, δ = FD_STEP·scale) for finite differences."""
        rng = np.random.default_rng([self.seed, zlib.crc32(name.encode())])
        u = rng.normal(size=(self.k_pairs, self.d))
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        dx = FD_STEP * scale * u
        return np.concatenate([x, x[: self.k_pairs] + dx]), dx

    def lip_ratio(self, out: np.ndarray, dx: np.ndarray) -> float:
        n, k = self.n, self.k_pairs
        return float(np.max(np.linalg.norm(out[n:] - out[:k], axis=1) / np.linalg.norm(dx, axis=1)))

    def forward_batch(self):
        if "fwd" not in self._cache:
            x0 = self.source_samples("source")
            batch, dx = self.with_pairs(x0, "fwd-pairs", max(self.a0, 1e-300))
            self._cache["fwd"] = (batch, dx, self.solve(batch, self.t_lo, self.t_hi))
        return self._cache["fwd"]

    @property
    def encodes_p_end(self) -> bool:
        """Whether the reverse batch starts from samples of ``p_{1−ε}`` rather than of the target: for data
        stopped before t = 1 (σ = 0). Under ``p_{1−ε}`` a training point y lies ``(1 − b)|y|/a`` standard
        deviations from its component's centre ``b y`` in one direction (``|y|`` for the linear
        schedule), where samples lie ~√d; there the flow map is ill-conditioned: on the 8×8 digits
        (|y| ≈ 62, √d = 8), perturbing the encoded point by 1e-9 moved its decoding by 28–35 (onto another
        training point), with DOP853 at rtol 1e-12 on an independent NumPy field. The lemmas are about the
        flow from t_hi, whose law there is p_{1−ε}, so its samples are what is encoded."""
        return self.data is not None and self.eps > 0

    def reverse_batch(self):
        if "rev" not in self._cache:
            y = self.target_samples("data")
            if self.encodes_p_end:
                a, b, _ = self.ab(np.array(self.t_hi))
                y = float(a) * _normal(self, "data-noise", y.shape) + float(b) * y  # X_{t_hi} = a Z + b X_1
            scale = math.sqrt(self.m2 / self.d) if self.m2 else 1.0
            batch, dx = self.with_pairs(y, "rev-pairs", scale)
            self._cache["rev"] = (batch, dx, self.solve(batch, self.t_hi, self.t_lo))
        return self._cache["rev"]

    # -- bound integrals --------------------------------------------------------------------------------

    def lip_forward(self) -> float:
        """``exp ∫_{t_lo}^{t_hi} upper`` (inf without an upper bound)."""
        if self.fns is None:
            return math.inf
        return _exp(_quad(self.fns.upper, self.t_lo, self.t_hi))

    def lip_reverse(self) -> float:
        if self.fns is None:
            return math.inf
        return _exp(-_quad(self.fns.lower, self.t_lo, self.t_hi))


def _normal(run: _Run, name: str, shape) -> np.ndarray:
    import jax

    return np.asarray(jax.random.normal(run.key_for(name), shape, dtype=np.float64))


def _exp(v: float) -> float:
    """``exp(v)``, ``inf`` on overflow or for ``v = +inf`` (an unbounded flow-map constant)."""
    if math.isnan(v):
        return math.inf
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


def _scale_v(run: _Run, ts, xs, ref) -> np.ndarray:
    a, _, da = run.ab(ts)
    return 1 + np.abs(ref).max(axis=-1) + np.abs(da / a) * np.linalg.norm(xs, axis=1)


def _points(run: _Run, m: int = 48):
    rng = np.random.default_rng(run.seed + 1)
    ts = rng.uniform(run.t_lo, run.grid[-1], size=m)
    a, b, _ = run.ab(ts)
    y = run.target_samples("points", m)
    z = rng.normal(size=(m, run.d))
    return ts, a[:, None] * z + b[:, None] * y


def _check_data_identity(run: _Run, which: str, ts: np.ndarray, xs: np.ndarray) -> CheckResult:
    """(a) for a data target at any N (:func:`gifsym.numerics.empirical_checks.identity_check`)."""
    res = data_checks.identity_check(run.flow, run.data, which, ts, xs, seed=run.seed)
    return CheckResult(which, "passed" if res.ok else "failed", res.message(), res.metrics(),
                       lemma=CHECK_LEMMAS[which])


def _check_velocity(run: _Run, which: str) -> CheckResult:
    ts, xs = _points(run)
    flow = run.flow
    if run.data is not None:
        return _check_data_identity(run, which, ts, xs)
    d = run.d
    if isinstance(flow, OracleFlow):
        c = flow.coefficients
        cx, cm, cC = (sympy.lambdify(T_SYM, e, "numpy") for e in (c.x, c.m, c.C))
        bc = lambda f: np.broadcast_to(np.asarray(f(ts), dtype=float), ts.shape)
        if which == "velocity":
            m = np.asarray(_pointwise(flow.posterior_mean_field())(ts, xs))
            sym = bc(cx)[:, None] * xs + bc(cm)[:, None] * m
            num = np.asarray(_pointwise(run.field)(ts, xs))
            how = "denoiser form (ȧ/a) x + (ḃ − ȧb/a) m with the quadrature m vs the field"
        else:
            C = np.asarray(_pointwise(flow.posterior_cov_field())(ts, xs))
            sym = bc(cx)[:, None, None] * np.eye(d) + bc(cC)[:, None, None] * C
            num = np.asarray(_pointwise_jacfwd(run.field)(ts, xs))
            how = "key identity (ȧ/a) I + b(aḃ − ȧb)/a³ C with the quadrature C vs jax.jacfwd of the field"
    else:
        xsym = flow.x
        if which == "velocity":
            f = lambdify_jax([T_SYM, *xsym], list(flow.velocity()))
            sym = np.stack([np.broadcast_to(np.asarray(v, dtype=float), ts.shape)
                            for v in f(ts, *xs.T)], axis=-1)
            num = np.asarray(_pointwise(run.field)(ts, xs))
            how = "lambdified SymPy velocity vs the JAX field"
        else:
            J = flow.jacobian()
            f = lambdify_jax([T_SYM, *xsym], [list(r) for r in J.tolist()])
            vals = f(ts, *xs.T)
            sym = np.stack([np.stack([np.broadcast_to(np.asarray(v, dtype=float), ts.shape) for v in row], -1)
                            for row in vals], axis=-2)
            num = np.asarray(_pointwise(run.jac)(ts, xs))
            how = "lambdified SymPy Jacobian vs the JAX Jacobian field"
    diff = np.abs(sym - num).reshape(len(ts), -1).max(axis=1)
    scale = _scale_v(run, ts, xs, sym.reshape(len(ts), -1))
    rel = float(np.max(diff / scale))
    ok = bool(np.all(np.isfinite(num))) and rel <= IDENTITY_RTOL
    msg = f"{how}: max error {rel:.2e} (relative to the terms' size) at {len(ts)} points, tolerance {IDENTITY_RTOL:g}"
    return CheckResult(which, "passed" if ok else "failed", msg, {"max_rel_error": rel, "points": len(ts)},
                       lemma=CHECK_LEMMAS[which])


def _check_bounds(run: _Run) -> CheckResult:
    import jax.numpy as jnp

    if run.fns is None:
        return CheckResult("bounds", "skipped", run.bounds_err or "no bounds", lemma=CHECK_LEMMAS["bounds"])
    y = run.target_samples("bounds")
    rng = np.random.default_rng(run.seed + 2)
    # Data: the eigenvalue gradient streamed over the points (memory bounded for any N); else jax.grad.
    search = data_checks.extremizer(run.data, ASCENT_STEPS) if run.data is not None else _extremizer(run.jac)
    rows, violations = [], []
    ts = run.grid
    a, b, da = run.ab(ts)
    up, lo, th = run.fns.upper(ts), run.fns.lower(ts), run.fns.theta(ts)
    for i, tt in enumerate(ts):
        x = a[i] * rng.normal(size=y.shape) + b[i] * y
        ev = np.asarray(jnp.linalg.eigvalsh(run.jac(float(tt), jnp.asarray(x))))
        hi_s, lo_s = float(ev[:, -1].max()), float(ev[:, 0].min())
        scale = float(np.sqrt(np.mean(np.var(x, axis=0)))) or 1.0
        k = min(ASCENT_STARTS, len(x))
        starts_hi = jnp.asarray(x[np.argsort(-ev[:, -1])[:k]])
        starts_lo = jnp.asarray(x[np.argsort(ev[:, 0])[:k]])
        _, vh = search(float(tt), starts_hi, scale, 1.0)
        _, vl = search(float(tt), starts_lo, scale, -1.0)
        hi_w, lo_w = max(hi_s, float(jnp.max(vh))), min(lo_s, -float(jnp.max(vl)))
        S = 1 + abs(da[i] / a[i]) + max((abs(v) for v in (up[i], lo[i], th[i]) if math.isfinite(v)), default=0.0)
        tol = BOUND_RTOL * S
        worst_abs = max(abs(hi_w), abs(lo_w))
        row = {"t": float(tt), "upper": float(up[i]), "lower": float(lo[i]), "theta": float(th[i]),
               "max_eig": hi_w, "min_eig": lo_w, "max_eig_sampled": hi_s, "min_eig_sampled": lo_s,
               "ratio_upper": hi_w / up[i] if math.isfinite(up[i]) and up[i] != 0 else None,
               "ratio_lower": lo_w / lo[i] if math.isfinite(lo[i]) and lo[i] != 0 else None,
               "tightness": worst_abs / th[i] if math.isfinite(th[i]) and th[i] > 0 else None}
        # A NaN bound (undefined at this time) compares False: nothing to check there; ±inf: no bound.
        for side, observed, violated in (("upper", hi_w, hi_w > up[i] + tol), ("lower", lo_w, lo_w < lo[i] - tol),
                                         ("theta", worst_abs, worst_abs > th[i] + tol)):
            if violated:
                violations.append(f"{side} at t={tt:.4g}: observed {observed:.6g} vs bound {row[side]:.6g}")
        rows.append(row)
    tight = [r["tightness"] for r in rows if r["tightness"] is not None]
    metrics = {"times": len(rows), "violations": len(violations),
               "tightness_min": min(tight) if tight else None, "tightness_median": float(np.median(tight)) if tight else None,
               "tightness_max": max(tight) if tight else None}
    lem = ", ".join(run.fns.lemmas[-3:]) if run.fns.lemmas else "the given bounds"
    if violations:
        msg = f"{len(violations)} violation(s) of the bounds ({lem}): " + "; ".join(violations[:3])
        return CheckResult("bounds", "failed", msg, metrics, tuple(rows), CHECK_LEMMAS["bounds"])
    msg = (f"lower <= eig(grad v) <= upper and max|eig| <= theta at {len(rows)} times (samples of p_t + gradient "
           f"search); tightness max|eig|/theta: median {_f(metrics['tightness_median']).strip()}, "
           f"range [{_f(metrics['tightness_min']).strip()}, {_f(metrics['tightness_max']).strip()}]")
    return CheckResult("bounds", "passed", msg, metrics, tuple(rows), CHECK_LEMMAS["bounds"])


def _check_flow_map(run: _Run) -> CheckResult:
    if run.fns is None:
        return CheckResult("flow-map", "skipped", run.bounds_err or "no bounds", lemma=CHECK_LEMMAS["flow-map"])
    _, dx, out = run.forward_batch()
    fwd_obs = run.lip_ratio(out, dx)
    _, rdx, rout = run.reverse_batch()
    rev_obs = run.lip_ratio(rout, rdx)
    fwd_b, rev_b = run.lip_forward(), run.lip_reverse()
    metrics = {"forward_observed": fwd_obs, "forward_bound": fwd_b, "reverse_observed": rev_obs,
               "reverse_bound": rev_b, "forward_tightness": fwd_obs / fwd_b if math.isfinite(fwd_b) else None,
               "reverse_tightness": rev_obs / rev_b if math.isfinite(rev_b) else None,
               "t_end": run.t_hi}
    bad = [f"{name}: observed {o:.6g} > bound {bd:.6g}" for name, o, bd in
           (("forward", fwd_obs, fwd_b), ("reverse", rev_obs, rev_b)) if o > bd * (1 + FLOWMAP_RTOL)]
    span = f"[{run.t_lo:g}, {run.t_hi:g}]"
    if not (math.isfinite(fwd_b) or math.isfinite(rev_b)):
        return CheckResult("flow-map", "skipped", f"no finite flow-map constant on {span}", metrics,
                           lemma=CHECK_LEMMAS["flow-map"])
    msg = (f"finite-difference Lipschitz ratios on {span} vs exp(int upper), exp(-int lower): forward "
           f"{fwd_obs:.4g} <= {fwd_b:.4g}, reverse {rev_obs:.4g} <= {rev_b:.4g}")
    if bad:
        return CheckResult("flow-map", "failed", "; ".join(bad), metrics, lemma=CHECK_LEMMAS["flow-map"])
    return CheckResult("flow-map", "passed", msg, metrics, lemma=CHECK_LEMMAS["flow-map"])


@dataclass(frozen=True)
class _Noise:
    stat: float
    refs: tuple[float, ...]
    limit: float
    what: str

    def metrics(self, prefix: str = "") -> dict:
        return {f"{prefix}w2": self.stat, f"{prefix}w2_reference_median": float(np.median(self.refs)),
                f"{prefix}w2_reference_max": max(self.refs), f"{prefix}limit": self.limit}

    @property
    def ok(self) -> bool:
        return not math.isfinite(self.limit) or self.stat <= self.limit

    def __str__(self) -> str:
        return (f"{self.what} {self.stat:.4g} vs sampling noise {np.median(self.refs):.4g} "
                f"(limit {self.limit:.4g})")


def _against_gaussian(x: np.ndarray, mean: np.ndarray, cov: np.ndarray, draw, cost: float) -> _Noise:
    """Bures W₂ of x's moments to ``N(mean, cov)``, and the same for exact draws ``draw(r)``."""
    stat = bures_w2(x, mean, cov)
    refs = tuple(bures_w2(draw(r), mean, cov) for r in range(CHEAP_REPLICATES))
    return _Noise(stat, refs, CHEAP_FACTOR * max(refs) + cost, "Bures W2 of the sample mean/covariance")


def _against_samples(x: np.ndarray, draw, cost: float) -> _Noise:
    """Exact W₂ of x to fresh samples ``draw(r)``, and the same between pairs of fresh samples."""
    if x.shape[1] == 1:
        reps, factor, k, what = CHEAP_REPLICATES, CHEAP_FACTOR, len(x), f"exact W2 (sorted, {len(x)} samples)"
    else:
        reps, factor, k = OT_REPLICATES, OT_FACTOR, min(len(x), OT_MAX)
        what = f"exact W2 (POT, {k} samples)"
    stat = empirical_w2(x[:k], draw(-1)[:k])
    refs = tuple(empirical_w2(draw(2 * r)[:k], draw(2 * r + 1)[:k]) for r in range(reps))
    return _Noise(stat, refs, factor * max(refs) + cost, what)


def _data_law(flow) -> EmpiricalLaw | None:
    law = getattr(getattr(flow, "target", None), "law", None)
    return law if isinstance(law, EmpiricalLaw) else None


def _gaussian_law(flow):
    law = flow.target.law if flow.target.is_exact else None
    if isinstance(law, EmpiricalLaw):  # one data point: δ_y (σ = 0) or N(y, σ² I)
        return (law.points[0], float(law.sigma) ** 2 * np.eye(law.dim)) if law.N == 1 else None
    if law is not None and law.K == 1:
        return law.arrays["means"][0], law.arrays["covs"][0]
    return None


def _check_transport(run: _Run) -> CheckResult:
    _, _, out = run.forward_batch()
    pushed = out[: run.n]
    g = _gaussian_law(run.flow)
    draw = lambda r: run.target_samples(f"transport-ref-{r}")
    if g is not None:
        m, S = g
        res = _against_gaussian(pushed, m, S, draw, run.w2_end)
        res = _Noise(res.stat, res.refs, res.limit, res.what + " to the exact Gaussian")
        extra = {"mean_error": float(np.linalg.norm(pushed.mean(0) - m)),
                 "cov_error": float(np.linalg.norm(np.atleast_2d(np.cov(pushed, rowvar=False, bias=True)) - S))}
    else:
        res = _against_samples(pushed, draw, run.w2_end)
        res = _Noise(res.stat, res.refs, res.limit, res.what + " to fresh target samples")
        extra = {}
    metrics = {**res.metrics(), "eps": run.eps, "w2_endpoint_bound": run.w2_end, **extra}
    msg = f"pushed source: {res}" + (f", incl. {run.w2_end:.3g} for stopping at 1-{run.eps:g}" if run.eps > 0 else "")
    return CheckResult("transport", "passed" if res.ok else "failed", msg, metrics, lemma=CHECK_LEMMAS["transport"])


def _from_p_end(run: _Run) -> str:
    if not run.encodes_p_end:
        return ""
    return (f"y ~ p_{run.t_hi:g} = law of a Z + b X1 (data stopped at 1-{run.eps:g}: a training point itself "
            "is where the flow map is ill-conditioned, see _Run.encodes_p_end): ")


def _roundtrip_tol(run: _Run, y: np.ndarray) -> float:
    return ROUNDTRIP_FACTOR * (run.rtol * (1 + float(np.max(np.abs(y)))) + run.atol)


def _check_auto_encoding(run: _Run) -> CheckResult:
    batch, _, z_all = run.reverse_batch()
    y = batch[: run.n]
    y_back = run.solve(z_all, run.t_lo, run.t_hi)[: run.n]  # decode(encode(y))
    err = float(np.max(np.linalg.norm(y_back - y, axis=1)))
    tol = _roundtrip_tol(run, y)
    xb, _, x_end = run.forward_batch()
    x0 = xb[: run.n]
    x_back = run.solve(x_end, run.t_hi, run.t_lo)[: run.n]  # encode(decode(x))
    err_src = float(np.max(np.linalg.norm(x_back - x0, axis=1)))
    tol_src = _roundtrip_tol(run, x0)
    z = z_all[: run.n]
    # The encoded samples against the source μ.
    lip_rev = run.lip_reverse() if run.eps > 0 else 1.0
    # Encoding samples of p_{1−ε} itself (data, see _Run.encodes_p_end) gives the source exactly: no cost.
    cost = lip_rev * run.w2_end if run.eps > 0 and not run.encodes_p_end else 0.0
    draw = lambda r: run.source_samples(f"source-ref-{r}")
    if run.b0 == 0:
        res = _against_gaussian(z, np.zeros(run.d), run.a0**2 * np.eye(run.d), draw, cost)
        res = _Noise(res.stat, res.refs, res.limit, res.what + " to N(0, a0^2 I)")
    else:
        res = _against_samples(z, draw, cost)
        res = _Noise(res.stat, res.refs, res.limit, res.what + " to source samples a0 Z + b0 X1")
    metrics = {"roundtrip_max_error": err, "roundtrip_tolerance": tol, "source_roundtrip_max_error": err_src,
               "source_roundtrip_tolerance": tol_src, **res.metrics("encoded_")}
    problems = []
    if not err <= tol:
        problems.append(f"decode(encode(y)) - y: {err:.3g} > {tol:.3g}")
    if not err_src <= tol_src:
        problems.append(f"encode(decode(x)) - x: {err_src:.3g} > {tol_src:.3g}")
    if not res.ok:
        problems.append(f"encoded samples: {res}")
    if run.encodes_p_end:
        metrics["encoded_from"] = f"p_{run.t_hi:g}"
    msg = (_from_p_end(run) + f"decode(encode(y)) - y: max {err:.3g} (tol {tol:.3g}); encode(decode(x)) - x: "
           f"max {err_src:.3g} (tol {tol_src:.3g}); encoded data vs source: {res}"
           + ("" if math.isfinite(res.limit) else " (not compared: no finite reverse constant)"))
    return CheckResult("auto-encoding", "failed" if problems else "passed",
                       (_from_p_end(run) + "; ".join(problems)) if problems else msg, metrics,
                       lemma=CHECK_LEMMAS["auto-encoding"])


def _second_target(run: _Run):
    g = _gaussian_law(run.flow)
    s2 = 0.5 if (g is not None and np.allclose(g[1], np.eye(run.d)) and np.allclose(g[0], 0)) else 1.0
    return Flow(run.flow.schedule, gaussian(sigma=s2, dim=run.d)), s2


def _check_cycle(run: _Run) -> CheckResult:
    flow2, s2 = _second_target(run)
    f2 = velocity_field(flow2)
    batch, dx, z_all = run.reverse_batch()
    y = batch[: run.n]
    w_all = run.solve(z_all, run.t_lo, 1.0, field=f2)  # T(y) = X²_{0,1}(X¹_{1,0}(y)): the Gaussian's field is finite at 1
    z2 = run.solve(w_all, 1.0, run.t_lo, field=f2)
    y_back = run.solve(z2, run.t_lo, run.t_hi)[: run.n]
    err = float(np.max(np.linalg.norm(y_back - y, axis=1)))
    tol = _roundtrip_tol(run, y)
    # Lip(X²_{0,1}) for N(0, s²I) is exact: sqrt((a_1² + s² b_1²)/(a_0² + s² b_0²)) (math.md §4).
    lip2 = s2 / math.sqrt(run.a0**2 + s2**2 * run.b0**2)
    lip1 = run.lip_reverse()
    lip_obs = run.lip_ratio(w_all, dx)
    lip_bound = lip2 * lip1
    w = w_all[: run.n]
    # T_# ν¹ = ν² exactly when both flows start from the same source and run to 1; otherwise add what
    # source stability allows: W2(μ¹, μ²) ≤ b0 (|X¹|_L2 + |X²|_L2), and the pushed cost of stopping at 1 − ε.
    src_gap = run.b0 * (math.sqrt(run.m2 or 0.0) + s2 * math.sqrt(run.d))
    cost = lip2 * (src_gap + (lip1 * run.w2_end if run.eps > 0 and not run.encodes_p_end else 0.0))
    draw = lambda r: np.asarray(sample_target(flow2, run.n, key=run.key_for(f"cycle-ref-{r}")))
    res = _against_gaussian(w, np.zeros(run.d), s2**2 * np.eye(run.d), draw, cost)
    metrics = {"roundtrip_max_error": err, "roundtrip_tolerance": tol, "lipschitz_observed": lip_obs,
               "lipschitz_bound": lip_bound, **res.metrics("pushed_"), "second_target_sigma": s2}
    problems = []
    if not err <= tol:
        problems.append(f"T^-1(T(y)) - y: {err:.3g} > {tol:.3g}")
    if math.isfinite(lip_bound) and lip_obs > lip_bound * (1 + FLOWMAP_RTOL):
        problems.append(f"Lip(T) observed {lip_obs:.6g} > Lip(X2_01) Lip(X1_10) = {lip_bound:.6g}")
    if not res.ok:
        problems.append(f"T pushes the target away from N(0, {s2:g}^2 I): {res}")
    if run.encodes_p_end:
        metrics["encoded_from"] = f"p_{run.t_hi:g}"
    msg = (_from_p_end(run) + f"T = X2_01 o X1_10 to N(0, {s2:g}^2 I): round trip {err:.3g} (tol {tol:.3g}); "
           f"Lip(T) {lip_obs:.4g} <= {lip_bound:.4g}; T#nu1 vs nu2: {res}")
    return CheckResult("cycle-consistency", "failed" if problems else "passed",
                       (_from_p_end(run) + "; ".join(problems)) if problems else msg, metrics,
                       lemma=CHECK_LEMMAS["cycle-consistency"])


def _check_stability(run: _Run) -> CheckResult:
    if run.fns is None:
        return CheckResult("velocity-stability", "skipped", run.bounds_err or "no bounds",
                           lemma=CHECK_LEMMAS["velocity-stability"])
    batch, _, out = run.forward_batch()
    drift = np.zeros(run.d)
    drift[0] = DRIFT
    pert = run.solve(batch, run.t_lo, run.t_hi, drift=drift)
    dist = np.linalg.norm(pert - out, axis=1)
    d_max, d_rms = float(dist.max()), float(np.sqrt(np.mean(dist**2)))
    # The W₂ the perturbation causes between the pushed laws: at most the coupled RMS d_rms; the exact W₂
    # between the two pushed samples (same starts) is reported too.
    k = min(run.n, OT_MAX)
    w2_emp = empirical_w2(pert[:k], out[:k])
    theta = run.fns.theta
    lo, hi = run.t_lo, run.t_hi

    bound = _gronwall(theta, lo, hi, DRIFT)
    grid = np.linspace(lo, hi, 201)
    C = float(np.nanmax(theta(grid)))
    try:  # math.md's form with the constant C = sup θ (informational: never smaller than the bound above)
        const_form = DRIFT * (math.expm1(C * (hi - lo)) / C if C > 0 else (hi - lo))
    except OverflowError:
        const_form = math.inf
    slack = STABILITY_RTOL * (1 + float(np.max(np.abs(out))))
    metrics = {"drift": DRIFT, "max_deviation": d_max, "rms_deviation": d_rms, "w2_pushed": w2_emp, "bound": bound,
               "bound_constant_C": const_form, "C": C, "tightness": d_max / bound if math.isfinite(bound) and bound > 0 else None}
    if not math.isfinite(bound):
        return CheckResult("velocity-stability", "skipped", f"the Gronwall bound is infinite on [{lo:g}, {hi:g}]",
                           metrics, lemma=CHECK_LEMMAS["velocity-stability"])
    ok = d_max <= bound + slack
    msg = (f"v + {DRIFT:g} e1 from the same starts: W2 of the pushed laws {w2_emp:.4g} <= coupled rms {d_rms:.4g} "
           f"<= max |Y - X| {d_max:.4g} <= eta int exp(int theta) = {bound:.4g} (tightness {d_max / bound:.3g}; "
           f"with constant C = sup theta: {const_form:.4g})")
    if not ok:
        msg = f"max |Y - X| {d_max:.6g} exceeds the Gronwall bound {bound:.6g}"
    return CheckResult("velocity-stability", "passed" if ok else "failed", msg, metrics,
                       lemma=CHECK_LEMMAS["velocity-stability"])


_RUNNERS = {
    "velocity": lambda r: _check_velocity(r, "velocity"),
    "jacobian": lambda r: _check_velocity(r, "jacobian"),
    "bounds": _check_bounds,
    "flow-map": _check_flow_map,
    "transport": _check_transport,
    "auto-encoding": _check_auto_encoding,
    "cycle-consistency": _check_cycle,
    "velocity-stability": _check_stability,
}


def resolve_flow(gif, *, dim: int = 1):
    """The flow whose numbers are checked: ``gif`` itself for an exact target or an oracle flow, else a
    concrete member of the class (:func:`gifsym.numerics.oracle.oracle_flow`)."""
    if isinstance(gif, OracleFlow) or gif.target.is_exact:
        return gif
    return oracle_flow(gif.schedule, gif.target, dim=dim)


def verify(gif, *, samples: int = 1000, seed: int = 0, checks: Iterable[str] | None = None, dim: int = 1,
           rtol: float = 1e-8, atol: float = 1e-10, eps: float | None = None, times: int = 11,
           bounds: Any = None, registry: Any = None,
           progress: Callable[[str, int, int], None] | None = None) -> VerifyReport:
    r"""Run the numerical checks (a)–(e) on a flow.

    Args:
        gif: the flow. For a class target a concrete member is used (:func:`gifsym.numerics.oracle.member`, in
            ``dim`` dimensions); the bounds checked are the class's.
        samples: particles per simulation and samples per time in the bounds check.
        seed: PRNG seed (all randomness derives from it).
        checks: a subset of :data:`CHECKS` (default: all).
        dim: dimension of the oracle member for a class target.
        rtol, atol: solver tolerances.
        eps: how far before t = 1 to stop when the field is not finite there (default
            :data:`gifsym.numerics.simulate.DEFAULT_EPS`); also the last time of the bounds grid.
        times: number of times in the bounds grid.
        bounds: bounds to check instead of ``gif.bounds()`` (any object with SymPy ``upper``, ``lower`` and
            ``lipschitz`` in t).
        registry: a lemma registry passed to ``gif.bounds(registry=...)`` (e.g. one with a test-only lemma).
        progress: called as ``progress(name, i, n)`` before the i-th of the n checks runs (0-based), and
            once more as ``progress("", n, n)`` when all have run (the CLI's progress bar).

    Returns:
        A :class:`VerifyReport`; ``report.passed`` is False when a check failed.

    Raises:
        NumericError: bad options, a class with no concrete member, symbolic parameters.
    """
    enable_x64()
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 20:
        raise NumericError(f"samples must be an integer >= 20, got {samples!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise NumericError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(times, bool) or not isinstance(times, int) or times < 2:
        raise NumericError(f"times must be an integer >= 2, got {times!r}")
    names = CHECKS if checks is None else tuple(checks)
    unknown = [c for c in names if c not in CHECKS]
    if unknown:
        raise NumericError(f"unknown check {unknown[0]!r}; accepted: {', '.join(CHECKS)}")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(v, (int, float)) and v > 0):
            raise NumericError(f"{name} must be a positive number, got {v!r}")
    eps = DEFAULT_EPS if eps is None else eps
    if not (isinstance(eps, (int, float)) and 0 < eps < 0.5):
        raise NumericError(f"eps must be in (0, 0.5), got {eps!r}")
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not 1 <= dim <= 100_000:
        raise NumericError(f"dim must be an integer in [1, 100000], got {dim!r}")
    start = time.perf_counter()
    flow = resolve_flow(gif, dim=dim)
    from gifsym.numerics.simulate import check_size

    # Exact W2 between samples builds n x n cost matrices: refuse sizes that cannot fit before allocating.
    check_size(flow, int(samples), pairwise=True, what=f"verify with {int(samples)} samples")
    run = _Run(gif, flow, samples=int(samples), seed=int(seed), rtol=rtol, atol=atol, eps=eps, times=times,
               bounds=bounds, registry=registry)
    selected = [name for name in CHECKS if name in names]
    results: list[CheckResult] = []
    for i, name in enumerate(selected):
        if progress is not None:
            progress(name, i, len(selected))
        results.append(_RUNNERS[name](run))
    if progress is not None:
        progress("", len(selected), len(selected))
    member = flow.oracle.describe() if isinstance(flow, OracleFlow) else None
    return VerifyReport(gif.schedule.spec, gif.target.spec, member, run.d, int(samples), int(seed),
                        tuple(results), time.perf_counter() - start)


__all__ = ["CHECKS", "CheckResult", "VerifyReport", "bures_w2", "empirical_w2", "resolve_flow", "verify"]
