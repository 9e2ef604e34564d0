r"""A model's error measured along its own samples, and the comparison recursion that turns errors into a bound.

Two quantities, both sampled from the **model's** trajectories (not from exact samples of ``p_t``):

* :func:`error_along_flow`: ``e(t) = ‖(ṽ − v)(t, Y_t)‖_{L²}`` at grid times, where ``Y`` is the model's flow
  ``dY/dt = ṽ(t, Y)`` from the flow's source (diffrax, Tsit5, tight tolerances) and ``v`` the exact field;
* :func:`sampler_defects`: ``e_k = ‖Φ̃_k(Ŷ_k) − Φ_k(Ŷ_k)‖_{L²}`` along the model's *sampler* iterates
  ``Ŷ_{k+1} = Φ̃_k(Ŷ_k)``, where ``Φ̃_k`` / ``Φ_k`` is one explicit Runge–Kutta step (tableau ``c, a, w``)
  of the model / of the exact field from the same point. The end points ``Ŷ_N`` are the samples a user gets.

Both come with upper confidence bounds on the mean of the squared error (:func:`mean_upper`: Student-t, the
CLT; Bonferroni over the grid), labelled ``estimate``.

:func:`comparison` is the scalar recursion of the stability theorems (docs/mathematics.md, "Certificates"):
if on each step ``‖D_{k+1}‖ ≤ L_k^r ‖D_k‖ + e_k^r`` for every route r, then
``‖D_N‖ ≤ φ_N`` with ``φ_0 = 0``, ``φ_{k+1} = min_r (L_k^r φ_k + e_k^r)`` (induction: each map
``φ ↦ Lφ + e`` with ``L ≥ 0`` is increasing, so ``‖D_k‖ ≤ φ_k`` gives ``‖D_{k+1}‖ ≤ L^r φ_k + e^r`` for
every r, hence ≤ the minimum).

Example:
    >>> comparison([[1.0, 1.0], [2.0, 2.0]], [[1.0, 1.0], [0.5, 0.5]])  # route 1 first (0.5 < 1), then a tie (1.5)
    (1.5, (1, 0))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gifsym.errors import NumericError
from gifsym.numerics.fields import enable_x64
from gifsym.numerics.fields import field as velocity_field
from gifsym.numerics.l2_error import ErrorProfile, _field_values
from gifsym.numerics.models import Model
from gifsym.numerics.simulate import flow_dim, sample_source


def mean_upper(w: np.ndarray, level: float) -> tuple[float, float, float]:
    """``(mean, upper, std_error)`` of a nonnegative sample: ``upper = mean + q s/√n`` with q the Student-t
    quantile at ``level`` (one-sided; asymptotic, the CLT).

    Example:
        >>> mean_upper(np.array([1.0, 1.0, 1.0]), 0.95)
        (1.0, 1.0, 0.0)
    """
    from scipy.stats import t as student

    n = len(w)
    mean = float(np.mean(w))
    s = float(np.std(w, ddof=1)) / math.sqrt(n)
    return mean, mean + float(student.ppf(level, n - 1)) * s, s


def comparison(lips: Sequence[Sequence[float]], errs: Sequence[Sequence[float]]) -> tuple[float, tuple[int, ...]]:
    """``(φ_N, the route chosen at each step)`` of ``φ_{k+1} = min_r (L_k^r φ_k + e_k^r)``, ``φ_0 = 0`` (routes r
    along the first axis; see the module docstring). ``inf·0`` counts as 0."""
    L, E = np.asarray(lips, dtype=float), np.asarray(errs, dtype=float)
    if L.shape != E.shape or L.ndim != 2 or np.any(L < 0) or np.any(E < 0):
        raise NumericError("comparison needs nonnegative factors and errors of the same shape (routes, steps)")
    phi, chosen = 0.0, []
    with np.errstate(invalid="ignore", over="ignore"):
        for k in range(L.shape[1]):
            prod = L[:, k] * phi
            cand = np.where(np.isnan(prod), 0.0, prod) + E[:, k]
            chosen.append(int(np.argmin(cand)))
            phi = float(np.min(cand))
    return phi, tuple(chosen)


@dataclass(frozen=True)
class Trajectories:
    """The model's samples at the grid times and its error there.

    Attributes:
        error: ``e(t)`` (estimates, upper confidence bounds) as an :class:`ErrorProfile`.
        end: the model's samples at the last grid time, (n, d).
        local: for a sampler, ``‖Φ̃_k(Ŷ_k) − Ψ_k(Ŷ_k)‖_{L²}`` with ``Ψ_k`` the exact flow over the step
            (classical RK4, :data:`SUBSTEPS` sub-steps): model error and discretisation error in one vector.
    """

    error: ErrorProfile
    end: np.ndarray
    local: ErrorProfile | None = None


def _profile(times, sq: list[np.ndarray], confidence: float, what: str) -> ErrorProfile:
    m, n = len(sq), len(sq[0])
    level = 1.0 - (1.0 - confidence) / m
    est, up, se = [], [], []
    for w in sq:
        mean, upper, s = mean_upper(w, level)
        est.append(math.sqrt(mean))
        up.append(math.sqrt(upper))
        se.append(s)
    method = (f"Student-t upper bound on the mean of |model - v|^2 {what} ({n} trajectories), Bonferroni over {m} "
              f"values (level {level:.4g} each); asymptotic (CLT)")
    return ErrorProfile(tuple(float(x) for x in times), tuple(est), tuple(up), tuple(se), (None,) * m, int(n),
                        float(confidence), method)


def _start(flow, n: int, seed: int) -> np.ndarray:
    import jax

    d = flow_dim(flow)
    if n * d > 25_000_000:
        raise NumericError(f"n·d = {n}·{d} is too large; use fewer samples")
    return np.asarray(sample_source(flow, int(n), key=jax.random.fold_in(jax.random.PRNGKey(seed), 0x7A1)))


#: Classical RK4 sub-steps per grid interval for the model's flow in :func:`error_along_flow` (its local error
#: O(h⁵) is far below the model errors measured; the test compares with diffrax at tight tolerances).
SUBSTEPS = 8
_RK4 = ((0.0, 0.5, 0.5, 1.0), (0.5, 0.5, 1.0), (1 / 6, 1 / 3, 1 / 3, 1 / 6))


def error_along_flow(flow, model: Model, times: Sequence[float], *, n: int, seed: int = 0,
                     confidence: float = 0.95, substeps: int = SUBSTEPS) -> Trajectories:
    """``‖(ṽ − v)(t, Y_t)‖_{L²}`` along the model's flow from n source samples (module docstring); the flow is
    integrated by classical RK4 with ``substeps`` equal steps per grid interval (batched, no diffrax
    compilation: the model is called on all n points at once).

    Raises:
        NumericError: the model fails, its flow blows up, or the exact field is not finite at a grid time.
    """
    enable_x64()
    v = velocity_field(flow)
    y = _start(flow, n, seed)
    ts = [float(x) for x in times]
    sq = []
    for i, tt in enumerate(ts):
        if i > 0:
            h = (tt - ts[i - 1]) / substeps
            for j in range(substeps):
                y = rk_step(model, ts[i - 1] + j * h, h, y, *_RK4)
        diff = model(tt, y) - _field_values(v, tt, y)
        sq.append(np.sum(diff * diff, axis=1))
    return Trajectories(_profile(ts, sq, confidence, "along the model's flow"), y)


#: Points per grid interval at which the exact field's closed-form one-sided constant is evaluated for its sup.
RATE_POINTS = 65


@dataclass(frozen=True)
class ExactRate:
    """The exact field's one-sided constant ``u_t ≥ λ_max(sym ∇v(t, x))`` for all x (lemma ``jacobian-upper``).

    Attributes:
        expr: the closed form (a string).
        values: ``u`` at the grid times.
        sup: ``max u`` over each grid interval, from :data:`RATE_POINTS` evaluations of the closed form.
        lower: the derived lower spectral bound ``ℓ_t`` at the grid times (for two-sided step constants).
        tail: ``∫_{t_i}^1 u`` for each grid time (adaptive quadrature of the closed form, ``scipy.integrate.quad``;
            ``Lip X_{t,1} ≤ e^{tail}``, lemma ``flow-map-lipschitz``).
        kind: ``"estimate"``: ``u_t`` itself is gifsym's derived closed form (``expr``), but what the
            certificate uses of it, the sup on each interval (:data:`RATE_POINTS` samples) and ``tail``
            (floating-point quadrature), is neither enclosed nor exact.
    """

    expr: str
    values: tuple[float, ...]
    sup: tuple[float, ...]
    lower: tuple[float, ...]
    kind: str = "estimate"
    tail: tuple[float, ...] = ()


def exact_rate(flow, times: Sequence[float]) -> ExactRate | None:
    """gifsym's derived upper Jacobian bound of the exact field on the grid, or None where it is not finite
    on [0, 1] (then the exact-field route is not available).

    Example:
        >>> from gifsym import GIF, schedule, target
        >>> r = exact_rate(GIF(schedule("linear"), target("gaussian:sigma=1")), (0.0, 0.5, 1.0))
        >>> r.values  # u_t = (2t − 1)/((1 − t)² + t²)
        (-1.0, 0.0, 1.0)
    """
    import sympy

    from gifsym import theory
    from gifsym.symbolic.schedule import t as T

    try:
        b = theory.bounds(flow)
    except Exception:  # noqa: BLE001 - no derived bound for this flow: the route is simply unavailable
        return None
    up, lo = b.upper, b.lower
    if up.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan) or not sympy.Interval(0, 1).is_subset(b.interval):
        return None
    fu = sympy.lambdify([T], up, modules="numpy")
    fl = sympy.lambdify([T], lo, modules="numpy")
    ts = np.asarray(times, dtype=float)
    with np.errstate(all="ignore"):
        vals = np.broadcast_to(np.asarray(fu(ts), dtype=float), ts.shape)
        low = np.broadcast_to(np.asarray(fl(ts), dtype=float), ts.shape)
        sups = [float(np.max(np.broadcast_to(np.asarray(fu(np.linspace(t0, t1, RATE_POINTS)), dtype=float),
                                             (RATE_POINTS,)))) for t0, t1 in zip(ts[:-1], ts[1:])]
    if not (np.all(np.isfinite(vals)) and np.all(np.isfinite(sups))):
        return None
    from scipy.integrate import quad

    pieces = [quad(lambda s: float(fu(s)), t0, t1, epsabs=1e-13, epsrel=1e-11, limit=200)[0]
              for t0, t1 in zip(ts[:-1], ts[1:])]
    tail = np.concatenate([np.cumsum(pieces[::-1])[::-1], [0.0]])
    return ExactRate(str(up), tuple(float(x) for x in vals), tuple(sups), tuple(float(x) for x in low),
                     tail=tuple(float(x) for x in tail))


def interval_factors(rate: Sequence[float], h: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """``(e^{u h}, (e^{u h} − 1)/u)`` per interval: ``‖D(t+h)‖ ≤ e^{uh}‖D(t)‖ + ē (e^{uh} − 1)/u`` when
    ``d‖D‖/dt ≤ u‖D‖ + ē`` on the interval (``h`` at u = 0).

    Example:
        >>> [float(x[0]) for x in interval_factors([0.0], [0.5])]
        [1.0, 0.5]
    """
    u, h = np.asarray(rate, dtype=float), np.asarray(h, dtype=float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        f = np.exp(u * h)
        g = np.where(np.abs(u * h) < 1e-8, h * (1 + u * h / 2), np.expm1(u * h) / np.where(u == 0, 1.0, u))
    return f, g


def rk_step(f, tt: float, h: float, y: np.ndarray, c: Sequence[float], a: Sequence[float],
            w: Sequence[float]) -> np.ndarray:
    """One explicit Runge–Kutta step with sub-diagonal tableau: stage i at ``y + h a_i k_{i−1}``, time
    ``t + c_i h``; the step is ``y + h Σ w_i k_i``.

    Example:
        >>> rk_step(lambda t, x: x, 0.0, 0.5, np.array([[1.0]]), [0.0, 1.0], [1.0], [0.5, 0.5])  # Heun on y' = y
        array([[1.625]])
    """
    k = None
    out = y.copy()
    for i, ci in enumerate(c):
        x = y if i == 0 else y + h * float(a[i - 1]) * k
        k = np.asarray(f(tt + float(ci) * h, x))
        out = out + h * float(w[i]) * k
    return out


def sampler_defects(flow, model: Model, grid: Sequence[float], c: Sequence[float], a: Sequence[float],
                    w: Sequence[float], *, n: int, seed: int = 0, confidence: float = 0.95, local: bool = False,
                    substeps: int = SUBSTEPS) -> Trajectories:
    """``‖Φ̃_k(Ŷ_k) − Φ_k(Ŷ_k)‖_{L²}`` along the model's sampler iterates from n source samples (the
    profile's ``times`` are the steps' start times).

    Raises:
        NumericError: the model fails, or the exact field is not finite at a stage.
    """
    enable_x64()
    v = velocity_field(flow)

    def exact(tt, x):
        return _field_values(v, tt, x)

    g = [float(x) for x in grid]
    y = _start(flow, n, seed)
    sq, loc = [], []
    for tk, t1 in zip(g[:-1], g[1:]):
        h = t1 - tk
        ym = rk_step(model, tk, h, y, c, a, w)
        diff = ym - rk_step(exact, tk, h, y, c, a, w)
        sq.append(np.sum(diff * diff, axis=1))
        if local:
            x, hs = y, h / substeps
            for j in range(substeps):
                x = rk_step(exact, tk + j * hs, hs, x, *_RK4)
            diff = ym - x
            loc.append(np.sum(diff * diff, axis=1))
        y = ym
    # Both profiles at level 1 − (1 − confidence)/2 each when both are asked (Bonferroni).
    level = confidence if not local else 1.0 - (1.0 - confidence) / 2
    return Trajectories(_profile(g[:-1], sq, level, "of one step from the model's sampler iterates"), y,
                        _profile(g[:-1], loc, level, "of one step against the exact flow, from the model's sampler "
                                 f"iterates (exact flow by RK4, {substeps} sub-steps)") if local else None)


__all__ = ["RATE_POINTS", "ExactRate", "Trajectories", "exact_rate", "interval_factors", "comparison", "error_along_flow", "mean_upper", "rk_step", "sampler_defects"]
