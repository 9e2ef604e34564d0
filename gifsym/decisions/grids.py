r"""Time grids ``t0 = t_0 < … < t_N = t1`` for a sampler: uniform, EDM, SD3's shift, given, and optimal.

* ``uniform``: equal steps.
* ``edm`` (Karras et al. 2022): noise levels ``σ_i = (σ_max^{1/ρ} + i/(n−1)(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ``
  mapped to times through the schedule's ``σ(t) = a_t/b_t`` (decreasing in t); defaults ``ρ = 7`` and
  ``σ_max, σ_min = σ(t0), σ(t1)`` where finite and non-zero, else EDM's 80 and 0.002. An end where σ is
  infinite (b = 0) or zero (a = 0) is added as a grid point of its own, as EDM appends σ = 0.
* ``shift:S`` (Stable Diffusion 3): the uniform grid in ``σ = 1 − u`` shifted to ``Sσ/(1 + (S − 1)σ)``,
  then ``t = t0 + (t1 − t0)(1 − σ')`` (gifsym's time runs from noise to data).
* ``optimal``: equidistributes the terms of the plan's bound (:func:`equidistribute`).

Example:
    >>> uniform(4, 0.0, 1.0).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> [round(float(x), 4) for x in shift(2, 0.0, 1.0, 3.0)]
    [0.0, 0.25, 1.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from gifsym.errors import GifsymError


def uniform(n: int, t0: float, t1: float) -> np.ndarray:
    """``n`` equal steps from ``t0`` to ``t1``."""
    return np.linspace(t0, t1, n + 1)


def shift(n: int, t0: float, t1: float, s: float) -> np.ndarray:
    """SD3's shifted grid (see the module docstring)."""
    if not (math.isfinite(s) and s > 0):
        raise GifsymError(f"the shift must be a positive number, got {s!r}")
    sig = 1.0 - np.linspace(0.0, 1.0, n + 1)
    sig = s * sig / (1.0 + (s - 1.0) * sig)
    out = t0 + (t1 - t0) * (1.0 - sig)
    out[0], out[-1] = t0, t1
    return out


def _invert(sigma: Callable[[np.ndarray], np.ndarray], target: np.ndarray, t0: float, t1: float) -> np.ndarray:
    # σ(t) = a/b is non-increasing (S-mono): bisection on [t0, t1], 80 halvings reach float resolution.
    lo, hi = np.full_like(target, t0), np.full_like(target, t1)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        above = sigma(mid) > target
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    return 0.5 * (lo + hi)


def edm(n: int, t0: float, t1: float, sigma: Callable[[np.ndarray], np.ndarray], *, rho: float = 7.0,
        sigma_min: float | None = None, sigma_max: float | None = None) -> np.ndarray:
    """The EDM ρ-grid mapped through ``σ(t) = a/b`` (see the module docstring)."""
    with np.errstate(all="ignore"):
        s0, s1 = (float(v) for v in sigma(np.array([t0, t1])))
    open0 = not (math.isfinite(s0) and s0 > 0)  # b(t0) = 0: σ is infinite
    open1 = not (math.isfinite(s1) and s1 > 0)  # a(t1) = 0: σ is zero
    hi = sigma_max if sigma_max is not None else (80.0 if open0 else s0)
    lo = sigma_min if sigma_min is not None else (0.002 if open1 else s1)
    if not (rho > 0 and 0 < lo < hi and math.isfinite(hi)):
        raise GifsymError(f"EDM grid needs rho > 0 and 0 < sigma_min < sigma_max, got rho={rho}, "
                          f"sigma_min={lo}, sigma_max={hi}")
    m = n + 1 - int(open0) - int(open1)  # EDM's own points (0 when n = 1 and both ends are open)
    i = np.arange(m) / max(m - 1, 1)
    sig = (hi ** (1 / rho) + i * (lo ** (1 / rho) - hi ** (1 / rho))) ** rho
    with np.errstate(all="ignore"):
        ts = _invert(sigma, sig, t0, t1)
    out = np.concatenate([[t0] if open0 else [], ts, [t1] if open1 else []])
    if not open0:
        out[0] = t0
    if not open1:
        out[-1] = t1
    return out


def check(grid: object) -> np.ndarray:
    """A given sequence of times as a float array: finite, strictly increasing, in [0, 1], ≥ 1 step."""
    try:
        g = np.asarray(grid, dtype=float)
    except (TypeError, ValueError):
        raise GifsymError(f"a grid must be a sequence of numbers, got {grid!r}") from None
    if g.ndim != 1 or g.size < 2:
        raise GifsymError("a grid needs at least two times (one step)")
    if not np.all(np.isfinite(g)) or g[0] < 0 or g[-1] > 1:
        raise GifsymError("grid times must be finite numbers in [0, 1]")
    if not np.all(np.diff(g) > 0):
        raise GifsymError("grid times must be strictly increasing")
    return g


def equidistribute(terms: Callable[[np.ndarray], np.ndarray], n: int, t0: float, t1: float, order: int, *,
                   start: np.ndarray | None = None, sweeps: int = 30,
                   objective: Callable[[np.ndarray], float] | None = None) -> np.ndarray:
    r"""The grid of ``n`` steps that (approximately) minimises ``Σ_k terms(grid)_k``, or ``objective(grid)``.

    A term behaves like ``C_k h_k^{p+1}`` with ``C_k`` the propagated local-error density
    ``w(t)|X^{(p+1)}(t)|`` (math.md §9), and the sum at fixed n is smallest when the points have density
    ∝ ``C^{1/(p+1)}``: each sweep reads ``C_k^{1/(p+1)} = terms_k^{1/(p+1)}/h_k`` off the current grid and
    places the new points at equal quantiles of that piecewise-constant density (damped by half to keep
    the iteration stable). The best grid seen (by ``objective``, default the terms' sum: a plan passes its
    reported bound, the smallest route) is returned, so the result is never worse than the start.
    """
    grid = uniform(n, t0, t1) if start is None else np.asarray(start, dtype=float)
    best, best_val = grid, np.inf
    q = 1.0 / (order + 1)
    for _ in range(sweeps):
        c = terms(grid)
        val = float(np.sum(c)) if objective is None else float(objective(grid))
        val = val if np.all(np.isfinite(c)) and np.isfinite(val) else np.inf
        if val < best_val:
            best, best_val = grid, val
        h = np.diff(grid)
        dens = np.maximum(np.where(np.isfinite(c), c, 0.0), 0.0) ** q / h
        dens = np.maximum(dens, 1e-3 * dens.max() if dens.max() > 0 else 1.0)  # no empty cells
        mass = np.concatenate([[0.0], np.cumsum(dens * h)])
        new = np.interp(np.linspace(0, mass[-1], n + 1), mass, grid)
        new[0], new[-1] = t0, t1
        grid = 0.5 * (grid + new)
        if not np.all(np.diff(grid) > 0):
            break
    return best
