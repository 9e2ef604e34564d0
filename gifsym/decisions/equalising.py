r"""The equalising time change: the schedule that spreads a rate evenly over time.

The family searched is every schedule with :math:`a_t^2 + b_t^2 = 1` (the variance-preserving family:
Föllmer, trigonometric, LipD's paths),

.. math:: a_t = \sqrt{1 - q_t}, \qquad b_t = \sqrt{q_t}, \qquad q \text{ increasing from } 0 \text{ to } 1,

``q = b²`` being the signal fraction (SNR² = q/(1 − q)). It is the Föllmer path ``(√(1−τ²), τ)`` run at
``τ = √q``, and a time change multiplies the velocity by ``dτ/dt``, so ``∇v_t = q'(t) J(q(t), ·)`` with
``J(q, x) = ∇v^F(√q, x) / (2√q)``. Hence, for any rate ``ω(q) ≥ 0`` of the path (per unit of q):

* ``lipschitz``: ``θ_t = q'(t) ω(q(t))`` with ``ω(q) = θ^F(√q)/(2√q)``; for every schedule of the family
  ``sup_t θ_t ≥ ∫_0^1 θ_t dt = ∫_0^1 ω(q) dq =: Ω`` (the integral is invariant under time changes), with
  equality iff ``θ_t ≡ Ω``, i.e. ``t(q) = Ω(q)/Ω(1)`` with ``Ω(q) = ∫_0^q ω``;
* ``lipschitz-sq``: ``∫_0^1 q'(t)^2 k(q(t)) dt ≥ (∫_0^1 √k(q) dq)^2`` (Cauchy–Schwarz) with
  ``k(q) = E‖J(q, X)‖_F²``, with equality iff ``q'(t) √k(q(t))`` is constant: the same construction with
  ``ω = √k`` (Chen, Vanden-Eijnden & Xu, arXiv 2509.01629).

:func:`closed_form` integrates ``ω`` and solves ``Ω(q) = t Ω(1)`` with SymPy (Gaussian targets);
:func:`equalise` does it numerically and represents ``q`` exactly as a polynomial with rational coefficients
whose Bernstein coefficients increase from 0 to 1 (so ``q' ≥ 0`` by construction, and the prover checks it
exactly). The variable of the integrals is ``w = SNR² = q/(1 − q)`` for SymPy (positive, so signs are known)
and ``λ = log w`` for quadrature (the rate of a well-separated mixture is a spike in λ).

Example:
    >>> import sympy
    >>> w = sympy.Symbol("w", positive=True)
    >>> closed_form(9999 / (2 * (w**2 + 10001*w + 10000)))[0]
    10000/9999 - 10000/(9999*10**(4*t))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy

from gifsym.errors import GifsymError
from gifsym.symbolic.schedule import Schedule, t

#: SNR² = q/(1 - q), the variable of the symbolic integrals.
W = sympy.Symbol("w", positive=True)
_V = sympy.Symbol("V", positive=True)

#: Log-SNR² range and nodes of the quadrature (q = expit(λ); beyond ±36 the mass is below 1e-15 of Ω).
LOG_SNR_RANGE = 36.0
NODES = 4001


def family(q: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    """``(a, b) = (√(1 − q), √q)``."""
    return sympy.sqrt(1 - q), sympy.sqrt(q)


def rate_in_snr(rate: sympy.Expr) -> sympy.Expr:
    """``ω`` per unit of ``w = SNR²`` from a rate of the Föllmer path per unit of its time τ (``θ^F(τ)``):
    ``ω_w = θ^F(τ(w)) τ'(w)`` with ``τ = √(w/(1 + w))``."""
    tau = sympy.sqrt(W / (1 + W))
    return sympy.simplify(rate.subs(t, tau) * sympy.diff(tau, W))


def closed_form(omega_w: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr] | None:
    """``(q(t), Ω(1))`` by SymPy: ``Ω(V) = ∫_0^V ω_w dw``, ``t Ω(∞) = Ω(V)`` solved for V, ``q = V/(1+V)``.

    None when SymPy does not find them (a ``Max`` of several pieces, no elementary antiderivative, ...).
    """
    if omega_w.has(sympy.Max, sympy.Min, sympy.Piecewise, sympy.Abs) or omega_w.free_symbols - {W}:
        return None
    try:
        big = sympy.integrate(omega_w, (W, 0, _V))
        if big.has(sympy.Integral):
            return None
        total = sympy.simplify(sympy.limit(big, _V, sympy.oo))
        if not (total.is_number and total.is_positive and total.is_finite):
            return None
        roots = sympy.solve(sympy.Eq(big, t * total), _V)
    except (NotImplementedError, ValueError, TypeError, ArithmeticError, RecursionError):
        return None
    for root in roots:
        q = sympy.simplify((root / (1 + root)).rewrite(sympy.exp))
        # the root that is the SNR²: 0 at t = 0, increasing to +oo at t = 1
        mid = q.subs(t, sympy.Rational(1, 2))
        if (q.subs(t, 0) == 0) is not True or not (mid.is_real and 0 < float(mid) < 1):
            continue
        if sympy.simplify(sympy.limit(q, t, 1, "-") - 1) == 0:
            return q, total
    return None


@dataclass(frozen=True)
class Equalised:
    """A numerically equalised schedule of the family.

    Attributes:
        q: ``q(t)``, an expanded polynomial with rational coefficients.
        degree: its degree.
        optimum: ``Ω = ∫_0^1 ω(q) dq`` (the family's optimum is Ω for ``lipschitz``, Ω² for ``lipschitz-sq``),
            by quadrature (estimate).
        achieved: the objective of this ``q`` (sup of ``q' ω(q)``, or ``∫ q'² ω(q)² dt``), by quadrature.
        coefficients: the Bernstein coefficients of ``q`` (exact).
    """

    q: sympy.Expr
    degree: int
    optimum: float
    achieved: float
    coefficients: tuple[sympy.Rational, ...]


def _bernstein(n: int, x: np.ndarray) -> np.ndarray:
    """``B_{k,n}(x)`` for k = 0..n, shape (len(x), n + 1)."""
    from scipy.special import comb

    k = np.arange(n + 1)
    return comb(n, k)[None, :] * x[:, None] ** k[None, :] * (1 - x[:, None]) ** (n - k)[None, :]


def _objective(kind: str, dq: np.ndarray, omega: np.ndarray, ts: np.ndarray) -> float:
    rate = dq * omega
    if kind == "lipschitz":
        return float(np.max(rate))
    return float(np.trapezoid(rate**2, ts))


def equalise(omega: Callable[[np.ndarray], np.ndarray], *, kind: str, degrees: tuple[int, ...] = (8, 12, 16, 20),
             nodes: int = NODES) -> Equalised:
    """The equalising ``q`` for a rate ``ω(q)`` given as a vectorised function, as a monotone polynomial.

    ``t(q) = Ω(q)/Ω(1)`` is computed by the trapezoid rule in λ = logit(q) on ``nodes`` points; the polynomial
    ``q(t) = Σ c_k B_{k,n}(t)`` with ``0 = c_0 ≤ c_1 ≤ … ≤ c_n = 1`` is fitted to it (non-negative least squares
    on the relative error of ``q' ω(q)`` against Ω, reweighted toward the largest errors), for each degree,
    and the one with the best achieved objective is kept.

    Raises:
        GifsymError: ω is not finite and positive somewhere on the grid, or Ω is not positive.
    """
    from scipy.optimize import nnls

    lam = np.linspace(-LOG_SNR_RANGE, LOG_SNR_RANGE, nodes)
    qs = 1 / (1 + np.exp(-lam))
    om = np.asarray(omega(qs), dtype=float)
    if om.shape != qs.shape or not np.all(np.isfinite(om)) or np.any(om < 0):
        raise GifsymError("the rate of the flow is not finite and non-negative on (0, 1): no schedule of the "
                          "family equalises it")
    dens = om * qs * (1 - qs)  # ω dq = ω q (1 - q) dλ
    cum = np.concatenate([[0.0], np.cumsum((dens[1:] + dens[:-1]) / 2 * np.diff(lam))])
    total = cum[-1]
    # ω dq must be integrable: its density in λ decays like e^{-|λ|} at both ends when ω is bounded. Mass
    # still arriving at the ends of the grid means Ω diverges (θ_t not integrable: sup θ = ∞ for all).
    if max(dens[0], dens[-1]) > 1e-9 * total:
        raise GifsymError("the rate of the flow is not integrable on (0, 1) (it grows without bound toward "
                          f"{'the noise' if dens[0] > dens[-1] else 'the data'} end): every schedule of the "
                          "family has an infinite objective")
    if not total > 0:
        raise GifsymError("the rate of the flow vanishes: every schedule of the family is optimal")
    times = cum / total
    # Fit points: uniform in t, and the nodes' own times (dense where the rate is large).
    tf = np.unique(np.concatenate([np.linspace(0, 1, 801), times[:: max(1, nodes // 800)]]))
    q_star = np.interp(tf, times, qs)

    def omega_at(q):
        return np.interp(np.log(np.clip(q, 1e-300, None)) - np.log1p(-np.clip(q, None, 1 - 1e-16)), lam, om)

    dense = np.linspace(0, 1, 20001)
    best = None
    for n in degrees:
        basis = _bernstein(n - 1, tf) * n  # q'(t) = Σ_k δ_{k+1} n B_{k,n-1}(t)
        weights = np.ones_like(tf)
        target_q = q_star
        for _ in range(12):
            rows = basis * (omega_at(target_q) / total)[:, None] * weights[:, None]
            A = np.vstack([rows, 1e3 * np.ones((1, n))])
            rhs = np.concatenate([weights, [1e3]])
            delta, _ = nnls(A, rhs, maxiter=50 * n)
            if not delta.sum() > 0:
                break
            delta = delta / delta.sum()
            c = np.concatenate([[0.0], np.cumsum(delta)])
            q_fit = _bernstein(n, tf) @ c
            err = np.abs((basis @ delta) * omega_at(q_fit) / total - 1)
            weights = weights * (1 + err / (err.max() + 1e-300))  # Lawson-like: push toward the minimax fit
            weights /= weights.mean()
            target_q = 0.5 * (q_star + q_fit)
        exact = _rational_increments(delta)
        c_exact = [sympy.Integer(0)]
        for d in exact:
            c_exact.append(c_exact[-1] + d)
        cf = np.array([float(x) for x in c_exact])
        q_dense = _bernstein(n, dense) @ cf
        dq_dense = (_bernstein(n - 1, dense) * n) @ np.diff(cf)
        achieved = _objective(kind, dq_dense, omega_at(q_dense), dense)
        if best is None or achieved < best[0]:
            best = (achieved, n, tuple(c_exact))
    achieved, n, coeffs = best
    q = sympy.expand(sum(c * sympy.binomial(n, k) * t**k * (1 - t) ** (n - k) for k, c in enumerate(coeffs)))
    optimum = total if kind == "lipschitz" else total**2
    return Equalised(q, n, float(optimum), float(achieved), coeffs)


def _rational_increments(delta: np.ndarray) -> list[sympy.Rational]:
    """Positive rationals with one small common denominator summing exactly to 1 (the Bernstein increments):
    ``m_k / Σ m`` with ``m_k = max(1, round(10⁶ δ_k))``, so ``q' > 0`` on (0, 1) (a strictly increasing SNR)."""
    m = [max(1, int(round(float(d) * 10**6))) for d in delta]
    total = sum(m)
    return [sympy.Rational(k, total) for k in m]


def designed_schedule(a: sympy.Expr, b: sympy.Expr, origin: str) -> Schedule:
    """A custom gifsym schedule for designed coefficients, with a note of how they were obtained."""
    return Schedule("custom", a, b, (), source=(str(a), str(b)), origin=origin)
