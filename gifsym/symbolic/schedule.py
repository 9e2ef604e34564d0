r"""Noise schedules ``(a_t, b_t)`` of the interpolation ``X_t = a_t Z + b_t X_1``.

A schedule is a pair of SymPy expressions in the time symbol :data:`t`. The catalogue of math.md §2 is
built from small builder functions of the parameters; a custom schedule is two user expressions parsed
safely (:func:`gifsym.symbolic.expr.parse_expression`). Derivatives come from ``sympy.diff``; the assumptions
S-end, S-mono, S-pos and S-smooth are checked tri-state by :mod:`gifsym.symbolic.prove`.

Example:
    >>> from gifsym import schedule, t
    >>> s = schedule("linear")
    >>> s.a, s.b, s.da, s.db
    (1 - t, t, -1, 1)
    >>> s.check().status("S-mono")
    'holds'
"""

from __future__ import annotations

import contextlib

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

import sympy

from gifsym.errors import GifsymError, ScheduleError, SpecError, shown

if TYPE_CHECKING:
    from gifsym.symbolic.prove import Verdict
from gifsym.symbolic.spec import split_spec

#: The time symbol: noise at t = 0, data at t = 1.
t = sympy.Symbol("t", real=True)

#: The assumption ids a schedule is checked against (math.md §2).
SCHEDULE_ASSUMPTIONS = ("S-end", "S-mono", "S-pos", "S-smooth")

#: What each checked statement says, in one line of text (summaries of an assumption report).
SUMMARIES = {
    "S-end": "a_0 > 0, b_0 >= 0, a_1 = 0, b_1 = 1",
    "S-mono": "da/dt <= 0 and db/dt >= 0 on (0, 1)",
    "S-pos": "a > 0 on [0, 1) and b > 0 on (0, 1]",
    "S-smooth": "a, b continuous on [0, 1] and C^2 on (0, 1)",
    "wronskian": "a b' - a' b >= 0 on (0, 1)",
    "snr-monotone": "the SNR b/a is non-decreasing",
}

_s = 1 - t  # score-SDE time, for the VP/VE family


@dataclass(frozen=True)
class Parameter:
    """A schedule parameter: its name, default, and the condition a value must satisfy."""

    name: str
    default: sympy.Expr
    condition: str  # shown in errors, e.g. "> 0"
    check: Callable[[sympy.Expr], bool | None]  # None when undecidable (symbolic value)


def _positive(v: sympy.Expr) -> bool | None:
    return v.is_positive


def _nonneg(v: sympy.Expr) -> bool | None:
    return v.is_nonnegative


def _vp_B(p: Mapping[str, sympy.Expr]) -> sympy.Expr:
    # Integrated noise rate of the VP SDE, in score-SDE time s = 1 - t.
    return p["beta_min"] * _s + (p["beta_max"] - p["beta_min"]) * _s**2 / 2


def _ve_sigma(p: Mapping[str, sympy.Expr]) -> sympy.Expr:
    return p["sigma_min"] * (p["sigma_max"] / p["sigma_min"]) ** _s


@dataclass(frozen=True)
class Quantity:
    r"""A named quantity of a schedule, used to print results compactly (:mod:`gifsym.symbolic.compact`).

    Attributes:
        name: an identifier (the SymPy symbol's name), e.g. ``"E_s"`` (never a SymPy built-in such as ``E``).
        latex: how it reads in formulas, e.g. ``r"\beta(s)"``.
        definition: its definition in the safe expression grammar, in ``t``, the schedule's parameters and
            the quantities declared before it, e.g. ``"exp(-B)"``.
        meaning: a few words for the "where" list.
    """

    name: str
    latex: str
    definition: str
    meaning: str = ""


@dataclass(frozen=True)
class CatalogueEntry:
    """One named schedule: its builder ``params -> (a, b)``, parameters, a one-line description and the
    natural quantities its results are written in (compact forms).

    ``variants`` are other parameterisations of the same name (e.g. ``sd3:mu=1.15`` besides
    ``sd3:shift=3``): :func:`schedule` takes the first entry (this one, then the variants) whose parameters
    include every parameter given, so the spec keeps the user's own numbers."""

    name: str
    description: str
    build: Callable[[Mapping[str, sympy.Expr]], tuple[sympy.Expr, sympy.Expr]]
    parameters: tuple[Parameter, ...] = ()
    relations: tuple[tuple[str, Callable[[Mapping[str, sympy.Expr]], bool | None]], ...] = ()
    quantities: tuple[Quantity, ...] = ()
    variants: tuple[CatalogueEntry, ...] = ()


_BETA = (
    Parameter("beta_min", sympy.Rational(1, 10), ">= 0", _nonneg),
    Parameter("beta_max", sympy.Integer(20), "> 0", _positive),
)
_BETA_REL = (("beta_max > beta_min", lambda p: (p["beta_max"] - p["beta_min"]).is_positive),)
_SIGMA = (
    Parameter("sigma_min", sympy.Rational(1, 100), "> 0", _positive),
    Parameter("sigma_max", sympy.Integer(50), "> 0", _positive),
)
_SIGMA_REL = (("sigma_max > sigma_min", lambda p: (p["sigma_max"] - p["sigma_min"]).is_positive),)

# The natural quantities of each family (issue 10): results are rewritten in them. Names avoid the target
# parameters (beta, sigma, kappa, R), which may appear in the same formula, and SymPy's built-in names
# (E, I, S, N, O, Q, beta, gamma, ...), which sympy.sympify would read as something else.
_VP_QUANTITIES = (
    Quantity("s", "s", "1 - t", "score-SDE time"),
    Quantity("B", "B(s)", "beta_min*s + (beta_max - beta_min)*s**2/2", "integrated noise rate"),
    Quantity("beta_s", r"\beta(s)", "beta_min + (beta_max - beta_min)*s", "noise rate, B'(s)"),
    # Named E_s, not E: sympy.sympify reads "E" as Euler's number (JSON strings must read back).
    Quantity("E_s", "E", "exp(-B)", "signal power"),
)
_VE_QUANTITIES = (
    Quantity("s", "s", "1 - t", "score-SDE time"),
    Quantity("sigma_s", r"\sigma(s)", "sigma_min*(sigma_max/sigma_min)**s", "noise scale"),
)
_TRIG_QUANTITIES = (Quantity("phi", r"\varphi", "pi*t/2", "angle"),)
# DDPM's continuous-time limits are VP schedules with their own B(s) (see _ddpm_B).
_DDPM_QUANTITIES = (
    _VP_QUANTITIES[0],
    Quantity("B", "B(s)", "timesteps*beta_start*s + timesteps*(beta_end - beta_start)*s**2/2",
             "integrated noise rate"),
    Quantity("beta_s", r"\beta(s)", "timesteps*beta_start + timesteps*(beta_end - beta_start)*s", "noise rate, B'(s)"),
    _VP_QUANTITIES[3],
)
_DDPM_SCALED_QUANTITIES = (
    _VP_QUANTITIES[0],
    Quantity("B", "B(s)", "timesteps*(beta_start*s + sqrt(beta_start)*(sqrt(beta_end) - sqrt(beta_start))*s**2"
             " + (sqrt(beta_end) - sqrt(beta_start))**2*s**3/3)", "integrated noise rate"),
    Quantity("beta_s", r"\beta(s)", "timesteps*(sqrt(beta_start) + (sqrt(beta_end) - sqrt(beta_start))*s)**2",
             "noise rate, B'(s)"),
    _VP_QUANTITIES[3],
)

#: The catalogue of math.md §2, keyed by spec name.
CATALOGUE: dict[str, CatalogueEntry] = {
    e.name: e
    for e in (
        CatalogueEntry("linear", "rectified flow / OT-CFM", lambda p: (1 - t, t)),
        CatalogueEntry(
            "trigonometric", "cosine schedule", lambda p: (sympy.cos(sympy.pi * t / 2), sympy.sin(sympy.pi * t / 2)),
            quantities=_TRIG_QUANTITIES,
        ),
        CatalogueEntry("follmer", "Föllmer flow", lambda p: (sympy.sqrt(1 - t**2), t)),
        CatalogueEntry(
            "vp",
            "variance preserving (DDPM / VP-SDE probability flow)",
            lambda p: (sympy.sqrt(1 - sympy.exp(-_vp_B(p))), sympy.exp(-_vp_B(p) / 2)),
            _BETA,
            _BETA_REL,
            _VP_QUANTITIES,
        ),
        CatalogueEntry(
            "subvp",
            "sub-variance preserving",
            lambda p: (1 - sympy.exp(-_vp_B(p)), sympy.exp(-_vp_B(p) / 2)),
            _BETA,
            _BETA_REL,
            _VP_QUANTITIES,
        ),
        CatalogueEntry(
            "ve",
            "variance exploding (VE-SDE probability flow)",
            lambda p: (sympy.sqrt(_ve_sigma(p) ** 2 - p["sigma_min"] ** 2), sympy.Integer(1)),
            _SIGMA,
            _SIGMA_REL,
            _VE_QUANTITIES,
        ),
    )
}


# -- peer libraries' schedules (issue 11): spec names that rebuild them without the packages -------------
# Kept apart from CATALOGUE (math.md §2's list, which every test is parametrized over); `schedule()` looks a
# name up in both. Each builder writes the peer's own formula in gifsym's convention (noise at t = 0):
# flow_matching's x_t = α_t x_1 + σ_t x_0 is b = α, a = σ; diffusers' x_σ = σ ε + (1 − σ) x_0 and the
# score-SDE / DDPM / EDM noise levels run the other way, so their time is u = 1 − t.


def _sd3_sigma(p: Mapping[str, sympy.Expr]) -> sympy.Expr:
    # diffusers' FlowMatchEulerDiscreteScheduler: σ' = shift σ / (1 + (shift − 1) σ) at σ = u = 1 − t.
    return p["shift"] * _s / (1 + (p["shift"] - 1) * _s)


def _sd3_from(shift: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    return _sd3_sigma({"shift": shift}), t / (1 + (shift - 1) * _s)


def _flux_mu(p: Mapping[str, sympy.Expr]) -> sympy.Expr:
    # diffusers' calculate_shift (FluxPipeline): μ linear in the image's sequence length, through
    # (base_seq_len, base_shift) and (max_seq_len, max_shift); the shift is e^μ (time_shift_type exponential).
    m = (p["max_shift"] - p["base_shift"]) / (p["max_seq_len"] - p["base_seq_len"])
    return p["image_seq_len"] * m + p["base_shift"] - m * p["base_seq_len"]


def _edm_sigma(p: Mapping[str, sympy.Expr]) -> sympy.Expr:
    # Karras et al. (2022) eq. (5): σ_i = (σ_max^{1/ρ} + i/(N−1) (σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, i/(N−1) → t.
    lo, hi, rho = p["sigma_min"], p["sigma_max"], p["rho"]
    return (hi ** (1 / rho) + t * (lo ** (1 / rho) - hi ** (1 / rho))) ** rho


def _ddpm_B(p: Mapping[str, sympy.Expr], *, scaled: bool) -> sympy.Expr:
    # DDPM betas β_i (i = 0..N−1), ᾱ_k = Π_{i≤k} (1 − β_i). Continuous-time limit (Song et al. 2021, §B):
    # β(u) = N β_{linear interpolation}(u), log ᾱ(u) → −∫_0^u β = −B(u), with u = (k + 1)/N = 1 − t.
    n = p["timesteps"]
    if not scaled:
        return n * p["beta_start"] * _s + n * (p["beta_end"] - p["beta_start"]) * _s**2 / 2
    # scaled_linear: β_i = (√β_start + i/(N−1) (√β_end − √β_start))², so ∫_0^u β = N ∫_0^u (c + d v)² dv.
    c, d = sympy.sqrt(p["beta_start"]), sympy.sqrt(p["beta_end"]) - sympy.sqrt(p["beta_start"])
    return n * (c**2 * _s + c * d * _s**2 + d**2 * _s**3 / 3)


def _vp_from(B: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    return sympy.sqrt(1 - sympy.exp(-B)), sympy.exp(-B / 2)


def _cosine_alpha_bar_root(p: Mapping[str, sympy.Expr]) -> tuple[sympy.Expr, sympy.Expr]:
    # Nichol & Dhariwal (2021) / diffusers' squaredcos_cap_v2: ᾱ(u) = f(u)/f(0), f(u) = cos²((u + s)/(1 + s) π/2);
    # the betas 1 − ᾱ(i+1/N)/ᾱ(i/N) telescope, so ᾱ_k = f((k + 1)/N)/f(0) exactly at u = (k + 1)/N = 1 − t.
    off = p["s"]
    b = sympy.cos((_s + off) / (1 + off) * sympy.pi / 2) / sympy.cos(off / (1 + off) * sympy.pi / 2)
    return sympy.sqrt(1 - b**2), b


#: Most DDPM timesteps a spec may ask for: the peers' objects hold arrays of that length (and the discrete
#: bound loops over them in 50-digit arithmetic); 10^4 is 10 times the usual 1000.
MAX_TIMESTEPS = 10_000
#: Largest exponent n of fm-poly's t^n (the parser's bound on numeric exponents): larger powers make SymPy's
#: proofs and the peers' evaluations take minutes and gigabytes for a path indistinguishable from a step.
MAX_POLY_DEGREE = 1000


def _positive_integer(v: sympy.Expr) -> bool | None:
    return None if v.is_positive is None or v.is_integer is None else bool(v.is_positive and v.is_integer)


def _timesteps(v: sympy.Expr) -> bool | None:
    ok = _positive_integer(v)
    return ok if not ok or not v.is_number else bool(v <= MAX_TIMESTEPS)


def _degree(v: sympy.Expr) -> bool | None:
    return v.is_positive if not v.is_positive or not v.is_number else bool(v <= MAX_POLY_DEGREE)


def _below_one(v: sympy.Expr) -> bool | None:
    return None if v.is_nonnegative is None else bool(v.is_nonnegative) and (1 - v).is_positive


_SHIFT = (Parameter("shift", sympy.Integer(3), "> 0", _positive),)
_MU = (Parameter("mu", sympy.Rational(23, 20), "a real number", lambda v: v.is_real),)
_SEQ = (
    Parameter("image_seq_len", sympy.Integer(4096), "a positive integer", _positive_integer),
    Parameter("base_shift", sympy.Rational(1, 2), "a real number", lambda v: v.is_real),
    Parameter("max_shift", sympy.Rational(23, 20), "a real number", lambda v: v.is_real),
    Parameter("base_seq_len", sympy.Integer(256), "a positive integer", _positive_integer),
    Parameter("max_seq_len", sympy.Integer(4096), "a positive integer", _positive_integer),
)
# Tri-state like every relation: None (undecided, e.g. symbolic lengths) passes; only a proved equality fails.
_SEQ_REL = (("max_seq_len != base_seq_len",
             lambda p: bool(p["max_seq_len"] != p["base_seq_len"]) if p["max_seq_len"].is_number
             and p["base_seq_len"].is_number else None),)
_EDM = (
    Parameter("sigma_min", sympy.Rational(1, 500), "> 0", _positive),
    Parameter("sigma_max", sympy.Integer(80), "> 0", _positive),
    Parameter("rho", sympy.Integer(7), "> 0", _positive),
)
_DDPM = (
    Parameter("beta_start", sympy.Rational(1, 10000), "> 0", _positive),
    Parameter("beta_end", sympy.Rational(1, 50), "> 0", _positive),
    Parameter("timesteps", sympy.Integer(1000), f"a positive integer <= {MAX_TIMESTEPS}", _timesteps),
)
_DDPM_SCALED = (
    Parameter("beta_start", sympy.Rational(17, 20000), "> 0", _positive),
    Parameter("beta_end", sympy.Rational(3, 250), "> 0", _positive),
    Parameter("timesteps", sympy.Integer(1000), f"a positive integer <= {MAX_TIMESTEPS}", _timesteps),
)
_DDPM_REL = (("beta_end > beta_start", lambda p: (p["beta_end"] - p["beta_start"]).is_positive),
             ("beta_end < 1", lambda p: (1 - p["beta_end"]).is_positive))
_NOISE = (Parameter("sigma", sympy.Integer(0), ">= 0", _nonneg),)
_NOISE_MIN = (Parameter("sigma_min", sympy.Integer(0), ">= 0 and < 1", _below_one),)

#: Peer libraries' schedules by spec name (interface.md, "Peer conventions"); see :mod:`gifsym.convert`.
PEER_CATALOGUE: dict[str, CatalogueEntry] = {
    e.name: e
    for e in (
        CatalogueEntry("fm-condot", "flow_matching CondOTScheduler: alpha_t = t, sigma_t = 1 - t", lambda p: (1 - t, t)),
        CatalogueEntry(
            "fm-poly", "flow_matching PolynomialConvexScheduler(n): alpha_t = t^n, sigma_t = 1 - t^n",
            lambda p: (1 - t ** p["n"], t ** p["n"]), (Parameter("n", sympy.Integer(2), f"> 0 and <= {MAX_POLY_DEGREE}", _degree),),
        ),
        CatalogueEntry(
            "fm-vp", "flow_matching VPScheduler(beta_min, beta_max): T(t) = B(1 - t), alpha_t = exp(-T/2)",
            lambda p: _vp_from(_vp_B(p)), _BETA, _BETA_REL, _VP_QUANTITIES,
        ),
        CatalogueEntry("fm-linear-vp", "flow_matching LinearVPScheduler: alpha_t = t, sigma_t = sqrt(1 - t^2)",
                       lambda p: (sympy.sqrt(1 - t**2), t)),
        CatalogueEntry("fm-cosine", "flow_matching CosineScheduler: alpha_t = sin(pi t/2), sigma_t = cos(pi t/2)",
                       lambda p: (sympy.cos(sympy.pi * t / 2), sympy.sin(sympy.pi * t / 2)),
                       quantities=_TRIG_QUANTITIES),
        CatalogueEntry(
            "sd3", "diffusers FlowMatchEulerDiscreteScheduler(shift) (SD3): a = sigma', b = 1 - sigma', "
            "sigma' = shift u/(1 + (shift - 1) u), u = 1 - t; or sd3:mu=... with shift = e^mu (dynamic shifting)",
            lambda p: _sd3_from(p["shift"]), _SHIFT,
            variants=(CatalogueEntry("sd3", "sd3 with shift = e^mu", lambda p: _sd3_from(sympy.exp(p["mu"])), _MU),),
        ),
        CatalogueEntry(
            "flux", "FLUX (diffusers FlowMatchEulerDiscreteScheduler, use_dynamic_shifting): sd3 with shift = e^mu, "
            "mu = image_seq_len m + base_shift - m base_seq_len, m = (max_shift - base_shift)/(max_seq_len - "
            "base_seq_len) (diffusers' calculate_shift); or flux:mu=...",
            lambda p: _sd3_from(sympy.exp(_flux_mu(p))), _SEQ, _SEQ_REL,
            variants=(CatalogueEntry("flux", "flux with mu given", lambda p: _sd3_from(sympy.exp(p["mu"])), _MU),),
        ),
        CatalogueEntry(
            "edm", "EDM (Karras et al. 2022) x = y + sigma n with sigma(t) = (sigma_max^(1/rho) + t (sigma_min^(1/rho)"
            " - sigma_max^(1/rho)))^rho; a_1 = sigma_min > 0 (a sigma_min path)",
            lambda p: (_edm_sigma(p), sympy.Integer(1)), _EDM,
            (("sigma_max > sigma_min", lambda p: (p["sigma_max"] - p["sigma_min"]).is_positive),),
        ),
        CatalogueEntry(
            "ddpm", "DDPM linear betas, continuous-time limit: VP with beta_min = N beta_start, beta_max = N "
            "beta_end; DDPM step k = 0..N-1 is t = 1 - (k + 1)/N",
            lambda p: _vp_from(_ddpm_B(p, scaled=False)), _DDPM, _DDPM_REL, _DDPM_QUANTITIES,
        ),
        CatalogueEntry(
            "ddpm-scaled", "DDPM scaled_linear betas (Stable Diffusion), continuous-time limit: beta(u) = N "
            "(sqrt(beta_start) + u (sqrt(beta_end) - sqrt(beta_start)))^2; step k is t = 1 - (k + 1)/N",
            lambda p: _vp_from(_ddpm_B(p, scaled=True)), _DDPM_SCALED, _DDPM_REL, _DDPM_SCALED_QUANTITIES,
        ),
        CatalogueEntry(
            "ddpm-cosine", "DDPM squaredcos_cap_v2 betas (Nichol & Dhariwal 2021): b = cos((u + s)/(1 + s) pi/2)/"
            "cos(s/(1 + s) pi/2), a = sqrt(1 - b^2), u = 1 - t; exact at the training steps t = 1 - (k + 1)/N "
            "but the last (beta clipped to 0.999)",
            _cosine_alpha_bar_root, (Parameter("s", sympy.Rational(1, 125), ">= 0", _nonneg),),
        ),
        CatalogueEntry(
            "condot", "conditional OT with sigma_min (Lipman et al. 2023; torchcfm TargetConditionalFlowMatcher): "
            "a = 1 - (1 - sigma_min) t, b = t",
            lambda p: (1 - (1 - p["sigma_min"]) * t, t), _NOISE_MIN,
        ),
        CatalogueEntry(
            "cfm", "torchcfm ConditionalFlowMatcher(sigma): x_t = t x_1 + (1 - t) x_0 + sigma eps, so "
            "a = sqrt((1 - t)^2 + sigma^2), b = t",
            lambda p: ((1 - t) if p["sigma"] == 0 else sympy.sqrt((1 - t) ** 2 + p["sigma"] ** 2), t), _NOISE,
        ),
        CatalogueEntry(
            "cfm-vp", "torchcfm VariancePreservingConditionalFlowMatcher(sigma): a = sqrt(cos(pi t/2)^2 + sigma^2), "
            "b = sin(pi t/2)",
            lambda p: (sympy.cos(sympy.pi * t / 2) if p["sigma"] == 0
                       else sympy.sqrt(sympy.cos(sympy.pi * t / 2) ** 2 + p["sigma"] ** 2), sympy.sin(sympy.pi * t / 2)),
            _NOISE, quantities=_TRIG_QUANTITIES,
        ),
    )
}


def catalogue_entry(name: str) -> CatalogueEntry | None:
    """The catalogue or peer entry of a spec name, or ``None``."""
    return CATALOGUE.get(name) or PEER_CATALOGUE.get(name)


@dataclass(frozen=True)
class AssumptionReport:
    """The tri-state status of each schedule assumption, with reasons.

    Attributes:
        items: ``(id, Verdict)`` pairs for S-end, S-mono, S-pos, S-smooth, in that order.
        consequences: derived facts (``a ḃ − ȧ b ≥ 0``, SNR non-decreasing) with their verdicts.
    """

    items: tuple[tuple[str, Verdict], ...]
    consequences: tuple[tuple[str, Verdict], ...] = ()
    #: For each id, the verdict of each part of the statement: ``(id, ((label, Verdict), ...))``.
    parts: tuple[tuple[str, tuple[tuple[str, Verdict], ...]], ...] = ()

    def parts_of(self, key: str) -> tuple[tuple[str, Verdict], ...]:
        """The parts of assumption ``key`` with their own verdicts (e.g. ``a_0 > 0`` of S-end)."""
        return dict(self.parts).get(key, ())

    def summary(self, key: str, limit: int = 110) -> str:
        """One line: what was proved, or which part failed and why (shortened to ``limit`` characters).

        Example:
            >>> schedule(a="1 - t", b="t**2 - t/2").check().summary("S-end")[:25]
            'b_1 = 1 violated: limit o'
        """
        v = self[key]
        if v.status == "holds":
            return f"proved: {SUMMARIES.get(key, key)}"
        bad = [(label, p) for label, p in self.parts_of(key) if p.status != "holds"]
        label, p = bad[0] if bad else (key, v)
        more = f" (+{len(bad) - 1} more)" if len(bad) > 1 else ""
        text = " ".join(f"{label} {p.status}: {p.reason}".split())
        if len(text) > limit - len(more):
            text = text[: limit - len(more) - 1] + "…"
        return text + more

    def __getitem__(self, key: str) -> Verdict:
        for k, v in self.items + self.consequences:
            if k == key:
                return v
        raise KeyError(key)

    def status(self, key: str) -> str:
        """The status string of assumption ``key``."""
        return self[key].status

    @property
    def all_hold(self) -> bool:
        """Whether every assumption was proved."""
        return all(v.status == "holds" for _, v in self.items)

    def holding(self) -> frozenset[str]:
        """The ids of the assumptions that were proved."""
        return frozenset(k for k, v in self.items if v.status == "holds")

    def to_dict(self) -> dict[str, dict[str, str]]:
        """``{id: {"status": ..., "reason": ...}}`` as in interface.md's JSON."""
        return {k: {"status": v.status, "reason": v.reason} for k, v in self.items}


@dataclass(frozen=True)
class Schedule:
    r"""A noise schedule: ``a`` multiplies the noise, ``b`` the data.

    Attributes:
        name: catalogue name, or ``"custom"``.
        a: :math:`a_t` as a SymPy expression in :data:`t`.
        b: :math:`b_t`.
        params: ``(name, value)`` pairs; a value may be a SymPy symbol (symbolic parameter).
        source: the expressions as the user wrote them, for a custom schedule.
        origin: how gifsym obtained the schedule (designed schedules), or ``None``.
    """

    name: str
    a: sympy.Expr
    b: sympy.Expr
    params: tuple[tuple[str, sympy.Expr], ...] = ()
    source: tuple[str, str] | None = field(default=None, compare=False)
    #: How the schedule was obtained when gifsym made it (a designed schedule, :func:`gifsym.design`);
    #: reports print it.
    origin: str | None = field(default=None, compare=False)

    @cached_property
    def da(self) -> sympy.Expr:
        r""":math:`\dot a_t`."""
        return sympy.diff(self.a, t)

    @cached_property
    def db(self) -> sympy.Expr:
        r""":math:`\dot b_t`."""
        return sympy.diff(self.b, t)

    @cached_property
    def d2a(self) -> sympy.Expr:
        r""":math:`\ddot a_t`."""
        return sympy.diff(self.da, t)

    @cached_property
    def d2b(self) -> sympy.Expr:
        r""":math:`\ddot b_t`."""
        return sympy.diff(self.db, t)

    @cached_property
    def snr(self) -> sympy.Expr:
        r"""Signal-to-noise ratio :math:`r_t = b_t / a_t`."""
        return self.b / self.a

    @cached_property
    def wronskian(self) -> sympy.Expr:
        r""":math:`a_t \dot b_t - \dot a_t b_t` (≥ 0 under S-mono; the SNR grows where it is > 0)."""
        from gifsym.symbolic.expr import simplified

        w = self.a * self.db - self.da * self.b
        # Only cosmetic (the prover decides the sign either way). simplify, bounded (see simplified), on short
        # formulas; a long one (a designed schedule's polynomial of high degree) is only brought over one
        # denominator, which the prover's exact polynomial route reads.
        return simplified(w) if sympy.count_ops(w) < 400 else sympy.together(w)

    @property
    def spec(self) -> str:
        """The spec string that rebuilds this schedule (custom: ``custom:a=...;b=...``)."""
        if self.name == "custom":
            a, b = self.source or (str(self.a), str(self.b))
            return f"custom(a={a}, b={b})"
        if not self.params:
            return self.name
        return self.name + ":" + ",".join(f"{k}={v}" for k, v in self.params)

    @property
    def free_parameters(self) -> frozenset[sympy.Symbol]:
        """The symbolic parameters the schedule still depends on."""
        return frozenset((self.a.free_symbols | self.b.free_symbols) - {t})

    def check(self) -> AssumptionReport:
        """Check S-end, S-mono, S-pos and S-smooth (tri-state, with reasons); cached per schedule."""
        return _check(self)

    def verdict(self, key: str) -> Verdict:
        """The verdict of one assumption (``S-end``, ``S-mono``, ``S-pos``, ``S-smooth``) or consequence
        (``wronskian``, ``snr-monotone``), checked alone: a result that needs only some assumptions checks
        only those. Cached per schedule."""
        if key not in _CHECKS and key != "snr-monotone":
            raise KeyError(key)
        return _verdict(self, key)


def _named(v, label: str):
    from gifsym.symbolic.prove import Verdict

    return Verdict(v.status, f"{label}: {v.reason}")


# Each check returns the parts of its statement, ``((label, Verdict), ...)``: the verdict of the whole is
# their conjunction, and the parts give the one-line reasons (which part failed) and the ``--verbose`` steps.


def _end(s: Schedule):
    from gifsym.symbolic import prove

    # A formula undefined at t = 0 (0/0, as (t - t**2)/t) has there the value of its continuous extension,
    # the limit from the right (extend="+").
    return (
        ("a_0 > 0", prove.prove_value(s.a, t, 0, ">", 0, extend="+")),
        ("b_0 >= 0", prove.prove_value(s.b, t, 0, ">=", 0, extend="+")),
        ("a_1 = 0", prove.prove_value(s.a, t, 1, "==", 0, side="-")),
        ("b_1 = 1", prove.prove_value(s.b, t, 1, "==", 1, side="-")),
    )


def _mono(s: Schedule):
    from gifsym.symbolic import prove

    # Derivatives are about the functions, not about SymPy's formulas for them: a 0/0 in a formula at an
    # isolated point is checked by one-sided limits (prove.prove_extended), not taken as a counterexample.
    return (
        ("da/dt <= 0 on (0,1)", prove.prove_extended(s.da, t, "<=", lo_open=True, hi_open=True, of=s.a)),
        ("db/dt >= 0 on (0,1)", prove.prove_extended(s.db, t, ">=", lo_open=True, hi_open=True, of=s.b)),
    )


def _pos(s: Schedule):
    from gifsym.symbolic import prove

    # The functions, not their formulas: a removable 0/0 is decided on the continuous extension.
    return (
        ("a > 0 on [0,1)", prove.prove_extended(s.a, t, ">", hi_open=True)),
        ("b > 0 on (0,1]", prove.prove_extended(s.b, t, ">", lo_open=True)),
    )


def _smooth(s: Schedule):
    from gifsym.symbolic import prove

    return (
        ("a finite (continuous) on [0,1]", prove.prove_extended(s.a, t, "finite")),
        ("b finite (continuous) on [0,1]", prove.prove_extended(s.b, t, "finite")),
        *(
            (f"{lab} continuous on (0,1)", prove.prove_extended(e, t, "finite", lo_open=True, hi_open=True))
            for e, lab in ((s.da, "a'"), (s.db, "b'"), (s.d2a, "a''"), (s.d2b, "b''"))
        ),
    )


def _wronskian(s: Schedule):
    from gifsym.symbolic import prove

    return (("a b' - a' b >= 0 on (0,1)", prove.prove_extended(s.wronskian, t, ">=", lo_open=True, hi_open=True)),)


_CHECKS = {"S-end": _end, "S-mono": _mono, "S-pos": _pos, "S-smooth": _smooth, "wronskian": _wronskian}


@lru_cache(maxsize=256)
def proof_allowance(s: Schedule):
    """The :class:`gifsym.budget.Allowance` that all proofs about a caller's custom schedule share in this
    process (:data:`gifsym.symbolic.prove.budget.CALLER_PROOF_SECONDS`); None for a catalogue or designed
    schedule.

    Example:
        >>> from gifsym import schedule
        >>> proof_allowance(schedule(a="1 - t", b="t")).seconds, proof_allowance(schedule("linear"))
        (3.0, None)
    """
    from gifsym.budget import Allowance
    from gifsym.symbolic.prove.budget import CALLER_PROOF_SECONDS

    if s.name != "custom" or s.origin is not None:  # a designed schedule's proofs are gifsym's own work
        return None
    return Allowance(CALLER_PROOF_SECONDS, "the proofs about a custom schedule")


@lru_cache(maxsize=2048)
def _parts(s: Schedule, key: str):
    # Also kept on disk (gifsym.store): a new process (each CLI call) reads the proofs back. A check cut short
    # by the allowance is not kept (store.cached sees the budget run out).
    from gifsym import store
    from gifsym.budget import drawing_on
    from gifsym.symbolic.prove import Verdict

    pool = proof_allowance(s)
    with drawing_on(pool) if pool is not None else contextlib.nullcontext():
        return store.cached("schedule-check", {"schedule": s, "key": key}, {"Verdict": Verdict},
                            lambda: _CHECKS[key](s))


@lru_cache(maxsize=2048)
def _verdict(s: Schedule, key: str):
    from gifsym.symbolic import prove
    from gifsym.symbolic.prove import Verdict

    if key == "snr-monotone":
        wv = _verdict(s, "wronskian")
        return Verdict(wv.status, "d/dt (b/a) = (a b' - a' b)/a^2, so it is non-decreasing where " + wv.reason)
    return prove.combine(*(_named(v, label) for label, v in _parts(s, key)))


@lru_cache(maxsize=256)
def _check(s: Schedule) -> AssumptionReport:
    return AssumptionReport(
        items=tuple((k, _verdict(s, k)) for k in SCHEDULE_ASSUMPTIONS),
        consequences=tuple((k, _verdict(s, k)) for k in ("wronskian", "snr-monotone")),
        parts=tuple((k, _parts(s, k)) for k in (*SCHEDULE_ASSUMPTIONS, "wronskian")),
    )


def real_number(name: str, value: object) -> sympy.Expr:
    """A caller's number as an exact SymPy real: any real numeric type (int, float, NumPy scalars, SymPy
    numbers; floats by their shortest decimal, so 0.1 is 1/10) or a string in the safe grammar
    (:func:`gifsym.symbolic.expr.parse_number`). NaN, ±inf, complex values, booleans and magnitudes
    outside [1e-12, 1e12] (zero aside) are refused.

    Example:
        >>> import numpy as np
        >>> real_number("beta_max", np.float64(20.0)), real_number("x", "1/3")
        (20, 1/3)
    """
    from gifsym.symbolic.expr import MAX_MAGNITUDE, MIN_MAGNITUDE, as_expr, float_estimate, parse_number

    if isinstance(value, bool) or value is None:
        raise SpecError(f"parameter {name}={shown(value)} is not a number")
    if isinstance(value, str):
        try:
            v = parse_number(value)
        except SpecError:
            raise
        except GifsymError as e:
            raise SpecError(f"parameter {name}={shown(value)}: {e}") from None
    else:
        try:
            v = as_expr(value, what=f"parameter {name}")
        except GifsymError as e:
            raise SpecError(f"{str(e).split(';')[0]}; give an int, float, or a string like '0.1'") from None
        if not v.is_number or v.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
            raise SpecError(f"parameter {name}={shown(value)} must be a finite real number (not NaN or infinite)")
    # Judge the size on a float estimate first: comparing exp(exp(exp(25))) with 1e12 makes SymPy evaluate
    # it, which never ends.
    estimate = float_estimate(v)
    if estimate is not None and (not abs(estimate) <= 2 * MAX_MAGNITUDE
                                 or v != 0 and abs(estimate) < float(MIN_MAGNITUDE) / 2):
        raise SpecError(f"parameter {name}={shown(value, 80)} is out of range: give 0 or a magnitude between "
                        f"{float(MIN_MAGNITUDE):.0e} and {MAX_MAGNITUDE:.0e}")
    if v.is_extended_real is not True:
        raise SpecError(f"parameter {name}={shown(value)} must be a real number (got {v})")
    magnitude = abs(v)
    if (magnitude > MAX_MAGNITUDE) is sympy.true or (v != 0 and (magnitude < MIN_MAGNITUDE) is sympy.true):
        raise SpecError(f"parameter {name}={shown(value)} is out of range: give 0 or a magnitude between "
                        f"{float(MIN_MAGNITUDE):.0e} and {MAX_MAGNITUDE:.0e}")
    return v


def _value(name: str, value: object, *, real_only: bool = False) -> sympy.Expr:
    """A parameter value: a number, an exact-number string, None (symbolic) or a SymPy expression."""
    if value is None:
        from gifsym.symbolic.printing import symbol_name

        name = symbol_name(name)  # beta -> beta_: "beta" would read back as SymPy's beta function
        return sympy.Symbol(name, real=True) if real_only else sympy.Symbol(name, positive=True)
    if isinstance(value, sympy.Basic) and value.free_symbols:
        return value
    return real_number(name, value)


def schedule(spec: str | None = None, *, a: str | None = None, b: str | None = None, **params: object) -> Schedule:
    """Build a schedule from a catalogue spec or from two custom expressions.

    Args:
        spec: ``linear``, ``trigonometric``, ``follmer``, ``vp``, ``subvp``, ``ve``, with parameters after a
            colon (``vp:beta_min=0.1,beta_max=20``; ``vp:beta_min`` keeps ``beta_min`` symbolic).
        a: custom ``a_t`` (a string in the safe grammar of interface.md), together with ``b``.
        b: custom ``b_t``.
        **params: catalogue parameters, or the declared parameters of a custom schedule (``None``
            keeps one symbolic).

    Raises:
        ScheduleError: unknown name, unknown or bad parameter, or both/neither of spec and (a, b).

    Example:
        >>> schedule(a="cos(pi*t/2)", b="sin(pi*t/2)").db
        pi*cos(pi*t/2)/2
        >>> schedule("vp:beta_min=0.1,beta_max=20").params
        (('beta_min', 1/10), ('beta_max', 20))
    """
    if spec is not None and (a is not None or b is not None):
        raise ScheduleError("give either a schedule spec or custom a= and b=, not both")
    if spec is None:
        if a is None or b is None:
            raise ScheduleError(
                "a schedule needs a spec (one of " + ", ".join(CATALOGUE) + ") or both custom expressions a= and b="
            )
        return _custom(a, b, params)
    if isinstance(spec, Schedule):
        return spec
    try:
        name, items, bare = split_spec(spec)
    except SpecError as e:
        raise ScheduleError(str(e)) from None
    if bare is not None:
        raise ScheduleError(f"unexpected {bare!r} in schedule spec {spec!r}; parameters are key=value")
    if name == "custom":
        raise ScheduleError("a custom schedule is given by its expressions: --a EXPR --b EXPR (Python: a=..., b=...)")
    entry = catalogue_entry(name)
    if entry is None:
        raise ScheduleError(f"unknown schedule {name!r}; accepted: {', '.join(CATALOGUE)}, peer schedules "
                            f"{', '.join(PEER_CATALOGUE)}, or custom a=..., b=...")
    given: dict[str, object] = dict(items)
    for k, v in params.items():
        if k in given:
            raise ScheduleError(f"parameter {k!r} given both in the spec and as a keyword")
        given[k] = v
    entry = next((e for e in (entry, *entry.variants) if set(given) <= {p.name for p in e.parameters}), entry)
    known = {p.name for p in entry.parameters}
    unknown = set(given) - known
    if unknown:
        acc = "; or ".join(", ".join(sorted(p.name for p in e.parameters)) or "none" for e in (entry, *entry.variants))
        if any(unknown <= {p.name for p in e.parameters} for e in entry.variants):
            raise ScheduleError(f"schedule {name!r} takes one set of parameters, not a mix of {sorted(given)}; "
                                f"accepted: {acc}")
        raise ScheduleError(f"unknown parameter {sorted(unknown)[0]!r} for schedule {name!r}; accepted: {acc}")
    values: dict[str, sympy.Expr] = {}
    for p in entry.parameters:
        v = _value(p.name, given[p.name]) if p.name in given else p.default
        if p.check(v) is False:
            raise ScheduleError(f"schedule {name!r}: parameter {p.name}={v} must be {p.condition}")
        values[p.name] = v
    for label, rel in entry.relations:
        if rel(values) is False:
            raise ScheduleError(
                f"schedule {name!r}: needs {label}, got " + ", ".join(f"{k}={v}" for k, v in values.items())
            )
    a_expr, b_expr = entry.build(values)
    return Schedule(name, a_expr, b_expr, tuple(values.items()))


def _custom(a: str, b: str, params: Mapping[str, object]) -> Schedule:
    from gifsym.symbolic.expr import free_names, parse_expression

    names: dict[str, sympy.Basic] = {"t": t}
    values: dict[str, sympy.Expr] = {}
    for k, v in params.items():
        if k in ("t", "pi", "E"):
            raise ScheduleError(f"parameter name {k!r} is reserved; choose another name")
        _check_free_name(k, "parameter name")
        values[k] = _value(k, v)
        names[k] = values[k]
    # A name the expressions use but nobody declared is a parameter left symbolic (positive), as with
    # `--param n`: `--a "1 - t**n" --b "t**n"` is PolynomialConvexScheduler(n) for every n > 0. A schedule
    # depends on t and parameters only: the state's names and those of definitions are refused.
    for label, text in (("a", a), ("b", b)):
        for k in free_names(text) if isinstance(text, str) else ():
            if k not in names:
                _check_free_name(k, f"custom {label}={text!r} uses")
                values[k] = names[k] = _value(k, None)
    for label, e in (("a", a), ("b", b)):
        if isinstance(e, sympy.Basic):
            for sym in e.free_symbols - {t}:
                _check_free_name(sym.name, f"custom {label}={e} uses")
    exprs = []
    for label, text in (("a", a), ("b", b)):
        if isinstance(text, sympy.Basic):
            e = text
            if not isinstance(e, sympy.Expr):
                raise ScheduleError(f"custom {label}={shown(text)} is not a scalar expression in t")
        elif isinstance(text, str):
            e = parse_expression(text, names=names)
        else:
            raise ScheduleError(f"custom {label}={shown(text)} must be a string expression in t")
        if e.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
            raise ScheduleError(f"custom {label}={shown(text)} is not finite ({e}): schedule coefficients are finite "
                                "functions of t")
        if e.has(sympy.I) or e.is_extended_real is False:
            raise ScheduleError(f"custom {label}={shown(text)} is not real ({e}): schedule coefficients are real "
                                "functions of t")
        exprs.append(e)
    used = {str(s) for e in exprs for s in e.free_symbols}
    used |= {k for text in (a, b) if isinstance(text, str) for k in free_names(text)}
    unused = [k for k in params if k not in used]
    if unused:
        raise ScheduleError(f"parameter {unused[0]!r} is not used by a or b; the expressions use "
                            + (", ".join(sorted(used - {"t"})) or "no parameters"))
    return Schedule("custom", exprs[0], exprs[1], tuple(values.items()), source=(str(a), str(b)))


#: Names a schedule may not use: the state variable of the velocity field v(t, x) and its coordinates, the
#: latent z, and the names results define (compact forms: the quantities below, their start values, the
#: abbreviations q_1, q_2, ...; the time T of a flow-map constant; the posterior mean m, covariance C and
#: dimension d of a class target's velocity).
_STATE_NAME = re.compile(r"^(x|z)(_?\d+)?$")
_DEFINITION_NAME = re.compile(r"^q_\d+$")


def reserved_names() -> frozenset[str]:
    """The names of quantities that results define (``s``, ``B``, ``beta_s``, ``E_s``, ``E_0``, ``sigma_s``,
    ``phi``, ``T``, ``m``, ``C``, ``d``): a schedule parameter with one of them would mean two things in a
    result.

    Example:
        >>> {"E_s", "E_0", "beta_s", "q_1", "T", "m"} & reserved_names() == {"E_s", "E_0", "beta_s", "T", "m"}
        True
    """
    out = {"T", "m", "C", "d"}
    for entry in (*CATALOGUE.values(), *PEER_CATALOGUE.values()):
        for q in entry.quantities:
            out.add(q.name)
            if q.name == "E_s":  # the start value of an exponential quantity (compact.schedule_quantities)
                out.add("E_0")
    return frozenset(out)


def _check_free_name(name: str, what: str) -> None:
    """Refuses a schedule parameter named after the state (x, x_1, z, ...) or a definition."""
    if _STATE_NAME.match(name):
        raise ScheduleError(f"{what} {name!r}, a name reserved for the state variable (v(t, x), x_1, ..., z): "
                            "a schedule depends only on t and its parameters; rename the parameter")
    if _DEFINITION_NAME.match(name) or name in reserved_names():
        raise ScheduleError(f"{what} {name!r}, a name reserved for a quantity that results define (s, B, "
                            "beta_s, E_s, sigma_s, phi, q_1, ..., T, m, C, d); rename the parameter")


def catalogue() -> list[Schedule]:
    """Every catalogue schedule with its default parameters, in catalogue order."""
    return [schedule(name) for name in CATALOGUE]
