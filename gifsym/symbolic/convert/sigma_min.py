r"""σ_min paths: a schedule with ``a_1 = σ_min > 0`` is the GIF of the smoothed target ``ν * N(0, σ_min² I)``.

Conditional OT with σ_min (``a_t = 1 − (1 − σ_min) t``, ``b_t = t``), torchcfm's ``ConditionalFlowMatcher(σ)``
(``a_t = √((1 − t)² + σ²)``) and EDM's ``x = y + σ(t) n`` all end at ``a_1 = σ_min > 0`` with ``b_1 = 1``, which
S-end refuses. They are GIFs all the same, of another target: with ``W`` a standard Gaussian independent of
``(Z, X_1)``,

    a_t Z + b_t X_1  =  ã_t Z' + b_t (X_1 + σ_min W)   in law,   ã_t = √(a_t² − σ_min² b_t²),

because ``a_t Z`` and ``ã_t Z' + σ_min b_t W`` are both ``N(0, a_t² I)``. So the path has the marginals of the
GIF with schedule ``(ã, b)`` and target ``ν_σ = ν * N(0, σ_min² I)``, for every t where ``a_t ≥ σ_min b_t``
(the *reparametrisation*: ``ã_1 = 0`` and ``b_1 = 1``, so S-end holds for it). The velocities agree as well:
in score form (math.md §4) ``v = (ḃ/b) x + (ḃ a²/b − ȧ a) ∇ log p_t`` depends on the schedule only through
``ḃ a²/b − a ȧ``, and ``ḃ ã²/b − ã ã' = ḃ a²/b − a ȧ`` since ``ã ã' = a ȧ − σ_min² b ḃ``; SymPy proves this
once in placeholders (:func:`velocity_identity`). No time change is needed (``t ↦ t``) when the
reparametrisation exists on all of [0, 1].

Every result gifsym derives for ``GIF((ã, b), ν_σ)`` (bounds, flow-map constants, stability) is therefore a
result for the original path, and :func:`equivalent_flow` is what the theory layer calls on an S-end
violation of this kind.

Example:
    >>> from gifsym import schedule, target
    >>> path = sigma_min_path(schedule("condot:sigma_min=0.01"))
    >>> path.sigma_min, path.schedule.a
    (1/100, sqrt(2)*sqrt((1 - t)*(50 - 49*t))/10)
    >>> smoothed_target(target("gaussian:sigma=0.5"), path.sigma_min).law.components[0].sigma
    sqrt(2501)/100
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import sympy

from gifsym.errors import ConvertError
from gifsym.symbolic.convert import arguments
from gifsym.symbolic.expr import as_expr
from gifsym.symbolic.schedule import Schedule, t
from gifsym.symbolic.target import Target, gaussian, gmm, target

_A, _DA, _B, _DB, _SIG = sympy.symbols("a_t \\dot{a}_t b_t \\dot{b}_t sigma_min", positive=True)


@lru_cache(maxsize=1)
def velocity_identity() -> tuple[sympy.Expr, sympy.Expr, bool]:
    """``(ḃ a²/b − a ȧ, ḃ ã²/b − ã ã', equal)`` in placeholders, with ``ã = √(a² − σ_min² b²)`` and
    ``ã' = d ã/dt`` by the chain rule; ``equal`` is SymPy's verdict that the two score-form coefficients
    are identical."""
    a_f, b_f = sympy.Function("a")(t), sympy.Function("b")(t)
    tilde = sympy.sqrt(a_f**2 - _SIG**2 * b_f**2)
    d_tilde = sympy.diff(tilde, t)
    place = {sympy.Derivative(a_f, t): _DA, sympy.Derivative(b_f, t): _DB}
    orig = (_DB * _A**2 / _B - _A * _DA)
    new = (sympy.diff(b_f, t) * tilde**2 / b_f - tilde * d_tilde).subs(place).subs({a_f: _A, b_f: _B})
    return orig, new, sympy.simplify(orig - new) == 0


@dataclass(frozen=True)
class SigmaMinPath:
    r"""The reading of a σ_min path as a GIF of a smoothed target.

    Attributes:
        original: the schedule with ``a_1 = σ_min > 0``.
        sigma_min: ``a_1``.
        schedule: the reparametrised schedule ``(√(a² − σ_min² b²), b)``.
        interval: where the reparametrisation exists (``a_t ≥ σ_min b_t``).
        time_change: the time map from the reparametrised flow to the original (``t``: none).
        existence: the prover's verdict on ``a_t² − σ_min² b_t² ≥ 0`` on [0, 1].
        identity: the verdict on the velocity identity (SymPy, in placeholders).
    """

    original: Schedule
    sigma_min: sympy.Expr
    schedule: Schedule
    interval: sympy.Interval
    time_change: sympy.Expr
    existence: Any
    identity: Any

    def describe(self) -> str:
        """One paragraph saying what the path is equivalent to, for reports and the CLI."""
        return (f"a_1 = sigma_min = {self.sigma_min} > 0: the path {self.original.spec} has the marginals and the "
                f"velocity of the GIF with a~_t = sqrt(a_t^2 - sigma_min^2 b_t^2) = {self.schedule.a}, b_t = "
                f"{self.schedule.b} and the smoothed target nu * N(0, sigma_min^2 I), on {self.interval} "
                f"(time change t -> {self.time_change}); results below are for that GIF")


def _sqrt_of(expr: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    """``(√expr, radicand)`` with square factors taken out of the root where they are proved ≥ 0 on [0, 1]
    and factors written with a positive value at t = 0 (``(t − 1)(49t − 50)`` becomes ``(1 − t)(50 − 49t)``)."""
    from gifsym.symbolic import prove

    try:
        coeff, factors = sympy.factor_list(expr)
    except sympy.PolynomialError:
        return sympy.sqrt(expr), expr
    outside, inside = sympy.Integer(1), sympy.Integer(1)
    for f, k in factors:
        at0 = f.subs(t, 0)
        if at0.is_number and at0.is_negative:
            f, coeff = -f, coeff * (-1) ** k
        if k % 2 == 0 and prove.prove_relation(f, t, ">=").status == "holds":
            outside *= f ** (k // 2)
        else:
            outside *= f ** (k // 2) if prove.prove_relation(f, t, ">=").status == "holds" else 1
            inside *= f ** (k % 2 if prove.prove_relation(f, t, ">=").status == "holds" else k)
    radicand = coeff * inside
    return sympy.sqrt(coeff) * outside * sympy.sqrt(inside), radicand


def _factorable(e: sympy.Expr) -> bool:
    """Worth handing to ``sympy.factor``: not a polynomial in t, or one of degree ≤ 4 with rational
    coefficients."""
    e = sympy.expand(e)
    if not e.is_polynomial(t):
        return True
    poly = sympy.Poly(e, t)
    return poly.degree() <= 4 and all(c.is_Rational for c in poly.coeffs())


def _tilde_forms(a: sympy.Expr, b: sympy.Expr, sigma: sympy.Expr) -> list[tuple[sympy.Expr, sympy.Expr]]:
    """Candidate closed forms of ``ã = √(a² − σ² b²)`` with their radicands, simplest first: the factored
    difference (after ``trigsimp`` for trigonometric schedules), and ``√((a − σb)(a + σb))``."""
    square = sympy.expand(a**2 - sigma**2 * b**2)
    # sin² = 1 − cos²: cos(πt/2)² + σ² − σ² sin(πt/2)² becomes (1 + σ²) cos(πt/2)², whose root is exact.
    square = sympy.expand(square.replace(
        lambda e: e.is_Pow and e.exp == 2 and e.base.func == sympy.sin,
        lambda e: 1 - sympy.cos(e.base.args[0]) ** 2))
    # Factoring is cheap for low degrees and hopeless for EDM's (c + d t)^14 with coefficients in 80^(1/7).
    forms = [_sqrt_of(sympy.factor(square))] if _factorable(square) else []

    def tidy(e: sympy.Expr) -> sympy.Expr:
        if not e.is_rational_function(t) or not _factorable(e):
            return e
        f = sympy.factor(sympy.expand(e))
        return f if sympy.count_ops(f) <= sympy.count_ops(e) else e

    product = tidy(a - sigma * b) * tidy(a + sigma * b)
    forms.append((sympy.sqrt(product), product))
    raw = a**2 - sigma**2 * b**2
    forms.append((sympy.sqrt(raw), raw))
    return sorted(forms, key=lambda f: sympy.count_ops(f[1]))


def _b1_is_one(s: Schedule):
    from gifsym.symbolic import prove

    return prove.prove_value(s.b, t, 1, "==", 1, side="-")


def sigma_min_path(s: Schedule) -> SigmaMinPath | None:
    """The σ_min reading of ``s`` when ``a_1 > 0`` is proved, else ``None`` (``a_1 = 0``, or undecided).

    Also kept on disk (:mod:`gifsym.store`, as a one-tuple so that ``None`` is stored too): deriving it
    (factoring ``a² − σ² b²``, proving the radicand ≥ 0) takes SymPy seconds for EDM's schedule, which every
    ``bounds`` run of a σ_min path would otherwise redo. An error is not stored (it is derived again).

    Raises:
        ConvertError: ``a_1 > 0`` but ``b_1 = 1`` fails or the reparametrisation does not exist on [0, 1]
            (the message gives the interval where it does).
    """
    arguments.schedule(s, where="sigma_min_path(schedule)")  # before the cache, which needs a hashable argument
    return _sigma_min_path(s)


@lru_cache(maxsize=128)
def _sigma_min_path(s: Schedule) -> SigmaMinPath | None:
    """:func:`sigma_min_path`, remembered in the process and kept in the on-disk store."""
    from gifsym import store
    from gifsym.symbolic.prove import Verdict

    (path,) = store.cached("sigma-min-path", {"schedule": s},
                           {"SigmaMinPath": SigmaMinPath, "Schedule": Schedule, "Verdict": Verdict},
                           lambda: (_derive_sigma_min_path(s),))
    return path


def _derive_sigma_min_path(s: Schedule) -> SigmaMinPath | None:
    """:func:`sigma_min_path`, derived."""
    from gifsym.symbolic import prove
    from gifsym.symbolic.prove import Verdict

    positive = prove.prove_value(s.a, t, 1, ">", 0, side="-")
    if positive.status != "holds":
        return None
    b1 = _b1_is_one(s)
    if b1.status != "holds":
        raise ConvertError(f"{s.spec}: a_1 > 0 but b_1 = 1 is not established ({b1.reason}); a sigma_min path "
                           "must end at a_1 Z + X_1 (if your time runs from data to noise, use t -> 1 - t: gifsym "
                           "puts the noise at t = 0)")
    sigma = sympy.limit(s.a, t, 1, "-")
    orig, new, equal = velocity_identity()
    identity = Verdict("holds" if equal else "unknown",
                       f"score-form coefficient {orig} = {new} (SymPy simplify, placeholders)" if equal else
                       "SymPy could not simplify the score-form coefficients to the same expression")
    exists = None
    for a_tilde, radicand in _tilde_forms(s.a, s.b, sigma):
        exists = prove.prove_relation(radicand, t, ">=")
        if exists.status == "holds":
            break
    if exists.status != "holds":
        raise ConvertError(
            f"{s.spec}: a_1 = {sigma} > 0 but a_t >= sigma_min b_t is not proved on [0, 1] ({exists.reason}); "
            "the path is the GIF of the smoothed target only where it holds")
    tilde = Schedule("custom", a_tilde, s.b, s.params, source=(str(a_tilde), str(s.b)))
    return SigmaMinPath(s, sigma, tilde, sympy.Interval(0, 1), t, exists, identity)


def smoothed_target(nu: Target, sigma: sympy.Expr) -> Target:
    r"""``ν * N(0, σ² I)``: exact for Gaussian and mixture laws (each covariance + σ² I), and by class:

    * κ-semi-log-concave → ``κ/(1 + κσ²)`` (Brascamp–Lieb on the law of Y given Y + σW = x, whose potential
      has Hessian ≽ κ + 1/σ²; needs ``1 + κσ² > 0``);
    * β-semi-log-convex → ``β/(1 + βσ²)`` (Cramér–Rao, the same argument);
    * support in a ball of radius R → the Gaussian convolution ``(σ, R)``;
    * Gaussian convolution ``(σ₀, R)`` → ``(√(σ₀² + σ²), R)``.

    Raises:
        ConvertError: a class parameter is symbolic (its smoothed value has no spec).
    """
    arguments.target(nu, where="smoothed_target(target, ...)")
    if not isinstance(sigma, (str, sympy.Expr)):  # a plain number: finite, real, >= 0
        if arguments.real(sigma, where="smoothed_target(..., sigma)") < 0:
            raise ConvertError(f"smoothed_target(..., sigma={sigma!r}): sigma must be >= 0")
    sigma = as_expr(sigma, what="sigma")
    s2 = sigma**2
    law = nu.law
    if law is not None:
        comps = law.components
        if len(comps) == 1 and not nu.memberships("T-gmm"):
            c = comps[0]
            if c.sigma is not None:
                return gaussian(mean=list(c.mean), sigma=sympy.sqrt(c.sigma**2 + s2))
            return gaussian(mean=list(c.mean), cov=(c.covariance + s2 * sympy.eye(c.dim)).tolist())
        weights = [c.weight for c in comps]
        means = [list(c.mean) for c in comps]
        if law.isotropic:
            return gmm(weights=weights, means=means, sigmas=[sympy.sqrt(c.sigma**2 + s2) for c in comps],
                       spec=f"({nu.spec}) * N(0, {s2} I)")
        return gmm(weights=weights, means=means, spec=f"({nu.spec}) * N(0, {s2} I)",
                   covariances=[(c.covariance + s2 * sympy.eye(c.dim)).tolist() for c in comps])
    parts = []
    for m in nu.declared:
        values = dict(m.params)
        if any(getattr(v, "free_symbols", None) for v in values.values()):
            raise ConvertError(f"cannot smooth the class {m.id} with symbolic parameters {values}; give numbers")
        if m.id == "T-slc":
            k = values["kappa"]
            if (1 + k * s2).is_positive:
                parts.append(f"slc:kappa={sympy.nsimplify(k / (1 + k * s2))}")
        elif m.id == "T-slcvx":
            b = values["beta"]
            parts.append(f"slcvx:beta={sympy.nsimplify(b / (1 + b * s2))}")
        elif m.id == "T-ball":
            parts.append(f"conv:sigma={sigma},R={values['R']}")
        elif m.id == "T-conv":
            parts.append(f"conv:sigma={sympy.sqrt(values['sigma'] ** 2 + s2)},R={values['R']}")
        else:
            raise ConvertError(f"no smoothing rule for the class {m.id}")
    # Two memberships may map to the same class (ball and conv both become conv): keep the first of each.
    seen, kept = set(), []
    for p in parts:
        name = p.partition(":")[0]
        if name not in seen:
            seen.add(name)
            kept.append(p)
    if not kept:
        raise ConvertError(f"no class of {nu.spec} survives smoothing by N(0, {s2} I)")
    return target("+".join(kept))


def equivalent_flow(flow: Any) -> tuple[Any, SigmaMinPath | None]:
    """``(flow', path)``: for a σ_min path, the same kind of flow with the reparametrised schedule and the
    smoothed target; otherwise ``(flow, None)``. Only schedules whose S-end verdict is ``violated`` are
    examined."""
    if not (hasattr(flow, "schedule") and hasattr(flow, "target")):
        raise ConvertError(f"equivalent_flow() takes a flow (gifsym.GIF(schedule, target)), not "
                           f"{type(flow).__name__}")
    arguments.schedule(flow.schedule, where="equivalent_flow(flow).schedule")
    arguments.target(flow.target, where="equivalent_flow(flow).target")
    s = flow.schedule
    if s.verdict("S-end").status != "violated":  # only S-end: the other checks may be costly
        return flow, None
    path = sigma_min_path(s)
    if path is None:
        return flow, None
    new = replace(flow, schedule=path.schedule, target=smoothed_target(flow.target, path.sigma_min))
    return new, path
