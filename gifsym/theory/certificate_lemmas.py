r"""Lemmas behind the certificates of a learned velocity model (docs/mathematics.md, "Certificates").

* ``velocity-stability-exact-field``: with ``Y`` the model's flow, ``X`` the exact flow from the same start and
  ``u_t`` the exact field's one-sided constant (lemma ``jacobian-upper``),
  ``d|Y − X|/dt ≤ u_t |Y − X| + |ṽ − v|(t, Y_t)``, so
  ``W₂ ≤ ∫_0^1 e^{∫_t^1 u} ‖(ṽ − v)(t, Y_t)‖_{L²} dt`` — the error measured along the model's own samples.
  ``derive`` checks, in SymPy, that the interval step ``φ(h) = e^{uh}φ₀ + ē(e^{uh} − 1)/u`` solves
  ``φ' = uφ + ē`` (the comparison function on one grid interval).
* ``stability-comparison``: where several routes give ``‖D_{k+1}‖ ≤ L^r_k ‖D_k‖ + e^r_k`` (``L ≥ 0``) for the
  same coupling, ``‖D_N‖ ≤ φ_N`` with ``φ_{k+1} = min_r (L^r_k φ_k + e^r_k)``, ``φ₀ = 0``: the routes may be
  combined step by step. ``derive`` checks that each map is nondecreasing in φ (what the induction needs).
* ``end-to-end``: a model sampled by an explicit Runge–Kutta method on a grid:
  ``W₂(Law Ŷ_N, ν) ≤ Σ_k (Π_{j>k} Lip Φ_j) ‖(Φ̃_k − Φ_k)(Ŷ_k)‖_{L²} + W₂(Law X̂_N, ν)``; ``derive`` checks the
  telescoping of the error recursion for linear maps, N = 3.

Example:
    >>> from gifsym import lemmas
    >>> lemmas.derive("stability-comparison")["monotone"]
    True
"""

from __future__ import annotations

import sympy

from gifsym.errors import LemmaError
from gifsym.theory.engine import Context, Deps, Lemma

_t, _s, _h, _u, _e, _phi0 = sympy.symbols("t s h u ebar phi_0", real=True)
_U, _E = sympy.Function("u"), sympy.Function("e_Y")


def _exact_field(ctx: Context, deps: Deps) -> dict:
    step = sympy.exp(_u * _h) * _phi0 + _e * (sympy.exp(_u * _h) - 1) / _u
    if sympy.simplify(sympy.diff(step, _h) - (_u * step + _e)) != 0 or sympy.simplify(step.subs(_h, 0) - _phi0) != 0:
        raise LemmaError("velocity-stability-exact-field: the interval step does not solve phi' = u phi + e")
    bound = sympy.Integral(sympy.exp(sympy.Integral(_U(_s), (_s, _t, 1))) * _E(_t), (_t, 0, 1))
    return {"bound": bound, "interval_step": step}


def _comparison(ctx: Context, deps: Deps) -> dict:
    L = sympy.Symbol("L", nonnegative=True)
    phi, e = sympy.symbols("phi e", nonnegative=True)
    monotone = bool(sympy.diff(L * phi + e, phi).is_nonnegative)
    if not monotone:
        raise LemmaError("stability-comparison: a route's step map is not nondecreasing")
    return {"monotone": monotone, "step": sympy.Min(L * phi + e, sympy.Symbol("L'") * phi + sympy.Symbol("e'"))}


def _end_to_end(ctx: Context, deps: Deps) -> dict:
    # D_{k+1} = f_k D_k + e_k, D_0 = 0 (linear maps): D_3 = Σ_k (Π_{j>k} f_j) e_k.
    f, e = sympy.symbols("f0:3"), sympy.symbols("e0:3")
    d = sympy.Integer(0)
    for k in range(3):
        d = f[k] * d + e[k]
    closed = sum(sympy.Mul(*f[k + 1:]) * e[k] for k in range(3))
    if sympy.expand(d - closed) != 0:
        raise LemmaError("end-to-end: the error recursion does not telescope")
    return {"model_term": closed, "telescoping_checked": 3}


CERTIFICATE_LEMMAS: tuple[Lemma, ...] = (
    Lemma(
        "velocity-stability-exact-field", "theorem", "Stability in the velocity field, exact-field route",
        r"Let $Y$ be the flow of $\tilde v$ and $X$ the exact flow, $Y_0 = X_0 \sim \mu$, and $u_t$ with "
        r"$\langle x - y, v(t, x) - v(t, y)\rangle \le u_t |x - y|^2$. Then "
        r"$W_2((Y_{0,1})_\#\mu, \nu) \le \|Y_1 - X_1\|_{L^2} \le \int_0^1 e^{\int_t^1 u_s\,ds}\, "
        r"\|(\tilde v - v)(t, Y_t)\|_{L^2}\,dt$.",
        uses=("gronwall",), derive=_exact_field, reference="docs/mathematics.md, Certificates",
    ),
    Lemma(
        "stability-comparison", "lemma", "Combining stability routes step by step",
        r"If for the same coupling $\|D_{k+1}\| \le L^r_k \|D_k\| + e^r_k$ with $L^r_k \ge 0$ for every route $r$, "
        r"then $\|D_N\| \le \varphi_N$, $\varphi_0 = 0$, $\varphi_{k+1} = \min_r (L^r_k \varphi_k + e^r_k)$.",
        derive=_comparison, reference="docs/mathematics.md, Certificates",
    ),
    Lemma(
        "end-to-end", "theorem", "End-to-end certificate of a sampled model",
        r"Let $\tilde\Phi_k$, $\Phi_k$ be a sampler's step with the model and with the exact field, "
        r"$\hat Y_{k+1} = \tilde\Phi_k(\hat Y_k)$, $\hat X_{k+1} = \Phi_k(\hat X_k)$, $\hat Y_0 = \hat X_0 \sim \mu$. "
        r"Then $W_2(\mathrm{Law}(\hat Y_N), \nu) \le \sum_k \big(\prod_{j>k} \mathrm{Lip}\,\Phi_j\big) "
        r"\|(\tilde\Phi_k - \Phi_k)(\hat Y_k)\|_{L^2} + W_2(\mathrm{Law}(\hat X_N), \nu)$, and with $\Psi_k$ the exact "
        r"flow over step $k$ and $\langle x - y, v(t, x) - v(t, y)\rangle \le u_t|x - y|^2$, also "
        r"$W_2(\mathrm{Law}(\hat Y_N), \nu) \le \sum_k e^{\int_{t_{k+1}}^1 u}\, "
        r"\|\tilde\Phi_k(\hat Y_k) - \Psi_k(\hat Y_k)\|_{L^2}$.",
        uses=("sampler-error", "stability-comparison", "flow-map-lipschitz"), derive=_end_to_end,
        reference="docs/mathematics.md, End-to-end certificate",
    ),
)
