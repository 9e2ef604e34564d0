r"""Lemmas about data targets (``empirical:FILE``): the classes derived from the data, and what the exact
velocity of an empirical law does at t = 1 (memorisation).

**Memorisation** (σ = 0). With ``u = 1 − t`` and a schedule with ``a_t ~ c u^p`` as t → 1 (p and c are
derived: ``p = lim −u ȧ/a``, ``c = lim a/u^p``; p = 1 for the linear, trigonometric and sub-VP schedules,
p = 1/2 for Föllmer, VP and VE), the denoiser form ``v = ḃ m + (ȧ/a)(x − b m)`` and the key identity
``∇v = (ȧ/a) I + [b(aḃ − ȧb)/a³] C`` give, for the softmax posterior over the data:

* ``ȧ/a ~ −p/u``: for x with a unique nearest data point ``y*`` (in ``|x − b y|``), ``m(t, x) → y*`` and
  ``C(t, x) → 0`` exponentially fast (weights ``∝ exp(−|x − b y_i|²/(2a²))``), so
  ``v(t, x) ~ −(p/u)(x − y*)``: the field blows up like ``1/(1 − t)`` everywhere off the data and is finite
  along trajectories (``x − b y* = O(a)``), where ``∇v → −(p/u) I``: every cell of the (b-scaled) Voronoi
  partition is contracted onto its data point. The flow map X_{0,1} sends almost every start to a
  training point: the exact flow of an empirical law memorises.
* the coefficient of C grows like ``(p/c²) u^{−(2p+1)}``: on the bisector of two nearest points ``y_i, y_j``
  the posterior puts mass 1/2 on each, ``C = ¼ (y_i − y_j)(y_i − y_j)ᵀ``, and the largest eigenvalue of
  ∇v is ``~ (p/c²)|y_i − y_j|²/(4u^{2p+1}) → +∞``: the Lipschitz constant θ_t is not integrable at 1, and
  T-ball's bound (which has the same order) is the right one.

For σ > 0 (the smoothed law, a mixture with variance σ² > 0) the coefficients ``c_x(σ²)``, ``c_m(σ²)`` and
``c_m b/s`` have finite limits at t = 1 for every catalogue schedule: the field is finite on [0, 1].

Example:
    >>> import numpy as np
    >>> from gifsym import GIF, lemmas, schedule, target
    >>> flow = GIF(schedule("linear"), target("empirical", data=np.array([[0.0], [1.0]])))
    >>> f = lemmas.derive("memorisation", flow)
    >>> f["p"], f["c"], f["x_rate"], f["cov_rate"], f["cov_order"]
    (1, 1, -1, 1, 3)
"""

from __future__ import annotations

import sympy

from gifsym.errors import LemmaError
from gifsym.symbolic.flow import LAM, component_coefficients
from gifsym.symbolic.schedule import t
from gifsym.theory.engine import Context, Deps, Lemma
from gifsym.theory.integrals import endpoint_value

_U = 1 - t
_ONE = sympy.Integer(1)


def _limit(expr: sympy.Expr) -> tuple[sympy.Expr, bool]:
    ev = endpoint_value(expr, _ONE, "-")
    return ev.value, ev.exact


def _empirical_classes(ctx: Context, deps: Deps) -> dict:
    law = ctx.target.law
    ball = law.ball
    out = {"N": sympy.Integer(law.N), "sigma": law.sigma, "R": law.radius,
           "R_lower": sympy.Float(ball.lower, 17), "centre": sympy.Matrix([sympy.Float(c, 17) for c in ball.centre])}
    if law.smoothed:
        out["beta"] = 1 / law.sigma**2
    return out


def _memorisation(ctx: Context, deps: Deps) -> dict:
    law = ctx.target.law
    ji = deps["jacobian-identity"]
    I_coef, C_coef = ctx.instantiate(ji["I"]), ctx.instantiate(ji["C"])
    if law.smoothed:
        cx, cm, s, _ = (ctx.instantiate(e).subs(LAM, law.sigma**2) for e in component_coefficients())
        vals = {k: _limit(e) for k, e in (("x_at_1", cx), ("m_at_1", cm), ("cov_at_1", cm * ctx.schedule.b / s))}
        finite = all(v.is_finite is True for v, _ in vals.values())
        return {"smoothed": True, "finite_at_1": finite, **{k: v for k, (v, _) in vals.items()},
                "exact": all(ex for _, ex in vals.values())}
    a, da = ctx.schedule.a, ctx.schedule.da
    p, ex_p = _limit(sympy.together(-_U * da / a))
    if not (p.is_number and p.is_positive and p.is_finite):
        raise LemmaError(f"memorisation: a_t does not vanish like a power of 1 - t (lim -(1-t) a'/a = {p})")
    p = sympy.nsimplify(p) if not ex_p else p
    c, ex_c = _limit(a / _U**p)
    x_rate, ex_x = _limit(I_coef * _U)
    order = 2 * p + 1
    cov_rate, ex_cov = _limit(C_coef * _U**order)
    # The leading terms follow from a ~ c u^p; check the limits against them (a wrong p would show here).
    if not (sympy.simplify(x_rate + p) == 0 or abs(float(x_rate + p)) < 1e-8):
        raise LemmaError(f"memorisation: lim (1-t) a'/a = {x_rate}, expected -p = {-p}")
    if not (sympy.simplify(cov_rate - p / c**2) == 0 or abs(float(cov_rate - p / c**2)) < 1e-8 * abs(float(cov_rate))):
        raise LemmaError(f"memorisation: the coefficient of C has rate {cov_rate}, expected p/c^2 = {p / c**2}")
    D, X = sympy.symbols("D |x-y^*|", nonnegative=True)
    return {"smoothed": False, "finite_at_1": False, "p": p, "c": c, "x_rate": x_rate, "cov_order": order,
            "cov_rate": cov_rate, "velocity_off_data": x_rate * X / _U,
            "jacobian_on_data": x_rate / _U, "jacobian_on_bisector": cov_rate * D**2 / (4 * _U**order),
            "exact": ex_p and ex_c and ex_x and ex_cov}


EMPIRICAL_LEMMAS: tuple[Lemma, ...] = (
    Lemma(
        "empirical-classes", "lemma", "Classes of data",
        r"The empirical law $\nu_N = \frac1N\sum_i \delta_{y_i}$ is supported in the smallest ball $B(c, R)$ "
        r"enclosing the data (T-ball); its smoothing $\nu_N * N(0, \sigma^2 I) = \frac1N \sum_i N(y_i, \sigma^2 I)$ "
        r"is in T-conv with $(\sigma, R)$ and is $\sigma^{-2}$-semi-log-convex. Every bound of a ball holds "
        r"about any centre ($\mathrm{Var}(u\cdot Y) \le \mathbb{E}(u \cdot (Y - c))^2 \le R^2$), and a shift of "
        r"the data does not change $\nabla_x v$.",
        assumptions=("T-emp",), derive=_empirical_classes, reference="math.md §3; Yildirim (2008) for the ball",
        implies=("T-ball", "T-slcvx", "T-conv"),
    ),
    Lemma(
        "memorisation", "proposition", "The memorising field at t = 1",
        r"For the empirical law ($\sigma = 0$) with $a_t \sim c(1-t)^p$: $\dot a_t/a_t \sim -p/(1-t)$, so off the "
        r"data $v(t,x) \sim -\frac{p}{1-t}(x - y^*)$ ($y^*$ the nearest data point) and along trajectories "
        r"$\nabla_x v \to -\frac{p}{1-t} I$ (each Voronoi cell contracts onto its point); the coefficient of $C$ "
        r"grows like $\frac{p}{c^2}(1-t)^{-(2p+1)}$, so on a bisector $\lambda_{\max}(\nabla_x v) \sim "
        r"\frac{p\,|y_i - y_j|^2}{4c^2(1-t)^{2p+1}}$. For $\sigma > 0$ the field is finite at $t = 1$.",
        assumptions=("T-emp", "S-end", "S-pos"), uses=("jacobian-identity", "velocity-identity"),
        derive=_memorisation, reference="Karras et al. (2022), eq. 57; math.md §4",
    ),
)

__all__ = ["EMPIRICAL_LEMMAS"]
