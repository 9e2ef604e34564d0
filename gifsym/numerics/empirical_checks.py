r"""The velocity, Jacobian and worst-x checks of :func:`gifsym.numerics.verify.verify` for data targets
(``empirical:FILE``), at any N.

For N points the symbolic :class:`~gifsym.symbolic.flow.Flow` objects have N·d terms and are built only up
to :data:`~gifsym.symbolic.empirical.SYMBOLIC_MAX_POINTS` points; the checks here do not need them. At
seeded points ``(t_i, x_i)``, ``x_i ~ p_t``, the streaming field of :mod:`gifsym.numerics.empirical_field`
is compared with a **reference** computed independently in NumPy from the lemmas the checks test:

* ``velocity-identity`` (the denoiser form): ``v = (ȧ/a) x + (ḃ − ȧb/a) m`` with the posterior mean
  ``m = Σ_i r_i m_i``, ``m_i = y_i + (σ²b/s)(x − b y_i)`` (Gaussian conditioning on component i);
* ``jacobian-identity`` (the key identity): ``∇v = (ȧ/a) I + [b(aḃ − ȧb)/a³] C`` with the posterior
  covariance ``C = (σ²a²/s) I + (a²/s)² Σ_i r_i (y_i − ȳ)(y_i − ȳ)ᵀ``;

where ``r_i ∝ exp(−|x − b y_i|²/(2s))``, ``s = a² + σ²b²``, computed by :func:`posterior_moments`: the
squared distances directly (not the field's expanded ``x·y`` form), ``scipy.special.logsumexp`` over all N
at once, and a two-pass covariance about ȳ; ``a, ȧ, b, ḃ`` from the schedule's SymPy expressions
(``sympy.diff``), not from the field's coefficients ``c_x, c_m``. The routes of the field checked against
it (:func:`identity_check`):

* velocity: the one-pass running log-sum-exp (``velocity``) and the centred two-pass kernel (the value
  returned by ``jvp``);
* Jacobian: the analytic covariance form ``c_x I + (c_m b/s) Cov_r(y)`` (``jacobian``), ``jax.jacfwd`` of
  the streaming velocity (through the scan), and the Jacobian–vector products ``jvp`` on random unit
  vectors;
* for small data (≤ SYMBOLIC_MAX_POINTS points) also the lambdified symbolic ``Flow.velocity()`` /
  ``Flow.jacobian()``; above, the result says that the symbolic objects were not built, and why.

**Tolerances.** A route passes at a point when ``|route − reference| ≤ IDENTITY_RTOL·S + slack``:

* ``S`` is the size of the terms that cancel: ``1 + |ȧ/a||x| + |ḃ − ȧb/a||m|`` for v and
  ``1 + |ȧ/a| + |k_C| max|C|`` for ∇v (``k_C = b(aḃ − ȧb)/a³``); for ``jax.jacfwd``, which differentiates an
  uncentred form, also ``|k_C|(a²/s)²·q·(2R)²`` (below; R: the data's radius about the reference's
  centre). Float64 sums of N terms lose at most ``γ_N ≈ N·2⁻⁵³ ≤ 1.2e-10`` relative for N ≤ 10⁶ (Higham
  §4.2) and the operation orders differ, so ``IDENTITY_RTOL = 1e-8`` keeps two orders of magnitude over
  that worst case, while a wrong coefficient or weight is off by O(1)·S.
* ``slack`` is the problem's own conditioning, which no implementation can beat: each logit is a
  d-term combination of numbers of size ≤ ``P = |x| + b(|c| + 2R)`` (c the data's centre), divided by s,
  so each route's logits carry an error ``δ ≤ (d + 4)·2⁻⁵³·P²/s``, and the weights differ between the
  routes by a relative ``g = e^{4δ} − 1`` at most (capped at 1: beyond, the averages can be anywhere in the
  data's hull). Weight errors move ``Σ r f`` only through the mass off the most likely point,
  ``q = Σ_{j≠*} r_j`` (``Σ_j Δr_j = 0``, so ``|Σ Δr_j (f_j − f̄)| ≤ g Σ r_j |f_j − f̄| ≤ 3 g q max|f_j − f_*|``),
  with q bounded by the reference's own value times ``e^{4δ}``: ``slack_v = 3gq·2R·|ḃ − ȧb/a|·a²/s`` and
  ``slack_J = 3gq·(2R)²·|k_C|(a²/s)²``.
* ``jax.jacfwd`` differentiates ``S/Z`` with ``S = Σ e^{ℓ_j − max ℓ} y_j``: the tangent of each weight is
  ``α e^{ℓ_j − max ℓ}(y_j − y_*)·dx``, zero at the most likely point, so the terms that cancel in
  ``dS/Z − S dZ/Z²`` are of size ``|k_C|(a²/s)²·q·(2R)²``, which is added to its S.

At t next to 1 for σ = 0 the posterior is one point (q = 0 to the last bit) and the tolerance is the
plain 1e-8·S; the slack matters only at near-ties with huge ``P²/s`` (t next to 1, data far from the
origin). The largest δ and q·g met are reported with the errors.

Example:
    >>> import numpy as np
    >>> Y = np.array([[-1.0], [1.0]])
    >>> m = posterior_moments(Y, lam=0.0, a=np.array([0.5]), b=np.array([0.5]), x=np.array([[0.25]]))
    >>> bool(np.isclose(m.ybar[0, 0], np.tanh(0.5 * 0.25 / 0.25)))  # ȳ = tanh(b x / a²) for ±1
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import sympy
from scipy.special import logsumexp

from gifsym.numerics.empirical_field import TEMPS, EmpiricalField
from gifsym.numerics.fields import lambdify_jax
from gifsym.symbolic.empirical import SYMBOLIC_MAX_COORDS, SYMBOLIC_MAX_POINTS, EmpiricalLaw
from gifsym.symbolic.schedule import t as T_SYM

#: Relative tolerance of the identities (see the module docstring for why 1e-8).
IDENTITY_RTOL = 1e-8
#: Unit round-off of float64.
UNIT_ROUNDOFF = 2.0**-53
#: Bytes of (points × chunk) tiles one vmapped call of the field may hold: the seeded points go in groups.
GROUP_BYTES = 256 * 2**20
#: Rows of data per NumPy chunk of the reference (its temporaries are (rows, d) float64).
REFERENCE_ROWS = 65_536


def symbolic_limit(law: EmpiricalLaw) -> str | None:
    """Why the symbolic Flow objects of ``law`` are not built (None when they are)."""
    if law.N <= SYMBOLIC_MAX_POINTS and law.N * law.dim <= SYMBOLIC_MAX_COORDS:
        return None
    return (f"symbolic Flow objects not built for N = {law.N} points in d = {law.dim} ({law.N * law.dim} "
            f"coordinates; limit {SYMBOLIC_MAX_POINTS} points and {SYMBOLIC_MAX_COORDS} coordinates)")


# ---------------------------------------------------------------------------------------------------------
# The independent reference


@dataclass(frozen=True)
class Moments:
    """Posterior moments of the data under ``r_i(t, x)`` at m points (:func:`posterior_moments`).

    Attributes:
        ybar: (m, d) ``Σ r_i y_i`` (absolute coordinates).
        cov: (m, d, d) ``Σ r_i (y_i − ȳ)(y_i − ȳ)ᵀ``.
        off_max: (m,) ``Σ_{j≠*} r_j``, the posterior mass off the most likely point.
        centre: (d,) the centre of the data's bounding box (the coordinates the sums are taken in).
        radius: ``max_i |y_i − centre|``.
    """

    ybar: np.ndarray
    cov: np.ndarray
    off_max: np.ndarray
    centre: np.ndarray
    radius: float


def posterior_moments(points: np.ndarray, *, lam: float, a: np.ndarray, b: np.ndarray, x: np.ndarray,
                      rows: int = REFERENCE_ROWS) -> Moments:
    r"""``ȳ`` and ``Cov_r(y)`` under ``r_i ∝ exp(−|x − b y_i|²/(2s))``, ``s = a² + λb²``, at m points
    ``(a_j, b_j, x_j)``, in NumPy float64: squared distances taken directly, ``logsumexp`` over all N, a
    two-pass covariance about ȳ; the data are read in chunks of ``rows`` (memory ``O(rows·d + N)`` per point).

    Example:
        >>> Y = np.array([[0.0, 0.0], [2.0, 0.0]])
        >>> mom = posterior_moments(Y, lam=0.0, a=np.array([1.0]), b=np.array([1.0]), x=np.array([[1.0, 0.0]]))
        >>> mom.ybar.tolist(), mom.cov[0].tolist()  # equidistant: weights 1/2
        ([[1.0, 0.0]], [[1.0, 0.0], [0.0, 0.0]])
    """
    P = np.asarray(points, dtype=np.float64)
    N, d = P.shape
    c = (P.min(axis=0) + P.max(axis=0)) / 2
    radius = 0.0
    for lo in range(0, N, rows):
        radius = max(radius, float(np.sqrt(np.max(np.sum((P[lo:lo + rows] - c) ** 2, axis=1)))))
    m = len(x)
    ybar, cov, off = np.zeros((m, d)), np.zeros((m, d, d)), np.zeros(m)
    for j in range(m):
        s = a[j] ** 2 + lam * b[j] ** 2
        xc = x[j] - b[j] * c
        logits = np.empty(N)
        for lo in range(0, N, rows):
            diff = xc - b[j] * (P[lo:lo + rows] - c)  # x − b y, in coordinates about c
            logits[lo:lo + rows] = -np.einsum("ij,ij->i", diff, diff) / (2 * s)
        r = np.exp(logits - logsumexp(logits))
        star = int(np.argmax(r))
        off[j] = float(np.sum(r[:star]) + np.sum(r[star + 1:]))  # summed directly, not as 1 − r_*
        mean = np.zeros(d)
        for lo in range(0, N, rows):
            mean += r[lo:lo + rows] @ (P[lo:lo + rows] - c)
        for lo in range(0, N, rows):
            D = P[lo:lo + rows] - c - mean
            cov[j] += (D * r[lo:lo + rows, None]).T @ D
        ybar[j] = mean + c
    return Moments(ybar, cov, off, c, radius)


@dataclass(frozen=True)
class Reference:
    """The reference velocity and Jacobian at the seeded points, with the sizes the tolerances use."""

    v: np.ndarray
    J: np.ndarray
    scale_v: np.ndarray
    scale_J: np.ndarray
    scale_jacfwd: np.ndarray
    slack_v: np.ndarray
    slack_J: np.ndarray
    logit_error: np.ndarray
    weight_error: np.ndarray


def _schedule_values(schedule, ts: np.ndarray) -> tuple[np.ndarray, ...]:
    f = sympy.lambdify(T_SYM, [schedule.a, schedule.b, schedule.da, schedule.db], "numpy")
    return tuple(np.broadcast_to(np.asarray(v, dtype=float), ts.shape).copy() for v in f(ts))


def reference(flow, ts: np.ndarray, xs: np.ndarray) -> Reference:
    """The denoiser form and the key identity with :func:`posterior_moments` (see the module docstring)."""
    law = flow.target.law
    lam = float(law.sigma) ** 2
    a, b, da, db = _schedule_values(flow.schedule, ts)
    mom = posterior_moments(law.points, lam=lam, a=a, b=b, x=xs)
    d = law.dim
    s = a * a + lam * b * b
    k_m = db - da * b / a
    k_C = b * (a * db - da * b) / a**3
    w = (a * a / s)
    m = w[:, None] * mom.ybar + (lam * b / s)[:, None] * xs
    C = (lam * a * a / s)[:, None, None] * np.eye(d) + (w**2)[:, None, None] * mom.cov
    v = (da / a)[:, None] * xs + k_m[:, None] * m
    J = (da / a)[:, None, None] * np.eye(d) + k_C[:, None, None] * C
    R = mom.radius
    P = np.linalg.norm(xs, axis=1) + np.abs(b) * (float(np.linalg.norm(mom.centre)) + 2 * R)
    delta = (d + 4) * UNIT_ROUNDOFF * P**2 / s
    grow = np.exp(np.minimum(4 * delta, 700.0))
    g = np.minimum(grow - 1, 1.0)
    q = np.minimum(mom.off_max * grow, 1.0)
    scale_v = 1 + np.abs(da / a) * np.linalg.norm(xs, axis=1) + np.abs(k_m) * np.linalg.norm(m, axis=1)
    scale_J = 1 + np.abs(da / a) + np.abs(k_C) * np.abs(C).reshape(len(ts), -1).max(axis=1)
    cov_coef = np.abs(k_C) * w**2  # the coefficient of Cov_r(y) in ∇v
    return Reference(v=v, J=J, scale_v=scale_v, scale_J=scale_J, scale_jacfwd=scale_J + cov_coef * q * (2 * R) ** 2,
                     slack_v=3 * g * q * 2 * R * np.abs(k_m) * w, slack_J=3 * g * q * (2 * R) ** 2 * cov_coef,
                     logit_error=delta, weight_error=g * q)


# ---------------------------------------------------------------------------------------------------------
# The field's routes, at per-point times, in memory-bounded groups


def group_size(ef: EmpiricalField, per_point_tiles: int) -> int:
    """Points per vmapped call so that ``per_point_tiles`` (chunk-long) tiles per point fit in GROUP_BYTES."""
    return int(max(1, GROUP_BYTES // (per_point_tiles * ef.chunk * ef.itemsize)))


def _grouped(fn, group: int, ts: np.ndarray, *arrays: np.ndarray):
    """``fn(ts_g, *arrays_g)`` over groups of ``group`` points (the last padded, so one compilation)."""
    m = len(ts)
    outs = []
    for lo in range(0, m, group):
        sl = slice(lo, min(lo + group, m))
        k = sl.stop - sl.start
        pad = group - k if m > group else 0
        args = [np.concatenate([a[sl], np.repeat(a[sl][-1:], pad, axis=0)]) if pad else a[sl] for a in (ts, *arrays)]
        out = fn(*(jnp.asarray(v) for v in args))
        outs.append(jax.tree_util.tree_map(lambda o, k=k: np.asarray(o)[:k], out))
    return jax.tree_util.tree_map(lambda *o: np.concatenate(o), *outs)


def _as_arg(f):
    """A kernel as a jit argument: the field's kernels are :class:`jax.tree_util.Partial` s carrying the data
    (passed, not embedded as constants: see :mod:`gifsym.numerics.empirical_field`); other callables are
    wrapped with no leaves."""
    return f if isinstance(f, jax.tree_util.Partial) else jax.tree_util.Partial(f)


# Per-point (vmapped) routes of the field; the kernel is an argument, so one definition serves every field.
_VELOCITY = jax.jit(lambda f, ts, xs: jax.vmap(lambda tt, xx: f(tt, xx[None])[0])(ts, xs))
_JVP = jax.jit(lambda f, ts, xs, us: jax.vmap(lambda tt, xx, uu: tuple(o[0] for o in f(tt, xx[None], uu[None])))(
    ts, xs, us))
_JACOBIAN = _VELOCITY
_JACFWD = jax.jit(lambda f, ts, xs: jax.vmap(lambda tt, xx: jax.jacfwd(lambda y: f(tt, y[None])[0])(xx))(ts, xs))


def _routes(ef: EmpiricalField):
    """The field's routes at per-point times: ``fn(ts, xs[, us])``."""
    v, j, jv = _as_arg(ef.velocity), _as_arg(ef.jacobian), _as_arg(ef.jvp)
    return (lambda ts, xs: _VELOCITY(v, ts, xs), lambda ts, xs, us: _JVP(jv, ts, xs, us),
            lambda ts, xs: _JACOBIAN(j, ts, xs), lambda ts, xs: _JACFWD(v, ts, xs))


def _symbolic(flow, which: str, ts: np.ndarray, xs: np.ndarray) -> np.ndarray:
    xsym = flow.x
    if which == "velocity":
        f = lambdify_jax([T_SYM, *xsym], list(flow.velocity()))
        return np.stack([np.broadcast_to(np.asarray(v, dtype=float), ts.shape) for v in f(ts, *xs.T)], axis=-1)
    f = lambdify_jax([T_SYM, *xsym], [list(r) for r in flow.jacobian().tolist()])
    return np.stack([np.stack([np.broadcast_to(np.asarray(v, dtype=float), ts.shape) for v in row], -1)
                     for row in f(ts, *xs.T)], axis=-2)


# ---------------------------------------------------------------------------------------------------------
# The check


@dataclass(frozen=True)
class Comparison:
    """One route against the reference.

    Attributes:
        route: what was compared.
        ratio: the largest ``|route − reference| / tolerance`` over the points (≤ 1: within tolerance).
        rel_error: the largest ``|route − reference| / S`` (relative to the size of the terms).
        finite: whether every value of the route was finite.
    """

    route: str
    ratio: float
    rel_error: float
    finite: bool

    @property
    def ok(self) -> bool:
        return self.finite and self.ratio <= 1.0


@dataclass(frozen=True)
class IdentityCheck:
    """The outcome of :func:`identity_check`.

    Attributes:
        which: ``"velocity"`` or ``"jacobian"``.
        comparisons: each route of the field (and the symbolic objects, for small data) against the
            reference.
        points: how many seeded points.
        symbolic: None when the symbolic Flow objects were compared, else why they were not built.
        max_logit_error: the largest per-route logit error bound δ met.
        max_weight_error: the largest ``g·q`` met (the conditioning slack's driver, see the module docstring).
    """

    which: str
    comparisons: tuple[Comparison, ...]
    points: int
    symbolic: str | None
    max_logit_error: float
    max_weight_error: float
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.comparisons)

    def message(self) -> str:
        ident = "denoiser form (ȧ/a) x + (ḃ − ȧb/a) m" if self.which == "velocity" else \
            "key identity (ȧ/a) I + b(aḃ − ȧb)/a³ C"
        parts = "; ".join(f"{c.route}: max error {c.rel_error:.2e} of the terms' size ({c.ratio:.2g} of the "
                          f"tolerance){'' if c.finite else ', NOT FINITE'}" for c in self.comparisons)
        sym = "symbolic Flow objects compared" if self.symbolic is None else self.symbolic
        return (f"{ident} with NumPy posterior moments over all N points (reference) vs {parts}; at {self.points} "
                f"points, tolerance {IDENTITY_RTOL:g} of the terms' size + conditioning (logit error <= "
                f"{self.max_logit_error:.1e}, weight error off the most likely point <= {self.max_weight_error:.1e}); {sym}")

    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {"max_rel_error": max(c.rel_error for c in self.comparisons),
                               "max_tolerance_ratio": max(c.ratio for c in self.comparisons),
                               "points": self.points, "max_logit_error_bound": self.max_logit_error,
                               "max_weight_error_bound": self.max_weight_error,
                               "symbolic": "compared" if self.symbolic is None else "not built"}
        for c in self.comparisons:
            out[f"rel_error[{c.route}]"] = c.rel_error
        return {**out, **self.extra}


def _compare(route: str, got: np.ndarray, ref: np.ndarray, scale: np.ndarray, slack: np.ndarray,
             factor: float = 1.0) -> Comparison:
    m = len(ref)
    diff = np.abs(np.asarray(got) - ref).reshape(m, -1).max(axis=1)
    tol = factor * (IDENTITY_RTOL * scale + slack)
    finite = bool(np.all(np.isfinite(got)))
    with np.errstate(invalid="ignore"):
        ratio = float(np.max(diff / tol)) if finite else math.inf
        rel = float(np.max(diff / scale)) if finite else math.inf
    return Comparison(route, ratio, rel, finite)


def identity_check(flow, ef: EmpiricalField, which: str, ts: np.ndarray, xs: np.ndarray, *,
                   seed: int = 0) -> IdentityCheck:
    """Check the streaming field's velocity (``which="velocity"``) or Jacobian (``"jacobian"``) against
    the reference at the points ``(ts[i], xs[i])`` (see the module docstring for routes and tolerances)."""
    law = flow.target.law
    ref = reference(flow, ts, xs)
    velocity, jvp, jac, jacfwd = _routes(ef)
    stream = group_size(ef, TEMPS)
    rng = np.random.default_rng([seed, 13])
    u = rng.normal(size=xs.shape)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    comps = []
    extra: dict[str, Any] = {}
    if which == "velocity":
        comps.append(_compare("streaming velocity (one pass, running log-sum-exp)",
                              _grouped(velocity, stream, ts, xs), ref.v, ref.scale_v, ref.slack_v))
        v2, _ = _grouped(jvp, stream, ts, xs, u)
        comps.append(_compare("centred two-pass kernel (value of jvp)", v2, ref.v, ref.scale_v, ref.slack_v))
    else:
        dense = max(1, GROUP_BYTES // (3 * ef.chunk * ef.dim * ef.itemsize))
        comps.append(_compare("analytic c_x I + (c_m b/s) Cov_r(y) (jacobian)", _grouped(jac, dense, ts, xs), ref.J,
                              ref.scale_J, ref.slack_J))
        # jacfwd pushes d tangents through the scan: d (points × chunk) tiles per point and temporary.
        fwd = _grouped(jacfwd, group_size(ef, TEMPS * ef.dim), ts, xs)
        comps.append(_compare("jax.jacfwd of the streaming velocity", fwd, ref.J, ref.scale_jacfwd, ref.slack_J))
        _, Ju = _grouped(jvp, stream, ts, xs, u)
        # |(ΔJ) u|_∞ ≤ √d max|ΔJ| for a unit u.
        comps.append(_compare("jvp (grad v) u, unit u", Ju, np.einsum("nij,nj->ni", ref.J, u), ref.scale_J,
                              ref.slack_J, factor=math.sqrt(law.dim)))
    reason = symbolic_limit(law)
    if reason is None:
        sym = _symbolic(flow, which, ts, xs)
        scale, slack = (ref.scale_v, ref.slack_v) if which == "velocity" else (ref.scale_J, ref.slack_J)
        comps.append(_compare(f"lambdified symbolic Flow.{which}()", sym, ref.v if which == "velocity" else ref.J,
                              scale, slack))
    return IdentityCheck(which, tuple(comps), len(ts), reason, float(np.max(ref.logit_error)),
                         float(np.max(ref.weight_error)), extra)


# ---------------------------------------------------------------------------------------------------------
# The worst-x search of the bounds check


def _ascent(jac, covd, tt, x0, scale, sign, steps, coefficients):
    def obj(x):
        ev, V = jnp.linalg.eigh(jac(tt, x))
        k = -1 if sign > 0 else 0
        return sign * ev[:, k], V[:, :, k]

    def body(i, carry):
        x, bx, bv, u = carry
        lr = scale * 0.3 * 0.01 ** (i / max(steps - 1, 1))
        c = coefficients(tt)
        g = jnp.nan_to_num(sign * (c.cm * c.b / c.s) * covd(tt, x, u))
        x = x + lr * g / (jnp.linalg.norm(g, axis=1, keepdims=True) + 1e-300)
        val, u = obj(x)
        better = val > bv
        return x, jnp.where(better[:, None], x, bx), jnp.where(better, val, bv), u

    v0, u0 = obj(x0)
    _, bx, bv, _ = jax.lax.fori_loop(0, steps, body, (x0, x0, v0, u0))
    return bx, bv


_ASCENT = jax.jit(_ascent, static_argnums=(5, 6, 7))


def extremizer(ef: EmpiricalField, steps: int):
    r"""A search ``run(t, x0, scale, sign) -> (best_x, best_value)`` maximising ``sign·λ(∇v)`` over x
    (``λ_max`` for sign +1, ``−λ_min`` for sign −1), by normalised gradient ascent with a step decaying
    geometrically from 0.3 to 0.003 times the spatial scale (the best point seen is kept), like
    :func:`gifsym.numerics.verify.verify` does for other targets.

    The gradient is first-order perturbation theory, not reverse-mode through the scan: for the unit
    eigenvector u of ``∇v = c_x I + (c_m b/s) Cov_r(y)`` at the eigenvalue λ,
    ``∇_x λ = (c_m b/s) ∇_x(uᵀ Cov_r(y) u)`` (:attr:`EmpiricalField.cov_derivative`), one streamed pass, so
    memory stays bounded for any N.
    """
    jac, covd = _as_arg(ef.jacobian), _as_arg(ef.cov_derivative)
    return lambda tt, x0, scale, sign: _ASCENT(jac, covd, tt, x0, scale, float(sign), int(steps), ef.coefficients)


__all__ = [
    "GROUP_BYTES",
    "IDENTITY_RTOL",
    "Comparison",
    "IdentityCheck",
    "Moments",
    "Reference",
    "extremizer",
    "identity_check",
    "posterior_moments",
    "reference",
    "symbolic_limit",
]
