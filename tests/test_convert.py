"""gifsym.convert without the peer packages: the peer spec strings, custom-expression parameters,
parameterisations, the SNR inverse, schedule transfer and σ_min paths — each checked against an independent
route (exact flows of gifsym, 40-digit arithmetic, the CLI)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy
from click.testing import CliRunner

import gifsym
from gifsym import GIF, schedule, t, target
from gifsym.cli import app
from gifsym.convert import parameterization, sigma_min_path, smoothed_target, snr_inverse, transfer
from gifsym.errors import ConvertError, ScheduleError
from gifsym.symbolic.convert import parameterizations as P
from gifsym.symbolic.convert.schedule_transfer import r, transfer_formulas
from gifsym.symbolic.convert.sigma_min import velocity_identity
from gifsym.symbolic.schedule import PEER_CATALOGUE

ROOT = Path(__file__).resolve().parents[1]
u = sympy.Symbol("u", positive=True)


def same(e1, e2) -> bool:
    return sympy.simplify(e1 - e2) == 0


# -- spec strings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("peer", "ours"), [
    ("fm-condot", "linear"), ("fm-cosine", "trigonometric"), ("fm-linear-vp", "follmer"),
    ("fm-vp:beta_min=0.1,beta_max=20", "vp"), ("ddpm", "vp"), ("sd3:shift=1", "linear"), ("cfm", "linear"),
    ("condot", "linear"), ("cfm-vp", "trigonometric"),
])
def test_peer_specs_that_are_catalogue_schedules(peer, ours):
    p, o = schedule(peer), schedule(ours)
    assert same(p.a, o.a) and same(p.b, o.b), (peer, p.a, p.b)


def test_peer_spec_formulas_are_the_peers():
    # diffusers: b = 1 − σ' with σ'(u) = shift u/(1 + (shift − 1) u) at u = 1 − t, for symbolic shift.
    sd3 = schedule("sd3:shift")
    shift = sympy.Symbol("shift", positive=True)
    assert same(sd3.a + sd3.b, 1)
    assert same(sd3.a.subs(t, 1 - u), shift * u / (1 + (shift - 1) * u))
    # EDM: σ(0) = σ_max, σ(1) = σ_min, and σ^(1/ρ) is affine in t.
    edm = schedule("edm")
    assert same(edm.a.subs(t, 0), 80) and same(edm.a.subs(t, 1), sympy.Rational(1, 500)) and edm.b == 1
    assert edm.a.is_Pow and edm.a.exp == 7 and sympy.diff(edm.a.base, t, 2) == 0
    # DDPM: the noise rate β(u) = 2 ḃ/b at t = 1 − u is N β_linear(u), so N·betas[i] = β(i/(N − 1)).
    for name, beta in (("ddpm", 1000 * (sympy.Rational(1, 10000) + (sympy.Rational(1, 50) - sympy.Rational(1, 10000)) * u)),
                       ("ddpm-scaled", 1000 * (sympy.sqrt(sympy.Rational(17, 20000)) + u * (
                           sympy.sqrt(sympy.Rational(3, 250)) - sympy.sqrt(sympy.Rational(17, 20000)))) ** 2)):
        s = schedule(name)
        assert same((2 * s.db / s.b).subs(t, 1 - u), beta), name
        assert same(s.a**2 + s.b**2, 1)  # variance preserving


NOT_GIFS = {"edm", "condot:sigma_min=0.01", "cfm:sigma=0.1", "cfm-vp:sigma=0.1"}


@pytest.mark.parametrize("spec", [*PEER_CATALOGUE, *sorted(NOT_GIFS - {"edm"})])
def test_peer_specs_report_their_assumptions(spec):
    report = schedule(spec).check()
    statuses = {k: report.status(k) for k in ("S-end", "S-mono", "S-pos", "S-smooth")}
    if spec in NOT_GIFS:
        # a_1 = σ_min > 0: S-end is refused, and the σ_min reading takes over (test_sigma_min_* below)
        assert statuses.pop("S-end") == "violated" and "a_1 = 0" in report["S-end"].reason
    assert set(statuses.values()) == {"holds"}, (spec, statuses)


@pytest.mark.parametrize(("spec", "match"), [
    ("sd3:shift=-1", "shift"), ("ddpm:beta_end=2", "beta_end < 1"), ("ddpm:timesteps=1.5", "positive integer"),
    ("condot:sigma_min=1", "sigma_min"), ("edm:sigma_min=90", "sigma_max > sigma_min"), ("fm-poly:m=2", "'m'"),
])
def test_bad_peer_parameters_name_the_value(spec, match):
    with pytest.raises(ScheduleError, match=match):
        schedule(spec)


def test_the_documented_custom_command_works():
    # docs/conventions.md: PolynomialConvexScheduler(n) is --a "1 - t**n" --b "t**n" (n undeclared).
    result = CliRunner().invoke(app, ["schedule", "--a", "1 - t**n", "--b", "t**n", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["params"] == {"n": {"sympy": "n", "latex": "n"}}
    s = schedule(a="1 - t**n", b="t**n")
    n = sympy.Symbol("n", positive=True)
    assert s.a.subs(n, 3) == schedule("fm-poly:n=3").a and s.check().status("S-mono") == "holds"
    # a typo in a function is still refused, naming it
    bad = CliRunner().invoke(app, ["schedule", "--a", "1 - tt**n", "--b", "sinn(t)"])
    assert bad.exit_code != 0 and "sinn" in str(bad.exception or bad.output)
    assert gifsym.symbolic.expr.free_names("exp(-beta*t) + t**n + pi + e") == ("beta", "t", "n")


# -- parameterisations -----------------------------------------------------------------------------------

NAMES = list(P.PARAMETERIZATIONS)


@pytest.mark.parametrize("given", NAMES)
@pytest.mark.parametrize("want", NAMES)
def test_conversions_invert_each_other(given, want):
    # want = c1 given-combination; converting back must give the identity: c2_x + c2_g c1_x = 0, c2_g c1_g = 1.
    c1x, c1g = P._conversion(given, want)
    c2x, c2g = P._conversion(want, given)
    assert sympy.simplify(c2x + c2g * c1x) == 0 and sympy.simplify(c2g * c1g - 1) == 0


@pytest.mark.parametrize("spec", ["linear", "vp", "sd3:shift=3"])
@pytest.mark.parametrize("tid", ["gauss-2d", "gmm"])
def test_conversions_map_exact_objects_onto_each_other(spec, tid):
    """The exact posterior mean, velocity and score of gifsym's Flow (Gaussian conditioning, an independent
    derivation) are carried into each other by the coefficients, at 100 random (t, x)."""
    nu = (target("gaussian:sigma=0.7,dim=2,mean=[1,-0.5]") if tid == "gauss-2d" else
          target("gmm", weights=[0.3, 0.7], means=[[-1.0, 0.0], [1.0, 0.5]], sigma=0.4))
    s = schedule(spec)
    flow = GIF(s, nu)
    X = flow.x
    exact = {
        "x1": sympy.lambdify((t, *X), list(flow.posterior_mean()), "numpy"),
        "velocity": sympy.lambdify((t, *X), list(flow.velocity()), "numpy"),
        "score": sympy.lambdify((t, *X), list(flow.score()), "numpy"),
    }
    a, b = sympy.lambdify(t, s.a), sympy.lambdify(t, s.b)
    rng = np.random.default_rng(0)
    ts = np.concatenate([rng.uniform(0.02, 0.98, 97), [0.001, 0.5, 0.999]])
    convs = {(g, w): parameterization(s, g, w).callable("numpy")
             for g in ("x1", "velocity", "score") for w in ("x1", "velocity", "score", "epsilon")}
    worst = 0.0
    for tv in ts:
        x = rng.normal(size=2) * 1.5
        vals = {k: np.array(f(tv, *x), dtype=float) for k, f in exact.items()}
        vals["epsilon"] = (x - b(tv) * vals["x1"]) / a(tv)  # E[Z | x] by its definition Z = (X_t − b X_1)/a
        for (given, want), conv in convs.items():
            got = conv(tv, x, vals[given])
            # round-off scale: the two terms c_x x and c_given given that are added (they cancel near the
            # ends, e.g. 1/a² terms of the score at t = 0.999), and the exact value's own size
            terms = np.abs(conv(tv, x, 0 * x)) + np.abs(conv(tv, 0 * x, vals[given])) + np.abs(vals[want])
            worst = max(worst, float(np.max(np.abs(got - vals[want]) / (1 + terms))))
    # float64 evaluations of two exact routes: the mixture's responsibilities are lambdified exponentials
    # (no log-sum-exp), observed ~1e-12; 1e-10 relative to the size of the terms is ~1e6 ulps of margin,
    # while a wrong coefficient errs by O(1).
    assert worst < 1e-10, worst


def test_singular_ends_are_exact_limits():
    p = parameterization(schedule("linear"), "epsilon", "velocity")  # v = (ḃ/b) x + ... : 1/t at t = 0
    assert {(e.end, e.coefficient, e.limit) for e in p.singular} == {(0, "c_x", sympy.oo), (0, "c_given", -sympy.oo)}
    assert parameterization(schedule("vp"), "score", "velocity").singular == ()  # b_0 > 0 for VP
    ends = {(e.end, e.coefficient) for e in parameterization(schedule("follmer"), "x1", "score").singular}
    assert ends == {(1, "c_x"), (1, "c_given")}  # 1/a² at a_1 = 0


def test_callable_backends_agree():
    conv = parameterization(schedule("vp"), "velocity", "epsilon")
    x, v = np.linspace(-2, 2, 5), np.linspace(1, 3, 5)
    ref = conv.callable("numpy")(0.3, x, v)
    import jax

    from gifsym.numerics.fields import enable_x64

    enable_x64()  # as gifsym's numerics do on first use
    got = np.asarray(conv.callable("jax")(jax.numpy.asarray(0.3), jax.numpy.asarray(x), jax.numpy.asarray(v)))
    assert np.max(np.abs(got - ref)) < 1e-12  # same float64 formula, different library
    with pytest.raises(ConvertError, match="backend"):
        conv.callable("tensorflow")
    with pytest.raises(ConvertError, match="accepted"):
        parameterization(schedule("vp"), "noise", "x1")
    with pytest.raises(ConvertError, match="symbolic"):
        parameterization(schedule("vp:beta_min"), "x1", "score").callable()


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])
def test_callable_takes_plain_numbers_in_every_backend(backend):
    """Issue 21 item 8: ``callable("torch")(0.5, ...)`` raised TypeError (torch's pow refuses a Python float).
    Plain floats and ints, 0-d arrays/tensors and batched t must all work, against SymPy's own evaluation of
    the coefficients at each t (evalf: an independent route from lambdify)."""
    import jax

    from gifsym.numerics.fields import enable_x64

    torch = pytest.importorskip("torch")
    enable_x64()
    conv = parameterization(schedule("vp"), "x1", "velocity")
    f = conv.callable(backend)

    def want(tv):
        return [float(c.subs(t, sympy.Rational(str(tv))).evalf(30)) for c in (conv.c_x, conv.c_given)]

    wrap = {"numpy": np.asarray, "jax": jax.numpy.asarray, "torch": lambda v: torch.as_tensor(v, dtype=torch.float64)}
    arr = wrap[backend]
    x, g = np.array([1.5, -0.5]), np.array([2.0, 0.25])
    cases = [(0.5, 0.5), (0, 0), (np.int64(0), 0), (arr(0.25), 0.25)]  # t = 1 is singular (a_1 = 0)
    for t_in, tv in cases:
        got = np.asarray(f(t_in, arr(x), arr(g)), dtype=float)
        cx, cg = want(tv)
        # float64 evaluation of the same closed form: ~1e-15 relative; 1e-12 is ~1e4 ulps of margin
        assert np.allclose(got, cx * x + cg * g, rtol=1e-12, atol=1e-12), (t_in, got)
    # plain scalars for x and given too (a 0-d result)
    assert abs(float(f(0.5, 1.0, 2.0)) - sum(c * v for c, v in zip(want(0.5), (1.0, 2.0)))) < 1e-12
    ts = np.array([0.1, 0.5, 0.9])
    got = np.asarray(f(arr(ts)[:, None], arr(np.ones((3, 2))), arr(np.zeros((3, 2)))), dtype=float)
    assert np.allclose(got, np.array([want(v)[0] for v in ts])[:, None] * np.ones((3, 2)), rtol=1e-12)
    if backend == "torch":  # a float32 tensor x keeps its dtype for a plain-number t
        assert f(0.5, torch.ones(2, dtype=torch.float32), torch.ones(2, dtype=torch.float32)).dtype == torch.float32


# -- SNR inverse and transfer ----------------------------------------------------------------------------


def test_transfer_formulas_are_the_inverse_function_theorem():
    f = transfer_formulas()
    A, DA, B, DB, TA, TDA, TB, TDB = P._A, P._DA, P._B, P._DB, *sympy.symbols(
        "\\bar{a}_r \\dot{\\bar{a}}_r \\bar{b}_r \\dot{\\bar{b}}_r", real=True)
    s = f.s
    # ṫ = ρ̄'(r)/ρ'(t) with ρ' = W/a², and ā = s a, b̄ = s b on the transfer
    w, wbar = A * DB - DA * B, TA * TDB - TDA * TB
    expected = (wbar / TA**2) / (w / A**2)
    assert sympy.simplify(f.dt - expected.subs({TA: s * A, TB: s * B})) == 0


@pytest.mark.parametrize("spec", ["linear", "trigonometric", "follmer", "vp", "subvp", "ve", "sd3:shift=3",
                                  "fm-poly:n=3", "cfm:sigma=0.1", "condot:sigma_min=0.01", "cfm-vp:sigma=0.1"])
def test_exact_snr_inverse_inverts(spec):
    s = schedule(spec)
    inv = snr_inverse(s)
    assert inv.kind == "exact", inv.method
    rho = sympy.lambdify(t, s.snr, "mpmath")
    back = sympy.lambdify(inv.expr.free_symbols.pop() if inv.expr.free_symbols else t, inv.expr, "mpmath")
    with mpmath.workdps(50):
        for tj in np.linspace(0.01, 0.99, 41):
            got = mpmath.re(back(rho(mpmath.mpf(tj))))
            assert abs(got - tj) < 1e-35  # 50-digit evaluation of an exact inverse
    ts = np.linspace(0.001, 0.999, 101)
    rho_np = sympy.lambdify(t, s.snr, "numpy")
    assert np.max(np.abs(inv.at(rho_np(ts)) - ts)) < 1e-9  # float64 form; conditioning near the ends


@pytest.mark.parametrize("spec", ["ddpm-scaled", "vp"])
def test_certified_enclosure_contains_the_root(spec):
    s = schedule(spec)
    inv = snr_inverse(s)
    rho = sympy.lambdify(t, s.snr, "mpmath")
    for tj in (0.05, 0.3, 0.7, 0.95):
        with mpmath.workdps(40):
            yj = rho(mpmath.mpf(tj))
        lo, hi = inv.enclosure(float(yj))
        # the root of ρ(t) = float(yj) is within ~1e-16 of tj; the bracket must contain it and be tight
        with mpmath.workdps(40):
            root = mpmath.findroot(lambda x, y=float(yj): rho(x) - mpmath.mpf(y), (tj - 0.01, tj + 0.01),
                                   solver="anderson")
        assert lo <= root <= hi and hi - lo < 1e-12, (tj, lo, hi)
    assert snr_inverse(schedule("ddpm-scaled")).kind == "certified"


PAIRS = [("linear", "trigonometric"), ("vp", "linear"), ("ddpm-scaled", "sd3:shift=3")]
TARGETS = {"gauss-1d": ("gaussian:sigma=0.5", {}),
           "gauss-full": ("gaussian", {"cov": [[1.0, 0.3], [0.3, 0.5]], "mean": [0.5, 0.0]}),
           "gmm-iso": ("gmm", {"weights": [0.3, 0.7], "means": [[-1.0, 0.0], [1.0, 0.5]], "sigma": 0.4}),
           "gmm-full": ("gmm", {"weights": [0.5, 0.5], "means": [[-1.0, 0.0], [1.0, 1.0]],
                                "covariances": [[[0.5, 0.1], [0.1, 0.3]], [[0.2, 0.0], [0.0, 0.6]]]})}


def transfer_error(src: str, tgt: str, nu) -> float:
    """Max over ≥ 100 times r (incl. near both ends) and 64 points x ~ p_r of |v_transferred − v_target|,
    relative to 1 + |v_target|: the transferred exact velocity of ``src`` against the exact velocity of
    ``tgt`` (gifsym's JAX fields)."""
    tr = transfer(schedule(src), schedule(tgt))
    v_src = GIF(schedule(src), nu).field()
    v_tgt = GIF(schedule(tgt), nu).field()
    moved = tr.velocity(lambda tt, x: np.asarray(v_src(tt, x)))
    lo = float(tr.interval.start)
    rs = np.concatenate([np.linspace(lo + 1e-3, 1 - 1e-3, 100), lo + np.array([1e-6, 1e-5, 1e-4]),
                         1 - np.array([1e-6, 1e-5, 1e-4])])
    rng = np.random.default_rng(1)
    arr = nu.law.arrays
    sa, sb = sympy.lambdify(t, schedule(tgt).a), sympy.lambdify(t, schedule(tgt).b)
    worst = 0.0
    for rv in rs:
        k = rng.choice(len(arr["weights"]), size=64, p=arr["weights"])
        x1 = arr["means"][k] + np.einsum("nij,nj->ni", np.linalg.cholesky(arr["covs"][k]),
                                         rng.normal(size=(64, nu.dim)))
        x = sa(rv) * rng.normal(size=(64, nu.dim)) + sb(rv) * x1  # x ~ p_r of the target schedule
        want = np.asarray(v_tgt(rv, x))
        got = moved(rv, x)
        worst = max(worst, float(np.max(np.abs(got - want) / (1 + np.abs(want)))))
    return worst


@pytest.mark.parametrize(("src", "tgt"), PAIRS, ids=[f"{a}-to-{b}" for a, b in PAIRS])
@pytest.mark.parametrize("tid", list(TARGETS))
def test_transfer_maps_the_exact_velocity_onto_the_other_schedules(src, tgt, tid):
    spec, kw = TARGETS[tid]
    err = transfer_error(src, tgt, target(spec, **kw))
    # Both sides are float64 evaluations of exact fields; the time change adds the SNR inverse's ~1e-15
    # (exact form or bisection). Near r = 1 the velocities are O(1/(1 − r)) only in the score parts, so a
    # relative 1e-8 leaves room for conditioning there while any wrong formula errs by O(1).
    assert err < 1e-8, err


def test_transfer_is_exact_on_a_gaussian_to_50_digits():
    """linear -> trigonometric with the exact t(r), s(r): the transferred exact velocity of N(0, 1/4) equals the
    trigonometric schedule's exact velocity (both SymPy expressions, evaluated to 50 digits)."""
    nu = target("gaussian:sigma=0.5")
    tr = transfer(schedule("linear"), schedule("trigonometric"))
    assert tr.kind == "exact"
    x = GIF(schedule("linear"), nu).x[0]
    v_src = GIF(schedule("linear"), nu).velocity()[0]
    v_tgt = GIF(schedule("trigonometric"), nu).velocity()[0].subs(t, r)
    s_r, t_r = tr.scale, tr.time
    moved = sympy.diff(s_r, r) / s_r * x + s_r * sympy.diff(t_r, r) * v_src.subs(x, x / s_r).subs(t, t_r)
    f = sympy.lambdify((r, x), moved - v_tgt, "mpmath")
    with mpmath.workdps(50):
        assert max(abs(f(mpmath.mpf(rv), mpmath.mpf(xv))) for rv in np.linspace(0.01, 0.99, 25)
                   for xv in (-2.0, 0.3, 1.7)) < 1e-40


def test_transfer_interval_and_errors():
    tr = transfer(schedule("vp"), schedule("linear"))
    rho0 = float(sympy.N(schedule("vp").snr.subs(t, 0), 30))
    assert float(tr.interval.start) == pytest.approx(rho0 / (1 + rho0), rel=1e-14)  # linear: r = ρ/(1 + ρ)
    with pytest.raises(ConvertError, match="outside"):
        tr.time_at(0.001)
    lo, hi = tr.time_enclosure(0.5)
    assert lo <= tr.time_at(0.5) <= hi and hi - lo < 1e-12
    with pytest.raises(ConvertError, match="numeric parameters"):
        transfer(schedule("vp:beta_min"), schedule("linear"))
    with pytest.raises(ConvertError, match="callable"):
        tr.velocity(3)


ENDS_PAIRS = [("ddpm", "fm-condot"), ("linear", "trigonometric"), ("vp", "linear"), ("fm-condot", "ddpm"),
              ("fm-poly:n=2", "linear"), ("linear", "fm-poly:n=2")]


@pytest.mark.parametrize(("src", "tgt"), ENDS_PAIRS, ids=[f"{a}-to-{b}" for a, b in ENDS_PAIRS])
def test_transfer_interval_is_closed_exactly_where_the_velocity_evaluates(src, tgt):
    """Issue 21 item 9: ddpm -> fm-condot printed [r_lo, 1] but velocity(1.0, x) raised ZeroDivisionError
    (ρ̄ = ∞ and ȧ_1 = ∞ at r = 1: ṫ is a 0·∞ limit). Now an end is closed iff the transferred exact velocity
    is finite there and equals the target's exact velocity; an open end is refused with ConvertError."""
    nu = target("gaussian:sigma=0.5,mean=0.3")
    tr = transfer(schedule(src), schedule(tgt))
    v_src, v_tgt = GIF(schedule(src), nu).field(), GIF(schedule(tgt), nu).field()
    moved = tr.velocity(lambda tt, x: np.asarray(v_src(tt, x)))
    x = np.array([[-1.0], [0.2], [1.5]])
    for end, is_open in ((tr.interval.start, tr.interval.left_open), (tr.interval.end, tr.interval.right_open)):
        if is_open:
            with pytest.raises(ConvertError, match="outside"):
                moved(float(end), x)
        else:
            got, want = moved(float(end), x), np.asarray(v_tgt(float(end), x))
            # float64 at the very end: the SNR inverse of a huge ρ̄ (tan(π/2) ~ 1.6e16) loses ~1e-8 relative
            assert np.all(np.isfinite(got)) and np.max(np.abs(got - want) / (1 + np.abs(want))) < 1e-6, (end, got)
    if (src, tgt) == ("ddpm", "fm-condot"):
        assert tr.interval.right_open and float(tr.interval.end) == 1
        assert "1)" in str(tr.interval)  # printed open at 1


# -- σ_min paths ---------------------------------------------------------------------------------------


def test_sigma_min_velocity_identity_is_proved():
    orig, new, equal = velocity_identity()
    assert equal and orig != new  # two different-looking expressions, equal by SymPy


SIGMA_MIN = ["condot:sigma_min=0.01", "cfm:sigma=0.1", "cfm-vp:sigma=0.1", "edm:sigma_min=0.5,sigma_max=5,rho=1"]


@pytest.mark.parametrize("spec", SIGMA_MIN)
@pytest.mark.parametrize("tid", ["gauss-1d", "gmm-iso"])
def test_sigma_min_path_is_the_gif_of_the_smoothed_target(spec, tid):
    """The exact velocity of the original path (Gaussian conditioning with a_1 > 0) equals the exact velocity
    of the reparametrised GIF of ν * N(0, σ_min²), at 200 points."""
    s = schedule(spec)
    path = sigma_min_path(s)
    assert path is not None and path.interval == sympy.Interval(0, 1)
    assert path.schedule.check().all_hold, path.schedule.check().to_dict()
    spec_t, kw = TARGETS[tid]
    nu = target(spec_t, **kw)
    f_orig = GIF(s, nu)
    f_new = GIF(path.schedule, smoothed_target(nu, path.sigma_min))
    X = f_orig.x
    v1 = sympy.lambdify((t, *X), list(f_orig.velocity()), "numpy")
    v2 = sympy.lambdify((t, *X), list(f_new.velocity()), "numpy")
    rng = np.random.default_rng(2)
    worst = 0.0
    for tv in np.concatenate([rng.uniform(0, 1, 97), [0.0, 0.5, 0.9999]]):
        x = rng.normal(size=len(X)) * 2
        a, b = np.array(v1(tv, *x), dtype=float), np.array(v2(tv, *x), dtype=float)
        worst = max(worst, float(np.max(np.abs(a - b) / (1 + np.abs(a)))))
    assert worst < 1e-11, worst  # two float64 evaluations of equal exact fields


def test_smoothed_target_classes():
    s = sympy.Rational(1, 10)
    out = smoothed_target(target("slc:kappa=2+slcvx:beta=4"), s)
    assert {(c.id, dict(c.params).popitem()[1]) for c in out.declared} == {
        ("T-slc", sympy.Rational(2) / (1 + 2 * s**2)), ("T-slcvx", sympy.Rational(4) / (1 + 4 * s**2))}
    conv = smoothed_target(target("ball:R=1"), s).declared[0]
    assert conv.id == "T-conv" and dict(conv.params) == {"sigma": s, "R": 1}
    g = smoothed_target(target("gaussian:sigma=0.5"), s).law.components[0]
    assert g.sigma**2 == sympy.Rational(1, 4) + s**2
    with pytest.raises(ConvertError, match="symbolic"):
        smoothed_target(target("slc:kappa"), s)


def test_bounds_of_a_sigma_min_path_instead_of_refusing_it():
    out = CliRunner().invoke(app, ["bounds", "-s", "condot:sigma_min=0.01", "-T", "gaussian:sigma=0.5", "--json"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    assert d["sigma_min_path"]["sigma_min"]["value"] == 0.01 and "N(0, sigma_min^2 I)" in d["sigma_min_path"]["note"]
    # The flow map X_{0,1} of the Gaussian case is x -> sqrt(σ² + σ_min²) x / a_0 (a_0 = 1): sharp bounds.
    assert d["flow_map"]["forward"]["value"] == pytest.approx(np.sqrt(0.25 + 1e-4), rel=1e-12)
    assert d["flow_map"]["reverse"]["value"] == pytest.approx(1 / np.sqrt(0.25 + 1e-4), rel=1e-12)
    note = gifsym.GIF(schedule("cfm:sigma=0.1"), target("slc:kappa=2")).bounds().notes[0]
    assert "sigma_min = 1/10" in note and "smoothed target" in note


def test_a_path_without_b1_equal_1_is_still_refused():
    runner = CliRunner()
    out = runner.invoke(app, ["bounds", "--a", "1 - 0.9*t", "--b", "t/2", "-T", "slc:kappa=1"])
    assert out.exit_code != 0 and "b_1 = 1" in str(out.exception)


# -- every peer spec through `gifsym bounds`, and no peer/torch/JAX import ------------------------------------


@pytest.mark.parametrize("spec", [n for n in PEER_CATALOGUE if n != "edm"] + [
    "cfm:sigma=0.1", "condot:sigma_min=0.01", "cfm-vp:sigma=0.1",
    pytest.param("edm", marks=pytest.mark.slow)])
def test_gifsym_bounds_runs_on_every_peer_schedule(spec):
    out = CliRunner().invoke(app, ["bounds", "-s", spec, "-T", "slc:kappa=2", "--json"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    assert d["flow_map"]["forward"]["value"] is not None and d["lemmas"]


SCRIPT = """
import sys
import gifsym
from click.testing import CliRunner
from gifsym.cli import app
s = gifsym.schedule("fm-vp:beta_min=0.1,beta_max=20")
gifsym.convert.parameterization(s, "velocity", "epsilon").callable("numpy")(0.5, 1.0, 2.0)
tr = gifsym.convert.transfer(s, gifsym.schedule("sd3:shift=3"))
tr.velocity(lambda t, x: x)(0.5, 1.0)
gifsym.GIF(gifsym.schedule("cfm:sigma=0.1"), gifsym.target("gaussian:sigma=1")).bounds()
assert CliRunner().invoke(app, ["schedule", "ddpm-scaled"]).exit_code == 0
bad = sorted(m for m in sys.modules if m.split(".")[0] in {"torch", "jax", "diffusers", "flow_matching", "torchcfm"})
assert not bad, bad[:5]
print("ok")
"""


def test_convert_imports_no_peer_no_torch_no_jax():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_report_of_a_sigma_min_path_uses_the_equivalent_gif():
    from gifsym.output.report import make_report

    rep = make_report(GIF(schedule("condot:sigma_min=0.01"), target("slc:kappa=2")), at=(0.5,))
    assert r"\section{A $\sigma_{\min}$ path}" in rep.tex and "needs S-end" not in rep.tex
    assert "bound-slc" in rep.lemmas and rep.values  # the results of the smoothed target's GIF


def test_transfer_time_scale_at_an_end_with_infinite_derivatives():
    """b = √t has ḃ = ∞ at 0, so the transfer's interval is open there (its velocity needs ṫ, ṡ), but a grid
    needs only t(r) and s(r): SNR matching with linear gives t/(1 − t) = √(r/(1 − r)) and s = b(r)/t(r)."""
    import math

    from gifsym import schedule
    from gifsym.convert import transfer
    from gifsym.errors import ConvertError

    tr = transfer(schedule("linear"), schedule(a="sqrt(1-t)", b="sqrt(t)"))
    assert tr.interval.left_open
    with pytest.raises(ConvertError):
        tr.components(0.0)
    for r in (0.0, 0.25, 0.7, 1.0):
        q = math.sqrt(r / (1 - r)) if r < 1 else math.inf
        t_exact = q / (1 + q) if r < 1 else 1.0
        s_exact = math.sqrt(r) / t_exact if r > 0 else 1.0  # the limit b(r)/t(r) → 1 as r → 0 (t ~ √r)
        t_r, s_r = tr.time_scale(r)
        assert t_r == pytest.approx(t_exact, rel=1e-12, abs=1e-15)  # float64 evaluation of closed forms
        assert s_r == pytest.approx(s_exact, rel=1e-12)
    with pytest.raises(ConvertError):
        tr.time_scale(1.5)
