"""Tests of gifsym.symbolic.prove: tri-state sign proofs on an interval, values and one-sided limits."""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy import Rational as R
from sympy import cos, exp, log, pi, sin, sqrt, tan

from gifsym.symbolic.prove import Verdict, combine, prove_relation, prove_value

t = sympy.Symbol("t", real=True)
s = 1 - t


def _vp_B(s):
    beta_min, beta_max = R(1, 10), 20
    return beta_min * s + (beta_max - beta_min) * s**2 / 2


_SIGMA_MIN, _SIGMA_MAX = R(1, 100), 50
_SIGMA = _SIGMA_MIN * (_SIGMA_MAX / _SIGMA_MIN) ** s

CATALOGUE = {
    "linear": (1 - t, t),
    "trigonometric": (cos(pi * t / 2), sin(pi * t / 2)),
    "follmer": (sqrt(1 - t**2), t),
    "vp": (sqrt(1 - exp(-_vp_B(s))), exp(-_vp_B(s) / 2)),
    "subvp": (1 - exp(-_vp_B(s)), exp(-_vp_B(s) / 2)),
    "ve": (sqrt(_SIGMA**2 - _SIGMA_MIN**2), sympy.Integer(1)),
}

OPEN = {"lo_open": True, "hi_open": True}


def _checks(a, b):
    da, db = sympy.diff(a, t), sympy.diff(b, t)
    d2a, d2b = sympy.diff(da, t), sympy.diff(db, t)
    return {
        "da <= 0 on (0,1)": lambda: prove_relation(da, t, "<=", **OPEN),
        "db >= 0 on (0,1)": lambda: prove_relation(db, t, ">=", **OPEN),
        "a > 0 on [0,1)": lambda: prove_relation(a, t, ">", hi_open=True),
        "b > 0 on (0,1]": lambda: prove_relation(b, t, ">", lo_open=True),
        **{
            f"{name} finite on (0,1)": (lambda e=e: prove_relation(e, t, "finite", **OPEN))
            for name, e in (("a", a), ("b", b), ("da", da), ("db", db), ("d2a", d2a), ("d2b", d2b))
        },
        "a finite on [0,1]": lambda: prove_relation(a, t, "finite"),
        "b finite on [0,1]": lambda: prove_relation(b, t, "finite"),
        "a(0) > 0": lambda: prove_value(a, t, 0, ">", 0),
        "b(0) >= 0": lambda: prove_value(b, t, 0, ">=", 0),
        "a(1-) == 0": lambda: prove_value(a, t, 1, "==", 0, side="-"),
        "b(1-) == 1": lambda: prove_value(b, t, 1, "==", 1, side="-"),
    }


CHECK_NAMES = list(_checks(t, t))


@pytest.mark.parametrize("check", CHECK_NAMES)
@pytest.mark.parametrize("name", list(CATALOGUE))
def test_catalogue_assumptions_hold(name, check):
    a, b = CATALOGUE[name]
    verdict = _checks(a, b)[check]()
    assert verdict.status == "holds", verdict.reason
    assert verdict.reason


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_catalogue_wronskian(name):
    # a b' - a' b >= 0 (math.md §2 consequence), in the form the schedule checker asks it.
    a, b = CATALOGUE[name]
    w = sympy.simplify(a * sympy.diff(b, t) - sympy.diff(a, t) * b)
    verdict = prove_relation(w, t, ">=", **OPEN)
    assert verdict.holds, verdict.reason


# -- the bad custom schedule a = 1 - t, b = t**2 - t/2 ----------------------------------------------

BAD_A, BAD_B = 1 - t, t**2 - t / 2


def test_bad_schedule_end_value():
    verdict = prove_value(BAD_B, t, 1, "==", 1, side="-")
    assert verdict.violated, verdict.reason
    assert "1/2" in verdict.reason


def test_bad_schedule_monotonicity_has_a_counterexample():
    db = sympy.diff(BAD_B, t)  # 2t - 1/2 < 0 for t < 1/4
    verdict = prove_relation(db, t, ">=", **OPEN)
    assert verdict.violated, verdict.reason
    assert "counterexample" in verdict.reason and "t = " in verdict.reason
    point = float(verdict.reason.split("at t = ")[1].split(",")[0].split(" ")[0])
    assert 0 < point < 0.25


def test_bad_schedule_other_checks_still_pass():
    assert prove_value(BAD_A, t, 0, ">", 0).holds
    assert prove_value(BAD_A, t, 1, "==", 0, side="-").holds
    assert prove_relation(sympy.diff(BAD_A, t), t, "<=", **OPEN).holds
    # b = t (t - 1/2) is negative on (0, 1/2): S-pos fails too.
    assert prove_relation(BAD_B, t, ">", lo_open=True).violated


# -- tricky cases -----------------------------------------------------------------------------------


def test_tight_at_a_closed_end_non_strict():
    da = -pi / 2 * sin(pi * t / 2)  # = 0 at t = 0
    assert prove_relation(da, t, "<=").holds
    strict = prove_relation(da, t, "<")
    assert strict.violated and "t = 0" in strict.reason
    assert prove_relation(da, t, "<", lo_open=True).holds


def test_zero_at_one_interior_point_is_a_counterexample_for_strict():
    f = (t - R(1, 2)) ** 2
    verdict = prove_relation(f, t, ">")
    assert verdict.violated, verdict.reason
    assert "0.5" in verdict.reason
    assert prove_relation(f, t, ">=").holds


def test_zero_off_the_grid_is_still_not_proved():
    verdict = prove_relation((t - R(1, 3)) ** 2, t, ">")
    assert not verdict.holds
    assert verdict.violated and "1/3" in verdict.reason


def test_open_end_where_the_expression_vanishes():
    assert prove_relation(1 - t**2, t, ">", hi_open=True).holds
    assert prove_relation(1 - t**2, t, ">").violated
    assert prove_relation(exp(t) - 1 - t, t, ">", lo_open=True).holds
    assert prove_relation(t**2 - t**3, t, ">", **OPEN).holds


def test_singular_end_enclosure():
    # -t/sqrt(1 - t^2) -> -oo at t = 1: still <= 0 on (0, 1), and finite there.
    da = sympy.diff(sqrt(1 - t**2), t)
    assert prove_relation(da, t, "<", **OPEN).holds
    assert prove_relation(da, t, "finite", **OPEN).holds
    assert prove_relation(da, t, "finite", lo_open=True).violated  # t = 1 is included


def test_finite_detects_poles():
    assert prove_relation(1 / (t - R(1, 2)), t, "finite", **OPEN).violated
    assert prove_relation(1 / (t - R(1, 3)), t, "finite", **OPEN).violated  # pole between grid points
    assert prove_relation(tan(2 * t), t, "finite").violated  # pole at pi/4
    assert prove_relation(tan(t), t, "finite").holds
    assert prove_relation(log(t), t, "finite", lo_open=True).holds
    assert prove_relation(log(t), t, "finite").violated
    assert prove_relation(sqrt(t - R(1, 2)), t, "finite").violated


def test_violation_must_exceed_round_off():
    # Tiny but genuine violations are found; a function with scale 1e-40 is judged relative to its scale.
    assert prove_relation(R(1, 10**40) * (t - R(1, 2)), t, ">=", lo_open=True).violated
    assert prove_relation(t - R(1, 10**6), t, ">", lo_open=True).violated


def test_other_intervals():
    assert prove_relation(t - 1, t, ">", lo=1, hi=2, lo_open=True).holds
    assert prove_relation(cos(t), t, ">", lo=0, hi=R(3, 2)).holds
    assert prove_relation(cos(t), t, ">", lo=0, hi=2).violated


def test_all_supported_functions():
    expr = cos(t) ** 2 + sympy.cosh(t) - sympy.sinh(t) - sympy.tanh(t) + sympy.erf(t) + 1
    assert prove_relation(expr, t, ">").holds
    assert prove_relation(sympy.erf(t) - t / 2, t, ">", lo_open=True).holds
    assert prove_relation(sympy.Abs(t - R(1, 2)), t, ">=").holds


def test_unsupported_function_is_unknown_not_holds():
    verdict = prove_relation(sympy.besselj(0, t), t, ">=")
    assert verdict.unknown
    assert "besselj" in verdict.reason


def test_constants():
    assert prove_relation(pi - 3, t, ">").holds
    assert prove_relation(sympy.Integer(0), t, ">").violated
    assert prove_relation(sympy.Integer(0), t, ">=").holds


# -- symbolic parameters ----------------------------------------------------------------------------


def test_symbolic_parameters():
    kappa = sympy.Symbol("kappa", positive=True)
    r = sympy.Symbol("r", real=True)
    assert prove_relation(-kappa * t, t, "<=").holds
    assert prove_relation(-kappa * t, t, "<", lo_open=True).holds
    assert prove_relation(exp(-kappa * t), t, ">").holds
    assert prove_relation(1 / (kappa + t), t, "finite").holds
    unknown = prove_relation(r * t, t, ">=")
    assert unknown.unknown and "r" in unknown.reason and "parameter" in unknown.reason
    assert prove_relation(sqrt(1 - kappa * t), t, "finite").unknown  # kappa may exceed 1
    assert prove_value(kappa * t, t, 1, ">", 0).holds
    assert prove_value(r + kappa * t, t, 0, "==", 0).unknown


def test_symbolic_vp_beta():
    beta = sympy.Symbol("beta", positive=True)
    b = exp(-beta * (1 - t) / 2)
    assert prove_relation(b, t, ">", lo_open=True).holds
    assert prove_relation(sympy.diff(b, t), t, ">=", **OPEN).holds


# -- values and limits ------------------------------------------------------------------------------


def test_values_and_limits():
    assert prove_value(sin(t) / t, t, 0, "==", 1, side="+").holds
    assert prove_value(sin(t) / t, t, 0, "==", 1).violated  # undefined at the point itself
    assert prove_value(1 / t, t, 0, ">", 0, side="+").holds
    assert prove_value(-t / sqrt(1 - t**2), t, 1, "<", 0, side="-").holds
    assert prove_value(sqrt(1 - t**2), t, 1, "==", 0, side="-").holds
    assert prove_value(t**2, t, 1, "==", 2).violated
    assert prove_value(pi, t, 0, ">", 3).holds
    assert prove_value(pi, t, 0, "<=", 3).violated
    assert prove_value(exp(1) - sympy.E, t, 0, "==", 0).holds


def test_bad_arguments():
    with pytest.raises(ValueError):
        prove_relation(t, t, "!=")
    with pytest.raises(ValueError):
        prove_relation(t, t, ">", lo=1, hi=0)
    with pytest.raises(ValueError):
        prove_value(t, t, 0, "=", 0)
    with pytest.raises(ValueError):
        prove_value(t, t, 0, "==", 0, side="left")
    with pytest.raises(ValueError):
        Verdict("maybe", "")


# -- Verdict and combine ----------------------------------------------------------------------------


def test_verdict_and_combine():
    yes, no, maybe = Verdict("holds", "p"), Verdict("violated", "q"), Verdict("unknown", "r")
    assert yes.holds and not yes.violated and not yes.unknown
    assert combine(yes, yes).holds
    assert combine(yes, maybe).unknown
    assert combine(yes, maybe, no).violated
    assert combine(yes, no).reason == "p; q"
    assert combine().holds
    with pytest.raises(AttributeError):
        yes.status = "violated"  # type: ignore[misc]


# -- soundness: "holds" is never wrong on random polynomials ---------------------------------------


@settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(min_value=-4, max_value=4), min_size=1, max_size=5),
    st.sampled_from([">", ">=", "<", "<="]),
    st.booleans(),
    st.booleans(),
)
def test_holds_and_violated_are_sound_on_polynomials(coefficients, relation, lo_open, hi_open):
    poly = sum(c * t**k for k, c in enumerate(coefficients))
    verdict = prove_relation(poly, t, relation, lo_open=lo_open, hi_open=hi_open)

    def exact(x: Fraction) -> Fraction:  # the polynomial at a rational point, exactly and fast
        return sum(c * x**k for k, c in enumerate(coefficients))

    def inside(x) -> bool:
        return (0 < x < 1) or (x == 0 and not lo_open) or (x == 1 and not hi_open)

    compare = {">": lambda v: v > 0, ">=": lambda v: v >= 0, "<": lambda v: v < 0, "<=": lambda v: v <= 0}[
        relation
    ]
    failing = any(not compare(exact(Fraction(k, 400))) for k in range(401) if inside(Fraction(k, 400)))
    if verdict.holds:
        assert not failing, verdict.reason
    # A violation must be real: a failing grid point, a root (strict relations) or a sign change near a root.
    if verdict.violated and not failing:
        roots = [r for r in sympy.real_roots(sympy.Poly(poly, t)) if inside(r)] if poly.free_symbols else []
        near = [
            Fraction(str(sympy.nsimplify(sympy.N(r, 30), rational=True))) + d
            for r in roots
            for d in (Fraction(-1, 10**9), Fraction(1, 10**9))
        ]
        strict = relation in (">", "<")
        assert (strict and roots) or any(inside(x) and not compare(exact(x)) for x in near), verdict.reason
