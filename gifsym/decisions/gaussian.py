r"""Gaussian targets: every one-step sampler is an affine recursion, so the plan's bound is a closed form.

For ``ν = N(m, Σ)`` the velocity is affine and decouples along the eigendirections of Σ: along one of
variance λ, with ``y`` the coordinate and ``μ`` the mean's component (math.md §4, gifsym.symbolic.flow),

.. math::  \dot y = c_x(t) y + c_m(t) μ,\qquad c_x = \frac{aȧ + λbḃ}{a^2 + λb^2},\quad
           c_m = \frac{a(aḃ - ȧb)}{a^2 + λb^2},

whose exact flow is ``y_t = b_t μ + \sqrt{s_t/s_τ}(y_τ − b_τ μ)`` with ``s = a² + λb²``. A step of a sampler
is ``y ↦ f y + ĝ μ`` (:func:`gifsym.decisions.samplers.affine_step`). The bound of lemma ``sampler-error``
(numerical propagation, math.md §9 (a)) is then, with every ingredient exact:

* local error at exact points, ``y ~ N(b_k μ, s_k)``:
  ``δ_k² = Σ_i (r_{ik} − f_{ik})² s_{ik} + \max_i e_{ik}² |m|²``, ``r = \sqrt{s_{k+1}/s_k}``,
  ``e = b_{k+1} − f b_k − ĝ`` (the max over directions replaces the mean's components, which would need
  eigenvectors; it is an equality for isotropic Σ);
* the step's Lipschitz constant ``\max_i |f_{ik}|`` (the step is linear, diagonal in Σ's eigenbasis);
* ``e_N ≤ Σ_k (Π_{j>k} \max_i|f_{ij}|) δ_k``.

:func:`contributions` evaluates the terms in float64 (fast, for searching grids); :func:`certified_contributions`
evaluates the same formula in ball arithmetic (python-flint), whose upper ends are the reported bound.

Example:
    >>> from gifsym import schedule, target
    >>> g = GaussianModel.of(schedule("linear"), target("gaussian:sigma=0.3"))
    >>> import numpy as np
    >>> grid = np.linspace(0, 1, 193)  # 192 Euler steps: the least for a 1 % error (math.md §9)
    >>> bound = upper(sum(certified_contributions(g, "euler", grid)))
    >>> bool(exact_error(g, "euler", grid) <= bound <= 0.003)
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from functools import cached_property, lru_cache

import numpy as np
import sympy
from flint import arb, ctx

from gifsym.decisions.samplers import affine_step, sampler
from gifsym.errors import GifsymError
from gifsym.symbolic.balls import PREC, compile_ball, enclose
from gifsym.symbolic.flow import LAM, component_coefficients, instantiate
from gifsym.symbolic.schedule import Schedule, t
from gifsym.symbolic.target import Target


@dataclass(frozen=True)
class Direction:
    """One eigenvalue λ of Σ (exact), its multiplicity, and its coefficients as functions of time."""

    lam: sympy.Expr
    mult: int
    exprs: tuple[sympy.Expr, sympy.Expr, sympy.Expr]  # c_x, c_m, s

    @cached_property
    def numpy(self):
        return sympy.lambdify([t], list(self.exprs), modules="numpy")

    @cached_property
    def balls(self):
        return tuple(compile_ball(e, t) for e in self.exprs)

    def values(self, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with np.errstate(all="ignore"):
            return tuple(np.broadcast_to(np.asarray(v, dtype=float), np.shape(tau)) for v in self.numpy(tau))


@dataclass(frozen=True)
class GaussianModel:
    """A Gaussian target on a schedule, as its eigendirections (see the module docstring)."""

    schedule: Schedule
    directions: tuple[Direction, ...]
    mean_sq: sympy.Expr  # |m|²
    b: sympy.Expr

    @staticmethod
    def of(schedule: Schedule, target: Target) -> GaussianModel:
        return _model(schedule, target)

    @cached_property
    def b_numpy(self):
        return sympy.lambdify([t], self.b, modules="numpy")

    @cached_property
    def b_ball(self):
        return compile_ball(self.b, t)

    @cached_property
    def mean_sq_ball(self) -> arb:
        return enclose(self.mean_sq)

    def b_values(self, tau: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(self.b_numpy(tau), dtype=float), np.shape(tau))

    def finite_at(self, tt: float) -> bool:
        """Whether every coefficient of the field is finite at ``tt``, in float64 (as the field is evaluated)
        and in ball arithmetic (as the bound is): a formula of the form 0/0 there counts as not finite."""
        vals = [v for d in self.directions for v in d.values(np.array([tt]))] + [self.b_values(np.array([tt]))]
        balls = [f(arb(float(tt))) for d in self.directions for f in d.balls] + [self.b_ball(arb(float(tt)))]
        return bool(all(np.all(np.isfinite(v)) for v in vals)) and all(b.is_finite() for b in balls)


@lru_cache(maxsize=64)
def _model(schedule: Schedule, target: Target) -> GaussianModel:
    law = target.law
    if law is None or law.K != 1:
        raise GifsymError("a closed-form plan needs a Gaussian target")
    free = schedule.a.free_symbols | schedule.b.free_symbols
    if free - {t}:
        raise GifsymError(f"the schedule has symbolic parameters {sorted(map(str, free - {t}))}; give them numbers")
    comp = law.components[0]
    if comp.sigma is not None:
        eig = {sympy.nsimplify(comp.sigma) ** 2: comp.dim}
    else:
        eig = sympy.Matrix(comp.covariance).eigenvals()  # exact (the inventory's covariances are small)
        if sum(eig.values()) != comp.dim:
            raise GifsymError("the covariance's eigenvalues could not be found exactly")
    cx, cm, s, _ = (instantiate(e, schedule) for e in component_coefficients())
    dirs = tuple(Direction(lam, int(k), tuple(e.xreplace({LAM: lam}) for e in (cx, cm, s))) for lam, k in eig.items())
    mean_sq = sympy.Add(*(sympy.nsimplify(v) ** 2 for v in comp.mean))
    return GaussianModel(schedule, dirs, mean_sq, schedule.b)


def _grid(grid: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    g = np.asarray(grid, dtype=float)
    return g[:-1], np.diff(g)


def _terms(model: GaussianModel, method: str, grid: np.ndarray):
    """Float64 local errors δ_k and step Lipschitz constants L_k."""
    m = sampler(method)
    tk, h = _grid(grid)
    var = np.zeros_like(tk)
    mean_coef = np.zeros_like(tk)
    lip = np.zeros_like(tk)
    bk, bk1 = model.b_values(tk), model.b_values(tk + h)
    for d in model.directions:
        f, g = affine_step(m, lambda tau, d=d: d.values(tau)[0], lambda tau, d=d: d.values(tau)[1], tk, h)
        sk, sk1 = d.values(tk)[2], d.values(tk + h)[2]
        r = np.sqrt(sk1 / sk)
        var += d.mult * (r - f) ** 2 * sk
        mean_coef = np.maximum(mean_coef, np.abs(bk1 - f * bk - g))
        lip = np.maximum(lip, np.abs(f))
    delta = np.sqrt(var + mean_coef**2 * float(model.mean_sq))
    return delta, lip


def propagation(lip: np.ndarray) -> np.ndarray:
    """``P_k = Π_{j>k} L_j`` (the last step's is 1)."""
    rev = np.cumprod(lip[::-1])[::-1]
    return np.append(rev[1:], 1.0)


def contributions(model: GaussianModel, method: str, grid: Sequence[float]) -> np.ndarray:
    """Each step's term ``P_k δ_k`` of the bound, in float64 (the bound is their sum)."""
    delta, lip = _terms(model, method, np.asarray(grid, dtype=float))
    return propagation(lip) * delta


def certified_contributions(model: GaussianModel, method: str, grid: Sequence[float]) -> list[arb]:
    """The same terms as :func:`contributions`, each a ball that contains the exact value of the formula."""
    m = sampler(method)
    g = [arb(float(x)) for x in grid]
    with ctx.workprec(PREC):
        msq = model.mean_sq_ball
        bvals = [model.b_ball(x) for x in g]
        deltas, lips = [], []
        svals = [[d.balls[2](x) for x in g] for d in model.directions]
        for k in range(len(g) - 1):
            tk, h = g[k], g[k + 1] - g[k]
            var, mc, lip = arb(0), arb(0), arb(0)
            for d, sv in zip(model.directions, svals, strict=True):
                f, gg = affine_step(m, d.balls[0], d.balls[1], tk, h)
                r = (sv[k + 1] / sv[k]).sqrt()
                var += d.mult * _sq(r - f) * sv[k]
                mc = mc.max(abs(bvals[k + 1] - f * bvals[k] - gg))
                lip = lip.max(abs(f))
            deltas.append(_root(var + _sq(mc) * msq))
            lips.append(lip)
        out, P = [arb(0)] * len(deltas), arb(1)
        for k in range(len(deltas) - 1, -1, -1):
            out[k] = P * deltas[k]
            P = P * lips[k]
    for k, c in enumerate(out):
        if not c.is_finite():
            raise GifsymError(f"the bound's step {k} ({grid[k]:.6g} to {grid[k + 1]:.6g}) could not be enclosed: "
                              "the field is not finite there; stop earlier (t1 < 1) or start later (t0 > 0)")
    return out


def _sq(x: arb) -> arb:
    # x * x, not x ** 2: python-flint's power goes through exp(2 log x), undefined on a ball around 0.
    return x * x


def _root(x: arb) -> arb:
    # √ of a sum of squares: its ball may reach below 0 by rounding (e.g. an exact 0, as for v ≡ 0), where
    # arb's sqrt is undefined; the true value is ≥ 0, so the root lies in [0, √(upper end)].
    if x > 0:
        return x.sqrt()
    return arb(0).union(arb(x.upper()).sqrt())


def upper(x: arb) -> float:
    """The float just above a ball's upper end (a bound stays a bound after rounding)."""
    return math.nextafter(float(x.upper()), math.inf)


def early_stopping(model: GaussianModel, t1: float) -> arb:
    """``W₂(p_{t1}, ν)`` exactly (Bures: the covariances commute): ``√(Σ_i (√s_i(t1) − √λ_i)² + (1 − b)²|m|²)``."""
    x = arb(float(t1))
    with ctx.workprec(PREC):
        tot = _sq(1 - model.b_ball(x)) * model.mean_sq_ball
        for d in model.directions:
            tot += d.mult * _sq(d.balls[2](x).sqrt() - enclose(sympy.sqrt(d.lam)))
        return _root(tot)


def exact_error(model: GaussianModel, method: str, grid: Sequence[float], *, to: float | None = None) -> float:
    """The sampler's exact L² error ``‖Y_N − X_{to}‖`` under the synchronous coupling, isotropic Σ only.

    ``to`` defaults to the grid's last time. For tests and tables (float64; the recursion
    ``Y_{k+1} = f_k Y_k + ĝ_k μ`` of math.md §9), not a bound.
    """
    if len(model.directions) != 1:
        raise GifsymError("exact_error is implemented for isotropic Gaussian targets")
    (d,) = model.directions
    g = np.asarray(grid, dtype=float)
    tk, h = _grid(g)
    f, gg = affine_step(sampler(method), lambda tau: d.values(tau)[0], lambda tau: d.values(tau)[1], tk, h)
    F, G = 1.0, 0.0
    for fk, gk in zip(f, gg, strict=True):
        F, G = fk * F, fk * G + gk
    to = g[-1] if to is None else to
    s0, s1 = d.values(np.array([g[0], to]))[2]
    b0, b1 = model.b_values(np.array([g[0], to]))
    R = math.sqrt(s1 / s0)
    # Y_N − X_to = (F − R) √s0 ξ + (F b0 + G − b1) μ with y0 = b0 μ + √s0 ξ, ξ ~ N(0, 1) per coordinate.
    return math.sqrt(d.mult * (F - R) ** 2 * s0 + (F * b0 + G - b1) ** 2 * float(model.mean_sq))


# --- The three propagation routes (lemma sampler-routes) ----------------------------------------------------
#
# Along direction i the sampler is Y_{k+1} = f_k Y_k + ĝ_k μ, so with Y_0 = X_{t0} = b_0 μ + √s_0 ξ
# (ξ ~ N(0, 1) per coordinate), Y_k = F_k (b_0 μ + √s_0 ξ) + G_k μ, F_k = Π_{j<k} f_j, G_{k+1} = f_k G_k + ĝ_k,
# and the exact flow gives X_{t_N} = b_N μ + √s_N ξ. Every route below is a formula in f, ĝ, s, b only; the
# same code runs on float64 arrays (search) and on object arrays of python-flint balls (the reported value).

#: The routes' names, as reported in a plan's ``terms["routes"]``.
ROUTES = ("coupling", "numerical-propagation", "exact-propagation")


@dataclass(frozen=True)
class _Ops:
    sqrt: Any
    maximum: Any
    absolute: Any


_FLOAT = _Ops(np.sqrt, np.maximum, np.abs)
_BALL = _Ops(np.vectorize(lambda x: _root(x), otypes=[object]),
             np.vectorize(lambda x, y: x.max(y), otypes=[object]),
             np.vectorize(lambda x: abs(x), otypes=[object]))


def _sequences(model: GaussianModel, method: str, grid: Sequence[float], ball: bool):
    """``b`` at the grid points and, per direction, ``(mult, f, ĝ, s)`` (f, ĝ per step, s per point)."""
    m = sampler(method)
    if not ball:
        g = np.asarray(grid, dtype=float)
        tk, h = _grid(g)
        out = []
        for d in model.directions:
            f, gg = affine_step(m, lambda tau, d=d: d.values(tau)[0], lambda tau, d=d: d.values(tau)[1], tk, h)
            out.append((d.mult, np.asarray(f, float), np.asarray(gg, float), d.values(g)[2]))
        return model.b_values(g), out
    g = [arb(float(x)) for x in grid]
    bvals = np.array([model.b_ball(x) for x in g], dtype=object)
    out = []
    for d in model.directions:
        fs, gs = [], []
        for k in range(len(g) - 1):
            f, gg = affine_step(m, d.balls[0], d.balls[1], g[k], g[k + 1] - g[k])
            fs.append(f)
            gs.append(gg)
        sv = np.array([d.balls[2](x) for x in g], dtype=object)
        out.append((d.mult, np.array(fs, dtype=object), np.array(gs, dtype=object), sv))
    return bvals, out


def _routes(bvals, dirs, msq, ops: _Ops) -> dict[str, Any]:
    """Each route's value: the coupling's ``‖Y_N − X_{t_N}‖`` and the two fans' per-step terms."""
    n = len(bvals) - 1
    zero = bvals[0] * 0
    var_c, mean_c = zero, zero
    var_b, mean_b = np.full(n, zero, dtype=bvals.dtype), np.full(n, zero, dtype=bvals.dtype)
    lip_b = np.full(n, zero, dtype=bvals.dtype)
    for mult, f, gg, s in dirs:
        rs = ops.sqrt(s)
        r = rs[1:] / rs[:-1]
        F = np.concatenate([[zero + 1], np.multiply.accumulate(f)])  # F_k = Π_{j<k} f_j
        G = [zero]
        for fk, gk in zip(f, gg, strict=True):
            G.append(fk * G[-1] + gk)
        G = np.array(G, dtype=bvals.dtype)
        # coupling: (F_N √s_0 − √s_N) ξ + (F_N b_0 + G_N − b_N) μ, exactly
        var_c = var_c + mult * _sq(F[-1] * rs[0] - rs[-1])
        mean_c = ops.maximum(mean_c, ops.absolute(F[-1] * bvals[0] + G[-1] - bvals[-1]))
        # exact propagation: local error at Y_k ~ N(M_k μ, F_k² s_0), carried by the exact map's √(s_N/s_{k+1})
        a = f - r
        var_b = var_b + mult * (a * F[:-1] * rs[0]) * (a * F[:-1] * rs[0])
        M = F[:-1] * bvals[0] + G[:-1]
        mean_b = ops.maximum(mean_b, ops.absolute(a * M + gg - bvals[1:] + r * bvals[:-1]))
        lip_b = ops.maximum(lip_b, rs[-1] / rs[1:])
    coupling = ops.sqrt(np.array([var_c + mean_c * mean_c * msq], dtype=bvals.dtype))[0]
    exact_prop = lip_b * ops.sqrt(var_b + mean_b * mean_b * msq)
    return {"coupling": coupling, "exact-propagation": exact_prop}


def route_values(model: GaussianModel, method: str, grid: Sequence[float]) -> dict[str, float]:
    """Each route's bound on ``‖Y_N − X_{t_N}‖_{L²}`` in float64 (for searching grids)."""
    bvals, dirs = _sequences(model, method, grid, ball=False)
    with np.errstate(all="ignore"):
        r = _routes(bvals, dirs, float(model.mean_sq), _FLOAT)
    return {"coupling": float(r["coupling"]),
            "numerical-propagation": float(np.sum(contributions(model, method, grid))),
            "exact-propagation": float(np.sum(r["exact-propagation"]))}


def certified_routes(model: GaussianModel, method: str, grid: Sequence[float]) -> dict[str, list[arb]]:
    """Each route as balls: ``coupling`` a one-element list (the closed form), the fans their per-step terms.

    The coupling route is the exact L² error for isotropic Σ (and with ``max_i`` over the mean's components
    a bound otherwise); every route bounds W₂ on its own (lemmas sampler-error, sampler-routes).
    """
    with ctx.workprec(PREC):
        bvals, dirs = _sequences(model, method, grid, ball=True)
        r = _routes(bvals, dirs, model.mean_sq_ball, _BALL)
    out = {"coupling": [r["coupling"]], "numerical-propagation": certified_contributions(model, method, grid),
           "exact-propagation": list(r["exact-propagation"])}
    for name, terms in out.items():
        if not all(c.is_finite() for c in terms):
            raise GifsymError(f"the {name} bound could not be enclosed: the field is not finite on the grid; "
                              "stop earlier (t1 < 1) or start later (t0 > 0)")
    return out
