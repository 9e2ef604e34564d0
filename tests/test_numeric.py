"""JAX fields against independent routes (math.md §4, checked numerically).

* ``jax.jacfwd`` of ``field()`` against ``jacobian_field()`` and against the SymPy Jacobian;
* the GMM field against an independent NumPy implementation written here (posterior of each component by
  Gaussian conditioning, responsibilities by Bayes' rule), and against a direct lambdification of the
  full SymPy expression;
* schedule derivatives against ``jax.grad`` of the lambdified coefficients.

Tolerances: every quantity is O(1)–O(10²) at the sampled points and is computed in float64 by two
different sequences of operations, so agreement to 1e-10 relative leaves six orders of magnitude above
double-precision round-off (~1e-16 times condition numbers ≲ 1e3 here) while any algebraic error
(a wrong coefficient, a missing term) shows up at O(1).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

jax = pytest.importorskip("jax")
import jax.numpy as jnp

from gifsym import GIF, schedule, t, target
from gifsym.numerics.fields import endpoint_report, lambdify_jax
from gifsym.symbolic import inventory

RTOL = 1e-10
TIMES = (0.0, 0.13, 0.5, 0.87, 0.999, 1.0)


def rel_err(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


def points(d: int, n: int = 7, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=1.5, size=(n, d))


def numpy_mixture_velocity(s, law, tt: float, x: np.ndarray) -> np.ndarray:
    """Independent route: v = E[ȧZ + ḃX₁ | X_t = x] from per-component Gaussian conditioning."""
    f = sympy.lambdify(t, [s.a, s.b, s.da, s.db], "numpy")
    a, b, da, db = (float(v) for v in f(tt))
    arr = law.arrays
    out = np.zeros_like(x)
    logp = []
    posts = []
    for w, m, S in zip(arr["weights"], arr["means"], arr["covs"]):
        cov_t = a * a * np.eye(len(m)) + b * b * S  # Var X_t given the component
        r = x - b * m
        sol = np.linalg.solve(cov_t, r.T).T
        logp.append(np.log(w) - 0.5 * np.sum(r * sol, axis=1) - 0.5 * np.linalg.slogdet(cov_t)[1])
        post_mean = m + (b * S @ sol.T).T  # E[X₁ | X_t, k] = m + bΣ(a²I + b²Σ)⁻¹(x − bm)
        if a > 0:
            z = (x - b * post_mean) / a  # E[Z | X_t, k]
            posts.append(da * z + db * post_mean)
        else:  # t = 1: use E[ȧZ] = ȧ E[Z]; with a = 0 take the limit via the exact identity ȧZ = ȧ(x − bX₁)/a
            raise ValueError("the NumPy route is used for a > 0 only")
    logp = np.array(logp)
    R = np.exp(logp - logp.max(0))
    R /= R.sum(0)
    for k, p in enumerate(posts):
        out += R[k][:, None] * p
    return out


def test_field_matches_numpy_mixture(any_schedule, exact_target):
    flow = GIF(any_schedule, exact_target)
    v = flow.field()
    x = points(flow.dim)
    for tt in TIMES[:-1]:  # a_t > 0 for t < 1 (the NumPy route divides by a)
        assert rel_err(v(tt, x), numpy_mixture_velocity(any_schedule, exact_target.law, tt, x)) < RTOL, tt


def test_jacfwd_matches_jacobian_field(any_schedule, exact_target):
    flow = GIF(any_schedule, exact_target)
    v, J = flow.field(), flow.jacobian_field()
    x = jnp.asarray(points(flow.dim))
    for tt in TIMES:
        auto = jax.vmap(jax.jacfwd(lambda y, tt=tt: v(tt, y[None])[0]))(x)
        Jx = J(tt, x)
        assert rel_err(Jx, auto) < RTOL, tt
        assert rel_err(Jx, np.swapaxes(np.asarray(Jx), 1, 2)) < RTOL  # ∇v is symmetric (math.md §4)


@pytest.mark.parametrize("tid", ["gauss-1d", "gmm-sigmas",
                                 pytest.param("gauss-full", marks=pytest.mark.slow),
                                 pytest.param("gmm-iso", marks=pytest.mark.slow)])
def test_field_matches_lambdified_sympy(any_schedule, tid):
    """Small cases: the matrix-product field equals a direct lambdification of the whole SymPy expression."""
    flow = GIF(any_schedule, inventory.exact_targets()[tid])
    vs = lambdify_jax([t, *flow.x], list(flow.velocity()))
    Js = lambdify_jax([t, *flow.x], [list(r) for r in flow.jacobian().tolist()])
    x = points(flow.dim, n=4, seed=3)
    for tt in (0.05, 0.4, 0.9):
        direct = np.array([[float(c) for c in vs(tt, *row)] for row in x])
        assert rel_err(flow.field()(tt, x), direct) < RTOL
        directJ = np.array([np.array(Js(tt, *row), dtype=float) for row in x])
        assert rel_err(flow.jacobian_field()(tt, x), directJ) < RTOL


def test_schedule_derivatives_match_jax_grad(any_schedule):
    f = lambdify_jax([t], [any_schedule.a, any_schedule.b])
    d = lambdify_jax([t], [any_schedule.da, any_schedule.db])
    for tt in (0.1, 0.35, 0.6, 0.9):
        ga = jax.grad(lambda u: f(u)[0] * 1.0)(tt)
        gb = jax.grad(lambda u: f(u)[1] * 1.0 + 0 * u)(tt)
        da, db = d(tt)
        assert abs(float(ga) - float(da)) <= RTOL * max(1.0, abs(float(da)))
        assert abs(float(gb) - float(db)) <= RTOL * max(1.0, abs(float(db)))


def test_fields_finite_at_both_ends(any_schedule, exact_target):
    """Gaussian and GMM fields are finite on [0, 1] (components have λ > 0), and the report says so."""
    flow = GIF(any_schedule, exact_target)
    x = points(flow.dim)
    for tt in (0.0, 1.0):
        assert np.all(np.isfinite(np.asarray(flow.field()(tt, x))))
        assert np.all(np.isfinite(np.asarray(flow.jacobian_field()(tt, x))))
    assert endpoint_report(flow).finite_at_1


def test_gaussian_at_t1_follmer_limit():
    """Föllmer: ȧ → −∞ at t = 1 but v(1, x) = ḃ m + L_1 (x − m) with L_1 = (aȧ + σ²bḃ)/σ² = (−1 + σ²)/σ²."""
    sigma, m = 0.5, 0.7
    flow = GIF(schedule("follmer"), target("gaussian", sigma=sigma, mean=m))
    x = np.array([[0.3], [-1.2]])
    L1 = (-1 + sigma**2) / sigma**2
    assert rel_err(flow.field()(1.0, x), L1 * (x - m) + m) < RTOL


def test_class_target_has_no_closed_form_field():
    from gifsym.errors import NumericError

    with pytest.raises(NumericError, match="class of laws"):
        GIF(schedule("linear"), target("slc:kappa=2")).field()


def test_symbolic_parameters_need_numbers():
    from gifsym.errors import NumericError

    with pytest.raises(NumericError, match="beta_min"):
        GIF(schedule("vp:beta_min"), target("gaussian:sigma=1")).field()
