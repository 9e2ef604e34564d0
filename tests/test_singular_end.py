"""No silent NaN at the ends (issue 22 §6): a field called from Python at a_t = 0 raises or is finite."""

import numpy as np
import pytest

from gifsym import GIF, schedule, target
from gifsym.errors import NumericError
from gifsym.numerics.oracle import oracle_flow
from gifsym.numerics.simulate import simulate

PTS = np.array([[-1.0, 0.5], [1.0, 0.0], [0.3, 2.0]])
X = np.array([[0.2, -0.4], [1.5, 0.7]])


@pytest.mark.parametrize("name", ["linear", "vp"])
def test_empirical_sigma0_raises_at_t1(name):
    v = GIF(schedule(name), target("empirical", data=PTS)).field()
    assert np.all(np.isfinite(np.asarray(v(0.5, X))))  # interior times untouched
    with pytest.raises(NumericError, match="singular at t = 1"):
        v(1.0, X)


def test_empirical_smoothed_finite_at_t1():
    # σ > 0: s = a² + σ² b² > 0 at t = 1, so the field has a finite value there, returned as is.
    v = GIF(schedule("linear"), target("empirical", data=PTS, sigma=0.3)).field()
    assert np.all(np.isfinite(np.asarray(v(1.0, X))))


@pytest.mark.parametrize("spec", ["slc:kappa=1", "ball:R=1"])
def test_oracle_raises_at_t1(spec):
    flow = oracle_flow(schedule("linear"), target(spec), dim=2)
    for fn in (flow.field(), flow.jacobian_field(), flow.posterior_mean_field(), flow.posterior_cov_field()):
        assert np.all(np.isfinite(np.asarray(fn(0.5, X))))
        with pytest.raises(NumericError, match="singular at t = 1"):
            fn(1.0, X)


def test_simulate_still_stops_before_the_singular_end():
    # The solver calls the guarded kernel with traced times: nothing is checked there, it stops at 1 - eps.
    gif = GIF(schedule("linear"), target("empirical", data=PTS))
    res = simulate(gif, np.zeros((4, 2)))
    assert np.all(np.isfinite(np.asarray(res.x))) and res.eps > 0


@pytest.mark.slow
def test_no_silent_nan_at_the_ends_over_the_inventory():
    # Issue 22 §6 "must show": every schedule × (exact targets, data targets σ = 0 and σ > 0, class targets'
    # oracle members), field and Jacobian at t = 0 and t = 1: finite or a NumericError, never NaN/inf.
    from gifsym.errors import GifsymError
    from gifsym.symbolic.inventory import class_targets, exact_targets, schedules

    targets = {**exact_targets(), "emp": target("empirical", data=PTS),
               "emp-s": target("empirical", data=PTS, sigma=0.3)}
    silent, raised, total = [], 0, 0
    for S in schedules():
        flows = {k: GIF(S, T) for k, T in targets.items()}
        for k, T in class_targets().items():
            try:
                flows[k] = oracle_flow(S, T, dim=2)
            except GifsymError:  # a class with no member in d = 2
                continue
        for k, F in flows.items():
            d = F.oracle.dim if hasattr(F, "oracle") else F.target.law.dim
            x = np.random.default_rng(0).normal(size=(4, d))
            for tt in (0.0, 1.0):
                for fn in (F.field(), F.jacobian_field()):
                    total += 1
                    try:
                        ok = np.all(np.isfinite(np.asarray(fn(tt, x))))
                    except NumericError:
                        raised += 1
                        continue
                    if not ok:
                        silent.append((S.name, k, tt))
    assert total > 400 and raised > 0
    assert silent == []
