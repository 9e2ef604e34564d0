r"""The explicit one-step samplers a plan can certify: Euler, Heun, midpoint and RK4.

Each is an explicit Runge–Kutta method whose stage ``i`` is evaluated at ``x + h a_i k_{i-1}`` (only the
sub-diagonal of the Butcher tableau is non-zero), at time ``t + c_i h``; the step is
``Φ_h(x) = x + h Σ_i w_i k_i``. On the scalar affine equation ``y' = α(t) y + β(t)`` every such step is
affine, ``Φ_h(y) = f y + g``; :func:`affine_step` computes ``(f, g)`` stage by stage, with any number type
that has ``+`` and ``*`` (NumPy arrays for the search, python-flint balls for the certified value). With
α constant and β = 0, ``f`` is the stability function ``R(hα)`` (:meth:`Sampler.stability`), e.g.
``R(z) = 1 + z`` for Euler and ``1 + z + z²/2`` for Heun.

Example:
    >>> SAMPLERS["heun"].stability(-1.0)
    0.5
    >>> f, g = affine_step(SAMPLERS["euler"], lambda tau: -1.0, lambda tau: 0.0, 0.0, 0.1)
    >>> round(f, 12), g
    (0.9, 0.0)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy

from gifsym.errors import GifsymError


@dataclass(frozen=True)
class Sampler:
    """An explicit Runge–Kutta method with sub-diagonal tableau.

    Attributes:
        name: ``"euler"``, ``"heun"``, ``"midpoint"`` or ``"rk4"``.
        order: its classical order p (local error O(h^{p+1})).
        c: stage times as fractions of the step.
        a: ``a_i``, stage i's input is ``x + h a_i k_{i-1}`` (i ≥ 1).
        w: the weights of the stages in the step.
        stability_interval: the largest ``r`` with ``|R(z)| ≤ 1`` on ``[-r, 0]``.
    """

    name: str
    order: int
    c: tuple[Fraction, ...]
    a: tuple[Fraction, ...]
    w: tuple[Fraction, ...]
    stability_interval: float

    def stability(self, z: Any) -> Any:
        """The stability function ``R(z)``: the step's factor on ``y' = λ y`` with ``z = hλ``."""
        one = 0 * z + 1  # h = 1 of z's type (a float, an array, a SymPy number)
        f, _ = affine_step(self, lambda tau: z, lambda tau: 0 * z, 0 * one, one)
        return f


_F = Fraction
SAMPLERS: dict[str, Sampler] = {
    "euler": Sampler("euler", 1, (_F(0),), (), (_F(1),), 2.0),
    "heun": Sampler("heun", 2, (_F(0), _F(1)), (_F(1),), (_F(1, 2), _F(1, 2)), 2.0),
    "midpoint": Sampler("midpoint", 2, (_F(0), _F(1, 2)), (_F(1, 2),), (_F(0), _F(1)), 2.0),
    # |1 + z + z²/2 + z³/6 + z⁴/24| ≤ 1 on [-2.785293563405282, 0] (the real root of R(z) = 1 below 0).
    "rk4": Sampler("rk4", 4, (_F(0), _F(1, 2), _F(1, 2), _F(1)), (_F(1, 2), _F(1, 2), _F(1)),
                   (_F(1, 6), _F(1, 3), _F(1, 3), _F(1, 6)), 2.785293563405282),
}


def sampler(name: str) -> Sampler:
    """The sampler called ``name`` (a clear error otherwise)."""
    try:
        return SAMPLERS[name]
    except (KeyError, TypeError):
        raise GifsymError(f"unknown sampler {name!r}; accepted: {', '.join(SAMPLERS)}") from None


def _num(q: Fraction, like: Any) -> Any:
    # Stage coefficients are dyadic or thirds: a float for NumPy, an exact ratio for balls and SymPy.
    if isinstance(like, sympy.Basic):
        return sympy.Rational(q.numerator, q.denominator)
    if hasattr(like, "mid"):  # a python-flint arb
        return type(like)(q.numerator) / q.denominator
    return q.numerator / q.denominator


def affine_step(method: Sampler, alpha: Callable[[Any], Any], beta: Callable[[Any], Any], t: Any, h: Any) -> tuple[Any, Any]:
    r"""``(f, g)`` with ``Φ_h(y) = f y + g`` for the method on ``y' = α(τ) y + β(τ)`` from time ``t``.

    Stage inputs are tracked as affine functions ``P_i y + Q_i`` of the start: ``P_0 = 1, Q_0 = 0``,
    ``k_i = α(τ_i)(P_i y + Q_i) + β(τ_i)``, ``P_{i+1} = 1 + h a_{i+1} α(τ_i) P_i``, and so on.

    Args:
        method: the sampler.
        alpha, beta: the coefficients as functions of time (vectorised over ``t`` and ``h`` if those are arrays).
        t, h: the step's start and size.
    """
    P, Q = 1 + 0 * h, 0 * h
    f, g = 1 + 0 * h, 0 * h
    for i, (ci, wi) in enumerate(zip(method.c, method.w, strict=True)):
        tau = t + _num(ci, h) * h
        al, be = alpha(tau), beta(tau)
        kP, kQ = al * P, al * Q + be  # k_i = kP y + kQ
        if wi:
            f = f + _num(wi, h) * h * kP
            g = g + _num(wi, h) * h * kQ
        if i + 1 < len(method.c):
            ai = _num(method.a[i], h)
            P, Q = 1 + ai * h * kP, ai * h * kQ
    return f, g
