"""Source and velocity stability (math.md §6), checked against closed forms on Gaussian flows."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
from scipy import integrate

from gifsym import GIF, schedule, t, target
from gifsym.errors import GifsymError
from gifsym.theory.stability import cycle_consistency, source_stability, velocity_stability


def test_source_stability_without_b0_has_no_start_cost():
    s = source_stability(GIF(schedule("linear"), target("gaussian:sigma=0.5")), w2=sympy.Rational(1, 10))
    assert s.b0 == 0 and s.gaussian_start_cost == 0 and s.pushed_gaussian_start == 0
    assert s.lipschitz == sympy.Rational(1, 2)
    assert s.bound == sympy.Rational(1, 20) and s.bound_value == pytest.approx(0.05)


@pytest.mark.parametrize("name", ["vp", "subvp", "ve"])
def test_gaussian_start_cost_for_b0_positive(name):
    sched = schedule(name)
    gif = GIF(sched, target("gaussian:sigma=0.7,dim=2,mean=[1,-0.5]"))
    s = source_stability(gif)
    b0 = sched.b.subs(t, 0)
    m2 = 2 * 0.7**2 + 1 + 0.25  # E|X_1|² = tr Σ + |m|²
    assert float(s.b0) == pytest.approx(float(b0), rel=1e-12)
    assert s.gaussian_start_cost_value == pytest.approx(float(b0) * math.sqrt(m2), rel=1e-12)
    assert s.pushed_gaussian_start_value == pytest.approx(s.lipschitz_value * s.gaussian_start_cost_value, rel=1e-12)
    # The true cost: μ = N(b_0 m, (a_0² + b_0²σ²) I) against N(0, a_0² I), whose W_2 has a closed form.
    a0 = float(sched.a.subs(t, 0))
    sd = math.sqrt(a0**2 + float(b0) ** 2 * 0.49)
    w2 = math.sqrt(float(b0) ** 2 * 1.25 + 2 * (sd - a0) ** 2)
    assert w2 <= s.gaussian_start_cost_value


def test_source_stability_of_a_class_keeps_the_second_moment_symbolic():
    gif = GIF(schedule("vp"), target("slc:kappa=2"))
    s = source_stability(gif)
    assert s.second_moment == sympy.Symbol("M_2", positive=True)
    assert s.gaussian_start_cost_value is None
    s2 = source_stability(gif, second_moment=3, w2=sympy.Rational(1, 100))
    b0 = float(schedule("vp").b.subs(t, 0))
    assert s2.gaussian_start_cost_value == pytest.approx(b0 * math.sqrt(3), rel=1e-12)
    assert s2.bound_value == pytest.approx(s2.lipschitz_value / 100, rel=1e-12)
    with pytest.raises(GifsymError):
        source_stability(GIF(schedule("vp"), target("gaussian:sigma=1")), second_moment=3)


def test_source_stability_is_unbounded_without_a_forward_constant():
    s = source_stability(GIF(schedule("linear"), target("ball:R=1")))
    assert s.lipschitz == sympy.oo and s.lipschitz_value == math.inf


def test_velocity_stability_closed_forms():
    C = sympy.Rational(3, 2)
    v = velocity_stability(C, error=sympy.Rational(1, 10))
    assert sympy.simplify(v.gronwall - (sympy.exp(C) - 1) / C / 10) == 0
    assert sympy.simplify(v.factor - (sympy.exp(2 * C) - 1) / (2 * C)) == 0
    assert sympy.simplify(v.cauchy_schwarz - sympy.sqrt(v.factor) / 10) == 0
    # Grönwall's form is never worse than Cauchy–Schwarz's.
    for err in (sympy.Rational(1, 10), t, sympy.exp(-3 * t), 1 - t**2):
        w = velocity_stability(2, error=err)
        assert w.gronwall_value <= w.cauchy_schwarz_value * (1 + 1e-12)
    # C = 0: the factor's limit is 1.
    z = velocity_stability(0, error=t)
    assert z.factor == 1 and z.gronwall == sympy.Rational(1, 2)
    assert z.cauchy_schwarz == sympy.sqrt(3) / 3


def test_velocity_stability_symbolic_and_from_the_squared_integral():
    C = sympy.Symbol("C", positive=True)
    v = velocity_stability(C)
    assert isinstance(v.gronwall, sympy.Integral) and v.gronwall_value is None
    w = velocity_stability(1, error_sq_integral=sympy.Rational(1, 4))
    assert w.cauchy_schwarz_value == pytest.approx(math.sqrt((math.e**2 - 1) / 2) / 2)
    with pytest.raises(GifsymError):
        velocity_stability(-1, error=1)


def test_velocity_stability_bounds_a_real_perturbation():
    """v: the flow towards N(0, σ²); ṽ: the flow towards N(0, σ̃²) (affine, Lipschitz constant C =
    sup_t |L̃_t|). Both start from N(0, 1); the outputs are N(0, σ²) and N(0, σ̃²), at W_2 = |σ − σ̃|."""
    sig, sig2 = 0.5, 0.6
    s = schedule("trigonometric")
    f = sympy.lambdify(t, [s.a, s.da, s.b, s.db], "numpy")

    def L(tt, sg):
        a, da, b, db = f(tt)
        return (a * da + sg**2 * b * db) / (a**2 + sg**2 * b**2)

    C = max(abs(L(x, sig2)) for x in np.linspace(0, 1, 20001)) * 1.0001

    def eps(tt):  # ‖(L_t − L̃_t) x‖_{L²(p_t)} with p_t = N(0, a² + σ² b²)
        a, _, b, _ = f(tt)
        return abs(L(tt, sig) - L(tt, sig2)) * math.sqrt(a**2 + sig**2 * b**2)

    gron = integrate.quad(lambda x: math.exp(C * (1 - x)) * eps(x), 0, 1, epsabs=1e-13)[0]
    sq = integrate.quad(lambda x: eps(x) ** 2, 0, 1, epsabs=1e-13)[0]
    v = velocity_stability(C, error_sq_integral=sq)
    assert abs(sig - sig2) <= gron <= v.cauchy_schwarz_value


def test_cycle_consistency_between_two_gaussians():
    s = schedule("linear")
    g1, g2 = GIF(s, target("gaussian:sigma=0.5")), GIF(s, target("gaussian:sigma=2"))
    c = cycle_consistency(g1, g2)
    assert c.lipschitz == 4  # T(x) = (σ₂/σ₁) x exactly: the bound is sharp
    assert c.inverse_lipschitz == sympy.Rational(1, 4)
    with pytest.raises(GifsymError, match="b_0"):
        cycle_consistency(GIF(schedule("vp"), target("gaussian:sigma=1")), GIF(schedule("vp"), target("slc:kappa=1")))
    with pytest.raises(GifsymError, match="same schedule"):
        cycle_consistency(g1, GIF(schedule("trigonometric"), target("gaussian:sigma=2")))
