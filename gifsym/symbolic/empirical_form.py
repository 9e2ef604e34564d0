r"""The exact objects of a data target for any N, in indexed symbols (symbolic at scale).

For the (smoothed) empirical law of ``y_1..y_N`` in ``R^d`` (:mod:`gifsym.symbolic.empirical`) the exact
velocity, score, posterior mean and covariance and the Jacobian are finite formulas in the data, whatever
N: with ``s = a² + σ² b²``, ``ℓ_i = −Σ_j (x_j − b y_{ij})²/(2s)``, ``r_i = e^{ℓ_i}/Σ_l e^{ℓ_l}`` and
``ȳ_k = Σ_i r_i y_{ik}``,

* ``v_k = c_x x_k + c_m ȳ_k`` (``c_x``, ``c_m`` the component coefficients at λ = σ²);
* ``(∇ log p_t)_k = (b ȳ_k − x_k)/s``; ``m_k = ȳ_k + (σ² b/s)(x_k − b ȳ_k)``;
* ``C_{kl} = (σ² a²/s) δ_{kl} + (a²/s)² (Σ_i r_i y_{ik} y_{il} − ȳ_k ȳ_l)``;
* ``(∇v)_{kl} = c_x δ_{kl} + (c_m b/s)(Σ_i r_i y_{ik} y_{il} − ȳ_k ȳ_l)``.

:func:`closed_form` returns them as SymPy expressions in ``x[k]``, ``y[i, k]`` (``IndexedBase``) and the
summation bounds ``N``, ``d``, with the schedule instantiated; ``.at(points)`` substitutes data (small N)
and evaluates the sums, which is how the tests check them against :class:`~gifsym.symbolic.flow.Flow`.

Example:
    >>> from gifsym import schedule
    >>> form = closed_form(schedule("linear"))
    >>> from gifsym import t
    >>> print(form.velocity.subs({N: 1, D: 1, K: 1}).doit().subs({X[1]: 0, t: 0}))  # one point: v(0, 0) = y_1
    y[1, 1]
    >>> form.jacobian.has(sympy.KroneckerDelta)
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from gifsym.symbolic.expr import as_expr
from gifsym.symbolic.flow import LAM, component_coefficients, instantiate, tidy
from gifsym.symbolic.schedule import Schedule

X = sympy.IndexedBase("x", real=True)
Y = sympy.IndexedBase("y", real=True)
N, D = sympy.symbols("N d", integer=True, positive=True)
I, J, K, L, M = sympy.symbols("i j k l m", integer=True, positive=True)


@dataclass(frozen=True)
class EmpiricalForm:
    """The exact objects of a data target in indexed symbols (see the module docstring).

    Attributes:
        velocity, score, posterior_mean: the k-th coordinate (free index ``k``).
        posterior_cov, jacobian: the (k, l) entry (free indices ``k``, ``l``).
        sigma: the smoothing σ (0: the empirical law).
    """

    velocity: sympy.Expr
    score: sympy.Expr
    posterior_mean: sympy.Expr
    posterior_cov: sympy.Expr
    jacobian: sympy.Expr
    sigma: sympy.Expr

    def at(self, points: object) -> dict[str, sympy.Matrix]:
        """Substitute data ``points`` (N, d) and evaluate the sums: d×1 (and d×d) matrices in ``x[1..d]``."""
        P = np.asarray(points, dtype=float)
        n, d = P.shape
        sub = {N: n, D: d}
        data = {Y[i + 1, j + 1]: sympy.Rational(repr(float(P[i, j]))) for i in range(n) for j in range(d)}

        def ev(e, **idx):
            e = e.subs(sub).subs({K: idx.get("k", K), L: idx.get("l", L)})
            return e.doit().subs(data)

        vec = {name: sympy.Matrix([ev(getattr(self, name), k=k) for k in range(1, d + 1)])
               for name in ("velocity", "score", "posterior_mean")}
        mat = {name: sympy.Matrix(d, d, lambda a, b: ev(getattr(self, name), k=a + 1, l=b + 1))
               for name in ("posterior_cov", "jacobian")}
        return {**vec, **mat}


def closed_form(schedule: Schedule, *, sigma: object = 0) -> EmpiricalForm:
    """The exact velocity, score, posterior mean and covariance and Jacobian of the (smoothed) empirical
    law of N points in d dimensions, for ``schedule``, in indexed symbols (any N)."""
    sig = as_expr(sigma, what="sigma")
    lam = sig**2
    cx, cm, s, _ = (tidy(instantiate(e, schedule).subs(LAM, lam)) for e in component_coefficients())
    a, b = schedule.a, schedule.b

    def logit(idx):
        return -sympy.Sum((X[J] - b * Y[idx, J]) ** 2, (J, 1, D)) / (2 * s)

    Z = sympy.Sum(sympy.exp(logit(L)), (L, 1, N))

    def avg(f):
        return sympy.Sum(f * sympy.exp(logit(I)), (I, 1, N)) / Z

    ybar_k = avg(Y[I, K])
    # The l-th mean uses its own dummy index M for the normalizer, so that k and l stay free.
    ybar_l = sympy.Sum(Y[I, L] * sympy.exp(logit(I)), (I, 1, N)) / sympy.Sum(sympy.exp(logit(M)), (M, 1, N))
    second = sympy.Sum(Y[I, K] * Y[I, L] * sympy.exp(logit(I)), (I, 1, N)) / Z
    cov_r = second - ybar_k * ybar_l
    delta = sympy.KroneckerDelta(K, L)
    a2 = a**2
    return EmpiricalForm(
        velocity=cx * X[K] + cm * ybar_k,
        score=(b * ybar_k - X[K]) / s,
        posterior_mean=ybar_k + (lam * b / s) * (X[K] - b * ybar_k),
        posterior_cov=(lam * a2 / s) * delta + (a2 / s) ** 2 * cov_r,
        jacobian=cx * delta + tidy(cm * b / s) * cov_r,
        sigma=sig,
    )


__all__ = ["EmpiricalForm", "closed_form"]
