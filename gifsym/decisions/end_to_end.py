r"""End-to-end certificate: W₂ between the target and the law of a model **sampled with a given sampler on a
given grid** (lemma ``end-to-end``, docs/mathematics.md "End-to-end certificate").

Let ``Φ̃_k`` / ``Φ_k`` be one step of the sampler (an explicit Runge–Kutta method) with the model ``ṽ`` / the
exact field ``v`` from ``t_k`` to ``t_{k+1}``, ``Ŷ_{k+1} = Φ̃_k(Ŷ_k)`` the user's samples and
``X̂_{k+1} = Φ_k(X̂_k)`` the same sampler on the exact field, both from the same source point
``Ŷ_0 = X̂_0 ~ μ``. Then

.. math::

    Ŷ_{k+1} − X̂_{k+1} = \big[Φ_k(Ŷ_k) − Φ_k(X̂_k)\big] + \big[Φ̃_k − Φ_k\big](Ŷ_k),
    \qquad ‖Ŷ_N − X̂_N‖_{L²} \le \sum_k \Big(\prod_{j>k} \mathrm{Lip}\,Φ_j\Big)\, e_k,

with ``e_k = ‖(Φ̃_k − Φ_k)(Ŷ_k)‖_{L²}``, the one-step defect measured **along the model's own sampler
iterates**, and by the triangle inequality for W₂

.. math::

    W_2(\mathrm{Law}(Ŷ_N), ν) \le ‖Ŷ_N − X̂_N‖_{L²} + W_2(\mathrm{Law}(X̂_N), ν),

where the last term is the sampler plan's bound (:func:`gifsym.decisions.plan.plan`; certified for Gaussian
targets, an estimate for mixtures). ``Lip Φ_j`` is bounded from gifsym's derived spectral bounds
``ℓ_t I ≼ ∇v ≼ u_t I`` of the exact field (lemmas ``jacobian-upper``/``jacobian-lower``; the closed forms
evaluated at the stage times) by :func:`gifsym.decisions.mixture.lipschitz_bound`. ``e_k`` is a sampled
quantity (upper confidence bounds, :mod:`gifsym.numerics.trajectory_error`), so the whole certificate is an
``estimate`` at level ``confidence``; each term carries its own kind.

Example:
    >>> import numpy as np
    >>> from gifsym import GIF, schedule, target
    >>> flow = GIF(schedule("linear"), target("gaussian:sigma=0.5"))
    >>> c = certify_sampler(flow, flow.field(), sampler="euler", steps=10, n=256)
    >>> c.model_term  # the exact field: no defect at all
    0.0
    >>> c.w2_bound == c.discretisation.value, c.discretisation.kind
    (True, 'certified')
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from gifsym.decisions.mixture import MixtureModel, lipschitz_bound
from gifsym.decisions.plan import W2Bound, plan
from gifsym.decisions.samplers import sampler as get_sampler
from gifsym.errors import GifsymError, NumericError

#: Default model trajectories for the defects (and for the realised W₂ when asked).
DEFAULT_TRAJECTORIES = 4096
_ORDER = {"exact": 0, "certified": 1, "estimate": 2}


def weakest(*kinds: str) -> str:
    """The weakest of some kinds (``exact`` < ``certified`` < ``estimate``).

    Example:
        >>> weakest("exact", "certified", "estimate")
        'estimate'
    """
    return max(kinds, key=_ORDER.__getitem__)


@dataclass(frozen=True)
class SamplerCertificate:
    """A bound on ``W₂(law of the model's sampler output, ν)`` and its terms (module docstring).

    Attributes:
        sampler, grid: the sampler and its grid.
        w2_bound: the smaller of ``routes``: ``triangle`` = ``model_term + discretisation.value`` and
            ``exact-propagation`` = ``Σ_k e^{∫_{t_{k+1}}^1 u} ‖Φ̃_k(Ŷ_k) − Ψ_k(Ŷ_k)‖`` (module docstring).
        route: which one it is.
        kind: the weakest of the terms' kinds.
        model_term: ``Σ_k (Π_{j>k} Lip Φ_j) e_k`` with the upper confidence bounds of ``e_k``.
        model_term_kind: ``estimate`` (sampled defects).
        model_term_estimate: the same sum with the defects' point estimates.
        defects: ``e_k`` (point estimates), ``defects_upper`` their upper confidence bounds.
        step_lipschitz: ``Lip Φ_k`` bounds; ``step_lipschitz_kind``: ``exact`` (derived closed forms) or
            ``estimate`` (spectrum estimated where gifsym derives none).
        discretisation: the plan's bound on ``W₂(Law(X̂_N), ν)`` (:class:`~gifsym.decisions.plan.W2Bound`).
        confidence, samples: the level of the defects' bounds and the trajectories used.
        realised_w2: ``(w2, noise)`` of the sampler's own samples against the target (POT), when asked.
        notes: what the bound rests on.
        timing: seconds per part.
    """

    schedule: str
    target: str
    sampler: str
    grid: tuple[float, ...]
    w2_bound: float
    kind: str
    model_term: float
    model_term_kind: str
    model_term_estimate: float
    defects: tuple[float, ...]
    defects_upper: tuple[float, ...]
    step_lipschitz: tuple[float, ...]
    step_lipschitz_kind: str
    discretisation: W2Bound
    confidence: float
    samples: int
    realised_w2: object | None
    notes: tuple[str, ...]
    timing: tuple[tuple[str, float], ...] = ()
    route: str = "triangle"
    routes: dict | None = None
    local_errors: tuple[float, ...] | None = None
    local_errors_upper: tuple[float, ...] | None = None
    exact_propagation_estimate: float | None = None

    @property
    def consistent(self) -> bool | None:
        """``w2_bound ≥ realised − 2 × noise`` (None when not measured; see
        :mod:`gifsym.numerics.wasserstein`)."""
        return None if self.realised_w2 is None else self.w2_bound >= self.realised_w2.w2 - self.realised_w2.slack

    def to_dict(self) -> dict:
        return {"schedule": self.schedule, "target": self.target, "sampler": self.sampler, "grid": list(self.grid),
                "w2_bound": self.w2_bound, "kind": self.kind,
                "terms": {"model": {"value": self.model_term, "kind": self.model_term_kind,
                                    "estimate": self.model_term_estimate},
                          "discretisation": self.discretisation.to_dict()},
                "defects": list(self.defects), "defects_upper": list(self.defects_upper),
                "step_lipschitz": list(self.step_lipschitz), "step_lipschitz_kind": self.step_lipschitz_kind,
                "confidence": self.confidence, "samples": self.samples,
                "realised_w2": None if self.realised_w2 is None else self.realised_w2.to_dict(),
                "consistent": self.consistent, "notes": list(self.notes), "timing": dict(self.timing),
                "route": self.route, "routes": dict(self.routes or {}),
                "local_errors": None if self.local_errors is None else list(self.local_errors),
                "local_errors_upper": None if self.local_errors_upper is None else list(self.local_errors_upper),
                "exact_propagation_estimate": self.exact_propagation_estimate}

    def __str__(self) -> str:
        lines = [f"certify {self.schedule} -> {self.target}, sampled with {self.sampler} on {len(self.grid) - 1} steps",
                 f"  W2(sampler output, target) <= {self.w2_bound:.6g}  [{self.kind}, confidence {self.confidence:g}]",
                 f"  route {self.route}; " + ", ".join(f"{k} {v:.6g}" for k, v in (self.routes or {}).items()),
                 "  triangle route's terms:",
                 f"    model term {self.model_term:.6g} [{self.model_term_kind}] (point estimate "
                 f"{self.model_term_estimate:.6g})",
                 f"    + exact-field discretisation {self.discretisation.value:.6g} [{self.discretisation.kind}, "
                 f"route {self.discretisation.route}]"]
        if self.realised_w2 is not None:
            r = self.realised_w2
            lines.append(f"  realised W2 {r.w2:.4g} (sampling noise {r.noise:.4g}; {r.samples} samples): "
                         f"bound / realised = {self.w2_bound / r.w2 if r.w2 > 0 else math.inf:.3g}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def certify_sampler(flow, model: Callable, *, sampler: str = "heun", steps: int | None = None,
                    grid: str | Sequence[float] = "uniform", n: int = DEFAULT_TRAJECTORIES, seed: int = 0,
                    confidence: float = 0.95, realised: bool = False,
                    backend: str | None = None) -> SamplerCertificate:
    """Bound ``W₂`` between the target and the model sampled with ``sampler`` on a grid (module docstring).

    Args:
        flow: a :class:`gifsym.GIF` with an exact field finite on [0, 1].
        model: ``model(t, x)`` → (n, d) (NumPy, JAX or torch).
        sampler: ``"euler"``, ``"heun"``, ``"midpoint"`` or ``"rk4"``.
        steps: the number of steps (with a named grid).
        grid: ``"uniform"`` (default), another named grid of :func:`~gifsym.decisions.plan.plan`, or the times.
        n: model trajectories (for the defects, and the realised W₂).
        seed, confidence: PRNG seed; level of the defects' upper confidence bounds (Bonferroni over steps).
        realised: also measure W₂ between the n sampler outputs and n target samples (POT), with its noise.
        backend: force the model's backend.

    Raises:
        GifsymError: bad options (NumericError for the model's failures).
    """
    from gifsym.numerics.certify import _check_flow
    from gifsym.numerics.fields import enable_x64
    from gifsym.numerics.models import adapt
    from gifsym.numerics.trajectory_error import comparison, exact_rate, sampler_defects
    from gifsym.numerics.wasserstein import realised_from_samples

    clock = [time.perf_counter()]
    enable_x64()
    d = _check_flow(flow)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 2 <= n <= 5_000_000:
        raise NumericError(f"n must be an integer in [2, 5000000], got {n!r}")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise NumericError(f"confidence must be in (0, 1), got {confidence!r}")
    if isinstance(grid, str) and steps is None:
        raise GifsymError("give steps (the number of sampler steps) with a named grid")
    p = plan(flow, sampler=sampler, steps=steps, grid=grid)
    if p.grid[0] != 0.0 or p.grid[-1] != 1.0:
        raise GifsymError("the end-to-end certificate needs a grid from 0 to 1")
    clock.append(time.perf_counter())
    method = get_sampler(sampler)
    g = np.asarray(p.grid)
    mix = MixtureModel.of(flow)
    lip = lipschitz_bound(method.name, g[:-1], np.diff(g), mix.spectrum)
    lip_kind = "exact" if mix.derived_spectrum else "estimate"
    clock.append(time.perf_counter())
    m = adapt(model, dim=d, backend=backend)
    rate = exact_rate(flow, g)
    tr = sampler_defects(flow, m, g, [float(c) for c in method.c], [float(a) for a in method.a],
                         [float(w) for w in method.w], n=int(n), seed=int(seed), confidence=float(confidence),
                         local=rate is not None)
    clock.append(time.perf_counter())
    up = np.asarray(tr.error.upper)
    term = comparison([lip], [up])[0]
    term_est = comparison([lip], [np.asarray(tr.error.estimate)])[0]
    routes = {"triangle": term + p.w2_bound.value}
    if rate is not None:
        carry = np.exp(np.asarray(rate.tail[1:]))  # Lip of the exact flow from t_{k+1} to 1
        routes["exact-propagation"] = float(np.sum(carry * np.asarray(tr.local.upper)))
        prop_est = float(np.sum(carry * np.asarray(tr.local.estimate)))
    real = realised_from_samples(flow, tr.end, seed=int(seed), solver=f"{method.name}, {len(g) - 1} steps") \
        if realised else None
    clock.append(time.perf_counter())
    route = min(routes, key=routes.__getitem__)
    bound = routes[route]
    kind = weakest("estimate", lip_kind, p.w2_bound.kind) if route == "triangle" else weakest("estimate", rate.kind)
    notes = (
        "W2(Law Y_N, nu) <= ||Y_N - X_N||_L2 + W2(Law X_N, nu): Y the model's sampler, X the same sampler on the "
        "exact field from the same source point (synchronous coupling); the second term is the sampler plan's",
        f"model term: sum_k (prod_(j>k) Lip Phi_j) e_k, e_k the one-step defect along the model's own samples: "
        f"{tr.error.method}",
        "Lip Phi_j from gifsym's derived spectral bounds of the exact field's Jacobian at the stage times"
        if lip_kind == "exact" else "Lip Phi_j from an estimated spectrum of the exact field's Jacobian",
        "two routes, each bounding W2 alone (the smaller is used; each sampled term at level 1 - (1 - confidence)/2, "
        "Bonferroni): 'triangle' (above) and 'exact-propagation': sum_k exp(int_(t_k+1)^1 u) "
        "||Phi~_k(Y_k) - Psi_k(Y_k)||_L2, Psi_k the exact flow over step k (RK4 sub-steps), u gifsym's derived "
        "one-sided constant of the exact field (closed form, integrated by quadrature)",
        f"sampled defects cannot see a region of small mass: with confidence {confidence:g} only regions of mass "
        f"above -ln(1 - confidence)/n = {-math.log(1 - confidence) / int(n):.3g} hold one of the n = {int(n)} "
        "trajectories; the bound says nothing about the model's error on a smaller region",
    )
    names = ("plan", "step Lipschitz bounds", "defects along the model's samples", "realised W2")
    timing = tuple((k, round(b - a, 6)) for k, a, b in zip(names, clock[:-1], clock[1:]))
    return SamplerCertificate(
        schedule=flow.schedule.spec, target=flow.target.spec, sampler=method.name, grid=tuple(map(float, g)),
        w2_bound=float(bound), kind=kind, model_term=float(term), model_term_kind="estimate",
        model_term_estimate=float(term_est), defects=tr.error.estimate, defects_upper=tr.error.upper,
        step_lipschitz=tuple(float(x) for x in lip), step_lipschitz_kind=lip_kind, discretisation=p.w2_bound,
        confidence=float(confidence), samples=int(n), realised_w2=real, notes=notes, timing=timing, route=route,
        routes=routes, local_errors=None if tr.local is None else tr.local.estimate,
        local_errors_upper=None if tr.local is None else tr.local.upper,
        exact_propagation_estimate=prop_est if rate is not None else None)





def certify(flow, model: Callable, *, sampler: str | None = None, steps: int | None = None,
            grid: str | Sequence[float] | None = None, lipschitz=None, n: int | None = None,
            times: int | Sequence[float] | None = None, seed: int = 0, confidence: float = 0.95,
            lipschitz_samples: int | None = None, one_sided: bool = False, realised: bool | int = False,
            backend: str | None = None, route: str = "best", trajectories: int | None = None):
    """``gifsym.certify``: without ``sampler``, the bound for the model's exact flow
    (:func:`gifsym.numerics.certify.certify`, all options as there); with ``sampler`` and ``steps`` or
    ``grid``, the end-to-end bound for the model sampled that way (:func:`certify_sampler`; ``n`` is the
    number of trajectories, and the exact-flow options ``lipschitz``, ``times``, … do not apply).

    Raises:
        GifsymError: options of the other mode given (NumericError for a failing model).
    """
    from gifsym.numerics import certify as flow_certify

    if sampler is None:
        if steps is not None or grid is not None:
            raise GifsymError("steps and grid describe a sampler: give sampler too (e.g. sampler='heun')")
        return flow_certify.certify(
            flow, model, lipschitz=lipschitz, n=flow_certify.DEFAULT_SAMPLES if n is None else n,
            times=flow_certify.DEFAULT_TIMES if times is None else times, seed=seed, confidence=confidence,
            lipschitz_samples=flow_certify.DEFAULT_LIPSCHITZ_SAMPLES if lipschitz_samples is None else lipschitz_samples,
            one_sided=one_sided, realised=realised, backend=backend, route=route, trajectories=trajectories)
    unused = [k for k, v in (("lipschitz", lipschitz), ("times", times), ("lipschitz_samples", lipschitz_samples),
                             ("trajectories", trajectories)) if v is not None] + (["one_sided"] if one_sided else [])
    if unused or route != "best":
        raise GifsymError(f"{', '.join(unused or ['route'])} apply to the model's exact flow, not to a sampler")
    if isinstance(realised, (int, np.integer)) and not isinstance(realised, bool) and realised:
        raise GifsymError("with a sampler, realised is True or False (the n trajectories are measured)")
    return certify_sampler(flow, model, sampler=sampler, steps=steps, grid="uniform" if grid is None else grid,
                           n=DEFAULT_TRAJECTORIES if n is None else n, seed=seed, confidence=confidence,
                           realised=bool(realised), backend=backend)
__all__ = ["DEFAULT_TRAJECTORIES", "SamplerCertificate", "certify", "certify_sampler", "weakest"]
