r"""Certify a learned velocity field: a bound on how far its flow's samples are from the target in W₂.

The theorem (lemma ``velocity-stability``, math.md §6; Grönwall): if the model ``ṽ`` is ``C_t``-Lipschitz
in x and ``Y`` is its flow from the flow's source μ, then

.. math::

    W_2\big((Y_{0,1})_\#\mu, \nu\big) \le \int_0^1 e^{\int_t^1 C_s\,ds}\, \varepsilon(t)\, dt,
    \qquad \varepsilon(t) = \|v(t,\cdot) - \tilde v(t,\cdot)\|_{L^2(p_t)},

where v is the exact velocity of the flow (known in closed form for Gaussian and Gaussian-mixture
targets). :func:`certify` evaluates the right-hand side on a time grid ``0 = t_0 < … < t_m = 1``:

1. ``ε(t_i)`` from exact samples of ``p_{t_i}`` with an upper confidence bound
   (:mod:`gifsym.numerics.l2_error`; asymptotic, Bonferroni over the grid);
2. ``C_t`` given, certified (a model given as MLP weights) or estimated (:mod:`gifsym.numerics.lipschitz`),
   and the weights ``W(t) = exp ∫_t^1 C_s ds``;
3. the integral of ``g = W·ε`` by the **upper sum** ``Σ max(g_i, g_{i+1}) (t_{i+1} − t_i)``, which bounds
   the integral whenever g is monotone between consecutive grid points. That cannot be checked from grid
   values, so the certificate reports the same sum on every second grid point beside it (a refinement
   check: a change of more than :data:`REFINEMENT_WARN` relative is flagged in ``notes``), and the
   trapezoid rule with the point estimates (``w2_estimate``: the theorem's integral without safety
   margins);
4. on request (``realised``) the W₂ the model actually achieves, measured by simulating its flow
   (:mod:`gifsym.numerics.wasserstein`), with the sampling noise of that measurement beside it.

Every ingredient says how it is known; ``kind`` is ``estimate`` as soon as one ingredient is (the
confidence bounds on ε always are: a finite-sample bound on the mean of an unbounded variable needs tail
information a model does not give), so a certificate is a statistical statement at level ``confidence``,
conditional on its Lipschitz constant (exact for ``given``/``certified``, an estimate otherwise) and on the
grid resolving the integrand.

Two routes (docs/mathematics.md, "Certificates"). The above is route 1, ``model-lipschitz``. Route 2,
``exact-field`` (lemma ``velocity-stability-exact-field``), splits the other way: with ``u_t`` the exact field's
one-sided constant (gifsym's derived upper Jacobian bound, a closed form) and the error measured **along the
model's own flow** ``e_Y(t) = ‖(ṽ − v)(t, Y_t)‖_{L²}`` (:mod:`gifsym.numerics.trajectory_error`),
``W₂ ≤ ∫ e^{∫_t^1 u} e_Y(t) dt``. Both bound the same ``‖Y_t − X_t‖``, so with ``route="best"`` (default) they
are combined interval by interval by the comparison recursion (lemma ``stability-comparison``); the
certificate reports each alone (``w2_bound_model_lipschitz``, ``w2_bound_exact_field``) and which route each
interval used (``chosen``). Each error profile then gets half the error probability (Bonferroni).

The other direction, :func:`error_budget`: given a tolerance on W₂ and ``C_t``, the errors a model must
meet: pointwise ``ε(t) ≤ tol / W(t)`` (each time its equal share), a constant ``ε ≤ tol / ∫W``, or in mean
square (Cauchy–Schwarz) ``∫ε² ≤ tol² / ∫W²`` — the excess flow-matching loss a training run may leave.

Example:
    >>> import numpy as np
    >>> from gifsym import GIF, schedule, target
    >>> flow = GIF(schedule("linear"), target("gaussian:sigma=1"))
    >>> v = flow.field()
    >>> cert = certify(flow, lambda t, x: np.asarray(v(t, x)) + 0.01, lipschitz=1.0, n=256, times=11)
    >>> round(cert.w2_bound_model_lipschitz, 6)  # ε = 0.01 exactly: 0.01 × the upper sum of e^{1−t} on 10 intervals
    0.018056
    >>> round(cert.w2_bound, 6)  # both routes: the exact-field one wins; its integral 0.01 ∫ s_t^{-1/2} = 0.012465 is W₂
    0.013066
    >>> round(0.01 * (np.e - 1), 6), round(cert.w2_estimate, 6)  # the integral, and the trapezoid estimate
    (0.017183, 0.017197)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from gifsym.errors import NumericError
from gifsym.numerics.fields import enable_x64
from gifsym.numerics.fm_loss import PerDimensionLoss, model_loss, per_dimension
from gifsym.numerics.l2_error import ErrorProfile, InterpolationSampler, measure_error
from gifsym.numerics.lipschitz import LipschitzProfile, given_lipschitz, resolve_lipschitz
from gifsym.numerics.models import adapt
from gifsym.numerics.simulate import endpoints, flow_dim
from gifsym.numerics.trajectory_error import ExactRate, comparison, error_along_flow, exact_rate, interval_factors
from gifsym.numerics.wasserstein import RealisedW2, realised_w2, unseen_mass

#: Defaults: samples of p_t per time, grid times, points per time for the Lipschitz estimate, realised-W₂ size.
DEFAULT_SAMPLES = 4096
DEFAULT_TIMES = 41
DEFAULT_LIPSCHITZ_SAMPLES = 256
DEFAULT_REALISED = 1000
#: Relative change of the bound between the grid and every second point of it above which the grid is
#: flagged as not resolving the integrand.
REFINEMENT_WARN = 0.05
#: Most samples per time (memory: the sample arrays hold a few n·d float64).
MAX_SAMPLES = 5_000_000
#: The stability routes :func:`certify` can use (see "Two routes" in the module docstring).
ROUTES = ("best", "model-lipschitz", "exact-field")


def upper_sum(ts: Sequence[float], g: Sequence[float]) -> float:
    """``Σ max(g_i, g_{i+1}) (t_{i+1} − t_i)``: ≥ ``∫ g`` when g is monotone between grid points.

    Example:
        >>> upper_sum([0.0, 0.5, 1.0], [0.0, 1.0, 0.0])
        1.0
    """
    ts, g = np.asarray(ts, dtype=float), np.asarray(g, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        return float(np.sum(np.maximum(g[:-1], g[1:]) * np.diff(ts)))


def trapezoid(ts: Sequence[float], g: Sequence[float]) -> float:
    """The trapezoid rule.

    Example:
        >>> trapezoid([0.0, 0.5, 1.0], [0.0, 1.0, 0.0])
        0.5
    """
    with np.errstate(invalid="ignore", over="ignore"):
        return float(np.trapezoid(np.asarray(g, dtype=float), np.asarray(ts, dtype=float)))


def _coarse_indices(m: int) -> np.ndarray:
    idx = np.arange(0, m, 2)
    return idx if idx[-1] == m - 1 else np.append(idx, m - 1)


def _num(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class ErrorBudget:
    """The errors a model must meet for ``W₂ ≤ tolerance`` (see the module docstring).

    Attributes:
        tolerance: the W₂ tolerance.
        times: the grid.
        weights: ``W(t) = exp ∫_t^1 C``.
        per_time: ``tol / W(t)``: if ``ε(t_i) ≤ per_time[i]`` at every grid time (and ε·W is monotone
            between them), the bound is ≤ tol.
        constant: ``tol / Σ max(W_i, W_{i+1}) Δt``: a constant ε below it is enough.
        mean_square: ``tol² / Σ max(W_i², W_{i+1}²) Δt``: enough for ``∫ ε² dt`` (Cauchy–Schwarz).
        flow_matching_loss: the flow-matching loss (t uniform on [0, 1], regression target ``ȧZ + ḃX₁``) that
            leaves that mean square: the exact field's loss plus ``mean_square`` (None when the exact
            field's loss is unknown or infinite).
        lipschitz_how: how ``C_t`` was obtained.
        per_dimension: ``mean_square`` as the excess loss per dimension that torchcfm and flow_matching log
            (their ``.mean()``), with the minibatch size at which it shows (:mod:`gifsym.numerics.fm_loss`;
            None when d is not known).
    """

    tolerance: float
    times: tuple[float, ...]
    weights: tuple[float, ...]
    per_time: tuple[float, ...]
    constant: float
    mean_square: float
    flow_matching_loss: float | None
    lipschitz_how: str
    per_dimension: PerDimensionLoss | None = None

    def to_dict(self) -> dict:
        return {"tolerance": self.tolerance, "times": list(self.times), "weights": [_num(w) for w in self.weights],
                "per_time": list(self.per_time), "constant": self.constant, "mean_square": self.mean_square,
                "flow_matching_loss": _num(self.flow_matching_loss), "lipschitz_how": self.lipschitz_how,
                "per_dimension": None if self.per_dimension is None else self.per_dimension.to_dict()}

    def __str__(self) -> str:
        lines = [f"error budget for W2 <= {self.tolerance:g} (C_t {self.lipschitz_how}):",
                 f"  constant eps(t) <= {self.constant:.4g}; mean square int eps^2 dt <= {self.mean_square:.4g}"]
        if self.flow_matching_loss is not None:
            lines.append(f"  i.e. flow-matching loss (t ~ U[0, 1]) <= {self.flow_matching_loss:.6g}")
        if self.per_dimension is not None:
            lines.append("  per dimension (the mean over dimensions torchcfm and flow_matching log): excess loss <= "
                         + self.per_dimension.describe())
        lines.append("  per time (equal shares): " + ", ".join(
            f"t={t:.3g}: {e:.3g}" for t, e in zip(self.times, self.per_time)))
        return "\n".join(lines)


def _budget(tolerance: float, lip: LipschitzProfile, irreducible: float | None, *, dim: int | None = None,
            std: float | None = None, confidence: float = 0.95) -> ErrorBudget:
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not (0 < tolerance < math.inf):
        raise NumericError(f"the W2 tolerance must be a positive number, got {tolerance!r}")
    ts = lip.times
    w = lip.weights()
    per_time = tuple(float(tolerance / x) for x in w)
    const = float(tolerance / upper_sum(ts, w))
    ms = float(tolerance**2 / upper_sum(ts, w * w))
    fm = None if irreducible is None else irreducible + ms
    pd = None if dim is None else per_dimension(excess_total=ms, dim=dim, floor_total=irreducible, std=std,
                                                confidence=confidence)
    return ErrorBudget(float(tolerance), ts, tuple(float(x) for x in w), per_time, const, ms, fm, lip.how, pd)


def error_budget(tolerance: float, *, lipschitz, times: int | Sequence[float] = DEFAULT_TIMES,
                 one_sided: bool = False, dim: int | None = None) -> ErrorBudget:
    """The error budget for ``W₂ ≤ tolerance`` given the model's Lipschitz constant (a number, a function of
    t, or a :class:`~gifsym.numerics.lipschitz.LipschitzProfile`); with ``dim``, also the mean square as an
    excess loss per dimension (without the batch size, which needs the loss's spread: see
    :meth:`Certificate.budget`).

    Example:
        >>> b = error_budget(0.1, lipschitz=1.0, times=3)
        >>> round(b.per_time[0], 6), round(b.per_time[-1], 6)  # tol·e^{−C(1−t)}
        (0.036788, 0.1)
    """
    lip = lipschitz if isinstance(lipschitz, LipschitzProfile) else given_lipschitz(lipschitz, _grid(times),
                                                                                   one_sided=one_sided)
    return _budget(tolerance, lip, None, dim=dim)


@dataclass(frozen=True)
class Certificate:
    """A bound on ``W₂(law of the model's samples, target)`` and its parts.

    Attributes:
        schedule, target: the flow's specs.
        dim: d.
        backend: the model's backend.
        times: the time grid.
        error: ``ε(t)``: estimates and upper confidence bounds (:class:`~gifsym.numerics.l2_error.ErrorProfile`).
        lipschitz: ``C_t`` and how it was obtained (:class:`~gifsym.numerics.lipschitz.LipschitzProfile`).
        weights: ``W(t) = exp ∫_t^1 C_s ds`` at the grid times.
        integrand: ``W(t) × (upper bound on ε(t))``.
        w2_bound: the bound (upper sum of the integrand); ``inf`` when the weights overflow.
        w2_estimate: the theorem's integral from the point estimates (trapezoid, central weights).
        w2_bound_coarse: the upper sum on every second grid time (the refinement check).
        w2_bound_cauchy_schwarz: ``(∫W²)^{1/2} (∫ε²)^{1/2}`` (upper sums; never smaller than the bound).
        confidence: the joint level of the ε bounds.
        kind: ``"estimate"`` when any ingredient is an estimate, else ``"certified"``.
        realised_w2: the measured W₂ and its sampling noise (when asked).
        notes: what the bound rests on, and warnings.
        model_call: how the model was called (e.g. ``model(x, t), t of shape (n,), float32 on cpu``).
        loss: the model's excess flow-matching loss per dimension (the peers' convention) with the batch size
            at which it shows (:class:`~gifsym.numerics.fm_loss.PerDimensionLoss`, an estimate).
        seed: the PRNG seed.
        wall_s: seconds taken.
    """

    schedule: str
    target: str
    dim: int
    backend: str
    times: tuple[float, ...]
    error: ErrorProfile
    lipschitz: LipschitzProfile
    weights: tuple[float, ...]
    integrand: tuple[float, ...]
    w2_bound: float
    w2_estimate: float
    w2_bound_coarse: float
    w2_bound_cauchy_schwarz: float
    confidence: float
    kind: str
    realised_w2: RealisedW2 | None
    notes: tuple[str, ...]
    model_call: str
    loss: PerDimensionLoss
    seed: int
    wall_s: float = 0.0
    route: str = "model-lipschitz"
    w2_bound_model_lipschitz: float = math.nan
    w2_bound_exact_field: float | None = None
    error_along_model: ErrorProfile | None = None
    exact_rate: ExactRate | None = None
    chosen: tuple[str, ...] = ()
    timing: tuple[tuple[str, float], ...] = ()

    @property
    def consistent(self) -> bool | None:
        """``w2_bound ≥ realised W₂ − 2 × noise`` (None when W₂ was not measured): the heuristic reference of
        :mod:`gifsym.numerics.wasserstein` (the largest of several two-sample draws, once per sampling term)."""
        if self.realised_w2 is None:
            return None
        return self.w2_bound >= self.realised_w2.w2 - self.realised_w2.slack

    @property
    def unseen_mass(self) -> float:
        """The p_t-mass a region may have and be missed by all n samples of ε(t) at one grid time, at level
        ``1 − confidence``: ``−ln(1 − confidence)/n``. The model's error there is invisible to the bound."""
        return unseen_mass(self.error.samples, 1 - self.confidence)

    @property
    def refinement_change(self) -> float:
        """``(coarse − fine) / fine`` of the upper sum."""
        if not (math.isfinite(self.w2_bound) and self.w2_bound > 0):
            return 0.0
        return (self.w2_bound_coarse - self.w2_bound) / self.w2_bound

    def budget(self, tolerance: float) -> ErrorBudget:
        """The error budget for ``W₂ ≤ tolerance`` with this certificate's ``C_t`` (and the exact field's
        flow-matching loss measured on its samples); per dimension, with the batch size at which the allowed
        excess shows computed from this model's loss spread s (a model on the budget has about the same)."""
        irr = self.error.irreducible
        fm = trapezoid(self.times, irr) if all(x is not None for x in irr) else None
        return _budget(tolerance, self.lipschitz, fm if fm is not None and math.isfinite(fm) else None,
                       dim=self.dim, std=self.loss.std, confidence=self.confidence)

    def to_dict(self) -> dict:
        """A JSON-ready dict; ``null`` in ``w2_bound``, ``weights`` and ``integrand`` means +∞ (overflow)."""
        return {
            "schedule": self.schedule, "target": self.target, "dim": self.dim, "backend": self.backend,
            "model_call": self.model_call, "loss_per_dimension": self.loss.to_dict(),
            "times": list(self.times), "w2_bound": _num(self.w2_bound), "kind": self.kind,
            "confidence": self.confidence, "w2_estimate": _num(self.w2_estimate),
            "w2_bound_coarse": _num(self.w2_bound_coarse), "refinement_change": self.refinement_change,
            "w2_bound_cauchy_schwarz": _num(self.w2_bound_cauchy_schwarz),
            "error": self.error.to_dict(), "lipschitz": self.lipschitz.to_dict(),
            "weights": [_num(w) for w in self.weights], "integrand": [_num(g) for g in self.integrand],
            "realised_w2": None if self.realised_w2 is None else self.realised_w2.to_dict(),
            "consistent": self.consistent, "unseen_mass": self.unseen_mass, "notes": list(self.notes),
            "seed": self.seed, "wall_s": self.wall_s, "route": self.route,
            "w2_bound_model_lipschitz": _num(self.w2_bound_model_lipschitz),
            "w2_bound_exact_field": _num(self.w2_bound_exact_field),
            "error_along_model": None if self.error_along_model is None else self.error_along_model.to_dict(),
            "exact_rate": None if self.exact_rate is None else {
                "expr": self.exact_rate.expr, "values": list(self.exact_rate.values),
                "sup": list(self.exact_rate.sup), "kind": self.exact_rate.kind},
            "chosen": list(self.chosen), "timing": dict(self.timing),
        }

    def __str__(self) -> str:
        lines = [f"certify {self.schedule} -> {self.target} (d = {self.dim}, {self.backend} model)",
                 f"  W2(model samples, target) <= {self.w2_bound:.6g}  [{self.kind}, confidence {self.confidence:g}]",
                 f"  central estimate {self.w2_estimate:.6g}; on every second grid time {self.w2_bound_coarse:.6g}"
                 f"; Cauchy-Schwarz form {self.w2_bound_cauchy_schwarz:.6g}",
                 f"  route: {self.route}; model-Lipschitz route {self.w2_bound_model_lipschitz:.6g}, exact-field "
                 f"route " + ("n/a" if self.w2_bound_exact_field is None else f"{self.w2_bound_exact_field:.6g}"),
                 f"  Lipschitz constant: {self.lipschitz.how} ({self.lipschitz.method})"]
        if self.realised_w2 is not None:
            r = self.realised_w2
            ratio = self.w2_bound / r.w2 if r.w2 > 0 else math.inf
            lines.append(f"  realised W2 {r.w2:.4g} (sampling noise {r.noise:.4g}, the largest of "
                         f"{len(r.noise_draws) or 1} draws; {r.samples} samples): bound / realised = {ratio:.3g}; "
                         + ("consistent" if self.consistent else "INCONSISTENT") + " (bound >= realised - 2 noise)")
        lines.append(f"  blind spot: eps(t) is sampled ({self.error.samples} points per time): a region of mass up "
                     f"to {self.unseen_mass:.3g} may hold no sample (confidence {self.confidence:g}), and an error "
                     "of the model there is not in the bound")
        lines.append(f"  model called as {self.model_call}")
        lines.append("  flow-matching loss, mean over dimensions (as torchcfm and flow_matching log it): excess "
                     + self.loss.describe())
        lines.append("      t     eps_hat   eps_upper         C_t      weight   integrand")
        for i, tt in enumerate(self.times):
            lines.append(f"  {tt:5.3f}  {self.error.estimate[i]:10.4g}  {self.error.upper[i]:10.4g}  "
                         f"{self.lipschitz.values[i]:10.4g}  {self.weights[i]:10.4g}  {self.integrand[i]:10.4g}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _grid(times) -> tuple[float, ...]:
    if isinstance(times, (int, np.integer)) and not isinstance(times, bool):
        if times < 3:
            raise NumericError(f"times must be at least 3 grid points, got {times!r}")
        return tuple(float(x) for x in np.linspace(0.0, 1.0, int(times)))
    try:
        ts = tuple(float(x) for x in times)
    except (TypeError, ValueError):
        raise NumericError(f"times must be a number of grid points or a list of times, got {times!r}") from None
    if len(ts) < 3 or ts[0] != 0.0 or ts[-1] != 1.0 or any(b <= a for a, b in zip(ts, ts[1:])):
        raise NumericError("a time grid must be increasing, start at 0, end at 1 and have at least 3 points; "
                           f"got {list(ts)[:6]}{'...' if len(ts) > 6 else ''}")
    return ts


def _check_flow(flow) -> int:
    if not hasattr(flow, "schedule") or not hasattr(flow, "target"):
        raise NumericError(f"certify needs a flow (gifsym.GIF), got {type(flow).__name__}")
    if getattr(flow.target, "law", None) is None:
        raise NumericError(f"certify needs the exact velocity field, which target {flow.target.spec!r} does not "
                           "have; use a gaussian or gmm target")
    d = flow_dim(flow)
    finite0, finite1 = endpoints(flow)
    if not (finite0 and finite1):
        raise NumericError("certify integrates the error over [0, 1], but the exact field is not finite at "
                           f"t = {'0' if not finite0 else '1'} for this flow")
    return d


def certify(flow, model: Callable, *, lipschitz=None, n: int = DEFAULT_SAMPLES,
            times: int | Sequence[float] = DEFAULT_TIMES, seed: int = 0, confidence: float = 0.95,
            lipschitz_samples: int = DEFAULT_LIPSCHITZ_SAMPLES, one_sided: bool = False,
            realised: bool | int = False, backend: str | None = None, route: str = "best",
            trajectories: int | None = None) -> Certificate:
    r"""Bound ``W₂((Y_{0,1})_# μ, ν)`` for the flow Y of a velocity model (see the module docstring).

    Args:
        flow: a :class:`gifsym.GIF` with an exact target (Gaussian or Gaussian mixture).
        model: ``model(t, x)`` → (n, d): a NumPy, JAX or torch callable (or a
            :class:`~gifsym.numerics.mlp.MLPVelocity`).
        lipschitz: None (certified for an MLPVelocity, else estimated), ``"certified"``, ``"estimate"``, a
            number, or a function of t.
        n: exact samples of ``p_t`` per grid time.
        times: number of equally spaced grid times on [0, 1], or the grid itself.
        seed: PRNG seed.
        confidence: joint level of the upper confidence bounds on ε.
        lipschitz_samples: points per time for an estimated Lipschitz constant.
        one_sided: use one-sided Lipschitz constants (largest eigenvalue of the symmetric part of ∇ṽ).
        realised: also simulate the model's flow and measure W₂ to the target (True: with
            :data:`DEFAULT_REALISED` samples; an integer: that many).
        backend: force the model's backend (``"numpy"``, ``"jax"``, ``"torch"``).
        route: ``"best"`` (both routes, combined step by step), ``"model-lipschitz"`` or ``"exact-field"``.
        trajectories: model trajectories for the exact-field route's error (default: n).

    Returns:
        A :class:`Certificate`.

    Raises:
        NumericError: a bad option, a flow without an exact field on [0, 1], or a failing model (it raises,
            returns the wrong shape or non-finite values).
    """
    start = time.perf_counter()
    enable_x64()
    d = _check_flow(flow)
    ts = _grid(times)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 2 <= n <= MAX_SAMPLES:
        raise NumericError(f"n must be an integer in [2, {MAX_SAMPLES}], got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise NumericError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise NumericError(f"confidence must be in (0, 1), got {confidence!r}")
    if isinstance(lipschitz_samples, bool) or not isinstance(lipschitz_samples, (int, np.integer)) or lipschitz_samples < 1:
        raise NumericError(f"lipschitz_samples must be a positive integer, got {lipschitz_samples!r}")
    if realised is True:
        n_real = DEFAULT_REALISED
    elif realised is False or realised is None:
        n_real = 0
    elif isinstance(realised, (int, np.integer)) and realised >= 2:
        n_real = int(realised)
    else:
        raise NumericError(f"realised must be True/False or a number of samples >= 2, got {realised!r}")

    if route not in ROUTES:
        raise NumericError(f"route must be one of {', '.join(ROUTES)}; got {route!r}")
    n_traj = int(n) if trajectories is None else trajectories
    if isinstance(n_traj, bool) or not isinstance(n_traj, (int, np.integer)) or not 2 <= n_traj <= MAX_SAMPLES:
        raise NumericError(f"trajectories must be an integer in [2, {MAX_SAMPLES}], got {trajectories!r}")

    clock = [("setup", time.perf_counter())]
    m = adapt(model, dim=d, backend=backend)
    # Both routes need ε at level confidence jointly: each gets half of the error probability (Bonferroni).
    conf_each = float(confidence) if route != "best" else 1.0 - (1.0 - float(confidence)) / 2
    sampler = InterpolationSampler(flow, ts, int(n), seed=int(seed))
    err, sampler = measure_error(flow, m, ts, n=int(n), confidence=conf_each, sampler=sampler)
    clock.append(("error at exact samples", time.perf_counter()))
    k = min(int(lipschitz_samples), int(n))
    lip = resolve_lipschitz(lipschitz, m, ts, lambda i: sampler.x(i, k), one_sided=bool(one_sided))
    clock.append(("model Lipschitz", time.perf_counter()))
    rate = exact_rate(flow, ts) if route != "model-lipschitz" else None
    if route == "exact-field" and rate is None:
        raise NumericError("the exact-field route needs gifsym's derived bound on the exact field's Jacobian, which "
                           "is not finite on [0, 1] for this flow; use route='model-lipschitz'")
    along = None
    if rate is not None:
        along = error_along_flow(flow, m, ts, n=n_traj, seed=int(seed), confidence=conf_each).error
    clock.append(("error along the model's flow", time.perf_counter()))

    w = lip.weights()
    loss = model_loss(err, m, sampler, dim=d, confidence=float(confidence))
    with np.errstate(invalid="ignore", over="ignore"):
        g = w * np.asarray(err.upper)
        g_central = lip.weights_central() * np.asarray(err.estimate)
    bound = upper_sum(ts, g)
    # 0·∞ (an exact model under overflowing weights) is 0: nan only arises that way.
    bound = 0.0 if math.isnan(bound) else bound
    est = trapezoid(ts, np.nan_to_num(g_central, nan=0.0))
    idx = _coarse_indices(len(ts))
    coarse_lip = LipschitzProfile(tuple(ts[i] for i in idx), tuple(lip.values[i] for i in idx), lip.how, lip.method,
                                  lip.one_sided, lip.constant, lip.enclosure, lip.samples, lip.function)
    with np.errstate(invalid="ignore", over="ignore"):
        coarse = upper_sum(coarse_lip.times, coarse_lip.weights() * np.asarray(err.upper)[idx])
        cs = math.sqrt(upper_sum(ts, w * w)) * math.sqrt(upper_sum(ts, np.asarray(err.upper) ** 2))
    coarse = 0.0 if math.isnan(coarse) else coarse
    cs = 0.0 if math.isnan(cs) else cs
    lip_bound = bound

    def routes_on(ix):
        """Per-interval (factor, error) rows of the available routes on the sub-grid ``ix``."""
        t_sub = np.asarray(ts)[ix]
        h = np.diff(t_sub)
        rows, names = [], []
        if route != "exact-field":
            c = np.asarray(lip.values)[ix]
            f, gg = interval_factors(np.maximum(c[:-1], c[1:]), h)
            e = np.asarray(err.upper)[ix]
            rows.append((f, gg * np.maximum(e[:-1], e[1:])))
            names.append("model-lipschitz")
        if rate is not None:
            vals = np.asarray(rate.values)[ix]
            # the sup over a coarse interval: the largest of the fine sups inside it and the end values
            sup = np.array([max(max(rate.sup[a:b]), vals[j], vals[j + 1]) for j, (a, b) in enumerate(zip(ix[:-1], ix[1:]))])
            f, gg = interval_factors(sup, h)
            e = np.asarray(along.upper)[ix]
            rows.append((f, gg * np.maximum(e[:-1], e[1:])))
            names.append("exact-field")
        return rows, names

    exact_only = None
    chosen_names: tuple[str, ...] = ()
    if rate is not None:
        full = np.arange(len(ts))
        rows, names = routes_on(full)
        phi, chosen = comparison([r[0] for r in rows], [r[1] for r in rows])
        exact_only = comparison([rows[-1][0]], [rows[-1][1]])[0]
        chosen_names = tuple(names[c] for c in chosen)
        rows_c, _ = routes_on(idx)
        phi_coarse = comparison([r[0] for r in rows_c], [r[1] for r in rows_c])[0]
        if route == "exact-field" or phi < bound:
            bound, coarse = phi, phi_coarse
    used = ("exact-field" if route == "exact-field" else
            "model-lipschitz" if rate is None or bound == lip_bound else "best")

    clock.append(("bound", time.perf_counter()))
    real = realised_w2(flow, m, n=n_real, seed=int(seed)) if n_real else None
    clock.append(("realised W2", time.perf_counter()))
    timing = tuple((name, round(t1 - t0, 6)) for (_, t0), (name, t1) in zip(clock[:-1], clock[1:]))
    # A given constant is taken as stated, so the bound is as good as its other ingredients.
    kind = "estimate" if "estimate" in (err.kind, lip.how) or along is not None else "certified"

    notes = [f"eps(t) at exact samples of p_t: {err.method}",
             f"C_t: {lip.how}; {lip.method}",
             "time integral: upper sum max(g_i, g_i+1) dt, a bound where W(t) eps(t) is monotone between grid times"]
    if rate is not None:
        notes.append("exact-field route: u_t = " + rate.expr + " (gifsym's derived upper Jacobian bound, exact; its sup "
                     "on each interval from 65 evaluations), error along the model's own flow: "
                     + along.method)
        if route == "best":
            notes.append(f"both routes combined step by step (comparison recursion), each at level {conf_each:g} "
                         f"(Bonferroni: jointly {confidence:g}); exact-field route alone {exact_only:.6g}, "
                         f"model-Lipschitz route alone {lip_bound:.6g}")
    cert_tmp_change = (coarse - bound) / bound if math.isfinite(bound) and bound > 0 else 0.0
    if abs(cert_tmp_change) > REFINEMENT_WARN:
        notes.append(f"WARNING: on every second grid time the bound changes by {100 * cert_tmp_change:+.1f}%: the "
                     "grid does not resolve the integrand; use more times")
    if not math.isfinite(bound):
        notes.append("the Gronwall weight exp(int C) overflows: the bound is +infinity (JSON null)")
    b0 = float(sampler.coef[1, 0])
    if b0 != 0.0:
        notes.append(f"b_0 = {b0:.3g} > 0: the bound is for the model's flow started from the exact source "
                     "Law(a_0 Z + b_0 X_1); starting from N(0, a_0^2 I) adds the source-stability term")
    notes.append(f"sampled errors cannot see a region of small mass: with confidence {confidence:g}, only regions "
                 f"of p_t-mass above -ln(1 - confidence)/n = {unseen_mass(int(n), 1 - float(confidence)):.3g} "
                 f"hold one of the n = {int(n)} samples at each time; the bound says nothing about the model's "
                 "error on a region of smaller mass")
    if real is not None and not (bound >= real.w2 - real.slack):
        notes.append(f"WARNING: the realised W2 {real.w2:.4g} exceeds the bound by more than twice the sampling noise "
                     f"{real.noise:.4g} (the largest of {len(real.noise_draws)} draws): an ingredient labelled "
                     "estimate is probably wrong (most likely C_t), or the model errs where the samples are few")
    return Certificate(
        schedule=flow.schedule.spec, target=flow.target.spec, dim=d, backend=m.backend, times=ts, error=err,
        model_call=m.calling, loss=loss,
        lipschitz=lip, weights=tuple(float(x) for x in w), integrand=tuple(float(x) for x in g), w2_bound=bound,
        w2_estimate=est, w2_bound_coarse=coarse, w2_bound_cauchy_schwarz=cs, confidence=float(confidence),
        kind=kind, realised_w2=real, notes=tuple(notes), seed=int(seed), wall_s=time.perf_counter() - start,
        route=used, w2_bound_model_lipschitz=lip_bound, w2_bound_exact_field=exact_only, error_along_model=along,
        exact_rate=rate, chosen=chosen_names, timing=timing)


__all__ = ["DEFAULT_LIPSCHITZ_SAMPLES", "DEFAULT_REALISED", "DEFAULT_SAMPLES", "DEFAULT_TIMES", "REFINEMENT_WARN",
           "Certificate", "ErrorBudget", "certify", "error_budget", "trapezoid", "upper_sum"]
