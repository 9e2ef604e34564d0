r"""The smallest ball enclosing a finite point set, with a certificate (translation-invariant radii).

The radius of the smallest enclosing ball ``r* = min_c max_i |y_i − c|`` is what the classes T-ball and
T-conv of math.md §3 need: a law supported in *any* ball ``B(c, R)`` has ``Cov ≼ R² I`` (``Var(u·Y) ≤
E(u·(Y − c))² ≤ R²`` for a unit u), so the bounds of §5 hold with R measured about any centre, and the
best R is ``r*``. Measuring R from the origin (``max_i |y_i|``) is not translation-invariant, although
``∇_x v`` is: shifting the target by a vector c gives ``v_c(t, x) = v(t, x − b_t c) + ḃ_t c``, whose
Jacobian at x is that of v at ``x − b_t c``, so ``sup_x ‖∇_x v_c‖ = sup_x ‖∇_x v‖``.

Algorithm (no maintained package computes it in high dimension here: PyPI's ``miniball`` is Welzl's
recursion, exponential in d, and ``cyminiball`` does not build against NumPy 2). The problem is the
convex program ``min_c max_i |y_i − c|²`` whose Lagrange dual over the simplex is

.. math::

    \max_{λ ∈ Δ_N} φ(λ), \qquad φ(λ) = \sum_i λ_i |y_i|^2 - \Big|\sum_i λ_i y_i\Big|^2
    = \sum_i λ_i |y_i - c_λ|^2, \quad c_λ = \sum_i λ_i y_i .

Weak duality gives a **certificate** for every iterate: ``φ(λ) ≤ r*² ≤ max_i |y_i − c_λ|²``. We maximize φ
by Frank–Wolfe with away steps (Yıldırım 2008, linear convergence) on a growing core set: the inner
loop runs on the core set, the outer loop adds the data point farthest from the centre until the gap
``max_i |y_i − c| − φ^{1/2}`` is below ``rtol`` times the radius. Each line search is closed-form: the
step towards ``e_j`` is ``τ = (δ_j − φ)/(2δ_j)``, ``δ_j = |y_j − c|²``, and an away step from ``e_k`` is
``τ = (φ − δ_k)/(2δ_k)`` capped at ``λ_k/(1 − λ_k)``.

The radius returned is the **upper** end of the certificate, ``max_i |y_i − c|`` computed from explicit
differences (no cancellation), enlarged by ``4(d + 2)·ε_mach`` relative for the round-off of that sum:
the data lie in ``B(c, radius)``, so every bound that uses it is valid, and ``radius − lower ≤ rtol·radius``
says it is within ``rtol`` of the smallest. In one dimension, and for two points, the ball is exact
(centre the midpoint).

Example:
    >>> import numpy as np
    >>> b = enclosing_ball(np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 0.5]]))
    >>> [round(float(v), 9) for v in b.centre], round(b.radius, 9), b.gap <= 1e-9 * b.radius
    ([1.0, 0.0], 1.0, True)
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy

from gifsym.errors import GifsymError
from gifsym.symbolic.expr import as_expr

if TYPE_CHECKING:  # imported where used: a run answered from the cache never needs numpy
    import numpy as np

#: Default relative gap of the certificate (radius − lower bound ≤ RTOL · radius).
RTOL = 1e-10
#: Rows per block when distances to all points are computed (bounds the temporary to BLOCK · d floats).
BLOCK = 65536
_EPS = sys.float_info.epsilon  # float64's, as np.finfo(np.float64).eps


@dataclass(frozen=True)
class Ball:
    """A ball ``B(centre, radius)`` that contains the points, with a lower bound on the smallest radius.

    Attributes:
        centre: (d,) float64.
        radius: the data lie in ``B(centre, radius)`` (round-off included).
        lower: a certified lower bound on the radius of the smallest enclosing ball (weak duality).
        support: indices of the points that carry the dual weights (on the boundary at the optimum).
        iterations: Frank–Wolfe iterations used.
    """

    centre: np.ndarray
    radius: float
    lower: float
    support: tuple[int, ...] = ()
    iterations: int = 0

    @property
    def gap(self) -> float:
        """``radius − lower``: how far the radius may be above the smallest one."""
        return self.radius - self.lower

    def __hash__(self) -> int:
        return hash((tuple(self.centre.tolist()), self.radius, self.lower))

    def __eq__(self, other: object) -> bool:
        import numpy as np
        return (isinstance(other, Ball) and np.array_equal(self.centre, other.centre)
                and self.radius == other.radius and self.lower == other.lower)


def _far(points: np.ndarray, c: np.ndarray) -> tuple[int, float]:
    """The farthest point from ``c`` and its squared distance, from explicit differences in blocks."""
    import numpy as np
    best, where = -1.0, 0
    for lo in range(0, points.shape[0], BLOCK):
        D = points[lo:lo + BLOCK] - c
        d2 = np.einsum("ij,ij->i", D, D)
        k = int(np.argmax(d2))
        if d2[k] > best:
            best, where = float(d2[k]), lo + k
    return where, best


def _fw(Y: np.ndarray, lam: np.ndarray, rtol: float, max_iter: int) -> tuple[np.ndarray, int]:
    """Frank–Wolfe with away steps on the dual over the rows of Y (the core set), from weights ``lam``."""
    import numpy as np
    c = lam @ Y
    it = 0
    for it in range(1, max_iter + 1):
        D = Y - c
        d2 = np.einsum("ij,ij->i", D, D)
        phi = float(lam @ d2)
        j = int(np.argmax(d2))
        if math.sqrt(d2[j]) - math.sqrt(max(phi, 0.0)) <= rtol * math.sqrt(d2[j]) or d2[j] == 0:
            break
        act = np.flatnonzero(lam > 0)
        k = int(act[np.argmin(d2[act])])
        if d2[j] - phi >= phi - d2[k] or lam[k] >= 1.0:
            tau = min(1.0, (d2[j] - phi) / (2 * d2[j]))
            lam *= 1 - tau
            lam[j] += tau
        else:
            cap = lam[k] / (1 - lam[k])
            tau = min(cap, (phi - d2[k]) / (2 * d2[k])) if d2[k] > 0 else cap
            lam *= 1 + tau
            lam[k] -= tau
            if tau == cap:
                lam[k] = 0.0  # a drop step: exactly out of the support
        lam = np.maximum(lam, 0.0)
        lam /= lam.sum()
        c = lam @ Y  # recomputed, not updated, so round-off does not accumulate in the centre
    return lam, it


def enclosing_ball(points: np.ndarray, *, rtol: float = RTOL, max_iter: int = 100_000) -> Ball:
    """The smallest enclosing ball of the rows of ``points`` (N, d), certified to ``rtol`` (see module).

    Raises:
        GifsymError: an empty or non-finite point set, or a certificate that did not close (never seen:
            the method converges linearly; the limit is a guard against a hang).

    Example:
        >>> import numpy as np
        >>> b = enclosing_ball(np.array([[2.0], [4.0]]))
        >>> b.centre.tolist(), b.radius
        ([3.0], 1.0)
    """
    import numpy as np
    P = np.asarray(points, dtype=np.float64)
    if P.ndim != 2 or P.shape[0] == 0:
        raise GifsymError(f"enclosing_ball needs an (N, d) array with N >= 1, got shape {P.shape}")
    if not np.all(np.isfinite(P)):
        raise GifsymError("enclosing_ball: the points have non-finite entries")
    N, d = P.shape
    pad = 1 + 4 * (d + 2) * _EPS  # round-off of |y − c| from d products and a sum, then a sqrt
    if d == 1 or N <= 2:
        lo_i, hi_i = (int(np.argmin(P[:, 0])), int(np.argmax(P[:, 0]))) if d == 1 else (0, N - 1)
        c = (P[lo_i] + P[hi_i]) / 2
        r = float(np.linalg.norm(P[hi_i] - P[lo_i])) / 2
        _, far2 = _far(P, c)
        return Ball(c, max(r, math.sqrt(far2)) * pad if far2 > r * r else r, r, tuple(sorted({lo_i, hi_i})), 0)
    # Work about a central point: distances are then of the size of the radius, not of |y|.
    shift = (P.min(axis=0) + P.max(axis=0)) / 2
    first, _ = _far(P, shift)
    second, _ = _far(P, P[first])
    core = [first, second] if second != first else [first]
    lam = np.full(len(core), 1.0 / len(core))
    total = 0
    while True:
        Y = P[core] - shift
        lam, it = _fw(Y, lam, rtol / 4, max_iter - total)
        total += it
        c = lam @ Y + shift
        j, far2 = _far(P, c)
        D = Y - (c - shift)
        phi = float(lam @ np.einsum("ij,ij->i", D, D))
        upper, lower = math.sqrt(far2), math.sqrt(max(phi, 0.0))
        if upper - lower <= rtol * upper or j in core:
            break
        if total >= max_iter:
            raise GifsymError(f"enclosing_ball: the certificate did not close in {max_iter} iterations "
                              f"(gap {upper - lower:.3g} at radius {upper:.6g})")
        core.append(j)
        lam = np.append(lam, 0.0)
    if upper - lower > max(rtol, 1e-6) * upper:
        raise GifsymError(f"enclosing_ball: the certificate did not close (radius {upper:.6g}, lower bound "
                          f"{lower:.6g}); the points may be nearly degenerate at this scale")
    support = tuple(sorted(int(core[i]) for i in np.flatnonzero(lam > 0)))
    return Ball(c, float(upper * pad), float(min(lower, upper)), support, total)


def round_up(x: float, digits: int = 6, *, slack: float = 8 * _EPS) -> sympy.Rational:
    """A short rational ``≥ x`` (``digits`` significant decimal digits, rounded up), for class parameters.

    Example:
        >>> round_up(1.0000000000000002), round_up(0.1)
        (1, 1/10)
    """
    if x <= 0:
        return sympy.Integer(0)
    e = digits - 1 - math.floor(math.log10(x))
    unit = sympy.Integer(10) ** e if e >= 0 else sympy.Rational(1, 10 ** (-e))
    scaled = sympy.Rational(repr(float(x))) * unit
    # A value within ``slack`` (relative) of a short decimal is that decimal (a radius of exactly 1 computed
    # as 1 + 2e-16, or padded for round-off): callers pass a slack below the round-off pad they added, so
    # the result still covers the unpadded value. Anything else is rounded up.
    near = sympy.Integer(round(scaled))
    if abs(scaled - near) <= slack * scaled:
        return near / unit
    return sympy.ceiling(scaled) / unit


def enclosing_radius(means: Sequence[Sequence[sympy.Expr]]) -> sympy.Expr:
    """The radius of the smallest ball containing the points ``means`` (exact SymPy coordinates).

    Exact for one point (0), two points (half their distance) and in one dimension (half the range);
    otherwise the certified radius of :func:`enclosing_ball` rounded up to 6 significant digits (a ball
    at least as large as the smallest, so bounds that use it stay valid).

    Example:
        >>> enclosing_radius([(2,), (4,)]), enclosing_radius([(0, 0), (3, 4)])
        (1, 5/2)
    """
    import numpy as np
    pts = [tuple(as_expr(v, what="a coordinate of means") for v in m) for m in means]
    if not pts:
        raise GifsymError("enclosing_radius needs at least one point")
    if len(pts) == 1:
        return sympy.Integer(0)
    if len(pts[0]) == 1:
        vals = [p[0] for p in pts]
        return (max(vals, key=float) - min(vals, key=float)) / 2
    if len(pts) == 2:
        return sympy.sqrt(sum((u - v) ** 2 for u, v in zip(*pts))) / 2
    ball = enclosing_ball(np.array([[float(v) for v in p] for p in pts]))
    return round_up(ball.radius, slack=pad_slack(len(pts[0])))


def pad_slack(d: int) -> float:
    """Half the round-off pad of :func:`enclosing_ball` in dimension d: snapping a padded radius to a short
    decimal within this relative distance keeps it above the computed distances."""
    return 2 * (d + 2) * _EPS


__all__ = ["BLOCK", "RTOL", "Ball", "enclosing_ball", "enclosing_radius", "pad_slack", "round_up"]
