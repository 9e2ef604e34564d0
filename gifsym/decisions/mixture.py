r"""Mixture targets: the plan's bound with simulated local errors (kind ``estimate``).

The bound of lemma ``sampler-error`` needs, per step, the local error at exact points δ_k and the step's
Lipschitz constant. For a Gaussian mixture:

* δ_k is **estimated** by simulation (:class:`gifsym.numerics.local_errors.LocalErrors`: exact draws of
  ``X_{t_k}``, a reference RK4 integration, common random numbers);
* ``Lip Φ_k`` is bounded from spectral bounds ``ℓ_τ I ≼ ∇v(τ, ·) ≼ u_τ I`` at the stage times τ_i. For an
  explicit Runge–Kutta step with sub-diagonal tableau, ``∂Φ = I + hΣ_i w_i J_i G_i`` with ``G_0 = I``,
  ``G_i = I + h a_i J_{i−1} G_{i−1}`` and ``J_i`` symmetric with spectrum in ``[ℓ_i, u_i]``, so
  ``‖∂Φ‖ ≤ max_{λ∈[Σw_iℓ_i, Σw_iu_i]} |1 + hλ| + hΣ_i w_i θ_i ‖G_i − I‖`` with
  ``‖G_i − I‖ ≤ h a_i θ_{i−1}(1 + ‖G_{i−1} − I‖)`` and ``θ = max(|ℓ|, |u|)`` (Weyl's inequality for the
  first term); for Heun also ``∂Φ = ½ I + ½ (I + hJ_1)(I + hJ_0)``, so ``‖∂Φ‖ ≤ ½ + ½ κ_1 κ_0`` with
  ``κ_i = max_{λ∈[ℓ_i, u_i]} |1 + hλ|``. The spectral bounds are gifsym's derived ones (lemma
  ``jacobian-upper`` / ``jacobian-lower``) where finite, else the range of ∇v's eigenvalues over the draws
  (an estimate, said in the conditions);
* early stopping at ``t_1 < 1``: ``W₂(p_{t_1}, ν) ≤ √(a² d + (1 − b)² E|X₁|²)`` (lemma ``early-stopping``),
  enclosed in ball arithmetic.

Example:
    >>> from gifsym import GIF, schedule, target
    >>> import numpy as np
    >>> flow = GIF(schedule("linear"), target("gmm", weights=[0.5, 0.5], means=[[-1.0], [1.0]], sigma=0.5))
    >>> m = MixtureModel.of(flow)
    >>> m.derived_spectrum
    True
    >>> bool(np.all(lipschitz_bound("euler", np.array([0.5]), np.array([0.1]), m.spectrum) > 0))
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import sympy

from gifsym.decisions.samplers import sampler
from gifsym.symbolic.balls import enclose
from gifsym.symbolic.flow import Flow
from gifsym.symbolic.schedule import t as T


def _kappa(h: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.maximum(np.abs(1 + h * lo), np.abs(1 + h * hi))


def lipschitz_bound(method: str, tk: np.ndarray, h: np.ndarray, spectrum) -> np.ndarray:
    """A bound on ``Lip Φ_k`` per step from spectral bounds ``spectrum(τ) -> (ℓ, u)`` (module docstring)."""
    m = sampler(method)
    tk, h = np.asarray(tk, dtype=float), np.asarray(h, dtype=float)
    lo, hi = zip(*(spectrum(tk + float(c) * h) for c in m.c), strict=True)
    theta = [np.maximum(np.abs(a), np.abs(b)) for a, b in zip(lo, hi, strict=True)]
    w = [float(x) for x in m.w]
    main = _kappa(h, sum(wi * a for wi, a in zip(w, lo, strict=True)), sum(wi * b for wi, b in zip(w, hi, strict=True)))
    g, rem = np.zeros_like(h), np.zeros_like(h)
    for i in range(len(w)):
        if i > 0:
            g = h * float(m.a[i - 1]) * theta[i - 1] * (1 + g)
        rem = rem + h * w[i] * theta[i] * g
    out = main + rem
    if method == "heun":
        out = np.minimum(out, 0.5 + 0.5 * _kappa(h, lo[0], hi[0]) * _kappa(h, lo[1], hi[1]))
    return out


@dataclass(frozen=True, eq=False)
class MixtureModel:
    """A mixture target on a schedule: spectral bounds, simulated local errors, early stopping."""

    flow: Flow

    @staticmethod
    def of(flow: Flow) -> MixtureModel:
        return _model(flow)

    @cached_property
    def _bounds(self):
        from gifsym import theory

        b = theory.bounds(self.flow)
        up, lo = b.upper, b.lower
        if up.has(sympy.oo, -sympy.oo, sympy.zoo) or lo.has(sympy.oo, -sympy.oo, sympy.zoo):
            return None
        if not sympy.Interval(0, 1).is_subset(b.interval):  # the bounds must hold at every stage time
            return None
        return sympy.lambdify([T], [lo, up], modules="numpy")

    @property
    def derived_spectrum(self) -> bool:
        """Whether gifsym derived two-sided bounds on ∇v for this target (else they are estimated)."""
        return self._bounds is not None

    def spectrum(self, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tau = np.asarray(tau, dtype=float)
        if self._bounds is not None:
            with np.errstate(all="ignore"):
                lo, up = (np.broadcast_to(np.asarray(v, dtype=float), tau.shape) for v in self._bounds(tau))
            return lo, up
        return self.simulation.spectrum(tau)

    @property
    def simulation_draws(self) -> int:
        """The number of draws of ``X_t`` the simulated terms use."""
        from gifsym.numerics.local_errors import DRAWS

        return DRAWS

    @cached_property
    def simulation(self):
        from gifsym.numerics.local_errors import LocalErrors

        return LocalErrors(self.flow)

    @cached_property
    def ends(self) -> tuple[bool, bool]:
        from gifsym.numerics.fields import endpoint_report

        r = endpoint_report(self.flow)
        return r.finite_at_0, r.finite_at_1

    def finite_at(self, tt: float) -> bool:
        return self.ends[0] if tt == 0.0 else self.ends[1] if tt == 1.0 else True

    @cached_property
    def _memo(self) -> dict:
        return {}

    def contributions(self, method: str, grid) -> np.ndarray:
        """Each step's term ``(Π_{j>k} Lip Φ_j) δ_k`` with simulated δ_k (an estimate).

        The last few grids' terms are remembered: a plan evaluates its chosen grid again after the search.
        """
        g = np.asarray(grid, dtype=float)
        key = (method, g.tobytes())
        if key not in self._memo:
            if len(self._memo) >= 64:
                self._memo.pop(next(iter(self._memo)))
            self._memo[key] = self._contributions(method, g)
            self._memo[key].setflags(write=False)
        return self._memo[key]

    def _contributions(self, method: str, g: np.ndarray) -> np.ndarray:
        from gifsym.decisions.gaussian import propagation

        m = sampler(method)
        delta = self.simulation.deltas(g, [float(c) for c in m.c], [float(a) for a in m.a], [float(w) for w in m.w])
        lip = lipschitz_bound(method, g[:-1], np.diff(g), self.spectrum)
        return propagation(lip) * delta

    def early_stopping(self, t1: float):
        """``√(a² d + (1 − b)² E|X₁|²)`` at t1, as a ball."""
        law = self.flow.target.law
        x = sympy.Rational(t1)
        a, b = (e.subs(T, x) for e in (self.flow.schedule.a, self.flow.schedule.b))
        return enclose(sympy.sqrt(a**2 * law.dim + (1 - b) ** 2 * law.exact_second_moment))


@lru_cache(maxsize=16)
def _model(flow: Flow) -> MixtureModel:
    return MixtureModel(flow)


def upper_float(x: float) -> float:
    """The next float up (a sum of float terms rounded up once more)."""
    return math.nextafter(float(x), math.inf)
