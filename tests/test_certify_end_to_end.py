"""Issue 20: the exact-field stability route, the step-by-step combination of routes, and the end-to-end
certificate of a model sampled with a given sampler — each against an independent route:

* Gaussian target, exact field plus a linear perturbation ``A x + b``: the model's law is Gaussian for its
  exact flow (a linear ODE solved by scipy to 1e-12) and for Euler on 20 steps (a linear recursion), so W₂ is
  exact (Gelbrich); the bounds must lie in [exact, 1.5 × exact];
* a flow-matched MLP on an 8-mode mixture, sampled with Heun: the bound against the W₂ of its samples
  measured with POT, above ``realised − 2 × noise``;
* each check is shown to fail on a deliberately broken bound (the Grönwall/flow-map weights dropped).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("diffrax")

import gifsym
from gifsym import GIF, schedule, target
from gifsym.decisions import end_to_end
from gifsym.decisions.end_to_end import SamplerCertificate, certify_sampler
from gifsym.errors import GifsymError
from gifsym.numerics import trajectory_error
from gifsym.numerics.certify import certify
from gifsym.numerics.models import adapt
from gifsym.numerics.trajectory_error import comparison, error_along_flow, exact_rate

DERIVATIONS = Path(__file__).resolve().parents[1] / "derivations"


def _script():
    spec = importlib.util.spec_from_file_location("derivations_certify_end_to_end",
                                                  DERIVATIONS / "certify_end_to_end.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


E2E = _script()
FLOW = GIF(schedule("linear"), target(f"gaussian:sigma={E2E.SIG},dim={E2E.D}"))
CASES = E2E.gaussian_cases(2)


def _model(A, b):
    v = FLOW.field()
    return lambda t, x: np.asarray(v(t, x)) + x @ A.T + b


def _exact(A, b):
    (m, S), (me, Se) = E2E.perturbed_laws(A, b)
    zero, cov = np.zeros(E2E.D), E2E.SIG**2 * np.eye(E2E.D)
    return E2E.gaussian_w2(m, S, zero, cov), E2E.gaussian_w2(me, Se, zero, cov)


def test_gelbrich_formula_against_an_independent_case():
    # N(0, s²I) vs N(0, σ²I) in d dims: W₂ = √d |s − σ| (a scaling).
    assert E2E.gaussian_w2(np.zeros(2), 4 * np.eye(2), np.zeros(2), np.eye(2)) == pytest.approx(np.sqrt(2), rel=1e-12)


@pytest.mark.parametrize("case", range(len(CASES)))
def test_exact_field_route_is_tight_and_above_the_exact_w2(case):
    A, b = CASES[case]
    w_flow, _ = _exact(A, b)
    c = certify(FLOW, _model(A, b), n=4096, times=41)
    # The bound is a statistical bound at 95%: with 4096 samples the upper confidence bound exceeds the mean
    # by a few percent, and the exact-field route is sharp for affine fields up to the grid's upper steps.
    assert w_flow <= c.w2_bound <= 1.5 * w_flow
    assert c.route == "best" and c.w2_bound <= c.w2_bound_exact_field + 1e-15
    assert c.w2_bound < c.w2_bound_model_lipschitz  # the new route is the tighter one here
    assert c.to_dict()["w2_bound_exact_field"] == c.w2_bound_exact_field


@pytest.mark.parametrize("case", range(len(CASES)))
def test_end_to_end_euler_20_against_the_exact_gaussian_law(case):
    A, b = CASES[case]
    _, w_euler = _exact(A, b)
    c = certify_sampler(FLOW, _model(A, b), sampler="euler", steps=20, n=4096)
    assert w_euler <= c.w2_bound <= 1.5 * w_euler
    assert set(c.routes) == {"triangle", "exact-propagation"} and c.w2_bound == min(c.routes.values())
    assert c.routes["triangle"] >= w_euler  # each route bounds W₂ on its own
    assert c.kind == "estimate" and c.discretisation.kind == "certified"


def test_broken_bounds_fail_the_checks(monkeypatch):
    """A bound 40 % too small (the interval terms, or the exact flow's Lipschitz factors, times 0.6) must fall
    below the exact W₂: the checks above can fail. (Dropping the weights is not enough to break them here: the
    Gaussian's exact field contracts for most t, so its weights are below 1.)"""
    A, b = CASES[0]
    w_flow, w_euler = _exact(A, b)
    real_factors = trajectory_error.interval_factors
    monkeypatch.setattr("gifsym.numerics.certify.interval_factors",
                        lambda rate, h: (real_factors(rate, h)[0], 0.6 * real_factors(rate, h)[1]))
    c = certify(FLOW, _model(A, b), n=4096, times=41, route="exact-field")
    assert c.w2_bound < w_flow
    real_rate = trajectory_error.exact_rate

    def shrunk(flow, g):
        r = real_rate(flow, g)
        return type(r)(r.expr, r.values, r.sup, r.lower, r.kind, tail=tuple(x + np.log(0.6) for x in r.tail))

    monkeypatch.setattr(trajectory_error, "exact_rate", shrunk)
    e = certify_sampler(FLOW, _model(A, b), sampler="euler", steps=20, n=4096)
    assert e.routes["exact-propagation"] < w_euler


def test_comparison_is_below_each_route_and_an_exact_recursion():
    rng = np.random.default_rng(0)
    L, E = rng.uniform(0.5, 1.5, (2, 30)), rng.uniform(0, 0.1, (2, 30))
    both, chosen = comparison(L, E)
    one = [comparison(L[i:i + 1], E[i:i + 1])[0] for i in range(2)]
    assert both <= min(one) and set(chosen) <= {0, 1}
    # a single route is the closed form Σ_k (Π_{j>k} L_j) e_k
    closed = sum(np.prod(L[0, k + 1:]) * E[0, k] for k in range(30))
    assert one[0] == pytest.approx(closed, rel=1e-12)


def test_model_flow_by_rk4_agrees_with_diffrax():
    from gifsym.numerics.simulate import integrate

    A, b = CASES[0]
    m = adapt(_model(A, b), dim=2)
    tr = error_along_flow(FLOW, m, np.linspace(0, 1, 11), n=64, seed=3)
    import jax

    x0 = np.asarray(gifsym.numerics.simulate.sample_source(
        FLOW, 64, key=jax.random.fold_in(jax.random.PRNGKey(3), 0x7A1)))
    y1, *_ = integrate(m.jax_field(), x0, 0.0, 1.0, rtol=1e-10, atol=1e-12, shard=False)
    # RK4 with 80 steps on a field with |∇v| ≤ 2: global error ~ 1e-8, far below the errors certified (~1e-2).
    assert np.max(np.abs(tr.end - np.asarray(y1))) < 1e-6


def test_exact_rate_is_the_gaussian_closed_form():
    r = exact_rate(FLOW, (0.0, 0.25, 1.0))
    ts = np.array([0.0, 0.25, 1.0])
    assert np.allclose(r.values, [E2E.linear_rate(t) for t in ts], rtol=1e-12)
    # ∫_t^1 L = ½ log(s_1/s_t), s = (1 − t)² + σ²t²
    s = (1 - ts) ** 2 + E2E.SIG**2 * ts**2
    assert np.allclose(r.tail, 0.5 * np.log(s[-1] / s), rtol=1e-9, atol=1e-12)


def test_facade_dispatches_and_refuses_mixed_options():
    A, b = CASES[0]
    c = gifsym.certify(FLOW, _model(A, b), sampler="euler", steps=5, n=256)
    assert isinstance(c, SamplerCertificate) and len(c.grid) == 6
    assert gifsym.certify is end_to_end.certify
    with pytest.raises(GifsymError, match="give sampler"):
        gifsym.certify(FLOW, _model(A, b), steps=5)
    with pytest.raises(GifsymError, match="lipschitz"):
        gifsym.certify(FLOW, _model(A, b), sampler="heun", steps=5, lipschitz=1.0)


def _mlp_case(steps: int, n: int, realised: int, seed: int = 0, shift=(0.0, 0.0)):
    from gifsym.numerics.verify import empirical_w2
    from gifsym.numerics.wasserstein import realised_from_samples

    pytest.importorskip("torch")
    flow = E2E.gmm_flow()
    (_, state, _), = E2E.train((steps,), seed=seed)
    net = E2E.as_model(state)

    def model(t, x):
        return net(t, x) + np.asarray(shift)

    c = certify_sampler(flow, model, sampler="heun", steps=40, n=n, seed=seed)
    end = E2E._sampler_end(flow, model, realised, 1000 + seed)
    floor = realised_from_samples(flow, end, seed=seed).slack
    w = float(empirical_w2(end, E2E.sample_gmm(realised, np.random.default_rng(2000 + seed))))
    return c, w, floor


def test_mlp_on_the_mixture_heun_40_small():
    c, w, floor = _mlp_case(100, 512, 600)  # tiny: the default suite stays fast; the sweep is marked slow
    assert c.w2_bound >= w - floor
    assert c.kind == "estimate"


def test_perturbed_mlp_check_is_not_vacuous_and_fails_on_a_broken_bound():
    # A trained model's realised W₂ sits at the sampling floor, where "bound ≥ realised − floor" cannot fail;
    # a shifted model (|shift| = 0.85) realises W₂ well above the floor, so the check has teeth: a bound
    # shrunk to 15 % fails it (here bound ≈ 3.3, realised − floor ≈ 0.64: the bound is ~5× loose).
    c, w, floor = _mlp_case(100, 512, 600, shift=(0.6, 0.6))
    assert w - floor > 0.2
    assert c.w2_bound >= w - floor
    assert 0.15 * c.w2_bound < w - floor


@pytest.mark.slow
def test_mlp_on_the_mixture_heun_40_sweep():
    # Must-show of issue 20: 3,000 realised samples; bound ≥ realised − floor at every checkpoint.
    for seed in (0, 1):
        for steps in (300, 1200):
            c, w, floor = _mlp_case(steps, 4096, 3000, seed)
            assert c.w2_bound >= w - floor


def test_cli_sampler_options(tmp_path, capsys):
    import json

    from click.testing import CliRunner

    from gifsym.cli import app

    mod = tmp_path / "shiftmodel.py"
    mod.write_text("def velocity(t, x):\n    return x * (2 * t - 1) / ((1 - t) ** 2 + t ** 2) + 0.01\n")
    base = ["certify", "--schedule", "linear", "--target", "gaussian:sigma=1", "--model", f"{mod}:velocity"]
    out = CliRunner().invoke(app, base + ["--sampler", "euler", "--steps", "10", "-n", "256", "--json"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    assert d["kind"] == "estimate" and d["terms"]["discretisation"]["kind"] == "certified"
    assert d["w2_bound"] == min(d["routes"].values()) and len(d["grid"]) == 11
    from gifsym.cli import main

    for extra, msg in ((["--steps", "10"], "--sampler and --steps go together"),
                       (["--sampler", "heun", "--steps", "10", "--lipschitz", "1"], "not to --sampler")):
        with pytest.raises(SystemExit) as e:
            main(base + extra)
        err = capsys.readouterr().err
        assert e.value.code == 2 and err.startswith("Error:") and msg in err and err.count("\n") == 1
