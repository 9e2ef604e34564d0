"""Targets: specs, files, validation, implied class memberships."""

from __future__ import annotations

import json

import pytest
import sympy

from gifsym import target
from gifsym.errors import TargetError


def test_gaussian_implied_classes():
    g = target("gaussian:sigma=0.5")
    by = {c.id: dict(c.params) for c in g.classes()}
    assert by["T-slc"]["kappa"] == 4 and by["T-slcvx"]["beta"] == 4
    assert by["T-conv"] == {"sigma": sympy.Rational(1, 2), "R": 0}
    full = target("gaussian", cov=[[2, 0], [0, 0.5]])
    by = {c.id: dict(c.params) for c in full.classes()}
    assert by["T-slc"]["kappa"] == sympy.Rational(1, 2) and by["T-slcvx"]["beta"] == 2
    assert "T-conv" not in by  # an anisotropic Gaussian is not N(0, σ²I) * (law on a ball)


def test_gaussian_spec_with_list_mean():
    g = target("gaussian:sigma=1,dim=2,mean=[1,-2]")
    assert g.dim == 2 and g.law.components[0].mean == (1, -2)
    # N(m, σ²I) = N(0, σ²I) * δ_m and δ_m lives on B(m, 0): R = 0 whatever m (not |m|: a shift of the
    # target does not change ∇v, issue 13).
    assert dict(g.memberships("T-conv")[0].params)["R"] == 0


def test_gmm_file(tmp_path):
    p = tmp_path / "mix.json"
    p.write_text(json.dumps({"weights": [0.25, 0.75], "means": [[0, 0], [3, 4]], "sigma": 0.5}))
    g = target(f"gmm:{p}")
    assert g.law.K == 2 and g.dim == 2
    conv = g.memberships("T-conv")[0]
    # R about the centre (3/2, 2) of the means' smallest enclosing ball, not max |m_k| = 5.
    assert dict(conv.params) == {"sigma": sympy.Rational(1, 2), "R": sympy.Rational(5, 2)}
    assert dict(g.memberships("T-slcvx")[0].params)["beta"] == 4


@pytest.mark.parametrize(
    "data, match",
    [
        ({"weights": [0.5, 0.6], "means": [[0], [1]], "sigma": 1}, "sum to 1"),
        ({"weights": [-0.5, 1.5], "means": [[0], [1]], "sigma": 1}, "positive"),
        ({"weights": [0.5, 0.5], "means": [[0], [1, 2]], "sigma": 1}, "length 2, expected 1"),
        ({"weights": [0.5, 0.5], "means": [[0], [1]], "sigma": -1}, "must be > 0"),
        ({"weights": [1.0], "means": [[0, 0]], "covariances": [[[1, 2], [0, 1]]]}, "not symmetric"),
        ({"weights": [1.0], "means": [[0, 0]], "covariances": [[[1, 2], [2, 1]]]}, "not positive definite"),
        ({"weights": [1.0], "means": [[0]], "sigma": 1, "extra": 1}, "unknown key 'extra'"),
        ({"weights": [1.0], "means": [[0]]}, "exactly one of"),
    ],
)
def test_gmm_validation(tmp_path, data, match):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(data))
    with pytest.raises(TargetError, match=match):
        target(f"gmm:{p}")


def test_gmm_file_errors(tmp_path):
    with pytest.raises(TargetError, match="not found"):
        target("gmm:/nonexistent/mix.json")
    p = tmp_path / "x.json"
    p.write_text("{not json")
    with pytest.raises(TargetError, match="not valid JSON"):
        target(f"gmm:{p}")


def test_classes_combine_and_stay_symbolic():
    tg = target("ball:R=1+slc:kappa=-0.5")
    assert tg.class_ids() == {"T-ball", "T-slc"}
    assert dict(tg.memberships("T-slc")[0].params)["kappa"] == sympy.Rational(-1, 2)
    sym = target("slc:kappa")
    kappa = dict(sym.declared[0].params)["kappa"]
    assert isinstance(kappa, sympy.Symbol) and kappa.is_real
    assert target("conv:sigma=0.5,R=2").class_ids() == {"T-conv"}


@pytest.mark.parametrize(
    "spec, match",
    [
        ("student:nu=3", "unknown target 'student'; accepted: gaussian, gmm"),
        ("slc:k=2", "unknown parameter 'k' for target class 'slc'; accepted: kappa"),
        ("ball:R=-1", "R=-1 must be > 0"),
        ("conv:sigma=0.5", "needs parameter 'R'"),
        ("gaussian:sigma=0.5+ball:R=1", "exact law"),
        ("slc:kappa=1+slc:kappa=2", "twice"),
        ("gaussian:sigma=0", "must be > 0"),
        ("gaussian:dim=2", "exactly one of sigma"),
        ("gaussian:sigma=1,dim=2,mean=[1,2,3]", "length 3, expected 2"),
        ("gaussian:sigma=1,dim=x", "positive integer"),
    ],
)
def test_bad_target_specs(spec, match):
    with pytest.raises(TargetError, match=match):
        target(spec)
