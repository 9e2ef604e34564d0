"""Schedules: catalogue, parameters, custom expressions, derivatives and the assumption report."""

from __future__ import annotations

import pytest
import sympy

from gifsym import schedule, t
from gifsym.errors import ExpressionError, GifsymError, ScheduleError
from gifsym.symbolic.schedule import CATALOGUE, SCHEDULE_ASSUMPTIONS


def test_every_inventory_schedule_satisfies_every_assumption(any_schedule):
    report = any_schedule.check()
    for key in SCHEDULE_ASSUMPTIONS:
        assert report.status(key) == "holds", (any_schedule.spec, key, report[key].reason)
    assert report.status("wronskian") == "holds"


def test_bad_custom_schedule_is_violated_on_end_and_mono():
    report = schedule(a="1 - t", b="t**2 - t/2").check()
    assert report.status("S-end") == "violated"
    assert report.status("S-mono") == "violated"
    assert "b_1" in report["S-end"].reason


def test_derivatives_are_sympy_diff(any_schedule):
    assert sympy.simplify(any_schedule.da - sympy.diff(any_schedule.a, t)) == 0
    assert sympy.simplify(any_schedule.db - sympy.diff(any_schedule.b, t)) == 0
    assert sympy.simplify(any_schedule.snr - any_schedule.b / any_schedule.a) == 0


def test_catalogue_formulas():
    s = 1 - t
    B = sympy.Rational(1, 10) * s + (20 - sympy.Rational(1, 10)) * s**2 / 2
    expected = {
        "linear": (1 - t, t),
        "trigonometric": (sympy.cos(sympy.pi * t / 2), sympy.sin(sympy.pi * t / 2)),
        "follmer": (sympy.sqrt(1 - t**2), t),
        "vp": (sympy.sqrt(1 - sympy.exp(-B)), sympy.exp(-B / 2)),
        "subvp": (1 - sympy.exp(-B), sympy.exp(-B / 2)),
        "ve": (sympy.sqrt((sympy.Rational(1, 100) * 5000**s) ** 2 - sympy.Rational(1, 10000)), 1),
    }
    assert set(expected) == set(CATALOGUE)
    for name, (a, b) in expected.items():
        sch = schedule(name)
        assert sympy.simplify(sch.a - a) == 0 and sympy.simplify(sch.b - b) == 0, name


def test_parameters_exact_and_symbolic():
    s = schedule("vp:beta_min=0.1,beta_max=20")
    assert dict(s.params) == {"beta_min": sympy.Rational(1, 10), "beta_max": 20}
    s2 = schedule("ve", sigma_min=0.02, sigma_max="40")
    assert dict(s2.params)["sigma_min"] == sympy.Rational(2, 100)
    sym = schedule("vp:beta_max")
    assert sympy.Symbol("beta_max", positive=True) in sym.a.free_symbols


@pytest.mark.parametrize(
    "spec, match",
    [
        ("cosine", "unknown schedule 'cosine'; accepted: linear"),
        ("vp:beta=3", "unknown parameter 'beta' for schedule 'vp'; accepted: beta_max, beta_min"),
        ("vp:beta_max=-1", "beta_max=-1 must be > 0"),
        ("vp:beta_min=5,beta_max=2", "needs beta_max > beta_min"),
        ("ve:sigma_min=0", "sigma_min=0 must be > 0"),
        ("linear:x=1", "unknown parameter 'x' for schedule 'linear'; accepted: none"),
        ("vp:beta_min=1,beta_min=2", "given twice"),
        ("", "empty spec"),
    ],
)
def test_bad_specs_name_the_value(spec, match):
    with pytest.raises(ScheduleError, match=match):
        schedule(spec)


def test_custom_schedule_with_parameter():
    s = schedule(a="1 - t**p", b="t**p", p=2)
    assert s.a == 1 - t**2 and s.name == "custom"
    # Issue 11: an undeclared name is a parameter left symbolic (positive), as with --param q ...
    q = schedule(a="1 - t**q", b="t")
    assert dict(q.params) == {"q": sympy.Symbol("q", positive=True)}
    assert q.a.subs(sympy.Symbol("q", positive=True), 2) == 1 - t**2
    # ... while a misspelt function or constant is still an error naming it.
    with pytest.raises(ExpressionError, match="cso"):
        schedule(a="cso(t)", b="t")
    with pytest.raises(ExpressionError, match="did you mean 'E'"):
        schedule(a="e**(-t)", b="t")


def test_hostile_custom_expression_executes_nothing(tmp_path):
    marker = tmp_path / "pwned"
    with pytest.raises(GifsymError):
        schedule(a=f"__import__('os').system('touch {marker}')", b="t")
    assert not marker.exists()


def test_spec_and_custom_together_rejected():
    with pytest.raises(ScheduleError, match="not both"):
        schedule("linear", a="1-t", b="t")
