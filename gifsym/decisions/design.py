r"""``gifsym.design``: the schedule that minimises a Lipschitz objective for a target.

The search is over the variance-preserving family ``a = √(1 − q_t)``, ``b = √q_t`` (every time change of the
Föllmer path; see :mod:`gifsym.decisions.equalising` for the derivation). Over it,

* ``lipschitz`` (``sup_t θ_t``) has the optimum ``Ω = ∫_0^1 θ^F_τ dτ`` (θ^F: the Föllmer path's θ), reached
  exactly by the time change that makes θ_t constant;
* ``lipschitz-sq`` (``∫ E‖∇v_t(X_t)‖_F² dt``) has the optimum ``(∫_0^1 √(E‖∇v^F_τ‖_F²) dτ)²``, reached by
  the time change that makes the integrand constant (LipD, arXiv 2509.01629).

Where SymPy integrates and inverts (a Gaussian target), the schedule is a closed form: for ``N(m, s² I)``
the variance path ``a_t² + s² b_t² = r^t`` with ``r = s²`` and the constant rate ``θ_t = ½|log r|``.
Otherwise ``q`` is a polynomial with rational coefficients, increasing by construction (Bernstein
coefficients), fitted to the optimal time change; its objective is then an estimate slightly above the
family's optimum, which is reported beside it. Either way the result is an ordinary gifsym schedule whose
assumptions S-end, S-mono, S-pos, S-smooth (and the Wronskian) are proved by :mod:`gifsym.symbolic.prove`
before it is returned.

Example:
    >>> d = design("gaussian:sigma=1/10")
    >>> d.schedule.a, d.schedule.b
    (sqrt(-1/99 + 100/(99*10**(2*t))), sqrt(100/99 - 100/(99*10**(2*t))))
    >>> d.objective_value
    log(10)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy

from gifsym.decisions import equalising, objectives
from gifsym.errors import GifsymError
from gifsym.symbolic.flow import Flow
from gifsym.symbolic.schedule import AssumptionReport, Schedule, schedule, t
from gifsym.symbolic.target import Mixture, Target, target as make_target

#: The baselines every design is compared with (interface.md: linear, trigonometric, VP, cosine, SD3 shift 3).
BASELINES = ("linear", "trigonometric", "vp", "fm-cosine", "sd3:shift=3")
SAMPLERS = ("euler", "heun", "midpoint", "rk4")
#: Steps of the exported time grid when none are asked for.
DEFAULT_STEPS = 10


@dataclass(frozen=True)
class Design:
    """A designed schedule and how good it is.

    Attributes:
        target: the target it is designed for.
        objective: ``"lipschitz"``, ``"lipschitz-sq"`` or ``"steps"``.
        schedule: the designed :class:`~gifsym.symbolic.schedule.Schedule` (``a_0 = 1, b_0 = 0, a_1 = 0,
            b_1 = 1``, a decreasing, b increasing; its assumptions proved).
        objective_value: sup θ (``lipschitz``), the integral (``lipschitz-sq``) or the bound (``steps``) of
            this schedule: a SymPy number when ``kind == "exact"``, else a float.
        kind: ``"exact"`` (closed form) or ``"estimate"`` (quadrature / sampling).
        optimum: the family's optimum (a lower bound on ``objective_value`` for every schedule of the family;
            for ``lipschitz`` on every schedule with the same ``∫θ``), same kind rules.
        baselines: ``(spec, value)`` of the same objective for the catalogue's schedules (estimates).
        base: the schedule a model was trained under.
        transfer: the SNR-matching time change and scale from ``base`` to the design
            (:func:`gifsym.convert.transfer`).
        grid: the exported time grid: ``steps + 1`` times uniform in the design's time (θ_t is constant along
            a ``lipschitz`` design, so equal steps carry equal Lipschitz increments).
        base_grid: the same grid in the base schedule's time, and ``base_scale`` its scale ``s(r)``
            (``X^design_r = s(r) X^base_{t(r)}``).
        method: how the schedule was obtained, in words.
        assumptions: the proved assumption report.
        degree: the polynomial degree of ``q`` (numerical designs), else ``None``.
    """

    target: Target
    objective: str
    schedule: Schedule
    objective_value: Any
    kind: str
    optimum: Any
    baselines: tuple[tuple[str, float], ...]
    base: Schedule
    transfer: Any
    grid: tuple[float, ...]
    base_grid: tuple[float, ...]
    base_scale: tuple[float, ...]
    method: str
    assumptions: AssumptionReport = field(repr=False)
    degree: int | None = None
    sampler: str | None = None
    steps: int | None = None

    @property
    def closed_form(self) -> bool:
        """Whether ``a`` and ``b`` are closed forms found by SymPy."""
        return self.degree is None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``schedule`` with ``a`` and ``b`` as SymPy strings, ``objective_value``...)."""
        def num(x):
            x = float(x)
            return x if math.isfinite(x) else None

        s = self.schedule
        return {
            "target": self.target.spec,
            "objective": self.objective,
            "schedule": {"a": str(s.a), "b": str(s.b), "a_latex": sympy.latex(s.a), "b_latex": sympy.latex(s.b),
                         "closed_form": self.closed_form, "degree": self.degree,
                         "assumptions": self.assumptions.to_dict()},
            "objective_value": num(self.objective_value),
            "kind": self.kind,
            "objective_exact": str(self.objective_value) if self.kind == "exact" else None,
            "optimum": num(self.optimum),
            "baselines": {k: num(v) for k, v in self.baselines},
            "base": self.base.spec,
            "transfer": {"time": None if self.transfer.time is None else str(self.transfer.time),
                         "scale": None if self.transfer.scale is None else str(self.transfer.scale),
                         "kind": self.transfer.kind, "method": self.transfer.method},
            "grid": list(self.grid),
            "base_grid": list(self.base_grid),
            "base_scale": list(self.base_scale),
            "sampler": self.sampler,
            "steps": self.steps,
            "method": self.method,
        }

    def to_latex(self) -> str:
        """``a_t``, ``b_t`` and the objective as LaTeX lines."""
        s = self.schedule
        label = {"lipschitz": r"\sup_t \theta_t", "lipschitz-sq": r"\int_0^1 E\|\nabla v_t\|_F^2\,dt",
                 "steps": r"W_2\ \text{bound"}[self.objective]
        value = sympy.latex(self.objective_value) if self.kind == "exact" else f"{float(self.objective_value):.6g}"
        return "\n".join([rf"a_t = {sympy.latex(s.a)}", rf"b_t = {sympy.latex(s.b)}",
                          rf"{label} = {value}" + ("" if self.kind == "exact" else r"\ (\text{estimate})")])


def _as_target(target: Target | str) -> Target:
    if isinstance(target, Target):
        return target
    if not isinstance(target, str):
        raise GifsymError(f"design() needs a target (gifsym.target(...) or a spec string), got {target!r}")
    return make_target(target)


def _as_schedule(base: Schedule | str) -> Schedule:
    if isinstance(base, Schedule):
        return base
    if not isinstance(base, str):
        raise GifsymError(f"base must be a schedule (gifsym.schedule(...) or a spec string), got {base!r}")
    return schedule(base)


def _rate_expr(objective: str, target: Target) -> sympy.Expr | None:
    """The rate of the Föllmer path per unit of its time, symbolically where known: θ^F for ``lipschitz``;
    ``‖∇v^F‖_F`` for ``lipschitz-sq`` on a Gaussian target (∇v does not depend on x there)."""
    follmer = schedule("follmer")
    if objective == "lipschitz":
        from gifsym import theory

        b = theory.bounds(Flow(follmer, target))
        if not sympy.Interval(0, 1).is_subset(b.interval):
            raise GifsymError(f"gifsym's bounds for {target.spec} hold only on {b.interval}, not on [0, 1]: θ_t is "
                              "not bounded up to the data end, so sup θ is infinite for every schedule")
        return b.lipschitz
    law = target.law
    if isinstance(law, Mixture) and law.K == 1:
        jac = Flow(follmer, target).jacobian()
        if not (jac.free_symbols - {t}):
            return sympy.sqrt(sympy.simplify((jac * jac).trace()))
    return None


def _closed(objective: str, target: Target, rate: sympy.Expr | None):
    if rate is None:
        return None
    if isinstance(rate, sympy.Max) and len(rate.args) == 2 and sympy.expand(sum(rate.args)) == 0:
        rate = sympy.Abs(rate.args[0])  # θ = max(u, -u) = |u| (a Gaussian target); its sign is read in w > 0
    if rate.has(sympy.Max, sympy.Min, sympy.Piecewise):
        return None  # several pieces: no closed form to look for (and simplifying them is slow)
    found = equalising.closed_form(equalising.rate_in_snr(rate))
    if found is None:
        return None
    q, total = found
    value = total if objective == "lipschitz" else total**2
    return q, value


def _numeric_rate(objective: str, target: Target, rate: sympy.Expr | None):
    """``ω(q)`` as a vectorised function (per unit of q)."""
    if rate is not None:
        f = sympy.lambdify(t, rate, modules=["numpy"])

        def omega(q):
            tau = np.sqrt(q)
            with np.errstate(all="ignore"):
                return np.broadcast_to(np.asarray(f(tau), dtype=float), q.shape) / (2 * tau)

        return omega
    msj = objectives.MeanSquareJacobian(schedule("follmer"), target)

    def omega_sq(q):
        # the expectation at a few hundred nodes in log-SNR, interpolated (it is smooth in λ)
        lam = np.log(q) - np.log1p(-q)
        nodes = np.linspace(lam.min(), lam.max(), 481)
        qn = 1 / (1 + np.exp(-nodes))
        k = msj(np.sqrt(qn)) / (4 * qn)
        return np.sqrt(np.interp(lam, nodes, k))

    return omega_sq


def design(target: Target | str, *, objective: str = "lipschitz", base: Schedule | str = "linear",
           sampler: str | None = None, steps: int | None = None, tol: float | None = None) -> Design:
    """Design the schedule that minimises ``objective`` for ``target``.

    Args:
        target: a :class:`~gifsym.symbolic.target.Target` or a spec string. ``lipschitz`` takes any target
            whose θ_t gifsym can bound on [0, 1]; ``lipschitz-sq`` needs an exact law (Gaussian, GMM).
        objective: ``"lipschitz"`` (sup_t θ_t), ``"lipschitz-sq"`` (∫ E‖∇v_t(X_t)‖_F² dt) or ``"steps"``
            (the certified sampler bound of :func:`gifsym.plan` at ``(sampler, steps)``, or N for ``tol``).
        base: the schedule a model was trained under; :attr:`Design.transfer` maps it onto the design.
        sampler: ``"euler"``, ``"heun"``, ``"midpoint"`` or ``"rk4"`` (objective ``steps``; else optional).
        steps: number of steps of the exported grid (and of the plan for ``steps``).
        tol: a W₂ tolerance for ``steps`` (then N is minimised).

    Raises:
        GifsymError: a bad option, a target the objective does not apply to, a designed schedule whose
            assumptions could not be proved.
    """
    if objective not in objectives.OBJECTIVES:
        raise GifsymError(f"unknown objective {objective!r}; accepted: {', '.join(objectives.OBJECTIVES)}")
    if sampler is not None and sampler not in SAMPLERS:
        raise GifsymError(f"unknown sampler {sampler!r}; accepted: {', '.join(SAMPLERS)}")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1):
        raise GifsymError(f"steps must be a positive integer, got {steps!r}")
    if tol is not None and not (isinstance(tol, int | float) and math.isfinite(tol) and tol > 0):
        raise GifsymError(f"tol must be a positive number, got {tol!r}")
    if objective == "steps":
        return _design_steps(target, base=base, sampler=sampler, steps=steps, tol=tol)
    if tol is not None:
        raise GifsymError(f"tol applies to objective 'steps' only, not {objective!r}")
    tgt = _as_target(target)
    base_schedule = _as_schedule(base)
    if objective == "lipschitz-sq":
        objectives._mixture(tgt)  # an exact law, or a clear error
    rate = _rate_expr(objective, tgt)
    if rate is not None and rate.is_zero:
        return _trivial(tgt, objective, base_schedule, sampler, steps)
    closed = _closed(objective, tgt, rate)
    degree = None
    if closed is not None:
        q, value = closed
        optimum, kind = value, "exact"
        how = ("closed form: the time change of the Föllmer path (a = sqrt(1 - q), b = sqrt(q)) that makes "
               + ("θ_t constant" if objective == "lipschitz" else "E||∇v_t||_F^2 constant")
               + f", q(t) obtained by SymPy integrating the rate and solving Omega(q) = t Omega(1); "
               f"{objective} = {value}")
    else:
        eq = equalising.equalise(_numeric_rate(objective, tgt, rate), kind=objective)
        q, value, optimum, kind, degree = eq.q, eq.achieved, eq.optimum, "estimate", eq.degree
        how = (f"numerical: q(t) = b_t^2 a polynomial of degree {eq.degree} with rational coefficients, increasing "
               f"Bernstein coefficients from 0 to 1, fitted to the time change of the Föllmer path that makes "
               + ("θ_t constant" if objective == "lipschitz" else "E||∇v_t||_F^2 constant")
               + f"; {objective} = {value:.6g} (estimate) against the family's optimum {optimum:.6g}")
    a, b = equalising.family(q)
    designed = equalising.designed_schedule(a, b, f"designed by gifsym.design for {tgt.spec} ({objective}): {how}")
    report = designed.check()
    if not report.all_hold:
        bad = [k for k, v in report.items if v.status != "holds"]
        raise GifsymError(f"the designed schedule's assumptions {', '.join(bad)} could not be proved: "
                          + "; ".join(report.summary(k) for k in bad))
    return _finish(tgt, objective, designed, value, kind, optimum, base_schedule, how, report, degree,
                   sampler, steps)


def _trivial(tgt, objective, base_schedule, sampler, steps) -> Design:
    """∇v ≡ 0 along the Föllmer path (the target is the source N(0, I), up to a shift): every schedule of the
    family has objective 0; the design is the Föllmer path itself."""
    follmer = schedule("follmer")
    how = f"closed form: ∇v = 0 along every schedule of the family for {tgt.spec}, so {objective} = 0; the " \
          "Föllmer path is returned"
    designed = equalising.designed_schedule(follmer.a, follmer.b, f"designed by gifsym.design for {tgt.spec} "
                                            f"({objective}): {how}")
    return _finish(tgt, objective, designed, sympy.Integer(0), "exact", sympy.Integer(0), base_schedule, how,
                   designed.check(), None, sampler, steps)


def _baseline_values(objective: str, tgt: Target) -> tuple[tuple[str, float], ...]:
    out = []
    for spec in BASELINES:
        s = schedule(spec)
        if objective == "lipschitz":
            out.append((spec, objectives.lipschitz_sup(s, tgt)))
        else:
            out.append((spec, objectives.lipschitz_sq_integral(s, tgt)))
    return tuple(out)


def _finish(tgt, objective, designed, value, kind, optimum, base_schedule, how, report, degree, sampler, steps):
    from gifsym.symbolic.convert import transfer as make_transfer

    tr = make_transfer(base_schedule, designed)
    n = steps or DEFAULT_STEPS
    grid = tuple(float(x) for x in np.linspace(0.0, 1.0, n + 1))
    lo, hi = float(tr.interval.start), float(tr.interval.end)
    base_grid, base_scale = [], []
    for r in grid:
        if lo <= r <= hi:
            t_r, s_r = tr.time_scale(r)  # an end with infinite derivatives (b ~ sqrt(t)) still has t and s
            base_grid.append(t_r)
            base_scale.append(s_r)
        else:
            base_grid.append(float("nan"))
            base_scale.append(float("nan"))
    return Design(tgt, objective, designed, value, kind, optimum, _baseline_values(objective, tgt), base_schedule,
                  tr, grid, tuple(base_grid), tuple(base_scale), how, report, degree, sampler, steps)


def _design_steps(target, *, base, sampler, steps, tol) -> Design:
    """Objective ``steps``: the plan's certified bound over candidate designs (needs :func:`gifsym.plan`)."""
    import importlib

    try:  # the planner (issue 18) lives beside this module once it is merged
        plan = importlib.import_module("gifsym.decisions.plan").plan
    except (ImportError, AttributeError):
        raise GifsymError("objective 'steps' needs the sampler planner (gifsym.plan, issue 18), which this "
                          "build does not have; use objective 'lipschitz' or 'lipschitz-sq'") from None
    if sampler is None:
        raise GifsymError("objective 'steps' needs a sampler (euler, heun, midpoint, rk4)")
    if (steps is None) == (tol is None):
        raise GifsymError("objective 'steps' needs exactly one of steps=N (minimise the bound) and tol=EPS "
                          "(minimise N)")
    tgt = _as_target(target)
    candidates = [design(tgt, objective="lipschitz", base=base, sampler=sampler, steps=steps)]
    if isinstance(tgt.law, Mixture):
        candidates.append(design(tgt, objective="lipschitz-sq", base=base, sampler=sampler, steps=steps))
    scored = []
    for d in candidates:
        p = plan(Flow(d.schedule, tgt), sampler=sampler, steps=steps) if steps is not None else \
            plan(Flow(d.schedule, tgt), sampler=sampler, tol=tol)
        score = float(p.w2_bound.value) if steps is not None else int(p.steps)
        scored.append((score, d, p))
    score, best, p = min(scored, key=lambda x: x[0])
    how = (best.method + f"; chosen among {len(candidates)} designs by the plan's {p.w2_bound.kind} bound "
           f"({sampler}, " + (f"{steps} steps" if steps is not None else f"tol {tol}") + ")")
    return Design(tgt, "steps", best.schedule, score, p.w2_bound.kind, best.optimum, best.baselines, best.base,
                  best.transfer, best.grid, best.base_grid, best.base_scale, how, best.assumptions, best.degree,
                  sampler, steps if steps is not None else int(p.steps))
