r"""The results of math.md §4–7 as lemma data (the engine is :mod:`gifsym.theory.engine`;
target classes come from :mod:`gifsym.symbolic.classes`).

Every formula is derived in the placeholders ``a, ȧ, b, ḃ`` of :mod:`gifsym.symbolic.flow` (so it holds for
every schedule) from the formulas of the lemmas it declares; bounds are then instantiated for the flow's
schedule by :func:`gifsym.theory.envelopes.make_piece`. Cited results (Brascamp–Lieb, Cramér–Rao, Grönwall,
Cauchy–Lipschitz) are *stated*: their formula is data, in generic symbols (a precision ``c``, a radius
``R``), and the lemmas that use them substitute the conditional law's quantities.

The chain (math.md §7): interpolation → conditional law → Tweedie → key Jacobian identity → (variance
inequality + class) bound pieces → envelopes ``jacobian-upper`` / ``jacobian-lower`` → θ_t
(``lipschitz``) → ``well-posed`` → flow-map constants → auto-encoding, cycle consistency, source
stability; ``velocity-stability`` needs only Grönwall.

Example:
    >>> [lem.name for lem in LEMMAS if lem.name.startswith("bound-")]
    ['bound-psd', 'bound-slc', 'bound-slcvx', 'bound-ball', 'bound-conv']
"""

from __future__ import annotations

from functools import lru_cache
from itertools import chain

import sympy

from gifsym.errors import LemmaError
from gifsym.symbolic.ball import enclosing_radius
from gifsym.symbolic.classes import CLASSES, PSD, TargetClass
from gifsym.symbolic.flow import DA, DB, LAM, A, B, component_coefficients, general_coefficients
from gifsym.symbolic.schedule import t
from gifsym.symbolic.target import class_parameters
from gifsym.theory import normal_forms
from gifsym.theory.empirical import EMPIRICAL_LEMMAS
from gifsym.theory.engine import Context, Deps, Lemma
from gifsym.theory.envelopes import envelope, make_piece
from gifsym.theory.flow_constants import flow_constant, well_posedness
from gifsym.theory.integrals import endpoint_value, sign
from gifsym.theory.certificate_lemmas import CERTIFICATE_LEMMAS
from gifsym.theory.sampler_error import SAMPLER_LEMMAS

# Symbols of the stated formulas and of the derivations (not the flow's own symbols).
Z, X1 = sympy.symbols("Z X_1", real=True)  # the noise and the data in X_t = a Z + b X_1
XS, YS = sympy.symbols("x y", real=True)  # a value of X_t, and of X_1 under the conditional law
MS, SS = sympy.symbols("m s", real=True)  # the posterior mean and the score, as scalars
LIP = sympy.Symbol("C", positive=True)  # the Lipschitz constant of an approximate field
W2 = sympy.Symbol("W", nonnegative=True)  # W_2(μ, μ̃)
M2 = sympy.Symbol("M_2", positive=True)  # E|X_1|² of a class target
_r = sympy.Symbol("r", real=True)
_eps = sympy.Function("epsilon")
_lmax, _lmin = sympy.Function(r"\lambda_{\max}"), sympy.Function(r"\lambda_{\min}")


@lru_cache(maxsize=1024)
def _tidy(e: sympy.Expr) -> sympy.Expr:
    # cancel gives one canonical rational form, so equal bounds from different classes compare equal.
    # Remembered like the normalisations of gifsym.theory.normal_forms: 516 calls on 28 formulas over the
    # inventory (the placeholder formulas are the same for every schedule).
    return sympy.cancel(sympy.together(e))


# ---------------------------------------------------------------------------------------------------------
# Derive functions: pure, (ctx, deps) -> formula; deps holds only the declared lemmas' formulas.


def _snr_monotone(ctx: Context, deps: Deps) -> dict:
    snr = B / A
    dsnr = normal_forms.factor(sympy.together(sympy.diff(snr, A) * DA + sympy.diff(snr, B) * DB))
    if sign(dsnr) not in (">", ">="):
        raise LemmaError("snr-monotone: could not prove d/dt (b/a) >= 0 from S-mono and S-pos")
    return {"snr": snr, "dsnr": dsnr, "wronskian": A * DB - DA * B}


def _conditional_law(ctx: Context, deps: Deps) -> dict:
    X = deps["interpolation"]["X_t"]
    mean = X.subs({Z: 0, X1: YS})  # given X_1 = y, X_t ~ N(b y, a² I)
    var = sympy.diff(X, Z) ** 2
    log_kernel = -((XS - mean) ** 2) / (2 * var)
    # The conditional potential is U(y) − log_kernel: its Hessian is ∇²U + (this shift) I.
    shift = _tidy(-sympy.diff(log_kernel, YS, 2))
    return {"log_kernel": log_kernel, "precision_shift": shift}


def _velocity_identity(ctx: Context, deps: Deps) -> dict:
    # The core derives E[ȧZ + ḃX_1 | X_t = x] from the interpolation once, in these placeholders.
    g = general_coefficients()
    return {"x": g.x, "m": g.m}


def _tweedie(ctx: Context, deps: Deps) -> dict:
    lk = deps["conditional-law"]["log_kernel"]
    # ∇_x log p_t = E[∇_x log kernel | x], linear in x and X_1: read off the coefficients of x and of m.
    g = sympy.expand(sympy.diff(lk, XS))
    # ∇_x m = Cov(X_1, ∇_x log kernel) = (∂_x ∂_y log kernel) C.
    return {"score_x": g.coeff(XS), "score_m": g.coeff(YS), "grad_m": _tidy(sympy.diff(lk, XS, YS))}


def _hessian_log_density(ctx: Context, deps: Deps) -> dict:
    tw = deps["tweedie"]
    return {"I": tw["score_x"], "C": _tidy(tw["score_m"] * tw["grad_m"])}


def _score_form(ctx: Context, deps: Deps) -> dict:
    vi, tw = deps["velocity-identity"], deps["tweedie"]
    m = sympy.solve(sympy.Eq(SS, tw["score_x"] * XS + tw["score_m"] * MS), MS)[0]
    v = sympy.expand(vi["x"] * XS + vi["m"] * m)
    return {"x": _tidy(v.coeff(XS)), "score": _tidy(v.coeff(SS))}


def _probability_flow(ctx: Context, deps: Deps) -> dict:
    sf = deps["score-form"]
    # dY = f Y dτ + g dW, τ = 1 − t, has probability-flow ODE dY/dτ = f Y − (g²/2) ∇ log p; reversing time
    # and matching dX/dt = (ḃ/b) x + (ḃa²/b − ȧa) ∇ log p gives f = −ḃ/b and g²/2 = ḃa²/b − ȧa.
    return {"f": -sf["x"], "g2_half": normal_forms.factor(sf["score"])}


def _jacobian_identity(ctx: Context, deps: Deps) -> dict:
    vi, tw = deps["velocity-identity"], deps["tweedie"]
    # ∇_x v = c_x I + c_m ∇_x m, and ∇_x m = (∂_x∂_y log kernel) C.
    return {"I": vi["x"], "C": normal_forms.factor(_tidy(vi["m"] * tw["grad_m"]))}


def _monotone_coefficient(ctx: Context, deps: Deps) -> dict:
    C = deps["jacobian-identity"]["C"]
    sm = deps["snr-monotone"]
    # The coefficient of C is r_t · dr_t/dt (r = b/a): a product of two non-negative factors.
    if normal_forms.cancel(C - sm["snr"] * sm["dsnr"]) != 0:
        raise LemmaError("monotone-coefficient: the coefficient of C is not r * dr/dt")
    return {"C": C, "as_snr": sympy.Symbol("r_t") * sympy.Symbol(r"\dot{r}_t")}


def _gaussian_convolution(smoothed: tuple[TargetClass, ...]):
    def derive(ctx: Context, deps: Deps) -> tuple[dict, ...]:
        return _effective_schedules(ctx, deps, smoothed)

    return derive


def _effective_schedules(ctx: Context, deps: Deps, smoothed: tuple[TargetClass, ...]) -> tuple[dict, ...]:
    X = deps["interpolation"]["X_t"]
    out = []
    for cls in smoothed:
        for m in ctx.memberships(cls.id):
            sigma = m[cls.smoothing]
            # X_1 = σW + Y: the Gaussian part a Z + b σ W of X_t is N(0, (a² + σ²b²) I), and the velocity of
            # the pair (ã, b) with ã² = a² + σ²b² and target ρ is the same field (E[Z | X_t] and E[W | X_t]
            # are both multiples of E[aZ + bσW | X_t]).
            a_eff = sympy.sqrt(sympy.diff(X, Z) ** 2 + sigma**2 * sympy.diff(X, X1) ** 2)
            da_eff = normal_forms.simplify(sympy.diff(a_eff, A) * DA + sympy.diff(a_eff, B) * DB)
            out.append({"class": cls.id, "a_eff": a_eff, "da_eff": da_eff, "params": m.params,
                        "implied_by": m.implied_by})
    return tuple(out)


def _bound_psd(ctx: Context, deps: Deps) -> tuple:
    ji, psd = deps["jacobian-identity"], deps["psd-covariance"]
    deps["monotone-coefficient"]  # the coefficient of C is >= 0, so C >= 0 gives a lower bound
    lower = _tidy(ji["I"] + ji["C"] * psd["cov_lower"])
    return (make_piece("lower", "bound-psd", lower, ctx.schedule),)


def _class_bound(cls: TargetClass):
    """The derivation of a class's bound lemma: each covariance bound the class gives, substituted into the
    key identity (for the schedule ``(ã, b)`` when the class is a Gaussian convolution), per membership."""

    def derive(ctx: Context, deps: Deps) -> tuple:
        ji = deps["jacobian-identity"]
        deps["monotone-coefficient"]  # the coefficient of C is >= 0: a bound on C bounds ∇v on the same side
        conditional = any(b.conditional for b in cls.bounds)
        if conditional:
            shift = deps["conditional-law"]["precision_shift"]  # the Gaussian kernel's precision b²/a²
            deps["snr-monotone"]  # the validity set {κ + r_t² > 0} is an up-set in t: r_t is non-decreasing
        if cls.smoothing is not None:
            effective = {e["params"]: e for e in deps["gaussian-convolution"] if e["class"] == cls.id}
        pieces = []
        for m in ctx.memberships(cls.id):
            eye, C = ji["I"], ji["C"]
            if cls.smoothing is not None:
                e = effective[m.params]
                sub = {A: e["a_eff"], DA: e["da_eff"]}
                eye, C = eye.subs(sub, simultaneous=True), C.subs(sub, simultaneous=True)
            values = {p.symbol: m[p.name] for p in cls.parameters}
            for bound in cls.bounds:
                ineq = bound.inequality
                cov, validity = deps[ineq.name][ineq.side], None
                if ineq.argument is not None:
                    arg = bound.value.subs(values)
                    if bound.conditional:  # Hessian of the conditional potential ≽ / ≼ (arg + b²/a²) I
                        arg = validity = _tidy(arg + shift)
                    cov = cov.subs(ineq.argument, arg)
                pieces.append(make_piece(bound.side, cls.lemma.name, _tidy(eye + C * cov), ctx.schedule,
                                         params=m.params, validity=validity, implied_by=m.implied_by))
        return tuple(pieces)

    return derive


def _class_lemmas(classes: tuple[TargetClass, ...]) -> tuple[Lemma, ...]:
    """The cited inequalities and the bound lemma of every target class, the lemma of the Gaussian
    convolution classes and the two combining lemmas."""
    cited = {}
    for ineq in [PSD, *(b.inequality for c in classes for b in c.bounds)]:
        cited.setdefault(ineq.name, Lemma(ineq.name, ineq.kind, ineq.title, ineq.statement,
                                          formula=((ineq.side, ineq.formula),), reference=ineq.reference))
    bounds = []
    for c in classes:
        conditional = any(b.conditional for b in c.bounds)
        uses = ("jacobian-identity", "monotone-coefficient",
                *(("conditional-law",) if conditional else ()),
                *(("gaussian-convolution",) if c.smoothing is not None else ()),
                *(b.inequality.name for b in c.bounds),
                *(("snr-monotone",) if conditional else ()))
        bounds.append(Lemma(c.lemma.name, "proposition", c.lemma.title, c.lemma.statement, assumptions=(c.id,),
                            uses=uses, derive=_class_bound(c), reference=c.lemma.reference))
    smoothed = tuple(c for c in classes if c.smoothing is not None)
    combined = (
        Lemma(
            "gaussian-convolution", "lemma", "Gaussian convolutions",
            r"If $\nu = N(0, \sigma^2 I) * \rho$, then $X_t = \tilde a_t Z' + b_t Y$ with "
            r"$\tilde a_t = \sqrt{a_t^2 + \sigma^2 b_t^2}$, $Y \sim \rho$, and the velocity field is that of the "
            r"interpolation $(\tilde a, b)$ towards $\rho$.",
            # It applies to the classes of Gaussian convolutions (and to any target with one of them implied).
            assumptions=tuple(c.id for c in smoothed), uses=("interpolation",), derive=_gaussian_convolution(smoothed),
            reference="math.md §5",
        ),
        Lemma(
            "jacobian-upper", "proposition", "The combined upper bound",
            r"$\nabla_x v \preceq u_t I$ with $u_t$ the pointwise minimum of the upper bounds that hold at $t$.",
            any_of=tuple(c.lemma.name for c in classes if "upper" in c.sides), derive=_envelope("upper"),
            reference="math.md §3, §5",
        ),
        Lemma(
            "jacobian-lower", "proposition", "The combined lower bound",
            r"$\nabla_x v \succeq \ell_t I$ with $\ell_t$ the pointwise maximum of the lower bounds that hold at $t$.",
            any_of=("bound-psd", *(c.lemma.name for c in classes if "lower" in c.sides)), derive=_envelope("lower"),
            reference="math.md §3, §5",
        ),
    )
    return (*cited.values(), *bounds, *combined)


def _envelope(side: str):
    def derive(ctx: Context, deps: Deps):
        pieces = tuple(p for p in chain.from_iterable(deps[n] for n in deps) if p.side == side)
        return envelope(side, pieces, ctx.schedule)

    return derive


def _lipschitz(ctx: Context, deps: Deps) -> dict:
    U, L = deps["jacobian-upper"], deps["jacobian-lower"]
    if U.expr is sympy.oo or L.expr is -sympy.oo:
        theta = sympy.oo
    else:
        # max(|u|, |ℓ|) = max(u, −ℓ) because u ≥ λ_max ≥ λ_min ≥ ℓ.
        theta = sympy.Max(U.expr, -L.expr, evaluate=False)
    return {"theta": theta, "interval": sympy.Intersection(U.interval, L.interval)}


def _gaussian_classes(ctx: Context, deps: Deps) -> dict:
    comp = ctx.target.law.components[0]
    # −∇² log p = Σ⁻¹: κ = 1/λ_max(Σ), β = 1/λ_min(Σ), exact or rounded outward (κ down, β up).
    kappa, beta = class_parameters(comp)
    out = {"T-slc": kappa, "T-slcvx": beta}
    if comp.sigma is not None:  # N(m, σ²I) = N(0, σ²I) * δ_m, and δ_m lives on the ball B(m, 0)
        out["T-conv"] = sympy.Tuple(comp.sigma, sympy.Integer(0))
    return out


def _gmm_classes(ctx: Context, deps: Deps) -> dict:
    law = ctx.target.law
    # −∇² log p = Σ_k r_k Σ_k⁻¹ − Cov_r(Σ_k⁻¹(x − m_k)) ≼ max_k λ_max(Σ_k⁻¹) I.
    betas = [class_parameters(c)[1] for c in law.components]  # exact, or rounded up
    out = {"T-slcvx": max(betas, key=lambda v: sympy.N(v, 40))}
    sigmas = {c.sigma for c in law.components}
    if law.isotropic and len(sigmas) == 1:
        # R about the centre of the means' smallest enclosing ball: ∇v does not change when ν is shifted.
        out["T-conv"] = sympy.Tuple(sigmas.pop(), enclosing_radius([c.mean for c in law.components]))
    return out


def _gaussian_sharpness(ctx: Context, deps: Deps) -> dict:
    U, L = deps["jacobian-upper"], deps["jacobian-lower"]
    comp = ctx.target.law.components[0]
    if comp.sigma is None:
        return {"sharp": False, "reason": "the bounds are equalities only for an isotropic N(m, sigma^2 I)"}
    exact = _tidy(component_coefficients()[0].subs(LAM, comp.sigma**2))  # ∇v = c_x(σ²) I, exactly
    single = [e.pieces[0].general for e in (U, L) if len(e.pieces) == 1 and e.interval == sympy.Interval(0, 1)]
    sharp = len(single) == 2 and all(sympy.cancel(g - exact) == 0 for g in single)
    return {"exact": ctx.instantiate(exact), "upper": U.expr, "lower": L.expr, "sharp": sharp}


def _well_posed(ctx: Context, deps: Deps):
    deps["lipschitz"]
    return well_posedness(deps["jacobian-upper"], deps["jacobian-lower"], ctx.schedule)


def _flow_map(direction: str, side: str):
    def derive(ctx: Context, deps: Deps):
        deps["gronwall"]
        return flow_constant(deps[f"jacobian-{side}"], ctx.schedule, direction)

    return derive


def _source_stability(ctx: Context, deps: Deps) -> dict:
    lip = deps["flow-map-lipschitz"].value
    b0 = endpoint_value(ctx.schedule.b, sympy.Integer(0), "+").value
    law = ctx.target.law
    m2 = law.exact_second_moment if law is not None else M2
    cost = b0 * sympy.sqrt(m2)  # W_2(a_0 Z + b_0 X_1, a_0 Z) <= (E|b_0 X_1|²)^{1/2} by the coupling (Z, Z)
    return {"lipschitz": lip, "bound": lip * W2, "b0": b0, "second_moment": m2, "gaussian_start_cost": cost,
            "pushed_gaussian_start": sympy.Integer(0) if cost == 0 else lip * cost}


def _velocity_stability(ctx: Context, deps: Deps) -> dict:
    deps["gronwall"]
    gronwall = sympy.Integral(sympy.exp(LIP * (1 - t)) * _eps(t), (t, 0, 1))
    # Cauchy–Schwarz: (∫ e^{C(1−t)} ε)² ≤ ∫_0^1 e^{2C(1−t)} dt · ∫ ε², and the first integral is:
    u = sympy.Symbol("u", real=True)
    factor = sympy.simplify(sympy.integrate(sympy.exp(2 * LIP * (1 - u)), (u, 0, 1)))
    cs = sympy.sqrt(factor * sympy.Integral(_eps(t) ** 2, (t, 0, 1)))
    return {"gronwall": gronwall, "cauchy_schwarz": cs, "factor": factor}


def _auto_encoding(ctx: Context, deps: Deps) -> dict:
    fwd, rev = deps["flow-map-lipschitz"], deps["reverse-flow-map-lipschitz"]
    return {"decoder": fwd.value, "encoder": rev.value}


def _cycle_consistency(ctx: Context, deps: Deps) -> dict:
    ae = deps["auto-encoding"]
    l2, l1 = sympy.symbols(r"L^{2}_{0\,1} L^{1}_{1\,0}", positive=True)
    return {"lipschitz": l2 * l1, "self": ae["decoder"] * ae["encoder"]}


# ---------------------------------------------------------------------------------------------------------
# The lemmas

_SCHED = ("S-end", "S-pos")  # what the key identity needs: a > 0 on [0, 1), b > 0 on (0, 1]
_MONO = ("S-mono", "S-pos")


def build_lemmas(classes: tuple[TargetClass, ...] = CLASSES) -> tuple[Lemma, ...]:
    """The library for a collection of target classes (:data:`LEMMAS` is the one for gifsym's classes)."""
    return (
        Lemma(
            "interpolation", "definition", "Gaussian interpolation",
            r"The interpolation is $X_t = a_t Z + b_t X_1$ with $Z \sim \gamma_d$ independent of $X_1 \sim \nu$, "
            r"$t \in [0, 1]$; $p_t = \mathrm{Law}(X_t)$, $\mu = p_0$.",
            assumptions=("S-end",),
            formula=(("X_t", A * Z + B * X1),),
            reference="math.md §1",
        ),
        Lemma(
            "snr-monotone", "lemma", "The signal-to-noise ratio is non-decreasing",
            r"$\frac{d}{dt}\frac{b_t}{a_t} = \frac{a_t \dot b_t - \dot a_t b_t}{a_t^2} \ge 0$ on $(0,1)$, so "
            r"$r_t = b_t/a_t$ increases from $b_0/a_0$ to $+\infty$.",
            assumptions=_MONO, derive=_snr_monotone, reference="math.md §2",
        ),
        Lemma(
            "conditional-law", "lemma", "The conditional law of the data",
            r"Given $X_t = x$, $X_1$ has density proportional to "
            r"$\exp\big(-U(y) - |x - b_t y|^2/(2a_t^2)\big)$ where $\nu \propto e^{-U}$; its potential has Hessian "
            r"$\nabla^2 U + (b_t^2/a_t^2) I$.",
            assumptions=_SCHED, uses=("interpolation",), derive=_conditional_law, reference="math.md §4",
        ),
        Lemma(
            "velocity-identity", "lemma", "The velocity field (denoiser form)",
            r"$v(t,x) = \mathbb{E}[\dot a_t Z + \dot b_t X_1 \mid X_t = x] = \frac{\dot a_t}{a_t} x + "
            r"\big(\dot b_t - \frac{\dot a_t b_t}{a_t}\big) m(t,x)$, $m(t,x) = \mathbb{E}[X_1 \mid X_t = x]$.",
            assumptions=_SCHED, uses=("interpolation",), derive=_velocity_identity, reference="math.md §1, §4",
        ),
        Lemma(
            "continuity-equation", "lemma", "The continuity equation",
            r"The marginals solve $\partial_t p_t + \nabla \cdot (p_t v) = 0$.",
            assumptions=("S-smooth",), uses=("velocity-identity",), reference="math.md §1",
        ),
        Lemma(
            "tweedie", "lemma", "Tweedie's formulas",
            r"$\nabla \log p_t(x) = \frac{b_t m(t,x) - x}{a_t^2}$ and $\nabla_x m(t,x) = \frac{b_t}{a_t^2} C(t,x)$, "
            r"$C(t,x) = \mathrm{Cov}(X_1 \mid X_t = x)$.",
            assumptions=_SCHED, uses=("conditional-law",), derive=_tweedie, reference="math.md §4",
        ),
        Lemma(
            "hessian-log-density", "lemma", "Hessian of the log-marginal",
            r"$\nabla^2 \log p_t = -\frac{1}{a_t^2} I + \frac{b_t^2}{a_t^4} C(t,x)$.",
            uses=("tweedie",), derive=_hessian_log_density, reference="math.md §4",
        ),
        Lemma(
            "score-form", "lemma", "The velocity field (score form)",
            r"For $t \in (0,1]$: $v(t,x) = \frac{\dot b_t}{b_t} x + \big(\frac{\dot b_t a_t^2}{b_t} - \dot a_t a_t\big)"
            r"\nabla \log p_t(x)$.",
            uses=("velocity-identity", "tweedie"), derive=_score_form, reference="math.md §4",
        ),
        Lemma(
            "probability-flow", "proposition", "The probability-flow link",
            r"With $\tau = 1 - t$ the flow is the probability-flow ODE of $dY = f Y\,d\tau + g\,dW$ with "
            r"$f(1-t) = -\dot b_t/b_t$ and $g^2(1-t)/2 = a_t^2(\dot b_t/b_t - \dot a_t/a_t)$.",
            uses=("score-form",), derive=_probability_flow, reference="math.md §4",
        ),
        Lemma(
            "jacobian-identity", "lemma", "The key identity",
            r"$\nabla_x v(t,x) = \frac{\dot a_t}{a_t} I + \frac{b_t(a_t \dot b_t - \dot a_t b_t)}{a_t^3} C(t,x)$; "
            r"it is symmetric.",
            uses=("velocity-identity", "tweedie"), derive=_jacobian_identity, reference="math.md §4",
        ),
        Lemma(
            "monotone-coefficient", "lemma", "The coefficient of the covariance is non-negative",
            r"$\frac{b_t(a_t \dot b_t - \dot a_t b_t)}{a_t^3} = r_t \dot r_t \ge 0$, so bounds on $C$ in the "
            r"Loewner order give bounds on $\nabla_x v$ in the same direction.",
            assumptions=_MONO, uses=("jacobian-identity", "snr-monotone"), derive=_monotone_coefficient,
            reference="math.md §4",
        ),
        Lemma(
            "gaussian-classes", "lemma", "Classes of a Gaussian",
            r"$N(m, \Sigma)$ is $\kappa$-semi-log-concave with $\kappa = 1/\lambda_{\max}(\Sigma)$ and "
            r"$\beta$-semi-log-convex with $\beta = 1/\lambda_{\min}(\Sigma)$; $N(m, \sigma^2 I) = "
            r"N(0, \sigma^2 I) * \delta_m$ is in T-conv with $R = 0$ ($\delta_m$ lives on the ball $B(m, 0)$).",
            assumptions=("T-gauss",), derive=_gaussian_classes, reference="math.md §3",
            implies=("T-slc", "T-slcvx", "T-conv"),
        ),
        Lemma(
            "gmm-classes", "lemma", "Classes of a Gaussian mixture",
            r"$\sum_k w_k N(m_k, \Sigma_k)$ is $\beta$-semi-log-convex with $\beta = \max_k 1/\lambda_{\min}(\Sigma_k)$; "
            r"with a common $\Sigma_k = \sigma^2 I$ it is in T-conv with $R$ the radius of the smallest ball enclosing the "
            r"means (about its centre: a shift of $\nu$ does not change $\nabla_x v$).",
            assumptions=("T-gmm",), derive=_gmm_classes, reference="math.md §3",
            implies=("T-slcvx", "T-conv"),
        ),
        Lemma(
            "bound-psd", "lemma", "The general lower bound",
            r"$\nabla_x v(t,x) \succeq \frac{\dot a_t}{a_t} I$ for every target (it is not integrable at $t = 1$).",
            uses=("jacobian-identity", "monotone-coefficient", "psd-covariance"), derive=_bound_psd,
            reference="math.md §5",
        ),
        Lemma(
            "gaussian-sharpness", "proposition", "The bounds are sharp for Gaussians",
            r"For $\nu = N(m, \sigma^2 I)$ the combined bounds coincide with the exact Jacobian "
            r"$\nabla_x v = \frac{a_t \dot a_t + \sigma^2 b_t \dot b_t}{a_t^2 + \sigma^2 b_t^2} I$.",
            assumptions=("T-gauss",), uses=("jacobian-upper", "jacobian-lower"), derive=_gaussian_sharpness,
            reference="math.md §5",
        ),
        Lemma(
            "lipschitz", "proposition", "Lipschitz constant of the velocity",
            r"$\theta_t = \sup_x \|\nabla_x v(t,x)\|_{\mathrm{op}} \le \max(|u_t|, |\ell_t|)$.",
            uses=("jacobian-upper", "jacobian-lower"), derive=_lipschitz, reference="math.md §5",
        ),
        Lemma(
            "cauchy-lipschitz", "theorem", "Cauchy--Lipschitz",
            r"An ODE $\dot x = v(t, x)$ with $\int_0^T \mathrm{Lip}(v(t,\cdot))\,dt < \infty$ and $v$ of linear growth "
            r"has a unique solution from every start on $[0, T]$, and its flow maps are bi-Lipschitz homeomorphisms.",
            reference="e.g. Hartman, Ordinary Differential Equations, ch. V",
        ),
        Lemma(
            "gronwall", "lemma", "Grönwall bounds on flow maps",
            r"If $\nabla_x v$ is symmetric with $\lambda_{\min}(t) I \preceq \nabla_x v(t,\cdot) \preceq \lambda_{\max}(t) I$, "
            r"then $\mathrm{Lip}(X_{s,t}) \le \exp\int_s^t \lambda_{\max}$ and "
            r"$\mathrm{Lip}(X_{t,s}) \le \exp(-\int_s^t \lambda_{\min})$.",
            formula=(("forward", sympy.exp(sympy.Integral(_lmax(_r), (_r, 0, 1)))),
                     ("reverse", sympy.exp(-sympy.Integral(_lmin(_r), (_r, 0, 1))))),
            reference="math.md §6",
        ),
        Lemma(
            "well-posed", "theorem", "Well-posedness",
            r"If $\int_0^1 \theta_t\,dt < \infty$ the flow has a unique solution from every start, its marginals are "
            r"$p_t$, and its flow maps are bi-Lipschitz homeomorphisms; if the integral diverges only at $t = 1$, "
            r"this holds on $[0, T]$ for every $T < 1$.",
            assumptions=("S-smooth",),
            uses=("lipschitz", "jacobian-upper", "jacobian-lower", "cauchy-lipschitz", "continuity-equation"),
            derive=_well_posed, reference="math.md §6",
        ),
        Lemma(
            "flow-map-lipschitz", "theorem", "Lipschitz constant of the flow map",
            r"$\mathrm{Lip}(X_{0,1}) \le \exp\int_0^1 u_t\,dt$.",
            uses=("jacobian-upper", "gronwall", "well-posed"), derive=_flow_map("forward", "upper"),
            reference="math.md §6",
        ),
        Lemma(
            "reverse-flow-map-lipschitz", "theorem", "Lipschitz constant of the reverse flow map",
            r"$\mathrm{Lip}(X_{1,0}) \le \exp\big(-\int_0^1 \ell_t\,dt\big)$.",
            uses=("jacobian-lower", "gronwall", "well-posed"), derive=_flow_map("reverse", "lower"),
            reference="math.md §6",
        ),
        Lemma(
            "source-stability", "proposition", "Stability in the source",
            r"$W_2((X_{0,1})_\# \mu, (X_{0,1})_\# \tilde\mu) \le \mathrm{Lip}(X_{0,1})\, W_2(\mu, \tilde\mu)$; for "
            r"$b_0 > 0$, $W_2(\mu, N(0, a_0^2 I)) \le b_0 (\mathbb{E}|X_1|^2)^{1/2}$, the cost of starting from the "
            r"Gaussian.",
            uses=("flow-map-lipschitz",), derive=_source_stability, reference="math.md §6",
        ),
        Lemma(
            "velocity-stability", "theorem", "Stability in the velocity field",
            r"If $\tilde v$ is $C$-Lipschitz in $x$ and $Y$ its flow from the same start, then "
            r"$W_2((Y_{0,1})_\#\mu, \nu) \le \int_0^1 e^{C(1-t)} \|v(t,\cdot) - \tilde v(t,\cdot)\|_{L^2(p_t)}\,dt$ and "
            r"$W_2^2 \le \frac{e^{2C} - 1}{2C} \int_0^1 \|v - \tilde v\|^2_{L^2(p_t)}\,dt$.",
            uses=("gronwall",), derive=_velocity_stability, reference="math.md §6",
        ),
        Lemma(
            "auto-encoding", "theorem", "Auto-encoding",
            r"The encoder $X_{1,0}$ and decoder $X_{0,1}$ satisfy $X_{0,1} \circ X_{1,0} = \mathrm{id}$ on the "
            r"target's support and $X_{1,0} \circ X_{0,1} = \mathrm{id}$ on the source's, each Lipschitz with the "
            r"flow-map constants.",
            uses=("flow-map-lipschitz", "reverse-flow-map-lipschitz"), derive=_auto_encoding, reference="math.md §6",
        ),
        Lemma(
            "cycle-consistency", "theorem", "Cycle consistency",
            r"For targets $\nu^1, \nu^2$ with flows from the same source, $T = X^2_{0,1} \circ X^1_{1,0}$ pushes "
            r"$\nu^1$ to $\nu^2$, $X^1_{0,1} \circ X^2_{1,0}$ undoes it, and "
            r"$\mathrm{Lip}(T) \le \mathrm{Lip}(X^2_{0,1})\,\mathrm{Lip}(X^1_{1,0})$.",
            uses=("auto-encoding",), derive=_cycle_consistency, reference="math.md §6",
        ),
        *_class_lemmas(classes),
        *EMPIRICAL_LEMMAS,
        *SAMPLER_LEMMAS,
        *CERTIFICATE_LEMMAS,
    )


#: gifsym's library.
LEMMAS: tuple[Lemma, ...] = build_lemmas()

__all__ = ["LEMMAS", "build_lemmas"]
