"""Integrals of bounds (math.md §6): antiderivatives, potentials real on their cell, roots of the SNR.

Each exact value here is checked against scipy's quadrature of the same integrand, an independent route
(relative tolerance 1e-10: ``quad`` reaches ~1e-13 on these smooth integrands with ``epsrel=1e-13``), and
each case is one the code before this file took a longer or weaker route for (named in the test).
"""

from __future__ import annotations

import math

import pytest
import sympy
from scipy import integrate

from gifsym import schedule, t
from gifsym.symbolic.flow import DA, DB, A, B, instantiate
from gifsym.theory import integrals
from gifsym.theory.integrals import cell_potential, find_potential, integrate_piece, integrate_t, roots, tidy

HALF, ONE = sympy.Rational(1, 2), sympy.Integer(1)


def quad(f: sympy.Expr, lo: float, hi: float) -> float:
    return integrate.quad(sympy.lambdify(t, f, "math"), lo, hi, epsabs=0, epsrel=1e-13, limit=200)[0]


@pytest.mark.parametrize("route", ["logarithmic derivative", "ratint"])
def test_rational_potentials_come_without_algebraic_clutter(monkeypatch, route):
    # The upper bound U^κ of a Gaussian with covariance eigenvalue κ = (75 + 5√61)/41: integrate() went
    # through its heuristics and returned (3/328 − √61/1640)(5√61 + 75) log(…); both routes give ½ log(…).
    if route == "ratint":
        monkeypatch.setattr(integrals, "_log_potential", lambda F: None)
    k = (75 + 5 * sympy.sqrt(61)) / 41
    F = sympy.cancel((k * A * DA + B * DB) / (k * A**2 + B**2))
    G = find_potential.__wrapped__(F)
    assert sympy.simplify(sympy.diff(G, A) * DA + sympy.diff(G, B) * DB - F) == 0
    assert sympy.count_ops(G) <= 12, G
    assert isinstance(G, sympy.Mul) and G.args[0] == HALF and isinstance(G.args[1], sympy.log)


def test_a_potential_with_a_negative_log_argument_is_used_on_its_cell():
    # Linear schedule: a² − 2b² = (1 − t)² − 2t² < 0 for t > √2 − 1, so ½ log(a² − 2b²) is complex on
    # (1/2, 1); ½ log(2b² − a²) is real there and has the same derivative.
    s = schedule("linear")
    F = (A * DA - 2 * B * DB) / (A**2 - 2 * B**2)
    G = cell_potential(F, s, HALF, ONE)
    assert G == sympy.log(2 * B**2 - A**2) / 2
    I = integrate_piece(F, s, HALF, ONE)
    assert I.method == "potential" and I.kind == "exact"  # before: the complex potential was refused
    assert sympy.simplify(I.value - sympy.log(8) / 2) == 0
    assert float(I.value) == pytest.approx(quad(instantiate(F, s), 0.5, 1.0), rel=1e-10)
    # Where the argument is positive, the potential is left as found.
    assert cell_potential(F, s, sympy.Integer(0), sympy.Rational(1, 4)) == find_potential(F)


@pytest.mark.parametrize("negative", [True, False])
def test_an_integral_is_exact_whichever_log_form_sympy_returns(monkeypatch, negative):
    # integrate() returns log(cos² − 2 sin²)/2 or log(2 sin² − cos²)/2 for this integrand depending on SymPy's
    # cache; on (2 atan(√6/2)/π, 1) only the second is real. Both must give the exact value.
    phi = sympy.pi * t / 2
    f = -3 * sympy.pi * sympy.sin(phi) * sympy.cos(phi) / (2 * (sympy.cos(phi) ** 2 - 2 * sympy.sin(phi) ** 2))
    u = sympy.cos(phi) ** 2 - 2 * sympy.sin(phi) ** 2
    form = sympy.log(u if negative else -u) / 2
    assert sympy.simplify(sympy.diff(form, t) - f) == 0
    monkeypatch.setattr(integrals.sympy, "integrate", lambda *args, **kw: form)
    lo = 2 * sympy.atan(sympy.sqrt(6) / 2) / sympy.pi
    I = integrate_t.__wrapped__(f, lo, ONE)
    assert I.kind == "exact" and I.method == "sympy"
    assert float(I.value) == pytest.approx(quad(f, float(lo), 1.0), rel=1e-10)


def test_roots_solve_the_easier_equation_and_check_it_against_the_enclosure():
    # VE: b = ρa with a = √(5000^(2−2t)/10⁴ − 10⁻⁴), b = 1, ρ = √2/2. Squared, b² = ρ²a² has no square
    # root for solve to clear (0.1 s against 0.5 s).
    s = schedule("ve")
    rho = sympy.sqrt(2) / 2
    expr = s.b - rho * s.a
    r = roots(expr, sympy.Integer(0), ONE, True, sympy.expand(s.b**2 - rho**2 * s.a**2))
    assert r.exact and len(r.points) == 1
    assert sympy.simplify(expr.subs(t, r.points[0])) == 0
    assert r.points[0] == 1 - sympy.log(20001) / (2 * sympy.log(5000))
    # An equation whose roots are not the sign changes of expr is not believed: the enclosure stays.
    wrong = roots(expr, sympy.Integer(0), ONE, True, t - sympy.Rational(1, 10))
    assert not wrong.exact and len(wrong.points) == 1
    assert abs(float(wrong.points[0] - r.points[0])) < 1e-25


def test_tidy_writes_a_schedule_at_a_solved_root_without_logs_in_exponents():
    q = sympy.Rational(75000000, 20003)
    v = sympy.Integer(5000) ** (2 - sympy.log(q) / sympy.log(5000)) / 10000
    out = tidy(v)
    assert not any(p.exp.has(sympy.log) for p in out.atoms(sympy.Pow))
    assert out == sympy.Rational(5000**2, 10000) / q
    assert math.isclose(float(out), float(sympy.N(v, 30)), rel_tol=1e-15)


@pytest.mark.parametrize("F, G", [
    ((2 * A * DA + B * DB) / (2 * A**2 + B**2), sympy.log(2 * A**2 + B**2) / 2),
    # a negative leading coefficient is turned positive, as ratint writes it: the same up to a constant
    ((A * DA - 2 * B * DB) / (2 * B**2 - A**2) * -1, sympy.log(A**2 - 2 * B**2) / 2),
    (DA / A, sympy.log(A)),
])
def test_logarithmic_derivatives_are_recognised_without_integrating(monkeypatch, F, G):
    # U^κ = ½ d/dt log(κa² + b²): found from the denominator alone, and the same as the general route gives.
    assert integrals._log_potential(F) == G
    monkeypatch.setattr(integrals, "_log_potential", lambda F: None)
    assert sympy.simplify(find_potential.__wrapped__(F) - G).is_constant()


def test_other_bounds_take_the_general_route():
    # The ball bound's potential has a rational part; ȧ/(ȧ + a) has a denominator that is not a function of
    # (a, b), so its time derivative is not D_a ȧ + D_b ḃ.
    assert integrals._log_potential(DA / A + B * (A * DB - DA * B) / A**3) is None
    assert find_potential(DA / A + B * (A * DB - DA * B) / A**3) == sympy.log(A) + B**2 / (2 * A**2)
    assert integrals._log_potential(DA / (DA + A)) is None
