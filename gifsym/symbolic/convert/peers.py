r"""Peer libraries' schedules as gifsym schedules, and gifsym schedules as peers' objects.

gifsym's convention is ``X_t = a_t Z + b_t X_1``, noise at t = 0 and data at t = 1. The peers write the same
paths differently; :data:`CONVENTIONS` records how (the conventions page of the docs is generated from it),
and :data:`PEER_CLASSES` how each supported class is read:

* **flow_matching** (Meta): ``x_t = α_t x_1 + σ_t x_0``, ``x_0`` the noise, t from noise to data. So
  ``b = α``, ``a = σ``, same t. Its schedulers return ``(α, σ, α', σ')`` from ``__call__(t)``.
* **diffusers** flow matching (``FlowMatchEulerDiscreteScheduler``, SD3/FLUX): ``x = σ ε + (1 − σ) x_0``
  with σ from 1 (noise) to 0 (data), and the shift ``σ' = shift·σ / (1 + (shift − 1)·σ)``. So ``u = 1 − t``,
  ``a = σ'(u)``, ``b = 1 − σ'(u)``; the model predicts ``ε − x_0 = v / ȧ_t``.
* **diffusers** DDPM/DDIM: ``x_k = √ᾱ_k x_0 + √(1 − ᾱ_k) ε``, ``ᾱ_k = Π_{i≤k} (1 − β_i)``, k = 0 the least
  noisy. Their continuous-time limit is a VP schedule with ``u = (k + 1)/N = 1 − t``
  (``ddpm`` / ``ddpm-scaled`` in the catalogue; a *limit*, flagged so, with the discretisation stated).
* **torchcfm**: ``x_t = μ_t + σ_t ε`` with ``μ_t`` mixing ``x_0`` (noise) and ``x_1`` (data); the noise
  coefficient is ``a = √(c_0(t)² + σ_t²)`` (two independent Gaussians), ``b`` the coefficient of ``x_1``.

:func:`from_peer` identifies an object by its class (module and name) and reads its parameters; no peer
package is imported by gifsym for that. :func:`to_peer` imports the peer package (only then) to build its
object.

Example:
    >>> [c.spec for c in PEER_CLASSES if c.peer == "flow_matching"]
    ['fm-condot', 'fm-poly', 'fm-vp', 'fm-linear-vp', 'fm-cosine']
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sympy

from gifsym.errors import ConvertError, GifsymError
from gifsym.symbolic.convert import arguments
from gifsym.symbolic.schedule import MAX_TIMESTEPS, Schedule, catalogue_entry, schedule, t


@dataclass(frozen=True)
class Convention:
    """How one peer library writes a Gaussian path (one row of the conventions page).

    Attributes:
        peer: the package name (``import`` name).
        path: its formula for the path.
        a, b: what plays gifsym's noise coefficient ``a_t`` and data coefficient ``b_t``.
        time: its time variable against gifsym's t.
        model: what its model predicts, in gifsym's parameterisations
            (:mod:`gifsym.symbolic.convert.parameterizations`).
    """

    peer: str
    path: str
    a: str
    b: str
    time: str
    model: str


#: The peers' conventions against gifsym's ``X_t = a_t Z + b_t X_1`` (noise at t = 0).
CONVENTIONS: tuple[Convention, ...] = (
    Convention("flow_matching", "x_t = alpha_t x_1 + sigma_t x_0 (x_0 noise, x_1 data)", "sigma_t", "alpha_t",
               "t (same direction: 0 noise, 1 data)", "velocity u_t(x) = v(t, x); also x_1 and epsilon "
               "(AffineProbPath.*_to_velocity = parameterization(..., 'x1' | 'epsilon', 'velocity'))"),
    Convention("diffusers (flow matching)", "x = sigma eps + (1 - sigma) x_0, sigma' = shift sigma/(1 + (shift - 1) "
               "sigma)", "sigma'(1 - t)", "1 - sigma'(1 - t)", "u = sigma = 1 - t (1 noise, 0 data); timestep = "
               "1000 sigma'", "eps - x_0 = v(t, x) / a'_t (velocity in the noise level, with the opposite sign)"),
    Convention("diffusers (DDPM/DDIM)", "x_k = sqrt(abar_k) x_0 + sqrt(1 - abar_k) eps, abar_k = prod_{i<=k} "
               "(1 - beta_i)", "sqrt(1 - abar)", "sqrt(abar)", "step k = 0..N-1 is t = 1 - (k + 1)/N "
               "(continuous-time limit)", "prediction_type 'epsilon' = epsilon, 'sample' = x1, 'v_prediction' = "
               "v-prediction"),
    Convention("torchcfm", "x_t = mu_t + sigma_t eps, mu_t = c_0(t) x_0 + c_1(t) x_1 (x_0 noise)",
               "sqrt(c_0(t)^2 + sigma_t^2)", "c_1(t)", "t (same direction)",
               "u_t = E[conditional flow | x_t] = v(t, x)"),
    Convention("score-SDE / EDM", "x_s = mean(s) x_0 + std(s) n (VP, VE); EDM: x = y + sigma n", "std(1 - t); "
               "EDM: sigma(t)", "mean(1 - t); EDM: 1", "s = 1 - t (0 data, 1 noise); EDM: sigma from sigma_max at t = 0 "
               "to sigma_min at t = 1", "score = score; EDM's D(x; sigma) = x1"),
)


@dataclass(frozen=True)
class PeerClass:
    """One supported peer class: where it lives, the gifsym spec it becomes and how its parameters are read.

    Attributes:
        peer: the package (``flow_matching``, ``diffusers``, ``torchcfm``).
        name: the class name.
        spec: the gifsym catalogue name it becomes (see ``reader`` for variants).
        parameters: ``(gifsym parameter, where the peer keeps it)``, for the docs.
        kind: ``"exact"`` (the same continuous path) or ``"limit"`` (continuous-time limit of a discrete one).
        time: the peer's time in gifsym's t.
        reader: ``obj -> (spec name, parameters, notes)``.
    """

    peer: str
    name: str
    spec: str
    parameters: tuple[tuple[str, str], ...]
    kind: str
    time: str
    reader: Callable[[Any], tuple[str, dict[str, Any], tuple[str, ...]]]


@dataclass(frozen=True)
class PeerSchedule:
    """What gifsym reads from a peer's schedule object.

    Attributes:
        peer, cls: the package and class name.
        schedule: the gifsym schedule (``spec`` rebuilds it without the package).
        kind: ``"exact"`` or ``"limit"`` (a discrete schedule's continuous-time limit).
        time: the peer's time in gifsym's t.
        discretisation: for a discrete peer, how its grid sits in [0, 1] and what the limit neglects.
        notes: everything else worth knowing (settings that only move the sampler's steps, prediction type).
    """

    peer: str
    cls: str
    schedule: Schedule
    kind: str
    time: str
    discretisation: str | None
    notes: tuple[str, ...]

    @property
    def spec(self) -> str:
        return self.schedule.spec


def _number(obj: Any, name: str, value: Any) -> int | float:
    """A plain Python number from a peer attribute (floats, ints, NumPy or 0-d torch values)."""
    if hasattr(value, "item") and callable(value.item):
        try:
            value = value.item()
        except (TypeError, ValueError, RuntimeError):
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConvertError(f"{type(obj).__name__}.{name} = {value!r} is not a finite number")
    return value


# -- readers --------------------------------------------------------------------------------------------


def _fm_poly(obj):
    return "fm-poly", {"n": _number(obj, "n", obj.n)}, ()


def _fm_vp(obj):
    return "fm-vp", {"beta_min": _number(obj, "beta_min", obj.beta_min),
                     "beta_max": _number(obj, "beta_max", obj.beta_max)}, ()


def _flow_match_euler(obj, *, mu: float | None = None, image_seq_len: int | None = None):
    cfg = obj.config
    notes = []
    for key in ("invert_sigmas", "shift_terminal"):
        if getattr(cfg, key, None):
            raise ConvertError(f"FlowMatchEulerDiscreteScheduler with {key}={getattr(cfg, key)!r} rescales the "
                               "discrete grid; gifsym reads the plain (shifted) path only")
    if getattr(cfg, "stochastic_sampling", False):
        notes.append("stochastic_sampling changes the sampler, not the path")
    for key in ("use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas"):
        if getattr(cfg, key, False):
            notes.append(f"{key} changes only where the sampler steps (set_timesteps), not the training path")
    notes.append("diffusers' model predicts eps - x_0 = v(t, x)/a'(t) (velocity in the noise level sigma, "
                 "opposite sign)")
    if not getattr(cfg, "use_dynamic_shifting", False):
        if mu is not None or image_seq_len is not None:
            raise ConvertError("mu= and image_seq_len= are for schedulers with use_dynamic_shifting=True; this one "
                               "has a fixed shift")
        return "sd3", {"shift": _number(obj, "shift", obj.shift)}, tuple(notes)
    if (mu is None) == (image_seq_len is None):
        raise ConvertError("this FlowMatchEulerDiscreteScheduler shifts by resolution (use_dynamic_shifting): pass "
                           "the mu of your image size, from_peer(scheduler, mu=...), or its image_seq_len= (mu as "
                           "diffusers' calculate_shift computes it from the scheduler's config)")
    kind = getattr(cfg, "time_shift_type", "exponential")
    if kind == "linear":  # sigma' = mu/(mu + (1/sigma - 1)): the sd3 path with shift = mu
        if image_seq_len is not None:
            raise ConvertError("image_seq_len= is for time_shift_type='exponential'; pass mu= for 'linear'")
        return "sd3", {"shift": _number(obj, "mu", mu)}, (*notes, "dynamic shifting (linear): shift = mu")
    if kind != "exponential":
        raise ConvertError(f"FlowMatchEulerDiscreteScheduler with time_shift_type={kind!r} is not supported; "
                           "accepted: exponential, linear")
    if mu is not None:
        return "sd3", {"mu": _number(obj, "mu", mu)}, (*notes, "dynamic shifting (exponential): shift = e^mu")
    seq = _number(obj, "image_seq_len", image_seq_len)
    params = {"image_seq_len": seq, "base_shift": _number(obj, "base_shift", cfg.base_shift),
              "max_shift": _number(obj, "max_shift", cfg.max_shift),
              "base_seq_len": _number(obj, "base_image_seq_len", cfg.base_image_seq_len),
              "max_seq_len": _number(obj, "max_image_seq_len", cfg.max_image_seq_len)}
    return "flux", params, (*notes, "dynamic shifting (exponential): shift = e^mu, mu from image_seq_len as "
                            "diffusers' calculate_shift")


_PREDICTS = {"epsilon": "epsilon", "sample": "x1", "v_prediction": "v-prediction"}
# Settings of the DDPM-family schedulers that only place the sampler's steps (not the training path).
_SAMPLING_ONLY = ("use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas", "use_lu_lambdas")


def _ddpm(obj):
    """DDPM, DDIM, Euler, DPM-Solver++ and UniPC share diffusers' betas -> alphas_cumprod: the training path
    is x_k = √ᾱ_k x_0 + √(1 − ᾱ_k) ε whatever the sampler (Euler's σ = √((1 − ᾱ)/ᾱ) is the same path
    divided by √ᾱ)."""
    cfg = obj.config
    name = type(obj).__name__
    if getattr(cfg, "trained_betas", None) is not None:
        raise ConvertError(f"{name} with trained_betas has no closed form; gifsym reads linear, scaled_linear "
                           "and squaredcos_cap_v2 betas (build yours with gifsym.schedule(a=..., b=...))")
    for key in ("use_flow_sigmas", "use_dynamic_shifting"):
        if getattr(cfg, key, False):
            raise ConvertError(f"{name} with {key}=True samples a flow-matching model, whose training path its "
                               f"betas do not describe; use the spec of that model's path (e.g. "
                               f"sd3:shift={getattr(cfg, 'flow_shift', 1.0)} for flow_shift, or from_peer of "
                               "its FlowMatchEulerDiscreteScheduler)")
    zero_snr = bool(getattr(cfg, "rescale_betas_zero_snr", False))
    kinds = {"linear": "ddpm", "scaled_linear": "ddpm-scaled", "squaredcos_cap_v2": "ddpm-cosine"}
    if cfg.beta_schedule not in kinds:
        raise ConvertError(f"{name} with beta_schedule={cfg.beta_schedule!r} is not supported; accepted: "
                           f"{', '.join(kinds)}")
    prediction = getattr(cfg, "prediction_type", "epsilon")
    notes = [f"prediction_type={prediction!r}: the model predicts {_PREDICTS.get(prediction, '?')} "
             "(gifsym.convert.parameterization)"]
    if name == "DDIMScheduler" and getattr(cfg, "set_alpha_to_one", False):
        notes.append("set_alpha_to_one only sets the sampler's final step to alpha = 1")
    for key in _SAMPLING_ONLY:
        if getattr(cfg, key, False):
            notes.append(f"{key} changes only where the sampler steps (gifsym.convert.sampling_grid), not the "
                         "training path")
    notes.append(f"timestep_spacing={getattr(cfg, 'timestep_spacing', '?')!r} only places the sampler's steps "
                 "(gifsym.convert.sampling_grid)")
    if cfg.beta_schedule == "squaredcos_cap_v2":
        if zero_snr:
            notes.append("rescale_betas_zero_snr moves only the clipped last step: the cosine path already has "
                         "b_0 = 0")
        return "ddpm-cosine", {}, tuple(notes)
    params = {"beta_start": _number(obj, "beta_start", cfg.beta_start),
              "beta_end": _number(obj, "beta_end", cfg.beta_end),
              "timesteps": arguments.count(cfg.num_train_timesteps, where=f"{name}.config.num_train_timesteps")}
    if zero_snr:
        raise ConvertError(_zero_snr_refusal(name, kinds[cfg.beta_schedule], params))
    return kinds[cfg.beta_schedule], params, tuple(notes)


def zero_snr_b(spec_name: str, params: dict[str, Any]) -> sympy.Expr:
    """b_t of diffusers' rescale_betas_zero_snr in its continuous-time limit (exact, in t).

    rescale_zero_terminal_snr (Lin et al. 2024, Algorithm 1) shifts √ᾱ so that the last step is 0 and scales
    it so that the first keeps its value; with √ᾱ → b(t) = e^{−B(1−t)/2} (the ddpm / ddpm-scaled limit) and
    the first step → t = 1: ``b = (b(t) − b(0)) / (1 − b(0))``; ``a = √(1 − b²)`` (still VP).
    """
    b = schedule(spec_name, **params).b
    b0 = b.subs(t, 0)
    return (b - b0) / (1 - b0)


def _zero_snr_refusal(name: str, spec_name: str, params: dict[str, Any]) -> str:
    b = sympy.sstr(zero_snr_b(spec_name, params))
    a = f"sqrt(1 - ({b})**2)"
    return (f"{name} with rescale_betas_zero_snr=True: its continuous-time limit is the VP path b = (exp(-B(s)/2) - "
            f"exp(-B(1)/2))/(1 - exp(-B(1)/2)), a = sqrt(1 - b^2), s = 1 - t, with B of {spec_name} (b_0 = 0: SNR 0 "
            "at the noise end). gifsym has no catalogue name for it yet (simplifying its Wronskian, which the assumption proofs need, takes minutes); build it "
            f"as gifsym schedule --a \"{a}\" --b \"{b}\"")


def _edm_euler(obj):
    cfg = obj.config
    lo, hi = _number(obj, "sigma_min", cfg.sigma_min), _number(obj, "sigma_max", cfg.sigma_max)
    notes = ("EDM trains on sigma drawn log-normally; the path x = y + sigma n is the same for every time "
             "parameterisation, and gifsym's t is Karras's sampling time (sigma_max at t = 0, sigma_min at t = 1)",
             f"prediction_type={getattr(cfg, 'prediction_type', 'epsilon')!r}, sigma_data="
             f"{getattr(cfg, 'sigma_data', '?')} (preconditioning, not the path)")
    if cfg.sigma_schedule != "karras":
        a = f"{hi!r}*({lo!r}/{hi!r})**t"
        raise ConvertError(f"EDMEulerScheduler with sigma_schedule={cfg.sigma_schedule!r}: its log-linear sigma is "
                           f"the EDM path with a = {a}, b = 1: gifsym schedule --a \"{a}\" --b 1 (Python: "
                           f"gifsym.schedule(a=\"{a}\", b=\"1\"))")
    return "edm", {"sigma_min": lo, "sigma_max": hi, "rho": _number(obj, "rho", cfg.rho)}, notes


def _schrodinger_bridge(obj):
    sigma = _number(obj, "sigma", obj.sigma)
    a = f"sqrt((1 - t)**2 + {sigma!r}**2*t*(1 - t))"
    raise ConvertError(f"torchcfm's SchrodingerBridgeConditionalFlowMatcher pairs noise and data by an optimal-"
                       f"transport plan (ot_method={getattr(obj, 'ot_method', '?')!r}, entropic regularisation "
                       "2 sigma^2), so its marginal flow is not a GIF (that needs independent noise and data). Its "
                       "per-pair path is x_t = t x_1 + (1 - t) x_0 + sigma sqrt(t (1 - t)) eps: a Brownian bridge "
                       "whose noise vanishes at both ends (not cfm's constant sigma). With independent pairs it "
                       f"would be the GIF with a = {a}, b = t: gifsym schedule --a \"{a}\" --b t "
                       f"(Python: gifsym.schedule(a=\"{a}\", b=\"t\"))")


def _coupled(obj):
    raise ConvertError(f"torchcfm's {type(obj).__name__} pairs noise and data by an optimal-transport plan, so its "
                       "marginal flow is not a GIF (that needs independent noise and data); its per-pair path is "
                       f"cfm:sigma={getattr(obj, 'sigma', 0)} (ConditionalFlowMatcher)")


_FM_TIME = "t (same)"
_UTIME = "sigma = u = 1 - t"

#: Every supported peer class (the conventions page's tables are generated from this).
PEER_CLASSES: tuple[PeerClass, ...] = (
    PeerClass("flow_matching", "CondOTScheduler", "fm-condot", (), "exact", _FM_TIME,
              lambda o: ("fm-condot", {}, ())),
    PeerClass("flow_matching", "PolynomialConvexScheduler", "fm-poly", (("n", "n"),), "exact", _FM_TIME, _fm_poly),
    PeerClass("flow_matching", "VPScheduler", "fm-vp", (("beta_min", "beta_min"), ("beta_max", "beta_max")),
              "exact", _FM_TIME, _fm_vp),
    PeerClass("flow_matching", "LinearVPScheduler", "fm-linear-vp", (), "exact", _FM_TIME,
              lambda o: ("fm-linear-vp", {}, ())),
    PeerClass("flow_matching", "CosineScheduler", "fm-cosine", (), "exact", _FM_TIME,
              lambda o: ("fm-cosine", {}, ())),
    PeerClass("diffusers", "FlowMatchEulerDiscreteScheduler", "sd3 / flux", (("shift", "shift"),
              ("mu", "from_peer(obj, mu=...) with use_dynamic_shifting"), ("image_seq_len", "from_peer(obj, "
              "image_seq_len=...): flux with config.base_shift, max_shift, base/max_image_seq_len")), "exact",
              _UTIME, _flow_match_euler),
    PeerClass("diffusers", "DDPMScheduler", "ddpm / ddpm-scaled", (("beta_start", "config.beta_start"),
              ("beta_end", "config.beta_end"), ("timesteps", "config.num_train_timesteps")), "limit",
              "step k is t = 1 - (k + 1)/N", _ddpm),
    PeerClass("diffusers", "DDIMScheduler", "ddpm / ddpm-scaled", (("beta_start", "config.beta_start"),
              ("beta_end", "config.beta_end"), ("timesteps", "config.num_train_timesteps")), "limit",
              "step k is t = 1 - (k + 1)/N", _ddpm),
    *(PeerClass("diffusers", cls, "ddpm / ddpm-scaled / ddpm-cosine / ddpm-zero-snr / ddpm-scaled-zero-snr",
                (("beta_start", "config.beta_start"), ("beta_end", "config.beta_end"),
                 ("timesteps", "config.num_train_timesteps")), "limit",
                "step k is t = 1 - (k + 1)/N; sampling sigmas by SNR (sampling_grid)", _ddpm)
      for cls in ("EulerDiscreteScheduler", "DPMSolverMultistepScheduler", "UniPCMultistepScheduler")),
    PeerClass("diffusers", "EDMEulerScheduler", "edm", (("sigma_min", "config.sigma_min"),
              ("sigma_max", "config.sigma_max"), ("rho", "config.rho")), "exact",
              "sigma(t) Karras (sigma_max at t = 0)", _edm_euler),
    PeerClass("torchcfm", "ConditionalFlowMatcher", "cfm", (("sigma", "sigma"),), "exact", _FM_TIME,
              lambda o: ("cfm", {"sigma": _number(o, "sigma", o.sigma)}, ())),
    PeerClass("torchcfm", "TargetConditionalFlowMatcher", "condot", (("sigma_min", "sigma"),), "exact", _FM_TIME,
              lambda o: ("condot", {"sigma_min": _number(o, "sigma", o.sigma)}, ())),
    PeerClass("torchcfm", "VariancePreservingConditionalFlowMatcher", "cfm-vp", (("sigma", "sigma"),), "exact",
              _FM_TIME, lambda o: ("cfm-vp", {"sigma": _number(o, "sigma", o.sigma)}, ())),
    PeerClass("torchcfm", "ExactOptimalTransportConditionalFlowMatcher", "(refused: OT coupling)", (), "-",
              _FM_TIME, _coupled),
    PeerClass("torchcfm", "SchrodingerBridgeConditionalFlowMatcher", "(refused: OT coupling; noise "
              "sigma sqrt(t(1 - t)))", (), "-", _FM_TIME, _schrodinger_bridge),
)

_BY_KEY = {(c.peer, c.name): c for c in PEER_CLASSES}


def _discretisation(spec_name: str, params: dict[str, Any]) -> str | None:
    if spec_name == "ddpm-cosine":
        return ("DDPM step k = 0..N-2 is t_k = 1 - (k + 1)/N with abar_k = b(t_k)^2 exactly (the betas "
                "telescope); the last beta is clipped to 0.999, so abar_{N-1} = 0.001 abar_{N-2}, not b(0)^2 = 0")
    if spec_name in ("ddpm", "ddpm-scaled"):
        n = params["timesteps"]
        return (f"DDPM step k = 0..{n - 1} is t_k = 1 - (k + 1)/{n}; abar_k = prod_(i<=k) (1 - beta_i) is "
                f"exp(-B(u_k)) up to sum_i [-log(1 - beta_i) - beta_i] <= sum_i beta_i^2/(2(1 - beta_i)) and the "
                "Riemann-sum error of sum_i beta_i against the integral B (see ddpm_log_alpha_bar_bound)")
    if spec_name in ("sd3", "flux"):
        return ("training sigmas are sigma'(u_k) at u_k = k/N, k = 1..N (N = num_train_timesteps), in float32; the "
                "path in between is the same formula")
    return None


def peer_info(obj: Any, *, mu: float | None = None, image_seq_len: int | None = None) -> PeerSchedule:
    """Read a peer library's schedule object (see :data:`PEER_CLASSES`).

    Args:
        obj: an instance of a supported class (flow_matching scheduler, diffusers scheduler, torchcfm matcher).
        mu: for a diffusers ``FlowMatchEulerDiscreteScheduler`` with ``use_dynamic_shifting``, the mu of the
            resolution: ``sd3:mu=...`` (shift = e^mu, kept exact), or ``sd3:shift=mu`` for
            ``time_shift_type="linear"``.
        image_seq_len: instead of ``mu``, the image's sequence length: ``flux:image_seq_len=...`` with the
            scheduler's base_shift, max_shift, base_image_seq_len and max_image_seq_len (mu as diffusers'
            ``calculate_shift``).

    Raises:
        ConvertError: the object is not of a supported class (a subclass is refused too: it may change the
            formulas), or uses a setting gifsym does not translate.
    """
    if mu is not None:
        mu = arguments.real(mu, where="peer_info(mu=...)")
    cls = type(obj)
    key = (cls.__module__.split(".")[0], cls.__name__)
    entry = _BY_KEY.get(key)
    if entry is None:
        for base in cls.__mro__[1:]:
            known = _BY_KEY.get((base.__module__.split(".")[0], base.__name__))
            if known is not None:
                raise ConvertError(f"{cls.__name__} is a subclass of {known.peer}'s {known.name}; gifsym reads only "
                                   "the library's own classes (a subclass may change the formulas): build it with "
                                   "gifsym.schedule(a=..., b=...)")
        accepted = ", ".join(f"{c.peer}.{c.name}" for c in PEER_CLASSES if c.kind != "-")
        raise ConvertError(f"from_peer does not know {cls.__module__}.{cls.__name__}; accepted: {accepted}")
    if entry.reader is not _flow_match_euler and (mu is not None or image_seq_len is not None):
        raise ConvertError(f"mu= and image_seq_len= are only for diffusers' FlowMatchEulerDiscreteScheduler, "
                           f"not {cls.__name__}")
    try:
        name, params, notes = (_flow_match_euler(obj, mu=mu, image_seq_len=image_seq_len)
                               if entry.reader is _flow_match_euler else entry.reader(obj))
    except AttributeError as e:  # an object of that name without the library's attributes (another version?)
        raise ConvertError(f"{cls.__name__} lacks an attribute gifsym reads ({e}); is it {entry.peer}'s own "
                           "class, of a supported version?") from None
    try:
        sch = schedule(name, **params)
    except GifsymError as e:
        raise ConvertError(f"{cls.__name__}: {e}") from None
    kind = "exact" if name == "ddpm-cosine" else entry.kind  # ᾱ_k telescopes to the formula (see its entry)
    return PeerSchedule(entry.peer, entry.name, sch, kind, entry.time, _discretisation(name, params), notes)


def from_peer(obj: Any, *, mu: float | None = None, image_seq_len: int | None = None) -> Schedule:
    """The gifsym schedule of a peer library's schedule object (see :func:`peer_info` for the details and
    the flags: a DDPM/DDIM scheduler gives its continuous-time limit)."""
    return peer_info(obj, mu=mu, image_seq_len=image_seq_len).schedule


def _timesteps(n: Any) -> int:
    """A number of timesteps, checked before anything of that length is allocated or looped over."""
    if isinstance(n, bool) or not isinstance(n, numbers.Real) or not 1 <= n <= MAX_TIMESTEPS or int(n) != n:
        raise ConvertError(f"timesteps={n!r:.40} must be an integer from 1 to {MAX_TIMESTEPS}")
    return int(n)


def ddpm_log_alpha_bar_bound(beta_start: float, beta_end: float, timesteps: int, *,
                             scaled: bool = False) -> list[float]:
    r"""A rigorous bound ``E_k ≥ |log ᾱ_k + B(u_k)|`` for every DDPM step k (``u_k = (k + 1)/N``): the gap
    between the discrete schedule and its continuous-time limit ``b_t² = e^{−B(1−t)}``.

    ``log ᾱ_k + B = (Σ_{i≤k} β_i − B(u_k)) + Σ_{i≤k} (log(1 − β_i) + β_i)``; the first term is computed in
    exact rational arithmetic (the betas are those of the spec, exact decimals), the second is bounded by
    ``Σ β_i²/(2(1 − β_i))`` (from ``−log(1 − β) − β = Σ_{j≥2} β^j/j``). For ``scaled`` the betas are squares
    of irrational numbers; their sums are then evaluated with 50-digit mpmath and the bound padded by 1e-30.
    """
    from fractions import Fraction

    import mpmath

    for label, beta in (("beta_start", beta_start), ("beta_end", beta_end)):
        if not 0 <= arguments.real(beta, where=f"ddpm_log_alpha_bar_bound({label}=...)") < 1:
            raise ConvertError(f"ddpm_log_alpha_bar_bound({label}={beta!r}): a DDPM beta lies in [0, 1)")
    n = _timesteps(arguments.count(timesteps, where="ddpm_log_alpha_bar_bound(timesteps=...)", minimum=2))
    scaled = arguments.flag(scaled, where="ddpm_log_alpha_bar_bound(scaled=...)")
    bs, be = Fraction(str(beta_start)), Fraction(str(beta_end))
    out = []
    if not scaled:
        total = Fraction(0)
        with mpmath.workdps(50):
            quad = mpmath.mpf(0)
            for k in range(n):
                beta = bs + (be - bs) * Fraction(k, n - 1)
                total += beta  # exact: the denominators divide that of (be - bs)/(n - 1)
                # 50 digits, padded by 1e-30 below: an exact sum of these terms has denominators that grow
                # with k (quadratic time); n ≤ MAX_TIMESTEPS roundings of 1e-50 stay far below the padding.
                quad += mpmath.mpf(beta.numerator) ** 2 / (2 * beta.denominator * (beta.denominator - beta.numerator))
                u = Fraction(k + 1, n)
                B = n * bs * u + n * (be - bs) * u * u / 2
                out.append(float(abs(total - B) + quad + mpmath.mpf(10) ** -30) * (1 + 1e-15))
        return out
    with mpmath.workdps(50):
        c, d = mpmath.sqrt(mpmath.mpf(bs.numerator) / bs.denominator), None
        d = mpmath.sqrt(mpmath.mpf(be.numerator) / be.denominator) - c
        total = quad = mpmath.mpf(0)
        for k in range(n):
            beta = (c + d * mpmath.mpf(k) / (n - 1)) ** 2
            total += beta
            quad += beta**2 / (2 * (1 - beta))
            u = mpmath.mpf(k + 1) / n
            B = n * (c**2 * u + c * d * u**2 + d**2 * u**3 / 3)
            out.append(float(abs(total - B) + quad + mpmath.mpf(10) ** -30) * (1 + 1e-15))
    return out


# -- to_peer ----------------------------------------------------------------------------------------------


def _numeric(s: Schedule, peer: str) -> None:
    if s.free_parameters:
        raise ConvertError(f"to_peer(..., {peer!r}) needs numeric parameters; {s.spec} has "
                           f"{sorted(map(str, s.free_parameters))}")


@lru_cache(maxsize=1)
def _flow_matching_class():
    """gifsym's flow_matching ``Scheduler`` subclass (flow_matching and torch imported here, on demand)."""
    import torch
    from flow_matching.path.scheduler.scheduler import Scheduler, SchedulerOutput

    class GifsymScheduler(Scheduler):
        """A flow_matching scheduler whose α, σ and derivatives are gifsym's b, a, ḃ, ȧ (lambdified)."""

        def __init__(self, sched: Schedule) -> None:
            self.schedule = sched
            self._values = sympy.lambdify(t, (sched.b, sched.a, sched.db, sched.da),
                                          modules=[{"erf": torch.erf}, "torch"])
            self._snr = sympy.lambdify(t, sched.snr, modules=[{"erf": torch.erf}, "torch"])

        def __call__(self, t_in: torch.Tensor) -> SchedulerOutput:
            vals = [v if isinstance(v, torch.Tensor) else torch.full_like(t_in, float(v))
                    for v in self._values(t_in)]
            return SchedulerOutput(alpha_t=vals[0], sigma_t=vals[1], d_alpha_t=vals[2], d_sigma_t=vals[3])

        def snr_inverse(self, snr: torch.Tensor) -> torch.Tensor:
            # t with α_t/σ_t = snr: gifsym's SNR inverse (exact where SymPy found it, else bisection).
            from gifsym.symbolic.convert.snr import snr_inverse

            inv = snr_inverse(self.schedule)
            out = inv.at(snr.detach().cpu().double().numpy())
            return torch.as_tensor(out, dtype=snr.dtype, device=snr.device)

        def __repr__(self) -> str:
            return f"GifsymScheduler({self.schedule.spec})"

    return GifsymScheduler


def _param(s: Schedule, name: str) -> float:
    return float(dict(s.params)[name])


@dataclass(frozen=True)
class ToPeerRule:
    """Which gifsym schedules :func:`to_peer` turns into which peer object (the docs' reverse direction).

    Attributes:
        peer: the package.
        specs: the gifsym schedule names accepted (``"*"``: any schedule).
        builds: the object built, in words.
        build: ``(schedule, timesteps) -> object`` (imports the peer).
    """

    peer: str
    specs: tuple[str, ...]
    builds: str
    build: Callable[[Schedule, int], Any]


def _fm_build(s: Schedule, n: int) -> Any:
    return _flow_matching_class()(s)


def _flow_match_euler_build(s: Schedule, n: int) -> Any:
    import diffusers

    if s.name in ("cfm", "condot") and any(v != 0 for _, v in s.params):
        raise ConvertError(f"{s.spec} has a_1 > 0; FlowMatchEulerDiscreteScheduler's path ends at a_1 = 0")
    # sd3 / flux: a/b = shift (1 - t)/t, so the shift is a/b at t = 1/2 (whichever parameters gave it)
    shift = float((s.a / s.b).subs(t, sympy.Rational(1, 2))) if s.name in ("sd3", "flux") else 1.0
    return diffusers.FlowMatchEulerDiscreteScheduler(num_train_timesteps=n, shift=shift)


def _ddpm_build(s: Schedule, n: int) -> Any:
    import diffusers

    if s.name in ("ddpm", "ddpm-scaled"):
        return diffusers.DDPMScheduler(num_train_timesteps=int(_param(s, "timesteps")),
                                       beta_start=_param(s, "beta_start"), beta_end=_param(s, "beta_end"),
                                       beta_schedule="linear" if s.name == "ddpm" else "scaled_linear")
    # vp:beta_min, beta_max is the limit of linear betas beta_min/N .. beta_max/N
    return diffusers.DDPMScheduler(num_train_timesteps=n, beta_start=_param(s, "beta_min") / n,
                                   beta_end=_param(s, "beta_max") / n, beta_schedule="linear")


def _cfm_build(s: Schedule, n: int) -> Any:
    from torchcfm import conditional_flow_matching as cfm

    sigma = _param(s, "sigma") if s.name == "cfm" else 0.0
    return cfm.ConditionalFlowMatcher(sigma=sigma)


def _target_cfm_build(s: Schedule, n: int) -> Any:
    from torchcfm import conditional_flow_matching as cfm

    return cfm.TargetConditionalFlowMatcher(sigma=_param(s, "sigma_min"))


def _vp_cfm_build(s: Schedule, n: int) -> Any:
    from torchcfm import conditional_flow_matching as cfm

    sigma = _param(s, "sigma") if s.name == "cfm-vp" else 0.0
    return cfm.VariancePreservingConditionalFlowMatcher(sigma=sigma)


#: gifsym schedule -> peer object, per peer (the conventions page's reverse direction is generated from it).
TO_PEER_RULES: tuple[ToPeerRule, ...] = (
    ToPeerRule("flow_matching", ("*",), "a flow_matching Scheduler: __call__(t) -> SchedulerOutput(alpha_t=b, "
               "sigma_t=a, d_alpha_t=b', d_sigma_t=a') from the derived expressions; snr_inverse from gifsym",
               _fm_build),
    ToPeerRule("diffusers", ("sd3", "flux", "linear", "fm-condot", "cfm", "condot"),
               "FlowMatchEulerDiscreteScheduler(shift=shift, num_train_timesteps=N) (shift 1 for linear)",
               _flow_match_euler_build),
    ToPeerRule("diffusers", ("ddpm", "ddpm-scaled", "vp", "fm-vp"),
               "DDPMScheduler(beta_start, beta_end, beta_schedule='linear' | 'scaled_linear'); vp as linear betas "
               "beta_min/N .. beta_max/N", _ddpm_build),
    ToPeerRule("torchcfm", ("linear", "fm-condot", "cfm"), "ConditionalFlowMatcher(sigma) (sigma = 0 for linear)",
               _cfm_build),
    ToPeerRule("torchcfm", ("condot",), "TargetConditionalFlowMatcher(sigma=sigma_min)", _target_cfm_build),
    ToPeerRule("torchcfm", ("trigonometric", "fm-cosine", "cfm-vp"),
               "VariancePreservingConditionalFlowMatcher(sigma) (sigma = 0 for trigonometric)", _vp_cfm_build),
)


#: The peers :func:`to_peer` can build for.
TO_PEER = ("flow_matching", "diffusers", "torchcfm")


def to_peer(sched: Schedule, peer: str = "flow_matching", *, timesteps: int = 1000) -> Any:
    """A peer library's object for a gifsym schedule (the peer package is imported here, on demand).

    * ``"flow_matching"``: any schedule, as a ``flow_matching`` ``Scheduler`` whose ``__call__(t)`` returns
      ``SchedulerOutput(alpha_t=b, sigma_t=a, d_alpha_t=ḃ, d_sigma_t=ȧ)`` from the derived expressions
      (torch, in the dtype of t), with ``snr_inverse`` from :mod:`gifsym.symbolic.convert.snr`.
    * ``"diffusers"``: ``FlowMatchEulerDiscreteScheduler(shift)`` for sd3 / linear, ``DDPMScheduler`` for the
      VP family (``vp:beta_min, beta_max`` as linear betas ``beta_min/N .. beta_max/N``).
    * ``"torchcfm"``: the matcher with this path (linear, cfm, condot, trigonometric, cfm-vp).

    Raises:
        ConvertError: an unknown peer, a schedule that peer cannot represent, or symbolic parameters.
    """
    arguments.schedule(sched, where="to_peer(schedule, ...)")
    arguments.choice(peer, TO_PEER, where="to_peer(peer=...)")
    timesteps = arguments.count(timesteps, where="to_peer(timesteps=...)")
    _numeric(sched, peer)
    for rule in TO_PEER_RULES:
        if rule.peer == peer and ("*" in rule.specs or sched.name in rule.specs):
            return rule.build(sched, _timesteps(timesteps))
    accepted = "; ".join(f"{', '.join(r.specs)} -> {r.builds.split(' (')[0]}" for r in TO_PEER_RULES if r.peer == peer)
    raise ConvertError(f"{peer} has no object for {sched.spec}; accepted: {accepted}")
