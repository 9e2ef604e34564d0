"""The identities of math.md §4, symbolically (SymPy simplifies the difference to 0).

The numeric side of the same identities (JAX against SymPy, an independent NumPy mixture) is in
tests/test_numeric.py.
"""

from __future__ import annotations

import pytest
import sympy

from gifsym import GIF, schedule, t, target
from gifsym.symbolic import inventory
from gifsym.symbolic.flow import DA, DB, A, B, component_coefficients, general_coefficients
from gifsym.symbolic.schedule import Schedule


def is_zero(expr) -> bool:
    """Symbolic zero test: rational normal form first (fast), full ``simplify`` only if that is not enough."""
    if isinstance(expr, sympy.MatrixBase):
        return all(is_zero(e) for e in expr)
    # Mixture responsibilities enter through exponentials exp(ℓ_k); the identities hold as rational
    # identities with each exp(ℓ_k) an independent symbol, and zero there implies zero for the true values.
    atoms = {a: sympy.Dummy() for a in expr.atoms(sympy.exp) if a.args[0].free_symbols - {t}}
    if atoms and sympy.cancel(sympy.together(expr.xreplace(atoms))) == 0:
        return True
    return sympy.cancel(sympy.together(sympy.expand(expr))) == 0 or sympy.simplify(expr) == 0


#: A schedule with unspecified a(t), b(t): identities proved for it hold for every schedule.
GENERIC = Schedule("generic", sympy.Function("a")(t), sympy.Function("b")(t))


def test_general_coefficients_are_the_denoiser_form():
    g = general_coefficients()
    assert is_zero(g.x - DA / A)
    assert is_zero(g.m - (DB - DA * B / A))
    assert is_zero(g.C - B * (A * DB - DA * B) / A**3)
    assert is_zero(g.score_m - B / A**2) and is_zero(g.score_x + 1 / A**2)


def test_component_coefficients_match_math_md():
    lam = sympy.Symbol("lambda", positive=True)
    cx, cm, s, pv = component_coefficients()
    assert is_zero(cx - (A * DA + lam * B * DB) / (A**2 + lam * B**2))
    assert is_zero(cm - A * (A * DB - DA * B) / (A**2 + lam * B**2))
    # v = c_x (y − bμ) + ḃ μ  (math.md §4, Gaussian case)
    assert is_zero(cx * B + cm - DB)
    assert is_zero(pv - lam * A**2 / (A**2 + lam * B**2))


def test_gaussian_velocity_is_math_md_closed_form(any_schedule):
    sigma, m = sympy.Rational(1, 2), sympy.Rational(3, 2)
    flow = GIF(any_schedule, target("gaussian", sigma=sigma, mean=m))
    a, b, da, db = any_schedule.a, any_schedule.b, any_schedule.da, any_schedule.db
    L = (a * da + sigma**2 * b * db) / (a**2 + sigma**2 * b**2)
    x = flow.x[0]
    assert is_zero(flow.velocity()[0] - (L * (x - b * m) + db * m))
    assert is_zero(flow.jacobian()[0] - L)


@pytest.mark.parametrize("tid", ["gauss-1d", "gauss-2d-mean"])
def test_gaussian_identities(any_schedule, tid):
    # Full covariances and mixtures are proved for a generic schedule below (which covers every schedule,
    # since each is a substitution instance of it); per schedule they are checked numerically.
    tg = inventory.exact_targets()[tid]
    flow = GIF(any_schedule, tg)
    _check_identities(flow)


@pytest.mark.parametrize("tid", ["gauss-1d", "gauss-2d-mean", "gauss-full"])
def test_identities_for_a_generic_schedule(tid):
    """With a(t), b(t) left unspecified the identities are proved once for every schedule."""
    _check_identities(GIF(GENERIC, inventory.exact_targets()[tid]))


@pytest.mark.parametrize("tid", ["gmm-sigmas", "gmm-iso",
                                 pytest.param("gmm-full", marks=pytest.mark.slow)])
def test_gmm_identities_linear(tid):
    # Mixture expressions hold exponentials of rational functions; the identities are proved for the
    # linear schedule here and for a generic one above. Every schedule is covered numerically in
    # test_numeric.py.
    _check_identities(GIF(schedule("linear"), inventory.exact_targets()[tid]))


def _check_identities(flow: GIF) -> None:
    s = flow.schedule
    X = sympy.Matrix(flow.x)
    m, C = flow.posterior_mean(), flow.posterior_cov()
    v, J, score = flow.velocity(), flow.jacobian(), flow.score()
    c = flow.coefficients
    d = flow.dim
    checks = {
        "denoiser form": v - (c.x * X + c.m * m),
        "Tweedie": score - (s.b * m - X) / s.a**2,
        "key identity": J - (c.x * sympy.eye(d) + c.C * C),
        "grad m": m.jacobian(flow.x) - s.b / s.a**2 * C,
        "score form": v - (s.db / s.b * X + (s.db * s.a**2 / s.b - s.da * s.a) * score),
        "symmetric": J - J.T,
    }
    for name, diff in checks.items():
        assert is_zero(diff), f"{name} fails for {s.spec} / {flow.target.spec}"


def test_class_target_general_forms(class_target):
    flow = GIF(schedule("trigonometric"), class_target)
    v, J = flow.velocity(), flow.jacobian()
    assert isinstance(v, sympy.MatAdd) and isinstance(J, sympy.MatAdd)
    c = flow.coefficients
    a, b, da, db = (flow.schedule.a, flow.schedule.b, flow.schedule.da, flow.schedule.db)
    assert is_zero(c.C - b * (a * db - da * b) / a**3)
    assert is_zero(c.x - da / a)


def test_symbolic_schedule_parameter_stays_symbolic():
    s = schedule("vp:beta_min")
    flow = GIF(s, target("gaussian:sigma=1"))
    assert sympy.Symbol("beta_min", positive=True) in flow.velocity()[0].free_symbols
    assert t in flow.velocity()[0].free_symbols
