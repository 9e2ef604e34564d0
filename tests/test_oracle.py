"""Quadrature oracles (gifsym.numerics.oracle) against closed forms and independent routes.

* A log-cosh law with γ = 0 is the Gaussian N(0, 1/α): its oracle field must equal the core's exact
  Gaussian field (gifsym.numerics.fields); with γ = −1, ω = r/σ² it is the mixture ½N(−r, σ²) + ½N(r, σ²), whose
  exact field is the core's GMM field. Both compare the whole quadrature pipeline (window, nodes, softmax,
  denoiser form) with formulas derived independently.
* Truncated-Gaussian moments against the closed form evaluated with 50-digit mpmath, including the far
  tails where float64 closed forms (scipy.stats.truncnorm) lose all accuracy.
* The Jacobian (key identity with the quadrature C) against jax.jacfwd of the quadrature m: Tweedie's
  ∇m = (b/a²) C is not built into either side.

Tolerances: the quadrature leaves ~1e-13 relative error (see gifsym.numerics.oracle); the fields are O(1)–O(10³)
combinations of m and x, so 1e-9 relative to max(1, |v|, |ȧ/a||x|) leaves four orders of margin over
round-off while a wrong window, node count or sign gives errors ≥ 1e-4.
"""

from __future__ import annotations

import functools
import math

import mpmath
import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp

from gifsym import GIF, schedule, target
from gifsym.errors import GifsymError, NumericError
from gifsym.numerics.oracle import (
    LogCoshLaw,
    OracleFlow,
    ProductOracle,
    TruncatedGaussianLaw,
    _moments_1d,
    member,
    oracle_flow,
)

RTOL = 1e-9
TIMES = (0.0, 0.2, 0.55, 0.9, 0.999)
# Föllmer (ȧ → −∞ at 1) and VE (b₀ = 1, a₀ = 50): the two extremes of the catalogue for the quadrature.
SCHEDULES = ("follmer", "ve")


def rel_err(a, b, scale) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / scale))


def field_scale(flow, tt, x, ref) -> np.ndarray:
    import sympy

    from gifsym.symbolic.schedule import t

    a, da = (float(sympy.sympify(e).subs(t, tt)) for e in (flow.schedule.a, flow.schedule.da))
    return 1 + np.abs(np.asarray(ref)) + abs(da / a) * np.abs(x)


@pytest.mark.parametrize("sched", SCHEDULES)
def test_gaussian_law_matches_exact_gaussian_field(sched):
    sigma = 0.6
    s = schedule(sched)
    oflow = OracleFlow(s, target("slc:kappa=1"), ProductOracle(LogCoshLaw(1 / sigma**2), 2))
    exact = GIF(s, target("gaussian", sigma=sigma, dim=2))
    x = np.random.default_rng(0).normal(scale=2.0, size=(9, 2))
    for tt in TIMES:
        ref = np.asarray(exact.field()(tt, x))
        assert rel_err(oflow.field()(tt, x), ref, field_scale(oflow, tt, x, ref)) < RTOL, tt
        refJ = np.asarray(exact.jacobian_field()(tt, x))
        scaleJ = field_scale(oflow, tt, np.ones((9, 1, 1)), refJ)
        assert rel_err(oflow.jacobian_field()(tt, x), refJ, scaleJ) < RTOL, tt


@pytest.mark.parametrize("sched", ("trigonometric",))
def test_two_point_convolution_matches_exact_gmm_field(sched):
    """N(0, σ²) * ½(δ_{−r} + δ_r) has U = y²/(2σ²) − log cosh(r y/σ²) + const: a log-cosh law with γ = −1."""
    sigma, r = 0.5, 1.2
    s = schedule(sched)
    oflow = OracleFlow(s, target("conv:sigma=0.5,R=1.2"), ProductOracle(LogCoshLaw(1 / sigma**2, -1.0, r / sigma**2)))
    exact = GIF(s, target("gmm", weights=[0.5, 0.5], means=[[-r], [r]], sigma=sigma))
    x = np.linspace(-3, 3, 13)[:, None]
    for tt in TIMES:
        ref = np.asarray(exact.field()(tt, x))
        assert rel_err(oflow.field()(tt, x), ref, field_scale(oflow, tt, x, ref)) < RTOL, tt
        refJ = np.asarray(exact.jacobian_field()(tt, x))
        assert rel_err(oflow.jacobian_field()(tt, x), refJ, field_scale(oflow, tt, np.ones((13, 1, 1)), refJ)) < RTOL


@functools.cache
def moments(law):
    """The oracle's 1-D moment function, jitted once per law."""
    return jax.jit(functools.partial(_moments_1d, law))


def truncnorm_moments(P: float, eta: float, h: float, prec: float) -> tuple[float, float]:
    """Closed-form mean and variance of ∝ exp(−(prec + P') y²/2 + η y) on [−h, h], in 50-digit arithmetic."""
    with mpmath.workdps(50):
        P, eta, h = mpmath.mpf(P), mpmath.mpf(eta), mpmath.mpf(h)
        if P == 0:
            return 0.0, float(h**2 / 3)
        sign = -1 if eta < 0 else 1  # reflect so that μ ≥ 0: then both ends lie in the lower tail of Φ,
        eta = sign * eta  # where mpmath's ncdf keeps full relative accuracy (Φ near 1 would round to 1)
        mu, sd = eta / P, 1 / mpmath.sqrt(P)
        al, be = (-h - mu) / sd, (h - mu) / sd
        phi = lambda z: mpmath.npdf(z)
        Z = mpmath.ncdf(be) - mpmath.ncdf(al)
        mean = mu + sd * (phi(al) - phi(be)) / Z
        var = sd**2 * (1 + (al * phi(al) - be * phi(be)) / Z - ((phi(al) - phi(be)) / Z) ** 2)
        return sign * float(mean), float(var)


@pytest.mark.parametrize("prec", [0.0, 0.7])
def test_truncated_gaussian_moments_match_closed_form(prec):
    law = TruncatedGaussianLaw(1.0, prec)
    worst = 0.0
    # From the uniform prior (P = 0) to t ≈ 1 (P = 1e10), with the Gaussian part's mean inside, at and far
    # outside the support (the exponential-tail regime).
    for P0 in (0.0, 1e-3, 1.0, 1e3, 1e6, 1e10):
        P = P0 + prec
        for mu in (-5.0, -1.2, -1.0, -0.99, 0.0, 0.3, 0.999, 3.0):
            eta = mu * P
            m, v = (float(a[0]) for a in moments(law)(jnp.array([P]), jnp.array([eta])))
            em, ev = truncnorm_moments(P, eta, 1.0, prec)
            # Mean error in units of the conditional standard deviation, variance error relative.
            worst = max(worst, abs(m - em) / math.sqrt(ev), abs(v - ev) / ev)
    assert worst < 1e-10, worst


@pytest.mark.parametrize("law", [LogCoshLaw(1.0, 1.0), LogCoshLaw(1.0, -1.5), TruncatedGaussianLaw(0.8)],
                         ids=["logcosh", "double-well", "uniform"])
def test_jacobian_is_tweedie_derivative_of_the_field(law):
    flow = OracleFlow(schedule("trigonometric"), target("slc:kappa=-5"), ProductOracle(law, 2))
    v, J = flow.field(), flow.jacobian_field()
    x = jnp.asarray(np.random.default_rng(1).normal(scale=1.5, size=(6, 2)))
    for tt in (0.05, 0.4, 0.8, 0.995):
        auto = jax.vmap(jax.jacfwd(lambda y, tt=tt: v(tt, y[None])[0]))(x)
        Jx = np.asarray(J(tt, x))
        scale = 1 + np.abs(Jx) + abs(float(jnp.pi / 2 * jnp.tan(jnp.pi * tt / 2)))  # |ȧ/a| of the schedule
        assert rel_err(Jx, auto, scale) < 1e-8, tt


@pytest.mark.parametrize("law", [LogCoshLaw(1.0, 1.0), LogCoshLaw(1.0, -1.5), LogCoshLaw(0.2, 0.3, 2.0)],
                         ids=["logcosh", "double-well", "wide"])
def test_logcosh_moments_match_adaptive_quadrature(law):
    """Against scipy's adaptive Gauss–Kronrod (relative accuracy ~1e-12 on these smooth unimodal/bimodal
    integrands). The "wide" law (small α, non-integer γ: poles of cosh^{-γ} near the real axis) exercises
    the node count of gifsym.numerics.oracle._n_nodes."""
    from scipy import integrate

    def tilt(y):
        z = abs(law.omega * y)
        return -law.gamma * (z + math.log1p(math.exp(-2 * z)))

    def moments_ref(P, mu):
        def q(y, k=0, c=0.0):
            return (y - c) ** k * math.exp(-0.5 * P * (y - mu) ** 2 + tilt(y) - tilt(mu))

        W = 14 / math.sqrt(P) + abs(law.gamma) * law.omega / P
        pts = list(np.linspace(mu - W, mu + W, 15))
        kw = {"points": pts[1:-1], "limit": 500, "epsabs": 0, "epsrel": 1e-13}
        Z = integrate.quad(q, pts[0], pts[-1], **kw)[0]
        em = integrate.quad(q, pts[0], pts[-1], args=(1,), **kw)[0] / Z
        return em, integrate.quad(q, pts[0], pts[-1], args=(2, em), **kw)[0] / Z

    worst = 0.0
    for P0 in (0.0, 1e4):  # the prior's own width (b_t = 0) and a narrow conditional (t near 1)
        P = P0 + law.alpha
        for mu in (-3.0, 0.4, 2.5):
            m, v = (float(a[0]) for a in moments(law)(jnp.array([P]), jnp.array([mu * P])))
            em, ev = moments_ref(P, mu)
            worst = max(worst, abs(m - em) / math.sqrt(ev), abs(v - ev) / ev)
    assert worst < 1e-9, worst


def test_extreme_inputs_stay_finite_and_in_support():
    law = TruncatedGaussianLaw(1.0)
    P = jnp.array([1e12, 1e12, 1.0, 1e-8])
    eta = jnp.array([1e14, -1e15, 50.0, 0.0]) * 1.0
    m, v = moments(law)(P, eta)
    assert np.all(np.isfinite(np.asarray(m))) and np.all(np.asarray(v) >= 0)
    assert np.all(np.abs(np.asarray(m)) <= 1.0)
    # Far outside the support the conditional law piles up at the nearest end with variance ~ 1/g²,
    # g = |η − P h|: the exponential-tail regime.
    g = abs(1e14 - 1e12)
    assert abs(float(v[0]) * g**2 - 1) < 1e-6


@pytest.mark.parametrize(
    "spec, dim, expected",
    [
        ("slc:kappa=1", 1, LogCoshLaw(1.0, 1.0)),  # math.md's U = y²/2 + log cosh y
        ("slc:kappa=2", 1, LogCoshLaw(2.0, 2.0)),
        ("slc:kappa=-0.5", 1, LogCoshLaw(1.0, -1.5)),
        ("slcvx:beta=4", 1, LogCoshLaw(2.0, 2.0)),
        ("slc:kappa=2+slcvx:beta=4", 1, LogCoshLaw(2.0, 2.0)),
        ("slc:kappa=-1+slcvx:beta=3", 1, LogCoshLaw(3.0, -4.0)),
        ("ball:R=1", 4, TruncatedGaussianLaw(0.5)),
        ("ball:R=1+slc:kappa=-0.5", 1, TruncatedGaussianLaw(1.0, 0.0)),
        ("ball:R=2+slc:kappa=3", 1, TruncatedGaussianLaw(2.0, 3.0)),
        ("conv:sigma=0.5,R=2", 1, LogCoshLaw(4.0, -1.0, 8.0)),
    ],
)
def test_member_rules_and_class_conditions(spec, dim, expected):
    tg = target(spec)
    o = member(tg, dim=dim)
    assert o.law == expected and o.dim == dim
    # The member satisfies every declared class (κ, β, support radius).
    for c in tg.classes():
        if c.id == "T-slc":
            assert o.kappa >= float(c["kappa"]) - 1e-12
        elif c.id == "T-slcvx":
            assert o.beta <= float(c["beta"]) + 1e-12
        elif c.id == "T-ball":
            assert o.radius <= float(c["R"]) + 1e-12
        elif c.id == "T-conv":
            assert isinstance(o.law, LogCoshLaw) and o.law.alpha == pytest.approx(1 / float(c["sigma"]) ** 2)
            assert o.law.omega * float(c["sigma"]) ** 2 * math.sqrt(dim) <= float(c["R"]) + 1e-12


def test_logcosh_kappa_beta_are_the_curvature_range():
    for law in (LogCoshLaw(1.0, 1.0), LogCoshLaw(1.0, -1.5), LogCoshLaw(4.0, -1.0, 3.0)):
        y = np.linspace(-12, 12, 48001)  # |y| ≥ 9: sech² < 1e-7, so the curvature range is attained
        h = y[1] - y[0]
        U = law.potential_np(y)
        d2 = (U[2:] - 2 * U[1:-1] + U[:-2]) / h**2  # h = 5e-4: truncation h²|U|/12 ≤ 3.4e-6 (|U| ≤ 162 here), round-off ~1e-7
        assert d2.min() == pytest.approx(law.kappa, abs=1e-5)
        assert d2.max() == pytest.approx(law.beta, abs=1e-5)


@pytest.mark.parametrize("spec, message", [
    ("ball:R=1+slcvx:beta=4", "full support"),
    ("slc:kappa", "symbolic"),
    ("slc:kappa=3+slcvx:beta=2", "empty"),
    ("conv:sigma=0.5,R=1+ball:R=3", "no ball"),
])
def test_member_errors(spec, message):
    with pytest.raises(NumericError, match=message):
        member(target(spec))


def test_member_of_exact_target_is_an_error():
    with pytest.raises(GifsymError, match="exact law"):
        member(target("gaussian:sigma=1"))


@pytest.mark.parametrize("spec", ["slc:kappa=1", "ball:R=1", "slc:kappa=-0.5"])
def test_samples_follow_the_law(spec):
    """Seeded samples against the quadrature moments (5 standard errors: a 6e-7 chance per check if right)
    and a Kolmogorov–Smirnov test against the law's CDF (p > 1e-4)."""
    from scipy import integrate, stats

    o = member(target(spec), dim=2)
    n = 20000
    y = np.asarray(o.sample(n, seed=5))
    assert y.shape == (n, 2)
    law = o.law
    lim = (-law.radius, law.radius) if math.isfinite(law.radius) else (-40, 40)
    dens = lambda v: math.exp(-float(law.potential_np(np.array(v))))
    Z = integrate.quad(dens, *lim, limit=200)[0]
    m2 = integrate.quad(lambda v: v * v * dens(v), *lim, limit=200)[0] / Z
    m4 = integrate.quad(lambda v: v**4 * dens(v), *lim, limit=200)[0] / Z
    assert abs(y.mean()) < 5 * math.sqrt(m2 / (2 * n))
    assert abs((y**2).mean() - m2) < 5 * math.sqrt((m4 - m2**2) / (2 * n))
    assert o.second_moment == pytest.approx(2 * m2, rel=1e-8)
    grid = np.linspace(*lim, 400001)  # CDF by the trapezoid rule: error ~1e-9, far below the KS resolution
    F = integrate.cumulative_trapezoid(np.exp(-law.potential_np(grid)), grid, initial=0)
    F /= F[-1]
    assert stats.kstest(y[:, 0], lambda v: np.interp(v, grid, F)).pvalue > 1e-4


def test_oracle_flow_keeps_the_class_target_and_uses_the_member():
    flow = oracle_flow(schedule("linear"), target("ball:R=1"), dim=3)
    assert isinstance(flow, OracleFlow) and flow.dim == 3 and not flow.target.is_exact
    assert flow.oracle.radius == pytest.approx(1.0)
    x = np.zeros((2, 3))
    assert np.asarray(flow.field()(0.5, x)).shape == (2, 3)
    assert np.asarray(flow.jacobian_field()(0.5, x)).shape == (2, 3, 3)
    # Symmetric law: m(t, 0) = 0, so v(t, 0) = 0.
    assert np.max(np.abs(np.asarray(flow.field()(0.5, x)))) < 1e-15


def test_module_doctests():
    import doctest

    import gifsym.numerics.oracle

    result = doctest.testmod(gifsym.numerics.oracle, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
