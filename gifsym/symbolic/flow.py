r"""The exact symbolic objects of a flow ``Flow(schedule, target)`` (math.md §1 and §4).

:class:`Flow` is the symbolic layer's view of a GIF; :class:`gifsym.GIF` is the facade on top of every
layer and is a :class:`Flow`.

Every formula is derived once in terms of placeholder symbols ``a, ȧ, b, ḃ`` (so the algebra is the
same for every schedule) and then instantiated by substituting the schedule's expressions:

* velocity, denoiser form: ``E[ȧZ + ḃX₁ | X_t = x]`` with ``Z = (x − b X₁)/a`` gives
  ``v = (ȧ/a) x + (ḃ − ȧ b/a) m(t, x)``;
* a Gaussian component of variance λ along an eigendirection, by Gaussian conditioning
  (``Cov(X₁, X_t) = λb``, ``Var X_t = a² + λb²``): posterior mean ``μ + λb (y − bμ)/(a² + λb²)`` and
  posterior variance ``λa²/(a² + λb²)``; collecting the velocity in ``y`` and ``μ`` gives the
  coefficients ``(aȧ + λbḃ)/(a² + λb²)`` and ``a(aḃ − ȧb)/(a² + λb²)``, finite at t = 1 whenever λ > 0;
* Tweedie ``∇ log p_t = (b m − x)/a²`` and ``∇m = (b/a²) C`` give the key identity
  ``∇v = (ȧ/a) I + [b(aḃ − ȧb)/a³] C``.

Example:
    >>> from gifsym import schedule, target
    >>> flow = Flow(schedule("follmer"), target("gaussian:sigma=1"))
    >>> flow.velocity()
    Matrix([[0]])
    >>> Flow(schedule("linear"), target("slc:kappa=2")).jacobian()
    (-t/(t**3 - 3*t**2 + 3*t - 1))*C + 1/(t - 1)*I
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import sympy

from gifsym.errors import GifsymError
from gifsym.symbolic.expr import as_expr
from gifsym.symbolic.schedule import Schedule, t
from gifsym.symbolic.target import Target

# Placeholders for a_t, ȧ_t, b_t, ḃ_t and a component variance λ: formulas are derived in these and then
# instantiated, so no per-schedule formula is ever written down.
A, DA, B, DB = sympy.symbols("a_t \\dot{a}_t b_t \\dot{b}_t", real=True)
LAM = sympy.Symbol("lambda", positive=True)
#: How a caller's string names the placeholders.
PLACEHOLDER_NAMES = {"a": A, "da": DA, "b": B, "db": DB, "t": t}


def state_symbols(dim: int) -> tuple[sympy.Symbol, ...]:
    """The coordinates ``x_1, …, x_d`` of the state."""
    return sympy.symbols(f"x_1:{dim + 1}", real=True)


@dataclass(frozen=True)
class Coefficients:
    r"""Time coefficients of the general (denoiser-form) identities, in placeholders ``a, ȧ, b, ḃ``.

    Attributes:
        x: coefficient of x in v, ``ȧ/a``.
        m: coefficient of the posterior mean m in v, ``ḃ − ȧb/a``.
        C: coefficient of the posterior covariance C in ∇v, ``b(aḃ − ȧb)/a³``.
        score_m, score_x: Tweedie, ``∇ log p = score_m m + score_x x``.
    """

    x: sympy.Expr
    m: sympy.Expr
    C: sympy.Expr
    score_m: sympy.Expr
    score_x: sympy.Expr


@lru_cache(maxsize=1)
def general_coefficients() -> Coefficients:
    """Derive the denoiser-form, Tweedie and key-identity coefficients once, in placeholders."""
    x, x1, z = sympy.symbols("x x_1 z")
    # X_t = a Z + b X_1 solved for Z, substituted into ȧZ + ḃX_1, and read off in x and X_1 (then m).
    zsol = sympy.solve(sympy.Eq(x, A * z + B * x1), z)[0]
    vel = sympy.expand(DA * zsol + DB * x1)
    cx, cm = vel.coeff(x), vel.coeff(x1)
    # Tweedie: the Gaussian kernel exp(-|x - b y|²/(2a²)) gives ∇_x log p_t = E[-(x - b X_1)/a² | x].
    kernel = -((x - B * x1) ** 2) / (2 * A**2)
    score = sympy.expand(sympy.diff(kernel, x))
    s_m, s_x = score.coeff(x1), score.coeff(x)
    # ∇m = (b/a²) C (differentiate the posterior under the integral): ∇v = cx I + cm (b/a²) C.
    cC = sympy.factor(sympy.together(cm * B / A**2))
    return Coefficients(x=cx, m=sympy.together(cm), C=cC, score_m=s_m, score_x=s_x)


@lru_cache(maxsize=1)
def component_coefficients() -> tuple[sympy.Expr, sympy.Expr, sympy.Expr, sympy.Expr]:
    r"""For a Gaussian component of variance λ (along an eigendirection), in placeholders:
    ``(c_x, c_m, s, post_var)`` with ``v = c_x y + c_m μ``, ``s = Var X_t = a² + λ b²`` and the posterior
    variance ``post_var``. Numerators are expanded so that ``a·ȧ`` cancels when a schedule is substituted.
    """
    y, mu = sympy.symbols("y mu", real=True)
    g = general_coefficients()
    s = A**2 + LAM * B**2
    post_mean = mu + (LAM * B) / s * (y - B * mu)  # Gaussian conditioning
    post_var = sympy.factor(LAM - (LAM * B) ** 2 / s)
    v = sympy.together(g.x * y + g.m * post_mean)
    num, den = sympy.fraction(v)
    num = sympy.expand(num)
    # v = (num)/(den) is linear in y and μ; divide out the common factor a that the denoiser form introduces.
    cx = sympy.cancel(num.coeff(y) / den)
    cm = sympy.cancel(num.coeff(mu) / den)
    cx = sympy.expand(sympy.fraction(cx)[0]) / sympy.fraction(cx)[1]
    cm = sympy.expand(sympy.fraction(cm)[0]) / sympy.fraction(cm)[1]
    return cx, cm, s, post_var


def tidy(expr: sympy.Expr) -> sympy.Expr:
    """A cheap normal form: ``cancel`` for rational functions of t, otherwise as instantiated.

    Full ``simplify`` costs seconds on VP-type exponentials and changes the form from one SymPy version
    to the next; the instantiated expanded numerators already make ``a·ȧ`` cancel.
    """
    if expr.is_rational_function(t):
        return sympy.cancel(expr)
    return expr


def instantiate(expr: sympy.Expr, schedule: Schedule) -> sympy.Expr:
    """Substitute the schedule's a, ȧ, b, ḃ for the placeholders (a string names them a, da, b, db)."""
    # xreplace, not subs: the placeholders are plain symbols, and subs' pattern matching costs ~10x more.
    return as_expr(expr, names=PLACEHOLDER_NAMES, what="expr").xreplace({A: schedule.a, DA: schedule.da, B: schedule.b, DB: schedule.db})


@dataclass(frozen=True)
class Flow:
    """A Gaussian interpolation flow ``X_t = a_t Z + b_t X_1``: its exact symbolic objects.

    Args:
        schedule: a :class:`~gifsym.symbolic.schedule.Schedule`.
        target: a :class:`~gifsym.symbolic.target.Target` (exact law or class).
    """

    schedule: Schedule
    target: Target

    def __post_init__(self) -> None:
        if not isinstance(self.schedule, Schedule):
            raise GifsymError(f"a flow needs a Schedule (gifsym.schedule(...)), got {self.schedule!r}")
        if not isinstance(self.target, Target):
            raise GifsymError(f"a flow needs a Target (gifsym.target(...)), got {self.target!r}")

    # -- general forms ----------------------------------------------------------------------------------

    @cached_property
    def coefficients(self) -> Coefficients:
        """The general coefficients instantiated for this schedule (see :class:`Coefficients`)."""
        g = general_coefficients()
        return Coefficients(*(tidy(instantiate(e, self.schedule)) for e in
                              (g.x, g.m, g.C, g.score_m, g.score_x)))

    @cached_property
    def _abstract(self) -> tuple[sympy.Basic, sympy.Basic, sympy.Basic, sympy.Basic]:
        d = sympy.Symbol("d", integer=True, positive=True)
        return (sympy.MatrixSymbol("x", d, 1), sympy.MatrixSymbol("m", d, 1), sympy.MatrixSymbol("C", d, d),
                sympy.Identity(d))

    @property
    def dim(self) -> int | None:
        return self.target.dim

    @cached_property
    def x(self) -> tuple[sympy.Symbol, ...]:
        """State coordinates ``x_1..x_d`` (exact targets)."""
        if self.dim is None:
            raise AttributeError("a class target has no fixed dimension; its objects use the matrix symbol x")
        return state_symbols(self.dim)

    # -- exact objects ----------------------------------------------------------------------------------

    @cached_property
    def _components(self) -> list[dict[str, sympy.Basic]]:
        """Per component k: responsibility weight numerator, posterior mean, velocity, posterior covariance."""
        law = self.target.law
        cx_p, cm_p, s_p, pv_p = component_coefficients()
        cx_l, cm_l, s_l, pv_l = (instantiate(e, self.schedule) for e in (cx_p, cm_p, s_p, pv_p))
        X = sympy.Matrix(self.x)
        out = []
        for comp in law.components:
            mu = sympy.Matrix(comp.mean)
            if comp.sigma is not None:
                lam = comp.sigma**2
                sub = {LAM: lam}
                cx, cm, s, pv = (tidy(e.subs(sub)) for e in (cx_l, cm_l, s_l, pv_l))
                S_inv = sympy.eye(self.dim) / s
                logdet = self.dim * sympy.log(s)
                v = cx * X + cm * mu
                post_cov = pv * sympy.eye(self.dim)
                mean = mu + lam * self.schedule.b / s * (X - self.schedule.b * mu)
            else:
                # The scalar coefficients are rational in λ with denominator s(λ) = a² + λb², so the same
                # derivation holds for a full Σ as the matrix function P(Σ) S⁻¹ (P the numerator in λ).
                Sig = sympy.Matrix(comp.covariance)
                Id = sympy.eye(self.dim)
                S = s_l.subs(LAM, 0) * Id + sympy.diff(s_l, LAM) * Sig
                S_inv = S.inv().applyfunc(tidy)
                logdet = sympy.log(S.det())

                def matfun(e: sympy.Expr, Sig: sympy.Matrix = Sig, S_inv: sympy.Matrix = S_inv) -> sympy.Matrix:
                    # Numerator polynomial in λ, taken in placeholders and then instantiated.
                    num = sympy.Poly(sympy.cancel(e * s_p), LAM)
                    P = sum((instantiate(c, self.schedule) * Sig**k for (k,), c in num.terms()),
                            sympy.zeros(self.dim))
                    return (P * S_inv).applyfunc(tidy)

                v = matfun(cx_p) * X + matfun(cm_p) * mu
                post_cov = matfun(pv_p)
                mean = mu + self.schedule.b * Sig * S_inv * (X - self.schedule.b * mu)
            r = X - self.schedule.b * mu
            logw = sympy.log(comp.weight) - logdet / 2 - (r.T * S_inv * r)[0, 0] / 2
            out.append({"logw": logw, "mean": mean, "v": v, "cov": post_cov, "S_inv": S_inv, "r": r})
        return out

    @cached_property
    def _responsibilities(self) -> list[sympy.Expr]:
        logs = [c["logw"] for c in self._components]
        if len(logs) == 1:
            return [sympy.Integer(1)]
        ws = [sympy.exp(lw) for lw in logs]
        total = sum(ws)
        return [w / total for w in ws]

    def _require_exact(self, what: str) -> None:
        if not self.target.is_exact:
            raise AttributeError(f"{what} is exact only for Gaussian and GMM targets")

    def posterior_mean(self) -> sympy.Matrix | sympy.Basic:
        """``m(t, x) = E[X₁ | X_t = x]``: exact (d×1 Matrix) for Gaussian/GMM, the symbol ``m`` otherwise."""
        if not self.target.is_exact:
            return self._abstract[1]
        return sympy.Matrix(sum((r * c["mean"] for r, c in zip(self._responsibilities, self._components)),
                                sympy.zeros(self.dim, 1)))

    def posterior_cov(self) -> sympy.Matrix | sympy.Basic:
        """``C(t, x) = Cov(X₁ | X_t = x)`` (law of total covariance for a mixture), or the symbol ``C``."""
        if not self.target.is_exact:
            return self._abstract[2]
        rs, cs = self._responsibilities, self._components
        if len(cs) == 1:
            return sympy.Matrix(cs[0]["cov"])
        m = self.posterior_mean()
        second = sum((r * (c["cov"] + c["mean"] * c["mean"].T) for r, c in zip(rs, cs)), sympy.zeros(self.dim))
        return sympy.Matrix(second - m * m.T)

    def velocity(self) -> sympy.Matrix | sympy.Basic:
        r"""The velocity field ``v(t, x)``.

        Exact for Gaussian and GMM targets (a d×1 Matrix in ``x_1..x_d``); for a class of targets the
        denoiser form ``(ȧ/a) x + (ḃ − ȧb/a) m`` in the matrix symbols ``x`` and ``m``.
        """
        if not self.target.is_exact:
            X, M, _, _ = self._abstract
            c = self.coefficients
            return c.x * X + c.m * M
        return sympy.Matrix(sum((r * c["v"] for r, c in zip(self._responsibilities, self._components)),
                                sympy.zeros(self.dim, 1)))

    def score(self) -> sympy.Matrix | sympy.Basic:
        """``∇ log p_t(x)``: exact for Gaussian/GMM; Tweedie ``(b m − x)/a²`` otherwise."""
        if not self.target.is_exact:
            X, M, _, _ = self._abstract
            c = self.coefficients
            return c.score_m * M + c.score_x * X
        return sympy.Matrix(sum((-r * c["S_inv"] * c["r"] for r, c in zip(self._responsibilities, self._components)),
                                sympy.zeros(self.dim, 1)))

    def jacobian(self) -> sympy.Matrix | sympy.Basic:
        """``∇_x v(t, x)``: exact (by differentiating :meth:`velocity`) for Gaussian/GMM; the key identity
        ``(ȧ/a) I + [b(aḃ − ȧb)/a³] C`` in the matrix symbol ``C`` otherwise."""
        if not self.target.is_exact:
            _, _, C, Id = self._abstract
            c = self.coefficients
            return c.x * Id + c.C * C
        return self.velocity().jacobian(self.x)
