r"""Lemmas about a one-step sampler's error on a time grid (math.md §9), for sampler plans.

* ``sampler-error`` (numerical propagation, Lady Windermere's fan (a)): with ``Φ_k`` the sampler's step from
  ``t_k`` to ``t_{k+1}``, ``Ψ_k`` the exact flow map and ``Y_0 = X_{t_0}``,
  ``Y_N − X_{t_N} = Σ_k (Φ_{N−1}∘…∘Φ_{k+1})(Φ_k X_{t_k}) − (Φ_{N−1}∘…∘Φ_{k+1})(Ψ_k X_{t_k})`` (a telescoping
  sum), so ``‖Y_N − X_{t_N}‖_{L²} ≤ Σ_k (Π_{j>k} Lip Φ_j) δ_k`` with ``δ_k = ‖Ψ_k X_{t_k} − Φ_k X_{t_k}‖_{L²}``,
  the local error at *exact* points, carried by the *numerical* maps (math.md's trap: carrying them by the
  exact flow is not valid). ``derive`` checks the telescoping identity for linear maps, N = 3.
* ``sampler-gaussian`` (T-gauss): along an eigendirection of variance λ the exact flow is
  ``y_t = b_t μ + √(s_t/s_τ)(y_τ − b_τ μ)`` with ``s = a² + λb²``; ``derive`` checks the two identities this
  needs, ``c_x = ṡ/(2s)`` and ``ḃ = c_x b + c_m``, in the placeholders (for every schedule at once).
* ``early-stopping``: ``W₂(p_{t_1}, ν) ≤ ‖a Z + b X_1 − X_1‖_{L²} = √(a² d + (1 − b)² E|X_1|²)`` (the
  interpolation coupling) for every target, and for ``N(m, Σ)`` exactly
  ``√(Σ_i (√(a² + b²λ_i) − √λ_i)² + (1 − b)²|m|²)`` (Bures: the covariances commute).

Example:
    >>> from gifsym import GIF, lemmas, schedule, target
    >>> lemmas.derive("sampler-gaussian", GIF(schedule("vp"), target("gaussian:sigma=0.1")))["flow_rate"]
    0
"""

from __future__ import annotations

import sympy

from gifsym.errors import LemmaError
from gifsym.symbolic.flow import DA, DB, LAM, A, B, component_coefficients
from gifsym.theory.engine import Context, Deps, Lemma

_k, _j, _n = sympy.symbols("k j N", integer=True, nonnegative=True)
_L, _delta = sympy.IndexedBase("L"), sympy.IndexedBase(r"\delta")
_D = sympy.Symbol("d", positive=True, integer=True)
_M2 = sympy.Symbol("M_2", nonnegative=True)


def _sampler_error(ctx: Context, deps: Deps) -> dict:
    # Linear maps: Φ_k = f_k, Ψ_k = r_k (scalars). Telescoping: Π f − Π r = Σ_k (Π_{j>k} f_j)(f_k − r_k)(Π_{j<k} r_j).
    f, r = sympy.symbols("f0:3"), sympy.symbols("r0:3")
    lhs = f[0] * f[1] * f[2] - r[0] * r[1] * r[2]
    rhs = sum(sympy.Mul(*f[k + 1:]) * (f[k] - r[k]) * sympy.Mul(*r[:k]) for k in range(3))
    if sympy.expand(lhs - rhs) != 0:
        raise LemmaError("sampler-error: the telescoping identity failed")
    bound = sympy.Sum(sympy.Product(_L[_j], (_j, _k + 1, _n - 1)) * _delta[_k], (_k, 0, _n - 1))
    return {"bound": bound, "telescoping_checked": 3}


def _sampler_routes(ctx: Context, deps: Deps) -> dict:
    # Route (b) telescopes the other way: Π f − Π r = Σ_k (Π_{j>k} r_j)(f_k − r_k)(Π_{j<k} f_j), i.e. the
    # local error at the numerical point Y_k = (Π_{j<k} f_j) Y_0 carried by the exact maps r_j of later steps.
    f, r = sympy.symbols("f0:3"), sympy.symbols("r0:3")
    lhs = f[0] * f[1] * f[2] - r[0] * r[1] * r[2]
    rhs = sum(sympy.Mul(*r[k + 1:]) * (f[k] - r[k]) * sympy.Mul(*f[:k]) for k in range(3))
    if sympy.expand(lhs - rhs) != 0:
        raise LemmaError("sampler-routes: the exact-propagation telescoping identity failed")
    # Coupling: with Y_0 = b_0 μ + √s_0 ξ, Y_N = F Y_0 + G μ and X_N = b_N μ + √s_N ξ, the error's second moment
    # is (F√s_0 − √s_N)² + (F b_0 + G − b_N)² μ² (E ξ = 0, E ξ² = 1): the cross term vanishes.
    F, G, b0, bN, s0, sN, mu, xi = sympy.symbols("F G b_0 b_N s_0 s_N mu xi")
    err = sympy.expand((F * (b0 * mu + sympy.sqrt(s0) * xi) + G * mu - (bN * mu + sympy.sqrt(sN) * xi)) ** 2)
    moment = err.coeff(xi, 2) + err.coeff(xi, 0)  # E ξ = 0, E ξ² = 1
    closed = (F * sympy.sqrt(s0) - sympy.sqrt(sN)) ** 2 + (F * b0 + G - bN) ** 2 * mu**2
    if sympy.expand(moment - closed) != 0:
        raise LemmaError("sampler-routes: the coupling's second moment is not the stated closed form")
    return {"coupling_second_moment": closed, "telescoping_checked": 3}


def _sampler_gaussian(ctx: Context, deps: Deps) -> dict:
    cx, cm, s, _ = component_coefficients()
    ds = 2 * A * DA + 2 * LAM * B * DB  # d/dt (a² + λ b²) in the placeholders
    rate = sympy.simplify(cx - ds / (2 * s))
    mean = sympy.simplify(DB - (cx * B + cm))
    if rate != 0 or mean != 0:
        raise LemmaError("sampler-gaussian: the exact flow of a Gaussian direction is not the stated one")
    return {"flow_rate": rate, "mean_path": mean, "variance": s}


def _early_stopping(ctx: Context, deps: Deps) -> dict:
    # E|a Z + (b − 1) X_1|² with Z ~ N(0, I_d) independent of X_1: the cross term has mean 0.
    a, b = A, B
    general = sympy.sqrt(a**2 * _D + (1 - b) ** 2 * _M2)
    m2 = sympy.Symbol("msq", nonnegative=True)  # |m|², named so that JSON reads back with sympify
    gauss = sympy.sqrt((sympy.sqrt(a**2 + b**2 * LAM) - sympy.sqrt(LAM)) ** 2 + (1 - b) ** 2 * m2)
    # At the data end (a = 0, b = 1) both vanish.
    if sympy.simplify(general.subs({a: 0, b: 1})) != 0 or sympy.simplify(gauss.subs({a: 0, b: 1})) != 0:
        raise LemmaError("early-stopping: the bound does not vanish at t = 1")
    return {"coupling": general, "gaussian_direction": gauss}


SAMPLER_LEMMAS: tuple[Lemma, ...] = (
    Lemma(
        "sampler-error", "theorem", "Sampler error by numerical propagation",
        r"Let $\Phi_k$ be a one-step sampler's step from $t_k$ to $t_{k+1}$ on a grid $t_0 < \dots < t_N$, "
        r"$Y_0 = X_{t_0}$ and $Y_{k+1} = \Phi_k(Y_k)$. With the local errors at exact points "
        r"$\delta_k = \|X_{t_{k+1}} - \Phi_k(X_{t_k})\|_{L^2}$, "
        r"$W_2(\mathrm{Law}(Y_N), p_{t_N}) \le \|Y_N - X_{t_N}\|_{L^2} \le "
        r"\sum_{k} \big(\prod_{j>k} \mathrm{Lip}\,\Phi_j\big)\,\delta_k$. "
        r"If $\nabla_x v$ is symmetric with spectrum in $[\ell_t, u_t]$, Euler's step has "
        r"$\mathrm{Lip}\,\Phi_k \le \max_{\lambda \in [\ell_{t_k}, u_{t_k}]} |1 + h_k\lambda|$.",
        uses=("velocity-identity",), derive=_sampler_error, reference="math.md §9 (a); Hairer, Nørsett & Wanner, "
        "Solving ODEs I, §II.3",
    ),
    Lemma(
        "sampler-gaussian", "proposition", "Samplers on a Gaussian target",
        r"For $\nu = N(m, \Sigma)$, along an eigendirection of $\Sigma$ with eigenvalue $\lambda$ the flow is "
        r"$y_t = b_t\mu + \sqrt{s_t/s_\tau}\,(y_\tau - b_\tau\mu)$, $s = a^2 + \lambda b^2$, and a step of an "
        r"explicit Runge--Kutta sampler is affine, $y \mapsto f y + \hat g \mu$; so $\delta_k$ and "
        r"$\mathrm{Lip}\,\Phi_k = \max_i |f_{ik}|$ in the sampler-error bound are closed forms.",
        assumptions=("T-gauss",), uses=("sampler-error", "velocity-identity"), derive=_sampler_gaussian,
        reference="math.md §4 and §9",
    ),
    Lemma(
        "sampler-routes", "theorem", "Sampler error: the coupling and exact-propagation routes",
        r"With $Y_0 = X_{t_0}$: (i) $W_2(\mathrm{Law}(Y_N), p_{t_N}) \le \|Y_N - X_{t_N}\|_{L^2}$, which for an "
        r"affine sampler on $\nu = N(m, \Sigma)$ is the closed form "
        r"$\big(\sum_i (F_i\sqrt{s_{0,i}} - \sqrt{s_{N,i}})^2 + \sum_i (F_i b_0 + G_i - b_N)^2 \mu_i^2\big)^{1/2}$, "
        r"$F_i = \prod_k f_{ik}$, $G_i$ the accumulated $\hat g_{ik}$; (ii) with the local errors at the "
        r"numerical points $\varepsilon_k = \|\Psi_k(Y_k) - \Phi_k(Y_k)\|_{L^2}$, "
        r"$\|Y_N - X_{t_N}\|_{L^2} \le \sum_k \mathrm{Lip}(\Psi_{N-1} \circ \dots \circ \Psi_{k+1})\,"
        r"\varepsilon_k$. Each of (i), (ii) and sampler-error bounds $W_2$ on its own.",
        uses=("sampler-error", "sampler-gaussian"), derive=_sampler_routes,
        reference="math.md §9 (b) and the Gaussian closed form",
    ),
    Lemma(
        "early-stopping", "lemma", "Early stopping",
        r"For every target with $\mathbb{E}|X_1|^2 = M_2$ in dimension $d$, "
        r"$W_2(p_{t}, \nu) \le \sqrt{a_t^2 d + (1 - b_t)^2 M_2}$; for $\nu = N(m, \Sigma)$, "
        r"$W_2(p_t, \nu)^2 = \sum_i (\sqrt{a_t^2 + b_t^2\lambda_i} - \sqrt{\lambda_i})^2 + (1 - b_t)^2 |m|^2$.",
        uses=("interpolation",), derive=_early_stopping, reference="math.md §1; Bures (Gelbrich) for Gaussians",
    ),
)
