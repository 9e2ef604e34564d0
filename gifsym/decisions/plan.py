r"""``plan``: how many steps of which sampler, on which time grid, with a W₂ bound that is a theorem.

For a flow, a sampler (Euler, Heun, midpoint, RK4) and either a tolerance or a number of steps, :func:`plan`
returns a :class:`Plan`: the grid, and a bound on ``W₂(law of the sampler's output, ν)`` (math.md §9):

.. math::  W_2 \le \|Y_N - X_{t_1}\|_{L^2} + W_2(p_{t_1}, ν),\qquad
           \|Y_N - X_{t_1}\|_{L^2} \le \sum_k \Big(\prod_{j>k} \mathrm{Lip}\,Φ_{h_j}\Big) δ_k,

where ``Y`` is the sampler started from ``X_{t_0} ~ p_{t_0}`` (synchronous coupling), ``δ_k`` is step k's
local error at the exact points ``X_{t_k}`` in ``L²(p_{t_k})`` and the second term is the early stopping at
``t_1 < 1`` (0 when ``t_1 = 1``). That sum (route (a), lemma ``sampler-error``) is one of three routes
to the first term; for Gaussian targets (:mod:`gifsym.decisions.gaussian`, lemma ``sampler-routes``) the
others are the synchronous coupling's exact L² error (``coupling``, a closed form) and the local errors at the
numerical points carried by the exact flow (``exact-propagation``, route (b)). Each route bounds W₂ on its
own; the plan reports every route's value in ``terms["routes"]`` and uses the smallest (never a mix). The
reported value is the upper end of a ball enclosure of the closed form: kind ``certified``, with the
enclosure. For Gaussian mixtures the local errors are simulated (:mod:`gifsym.decisions.mixture`): kind
``estimate``. Data targets (``empirical:FILE``) are planned like mixtures (kind ``estimate``). Target
classes raise a :class:`~gifsym.errors.GifsymError` that says which quantity is not derived and what to give instead.

Example:
    >>> from gifsym import GIF, schedule, target
    >>> p = plan(GIF(schedule("linear"), target("gaussian:sigma=0.3")), sampler="heun", tol=3e-3, grid="uniform")
    >>> p.steps, p.w2_bound.kind, p.w2_bound.route
    (11, 'certified', 'coupling')
    >>> p.export("diffusers")["sigmas"][:2]
    [1.0, 0.9090909090909091]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from gifsym.decisions import grids
from gifsym.decisions.gaussian import (GaussianModel, certified_routes, contributions, early_stopping, route_values,
                                      upper)
from gifsym.decisions.samplers import SAMPLERS, sampler as get_sampler
from gifsym.errors import GifsymError
from gifsym.symbolic.flow import Flow
from gifsym.symbolic.schedule import t as T

#: Where the field is not finite at an end, the plan stops (or starts) this far from it by default
#: (score-SDE's ε = 10⁻³ for VP sampling).
END_GAP = 1e-3
#: The largest number of steps a tolerance search tries.
MAX_STEPS = 1 << 20


@dataclass(frozen=True)
class W2Bound:
    """A bound on W₂(law of the sampler's output, ν).

    Attributes:
        value: the bound (a float at or above the exact value of the formula).
        kind: ``certified`` (a closed form enclosed in ball arithmetic; ``value`` is the enclosure's upper
            end) or ``estimate`` (simulated terms).
        conditions: what the bound assumes, in words.
        route: which route's value it is (``coupling``, ``numerical-propagation``, ``exact-propagation``).
        enclosure: for ``certified``, ``[lo, hi]`` containing the exact value of the route's formula (plus
            early stopping); ``hi`` is ``value``.
    """

    value: float
    kind: str
    conditions: tuple[str, ...]
    route: str = "numerical-propagation"
    enclosure: tuple[float, float] | None = None

    def __float__(self) -> float:
        return self.value

    def to_dict(self) -> dict:
        out = {"value": self.value, "kind": self.kind, "route": self.route, "conditions": list(self.conditions)}
        if self.enclosure is not None:
            out["enclosure"] = list(self.enclosure)
        return out


@dataclass(frozen=True)
class StepSizeCondition:
    """Linear stability: ``h_k · max(0, −λ_min) ≤ r`` on every step (r the method's stability interval).

    It is not needed by the bound (which holds on any grid) but says where steps amplify errors.

    Attributes:
        interval: the method's stability interval r (|R(z)| ≤ 1 on [−r, 0]).
        worst: the largest ``h_k · max(0, −λ)`` over steps and stage times (λ: the field's Jacobian
            eigenvalues there).
        holds: ``worst ≤ interval``.
    """

    interval: float
    worst: float
    holds: bool

    def to_dict(self) -> dict:
        return {"interval": self.interval, "worst": self.worst, "holds": self.holds}


@dataclass(frozen=True)
class Plan:
    """A sampler plan: a grid and a W₂ bound for sampling the flow with it (see :func:`plan`).

    Attributes:
        steps: the number of steps N.
        grid: N + 1 increasing times from t0 to t1.
        sampler: the method's name.
        w2_bound: the bound (:class:`W2Bound`).
        terms: ``{"discretisation": …, "early_stopping": …, "routes": {route: value}}`` (the bound is the
            first two's sum, rounded up; ``discretisation`` is the smallest route's value).
        per_step: step k's term of a fan route (``per_step_route``): the chosen route's, or when the coupling's
            closed form is chosen, the tighter fan's (they show where the error is made).
        step_size_condition: linear stability of the steps (:class:`StepSizeCondition`).
        grid_kind: how the grid was chosen (``optimal``, ``uniform``, ``edm:…``, ``shift:S``, ``given``).
        schedule, target: the flow's specs.
        tol: the tolerance asked for, if any.
        lemmas: the library's lemmas the bound rests on.
    """

    steps: int
    grid: tuple[float, ...]
    sampler: str
    w2_bound: W2Bound
    terms: dict[str, float]
    per_step: tuple[float, ...]
    step_size_condition: StepSizeCondition | None
    grid_kind: str
    schedule: str
    target: str
    tol: float | None = None
    lemmas: tuple[str, ...] = ("sampler-error", "sampler-gaussian", "early-stopping")
    per_step_route: str = "numerical-propagation"

    def to_dict(self) -> dict:
        """Plain JSON-ready data (``steps``, ``grid``, ``sampler``, ``w2_bound`` with value and kind, …)."""
        return {
            "schedule": self.schedule, "target": self.target, "sampler": self.sampler, "steps": self.steps,
            "grid_kind": self.grid_kind, "grid": list(self.grid), "tol": self.tol,
            "w2_bound": self.w2_bound.to_dict(),
            "terms": {k: dict(v) if isinstance(v, dict) else v for k, v in self.terms.items()},
            "per_step": list(self.per_step), "per_step_route": self.per_step_route,
            "step_size_condition": None if self.step_size_condition is None else self.step_size_condition.to_dict(),
            "lemmas": list(self.lemmas),
        }

    def to_latex(self) -> str:
        """The certificate as a LaTeX theorem with its numbers (lines kept short; the grid as a table)."""
        return _latex(self)

    def export(self, fmt: str) -> Any:
        """The grid for a peer library.

        Args:
            fmt: ``"numpy"`` (float64 array), ``"torch"`` (float64 tensor), ``"diffusers"`` (a dict with
                ``"sigmas" = 1 − grid``, for ``FlowMatchEulerDiscreteScheduler.set_timesteps(sigmas=sigmas[:-1])``,
                and ``"num_inference_steps"``; diffusers' σ is the noise weight ``1 − t`` of the linear
                schedule) or ``"flow_matching"`` (a dict with ``"time_grid"``, a float64 tensor for
                ``ODESolver.sample(time_grid=…)``; flow_matching's time runs from noise to data, as gifsym's).
        """
        g = np.array(self.grid, dtype=float)
        if fmt == "numpy":
            return g
        if fmt == "diffusers":
            return {"sigmas": (1.0 - g).tolist(), "num_inference_steps": self.steps}
        if fmt in ("torch", "flow_matching"):
            import torch

            tg = torch.tensor(g, dtype=torch.float64)
            return tg if fmt == "torch" else {"time_grid": tg}
        raise GifsymError(f"unknown export format {fmt!r}; accepted: numpy, torch, diffusers, flow_matching")


def _num(x: float) -> str:
    """A float in LaTeX: ``3.1 \\times 10^{-4}``."""
    m, _, e = f"{x:.4g}".partition("e")
    return m if not e else rf"{m} \times 10^{{{int(e)}}}"


def _latex(p: Plan) -> str:
    t0, t1 = p.grid[0], p.grid[-1]
    names = {"euler": "Euler", "heun": "Heun", "midpoint": "midpoint", "rk4": "RK4"}
    lines = [
        rf"\begin{{theorem}}[Sampler plan: {names[p.sampler]}, {p.steps} steps]",
        r"Let $\nu$ be the target and $X$ the flow of the schedule",
        r"\begin{flushleft}",
        rf"\quad target: \texttt{{{_spec(p.target)}}}\\",
        rf"\quad schedule: \texttt{{{_spec(p.schedule)}}}",
        r"\end{flushleft}",
        rf"and let $Y$ be the {names[p.sampler]} sampler on the grid",
        rf"$t_0 = {_num(t0)} < \dots < t_{{{p.steps}}} = {_num(t1)}$ below (grid: {_tex(p.grid_kind)}),",
        r"started from $Y_0 = X_{t_0} \sim p_{t_0}$. Then",
        r"\[",
        r"  W_2(\mathrm{Law}(Y_N), \nu) \le \|Y_N - X_{t_N}\|_{L^2} + W_2(p_{t_N}, \nu)",
        rf"  \le {_num(p.terms['discretisation'])} + {_num(p.terms['early_stopping'])}",
        rf"  \le {_num(p.w2_bound.value)}.",
        r"\]",
        rf"The bound is of kind \emph{{{p.w2_bound.kind}}}, route \texttt{{{p.w2_bound.route}}} "
        rf"(lemmas {', '.join(p.lemmas)}).",
        r"\end{theorem}",
        "",
        r"\begin{center}\small",
        r"\begin{tabular}{rrr}",
        r"$k$ & $t_k$ & term of step $k$ \\ \hline",
    ]
    # A tabular does not break across pages: long grids show their first and last 20 steps.
    shown = range(p.steps) if p.steps <= 40 else [*range(20), None, *range(p.steps - 20, p.steps)]
    for k in shown:
        if k is None:
            lines.append(r"\multicolumn{3}{c}{$\vdots$} \\")
            continue
        lines.append(rf"{k} & {p.grid[k]:.6f} & ${_num(p.per_step[k])}$ \\")
    lines += [rf"{p.steps} & {p.grid[-1]:.6f} & \\", r"\end{tabular}", r"\end{center}"]
    return "\n".join(lines) + "\n"


def _spec(s: str) -> str:
    # A spec may be longer than a line: allow breaks after its separators.
    return "".join(c + r"\allowbreak{}" if c in ",:=" else c for c in _tex(s))


def _tex(s: str) -> str:
    return "".join("\\" + c if c in "_&%$#{}" else c for c in s)


# ---------------------------------------------------------------------------------------------------------


def _ends(model: _Route, t0: float | None, t1: float | None) -> tuple[float, float]:
    out = []
    for name, given, end, inside in (("t0", t0, 0.0, END_GAP), ("t1", t1, 1.0, 1.0 - END_GAP)):
        if given is None:
            out.append(end if model.finite_at(end) else inside)
            continue
        try:
            v = float(given)
        except (TypeError, ValueError):
            raise GifsymError(f"{name} must be a number in [0, 1], got {given!r}") from None
        if not (0.0 <= v <= 1.0):
            raise GifsymError(f"{name} must be in [0, 1], got {given!r}")
        if v == end and not model.finite_at(end):
            raise GifsymError(f"the field is not finite at t = {end:g}; choose {name} inside (0, 1), e.g. {inside}")
        out.append(v)
    if not out[0] < out[1]:
        raise GifsymError(f"t0 must be below t1, got t0={out[0]}, t1={out[1]}")
    return out[0], out[1]


_EDM_KEYS = ("rho", "sigma_min", "sigma_max")


def _parse_grid(spec: str) -> tuple[str, dict[str, float]]:
    name, _, rest = spec.partition(":")
    name = name.strip().lower()
    if name in ("optimal", "uniform") and not rest:
        return name, {}
    if name == "shift":
        try:
            return name, {"shift": float(rest)}
        except ValueError:
            raise GifsymError(f"grid 'shift:S' needs a number S, got {spec!r}") from None
    if name == "edm":
        opts: dict[str, float] = {}
        for item in filter(None, (s.strip() for s in rest.split(","))):
            k, eq, v = item.partition("=")
            if not eq or k.strip() not in _EDM_KEYS:
                raise GifsymError(f"bad EDM option {item!r}; accepted: {', '.join(k + '=…' for k in _EDM_KEYS)}")
            try:
                opts[k.strip()] = float(v)
            except ValueError:
                raise GifsymError(f"EDM option {k.strip()} needs a number, got {v!r}") from None
        return name, opts
    raise GifsymError(f"unknown grid {spec!r}; accepted: optimal, uniform, edm[:rho=…,sigma_min=…,sigma_max=…], "
                      "shift:S, or an increasing sequence of times")


@dataclass(frozen=True)
class _Route:
    """What a plan needs of a target: finiteness at the ends, float terms (search), final terms and kind."""

    kind: str
    schedule: Any
    finite_at: Any
    terms: Any  # (method, grid) -> float array: route (a)'s per-step terms (they shape the optimal grid)
    objective: Any  # (method, grid) -> float: the smallest route's value (None: the sum of ``terms``)
    final: Any  # (method, grid) -> {route: list of balls or floats} (a route's value is its list's sum)
    stop: Any  # t1 -> ball
    conditions: tuple[str, ...]
    lower: Any  # τ -> a lower bound (or estimate) of ∇v's smallest eigenvalue


def _model(flow: Flow) -> _Route:
    if not isinstance(flow, Flow):
        raise GifsymError(f"plan needs a flow (gifsym.GIF(schedule, target)), got {flow!r}")
    law = flow.target.law
    if law is None:
        raise GifsymError(
            f"target class {flow.target.spec!r}: a plan needs the sampler's local errors, i.e. a bound on "
            "E|d²X_t/dt²|² = E|∂_t v + (∇v) v|² along the flow (and on the next derivatives for Heun, midpoint "
            "and RK4), and gifsym derives no such bound for a class of targets; give a target with a law "
            "instead: a Gaussian (gaussian:…, certified bound), a Gaussian mixture (gmm, estimate) or your "
            "data (empirical:FILE or empirical:FILE,sigma=…, estimate)")
    data = type(law).__name__ == "EmpiricalLaw"
    if not data and type(law).__name__ != "Mixture":
        raise GifsymError(f"target {flow.target.spec!r}: no plan for this kind of law; plans are available for "
                          "Gaussian targets, Gaussian mixtures and data targets (empirical:FILE)")
    if not data and law.K == 1:
        g = GaussianModel.of(flow.schedule, flow.target)
        return _Route("certified", flow.schedule, g.finite_at, lambda m, grid: contributions(g, m, grid),
                      lambda m, grid: min(route_values(g, m, grid).values()),
                      lambda m, grid: certified_routes(g, m, grid), lambda t1: early_stopping(g, t1),
                      ("Gaussian target: the velocity is affine and each route's value is a closed form "
                       "(lemmas sampler-gaussian, sampler-routes); the bound is the upper end of a ball "
                       "enclosure (python-flint) of the smallest route",),
                      lambda tau: np.min([d.values(tau)[0] for d in g.directions], axis=0))
    from gifsym.decisions.mixture import MixtureModel

    mm = MixtureModel.of(flow)
    n = mm.simulation_draws
    what = "this data target" if data else "this mixture"
    spec = ("the steps' Lipschitz constants come from gifsym's derived bounds on the Jacobian "
            "(lemmas jacobian-upper, jacobian-lower)" if mm.derived_spectrum else
            f"no two-sided Jacobian bound is derived for {what}: the steps' Lipschitz constants use the "
            f"range of the Jacobian's eigenvalues over {n} draws of X_t (an estimate)")
    head = (f"data target ({law.N} points in dimension {law.dim}, sigma = {law.sigma}): the target is the data's "
            "empirical law (smoothed by sigma); its distance to the population the data came from is not bounded; "
            if data else "Gaussian mixture: ")
    return _Route("estimate", flow.schedule, mm.finite_at, mm.contributions, None,
                  lambda m, grid: {"numerical-propagation": list(mm.contributions(m, grid))}, mm.early_stopping,
                  (head + f"each step's local error at exact points is estimated by simulation ({n} draws of "
                   "X_t_k, reference RK4 with 8 substeps; sampling error not bounded)", spec),
                  lambda tau: mm.spectrum(tau)[0])


def _builder(model: _Route, method: str, kind: str, opts: dict, t0: float, t1: float):
    m = get_sampler(method)
    if kind == "uniform":
        return lambda n: grids.uniform(n, t0, t1)
    if kind == "shift":
        return lambda n: grids.shift(n, t0, t1, opts["shift"])
    if kind == "edm":
        sigma = sympy.lambdify([T], model.schedule.a / model.schedule.b, modules="numpy")
        return lambda n: grids.edm(n, t0, t1, sigma, **opts)
    # Simulated terms (mixtures) cost more: fewer sweeps, each still keeps the best grid seen.
    sweeps = 30 if model.kind == "certified" else 10
    objective = None if model.objective is None else (lambda g: model.objective(method, g))
    return lambda n: grids.equidistribute(lambda g: model.terms(method, g), n, t0, t1, m.order, sweeps=sweeps,
                                          objective=objective)


def _float_bound(model, method, g, stop: float) -> float:
    v = float(np.sum(model.terms(method, g))) if model.objective is None else model.objective(method, g)
    return v + stop if math.isfinite(v) else math.inf


def _tightest(routes: dict[str, list]) -> tuple[str, list, Any]:
    """The route whose enclosed value has the smallest upper end, its terms and their (ball) sum."""
    sums = {name: sum(terms[1:], terms[0]) for name, terms in routes.items()}
    name = min(sums, key=lambda r: _up(sums[r]))
    return name, routes[name], sums[name]


def _search(build, model, method: str, tol: float, stop: float) -> int:
    """The least N (by doubling then bisection) whose grid's float bound is at most tol."""
    hi = 1
    while _float_bound(model, method, build(hi), stop) > tol:
        hi *= 2
        if hi > MAX_STEPS:
            raise GifsymError(f"no grid with up to {MAX_STEPS} steps meets tol={tol:g}")
    lo = hi // 2  # fails (or 0)
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if _float_bound(model, method, build(mid), stop) > tol:
            lo = mid
        else:
            hi = mid
    return hi


def _up(x: Any) -> float:
    # A ball's upper end, or a float sum rounded up once more.
    return upper(x) if hasattr(x, "mid") else math.nextafter(float(x), math.inf)


def _grid_name(kind: str, opts: dict[str, float]) -> str:
    if kind == "shift":
        return f"shift:{opts['shift']:g}"
    if opts:
        return kind + ":" + ",".join(f"{k}={v:g}" for k, v in opts.items())
    return kind


def _stability(model: _Route, method: str, g: np.ndarray) -> StepSizeCondition:
    m = get_sampler(method)
    tk, h = g[:-1], np.diff(g)
    worst = 0.0
    for c in m.c:
        lam = model.lower(tk + float(c) * h)
        worst = max(worst, float(np.max(h * np.maximum(0.0, -lam))))
    return StepSizeCondition(m.stability_interval, worst, worst <= m.stability_interval)


def plan(flow: Flow, *, sampler: str = "heun", tol: float | None = None, steps: int | None = None,
         grid: str | Sequence[float] = "optimal", t0: float | None = None, t1: float | None = None) -> Plan:
    """A sampler plan for ``flow`` with a W₂ bound (see the module docstring).

    Args:
        flow: a :class:`gifsym.GIF` (or Flow) with a Gaussian, Gaussian-mixture or data target.
        sampler: ``"euler"``, ``"heun"``, ``"midpoint"`` or ``"rk4"``.
        tol: a W₂ tolerance: the least N (found by doubling and bisection) whose grid's bound meets it.
        steps: the number of steps N (then the bound is reported).
        grid: ``"optimal"``, ``"uniform"``, ``"edm"`` / ``"edm:rho=7,sigma_min=…,sigma_max=…"``,
            ``"shift:S"``, or an increasing sequence of times (then N = len − 1).
        t0, t1: the grid's ends; default 0 and 1 where the field is finite there, else 10⁻³ inside.

    Raises:
        GifsymError: bad options, or a target for which no bound is derived.
    """
    method = get_sampler(sampler).name
    model = _model(flow)
    if isinstance(grid, str):
        kind, opts = _parse_grid(grid)
        if (tol is None) == (steps is None):
            raise GifsymError("give exactly one of tol and steps")
        t0, t1 = _ends(model, t0, t1)
        given = None
    else:
        given = grids.check(grid)
        kind, opts = "given", {}
        if tol is not None:
            raise GifsymError("a given grid fixes N: tol does not apply")
        if steps is not None and steps != given.size - 1:
            raise GifsymError(f"steps={steps} but the grid has {given.size - 1} steps")
        for name, v, want in (("t0", t0, given[0]), ("t1", t1, given[-1])):
            if v is not None and float(v) != want:
                raise GifsymError(f"{name}={v} but the grid has {name} = {want}")
        t0, t1 = _ends(model, float(given[0]), float(given[-1]))
    stop_ball = model.stop(t1) if t1 < 1.0 else None
    stop = 0.0 if stop_ball is None else upper(stop_ball)
    if given is not None:
        g = given
    else:
        build = _builder(model, method, kind, opts, t0, t1)
        if steps is not None:
            if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
                raise GifsymError(f"steps must be a positive integer, got {steps!r}")
            if steps > MAX_STEPS:
                raise GifsymError(f"steps must be at most {MAX_STEPS}")
            g = build(int(steps))
        else:
            if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not (math.isfinite(tol) and tol > 0):
                raise GifsymError(f"tol must be a positive number, got {tol!r}")
            if stop >= tol:
                raise GifsymError(f"early stopping at t1={t1} alone costs W2 <= {stop:.3g} >= tol={tol:g}; "
                                  "choose t1 closer to 1")
            n = _search(build, model, method, float(tol), stop)
            g = build(n)
    routes = model.final(method, g)
    route, per, disc = _tightest(routes)
    total = disc + stop_ball if stop_ball is not None else disc
    value = _up(total)
    if tol is not None and value > tol:
        # The float search and the enclosure disagree in the last digits: one step more settles it.
        while value > tol:
            n += 1
            g = build(n)
            routes = model.final(method, g)
            route, per, disc = _tightest(routes)
            total = disc + stop_ball if stop_ball is not None else disc
            value = _up(total)
    # per_step shows where the error is made: the chosen route's terms, or, when the coupling's closed form
    # (one term) is the smallest, the tightest of the two fans' per-step terms.
    fans = {r: v for r, v in routes.items() if r != "coupling"}
    per_route = route if route != "coupling" else _tightest(fans)[0]
    per = routes[per_route]
    enclosure = (math.nextafter(float(total.lower()), -math.inf), value) if hasattr(total, "mid") else None
    stop_how = "exactly (Bures)" if model.kind == "certified" else "as sqrt(a^2 d + (1 - b)^2 E|X_1|^2)"
    conditions = (
        f"the sampler starts from X_{{t0}} ~ p_{{t0}} at t0 = {t0:g} and is coupled with the exact flow "
        "(synchronous coupling); its floating-point rounding is not included",
        *model.conditions,
    ) + ((f"early stopping at t1 = {t1:g}: W2(p_t1, nu) is added {stop_how}",) if t1 < 1.0 else ())
    return Plan(
        steps=len(g) - 1, grid=tuple(float(x) for x in g), sampler=method,
        w2_bound=W2Bound(value, model.kind, conditions, route, enclosure),
        terms={"discretisation": _up(disc), "early_stopping": stop,
               "routes": {r: _up(sum(v[1:], v[0])) for r, v in routes.items()}},
        per_step_route=per_route,
        per_step=tuple(_up(c) for c in per), step_size_condition=_stability(model, method, np.asarray(g)),
        grid_kind=_grid_name(kind, opts),
        schedule=flow.schedule.spec, target=flow.target.spec, tol=None if tol is None else float(tol),
        lemmas=("sampler-error", "sampler-routes", "sampler-gaussian", "early-stopping") if model.kind == "certified"
        else ("sampler-error", "jacobian-upper", "early-stopping"),
    )


__all__ = ["Plan", "StepSizeCondition", "W2Bound", "plan", "SAMPLERS"]
