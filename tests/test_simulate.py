"""Simulation against closed forms (math.md §4, §6), convergence orders, endpoints and options.

The reference is the exact affine flow map of ``N(m, σ²I)``, written here from math.md with NumPy (not
from gifsym's numerics):

    X_{s,t}(x) = b_t m + √((a_t² + σ²b_t²)/(a_s² + σ²b_s²)) (x − b_s m).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import sympy

pytest.importorskip("diffrax")

from gifsym import GIF, schedule, t, target
from gifsym.errors import GifsymError, NumericError
from gifsym.numerics.oracle import oracle_flow
from gifsym.numerics.simulate import (
    DEFAULT_EPS,
    sample_source,
    sample_target,
    simulate,
    w2_time_shift,
)
from gifsym.symbolic.schedule import CATALOGUE

MEAN = np.array([0.7, -0.3])
SIGMA = 0.5


def ab(s, tt: float) -> tuple[float, float]:
    f = sympy.lambdify(t, [s.a, s.b], "numpy")
    a, b = f(tt)
    return float(a), float(b)


def exact_map(s, x: np.ndarray, t_from: float, t_to: float) -> np.ndarray:
    (a_s, b_s), (a_t, b_t) = ab(s, t_from), ab(s, t_to)
    ratio = math.sqrt((a_t**2 + SIGMA**2 * b_t**2) / (a_s**2 + SIGMA**2 * b_s**2))
    return b_t * MEAN + ratio * (x - b_s * MEAN)


def gauss_flow(name: str) -> GIF:
    return GIF(schedule(name), target("gaussian", sigma=SIGMA, mean=MEAN.tolist()))


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_gaussian_end_points_match_the_exact_flow_map(name):
    """Must-show: forward (noise → data) and reverse (data → noise) end points within 1e-6 of the exact map.

    rtol 1e-10 / atol 1e-12 with the max norm hold every particle's local error to ~1e-10 relative; the
    global error stays below ~1e-8 even for VE, whose reverse map expands by a₀/σ ≈ 100. The bound 1e-6 is
    the issue's; a wrong field or time direction is off by O(1).
    """
    flow = gauss_flow(name)
    s = flow.schedule
    x0 = np.asarray(sample_source(flow, 64, seed=1))
    fwd = simulate(flow, x0, rtol=1e-10, atol=1e-12)
    assert fwd.eps == 0 and fwd.t_end == 1.0  # the Gaussian field is finite at t = 1: no early stop
    assert np.max(np.abs(fwd.x - exact_map(s, x0, 0.0, 1.0))) <= 1e-6
    y = np.asarray(sample_target(flow, 64, seed=2))
    rev = simulate(flow, y, rtol=1e-10, atol=1e-12, reverse=True)
    assert rev.reverse and rev.t_start == 1.0 and rev.t_end == 0.0
    assert np.max(np.abs(rev.x - exact_map(s, y, 1.0, 0.0))) <= 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["dopri5", "dopri8"])
@pytest.mark.parametrize("name", ["follmer", "ve"])
def test_other_adaptive_solvers_match_the_exact_flow_map(solver, name):
    """Dopri5 and Dopri8 meet the same 1e-6 as Tsit5 (same tolerances, same reasoning)."""
    flow = gauss_flow(name)
    x0 = np.asarray(sample_source(flow, 64, seed=1))
    res = simulate(flow, x0, solver=solver, rtol=1e-10, atol=1e-12)
    assert np.max(np.abs(res.x - exact_map(flow.schedule, x0, 0.0, 1.0))) <= 1e-6


@pytest.mark.parametrize("solver, order, steps", [("euler", 1, (20, 40, 80, 160)), ("heun", 2, (20, 40, 80, 160)),
                                                  ("rk4", 4, (10, 20, 40, 80))])
def test_fixed_step_orders(solver, order, steps):
    """Must-show: observed orders 1 / 2 / 4 (log-log slope of the end-point error against the step count,
    ±0.3). The step counts keep the error in the asymptotic regime (≥ 1e-3 of its first value) and RK4's
    smallest error (~1e-8) far above round-off."""
    flow = gauss_flow("trigonometric")
    x0 = np.linspace(-2, 2, 5)[:, None] * np.ones((1, 2))
    errs = [np.max(np.abs(simulate(flow, x0, solver=solver, steps=n).x - exact_map(flow.schedule, x0, 0, 1)))
            for n in steps]
    slope = -np.polyfit(np.log(steps), np.log(errs), 1)[0]
    assert abs(slope - order) <= 0.3, (errs, slope)


def test_path_stats_and_progress(capfd):
    flow = gauss_flow("linear")
    x0 = np.asarray(sample_source(flow, 10, seed=3))
    res = simulate(flow, x0, solver="rk4", steps=50, save_path=11, stats=True, t0=0.1, t1=0.9, progress=True)
    out, err = capfd.readouterr()
    # The progress meter writes to stderr (diffrax's text meter "100%", or tqdm's "100.00%" where installed):
    # stdout stays clean for --json.
    assert re.search(r"100(\.0+)?%", err) and "%" not in out
    assert res.ts.shape == (11,) and res.path.shape == (11, 10, 2)
    assert res.ts[0] == pytest.approx(0.1) and res.ts[-1] == pytest.approx(0.9)
    np.testing.assert_array_equal(res.path[0], x0)
    np.testing.assert_allclose(res.path[-1], res.x, rtol=0, atol=1e-14)
    # Every saved state lies on the exact flow (dense output of RK4: 4th-order interpolation, h = 0.016).
    for tt, xt in zip(res.ts, res.path):
        assert np.max(np.abs(xt - exact_map(flow.schedule, x0, 0.1, tt))) < 1e-5
    assert res.stats.num_accepted == 50 and res.stats.num_rejected == 0
    # Stopping at t1 = 0.9 < 1 is reported as ε = 0.1 with its W₂ cost.
    assert res.eps == pytest.approx(0.1) and res.w2_endpoint == pytest.approx(w2_time_shift(flow, 0.9, 1.0))


def test_adaptive_stats_and_rms_norm():
    flow = gauss_flow("vp")
    x0 = np.asarray(sample_source(flow, 64, seed=4))
    a = simulate(flow, x0, stats=True)
    b = simulate(flow, x0, stats=True, norm="rms", solver="dopri5")
    assert a.stats.num_accepted > 0 and a.stats.devices >= 1
    exact = exact_map(flow.schedule, x0, 0, 1)
    # Default tolerances (rtol 1e-6, atol 1e-9): global errors ≲ 1e-5 on this O(1) flow.
    assert np.max(np.abs(a.x - exact)) < 1e-5 and np.max(np.abs(b.x - exact)) < 1e-5


def test_w2_time_shift_bounds_the_exact_gaussian_distance():
    """The coupling bound of stopping early is ≥ the exact W₂ between the Gaussian marginals
    N(b m, (a² + σ²b²) I) (Bures), and equal to it when the schedule moves only the mean."""
    for name in ("linear", "follmer", "vp", "ve"):
        flow = gauss_flow(name)
        for s_, u in ((0.9, 1.0), (0.999, 1.0), (0.2, 0.7)):
            (a1, b1), (a2, b2) = ab(flow.schedule, s_), ab(flow.schedule, u)
            exact = math.sqrt((b1 - b2) ** 2 * MEAN @ MEAN
                              + 2 * (math.sqrt(a1**2 + SIGMA**2 * b1**2) - math.sqrt(a2**2 + SIGMA**2 * b2**2)) ** 2)
            bound = w2_time_shift(flow, s_, u)
            assert bound >= exact * (1 - 1e-12)
            # and it is the coupling formula, not something looser
            m2 = MEAN @ MEAN + 2 * SIGMA**2
            assert bound == pytest.approx(math.sqrt((a1 - a2) ** 2 * 2 + (b1 - b2) ** 2 * m2), rel=1e-12)


def test_oracle_flow_stops_before_one_and_reports_the_cost():
    flow = oracle_flow(schedule("linear"), target("ball:R=1"), dim=2)
    x0 = np.asarray(sample_source(flow, 200, seed=5))
    res = simulate(flow, x0, stats=True)
    assert res.eps == pytest.approx(DEFAULT_EPS) and res.t_end == pytest.approx(1 - DEFAULT_EPS)
    # Linear schedule: a = ε, 1 − b = ε, so the bound is ε √(d + E|X₁|²) with E|X₁|² = 2·(1/√2)²/3 = 1/3.
    assert res.w2_endpoint == pytest.approx(DEFAULT_EPS * math.sqrt(2 + 1 / 3), rel=1e-6)
    # The end points lie (up to a_{1-ε}·|Z| and the solver) in the support [-1/√2, 1/√2]²; a field that
    # pushed mass outside would break this.
    assert np.max(np.abs(res.x)) < 1 / math.sqrt(2) + 0.01
    smaller = simulate(flow, x0, eps=1e-2)
    assert smaller.eps == pytest.approx(1e-2) and smaller.w2_endpoint > res.w2_endpoint


def test_sources():
    lin = gauss_flow("linear")
    z = np.asarray(sample_source(lin, 40000, seed=6))
    # b₀ = 0: N(0, a₀² I) with a₀ = 1 (5 standard errors of the sample variance, √(2/n) ≈ 0.007).
    assert abs(z.var() - 1) < 5 * math.sqrt(2 / z.size) and abs(z.mean()) < 5 / math.sqrt(z.size)
    ve = gauss_flow("ve")
    a0, b0 = ab(ve.schedule, 0.0)
    assert b0 == 1.0
    x = np.asarray(sample_source(ve, 40000, seed=6))
    # b₀ > 0: the exact a₀Z + b₀X₁ has mean b₀m and variance a₀² + b₀²σ² per coordinate.
    assert np.max(np.abs(x.mean(0) - b0 * MEAN)) < 5 * a0 / math.sqrt(40000)
    assert np.max(np.abs(x.var(0) / (a0**2 + SIGMA**2) - 1)) < 5 * math.sqrt(2 / 40000)
    np.testing.assert_array_equal(np.asarray(sample_source(ve, 5, seed=7)), np.asarray(sample_source(ve, 5, seed=7)))


def test_gmm_target_samples():
    g = GIF(schedule("linear"), target("gmm", weights=[0.2, 0.8], means=[[-2.0], [1.0]], sigmas=[0.3, 0.5]))
    y = np.asarray(sample_target(g, 40000, seed=8)).ravel()
    mean = 0.2 * -2 + 0.8 * 1
    var = 0.2 * (4 + 0.09) + 0.8 * (1 + 0.25) - mean**2
    assert abs(y.mean() - mean) < 5 * math.sqrt(var / y.size)
    assert abs(y.var() / var - 1) < 0.03  # 5 standard errors of a variance with kurtosis ≤ 3 at n = 4e4


@pytest.mark.parametrize("kwargs, message", [
    ({"solver": "rk45"}, "unknown solver"),
    ({"solver": "euler"}, "fixed steps"),
    ({"steps": 10}, "fixed-step"),
    ({"rtol": 0.0}, "rtol"),
    ({"t0": 0.5, "t1": 0.5}, "t0 < t1"),
    ({"t1": 1.5}, "t1"),
    ({"eps": 1.0}, "eps"),
    ({"save_path": 1}, "save_path"),
    ({"norm": "l1"}, "norm"),
])
def test_option_errors(kwargs, message):
    with pytest.raises(NumericError, match=message):
        simulate(gauss_flow("linear"), np.zeros((2, 2)), **kwargs)


def test_input_errors():
    flow = gauss_flow("linear")
    with pytest.raises(NumericError, match=r"shape \(n, 2\)"):
        simulate(flow, np.zeros((3, 3)))
    with pytest.raises(NumericError, match="non-finite"):
        simulate(flow, np.full((3, 2), np.nan))
    with pytest.raises(GifsymError, match="oracle"):
        simulate(GIF(schedule("linear"), target("slc:kappa=1")), np.zeros((2, 1)))
    with pytest.raises(NumericError, match="symbolic"):
        simulate(GIF(schedule("vp:beta_min"), target("gaussian:sigma=1")), np.zeros((2, 1)))
    with pytest.raises(NumericError, match="positive integer"):
        sample_source(flow, 0)
    # (n,) is accepted for a one-dimensional flow
    one = GIF(schedule("linear"), target("gaussian:sigma=2"))
    assert simulate(one, np.array([1.0, -0.5]), rtol=1e-10, atol=1e-12).x[:, 0] == pytest.approx([2.0, -1.0])


@pytest.mark.slow
def test_step_budget_exhaustion_is_a_numeric_error(monkeypatch):
    import gifsym.numerics.simulate as sim

    monkeypatch.setattr(sim, "MAX_STEPS", 5)
    sim._compiled_solve.cache_clear()
    try:
        with pytest.raises(NumericError, match="step budget"):
            simulate(gauss_flow("ve"), np.ones((2, 2)), rtol=1e-12, atol=1e-14)
    finally:
        sim._compiled_solve.cache_clear()


def test_module_doctests():
    import doctest

    import gifsym.numerics.sharding
    import gifsym.numerics.simulate

    for mod in (gifsym.numerics.simulate, gifsym.numerics.sharding):
        result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0 and result.attempted > 0, mod.__name__
