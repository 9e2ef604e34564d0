"""Data as a target (issue 13): ``empirical:FILE[,sigma=…]``.

Every numerical result is compared with an independent route: the streaming field with a direct NumPy
implementation written here from math.md §4 (explicit differences ``x − b y_i``, the denoiser form and the
key identity, a, ȧ, b, ḃ lambdified from the schedule's own expressions), the smoothed field with gifsym's
GMM path on the same points, the symbolic flow with the numerical one, the enclosing ball with a
brute-force search, and the bounds with the exact Jacobian's eigenvalues.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import sympy
from click.testing import CliRunner

from gifsym import GIF, lemmas, schedule, target
from gifsym.errors import TargetError
from gifsym.symbolic.ball import enclosing_ball, enclosing_radius
from gifsym.symbolic.empirical import MAX_BYTES, read_points
from gifsym.symbolic.schedule import CATALOGUE, t

pytest.importorskip("jax")

from gifsym.numerics.fields import compile_field, compile_jacobian_field, empirical_field

ROOT = Path(__file__).resolve().parents[1]
SCHEDULES = list(CATALOGUE)
#: Seeded times, including within 1e-6 of both ends.
TIMES = (1e-6, 0.3, 0.75, 1 - 1e-6)
RNG = np.random.default_rng(13)
DATA = RNG.normal(size=(40, 3)) * np.array([1.0, 2.0, 0.5]) + np.array([3.0, -1.0, 0.5])


def abd(s, tt: float) -> tuple[float, float, float, float]:
    """a, ȧ, b, ḃ at tt from the schedule's SymPy expressions (mpmath, 30 digits: no gifsym numerics)."""
    return tuple(float(sympy.N(e.subs(t, sympy.Float(tt, 30)), 30)) for e in (s.a, s.da, s.b, s.db))


def reference(s, tt: float, X: np.ndarray, Y: np.ndarray, sigma: float) -> dict:
    """math.md §4 for (1/N) Σ N(y_i, σ² I) (σ = 0: Dirac masses), with explicit differences."""
    a, da, b, db = abd(s, tt)
    sv = a * a + sigma**2 * b * b
    D = X[:, None, :] - b * Y[None]  # (n, N, d)
    L = -np.einsum("nkd,nkd->nk", D, D) / (2 * sv)
    L -= L.max(axis=1, keepdims=True)
    W = np.exp(L)
    W /= W.sum(axis=1, keepdims=True)
    # Given component i: X_1 | X_t ~ N(y_i + σ²b/s (x − b y_i), σ² a²/s I) (Gaussian conditioning).
    means = Y[None] + (sigma**2 * b / sv) * D
    m = np.einsum("nk,nkd->nd", W, means)
    E = means - m[:, None, :]
    C = (sigma**2 * a * a / sv) * np.eye(Y.shape[1]) + np.einsum("nk,nkd,nke->nde", W, E, E)
    v = (da / a) * X + (db - da * b / a) * m  # denoiser form
    J = (da / a) * np.eye(Y.shape[1]) + (b * (a * db - da * b) / a**3) * C  # key identity
    score = (b * m - X) / a**2  # Tweedie
    scale = np.abs(da / a) * np.abs(X).max() + np.abs(db - da * b / a) * np.abs(m).max()
    jscale = abs(da / a) + abs(b * (a * db - da * b) / a**3) * np.abs(C).max()
    return {"v": v, "J": J, "m": m, "C": C, "score": score, "scale": scale, "jscale": jscale}


def points_on(s, tt: float, Y: np.ndarray, n: int, rng) -> np.ndarray:
    """x ~ p_t (a Z + b y_J) and a few far-out points."""
    a, _, b, _ = abd(s, tt)
    X = a * rng.normal(size=(n, Y.shape[1])) + b * Y[rng.integers(0, len(Y), n)]
    return np.vstack([X, Y.mean(0) + 4 * Y.std() * rng.normal(size=(3, Y.shape[1]))])


# ---------------------------------------------------------------------------------------------------------
# The field against the independent NumPy implementation, every catalogue schedule, both ends


#: σ = 0 on every catalogue schedule in the default run; σ > 0 on two there (the GMM-path test below covers
#: every schedule for σ > 0) and on all of them with -m slow.
FIELD_CASES = [pytest.param(n, sg, marks=[] if sg == 0.0 or n in ("linear", "follmer") else [pytest.mark.slow])
               for n in SCHEDULES for sg in (0.0, 0.3)]


@pytest.mark.parametrize("name, sigma", FIELD_CASES)
def test_field_equals_independent_numpy(name, sigma):
    s = schedule(name)
    flow = GIF(s, target("empirical", data=DATA, sigma=sigma))
    # Small chunks and query blocks: the scan, the padding (40 = 2·16 + 8) and the query blocks all run.
    ef = empirical_field(flow, chunk=16, query_block=8)
    rng = np.random.default_rng(1)
    for tt in TIMES:
        X = points_on(s, tt, DATA, 12, rng)
        ref = reference(s, tt, X, DATA, sigma)
        U = rng.normal(size=X.shape)
        v = np.asarray(ef.velocity(tt, X))
        J = np.asarray(ef.jacobian(tt, X))
        vj, Ju = (np.asarray(o) for o in ef.jvp(tt, X, U))
        # Both sides are float64 evaluations of terms of size ≤ scale by different operation orders (and
        # the reference's coefficients come from 30-digit evaluation); 1e-9·scale leaves ~10⁴ of margin over
        # the ~1e-13 seen, while a wrong coefficient or weight is O(1)·scale.
        tol_v, tol_j = 1e-9 * ref["scale"], 1e-9 * ref["jscale"]
        assert np.abs(v - ref["v"]).max() <= tol_v, (name, tt)
        assert np.abs(vj - ref["v"]).max() <= tol_v, (name, tt)
        assert np.abs(J - ref["J"]).max() <= tol_j, (name, tt)
        assert np.abs(Ju - np.einsum("nij,nj->ni", ref["J"], U)).max() <= tol_j * np.abs(U).max() * 3, (name, tt)
        m = np.asarray(ef.posterior_mean(tt, X))
        assert np.abs(m - ref["m"]).max() <= 1e-9 * (1 + np.abs(ref["m"]).max())
        if tt < 0.5:  # the score ~ 1/a² and the posterior covariance are compared where a is not tiny
            a = abd(s, tt)[0]
            sc = np.asarray(ef.score(tt, X))
            assert np.abs(sc - ref["score"]).max() <= 1e-9 * (np.abs(X).max() + np.abs(ref["m"]).max()) / a**2
            C = np.asarray(ef.posterior_cov(tt, X))
            assert np.abs(C - ref["C"]).max() <= 1e-9 * (1 + np.abs(ref["C"]).max())


@pytest.mark.parametrize("name", SCHEDULES)
def test_smoothed_field_equals_the_gmm_path(name):
    # (1/N) Σ N(y_i, σ²I) is exactly the isotropic GMM with equal weights: gifsym's GMM path on the same
    # points must give the same field and Jacobian, including at t = 1 (finite for σ > 0).
    s = schedule(name)
    Y = DATA[:12]
    emp = GIF(s, target("empirical", data=Y, sigma=0.3))
    gmm = GIF(s, target("gmm", weights=[1 / 12] * 12, means=Y.tolist(), sigma=0.3))
    rng = np.random.default_rng(2)
    fe, je = compile_field(emp), compile_jacobian_field(emp)
    fg, jg = compile_field(gmm), compile_jacobian_field(gmm)
    for tt in (*TIMES, 1.0):
        X = points_on(s, min(tt, 1 - 1e-6), Y, 10, rng)
        ve, vg = np.asarray(fe(tt, X)), np.asarray(fg(tt, X))
        Je, Jg = np.asarray(je(tt, X)), np.asarray(jg(tt, X))
        assert np.all(np.isfinite(ve)) and np.all(np.isfinite(Je))
        # Same float64 quantities by two orders of operations: 1e-9 relative to the field's size.
        assert np.abs(ve - vg).max() <= 1e-9 * (1 + np.abs(vg).max()), (name, tt)
        assert np.abs(Je - Jg).max() <= 1e-9 * (1 + np.abs(Jg).max()), (name, tt)


def test_symbolic_flow_of_small_data_equals_the_field():
    # Symbolic where small: Flow.velocity() / jacobian() of 3 points in 2-D, lambdified, against the field.
    Y = np.array([[0.0, 1.0], [1.5, -0.5], [-1.0, 0.25]])
    for sigma in (0, 0.5):
        flow = GIF(schedule("trigonometric"), target("empirical", data=Y, sigma=sigma))
        f = sympy.lambdify([t, *flow.x], list(flow.velocity()), "mpmath")
        jac = sympy.lambdify([t, *flow.x], flow.jacobian(), "mpmath")
        v, J = flow.field(), flow.jacobian_field()
        for tt, x in ((0.2, [0.3, -0.2]), (0.8, [1.0, 0.5]), (0.97, [-0.9, 0.3])):
            sv = np.array([float(c) for c in f(tt, *x)])
            sj = np.array(jac(tt, *x).tolist(), dtype=float)
            assert np.allclose(np.asarray(v(tt, np.array([x])))[0], sv, rtol=1e-10, atol=1e-10)
            assert np.allclose(np.asarray(J(tt, np.array([x])))[0], sj, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("names", [("velocity", "score"),
                                   pytest.param(("jacobian", "posterior_mean", "posterior_cov"), marks=pytest.mark.slow)])
def test_indexed_closed_form_equals_the_flow(names):
    # The formula for any N (indexed sums), with 2 points substituted, against Flow's own derivation.
    from gifsym.symbolic.empirical_form import X, closed_form

    Y = np.array([[0.0, 1.0], [1.5, -0.5]])
    pt = {t: sympy.Float("0.7", 30)}  # 30-digit floats: SymPy evaluates as it substitutes (fast)
    for sigma in (0, sympy.Rational(1, 2)):
        s = schedule("trigonometric")
        flow = GIF(s, target("empirical", data=Y, sigma=sigma))
        form = closed_form(s, sigma=sigma).at(Y)
        xs = (sympy.Float("0.3", 30), sympy.Float("-0.2", 30))
        for name in names:
            ref = getattr(flow, name)()
            mine = form[name].subs({X[1]: xs[0], X[2]: xs[1], **pt})
            theirs = ref.subs({flow.x[0]: xs[0], flow.x[1]: xs[1], **pt})
            diff = np.array(sympy.N(mine - theirs, 30).tolist(), dtype=float)
            assert np.abs(diff).max() <= 1e-20, name  # exact expressions evaluated with 30 digits


def test_large_data_has_no_symbolic_form_but_a_field():
    flow = GIF(schedule("linear"), target("empirical", data=RNG.normal(size=(500, 4))))
    with pytest.raises(TargetError, match="use gif.field"):
        flow.velocity()
    assert np.asarray(flow.field()(0.5, np.zeros((2, 4)))).shape == (2, 4)


def test_streaming_is_chunk_independent_and_float32_close():
    # N = 2003 (prime: every chunk size pads), d = 16, 600 queries: chunking and query blocking change
    # nothing beyond round-off; float32 agrees to its precision.
    Y = RNG.normal(size=(2003, 16))
    flow = GIF(schedule("linear"), target("empirical", data=Y, sigma=0.05))
    X = 0.6 * Y[:600] + 0.4 * RNG.normal(size=(600, 16))
    U = RNG.normal(size=X.shape)
    base = empirical_field(flow, chunk=4096, query_block=4096)
    other = empirical_field(flow, chunk=96, query_block=128)
    f32 = empirical_field(flow, chunk=256, dtype="float32")
    v0, v1 = np.asarray(base.velocity(0.6, X)), np.asarray(other.velocity(0.6, X))
    j0, j1 = (np.asarray(o.jvp(0.6, X, U)[1]) for o in (base, other))
    assert np.abs(v0 - v1).max() <= 1e-11 * np.abs(v0).max()  # ~1e-15 seen: summation order only
    assert np.abs(j0 - j1).max() <= 1e-10 * np.abs(j0).max()
    # float32: logits (b/s)|x||y| ~ 1e2 carry ~1e-5 absolute error; weights and the field ~1e-5 relative.
    assert np.abs(np.asarray(f32.velocity(0.6, X)) - v0).max() <= 1e-3 * np.abs(v0).max()
    assert base.memory_bytes(600) < other.memory_bytes(600) + 2003 * 18 * 8 * 4 + 2**26


def test_power_iteration_matches_dense_eigenvalues():
    flow = GIF(schedule("vp"), target("empirical", data=DATA))
    ef = empirical_field(flow)
    X = points_on(flow.schedule, 0.9, DATA, 20, np.random.default_rng(3))
    lam = np.linalg.eigvalsh(np.asarray(ef.jacobian(0.9, X)))[:, -1]
    est = np.asarray(ef.max_eigenvalue(0.9, X, 200))
    # The Rayleigh quotient is below λ_max; 200 steps on a 3×3 matrix converge to round-off unless the top
    # two eigenvalues nearly coincide, so the seeded points agree to 1e-6 relative.
    assert np.all(est <= lam + 1e-9 * np.abs(lam).max())
    assert np.abs(est - lam).max() <= 1e-6 * np.abs(lam).max()


# ---------------------------------------------------------------------------------------------------------
# Classes from the data: the ball, θ_t, translation invariance


def brute_force_circle(P: np.ndarray) -> float:
    """The smallest enclosing circle in 2-D by enumeration (it is fixed by 2 or 3 of the points)."""
    best = math.inf
    cands = [((P[i] + P[j]) / 2, np.linalg.norm(P[i] - P[j]) / 2) for i, j in itertools.combinations(range(len(P)), 2)]
    for i, j, k in itertools.combinations(range(len(P)), 3):
        A = 2 * np.array([P[j] - P[i], P[k] - P[i]])
        rhs = np.array([P[j] @ P[j] - P[i] @ P[i], P[k] @ P[k] - P[i] @ P[i]])
        if abs(np.linalg.det(A)) > 1e-12:
            c = np.linalg.solve(A, rhs)
            cands.append((c, np.linalg.norm(P[i] - c)))
    for c, r in cands:
        if r < best and np.all(np.linalg.norm(P - c, axis=1) <= r * (1 + 1e-12)):
            best = r
    return best


def test_enclosing_ball_is_the_smallest_and_certified():
    rng = np.random.default_rng(4)
    for _ in range(5):
        P = rng.normal(size=(25, 2)) * [1.0, 3.0]
        b = enclosing_ball(P)
        r = brute_force_circle(P)
        assert b.lower <= r * (1 + 1e-12) and r <= b.radius  # the certificate encloses the true radius
        assert b.radius - r <= 1e-9 * r
        assert np.all(np.linalg.norm(P - b.centre, axis=1) <= b.radius)
    # High dimension: every point inside, the gap closed, and the same radius after a shift.
    P = rng.normal(size=(3000, 64))
    b = enclosing_ball(P)
    assert np.all(np.linalg.norm(P - b.centre, axis=1) <= b.radius) and b.gap <= 1e-9 * b.radius
    shifted = enclosing_ball(P + 1000.0)
    assert abs(shifted.radius - b.radius) <= 1e-12 * b.radius
    # Exact cases: one dimension, two points.
    assert enclosing_radius([(2,), (4,), (3,)]) == 1 and enclosing_radius([(0, 0), (3, 4)]) == sympy.Rational(5, 2)


def test_gmm_conv_radius_is_translation_invariant():
    # The example: means {2, 4}, σ = 0.3; θ at t = 0.9 was 209 when R was measured from the origin.
    thetas = []
    for shift in (0.0, 100.0):
        g = target("gmm", weights=[0.5, 0.5], means=[[2.0 + shift], [4.0 + shift]], sigma=0.3)
        assert dict(g.memberships("T-conv")[0].params)["R"] == 1
        thetas.append(GIF(schedule("linear"), g).bounds().at(0.9)["lipschitz"])
    assert thetas[0] == thetas[1]
    # The exact sup_x λ(∇v) at t = 0.9 (grid over x, the GMM's own Jacobian) is just below θ.
    flow = GIF(schedule("linear"), target("gmm", weights=[0.5, 0.5], means=[[2.0], [4.0]], sigma=0.3))
    xs = np.linspace(0, 5, 20001)[:, None]
    worst = float(np.asarray(flow.jacobian_field()(0.9, xs)).max())
    assert 12.8 < worst <= thetas[0] < 12.9


@pytest.mark.parametrize("sigma", [0.0, 0.2])
@pytest.mark.parametrize("name", SCHEDULES)
def test_theta_from_data_classes_is_never_exceeded(name, sigma):
    s = schedule(name)
    Y = DATA[:25, :2]
    flow = GIF(s, target("empirical", data=Y, sigma=sigma))
    b = flow.bounds()
    rng = np.random.default_rng(5)
    for tt in (0.05, 0.3, 0.6, 0.9, 0.99):
        a = abd(s, tt)[0]
        X = points_on(s, tt, Y, 30, rng)
        # The worst points: bisectors of pairs of data points (the posterior splits there).
        bis = abd(s, tt)[2] * (Y[:, None] + Y[None]).reshape(-1, 2)[::7] / 2
        ref = reference(s, tt, np.vstack([X, bis]), Y, sigma)
        ev = np.linalg.eigvalsh(ref["J"])
        row = b.at(tt)
        # Round-off in ∇v = (ȧ/a) I + c_t C is ~1e-13 of the cancelling terms (jscale); 1e-9 of them.
        tol = 1e-9 * max(1.0, ref["jscale"])
        assert ev.max() <= row["upper"] + tol, (name, tt, ev.max(), row["upper"])
        assert ev.min() >= row["lower"] - tol, (name, tt, ev.min(), row["lower"])
        assert max(abs(ev.max()), abs(ev.min())) <= row["lipschitz"] + tol
        assert a > 0


@pytest.mark.parametrize("sigma", [0.0, 0.2])
def test_theta_is_unchanged_when_the_data_are_shifted(sigma):
    Y = DATA[:, :2]
    b0 = GIF(schedule("follmer"), target("empirical", data=Y, sigma=sigma)).bounds()
    b1 = GIF(schedule("follmer"), target("empirical", data=Y + np.array([250.0, -75.0]), sigma=sigma)).bounds()
    for tt in (0.1, 0.5, 0.9, 0.999):
        r0, r1 = b0.at(tt), b1.at(tt)
        for k in ("upper", "lower", "lipschitz"):
            assert r0[k] == pytest.approx(r1[k], rel=1e-12)
    # Why: ∇v of the shifted target at x + b_t c is ∇v at x (v_c(t, x) = v(t, x − b_t c) + ḃ_t c).
    c = np.array([250.0, -75.0])
    s = schedule("follmer")
    j0 = GIF(s, target("empirical", data=Y, sigma=sigma)).jacobian_field()
    j1 = GIF(s, target("empirical", data=Y + c, sigma=sigma)).jacobian_field()
    X = points_on(s, 0.8, Y, 10, np.random.default_rng(6))
    b = abd(s, 0.8)[2]
    J0, J1 = np.asarray(j0(0.8, X)), np.asarray(j1(0.8, X + b * c))
    # Logits of size (b/s)|x||c| ~ 1e3 lose ~1e-13 relative in the shifted run: 1e-8 of the Jacobian's size.
    assert np.abs(J0 - J1).max() <= 1e-8 * np.abs(J0).max()


def test_data_classes_and_their_lemmas():
    Y = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 0.5]])
    emp = target("empirical", data=Y)
    by = {c.id: dict(c.params) for c in emp.classes()}
    # The smallest ball is B((1, 0), 1); a float computation can only certify a radius above 1 (round-off
    # pad, then rounded up to 6 digits), so R is in [1, 1.00001].
    assert set(by) == {"T-emp", "T-ball"} and by["T-emp"] == {"N": 3, "sigma": 0}
    R = by["T-ball"]["R"]
    assert 1 <= R <= sympy.Rational(100001, 100000)
    sm = target("empirical", data=Y, sigma=0.5)
    by = {c.id: dict(c.params) for c in sm.classes()}
    assert by["T-conv"] == {"sigma": sympy.Rational(1, 2), "R": R} and by["T-slcvx"] == {"beta": 4}
    flow = GIF(schedule("linear"), emp)
    assert "empirical-classes" in flow.bounds().lemmas
    f = lemmas.derive("empirical-classes", flow)
    assert f["R"] == R and float(f["R_lower"]) <= 1


# ---------------------------------------------------------------------------------------------------------
# t = 1: the memorising field blows up, derived per schedule


@pytest.mark.parametrize("name", SCHEDULES)
def test_memorisation_rates_match_the_coefficients(name):
    s = schedule(name)
    flow = GIF(s, target("empirical", data=DATA[:5]))
    f = lemmas.derive("memorisation", flow)
    assert f["finite_at_1"] is False and f["exact"]
    # Independently: ȧ/a·(1 − t) → −p and the coefficient of C times (1 − t)^{2p+1} → p/c², at 1 − t = 1e-9.
    u = 1e-9
    a, da, b, db = abd(s, 1 - u)
    p = float(f["p"])
    assert da / a * u == pytest.approx(-p, rel=1e-6)
    assert b * (a * db - da * b) / a**3 * u ** (2 * p + 1) == pytest.approx(float(f["cov_rate"]), rel=1e-4)
    assert p in (0.5, 1.0)
    smooth = lemmas.derive("memorisation", GIF(s, target("empirical", data=DATA[:5], sigma=0.5)))
    assert smooth["finite_at_1"] is True


def test_simulation_memorises_and_smoothing_forgets():
    from gifsym.numerics.simulate import sample_source, simulate

    Y = DATA[:20, :2]
    frac = []
    for sigma in (0.0, 0.2):
        flow = GIF(schedule("linear"), target("empirical", data=Y, sigma=sigma))
        res = simulate(flow, sample_source(flow, 300, seed=0), rtol=1e-8, atol=1e-10)
        dist = np.sqrt(((res.x[:, None] - Y[None]) ** 2).sum(-1)).min(1)
        frac.append(float((dist < 0.01).mean()))
        assert (res.eps > 0) == (sigma == 0)  # σ = 0: stopped at 1 − ε, with the W₂ cost reported
    # Stopping at 1 − 1e-3 leaves |x − y*| ≈ a_{1−ε}|z| ≈ 1e-3·|z| < 0.01 for almost every start; with
    # σ = 0.2 a sample is within 0.01 of a point with probability ≈ (0.01/0.2)²/2 per nearby point.
    assert frac[0] > 0.95 and frac[1] < 0.2


# ---------------------------------------------------------------------------------------------------------
# Files, specs, errors, CLI


def test_file_formats(tmp_path):
    Y = RNG.normal(size=(7, 3))
    np.save(tmp_path / "d.npy", Y)
    np.savez(tmp_path / "d.npz", points=Y, labels=np.arange(7))
    np.savez(tmp_path / "one.npz", Y)
    np.savetxt(tmp_path / "d.csv", Y, delimiter=",", header="a,b,c", comments="")
    np.savetxt(tmp_path / "nohead.csv", Y, delimiter=",")
    for f in ("d.npy", "d.npz", "one.npz", "d.csv", "nohead.csv"):
        got = read_points(tmp_path / f)
        assert got.shape == (7, 3) and np.allclose(got, Y, rtol=1e-15, atol=0) and not got.flags.writeable
    tg = target(f"empirical:{tmp_path / 'd.csv'},sigma=0.1")
    assert tg.law.N == 7 and tg.law.sigma == sympy.Rational(1, 10) and tg.spec.endswith("sigma=0.1")
    assert target(f"empirical:{tmp_path / 'd.npy'}") == target(f"empirical:{tmp_path / 'd.npy'}")


def _huge_header(path: Path) -> None:
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (10**7, 10**4)})


@pytest.mark.parametrize("kind, match", [
    ("missing", "not found"),
    ("ext", "unknown data format"),
    ("pickle", "dtype object"),
    ("3d", "expected \\(N, d\\)"),
    ("nan", "must be finite"),
    ("huge", "GiB"),
    ("twoarrays", "several arrays"),
    ("text", "line 3, column 2: .oops. is not a number"),
    ("garbage", "not a valid .npy"),
    ("empty", "no data"),
])
def test_bad_files_give_clear_errors(tmp_path, capsys, kind, match):
    p = tmp_path / "bad.npy"
    if kind == "ext":
        p = tmp_path / "bad.txt"
        p.write_text("1,2\n")
    elif kind == "pickle":
        np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    elif kind == "3d":
        np.save(p, np.zeros((2, 2, 2)))
    elif kind == "nan":
        np.save(p, np.array([[0.0, np.nan]]))
    elif kind == "huge":
        _huge_header(p)  # claims 745 GiB and holds nothing: rejected from the header, nothing allocated
    elif kind == "twoarrays":
        p = tmp_path / "bad.npz"
        np.savez(p, x=np.zeros((2, 2)), y=np.ones((2, 2)))
    elif kind == "text":
        p = tmp_path / "bad.csv"
        p.write_text("a,b\n1,2\n3,oops\n")
    elif kind == "garbage":
        p.write_bytes(b"not an array at all")
    elif kind == "empty":
        np.save(p, np.zeros((0, 3)))
    with pytest.raises(TargetError, match=match):
        target(f"empirical:{p}")
    from gifsym.cli import main  # the real entry point: one "Error:" line on stderr, exit code 2

    with pytest.raises(SystemExit) as exit_:
        main(["bounds", "--schedule", "linear", "--target", f"empirical:{p}"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.startswith("Error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_bad_specs():
    with pytest.raises(TargetError, match="sigma"):
        target("empirical", data=[[0.0], [1.0]], sigma=-1)
    with pytest.raises(TargetError, match="needs a value"):
        target("empirical:/x.npy,sigma")
    with pytest.raises(TargetError, match="unknown parameter 'R'"):
        target("empirical:/x.npy,R=2")
    with pytest.raises(TargetError, match="not combined"):
        target("empirical:/x.npy+slc:kappa=1")
    assert MAX_BYTES >= 10**6 * 1024 * 8  # 10⁶ points in 1024 dimensions are accepted


def _app():
    from gifsym.cli import app

    return app


@pytest.mark.parametrize("sigma", ["", ",sigma=1"])
def test_cli_bounds_and_report_on_data(tmp_path, sigma):
    p = tmp_path / "d.npy"
    np.save(p, DATA[:30])
    spec = f"empirical:{p}{sigma}"
    out = CliRunner().invoke(_app(), ["bounds", "--schedule", "vp", "--target", spec, "--at", "0.5,0.9", "--json"],
                             catch_exceptions=False)
    assert out.exit_code == 0
    js = json.loads(out.output)
    assert js["target"] == spec and "empirical-classes" in js["lemmas"]
    flow = GIF(schedule("vp"), target(spec))
    for row in js["values"]:  # each number carries its kind: {"value", "kind", ...}
        expected = float(flow.bounds().at(row["t"]["value"])["lipschitz"])
        assert row["lipschitz"]["value"] == pytest.approx(expected, rel=1e-12)
    # σ > 0: T-conv gives finite flow-map constants; σ = 0: the forward constant is unbounded at t = 1.
    assert (js["flow_map"]["forward"]["value"] is None) == (sigma == "")
    tex = tmp_path / "r.tex"
    out = CliRunner().invoke(_app(), ["report", "--schedule", "vp", "--target", spec, "-o", str(tex)],
                             catch_exceptions=False)
    assert out.exit_code == 0
    text = tex.read_text()
    assert "empirical law of $N = 30$" in text and r"\label{lem:memorisation}" in text


SHARD_SCRIPT = textwrap.dedent("""
    import json, numpy as np, jax
    from gifsym import GIF, schedule, target
    from gifsym.numerics.fields import empirical_field
    Y = np.random.default_rng(0).normal(size=(301, 5))
    ef = empirical_field(GIF(schedule("linear"), target("empirical", data=Y)), chunk=64)
    X = np.random.default_rng(1).normal(size=(103, 5))
    one, many = ef.evaluate(0.7, X, shard=False), ef.evaluate(0.7, X, shard=True)
    print("RESULT" + json.dumps({"devices": jax.device_count(), "diff": float(np.abs(one - many).max()),
                                 "scale": float(np.abs(one).max())}))
""")


def test_sharded_evaluation_equals_single_device():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", SHARD_SCRIPT], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads(proc.stdout.split("RESULT", 1)[1])
    # Rows are independent: the same operations per row on each device; identical up to round-off.
    assert res["devices"] == 2 and res["diff"] <= 1e-12 * res["scale"]


def test_non_finite_entry_is_located_past_the_first_block_and_arrays_stay_the_callers():
    """Finiteness is checked a block of rows at a time: the entry's row counts from the whole array. The
    caller's array is copied (changing it later does not change the law); a file's .npz array is not the
    caller's, and is used as read."""
    from gifsym.symbolic.empirical import as_points

    Y = np.zeros((70_000, 2))
    Y[69_999, 1] = np.inf
    with pytest.raises(TargetError, match=r"entry \(69999, 1\) is inf"):
        as_points(Y)
    Y[69_999, 1] = 0.0
    P = as_points(Y)
    Y[0, 0] = 5.0
    assert P[0, 0] == 0.0 and not P.flags.writeable
    owned = np.ones((3, 2))
    assert as_points(owned, owned=True) is owned and not owned.flags.writeable
