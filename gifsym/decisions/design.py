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
from gifsym.errors import ConvertError, GifsymError
from gifsym.symbolic.flow import Flow
from gifsym.symbolic.schedule import AssumptionReport, Schedule, schedule, t
from gifsym.symbolic.target import Mixture, Target, target as make_target

#: The baselines every design is compared with (interface.md: linear, trigonometric, VP, cosine, SD3 shift 3).
BASELINES = ("linear", "trigonometric", "vp", "fm-cosine", "sd3:shift=3")
SAMPLERS = ("euler", "heun", "midpoint", "rk4")
#: Steps of the exported time grid when none are asked for.
DEFAULT_STEPS = 10
#: Steps objective: vertices of the searched family besides the designed candidates (q = b² of schedules with
#: a² + b² = 1, a_0 = 1, b_0 = 0: the Föllmer path and the trigonometric schedule), the optimiser's budget of
#: plan evaluations and the grid of the mixing weights (rational, so the returned schedule is exact).
STEPS_VERTICES = ("follmer", "trigonometric")
STEPS_EVALUATIONS = 24
WEIGHT_DENOMINATOR = 1000


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
    def verdicts(self) -> tuple[tuple[str, Any], ...]:
        """``(id, verdict)`` for the five schedule assumptions every design must pass: S-end, S-mono, S-pos,
        S-smooth and the Wronskian ``a b' - a' b >= 0`` (which the bounds need for the SNR to be monotone)."""
        return (*self.assumptions.items, ("wronskian", self.assumptions["wronskian"]))

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
                         "assumptions": {k: {"status": v.status, "reason": v.reason} for k, v in self.verdicts}},
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
    if not _all_hold(report):
        bad = [k for k, v in (*report.items, ("wronskian", report["wronskian"])) if v.status != "holds"]
        raise GifsymError(f"the designed schedule's assumptions {', '.join(bad)} could not be proved: "
                          + "; ".join(report.summary(k) for k in bad))
    return _finish(tgt, objective, designed, value, kind, optimum, base_schedule, how, report, degree,
                   sampler, steps)


def _all_hold(report: AssumptionReport) -> bool:
    """S-end, S-mono, S-pos, S-smooth and the Wronskian all proved (a designed schedule is returned only then)."""
    return report.all_hold and report["wronskian"].status == "holds"


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
    tr, grid, base_grid, base_scale = _exported_grid(base_schedule, designed, steps or DEFAULT_STEPS)
    return Design(tgt, objective, designed, value, kind, optimum, _baseline_values(objective, tgt), base_schedule,
                  tr, grid, base_grid, base_scale, how, report, degree, sampler, steps)


def _exported_grid(base_schedule, designed, n):
    """The transfer from ``base_schedule``, ``n + 1`` uniform times of the design and their base times/scales."""
    from gifsym.symbolic.convert import transfer as make_transfer

    tr = make_transfer(base_schedule, designed)
    grid = tuple(float(x) for x in np.linspace(0.0, 1.0, n + 1))
    lo, hi = float(tr.interval.start), float(tr.interval.end)
    base_grid, base_scale = [], []
    for r in grid:
        if lo <= r <= hi:
            try:  # an end with infinite derivatives (b ~ sqrt(t)) still has t and s
                t_r, s_r = tr.time_scale(r)
            except ConvertError:
                # a = sqrt(1 - q) of a polynomial q in monomials cancels to a negative float near q(1) = 1.
                # At an end where both schedules meet S-end exactly (the design's is proved), SNR matching
                # sends the end to the same end (SNR 0 or ∞ only there) with scale b/b = 1 or a/a = 1.
                ends = {0.0: (1, 0), 1.0: (0, 1)}
                if r not in ends or any(sympy.simplify(x.subs(t, int(r)) - v) != 0
                                        for x, v in zip((base_schedule.a, base_schedule.b), ends[r])):
                    raise
                t_r, s_r = r, 1.0
            base_grid.append(t_r)
            base_scale.append(s_r)
        else:
            base_grid.append(float("nan"))
            base_scale.append(float("nan"))
    return tr, grid, tuple(base_grid), tuple(base_scale)


def _stick(u: tuple[sympy.Rational, ...]) -> list[sympy.Rational]:
    """Convex weights from stick-breaking fractions ``u ∈ [0, 1]^{k−1}`` (every vertex at a corner)."""
    w, left = [], sympy.Integer(1)
    for x in u:
        w.append(left * x)
        left -= left * x
    return w + [left]


def _design_steps(target, *, base, sampler, steps, tol) -> Design:
    r"""Objective ``steps``: minimise the plan's bound (``steps``) or N (``tol``) over the time changes of the
    Föllmer path ``q = Σ_i w_i q_i`` (convex weights) spanned by the designed candidates (``lipschitz``, and
    ``lipschitz-sq`` for an exact law) and the Föllmer and trigonometric paths; every mix is increasing from
    ``q(0) = 0`` to ``q(1) = 1``, so it is again a schedule of the family. The weights (stick-breaking
    fractions rounded to 1/1000) are optimised by bounded Nelder–Mead from the best vertex with at most
    :data:`STEPS_EVALUATIONS` plans; the vertices are evaluated first, so the result is never worse than
    any of them. For ``tol`` the least N of the vertices is found by :func:`gifsym.plan`, then the bound at
    ``N − 1, N − 2, …`` is minimised while it still meets ``tol``."""
    import importlib

    from scipy.optimize import minimize

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
    qs = [c.schedule.b**2 for c in candidates] + [schedule(s).b**2 for s in STEPS_VERTICES]
    ps = [c.schedule.a**2 for c in candidates] + [schedule(s).a**2 for s in STEPS_VERTICES]  # 1 − q_i
    names = [c.objective for c in candidates] + list(STEPS_VERTICES)
    first = candidates[0]
    cache: dict[tuple, tuple[float, Any, Schedule]] = {}

    def build(u: tuple) -> Schedule:
        w = _stick(u)
        nz = [(x, q, p, n) for x, q, p, n in zip(w, qs, ps, names, strict=True) if x != 0]
        if len(nz) == 1 and nz[0][3] in STEPS_VERTICES:  # a catalogue path: its own closed form
            s = schedule(nz[0][3])
            return equalising.designed_schedule(s.a, s.b, f"the {nz[0][3]} path")
        if len(nz) == 1:
            return candidates[names.index(nz[0][3])].schedule
        # a² = Σ w_i a_i², each term kept whole: expanded, the constants cancel to a negative float at t = 1
        a = sympy.sqrt(sympy.Add(*[sympy.Mul(x, p, evaluate=False) for x, _, p, _ in nz], evaluate=False))
        b = sympy.sqrt(sympy.Add(*[sympy.Mul(x, q, evaluate=False) for x, q, _, _ in nz], evaluate=False))
        mix = " + ".join(f"{x}·q_{n}" for x, _, _, n in nz)
        return equalising.designed_schedule(a, b, f"q = {mix}")

    def score(u: tuple, n: int) -> float:
        key = (u, n)
        if key not in cache:
            s = build(u)
            try:
                p = plan(Flow(s, tgt), sampler=sampler, steps=n)
            except GifsymError:  # a mix whose assumptions the planner cannot prove (S-mono) is no candidate
                cache[key] = (math.inf, None, s)
            else:
                cache[key] = (float(p.w2_bound.value), p, s)
        return cache[key][0]

    def rounded(x) -> tuple:
        return tuple(sympy.Rational(int(round(float(v) * WEIGHT_DENOMINATOR)), WEIGHT_DENOMINATOR)
                     for v in np.clip(x, 0, 1))

    k = len(qs)
    corners = [tuple([sympy.Integer(0)] * i + [sympy.Integer(1)] + [sympy.Integer(0)] * (k - 2 - i))
               for i in range(k - 1)] + [tuple([sympy.Integer(0)] * (k - 1))]

    def optimise(n: int) -> tuple:
        start = min(corners, key=lambda u: score(u, n))
        before = len(cache)
        minimize(lambda x: score(rounded(x), n), np.array([float(v) for v in start]) * 0.9 + 0.05,
                 method="Nelder-Mead", bounds=[(0, 1)] * (k - 1),
                 options={"maxfev": STEPS_EVALUATIONS - (len(cache) - before), "xatol": 1e-3, "fatol": 0})
        return min((u for u, m in cache if m == n), key=lambda u: cache[(u, n)][0])

    if steps is not None:
        n = steps
        best = optimise(n)
    else:
        least = min(int(plan(Flow(build(u), tgt), sampler=sampler, tol=tol).steps) for u in corners)
        n, best = least, None
        while n > 1:
            u = optimise(n - 1)
            if cache[(u, n - 1)][0] > tol:
                break
            n, best = n - 1, u
        if best is None:
            best = optimise(n)
    value, p, chosen = cache[(best, n)]
    report = chosen.check()
    if not _all_hold(report):  # a mix whose assumptions are not proved is not returned: the best proved vertex
        bad = [key for key in cache if key[1] == n and key[0] in corners]
        best = min(bad, key=lambda key: cache[key][0])[0]
        value, p, chosen = cache[(best, n)]
        report = chosen.check()
    evaluated = sum(1 for key in cache if key[1] == n)
    refused = sum(1 for key in cache if key[1] == n and cache[key][1] is None)
    how = (f"minimised the plan's {p.w2_bound.kind} W2 bound ({sampler}, {n} steps"
           + ("" if tol is None else f", the least N with bound <= {tol}") + f") over q = convex mixes of "
           f"{', '.join(names)} (bounded Nelder-Mead, {evaluated} plans at N = {n}"
           + (f", {refused} mixes refused by the planner" if refused else "") + f"): {chosen.origin}")
    designed = equalising.designed_schedule(chosen.a, chosen.b, f"designed by gifsym.design for {tgt.spec} "
                                            f"(steps): {how}")
    base_schedule = _as_schedule(base)
    tr, grid, base_grid, base_scale = _exported_grid(base_schedule, designed, n)
    degree = max((c.degree for c in candidates if c.degree is not None), default=None)
    return Design(tgt, "steps", designed, value if tol is None else n, p.w2_bound.kind, first.optimum,
                  first.baselines, base_schedule, tr, grid, base_grid, base_scale, how, report, degree, sampler, n)
