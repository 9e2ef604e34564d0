r"""The L²(p_t) error of a velocity model, ``ε(t) = ‖v(t,·) − ṽ(t,·)‖_{L²(p_t)}``, with an upper confidence
bound.

At each grid time, ``X_t = a_t Z + b_t X₁`` is sampled exactly (``Z ~ N(0, I)``, ``X₁`` from the target's
exact law; the same n pairs ``(Z, X₁)`` at every time, so that ε(t) is estimated smoothly in t), and
``W_i = |ṽ(t, X_t^i) − v(t, X_t^i)|²`` is computed with the exact field ``v``. Then ``ε(t)² = E W``, and

* the estimate is ``ε̂(t) = (W̄)^{1/2}``;
* the upper confidence bound is ``(W̄ + q·s/√n)^{1/2}`` with s the sample standard deviation of W and q the
  Student-t quantile at level ``1 − α/m`` (m grid times, ``α = 1 − confidence``): by Bonferroni's
  inequality all m bounds hold together with probability ≥ ``confidence`` — **asymptotically** (central
  limit theorem). A finite-sample guarantee on the mean of an unbounded nonnegative variable is not
  possible without a bound on its tails, so these bounds are labelled ``estimate``; the standard error is
  reported beside them.

The same samples give the flow-matching loss's irreducible part at t, ``E|ȧ_t Z + ḃ_t X₁ − v(t, X_t)|²``
(the loss of the exact field): the flow-matching loss of ṽ at t is that plus ``ε(t)²``.

Example:
    >>> import numpy as np
    >>> from gifsym import GIF, schedule, target
    >>> from gifsym.numerics.models import adapt
    >>> flow = GIF(schedule("linear"), target("gaussian:sigma=1,dim=2"))
    >>> v = flow.field()
    >>> model = adapt(lambda t, x: np.asarray(v(t, x)) + np.array([0.1, 0.0]), dim=2)
    >>> prof, _ = measure_error(flow, model, (0.0, 0.5, 1.0), n=256, seed=0)
    >>> [round(e, 12) for e in prof.upper]  # a constant shift: W = 0.01 exactly, no sampling error
    [0.1, 0.1, 0.1]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy

from gifsym.errors import NumericError
from gifsym.numerics.fields import field as velocity_field
from gifsym.numerics.models import CHUNK, Model
from gifsym.numerics.simulate import flow_dim, sample_target
from gifsym.symbolic.expr import as_expr
from gifsym.symbolic.schedule import t as T_SYM

#: Largest n·d of the sample arrays (800 MB of float64 for the four arrays held at once).
MAX_ENTRIES = 25_000_000


@dataclass(frozen=True)
class ErrorProfile:
    """``ε(t)`` on the time grid.

    Attributes:
        times: the grid.
        estimate: ``ε̂(t)``, the root mean square of ``|ṽ − v|`` over the samples.
        upper: the upper confidence bounds (see the module docstring).
        std_error: the standard error of the mean of ``|ṽ − v|²`` at each time.
        irreducible: the exact field's flow-matching loss ``E|ȧZ + ḃX₁ − v|²`` at each time (None where it is
            not finite, e.g. where ȧ blows up).
        samples: n.
        confidence: the joint level of the bounds.
        method: one line on how the bounds were obtained.
        kind: ``"estimate"`` (statistical, asymptotic).
    """

    times: tuple[float, ...]
    estimate: tuple[float, ...]
    upper: tuple[float, ...]
    std_error: tuple[float, ...]
    irreducible: tuple[float | None, ...]
    samples: int
    confidence: float
    method: str
    kind: str = "estimate"

    def to_dict(self) -> dict:
        return {"times": list(self.times), "estimate": list(self.estimate), "upper": list(self.upper),
                "std_error": list(self.std_error), "irreducible": list(self.irreducible), "samples": self.samples,
                "confidence": self.confidence, "method": self.method, "kind": self.kind}


def schedule_values(flow, times: Sequence[float]) -> np.ndarray:
    """``(a, b, ȧ, ḃ)`` at the times, (4, m) float64 (nan where a value is not finite).

    Raises:
        NumericError: the schedule has symbolic parameters.
    """
    s = flow.schedule
    exprs = [s.a, s.b, s.da, s.db]
    free = set().union(*(as_expr(e).free_symbols for e in exprs)) - {T_SYM}
    if free:
        raise NumericError(f"the schedule has symbolic parameters {sorted(map(str, free))}; give them numbers")
    f = sympy.lambdify(T_SYM, exprs, "numpy")
    out = np.full((4, len(times)), np.nan)
    for i, tt in enumerate(times):
        with np.errstate(all="ignore"):
            try:
                vals = [complex(v) for v in f(float(tt))]
            except (ZeroDivisionError, OverflowError, ValueError):
                continue
        out[:, i] = [v.real if abs(v.imag) == 0 and math.isfinite(v.real) else np.nan for v in vals]
    return out


class InterpolationSampler:
    """Exact samples of ``p_t`` for a grid of times from one set of pairs ``(Z, X₁)``."""

    def __init__(self, flow, times: Sequence[float], n: int, *, seed: int) -> None:
        import jax

        d = flow_dim(flow)
        if n * d > MAX_ENTRIES:
            raise NumericError(f"n·d = {n}·{d} exceeds {MAX_ENTRIES}; use fewer samples")
        key = jax.random.PRNGKey(seed)
        kz, kx = jax.random.split(key)
        self.z = np.asarray(jax.random.normal(kz, (n, d), dtype="float64"))
        self.x1 = np.asarray(sample_target(flow, n, key=kx))
        self.times = tuple(float(x) for x in times)
        self.coef = schedule_values(flow, self.times)
        bad = [tt for tt, a, b in zip(self.times, self.coef[0], self.coef[1]) if not (math.isfinite(a) and math.isfinite(b))]
        if bad:
            raise NumericError(f"the schedule's a_t, b_t are not finite at t = {bad[0]:g}")

    def x(self, i: int, k: int | None = None) -> np.ndarray:
        """Samples of ``p_{t_i}`` (the first k)."""
        a, b = self.coef[0, i], self.coef[1, i]
        sl = slice(None) if k is None else slice(0, k)
        return a * self.z[sl] + b * self.x1[sl]


def _field_values(v, tt: float, x: np.ndarray) -> np.ndarray:
    out = np.concatenate([np.asarray(v(tt, x[i:i + CHUNK])) for i in range(0, len(x), CHUNK)])
    if not np.all(np.isfinite(out)):
        raise NumericError(f"the flow's exact field is not finite at t = {tt:g}")
    return out


def measure_error(flow, model: Model, times: Sequence[float], *, n: int, seed: int = 0,
                  confidence: float = 0.95, sampler: InterpolationSampler | None = None):
    """``ε(t)`` at the grid times with its upper confidence bounds.

    Returns:
        ``(ErrorProfile, InterpolationSampler)``; the sampler's points are reused for the Lipschitz estimate.

    Raises:
        NumericError: the model fails at some time (see :class:`~gifsym.numerics.models.Model`), or the
            exact field is not finite at a grid time.
    """
    from scipy.stats import t as student

    sampler = sampler or InterpolationSampler(flow, times, n, seed=seed)
    n = len(sampler.z)
    v = velocity_field(flow)
    m = len(sampler.times)
    q = float(student.ppf(1.0 - (1.0 - confidence) / m, n - 1))
    est, up, se, irr = [], [], [], []
    for i, tt in enumerate(sampler.times):
        x = sampler.x(i)
        exact = _field_values(v, tt, x)
        diff = model(tt, x) - exact
        w = np.sum(diff * diff, axis=1)
        mean = float(np.mean(w))
        s = float(np.std(w, ddof=1)) / math.sqrt(n)
        est.append(math.sqrt(mean))
        up.append(math.sqrt(mean + q * s))
        se.append(s)
        da, db = sampler.coef[2, i], sampler.coef[3, i]
        if math.isfinite(da) and math.isfinite(db):
            u = da * sampler.z + db * sampler.x1 - exact
            irr.append(float(np.mean(np.sum(u * u, axis=1))))
        else:
            irr.append(None)
    method = (f"Student-t upper bound on the mean of |model - v|^2 over {n} exact samples of p_t per time, "
              f"Bonferroni over {m} times (per-time level {1 - (1 - confidence) / m:.4g}); asymptotic (CLT)")
    prof = ErrorProfile(sampler.times, tuple(est), tuple(up), tuple(se), tuple(irr), int(n), float(confidence), method)
    return prof, sampler


__all__ = ["ErrorProfile", "InterpolationSampler", "measure_error", "schedule_values"]
